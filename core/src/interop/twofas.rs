//! 2FAS backups (`.2fas`, JSON, schema 1–4). Encrypted backups keep `services` empty and put
//! `b64(ciphertext‖tag):b64(salt):b64(iv)` in `servicesEncrypted`; the key is
//! PBKDF2-HMAC-SHA256(password, salt, 10 000, 32) and the cipher AES-256-GCM. `reference`
//! encrypts a fixed text with the same key: it tells a wrong password from a damaged file.

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};

pub(crate) const PBKDF2_ITERATIONS: u32 = 10_000;

pub(crate) fn import(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let groups: Vec<(String, String)> = array(&doc, "groups")?
        .iter()
        .map(|g| {
            (
                str_field(g, "id").to_owned(),
                str_field(g, "name").to_owned(),
            )
        })
        .collect();
    let encrypted = str_field(&doc, "servicesEncrypted");
    let decrypted;
    let services: &[Value] = if encrypted.is_empty() {
        array(&doc, "services")?
    } else {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        let reference = str_field(&doc, "reference");
        if !reference.is_empty() {
            match decrypt(reference, password, work) {
                Ok(_) => {}
                Err(Failure::Hostile(e)) => return Err(e),
                Err(_) => return Err(ImportError::WrongPassword),
            }
        }
        let plain = decrypt(encrypted, password, work).map_err(|failure| match failure {
            Failure::Hostile(e) => e,
            Failure::Wrong if reference.is_empty() => ImportError::WrongPassword,
            _ => ImportError::Damaged("the services do not decrypt".into()),
        })?;
        decrypted = support::json(support::text(&plain)?)?;
        match &decrypted {
            Value::Array(items) if items.len() <= super::MAX_IMPORT_ENTRIES => items,
            Value::Array(_) => return Err(ImportError::TooManyEntries),
            _ => {
                return Err(ImportError::Damaged(
                    "the decrypted services are not a list".into(),
                ));
            }
        }
    };
    let mut out = Collector::new();
    for (index, s) in services.iter().enumerate() {
        out.item(index, str_field(s, "name"), service(s, &groups))?;
    }
    Ok(out.finish(Format::TwoFas))
}

enum Failure {
    /// Authentication failed (wrong key).
    Wrong,
    Malformed,
    Hostile(ImportError),
}

/// Decrypts one `ct:salt:iv` field.
fn decrypt(
    field: &str,
    password: &[u8],
    work: &Work,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let parts: Vec<&str> = field.split(':').collect();
    let [ct, salt, iv] = parts.as_slice() else {
        return Err(Failure::Malformed);
    };
    let b64 = |t: &str| support::b64(t).map_err(|_| Failure::Malformed);
    let (ct, salt, iv) = (b64(ct)?, b64(salt)?, b64(iv)?);
    if iv.len() != 12 || salt.is_empty() || salt.len() > 1024 || ct.len() < 16 {
        return Err(Failure::Malformed);
    }
    let key = work
        .pbkdf2_32(
            Prf::Sha256,
            password,
            &salt,
            u64::from(PBKDF2_ITERATIONS),
            "2FAS backup",
        )
        .map_err(Failure::Hostile)?;
    support::aes_gcm_open(key.as_ref(), &iv, &[], &ct).ok_or(Failure::Wrong)
}

fn service(s: &Value, groups: &[(String, String)]) -> Result<ImportedEntry, String> {
    let otp = s.get("otp").unwrap_or(&Value::Null);
    let secret = support::secret_b32(str_field(s, "secret"))?;
    let type_name = match str_field(otp, "tokenType") {
        "" => "totp",
        t => t,
    };
    let kind = support::kind(
        type_name,
        str_field(otp, "algorithm"),
        uint_field(otp, "digits"),
        uint_field(otp, "period"),
        uint_field(otp, "counter"),
    )?;
    // Schema 1–2 lack otp.issuer: the service name is the issuer.
    let issuer = match str_field(otp, "issuer") {
        "" => str_field(s, "name"),
        i => i,
    };
    let account = match str_field(otp, "account") {
        "" => str_field(otp, "label"),
        a => a,
    };
    let group = groups
        .iter()
        .find(|(id, _)| id == str_field(s, "groupId"))
        .map(|(_, n)| n.clone());
    Ok(ImportedEntry {
        kind,
        secret,
        issuer: issuer.to_owned(),
        account: account.to_owned(),
        note: str_field(s, "badge").to_owned(),
        favorite: false,
        groups: group.into_iter().collect(),
        recovery_codes: Vec::new(),
    })
}

/// Encrypts a services list the way 2FAS does (`ct:salt:iv`), with the given salt and IV.
pub fn encrypt_field(plain: &[u8], password: &[u8], salt: &[u8], iv: [u8; 12]) -> String {
    let key = support::pbkdf2(true, password, salt, PBKDF2_ITERATIONS);
    let ct = support::aes_gcm_seal(key.as_ref(), &iv, &[], plain);
    format!(
        "{}:{}:{}",
        support::b64_encode(&ct),
        support::b64_encode(salt),
        support::b64_encode(&iv)
    )
}
