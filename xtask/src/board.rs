//! `cargo xtask board NAME [--size] [--snapshot FILE]`: the firmware on
//! emulated boards.
//!
//! Installs what is missing, builds `boards/NAME` in release with a snapshot
//! in flash (`TCBG_SNAPSHOT`: the page's wasm build's export,
//! [`crate::web::browser_snapshot`], or `--snapshot FILE`) and runs it in
//! QEMU with semihosting. It passes only if the firmware exits 0 within
//! [`TIMEOUT`], every task of [`BOARD_TASKS`] printed its `metrics` line,
//! equal to the host's, and its `result … pass` line, its trace hash is the
//! host's, and both its own snapshot round trip and the snapshot from flash
//! continue as on the host ([`tcbg::snapshot::trace_continuation`]). `--size`: flash and RAM from the
//! ELF against `memory.x`. A real board (no QEMU machine) is only built.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use object::{elf, Object, ObjectSection, SectionFlags};
use tcbg::tasks::{Metrics, Schedule, Task, TaskKind};
use tcbg::{Config, DefaultAgent};

use crate::setup::{self, cargo_in, describe, workspace_root};
use crate::Res;

/// A board: its crate in `boards/` (package and binary are named `name`),
/// and its QEMU system emulator and machine (`None`: a real board, built only).
pub struct Board {
    pub name: &'static str,
    pub target: &'static str,
    pub qemu: Qemu,
}

const fn board(name: &'static str, target: &'static str, qemu: Qemu) -> Board {
    Board { name, target, qemu }
}
type Qemu = Option<(&'static str, &'static str)>;

pub const BOARDS: &[Board] = &[
    board("microbit", "thumbv6m-none-eabi", Some(("qemu-system-arm", "microbit"))),
    board("lm3s6965", "thumbv7m-none-eabi", Some(("qemu-system-arm", "lm3s6965evb"))),
    board("an386", "thumbv7em-none-eabihf", Some(("qemu-system-arm", "mps2-an386"))),
    board("sifive_e", "riscv32imac-unknown-none-elf", Some(("qemu-system-riscv32", "sifive_e"))),
    board("nrf52840dk", "thumbv7em-none-eabihf", None),
];

/// Where the firmware's lines go (stdout for `board`, stderr for `test`).
pub type Echo = dyn Fn(&str) + Sync;

/// A firmware still running after this long is hung: it is killed and fails.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Where the snapshots are taken and how long their continuations run: the
/// firmware's `SNAPSHOT_AT` and `CONTINUATION` (boards/firmware/src/lib.rs),
/// the wasm suite's too (wasm/tests/web.rs).
pub const SNAPSHOT_AT: u32 = 1000;
pub const CONTINUATION: u32 = 500;

/// The tasks the firmware learns, in its order (`TASKS` in
/// boards/firmware/src/lib.rs, which also holds each one's pass criterion),
/// each on a fresh default agent with seed [`TASK_SEED`].
pub const BOARD_TASKS: [TaskKind; 17] = [
    TaskKind::RuleSwitch,
    TaskKind::SEQUENCE[0],
    TaskKind::SEQUENCE[1],
    TaskKind::SEQUENCE[2],
    TaskKind::SEQUENCE[3],
    TaskKind::CuedRuleSwitch,
    TaskKind::CueContext,
    TaskKind::ReversalBandit,
    TaskKind::ALL[4],
    TaskKind::ALL[5],
    TaskKind::ALL[6],
    TaskKind::ALL[7],
    TaskKind::SerialReversal,
    TaskKind::NewRuleTransfer,
    TaskKind::MULTI_RULE[0],
    TaskKind::MULTI_RULE[1],
    TaskKind::MULTI_RULE[2],
];

/// The firmware's `SEED`: of every task and its agent.
pub const TASK_SEED: u64 = 1;

/// The `metrics <task>: name value, …` line the firmware prints for `kind`
/// (floats as `core::fmt` prints them), from the host's run of the same task
/// on the same agent: the board's line must be exactly this.
pub fn host_metrics(kind: TaskKind) -> Res<String> {
    let mut agent = DefaultAgent::new(Config::default(), TASK_SEED)
        .map_err(|e| format!("the default config is invalid: {e:?}"))?;
    let mut task = Task::new(kind, Schedule::default(), TASK_SEED);
    let report = tcbg::tasks::run(&mut agent, &mut task, |_| {})
        .map_err(|e| format!("{kind} does not run on the host: {e}"))?;
    Ok(metrics_line(kind, &report.metrics))
}

