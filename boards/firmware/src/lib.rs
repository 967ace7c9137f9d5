//! The firmware every board runs, written once.
//!
//! A board crate holds only its startup glue (the runtime's entry attribute)
//! and its part's `memory.x`, and calls [`main`]. The firmware then uses
//! `tcbg` exactly as an application would, through its public API:
//!
//! 1. runs the rule-switch task on the default agent (seed [`SEED`]),
//!    printing each block's statistics as it finishes;
//! 2. prints `trace <hash>`, the reference trace hash, which must equal the
//!    host's `cargo xtask trace`;
//! 3. round-trips a snapshot on the board: runs the reference trace to step
//!    [`SNAPSHOT_AT`], writes the agent's snapshot ([`tcbg::Agent::snapshot`])
//!    into a RAM buffer of [`DefaultAgent::SNAPSHOT_LEN`] bytes, restores it
//!    into the same agent ([`tcbg::Agent::restore_in_place`]) and hashes the
//!    next [`CONTINUATION`] steps: `snapshot_roundtrip … continuation <hash>`,
//!    which must equal the same steps' hash without the round trip (checked
//!    here) and the host's [`tcbg::snapshot::trace_continuation`];
//! 4. restores the snapshot embedded in flash at build time (`TCBG_SNAPSHOT`,
//!    see `build.rs`; made off the board, by the browser's wasm build under
//!    `cargo xtask board`) in place of the reference agent at step
//!    [`SNAPSHOT_AT`] and hashes the next [`CONTINUATION`] steps:
//!    `snapshot_flash … continuation <hash>`, which must equal the host's
//!    `trace_continuation` with the same bytes restored; `snapshot_flash
//!    refused: <why>` fails the run; `snapshot_flash none: …` if the firmware
//!    was built without one;
//! 5. prints `stack_high_water <bytes>` (measured by stack painting, see
//!    [`stack`]) and `stack_region <bytes>`;
//! 6. prints `pass` or `fail: <why>` and exits through semihosting with
//!    status 0 or 1.
//!
//! Nothing is allocated: the agent (and the round trip's snapshot buffer)
//! lives on the stack, and the stack high-water mark says how much RAM that
//! took. The embedded snapshot stays in flash.
//!
//! Setting `TCBG_BENCH_STEPS=N` when building adds, before step 1, the
//! markers `bench_begin N` and `bench_end <hash>` around `N` steps of the
//! default agent (the reference trace), with the timer ticks [`bench`]
//! counts for instruction counting under `qemu -icount shift=0`. With the
//! feature `oracle` those steps are the `f32` agent's
//! ([`tcbg::OracleAgent`]); the rest of the run is the same.

#![no_std]

pub mod bench;
mod console;
pub mod stack;

use console::Console;
use core::fmt;
use core::fmt::Write;
use tcbg::snapshot::{trace_with, RestoreError, SnapshotError, TraceHash, TRACE_STEPS};
use tcbg::tasks::{run, BlockStats, Schedule, Task, TaskKind};
use tcbg::{Config, DefaultAgent, Fx, Num};

/// Seed of the agent and of the task.
pub const SEED: u64 = 1;
/// The task the firmware learns.
pub const TASK: TaskKind = TaskKind::RuleSwitch;
/// Pass criterion: correct choices among the last block's last 10 trials.
pub const LAST10_MIN: u8 = 8;

/// Step of the reference trace at which the snapshots are taken and restored
/// (the wasm build's `snapshot_for_the_host` uses the same).
pub const SNAPSHOT_AT: u32 = 1000;
/// Steps hashed after the snapshot.
pub const CONTINUATION: u32 = 500;
// The plain continuation is hashed during the reference trace.
const _: () = assert!(SNAPSHOT_AT + CONTINUATION <= TRACE_STEPS);

/// The snapshot embedded at build time from `TCBG_SNAPSHOT` (see `build.rs`),
/// in flash; empty if there was none.
static SNAPSHOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/snapshot.bin"));
/// The embedded snapshot's file name.
const SNAPSHOT_SOURCE: &str = env!("TCBG_SNAPSHOT_SOURCE");

