//! The persisted state, declared once.
//!
//! [`STATE`] lists every state variable a snapshot holds after the config
//! and the seed, in the snapshot's order: its path in the agent, its shape
//! (rows of the sizes `S`, `C`, `K`, `A`, [`PATTERNS`]), its unit on the
//! wire, and its format and range as the structure's docs state them. The
//! one declaration below generates that table and the code that reads it:
//!
//! - the snapshot's writer and reader ([`Agent::snapshot`],
//!   [`Agent::restore`]), field by field in the table's order;
//! - the snapshot's length ([`crate::snapshot::snapshot_len`], from each
//!   variable's shape and unit);
//! - the range checks of [`Agent::check_ranges`] (each variable with a
//!   range; the bounds are the ones the step keeps, some taken from the
//!   config as the number type holds them).
//!
//! A shape that does not match the variable's type is a compile error (the
//! accessors are typed by the declared sizes), and a test checks that each
//! variable's docs state the format and range the table gives.

use crate::agent::{Agent, RangeViolation, OBS_RANGE};
use crate::basal_ganglia::{BELIEF_MAX, DOUBT_OUTCOMES, GPI_MAX, RECALL_OUTCOMES, TRACE_MAX};
use crate::cortex::W_IN_BOUND;
use crate::dopamine::{DOPAMINE_MAX, SIGNAL_MAX, W_V_BOUND};
use crate::fixed::Num;
use crate::rng::Rng;
use crate::snapshot::{Reader, SnapshotNum, Writer};
use crate::thalamus::PATTERNS;

/// A size a state variable's shape is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Inputs `S`.
    S,
    /// Cortical units `C`.
    C,
    /// Control functions `K`.
    K,
    /// Actions `A`.
    A,
    /// Entries of the pattern memory, [`PATTERNS`].
    Patterns,
}

impl Dim {
    /// The size for an agent of sizes `s`, `c`, `k`, `a`.
    pub const fn size(self, s: usize, c: usize, k: usize, a: usize) -> usize {
        match self {
            Dim::S => s,
            Dim::C => c,
            Dim::K => k,
            Dim::A => a,
            Dim::Patterns => PATTERNS,
        }
    }
}

/// How one value of a state variable is stored in a snapshot
/// (little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A number of the agent's type: the raw `i16` of an `Fx` (2 bytes), the
    /// IEEE bits of an `f32` (4 bytes).
    Num,
    /// One byte.
    U8,
    /// Two bytes.
    U16,
    /// Four bytes.
    U32,
    /// Two `u32`, low word first.
    U64,
    /// One byte, 0 or 1.
    Bool,
    /// One byte: bit 0 `no_thalamus`, 1 `no_context_selection`, 2
    /// `no_dopamine`, 3 `no_traces`, 4 `no_meta`, the other bits 0.
    Lesions,
    /// A generator's state: four `u32`, not all 0.
    Rng,
}

impl Unit {
    /// Bytes of one value, numbers taking `number_bytes`.
    pub const fn bytes(self, number_bytes: usize) -> usize {
        match self {
            Unit::Num => number_bytes,
            Unit::U8 | Unit::Bool | Unit::Lesions => 1,
            Unit::U16 => 2,
            Unit::U32 => 4,
            Unit::U64 => 8,
            Unit::Rng => 16,
        }
    }
}

/// One persisted state variable (an entry of [`STATE`]).
#[derive(Clone, Copy, Debug)]
pub struct StateVar {
    /// Where it lives: `structure.field` (`agent.` for the agent's own),
    /// as a [`RangeViolation`] or a [`crate::snapshot::RestoreError`] names it.
    pub path: &'static str,
    /// Its shape, outer size first (empty for a single value).
    pub dims: &'static [Dim],
    /// How each value is stored.
    pub unit: Unit,
    /// Its format and range, as its docs state them (empty where the docs
    /// state none: an unconstrained count, a generator, a flag).
    pub doc: &'static str,
    /// Whether [`Agent::check_ranges`] checks it against a range.
    pub checked: bool,
}

