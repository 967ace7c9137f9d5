//! Kernels: the model's inner loops, each written twice.
//!
//! A kernel is a loop of the step that the structures call through the
//! trait [`Kernels`]: its reference definition is a plain generic function
//! of this module (the trait's default method calls it; `f32` and any other
//! number type use it), and [`Fx`] has a fast fixed-point form beside it
//! that computes the same values bit for bit (in plain `i32` where the
//! bounds the model keeps prove that no rail is reached, or reading fewer
//! entries), with a test that compares the two. The reference trace pins the
//! agreement over a whole run too: `tests/tests/pinned.rs` runs a number type
//! whose kernels are all the reference definitions.
//!
//! The kernels know nothing of the structures that call them: they take
//! arrays and scalars.
//!
//! ```
//! use tcbg::{kernels::Kernels, Fx, Num};
//! let rows = [[Fx::ONE, Fx::ZERO], [Fx::from_f32(0.5), Fx::ONE]];
//! let b = [Fx::from_f32(0.5), Fx::ZERO];
//! // The dot of each row with `b` over its nonzero entry 0.
//! assert_eq!(Fx::dots_at(&rows, &b, &[0]), [Fx::from_f32(0.5), Fx::from_f32(0.25)]);
//! assert_eq!(f32::dots_at(&[[1.0, 0.0], [0.5, 1.0]], &[0.5, 0.0], &[0]), [0.5, 0.25]);
//! ```

use crate::fixed::{empty_list, support, Fx, Indices, Num, FRAC, HALF};

/// The model's kernels over a number type. Every default method is the
/// reference definition (the plain function of the same name in this
/// module); [`Fx`] overrides each with its fast form, bit for bit the same.
pub trait Kernels: Num {
    /// [`Num::dot_at`] of every row of `rows` with `b`; [`Fx`] reads each
    /// entry of `b` once for all rows (the same sums, bit for bit).
    #[inline(always)]
    fn dots_at<const L: usize, const R: usize>(
        rows: &[[Self; L]; R],
        b: &[Self; L],
        idx: &[u16],
    ) -> [Self; R] {
        dots_at(rows, b, idx)
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
        dots_one(rows, b, j, out)
    }
    /// [`Num::dot_shr_at`] of every row of `rows` with `b` (see [`Kernels::dots_at`]).
    #[inline(always)]
    fn dots_shr_at<const L: usize, const R: usize>(
        rows: &[[Self; L]; R],
        b: &[Self; L],
        idx: &[u16],
        k: u32,
    ) -> [Self; R] {
        dots_shr_at(rows, b, idx, k)
    }
    /// The thalamic read-outs of context selection: `(M ρ, U ρ / 16, ρ·ρ /
    /// 16)`, that is [`Kernels::dots_at`], [`Kernels::dots_shr_at`] and
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
        context_reads(m, m_bound, u, rho)
    }
    /// The firing rate of a unit whose gained drive is `v`:
    /// `clamp((v − θ) × inv_span, 0, 1)` for `inv_span >= 0`. [`Fx`] gives 0
    /// at or below the threshold without the product (a product of a value
    /// at most 0 and one at least 0 rounds to at most 0); `f32` computes it,
    /// keeping the sign of a zero.
    #[inline(always)]
    fn rate_above(v: Self, theta: Self, inv_span: Self) -> Self {
        rate_above(v, theta, inv_span)
    }
    /// `η · dz(a − b)` with `dz` the dead zone of half-width `eps` (the
    /// Hebbian drive of the cortex-to-thalamus memory). [`Fx`] skips the
    /// rails when all four lie in `[0, 2)`, where none can be reached.
    #[inline(always)]
    fn dead_zone_step(a: Self, b: Self, eps: Self, eta: Self) -> Self {
        dead_zone_step(a, b, eps, eta)
    }
    /// A bound `L >= 0` such that `keep × m == m` for every `|m| <= L`: a
    /// leak by `keep` leaves those values as they are (0 when unsure).
    #[inline(always)]
    fn leak_still(keep: Self) -> Self {
        leak_still(keep)
    }
    /// The loop of the thalamic read (`thalamus::Thalamus::read`);
    /// [`Fx`] runs it in plain `i32` when its rates and traces lie in
    /// `[0, 1]`, bit for bit. `unit` must be true only when every weight of
    /// `w_rec` is at most 1 ([`w_rec_unit`]).
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
        read_traces(w_rec, unit, s, nz, kr, kt, rho, rbar, theta)
    }
    /// The loop of the thalamus's Hebbian update
    /// (`thalamus::Thalamus::learn_hebbian`); [`Fx`] runs it in
    /// plain `i32` when `0 <= keep <= 1` and `0 <= still <= bound`, bit for
    /// bit.
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
        hebbian(
            m_hebb, leaking, rbar, theta, active, eta_half, eps, keep, bound, still,
        )
    }
    /// `(x 2^e, e)` for the least `e` (at most 15) that lifts `x > 0` to at
    /// least `half` (the mantissa of a logarithm, `basal_ganglia::LnTable`);
    /// `half` lies in `(0, 1)`. [`Fx`] finds `e` from the leading zeros when
    /// `half` is a power of two.
    #[inline(always)]
    fn doublings(x: Self, half: Self) -> (Self, u8) {
        doublings(x, half)
    }
    /// The beliefs' update of the context channels
    /// (`basal_ganglia::ContextChannels::learn_belief`): each belief, raised
    /// to `floor`, adds `ln` of its likelihood (the table `t` of
    /// `basal_ganglia::LnTable`, see [`ln_table`]); then every belief is
    /// taken relative to the best, at least `lo`. Returns the best before
    /// that (what every belief came down by) and `ln` of one more
    /// likelihood, `other` (a new rule's). [`Fx`] computes it in `i32`,
    /// rounding and saturating where the reference does.
    #[inline(always)]
    fn learn_belief<const K: usize>(
        belief: &mut [Self; K],
        lik: &[Self; K],
        other: Self,
        (floor, lo): (Self, Self),
        t: &[Self; 16],
    ) -> (Self, Self) {
        learn_belief(belief, lik, other, (floor, lo), t)
    }
    /// One unit's row of Oja's rule (`cortex::Cortex::learn_at`);
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
        oja_row(row, s, k, r, bound, dither)
    }
}

