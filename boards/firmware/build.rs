//! Embeds the snapshot the firmware restores from flash.
//!
//! `TCBG_SNAPSHOT=PATH` at build time names a snapshot file (the raw bytes
//! of `Agent::snapshot`, e.g. the browser's export decoded from base64; a
//! relative path is taken from `boards/`). It is copied to
//! `OUT_DIR/snapshot.bin`, which `lib.rs` includes in flash, and its file
//! name becomes `TCBG_SNAPSHOT_SOURCE`. Without `TCBG_SNAPSHOT` the file is
//! empty and the firmware says it has no snapshot to restore.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=TCBG_SNAPSHOT");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("snapshot.bin");
    let (bytes, source) = match std::env::var_os("TCBG_SNAPSHOT").filter(|p| !p.is_empty()) {
        None => (Vec::new(), String::new()),
        Some(p) => {
            let manifest =
                PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
            let boards = manifest.parent().map_or(manifest.clone(), PathBuf::from);
            let path = boards.join(p); // an absolute path stays as it is
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("TCBG_SNAPSHOT={}: {e}", path.display()));
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let name: String = name.chars().filter(|c| !c.is_control()).collect();
            (bytes, name)
        }
    };
    if std::fs::read(&out).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    }
    println!("cargo:rustc-env=TCBG_SNAPSHOT_SOURCE={source}");
}
