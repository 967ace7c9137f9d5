//! Numbers, the ground floor: the fixed-point type [`Fx`] that ships, the
//! `f32` oracle, and the small trait [`Num`] of their arithmetic. The
//! model's loops built on it live one floor up, in `kernels`.
//!
//! Every state variable of the model is one `N: Num`. For [`Fx`] that is an
//! `i16` in Q3.12 (range -8 to 8 - 1/4096, resolution 1/4096 ≈ 0.000244);
//! products are formed in `i32` and narrowed with round-to-nearest and
//! saturation, so a value never wraps. Learning updates too small to survive
//! truncation use [`Num::mul_sr`], stochastic rounding driven by random bits
//! from the agent's seeded generator (as SpiNNaker and Loihi do).
//!
//! Nothing here divides or multiplies in 64 bits: on a Cortex-M0 (thumbv6m)
//! an `i64` multiply is a call to `__aeabi_lmul` and a division a call to
//! `__aeabi_idiv`; a Q12 `i16 × i16 → i32` product is one `MULS`.
//!
//! ```
//! use tcbg::fixed::{Fx, Num};
//! let a = Fx::from_f32(0.5);
//! let b = Fx::from_f32(-1.25);
//! assert_eq!((a * b).to_f32(), -0.625);
//! // Saturation at the rails instead of wrapping:
//! assert_eq!((Fx::MAX + Fx::ONE), Fx::MAX);
//! assert_eq!((Fx::MIN * Fx::MIN), Fx::MAX);
//! ```

use core::fmt;
use core::ops::{Add, Mul, Neg, Sub};

/// The numeric operations the model needs, implemented by [`Fx`] (fixed
/// point, the default) and by `f32` (the float oracle): arithmetic only
/// (the model is written over `kernels::Kernels`, which adds its
/// loops to it).
///
/// Arithmetic through the operators saturates at [`Num::MIN`]/[`Num::MAX`]
/// for [`Fx`]; for `f32` it is plain IEEE arithmetic.
pub trait Num:
    Copy
    + Default
    + PartialEq
    + PartialOrd
    + fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The most negative value the type stores (the lower rail).
    const MIN: Self;
    /// The most positive value the type stores (the upper rail).
    const MAX: Self;
    /// A short name for reports: `"fixed"` or `"f32"`.
    const NAME: &'static str;

    /// Converts from `f32` with round-to-nearest and saturation (NaN gives 0).
    /// Used when a config is turned into parameters, never on the step path.
    fn from_f32(x: f32) -> Self;
    /// Converts to `f32` exactly (every [`Fx`] value is an `f32`).
    fn to_f32(self) -> f32;
    /// `self × o`, narrowed by stochastic rounding: the 12 low bits of
    /// `dither` decide rounding up or down with the probability of the
    /// discarded fraction, so small updates survive on average.
    fn mul_sr(self, o: Self, dither: u32) -> Self;
    /// Dot product with one narrowing at the end (i32 accumulation for [`Fx`]).
    fn dot(a: &[Self], b: &[Self]) -> Self;
    /// Dot product divided by `2^k` (a shift for [`Fx`]), for sums that
    /// would leave the range of the type, such as squared norms over cortex.
    fn dot_shr(a: &[Self], b: &[Self], k: u32) -> Self;
    /// [`Num::dot`] over the entries `idx` of `b` only: equal to `dot(a, b)`
    /// when `b` is zero outside `idx` (a zero product changes neither sum).
    fn dot_at<const L: usize>(a: &[Self; L], b: &[Self; L], idx: &[u16]) -> Self;
    /// [`Num::dot_shr`] over the entries `idx` of `b` only (see [`Num::dot_at`]).
    fn dot_shr_at<const L: usize>(a: &[Self; L], b: &[Self; L], idx: &[u16], k: u32) -> Self;
    /// A uniform value in `[0, 1)` from random bits.
    fn unit(bits: u32) -> Self;
    /// An approximately standard-normal value from 32 random bits: the sum
    /// of four 8-bit uniforms, centred and scaled (Irwin-Hall), so both number
    /// types draw their noise from the same bits.
    fn gauss(bits: u32) -> Self;
    /// `x / 32768` for `0 <= x <= 32767`: a Q15 constant from a table.
    fn from_q15(x: u16) -> Self;
    /// Whether the value is NaN (never for [`Fx`]).
    fn is_nan(self) -> bool;
    /// Bit pattern for hashing traces: the raw `i16` for [`Fx`], the IEEE
    /// bits for `f32`.
    fn hash_bits(self) -> u32;
    /// `1/self` for a positive value (saturating at [`Num::MAX`]); [`Num::MAX`]
    /// for 0 or less. One division ([`Fx`]: of the raw values, rounded to
    /// nearest).
    fn recip_sat(self) -> Self;

    /// `e^self` for a value at most 0 (1 above): the likelihood ratio of a
    /// log-probability ratio. [`Fx`]: no division and no float, from a table
    /// of powers of two ([`POW2_NEG_Q15`]), within 2 LSBs.
    fn exp_nonpos(self) -> Self;

    /// The larger of two values.
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        if o > self {
            o
        } else {
            self
        }
    }
    /// The smaller of two values.
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        if o < self {
            o
        } else {
            self
        }
    }
    /// `self` limited to `[lo, hi]`; NaN (f32 only) becomes `lo`.
    #[inline(always)]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        if self > hi {
            hi
        } else if self >= lo {
            self
        } else {
            lo
        }
    }
    /// `max(self, 0)`.
    #[inline(always)]
    fn relu(self) -> Self {
        self.max(Self::ZERO)
    }
    /// The value with its sign dropped.
    #[inline(always)]
    fn abs(self) -> Self {
        if self < Self::ZERO {
            -self
        } else {
            self
        }
    }
}

