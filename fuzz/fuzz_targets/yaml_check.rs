#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = meshroute_filter::fuzzing::check_yaml(data) {
        panic!("{e}");
    }
});
