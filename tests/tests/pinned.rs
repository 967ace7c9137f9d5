//! The behaviour pinned: the reference trace's hashes as literals, and a
//! plain number type that reproduces the fixed-point trace without any of
//! the fast kernels.
//!
//! `cargo xtask trace` prints the same hashes; the boards and the browser
//! print them too. A change meant to be bit-identical must leave these
//! literals alone; a change of behaviour updates them in the same commit and
//! says so.

use core::ops::{Add, Mul, Neg, Sub};
use tcbg::snapshot::{trace, TRACE_STEPS};
use tcbg::{Fx, Kernels, Num};

/// `cargo xtask trace`: the default agent, fixed point.
const FIXED_TRACE: u32 = 0x1661_35f7;
/// `cargo xtask trace --f32`: the `f32` oracle.
const F32_TRACE: u32 = 0x9f46_3090;
/// CRC-32 of the reference trace's snapshot at step 2000 (before the
/// trailer), fixed point.
const FIXED_SNAPSHOT: u32 = 0xb324_fb26;
/// The same, `f32`.
const F32_SNAPSHOT: u32 = 0xb913_fd59;

#[test]
fn fixed_point_trace_is_pinned() {
    assert_eq!(trace::<Fx>(TRACE_STEPS), FIXED_TRACE);
}

#[test]
fn f32_trace_is_pinned() {
    assert_eq!(trace::<f32>(TRACE_STEPS), F32_TRACE);
}

/// [`Fx`] with every model kernel at its generic definition: only the
/// arithmetic [`Num`] requires of a number type is taken from [`Fx`] (and
/// [`Kernels`] keeps every default), so
/// each fast kernel's fixed-point form must agree with its definition over
/// the whole reference trace for the hashes to match.
#[derive(Clone, Copy, Default, PartialEq, PartialOrd, Debug)]
struct Plain(Fx);

impl Add for Plain {
    type Output = Plain;
    fn add(self, o: Plain) -> Plain {
        Plain(self.0 + o.0)
    }
}
impl Sub for Plain {
    type Output = Plain;
    fn sub(self, o: Plain) -> Plain {
        Plain(self.0 - o.0)
    }
}
impl Mul for Plain {
    type Output = Plain;
    fn mul(self, o: Plain) -> Plain {
        Plain(self.0 * o.0)
    }
}
impl Neg for Plain {
    type Output = Plain;
    fn neg(self) -> Plain {
        Plain(-self.0)
    }
}

fn raw<const L: usize>(v: &[Plain; L]) -> [Fx; L] {
    core::array::from_fn(|i| v[i].0)
}

fn raws(v: &[Plain]) -> Vec<Fx> {
    v.iter().map(|x| x.0).collect()
}

impl Num for Plain {
    const ZERO: Plain = Plain(Fx::ZERO);
    const ONE: Plain = Plain(Fx::ONE);
    const MIN: Plain = Plain(Fx::MIN);
    const MAX: Plain = Plain(Fx::MAX);
    const NAME: &'static str = "plain";

    fn from_f32(x: f32) -> Plain {
        Plain(Fx::from_f32(x))
    }
    fn to_f32(self) -> f32 {
        self.0.to_f32()
    }
    fn mul_sr(self, o: Plain, dither: u32) -> Plain {
        Plain(self.0.mul_sr(o.0, dither))
    }
    fn dot(a: &[Plain], b: &[Plain]) -> Plain {
        Plain(Fx::dot(&raws(a), &raws(b)))
    }
    fn dot_shr(a: &[Plain], b: &[Plain], k: u32) -> Plain {
        Plain(Fx::dot_shr(&raws(a), &raws(b), k))
    }
    fn dot_at<const L: usize>(a: &[Plain; L], b: &[Plain; L], idx: &[u16]) -> Plain {
        Plain(Fx::dot_at(&raw(a), &raw(b), idx))
    }
    fn dot_shr_at<const L: usize>(a: &[Plain; L], b: &[Plain; L], idx: &[u16], k: u32) -> Plain {
        Plain(Fx::dot_shr_at(&raw(a), &raw(b), idx, k))
    }
    fn unit(bits: u32) -> Plain {
        Plain(Fx::unit(bits))
    }
    fn gauss(bits: u32) -> Plain {
        Plain(Fx::gauss(bits))
    }
    fn from_q15(x: u16) -> Plain {
        Plain(Fx::from_q15(x))
    }
    fn is_nan(self) -> bool {
        false
    }
    fn hash_bits(self) -> u32 {
        self.0.hash_bits()
    }
    fn recip_sat(self) -> Plain {
        Plain(self.0.recip_sat())
    }
    fn exp_nonpos(self) -> Plain {
        Plain(self.0.exp_nonpos())
    }
}

/// Every model kernel at its reference definition (the trait's defaults).
impl Kernels for Plain {}

#[test]
fn plain_numbers_reproduce_the_fixed_point_trace() {
    assert_eq!(trace::<Plain>(TRACE_STEPS), FIXED_TRACE);
}

#[test]
fn the_trace_sees_a_changed_step() {
    // The hash reads every action and dopamine value: a shorter run differs.
    assert_ne!(trace::<Fx>(TRACE_STEPS - 1), FIXED_TRACE);
}

/// The snapshot of the reference trace's agent at step 2000 (both number
/// types), as the CRC-32 of its bytes before the trailer: the snapshot
/// format's bytes are pinned as the trace is (the browser and the boards
/// compare them).
#[test]
fn snapshot_bytes_are_pinned() {
    use tcbg::snapshot::{crc32, trace_continuation, CRC_LEN};
    let body = |b: &[u8]| crc32(&b[..b.len() - CRC_LEN]);
    let mut fx = vec![0u8; tcbg::DefaultAgent::SNAPSHOT_LEN];
    trace_continuation::<Fx>(2000, 1, &mut fx, None);
    let mut f = vec![0u8; tcbg::OracleAgent::SNAPSHOT_LEN];
    trace_continuation::<f32>(2000, 1, &mut f, None);
    assert_eq!(body(&fx), FIXED_SNAPSHOT);
    assert_eq!(body(&f), F32_SNAPSHOT);
}
