//! The evaluation's report: what `cargo xtask eval` runs ([`Plan`]: tasks,
//! seeds, lesions, number types and variations, from the command's
//! arguments), and what it prints and writes ([`Report`]): per variation
//! median [p10, p90] per metric, the learning-to-learn tasks by block and
//! the check of [`THRESHOLDS`](crate::THRESHOLDS), as aligned text or Markdown (how
//! `docs/RESULTS.md` is made), and as JSON. [`run_summary`] is the per-block
//! summary of one run (`cargo xtask run`).
//!
//! The command keeps the arguments, the progress line and the files; the
//! evaluation and its rendering live here, next to what they report on.

use std::fmt::Write as _;
use std::ops::Range;

use serde_json::{json, Value};
use tcbg::tasks::{Scale, Schedule, TaskKind};
use tcbg::Lesions;

use crate::bayes;
use crate::eval::{evaluate_specs, Progress, ResultRow, Spec, Variant};
use crate::stats::Summary;
use crate::thresholds::{check_all, fmt, Check, Status, Threshold, Tolerance};
use crate::{AgentSize, Number, RunLog, EVAL_TASK_NAMES, LESION_NAMES};

/// The error for a task name the evaluation does not know (or a
/// `multi-rule-switch` point it refuses, with the reason).
pub fn unknown_task(n: &str) -> String {
    if let Some(Err(e)) = TaskKind::multi_rule_named(n) {
        return format!("task `{n}`: {e}");
    }
    format!("unknown task `{n}` (tasks: {})", EVAL_TASK_NAMES.join(", "))
}

/// The lesion set named `l` ([`Lesions::named`]), or an error listing the names.
pub fn lesion(l: &str) -> Result<Lesions, String> {
    Lesions::named(l).ok_or_else(|| {
        format!(
            "unknown lesion `{l}` (lesions: none, {})",
            LESION_NAMES.join(", ")
        )
    })
}

/// What an evaluation runs: every task for every number type and lesion
/// (`"none"`, the full model, first) over seeds `0..seeds`, per variation.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The tasks, in report order.
    pub tasks: Vec<Spec>,
    /// Seeds `0..seeds` (a variation may shift them, [`Variant::seeds`]).
    pub seeds: u64,
    /// Lesion names, `"none"` first.
    pub lesions: Vec<String>,
    /// Number types.
    pub numbers: Vec<Number>,
    /// `default`, then the `--robust` ones if asked for.
    pub variants: Vec<Variant>,
}

impl Plan {
    /// The plan of `cargo xtask eval`'s arguments: task names (none or
    /// `all`: [`EVAL_TASK_NAMES`]), the seed count, lesion names besides the
    /// full model (`None`: [`LESION_NAMES`]; `full` is `none`), `fixed`,
    /// `f32` or `both`, and whether to add [`Variant::ROBUST`].
    pub fn new(
        tasks: &[String],
        seeds: u64,
        lesions: Option<&[String]>,
        number: &str,
        robust: bool,
    ) -> Result<Plan, String> {
        let all = tasks.is_empty() || tasks.iter().any(|t| t == "all");
        let names: Vec<&str> = match all {
            true => EVAL_TASK_NAMES.to_vec(),
            false => tasks
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect(),
        };
        let tasks = names
            .into_iter()
            .map(|n| Spec::for_name(n).ok_or_else(|| unknown_task(n)));
        let tasks = tasks.collect::<Result<Vec<_>, _>>()?.concat();
        let all: Vec<String> = LESION_NAMES.iter().map(|s| s.to_string()).collect();
        let mut names = vec!["none".to_string()];
        for l in lesions
            .unwrap_or(&all)
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            lesion(l)?;
            let l = if l == "full" { "none" } else { l }.to_string();
            if !names.contains(&l) {
                names.push(l);
            }
        }
        let numbers = Number::parse(number).map_or(Number::BOTH.to_vec(), |n| vec![n]);
        let mut variants = vec![Variant::Default];
        variants.extend(if robust { &Variant::ROBUST[..] } else { &[] });
        Ok(Plan {
            tasks,
            seeds,
            lesions: names,
            numbers,
            variants,
        })
    }

    /// `N task(s) x N number(s) x …`: the size of the plan.
    pub fn describe(&self) -> String {
        let (t, n, l) = (self.tasks.len(), self.numbers.len(), self.lesions.len());
        let (s, v) = (self.seeds, self.variants.len());
        format!("{t} task(s) x {n} number(s) x {l} lesion set(s) x {s} seeds x {v} variation(s)")
    }

    /// The rows of variation `v` ([`evaluate_specs`]), `progress` called
    /// after every run.
    pub fn evaluate(&self, v: Variant, progress: impl Fn(Progress) + Sync) -> Vec<ResultRow> {
        let lesions: Vec<&str> = self.lesions.iter().map(|s| s.as_str()).collect();
        let seeds = 0..self.seeds;
        evaluate_specs(&self.tasks, &self.numbers, &lesions, v, seeds, progress)
    }

    /// The tasks that have learning curves: the default agent's, once each.
    pub fn plotted_kinds(&self) -> Vec<TaskKind> {
        let mut kinds: Vec<TaskKind> = Vec::new();
        for s in self
            .tasks
            .iter()
            .filter(|s| !s.rikhye && s.agent == AgentSize::Default)
        {
            if !kinds.contains(&s.kind) {
                kinds.push(s.kind);
            }
        }
        kinds
    }
}

