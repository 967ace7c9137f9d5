//! Errors and context switches by trial within a block, over seeds, for the
//! full model and each lesion named: where in a block a model loses what
//! another does not. The development loop's tool behind `docs/MODEL.md`'s
//! reading of the reversal bandit (issue 17):
//!
//! `[FLIP=1] cargo run --release -p tcbg-tests --example curve -- TASK [SEEDS] [LESION ..]`
//! (`FLIP=1`: 5% of rewards flipped, as `--robust`'s `flip5`)
//!
//! Blocks after the first; trials past the 40th of a block are counted as
//! the 40th. Per trial index: the error rate and the rate of trials begun
//! under another control function than the last trial, in per mille. Then,
//! for the full model where the thalamus's recency memory holds one input
//! pattern (the bandit), the switches from the 10th trial of a block on: the
//! mean belief of the function entered over the one left, and their count by
//! the noted choices (action + 1, 0 for none) of the function left and the
//! one entered, as they stood before the switch. Last, the consistency of
//! outcomes each seed's agent ended with (p10, median, p90).
use tcbg::fixed::Fx;
use tcbg::tasks::*;
use tcbg::*;

const TRIALS: usize = 40;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("reversal-bandit", String::as_str);
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let kind = tcbg_tests::task_kind(name).unwrap_or_else(|| panic!("unknown task {name}"));
    // `FLIP=1`: 5% of rewards flipped, as `--robust`'s `flip5`.
    let schedule = match std::env::var("FLIP") {
        Ok(v) if v == "1" => Schedule::FLIP5,
        _ => Schedule::default(),
    };
    let mut lesions = vec!["none".to_string()];
    lesions.extend(args.iter().skip(2).cloned());
    for lesion in &lesions {
        let (mut wrong, mut switched, mut n) = ([0u32; TRIALS], [0u32; TRIALS], [0u32; TRIALS]);
        let mut gap = 0f64;
        let mut near = [[0u32; 2]; 2]; // [near a switch][wrong]
        let mut consistency = Vec::new();
        let mut since = 99u32;
        let mut by_choice = std::collections::BTreeMap::new();
        for seed in 0..seeds {
            let mut config = Config::default();
            if lesion != "none" {
                config.lesions = Lesions::named(lesion).expect("a lesion's name");
            }
            let mut agent: Agent<Fx, 8, 48, 4, 4> = Agent::new(config, seed).unwrap();
            let mut task = Task::new(kind, schedule, seed);
            let mut last: Option<(usize, [u8; 4])> = None;
            let on_trial = |t: &TrialOutcome, a: &Agent<Fx, 8, 48, 4, 4>| {
                let ctx = a.active_context();
                let cc = &a.contexts;
                let switch = last.filter(|&(c, _)| c != ctx);
                since = if switch.is_some() {
                    0
                } else {
                    since.saturating_add(1)
                };
                if t.block >= 1 && t.trial >= 10 {
                    near[usize::from(since < 4)][usize::from(!t.correct)] += 1;
                }
                if t.block >= 1 {
                    let i = (t.trial as usize).min(TRIALS - 1);
                    wrong[i] += u32::from(!t.correct);
                    switched[i] += u32::from(switch.is_some());
                    n[i] += 1;
                }
                let one_pattern = a.thalamus.patterns_held == 1;
                if let Some((left, noted)) =
                    switch.filter(|_| one_pattern && t.block >= 1 && t.trial >= 10)
                {
                    // The beliefs the switch was made on: the last outcome
                    // was judged at this trial's start, before the choice.
                    gap += (cc.belief[ctx] - cc.belief[left]).to_f32() as f64;
                    *by_choice.entry((noted[left], noted[ctx])).or_insert(0) += 1;
                }
                last = Some((ctx, core::array::from_fn(|k| cc.choice[k][0])));
            };
            run_observed(&mut agent, &mut task, on_trial, |_| {}).unwrap();
            consistency.push(agent.contexts.consistency.to_f32());
        }
        let per_mille = |x: &[u32; TRIALS]| -> String {
            let v: Vec<String> = (0..TRIALS)
                .map(|i| format!("{:.0}", 1000.0 * x[i] as f64 / n[i].max(1) as f64))
                .collect();
            v.join(" ")
        };
        let total = wrong.iter().sum::<u32>() as f64 / n.iter().sum::<u32>().max(1) as f64;
        println!("{name} {lesion} ({seeds} seeds): errors {total:.4} of trials after block 1");
        println!("  errors ‰   {}", per_mille(&wrong));
        println!("  switches ‰ {}", per_mille(&switched));
        println!(
            "  trials 10+: far from a switch {} wrong of {}, within 3 trials of one {} wrong of {}",
            near[0][1],
            near[0][0] + near[0][1],
            near[1][1],
            near[1][0] + near[1][1]
        );
        consistency.sort_by(|a, b| a.total_cmp(b));
        let at = |q: usize| consistency[(consistency.len() - 1) * q / 10];
        println!(
            "  consistency of outcomes at the end: p10 {:.3}, median {:.3}, p90 {:.3}",
            at(1),
            at(5),
            at(9)
        );
        let steady: u32 = by_choice.values().sum();
        if steady > 0 {
            println!(
                "  from the 10th trial: {steady} switches, the function entered believed {:.2} nats above the one left",
                gap / steady as f64
            );
            println!("  by noted choice (left, entered): {by_choice:?}");
        }
    }
}
