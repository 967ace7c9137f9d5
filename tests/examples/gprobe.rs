//! TEMP probe: gain rows at block starts.
use tcbg::fixed::Fx;
use tcbg::fixed::Num;
use tcbg::tasks::*;
use tcbg::*;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = tcbg_tests::task_kind(&args[0]).unwrap();
    let seed: u64 = args[1].parse().unwrap();
    let mut agent: Agent<Fx, 8, 48, 4, 4> = Agent::new(Config::default(), seed).unwrap();
    let mut task = Task::new(kind, Schedule::FLIP5, seed);
    let mut lastb = 255u8;
    run_observed(
        &mut agent,
        &mut task,
        |o, a| {
            if o.block != lastb {
                lastb = o.block;
                println!(
                    "block {} active {} gain_norm {:.3}",
                    o.block,
                    a.active_context(),
                    a.gain_norm.to_f32()
                );
                for k in 0..4 {
                    let row: Vec<String> = a.thalamus.g[k]
                        .iter()
                        .map(|v| format!("{:.1}", v.to_f32()))
                        .collect();
                    println!("  g[{k}] {}", row.join(" "));
                }
            }
        },
        |_| {},
    )
    .unwrap();
}
