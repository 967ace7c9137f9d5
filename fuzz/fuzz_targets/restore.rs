//! `Agent::restore` on arbitrary bytes, raw and with a repaired checksum.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tcbg_fuzz::restore(data));
