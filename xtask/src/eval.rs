//! `cargo xtask eval` and `cargo xtask run`: the task suite over seeds, and
//! one task on the host with a live progress line.
//!
//! `eval [--task T[,T…]] [--seeds N] [--json PATH] [--plots DIR] [--robust]
//! [--lesions a,b] [--number fixed|f32|both] [--dev]` runs every task for the
//! full model and each lesion, fixed point and `f32`, over seeds `0..N`
//! (default 20), prints a table of median [p10, p90] per metric, the median
//! trials to criterion by block of the two learning-to-learn tasks, and the
//! threshold check of [`tcbg_tests::thresholds::THRESHOLDS`] (PASS / MISS per
//! line), and optionally writes JSON and SVG learning curves. `--robust` also
//! runs the variations `half`, `double`, `flip5` and `seeds1000`, each on its
//! own, and checks the loosened thresholds on each.
//!
//! `cargo xtask` builds in the dev profile, where the workspace's own crates
//! (the model included) are unoptimised: `[profile.dev.package."*"]` only
//! covers dependencies outside the workspace. The evaluation is about 30×
//! faster optimised, so `eval` re-runs itself through
//! `cargo run --release -p xtask` (a separate build directory, so it does not
//! rebuild anyone's dev build); `--dev` stays in the current build.
//!
//! `run --task T [--seed N] [--lesion L] [--f32] [--delay D] [--variant V]`
//! runs one task (all four delays of `delayed-reward` unless `--delay`),
//! shows trial, block, recent accuracy and active context while it runs, and
//! ends with one line per block (trials to criterion, errors in the first
//! 10, end accuracy, context switches, a sparkline of accuracy) and the
//! task's metrics.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tcbg::tasks::{Schedule, TaskKind};
use tcbg::Lesions;
use tcbg_tests::bayes;
use tcbg_tests::eval::{block_starts, evaluate, learning_curve, Progress, ResultRow, Variant};
use tcbg_tests::stats::Summary;
use tcbg_tests::thresholds::{check_all, fmt, Check, Status, Tolerance, THRESHOLDS};
use tcbg_tests::{
    kinds_of, run_task_with, task_kind, Live, Number, RunLog, LESION_NAMES, TASK_NAMES,
};

const EVAL_HELP: &str = "\
cargo xtask eval [options]
  --task T[,T...]       tasks (default all: rule-switch, cued-rule-switch, cue-context,
                        reversal-bandit, delayed-reward, serial-reversal, new-rule-transfer)
  --seeds N             seeds 0..N (default 20)
  --lesions a,b         lesions besides the full model (default all: no_thalamus,
                        no_context_selection, no_traces, no_dopamine, no_meta; `none` for none)
  --number fixed|f32|both   number types (default both)
  --robust              also run the variations half, double, flip5 and seeds1000
  --json PATH           write the results as JSON
  --plots DIR           write SVG learning curves
  --dev                 do not re-run in the release profile
";

const RUN_HELP: &str = "\
cargo xtask run --task T [options]
  --seed N              agent and task seed (default 1)
  --lesion L            one lesion (default none)
  --f32                 the f32 oracle instead of fixed point
  --delay D             delayed-reward: one delay (default all of 0, 2, 5, 10)
  --variant V           half, double or flip5 (default: the schedules of TASKS.md)
";

/// Command-line flags: `--name value`, `--name=value` or a bare `--name`.
struct Args {
    flags: Vec<(String, Option<String>)>,
}

impl Args {
    fn parse(args: &[String], takes_value: &[&str], bare: &[&str]) -> Result<Args, String> {
        let mut flags = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument `{a}`"));
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if takes_value.contains(&name) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("`--{name}` needs a value"))?,
                };
                flags.push((name.to_string(), Some(v)));
            } else if bare.contains(&name) {
                flags.push((name.to_string(), None));
            } else {
                return Err(format!("unknown option `--{name}`"));
            }
        }
        Ok(Args { flags })
    }
    fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }
    fn list(&self, name: &str) -> Option<Vec<String>> {
        let v: Vec<String> = self
            .flags
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if self.has(name) {
            Some(v)
        } else {
            None
        }
    }
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// A single updating progress line on stderr (sparse plain lines when
/// stderr is not a terminal).
struct Bar {
    label: String,
    start: Instant,
    tty: bool,
    last: Mutex<(Instant, usize)>,
}

impl Bar {
    fn new(label: &str) -> Bar {
        let tty = std::io::stderr().is_terminal();
        Bar {
            label: label.into(),
            start: Instant::now(),
            tty,
            last: Mutex::new((Instant::now(), 0)),
        }
    }

