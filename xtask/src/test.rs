//! `cargo xtask test [--skip P,…] [--only P,…]`: everything CI runs.
//!
//! Every phase runs, in order, even after another failed, so one report
//! shows all that is broken: the table (phase, result, seconds) and the
//! final line `N passed, M failed` on stdout, commands and their output on
//! stderr; the exit status is non-zero if any phase failed. `--skip` and
//! `--only` (local iteration; `.ci/run` uses neither) take phase names or
//! groups: `build` is every `build/<target>`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::setup::{self, cargo_in, describe, run, step, workspace_root};
use crate::Res;

/// Every rustup target the project builds for (the boards and the web included).
const TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imac-unknown-none-elf",
    "wasm32-unknown-unknown",
];

/// The Cortex-M0 check crate, relative to the workspace root.
const M0_CHECK: &str = "checks/m0-step/Cargo.toml";
/// The symbol the M0 check exports around `Agent::step`.
const M0_ENTRY: &str = "tcbg_check_step";
/// Compiler helpers that mean a 64-bit multiply or a division reached the
/// step path: ARMv6-M has neither in hardware, so each is a slow library call.
/// The list is the AEABI names plus the libgcc names they are built on.
const M0_FORBIDDEN: &str = "__aeabi_lmul __aeabi_idiv __aeabi_uidiv __aeabi_idivmod \
    __aeabi_uidivmod __aeabi_ldivmod __aeabi_uldivmod __divsi3 __udivsi3 __modsi3 __umodsi3 \
    __muldi3 __divdi3 __udivdi3 __moddi3 __umoddi3 __udivmoddi4";

type PhaseFn = Box<dyn Fn() -> Res>;

/// The phases in the order they run.
fn phases() -> Vec<(String, PhaseFn)> {
    let mut p: Vec<(String, PhaseFn)> = vec![
        ("targets".into(), Box::new(|| setup::ensure_targets(TARGETS))),
        ("host-tests".into(), Box::new(host_tests)),
        ("docs".into(), Box::new(docs)),
        ("lint".into(), Box::new(lint)),
    ];
    // The targets the core library must build for (thumbv7m is the M4F's subset).
    for &t in TARGETS.iter().filter(|t| **t != "thumbv7m-none-eabi") {
        p.push((format!("build/{t}"), Box::new(move || cross_build(t))));
    }
    p.push(("m0-step".into(), Box::new(m0_step)));
    p.push(("trace".into(), Box::new(trace_determinism)));
    p.push(("web".into(), Box::new(crate::web::test_all)));
    p.push(("boards".into(), Box::new(crate::board::test_all)));
    p.push(("robust".into(), Box::new(crate::robust::test_phase)));
    p
}

/// Whether `selector` names the phase `name` or its group (`build` for `build/…`).
fn selects(selector: &str, name: &str) -> bool {
    name == selector || name.split_once('/').is_some_and(|(group, _)| group == selector)
}

pub fn main(skip: &[String], only: &[String]) -> Res {
    let phases = phases();
    // A typo must not silently run (or skip) everything.
    for s in skip.iter().chain(only) {
        if !phases.iter().any(|(n, _)| selects(s, n)) {
            let names: Vec<&str> = phases.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!("no phase `{s}`; phases: {}", names.join(", ")));
        }
    }

    // Per phase: name, `ok` / `FAILED` / `skipped`, seconds, and the error,
    // repeated under the summary table (CI keeps only the tail of a long log).
    let mut results: Vec<(&str, &str, f64, Option<String>)> = Vec::new();
    for (name, phase) in &phases {
        let wanted = (only.is_empty() || only.iter().any(|s| selects(s, name)))
            && !skip.iter().any(|s| selects(s, name));
        if !wanted {
            results.push((name, "skipped", 0.0, None));
            continue;
        }
        step(name);
        let t0 = Instant::now();
        // A panic in one phase (its code may be in flux) is one failed phase.
        let result =
            catch_unwind(AssertUnwindSafe(phase)).unwrap_or_else(|_| Err("panicked".into()));
        let error = result.err().inspect(|e| eprintln!("error: phase {name} failed: {e}"));
        let word = if error.is_some() { "FAILED" } else { "ok" };
        results.push((name, word, t0.elapsed().as_secs_f64(), error));
    }

    let width = phases.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    println!("\n{:width$}  {:7}  {:>8}", "phase", "result", "seconds");
    for (name, word, secs, _) in &results {
        println!("{name:width$}  {word:7}  {secs:8.1}");
    }
    for (name, _, _, error) in &results {
        if let Some(e) = error {
            let shown = setup::last_lines(e, 40).replace('\n', "\n  ");
            println!("\n{name} failed:\n  {shown}");
        }
    }
    let count = |w: &str| results.iter().filter(|r| r.1 == w).count();
    let (passed, failed) = (count("ok"), count("FAILED"));
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        // Exit here rather than return an error, so the count stays the last line.
        std::process::exit(1);
    }
    Ok(())
}

