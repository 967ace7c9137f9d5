//! Thalamus: the control signal `c = g(s_≤t)` that switches cortex's function.
//!
//! `K` mediodorsal-like units, one per *control function*. The control
//! function `k` is a gain pattern `G[k, ·]` over cortex (initialised as
//! disjoint binary masks, a `1/K` share of cortex each, as in Rikhye et al.
//! 2018 and Hummos 2023): when unit `k` is active, cortical unit `i` has gain
//! `G[k, i]`. The thalamus multiplies cortical connectivity; it does not drive
//! cortex.
//!
//! Which unit is active is decided by winner-take-all over
//! `h_k = M[k]·ρ − w_bg GPi_k`: the basal ganglia's inhibition of the
//! thalamus (`GPi_k`, released for the selected context channel) plus a
//! Hebbian cortex-to-thalamus read-out `M` (Zheng et al. 2024,
//! `ΔM = η_m (m_k − ½)(r̄_i − θ_i)` with a dead zone and a leak that bounds
//! its random walk). `ρ` is the thalamus's view of the input through a fixed
//! copy of the initial afferent weights, so what the thalamus has learned to
//! recognise cannot drift while cortex learns.
//!
//! A second memory from cortex to thalamus, the *recognition memory* `U`,
//! lets a known cue pull back its context at once: each row is a leaky union
//! of the patterns on which that context was rewarded, bound one-shot into a
//! young context when it is selected. A pattern the established current
//! context does not recognise either restores the context that does
//! (override of the basal ganglia's choice) or, if none does, opens an unused
//! context (novelty).
//!
//! On the slow timescale the basal ganglia *train* the control functions:
//! `ΔG[k, i] = η_g δ m_k ē_i`, with `ē_i` the eligibility of cortical unit `i`.

use crate::fixed::{copy_row, support, Num, RECIP_Q15};
use crate::kernels::{leaking_columns, w_rec_unit, Kernels};

/// Input patterns the thalamus's recency memory holds ([`Thalamus::patterns`]).
pub const PATTERNS: usize = 8;
/// Steps with input within which a new pattern makes the inputs new
/// ([`Thalamus::inputs_new`]).
pub const NOVEL_WINDOW: usize = 16;

/// The input's pattern in the recency memory ([`Thalamus::remember_input`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Its entry in [`Thalamus::patterns`].
    pub slot: usize,
    /// Whether it was new (it took the entry of the oldest pattern).
    pub new: bool,
}

