//! Authy's token files. The Android app keeps two preferences files whose values are JSON
//! token lists (`com.authy.storage.tokens.authenticator.xml`, key `…tokens.authenticator.key`;
//! `…tokens.authy.xml`, key `…tokens.authy.key`); the same lists also circulate as JSON
//! (a bare list, or `{"authenticator_tokens": […], "authy_tokens": […]}` from API dumps).
//!
//! Third-party tokens carry `decryptedSecret` (base32) when the app is unlocked, else
//! `encryptedSecret` (base64) and `salt`: key = PBKDF2-HMAC-SHA1(password, UTF-8 of the salt
//! string, 1000 — or the token's `key_derivation_iterations` — , 32), AES-256-CBC with a zero IV
//! and PKCS#7; the plaintext is the base32 secret. Their period is 30 s. Authy's own tokens
//! carry `secretSeed` (hex) and make 7-digit codes every 10 s.

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::{Algorithm, OtpKind};

const DEFAULT_ITERATIONS: u64 = 1000;

pub fn import(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let mut tokens: Vec<Value> = Vec::new();
    let mut push_list = |v: Value| -> Result<(), ImportError> {
        match v {
            Value::Array(items) => {
                if tokens.len() + items.len() > super::MAX_IMPORT_ENTRIES {
                    return Err(ImportError::TooManyEntries);
                }
                tokens.extend(items);
                Ok(())
            }
            Value::Null => Ok(()),
            _ => Err(ImportError::Damaged(
                "an Authy token list is not a list".into(),
            )),
        }
    };
    if text.trim_start().starts_with('<') {
        let prefs = container::prefs(text)?;
        let mut found = false;
        for p in &prefs {
            if p.name.ends_with("tokens.authenticator.key") || p.name.ends_with("tokens.authy.key")
            {
                found = true;
                push_list(support::json(&p.value)?)?;
            }
        }
        if !found {
            return Err(ImportError::Damaged(
                "no Authy token list in this preferences file".into(),
            ));
        }
    } else {
        match support::json(text)? {
            list @ Value::Array(_) => push_list(list)?,
            Value::Object(mut o) => {
                for key in ["authenticator_tokens", "authy_tokens"] {
                    push_list(o.remove(key).unwrap_or(Value::Null))?;
                }
            }
            _ => return Err(ImportError::Damaged("not an Authy token list".into())),
        }
    }
    let encrypted = |t: &Value| {
        t.get("decryptedSecret").is_none()
            && t.get("secretSeed").is_none()
            && (t.get("encryptedSecret").is_some() || t.get("encrypted_seed").is_some())
    };
    let any_encrypted = tokens.iter().any(encrypted);
    let password = match (any_encrypted, password) {
        (true, None) => return Err(ImportError::PasswordRequired),
        (_, p) => p,
    };
    // Every encrypted token costs a derivation: refuse the whole file up front when together
    // they exceed the budget, instead of running most of them first.
    let total = tokens
        .iter()
        .filter(|t| encrypted(t))
        .try_fold(0u64, |sum, t| {
            let iterations =
                uint_field(t, "key_derivation_iterations").unwrap_or(DEFAULT_ITERATIONS);
            iterations
                .checked_mul(2)
                .and_then(|cost| sum.checked_add(cost))
        });
    if total.is_none_or(|t| t > work.left()) {
        return Err(ImportError::HostileParameters(format!(
            "Authy tokens: {} encrypted tokens need more password-derivation work than one import allows",
            tokens.iter().filter(|t| encrypted(t)).count()
        )));
    }
    let mut out = Collector::new();
    let (mut tried, mut failed) = (0usize, 0usize);
    for (index, t) in tokens.iter().enumerate() {
        let label = first_of(t, &["name", "originalName", "original_name"]).to_owned();
        let result = if encrypted(t) {
            tried += 1;
            match decrypt(t, password.unwrap_or_default(), work)? {
                Some(secret) => third_party(t, &secret),
                None => {
                    failed += 1;
                    Err("does not decrypt with this password".into())
                }
            }
        } else if let Some(seed) = t.get("secretSeed").and_then(Value::as_str) {
            native(t, seed)
        } else {
            third_party(t, str_field(t, "decryptedSecret"))
        };
        out.item(index, label, result)?;
    }
    if tried > 0 && failed == tried {
        return Err(ImportError::WrongPassword);
    }
    Ok(out.finish(Format::Authy))
}

fn first_of<'a>(t: &'a Value, keys: &[&str]) -> &'a str {
    keys.iter()
        .map(|k| str_field(t, k))
        .find(|v| !v.is_empty())
        .unwrap_or("")
}

/// The base32 secret of an encrypted token, or `None` when it does not decrypt.
fn decrypt(t: &Value, password: &[u8], work: &Work) -> Result<Option<String>, ImportError> {
    let data = match support::b64(first_of(t, &["encryptedSecret", "encrypted_seed"])) {
        Ok(d) => d,
        Err(_) => return Ok(None),
    };
    let iterations = uint_field(t, "key_derivation_iterations").unwrap_or(DEFAULT_ITERATIONS);
    let key = work.pbkdf2_32(
        Prf::Sha1,
        password,
        str_field(t, "salt").as_bytes(),
        iterations,
        "Authy token",
    )?;
    let Some(plain) = support::aes_cbc_open(&key, &[0u8; 16], &data) else {
        return Ok(None);
    };
    Ok(std::str::from_utf8(&plain).ok().map(str::to_owned))
}

/// Authy keeps only A–Z and 2–7 of a secret (upper-cased).
fn clean_base32(s: &str) -> String {
    s.chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_uppercase() || ('2'..='7').contains(c))
        .collect()
}

fn third_party(t: &Value, secret: &str) -> Result<ImportedEntry, String> {
    let secret = support::secret_b32(&clean_base32(secret))?;
    let digits = support::digits(uint_field(t, "digits"))?;
    let name = str_field(t, "name");
    let original_name = first_of(t, &["originalName", "original_name"]);
    let issuer = match first_of(t, &["originalIssuer", "original_issuer"]) {
        "" => match original_name.split_once(':') {
            Some((i, _)) => i.trim().to_owned(),
            None => match name.split_once(" - ") {
                Some((i, _)) => i.trim().to_owned(),
                None => {
                    let kind = first_of(t, &["accountType", "account_type"]);
                    let mut c = kind.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                }
            },
        },
        i => i.to_owned(),
    };
    let mut account = name.to_owned();
    if !issuer.is_empty() {
        for sep in [":", " - "] {
            account = account.replace(&format!("{issuer}{sep}"), "");
        }
    }
    let account = account.trim();
    let account = account.strip_prefix(": ").unwrap_or(account).trim();
    Ok(ImportedEntry::new(
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits,
            period: 30,
        },
        secret,
        issuer,
        account.to_owned(),
    ))
}

fn native(t: &Value, seed: &str) -> Result<ImportedEntry, String> {
    let bytes = support::hex(seed).map_err(|_| "secretSeed is not hex".to_owned())?;
    let secret = support::secret_bytes(bytes)?;
    let digits = support::digits(Some(uint_field(t, "digits").unwrap_or(7)))?;
    Ok(ImportedEntry::new(
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits,
            period: 10,
        },
        secret,
        str_field(t, "name").to_owned(),
        String::new(),
    ))
}
