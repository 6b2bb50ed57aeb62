#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jitr_fuzz::mqtt(data));
