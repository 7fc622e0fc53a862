//! Aegis vault export (JSON): plain (`db` is an object) or encrypted (`db` is base64 of
//! AES-256-GCM under a master key wrapped per slot; password slots use scrypt). Both directions:
//! the encrypted export uses Aegis's own parameters (scrypt N = 32768, r = 8, p = 1) so Aegis
//! can open it.

use serde_json::{Value, json};

use super::support::{self, Collector, MAX_PASSWORD_SLOTS, Work, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::crypto::{RandomSource, random_array};
use crate::otp::OtpKind;
use crate::vault::{Entry, Group};

/// Scrypt cost Aegis uses for password slots.
pub(crate) const SCRYPT_N: u64 = 32_768;
pub(crate) const SCRYPT_R: u32 = 8;
pub(crate) const SCRYPT_P: u32 = 1;

pub(crate) fn import(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    if doc.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(ImportError::Unsupported(
            "Aegis vault versions other than 1".into(),
        ));
    }
    let header = doc.get("header").unwrap_or(&Value::Null);
    let content = match doc.get("db") {
        Some(db @ Value::Object(_)) => db.clone(),
        Some(Value::String(b64)) => decrypt_db(header, b64, password, work)?,
        _ => return Err(ImportError::Damaged("no database in the file".into())),
    };
    import_content(&content)
}

fn scrypt_key(
    password: &[u8],
    slot: &Value,
    work: &Work,
) -> Result<zeroize::Zeroizing<[u8; 32]>, ImportError> {
    let n = uint_field(slot, "n").ok_or_else(|| ImportError::Damaged("slot without n".into()))?;
    let r = uint_field(slot, "r").unwrap_or(8);
    let p = uint_field(slot, "p").unwrap_or(1);
    let salt = support::hex(str_field(slot, "salt"))?;
    work.scrypt(password, &salt, n, r, p, "Aegis password slot")
}

fn gcm_parts(params: &Value) -> Result<(Vec<u8>, Vec<u8>), ImportError> {
    let nonce = support::hex(str_field(params, "nonce"))?;
    let tag = support::hex(str_field(params, "tag"))?;
    if nonce.len() != 12 || tag.len() != 16 {
        return Err(ImportError::Damaged("bad AES-GCM parameters".into()));
    }
    Ok((nonce, tag))
}

