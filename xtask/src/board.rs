//! `cargo xtask board NAME [--size] [--snapshot FILE]`: the firmware on
//! emulated boards.
//!
//! For one board of [`BOARDS`]: install what is missing (the rustup target,
//! QEMU from bookworm-backports), make the snapshot the board restores from
//! flash (the page's WebAssembly build exports it in node, see
//! [`crate::web::browser_snapshot`]; or `--snapshot FILE`, raw snapshot
//! bytes or a file the page exported), build `boards/NAME` in release mode
//! with it embedded (`TCBG_SNAPSHOT`), run it in QEMU with semihosting, echo
//! what it prints (one line per block, then `trace <hash>`,
//! `snapshot_roundtrip …`, `snapshot_flash …`, `stack_high_water <bytes>`,
//! `pass` or `fail: …`) and succeed only if the firmware exited 0 within
//! [`TIMEOUT`], its trace hash equals the host's, its snapshot round trip
//! continues as the host's reference agent does, and the snapshot from
//! flash continues as the same bytes restored on the host do
//! ([`tcbg::snapshot::trace_continuation`]). `--size` adds the flash and RAM
//! the firmware takes, read from its ELF, against its part's `memory.x`.
//!
//! A real board (no QEMU machine) is built and sized only; boards/README.md
//! says how to flash it. Its summary gives the host's continuation hash of
//! the embedded snapshot, to compare with what the board prints.
//!
//! [`test_all`] does this for every board with one browser snapshot and
//! compares every hash.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use object::{elf, Object, ObjectSection, SectionFlags};

use crate::setup::{self, cargo, describe, workspace_root};
use tcbg::DefaultAgent;

/// A board: its crate in `boards/` (package and binary are named `name`).
pub(crate) struct Board {
    pub(crate) name: &'static str,
    pub(crate) target: &'static str,
    /// QEMU system emulator and machine; `None` for a real board, which is
    /// built but not run.
    pub(crate) qemu: Option<(&'static str, &'static str)>,
}

pub(crate) const BOARDS: &[Board] = &[
    Board {
        name: "microbit",
        target: "thumbv6m-none-eabi",
        qemu: Some(("qemu-system-arm", "microbit")),
    },
    Board {
        name: "lm3s6965",
        target: "thumbv7m-none-eabi",
        qemu: Some(("qemu-system-arm", "lm3s6965evb")),
    },
    Board {
        name: "an386",
        target: "thumbv7em-none-eabihf",
        qemu: Some(("qemu-system-arm", "mps2-an386")),
    },
    Board {
        name: "sifive_e",
        target: "riscv32imac-unknown-none-elf",
        qemu: Some(("qemu-system-riscv32", "sifive_e")),
    },
    Board { name: "nrf52840dk", target: "thumbv7em-none-eabihf", qemu: None },
];

/// Where the firmware's lines go (stdout for `board`, stderr for `test`).
pub(crate) type Echo = dyn Fn(&str) + Sync;

/// A firmware still running after this long is hung: it is killed and fails.
const TIMEOUT: Duration = Duration::from_secs(120);

pub fn main(name: &str, size: bool, file: Option<&Path>) -> Result<(), String> {
    let board = BOARDS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| format!("no board `{name}`; boards: {}", board_names()))?;
    let host = host_trace();
    let snapshot = match file {
        Some(f) => Snapshot::from_file(f)?,
        None => Snapshot::from_browser()?,
    };
    let outcome = check(board, Some(&snapshot), &|line| println!("{line}"))?;
    if size {
        println!("{}", outcome.size.describe(outcome.stack_high_water()));
    }
    let (summary, verdict) = outcome.summary(host);
    println!("{}: {summary}", board.name);
    verdict
}