/// The `f32` oracle: every kernel at its reference definition.
impl Kernels for f32 {}

/// [`Fx`]: every kernel in its fast form (see each one's reference).
impl Kernels for Fx {
    #[inline(always)]
    fn dots_at<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        idx: &[u16],
    ) -> [Fx; R] {
        dots_at_fx(rows, b, idx)
    }
    #[inline(always)]
    fn dots_one<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        j: u16,
        out: &mut [Fx; R],
    ) {
        dots_one_fx(rows, b, j, out)
    }
    #[inline(always)]
    fn dots_shr_at<const L: usize, const R: usize>(
        rows: &[[Fx; L]; R],
        b: &[Fx; L],
        idx: &[u16],
        k: u32,
    ) -> [Fx; R] {
        dots_shr_at_fx(rows, b, idx, k)
    }
    #[inline(always)]
    fn context_reads<const C: usize, const K: usize>(
        m: &[[Fx; C]; K],
        m_bound: Fx,
        u: &[[Fx; C]; K],
        rho: &[Fx; C],
    ) -> ([Fx; K], [Fx; K], Fx) {
        context_reads_fx(m, m_bound, u, rho)
    }
    #[inline(always)]
    fn rate_above(v: Fx, theta: Fx, inv_span: Fx) -> Fx {
        rate_above_fx(v, theta, inv_span)
    }
    #[inline(always)]
    fn dead_zone_step(a: Fx, b: Fx, eps: Fx, eta: Fx) -> Fx {
        dead_zone_step_fx(a, b, eps, eta)
    }
    fn leak_still(keep: Fx) -> Fx {
        leak_still_fx(keep)
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
        read_traces_fx(w_rec, unit, s, nz, kr, kt, rho, rbar, theta)
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
        hebbian_fx(
            m_hebb, leaking, rbar, theta, active, eta_half, eps, keep, bound, still,
        )
    }
    #[inline(always)]
    fn doublings(x: Fx, half: Fx) -> (Fx, u8) {
        doublings_fx(x, half)
    }
    #[inline(always)]
    fn learn_belief<const K: usize>(
        belief: &mut [Fx; K],
        lik: &[Fx; K],
        other: Fx,
        (floor, lo): (Fx, Fx),
        t: &[Fx; 16],
    ) -> (Fx, Fx) {
        learn_belief_fx(belief, lik, other, (floor, lo), t)
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
        oja_row_fx(row, s, k, r, bound, dither)
    }
}

