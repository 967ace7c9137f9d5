//! Bad input: property tests (proptest) and exhaustive sweeps.
//!
//! - Every observation value in the full range of its type (all 65 536 raw
//!   `i16` values for `Fx`; any `f32`, NaN and infinities included, for the
//!   oracle), every reward, random lesion toggles, trial marks and action
//!   counts: after every step `check_ranges()` is Ok and the action is within
//!   the action count.
//! - Every `Config` field: an out-of-range value is refused with a
//!   `ConfigError` naming that field; an in-range one is accepted (or
//!   refused naming the field it contradicts).

use proptest::prelude::*;
use tcbg::{Agent, Config, ConfigError, DefaultAgent, Fx, Kernels, Lesions, OracleAgent};

fn lesions(bits: u8) -> Lesions {
    Lesions {
        no_thalamus: bits & 1 != 0,
        no_context_selection: bits & 2 != 0,
        no_dopamine: bits & 4 != 0,
        no_traces: bits & 8 != 0,
        no_meta: bits & 16 != 0,
    }
}

/// One step of a property run: observation, reward, lesion bits to toggle,
/// trial mark, action count to set (0 = leave).
type Op<T> = ([T; 8], T, u8, bool, u8);

fn run_ops<N: Kernels, T: Copy>(
    agent: &mut Agent<N, 8, 48, 4, 4>,
    ops: &[Op<T>],
    conv: impl Fn(T) -> N,
) -> Result<(), TestCaseError> {
    let mut count = 4;
    let mut bits = 0u8;
    for (t, (obs, reward, toggle, trial, n)) in ops.iter().enumerate() {
        if *toggle != 0 {
            bits ^= toggle & 31;
            agent.set_lesions(lesions(bits));
        }
        if *trial {
            agent.mark_trial_start();
        }
        if *n != 0 && agent.set_action_count(*n as usize).is_ok() {
            count = *n as usize;
        }
        let o: [N; 8] = core::array::from_fn(|j| conv(obs[j]));
        let a = agent.step(&o, conv(*reward));
        prop_assert!(a < count, "step {t}: action {a} outside {count}");
        if let Err(v) = agent.check_ranges() {
            return Err(TestCaseError::fail(format!("step {t}: {v}")));
        }
    }
    Ok(())
}

fn op<T: std::fmt::Debug + Clone + 'static>(
    v: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = Op<T>> {
    (
        proptest::array::uniform8(v.clone()),
        v,
        prop_oneof![8 => Just(0u8), 1 => 1u8..32],
        any::<bool>(),
        prop_oneof![20 => Just(0u8), 1 => 0u8..6],
    )
}

/// `f32` values with the special ones (NaN, ±inf, ±0, subnormals, huge) well represented.
fn any_f32() -> impl Strategy<Value = f32> + Clone {
    prop_oneof![
        3 => any::<f32>(),
        2 => -1.5f32..1.5,
        1 => prop::sample::select(vec![
            f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0,
            f32::MIN_POSITIVE, -f32::MIN_POSITIVE, 1e-45, f32::MAX, f32::MIN, 1.0, -1.0,
        ]),
        1 => any::<u32>().prop_map(f32::from_bits),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fx_any_input_keeps_ranges(seed in 0u64..1000, ops in proptest::collection::vec(op(any::<i16>()), 1..400)) {
        let mut agent = DefaultAgent::new(Config::default(), seed).unwrap();
        run_ops(&mut agent, &ops, Fx)?;
    }

    #[test]
    fn f32_any_input_keeps_ranges(seed in 0u64..1000, ops in proptest::collection::vec(op(any_f32()), 1..400)) {
        let mut agent = OracleAgent::new(Config::default(), seed).unwrap();
        run_ops(&mut agent, &ops, |x| x)?;
    }
}

/// Every raw `i16` as an observation value (on every line in turn, with the
/// others at their own sweep values) and as a reward.
#[test]
fn fx_every_raw_value() {
    let mut agent = DefaultAgent::new(Config::default(), 1).unwrap();
    for v in i16::MIN..=i16::MAX {
        let i = v as u16 as usize;
        let obs: [Fx; 8] =
            core::array::from_fn(|j| Fx((v as i32).wrapping_mul(j as i32 * 2 + 1) as i16));
        if i % 7 == 0 {
            agent.mark_trial_start();
        }
        if i % 4099 == 0 {
            agent.set_lesions(lesions((i / 4099) as u8));
        }
        let a = agent.step(&obs, Fx(v.wrapping_mul(3)));
        assert!(a < 4);
        if let Err(e) = agent.check_ranges() {
            panic!("raw value {v}: {e}");
        }
    }
}

/// The special `f32` values on every line and as the reward.
#[test]
fn f32_special_values() {
    let specials = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        1e-45,
        -0.0,
        1e30,
        -1e30,
    ];
    let mut agent = OracleAgent::new(Config::default(), 2).unwrap();
    for (t, &x) in specials.iter().cycle().take(2000).enumerate() {
        let obs: [f32; 8] = core::array::from_fn(|j| {
            if (t + j) % 3 == 0 {
                x
            } else {
                specials[(t * 7 + j) % specials.len()]
            }
        });
        let a = agent.step(&obs, specials[(t * 5) % specials.len()]);
        assert!(a < 4);
        if let Err(e) = agent.check_ranges() {
            panic!("step {t}: {e}");
        }
        assert!(agent.dopamine().is_finite());
    }
}

