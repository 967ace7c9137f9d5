//! [`Session`]: a task run on an [`Agent`] many steps per call, with the
//! readouts and histories the demo draws, so JavaScript does not loop per step.

use crate::agent::Agent;
use crate::check;
use std::collections::VecDeque;
use tcbg::tasks::{observation, Schedule, Task, TaskKind};
use tcbg::{Fx, Num};
use wasm_bindgen::prelude::*;

/// Steps of dopamine and value history kept for the plots.
pub const HISTORY: usize = 300;
/// Trials the accuracy readout averages over.
pub const ACCURACY_WINDOW: usize = 20;
/// Most steps one [`Session::run`] call takes.
pub const MAX_STEPS_PER_RUN: u32 = 100_000;
/// Longest delay of the delayed-reward task.
pub const MAX_DELAY: u8 = 20;

/// Outcome bits of [`Session::outcomes`].
const CORRECT: u8 = 1;
const REWARDED: u8 = 2;
/// [`Session::trial_contexts`] of a trial run with the `no_thalamus` lesion
/// on (one shared context, no control function in force).
pub const NO_THALAMUS: u8 = 255;

/// A task in progress on an agent: `new Session(task, delay, seed)`, then
/// `session.run(agent, steps)` each frame.
#[wasm_bindgen]
pub struct Session {
    /// Its key among the live objects (`check::live`).
    key: u64,
    task: Task,
    /// Reward for the previous action, passed with the next step.
    reward: Fx,
    switch_requested: bool,
    /// One entry per finished trial: [`CORRECT`] | [`REWARDED`].
    outcomes: Vec<u8>,
    /// First trial of each block seen so far, and its rule.
    block_starts: Vec<u32>,
    block_rules: Vec<u8>,
    /// Rule of the trial in progress (its cue step has been shown).
    trial_rule: u8,
    /// The block of the last entry of `block_starts`.
    recorded_block: Option<u8>,
    /// Per finished trial, the control function in force at its choice
    /// ([`NO_THALAMUS`] under that lesion).
    contexts: Vec<u8>,
    /// Input lines of the trial in progress at its first step.
    trial_lines: u16,
    /// delayed-reward: the action and context of the choice, taken on the
    /// cue step and scored when the delay has passed.
    choice: (u8, u8),
    /// The last finished trial: cue lines, action, correct action, reward, context.
    last: Option<[u32; 5]>,
    dopamine: VecDeque<f32>,
    value: VecDeque<f32>,
}

impl Drop for Session {
    fn drop(&mut self) {
        check::drop_key(self.key);
    }
}

/// The JavaScript API: every argument a `JsValue` checked in Rust
/// (`check.rs`), `this` checked to be a live session, each refusal an `Error`
/// naming the argument. The Rust methods of the same names below take Rust
/// types (for tests).
#[wasm_bindgen]
impl Session {
    /// `new Session(task, delay, seed)`.
    #[wasm_bindgen(constructor)]
    pub fn js_new(task: &JsValue, delay: &JsValue, seed: &JsValue) -> Result<Session, JsError> {
        let task = check::string("task", task)?;
        let delay = check::number("delay", delay)?;
        Self::new(&task, delay, check::number("seed", seed)?)
    }

    /// `Session.task_names()`.
    #[wasm_bindgen(js_name = task_names)]
    pub fn js_task_names() -> Vec<String> {
        Self::task_names()
    }

    /// `session.run(agent, steps)`: `agent` is asked to lend itself (a
    /// freed, forged or busy agent, or anything else, is refused naming it).
    #[wasm_bindgen(js_name = run)]
    pub fn js_run(&mut self, agent: &JsValue, steps: &JsValue) -> Result<u32, JsError> {
        check::live("Session", self.key)?;
        let steps = check::number("steps", steps)?;
        check::integer("steps", steps, 0.0, MAX_STEPS_PER_RUN as f64)?;
        // SAFETY: `run_core` runs no JavaScript.
        let agent = unsafe { crate::agent::borrow_js(agent)? };
        self.run_core(agent, steps)
    }

    /// `session.request_switch()`.
    #[wasm_bindgen(js_name = request_switch)]
    pub fn js_request_switch(&mut self) -> Result<(), JsError> {
        check::live("Session", self.key)?;
        self.request_switch();
        Ok(())
    }
}

macro_rules! getters {
    ($($js:ident => $name:ident: $t:ty;)*) => {
        #[wasm_bindgen]
        impl Session {
            $(
                #[wasm_bindgen(js_name = $name)]
                pub fn $js(&self) -> Result<$t, JsError> {
                    check::live("Session", self.key)?;
                    Ok(self.$name())
                }
            )*
        }
    };
}