// ------------------------------------------------------------ dot products

/// The reference of [`Kernels::dots_at`]: [`Num::dot_at`] of every row.
#[inline(always)]
pub fn dots_at<N: Num, const L: usize, const R: usize>(
    rows: &[[N; L]; R],
    b: &[N; L],
    idx: &[u16],
) -> [N; R] {
    core::array::from_fn(|r| N::dot_at(&rows[r], b, idx))
}

/// The fast form of [`Kernels::dots_at`].
#[inline(always)]
fn dots_at_fx<const L: usize, const R: usize>(
    rows: &[[Fx; L]; R],
    b: &[Fx; L],
    idx: &[u16],
) -> [Fx; R] {
    // A one-entry dot_at is the one product, from_q24 of the same sum.
    acc_rows(rows, b, idx).map(Fx::from_q24)
}

/// The reference of [`Kernels::dots_one`]: [`Num::dot_at`] of every row
/// over the one entry `j`.
#[inline(always)]
pub fn dots_one<N: Num, const L: usize, const R: usize>(
    rows: &[[N; L]; R],
    b: &[N; L],
    j: u16,
    out: &mut [N; R],
) {
    for (o, row) in out.iter_mut().zip(rows.iter()) {
        *o = N::dot_at(row, b, &[j]);
    }
}

/// The fast form of [`Kernels::dots_one`].
#[inline(always)]
fn dots_one_fx<const L: usize, const R: usize>(
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

/// The reference of [`Kernels::dots_shr_at`]: [`Num::dot_shr_at`] of every row.
#[inline(always)]
pub fn dots_shr_at<N: Num, const L: usize, const R: usize>(
    rows: &[[N; L]; R],
    b: &[N; L],
    idx: &[u16],
    k: u32,
) -> [N; R] {
    core::array::from_fn(|r| N::dot_shr_at(&rows[r], b, idx, k))
}

/// The fast form of [`Kernels::dots_shr_at`].
#[inline(always)]
fn dots_shr_at_fx<const L: usize, const R: usize>(
    rows: &[[Fx; L]; R],
    b: &[Fx; L],
    idx: &[u16],
    k: u32,
) -> [Fx; R] {
    acc_rows(rows, b, idx).map(|s| Fx::sat(s.saturating_add(1 << (FRAC + k - 1)) >> (FRAC + k)))
}

/// The `i32` sums of [`Num::dot_at`] of every row of `rows` with `b` ([`Fx`]),
/// each entry of `b` read once: every row's sum takes its products in the
/// same order.
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

/// The reference of [`Kernels::context_reads`]: the three dot products over
/// the support of `rho` (`m_bound` is a hint for the fast form).
pub fn context_reads<N: Kernels, const C: usize, const K: usize>(
    m: &[[N; C]; K],
    m_bound: N,
    u: &[[N; C]; K],
    rho: &[N; C],
) -> ([N; K], [N; K], N) {
    let _ = m_bound;
    let nz = support(rho);
    (
        N::dots_at(m, rho, &nz),
        N::dots_shr_at(u, rho, &nz, 4),
        N::dot_shr_at(rho, rho, &nz, 4),
    )
}

/// The fast form of [`Kernels::context_reads`].
#[inline(always)]
fn context_reads_fx<const C: usize, const K: usize>(
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
        return context_reads(m, m_bound, u, rho);
    }
    // Three passes (M, then U, then ρ·ρ): fewer sums at a time, kept in
    // registers. A zero of ρ adds nothing: in the first two its units are
    // skipped where they are read, with no list of the others to build
    // first; ρ·ρ reads every unit, with no test (a fifth sum in the first
    // pass made the compiler spill and give up the unrolled skip).
    debug_assert!(m.iter().flatten().all(|w| (-b..=b).contains(&(w.0 as i32))));
    debug_assert!(u
        .iter()
        .flatten()
        .all(|w| (0..=1 << FRAC).contains(&(w.0 as i32))));
    let h = acc_nonzero(m, rho);
    let f = acc_nonzero(u, rho);
    let mut rr = 0i32;
    for v in rho.iter() {
        debug_assert!((0..=1 << FRAC).contains(&(v.0 as i32)));
        rr = rr.wrapping_add(v.0 as i32 * v.0 as i32);
    }
    let shr4 = |s: i32| Fx::sat(s.saturating_add(1 << (FRAC + 3)) >> (FRAC + 4));
    // A one-entry dot_at is the one product, from_q24 of the same sum.
    (h.map(Fx::from_q24), f.map(shr4), shr4(rr))
}