/// Runs every board (the real one is built only) and fails if any fails
/// or its trace hash differs from the host's.
pub fn test_all() -> Result<(), String> {
    let host = host_trace();
    let snapshot = Snapshot::from_browser()?;
    let mut failures = Vec::new();
    let mut table = String::new();
    for board in BOARDS {
        setup::step(&format!("board {}", board.name));
        let verdict = match check(board, Some(&snapshot), &|line| eprintln!("{line}")) {
            Ok(outcome) => {
                let (summary, verdict) = outcome.summary(host);
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
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

fn board_names() -> String {
    BOARDS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
}

/// The reference trace hash on the host (what `cargo xtask trace` prints).
pub(crate) fn host_trace() -> u32 {
    tcbg::snapshot::trace::<tcbg::Fx>(tcbg::snapshot::TRACE_STEPS)
}

/// A snapshot a board restores from flash, made off the board.
#[derive(Clone)]
pub(crate) struct Snapshot {
    /// The file the firmware embeds (`TCBG_SNAPSHOT`).
    path: PathBuf,
    bytes: Vec<u8>,
    /// Where it came from, for the reports.
    origin: String,
}

impl Snapshot {
    /// The page's WebAssembly build's export ([`crate::web::browser_snapshot`]),
    /// saved under `boards/target/snapshot/`.
    pub(crate) fn from_browser() -> Result<Snapshot, String> {
        use crate::web::{BROWSER_SEED, BROWSER_STEPS, BROWSER_TASK};
        let bytes = crate::web::browser_snapshot()?;
        let name = format!("browser-{BROWSER_TASK}-seed{BROWSER_SEED}-step{BROWSER_STEPS}.bin");
        let origin = format!(
            "the page's wasm build in node, {BROWSER_TASK} seed {BROWSER_SEED} after {BROWSER_STEPS} steps ({} bytes)",
            bytes.len()
        );
        Snapshot::saved(&name, bytes, origin)
    }

    /// `file`: a snapshot's raw bytes, or a file the page exported (JSON
    /// with the snapshot in base64 under `snapshot`).
    pub(crate) fn from_file(file: &Path) -> Result<Snapshot, String> {
        use base64::Engine as _;
        let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        if data.first() != Some(&b'{') {
            let path = std::path::absolute(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let origin = format!("{} ({} bytes)", file.display(), data.len());
            return Ok(Snapshot { path, bytes: data, origin });
        }
        let json: serde_json::Value = serde_json::from_slice(&data)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let b64 = json["snapshot"].as_str().ok_or_else(|| {
            format!("{}: no `snapshot` string (not a file the page exported?)", file.display())
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("{}: the snapshot is not base64: {e}", file.display()))?;
        let stem = file.file_stem().map_or("export".into(), |s| s.to_string_lossy().into_owned());
        let origin = format!(
            "{} (exported after {} steps of {}, {} bytes)",
            file.display(),
            json["steps"],
            json["task"],
            bytes.len()
        );
        Snapshot::saved(&format!("{stem}.bin"), bytes, origin)
    }

    /// Saved as `boards/target/snapshot/NAME` (rewritten only if it
    /// changed, so an unchanged snapshot does not rebuild the firmware).
    fn saved(name: &str, bytes: Vec<u8>, origin: String) -> Result<Snapshot, String> {
        let dir = boards_dir().join("target/snapshot");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_ref() != Some(&bytes) {
            std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(Snapshot { path, bytes, origin })
    }
}

/// The host's [`tcbg::snapshot::trace_continuation`]: the reference trace to
/// step `at`, the agent restored from `bytes` (if any) in its place, the
/// hash of the next `steps` steps.
pub(crate) fn host_continuation(at: u32, steps: u32, bytes: Option<&[u8]>) -> Result<u32, String> {
    let swap_in = match bytes {
        None => None,
        Some(b) => {
            Some(DefaultAgent::restore(b).map_err(|e| format!("refused on the host too: {e}"))?)
        }
    };
    let mut own = vec![0u8; DefaultAgent::SNAPSHOT_LEN];
    Ok(tcbg::snapshot::trace_continuation(at, steps, &mut own, swap_in))
}

/// A `snapshot_roundtrip` or `snapshot_flash` line: `at A steps N bytes B`,
/// then `continuation H …` or `refused: why` / `failed: why`.
#[derive(Debug, PartialEq)]
pub(crate) struct SnapshotLine {
    at: u32,
    steps: u32,
    bytes: usize,
    continuation: Result<u32, String>,
}

impl SnapshotLine {
    /// The line starting with `key` (`snapshot_flash`), if the firmware printed one.
    fn find(lines: &[String], key: &str) -> Option<Result<SnapshotLine, String>> {
        let rest = lines.iter().find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))?;
        Some(
            SnapshotLine::parse(rest).ok_or_else(|| format!("cannot read the line `{key} {rest}`")),
        )
    }

    fn parse(rest: &str) -> Option<SnapshotLine> {
        let mut w = rest.split_whitespace();
        let mut field = |name: &str| if w.next()? == name { w.next() } else { None };
        let at = field("at")?.parse().ok()?;
        let steps = field("steps")?.parse().ok()?;
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
pub(crate) struct Outcome {
    elf: PathBuf,
    pub(crate) size: Size,
    pub(crate) run: Option<Run>,
    /// The snapshot embedded in its flash.
    snapshot: Option<Snapshot>,
}

impl Outcome {
    pub(crate) fn stack_high_water(&self) -> Option<u64> {
        self.run.as_ref().and_then(|r| r.stack_high_water)
    }

    /// One line (trace and snapshot continuations against the host's,
    /// verdict, wall time) and the verdict.
    pub(crate) fn summary(&self, host: u32) -> (String, Result<(), String>) {
        let Some(run) = &self.run else {
            let mut line = format!(
                "built {} (a real board: flash it as boards/README.md says)",
                self.elf.display()
            );
            if let Some(snap) = &self.snapshot {
                match host_continuation(
                    FIRMWARE_SNAPSHOT_AT,
                    FIRMWARE_CONTINUATION,
                    Some(&snap.bytes),
                ) {
                    Ok(h) => {
                        let _ = write!(
                            line,
                            "; its snapshot_flash line must read continuation {h:08x} (the host's, {} steps from step {})",
                            FIRMWARE_CONTINUATION, FIRMWARE_SNAPSHOT_AT
                        );
                    }
                    Err(e) => {
                        return (
                            format!("{line}; its snapshot is {e}"),
                            Err(format!("the snapshot is {e}")),
                        )
                    }
                }
            }
            return (line, Ok(()));
        };
        let mut line = format!(
            "trace {} (host {host:08x})",
            run.trace.map_or("none".into(), |t| format!("{t:08x}"))
        );
        // The snapshot checks first: a refused snapshot also makes the
        // firmware exit 1, and the refusal is the clearer message.
        let mut problems = Vec::new();
        if let Err(e) = self.snapshot_checks(run, &mut line) {
            problems.push(e);
        }
        if let Err(e) = run.verdict(host) {
            problems.push(e);
        }
        let verdict = if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) };
        let _ = write!(
            line,
            ", {}, {:.1} s in QEMU",
            match &verdict {
                Ok(()) => "pass".into(),
                Err(e) => format!("FAIL: {e}"),
            },
            run.wall.as_secs_f64(),
        );
        (line, verdict)
    }

    /// The round trip's continuation against the host's reference agent,
    /// and the flash snapshot's against the same bytes restored on the host.
    fn snapshot_checks(&self, run: &Run, line: &mut String) -> Result<(), String> {
        let round_trip = SnapshotLine::find(&run.lines, "snapshot_roundtrip")
            .ok_or("the firmware printed no `snapshot_roundtrip` line")??;
        let own = match round_trip.continuation {
            Ok(h) => h,
            Err(e) => return Err(format!("the snapshot round trip on the board failed: {e}")),
        };
        let want = host_continuation(round_trip.at, round_trip.steps, None)?;
        let _ = write!(line, ", round trip {own:08x} (host {want:08x})");
        if round_trip.bytes != DefaultAgent::SNAPSHOT_LEN {
            return Err(format!(
                "the board's snapshot has {} bytes, the host's {}",
                round_trip.bytes,
                DefaultAgent::SNAPSHOT_LEN
            ));
        }
        if own != want {
            return Err(format!(
                "the agent the board restored from its own snapshot at step {} continues with {own:08x}, \
                 the host's reference agent with {want:08x}",
                round_trip.at
            ));
        }
        let Some(snap) = &self.snapshot else {
            return Ok(());
        };
        let flash = SnapshotLine::find(&run.lines, "snapshot_flash")
            .ok_or("the firmware printed no `snapshot_flash` line")??;
        if flash.bytes != snap.bytes.len() {
            return Err(format!(
                "the firmware embeds {} bytes, the snapshot from {} has {}",
                flash.bytes,
                snap.origin,
                snap.bytes.len()
            ));
        }
        let board = flash.continuation.map_err(|why| {
            let host = match DefaultAgent::restore(&snap.bytes) {
                Ok(_) => "the host restores it".to_string(),
                Err(e) => format!("the host refuses it too: {e}"),
            };
            format!("the board refused the snapshot from {}: {why} ({host})", snap.origin)
        })?;
        let want = host_continuation(flash.at, flash.steps, Some(&snap.bytes)).map_err(|e| {
            format!("the snapshot from {} restored on the board but was {e}", snap.origin)
        })?;
        let _ = write!(line, ", snapshot from flash {board:08x} (host {want:08x})");
        if board != want {
            return Err(format!(
                "the snapshot from {} restored on the board continues with {board:08x}, on the host with {want:08x}",
                snap.origin
            ));
        }
        Ok(())
    }
}

/// `SNAPSHOT_AT` and `CONTINUATION` of `boards/firmware/src/lib.rs`, for a
/// real board's expected hash (an emulated board prints its own).
const FIRMWARE_SNAPSHOT_AT: u32 = 1000;
const FIRMWARE_CONTINUATION: u32 = 500;

/// Installs what `board` needs, builds its firmware, sizes it and runs it
/// in QEMU, echoing each line the firmware prints with `echo`.
pub(crate) fn check(
    board: &Board,
    snapshot: Option<&Snapshot>,
    echo: &Echo,
) -> Result<Outcome, String> {
    setup::ensure_targets(&[board.target])?;
    if let Some((qemu, _)) = board.qemu {
        // qemu-system-riscv32 is in Debian's qemu-system-misc.
        let package =
            if qemu == "qemu-system-arm" { "qemu-system-arm" } else { "qemu-system-misc" };
        setup::ensure_apt_backports(&[package])?;
    }
    let elf = build(board, snapshot)?;
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

/// Builds the board's firmware in release mode, with `snapshot` embedded
/// (`TCBG_SNAPSHOT`); returns the ELF's path.
fn build(board: &Board, snapshot: Option<&Snapshot>) -> Result<PathBuf, String> {
    let path = snapshot.map(|s| s.path.to_string_lossy().into_owned());
    let env: Vec<(&str, &str)> = path.iter().map(|p| ("TCBG_SNAPSHOT", p.as_str())).collect();
    build_with(board, &boards_dir().join("target"), &env, &[])
}

/// [`build`] into `target_dir`, with build-time environment `env` and
/// cargo `features` (`cargo xtask bench`'s instrumented firmware).
pub(crate) fn build_with(
    board: &Board,
    target_dir: &Path,
    env: &[(&str, &str)],
    features: &[&str],
) -> Result<PathBuf, String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(boards_dir())
        .args(["build", "--release", "--package", board.name, "--target", board.target])
        .arg("--target-dir")
        .arg(target_dir)
        .envs(env.iter().copied());
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    setup::run(&mut cmd)?;
    Ok(target_dir.join(board.target).join("release").join(board.name))
}

/// What the firmware printed and how it ended.
pub(crate) struct Run {
    end: End,
    pub(crate) wall: Duration,
    /// Every line the firmware printed.
    pub(crate) lines: Vec<String>,
    trace: Option<u32>,
    pub(crate) stack_high_water: Option<u64>,
}

impl Run {
    pub(crate) fn verdict(&self, host: u32) -> Result<(), String> {
        match self.end {
            End::Exited(0) => {}
            End::Exited(code) => return Err(format!("the firmware failed (exit status {code})")),
            End::Crashed => {
                return Err("QEMU died (a lockup: stack overflow or hard fault?)".into())
            }
            End::Hung => return Err(format!("hung: killed after {} s", TIMEOUT.as_secs())),
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
pub(crate) fn emulate(
    qemu: &str,
    machine: &str,
    elf: &Path,
    extra: &[&str],
    echo: &Echo,
) -> Result<Run, String> {
    let mut cmd = Command::new(qemu);
    cmd.args(["-machine", machine, "-nographic", "-monitor", "none", "-serial", "none"])
        .args(extra)
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    eprintln!("$ {}", describe(&cmd));
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("`{qemu}`: cannot start: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let lines = thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                echo(&line);
                lines.push(line);
            }
            lines
        });
        let end = wait_or_kill(&mut child, TIMEOUT);
        (end, reader.join().unwrap_or_default())
    });
    let (end, lines) = lines;
    let end = end?;
    let field = |key: &str| lines.iter().find_map(|l| l.strip_prefix(key).map(str::trim));
    Ok(Run {
        end,
        wall: start.elapsed(),
        trace: field("trace ").and_then(|h| u32::from_str_radix(h, 16).ok()),
        stack_high_water: field("stack_high_water ").and_then(|n| n.parse().ok()),
        lines,
    })
}

/// How QEMU ended.
enum End {
    /// With this exit status: the firmware's semihosting exit code.
    Exited(i32),
    /// By a signal: QEMU aborts when an M-profile core locks up.
    Crashed,
    /// Killed after the timeout.
    Hung,
}

/// Waits for `child`; kills it after `timeout`.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<End, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status.code().map_or(End::Crashed, End::Exited));
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(End::Hung);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Flash and RAM of a firmware, from its ELF, against its part's memory.
pub(crate) struct Size {
    /// Code and constants (flash only).
    pub(crate) text: u64,
    /// Initialized statics (flash, copied to RAM at start).
    pub(crate) data: u64,
    /// Zeroed and uninitialized statics (RAM only).
    pub(crate) bss: u64,
    pub(crate) flash_total: u64,
    pub(crate) ram_total: u64,
}

impl Size {
    fn of(board: &Board, elf: &Path) -> Result<Size, String> {
        let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
        let (mut text, mut data, mut bss) = (0, 0, 0);
        for section in file.sections() {
            let SectionFlags::Elf { sh_flags, sh_type } = section.flags() else {
                continue;
            };
            let name = section.name().unwrap_or("");
            // riscv-rt's `.heap` and `.stack` only mark the free RAM.
            if !sh_flags.contains(elf::SHF_ALLOC) || name == ".heap" || name == ".stack" {
                continue;
            }
            if sh_type == elf::SHT_NOBITS {
                bss += section.size();
            } else if sh_flags.contains(elf::SHF_WRITE) {
                data += section.size();
            } else {
                text += section.size();
            }
        }
        let memory_x = boards_dir().join(board.name).join("memory.x");
        let layout = std::fs::read_to_string(&memory_x)
            .map_err(|e| format!("{}: {e}", memory_x.display()))?;
        let length = |region: &str| {
            region_length(&layout, region)
                .ok_or_else(|| format!("{}: no LENGTH for {region}", memory_x.display()))
        };
        Ok(Size { text, data, bss, flash_total: length("FLASH")?, ram_total: length("RAM")? })
    }

    /// `size text … data … bss …; flash …; ram …` (with the stack when measured).
    pub(crate) fn describe(&self, stack_high_water: Option<u64>) -> String {
        let flash = self.text + self.data;
        let statics = self.data + self.bss;
        let pct = |used: u64, total: u64| 100.0 * used as f64 / total.max(1) as f64;
        let mut s = format!(
            "size text {} data {} bss {}; flash {flash} of {} B ({:.1}%); ",
            self.text,
            self.data,
            self.bss,
            self.flash_total,
            pct(flash, self.flash_total)
        );
        match stack_high_water {
            Some(stack) => {
                let ram = statics + stack;
                let _ = write!(
                    s,
                    "ram {statics} static + {stack} stack_high_water = {ram} of {} B ({:.1}%)",
                    self.ram_total,
                    pct(ram, self.ram_total)
                );
            }
            None => {
                let _ =
                    write!(s, "ram {statics} static of {} B (stack not measured)", self.ram_total);
            }
        }
        s
    }
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
        assert_eq!(region_length(x, "FLASH"), Some(256 * 1024));
        assert_eq!(region_length(x, "RAM"), Some(16 * 1024));
        assert_eq!(region_length(x, "BIG"), Some(4 << 20));
        assert_eq!(region_length(x, "NONE"), None);
    }

    #[test]
    fn snapshot_lines() {
        assert_eq!(
            SnapshotLine::parse("at 1000 steps 500 bytes 5483 continuation 1175fa19 (from x.bin)"),
            Some(SnapshotLine { at: 1000, steps: 500, bytes: 5483, continuation: Ok(0x1175_fa19) })
        );
        assert_eq!(
            SnapshotLine::parse("at 1000 steps 500 bytes 12 refused: snapshot truncated: 12 bytes"),
            Some(SnapshotLine {
                at: 1000,
                steps: 500,
                bytes: 12,
                continuation: Err("snapshot truncated: 12 bytes".into())
            })
        );
        assert_eq!(SnapshotLine::parse("none: built without TCBG_SNAPSHOT"), None);
        assert_eq!(SnapshotLine::parse("at 1000 steps 500 bytes 5483 continuation zz"), None);
    }

    #[test]
    fn firmware_snapshot_constants_match() {
        let lib = std::fs::read_to_string(boards_dir().join("firmware/src/lib.rs")).unwrap();
        assert!(lib.contains(&format!("pub const SNAPSHOT_AT: u32 = {FIRMWARE_SNAPSHOT_AT};")));
        assert!(lib.contains(&format!("pub const CONTINUATION: u32 = {FIRMWARE_CONTINUATION};")));
    }

    #[test]
    fn every_board_has_its_crate_and_memory() {
        for b in BOARDS {
            let dir = boards_dir().join(b.name);
            assert!(dir.join("Cargo.toml").is_file(), "{}", b.name);
            let x = std::fs::read_to_string(dir.join("memory.x")).unwrap();
            assert!(
                region_length(&x, "FLASH").is_some() && region_length(&x, "RAM").is_some(),
                "{}",
                b.name
            );
        }
    }
}