/// A cargo command run at the workspace root.
fn cargo_at_root(args: &str) -> Command {
    cargo_in(&workspace_root(), args)
}

/// Host tests of the whole workspace (the crate tests include a reduced
/// task evaluation).
fn host_tests() -> Res {
    run(&mut cargo_at_root("test --workspace"))
}

/// The API docs build without a single warning (broken links included).
fn docs() -> Res {
    run(cargo_at_root("doc -p tcbg --no-deps").env("RUSTDOCFLAGS", "-D warnings"))
}

/// The workspace is formatted (`rustfmt --check`) and clippy has nothing to
/// say about it (every target, warnings denied).
fn lint() -> Res {
    setup::ensure_components(&["clippy", "rustfmt"])?;
    run(&mut cargo_at_root("fmt --all -- --check"))?;
    run(&mut cargo_at_root("clippy --workspace --all-targets -- -D warnings"))
}

/// The core library builds `no_std` for `target`.
fn cross_build(target: &str) -> Res {
    run(cargo_at_root("build -p tcbg --release --target").arg(target))
}

/// Builds the Cortex-M0 check firmware and proves from its symbol table that
/// the step is linked and that no 64-bit multiply or division helper is.
fn m0_step() -> Res {
    use object::{Object, ObjectSection, ObjectSymbol};
    let manifest = workspace_root().join(M0_CHECK);
    // Run in its own directory, so no cargo config of the caller's cwd applies.
    let dir = manifest.parent().unwrap_or(&manifest);
    let args = "build --release --target thumbv6m-none-eabi --manifest-path";
    let elf = setup::build_executable(cargo_in(dir, args).arg(&manifest))?;
    let data = setup::read(&elf)?;
    let file = object::File::parse(&*data).map_err(|e| format!("not an object file: {e}"))?;
    let text = file.section_by_name(".text").ok_or("the image has no .text section")?.size();
    let names: Vec<&str> = file.symbols().filter_map(|s| s.name().ok()).collect();
    eprintln!("M0 check image: {} ({text} bytes of .text)", elf.display());
    let mut problems = Vec::new();
    if names.contains(&M0_ENTRY) {
        eprintln!("  {M0_ENTRY}  present");
    } else {
        problems.push(format!("{M0_ENTRY} is not in the image, so the step was not checked"));
    }
    for sym in M0_FORBIDDEN.split_whitespace() {
        let present = names.contains(&sym);
        eprintln!("  {sym:20}  {}", if present { "PRESENT" } else { "absent" });
        if present {
            problems.push(format!("{sym} is linked"));
        }
    }
    problems.is_empty().then_some(()).ok_or_else(|| problems.join("; "))
}

/// `cargo xtask trace` twice in the dev profile and once in release: the same
/// `trace <8 hex digits>` line every time.
fn trace_determinism() -> Res {
    let release: Vec<&str> = setup::RELEASE_XTASK.iter().copied().chain(["trace"]).collect();
    let runs: [(&str, &[&str]); 3] =
        [("dev", &["xtask", "trace"]), ("dev again", &["xtask", "trace"]), ("release", &release)];
    let mut lines = Vec::new();
    for (label, args) in runs {
        let mut cmd = cargo_at_root("");
        cmd.args(args).stderr(Stdio::inherit());
        eprintln!("$ {}", describe(&cmd));
        let out = setup::output(&mut cmd)?;
        let line = out.trim().to_string();
        if !is_trace_line(&line) {
            return Err(format!("{label}: expected `trace <8 hex digits>`, got `{line}`"));
        }
        eprintln!("{label}: {line}");
        lines.push(line);
    }
    let same = lines.iter().all(|l| *l == lines[0]);
    same.then_some(()).ok_or_else(|| format!("trace hashes differ: {}", lines.join(", ")))
}

fn is_trace_line(line: &str) -> bool {
    line.strip_prefix("trace ").is_some_and(|h| {
        h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_names_and_groups() {
        assert!(selects("web", "web"));
        assert!(selects("build", "build/wasm32-unknown-unknown"));
        assert!(selects("build/wasm32-unknown-unknown", "build/wasm32-unknown-unknown"));
        assert!(!selects("build", "boards"));
        assert!(!selects("b", "build/x"));
    }

    #[test]
    fn trace_lines_are_eight_lowercase_hex_digits() {
        assert!(is_trace_line("trace 0123abcd"));
        assert!(!is_trace_line("trace 0123ABCD"));
        assert!(!is_trace_line("trace 123abcd"));
        assert!(!is_trace_line("hash 0123abcd"));
    }
}
