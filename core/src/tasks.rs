//! The task suite, deterministic and `no_std`, so the same task runs on the
//! host, in the browser and on a board.
//!
//! One step of a task is one [`Agent::step`]: the observation of this step
//! and the reward for the previous step's action. Trials end where the task
//! says; nothing tells the agent about a block or rule switch unless the task
//! lists a cue for it. The suite's observations are sets of input lines that
//! are on (value 1), given as a bit mask.
//!
//! Every task runs through one runner, [`run`], generic over the
//! [`Environment`] trait: the suite's [`Task`] implements it, and so can a
//! task of your own, with graded inputs if it likes. The runner keeps the
//! same streaming metrics for all of them.
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
    /// Many rules, many actions: `cues` one-hot cues, `actions` actions,
    /// `rules` rules, 12 unsignaled blocks of 50 trials. Blocks 1..=`rules`
    /// visit each rule once; later blocks draw a familiar rule at random,
    /// never the one just left. The rules are drawn per seed: for
    /// `cues == actions` rows of a random Latin square (two rules never
    /// agree on a cue), otherwise random balanced mappings (every action
    /// gets `cues / actions` cues), all distinct. Build it with
    /// [`TaskKind::multi_rule`], which checks the sizes.
    MultiRuleSwitch {
        /// One-hot cues, n (2 to 8).
        cues: u8,
        /// Actions, m (2 to 4, at most n, dividing n).
        actions: u8,
        /// Rules, k (2 to 8, and at most n for a Latin square).
        rules: u8,
    },
    /// Credit over several actions: [`SEQUENCE_LEN`] positions, each with
    /// its own one-hot cue (line `p` at position `p`), 4 actions. The agent
    /// acts at each position; a wrong action ends the trial with reward 0,
    /// the third correct action ends it with reward 1. Two sequences A and B
    /// (drawn per seed, differing at every position) alternate in 6
    /// unsignaled blocks of 60 trials.
    ActionSequence,
    /// Working memory: one of 2 cues (line 0 or 1) for one step, `delay`
    /// blank steps (no input), then a go input on its own line (line 2);
    /// the action at the go step must match the cue (cue i → action i) and
    /// is rewarded with the next step. Actions before go are ignored. 400
    /// trials (4 blocks of 100 for the report).
    DelayedResponse {
        /// Blank steps between cue and go.
        delay: u8,
    },
}

/// Positions of [`TaskKind::ActionSequence`].
pub const SEQUENCE_LEN: usize = 3;

/// Most blank steps of [`TaskKind::DelayedResponse`].
pub const MAX_RESPONSE_DELAY: u8 = 100;

/// The input line of the go signal of [`TaskKind::DelayedResponse`].
pub const GO_LINE: usize = 2;

/// Most rules of [`TaskKind::MultiRuleSwitch`].
pub const MAX_RULES: usize = 8;

/// Number of distinct balanced mappings of `n` cues to `m` actions
/// (`n! / ((n/m)!)^m`), capped at 255.
fn balanced_mappings(n: usize, m: usize) -> usize {
    let fact = |x: usize| (1..=x).product::<usize>();
    (fact(n) / fact(n / m).pow(m as u32)).min(255)
}