/// The plain `i32` sums `rows · v` over the nonzero entries of `v`, for
/// [`context_reads_fx`], which proves that none wraps.
#[inline(always)]
fn acc_nonzero<const C: usize, const K: usize>(rows: &[[Fx; C]; K], v: &[Fx; C]) -> [i32; K] {
    let mut s = [0i32; K];
    for (i, x) in v.iter().enumerate() {
        let x = x.0 as i32;
        if x == 0 {
            continue;
        }
        for (acc, row) in s.iter_mut().zip(rows.iter()) {
            *acc = acc.wrapping_add(row[i].0 as i32 * x);
        }
    }
    s
}

// ------------------------------------------------------- basal ganglia

/// The reference of [`Kernels::doublings`].
#[inline(always)]
pub fn doublings<N: Num>(x: N, half: N) -> (N, u8) {
    let (mut m, mut e) = (x, 0u8);
    while m < half && e < 15 {
        m = m + m;
        e += 1;
    }
    (m, e)
}

/// The fast form of [`Kernels::doublings`].
#[inline(always)]
fn doublings_fx(x: Fx, half: Fx) -> (Fx, u8) {
    let (v, h) = (x.0 as i32, half.0 as i32);
    // 0 < x < half < 1, half a power of two: the doublings shift x's top bit
    // up to half's, and none saturates (each stays below one).
    if v <= 0 || h <= 0 || h & (h - 1) != 0 || h > 1 << FRAC {
        return doublings(x, half);
    }
    if v >= h {
        return (x, 0);
    }
    let e = (v as u32).leading_zeros() - (h as u32).leading_zeros();
    (Fx((v << e) as i16), e as u8)
}

/// `ln x` from the table `t` of `basal_ganglia::LnTable`: the knots
/// (`LIK_MIN`, 0.5, 0.7, 1), `ln 0.5`, `ln 0.7`, the two slopes, and `e ln 2`
/// for `e` = 0 to 7. `x` is limited to `[t[0], t[3]]`, doubled `e` times
/// into `[0.5, 1]` ([`Kernels::doublings`]), and read on the two pieces.
#[inline(always)]
pub fn ln_table<N: Kernels>(x: N, t: &[N; 16]) -> N {
    let (m, e) = N::doublings(x.clamp(t[0], t[3]), t[1]);
    let y = if m < t[2] {
        t[4] + t[6] * (m - t[1])
    } else {
        t[5] + t[7] * (m - t[2])
    };
    y - t[8 + (e as usize).min(7)]
}

/// The reference of [`Kernels::learn_belief`].
#[inline(always)]
pub fn learn_belief<N: Kernels, const K: usize>(
    belief: &mut [N; K],
    lik: &[N; K],
    other: N,
    (floor, lo): (N, N),
    t: &[N; 16],
) -> (N, N) {
    let mut best = N::MIN;
    for (b, &l) in belief.iter_mut().zip(lik.iter()) {
        *b = b.max(floor) + ln_table(l, t);
        best = best.max(*b);
    }
    for b in belief.iter_mut() {
        *b = (*b - best).max(lo);
    }
    (best, ln_table(other, t))
}

