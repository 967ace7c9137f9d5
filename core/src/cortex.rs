//! Cortex: `a = f_c(s)`, a rate network whose function the thalamus switches.
//!
//! Each of the `C` units sums its afferent input, `u = W_in s`, plus its own
//! recurrence `J r` (the *synaptic drive*): the reference design's recurrent
//! `J` is kept to its diagonal, each unit's self-excitation of its last rate
//! ([`Cortex::add_recurrence`]; a dense `J` would not fit the memory budget).
//! Alone it does not sustain activity; through a delay (a step without
//! input) the thalamus amplifies it by its gain, so a cue's code outlasts
//! the cue (working memory; Schmitt et al. 2017), into the go step that
//! follows within the trial. `W_in` starts *balanced* ([`Cortex::init`]):
//! each unit's weights sum to about 0, so no unit answers every input; each
//! line the input brings for the first time is decorrelated, within each
//! control function's units, from the lines met before, and the rows are
//! balanced again over the lines met ([`Cortex::meet_lines`]). The
//! thalamus sets a *gain*
//! `g_i` per unit, which multiplies the drive: `r_i = clamp((g_i u_i −
//! θ)/(1 − θ), 0, 1)`. Gain, not drive: with no input and nothing held, no
//! thalamic state changes any rate, and units outside the active control
//! function's mask (gain 0) are silent.
//!
//! Cortical plasticity is slow, local, unsupervised and never reads dopamine:
//! Oja's rule on `W_in`, scaled by the unit's gain so that units silenced in
//! the active context neither express nor learn (their weights are protected
//! while another context is active: continual learning without forgetting).

use crate::fixed::{fill_row, support, Indices, Num, RECIP_Q15};
use crate::kernels::Kernels;

/// The cortical rate network.
#[derive(Clone, Debug, PartialEq)]
pub struct Cortex<N: Num, const S: usize, const C: usize> {
    /// Afferent weights `W_in`. Q3.12, −2 to 2, saturate. Written only by
    /// [`Cortex::init`], Oja's rule (both within the bound) and restore
    /// (checked); read with [`Cortex::w_in`].
    pub(crate) w_in: [[N; S]; C],
    /// Synaptic drive `u = W_in s + J r` of the current step (afferent drive
    /// plus each unit's recurrence, [`Cortex::add_recurrence`]). Q3.12, −2S to
    /// 2S + `recurrence` × `amplification` × `gain_max` (|W_in| ≤ 2, |s| ≤ 1,
    /// r ≤ 1); Fx saturates at ±8.
    pub drive: [N; C],
    /// Thalamic gain `g` in force this step. Q3.12, 0 to `gain_max`.
    pub gain: [N; C],
    /// Firing rates `r`. Q3.12, 0 to 1.
    pub rate: [N; C],
    /// The input lines `W_in` is balanced over: bit `j` once line `j` has
    /// been on (at least `line_on`; [`Cortex::meet_lines`]). Lines `0..S`.
    pub(crate) lines_met: u64,
}

/// The bit set of lines `0..S` (`S` is at most 64): the lines a row has.
pub const fn all_lines(s: usize) -> u64 {
    if s >= 64 {
        u64::MAX
    } else {
        (1 << s) - 1
    }
}

/// Balanced afferents: each row of `rows` less its mean over the lines of
/// `lines` (bit `j` for line `j`), kept within `±bound`, so that excitation
/// and inhibition onto a unit (nearly) cancel over those lines (after the
/// detailed balance of Vogels et al. 2011). Nothing moves with fewer than
/// two lines (a unit with one line has nothing to balance against).
pub(crate) fn balance<N: Num, const S: usize, const R: usize>(
    rows: &mut [[N; S]; R],
    lines: u64,
    bound: N,
) {
    let on = |j: usize| j < 64 && lines & (1 << j) != 0;
    let n = (0..S).filter(|&j| on(j)).count();
    if n < 2 {
        return;
    }
    // 1/n from the table: no division on the step's path (exact for the
    // powers of two, so the default balance at birth over 8 lines too).
    let recip = N::from_q15(RECIP_Q15[n.min(255)]);
    for row in rows.iter_mut() {
        let mut sum = N::ZERO;
        for (j, w) in row.iter().enumerate() {
            if on(j) {
                sum = sum + *w;
            }
        }
        let mean = sum * recip;
        for (j, w) in row.iter_mut().enumerate() {
            if on(j) {
                *w = (*w - mean).clamp(-bound, bound);
            }
        }
    }
}

