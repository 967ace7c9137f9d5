//! tcbg firmware for the Nordic nRF52840-DK (nRF52840, Cortex-M4F), a real board flashed with probe-rs.
//! Everything but the entry point is in `tcbg-firmware`.

#![no_std]
#![no_main]

#[cortex_m_rt::entry]
fn main() -> ! {
    tcbg_firmware::main("nrf52840dk")
}
