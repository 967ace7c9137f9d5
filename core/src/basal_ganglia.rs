//! Basal ganglia: selection by disinhibition, and reinforcement learning.
//!
//! **Selection.** The Gurney-Prescott-Redgrave (GPR) circuit, with the
//! constants of Nengo's `nengo.networks.BasalGanglia` (Stewart, Choo &
//! Eliasmith 2010): striatal D1 and D2 populations read the channel
//! saliences; the subthalamic nucleus (STN) excites the globus pallidus
//! externus (GPe) and internus (GPi) diffusely; D1 inhibits GPi channel by
//! channel (the direct pathway), D2 inhibits GPe (the indirect pathway).
//! GPi tonically inhibits its targets; the channel whose GPi output is
//! lowest is *disinhibited*, which is what "selected" means. The same
//! circuit serves two channel groups: `A` action channels (the action) and
//! `K` context channels (which thalamic control function is released).
//!
//! **The circuit is solved, not iterated.** GPi does not feed back, so the
//! steady state of the rate equations ([`Gpr::gpi`]) is fixed by one
//! number, the diffuse excitation `y = w_p ΣSTN`. Channel `i` has the STN
//! drive `a_i = s_i + 0.25` and fires GPe once `y` exceeds `b_i = D2_i − 0.2`;
//! its STN output is `relu(a_i − relu(y − b_i))`: full (`a_i`) below `b_i`,
//! falling linearly in `y` up to `a_i + b_i`, then silent. So `y = w_p
//! Σ STN_i(y)` is piecewise linear with at most `2M` breakpoints, and
//! `y − w_p Σ STN_i(y)` rises strictly (slope at least 1): the steady state
//! exists and is unique. On a piece with `n` channels on their falling part
//! the linear equation's root is `y = w_p/(1 + w_p n) · (Σ_full a_i +
//! Σ_falling (a_i + b_i))` (the factor from a table: no division on the
//! step). [`Gpr::gpi`] takes Newton's steps from the root of the piece where
//! every channel that can fire is falling: a root inside its own piece is
//! the answer; one outside tells on which side the answer lies and is the
//! next guess. That settles in one piece for most inputs (1.2 on average
//! for four channels with saliences in `[0, 1.5]`, 2.4 for sixteen). Should
//! a guess leave the bracket it has established, the solver walks the
//! pieces upward from the bracket's lower end, a root either in its piece
//! or past its end, which takes at most `2M + 1` pieces. The result is the
//! steady state up to the rounding of the number type: within 0.003 of an
//! `f64` reference for 2 to 16 channels in fixed point
//! (`tests/tests/gpr_steady.rs`). Euler integration at Nengo's rates, which
//! this replaces, oscillates for three or more channels and settles in no
//! fixed number of iterations.
//!
//! **Learning.** Striatal salience of action `a` is `W_go[a]·x − W_nogo[a]·x`
//! with `x` the cortical rates seen by striatum. Go (D1) synapses strengthen
//! with positive dopamine, NoGo (D2) synapses with negative dopamine, each on
//! its own eligibility trace (three-factor rule: presynaptic activity ×
//! postsynaptic selection × dopamine; no weight transport).
//!
//! **Context channels.** Each control function has a *competence* (running
//! reward rate while it is active), a usual level of surprise and a spread
//! of it; a leaky accumulator of negative dopamine is the current surprise.
//! The current context's salience carries a persistence bonus minus its
//! excess surprise, so persistent surprise beyond the usual (a change point)
//! lets another channel win.
//!
//! The circuit can be used on its own:
//!
//! ```
//! use tcbg::basal_ganglia::Gpr;
//! let gpr = Gpr::<f32>::from_config(&tcbg::Config::default());
//! let (gpi, winner) = gpr.select(&[0.2, 0.8, 0.3, 0.1]);
//! assert_eq!(winner, Some(1));
//! assert!(gpi[1] < gpi[0]);
//! ```

use crate::config::Config;
use crate::fixed::{empty_list, fill_row, support, Num, RECIP_Q15};
use crate::kernels::Kernels;
use crate::thalamus::PATTERNS;

/// GPi outputs are limited to `[0, GPI_MAX]` (the rail of [`crate::Fx`]).
pub const GPI_MAX: f32 = 8.0;
/// Eligibility traces are limited to `[0, TRACE_MAX]`.
pub const TRACE_MAX: f32 = 8.0;

/// `w_p / (1 + w_p n)` in Q15 for `n` = 0 to 32, with Nengo's `w_p` = 0.9:
/// the steady diffuse excitation per unit of STN drive when `n` channels are
/// on the linear part of their STN response (see [`Gpr::gpi`]).
const SOLVE_Q15: [u16; 33] = {
    let mut t = [0u16; 33];
    let mut n = 0;
    while n < 33 {
        // 0.9 / (1 + 0.9 n) = 9 / (10 + 9 n), rounded to nearest.
        let d = 10 + 9 * n as u32;
        t[n] = ((2 * 9 * 32768 + d) / (2 * d)) as u16;
        n += 1;
    }
    t
};

/// The GPR circuit: Nengo's constants in the number type.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gpr<N: Num> {
    /// D1 gain `w_s (1 + λ_g)` = 1.2.
    d1_gain: N,
    /// D2 gain `w_s (1 − λ_e)` = 0.8.
    d2_gain: N,
    /// Striatal threshold `e` = 0.2.
    str_thresh: N,
    /// STN bias `−ε_t` = 0.25.
    stn_bias: N,
    /// GPe and GPi bias `−ε` = 0.2.
    gp_bias: N,
    /// GPe → GPi weight `w_e` = 0.3.
    w_e: N,
}

impl<N: Num> Gpr<N> {
    /// The circuit with the constants of Nengo's `BasalGanglia`.
    pub fn nengo() -> Gpr<N> {
        Gpr {
            d1_gain: N::from_f32(1.2),
            d2_gain: N::from_f32(0.8),
            str_thresh: N::from_f32(0.2),
            stn_bias: N::from_f32(0.25),
            gp_bias: N::from_f32(0.2),
            w_e: N::from_f32(0.3),
        }
    }

    /// Exactly the circuit an agent with `config` uses (every agent uses
    /// Nengo's constants: the config holds nothing of the circuit's).
    pub fn from_config(config: &Config) -> Gpr<N> {
        let _ = config;
        Gpr::nengo()
    }

    /// GPi output per channel for the saliences `sal` (low = disinhibited),
    /// at the steady state of the rate equations
    /// `STN = relu(s − GPe + 0.25)`, `GPe = relu(−D2 + 0.9 ΣSTN + 0.2)`,
    /// `GPi = relu(−D1 + 0.9 ΣSTN − 0.3 GPe + 0.2)` with
    /// `D1 = relu(1.2 s − 0.2)`, `D2 = relu(0.8 s − 0.2)`, limited to
    /// `[0, GPI_MAX]`. Any number of channels up to 32; the module doc has
    /// the method.
    pub fn gpi<const M: usize>(&self, sal: &[N; M]) -> [N; M] {
        let (y, b, _) = self.solve(sal);
        let cap = N::from_f32(GPI_MAX);
        core::array::from_fn(|i| {
            let d1 = (self.d1_gain * sal[i] - self.str_thresh).relu();
            (y + self.gp_bias - d1 - self.w_e * (y - b[i]).relu()).clamp(N::ZERO, cap)
        })
    }

    /// The steady diffuse excitation `y = w_p ΣSTN` for the saliences `sal`,
    /// and the pieces visited to find it (usually 1; see the module doc).
    pub fn diffuse<const M: usize>(&self, sal: &[N; M]) -> (N, usize) {
        let (y, _, pieces) = self.solve(sal);
        (y, pieces)
    }

    /// [`Gpr::diffuse`], and each channel's GPe onset `b`.
    #[inline(always)]
    fn solve<const M: usize>(&self, sal: &[N; M]) -> (N, [N; M], usize) {
        // a: STN's drive while its GPe is silent; b: the level of y above
        // which its GPe fires.
        let a: [N; M] = core::array::from_fn(|i| sal[i] + self.stn_bias);
        let b: [N; M] = core::array::from_fn(|i| {
            (self.d2_gain * sal[i] - self.str_thresh).relu() - self.gp_bias
        });
        // The piece that holds y: the root of its linear equation, and the
        // piece's start and end.
        let piece = |y: N| -> (N, N, N) {
            let (mut falling, mut drive) = (0usize, [N::ZERO; M]);
            let (mut start, mut end) = (N::MIN, N::MAX);
            for i in 0..M {
                let off = a[i] + b[i];
                if a[i] <= N::ZERO {
                    continue; // STN never fires
                }
                if y >= off {
                    start = start.max(off); // STN silent from here on
                } else if y < b[i] {
                    drive[i] = a[i]; // GPe silent: STN at its full drive
                    end = end.min(b[i]);
                } else {
                    falling += 1; // STN falls as y rises
                    drive[i] = off;
                    start = start.max(b[i]);
                    end = end.min(off);
                }
            }
            let w = N::from_q15(SOLVE_Q15[falling.min(SOLVE_Q15.len() - 1)]);
            // One narrowing: the partial sums may pass the rails of `Fx`.
            (N::dot(&drive, &[w; M]), start, end)
        };
        // Newton's method, from the piece where every channel that can fire
        // is falling (most often the answer): a root outside its piece
        // tells on which side of it the answer lies (the equation's slope is
        // positive), and becomes the next guess while it stays inside what
        // is known.
        let (mut lo, mut hi) = (N::ZERO, N::MAX);
        let first = {
            let mut drive = [N::ZERO; M];
            let mut falling = 0usize;
            for i in 0..M {
                if a[i] > N::ZERO {
                    drive[i] = a[i] + b[i];
                    falling += 1;
                }
            }
            N::dot(
                &drive,
                &[N::from_q15(SOLVE_Q15[falling.min(SOLVE_Q15.len() - 1)]); M],
            )
        };
        let mut y = first.relu();
        let mut pieces = 0;
        for _ in 0..M + 2 {
            pieces += 1;
            let (root, start, end) = piece(y);
            if start <= root && root <= end {
                return (root.relu(), b, pieces);
            }
            if root > y {
                lo = lo.max(y);
            } else {
                hi = hi.min(y);
            }
            if !(lo < root && root < hi) {
                break;
            }
            y = root;
        }
        // Otherwise walk the pieces up from `lo` (below the answer), each
        // root either in its piece or past its end: at most 2M + 1 pieces.
        y = lo;
        for _ in 0..=2 * M {
            pieces += 1;
            let (root, _, end) = piece(y);
            if root <= end {
                return (root.max(y), b, pieces);
            }
            y = end;
        }
        (y, b, pieces)
    }

    /// GPi outputs and the channel with the lowest output, when exactly one
    /// channel has it (`None` on a tie; [`select_channel`] breaks ties).
    pub fn select<const M: usize>(&self, sal: &[N; M]) -> ([N; M], Option<usize>) {
        let gpi = self.gpi(sal);
        let mut best = 0;
        let mut ties = 0;
        for i in 0..M {
            if gpi[i] < gpi[best] {
                best = i;
                ties = 0;
            } else if i != best && gpi[i] == gpi[best] {
                ties += 1;
            }
        }
        (gpi, if ties == 0 { Some(best) } else { None })
    }
}

