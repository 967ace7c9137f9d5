//! Host-side helpers shared by the integration tests and `cargo xtask`: run
//! a task on the fixed-point model or its `f32` oracle with a trial log
//! ([`run_one`], [`run_task`]), evaluate the suite over seeds in parallel
//! ([`evaluate`]), the ideal observer of the reversal bandit ([`bayes`]),
//! the thresholds the report checks ([`thresholds`]), and the report of
//! `cargo xtask eval` as text, Markdown and JSON ([`report`]) and SVG
//! learning curves ([`plots`]); what `cargo xtask bench` measures on the
//! host ([`bench`]).
//!
//! ```
//! use tcbg::{tasks::{Schedule, TaskKind}, Lesions};
//! use tcbg_tests::{run_one, Number};
//! let r = run_one(TaskKind::RuleSwitch, Number::Fixed, Lesions::NONE, Schedule::default(), 1);
//! assert!(r.metric("switch_cost").is_some());
//! assert_eq!(r.runs[0].trials.len(), 400);
//! ```

pub mod bayes;
pub mod bench;
pub mod eval;
pub mod plots;
pub mod report;
pub mod stats;
pub mod thresholds;

pub use bayes::{bayes_bandit_ideal, ideal_reward_rate, Observer};
pub use eval::{evaluate, Progress, ResultRow, Variant};
pub use stats::{percentile, Summary};
pub use thresholds::{Threshold, THRESHOLDS};

use tcbg::tasks::{run_observed, BlockStats, Scale, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, DefaultAgent, Fx, Kernels, Lesions, OracleAgent};

/// The number type of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Number {
    /// Q3.12 fixed point ([`tcbg::DefaultAgent`]), the model that ships.
    Fixed,
    /// The `f32` oracle ([`tcbg::OracleAgent`]).
    F32,
}

impl Number {
    /// Both, fixed point first.
    pub const BOTH: [Number; 2] = [Number::Fixed, Number::F32];
    /// `"fixed"` or `"f32"`.
    pub fn name(self) -> &'static str {
        match self {
            Number::Fixed => "fixed",
            Number::F32 => "f32",
        }
    }
    /// The number named `s` (`"fixed"` or `"f32"`).
    pub fn parse(s: &str) -> Option<Number> {
        match s {
            "fixed" | "fx" => Some(Number::Fixed),
            "f32" | "float" => Some(Number::F32),
            _ => None,
        }
    }
}

/// The seven task names of the suite, in report order.
pub const TASK_NAMES: [&str; 7] = [
    "rule-switch",
    "cued-rule-switch",
    "cue-context",
    "reversal-bandit",
    "delayed-reward",
    "serial-reversal",
    "new-rule-transfer",
];

/// The tasks of `cargo xtask eval`: the suite ([`TASK_NAMES`]), the public
/// points of `multi-rule-switch`, `cue-context` at the length of Rikhye
/// et al. 2018 (see [`eval::Spec`]), and the tasks of issue 18,
/// `action-sequence` and `delayed-response`.
pub const EVAL_TASK_NAMES: [&str; 13] = {
    const MORE: [&str; 6] = [
        "multi-rule-switch-3x3x3",
        "multi-rule-switch-4x2x3",
        "multi-rule-switch-4x2x6",
        "cue-context-rikhye",
        "action-sequence",
        "delayed-response",
    ];
    let mut out = [""; 13];
    let mut i = 0;
    while i < out.len() {
        out[i] = if i < TASK_NAMES.len() {
            TASK_NAMES[i]
        } else {
            MORE[i - TASK_NAMES.len()]
        };
        i += 1;
    }
    out
};

/// The agent a run uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentSize {
    /// The default agent: 8 inputs, 48 cortical units, 4 control functions,
    /// 4 actions ([`tcbg::DefaultAgent`] / [`tcbg::OracleAgent`]).
    #[default]
    Default,
    /// A larger agent: `Agent<_, 16, 96, 8, 8>` (16 inputs, 96 cortical
    /// units, 8 control functions, 8 actions).
    Large,
}

impl AgentSize {
    /// `"8-48-4-4"` or `"16-96-8-8"` (S-C-K-A).
    pub fn name(self) -> &'static str {
        match self {
            AgentSize::Default => "8-48-4-4",
            AgentSize::Large => "16-96-8-8",
        }
    }
}

/// The larger agent in fixed point.
pub type LargeAgent = Agent<Fx, 16, 96, 8, 8>;
/// The larger agent's `f32` oracle.
pub type LargeOracle = Agent<f32, 16, 96, 8, 8>;

