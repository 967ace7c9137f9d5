//! The agent: cortex, thalamus, basal ganglia and dopamine wired into one
//! loop, one call per time step.
//!
//! ```
//! use tcbg::{Agent, Config, fixed::{Fx, Num}};
//! let mut agent: tcbg::DefaultAgent = Agent::new(Config::default(), 42).unwrap();
//! agent.set_action_count(2).unwrap();
//! let mut reward = Fx::ZERO;
//! for t in 0..200 {
//!     let cue = t % 2;
//!     let mut obs = [Fx::ZERO; 8];
//!     obs[cue] = Fx::ONE;
//!     agent.mark_trial_start();
//!     let action = agent.step(&obs, reward);
//!     reward = if action == cue { Fx::ONE } else { Fx::ZERO };
//! }
//! assert!(agent.dopamine().to_f32().abs() < 1.0);
//! ```
//!
//! One step, in order, as [`Agent::step`] reads (each line names the module
//! that owns the mechanism):
//! 1. cortex: drive `u = W_in s` of the new observation
//!    ([`Cortex::compute_drive`]);
//! 2. dopamine: `δ = r + γ V(s_t) − V(s_{t−1})` under the current thalamic
//!    state ([`Critic::dopamine`]);
//! 3. basal ganglia, context channels: surprise accumulates negative dopamine
//!    ([`ContextChannels::accumulate_surprise`]; at the end of a trial of
//!    several decisions, as far as the loss means a change of rule,
//!    [`ContextChannels::change_posterior`]); while it is high,
//!    corticostriatal plasticity is held (contextual credit first), unless
//!    in-place learning has learned to release it ([`ContextChannels::hold`]);
//! 4. dopamine: the critic's and the actor's learning signals (Go and NoGo at
//!    a trial's end from the reward against the aspiration,
//!    [`Critic::teaching_signals`]); basal ganglia and critic: three-factor
//!    learning on the eligibility traces (a dip on a rule's choice weighed
//!    by the posterior of a change, [`ContextChannels::dip_weight`]);
//!    thalamus: the slow training of the control functions `G` ([`Thalamus::train_gain`]); context channels: the
//!    recall test of a re-entered control function, which sets in-place
//!    learning and the gain all control functions share
//!    ([`ContextChannels::recall_outcome`]), competence and the usual surprise;
//! 5. thalamus: read the input ([`Thalamus::observe`]), then the context
//!    channels and winner-take-all select the control function (with
//!    recognition override and novelty); a switch steps in-place learning up
//!    if the inputs changed, down if not ([`ContextChannels::switched`]);
//! 6. cortex: rates under the new gain; Oja learning (no dopamine);
//! 7. basal ganglia, action channels: saliences, GPR selection, traces; the
//!    context channels' predictions of the action's reward
//!    ([`ContextChannels::predict`]: every function's at a trial's first
//!    step, the function in force's at a later one).

use crate::basal_ganglia::{
    elig_rows, select_channel, ContextChannels, EligSupport, Evidence, Gpr, LnTable, Rail,
    Striatum, BELIEF_MAX, RECALL_OUTCOMES,
};
use crate::config::{assert_sizes, Config, ConfigError, Lesions};
use crate::cortex::{bounded, Cortex};
use crate::dopamine::{recip, Critic, SIGNAL_MAX};
use crate::fixed::{copy_row, empty_list, fill_row, Indices, Num, RECIP_Q15};
use crate::kernels::{leaking_columns, w_rec_unit, Kernels};
use crate::rng::Rng;
use crate::thalamus::{Override, Pattern, Recognition, Seen, Thalamus, PATTERNS};

/// Observation values are limited to this range (NaN counts as 0).
pub const OBS_RANGE: f32 = 1.0;
/// Values are limited to this many rewards (`|Q| ≤ 2`): a trial is an
/// episode that pays one reward at its end.
const VALUE_BOUND_REWARDS: f32 = 2.0;
/// Rewards are limited to `[-REWARD_RANGE, REWARD_RANGE]` (NaN counts as 0).
pub const REWARD_RANGE: f32 = 1.0;

/// Constants of a validated [`Config`] in the agent's number type.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Params<N: Num> {
    eta_cortex: N,
    rate_threshold: N,
    /// k-winners-take-all fraction in 1/256 (0 = off).
    kwta: u16,
    inv_span: N,
    gain_max: N,
    gain_min: N,
    /// Cortical self-excitation `recurrence`.
    recurrence: N,
    /// `recurrence × amplification`: the recurrent weight per unit of gain
    /// on a step without afferent input.
    recurrence_amplified: N,
    w_bg: N,
    eta_m_half: N,
    m_max: N,
    m_eps: N,
    m_keep: N,
    /// The bound within which the leak of `M` moves no weight.
    pub(crate) m_still: N,
    kappa_fast: N,
    kappa_slow: N,
    recognise: N,
    recognise_min_norm: N,
    recognise_margin: N,
    novelty: N,
    eta_u: N,
    eta_bind: N,
    competent: N,
    refractory: u16,
    eta_g: N,
    action_bias: N,
    explore: N,
    explore_uncertain: N,
    salience_max: N,
    eta_go: N,
    eta_nogo: N,
    /// `w_max` and its reciprocal, for the soft bound of potentiation.
    rail: Rail<N>,
    opponent_settle: N,
    gamma: N,
    /// `min(REWARD_RANGE / (1 − γ), 2 REWARD_RANGE)`: the largest value a state can have.
    value_bound: N,
    lambda: N,
    eta_v: N,
    kappa_norm: N,
    experience_rate: N,
    lr_min: N,
    stimulus_threshold: N,
    context_bias: N,
    context_scale: N,
    w_competence: N,
    persistence: N,
    surprise_leak: N,
    surprise_max: N,
    context_noise: N,
    eta_q: N,
    hold_start: N,
    hold_inv: N,
    /// `1 / (surprise_max − hold_full)` (at least 1/16 apart).
    m_gate_inv: N,
    eta_surprise_baseline: N,
    k_dev: N,
    surprise_floor: N,
    surprise_drift: N,
    usual_surprise_max: N,
    aspiration: N,
    eta_aspiration: N,
    eta_in_place: N,
    in_place_decay: N,
    line_on: N,
    eta_recall: N,
    pub(crate) ln: LnTable<N>,
    w_belief: N,
    w_memory: N,
    eta_reliability: N,
    eta_consistency: N,
    /// The belief floor, `−belief_floor` (at most 0): `e^` of it is the
    /// hazard of a rule change on one outcome.
    pub(crate) belief_floor: N,
    belief_lo: N,

    /// `K/C`: turns a sum of gains over cortex into a mean gain per mask share.
    k_over_c: N,
    gpr: Gpr<N>,
}

impl<N: Kernels> Params<N> {
    fn new(c: &Config, n_c: usize, n_k: usize) -> Self {
        let f = N::from_f32;
        Params {
            eta_cortex: f(c.eta_cortex),
            rate_threshold: f(c.rate_threshold),
            kwta: libm::roundf(c.winners * 256.0) as u16,
            inv_span: f(1.0 / (1.0 - c.rate_threshold)),
            gain_max: f(c.gain_max),
            gain_min: f(c.gain_min),
            recurrence: f(c.recurrence),
            recurrence_amplified: f(c.recurrence * c.amplification),
            w_bg: f(c.w_bg),
            eta_m_half: f(0.5 * c.eta_m),
            m_max: f(c.m_max),
            m_eps: f(c.m_eps),
            m_keep: f(1.0 - c.m_decay),
            m_still: N::leak_still(f(1.0 - c.m_decay)).min(f(c.m_max)),
            kappa_fast: f(c.kappa_fast),
            kappa_slow: f(c.kappa_slow),
            recognise: f(c.recognise),
            recognise_min_norm: f(c.recognise_min_norm),
            recognise_margin: f(c.recognise_margin),
            novelty: f(c.novelty),
            eta_u: f(c.eta_u),
            eta_bind: f(c.eta_bind),
            competent: f(c.competent),
            refractory: c.refractory as u16,
            eta_g: f(c.eta_g),
            action_bias: f(c.action_bias),
            explore: f(c.explore),
            explore_uncertain: f(c.explore_uncertain),
            salience_max: f(c.salience_max),
            eta_go: f(c.eta_go),
            eta_nogo: f(c.eta_nogo),
            rail: Rail {
                max: f(c.w_max),
                inv: f(1.0 / c.w_max),
            },
            opponent_settle: f(c.opponent_settle),
            gamma: f(c.gamma),
            value_bound: f((REWARD_RANGE / (1.0 - c.gamma).max(1.0 / SIGNAL_MAX))
                .min(VALUE_BOUND_REWARDS * REWARD_RANGE)),
            lambda: f(c.lambda),
            eta_v: f(c.eta_v),
            kappa_norm: f(c.kappa_norm),
            experience_rate: f(c.experience_rate),
            lr_min: f(c.lr_min),
            stimulus_threshold: f(c.stimulus_threshold),
            context_bias: f(c.context_bias),
            context_scale: f(c.context_scale),
            w_competence: f(c.w_competence),
            persistence: f(c.persistence),
            surprise_leak: f(c.surprise_leak),
            surprise_max: f(c.surprise_max),
            context_noise: f(c.context_noise),
            eta_q: f(c.eta_q),
            hold_start: f(c.hold_start),
            hold_inv: f(1.0 / (c.hold_full - c.hold_start)),
            m_gate_inv: f(1.0 / (c.surprise_max - c.hold_full).max(0.0625)),
            eta_surprise_baseline: f(c.eta_surprise_baseline),
            k_dev: f(c.k_dev),
            surprise_floor: f(c.surprise_floor),
            surprise_drift: f(c.surprise_drift),
            usual_surprise_max: f(c.usual_surprise_max),
            aspiration: f(c.aspiration),
            eta_aspiration: f(c.eta_aspiration),
            eta_in_place: f(c.eta_in_place),
            in_place_decay: f(c.in_place_decay),
            line_on: f(c.line_on),
            eta_recall: f(c.eta_recall),
            ln: LnTable::new(),
            w_belief: f(c.w_belief),
            w_memory: f(c.w_memory),
            eta_reliability: f(c.eta_reliability),
            eta_consistency: f(c.eta_consistency),
            belief_floor: f(-c.belief_floor),
            belief_lo: f(-BELIEF_MAX),
            k_over_c: f(n_k as f32 / n_c as f32),
            gpr: Gpr::from_config(c),
        }
    }
}

