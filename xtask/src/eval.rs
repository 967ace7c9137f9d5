//! `cargo xtask eval` and `cargo xtask run`: the task suite over seeds, and
//! one task on the host with a live progress line.
//!
//! `eval` runs every task for the full model and each lesion, fixed point
//! and `f32`, over seeds `0..N`; prints median [p10, p90] per metric, the
//! learning-to-learn tasks by block and the check of
//! [`tcbg_tests::thresholds::THRESHOLDS`], also as Markdown (how
//! `docs/RESULTS.md` is made), JSON and SVG learning curves. `--robust` adds
//! the variations `half`, `double`, `flip5` and `seeds1000`, each checked
//! against loosened thresholds. The model is some 30× faster optimised than
//! in `cargo xtask`'s dev profile, so `eval` re-runs itself from the release
//! build (unless `--dev`).
//!
//! `run` ends with one line per block (trials to criterion, errors in the
//! first 10, end accuracy, context switches, a sparkline of accuracy) and
//! the task's metrics.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tcbg::tasks::{Schedule, TaskKind};
use tcbg::Lesions;
use tcbg_tests::bayes;
use tcbg_tests::eval::Variant;
use tcbg_tests::eval::{block_starts, evaluate_specs, learning_curve, Progress, ResultRow, Spec};
use tcbg_tests::stats::Summary;
use tcbg_tests::thresholds::{check_all, fmt, Check, Status, Tolerance, THRESHOLDS};
use tcbg_tests::{delay_of, kinds_of, run_task_with, AgentSize, Live, Number, RunLog};
use tcbg_tests::{EVAL_TASK_NAMES, LESION_NAMES};

use crate::{setup, Res};

/// `cargo xtask eval`'s options.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// Tasks (default all: rule-switch, cued-rule-switch, cue-context,
    /// reversal-bandit, delayed-reward, serial-reversal, new-rule-transfer,
    /// multi-rule-switch-3x3x3, -4x2x3, -4x2x6 (also on the 16-96-8-8
    /// agent), cue-context-rikhye, action-sequence, delayed-response)
    #[arg(long, value_delimiter = ',', value_name = "T,..")]
    task: Vec<String>,
    /// Seeds 0..N
    #[arg(long, default_value_t = 20, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Lesions besides the full model (default all: no_thalamus,
    /// no_context_selection, no_traces, no_dopamine, no_meta, no_amplification;
    /// `none` for none)
    #[arg(long, value_delimiter = ',', value_name = "a,b")]
    lesions: Option<Vec<String>>,
    /// Number types
    #[arg(long, default_value = "both", value_parser = ["fixed", "f32", "both"])]
    number: String,
    /// Also run the variations half, double, flip5 and seeds1000
    #[arg(long)]
    robust: bool,
    /// Write the results as JSON
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the results as Markdown tables (docs/RESULTS.md)
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Write SVG learning curves
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Do not re-run in the release profile
    #[arg(long)]
    dev: bool,
}

/// `cargo xtask run`'s options.
#[derive(clap::Args)]
pub struct RunArgs {
    #[arg(long, value_name = "T")]
    task: String,
    /// Agent and task seed
    #[arg(long, default_value_t = 1, value_name = "N")]
    seed: u64,
    /// One lesion
    #[arg(long, default_value = "none", value_name = "L")]
    lesion: String,
    /// The f32 oracle instead of fixed point
    #[arg(long)]
    f32: bool,
    /// delayed-reward: one delay (default all of 0, 2, 5, 10); delayed-response:
    /// one delay (default all of 1, 3, 6)
    #[arg(long, value_name = "D")]
    delay: Option<u8>,
    /// half, double or flip5 (default: the schedules of TASKS.md)
    #[arg(long, value_name = "V")]
    variant: Option<String>,
}

/// A single updating progress line on stderr (sparse plain lines, one per
/// tenth, when stderr is not a terminal).
struct Bar {
    label: String,
    start: Instant,
    tty: bool,
    last: Mutex<(Instant, usize)>,
}

impl Bar {
    fn new(label: &str) -> Bar {
        let (start, tty) = (Instant::now(), std::io::stderr().is_terminal());
        Bar { label: label.into(), start, tty, last: Mutex::new((start, 0)) }
    }