/// Steps between the benchmark markers (`TCBG_BENCH_STEPS` at build time).
const BENCH_STEPS: Option<u32> = match option_env!("TCBG_BENCH_STEPS") {
    Some(s) => Some(parse_u32(s)),
    None => None,
};

/// `TCBG_BENCH_EXIT=1` at build time: exit (status 0) right after the
/// benchmark, so a profile of the run holds nothing else.
const BENCH_EXIT: bool =
    matches!(option_env!("TCBG_BENCH_EXIT"), Some(s) if !s.is_empty() && parse_u32(s) != 0);

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "TCBG_BENCH_STEPS must be a decimal number");
    let mut n = 0u32;
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "TCBG_BENCH_STEPS must be a decimal number"
        );
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// The whole firmware; `board` names the board in the first line.
pub fn main(board: &str) -> ! {
    let painted = stack::paint();
    let mut out = Console::open();
    if let Some(steps) = BENCH_STEPS {
        #[cfg(not(feature = "oracle"))]
        bench::run::<Fx>(steps, &mut out);
        #[cfg(feature = "oracle")]
        bench::run::<f32>(steps, &mut out);
        if BENCH_EXIT {
            console::exit(true);
        }
    }
    let _ = writeln!(
        out,
        "tcbg on {board}: {TASK}, seed {SEED}, {} blocks",
        TASK.blocks()
    );
    let mut verdict = learn(&mut out);
    let (trace, plain) = reference_trace();
    let _ = writeln!(out, "trace {trace:08x}");
    let len = DefaultAgent::SNAPSHOT_LEN;
    let _ = write!(
        out,
        "snapshot_roundtrip at {SNAPSHOT_AT} steps {CONTINUATION} bytes {len} "
    );
    let round_trip = match round_trip() {
        Ok(h) => {
            let _ = writeln!(out, "continuation {h:08x} (without it {plain:08x})");
            if h == plain {
                Ok(())
            } else {
                Err("the agent restored from its own snapshot continues differently")
            }
        }
        Err(e) => {
            let _ = writeln!(out, "failed: {e}");
            Err("the snapshot round trip on the board failed")
        }
    };
    verdict = verdict.and(round_trip);
    verdict = verdict.and(flash_snapshot(&mut out));
    let used = painted.high_water();
    let region = painted.region();
    let _ = writeln!(out, "stack_high_water {used}");
    let _ = writeln!(out, "stack_region {region}");
    let verdict = verdict.and(if used < region {
        Ok(())
    } else {
        Err("the stack reached the end of its region")
    });
    match verdict {
        Ok(()) => {
            let _ = writeln!(out, "pass");
        }
        Err(why) => {
            let _ = writeln!(out, "fail: {why}");
        }
    }
    console::exit(verdict.is_ok())
}

/// Runs the task on a fresh default agent, printing every block; checks
/// that the first block reached criterion and the last block ended well.
#[inline(never)]
fn learn(out: &mut Console) -> Result<(), &'static str> {
    // Built in place (blank, then reset): `Agent::new` returns it through a
    // `Result`, which can cost a second agent's worth of stack.
    let mut agent = DefaultAgent::blank();
    agent
        .reset(Config::default(), SEED)
        .map_err(|_| "invalid default config")?;
    let agent = &mut agent;
    let mut task = Task::new(TASK, Schedule::default(), SEED);
    let mut block = 0;
    let report = run(agent, &mut task, |s| {
        block += 1;
        print_block(out, block, s);
    })
    .map_err(|_| "the task does not fit the agent")?;
    let first = report.blocks.first().ok_or("no block ran")?;
    let last = report.blocks.last().ok_or("no block ran")?;
    if first.to_criterion > first.trials {
        Err("the first block never reached criterion")
    } else if last.last10_correct < LAST10_MIN {
        Err("the last block ended with too few of its last 10 trials correct")
    } else {
        Ok(())
    }
}

fn print_block(out: &mut Console, block: usize, s: &BlockStats) {
    let _ = writeln!(
        out,
        "block {block}/{}: correct {}/{}, to_criterion {}, errors_first10 {}, last10 {}/10, switches {}",
        TASK.blocks(),
        s.correct,
        s.trials,
        s.to_criterion,
        s.errors_first10,
        s.last10_correct,
        s.switches,
    );
}

