//! The build script every board crate shares (`build = "../link.rs"`): it
//! puts the board's `memory.x` where the linker looks and links with the
//! runtime's `link.x` (cortex-m-rt or riscv-rt, which both include
//! `memory.x`), so a firmware that outgrows its part fails to link.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rustc-link-search={}", dir.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}
