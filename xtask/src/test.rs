//! `cargo xtask test [--skip P,…] [--only P,…]`: everything CI runs.
//!
//! The phases run in order and every one runs even after another failed, so
//! one report shows all that is broken. The summary table (phase, result,
//! seconds) and the final line `N passed, M failed` go to stdout; commands
//! and their output go to stderr. The exit status is non-zero if any phase
//! failed.
//!
//! `--skip` and `--only` take comma-separated phase names, for local
//! iteration only (`.ci/run` uses neither). A group name selects all its
//! phases: `build` is every `build/<target>`.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::setup::{self, cargo, describe, run, step, workspace_root};

/// Every rustup target the project builds for (the boards and the web included).
const TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imac-unknown-none-elf",
    "wasm32-unknown-unknown",
];

/// The targets the core library must build for, one phase each.
const CROSS: &[&str] = &[
    "thumbv6m-none-eabi",
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
const M0_FORBIDDEN: &[&str] = &[
    "__aeabi_lmul",
    "__aeabi_idiv",
    "__aeabi_uidiv",
    "__aeabi_idivmod",
    "__aeabi_uidivmod",
    "__aeabi_ldivmod",
    "__aeabi_uldivmod",
    "__divsi3",
    "__udivsi3",
    "__modsi3",
    "__umodsi3",
    "__muldi3",
    "__divdi3",
    "__udivdi3",
    "__moddi3",
    "__umoddi3",
    "__udivmoddi4",
];

type PhaseFn = Box<dyn Fn() -> Result<(), String>>;

/// The phases in the order they run.
fn phases() -> Vec<(String, PhaseFn)> {
    let mut p: Vec<(String, PhaseFn)> = vec![
        (
            "targets".into(),
            Box::new(|| setup::ensure_targets(TARGETS)),
        ),
        ("host-tests".into(), Box::new(host_tests)),
        ("docs".into(), Box::new(docs)),
    ];
    for &t in CROSS {
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
    name == selector
        || name
            .split_once('/')
            .is_some_and(|(group, _)| group == selector)
}

enum Outcome {
    Passed,
    /// With the phase's error, repeated under the summary table: CI keeps
    /// only the tail of a long log.
    Failed(String),
    Skipped,
}

pub fn main(args: &[String]) -> Result<(), String> {
    let phases = phases();
    let (mut skip, mut only) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let list = match a.as_str() {
            "--skip" => &mut skip,
            "--only" => &mut only,
            other => {
                return Err(format!(
                    "test: unknown option `{other}` (use --skip P,…, --only P,…)"
                ))
            }
        };
        let v = it
            .next()
            .ok_or_else(|| format!("{a} needs a comma-separated list of phases"))?;
        list.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string));
    }
    // A typo must not silently run (or skip) everything.
    for s in skip.iter().chain(&only) {
        if !phases.iter().any(|(n, _)| selects(s, n)) {
            let names: Vec<&str> = phases.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!("no phase `{s}`; phases: {}", names.join(", ")));
        }
    }

    let mut results = Vec::new();
    for (name, phase) in &phases {
        let wanted = (only.is_empty() || only.iter().any(|s| selects(s, name)))
            && !skip.iter().any(|s| selects(s, name));
        if !wanted {
            results.push((name.as_str(), Outcome::Skipped, 0.0));
            continue;
        }
        step(name);
        let t0 = Instant::now();
        // A panic in one phase (its code may be in flux) is one failed phase.
        let result =
            catch_unwind(AssertUnwindSafe(phase)).unwrap_or_else(|_| Err("panicked".into()));
        let secs = t0.elapsed().as_secs_f64();
        let outcome = match result {
            Ok(()) => Outcome::Passed,
            Err(e) => {
                eprintln!("error: phase {name} failed: {e}");
                Outcome::Failed(e)
            }
        };
        results.push((name.as_str(), outcome, secs));
    }

    let width = phases.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    println!("\n{:width$}  {:7}  {:>8}", "phase", "result", "seconds");
    let (mut passed, mut failed) = (0, 0);
    for (name, outcome, secs) in &results {
        let word = match outcome {
            Outcome::Passed => {
                passed += 1;
                "ok"
            }
            Outcome::Failed(_) => {
                failed += 1;
                "FAILED"
            }
            Outcome::Skipped => "skipped",
        };
        println!("{name:width$}  {word:7}  {secs:8.1}");
    }
    for (name, outcome, _) in &results {
        if let Outcome::Failed(e) = outcome {
            let shown = setup::last_lines(e, 40).replace('\n', "\n  ");
            println!("\n{name} failed:\n  {shown}");
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        // Exit here rather than return an error, so the count stays the last line.
        std::process::exit(1);
    }
    Ok(())
}

