//! Comparing runs bit for bit (the trace hash) and saving the learned state
//! (snapshots).
//!
//! ## Trace hash
//!
//! [`trace`] runs a fixed seed, config and task and hashes the sequence of
//! actions and dopamine values (FNV-1a over 32-bit words, 32-bit operations
//! only). Equal hashes on two targets mean the two learned identically.
//!
//! ```
//! use tcbg::snapshot::{trace, TRACE_STEPS};
//! use tcbg::Fx;
//! assert_eq!(trace::<Fx>(500), trace::<Fx>(500));
//! assert!(TRACE_STEPS >= 2000);
//! ```
//!
//! ## Snapshots
//!
//! [`Agent::snapshot`] writes the complete state of an agent into a byte
//! buffer of exactly [`Agent::SNAPSHOT_LEN`] bytes (a `const`, so a board can
//! keep a static buffer), and [`Agent::restore`] (or
//! [`Agent::restore_in_place`], which needs no second agent on the stack)
//! rebuilds it. A restored agent continues bit for bit as the saved one
//! would have: same actions, same dopamine, same random draws.
//!
//! ```
//! use tcbg::{Agent, Config, DefaultAgent, Fx, Num};
//! let mut agent: DefaultAgent = Agent::new(Config::default(), 7).unwrap();
//! for t in 0..100 {
//!     agent.step(&[Fx::from_f32((t % 2) as f32); 8], Fx::ZERO);
//! }
//! let mut buf = [0u8; DefaultAgent::SNAPSHOT_LEN];
//! assert_eq!(agent.snapshot(&mut buf), Ok(DefaultAgent::SNAPSHOT_LEN));
//! let mut copy = DefaultAgent::restore(&buf).unwrap();
//! assert_eq!(copy, agent);
//! assert_eq!(copy.step(&[Fx::ONE; 8], Fx::ONE), agent.step(&[Fx::ONE; 8], Fx::ONE));
//! buf[100] ^= 0x10; // one flipped bit
//! assert!(DefaultAgent::restore(&buf).is_err());
//! ```
//!
//! ### Format, version 3
//!
//! All integers little-endian; only 8-, 16- and 32-bit loads, stores and
//! arithmetic (the `u64` seed is two 32-bit words).
//!
//! | offset | bytes | content |
//! |---|---|---|
//! | 0 | 4 | magic `TCBG` ([`SNAPSHOT_MAGIC`]) |
//! | 4 | 2 | format version, `u16` ([`SNAPSHOT_VERSION`]) |
//! | 6 | 1 | number type tag: 1 = [`crate::Fx`] (Q3.12 in an `i16`), 2 = `f32` |
//! | 7 | 1 | bytes per number: 2 for `Fx`, 4 for `f32` |
//! | 8 | 8 | sizes `S`, `C`, `K`, `A`, one `u16` each |
//! | 16 | P | payload (below) |
//! | 16 + P | 4 | CRC-32 of bytes `0 .. 16 + P` |
//!
//! The checksum is the IEEE CRC-32 of zlib, Ethernet and PNG (reflected
//! polynomial `0xEDB88320`, initial value and final xor `0xFFFFFFFF`),
//! computed a nibble at a time from a 16-entry table with 32-bit operations
//! only ([`crc32`]); it detects every error burst up to 32 bits, so every
//! single corrupted byte.
//!
//! The payload, in order (a *number* is 2 or 4 bytes as the header says: the
//! raw `i16` of an `Fx`, the IEEE bits of an `f32`; arrays row by row):
//!
//! 1. the [`Config`]: each field in declaration order ([`crate::config::FIELDS`]),
//!    `f32` fields as their IEEE bits (4 bytes), counts (`u8` fields) as
//!    one byte each, the start lesions as one byte
//!    ([`CONFIG_LEN`] = 238 bytes in all);
//! 2. the seed (`u64`);
//! 3. every state variable of [`STATE`], in its order (each the unit, shape
//!    and range that table declares): the lesions in force, cortex,
//!    thalamus, striatum, contexts, critic, the striatal input and mean
//!    gain, the action and context channels, the action mask, the
//!    trial-start flag, the exploration, dither and cortex generators, and
//!    the counters.
//!
//! The model constants ([`Agent`]'s parameters) are not stored: they are a
//! function of the config and are rebuilt from it; nor is what is derived
//! from stored variables (the leak flags of `M`, the rows of the traces in
//! use). [`snapshot_len`] gives the size; the default agent's snapshot is
//! 5594 bytes (`Fx`) or 10770 bytes (`f32`).
//!
//! ### What restore refuses
//!
//! [`Agent::restore`] never panics and never yields an agent the step could
//! not have produced. It refuses, with a [`RestoreError`]: bytes that are
//! too few or too many for the header's sizes, a wrong magic or version, a
//! snapshot of other sizes or another number type, a checksum mismatch, an
//! invalid config (the [`ConfigError`] [`Agent::new`] would give), an
//! enumerated value no step can produce (lesion bits, a boolean that is not
//! 0 or 1, an all-zero generator state), and whatever
//! [`Agent::check_ranges`] refuses, the one place of the state's
//! invariants: any state variable outside its declared range, a derived
//! value not true to what it is derived from, and any relation between
//! variables the step keeps (an action mask that is not `0..n`, a selected
//! channel out of range, an active context not marked used, a recall test
//! with its outcomes in or its reward beyond them, ...: the list is
//! `Agent::check_ranges`'s). Each refusal names the variable.

