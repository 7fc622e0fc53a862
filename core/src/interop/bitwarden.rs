//! Bitwarden exports: JSON (`items[].login.totp`), CSV (`login_totp` column), and
//! password-protected JSON (PBKDF2-HMAC-SHA256 → HKDF-Expand `enc`/`mac` → AES-256-CBC +
//! HMAC-SHA256 "EncString type 2"). `totp` is an otpauth URI, `steam://SECRET` or a bare
//! base32 secret. Items without a TOTP are password entries, not errors.

use hkdf::Hkdf;
use serde_json::Value;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::support::{self, Collector, Prf, Work, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::otp::OtpKind;
use crate::uri;

/// One TOTP field with the item's names.
fn from_totp(
    totp: &str,
    name: &str,
    username: &str,
    notes: &str,
    favorite: bool,
    folder: Option<String>,
) -> Result<ImportedEntry, String> {
    let totp = totp.trim();
    let mut entry = if let Some(secret) = totp.strip_prefix("steam://") {
        ImportedEntry::new(
            OtpKind::Steam,
            support::secret_b32(secret)?,
            String::new(),
            String::new(),
        )
    } else if totp.to_ascii_lowercase().starts_with("otpauth://") {
        ImportedEntry::from_credential(uri::parse(totp).map_err(|e| e.to_string())?)
    } else {
        ImportedEntry::new(
            OtpKind::DEFAULT_TOTP,
            support::secret_b32(totp)?,
            name.to_owned(),
            username.to_owned(),
        )
    };
    let mut note = notes.to_owned();
    if entry.issuer.is_empty() && entry.account.is_empty() && !name.is_empty() {
        // steam:// and bare secrets carry no names: keep the item's name where the user sees it.
        note = if note.is_empty() {
            format!("Bitwarden item: {name}")
        } else {
            format!("Bitwarden item: {name}\n{note}")
        };
    }
    entry.note = note;
    entry.favorite = favorite;
    entry.groups = folder.into_iter().collect();
    Ok(entry)
}

pub(crate) fn import_json(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    if doc.get("encrypted").and_then(Value::as_bool) == Some(true) {
        if doc.get("passwordProtected").and_then(Value::as_bool) != Some(true) {
            return Err(ImportError::Unsupported(
                "account-key encrypted Bitwarden exports (export with a file password instead)"
                    .into(),
            ));
        }
        let plain = decrypt_protected(&doc, password.ok_or(ImportError::PasswordRequired)?, work)?;
        return import_items(&support::json(support::text(&plain)?)?);
    }
    import_items(&doc)
}

fn import_items(doc: &Value) -> Result<ImportReport, ImportError> {
    let folders: Vec<(String, String)> = array(doc, "folders")?
        .iter()
        .map(|f| {
            (
                str_field(f, "id").to_owned(),
                str_field(f, "name").to_owned(),
            )
        })
        .collect();
    let mut out = Collector::new();
    for (index, item) in array(doc, "items")?.iter().enumerate() {
        let login = item.get("login").unwrap_or(&Value::Null);
        let totp = str_field(login, "totp");
        if totp.trim().is_empty() {
            continue;
        }
        let folder = folders
            .iter()
            .find(|(id, _)| id == str_field(item, "folderId"))
            .map(|(_, n)| n.clone());
        let result = from_totp(
            totp,
            str_field(item, "name"),
            str_field(login, "username"),
            str_field(item, "notes"),
            item.get("favorite")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            folder,
        );
        out.item(index, str_field(item, "name"), result)?;
    }
    Ok(out.finish(Format::BitwardenJson))
}

/// Password-protected JSON: checks the password on `encKeyValidation_DO_NOT_EDIT`, then
/// decrypts `data`.
fn decrypt_protected(
    doc: &Value,
    password: &[u8],
    work: &Work,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if uint_field(doc, "kdfType").unwrap_or(0) != 0 {
        return Err(ImportError::Unsupported(
            "Bitwarden exports protected with Argon2id (only PBKDF2 is supported)".into(),
        ));
    }
    let iterations = uint_field(doc, "kdfIterations")
        .ok_or_else(|| ImportError::Damaged("no kdfIterations".into()))?;
    let master = work.pbkdf2_32(
        Prf::Sha256,
        password,
        str_field(doc, "salt").as_bytes(),
        iterations,
        "Bitwarden export",
    )?;
    let (enc, mac) = stretch(&master);
    decrypt_enc_string(str_field(doc, "encKeyValidation_DO_NOT_EDIT"), &enc, &mac).map_err(
        |wrong| {
            if wrong {
                ImportError::WrongPassword
            } else {
                ImportError::Damaged("malformed key validation field".into())
            }
        },
    )?;
    decrypt_enc_string(str_field(doc, "data"), &enc, &mac)
        .map_err(|_| ImportError::Damaged("the data does not decrypt".into()))
}

type Key = Zeroizing<[u8; 32]>;

fn keys(password: &[u8], salt: &[u8], iterations: u32) -> (Key, Key) {
    stretch(&support::pbkdf2(true, password, salt, iterations))
}

/// HKDF-Expand of the master key into the encryption and MAC keys.
fn stretch(master: &[u8; 32]) -> (Key, Key) {
    let hk = Hkdf::<Sha256>::from_prk(master.as_ref()).expect("32-byte PRK");
    let (mut enc, mut mac) = (Zeroizing::new([0u8; 32]), Zeroizing::new([0u8; 32]));
    hk.expand(b"enc", enc.as_mut()).expect("32 bytes");
    hk.expand(b"mac", mac.as_mut()).expect("32 bytes");
    (enc, mac)
}

/// `2.iv|ct|mac` → plaintext. `Err(true)` = MAC mismatch (wrong key), `Err(false)` = malformed.
fn decrypt_enc_string(
    s: &str,
    enc: &[u8; 32],
    mac_key: &[u8; 32],
) -> Result<Zeroizing<Vec<u8>>, bool> {
    let body = s.strip_prefix("2.").ok_or(false)?;
    let parts: Vec<&str> = body.split('|').collect();
    let [iv, ct, mac] = parts.as_slice() else {
        return Err(false);
    };
    let (iv, ct, mac) = (
        support::b64(iv).map_err(|_| false)?,
        support::b64(ct).map_err(|_| false)?,
        support::b64(mac).map_err(|_| false)?,
    );
    if iv.len() != 16 || ct.is_empty() || ct.len() % 16 != 0 || mac.len() != 32 {
        return Err(false);
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, mac_key);
    let mut signed = iv.clone();
    signed.extend_from_slice(&ct);
    ring::hmac::verify(&key, &signed, &mac).map_err(|_| true)?;
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
    let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(enc, &iv).map_err(|_| false)?;
    let mut buf = Zeroizing::new(ct);
    let len = decryptor
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| false)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// `2.iv|ct|mac` for a plaintext (fixtures and round trips).
pub fn encrypt_enc_string(
    plain: &[u8],
    enc: &[u8; 32],
    mac_key: &[u8; 32],
    iv: [u8; 16],
) -> String {
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(enc, &iv)
        .expect("key and IV sizes")
        .encrypt_padded_vec::<Pkcs7>(plain);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, mac_key);
    let mut signed = iv.to_vec();
    signed.extend_from_slice(&ct);
    let mac = ring::hmac::sign(&key, &signed);
    format!(
        "2.{}|{}|{}",
        support::b64_encode(&iv),
        support::b64_encode(&ct),
        support::b64_encode(mac.as_ref())
    )
}

