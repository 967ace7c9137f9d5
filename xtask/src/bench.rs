//! `cargo xtask bench`: speed and footprint, measured (docs/PERFORMANCE.md
//! explains the method). Nothing here asserts: every number is printed in
//! one table with the project's targets (PASS / MISS) and optionally written
//! as JSON. In order: the agent's `size_of`; the MACs per step as the core
//! counts them ([`tcbg::cost`]); instructions per step in QEMU on `microbit`
//! (M0) and `an386` (M4F), fixed and `f32`, from SysTick read around every
//! `agent.step` under `-icount shift=0` (each firmware runs twice, both runs
//! must agree and the trace hash must equal the host's); every board's
//! flash and RAM; host steps per second of the reference trace loop (best
//! window of [`tcbg_tests::bench::WINDOW_S`]); the same loop in wasm, in
//! node and Chromium. What is measured on the host, and the table and JSON,
//! are [`tcbg_tests::bench`]'s; this runs the firmware, node and Chromium.
//! Like `eval`, `bench` re-runs itself from the release build.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};
use tcbg::snapshot::trace;
use tcbg::Fx;
use tcbg_tests::bench::{cpu_model, group, js_timing, parse_speed, round, Counts, Report, Speed};

use crate::board::{self, pct, BOARDS};
use crate::setup::{self, step};
use crate::{web, Res};

/// Parts that `--skip` can leave out.
const PARTS: [&str; 4] = ["boards", "sizes", "host", "wasm"];

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

pub fn main(opts: BenchArgs) -> Res {
    if let Some(r) = setup::reexec_release(opts.dev, "so host timings are optimised") {
        return r;
    }
    let runs = |part: &str| !opts.skip.iter().any(|s| s == part);
    let start = Instant::now();
    let cpu = cpu_model();
    let mut r = Report::new(opts.steps);
    step("bench: agent state");
    let bytes = r.agent_state();
    step("bench: multiply-accumulates per step");
    let macs = r.multiply_accumulates(opts.steps);
    let counts =
        if runs("boards") { instruction_counts(&mut r, opts.steps, macs)? } else { vec![] };
    if runs("sizes") {
        firmware_sizes(&mut r)?;
    }
    let host = runs("host").then(|| {
        step("bench: host steps per second");
        r.host_speed(opts.seconds, &cpu)
    });
    let speeds = if runs("wasm") { wasm_speeds(&mut r, opts.seconds)? } else { vec![] };
    let wasm = host.as_ref().and_then(|h| r.speed_table(h, &speeds, &cpu, opts.seconds));
    r.targets(&counts, macs, bytes, wasm);
    let (t, v) = r.finish(&cpu, start.elapsed().as_secs_f64());
    println!("{t}");
    if let Some(path) = &opts.json {
        setup::write(path, serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n")?;
        println!("wrote {}", path.display());
    }
    Ok(())
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
    }
}
