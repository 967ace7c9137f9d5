//! Configuration: every learning constant of the loop, validated once.
//!
//! A [`Config`] is plain `f32` numbers a user can read and edit;
//! [`Config::validate`] refuses any value outside its documented range with a
//! [`ConfigError`] naming the field, and [`crate::Agent::new`] converts a valid
//! config into the agent's number type once, so the step reads only
//! precomputed constants.
//!
//! ```
//! use tcbg::{Config, ConfigError};
//! let mut c = Config::default();
//! assert!(c.validate().is_ok());
//! c.gamma = 1.5;
//! assert!(matches!(c.validate(), Err(ConfigError::OutOfRange { field: "gamma", .. })));
//! ```

use core::fmt;

/// Lesions: switches that remove one mechanism each, for experiments and the
/// demo. They can be changed between steps ([`crate::Agent::set_lesions`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lesions {
    /// All thalamic gains fixed at 1 and one shared context: cortex has one
    /// function for every context.
    pub no_thalamus: bool,
    /// The basal ganglia never switch the thalamic control function.
    pub no_context_selection: bool,
    /// Dopamine is held at 0: no reinforcement learning at all.
    pub no_dopamine: bool,
    /// Eligibility traces last one step (λ = 0): no bridge across delays.
    pub no_traces: bool,
    /// The slow, basal-ganglia-trained setting of the fast learner is off:
    /// in-place learning ([`crate::basal_ganglia::ContextChannels::in_place`])
    /// stays 0, so surprise always holds plasticity for a context switch and
    /// the corticostriatal rates stay at `eta_go` and `eta_nogo`.
    pub no_meta: bool,
}

impl Lesions {
    /// No lesion.
    pub const NONE: Lesions = Lesions {
        no_thalamus: false,
        no_context_selection: false,
        no_dopamine: false,
        no_traces: false,
        no_meta: false,
    };
    /// The names used on command lines, in reports and in the demo.
    pub const NAMES: [&'static str; 5] = [
        "no_thalamus",
        "no_context_selection",
        "no_dopamine",
        "no_traces",
        "no_meta",
    ];

    /// The lesion set with one named lesion on (`"none"` gives no lesion).
    pub fn named(name: &str) -> Option<Lesions> {
        let mut l = Lesions::NONE;
        match name {
            "none" | "full" => {}
            "no_thalamus" => l.no_thalamus = true,
            "no_context_selection" => l.no_context_selection = true,
            "no_dopamine" => l.no_dopamine = true,
            "no_traces" => l.no_traces = true,
            "no_meta" => l.no_meta = true,
            _ => return None,
        }
        Some(l)
    }

    /// Whether the basal ganglia may switch the control function.
    pub fn context_selection(&self) -> bool {
        !(self.no_thalamus || self.no_context_selection)
    }
}