/// The channel among those allowed by `mask` (bit `i` = channel `i`) with the
/// lowest `gpi`; ties are broken uniformly by `pick`, a random index function.
pub fn select_channel<N: Num, const M: usize>(
    gpi: &[N; M],
    mask: u32,
    pick: impl FnOnce(u32) -> u32,
) -> usize {
    let mut best = N::MAX;
    let (mut n, mut first) = (0u32, 0usize);
    for i in 0..M {
        if mask & (1 << i) == 0 {
            continue;
        }
        if n == 0 || gpi[i] < best {
            (best, n, first) = (gpi[i], 1, i);
        } else if gpi[i] == best {
            n += 1;
        }
    }
    // One lowest (most channels, most steps): no second pass.
    if n <= 1 {
        return first;
    }
    let mut k = pick(n);
    for i in 0..M {
        if mask & (1 << i) != 0 && gpi[i] == best {
            if k == 0 {
                return i;
            }
            k -= 1;
        }
    }
    0
}

/// Striatum of the action channels: Go and NoGo corticostriatal weights and
/// their eligibility traces.
#[derive(Clone, Debug, PartialEq)]
pub struct Striatum<N: Num, const C: usize, const A: usize> {
    /// Go (D1) weights. Q3.12, 0 to `w_max`, saturate.
    pub w_go: [[N; C]; A],
    /// NoGo (D2) weights. Q3.12, 0 to `w_max`, saturate.
    pub w_nogo: [[N; C]; A],
    /// Eligibility trace of each synapse: decays by λ, cleared at a stimulus,
    /// grows by the striatal input on the chosen action. Q3.12, 0 to
    /// [`TRACE_MAX`], saturates. Written only by the trace updates,
    /// [`Striatum::set_elig`] and restore, which keep `elig_rows` true to it
    /// (read with [`Striatum::elig`]).
    pub(crate) elig: [[N; C]; A],
    /// Bit `a` set when row `a` of `elig` holds a nonzero trace. Derived
    /// from `elig`; never written to a snapshot.
    pub(crate) elig_rows: u32,
    /// The most recent action's trace: the striatal input of the last step
    /// with input, on the action chosen there (`recent_action`), decayed by
    /// λ on each step since (cleared at a marked trial start). A dip of
    /// dopamine acts on it alone ([`Striatum::learn_recent`]). Q3.12, 0 to
    /// [`TRACE_MAX`].
    pub recent: [N; C],
    /// The action of `recent`. 0 to A−1.
    pub recent_action: u8,
}

impl<N: Kernels, const C: usize, const A: usize> Striatum<N, C, A> {
    /// Zero weights and traces.
    pub fn new() -> Self {
        Striatum {
            w_go: [[N::ZERO; C]; A],
            w_nogo: [[N::ZERO; C]; A],
            elig: [[N::ZERO; C]; A],
            elig_rows: 0,
            recent: [N::ZERO; C],
            recent_action: 0,
        }
    }

    /// The eligibility traces.
    pub fn elig(&self) -> &[[N; C]; A] {
        &self.elig
    }

    /// Sets every eligibility trace (and the rows they occupy).
    ///
    /// ```
    /// use tcbg::basal_ganglia::Striatum;
    /// let mut st: Striatum<f32, 2, 2> = Striatum::new();
    /// st.set_elig([[0.0, 0.5], [0.0, 0.0]]);
    /// assert_eq!(st.elig_support().listed().collect::<Vec<_>>(), [(1, 0b01)]);
    /// ```
    pub fn set_elig(&mut self, elig: [[N; C]; A]) {
        self.elig = elig;
        self.recount_elig_rows();
    }

    /// Derives `elig_rows` from `elig` (restore calls it).
    pub(crate) fn recount_elig_rows(&mut self) {
        self.elig_rows = elig_rows(&self.elig);
    }

    /// Every weight and trace back to 0, in place.
    pub fn reset(&mut self) {
        for a in 0..A {
            self.w_go[a] = [N::ZERO; C];
            self.w_nogo[a] = [N::ZERO; C];
            self.elig[a] = [N::ZERO; C];
        }
        self.elig_rows = 0;
        self.recent = [N::ZERO; C];
        self.recent_action = 0;
    }

    /// Net salience contribution `(W_go[a] − W_nogo[a])·x` for each action.
    pub fn drive(&self, x: &[N; C]) -> [N; A] {
        self.drive_at(x, &support(x))
    }

    /// [`Striatum::drive`] reading only the entries `nz` of `x` (all its
    /// nonzero ones; few units fire).
    pub fn drive_at(&self, x: &[N; C], nz: &[u16]) -> [N; A] {
        let go = N::dots_at(&self.w_go, x, nz);
        let nogo = N::dots_at(&self.w_nogo, x, nz);
        core::array::from_fn(|a| go[a] - nogo[a])
    }

    /// The synapses whose eligibility trace is nonzero (one pass over the
    /// traces, shared by every learning rule of the step).
    pub fn elig_support(&self) -> EligSupport<C> {
        let mut sup = EligSupport::new();
        self.elig_support_into(&mut sup);
        sup
    }

    /// [`Striatum::elig_support`] written into `sup` (in place, no copy).
    pub fn elig_support_into(&self, sup: &mut EligSupport<C>) {
        sup.listed.truncate(0);
        // Most rows are all zero, and `elig_rows` says which are not.
        let rows = self.elig_rows;
        if rows == 0 {
            return;
        }
        if rows.count_ones() == 1 {
            // One row (the usual case: a stimulus clears every trace, then
            // only the chosen action's grows): its units, ascending.
            let a = rows.trailing_zeros() as usize;
            if let Some(row) = self.elig.get(a) {
                // Two entries at a time, skipped together when both are 0
                // (their bits ORed, the second's rotated by half a word:
                // for Fx one 32-bit load on Arm v7; −0.0 is let through and
                // then not listed).
                let mut pairs = row.chunks_exact(2);
                let mut i = 0;
                for p in &mut pairs {
                    if p[0].hash_bits() | p[1].hash_bits().rotate_left(16) != 0 {
                        // A unit at most once: never full.
                        if p[0] != N::ZERO {
                            sup.push(i, 1 << a);
                        }
                        if p[1] != N::ZERO {
                            sup.push(i + 1, 1 << a);
                        }
                    }
                    i += 2;
                }
                for e in pairs.remainder() {
                    if *e != N::ZERO {
                        sup.push(i, 1 << a);
                    }
                }
            }
            return;
        }
        let mut by_unit = [0u16; C];
        for a in 0..A {
            if rows & (1 << a) == 0 {
                continue;
            }
            for (bits, e) in by_unit.iter_mut().zip(self.elig[a].iter()) {
                if *e != N::ZERO {
                    *bits |= 1 << a;
                }
            }
        }
        for (i, &bits) in by_unit.iter().enumerate() {
            if bits != 0 {
                sup.push(i, bits);
            }
        }
    }

    /// On each unit of `sup`, the part the allowed actions (`mask`) hold in
    /// common, the smallest of their Go weights and the smallest of their
    /// NoGo weights, shrinks by the share `settle` from each: selection
    /// reads the drives relative to their mean, so that part selects
    /// nothing. Without it, learning in place (no hold while a rule changes)
    /// left NoGo on every action some rule had made wrong, and in a long life
    /// across tasks up to 23% of NoGo weights sat at the rail.
    ///
    /// ```
    /// use tcbg::basal_ganglia::Striatum;
    /// let mut st: Striatum<f32, 2, 2> = Striatum::new();
    /// st.w_nogo = [[0.8, 0.0], [0.6, 0.0]];
    /// st.set_elig([[1.0, 0.0], [0.0, 0.0]]);
    /// let sup = st.elig_support();
    /// st.settle_actions(0b11, 0.5, &sup);
    /// assert_eq!(st.w_nogo, [[0.5, 0.0], [0.3, 0.0]]); // common 0.6, half settles
    /// ```
    pub fn settle_actions(&mut self, mask: u32, settle: N, sup: &EligSupport<C>) {
        if settle == N::ZERO {
            return;
        }
        // Allowed actions within A (none: nothing to settle).
        let allowed = mask & ((1u64 << A) - 1) as u32;
        if allowed == 0 {
            return;
        }
        for (unit, _) in sup.listed() {
            let i = (unit as usize).min(C - 1);
            let (mut go, mut nogo) = (N::MAX, N::MAX);
            for (a, (g, n)) in self.w_go.iter().zip(self.w_nogo.iter()).enumerate() {
                if allowed & (1 << a) != 0 {
                    go = go.min(g[i]);
                    nogo = nogo.min(n[i]);
                }
            }
            let cut = |c: N| if c > N::ZERO { c * settle } else { N::ZERO };
            let (cut_go, cut_nogo) = (cut(go), cut(nogo));
            if cut_go == N::ZERO && cut_nogo == N::ZERO {
                continue;
            }
            for (a, (g, n)) in self.w_go.iter_mut().zip(self.w_nogo.iter_mut()).enumerate() {
                if mask & (1 << a) != 0 {
                    g[i] = g[i] - cut_go;
                    n[i] = n[i] - cut_nogo;
                }
            }
        }
    }

    /// Three-factor update: `ΔW_go = η_go δ e lr`, `ΔW_nogo = −η_nogo δ e lr`.
    /// `go` and `nogo` are `η δ` (already normalised and gated); `lr` the
    /// per-unit rate factor; `dither` supplies stochastic rounding bits.
    ///
    /// Then the part both weights of the synapse hold in common,
    /// `min(W_go, W_nogo)`, shrinks by the share `settle` from each: the net
    /// `W_go − W_nogo`, which is all selection reads, is kept. Without it each
    /// weight did a random walk above its floor 0 under dopamine of either
    /// sign and drifted to the rail `w_max` (in a long life across tasks up
    /// to 13.5% of NoGo weights sat there). Go's potentiation is
    /// soft-bounded, `× (1 − (W_go/w_max)²)` (`Synapse::step`).
    ///
    /// ```
    /// use tcbg::basal_ganglia::{Rail, Striatum};
    /// let mut st: Striatum<f32, 2, 1> = Striatum::new();
    /// st.w_go = [[0.0, 0.5]];
    /// st.set_elig([[1.0, 1.0]]);
    /// let rail = Rail { max: 1.0, inv: 1.0 };
    /// st.learn(0.1, 0.0, &[1.0, 1.0], rail, 0.0, || 0);
    /// assert!((st.w_go[0][0] - 0.1).abs() < 1e-6); // from 0: the full step
    /// assert!((st.w_go[0][1] - 0.575).abs() < 1e-6); // from 0.5: 3/4 of it
    /// st.learn(-0.1, 0.0, &[1.0, 1.0], rail, 0.0, || 0);
    /// assert!((st.w_go[0][1] - 0.475).abs() < 1e-6); // depression: all of it
    /// ```
    pub fn learn(
        &mut self,
        go: N,
        nogo: N,
        lr: &[N; C],
        rail: Rail<N>,
        settle: N,
        dither: impl FnMut() -> u32,
    ) {
        let sup = self.elig_support();
        self.learn_at(go, nogo, lr, rail, settle, dither, &sup);
    }

