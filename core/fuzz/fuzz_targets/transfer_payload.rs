#![no_main]
//! The OTPX/2 plaintext decoder on arbitrary bytes: typed errors only, and whatever decodes
//! encodes back to something that decodes to the same accounts.
use libfuzzer_sys::fuzz_target;
use twofold_core::transfer::payload;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = payload::decode(data) {
        let again = payload::decode(&payload::encode(&p)).expect("our own encoding decodes");
        assert_eq!(again.entries, p.entries);
        assert_eq!(again.created_at, p.created_at);
    }
});