use core::fmt;

use crate::agent::{Agent, RangeViolation};
use crate::config::{Config, ConfigError, Lesions};
use crate::kernels::Kernels as Num;
use crate::rng::Rng;
use crate::state::state_len;
#[cfg(doc)]
use crate::state::STATE;
use crate::tasks::{observation, Schedule, Task, TaskKind};

/// Steps of the reference trace (`cargo xtask trace`, the boards, the browser).
pub const TRACE_STEPS: u32 = 4000;
/// Seed of the reference trace (agent and task).
pub const TRACE_SEED: u64 = 1;

/// FNV-1a over 32-bit words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(pub u32);

impl TraceHash {
    /// The FNV-1a offset basis.
    pub const fn new() -> Self {
        TraceHash(0x811c_9dc5)
    }
    /// Mixes one word in, byte by byte.
    pub fn add(&mut self, w: u32) {
        for b in w.to_le_bytes() {
            self.0 ^= b as u32;
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }
}

impl Default for TraceHash {
    fn default() -> Self {
        Self::new()
    }
}

/// The reference trace: the default config, seed [`TRACE_SEED`], the
/// rule-switch task (restarted when it ends), `steps` steps; the hash of
/// every action and dopamine value.
pub fn trace<N: Num>(steps: u32) -> u32 {
    trace_with::<N>(steps, |agent, obs, reward| agent.step(obs, reward))
}

/// The reference trace's continuation, to compare snapshots across targets:
/// runs [`trace`] to step `at`, writes the agent's snapshot there into `bytes`
/// (exactly [`Agent::SNAPSHOT_LEN`] long), puts `replace` (a restored agent,
/// if any) in its place, and returns the hash of the next `steps` actions
/// and dopamine values.
pub fn trace_continuation<N: SnapshotNum>(
    at: u32,
    steps: u32,
    bytes: &mut [u8],
    mut replace: Option<Agent<N, 8, 48, 4, 4>>,
) -> u32 {
    let mut h = TraceHash::new();
    let mut t = 0;
    trace_with::<N>(at + steps, |agent, obs, reward| {
        if t == at {
            let _ = agent.snapshot(bytes);
            if let Some(other) = replace.take() {
                *agent = other;
            }
        }
        let a = agent.step(obs, reward);
        if t >= at {
            h.add(a as u32);
            h.add(agent.dopamine().hash_bits());
        }
        t += 1;
        a
    });
    h.0
}

/// [`trace`] with the agent's step made by `step`, which must return
/// `agent.step(obs, reward)`: a benchmark times the step there and keeps the
/// loop itself in one place.
pub fn trace_with<N: Num>(
    steps: u32,
    mut step: impl FnMut(&mut Agent<N, 8, 48, 4, 4>, &[N; 8], N) -> usize,
) -> u32 {
    // Built in place: moving it out of a `Result` would put two agents on a
    // small board's stack.
    let mut agent = Agent::<N, 8, 48, 4, 4>::blank();
    if agent.reset(Config::default(), TRACE_SEED).is_err() {
        return 0;
    }
    let _ = agent.set_action_count(TaskKind::ACTIONS);
    let mut task = Task::new(TaskKind::RuleSwitch, Schedule::default(), TRACE_SEED);
    let mut h = TraceHash::new();
    let mut reward = N::ZERO;
    for _ in 0..steps {
        let inp = match task.next_input() {
            Some(i) => i,
            None => {
                task = Task::new(TaskKind::RuleSwitch, Schedule::default(), TRACE_SEED + 1);
                match task.next_input() {
                    Some(i) => i,
                    None => return h.0,
                }
            }
        };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        let a = step(&mut agent, &observation::<N, 8>(inp.lines), reward);
        h.add(a as u32);
        h.add(agent.dopamine().hash_bits());
        reward = if task.act(a).0 { N::ONE } else { N::ZERO };
    }
    h.0
}

// ---------------------------------------------------------------- snapshots

/// The first 4 bytes of every snapshot.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"TCBG";
/// The format version this build writes and reads. 2: the config gained
/// `opponent_settle` and `gain_min`; 3: the config gained the aspiration and
/// in-place learning fields, the state `critic.aspiration`,
/// `contexts.in_place` and the recall test; 4: the config lost
/// `gpr_iterations` and `gpr_rate` (the GPR circuit is solved at its steady
/// state, not iterated); 5: the config gained `recurrence` and
/// `amplification` (cortical recurrence and its thalamic amplification),
/// `w_belief` and `belief_floor`, the lesion byte `no_amplification`, the
/// state the most recent trace `striatum.recent`, its action,
/// `trials_marked`, and the context channels' belief, predictions and
/// choices; 6: the state gained `contexts.seen` (which input patterns each
/// control function has met); 7: the config gained `w_memory`, the state the
/// context channels' outcome memory (`contexts.last_action`, `last_lost`,
/// `last_open`); 8: the state gained `contexts.belief_new` (belief in a new
/// rule); 9: the state gained `held` (the last step held cortex's code
/// without afferent input); 10: the config gained `eta_reliability`, the
/// state the outcome memory's `contexts.reliability` and
/// `contexts.foretold`; 11: the config gained `eta_consistency`, the state
/// the context channels' `consistency` of outcomes and its `doubt` and
/// `doubt_age`; 12: the state gained `contexts.doubt_slot` (the pattern a
/// disappointment is judged on); 13: the state gained `cortex.lines_met`
/// (the input lines the afferents are balanced over); 14: the state gained
/// `contexts.lost_since` (the actions lost per pattern since it last paid).
/// An older snapshot is refused as such. The
/// thalamic masks are dealt from the seed, as at reset.
pub const SNAPSHOT_VERSION: u16 = 14;
/// Bytes of the header (magic, version, number type, sizes).
pub const HEADER_LEN: usize = 16;
/// Bytes of the CRC-32 trailer.
pub const CRC_LEN: usize = 4;
/// Bytes of the config in the payload: each field in declaration order (4
/// for an `f32`, 1 for a count) and the lesion byte (243 in version 3).
pub const CONFIG_LEN: usize = crate::config::WIRE_LEN;
/// Bytes of the seed in the payload.
pub const SEED_LEN: usize = 8;

/// The exact size in bytes of the snapshot of an agent with sizes `S`, `C`,
/// `K`, `A` whose numbers take `number_bytes` bytes (2 for
/// [`crate::Fx`], 4 for `f32`): the header, the config, the seed, the
/// state variables of [`STATE`] and the checksum.
pub const fn snapshot_len(s: usize, c: usize, k: usize, a: usize, number_bytes: usize) -> usize {
    HEADER_LEN + CONFIG_LEN + SEED_LEN + state_len(s, c, k, a, number_bytes) + CRC_LEN
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::fixed::Fx {}
    impl Sealed for f32 {}
}

/// A number type a snapshot can hold: [`crate::Fx`] and `f32` (sealed).
pub trait SnapshotNum: Num + sealed::Sealed {
    /// The header's number type tag.
    const TAG: u8;
    /// Bytes per number in the payload.
    const BYTES: usize;
    /// The number's bits (the low [`SnapshotNum::BYTES`] bytes are stored).
    fn to_wire(self) -> u32;
    /// The number from its stored bits.
    fn from_wire(w: u32) -> Self;
}

impl SnapshotNum for crate::fixed::Fx {
    const TAG: u8 = 1;
    const BYTES: usize = 2;
    #[inline]
    fn to_wire(self) -> u32 {
        self.0 as u16 as u32
    }
    #[inline]
    fn from_wire(w: u32) -> Self {
        crate::fixed::Fx(w as u16 as i16)
    }
}

impl SnapshotNum for f32 {
    const TAG: u8 = 2;
    const BYTES: usize = 4;
    #[inline]
    fn to_wire(self) -> u32 {
        self.to_bits()
    }
    #[inline]
    fn from_wire(w: u32) -> Self {
        f32::from_bits(w)
    }
}

/// The CRC-32 table for one nibble (reflected IEEE polynomial).
const CRC_TABLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The IEEE CRC-32 (as zlib's `crc32`) of `data`, a nibble at a time with
/// 32-bit operations only.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        c = CRC_TABLE[(c & 15) as usize] ^ (c >> 4);
        c = CRC_TABLE[(c & 15) as usize] ^ (c >> 4);
    }
    !c
}

