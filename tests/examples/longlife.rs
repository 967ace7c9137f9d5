//! One long life, as the soak lives it (`tests/tests/robust_soak.rs`: one
//! default agent, seed 1, episodes of random tasks of the suite at random
//! block scales, 5% flips in one of four), without its checks: per task,
//! the fraction of steps with input whose striatal input totals less than a
//! full stimulus (0.99), and the reversal bandit's episodes that recover (7
//! of the last 10 trials on the good arm) in each tenth of the life. The
//! development loop's tool behind `docs/MODEL.md`'s "Short of a full
//! stimulus" (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example longlife -- [STEPS] [SEED]`
//!
//! (default 10 million steps and the soak's seed 1; 30 million steps take
//! about 100 s).
use tcbg::rng::Rng;
use tcbg::tasks::TaskKind;
use tcbg::{Agent, Config, DefaultAgent, Num};
fn main() {
    let steps: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut agent: DefaultAgent = Agent::new(Config::default(), seed).unwrap();
    let mut rng = Rng::seed_stream(seed, 0x50a4);
    let kinds = TaskKind::ALL;
    let mut short = vec![(0u64, 0u64); kinds.len()];
    let mut bandit = [(0u32, 0u32); 10];
    let mut done = 0u64;
    while done < steps {
        let (ki, mut task) = tcbg_tests::life_episode(&mut rng);
        let kind = kinds[ki];
        let ended = tcbg_tests::live_episode(
            &mut agent,
            &mut task,
            &mut done,
            steps,
            |agent, lines, _, _| {
                if lines != 0 {
                    let total = agent
                        .striatal_input
                        .iter()
                        .fold(0.0f32, |t, x| t + x.to_f32());
                    short[ki].1 += 1;
                    if total < 0.99 {
                        short[ki].0 += 1;
                    }
                }
            },
        );
        if !ended {
            break;
        }
        if kind == TaskKind::ReversalBandit {
            let last = task.stats().last().unwrap();
            let stage = ((done * 10) / steps).min(9) as usize;
            bandit[stage].0 += 1;
            bandit[stage].1 += (last.last10_correct >= 7) as u32;
        }
    }
    for (k, (s, n)) in kinds.iter().zip(short) {
        println!("{k:24} short {:.3} of {n}", s as f64 / n.max(1) as f64);
    }
    for (i, (n, r)) in bandit.iter().enumerate() {
        println!(
            "bandit stage {i}: {r}/{n} = {:.3}",
            *r as f64 / (*n).max(1) as f64
        );
    }
}