type Setter = fn(&mut Config, f32);

/// Every field of `Config`: its name, a setter from `f32`, and its
/// documented range. `every_field_listed` makes a new field a compile error
/// until it is listed here.
const FIELDS: [(&str, Setter, f32, f32); 62] = [
    ("w_in_init", |c, v| c.w_in_init = v, 0.05, 2.0),
    ("eta_cortex", |c, v| c.eta_cortex = v, 0.0, 0.1),
    ("rate_threshold", |c, v| c.rate_threshold = v, 0.0, 0.9),
    ("winners", |c, v| c.winners = v, 0.0, 1.0),
    ("gain_on", |c, v| c.gain_on = v, 0.1, 2.0),
    ("gain_max", |c, v| c.gain_max = v, 1.0, 4.0), // min is gain_on (default 1)
    ("gain_min", |c, v| c.gain_min = v, 0.0, 1.0), // max is gain_on (default 1)
    ("w_bg", |c, v| c.w_bg = v, 0.0, 6.0),
    ("eta_m", |c, v| c.eta_m = v, 0.0, 0.5),
    ("m_max", |c, v| c.m_max = v, 0.1, 4.0),
    ("m_eps", |c, v| c.m_eps = v, 0.0, 1.0),
    ("m_decay", |c, v| c.m_decay = v, 0.0, 0.5),
    ("kappa_fast", |c, v| c.kappa_fast = v, 0.004, 1.0),
    ("kappa_slow", |c, v| c.kappa_slow = v, 0.004, 1.0),
    ("recognise", |c, v| c.recognise = v, 0.1, 1.0),
    (
        "recognise_min_norm",
        |c, v| c.recognise_min_norm = v,
        0.0,
        2.0,
    ),
    ("recognise_margin", |c, v| c.recognise_margin = v, 0.0, 1.0),
    ("novelty", |c, v| c.novelty = v, 0.1, 1.0),
    ("eta_u", |c, v| c.eta_u = v, 0.0, 1.0),
    ("eta_bind", |c, v| c.eta_bind = v, 0.0, 1.0),
    ("competent", |c, v| c.competent = v, 0.0, 1.0),
    ("refractory", |c, v| c.refractory = v as u8, 0.0, 100.0),
    ("eta_g", |c, v| c.eta_g = v, 0.0, 0.1),
    ("action_bias", |c, v| c.action_bias = v, 0.0, 1.5),
    ("explore", |c, v| c.explore = v, 0.0, 1.0),
    (
        "explore_uncertain",
        |c, v| c.explore_uncertain = v,
        0.0,
        1.0,
    ),
    ("salience_max", |c, v| c.salience_max = v, 0.5, 4.0),
    ("eta_go", |c, v| c.eta_go = v, 0.0, 2.0),
    ("eta_nogo", |c, v| c.eta_nogo = v, 0.0, 2.0),
    ("w_max", |c, v| c.w_max = v, 0.1, 4.0),
    ("opponent_settle", |c, v| c.opponent_settle = v, 0.0, 1.0),
    (
        "gpr_iterations",
        |c, v| c.gpr_iterations = v as u8,
        1.0,
        100.0,
    ),
    ("gpr_rate", |c, v| c.gpr_rate = v, 0.01, 1.0),
    ("gamma", |c, v| c.gamma = v, 0.0, 1.0),
    ("lambda", |c, v| c.lambda = v, 0.0, 1.0),
    ("eta_v", |c, v| c.eta_v = v, 0.0, 2.0),
    ("v0", |c, v| c.v0 = v, 0.0, 2.0),
    ("kappa_norm", |c, v| c.kappa_norm = v, 0.001, 1.0),
    ("experience_rate", |c, v| c.experience_rate = v, 0.0, 1.0),
    ("lr_min", |c, v| c.lr_min = v, 0.05, 1.0),
    ("aspiration", |c, v| c.aspiration = v, 0.0, 1.0),
    ("eta_aspiration", |c, v| c.eta_aspiration = v, 0.0, 0.1),
    (
        "stimulus_threshold",
        |c, v| c.stimulus_threshold = v,
        0.01,
        4.0,
    ),
    ("context_bias", |c, v| c.context_bias = v, 0.0, 1.0),
    ("context_scale", |c, v| c.context_scale = v, 0.01, 1.0),
    ("w_competence", |c, v| c.w_competence = v, 0.0, 2.0),
    ("persistence", |c, v| c.persistence = v, 0.0, 3.0),
    ("surprise_leak", |c, v| c.surprise_leak = v, 0.0, 1.0),
    ("surprise_max", |c, v| c.surprise_max = v, 0.1, 4.0),
    ("context_noise", |c, v| c.context_noise = v, 0.0, 1.0),
    ("eta_q", |c, v| c.eta_q = v, 0.0, 1.0),
    ("hold_start", |c, v| c.hold_start = v, 0.0, 4.0),
    ("hold_full", |c, v| c.hold_full = v, 0.0, 4.0),
    (
        "eta_surprise_baseline",
        |c, v| c.eta_surprise_baseline = v,
        0.0,
        1.0,
    ),
    ("k_dev", |c, v| c.k_dev = v, 0.0, 8.0),
    ("surprise_floor", |c, v| c.surprise_floor = v, 0.0, 1.0),
    ("surprise_drift", |c, v| c.surprise_drift = v, 0.0, 1.0),
    (
        "usual_surprise_max",
        |c, v| c.usual_surprise_max = v,
        0.0,
        4.0,
    ),
    ("eta_in_place", |c, v| c.eta_in_place = v, 0.0, 1.0),
    ("in_place_decay", |c, v| c.in_place_decay = v, 0.0, 1.0),
    ("line_on", |c, v| c.line_on = v, 0.01, 1.0),
    ("eta_recall", |c, v| c.eta_recall = v, 0.0, 1.0),
];

