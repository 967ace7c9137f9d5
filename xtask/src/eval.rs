//! `cargo xtask eval` and `cargo xtask run`: the task suite over seeds.

pub fn main(_args: &[String]) -> Result<(), String> {
    Err("`cargo xtask eval` is not built yet".into())
}

pub fn run_cmd(_args: &[String]) -> Result<(), String> {
    Err("`cargo xtask run` is not built yet".into())
}