    fn update(&self, p: Progress) {
        let mut last = self.last.lock().unwrap();
        let frac = if p.total_steps > 0 { p.done_steps as f64 / p.total_steps as f64 } else { 1.0 };
        let (done, decile) = (p.done_runs == p.total_runs, (frac * 10.0) as usize);
        let early =
            if self.tty { last.0.elapsed() < Duration::from_millis(100) } else { decile <= last.1 };
        if early && !done {
            return;
        }
        *last = (Instant::now(), decile);
        let el = self.start.elapsed().as_secs_f64();
        let eta = if frac > 0.0 { el * (1.0 - frac) / frac } else { 0.0 };
        let minutes = |s: f64| format!("{}:{:02}", s as u64 / 60, s as u64 % 60);
        let filled = ((frac * 30.0) as usize).min(30);
        let (bar, rest) = ("#".repeat(filled), "-".repeat(30 - filled));
        let (label, pct, runs, total) = (&self.label, frac * 100.0, p.done_runs, p.total_runs);
        let (el, eta) = (minutes(el), minutes(eta));
        let line = format!(
            "{label} [{bar}{rest}] {pct:3.0}%  {runs}/{total} runs  {el} elapsed  ETA {eta}"
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }
}

struct EvalOptions {
    tasks: Vec<Spec>,
    seeds: u64,
    lesions: Vec<String>,
    numbers: Vec<Number>,
    variants: Vec<Variant>,
}

fn unknown_task(n: &str) -> String {
    if let Some(Err(e)) = TaskKind::multi_rule_named(n) {
        return format!("task `{n}`: {e}");
    }
    format!("unknown task `{n}` (tasks: {})", EVAL_TASK_NAMES.join(", "))
}

fn lesion(l: &str) -> Res<Lesions> {
    Lesions::named(l)
        .ok_or_else(|| format!("unknown lesion `{l}` (lesions: none, {})", LESION_NAMES.join(", ")))
}

fn eval_options(a: &EvalArgs) -> Res<EvalOptions> {
    let all = a.task.is_empty() || a.task.iter().any(|t| t == "all");
    let names: Vec<&str> = match all {
        true => EVAL_TASK_NAMES.to_vec(),
        false => a.task.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect(),
    };
    let tasks = names.into_iter().map(|n| Spec::for_name(n).ok_or_else(|| unknown_task(n)));
    let tasks = tasks.collect::<Result<Vec<_>, _>>()?.concat();
    let mut lesions = vec!["none".to_string()];
    let all = || LESION_NAMES.iter().map(|s| s.to_string()).collect();
    for l in
        a.lesions.clone().unwrap_or_else(all).iter().map(|s| s.trim()).filter(|s| !s.is_empty())
    {
        lesion(l)?;
        let l = if l == "full" { "none" } else { l }.to_string();
        if !lesions.contains(&l) {
            lesions.push(l);
        }
    }
    let numbers = Number::parse(&a.number).map_or(Number::BOTH.to_vec(), |n| vec![n]);
    let mut variants = vec![Variant::Default];
    variants.extend(if a.robust { &Variant::ROBUST[..] } else { &[] });
    Ok(EvalOptions { tasks, seeds: a.seeds, lesions, numbers, variants })
}

pub fn main(a: EvalArgs) -> Res {
    let opts = eval_options(&a)?;
    if let Some(r) = setup::reexec_release(a.dev, "about 30x faster than dev") {
        return r;
    }
    let start = Instant::now();
    let lesions: Vec<&str> = opts.lesions.iter().map(|s| s.as_str()).collect();
    let mut rows: Vec<ResultRow> = Vec::new();
    let (t, n, l, v) = (opts.tasks.len(), opts.numbers.len(), lesions.len(), opts.variants.len());
    let (s, threads) = (opts.seeds, tcbg_tests::eval::threads());
    eprintln!(
        "eval: {t} task(s) x {n} number(s) x {l} lesion set(s) x {s} seeds x {v} variation(s), {threads} threads"
    );
    for &v in &opts.variants {
        let bar = Bar::new(&format!("{:>9}", v.name()));
        let seeds = 0..opts.seeds;
        let (tasks, numbers) = (&opts.tasks, &opts.numbers);
        rows.extend(evaluate_specs(tasks, numbers, &lesions, v, seeds, |p| bar.update(p)));
        if bar.tty {
            eprintln!();
        }
    }
    let elapsed = start.elapsed();
    let checks: Vec<Check> = opts.variants.iter().flat_map(|&v| check_all(&rows, v)).collect();
    print!("{}", report(&rows, &checks, &opts, false));
    println!("evaluated in {:.1} s", elapsed.as_secs_f64());

    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&to_json(&rows, &checks, opts.seeds));
        setup::write(path, text.map_err(|e| e.to_string())? + "\n")?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &a.markdown {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut md = format!(
            "# Results\n\nWritten by `cargo xtask {}`: do not edit by hand. Medians over seeds \
             with [p10, p90]; fixed point unless `f32`; `none` is the full model. Learning \
             curves: `cargo xtask eval --plots docs/figures` draws them into [figures/](figures/).\n",
            args.join(" ")
        );
        md += &report(&rows, &checks, &opts, true);
        setup::write(path, md)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &a.plots {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut kinds: Vec<TaskKind> = Vec::new();
        for s in opts.tasks.iter().filter(|s| !s.rikhye && s.agent == AgentSize::Default) {
            if !kinds.contains(&s.kind) {
                kinds.push(s.kind);
            }
        }
        let n = opts.variants.iter().map(|&v| plots::write_all(dir, &rows, &kinds, v));
        let n = n.sum::<Result<usize, _>>()?;
        eprintln!("wrote {n} plots to {}", dir.display());
    }
    Ok(())
}

/// A table (a head and rows of cells), with aligned columns or as Markdown.
fn table(head: Vec<String>, rows: Vec<Vec<String>>, md: bool) -> String {
    let all = || std::iter::once(&head).chain(&rows);
    if md {
        let rule = vec!["---".to_string(); head.len()];
        let lines = all().take(1).chain([&rule]).chain(&rows);
        return lines.map(|cells| format!("| {} |\n", cells.join(" | "))).collect();
    }
    let widths: Vec<usize> =
        (0..head.len()).map(|i| all().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let line = |r: &Vec<String>| {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        cells.join("  ").trim_end().to_string() + "\n"
    };
    all().map(line).collect()
}

/// The whole report: per variation the results by task, the learning-to-learn
/// tasks by block and the thresholds; with several variations, the
/// thresholds by variation. Aligned text, or Markdown (`md`).
fn report(rows: &[ResultRow], checks: &[Check], opts: &EvalOptions, md: bool) -> String {
    let mut out = String::new();
    for &v in &opts.variants {
        print_table(&mut out, rows, opts, v, md);
        print_blocks(&mut out, rows, v, md);
    }
    for &v in &opts.variants {
        let c: Vec<Check> = checks.iter().filter(|c| c.variant == v).cloned().collect();
        print_checks(&mut out, &c, v, opts.seeds, md);
    }
    if opts.variants.len() > 1 {
        print_robust_summary(&mut out, checks, &opts.variants, md);
    }
    out
}

fn cell(s: &Summary) -> String {
    format!("{} [{}, {}]", fmt(s.median), fmt(s.p10), fmt(s.p90))
}

/// The rows of the task named `task` under variation `v` (every agent).
fn rows_of<'a>(rows: &'a [ResultRow], task: &str, v: Variant) -> Vec<&'a ResultRow> {
    rows.iter().filter(|r| r.task == task && r.variant == v).collect()
}