/// A cargo command run at the workspace root.
fn cargo_at_root() -> Command {
    let mut c = Command::new(cargo());
    c.current_dir(workspace_root());
    c
}

/// Host tests of the whole workspace (the crate tests include a reduced
/// task evaluation).
fn host_tests() -> Result<(), String> {
    run(cargo_at_root().args(["test", "--workspace"]))
}

/// The API docs build without a single warning (broken links included).
fn docs() -> Result<(), String> {
    run(cargo_at_root()
        .args(["doc", "-p", "tcbg", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings"))
}

/// The core library builds `no_std` for `target`.
fn cross_build(target: &str) -> Result<(), String> {
    run(cargo_at_root().args(["build", "-p", "tcbg", "--release", "--target", target]))
}

/// Builds the Cortex-M0 check firmware and proves from its symbol table that
/// the step is linked and needs no 64-bit multiply and no division helper.
fn m0_step() -> Result<(), String> {
    let manifest = workspace_root().join(M0_CHECK);
    let mut build = Command::new(cargo());
    build
        .args([
            "build",
            "--release",
            "--target",
            "thumbv6m-none-eabi",
            "--manifest-path",
        ])
        .arg(&manifest)
        // Its own directory, so no cargo config of the caller's cwd applies.
        .current_dir(manifest.parent().unwrap_or(&manifest))
        // Artifact paths on stdout as JSON; diagnostics stay readable on stderr.
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit());
    eprintln!("$ {}", describe(&build));
    let messages = setup::output(&mut build)?;
    let elf = messages
        .lines()
        .filter_map(executable_of)
        .last()
        .ok_or("the M0 check build produced no executable")?;
    let data = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let report = inspect_m0(&data)?;
    eprintln!("M0 check image: {}", elf.display());
    eprint!("{}", report.text);
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(report.problems.join("; "))
    }
}

/// What the M0 check found in an image: a readable report and the problems.
struct M0Report {
    text: String,
    problems: Vec<String>,
}

/// Checks a linked thumbv6m image: [`M0_ENTRY`] defined, no [`M0_FORBIDDEN`]
/// helper anywhere in it. The call graph only explains what it finds (who
/// uses a helper, whether the step reaches it), so a decoding gap can never
/// turn a failure into a pass.
fn inspect_m0(data: &[u8]) -> Result<M0Report, String> {
    use object::{Object, ObjectSection};
    use std::fmt::Write as _;

    let file = object::File::parse(data).map_err(|e| format!("not an object file: {e}"))?;
    let text_size = file
        .section_by_name(".text")
        .map(|s| s.size())
        .ok_or("the image has no .text section")?;
    let graph = CallGraph::new(&file)?;
    let entry = graph.find(M0_ENTRY);
    let step_path = entry.map(|e| graph.reachable(e)).unwrap_or_default();

    let mut text = String::new();
    let mut problems = Vec::new();
    let width = M0_FORBIDDEN.iter().map(|s| s.len()).max().unwrap_or(0);
    let _ = writeln!(text, "  {:width$}  {text_size} bytes", ".text");
    match entry {
        Some(e) => {
            let f = &graph.funcs[e];
            let _ = writeln!(
                text,
                "  {M0_ENTRY:width$}  present ({} bytes)",
                f.end - f.start
            );
        }
        None => {
            let _ = writeln!(text, "  {M0_ENTRY:width$}  MISSING");
            problems.push(format!(
                "{M0_ENTRY} is not in the image, so the step was not checked"
            ));
        }
    }
    for &sym in M0_FORBIDDEN {
        let Some(h) = graph.find(sym) else {
            let _ = writeln!(text, "  {sym:width$}  absent");
            continue;
        };
        let users: Vec<&str> = graph
            .users(h)
            .into_iter()
            .map(|u| graph.funcs[u].name.as_str())
            .collect();
        let users = if users.is_empty() {
            "nothing found".to_string()
        } else {
            users.join(", ")
        };
        let path = if step_path.contains(&h) {
            "ON the step path"
        } else {
            "off the step path"
        };
        let _ = writeln!(text, "  {sym:width$}  PRESENT, {path}, used by {users}");
        problems.push(format!("{sym} is linked"));
    }
    // Allowed helpers (soft float, memcpy) cost time too: show where they are.
    let helpers = |on: bool| {
        let names: Vec<&str> = (0..graph.funcs.len())
            .filter(|&i| graph.is_runtime(i) && step_path.contains(&i) == on)
            .map(|i| graph.funcs[i].name.as_str())
            .filter(|n| !M0_FORBIDDEN.contains(n))
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(" ")
        }
    };
    let _ = writeln!(
        text,
        "  other runtime helpers on the step path: {}",
        helpers(true)
    );
    let _ = writeln!(
        text,
        "  other runtime helpers elsewhere: {}",
        helpers(false)
    );
    if step_path.iter().any(|&i| graph.funcs[i].indirect) {
        let _ = writeln!(
            text,
            "  (the step path also calls through pointers; those callees are not followed)"
        );
    }
    Ok(M0Report { text, problems })
}

