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
use tcbg::config::Field;
use tcbg::{Agent, Config, ConfigError, DefaultAgent, Fx, Kernels, Lesions, OracleAgent};

fn lesions(bits: u8) -> Lesions {
    Lesions::from_mask(bits)
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
        if i.is_multiple_of(7) {
            agent.mark_trial_start();
        }
        if i.is_multiple_of(4099) {
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

/// Every numeric field of `Config` with its documented range, from the
/// config's one declaration (`tcbg::config::FIELDS`): a new field is listed
/// there as it is declared.
const FIELDS: &[Field] = &tcbg::config::FIELDS;

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
    let Field {
        name,
        set,
        min,
        max,
        integer,
        ..
    } = FIELDS[i];
    let mut c = Config::default();
    set(&mut c, v);
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
    for (i, field) in FIELDS.iter().enumerate() {
        let Field { name, min, max, .. } = *field;
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