/// The reference trace hash, and the hash of its steps [`SNAPSHOT_AT`] to
/// [`SNAPSHOT_AT`]` + `[`CONTINUATION`] (what the host's
/// `trace_continuation` gives with no agent swapped in). In its own frame so
/// its agent does not share the stack with [`learn`]'s.
#[inline(never)]
fn reference_trace() -> (u32, u32) {
    let mut h = TraceHash::new();
    let mut t = 0;
    let trace = trace_with::<Fx>(TRACE_STEPS, |agent, obs, reward| {
        let a = agent.step(obs, reward);
        if (SNAPSHOT_AT..SNAPSHOT_AT + CONTINUATION).contains(&t) {
            h.add(a as u32);
            h.add(agent.dopamine().hash_bits());
        }
        t += 1;
        a
    });
    (trace, h.0)
}

/// Why a snapshot was not taken or not restored.
enum SnapshotFailure {
    Write(SnapshotError),
    Restore(RestoreError),
}

impl fmt::Display for SnapshotFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotFailure::Write(e) => write!(f, "{e}"),
            // Without its `f32` values: the float formatting code would take
            // some 20 KB of flash; `cargo xtask board` prints the full message.
            SnapshotFailure::Restore(e) => e.fmt_float_free(f),
        }
    }
}

/// The reference trace to step [`SNAPSHOT_AT`] (after that step's trial
/// mark), where `swap` changes the agent, then the hash of the next
/// [`CONTINUATION`] steps: the board's [`tcbg::snapshot::trace_continuation`],
/// with one agent on the stack.
fn continuation(
    mut swap: impl FnMut(&mut DefaultAgent) -> Result<(), SnapshotFailure>,
) -> Result<u32, SnapshotFailure> {
    let mut h = TraceHash::new();
    let mut t = 0;
    let mut swapped = Ok(());
    trace_with::<Fx>(SNAPSHOT_AT + CONTINUATION, |agent, obs, reward| {
        if t == SNAPSHOT_AT {
            swapped = swap(agent);
        }
        let a = agent.step(obs, reward);
        if t >= SNAPSHOT_AT {
            h.add(a as u32);
            h.add(agent.dopamine().hash_bits());
        }
        t += 1;
        a
    });
    swapped.map(|()| h.0)
}

/// The agent at [`SNAPSHOT_AT`] written to a RAM buffer and restored from it
/// in place; the continuation's hash.
#[inline(never)]
fn round_trip() -> Result<u32, SnapshotFailure> {
    let mut buf = [0u8; DefaultAgent::SNAPSHOT_LEN];
    continuation(|agent| {
        agent.snapshot(&mut buf).map_err(SnapshotFailure::Write)?;
        agent
            .restore_in_place(&buf)
            .map_err(SnapshotFailure::Restore)
    })
}

/// Restores [`SNAPSHOT`] from flash in place of the reference agent at
/// [`SNAPSHOT_AT`] and prints the continuation's hash; a refused snapshot
/// fails the run.
#[inline(never)]
fn flash_snapshot(out: &mut Console) -> Result<(), &'static str> {
    if SNAPSHOT.is_empty() {
        let _ = writeln!(
            out,
            "snapshot_flash none: built without TCBG_SNAPSHOT, no snapshot to restore"
        );
        return Ok(());
    }
    let _ = write!(
        out,
        "snapshot_flash at {SNAPSHOT_AT} steps {CONTINUATION} bytes {} ",
        SNAPSHOT.len()
    );
    match continuation(|agent| {
        agent
            .restore_in_place(SNAPSHOT)
            .map_err(SnapshotFailure::Restore)
    }) {
        Ok(h) => {
            let _ = writeln!(out, "continuation {h:08x} (from {SNAPSHOT_SOURCE})");
            Ok(())
        }
        Err(e) => {
            let _ = writeln!(out, "refused: {e}");
            Err("the snapshot embedded in flash was refused")
        }
    }
}

/// A panic is a failed run: print it and exit with status 1.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut out = Console::open();
    let _ = writeln!(out, "panic: {info}");
    console::exit(false)
}
