//! The suite over seeds: every (task, number, lesion) for a range of seeds,
//! in parallel, summarised per metric (median, 10th and 90th percentile).

use crate::bayes;
use crate::stats::Summary;
use crate::{
    assemble, kinds_of, lesion_name, run_task_on, steps_per_trial, total_trials, AgentSize, Number,
    RunLog, RunResult,
};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use tcbg::tasks::{Scale, Schedule, TaskKind};
use tcbg::Lesions;

/// A variation of the evaluation (`--robust` runs each on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// The schedules of TASKS.md, seeds as given.
    Default,
    /// Every block half as long ([`Scale::Half`]).
    Half,
    /// Every block twice as long ([`Scale::Double`]).
    Double,
    /// 5% of rewards flipped ([`Schedule::FLIP5`]).
    Flip5,
    /// Fresh seeds: the seed range shifted by 1000 (seeds 1000 onward).
    Seeds1000,
}

impl Variant {
    /// The four variations of `--robust`.
    pub const ROBUST: [Variant; 4] = [
        Variant::Half,
        Variant::Double,
        Variant::Flip5,
        Variant::Seeds1000,
    ];

    /// `"default"`, `"half"`, `"double"`, `"flip5"` or `"seeds1000"`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Default => "default",
            Variant::Half => "half",
            Variant::Double => "double",
            Variant::Flip5 => "flip5",
            Variant::Seeds1000 => "seeds1000",
        }
    }

    /// The variant named `s`.
    pub fn parse(s: &str) -> Option<Variant> {
        [
            Variant::Default,
            Variant::Half,
            Variant::Double,
            Variant::Flip5,
            Variant::Seeds1000,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }

    /// The task schedule of the variant.
    pub fn schedule(self) -> Schedule {
        match self {
            Variant::Half => Schedule {
                scale: Scale::Half,
                ..Schedule::default()
            },
            Variant::Double => Schedule {
                scale: Scale::Double,
                ..Schedule::default()
            },
            Variant::Flip5 => Schedule::FLIP5,
            Variant::Default | Variant::Seeds1000 => Schedule::default(),
        }
    }

    /// The seeds the variant runs for a requested range (`seeds1000` shifts
    /// it by 1000: `0..20` becomes `1000..1020`).
    pub fn seeds(self, seeds: Range<u64>) -> Range<u64> {
        match self {
            Variant::Seeds1000 => seeds.start + 1000..seeds.end + 1000,
            _ => seeds,
        }
    }
}

/// One task of the evaluation: a task, its protocol and the agent it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    /// The task.
    pub kind: TaskKind,
    /// `cue-context` at the length of Rikhye et al. 2018
    /// ([`Schedule::RIKHYE`]): the row's task is `cue-context-rikhye`.
    pub rikhye: bool,
    /// The agent.
    pub agent: AgentSize,
}

impl From<TaskKind> for Spec {
    fn from(kind: TaskKind) -> Spec {
        Spec {
            kind,
            rikhye: false,
            agent: AgentSize::Default,
        }
    }
}

impl Spec {
    /// The row's task name: the kind's, or `cue-context-rikhye`.
    pub fn name(&self) -> &'static str {
        if self.rikhye {
            "cue-context-rikhye"
        } else {
            self.kind.name()
        }
    }

    /// The schedule under `variant`: the variant's, but the Rikhye protocol
    /// keeps its own block lengths (only reward flips apply).
    pub fn schedule(&self, variant: Variant) -> Schedule {
        let s = variant.schedule();
        if self.rikhye {
            Schedule {
                scale: Scale::Rikhye,
                ..s
            }
        } else {
            s
        }
    }

    /// Whether the spec runs under `variant`: the Rikhye protocol has fixed
    /// lengths, so not under `half` and `double`.
    pub fn runs_in(&self, variant: Variant) -> bool {
        !(self.rikhye && matches!(variant, Variant::Half | Variant::Double))
    }

    /// What the evaluation runs for a task name of
    /// [`crate::EVAL_TASK_NAMES`] (or any name [`TaskKind::parse`] knows):
    /// a `multi-rule-switch` point also on the larger agent.
    pub fn for_name(name: &str) -> Option<Vec<Spec>> {
        if name == "cue-context-rikhye" {
            return Some(vec![Spec {
                rikhye: true,
                ..Spec::from(TaskKind::CueContext)
            }]);
        }
        let kind = TaskKind::parse(name, 0)?;
        let mut v = vec![Spec::from(kind)];
        if matches!(kind, TaskKind::MultiRuleSwitch { .. }) {
            v.push(Spec {
                agent: AgentSize::Large,
                ..Spec::from(kind)
            });
        }
        Some(v)
    }
}

