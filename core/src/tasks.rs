//! The task suite, deterministic and `no_std`, so the same task runs on the
//! host, in the browser and on a board.
//!
//! One step of a task is one [`Agent::step`]: the observation of this step
//! and the reward for the previous step's action. Trials end where the task
//! says; nothing tells the agent about a block or rule switch unless the task
//! lists a cue for it. Observations are sets of input lines that are on
//! (value 1), given as a bit mask.
//!
//! Metrics stream: each block keeps a few counters ([`BlockStats`]), so a
//! board needs no trial log. "Trials to criterion" is the 1-based trial at
//! which the first 10-trial window with at least 9 correct ends (block length
//! + 1 if never).
//!
//! ```
//! use tcbg::tasks::{run, Task, TaskKind, Schedule};
//! use tcbg::{Agent, Config, DefaultAgent};
//! let mut agent: DefaultAgent = Agent::new(Config::default(), 3).unwrap();
//! let mut task = Task::new(TaskKind::DelayedReward { delay: 2 }, Schedule::default(), 3);
//! let report = run(&mut agent, &mut task, |_| {}).unwrap();
//! let m = report.metrics();
//! assert!(m.get("accuracy_last100").unwrap() > 0.5);
//! ```

use crate::agent::Agent;
use crate::fixed::Num;
use crate::kernels::Kernels;
use crate::rng::Rng;
use core::fmt;

/// Which task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// 2 cues, 2 actions; rule A (cue i → action i) and rule B (reversed)
    /// alternate in 8 unsignaled blocks of 50 trials.
    RuleSwitch,
    /// As [`TaskKind::RuleSwitch`] plus a 2-line one-hot rule cue on every trial.
    CuedRuleSwitch,
    /// Rikhye et al. 2018: context 1 uses cues 0, 1, context 2 cues 2, 3;
    /// blocks of 100, 100, 50 trials in contexts 1, 2, 1.
    CueContext,
    /// 1 constant input, 2 arms rewarded with probability 0.8 and 0.2; the
    /// good arm reverses every 40 trials; 800 trials.
    ReversalBandit,
    /// Rule A; the action is taken on the cue step, then `delay` blank steps
    /// before the reward arrives; 500 trials (5 blocks of 100 for the report).
    DelayedReward {
        /// Blank steps between action and reward.
        delay: u8,
    },
    /// The two rules of rule-switch alternate, 20 unsignaled blocks of 40.
    SerialReversal,
    /// 16 blocks of 40; each block draws 4 new cue patterns (3 of 8 lines on)
    /// and a new random mapping of them to 2 actions (2 cues each).
    NewRuleTransfer,
}

impl TaskKind {
    /// Every task of the suite (delayed reward at D = 0, 2, 5, 10).
    pub const ALL: [TaskKind; 10] = [
        TaskKind::RuleSwitch,
        TaskKind::CuedRuleSwitch,
        TaskKind::CueContext,
        TaskKind::ReversalBandit,
        TaskKind::DelayedReward { delay: 0 },
        TaskKind::DelayedReward { delay: 2 },
        TaskKind::DelayedReward { delay: 5 },
        TaskKind::DelayedReward { delay: 10 },
        TaskKind::SerialReversal,
        TaskKind::NewRuleTransfer,
    ];

