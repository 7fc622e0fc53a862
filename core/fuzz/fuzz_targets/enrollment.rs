#![no_main]
//! Scanned text of any kind goes through enrollment without panicking.
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::enroll::Enrollment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut e = Enrollment::new();
    for line in text.split('\n') {
        let _ = e.scan(line);
    }
    let _ = e.pending();
});