/// The fast form of [`Kernels::learn_belief`].
#[inline(always)]
fn learn_belief_fx<const K: usize>(
    belief: &mut [Fx; K],
    lik: &[Fx; K],
    other: Fx,
    (floor, lo): (Fx, Fx),
    t: &[Fx; 16],
) -> (Fx, Fx) {
    // Saturation as the reference's (`i16` rails), by plain comparisons.
    #[inline(always)]
    fn sat(v: i32) -> i32 {
        v.clamp(i16::MIN as i32, i16::MAX as i32)
    }
    let r = |i: usize| t[i].0 as i32;
    let (x_lo, half, x_hi) = (r(0), r(1), r(3));
    // The doublings by one shift need `0 < x` and `half` a power of two
    // at most one (as `LnTable` builds it); any other table takes the
    // reference.
    if x_lo <= 0 || half <= 0 || half & (half - 1) != 0 || half > 1 << FRAC {
        return learn_belief(belief, lik, other, (floor, lo), t);
    }
    let half_lz = (half as u32).leading_zeros();
    let ln = |x: i32| -> i32 {
        // `x` doubled into `[half, 2 half)` (`doublings`), `e` times.
        let (m, e) = if x >= half {
            (x, 0)
        } else {
            let e = (x as u32).leading_zeros() - half_lz;
            (x << e, e as usize)
        };
        let (base, slope, knot) = if m < r(2) {
            (r(4), r(6), r(1))
        } else {
            (r(5), r(7), r(2))
        };
        let y = sat(base + sat(sat((slope * sat(m - knot) + HALF) >> FRAC)));
        sat(y - r(8 + e.min(7)))
    };
    let (floor, lo) = (floor.0 as i32, lo.0 as i32);
    let mut best = i16::MIN as i32;
    // Functions that predict alike (every fresh one, every established one
    // sure of its choice) share one `ln`: the last two are kept.
    let mut memo = [(i32::MIN, 0i32); 2];
    let mut ln_memo = |l: Fx| {
        // (by comparisons: `clamp` of a table's knots has a panic path)
        let x = (l.0 as i32).max(x_lo).min(x_hi);
        if x == memo[0].0 {
            memo[0].1
        } else if x == memo[1].0 {
            memo[1].1
        } else {
            let v = ln(x);
            memo = [(x, v), memo[0]];
            v
        }
    };
    for (b, &l) in belief.iter_mut().zip(lik.iter()) {
        let v = sat((b.0 as i32).max(floor) + ln_memo(l));
        *b = Fx(v as i16);
        best = best.max(v);
    }
    // A new rule guesses as every fresh function does: mostly a memo hit.
    let ln_other = ln_memo(other);
    for b in belief.iter_mut() {
        *b = Fx(sat(b.0 as i32 - best).max(lo) as i16);
    }
    (Fx(best as i16), Fx(ln_other as i16)) // (`i16`s already: `sat`)
}

// ------------------------------------------------------------------ cortex

/// The reference of [`Kernels::rate_above`].
#[inline(always)]
pub fn rate_above<N: Num>(v: N, theta: N, inv_span: N) -> N {
    ((v - theta) * inv_span).clamp(N::ZERO, N::ONE)
}

/// The fast form of [`Kernels::rate_above`].
#[inline(always)]
fn rate_above_fx(v: Fx, theta: Fx, inv_span: Fx) -> Fx {
    if v <= theta {
        return Fx::ZERO;
    }
    Num::clamp((v - theta) * inv_span, Fx::ZERO, Fx::ONE)
}

/// The reference of [`Kernels::oja_row`]: `w_j ← clamp(w_j + k (s_j − w_j
/// r), ±bound)`, one dither per weight in order.
pub fn oja_row<N: Num, const S: usize>(
    row: &mut [N; S],
    s: &[N; S],
    k: N,
    r: N,
    bound: N,
    dither: &mut impl FnMut() -> u32,
) {
    for j in 0..S {
        let w = row[j];
        let dw = k.mul_sr(s[j] - w * r, dither());
        row[j] = (w + dw).clamp(-bound, bound);
    }
}

