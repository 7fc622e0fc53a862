//! Proton Authenticator export: plain `{"version":1,"entries":[{"content":{"uri","entry_type",
//! "name"},"note"}]}`, or password-protected `{"version":1,"salt","content"}` with Argon2id
//! (19 MiB, t = 2) and AES-256-GCM under the associated data `proton.authenticator.export.v1`.

use serde_json::Value;

use super::support::{self, Collector, Work, array, str_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::crypto::{self, KdfParams};
use crate::uri;

const AAD: &[u8] = b"proton.authenticator.export.v1";
const KDF: KdfParams = KdfParams {
    m_kib: 19 * 1024,
    t: 2,
    p: 1,
};

pub(crate) fn import(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    if doc.get("entries").is_some() {
        return import_plain(&doc);
    }
    let salt = support::b64(str_field(&doc, "salt"))?;
    let content = support::b64(str_field(&doc, "content"))?;
    if salt.len() != 16 || content.len() < 12 + 16 {
        return Err(ImportError::Damaged(
            "salt or content has the wrong size".into(),
        ));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let key = work.argon2id(
        password,
        &salt,
        u64::from(KDF.m_kib),
        u64::from(KDF.t),
        u64::from(KDF.p),
        "Proton Authenticator export",
    )?;
    let plain = support::aes_gcm_open(key.as_ref(), &content[..12], AAD, &content[12..])
        .ok_or(ImportError::WrongPassword)?;
    let inner = support::json(support::text(&plain)?)?;
    import_plain(&inner)
}

fn import_plain(doc: &Value) -> Result<ImportReport, ImportError> {
    let mut out = Collector::new();
    for (index, item) in array(doc, "entries")?.iter().enumerate() {
        let content = item.get("content").unwrap_or(&Value::Null);
        let result = uri::parse(str_field(content, "uri"))
            .map_err(|e| e.to_string())
            .map(|c| {
                let mut e = ImportedEntry::from_credential(c);
                if e.account.is_empty() {
                    e.account = str_field(content, "name").to_owned();
                }
                e.note = str_field(item, "note").to_owned();
                e
            });
        out.item(index, str_field(content, "name"), result)?;
    }
    Ok(out.finish(Format::Proton))
}

/// Seals a plain Proton export with a password exactly as Proton does (used by the tests to
/// produce fixtures from documented parameters, and usable as an exporter).
pub fn seal(
    plain_json: &str,
    password: &[u8],
    salt: [u8; 16],
    nonce: [u8; 12],
) -> Result<String, ImportError> {
    let key =
        crypto::argon2id(password, &salt, KDF).map_err(|e| ImportError::Damaged(e.to_string()))?;
    let mut content = nonce.to_vec();
    content.extend(support::aes_gcm_seal(
        key.as_ref(),
        &nonce,
        AAD,
        plain_json.as_bytes(),
    ));
    Ok(serde_json::json!({"version": 1, "salt": support::b64_encode(&salt), "content": support::b64_encode(&content)}).to_string())
}