fn metrics_line(kind: TaskKind, metrics: &Metrics) -> String {
    let values: Vec<String> = metrics.values.iter().map(|(n, v)| format!("{n} {v}")).collect();
    format!("metrics {kind}: {}", values.join(", "))
}

/// Every task of `want` (its name, as the firmware prints it, and the
/// host's `metrics` line) printed that `metrics` line and a `result <task>:
/// pass` line; no task outside `want` printed one. A missing line fails.
fn task_checks(lines: &[String], want: &[(String, String)]) -> Res {
    for line in lines {
        let Some(name) = line.strip_prefix("metrics ").and_then(|r| r.split_once(':')) else {
            continue;
        };
        if !want.iter().any(|(w, _)| *w == name.0) {
            return Err(format!(
                "the firmware learned {}, which is not in the xtask's BOARD_TASKS",
                name.0
            ));
        }
    }
    for (name, host) in want {
        let key = format!("metrics {name}:");
        let Some(board) = lines.iter().find(|l| l.starts_with(&key)) else {
            return Err(format!("the firmware printed no `{key}` line (task list: BOARD_TASKS)"));
        };
        if board != host {
            return Err(format!("{name}: the board printed `{board}`, the host `{host}`"));
        }
        let key = format!("result {name}: ");
        let Some(result) = lines.iter().find_map(|l| l.strip_prefix(&key)) else {
            return Err(format!("the firmware printed no `{}` line", key.trim_end()));
        };
        if result != "pass" && !result.starts_with("pass (") {
            return Err(format!("{name}: {result}"));
        }
    }
    Ok(())
}

pub fn find(name: &str) -> Res<&'static Board> {
    let names = || BOARDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ");
    BOARDS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| format!("no board `{name}`; boards: {}", names()))
}

pub fn main(name: &str, size: bool, file: Option<&Path>) -> Res {
    let board = find(name)?;
    let snapshot = match file {
        Some(f) => Snapshot::from_file(f)?,
        None => Snapshot::from_browser()?,
    };
    let outcome = check(board, Some(&snapshot), &|line| println!("{line}"))?;
    if size {
        println!("{}", outcome.size.describe(outcome.stack_high_water()));
    }
    let (summary, verdict) = outcome.summary(host_trace());
    println!("{}: {summary}", board.name);
    verdict
}

/// Runs every board (the real one is built only) and fails if any fails.
pub fn test_all() -> Res {
    let snapshot = Snapshot::from_browser()?;
    let (mut failures, mut table) = (Vec::new(), String::new());
    for board in BOARDS {
        setup::step(&format!("board {}", board.name));
        let verdict = match check(board, Some(&snapshot), &|line| eprintln!("{line}")) {
            Ok(outcome) => {
                let (summary, verdict) = outcome.summary(host_trace());
                let size = outcome.size.describe(outcome.stack_high_water());
                let _ = writeln!(table, "{:<11} {summary}\n{:<11} {size}", board.name, "");
                verdict
            }
            Err(e) => {
                let _ = writeln!(table, "{:<11} error: {e}", board.name);
                Err(e)
            }
        };
        if let Err(e) = verdict {
            failures.push(format!("{}: {e}", board.name));
        }
    }
    eprint!("\nsnapshot in flash: {}\n{table}", snapshot.origin);
    failures.is_empty().then_some(()).ok_or_else(|| failures.join("\n"))
}

/// [`BOARD_TASKS`]' names as the firmware prints them and the host's
/// `metrics` lines.
fn host_tasks() -> Res<Vec<(String, String)>> {
    BOARD_TASKS.iter().map(|&k| Ok((k.to_string(), host_metrics(k)?))).collect()
}

/// The reference trace hash on the host (what `cargo xtask trace` prints).
pub fn host_trace() -> u32 {
    tcbg::snapshot::trace::<tcbg::Fx>(tcbg::snapshot::TRACE_STEPS)
}