/// Q3.12 fixed point in an `i16`: value = raw / 4096, from -8 to 8 − 1/4096.
///
/// Every operator saturates at the rails and rounds to nearest (ties up).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Fx(pub i16);

/// Fractional bits of [`Fx`].
pub const FRAC: u32 = 12;
/// Half an LSB of a Q24 product narrowed to Q12 (round to nearest).
pub(crate) const HALF: i32 = 1 << (FRAC - 1);

impl Fx {
    /// The raw `i16`.
    #[inline(always)]
    pub const fn raw(self) -> i16 {
        self.0
    }
    /// Narrows an `i32` to `i16` with saturation.
    #[inline(always)]
    pub const fn sat(x: i32) -> Fx {
        if x > i16::MAX as i32 {
            Fx(i16::MAX)
        } else if x < i16::MIN as i32 {
            Fx(i16::MIN)
        } else {
            Fx(x as i16)
        }
    }
    /// Narrows a Q24 `i32` (a product of two Q12) to Q12: round to nearest, saturate.
    #[inline(always)]
    pub const fn from_q24(x: i32) -> Fx {
        // x + HALF cannot overflow in the ranges used: |x| <= 2^30 for one product.
        Fx::sat(x.saturating_add(HALF) >> FRAC)
    }
}

impl fmt::Debug for Fx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f32())
    }
}

impl fmt::Display for Fx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f32())
    }
}

impl Add for Fx {
    type Output = Fx;
    #[inline(always)]
    fn add(self, o: Fx) -> Fx {
        Fx(self.0.saturating_add(o.0))
    }
}
impl Sub for Fx {
    type Output = Fx;
    #[inline(always)]
    fn sub(self, o: Fx) -> Fx {
        Fx(self.0.saturating_sub(o.0))
    }
}
impl Mul for Fx {
    type Output = Fx;
    #[inline(always)]
    fn mul(self, o: Fx) -> Fx {
        Fx::from_q24(self.0 as i32 * o.0 as i32)
    }
}
impl Neg for Fx {
    type Output = Fx;
    #[inline(always)]
    fn neg(self) -> Fx {
        Fx(self.0.saturating_neg())
    }
}