    /// The task's name (`delayed-reward` for every delay).
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::RuleSwitch => "rule-switch",
            TaskKind::CuedRuleSwitch => "cued-rule-switch",
            TaskKind::CueContext => "cue-context",
            TaskKind::ReversalBandit => "reversal-bandit",
            TaskKind::DelayedReward { .. } => "delayed-reward",
            TaskKind::SerialReversal => "serial-reversal",
            TaskKind::NewRuleTransfer => "new-rule-transfer",
        }
    }

    /// The task named `name` (`delayed-reward` takes its delay separately).
    pub fn parse(name: &str, delay: u8) -> Option<TaskKind> {
        Some(match name {
            "rule-switch" => TaskKind::RuleSwitch,
            "cued-rule-switch" => TaskKind::CuedRuleSwitch,
            "cue-context" => TaskKind::CueContext,
            "reversal-bandit" => TaskKind::ReversalBandit,
            "delayed-reward" => TaskKind::DelayedReward { delay },
            "serial-reversal" => TaskKind::SerialReversal,
            "new-rule-transfer" => TaskKind::NewRuleTransfer,
            _ => return None,
        })
    }

    /// Input lines the task uses.
    pub const INPUTS: usize = 8;
    /// Actions the task offers.
    pub const ACTIONS: usize = 2;

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        match self {
            TaskKind::RuleSwitch | TaskKind::CuedRuleSwitch => 8,
            TaskKind::CueContext => 3,
            TaskKind::ReversalBandit | TaskKind::SerialReversal => 20,
            TaskKind::DelayedReward { .. } => 5,
            TaskKind::NewRuleTransfer => 16,
        }
    }

    /// Length of block `b` at the default schedule.
    pub fn block_len(&self, b: usize) -> u16 {
        match self {
            TaskKind::RuleSwitch | TaskKind::CuedRuleSwitch => 50,
            TaskKind::CueContext => {
                if b < 2 {
                    100
                } else {
                    50
                }
            }
            TaskKind::DelayedReward { .. } => 100,
            TaskKind::ReversalBandit | TaskKind::SerialReversal | TaskKind::NewRuleTransfer => 40,
        }
    }

    /// Whether block lengths scale with [`Schedule::scale`]. Delayed reward
    /// has no blocks to scale (its 5 "blocks" are report windows).
    fn scales(&self) -> bool {
        !matches!(self, TaskKind::DelayedReward { .. })
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskKind::DelayedReward { delay } => write!(f, "delayed-reward D={delay}"),
            k => f.write_str(k.name()),
        }
    }
}

/// Block-length scale of a [`Schedule`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Every block half as long.
    Half,
    /// The lengths of TASKS.md.
    #[default]
    Normal,
    /// Every block twice as long.
    Double,
}

/// Variations of a task's schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// Block lengths.
    pub scale: Scale,
    /// Probability, in units of 1/65536, that a delivered reward is flipped
    /// (0 ↔ 1). Metrics still score true correctness.
    pub flip_q16: u16,
}

impl Schedule {
    /// 5% of rewards flipped.
    pub const FLIP5: Schedule = Schedule {
        scale: Scale::Normal,
        flip_q16: 3277,
    };
}

/// Per-block counters, updated trial by trial.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Trials in the block.
    pub trials: u16,
    /// Correct trials.
    pub correct: u16,
    /// Sum of rewards delivered for this block's trials (after flips).
    pub reward: u16,
    /// Errors in the first 10 trials.
    pub errors_first10: u8,
    /// Correct among the last 10 trials.
    pub last10_correct: u8,
    /// Trials to criterion (block length + 1 if never reached).
    pub to_criterion: u16,
    /// 1-based trial of the first correct choice (block length + 1 if none).
    pub first_correct: u16,
    /// Context switches of the agent during the block.
    pub switches: u16,
    /// Last 16 outcomes, newest in bit 0.
    window: u16,
    reached: bool,
}

impl BlockStats {
    fn record(&mut self, correct: bool, reward: bool) {
        self.trials += 1;
        self.window = (self.window << 1) | correct as u16;
        if correct {
            self.correct += 1;
            if self.first_correct == 0 {
                self.first_correct = self.trials;
            }
        } else if self.trials <= 10 {
            self.errors_first10 += 1;
        }
        self.reward += reward as u16;
        let last10 = (self.window & 0x3ff).count_ones() as u8;
        self.last10_correct = last10;
        if !self.reached && self.trials >= 10 && last10 >= 9 {
            self.reached = true;
            self.to_criterion = self.trials;
        }
    }

    fn finish(&mut self) {
        if !self.reached {
            self.to_criterion = self.trials + 1;
        }
        if self.first_correct == 0 {
            self.first_correct = self.trials + 1;
        }
    }

    /// Accuracy over the last 10 trials (or fewer in a short block).
    pub fn end_accuracy(&self) -> f32 {
        self.last10_correct as f32 / self.trials.clamp(1, 10) as f32
    }
}