/// Trials for which one of several decisions keeps the context channels'
/// outcome memory aside (see [`ContextChannels::several`]).
const SEVERAL_HOLD: u8 = 64;

/// What the basal ganglia did this step, for visualisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection<N: Num, const M: usize> {
    /// Salience of each channel. Q3.12, 0 to `salience_max`.
    pub salience: [N; M],
    /// GPi output of each channel (low = selected). Q3.12, 0 to 8, saturates.
    pub gpi: [N; M],
    /// The selected channel.
    pub selected: u8,
}

impl<N: Num, const M: usize> Selection<N, M> {
    fn new() -> Self {
        Selection {
            salience: [N::ZERO; M],
            gpi: [N::ZERO; M],
            selected: 0,
        }
    }
}

/// Counters for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Steps taken; wraps.
    pub steps: u32,
    /// Context switches of any kind; saturates.
    pub switches: u32,
    /// Switches forced by recognition (a known cue pulled back its context);
    /// saturates.
    pub recognitions: u32,
    /// Switches to an unused context on a novel pattern; saturates.
    pub novelties: u32,
}

/// Values one phase of a step computes and a later phase reuses, each to
/// spare the later one a pass (what each skips is said per field). Built
/// anew by every step; never part of the agent's state.
pub(crate) struct Scratch<N: Num, const C: usize, const A: usize> {
    /// The gain norm at step 2. Step 6 compares it: under the same norm,
    /// gain row and rates, the striatal input is step 2's (skips scaling
    /// the rates again).
    gain_norm: N,
    /// The units with gain of step 2's rates (ascending; step 6's once it
    /// computes its own). Step 6 reuses the rates when they are step 2's
    /// (skips the k-winners-take-all), and the gain training's norm reads
    /// only these units (skips a pass over cortex).
    units: Indices<C>,
    /// The units of nonzero striatal input (ascending), of step 2 and, when
    /// the input changed, of step 6: every later pass over the input reads
    /// only these (skips the zeros).
    nz: Indices<C>,
    /// Step 2's striatal input total: step 6's stimulus test when the input
    /// is step 2's (skips summing the rates).
    input_total: N,
    /// The striatal drive of each action, of step 2; step 6 keeps it when
    /// neither the input nor the striatum changed (skips the drive's dot
    /// products), and step 7 reads it.
    drive: [N; A],
    /// The synapses with a nonzero eligibility trace (the traces change only
    /// at the end of the step): one pass, at step 4, for every rule that
    /// reads them (skips finding them again for the striatum's, the
    /// critic's and the gain training's learning and step 7's traces).
    elig: EligSupport<C>,
    /// Whether step 4 or 5 changed a gain of a control function: then step
    /// 6 cannot reuse step 2's rates.
    gain_changed: bool,
    /// The input's entry in the thalamus's pattern memory, from step 5:
    /// step 7's counterfactual read-out is per pattern (skips finding it
    /// again).
    pattern: Option<usize>,
}

impl<N: Num, const C: usize, const A: usize> Scratch<N, C, A> {
    /// Empty lists, and the gain norm at the step's start.
    #[inline(always)]
    fn new(gain_norm: N) -> Self {
        Scratch {
            gain_norm,
            units: empty_list(),
            nz: empty_list(),
            input_total: N::ZERO,
            drive: [N::ZERO; A],
            pattern: None,
            elig: EligSupport::new(),
            gain_changed: false,
        }
    }
}

/// The thalamocortical basal-ganglia loop, generic over the number type `N`
/// ([`crate::fixed::Fx`] or `f32`) and the sizes: `S` inputs, `C` cortical
/// units, `K` thalamic control functions, `A` actions.
// Laid out as written, the step's scalars first and the large arrays last:
// a Cortex-M load reaches 4,095 bytes past its base in one instruction.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct Agent<N: Num, const S: usize, const C: usize, const K: usize, const A: usize> {
    pub(crate) p: Params<N>,
    pub(crate) lesions: Lesions,
    pub(crate) action_mask: u32,
    pub(crate) trial_start: bool,
    /// Whether a trial start has ever been marked. Until one is, every step
    /// with an outcome counts as a trial of its own (the context channels
    /// count it, and a stimulus clears the traces).
    pub(crate) trials_marked: bool,
    /// Stimulus steps in the trial, saturates.
    pub(crate) decisions: u8,
    /// Whether the last step had no afferent input (cortex held its code
    /// through it, amplified by the thalamus).
    pub(crate) held: bool,
    /// Reciprocal of the mean gain of the active control function (tracked).
    /// Q3.12, 0 to 8.
    pub gain_norm: N,
    pub(crate) explore_rng: Rng,
    pub(crate) dither_rng: Rng,
    /// Cortex's own rounding dither: its plasticity must not depend on how
    /// many draws dopamine-driven learning took.
    pub(crate) cortex_rng: Rng,
    pub(crate) counters: Counters,
    /// Action channels this step.
    pub actions: Selection<N, A>,
    /// Context channels this step.
    pub context_channels: Selection<N, K>,
    /// Context-channel bookkeeping.
    pub contexts: ContextChannels<N, K>,
    /// Critic and dopamine.
    pub critic: Critic<N, C, A>,
    /// Striatal input `x = r / (mean gain)`: cortex normalised by the total
    /// thalamic gain. Q3.12, 0 to 8, saturates.
    pub striatal_input: [N; C],
    /// Striatum of the action channels.
    pub striatum: Striatum<N, C, A>,
    /// Cortex.
    pub cortex: Cortex<N, S, C>,
    /// Thalamus.
    pub thalamus: Thalamus<N, S, C, K>,
    pub(crate) config: Config,
    pub(crate) seed: u64,
}