/// The sum of the four bytes of `bits` minus its mean (510): −510 to 510.
#[inline(always)]
fn irwin_hall(bits: u32) -> i32 {
    ((bits & 0xff) + ((bits >> 8) & 0xff) + ((bits >> 16) & 0xff) + (bits >> 24)) as i32 - 510
}

/// Sum of `i16 × i16` products in `i32`, saturating (never wraps).
#[inline(always)]
fn acc(a: &[Fx], b: &[Fx]) -> i32 {
    let mut s: i32 = 0;
    for (x, y) in a.iter().zip(b.iter()) {
        s = s.saturating_add(x.0 as i32 * y.0 as i32);
    }
    s
}

/// [`acc`] over the entries `idx` only.
#[inline(always)]
fn acc_at<const L: usize>(a: &[Fx; L], b: &[Fx; L], idx: &[u16]) -> i32 {
    let mut s: i32 = 0;
    for &i in idx {
        let i = i as usize;
        if i < L {
            // one bound for both arrays
            s = s.saturating_add(a[i].0 as i32 * b[i].0 as i32);
        }
    }
    s
}

/// A list of indices below `L` (fixed capacity, like every buffer of the
/// step): nothing is zeroed, since a list is written before it is read.
pub type Indices<const L: usize> = heapless::Vec<u16, L>;

/// `*dst = *src` in eight-element pieces: the compiler copies each piece
/// with word loads and stores in line, where a whole row of a few dozen
/// entries becomes a library `memcpy` (on a Cortex-M, about four
/// instructions per word moved).
#[inline(always)]
pub fn copy_row<N: Copy, const L: usize>(dst: &mut [N; L], src: &[N; L]) {
    let mut pieces = dst.chunks_exact_mut(8);
    let mut from = src.chunks_exact(8);
    for (d, s) in (&mut pieces).zip(&mut from) {
        let t: [N; 8] = core::array::from_fn(|j| s[j]);
        for (d, t) in d.iter_mut().zip(t) {
            *d = t;
        }
    }
    for (d, s) in pieces.into_remainder().iter_mut().zip(from.remainder()) {
        *d = *s;
    }
}

/// Every entry of `dst` set to `v`, in line (see [`copy_row`]).
#[inline(always)]
pub fn fill_row<N: Copy, const L: usize>(dst: &mut [N; L], v: N) {
    let mut pieces = dst.chunks_exact_mut(8);
    for d in &mut pieces {
        let t: [N; 8] = [v; 8];
        for (d, t) in d.iter_mut().zip(t) {
            *d = t;
        }
    }
    for d in pieces.into_remainder() {
        *d = v;
    }
}

/// An empty list (an [`Indices`], or any fixed-capacity `heapless::Vec`),
/// made out of line: inlined, the compiler may zero the whole buffer along
/// with the length (it merges the two into one `memset`), the very cost a
/// list exists to spare.
#[inline(never)]
pub fn empty_list<T, const L: usize>() -> heapless::Vec<T, L> {
    heapless::Vec::new()
}

/// The indices of the nonzero entries of `v`, ascending: the support the
/// `*_at` dot products read.
///
/// ```
/// use tcbg::fixed::support;
/// assert_eq!(support(&[0.0f32, 0.5, 0.0, -1.0]).as_slice(), &[1, 3]);
/// ```
pub fn support<N: Num, const L: usize>(v: &[N; L]) -> Indices<L> {
    let mut idx = Indices::new();
    support_into(v, &mut idx);
    idx
}

/// [`support`] written into `idx` (in place: a step passes its lists by
/// reference, never by value, so none is copied).
#[inline(always)]
pub fn support_into<N: Num, const L: usize>(v: &[N; L], idx: &mut Indices<L>) {
    idx.truncate(0);
    for i in 0..L {
        if v[i] != N::ZERO {
            // At most L pushes: never full (ignoring the Err spares a panic path).
            let _ = idx.push(i as u16);
        }
    }
}

impl Num for Fx {
    const ZERO: Fx = Fx(0);
    const ONE: Fx = Fx(1 << FRAC);
    const MIN: Fx = Fx(i16::MIN);
    const MAX: Fx = Fx(i16::MAX);
    const NAME: &'static str = "fixed";

