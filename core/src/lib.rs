//! # tcbg: a thalamocortical basal-ganglia learning loop
//!
//! A brain-inspired reinforcement learner small enough for a Cortex-M0 with
//! 16 KB of RAM, written once over a number type so the same source runs in
//! fixed point (the default, bit-identical on every target) and in `f32`
//! (the oracle it is checked against). `#![no_std]`, no allocation, no
//! `unsafe`.
//!
//! It builds the model of Wang & Halassa ("Thalamocortical contribution to
//! flexible learning in neural systems", Network Neuroscience 2022): cortex
//! computes `a = f_c(s)`; the thalamus supplies the control `c = g(s_≤t)`
//! by multiplying the gain of cortical connectivity; the basal ganglia select
//! actions *and* thalamic control functions by reinforcement learning on a
//! dopamine prediction error, and train those control functions slowly.
//!
//! ## A tour, one brain structure per module
//!
//! Read the modules in this order; each explains its names once.
//!
//! - [`fixed`]: the numbers, the ground floor. Q3.12 fixed point in `i16`,
//!   products in `i32`, round-to-nearest and saturation on every narrowing,
//!   stochastic rounding for small learning updates; no 64-bit multiply and
//!   no division on the step path. The trait [`fixed::Num`] is their
//!   arithmetic, and nothing else. Sparse passes read lists of the nonzero
//!   entries ([`fixed::Indices`], fixed-capacity, never zeroed to be filled).
//! - [`kernels`]: the model's inner loops (the dots of many rows, the
//!   thalamic read and Hebbian update, Oja's rule, the cortical rates,
//!   ...), each a plain reference function over any [`Num`] beside
//!   its fast fixed-point form, the two tested equal. The trait
//!   [`Kernels`] is what the model is written over: [`Fx`] takes the fast
//!   forms, `f32` the references. Kernels take arrays and scalars; they know
//!   none of the structures below, which all call them.
//! - [`rng`]: the seeded generator (xoshiro128++). Every random choice flows
//!   from the agent's seed, so a run is a pure function of config, seed and
//!   inputs.
//! - [`cortex`]: the rate network `a = f_c(s)`: afferent drive (balanced
//!   over the input lines met, so no unit answers every cue, and each new
//!   line decorrelated from the others within a control function's units,
//!   so two cues share few of its winners), thalamic
//!   *gain* (not drive), each unit's recurrence, which the thalamus
//!   amplifies through a delay (**working memory**), and slow,
//!   dopamine-free Hebbian plasticity gated by that gain; the striatum reads
//!   its rates normalised by their total. **Structural** credit stays local.
//! - [`thalamus`]: the control functions (gain masks over cortex), the
//!   winner-take-all that picks one, and two cortex-to-thalamus memories that
//!   recognise a context from its cues. **Contextual** credit.
//! - [`basal_ganglia`]: the Gurney-Prescott-Redgrave selection circuit (used
//!   for actions and for contexts, solved at its steady state), Go/NoGo
//!   corticostriatal learning (Go's potentiation soft-bounded below its
//!   rail), and the context channels' competence, surprise and *belief*:
//!   which stored control function is the rule in force, or a new rule,
//!   from each one's counterfactual prediction of every outcome and from the
//!   input patterns it has met; a function learns from an outcome as far as
//!   it *answers* for it (another does not explain it better). Their slow
//!   timescale,
//!   **learning to learn**: *in-place learning*, trained at every context
//!   switch and every recall of a stored control function, sets whether
//!   surprise holds plasticity for a switch or releases it (and doubles the
//!   learning rates) to learn in place, how much of cortex every control
//!   function shares, and how far the *outcome memory* (per input pattern,
//!   the last win's action and every action lost since: win-stay,
//!   lose-shift) counts; it transfers to
//!   contexts never seen. Beside it the memory's *reliability*, how often an
//!   action taken again brought what it brought last time, learned as slowly,
//!   lets the memory count where outcomes repeat (deterministic rules) and
//!   not where they are a draw (a bandit). The same record, learned faster
//!   and only from disappointments the model did not answer by leaving a
//!   function for good, is the *consistency* of outcomes: no function's
//!   prediction is surer, so one unlucky outcome of a noisy rule does not
//!   disprove it.
//! - [`dopamine`]: the critic, the TD error `δ = r + γV' − V` (limited to
//!   `±`[`dopamine::DOPAMINE_MAX`]), eligibility traces (**temporal**
//!   credit), and the aspiration, the running reward per trial against which
//!   the actor learns at a trial's end.
//! - [`agent`]: the loop that wires them together, one call per step.
//! - [`config`]: every constant, validated; lesions as switches.
//! - [`tasks`]: the task suite (rule switching, context cues, a reversal
//!   bandit, delayed reward, learning to learn, many rules over many
//!   actions, action sequences, delayed response), deterministic and `no_std`, with streaming metrics so a board
//!   can run them; every task, a task of your own included, is an
//!   [`tasks::Environment`] run by one runner, [`tasks::run`].
//! - [`snapshot`]: the trace hash used to compare targets bit for bit, and
//!   snapshots of the whole learned state.
//! - [`state`]: every persisted state variable, declared once with its
//!   shape, format and range (read by the snapshot and the range checks).
//!
//! ## Quick start
//!
//! ```
//! use tcbg::{tasks::{run, Task, TaskKind, Schedule}, Agent, Config, DefaultAgent};
//! let mut agent: DefaultAgent = Agent::new(Config::default(), 1).unwrap();
//! let mut task = Task::new(TaskKind::RuleSwitch, Schedule::default(), 1);
//! let report = run(&mut agent, &mut task, |_| {}).unwrap();
//! // 8 blocks of 50 trials; the loop learns each rule and switches back.
//! assert_eq!(report.blocks.len(), 8);
//! assert!(report.blocks.last().unwrap().last10_correct >= 7);
//! ```
//!
//! ## Lesions
//!
//! Each mechanism can be switched off through [`Lesions`] (in the config or
//! live with [`Agent::set_lesions`]): `no_thalamus`, `no_context_selection`,
//! `no_dopamine`, `no_traces`, `no_meta`, `no_amplification`.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Numeric loops index several same-length arrays at once (weights, traces,
// rates); an index reads more plainly there than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod agent;
pub mod basal_ganglia;
pub mod config;
pub mod cortex;
pub mod cost;
pub mod dopamine;
pub mod fixed;
pub mod kernels;
pub mod rng;
pub mod snapshot;
pub mod state;
pub mod tasks;
pub mod thalamus;

pub use agent::{Agent, Counters, RangeViolation, Selection};
pub use config::{Config, ConfigError, Lesions};
pub use fixed::{Fx, Num};
pub use kernels::Kernels;

/// Inputs of the default agent.
pub const DEFAULT_S: usize = 8;
/// Cortical units of the default agent (12 per control function).
pub const DEFAULT_C: usize = 48;
/// Thalamic control functions of the default agent.
pub const DEFAULT_K: usize = 4;
/// Actions of the default agent.
pub const DEFAULT_A: usize = 4;

/// The default agent: fixed point, 8 inputs, 48 cortical units, 4 control
/// functions, 4 actions.
pub type DefaultAgent = Agent<Fx, DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>;
/// The `f32` oracle of the default agent: the same code over `f32`.
pub type OracleAgent = Agent<f32, DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>;