/// Every constant of the loop. Symbols refer to `MODEL.md` and the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    // --- cortex
    /// Afferent weights `W_in` start uniform in `[-w_in_init, w_in_init]` (mixed
    /// sign gives sparse, decorrelated codes). 0.05 to 2.
    pub w_in_init: f32,
    /// Oja rate of the afferent weights (slow, Hebbian, dopamine-free). 0 to 0.1.
    pub eta_cortex: f32,
    /// Cortical firing threshold after the gain: `r = clamp((g u − θ)/(1 − θ), 0, 1)`.
    /// 0 to 0.9.
    pub rate_threshold: f32,
    /// k-winners-take-all: at most this fraction of the units with gain fire
    /// (lateral inhibition separates overlapping patterns); 0 turns it off. 0 to 1.
    pub winners: f32,
    /// Gain of a unit inside a control function's mask at start. 0.1 to 2.
    pub gain_on: f32,
    /// Upper bound of any thalamic gain. `gain_on` to 4.
    pub gain_max: f32,
    /// Lowest gain the slow training of `G` leaves a unit of its control
    /// function. 0 to `gain_on`.
    pub gain_min: f32,
    // --- thalamus
    /// Weight of the basal ganglia's (GPi) inhibition of the thalamus. 0 to 6.
    pub w_bg: f32,
    /// Rate of the Hebbian cortex-to-thalamus weights `M` (Zheng et al. 2024). 0 to 0.5.
    pub eta_m: f32,
    /// Bound of `|M|`. 0.1 to 4.
    pub m_max: f32,
    /// Dead zone of the Hebbian update of `M`. 0 to 1.
    pub m_eps: f32,
    /// Leak of `M` per step (bounds its random walk). 0 to 0.5.
    pub m_decay: f32,
    /// Rate of the fast presynaptic trace `r̄` (floor of 1/n). 0.004 to 1.
    pub kappa_fast: f32,
    /// Rate of the slow threshold `θ` (floor of 1/n). 0.004 to 1.
    pub kappa_slow: f32,
    /// Recognition: context `k` recognises pattern ρ if `U_k·ρ ≥ rec·|ρ|²`. 0.1 to 1.
    pub recognise: f32,
    /// Minimum `|ρ|²/16` for the recognition test (blank steps excluded). 0 to 2.
    pub recognise_min_norm: f32,
    /// Another context overrides the current one only if it recognises the
    /// pattern by this margin (times `|ρ|²`) better. 0 to 1.
    pub recognise_margin: f32,
    /// Novelty: a pattern the current context matches below this (times `|ρ|²`)
    /// and no known context recognises opens an unused context. 0.1 to 1.
    pub novelty: f32,
    /// Rate of the ongoing write of rewarded patterns into the recognition memory `U`. 0 to 1.
    pub eta_u: f32,
    /// Rate of the one-shot binding of the current pattern into a young context on selection. 0 to 1.
    pub eta_bind: f32,
    /// A context is established (competent) when its reward rate is at least this. 0 to 1.
    pub competent: f32,
    /// Steps after a context switch during which no other switch happens. 0 to 100.
    pub refractory: u8,
    /// Slow rate of the BG-driven training of the control functions `G`. 0 to 0.1.
    pub eta_g: f32,
    // --- basal ganglia, action channels
    /// Salience bias of the action channels (GPR operating range). 0 to 1.5.
    pub action_bias: f32,
    /// Base exploration noise (standard deviation of the salience noise). 0 to 1.
    pub explore: f32,
    /// Extra exploration per unit of expected failure, `relu(1 − V)`. 0 to 1.
    pub explore_uncertain: f32,
    /// Saliences are limited to `[0, salience_max]`. 0.5 to 4.
    pub salience_max: f32,
    /// Rate of Go (D1) corticostriatal learning from positive dopamine (up
    /// to twice this under in-place learning). 0 to 2.
    pub eta_go: f32,
    /// Rate of NoGo (D2) corticostriatal learning from negative dopamine (up
    /// to twice this under in-place learning). 0 to 2.
    pub eta_nogo: f32,
    /// Bound of Go and NoGo weights. 0.1 to 4.
    pub w_max: f32,
    /// Share of what a synapse's Go and NoGo weights hold in common, and of
    /// what the allowed actions' Go (or NoGo) weights on a unit hold in
    /// common, that settles away at each update (the differences, which
    /// select, are kept). 0 to 1.
    pub opponent_settle: f32,
    /// Iterations of the GPR circuit per selection. 1 to 100.
    pub gpr_iterations: u8,
    /// Integration rate of the GPR circuit per iteration. 0.01 to 1.
    pub gpr_rate: f32,
    // --- critic and dopamine
    /// Discount γ of the TD error. 0 to 1.
    pub gamma: f32,
    /// Trace decay λ per step. 0 to 1.
    pub lambda: f32,
    /// Critic learning rate. 0 to 2.
    pub eta_v: f32,
    /// Optimistic prior of the critic: a typical fresh pattern predicts about this. 0 to 2.
    pub v0: f32,
    /// Rate of the running mean of `|x|²` that normalises learning rates. 0.001 to 1.
    pub kappa_norm: f32,
    /// Per-unit experience slows learning: rate `max(1/(1 + k n), lr_min)`. 0 to 1.
    pub experience_rate: f32,
    /// Floor of the per-unit learning-rate factor. 0.05 to 1.
    pub lr_min: f32,
    /// Weight of the aspiration in the baseline of the actor's dopamine at a
    /// trial's end: 0 teaches Go and NoGo by the critic's error alone, 1 by
    /// the reward against the aspiration `ρ` (the reward a trial has come to
    /// bring) while the current control function is not competent, scaled
    /// down by its competence. 0 to 1.
    pub aspiration: f32,
    /// Rate of the aspiration `ρ`, per trial. 0 to 0.1.
    pub eta_aspiration: f32,

    /// Total cortical rate above which a step counts as a stimulus (clears traces). 0.01 to 4.
    pub stimulus_threshold: f32,
    // --- basal ganglia, context channels
    /// Salience bias of the context channels. 0 to 1.
    pub context_bias: f32,
    /// Scale of context evidence into context salience. 0.01 to 1.
    pub context_scale: f32,
    /// Weight of a context's competence in its evidence. 0 to 2.
    pub w_competence: f32,
    /// Persistence: evidence bonus of the current context. 0 to 3.
    pub persistence: f32,
    /// Fraction of the surprise accumulator kept per step (1 = no leak: a
    /// CUSUM with `surprise_drift` as its reference). 0 to 1.
    pub surprise_leak: f32,
    /// Bound of the surprise accumulator. 0.1 to 4.
    pub surprise_max: f32,
    /// Noise on context evidence (standard deviation). 0 to 1.
    pub context_noise: f32,
    /// Rate of each context's competence (running reward rate). 0 to 1.
    pub eta_q: f32,
    /// Surprise at which corticostriatal plasticity starts to be held. 0 to 4.
    pub hold_start: f32,
    /// Surprise at which it is fully held (`> hold_start`). 0 to 4.
    pub hold_full: f32,
    /// Rate of each context's usual surprise and its spread. 0 to 1.
    pub eta_surprise_baseline: f32,
    /// Change-point margin in units of the usual spread of surprise. 0 to 8.
    pub k_dev: f32,
    /// Surprise is weighted by the current context's competence, at least this. 0 to 1.
    pub surprise_floor: f32,
    /// Constant decrement of the surprise accumulator per step (CUSUM reference). 0 to 1.
    pub surprise_drift: f32,
    /// Cap on a context's usual surprise (its mean plus `k_dev` spreads) in the
    /// switch test, so a context that failed for long can still be left. 0 to 4.
    pub usual_surprise_max: f32,
    // --- basal ganglia, the slow setting of the fast learner
    /// Step of in-place learning up at a context switch after a new input
    /// pattern. 0 to 1.
    pub eta_in_place: f32,
    /// Step of in-place learning down at a context switch over familiar
    /// inputs only. 0 to 1.
    pub in_place_decay: f32,
    /// An input line counts as on, for the familiarity of input patterns,
    /// when its magnitude is at least this. 0.01 to 1.
    pub line_on: f32,
    /// Rate at which in-place learning follows the recall error of a
    /// re-entered control function (what it used to bring minus what it
    /// brought). 0 to 1.
    pub eta_recall: f32,
    /// Lesions in force at start.
    pub lesions: Lesions,
}