/// The learning-to-learn tasks by block: median trials to criterion over
/// seeds, one line per number type and lesion.
fn print_blocks(out: &mut String, rows: &[ResultRow], v: Variant, md: bool) {
    for task in [TaskKind::SerialReversal, TaskKind::NewRuleTransfer] {
        let rs = rows_of(rows, task.name(), v);
        if rs.is_empty() {
            continue;
        }
        let (name, variant) = (task.name(), v.name());
        let title = format!(
            "{name} trials to criterion by block, median over seeds (variation `{variant}`)"
        );
        let lines: Vec<(String, Vec<f64>)> = rs
            .iter()
            .map(|r| {
                let blocks = r.per_block(|s| s.to_criterion as f64).into_iter().map(|s| s.median);
                (format!("{} {}", r.number.name(), r.lesion), blocks.collect())
            })
            .collect();
        if md {
            let n = lines.iter().map(|(_, b)| b.len()).max().unwrap_or(0);
            let head = std::iter::once("block".to_string()).chain((1..=n).map(|b| b.to_string()));
            let rows = lines.iter().map(|(l, b)| {
                std::iter::once(l.clone()).chain(b.iter().map(|x| x.to_string())).collect()
            });
            let _ = write!(out, "\n### {title}\n\n{}", table(head.collect(), rows.collect(), true));
        } else {
            let _ = writeln!(out, "\n{title}");
            for (label, blocks) in lines {
                let b: String = blocks.iter().map(|x| format!("{x:>5}")).collect();
                let _ = writeln!(out, "{label:<26}{b}");
            }
        }
    }
}

