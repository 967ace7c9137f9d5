//! Fixed-point arithmetic against exact integer arithmetic (`i64`, `f64`):
//! rounding error bounds of `mul`, `dot`, `dot_shr`, `mul_sr` and
//! `from_f32`, saturation at the rails, and the most negative value times
//! itself. Exhaustive over grids that include every edge value, and
//! property-based over random operands.

use proptest::prelude::*;
use tcbg::fixed::{Fx, Num};

const LSB: f64 = 1.0 / 4096.0;

/// `round(x / 2^k)` half up, then saturated to `i16`: the exact reference.
fn round_sat(x: i64, k: u32) -> i16 {
    let r = (x + (1i64 << (k - 1))) >> k;
    r.clamp(i16::MIN as i64, i16::MAX as i64) as i16
}

/// Every edge value and a stride through the rest of `i16`.
fn grid(stride: usize) -> Vec<i16> {
    let mut v: Vec<i16> = (i16::MIN..=i16::MAX).step_by(stride).collect();
    v.extend([
        i16::MIN,
        i16::MIN + 1,
        -4097,
        -4096,
        -4095,
        -2049,
        -2048,
        -2047,
        -1,
        0,
        1,
        2047,
        2048,
        2049,
        4095,
        4096,
        4097,
        i16::MAX - 1,
        i16::MAX,
    ]);
    v
}

#[test]
fn mul_is_exact_product_rounded_half_up_and_saturated() {
    // Every a against a grid of b (65 536 × ~1 000 products).
    let bs = grid(67);
    for a in i16::MIN..=i16::MAX {
        for &b in &bs {
            let got = (Fx(a) * Fx(b)).0;
            let want = round_sat(a as i64 * b as i64, 12);
            assert_eq!(got, want, "{a} * {b}");
        }
    }
}

#[test]
fn mul_error_is_at_most_half_an_lsb_inside_the_rails() {
    let g = grid(97);
    for &a in &g {
        for &b in &g {
            let exact = a as f64 * b as f64 / (4096.0 * 4096.0);
            let got = (Fx(a) * Fx(b)).to_f32() as f64;
            // Within half an LSB of the exact product limited to the rails.
            let limited = exact.clamp(Fx::MIN.to_f32() as f64, Fx::MAX.to_f32() as f64);
            assert!(
                (got - limited).abs() <= 0.5 * LSB,
                "{a} * {b}: {got} vs {exact}"
            );
        }
    }
}

#[test]
fn rails_and_the_most_negative_value() {
    assert_eq!(Fx::MIN * Fx::MIN, Fx::MAX); // 64 saturates, never wraps to -8
    assert_eq!(Fx::MIN * Fx::MAX, Fx::MIN);
    assert_eq!(Fx::MAX * Fx::MAX, Fx::MAX);
    assert_eq!(-Fx::MIN, Fx::MAX);
    assert_eq!(Fx::MIN.abs(), Fx::MAX);
    assert_eq!(Fx::MAX + Fx::ONE, Fx::MAX);
    assert_eq!(Fx::MIN - Fx::ONE, Fx::MIN);
    assert_eq!(Fx::MIN + Fx::MIN, Fx::MIN);
    assert_eq!(Fx::MAX - Fx::MIN, Fx::MAX);
    assert_eq!(Fx::MIN * -Fx::ONE, Fx::MAX);
    assert_eq!(Fx::MIN.mul_sr(Fx::MIN, u32::MAX), Fx::MAX);
    assert_eq!(Fx::MIN.mul_sr(Fx::MAX, 0), Fx::MIN);
    assert_eq!(Fx::dot(&[Fx::MIN; 64], &[Fx::MIN; 64]), Fx::MAX); // the i32 sum saturates too
    assert_eq!(Fx::dot(&[Fx::MIN; 64], &[Fx::MAX; 64]), Fx::MIN);
    assert_eq!(Fx::dot_shr(&[Fx::MIN; 64], &[Fx::MIN; 64], 4), Fx::MAX);
}