/// Decorrelated afferents: within one group of units (`in_group`: the
/// units of one control function, whose code k-winners-take-all picks
/// among), the column of line `j` less its projection on the column of each
/// line of `old` in turn, within `±bound`; this step's drive for the input
/// `s` follows. Two cues whose columns are uncorrelated over a function's
/// units share fewer of its winners, so a lesson on one moves the other's
/// action less (after the decorrelating inhibitory plasticity of King,
/// Zylberberg & DeWeese 2013). A column nearly 0 over the group (squared
/// norm below 1/4) is not projected on. No division: `1/|c|²` comes from
/// [`Num::recip_sat`], on norms scaled into its range.
pub(crate) fn decorrelate<N: Num, const S: usize, const C: usize>(
    w: &mut [[N; S]; C],
    drive: &mut [N; C],
    s: &[N; S],
    (j, old): (usize, u64),
    in_group: impl Fn(usize) -> bool,
    bound: N,
) {
    let Some(&x) = s.get(j) else {
        return;
    };
    // (iterators and `get`, not indexing: the step links no panic path)
    let mut v = [N::ZERO; C];
    let mut c = [N::ZERO; C];
    for (i, (v, row)) in v.iter_mut().zip(w.iter()).enumerate() {
        if in_group(i) {
            *v = row.get(j).copied().unwrap_or(N::ZERO);
        }
    }
    for l in (0..S.min(64)).filter(|&l| l != j && old & (1 << l) != 0) {
        for (i, (c, row)) in c.iter_mut().zip(w.iter()).enumerate() {
            *c = match row.get(l) {
                Some(&wl) if in_group(i) => wl,
                _ => N::ZERO,
            };
        }
        // Squared norms over up to C units reach past the type's range: both
        // dot products are taken over 16 (over 2 for a small norm, whose
        // reciprocal would saturate), which leaves their ratio.
        let mut k = 4;
        let mut cc = N::dot_shr(&c, &c, k);
        if cc < N::from_f32(0.25) {
            k = 1;
            cc = N::dot_shr(&c, &c, k);
            if cc < N::from_f32(0.125) {
                continue; // (a squared norm below 1/4: the column says nothing)
            }
        }
        let d = N::dot_shr(&v, &c, k) * cc.recip_sat();
        for (v, &c) in v.iter_mut().zip(&c) {
            *v = (*v - d * c).clamp(-bound, bound);
        }
    }
    let rows = w.iter_mut().zip(drive.iter_mut()).zip(v.iter());
    for (i, ((row, u), &v)) in rows.enumerate() {
        if let (true, Some(wj)) = (in_group(i), row.get_mut(j)) {
            if x != N::ZERO {
                *u = *u + (v - *wj) * x;
            }
            *wj = v;
        }
    }
}

/// An index from a support list as an index below `C` (it is one already;
/// the bound spares the step a panic path).
#[inline(always)]
pub(crate) fn bounded<const C: usize>(i: u16) -> usize {
    (i as usize).min(C - 1)
}

/// Largest number of winners of the k-winners-take-all inhibition.
pub const KWTA_MAX: usize = 31;

/// Bound of `|W_in|`.
pub const W_IN_BOUND: f32 = 2.0;

impl<N: Kernels, const S: usize, const C: usize> Cortex<N, S, C> {
    /// Cortex with every weight and rate 0 (see [`Cortex::init`]).
    pub fn blank() -> Self {
        Cortex {
            w_in: [[N::ZERO; S]; C],
            drive: [N::ZERO; C],
            gain: [N::ZERO; C],
            rate: [N::ZERO; C],
            lines_met: 0,
        }
    }

