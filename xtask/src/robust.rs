//! Robustness commands: `cargo xtask panic-free`, `cargo xtask fuzz`,
//! `cargo xtask soak`, and [`test_phase`], their bounded versions for
//! `cargo xtask test`.
//!
//! - **panic-free** builds `checks/panic-free` for `thumbv6m-none-eabi`: a
//!   firmware calling `Agent::new`, `step` (fixed point and `f32`),
//!   `snapshot` and `restore` on opaque inputs, whose panic handler calls a
//!   symbol nothing defines. The link succeeds only if the optimiser found no
//!   reachable panic on those paths. When it fails, the command rebuilds with
//!   the `diagnose` feature (the symbol defined, the panic locations kept)
//!   and lists the `file:line:column` of every panic left in the image.
//! - **fuzz** runs the cargo-fuzz targets of `fuzz/` (`restore`, `steps`),
//!   `--seconds S` each (default 60). libFuzzer needs no nightly here:
//!   `cargo fuzz run --sanitizer none` with `RUSTC_BOOTSTRAP=1` on the stable
//!   toolchain (the flags cargo-fuzz passes besides the sanitizer are stable
//!   `-C` options; `RUSTC_BOOTSTRAP` only unlocks `--cfg fuzzing`'s `-Z`
//!   companions). cargo-fuzz itself comes from crates.io. If it cannot be
//!   installed or libFuzzer cannot be built (no C++ compiler), or with
//!   `--driver`, the coverage-free driver `fuzz/src/driver.rs` runs the same
//!   targets on generated inputs for the same time. Each run starts from the
//!   kept cases; a crash is copied to `fuzz/regressions/<target>/`, which
//!   `cargo test` replays.
//! - **soak** runs the soak test (`tests/tests/robust_soak.rs`, where its
//!   invariants and health limits are defined) for `--steps N` (default 10
//!   million) from `--seed N`; `--report-health` prints the learning-health
//!   figures without failing on them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use object::{Object, ObjectSection};

use crate::setup::{self, cargo, describe, workspace_root};

