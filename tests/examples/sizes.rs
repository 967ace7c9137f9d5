//! One task's metrics, as means over seeds, on agents of several sizes: the
//! default (8-48-4-4), twice the control functions (8-48-8-4), twice the
//! cortex (8-96-4-4), both (8-96-8-4), both with twice the input lines
//! (16-96-8-4) or the actions (8-96-8-8), and the larger agent of the eval
//! (16-96-8-8). Cortical units per control function (`C/K`) are 12, 6, 24,
//! and 12 for the rest. The development loop's tool behind `docs/MODEL.md`'s
//! reading of the larger agent (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example sizes -- [TASK] [SEEDS]`
//!
//! (default `multi-rule-switch-3x3x3`, seeds 0..60).
use tcbg::fixed::Fx;
use tcbg::tasks::*;
use tcbg::*;

fn means<const S: usize, const C: usize, const K: usize, const A: usize>(
    kind: TaskKind,
    seeds: u64,
) -> Vec<(&'static str, f64)> {
    let mut sums: Vec<(&'static str, f64)> = Vec::new();
    for seed in 0..seeds {
        let mut agent: Agent<Fx, S, C, K, A> =
            Agent::new(Config::default(), seed).expect("the default config");
        let mut task = Task::new(kind, Schedule::default(), seed);
        let report = run(&mut agent, &mut task, |_| {}).expect("the task runs");
        for &(name, v) in report.metrics().values.iter() {
            match sums.iter_mut().find(|(n, _)| *n == name) {
                Some((_, s)) => *s += v as f64,
                None => sums.push((name, v as f64)),
            }
        }
    }
    sums.into_iter()
        .map(|(n, s)| (n, s / seeds as f64))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args
        .first()
        .map_or("multi-rule-switch-3x3x3", String::as_str);
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let kind = tcbg_tests::task_kind(name).unwrap_or_else(|| panic!("unknown task {name}"));
    println!("{name}, means over seeds 0..{seeds}, fixed point");
    let rows = [
        ("8-48-4-4 (C/K 12)", means::<8, 48, 4, 4>(kind, seeds)),
        ("8-48-8-4 (C/K 6)", means::<8, 48, 8, 4>(kind, seeds)),
        ("8-96-4-4 (C/K 24)", means::<8, 96, 4, 4>(kind, seeds)),
        ("8-96-8-4 (C/K 12)", means::<8, 96, 8, 4>(kind, seeds)),
        ("16-96-8-4 (C/K 12)", means::<16, 96, 8, 4>(kind, seeds)),
        ("8-96-8-8 (C/K 12)", means::<8, 96, 8, 8>(kind, seeds)),
        ("16-96-8-8 (C/K 12)", means::<16, 96, 8, 8>(kind, seeds)),
    ];
    for (label, metrics) in rows {
        let cells: Vec<String> = metrics.iter().map(|(n, v)| format!("{n} {v:.3}")).collect();
        println!("{label:<20} {}", cells.join(", "));
    }
}