/// Why [`Agent::snapshot`] wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The buffer is shorter than [`Agent::SNAPSHOT_LEN`].
    BufferTooSmall {
        /// Bytes the snapshot needs.
        needed: usize,
        /// Bytes the buffer has.
        found: usize,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::BufferTooSmall { needed, found } => {
                write!(
                    f,
                    "snapshot buffer too small: {found} bytes, {needed} needed"
                )
            }
        }
    }
}

/// Why [`Agent::restore`] refused a snapshot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RestoreError {
    /// Fewer bytes than the header (or, once it is read, the sizes) require.
    Truncated {
        /// Bytes required.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// More bytes than the header's sizes require.
    Excess {
        /// Bytes required.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// The bytes do not start with [`SNAPSHOT_MAGIC`].
    BadMagic,
    /// A format version this build cannot read.
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
    },
    /// A snapshot of another number type (`Fx` into `f32` or back).
    NumberType {
        /// The tag of the agent type restoring (1 = `Fx`, 2 = `f32`).
        expected: u8,
        /// The tag in the header.
        found: u8,
    },
    /// A snapshot of an agent with other sizes.
    Sizes {
        /// `S`, `C`, `K`, `A` of the agent type restoring.
        expected: [u16; 4],
        /// `S`, `C`, `K`, `A` in the header.
        found: [u16; 4],
    },
    /// The CRC-32 does not match the bytes.
    Checksum {
        /// The CRC in the trailer.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// The stored config is invalid (what [`Agent::new`] would say).
    Config(ConfigError),
    /// An enumerated value no step can produce (lesion bits, a boolean, a
    /// generator's state).
    Invalid {
        /// Which value.
        field: &'static str,
    },
    /// A state variable outside its declared range, or out of line with
    /// the others ([`Agent::check_ranges`]).
    Range(RangeViolation),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_with(f, true)
    }
}

