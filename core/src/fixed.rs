//! Numbers: the fixed-point type [`Fx`] that ships, the `f32` oracle, and the
//! small trait [`Num`] the whole model is written over.
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
/// point, the default) and by `f32` (the float oracle).
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
    /// [`Num::dot_at`] of every row of `rows` with `b`; [`Fx`] reads each
    /// entry of `b` once for all rows (the same sums, bit for bit).
    #[inline(always)]
    fn dots_at<const L: usize, const R: usize>(
        rows: &[[Self; L]; R],
        b: &[Self; L],
        idx: &[u16],
    ) -> [Self; R] {
        core::array::from_fn(|r| Self::dot_at(&rows[r], b, idx))
    }
    /// [`Num::dot_at`] of every row of `rows` with `b` over the one entry
    /// `j`, written to `out`: the drive of a one-line input. [`Fx`] copies
    /// the column when `b[j]` is 1 (then each product is its weight).
    #[inline(always)]
    fn dots_one<const L: usize, const R: usize>(
        rows: &[[Self; L]; R],
        b: &[Self; L],
        j: u16,
        out: &mut [Self; R],
    ) {
        for (o, row) in out.iter_mut().zip(rows.iter()) {
            *o = Self::dot_at(row, b, &[j]);
        }
    }
    /// [`Num::dot_shr_at`] of every row of `rows` with `b` (see [`Num::dots_at`]).
    #[inline(always)]
    fn dots_shr_at<const L: usize, const R: usize>(
        rows: &[[Self; L]; R],
        b: &[Self; L],
        idx: &[u16],
        k: u32,
    ) -> [Self; R] {
        core::array::from_fn(|r| Self::dot_shr_at(&rows[r], b, idx, k))
    }
    /// The thalamic read-outs of context selection: `(M ρ, U ρ / 16, ρ·ρ /
    /// 16)`, that is [`Num::dots_at`], [`Num::dots_shr_at`] and
    /// [`Num::dot_shr_at`] with `k` = 4 over the support of `rho`. [`Fx`]
    /// takes them as plain `i32` sums (two passes over `rho`, its zeros
    /// skipped) under the bounds the thalamus keeps: `|M| <= m_bound`, `ρ`
    /// and `U` in `[0, 1]`.
    #[inline(always)]
    fn context_reads<const C: usize, const K: usize>(
        m: &[[Self; C]; K],
        m_bound: Self,
        u: &[[Self; C]; K],
        rho: &[Self; C],
    ) -> ([Self; K], [Self; K], Self) {
        let _ = m_bound;
        context_dots(m, u, rho)
    }
    /// The firing rate of a unit whose gained drive is `v`:
    /// `clamp((v − θ) × inv_span, 0, 1)` for `inv_span >= 0`. [`Fx`] gives 0
    /// at or below the threshold without the product (a product of a value
    /// at most 0 and one at least 0 rounds to at most 0); `f32` computes it,
    /// keeping the sign of a zero.
    #[inline(always)]
    fn rate_above(v: Self, theta: Self, inv_span: Self) -> Self {
        ((v - theta) * inv_span).clamp(Self::ZERO, Self::ONE)
    }
    /// The Euler loop of the GPR circuit, [`crate::basal_ganglia::Gpr::settle`];
    /// [`Fx`] runs it in plain `i32` when its bounds allow, bit for bit.
    #[inline(always)]
    fn gpr_settle<const M: usize>(
        gpr: &crate::basal_ganglia::Gpr<Self>,
        sal: &[Self; M],
        d2: &[Self; M],
        stn: &mut [Self; M],
        gpe: &mut [Self; M],
    ) {
        gpr.settle(sal, d2, stn, gpe)
    }
    /// `η · dz(a − b)` with `dz` the dead zone of half-width `eps` (the
    /// Hebbian drive of the cortex-to-thalamus memory). [`Fx`] skips the
    /// rails when all four lie in `[0, 2)`, where none can be reached.
    #[inline(always)]
    fn dead_zone_step(a: Self, b: Self, eps: Self, eta: Self) -> Self {
        let dv = a - b;
        let mag = (dv.abs() - eps).relu();
        let dz = if dv < Self::ZERO { -mag } else { mag };
        eta * dz
    }
    /// A bound `L >= 0` such that `keep × m == m` for every `|m| <= L`: a
    /// leak by `keep` leaves those values as they are (0 when unsure).
    #[inline(always)]
    fn leak_still(keep: Self) -> Self {
        let _ = keep;
        Self::ZERO
    }
    /// The loop of [`crate::thalamus::Thalamus::read`]
    /// ([`crate::thalamus::Thalamus::read_traces`]); [`Fx`] runs it in plain
    /// `i32` when its rates and traces lie in `[0, 1]`, bit for bit. `unit`
    /// must be true only when every weight of `w_rec` is at most 1.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn read_traces<const S: usize, const C: usize>(
        w_rec: &[[Self; S]; C],
        unit: bool,
        s: &[Self; S],
        nz: &[u16],
        kr: Self,
        kt: Self,
        rho: &mut [Self; C],
        rbar: &mut [Self; C],
        theta: &mut [Self; C],
    ) {
        crate::thalamus::Thalamus::<Self, S, C, 1>::read_traces(
            w_rec, unit, s, nz, kr, kt, rho, rbar, theta,
        )
    }
    /// The loop of [`crate::thalamus::Thalamus::learn_hebbian`]
    /// ([`crate::thalamus::Thalamus::hebbian`]); [`Fx`] runs it in plain
    /// `i32` when `0 <= keep <= 1` and `0 <= still <= bound`, bit for bit.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn hebbian<const C: usize, const K: usize>(
        m_hebb: &mut [[Self; C]; K],
        leaking: &mut [u8; C],
        rbar: &[Self; C],
        theta: &[Self; C],
        active: usize,
        eta_half: Self,
        eps: Self,
        keep: Self,
        bound: Self,
        still: Self,
    ) {
        crate::thalamus::Thalamus::<Self, 1, C, K>::hebbian(
            m_hebb, leaking, rbar, theta, active, eta_half, eps, keep, bound, still,
        )
    }
    /// One unit's row of Oja's rule, [`crate::cortex::Cortex::oja_row`];
    /// [`Fx`] runs it in plain `i32` when the bound, rate and input keep every
    /// intermediate off the rails, bit for bit (the weights lie within the
    /// bound, where cortex keeps them).
    #[inline(always)]
    fn oja_row<const S: usize>(
        row: &mut [Self; S],
        s: &[Self; S],
        k: Self,
        r: Self,
        bound: Self,
        dither: &mut impl FnMut() -> u32,
    ) {
        crate::cortex::Cortex::<Self, S, 1>::oja_row(row, s, k, r, bound, dither)
    }
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
const HALF: i32 = 1 << (FRAC - 1);

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

