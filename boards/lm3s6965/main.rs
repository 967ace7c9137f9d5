//! tcbg firmware for the TI Stellaris LM3S6965 (Cortex-M3), QEMU machine `lm3s6965evb`.
//! Everything but the entry point is in `tcbg-firmware`.

#![no_std]
#![no_main]

#[cortex_m_rt::entry]
fn main() -> ! {
    tcbg_firmware::main("lm3s6965")
}
