#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jitr_fuzz::state(data));