/// One (task, number, lesion, variant, agent) over seeds.
#[derive(Clone, Debug)]
pub struct ResultRow {
    /// Task name.
    pub task: &'static str,
    /// The agent.
    pub agent: AgentSize,
    /// Number type.
    pub number: Number,
    /// Lesion name (`"none"` for the full model).
    pub lesion: String,
    /// The variation.
    pub variant: Variant,
    /// The schedule run.
    pub schedule: Schedule,
    /// The seeds run.
    pub seeds: Range<u64>,
    /// Per metric, its summary over seeds. Reversal-bandit rows also carry
    /// `ideal_reward_rate` and `ideal_trials_to_switch`, the Bayes observer
    /// on the row's schedule ([`bayes::ideal_for`]; constant over seeds).
    pub metrics: Vec<(String, Summary)>,
    /// The runs, one per seed, in seed order.
    pub runs: Vec<RunResult>,
}

impl ResultRow {
    /// The summary of metric `name`.
    pub fn metric(&self, name: &str) -> Option<Summary> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
    }

    /// Per-seed values of metric `name` (seed order).
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.metric(name)).collect()
    }

    /// Per block of the (first) run, the summary over seeds of `field` of
    /// its block statistics: the picture of learning to learn.
    pub fn per_block(&self, field: impl Fn(&tcbg::tasks::BlockStats) -> f64) -> Vec<Summary> {
        let blocks = self.runs.first().map_or(0, |x| x.runs[0].blocks.len());
        (0..blocks)
            .map(|b| {
                let vals: Vec<f64> = self
                    .runs
                    .iter()
                    .filter_map(|x| x.runs[0].blocks.get(b))
                    .map(&field)
                    .collect();
                Summary::of(&vals)
            })
            .collect()
    }
}

/// Progress of [`evaluate`], reported after every finished run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Runs finished (a delayed-reward seed is four runs).
    pub done_runs: usize,
    /// Runs in all.
    pub total_runs: usize,
    /// Agent steps finished (the work measure for an ETA).
    pub done_steps: u64,
    /// Agent steps in all.
    pub total_steps: u64,
}

struct Job {
    row: usize,
    seed_index: usize,
    sub: usize,
    agent: AgentSize,
    kind: TaskKind,
    number: Number,
    lesions: Lesions,
    schedule: Schedule,
    seed: u64,
    steps: u64,
}

/// Threads [`evaluate`] uses: the machine's parallelism, at most 2 unless
/// `TCBG_EVAL_THREADS` says otherwise.
pub fn threads() -> usize {
    if let Some(n) = std::env::var("TCBG_EVAL_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        return n.max(1);
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2)
}

/// Runs every task of `tasks` (a `DelayedReward` stands for its four
/// delays) for every number and lesion (names of [`Lesions::named`],
/// `"none"` for the full model) over `variant.seeds(seeds)`, on
/// [`threads`] threads, and summarises each metric. Rows come in the order
/// task, number, lesion; `progress` is called (from the worker threads)
/// after each run.
///
/// Panics on an unknown lesion name.
pub fn evaluate(
    tasks: &[TaskKind],
    numbers: &[Number],
    lesions: &[&str],
    variant: Variant,
    seeds: Range<u64>,
    progress: impl Fn(Progress) + Sync,
) -> Vec<ResultRow> {
    let specs: Vec<Spec> = tasks.iter().map(|&k| Spec::from(k)).collect();
    evaluate_specs(&specs, numbers, lesions, variant, seeds, progress)
}