/// Per task: one line per (number, lesion), one column per metric.
fn print_table(out: &mut String, rows: &[ResultRow], opts: &EvalOptions, v: Variant, md: bool) {
    let (seeds, name, schedule) =
        (v.seeds(0..opts.seeds), v.name(), describe_schedule(v.schedule()));
    let (from, to, h) = (seeds.start, seeds.end, if md { "##" } else { "==" });
    let _ = writeln!(
        out,
        "\n{h} results, variation `{name}` ({schedule}; seeds {from}..{to}): median [p10, p90] over seeds"
    );
    let mut tasks: Vec<&str> = opts.tasks.iter().map(|s| s.name()).collect();
    tasks.dedup();
    for task in tasks {
        let rs = rows_of(rows, task, v);
        let Some(first) = rs.first() else { continue };
        let names = first.metrics.iter().map(|(n, _)| n.as_str());
        let names: Vec<&str> = names.filter(|n| !n.starts_with("ideal_")).collect();
        let head = std::iter::once(task).chain(names.iter().copied());
        let rows = rs.iter().map(|r| {
            let label = format!("{:<w$} {}", r.number.name(), r.lesion, w = if md { 0 } else { 5 });
            let label = match r.agent {
                AgentSize::Default => label,
                a => format!("{label} (agent {})", a.name()),
            };
            let cells = names.iter().map(|n| r.metric(n).map_or("-".into(), |s| cell(&s)));
            std::iter::once(label).chain(cells).collect()
        });
        let _ = write!(out, "\n{}", table(head.map(str::to_string).collect(), rows.collect(), md));
        if task == TaskKind::ReversalBandit.name() {
            let ideal = bayes::ideal_for(v.schedule());
            let (len, _) = bayes::bandit_shape(v.schedule());
            let (nl, r, t) =
                (if md { "\n" } else { "" }, fmt(ideal.reward_rate), fmt(ideal.trials_to_switch));
            let _ = writeln!(
                out,
                "{nl}ideal (Bayes observer, hazard 1/{len}): reward_rate {r}, trials_to_switch {t}"
            );
        }
    }
}

