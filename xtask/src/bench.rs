//! `cargo xtask bench`: speed and footprint, measured (docs/PERFORMANCE.md
//! explains the method). Nothing here asserts: every number is printed in
//! one table with the project's targets (PASS / MISS) and optionally written
//! as JSON. In order: the agent's `size_of`; the MACs per step as the core
//! counts them ([`tcbg::cost`]); instructions per step in QEMU on `microbit`
//! (M0) and `an386` (M4F), fixed and `f32`, from SysTick read around every
//! `agent.step` under `-icount shift=0` (each firmware runs twice, both runs
//! must agree and the trace hash must equal the host's); every board's
//! flash and RAM; host steps per second of the reference trace loop (best
//! window of [`WINDOW_S`]); the same loop in wasm, in node and Chromium.
//! Like `eval`, `bench` re-runs itself from the release build.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};
use tcbg::snapshot::trace;
use tcbg::{cost, Agent, Config, Fx, DEFAULT_A, DEFAULT_C, DEFAULT_K, DEFAULT_S};

use crate::board::{self, pct, BOARDS};
use crate::setup::{self, step};
use crate::{web, Res};

/// Parts that `--skip` can leave out.
const PARTS: [&str; 4] = ["boards", "sizes", "host", "wasm"];
/// Steps per call of the trace loop when timing (host and wasm alike).
const CHUNK: u32 = 5_000;
/// Timing windows: the rate reported is the best window's, so a burst of
/// other work on a shared machine does not count against the code.
const WINDOW_S: f64 = 0.25;

/// `cargo xtask bench`'s options.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Also write the results as JSON
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Agent steps counted on each board
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    steps: u32,
    /// Seconds of timing per host and wasm measurement
    #[arg(long, default_value_t = 3.0, value_name = "S", value_parser = positive)]
    seconds: f64,
    /// Skip parts: boards (instruction counts), sizes (firmware flash/RAM), host, wasm
    #[arg(long, value_delimiter = ',', value_name = "P,..", value_parser = PARTS)]
    skip: Vec<String>,
    /// Do not re-run from the release build
    #[arg(long)]
    dev: bool,
}

fn positive(s: &str) -> Res<f64> {
    s.parse::<f64>().ok().filter(|v| *v > 0.0).ok_or(format!("`{s}` is not a positive number"))
}

/// Rounded to `d` decimals, for the JSON.
fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

/// `12,345` for a count.
fn group(v: f64) -> String {
    let digits = (v.round() as i64).unsigned_abs().to_string();
    let groups: Vec<&[u8]> = digits.as_bytes().rchunks(3).rev().collect();
    let sign = if v.round() < 0.0 { "-" } else { "" };
    sign.to_string() + &String::from_utf8_lossy(&groups.join(&b","[..]))
}