/// [`evaluate`] over [`Spec`]s (a protocol and an agent besides the task);
/// a spec that does not run in `variant` ([`Spec::runs_in`]) has no rows,
/// and the larger agent ([`AgentSize::Large`]) runs in fixed point only.
pub fn evaluate_specs(
    specs: &[Spec],
    numbers: &[Number],
    lesions: &[&str],
    variant: Variant,
    seeds: Range<u64>,
    progress: impl Fn(Progress) + Sync,
) -> Vec<ResultRow> {
    let seeds = variant.seeds(seeds);
    let n_seeds = (seeds.end.saturating_sub(seeds.start)) as usize;
    let mut rows = Vec::new();
    let mut jobs = Vec::new();
    for spec in specs.iter().filter(|s| s.runs_in(variant)) {
        let (task, schedule) = (spec.kind, spec.schedule(variant));
        // The larger agent runs in fixed point only.
        let numbers = numbers
            .iter()
            .filter(|&&n| spec.agent == AgentSize::Default || n == Number::Fixed);
        for &number in numbers {
            for &lname in lesions {
                let l = Lesions::named(lname).unwrap_or_else(|| panic!("unknown lesion `{lname}`"));
                let row = rows.len();
                rows.push((*spec, number, l));
                for (si, seed) in seeds.clone().enumerate() {
                    for (sub, kind) in kinds_of(task).into_iter().enumerate() {
                        let steps = (total_trials(kind, schedule) * steps_per_trial(kind)) as u64;
                        jobs.push(Job {
                            row,
                            seed_index: si,
                            sub,
                            agent: spec.agent,
                            kind,
                            number,
                            lesions: l,
                            schedule,
                            seed,
                            steps,
                        });
                    }
                }
            }
        }
    }
    // Longest first, so the two threads finish together.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.steps));
    let total_steps: u64 = jobs.iter().map(|j| j.steps).sum();
    let total_runs = jobs.len();
    let next = AtomicUsize::new(0);
    let done_runs = AtomicUsize::new(0);
    let done_steps = AtomicU64::new(0);
    let results: Mutex<Vec<Option<RunLog>>> = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads().min(jobs.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(j) = jobs.get(i) else { break };
                let log = run_task_on(
                    j.agent,
                    j.kind,
                    j.number,
                    j.lesions,
                    j.schedule,
                    j.seed,
                    |_| {},
                );
                results.lock().unwrap()[i] = Some(log);
                let d = done_runs.fetch_add(1, Ordering::Relaxed) + 1;
                let st = done_steps.fetch_add(j.steps, Ordering::Relaxed) + j.steps;
                progress(Progress {
                    done_runs: d,
                    total_runs,
                    done_steps: st,
                    total_steps,
                });
            });
        }
    });
    let results = results.into_inner().unwrap();
    // Regroup: row -> seed -> sub-runs in delay order.
    let mut grouped: Vec<Vec<Vec<Option<RunLog>>>> = rows
        .iter()
        .map(|(spec, _, _)| {
            (0..n_seeds)
                .map(|_| vec![None; kinds_of(spec.kind).len()])
                .collect()
        })
        .collect();
    for (j, r) in jobs.iter().zip(results) {
        grouped[j.row][j.seed_index][j.sub] = r;
    }
    rows.into_iter()
        .zip(grouped)
        .map(|((spec, number, l), per_seed)| {
            let (task, schedule) = (spec.kind, spec.schedule(variant));
            let runs: Vec<RunResult> = per_seed
                .into_iter()
                .zip(seeds.clone())
                .map(|(subs, seed)| {
                    let subs = subs
                        .into_iter()
                        .map(|r| r.expect("every job ran"))
                        .collect();
                    assemble(task, number, l, schedule, seed, subs)
                })
                .collect();
            let mut row = summarise(
                task,
                number,
                &lesion_name(l),
                variant,
                schedule,
                seeds.clone(),
                runs,
            );
            row.task = spec.name();
            row.agent = spec.agent;
            row
        })
        .collect()
}

/// The row of `runs`: each metric's summary over seeds, in the metrics'
/// order, plus the Bayes ideal for the reversal bandit.
pub fn summarise(
    task: TaskKind,
    number: Number,
    lesion: &str,
    variant: Variant,
    schedule: Schedule,
    seeds: Range<u64>,
    runs: Vec<RunResult>,
) -> ResultRow {
    let mut names: Vec<String> = Vec::new();
    for r in &runs {
        for (n, _) in &r.metrics {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let mut metrics: Vec<(String, Summary)> = names
        .into_iter()
        .map(|n| {
            let v: Vec<f64> = runs.iter().filter_map(|r| r.metric(&n)).collect();
            let s = Summary::of(&v);
            (n, s)
        })
        .collect();
    if task == TaskKind::ReversalBandit {
        let ideal = bayes::ideal_for(schedule);
        metrics.push((
            "ideal_reward_rate".into(),
            Summary::constant(ideal.reward_rate),
        ));
        metrics.push((
            "ideal_trials_to_switch".into(),
            Summary::constant(ideal.trials_to_switch),
        ));
    }
    ResultRow {
        task: task.name(),
        agent: AgentSize::Default,
        number,
        lesion: lesion.to_string(),
        variant,
        schedule,
        seeds,
        metrics,
        runs,
    }
}

/// The row of `rows` for (`task`, `number`, `lesion`, `variant`) on the
/// default agent.
pub fn find<'a>(
    rows: &'a [ResultRow],
    task: &str,
    number: Number,
    lesion: &str,
    variant: Variant,
) -> Option<&'a ResultRow> {
    find_on(rows, task, number, lesion, variant, AgentSize::Default)
}

/// [`find`] on the agent `agent`.
pub fn find_on<'a>(
    rows: &'a [ResultRow],
    task: &str,
    number: Number,
    lesion: &str,
    variant: Variant,
    agent: AgentSize,
) -> Option<&'a ResultRow> {
    rows.iter().find(|r| {
        r.task == task
            && r.number == number
            && r.lesion == lesion
            && r.variant == variant
            && r.agent == agent
    })
}

