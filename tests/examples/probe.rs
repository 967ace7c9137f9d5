//! A probe of the agent's inner state by trial window, the development
//! loop's tool behind the figures of `docs/MODEL.md` ("Departures": the
//! value drifting above the reward, the hold that never lifted):
//!
//! `cargo run --release -p tcbg-tests --example probe -- TASK SEED WINDOW [LESION]`
//!
//! (`TASK` as `cargo xtask run` names it, `cue-context-rikhye` for the long
//! schedule). Each line: errors in the window, the context in force and how
//! often each was, switches, competence, belief, in-place learning,
//! surprise, the mean and negative part of dopamine, the value, the
//! striatal input's sum, the gain norm, the hold (at the default config's
//! constants) and the usual surprise. `ETA_CORTEX=x` overrides Oja's rate;
//! `FLIP=1` flips 5% of rewards;
//! `W=1` adds the Go/NoGo sums of actions 0 and 1.
use tcbg::fixed::Fx;
use tcbg::fixed::Num;
use tcbg::tasks::*;
use tcbg::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).cloned().unwrap_or("cue-context-rikhye".into());
    let seed: u64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(4);
    let win: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(50);
    let lesion = args.get(4).cloned().unwrap_or("none".into());
    let (kind, sched) = if name == "cue-context-rikhye" {
        (TaskKind::CueContext, Schedule::RIKHYE)
    } else {
        (tcbg_tests::task_kind(&name).unwrap(), Schedule::default())
    };
    let mut config = Config::default();
    if lesion != "none" {
        config.lesions = Lesions::named(&lesion).unwrap();
    }
    if let Ok(v) = std::env::var("ETA_CORTEX") {
        config.eta_cortex = v.parse().unwrap();
    }
    let mut agent: DefaultAgent = Agent::new(config, seed).unwrap();
    // `FLIP=1`: 5% of rewards flipped (the robust variation `flip5`).
    let sched = if std::env::var("FLIP").is_ok() {
        Schedule {
            flip_q16: Schedule::FLIP5.flip_q16,
            ..sched
        }
    } else {
        sched
    };
    let mut task = Task::new(kind, sched, seed);
    let mut errs = 0;
    let mut n = 0;
    let mut ctxs = [0u32; 8];
    let mut dsum = 0f32;
    let mut dneg = 0f32;
    let mut vsum = 0f32;
    let mut sw0 = agent.counters().switches;
    run_observed(&mut agent, &mut task, |o, a| {
        n += 1; let d=a.dopamine().to_f32(); dsum+=d; if d<0.0 {dneg+=d;} vsum+=a.value().to_f32(); if !o.correct { errs += 1; }
        ctxs[a.active_context()] += 1;
        if n % win == 0 || (o.trial as usize) < 12 && o.block > 0 {
            let c = &a.contexts;
            let f = |x: &[Fx]| x.iter().map(|v| format!("{:5.2}", v.to_f32())).collect::<Vec<_>>().join(" ");
            println!("b{} t{:4} err {:3} ctx {} use {:?} sw {} comp [{}] bel [{}] inpl {:.2} surp {:.2} dmean {:.3} dneg {:.3} v {:.2} xsum {:.2} gn {:.2} hold {:.2} usual {:.2} {}",
                o.block, o.trial, errs, a.active_context(), &ctxs[..4], a.counters().switches - sw0,
                f(&c.competence), f(&c.belief), c.in_place.to_f32(), c.surprise.to_f32(), dsum/win as f32, dneg/win as f32, vsum/win as f32, a.striatal_input.iter().map(|v| v.to_f32()).sum::<f32>(), a.gain_norm.to_f32(), c.hold(a.active_context(), Fx::from_f32(0.5), Fx::from_f32(1.0), Fx::from_f32(2.0), Fx::from_f32(1.0), c.answerable(a.active_context(), a.thalamus.used == 0xf)).to_f32(), c.surprise_mean[a.active_context()].to_f32(), if o.correct {""} else {"X"});
            if std::env::var("W").is_ok() {
                let st = &a.striatum; let wm = 1.0f32;
                for act in 0..2 { let g: Vec<f32> = st.w_go[act].iter().map(|v| v.to_f32()).collect(); let ng: Vec<f32> = st.w_nogo[act].iter().map(|v| v.to_f32()).collect();
                  let rail = |v: &Vec<f32>| v.iter().filter(|x| **x >= wm*0.999).count();
                  let dr: f32 = a.striatal_input.iter().zip(g.iter().zip(ng.iter())).map(|(x,(g,n))| x.to_f32()*(g-n)).sum();
                  println!("   a{act}: go sum {:.2} rail {} | nogo sum {:.2} rail {} | drive-now {:.3}", g.iter().sum::<f32>(), rail(&g), ng.iter().sum::<f32>(), rail(&ng), dr); }
            }
            if n % win == 0 { errs = 0; dsum=0.0; dneg=0.0; vsum=0.0; ctxs = [0; 8]; sw0 = a.counters().switches; }
        }
    }, |_| {}).unwrap();
}
