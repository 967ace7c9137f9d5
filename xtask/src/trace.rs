//! `cargo xtask trace [--steps N] [--f32]`: the reference trace hash on the host.
//!
//! Prints one line, `trace <8 hex digits>`, the hash of
//! [`tcbg::snapshot::trace`]; the boards and the browser print the same line
//! so the hashes can be compared bit for bit. `--f32` hashes the `f32`
//! oracle instead (same seed and task; not expected to equal the fixed-point
//! hash).

use tcbg::snapshot::{trace, TRACE_STEPS};

pub fn main(args: &[String]) -> Result<(), String> {
    let mut steps = TRACE_STEPS;
    let mut oracle = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--steps" => {
                let v = it.next().ok_or("--steps needs a number")?;
                steps = v.parse().map_err(|e| format!("--steps {v}: {e}"))?;
            }
            "--f32" => oracle = true,
            other => {
                return Err(format!(
                    "trace: unknown option `{other}` (use --steps N, --f32)"
                ))
            }
        }
    }
    let hash = if oracle {
        trace::<f32>(steps)
    } else {
        trace::<tcbg::Fx>(steps)
    };
    println!("trace {hash:08x}");
    Ok(())
}