/// One column `i` of the Fx Hebbian update ([`Num::hebbian`]) with drive
/// `up`, leak `kp` (0 to 4096), bound `b >= 0` and still bound `0 <= still
/// <= b`. Returns 1 if the column then holds a weight beyond `±still`.
#[inline(always)]
fn hebbian_unit<const C: usize, const K: usize>(
    m_hebb: &mut [[Fx; C]; K],
    i: usize,
    up: Fx,
    active: usize,
    kp: i32,
    b: i32,
    still: i32,
) -> u8 {
    let (pos, neg) = (up.0 as i32, (-up).0 as i32);
    // (m + still) as u32 <= 2 still says |m| <= still.
    let span = (2 * still) as u32;
    let mut loud = false;
    if i >= C {
        return 0;
    }
    if pos == 0 {
        // The leak alone: it moves only the weights beyond ±still.
        for row in m_hebb.iter_mut() {
            let m = row[i].0 as i32;
            if (m + still) as u32 > span {
                // max/min, not clamp: b >= 0 (the caller's test), and no
                // panic path for the other order.
                let v = ((kp * m + HALF) >> FRAC).max(-b).min(b);
                row[i] = Fx(v as i16);
                loud |= (v + still) as u32 > span;
            }
        }
    } else {
        for (k, row) in m_hebb.iter_mut().enumerate() {
            let m = row[i].0 as i32;
            let h = if k == active { pos } else { neg };
            let v = (((kp * m + HALF) >> FRAC) + h).max(-b).min(b);
            row[i] = Fx(v as i16);
            loud |= (v + still) as u32 > span;
        }
    }
    loud as u8
}

