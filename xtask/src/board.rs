//! `cargo xtask board NAME [--size]`: the firmware on emulated boards.
//!
//! For one board of [`BOARDS`]: install what is missing (the rustup target,
//! QEMU from bookworm-backports), build `boards/NAME` in release mode, run it
//! in QEMU with semihosting, echo what it prints (one line per block, then
//! `trace <hash>`, `stack_high_water <bytes>`, `pass` or `fail: …`) and
//! succeed only if the firmware exited 0 within [`TIMEOUT`] and its trace
//! hash equals the host's. `--size` adds the flash and RAM the firmware
//! takes, read from its ELF, against its part's `memory.x`.
//!
//! A real board (no QEMU machine) is built and sized only; boards/README.md
//! says how to flash it.
//!
//! [`test_all`] does this for every board and compares every hash.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use object::{elf, Object, ObjectSection, SectionFlags};

use crate::setup::{self, cargo, describe, workspace_root};

/// A board: its crate in `boards/` (package and binary are named `name`).
pub(crate) struct Board {
    pub(crate) name: &'static str,
    pub(crate) target: &'static str,
    /// QEMU system emulator and machine; `None` for a real board, which is
    /// built but not run.
    pub(crate) qemu: Option<(&'static str, &'static str)>,
}

pub(crate) const BOARDS: &[Board] = &[
    Board { name: "microbit", target: "thumbv6m-none-eabi", qemu: Some(("qemu-system-arm", "microbit")) },
    Board { name: "lm3s6965", target: "thumbv7m-none-eabi", qemu: Some(("qemu-system-arm", "lm3s6965evb")) },
    Board { name: "an386", target: "thumbv7em-none-eabihf", qemu: Some(("qemu-system-arm", "mps2-an386")) },
    Board { name: "sifive_e", target: "riscv32imac-unknown-none-elf", qemu: Some(("qemu-system-riscv32", "sifive_e")) },
    Board { name: "nrf52840dk", target: "thumbv7em-none-eabihf", qemu: None },
];

/// Where the firmware's lines go (stdout for `board`, stderr for `test`).
pub(crate) type Echo = dyn Fn(&str) + Sync;

/// A firmware still running after this long is hung: it is killed and fails.
const TIMEOUT: Duration = Duration::from_secs(120);

pub fn main(args: &[String]) -> Result<(), String> {
    let mut name = None;
    let mut size = false;
    for a in args {
        match a.as_str() {
            "--size" => size = true,
            s if !s.starts_with('-') && name.is_none() => name = Some(s),
            other => return Err(format!("board: unexpected argument `{other}` (usage: board NAME [--size])")),
        }
    }
    let name = name.ok_or_else(|| format!("board: which board? one of {}", board_names()))?;
    let board = BOARDS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| format!("no board `{name}`; boards: {}", board_names()))?;
    let host = host_trace();
    let outcome = check(board, &|line| println!("{line}"))?;
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
    let mut failures = Vec::new();
    let mut table = String::new();
    for board in BOARDS {
        setup::step(&format!("board {}", board.name));
        let verdict = match check(board, &|line| eprintln!("{line}")) {
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
    eprint!("\n{table}");
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

/// A built (and, on an emulated board, run) firmware.
pub(crate) struct Outcome {
    elf: PathBuf,
    pub(crate) size: Size,
    pub(crate) run: Option<Run>,
}

impl Outcome {
    pub(crate) fn stack_high_water(&self) -> Option<u64> {
        self.run.as_ref().and_then(|r| r.stack_high_water)
    }

    /// One line (trace against the host's, verdict, wall time) and the verdict.
    pub(crate) fn summary(&self, host: u32) -> (String, Result<(), String>) {
        let Some(run) = &self.run else {
            let line = format!("built {} (a real board: flash it as boards/README.md says)", self.elf.display());
            return (line, Ok(()));
        };
        let verdict = run.verdict(host);
        let line = format!(
            "trace {} (host {host:08x}), {}, {:.1} s in QEMU",
            run.trace.map_or("none".into(), |t| format!("{t:08x}")),
            match &verdict {
                Ok(()) => "pass".into(),
                Err(e) => format!("FAIL: {e}"),
            },
            run.wall.as_secs_f64(),
        );
        (line, verdict)
    }
}

/// Installs what `board` needs, builds its firmware, sizes it and runs it
/// in QEMU, echoing each line the firmware prints with `echo`.
pub(crate) fn check(board: &Board, echo: &Echo) -> Result<Outcome, String> {
    setup::ensure_targets(&[board.target])?;
    if let Some((qemu, _)) = board.qemu {
        // qemu-system-riscv32 is in Debian's qemu-system-misc.
        let package = if qemu == "qemu-system-arm" { "qemu-system-arm" } else { "qemu-system-misc" };
        setup::ensure_apt_backports(&[package])?;
    }
    let elf = build(board)?;
    let size = Size::of(board, &elf)?;
    let run = match board.qemu {
        Some((qemu, machine)) => Some(emulate(qemu, machine, &elf, &[], echo)?),
        None => None,
    };
    Ok(Outcome { elf, size, run })
}

fn boards_dir() -> PathBuf {
    workspace_root().join("boards")
}

/// Builds the board's firmware in release mode; returns the ELF's path.
fn build(board: &Board) -> Result<PathBuf, String> {
    build_with(board, &boards_dir().join("target"), &[], &[])
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
            End::Crashed => return Err("QEMU died (a lockup: stack overflow or hard fault?)".into()),
            End::Hung => return Err(format!("hung: killed after {} s", TIMEOUT.as_secs())),
        }
        match self.trace {
            None => Err("the firmware printed no `trace` line".into()),
            Some(t) if t != host => Err(format!("trace {t:08x} differs from the host's {host:08x}")),
            Some(_) => Ok(()),
        }
    }
}

/// Runs `elf` on a QEMU machine with semihosting for console and exit
/// code, and the further QEMU options `extra`, streaming its lines to `echo`;
/// kills it after [`TIMEOUT`].
pub(crate) fn emulate(qemu: &str, machine: &str, elf: &Path, extra: &[&str], echo: &Echo) -> Result<Run, String> {
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
            let SectionFlags::Elf { sh_flags, sh_type } = section.flags() else { continue };
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
        let layout = std::fs::read_to_string(&memory_x).map_err(|e| format!("{}: {e}", memory_x.display()))?;
        let length = |region: &str| {
            region_length(&layout, region).ok_or_else(|| format!("{}: no LENGTH for {region}", memory_x.display()))
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
                let _ = write!(s, "ram {statics} static of {} B (stack not measured)", self.ram_total);
            }
        }
        s
    }
}

/// `LENGTH` of memory region `region` in a `memory.x` (`256K`, `4M`, `0x4000`, `16384`).
fn region_length(memory_x: &str, region: &str) -> Option<u64> {
    let line = memory_x.lines().find(|l| l.split(':').next().is_some_and(|n| n.trim() == region))?;
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
    fn every_board_has_its_crate_and_memory() {
        for b in BOARDS {
            let dir = boards_dir().join(b.name);
            assert!(dir.join("Cargo.toml").is_file(), "{}", b.name);
            let x = std::fs::read_to_string(dir.join("memory.x")).unwrap();
            assert!(region_length(&x, "FLASH").is_some() && region_length(&x, "RAM").is_some(), "{}", b.name);
        }
    }
}
