//! A probe of every step in a range of blocks, the development loop's tool
//! behind `docs/MODEL.md`'s figures on the cortical code within a control
//! function (issue 17):
//!
//! `cargo run --release -p tcbg-tests --example trialprobe -- TASK SEED FIRST_BLOCK LAST_BLOCK [LESION]`
//!
//! (blocks 0-based). Each line: the striatal input's sum and its number of
//! active units, the block, the trial, the input lines on, the action (`X`
//! when the trial ended wrong), the control function in force, the value,
//! each action's drive `(W_go − W_nogo)·x`, the saliences and the
//! competence of the function in force. `BIG=1` runs the 16-96-8-8 agent;
//! `SW=1` prints only errors and switches; `CTX=1` adds each function's
//! noted choice per pattern of the recency memory (action + 1, 0 for none),
//! its usual surprise, in-place learning, each function's prediction of the
//! reward of the action just taken (`pred`), belief (and a new rule's), competence and
//! salience, surprise against the usual of the function in force, and how
//! far that function answers for the outcomes (alone / standing in for a
//! new rule), and the consistency of outcomes (`c`) and the outcome memory's reliability (`rel`). `LATE=N` prints only a summary of each block's last `N`
//! trials: wrong choices under the block's main function there, and under
//! the others. `UNITS=1` prefixes each line with the striatal input's
//! active units and their inputs. `DELAY=D` sets the delay of the delayed
//! tasks (default 0), `SCALE=half` or `SCALE=double` every block's length
//! (`--robust`'s `half` and `double`). `FLIP=1` flips 5% of rewards, as `--robust`'s `flip5`;
//! `FLIP=P` (below 1) flips them with probability `P`.
use tcbg::fixed::Fx;
use tcbg::fixed::Num;
use tcbg::tasks::*;
use tcbg::*;
fn main() {
    if std::env::var("BIG").is_ok() {
        go::<16, 96, 8, 8>()
    } else {
        go::<8, 48, 4, 4>()
    }
}
fn go<const S: usize, const C: usize, const K: usize, const A: usize>() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: trialprobe TASK SEED FIRST_BLOCK LAST_BLOCK [LESION]";
    let name = args.get(1).cloned().expect(usage);
    let num = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).expect(usage) };
    let seed = num(2);
    let b0 = num(3) as usize;
    let b1 = num(4) as usize;
    let lesion = args.get(5).cloned().unwrap_or("none".into());
    let mut config = Config::default();
    if lesion != "none" {
        config.lesions = Lesions::named(&lesion).unwrap();
    }
    let delay: u8 = std::env::var("DELAY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kind = TaskKind::parse(&name, delay).unwrap_or_else(|| panic!("unknown task {name}"));
    let mut agent: Agent<Fx, S, C, K, A> = Agent::new(config, seed).unwrap();
    // `FLIP=1`: `--robust`'s 5%; `FLIP=P` below 1: that probability.
    let schedule = match std::env::var("FLIP").ok().map(|v| v.parse::<f64>()) {
        None => Schedule::default(),
        Some(Ok(p)) if (0.0..1.0).contains(&p) => Schedule {
            flip_q16: (p * 65535.0).round() as u16,
            ..Schedule::default()
        },
        Some(_) => Schedule::FLIP5,
    };
    let scale = match std::env::var("SCALE").as_deref() {
        Ok("half") => Scale::Half,
        Ok("double") => Scale::Double,
        Ok("") | Err(_) => Scale::Normal,
        Ok(v) => panic!("SCALE={v}: half or double"),
    };
    let schedule = Schedule { scale, ..schedule };
    let mut task = Task::new(kind, schedule, seed);
    let na = Environment::actions(&task);
    let _ = agent.set_action_count(na);
    let mut reward = Fx::ZERO;
    let mut trial = 0;
    let mut last = 0usize;
    // `LATE=N`: per block, (function in force, correct) of every trial.
    let late: Option<usize> = std::env::var("LATE").ok().and_then(|v| v.parse().ok());
    let mut trials_by_block: Vec<Vec<(usize, bool)>> = Vec::new();
    loop {
        let mut obs = [Fx::ZERO; S];
        let Some(ts) = Environment::next_input(&mut task, &mut obs) else {
            break;
        };
        if ts {
            agent.mark_trial_start();
            trial += 1;
        }
        let blk = Environment::block(&task);
        let a = agent.step(&obs, reward);
        let cue: Vec<usize> = obs
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != Fx::ZERO)
            .map(|(i, _)| i)
            .collect();
        let st = &agent.striatum;
        let drive: Vec<f32> = (0..na)
            .map(|k| {
                (0..agent.striatal_input.len())
                    .map(|i| {
                        (st.w_go[k][i] - st.w_nogo[k][i]).to_f32()
                            * agent.striatal_input[i].to_f32()
                    })
                    .sum::<f32>()
            })
            .collect();
        let (r, o) = Environment::act(&mut task, a);
        reward = if r { Fx::ONE } else { Fx::ZERO };
        if let Some(o) = o {
            if trials_by_block.len() <= blk {
                trials_by_block.resize(blk + 1, Vec::new());
            }
            trials_by_block[blk].push((agent.active_context(), o.correct));
        }
        if late.is_some() {
            continue;
        }
        if blk >= b0 && blk <= b1 {
            let ok = o.map(|o| o.correct).unwrap_or(true);
            let sal: Vec<String> = (0..na)
                .map(|k| format!("{:.2}", agent.actions.salience[k].to_f32()))
                .collect();
            let xs: f32 = agent.striatal_input.iter().map(|v| v.to_f32()).sum();
            let nnz = agent
                .striatal_input
                .iter()
                .filter(|v| **v != Fx::ZERO)
                .count();
            if std::env::var("SW").is_ok() && agent.active_context() == last && ok {
                last = agent.active_context();
                continue;
            }
            last = agent.active_context();
            if std::env::var("CTX").is_ok() {
                let cc = &agent.contexts;
                let f = |v: &[Fx]| {
                    v.iter()
                        .map(|x| format!("{:+.2}", x.to_f32()))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let cur = agent.active_context();
                let c = Config::default();
                let usual = cc.usual_surprise(
                    cur,
                    Fx::from_f32(c.k_dev),
                    Fx::from_f32(c.usual_surprise_max),
                );
                let choices: Vec<String> = cc
                    .choice
                    .iter()
                    .map(|row| row.iter().map(|c| c.to_string()).collect::<String>())
                    .collect();
                print!("    choice[{}]", choices.join(" "));
                println!(
                    "    usual[{}] in_place {:.2} pred[{}] belief[{}] new {:+.1} comp[{}] sal[{}] S {:.2} usual {:.2} ans {:.2}/{:.2} c {:.3} rel {:.3}",
                    (0..K).map(|k| format!("{:.2}", cc.usual_surprise(k, Fx::from_f32(c.k_dev), Fx::from_f32(c.usual_surprise_max)).to_f32())).collect::<Vec<_>>().join(" "),
                    cc.in_place.to_f32(),
                    f(&cc.predicted),
                    f(&cc.belief),
                    cc.belief_new.to_f32(),
                    f(&cc.competence),
                    f(&agent.context_channels.salience),
                    cc.surprise.to_f32(),
                    usual.to_f32(),
                    cc.answerable(cur, false).to_f32(),
                    cc.answerable(cur, true).to_f32(),
                    cc.consistency.to_f32(),
                    cc.reliability.to_f32(),
                );
            }
            if std::env::var("UNITS").is_ok() {
                let on: Vec<String> = agent
                    .striatal_input
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v != Fx::ZERO)
                    .map(|(i, v)| {
                        if std::env::var("UNITS").as_deref() == Ok("2") {
                            format!(
                                "{i}:{:.2} go[{}] nogo[{}]",
                                v.to_f32(),
                                (0..na)
                                    .map(|k| format!("{:+.2}", st.w_go[k][i].to_f32()))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                (0..na)
                                    .map(|k| format!("{:+.2}", st.w_nogo[k][i].to_f32()))
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            )
                        } else {
                            format!("{i}:{:.2}", v.to_f32())
                        }
                    })
                    .collect();
                print!("u[{}] ", on.join(" "));
            }
            println!("x{xs:.2}/{nnz} b{blk} n{trial:4} cue{:?} a{a} {} ctx{} v{:.2} d[{}] sal[{}] comp{:.2}", cue, if ok {" "} else {"X"}, agent.active_context(), agent.value().to_f32(),
                drive.iter().map(|d| format!("{:+.2}", d)).collect::<Vec<_>>().join(" "), sal.join(" "), agent.contexts.competence[agent.active_context()].to_f32());
        }
    }
    if let Some(n) = late {
        // The last `n` trials of each block: wrong choices under the
        // block's main function there and under any other.
        let (mut t_main, mut w_main, mut t_other, mut w_other) = (0, 0, 0, 0);
        for b in trials_by_block.iter().skip(b0).take(b1 + 1 - b0) {
            let tail = &b[b.len().saturating_sub(n)..];
            let mut count = vec![0usize; K];
            for &(k, _) in tail {
                count[k] += 1;
            }
            let main = (0..K).max_by_key(|&k| count[k]).unwrap_or(0);
            for &(k, ok) in tail {
                if k == main {
                    (t_main, w_main) = (t_main + 1, w_main + usize::from(!ok));
                } else {
                    (t_other, w_other) = (t_other + 1, w_other + usize::from(!ok));
                }
            }
        }
        println!(
            "late {n}: trials {} wrong {} | main function: trials {t_main} wrong {w_main} | other functions: trials {t_other} wrong {w_other}",
            t_main + t_other,
            w_main + w_other
        );
    }
}
