//! Seed by seed, the default agent (`D`, 8-48-4-4) beside the 16-96-8-8 one
//! (`B`) on one task: errors in each block's first 10 trials, context
//! switches per block (`L10=1`: correct among each block's last 10) and the
//! task's metrics, then each metric's mean and median over the seeds per
//! agent. The development loop's tool behind `docs/MODEL.md`'s figures on
//! the larger agent (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example seeds -- TASK [SEEDS] [LESION]`
//!
//! `FLIP=P` flips each reward with probability `P` (0 to 1; `--robust`'s
//! `flip5` is 0.05), for noise levels the evaluation does not run.
//!
//! `DELAY=D` sets delayed-reward's and delayed-response's delay (default 0),
//! `SCALE=half` or `SCALE=double` every block's length (`--robust`'s `half`
//! and `double`).
//!
//! Paired comparison of two models on the same seeds: save this output on
//! each (one commit, then the other) and compare the files:
//!
//! `cargo run --release -p tcbg-tests --example seeds -- --paired BEFORE AFTER`
//!
//! prints, per agent and metric, both means over the seeds and the mean of
//! the per-seed changes with its standard error (`docs/MODEL.md`'s paired
//! tables).
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
    let delay =
        std::env::var("DELAY").map_or(0, |v| v.parse::<u8>().expect("DELAY: a number of steps"));
    let kind = TaskKind::parse(name, delay).unwrap_or_else(|| panic!("unknown task {name}"));
    let scale = match std::env::var("SCALE").as_deref() {
        Ok("half") => Scale::Half,
        Ok("double") => Scale::Double,
        Ok(v) => panic!("SCALE={v}: half or double"),
        Err(_) => Scale::Normal,
    };
    let mut agent: Agent<Fx, S, C, K, A> = Agent::new(config, seed).unwrap();
    let flip = std::env::var("FLIP")
        .ok()
        .map(|v| v.parse::<f64>().expect("FLIP: a probability"));
    let schedule = match flip {
        Some(p) if (0.0..=1.0).contains(&p) => Schedule {
            flip_q16: (p * 65535.0).round() as u16,
            scale,
        },
        Some(p) => panic!("FLIP={p}: a probability from 0 to 1"),
        None => Schedule {
            scale,
            ..Schedule::default()
        },
    };
    let mut task = Task::new(kind, schedule, seed);
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

/// The metrics of each output line, by agent (`D` or `B`), in seed order.
fn read_runs(path: &str) -> [Vec<Vec<(String, f64)>>; 2] {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut runs = [Vec::new(), Vec::new()];
    for line in text.lines() {
        let agent = if line.contains(" D e[") {
            0
        } else if line.contains(" B e[") {
            1
        } else {
            continue;
        };
        let metrics = line
            .split_whitespace()
            .filter_map(|w| {
                let (k, v) = w.split_once('=')?;
                Some((k.to_string(), v.parse().ok()?))
            })
            .collect();
        runs[agent].push(metrics);
    }
    runs
}

/// Paired means and changes of two saved outputs (see the module doc).
fn paired(before: &str, after: &str) {
    let (a, b) = (read_runs(before), read_runs(after));
    for (agent, name) in [(0, "D"), (1, "B")] {
        let (ra, rb) = (&a[agent], &b[agent]);
        assert_eq!(
            ra.len(),
            rb.len(),
            "{name}: the files hold different numbers of seeds"
        );
        let Some(first) = ra.first() else { continue };
        for (k, (key, _)) in first.iter().enumerate() {
            let pairs: Vec<(f64, f64)> = ra.iter().zip(rb).map(|(x, y)| (x[k].1, y[k].1)).collect();
            let n = pairs.len() as f64;
            let mean = |f: &dyn Fn(&(f64, f64)) -> f64| pairs.iter().map(f).sum::<f64>() / n;
            let (ma, mb, md) = (mean(&|p| p.0), mean(&|p| p.1), mean(&|p| p.1 - p.0));
            let var =
                pairs.iter().map(|p| (p.1 - p.0 - md).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            let se = (var / n).sqrt();
            println!("{name} {key:28} {ma:8.3} -> {mb:8.3}  change {md:+.3} ± {se:.3} ({n} seeds)");
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--paired") {
        let usage = "usage: seeds --paired BEFORE AFTER";
        return paired(args.get(2).expect(usage), args.get(3).expect(usage));
    }
    let name = args.get(1).expect("usage: seeds TASK [SEEDS] [LESION]");
    let n: u64 = args
        .get(2)
        .map_or(20, |s| s.parse().expect("a number of seeds"));
    let lesion = args.get(3).cloned().unwrap_or("none".into());
    let show = |m: &Metrics| {
        m.values
            .iter()
            .map(|(k, v)| format!("{k}={v:.4}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut all: [Vec<Metrics>; 2] = [Vec::new(), Vec::new()];
    for s in 0..n {
        let (e, w, m) = one::<8, 48, 4, 4>(name, s, &lesion);
        println!("seed {s:2} D e{e:?} {w:?} {}", show(&m));
        all[0].push(m);
        let (e, w, m) = one::<16, 96, 8, 8>(name, s, &lesion);
        println!("        B e{e:?} {w:?} {}", show(&m));
        all[1].push(m);
    }
    // Over the seeds: each metric's mean and median, per agent.
    for (runs, agent) in all.iter().zip(["D", "B"]) {
        let Some(first) = runs.first() else { continue };
        for (k, (key, _)) in first.values.iter().enumerate() {
            let mut v: Vec<f64> = runs.iter().map(|m| m.values[k].1 as f64).collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let mid = v.len() / 2;
            let median = if v.len().is_multiple_of(2) {
                (v[mid - 1] + v[mid]) / 2.0
            } else {
                v[mid]
            };
            println!(
                "{agent} {key:28} mean {mean:8.3} median {median:8.3} ({} seeds)",
                v.len()
            );
        }
    }
}
