//! Configuration: every learning constant of the loop, validated once.
//!
//! A [`Config`] is plain `f32` numbers a user can read and edit;
//! [`Config::validate`] refuses any value outside its documented range with a
//! [`ConfigError`] naming the field, and [`crate::Agent::new`] converts a valid
//! config into the agent's number type once, so the step reads only
//! precomputed constants.
//!
//! Each field is written once, in one declaration with its docs, type,
//! default and range; it generates [`Config`], its `Default`,
//! [`Config::validate`], the table [`FIELDS`] (for tests and tools) and the
//! config's part of a snapshot.
//!
//! ```
//! use tcbg::{Config, ConfigError};
//! let mut c = Config::default();
//! assert!(c.validate().is_ok());
//! c.gamma = 1.5;
//! assert!(matches!(c.validate(), Err(ConfigError::OutOfRange { field: "gamma", .. })));
//! ```

use core::fmt;

use crate::snapshot::{Reader, Writer};

/// The one declaration of the lesions, in bit order: it generates
/// [`Lesions`] (docs included), [`Lesions::NONE`], [`Lesions::NAMES`],
/// [`Lesions::named`] and the lesion byte of a snapshot (bit `i` for the
/// `i`-th lesion).
macro_rules! lesions {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident;
    )*) => {
        /// Lesions: switches that remove one mechanism each, for experiments and the
        /// demo. They can be changed between steps ([`crate::Agent::set_lesions`]).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct Lesions {
            $(
                $(#[doc = $doc])*
                pub $name: bool,
            )*
        }

        impl Lesions {
            /// No lesion.
            pub const NONE: Lesions = Lesions {
                $($name: false,)*
            };
            /// The names used on command lines, in reports and in the demo.
            pub const NAMES: [&'static str; 0 $(+ { let _ = stringify!($name); 1 })*] = [
                $(stringify!($name),)*
            ];

            /// The lesion set with one named lesion on (`"none"` gives no lesion).
            pub fn named(name: &str) -> Option<Lesions> {
                let mut l = Lesions::NONE;
                match name {
                    "none" | "full" => {}
                    $(stringify!($name) => l.$name = true,)*
                    _ => return None,
                }
                Some(l)
            }

            /// The lesions as bits: bit `i` for the `i`-th lesion of
            /// [`Lesions::NAMES`] (the lesion byte of a snapshot).
            pub fn bits(&self) -> u8 {
                let mut b = 0;
                let mut bit = 1;
                $(
                    if self.$name {
                        b |= bit;
                    }
                    bit <<= 1;
                )*
                let _ = bit;
                b
            }

            /// The lesions of a snapshot's lesion byte, or `None` if a bit
            /// beyond the last lesion is set (the lesions of the known bits
            /// are still given).
            pub(crate) fn from_bits(b: u8) -> (Lesions, bool) {
                let mut bit = 1u8;
                $(
                    let $name = b & bit != 0;
                    bit = bit.wrapping_shl(1);
                )*
                let known = (bit as u32).wrapping_sub(1) as u8;
                (Lesions { $($name,)* }, b & !known == 0)
            }

            /// The lesions of `bits` (see [`Lesions::bits`]); bits beyond
            /// the last lesion are ignored.
            pub fn from_mask(bits: u8) -> Lesions {
                Lesions::from_bits(bits).0
            }
        }
    };
}

lesions! {
    /// All thalamic gains fixed at 1 and one shared context: cortex has one
    /// function for every context.
    no_thalamus;
    /// The basal ganglia never switch the thalamic control function.
    no_context_selection;
    /// Dopamine is held at 0: no reinforcement learning at all.
    no_dopamine;
    /// Eligibility traces last one step (λ = 0): no bridge across delays.
    no_traces;
    /// The slow, basal-ganglia-trained setting of the fast learner is off:
    /// in-place learning ([`crate::basal_ganglia::ContextChannels::in_place`])
    /// stays 0, so surprise always holds plasticity for a context switch and
    /// the corticostriatal rates stay at `eta_go` and `eta_nogo`.
    no_meta;
    /// The thalamus does not amplify cortical recurrence through a delay:
    /// each unit keeps only its own self-excitation (`recurrence`), which
    /// does not sustain activity, so cortex forgets a cue that is gone.
    no_amplification;
}

