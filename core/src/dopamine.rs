//! Dopamine: the critic and its temporal-difference error.
//!
//! The critic (striosomes) predicts the value of each action from the
//! striatal input, `Q(s, a) = w_v[a]·x`. Dopamine is the TD reward-prediction
//! error `δ_t = r_t + γ V(s_t) − V(s_{t−1})` with `V(s) = Q(s, a*)`, `a*` the
//! action the striatum prefers in `s` (largest net Go − NoGo drive): the
//! reward for the previous action plus the discounted value of the present
//! state, minus the value the previous state was predicted to have. The
//! baseline is the value of the preferred action, not of the action taken
//! (an exploratory action is judged against what the greedy policy expected;
//! the Q-learning form rather than SARSA's, as Roesch, Calu & Schoenbaum
//! 2007 found midbrain dopamine neurons to follow). A fully predicted reward
//! gives `δ = 0`. At a marked trial start the episode ends: `δ = r −
//! V(s_{t−1})`.
//!
//! Action values rather than one state value: with a state value shared by
//! both actions of a pattern, a context still learning a mapping keeps a
//! middling prediction, so every success on one cue keeps strengthening its
//! action on the cortical units it shares with other cues (measured: the
//! cued rule switch took 0.67 errors per switch instead of 0.33).
//!
//! Temporal credit assignment: each corticostriatal synapse keeps an
//! eligibility trace (in [`crate::basal_ganglia::Striatum`]) that decays by λ
//! per step (cleared at a new stimulus, so credit does not leak across
//! trials); the critic and the Go/NoGo weights change by `η δ e`, so a reward
//! that arrives `D` steps after the action still reaches the synapses that
//! caused it.
//!
//! Learning rates are normalised by a running mean of `|x|²` (normalised LMS:
//! one update moves the prediction of the same pattern by about `η δ`), and
//! each unit's rate falls with its experience, `max(1/(1 + k n_i), lr_min)`,
//! fast for a fresh context and averaging in an experienced one. Both
//! reciprocals are tracked without division (one Newton step, or the
//! first-order update `lr ← lr − k x lr²`).

use crate::basal_ganglia::EligSupport;
use crate::fixed::{newton_recip, support, Num};

/// Critic, dopamine and the learning-rate normalisers.
#[derive(Clone, Debug, PartialEq)]
pub struct Critic<N: Num, const C: usize, const A: usize> {
    /// Critic weights: the value of each action from the striatal input,
    /// `Q(s, a) = w_v[a]·x`. Q3.12, −4 to 4, saturate.
    pub w_v: [[N; C]; A],
    /// Value of the previous outcome step's state, `V(s_{t−1}) = Q(s_{t−1},
    /// a*)` for the action `a*` the striatum preferred there (the baseline of
    /// dopamine).
    /// Q3.12, −8 to 8, saturates.
    pub value_prev: N,
    /// Value of the present state, `Q(s_t, a*)` under the new thalamic
    /// state. Q3.12, −8 to 8, saturates.
    pub value: N,
    /// Dopamine: the TD error of this step. Q3.12, −4 to 4 ([`DOPAMINE_MAX`]), saturates.
    pub delta: N,
    /// Running mean of `|x|²/4` on stimulus steps (0 until the first). Q3.12, 0 to 8, saturates.
    pub norm_mean: N,
    /// `1/max(4 norm_mean, |x|², 1/4)` for the last stimulus `x`, tracked by
    /// Newton steps. Q3.12, 0 to 4.
    pub norm_inv: N,
    /// Per-unit learning-rate factor `max(1/(1 + k n_i), lr_min)`. Q3.12, `lr_min` to 1.
    pub lr: [N; C],
    /// Aspiration `ρ`: the running mean of the reward per trial, what a
    /// trial has come to bring (tonic dopamine as the average reward, Niv,
    /// Daw, Joel & Dayan 2007). The baseline of the actor's dopamine at a
    /// trial's end ([`Critic::actor_error`]). Q3.12, −1 to 1.
    pub aspiration: N,
}