    /// Afferent weights drawn uniform in `[-scale, scale]` from `uniform`,
    /// then *balanced*: each unit's row less its mean (with more than one
    /// input line), kept within `[-scale, scale]`, so that excitation and
    /// inhibition onto a unit (nearly) cancel over its lines (after the
    /// detailed balance of Vogels et al. 2011) and a unit answers the lines
    /// it prefers over its others, not every input; rates 0. In place, so a
    /// board needs no second copy of cortex on its stack.
    ///
    /// Without the balance a unit whose random weights happen to be high on
    /// many lines wins under every cue: in a control function's 12 units
    /// such a hub carried part of the code of four of six cues
    /// (`multi-rule-switch-6x3x4`, seed 1), and cues with different actions
    /// were hard for the striatum to tell apart (`docs/MODEL.md`, "Balanced
    /// afferents"). Kept within the drawn range, every weight of the
    /// thalamus's copy stays at most 1 at the default scale, where its read
    /// of a cue is one compare per unit.
    ///
    /// ```
    /// use tcbg::cortex::Cortex;
    /// let mut cx: Cortex<f32, 4, 3> = Cortex::blank();
    /// let mut draws = [0.9f32, 0.1, 0.5, 0.7].into_iter().cycle();
    /// cx.init(1.0, || draws.next().unwrap());
    /// for row in cx.w_in() {
    ///     assert!(row.iter().sum::<f32>().abs() < 1e-6);
    /// }
    /// ```
    pub fn init(&mut self, scale: f32, mut uniform: impl FnMut() -> N) {
        let two = N::ONE + N::ONE;
        let sc = N::from_f32(scale);
        for row in self.w_in.iter_mut() {
            for w in row.iter_mut() {
                *w = (two * uniform() - N::ONE) * sc;
            }
        }
        balance(&mut self.w_in, all_lines(S), sc);
        self.lines_met = 0;
        self.drive = [N::ZERO; C];
        self.gain = [N::ZERO; C];
        self.rate = [N::ZERO; C];
    }

    /// The afferents meet the lines of `key` (bit `j` for line `j`). Each
    /// line met for the first time has its column decorrelated, within each
    /// of the `groups` groups of units, from the lines met before
    /// (`cortex::decorrelate`); then each row is balanced again over every line
    /// met so far; all within [`W_IN_BOUND`], and this step's drive for the
    /// input `s` follows. Returns whether a line was new (otherwise nothing
    /// changes).
    ///
    /// `group(i)` is unit `i`'s group (the agent's: the control function
    /// whose mask holds it), `None` for a row left as it is (the agent keeps
    /// the units of an established control function: their code is
    /// learned, and shifting it would lose what was learned on it).
    ///
    /// Balanced at birth over all `S` lines, a row is nearly unbalanced over
    /// the few a task uses (the correlation the balance puts between two of
    /// its weights is `−1/(S − 1)`), and hub units come back. Balanced over
    /// the lines met, the codes of the cues a unit meets are as far apart
    /// as the balance can put them, whatever `S` is (`docs/MODEL.md`,
    /// "Balanced over the lines met"). Decorrelated within a function's
    /// units, two cues share fewer of its k winners ("Decorrelated over the
    /// lines met").
    ///
    /// ```
    /// use tcbg::cortex::Cortex;
    /// let mut cx: Cortex<f32, 4, 3> = Cortex::blank();
    /// let mut draws = [0.9f32, 0.1, 0.5, 0.7].into_iter().cycle();
    /// cx.init(1.0, || draws.next().unwrap());
    /// let one_group = (1, |_| Some(0));
    /// let s = [1.0, 0.0, 0.0, 0.0];
    /// assert!(cx.meet_lines(0b0001, &s, one_group)); // one line: nothing to balance against
    /// assert!(cx.meet_lines(0b0010, &[0.0, 1.0, 0.0, 0.0], one_group));
    /// assert!(!cx.meet_lines(0b0011, &s, one_group)); // both met already
    /// for row in cx.w_in() {
    ///     assert!((row[0] + row[1]).abs() < 1e-6);
    /// }
    /// ```
    pub fn meet_lines(
        &mut self,
        key: u64,
        s: &[N; S],
        (groups, group): (usize, impl Fn(usize) -> Option<usize>),
    ) -> bool {
        let met = self.lines_met | (key & all_lines(S));
        if met == self.lines_met {
            return false;
        }
        let old = self.lines_met;
        self.lines_met = met;
        let bound = N::from_f32(W_IN_BOUND);
        // Each new line's column, decorrelated within each group from the
        // lines met before (with none met before, there is nothing to
        // decorrelate from).
        if old != 0 {
            for j in (0..S.min(64)).filter(|&j| (met & !old) & (1 << j) != 0) {
                for g in 0..groups {
                    let in_group = |i: usize| group(i) == Some(g);
                    decorrelate(
                        &mut self.w_in,
                        &mut self.drive,
                        s,
                        (j, old),
                        in_group,
                        bound,
                    );
                }
            }
        }
        for (i, (u, row)) in self.drive.iter_mut().zip(self.w_in.iter_mut()).enumerate() {
            if group(i).is_none() {
                continue;
            }
            let before = *row;
            balance(core::array::from_mut(row), met, bound);
            // This step's drive (its afferent part) under the new weights.
            for ((&w1, &w0), &x) in row.iter().zip(&before).zip(s) {
                if w1 != w0 && x != N::ZERO {
                    *u = *u + (w1 - w0) * x;
                }
            }
        }
        true
    }

