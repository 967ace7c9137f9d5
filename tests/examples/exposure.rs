//! Errors by exposure, the development loop's tool behind `docs/MODEL.md`'s
//! figures on what learning to learn buys:
//!
//! `cargo run --release -p tcbg-tests --example exposure -- TASK SEEDS FIRST_BLOCK LAST_BLOCK [LESION]`
//!
//! For every trial of blocks `FIRST_BLOCK..=LAST_BLOCK` (0-based) of seeds
//! `0..SEEDS`: how often its input pattern had been shown earlier in the
//! block. Prints the errors and trials by that exposure (1 = the pattern's
//! first showing in the block), then the errors by trial within the block,
//! then the errors at a pattern's second showing after a wrong and after a
//! right first one.
use tcbg::fixed::Fx;
use tcbg::fixed::Num;
use tcbg::tasks::*;
use tcbg::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: exposure TASK SEEDS FIRST_BLOCK LAST_BLOCK [LESION]";
    let name = args.get(1).cloned().expect(usage);
    let num = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).expect(usage) };
    let (seeds, b0, b1) = (num(2), num(3) as usize, num(4) as usize);
    let lesion = args.get(5).cloned().unwrap_or("none".into());
    let mut errs = [0u32; 12];
    let mut tot = [0u32; 12];
    let mut first_err_trial = [0u32; 41];
    // [after a wrong first showing, after a right one]: (errors, trials)
    let mut second = [(0u32, 0u32); 2];
    for seed in 0..seeds {
        let mut config = Config::default();
        if lesion != "none" {
            config.lesions = Lesions::named(&lesion).unwrap();
        }
        let kind = tcbg_tests::task_kind(&name).unwrap_or_else(|| panic!("unknown task {name}"));
        let mut agent: DefaultAgent = Agent::new(config, seed).unwrap();
        let mut task = Task::new(kind, Schedule::default(), seed);
        let _ = agent.set_action_count(Environment::actions(&task));
        let mut reward = Fx::ZERO;
        let mut seen: Vec<(u32, u32)> = vec![];
        let mut first_ok: Vec<(u32, bool)> = vec![];
        let mut last_block = usize::MAX;
        let mut t_in_block = 0u32;
        loop {
            let mut obs = [Fx::ZERO; 8];
            let Some(ts) = Environment::next_input(&mut task, &mut obs) else {
                break;
            };
            if ts {
                agent.mark_trial_start();
            }
            let blk = Environment::block(&task);
            if blk != last_block {
                seen.clear();
                first_ok.clear();
                last_block = blk;
                t_in_block = 0;
            }
            t_in_block += 1;
            let pat: u32 = obs
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != Fx::ZERO)
                .map(|(i, _)| 1u32 << i)
                .sum();
            let a = agent.step(&obs, reward);
            let (r, o) = Environment::act(&mut task, a);
            reward = if r { Fx::ONE } else { Fx::ZERO };
            let n = match seen.iter_mut().find(|(p, _)| *p == pat) {
                Some(e) => {
                    e.1 += 1;
                    e.1 - 1
                }
                None => {
                    seen.push((pat, 1));
                    0
                }
            };
            if blk >= b0 && blk <= b1 {
                let ok = o.map(|o| o.correct).unwrap_or(true);
                let n = (n as usize).min(11);
                tot[n] += 1;
                if n == 0 {
                    first_ok.push((pat, ok));
                } else if n == 1 {
                    if let Some(&(_, f)) = first_ok.iter().find(|(p, _)| *p == pat) {
                        let c = &mut second[f as usize];
                        c.0 += u32::from(!ok);
                        c.1 += 1;
                    }
                }
                if !ok {
                    errs[n] += 1;
                    first_err_trial[(t_in_block as usize).min(40)] += 1;
                }
            }
        }
    }
    println!("exposure: errors/trials");
    for n in 0..12 {
        if tot[n] > 0 {
            print!(
                "{}:{}/{} ({:.2})  ",
                n + 1,
                errs[n],
                tot[n],
                errs[n] as f32 / tot[n] as f32
            );
        }
    }
    println!();
    print!("errors by trial in block: ");
    for n in &first_err_trial[1..] {
        print!("{n} ");
    }
    println!();
    println!(
        "second showing: after a wrong first {}/{} errors, after a right first {}/{}",
        second[0].0, second[0].1, second[1].0, second[1].1
    );
}
