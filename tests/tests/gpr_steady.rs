//! The selection circuit settles: the GPi output of the circuit the agent
//! uses is the steady state of the Gurney-Prescott-Redgrave rate equations,
//! checked against an `f64` reference integrated finely, for 2 to 16
//! channels, in fixed point and in `f32`.

use proptest::prelude::*;
use tcbg::basal_ganglia::Gpr;
use tcbg::{Config, Fx, Num};

/// The same equations in `f64`, integrated at rate 0.01 until still.
fn reference(s: &[f64]) -> Vec<f64> {
    let relu = |x: f64| x.max(0.0);
    let m = s.len();
    let d1: Vec<f64> = s.iter().map(|&x| relu(1.2 * x - 0.2)).collect();
    let d2: Vec<f64> = s.iter().map(|&x| relu(0.8 * x - 0.2)).collect();
    let (mut stn, mut gpe) = (vec![0.0; m], vec![0.0; m]);
    for _ in 0..20_000 {
        let t: f64 = stn.iter().sum();
        for i in 0..m {
            let st = relu(s[i] - gpe[i] + 0.25);
            let ge = relu(-d2[i] + 0.9 * t + 0.2);
            stn[i] += 0.01 * (st - stn[i]);
            gpe[i] += 0.01 * (ge - gpe[i]);
        }
    }
    let t: f64 = stn.iter().sum();
    (0..m)
        .map(|i| relu(-d1[i] + 0.9 * t - 0.3 * gpe[i] + 0.2))
        .collect()
}

/// The largest GPi error of the `N` circuit on `s`, and whether its choice
/// agrees with the reference wherever the reference's top two differ by more
/// than 0.01.
fn check<N: Num, const M: usize>(s: &[f64]) -> (f64, bool) {
    let sal: [N; M] = core::array::from_fn(|i| N::from_f32(s[i] as f32));
    // The reference reads the saliences the number type holds.
    let held: Vec<f64> = sal.iter().map(|v| v.to_f32() as f64).collect();
    let want = reference(&held);
    let gpr = Gpr::<N>::from_config(&Config::default());
    let (gpi, winner) = gpr.select(&sal);
    // Newton's steps (at most M + 2), then at most 2M + 1 pieces of the walk.
    let (_, pieces) = gpr.diffuse(&sal);
    assert!(
        (1..=3 * M + 3).contains(&pieces),
        "{M} channels: {pieces} pieces"
    );
    let err = (0..M)
        .map(|i| (gpi[i].to_f32() as f64 - want[i]).abs())
        .fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..M).collect();
    order.sort_by(|&a, &b| want[a].partial_cmp(&want[b]).unwrap());
    let clear = want[order[1]] - want[order[0]] > 0.01;
    (err, !clear || winner == Some(order[0]))
}

fn check_both<const M: usize>(s: &[f64]) -> f64 {
    let (e_fx, ok_fx) = check::<Fx, M>(s);
    let (e_f32, ok_f32) = check::<f32, M>(s);
    assert!(ok_fx && ok_f32, "{M} channels {s:?}: the choice differs");
    assert!(e_fx <= 0.02, "{M} channels {s:?}: fixed-point error {e_fx}");
    assert!(e_f32 <= 0.02, "{M} channels {s:?}: f32 error {e_f32}");
    e_fx.max(e_f32)
}

macro_rules! for_each_size {
    ($f:ident, $s:expr) => {
        match $s.len() {
            2 => $f::<2>($s),
            3 => $f::<3>($s),
            4 => $f::<4>($s),
            5 => $f::<5>($s),
            6 => $f::<6>($s),
            7 => $f::<7>($s),
            8 => $f::<8>($s),
            9 => $f::<9>($s),
            10 => $f::<10>($s),
            11 => $f::<11>($s),
            12 => $f::<12>($s),
            13 => $f::<13>($s),
            14 => $f::<14>($s),
            15 => $f::<15>($s),
            16 => $f::<16>($s),
            n => panic!("no circuit of {n} channels in this test"),
        }
    };
}

#[test]
fn structured_inputs_settle_for_every_channel_count() {
    for m in 2..=16usize {
        let cases: Vec<Vec<f64>> = vec![
            vec![0.0; m],
            vec![0.5; m],
            vec![1.5; m],
            vec![-1.5; m],
            vec![-0.3; m],
            (0..m).map(|i| if i == m / 2 { 1.5 } else { 0.1 }).collect(),
            (0..m).map(|i| if i == 0 { 0.8 } else { -1.0 }).collect(),
            (0..m).map(|i| if i < 2 { 1.0 } else { 0.3 }).collect(),
            (0..m)
                .map(|i| -1.5 + 3.0 * i as f64 / (m - 1) as f64)
                .collect(),
            (0..m)
                .map(|i| if i % 2 == 0 { 1.5 } else { -1.5 })
                .collect(),
        ];
        let mut worst = 0.0f64;
        for s in &cases {
            worst = worst.max(for_each_size!(check_both, s.as_slice()));
        }
        println!("{m} channels, structured inputs: largest GPi error {worst:.5}");
    }
}

/// A seeded sweep of random utilities in [-1.5, 1.5] (500 inputs for each
/// channel count), reporting the largest error per count.
#[test]
fn random_sweep_reports_the_largest_error_per_channel_count() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 3.0 - 1.5
    };
    for m in 2..=16usize {
        let mut worst = 0.0f64;
        for _ in 0..500 {
            let s: Vec<f64> = (0..m).map(|_| uniform()).collect();
            worst = worst.max(for_each_size!(check_both, s.as_slice()));
        }
        println!("{m} channels, 500 random inputs: largest GPi error {worst:.5}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_inputs_settle(m in 2usize..=16, raw in prop::collection::vec(-1.5f64..=1.5, 16)) {
        for_each_size!(check_both, &raw[..m]);
    }
}
