#![no_main]
//! The text importers of the second wave — Android preferences XML (Authy, FreeOTP v1, TOTP
//! Authenticator, Battle.net) and JSON (Authy, Authenticator Pro, Duo, Steam, LastPass, Raivo,
//! 1Password data, Proton Pass data), WinAuth lines — through detection and forced formats.
//! No password is given (no key derivation runs). Never panics.
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::{self, Format};

const FORMATS: [Format; 13] = [
    Format::Authy,
    Format::Stratum,
    Format::FreeOtp,
    Format::TotpAuthenticator,
    Format::BattleNet,
    Format::Duo,
    Format::Steam,
    Format::WinAuth,
    Format::LastPass,
    Format::Raivo,
    Format::OnePassword,
    Format::ProtonPass,
    Format::KeePass,
];

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let _ = interop::import(data, None, None);
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(*selector) % FORMATS.len()];
    let _ = interop::import(rest, Some(format), None);
});