    fn update(&self, p: Progress) {
        let mut last = self.last.lock().unwrap();
        let frac = if p.total_steps > 0 {
            p.done_steps as f64 / p.total_steps as f64
        } else {
            1.0
        };
        let done = p.done_runs == p.total_runs;
        let decile = (frac * 10.0) as usize;
        if self.tty {
            if !done && last.0.elapsed() < Duration::from_millis(100) {
                return;
            }
        } else if !done && decile <= last.1 {
            return;
        }
        *last = (Instant::now(), decile);
        let el = self.start.elapsed();
        let eta = if frac > 0.0 {
            Duration::from_secs_f64(el.as_secs_f64() * (1.0 - frac) / frac)
        } else {
            Duration::ZERO
        };
        let width = 30;
        let filled = ((frac * width as f64) as usize).min(width);
        let line = format!(
            "{} [{}{}] {:3.0}%  {}/{} runs  {} elapsed  ETA {}",
            self.label,
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            p.done_runs,
            p.total_runs,
            minutes(el),
            minutes(eta)
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

struct EvalOptions {
    tasks: Vec<TaskKind>,
    seeds: u64,
    lesions: Vec<String>,
    numbers: Vec<Number>,
    variants: Vec<Variant>,
    json: Option<PathBuf>,
    plots: Option<PathBuf>,
}

fn eval_options(args: &[String]) -> Result<EvalOptions, String> {
    let a = Args::parse(
        args,
        &["task", "seeds", "json", "plots", "lesions", "number"],
        &["robust", "dev", "help"],
    )?;
    if a.has("help") {
        print!("{EVAL_HELP}");
        std::process::exit(0);
    }
    let tasks = match a.list("task") {
        None => TASK_NAMES.iter().map(|n| task_kind(n).unwrap()).collect(),
        Some(v) if v.is_empty() || v.iter().any(|t| t == "all") => {
            TASK_NAMES.iter().map(|n| task_kind(n).unwrap()).collect()
        }
        Some(v) => v
            .iter()
            .map(|n| {
                task_kind(n)
                    .ok_or_else(|| format!("unknown task `{n}` (tasks: {})", TASK_NAMES.join(", ")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let seeds = match a.value("seeds") {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("--seeds: not a number: `{s}`"))?,
        None => 20,
    };
    if seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    let mut lesions = vec!["none".to_string()];
    match a.list("lesions") {
        None => lesions.extend(LESION_NAMES.iter().map(|s| s.to_string())),
        Some(v) => {
            for l in v {
                if Lesions::named(&l).is_none() {
                    return Err(format!(
                        "unknown lesion `{l}` (lesions: none, {})",
                        LESION_NAMES.join(", ")
                    ));
                }
                let l = if l == "full" { "none".to_string() } else { l };
                if !lesions.contains(&l) {
                    lesions.push(l);
                }
            }
        }
    }
    let numbers =
        match a.value("number").unwrap_or("both") {
            "both" => Number::BOTH.to_vec(),
            s => vec![Number::parse(s)
                .ok_or_else(|| format!("--number: `{s}` is not fixed, f32 or both"))?],
        };
    let mut variants = vec![Variant::Default];
    if a.has("robust") {
        variants.extend(Variant::ROBUST);
    }
    Ok(EvalOptions {
        tasks,
        seeds,
        lesions,
        numbers,
        variants,
        json: a.value("json").map(PathBuf::from),
        plots: a.value("plots").map(PathBuf::from),
    })
}

pub fn main(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{EVAL_HELP}");
        return Ok(());
    }
    let opts = eval_options(args)?;
    if let Some(r) = crate::setup::reexec_release("eval", args, "about 30x faster than dev") {
        return r;
    }
    let start = Instant::now();
    let lesions: Vec<&str> = opts.lesions.iter().map(|s| s.as_str()).collect();
    let mut rows: Vec<ResultRow> = Vec::new();
    eprintln!(
        "eval: {} task(s) x {} number(s) x {} lesion set(s) x {} seeds x {} variation(s), {} threads",
        opts.tasks.len(),
        opts.numbers.len(),
        lesions.len(),
        opts.seeds,
        opts.variants.len(),
        tcbg_tests::eval::threads()
    );
    for &v in &opts.variants {
        let bar = Bar::new(&format!("{:>9}", v.name()));
        let r = evaluate(
            &opts.tasks,
            &opts.numbers,
            &lesions,
            v,
            0..opts.seeds,
            |p| bar.update(p),
        );
        bar.finish();
        rows.extend(r);
    }
    let elapsed = start.elapsed();

    let mut out = String::new();
    for &v in &opts.variants {
        print_table(&mut out, &rows, &opts, v);
        print_blocks(&mut out, &rows, v);
    }
    let mut checks = Vec::new();
    for &v in &opts.variants {
        let c = check_all(&rows, v);
        print_checks(&mut out, &c, v, opts.seeds);
        checks.extend(c);
    }
    if opts.variants.len() > 1 {
        print_robust_summary(&mut out, &checks, &opts.variants);
    }
    let _ = writeln!(out, "evaluated in {:.1} s", elapsed.as_secs_f64());
    print!("{out}");

    if let Some(path) = &opts.json {
        let json = to_json(&rows, &checks, opts.seeds);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &opts.plots {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut n = 0;
        for &v in &opts.variants {
            n += plots::write_all(dir, &rows, &opts.tasks, v)?;
        }
        eprintln!("wrote {n} plots to {}", dir.display());
    }
    Ok(())
}

fn cell(s: &Summary) -> String {
    format!("{} [{}, {}]", fmt(s.median), fmt(s.p10), fmt(s.p90))
}

/// The rows of `task` under variation `v`.
fn rows_of(rows: &[ResultRow], task: TaskKind, v: Variant) -> Vec<&ResultRow> {
    rows.iter()
        .filter(|r| r.task == task.name() && r.variant == v)
        .collect()
}

/// The learning-to-learn tasks by block: median trials to criterion over
/// seeds, one line per number type and lesion.
fn print_blocks(out: &mut String, rows: &[ResultRow], v: Variant) {
    for task in [TaskKind::SerialReversal, TaskKind::NewRuleTransfer] {
        let rs = rows_of(rows, task, v);
        if rs.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} trials to criterion by block, median over seeds (variation `{}`)",
            task.name(),
            v.name()
        );
        for r in rs {
            let blocks: Vec<String> = r
                .per_block(|s| s.to_criterion as f64)
                .iter()
                .map(|s| format!("{:>5}", s.median))
                .collect();
            let label = format!("{} {}", r.number.name(), r.lesion);
            let _ = writeln!(out, "{label:<26}{}", blocks.join(""));
        }
    }
}

/// Per task: one line per (number, lesion), one column per metric.
fn print_table(out: &mut String, rows: &[ResultRow], opts: &EvalOptions, v: Variant) {
    let _ = writeln!(
        out,
        "\n== results, variation `{}` ({}; seeds {}..{}): median [p10, p90] over seeds",
        v.name(),
        describe_schedule(v.schedule()),
        v.seeds(0..opts.seeds).start,
        v.seeds(0..opts.seeds).end
    );
    for &task in &opts.tasks {
        let rs = rows_of(rows, task, v);
        let Some(first) = rs.first() else { continue };
        let names: Vec<&str> = first
            .metrics
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !n.starts_with("ideal_"))
            .collect();
        let label = |r: &ResultRow| format!("{:<5} {}", r.number.name(), r.lesion);
        let w0 = rs
            .iter()
            .map(|r| label(r).len())
            .max()
            .unwrap_or(0)
            .max(task.name().len());
        let cells: Vec<Vec<String>> = rs
            .iter()
            .map(|r| {
                names
                    .iter()
                    .map(|n| r.metric(n).map_or("-".into(), |s| cell(&s)))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                cells
                    .iter()
                    .map(|c| c[i].len())
                    .max()
                    .unwrap_or(0)
                    .max(n.len())
            })
            .collect();
        let mut line = format!("{:<w0$}", task.name());
        for (n, w) in names.iter().zip(&widths) {
            let _ = write!(line, "  {n:<w$}");
        }
        let _ = writeln!(out, "\n{}", line.trim_end());
        for (r, c) in rs.iter().zip(&cells) {
            let mut line = format!("{:<w0$}", label(r));
            for (x, w) in c.iter().zip(&widths) {
                let _ = write!(line, "  {x:<w$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if task == TaskKind::ReversalBandit {
            let ideal = bayes::ideal_for(v.schedule());
            let (len, _) = bayes::bandit_shape(v.schedule());
            let _ = writeln!(
                out,
                "ideal (Bayes observer, hazard 1/{len}): reward_rate {}, trials_to_switch {}",
                fmt(ideal.reward_rate),
                fmt(ideal.trials_to_switch)
            );
        }
    }
}

fn describe_schedule(s: Schedule) -> String {
    let scale = match s.scale {
        tcbg::tasks::Scale::Half => "blocks x0.5",
        tcbg::tasks::Scale::Normal => "blocks of TASKS.md",
        tcbg::tasks::Scale::Double => "blocks x2",
    };
    if s.flip_q16 > 0 {
        format!(
            "{scale}, {:.0}% of rewards flipped",
            s.flip_q16 as f64 / 655.36
        )
    } else {
        scale.to_string()
    }
}

fn status_text(s: &Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Miss => "MISS",
        Status::NotRun(_) => "n/a ",
    }
}

fn print_checks(out: &mut String, checks: &[Check], v: Variant, seeds: u64) {
    let _ = writeln!(
        out,
        "\n== thresholds, variation `{}` (fixed point, full model unless named, medians over {seeds} seeds){}",
        v.name(),
        if v == Variant::Default {
            String::new()
        } else {
            "; counts within 1.5x, accuracies within 0.05, the bandit within 0.097 of its ideal, ratios unchanged".into()
        }
    );
    let w = THRESHOLDS
        .iter()
        .map(|t| t.describe().len())
        .max()
        .unwrap_or(0);
    for c in checks {
        let t = &c.threshold;
        let ideal = bayes::ideal_reward_rate(v.schedule());
        let limit = if v == Variant::Default || t.tolerance == Tolerance::Ratio {
            String::new()
        } else {
            format!("  (limit {})", t.limit_text(v, ideal))
        };
        let detail = match &c.status {
            Status::NotRun(why) => why.clone(),
            _ => c.measured.clone(),
        };
        let _ = writeln!(
            out,
            "{}  {:<w$}  {detail}{limit}",
            status_text(&c.status),
            t.describe()
        );
    }
    let pass = checks.iter().filter(|c| c.status == Status::Pass).count();
    let miss = checks.iter().filter(|c| c.status == Status::Miss).count();
    let na = checks.len() - pass - miss;
    let _ = writeln!(
        out,
        "{pass} pass, {miss} miss{}",
        if na > 0 {
            format!(", {na} not run")
        } else {
            String::new()
        }
    );
}

fn print_robust_summary(out: &mut String, checks: &[Check], variants: &[Variant]) {
    let _ = writeln!(out, "\n== thresholds by variation");
    let w = THRESHOLDS
        .iter()
        .map(|t| t.describe().len())
        .max()
        .unwrap_or(0);
    let mut line = format!("{:<w$}", "");
    for v in variants {
        let _ = write!(line, "  {:<9}", v.name());
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for t in THRESHOLDS.iter() {
        let mut line = format!("{:<w$}", t.describe());
        for v in variants {
            let s = checks
                .iter()
                .find(|c| c.threshold == *t && c.variant == *v)
                .map_or("", |c| status_text(&c.status));
            let _ = write!(line, "  {s:<9}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// A minimal JSON writer (keys keep their order; NaN becomes null).
mod json {
    pub enum J {
        Num(f64),
        Int(u64),
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    pub fn write(j: &J, indent: usize, out: &mut String) {
        let pad = |n: usize| "  ".repeat(n);
        match j {
            // 6 decimals: percentiles interpolate (20.300000000000004).
            J::Num(x) if x.is_finite() => out.push_str(&format!("{}", (x * 1e6).round() / 1e6)),
            J::Num(_) => out.push_str("null"),
            J::Int(x) => out.push_str(&x.to_string()),
            J::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            J::Arr(v) if v.is_empty() => out.push_str("[]"),
            J::Arr(v) => {
                out.push_str("[\n");
                for (i, x) in v.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    write(x, indent + 1, out);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            J::Obj(v) if v.is_empty() => out.push_str("{}"),
            J::Obj(v) => {
                // Small objects of numbers on one line.
                let flat = v
                    .iter()
                    .all(|(_, x)| matches!(x, J::Num(_) | J::Int(_) | J::Str(_)));
                out.push('{');
                if !flat {
                    out.push('\n');
                }
                for (i, (k, x)) in v.iter().enumerate() {
                    if !flat {
                        out.push_str(&pad(indent + 1));
                    }
                    write(&J::Str(k.clone()), 0, out);
                    out.push_str(": ");
                    write(x, indent + 1, out);
                    if i + 1 < v.len() {
                        out.push_str(if flat { ", " } else { ",\n" });
                    } else if !flat {
                        out.push('\n');
                    }
                }
                if !flat {
                    out.push_str(&pad(indent));
                }
                out.push('}');
            }
        }
    }
}

fn to_json(rows: &[ResultRow], checks: &[Check], seeds: u64) -> String {
    use json::J;
    let s = |x: &str| J::Str(x.to_string());
    let results = rows
        .iter()
        .map(|r| {
            let metrics = r
                .metrics
                .iter()
                .map(|(n, m)| {
                    (
                        n.clone(),
                        J::Obj(vec![
                            ("median".into(), J::Num(m.median)),
                            ("p10".into(), J::Num(m.p10)),
                            ("p90".into(), J::Num(m.p90)),
                        ]),
                    )
                })
                .collect();
            J::Obj(vec![
                ("task".into(), s(r.task)),
                ("number".into(), s(r.number.name())),
                ("lesion".into(), s(&r.lesion)),
                ("variant".into(), s(r.variant.name())),
                ("seed_start".into(), J::Int(r.seeds.start)),
                ("metrics".into(), J::Obj(metrics)),
            ])
        })
        .collect();
    let checks = checks
        .iter()
        .map(|c| {
            let (status, why) = match &c.status {
                Status::Pass => ("pass", String::new()),
                Status::Miss => ("miss", String::new()),
                Status::NotRun(w) => ("not_run", w.clone()),
            };
            let mut o = vec![
                ("variant".into(), s(c.variant.name())),
                ("threshold".into(), J::Str(c.threshold.describe())),
                ("status".into(), s(status)),
                ("value".into(), J::Num(c.value)),
                ("limit".into(), J::Num(c.limit)),
            ];
            if !why.is_empty() {
                o.push(("why".into(), J::Str(why)));
            }
            J::Obj(o)
        })
        .collect();
    let doc = J::Obj(vec![
        ("seeds".into(), J::Int(seeds)),
        ("results".into(), J::Arr(results)),
        ("checks".into(), J::Arr(checks)),
    ]);
    let mut out = String::new();
    json::write(&doc, 0, &mut out);
    out.push('\n');
    out
}

/// SVG learning curves with plotters (SVG backend only).
mod plots {
    use super::*;
    use plotters::prelude::*;

    /// Smoothing window of the learning curves, in trials (within a block).
    pub const WINDOW: usize = 10;

    const PALETTE: [RGBColor; 6] = [
        RGBColor(0, 0, 0),
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
    ];

    fn color_of(lesion: &str) -> RGBColor {
        match lesion {
            "none" => PALETTE[0],
            "no_thalamus" => PALETTE[1],
            "no_context_selection" => PALETTE[2],
            "no_traces" => PALETTE[3],
            "no_dopamine" => PALETTE[4],
            _ => PALETTE[5],
        }
    }

    fn e<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> String + '_ {
        move |err| format!("{}: {err:?}", path.display())
    }

    fn file(dir: &Path, stem: &str, v: Variant) -> PathBuf {
        if v == Variant::Default {
            dir.join(format!("{stem}.svg"))
        } else {
            dir.join(format!("{stem}-{}.svg", v.name()))
        }
    }

    /// Writes the plots of `v`; returns how many.
    pub fn write_all(
        dir: &Path,
        rows: &[ResultRow],
        tasks: &[TaskKind],
        v: Variant,
    ) -> Result<usize, String> {
        let mut n = 0;
        for &task in tasks {
            let rs = rows_of(rows, task, v);
            if rs.is_empty() {
                continue;
            }
            curves(&file(dir, task.name(), v), task, &rs, v)?;
            n += 1;
            let by_block = match task {
                TaskKind::NewRuleTransfer => Some(("to_criterion", "trials to criterion")),
                TaskKind::SerialReversal => {
                    Some(("errors_first10", "errors in the first 10 trials"))
                }
                _ => None,
            };
            if let Some((field, label)) = by_block {
                per_block(
                    &file(dir, &format!("{}-by-block", task.name()), v),
                    task,
                    &rs,
                    v,
                    field,
                    label,
                )?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// A legend entry: label, colour, stroke width, dashed.
    type Entry = (String, RGBColor, u32, bool);

    /// Draws a legend in its own area, one entry per line.
    fn legend<DB: DrawingBackend>(
        area: &DrawingArea<DB, plotters::coord::Shift>,
        entries: &[Entry],
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let font = ("sans-serif", 13).into_font().color(&BLACK);
        for (i, (label, color, width, dashed)) in entries.iter().enumerate() {
            let y = 20 + 20 * i as i32;
            let style = color.stroke_width(*width);
            if *dashed {
                for x0 in (8..36).step_by(8) {
                    area.draw(&PathElement::new(vec![(x0, y), (x0 + 5, y)], style))
                        .map_err(|e| format!("{e:?}"))?;
                }
            } else {
                area.draw(&PathElement::new(vec![(8, y), (36, y)], style))
                    .map_err(|e| format!("{e:?}"))?;
            }
            area.draw(&Text::new(label.clone(), (44, y - 7), font.clone()))
                .map_err(|e| format!("{e:?}"))?;
        }
        Ok(())
    }

    /// Accuracy (reward rate for the bandit) by trial: the full model and each
    /// lesion in fixed point, the f32 full model dashed; one panel per delay
    /// for delayed reward; block boundaries as grey verticals.
    fn curves(path: &Path, task: TaskKind, rs: &[&ResultRow], v: Variant) -> Result<(), String> {
        let subs = kinds_of(task);
        let height = if subs.len() > 1 {
            36 + 260 * subs.len() as u32
        } else {
            440
        };
        let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
        root.fill(&WHITE).map_err(e(path))?;
        let seeds = rs[0].runs.len();
        let what = if task == TaskKind::ReversalBandit {
            "reward rate"
        } else {
            "accuracy"
        };
        let title =
            format!(
            "{}{}: {what} by trial ({WINDOW}-trial window within blocks, median of {seeds} seeds)",
            task.name(),
            if v == Variant::Default { String::new() } else { format!(" [{}]", v.name()) },
        );
        let (top, body) = root.split_vertically(36);
        top.titled(&title, ("sans-serif", 18)).map_err(e(path))?;
        let (plots_area, legend_area) = body.split_horizontally(1100 - 190);
        let panels = plots_area.split_evenly((subs.len(), 1));
        let mut entries: Vec<Entry> = Vec::new();
        for (si, (panel, kind)) in panels.iter().zip(&subs).enumerate() {
            let lines: Vec<(&ResultRow, Vec<f64>)> = rs
                .iter()
                .filter(|r| r.number == Number::Fixed || r.lesion == "none")
                .map(|r| {
                    let logs: Vec<&RunLog> = r.runs.iter().filter_map(|x| x.runs.get(si)).collect();
                    (*r, learning_curve(&logs, WINDOW))
                })
                .collect();
            let n = lines.iter().map(|(_, c)| c.len()).max().unwrap_or(0).max(1);
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    if subs.len() > 1 {
                        format!("{kind}")
                    } else {
                        String::new()
                    },
                    ("sans-serif", 14),
                )
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(48)
                .build_cartesian_2d(0f64..n as f64, 0f64..1.05f64)
                .map_err(e(path))?;
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
                .draw()
                .map_err(e(path))?;
            if let Some(log) = rs[0].runs.first().and_then(|x| x.runs.get(si)) {
                for b in block_starts(log) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(b as f64, 0.0), (b as f64, 1.05)],
                            RGBColor(170, 170, 170).stroke_width(1),
                        )))
                        .map_err(e(path))?;
                }
            }
            let first = si == 0;
            if task == TaskKind::ReversalBandit {
                let ideal = bayes::ideal_reward_rate(v.schedule());
                let grey = RGBColor(120, 120, 120);
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(0.0, ideal), (n as f64, ideal)],
                        6,
                        4,
                        grey.stroke_width(1),
                    ))
                    .map_err(e(path))?;
                if first {
                    entries.push((format!("Bayes ideal {}", fmt(ideal)), grey, 1, true));
                }
            }
            // Lesions first, the full model on top.
            let mut order: Vec<&(&ResultRow, Vec<f64>)> = lines.iter().collect();
            order.sort_by_key(|(r, _)| (r.lesion == "none", r.number == Number::Fixed));
            for (r, c) in order {
                let pts: Vec<(f64, f64)> = c
                    .iter()
                    .enumerate()
                    .map(|(i, y)| (i as f64 + 0.5, *y))
                    .collect();
                let name = if r.lesion == "none" {
                    "full".to_string()
                } else {
                    r.lesion.clone()
                };
                if r.number == Number::F32 {
                    let grey = RGBColor(110, 110, 110);
                    chart
                        .draw_series(DashedLineSeries::new(pts, 5, 3, grey.stroke_width(2)))
                        .map_err(e(path))?;
                    if first {
                        entries.push((format!("{name} (f32)"), grey, 2, true));
                    }
                } else {
                    let color = color_of(&r.lesion);
                    let width = if r.lesion == "none" { 2 } else { 1 };
                    chart
                        .draw_series(LineSeries::new(pts, color.stroke_width(width)))
                        .map_err(e(path))?;
                    if first {
                        entries.push((name, color, width, false));
                    }
                }
            }
        }
        entries.sort_by_key(|(n, _, _, _)| {
            (
                !n.starts_with("full"),
                n.contains("f32"),
                n.starts_with("Bayes"),
            )
        });
        legend(&legend_area, &entries)?;
        root.present().map_err(e(path))?;
        Ok(())
    }

    /// "The picture of learning to learn": a per-block count, median with a
    /// p10-p90 band, the full model against no_meta (and no_thalamus for
    /// serial reversal), fixed point.
    fn per_block(
        path: &Path,
        task: TaskKind,
        rs: &[&ResultRow],
        v: Variant,
        field: &str,
        label: &str,
    ) -> Result<(), String> {
        let root = SVGBackend::new(path, (1000, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(e(path))?;
        let (chart_area, legend_area) = root.split_horizontally(1000 - 150);
        let want: &[&str] = if task == TaskKind::SerialReversal {
            &["none", "no_meta", "no_thalamus"]
        } else {
            &["none", "no_meta"]
        };
        let chosen: Vec<&ResultRow> = want
            .iter()
            .filter_map(|l| {
                rs.iter()
                    .find(|r| r.number == Number::Fixed && r.lesion == *l)
                    .copied()
            })
            .collect();
        let stats: Vec<(&ResultRow, Vec<Summary>)> = chosen
            .iter()
            .map(|r| {
                let s = r.per_block(|s| {
                    if field == "to_criterion" {
                        s.to_criterion as f64
                    } else {
                        s.errors_first10 as f64
                    }
                });
                (*r, s)
            })
            .collect();
        let blocks = stats.iter().map(|(_, s)| s.len()).max().unwrap_or(1);
        let ymax = stats
            .iter()
            .flat_map(|(_, s)| s.iter().map(|x| x.p90))
            .fold(1.0f64, f64::max)
            * 1.1;
        let seeds = chosen.first().map_or(0, |r| r.runs.len());
        let title = format!(
            "{}{}: {label} by block (median, band p10-p90, {seeds} seeds)",
            task.name(),
            if v == Variant::Default {
                String::new()
            } else {
                format!(" [{}]", v.name())
            }
        );
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0.5f64..blocks as f64 + 0.5, 0f64..ymax)
            .map_err(e(path))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_labels(blocks.min(20))
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .x_desc("block")
            .y_desc(label)
            .draw()
            .map_err(e(path))?;
        let mut entries: Vec<Entry> = Vec::new();
        // The full model last, on top; the legend in the order of `want`.
        for (r, s) in stats.iter().rev() {
            let color = color_of(&r.lesion);
            let mut band: Vec<(f64, f64)> = s
                .iter()
                .enumerate()
                .map(|(b, x)| (b as f64 + 1.0, x.p90))
                .collect();
            band.extend(
                s.iter()
                    .enumerate()
                    .rev()
                    .map(|(b, x)| (b as f64 + 1.0, x.p10)),
            );
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    color.mix(0.12).filled(),
                )))
                .map_err(e(path))?;
            let pts: Vec<(f64, f64)> = s
                .iter()
                .enumerate()
                .map(|(b, x)| (b as f64 + 1.0, x.median))
                .collect();
            let style = color.stroke_width(2);
            let name = if r.lesion == "none" {
                "full".to_string()
            } else {
                r.lesion.clone()
            };
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(e(path))?;
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(e(path))?;
            entries.insert(0, (name, color, 2, false));
        }
        legend(&legend_area, &entries)?;
        root.present().map_err(e(path))?;
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

pub fn run_cmd(args: &[String]) -> Result<(), String> {
    let a = Args::parse(
        args,
        &["task", "seed", "lesion", "delay", "variant"],
        &["f32", "help"],
    )?;
    if a.has("help") {
        print!("{RUN_HELP}");
        return Ok(());
    }
    let name = a
        .value("task")
        .ok_or_else(|| format!("`--task` is required\n\n{RUN_HELP}"))?;
    let delay = match a.value("delay") {
        Some(d) => Some(
            d.parse::<u8>()
                .map_err(|_| format!("--delay: not a number: `{d}`"))?,
        ),
        None => None,
    };
    let kind = TaskKind::parse(name, delay.unwrap_or(0))
        .ok_or_else(|| format!("unknown task `{name}` (tasks: {})", TASK_NAMES.join(", ")))?;
    let kinds = match (kind, delay) {
        (TaskKind::DelayedReward { .. }, None) => kinds_of(kind),
        (_, Some(_)) if !matches!(kind, TaskKind::DelayedReward { .. }) => {
            return Err("--delay only applies to delayed-reward".into())
        }
        _ => vec![kind],
    };
    let seed = match a.value("seed") {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("--seed: not a number: `{s}`"))?,
        None => 1,
    };
    let lesion = a.value("lesion").unwrap_or("none");
    let lesions = Lesions::named(lesion).ok_or_else(|| {
        format!(
            "unknown lesion `{lesion}` (lesions: none, {})",
            LESION_NAMES.join(", ")
        )
    })?;
    let number = if a.has("f32") {
        Number::F32
    } else {
        Number::Fixed
    };
    let variant = match a.value("variant") {
        Some(v) => Variant::parse(v)
            .ok_or_else(|| format!("unknown variant `{v}` (half, double, flip5)"))?,
        None => Variant::Default,
    };
    let schedule = variant.schedule();
    let tty = std::io::stderr().is_terminal();
    for kind in kinds {
        println!(
            "{kind} · {} · lesion {lesion} · seed {seed}{}",
            if number == Number::Fixed {
                "fixed point"
            } else {
                "f32 oracle"
            },
            if variant == Variant::Default {
                String::new()
            } else {
                format!(" · {}", describe_schedule(schedule))
            }
        );
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
            let acc =
                recent.iter().filter(|t| t.correct).count() as f64 / recent.len().max(1) as f64;
            let reward = if kind == TaskKind::ReversalBandit {
                format!(
                    "  reward (last 20) {:.2}",
                    recent.iter().filter(|t| t.reward).count() as f64 / recent.len().max(1) as f64
                )
            } else {
                String::new()
            };
            eprint!(
                "\r\x1b[2Ktrial {:>5}/{}  block {:>2}/{}  trial in block {:>3}  accuracy (last 20) {:.2}{reward}  context {}",
                live.done,
                live.total,
                live.trial.block as usize + 1,
                blocks,
                live.trial.trial + 1,
                acc,
                live.trial.context
            );
            if end {
                eprintln!();
            }
        });
        let took = start.elapsed();
        println!("block  trials  to crit  errors/10  end acc  switches  accuracy");
        for (b, s) in log.blocks.iter().enumerate() {
            let scores: Vec<bool> = log
                .trials
                .iter()
                .filter(|t| t.block as usize == b)
                .map(|t| t.correct)
                .collect();
            println!(
                "{:>5}  {:>6}  {:>7}  {:>9}  {:>7.2}  {:>8}  {}",
                b + 1,
                s.trials,
                s.to_criterion,
                s.errors_first10,
                s.end_accuracy(),
                s.switches,
                sparkline(&scores)
            );
        }
        let suffix = match kind {
            TaskKind::DelayedReward { delay } => format!("_d{delay}"),
            _ => String::new(),
        };
        let mut m: Vec<String> = log
            .metrics
            .iter()
            .map(|(n, v)| format!("{n}{suffix} {}", fmt(*v)))
            .collect();
        if kind == TaskKind::ReversalBandit {
            let ideal = bayes::ideal_for(schedule);
            m.push(format!(
                "(ideal: reward_rate {}, trials_to_switch {})",
                fmt(ideal.reward_rate),
                fmt(ideal.trials_to_switch)
            ));
        }
        println!("metrics: {}", m.join(", "));
        println!(
            "{} trials, {} steps in {:.2} s\n",
            log.trials.len(),
            log.steps,
            took.as_secs_f64()
        );
    }
    Ok(())
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
        let text = to_json(&rows, &checks, 2);
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
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let a = Args::parse(
            &s(&["--task", "rule-switch,cue-context", "--seeds=3", "--robust"]),
            &["task", "seeds"],
            &["robust"],
        )
        .unwrap();
        assert_eq!(a.list("task").unwrap(), ["rule-switch", "cue-context"]);
        assert_eq!(a.value("seeds"), Some("3"));
        assert!(a.has("robust"));
        assert!(Args::parse(&s(&["--bogus"]), &[], &[]).is_err());
        let o = eval_options(&s(&["--lesions", "no_meta", "--number", "f32"])).unwrap();
        assert_eq!(o.lesions, ["none", "no_meta"]);
        assert_eq!(o.numbers, [Number::F32]);
        assert_eq!(o.tasks.len(), 7);
        assert!(eval_options(&s(&["--lesions", "no_such"])).is_err());
    }

    #[test]
    fn plots_render() {
        let dir = std::env::temp_dir().join(format!("tcbg-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tasks = [
            TaskKind::NewRuleTransfer,
            TaskKind::DelayedReward { delay: 0 },
        ];
        let rows = evaluate(
            &tasks,
            &Number::BOTH,
            &["none", "no_meta"],
            Variant::Default,
            0..2,
            |_| {},
        );
        let n = plots::write_all(&dir, &rows, &tasks, Variant::Default).unwrap();
        assert_eq!(n, 3);
        let svg = std::fs::read_to_string(dir.join("new-rule-transfer-by-block.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("no_meta"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