    /// The input lines the afferents have met (bit `j` for line `j`).
    pub fn lines_met(&self) -> u64 {
        self.lines_met
    }

    /// Afferent weights `W_in` (per cortical unit, per input line).
    pub fn w_in(&self) -> &[[N; S]; C] {
        &self.w_in
    }

    /// `u = W_in s`.
    pub fn compute_drive(&mut self, s: &[N; S]) {
        // Observations are mostly zero (cues): only their nonzero lines are read.
        let nz = support(s);
        let nz = nz.as_slice();
        if nz.is_empty() {
            self.drive = [N::ZERO; C]; // no input, no drive
            return;
        }
        if let [j] = *nz {
            return N::dots_one(&self.w_in, s, j, &mut self.drive); // a cue
        }
        for i in 0..C {
            self.drive[i] = N::dot_at(&self.w_in[i], s, nz);
        }
    }

    /// Adds each unit's recurrent self-excitation to the drive, from the
    /// rates of the last step (still in [`Cortex::rate`]): `u_i += w r_i`,
    /// or, amplified (`amp = Some((wa, g))`), `u_i += wa g_i r_i` with `g`
    /// the gain row of the active control function. A unit at rest adds 0.
    pub fn add_recurrence(&mut self, w: N, amp: Option<(N, &[N; C])>) {
        for i in 0..C {
            let r = self.rate[i];
            if r == N::ZERO {
                continue;
            }
            let k = match amp {
                Some((wa, g)) => wa * g[i],
                None => w,
            };
            self.drive[i] = self.drive[i] + k * r;
        }
    }

    /// Rates of `drive` under `gain` with k-winners-take-all inhibition:
    /// the threshold rises to the `(k+1)`-th largest gained drive, so at most
    /// `k` units fire (ties aside). `k_q8` is `k` as a fraction of the units
    /// with gain, in 1/256; 0 turns the inhibition off. Zero drive still gives
    /// zero rates for any gain.
    pub fn rates(drive: &[N; C], gain: &[N; C], threshold: N, inv_span: N, k_q8: u16) -> [N; C] {
        let mut out = [N::ZERO; C];
        Self::rates_into(
            drive,
            gain,
            threshold,
            inv_span,
            k_q8,
            &mut out,
            &mut Indices::new(),
        );
        out
    }