/// The fast form of [`Kernels::oja_row`].
#[inline(always)]
fn oja_row_fx<const S: usize>(
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
        return oja_row(row, s, k, r, bound, dither);
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

// ---------------------------------------------------------------- thalamus

/// The reference of [`Kernels::read_traces`]: `ρ_i = clamp(W_rec[i]·s, 0,
/// 1)` over the support `nz` of `s`, and `r̄ += kr (ρ − r̄)`, `θ += kt (ρ −
/// θ)`. `unit` says every weight of `w_rec` is at most 1 (this form clamps
/// all the same).
#[allow(clippy::too_many_arguments)]
pub fn read_traces<N: Num, const S: usize, const C: usize>(
    w_rec: &[[N; S]; C],
    unit: bool,
    s: &[N; S],
    nz: &[u16],
    kr: N,
    kt: N,
    rho: &mut [N; C],
    rbar: &mut [N; C],
    theta: &mut [N; C],
) {
    let _ = unit; // a hint for the fixed-point loop
    for i in 0..C {
        let r = N::dot_at(&w_rec[i], s, nz).clamp(N::ZERO, N::ONE);
        rho[i] = r;
        rbar[i] = rbar[i] + kr * (r - rbar[i]);
        theta[i] = theta[i] + kt * (r - theta[i]);
    }
}

/// The fast form of [`Kernels::read_traces`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn read_traces_fx<const S: usize, const C: usize>(
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
        return read_traces(w_rec, unit, s, nz, kr, kt, rho, rbar, theta);
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

/// Whether every weight of `w_rec` is at most 1 (the hint `unit` of
/// [`Kernels::read_traces`]).
pub fn w_rec_unit<N: Num, const S: usize, const C: usize>(w_rec: &[[N; S]; C]) -> bool {
    w_rec.iter().flatten().all(|&w| w <= N::ONE)
}

/// The reference of [`Kernels::dead_zone_step`].
#[inline(always)]
pub fn dead_zone_step<N: Num>(a: N, b: N, eps: N, eta: N) -> N {
    let dv = a - b;
    let mag = (dv.abs() - eps).relu();
    let dz = if dv < N::ZERO { -mag } else { mag };
    eta * dz
}

/// The fast form of [`Kernels::dead_zone_step`].
#[inline(always)]
fn dead_zone_step_fx(a: Fx, b: Fx, eps: Fx, eta: Fx) -> Fx {
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

/// The reference of [`Kernels::leak_still`]: 0 (always safe).
#[inline(always)]
pub fn leak_still<N: Num>(keep: N) -> N {
    let _ = keep;
    N::ZERO
}

/// The fast form of [`Kernels::leak_still`].
fn leak_still_fx(keep: Fx) -> Fx {
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

/// The reference of [`Kernels::hebbian`], the update of the
/// cortex-to-thalamus memory `M`: `M ← keep M + η (m_k − ½) dz(r̄ − θ)`,
/// with `active` the active control function and `dz` the dead zone of
/// half-width `eps`, clamped to `±bound`. A column with no drive and no
/// weight beyond `±still` (`leaking` 0) has nothing to learn or leak;
/// `leaking` follows every column written ([`leaking_columns`]).
#[allow(clippy::too_many_arguments)]
pub fn hebbian<N: Kernels, const C: usize, const K: usize>(
    m_hebb: &mut [[N; C]; K],
    leaking: &mut [u8; C],
    rbar: &[N; C],
    theta: &[N; C],
    active: usize,
    eta_half: N,
    eps: N,
    keep: N,
    bound: N,
    still: N,
) {
    for i in 0..C {
        let up = N::dead_zone_step(rbar[i], theta[i], eps, eta_half);
        if up == N::ZERO && leaking[i] == 0 {
            continue; // nothing to learn and nothing to leak: most columns, most steps
        }
        let mut loud = false;
        for k in 0..K {
            let m = m_hebb[k][i];
            if up != N::ZERO || beyond_still(m, still) {
                let hebb = if k == active { up } else { -up };
                m_hebb[k][i] = (keep * m + hebb).clamp(-bound, bound);
            }
            loud |= beyond_still(m_hebb[k][i], still);
        }
        leaking[i] = loud as u8;
    }
}

/// Whether the leak moves `m`: it lies beyond `±still` (or is NaN).
pub fn beyond_still<N: Num>(m: N, still: N) -> bool {
    !(m >= -still && m <= still)
}

/// Per column of `m`, 1 if it holds a weight beyond `±still` (or NaN), else
/// 0: the flags `leaking` of [`Kernels::hebbian`].
pub fn leaking_columns<N: Num, const C: usize, const K: usize>(
    m: &[[N; C]; K],
    still: N,
) -> [u8; C] {
    core::array::from_fn(|i| m.iter().any(|row| beyond_still(row[i], still)) as u8)
}

/// The fast form of [`Kernels::hebbian`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn hebbian_fx<const C: usize, const K: usize>(
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
        return hebbian(
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

/// One column `i` of the Fx Hebbian update ([`hebbian_fx`]) with drive
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::pick;
    use crate::rng::Rng;

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
            assert_eq!(dead_zone_step(a, b, e, k), k * dz); // the reference
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
            assert_eq!(dots_at(&rows, &b, idx), want); // the reference
            let want: [Fx; 4] = core::array::from_fn(|r| Fx::dot_shr_at(&rows[r], &b, idx, k));
            assert_eq!(Fx::dots_shr_at(&rows, &b, idx, k), want);
            assert_eq!(dots_shr_at(&rows, &b, idx, k), want);
        }
    }

    #[test]
    fn learn_belief_is_the_reference() {
        let mut rng = crate::rng::Rng::seed(91);
        let t = crate::basal_ganglia::LnTable::<Fx>::new().table();
        for n in 0..100_000 {
            let mut a: [Fx; 4] = core::array::from_fn(|_| pick_in(&mut rng, -32768, 0));
            let lik: [Fx; 4] = core::array::from_fn(|_| {
                if n % 5 == 0 {
                    Fx(rng.next() as i16)
                } else {
                    pick_in(&mut rng, 0, 4096)
                }
            });
            let floor = pick_in(&mut rng, -32768, 0);
            let lo = pick_in(&mut rng, -32768, 0);
            let mut b = a;
            let other = pick_in(&mut rng, 0, 4096);
            let best_a = Fx::learn_belief(&mut a, &lik, other, (floor, lo), &t);
            let best_b = learn_belief(&mut b, &lik, other, (floor, lo), &t);
            assert_eq!(a, b, "{n} {lik:?} {floor:?} {lo:?}");
            assert_eq!(best_a, best_b, "{n} {lik:?} {floor:?} {lo:?}");
        }
    }

    #[test]
    fn doublings_are_the_loop() {
        for half in [
            Fx::from_f32(0.5),
            Fx::from_f32(0.25),
            Fx::from_f32(0.3),
            Fx::ONE,
        ] {
            for v in i16::MIN..=i16::MAX {
                let x = Fx(v);
                assert_eq!(Fx::doublings(x, half), doublings(x, half), "{v} {half:?}");
            }
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
            assert_eq!(rate_above(v, theta, inv), want); // the reference
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
            assert_eq!(context_reads(&m, b, &u, &rho), want); // the reference
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
            dots_one(&rows, &b, j, &mut out); // the reference
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
    fn fx_read_traces_is_bit_identical() {
        let mut rng = Rng::seed(21);
        for n in 0..20_000 {
            // Half the time every weight is at most 1 (the hint holds).
            let top = if n % 2 == 0 { 4096 } else { 8192 };
            let w: [[Fx; 8]; 16] =
                core::array::from_fn(|_| core::array::from_fn(|_| pick(&mut rng, -8192, top)));
            let unit = w_rec_unit(&w);
            assert_eq!(unit, w.iter().flatten().all(|v| v.0 <= 4096));
            let mut s = [Fx::ZERO; 8];
            for _ in 0..n % 4 {
                let j = (rng.next() % 8) as usize;
                s[j] = pick(&mut rng, -4096, 4096);
            }
            if n % 5 == 0 {
                s = [Fx::ZERO; 8];
                s[(rng.next() % 8) as usize] = Fx::ONE; // a cue of 1
            }
            let nz = support(&s);
            let nz = nz.as_slice();
            let (kr, kt) = (pick(&mut rng, 0, 4096), pick(&mut rng, 0, 4096));
            // r̄ and θ within [0, 1], where the thalamus keeps them.
            let rbar: [Fx; 16] = core::array::from_fn(|_| Fx((rng.next() % 4097) as i16));
            let theta: [Fx; 16] = core::array::from_fn(|_| Fx((rng.next() % 4097) as i16));
            let (mut rho1, mut rbar1, mut theta1) = ([Fx::ZERO; 16], rbar, theta);
            let (mut rho2, mut rbar2, mut theta2) = ([Fx::ZERO; 16], rbar, theta);
            read_traces::<Fx, 8, 16>(&w, unit, &s, nz, kr, kt, &mut rho1, &mut rbar1, &mut theta1);
            Fx::read_traces(&w, unit, &s, nz, kr, kt, &mut rho2, &mut rbar2, &mut theta2);
            assert_eq!(
                (rho1, rbar1, theta1),
                (rho2, rbar2, theta2),
                "{s:?} {kr:?} {kt:?}"
            );
        }
    }

    #[test]
    fn fx_hebbian_is_bit_identical() {
        // 18 columns: four words of leak flags and two more.
        let mut rng = Rng::seed(22);
        for n in 0..20_000 {
            let m: [[Fx; 18]; 4] = core::array::from_fn(|_| {
                core::array::from_fn(|_| match n % 3 {
                    0 => pick(&mut rng, -600, 600),
                    1 if rng.next() % 4 != 0 => Fx::ZERO, // zero columns, mostly
                    _ => pick(&mut rng, -8192, 8192),
                })
            });
            let rbar: [Fx; 18] = core::array::from_fn(|_| pick(&mut rng, 0, 4096));
            let mut theta: [Fx; 18] = core::array::from_fn(|_| pick(&mut rng, 0, 4096));
            if n % 2 == 1 {
                // traces within the dead zone, mostly
                for (t, r) in theta.iter_mut().zip(rbar.iter()) {
                    *t = *r + pick(&mut rng, -300, 300);
                }
            }
            let (eta, eps) = (pick(&mut rng, 0, 400), pick(&mut rng, 0, 800));
            let keep = if n % 2 == 0 {
                Fx(4096 - (rng.next() % 8) as i16)
            } else {
                pick(&mut rng, 0, 4096)
            };
            let bound = pick(&mut rng, 0, 8192);
            let active = (rng.next() % 4) as usize;
            let still = Num::min(Fx::leak_still(keep), bound);
            // The update by its definition, every weight visited.
            let mut want = m;
            for i in 0..18 {
                let up = Fx::dead_zone_step(rbar[i], theta[i], eps, eta);
                for k in 0..4 {
                    let w = want[k][i];
                    if up == Fx::ZERO && w >= -still && w <= still {
                        continue;
                    }
                    let hebb = if k == active { up } else { -up };
                    want[k][i] = Num::clamp(keep * w + hebb, -bound, bound);
                }
            }
            let leaking = leaking_columns(&m, still);
            let (mut m1, mut m2) = (m, m);
            let (mut l1, mut l2) = (leaking, leaking);
            hebbian::<Fx, 18, 4>(
                &mut m1, &mut l1, &rbar, &theta, active, eta, eps, keep, bound, still,
            );
            Fx::hebbian(
                &mut m2, &mut l2, &rbar, &theta, active, eta, eps, keep, bound, still,
            );
            assert_eq!(m1, want, "{eta:?} {eps:?} {keep:?} {bound:?}");
            assert_eq!(m1, m2, "{eta:?} {eps:?} {keep:?} {bound:?}");
            // The flags follow the weights.
            assert_eq!(l1, leaking_columns(&m1, still));
            assert_eq!(l2, l1);
        }
    }

    #[test]
    fn fx_oja_row_is_bit_identical() {
        let mut rng = Rng::seed(23);
        for n in 0..100_000 {
            let bound = if n % 2 == 0 {
                Fx(8192)
            } else {
                pick(&mut rng, 0, 16384)
            };
            let b = bound.0.max(0) as i32;
            // Weights within the bound, where cortex keeps them.
            let row: [Fx; 8] =
                core::array::from_fn(|_| Fx(((rng.next() % (2 * b as u32 + 1)) as i32 - b) as i16));
            let s: [Fx; 8] = core::array::from_fn(|_| {
                if rng.next() % 3 == 0 {
                    pick(&mut rng, -16384, 16384)
                } else {
                    Fx::ZERO
                }
            });
            let k = if n % 3 == 0 {
                pick(&mut rng, -32768, 32767)
            } else {
                pick(&mut rng, 0, 64)
            };
            let r = pick(&mut rng, 0, 4096);
            let seed = rng.next() as u64;
            let (mut d1, mut d2) = (Rng::seed(seed), Rng::seed(seed));
            let (mut w1, mut w2) = (row, row);
            oja_row::<Fx, 8>(&mut w1, &s, k, r, bound, &mut || d1.next());
            Fx::oja_row(&mut w2, &s, k, r, bound, &mut || d2.next());
            assert_eq!(w1, w2, "{row:?} {s:?} {k:?} {r:?} {bound:?}");
            assert_eq!(d1.next(), d2.next());
        }
    }
}
