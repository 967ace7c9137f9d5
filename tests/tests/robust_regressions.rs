//! Replays every fuzz case kept under `fuzz/regressions/<target>/` through
//! the fuzz targets themselves (`fuzz/src/targets.rs`, compiled here as a
//! module), so a crash `cargo xtask fuzz` once found stays fixed.

#[allow(dead_code)]
#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;

#[test]
fn fuzz_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no cases in {}", dir.display());
        for path in files {
            let bytes = std::fs::read(&path).expect("read case");
            eprintln!("replaying {name} {}", path.display());
            target(&bytes);
            replayed += 1;
        }
    }
    eprintln!("{replayed} fuzz cases replayed");
}

/// The targets on a few fixed inputs, so a change that breaks the harness
/// itself shows up in `cargo test`, not only under the fuzzer.
#[test]
fn fuzz_targets_accept_their_own_seeds() {
    use tcbg::Fx;
    assert!(targets::check_restore::<Fx>(targets::base_snapshot::<Fx>()));
    assert!(targets::check_restore::<f32>(
        targets::base_snapshot::<f32>()
    ));
    assert!(!targets::check_restore::<Fx>(&[]));
    // A forged zero patch leaves the snapshot as it is: accepted.
    assert!(targets::check_forged::<Fx>(&[0, 0, 0]));
    targets::steps(&[1; 200]);
}
