#![no_main]
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| jitr_fuzz::der_mutator_body(data));

// One mutation in four is libFuzzer's own (byte-level, size-changing); the others flip a
// TLV's constructed bit, change its tag or its length (jitr_fuzz::der_mutator).
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed.is_multiple_of(4) {
        fuzzer_mutate(data, size, max_size)
    } else {
        jitr_fuzz::der_mutator::mutate(data, size, seed / 4)
    }
});