/// The host's [`tcbg::snapshot::trace_continuation`]: the reference trace to
/// step `at`, the agent restored from `bytes` (if any) in its place; the
/// snapshot the host's own agent had there, and the hash of the next `steps` steps.
pub fn host_continuation(at: u32, steps: u32, bytes: Option<&[u8]>) -> Res<(Vec<u8>, u32)> {
    let swap_in = bytes.map(DefaultAgent::restore).transpose();
    let swap_in = swap_in.map_err(|e| format!("refused on the host too: {e}"))?;
    let mut own = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    let hash = tcbg::snapshot::trace_continuation(at, steps, &mut own, swap_in);
    Ok((own, hash))
}

/// A snapshot a board restores from flash, made off the board.
#[derive(Clone)]
pub struct Snapshot {
    /// The file the firmware embeds (`TCBG_SNAPSHOT`).
    path: PathBuf,
    bytes: Vec<u8>,
    /// Where it came from, for the reports.
    origin: String,
}

impl Snapshot {
    /// The page's WebAssembly build's export, saved under `boards/target/snapshot/`.
    pub fn from_browser() -> Res<Snapshot> {
        use crate::web::{BROWSER_SEED as SEED, BROWSER_STEPS as STEPS, BROWSER_TASK as TASK};
        let bytes = crate::web::browser_snapshot()?;
        let origin = format!(
            "the page's wasm build in node, {TASK} seed {SEED} after {STEPS} steps ({} bytes)",
            bytes.len()
        );
        Snapshot::saved(&format!("browser-{TASK}-seed{SEED}-step{STEPS}.bin"), bytes, origin)
    }

    /// `file`: a snapshot's raw bytes, or a file the page exported (JSON
    /// with the snapshot in base64 under `snapshot`).
    pub fn from_file(file: &Path) -> Res<Snapshot> {
        let shown = file.display();
        let data = std::fs::read(file).map_err(|e| format!("{shown}: {e}"))?;
        if data.first() != Some(&b'{') {
            let path = std::path::absolute(file).map_err(|e| format!("{shown}: {e}"))?;
            let origin = format!("{shown} ({} bytes)", data.len());
            return Ok(Snapshot { path, bytes: data, origin });
        }
        let json: serde_json::Value =
            serde_json::from_slice(&data).map_err(|e| format!("{shown}: not JSON: {e}"))?;
        let b64 = json["snapshot"].as_str().ok_or_else(|| {
            format!("{shown}: no `snapshot` string (not a file the page exported?)")
        })?;
        let bytes = setup::base64(b64).map_err(|e| format!("{shown}: the snapshot is {e}"))?;
        let stem = file.file_stem().map_or("export".into(), |s| s.to_string_lossy().into_owned());
        let (steps, task, n) = (&json["steps"], &json["task"], bytes.len());
        let origin = format!("{shown} (exported after {steps} steps of {task}, {n} bytes)");
        Snapshot::saved(&format!("{stem}.bin"), bytes, origin)
    }

    /// Saved as `boards/target/snapshot/NAME` (rewritten only if it
    /// changed, so an unchanged snapshot does not rebuild the firmware).
    fn saved(name: &str, bytes: Vec<u8>, origin: String) -> Res<Snapshot> {
        let path = boards_dir().join("target/snapshot").join(name);
        if std::fs::read(&path).ok().as_ref() != Some(&bytes) {
            setup::write(&path, &bytes)?;
        }
        Ok(Snapshot { path, bytes, origin })
    }
}

/// A `snapshot_roundtrip` or `snapshot_flash` line: `at A steps N bytes B`,
/// then `continuation H …` or `refused: why` / `failed: why`.
#[derive(Debug, PartialEq)]
struct SnapshotLine {
    at: u32,
    steps: u32,
    bytes: usize,
    continuation: Res<u32>,
}

impl SnapshotLine {
    /// The line starting with `key`; an error if there is none or it does not parse.
    fn find(lines: &[String], key: &str) -> Res<SnapshotLine> {
        let rest = lines.iter().find_map(|l| l.strip_prefix(key)?.strip_prefix(' '));
        let rest = rest.ok_or(format!("the firmware printed no `{key}` line"))?;
        SnapshotLine::parse(rest).ok_or_else(|| format!("cannot read the line `{key} {rest}`"))
    }

