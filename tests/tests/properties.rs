//! The eight properties of MODEL.md, each a test that can fail, plus
//! determinism and the memory budget.

use tcbg::basal_ganglia::Gpr;
use tcbg::rng::Rng;
use tcbg::tasks::{observation, run, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, DefaultAgent, Fx, Lesions, Num, OracleAgent};

fn obs<N: Num>(lines: u16) -> [N; 8] {
    observation::<N, 8>(lines)
}

/// Property 1: gain, not drive. With zero synaptic input (at a trial start,
/// so that no activity is held from the step before) no thalamic state
/// changes any cortical rate; with input, the thalamic state does. Within
/// a trial a blank step keeps what the last step held only through the
/// thalamic amplification (`no_amplification` drops it).
#[test]
fn p1_gain_not_drive() {
    let mut base: DefaultAgent = Agent::new(Config::default(), 5).unwrap();
    // Learn a little so weights are not at their initial values.
    let mut task = Task::new(TaskKind::RuleSwitch, Schedule::default(), 5);
    for _ in 0..60 {
        let i = task.next_input().unwrap();
        let a = base.step(&obs(i.lines), Fx::ZERO);
        task.act(a);
    }
    let mut cfg = Config::default();
    cfg.lesions.no_context_selection = true; // hold the thalamic state where we put it
    let mut rates_zero = Vec::new();
    let mut rates_cue = Vec::new();
    for k in 0..4 {
        let mut a = base.clone();
        a.set_lesions(cfg.lesions);
        a.thalamus.active = k;
        a.mark_trial_start();
        a.step(&obs(0), Fx::ZERO);
        rates_zero.push(*a.cortical_rates());
        assert!(
            a.cortical_gains().iter().any(|g| *g > Fx::ZERO),
            "context {k} lends no gain"
        );
        let mut b = base.clone();
        b.set_lesions(cfg.lesions);
        b.thalamus.active = k;
        b.step(&obs(0b1), Fx::ZERO);
        rates_cue.push(*b.cortical_rates());
    }
    for r in &rates_zero {
        assert!(
            r.iter().all(|v| *v == Fx::ZERO),
            "zero input gave a rate: {r:?}"
        );
    }
    assert!(
        rates_cue.iter().any(|r| r != &rates_cue[0]),
        "the thalamic state changed nothing with input"
    );
    // Held through a blank step within a trial: by the amplification only.
    let mut held = base.clone();
    held.mark_trial_start();
    held.step(&obs(0b1), Fx::ZERO);
    let mut lesioned = held.clone();
    lesioned.set_lesions(Lesions {
        no_amplification: true,
        ..Lesions::NONE
    });
    held.step(&obs(0), Fx::ZERO);
    lesioned.step(&obs(0), Fx::ZERO);
    assert!(held.cortical_rates().iter().any(|v| *v > Fx::ZERO));
    assert!(lesioned.cortical_rates().iter().all(|v| *v == Fx::ZERO));
}

/// The GPR rate equations in f64, written independently of the core: the oracle.
fn gpr_reference(s: &[f64], iters: usize, rate: f64) -> Vec<f64> {
    let relu = |x: f64| x.max(0.0);
    let n = s.len();
    let d1: Vec<f64> = s.iter().map(|&x| relu(1.2 * x - 0.2)).collect();
    let d2: Vec<f64> = s.iter().map(|&x| relu(0.8 * x - 0.2)).collect();
    let (mut stn, mut gpe) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..iters {
        let tot: f64 = stn.iter().sum();
        let stn_t: Vec<f64> = (0..n).map(|i| relu(s[i] - gpe[i] + 0.25)).collect();
        let gpe_t: Vec<f64> = (0..n).map(|i| relu(-d2[i] + 0.9 * tot + 0.2)).collect();
        for i in 0..n {
            stn[i] += rate * (stn_t[i] - stn[i]);
            gpe[i] += rate * (gpe_t[i] - gpe[i]);
        }
    }
    let tot: f64 = stn.iter().sum();
    (0..n)
        .map(|i| relu(-d1[i] + 0.9 * tot - 0.3 * gpe[i] + 0.2))
        .collect()
}