/// Thalamic state and its cortex-to-thalamus memories.
#[derive(Clone, Debug, PartialEq)]
pub struct Thalamus<N: Num, const S: usize, const C: usize, const K: usize> {
    /// Control functions `G`: the gain each thalamic unit lends each cortical
    /// unit: within its mask its own, trained slowly; outside it the shared
    /// gain `σ` every control function lends the rest of cortex
    /// ([`Thalamus::share_cortex`]). Q3.12, 0 to `gain_max`, saturate.
    pub g: [[N; C]; K],
    /// The control function each cortical unit was dealt (its mask). 0 to
    /// K−1, `C/K` units each; never changes.
    pub mask: [u8; C],
    /// The shared gain `σ` every control function lends the units outside
    /// its mask. Q3.12, 0 to 1.
    pub shared: N,
    /// Hebbian cortex-to-thalamus weights `M`. Q3.12, −`m_max` to `m_max`,
    /// saturate. Written only by [`Thalamus::learn_hebbian`] and restore, so
    /// that `leaking` stays true to it (read with [`Thalamus::m_hebb`]).
    pub(crate) m_hebb: [[N; C]; K],
    /// Per cortical unit, 1 if its column of `M` holds a weight the leak
    /// moves (beyond the still bound, see [`Kernels::leak_still`]), else
    /// 0: the Hebbian update skips the other columns where nothing is to be
    /// learned. Derived from `M`; never written to a snapshot.
    pub(crate) leaking: [u8; C],
    /// Recognition memory `U`: per context, the leaky union of rewarded
    /// patterns. Q3.12, 0 to 1. Written only by [`Thalamus::remember`] and
    /// restore, which keep it in range (read with [`Thalamus::u_rec`]).
    pub(crate) u_rec: [[N; C]; K],
    /// The thalamus's fixed afferent copy (initial `W_in`). Q3.12, −2 to 2,
    /// never changes: written only by [`Thalamus::init`] and restore, which
    /// keep `w_rec_unit` true to it (read with [`Thalamus::w_rec`]). It does
    /// not follow cortex's balance over the lines met: the recognition
    /// memories are read through it, and a row balanced over two lines
    /// reads one of them in every unit, so a function's union of patterns
    /// would cover all of cortex and no input would look new.
    pub(crate) w_rec: [[N; S]; C],
    /// Whether every weight of `W_rec` is at most 1 (so a cue of 1 reads
    /// `ρ = max(w, 0)`, with no clamp at 1 to apply). Derived from `W_rec`;
    /// never written to a snapshot.
    pub(crate) w_rec_unit: bool,
    /// `ρ = clamp(W_rec s, 0, 1)` of this step. Q3.12, 0 to 1.
    pub rho: [N; C],
    /// `ρ` of the previous step. Q3.12, 0 to 1.
    pub rho_prev: [N; C],
    /// Fast presynaptic trace `r̄` of `ρ`. Q3.12, 0 to 1. Written only by
    /// [`Thalamus::read`] (each step a mix of itself and `ρ`) and restore.
    pub(crate) rbar: [N; C],
    /// Slow threshold `θ` (long-run mean of `ρ`). Q3.12, 0 to 1. Written
    /// as `r̄` is.
    pub(crate) theta: [N; C],
    /// Thalamic activity `h = M·ρ − w_bg GPi`. Q3.12, −(m_max C + 8 w_bg) to
    /// m_max C; Fx saturates at ±8.
    pub h: [N; K],
    /// The active control function (winner-take-all). 0 to K−1.
    pub active: u8,
    /// Bit `k` set once control function `k` has been used.
    pub used: u16,
    /// Steps since the last switch (saturates at 65535).
    pub since_switch: u16,
    /// Steps seen, for the 1/n warm-up of `r̄` and `θ` (saturates at 255).
    pub steps_seen: u8,
    /// Recency memory of input patterns (familiarity): the last [`PATTERNS`]
    /// distinct inputs seen, each as the bit set of its lines that are on
    /// (bit `j` for line `j`), written in turn (the first `patterns_held`).
    pub patterns: [u64; PATTERNS],
    /// How many entries of `patterns` hold a pattern. 0 to [`PATTERNS`].
    pub patterns_held: u8,
    /// The entry the next new pattern takes (the oldest once all are held).
    /// 0 to [`PATTERNS`]−1.
    pub pattern_next: u8,
    /// Steps with input since the last input the memory did not hold
    /// (saturates at 255; 255 at start: nothing is new before anything is
    /// known). 0 to 255.
    pub since_novel: u8,
}

impl<N: Kernels, const S: usize, const C: usize, const K: usize> Thalamus<N, S, C, K> {
    /// A thalamus with every variable 0 (see [`Thalamus::init`]).
    pub fn blank() -> Self {
        Thalamus {
            g: [[N::ZERO; C]; K],
            mask: [0; C],
            shared: N::ZERO,
            m_hebb: [[N::ZERO; C]; K],
            leaking: [0; C],
            u_rec: [[N::ZERO; C]; K],
            w_rec: [[N::ZERO; S]; C],
            w_rec_unit: true,
            rho: [N::ZERO; C],
            rho_prev: [N::ZERO; C],
            rbar: [N::ZERO; C],
            theta: [N::ZERO; C],
            h: [N::ZERO; K],
            active: 0,
            used: 1,
            since_switch: u16::MAX,
            steps_seen: 0,
            patterns: [0; PATTERNS],
            patterns_held: 0,
            pattern_next: 0,
            since_novel: u8::MAX,
        }
    }

    /// In place: the afferent copy from `w_in`, disjoint masks dealt from a
    /// random permutation of cortex, every memory empty, control function 0
    /// active.
    pub fn init(&mut self, w_in: &[[N; S]; C], gain_on: N, perm: &[u16; C]) {
        *self = Self::blank();
        for (dst, src) in self.w_rec.iter_mut().zip(w_in.iter()) {
            *dst = *src;
        }
        self.recheck_w_rec();
        for (pos, &unit) in perm.iter().enumerate() {
            // `perm` is a permutation of `0..C`; `get_mut` spares a panic path.
            if let Some(g) = self.g[pos % K].get_mut(unit as usize) {
                *g = gain_on;
            }
            if let Some(m) = self.mask.get_mut(unit as usize) {
                *m = (pos % K) as u8;
            }
        }
    }