    /// [`Striatum::learn`] over the synapses of `sup` (a superset of those
    /// with a nonzero trace), in the same order.
    #[allow(clippy::too_many_arguments)]
    pub fn learn_at(
        &mut self,
        go: N,
        nogo: N,
        lr: &[N; C],
        rail: Rail<N>,
        settle: N,
        mut dither: impl FnMut() -> u32,
        sup: &EligSupport<C>,
    ) {
        if go == N::ZERO && nogo == N::ZERO {
            return;
        }
        // Only the actions with an eligible synapse (most steps: the one chosen).
        let rows = sup.rows();
        for a in 0..A {
            if rows & (1 << a) == 0 {
                continue;
            }
            for (unit, bits) in sup.listed() {
                if bits & (1 << a) == 0 {
                    continue;
                }
                let i = (unit as usize).min(C - 1);
                let e = self.elig[a][i];
                if e == N::ZERO {
                    continue; // sparse: most synapses carry no eligibility
                }
                let el = e * lr[i];
                let (g, n) = (&mut self.w_go[a][i], &mut self.w_nogo[a][i]);
                Synapse { go: g, nogo: n }.step(go, nogo, el, rail, settle, dither());
            }
        }
    }

    /// Traces decay by `keep` (λ, or 0 at a stimulus), then the chosen
    /// action's trace takes the current striatal input.
    pub fn update_traces(&mut self, keep: N, chosen: usize, x: &[N; C]) {
        let sup = self.elig_support();
        self.update_traces_at(keep, chosen, x, &support(x), &sup);
    }

    /// [`Striatum::update_traces`] touching only the traces of `sup` (a
    /// superset of the nonzero ones: a zero trace stays zero) and the
    /// entries `nz` of `x` (all its nonzero ones: a trace plus 0 is itself).
    pub fn update_traces_at(
        &mut self,
        keep: N,
        chosen: usize,
        x: &[N; C],
        nz: &[u16],
        sup: &EligSupport<C>,
    ) {
        // The rows left nonzero: only the traces touched here can be.
        let mut rows = 0u32;
        for (unit, bits) in sup.listed() {
            let i = (unit as usize).min(C - 1);
            for a in 0..A {
                if bits & (1 << a) != 0 {
                    let e = self.elig[a][i] * keep;
                    self.elig[a][i] = e;
                    if e != N::ZERO {
                        rows |= 1 << a;
                    }
                }
            }
        }
        let cap = N::from_f32(TRACE_MAX);
        if let Some(row) = self.elig.get_mut(chosen) {
            for &i in nz {
                if let (Some(e), Some(v)) = (row.get_mut(i as usize), x.get(i as usize)) {
                    *e = (*e + *v).min(cap);
                    if *e != N::ZERO {
                        rows |= 1 << chosen;
                    }
                }
            }
        }
        self.elig_rows = rows;
    }

    /// Clears every trace.
    pub fn clear_traces(&mut self) {
        self.elig = [[N::ZERO; C]; A];
        self.elig_rows = 0;
        self.recent = [N::ZERO; C];
    }

    /// The most recent trace: on a step with input (`nz` its nonzero
    /// entries) the input `x` on the `chosen` action, else the last one
    /// decayed by `keep`.
    pub fn update_recent(&mut self, keep: N, chosen: usize, x: &[N; C], nz: &[u16]) {
        if nz.is_empty() {
            for r in self.recent.iter_mut() {
                if *r != N::ZERO {
                    *r = *r * keep;
                }
            }
            return;
        }
        let cap = N::from_f32(TRACE_MAX);
        fill_row(&mut self.recent, N::ZERO);
        for &i in nz {
            if let (Some(r), Some(v)) = (self.recent.get_mut(i as usize), x.get(i as usize)) {
                *r = v.min(cap);
            }
        }
        self.recent_action = chosen.min(A - 1) as u8;
    }

    /// [`Striatum::learn_at`] on the most recent trace alone (its one
    /// action, its units ascending): what a dip of dopamine teaches. Go
    /// (D1) plasticity keeps a long eligibility (Yagishita et al. 2014); the
    /// NoGo learning of a dip reads recent activity (Iino et al. 2020), so
    /// the failure that ends a sequence blames its last action, not the
    /// correct ones before it.
    #[allow(clippy::too_many_arguments)]
    pub fn learn_recent(
        &mut self,
        go: N,
        nogo: N,
        lr: &[N; C],
        rail: Rail<N>,
        settle: N,
        mut dither: impl FnMut() -> u32,
    ) {
        if go == N::ZERO && nogo == N::ZERO {
            return;
        }
        let a = (self.recent_action as usize).min(A - 1);
        for i in 0..C {
            let e = self.recent[i];
            if e == N::ZERO {
                continue;
            }
            let el = e * lr[i];
            let (g, n) = (&mut self.w_go[a][i], &mut self.w_nogo[a][i]);
            Synapse { go: g, nogo: n }.step(go, nogo, el, rail, settle, dither());
        }
    }
}

/// The rail of the Go and NoGo weights, `w_max`, and its reciprocal.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rail<N> {
    /// `w_max`.
    pub max: N,
    /// `1 / w_max`.
    pub inv: N,
}

/// One corticostriatal synapse: its Go and NoGo weights.
struct Synapse<'a, N> {
    go: &'a mut N,
    nogo: &'a mut N,
}

impl<N: Num> Synapse<'_, N> {
    /// The three-factor step `ΔW_go = go·el`, `ΔW_nogo = −nogo·el`
    /// (stochastically rounded by the bits `d`), each limited to
    /// `[0, w_max]`; then what the two hold in common settles by `settle`.
    /// Go's potentiation is soft-bounded, `el (1 − (W/w_max)²)`: it slows
    /// near the rail and not at all near 0, where a new rule is learned
    /// (after the soft bounds of van Rossum, Bi & Turrigiano 2000). With
    /// the hard bound alone, the small positive dopamine of each success of
    /// a learned rule walked Go to the rail and kept it there: in a life of
    /// 10^8 steps across tasks more than 10% of the Go weights sat at
    /// `w_max` from step 40 million (`cargo xtask soak`). A linear bound,
    /// or one on NoGo too, slowed learning everywhere; NoGo's rail holds
    /// few weights, for its common part with Go settles.
    #[inline(always)]
    fn step(self, go: N, nogo: N, el: N, rail: Rail<N>, settle: N, d: u32) {
        let (g0, n0) = (*self.go, *self.nogo);
        let el_go = if go > N::ZERO && g0 != N::ZERO {
            // (`w_max` 1, the default, needs no scaling)
            let u = if rail.inv == N::ONE {
                g0
            } else {
                g0 * rail.inv
            };
            el * (N::ONE - u * u).max(N::ZERO)
        } else {
            el
        };
        let g = (g0 + go.mul_sr(el_go, d)).clamp(N::ZERO, rail.max);
        let n = (n0 - nogo.mul_sr(el, d >> 12)).clamp(N::ZERO, rail.max);
        let common = g.min(n) * settle;
        *self.go = g - common;
        *self.nogo = n - common;
    }
}

/// The rows of `elig` that hold a nonzero trace, bit `a` for row `a`
/// ([`Striatum::elig_rows`]).
pub(crate) fn elig_rows<N: Num, const C: usize, const A: usize>(elig: &[[N; C]; A]) -> u32 {
    let mut rows = 0;
    for (a, row) in elig.iter().enumerate() {
        if row.iter().any(|e| *e != N::ZERO) {
            rows |= 1 << a;
        }
    }
    rows
}

/// The cortical units with a nonzero eligibility trace on some action
/// ([`Striatum::elig_support`]), ascending, and on which actions.
#[derive(Clone, Debug)]
pub struct EligSupport<const C: usize> {
    /// Each listed unit (low half) with its action bits (high half: bit
    /// `16 + a` set when its trace on action `a` is nonzero), ascending.
    listed: heapless::Vec<u32, C>,
}

impl<const C: usize> EligSupport<C> {
    /// No unit listed.
    pub fn new() -> Self {
        EligSupport {
            listed: empty_list(),
        }
    }

    /// Every unit, each on every action (a superset of any support).
    pub fn all() -> Self {
        let mut sup = Self::new();
        for i in 0..C {
            sup.push(i, u16::MAX);
        }
        sup
    }

    /// Lists unit `i` with its action bits (a unit at most once, so the
    /// lists are never full).
    #[inline(always)]
    fn push(&mut self, i: usize, bits: u16) {
        let _ = self.listed.push(i as u16 as u32 | (bits as u32) << 16);
    }

    /// The listed units and their action bits, as pairs, units ascending.
    pub fn listed(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.listed.iter().map(|&p| (p as u16, (p >> 16) as u16))
    }

    /// The listed units, ascending.
    pub fn units(&self) -> impl Iterator<Item = u16> + '_ {
        self.listed.iter().map(|&p| p as u16)
    }

    /// How many units are listed.
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    /// Whether no unit is listed (every trace is zero).
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The actions with some nonzero trace (bit `a` for action `a`).
    pub fn rows(&self) -> u16 {
        (self.listed.iter().fold(0, |acc, &p| acc | p) >> 16) as u16
    }
}

impl<const C: usize> Default for EligSupport<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Kernels, const C: usize, const A: usize> Default for Striatum<N, C, A> {
    fn default() -> Self {
        Self::new()
    }
}