/// Values, dopamine and the norm mean are limited to `±SIGNAL_MAX` (the rail of [`crate::Fx`]).
pub const SIGNAL_MAX: f32 = 8.0;

/// Dopamine's bound: the TD error `δ` and the actor's error are limited to
/// `±DOPAMINE_MAX`, half the rail of [`crate::Fx`]. The one bound the docs
/// state, the code enforces and `cargo xtask soak` measures (a healthy
/// learner never reaches it: with rewards in `[−1, 1]` and values that
/// track them, `|δ|` stays near 2 or below).
pub const DOPAMINE_MAX: f32 = 4.0;

/// Bound of `|w_v|`.
pub const W_V_BOUND: f32 = 4.0;

impl<N: Num, const C: usize, const A: usize> Critic<N, C, A> {
    /// A critic whose weights are all `w0` (the optimistic prior).
    pub fn new(w0: N) -> Self {
        Critic {
            w_v: [[w0; C]; A],
            value_prev: N::ZERO,
            value: N::ZERO,
            delta: N::ZERO,
            norm_mean: N::ZERO,
            norm_inv: N::ONE,
            lr: [N::ONE; C],
            aspiration: N::ZERO,
        }
    }

    /// Back to [`Critic::new`]`(w0)`, in place.
    pub fn reset(&mut self, w0: N) {
        for row in self.w_v.iter_mut() {
            *row = [w0; C];
        }
        self.value_prev = N::ZERO;
        self.value = N::ZERO;
        self.delta = N::ZERO;
        self.norm_mean = N::ZERO;
        self.norm_inv = N::ONE;
        self.lr = [N::ONE; C];
        self.aspiration = N::ZERO;
    }

    /// `Q(s, a) = w_v[a]·x`, limited to `±bound`: no value can exceed the
    /// discounted sum of the largest rewards, `r_max / (1 − γ)` (the agent's
    /// bound; without it, weights shared by cues pushed apart by many
    /// errors let one cue's value run far below any reward the task pays).
    pub fn q(&self, a: usize, x: &[N; C], bound: N) -> N {
        let cap = bound;
        match self.w_v.get(a) {
            Some(w) => N::dot(w, x).clamp(-cap, cap),
            None => N::ZERO,
        }
    }

    /// `V(s) = Q(s, a*)` with `a*` the action the striatum prefers
    /// (largest net drive among those allowed by `mask`): the value of the
    /// greedy policy. Not `max_a Q`: the value of an action seldom tried
    /// stays at its optimistic start and would inflate `V`, making every
    /// success look predicted and every failure a large error.
    pub fn state_value(&self, x: &[N; C], drive: &[N; A], mask: u32, bound: N) -> N {
        self.state_value_at(x, &support(x), drive, mask, bound)
    }

    /// [`Critic::state_value`] reading only the entries `nz` of `x` (all its nonzero ones).
    pub fn state_value_at(&self, x: &[N; C], nz: &[u16], drive: &[N; A], mask: u32, bound: N) -> N {
        let mut best: Option<(usize, N)> = None;
        for (a, &d) in drive.iter().enumerate() {
            if mask & (1 << a) != 0 && best.map_or(true, |(_, bd)| d > bd) {
                best = Some((a, d));
            }
        }
        best.map_or(N::ZERO, |(a, _)| match self.w_v.get(a) {
            Some(w) => N::dot_at(w, x, nz).clamp(-bound, bound),
            None => N::ZERO,
        })
    }