/// A learning curve: for each trial, the median over runs of the score (see
/// [`RunLog::curve_value`]) averaged over a window of `window` trials
/// centred on it and clipped to its block (see [`smooth`]). `runs` must
/// share one schedule.
pub fn learning_curve(runs: &[&RunLog], window: usize) -> Vec<f64> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let n = first.trials.len();
    let smoothed: Vec<Vec<f64>> = runs.iter().map(|r| smooth(r, window)).collect();
    (0..n)
        .map(|t| {
            let v: Vec<f64> = smoothed.iter().filter_map(|s| s.get(t).copied()).collect();
            crate::stats::percentile(&v, 50.0).unwrap_or(f64::NAN)
        })
        .collect()
}

/// One run's score averaged over `window` trials centred on each trial
/// (`window/2` before it, the rest from it on), clipped to its block, so
/// block boundaries stay sharp and no point rests on a single trial.
pub fn smooth(run: &RunLog, window: usize) -> Vec<f64> {
    let w = window.max(1);
    let n = run.trials.len();
    let mut starts = vec![0];
    starts.extend(block_starts(run));
    starts.push(n);
    let mut out = Vec::with_capacity(n);
    for b in starts.windows(2) {
        let (s, e) = (b[0], b[1]);
        for i in s..e {
            let lo = i.saturating_sub(w / 2).max(s);
            let hi = (lo + w).min(e);
            let lo = hi.saturating_sub(w).max(s);
            let seg = &run.trials[lo..hi];
            out.push(seg.iter().filter(|x| run.curve_value(x)).count() as f64 / seg.len() as f64);
        }
    }
    out
}

/// Trial indices (0-based) at which blocks start, after the first.
pub fn block_starts(run: &RunLog) -> Vec<usize> {
    (1..run.trials.len())
        .filter(|&i| run.trials[i].block != run.trials[i - 1].block)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluate_is_deterministic_and_parallel_safe() {
        let tasks = [TaskKind::RuleSwitch, TaskKind::ReversalBandit];
        let seen = AtomicUsize::new(0);
        let rows = evaluate(
            &tasks,
            &[Number::Fixed],
            &["none", "no_thalamus"],
            Variant::Default,
            0..3,
            |p| {
                seen.fetch_max(p.done_runs, Ordering::Relaxed);
                assert!(p.done_steps <= p.total_steps);
            },
        );
        assert_eq!(seen.load(Ordering::Relaxed), 12);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].task, "rule-switch");
        assert_eq!(rows[1].lesion, "no_thalamus");
        // Same as running each seed alone.
        for (i, seed) in (0..3).enumerate() {
            let r = crate::run_one(
                TaskKind::RuleSwitch,
                Number::Fixed,
                Lesions::NONE,
                Schedule::default(),
                seed,
            );
            assert_eq!(rows[0].runs[i].metrics, r.metrics);
        }
        let v = rows[0].values("switch_cost");
        assert_eq!(rows[0].metric("switch_cost").unwrap(), Summary::of(&v));
        let bandit = find(
            &rows,
            "reversal-bandit",
            Number::Fixed,
            "none",
            Variant::Default,
        )
        .unwrap();
        let ideal = bandit.metric("ideal_reward_rate").unwrap().median;
        assert!((ideal - 0.727).abs() < 0.004);
    }

    #[test]
    fn variants() {
        assert_eq!(Variant::Seeds1000.seeds(0..20), 1000..1020);
        assert_eq!(Variant::Half.seeds(0..20), 0..20);
        assert_eq!(Variant::Flip5.schedule(), Schedule::FLIP5);
        for v in Variant::ROBUST {
            assert_eq!(Variant::parse(v.name()), Some(v));
        }
    }

    #[test]
    fn smoothing_stays_in_blocks() {
        let log = crate::run_task(
            TaskKind::RuleSwitch,
            Number::Fixed,
            Lesions::NONE,
            Schedule::default(),
            1,
        );
        let s = smooth(&log, 10);
        assert_eq!(s.len(), 400);
        assert_eq!(block_starts(&log), vec![50, 100, 150, 200, 250, 300, 350]);
        let mean = |r: std::ops::Range<usize>| {
            let n = r.len() as f64;
            log.trials[r].iter().filter(|t| t.correct).count() as f64 / n
        };
        // A block's first trial averages its first 10 trials, its last the last 10.
        for b in block_starts(&log) {
            assert_eq!(s[b], mean(b..b + 10));
            assert_eq!(s[b - 1], mean(b - 10..b));
        }
        // Inside a block, trials i-5 .. i+5.
        assert_eq!(s[120], mean(115..125));
        let c = learning_curve(&[&log, &log], 10);
        assert_eq!(c, s);
    }
}