/// Bookkeeping of the context channels (one per thalamic control function).
#[derive(Clone, Debug, PartialEq)]
pub struct ContextChannels<N: Num, const K: usize> {
    /// Competence: running reward rate of each control function while
    /// active. Q3.12, 0 to 1 (rewards below 0 count as 0), saturates.
    pub competence: [N; K],
    /// Usual surprise of each control function (running mean of the
    /// accumulator while active). Q3.12, 0 to `surprise_max`.
    pub surprise_mean: [N; K],
    /// Usual spread of surprise (running mean absolute deviation). Q3.12, 0 to `surprise_max`.
    pub surprise_dev: [N; K],
    /// Current surprise: leaky accumulator of negative dopamine, weighted by
    /// the current context's competence, reset at a switch. Q3.12, 0 to `surprise_max`.
    pub surprise: N,
    /// In-place learning: how far the basal ganglia have learned that
    /// surprise calls for learning within the current control function
    /// rather than for a switch to another. It releases the hold on
    /// plasticity that surprise brings (`hold + in_place (1 − hold)`) and
    /// raises the corticostriatal rates up to twofold (`1 + in_place`). The
    /// slow, BG-trained setting of the fast learner: at each context switch,
    /// which dopamine's surprise brings about, it steps up if the inputs
    /// changed (a new situation: no stored function has seen it, and one
    /// will have to learn) and down if they did not (the same inputs under
    /// another rule: a stored function may hold it, and plasticity is held
    /// so the switch can find it). It starts at 0 and transfers to every
    /// context, seen or not. Q3.12, 0 to 1, saturates.
    pub in_place: N,
    /// The recall test of a re-entered control function: its index, or `K`
    /// when none runs. 0 to K.
    pub recall_context: u8,
    /// Outcomes the tested control function has brought since re-entry. 0 to
    /// [`RECALL_OUTCOMES`].
    pub recall_outcomes: u8,
    /// Reward summed over the test's first half. Q3.12, −`RECALL_OUTCOMES`/2
    /// to `RECALL_OUTCOMES`/2.
    pub recall_reward: N,
    /// The tested control function's competence at re-entry: what it used to
    /// bring. Q3.12, 0 to 1.
    pub recall_expected: N,
    /// Belief in each control function: the log-probability that it is the
    /// rule in force, relative to the most probable one (Collins & Koechlin
    /// 2012). Every outcome adds the log-likelihood of what happened under
    /// each function's counterfactual prediction, in force or not; before
    /// that, beliefs more than the config's `belief_floor` below the best
    /// are raised to it (a rule may
    /// have changed since: the hazard of a change bounds how little a
    /// function can be believed). Q3.12, −[`BELIEF_MAX`] to 0, the best at 0.
    pub belief: [N; K],
    /// Belief in a new rule: the log-probability that the outcomes come from
    /// a rule no control function holds, relative to the best function. A
    /// new rule's prediction is a guess, `1/m` that the action taken is
    /// rewarded (a new task set is always a hypothesis: Collins & Frank
    /// 2013). It follows every outcome as the beliefs do: after an outcome
    /// it leads the best function by at most the config's `belief_floor`
    /// (the same hazard); the input's evidence against the functions can
    /// raise it further, to at most [`BELIEF_MAX`]. Q3.12, −[`BELIEF_MAX`]
    /// to [`BELIEF_MAX`].
    pub belief_new: N,
    /// Each control function's predicted probability that the last action
    /// taken is rewarded ([`ContextChannels::predict`]). Q3.12, 0 to 1.
    pub predicted: [N; K],
    /// What each control function would choose for each input pattern of
    /// the thalamus's recency memory (`Thalamus::patterns`): the action its
    /// striatal drive clearly preferred there when it was last in force,
    /// plus 1; 0 for none (no clear preference, never in force there, or a
    /// pattern new to the memory). Its weights change only while it is in
    /// force, so the choice stands for its policy now. 0 to A.
    pub choice: [[u8; PATTERNS]; K],
    /// Which input patterns each control function has met: bit `j` set once
    /// it was in force at a trial's first step with the pattern of entry `j`
    /// of the thalamus's recency memory (cleared when the entry takes a new
    /// pattern). A function that has met patterns, but never this one while
    /// another function did, is unlikely to be the rule that brings it: the
    /// input is evidence too ([`ContextChannels::predict`]). A bit per entry
    /// of the recency memory, 0 to 255.
    pub seen: [u8; K],
    /// Trials since the last one of several decisions (a sequence, a
    /// delay), counted down from 64 by trials that end at their first
    /// decision: while above 0 the outcome memory stays aside, and belief
    /// judges no trial's end but that of a trial ended at its first
    /// decision (the outcome of a trial of several decisions is the whole
    /// trial's, which no one pattern's choice predicts; belief judges its
    /// first decision on its own, going on past it a success). 0 to 64.
    pub several: u8,
    /// The outcome memory (after the working memory of Collins & Frank
    /// 2012, which learns in one trial): the action taken at the first step
    /// of the last trial with the pattern of each entry of the thalamus's
    /// recency memory, plus 1; 0 for none (cleared when the entry takes a
    /// new pattern). 0 to A.
    pub last_action: [u8; PATTERNS],
    /// Whether that trial went unrewarded. A bit per entry of the recency
    /// memory, 0 to 255.
    pub last_lost: u8,
    /// The actions that went unrewarded at the first step of a trial with
    /// the pattern of each entry of the thalamus's recency memory since the
    /// last reward there: a bit per action, the losses of the working
    /// memory's table of Collins & Frank (2012), which holds each action's
    /// last outcome per stimulus. With two actions it is the last loss
    /// alone; with more, every action tried and failed since the pattern
    /// last paid is shifted from, not only the last (elimination). Once
    /// every allowed action has lost, none is ruled out any more: the set
    /// starts again from the last. Cleared by a reward, and when the entry
    /// takes a new pattern. 0 to 2^A − 1.
    pub lost_since: [u16; PATTERNS],
    /// The entry of the open trial's pattern, plus 1, until its outcome; 0
    /// for none. 0 to [`PATTERNS`].
    pub last_open: u8,
    /// The outcome memory's reliability: the running rate at which an action
    /// taken again for a pattern brought what it brought the last time there
    /// (about 1 where rules are deterministic, `p² + (1 − p)²` where an
    /// action is rewarded with probability `p`: 0.68 on a 0.8 bandit arm).
    /// It learns slowly (the config's `eta_reliability`), from 0 at birth: a
    /// setting of the fast learner learned over blocks, as in-place learning
    /// is. Q3.12, 0 to 1 (in fixed point it climbs to about 0.985 at most at
    /// the default rate, where a step of the average rounds to 0; `f32`
    /// reaches 1).
    pub reliability: N,
    /// What the outcome memory foretells for the open trial: 0 nothing (its
    /// action is not the one remembered for the pattern), 1 a loss, 2 a
    /// reward. 0 to 2.
    pub foretold: u8,
    /// How often outcomes repeat where the basal ganglia took them for
    /// noise: the running rate at which an action taken again for a
    /// pattern brought what it brought the last time. A disappointment
    /// counts once it is judged noise ([`ContextChannels::doubt`]): its
    /// pattern, back under the control function it came under, brought
    /// what it used to; one that the function relearned, or left for good,
    /// was a rule's change. So it is 1 where rules are deterministic, and
    /// about `p` where the rule's action is rewarded with probability `p`
    /// (`(p² + (1 − p)²)/(1 − p (1 − p))`: 0.95 with 5% of rewards
    /// flipped, 0.81 on a 0.8 bandit arm). It bounds how sure any
    /// function's prediction is ([`ContextChannels::predict`]): a function
    /// is no surer of an outcome than outcomes have been seen to repeat, so
    /// one unlucky outcome of a noisy rule does not disprove it. Learned at
    /// the config's `eta_consistency`, from 1 at birth (rules are taken as
    /// deterministic until outcomes show otherwise). Q3.12, 0 to 1 (in
    /// fixed point at most about 0.992 once it has fallen: a step of the
    /// average rounds to 0 there, below the predictions' own bound,
    /// [`PREDICTION_MAX`]).
    pub consistency: N,
    /// The control function under which the outcome memory last foretold
    /// wrong, plus 1, until that disappointment is judged, when its pattern
    /// ([`ContextChannels::doubt_slot`]) comes back under the function:
    /// noise if the same action brings back what it used to, or another
    /// action fails (the one left was right); a change if the same action
    /// brings the new outcome again, or another action succeeds (the
    /// function relearned). A change as well if the model stays under
    /// other functions for [`DOUBT_OUTCOMES`] outcomes: it left the
    /// function for good. 0 for none. 0 to K.
    pub doubt: u8,
    /// Outcomes judged under other functions since that disappointment. 0
    /// to [`DOUBT_OUTCOMES`].
    pub doubt_age: u8,
    /// The pattern of that disappointment: its entry in the thalamus's
    /// recency memory, plus 1 (0 for none). 0 to [`PATTERNS`].
    pub doubt_slot: u8,
}

// `ContextChannels::seen` holds a bit per entry of the recency memory.
const _: () = assert!(PATTERNS <= 8);

/// Outcomes judged under other control functions after which a
/// disappointment is taken for a rule's change: the model left the function
/// it came under ([`ContextChannels::doubt`]).
pub const DOUBT_OUTCOMES: u8 = 4;

/// How far a rate of right outcomes `p` is beyond chance between two,
/// `max(2p − 1, 0)`: 0 at one half or less, 1 at 1.
#[inline(always)]
fn beyond_chance<N: Num>(p: N) -> N {
    (p + p - N::ONE).relu()
}

/// The least belief (log probability relative to the best).
pub const BELIEF_MAX: f32 = 6.0;
/// A control function's choice is clear when its striatal drive leads the
/// next action's by this much.
pub const CLEAR_LEAD: f32 = 0.25;
const CLEAR_LEAD_Q15: u16 = (CLEAR_LEAD * 32768.0) as u16;

/// The least likelihood [`LnTable::ln`] takes: 1 in 256, the complement
/// of [`PREDICTION_MAX`].
pub const LIK_MIN: f32 = 1.0 / 256.0;

/// The surest prediction of an outcome, 1 − 1/256: surer than any noise
/// level a task of the suite has, so that on deterministic rules one
/// unexpected outcome outweighs the hazard of a change shared among
/// several stored rules ([`ContextChannels::hazard_floor`]), as it must.
pub const PREDICTION_MAX: f32 = 1.0 - 1.0 / 256.0;
const PREDICTION_MAX_Q15: u16 = 32640;
const _: () = assert!(PREDICTION_MAX_Q15 as f32 == PREDICTION_MAX * 32768.0);

/// The likelihood of a trial's input under a function that would not have
/// brought it ([`ContextChannels::input_evidence`]): 1 in 50.
pub const LIK_INPUT: f32 = 0.02;

/// `ln x` for `x` in `[LIK_MIN, 1]`: `x = 2^−e m` with `m` in `[0.5, 1]`
/// (doublings, [`Kernels::doublings`]; no division), `ln m` piecewise
/// linear through the natural log at 0.5, 0.7 and 1 (at most 0.02 from
/// `ln`): the table of [`crate::kernels::ln_table`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LnTable<N> {
    t: [N; 16],
}

impl<N: Num> LnTable<N> {
    /// The table in the number type `N`.
    pub fn new() -> Self {
        // ln 0.5 and ln 0.7.
        let (l5, l7) = (-core::f32::consts::LN_2, -0.356_674_94);
        let ln2 = N::from_f32(core::f32::consts::LN_2);
        let mut t = [N::ZERO; 16];
        let head = [LIK_MIN, 0.5, 0.7, 1.0, l5, l7, (l7 - l5) / 0.2, -l7 / 0.3];
        for (v, x) in t.iter_mut().zip(head) {
            *v = N::from_f32(x);
        }
        // e ln 2, e = 0 to 7 (at least LIK_MIN = 2^-8: at most 7
        // doublings).
        for e in 9..16 {
            t[e] = t[e - 1] + ln2;
        }
        LnTable { t }
    }

    /// The table as [`crate::kernels::ln_table`] reads it.
    pub fn table(&self) -> [N; 16] {
        self.t
    }
}

impl<N: Kernels> LnTable<N> {
    /// `ln x`, `x` limited to `[LIK_MIN, 1]`.
    ///
    /// ```
    /// use tcbg::basal_ganglia::LnTable;
    /// let t = LnTable::<f32>::new();
    /// for x in [0.02f32, 0.05, 0.1, 0.15, 0.3, 0.5, 0.6, 0.9, 1.0] {
    ///     assert!((t.ln(x) - x.ln()).abs() < 0.02, "{x}");
    /// }
    /// ```
    #[inline(always)]
    pub fn ln(&self, x: N) -> N {
        crate::kernels::ln_table(x, &self.t)
    }
}