/// A password-protected Bitwarden JSON export of `plain_json` (PBKDF2, as Bitwarden writes it).
pub fn protect(
    plain_json: &str,
    password: &[u8],
    salt: &str,
    iterations: u32,
    iv_data: [u8; 16],
    iv_check: [u8; 16],
) -> String {
    let (enc, mac) = keys(password, salt.as_bytes(), iterations);
    serde_json::json!({
        "encrypted": true,
        "passwordProtected": true,
        "salt": salt,
        "kdfType": 0,
        "kdfIterations": iterations,
        "encKeyValidation_DO_NOT_EDIT": encrypt_enc_string(b"twofold key validation", &enc, &mac, iv_check),
        "data": encrypt_enc_string(plain_json.as_bytes(), &enc, &mac, iv_data),
    })
    .to_string()
}

pub(crate) fn import_csv(text: &str) -> Result<ImportReport, ImportError> {
    let rows = parse_csv(text)?;
    let Some((header, rows)) = rows.split_first() else {
        return Err(ImportError::Damaged("empty CSV".into()));
    };
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let totp_col =
        col("login_totp").ok_or_else(|| ImportError::Damaged("no login_totp column".into()))?;
    let (name, user, notes, folder, fav) = (
        col("name"),
        col("login_username"),
        col("notes"),
        col("folder"),
        col("favorite"),
    );
    let get = |row: &Vec<String>, c: Option<usize>| {
        c.and_then(|i| row.get(i)).cloned().unwrap_or_default()
    };
    let mut out = Collector::new();
    for (index, row) in rows.iter().enumerate() {
        let totp = get(row, Some(totp_col));
        if totp.trim().is_empty() {
            continue;
        }
        let folder_name = Some(get(row, folder)).filter(|f| !f.is_empty());
        let result = from_totp(
            &totp,
            &get(row, name),
            &get(row, user),
            &get(row, notes),
            get(row, fav) == "1",
            folder_name,
        );
        out.item(index, get(row, name), result)?;
    }
    Ok(out.finish(Format::BitwardenCsv))
}

/// RFC 4180 CSV: quoted fields, doubled quotes, line breaks inside quotes.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, ImportError> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                if rows.len() > super::MAX_IMPORT_ENTRIES + 1 {
                    return Err(ImportError::TooManyEntries);
                }
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(ImportError::Damaged("unterminated quoted CSV field".into()));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}