#[test]
fn add_sub_neg_saturate_exactly() {
    let g = grid(61);
    for &a in &g {
        for &b in &g {
            let sat = |x: i32| x.clamp(i16::MIN as i32, i16::MAX as i32) as i16;
            assert_eq!((Fx(a) + Fx(b)).0, sat(a as i32 + b as i32));
            assert_eq!((Fx(a) - Fx(b)).0, sat(a as i32 - b as i32));
        }
        assert_eq!(
            (-Fx(a)).0,
            (-(a as i32)).clamp(i16::MIN as i32, i16::MAX as i32) as i16
        );
    }
}

/// `dot` and `dot_shr` against the exact `i64` sum, rounded half up once.
/// While no partial sum leaves `i32` the results are equal. When one does,
/// the `i32` accumulator saturates (it never wraps) and the result depends
/// on the order of the terms; only when every partial sum from there on
/// stays beyond `±2^(27+k)` is it sure to be the rail.
fn check_dot(a: &[i16], b: &[i16], k: u32) -> Result<(), TestCaseError> {
    let fa: Vec<Fx> = a.iter().map(|&x| Fx(x)).collect();
    let fb: Vec<Fx> = b.iter().map(|&x| Fx(x)).collect();
    let mut partial = 0i64;
    let mut left_i32 = false;
    // The saturating accumulator, modelled exactly, and whether it stays at a rail.
    let mut acc = 0i64;
    for (x, y) in a.iter().zip(b) {
        partial += *x as i64 * *y as i64;
        left_i32 |= partial > i32::MAX as i64 || partial < i32::MIN as i64;
        acc = (acc + *x as i64 * *y as i64).clamp(i32::MIN as i64, i32::MAX as i64);
    }
    let got = if k == 0 {
        Fx::dot(&fa, &fb)
    } else {
        Fx::dot_shr(&fa, &fb, k)
    }
    .0;
    if !left_i32 {
        prop_assert_eq!(got, round_sat(partial, 12 + k), "k = {}", k);
        let err = (got as f64 - partial as f64 / (1u64 << (12 + k)) as f64).abs();
        let inside = (partial >> (12 + k)).abs() < 32767;
        prop_assert!(!inside || err <= 0.5, "error {} LSB", err);
    } else {
        // The documented saturating accumulation, bit for bit.
        let want = ((acc + (1i64 << (11 + k))).min(i32::MAX as i64) >> (12 + k))
            .clamp(i16::MIN as i64, i16::MAX as i64) as i16;
        prop_assert_eq!(got, want, "saturating sum, k = {}", k);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn dot_is_exact_sum_rounded_once(v in proptest::collection::vec((any::<i16>(), any::<i16>()), 0..64), k in 0u32..6) {
        let (a, b): (Vec<i16>, Vec<i16>) = v.into_iter().unzip();
        check_dot(&a, &b, k)?;
    }

    #[test]
    fn dot_of_model_sized_values_is_exact(v in proptest::collection::vec((-8192i16..8192, 0i16..=4096), 1..48), k in 0u32..5) {
        // |w| <= 2 and rates in [0, 1], as in the model: the i32 sum never saturates.
        let (a, b): (Vec<i16>, Vec<i16>) = v.into_iter().unzip();
        check_dot(&a, &b, k)?;
    }

    #[test]
    fn mul_sr_is_floor_or_ceil(a in any::<i16>(), b in any::<i16>(), d in any::<u32>()) {
        let p = a as i64 * b as i64;
        let got = Fx(a).mul_sr(Fx(b), d).0 as i64;
        let lo = (p >> 12).clamp(i16::MIN as i64, i16::MAX as i64);
        let hi = ((p + 4095) >> 12).clamp(i16::MIN as i64, i16::MAX as i64);
        prop_assert!(got == lo || got == hi, "{a} sr* {b} = {got}, not {lo} or {hi}");
    }

    #[test]
    fn from_f32_rounds_to_nearest_and_saturates(x in prop_oneof![any::<f32>(), -9.0f32..9.0, -1e7f32..1e7]) {
        let got = Fx::from_f32(x).0;
        if x.is_nan() {
            prop_assert_eq!(got, 0);
        } else {
            let exact = x as f64 * 4096.0;
            let want = exact.round().clamp(i16::MIN as f64, i16::MAX as f64) as i16; // half away from zero
            prop_assert_eq!(got, want, "from_f32({})", x);
            if exact.abs() < 32767.0 {
                prop_assert!((got as f64 - exact).abs() <= 0.5);
            }
        }
    }
}

#[test]
fn mul_sr_is_unbiased_over_all_dithers() {
    // For each product, the mean over all 4096 dither values of the low 12
    // bits is the exact product (stochastic rounding is unbiased).
    for &(a, b) in &[
        (1i16, 410i16),
        (4096, 1),
        (-3, 1365),
        (12345, -777),
        (7, 7),
        (-1, -1),
        (2047, 2049),
    ] {
        let p = a as i64 * b as i64;
        let mut sum = 0i64;
        for d in 0..4096u32 {
            sum += Fx(a).mul_sr(Fx(b), d).0 as i64;
        }
        assert_eq!(sum, p, "{a} sr* {b}: sum over dithers {sum}, exact {p}");
    }
}

#[test]
fn from_f32_is_exact_on_every_representable_value_and_its_midpoints() {
    for r in i16::MIN..=i16::MAX {
        let x = r as f32 / 4096.0;
        assert_eq!(Fx::from_f32(x).0, r);
        assert_eq!(Fx::from_f32(x).to_f32(), x);
        // Half an LSB away from zero rounds away from zero; just below stays.
        let up = (r as f64 + if r < 0 { -0.5 } else { 0.5 }) / 4096.0;
        let want = if r < 0 {
            r.saturating_sub(1)
        } else {
            r.saturating_add(1)
        };
        assert_eq!(Fx::from_f32(up as f32).0, want, "midpoint beyond {r}");
        let inside = (r as f64 + if r < 0 { -0.49 } else { 0.49 }) / 4096.0;
        assert_eq!(
            Fx::from_f32(inside as f32).0,
            r,
            "just inside the midpoint beyond {r}"
        );
    }
}

#[test]
fn from_f32_saturates_far_beyond_the_rails() {
    for e in -10..=127 {
        let x = 2f32.powi(e);
        let want_pos = (x as f64 * 4096.0).round().min(32767.0) as i16;
        assert_eq!(Fx::from_f32(x).0, want_pos, "2^{e}");
        assert_eq!(
            Fx::from_f32(-x).0,
            (-(x as f64) * 4096.0).round().max(-32768.0) as i16,
            "-2^{e}"
        );
        assert_eq!(
            Fx::from_f32(x * 1.5).0,
            (x as f64 * 1.5 * 4096.0).round().min(32767.0) as i16,
            "1.5 * 2^{e}"
        );
    }
    assert_eq!(Fx::from_f32(f32::INFINITY), Fx::MAX);
    assert_eq!(Fx::from_f32(f32::NEG_INFINITY), Fx::MIN);
    assert_eq!(Fx::from_f32(f32::MAX), Fx::MAX);
    assert_eq!(Fx::from_f32(1e-45), Fx::ZERO);
}

#[test]
fn gauss_unit_and_q15_stay_in_range() {
    let mut bits = 0x1234_5678u32;
    for _ in 0..200_000 {
        bits = bits.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let g = Fx::gauss(bits).to_f32();
        assert!(g.abs() <= 510.0 * 111.0 / 4.0 / 4096.0 + LSB as f32);
        let u = Fx::unit(bits).to_f32();
        assert!((0.0..1.0).contains(&u));
    }
    for x in 0..=32767u16 {
        let exact = x as f64 / 32768.0;
        assert!((Fx::from_q15(x).to_f32() as f64 - exact).abs() <= 0.5 * LSB);
    }
}
