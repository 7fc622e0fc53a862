#![no_main]
//! The database importers (Google and Microsoft Authenticator, Authenticator Pro) on the input
//! as an SQLite file: damaged pages, lying headers, odd schemas. Seed with
//! core/tests/fixtures/import/*.db*. Never panics, never runs anything from the file.
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::{self, Format};

const FORMATS: [Format; 3] = [
    Format::GoogleAuthenticatorDb,
    Format::MicrosoftAuthenticator,
    Format::StratumDb,
];

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 * 1024 {
        return;
    }
    let _ = interop::import(data, None, None);
    let format = FORMATS[data.get(100).map_or(0, |b| usize::from(*b)) % FORMATS.len()];
    let _ = interop::import(data, Some(format), None);
});