impl<N: Kernels, const S: usize, const C: usize, const K: usize, const A: usize>
    Agent<N, S, C, K, A>
{
    /// A new agent; every random choice (initial weights, masks, exploration,
    /// stochastic rounding) flows from `seed`.
    pub fn new(config: Config, seed: u64) -> Result<Self, ConfigError> {
        let mut agent = Self::blank();
        agent.reset(config, seed)?;
        Ok(agent)
    }

    /// An agent with every variable 0, to be set up in place by
    /// [`Agent::reset`]. On a small board this pair avoids the temporaries of
    /// [`Agent::new`] (each a copy of the agent on the stack):
    ///
    /// ```
    /// use tcbg::{Config, DefaultAgent};
    /// let mut agent = DefaultAgent::blank();
    /// agent.reset(Config::default(), 7).unwrap();
    /// assert_eq!(agent, DefaultAgent::new(Config::default(), 7).unwrap());
    /// ```
    pub fn blank() -> Self {
        // Sizes that cannot form an agent fail the build here.
        const { assert_sizes(S, C, K, A) };
        Agent {
            config: Config::default(),
            seed: 0,
            p: Params::default(),
            lesions: Lesions::NONE,
            cortex: Cortex::blank(),
            thalamus: Thalamus::blank(),
            striatum: Striatum::new(),
            contexts: ContextChannels::new(),
            critic: Critic::new(N::ZERO),
            striatal_input: [N::ZERO; C],
            gain_norm: N::ZERO,
            actions: Selection::new(),
            context_channels: Selection::new(),
            action_mask: 0,
            trial_start: false,
            trials_marked: false,
            held: false,
            decisions: 0,
            explore_rng: Rng::seed_stream(0, 2),
            dither_rng: Rng::seed_stream(0, 3),
            cortex_rng: Rng::seed_stream(0, 4),
            counters: Counters::default(),
        }
    }

    /// Sets the agent up in place for `config` and `seed`, exactly as
    /// [`Agent::new`] would build it. On an invalid config the agent is
    /// left unchanged.
    pub fn reset(&mut self, config: Config, seed: u64) -> Result<(), ConfigError> {
        const { assert_sizes(S, C, K, A) };
        config.validate()?;
        if config.winners * C as f32 > crate::cortex::KWTA_MAX as f32 {
            return Err(ConfigError::Inconsistent {
                field: "winners",
                requires: "winners × C <= 31 (the k-winners-take-all keeps at most 31 winners)",
            });
        }
        let mut init = Rng::seed_stream(seed, 1);
        self.config = config;
        self.seed = seed;
        self.p = Params::<N>::new(&config, C, K);
        self.lesions = config.lesions;
        self.cortex.init(config.w_in_init, || N::unit(init.next()));
        // A random permutation of cortex (Fisher-Yates) deals units to masks.
        let mut perm: [u16; C] = core::array::from_fn(|i| i as u16);
        for i in (1..C).rev() {
            let j = init.below(i as u32 + 1) as usize;
            perm.swap(i, j);
        }
        self.thalamus
            .init(&self.cortex.w_in, N::from_f32(config.gain_on), &perm);
        self.striatum.reset();
        self.contexts = ContextChannels::new();
        // Optimistic prior: a typical cue drives about a quarter of a mask share.
        self.critic
            .reset(N::from_f32(config.v0 / (0.25 * (C / K) as f32)));
        // A trial is expected to bring what a fresh pattern predicts.
        self.critic.aspiration = N::from_f32(config.v0.min(REWARD_RANGE));
        self.striatal_input = [N::ZERO; C];
        self.actions = Selection::new();
        self.context_channels = Selection::new();
        self.action_mask = (1u32 << A) - 1;
        self.trial_start = false;
        self.trials_marked = false;
        self.held = false;
        self.decisions = 0;
        self.explore_rng = Rng::seed_stream(seed, 2);
        self.dither_rng = Rng::seed_stream(seed, 3);
        self.cortex_rng = Rng::seed_stream(seed, 4);
        self.counters = Counters::default();
        self.gain_norm = self.mean_gain_recip(N::from_f32(0.0625));
        Ok(())
    }

    /// The configuration the agent was built with (lesions as at start).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The seed the agent was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Lesions in force.
    pub fn lesions(&self) -> Lesions {
        self.lesions
    }

    /// Changes the lesions between steps (the demo toggles them live).
    pub fn set_lesions(&mut self, lesions: Lesions) {
        self.lesions = lesions;
        self.gain_norm = self.mean_gain_recip(self.gain_norm);
    }

    /// Restricts the actions to `0..n` (a task with fewer actions than `A`).
    pub fn set_action_count(&mut self, n: usize) -> Result<(), ConfigError> {
        if n < 1 || n > A {
            return Err(ConfigError::Size {
                param: "A",
                requires: "action count within 1..=A",
            });
        }
        self.action_mask = (1u32 << n) - 1;
        Ok(())
    }

    /// Marks a trial boundary: the next step starts a new trial, so after it
    /// has learned from the reward it brings, the eligibility traces are
    /// cleared and credit cannot leak into the new trial.
    pub fn mark_trial_start(&mut self) {
        self.trial_start = true;
        self.trials_marked = true;
    }

    /// Counters (steps, context switches).
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Cortical rates `r`.
    pub fn cortical_rates(&self) -> &[N; C] {
        &self.cortex.rate
    }
    /// Thalamic gain of each cortical unit.
    pub fn cortical_gains(&self) -> &[N; C] {
        &self.cortex.gain
    }
    /// Thalamic activity `h`.
    pub fn thalamic_activity(&self) -> &[N; K] {
        &self.thalamus.h
    }
    /// The selected control function.
    pub fn active_context(&self) -> usize {
        self.thalamus.active as usize
    }
    /// Dopamine of the last step (the TD error).
    pub fn dopamine(&self) -> N {
        self.critic.delta
    }
    /// Value of the present state, `Q(s, a*)` for the preferred action `a*`.
    pub fn value(&self) -> N {
        self.critic.value
    }

    /// `f` of the gain vector of control function `k` under the lesions in
    /// force. Borrowed, so no step copies it, and the row of 1s of the
    /// `no_thalamus` lesion is built only under that lesion (zeroing a
    /// scratch row for it cost every step). Fields, not `self`, so that `f`
    /// may write the rest of the agent.
    #[inline(always)]
    fn with_gain_row<R>(
        lesions: &Lesions,
        g: &[[N; C]; K],
        k: usize,
        f: impl FnOnce(&[N; C]) -> R,
    ) -> R {
        if lesions.no_thalamus {
            f(&[N::ONE; C])
        } else {
            // `k < K` always; the bound lets the compiler drop the panic path.
            f(&g[k.min(K - 1)])
        }
    }

    /// Reciprocal of the mean gain per mask share of the active control function.
    fn mean_gain_recip(&self, hint: N) -> N {
        self.mean_gain_recip_at(hint, None)
    }

    /// [`Agent::mean_gain_recip`], reading only the units `at` when given:
    /// they must include every unit of nonzero gain (ascending), so that
    /// the sum takes the same terms in the same order.
    fn mean_gain_recip_at(&self, hint: N, at: Option<&[u16]>) -> N {
        let k_over_c = self.p.k_over_c;
        let sum = Self::with_gain_row(
            &self.lesions,
            &self.thalamus.g,
            self.thalamus.active as usize,
            |g| {
                let mut sum = N::ZERO;
                let mut add = |v: N| {
                    if v != N::ZERO {
                        sum = sum + v * k_over_c; // a zero gain adds 0
                    }
                };
                match at {
                    Some(units) => units
                        .iter()
                        .filter_map(|&i| g.get(i as usize))
                        .for_each(|&v| add(v)),
                    None => g.iter().for_each(|&v| add(v)),
                }
                sum
            },
        );
        if sum <= N::ZERO {
            return N::ZERO;
        }
        recip(sum, hint).clamp(N::ZERO, N::from_f32(8.0))
    }

    /// One time step: takes the observation and the reward for the previous
    /// action, learns, and returns the action (within the action count).
    ///
    /// Observations and rewards outside `[-1, 1]` are limited to it, NaN to 0.
    ///
    /// The seven steps of `docs/MODEL.md` ("One step"), in order; each
    /// mechanism is its structure's. Values one step computes for a later
    /// one are kept in a scratch struct (`agent::Scratch`).
    pub fn step(&mut self, obs: &[N; S], reward: N) -> usize {
        let (s, reward) = self.take_inputs(obs, reward);
        // `active < K` always (restore checks it); the bound proves it to the compiler.
        let cur = (self.thalamus.active as usize).min(K - 1);
        let mut scratch = Scratch::new(self.gain_norm);

        // 1. Cortex: the drive `u = W_in s` of the new observation, plus
        //    each unit's recurrence from its last rate, amplified by the
        //    thalamus through a delay.
        self.cortex.compute_drive(&s);
        let afferent = s.iter().any(|v| *v != N::ZERO);
        self.recur(cur, afferent);

        // 2. Dopamine: the critic's TD error under the current thalamic state.
        let value_now = self.read_out(cur, afferent, &mut scratch);
        let outcome = self.brings_news(&s, reward);
        let news = outcome && !self.lesions.no_dopamine;
        let delta = self
            .critic
            .dopamine(reward, self.p.gamma, value_now, news, self.trial_start);

        // 3. Context channels: surprise, and the hold on plasticity it brings.
        // Trials are what succeed or fail: the context channels count a
        // trial's outcome (its end, a marked trial start), not the steps
        // within a trial of several actions.
        let trial_outcome = outcome && (self.trial_start || !self.trials_marked);
        // The outcome memory foretold a loss: the trial's action lost for
        // its pattern last time too (read before the outcome closes it).
        let loss_foretold = self.contexts.foretold == 1;
        // An outcome within a trial: the last decision let it go on.
        let went_on = outcome && !self.trial_start && self.trials_marked;
        self.judge(reward, trial_outcome, went_on);
        let hold = self.surprise(cur, delta, trial_outcome, loss_foretold);

        // 4. Three-factor learning on the critic's and the actor's dopamine
        //    (with the slow training of the control functions), the recall
        //    test, competence and the usual surprise.
        let (d, mut d_actor) = self.teaching_signals(cur, reward, delta, hold, news);
        if self.trials_marked && !self.trial_start {
            // Within a marked trial only the critic learns (TD(λ) on the
            // trial's traces); the actor learns at the trial's end, from the
            // reward against the aspiration, on the traces of every action
            // the trial took (a dip: the last one's, `Striatum::recent`).
            d_actor = N::ZERO;
        }
        self.striatum.elig_support_into(&mut scratch.elig);
        if d != N::ZERO || d_actor != N::ZERO {
            self.three_factor(cur, (d, d_actor), loss_foretold, &mut scratch);
        }
        self.recall_test(cur, reward, &mut scratch);
        self.learn_competence(cur, reward, hold, trial_outcome);

        // 5. Thalamus: read the input; the context channels select the
        //    control function.
        self.select(&s, cur, reward, (outcome, went_on), &mut scratch);

        // 6. Cortex fires under the (possibly new) gain; Oja learning; the
        //    value of the new state.
        let (value, stimulus) = self.fire(&s, cur, d, outcome, afferent, &mut scratch);

        // 7. Action channels: saliences, selection, traces.
        self.act(value, stimulus, afferent, &scratch)
    }

    /// Step 1's recurrence: each cortical unit adds its rate of the last
    /// step times its self-excitation to its drive; on a step without
    /// afferent input the thalamus amplifies it by `amplification` times the
    /// unit's gain under the current control function (Schmitt et al. 2017:
    /// the mediodorsal thalamus sustains prefrontal activity through a delay
    /// by amplifying its local connectivity), and on the first step with
    /// input after such a step within a marked trial (the go step keeps the
    /// held code). Nothing carries across a marked trial start, so a task of
    /// one step per trial is untouched.
    #[inline(always)]
    fn recur(&mut self, cur: usize, afferent: bool) {
        if self.trial_start || self.p.recurrence == N::ZERO {
            // Nothing carries across a trial start: nothing is held.
            self.held = false;
            return;
        }
        // Within a marked trial the first input after a held step is the
        // cue's go: the held code stays among its winners. Without marks an
        // input after blank steps may start a new trial, which the last
        // one's code must not enter.
        let held = core::mem::replace(&mut self.held, !afferent) && self.trials_marked;
        let amplify =
            (!afferent || held) && !self.lesions.no_amplification && !self.lesions.no_thalamus;
        let (w, wa) = (self.p.recurrence, self.p.recurrence_amplified);
        let g = &self.thalamus.g[cur.min(K - 1)];
        self.cortex.add_recurrence(w, amplify.then_some((wa, g)));
    }

    /// The observation and reward limited to their ranges (NaN to 0); counts
    /// the step.
    #[inline(always)]
    fn take_inputs(&mut self, obs: &[N; S], reward: N) -> ([N; S], N) {
        let lim = N::from_f32(OBS_RANGE);
        let s: [N; S] = core::array::from_fn(|j| sanitize(obs[j], lim));
        let reward = sanitize(reward, N::from_f32(REWARD_RANGE));
        self.counters.steps = self.counters.steps.wrapping_add(1);
        (s, reward)
    }

    /// Whether the step is an outcome step: it has an input, a reward or a
    /// trial mark. A step with none brings no news: the prediction is held
    /// across it (semi-Markov TD, Daw, Courville & Touretzky 2006) instead of
    /// collapsing to the value of an empty input. Otherwise the first blank
    /// step of a delay punished whatever action was taken, right or wrong, by
    /// the cue's whole value; once both actions' NoGo weights reached the
    /// rail, a rule could not be relearned (the soak across tasks).
    #[inline(always)]
    fn brings_news(&self, s: &[N; S], reward: N) -> bool {
        self.trial_start || reward != N::ZERO || s.iter().any(|v| *v != N::ZERO)
    }

    /// Step 2's reading of the current state: the rates under the current
    /// gain row, the striatal input, its drive, and the value `V(s_t)`
    /// (returned). They are written in place (nothing reads the last step's
    /// between here and step 6, which reuses them while the context, its
    /// gain row and the gain norm stay as they are: most steps), which
    /// spares zeroing and copying two rows.
    #[inline(always)]
    fn read_out(&mut self, cur: usize, afferent: bool, sc: &mut Scratch<N, C, A>) -> N {
        let p = &self.p;
        let (drive, rate) = (&self.cortex.drive, &mut self.cortex.rate);
        let units = &mut sc.units;
        Self::with_gain_row(&self.lesions, &self.thalamus.g, cur, |g| {
            let (t, s, k) = (p.rate_threshold, p.inv_span, p.kwta);
            Cortex::<N, S, C>::rates_into(drive, g, t, s, k, rate, units)
        });
        let x0 = &mut self.striatal_input;
        let (total, short) =
            scale_rates(&self.cortex.rate, sc.gain_norm, &sc.units, x0, &mut sc.nz);
        sc.input_total = total;
        if short && afferent {
            sc.input_total = self.winners_without_threshold(cur, sc.gain_norm, sc);
        }
        let x0 = &self.striatal_input;
        sc.drive = self.striatum.drive_at(x0, &sc.nz);
        let bound = self.p.value_bound;
        self.critic
            .state_value_at(x0, &sc.nz, &sc.drive, self.action_mask, bound)
    }

    /// The rates and striatal input (returning its total) of an input too
    /// faint to be a full stimulus (no unit with gain past the rate
    /// threshold, or too few by too little: the bound of `scale_rates` held
    /// it short): the `k` winners fire all the same, by their margins over
    /// the next unit, doubled until the code is a full stimulus (or the
    /// strongest fires at one half). A pattern the control function's cortex
    /// does not answer would otherwise stay silent (or below a stimulus, or
    /// learning at a fraction of every other's pace) for good: a silent unit
    /// neither learns (Oja's rule) nor carries striatal learning, a faint
    /// code takes no trace, so nothing could ever make it answer, and every
    /// choice for that pattern under that function stayed a coin toss. Only
    /// for an afferent input: activity that outlasts its input keeps the
    /// threshold (without the thalamus's amplification it fades). Where no
    /// unit with gain has a drive above 0 (the pattern's afferent weights
    /// onto the function's units all at or below 0), the winners fire by
    /// their margins over the next unit alone. Out of line:
    /// rare on the reference trace the benchmarks run.
    #[cold]
    #[inline(never)]
    fn winners_without_threshold(
        &mut self,
        k: usize,
        gain_norm: N,
        sc: &mut Scratch<N, C, A>,
    ) -> N {
        let (p, cx) = (&self.p, &mut self.cortex);
        let (drive, rate, units) = (&cx.drive, &mut cx.rate, &mut sc.units);
        // A threshold of 0; where no gained drive lies above it, one below
        // every drive, leaving it to the inhibition: the winners by their
        // margins over the next unit alone (the units without gain silent).
        // One call in a loop (the `f32` oracle's firmware is near its flash).
        for theta in [N::ZERO, N::MIN] {
            let fired = Self::with_gain_row(&self.lesions, &self.thalamus.g, k, |g| {
                Cortex::<N, S, C>::rates_into(drive, g, theta, p.inv_span, p.kwta, rate, units);
                let mut fired = false;
                for (r, &g) in rate.iter_mut().zip(g.iter()) {
                    if g == N::ZERO {
                        *r = N::ZERO;
                    }
                    fired |= *r != N::ZERO;
                }
                fired
            });
            if fired {
                break;
            }
        }
        // The margins of a weak drive are small: doubled (exactly, in
        // either number type) until the code is a full stimulus (the bound
        // of `scale_rates` no longer holds it short), or at most until the
        // strongest winner fires at one half. No further: activity that
        // outlasts its input must fade without the thalamus's amplification.
        let rate = &mut self.cortex.rate;
        let (mut top, mut sum) = (N::ZERO, N::ZERO);
        for &i in sc.units.as_slice() {
            let r = rate[bounded::<C>(i)];
            (top, sum) = (top.max(r), sum + r);
        }
        let (half, bound) = (N::from_q15(16384), input_bound(gain_norm));
        while top > N::ZERO && top < half && sum.recip_sat() > bound {
            for &i in sc.units.as_slice() {
                let i = bounded::<C>(i);
                rate[i] = rate[i] + rate[i];
            }
            (top, sum) = (top + top, sum + sum);
        }
        let x = &mut self.striatal_input;
        scale_rates(&self.cortex.rate, gain_norm, &sc.units, x, &mut sc.nz).0
    }

    /// Step 3: an outcome's dopamine adds to the current context's surprise;
    /// the hold on plasticity it brings (1 under the lesions of context
    /// selection).
    ///
    /// The outcome of a trial of several decisions is the whole trial's,
    /// which belief does not judge (it judges the first decision alone), so
    /// surprise moves the context channels: there a loss counts as far as it
    /// means a change of rule rather than noise, the posterior of a change that
    /// weighs the dip's lesson ([`ContextChannels::change_posterior`];
    /// `again`: the trial's first action lost last time too). 1 where
    /// outcomes have always repeated. Without it a flipped reward at a
    /// correct sequence's end, the whole trial's dip, left the sequence's
    /// control function.
    #[inline(always)]
    fn surprise(&mut self, cur: usize, delta: N, outcome: bool, again: bool) -> N {
        let (p, cc) = (&self.p, &mut self.contexts);
        if outcome {
            let delta = if self.decisions > 1 && delta < N::ZERO {
                delta * cc.change_posterior(p.belief_floor, again)
            } else {
                delta
            };
            let (floor, leak, drift) = (p.surprise_floor, p.surprise_leak, p.surprise_drift);
            cc.accumulate_surprise(cur, delta, floor, leak, drift, p.surprise_max);
        }
        if self.lesions.context_selection() {
            // Where belief speaks (as in `select_context`): over inputs some
            // function has met. A new rule is the first unused function's to
            // learn; the function in force stands in for it only when none
            // is left (recycling).
            let th = &self.thalamus;
            let speaks = !th.inputs_new();
            let all = (1u32 << K) - 1;
            let stand_in = u32::from(th.used) & all == all;
            let answers = if speaks {
                cc.answerable(cur, stand_in)
            } else {
                N::ONE
            };
            let (start, inv, usual) = (p.hold_start, p.hold_inv, p.usual_surprise_max);
            cc.hold(cur, start, inv, p.k_dev, usual, answers)
        } else {
            N::ONE
        }
    }

    /// Step 4's dopamine as the learning rules take it: the critic's `d` and
    /// the actor's (see [`Critic::teaching_signals`]). At a trial's end (of an
    /// outcome step, dopamine not lesioned) the actor learns from the reward
    /// against the aspiration, as far as the current control function is not
    /// yet competent (once it is, the critic's error teaches: a success under
    /// an aspiration below a learned rule's reward pushed Go on toward its
    /// rail).
    #[inline(always)]
    fn teaching_signals(&mut self, cur: usize, reward: N, delta: N, hold: N, news: bool) -> (N, N) {
        let (p, cc) = (&self.p, &self.contexts);
        let beta = (self.trial_start && news).then(|| p.aspiration * (N::ONE - cc.competence[cur]));
        self.critic
            .teaching_signals(delta, hold, cc.in_place, reward, beta, p.eta_aspiration)
    }

    /// Step 4's three-factor learning on the traces of `sc`: Go and NoGo from
    /// the actor's dopamine `d_actor`, the part the allowed actions hold in
    /// common settling away, the critic from `d`; and the slow training of
    /// the current control function's gains, with the gain norm following.
    #[inline(always)]
    fn three_factor(
        &mut self,
        cur: usize,
        (d, d_actor): (N, N),
        again: bool,
        sc: &mut Scratch<N, C, A>,
    ) {
        let p = &self.p;
        let dither = &mut self.dither_rng;
        let (go, nogo) = (p.eta_go * d_actor, p.eta_nogo * d_actor);
        let lr = &self.critic.lr;
        if d_actor < N::ZERO {
            // A dip blames the most recent action (see `learn_recent`).
            let settle = p.opponent_settle;
            // On a rule's choice, as far as the loss says the rule changed
            // (`dip_weight`): more so when it lost there last time too.
            let m = self.action_mask.count_ones() as usize;
            let w = self.contexts.dip_weight(cur, m, p.belief_floor, again);
            let (go, nogo) = if w == N::ONE {
                (go, nogo)
            } else {
                (go * w, nogo * w)
            };
            self.striatum
                .learn_recent(go, nogo, lr, p.rail, settle, || dither.next());
        } else {
            self.striatum.learn_at(
                go,
                nogo,
                lr,
                p.rail,
                p.opponent_settle,
                || dither.next(),
                &sc.elig,
            );
        }
        self.striatum
            .settle_actions(self.action_mask, p.opponent_settle, &sc.elig);
        let elig = &self.striatum.elig;
        self.critic
            .learn_at(p.eta_v * d, elig, || dither.next(), &sc.elig);
        if d != N::ZERO && !self.lesions.no_thalamus && p.eta_g != N::ZERO {
            let (changed, grew) = self.thalamus.train_gain(
                cur,
                p.eta_g * d,
                sc.elig.units(),
                elig,
                (p.gain_min, p.gain_max),
                || dither.next(),
            );
            sc.gain_changed |= changed;
            // The gain norm follows the row when it changed. Step 2's units
            // hold every unit with gain unless one without gain gained some
            // (only when `gain_min` is 0).
            if changed {
                let at = (!grew).then_some(sc.units.as_slice());
                self.gain_norm = self.mean_gain_recip_at(self.gain_norm, at);
            }
        }
    }

    /// Step 4's recall test of a re-entered control function, one trial at a
    /// time ([`ContextChannels::recall_outcome`]); at its end every control
    /// function lends the rest of cortex the in-place level (at most
    /// `gain_max`).
    #[inline(always)]
    fn recall_test(&mut self, cur: usize, reward: N, sc: &mut Scratch<N, C, A>) {
        if self.trial_start && self.lesions.context_selection() && !self.lesions.no_meta {
            let cc = &mut self.contexts;
            if cc.recall_outcome(cur, reward, self.p.eta_recall) {
                let sigma = cc.in_place.min(self.p.gain_max);
                self.lend_cortex(sigma);
                sc.gain_changed = true;
            }
        }
    }

    /// Step 4's learning of the context channels, from outcomes only:
    /// competence at a rate held as plasticity is, the usual surprise
    /// unheld (what persists without a switch becomes the usual; see
    /// [`ContextChannels::hold`]), and belief.
    #[inline(always)]
    fn learn_competence(&mut self, cur: usize, reward: N, hold: N, outcome: bool) {
        let (p, cc) = (&self.p, &mut self.contexts);
        if outcome && !self.lesions.no_dopamine {
            cc.learn_competence(cur, reward, p.eta_q * hold);
        }
        if outcome {
            cc.learn_usual_surprise(cur, p.eta_surprise_baseline, p.surprise_max);
        }
    }

    /// Step 3's judging of an outcome by every control function and by a
    /// new rule (belief), and the outcome memory. `went_on`: an outcome
    /// within a trial (its last decision let it go on).
    #[inline(always)]
    fn judge(&mut self, reward: N, outcome: bool, went_on: bool) {
        let (p, cc) = (&self.p, &mut self.contexts);
        // A trial's outcome meets every function's prediction of it: a
        // trial of one decision (one that ended at its first decision is
        // one), not the outcome of a sequence or of a delay, which is the
        // whole trial's and no one pattern's choice predicts.
        if outcome {
            cc.several = if self.decisions > 1 {
                SEVERAL_HOLD
            } else {
                cc.several.saturating_sub(1)
            };
        }
        let judged = outcome && (cc.several == 0 || self.decisions == 1);
        // The first decision of a trial of several is a decision of its own
        // (its choice was noted for its pattern): the trial going on past
        // it is its success, for belief alone (the outcome memory judges the
        // trial at its end), as the trial ending there is its failure.
        let first_went_on = went_on && self.decisions == 1;
        if (judged || first_went_on)
            && self.lesions.context_selection()
            && !self.lesions.no_dopamine
        {
            let m = (self.action_mask.count_ones() as usize).min(RECIP_Q15.len() - 1);
            let guess = N::from_q15(RECIP_Q15[m]);
            let cur = self.thalamus.active as usize;
            // The hazard of a change, shared among the rules it could lead to.
            let floor = cc.hazard_floor(cur, p.belief_floor, &p.ln);
            if judged {
                // The outcome memory's reliability is a slow setting, as
                // in-place learning is: `no_meta` stops both.
                let rate = if self.lesions.no_meta {
                    N::ZERO
                } else {
                    p.eta_reliability
                };
                let rates = (rate, p.eta_consistency);
                cc.learn_belief(reward, &p.ln, (floor, p.belief_lo), guess, rates, cur);
            } else {
                cc.judge_belief(true, &p.ln, (floor, p.belief_lo), guess);
            }
        }
        // A trial of several decisions still ends on one: the outcome
        // memory judges the last (a sequence's failing or final action, a
        // delay's go step), for the consistency of outcomes alone; belief
        // judged the first.
        let last_decides = outcome && !judged && self.decisions > 1;
        if last_decides && self.lesions.context_selection() && !self.lesions.no_dopamine {
            // (`rewarded` below, compared again: shared, the M4F paid 8
            // instructions a step)
            let hit = reward >= N::from_q15(16384);
            let cur = self.thalamus.active as usize;
            cc.judge_memory(hit, (N::ZERO, p.eta_consistency), cur);
        }
        if outcome {
            let rewarded = reward >= N::from_q15(16384);
            let noted = judged || last_decides;
            cc.remember_outcome(
                rewarded,
                noted && !self.lesions.no_dopamine,
                self.action_mask,
            );
        } else if self.lesions.no_traces {
            // Without traces nothing links an outcome to an action steps
            // before it: a step without news closes the open trial.
            cc.close_trial();
        }
    }

    /// Step 5: the thalamus reads the input; the context channels, thalamic
    /// winner-take-all and the recognition memory select the control
    /// function ([`Agent::select_context`]).
    #[inline(always)]
    fn select(
        &mut self,
        s: &[N; S],
        cur: usize,
        reward: N,
        (outcome, went_on): (bool, bool),
        sc: &mut Scratch<N, C, A>,
    ) {
        let p = &self.p;
        let seen = self
            .thalamus
            .observe(s, p.kappa_fast, p.kappa_slow, p.line_on);
        if let Some(Seen { slot, new: true }) = seen {
            self.contexts.forget_pattern(slot);
            self.meet_lines(slot, s, sc);
        }
        sc.pattern = seen.map(|x| x.slot);
        if self.lesions.context_selection() {
            self.select_context(cur, reward, went_on);
            // Cortex is never shared beyond the in-place level (a switch
            // may have stepped it down).
            if self.thalamus.shared > self.contexts.in_place {
                self.lend_cortex(self.contexts.in_place);
                sc.gain_changed = true;
            }
        }
        if outcome {
            self.thalamus.keep_outcome_pattern();
        }
    }

    /// Step 5's meeting of new input lines (a new pattern, entry `slot` of
    /// the pattern memory, may bring one): cortex's afferents are balanced
    /// again over every line met ([`Cortex::meet_lines`]), but for the
    /// units of an established control function, whose code is kept; this
    /// step's rates follow. Rare, out of line.
    #[cold]
    #[inline(never)]
    fn meet_lines(&mut self, slot: usize, s: &[N; S], sc: &mut Scratch<N, C, A>) {
        let key = self.thalamus.patterns[slot.min(PATTERNS - 1)];
        let (mask, comp) = (&self.thalamus.mask, &self.contexts.competence);
        let competent = self.p.competent;
        // A function's units are a group (its code is picked among them);
        // without the thalamus, all of cortex is one.
        let whole = self.lesions.no_thalamus;
        let groups = if whole { 1 } else { K };
        let group = |i: usize| {
            let k = (mask[i] as usize).min(K - 1);
            (comp[k] < competent).then_some(if whole { 0 } else { k })
        };
        sc.gain_changed |= self.cortex.meet_lines(key, s, (groups, group));
    }

    /// Step 6: cortex fires under the gain of the selected control function
    /// (step 2's rates and striatal input, when they are the same); Oja
    /// learning; the value `V(s)` of the new state (returned, with whether
    /// the input is a stimulus).
    #[inline(always)]
    fn fire(
        &mut self,
        s: &[N; S],
        cur: usize,
        d: N,
        outcome: bool,
        afferent: bool,
        sc: &mut Scratch<N, C, A>,
    ) -> (N, bool) {
        let active = self.thalamus.active as usize;
        if active != cur {
            self.gain_norm = self.mean_gain_recip(self.gain_norm);
        }
        let gain = &mut self.cortex.gain;
        Self::with_gain_row(&self.lesions, &self.thalamus.g, active, |g| {
            copy_row(gain, g)
        });
        // The same drive under the same gain row: the rates of step 2.
        let same_rates = active == cur && !sc.gain_changed;
        let same_x = same_rates && self.gain_norm == sc.gain_norm;
        if !same_rates {
            Cortex::<N, S, C>::rates_into(
                &self.cortex.drive,
                &self.cortex.gain,
                self.p.rate_threshold,
                self.p.inv_span,
                self.p.kwta,
                &mut self.cortex.rate,
                &mut sc.units,
            );
        }
        // The striatal input's total (step 2's when `same_x`). Written out
        // as in `read_out`: one helper for both cost the M4F about 90
        // instructions per step (code layout; `cargo xtask bench`).
        let mut input_total = sc.input_total;
        if !same_x {
            let (x, units) = (&mut self.striatal_input, sc.units.as_slice());
            let short;
            (input_total, short) =
                scale_rates(&self.cortex.rate, self.gain_norm, units, x, &mut sc.nz);
            if short && afferent {
                input_total = self.winners_without_threshold(active, self.gain_norm, sc);
            }
        }
        let units = sc.units.as_slice();
        let x = &self.striatal_input;
        let nz = sc.nz.as_slice();
        // Activity held through a delay is no new stimulus: only an afferent
        // input is.
        let stimulus = afferent && input_total >= self.p.stimulus_threshold;
        if stimulus {
            self.critic
                .track_norm(N::dot_shr_at(x, x, nz, 2), self.p.kappa_norm);
        }
        // Without input Oja's rule would only shrink the weights of units
        // held active through a delay: cortex learns from its inputs.
        if self.p.eta_cortex != N::ZERO && afferent {
            let dither = &mut self.cortex_rng;
            self.cortex
                .learn_at(s, self.p.eta_cortex, units, || dither.next());
        }
        // Without learning the striatum is as it was: so is its drive.
        if !(same_x && d == N::ZERO) {
            sc.drive = self.striatum.drive_at(x, nz);
        }
        let v = self
            .critic
            .state_value_at(x, nz, &sc.drive, self.action_mask, self.p.value_bound);
        self.critic.value = v;
        if outcome {
            self.critic.value_prev = v;
        }
        (v, stimulus)
    }

    /// Step 7: the action channels' saliences from the striatal drive (of
    /// `sc`) and noise, raised while the value `v` is low; selection through
    /// the GPR circuit; the traces decay by λ (cleared at a marked trial
    /// start, or at a stimulus while no trial has been marked) and take the
    /// chosen action's input on a step with input (the most recent trace,
    /// [`Striatum::recent`], that input alone).
    #[inline(always)]
    fn act(&mut self, v: N, stimulus: bool, afferent: bool, sc: &Scratch<N, C, A>) -> usize {
        // A trial's traces span its steps (every action of a sequence is
        // eligible for the reward at its end); a marked trial start clears
        // them (a stimulus, while no trial has been marked).
        let unmarked_stimulus = stimulus && !self.trials_marked;
        let keep = if self.trial_start || unmarked_stimulus || self.lesions.no_traces {
            N::ZERO
        } else {
            self.p.lambda
        };
        // The input alone sets cortex only at a trial's first step (later
        // ones add the activity cortex holds): only there is a function's
        // choice one per input pattern.
        let first_step = self.trial_start || !self.trials_marked;
        if first_step {
            self.decisions = 0;
        }
        self.decisions = self.decisions.saturating_add(u8::from(stimulus));
        self.trial_start = false;
        let drive = &sc.drive;
        let sd = self.p.explore + self.p.explore_uncertain * (N::ONE - v).relu();
        // Only the actions' drives relative to each other select: their mean
        // over the allowed actions is taken out before the bias is added.
        // Otherwise NoGo learned on every action (a context relearning rule
        // after rule) pushed all saliences below the GPR's floor, where the
        // choice is a coin toss that no learning can change.
        let mut sum = N::ZERO;
        let mut n = 0usize;
        for a in 0..A {
            if self.action_mask & (1 << a) != 0 {
                sum = sum + drive[a];
                n += 1;
            }
        }
        let centre = sum * N::from_q15(RECIP_Q15[n.min(RECIP_Q15.len() - 1)]);
        // The outcome memory of the pattern's last trial: win-stay,
        // lose-shift, as far as in-place learning calls for learning or the
        // memory has foretold outcomes (not in trials of several decisions,
        // whose outcome no one pattern's action brings).
        let memory = sc
            .pattern
            .filter(|_| first_step && self.contexts.several == 0)
            .and_then(|slot| {
                self.contexts
                    .recall_last(slot)
                    .map(|(m, won)| (m, slot, won))
            });
        // After a win, its action (A for none) and what it adds: less where
        // the function in force clearly chose it there (its noted choice),
        // for then it adds nothing. After a loss, the actions lost since the
        // pattern last paid, each shifted from by as much: where the loss
        // was the function's choice, as far as it means a change of rule
        // rather than noise (as the dip teaches).
        let floor = self.p.belief_floor;
        let (won_action, won_add, lost, lost_sub) = match memory {
            Some((m, slot, won)) => {
                let cur = self.thalamus.active as usize;
                let chose = self.contexts.chose(cur, slot) == Some(m);
                let w = self.contexts.memory_weight(won, chose, self.p.w_memory);
                if won {
                    (m, w, 0, N::ZERO)
                } else {
                    let lost = self.contexts.lost_since.get(slot).copied().unwrap_or(0);
                    let w = if chose {
                        w * self.contexts.change_posterior(floor, false)
                    } else {
                        w
                    };
                    (A, N::ZERO, lost, w)
                }
            }
            None => (A, N::ZERO, 0, N::ZERO),
        };
        for a in 0..A {
            let noise = sd * N::gauss(self.explore_rng.next());
            let recalled = if a == won_action {
                won_add
            } else if lost & (1 << a) != 0 {
                -lost_sub
            } else {
                N::ZERO
            };
            let sal = (self.p.action_bias + drive[a] - centre + recalled + noise)
                .clamp(N::ZERO, self.p.salience_max);
            self.actions.salience[a] = if self.action_mask & (1 << a) != 0 {
                sal
            } else {
                N::ZERO
            };
        }
        self.actions.gpi = self.p.gpr.gpi(&self.actions.salience);
        let rng = &mut self.explore_rng;
        let a = select_channel(&self.actions.gpi, self.action_mask, |n| rng.below(n));
        self.actions.selected = a as u8;
        if let Some(slot) = sc.pattern.filter(|_| first_step && stimulus) {
            self.contexts.remember_action(slot, a);
        }
        if stimulus && self.lesions.context_selection() {
            let cur = (self.thalamus.active as usize).min(K - 1);
            let allowed = (self.action_mask, n);
            let pattern = sc.pattern.filter(|_| first_step);
            let cc = &mut self.contexts;
            let against = cc.predict(cur, pattern, drive, allowed, a, self.p.competent);
            if against != 0 && cc.several == 0 && !self.lesions.no_dopamine {
                cc.input_evidence(against, &self.p.ln, self.p.belief_lo);
            }
        }
        // An action on a step without input acts on nothing: its trace takes
        // no input (cortex may still hold a cue there).
        let nz = if afferent { sc.nz.as_slice() } else { &[] };
        let x = &self.striatal_input;
        self.striatum.update_traces_at(keep, a, x, nz, &sc.elig);
        self.striatum.update_recent(keep, a, x, nz);
        self.critic
            .gain_experience_at(x, nz, self.p.experience_rate, self.p.lr_min);
        a
    }

    /// Every control function lends the rest of cortex the gain `sigma`; the
    /// gain norm follows.
    fn lend_cortex(&mut self, sigma: N) {
        self.thalamus.share_cortex(sigma);
        self.gain_norm = self.mean_gain_recip(self.gain_norm);
    }

    /// Context selection by the basal ganglia's context channels, thalamic
    /// winner-take-all, recognition override and novelty.
    fn select_context(&mut self, cur: usize, reward: N, went_on: bool) {
        let p = &self.p;
        let th = &mut self.thalamus;
        let cc = &mut self.contexts;
        // The context just rewarded on the previous pattern remembers it,
        // as it does a pattern whose action let a trial of several steps go
        // on (the path to a reward at the trial's end).
        if !self.lesions.no_dopamine && (reward > N::ZERO || went_on) {
            th.remember(cur, Pattern::Previous, p.eta_u);
        }
        let evidence = Evidence {
            w_q: p.w_competence,
            // A stored function's prediction for inputs new to every one is
            // no evidence of which is in force; nor does belief count as far
            // as the basal ganglia have learned to answer surprise by
            // learning in place.
            w_belief: if th.inputs_new() {
                N::ZERO
            } else {
                p.w_belief * (N::ONE - cc.in_place) * (N::ONE - cc.in_place)
            },
            noise: p.context_noise,
            persistence: p.persistence,
            k_dev: p.k_dev,
            usual_max: p.usual_surprise_max,
            bias: p.context_bias,
            scale: p.context_scale,
            sal_max: p.salience_max,
        };
        let rng = &mut self.explore_rng;
        let sal = cc.saliences(cur, &evidence, || N::gauss(rng.next()));
        let gpi = p.gpr.gpi(&sal);
        // The Hebbian read-out fades out as surprise climbs from `hold_full`
        // (plasticity fully held) to its cap: a context that keeps failing
        // is left on the basal ganglia's choice alone. Otherwise cues that
        // `M` had bound to it pulled the thalamus back against the basal
        // ganglia after a rule switch on the same cues (a long life across
        // tasks: rule switch stuck in its old context, surprise at the cap).
        let m_gate = ((p.surprise_max - cc.surprise) * p.m_gate_inv).clamp(N::ZERO, N::ONE);
        let (f, rr) = th.inhibit(&gpi, p.w_bg, m_gate, p.m_max);
        let all = (1u32 << K) - 1;
        let neg_h: [N; K] = core::array::from_fn(|k| -th.h[k]);
        let mut new = select_channel(&neg_h, all, |n| rng.below(n));
        // Every unused function stands for the same hypothesis, a rule not
        // met yet: the first of them competes for it, however many there
        // are (with one noisy salience each, the many fresh functions of a
        // large agent outbid the stored ones after a switch). Chosen again
        // among the contenders only when another won: the same choice.
        let contenders = th.contenders();
        if contenders & (1 << new) == 0 {
            new = select_channel(&neg_h, contenders, |n| rng.below(n));
        }
        // A switch in a new situation gives the function entered time to
        // learn; among familiar inputs belief tells at once whether it
        // explains the outcomes, and no refractory period is needed.
        if th.since_switch < p.refractory && th.inputs_new() {
            new = cur;
        }
        let recognition = Recognition {
            recognise: p.recognise,
            min_norm: p.recognise_min_norm,
            margin: p.recognise_margin,
            novelty: p.novelty,
        };
        let established = cc.competence[cur] >= p.competent;
        let (comp, refr) = (&cc.competence, p.refractory);
        match th.recognise(cur, (&f, rr), comp, established, refr, &recognition) {
            Some(Override::Known(k)) => {
                new = k;
                th.h = [N::ZERO; K];
                self.counters.recognitions = self.counters.recognitions.saturating_add(1);
            }
            Some(Override::Novel(k)) => {
                new = k;
                th.h = [N::ZERO; K];
                self.counters.novelties = self.counters.novelties.saturating_add(1);
            }
            None => {}
        }
        let new = new.min(K - 1); // a channel index already; proves the bound
        let switched = new != cur;
        if switched && !self.lesions.no_meta {
            // The slow setting of the fast learner.
            let stored = th.used & (1 << new) != 0;
            cc.switched(
                new,
                th.inputs_new(),
                stored,
                p.eta_in_place,
                p.in_place_decay,
            );
        }
        if switched {
            cc.surprise = N::ZERO;
            th.since_switch = 0;
            self.counters.switches = self.counters.switches.saturating_add(1);
        } else {
            th.since_switch = th.since_switch.saturating_add(1);
        }
        th.active = new as u8;
        if switched && cc.competence[new] < p.competent {
            th.remember(new, Pattern::Current, p.eta_bind);
        }
        th.used |= 1 << new;
        th.learn_hebbian(p.eta_m_half, p.m_eps, p.m_keep, p.m_max, p.m_still);
        self.context_channels.salience = sal;
        self.context_channels.gpi = gpi;
        self.context_channels.selected = new as u8;
    }
}

