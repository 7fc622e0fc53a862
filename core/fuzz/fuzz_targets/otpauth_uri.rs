#![no_main]
//! otpauth URIs: parsing never panics, and whatever parses formats canonically and re-parses
//! to the same credential.
use libfuzzer_sys::fuzz_target;
use twofold_core::uri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = uri::parse(text) {
        let canonical = uri::format(&c);
        let again = uri::parse(&canonical).expect("canonical form re-parses");
        assert_eq!(again, c);
    }
});
