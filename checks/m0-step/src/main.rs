//! The Cortex-M0 arithmetic check: firmware that runs the default agent's
//! step on varying inputs, and nothing else.
//!
//! `cargo xtask test` builds it for `thumbv6m-none-eabi` (no hardware
//! divide, no 64-bit multiply) and fails if the linked image contains a
//! compiler helper for either, or lacks [`tcbg_check_step`]. It is never run.

#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use tcbg::{DefaultAgent, Fx, DEFAULT_S};

/// Steps `agent` `steps` times on inputs and rewards derived from the step
/// counter; returns a checksum of the actions so the work cannot be
/// discarded. Only stepping happens here (construction is in the entry), so
/// the xtask can tell the step path from the rest of the image; the fixed
/// name lets it find the function in the symbol table.
#[no_mangle]
#[inline(never)]
pub fn tcbg_check_step(agent: &mut DefaultAgent, steps: u32) -> u32 {
    let mut sum = 0u32;
    for t in 0..steps {
        // A Weyl sequence: cheap, 32-bit, different on every step and input.
        let obs: [Fx; DEFAULT_S] = core::array::from_fn(|j| {
            let x = t.wrapping_add(j as u32).wrapping_mul(0x9e37_79b9);
            Fx((x >> 20) as i16) // 0 ..= 4095: [0, 1) in Q3.12
        });
        let reward = if (t ^ sum) & 1 == 1 {
            Fx(1 << 12)
        } else {
            Fx(0)
        };
        let a = agent.step(black_box(&obs), black_box(reward));
        sum = sum.wrapping_mul(31).wrapping_add(a as u32);
    }
    sum
}

#[entry]
fn main() -> ! {
    // A blank agent: the step's code is the same whatever the weights, and
    // `Agent::reset` converts the f32 config (soft-float helpers, which use
    // a 64-bit multiply) once at start-up, off the step path this checks.
    let mut agent = black_box(DefaultAgent::blank());
    loop {
        black_box(tcbg_check_step(black_box(&mut agent), black_box(1000)));
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
