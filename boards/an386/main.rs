//! tcbg firmware for the Arm MPS2 with the AN386 FPGA image (Cortex-M4F), QEMU machine `mps2-an386`.
//! Everything but the entry point is in `tcbg-firmware`.

#![no_std]
#![no_main]

#[cortex_m_rt::entry]
fn main() -> ! {
    tcbg_firmware::main("an386")
}