/// The lesions evaluated next to the full model (`"none"`).
pub const LESION_NAMES: [&str; 6] = [
    "no_thalamus",
    "no_context_selection",
    "no_traces",
    "no_dopamine",
    "no_meta",
    "no_amplification",
];

/// The delays of `delayed-reward`.
pub const DELAYS: [u8; 4] = [0, 2, 5, 10];

/// The delays of `delayed-response`.
pub const RESPONSE_DELAYS: [u8; 3] = [1, 3, 6];

/// The delay of a task run at several delays (`delayed-reward`,
/// `delayed-response`), which suffixes its metrics (`_d3`).
pub fn delay_of(kind: TaskKind) -> Option<u8> {
    match kind {
        TaskKind::DelayedReward { delay } | TaskKind::DelayedResponse { delay } => Some(delay),
        _ => None,
    }
}

/// The name of a lesion set (`"none"`, a single lesion's name, or names
/// joined by `+`).
pub fn lesion_name(l: Lesions) -> String {
    let on = [
        l.no_thalamus,
        l.no_context_selection,
        l.no_dopamine,
        l.no_traces,
        l.no_meta,
        l.no_amplification,
    ];
    let names: Vec<&str> = Lesions::NAMES
        .iter()
        .zip(on)
        .filter(|(_, b)| *b)
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("+")
    }
}

/// One finished trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialRecord {
    /// Block (0-based).
    pub block: u8,
    /// Trial within the block (0-based).
    pub trial: u16,
    /// Whether the choice was correct (the good arm, for the bandit).
    pub correct: bool,
    /// The reward delivered (after a possible flip).
    pub reward: bool,
    /// The agent's active context (control function) when the trial ended.
    pub context: u8,
}

/// One run of one [`TaskKind`] (one delay, for delayed reward).
#[derive(Clone, Debug, PartialEq)]
pub struct RunLog {
    /// The task.
    pub kind: TaskKind,
    /// The metrics of [`Report::metrics`], unrenamed.
    pub metrics: Vec<(String, f64)>,
    /// One entry per block.
    pub blocks: Vec<BlockStats>,
    /// Every trial, in order.
    pub trials: Vec<TrialRecord>,
    /// Agent steps taken.
    pub steps: u64,
}

impl RunLog {
    /// The per-trial score of a learning curve: the reward for the reversal
    /// bandit (its `reward_rate` counts rewards), correctness otherwise.
    pub fn curve_value(&self, t: &TrialRecord) -> bool {
        if self.kind == TaskKind::ReversalBandit {
            t.reward
        } else {
            t.correct
        }
    }

    /// The value of metric `name`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        metric_of(&self.metrics, name)
    }
}

/// The value of metric `name` in a list of named metrics.
fn metric_of(metrics: &[(String, f64)], name: &str) -> Option<f64> {
    metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The result of one task (all four delays for delayed reward) for one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// The task's name (`delayed-reward` for the four delays together).
    pub task: &'static str,
    /// The number type.
    pub number: Number,
    /// The lesions.
    pub lesions: Lesions,
    /// The schedule.
    pub schedule: Schedule,
    /// The seed (of agent and task).
    pub seed: u64,
    /// Metrics of TASKS.md (`accuracy_last100_d0` … `_d10` for delayed reward).
    pub metrics: Vec<(String, f64)>,
    /// The runs: one, or one per delay (D = 0, 2, 5, 10) for delayed reward.
    pub runs: Vec<RunLog>,
}

impl RunResult {
    /// The value of metric `name`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        metric_of(&self.metrics, name)
    }
}

/// What [`run_task_with`] shows its observer after each trial.
#[derive(Clone, Copy, Debug)]
pub struct Live<'a> {
    /// The trial just finished.
    pub trial: TrialRecord,
    /// Trials finished in the run.
    pub done: usize,
    /// Trials of the run.
    pub total: usize,
    /// Every trial so far.
    pub log: &'a [TrialRecord],
}

/// The kinds a task name stands for: the four delays for `delayed-reward`,
/// the three for `delayed-response`.
pub fn kinds_of(kind: TaskKind) -> Vec<TaskKind> {
    match kind {
        TaskKind::DelayedReward { .. } => DELAYS
            .iter()
            .map(|&delay| TaskKind::DelayedReward { delay })
            .collect(),
        TaskKind::DelayedResponse { .. } => RESPONSE_DELAYS
            .iter()
            .map(|&delay| TaskKind::DelayedResponse { delay })
            .collect(),
        k => vec![k],
    }
}

