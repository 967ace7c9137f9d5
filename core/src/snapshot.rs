//! Comparing runs bit for bit: the trace hash.
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

use crate::agent::Agent;
use crate::config::Config;
use crate::fixed::Num;
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
    let mut agent = match Agent::<N, 8, 48, 4, 4>::new(Config::default(), TRACE_SEED) {
        Ok(a) => a,
        Err(_) => return 0,
    };
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
        let a = agent.step(&observation::<N, 8>(inp.lines), reward);
        h.add(a as u32);
        h.add(agent.dopamine().hash_bits());
        reward = if task.act(a).0 { N::ONE } else { N::ZERO };
    }
    h.0
}
