//! [`Agent`]: the fixed-point default agent, one call per step, and its views.

use crate::check;
use std::cell::Cell;
use tcbg::{Config, DefaultAgent, Lesions, Num, DEFAULT_A, DEFAULT_K};
use wasm_bindgen::prelude::*;

/// The thalamocortical basal-ganglia loop ([`tcbg::DefaultAgent`], fixed
/// point): 8 inputs, 48 cortical units, 4 control functions, 4 actions.
///
/// Views return copies as `Float32Array`s, in the units of the core
/// (Q3.12 values converted exactly to floats).
#[wasm_bindgen]
pub struct Agent {
    /// Its key among the live objects (`check::live`).
    key: u64,
    inner: DefaultAgent,
}

impl Drop for Agent {
    fn drop(&mut self) {
        check::drop_key(self.key);
    }
}

/// The JavaScript API: every argument a `JsValue` checked in Rust
/// (`check.rs`), `this` checked to be a live agent, each refusal an `Error`
/// naming the argument. The Rust methods of the same names below take Rust
/// types (for tests and [`crate::Session`]).
#[wasm_bindgen]
impl Agent {
    /// `new Agent(seed)`.
    #[wasm_bindgen(constructor)]
    pub fn js_new(seed: &JsValue) -> Result<Agent, JsError> {
        Self::new(check::number("seed", seed)?)
    }

    /// `Agent.with_config(json, seed)`.
    #[wasm_bindgen(js_name = with_config)]
    pub fn js_with_config(config_json: &JsValue, seed: &JsValue) -> Result<Agent, JsError> {
        let config_json = check::string("config", config_json)?;
        Self::with_config(&config_json, check::number("seed", seed)?)
    }

    /// `Agent.restore(bytes)`.
    #[wasm_bindgen(js_name = restore)]
    pub fn js_restore(bytes: &JsValue) -> Result<Agent, JsError> {
        Self::restore(bytes)
    }

    /// `Agent.lesion_names()`.
    #[wasm_bindgen(js_name = lesion_names)]
    pub fn js_lesion_names() -> Vec<String> {
        Self::lesion_names()
    }

    /// `agent.step(obs, reward)`.
    #[wasm_bindgen(js_name = step)]
    pub fn js_step(&mut self, obs: &JsValue, reward: &JsValue) -> Result<u32, JsError> {
        check::live("Agent", self.key)?;
        let reward = check::number("reward", reward)?;
        self.step(obs, reward)
    }

    /// `agent.mark_trial_start()`.
    #[wasm_bindgen(js_name = mark_trial_start)]
    pub fn js_mark_trial_start(&mut self) -> Result<(), JsError> {
        check::live("Agent", self.key)?;
        self.mark_trial_start();
        Ok(())
    }

    /// `agent.set_action_count(n)`.
    #[wasm_bindgen(js_name = set_action_count)]
    pub fn js_set_action_count(&mut self, n: &JsValue) -> Result<(), JsError> {
        check::live("Agent", self.key)?;
        self.set_action_count(check::number("action count", n)?)
    }

    /// `agent.set_lesion(name, on)`.
    #[wasm_bindgen(js_name = set_lesion)]
    pub fn js_set_lesion(&mut self, name: &JsValue, on: &JsValue) -> Result<(), JsError> {
        check::live("Agent", self.key)?;
        let name = check::string("lesion name", name)?;
        self.set_lesion(&name, on)
    }

    /// `agent.lesion(name)`.
    #[wasm_bindgen(js_name = lesion)]
    pub fn js_lesion(&self, name: &JsValue) -> Result<bool, JsError> {
        check::live("Agent", self.key)?;
        self.lesion(&check::string("lesion name", name)?)
    }

    /// `agent.control_function(k)`.
    #[wasm_bindgen(js_name = control_function)]
    pub fn js_control_function(&self, k: &JsValue) -> Result<Vec<f32>, JsError> {
        check::live("Agent", self.key)?;
        self.control_function(check::number("control function", k)?)
    }