/// The task of `name` (all four delays come from [`run_one`] for
/// `delayed-reward`; the delay given here is 0).
pub fn task_kind(name: &str) -> Option<TaskKind> {
    TaskKind::parse(name, 0)
}

/// One episode of the soak's long life (`tests/tests/robust_soak.rs`, and
/// the `longlife` example that reads the same life): a task of
/// [`TaskKind::ALL`] (its index there), a block scale (half, normal or
/// double), 5% flipped rewards in one episode of four, and the task, seeded
/// from `rng`.
pub fn life_episode(rng: &mut tcbg::rng::Rng) -> (usize, Task) {
    let kinds = TaskKind::ALL;
    let ki = rng.below(kinds.len() as u32) as usize;
    let scale = [Scale::Half, Scale::Normal, Scale::Double][rng.below(3) as usize];
    let flip_q16 = if rng.below(4) == 0 {
        Schedule::FLIP5.flip_q16
    } else {
        0
    };
    let task = Task::new(kinds[ki], Schedule { scale, flip_q16 }, rng.next() as u64);
    (ki, task)
}

/// Lives one episode of the long life: `agent` (its action count set to
/// the suite's) takes `task`'s inputs, marking trial starts and earning the
/// task's rewards, until the task ends or `*done` steps reach `steps`.
/// Each step is counted in `*done` and shown to `on_step` (the agent, the
/// step's input lines, the action taken, `*done`) before the task scores
/// the action. Returns whether the task ran to its end (an episode cut by
/// the step budget is not scored).
pub fn live_episode(
    agent: &mut tcbg::DefaultAgent,
    task: &mut Task,
    done: &mut u64,
    steps: u64,
    mut on_step: impl FnMut(&tcbg::DefaultAgent, u16, usize, u64),
) -> bool {
    use tcbg::{fixed::Num, tasks::observation, Fx};
    agent
        .set_action_count(TaskKind::ACTIONS)
        .expect("the suite's actions");
    let mut reward = Fx::ZERO;
    while *done < steps {
        let Some(inp) = task.next_input() else { break };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        let a = agent.step(&observation::<Fx, 8>(inp.lines), reward);
        *done += 1;
        on_step(agent, inp.lines, a, *done);
        reward = if task.act(a).0 { Fx::ONE } else { Fx::ZERO };
    }
    task.is_done()
}

/// Total trials of `kind` under `schedule`.
pub fn total_trials(kind: TaskKind, schedule: Schedule) -> usize {
    (0..kind.blocks())
        .map(|b| schedule.block_len(kind, b) as usize)
        .sum()
}

/// Agent steps of one trial of `kind` (1 + the delay; cue, delay and go
/// for delayed response; at most [`tcbg::tasks::SEQUENCE_LEN`] for
/// action-sequence, whose trials end at the first wrong action).
pub fn steps_per_trial(kind: TaskKind) -> usize {
    match kind {
        TaskKind::DelayedReward { delay } => 1 + delay as usize,
        TaskKind::DelayedResponse { delay } => 2 + delay as usize,
        TaskKind::ActionSequence => tcbg::tasks::SEQUENCE_LEN,
        _ => 1,
    }
}

/// Length of block `b` of `kind` under `schedule`.
pub fn scaled_len(kind: TaskKind, b: usize, schedule: Schedule) -> u16 {
    schedule.block_len(kind, b)
}

/// Whether `schedule` is the Rikhye protocol's length.
pub fn is_rikhye(schedule: Schedule) -> bool {
    schedule.scale == Scale::Rikhye
}

/// The agent config of every run: the default config with `lesions`.
pub fn config_with(lesions: Lesions) -> Config {
    Config {
        lesions,
        ..Config::default()
    }
}

