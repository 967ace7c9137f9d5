//! The coverage-free fuzz driver: the same targets as the libFuzzer
//! binaries, fed by our own generator for a given time. For machines where
//! libFuzzer cannot be built (no C++ compiler, no cargo-fuzz); `cargo xtask
//! fuzz` uses it when `cargo fuzz` fails, or on `--driver`.
//!
//! `driver TARGET SECONDS SEED ARTIFACT_DIR`: runs TARGET on generated
//! inputs for SECONDS; on a panic it writes the input to
//! `ARTIFACT_DIR/crash-<crc32>` and exits with status 1.

use std::time::{Duration, Instant};

use tcbg::rng::Rng;
use tcbg::snapshot::crc32;
use tcbg::Fx;
use tcbg_fuzz::{base_snapshot, TARGETS};

/// An input for `target`: for `restore`, a learned snapshot with a few
/// random byte changes, a truncation or excess, or random bytes, or a
/// forged patch; for `steps`, random records with edge values favoured.
fn generate(target: &str, rng: &mut Rng) -> Vec<u8> {
    let mut v: Vec<u8>;
    if target == "restore" {
        let base = if rng.below(2) == 0 {
            base_snapshot::<Fx>()
        } else {
            base_snapshot::<f32>()
        };
        match rng.below(5) {
            0 => {
                v = base.to_vec();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(v.len() as u32) as usize;
                    v[i] ^= (rng.next() as u8) | 1;
                }
            }
            1 => {
                v = base.to_vec();
                let n = rng.below(v.len() as u32 + 64) as usize;
                v.resize(n, rng.next() as u8);
            }
            2 => {
                v = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
            }
            _ => {
                // A forged patch: offset, then a few bytes (see `check_forged`).
                let len = 2 + rng.below(6) as usize;
                v = (0..len).map(|_| rng.next() as u8).collect();
            }
        }
    } else {
        let edge = [
            0x0000u16, 0x1000, 0xf000, 0x7fff, 0x8000, 0xffff, 0x0001, 0x7fc0,
        ];
        let records = 1 + rng.below(300) as usize;
        v = vec![rng.next() as u8];
        for _ in 0..records {
            v.push(if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                0
            });
            v.push(rng.next() as u8);
            // Enough value bytes for the f32 records too (the target reads what it needs).
            for _ in 0..9 {
                let w = match rng.below(4) {
                    0 => {
                        edge[rng.below(edge.len() as u32) as usize] as u32
                            | (edge[rng.below(edge.len() as u32) as usize] as u32) << 16
                    }
                    1 => {
                        if rng.below(2) == 0 {
                            0x3f80_0000
                        } else {
                            0
                        }
                    }
                    _ => rng.next(),
                };
                v.extend_from_slice(&w.to_le_bytes()[..2]);
            }
        }
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: driver TARGET SECONDS SEED ARTIFACT_DIR");
        std::process::exit(2);
    }
    let Some(&(name, target)) = TARGETS.iter().find(|(n, _)| *n == args[1]) else {
        eprintln!("no target {}", args[1]);
        std::process::exit(2);
    };
    let secs: u64 = args[2].parse().expect("SECONDS");
    let seed: u64 = args[3].parse().expect("SEED");
    let dir = std::path::PathBuf::from(&args[4]);
    let mut rng = Rng::seed(seed);
    let start = Instant::now();
    let mut last = Instant::now();
    let mut runs = 0u64;
    // Quiet panics: the input is reported instead.
    std::panic::set_hook(Box::new(|info| eprintln!("driver: panic: {info}")));
    while start.elapsed() < Duration::from_secs(secs) {
        let input = generate(name, &mut rng);
        if std::panic::catch_unwind(|| target(&input)).is_err() {
            std::fs::create_dir_all(&dir).expect("artifact dir");
            let path = dir.join(format!("crash-{:08x}", crc32(&input)));
            std::fs::write(&path, &input).expect("write crash input");
            eprintln!(
                "driver: {name}: crash after {runs} runs, input kept in {}",
                path.display()
            );
            std::process::exit(1);
        }
        runs += 1;
        if last.elapsed() >= Duration::from_secs(5) {
            last = Instant::now();
            eprintln!(
                "driver: {name}: {runs} runs, {:.0}/s",
                runs as f64 / start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!("driver: {name}: {runs} runs in {secs} s, no crash");
}