    /// The actor's dopamine at a trial's end, `δ + β (V(s_{t−1}) − ρ)`: the
    /// critic's error `δ` with its baseline moved by `β` from the value of the
    /// previous state (its preferred action's) to the aspiration `ρ` (at
    /// `β = 1` and `γ = 0`, the reward against the aspiration, `r − ρ`).
    /// Then `ρ` follows the reward at rate `eta`. Why: once the critic predicts that a cue's preferred
    /// action fails, `δ` of each further failure is near 0, so Go and NoGo
    /// stop learning while the wrong action is still preferred; against the
    /// aspiration a failure stays a failure.
    ///
    /// ```
    /// use tcbg::dopamine::Critic;
    /// let mut c: Critic<f32, 4, 2> = Critic::new(0.0);
    /// c.aspiration = 0.8;
    /// c.value_prev = 0.1; // the critic already expects this failure
    /// let delta = 0.0 - c.value_prev;
    /// let actor = c.actor_error(delta, 0.0, 1.0, 0.5);
    /// assert!((actor + 0.8).abs() < 1e-6); // r − ρ = 0 − 0.8
    /// assert!((c.aspiration - 0.4).abs() < 1e-6); // ρ moved halfway to 0
    /// ```
    pub fn actor_error(&mut self, delta: N, reward: N, beta: N, eta: N) -> N {
        let cap = N::from_f32(DOPAMINE_MAX);
        let rho = self.aspiration;
        self.aspiration = (rho + eta * (reward - rho)).clamp(-N::ONE, N::ONE);
        (delta + beta * (self.value_prev - rho)).clamp(-cap, cap)
    }

    /// The dopamine of a step, stored in [`Critic::delta`]: the TD error
    /// ([`Critic::td_error`]) with `value_now` = `V(s_t)`, on a step that
    /// brings `news` (an outcome, dopamine not lesioned; 0 otherwise: see
    /// [`crate::Agent::step`]). A marked trial start (`episode_end`) ends the
    /// episode: the reward is the whole return of the last trial's action,
    /// with no bootstrap from the next trial's cue, whose value that action
    /// did not cause (with `γ V` of a random next cue in it, every error
    /// signal carried noise as large as the value).
    #[inline(always)]
    pub fn dopamine(
        &mut self,
        reward: N,
        gamma: N,
        value_now: N,
        news: bool,
        episode_end: bool,
    ) -> N {
        let delta = if !news {
            N::ZERO
        } else {
            let gamma = if episode_end { N::ZERO } else { gamma };
            self.td_error(reward, gamma, value_now)
        };
        self.delta = delta;
        delta
    }

    /// The dopamine the learning rules take, `(d, d_actor)`: the critic's
    /// `d = δ · hold · n`, with `hold` the context channels' hold on
    /// plasticity and `n` the normaliser [`Critic::norm`]; and the actor's,
    /// which Go and NoGo learn from: at a trial's end (`beta` given) the
    /// actor's error against the aspiration ([`Critic::actor_error`], the
    /// aspiration following `reward` at rate `eta`), otherwise `δ`; under the
    /// same hold and normaliser, and raised by in-place learning to `(1 +
    /// in_place)` times it.
    #[inline(always)]
    pub fn teaching_signals(
        &mut self,
        delta: N,
        hold: N,
        in_place: N,
        reward: N,
        beta: Option<N>,
        eta: N,
    ) -> (N, N) {
        let norm = self.norm();
        let d = delta * hold * norm;
        let actor = match beta {
            Some(beta) => self.actor_error(delta, reward, beta, eta),
            None => delta,
        };
        // Between trial ends the actor's dopamine is the critic's: the same
        // product, and at in-place learning 0 the same rate.
        let d_actor = if actor == delta {
            d
        } else {
            actor * hold * norm
        };
        let d_actor = if in_place == N::ZERO {
            d_actor
        } else {
            d_actor * (N::ONE + in_place)
        };
        (d, d_actor)
    }

    /// `δ = r + γ V(s_t) − V(s_{t−1})` (`V(s_{t−1})` is
    /// [`Critic::value_prev`]), limited to `±`[`DOPAMINE_MAX`].
    pub fn td_error(&self, reward: N, gamma: N, value_now: N) -> N {
        let cap = N::from_f32(DOPAMINE_MAX);
        (reward + gamma * value_now - self.value_prev).clamp(-cap, cap)
    }