impl Lesions {
    /// Whether the basal ganglia may switch the control function.
    pub fn context_selection(&self) -> bool {
        !(self.no_thalamus || self.no_context_selection)
    }
}

/// A bound of a config field: a number, or another field of the config.
macro_rules! bound {
    (@value $c:ident, $b:literal) => {{
        let _ = $c;
        $b
    }};
    (@value $c:ident, $b:ident) => {
        $c.$b
    };
    (@doc $b:literal) => {
        stringify!($b)
    };
    (@doc $b:ident) => {
        concat!("`", stringify!($b), "`")
    };
}

/// The one declaration of the config: each field with its docs, type,
/// default and range (and, with `refused if`, when it contradicts another
/// field: the condition, and what must hold instead). It generates
/// [`Config`] (docs included), its [`Default`], [`Config::validate`] (in
/// declaration order), the table [`FIELDS`] the tests and tools read, and
/// the config's part of a snapshot ([`crate::snapshot`]: each field in
/// declaration order, then the lesions).
macro_rules! config {
    (
        $c:ident;
        $(
            $(#[doc = $doc:literal])*
            $field:ident : $ty:ident = $default:literal, $min:tt to $max:tt
            $(, refused if $cond:expr => $requires:literal)? ;
        )*
    ) => {
        /// Every constant of the loop. Symbols refer to `MODEL.md` and the
        /// module docs. Each field's range is checked by [`Config::validate`].
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct Config {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Range: ", bound!(@doc $min), " to ", bound!(@doc $max),
                    $("; must satisfy `", $requires, "`",)?
                    ". Default: ", stringify!($default), "."
                )]
                pub $field: $ty,
            )*
            /// Lesions in force at start.
            pub lesions: Lesions,
        }

        /// The default config, as a constant (the bounds of [`FIELDS`] are
        /// taken at it).
        const DEFAULT: Config = Config {
            $($field: $default,)*
            lesions: Lesions::NONE,
        };

        impl Config {
            /// Checks every field against its documented range.
            pub fn validate(&self) -> Result<(), ConfigError> {
                let $c = self;
                $(
                    range(
                        stringify!($field),
                        Value::to_f32($c.$field),
                        bound!(@value $c, $min),
                        bound!(@value $c, $max),
                    )?;
                    $(
                        if $cond {
                            return Err(ConfigError::Inconsistent {
                                field: stringify!($field),
                                requires: $requires,
                            });
                        }
                    )?
                )*
                Ok(())
            }
        }

        /// Every numeric field of [`Config`] in declaration order (the
        /// lesions are not listed): its name, docs, range, and access from
        /// `f32`. A bound given by another field is that field's default.
        pub const FIELDS: [Field; 0 $(+ { let _ = stringify!($field); 1 })*] = [
            $(
                Field {
                    name: stringify!($field),
                    doc: concat!(
                        $($doc, "\n",)*
                        "\nRange: ", bound!(@doc $min), " to ", bound!(@doc $max),
                        $("; must satisfy `", $requires, "`",)?
                        ". Default: ", stringify!($default), "."
                    ),
                    integer: <$ty as Value>::INTEGER,
                    min: {
                        let $c = &DEFAULT;
                        bound!(@value $c, $min)
                    },
                    max: {
                        let $c = &DEFAULT;
                        bound!(@value $c, $max)
                    },
                    get: |c| Value::to_f32(c.$field),
                    set: |c, v| c.$field = Value::from_f32(v),
                },
            )*
        ];

        /// Bytes of the config in a snapshot: each field's bytes in
        /// declaration order (4 for an `f32`, 1 for a `u8`) and the lesion byte.
        pub(crate) const WIRE_LEN: usize = 0 $(+ <$ty as Value>::BYTES)* + 1;

        /// Writes the config into a snapshot, field by field.
        pub(crate) fn write_wire(w: &mut Writer<'_>, c: &Config) {
            $( w.$ty(c.$field); )*
            w.lesions(c.lesions);
        }

        /// Reads the config from a snapshot; a lesion byte no config can
        /// hold sets `bad`.
        pub(crate) fn read_wire(r: &mut Reader<'_>, bad: &mut Option<&'static str>) -> Config {
            Config {
                $($field: r.$ty(),)*
                lesions: r.lesions(bad, "config.lesions"),
            }
        }
    };
}