    /// [`Cortex::rates`] written into `out` (no copy of the result). The
    /// units whose rate may differ from 0 are written to `units`, ascending:
    /// the units with gain, or all of them when a threshold at or below 0
    /// lets a unit without gain fire. Every other rate is exactly 0.
    ///
    /// ```
    /// use tcbg::{cortex::Cortex, fixed::Indices};
    /// let (drive, gain) = ([0.9f32, 0.8, 0.7, 0.0], [1.0, 0.0, 1.0, 1.0]);
    /// let (mut out, mut units) = ([0.0; 4], Indices::new());
    /// Cortex::<f32, 1, 4>::rates_into(&drive, &gain, 0.3, 1.0 / 0.7, 0, &mut out, &mut units);
    /// assert_eq!(units.as_slice(), &[0, 2, 3]); // unit 1 has no gain: silent
    /// assert_eq!(out[1], 0.0);
    /// assert!(out[0] > out[2] && out[3] == 0.0);
    /// ```
    pub fn rates_into(
        drive: &[N; C],
        gain: &[N; C],
        threshold: N,
        inv_span: N,
        k_q8: u16,
        out: &mut [N; C],
        units: &mut Indices<C>,
    ) {
        // Most units of a control function have no gain (outside its mask):
        // every pass below reads only the units with gain (and counts the
        // positive ones on the way, for the inhibition).
        units.truncate(0);
        let mut active = 0u32;
        for (i, &g) in gain.iter().enumerate() {
            if g != N::ZERO {
                let _ = units.push(i as u16); // at most C pushes: never full
                active += (g > N::ZERO) as u32;
            }
        }
        let gained = units.as_slice();
        let mut theta = threshold;
        // While the threshold is found, `out` holds the gained products g·d
        // (`have_products`), which the rates then read.
        fill_row(out, N::ZERO);
        let mut have_products = false;
        if k_q8 > 0 {
            let k = (((active * k_q8 as u32) + 255) >> 8).clamp(1, KWTA_MAX as u32) as usize;
            if (active as usize) > k {
                // The k+1 largest gained drives, in descending order. A unit
                // without gain offers 0; leaving it out changes `top[k]` only
                // where it is at most 0, below any threshold (at least 0).
                let kth = if k < 4 {
                    // Few winners (the usual case): the k+1 largest held in
                    // four registers, the unused ones at MIN.
                    let mut t = [N::MIN; 4];
                    for &i in gained {
                        let i = i as usize;
                        let (Some(&g), Some(&d), Some(o)) =
                            (gain.get(i), drive.get(i), out.get_mut(i))
                        else {
                            continue; // (indices below C)
                        };
                        let v = g * d;
                        *o = v;
                        if v > t[3] {
                            if v > t[1] {
                                t[3] = t[2];
                                t[2] = t[1];
                                if v > t[0] {
                                    t[1] = t[0];
                                    t[0] = v;
                                } else {
                                    t[1] = v;
                                }
                            } else if v > t[2] {
                                t[3] = t[2];
                                t[2] = v;
                            } else {
                                t[3] = v;
                            }
                        }
                    }
                    t[k]
                } else {
                    let mut top = [N::MIN; KWTA_MAX + 1];
                    for &i in gained {
                        let i = bounded::<C>(i);
                        let v = gain[i] * drive[i];
                        out[i] = v;
                        if v > top[k] {
                            let mut j = k;
                            while j > 0 && top[j - 1] < v {
                                top[j] = top[j - 1];
                                j -= 1;
                            }
                            top[j] = v;
                        }
                    }
                    top[k]
                };
                theta = theta.max(kth);
                have_products = true;
            }
        }
        let rate = |g: N, d: N| ((g * d - theta) * inv_span).clamp(N::ZERO, N::ONE);
        if theta > N::ZERO && inv_span >= N::ZERO {
            // A unit without gain is below a positive threshold: it stays
            // silent (the rate the expression gives it, bit for bit).
            if have_products {
                for &i in gained {
                    if let Some(o) = out.get_mut(i as usize) {
                        *o = N::rate_above(*o, theta, inv_span);
                    }
                }
            } else {
                for &i in gained {
                    let i = bounded::<C>(i);
                    out[i] = rate(gain[i], drive[i]);
                }
            }
        } else {
            units.clear();
            for i in 0..C {
                out[i] = rate(gain[i], drive[i]);
                let _ = units.push(i as u16); // C pushes: never full
            }
        }
    }

