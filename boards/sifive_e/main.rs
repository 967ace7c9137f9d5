//! tcbg firmware for the SiFive E (FE310-like, RV32IMAC), QEMU machine `sifive_e`.
//! Everything but the entry point is in `tcbg-firmware`.

#![no_std]
#![no_main]

#[riscv_rt::entry]
fn main() -> ! {
    tcbg_firmware::main("sifive_e")
}