impl RestoreError {
    /// The message of [`fmt::Display`] with every `f32` value written as its
    /// IEEE bits: a board that prints its errors this way links none of
    /// `core::fmt`'s float code (some 20 KB of flash).
    pub fn fmt_float_free(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_with(f, false)
    }

    // Inlined so that a constant `floats` drops the other branch, and its
    // float formatting with it.
    #[inline(always)]
    fn fmt_with(&self, f: &mut fmt::Formatter<'_>, floats: bool) -> fmt::Result {
        match self {
            RestoreError::Truncated { expected, found } => {
                write!(f, "snapshot truncated: {found} bytes, {expected} expected")
            }
            RestoreError::Excess { expected, found } => {
                write!(
                    f,
                    "snapshot has excess bytes: {found} bytes, {expected} expected"
                )
            }
            RestoreError::BadMagic => f.write_str("not a tcbg snapshot (bad magic)"),
            RestoreError::UnsupportedVersion { found } => {
                write!(
                    f,
                    "snapshot format version {found}, this build reads {SNAPSHOT_VERSION}"
                )
            }
            RestoreError::NumberType { expected, found } => {
                write!(
                    f,
                    "snapshot number type tag {found}, the agent's is {expected}"
                )
            }
            RestoreError::Sizes { expected, found } => {
                write!(
                    f,
                    "snapshot sizes S,C,K,A = {found:?}, the agent's are {expected:?}"
                )
            }
            RestoreError::Checksum { stored, computed } => {
                write!(
                    f,
                    "snapshot checksum mismatch: stored {stored:08x}, computed {computed:08x}"
                )
            }
            RestoreError::Config(e) if floats => write!(f, "snapshot config invalid: {e}"),
            RestoreError::Config(ConfigError::OutOfRange { field, value, .. }) => {
                write!(f, "snapshot config invalid: config field `{field}` out of range (f32 bits {:08x})", value.to_bits())
            }
            RestoreError::Config(ConfigError::Inconsistent { field, requires }) => {
                write!(
                    f,
                    "snapshot config invalid: config field `{field}` is inconsistent: {requires}"
                )
            }
            RestoreError::Config(ConfigError::Size { param, requires }) => {
                write!(f, "snapshot config invalid: size {param}: {requires}")
            }
            RestoreError::Invalid { field } => write!(f, "snapshot value `{field}` cannot occur"),
            RestoreError::Range(v) if floats => write!(f, "snapshot value out of range: {v}"),
            RestoreError::Range(v) => {
                write!(
                    f,
                    "snapshot value out of range: {}[{}] (f32 bits {:08x})",
                    v.field,
                    v.index,
                    v.value.to_bits()
                )
            }
        }
    }
}

