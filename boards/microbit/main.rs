//! tcbg firmware for the BBC micro:bit v1: nRF51822 (Cortex-M0), QEMU machine `microbit`.
//! Everything but the entry point is in `tcbg-firmware`.

#![no_std]
#![no_main]

#[cortex_m_rt::entry]
fn main() -> ! {
    tcbg_firmware::main("microbit")
}