    /// Every control function lends the units outside its mask the gain
    /// `sigma` (0: disjoint masks, as dealt).
    ///
    /// ```
    /// use tcbg::thalamus::Thalamus;
    /// let mut th: Thalamus<f32, 1, 4, 2> = Thalamus::blank();
    /// th.init(&[[0.5]; 4], 1.0, &[0, 1, 2, 3]); // units 0, 2 to 0; 1, 3 to 1
    /// th.share_cortex(0.25);
    /// assert_eq!(th.g, [[1.0, 0.25, 1.0, 0.25], [0.25, 1.0, 0.25, 1.0]]);
    /// ```
    pub fn share_cortex(&mut self, sigma: N) {
        self.shared = sigma;
        for (k, row) in self.g.iter_mut().enumerate() {
            for (g, &m) in row.iter_mut().zip(self.mask.iter()) {
                if m as usize != k {
                    *g = sigma;
                }
            }
        }
    }

    /// Familiarity of an input `s`: its pattern is the set of lines with
    /// `|s_j| >= on`. None on (a blank step) counts for nothing. A held
    /// pattern is familiar; any other is new: it takes the oldest entry and
    /// [`Thalamus::since_novel`] restarts at 0 (on any other step with a
    /// pattern it counts up). Returns the pattern's entry, `None` for a
    /// blank step.
    ///
    /// ```
    /// use tcbg::thalamus::Thalamus;
    /// let mut th: Thalamus<f32, 3, 3, 1> = Thalamus::blank();
    /// let _ = th.remember_input(&[1.0, 0.0, 0.0], 0.5);
    /// assert_eq!(th.since_novel, 0);
    /// th.remember_input(&[0.0, 1.0, 0.0], 0.5);
    /// let seen = th.remember_input(&[1.0, 0.0, 0.0], 0.5); // held: familiar
    /// assert_eq!(seen, Some(tcbg::thalamus::Seen { slot: 0, new: false }));
    /// let _ = th.remember_input(&[0.9, 0.0, 0.1], 0.5); // the same lines on
    /// assert_eq!(th.remember_input(&[0.0, 0.0, 0.0], 0.5), None); // blank: nothing
    /// assert_eq!(th.since_novel, 2);
    /// assert!(th.inputs_new()); // a new pattern came 2 steps ago
    /// assert_eq!(th.patterns_held, 2);
    /// assert_eq!(&th.patterns[..2], &[0b001, 0b010]);
    /// ```
    pub fn remember_input(&mut self, s: &[N; S], on: N) -> Option<Seen> {
        let mut key = 0u64;
        for (j, v) in s.iter().enumerate().take(64) {
            if v.abs() >= on {
                key |= 1 << j;
            }
        }
        if key == 0 {
            return None;
        }
        self.since_novel = self.since_novel.saturating_add(1);
        let held = (self.patterns_held as usize).min(PATTERNS);
        if let Some(at) = self.patterns[..held].iter().position(|&p| p == key) {
            return Some(Seen {
                slot: at,
                new: false,
            });
        }
        self.since_novel = 0;
        let at = (self.pattern_next as usize).min(PATTERNS - 1);
        self.patterns[at] = key;
        self.pattern_next = ((at + 1) % PATTERNS) as u8;
        self.patterns_held = (held + 1).min(PATTERNS) as u8;
        Some(Seen {
            slot: at,
            new: true,
        })
    }

    /// Whether the inputs are new: a pattern the memory did not hold came
    /// within the last [`NOVEL_WINDOW`] steps with input.
    pub fn inputs_new(&self) -> bool {
        (self.since_novel as usize) < NOVEL_WINDOW
    }

    /// `ρ = clamp(W_rec s, 0, 1)`, and the traces `r̄`, `θ` follow it at rates
    /// `max(1/n, κ)` (`recip_n` = 1/n from the table): the kernel
    /// [`Kernels::read_traces`].
    // Out of line: its loop keeps its values in registers (fewer spills).
    #[inline(never)]
    pub fn read(&mut self, s: &[N; S], k_fast: N, k_slow: N, recip_n: N) {
        let kr = k_fast.max(recip_n);
        let kt = k_slow.max(recip_n);
        let nz = support(s);
        N::read_traces(
            &self.w_rec,
            self.w_rec_unit,
            s,
            &nz,
            kr,
            kt,
            &mut self.rho,
            &mut self.rbar,
            &mut self.theta,
        );
    }

    /// Reads the input `s` ([`Thalamus::read`], its traces warming up at
    /// `1/n` over the first steps) and remembers its pattern
    /// ([`Thalamus::remember_input`]).
    #[inline(always)]
    pub fn observe(&mut self, s: &[N; S], k_fast: N, k_slow: N, line_on: N) -> Option<Seen> {
        let n = self.steps_seen.saturating_add(1);
        self.steps_seen = n;
        self.read(s, k_fast, k_slow, N::from_q15(RECIP_Q15[n as usize]));
        self.remember_input(s, line_on)
    }

