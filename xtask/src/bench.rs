//! `cargo xtask bench [--json PATH]`: speed and footprint, measured.
//!
//! Nothing here asserts: every number is measured, printed in one table with
//! the project's targets (PASS / MISS per line) and optionally written as
//! JSON. The parts, in the order they run:
//!
//! 1. **Agent state**: `size_of` the agent, fixed point and `f32`, for the
//!    default sizes and two others ([`CONFIGS`]).
//! 2. **Multiply-accumulates per step**, from the config: a formula per
//!    phase of the step ([`macs`]); the sparse terms (learning on traces,
//!    Oja on active units, …) are averages measured on the host over the
//!    same steps the boards run.
//! 3. **Instructions per step in QEMU** on `microbit` (Cortex-M0) and
//!    `an386` (Cortex-M4F), fixed point and `f32` (soft-float on the M0, the
//!    FPU on the M4F). QEMU has no cycle counter; under `-icount shift=0` its
//!    virtual clock advances 1 ns per guest instruction and the firmware reads
//!    SysTick around every `agent.step` (boards/firmware/src/bench.rs), so the
//!    count is exact up to the timer's tick and deterministic. Each firmware
//!    runs twice and both runs must print the same counts; the steps' trace
//!    hash must equal the host's. Labelled *instructions*, never cycles.
//! 4. **Firmware flash and RAM** of every board, as `cargo xtask board NAME
//!    --size` measures them (text, data, bss, stack high-water).
//! 5. **Host speed**: steps per second of the reference trace loop, fixed
//!    and `f32`, one thread, release build, `--seconds` each; the best of
//!    windows of [`WINDOW_S`], so other work on a shared machine does not
//!    count against the code.
//! 6. **WebAssembly speed**: the same loop (`tcbg_wasm::bench_steps`) in node
//!    and in headless Chromium, and its ratio to native.
//!
//! `cargo xtask` builds in the dev profile, where the model is unoptimised;
//! like `eval`, `bench` re-runs itself from the release build so the host
//! timings measure optimised code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tcbg::snapshot::{trace, TRACE_SEED};
use tcbg::tasks::{observation, Schedule, Task, TaskKind};
use tcbg::{Agent, Config, Fx, Num, DEFAULT_A, DEFAULT_C, DEFAULT_K, DEFAULT_S};

use crate::board::{self, Board, BOARDS};
use crate::setup::{self, output, step, workspace_root};
use crate::web;

const HELP: &str = "\
cargo xtask bench [options]
  --json PATH        also write the results as JSON
  --steps N          agent steps counted on each board (default 1000)
  --seconds S        seconds of timing per host and wasm measurement (default 3)
  --skip P,..        skip parts: boards (instruction counts), sizes (firmware
                     flash/RAM), host, wasm
  --dev              do not re-run from the release build
";

/// Parts that `--skip` can leave out.
const PARTS: &[&str] = &["boards", "sizes", "host", "wasm"];

/// Steps per call of the trace loop when timing (host and wasm alike).
const CHUNK: u32 = 5_000;
/// Timing windows: the rate reported is the best window's, so a burst of
/// other work on a shared machine does not count against the code.
const WINDOW_S: f64 = 0.25;