getters! {
    js_switch_pending => switch_pending: bool;
    js_task_name => task_name: String;
    js_done => done: bool;
    js_block => block: u32;
    js_actions => actions: u32;
    js_blocks => blocks: u32;
    js_planned_trials => planned_trials: u32;
    js_rule => rule: u32;
    js_trials => trials: u32;
    js_accuracy => accuracy: Option<f64>;
    js_outcomes => outcomes: Vec<u8>;
    js_block_starts => block_starts: Vec<u32>;
    js_block_rules => block_rules: Vec<u8>;
    js_trial_contexts => trial_contexts: Vec<u8>;
    js_last_trial => last_trial: Vec<u32>;
    js_trial_in_block => trial_in_block: u32;
    js_block_length => block_length: u32;
    js_dopamine_history => dopamine_history: Vec<f32>;
    js_value_history => value_history: Vec<f32>;
}

/// The same methods with Rust types (the checks of values are the same).
impl Session {
    /// A task by name (see [`Session::task_names`]) with its own seed;
    /// `delay` (0 to 20 blank steps) is for `delayed-reward` and
    /// `delayed-response` and must be 0 for the other tasks.
    pub fn new(task: &str, delay: f64, seed: f64) -> Result<Session, JsError> {
        let delay = check::integer("delay", delay, 0.0, MAX_DELAY as f64)? as u8;
        let seed = check::seed(seed)?;
        let kind = TaskKind::parse(task, delay).ok_or_else(|| {
            JsError::new(&format!(
                "unknown task `{task}`, must be one of {}",
                Self::task_names().join(", ")
            ))
        })?;
        let delayed = matches!(
            kind,
            TaskKind::DelayedReward { .. } | TaskKind::DelayedResponse { .. }
        );
        if delay != 0 && !delayed {
            return Err(JsError::new(&format!(
                "delay is {delay}, must be 0 for {task} (only delayed-reward and delayed-response have one)"
            )));
        }
        let task = Task::new(kind, Schedule::default(), seed);
        Ok(Session {
            key: check::new_key("Session"),
            trial_rule: task.rule(),
            task,
            reward: Fx::ZERO,
            switch_requested: false,
            outcomes: Vec::new(),
            block_starts: Vec::new(),
            block_rules: Vec::new(),
            recorded_block: None,
            contexts: Vec::new(),
            trial_lines: 0,
            choice: (0, 0),
            last: None,
            dopamine: VecDeque::with_capacity(HISTORY),
            value: VecDeque::with_capacity(HISTORY),
        })
    }