    /// `ρ` of this step becomes the pattern a reward will be credited to
    /// (`rho_prev`): called on the steps that bring an outcome, so it is the
    /// cue, not the blank steps of a delay.
    #[inline(always)]
    pub fn keep_outcome_pattern(&mut self) {
        copy_row(&mut self.rho_prev, &self.rho);
    }

    /// The slow training of control function `cur` by the basal ganglia:
    /// `ΔG[cur, i] = step ē_i` (stochastically rounded with `dither`), `ē_i`
    /// the eligibility of cortical unit `i` summed over the actions of
    /// `elig`, on the listed `units` (every unit with a nonzero trace) that
    /// `cur` was dealt, and limited to `[floor, cap]`. Returns whether a gain
    /// changed, and whether a unit without gain gained some.
    ///
    /// Only the units the control function was dealt, and never below
    /// `floor` (`gain_min`): negative dopamine outweighs positive over a long
    /// life, and without the floor the training silenced whole control
    /// functions (soak: gain sums of two masks fell from 12 to 2 by 7
    /// million steps, and their rules could no longer be learned).
    #[inline(always)]
    pub fn train_gain<const A: usize>(
        &mut self,
        cur: usize,
        step: N,
        units: impl Iterator<Item = u16>,
        elig: &[[N; C]; A],
        (floor, cap): (N, N),
        mut dither: impl FnMut() -> u32,
    ) -> (bool, bool) {
        let (mut changed, mut grew) = (false, false);
        for unit in units {
            let i = (unit as usize).min(C - 1);
            let mut ebar = N::ZERO;
            for a in 0..A {
                ebar = ebar + elig[a][i];
            }
            let g0 = self.g[cur][i];
            if ebar != N::ZERO && self.mask[i] as usize == cur {
                let gv = (g0 + step.mul_sr(ebar, dither())).clamp(floor, cap);
                changed |= gv != g0;
                grew |= g0 == N::ZERO && gv != N::ZERO;
                self.g[cur][i] = gv;
            }
        }
        (changed, grew)
    }

    /// The thalamic activity `h = m_gate M ρ − w_bg GPi` under the basal
    /// ganglia's inhibition `gpi` (the Hebbian read-out gated by `m_gate`;
    /// `|M| <= m_max`). Returns the recognition memory's read-outs `U ρ / 16`
    /// and `ρ·ρ / 16` ([`Kernels::context_reads`]).
    #[inline(always)]
    pub fn inhibit(&mut self, gpi: &[N; K], w_bg: N, m_gate: N, m_max: N) -> ([N; K], N) {
        let (hebb, f, rr) = N::context_reads(&self.m_hebb, m_max, &self.u_rec, &self.rho);
        for k in 0..K {
            self.h[k] = m_gate * hebb[k] - w_bg * gpi[k];
        }
        (f, rr)
    }

    /// The recognition memory's override of the current context `cur`, from
    /// the read-outs `f` = `U ρ / 16` and `rr` = `ρ·ρ / 16` of
    /// [`Thalamus::inhibit`]: an established context (`established`, out of
    /// its refractory steps) that does not recognise the input gives way to
    /// a known context that does (the most competent by `competence`, its
    /// read-out ahead by a margin, and not one that already covers the
    /// current context's own patterns), or, if none knows the input and it
    /// is novel to the current one, to an unused context. A known pattern
    /// pulls back its context; a novel one opens an unused context.
    #[inline(always)]
    pub fn recognise(
        &self,
        cur: usize,
        (f, rr): (&[N; K], N),
        competence: &[N; K],
        established: bool,
        refractory: u16,
        r: &Recognition<N>,
    ) -> Option<Override> {
        let recog = |k: usize| f[k] >= r.recognise * rr;
        let need = rr > r.min_norm && established && !recog(cur) && self.since_switch >= refractory;
        if !need {
            return None;
        }
        let uc = self.u_rec[cur];
        let cover_need = r.recognise * N::dot_shr(&uc, &uc, 4);
        let mut best: Option<usize> = None;
        let mut any_known = false;
        for k in 0..K {
            let used = self.used & (1 << k) != 0;
            if !(used && recog(k)) {
                continue;
            }
            any_known = true;
            if k == cur || f[k] - f[cur] < r.margin * rr {
                continue;
            }
            // k must not already cover the current context's own patterns.
            if N::dot_shr(&self.u_rec[k], &uc, 4) >= cover_need {
                continue;
            }
            if best.map_or(true, |b| competence[k] > competence[b]) {
                best = Some(k);
            }
        }
        // Novel to the current context and new to the thalamus's recency
        // memory: a cue the current context has only not yet been rewarded
        // on is no new situation.
        let novel = f[cur] < r.novelty * rr;
        let fresh = (0..K).find(|&k| self.used & (1 << k) == 0);
        if let Some(b) = best {
            Some(Override::Known(b))
        } else if let (Some(fk), false, true) = (fresh, any_known, novel) {
            Some(Override::Novel(fk))
        } else {
            None
        }
    }