    /// Critic update on the striatal eligibility traces, `Δw_v[a] = η_v δ e[a]`
    /// (`step` = `η_v δ`, normalised and gated).
    pub fn learn(&mut self, step: N, elig: &[[N; C]; A], dither: impl FnMut() -> u32) {
        let sup = EligSupport::all();
        self.learn_at(step, elig, dither, &sup);
    }

    /// [`Critic::learn`] over the synapses of `sup` (a superset of those
    /// with a nonzero trace), in the same order.
    pub fn learn_at(
        &mut self,
        step: N,
        elig: &[[N; C]; A],
        mut dither: impl FnMut() -> u32,
        sup: &EligSupport<C>,
    ) {
        if step == N::ZERO {
            return;
        }
        let b = N::from_f32(W_V_BOUND);
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
                let e = elig[a][i];
                if e != N::ZERO {
                    let de = e * self.lr[i];
                    self.w_v[a][i] = (self.w_v[a][i] + step.mul_sr(de, dither())).clamp(-b, b);
                }
            }
        }
    }

    /// Tracks the running mean of `|x|²/4` on a stimulus step and its
    /// reciprocal (of `|x|²`, floored at 1/4).
    pub fn track_norm(&mut self, xx4: N, kappa: N) {
        let xx4 = xx4.clamp(N::ZERO, N::from_f32(SIGNAL_MAX));
        let first = self.norm_mean == N::ZERO;
        self.norm_mean = if first {
            xx4
        } else {
            self.norm_mean + kappa * (xx4 - self.norm_mean)
        };
        // Normalise by the larger of the usual |x|² and this pattern's: an
        // input much stronger than usual would otherwise take a step beyond
        // the LMS stability limit (the soak across tasks ran dopamine to its
        // rail that way).
        let quarter = N::from_f32(0.0625);
        let m = self.norm_mean.max(xx4).max(quarter);
        // a = 4 m = |x|² (floored at 1/4); two Newton steps per stimulus,
        // more from a cold start (y0 = 1/8 converges for a < 16).
        let four = N::from_f32(4.0);
        let warm = self.norm_inv * m * four;
        let (mut y, n) = if first || warm < N::from_f32(0.5) || warm > N::from_f32(1.5) {
            (N::from_f32(0.125), 12)
        } else {
            (self.norm_inv, 2)
        };
        for _ in 0..n {
            let a_y = m * y * four;
            y = y * (N::ONE + N::ONE - a_y);
        }
        self.norm_inv = y.clamp(N::ZERO, four);
    }

    /// The normaliser `1/max(|x|², 1/4)` (1 before the first stimulus).
    pub fn norm(&self) -> N {
        if self.norm_mean == N::ZERO {
            N::ONE
        } else {
            self.norm_inv
        }
    }

    /// Experience: `lr_i ← max(lr_i − k x_i lr_i², lr_min)` (first order of `1/(1/lr + k x)`).
    pub fn gain_experience(&mut self, x: &[N; C], k: N, lr_min: N) {
        self.gain_experience_at(x, &support(x), k, lr_min);
    }

    /// [`Critic::gain_experience`] over the entries `nz` of `x` (all its
    /// nonzero ones: a zero input changes no rate; each rate is its own).
    pub fn gain_experience_at(&mut self, x: &[N; C], nz: &[u16], k: N, lr_min: N) {
        for &i in nz {
            if let (Some(l), Some(&xi)) = (self.lr.get_mut(i as usize), x.get(i as usize)) {
                if xi != N::ZERO {
                    *l = (*l - k * xi * *l * *l).max(lr_min);
                }
            }
        }
    }
}

/// The reciprocal `1/a` for `0 < a < 16`, from a hint when it is close.
pub fn recip<N: Num>(a: N, hint: N) -> N {
    let t = a * hint;
    let (mut y, n) = if t > N::from_f32(0.5) && t < N::from_f32(1.5) {
        (hint, 2)
    } else {
        (N::from_f32(0.0625), 14)
    };
    for _ in 0..n {
        y = newton_recip(a, y);
    }
    y
}