fn describe_schedule(s: Schedule) -> String {
    let scale = match s.scale {
        tcbg::tasks::Scale::Half => "blocks x0.5",
        tcbg::tasks::Scale::Normal => "blocks of TASKS.md",
        tcbg::tasks::Scale::Double => "blocks x2",
        tcbg::tasks::Scale::Rikhye => "cue-context at Rikhye et al.'s length",
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
    let w = THRESHOLDS.iter().map(|t| t.describe().len()).max().unwrap_or(0);
    if md {
        out.push_str("\n| result | threshold | measured | limit here |\n|---|---|---|---|\n");
    }
    for c in checks {
        let t = &c.threshold;
        let ideal = bayes::ideal_reward_rate(v.schedule());
        let loosened = v != Variant::Default && t.tolerance != Tolerance::Ratio;
        let limit = if loosened { t.limit_text(v, ideal) } else { String::new() };
        let detail = if let Status::NotRun(why) = &c.status { why } else { &c.measured };
        let status = status_text(&c.status);
        let _ = match md {
            true => writeln!(out, "| {} | {} | {detail} | {limit} |", status.trim(), t.describe()),
            false if loosened => {
                writeln!(out, "{status}  {:<w$}  {detail}  (limit {limit})", t.describe())
            }
            false => writeln!(out, "{status}  {:<w$}  {detail}", t.describe()),
        };
    }
    let pass = checks.iter().filter(|c| c.status == Status::Pass).count();
    let miss = checks.iter().filter(|c| c.status == Status::Miss).count();
    let na = checks.len() - pass - miss;
    let na = if na > 0 { format!(", {na} not run") } else { String::new() };
    let pending = checks.iter().filter(|c| c.status == Status::Miss && !c.fails()).count();
    let pending = match pending {
        0 => String::new(),
        n => format!(" ({n} of them pending: issues 17 and 18, not failures yet)"),
    };
    let _ = writeln!(out, "{}{pass} pass, {miss} miss{pending}{na}", if md { "\n" } else { "" });
}

fn print_robust_summary(out: &mut String, checks: &[Check], variants: &[Variant], md: bool) {
    let _ = writeln!(out, "\n{} thresholds by variation", if md { "##" } else { "==" });
    let head = std::iter::once(if md { "threshold" } else { "" });
    let head = head.chain(variants.iter().map(|v| v.name())).map(str::to_string).collect();
    let rows = THRESHOLDS.iter().map(|t| {
        let status = variants.iter().map(|v| {
            let c = checks.iter().find(|c| c.threshold == *t && c.variant == *v);
            c.map_or("", |c| status_text(&c.status)).trim_end().to_string()
        });
        std::iter::once(t.describe()).chain(status).collect()
    });
    let nl = if md { "\n" } else { "" };
    let _ = write!(out, "{nl}{}", table(head, rows.collect(), md));
}

/// The results as JSON: `seeds`, `results` (task, number, lesion, variant,
/// seed_start, metrics with median, p10, p90) and `checks`; metrics in the
/// order the tasks report them, numbers to 6 decimals, NaN as null.
fn to_json(rows: &[ResultRow], checks: &[Check], seeds: u64) -> Value {
    let num = |x: f64| json!((x * 1e6).round() / 1e6);
    let summary =
        |m: &Summary| json!({ "median": num(m.median), "p10": num(m.p10), "p90": num(m.p90) });
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let metrics: serde_json::Map<String, Value> =
                r.metrics.iter().map(|(n, m)| (n.clone(), summary(m))).collect();
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
    let checks: Vec<Value> = checks
        .iter()
        .map(|c| {
            let (status, why) = match &c.status {
                Status::Pass => ("pass", None),
                Status::Miss => ("miss", None),
                Status::NotRun(w) => ("not_run", Some(w)),
            };
            let mut o = json!({
                "variant": c.variant.name(), "threshold": c.threshold.describe(), "status": status,
                "value": num(c.value), "limit": num(c.limit),
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
    json!({ "seeds": seeds, "results": results, "checks": checks })
}

/// SVG learning curves with plotters (SVG backend only).
mod plots {
    use super::*;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    /// Smoothing window of the learning curves, in trials (within a block).
    pub const WINDOW: usize = 10;
    const GREY: RGBColor = RGBColor(110, 110, 110);

    fn color_of(lesion: &str) -> RGBColor {
        match lesion {
            "none" => RGBColor(0, 0, 0),
            "no_thalamus" => RGBColor(214, 39, 40),
            "no_context_selection" => RGBColor(31, 119, 180),
            "no_traces" => RGBColor(44, 160, 44),
            "no_dopamine" => RGBColor(255, 127, 14),
            _ => RGBColor(148, 103, 189),
        }
    }

    fn name_of(r: &ResultRow) -> String {
        if r.lesion == "none" { "full" } else { &r.lesion }.to_string()
    }

    /// Writes the plots of `v` (`TASK[-by-block][-VARIANT].svg`); returns how many.
    pub fn write_all(dir: &Path, rows: &[ResultRow], tasks: &[TaskKind], v: Variant) -> Res<usize> {
        let suffix = if v == Variant::Default { String::new() } else { format!("-{}", v.name()) };
        let tag = if v == Variant::Default { String::new() } else { format!(" [{}]", v.name()) };
        let mut n = 0;
        for &task in tasks {
            let mut rs = rows_of(rows, task.name(), v);
            rs.retain(|r| r.agent == AgentSize::Default);
            if rs.is_empty() {
                continue;
            }
            let file = |stem: &str| dir.join(format!("{stem}{suffix}.svg"));
            let path = file(task.name());
            curves(&path, task, &rs, v, &tag).map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
            let (field, label) = match task {
                TaskKind::NewRuleTransfer => (false, "trials to criterion"),
                TaskKind::SerialReversal => (true, "errors in the first 10 trials"),
                _ => continue,
            };
            let path = file(&format!("{}-by-block", task.name()));
            per_block(&path, task, &rs, field, label, &tag)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
        Ok(n)
    }

    type Drawn = Result<(), Box<dyn std::error::Error>>;
    /// A legend entry: label, colour, stroke width, dashed.
    type Entry = (String, RGBColor, u32, bool);

    /// Draws a legend in its own area, one entry per line.
    fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let font = ("sans-serif", 13).into_font().color(&BLACK);
        for (i, (label, color, width, dashed)) in entries.iter().enumerate() {
            let y = 20 + 20 * i as i32;
            let dashes: Vec<(i32, i32)> =
                if *dashed { vec![(8, 13), (16, 21), (24, 29), (32, 37)] } else { vec![(8, 36)] };
            for (a, b) in dashes {
                area.draw(&PathElement::new(vec![(a, y), (b, y)], color.stroke_width(*width)))?;
            }
            area.draw(&Text::new(label.clone(), (44, y - 7), font.clone()))?;
        }
        Ok(())
    }

    /// Accuracy (reward rate for the bandit) by trial: the full model and each
    /// lesion in fixed point, the f32 full model dashed; one panel per delay
    /// for delayed reward; block boundaries as grey verticals.
    fn curves(path: &Path, task: TaskKind, rs: &[&ResultRow], v: Variant, tag: &str) -> Drawn {
        let subs = kinds_of(task);
        let height = if subs.len() > 1 { 36 + 260 * subs.len() as u32 } else { 440 };
        let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let what = if task == TaskKind::ReversalBandit { "reward rate" } else { "accuracy" };
        let seeds = rs[0].runs.len();
        let title = format!(
            "{}{tag}: {what} by trial ({WINDOW}-trial window within blocks, median of {seeds} seeds)",
            task.name()
        );
        let (top, body) = root.split_vertically(36);
        top.titled(&title, ("sans-serif", 18))?;
        let (plots_area, legend_area) = body.split_horizontally(1100 - 190);
        let mut entries: Vec<Entry> = Vec::new();
        for (si, (panel, kind)) in
            plots_area.split_evenly((subs.len(), 1)).iter().zip(&subs).enumerate()
        {
            // Lesions first, the full model on top.
            let mut lines: Vec<(&ResultRow, Vec<f64>)> = rs
                .iter()
                .filter(|r| r.number == Number::Fixed || r.lesion == "none")
                .map(|r| {
                    let logs: Vec<&RunLog> = r.runs.iter().filter_map(|x| x.runs.get(si)).collect();
                    (*r, learning_curve(&logs, WINDOW))
                })
                .collect();
            lines.sort_by_key(|(r, _)| (r.lesion == "none", r.number == Number::Fixed));
            let n = lines.iter().map(|(_, c)| c.len()).max().unwrap_or(0).max(1) as f64;
            let caption = if subs.len() > 1 { format!("{kind}") } else { String::new() };
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, ("sans-serif", 14))
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(48)
                .build_cartesian_2d(0f64..n, 0f64..1.05f64)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(225, 225, 225))
                .y_labels(6)
                .x_labels(10)
                .x_label_formatter(&|x| format!("{}", x.round() as i64))
                .y_label_formatter(&|y| format!("{y:.1}"))
                .x_desc("trial")
                .y_desc(what)
                .draw()?;
            if let Some(log) = rs[0].runs.first().and_then(|x| x.runs.get(si)) {
                let style = RGBColor(170, 170, 170).stroke_width(1);
                let vertical = |b| PathElement::new(vec![(b as f64, 0.0), (b as f64, 1.05)], style);
                chart.draw_series(block_starts(log).into_iter().map(vertical))?;
            }
            let first = si == 0;
            if task == TaskKind::ReversalBandit {
                let ideal = bayes::ideal_reward_rate(v.schedule());
                let grey = RGBColor(120, 120, 120);
                let line = vec![(0.0, ideal), (n, ideal)];
                chart.draw_series(DashedLineSeries::new(line, 6, 4, grey.stroke_width(1)))?;
                if first {
                    entries.push((format!("Bayes ideal {}", fmt(ideal)), grey, 1, true));
                }
            }
            for (r, c) in lines {
                let pts = c.iter().enumerate().map(|(i, y)| (i as f64 + 0.5, *y));
                let (color, width, dashed) = match (r.number, r.lesion.as_str()) {
                    (Number::F32, _) => (GREY, 2, true),
                    (_, "none") => (color_of("none"), 2, false),
                    (_, l) => (color_of(l), 1, false),
                };
                let style = color.stroke_width(width);
                match dashed {
                    true => chart.draw_series(DashedLineSeries::new(pts, 5, 3, style))?,
                    false => chart.draw_series(LineSeries::new(pts, style))?,
                };
                if first {
                    let label = if dashed { format!("{} (f32)", name_of(r)) } else { name_of(r) };
                    entries.push((label, color, width, dashed));
                }
            }
        }
        entries.sort_by_key(|(n, ..)| {
            (!n.starts_with("full"), n.contains("f32"), n.starts_with("Bayes"))
        });
        legend(&legend_area, &entries)?;
        root.present()?;
        Ok(())
    }

    /// "The picture of learning to learn": a per-block count (`errors` in the
    /// first 10 trials, or trials to criterion), median with a p10-p90 band,
    /// the full model against no_meta (and no_thalamus for serial reversal),
    /// fixed point.
    fn per_block(
        path: &Path,
        task: TaskKind,
        rs: &[&ResultRow],
        errors: bool,
        label: &str,
        tag: &str,
    ) -> Drawn {
        let root = SVGBackend::new(path, (1000, 460)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, legend_area) = root.split_horizontally(1000 - 150);
        let want: &[&str] = match task {
            TaskKind::SerialReversal => &["none", "no_meta", "no_thalamus"],
            _ => &["none", "no_meta"],
        };
        let count = |s: &tcbg::tasks::BlockStats| {
            f64::from(if errors { s.errors_first10.into() } else { s.to_criterion })
        };
        let stats: Vec<(&ResultRow, Vec<Summary>)> = want
            .iter()
            .filter_map(|l| rs.iter().find(|r| r.number == Number::Fixed && r.lesion == *l))
            .map(|r| (*r, r.per_block(count)))
            .collect();
        let blocks = stats.iter().map(|(_, s)| s.len()).max().unwrap_or(1);
        let ymax =
            stats.iter().flat_map(|(_, s)| s.iter().map(|x| x.p90)).fold(1.0f64, f64::max) * 1.1;
        let seeds = stats.first().map_or(0, |(r, _)| r.runs.len());
        let title =
            format!("{}{tag}: {label} by block (median, band p10-p90, {seeds} seeds)", task.name());
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.5f64..blocks as f64 + 0.5, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_labels(blocks.min(20))
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .x_desc("block")
            .y_desc(label)
            .draw()?;
        let mut entries: Vec<Entry> = Vec::new();
        // The full model last, on top; the legend in the order of `want`.
        for (r, s) in stats.iter().rev() {
            let color = color_of(&r.lesion);
            let at = |b: usize| b as f64 + 1.0;
            let band = s.iter().enumerate().map(|(b, x)| (at(b), x.p90));
            let band = band.chain(s.iter().enumerate().rev().map(|(b, x)| (at(b), x.p10)));
            chart
                .draw_series([Polygon::new(band.collect::<Vec<_>>(), color.mix(0.12).filled())])?;
            let pts: Vec<(f64, f64)> =
                s.iter().enumerate().map(|(b, x)| (at(b), x.median)).collect();
            chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
            entries.insert(0, (name_of(r), color, 2, false));
        }
        legend(&legend_area, &entries)?;
        root.present()?;
        Ok(())
    }
}

// ---------------------------------------------------------------- run

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Accuracy of a block's trials as a sparkline of at most 20 characters.
fn sparkline(scores: &[bool]) -> String {
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

pub fn run_cmd(a: RunArgs) -> Result<(), String> {
    let rikhye = a.task == "cue-context-rikhye";
    let name = if rikhye { "cue-context" } else { a.task.as_str() };
    let kind = TaskKind::parse(name, a.delay.unwrap_or(0)).ok_or_else(|| unknown_task(&a.task))?;
    let kinds = match (kind, a.delay) {
        (k, None) if delay_of(k).is_some() => kinds_of(kind),
        (_, Some(_)) if delay_of(kind).is_none() => {
            return Err("--delay only applies to delayed-reward and delayed-response".into())
        }
        _ => vec![kind],
    };
    let (seed, lesion) = (a.seed, a.lesion.as_str());
    let lesions = self::lesion(lesion)?;
    let number = if a.f32 { Number::F32 } else { Number::Fixed };
    let variant = match &a.variant {
        Some(v) => Variant::parse(v)
            .ok_or_else(|| format!("unknown variant `{v}` (half, double, flip5)"))?,
        None => Variant::Default,
    };
    let schedule = match rikhye {
        true => Schedule { scale: tcbg::tasks::Scale::Rikhye, ..variant.schedule() },
        false => variant.schedule(),
    };
    let tty = std::io::stderr().is_terminal();
    let shown_number = if number == Number::Fixed { "fixed point" } else { "f32 oracle" };
    let shown_variant = format!(" · {}", describe_schedule(schedule));
    let shown_variant = if variant == Variant::Default { "" } else { &shown_variant };
    for kind in kinds {
        println!("{kind} · {shown_number} · lesion {lesion} · seed {seed}{shown_variant}");
        let bandit = kind == TaskKind::ReversalBandit;
        let blocks = kind.blocks();
        let mut last_draw = Instant::now() - Duration::from_secs(1);
        let start = Instant::now();
        let log = run_task_with(kind, number, lesions, schedule, seed, |live: &Live<'_>| {
            let end = live.done == live.total;
            if !tty || (!end && last_draw.elapsed() < Duration::from_millis(40)) {
                return;
            }
            last_draw = Instant::now();
            let recent = &live.log[live.log.len().saturating_sub(20)..];
            let rate = |n: usize| n as f64 / recent.len().max(1) as f64;
            let acc = rate(recent.iter().filter(|t| t.correct).count());
            let r = rate(recent.iter().filter(|t| t.reward).count());
            let reward = if bandit { format!("  reward (last 20) {r:.2}") } else { String::new() };
            let (done, total, context) = (live.done, live.total, live.trial.context);
            let (block, trial) = (live.trial.block as usize + 1, live.trial.trial + 1);
            eprint!(
                "\r\x1b[2Ktrial {done:>5}/{total}  block {block:>2}/{blocks}  trial in block {trial:>3}  accuracy (last 20) {acc:.2}{reward}  context {context}"
            );
            if end {
                eprintln!();
            }
        });
        let took = start.elapsed();
        println!("block  trials  to crit  errors/10  end acc  switches  accuracy");
        for (b, s) in log.blocks.iter().enumerate() {
            let scores: Vec<bool> =
                log.trials.iter().filter(|t| t.block as usize == b).map(|t| t.correct).collect();
            let (n, crit, errors, acc) =
                (s.trials, s.to_criterion, s.errors_first10, s.end_accuracy());
            let (b, switches, spark) = (b + 1, s.switches, sparkline(&scores));
            println!("{b:>5}  {n:>6}  {crit:>7}  {errors:>9}  {acc:>7.2}  {switches:>8}  {spark}");
        }
        let suffix = delay_of(kind).map_or(String::new(), |d| format!("_d{d}"));
        let mut m: Vec<String> =
            log.metrics.iter().map(|(n, v)| format!("{n}{suffix} {}", fmt(*v))).collect();
        if bandit {
            let ideal = bayes::ideal_for(schedule);
            let (r, t) = (fmt(ideal.reward_rate), fmt(ideal.trials_to_switch));
            m.push(format!("(ideal: reward_rate {r}, trials_to_switch {t})"));
        }
        println!("metrics: {}", m.join(", "));
        let (trials, steps, secs) = (log.trials.len(), log.steps, took.as_secs_f64());
        println!("{trials} trials, {steps} steps in {secs:.2} s\n");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcbg_tests::eval::evaluate;

    #[test]
    fn sparkline_bins() {
        assert_eq!(sparkline(&[false, true]), "▁█");
        assert_eq!(sparkline(&[true; 40]).chars().count(), 20);
        assert_eq!(sparkline(&[true; 50]).chars().count(), 17);
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn json_is_valid_and_ordered() {
        let rows = evaluate(
            &[TaskKind::ReversalBandit],
            &[Number::Fixed],
            &["none"],
            Variant::Default,
            0..2,
            |_| {},
        );
        let checks = check_all(&rows, Variant::Default);
        let text = serde_json::to_string_pretty(&to_json(&rows, &checks, 2)).unwrap();
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

    #[test]
    fn args() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            eval: EvalArgs,
        }
        let parse = |v: &[&str]| {
            let cli = Cli::try_parse_from(std::iter::once("eval").chain(v.iter().copied()));
            eval_options(&cli.unwrap().eval)
        };
        let o = parse(&["--task", "rule-switch,cue-context", "--seeds=3", "--robust"]).unwrap();
        assert_eq!(o.tasks.len(), 2);
        assert_eq!((o.seeds, o.variants.len()), (3, 5));
        let o = parse(&["--lesions", "no_meta", "--number", "f32"]).unwrap();
        assert_eq!(o.lesions, ["none", "no_meta"]);
        assert_eq!(o.numbers, [Number::F32]);
        // The 13 tasks, the multi-rule points also on the larger agent.
        assert_eq!(o.tasks.len(), 16);
        assert!(parse(&["--lesions", "no_such"]).is_err());
        assert!(Cli::try_parse_from(["eval", "--bogus"]).is_err());
    }

    #[test]
    fn plots_render() {
        let dir = std::env::temp_dir().join(format!("tcbg-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tasks = [TaskKind::NewRuleTransfer, TaskKind::DelayedReward { delay: 0 }];
        let rows =
            evaluate(&tasks, &Number::BOTH, &["none", "no_meta"], Variant::Default, 0..2, |_| {});
        let n = plots::write_all(&dir, &rows, &tasks, Variant::Default).unwrap();
        assert_eq!(n, 3);
        let svg = std::fs::read_to_string(dir.join("new-rule-transfer-by-block.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("no_meta"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
