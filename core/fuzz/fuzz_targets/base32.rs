#![no_main]
//! Lenient base32: decoding never panics; encoding what decoded decodes to the same bytes.
use libfuzzer_sys::fuzz_target;
use twofold_core::uri::base32;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = base32::decode(text) {
        assert_eq!(base32::decode(&base32::encode(&bytes)).unwrap(), bytes);
    }
});