    /// The task names.
    pub fn task_names() -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let kinds = TaskKind::ALL.into_iter().chain(TaskKind::MULTI_RULE);
        for k in kinds.chain(TaskKind::SEQUENCE) {
            if !names.iter().any(|n| n == k.name()) {
                names.push(k.name().into());
            }
        }
        names
    }

    /// Runs up to `steps` steps (a whole number from 0 to 100000) of the task
    /// on `agent`; returns the steps taken (fewer when the task ends).
    pub fn run(&mut self, agent: &mut Agent, steps: f64) -> Result<u32, JsError> {
        agent.live()?;
        self.run_core(agent.core_mut(), steps)
    }

    fn run_core(&mut self, agent: &mut tcbg::DefaultAgent, steps: f64) -> Result<u32, JsError> {
        let steps = check::integer("steps", steps, 0.0, MAX_STEPS_PER_RUN as f64)? as u32;
        // The tasks offer 2 to 4 actions; the default agent has 4, so this holds.
        agent
            .set_action_count(self.task.kind().actions())
            .map_err(|e| JsError::new(&e.to_string()))?;
        let mut taken = 0;
        while taken < steps {
            if self.switch_requested {
                self.try_switch();
            }
            let Some(input) = self.task.next_input() else {
                break;
            };
            if input.trial_start {
                agent.mark_trial_start();
                self.trial_rule = self.task.rule();
                self.trial_lines = input.lines;
            }
            let action = agent.step(&observation(input.lines), self.reward);
            let context = if agent.lesions().no_thalamus {
                NO_THALAMUS
            } else {
                agent.active_context() as u8
            };
            let kind = self.task.kind();
            let delayed_reward = matches!(kind, TaskKind::DelayedReward { .. });
            if input.trial_start && delayed_reward {
                self.choice = (action as u8, context);
            }
            let (reward, outcome) = self.task.act(action);
            self.reward = if reward { Fx::ONE } else { Fx::ZERO };
            if let Some(o) = outcome {
                if self.recorded_block != Some(o.block) {
                    self.recorded_block = Some(o.block);
                    self.block_starts.push(self.outcomes.len() as u32);
                    self.block_rules.push(self.trial_rule);
                }
                self.outcomes.push(
                    if o.correct { CORRECT } else { 0 } | if o.reward { REWARDED } else { 0 },
                );
                let (action, context) = if delayed_reward {
                    self.choice
                } else {
                    (action as u8, context)
                };
                self.contexts.push(context);
                // The cue: the trial's first input (action-sequence: the
                // position where the trial ended).
                let cue = if kind == TaskKind::ActionSequence {
                    input.lines
                } else {
                    self.trial_lines
                };
                let rule = self.trial_rule as usize;
                let correct = match kind {
                    TaskKind::MultiRuleSwitch { .. } | TaskKind::ActionSequence => {
                        self.task.rule_action(rule, cue.trailing_zeros() as usize) as u8
                    }
                    // Two actions: the other one when wrong.
                    _ if o.correct => action,
                    _ => 1 - action.min(1),
                };
                self.last = Some([
                    cue as u32,
                    action as u32,
                    correct as u32,
                    o.reward as u32,
                    context as u32,
                ]);
            }
            push_capped(&mut self.dopamine, agent.dopamine().to_f32());
            push_capped(&mut self.value, agent.value().to_f32());
            taken += 1;
        }
        Ok(taken)
    }

    /// Asks for a manual rule or context switch: the current block ends at
    /// the next trial boundary (at once between trials).
    pub fn request_switch(&mut self) {
        self.switch_requested = true;
        self.try_switch();
    }

    /// Whether a requested switch waits for the end of a trial.
    pub fn switch_pending(&self) -> bool {
        self.switch_requested
    }

    /// The task's name.
    pub fn task_name(&self) -> String {
        self.task.kind().name().into()
    }

    /// Whether every trial has been run.
    pub fn done(&self) -> bool {
        self.task.is_done()
    }

    /// The current block (0-based).
    pub fn block(&self) -> u32 {
        self.task.block() as u32
    }

    /// The actions the task offers (2, or 2 to 4 for `multi-rule-switch`).
    pub fn actions(&self) -> u32 {
        self.task.kind().actions() as u32
    }

    /// The blocks of the task.
    pub fn blocks(&self) -> u32 {
        self.task.kind().blocks() as u32
    }

    /// Trials of the whole task when no block is cut short by a manual switch.
    pub fn planned_trials(&self) -> u32 {
        let kind = self.task.kind();
        (0..kind.blocks()).map(|b| kind.block_len(b) as u32).sum()
    }

    /// The rule or context of the current block (hidden from the agent).
    pub fn rule(&self) -> u32 {
        self.task.rule() as u32
    }

    /// Trials finished.
    pub fn trials(&self) -> u32 {
        self.outcomes.len() as u32
    }

    /// Fraction of correct choices over the last 20 trials (fewer at the
    /// start); `undefined` before the first trial ends.
    pub fn accuracy(&self) -> Option<f64> {
        let recent = &self.outcomes[self.outcomes.len().saturating_sub(ACCURACY_WINDOW)..];
        if recent.is_empty() {
            return None;
        }
        let correct = recent.iter().filter(|&&o| o & CORRECT != 0).count();
        Some(correct as f64 / recent.len() as f64)
    }

    /// Every finished trial: bit 0 correct, bit 1 rewarded.
    pub fn outcomes(&self) -> Vec<u8> {
        self.outcomes.clone()
    }

    /// The first trial of each block that has finished a trial.
    pub fn block_starts(&self) -> Vec<u32> {
        self.block_starts.clone()
    }

    /// The rule or context of each block in [`Session::block_starts`].
    pub fn block_rules(&self) -> Vec<u8> {
        self.block_rules.clone()
    }

    /// The control function in force at each finished trial's choice (0 to
    /// 3), or 255 if the `no_thalamus` lesion was on.
    pub fn trial_contexts(&self) -> Vec<u8> {
        self.contexts.clone()
    }

    /// The last finished trial as `[cue lines, action, correct action,
    /// reward, context]` (cue lines: bit `j` for input line `j`; reward 0 or
    /// 1; context as in [`Session::trial_contexts`]); empty before the first.
    pub fn last_trial(&self) -> Vec<u32> {
        self.last.map_or_else(Vec::new, |l| l.to_vec())
    }

    /// Trials finished in the current block.
    pub fn trial_in_block(&self) -> u32 {
        self.task.trial_in_block() as u32
    }

    /// Trials of the current block at the default schedule (0 once the task is done).
    pub fn block_length(&self) -> u32 {
        if self.task.is_done() {
            return 0;
        }
        self.task
            .schedule()
            .block_len(self.task.kind(), self.task.block()) as u32
    }

    /// Dopamine of the last (up to) 300 steps, oldest first.
    pub fn dopamine_history(&self) -> Vec<f32> {
        self.dopamine.iter().copied().collect()
    }

    /// Value of the last (up to) 300 steps, oldest first.
    pub fn value_history(&self) -> Vec<f32> {
        self.value.iter().copied().collect()
    }
}

impl Session {
    /// Carries out a requested switch if the task is between trials.
    fn try_switch(&mut self) {
        let block = self.task.block();
        self.task.force_switch();
        if self.task.block() != block || self.task.is_done() {
            self.switch_requested = false;
        }
    }
}

fn push_capped(q: &mut VecDeque<f32>, v: f32) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}