/// One function of a linked image.
struct Func {
    /// Demangled, without the hash.
    name: String,
    start: u64,
    end: u64,
    /// Whether it calls through a register (`blx rN`), which the graph cannot follow.
    indirect: bool,
}

/// The functions of a linked Thumb (ARMv6-M) image and the direct calls
/// between them, decoded from `bl` and from branches that leave the
/// function (tail calls). Literal pools, marked by `$d` mapping symbols, are
/// skipped.
struct CallGraph {
    funcs: Vec<Func>,
    calls: Vec<BTreeSet<usize>>,
    /// Every symbol name (raw and demangled) to its function.
    by_name: Vec<(String, usize)>,
}

impl CallGraph {
    fn new(file: &object::File) -> Result<CallGraph, String> {
        use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

        let text = file
            .section_by_name(".text")
            .ok_or("the image has no .text section")?;
        let base = text.address();
        let code = text.data().map_err(|e| format!(".text: {e}"))?;
        let halfword = |a: u64| {
            let i = usize::try_from(a.checked_sub(base)?).ok()?;
            Some(u16::from_le_bytes([*code.get(i)?, *code.get(i + 1)?]))
        };

        let mut funcs: Vec<Func> = Vec::new();
        let mut by_name = Vec::new();
        let mut data_marks: Vec<(u64, bool)> = Vec::new();
        let mut syms: Vec<_> = file.symbols().collect();
        syms.sort_by_key(|s| s.address());
        for s in &syms {
            let Ok(raw) = s.name() else { continue };
            let addr = s.address() & !1; // the Thumb bit
            if raw == "$d" || raw.starts_with("$d.") || raw == "$t" || raw.starts_with("$t.") {
                data_marks.push((addr, raw.starts_with("$d")));
                continue;
            }
            if s.kind() != SymbolKind::Text || s.size() == 0 {
                continue;
            }
            let name = format!("{:#}", rustc_demangle::demangle(raw));
            let i = match funcs.iter().position(|f| f.start == addr) {
                Some(i) => i, // an alias of a function already seen
                None => {
                    funcs.push(Func {
                        name: name.clone(),
                        start: addr,
                        end: addr + s.size(),
                        indirect: false,
                    });
                    funcs.len() - 1
                }
            };
            by_name.push((raw.to_string(), i));
            by_name.push((name, i));
        }
        let is_data = |a: u64| {
            let k = data_marks.partition_point(|&(m, _)| m <= a);
            k > 0 && data_marks[k - 1].1
        };
        let ranges: Vec<(u64, u64)> = funcs.iter().map(|f| (f.start, f.end)).collect();
        let func_at = |a: u64| ranges.iter().position(|&(s, e)| s <= a && a < e);

        let mut calls = vec![BTreeSet::new(); funcs.len()];
        for (i, f) in funcs.iter_mut().enumerate() {
            let mut a = f.start;
            while a + 2 <= f.end {
                let Some(hw) = halfword(a).filter(|_| !is_data(a)) else {
                    a += 2;
                    continue;
                };
                let pc = a + 4;
                let (len, target) = if hw >> 11 == 0b11110 {
                    // 32-bit: on ARMv6-M only BL has a branch target.
                    let hw2 = halfword(a + 2).unwrap_or(0);
                    let target = (hw2 & 0xd000 == 0xd000).then(|| {
                        let s = u32::from(hw >> 10 & 1);
                        let i1 = !(u32::from(hw2 >> 13 & 1) ^ s) & 1;
                        let i2 = !(u32::from(hw2 >> 11 & 1) ^ s) & 1;
                        let imm = s << 24
                            | i1 << 23
                            | i2 << 22
                            | u32::from(hw & 0x3ff) << 12
                            | u32::from(hw2 & 0x7ff) << 1;
                        pc.wrapping_add_signed(i64::from((imm << 7) as i32 >> 7))
                    });
                    (4, target)
                } else if hw >> 11 == 0b11100 {
                    // B (unconditional): a tail call when it leaves the function.
                    let off = i64::from(((u32::from(hw & 0x7ff) << 1) << 20) as i32 >> 20);
                    (2, Some(pc.wrapping_add_signed(off)))
                } else if hw >> 12 == 0b1101 && (hw >> 8 & 0xf) < 0xe {
                    // B<cond>
                    (2, Some(pc.wrapping_add_signed(i64::from(hw as i8) * 2)))
                } else {
                    f.indirect |= hw & 0xff87 == 0x4780; // blx rN
                    (2, None)
                };
                if let Some(t) = target.filter(|&t| t < f.start || t >= f.end) {
                    if let Some(callee) = func_at(t) {
                        calls[i].insert(callee);
                    }
                }
                a += len;
            }
        }
        Ok(CallGraph {
            funcs,
            calls,
            by_name,
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.by_name
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, i)| i)
    }