/// Runs one task (one delay) on a fresh agent, agent seed = task seed =
/// `seed`, calling `on_trial` after every trial and `on_step` after every
/// agent step (with the agent's active context).
pub fn run_task_with(
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
    on_trial: impl FnMut(&Live<'_>),
) -> RunLog {
    run_task_on(
        AgentSize::Default,
        kind,
        number,
        lesions,
        schedule,
        seed,
        on_trial,
    )
}

/// [`run_task_with`] on an agent of size `size`.
pub fn run_task_on(
    size: AgentSize,
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
    on_trial: impl FnMut(&Live<'_>),
) -> RunLog {
    let config = config_with(lesions);
    let mut task = Task::new(kind, schedule, seed);
    const VALID: &str = "the default config is valid";
    match (size, number) {
        (AgentSize::Default, Number::Fixed) => {
            let mut agent: DefaultAgent = Agent::new(config, seed).expect(VALID);
            drive(&mut agent, &mut task, schedule, on_trial)
        }
        (AgentSize::Default, Number::F32) => {
            let mut agent: OracleAgent = Agent::new(config, seed).expect(VALID);
            drive(&mut agent, &mut task, schedule, on_trial)
        }
        (AgentSize::Large, Number::Fixed) => {
            let mut agent = Box::new(LargeAgent::new(config, seed).expect(VALID));
            drive(&mut *agent, &mut task, schedule, on_trial)
        }
        (AgentSize::Large, Number::F32) => {
            let mut agent = Box::new(LargeOracle::new(config, seed).expect(VALID));
            drive(&mut *agent, &mut task, schedule, on_trial)
        }
    }
}

/// [`run_task_with`] without an observer.
pub fn run_task(
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
) -> RunLog {
    run_task_with(kind, number, lesions, schedule, seed, |_| {})
}

/// Runs `task` with [`tcbg::tasks::run_observed`] (the runner every task
/// uses), keeping a trial log; the metrics are the report's.
fn drive<N: Kernels, const S: usize, const C: usize, const K: usize, const A: usize>(
    agent: &mut Agent<N, S, C, K, A>,
    task: &mut Task,
    schedule: Schedule,
    mut on_trial: impl FnMut(&Live<'_>),
) -> RunLog {
    let kind = task.kind();
    let total = total_trials(kind, schedule);
    let mut trials: Vec<TrialRecord> = Vec::with_capacity(total);
    let report = run_observed(
        agent,
        task,
        |o, agent| {
            trials.push(TrialRecord {
                block: o.block,
                trial: o.trial,
                correct: o.correct,
                reward: o.reward,
                context: agent.active_context() as u8,
            });
            on_trial(&Live {
                trial: *trials.last().unwrap(),
                done: trials.len(),
                total,
                log: &trials,
            });
        },
        |_| {},
    )
    .unwrap_or_else(|e| panic!("{kind} cannot run: {e}"));
    let metrics = report
        .metrics
        .values
        .iter()
        .map(|(n, v)| (n.to_string(), metric_f64(*v)))
        .collect();
    RunLog {
        kind,
        metrics,
        blocks: report.blocks.to_vec(),
        trials,
        steps: report.steps as u64,
    }
}

/// A metric's `f32` as the `f64` of its shortest decimal form (0.975, not
/// 0.9750000238…), so reports print what the board prints.
pub fn metric_f64(v: f32) -> f64 {
    if v.is_finite() {
        v.to_string().parse().unwrap_or(v as f64)
    } else {
        v as f64
    }
}

/// Runs one task for one seed: for `delayed-reward` the four delays (its
/// `delay` is ignored), whose `accuracy_last100` become
/// `accuracy_last100_d0`, `_d2`, `_d5` and `_d10`.
pub fn run_one(
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
) -> RunResult {
    let runs: Vec<RunLog> = kinds_of(kind)
        .into_iter()
        .map(|k| run_task(k, number, lesions, schedule, seed))
        .collect();
    assemble(kind, number, lesions, schedule, seed, runs)
}

/// A [`RunResult`] from its runs (in [`kinds_of`] order).
pub fn assemble(
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
    runs: Vec<RunLog>,
) -> RunResult {
    let mut metrics = Vec::new();
    for r in &runs {
        match delay_of(r.kind) {
            Some(delay) => {
                for (n, v) in &r.metrics {
                    metrics.push((format!("{n}_d{delay}"), *v));
                }
            }
            None => metrics.extend(r.metrics.iter().cloned()),
        }
    }
    RunResult {
        task: kind.name(),
        number,
        lesions,
        schedule,
        seed,
        metrics,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcbg::tasks::run;

    /// The trial log's loop must be `tasks::run`'s loop: same report, same
    /// metrics, for every task, both numbers and a lesion.
    #[test]
    fn drive_matches_tasks_run() {
        let tasks = TaskKind::ALL.into_iter().chain(TaskKind::MULTI_RULE);
        for kind in tasks.chain(TaskKind::SEQUENCE) {
            for (number, lesions) in [
                (Number::Fixed, Lesions::NONE),
                (Number::F32, Lesions::named("no_thalamus").unwrap()),
            ] {
                for schedule in [Schedule::default(), Schedule::FLIP5] {
                    let seed = 5;
                    let log = run_task(kind, number, lesions, schedule, seed);
                    let mut task = Task::new(kind, schedule, seed);
                    let report = match number {
                        Number::Fixed => {
                            let mut a: DefaultAgent =
                                Agent::new(config_with(lesions), seed).unwrap();
                            run(&mut a, &mut task, |_| {}).unwrap()
                        }
                        Number::F32 => {
                            let mut a: OracleAgent =
                                Agent::new(config_with(lesions), seed).unwrap();
                            run(&mut a, &mut task, |_| {}).unwrap()
                        }
                    };
                    let want: Vec<BlockStats> = report.blocks.to_vec();
                    assert_eq!(log.blocks, want, "{kind}");
                    // The runner's counters are the task's own (but for the
                    // agent's switches, which only the runner sees).
                    let own: Vec<BlockStats> = task
                        .stats()
                        .iter()
                        .zip(&want)
                        .map(|(s, w)| {
                            let mut s = *s;
                            s.switches = w.switches;
                            s
                        })
                        .collect();
                    assert_eq!(own, want, "{kind}");
                    let m: Vec<(String, f64)> = report
                        .metrics()
                        .values
                        .iter()
                        .map(|(n, v)| (n.to_string(), metric_f64(*v)))
                        .collect();
                    assert_eq!(log.metrics, m, "{kind}");
                    assert_eq!(log.trials.len(), total_trials(kind, schedule));
                    let most = log.trials.len() * steps_per_trial(kind);
                    if kind == TaskKind::ActionSequence {
                        assert!((log.trials.len()..=most).contains(&(log.steps as usize)));
                    } else {
                        assert_eq!(log.steps as usize, most);
                    }
                    // The trial log adds up to the block counters.
                    for (b, s) in log.blocks.iter().enumerate() {
                        let c = log
                            .trials
                            .iter()
                            .filter(|t| t.block as usize == b && t.correct)
                            .count();
                        assert_eq!(c, s.correct as usize);
                    }
                }
            }
        }
    }

    #[test]
    fn delayed_reward_is_four_runs() {
        let r = run_one(
            TaskKind::DelayedReward { delay: 3 },
            Number::Fixed,
            Lesions::NONE,
            Schedule::default(),
            2,
        );
        assert_eq!(r.runs.len(), 4);
        let names: Vec<&str> = r.metrics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "accuracy_last100_d0",
                "accuracy_last100_d2",
                "accuracy_last100_d5",
                "accuracy_last100_d10"
            ]
        );
        assert_eq!(r.task, "delayed-reward");
    }

    #[test]
    fn delayed_response_is_three_runs() {
        let r = run_one(
            TaskKind::DelayedResponse { delay: 0 },
            Number::Fixed,
            Lesions::NONE,
            Schedule::default(),
            2,
        );
        assert_eq!(r.runs.len(), 3);
        let names: Vec<&str> = r.metrics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "accuracy_last100_d1",
                "first_learning_d1",
                "accuracy_last100_d3",
                "first_learning_d3",
                "accuracy_last100_d6",
                "first_learning_d6"
            ]
        );
        assert_eq!(r.task, "delayed-response");
    }

    #[test]
    fn metric_values_are_short() {
        assert_eq!(metric_f64(0.975), 0.975);
        assert_eq!(metric_f64(1.0 / 3.0), 0.33333334);
        assert!(metric_f64(f32::NAN).is_nan());
    }

    #[test]
    fn names() {
        assert_eq!(lesion_name(Lesions::NONE), "none");
        for n in LESION_NAMES {
            assert_eq!(lesion_name(Lesions::named(n).unwrap()), n);
        }
        for n in TASK_NAMES {
            assert_eq!(task_kind(n).unwrap().name(), n);
        }
        assert_eq!(Number::parse("f32"), Some(Number::F32));
        assert_eq!(
            total_trials(TaskKind::ReversalBandit, Schedule::default()),
            800
        );
        assert_eq!(total_trials(TaskKind::CueContext, Schedule::default()), 250);
        let half = Schedule {
            scale: tcbg::tasks::Scale::Half,
            ..Schedule::default()
        };
        assert_eq!(total_trials(TaskKind::SerialReversal, half), 400);
        assert_eq!(
            total_trials(TaskKind::DelayedReward { delay: 5 }, half),
            500
        );
    }
}