/// The striatal input of the rates of `units` (every other rate is 0, and
/// so is its input; a unit's 0 rate is kept as it is), normalised by the
/// total rate (divisive normalisation, Carandini & Heeger 2012): `x = k r`,
/// `k = min(1/Σr, 4 g)` with `g` the gain norm. Every stimulus
/// then drives the striatum with the same total, however strong its code:
/// with 2–3 winners in a control function's units a cue's total rate ranged
/// 0.35 to 1.83, and a weak cue learned slowly and erred to the block's end.
/// The bound `4 g` keeps a faint remnant (a delay's fading
/// activity) from being raised to a full stimulus. The units of nonzero
/// input are written to `nz`, ascending. Returns the striatal input's
/// total `k Σr` (1 for a code of any strength, less for a faint one; the
/// total rate summed in the order of `units`, every other rate being 0),
/// and whether the bound held `k` below `1/Σr` (the code fell short of a
/// full stimulus).
#[inline(always)]
fn scale_rates<N: Num, const C: usize>(
    rate: &[N; C],
    g: N,
    units: &[u16],
    x: &mut [N; C],
    nz: &mut Indices<C>,
) -> (N, bool) {
    fill_row(x, N::ZERO);
    nz.clear();
    let mut sum = N::ZERO;
    for &i in units {
        sum = sum + rate[bounded::<C>(i)];
    }
    let (bound, sum_recip) = (input_bound(g), sum.recip_sat());
    let k = sum_recip.min(bound);
    let short = sum_recip > k;
    for &i in units {
        let i = bounded::<C>(i);
        let r = rate[i];
        if r == N::ZERO {
            continue; // (`x` holds +0 there already: a silent unit is 0)
        }
        let v = k * r;
        x[i] = v;
        if v != N::ZERO {
            let _ = nz.push(i as u16); // a unit at most once: never full
        }
    }
    (k * sum, short)
}