impl<N: Num> Default for LnTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// The constants of the context channels' evidence
/// ([`ContextChannels::saliences`]).
#[derive(Clone, Copy, Debug)]
pub struct Evidence<N> {
    /// Weight of competence.
    pub w_q: N,
    /// Weight of belief ([`ContextChannels::belief`]).
    pub w_belief: N,
    /// Scale of the noise.
    pub noise: N,
    /// The current channel's persistence bonus.
    pub persistence: N,
    /// Weight of the usual spread of surprise in the usual surprise.
    pub k_dev: N,
    /// The most the usual surprise counts.
    pub usual_max: N,
    /// Salience of no evidence.
    pub bias: N,
    /// Salience per unit of evidence.
    pub scale: N,
    /// The largest salience.
    pub sal_max: N,
}

/// Outcomes a re-entered control function must bring, without a switch, for
/// its recall to be judged; the first half are scored (the second half only
/// shows it was kept: a function left at once was not the basal ganglia's
/// settled choice).
pub const RECALL_OUTCOMES: u8 = 8;

impl<N: Num, const K: usize> ContextChannels<N, K> {
    /// No competence, no surprise, no in-place learning.
    pub fn new() -> Self {
        ContextChannels {
            competence: [N::ZERO; K],
            surprise_mean: [N::ZERO; K],
            surprise_dev: [N::ZERO; K],
            surprise: N::ZERO,
            in_place: N::ZERO,
            recall_context: K as u8,
            recall_outcomes: 0,
            recall_reward: N::ZERO,
            recall_expected: N::ZERO,
            belief: [N::ZERO; K],
            belief_new: N::ZERO,
            predicted: [N::ZERO; K],
            choice: [[0; PATTERNS]; K],
            seen: [0; K],
            several: 0,
            last_action: [0; PATTERNS],
            last_lost: 0,
            lost_since: [0; PATTERNS],
            last_open: 0,
            reliability: N::ZERO,
            foretold: 0,
            consistency: N::ONE,
            doubt: 0,
            doubt_age: 0,
            doubt_slot: 0,
        }
    }

    /// The trial just begun with the pattern of entry `slot` took action
    /// `a`: the outcome memory holds it until the outcome
    /// ([`ContextChannels::remember_outcome`]).
    pub fn remember_action(&mut self, slot: usize, a: usize) {
        if let Some(m) = self.last_action.get_mut(slot) {
            let lost = (self.last_lost >> slot) & 1;
            self.foretold = if *m as usize == a + 1 { 2 - lost } else { 0 };
            *m = (a as u8).saturating_add(1);
            self.last_open = slot as u8 + 1;
        }
    }

    /// The open trial's outcome: the outcome memory notes whether it was
    /// rewarded, for the pattern of the trial's last decision (`judged`
    /// false notes nothing), and the trial is closed. `allowed`: the
    /// actions allowed (a bit each), which bound the losses noted since the
    /// pattern last paid ([`ContextChannels::lost_since`]).
    ///
    /// ```
    /// use tcbg::basal_ganglia::ContextChannels;
    /// let mut cc = ContextChannels::<f32, 2>::new();
    /// let three = 0b111; // three actions allowed
    /// let mut trial = |cc: &mut ContextChannels<f32, 2>, a: usize, won: bool| {
    ///     cc.remember_action(0, a); // pattern 0 took action `a`
    ///     cc.remember_outcome(won, true, three);
    ///     cc.lost_since[0]
    /// };
    /// assert_eq!(trial(&mut cc, 0, false), 0b001);
    /// assert_eq!(trial(&mut cc, 1, false), 0b011); // both are shifted from
    /// assert_eq!(trial(&mut cc, 2, false), 0b100); // all lost: the last alone
    /// assert_eq!(trial(&mut cc, 0, true), 0); // a reward clears the losses
    /// ```
    pub fn remember_outcome(&mut self, rewarded: bool, judged: bool, allowed: u32) {
        let open = self.last_open as usize;
        if judged && (1..=PATTERNS).contains(&open) {
            let slot = open - 1;
            let a = self.last_action[slot].saturating_sub(1).min(15);
            let lost = &mut self.lost_since[slot];
            *lost = if rewarded {
                0
            } else {
                let more = *lost | 1 << a;
                // Every allowed action lost: the last alone is shifted from.
                if u32::from(more) & allowed == allowed {
                    1 << a
                } else {
                    more
                }
            };
            let bit = 1u8 << slot;
            self.last_lost = if rewarded {
                self.last_lost & !bit
            } else {
                self.last_lost | bit
            };
        }
        self.close_trial();
    }

    /// The open trial is closed unnoted: its outcome will meet no action.
    pub fn close_trial(&mut self) {
        self.last_open = 0;
        self.foretold = 0;
    }

    /// How far the outcome memory counts (its weight in an action's
    /// salience, relative to the config's `w_memory`) after a trial that
    /// was rewarded (`won`) or not, where the function in force noted the
    /// remembered action as its clear choice for the pattern (`chose`) or
    /// not: as far as in-place learning calls for learning, `in_place²`;
    /// and, unless a win's action is the function's clear choice (the
    /// memory would add nothing), as far as the memory has foretold
    /// outcomes, `(2 reliability − 1)²` (a reliability of one half or less,
    /// chance, counts nothing): the larger of the two. Squared, so that a
    /// setting still rising counts little. A loss counts however clear the
    /// choice: it is the choice that erred, which one dip may not undo
    /// where cues share units (the step then weighs a loss of the function's
    /// own choice by the posterior of a change,
    /// [`ContextChannels::change_posterior`], as the dip is).
    #[inline(always)]
    pub fn memory_weight(&self, won: bool, chose: bool, w_memory: N) -> N {
        let m = if won && chose {
            self.in_place
        } else {
            self.in_place.max(beyond_chance(self.reliability))
        };
        if m == N::ZERO {
            N::ZERO // (no products: the usual case)
        } else {
            w_memory * (m * m) // (max(a², b²) = max(a, b)² for a, b ≥ 0)
        }
    }

    /// The action control function `k` noted as its clear choice for the
    /// pattern of entry `slot` ([`ContextChannels::choice`]), if any.
    #[inline(always)]
    pub fn chose(&self, k: usize, slot: usize) -> Option<usize> {
        let c = *self.choice.get(k)?.get(slot)? as usize;
        c.checked_sub(1)
    }

    /// What the outcome memory holds for the pattern of entry `slot`: the last
    /// action taken there and whether it was rewarded.
    pub fn recall_last(&self, slot: usize) -> Option<(usize, bool)> {
        let a = *self.last_action.get(slot)? as usize;
        (a > 0 && slot < PATTERNS).then(|| (a - 1, self.last_lost & (1 << slot) == 0))
    }

    /// The input's pattern (its entry `slot` in the thalamus's recency
    /// memory, `None` for none) meets the action `a` taken: the current
    /// function `cur` notes its choice there from its striatal `drive` over
    /// the `m` `allowed` actions (bit `b` for action `b`), a clear one (the
    /// drive leads the next by [`CLEAR_LEAD`]) or none; and every function
    /// predicts `a`'s reward (the counterfactual read-out, after Collins &
    /// Koechlin 2012): with `q` its competence, at least `competent` (an
    /// established function's) and at most the smaller of
    /// [`PREDICTION_MAX`] and [`ContextChannels::consistency`], `q` if it chose `a`,
    /// `(1 − q)/(m − 1)` if another action, `1/m` if none (a fresh
    /// function's zero weights choose none). Returns the
    /// functions the input itself speaks against (bit `k`): each has met
    /// patterns ([`ContextChannels::seen`]), but never this one, which
    /// another function met before. At a later step of a trial (`slot`
    /// `None`: cortex holds the trial's earlier activity too, so the step has
    /// no pattern of its own) nothing is noted and only the function in
    /// force predicts, from its drive there: a decision within a sequence
    /// is judged by its dip's weight ([`ContextChannels::dip_weight`]) like
    /// any other.
    ///
    /// ```
    /// use tcbg::basal_ganglia::ContextChannels;
    /// let mut cc: ContextChannels<f32, 2> = ContextChannels::new();
    /// cc.competence = [0.9, 0.0];
    /// cc.predict(0, Some(3), &[0.8, 0.1], (0b11, 2), 0, 0.85);
    /// assert_eq!(cc.choice[0][3], 1); // action 0, plus 1
    /// assert!((cc.predicted[0] - 0.9).abs() < 1e-6);
    /// assert_eq!(cc.predicted[1], 0.5); // never in force there
    /// // Function 1 comes to meet pattern 5 only; then pattern 3 comes back
    /// // under function 0: the input itself speaks against function 1.
    /// assert_eq!(cc.predict(1, Some(5), &[0.0, 0.0], (0b11, 2), 0, 0.85), 0);
    /// assert_eq!(cc.predict(0, Some(3), &[0.8, 0.1], (0b11, 2), 0, 0.85), 0b10);
    /// assert_eq!(cc.seen, [1 << 3, 1 << 5]);
    /// // A later step of a trial (no pattern): the function in force still
    /// // predicts its clear choice, for the dip's weight; nothing is noted.
    /// assert_eq!(cc.predict(0, None, &[0.1, 0.8], (0b11, 2), 1, 0.85), 0);
    /// assert!((cc.predicted[0] - 0.9).abs() < 1e-6);
    /// assert_eq!(cc.predicted[1], 0.5);
    /// cc.predict(0, None, &[0.5, 0.4], (0b11, 2), 1, 0.85); // no clear lead
    /// assert_eq!(cc.predicted, [0.5, 0.5]);
    /// ```
    #[inline(never)]
    pub fn predict<const A: usize>(
        &mut self,
        cur: usize,
        slot: Option<usize>,
        drive: &[N; A],
        (allowed, m): (u32, usize),
        a: usize,
        competent: N,
    ) -> u32 {
        let recip = |n: usize| N::from_q15(RECIP_Q15.get(n).copied().unwrap_or(0));
        let m = m.max(1);
        let (inv_m, inv_m1) = (recip(m), recip((m - 1).max(1)));
        let (mut best, mut first, mut second) = (A, N::MIN, N::MIN);
        for (b, &v) in drive.iter().enumerate() {
            // (an action not allowed never leads: no branch on it)
            let v = if allowed & (1 << b) != 0 { v } else { N::MIN };
            if v > first {
                (second, first, best) = (first, v, b);
            } else if v > second {
                second = v;
            }
        }
        let clear = best < A && m > 1 && first - second >= N::from_q15(CLEAR_LEAD_Q15);
        let chosen = if clear { best as u8 + 1 } else { 0 };
        // As sure as an established function at least: a choice is a rule
        // learned, and a function failing now does not come to expect its
        // failures. Never surer than outcomes have been seen to repeat
        // (`consistency`), nor than `PREDICTION_MAX` either way.
        // (`max` then `min`: a config's `competent` above the bound gives it)
        let hi = self.consistency.min(N::from_q15(PREDICTION_MAX_Q15));
        let lo = competent.max(N::from_q15(655));
        let sure = |q: N| q.max(lo).min(hi);
        let predict = |choice: usize, q: N| {
            if choice == 0 {
                inv_m
            } else if choice == a + 1 {
                sure(q)
            } else {
                (N::ONE - sure(q)) * inv_m1
            }
        };
        let Some(slot) = slot.filter(|&s| s < PATTERNS) else {
            // A later step of a trial: no pattern of its own (cortex holds
            // the trial's earlier activity too), so nothing is noted and no
            // other function predicts; the function in force still read its
            // own drive, for the dip's weight ([`ContextChannels::dip_weight`]).
            self.predicted = [inv_m; K];
            if let (Some(p), Some(&q)) = (self.predicted.get_mut(cur), self.competence.get(cur)) {
                *p = predict(chosen as usize, q);
            }
            return 0;
        };
        let bit = 1u8 << slot;
        let met_before = self.seen.iter().any(|s| s & bit != 0);
        if let Some(s) = self.seen.get_mut(cur) {
            *s |= bit;
        }
        let mut against = 0u32;
        if met_before {
            for (k, &s) in self.seen.iter().enumerate() {
                if s != 0 && s & bit == 0 {
                    against |= 1 << k;
                }
            }
        }
        if let Some(c) = self.choice.get_mut(cur).and_then(|ch| ch.get_mut(slot)) {
            *c = chosen;
        }
        let rows = self.choice.iter().zip(self.competence.iter());
        for (p, (row, &q)) in self.predicted.iter_mut().zip(rows) {
            *p = predict(row.get(slot).copied().unwrap_or(0) as usize, q);
        }
        against
    }