/// Fails to compile when `Config` gains a field (list it in `FIELDS`).
#[allow(dead_code)]
fn every_field_listed(c: Config) {
    let Config {
        w_in_init: _,
        eta_cortex: _,
        rate_threshold: _,
        winners: _,
        gain_on: _,
        gain_max: _,
        gain_min: _,
        w_bg: _,
        eta_m: _,
        m_max: _,
        m_eps: _,
        m_decay: _,
        kappa_fast: _,
        kappa_slow: _,
        recognise: _,
        recognise_min_norm: _,
        recognise_margin: _,
        novelty: _,
        eta_u: _,
        eta_bind: _,
        competent: _,
        refractory: _,
        eta_g: _,
        action_bias: _,
        explore: _,
        explore_uncertain: _,
        salience_max: _,
        eta_go: _,
        eta_nogo: _,
        w_max: _,
        opponent_settle: _,
        gpr_iterations: _,
        gpr_rate: _,
        gamma: _,
        lambda: _,
        eta_v: _,
        v0: _,
        kappa_norm: _,
        experience_rate: _,
        lr_min: _,
        aspiration: _,
        eta_aspiration: _,
        stimulus_threshold: _,
        context_bias: _,
        context_scale: _,
        w_competence: _,
        persistence: _,
        surprise_leak: _,
        surprise_max: _,
        context_noise: _,
        eta_q: _,
        hold_start: _,
        hold_full: _,
        eta_surprise_baseline: _,
        k_dev: _,
        surprise_floor: _,
        surprise_drift: _,
        usual_surprise_max: _,
        eta_in_place: _,
        in_place_decay: _,
        line_on: _,
        eta_recall: _,
        lesions: _,
    } = c;
}

/// The field an error names.
fn named(e: &ConfigError) -> &'static str {
    match e {
        ConfigError::OutOfRange { field, .. } | ConfigError::Inconsistent { field, .. } => field,
        ConfigError::Size { param, .. } => param,
    }
}

/// Fields whose in-range values may contradict another field's default:
/// (field, the field the error then names).
const COUPLED: [(&str, &str); 4] = [
    ("hold_start", "hold_full"),
    ("hold_full", "hold_full"),
    ("winners", "winners"),
    ("gain_on", "gain_min"),
];

fn check_field(i: usize, v: f32) -> Result<(), TestCaseError> {
    let (name, set, min, max) = FIELDS[i];
    let mut c = Config::default();
    set(&mut c, v);
    let integer = matches!(name, "refractory" | "gpr_iterations");
    // An integer field sees `v as u8` (saturating, NaN as 0).
    let stored = if integer { (v as u8) as f32 } else { v };
    let inside = stored >= min && stored <= max;
    let result = DefaultAgent::new(c, 1).map(|_| ());
    if inside {
        if let Err(e) = result {
            let coupled = COUPLED.iter().any(|(f, n)| *f == name && *n == named(&e));
            prop_assert!(coupled, "{name} = {v} is in range but refused: {e}");
        }
    } else {
        match result {
            Err(e) => prop_assert_eq!(named(&e), name, "{} = {}: {}", name, v, e),
            Ok(()) => prop_assert!(false, "{name} = {v} is outside {min}..={max} but accepted"),
        }
    }
    Ok(())
}

#[test]
fn every_config_field_refuses_out_of_range_values() {
    for i in 0..FIELDS.len() {
        let (name, _, min, max) = FIELDS[i];
        let below = if min > 0.0 { min * 0.5 } else { -0.001 };
        for v in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            below,
            max + 0.5,
            max * 2.0 + 1.0,
            -1e30,
            1e30,
            min,
            max,
        ] {
            check_field(i, v).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_config_value_is_refused_or_accepted_by_its_range(i in 0..FIELDS.len(), v in prop_oneof![any::<f32>(), -10.0f32..110.0]) {
        check_field(i, v)?;
    }
}
