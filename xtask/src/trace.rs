//! `cargo xtask trace`: the reference trace hash on the host.

pub fn main(_args: &[String]) -> Result<(), String> {
    println!("trace {:08x}", tcbg::snapshot::trace::<tcbg::Fx>(tcbg::snapshot::TRACE_STEPS));
    Ok(())
}