    fn parse(rest: &str) -> Option<SnapshotLine> {
        let mut w = rest.split_whitespace();
        let mut field = |name: &str| if w.next()? == name { w.next() } else { None };
        let (at, steps) = (field("at")?.parse().ok()?, field("steps")?.parse().ok()?);
        let bytes = field("bytes")?.parse().ok()?;
        let continuation = match w.next()? {
            "continuation" => Ok(u32::from_str_radix(w.next()?, 16).ok()?),
            "refused:" | "failed:" => Err(w.collect::<Vec<_>>().join(" ")),
            _ => return None,
        };
        Some(SnapshotLine { at, steps, bytes, continuation })
    }
}

/// A built (and, on an emulated board, run) firmware.
pub struct Outcome {
    elf: PathBuf,
    pub size: Size,
    pub run: Option<Run>,
    /// The snapshot embedded in its flash.
    snapshot: Option<Snapshot>,
}

impl Outcome {
    pub fn stack_high_water(&self) -> Option<u64> {
        self.run.as_ref().and_then(|r| r.stack_high_water)
    }

    /// One line (trace and snapshot continuations against the host's,
    /// verdict, wall time) and the verdict.
    pub fn summary(&self, host: u32) -> (String, Res) {
        let Some(run) = &self.run else {
            let elf = self.elf.display();
            let line = format!("built {elf} (a real board: flash it as boards/README.md says)");
            let Some(snap) = &self.snapshot else { return (line, Ok(())) };
            let (from, steps) = (SNAPSHOT_AT, CONTINUATION);
            return match host_continuation(from, steps, Some(&snap.bytes)) {
                Ok((_, h)) => {
                    let must = format!(
                        "continuation {h:08x} (the host's, {steps} steps from step {from})"
                    );
                    (format!("{line}; its snapshot_flash line must read {must}"), Ok(()))
                }
                Err(e) => {
                    (format!("{line}; its snapshot is {e}"), Err(format!("the snapshot is {e}")))
                }
            };
        };
        let mut line = format!(
            "trace {} (host {host:08x})",
            run.trace.map_or("none".into(), |t| format!("{t:08x}"))
        );
        // The task and snapshot checks first: a failed task or a refused
        // snapshot also makes the firmware exit 1, and they say more.
        let tasks = host_tasks().and_then(|want| {
            task_checks(&run.lines, &want)?;
            let _ = write!(line, ", {} tasks pass with the host's metrics", want.len());
            Ok(())
        });
        let snapshots = self.snapshot_checks(run, &mut line);
        let problems: Vec<String> =
            [tasks, snapshots, run.verdict(host)].into_iter().filter_map(Result::err).collect();
        let verdict = if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) };
        let shown = verdict.as_ref().map_or_else(|e| format!("FAIL: {e}"), |_| "pass".into());
        let _ = write!(line, ", {shown}, {:.1} s in QEMU", run.wall.as_secs_f64());
        (line, verdict)
    }

    /// The round trip's continuation against the host's reference agent,
    /// and the flash snapshot's against the same bytes restored on the host.
    fn snapshot_checks(&self, run: &Run, line: &mut String) -> Res {
        let round_trip = SnapshotLine::find(&run.lines, "snapshot_roundtrip")?;
        let own = round_trip
            .continuation
            .map_err(|e| format!("the snapshot round trip on the board failed: {e}"))?;
        let (_, want) = host_continuation(round_trip.at, round_trip.steps, None)?;
        let _ = write!(line, ", round trip {own:08x} (host {want:08x})");
        if round_trip.bytes != DefaultAgent::SNAPSHOT_LEN {
            let (b, h) = (round_trip.bytes, DefaultAgent::SNAPSHOT_LEN);
            return Err(format!("the board's snapshot has {b} bytes, the host's {h}"));
        }
        if own != want {
            return Err(format!(
                "the agent the board restored from its own snapshot at step {} continues with {own:08x}, \
                 the host's reference agent with {want:08x}",
                round_trip.at
            ));
        }
        let Some(snap) = &self.snapshot else { return Ok(()) };
        let flash = SnapshotLine::find(&run.lines, "snapshot_flash")?;
        let origin = &snap.origin;
        if flash.bytes != snap.bytes.len() {
            return Err(format!(
                "the firmware embeds {} bytes, the snapshot from {origin} has {}",
                flash.bytes,
                snap.bytes.len()
            ));
        }
        let board = flash.continuation.map_err(|why| {
            let host = match DefaultAgent::restore(&snap.bytes) {
                Ok(_) => "the host restores it".to_string(),
                Err(e) => format!("the host refuses it too: {e}"),
            };
            format!("the board refused the snapshot from {origin}: {why} ({host})")
        })?;
        let (_, want) = host_continuation(flash.at, flash.steps, Some(&snap.bytes))
            .map_err(|e| format!("the snapshot from {origin} restored on the board but was {e}"))?;
        let _ = write!(line, ", snapshot from flash {board:08x} (host {want:08x})");
        if board != want {
            return Err(format!(
                "the snapshot from {origin} restored on the board continues with {board:08x}, on the host with {want:08x}"
            ));
        }
        Ok(())
    }
}