/// The bound of [`scale_rates`]'s normalisation, `4 g`: the gain norm
/// doubled twice (exact in either number type). A code whose `1/Σr` passes
/// it is short of a full stimulus.
#[inline(always)]
fn input_bound<N: Num>(g: N) -> N {
    let g2 = g + g;
    g2 + g2
}

/// A state variable found outside its declared range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RangeViolation {
    /// The variable, as `module.field`.
    pub field: &'static str,
    /// Flat index within the variable.
    pub index: usize,
    /// The value found.
    pub value: f32,
    /// Declared lower bound.
    pub min: f32,
    /// Declared upper bound.
    pub max: f32,
}

impl core::fmt::Display for RangeViolation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}[{}] = {} outside {} to {}",
            self.field, self.index, self.value, self.min, self.max
        )
    }
}

/// [`check`] of a count or index: 0 to `max`.
fn check_count(field: &'static str, value: u8, max: usize) -> Result<(), RangeViolation> {
    check(field, &[value as f32], 0.0, max as f32)
}

fn check<N: Num>(
    field: &'static str,
    vals: &[N],
    min: f32,
    max: f32,
) -> Result<(), RangeViolation> {
    for (index, v) in vals.iter().enumerate() {
        let value = v.to_f32();
        if !(value >= min && value <= max) {
            return Err(RangeViolation {
                field,
                index,
                value,
                min,
                max,
            });
        }
    }
    Ok(())
}

