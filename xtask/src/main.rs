//! `cargo xtask …`: the project's commands, so no tool beyond cargo is needed.
//!
//! The arguments are parsed here (clap); each command lives in its own
//! module. `cargo xtask help` lists them, `cargo xtask help CMD` their options.

mod bench;
mod board;
mod eval;
mod robust;
mod setup;
mod test;
mod web;
mod webdriver;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "The commands of tcbg", disable_version_flag = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install what is missing, then run every test phase
    Test {
        /// Phases (or groups: `build`) to skip
        #[arg(long, value_delimiter = ',', value_name = "P,..")]
        skip: Vec<String>,
        /// Run only these phases (or groups)
        #[arg(long, value_delimiter = ',', value_name = "P,..")]
        only: Vec<String>,
    },
    /// Build the WebAssembly demo and serve it
    Demo {
        #[arg(long, default_value_t = 8080, value_name = "P")]
        port: u16,
    },
    /// Print `trace <hash>` of the reference run on the host
    Trace {
        #[arg(long, default_value_t = tcbg::snapshot::TRACE_STEPS, value_name = "N")]
        steps: u32,
        /// Hash the f32 oracle instead of fixed point
        #[arg(long)]
        f32: bool,
    },
    /// Run one task with a live progress line and a per-block summary
    Run(eval::RunArgs),
    /// Evaluate the task suite over seeds, lesions and number types
    Eval(eval::EvalArgs),
    /// Run the firmware on an emulated board (microbit, lm3s6965, an386, sifive_e; nrf52840dk is built only)
    Board {
        name: String,
        /// Also print the flash and RAM it takes
        #[arg(long)]
        size: bool,
        /// Restore this snapshot (raw bytes or a file the page exported) from flash
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
    },
    /// Measure speed and footprint
    Bench(bench::BenchArgs),
    /// Link a Cortex-M0 firmware whose panic handler cannot link
    PanicFree,
    /// Fuzz restore and step sequences (libFuzzer, or our own driver)
    Fuzz {
        #[arg(long, default_value_t = 60, value_name = "S")]
        seconds: u64,
        /// One target only
        #[arg(long, value_name = "T", value_parser = robust::FUZZ_TARGETS)]
        target: Option<String>,
        /// The coverage-free driver instead of libFuzzer
        #[arg(long)]
        driver: bool,
    },
    /// Millions of steps of random task switching with invariants checked
    Soak {
        #[arg(long, default_value_t = 10_000_000, value_parser = number, value_name = "N")]
        steps: u64,
        #[arg(long, default_value_t = 1, value_parser = number, value_name = "N")]
        seed: u64,
        /// Print the learning-health figures without failing on them
        #[arg(long)]
        report_health: bool,
    },
}

/// What a command returns: its error is a message for the user.
pub type Res<T = ()> = Result<T, String>;

/// A count, `_` allowed between digits (`10_000_000`).
fn number(s: &str) -> Res<u64> {
    s.replace('_', "").parse().map_err(|e| format!("{s}: {e}"))
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Test { skip, only } => test::main(&skip, &only),
        Cmd::Demo { port } => web::demo(port),
        Cmd::Trace { steps, f32 } => {
            let hash = match f32 {
                true => tcbg::snapshot::trace::<f32>(steps),
                false => tcbg::snapshot::trace::<tcbg::Fx>(steps),
            };
            println!("trace {hash:08x}");
            Ok(())
        }
        Cmd::Run(a) => eval::run_cmd(a),
        Cmd::Eval(a) => eval::main(a),
        Cmd::Board { name, size, snapshot } => board::main(&name, size, snapshot.as_deref()),
        Cmd::Bench(a) => bench::main(a),
        Cmd::PanicFree => robust::panic_free(),
        Cmd::Fuzz { seconds, target, driver } => robust::fuzz(seconds, target.as_deref(), driver),
        Cmd::Soak { steps, seed, report_health } => robust::soak(steps, seed, !report_health),
    };
    let Err(e) = result else { return ExitCode::SUCCESS };
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
