//! `cargo xtask panic-free`, `fuzz` and `soak`, and [`test_phase`], their
//! bounded versions for `cargo xtask test`.
//!
//! - **panic-free** builds `checks/panic-free` for `thumbv6m-none-eabi`: a
//!   firmware calling `Agent::new`, `step` (fixed point and `f32`),
//!   `snapshot` and `restore` on opaque inputs, whose panic handler calls a
//!   symbol nothing defines, so it links only if no panic is reachable. When
//!   it fails, a rebuild with the `diagnose` feature lists the
//!   `file:line:column` of every panic left in the image.
//! - **fuzz** runs the cargo-fuzz targets of `fuzz/` with libFuzzer on the
//!   stable toolchain (`--sanitizer none`, `RUSTC_BOOTSTRAP=1` only unlocks
//!   `--cfg fuzzing`'s `-Z` companions), or, if cargo-fuzz or libFuzzer
//!   cannot be built, or with `--driver`, the coverage-free driver
//!   `fuzz/src/driver.rs`. Each run starts from the kept cases; a crash is
//!   copied to `fuzz/regressions/<target>/`, which `cargo test` replays.
//! - **soak** runs `tests/tests/robust_soak.rs` (where its invariants and
//!   health limits are defined) for `--steps N` from `--seed N`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use object::{Object, ObjectSection, SectionKind};

use crate::setup::{self, cargo_in, workspace_root};
use crate::Res;