/// Installs what `board` needs, builds its firmware, sizes it and runs it
/// in QEMU, echoing each line the firmware prints with `echo`.
pub fn check(board: &Board, snapshot: Option<&Snapshot>, echo: &Echo) -> Res<Outcome> {
    setup::ensure_targets(&[board.target])?;
    // qemu-system-riscv32 is in Debian's qemu-system-misc.
    match board.qemu {
        Some(("qemu-system-arm", _)) => setup::ensure_apt(&["qemu-system-arm"], true)?,
        Some(_) => setup::ensure_apt(&["qemu-system-misc"], true)?,
        None => {}
    }
    let path = snapshot.map(|s| s.path.to_string_lossy().into_owned());
    let env: Vec<(&str, &str)> = path.iter().map(|p| ("TCBG_SNAPSHOT", p.as_str())).collect();
    let elf = build_with(board, &boards_dir().join("target"), &env, &[])?;
    let size = Size::of(board, &elf)?;
    let run = match board.qemu {
        Some((qemu, machine)) => Some(emulate(qemu, machine, &elf, &[], echo)?),
        None => None,
    };
    Ok(Outcome { elf, size, run, snapshot: snapshot.cloned() })
}

fn boards_dir() -> PathBuf {
    workspace_root().join("boards")
}

/// Builds the board's firmware in release mode into `target_dir`, with
/// build-time environment `env` and cargo `features`; returns the ELF's path.
pub fn build_with(
    board: &Board,
    target_dir: &Path,
    env: &[(&str, &str)],
    features: &[&str],
) -> Res<PathBuf> {
    let (name, target) = (board.name, board.target);
    let args = format!("build --release --package {name} --target {target} --target-dir");
    let mut cmd = cargo_in(&boards_dir(), &args);
    cmd.arg(target_dir).envs(env.iter().copied());
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    setup::run(&mut cmd)?;
    Ok(target_dir.join(board.target).join("release").join(board.name))
}

/// What the firmware printed and how it ended: its exit status (`None`: QEMU
/// died by a signal, as it does when an M-profile core locks up), or hung.
pub struct Run {
    end: Option<Option<i32>>,
    pub wall: Duration,
    pub lines: Vec<String>,
    trace: Option<u32>,
    pub stack_high_water: Option<u64>,
}

impl Run {
    pub fn verdict(&self, host: u32) -> Res {
        match self.end {
            Some(Some(0)) => {}
            Some(Some(code)) => return Err(format!("the firmware failed (exit status {code})")),
            Some(None) => return Err("QEMU died (a lockup: stack overflow or hard fault?)".into()),
            None => return Err(format!("hung: killed after {} s", TIMEOUT.as_secs())),
        }
        match self.trace {
            None => Err("the firmware printed no `trace` line".into()),
            Some(t) if t != host => {
                Err(format!("trace {t:08x} differs from the host's {host:08x}"))
            }
            Some(_) => Ok(()),
        }
    }
}

/// Runs `elf` on a QEMU machine with semihosting for console and exit
/// code, and the further QEMU options `extra`, streaming its lines to `echo`;
/// kills it after [`TIMEOUT`].
pub fn emulate(qemu: &str, machine: &str, elf: &Path, extra: &[&str], echo: &Echo) -> Res<Run> {
    let mut cmd =
        setup::cmd(qemu, &format!("-machine {machine} -nographic -monitor none -serial none"));
    cmd.args(extra).args(["-semihosting-config", "enable=on,target=native", "-kernel"]);
    cmd.arg(elf).stdin(Stdio::null()).stdout(Stdio::piped());
    eprintln!("$ {}", describe(&cmd));
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("`{qemu}`: cannot start: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let (end, lines) = thread::scope(|s| {
        let reader = s.spawn(|| {
            let lines: Vec<String> =
                BufReader::new(stdout).lines().map_while(Result::ok).inspect(|l| echo(l)).collect();
            lines
        });
        let end = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(Some(status.code())),
                Err(e) => break Err(e.to_string()),
                Ok(None) if start.elapsed() > TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Ok(None);
                }
                Ok(None) => thread::sleep(Duration::from_millis(50)),
            }
        };
        (end, reader.join().unwrap_or_default())
    });
    let field = |key: &str| lines.iter().find_map(|l| l.strip_prefix(key).map(str::trim));
    Ok(Run {
        end: end?,
        wall: start.elapsed(),
        trace: field("trace ").and_then(|h| u32::from_str_radix(h, 16).ok()),
        stack_high_water: field("stack_high_water ").and_then(|n| n.parse().ok()),
        lines,
    })
}