/// Property 2: the BG circuit selects the channel of highest salience when
/// the margin is clear, and its output is the steady state of the reference
/// rate equations.
#[test]
fn p2_gpr_selects_and_matches_reference() {
    let gf = Gpr::<Fx>::nengo();
    let g32 = Gpr::<f32>::nengo();
    let mut rng = Rng::seed(9);
    let mut max_err_fx = 0.0f64;
    let mut max_err_f32 = 0.0f64;
    let mut clear = 0;
    for _ in 0..2000 {
        let s: [f64; 4] =
            core::array::from_fn(|_| (rng.next() >> 8) as f64 / (1u32 << 24) as f64 * 1.5);
        // Integrated finely until still: the steady state.
        let reference = gpr_reference(&s, 20_000, 0.01);
        let (gpi_fx, win_fx) = gf.select(&s.map(|v| Fx::from_f32(v as f32)));
        let (gpi_32, win_32) = g32.select(&s.map(|v| v as f32));
        for i in 0..4 {
            max_err_fx = max_err_fx.max((gpi_fx[i].to_f32() as f64 - reference[i]).abs());
            max_err_f32 = max_err_f32.max((gpi_32[i] as f64 - reference[i]).abs());
        }
        let mut order: Vec<usize> = (0..4).collect();
        order.sort_by(|&a, &b| s[b].partial_cmp(&s[a]).unwrap());
        let (top, second) = (s[order[0]], s[order[1]]);
        // A clear margin, inside the circuit's working range.
        if top - second >= 0.15 && (0.4..=1.2).contains(&top) {
            clear += 1;
            assert_eq!(win_fx, Some(order[0]), "fixed: {s:?} -> {gpi_fx:?}");
            assert_eq!(win_32, Some(order[0]), "f32: {s:?} -> {gpi_32:?}");
        }
    }
    assert!(clear > 200, "too few clear cases drawn: {clear}");
    assert!(
        max_err_f32 < 1e-4,
        "f32 GPR departs from the reference by {max_err_f32}"
    );
    assert!(
        max_err_fx < 0.02,
        "fixed GPR departs from the reference by {max_err_fx}"
    );
}

/// Property 3: dopamine is the TD error of the critic. A surprising reward
/// gives positive dopamine, an omitted one negative; a fully predicted reward
/// drives it to zero.
#[test]
fn p3_dopamine_is_td_error() {
    let mut cfg = Config::default();
    cfg.lesions.no_context_selection = true;
    // No cortical recurrence: within a trial the same input then has the
    // same value (the identity below reads the last step's).
    cfg.recurrence = 0.0;
    let mut a: DefaultAgent = Agent::new(cfg, 2).unwrap();
    a.set_action_count(1).unwrap();
    let cue = obs::<Fx>(0b1);
    let mut first = None;
    for t in 0..400 {
        a.mark_trial_start();
        a.step(&cue, if t == 0 { Fx::ZERO } else { Fx::ONE });
        if t == 1 {
            first = Some(a.dopamine());
        }
    }
    let settled = a.dopamine();
    assert!(
        settled.to_f32().abs() < 0.05,
        "predicted reward still gives dopamine {settled:?}"
    );
    let _ = first;
    // Omit the reward once: dopamine dips.
    a.mark_trial_start();
    a.step(&cue, Fx::ZERO);
    assert!(
        a.dopamine().to_f32() < -0.3,
        "omitted reward gave {:?}",
        a.dopamine()
    );
    // The identity within a trial: δ = r + γ V(s_t) − V(s_{t−1}) with the
    // critic's values. Same context, same input and no learning since: V(s_t)
    // is the value the last step reported.
    let mut b = a.clone();
    let v_prev = b.critic.value_prev;
    let v_now = a.value();
    assert!(
        v_now.to_f32() > 0.3,
        "the cue should have value, got {v_now:?}"
    );
    b.step(&cue, Fx::ONE);
    let expected = Fx::ONE + Fx::from_f32(Config::default().gamma) * v_now - v_prev;
    assert!(
        (b.dopamine().to_f32() - expected.to_f32()).abs() < 0.02,
        "{:?} vs {:?}",
        b.dopamine(),
        expected
    );
    // At a marked trial start the episode ends: δ = r − V(s_{t−1}), no
    // bootstrap from the next trial's cue.
    let mut c = a.clone();
    c.mark_trial_start();
    c.step(&cue, Fx::ONE);
    let expected = Fx::ONE - v_prev;
    assert!(
        (c.dopamine().to_f32() - expected.to_f32()).abs() < 0.02,
        "{:?} vs {:?}",
        c.dopamine(),
        expected
    );
}

