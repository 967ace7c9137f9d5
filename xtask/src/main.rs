//! `cargo xtask …`: the project's commands, so no tool beyond cargo is needed.
//!
//! Each subcommand lives in its own module; `cargo xtask help` lists them.

mod bench;
mod board;
mod eval;
mod robust;
mod setup;
mod test;
mod trace;
mod web;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command> [options]

  test [--skip P,..] [--only P,..]
                       install what is missing, then run every test phase
  demo [--port P]      build the WebAssembly demo and serve it (default port 8080)
  trace [--steps N] [--f32]
                       print `trace <hash>` of the reference run on the host
  run --task T [--seed N] [--lesion L] [--f32]
                       run one task with a live progress line
  eval [--task T] [--seeds N] [--json PATH] [--plots DIR] [--robust]
                       evaluate the task suite over seeds
  board NAME [--size]  run the firmware on an emulated board (microbit, lm3s6965, an386, sifive_e)
  bench [--json PATH]  measure speed and footprint
  panic-free           link a Cortex-M0 firmware whose panic handler cannot link
  fuzz [--seconds S] [--target T] [--driver]
                       fuzz restore and step sequences (libFuzzer, or our own driver)
  soak [--steps N] [--seed N] [--report-health]
                       millions of steps of random task switching with invariants checked
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().cloned() else {
        eprint!("{HELP}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "test" => test::main(rest),
        "demo" => web::demo(rest),
        "trace" => trace::main(rest),
        "run" => eval::run_cmd(rest),
        "eval" => eval::main(rest),
        "board" => board::main(rest),
        "bench" => bench::main(rest),
        "panic-free" => robust::panic_free_cmd(rest),
        "fuzz" => robust::fuzz_cmd(rest),
        "soak" => robust::soak_cmd(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
