//! `cargo xtask eval` and `cargo xtask run`: the task suite over seeds, and
//! one task on the host with a live progress line.
//!
//! `eval` runs every task for the full model and each lesion, fixed point
//! and `f32`, over seeds `0..N`; prints median [p10, p90] per metric, the
//! learning-to-learn tasks by block and the check of
//! [`tcbg_tests::thresholds::THRESHOLDS`], also as Markdown (how
//! `docs/RESULTS.md` is made), JSON and SVG learning curves. `--robust` adds
//! the variations `half`, `double`, `flip5` and `seeds1000`, each checked
//! against loosened thresholds. What runs and the report are
//! [`tcbg_tests::report`]'s, the figures [`tcbg_tests::plots`]'; this is the
//! command: its arguments, progress line and files. The model is some 30×
//! faster optimised than in `cargo xtask`'s dev profile, so `eval` re-runs
//! itself from the release build (unless `--dev`).
//!
//! `run` ends with one line per block (trials to criterion, errors in the
//! first 10, end accuracy, context switches, a sparkline of accuracy) and
//! the task's metrics ([`tcbg_tests::report::run_summary`]).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tcbg::tasks::{Schedule, TaskKind};
use tcbg_tests::eval::{Progress, Variant};
use tcbg_tests::report::{describe_schedule, lesion, run_summary, unknown_task, Plan, Report};
use tcbg_tests::{delay_of, kinds_of, plots, run_task_with, Live, Number};

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

/// The plan of `eval`'s arguments.
fn plan(a: &EvalArgs) -> Res<Plan> {
    Plan::new(&a.task, a.seeds, a.lesions.as_deref(), &a.number, a.robust)
}

pub fn main(a: EvalArgs) -> Res {
    let plan = plan(&a)?;
    if let Some(r) = setup::reexec_release(a.dev, "about 30x faster than dev") {
        return r;
    }
    let start = Instant::now();
    eprintln!("eval: {}, {} threads", plan.describe(), tcbg_tests::eval::threads());
    let mut rows = Vec::new();
    for &v in &plan.variants {
        let bar = Bar::new(&format!("{:>9}", v.name()));
        rows.extend(plan.evaluate(v, |p| bar.update(p)));
        if bar.tty {
            eprintln!();
        }
    }
    let elapsed = start.elapsed();
    let report = Report::new(plan, rows);
    print!("{}", report.text(false));
    println!("evaluated in {:.1} s", elapsed.as_secs_f64());

    if let Some(path) = &a.json {
        setup::write(path, report.json_text())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &a.markdown {
        let args: Vec<String> = std::env::args().skip(1).collect();
        setup::write(path, report.markdown(&format!("cargo xtask {}", args.join(" "))))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &a.plots {
        let n = plots::write_report(dir, &report)?;
        eprintln!("wrote {n} plots to {}", dir.display());
    }
    Ok(())
}

// ---------------------------------------------------------------- run

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
        print!("{}", run_summary(&log, kind, schedule));
        let (trials, steps, secs) = (log.trials.len(), log.steps, took.as_secs_f64());
        println!("{trials} trials, {steps} steps in {secs:.2} s\n");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            plan(&cli.unwrap().eval)
        };
        let o = parse(&["--task", "rule-switch,cue-context", "--seeds=3", "--robust"]).unwrap();
        assert_eq!((o.tasks.len(), o.seeds, o.variants.len()), (2, 3, 5));
        let o = parse(&["--lesions", "no_meta", "--number", "f32"]).unwrap();
        assert_eq!(
            (o.lesions, o.numbers),
            (vec!["none".into(), "no_meta".into()], vec![Number::F32])
        );
        assert!(parse(&["--lesions", "no_such"]).is_err());
        assert!(Cli::try_parse_from(["eval", "--bogus"]).is_err());
    }
}
