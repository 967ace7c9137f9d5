//! Checking what JavaScript passes in.
//!
//! JavaScript can pass anything: `NaN`, infinities, fractions where a count
//! is meant, arrays of the wrong length or of strings. Every check here runs
//! before any state changes and returns a [`JsError`] whose message names the
//! argument, what it was and what it must be; the generated bindings throw it
//! as a JavaScript `Error`.

use js_sys::{Array, Float32Array, Float64Array, Uint8Array};
use tcbg::{Fx, Num, DEFAULT_S};
use wasm_bindgen::{JsCast, JsError, JsValue};

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A whole number in `min..=max`.
pub fn integer(name: &str, v: f64, min: f64, max: f64) -> Result<f64, JsError> {
    if v.is_finite() && v.fract() == 0.0 && v >= min && v <= max {
        Ok(v)
    } else {
        Err(JsError::new(&format!(
            "{name} is {v}, must be a whole number from {min} to {max}"
        )))
    }
}

/// A seed: a whole number from 0 to `Number.MAX_SAFE_INTEGER`.
pub fn seed(v: f64) -> Result<u64, JsError> {
    integer("seed", v, 0.0, MAX_SAFE_INTEGER).map(|v| v as u64)
}

/// An index into something of length `len`.
pub fn index(name: &str, v: f64, len: usize) -> Result<usize, JsError> {
    integer(name, v, 0.0, len as f64 - 1.0).map(|v| v as usize)
}

/// A finite number within `[-1, 1]` (observation lines and rewards).
pub fn unit_range(name: &str, v: f64) -> Result<Fx, JsError> {
    if v.is_finite() && (-1.0..=1.0).contains(&v) {
        Ok(Fx::from_f32(v as f32))
    } else {
        Err(JsError::new(&format!(
            "{name} is {v}, must be a finite number from -1 to 1"
        )))
    }
}

/// A boolean (not a truthy or falsy value of another type).
pub fn boolean(name: &str, v: &JsValue) -> Result<bool, JsError> {
    v.as_bool().ok_or_else(|| {
        JsError::new(&format!(
            "{name} must be true or false, got a {}",
            type_name(v)
        ))
    })
}

/// An observation: an `Array`, `Float32Array` or `Float64Array` of
/// [`DEFAULT_S`] numbers, each finite and within `[-1, 1]`.
pub fn observation(obs: &JsValue) -> Result<[Fx; DEFAULT_S], JsError> {
    let values: Vec<JsValue> = if let Some(a) = obs.dyn_ref::<Float32Array>() {
        length(a.length())?;
        a.to_vec().into_iter().map(JsValue::from).collect()
    } else if let Some(a) = obs.dyn_ref::<Float64Array>() {
        length(a.length())?;
        a.to_vec().into_iter().map(JsValue::from).collect()
    } else if let Some(a) = obs.dyn_ref::<Array>() {
        length(a.length())?;
        a.iter().collect()
    } else {
        return Err(JsError::new(&format!(
            "obs must be an Array, Float32Array or Float64Array of {DEFAULT_S} numbers, got a {}",
            type_name(obs)
        )));
    };
    let mut out = [Fx::ZERO; DEFAULT_S];
    for (j, v) in values.iter().enumerate() {
        let x = v.as_f64().ok_or_else(|| {
            JsError::new(&format!(
                "obs[{j}] must be a number, got a {}",
                type_name(v)
            ))
        })?;
        out[j] = unit_range(&format!("obs[{j}]"), x)?;
    }
    Ok(out)
}

/// Bytes: a `Uint8Array` (no other array type, so nothing is converted).
pub fn bytes(name: &str, v: &JsValue) -> Result<Vec<u8>, JsError> {
    v.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| {
            JsError::new(&format!(
                "{name} must be a Uint8Array, got a {}",
                type_name(v)
            ))
        })
}

fn length(n: u32) -> Result<(), JsError> {
    if n as usize == DEFAULT_S {
        Ok(())
    } else {
        Err(JsError::new(&format!(
            "obs has {n} values, must have {DEFAULT_S}"
        )))
    }
}

/// `typeof v`, with `null` and arrays told apart, for messages.
fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}