    /// `agent.recognition_memory(k)`.
    #[wasm_bindgen(js_name = recognition_memory)]
    pub fn js_recognition_memory(&self, k: &JsValue) -> Result<Vec<f32>, JsError> {
        check::live("Agent", self.key)?;
        self.recognition_memory(check::number("control function", k)?)
    }

    /// Lends this agent to the [`crate::Session::run`] in progress (which
    /// calls it through JavaScript, so the glue checks the borrow).
    #[wasm_bindgen(js_name = __tcbg_lend)]
    pub fn js_lend(&mut self) -> Result<(), JsError> {
        check::live("Agent", self.key)?;
        LENT.with(|l| l.set(Some((&mut self.inner as *mut DefaultAgent, self.key))));
        Ok(())
    }
}

thread_local! {
    /// The agent the last [`Agent::js_lend`] lent, and its key.
    static LENT: Cell<Option<(*mut DefaultAgent, u64)>> = const { Cell::new(None) };
}

/// The agent behind the JavaScript value `agent`, for [`crate::Session`]'s
/// `run`: asks it to lend itself through the glue (so a freed, borrowed or
/// forged agent is refused there or by its key) and returns it.
///
/// # Safety
/// The caller must run no JavaScript while it holds the result.
pub(crate) unsafe fn borrow_js<'a>(agent: &JsValue) -> Result<&'a mut DefaultAgent, JsError> {
    let not_an_agent = || JsError::new("agent must be an Agent (made by new Agent, not freed)");
    if !agent.is_object() {
        return Err(not_an_agent());
    }
    let lend = js_sys::Reflect::get(agent, &"__tcbg_lend".into()).map_err(|_| not_an_agent())?;
    if !lend.is_function() {
        return Err(not_an_agent());
    }
    LENT.with(|l| l.set(None));
    let called = js_sys::Reflect::apply(
        lend.unchecked_ref::<js_sys::Function>(),
        agent,
        &js_sys::Array::new(),
    );
    let lent = LENT.with(|l| l.take());
    match (called, lent) {
        (Ok(_), Some((ptr, key))) if check::live("Agent", key).is_ok() => {
            // SAFETY: the key is live, so the agent at `ptr` has not been
            // dropped since it lent itself, and no JavaScript has run since
            // the glue released its borrow.
            Ok(unsafe { &mut *ptr })
        }
        (Err(e), _) => Err(JsError::new(&format!(
            "agent must be a live Agent not in use: {}",
            js_message(&e)
        ))),
        _ => Err(not_an_agent()),
    }
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "it threw".into())
}

macro_rules! getters {
    ($($js:ident => $name:ident: $t:ty;)*) => {
        #[wasm_bindgen]
        impl Agent {
            $(
                #[wasm_bindgen(js_name = $name)]
                pub fn $js(&self) -> Result<$t, JsError> {
                    check::live("Agent", self.key)?;
                    Ok(self.$name())
                }
            )*
        }
    };
}

getters! {
    js_snapshot => snapshot: Vec<u8>;
    js_config_json => config_json: String;
    js_seed => seed: f64;
    js_steps => steps: u32;
    js_switches => switches: u32;
    js_cortical_rates => cortical_rates: Vec<f32>;
    js_cortical_gains => cortical_gains: Vec<f32>;
    js_thalamic_activity => thalamic_activity: Vec<f32>;
    js_active_context => active_context: u32;
    js_dopamine => dopamine: f32;
    js_value => value: f32;
    js_action_salience => action_salience: Vec<f32>;
    js_action_gpi => action_gpi: Vec<f32>;
    js_selected_action => selected_action: u32;
    js_context_salience => context_salience: Vec<f32>;
    js_context_gpi => context_gpi: Vec<f32>;
    js_context_competence => context_competence: Vec<f32>;
    js_contexts_used => contexts_used: u32;
}

/// The same methods with Rust types (the checks of values are the same).
impl Agent {
    /// `new Agent(seed)`: the default config; every random choice flows from
    /// `seed`, a whole number from 0 to `Number.MAX_SAFE_INTEGER`.
    pub fn new(seed: f64) -> Result<Agent, JsError> {
        Self::build(Config::default(), check::seed(seed)?)
    }

