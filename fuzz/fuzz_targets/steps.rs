//! Arbitrary step inputs, rewards, lesion toggles, trial marks, action counts.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tcbg_fuzz::steps(data));
