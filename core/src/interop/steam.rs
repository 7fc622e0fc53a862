//! Steam Guard secrets.
//!
//! - Steam Desktop Authenticator `.maFile` (JSON): `shared_secret` (base64), `account_name`.
//! - SDA's whole `maFiles` folder, zipped: `manifest.json` lists the files; when it says
//!   `"encrypted": true`, each file is base64 of AES-256-CBC/PKCS#7 with key =
//!   PBKDF2-HMAC-SHA1(passkey, `encryption_salt`, 50 000, 32) and IV `encryption_iv`.
//! - The Steam app's own files: before 3.0, `files/Steamguard-<id>` (one maFile-like object);
//!   from 3.0 the decrypted `{"accounts": {"<id>": {…}}}`.
//!
//! Entries are Steam Guard codes, issuer `Steam`, account = `account_name`.

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, array, str_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::OtpKind;

pub const SDA_ITERATIONS: u64 = 50_000;

pub fn import(
    bytes: &[u8],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    if container::is_zip(bytes) {
        return import_folder(bytes, password, work);
    }
    let text = support::text(bytes)?;
    if !text.trim_start().starts_with('{') && support::b64(text.trim()).is_ok() {
        return Err(ImportError::Unsupported(
            "an encrypted .maFile on its own: its salt and IV are in manifest.json — zip the \
             whole maFiles folder and import the ZIP"
                .into(),
        ));
    }
    let doc = support::json(text)?;
    if doc.get("entries").is_some() && doc.get("encrypted").is_some() {
        return Err(ImportError::Unsupported(
            "manifest.json on its own: zip the whole maFiles folder and import the ZIP".into(),
        ));
    }
    let mut out = Collector::new();
    match doc.get("accounts") {
        Some(Value::Object(accounts)) => {
            if accounts.len() > super::MAX_IMPORT_ENTRIES {
                return Err(ImportError::TooManyEntries);
            }
            for (index, (id, a)) in accounts.iter().enumerate() {
                out.item(index, label(a, id), entry(a))?;
            }
        }
        _ => out.item(0, label(&doc, ""), entry(&doc))?,
    }
    Ok(out.finish(Format::Steam))
}

fn label(a: &Value, fallback: &str) -> String {
    match str_field(a, "account_name") {
        "" => fallback.to_owned(),
        n => n.to_owned(),
    }
}

fn entry(a: &Value) -> Result<ImportedEntry, String> {
    let shared = str_field(a, "shared_secret");
    if shared.is_empty() {
        return Err("no shared_secret".into());
    }
    let bytes = support::b64(shared).map_err(|_| "shared_secret is not base64".to_owned())?;
    Ok(ImportedEntry::new(
        OtpKind::Steam,
        support::secret_bytes(bytes)?,
        "Steam".into(),
        str_field(a, "account_name").to_owned(),
    ))
}

/// A zipped `maFiles` folder, plain or encrypted.
fn import_folder(
    bytes: &[u8],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let mut zip = container::Zip::open(bytes)?;
    let mut out = Collector::new();
    let Some(manifest_name) = zip.find("manifest.json") else {
        // No manifest: every .maFile is plain.
        let names: Vec<String> = zip
            .names()
            .into_iter()
            .filter(|n| n.ends_with(".maFile"))
            .collect();
        for (index, name) in names.iter().enumerate() {
            let result = zip
                .read(name, None)
                .and_then(|b| support::json(support::text(&b)?));
            let result = match result {
                Ok(doc) => entry(&doc),
                Err(e) => Err(e.to_string()),
            };
            out.item(index, name.clone(), result)?;
        }
        return Ok(out.finish(Format::Steam));
    };
    let manifest = zip.read(&manifest_name, None)?;
    let manifest = support::json(support::text(&manifest)?)?;
    let encrypted = manifest.get("encrypted").and_then(Value::as_bool) == Some(true);
    let password = match (encrypted, password) {
        (true, None) => return Err(ImportError::PasswordRequired),
        (true, p) => p,
        (false, _) => None,
    };
    if encrypted {
        // Each file costs a derivation: refuse up front what the budget cannot pay for.
        let files = array(&manifest, "entries")?.len() as u64;
        if files.saturating_mul(SDA_ITERATIONS * 2) > work.left() {
            return Err(ImportError::HostileParameters(format!(
                "Steam Desktop Authenticator: {files} encrypted files need more password-derivation work than one import allows"
            )));
        }
    }
    let folder = manifest_name
        .rsplit_once('/')
        .map(|(d, _)| format!("{d}/"))
        .unwrap_or_default();
    let (mut tried, mut wrong) = (0, 0);
    for (index, e) in array(&manifest, "entries")?.iter().enumerate() {
        let filename = str_field(e, "filename");
        let result = (|| -> Result<Result<ImportedEntry, String>, ImportError> {
            let path = format!("{folder}{filename}");
            if filename.is_empty() || zip.find(&path).is_none() {
                return Ok(Err(format!("'{filename}' is not in the archive")));
            }
            let data = zip.read(&path, None)?;
            let Some(passkey) = password else {
                return Ok(support::json(support::text(&data)?)
                    .map_err(|e| e.to_string())
                    .and_then(|d| entry(&d)));
            };
            tried += 1;
            let (Ok(salt), Ok(iv), Ok(ct)) = (
                support::b64(str_field(e, "encryption_salt")),
                support::b64(str_field(e, "encryption_iv")),
                support::b64(std::str::from_utf8(&data).unwrap_or("!")),
            ) else {
                return Ok(Err("bad encryption parameters".into()));
            };
            let Ok(iv) = <[u8; 16]>::try_from(iv.as_slice()) else {
                return Ok(Err("bad encryption parameters".into()));
            };
            let key = work.pbkdf2_32(
                Prf::Sha1,
                passkey,
                &salt,
                SDA_ITERATIONS,
                "Steam Desktop Authenticator",
            )?;
            let plain = support::aes_cbc_open(&key, &iv, &ct);
            match plain
                .as_ref()
                .and_then(|p| serde_json::from_slice::<Value>(p).ok())
            {
                Some(doc) => Ok(entry(&doc)),
                None => {
                    wrong += 1;
                    Ok(Err("does not decrypt with this passkey".into()))
                }
            }
        })()?;
        out.item(index, filename, result)?;
    }
    if tried > 0 && wrong == tried {
        return Err(ImportError::WrongPassword);
    }
    Ok(out.finish(Format::Steam))
}