/// The rows of a plan, checked against every threshold that applies to them
/// ([`thresholds_for`](crate::thresholds::thresholds_for)) for every variation.
pub struct Report {
    /// What was run.
    pub plan: Plan,
    /// Every variation's rows.
    pub rows: Vec<ResultRow>,
    /// Every variation's checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Checks `rows` (every variation of `plan`).
    pub fn new(plan: Plan, rows: Vec<ResultRow>) -> Report {
        let checks = plan
            .variants
            .iter()
            .flat_map(|&v| check_all(&rows, v))
            .collect();
        Report { plan, rows, checks }
    }

    /// The whole report: per variation the results by task, the
    /// learning-to-learn tasks by block and the thresholds; with several
    /// variations, the thresholds by variation. Aligned text, or Markdown
    /// (`md`).
    pub fn text(&self, md: bool) -> String {
        let (rows, plan) = (&self.rows, &self.plan);
        let mut out = String::new();
        for &v in &plan.variants {
            print_table(&mut out, rows, plan, v, md);
            print_blocks(&mut out, rows, v, md);
        }
        for &v in &plan.variants {
            let c: Vec<Check> = self
                .checks
                .iter()
                .filter(|c| c.variant == v)
                .cloned()
                .collect();
            print_checks(&mut out, &c, v, plan.seeds, md);
        }
        if plan.variants.len() > 1 {
            print_robust_summary(&mut out, &self.checks, &plan.variants, md);
        }
        out
    }

    /// The Markdown file (`docs/RESULTS.md`): a head naming `command`, the
    /// one that wrote it, then [`Report::text`] as Markdown.
    pub fn markdown(&self, command: &str) -> String {
        let mut md = format!(
            "# Results\n\nWritten by `{command}`: do not edit by hand. Medians over seeds \
             with [p10, p90]; fixed point unless `f32`; `none` is the full model. Learning \
             curves: `cargo xtask eval --plots docs/figures` draws them into [figures/](figures/).\n"
        );
        md += &self.text(true);
        md
    }

