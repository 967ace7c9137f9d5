//! `bench_steps(steps, number)`: the reference trace run for timing
//! (`cargo xtask bench` calls it from node and from headless Chromium and
//! times it with `performance.now()`).

use wasm_bindgen::prelude::*;

use crate::check;

/// `bench_steps(steps, number)` from JavaScript: a number and a string
/// (see [`bench_steps`]).
#[wasm_bindgen(js_name = bench_steps)]
pub fn js_bench_steps(steps: &JsValue, number: &JsValue) -> Result<String, JsError> {
    let steps = check::number("steps", steps)?;
    bench_steps(steps, &check::string("number", number)?)
}

/// Runs [`tcbg::snapshot::trace`] for `steps` steps (1 to 10,000,000) of the
/// default agent over `number` (`"fixed"` or `"f32"`) and returns its hash as
/// 8 hex digits, equal to the host's `cargo xtask trace --steps N [--f32]`.
pub fn bench_steps(steps: f64, number: &str) -> Result<String, JsError> {
    let steps = check::integer("steps", steps, 1.0, 10_000_000.0)? as u32;
    let hash = match number {
        "fixed" => tcbg::snapshot::trace::<tcbg::Fx>(steps),
        "f32" => tcbg::snapshot::trace::<f32>(steps),
        other => {
            return Err(JsError::new(&format!(
                "number: `{other}` is neither \"fixed\" nor \"f32\""
            )))
        }
    };
    Ok(format!("{hash:08x}"))
}