impl From<ConfigError> for RestoreError {
    fn from(e: ConfigError) -> Self {
        RestoreError::Config(e)
    }
}

impl From<RangeViolation> for RestoreError {
    fn from(v: RangeViolation) -> Self {
        RestoreError::Range(v)
    }
}

/// Little-endian writer into a byte slice; never panics (a write past the
/// end is dropped and remembered).
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    ok: bool,
}

impl Writer<'_> {
    pub(crate) fn bytes<const M: usize>(&mut self, b: [u8; M]) {
        match self
            .buf
            .get_mut(self.pos..)
            .and_then(|t| t.first_chunk_mut::<M>())
        {
            Some(dst) => *dst = b,
            None => self.ok = false,
        }
        self.pos = self.pos.saturating_add(M);
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes([v]);
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(v.to_le_bytes());
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(v.to_le_bytes());
    }
    /// Two `u32`, low word first (32-bit operations only).
    pub(crate) fn u64(&mut self, v: u64) {
        self.u32(v as u32);
        self.u32((v >> 32) as u32);
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.u32(v.to_bits());
    }
    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    pub(crate) fn lesions(&mut self, l: Lesions) {
        self.u8(l.bits());
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn num<N: SnapshotNum>(&mut self, v: N) {
        let w = v.to_wire();
        if N::BYTES == 2 {
            self.u16(w as u16);
        } else {
            self.u32(w);
        }
    }
    pub(crate) fn rng(&mut self, r: &Rng) {
        for w in r.state() {
            self.u32(w);
        }
    }
}