    /// The results as JSON: `seeds`, `results` (task, number, lesion,
    /// variant, seed_start, metrics with median, p10, p90, mean) and `checks`;
    /// metrics in the order the tasks report them, numbers to 6 decimals,
    /// NaN as null.
    pub fn json(&self) -> Value {
        let num = |x: f64| json!((x * 1e6).round() / 1e6);
        let summary = |m: &Summary| json!({ "median": num(m.median), "p10": num(m.p10), "p90": num(m.p90), "mean": num(m.mean) });
        let results: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let metrics: serde_json::Map<String, Value> = r
                    .metrics
                    .iter()
                    .map(|(n, m)| (n.clone(), summary(m)))
                    .collect();
                let mut o = json!({
                    "task": r.task, "number": r.number.name(), "lesion": r.lesion,
                    "variant": r.variant.name(), "seed_start": r.seeds.start, "metrics": metrics,
                });
                if r.agent != AgentSize::Default {
                    o["agent"] = json!(r.agent.name());
                }
                o
            })
            .collect();
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                let (status, why) = match &c.status {
                    Status::Pass => ("pass", None),
                    Status::Miss => ("miss", None),
                    Status::NotRun(w) => ("not_run", Some(w)),
                };
                let mut o = json!({
                    "variant": c.variant.name(), "threshold": c.threshold.describe(),
                    "status": status, "value": num(c.value), "limit": num(c.limit),
                });
                if c.threshold.pending {
                    o["pending"] = json!(true);
                }
                if let Some(w) = why.filter(|w| !w.is_empty()) {
                    o["why"] = json!(w);
                }
                o
            })
            .collect();
        json!({ "seeds": self.plan.seeds, "results": results, "checks": checks })
    }

    /// [`Report::json`] pretty-printed, with a final newline.
    pub fn json_text(&self) -> String {
        serde_json::to_string_pretty(&self.json()).expect("a JSON value always prints") + "\n"
    }
}

/// A table (a head and rows of cells), with aligned columns or as Markdown.
fn table(head: Vec<String>, rows: Vec<Vec<String>>, md: bool) -> String {
    let all = || std::iter::once(&head).chain(&rows);
    if md {
        let rule = vec!["---".to_string(); head.len()];
        let lines = all().take(1).chain([&rule]).chain(&rows);
        return lines
            .map(|cells| format!("| {} |\n", cells.join(" | ")))
            .collect();
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| all().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let line = |r: &Vec<String>| {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        cells.join("  ").trim_end().to_string() + "\n"
    };
    all().map(line).collect()
}

fn cell(s: &Summary) -> String {
    format!("{} [{}, {}]", fmt(s.median), fmt(s.p10), fmt(s.p90))
}

/// The rows of the task named `task` under variation `v` (every agent).
pub fn rows_of<'a>(rows: &'a [ResultRow], task: &str, v: Variant) -> Vec<&'a ResultRow> {
    rows.iter()
        .filter(|r| r.task == task && r.variant == v)
        .collect()
}

/// By block, one line per number type, lesion and agent: the
/// learning-to-learn tasks' median trials to criterion over seeds, and every
/// multi-rule point's mean errors in a block's first 10 trials (issue 17's
/// by-block errors: first visits, then the familiar blocks whose first
/// trials are the switch cost).
fn print_blocks(out: &mut String, rows: &[ResultRow], v: Variant, md: bool) {
    let mut tasks: Vec<(&str, &str)> = [TaskKind::SerialReversal, TaskKind::NewRuleTransfer]
        .iter()
        .map(|t| (t.name(), "trials to criterion by block, median over seeds"))
        .collect();
    for r in rows {
        let multi = r.task.starts_with("multi-rule-switch-");
        if multi && !tasks.iter().any(|(t, _)| *t == r.task) {
            tasks.push((
                r.task,
                "errors in the first 10 trials by block, mean over seeds",
            ));
        }
    }
    for (name, what) in tasks {
        let rs = rows_of(rows, name, v);
        if rs.is_empty() {
            continue;
        }
        let errors = name.starts_with("multi-rule-switch-");
        let title = format!("{name} {what} (variation `{}`)", v.name());
        let lines: Vec<(String, Vec<f64>)> = rs
            .iter()
            .map(|r| {
                let blocks = if errors {
                    let b = r.per_block(|s| f64::from(s.errors_first10));
                    b.into_iter()
                        .map(|s| (s.mean * 100.0).round() / 100.0)
                        .collect()
                } else {
                    let b = r.per_block(|s| f64::from(s.to_criterion));
                    b.into_iter().map(|s| s.median).collect()
                };
                let label = format!("{} {}", r.number.name(), r.lesion);
                let label = match r.agent {
                    AgentSize::Default => label,
                    a => format!("{label} (agent {})", a.name()),
                };
                (label, blocks)
            })
            .collect();
        if md {
            let n = lines.iter().map(|(_, b)| b.len()).max().unwrap_or(0);
            let head = std::iter::once("block".to_string()).chain((1..=n).map(|b| b.to_string()));
            let rows = lines.iter().map(|(l, b)| {
                std::iter::once(l.clone())
                    .chain(b.iter().map(|x| x.to_string()))
                    .collect()
            });
            let table = table(head.collect(), rows.collect(), true);
            let _ = write!(out, "\n### {title}\n\n{table}");
        } else {
            let _ = writeln!(out, "\n{title}");
            let w = lines.iter().map(|(l, _)| l.len() + 2).max().unwrap_or(26);
            for (label, blocks) in lines {
                let b: String = blocks.iter().map(|x| format!("{x:>6}")).collect();
                let _ = writeln!(out, "{label:<w$}{b}");
            }
        }
    }
}