impl StateVar {
    /// Values of the variable in an agent of sizes `s`, `c`, `k`, `a`.
    pub const fn count(&self, s: usize, c: usize, k: usize, a: usize) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < self.dims.len() {
            n *= self.dims[i].size(s, c, k, a);
            i += 1;
        }
        n
    }
}

/// Bytes of the state variables of [`STATE`] in the snapshot of an agent
/// of sizes `s`, `c`, `k`, `a` whose numbers take `number_bytes` bytes.
pub const fn state_len(s: usize, c: usize, k: usize, a: usize, number_bytes: usize) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < STATE.len() {
        len += STATE[i].count(s, c, k, a) * STATE[i].unit.bytes(number_bytes);
        i += 1;
    }
    len
}

/// The variable at `path` in `agent` (`agent.` names the agent's own field).
macro_rules! place {
    ($agent:ident; agent . $f:ident) => {
        $agent.$f
    };
    ($agent:ident; $p:ident $(. $q:ident)*) => {
        $agent.$p $(. $q)*
    };
}

/// The variable's values as a flat slice, typed by the declared shape (a
/// shape that is not the variable's type does not compile).
macro_rules! flat {
    (ref [] $($p:tt)+) => {
        core::slice::from_ref(&$($p)+)
    };
    (ref [$d:ident] $($p:tt)+) => {
        flat1::<_, { dim!($d) }>(&$($p)+)
    };
    (ref [$d:ident $e:ident] $($p:tt)+) => {
        flat2::<_, { dim!($d) }, { dim!($e) }>(&$($p)+)
    };
    (mut [] $($p:tt)+) => {
        core::slice::from_mut(&mut $($p)+)
    };
    (mut [$d:ident] $($p:tt)+) => {
        flat1_mut::<_, { dim!($d) }>(&mut $($p)+)
    };
    (mut [$d:ident $e:ident] $($p:tt)+) => {
        flat2_mut::<_, { dim!($d) }, { dim!($e) }>(&mut $($p)+)
    };
}

/// A declared size as the const generic (or constant) it is.
macro_rules! dim {
    (PATTERNS) => {
        PATTERNS
    };
    ($d:ident) => {
        $d
    };
}

/// A declared shape in the table's docs.
macro_rules! shape_doc {
    () => {
        "1"
    };
    ($d:ident) => {
        concat!("`", stringify!($d), "`")
    };
    ($d:ident $e:ident) => {
        concat!("`", stringify!($d), "×", stringify!($e), "`")
    };
}

/// A declared size in the table.
macro_rules! dim_entry {
    (PATTERNS) => {
        Dim::Patterns
    };
    ($d:ident) => {
        Dim::$d
    };
}

/// Writes, reads, measures one value of each unit.
macro_rules! unit {
    (@unit num) => {
        Unit::Num
    };
    (@unit u8) => {
        Unit::U8
    };
    (@unit u16) => {
        Unit::U16
    };
    (@unit u32) => {
        Unit::U32
    };
    (@unit u64) => {
        Unit::U64
    };
    (@unit bool) => {
        Unit::Bool
    };
    (@unit lesions) => {
        Unit::Lesions
    };
    (@unit rng) => {
        Unit::Rng
    };
    (@put rng, $w:ident, $v:ident) => {
        $w.rng($v)
    };
    (@put $unit:ident, $w:ident, $v:ident) => {
        $w.$unit(*$v)
    };
    (@take num, $r:ident, $bad:ident, $name:expr, $v:ident) => {
        *$v = $r.num()
    };
    (@take bool, $r:ident, $bad:ident, $name:expr, $v:ident) => {
        *$v = $r.bool($bad, $name)
    };
    (@take lesions, $r:ident, $bad:ident, $name:expr, $v:ident) => {
        *$v = $r.lesions($bad, $name)
    };
    (@take rng, $r:ident, $bad:ident, $name:expr, $v:ident) => {
        match Rng::from_state($r.state()) {
            Some(g) => *$v = g,
            None => {
                if $bad.is_none() {
                    *$bad = Some($name);
                }
            }
        }
    };
    (@take $unit:ident, $r:ident, $bad:ident, $name:expr, $v:ident) => {
        *$v = $r.$unit()
    };
    (@value num, $v:ident) => {
        $v.to_f32()
    };
    (@value $unit:ident, $v:ident) => {
        *$v as f32
    };
}