/// Little-endian reader from a byte slice; never panics (a read past the
/// end gives 0 and is remembered).
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    ok: bool,
}

impl Reader<'_> {
    pub(crate) fn bytes<const M: usize>(&mut self) -> [u8; M] {
        let b = match self.buf.get(self.pos..).and_then(|t| t.first_chunk::<M>()) {
            Some(src) => *src,
            None => {
                self.ok = false;
                [0; M]
            }
        };
        self.pos = self.pos.saturating_add(M);
        b
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u8(&mut self) -> u8 {
        let [b] = self.bytes::<1>();
        b
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    /// Two `u32`, low word first.
    pub(crate) fn u64(&mut self) -> u64 {
        let lo = self.u32() as u64;
        lo | (self.u32() as u64) << 32
    }
    pub(crate) fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }
    /// A byte that must be 0 or 1; `bad` is set otherwise.
    pub(crate) fn bool(&mut self, bad: &mut Option<&'static str>, field: &'static str) -> bool {
        let b = self.u8();
        if b > 1 && bad.is_none() {
            *bad = Some(field);
        }
        b == 1
    }
    pub(crate) fn lesions(
        &mut self,
        bad: &mut Option<&'static str>,
        field: &'static str,
    ) -> Lesions {
        let (lesions, known) = Lesions::from_bits(self.u8());
        if !known && bad.is_none() {
            *bad = Some(field);
        }
        lesions
    }
    // Out of line: the state table calls these once per variable, and
    // inlined they made its reader and writer tens of KB of flash.
    #[inline(never)]
    pub(crate) fn num<N: SnapshotNum>(&mut self) -> N {
        if N::BYTES == 2 {
            N::from_wire(self.u16() as u32)
        } else {
            N::from_wire(self.u32())
        }
    }
    pub(crate) fn state(&mut self) -> [u32; 4] {
        [self.u32(), self.u32(), self.u32(), self.u32()]
    }
}