/// Per task: one line per (number, lesion), one column per metric.
fn print_table(out: &mut String, rows: &[ResultRow], plan: &Plan, v: Variant, md: bool) {
    let (seeds, name, schedule) = (
        v.seeds(0..plan.seeds),
        v.name(),
        describe_schedule(v.schedule()),
    );
    let Range { start, end } = seeds;
    let h = if md { "##" } else { "==" };
    let _ = writeln!(
        out,
        "\n{h} results, variation `{name}` ({schedule}; seeds {start}..{end}): median [p10, p90] over seeds"
    );
    let mut tasks: Vec<&str> = plan.tasks.iter().map(|s| s.name()).collect();
    tasks.dedup();
    for task in tasks {
        let rs = rows_of(rows, task, v);
        let Some(first) = rs.first() else { continue };
        let names = first.metrics.iter().map(|(n, _)| n.as_str());
        let names: Vec<&str> = names.filter(|n| !n.starts_with("ideal_")).collect();
        let head = std::iter::once(task).chain(names.iter().copied());
        let rows = rs.iter().map(|r| {
            let w = if md { 0 } else { 5 };
            let label = format!("{:<w$} {}", r.number.name(), r.lesion);
            let label = match r.agent {
                AgentSize::Default => label,
                a => format!("{label} (agent {})", a.name()),
            };
            let cells = names
                .iter()
                .map(|n| r.metric(n).map_or("-".into(), |s| cell(&s)));
            std::iter::once(label).chain(cells).collect()
        });
        let head = head.map(str::to_string).collect();
        let _ = write!(out, "\n{}", table(head, rows.collect(), md));
        if task == TaskKind::ReversalBandit.name() {
            let ideal = bayes::ideal_for(v.schedule());
            let (len, _) = bayes::bandit_shape(v.schedule());
            let nl = if md { "\n" } else { "" };
            let (r, t) = (fmt(ideal.reward_rate), fmt(ideal.trials_to_switch));
            let _ = writeln!(
                out,
                "{nl}ideal (Bayes observer, hazard 1/{len}): reward_rate {r}, trials_to_switch {t}"
            );
        }
    }
}

/// A schedule in words: its block lengths and its reward flips.
pub fn describe_schedule(s: Schedule) -> String {
    let scale = match s.scale {
        Scale::Half => "blocks x0.5",
        Scale::Normal => "blocks of TASKS.md",
        Scale::Double => "blocks x2",
        Scale::Rikhye => "cue-context at Rikhye et al.'s length",
    };
    match s.flip_q16 {
        0 => scale.to_string(),
        f => format!("{scale}, {:.0}% of rewards flipped", f as f64 / 655.36),
    }
}