impl<N: Num, const S: usize, const C: usize, const K: usize, const A: usize> Agent<N, S, C, K, A> {
    /// Checks every state variable against the range its documentation
    /// declares (the first violation found, if any): each persisted
    /// variable with a range in [`crate::state::STATE`], then what is derived
    /// from them and the masks, then the relations the step keeps between
    /// variables (listed at `check_relations` in the source: the action
    /// mask, the selected channels, the active context marked used, the
    /// recall test, the shared gain, the gain rows, the pattern memory, the
    /// warm-up count). The one place of the state's invariants: the step
    /// keeps them; tests, the soak, the fuzz targets and snapshot restore
    /// check them.
    pub fn check_ranges(&self) -> Result<(), RangeViolation> {
        self.check_state_ranges()?;
        let th = &self.thalamus;
        // The leak flags are derived from `M`: each is exactly its column's.
        let want = leaking_columns(&th.m_hebb, self.p.m_still);
        for (index, (&f, &w)) in th.leaking.iter().zip(want.iter()).enumerate() {
            if f != w {
                return Err(RangeViolation {
                    field: "thalamus.leaking",
                    index,
                    value: f as f32,
                    min: w as f32,
                    max: w as f32,
                });
            }
        }
        // The hint that every weight of W_rec is at most 1 is derived from it.
        let unit = w_rec_unit(&th.w_rec);
        if th.w_rec_unit != unit {
            return Err(RangeViolation {
                field: "thalamus.w_rec_unit",
                index: 0,
                value: th.w_rec_unit as u8 as f32,
                min: unit as u8 as f32,
                max: unit as u8 as f32,
            });
        }
        for (index, &m) in th.mask.iter().enumerate() {
            check_count("thalamus.mask", m, K - 1).map_err(|e| RangeViolation { index, ..e })?;
        }
        // Cortex can only have met the lines it has.
        let met = self.cortex.lines_met;
        if met & !crate::cortex::all_lines(S) != 0 {
            return Err(RangeViolation {
                field: "cortex.lines_met",
                index: 0,
                value: met as f32,
                min: 0.0,
                max: crate::cortex::all_lines(S) as f32,
            });
        }
        // The rows in use are derived from the traces: exactly theirs.
        let st = &self.striatum;
        let rows = elig_rows(&st.elig);
        if st.elig_rows != rows {
            return Err(RangeViolation {
                field: "striatum.elig_rows",
                index: 0,
                value: st.elig_rows as f32,
                min: rows as f32,
                max: rows as f32,
            });
        }
        self.check_relations()
    }