    /// The input of a trial speaks against the functions `against` (from
    /// [`ContextChannels::predict`]): each takes the least likelihood,
    /// [`LIK_INPUT`] (it would not have brought this pattern), and the beliefs
    /// are taken relative to the best again (limited to `lo`).
    #[inline(never)]
    pub fn input_evidence(&mut self, against: u32, ln: &LnTable<N>, lo: N)
    where
        N: Kernels,
    {
        let lik: [N; K] = core::array::from_fn(|k| {
            if against & (1 << k) != 0 {
                N::from_f32(LIK_INPUT)
            } else {
                N::ONE
            }
        });
        // No floor here: the hazard of a rule change is per outcome. A new
        // rule is no more against the input than for it: relative to the
        // best, it moves as the best does.
        let (best, _) = N::learn_belief(&mut self.belief, &lik, N::ONE, (lo, lo), &ln.t);
        self.belief_new = (self.belief_new - best).clamp(lo, -lo);
    }

    /// A pattern new to the thalamus's memory took entry `slot`: what the
    /// control functions chose for the pattern it replaced is forgotten.
    pub fn forget_pattern(&mut self, slot: usize) {
        for row in self.choice.iter_mut() {
            if let Some(c) = row.get_mut(slot) {
                *c = 0;
            }
        }
        if slot < PATTERNS {
            for s in self.seen.iter_mut() {
                *s &= !(1u8 << slot);
            }
            self.last_action[slot] = 0;
            self.lost_since[slot] = 0;
            self.last_lost &= !(1u8 << slot);
            if self.last_open as usize == slot + 1 {
                self.last_open = 0;
            }
        }
    }

    /// The belief floor for the next outcome, with the function `cur` in
    /// force: the config's `floor` (at most 0; `e^floor` is the hazard of a
    /// rule change) less `ln n`, where `n` (at least 1) counts the distinct
    /// rules stored besides `cur`'s: functions with a clear choice for some
    /// pattern ([`ContextChannels::choice`]) whose choices differ from
    /// `cur`'s and from each other's. A change of rule leads to one of them,
    /// so each is a candidate with a share of the hazard: with three rules
    /// stored, one unexpected outcome of a noisy rule no longer makes either
    /// other one more believed than the one in force, where two in a row
    /// (or one on deterministic rules, predicted as sure as
    /// [`PREDICTION_MAX`]) still do. Functions that hold the same choices
    /// are one rule, stored twice: on the bandit's single input every
    /// function holds one of two choices, and the floor stays.
    ///
    /// ```
    /// use tcbg::basal_ganglia::{ContextChannels, LnTable};
    /// let mut cc: ContextChannels<f32, 4> = ContextChannels::new();
    /// let ln = LnTable::new();
    /// // Function 0 in force; 1 holds another rule; 2 and 3 hold none.
    /// cc.choice[0][0] = 1;
    /// cc.choice[1][0] = 2;
    /// assert_eq!(cc.hazard_floor(0, -3.0, &ln), -3.0);
    /// // A third rule: the hazard is shared between two.
    /// cc.choice[2][0] = 3;
    /// assert!((cc.hazard_floor(0, -3.0, &ln) - (-3.0 - 2f32.ln())).abs() < 0.02);
    /// // Function 3 stores function 1's rule again: still two.
    /// cc.choice[3][0] = 2;
    /// assert!((cc.hazard_floor(0, -3.0, &ln) - (-3.0 - 2f32.ln())).abs() < 0.02);
    /// ```
    pub fn hazard_floor(&self, cur: usize, floor: N, ln: &LnTable<N>) -> N
    where
        N: Kernels,
    {
        let mine = self.choice.get(cur);
        let mut n = 0usize;
        for (k, row) in self.choice.iter().enumerate() {
            let held = row.iter().any(|&c| c != 0);
            // (a rule stored earlier, not `cur`'s, was counted there)
            let seen = self
                .choice
                .iter()
                .take(k)
                .enumerate()
                .any(|(j, r)| j != cur && r == row);
            if k != cur && held && Some(row) != mine && !seen {
                n += 1;
            }
        }
        if n <= 1 {
            floor
        } else {
            floor + ln.ln(N::from_q15(RECIP_Q15[n.min(RECIP_Q15.len() - 1)]))
        }
    }

    /// An outcome meets every control function's prediction of it
    /// ([`ContextChannels::predicted`]), and a new rule's, the `guess` `1/m`:
    /// each belief, raised to `floor`, adds the log-likelihood of the
    /// outcome (`reward` at least one half counts as rewarded); then the
    /// beliefs are taken relative to the best function (limited to `lo`;
    /// a new rule's to `[lo, −floor]`).
    ///
    /// The outcome memory is judged too, where it foretold the outcome (the
    /// trial's action is the one remembered for its pattern): its
    /// [`ContextChannels::reliability`] follows at `rates.0` whether it
    /// was right, and [`ContextChannels::consistency`] at `rates.1`, a
    /// disappointment once it is judged noise, when its pattern comes back
    /// under the function it came under (`cur` is the function in force;
    /// [`ContextChannels::doubt`]).
    ///
    /// ```
    /// use tcbg::basal_ganglia::{ContextChannels, LnTable};
    /// let mut cc: ContextChannels<f32, 3> = ContextChannels::new();
    /// let ln = LnTable::new();
    /// // Function 0 predicted the reward; 1 did not; 2 had no preference.
    /// cc.predicted = [0.9, 0.1, 0.5];
    /// cc.learn_belief(1.0, &ln, (-3.0, -6.0), 0.5, (0.0, 0.0), 0);
    /// assert_eq!(cc.belief[0], 0.0);
    /// assert!(cc.belief[1] < cc.belief[2] && cc.belief[2] < 0.0);
    /// // A new rule guessed as function 2 did.
    /// assert!((cc.belief_new - cc.belief[2]).abs() < 1e-6);
    ///
    /// // Action 0 for pattern 3 is rewarded, then, taken again, it is not:
    /// // the memory foretold wrong under function 0.
    /// let mut trial = |cc: &mut ContextChannels<f32, 3>, won: bool| {
    ///     cc.remember_action(3, 0);
    ///     let r = if won { 1.0 } else { 0.0 };
    ///     cc.learn_belief(r, &ln, (-3.0, -6.0), 0.5, (0.0, 0.5), 0);
    ///     cc.remember_outcome(won, true, 0b11);
    /// };
    /// trial(&mut cc, true);
    /// trial(&mut cc, false);
    /// assert_eq!((cc.doubt, cc.consistency), (1, 1.0));
    /// // Back under function 0, the same action brings the reward again:
    /// // the disappointment was noise.
    /// trial(&mut cc, true);
    /// assert_eq!((cc.doubt, cc.consistency), (0, 0.5));
    /// ```
    // Out of line: once in the step (the f32 oracle's firmware is near its
    // flash).
    #[inline(never)]
    pub fn learn_belief(
        &mut self,
        reward: N,
        ln: &LnTable<N>,
        (floor, lo): (N, N),
        guess: N,
        rates: (N, N),
        cur: usize,
    ) where
        N: Kernels,
    {
        let hit = reward >= N::from_q15(16384);
        self.judge_memory_at(hit, rates, cur);
        self.judge_belief(hit, ln, (floor, lo), guess);
    }

    /// Belief alone meets an outcome (`hit`: rewarded) of the action the
    /// functions predicted ([`ContextChannels::learn_belief`] without the
    /// outcome memory): the first decision of a trial that went on past it,
    /// whose trial the memory judges at its end.
    // Out of line: two callers (the `f32` oracle's firmware is near its
    // flash).
    #[inline(never)]
    pub fn judge_belief(&mut self, hit: bool, ln: &LnTable<N>, (floor, lo): (N, N), guess: N)
    where
        N: Kernels,
    {
        let lik = self.predicted.map(|p| if hit { p } else { N::ONE - p });
        let p_new = if hit { guess } else { N::ONE - guess };
        let (best, ln_new) = N::learn_belief(&mut self.belief, &lik, p_new, (floor, lo), &ln.t);
        self.belief_new = (self.belief_new.max(floor) + ln_new - best).clamp(lo, -floor);
    }

    /// The outcome memory meets an outcome (`hit`: rewarded) where it
    /// foretold one: its reliability at `rates.0`, the consistency of
    /// outcomes at `rates.1` (see [`ContextChannels::learn_belief`]).
    // Out of line: the step calls it only after a trial of several
    // decisions (inline, it cost the M4F 68 instructions a step it never
    // ran); `learn_belief` inlines the same code.
    #[inline(never)]
    pub fn judge_memory(&mut self, hit: bool, rates: (N, N), cur: usize) {
        self.judge_memory_at(hit, rates, cur);
    }

    #[inline(always)]
    fn judge_memory_at(&mut self, hit: bool, rates: (N, N), cur: usize) {
        let wrong = self.foretold != 0 && (self.foretold == 2) != hit;
        if self.foretold != 0 {
            let r = self.reliability;
            let error = if wrong { -r } else { N::ONE - r };
            // (within 0 to 1 without a clamp: the rate is at most 0.1)
            self.reliability = r + rates.0 * error;
        }
        // A disappointment is judged when its pattern comes back under the
        // function it came under (see `doubt`). Judging by the pattern, not
        // by the next outcome: a function relearning in place after a
        // rule's change would otherwise take the change for noise.
        let cur1 = cur as u8 + 1;
        let slot = self.last_open;
        let mut judged = false;
        if self.doubt == cur1 && slot == self.doubt_slot {
            // The same action bringing back the old outcome is `wrong` for
            // the memory, which now holds the disappointment.
            let same_back = self.foretold != 0 && wrong;
            let other_failed = self.foretold == 0 && !hit;
            if same_back || other_failed {
                self.consistency = self.consistency - rates.1 * self.consistency;
            }
            (self.doubt, judged) = (0, true);
        } else if self.doubt != 0 && self.doubt != cur1 {
            if self.doubt_age >= DOUBT_OUTCOMES {
                self.doubt = 0;
            } else {
                self.doubt_age += 1;
            }
        }
        if wrong && !judged {
            (self.doubt, self.doubt_age, self.doubt_slot) = (cur1, 0, slot);
        } else if !wrong && self.foretold != 0 {
            let c = self.consistency;
            self.consistency = c + rates.1 * (N::ONE - c);
        }
    }