/// Flash and RAM of a firmware, from its ELF, against its part's memory:
/// code and constants (flash), initialised statics (flash, copied to RAM),
/// zeroed statics (RAM).
pub struct Size {
    pub text: u64,
    pub data: u64,
    pub bss: u64,
    pub flash_total: u64,
    pub ram_total: u64,
}

impl Size {
    fn of(board: &Board, elf: &Path) -> Res<Size> {
        let bytes = setup::read(elf)?;
        let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
        let (mut text, mut data, mut bss) = (0, 0, 0);
        for section in file.sections() {
            let SectionFlags::Elf { sh_flags, sh_type } = section.flags() else { continue };
            let name = section.name().unwrap_or("");
            // riscv-rt's `.heap` and `.stack` only mark the free RAM.
            if !sh_flags.contains(elf::SHF_ALLOC) || name == ".heap" || name == ".stack" {
                continue;
            }
            *if sh_type == elf::SHT_NOBITS {
                &mut bss
            } else if sh_flags.contains(elf::SHF_WRITE) {
                &mut data
            } else {
                &mut text
            } += section.size();
        }
        let memory_x = boards_dir().join(board.name).join("memory.x");
        let layout = std::fs::read_to_string(&memory_x)
            .map_err(|e| format!("{}: {e}", memory_x.display()))?;
        let length = |r: &str| {
            region_length(&layout, r).ok_or(format!("{}: no LENGTH for {r}", memory_x.display()))
        };
        Ok(Size { text, data, bss, flash_total: length("FLASH")?, ram_total: length("RAM")? })
    }

    /// `size text … data … bss …; flash …; ram …` (with the stack when measured).
    pub fn describe(&self, stack_high_water: Option<u64>) -> String {
        let (flash, statics) = (self.text + self.data, self.data + self.bss);
        let (t, d, b, ft, rt) = (self.text, self.data, self.bss, self.flash_total, self.ram_total);
        let head = format!(
            "size text {t} data {d} bss {b}; flash {flash} of {ft} B ({}); ",
            pct(flash, ft)
        );
        let Some(st) = stack_high_water else {
            return format!("{head}ram {statics} static of {rt} B (stack not measured)");
        };
        let (ram, p) = (statics + st, pct(statics + st, rt));
        format!("{head}ram {statics} static + {st} stack_high_water = {ram} of {rt} B ({p})")
    }
}

/// `used` as a percentage of `total`, to one decimal.
pub fn pct(used: u64, total: u64) -> String {
    format!("{:.1}%", 100.0 * used as f64 / total.max(1) as f64)
}