/// Why a task cannot run on an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// The agent has fewer inputs than the task's 8 lines.
    TooFewInputs {
        /// Lines the task needs.
        need: usize,
        /// Inputs the agent has.
        have: usize,
    },
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::TooFewInputs { need, have } => {
                write!(f, "the task needs {need} input lines, the agent has {have}")
            }
        }
    }
}

/// Maximum blocks of any task.
pub const MAX_BLOCKS: usize = 20;

/// What one step of a task shows the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepInput {
    /// Input lines that are on (bit `j` = line `j`).
    pub lines: u16,
    /// Whether this step begins a trial.
    pub trial_start: bool,
}

/// The outcome of a finished trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialOutcome {
    /// Block of the trial.
    pub block: u8,
    /// Trial within the block (0-based).
    pub trial: u16,
    /// Whether the choice was correct (the good arm, for the bandit).
    pub correct: bool,
    /// The reward that will be delivered (after a possible flip).
    pub reward: bool,
}

/// A task in progress: it yields observations and scores actions.
#[derive(Clone, Debug)]
pub struct Task {
    kind: TaskKind,
    schedule: Schedule,
    rng: Rng,
    block: u8,
    trial: u16,
    block_len: u16,
    /// Step within the trial: 0 = cue, 1..=delay = blank steps.
    phase: u8,
    cue_lines: u16,
    correct_action: u8,
    /// Result of the current trial's choice, kept across blank steps.
    pending: Option<TrialOutcome>,
    /// new-rule-transfer: this block's 4 patterns and their actions.
    patterns: [u16; 4],
    mapping: [u8; 4],
    stats: heapless::Vec<BlockStats, MAX_BLOCKS>,
    done: bool,
}

impl Task {
    /// A task with its own seed (the cue sequence and stochastic rewards).
    pub fn new(kind: TaskKind, schedule: Schedule, seed: u64) -> Task {
        let mut t = Task {
            kind,
            schedule,
            rng: Rng::seed_stream(seed, 0x7a5c),
            block: 0,
            trial: 0,
            block_len: 0,
            phase: 0,
            cue_lines: 0,
            correct_action: 0,
            pending: None,
            patterns: [0; 4],
            mapping: [0; 4],
            stats: heapless::Vec::new(),
            done: false,
        };
        t.start_block();
        t
    }

    /// The task.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// The schedule.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The current block (0-based).
    pub fn block(&self) -> usize {
        self.block as usize
    }

    /// Trial within the current block (0-based).
    pub fn trial_in_block(&self) -> usize {
        self.trial as usize
    }

    /// Statistics of the blocks so far (the current one last).
    pub fn stats(&self) -> &[BlockStats] {
        &self.stats
    }

    /// Whether every trial has been run.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The rule or context of the current block (0 or 1), for displays and
    /// manual switches; the agent never sees it.
    pub fn rule(&self) -> u8 {
        match self.kind {
            TaskKind::CueContext => [0, 1, 0][self.block.min(2) as usize],
            TaskKind::NewRuleTransfer => self.block,
            TaskKind::DelayedReward { .. } => 0,
            _ => self.block % 2,
        }
    }

    fn scaled_len(&self, b: usize) -> u16 {
        let l = self.kind.block_len(b);
        if !self.kind.scales() {
            return l;
        }
        match self.schedule.scale {
            Scale::Half => l >> 1,
            Scale::Normal => l,
            Scale::Double => l << 1,
        }
    }

    fn start_block(&mut self) {
        self.block_len = self.scaled_len(self.block as usize);
        self.trial = 0;
        let _ = self.stats.push(BlockStats::default());
        if self.kind == TaskKind::NewRuleTransfer {
            // Four distinct patterns with 3 of 8 lines on; two map to each action.
            let mut n = 0;
            while n < 4 {
                let mut p = 0u16;
                while p.count_ones() < 3 {
                    p |= 1 << self.rng.below(8);
                }
                if !self.patterns[..n].contains(&p) {
                    self.patterns[n] = p;
                    n += 1;
                }
            }
            self.mapping = [0, 0, 1, 1];
            for i in (1..4).rev() {
                let j = self.rng.below(i as u32 + 1) as usize;
                self.mapping.swap(i, j);
            }
        }
    }