impl Default for Config {
    /// The one configuration every task of the suite uses.
    fn default() -> Config {
        Config {
            w_in_init: 1.0,
            eta_cortex: 0.001,
            rate_threshold: 0.3,
            winners: 0.2,
            gain_on: 1.0,
            gain_max: 2.0,
            gain_min: 0.5,
            w_bg: 3.0,
            eta_m: 0.05,
            m_max: 2.0,
            m_eps: 0.1,
            m_decay: 0.02,
            kappa_fast: 0.1,
            kappa_slow: 0.005,
            recognise: 0.9,
            recognise_min_norm: 0.5 / 16.0,
            recognise_margin: 0.2,
            novelty: 0.9,
            eta_u: 0.5,
            eta_bind: 1.0,
            competent: 0.85,
            refractory: 3,
            eta_g: 0.002,
            action_bias: 0.5,
            explore: 0.02,
            explore_uncertain: 0.05,
            salience_max: 1.5,
            eta_go: 0.5,
            eta_nogo: 1.0,
            w_max: 1.0,
            opponent_settle: 0.125,
            gpr_iterations: 15,
            gpr_rate: 0.5,
            gamma: 0.5,
            lambda: 0.95,
            eta_v: 0.3,
            v0: 0.5,
            kappa_norm: 0.05,
            experience_rate: 0.1,
            lr_min: 0.25,
            aspiration: 1.0,
            eta_aspiration: 0.005,
            stimulus_threshold: 0.25,
            context_bias: 0.4,
            context_scale: 0.3,
            w_competence: 0.5,
            persistence: 0.8,
            surprise_leak: 1.0,
            surprise_max: 2.0,
            context_noise: 0.05,
            eta_q: 0.2,
            hold_start: 0.5,
            hold_full: 1.5,
            eta_surprise_baseline: 0.02,
            k_dev: 2.0,
            surprise_floor: 0.5,
            surprise_drift: 0.07,
            usual_surprise_max: 1.0,
            eta_in_place: 0.15,
            in_place_decay: 0.3,
            line_on: 0.5,
            eta_recall: 0.25,
            lesions: Lesions::NONE,
        }
    }
}