const TARGET: &str = "thumbv6m-none-eabi";
const PANIC_SYMBOL: &str = "tcbg_panic_is_reachable";
pub const FUZZ_TARGETS: [&str; 2] = ["restore", "steps"];
/// cargo-fuzz version installed when missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The bounded robustness checks for `cargo xtask test`: the panic-freedom
/// link, 30 seconds of fuzzing per target, and a 1 000 000-step soak (about
/// 700 episodes, a few seconds) whose invariants and learning health are
/// both enforced, as `cargo xtask soak` does for its 10 million steps.
/// Every part runs even after another failed.
pub fn test_phase() -> Result<(), String> {
    let start = Instant::now();
    let mut failed = Vec::new();
    let parts: [(&str, &dyn Fn() -> Result<(), String>); 3] = [
        ("panic-free", &panic_free),
        ("fuzz", &|| fuzz(30, &FUZZ_TARGETS, false)),
        ("soak", &|| soak(1_000_000, 1, true)),
    ];
    for (name, part) in parts {
        setup::step(&format!("robust: {name}"));
        let t = Instant::now();
        match part() {
            Ok(()) => eprintln!("robust: {name} ok ({:.0} s)", t.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("robust: {name} FAILED ({:.0} s): {e}", t.elapsed().as_secs_f64());
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    eprintln!("robust: {:.0} s in all", start.elapsed().as_secs_f64());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

// ------------------------------------------------------------- panic-free

/// `cargo xtask panic-free`.
pub fn panic_free() -> Result<(), String> {
    setup::ensure_targets(&[TARGET])?;
    let dir = workspace_root().join("checks/panic-free");
    let build = |diagnose: bool| {
        let mut c = Command::new(cargo());
        c.current_dir(&dir).args([
            "build",
            "--release",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ]);
        if diagnose {
            c.args(["--features", "diagnose"]);
        }
        eprintln!("$ {} (in {})", describe(&c), dir.display());
        c
    };
    match setup::output(&mut build(false)) {
        Ok(messages) => {
            let elf = setup::executable(&messages)
                .ok_or("the panic-free build produced no executable")?;
            let data = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
            let text = object::File::parse(&*data)
                .ok()
                .and_then(|f| Some(f.section_by_name(".text")?.size()))
                .unwrap_or(0);
            eprintln!(
                "panic-free: {} links with an unlinkable panic handler ({} bytes of code): no reachable panic in Agent::new, step (Fx, f32), snapshot, restore",
                elf.display(),
                text
            );
            Ok(())
        }
        Err(e) if e.contains(PANIC_SYMBOL) => {
            eprintln!("panic-free: the link failed on `{PANIC_SYMBOL}`: a panic is reachable; locating it");
            let messages = setup::output(&mut build(true))?;
            let elf =
                setup::executable(&messages).ok_or("the diagnose build produced no executable")?;
            let data = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
            let locations = panic_locations(&data)?;
            for l in &locations {
                eprintln!("  reachable panic at {l}");
            }
            Err(format!(
                "{} reachable panic location(s): {}",
                locations.len(),
                if locations.is_empty() {
                    "none found in the image (see the linker error)".into()
                } else {
                    locations.join(", ")
                }
            ))
        }
        Err(e) => Err(e),
    }
}

/// The `file:line:column` of every `core::panic::Location` in a 32-bit
/// little-endian image: four words (file pointer, file length, line,
/// column) whose pointer leads to a path ending in `.rs`.
fn panic_locations(data: &[u8]) -> Result<Vec<String>, String> {
    use object::SectionKind;
    let file = object::File::parse(data).map_err(|e| format!("not an object file: {e}"))?;
    let mut sections = Vec::new();
    for s in file.sections() {
        let alloc = matches!(
            s.kind(),
            SectionKind::Text
                | SectionKind::Data
                | SectionKind::ReadOnlyData
                | SectionKind::ReadOnlyDataWithRel
                | SectionKind::ReadOnlyString
        );
        if alloc {
            if let Ok(bytes) = s.data() {
                sections.push((s.address(), bytes));
            }
        }
    }
    let read = |addr: u64, len: u64| -> Option<&[u8]> {
        sections.iter().find_map(|(a, b)| {
            let off = addr.checked_sub(*a)? as usize;
            b.get(off..off.checked_add(len as usize)?)
        })
    };
    let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut found = std::collections::BTreeSet::new();
    for (_, bytes) in &sections {
        let mut i = 0;
        while i + 16 <= bytes.len() {
            let (ptr, len, line, col) =
                (word(bytes, i), word(bytes, i + 4), word(bytes, i + 8), word(bytes, i + 12));
            if (4..400).contains(&len) && (1..1_000_000).contains(&line) && col < 10_000 {
                if let Some(s) = read(ptr as u64, len as u64) {
                    if s.ends_with(b".rs") {
                        found.insert(format!("{}:{line}:{col}", String::from_utf8_lossy(s)));
                    }
                }
            }
            i += 4;
        }
    }
    Ok(found.into_iter().collect())
}

// ------------------------------------------------------------------- fuzz

/// `cargo xtask fuzz`: `seconds` per target, libFuzzer unless `force_driver`.
pub fn fuzz(seconds: u64, targets: &[&str], force_driver: bool) -> Result<(), String> {
    let dir = workspace_root().join("fuzz");
    let mut use_driver = force_driver;
    if !use_driver {
        if let Err(e) = setup::ensure_cargo_install("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)
        {
            eprintln!("fuzz: cargo-fuzz unavailable ({e}); using the coverage-free driver");
            use_driver = true;
        }
    }
    let mut failed = Vec::new();
    for t in targets {
        let started = SystemTime::now();
        let result = if use_driver {
            run_driver(&dir, t, seconds)
        } else {
            match run_libfuzzer(&dir, t, seconds) {
                Err(e) if new_artifacts(&dir, t, started).is_empty() && e.starts_with("build:") => {
                    eprintln!(
                        "fuzz: libFuzzer could not be built ({e}); using the coverage-free driver"
                    );
                    use_driver = true;
                    run_driver(&dir, t, seconds)
                }
                r => r,
            }
        };
        if let Err(e) = result {
            let kept = keep_artifacts(&dir, t, started)?;
            failed.push(format!(
                "{t}: {e}{}",
                if kept.is_empty() { String::new() } else { format!("; kept {}", kept.join(", ")) }
            ));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Copies the kept cases into the corpus, so each run starts from them.
fn seed_corpus(dir: &Path, target: &str) -> Result<PathBuf, String> {
    let corpus = dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    if let Ok(entries) = std::fs::read_dir(dir.join("regressions").join(target)) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() {
                if let Some(name) = p.file_name() {
                    let _ = std::fs::copy(&p, corpus.join(name));
                }
            }
        }
    }
    Ok(corpus)
}

fn run_libfuzzer(dir: &Path, target: &str, seconds: u64) -> Result<(), String> {
    let corpus = seed_corpus(dir, target)?;
    // Build first, so a build failure is told apart from a finding.
    let mut build = Command::new(cargo());
    build.current_dir(dir).env("RUSTC_BOOTSTRAP", "1").args([
        "fuzz",
        "build",
        "--sanitizer",
        "none",
        target,
    ]);
    setup::run(&mut build).map_err(|e| format!("build: {e}"))?;
    let mut cmd = Command::new(cargo());
    cmd.current_dir(dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--sanitizer", "none", target])
        .arg(&corpus)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-max_len=16384",
            "-print_final_stats=1",
        ]);
    setup::run(&mut cmd)
}

fn run_driver(dir: &Path, target: &str, seconds: u64) -> Result<(), String> {
    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_secs());
    let artifacts = dir.join("artifacts").join(target);
    let mut cmd = Command::new(cargo());
    cmd.current_dir(dir)
        .args(["run", "--release", "--no-default-features", "--bin", "driver", "--"])
        .arg(target)
        .arg(seconds.to_string())
        .arg(seed.to_string())
        .arg(&artifacts);
    setup::run(&mut cmd)
}

fn new_artifacts(dir: &Path, target: &str, since: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("artifacts").join(target)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && std::fs::metadata(p).and_then(|m| m.modified()).is_ok_and(|m| m >= since)
        })
        .collect()
}

/// Copies the crashes of this run into `fuzz/regressions/<target>/`.
fn keep_artifacts(dir: &Path, target: &str, since: SystemTime) -> Result<Vec<String>, String> {
    let keep = dir.join("regressions").join(target);
    std::fs::create_dir_all(&keep).map_err(|e| format!("{}: {e}", keep.display()))?;
    let mut kept = Vec::new();
    for p in new_artifacts(dir, target, since) {
        if let Some(name) = p.file_name() {
            let to = keep.join(name);
            std::fs::copy(&p, &to).map_err(|e| format!("{}: {e}", to.display()))?;
            kept.push(to.display().to_string());
        }
    }
    Ok(kept)
}

// ------------------------------------------------------------------- soak

/// `cargo xtask soak`.
pub fn soak(steps: u64, seed: u64, enforce_health: bool) -> Result<(), String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace_root())
        .env("TCBG_SOAK_STEPS", steps.to_string())
        .env("TCBG_SOAK_SEED", seed.to_string())
        .env("TCBG_SOAK_HEALTH", if enforce_health { "enforce" } else { "report" })
        .args([
            "test",
            "-p",
            "tcbg-tests",
            "--test",
            "robust_soak",
            "--",
            "--ignored",
            "--exact",
            "soak_long",
            "--nocapture",
        ]);
    setup::run(&mut cmd)
}
