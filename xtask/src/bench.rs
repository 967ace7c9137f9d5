//! `cargo xtask bench`: speed and footprint.

pub fn main(_args: &[String]) -> Result<(), String> {
    Err("`cargo xtask bench` is not built yet".into())
}