/// Why a configuration (or a size) was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConfigError {
    /// A field is NaN, infinite or outside its range.
    OutOfRange {
        /// The field's name in [`Config`].
        field: &'static str,
        /// The value given.
        value: f32,
        /// The smallest value allowed.
        min: f32,
        /// The largest value allowed.
        max: f32,
    },
    /// Two fields contradict each other.
    Inconsistent {
        /// The field that must change.
        field: &'static str,
        /// What must hold.
        requires: &'static str,
    },
    /// The const-generic sizes cannot form an agent.
    Size {
        /// `"S"`, `"C"`, `"K"` or `"A"`.
        param: &'static str,
        /// What must hold.
        requires: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::OutOfRange {
                field,
                value,
                min,
                max,
            } => {
                write!(
                    f,
                    "config field `{field}` is {value}, must be within {min} to {max}"
                )
            }
            ConfigError::Inconsistent { field, requires } => {
                write!(f, "config field `{field}` is inconsistent: {requires}")
            }
            ConfigError::Size { param, requires } => write!(f, "size {param}: {requires}"),
        }
    }
}

fn range(field: &'static str, value: f32, min: f32, max: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl Config {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = self;
        range("w_in_init", c.w_in_init, 0.05, 2.0)?;
        range("eta_cortex", c.eta_cortex, 0.0, 0.1)?;
        range("rate_threshold", c.rate_threshold, 0.0, 0.9)?;
        range("winners", c.winners, 0.0, 1.0)?;
        range("gain_on", c.gain_on, 0.1, 2.0)?;
        range("gain_max", c.gain_max, c.gain_on, 4.0)?;
        range("gain_min", c.gain_min, 0.0, c.gain_on)?;
        range("w_bg", c.w_bg, 0.0, 6.0)?;
        range("eta_m", c.eta_m, 0.0, 0.5)?;
        range("m_max", c.m_max, 0.1, 4.0)?;
        range("m_eps", c.m_eps, 0.0, 1.0)?;
        range("m_decay", c.m_decay, 0.0, 0.5)?;
        range("kappa_fast", c.kappa_fast, 0.004, 1.0)?;
        range("kappa_slow", c.kappa_slow, 0.004, 1.0)?;
        range("recognise", c.recognise, 0.1, 1.0)?;
        range("recognise_min_norm", c.recognise_min_norm, 0.0, 2.0)?;
        range("recognise_margin", c.recognise_margin, 0.0, 1.0)?;
        range("novelty", c.novelty, 0.1, 1.0)?;
        range("eta_u", c.eta_u, 0.0, 1.0)?;
        range("eta_bind", c.eta_bind, 0.0, 1.0)?;
        range("competent", c.competent, 0.0, 1.0)?;
        range("refractory", c.refractory as f32, 0.0, 100.0)?;
        range("eta_g", c.eta_g, 0.0, 0.1)?;
        range("action_bias", c.action_bias, 0.0, 1.5)?;
        range("explore", c.explore, 0.0, 1.0)?;
        range("explore_uncertain", c.explore_uncertain, 0.0, 1.0)?;
        range("salience_max", c.salience_max, 0.5, 4.0)?;
        range("eta_go", c.eta_go, 0.0, 2.0)?;
        range("eta_nogo", c.eta_nogo, 0.0, 2.0)?;
        range("w_max", c.w_max, 0.1, 4.0)?;
        range("opponent_settle", c.opponent_settle, 0.0, 1.0)?;
        range("gpr_iterations", c.gpr_iterations as f32, 1.0, 100.0)?;
        range("gpr_rate", c.gpr_rate, 0.01, 1.0)?;
        range("gamma", c.gamma, 0.0, 1.0)?;
        range("lambda", c.lambda, 0.0, 1.0)?;
        range("eta_v", c.eta_v, 0.0, 2.0)?;
        range("v0", c.v0, 0.0, 2.0)?;
        range("kappa_norm", c.kappa_norm, 0.001, 1.0)?;
        range("experience_rate", c.experience_rate, 0.0, 1.0)?;
        range("lr_min", c.lr_min, 0.05, 1.0)?;
        range("aspiration", c.aspiration, 0.0, 1.0)?;
        range("eta_aspiration", c.eta_aspiration, 0.0, 0.1)?;

        range("stimulus_threshold", c.stimulus_threshold, 0.01, 4.0)?;
        range("context_bias", c.context_bias, 0.0, 1.0)?;
        range("context_scale", c.context_scale, 0.01, 1.0)?;
        range("w_competence", c.w_competence, 0.0, 2.0)?;
        range("persistence", c.persistence, 0.0, 3.0)?;
        range("surprise_leak", c.surprise_leak, 0.0, 1.0)?;
        range("surprise_max", c.surprise_max, 0.1, 4.0)?;
        range("context_noise", c.context_noise, 0.0, 1.0)?;
        range("eta_q", c.eta_q, 0.0, 1.0)?;
        range("hold_start", c.hold_start, 0.0, 4.0)?;
        range("hold_full", c.hold_full, 0.0, 4.0)?;
        if c.hold_full <= c.hold_start {
            return Err(ConfigError::Inconsistent {
                field: "hold_full",
                requires: "hold_full > hold_start",
            });
        }
        range("eta_surprise_baseline", c.eta_surprise_baseline, 0.0, 1.0)?;
        range("k_dev", c.k_dev, 0.0, 8.0)?;
        range("surprise_floor", c.surprise_floor, 0.0, 1.0)?;
        range("surprise_drift", c.surprise_drift, 0.0, 1.0)?;
        range("usual_surprise_max", c.usual_surprise_max, 0.0, 4.0)?;
        range("eta_in_place", c.eta_in_place, 0.0, 1.0)?;
        range("in_place_decay", c.in_place_decay, 0.0, 1.0)?;
        range("line_on", c.line_on, 0.01, 1.0)?;
        range("eta_recall", c.eta_recall, 0.0, 1.0)?;
        Ok(())
    }
}

/// Checks the const-generic sizes `S` inputs, `C` cortical units, `K` control
/// functions, `A` actions.
pub const fn check_sizes(s: usize, c: usize, k: usize, a: usize) -> Result<(), ConfigError> {
    if s == 0 || s > 64 {
        return Err(ConfigError::Size {
            param: "S",
            requires: "1 <= S <= 64",
        });
    }
    if k == 0 || k > 16 {
        return Err(ConfigError::Size {
            param: "K",
            requires: "1 <= K <= 16",
        });
    }
    if c < k || c > 1024 || c % k != 0 {
        return Err(ConfigError::Size {
            param: "C",
            requires: "K <= C <= 1024 and C a multiple of K (disjoint masks)",
        });
    }
    if a < 2 || a > 16 {
        return Err(ConfigError::Size {
            param: "A",
            requires: "2 <= A <= 16",
        });
    }
    Ok(())
}