fn status_text(s: &Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Miss => "MISS",
        Status::NotRun(_) => "n/a ",
    }
}

fn print_checks(out: &mut String, checks: &[Check], v: Variant, seeds: u64, md: bool) {
    let (h, name) = (if md { "##" } else { "==" }, v.name());
    let loose = "; counts within 1.5x, accuracies within 0.05, the bandit within 0.097 of its ideal, ratios unchanged";
    let loose = if v == Variant::Default { "" } else { loose };
    let _ = writeln!(
        out,
        "\n{h} thresholds, variation `{name}` (fixed point, full model unless named, medians over {seeds} seeds){loose}"
    );
    let w = checks
        .iter()
        .map(|c| c.threshold.describe().len())
        .max()
        .unwrap_or(0);
    if md {
        out.push_str("\n| result | threshold | measured | limit here |\n|---|---|---|---|\n");
    }
    for c in checks {
        let t = &c.threshold;
        let ideal = bayes::ideal_reward_rate(v.schedule());
        let loosened = v != Variant::Default && t.tolerance != Tolerance::Ratio;
        let limit = if loosened {
            t.limit_text(v, ideal)
        } else {
            String::new()
        };
        let detail = if let Status::NotRun(why) = &c.status {
            why
        } else {
            &c.measured
        };
        let (status, describe) = (status_text(&c.status), t.describe());
        let _ = match md {
            true => writeln!(
                out,
                "| {} | {describe} | {detail} | {limit} |",
                status.trim()
            ),
            false if loosened => {
                writeln!(out, "{status}  {describe:<w$}  {detail}  (limit {limit})")
            }
            false => writeln!(out, "{status}  {describe:<w$}  {detail}"),
        };
    }
    let pass = checks.iter().filter(|c| c.status == Status::Pass).count();
    let miss = checks.iter().filter(|c| c.status == Status::Miss).count();
    let na = checks.len() - pass - miss;
    let na = if na > 0 {
        format!(", {na} not run")
    } else {
        String::new()
    };
    let pending = checks
        .iter()
        .filter(|c| c.status == Status::Miss && !c.fails())
        .count();
    let pending = match pending {
        0 => String::new(),
        n => format!(" ({n} of them pending: issues 17 and 18, not failures yet)"),
    };
    let nl = if md { "\n" } else { "" };
    let _ = writeln!(out, "{nl}{pass} pass, {miss} miss{pending}{na}");
}

