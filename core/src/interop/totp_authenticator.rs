//! TOTP Authenticator (BinaryBoot, `com.authenticator.authservice2`).
//!
//! Backup: base64 text of AES-256-CBC (IV = 16 zero bytes, PKCS#7) under key =
//! SHA-256(password). Without a user password the app uses the fixed password
//! [`FALLBACK_PASSWORD`], which is tried automatically. The plaintext is a JSON object whose
//! first key *is* the entry list as JSON text. Entry: `issuer` (`Unknown` = none), `name`,
//! `key`, `base` (16 hex | 32 base32 | 64 base64: the encoding of `key`); its `digits` and
//! `period` strings are ignored (the app makes SHA1, 6-digit, 30 s codes). The app's own preferences file keeps the same list, unencrypted,
//! under `STATIC_TOTP_CODES_LIST`.

use serde_json::Value;

use super::support::{self, Collector, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::{Algorithm, OtpKind};

/// The password the app encrypts with when the user set none.
pub const FALLBACK_PASSWORD: &[u8] = b"TotpAuthenticator";

/// Only base64 characters, and a multiple of 16 bytes once decoded.
pub fn looks_encrypted(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 24
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(&b))
        && support::b64(t).is_ok_and(|b| !b.is_empty() && b.len() % 16 == 0)
}

pub(crate) fn import(text: &str, password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    if container::looks_like_prefs_xml(text) {
        let prefs = container::prefs(text)?;
        let list = container::pref(&prefs, "STATIC_TOTP_CODES_LIST").ok_or_else(|| {
            ImportError::Damaged("no STATIC_TOTP_CODES_LIST in this preferences file".into())
        })?;
        return entries(&support::json(list)?);
    }
    let data = support::b64(text.trim())?;
    let mut tried = Vec::new();
    if let Some(p) = password {
        tried.push(p);
    }
    tried.push(FALLBACK_PASSWORD);
    for p in tried {
        if let Some(list) = decrypt(&data, p) {
            return entries(&list);
        }
    }
    Err(if password.is_some() {
        ImportError::WrongPassword
    } else {
        ImportError::PasswordRequired
    })
}

/// The entry list, or `None` when this password does not give JSON.
fn decrypt(data: &[u8], password: &[u8]) -> Option<Value> {
    let key = ring::digest::digest(&ring::digest::SHA256, password);
    let key: [u8; 32] = key.as_ref().try_into().ok()?;
    let plain = support::aes_cbc_open(&key, &[0u8; 16], data)?;
    let doc: Value = serde_json::from_slice(&plain).ok()?;
    let Value::Object(map) = doc else {
        return None;
    };
    let (first, _) = map.iter().next()?;
    serde_json::from_str(first).ok()
}

fn entries(list: &Value) -> Result<ImportReport, ImportError> {
    let Value::Array(items) = list else {
        return Err(ImportError::Damaged("the entry list is not a list".into()));
    };
    if items.len() > super::MAX_IMPORT_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let mut out = Collector::new();
    for (index, e) in items.iter().enumerate() {
        out.item(
            index,
            format!("{}:{}", str_field(e, "issuer"), str_field(e, "name")),
            entry(e),
        )?;
    }
    Ok(out.finish(Format::TotpAuthenticator))
}

fn entry(e: &Value) -> Result<ImportedEntry, String> {
    let key = str_field(e, "key").trim();
    let secret = match uint_field(e, "base") {
        Some(16) => support::secret_bytes(
            support::hex(&key.to_ascii_lowercase()).map_err(|_| "key is not hex".to_owned())?,
        )?,
        Some(32) | None => support::secret_b32_lenient(key)?,
        Some(64) => {
            support::secret_bytes(support::b64(key).map_err(|_| "key is not base64".to_owned())?)?
        }
        Some(n) => return Err(format!("unknown key encoding (base {n})")),
    };
    // The app makes SHA1, 6-digit, 30 s codes whatever its `digits` and `period` strings say
    // (which Aegis ignores too, and real backups disagree with the app's codes otherwise).
    let kind = OtpKind::Totp {
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
    };
    let issuer = match str_field(e, "issuer") {
        "Unknown" => "",
        i => i,
    };
    Ok(ImportedEntry::new(
        kind,
        secret,
        issuer.to_owned(),
        str_field(e, "name").to_owned(),
    ))
}

/// An encrypted backup of an entry list (fixtures and round trips).
pub fn seal(entries_json: &str, password: &[u8]) -> String {
    let key = ring::digest::digest(&ring::digest::SHA256, password);
    let key: [u8; 32] = key.as_ref().try_into().expect("32 bytes");
    let doc = serde_json::json!({ entries_json: "" });
    support::b64_encode(&support::aes_cbc_seal(
        &key,
        &[0u8; 16],
        doc.to_string().as_bytes(),
    ))
}