/// Runs one cue-then-blank-steps trial and returns the Go weight change of
/// the chosen action on the units the cue drove.
fn delayed_credit(lesions: Lesions, delay: usize) -> f32 {
    let mut cfg = Config {
        lesions,
        ..Config::default()
    };
    cfg.lesions.no_context_selection = true;
    let mut a: DefaultAgent = Agent::new(cfg, 4).unwrap();
    a.set_action_count(2).unwrap();
    a.mark_trial_start();
    let act = a.step(&obs(0b1), Fx::ZERO);
    let x = a.striatal_input;
    let before = a.striatum.w_go[act];
    for _ in 0..delay {
        a.step(&obs(0), Fx::ZERO);
    }
    a.mark_trial_start();
    a.step(&obs(0b10), Fx::ONE); // the reward arrives with the next trial's cue
    let after = a.striatum.w_go[act];
    (0..48)
        .filter(|&i| x[i] > Fx::ZERO)
        .map(|i| (after[i] - before[i]).to_f32())
        .sum()
}

/// Property 4: with traces a reward delayed by D steps strengthens the action
/// that caused it; with λ = 0 it does not.
#[test]
fn p4_traces_bridge_delays() {
    for delay in [0usize, 2, 5] {
        let with = delayed_credit(Lesions::NONE, delay);
        assert!(with > 0.01, "D={delay}: no credit with traces ({with})");
    }
    let mut l = Lesions::NONE;
    l.no_traces = true;
    let without = delayed_credit(l, 5);
    assert!(without.abs() < 1e-6, "credit without traces: {without}");
    assert_eq!(delayed_credit(l, 0), delayed_credit(l, 0));
}

/// Property 5: persistent negative dopamine switches the control function; a
/// learned context is re-selected after a switch back, and its weights were
/// not overwritten meanwhile.
#[test]
fn p5_context_switch_and_protection() {
    let mut ok = 0;
    for seed in 1..=8u64 {
        let mut a: DefaultAgent = Agent::new(Config::default(), seed).unwrap();
        a.set_action_count(2).unwrap();
        let mut rng = Rng::seed(seed + 100);
        let mut reward = Fx::ZERO;
        let mut play =
            |a: &mut DefaultAgent, rule: usize, trials: usize, reward: &mut Fx| -> usize {
                let mut correct = 0;
                for _ in 0..trials {
                    let cue = rng.below(2) as usize;
                    a.mark_trial_start();
                    let act = a.step(&obs(1 << cue), *reward);
                    let c = act == cue ^ rule;
                    correct += c as usize;
                    *reward = if c { Fx::ONE } else { Fx::ZERO };
                }
                correct
            };
        play(&mut a, 0, 60, &mut reward);
        let ctx_a = a.active_context();
        let mask_a: Vec<usize> = (0..48)
            .filter(|&i| a.thalamus.g[ctx_a][i] > Fx::ZERO)
            .collect();
        // Rule B, trial by trial. A step that began in context A may still
        // credit A's synapses (their traces are from A's last action); every
        // later step, in another context, must leave them alone.
        let mut snap = (a.striatum.w_go.to_vec(), a.striatum.w_nogo.to_vec());
        let mut steps_in_a = 0;
        for _ in 0..60 {
            let began_in_a = a.active_context() == ctx_a;
            play(&mut a, 1, 1, &mut reward);
            if began_in_a {
                steps_in_a += 1;
                snap = (a.striatum.w_go.to_vec(), a.striatum.w_nogo.to_vec());
            }
            for act in 0..2 {
                for &i in &mask_a {
                    assert_eq!(
                        a.striatum.w_go[act][i], snap.0[act][i],
                        "seed {seed}: Go weight of context A changed in another context"
                    );
                    assert_eq!(
                        a.striatum.w_nogo[act][i], snap.1[act][i],
                        "seed {seed}: NoGo weight of context A changed in another context"
                    );
                }
            }
        }
        let ctx_b = a.active_context();
        assert_ne!(
            ctx_a, ctx_b,
            "seed {seed}: rule B did not switch the context"
        );
        assert!(
            steps_in_a <= 20,
            "seed {seed}: {steps_in_a} of 60 rule-B trials stayed in context A"
        );
        let back = play(&mut a, 0, 20, &mut reward);
        if a.active_context() == ctx_a && back >= 15 {
            ok += 1;
        }
    }
    assert!(
        ok >= 6,
        "context A re-selected with its rule in only {ok} of 8 seeds"
    );
}