    /// How far a dip of dopamine teaches the actor (a factor of its Go and
    /// NoGo steps, 0 to 1) after an action for which the function `cur` had
    /// noted a clear choice, as [`ContextChannels::predicted`] still holds
    /// (it predicted the action rewarded surer than a guess over the `m`
    /// allowed actions): the probability that the loss means a change of
    /// rule rather than noise, `h / (h + (1 − h)(1 − c))`, with `c` the
    /// consistency (how often a rule's choice brings what it brought) and
    /// `h = e^floor` the hazard of a change on one outcome, the one the
    /// belief floor stands for (`floor` is the floor as a log probability,
    /// the agent's −3); 1 after any other action. When the same action lost
    /// for the same pattern last time too (`again`: the outcome memory
    /// foretold the loss), two losses in a row are the evidence, and `1 − c`
    /// is squared: noise repeats that rarely.
    /// Where rules are deterministic (`c` = 1) a loss on a rule's choice says
    /// the rule changed or is wrong, and teaches fully; where outcomes are
    /// noisy it is mostly noise, and a change is for belief to answer, by a
    /// switch of control function, not for the actor to unlearn the rule.
    /// The Bayes posterior of a change, where this used to be
    /// `(2c − 1)²` (`docs/MODEL.md`, "A loss on a rule's choice").
    ///
    /// ```
    /// use tcbg::basal_ganglia::ContextChannels;
    /// let mut cc: ContextChannels<f32, 2> = ContextChannels::new();
    /// cc.predicted = [0.8, 0.5]; // function 0 chose the action; 1 did not
    /// cc.consistency = 0.8;
    /// let floor = -3.0f32; // the belief floor: a hazard of e^−3 per outcome
    /// let h = floor.exp();
    /// let want = h / (h + (1.0 - h) * 0.2); // about 0.21
    /// assert!((cc.dip_weight(0, 2, floor, false) - want).abs() < 1e-6);
    /// let again = h / (h + (1.0 - h) * 0.04); // a second loss: about 0.57
    /// assert!((cc.dip_weight(0, 2, floor, true) - again).abs() < 1e-6);
    /// assert_eq!(cc.dip_weight(1, 2, floor, false), 1.0);
    /// cc.consistency = 1.0; // deterministic rules: a loss teaches fully
    /// assert_eq!(cc.dip_weight(0, 2, floor, false), 1.0);
    /// ```
    #[inline(always)]
    pub fn dip_weight(&self, cur: usize, m: usize, floor: N, again: bool) -> N {
        let guess = N::from_q15(RECIP_Q15.get(m).copied().unwrap_or(0));
        let chose = self.predicted.get(cur).is_some_and(|&p| p > guess);
        if !chose {
            return N::ONE;
        }
        self.change_posterior(floor, again)
    }

    /// The probability that a loss on a rule's choice means a change of
    /// rule rather than noise, `h / (h + (1 − h)(1 − c))` (see
    /// [`ContextChannels::dip_weight`]; `again`: the second loss in a row,
    /// `1 − c` squared); 1 where outcomes have always repeated (`c` = 1).
    /// It weighs the dip's lesson and the outcome memory's shift from a
    /// choice that lost alike.
    #[inline(always)]
    pub fn change_posterior(&self, floor: N, again: bool) -> N {
        let c = self.consistency;
        if c == N::ONE {
            return N::ONE; // (no products: the usual case)
        }
        let hazard = floor.exp_nonpos();
        let noise = N::ONE - c;
        let noise = if again { noise * noise } else { noise };
        let (mut h, mut d) = (hazard, hazard + (N::ONE - hazard) * noise);
        // `d` is at least `h`, which may lie below the range of `recip_sat`
        // (1/8 and up): both are scaled by 8, up to twice (a hazard of e^−6).
        for _ in 0..2 {
            if d < N::from_q15(4096) {
                (h, d) = (h + h, d + d);
                (h, d) = (h + h, d + d);
                (h, d) = (h + h, d + d);
            }
        }
        (h * d.recip_sat()).min(N::ONE)
    }

    /// How far the current function `cur` answers for the outcomes: the
    /// likelihood of the best explanation it stands for relative to the
    /// best of all, `e^(b − max(0, b_new))`. `b` is its own belief, or, when
    /// it stands in for a new rule (`stand_in`: no unused function is left
    /// to learn one), the better of its own and a new rule's. 1 when it (or
    /// the new rule it stands in for) explains the outcomes best; near 0
    /// when another function, or a new rule an unused function would learn,
    /// does. A function learns from an outcome as far as it answers for it
    /// (responsibility, after Collins & Frank 2013): re-entered by mistake,
    /// it does not unlearn its rule on another rule's outcomes.
    ///
    /// ```
    /// use tcbg::basal_ganglia::ContextChannels;
    /// let mut cc: ContextChannels<f32, 2> = ContextChannels::new();
    /// cc.belief = [-2.0, 0.0];
    /// cc.belief_new = -3.0;
    /// assert!((cc.answerable(0, false) - (-2.0f32).exp()).abs() < 1e-6);
    /// assert_eq!(cc.answerable(1, false), 1.0);
    /// cc.belief_new = 0.5; // a new rule explains the outcomes best:
    /// assert_eq!(cc.answerable(0, true), 1.0); // the function in force learns it
    /// assert!((cc.answerable(1, false) - (-0.5f32).exp()).abs() < 1e-6); // an unused one will
    /// ```
    #[inline(always)]
    pub fn answerable(&self, cur: usize, stand_in: bool) -> N {
        let (own, new) = (self.belief[cur.min(K - 1)], self.belief_new);
        let stands = if stand_in { own.max(new) } else { own };
        let best = new.max(N::ZERO);
        if stands >= best {
            N::ONE // (no exponential: the usual case)
        } else {
            (stands - best).exp_nonpos()
        }
    }

    /// The current context `cur` meets the dopamine `delta` of an outcome:
    /// surprise, a competence-weighted CUSUM of negative dopamine, `S ←
    /// clamp(leak S − δ q − drift, 0, max)` with `q` the competence of `cur`
    /// floored at `floor`. A context that has shown it works is suspected
    /// at once when outcomes fall short; a fresh one counts less (it may
    /// still be learning). Judged at outcome steps only: a blank step brings
    /// no evidence, and the CUSUM's drift should not run down the evidence
    /// during a delay.
    #[inline(always)]
    pub fn accumulate_surprise(
        &mut self,
        cur: usize,
        delta: N,
        floor: N,
        leak: N,
        drift: N,
        max: N,
    ) {
        let conf = self.competence[cur].clamp(floor, N::ONE);
        let surprise_in = -(delta * conf);
        self.surprise = (leak * self.surprise + surprise_in - drift).clamp(N::ZERO, max);
    }

    /// The hold on corticostriatal and critic plasticity that surprise
    /// brings (contextual credit first): 1 (none) until surprise beyond the
    /// usual of context `cur` ([`ContextChannels::usual_surprise`]) reaches
    /// `start`, 0 (all held) from `start + 1/inv`; in-place learning
    /// releases it, `hold + in_place (1 − hold)`: surprise that the basal
    /// ganglia have learned to answer by learning, not by a switch. Beyond
    /// the usual, not absolute: a hold on absolute surprise held the critic
    /// too, so a value that drifted with cortex's slow learning kept every
    /// outcome a disappointment, surprise at its cap, and the hold for good
    /// (cue-context at the length of Rikhye et al.). The usual surprise
    /// itself learns unheld, so a level that persists without a switch
    /// becomes the usual and learning resumes.
    ///
    /// It is held as well as far as `cur` does not answer for the outcomes
    /// (`answers`, [`ContextChannels::answerable`]), before in-place
    /// learning releases it.
    ///
    /// ```
    /// use tcbg::basal_ganglia::ContextChannels;
    /// let mut cc: ContextChannels<f32, 1> = ContextChannels::new();
    /// cc.surprise = 1.0; // start 0.5, full hold from 1.5
    /// assert_eq!(cc.hold(0, 0.5, 1.0, 2.0, 1.0, 1.0), 0.5);
    /// assert_eq!(cc.hold(0, 0.5, 1.0, 2.0, 1.0, 0.5), 0.25);
    /// cc.surprise_mean = [0.5]; // as surprised as usual: no hold
    /// assert_eq!(cc.hold(0, 0.5, 1.0, 2.0, 1.0, 1.0), 1.0);
    /// ```
    #[inline(always)]
    pub fn hold(&self, cur: usize, start: N, inv: N, k_dev: N, usual_max: N, answers: N) -> N {
        let held = if self.surprise <= start {
            answers // (the usual surprise is never below 0)
        } else {
            let excess = self.surprise - self.usual_surprise(cur, k_dev, usual_max);
            let held = N::ONE - ((excess - start) * inv).clamp(N::ZERO, N::ONE);
            if answers == N::ONE {
                held
            } else {
                held * answers
            }
        };
        if held == N::ONE {
            return N::ONE;
        }
        let in_place = self.in_place;
        if in_place == N::ZERO {
            held // the same value, without the products
        } else {
            held + in_place * (N::ONE - held)
        }
    }

    /// The usual surprise of context `cur`: its mean plus `k_dev` spreads,
    /// at most `usual_max`.
    #[inline(always)]
    pub fn usual_surprise(&self, cur: usize, k_dev: N, usual_max: N) -> N {
        let (mean, dev) = (self.surprise_mean.get(cur), self.surprise_dev.get(cur));
        match (mean, dev) {
            (Some(&m), Some(&d)) => (m + k_dev * d).min(usual_max),
            _ => N::ZERO,
        }
    }

    /// The competence of context `cur` follows the `reward` of an outcome
    /// at `rate`.
    #[inline(always)]
    pub fn learn_competence(&mut self, cur: usize, reward: N, rate: N) {
        let q = self.competence[cur];
        self.competence[cur] = (q + rate * (reward - q)).clamp(N::ZERO, N::ONE);
    }

    /// The usual surprise of context `cur` and its spread follow the present
    /// surprise of an outcome at `rate` (limited to `[0, max]`).
    #[inline(always)]
    pub fn learn_usual_surprise(&mut self, cur: usize, rate: N, max: N) {
        let dev = (self.surprise - self.surprise_mean[cur]).abs();
        let (mean, spread) = (self.surprise_mean[cur], self.surprise_dev[cur]);
        self.surprise_dev[cur] = (spread + rate * (dev - spread)).clamp(N::ZERO, max);
        self.surprise_mean[cur] = (mean + rate * (self.surprise - mean)).clamp(N::ZERO, max);
    }

    /// Learning to learn at a switch to control function `new`: in-place
    /// learning steps up by `up` if the inputs are new, down by `down` if
    /// not (a switch over new inputs teaches in-place learning, one over the
    /// same inputs holding); a stored control function (`stored`),
    /// re-entered, is tested for recall.
    #[inline(always)]
    pub fn switched(&mut self, new: usize, inputs_new: bool, stored: bool, up: N, down: N) {
        let step = if inputs_new { up } else { -down };
        self.in_place = (self.in_place + step).clamp(N::ZERO, N::ONE);
        if stored {
            self.start_recall(new);
        } else {
            self.recall_context = K as u8;
        }
    }