    fn delay(&self) -> u8 {
        match self.kind {
            TaskKind::DelayedReward { delay } => delay,
            _ => 0,
        }
    }

    /// The next step's input, or `None` when the task is over.
    pub fn next_input(&mut self) -> Option<StepInput> {
        if self.done {
            return None;
        }
        if self.phase > 0 {
            return Some(StepInput {
                lines: 0,
                trial_start: false,
            });
        }
        let rule = self.rule();
        let (lines, correct) = match self.kind {
            TaskKind::RuleSwitch | TaskKind::SerialReversal | TaskKind::DelayedReward { .. } => {
                let cue = self.rng.below(2) as u8;
                (1u16 << cue, cue ^ rule)
            }
            TaskKind::CuedRuleSwitch => {
                let cue = self.rng.below(2) as u8;
                ((1u16 << cue) | (1 << (2 + rule)), cue ^ rule)
            }
            TaskKind::CueContext => {
                let cue = self.rng.below(2) as u8;
                (1u16 << (2 * rule + cue), cue)
            }
            TaskKind::ReversalBandit => (1, rule),
            TaskKind::NewRuleTransfer => {
                let i = self.rng.below(4) as usize;
                (self.patterns[i], self.mapping[i])
            }
        };
        self.cue_lines = lines;
        self.correct_action = correct;
        Some(StepInput {
            lines,
            trial_start: true,
        })
    }

    /// Scores the action taken on the step [`Task::next_input`] returned.
    /// Returns the reward to pass with the next step, and the trial's
    /// outcome when the trial ends.
    pub fn act(&mut self, action: usize) -> (bool, Option<TrialOutcome>) {
        if self.done {
            return (false, None);
        }
        if self.phase == 0 {
            let correct = action == self.correct_action as usize;
            let mut reward = if self.kind == TaskKind::ReversalBandit {
                // 0.8 on the good arm, 0.2 on the other.
                self.rng.chance(if correct { 52429 } else { 13107 })
            } else {
                correct
            };
            if self.schedule.flip_q16 > 0 && self.rng.chance(self.schedule.flip_q16 as u32) {
                reward = !reward;
            }
            self.pending = Some(TrialOutcome {
                block: self.block,
                trial: self.trial,
                correct,
                reward,
            });
        }
        if self.phase < self.delay() {
            self.phase += 1;
            return (false, None);
        }
        self.phase = 0;
        let out = self.pending.take();
        if let Some(o) = out {
            if let Some(s) = self.stats.last_mut() {
                s.record(o.correct, o.reward);
            }
            self.trial += 1;
            if self.trial >= self.block_len {
                self.next_block();
            }
        }
        (out.is_some_and(|o| o.reward), out)
    }

    /// Closes the current block's statistics and starts the next block (or
    /// ends the task after the last).
    fn next_block(&mut self) {
        if let Some(s) = self.stats.last_mut() {
            s.finish();
        }
        self.block += 1;
        if self.block as usize >= self.kind.blocks() {
            self.done = true;
        } else {
            self.start_block();
        }
    }

    /// Manually switches the rule or context now (the demo's button): the
    /// current block ends early and the next begins.
    pub fn force_switch(&mut self) {
        if self.done || self.phase != 0 {
            return;
        }
        self.next_block();
    }
}

/// Turns a set of input lines into an observation.
pub fn observation<N: Num, const S: usize>(lines: u16) -> [N; S] {
    core::array::from_fn(|j| {
        if j < 16 && lines & (1 << j) != 0 {
            N::ONE
        } else {
            N::ZERO
        }
    })
}

/// A finished run: the task and its per-block statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The task.
    pub kind: TaskKind,
    /// One entry per block.
    pub blocks: heapless::Vec<BlockStats, MAX_BLOCKS>,
}

/// Named metric values of a report (the names of TASKS.md).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// `(name, value)` pairs.
    pub values: heapless::Vec<(&'static str, f32), 8>,
}