    fn from_f32(x: f32) -> Fx {
        // Integer-only from the IEEE bits, so a board without an FPU needs no
        // soft-float multiply (which on thumbv6m pulls in `__aeabi_lmul`).
        // value = m · 2^(e − 150) with m the 24-bit significand; we want
        // round(value · 2^12) = round(m · 2^(e − 138)), half away from zero.
        let bits = x.to_bits();
        let neg = bits >> 31 != 0;
        let e = ((bits >> 23) & 0xff) as i32;
        if e == 0xff {
            // Infinity saturates; NaN gives 0.
            return if bits & 0x7f_ffff != 0 {
                Fx(0)
            } else if neg {
                Fx(i16::MIN)
            } else {
                Fx(i16::MAX)
            };
        }
        if e == 0 {
            return Fx(0); // zero or subnormal: far below one LSB
        }
        let m = (bits & 0x7f_ffff) | 0x80_0000;
        let shift = e - 138;
        let mag: u32 = if shift >= 0 {
            if shift > 7 {
                // far beyond the rails (and `m << 9` would leave 32 bits:
                // 2^20 once gave 0 here)
                u32::MAX
            } else {
                m << shift
            }
        } else if -shift > 25 {
            0
        } else {
            let r = (-shift) as u32;
            (m + (1 << (r - 1))) >> r
        };
        if neg {
            if mag >= 0x8000 {
                Fx(i16::MIN)
            } else {
                Fx(-(mag as i32) as i16)
            }
        } else if mag >= 0x7fff {
            Fx(i16::MAX)
        } else {
            Fx(mag as i16)
        }
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self.0 as f32 * (1.0 / (1 << FRAC) as f32)
    }
    #[inline(always)]
    fn mul_sr(self, o: Fx, dither: u32) -> Fx {
        let p = self.0 as i32 * o.0 as i32;
        // Adding a uniform value in [0, 2^12) before the floor rounds up with
        // probability equal to the discarded fraction: unbiased on average.
        Fx::sat(p.saturating_add((dither & ((1 << FRAC) - 1)) as i32) >> FRAC)
    }
    #[inline(always)]
    fn dot(a: &[Fx], b: &[Fx]) -> Fx {
        Fx::from_q24(acc(a, b))
    }
    #[inline(always)]
    fn dot_shr(a: &[Fx], b: &[Fx], k: u32) -> Fx {
        let s = acc(a, b);
        Fx::sat(s.saturating_add(1 << (FRAC + k - 1)) >> (FRAC + k))
    }
    #[inline(always)]
    fn dot_at<const L: usize>(a: &[Fx; L], b: &[Fx; L], idx: &[u16]) -> Fx {
        if let [i] = *idx {
            if (i as usize) < L {
                return a[i as usize] * b[i as usize]; // one product: the same rounding
            }
        }
        Fx::from_q24(acc_at(a, b, idx))
    }
    #[inline(always)]
    fn dot_shr_at<const L: usize>(a: &[Fx; L], b: &[Fx; L], idx: &[u16], k: u32) -> Fx {
        let s = acc_at(a, b, idx);
        Fx::sat(s.saturating_add(1 << (FRAC + k - 1)) >> (FRAC + k))
    }
    #[inline(always)]
    fn unit(bits: u32) -> Fx {
        Fx((bits >> (32 - FRAC)) as i16)
    }
    #[inline(always)]
    fn gauss(bits: u32) -> Fx {
        // sd of the centred sum is 147.8; 4096 / 147.8 = 27.7 = 111 / 4.
        Fx(((irwin_hall(bits) * 111) >> 2) as i16)
    }
    #[inline(always)]
    fn from_q15(x: u16) -> Fx {
        Fx(((x as i32 + (1 << 2)) >> 3) as i16)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn hash_bits(self) -> u32 {
        self.0 as u16 as u32
    }
    #[inline(always)]
    fn recip_sat(self) -> Self {
        // Without a division (the Cortex-M0 has none): the raw value as a
        // mantissa `v` in [1/2, 1) times a power of two, `1/v` from the
        // table of reciprocals, one Newton step, and the power of two back.
        let r = self.0 as i32;
        if r <= 0 {
            return Fx::MAX;
        }
        // a = r 2^s in [2^14, 2^15): v = a / 2^15, and r/4096 = v 2^(3 − s).
        let s = (r as u32).leading_zeros() as i32 - 17; // 0 to 14
        let a = r << s;
        // 1/v in Q14 from the table (v ≈ idx/256, 1/v ≈ RECIP_Q15[idx] / 128),
        // then y (2 − v y): the table's error (at most 1/128) squared.
        let y0 = RECIP_Q15[(a >> 7) as usize & 0xff] as i32 * 128;
        let vy = (a * y0) >> 15;
        let y1 = (y0 * ((2 << 14) - vy)) >> 14;
        // 1/x = (1/v) 2^(s − 3), in Q12: y1 2^(s − 5), rounded.
        let q = if s >= 5 {
            y1 << (s - 5)
        } else {
            let k = 5 - s;
            (y1 + (1 << (k - 1))) >> k
        };
        Fx(q.min(i16::MAX as i32) as i16)
    }
    #[inline(always)]
    fn exp_nonpos(self) -> Self {
        // e^x = 2^(−t), t = −x log2(e) = n + f: 2^(−f) from the table
        // (linear between its sixteenths), shifted right n times.
        let y = -(self.0.min(0) as i32); // 0 to 32768, Q12
        let t = (y * LOG2_E_Q14 + (1 << 13)) >> 14; // Q12, rounded
        let n = t >> FRAC;
        if n > FRAC as i32 {
            return Fx::ZERO; // below half an LSB
        }
        let f = t & ((1 << FRAC) - 1);
        let i = (f >> 8) as usize & 0xf;
        let (a, b) = (POW2_NEG_Q15[i] as i32, POW2_NEG_Q15[i + 1] as i32);
        let v = a - (((a - b) * (f & 0xff) + 128) >> 8); // Q15
        let sh = 3 + n; // Q15 to Q12, and the n halvings
        Fx(((v + (1 << (sh - 1))) >> sh) as i16)
    }
}

/// log2(e) in Q14, for [`Fx`]'s [`Num::exp_nonpos`].
const LOG2_E_Q14: i32 = 23637;

/// `POW2_NEG_Q15[i]` = 2^(−i/16) in Q15, for [`Fx`]'s [`Num::exp_nonpos`].
pub const POW2_NEG_Q15: [u16; 17] = [
    32768, 31379, 30048, 28774, 27554, 26386, 25268, 24196, 23170, 22188, 21247, 20347, 19484,
    18658, 17867, 17109, 16384,
];

impl Num for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    const MIN: f32 = f32::MIN;
    const MAX: f32 = f32::MAX;
    const NAME: &'static str = "f32";

