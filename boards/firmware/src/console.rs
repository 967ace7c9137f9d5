//! The host console and exit code, through semihosting: QEMU's
//! `-semihosting-config enable=on` or a debug probe (`probe-rs run`).
//!
//! `cortex-m-semihosting` and `riscv-semihosting` share one API, so the rest
//! of the firmware does not know which architecture it runs on.

use core::fmt;
#[cfg(target_arch = "arm")]
use cortex_m_semihosting as sh;
#[cfg(target_arch = "riscv32")]
use riscv_semihosting as sh;

/// Longest line sent in one semihosting call; longer lines go in pieces.
const LINE: usize = 160;

/// The host's stdout, written a line at a time (each semihosting call stops
/// the core, which costs milliseconds on a probe). Without a host (open
/// failed) output is dropped.
pub struct Console {
    host: Option<sh::hio::HostStream>,
    line: heapless::String<LINE>,
}

impl Console {
    /// Opens the host's stdout.
    pub fn open() -> Console {
        Console {
            host: sh::hio::hstdout().ok(),
            line: heapless::String::new(),
        }
    }

    fn flush(&mut self) {
        if let Some(host) = &mut self.host {
            let _ = host.write_all(self.line.as_bytes());
        }
        self.line.clear();
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.line.push(c).is_err() {
                self.flush();
                let _ = self.line.push(c);
            }
            if c == '\n' {
                self.flush();
            }
        }
        Ok(())
    }
}

/// Ends the run: semihosting exit with status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    sh::debug::exit(if ok {
        sh::debug::EXIT_SUCCESS
    } else {
        sh::debug::EXIT_FAILURE
    });
    // Only reached if the host lets the program continue.
    loop {
        core::hint::spin_loop();
    }
}
