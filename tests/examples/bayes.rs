//! The Bayes observer of the reversal bandit: the reference the model's
//! reward rate is read against (`TASKS.md`'s ideal, 0.727 to 0.729). It
//! knows what the model must learn: the arms' reward probabilities (0.8 and
//! 0.2, or 0.76 and 0.24 with 5% of rewards flipped) and the hazard of a
//! reversal (one per block). It holds the log-odds that arm 0 is the good
//! one, adds each outcome's log-likelihood ratio, mixes in the hazard
//! before the next trial, and takes the arm it believes in (arm 0 at even
//! odds). Same task, same seeds, same scoring as `cargo xtask eval`.
//!
//! `cargo run --release -p tcbg-tests --example bayes -- [SEEDS] [half|double|flip5]`
//!
//! Prints the reward rate (trials 41 on, as the eval scores it; mean and
//! median), the trials after a reversal until the good arm is chosen (the
//! eval's `trials_to_switch`, a mean over reversals) and the errors per
//! mille by trial within a block after the first, as the `curve` example
//! prints the model's.
use tcbg::tasks::*;

const TRIALS: usize = 40;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(200);
    let variant = args.get(1).map_or("default", String::as_str);
    let (scale, flip_q16, block) = match variant {
        "default" => (Scale::Normal, 0, 40.0),
        "half" => (Scale::Half, 0, 20.0),
        "double" => (Scale::Double, 0, 80.0),
        "flip5" => (Scale::Normal, Schedule::FLIP5.flip_q16, 40.0),
        v => panic!("unknown variant {v}: default, half, double or flip5"),
    };
    let flip = f64::from(flip_q16) / 65536.0;
    // A reward's probability on the good and the bad arm, after flips.
    let good = 0.8 * (1.0 - flip) + 0.2 * flip;
    let bad = 0.2 * (1.0 - flip) + 0.8 * flip;
    let hazard = 1.0 / block;
    let evidence = (good / bad).ln();
    let (mut wrong, mut n) = ([0u32; TRIALS], [0u32; TRIALS]);
    let mut rates = Vec::new();
    // Trials after a reversal until the good arm is chosen (1 for the first).
    let (mut to_switch, mut reversals) = (0u32, 0u32);
    for seed in 0..seeds {
        let mut task = Task::new(TaskKind::ReversalBandit, Schedule { scale, flip_q16 }, seed);
        let mut odds = 0.0f64; // log-odds that arm 0 is the good one
        let mut obs = [0.0f32; 8];
        let (mut won, mut scored) = (0u32, 0u32);
        let mut switched_in = None;
        while Environment::next_input(&mut task, &mut obs).is_some() {
            let arm = usize::from(odds < 0.0);
            let (reward, outcome) = Environment::act(&mut task, arm);
            let Some(t) = outcome else { continue };
            if t.trial == 0 {
                switched_in = None;
            }
            if t.block >= 1 {
                if t.correct && switched_in.is_none() {
                    switched_in = Some(t.trial + 1);
                    to_switch += u32::from(t.trial) + 1;
                    reversals += 1;
                }
                let i = (t.trial as usize).min(TRIALS - 1);
                wrong[i] += u32::from(!t.correct);
                n[i] += 1;
                scored += 1;
                won += u32::from(reward);
            }
            // The outcome's evidence for arm `arm` being the good one.
            let e = if reward { evidence } else { -evidence };
            odds += if arm == 0 { e } else { -e };
            // A reversal may come before the next trial.
            let p = 1.0 / (1.0 + (-odds).exp());
            let p = p * (1.0 - hazard) + (1.0 - p) * hazard;
            odds = (p / (1.0 - p)).ln();
        }
        rates.push(f64::from(won) / f64::from(scored.max(1)));
    }
    rates.sort_by(f64::total_cmp);
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    println!(
        "reversal-bandit ({variant}), Bayes observer ({seeds} seeds): reward rate mean {mean:.4}, median {:.4}; trials to switch {:.3}",
        rates[rates.len() / 2],
        f64::from(to_switch) / f64::from(reversals.max(1))
    );
    let per_mille: Vec<String> = (0..TRIALS)
        .map(|i| {
            format!(
                "{:.0}",
                1000.0 * f64::from(wrong[i]) / f64::from(n[i].max(1))
            )
        })
        .collect();
    println!("  errors ‰   {}", per_mille.join(" "));
}