    /// The control functions that compete for the thalamus (bit `k` for
    /// function `k`): every used one and the first unused one. The unused
    /// ones are all the same hypothesis, a rule not met yet, and one of
    /// them stands for it.
    #[inline(always)]
    pub fn contenders(&self) -> u32 {
        let used = u32::from(self.used);
        (used | (!used & (used + 1))) & ((1u32 << K) - 1)
    }

    /// Hebbian cortex-to-thalamus weights `M` (per control function, per
    /// cortical unit).
    pub fn m_hebb(&self) -> &[[N; C]; K] {
        &self.m_hebb
    }

    /// The fast presynaptic trace `r̄` of `ρ`.
    pub fn rbar(&self) -> &[N; C] {
        &self.rbar
    }

    /// The slow threshold `θ` of `ρ`.
    pub fn theta(&self) -> &[N; C] {
        &self.theta
    }

    /// Recognition memory `U` (per control function, per cortical unit).
    pub fn u_rec(&self) -> &[[N; C]; K] {
        &self.u_rec
    }

    /// The afferent copy `W_rec`.
    pub fn w_rec(&self) -> &[[N; S]; C] {
        &self.w_rec
    }

    /// Derives `w_rec_unit` from `W_rec` (init and restore call it).
    pub(crate) fn recheck_w_rec(&mut self) {
        self.w_rec_unit = w_rec_unit(&self.w_rec);
    }

    /// Marks the columns of `M` that hold a weight beyond `±still` (restore
    /// calls it after reading `M`).
    pub(crate) fn recount_leaking(&mut self, still: N) {
        self.leaking = leaking_columns(&self.m_hebb, still);
    }

    /// Hebbian update of `M` with leak: `M ← keep M + η (m_k − ½) dz(r̄ − θ)`,
    /// `dz` a dead zone of half-width `eps`; `still` is the bound within
    /// which the leak moves no weight (`min(leak_still(keep), bound)`): the
    /// kernel [`Kernels::hebbian`].
    // Out of line: its loops keep their values in registers.
    #[inline(never)]
    pub fn learn_hebbian(&mut self, eta_half: N, eps: N, keep: N, bound: N, still: N) {
        N::hebbian(
            &mut self.m_hebb,
            &mut self.leaking,
            &self.rbar,
            &self.theta,
            self.active as usize,
            eta_half,
            eps,
            keep,
            bound,
            still,
        );
    }

    /// Leaky-union write of `pattern` into context `k`: `U_k += η relu(p − U_k)`.
    pub fn remember(&mut self, k: usize, which: Pattern, eta: N) {
        let Some(row) = self.u_rec.get_mut(k) else {
            return;
        };
        let pattern = match which {
            Pattern::Current => &self.rho,
            Pattern::Previous => &self.rho_prev,
        };
        for (u, &p) in row.iter_mut().zip(pattern.iter()) {
            // U lies in [0, 1] (written only here, clamped, and by restore,
            // checked): a pattern it already holds adds 0 and the clamp
            // keeps it.
            if p <= *u {
                continue;
            }
            *u = (*u + eta * (p - *u).relu()).clamp(N::ZERO, N::ONE);
        }
    }
}

/// The constants of the recognition memory's override
/// ([`Thalamus::recognise`]), each a multiple of the input's `ρ·ρ / 16`.
#[derive(Clone, Copy, Debug)]
pub struct Recognition<N> {
    /// A context recognises the input when its read-out `U ρ / 16` reaches
    /// `recognise` times `ρ·ρ / 16`.
    pub recognise: N,
    /// The least `ρ·ρ / 16` of an input the memory judges.
    pub min_norm: N,
    /// How far a known context's read-out must lead the current one's.
    pub margin: N,
    /// Below `novelty` times `ρ·ρ / 16` the input is novel to the current
    /// context.
    pub novelty: N,
}

/// The recognition memory's override of the winner-take-all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Override {
    /// A known context that recognises the input.
    Known(usize),
    /// An unused context, for a novel input.
    Novel(usize),
}

/// Which thalamic input pattern to store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `ρ` of this step.
    Current,
    /// `ρ` of the previous step (the one the reward just arrived for).
    Previous,
}