/// The leak alone of column `i` ([`hebbian_unit`] with no drive), out of
/// line: the calm columns that leak are few, rarely more than one to a word
/// of flags.
#[inline(never)]
fn hebbian_leak<const C: usize, const K: usize>(
    m_hebb: &mut [[Fx; C]; K],
    i: usize,
    kp: i32,
    b: i32,
    still: i32,
) -> u8 {
    hebbian_unit(m_hebb, i, Fx::ZERO, 0, kp, b, still)
}

/// The leak of the calm columns among `flags` (the leak flags of columns
/// `base..`) that leak: [`hebbian_leak`] with `(kp, b, still)`.
#[inline(always)]
fn leak_calm<const C: usize, const K: usize>(
    m_hebb: &mut [[Fx; C]; K],
    flags: &mut [u8],
    base: usize,
    (rbar, theta): (&[Fx; C], &[Fx; C]),
    calm: &impl Fn(Fx, Fx) -> bool,
    (kp, b, still): (i32, i32, i32),
) {
    for (j, leak) in flags.iter_mut().enumerate() {
        let i = base + j;
        if *leak == 0 {
            continue;
        }
        if let (Some(&r), Some(&t)) = (rbar.get(i), theta.get(i)) {
            if calm(r, t) {
                *leak = hebbian_leak(m_hebb, i, kp, b, still);
            }
        }
    }
}

/// [`acc_at`] of every row of `rows` with `b`, each entry of `b` read once:
/// every row's sum takes its products in the same order.
#[inline(always)]
fn acc_rows<const L: usize, const R: usize>(
    rows: &[[Fx; L]; R],
    b: &[Fx; L],
    idx: &[u16],
) -> [i32; R] {
    let mut s = [0i32; R];
    for &i in idx {
        let i = i as usize;
        if i < L {
            let v = b[i].0 as i32;
            for r in 0..R {
                s[r] = s[r].saturating_add(rows[r][i].0 as i32 * v);
            }
        }
    }
    s
}