/// `LENGTH` of memory region `region` in a `memory.x` (`256K`, `4M`, `0x4000`, `16384`).
fn region_length(memory_x: &str, region: &str) -> Option<u64> {
    let line =
        memory_x.lines().find(|l| l.split(':').next().is_some_and(|n| n.trim() == region))?;
    let value = line.split("LENGTH").nth(1)?.trim_start().strip_prefix('=')?.trim();
    let value = value.split([',', ' ', '/']).next()?;
    let (digits, scale) = match value.as_bytes().last()? {
        b'K' => (&value[..value.len() - 1], 1 << 10),
        b'M' => (&value[..value.len() - 1], 1 << 20),
        _ => (value, 1),
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_x_lengths() {
        let x = "MEMORY\n{\n  /* comment: RAM */\n  FLASH : ORIGIN = 0x00000000, LENGTH = 256K\n  \
                 RAM   : ORIGIN = 0x20000000, LENGTH = 0x4000\n  BIG : ORIGIN = 0, LENGTH = 4M\n}\n";
        let l = |r| region_length(x, r);
        assert_eq!(
            (l("FLASH"), l("RAM"), l("BIG"), l("NONE")),
            (Some(256 << 10), Some(16 << 10), Some(4 << 20), None)
        );
    }

    #[test]
    fn snapshot_lines() {
        let line =
            |at, steps, bytes, continuation| Some(SnapshotLine { at, steps, bytes, continuation });
        let p = SnapshotLine::parse;
        assert_eq!(
            p("at 1000 steps 500 bytes 5483 continuation 1175fa19 (from x.bin)"),
            line(1000, 500, 5483, Ok(0x1175_fa19))
        );
        assert_eq!(
            p("at 1000 steps 500 bytes 12 refused: too short"),
            line(1000, 500, 12, Err("too short".into()))
        );
        assert_eq!(p("none: built without TCBG_SNAPSHOT"), None);
        assert_eq!(p("at 1000 steps 500 bytes 5483 continuation zz"), None);
    }

    #[test]
    fn snapshot_constants_match_the_firmware_and_wasm() {
        for file in ["boards/firmware/src/lib.rs", "wasm/tests/web.rs"] {
            let src = std::fs::read_to_string(workspace_root().join(file)).unwrap();
            assert!(src.contains(&format!("const SNAPSHOT_AT: u32 = {SNAPSHOT_AT};")), "{file}");
            assert!(src.contains(&format!("const CONTINUATION: u32 = {CONTINUATION};")), "{file}");
        }
    }

    #[test]
    fn task_lines() {
        let want: Vec<(String, String)> = ["a", "b D=1"]
            .iter()
            .map(|n| (n.to_string(), format!("metrics {n}: x 1, y 0.5")))
            .collect();
        let good = [
            "task 1/2: a, seed 1, 2 blocks",
            "block 1/2: correct 1/1",
            "metrics a: x 1, y 0.5",
            "result a: pass (last block last10 10/10, min 8)",
            "metrics b D=1: x 1, y 0.5",
            "result b D=1: pass",
        ];
        let lines = |v: &[&str]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert_eq!(task_checks(&lines(&good), &want), Ok(()));
        let without = |i: usize| {
            let mut v = lines(&good);
            v.remove(i);
            task_checks(&v, &want)
        };
        // A missing metrics or result line fails.
        assert!(without(2).unwrap_err().contains("no `metrics a:` line"));
        assert!(without(5).unwrap_err().contains("no `result b D=1:` line"));
        let with = |i: usize, l: &str| {
            let mut v = lines(&good);
            v[i] = l.into();
            task_checks(&v, &want)
        };
        // Metrics other than the host's, a failed task, a task not in the list.
        assert!(with(4, "metrics b D=1: x 1, y 0.6").unwrap_err().contains("the host"));
        assert_eq!(with(5, "result b D=1: fail: too few"), Err("b D=1: fail: too few".into()));
        assert!(with(5, "result b D=1: passed").is_err());
        assert!(with(0, "metrics c: x 1").unwrap_err().contains("not in the xtask's"));
    }

    #[test]
    fn board_tasks_match_the_firmware() {
        let src = std::fs::read_to_string(workspace_root().join("boards/firmware/src/lib.rs"));
        let n = BOARD_TASKS.len();
        assert!(src.unwrap().contains(&format!("TASKS: [(TaskKind, Criterion); {n}]")));
        // The tasks are on the list, and the host prints their metrics.
        for k in [TaskKind::RuleSwitch].iter().chain(&TaskKind::SEQUENCE) {
            assert!(BOARD_TASKS.contains(k), "{k}");
        }
        let line = host_metrics(TaskKind::SEQUENCE[1]).unwrap();
        assert!(line.starts_with("metrics delayed-response D=1: accuracy_last100 "), "{line}");
    }

    #[test]
    fn every_board_has_its_crate_and_memory() {
        for b in BOARDS {
            let dir = boards_dir().join(b.name);
            let x = std::fs::read_to_string(dir.join("memory.x")).unwrap();
            assert!(
                dir.join("Cargo.toml").is_file()
                    && region_length(&x, "FLASH").is_some()
                    && region_length(&x, "RAM").is_some(),
                "{}",
                b.name
            );
        }
    }
}