    /// Rates of the current drive under `gain` (see [`Cortex::rates`]); stores both.
    pub fn fire(&mut self, gain: &[N; C], threshold: N, inv_span: N, k_q8: u16) {
        self.gain = *gain;
        let mut units = Indices::new();
        let (drive, rate) = (&self.drive, &mut self.rate);
        Self::rates_into(drive, gain, threshold, inv_span, k_q8, rate, &mut units);
    }

    /// Oja's rule gated by gain: `ΔW_in[i,j] = η g_i r_i (s_j − W_in[i,j] r_i)`.
    /// It takes no dopamine argument: cortical plasticity cannot read it.
    pub fn learn(&mut self, s: &[N; S], eta: N, dither: impl FnMut() -> u32) {
        let units = support(&self.rate);
        self.learn_at(s, eta, &units, dither);
    }

    /// [`Cortex::learn`] over the units `at`, which must hold every unit of
    /// nonzero rate, ascending (such as [`Cortex::rates_into`] lists): a
    /// silent unit neither learns nor decays (its step is 0 as well), so the
    /// same units learn in the same order, with the same dither.
    pub fn learn_at(&mut self, s: &[N; S], eta: N, at: &[u16], mut dither: impl FnMut() -> u32) {
        let bound = N::from_f32(W_IN_BOUND);
        for &i in at {
            let i = i as usize;
            let (Some(row), Some(&r), Some(&g)) =
                (self.w_in.get_mut(i), self.rate.get(i), self.gain.get(i))
            else {
                continue; // (a list of units holds indices below C)
            };
            if r == N::ZERO {
                continue;
            }
            let k = eta * g * r;
            if k == N::ZERO {
                // A step of 0 (rounded away): each weight stays, but draws its
                // dither all the same and keeps the clamp.
                for w in row.iter_mut() {
                    let _ = dither();
                    if !(*w >= -bound && *w <= bound) {
                        *w = w.clamp(-bound, bound);
                    }
                }
                continue;
            }
            N::oja_row(row, s, k, r, bound, &mut dither);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{pick, Fx};
    use crate::rng::Rng;

    /// The rates by their definition: k-winners-take-all over every unit,
    /// then every unit's expression.
    fn rates_by_definition<N: Num, const C: usize>(
        drive: &[N; C],
        gain: &[N; C],
        threshold: N,
        inv_span: N,
        k_q8: u16,
    ) -> [N; C] {
        let mut theta = threshold;
        if k_q8 > 0 {
            let active = gain.iter().filter(|g| **g > N::ZERO).count() as u32;
            let k = (((active * k_q8 as u32) + 255) >> 8).clamp(1, KWTA_MAX as u32) as usize;
            if (active as usize) > k {
                let mut v: [N; C] = core::array::from_fn(|i| gain[i] * drive[i]);
                // gainless units offer 0 (left out: below any threshold)
                for i in 0..C {
                    if gain[i] == N::ZERO {
                        v[i] = N::MIN;
                    }
                }
                // the (k+1)-th largest, by selection
                let mut top = N::MIN;
                for _ in 0..=k {
                    let mut best = 0;
                    for i in 0..C {
                        if v[i] > v[best] {
                            best = i;
                        }
                    }
                    top = v[best];
                    v[best] = N::MIN;
                }
                theta = theta.max(top);
            }
        }
        core::array::from_fn(|i| {
            if theta > N::ZERO && inv_span >= N::ZERO && gain[i] == N::ZERO {
                N::ZERO
            } else {
                ((gain[i] * drive[i] - theta) * inv_span).clamp(N::ZERO, N::ONE)
            }
        })
    }

    /// Balanced afferents: every row sums to 0 but where the drawn range
    /// clips a weight, and no weight leaves that range (both number types).
    fn balanced<N: Kernels>(to_f32: impl Fn(N) -> f32) {
        let mut rng = Rng::seed(7);
        let mut cx: Cortex<N, 8, 48> = Cortex::blank();
        cx.init(1.0, || N::unit(rng.next()));
        let mut exact = 0;
        for row in cx.w_in() {
            let w: [f32; 8] = core::array::from_fn(|j| to_f32(row[j]));
            assert!(w.iter().all(|x| x.abs() <= 1.0), "{w:?}");
            let clipped = w.iter().any(|x| x.abs() >= 1.0 - 1.0 / 4096.0);
            let sum: f32 = w.iter().sum();
            if !clipped {
                // The mean's rounding, at most one LSB per weight in `Fx`.
                assert!(sum.abs() <= 8.0 / 4096.0, "row sums to {sum}: {w:?}");
                exact += 1;
            }
        }
        // Clipping is the exception: most rows balance exactly.
        assert!(exact >= 40, "only {exact} of 48 rows balanced");
    }

    /// `meet_lines` in one number type: rows not kept balance over the
    /// lines met (and only those move), kept rows stay, the drive follows
    /// the new weights, and a line met before changes nothing.
    fn meets_lines<N: Kernels>(to_f32: impl Fn(N) -> f32) {
        let mut rng = Rng::seed(11);
        let mut cx: Cortex<N, 8, 48> = Cortex::blank();
        cx.init(1.0, || N::unit(rng.next()));
        let kept = |i: usize| i % 4 == 0;
        // Two groups (units by parity), the kept rows in none.
        let groups = (2, |i: usize| (!kept(i)).then_some(i % 2));
        let one = |j: usize| -> [N; 8] {
            core::array::from_fn(|l| if l == j { N::ONE } else { N::ZERO })
        };
        for j in [5, 2, 7] {
            let before = cx.w_in;
            let s = one(j);
            cx.compute_drive(&s);
            assert!(cx.meet_lines(1 << j, &s, groups));
            assert!(!cx.meet_lines(1 << j, &s, groups), "met twice");
            for (i, (row, old)) in cx.w_in.iter().zip(&before).enumerate() {
                // Only the lines met move, and kept rows not at all.
                for l in 0..8 {
                    if kept(i) || cx.lines_met & (1 << l) == 0 {
                        assert!(row[l] == old[l], "unit {i} line {l} moved");
                    }
                }
                // The drive is this step's under the new weights.
                let want = to_f32(row[j]);
                assert!(
                    (to_f32(cx.drive[i]) - want).abs() <= 2.0 / 4096.0,
                    "unit {i}"
                );
                if !kept(i) && cx.lines_met.count_ones() >= 2 {
                    let sum: f32 = (0..8)
                        .filter(|l| cx.lines_met & (1 << l) != 0)
                        .map(|l| to_f32(row[l]))
                        .sum();
                    assert!(sum.abs() <= 8.0 / 4096.0, "unit {i} sums to {sum}");
                }
            }
        }
        assert_eq!(cx.lines_met(), (1 << 5) | (1 << 2) | (1 << 7));
    }

    /// `decorrelate` in one number type: within the group, the new line's
    /// column is orthogonal to an old one's (to rounding) and keeps the
    /// part orthogonal to it; outside the group nothing moves; the drive
    /// follows.
    fn decorrelates<N: Kernels>(to_f32: impl Fn(N) -> f32) {
        let mut rng = Rng::seed(5);
        let mut cx: Cortex<N, 8, 48> = Cortex::blank();
        cx.init(1.0, || N::unit(rng.next()));
        let in_group = |i: usize| i % 3 != 0;
        let col = |cx: &Cortex<N, 8, 48>, l: usize| -> [f32; 48] {
            core::array::from_fn(|i| {
                if in_group(i) {
                    to_f32(cx.w_in[i][l])
                } else {
                    0.0
                }
            })
        };
        let dot = |a: &[f32; 48], b: &[f32; 48]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let (old, new) = (col(&cx, 1), col(&cx, 4));
        let before = cx.w_in;
        let s: [N; 8] = core::array::from_fn(|l| if l == 4 { N::ONE } else { N::ZERO });
        cx.compute_drive(&s);
        let bound = N::from_f32(W_IN_BOUND);
        decorrelate(
            &mut cx.w_in,
            &mut cx.drive,
            &s,
            (4, 1 << 1),
            in_group,
            bound,
        );
        let after = col(&cx, 4);
        // Orthogonal to the old column, to rounding.
        let scale = dot(&old, &old).sqrt() * dot(&new, &new).sqrt();
        assert!(
            dot(&after, &old).abs() <= 0.01 * scale,
            "{}",
            dot(&after, &old)
        );
        // What was orthogonal to it stays.
        let d = dot(&new, &old) / dot(&old, &old);
        for i in 0..48 {
            let want = new[i] - d * old[i];
            assert!((after[i] - want).abs() <= 4.0 / 4096.0, "unit {i}");
        }
        for (i, (row, was)) in cx.w_in.iter().zip(&before).enumerate() {
            for l in 0..8 {
                if !in_group(i) || l != 4 {
                    assert!(row[l] == was[l], "unit {i} line {l} moved");
                }
            }
            assert!((to_f32(cx.drive[i]) - to_f32(row[4])).abs() <= 2.0 / 4096.0);
        }
        // A column of zeros is no direction: nothing moves.
        for row in cx.w_in.iter_mut() {
            row[6] = N::ZERO;
        }
        let before = cx.w_in;
        decorrelate(
            &mut cx.w_in,
            &mut cx.drive,
            &s,
            (4, 1 << 6),
            in_group,
            bound,
        );
        assert!(cx.w_in == before);
    }

    #[test]
    fn new_lines_are_decorrelated_within_a_group() {
        decorrelates::<Fx>(|x| x.to_f32());
        decorrelates::<f32>(|x| x);
    }

    #[test]
    fn afferents_balance_over_the_lines_met() {
        meets_lines::<Fx>(|x| x.to_f32());
        meets_lines::<f32>(|x| x);
    }

    #[test]
    fn afferents_are_balanced() {
        balanced::<Fx>(|x| x.to_f32());
        balanced::<f32>(|x| x);
    }

    #[test]
    fn rates_read_only_the_gained_units_and_keep_the_definition() {
        let mut rng = Rng::seed(24);
        for n in 0..20_000 {
            let drive: [Fx; 20] = core::array::from_fn(|_| pick(&mut rng, -16384, 16384));
            let gain: [Fx; 20] = core::array::from_fn(|_| {
                if rng.next() % 3 == 0 {
                    pick(&mut rng, 0, 8192)
                } else {
                    Fx::ZERO
                }
            });
            let threshold = if n % 5 == 0 {
                pick(&mut rng, -800, 800)
            } else {
                Fx(1229)
            };
            let inv_span = if n % 7 == 0 {
                pick(&mut rng, -100, 8192)
            } else {
                Fx(5851)
            };
            let k_q8 = [0u16, 51, 128, 256][(n % 4) as usize];
            let (mut out, mut units) = ([Fx::MAX; 20], Indices::new());
            let _ = units.push(7); // whatever it held is replaced
            Cortex::<Fx, 1, 20>::rates_into(
                &drive, &gain, threshold, inv_span, k_q8, &mut out, &mut units,
            );
            let want = rates_by_definition(&drive, &gain, threshold, inv_span, k_q8);
            assert_eq!(out, want, "{threshold:?} {inv_span:?} {k_q8}");
            // Every unit of nonzero rate is listed, ascending.
            let listed = units.as_slice();
            assert!(listed.windows(2).all(|w| w[0] < w[1]));
            for i in 0..20 {
                if out[i] != Fx::ZERO {
                    assert!(listed.contains(&(i as u16)), "unit {i} fires unlisted");
                }
            }
            // f32: the same, bit for bit.
            let (df, gf) = (drive.map(|v| v.to_f32()), gain.map(|v| v.to_f32()));
            let (tf, sf) = (threshold.to_f32(), inv_span.to_f32());
            let mut of = [9.0f32; 20];
            Cortex::<f32, 1, 20>::rates_into(&df, &gf, tf, sf, k_q8, &mut of, &mut Indices::new());
            let wf = rates_by_definition(&df, &gf, tf, sf, k_q8);
            assert_eq!(of.map(f32::to_bits), wf.map(f32::to_bits));
        }
    }
}
