//! Seed by seed, the default agent (`D`, 8-48-4-4) beside the 16-96-8-8 one
//! (`B`) on one task: errors in each block's first 10 trials, context
//! switches per block (`L10=1`: correct among each block's last 10) and the
//! task's metrics. The development loop's tool behind `docs/MODEL.md`'s
//! figures on the larger agent (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example seeds -- TASK [SEEDS] [LESION]`
use tcbg::fixed::Fx;
use tcbg::tasks::*;
use tcbg::*;

/// Per block: errors in the first 10, and switches (or last-10 correct).
type Blocks = (Vec<u8>, Vec<u16>, Metrics);

fn one<const S: usize, const C: usize, const K: usize, const A: usize>(
    name: &str,
    seed: u64,
    lesion: &str,
) -> Blocks {
    let mut config = Config::default();
    if lesion != "none" {
        config.lesions = Lesions::named(lesion).expect("a lesion's name");
    }
    let kind = tcbg_tests::task_kind(name).unwrap_or_else(|| panic!("unknown task {name}"));
    let mut agent: Agent<Fx, S, C, K, A> = Agent::new(config, seed).unwrap();
    let mut task = Task::new(kind, Schedule::default(), seed);
    let r = run(&mut agent, &mut task, |_| {}).unwrap();
    let last10 = std::env::var("L10").is_ok();
    let second = r
        .blocks
        .iter()
        .map(|b| {
            if last10 {
                b.last10_correct as u16
            } else {
                b.switches
            }
        })
        .collect();
    (
        r.blocks.iter().map(|b| b.errors_first10).collect(),
        second,
        r.metrics(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).expect("usage: seeds TASK [SEEDS] [LESION]");
    let n: u64 = args
        .get(2)
        .map_or(20, |s| s.parse().expect("a number of seeds"));
    let lesion = args.get(3).cloned().unwrap_or("none".into());
    let show = |m: &Metrics| {
        m.values
            .iter()
            .map(|(k, v)| format!("{k}={v:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for s in 0..n {
        let (e, w, m) = one::<8, 48, 4, 4>(name, s, &lesion);
        println!("seed {s:2} D e{e:?} {w:?} {}", show(&m));
        let (e, w, m) = one::<16, 96, 8, 8>(name, s, &lesion);
        println!("        B e{e:?} {w:?} {}", show(&m));
    }
}