impl Metrics {
    fn put(&mut self, name: &'static str, v: f32) {
        let _ = self.values.push((name, v));
    }
    /// The value of metric `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

fn mean_of(it: impl Iterator<Item = f32>) -> f32 {
    let (mut s, mut n) = (0.0, 0.0);
    for v in it {
        s += v;
        n += 1.0;
    }
    if n > 0.0 {
        s / n
    } else {
        0.0
    }
}

impl Report {
    /// The metrics of TASKS.md for this task.
    pub fn metrics(&self) -> Metrics {
        let b = &self.blocks;
        let mut m = Metrics::default();
        let ttc = |i: usize| b.get(i).map_or(0.0, |s| s.to_criterion as f32);
        let end_acc = mean_of(b.iter().map(|s| s.end_accuracy()));
        let errs = |r: core::ops::Range<usize>| {
            mean_of(
                b.iter()
                    .skip(r.start)
                    .take(r.len())
                    .map(|s| s.errors_first10 as f32),
            )
        };
        match self.kind {
            TaskKind::RuleSwitch | TaskKind::CuedRuleSwitch => {
                m.put("first_learning", ttc(0));
                m.put("new_rule", ttc(1));
                m.put("switch_cost", errs(2..8));
                m.put("block_end_accuracy", end_acc);
            }
            TaskKind::CueContext => {
                let ret = b
                    .get(2)
                    .map_or(0.0, |s| (10 - s.errors_first10.min(10)) as f32 / 10.0);
                m.put("return_accuracy", ret);
                m.put("first_learning", ttc(0));
                m.put("block_end_accuracy", end_acc);
            }
            TaskKind::ReversalBandit => {
                let (mut r, mut n) = (0u32, 0u32);
                for s in b.iter().skip(1) {
                    r += s.reward as u32;
                    n += s.trials as u32;
                }
                m.put("reward_rate", if n > 0 { r as f32 / n as f32 } else { 0.0 });
                m.put(
                    "trials_to_switch",
                    mean_of(b.iter().skip(1).map(|s| s.first_correct as f32)),
                );
            }
            TaskKind::DelayedReward { .. } => {
                let last = b
                    .last()
                    .map_or(0.0, |s| s.correct as f32 / s.trials.max(1) as f32);
                m.put("accuracy_last100", last);
            }
            TaskKind::SerialReversal => {
                let early = errs(2..8);
                let late = errs(12..20);
                m.put("early", early);
                m.put("late", late);
                m.put(
                    "late_over_early",
                    if early > 0.0 {
                        late / early
                    } else {
                        late + 1.0
                    },
                );
            }
            TaskKind::NewRuleTransfer => {
                m.put("first_block", ttc(0));
                let e = mean_of((0..4).map(ttc));
                let l = mean_of((8..12).map(ttc));
                m.put("transfer_index", if e > 0.0 { l / e } else { 0.0 });
            }
        }
        m
    }
}

/// Runs `task` to the end on `agent`, calling `on_block` after each block.
pub fn run<N: Kernels, const S: usize, const C: usize, const K: usize, const A: usize>(
    agent: &mut Agent<N, S, C, K, A>,
    task: &mut Task,
    mut on_block: impl FnMut(&BlockStats),
) -> Result<Report, TaskError> {
    if S < TaskKind::INPUTS {
        return Err(TaskError::TooFewInputs {
            need: TaskKind::INPUTS,
            have: S,
        });
    }
    // A >= 2 is guaranteed by the agent's size check.
    let _ = agent.set_action_count(TaskKind::ACTIONS);
    let mut reward = N::ZERO;
    let mut switches0 = agent.counters().switches;
    while let Some(inp) = task.next_input() {
        if inp.trial_start {
            agent.mark_trial_start();
        }
        let obs = observation::<N, S>(inp.lines);
        let a = agent.step(&obs, reward);
        let block = task.block();
        let (r, out) = task.act(a);
        reward = if r { N::ONE } else { N::ZERO };
        if out.is_some() && task.block() != block || task.is_done() && out.is_some() {
            let sw = agent.counters().switches;
            if let Some(s) = task.stats.get_mut(block) {
                s.switches = (sw - switches0).min(u16::MAX as u32) as u16;
                on_block(s);
            }
            switches0 = sw;
        }
    }
    Ok(Report {
        kind: task.kind,
        blocks: task.stats.clone(),
    })
}