config! {
    c;
    // --- cortex
    /// Afferent weights `W_in` start uniform in `[-w_in_init, w_in_init]`, each unit's
    /// row then less its mean (balanced: mixed sign and a zero sum give sparse,
    /// decorrelated codes without hub units).
    w_in_init: f32 = 1.0, 0.05 to 2.0;
    /// Oja rate of the afferent weights (slow, Hebbian, dopamine-free).
    eta_cortex: f32 = 0.0002, 0.0 to 0.1;
    /// Cortical firing threshold after the gain: `r = clamp((g u − θ)/(1 − θ), 0, 1)`.
    rate_threshold: f32 = 0.3, 0.0 to 0.9;
    /// k-winners-take-all: at most this fraction of the units with gain fire (lateral
    /// inhibition separates overlapping patterns); 0 turns it off.
    winners: f32 = 0.2, 0.0 to 1.0;
    /// Gain of a unit inside a control function's mask at start.
    gain_on: f32 = 1.0, 0.1 to 2.0;
    /// Upper bound of any thalamic gain.
    gain_max: f32 = 2.0, gain_on to 4.0;
    /// Lowest gain the slow training of `G` leaves a unit of its control function.
    gain_min: f32 = 0.5, 0.0 to gain_on;
    /// Each cortical unit's recurrent self-excitation: its rate of the last step adds
    /// this times itself to its drive (never across a marked trial start). Alone it does
    /// not sustain activity.
    recurrence: f32 = 0.5, 0.0 to 1.0;
    /// Thalamic amplification of cortical recurrence on a step without afferent input (a
    /// delay): a unit's recurrent weight is multiplied by this times its gain under the
    /// active control function (Schmitt et al. 2017; Guo et al. 2017).
    amplification: f32 = 6.0, 0.0 to 8.0;
    // --- thalamus
    /// Weight of the basal ganglia's (GPi) inhibition of the thalamus.
    w_bg: f32 = 3.0, 0.0 to 6.0;
    /// Rate of the Hebbian cortex-to-thalamus weights `M` (Zheng et al. 2024).
    eta_m: f32 = 0.05, 0.0 to 0.5;
    /// Bound of `|M|`.
    m_max: f32 = 2.0, 0.1 to 4.0;
    /// Dead zone of the Hebbian update of `M`.
    m_eps: f32 = 0.1, 0.0 to 1.0;
    /// Leak of `M` per step (bounds its random walk).
    m_decay: f32 = 0.02, 0.0 to 0.5;
    /// Rate of the fast presynaptic trace `r̄` (floor of 1/n).
    kappa_fast: f32 = 0.1, 0.004 to 1.0;
    /// Rate of the slow threshold `θ` (floor of 1/n).
    kappa_slow: f32 = 0.005, 0.004 to 1.0;
    /// Recognition: context `k` recognises pattern ρ if `U_k·ρ ≥ rec·|ρ|²`.
    recognise: f32 = 0.9, 0.1 to 1.0;
    /// Minimum `|ρ|²/16` for the recognition test (blank steps excluded).
    recognise_min_norm: f32 = 0.03125, 0.0 to 2.0;
    /// Another context overrides the current one only if it recognises the pattern by
    /// this margin (times `|ρ|²`) better.
    recognise_margin: f32 = 0.2, 0.0 to 1.0;
    /// Novelty: a pattern the current context matches below this (times `|ρ|²`) and no
    /// known context recognises opens an unused context.
    novelty: f32 = 0.9, 0.1 to 1.0;
    /// Rate of the ongoing write of rewarded patterns into the recognition memory `U`.
    eta_u: f32 = 0.5, 0.0 to 1.0;
    /// Rate of the one-shot binding of the current pattern into a young context on
    /// selection.
    eta_bind: f32 = 1.0, 0.0 to 1.0;
    /// A context is established (competent) when its reward rate is at least this.
    competent: f32 = 0.85, 0.0 to 1.0;
    /// Steps after a context switch during which no other switch happens, while the
    /// inputs are new (see `Thalamus::inputs_new`).
    refractory: u8 = 3, 0.0 to 100.0;
    /// Slow rate of the BG-driven training of the control functions `G`.
    eta_g: f32 = 0.002, 0.0 to 0.1;
    // --- basal ganglia, action channels
    /// Salience bias of the action channels (GPR operating range).
    action_bias: f32 = 0.5, 0.0 to 1.5;
    /// Base exploration noise (standard deviation of the salience noise).
    explore: f32 = 0.02, 0.0 to 1.0;
    /// Extra exploration per unit of expected failure, `relu(1 − V)`.
    explore_uncertain: f32 = 0.05, 0.0 to 1.0;
    /// Saliences are limited to `[0, salience_max]`.
    salience_max: f32 = 1.5, 0.5 to 4.0;
    /// Rate of Go (D1) corticostriatal learning from positive dopamine (up to twice
    /// this under in-place learning).
    eta_go: f32 = 0.5, 0.0 to 2.0;
    /// Rate of NoGo (D2) corticostriatal learning from negative dopamine (up to twice
    /// this under in-place learning).
    eta_nogo: f32 = 1.0, 0.0 to 2.0;
    /// Bound of Go and NoGo weights.
    w_max: f32 = 1.0, 0.1 to 4.0;
    /// Share of what a synapse's Go and NoGo weights hold in common, and of what the
    /// allowed actions' Go (or NoGo) weights on a unit hold in common, that settles
    /// away at each update (the differences, which select, are kept).
    opponent_settle: f32 = 0.125, 0.0 to 1.0;
    // --- critic and dopamine
    /// Discount γ of the TD error within a trial (a marked trial start ends the episode:
    /// no discount applies across it).
    gamma: f32 = 0.95, 0.0 to 1.0;
    /// Trace decay λ per step.
    lambda: f32 = 0.95, 0.0 to 1.0;
    /// Critic learning rate.
    eta_v: f32 = 0.3, 0.0 to 2.0;
    /// Optimistic prior of the critic: a typical fresh pattern predicts about this.
    v0: f32 = 0.5, 0.0 to 2.0;
    /// Rate of the running mean of `|x|²` that normalises learning rates.
    kappa_norm: f32 = 0.05, 0.001 to 1.0;
    /// Per-unit experience slows learning: rate `max(1/(1 + k n), lr_min)`.
    experience_rate: f32 = 0.1, 0.0 to 1.0;
    /// Floor of the per-unit learning-rate factor.
    lr_min: f32 = 0.25, 0.05 to 1.0;
    /// Weight of the aspiration in the baseline of the actor's dopamine at a trial's
    /// end: 0 teaches Go and NoGo by the critic's error alone, 1 by the reward against
    /// the aspiration `ρ` (the reward a trial has come to bring) while the current
    /// control function is not competent, scaled down by its competence.
    aspiration: f32 = 1.0, 0.0 to 1.0;
    /// Rate of the aspiration `ρ`, per trial.
    eta_aspiration: f32 = 0.005, 0.0 to 0.1;
    /// Total striatal input (the normalised rates: 1 for a code of any strength, less
    /// for a faint one) at which an afferent step counts as a stimulus (clears traces).
    stimulus_threshold: f32 = 0.25, 0.01 to 1.0;
    // --- basal ganglia, context channels
    /// Salience bias of the context channels.
    context_bias: f32 = 0.4, 0.0 to 1.0;
    /// Scale of context evidence into context salience.
    context_scale: f32 = 0.3, 0.01 to 1.0;
    /// Weight of a context's competence in its evidence.
    w_competence: f32 = 0.5, 0.0 to 2.0;
    /// Persistence: evidence bonus of the current context.
    persistence: f32 = 0.8, 0.0 to 3.0;
    /// Fraction of the surprise accumulator kept per step (1 = no leak: a CUSUM with
    /// `surprise_drift` as its reference).
    surprise_leak: f32 = 1.0, 0.0 to 1.0;
    /// Bound of the surprise accumulator.
    surprise_max: f32 = 2.0, 0.1 to 4.0;
    /// Noise on context evidence (standard deviation).
    context_noise: f32 = 0.05, 0.0 to 1.0;
    /// Rate of each context's competence (running reward rate).
    eta_q: f32 = 0.2, 0.0 to 1.0;
    /// Surprise at which corticostriatal plasticity starts to be held.
    hold_start: f32 = 0.5, 0.0 to 4.0;
    /// Surprise at which it is fully held.
    hold_full: f32 = 1.5, 0.0 to 4.0,
        refused if c.hold_full <= c.hold_start => "hold_full > hold_start";
    /// Rate of each context's usual surprise and its spread.
    eta_surprise_baseline: f32 = 0.02, 0.0 to 1.0;
    /// Change-point margin in units of the usual spread of surprise.
    k_dev: f32 = 2.0, 0.0 to 8.0;
    /// Surprise is weighted by the current context's competence, at least this.
    surprise_floor: f32 = 0.5, 0.0 to 1.0;
    /// Constant decrement of the surprise accumulator per step (CUSUM reference).
    surprise_drift: f32 = 0.07, 0.0 to 1.0;
    /// Cap on a context's usual surprise (its mean plus `k_dev` spreads) in the switch
    /// test, so a context that failed for long can still be left.
    usual_surprise_max: f32 = 1.0, 0.0 to 4.0;
    /// Weight of belief (the log-probability that a control function is the rule in
    /// force, relative to the best) in a context channel's salience.
    w_belief: f32 = 0.5, 0.0 to 2.0;
    /// Weight of the outcome memory (the last outcome for the trial's input pattern: the
    /// action taken there, for it if rewarded, against it if not) in an action
    /// channel's salience, at in-place learning 1 or a memory that always foretold; it
    /// counts as far as in-place learning is high, or the memory reliable.
    w_memory: f32 = 0.5, 0.0 to 2.0;
    /// Rate at which the outcome memory's reliability follows whether an action taken
    /// again for a pattern brought what it brought the last time: slow, a setting the
    /// basal ganglia learn over blocks, not within one.
    eta_reliability: f32 = 0.008, 0.0 to 0.1;
    /// Rate at which the consistency of outcomes (how often an action taken again for
    /// a pattern brought what it brought the last time, where the model took a
    /// disappointment for noise) follows each foretold outcome: it bounds how sure a
    /// control function's prediction is (0 keeps every prediction at its bound,
    /// `basal_ganglia::PREDICTION_MAX`).
    eta_consistency: f32 = 0.015625, 0.0 to 0.5;
    /// How far (in nats) below the best a control function's belief can have fallen
    /// before an outcome: the hazard of a rule change, `e^−belief_floor` (a function
    /// disproved long ago is a candidate again after about one outcome it predicts
    /// better than the one in force). Shared among the distinct rules stored besides
    /// the one in force: with `n` of them each floor lies `ln n` lower
    /// (`basal_ganglia::ContextChannels::hazard_floor`).
    belief_floor: f32 = 3.0, 0.0 to 6.0;
    // --- basal ganglia, the slow setting of the fast learner
    /// Step of in-place learning up at a context switch after a new input pattern.
    eta_in_place: f32 = 0.15, 0.0 to 1.0;
    /// Step of in-place learning down at a context switch over familiar inputs only.
    in_place_decay: f32 = 0.3, 0.0 to 1.0;
    /// An input line counts as on, for the familiarity of input patterns, when its
    /// magnitude is at least this.
    line_on: f32 = 0.5, 0.01 to 1.0;
    /// Rate at which in-place learning follows the recall error of a re-entered control
    /// function (what it used to bring minus what it brought).
    eta_recall: f32 = 0.25, 0.0 to 1.0;
}