/// Property 6: cortical plasticity never reads dopamine, and units with zero
/// thalamic gain do not learn.
#[test]
fn p6_cortex_learns_without_dopamine_and_only_under_gain() {
    let mut cfg = Config::default();
    cfg.lesions.no_context_selection = true;
    // The slow training of the thalamic gains is dopamine-driven and gains
    // scale cortical plasticity; stop it so only cortex's own rule is compared.
    cfg.eta_g = 0.0;
    let mut a: DefaultAgent = Agent::new(cfg, 6).unwrap();
    a.set_action_count(2).unwrap();
    let mut b = a.clone();
    // Different critic weights: the same step gives different dopamine.
    b.critic.w_v = [[Fx::from_f32(-0.5); 48]; 4];
    let silent: Vec<usize> = (0..48)
        .filter(|&i| a.thalamus.g[0][i] == Fx::ZERO)
        .collect();
    // The first contact with each line balances every row over the lines
    // met (`Cortex::meet_lines`), silent or not: that is no learning, so
    // the weights to compare against are those after all three lines met.
    for t in 0..3u16 {
        let o = obs::<Fx>(1 << t);
        a.step(&o, Fx::ONE);
        b.step(&o, Fx::ONE);
    }
    assert_eq!(a.cortex.lines_met(), 0b111);
    let w0 = *a.cortex.w_in();
    let mut dopamine_differed = false;
    for t in 0..200u16 {
        let o = obs::<Fx>(1 << (t % 3));
        a.step(&o, Fx::ONE);
        b.step(&o, Fx::ONE);
        dopamine_differed |= a.dopamine() != b.dopamine();
        assert!(
            a.cortex.w_in() == b.cortex.w_in(),
            "cortical weights depend on dopamine (step {t})"
        );
    }
    assert!(dopamine_differed, "the test did not vary dopamine");
    assert!(*a.cortex.w_in() != w0, "cortex did not learn at all");
    for &i in &silent {
        assert!(
            a.cortex.w_in()[i] == w0[i],
            "unit {i} learned with zero gain"
        );
    }
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn metric<N: tcbg::Kernels>(kind: TaskKind, seed: u64, name: &str) -> f32 {
    let mut a = Agent::<N, 8, 48, 4, 4>::new(Config::default(), seed).unwrap();
    let mut t = Task::new(kind, Schedule::default(), seed);
    run(&mut a, &mut t, |_| {})
        .unwrap()
        .metrics()
        .get(name)
        .unwrap()
}

/// Property 7: the fixed-point and f32 builds reach the same task metrics.
#[test]
fn p7_fixed_matches_f32() {
    // Medians over seeds 1 to 12 of one metric of one task.
    fn median_of<N: tcbg::Kernels>(kind: TaskKind, name: &str) -> f32 {
        median((1..=12u64).map(|s| metric::<N>(kind, s, name)).collect())
    }
    let bf = median_of::<Fx>(TaskKind::ReversalBandit, "reward_rate");
    let b32 = median_of::<f32>(TaskKind::ReversalBandit, "reward_rate");
    assert!(
        (bf - b32).abs() <= 0.03,
        "bandit reward rate: fixed {bf} vs f32 {b32}"
    );
    let rf = median_of::<Fx>(TaskKind::RuleSwitch, "switch_cost");
    let r32 = median_of::<f32>(TaskKind::RuleSwitch, "switch_cost");
    assert!(
        (rf - r32).abs() <= 0.5,
        "rule-switch switch cost: fixed {rf} vs f32 {r32}"
    );
}

fn hostile_value(rng: &mut Rng) -> f32 {
    match rng.below(8) {
        0 => f32::NAN,
        1 => f32::INFINITY,
        2 => f32::NEG_INFINITY,
        3 => f32::MAX,
        4 => -1e30,
        5 => 0.0,
        _ => ((rng.next() >> 8) as f32 / (1u32 << 24) as f32) * 20.0 - 10.0,
    }
}

fn hostile_run<N: tcbg::Kernels>(seed: u64) {
    let mut rng = Rng::seed(seed);
    let mut a = Agent::<N, 8, 48, 4, 4>::new(Config::default(), seed).unwrap();
    for t in 0..3000 {
        if rng.below(50) == 0 {
            let mut l = Lesions::NONE;
            l.no_thalamus = rng.below(2) == 0;
            l.no_context_selection = rng.below(2) == 0;
            l.no_dopamine = rng.below(4) == 0;
            l.no_traces = rng.below(2) == 0;
            l.no_meta = rng.below(2) == 0;
            a.set_lesions(l);
        }
        if rng.below(10) == 0 {
            a.mark_trial_start();
        }
        let o: [N; 8] = core::array::from_fn(|_| N::from_f32(hostile_value(&mut rng)));
        let r = N::from_f32(hostile_value(&mut rng));
        let act = a.step(&o, r);
        assert!(act < 4);
        if let Err(v) = a.check_ranges() {
            panic!("{} step {t}: {v}", N::NAME);
        }
    }
}

/// Property 8: no input or reward makes the step panic or leave the state
/// space (every state variable in its declared range).
#[test]
fn p8_hostile_inputs_keep_ranges() {
    for seed in 0..4 {
        hostile_run::<Fx>(seed);
        hostile_run::<f32>(seed);
    }
}

/// Ranges also hold through ordinary learning on every task.
#[test]
fn ranges_hold_on_every_task() {
    for kind in TaskKind::ALL {
        let mut a: DefaultAgent = Agent::new(Config::default(), 11).unwrap();
        let mut t = Task::new(kind, Schedule::default(), 11);
        a.set_action_count(2).unwrap();
        let mut reward = Fx::ZERO;
        while let Some(i) = t.next_input() {
            if i.trial_start {
                a.mark_trial_start();
            }
            let act = a.step(&obs(i.lines), reward);
            reward = if t.act(act).0 { Fx::ONE } else { Fx::ZERO };
            if let Err(v) = a.check_ranges() {
                panic!("{kind}: {v}");
            }
        }
    }
}

/// Determinism: the same config and seed give bit-identical actions and
/// dopamine; another seed does not.
#[test]
fn determinism() {
    let trace = |seed: u64| {
        let mut a: DefaultAgent = Agent::new(Config::default(), seed).unwrap();
        let mut t = Task::new(TaskKind::ReversalBandit, Schedule::default(), 3);
        a.set_action_count(2).unwrap();
        let mut out = Vec::new();
        let mut reward = Fx::ZERO;
        while let Some(i) = t.next_input() {
            let act = a.step(&obs(i.lines), reward);
            out.push((act, a.dopamine()));
            reward = if t.act(act).0 { Fx::ONE } else { Fx::ZERO };
        }
        out
    };
    assert_eq!(trace(7), trace(7));
    assert_ne!(trace(7), trace(8));
    assert_eq!(
        tcbg::snapshot::trace::<Fx>(3000),
        tcbg::snapshot::trace::<Fx>(3000)
    );
    assert_ne!(
        tcbg::snapshot::trace::<Fx>(3000),
        tcbg::snapshot::trace::<f32>(3000)
    );
}

/// The default fixed-point agent fits a 16 KB Cortex-M0 beside its firmware.
#[test]
fn default_agent_fits_budget() {
    let n = core::mem::size_of::<DefaultAgent>();
    assert!(n <= 6144, "DefaultAgent is {n} bytes, budget 6144");
    assert!(core::mem::size_of::<OracleAgent>() > n);
}

/// Invalid configs are refused with the field named.
#[test]
fn invalid_configs_are_refused() {
    let c = Config {
        lambda: f32::NAN,
        ..Config::default()
    };
    match Agent::<Fx, 8, 48, 4, 4>::new(c, 1) {
        Err(tcbg::ConfigError::OutOfRange { field, .. }) => assert_eq!(field, "lambda"),
        other => panic!("NaN lambda accepted: {:?}", other.map(|_| ())),
    }
    let mut c = Config::default();
    c.hold_full = c.hold_start;
    assert!(matches!(
        c.validate(),
        Err(tcbg::ConfigError::Inconsistent {
            field: "hold_full",
            ..
        })
    ));
    // An agent of such sizes does not build: `Agent::<Fx, 8, 50, 4, 4>` is a
    // compile error (the `compile_fail` example of `tcbg::config::assert_sizes`
    // checks it), from the check its constructors evaluate at compile time.
    assert!(
        tcbg::config::check_sizes(8, 50, 4, 4).is_err(),
        "C not a multiple of K accepted"
    );
    let mut a: DefaultAgent = Agent::new(Config::default(), 1).unwrap();
    assert!(a.set_action_count(0).is_err());
    assert!(a.set_action_count(5).is_err());
}