    /// The relations the step keeps between state variables (the part of
    /// [`Agent::check_ranges`] after the ranges and the derived values),
    /// each refusal naming the variable found out of line with the others
    /// (`value` is what it holds, `min` and `max` what the others allow):
    ///
    /// - `action_mask`: the actions `0..n`, `1 <= n <= A` (a nonzero run of
    ///   low bits within `A` bits; [`Agent::set_action_count`]);
    /// - `actions.selected`: a channel, below `A` (not necessarily within
    ///   the mask: [`Agent::set_action_count`] may narrow it after the
    ///   step that chose it);
    /// - `context_channels.selected`: the active control function
    ///   `thalamus.active` (both set by the context selection, together);
    /// - `thalamus.used`: the bit of the active control function is set;
    /// - `contexts.recall_outcomes`: a recall test in progress
    ///   (`recall_context < K`) has outcomes still to come, at most
    ///   [`RECALL_OUTCOMES`] − 1 (the step ends it at its last one);
    /// - `contexts.recall_reward`: the sum of the first
    ///   `min(recall_outcomes, RECALL_OUTCOMES / 2)` rewards, each within
    ///   ±1, so at most that in magnitude;
    /// - `thalamus.shared`: at most `contexts.in_place` (the step lends
    ///   cortex no more than the in-place level);
    /// - `thalamus.g`: outside its mask every control function's gain is
    ///   the shared gain `thalamus.shared`;
    /// - `cortex.gain`: the gain row of the active control function, or
    ///   every gain 1 (the `no_thalamus` lesion), or 0 (no step yet);
    /// - `thalamus.pattern_next`: while the pattern memory is not full
    ///   (`patterns_held < PATTERNS`), the next entry is the first free one,
    ///   `patterns_held`;
    /// - `thalamus.patterns`: the entries held are nonzero, distinct, and
    ///   name only input lines (bits below `S`); the others are 0;
    /// - `thalamus.since_novel`: 255 while no pattern is held (nothing new
    ///   before anything is known);
    /// - `thalamus.steps_seen`: the steps taken, `counters.steps` (until it
    ///   saturates at 255).
    fn check_relations(&self) -> Result<(), RangeViolation> {
        let out = |field, index, value: f32, min: f32, max: f32| {
            Err(RangeViolation {
                field,
                index,
                value,
                min,
                max,
            })
        };
        let m = self.action_mask;
        if m == 0 || m & m.wrapping_add(1) != 0 || (m as u64) >> A != 0 {
            return out("action_mask", 0, m as f32, 1.0, ((1u64 << A) - 1) as f32);
        }
        if self.actions.selected as usize >= A {
            let sel = self.actions.selected as f32;
            return out("actions.selected", 0, sel, 0.0, (A - 1) as f32);
        }
        let th = &self.thalamus;
        let active = th.active as usize;
        if self.context_channels.selected != th.active {
            let sel = self.context_channels.selected as f32;
            return out(
                "context_channels.selected",
                0,
                sel,
                active as f32,
                active as f32,
            );
        }
        if (th.used as u32 >> active.min(31)) & 1 == 0 {
            let want = (1u32 << active.min(31)) as f32;
            return out(
                "thalamus.used",
                0,
                th.used as f32,
                want,
                ((1u32 << K) - 1) as f32,
            );
        }
        // A recall test in progress has outcomes still to come: the step
        // ends it at its last one.
        let cc = &self.contexts;
        if (cc.recall_context as usize) < K {
            let last = (RECALL_OUTCOMES - 1) as usize;
            check_count("contexts.recall_outcomes", cc.recall_outcomes, last)?;
        }
        let scored = cc.recall_outcomes.min(RECALL_OUTCOMES / 2) as f32;
        check(
            "contexts.recall_reward",
            &[cc.recall_reward],
            -scored,
            scored,
        )?;
        // Beliefs are relative to the best, which is at 0.
        let top = cc.belief.iter().fold(N::MIN, |a, &b| a.max(b));
        if top != N::ZERO {
            return out("contexts.belief", 0, top.to_f32(), 0.0, 0.0);
        }
        let in_place = cc.in_place.to_f32();
        check("thalamus.shared", &[th.shared], 0.0, in_place)?;
        for (k, row) in th.g.iter().enumerate() {
            for (i, (&g, &mask)) in row.iter().zip(th.mask.iter()).enumerate() {
                if mask as usize != k && g != th.shared {
                    let sh = th.shared.to_f32();
                    return out("thalamus.g", k * C + i, g.to_f32(), sh, sh);
                }
            }
        }
        let gain = &self.cortex.gain;
        let row = &th.g[active.min(K - 1)];
        let all = |v: N| gain.iter().all(|&g| g == v);
        if gain != row && !all(N::ONE) && !all(N::ZERO) {
            let i = gain
                .iter()
                .zip(row.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let want = row[i.min(C - 1)].to_f32();
            return out("cortex.gain", i, gain[i.min(C - 1)].to_f32(), want, want);
        }
        let held = th.patterns_held as usize;
        if held < PATTERNS && th.pattern_next as usize != held {
            let next = th.pattern_next as f32;
            return out("thalamus.pattern_next", 0, next, held as f32, held as f32);
        }
        let lines = if S >= 64 { u64::MAX } else { (1u64 << S) - 1 };
        for (i, &p) in th.patterns.iter().enumerate() {
            let fine = if i < held {
                p != 0 && p & !lines == 0 && !th.patterns[..i].contains(&p)
            } else {
                p == 0
            };
            if !fine {
                return out("thalamus.patterns", i, p as f32, 0.0, lines as f32);
            }
        }
        if held == 0 && th.since_novel != u8::MAX {
            return out(
                "thalamus.since_novel",
                0,
                th.since_novel as f32,
                255.0,
                255.0,
            );
        }
        let steps = self.counters.steps;
        if th.steps_seen != u8::MAX && th.steps_seen as u32 != steps {
            let seen = th.steps_seen as f32;
            return out("thalamus.steps_seen", 0, seen, steps.min(255) as f32, 255.0);
        }
        Ok(())
    }
}

/// Limits `v` to `[-lim, lim]`; NaN becomes 0.
#[inline(always)]
fn sanitize<N: Num>(v: N, lim: N) -> N {
    if v.is_nan() {
        N::ZERO
    } else {
        v.clamp(-lim, lim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{pick, support, Fx};

    /// The recurrence each unit adds at a step with input after a step
    /// without: amplified within a marked trial (the go step keeps the held
    /// code), plain `J r` without trial marks (the input may begin a new
    /// trial) and at any other step with input.
    #[test]
    fn the_go_step_keeps_the_held_code_only_within_a_marked_trial() {
        let c = Config::default();
        let fresh = || -> Agent<f32, 2, 8, 2, 2> { Agent::new(c, 3).unwrap() };
        // A unit of control function 0's mask (gain above 0).
        let (i, g) = (0..8)
            .map(|i| (i, fresh().thalamus.g[0][i]))
            .find(|&(_, g)| g > 0.0)
            .unwrap();
        let recurrence_at_go = |marked: bool, after_blank: bool| -> f32 {
            let mut a = fresh();
            a.trials_marked = marked;
            a.trial_start = false;
            a.held = after_blank;
            a.cortex.rate = [0.0; 8];
            a.cortex.rate[i] = 1.0; // the held code: one unit at full rate
            a.cortex.compute_drive(&[0.0, 1.0]); // the go input
            let before = a.cortex.drive[i];
            a.recur(0, true);
            a.cortex.drive[i] - before
        };
        let plain = c.recurrence;
        let amplified = c.recurrence * c.amplification * g;
        assert!(amplified > plain);
        assert!((recurrence_at_go(true, true) - amplified).abs() < 1e-5);
        assert!((recurrence_at_go(false, true) - plain).abs() < 1e-5);
        assert!((recurrence_at_go(true, false) - plain).abs() < 1e-5);
    }

    /// The consistency of outcomes follows a rule's noise, not its
    /// changes: exactly 1 over rules that switch (more rules than control
    /// functions: some are relearned in place) but never lie; about the
    /// rule's reward probability where 5% of rewards are flipped (0.95),
    /// on a 0.8 bandit arm (0.81), and over action sequences with flips,
    /// whose trials are judged on their last decision. Medians over seeds
    /// 0–4, fixed point.
    #[test]
    fn consistency_follows_noise_not_rule_changes() {
        use crate::tasks::{run, Schedule, Task, TaskKind};
        let median = |kind: TaskKind, schedule: Schedule| {
            let mut v: [f32; 5] = core::array::from_fn(|seed| {
                let mut a: Agent<Fx, 8, 48, 4, 4> =
                    Agent::new(Config::default(), seed as u64).unwrap();
                let mut task = Task::new(kind, schedule, seed as u64);
                run(&mut a, &mut task, |_| {}).unwrap();
                a.contexts.consistency.to_f32()
            });
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[2]
        };
        let switching = TaskKind::parse("multi-rule-switch-4x2x6", 0).unwrap();
        let clean = median(switching, Schedule::default());
        assert_eq!(clean, 1.0);
        let noisy = median(switching, Schedule::FLIP5);
        assert!((0.9..=0.98).contains(&noisy), "{noisy}");
        let bandit = median(TaskKind::ReversalBandit, Schedule::default());
        assert!((0.72..=0.9).contains(&bandit), "{bandit}");
        // A sequence's outcome is its last decision's.
        let sequence = median(TaskKind::ActionSequence, Schedule::FLIP5);
        assert!((0.9..=0.98).contains(&sequence), "{sequence}");
        assert_eq!(median(TaskKind::ActionSequence, Schedule::default()), 1.0);
    }

    /// On the reversal bandit, once its outcomes have been seen not to
    /// repeat, a loss on the good arm, far from a reversal, does not turn
    /// the function in force away from it: the dip on its choice weighs
    /// the posterior that the loss means a change (`dip_weight`). Taught
    /// fully (`eta_consistency` 0: the consistency stays 1), the actor
    /// shifted away after 19% of those losses on seeds 0–4; weighed, after
    /// 4.8%.
    #[test]
    fn a_loss_on_a_noisy_rules_choice_is_not_unlearned() {
        use crate::tasks::{run_observed, Schedule, Task, TaskKind};
        let shifts = |eta_consistency: f32| {
            let (mut shifted, mut losses) = (0u32, 0u32);
            for seed in 0..5 {
                let c = Config {
                    eta_consistency,
                    ..Config::default()
                };
                let mut a: Agent<Fx, 8, 48, 4, 4> = Agent::new(c, seed).unwrap();
                let mut task = Task::new(TaskKind::ReversalBandit, Schedule::default(), seed);
                // The last trial: a loss on the good arm, and its function.
                let mut after_loss: Option<usize> = None;
                let on_trial = |t: &crate::tasks::TrialOutcome, a: &Agent<Fx, 8, 48, 4, 4>| {
                    let ctx = a.active_context();
                    if after_loss.is_some_and(|k| k == ctx && t.trial >= 10) {
                        losses += 1;
                        shifted += u32::from(!t.correct);
                    }
                    after_loss = (t.correct && !t.reward).then_some(ctx);
                };
                run_observed(&mut a, &mut task, on_trial, |_| {}).unwrap();
            }
            f64::from(shifted) / f64::from(losses.max(1))
        };
        let full = shifts(0.0);
        let weighed = shifts(Config::default().eta_consistency);
        assert!(weighed <= 0.08, "{weighed}");
        assert!(full >= 0.12, "{full}");
    }

    /// With three actions the outcome memory shifts from every action lost
    /// since a pattern last paid, not only from the last one
    /// ([`ContextChannels::lost_since`](crate::basal_ganglia::ContextChannels::lost_since)).
    #[test]
    fn the_outcome_memory_shifts_from_every_loss_since_the_pattern_paid() {
        // Three actions; a pattern met once (entry 0 of the recency
        // memory), whose last two trials lost on actions 0 and then 1, with
        // a memory that has always foretold right; beside it the same agent
        // remembering the last loss alone.
        let mut a: Agent<f32, 2, 8, 2, 3> = Agent::new(Config::default(), 5).unwrap();
        let cue = [1.0, 0.0];
        a.mark_trial_start();
        a.step(&cue, 0.0);
        a.contexts.close_trial(); // (its outcome would be noted below)
        a.contexts.reliability = 1.0;
        a.contexts.last_action[0] = 2;
        a.contexts.last_lost = 1;
        let mut last_alone = a.clone();
        a.contexts.lost_since[0] = 0b011;
        last_alone.contexts.lost_since[0] = 0b010;
        for agent in [&mut a, &mut last_alone] {
            agent.mark_trial_start();
            agent.step(&cue, 0.0);
        }
        let (sal, alone) = (a.actions.salience, last_alone.actions.salience);
        // Action 0 is shifted from too, by the memory's whole weight
        // (`w_memory`, 0.5); the others alike.
        let w = Config::default().w_memory;
        assert!((alone[0] - sal[0] - w).abs() < 1e-5, "{sal:?} {alone:?}");
        assert_eq!((sal[1], sal[2]), (alone[1], alone[2]));
    }

    /// The outcome memory's reliability learns from a foretold outcome
    /// where context selection and the slow settings run (not under
    /// `no_thalamus`, `no_context_selection` or `no_meta`), and without
    /// traces a step without news closes the open trial: its delayed
    /// outcome is noted nowhere.
    #[test]
    fn the_outcome_memory_is_judged_as_its_lesions_say() {
        let judged_after = |lesion: &str, blank: bool, reward: f32| {
            let mut c = Config::default();
            if lesion != "none" {
                c.lesions = Lesions::named(lesion).unwrap();
            }
            let mut a: Agent<f32, 2, 8, 2, 2> = Agent::new(c, 3).unwrap();
            // A trial just opened with pattern 0, action 1, as the last one
            // there, which was rewarded: the memory foretells a reward.
            a.contexts.last_action[0] = 2;
            a.contexts.remember_action(0, 1);
            assert_eq!(a.contexts.foretold, 2);
            a.decisions = 1;
            if blank {
                a.judge(0.0, false, false); // a step of the delay
            }
            a.judge(reward, true, false);
            (a.contexts.reliability, a.contexts.last_lost)
        };
        let rate = Config::default().eta_reliability;
        assert!((judged_after("none", false, 1.0).0 - rate).abs() < 1e-6);
        assert!((judged_after("no_traces", false, 1.0).0 - rate).abs() < 1e-6);
        assert!((judged_after("none", true, 1.0).0 - rate).abs() < 1e-6);
        for lesion in ["no_thalamus", "no_context_selection", "no_meta"] {
            assert_eq!(judged_after(lesion, false, 1.0).0, 0.0, "{lesion}");
        }
        // A loss is noted for the pattern, with traces even after a delay.
        assert_eq!(judged_after("none", true, 0.0).1, 1);
        assert_eq!(judged_after("no_traces", false, 0.0).1, 1);
        // Without traces the delay closed the trial: nothing was foretold,
        // and the loss was noted for no pattern.
        assert_eq!(judged_after("no_traces", true, 1.0).0, 0.0);
        assert_eq!(judged_after("no_traces", true, 0.0).1, 0);
    }

    /// The first decision of a trial of several is judged by belief on its
    /// own: the trial going on past it is its success. Belief moves toward
    /// the function that chose the action taken, and the outcome memory
    /// stays for the trial's end; a later decision's going on is not judged.
    #[test]
    fn a_first_decision_that_goes_on_is_judged_by_belief() {
        let went_on = |decisions: u8| {
            let mut a: Agent<f32, 2, 8, 2, 2> = Agent::new(Config::default(), 3).unwrap();
            a.contexts.last_action[0] = 2;
            a.contexts.remember_action(0, 1);
            // Function 0 chose the action taken; function 1 another.
            a.contexts.predicted = [0.9, 0.05];
            a.contexts.several = SEVERAL_HOLD;
            a.decisions = decisions;
            a.judge(0.0, false, true);
            (a.contexts.belief, a.contexts.reliability)
        };
        let (belief, reliability) = went_on(1);
        assert!(belief[1] < belief[0], "{belief:?}");
        assert_eq!(reliability, 0.0);
        assert_eq!(went_on(2).0, [0.0; 2]);
    }

    #[test]
    fn scale_rates_is_the_plain_loop() {
        let mut rng = Rng::seed(41);
        for n in 0..20_000 {
            let rate: [Fx; 13] = core::array::from_fn(|_| {
                if n % 2 == 0 || rng.next() % 4 == 0 {
                    pick(&mut rng, 0, 4096)
                } else {
                    Fx::ZERO
                }
            });
            // The units listed: every unit of nonzero rate, and some others.
            let mut units = [0u16; 13];
            let mut nu = 0;
            for i in 0..13 {
                if rate[i] != Fx::ZERO || rng.next() % 2 == 0 {
                    units[nu] = i as u16;
                    nu += 1;
                }
            }
            let g = pick(&mut rng, 0, 16384);
            let (mut x, mut nz) = ([Fx::MAX; 13], Indices::new());
            let _ = nz.push(3); // whatever it held is replaced
            let (sum, short) = scale_rates(&rate, g, &units[..nu], &mut x, &mut nz);
            // The total rate, summed over the listed units in order,
            // normalised by itself, raised at most 4 g.
            let want_sum = units[..nu]
                .iter()
                .fold(Fx::ZERO, |acc, &i| acc + rate[i as usize]);
            let k = Ord::min(want_sum.recip_sat(), (g + g) + (g + g));
            assert_eq!(sum, k * want_sum);
            // Short of a full stimulus exactly where the bound held.
            assert_eq!(short, want_sum.recip_sat() > (g + g) + (g + g));
            let want: [Fx; 13] = core::array::from_fn(|i| {
                if rate[i] == Fx::ZERO {
                    rate[i]
                } else {
                    k * rate[i]
                }
            });
            assert_eq!(x, want, "{rate:?} {g:?}");
            assert_eq!(nz, support(&want));
            // f32: a silent unit's input is +0.0, whatever the sign of its
            // zero rate.
            let rf: [f32; 5] = core::array::from_fn(|i| [0.0, -0.0, 0.5, 0.0, 0.25][(i + n) % 5]);
            let mut xf = [1.0f32; 5];
            scale_rates(&rf, 2.0, &[0, 1, 2, 3, 4], &mut xf, &mut Indices::new());
            // The total rate is 0.75 (1/0.75 < 4 × 2).
            for (x, r) in xf.iter().zip(rf.iter()) {
                let w = if *r == 0.0 { 0.0 } else { (1.0 / 0.75) * r };
                assert_eq!(x.to_bits(), w.to_bits());
            }
        }
    }
}
