//! Instruction counting around the agent's step (`TCBG_BENCH_STEPS=N` at
//! build time; `cargo xtask bench` reads what this prints).
//!
//! QEMU models no cycle counter, but under `-icount shift=0` its virtual
//! clock advances exactly 1 ns per guest instruction, and the board's timers
//! run on that clock. So a timer read before and after a piece of code,
//! times the instructions per timer tick, counts the instructions it ran:
//! deterministically, the same number on every run.
//!
//! - Arm (Cortex-M0/M3/M4F): SysTick on the core clock (24 bits, counting
//!   down). One tick is `10^9 / f_core` instructions (62.5 on the micro:bit's
//!   16 MHz, 40 on the MPS2's 25 MHz); rather than trusting those numbers the
//!   firmware measures ticks over a loop of known length ([`calibrate`]).
//! - RISC-V: `minstret` itself (QEMU derives it from the icount clock), one
//!   instruction per tick.
//!
//! Every interval measured is far shorter than one wrap of the counter, so
//! differences modulo the counter's width are exact and no interrupt is
//! needed.
//!
//! The run is the reference trace ([`tcbg::snapshot::trace`]): default
//! config, seed [`TRACE_SEED`], the rule-switch task, `N` steps with learning
//! on, hashed the same way, so `bench_end <hash>` must equal the host's
//! `cargo xtask trace --steps N` (`--f32` for the `oracle` feature). Two
//! intervals are summed over the steps: `agent.step` alone, and the whole
//! loop iteration (task input, observation, step, hash, scoring).
//!
//! Printed, in order (ticks are raw timer ticks):
//!
//! ```text
//! bench_begin N
//! bench_number fixed|f32
//! bench_clock systick|minstret
//! bench_calibrate <iterations> <ticks for iterations> <ticks for 2 × iterations>
//! bench_empty <brackets> <ticks>
//! bench_ticks step <ticks> loop <ticks>
//! bench_end <hash>
//! ```
//!
//! The calibration loop is two instructions per iteration (decrement,
//! branch), so `instructions per tick = 2 × iterations / (ticks₂ − ticks₁)`.
//! `bench_empty` is the same timer bracket as around the step with nothing
//! inside, summed over `brackets` repetitions: the reads' own cost, which
//! the xtask subtracts.

use core::fmt::Write;
use core::sync::atomic::{compiler_fence, Ordering};

use tcbg::snapshot::trace_with;

use crate::console::Console;

/// Iterations of the calibration loop (the longer run is twice this).
const CALIBRATE: u32 = 1 << 20;
/// Repetitions of the empty bracket; a multiple of 125 and of 40, so the
/// average over the timer's quantisation is exact on both Arm boards.
const EMPTY: u32 = 1000;

/// A free-running counter: `now()` grows by one per tick, modulo `MASK + 1`.
struct Clock;

#[cfg(target_arch = "arm")]
impl Clock {
    const NAME: &'static str = "systick";
    const MASK: u32 = 0x00FF_FFFF;

    fn start() -> Clock {
        if let Some(p) = cortex_m::Peripherals::take() {
            let mut syst = p.SYST;
            syst.set_clock_source(cortex_m::peripheral::syst::SystClkSource::Core);
            syst.set_reload(Self::MASK);
            syst.clear_current();
            syst.enable_counter();
        }
        Clock
    }

    #[inline(always)]
    fn now(&self) -> u32 {
        compiler_fence(Ordering::SeqCst);
        // SysTick counts down.
        let t = Self::MASK - cortex_m::peripheral::SYST::get_current();
        compiler_fence(Ordering::SeqCst);
        t
    }
}

#[cfg(target_arch = "riscv32")]
impl Clock {
    const NAME: &'static str = "minstret";
    const MASK: u32 = u32::MAX;

    fn start() -> Clock {
        Clock
    }

    #[inline(always)]
    fn now(&self) -> u32 {
        compiler_fence(Ordering::SeqCst);
        let t = riscv::register::minstret::read() as u32;
        compiler_fence(Ordering::SeqCst);
        t
    }
}

impl Clock {
    #[inline(always)]
    fn since(&self, t0: u32) -> u32 {
        self.now().wrapping_sub(t0) & Self::MASK
    }
}

/// Exactly `2 n` instructions for `n >= 1`: decrement and branch.
#[inline(never)]
fn spin(n: u32) {
    #[cfg(target_arch = "arm")]
    // SAFETY: a register countdown; touches no memory and no stack, and
    // `r0` and the flags are declared clobbered.
    unsafe {
        core::arch::asm!("2:", "subs r0, #1", "bne 2b", inout("r0") n => _, options(nomem, nostack));
    }
    #[cfg(target_arch = "riscv32")]
    // SAFETY: a register countdown; touches no memory and no stack.
    unsafe {
        core::arch::asm!("2:", "addi {0}, {0}, -1", "bnez {0}, 2b", inout(reg) n => _, options(nomem, nostack));
    }
}

/// Ticks for [`CALIBRATE`] and for twice as many loop iterations.
fn calibrate(clock: &Clock) -> (u32, u32) {
    let t = clock.now();
    spin(CALIBRATE);
    let one = clock.since(t);
    let t = clock.now();
    spin(2 * CALIBRATE);
    let two = clock.since(t);
    (one, two)
}

/// Ticks of [`EMPTY`] empty brackets (the reads' own cost).
fn empty(clock: &Clock) -> u32 {
    let mut sum = 0u32;
    for _ in 0..EMPTY {
        let t0 = clock.now();
        sum = sum.wrapping_add(clock.since(t0));
    }
    sum
}

/// Runs the benchmark over `steps` steps of the agent over `N` and prints
/// the lines the module documentation lists.
#[inline(never)]
pub fn run<N: tcbg::Kernels>(steps: u32, out: &mut Console) {
    let _ = writeln!(out, "bench_begin {steps}");
    let _ = writeln!(out, "bench_number {}", N::NAME);
    let _ = writeln!(out, "bench_clock {}", Clock::NAME);
    let clock = Clock::start();
    let (one, two) = calibrate(&clock);
    let _ = writeln!(out, "bench_calibrate {CALIBRATE} {one} {two}");
    let _ = writeln!(out, "bench_empty {EMPTY} {}", empty(&clock));
    let (hash, step_ticks, loop_ticks) = steps_timed::<N>(&clock, steps);
    let _ = writeln!(out, "bench_ticks step {step_ticks} loop {loop_ticks}");
    let _ = writeln!(out, "bench_end {hash:08x}");
}

/// The reference trace ([`tcbg::snapshot::trace_with`]), timed: the hash,
/// ticks inside `agent.step`, ticks of whole loop iterations (from one step's
/// start to the next's; the last iteration counts as long as the average).
fn steps_timed<N: tcbg::Kernels>(clock: &Clock, steps: u32) -> (u32, u64, u64) {
    let (mut step_ticks, mut loop_ticks) = (0u64, 0u64);
    let mut top: Option<u32> = None;
    let hash = trace_with::<N>(steps, |agent, obs, reward| {
        let t0 = clock.now();
        if let Some(prev) = top {
            loop_ticks += (t0.wrapping_sub(prev) & Clock::MASK) as u64;
        }
        top = Some(t0);
        let a = agent.step(obs, reward);
        step_ticks += clock.since(t0) as u64;
        a
    });
    if steps > 1 {
        loop_ticks += loop_ticks / (steps as u64 - 1);
    }
    (hash, step_ticks, loop_ticks)
}
