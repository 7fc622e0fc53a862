#![no_main]
//! The ZIP-based importers (Authenticator Plus, Raivo, WinAuth, Steam Desktop Authenticator
//! folders, 1Password, Proton Pass) on archives built from the input: entry names from the
//! ones these apps use, contents from the fuzzer, stored or deflated. Also the raw input as an
//! archive, so damaged central directories and bombs are exercised too. Never panics; no
//! password is given, so no key derivation runs.
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::{self, Format};

const NAMES: [&str; 10] = [
    "Accounts.txt",
    "raivo-otp-export.json",
    "export.data",
    "export.attributes",
    "Proton Pass/data.json",
    "maFiles/manifest.json",
    "maFiles/1.maFile",
    "maFiles/2.maFile",
    "winauth.txt",
    "files/",
];
const FORMATS: [Format; 6] = [
    Format::AuthenticatorPlus,
    Format::Raivo,
    Format::WinAuth,
    Format::Steam,
    Format::OnePassword,
    Format::ProtonPass,
];

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let _ = interop::import(data, None, None);
    // Records: [name index][method][len u16][bytes…]
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut rest = data;
    while rest.len() >= 4 {
        let name = NAMES[usize::from(rest[0]) % NAMES.len()];
        let method = if rest[1] & 1 == 0 {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let body = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        if w.start_file(name, options).is_err() {
            continue;
        }
        let _ = std::io::Write::write_all(&mut w, body);
    }
    let Ok(archive) = w.finish() else {
        return;
    };
    let archive = archive.into_inner();
    let _ = interop::import(&archive, None, None);
    let format = FORMATS[data.first().map_or(0, |b| usize::from(*b)) % FORMATS.len()];
    let _ = interop::import(&archive, Some(format), None);
});