/// The names `multi-rule-switch-NxMxK` of `N` cues and `M` actions, for
/// `K` = 2 to [`MAX_RULES`] rules (static: `no_std` builds no strings).
macro_rules! multi_rule_names {
    ($n:literal, $m:literal) => {
        [
            concat!("multi-rule-switch-", $n, "x", $m, "x2"),
            concat!("multi-rule-switch-", $n, "x", $m, "x3"),
            concat!("multi-rule-switch-", $n, "x", $m, "x4"),
            concat!("multi-rule-switch-", $n, "x", $m, "x5"),
            concat!("multi-rule-switch-", $n, "x", $m, "x6"),
            concat!("multi-rule-switch-", $n, "x", $m, "x7"),
            concat!("multi-rule-switch-", $n, "x", $m, "x8"),
        ]
    };
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

    /// The public points of `multi-rule-switch`: 3×3×3, 4×2×3 and 4×2×6.
    pub const MULTI_RULE: [TaskKind; 3] = [
        TaskKind::MultiRuleSwitch {
            cues: 3,
            actions: 3,
            rules: 3,
        },
        TaskKind::MultiRuleSwitch {
            cues: 4,
            actions: 2,
            rules: 3,
        },
        TaskKind::MultiRuleSwitch {
            cues: 4,
            actions: 2,
            rules: 6,
        },
    ];

    /// The tasks of issue 18: `action-sequence` and `delayed-response` at
    /// D = 1, 3, 6.
    pub const SEQUENCE: [TaskKind; 4] = [
        TaskKind::ActionSequence,
        TaskKind::DelayedResponse { delay: 1 },
        TaskKind::DelayedResponse { delay: 3 },
        TaskKind::DelayedResponse { delay: 6 },
    ];

    /// `multi-rule-switch` with `n` cues, `m` actions and `k` rules, if the
    /// sizes make a task: 2 <= m <= 4, m <= n <= 8, m divides n, 2 <= k <= 8;
    /// for n = m, k <= n (rows of a Latin square); for n > m, k at most the
    /// number of distinct balanced mappings.
    pub fn multi_rule(n: usize, m: usize, k: usize) -> Result<TaskKind, TaskError> {
        let bad = |why| Err(TaskError::Shape(why));
        if n > 8 {
            return bad("multi-rule-switch: at most 8 cues (the default agent's inputs)");
        }
        if !(2..=4).contains(&m) {
            return bad("multi-rule-switch: 2 to 4 actions (the default agent has 4)");
        }
        if n < m || n % m != 0 {
            return bad("multi-rule-switch: the cues must be a multiple of the actions");
        }
        if !(2..=MAX_RULES).contains(&k) {
            return bad("multi-rule-switch: 2 to 8 rules");
        }
        if n == m && k > n {
            return bad("multi-rule-switch: with as many cues as actions, at most n rules (rows of a Latin square)");
        }
        if n > m && k > balanced_mappings(n, m) {
            return bad("multi-rule-switch: more rules than distinct balanced mappings");
        }
        Ok(TaskKind::MultiRuleSwitch {
            cues: n as u8,
            actions: m as u8,
            rules: k as u8,
        })
    }

    /// Whether the task's sizes are valid (see [`TaskKind::multi_rule`];
    /// delayed response: at most [`MAX_RESPONSE_DELAY`] blank steps).
    pub fn check(&self) -> Result<(), TaskError> {
        match *self {
            TaskKind::MultiRuleSwitch {
                cues,
                actions,
                rules,
            } => TaskKind::multi_rule(cues as usize, actions as usize, rules as usize).map(|_| ()),
            // The go step is step `delay + 1` of a trial, counted in a `u8`.
            TaskKind::DelayedResponse { delay } if delay > MAX_RESPONSE_DELAY => Err(
                TaskError::Shape("delayed-response: at most 100 blank steps"),
            ),
            _ => Ok(()),
        }
    }

    /// Input lines the task uses (at most [`TaskKind::INPUTS`]).
    pub fn inputs(&self) -> usize {
        TaskKind::INPUTS
    }

    /// Actions the task offers.
    pub fn actions(&self) -> usize {
        match *self {
            TaskKind::MultiRuleSwitch { actions, .. } => actions as usize,
            TaskKind::ActionSequence => 4,
            _ => TaskKind::ACTIONS,
        }
    }

    /// The task's name (`delayed-reward` for every delay;
    /// `multi-rule-switch-NxMxK` for every multi-rule size).
    ///
    /// ```
    /// use tcbg::tasks::TaskKind;
    /// let k = TaskKind::multi_rule(6, 2, 5).unwrap();
    /// assert_eq!(k.name(), "multi-rule-switch-6x2x5");
    /// assert_eq!(TaskKind::parse(k.name(), 0), Some(k));
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::RuleSwitch => "rule-switch",
            TaskKind::CuedRuleSwitch => "cued-rule-switch",
            TaskKind::CueContext => "cue-context",
            TaskKind::ReversalBandit => "reversal-bandit",
            TaskKind::DelayedReward { .. } => "delayed-reward",
            TaskKind::SerialReversal => "serial-reversal",
            TaskKind::NewRuleTransfer => "new-rule-transfer",
            TaskKind::ActionSequence => "action-sequence",
            TaskKind::DelayedResponse { .. } => "delayed-response",
            TaskKind::MultiRuleSwitch {
                cues,
                actions,
                rules,
            } => {
                // Every size `multi_rule` accepts, so that a row of any point
                // names its sizes.
                let by_rules: &[&str; 7] = match (cues, actions) {
                    (2, 2) => &multi_rule_names!(2, 2),
                    (3, 3) => &multi_rule_names!(3, 3),
                    (4, 2) => &multi_rule_names!(4, 2),
                    (4, 4) => &multi_rule_names!(4, 4),
                    (6, 2) => &multi_rule_names!(6, 2),
                    (6, 3) => &multi_rule_names!(6, 3),
                    (8, 2) => &multi_rule_names!(8, 2),
                    (8, 4) => &multi_rule_names!(8, 4),
                    _ => return "multi-rule-switch",
                };
                by_rules
                    .get(rules.wrapping_sub(2) as usize)
                    .copied()
                    .unwrap_or("multi-rule-switch")
            }
        }
    }

    /// `multi-rule-switch-NxMxK` (one digit each): `None` if `name` is not
    /// of that form, else the task or why its sizes do not make one.
    pub fn multi_rule_named(name: &str) -> Option<Result<TaskKind, TaskError>> {
        let b = name.strip_prefix("multi-rule-switch-")?.as_bytes();
        if b.len() != 5 || b[1] != b'x' || b[3] != b'x' {
            return None;
        }
        let d = |c: u8| c.is_ascii_digit().then(|| (c - b'0') as usize);
        Some(TaskKind::multi_rule(d(b[0])?, d(b[2])?, d(b[4])?))
    }

    /// The task named `name` (`delayed-reward` takes its delay separately;
    /// `multi-rule-switch-NxMxK` any valid sizes, one digit each).
    pub fn parse(name: &str, delay: u8) -> Option<TaskKind> {
        if let Some(k) = TaskKind::multi_rule_named(name) {
            return k.ok();
        }
        Some(match name {
            "rule-switch" => TaskKind::RuleSwitch,
            "cued-rule-switch" => TaskKind::CuedRuleSwitch,
            "cue-context" => TaskKind::CueContext,
            "reversal-bandit" => TaskKind::ReversalBandit,
            "delayed-reward" => TaskKind::DelayedReward { delay },
            "serial-reversal" => TaskKind::SerialReversal,
            "new-rule-transfer" => TaskKind::NewRuleTransfer,
            "action-sequence" => TaskKind::ActionSequence,
            "delayed-response" => TaskKind::DelayedResponse { delay },
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
            TaskKind::MultiRuleSwitch { .. } => 12,
            TaskKind::ActionSequence => 6,
            TaskKind::DelayedResponse { .. } => 4,
        }
    }

    /// Length of block `b` at the default schedule.
    pub fn block_len(&self, b: usize) -> u16 {
        match self {
            TaskKind::RuleSwitch | TaskKind::CuedRuleSwitch | TaskKind::MultiRuleSwitch { .. } => {
                50
            }
            TaskKind::CueContext => {
                if b < 2 {
                    100
                } else {
                    50
                }
            }
            TaskKind::DelayedReward { .. } | TaskKind::DelayedResponse { .. } => 100,
            TaskKind::ActionSequence => 60,
            TaskKind::ReversalBandit | TaskKind::SerialReversal | TaskKind::NewRuleTransfer => 40,
        }
    }

    /// Whether block lengths scale with [`Schedule::scale`]. Delayed reward
    /// and delayed response have no blocks to scale (their "blocks" are
    /// report windows).
    fn scales(&self) -> bool {
        !matches!(
            self,
            TaskKind::DelayedReward { .. } | TaskKind::DelayedResponse { .. }
        )
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TaskKind::DelayedReward { delay } => write!(f, "delayed-reward D={delay}"),
            TaskKind::DelayedResponse { delay } => write!(f, "delayed-response D={delay}"),
            TaskKind::MultiRuleSwitch {
                cues,
                actions,
                rules,
            } => write!(f, "multi-rule-switch-{cues}x{actions}x{rules}"),
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
    /// The Rikhye et al. 2018 protocol's own length: `cue-context` in blocks
    /// of 2000, 2000 and 400 trials (their 1000, 1000 and 200 cycles of 2
    /// trials); every other task at its normal length.
    Rikhye,
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

    /// `cue-context` at the length of Rikhye et al. 2018 ([`Scale::Rikhye`]).
    pub const RIKHYE: Schedule = Schedule {
        scale: Scale::Rikhye,
        flip_q16: 0,
    };

    /// Length of block `b` of `kind` under this schedule.
    pub fn block_len(&self, kind: TaskKind, b: usize) -> u16 {
        let l = kind.block_len(b);
        if !kind.scales() {
            return l;
        }
        match self.scale {
            Scale::Half => l >> 1,
            Scale::Normal => l,
            Scale::Double => l << 1,
            Scale::Rikhye if kind == TaskKind::CueContext => [2000, 2000, 400][b.min(2)],
            Scale::Rikhye => l,
        }
    }
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
    /// The task offers more actions than the agent has.
    TooManyActions {
        /// Actions the task offers.
        need: usize,
        /// Actions the agent has.
        have: usize,
    },
    /// The task's sizes do not make a task (the message says why).
    Shape(&'static str),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::TooFewInputs { need, have } => {
                write!(f, "the task needs {need} input lines, the agent has {have}")
            }
            TaskError::TooManyActions { need, have } => {
                write!(f, "the task offers {need} actions, the agent has {have}")
            }
            TaskError::Shape(why) => f.write_str(why),
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
    /// Step within the trial: 0 = cue, 1..=delay = blank steps (then, for
    /// delayed response, the go step); for action-sequence the position.
    phase: u8,
    cue_lines: u16,
    correct_action: u8,
    /// Result of the current trial's choice, kept across blank steps.
    pending: Option<TrialOutcome>,
    /// new-rule-transfer: this block's 4 patterns and their actions.
    patterns: [u16; 4],
    mapping: [u8; 4],
    /// multi-rule-switch: each rule's action per cue, 2 bits a cue;
    /// action-sequence: sequences A and B, 2 bits a position.
    rules: [u16; MAX_RULES],
    /// multi-rule-switch: the rule of the current block.
    rule_now: u8,
    stats: heapless::Vec<BlockStats, MAX_BLOCKS>,
    done: bool,
}

impl Task {
    /// A task with its own seed (the cue sequence and stochastic rewards,
    /// and the rules of `multi-rule-switch`). A task whose sizes are not
    /// valid ([`TaskKind::check`]) has no trials, and [`run`] refuses it.
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
            rules: [0; MAX_RULES],
            rule_now: 0,
            stats: heapless::Vec::new(),
            done: false,
        };
        if kind.check().is_err() {
            t.done = true;
            return t;
        }
        t.draw_rules();
        t.start_block();
        t
    }

    /// A random permutation of `0..n` (n <= 8) in `p[..n]`.
    fn permutation(&mut self, n: usize) -> [u8; 8] {
        let mut p: [u8; 8] = core::array::from_fn(|i| i as u8);
        for i in (1..n).rev() {
            let j = self.rng.below(i as u32 + 1) as usize;
            p.swap(i, j);
        }
        p
    }

    /// multi-rule-switch: draws the rules from the task's own generator;
    /// action-sequence: sequence A at random, B differing at every position.
    fn draw_rules(&mut self) {
        if self.kind == TaskKind::ActionSequence {
            let (mut a, mut b) = (0u16, 0u16);
            for pos in 0..SEQUENCE_LEN {
                let x = self.rng.below(4) as u16;
                let y = (x + 1 + self.rng.below(3) as u16) % 4;
                a |= x << (2 * pos);
                b |= y << (2 * pos);
            }
            self.rules[0] = a;
            self.rules[1] = b;
            return;
        }
        let TaskKind::MultiRuleSwitch {
            cues,
            actions,
            rules,
        } = self.kind
        else {
            return;
        };
        let (n, m, k) = (cues as usize, actions as usize, rules as usize);
        if n == m {
            // Rows of a random Latin square: the cyclic square with its
            // symbols and columns permuted, k of its rows in random order.
            let (p, q) = (self.permutation(n), self.permutation(n));
            let rows = self.permutation(n);
            for (i, &r) in rows[..k].iter().enumerate() {
                let mut w = 0u16;
                for c in 0..n {
                    let a = p[(q[c] as usize + r as usize) % n] as u16;
                    w |= a << (2 * c);
                }
                self.rules[i] = w;
            }
        } else {
            // Random balanced mappings, all distinct.
            let mut have = 0;
            while have < k {
                let order = self.permutation(n);
                let mut w = 0u16;
                for (i, &c) in order[..n].iter().enumerate() {
                    w |= ((i % m) as u16) << (2 * c as usize);
                }
                if !self.rules[..have].contains(&w) {
                    self.rules[have] = w;
                    have += 1;
                }
            }
        }
    }

    /// multi-rule-switch: the action rule `r` asks for on cue `c`
    /// (action-sequence: sequence `r` (0 = A, 1 = B) at position `c`).
    pub fn rule_action(&self, r: usize, c: usize) -> usize {
        ((self.rules[r % MAX_RULES] >> (2 * (c % 8))) & 3) as usize
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
            TaskKind::MultiRuleSwitch { .. } => self.rule_now,
            TaskKind::DelayedReward { .. } | TaskKind::DelayedResponse { .. } => 0,
            _ => self.block % 2,
        }
    }

    fn start_block(&mut self) {
        self.block_len = self.schedule.block_len(self.kind, self.block as usize);
        self.trial = 0;
        let _ = self.stats.push(BlockStats::default());
        if let TaskKind::MultiRuleSwitch { rules, .. } = self.kind {
            // First visits in order, then a familiar rule, never the one just left.
            self.rule_now = if self.block < rules {
                self.block
            } else {
                let r = self.rng.below(rules as u32 - 1) as u8;
                r + (r >= self.rule_now) as u8
            };
        }
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
        let rule = self.rule();
        match self.kind {
            TaskKind::ActionSequence => {
                let pos = (self.phase as usize).min(SEQUENCE_LEN - 1);
                self.cue_lines = 1 << pos;
                self.correct_action = self.rule_action(rule as usize, pos) as u8;
                return Some(StepInput {
                    lines: self.cue_lines,
                    trial_start: pos == 0,
                });
            }
            TaskKind::DelayedResponse { delay } if self.phase > 0 => {
                let go = self.phase > delay;
                return Some(StepInput {
                    lines: if go { 1 << GO_LINE } else { 0 },
                    trial_start: false,
                });
            }
            _ => {}
        }
        if self.phase > 0 {
            return Some(StepInput {
                lines: 0,
                trial_start: false,
            });
        }
        let (lines, correct) = match self.kind {
            TaskKind::RuleSwitch | TaskKind::SerialReversal | TaskKind::DelayedReward { .. } => {
                let cue = self.rng.below(2) as u8;
                (1u16 << cue, cue ^ rule)
            }
            TaskKind::DelayedResponse { .. } => {
                let cue = self.rng.below(2) as u8;
                (1u16 << cue, cue)
            }
            // (answered above)
            TaskKind::ActionSequence => (1, 0),
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
            TaskKind::MultiRuleSwitch { cues, .. } => {
                let cue = self.rng.below(cues as u32) as usize;
                (1u16 << cue, self.rule_action(rule as usize, cue) as u8)
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
        match self.kind {
            TaskKind::ActionSequence => {
                let correct = action == self.correct_action as usize;
                if correct && (self.phase as usize) < SEQUENCE_LEN - 1 {
                    self.phase += 1;
                    return (false, None);
                }
                // A wrong action ends the trial with 0; the last correct one with 1.
                self.score(correct, correct);
                return self.end_trial();
            }
            TaskKind::DelayedResponse { delay } => {
                if self.phase <= delay {
                    self.phase += 1; // the cue and blank steps: ignored
                    return (false, None);
                }
                let correct = action == self.correct_action as usize;
                self.score(correct, correct);
                return self.end_trial();
            }
            _ => {}
        }
        if self.phase == 0 {
            let correct = action == self.correct_action as usize;
            let reward = if self.kind == TaskKind::ReversalBandit {
                // 0.8 on the good arm, 0.2 on the other.
                self.rng.chance(if correct { 52429 } else { 13107 })
            } else {
                correct
            };
            self.score(correct, reward);
        }
        if self.phase < self.delay() {
            self.phase += 1;
            return (false, None);
        }
        self.end_trial()
    }

    /// The pending outcome of this trial: `correct`, rewarded if `reward`
    /// (flipped with the schedule's probability).
    fn score(&mut self, correct: bool, reward: bool) {
        let mut reward = reward;
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

    /// Ends the trial: records its pending outcome and moves on (to the next
    /// block after the last trial of one).
    fn end_trial(&mut self) -> (bool, Option<TrialOutcome>) {
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

/// A finished run: the task's name, its per-block statistics and metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The task's name ([`Environment::name`]).
    pub name: &'static str,
    /// One entry per block.
    pub blocks: heapless::Vec<BlockStats, MAX_BLOCKS>,
    /// The task's metrics ([`Environment::metrics`] of `blocks`).
    pub metrics: Metrics,
    /// Agent steps taken.
    pub steps: u32,
}

impl Report {
    /// The metrics of the task (a copy of [`Report::metrics`]).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }
}

/// Named metric values of a report (the names of TASKS.md).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// `(name, value)` pairs.
    pub values: heapless::Vec<(&'static str, f32), 8>,
}

impl Metrics {
    /// Adds metric `name` (at most 8 fit; more are dropped).
    pub fn put(&mut self, name: &'static str, v: f32) {
        let _ = self.values.push((name, v));
    }
    /// The value of metric `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The metrics every task can have, from its per-block statistics:
    /// `first_learning` (trials to criterion in block 1), `switch_cost`
    /// (mean errors in the first 10 trials of blocks 2 on),
    /// `block_end_accuracy` (mean accuracy over each block's last 10
    /// trials), `reward_rate` (rewards per trial) and
    /// `context_switches_per_block`. The default of
    /// [`Environment::metrics`].
    pub fn generic(b: &[BlockStats]) -> Metrics {
        let mut m = Metrics::default();
        m.put(
            "first_learning",
            b.first().map_or(0.0, |s| s.to_criterion as f32),
        );
        m.put(
            "switch_cost",
            mean_of(b.iter().skip(1).map(|s| s.errors_first10 as f32)),
        );
        m.put(
            "block_end_accuracy",
            mean_of(b.iter().map(|s| s.end_accuracy())),
        );
        let (r, n) = b.iter().fold((0u32, 0u32), |(r, n), s| {
            (r + s.reward as u32, n + s.trials as u32)
        });
        m.put("reward_rate", if n > 0 { r as f32 / n as f32 } else { 0.0 });
        m.put("context_switches_per_block", switches_per_block(b));
        m
    }
}

fn switches_per_block(b: &[BlockStats]) -> f32 {
    mean_of(b.iter().map(|s| s.switches as f32))
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

impl TaskKind {
    /// The metrics of TASKS.md for this task, from its per-block statistics.
    pub fn metrics(&self, b: &[BlockStats]) -> Metrics {
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
        match *self {
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
            TaskKind::ActionSequence => {
                m.put("first_learning", ttc(0));
                m.put("switch_cost", errs(2..6));
                m.put("block_end_accuracy", end_acc);
            }
            TaskKind::DelayedResponse { .. } => {
                let last = b
                    .last()
                    .map_or(0.0, |s| s.correct as f32 / s.trials.max(1) as f32);
                m.put("accuracy_last100", last);
                m.put("first_learning", ttc(0));
            }
            TaskKind::MultiRuleSwitch { rules, .. } => {
                let k = rules as usize;
                m.put("first_learning", ttc(0));
                m.put("new_rule", mean_of((1..k).map(ttc)));
                m.put("switch_cost", errs(k..b.len().max(k)));
                m.put("block_end_accuracy", end_acc);
                m.put("context_switches_per_block", switches_per_block(b));
            }
        }
        m
    }
}

/// A task the agent can learn: the suite's [`Task`] is one, and a task of
/// your own can be another. One step is one [`Agent::step`]:
/// [`Environment::next_input`] writes the observation (graded values of the
/// agent's number type, or `0`/`1` lines) and says whether a trial begins;
/// [`Environment::act`] scores the action taken on it, returning the reward
/// passed with the next step and, when a trial ends, its outcome (its block,
/// whether it was correct, the reward). Blocks are numbered from 0 and end
/// when [`Environment::block`] moves past a finished trial's block; the
/// runner keeps statistics for the first [`MAX_BLOCKS`] blocks.
///
/// ```
/// use tcbg::tasks::{run, Environment, TrialOutcome};
/// use tcbg::{Agent, Config, DefaultAgent, Num};
///
/// /// Two graded cues (0.5 or 1.0 on line 0): act 1 on the strong one.
/// /// 4 blocks of 40 trials, one step each.
/// struct Loudness { trial: u16, strong: bool, seed: u32 }
///
/// impl Environment for Loudness {
///     fn inputs(&self) -> usize { 1 }
///     fn actions(&self) -> usize { 2 }
///     fn block(&self) -> usize { (self.trial / 40) as usize }
///     fn next_input<N: Num>(&mut self, obs: &mut [N]) -> Option<bool> {
///         if self.trial >= 160 { return None; }
///         self.seed = self.seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
///         self.strong = self.seed >> 16 & 1 == 1;
///         obs[0] = N::from_f32(if self.strong { 1.0 } else { 0.5 });
///         Some(true) // every step begins a trial
///     }
///     fn act(&mut self, action: usize) -> (bool, Option<TrialOutcome>) {
///         let correct = (action == 1) == self.strong;
///         let (block, trial) = (self.block() as u8, self.trial % 40);
///         self.trial += 1;
///         (correct, Some(TrialOutcome { block, trial, correct, reward: correct }))
///     }
/// }
///
/// let mut agent: DefaultAgent = Agent::new(Config::default(), 1).unwrap();
/// let report = run(&mut agent, &mut Loudness { trial: 0, strong: false, seed: 9 }, |_| {}).unwrap();
/// assert_eq!(report.blocks.len(), 4);
/// assert!(report.metrics.get("reward_rate").is_some());
/// ```
pub trait Environment {
    /// Observation size: the input lines the task writes (the agent must
    /// have at least as many inputs).
    fn inputs(&self) -> usize;
    /// Actions offered, `0..actions()` (at most the agent's).
    fn actions(&self) -> usize;
    /// The current block (0-based). A trial's block ends when, after its
    /// outcome, this has moved on (or the task is over).
    fn block(&self) -> usize;
    /// Writes the next step's observation into `obs` (zeroed, as long as the
    /// agent's input; lines past `inputs()` stay 0) and returns whether the
    /// step begins a trial, or `None` when the task is over.
    fn next_input<N: Num>(&mut self, obs: &mut [N]) -> Option<bool>;
    /// Scores `action`, taken on the step [`Environment::next_input`] just
    /// showed: the reward to pass with the next step, and the trial's
    /// outcome when the trial ends.
    fn act(&mut self, action: usize) -> (bool, Option<TrialOutcome>);
    /// The task's name, for reports.
    fn name(&self) -> &'static str {
        "custom"
    }
    /// Whether the task can run at all (sizes, say); [`run`] checks it first.
    fn check(&self) -> Result<(), TaskError> {
        Ok(())
    }
    /// The metrics of a finished run from its per-block statistics; by
    /// default [`Metrics::generic`].
    fn metrics(&self, blocks: &[BlockStats]) -> Metrics {
        Metrics::generic(blocks)
    }
}

impl Environment for Task {
    fn inputs(&self) -> usize {
        self.kind.inputs()
    }
    fn actions(&self) -> usize {
        self.kind.actions()
    }
    fn block(&self) -> usize {
        self.block as usize
    }
    fn next_input<N: Num>(&mut self, obs: &mut [N]) -> Option<bool> {
        let inp = Task::next_input(self)?;
        for (j, o) in obs.iter_mut().enumerate().take(16) {
            if inp.lines & (1 << j) != 0 {
                *o = N::ONE;
            }
        }
        Some(inp.trial_start)
    }
    fn act(&mut self, action: usize) -> (bool, Option<TrialOutcome>) {
        Task::act(self, action)
    }
    fn name(&self) -> &'static str {
        match (self.kind, self.schedule.scale) {
            (TaskKind::CueContext, Scale::Rikhye) => "cue-context-rikhye",
            (k, _) => k.name(),
        }
    }
    fn check(&self) -> Result<(), TaskError> {
        self.kind.check()
    }
    fn metrics(&self, blocks: &[BlockStats]) -> Metrics {
        self.kind.metrics(blocks)
    }
}

/// Runs `env` to the end on `agent`, calling `on_block` after each block.
pub fn run<
    E: Environment,
    N: Kernels,
    const S: usize,
    const C: usize,
    const K: usize,
    const A: usize,
>(
    agent: &mut Agent<N, S, C, K, A>,
    env: &mut E,
    on_block: impl FnMut(&BlockStats),
) -> Result<Report, TaskError> {
    run_observed(agent, env, |_, _| {}, on_block)
}

/// [`run`], also calling `on_trial` after every trial with its outcome and
/// the agent (the host's trial log reads the active context there).
pub fn run_observed<
    E: Environment,
    N: Kernels,
    const S: usize,
    const C: usize,
    const K: usize,
    const A: usize,
>(
    agent: &mut Agent<N, S, C, K, A>,
    env: &mut E,
    mut on_trial: impl FnMut(&TrialOutcome, &Agent<N, S, C, K, A>),
    mut on_block: impl FnMut(&BlockStats),
) -> Result<Report, TaskError> {
    env.check()?;
    if S < env.inputs() {
        return Err(TaskError::TooFewInputs {
            need: env.inputs(),
            have: S,
        });
    }
    if env.actions() > A || env.actions() < 1 {
        return Err(TaskError::TooManyActions {
            need: env.actions(),
            have: A,
        });
    }
    let _ = agent.set_action_count(env.actions());
    let mut report = Report {
        name: env.name(),
        blocks: heapless::Vec::new(),
        metrics: Metrics::default(),
        steps: 0,
    };
    let mut reward = N::ZERO;
    let mut switches0 = agent.counters().switches;
    // Whether the last block in `report.blocks` is still open.
    let mut open = false;
    loop {
        let mut obs = [N::ZERO; S];
        let Some(trial_start) = env.next_input(&mut obs) else {
            break;
        };
        if trial_start {
            agent.mark_trial_start();
        }
        let a = agent.step(&obs, reward);
        report.steps = report.steps.saturating_add(1);
        let (r, out) = env.act(a);
        reward = if r { N::ONE } else { N::ZERO };
        let Some(o) = out else { continue };
        let b = o.block as usize;
        while report.blocks.len() <= b && report.blocks.len() < MAX_BLOCKS {
            // A block with no trials before this one is closed empty.
            if open {
                close(&mut report, agent, &mut switches0, &mut on_block);
            }
            let _ = report.blocks.push(BlockStats::default());
            open = true;
        }
        if let Some(s) = report.blocks.get_mut(b) {
            s.record(o.correct, o.reward);
        }
        on_trial(&o, agent);
        if open && (env.block() != b) && report.blocks.len() == b + 1 {
            close(&mut report, agent, &mut switches0, &mut on_block);
            open = false;
        }
    }
    if open {
        close(&mut report, agent, &mut switches0, &mut on_block);
    }
    report.metrics = env.metrics(&report.blocks);
    Ok(report)
}

/// Closes the last block of `report`: its end-of-block counters and the
/// agent's context switches during it.
fn close<N: Kernels, const S: usize, const C: usize, const K: usize, const A: usize>(
    report: &mut Report,
    agent: &Agent<N, S, C, K, A>,
    switches0: &mut u32,
    on_block: &mut impl FnMut(&BlockStats),
) {
    let sw = agent.counters().switches;
    if let Some(s) = report.blocks.last_mut() {
        s.finish();
        s.switches = (sw - *switches0).min(u16::MAX as u32) as u16;
        on_block(s);
    }
    *switches0 = sw;
}
