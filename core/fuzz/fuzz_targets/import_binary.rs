#![no_main]
//! Binary headers of the second wave, parsed before any password is needed: FreeOTP's
//! Java-serialised map, KeePass KDBX outer headers (KDF parameters), Authenticator Pro's
//! encrypted headers. The input is prefixed with each magic so the fuzzer works on what comes
//! after it. No password is given (no key derivation runs). Never panics.
use libfuzzer_sys::fuzz_target;
use twofold_core::fuzzing;
use twofold_core::interop::{self, Format};

const MAGICS: [&[u8]; 5] = [
    &[0xAC, 0xED, 0x00, 0x05, 0x73, 0x72, 0x00, 0x11],
    &[0x03, 0xD9, 0xA2, 0x9A, 0x67, 0xFB, 0x4B, 0xB5, 0x01, 0x00, 0x04, 0x00],
    &[0x03, 0xD9, 0xA2, 0x9A, 0x67, 0xFB, 0x4B, 0xB5, 0x01, 0x00, 0x03, 0x00],
    b"AUTHENTICATORPRO",
    b"AuthenticatorPro",
];

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let _ = fuzzing::freeotp_read_string_map(data);
    let _ = fuzzing::keepass_header_kdf(data);
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let mut input = MAGICS[usize::from(*selector) % MAGICS.len()].to_vec();
    input.extend_from_slice(rest);
    let _ = fuzzing::freeotp_read_string_map(&input);
    let _ = fuzzing::keepass_header_kdf(&input);
    let _ = interop::import(&input, None, None);
    let _ = interop::import(&input, Some(Format::FreeOtp), None);
});