/// The read-outs of [`Num::context_reads`] by their definition: the three
/// dot products over the support of `rho`.
fn context_dots<N: Num, const C: usize, const K: usize>(
    m: &[[N; C]; K],
    u: &[[N; C]; K],
    rho: &[N; C],
) -> ([N; K], [N; K], N) {
    let nz = support(rho);
    (
        N::dots_at(m, rho, &nz),
        N::dots_shr_at(u, rho, &nz, 4),
        N::dot_shr_at(rho, rho, &nz, 4),
    )
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
    fn rate_above(v: Fx, theta: Fx, inv_span: Fx) -> Fx {
        if v <= theta {
            return Fx::ZERO;
        }
        Num::clamp((v - theta) * inv_span, Fx::ZERO, Fx::ONE)
    }
    #[inline(always)]
    fn gpr_settle<const M: usize>(
        gpr: &crate::basal_ganglia::Gpr<Fx>,
        sal: &[Fx; M],
        d2: &[Fx; M],
        stn: &mut [Fx; M],
        gpe: &mut [Fx; M],
    ) {
        if !gpr.settle_fx(sal, d2, stn, gpe) {
            gpr.settle(sal, d2, stn, gpe)
        }
    }
    #[inline(always)]
    fn context_reads<const C: usize, const K: usize>(
        m: &[[Fx; C]; K],
        m_bound: Fx,
        u: &[[Fx; C]; K],
        rho: &[Fx; C],
    ) -> ([Fx; K], [Fx; K], Fx) {
        // Every product of M and ρ lies within b·4096, every other within
        // 4096²: with C·max(b, 4096) <= 524287 no partial sum of C of them
        // reaches a rail of i32, and each saturating sum is the plain one.
        let b = m_bound.0 as i32;
        if b < 0 || C as u32 * b.max(1 << FRAC) as u32 > 524_287 {
            return context_dots(m, u, rho);
        }
        // Two passes (M with ρ·ρ, then U): fewer sums at a time, kept in
        // registers. A zero of ρ adds nothing: its units are skipped where
        // they are read, with no list of the others to build first.
        let (mut h, mut f, mut rr) = ([0i32; K], [0i32; K], 0i32);
        for (i, v) in rho.iter().enumerate() {
            let v = v.0 as i32;
            if v == 0 {
                continue;
            }
            debug_assert!((0..=1 << FRAC).contains(&v));
            rr = rr.wrapping_add(v * v);
            for (acc, row) in h.iter_mut().zip(m.iter()) {
                // (`i < C`: `get` spares a panic path the compiler keeps)
                if let Some(w) = row.get(i) {
                    debug_assert!(w.0 as i32 >= -b && w.0 as i32 <= b);
                    *acc = acc.wrapping_add(w.0 as i32 * v);
                }
            }
        }
        for (i, v) in rho.iter().enumerate() {
            let v = v.0 as i32;
            if v == 0 {
                continue;
            }
            for (acc, row) in f.iter_mut().zip(u.iter()) {
                debug_assert!((0..=1 << FRAC).contains(&(row[i].0 as i32)));
                *acc = acc.wrapping_add(row[i].0 as i32 * v);
            }
        }
        let shr4 = |s: i32| Fx::sat(s.saturating_add(1 << (FRAC + 3)) >> (FRAC + 4));
        // A one-entry dot_at is the one product, from_q24 of the same sum.
        (h.map(Fx::from_q24), f.map(shr4), shr4(rr))
    }
    #[inline(always)]
    fn dead_zone_step(a: Fx, b: Fx, eps: Fx, eta: Fx) -> Fx {
        let (x, y, e, k) = (a.0 as i32, b.0 as i32, eps.0 as i32, eta.0 as i32);
        if ((x | y | e | k) as u32) < 2 << FRAC {
            // |a − b| < 2, the dead zone within ±2, η dz within ±4: no rail.
            let dv = x - y;
            let mag = (dv.abs() - e).max(0);
            let dz = if dv < 0 { -mag } else { mag };
            Fx(((k * dz + HALF) >> FRAC) as i16)
        } else {
            let dv = a - b;
            let mag = (dv.abs() - eps).relu();
            let dz = if dv < Fx::ZERO { -mag } else { mag };
            eta * dz
        }
    }
    #[inline(always)]
    fn read_traces<const S: usize, const C: usize>(
        w_rec: &[[Fx; S]; C],
        unit: bool,
        s: &[Fx; S],
        nz: &[u16],
        kr: Fx,
        kt: Fx,
        rho: &mut [Fx; C],
        rbar: &mut [Fx; C],
        theta: &mut [Fx; C],
    ) {
        const ONE: i32 = 1 << FRAC;
        let (a, b) = (kr.0 as i32, kt.0 as i32);
        if !(0..=ONE).contains(&a) || !(0..=ONE).contains(&b) {
            return crate::thalamus::Thalamus::<Fx, S, C, 1>::read_traces(
                w_rec, unit, s, nz, kr, kt, rho, rbar, theta,
            );
        }
        // One input line (a cue): ρ is one product, rounded and clamped (the
        // rails of `sat` lie outside [0, 1]); none: ρ = 0.
        let one = match *nz {
            [j] if (j as usize) < S => Some((j as usize, s[j as usize].0 as i32)),
            _ => None,
        };
        // r̄ and θ lie in [0, 1] (the thalamus writes them only here, each a
        // mix of itself and ρ, and restore checks them), as do x and k:
        // every difference lies within ±1, every product within ±1, every
        // sum within [−1, 2]: no rail, and each saturating operation is the
        // plain one.
        // The rounding constant held in a register (the hint keeps the
        // compiler from folding it back into an immediate): each trace's
        // product and rounding then fuse into one multiply-accumulate.
        let half = core::hint::black_box(HALF);
        let mut update = |i: usize, x: i32| {
            rho[i] = Fx(x as i16);
            let (rb, th) = (rbar[i].0 as i32, theta[i].0 as i32);
            debug_assert!((0..=ONE).contains(&rb) && (0..=ONE).contains(&th));
            rbar[i] = Fx((rb + ((a * (x - rb) + half) >> FRAC)) as i16);
            theta[i] = Fx((th + ((b * (x - th) + half) >> FRAC)) as i16);
        };
        match one {
            // A cue of 1: w × 1 rounds to w, and with every weight at most
            // 1 (`unit`) only the clamp at 0 can act.
            Some((j, ONE)) if unit => {
                for i in 0..C {
                    update(i, (w_rec[i][j].0 as i32).max(0));
                }
            }
            Some((j, ONE)) => {
                for i in 0..C {
                    update(i, (w_rec[i][j].0 as i32).clamp(0, ONE));
                }
            }
            Some((j, v)) => {
                for i in 0..C {
                    update(i, ((w_rec[i][j].0 as i32 * v + HALF) >> FRAC).clamp(0, ONE));
                }
            }
            None if nz.is_empty() => {
                for i in 0..C {
                    update(i, 0);
                }
            }
            None => {
                for i in 0..C {
                    update(
                        i,
                        Num::clamp(Fx::dot_at(&w_rec[i], s, nz), Fx::ZERO, Fx::ONE).0 as i32,
                    );
                }
            }
        }
    }
    #[inline(always)]
    fn hebbian<const C: usize, const K: usize>(
        m_hebb: &mut [[Fx; C]; K],
        leaking: &mut [u8; C],
        rbar: &[Fx; C],
        theta: &[Fx; C],
        active: usize,
        eta_half: Fx,
        eps: Fx,
        keep: Fx,
        bound: Fx,
        still: Fx,
    ) {
        let (kp, b, e, st) = (keep.0 as i32, bound.0 as i32, eps.0 as i32, still.0 as i32);
        if !(0..=1 << FRAC).contains(&kp) || !(0..=b).contains(&st) || e < 0 {
            return crate::thalamus::Thalamus::<Fx, 1, C, K>::hebbian(
                m_hebb, leaking, rbar, theta, active, eta_half, eps, keep, bound, still,
            );
        }
        // keep m is within |m| (no rail); the saturating sum with the drive,
        // then the clamp to ±bound inside the rails, is the clamp of the sum.
        // Inside the dead zone (|r̄ − θ| <= eps, exact in i32) the drive is 0.
        let calm = |r: Fx, t: Fx| ((r.0 as i32 - t.0 as i32 + e) as u32) <= (2 * e) as u32;
        // The columns are independent (each update reads and writes only its
        // own column): any order gives the same weights. First the columns
        // outside the dead zone, found in a loop with no other test (few)...
        let mut stirred: Indices<C> = empty_list();
        for (i, (&r, &t)) in rbar.iter().zip(theta.iter()).enumerate() {
            if !calm(r, t) {
                let _ = stirred.push(i as u16); // a column at most once: never full
            }
        }
        for &i in stirred.iter() {
            let i = i as usize;
            let (Some(&r), Some(&t)) = (rbar.get(i), theta.get(i)) else {
                continue; // (indices below C)
            };
            let up = Fx::dead_zone_step(r, t, eps, eta_half);
            if let Some(leak) = leaking.get_mut(i) {
                *leak = hebbian_unit(m_hebb, i, up, active, kp, b, st);
            }
        }
        // ...then the calm columns that leak, their flags read four to a
        // word (most words are 0). A column just visited is not calm: none
        // is visited twice.
        let mut words = leaking.chunks_exact_mut(4);
        let mut base = 0;
        for w in &mut words {
            if u32::from_le_bytes([w[0], w[1], w[2], w[3]]) != 0 {
                leak_calm(m_hebb, w, base, (rbar, theta), &calm, (kp, b, st));
            }
            base += 4;
        }
        let rest = words.into_remainder();
        leak_calm(m_hebb, rest, base, (rbar, theta), &calm, (kp, b, st));
    }
    #[inline(always)]
    fn oja_row<const S: usize>(
        row: &mut [Fx; S],
        s: &[Fx; S],
        k: Fx,
        r: Fx,
        bound: Fx,
        dither: &mut impl FnMut() -> u32,
    ) {
        let (kk, rr, b) = (k.0 as i32, r.0 as i32, bound.0 as i32);
        if !(0..1 << 14).contains(&b)
            || !(0..=1 << FRAC).contains(&rr)
            || s.iter().any(|v| v.0 < -(1 << 14) || v.0 > 1 << 14)
        {
            return crate::cortex::Cortex::<Fx, S, 1>::oja_row(row, s, k, r, bound, dither);
        }
        // The weights lie within ±bound (cortex writes them only here and at
        // init, both within it, and restore checks them): |w r| < 2^14 and
        // |s| <= 2^14, so s − w r stays within the rails and k (s − w r)
        // within 2^30. A step beyond a rail takes w past the bound (< 2^14)
        // all the same: the clamp gives the bound.
        for j in 0..S {
            let d = dither();
            let w = row[j].0 as i32;
            debug_assert!(w >= -b && w <= b);
            let x = s[j].0 as i32 - ((w * rr + HALF) >> FRAC);
            let dw = (kk * x + (d & ((1 << FRAC) - 1)) as i32) >> FRAC;
            row[j] = Fx((w + dw).clamp(-b, b) as i16);
        }
    }
    fn leak_still(keep: Fx) -> Fx {
        // keep m rounds back to m, for 0 <= keep <= 1, when (1 - keep) |m|
        // stays under half an LSB: q |m| <= 2047 with q = 4096 - keep (both
        // signs; round half up). The largest such |m|, without dividing (a
        // division is a library call on a Cortex-M0, and the step has none).
        let q = (1 << FRAC) - keep.0 as i32;
        if keep.0 < 0 || q < 0 {
            return Fx::ZERO;
        }
        if q == 0 {
            return Fx::MAX;
        }
        let mut l = 0i32;
        let mut bit = 1 << 10;
        while bit > 0 {
            if q * (l + bit) < HALF {
                l += bit;
            }
            bit >>= 1;
        }
        Fx(l as i16)
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
    fn dots_at<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        idx: &[u16],
    ) -> [Fx; R] {
        // A one-entry dot_at is the one product, from_q24 of the same sum.
        acc_rows(rows, b, idx).map(Fx::from_q24)
    }
    #[inline(always)]
    fn dots_one<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        j: u16,
        out: &mut [Fx; R],
    ) {
        let j = j as usize;
        if j >= L {
            *out = [Fx::ZERO; R]; // an index past the end is skipped: an empty sum
            return;
        }
        let v = b[j];
        if v == Fx::ONE {
            // w × 1 rounds to w, within the rails: the column itself.
            for (o, row) in out.iter_mut().zip(rows.iter()) {
                *o = row[j];
            }
        } else {
            for (o, row) in out.iter_mut().zip(rows.iter()) {
                *o = row[j] * v; // one product: the same rounding as dot_at
            }
        }
    }
    #[inline(always)]
    fn dots_shr_at<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        idx: &[u16],
        k: u32,
    ) -> [Fx; R] {
        acc_rows(rows, b, idx).map(|s| Fx::sat(s.saturating_add(1 << (FRAC + k - 1)) >> (FRAC + k)))
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
}

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
    fn dead_zone_step_is_exact() {
        let mut rng = crate::rng::Rng::seed(9);
        let pick = |bits: u32| -> Fx {
            if bits % 5 == 0 {
                Fx((bits >> 16) as u16 as i16)
            } else {
                Fx(((bits >> 16) % 8200) as i16)
            }
        };
        for _ in 0..300_000 {
            let (a, b, e, k) = (
                pick(rng.next()),
                pick(rng.next()),
                pick(rng.next()),
                pick(rng.next()),
            );
            let dv = a - b;
            let mag = (dv.abs() - e).relu();
            let dz = if dv < Fx::ZERO { -mag } else { mag };
            assert_eq!(
                Fx::dead_zone_step(a, b, e, k),
                k * dz,
                "{a:?} {b:?} {e:?} {k:?}"
            );
        }
    }

    #[test]
    fn dots_at_are_the_row_dots() {
        let mut rng = crate::rng::Rng::seed(10);
        let pick = |bits: u32| -> Fx {
            match bits % 4 {
                0 => Fx((bits >> 16) as u16 as i16),
                1 => Fx::ZERO,
                _ => Fx(((bits >> 16) % 8193) as i16 - 4096),
            }
        };
        for n in 0..50_000 {
            let rows: [[Fx; 12]; 4] =
                core::array::from_fn(|_| core::array::from_fn(|_| pick(rng.next())));
            let b: [Fx; 12] = core::array::from_fn(|_| pick(rng.next()));
            let mut idx = support(&b);
            if n % 5 == 0 && !idx.is_empty() {
                idx[0] = 20; // an index past the end is skipped by both
            }
            let idx = idx.as_slice();
            let k = (n % 5) as u32;
            let want: [Fx; 4] = core::array::from_fn(|r| Fx::dot_at(&rows[r], &b, idx));
            assert_eq!(Fx::dots_at(&rows, &b, idx), want);
            let want: [Fx; 4] = core::array::from_fn(|r| Fx::dot_shr_at(&rows[r], &b, idx, k));
            assert_eq!(Fx::dots_shr_at(&rows, &b, idx, k), want);
        }
    }

    #[test]
    fn rate_above_is_the_clamped_product() {
        let mut rng = crate::rng::Rng::seed(32);
        for n in 0..200_000 {
            let (v, theta) = (Fx(rng.next() as i16), Fx(rng.next() as i16));
            // inv_span >= 0, the only use; small ones round products to 0.
            let inv = if n % 3 == 0 {
                Fx((rng.next() % 64) as i16)
            } else {
                pick_in(&mut rng, 0, 32767)
            };
            let want = Num::clamp((v - theta) * inv, Fx::ZERO, Fx::ONE);
            assert_eq!(
                Fx::rate_above(v, theta, inv),
                want,
                "{v:?} {theta:?} {inv:?}"
            );
        }
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
    fn context_reads_are_the_three_dots() {
        let mut rng = crate::rng::Rng::seed(12);
        for n in 0..50_000 {
            // Within the thalamus's bounds: |M| <= b, ρ and U in [0, 1];
            // some bounds and supports too large for the plain sums.
            let b = match n % 3 {
                0 => pick_in(&mut rng, 0, 8192),
                1 => Fx(16384),
                _ => Fx(32767),
            };
            let bb = b.0 as i32;
            let m: [[Fx; 40]; 4] =
                core::array::from_fn(|_| core::array::from_fn(|_| pick_in(&mut rng, -bb, bb)));
            let u: [[Fx; 40]; 4] =
                core::array::from_fn(|_| core::array::from_fn(|_| pick_in(&mut rng, 0, 4096)));
            let rho: [Fx; 40] = core::array::from_fn(|_| {
                if rng.next() % 3 == 0 {
                    Fx::ZERO
                } else {
                    pick_in(&mut rng, 0, 4096)
                }
            });
            // The definition: the dots over the support of ρ.
            let idx = support(&rho);
            let k = idx.len();
            let want = (
                Fx::dots_at(&m, &rho, &idx),
                Fx::dots_shr_at(&u, &rho, &idx, 4),
                Fx::dot_shr_at(&rho, &rho, &idx, 4),
            );
            assert_eq!(Fx::context_reads(&m, b, &u, &rho), want, "{b:?} {k}");
            // The generic form computes the same (it reads the support too).
            let generic = (
                Fx::dots_at(&m, &rho, &support(&rho)),
                Fx::dots_shr_at(&u, &rho, &support(&rho), 4),
                Fx::dot_shr_at(&rho, &rho, &support(&rho), 4),
            );
            assert_eq!(generic, want);
        }
    }

    /// A raw value uniform in `[lo, hi]`.
    fn pick_in(rng: &mut crate::rng::Rng, lo: i32, hi: i32) -> Fx {
        Fx((lo + (rng.next() % (hi - lo + 1) as u32) as i32) as i16)
    }

    #[test]
    fn dots_one_are_the_one_entry_dots() {
        let mut rng = crate::rng::Rng::seed(13);
        for n in 0..50_000u32 {
            let rows: [[Fx; 8]; 6] =
                core::array::from_fn(|_| core::array::from_fn(|_| pick(&mut rng, -8192, 8192)));
            let mut b: [Fx; 8] = core::array::from_fn(|_| pick(&mut rng, -4096, 4096));
            let j = (n % 9) as u16; // 8 is past the end
            if n % 2 == 0 && j < 8 {
                b[j as usize] = Fx::ONE;
            }
            let mut out = [Fx::MAX; 6];
            Fx::dots_one(&rows, &b, j, &mut out);
            let want: [Fx; 6] = core::array::from_fn(|r| Fx::dot_at(&rows[r], &b, &[j]));
            assert_eq!(out, want);
        }
    }

    #[test]
    fn leak_still_is_exact() {
        for keep in (0..=4096).step_by(7).chain([2048, 4014, 4095, 4096]) {
            let keep = Fx(keep as i16);
            let l = Fx::leak_still(keep).0 as i32;
            for m in -l..=l {
                assert_eq!(keep * Fx(m as i16), Fx(m as i16), "keep {keep:?} m {m}");
            }
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
