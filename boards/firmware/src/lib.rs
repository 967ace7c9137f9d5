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
//! 3. prints `stack_high_water <bytes>` (measured by stack painting, see
//!    [`stack`]) and `stack_region <bytes>`;
//! 4. prints `pass` or `fail: <why>` and exits through semihosting with
//!    status 0 or 1.
//!
//! Nothing is allocated: the agent lives on `main`'s stack, and the stack
//! high-water mark says how much RAM that took.
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
use core::fmt::Write;
use tcbg::snapshot::{trace, TRACE_STEPS};
use tcbg::tasks::{run, BlockStats, Schedule, Task, TaskKind};
use tcbg::{Config, DefaultAgent, Fx};

/// Seed of the agent and of the task.
pub const SEED: u64 = 1;
/// The task the firmware learns.
pub const TASK: TaskKind = TaskKind::RuleSwitch;
/// Pass criterion: correct choices among the last block's last 10 trials.
pub const LAST10_MIN: u8 = 8;

/// Steps between the benchmark markers (`TCBG_BENCH_STEPS` at build time).
const BENCH_STEPS: Option<u32> = match option_env!("TCBG_BENCH_STEPS") {
    Some(s) => Some(parse_u32(s)),
    None => None,
};

/// `TCBG_BENCH_EXIT=1` at build time: exit (status 0) right after the
/// benchmark, so a profile of the run holds nothing else.
const BENCH_EXIT: bool = matches!(option_env!("TCBG_BENCH_EXIT"), Some(s) if !s.is_empty() && parse_u32(s) != 0);

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "TCBG_BENCH_STEPS must be a decimal number");
    let mut n = 0u32;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "TCBG_BENCH_STEPS must be a decimal number");
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
    let _ = writeln!(out, "tcbg on {board}: {TASK}, seed {SEED}, {} blocks", TASK.blocks());
    let verdict = learn(&mut out);
    let _ = writeln!(out, "trace {:08x}", reference_trace());
    let used = painted.high_water();
    let region = painted.region();
    let _ = writeln!(out, "stack_high_water {used}");
    let _ = writeln!(out, "stack_region {region}");
    let verdict = verdict.and(if used < region { Ok(()) } else { Err("the stack reached the end of its region") });
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
    agent.reset(Config::default(), SEED).map_err(|_| "invalid default config")?;
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

/// The reference trace hash, in its own frame so its agent does not share
/// the stack with [`learn`]'s.
#[inline(never)]
fn reference_trace() -> u32 {
    trace::<Fx>(TRACE_STEPS)
}

/// A panic is a failed run: print it and exit with status 1.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut out = Console::open();
    let _ = writeln!(out, "panic: {info}");
    console::exit(false)
}