    #[inline(always)]
    fn from_f32(x: f32) -> f32 {
        if x.is_nan() {
            0.0
        } else {
            x
        }
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn mul_sr(self, o: f32, _dither: u32) -> f32 {
        self * o
    }
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        let mut s = 0.0;
        for (x, y) in a.iter().zip(b.iter()) {
            s += x * y;
        }
        s
    }
    #[inline(always)]
    fn dot_shr(a: &[f32], b: &[f32], k: u32) -> f32 {
        Self::dot(a, b) * (1.0 / (1u32 << k) as f32)
    }
    #[inline(always)]
    fn dot_at<const L: usize>(a: &[f32; L], b: &[f32; L], idx: &[u16]) -> f32 {
        let mut s = 0.0;
        for &i in idx {
            let i = i as usize;
            if i < L {
                s += a[i] * b[i];
            }
        }
        s
    }
    #[inline(always)]
    fn dot_shr_at<const L: usize>(a: &[f32; L], b: &[f32; L], idx: &[u16], k: u32) -> f32 {
        Self::dot_at(a, b, idx) * (1.0 / (1u32 << k) as f32)
    }
    #[inline(always)]
    fn unit(bits: u32) -> f32 {
        (bits >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }
    #[inline(always)]
    fn gauss(bits: u32) -> f32 {
        irwin_hall(bits) as f32 * (1.0 / 147.8)
    }
    #[inline(always)]
    fn from_q15(x: u16) -> f32 {
        x as f32 * (1.0 / 32768.0)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn hash_bits(self) -> u32 {
        self.to_bits()
    }
    #[inline(always)]
    fn recip_sat(self) -> Self {
        if self > 0.0 {
            1.0 / self
        } else {
            f32::MAX
        }
    }
    #[inline(always)]
    fn exp_nonpos(self) -> Self {
        libm::expf(self.min(0.0))
    }
}

/// `RECIP_Q15[n]` = 1/n in Q15 (saturated at n = 1), built at compile time so
/// the step reads a reciprocal instead of dividing.
pub const RECIP_Q15: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut n = 1;
    while n < 256 {
        let v = (32768 + n / 2) / n;
        t[n] = if v > 32767 { 32767 } else { v as u16 };
        n += 1;
    }
    t
};

/// One Newton step towards `1/a`: `y (2 − a y)`. Converges for `0 < y < 2/a`;
/// used to track reciprocals of slowly changing values without dividing.
#[inline(always)]
pub fn newton_recip<N: Num>(a: N, y: N) -> N {
    let two = N::ONE + N::ONE;
    y * (two - a * y)
}

/// Test values for the kernels' bit-identity tests: mostly raw values in
/// `[lo, hi]`, sometimes any `i16` (the rails included).
#[cfg(test)]
pub(crate) fn pick(rng: &mut crate::rng::Rng, lo: i32, hi: i32) -> Fx {
    let bits = rng.next();
    if bits % 7 == 0 {
        Fx((bits >> 16) as u16 as i16)
    } else {
        Fx((lo + ((bits >> 8) % (hi - lo + 1) as u32) as i32) as i16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recip_rounds_and_saturates() {
        assert_eq!(Fx::ONE.recip_sat(), Fx::ONE);
        assert_eq!(Fx::from_f32(4.0).recip_sat(), Fx::from_f32(0.25));
        assert_eq!(Fx::from_f32(0.25).recip_sat(), Fx::from_f32(4.0));
        assert_eq!(Fx(1).recip_sat(), Fx::MAX); // 4096² saturates
        assert_eq!(Fx::ZERO.recip_sat(), Fx::MAX);
        assert_eq!(Fx::from_f32(-1.0).recip_sat(), Fx::MAX);
        assert_eq!(0.0f32.recip_sat(), f32::MAX);
        // Within two LSBs of 1/x wherever 1/x is in range, saturated beyond.
        for raw in 1..=i16::MAX {
            let x = Fx(raw);
            let want = 1.0 / x.to_f32();
            let got = x.recip_sat().to_f32();
            if want >= Fx::MAX.to_f32() {
                assert_eq!(x.recip_sat(), Fx::MAX, "{raw}");
            } else {
                assert!((got - want).abs() <= 2.0 / 4096.0, "{raw}: {got} {want}");
            }
        }
    }

    #[test]
    fn exp_of_every_nonpositive_value() {
        assert_eq!(Fx::ZERO.exp_nonpos(), Fx::ONE);
        assert_eq!(Fx::ONE.exp_nonpos(), Fx::ONE);
        assert_eq!(Fx::MIN.exp_nonpos(), Fx(1)); // e^−8, 1.4 LSB
        assert_eq!(2.0f32.exp_nonpos(), 1.0);
        // Within two LSBs of e^x for every raw value at most 0.
        for raw in i16::MIN..=0 {
            let x = Fx(raw);
            let want = libm::expf(x.to_f32());
            let got = x.exp_nonpos().to_f32();
            assert!((got - want).abs() <= 2.0 / 4096.0, "{raw}: {got} {want}");
        }
    }

    #[test]
    fn rounding_and_saturation() {
        assert_eq!(Fx::from_f32(1.0).0, 4096);
        assert_eq!(Fx::from_f32(100.0), Fx::MAX);
        assert_eq!(Fx::from_f32(-100.0), Fx::MIN);
        assert_eq!(Fx::from_f32(f32::NAN), Fx::ZERO);
        assert_eq!(Fx::MIN * Fx::MIN, Fx::MAX);
        assert_eq!(-Fx::MIN, Fx::MAX);
        assert_eq!(Fx::MIN - Fx::ONE, Fx::MIN);
        // Round to nearest: 1/4096 * 0.5 = half an LSB, rounds up.
        assert_eq!((Fx(1) * Fx::from_f32(0.5)).0, 1);
        assert_eq!((Fx(1) * Fx::from_f32(0.25)).0, 0);
    }

    #[test]
    fn from_f32_matches_float_rounding() {
        // Every Q3.12 value, the midpoints between them, and values beyond the rails.
        for raw in i16::MIN as i32..=i16::MAX as i32 {
            for off in [-0.5f32, -0.49, 0.0, 0.49, 0.5] {
                let x = (raw as f32 + off) / 4096.0;
                let want = libm::roundf(x * 4096.0).clamp(i16::MIN as f32, i16::MAX as f32) as i16;
                assert_eq!(Fx::from_f32(x).0, want, "{x}");
            }
        }
        for x in [
            1e-30f32,
            -1e-30,
            1e30,
            -1e30,
            f32::MIN_POSITIVE,
            8.0,
            -8.0,
            7.9999,
            100.0,
        ] {
            let want = libm::roundf(x * 4096.0).clamp(i16::MIN as f32, i16::MAX as f32) as i16;
            assert_eq!(Fx::from_f32(x).0, want, "{x}");
        }
        assert_eq!(Fx::from_f32(f32::INFINITY), Fx::MAX);
        assert_eq!(Fx::from_f32(f32::NEG_INFINITY), Fx::MIN);
    }

    #[test]
    fn stochastic_rounding_is_unbiased() {
        // 0.1 LSB expected per update; 4096 updates with all dithers sum to ~410 LSB.
        let a = Fx(1);
        let b = Fx::from_f32(0.1);
        let mut sum = 0i32;
        for d in 0..4096u32 {
            sum += a.mul_sr(b, d).0 as i32;
        }
        let exact = 4096.0 * b.to_f32();
        assert!((sum as f32 - exact).abs() <= 1.0, "{sum} vs {exact}");
    }

    #[test]
    fn recip_table() {
        assert_eq!(RECIP_Q15[1], 32767);
        assert_eq!(RECIP_Q15[2], 16384);
        assert!((Fx::from_q15(RECIP_Q15[10]).to_f32() - 0.1).abs() < 0.001);
    }

    #[test]
    fn row_copies_and_fills_are_assignments() {
        fn check<const L: usize>(rng: &mut crate::rng::Rng) {
            let src: [Fx; L] = core::array::from_fn(|_| Fx(rng.next() as i16));
            let mut dst: [Fx; L] = core::array::from_fn(|_| Fx(rng.next() as i16));
            copy_row(&mut dst, &src);
            assert_eq!(dst, src);
            let v = Fx(rng.next() as i16);
            fill_row(&mut dst, v);
            assert_eq!(dst, [v; L]);
        }
        let mut rng = crate::rng::Rng::seed(31);
        for _ in 0..100 {
            // Whole pieces of eight, a remainder, and fewer than eight.
            check::<48>(&mut rng);
            check::<13>(&mut rng);
            check::<5>(&mut rng);
            check::<0>(&mut rng);
        }
    }

    #[test]
    fn newton() {
        let a = Fx::from_f32(3.0);
        let mut y = Fx::from_f32(0.25);
        for _ in 0..6 {
            y = newton_recip(a, y);
        }
        assert!((y.to_f32() - 1.0 / 3.0).abs() < 0.002, "{}", y.to_f32());
    }
}