/// The declaration: `path: [dims] unit in min, max; "format and range";`
/// (`in min, max` where the step keeps a range). The range expressions
/// read the config as `$c`, a config bound as the number type holds it as
/// `$q(bound)`, and the sizes.
macro_rules! state {
    (
        config $c:ident, quantised $q:ident;
        $(
            $p:ident $(. $q_:ident)* : [$($d:ident)*] $unit:ident $(in $min:expr, $max:expr)? ; $doc:literal ;
        )*
    ) => {
        /// Every persisted state variable, in snapshot order (see the
        /// [module](self)). A checked range is the one [`Agent::check_ranges`]
        /// applies: `c` is the config, `q(x)` a config bound `x` as the
        /// number type holds it (`Fx` rounds it to 1/4096).
        ///
        /// | path | shape (rows × columns) | unit | format and range (checked) |
        /// |---|---|---|---|
        $(
            #[doc = concat!(
                "| `", concat!(stringify!($p) $(, ".", stringify!($q_))*), "` | ",
                shape_doc!($($d)*), " | ",
                stringify!($unit), " | ", $doc, $(" (checked: `", stringify!($min), "` to `", stringify!($max), "`)",)? " |"
            )]
        )*
        pub const STATE: [StateVar; 0 $(+ { let _ = concat!(stringify!($p) $(, ".", stringify!($q_))*); 1 })*] = [
            $(
                StateVar {
                    path: concat!(stringify!($p) $(, ".", stringify!($q_))*),
                    dims: &[$(dim_entry!($d)),*],
                    unit: unit!(@unit $unit),
                    doc: $doc,
                    checked: false $(|| { let _ = stringify!($min); true })?,
                },
            )*
        ];

        impl<N: SnapshotNum, const S: usize, const C: usize, const K: usize, const A: usize>
            Agent<N, S, C, K, A>
        {
            /// Writes every variable of [`STATE`] in order.
            pub(crate) fn write_state(&self, w: &mut Writer<'_>) {
                let agent = self;
                $(
                    for v in flat!(ref [$($d)*] place!(agent; $p $(. $q_)*)) {
                        unit!(@put $unit, w, v);
                    }
                )*
            }

            /// Reads every variable of [`STATE`] in order (the reader
            /// checks bounds); a value no step can produce sets `bad`.
            pub(crate) fn read_state(&mut self, r: &mut Reader<'_>, bad: &mut Option<&'static str>) {
                let agent = self;
                $(
                    for v in flat!(mut [$($d)*] place!(agent; $p $(. $q_)*)) {
                        unit!(@take $unit, r, bad, concat!(stringify!($p) $(, ".", stringify!($q_))*), v);
                    }
                )*
            }
        }

        impl<N: Num, const S: usize, const C: usize, const K: usize, const A: usize>
            Agent<N, S, C, K, A>
        {
            /// Checks every variable of [`STATE`] that has a range (the
            /// first violation found, if any).
            pub(crate) fn check_state_ranges(&self) -> Result<(), RangeViolation> {
                let agent = self;
                let $c = &self.config;
                // A config bound as the number type holds it (`Fx` rounds to
                // 1/4096, possibly up): the step clamps to that, not to the `f32`.
                let $q = |x: f32| N::from_f32(x).to_f32();
                $(
                    let _field = concat!(stringify!($p) $(, ".", stringify!($q_))*);
                    let _values = flat!(ref [$($d)*] place!(agent; $p $(. $q_)*));
                    $(
                        let (min, max): (f32, f32) = ($min, $max);
                        for (index, v) in _values.iter().enumerate() {
                            let value = unit!(@value $unit, v);
                            if !(value >= min && value <= max) {
                                return Err(RangeViolation { field: _field, index, value, min, max });
                            }
                        }
                    )?
                )*
                Ok(())
            }
        }
    };
}