    /// The saliences of the context channels from their evidence:
    /// competence, belief and `noise` (one draw per channel, in order); the
    /// current channel `cur` also persistence and its usual surprise minus
    /// the present surprise.
    #[inline(always)]
    pub fn saliences(&self, cur: usize, e: &Evidence<N>, mut noise: impl FnMut() -> N) -> [N; K] {
        // Belief counts relative to the best of the channels the current one
        // could hand over to: it ranks them, and the current one keeps or
        // loses salience by its lead over the best of them.
        let mut best = N::MIN;
        for (k, &b) in self.belief.iter().enumerate() {
            if k != cur {
                best = best.max(b);
            }
        }
        let mut ev: [N; K] = core::array::from_fn(|k| {
            // Where belief speaks, it, not a record of rewards, ranks the
            // others: one that brought little counts as half competent, so
            // that a fresh function can be the best explanation.
            let q = if k == cur || e.w_belief == N::ZERO {
                self.competence[k]
            } else {
                self.competence[k].max(N::from_q15(16384))
            };
            e.w_q * q + e.w_belief * (self.belief[k] - best) + e.noise * noise()
        });
        // The usual level of surprise raises the bar for a switch, but never
        // past `usual_max`: a context that failed for long would otherwise
        // learn to expect failure, hold its plasticity, and never be left.
        let usual = self.usual_surprise(cur, e.k_dev, e.usual_max);
        ev[cur] = ev[cur] + e.persistence + usual - self.surprise;
        core::array::from_fn(|k| (e.bias + e.scale * ev[k]).clamp(N::ZERO, e.sal_max))
    }

    /// Starts the recall test of control function `k`, just re-entered.
    pub fn start_recall(&mut self, k: usize) {
        self.recall_context = k.min(K) as u8;
        self.recall_outcomes = 0;
        self.recall_reward = N::ZERO;
        self.recall_expected = self.competence.get(k).copied().unwrap_or(N::ZERO);
    }

    /// One outcome (`reward`, brought by control function `cur`) of the
    /// recall test. When the test ends, in-place learning moves by `eta`
    /// times the recall error, what the function used to bring minus what it
    /// brought in the first half: a stored function that no longer delivers
    /// is evidence that new situations call for learning. Returns whether
    /// in-place learning changed. Every recall test ends when `cur` is not the
    /// tested function (it was left).
    ///
    /// ```
    /// use tcbg::basal_ganglia::{ContextChannels, RECALL_OUTCOMES};
    /// let mut cc: ContextChannels<f32, 2> = ContextChannels::new();
    /// cc.competence[1] = 0.9;
    /// cc.start_recall(1);
    /// let mut changed = false;
    /// for t in 0..RECALL_OUTCOMES {
    ///     changed = cc.recall_outcome(1, (t % 2) as f32, 0.5); // half the rewards
    /// }
    /// assert!(changed);
    /// assert!((cc.in_place - 0.5 * (0.9 - 0.5)).abs() < 1e-6);
    /// ```
    pub fn recall_outcome(&mut self, cur: usize, reward: N, eta: N) -> bool {
        if self.recall_context as usize != cur || cur >= K {
            self.recall_context = K as u8;
            return false;
        }
        let n = self.recall_outcomes.saturating_add(1);
        self.recall_outcomes = n;
        if n <= RECALL_OUTCOMES / 2 {
            self.recall_reward = self.recall_reward + reward;
        }
        if n < RECALL_OUTCOMES {
            return false;
        }
        self.recall_context = K as u8;
        let brought = self.recall_reward * N::from_q15(RECALL_SCORE_Q15);
        let before = self.in_place;
        self.in_place = (before + eta * (self.recall_expected - brought)).clamp(N::ZERO, N::ONE);
        self.in_place != before
    }
}

/// `2 / RECALL_OUTCOMES` in Q15: the mean of the scored half.
const RECALL_SCORE_Q15: u16 = (65536 / RECALL_OUTCOMES as u32) as u16;

impl<N: Num, const K: usize> Default for ContextChannels<N, K> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::Fx;

    /// A disappointment counts against the consistency of outcomes only if
    /// the model stays with, or comes back to, the function it came under;
    /// and the consistency bounds every prediction.
    #[test]
    fn consistency_counts_noise_not_changes() {
        let ln = LnTable::<f32>::new();
        // One trial: action `a` for the pattern of entry `slot`, under
        // function `cur`, and its outcome.
        let trial = |cc: &mut ContextChannels<f32, 2>, slot: usize, a: usize, won: bool, cur| {
            cc.remember_action(slot, a);
            let r = if won { 1.0 } else { 0.0 };
            cc.learn_belief(r, &ln, (-3.0, -6.0), 0.5, (0.0, 0.25), cur);
            cc.remember_outcome(won, true, 0b11);
        };
        // Action 0 brings a reward for patterns 0 and 1, then a loss for
        // pattern 0: a disappointment under function 0.
        let mut cc = ContextChannels::<f32, 2>::new();
        let disappoint = |cc: &mut ContextChannels<f32, 2>| {
            trial(cc, 0, 0, true, 0);
            trial(cc, 1, 0, true, 0);
            trial(cc, 0, 0, true, 0);
            trial(cc, 0, 0, false, 0);
            assert_eq!((cc.doubt, cc.doubt_slot), (1, 1));
        };
        disappoint(&mut cc);
        // Another pattern under the same function judges nothing.
        trial(&mut cc, 1, 0, true, 0);
        assert_eq!(cc.doubt, 1);
        // Noise: pattern 0, back under function 0, the same action rewarded.
        trial(&mut cc, 0, 0, true, 0);
        assert_eq!((cc.doubt, cc.consistency), (0, 0.75));
        // An outcome foretold right raises it again.
        trial(&mut cc, 0, 0, true, 0);
        assert_eq!(cc.consistency, 0.8125);
        // Noise too: the function took another action there, which failed
        // (the one it left was right), after outcomes under function 1.
        let mut cc = ContextChannels::<f32, 2>::new();
        disappoint(&mut cc);
        for _ in 0..DOUBT_OUTCOMES {
            trial(&mut cc, 1, 1, true, 1);
        }
        trial(&mut cc, 0, 1, false, 0);
        assert_eq!((cc.doubt, cc.consistency), (0, 0.75));
        // A change: the same action fails again, or another one succeeds
        // (the function relearned).
        for other_won in [false, true] {
            let mut cc = ContextChannels::<f32, 2>::new();
            disappoint(&mut cc);
            let a = usize::from(other_won);
            trial(&mut cc, 0, a, other_won, 0);
            assert_eq!((cc.doubt, cc.consistency), (0, 1.0));
        }
        // A change: the model leaves function 0 for good.
        let mut cc = ContextChannels::<f32, 2>::new();
        disappoint(&mut cc);
        for _ in 0..=DOUBT_OUTCOMES {
            trial(&mut cc, 1, 1, true, 1);
        }
        assert_eq!(cc.doubt, 0);
        trial(&mut cc, 0, 0, true, 0); // too late to come back
        assert_eq!(cc.consistency, 1.0);
        cc.consistency = 0.8125;
        // However competent, a function predicts no surer than outcomes repeat.
        cc.competence = [1.0, 1.0];
        cc.choice = [[1; PATTERNS], [2; PATTERNS]];
        cc.predict(0, Some(0), &[0.9, 0.1], (0b11, 2), 0, 0.85);
        assert_eq!(cc.predicted[0], 0.8125);
        assert!((cc.predicted[1] - (1.0 - 0.8125)).abs() < 1e-4);
        cc.consistency = 1.0;
        cc.predict(0, Some(0), &[0.9, 0.1], (0b11, 2), 0, 0.85);
        assert!(
            (cc.predicted[0] - PREDICTION_MAX).abs() < 1e-4,
            "{:?}",
            cc.predicted
        );
    }

    #[test]
    fn selects_highest_salience_both_types() {
        let g = Gpr::<f32>::nengo();
        let (gpi, w) = g.select(&[0.3, 0.9, 0.5, 0.2]);
        assert_eq!(w, Some(1), "{gpi:?}");
        let gf = Gpr::<Fx>::nengo();
        let s = [0.3, 0.9, 0.5, 0.2].map(Fx::from_f32);
        let (gpi_f, wf) = gf.select(&s);
        assert_eq!(wf, Some(1));
        for i in 0..4 {
            assert!(
                (gpi_f[i].to_f32() - gpi[i]).abs() < 0.01,
                "{i}: {:?} vs {:?}",
                gpi_f,
                gpi
            );
        }
    }

    #[test]
    fn trace_updates_keep_the_live_rows() {
        // Decays to 0 and back, sparse inputs, every action chosen: the row
        // flags stay exactly those of the traces (and so does the support).
        let mut rng = crate::rng::Rng::seed(13);
        let mut st = Striatum::<Fx, 16, 4>::new();
        for n in 0..20_000 {
            let keep = match n % 4 {
                0 => Fx::ZERO,
                1 => Fx((rng.next() % 64) as i16), // most traces round to 0
                _ => Fx((rng.next() % 4097) as i16),
            };
            let x: [Fx; 16] = core::array::from_fn(|_| {
                if rng.next() % 4 == 0 {
                    Fx((rng.next() % 4097) as i16)
                } else {
                    Fx::ZERO
                }
            });
            st.update_traces(keep, (rng.next() % 4) as usize, &x);
            assert_eq!(st.elig_rows, elig_rows(&st.elig), "step {n}");
            if n % 97 == 0 {
                st.clear_traces();
                assert_eq!(st.elig_rows, 0);
            }
        }
    }

    #[test]
    fn elig_support_lists_the_nonzero_traces() {
        let mut rng = crate::rng::Rng::seed(12);
        let mut st = Striatum::<Fx, 16, 4>::new();
        for _ in 0..20_000 {
            let rows = rng.next() % 16; // which rows carry traces
            let mut elig = [[Fx::ZERO; 16]; 4];
            for a in 0..4 {
                for e in elig[a].iter_mut() {
                    let bits = rng.next();
                    *e = if rows & (1 << a) != 0 && bits % 3 == 0 {
                        Fx((bits >> 20) as i16 + 1)
                    } else {
                        Fx::ZERO
                    };
                }
            }
            st.set_elig(elig);
            let sup = st.elig_support();
            let mut n = 0;
            for i in 0..16 {
                let bits: u16 = (0..4)
                    .filter(|&a| st.elig[a][i] != Fx::ZERO)
                    .map(|a| 1 << a)
                    .sum();
                if bits != 0 {
                    assert_eq!(sup.listed().nth(n), Some((i as u16, bits)));
                    n += 1;
                }
            }
            assert_eq!(sup.len(), n);
        }
    }

    #[test]
    fn select_channel_respects_mask_and_ties() {
        let gpi = [0.0f32, 0.0, 0.5, 0.0];
        assert_eq!(select_channel(&gpi, 0b0100, |_| 0), 2);
        let mut seen = [false; 4];
        for k in 0..3 {
            seen[select_channel(&gpi, 0b1011, |n| {
                assert_eq!(n, 3);
                k
            })] = true;
        }
        assert_eq!(seen, [true, true, false, true]);
    }
}
