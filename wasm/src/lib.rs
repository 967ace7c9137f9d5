//! # tcbg-wasm: the learning loop in the browser
//!
//! WebAssembly bindings of [`tcbg`] for the demo in `web/` (`cargo xtask
//! demo`). The same fixed-point agent as on the host and the boards, so a
//! run in the browser is bit-identical to one on the host ([`trace`]).
//!
//! - [`Agent`] wraps [`tcbg::DefaultAgent`]: `step(obs, reward)`, live
//!   lesions, and views of cortex, thalamus, basal ganglia and dopamine.
//! - [`Session`] runs a task of [`tcbg::tasks`] on an agent, many steps per
//!   call, and keeps the readouts the page draws (accuracy, block
//!   boundaries, dopamine and value histories).
//!
//! Every argument from JavaScript is checked before anything changes: a bad
//! one (NaN, an infinity, a fraction, a wrong length, an index out of range,
//! an unknown name) makes the call throw an `Error` naming it, and leaves
//! the agent and the session as they were. No call traps or panics.
//!
//! Against a hostile caller too (the second half of `check.rs`): the exported
//! functions take every argument as a `JsValue` and check its type in Rust
//! (so the glue runs no `valueOf` and encodes no non-string), read arrays
//! through catching `Reflect` calls (a throwing getter is an `Error`, not a
//! locked object), refuse a `this` that is not a live object of its class
//! (freed, made with `Object.create(Agent.prototype)`, another class), and
//! `Session.run` borrows its agent through the glue. The Rust methods of the
//! same names take Rust types.
//!
//! What the generated glue does before any Rust runs is covered by a guard,
//! `wasm/js/tcbg.js`, which the build copies next to the bindings
//! (`web/pkg/tcbg.js`): the module to import. Its `Agent` and `Session` hold
//! the generated object in a private field, which cannot be forged, so a
//! forged or wrong-class `this` (a raw pointer outside memory, or aimed at
//! another object for `free()`), a freed one, or an object used while a call
//! on it is in progress (a `free()` from a getter) throws an `Error` naming
//! `this` before the glue runs; the pointer and the wasm exports are never
//! handed out. `cargo xtask test` calls every method with every kind of
//! hostile value and mounts those attacks (`wasm/tests/hostile.js`).
//!
//! ```js
//! import init, { Agent, Session } from "./pkg/tcbg.js";
//! await init();
//! const agent = new Agent(1);
//! const session = new Session("rule-switch", 0, 1);
//! session.run(agent, 100);
//! console.log(agent.steps(), session.accuracy());
//! ```

mod agent;
mod bench;
mod check;
mod session;

pub use agent::Agent;
pub use bench::{bench_steps, js_bench_steps};
pub use session::Session;

use wasm_bindgen::prelude::*;

/// `trace(steps)` from JavaScript: `steps` must be a number (see [`trace`]).
#[wasm_bindgen(js_name = trace)]
pub fn js_trace(steps: &JsValue) -> Result<String, JsError> {
    trace(check::number("steps", steps)?)
}

/// `trace(steps)`: the reference trace hash ([`tcbg::snapshot::trace`]) of
/// the fixed-point agent as 8 hex digits, the same as `cargo xtask trace`
/// prints on the host for [`tcbg::snapshot::TRACE_STEPS`] steps.
pub fn trace(steps: f64) -> Result<String, JsError> {
    let steps = check::integer("steps", steps, 0.0, 1_000_000.0)? as u32;
    Ok(format!("{:08x}", tcbg::snapshot::trace::<tcbg::Fx>(steps)))
}

/// The steps of the reference trace ([`tcbg::snapshot::TRACE_STEPS`]).
#[wasm_bindgen]
pub fn trace_steps() -> u32 {
    tcbg::snapshot::TRACE_STEPS
}