struct Opts {
    json: Option<PathBuf>,
    steps: u32,
    seconds: f64,
    skip: Vec<String>,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut o = Opts {
            json: None,
            steps: 1000,
            seconds: 3.0,
            skip: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| format!("{a} needs a value\n\n{HELP}"))
            };
            match a.as_str() {
                "--json" => o.json = Some(PathBuf::from(value()?)),
                "--steps" => {
                    let v = value()?;
                    o.steps = v.parse().map_err(|e| format!("--steps {v}: {e}"))?;
                    if o.steps == 0 {
                        return Err("--steps must be at least 1".into());
                    }
                }
                "--seconds" => {
                    let v = value()?;
                    o.seconds = v.parse().map_err(|e| format!("--seconds {v}: {e}"))?;
                    if o.seconds.is_nan() || o.seconds <= 0.0 {
                        return Err("--seconds must be positive".into());
                    }
                }
                "--skip" => {
                    for p in value()?.split(',').filter(|s| !s.is_empty()) {
                        if !PARTS.contains(&p) {
                            return Err(format!(
                                "--skip: no part `{p}`; parts: {}",
                                PARTS.join(", ")
                            ));
                        }
                        o.skip.push(p.to_string());
                    }
                }
                "--dev" => {}
                "--help" | "-h" => return Err(HELP.into()),
                other => return Err(format!("bench: unknown option `{other}`\n\n{HELP}")),
            }
        }
        Ok(o)
    }

    fn runs(&self, part: &str) -> bool {
        !self.skip.iter().any(|s| s == part)
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    let opts = Opts::parse(args)?;
    if let Some(r) = setup::reexec_release("bench", args, "so host timings are optimised") {
        return r;
    }
    let start = Instant::now();
    let mut r = Results::default();

    step("bench: agent state");
    r.agent_bytes = agent_bytes();

    step("bench: multiply-accumulates per step");
    r.macs = macs(opts.steps);

    if opts.runs("boards") {
        for (key, name) in [("m0", "microbit"), ("m4", "an386")] {
            for number in ["fixed", "f32"] {
                step(&format!("bench: instructions per step, {name}, {number}"));
                let c = count_instructions(name, number, opts.steps)?;
                eprintln!("{}", c.describe());
                r.counts.push((key, c));
            }
        }
    }

    if opts.runs("sizes") {
        // With the snapshot in flash, as `cargo xtask board` builds them.
        let snapshot = board::Snapshot::from_browser()?;
        for b in BOARDS {
            step(&format!("bench: firmware size, {}", b.name));
            r.firmware.push(firmware_size(b, &snapshot)?);
        }
    }

    if opts.runs("host") {
        step("bench: host steps per second");
        r.cpu = cpu_model();
        r.host = Some(host_speed(opts.seconds));
    }

    if opts.runs("wasm") {
        step("bench: WebAssembly build");
        web::build()?;
        step("bench: WebAssembly in node");
        r.node = Some(wasm_node(opts.seconds)?);
        step("bench: WebAssembly in headless Chromium");
        r.chromium = Some(wasm_chromium(opts.seconds)?);
    }

    r.elapsed = start.elapsed();
    let targets = r.targets();
    println!("{}", r.table(&opts, &targets));
    if let Some(path) = &opts.json {
        let v = r.json(&opts, &targets);
        let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

// ------------------------------------------------------------------ results

#[derive(Default)]
struct Results {
    agent_bytes: Vec<AgentBytes>,
    macs: Macs,
    /// (`m0` or `m4`, count).
    counts: Vec<(&'static str, Count)>,
    firmware: Vec<FirmwareSize>,
    cpu: String,
    host: Option<Speed>,
    node: Option<Speed>,
    chromium: Option<Speed>,
    elapsed: Duration,
}

/// One target of the issue and whether it was met.
struct Target {
    what: &'static str,
    limit: String,
    value: Option<f64>,
    shown: String,
    pass: Option<bool>,
}

impl Results {
    fn count(&self, key: &str, number: &str) -> Option<&Count> {
        self.counts
            .iter()
            .find(|(k, c)| *k == key && c.number == number)
            .map(|(_, c)| c)
    }

    fn wasm_over_native(&self) -> Option<(f64, &'static str)> {
        let host = self.host.as_ref()?.fixed;
        let mut worst: Option<(f64, &'static str)> = None;
        for (name, s) in [("node", &self.node), ("chromium", &self.chromium)] {
            if let Some(s) = s {
                let ratio = s.fixed / host;
                if worst.is_none_or(|(w, _)| ratio < w) {
                    worst = Some((ratio, name));
                }
            }
        }
        worst
    }

    fn targets(&self) -> Vec<Target> {
        let m0f = self.count("m0", "fixed").map(|c| c.per_step);
        let m0s = self.count("m0", "f32").map(|c| c.per_step);
        let m4f = self
            .count("m4", "fixed")
            .map(|c| c.per_step / self.macs.total());
        let bytes = self.agent_bytes.first().map(|a| a.fixed as f64);
        let wasm = self.wasm_over_native();
        let t =
            |what, limit: &str, value: Option<f64>, shown: String, ok: fn(f64) -> bool| Target {
                what,
                limit: limit.into(),
                value,
                shown: if value.is_some() {
                    shown
                } else {
                    "not measured".into()
                },
                pass: value.map(ok),
            };
        vec![
            t(
                "Cortex-M0 instructions per step, fixed, learning on",
                "<= 25,000",
                m0f,
                m0f.map_or(String::new(), group),
                |v| v <= 25_000.0,
            ),
            t(
                "M0 f32 (soft-float) / fixed instructions per step",
                ">= 5x",
                m0f.zip(m0s).map(|(f, s)| s / f),
                m0f.zip(m0s)
                    .map_or(String::new(), |(f, s)| format!("{:.1}x", s / f)),
                |v| v >= 5.0,
            ),
            t(
                "Cortex-M4F instructions per MAC, fixed",
                "<= 3",
                m4f,
                m4f.map_or(String::new(), |v| format!("{v:.2}")),
                |v| v <= 3.0,
            ),
            t(
                "agent state, default config (fixed)",
                "<= 6144 B",
                bytes,
                bytes.map_or(String::new(), |v| format!("{v} B")),
                |v| v <= 6144.0,
            ),
            t(
                "WebAssembly / native steps per second",
                ">= 0.5",
                wasm.map(|w| w.0),
                wasm.map_or(String::new(), |(w, n)| {
                    format!("{w:.2} (slower of node and Chromium: {n})")
                }),
                |v| v >= 0.5,
            ),
        ]
    }

    fn table(&self, opts: &Opts, targets: &[Target]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n==== tcbg bench ====");
        let _ = writeln!(s, "\nAgent state (size_of, bytes)");
        let _ = writeln!(s, "  {:<34} {:>8} {:>8}", "config", "fixed", "f32");
        for a in &self.agent_bytes {
            let _ = writeln!(s, "  {:<34} {:>8} {:>8}", a.label(), a.fixed, a.f32);
        }

        let m = &self.macs;
        let _ = writeln!(
            s,
            "\nMultiply-accumulates per step (default config, S={} C={} K={} A={}, GPR {} iterations;\n\
             sparse terms averaged over the first {} steps of the reference trace on the host)",
            DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A, m.gpr_iterations, m.steps
        );
        for p in &m.phases {
            let _ = writeln!(s, "  {:<42} {:<34} {:>8.1}", p.name, p.formula, p.macs);
        }
        let _ = writeln!(s, "  {:<42} {:<34} {:>8.1}", "total", "", m.total());
        let _ = writeln!(
            s,
            "  (dense {:.0}, sparse {:.1}; learning on {:.0}% of steps, {:.1} traces nonzero, \
             {:.1} cortical units active)",
            m.dense(),
            m.total() - m.dense(),
            100.0 * m.learning_share,
            m.elig_nonzero,
            m.active_units
        );

        if !self.counts.is_empty() {
            let _ = writeln!(
                s,
                "\nInstructions per step in QEMU (-icount shift=0, SysTick around agent.step; {} steps, learning on)",
                opts.steps
            );
            let _ = writeln!(
                s,
                "  {:<22} {:<6} {:>12} {:>12} {:>9} {:>7} {:>10} {:>9}",
                "board",
                "number",
                "instr/step",
                "instr/loop",
                "instr/MAC",
                "instr/",
                "same",
                "trace"
            );
            let _ = writeln!(
                s,
                "  {:<22} {:<6} {:>12} {:>12} {:>9} {:>7} {:>10} {:>9}",
                "", "", "(step only)", "(with task)", "", "tick", "twice", "= host"
            );
            for (key, c) in &self.counts {
                let core = if *key == "m0" {
                    "Cortex-M0"
                } else {
                    "Cortex-M4F"
                };
                let _ = writeln!(
                    s,
                    "  {:<22} {:<6} {:>12} {:>12} {:>9.2} {:>7} {:>10} {:>9}",
                    format!("{} ({core})", c.board),
                    c.number,
                    group(c.per_step),
                    group(c.per_loop),
                    c.per_step / m.total(),
                    c.ipt,
                    if c.repeatable { "yes" } else { "NO" },
                    if c.hash == c.host_hash { "yes" } else { "NO" },
                );
            }
            for key in ["m0", "m4"] {
                if let (Some(f), Some(x)) = (self.count(key, "fixed"), self.count(key, "f32")) {
                    let _ = writeln!(
                        s,
                        "  {}: f32 / fixed = {:.2}x",
                        f.board,
                        x.per_step / f.per_step
                    );
                }
            }
        }

        if !self.firmware.is_empty() {
            let _ = writeln!(s, "\nFirmware (release, default agent; bytes)");
            let _ = writeln!(
                s,
                "  {:<11} {:>8} {:>6} {:>6} {:>12} {:>10} {:>10} {:>8}",
                "board", "text", "data", "bss", "stack used", "flash", "RAM", "run"
            );
            for f in &self.firmware {
                let stack = f.stack.map_or("-".into(), |v| v.to_string());
                let ram = f.stack.map_or("-".into(), |st| {
                    format!(
                        "{:.1}%",
                        100.0 * (f.data + f.bss + st) as f64 / f.ram_total as f64
                    )
                });
                let _ = writeln!(
                    s,
                    "  {:<11} {:>8} {:>6} {:>6} {:>12} {:>10} {:>10} {:>8}",
                    f.board,
                    f.text,
                    f.data,
                    f.bss,
                    stack,
                    format!(
                        "{:.1}%",
                        100.0 * (f.text + f.data) as f64 / f.flash_total as f64
                    ),
                    ram,
                    f.verdict
                );
            }
        }

        if let Some(h) = &self.host {
            let _ = writeln!(
                s,
                "\nSteps per second (reference trace loop, one thread, best {WINDOW_S} s window of {:.0} s each)",
                opts.seconds
            );
            let _ = writeln!(
                s,
                "  {:<26} {:>12} {:>12} {:>13}",
                "", "fixed", "f32", "fixed / f32"
            );
            let row = |name: &str, sp: &Speed| {
                format!(
                    "  {:<26} {:>12} {:>12} {:>13.2}\n",
                    name,
                    group(sp.fixed),
                    group(sp.f32),
                    sp.fixed / sp.f32
                )
            };
            s.push_str(&row(&format!("host ({})", short_cpu(&self.cpu)), h));
            for (name, sp) in [
                ("wasm, node", &self.node),
                ("wasm, headless Chromium", &self.chromium),
            ] {
                if let Some(sp) = sp {
                    s.push_str(&row(name, sp));
                    let _ = writeln!(
                        s,
                        "  {:<26} {:>12.2} {:>12.2}   (wasm / native)",
                        "",
                        sp.fixed / h.fixed,
                        sp.f32 / h.f32
                    );
                }
            }
        }

        let _ = writeln!(s, "\nTargets (default config)");
        for t in targets {
            let verdict = match t.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "-",
            };
            let _ = writeln!(
                s,
                "  {verdict:<5} {:<54} {:<10} {}",
                t.what, t.limit, t.shown
            );
        }
        let _ = writeln!(
            s,
            "\nmachine: {}; bench took {:.0} s",
            self.cpu_or_unknown(),
            self.elapsed.as_secs_f64()
        );
        s
    }

    fn cpu_or_unknown(&self) -> String {
        if self.cpu.is_empty() {
            cpu_model()
        } else {
            self.cpu.clone()
        }
    }

    fn json(&self, opts: &Opts, targets: &[Target]) -> Value {
        let mut v = json!({
            "steps": opts.steps,
            "agent_bytes": {},
            "macs_per_step": self.macs.json(),
            "machine": { "cpu": self.cpu_or_unknown(), "cores": thread::available_parallelism().map_or(0, |n| n.get()) },
            "elapsed_s": self.elapsed.as_secs_f64(),
        });
        for a in &self.agent_bytes {
            v["agent_bytes"][a.name] = json!(a.fixed);
            v["agent_bytes"][format!("{}_f32", a.name)] = json!(a.f32);
        }
        v["agent_configs"] = self
            .agent_bytes
            .iter()
            .map(|a| {
                (
                    a.name.to_string(),
                    json!({ "S": a.s, "C": a.c, "K": a.k, "A": a.a }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into();
        for (key, c) in &self.counts {
            let mut e = json!({
                "board": c.board,
                "instructions_per_step": c.per_step.round(),
                "instructions_per_loop": c.per_loop.round(),
                "instructions_per_mac": (c.per_step / self.macs.total() * 100.0).round() / 100.0,
                "instructions_per_tick": c.ipt,
                "timer_read_instructions": c.empty,
                "steps": c.steps,
                "repeatable": c.repeatable,
                "trace": format!("{:08x}", c.hash),
                "trace_matches_host": c.hash == c.host_hash,
            });
            if let Some(st) = c.stack {
                e["stack_high_water"] = json!(st);
            }
            v[*key][c.number] = e;
        }
        for key in ["m0", "m4"] {
            if let (Some(f), Some(x)) = (self.count(key, "fixed"), self.count(key, "f32")) {
                v[key]["f32_over_fixed"] = json!((x.per_step / f.per_step * 100.0).round() / 100.0);
            }
        }
        if !self.firmware.is_empty() {
            v["firmware"] = self
                .firmware
                .iter()
                .map(|f| {
                    (
                        f.board.to_string(),
                        json!({
                            "text": f.text, "data": f.data, "bss": f.bss,
                            "stack_high_water": f.stack,
                            "flash_total": f.flash_total, "ram_total": f.ram_total,
                            "verdict": f.verdict,
                        }),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if let Some(h) = &self.host {
            v["host"] = json!({
                "cpu": self.cpu,
                "fixed_steps_per_s": h.fixed.round(),
                "f32_steps_per_s": h.f32.round(),
                "fixed_over_f32": (h.fixed / h.f32 * 1000.0).round() / 1000.0,
                "trace_fixed": h.hash_fixed, "trace_f32": h.hash_f32, "chunk_steps": CHUNK,
            });
        }
        for (name, sp) in [("node", &self.node), ("chromium", &self.chromium)] {
            if let Some(sp) = sp {
                let mut e = json!({
                    "fixed_steps_per_s": sp.fixed.round(),
                    "f32_steps_per_s": sp.f32.round(),
                    "trace_fixed": sp.hash_fixed, "trace_f32": sp.hash_f32,
                });
                if let Some(h) = &self.host {
                    e["fixed_over_native"] = json!((sp.fixed / h.fixed * 1000.0).round() / 1000.0);
                    e["f32_over_native"] = json!((sp.f32 / h.f32 * 1000.0).round() / 1000.0);
                }
                v["wasm"][name] = e;
            }
        }
        if let Some((w, runtime)) = self.wasm_over_native() {
            v["wasm_over_native"] = json!((w * 1000.0).round() / 1000.0);
            v["wasm_over_native_runtime"] = json!(runtime);
        }
        v["targets"] = targets
            .iter()
            .map(|t| json!({ "what": t.what, "limit": t.limit, "value": t.value, "pass": t.pass }))
            .collect::<Vec<_>>()
            .into();
        v
    }
}

/// `12,345` for a count.
fn group(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

// ------------------------------------------------------------- agent state

/// The configs whose agent size is reported: (name, S, C, K, A).
const CONFIGS: &[(&str, usize, usize, usize, usize)] = &[
    ("default", DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A),
    ("tiny", 4, 16, 2, 2),
    ("large", 16, 128, 8, 8),
];

struct AgentBytes {
    name: &'static str,
    s: usize,
    c: usize,
    k: usize,
    a: usize,
    fixed: usize,
    f32: usize,
}

impl AgentBytes {
    fn label(&self) -> String {
        format!(
            "{} (S={} C={} K={} A={})",
            self.name, self.s, self.c, self.k, self.a
        )
    }
}

fn agent_bytes() -> Vec<AgentBytes> {
    fn sizes<const S: usize, const C: usize, const K: usize, const A: usize>() -> (usize, usize) {
        (
            std::mem::size_of::<Agent<Fx, S, C, K, A>>(),
            std::mem::size_of::<Agent<f32, S, C, K, A>>(),
        )
    }
    let measured = [
        sizes::<DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>(),
        sizes::<4, 16, 2, 2>(),
        sizes::<16, 128, 8, 8>(),
    ];
    CONFIGS
        .iter()
        .zip(measured)
        .map(|(&(name, s, c, k, a), (fixed, f32))| {
            let b = AgentBytes {
                name,
                s,
                c,
                k,
                a,
                fixed,
                f32,
            };
            eprintln!("{}: {} B fixed, {} B f32", b.label(), b.fixed, b.f32);
            b
        })
        .collect()
}

// ---------------------------------------------------------------- MACs

/// One phase of the step and its multiply-accumulates (every `Num`
/// multiplication counts: dot-product terms, products, `mul_sr`).
struct Phase {
    name: &'static str,
    formula: String,
    macs: f64,
    dense: bool,
}

#[derive(Default)]
struct Macs {
    phases: Vec<Phase>,
    steps: u32,
    gpr_iterations: u32,
    learning_share: f64,
    elig_nonzero: f64,
    active_units: f64,
}

impl Macs {
    fn total(&self) -> f64 {
        self.phases.iter().map(|p| p.macs).sum()
    }
    fn dense(&self) -> f64 {
        self.phases.iter().filter(|p| p.dense).map(|p| p.macs).sum()
    }
    fn json(&self) -> Value {
        json!({
            "total": (self.total() * 10.0).round() / 10.0,
            "dense": self.dense(),
            "averaged_over_steps": self.steps,
            "phases": self.phases.iter().map(|p| json!({
                "phase": p.name, "formula": p.formula, "macs": (p.macs * 10.0).round() / 10.0,
                "measured_average": !p.dense,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The GPR selection over `m` channels, `i` iterations: D1 and D2 (2m),
/// per iteration the diffuse STN sum (1) and two rate updates per channel
/// (2m), the output (1 + m).
fn gpr_macs(m: usize, i: usize) -> usize {
    3 * m + 1 + i * (2 * m + 1)
}

/// Multiply-accumulates per step of the default agent: the dense terms by
/// formula, the sparse ones averaged over `steps` steps of the reference
/// trace (fixed point).
fn macs(steps: u32) -> Macs {
    let (s, c, k, a) = (DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A);
    let config = Config::default();
    let i = config.gpr_iterations as usize;
    let kwta = usize::from(config.winners > 0.0);
    let sp = sparse(steps);
    let n = steps.max(1) as f64;
    let mut phases = Vec::new();
    let mut dense = |name, formula: String, macs: usize| {
        phases.push(Phase {
            name,
            formula,
            macs: macs as f64,
            dense: true,
        })
    };
    dense("1 cortical drive W_in s", "C*S".into(), c * s);
    dense(
        "2 value before learning",
        format!("rates {}C, x C, striatum 2AC, Q C", 2 + kwta),
        (2 + kwta) * c + c + 2 * a * c + c,
    );
    dense(
        "3 dopamine, surprise, hold, competence",
        "scalars".into(),
        10,
    );
    dense(
        "5 thalamic read W_rec s, traces",
        "C*S + 2C".into(),
        c * s + 2 * c,
    );
    dense(
        "5 context evidence, GPR over K, h = M rho",
        "4K+1 + GPR(K) + KC + K".into(),
        4 * k + 1 + gpr_macs(k, i) + k * c + k,
    );
    dense("5 recognition rho.rho, U rho", "C + KC".into(), c + k * c);
    dense("5 Hebbian M update", "C + KC".into(), c + k * c);
    dense(
        "6 rates, striatal input, Oja gains",
        format!("rates {}C, x C, eta g r 2C", 2 + kwta),
        (2 + kwta) * c + c + 2 * c,
    );
    dense("6 striatum drive, Q(a*)", "2AC + C".into(), 2 * a * c + c);
    dense(
        "7 exploration noise, GPR over A",
        "2 + A + GPR(A)".into(),
        2 + a + gpr_macs(a, i),
    );
    dense("7 eligibility decay", "AC".into(), a * c);
    let mut sparse_phase = |name, formula: String, total: f64| {
        phases.push(Phase {
            name,
            formula,
            macs: total / n,
            dense: false,
        })
    };
    sparse_phase(
        "4 Go/NoGo + critic learning (delta != 0)",
        "4 + 5 nnz(elig)".into(),
        sp.learning_steps as f64 * 4.0 + 5.0 * sp.elig_sum as f64,
    );
    sparse_phase(
        "4 control-function training, 1/mean gain",
        "1 + nnz(e_bar) + C + 5".into(),
        sp.learning_steps as f64 * (1.0 + c as f64 + 5.0) + sp.ebar_sum as f64,
    );
    sparse_phase(
        "6 norm |x|^2 on stimulus steps",
        "C + 6".into(),
        sp.stimulus_steps as f64 * (c as f64 + 6.0),
    );
    sparse_phase(
        "6 Oja on active units",
        "2S per active unit".into(),
        2.0 * s as f64 * sp.active_sum as f64,
    );
    sparse_phase(
        "7 experience lr per active input",
        "3 nnz(x)".into(),
        3.0 * sp.x_sum as f64,
    );
    sparse_phase(
        "5 recognition memory writes",
        "C per write".into(),
        c as f64 * sp.remember_writes as f64,
    );
    let m = Macs {
        phases,
        steps,
        gpr_iterations: i as u32,
        learning_share: sp.learning_steps as f64 / n,
        elig_nonzero: sp.elig_sum as f64 / n,
        active_units: sp.active_sum as f64 / n,
    };
    eprintln!("MACs per step: {:.1} ({:.0} dense)", m.total(), m.dense());
    m
}

#[derive(Default)]
struct Sparse {
    learning_steps: u64,
    elig_sum: u64,
    ebar_sum: u64,
    stimulus_steps: u64,
    active_sum: u64,
    x_sum: u64,
    remember_writes: u64,
}

/// The reference trace loop on the host, counting what the sparse terms depend on.
fn sparse(steps: u32) -> Sparse {
    let mut agent = Agent::<Fx, DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>::blank();
    let config = Config::default();
    agent
        .reset(config, TRACE_SEED)
        .expect("the default config is valid");
    let _ = agent.set_action_count(TaskKind::ACTIONS);
    let mut task = Task::new(TaskKind::RuleSwitch, Schedule::default(), TRACE_SEED);
    let mut reward = Fx::ZERO;
    let mut sp = Sparse::default();
    let stim = Fx::from_f32(config.stimulus_threshold);
    let competent = Fx::from_f32(config.competent);
    for _ in 0..steps {
        let inp = match task.next_input() {
            Some(i) => i,
            None => {
                task = Task::new(TaskKind::RuleSwitch, Schedule::default(), TRACE_SEED + 1);
                task.next_input().expect("a fresh task has input")
            }
        };
        if inp.trial_start {
            agent.mark_trial_start();
        }
        let elig = *agent.striatum.elig();
        let before = agent.counters();
        let a = agent.step(&observation::<Fx, DEFAULT_S>(inp.lines), reward);
        if agent.dopamine() != Fx::ZERO {
            sp.learning_steps += 1;
            sp.elig_sum += elig.iter().flatten().filter(|e| **e != Fx::ZERO).count() as u64;
            sp.ebar_sum += (0..DEFAULT_C)
                .filter(|&i| elig.iter().any(|row| row[i] != Fx::ZERO))
                .count() as u64;
        }
        let rates = agent.cortical_rates();
        let mut total = Fx::ZERO;
        for r in rates {
            total = total + *r;
        }
        if total >= stim {
            sp.stimulus_steps += 1;
        }
        sp.active_sum += rates.iter().filter(|r| **r != Fx::ZERO).count() as u64;
        sp.x_sum += agent
            .striatal_input
            .iter()
            .filter(|x| **x != Fx::ZERO)
            .count() as u64;
        if reward > Fx::ZERO {
            sp.remember_writes += 1;
        }
        let after = agent.counters();
        let active = agent.active_context();
        if after.switches != before.switches && agent.contexts.competence[active] < competent {
            sp.remember_writes += 1;
        }
        reward = if task.act(a).0 { Fx::ONE } else { Fx::ZERO };
    }
    sp
}

// ------------------------------------------------------ instructions in QEMU

/// An instruction count of one firmware: `steps` steps of the reference
/// trace on `board`.
struct Count {
    board: &'static str,
    number: &'static str,
    steps: u32,
    /// Instructions per SysTick tick (calibrated; 1 for `minstret`).
    ipt: f64,
    /// Instructions of one empty timer bracket (subtracted from `per_step`).
    empty: f64,
    per_step: f64,
    per_loop: f64,
    hash: u32,
    host_hash: u32,
    repeatable: bool,
    stack: Option<u64>,
}

impl Count {
    fn describe(&self) -> String {
        format!(
            "{} {}: {:.0} instructions per step ({:.0} per loop iteration with the task), {} instructions per tick, \
             repeatable {}, trace {:08x} (host {:08x})",
            self.board, self.number, self.per_step, self.per_loop, self.ipt, self.repeatable, self.hash, self.host_hash
        )
    }
}

/// What the firmware's bench lines say (boards/firmware/src/bench.rs).
#[derive(PartialEq, Debug)]
struct BenchLines {
    steps: u32,
    number: String,
    calibrate: (u64, u64, u64),
    empty: (u64, u64),
    ticks: (u64, u64),
    hash: u32,
}

fn parse_bench(lines: &[String]) -> Result<BenchLines, String> {
    let find = |key: &str| {
        lines
            .iter()
            .find_map(|l| {
                l.strip_prefix(key)
                    .map(|r| r.split_whitespace().collect::<Vec<_>>())
            })
            .ok_or_else(|| format!("the firmware printed no `{}` line", key.trim()))
    };
    let num = |s: Option<&&str>, what: &str| -> Result<u64, String> {
        s.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("bad number in `{what}`"))
    };
    let begin = find("bench_begin ")?;
    let cal = find("bench_calibrate ")?;
    let empty = find("bench_empty ")?;
    let ticks = find("bench_ticks ")?;
    if ticks.first() != Some(&"step") || ticks.get(2) != Some(&"loop") {
        return Err("malformed `bench_ticks` line".into());
    }
    let end = find("bench_end ")?;
    Ok(BenchLines {
        steps: num(begin.first(), "bench_begin")? as u32,
        number: find("bench_number ")?.first().unwrap_or(&"").to_string(),
        calibrate: (
            num(cal.first(), "bench_calibrate")?,
            num(cal.get(1), "bench_calibrate")?,
            num(cal.get(2), "bench_calibrate")?,
        ),
        empty: (
            num(empty.first(), "bench_empty")?,
            num(empty.get(1), "bench_empty")?,
        ),
        ticks: (
            num(ticks.get(1), "bench_ticks")?,
            num(ticks.get(3), "bench_ticks")?,
        ),
        hash: end
            .first()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or("bad hash in `bench_end`")?,
    })
}

/// Instructions per tick from the calibration: `2 n` instructions took
/// `t2 - t1` ticks. Snapped to the nearest half instruction when within
/// 0.1% (the timer's quantisation), so 62.499 reads as the 62.5 of a 16 MHz
/// core clock.
fn instructions_per_tick(n: u64, t1: u64, t2: u64) -> Result<f64, String> {
    if t2 <= t1 {
        return Err(format!(
            "calibration failed: {t1} then {t2} ticks (is -icount on?)"
        ));
    }
    let ipt = 2.0 * n as f64 / (t2 - t1) as f64;
    let snapped = (ipt * 2.0).round() / 2.0;
    Ok(if (ipt - snapped).abs() <= 1e-3 * ipt {
        snapped
    } else {
        ipt
    })
}

/// Builds `board`'s firmware with `TCBG_BENCH_STEPS=steps` (and the
/// `oracle` feature for `f32`), runs it twice under `-icount shift=0` and
/// turns its ticks into instructions.
fn count_instructions(board_name: &str, number: &'static str, steps: u32) -> Result<Count, String> {
    let board = BOARDS
        .iter()
        .find(|b| b.name == board_name)
        .ok_or(format!("no board {board_name}"))?;
    let (qemu, machine) = board
        .qemu
        .ok_or(format!("{board_name} has no QEMU machine"))?;
    setup::ensure_targets(&[board.target])?;
    setup::ensure_apt_backports(&["qemu-system-arm"])?;
    let steps_s = steps.to_string();
    let features: &[&str] = if number == "f32" {
        &["tcbg-firmware/oracle"]
    } else {
        &[]
    };
    let elf = board::build_with(
        board,
        &bench_target_dir(),
        &[("TCBG_BENCH_STEPS", &steps_s)],
        features,
    )?;
    let host_hash = if number == "f32" {
        trace::<f32>(steps)
    } else {
        trace::<Fx>(steps)
    };
    let host_full = board::host_trace();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let run = board::emulate(qemu, machine, &elf, &["-icount", "shift=0"], &|_| {})?;
        run.verdict(host_full)
            .map_err(|e| format!("{board_name} bench firmware: {e}"))?;
        let lines = parse_bench(&run.lines)?;
        runs.push((lines, run.stack_high_water));
    }
    let (b, stack) = &runs[0];
    if b.number != number || b.steps != steps {
        return Err(format!(
            "the firmware benched {} steps of {}, not {steps} of {number}",
            b.steps, b.number
        ));
    }
    let ipt = instructions_per_tick(b.calibrate.0, b.calibrate.1, b.calibrate.2)?;
    let empty = b.empty.1 as f64 * ipt / b.empty.0.max(1) as f64;
    let n = steps as f64;
    Ok(Count {
        board: board.name,
        number,
        steps,
        ipt,
        empty,
        per_step: b.ticks.0 as f64 * ipt / n - empty,
        per_loop: b.ticks.1 as f64 * ipt / n,
        hash: b.hash,
        host_hash,
        repeatable: runs[0].0 == runs[1].0,
        stack: *stack,
    })
}

/// Where the instrumented firmware is built: apart from `boards/target`, so
/// `cargo xtask board` keeps its own uninstrumented builds.
fn bench_target_dir() -> PathBuf {
    web::target_dir().join("bench-boards")
}

// ------------------------------------------------------------ firmware size

struct FirmwareSize {
    board: &'static str,
    text: u64,
    data: u64,
    bss: u64,
    stack: Option<u64>,
    flash_total: u64,
    ram_total: u64,
    verdict: String,
}

fn firmware_size(b: &Board, snapshot: &board::Snapshot) -> Result<FirmwareSize, String> {
    let outcome = board::check(b, Some(snapshot), &|_| {})?;
    let verdict = match (&outcome.run, outcome.summary(board::host_trace()).1) {
        (None, _) => "built".to_string(),
        (Some(_), Ok(())) => "pass".into(),
        (Some(_), Err(e)) => format!("FAIL: {e}"),
    };
    let sz = &outcome.size;
    eprintln!(
        "{}: {} ({verdict})",
        b.name,
        sz.describe(outcome.stack_high_water())
    );
    Ok(FirmwareSize {
        board: b.name,
        text: sz.text,
        data: sz.data,
        bss: sz.bss,
        stack: outcome.stack_high_water(),
        flash_total: sz.flash_total,
        ram_total: sz.ram_total,
        verdict,
    })
}

// --------------------------------------------------------------- host speed

/// Steps per second, fixed and f32, and the hashes of one chunk.
struct Speed {
    fixed: f64,
    f32: f64,
    hash_fixed: String,
    hash_f32: String,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn short_cpu(cpu: &str) -> String {
    cpu.chars().take(24).collect()
}

/// Calls of `trace::<N>(CHUNK)` for `seconds` (after one warm-up call), in
/// windows of at least [`WINDOW_S`]: the best window's steps per second, and
/// the chunk's hash.
fn time_trace<N: tcbg::Kernels>(seconds: f64) -> (f64, String) {
    let hash = std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
    let start = Instant::now();
    let mut best = 0.0f64;
    while start.elapsed().as_secs_f64() < seconds {
        let w = Instant::now();
        let mut steps = 0u64;
        while w.elapsed().as_secs_f64() < WINDOW_S {
            std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
            steps += CHUNK as u64;
        }
        best = best.max(steps as f64 / w.elapsed().as_secs_f64());
    }
    (best, format!("{hash:08x}"))
}

fn host_speed(seconds: f64) -> Speed {
    if cfg!(debug_assertions) {
        eprintln!("warning: a dev build (--dev): host timings are of unoptimised code");
    }
    let (fixed, hash_fixed) = time_trace::<Fx>(seconds);
    eprintln!("host fixed: {fixed:.0} steps/s");
    let (f32, hash_f32) = time_trace::<f32>(seconds);
    eprintln!("host f32: {f32:.0} steps/s");
    Speed {
        fixed,
        f32,
        hash_fixed,
        hash_f32,
    }
}

// --------------------------------------------------------------------- wasm

/// The timing loop, shared by node and Chromium: `m` is the wasm-bindgen
/// module (initialised), the result a JSON string.
fn js_timing(seconds: f64) -> String {
    format!(
        r#"
const timing = (m) => {{
  const out = {{}};
  for (const number of ["fixed", "f32"]) {{
    const hash = m.bench_steps({CHUNK}, number);
    let best = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < {ms}) {{
      const w = performance.now();
      let steps = 0;
      let t = w;
      while (t - w < {window}) {{
        m.bench_steps({CHUNK}, number);
        steps += {CHUNK};
        t = performance.now();
      }}
      best = Math.max(best, steps / ((t - w) / 1000));
    }}
    out[number] = {{ steps_per_s: best, hash }};
  }}
  return JSON.stringify(out);
}};
"#,
        ms = seconds * 1000.0,
        window = WINDOW_S * 1000.0
    )
}

fn parse_speed(text: &str, runtime: &str) -> Result<Speed, String> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("{runtime}: {e}: {text}"))?;
    let get = |n: &str| {
        v[n]["steps_per_s"]
            .as_f64()
            .ok_or_else(|| format!("{runtime}: no {n} rate in {text}"))
    };
    let hash = |n: &str| v[n]["hash"].as_str().unwrap_or_default().to_string();
    let s = Speed {
        fixed: get("fixed")?,
        f32: get("f32")?,
        hash_fixed: hash("fixed"),
        hash_f32: hash("f32"),
    };
    let (hf, h32) = (
        format!("{:08x}", trace::<Fx>(CHUNK)),
        format!("{:08x}", trace::<f32>(CHUNK)),
    );
    if s.hash_fixed != hf || s.hash_f32 != h32 {
        return Err(format!(
            "{runtime}: trace hashes {} / {} differ from the host's {hf} / {h32}",
            s.hash_fixed, s.hash_f32
        ));
    }
    eprintln!(
        "{runtime}: fixed {:.0} steps/s, f32 {:.0} steps/s",
        s.fixed, s.f32
    );
    Ok(s)
}

fn wasm_node(seconds: f64) -> Result<Speed, String> {
    let pkg = workspace_root().join("web/pkg");
    let url = |p: &Path| format!("file://{}", p.display());
    let script = format!(
        "import {{ readFileSync }} from 'node:fs';\n\
         import * as m from '{}';\n\
         m.initSync({{ module: readFileSync('{}') }});\n{}\nconsole.log(timing(m));\n",
        url(&pkg.join("tcbg_wasm.js")),
        pkg.join("tcbg_wasm_bg.wasm").display(),
        js_timing(seconds)
    );
    let mut cmd = Command::new("node");
    cmd.args(["--input-type=module", "-e", &script]);
    eprintln!("$ node --input-type=module -e <timing script>");
    let out = output(&mut cmd)?;
    parse_speed(out.lines().last().unwrap_or_default(), "node")
}

fn wasm_chromium(seconds: f64) -> Result<Speed, String> {
    setup::ensure_apt(&["chromium", "chromium-driver"])?;
    let server = Arc::new(web::Server::bind(0)?);
    let base = server.url();
    let serving = {
        let server = Arc::clone(&server);
        thread::spawn(move || server.serve())
    };
    let result = web::ChromeDriver::start().and_then(|driver| {
        let session = driver.new_session()?;
        let result = (|| {
            let ms = (seconds * 2.0 * 1000.0 + 60_000.0) as u64;
            session.post("timeouts", json!({ "script": ms }))?;
            // Any page of the server's origin will do; the module is imported by the script.
            session.post("url", json!({ "url": format!("{base}bench") }))?;
            let script = format!(
                "const done = arguments[arguments.length - 1];\n{}\n\
                 import('/pkg/tcbg_wasm.js').then(async (m) => {{ await m.default(); done(timing(m)); }})\
                 .catch((e) => done('error: ' + e));",
                js_timing(seconds)
            );
            session.post("execute/async", json!({ "script": script, "args": [] }))
        })();
        session.close();
        result
    });
    server.http.unblock();
    let _ = serving.join();
    let v = result?;
    let text = v.as_str().unwrap_or_default();
    if let Some(e) = text.strip_prefix("error: ") {
        return Err(format!("chromium: {e}"));
    }
    parse_speed(text, "chromium")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_parse() {
        let lines: Vec<String> = [
            "bench_begin 1000",
            "bench_number fixed",
            "bench_clock systick",
            "bench_calibrate 1048576 33554 67109",
            "bench_empty 1000 11",
            "bench_ticks step 1170931 loop 1176052",
            "bench_end 8f78301c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let b = parse_bench(&lines).unwrap();
        assert_eq!(b.steps, 1000);
        assert_eq!(b.number, "fixed");
        assert_eq!(b.ticks, (1_170_931, 1_176_052));
        assert_eq!(b.hash, 0x8f78301c);
        assert_eq!(instructions_per_tick(1 << 20, 33554, 67109).unwrap(), 62.5);
        assert_eq!(instructions_per_tick(1 << 20, 52429, 104857).unwrap(), 40.0);
        assert!(parse_bench(&lines[..5]).is_err());
    }

    #[test]
    fn grouping() {
        assert_eq!(group(73183.4), "73,183");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(1_000_000.0), "1,000,000");
    }

    #[test]
    fn gpr_count() {
        // 4 channels, 30 iterations: 13 + 30 * 9.
        assert_eq!(gpr_macs(4, 30), 283);
    }
}