    /// Compiler runtime (helpers like `__aeabi_*` and compiler_builtins).
    fn is_runtime(&self, i: usize) -> bool {
        let n = &self.funcs[i].name;
        n.starts_with("__") || n.starts_with("compiler_builtins::")
    }

    /// Every function `from` reaches by direct calls, itself included.
    fn reachable(&self, from: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([from]);
        let mut todo = vec![from];
        while let Some(f) = todo.pop() {
            for &c in &self.calls[f] {
                if seen.insert(c) {
                    todo.push(c);
                }
            }
        }
        seen
    }

    /// The non-runtime functions that call `helper`, directly or through
    /// other runtime functions (e.g. `Fx::from_f32` for `__aeabi_lmul` via
    /// the soft-float multiply).
    fn users(&self, helper: usize) -> BTreeSet<usize> {
        let mut users = BTreeSet::new();
        let mut seen = BTreeSet::from([helper]);
        let mut todo = vec![helper];
        while let Some(callee) = todo.pop() {
            for caller in (0..self.funcs.len()).filter(|&c| self.calls[c].contains(&callee)) {
                if !seen.insert(caller) {
                    continue;
                }
                if self.is_runtime(caller) {
                    todo.push(caller);
                } else {
                    users.insert(caller);
                }
            }
        }
        users
    }
}

/// The `executable` path of one cargo JSON message, if it has one.
fn executable_of(line: &str) -> Option<PathBuf> {
    let rest = line.split_once(r#""executable":""#)?.1;
    let mut path = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(path.into()),
            '\\' => path.push(chars.next()?), // JSON escapes in paths: `\\` and `\"`
            c => path.push(c),
        }
    }
    None
}

/// `cargo xtask trace` twice in the dev profile and once in release: the same
/// `trace <8 hex digits>` line every time.
fn trace_determinism() -> Result<(), String> {
    let release: Vec<&str> = setup::RELEASE_XTASK
        .iter()
        .copied()
        .chain(["trace"])
        .collect();
    let runs: [(&str, &[&str]); 3] = [
        ("dev", &["xtask", "trace"]),
        ("dev again", &["xtask", "trace"]),
        ("release", &release),
    ];
    let mut lines = Vec::new();
    for (label, args) in runs {
        let mut cmd = cargo_at_root();
        cmd.args(args).stderr(Stdio::inherit());
        eprintln!("$ {}", describe(&cmd));
        let out = setup::output(&mut cmd)?;
        let line = out.trim().to_string();
        if !is_trace_line(&line) {
            return Err(format!(
                "{label}: expected `trace <8 hex digits>`, got `{line}`"
            ));
        }
        eprintln!("{label}: {line}");
        lines.push(line);
    }
    if lines.iter().all(|l| *l == lines[0]) {
        Ok(())
    } else {
        Err(format!("trace hashes differ: {}", lines.join(", ")))
    }
}

fn is_trace_line(line: &str) -> bool {
    line.strip_prefix("trace ").is_some_and(|h| {
        h.len() == 8
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_names_and_groups() {
        assert!(selects("web", "web"));
        assert!(selects("build", "build/wasm32-unknown-unknown"));
        assert!(selects(
            "build/wasm32-unknown-unknown",
            "build/wasm32-unknown-unknown"
        ));
        assert!(!selects("build", "boards"));
        assert!(!selects("b", "build/x"));
    }

    #[test]
    fn executable_is_read_from_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","filenames":["/t/a"],"executable":"/t/a\\b\"c","fresh":true}"#;
        assert_eq!(executable_of(line), Some(PathBuf::from("/t/a\\b\"c")));
        assert_eq!(
            executable_of(r#"{"reason":"compiler-artifact","executable":null}"#),
            None
        );
    }

    #[test]
    fn trace_lines_are_eight_lowercase_hex_digits() {
        assert!(is_trace_line("trace 0123abcd"));
        assert!(!is_trace_line("trace 0123ABCD"));
        assert!(!is_trace_line("trace 123abcd"));
        assert!(!is_trace_line("hash 0123abcd"));
    }
}