    /// `Agent.with_config(json, seed)`: a config as written by
    /// [`Agent::config_json`]; refused with the field's name if a value is
    /// missing or out of range.
    pub fn with_config(config_json: &str, seed: f64) -> Result<Agent, JsError> {
        let config: Config =
            serde_json::from_str(config_json).map_err(|e| JsError::new(&format!("config: {e}")))?;
        Self::build(config, check::seed(seed)?)
    }

    /// `agent.snapshot()`: the complete state as the core's snapshot bytes
    /// ([`tcbg::Agent::snapshot`], [`DefaultAgent::SNAPSHOT_LEN`] bytes, a
    /// `Uint8Array`). [`Agent::restore`] rebuilds an agent that continues bit
    /// for bit as this one would, here or on any other target.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut buf = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
        // The buffer has exactly the length the snapshot needs: it cannot fail.
        let n = self.inner.snapshot(&mut buf).unwrap_or(0);
        buf.truncate(n);
        buf
    }

    /// `Agent.restore(bytes)`: the agent a [`Agent::snapshot`] holds. `bytes`
    /// must be a `Uint8Array`; anything the core refuses (truncated, corrupted,
    /// another version, out-of-range state) throws an `Error` with the core's
    /// reason ([`tcbg::snapshot::RestoreError`]).
    pub fn restore(bytes: &JsValue) -> Result<Agent, JsError> {
        let bytes = check::bytes("snapshot", bytes)?;
        DefaultAgent::restore(&bytes)
            .map(|inner| Agent {
                key: check::new_key("Agent"),
                inner,
            })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The config the agent was built with, as JSON (lesions as at start).
    pub fn config_json(&self) -> String {
        // A config of plain numbers and booleans always serialises.
        serde_json::to_string(self.inner.config()).unwrap_or_default()
    }

    /// The seed.
    pub fn seed(&self) -> f64 {
        self.inner.seed() as f64
    }

    /// One time step: the observation (8 numbers within -1 to 1, as an
    /// `Array`, `Float32Array` or `Float64Array`) and the reward (-1 to 1)
    /// for the previous action. Returns the action.
    pub fn step(&mut self, obs: &JsValue, reward: f64) -> Result<u32, JsError> {
        let obs = check::observation(obs)?;
        let reward = check::unit_range("reward", reward)?;
        Ok(self.inner.step(&obs, reward) as u32)
    }

    /// Marks a trial boundary: traces are cleared after the next step learns.
    pub fn mark_trial_start(&mut self) {
        self.inner.mark_trial_start();
    }

    /// Restricts the actions to `0..n`, `n` from 1 to 4.
    pub fn set_action_count(&mut self, n: f64) -> Result<(), JsError> {
        let n = check::integer("action count", n, 1.0, DEFAULT_A as f64)?;
        self.inner
            .set_action_count(n as usize)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The lesion names, for building controls.
    pub fn lesion_names() -> Vec<String> {
        Lesions::NAMES.iter().map(|s| s.to_string()).collect()
    }

    /// Switches lesion `name` (one of [`Agent::lesion_names`]) on or off,
    /// effective from the next step.
    pub fn set_lesion(&mut self, name: &str, on: &JsValue) -> Result<(), JsError> {
        let on = check::boolean("on", on)?;
        let mut lesions = self.inner.lesions();
        *lesion_field(&mut lesions, name)? = on;
        self.inner.set_lesions(lesions);
        Ok(())
    }

    /// Whether lesion `name` is on.
    pub fn lesion(&self, name: &str) -> Result<bool, JsError> {
        let mut lesions = self.inner.lesions();
        Ok(*lesion_field(&mut lesions, name)?)
    }

    /// Steps taken.
    pub fn steps(&self) -> u32 {
        self.inner.counters().steps
    }

    /// Context switches so far.
    pub fn switches(&self) -> u32 {
        self.inner.counters().switches
    }

    /// Cortical rates, 48 values from 0 to 1.
    pub fn cortical_rates(&self) -> Vec<f32> {
        floats(self.inner.cortical_rates())
    }

    /// Thalamic gain of each cortical unit (the active control function
    /// under the lesions in force), 48 values from 0 to `gain_max`.
    pub fn cortical_gains(&self) -> Vec<f32> {
        floats(self.inner.cortical_gains())
    }

    /// Thalamic activity `h` of the 4 control functions.
    pub fn thalamic_activity(&self) -> Vec<f32> {
        floats(self.inner.thalamic_activity())
    }

    /// The gain mask of control function `k` (0 to 3) over the 48 cortical units.
    pub fn control_function(&self, k: f64) -> Result<Vec<f32>, JsError> {
        let k = check::index("control function", k, DEFAULT_K)?;
        Ok(floats(&self.inner.thalamus.g[k]))
    }

    /// The selected control function (0 to 3).
    pub fn active_context(&self) -> u32 {
        self.inner.active_context() as u32
    }

    /// Dopamine of the last step (the TD error).
    pub fn dopamine(&self) -> f32 {
        self.inner.dopamine().to_f32()
    }

    /// Value of the present state.
    pub fn value(&self) -> f32 {
        self.inner.value().to_f32()
    }

    /// Saliences of the 4 action channels.
    pub fn action_salience(&self) -> Vec<f32> {
        floats(&self.inner.actions.salience)
    }

    /// GPi outputs of the 4 action channels (low = selected).
    pub fn action_gpi(&self) -> Vec<f32> {
        floats(&self.inner.actions.gpi)
    }

    /// The selected action.
    pub fn selected_action(&self) -> u32 {
        self.inner.actions.selected as u32
    }

    /// Saliences of the 4 context channels.
    pub fn context_salience(&self) -> Vec<f32> {
        floats(&self.inner.context_channels.salience)
    }

    /// GPi outputs of the 4 context channels (low = selected).
    pub fn context_gpi(&self) -> Vec<f32> {
        floats(&self.inner.context_channels.gpi)
    }

    /// Competence (running reward rate) of each context channel.
    pub fn context_competence(&self) -> Vec<f32> {
        floats(&self.inner.contexts.competence)
    }

    /// The recognition memory `U` of control function `k` (0 to 3): the
    /// leaky union of the rewarded patterns it has held, 48 values from 0 to 1.
    pub fn recognition_memory(&self, k: f64) -> Result<Vec<f32>, JsError> {
        let k = check::index("control function", k, DEFAULT_K)?;
        Ok(floats(&self.inner.thalamus.u_rec()[k]))
    }

    /// The control functions used so far: bit `k` for control function `k`.
    pub fn contexts_used(&self) -> u32 {
        self.inner.thalamus.used as u32
    }
}

/// Rust-side access, for [`crate::Session`] and tests.
impl Agent {
    /// Refuses a forged or freed agent.
    pub(crate) fn live(&self) -> Result<(), JsError> {
        check::live("Agent", self.key)
    }

    fn build(config: Config, seed: u64) -> Result<Agent, JsError> {
        DefaultAgent::new(config, seed)
            .map(|inner| Agent {
                key: check::new_key("Agent"),
                inner,
            })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The wrapped core agent.
    pub fn core(&self) -> &DefaultAgent {
        &self.inner
    }

    /// The wrapped core agent, mutably.
    pub fn core_mut(&mut self) -> &mut DefaultAgent {
        &mut self.inner
    }
}

/// The switch of lesion `name` in `l`.
fn lesion_field<'a>(l: &'a mut Lesions, name: &str) -> Result<&'a mut bool, JsError> {
    Ok(match name {
        "no_thalamus" => &mut l.no_thalamus,
        "no_context_selection" => &mut l.no_context_selection,
        "no_dopamine" => &mut l.no_dopamine,
        "no_traces" => &mut l.no_traces,
        "no_meta" => &mut l.no_meta,
        "no_amplification" => &mut l.no_amplification,
        _ => {
            return Err(JsError::new(&format!(
                "unknown lesion `{name}`, must be one of {}",
                Lesions::NAMES.join(", ")
            )))
        }
    })
}

fn floats<N: Num>(v: &[N]) -> Vec<f32> {
    v.iter().map(|x| x.to_f32()).collect()
}