impl<N: SnapshotNum, const S: usize, const C: usize, const K: usize, const A: usize>
    Agent<N, S, C, K, A>
{
    /// The exact size of this agent type's snapshot, in bytes.
    pub const SNAPSHOT_LEN: usize = snapshot_len(S, C, K, A, N::BYTES);

    /// The header this agent type writes (and expects).
    fn header() -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let mut w = Writer {
            buf: &mut h,
            pos: 0,
            ok: true,
        };
        w.bytes(SNAPSHOT_MAGIC);
        w.u16(SNAPSHOT_VERSION);
        w.u8(N::TAG);
        w.u8(N::BYTES as u8);
        for n in [S, C, K, A] {
            w.u16(n as u16);
        }
        h
    }

    /// Writes the complete state into `buf` (see the [module](self) for the
    /// format); returns the bytes written, [`Agent::SNAPSHOT_LEN`]. Bytes of
    /// `buf` past that are left as they were.
    pub fn snapshot(&self, buf: &mut [u8]) -> Result<usize, SnapshotError> {
        let len = Self::SNAPSHOT_LEN;
        let Some(out) = buf.get_mut(..len) else {
            return Err(SnapshotError::BufferTooSmall {
                needed: len,
                found: buf.len(),
            });
        };
        let mut w = Writer {
            buf: out,
            pos: 0,
            ok: true,
        };
        w.bytes(Self::header());
        crate::config::write_wire(&mut w, &self.config);
        w.u64(self.seed);
        self.write_state(&mut w);
        let body = w.pos;
        let ok = w.ok;
        let crc = crc32(out.get(..body).unwrap_or(&[]));
        let mut w = Writer {
            buf: out,
            pos: body,
            ok,
        };
        w.u32(crc);
        if !w.ok || w.pos != len {
            // Unreachable while `snapshot_len` matches the writer (a test checks it).
            return Err(SnapshotError::BufferTooSmall {
                needed: w.pos,
                found: len,
            });
        }
        Ok(len)
    }

    /// An agent from a snapshot written by [`Agent::snapshot`] of the same
    /// agent type, or why it cannot be one. Never panics; never yields an
    /// agent the step could not have produced (see the [module](self)).
    pub fn restore(bytes: &[u8]) -> Result<Self, RestoreError> {
        let mut agent = Self::blank();
        agent.restore_in_place(bytes)?;
        Ok(agent)
    }

    /// [`Agent::restore`] into an existing agent, without a second agent on
    /// the stack (for small boards).
    ///
    /// On an error in the format, the checksum or the config, `self` is
    /// unchanged. On a value error (only a checksum-consistent snapshot from
    /// another writer can have one), `self` is a fresh agent of the
    /// snapshot's config and seed, as [`Agent::new`] builds it.
    pub fn restore_in_place(&mut self, bytes: &[u8]) -> Result<(), RestoreError> {
        let len = Self::SNAPSHOT_LEN;
        let Some(head) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(RestoreError::Truncated {
                expected: HEADER_LEN,
                found: bytes.len(),
            });
        };
        let mut r = Reader {
            buf: head,
            pos: 0,
            ok: true,
        };
        if r.bytes::<4>() != SNAPSHOT_MAGIC {
            return Err(RestoreError::BadMagic);
        }
        let version = r.u16();
        if version != SNAPSHOT_VERSION {
            return Err(RestoreError::UnsupportedVersion { found: version });
        }
        let tag = r.u8();
        let width = r.u8();
        if tag != N::TAG || width as usize != N::BYTES {
            return Err(RestoreError::NumberType {
                expected: N::TAG,
                found: tag,
            });
        }
        let found = [r.u16(), r.u16(), r.u16(), r.u16()];
        let expected = [S as u16, C as u16, K as u16, A as u16];
        if found != expected {
            return Err(RestoreError::Sizes { expected, found });
        }
        if bytes.len() < len {
            return Err(RestoreError::Truncated {
                expected: len,
                found: bytes.len(),
            });
        }
        if bytes.len() > len {
            return Err(RestoreError::Excess {
                expected: len,
                found: bytes.len(),
            });
        }
        let body = len - CRC_LEN;
        let computed = crc32(bytes.get(..body).unwrap_or(&[]));
        let mut r = Reader {
            buf: bytes,
            pos: body,
            ok: true,
        };
        let stored = r.u32();
        if stored != computed {
            return Err(RestoreError::Checksum { stored, computed });
        }

        let mut r = Reader {
            buf: bytes,
            pos: HEADER_LEN,
            ok: true,
        };
        let mut bad: Option<&'static str> = None;
        let config = crate::config::read_wire(&mut r, &mut bad);
        if let Some(field) = bad {
            return Err(RestoreError::Invalid { field });
        }
        let seed = r.u64();
        // Validates sizes and config exactly as `Agent::new`, and rebuilds
        // the constants; `self` is unchanged on an error.
        self.reset(config, seed)?;
        self.decode(&mut r, &mut bad);
        let result = match bad {
            _ if !r.ok || r.pos != body => Err(RestoreError::Truncated {
                expected: len,
                found: bytes.len(),
            }),
            Some(field) => Err(RestoreError::Invalid { field }),
            None => self.check_ranges().map_err(RestoreError::Range),
        };
        if result.is_err() {
            // Never leave a half-restored agent behind.
            let _ = self.reset(config, seed);
        }
        result
    }

    /// Reads the state after the config and seed (the reader checks
    /// bounds), and derives what the snapshot does not hold.
    fn decode(&mut self, r: &mut Reader<'_>, bad: &mut Option<&'static str>) {
        self.read_state(r, bad);
        self.thalamus.recount_leaking(self.p.m_still);
        self.thalamus.recheck_w_rec();
        self.striatum.recount_elig_rows();
    }
}