state! {
    config c, quantised q;
    lesions: [] lesions; "";
    cortex.w_in: [C S] num in -W_IN_BOUND, W_IN_BOUND; "Q3.12, −2 to 2";
    cortex.drive: [C] num in
        -W_IN_BOUND * OBS_RANGE * S as f32,
        W_IN_BOUND * OBS_RANGE * S as f32 + c.recurrence * c.amplification.max(1.0) * q(c.gain_max).max(1.0);
        "Q3.12, −2S to 2S + `recurrence` × `amplification` × `gain_max`";
    cortex.gain: [C] num in 0.0, q(c.gain_max).max(1.0); "Q3.12, 0 to `gain_max`";
    cortex.rate: [C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    cortex.lines_met: [] u64; "bit `j` once line `j` has been on";
    thalamus.g: [K C] num in 0.0, q(c.gain_max); "Q3.12, 0 to `gain_max`";
    thalamus.m_hebb: [K C] num in -q(c.m_max), q(c.m_max); "Q3.12, −`m_max` to `m_max`";
    thalamus.u_rec: [K C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.w_rec: [C S] num in -W_IN_BOUND, W_IN_BOUND; "Q3.12, −2 to 2";
    thalamus.rho: [C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.rho_prev: [C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.rbar: [C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.theta: [C] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.h: [K] num in
        -q(c.m_max) * C as f32 - q(c.w_bg) * GPI_MAX, q(c.m_max) * C as f32;
        "Q3.12, −(m_max C + 8 w_bg) to m_max C";
    thalamus.shared: [] num in 0.0, 1.0; "Q3.12, 0 to 1";
    thalamus.active: [] u8 in 0.0, (K - 1) as f32; "0 to K−1";
    thalamus.used: [] u16 in 0.0, ((1u32 << K) - 1) as f32;
        "Bit `k` set once control function `k` has been used";
    thalamus.since_switch: [] u16; "saturates at 65535";
    thalamus.steps_seen: [] u8; "saturates at 255";
    thalamus.patterns: [PATTERNS] u64; "each as the bit set of its lines that are on";
    thalamus.patterns_held: [] u8 in 0.0, PATTERNS as f32; "0 to [`PATTERNS`]";
    thalamus.pattern_next: [] u8 in 0.0, (PATTERNS - 1) as f32; "0 to [`PATTERNS`]−1";
    thalamus.since_novel: [] u8; "0 to 255";
    striatum.w_go: [A C] num in 0.0, q(c.w_max); "Q3.12, 0 to `w_max`";
    striatum.w_nogo: [A C] num in 0.0, q(c.w_max); "Q3.12, 0 to `w_max`";
    striatum.elig: [A C] num in 0.0, TRACE_MAX; "Q3.12, 0 to [`TRACE_MAX`]";
    striatum.recent: [C] num in 0.0, TRACE_MAX; "Q3.12, 0 to [`TRACE_MAX`]";
    striatum.recent_action: [] u8 in 0.0, (A - 1) as f32; "0 to A−1";
    contexts.competence: [K] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.surprise_mean: [K] num in 0.0, q(c.surprise_max); "Q3.12, 0 to `surprise_max`";
    contexts.surprise_dev: [K] num in 0.0, q(c.surprise_max); "Q3.12, 0 to `surprise_max`";
    contexts.surprise: [] num in 0.0, q(c.surprise_max); "Q3.12, 0 to `surprise_max`";
    contexts.in_place: [] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.recall_context: [] u8 in 0.0, K as f32; "0 to K";
    contexts.recall_outcomes: [] u8 in 0.0, RECALL_OUTCOMES as f32; "0 to [`RECALL_OUTCOMES`]";
    contexts.recall_reward: [] num in
        -((RECALL_OUTCOMES / 2) as f32), (RECALL_OUTCOMES / 2) as f32;
        "Q3.12, −`RECALL_OUTCOMES`/2 to `RECALL_OUTCOMES`/2";
    contexts.recall_expected: [] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.belief: [K] num in -BELIEF_MAX, 0.0; "Q3.12, −[`BELIEF_MAX`] to 0, the best at 0";
    contexts.belief_new: [] num in -BELIEF_MAX, BELIEF_MAX; "Q3.12, −[`BELIEF_MAX`] to [`BELIEF_MAX`]";
    contexts.predicted: [K] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.choice: [K PATTERNS] u8 in 0.0, A as f32; "0 to A";
    contexts.seen: [K] u8; "A bit per entry of the recency memory, 0 to 255";
    contexts.several: [] u8 in 0.0, 64.0; "0 to 64";
    contexts.last_action: [PATTERNS] u8 in 0.0, A as f32; "0 to A";
    contexts.last_lost: [] u8; "A bit per entry of the recency memory, 0 to 255";
    contexts.lost_since: [PATTERNS] u16 in 0.0, ((1u32 << A) - 1) as f32; "0 to 2^A − 1";
    contexts.last_open: [] u8 in 0.0, PATTERNS as f32; "0 to [`PATTERNS`]";
    contexts.reliability: [] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.foretold: [] u8 in 0.0, 2.0; "0 to 2";
    contexts.consistency: [] num in 0.0, 1.0; "Q3.12, 0 to 1";
    contexts.doubt: [] u8 in 0.0, K as f32; "0 to K";
    contexts.doubt_age: [] u8 in 0.0, DOUBT_OUTCOMES as f32; "0 to [`DOUBT_OUTCOMES`]";
    contexts.doubt_slot: [] u8 in 0.0, PATTERNS as f32; "0 to [`PATTERNS`]";
    critic.w_v: [A C] num in -W_V_BOUND, W_V_BOUND; "Q3.12, −4 to 4";
    critic.value_prev: [] num in -SIGNAL_MAX, SIGNAL_MAX; "Q3.12, −8 to 8";
    critic.value: [] num in -SIGNAL_MAX, SIGNAL_MAX; "Q3.12, −8 to 8";
    critic.delta: [] num in -DOPAMINE_MAX, DOPAMINE_MAX; "Q3.12, −4 to 4 ([`DOPAMINE_MAX`])";
    critic.norm_mean: [] num in 0.0, SIGNAL_MAX; "Q3.12, 0 to 8";
    critic.norm_inv: [] num in 0.0, 4.0; "Q3.12, 0 to 4";
    critic.lr: [C] num in c.lr_min - 1.0 / 4096.0, 1.0; "Q3.12, `lr_min` to 1";
    critic.aspiration: [] num in -1.0, 1.0; "Q3.12, −1 to 1";
    agent.striatal_input: [C] num in 0.0, 8.0; "Q3.12, 0 to 8";
    agent.gain_norm: [] num in 0.0, 8.0; "Q3.12, 0 to 8";
    actions.salience: [A] num in 0.0, q(c.salience_max); "Q3.12, 0 to `salience_max`";
    actions.gpi: [A] num in 0.0, GPI_MAX; "Q3.12, 0 to 8";
    actions.selected: [] u8; "The selected channel";
    context_channels.salience: [K] num in 0.0, q(c.salience_max); "Q3.12, 0 to `salience_max`";
    context_channels.gpi: [K] num in 0.0, GPI_MAX; "Q3.12, 0 to 8";
    context_channels.selected: [] u8; "The selected channel";
    action_mask: [] u32; "";
    trial_start: [] bool; "";
    explore_rng: [] rng; "";
    dither_rng: [] rng; "";
    cortex_rng: [] rng; "";
    counters.steps: [] u32; "Steps taken; wraps";
    counters.switches: [] u32; "Context switches of any kind; saturates";
    counters.recognitions: [] u32; "Switches forced by recognition";
    counters.novelties: [] u32; "Switches to an unused context on a novel pattern; saturates";
    trials_marked: [] bool; "";
    decisions: [] u8; "Stimulus steps in the trial, saturates";
    held: [] bool; "";
}

fn flat1<T, const M: usize>(v: &[T; M]) -> &[T] {
    v
}

fn flat1_mut<T, const M: usize>(v: &mut [T; M]) -> &mut [T] {
    v
}

fn flat2<T, const R: usize, const M: usize>(v: &[[T; M]; R]) -> &[T] {
    v.as_flattened()
}

fn flat2_mut<T, const R: usize, const M: usize>(v: &mut [[T; M]; R]) -> &mut [T] {
    v.as_flattened_mut()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    /// The docs of `field` in `struct name` of `source`, on one line.
    fn field_doc(source: &str, name: &str, field: &str) -> String {
        let start = source
            .find(&std::format!("pub struct {name}<"))
            .or_else(|| source.find(&std::format!("pub struct {name} {{")))
            .unwrap_or_else(|| panic!("struct {name} not found"));
        let mut doc = String::new();
        for line in source[start..].lines() {
            let t = line.trim();
            if let Some(d) = t.strip_prefix("///") {
                doc.push(' ');
                doc.push_str(d.trim());
            } else if t.starts_with(&std::format!("pub {field}:"))
                || t.starts_with(&std::format!("pub(crate) {field}:"))
            {
                return doc
                    .split_whitespace()
                    .collect::<std::vec::Vec<_>>()
                    .join(" ");
            } else {
                doc.clear();
            }
            if t == "}" {
                break;
            }
        }
        panic!("field {name}.{field} not found");
    }

    /// Each variable's docs state the format and range the table gives.
    #[test]
    fn the_docs_state_the_declared_ranges() {
        for v in STATE.iter() {
            let (head, field) = v.path.rsplit_once('.').unwrap_or(("agent", v.path));
            let (source, name) = match head {
                "cortex" => (include_str!("cortex.rs"), "Cortex"),
                "thalamus" => (include_str!("thalamus.rs"), "Thalamus"),
                "striatum" => (include_str!("basal_ganglia.rs"), "Striatum"),
                "contexts" => (include_str!("basal_ganglia.rs"), "ContextChannels"),
                "critic" => (include_str!("dopamine.rs"), "Critic"),
                "agent" => (include_str!("agent.rs"), "Agent"),
                "actions" | "context_channels" => (include_str!("agent.rs"), "Selection"),
                "counters" => (include_str!("agent.rs"), "Counters"),
                other => panic!("{other}: no structure"),
            };
            let doc = field_doc(source, name, field);
            assert!(
                doc.contains(v.doc),
                "{}: the docs say \"{doc}\", the table \"{}\"",
                v.path,
                v.doc
            );
            assert!(
                !v.checked || !v.doc.is_empty(),
                "{}: a checked range must be documented",
                v.path
            );
        }
    }

    /// The table's length is what the writer writes, for sizes that are
    /// all different (a shape naming the wrong size does not compile).
    #[test]
    fn the_declared_length_is_written() {
        use crate::{Config, Fx};
        let a = Agent::<Fx, 5, 24, 3, 2>::new(Config::default(), 1).unwrap();
        let mut buf = [0u8; 8192];
        let n = Agent::<Fx, 5, 24, 3, 2>::SNAPSHOT_LEN;
        assert_eq!(a.snapshot(&mut buf), Ok(n));
        let b = Agent::<f32, 5, 24, 3, 2>::new(Config::default(), 1).unwrap();
        let m = Agent::<f32, 5, 24, 3, 2>::SNAPSHOT_LEN;
        assert_eq!(b.snapshot(&mut buf), Ok(m));
        // 2 more bytes per number.
        let numbers = state_len(5, 24, 3, 2, 1) - state_len(5, 24, 3, 2, 0);
        assert_eq!(m - n, 2 * numbers);
    }
}
