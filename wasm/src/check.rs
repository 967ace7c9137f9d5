//! Checking what JavaScript passes in.
//!
//! JavaScript can pass anything: `NaN`, infinities, fractions where a count
//! is meant, arrays of the wrong length or of strings. Every check here runs
//! before any state changes and returns a [`JsError`] whose message names the
//! argument, what it was and what it must be; the generated bindings throw it
//! as a JavaScript `Error`.

use js_sys::{Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use tcbg::{Fx, Num, DEFAULT_S};
use wasm_bindgen::prelude::wasm_bindgen;
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
/// [`DEFAULT_S`] numbers, each finite and within `[-1, 1]`. An `Array`'s
/// elements are read with `Reflect.get`, so a getter or proxy trap that throws
/// is an error naming `obs`, not an exception through the wasm.
pub fn observation(obs: &JsValue) -> Result<[Fx; DEFAULT_S], JsError> {
    let typed = tcbg_typed_array_name(obs);
    let values: Vec<JsValue> =
        if typed == "Float32Array" || typed == "Float64Array" {
            length(tcbg_typed_array_length(obs))?;
            // A real typed array: its elements are read without running any code.
            (0..DEFAULT_S as u32)
                .map(|j| get("obs", obs, &j.into()))
                .collect::<Result<_, _>>()?
        } else if obs.is_object()
            && tcbg_is_array(obs)
                .map_err(|e| JsError::new(&format!("obs: Array.isArray threw: {}", describe(&e))))?
        {
            let n = get("obs.length", obs, &"length".into())?;
            length(n.as_f64().map_or(u32::MAX, |n| n as u32))?;
            (0..DEFAULT_S as u32)
                .map(|j| get(&format!("obs[{j}]"), obs, &j.into()))
                .collect::<Result<_, _>>()?
        } else {
            return Err(JsError::new(&format!(
            "obs must be an Array, Float32Array or Float64Array of {DEFAULT_S} numbers, got a {}",
            if typed.is_empty() { type_name(obs) } else { typed }
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
    if tcbg_typed_array_name(v) == "Uint8Array" {
        // A real Uint8Array (proxies and forgeries have no name): copied
        // without running any code.
        Ok(v.unchecked_ref::<Uint8Array>().to_vec())
    } else {
        Err(JsError::new(&format!(
            "{name} must be a Uint8Array, got a {}",
            type_name(v)
        )))
    }
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
    } else if v.is_object() && tcbg_is_array(v).unwrap_or(false) {
        "array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}

// ---- Hostile callers -------------------------------------------------------
//
// The generated glue converts a Rust `f64` parameter with JavaScript's
// `ToNumber` (which calls a `valueOf` the caller wrote, after the glue has
// read the object's pointer) and a `&str` parameter by encoding whatever it
// is given (a number traps). So the exported methods take `&JsValue` and
// convert here: `as_f64`, `as_string` and `as_bool` look at the type only and
// run no JavaScript; everything that may run the caller's code (a getter, a
// proxy trap) goes through an import marked `catch`, so a throw becomes an
// `Err` and the borrow the glue holds is released normally.
//
// Out of reach from here, in the generated JavaScript and its Rust shims:
// a forged `this` whose pointer lies outside the wasm memory traps before
// any of this code runs, and `free()` on a forged object hands the forged
// pointer to the glue's release (aimed at an object it frees it, the
// allocator then traps; a few bytes in, the object's borrow flag or key
// breaks and it refuses every call). A `free()` from a getter during a call
// on the same object is refused by the glue after it has cleared the
// object's pointer (the object is unusable from then on). The guard over the
// bindings, `wasm/js/tcbg.js` (the module the page imports), stops all three:
// its classes hold the generated object in a private field, refuse a `this`
// that is not a live one of theirs, or in use by a call, with an `Error`
// naming `this`, and never hand out the pointer. The checks here remain for
// callers of the generated bindings themselves.

#[wasm_bindgen(inline_js = r#"
const tag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const len = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype), "length").get;
export function tcbg_typed_array_name(v) { return tag.call(v) ?? ""; }
export function tcbg_typed_array_length(v) { return len.call(v); }
export function tcbg_is_array(v) { return Array.isArray(v); }
"#)]
extern "C" {
    /// The name of a real typed array (`"Float32Array"`, …), `""` for
    /// anything else (proxies too); runs no code of the caller.
    fn tcbg_typed_array_name(v: &JsValue) -> String;
    /// The length of a real typed array (its internal length, no getter).
    fn tcbg_typed_array_length(v: &JsValue) -> u32;
    /// `Array.isArray`; throws for a revoked proxy.
    #[wasm_bindgen(catch)]
    fn tcbg_is_array(v: &JsValue) -> Result<bool, JsValue>;
}

thread_local! {
    static LIVE: RefCell<BTreeMap<u64, &'static str>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(0) };
}

/// The registry holds keys scrambled by this, so the raw keys are not in
/// memory but in the objects.
const SCRAMBLE: u64 = 0x5DEE_CE66_D1CE_4E5B;

/// A new key for a live object of type `what`: distinct, and not a small
/// number that memory chosen by a forger is likely to hold.
pub fn new_key(what: &'static str) -> u64 {
    let n = NEXT.with(|c| {
        let n = c.get().wrapping_add(1);
        c.set(n);
        n
    });
    // splitmix64 of the counter, odd so it is never 0.
    let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let key = (z ^ (z >> 31)) | 1;
    LIVE.with(|l| l.borrow_mut().insert(key ^ SCRAMBLE, what));
    key
}

/// The object with `key` has been dropped.
pub fn drop_key(key: u64) {
    LIVE.with(|l| l.borrow_mut().remove(&(key ^ SCRAMBLE)));
}

/// Refuses `this` unless it is a live object made by this module (not one
/// made with `Object.create(Agent.prototype)` and a forged pointer).
/// The type is part of the check: an `Agent` method called on a `Session`
/// is refused.
pub fn live(what: &str, key: u64) -> Result<(), JsError> {
    if LIVE.with(|l| l.borrow().get(&(key ^ SCRAMBLE)) == Some(&what)) {
        Ok(())
    } else {
        Err(JsError::new(&format!(
            "this is not a live {what} (freed, or not made by new {what})"
        )))
    }
}

/// A JavaScript number (`typeof` is `"number"`; no `valueOf` is called).
pub fn number(name: &str, v: &JsValue) -> Result<f64, JsError> {
    v.as_f64()
        .ok_or_else(|| JsError::new(&format!("{name} must be a number, got a {}", type_name(v))))
}

/// A JavaScript string (not a `String` object, nothing converted).
pub fn string(name: &str, v: &JsValue) -> Result<String, JsError> {
    v.as_string()
        .ok_or_else(|| JsError::new(&format!("{name} must be a string, got a {}", type_name(v))))
}

/// `Reflect.get(v, key)`, a throw of the caller's getter as an error naming `name`.
fn get(name: &str, v: &JsValue, key: &JsValue) -> Result<JsValue, JsError> {
    Reflect::get(v, key)
        .map_err(|e| JsError::new(&format!("{name}: reading it threw: {}", describe(&e))))
}

/// A short description of a thrown value (its message when an `Error`).
fn describe(e: &JsValue) -> String {
    if let Some(e) = e.dyn_ref::<js_sys::Error>() {
        String::from(e.message())
    } else if let Some(s) = e.as_string() {
        s
    } else {
        format!("a {}", type_name(e))
    }
}