fn print_robust_summary(out: &mut String, checks: &[Check], variants: &[Variant], md: bool) {
    let _ = writeln!(
        out,
        "\n{} thresholds by variation",
        if md { "##" } else { "==" }
    );
    let head = std::iter::once(if md { "threshold" } else { "" });
    let head = head
        .chain(variants.iter().map(|v| v.name()))
        .map(str::to_string)
        .collect();
    // Each threshold once, in the order checked (the table's, then the other
    // multi-rule sizes').
    let mut thresholds: Vec<&Threshold> = Vec::new();
    for c in checks {
        if !thresholds.contains(&&c.threshold) {
            thresholds.push(&c.threshold);
        }
    }
    let rows = thresholds.into_iter().map(|t| {
        let status = variants.iter().map(|v| {
            let c = checks.iter().find(|c| c.threshold == *t && c.variant == *v);
            c.map_or("", |c| status_text(&c.status))
                .trim_end()
                .to_string()
        });
        std::iter::once(t.describe()).chain(status).collect()
    });
    let nl = if md { "\n" } else { "" };
    let _ = write!(out, "{nl}{}", table(head, rows.collect(), md));
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Accuracy of a block's trials as a sparkline of at most 20 characters.
pub fn sparkline(scores: &[bool]) -> String {
    if scores.is_empty() {
        return String::new();
    }
    let bin = scores.len().div_ceil(20);
    scores
        .chunks(bin)
        .map(|c| {
            let a = c.iter().filter(|x| **x).count() as f64 / c.len() as f64;
            SPARKS[((a * 7.0).round() as usize).min(7)]
        })
        .collect()
}

/// The end of `cargo xtask run` for one run of `kind` under `schedule`: a
/// line per block (trials, trials to criterion, errors in the first 10, end
/// accuracy, context switches, a sparkline of accuracy), then the run's
/// metrics (with the Bayes ideal for the bandit).
pub fn run_summary(log: &RunLog, kind: TaskKind, schedule: Schedule) -> String {
    let mut out = String::from("block  trials  to crit  errors/10  end acc  switches  accuracy\n");
    for (b, s) in log.blocks.iter().enumerate() {
        let scores: Vec<bool> = log
            .trials
            .iter()
            .filter(|t| t.block as usize == b)
            .map(|t| t.correct)
            .collect();
        let (n, crit, errors, acc) = (s.trials, s.to_criterion, s.errors_first10, s.end_accuracy());
        let (b, switches, spark) = (b + 1, s.switches, sparkline(&scores));
        let _ = writeln!(
            out,
            "{b:>5}  {n:>6}  {crit:>7}  {errors:>9}  {acc:>7.2}  {switches:>8}  {spark}"
        );
    }
    let suffix = crate::delay_of(kind).map_or(String::new(), |d| format!("_d{d}"));
    let mut m: Vec<String> = log
        .metrics
        .iter()
        .map(|(n, v)| format!("{n}{suffix} {}", fmt(*v)))
        .collect();
    if kind == TaskKind::ReversalBandit {
        let ideal = bayes::ideal_for(schedule);
        let (r, t) = (fmt(ideal.reward_rate), fmt(ideal.trials_to_switch));
        m.push(format!("(ideal: reward_rate {r}, trials_to_switch {t})"));
    }
    let _ = writeln!(out, "metrics: {}", m.join(", "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_bins() {
        assert_eq!(sparkline(&[false, true]), "▁█");
        assert_eq!(sparkline(&[true; 40]).chars().count(), 20);
        assert_eq!(sparkline(&[true; 50]).chars().count(), 17);
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn plans_of_arguments() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = Plan::new(&s(&["rule-switch", "cue-context"]), 3, None, "both", true).unwrap();
        assert_eq!(o.tasks.len(), 2);
        assert_eq!((o.seeds, o.variants.len()), (3, 5));
        assert_eq!(o.lesions.len(), 1 + LESION_NAMES.len());
        let o = Plan::new(&[], 20, Some(&s(&["no_meta", "full"])), "f32", false).unwrap();
        assert_eq!(o.lesions, ["none", "no_meta"]);
        assert_eq!(o.numbers, [Number::F32]);
        // The 13 tasks, the multi-rule points also on the larger agent.
        assert_eq!(o.tasks.len(), 16);
        assert_eq!(o.plotted_kinds().len(), 12);
        assert!(Plan::new(&[], 20, Some(&s(&["no_such"])), "both", false).is_err());
        assert!(Plan::new(&s(&["bogus"]), 20, None, "both", false).is_err());
    }

    #[test]
    fn json_is_valid_and_ordered() {
        let plan = Plan {
            tasks: vec![Spec::from(TaskKind::ReversalBandit)],
            seeds: 2,
            lesions: vec!["none".into()],
            numbers: vec![Number::Fixed],
            variants: vec![Variant::Default],
        };
        let rows = plan.evaluate(Variant::Default, |_| {});
        let text = Report::new(plan, rows).json_text();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["seeds"], 2);
        let r = &v["results"][0];
        assert_eq!(r["task"], "reversal-bandit");
        assert_eq!(r["number"], "fixed");
        assert_eq!(r["lesion"], "none");
        assert_eq!(r["variant"], "default");
        assert!(r["metrics"]["reward_rate"]["median"].is_number());
        assert!(r["metrics"]["ideal_reward_rate"]["p90"].is_number());
        let first_metric = text.find("\"reward_rate\"").unwrap();
        assert!(first_metric < text.find("\"trials_to_switch\"").unwrap());
    }
}