pub fn main(opts: BenchArgs) -> Res {
    if let Some(r) = setup::reexec_release(opts.dev, "so host timings are optimised") {
        return r;
    }
    let runs = |part: &str| !opts.skip.iter().any(|s| s == part);
    let start = Instant::now();
    let cpu = cpu_model();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut r = Report {
        t: String::from("\n==== tcbg bench ====\n"),
        v: json!({ "steps": opts.steps, "agent_bytes": {}, "agent_configs": {} }),
    };
    let bytes = agent_state(&mut r);
    let macs = multiply_accumulates(&mut r, opts.steps);
    let counts =
        if runs("boards") { instruction_counts(&mut r, opts.steps, macs)? } else { vec![] };
    if runs("sizes") {
        firmware_sizes(&mut r)?;
    }
    let host = if runs("host") { Some(host_speed(&mut r, opts.seconds, &cpu)) } else { None };
    let speeds = if runs("wasm") { wasm_speeds(&mut r, opts.seconds)? } else { vec![] };
    let wasm = host.as_ref().and_then(|h| speed_table(&mut r, h, &speeds, &cpu, opts.seconds));
    targets(&mut r, &counts, macs, bytes, wasm);
    let Report { mut t, mut v } = r;
    let elapsed = start.elapsed().as_secs_f64();
    let _ = writeln!(t, "\nmachine: {cpu}; bench took {elapsed:.0} s");
    println!("{t}");
    v["machine"] = json!({ "cpu": cpu, "cores": cores });
    v["elapsed_s"] = json!(elapsed);
    if let Some(path) = &opts.json {
        setup::write(path, serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n")?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The bench's printed table and its JSON, written part by part.
struct Report {
    t: String,
    v: Value,
}

/// Instructions per step: (board key, number type, count).
type Counts = Vec<(&'static str, &'static str, f64)>;

/// `size_of` the agent for three configs; the default's fixed-point bytes.
fn agent_state(r: &mut Report) -> f64 {
    step("bench: agent state");
    fn sizes<const S: usize, const C: usize, const K: usize, const A: usize>() -> [usize; 6] {
        let f = std::mem::size_of::<Agent<Fx, S, C, K, A>>();
        [S, C, K, A, f, std::mem::size_of::<Agent<f32, S, C, K, A>>()]
    }
    let agents = [
        ("default", sizes::<DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A>()),
        ("tiny", sizes::<4, 16, 2, 2>()),
        ("large", sizes::<16, 128, 8, 8>()),
    ];
    r.t +=
        "\nAgent state (size_of, bytes)\n  config                                fixed      f32\n";
    for (name, [s, c, k, a, fixed, f32]) in agents {
        let label = format!("{name} (S={s} C={c} K={k} A={a})");
        eprintln!("{label}: {fixed} B fixed, {f32} B f32");
        let _ = writeln!(r.t, "  {label:<34} {fixed:>8} {f32:>8}");
        r.v["agent_bytes"][name] = json!(fixed);
        r.v["agent_bytes"][format!("{name}_f32")] = json!(f32);
        r.v["agent_configs"][name] = json!({ "S": s, "C": c, "K": k, "A": a });
    }
    agents[0].1[4] as f64
}

/// The MACs of a step as the core counts them, phase by phase; the total.
fn multiply_accumulates(r: &mut Report, steps: u32) -> f64 {
    let t = &mut r.t;
    step("bench: multiply-accumulates per step");
    let config = Config::default();
    let act = cost::reference_activity(steps);
    let (s, c, k, a) = (DEFAULT_S, DEFAULT_C, DEFAULT_K, DEFAULT_A);
    let phases = cost::phases(s, c, k, a, config.winners > 0.0, &act);
    let per_step = |n: u64| n as f64 / act.steps as f64;
    let macs = per_step(phases.iter().map(|p| p.macs).sum());
    let dense = per_step(phases.iter().filter(|p| p.dense).map(|p| p.macs).sum());
    eprintln!("MACs per step: {macs:.1} ({dense:.0} dense)");
    let _ = writeln!(
        t,
        "\nMultiply-accumulates per step (default config, S={s} C={c} K={k} A={a}, GPR at its steady state;\n\
         sparse terms averaged over the first {} steps of the reference trace on the host)",
        act.steps
    );
    for p in &phases {
        let _ = writeln!(t, "  {:<42} {:<34} {:>8.1}", p.name, p.formula, per_step(p.macs));
    }
    let _ = writeln!(t, "  {:<42} {:<34} {:>8.1}", "total", "", macs);
    let _ = writeln!(
        t,
        "  (dense {dense:.0}, sparse {:.1}; learning on {:.0}% of steps, {:.1} traces nonzero, \
         {:.1} cortical units active)",
        macs - dense,
        100.0 * per_step(act.learning_steps),
        per_step(act.elig_nonzero),
        per_step(act.active_units)
    );
    let phases_json: Vec<Value> = phases
        .iter()
        .map(|p| {
            json!({ "phase": p.name, "formula": p.formula, "macs": round(per_step(p.macs), 1),
                    "measured_average": !p.dense })
        })
        .collect();
    r.v["macs_per_step"] = json!({ "total": round(macs, 1), "dense": dense,
        "averaged_over_steps": act.steps, "phases": phases_json });
    macs
}

/// Instructions per step on the M0 and M4F boards in QEMU, both number types.
fn instruction_counts(r: &mut Report, steps: u32, macs: f64) -> Res<Counts> {
    let (t, v) = (&mut r.t, &mut r.v);
    let mut counts: Counts = Vec::new();
    let _ = writeln!(
        t,
        "\nInstructions per step in QEMU (-icount shift=0, SysTick around agent.step; {} steps, learning on)",
        steps
    );
    *t += "  board                  number   instr/step   instr/loop instr/MAC  instr/       same     trace\n";
    *t += "                                 (step only)  (with task)              tick      twice    = host\n";
    for (key, name, core) in [("m0", "microbit", "Cortex-M0"), ("m4", "an386", "Cortex-M4F")] {
        for number in ["fixed", "f32"] {
            step(&format!("bench: instructions per step, {name}, {number}"));
            let (e, step) = count_instructions(name, number, steps)?;
            let yes = |b: &Value| if b == true { "yes" } else { "NO" };
            let f = |k: &str| e[k].as_f64().unwrap_or(0.0);
            let (per_loop, ipt) = (group(f("instructions_per_loop")), f("instructions_per_tick"));
            let (same, traced) = (yes(&e["repeatable"]), yes(&e["trace_matches_host"]));
            let (label, per_step, per_mac) = (format!("{name} ({core})"), group(step), step / macs);
            let _ = writeln!(
                t,
                "  {label:<22} {number:<6} {per_step:>12} {per_loop:>12} {per_mac:>9.2} {ipt:>7} {same:>10} {traced:>9}"
            );
            v[key][number] = e;
            v[key][number]["instructions_per_mac"] = json!(round(step / macs, 2));
            counts.push((key, number, step));
        }
    }
    for (key, name) in [("m0", "microbit"), ("m4", "an386")] {
        let of = |n: &str| counts.iter().find(|c| c.0 == key && c.1 == n).map_or(f64::NAN, |c| c.2);
        let ratio = of("f32") / of("fixed");
        let _ = writeln!(t, "  {name}: f32 / fixed = {ratio:.2}x");
        v[key]["f32_over_fixed"] = json!(round(ratio, 2));
    }
    Ok(counts)
}

/// Every board's firmware size and stack high-water, and its run.
fn firmware_sizes(r: &mut Report) -> Res {
    let (t, v) = (&mut r.t, &mut r.v);
    // With the snapshot in flash, as `cargo xtask board` builds them.
    let snapshot = board::Snapshot::from_browser()?;
    *t += "\nFirmware (release, default agent; bytes)\n";
    *t += "  board           text   data    bss   stack used      flash        RAM      run\n";
    for b in BOARDS {
        step(&format!("bench: firmware size, {}", b.name));
        let outcome = board::check(b, Some(&snapshot), &|_| {})?;
        let verdict = match (&outcome.run, outcome.summary(board::host_trace()).1) {
            (None, _) => "built".to_string(),
            (Some(_), Ok(())) => "pass".into(),
            (Some(_), Err(e)) => format!("FAIL: {e}"),
        };
        let (z, stack) = (&outcome.size, outcome.stack_high_water());
        eprintln!("{}: {} ({verdict})", b.name, z.describe(stack));
        let (name, text, data, bss, flash) =
            (b.name, z.text, z.data, z.bss, pct(z.text + z.data, z.flash_total));
        let ram = stack.map_or("-".into(), |st| pct(z.data + z.bss + st, z.ram_total));
        let st = stack.map_or("-".into(), |v| v.to_string());
        let _ = writeln!(
            t,
            "  {name:<11} {text:>8} {data:>6} {bss:>6} {st:>12} {flash:>10} {ram:>10} {verdict:>8}"
        );
        v["firmware"][b.name] = json!({
            "text": z.text, "data": z.data, "bss": z.bss, "stack_high_water": stack,
            "flash_total": z.flash_total, "ram_total": z.ram_total, "verdict": verdict,
        });
    }
    Ok(())
}

/// Steps per second of the reference trace loop on the host.
fn host_speed(r: &mut Report, seconds: f64, cpu: &str) -> Speed {
    step("bench: host steps per second");
    if cfg!(debug_assertions) {
        eprintln!("warning: a dev build (--dev): host timings are of unoptimised code");
    }
    let (fixed, hash_fixed) = time_trace::<Fx>(seconds);
    eprintln!("host fixed: {fixed:.0} steps/s");
    let (f32, hash_f32) = time_trace::<f32>(seconds);
    eprintln!("host f32: {f32:.0} steps/s");
    r.v["host"] = json!({
        "cpu": cpu, "fixed_steps_per_s": fixed.round(), "f32_steps_per_s": f32.round(),
        "fixed_over_f32": round(fixed / f32, 3), "trace_fixed": hash_fixed,
        "trace_f32": hash_f32, "chunk_steps": CHUNK,
    });
    Speed { fixed, f32, hash_fixed, hash_f32 }
}

/// Steps per second of the same loop in WebAssembly, in node and Chromium.
fn wasm_speeds(r: &mut Report, seconds: f64) -> Res<Vec<(&'static str, &'static str, Speed)>> {
    let mut speeds = Vec::new();
    step("bench: WebAssembly build");
    web::build()?;
    for (key, name) in [("node", "wasm, node"), ("chromium", "wasm, headless Chromium")] {
        step(&format!("bench: WebAssembly in {}", &name[6..]));
        let sp = if key == "node" { wasm_node(seconds)? } else { wasm_chromium(seconds)? };
        r.v["wasm"][key] = json!({
            "fixed_steps_per_s": sp.fixed.round(), "f32_steps_per_s": sp.f32.round(),
            "trace_fixed": sp.hash_fixed, "trace_f32": sp.hash_f32,
        });
        speeds.push((key, name, sp));
    }
    Ok(speeds)
}

/// The steps-per-second table; the slower runtime's wasm / native ratio.
fn speed_table(
    r: &mut Report,
    h: &Speed,
    speeds: &[(&'static str, &'static str, Speed)],
    cpu: &str,
    seconds: f64,
) -> Option<(f64, &'static str)> {
    let (t, v) = (&mut r.t, &mut r.v);
    let mut wasm: Option<(f64, &'static str)> = None;
    {
        let _ = writeln!(
            t,
            "\nSteps per second (reference trace loop, one thread, best {WINDOW_S} s window of {:.0} s each)",
            seconds
        );
        let _ = writeln!(t, "  {:<26} {:>12} {:>12} {:>13}", "", "fixed", "f32", "fixed / f32");
        let row = |t: &mut String, name: &str, sp: &Speed| {
            let (f, x, r) = (group(sp.fixed), group(sp.f32), sp.fixed / sp.f32);
            let _ = writeln!(t, "  {name:<26} {f:>12} {x:>12} {r:>13.2}");
        };
        row(t, &format!("host ({})", cpu.chars().take(24).collect::<String>()), h);
        for (key, name, sp) in speeds {
            let (rf, r32) = (sp.fixed / h.fixed, sp.f32 / h.f32);
            row(t, name, sp);
            let _ = writeln!(t, "  {:<26} {rf:>12.2} {r32:>12.2}   (wasm / native)", "");
            v["wasm"][key]["fixed_over_native"] = json!(round(rf, 3));
            v["wasm"][key]["f32_over_native"] = json!(round(r32, 3));
            if wasm.is_none_or(|(w, _)| rf < w) {
                wasm = Some((rf, *key));
            }
        }
    }
    if let Some((w, runtime)) = wasm {
        v["wasm_over_native"] = json!(round(w, 3));
        v["wasm_over_native_runtime"] = json!(runtime);
    }

    wasm
}

/// The project's targets, PASS or MISS.
fn targets(r: &mut Report, counts: &Counts, macs: f64, bytes: f64, wasm: Option<(f64, &str)>) {
    let count = |key: &str, n: &str| counts.iter().find(|c| c.0 == key && c.1 == n).map(|c| c.2);
    let (m0f, m0s) = (count("m0", "fixed"), count("m0", "f32"));
    let (r0, m4f, size) =
        (m0f.zip(m0s).map(|(f, s)| s / f), count("m4", "fixed").map(|c| c / macs), Some(bytes));
    let x = |v: Option<f64>, unit: &str, d: usize| v.map(|v| format!("{v:.d$}{unit}"));
    let slower = |(w, n)| format!("{w:.2} (slower of node and Chromium: {n})");
    // What, limit (its text is the bound), the value and as shown.
    let targets = [
        ("Cortex-M0 instructions per step, fixed, learning on", "<= 25,000", m0f, m0f.map(group)),
        ("M0 f32 (soft-float) / fixed instructions per step", ">= 5x", r0, x(r0, "x", 1)),
        ("Cortex-M4F instructions per MAC, fixed", "<= 3", m4f, x(m4f, "", 2)),
        ("agent state, default config (fixed)", "<= 6144 B", size, x(size, " B", 0)),
        ("WebAssembly / native steps per second", ">= 0.5", wasm.map(|w| w.0), wasm.map(slower)),
    ];
    let _ = writeln!(r.t, "\nTargets (default config)");
    let mut tj = Vec::new();
    for (what, limit, value, shown) in targets {
        let bound: f64 =
            limit[3..].trim_end_matches(['x', 'B', ' ']).replace(',', "").parse().unwrap();
        let pass = value.map(|x| if limit.starts_with("<=") { x <= bound } else { x >= bound });
        let verdict = pass.map_or("-", |p| if p { "PASS" } else { "MISS" });
        let shown = shown.unwrap_or("not measured".into());
        let _ = writeln!(r.t, "  {verdict:<5} {what:<54} {limit:<10} {shown}");
        tj.push(json!({ "what": what, "limit": limit, "value": value, "pass": pass }));
    }
    r.v["targets"] = json!(tj);
}

// ------------------------------------------------------ instructions in QEMU

/// What the firmware's bench lines say (boards/firmware/src/bench.rs):
/// steps, number type, calibration (n, t1, t2), empty bracket (n, ticks),
/// ticks (step, loop), trace hash.
#[derive(PartialEq, Debug)]
struct BenchLines {
    steps: u64,
    number: String,
    calibrate: [u64; 3],
    empty: [u64; 2],
    ticks: [u64; 2],
    hash: u32,
}

fn parse_bench(lines: &[String]) -> Res<BenchLines> {
    let find = |key: &str| {
        let words = lines.iter().find_map(|l| l.strip_prefix(key)?.strip_prefix(' '));
        let words = words.ok_or(format!("the firmware printed no `{key}` line"))?;
        Ok::<Vec<&str>, String>(words.split_whitespace().collect())
    };
    let nums = |key: &str, at: &[usize]| -> Res<Vec<u64>> {
        let w = find(key)?;
        at.iter()
            .map(|&i| w.get(i).and_then(|v| v.parse().ok()).ok_or(format!("bad number in `{key}`")))
            .collect()
    };
    let ticks = find("bench_ticks")?;
    if ticks.first() != Some(&"step") || ticks.get(2) != Some(&"loop") {
        return Err("malformed `bench_ticks` line".into());
    }
    let hash = find("bench_end")?.first().and_then(|h| u32::from_str_radix(h, 16).ok());
    let (c, e, t) = (
        nums("bench_calibrate", &[0, 1, 2])?,
        nums("bench_empty", &[0, 1])?,
        nums("bench_ticks", &[1, 3])?,
    );
    Ok(BenchLines {
        steps: nums("bench_begin", &[0])?[0],
        number: find("bench_number")?.first().unwrap_or(&"").to_string(),
        calibrate: [c[0], c[1], c[2]],
        empty: [e[0], e[1]],
        ticks: [t[0], t[1]],
        hash: hash.ok_or("bad hash in `bench_end`")?,
    })
}

/// Instructions per tick from the calibration: `2 n` instructions took
/// `t2 - t1` ticks. Snapped to the nearest half instruction when within
/// 0.1% (the timer's quantisation), so 62.499 reads as the 62.5 of a 16 MHz
/// core clock.
fn instructions_per_tick([n, t1, t2]: [u64; 3]) -> Res<f64> {
    if t2 <= t1 {
        return Err(format!("calibration failed: {t1} then {t2} ticks (is -icount on?)"));
    }
    let ipt = 2.0 * n as f64 / (t2 - t1) as f64;
    let snapped = (ipt * 2.0).round() / 2.0;
    Ok(if (ipt - snapped).abs() <= 1e-3 * ipt { snapped } else { ipt })
}

/// Builds `board`'s firmware with `TCBG_BENCH_STEPS=steps` (and the
/// `oracle` feature for `f32`, apart from `boards/target`), runs it twice
/// under `-icount shift=0` and turns its ticks into instructions: the JSON
/// entry and the instructions per step.
fn count_instructions(name: &str, number: &str, steps: u32) -> Res<(Value, f64)> {
    let board = board::find(name)?;
    let (qemu, machine) = board.qemu.ok_or(format!("{name} has no QEMU machine"))?;
    setup::ensure_targets(&[board.target])?;
    setup::ensure_apt(&["qemu-system-arm"], true)?;
    let features: &[&str] = if number == "f32" { &["tcbg-firmware/oracle"] } else { &[] };
    let dir = web::target_dir().join("bench-boards");
    let elf =
        board::build_with(board, &dir, &[("TCBG_BENCH_STEPS", &steps.to_string())], features)?;
    let host = if number == "f32" { trace::<f32>(steps) } else { trace::<Fx>(steps) };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let run = board::emulate(qemu, machine, &elf, &["-icount", "shift=0"], &|_| {})?;
        run.verdict(board::host_trace()).map_err(|e| format!("{name} bench firmware: {e}"))?;
        runs.push((parse_bench(&run.lines)?, run.stack_high_water));
    }
    let (b, stack) = &runs[0];
    if b.number != number || b.steps != u64::from(steps) {
        return Err(format!(
            "the firmware benched {} steps of {}, not {steps} of {number}",
            b.steps, b.number
        ));
    }
    let ipt = instructions_per_tick(b.calibrate)?;
    let empty = b.empty[1] as f64 * ipt / b.empty[0].max(1) as f64;
    let per_step = b.ticks[0] as f64 * ipt / steps as f64 - empty;
    let per_loop = b.ticks[1] as f64 * ipt / steps as f64;
    let repeatable = runs[0].0 == runs[1].0;
    eprintln!(
        "{name} {number}: {per_step:.0} instructions per step ({per_loop:.0} per loop iteration with the task), \
         {ipt} instructions per tick, repeatable {repeatable}, trace {:08x} (host {host:08x})",
        b.hash
    );
    let mut e = json!({
        "board": name, "instructions_per_step": per_step.round(), "instructions_per_loop": per_loop.round(),
        "instructions_per_tick": ipt, "timer_read_instructions": empty, "steps": steps,
        "repeatable": repeatable, "trace": format!("{:08x}", b.hash), "trace_matches_host": b.hash == host,
    });
    if let Some(st) = stack {
        e["stack_high_water"] = json!(st);
    }
    Ok((e, per_step))
}

// ------------------------------------------------------------------- speed

/// Steps per second, fixed and f32, and the hashes of one chunk.
struct Speed {
    fixed: f64,
    f32: f64,
    hash_fixed: String,
    hash_f32: String,
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| Some(l.strip_prefix("model name")?.split_once(':')?.1.trim().to_string()));
    model.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Calls of the reference trace loop `trace::<N>(CHUNK)` for `seconds`
/// (after one warm-up call), in windows of at least [`WINDOW_S`]: the best
/// window's steps per second, and the chunk's hash.
fn time_trace<N: tcbg::Kernels>(seconds: f64) -> (f64, String) {
    let hash = std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
    let start = Instant::now();
    let mut best = 0.0f64;
    while start.elapsed().as_secs_f64() < seconds {
        let (w, mut steps) = (Instant::now(), 0u64);
        while w.elapsed().as_secs_f64() < WINDOW_S {
            std::hint::black_box(trace::<N>(std::hint::black_box(CHUNK)));
            steps += CHUNK as u64;
        }
        best = best.max(steps as f64 / w.elapsed().as_secs_f64());
    }
    (best, format!("{hash:08x}"))
}

/// The same timing in JavaScript, shared by node and Chromium: `m` is the
/// wasm-bindgen module (initialised), the result a JSON string.
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

fn parse_speed(text: &str, runtime: &str) -> Res<Speed> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("{runtime}: {e}: {text}"))?;
    let rate =
        |n: &str| v[n]["steps_per_s"].as_f64().ok_or(format!("{runtime}: no {n} rate in {text}"));
    let hash = |n: &str| v[n]["hash"].as_str().unwrap_or_default().to_string();
    let s = Speed {
        fixed: rate("fixed")?,
        f32: rate("f32")?,
        hash_fixed: hash("fixed"),
        hash_f32: hash("f32"),
    };
    let (hf, h32) = (format!("{:08x}", trace::<Fx>(CHUNK)), format!("{:08x}", trace::<f32>(CHUNK)));
    if s.hash_fixed != hf || s.hash_f32 != h32 {
        let (a, b) = (&s.hash_fixed, &s.hash_f32);
        return Err(format!(
            "{runtime}: trace hashes {a} / {b} differ from the host's {hf} / {h32}"
        ));
    }
    eprintln!("{runtime}: fixed {:.0} steps/s, f32 {:.0} steps/s", s.fixed, s.f32);
    Ok(s)
}

fn wasm_node(seconds: f64) -> Res<Speed> {
    let out =
        web::node("timing script", &format!("{}\nconsole.log(timing(m));", js_timing(seconds)))?;
    parse_speed(out.lines().last().unwrap_or_default(), "node")
}

fn wasm_chromium(seconds: f64) -> Res<Speed> {
    setup::ensure_apt(&["chromium", "chromium-driver"], false)?;
    let v = web::with_page(|session, base| {
        let ms = (seconds * 2.0 * 1000.0 + 60_000.0) as u64;
        session.post("timeouts", json!({ "script": ms }))?;
        // Any page of the server's origin will do; the module is imported by the script.
        session.post("url", json!({ "url": format!("{base}bench") }))?;
        session.script_async(&format!(
            "const done = arguments[arguments.length - 1];\n{}\n\
             import('/pkg/tcbg_wasm.js').then(async (m) => {{ await m.default(); done(timing(m)); }})\
             .catch((e) => done('error: ' + e));",
            js_timing(seconds)
        ))
    })?;
    let text = v.as_str().unwrap_or_default();
    match text.strip_prefix("error: ") {
        Some(e) => Err(format!("chromium: {e}")),
        None => parse_speed(text, "chromium"),
    }
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
        .map(String::from)
        .to_vec();
        let b = parse_bench(&lines).unwrap();
        assert_eq!(
            (b.steps, b.number.as_str(), b.ticks, b.hash),
            (1000, "fixed", [1_170_931, 1_176_052], 0x8f78301c)
        );
        assert_eq!(instructions_per_tick([1 << 20, 33554, 67109]).unwrap(), 62.5);
        assert_eq!(instructions_per_tick([1 << 20, 52429, 104857]).unwrap(), 40.0);
        assert!(parse_bench(&lines[..5]).is_err());
        assert_eq!(
            (group(73183.4), group(999.0), group(1e6)),
            ("73,183".into(), "999".into(), "1,000,000".into())
        );
    }
}