const PANIC_SYMBOL: &str = "tcbg_panic_is_reachable";
pub const FUZZ_TARGETS: [&str; 2] = ["restore", "steps"];
/// cargo-fuzz version installed when missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The bounded robustness checks for `cargo xtask test`: the panic-freedom
/// link, 30 seconds of fuzzing per target, and a 1 000 000-step soak whose
/// invariants and learning health are both enforced. Every part runs even
/// after another failed.
pub fn test_phase() -> Res {
    let start = Instant::now();
    let mut failed = Vec::new();
    type Part<'a> = (&'a str, &'a dyn Fn() -> Res);
    let parts: [Part; 3] = [
        ("panic-free", &panic_free),
        ("fuzz", &|| fuzz(30, None, false)),
        ("soak", &|| soak(1_000_000, 1, true)),
    ];
    for (name, part) in parts {
        setup::step(&format!("robust: {name}"));
        let t = Instant::now();
        let result = part();
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(()) => eprintln!("robust: {name} ok ({secs:.0} s)"),
            Err(e) => {
                eprintln!("robust: {name} FAILED ({secs:.0} s): {e}");
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    eprintln!("robust: {:.0} s in all", start.elapsed().as_secs_f64());
    failed.is_empty().then_some(()).ok_or_else(|| failed.join("; "))
}

/// `cargo xtask panic-free`.
pub fn panic_free() -> Res {
    let target = "thumbv6m-none-eabi";
    setup::ensure_targets(&[target])?;
    let dir = workspace_root().join("checks/panic-free");
    let build = |diagnose: bool| {
        let mut c = cargo_in(&dir, "build --release --target");
        c.arg(target).args(if diagnose { &["--features", "diagnose"][..] } else { &[] });
        setup::build_executable(&mut c)
    };
    match build(false) {
        Ok(elf) => {
            let data = setup::read(&elf)?;
            let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
            let text = file.section_by_name(".text").map_or(0, |s| s.size());
            eprintln!(
                "panic-free: {} links with an unlinkable panic handler ({text} bytes of code): \
                 no reachable panic in Agent::new, step (Fx, f32), snapshot, restore",
                elf.display()
            );
            Ok(())
        }
        Err(e) if e.contains(PANIC_SYMBOL) => {
            eprintln!("panic-free: the link failed on `{PANIC_SYMBOL}`: a panic is reachable; locating it");
            let locations = panic_locations(&setup::read(&build(true)?)?)?;
            for l in &locations {
                eprintln!("  reachable panic at {l}");
            }
            let found = match locations.len() {
                0 => "none found in the image (see the linker error)".to_string(),
                _ => locations.join(", "),
            };
            Err(format!("{} reachable panic location(s): {found}", locations.len()))
        }
        Err(e) => Err(e),
    }
}

/// The `file:line:column` of every `core::panic::Location` in a 32-bit
/// little-endian image: four words (file pointer, file length, line,
/// column) whose pointer leads to a path ending in `.rs`.
fn panic_locations(data: &[u8]) -> Res<Vec<String>> {
    use SectionKind::*;
    let file = object::File::parse(data).map_err(|e| format!("not an object file: {e}"))?;
    let sections: Vec<(u64, &[u8])> = file
        .sections()
        .filter(|s| {
            matches!(s.kind(), Text | Data | ReadOnlyData | ReadOnlyDataWithRel | ReadOnlyString)
        })
        .filter_map(|s| Some((s.address(), s.data().ok()?)))
        .collect();
    let read = |addr: u64, len: u64| {
        sections.iter().find_map(|(a, b)| {
            let off = addr.checked_sub(*a)? as usize;
            b.get(off..off.checked_add(len as usize)?)
        })
    };
    let mut found = BTreeSet::new();
    for (_, bytes) in &sections {
        let words: Vec<u32> =
            bytes.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        for w in words.windows(4) {
            let [ptr, len, line, col] = [w[0], w[1], w[2], w[3]];
            if (4..400).contains(&len) && (1..1_000_000).contains(&line) && col < 10_000 {
                if let Some(s) = read(ptr.into(), len.into()).filter(|s| s.ends_with(b".rs")) {
                    found.insert(format!("{}:{line}:{col}", String::from_utf8_lossy(s)));
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// `cargo xtask fuzz`: `seconds` per target (all if none), libFuzzer unless `force_driver`.
pub fn fuzz(seconds: u64, target: Option<&str>, force_driver: bool) -> Res {
    let targets = target.map_or(FUZZ_TARGETS.to_vec(), |t| vec![t]);
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
        let result = match use_driver {
            true => run_driver(&dir, t, seconds),
            false => match run_libfuzzer(&dir, t, seconds) {
                Err(e) if new_artifacts(&dir, t, started).is_empty() && e.starts_with("build:") => {
                    eprintln!(
                        "fuzz: libFuzzer could not be built ({e}); using the coverage-free driver"
                    );
                    use_driver = true;
                    run_driver(&dir, t, seconds)
                }
                r => r,
            },
        };
        if let Err(e) = result {
            // Copies this run's crashes into `fuzz/regressions/<target>/`.
            let mut kept = Vec::new();
            for p in new_artifacts(&dir, t, started) {
                let to = dir.join("regressions").join(t).join(p.file_name().unwrap_or_default());
                setup::write(&to, setup::read(&p)?)?;
                kept.push(to.display().to_string());
            }
            let kept =
                if kept.is_empty() { String::new() } else { format!("; kept {}", kept.join(", ")) };
            failed.push(format!("{t}: {e}{kept}"));
        }
    }
    failed.is_empty().then_some(()).ok_or_else(|| failed.join("; "))
}

fn run_libfuzzer(dir: &Path, target: &str, seconds: u64) -> Res {
    // The kept cases go into the corpus, so each run starts from them.
    let corpus = dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    for p in files(&dir.join("regressions").join(target)) {
        let _ = std::fs::copy(&p, corpus.join(p.file_name().unwrap_or_default()));
    }
    let fuzz = |verb: &str| {
        let mut c = cargo_in(dir, &format!("fuzz {verb} --sanitizer none {target}"));
        c.env("RUSTC_BOOTSTRAP", "1");
        c
    };
    // Build first, so a build failure is told apart from a finding.
    setup::run(&mut fuzz("build")).map_err(|e| format!("build: {e}"))?;
    let limits = format!("-max_total_time={seconds} -max_len=16384 -print_final_stats=1");
    setup::run(fuzz("run").arg(&corpus).arg("--").args(limits.split(' ')))
}

fn run_driver(dir: &Path, target: &str, seconds: u64) -> Res {
    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_secs());
    let args =
        format!("run --release --no-default-features --bin driver -- {target} {seconds} {seed}");
    setup::run(cargo_in(dir, &args).arg(dir.join("artifacts").join(target)))
}

/// The files in `dir` (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.map(|e| e.path()).filter(|p| p.is_file()).collect()
}

fn new_artifacts(dir: &Path, target: &str, since: SystemTime) -> Vec<PathBuf> {
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified());
    let all = files(&dir.join("artifacts").join(target));
    all.into_iter().filter(|p| modified(p).is_ok_and(|m| m >= since)).collect()
}

/// `cargo xtask soak`: `--report-health` clears `enforce_health`.
pub fn soak(steps: u64, seed: u64, enforce_health: bool) -> Res {
    let args = "test -p tcbg-tests --test robust_soak -- --ignored --exact soak_long --nocapture";
    setup::run(
        cargo_in(&workspace_root(), args)
            .env("TCBG_SOAK_STEPS", steps.to_string())
            .env("TCBG_SOAK_SEED", seed.to_string())
            .env("TCBG_SOAK_HEALTH", if enforce_health { "enforce" } else { "report" }),
    )
}