/// One field of [`Config`] in the table [`FIELDS`].
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The field's name (as in [`ConfigError`] and serialized configs).
    pub name: &'static str,
    /// The field's documentation, with its range and default.
    pub doc: &'static str,
    /// Whether the field is a count (a `u8`; set from an `f32` by `as`,
    /// which saturates and takes NaN as 0).
    pub integer: bool,
    /// The smallest value allowed (a bound given by another field is at
    /// that field's default).
    pub min: f32,
    /// The largest value allowed (as `min`).
    pub max: f32,
    /// The field's value as an `f32`.
    pub get: fn(&Config) -> f32,
    /// Sets the field from an `f32` (`as` for a count).
    pub set: fn(&mut Config, f32),
}

/// How a config field's value is held: an `f32`, or a count in a `u8`.
trait Value: Copy {
    /// Whether the value is a count.
    const INTEGER: bool;
    /// Bytes in a snapshot.
    const BYTES: usize;
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
}

impl Value for f32 {
    const INTEGER: bool = false;
    const BYTES: usize = 4;
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl Value for u8 {
    const INTEGER: bool = true;
    const BYTES: usize = 1;
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn from_f32(v: f32) -> Self {
        v as u8
    }
}

impl Default for Config {
    /// The one configuration every task of the suite uses.
    fn default() -> Config {
        DEFAULT
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
    /// A size is out of range: const-generic sizes that cannot form an
    /// agent ([`check_sizes`]; an agent type of such sizes does not build),
    /// or an action count ([`crate::Agent::set_action_count`]).
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

/// Checks the const-generic sizes `S` inputs, `C` cortical units, `K` control
/// functions, `A` actions. An agent type checks its sizes with it at compile
/// time ([`assert_sizes`]), so an agent of invalid sizes does not build.
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

/// [`check_sizes`] at compile time: evaluated in a `const` block of the
/// agent's constructors, it fails the build of an agent type whose sizes
/// cannot form an agent, with what must hold as the message:
///
/// ```compile_fail,E0080
/// // error: evaluation panicked: K <= C <= 1024 and C a multiple of K (disjoint masks)
/// let agent = tcbg::Agent::<tcbg::Fx, 8, 50, 4, 4>::blank();
/// ```
pub const fn assert_sizes(s: usize, c: usize, k: usize, a: usize) {
    if let Err(ConfigError::Size { requires, .. }) = check_sizes(s, c, k, a) {
        panic!("{}", requires);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lesion byte of a snapshot: bit 0 `no_thalamus`, 1
    /// `no_context_selection`, 2 `no_dopamine`, 3 `no_traces`, 4 `no_meta`,
    /// 5 `no_amplification`.
    #[test]
    fn lesion_bits_are_the_snapshot_format() {
        let want = [
            "no_thalamus",
            "no_context_selection",
            "no_dopamine",
            "no_traces",
            "no_meta",
            "no_amplification",
        ];
        assert_eq!(Lesions::NAMES, want);
        for (i, name) in want.iter().enumerate() {
            let l = Lesions::named(name).unwrap();
            assert_eq!(l.bits(), 1 << i);
        }
        assert_eq!(Lesions::named("none"), Some(Lesions::NONE));
        assert_eq!(Lesions::named("no_such"), None);
        for b in 0..=255u8 {
            let (l, known) = Lesions::from_bits(b);
            assert_eq!(known, b < 64);
            assert_eq!(l.bits(), b & 63);
        }
    }
}
