#![no_main]
//! Typed recovery keys: parsing never panics; a parsed key prints back to itself.
use libfuzzer_sys::fuzz_target;
use twofold_core::vault::RecoveryKey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = RecoveryKey::parse(text) {
        assert_eq!(RecoveryKey::parse(&key.reveal()).unwrap(), key);
    }
});