fn decrypt_db(
    header: &Value,
    db_b64: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<Value, ImportError> {
    let slots = array(header, "slots")?;
    let password_slots: Vec<&Value> = slots
        .iter()
        .filter(|s| uint_field(s, "type") == Some(1))
        .collect();
    if password_slots.is_empty() {
        return Err(ImportError::Unsupported(
            "this Aegis file has no password slot (biometric only)".into(),
        ));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let mut master = None;
    // Each slot costs a scrypt run: a file with many slots must not buy many of them.
    for slot in password_slots.iter().take(MAX_PASSWORD_SLOTS) {
        let key = scrypt_key(password, slot, work)?;
        let (nonce, tag) = gcm_parts(slot.get("key_params").unwrap_or(&Value::Null))?;
        let mut wrapped = support::hex(str_field(slot, "key"))?;
        wrapped.extend_from_slice(&tag);
        if let Some(mk) = support::aes_gcm_open(key.as_ref(), &nonce, &[], &wrapped)
            && mk.len() == 32
        {
            master = Some(mk);
            break;
        }
    }
    let master = match master {
        Some(m) => m,
        None if password_slots.len() > MAX_PASSWORD_SLOTS => {
            return Err(ImportError::HostileParameters(format!(
                "Aegis file with {} password slots: the password matches none of the first {MAX_PASSWORD_SLOTS}, and no more are tried",
                password_slots.len()
            )));
        }
        None => return Err(ImportError::WrongPassword),
    };
    let (nonce, tag) = gcm_parts(header.get("params").unwrap_or(&Value::Null))?;
    let mut ct = support::b64(db_b64)?;
    ct.extend_from_slice(&tag);
    let plain = support::aes_gcm_open(&master, &nonce, &[], &ct).ok_or_else(|| {
        ImportError::Damaged("the database does not decrypt with the unlocked key".into())
    })?;
    support::json(support::text(&plain)?)
}

fn import_content(content: &Value) -> Result<ImportReport, ImportError> {
    let groups: Vec<(String, String)> = array(content, "groups")?
        .iter()
        .map(|g| {
            (
                str_field(g, "uuid").to_owned(),
                str_field(g, "name").to_owned(),
            )
        })
        .collect();
    let mut out = Collector::new();
    for (index, e) in array(content, "entries")?.iter().enumerate() {
        let label = format!("{}:{}", str_field(e, "issuer"), str_field(e, "name"));
        out.item(index, label, entry(e, &groups))?;
    }
    Ok(out.finish(Format::Aegis))
}

fn entry(e: &Value, groups: &[(String, String)]) -> Result<ImportedEntry, String> {
    let info = e.get("info").ok_or("no info")?;
    let secret = support::secret_b32(str_field(info, "secret"))?;
    let kind = support::kind(
        str_field(e, "type"),
        str_field(info, "algo"),
        uint_field(info, "digits"),
        uint_field(info, "period"),
        uint_field(info, "counter"),
    )?;
    let mut names: Vec<String> = e
        .get("groups")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .filter_map(|id| groups.iter().find(|(u, _)| u == id))
                .map(|(_, n)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    // Older content versions name one group directly.
    if let Some(g) = e
        .get("group")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
    {
        names.push(g.to_owned());
    }
    Ok(ImportedEntry {
        kind,
        secret,
        issuer: str_field(e, "issuer").to_owned(),
        account: str_field(e, "name").to_owned(),
        note: str_field(e, "note").to_owned(),
        favorite: e.get("favorite").and_then(Value::as_bool).unwrap_or(false),
        groups: names,
        recovery_codes: Vec::new(),
    })
}

fn uuid(rng: &dyn RandomSource) -> Result<String, ImportError> {
    let b: [u8; 16] = random_array(rng).map_err(|e| ImportError::Damaged(e.to_string()))?;
    Ok(crate::vault::Id::from_random(b).to_string())
}

/// Aegis database content (version 3) for entries and their groups.
fn content(
    entries: &[&Entry],
    groups: &[Group],
    rng: &dyn RandomSource,
) -> Result<Value, ImportError> {
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let (type_name, info) = match e.kind {
            OtpKind::Totp {
                algorithm,
                digits,
                period,
            } => (
                "totp",
                json!({"secret": e.secret.to_base32(), "algo": algorithm.name(), "digits": digits, "period": period}),
            ),
            OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            } => (
                "hotp",
                json!({"secret": e.secret.to_base32(), "algo": algorithm.name(), "digits": digits, "counter": counter}),
            ),
            OtpKind::Steam => (
                "steam",
                json!({"secret": e.secret.to_base32(), "algo": "SHA1", "digits": 5, "period": 30}),
            ),
        };
        items.push(json!({
            "type": type_name,
            "uuid": uuid(rng)?,
            "name": e.account,
            "issuer": e.issuer,
            "note": e.note,
            "favorite": e.favorite,
            "icon": null,
            "info": info,
            "groups": e.group_ids.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        }));
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| json!({"uuid": g.id.to_string(), "name": g.name}))
        .collect();
    Ok(json!({"version": 3, "entries": items, "groups": groups}))
}

/// Plain Aegis export.
pub fn export_plain(
    entries: &[&Entry],
    groups: &[Group],
    rng: &dyn RandomSource,
) -> Result<String, ImportError> {
    let doc = json!({"version": 1, "header": {"slots": null, "params": null}, "db": content(entries, groups, rng)?});
    Ok(serde_json::to_string_pretty(&doc).expect("JSON of plain values"))
}

/// Encrypted Aegis export with one password slot (scrypt N=32768, r=8, p=1; AES-256-GCM).
pub fn export_encrypted(
    entries: &[&Entry],
    groups: &[Group],
    password: &[u8],
    rng: &dyn RandomSource,
) -> Result<String, ImportError> {
    let err = |e: crate::crypto::CryptoError| ImportError::Damaged(e.to_string());
    let master: [u8; 32] = random_array(rng).map_err(err)?;
    let salt: [u8; 32] = random_array(rng).map_err(err)?;
    let slot_nonce: [u8; 12] = random_array(rng).map_err(err)?;
    let db_nonce: [u8; 12] = random_array(rng).map_err(err)?;
    let slot_template =
        json!({"n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": support::hex_encode(&salt)});
    let key = scrypt_key(password, &slot_template, &Work::new())?;
    let wrapped = support::aes_gcm_seal(key.as_ref(), &slot_nonce, &[], &master);
    let (wrapped_key, slot_tag) = wrapped.split_at(32);
    let plain = serde_json::to_vec(&content(entries, groups, rng)?).expect("JSON of plain values");
    let sealed = support::aes_gcm_seal(&master, &db_nonce, &[], &plain);
    let (db, db_tag) = sealed.split_at(sealed.len() - 16);
    let doc = json!({
        "version": 1,
        "header": {
            "slots": [{
                "type": 1,
                "uuid": uuid(rng)?,
                "key": support::hex_encode(wrapped_key),
                "key_params": {"nonce": support::hex_encode(&slot_nonce), "tag": support::hex_encode(slot_tag)},
                "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": support::hex_encode(&salt),
                "repaired": true,
                "is_backup": false,
            }],
            "params": {"nonce": support::hex_encode(&db_nonce), "tag": support::hex_encode(db_tag)},
        },
        "db": support::b64_encode(db),
    });
    Ok(serde_json::to_string_pretty(&doc).expect("JSON of plain values"))
}
