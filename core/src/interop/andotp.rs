//! andOTP backups. Plain: a JSON array of entries. Encrypted (current):
//! `[u32 BE iterations][12 B salt][12 B nonce][AES-256-GCM ciphertext‖tag]` with
//! PBKDF2-HMAC-SHA1(password, salt, iterations, 32). Encrypted (old):
//! `[12 B nonce][ciphertext‖tag]` with key SHA-256(password).

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};

/// Binary data that is not JSON text and is long enough to be an encrypted andOTP backup.
pub fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.len() >= 12 + 16
        && serde_json::from_slice::<Value>(bytes).is_err()
        && std::str::from_utf8(bytes).is_err()
}

pub(crate) fn import_plain(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let Value::Array(items) = &doc else {
        return Err(ImportError::Damaged(
            "an andOTP backup is a JSON list".into(),
        ));
    };
    if items.len() > super::MAX_IMPORT_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let mut out = Collector::new();
    for (index, e) in items.iter().enumerate() {
        out.item(
            index,
            format!("{}:{}", str_field(e, "issuer"), str_field(e, "label")),
            entry(e),
        )?;
    }
    Ok(out.finish(Format::AndOtp))
}

fn entry(e: &Value) -> Result<ImportedEntry, String> {
    let secret = support::secret_b32(str_field(e, "secret"))?;
    let kind = support::kind(
        str_field(e, "type"),
        str_field(e, "algorithm"),
        uint_field(e, "digits"),
        uint_field(e, "period"),
        uint_field(e, "counter"),
    )?;
    let (mut issuer, mut account) = (
        str_field(e, "issuer").to_owned(),
        str_field(e, "label").to_owned(),
    );
    // Old andOTP versions kept "Issuer:account" in the label.
    if issuer.is_empty()
        && let Some((i, a)) = account.clone().split_once(':')
    {
        issuer = i.trim().to_owned();
        account = a.trim().to_owned();
    }
    let groups = e
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .take(32)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(ImportedEntry {
        groups,
        ..ImportedEntry::new(kind, secret, issuer, account)
    })
}

pub(crate) fn import_encrypted(
    bytes: &[u8],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    if bytes.len() < 12 + 16 {
        return Err(ImportError::Damaged(
            "too short for an encrypted andOTP backup".into(),
        ));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    // Current layout.
    if bytes.len() >= 4 + 12 + 12 + 16 {
        let iterations = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        // Below 2^24 the first four bytes are an iteration count, not the old layout's
        // random nonce (which is that small once in 256 files).
        if (1..0x0100_0000).contains(&iterations) {
            let key = work.pbkdf2_32(
                Prf::Sha1,
                password,
                &bytes[4..16],
                u64::from(iterations),
                "andOTP backup",
            )?;
            if let Some(plain) =
                support::aes_gcm_open(key.as_ref(), &bytes[16..28], &[], &bytes[28..])
            {
                return import_plain(support::text(&plain)?);
            }
        }
    }
    // Old layout: the key is SHA-256 of the password.
    let digest = ring::digest::digest(&ring::digest::SHA256, password);
    if let Some(plain) = support::aes_gcm_open(digest.as_ref(), &bytes[..12], &[], &bytes[12..]) {
        return import_plain(support::text(&plain)?);
    }
    Err(ImportError::WrongPassword)
}

/// The current encrypted layout, for fixtures and round trips.
pub fn encrypt(
    plain_json: &[u8],
    password: &[u8],
    iterations: u32,
    salt: [u8; 12],
    nonce: [u8; 12],
) -> Vec<u8> {
    let key = support::pbkdf2(false, password, &salt, iterations);
    let mut out = iterations.to_be_bytes().to_vec();
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend(support::aes_gcm_seal(key.as_ref(), &nonce, &[], plain_json));
    out
}

/// The old encrypted layout (key = SHA-256 of the password).
pub fn encrypt_old(plain_json: &[u8], password: &[u8], nonce: [u8; 12]) -> Vec<u8> {
    let digest = ring::digest::digest(&ring::digest::SHA256, password);
    let mut out = nonce.to_vec();
    out.extend(support::aes_gcm_seal(
        digest.as_ref(),
        &nonce,
        &[],
        plain_json,
    ));
    out
}
