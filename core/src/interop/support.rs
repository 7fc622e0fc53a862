//! Helpers shared by the importers: bounded JSON parsing, per-item error collection, base64,
//! the crypto the formats use, and format detection for JSON files.

use serde_json::Value;
use zeroize::Zeroizing;

use super::{Format, ImportError, ImportReport, ImportedEntry, ItemError, MAX_IMPORT_ENTRIES};
use crate::otp::{self, Algorithm, OtpKind};
use crate::secret::Secret;

/// The file as UTF-8 text (a leading byte-order mark is dropped).
pub fn text(bytes: &[u8]) -> Result<&str, ImportError> {
    std::str::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}'))
        .map_err(|_| ImportError::Damaged("the file is not UTF-8 text".into()))
}

/// Parses JSON (serde_json bounds nesting depth at 128, so deep input is an error, not a crash).
pub fn json(text: &str) -> Result<Value, ImportError> {
    serde_json::from_str(text)
        .map_err(|e| ImportError::Damaged(format!("not valid JSON ({})", e.classify_name())))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// Collects entries and per-item errors.
pub struct Collector {
    pub entries: Vec<ImportedEntry>,
    pub errors: Vec<ItemError>,
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            entries: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Records the outcome of one item.
    pub fn item(
        &mut self,
        index: usize,
        label: impl Into<String>,
        result: Result<ImportedEntry, String>,
    ) -> Result<(), ImportError> {
        match result {
            Ok(e) => {
                if self.entries.len() >= MAX_IMPORT_ENTRIES {
                    return Err(ImportError::TooManyEntries);
                }
                self.entries.push(e);
            }
            Err(reason) => {
                if self.errors.len() >= MAX_IMPORT_ENTRIES {
                    return Err(ImportError::TooManyEntries);
                }
                self.errors.push(ItemError {
                    index,
                    label: label.into(),
                    reason,
                });
            }
        }
        Ok(())
    }

    pub fn finish(self, format: Format) -> ImportReport {
        ImportReport {
            format,
            entries: self.entries,
            errors: self.errors,
        }
    }
}

/// A string field, or "" when absent or null.
pub fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An unsigned integer field (numbers or numeric strings).
pub fn uint_field(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of a JSON array field, bounded.
pub fn array<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], ImportError> {
    match v.get(key) {
        Some(Value::Array(items)) => {
            if items.len() > MAX_IMPORT_ENTRIES {
                Err(ImportError::TooManyEntries)
            } else {
                Ok(items)
            }
        }
        Some(Value::Null) | None => Ok(&[]),
        Some(_) => Err(ImportError::Damaged(format!("'{key}' is not a list"))),
    }
}

pub fn algorithm(name: &str) -> Result<Algorithm, String> {
    if name.trim().is_empty() {
        return Ok(Algorithm::Sha1);
    }
    Algorithm::from_name(name).ok_or_else(|| {
        format!(
            "unsupported algorithm '{}'",
            name.chars().take(16).collect::<String>()
        )
    })
}

pub fn digits(n: Option<u64>) -> Result<u8, String> {
    match n {
        None => Ok(otp::DEFAULT_DIGITS),
        Some(d) if (u64::from(otp::MIN_DIGITS)..=u64::from(otp::MAX_DIGITS)).contains(&d) => {
            Ok(d as u8)
        }
        Some(d) => Err(format!("{d} digits is not supported")),
    }
}

pub fn period(n: Option<u64>) -> Result<u32, String> {
    match n {
        None => Ok(otp::DEFAULT_PERIOD),
        Some(p) if p >= 1 && p <= u64::from(otp::MAX_PERIOD) => Ok(p as u32),
        Some(p) => Err(format!("period {p} s is not supported")),
    }
}

/// Builds a kind from a type name (`totp`, `hotp`, `steam`, any case) and parameters.
pub fn kind(
    type_name: &str,
    algo: &str,
    digits_n: Option<u64>,
    period_n: Option<u64>,
    counter: Option<u64>,
) -> Result<OtpKind, String> {
    match type_name.to_ascii_lowercase().as_str() {
        "totp" | "" => Ok(OtpKind::Totp {
            algorithm: algorithm(algo)?,
            digits: digits(digits_n)?,
            period: period(period_n)?,
        }),
        "hotp" => Ok(OtpKind::Hotp {
            algorithm: algorithm(algo)?,
            digits: digits(digits_n)?,
            counter: counter.unwrap_or(0),
        }),
        "steam" => Ok(OtpKind::Steam),
        other => Err(format!(
            "unsupported type '{}'",
            other.chars().take(16).collect::<String>()
        )),
    }
}

pub fn secret_b32(text: &str) -> Result<Secret, String> {
    Secret::from_base32(text).map_err(|e| format!("secret: {e}"))
}

pub fn b64(text: &str) -> Result<Vec<u8>, ImportError> {
    use base64::Engine;
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(cleaned.trim_end_matches('=').as_bytes())
        })
        .map_err(|_| ImportError::Damaged("invalid base64".into()))
}

pub fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn hex(text: &str) -> Result<Vec<u8>, ImportError> {
    let t = text.trim();
    if t.len() % 2 != 0 {
        return Err(ImportError::Damaged("invalid hex".into()));
    }
    (0..t.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&t[i..i + 2], 16)
                .map_err(|_| ImportError::Damaged("invalid hex".into()))
        })
        .collect()
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// AES-256-GCM decryption (ciphertext ‖ tag). `None` when authentication fails.
pub fn aes_gcm_open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// AES-256-GCM encryption; returns ciphertext ‖ tag.
pub fn aes_gcm_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte key"));
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    )
    .expect("in-memory encryption");
    buf
}

/// PBKDF2-HMAC with SHA1 or SHA256, 32 bytes.
pub fn pbkdf2(sha256: bool, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let alg = if sha256 {
        ring::pbkdf2::PBKDF2_HMAC_SHA256
    } else {
        ring::pbkdf2::PBKDF2_HMAC_SHA1
    };
    let mut out = Zeroizing::new([0u8; 32]);
    let iterations = std::num::NonZeroU32::new(iterations.max(1)).expect("non-zero");
    ring::pbkdf2::derive(alg, iterations, salt, password, out.as_mut());
    out
}

/// Which JSON format a document is, from its keys.
pub fn detect_json(text: &str) -> Option<Format> {
    let v: Value = serde_json::from_str(text).ok()?;
    match &v {
        Value::Array(items) => {
            let first = items.first()?;
            if first.get("secret").is_some()
                && (first.get("type").is_some() || first.get("label").is_some())
            {
                Some(Format::AndOtp)
            } else {
                None
            }
        }
        Value::Object(o) => {
            if o.contains_key("header") && o.contains_key("db") {
                Some(Format::Aegis)
            } else if o.contains_key("services")
                && (o.contains_key("schemaVersion") || o.contains_key("servicesEncrypted"))
            {
                Some(Format::TwoFas)
            } else if o.contains_key("items") && o.contains_key("encrypted")
                || o.contains_key("encKeyValidation_DO_NOT_EDIT")
                || o.get("passwordProtected").is_some()
            {
                Some(Format::BitwardenJson)
            } else if o.contains_key("kdfParams") && o.contains_key("encryptedData") {
                Some(Format::EnteEncrypted)
            } else if o.contains_key("tokens") {
                Some(Format::FreeOtpPlus)
            } else if o.contains_key("entries") && o.contains_key("version")
                || o.contains_key("salt") && o.contains_key("content")
            {
                Some(Format::Proton)
            } else {
                None
            }
        }
        _ => None,
    }
}
