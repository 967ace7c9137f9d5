//! The panic-freedom check: firmware whose panic handler cannot link.
//!
//! The handler calls `tcbg_panic_is_reachable`, an `extern "C"` function
//! that nothing defines. After LTO the optimiser removes every panic path it
//! can prove unreachable; if any remains in [`Agent::new`], [`Agent::step`],
//! [`Agent::snapshot`], [`Agent::restore`] or the lesion and trial setters,
//! called here on values the optimiser cannot see through
//! ([`black_box`]), the handler stays referenced and the link fails with
//! "undefined symbol: tcbg_panic_is_reachable". A successful link is the
//! proof; the image is never run.
//!
//! `cargo xtask panic-free` builds it for `thumbv6m-none-eabi` (release
//! profile: LTO, `opt-level = "s"`, `panic = "abort"`, overflow checks
//! off, as a board ships it) and reports the functions that still reference
//! the symbol when the link fails.

#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use tcbg::{Agent, Config, DefaultAgent, Fx, Lesions, OracleAgent, DEFAULT_S};

/// Snapshot bytes from nowhere the optimiser can see.
static mut SNAPSHOT: [u8; DefaultAgent::SNAPSHOT_LEN] = [0; DefaultAgent::SNAPSHOT_LEN];

#[entry]
fn main() -> ! {
    // Any config and seed: construction must refuse, never panic.
    let mut agent: DefaultAgent = match Agent::new(black_box(Config::default()), black_box(1)) {
        Ok(a) => a,
        Err(_) => loop {},
    };
    let bytes: &mut [u8; DefaultAgent::SNAPSHOT_LEN] =
        black_box(unsafe { &mut *core::ptr::addr_of_mut!(SNAPSHOT) });
    loop {
        let obs: [Fx; DEFAULT_S] = black_box([Fx(0); DEFAULT_S]);
        let reward: Fx = black_box(Fx(0));
        if black_box(false) {
            agent.mark_trial_start();
        }
        let bits: u8 = black_box(0);
        agent.set_lesions(Lesions {
            no_thalamus: bits & 1 != 0,
            no_context_selection: bits & 2 != 0,
            no_dopamine: bits & 4 != 0,
            no_traces: bits & 8 != 0,
            no_meta: bits & 16 != 0,
            no_amplification: bits & 32 != 0,
        });
        let _ = agent.set_action_count(black_box(2));
        black_box(agent.step(&obs, reward));
        // Any bytes of any length: restore must refuse, never panic.
        let len = black_box(bytes.len());
        let input = bytes.get(..len).unwrap_or(&[]);
        match DefaultAgent::restore(black_box(input)) {
            Ok(a) => agent = a,
            Err(e) => {
                black_box(e);
            }
        }
        black_box(agent.restore_in_place(black_box(input)).is_ok());
        let out = black_box(&mut bytes[..]);
        black_box(agent.snapshot(out).is_ok());
        black_box(agent.check_ranges().is_ok());
        // The f32 oracle shares the code; a NaN or infinite input must not panic it either.
        if black_box(false) {
            oracle_step();
        }
    }
}

#[inline(never)]
fn oracle_step() {
    if let Ok(mut o) = OracleAgent::new(black_box(Config::default()), black_box(2)) {
        black_box(o.step(&black_box([f32::NAN; DEFAULT_S]), black_box(f32::INFINITY)));
    }
}

#[cfg(not(feature = "diagnose"))]
extern "C" {
    /// Defined nowhere: referencing it fails the link.
    fn tcbg_panic_is_reachable() -> !;
}

/// With the `diagnose` feature the symbol exists, so the image links and
/// `cargo xtask panic-free` can list the panic locations that remain in it.
#[cfg(feature = "diagnose")]
#[no_mangle]
extern "C" fn tcbg_panic_is_reachable() -> ! {
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Keeps the panic locations in a `diagnose` image (the xtask reads them).
    #[cfg(feature = "diagnose")]
    black_box(info.location());
    #[cfg(not(feature = "diagnose"))]
    let _ = info;
    #[allow(unused_unsafe)]
    unsafe {
        tcbg_panic_is_reachable()
    }
}
