//! What follows an outcome on the reversal bandit, from the 10th trial of
//! each block after the first (away from reversals), for the full model and
//! `no_thalamus`: the error rate after each kind of trial (the good or the
//! bad arm, rewarded or not), over all trials and where the control function
//! stayed the same, and the errors by trials since a switch of control
//! function. The development loop's tool behind `docs/MODEL.md`'s "A loss
//! on a rule's choice" (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example lose -- [SEEDS]`
use tcbg::fixed::Fx;
use tcbg::tasks::*;
use tcbg::*;

const KINDS: [&str; 4] = ["good, won", "good, lost", "bad, won", "bad, lost"];
const SINCE: usize = 8;

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    for lesion in ["none", "no_thalamus"] {
        // [kind of the last trial][wrong], over all trials and where the
        // function stayed; [trials since a switch][wrong].
        let (mut all, mut stayed) = ([[0u32; 2]; 4], [[0u32; 2]; 4]);
        let mut since_switch = [[0u32; 2]; SINCE];
        for seed in 0..seeds {
            let config = Config {
                lesions: Lesions::named(lesion).expect("a lesion"),
                ..Config::default()
            };
            let mut agent: Agent<Fx, 8, 48, 4, 4> = Agent::new(config, seed).unwrap();
            let mut task = Task::new(TaskKind::ReversalBandit, Schedule::default(), seed);
            let mut last: Option<(usize, usize)> = None; // (kind, function)
            let mut since = usize::MAX;
            let on_trial = |t: &TrialOutcome, a: &Agent<Fx, 8, 48, 4, 4>| {
                let ctx = a.active_context();
                let wrong = usize::from(!t.correct);
                if let Some((_, k)) = last {
                    since = if k != ctx { 0 } else { since.saturating_add(1) };
                }
                if t.block >= 1 && t.trial >= 10 {
                    if let Some((kind, k)) = last {
                        all[kind][wrong] += 1;
                        if k == ctx {
                            stayed[kind][wrong] += 1;
                        }
                    }
                    if since < SINCE {
                        since_switch[since][wrong] += 1;
                    }
                }
                let kind = 2 * usize::from(!t.correct) + usize::from(!t.reward);
                last = Some((kind, ctx));
            };
            run_observed(&mut agent, &mut task, on_trial, |_| {}).unwrap();
        }
        let rate = |x: [u32; 2]| f64::from(x[1]) / f64::from((x[0] + x[1]).max(1));
        let (wrong, n) = all
            .iter()
            .fold((0, 0), |(w, n), x| (w + x[1], n + x[0] + x[1]));
        println!(
            "reversal-bandit {lesion} ({seeds} seeds), from the 10th trial: errors {:.4}",
            f64::from(wrong) / f64::from(n.max(1))
        );
        for (i, name) in KINDS.iter().enumerate() {
            println!(
                "  after {name:10}: errors {:.3} of {}; under the same function {:.3} of {}",
                rate(all[i]),
                all[i][0] + all[i][1],
                rate(stayed[i]),
                stayed[i][0] + stayed[i][1]
            );
        }
        let by: Vec<String> = since_switch
            .iter()
            .map(|x| format!("{}/{}", x[1], x[0] + x[1]))
            .collect();
        println!(
            "  errors by trials since a switch (0 = the first): {}",
            by.join(" ")
        );
    }
}
