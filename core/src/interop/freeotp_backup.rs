//! The original FreeOTP app.
//!
//! **v1** (≤ 1.5): the preferences file `tokens.xml`: every `<string>` but `tokenOrder` is a
//! token's JSON (`type`, `algo`, `digits`, `period`, `counter`, `secret` as signed bytes,
//! `issuerExt`, `label`, optional user renames `issuerAlt`/`labelAlt`). HOTP counters are
//! imported as stored: FreeOTP generated from the stored value before incrementing it.
//!
//! **v2** backup (`externalBackup.xml`, binary): a Java-serialised `HashMap<String,String>`.
//! `masterKey` holds `{"mAlgorithm", "mIterations", "mSalt", "mEncryptedKey"}`: the password
//! key is PBKDF2-HMAC-SHA512 (or SHA1) and unwraps a 32-byte AES key with AES-256-GCM (AAD =
//! `mToken`). Each `<uuid>` holds `{"key": "<EncryptedKey JSON>"}` whose plaintext is the raw
//! secret; `<uuid>-token` holds the token JSON without the secret. Gson drops nulls, so
//! `algo`, `digits`, `period` and `issuerExt` may be missing (defaults SHA1/6/30/none).
//!
//! The Java stream is read by a small reader of exactly that one shape (one HashMap of
//! strings, at most [`MAX_MAP_ENTRIES`] pairs, no nested objects): a hostile graph is refused,
//! never walked.

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::OtpKind;

/// Most key/value pairs the backup's map may hold (two per token plus the master key).
pub const MAX_MAP_ENTRIES: usize = 2 * super::MAX_IMPORT_ENTRIES + 1;

const STREAM_MAGIC: &[u8] = &[0xAC, 0xED, 0x00, 0x05];

pub fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(STREAM_MAGIC)
}

pub fn import(
    bytes: &[u8],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    if looks_like(bytes) {
        return import_v2(&read_string_map(bytes)?, password, work);
    }
    import_v1(support::text(bytes)?)
}

fn import_v1(text: &str) -> Result<ImportReport, ImportError> {
    let prefs = container::prefs(text)?;
    let order: Vec<String> = container::pref(&prefs, "tokenOrder")
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    let mut tokens: Vec<&container::Pref> =
        prefs.iter().filter(|p| p.name != "tokenOrder").collect();
    // The user's order where the file has one; tokens missing from it keep their place after.
    tokens.sort_by_key(|p| {
        order
            .iter()
            .position(|o| *o == p.name)
            .unwrap_or(usize::MAX)
    });
    let mut out = Collector::new();
    for (index, p) in tokens.iter().enumerate() {
        let result = serde_json::from_str::<Value>(&p.value)
            .map_err(|_| "the token is not valid JSON".to_owned())
            .and_then(|t| {
                let secret = signed_bytes(t.get("secret"))?;
                token(&t, secret)
            });
        out.item(index, p.name.clone(), result)?;
    }
    Ok(out.finish(Format::FreeOtp))
}

/// A list of signed (or unsigned) byte values.
fn signed_bytes(v: Option<&Value>) -> Result<Vec<u8>, String> {
    v.and_then(Value::as_array)
        .ok_or("no secret")?
        .iter()
        .map(|b| {
            b.as_i64()
                .filter(|v| (-128..=255).contains(v))
                .map(|v| v as u8)
                .ok_or_else(|| "not a list of bytes".to_owned())
        })
        .collect()
}

fn token(t: &Value, secret: Vec<u8>) -> Result<ImportedEntry, String> {
    let secret = support::secret_bytes(secret)?;
    let issuer = match str_field(t, "issuerAlt") {
        "" => match str_field(t, "issuerExt") {
            "" => str_field(t, "issuerInt"),
            i => i,
        },
        i => i,
    };
    let account = match str_field(t, "labelAlt") {
        "" => str_field(t, "label"),
        l => l,
    };
    let type_name = match str_field(t, "type") {
        "" => "TOTP",
        n => n,
    };
    let kind = if type_name.eq_ignore_ascii_case("totp") && issuer.eq_ignore_ascii_case("steam") {
        OtpKind::Steam
    } else {
        support::kind(
            type_name,
            str_field(t, "algo"),
            uint_field(t, "digits"),
            uint_field(t, "period"),
            uint_field(t, "counter"),
        )?
    };
    Ok(ImportedEntry::new(
        kind,
        secret,
        issuer.to_owned(),
        account.to_owned(),
    ))
}

fn import_v2(
    map: &[(String, String)],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let get = |k: &str| {
        map.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let master = get("masterKey")
        .ok_or_else(|| ImportError::Damaged("the backup has no masterKey".into()))?;
    let master = support::json(master)?;
    let password = password.ok_or(ImportError::PasswordRequired)?;
    let prf = match str_field(&master, "mAlgorithm") {
        "PBKDF2withHmacSHA512" => Prf::Sha512,
        "PBKDF2withHmacSHA1" => Prf::Sha1,
        "PBKDF2withHmacSHA256" => Prf::Sha256,
        other => {
            return Err(ImportError::Unsupported(format!(
                "FreeOTP key derivation '{}'",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    let salt = signed_bytes(master.get("mSalt"))
        .map_err(|e| ImportError::Damaged(format!("mSalt: {e}")))?;
    if salt.len() != 32 {
        return Err(ImportError::Unsupported(format!(
            "FreeOTP master keys of {} bytes (only AES-256)",
            salt.len()
        )));
    }
    let iterations = uint_field(&master, "mIterations")
        .ok_or_else(|| ImportError::Damaged("no mIterations".into()))?;
    let key = work.pbkdf2_32(prf, password, &salt, iterations, "FreeOTP backup")?;
    let wrapped = master.get("mEncryptedKey").unwrap_or(&Value::Null);
    let master_key = match open_encrypted_key(key.as_ref(), wrapped) {
        Ok(k) if k.len() == 32 => k,
        Ok(_) => {
            return Err(ImportError::Damaged(
                "the master key is not 32 bytes".into(),
            ));
        }
        Err(Open::Wrong) => return Err(ImportError::WrongPassword),
        Err(Open::Malformed(m)) => return Err(ImportError::Damaged(format!("mEncryptedKey: {m}"))),
    };
    let mut out = Collector::new();
    let tokens = map
        .iter()
        .filter_map(|(k, v)| k.strip_suffix("-token").map(|uuid| (uuid, v)));
    for (index, (uuid, token_json)) in tokens.enumerate() {
        let result = (|| {
            let t: Value = serde_json::from_str(token_json)
                .map_err(|_| "the token is not valid JSON".to_owned())?;
            let holder: Value = serde_json::from_str(get(uuid).ok_or("its secret is missing")?)
                .map_err(|_| "its secret is not valid JSON".to_owned())?;
            let encrypted: Value = serde_json::from_str(str_field(&holder, "key"))
                .map_err(|_| "its secret is not valid JSON".to_owned())?;
            let secret = open_encrypted_key(&master_key, &encrypted).map_err(|e| match e {
                Open::Wrong => "its secret does not decrypt".to_owned(),
                Open::Malformed(m) => format!("its secret: {m}"),
            })?;
            token(&t, secret.to_vec())
        })();
        let label = serde_json::from_str::<Value>(token_json)
            .map(|t| format!("{}:{}", str_field(&t, "issuerExt"), str_field(&t, "label")))
            .unwrap_or_else(|_| uuid.to_owned());
        out.item(index, label, result)?;
    }
    Ok(out.finish(Format::FreeOtp))
}

enum Open {
    Wrong,
    Malformed(String),
}

/// An `EncryptedKey`: AES-256-GCM with AAD = `mToken`, nonce from the DER `mParameters`.
fn open_encrypted_key(key: &[u8], k: &Value) -> Result<zeroize::Zeroizing<Vec<u8>>, Open> {
    let cipher = str_field(k, "mCipher");
    if cipher != "AES/GCM/NoPadding" {
        return Err(Open::Malformed(format!(
            "cipher '{}' is not supported",
            cipher.chars().take(32).collect::<String>()
        )));
    }
    let ct = signed_bytes(k.get("mCipherText")).map_err(Open::Malformed)?;
    let params = signed_bytes(k.get("mParameters")).map_err(Open::Malformed)?;
    let nonce = der_first_octet_string(&params)
        .ok_or_else(|| Open::Malformed("bad GCM parameters".into()))?;
    if nonce.len() != 12 || ct.len() < 16 {
        return Err(Open::Malformed("bad GCM parameters".into()));
    }
    support::aes_gcm_open(key, nonce, str_field(k, "mToken").as_bytes(), &ct).ok_or(Open::Wrong)
}

/// The first OCTET STRING of `SEQUENCE { OCTET STRING, INTEGER }` or a bare OCTET STRING.
fn der_first_octet_string(der: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = der_item(der)?;
    match tag {
        0x04 => Some(body),
        0x30 => {
            let (inner_tag, inner, _) = der_item(body)?;
            (inner_tag == 0x04).then_some(inner)
        }
        _ => None,
    }
}

/// One DER item: (tag, contents, rest). Short and one- or two-byte long lengths.
fn der_item(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = match len0 {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => (usize::from(*rest.first()?), &rest[1..]),
        0x82 => (
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            rest.get(2..)?,
        ),
        _ => return None,
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

// ---------------------------------------------------------------------------------------------
// The one Java serialisation shape FreeOTP writes.

struct Stream<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Strings by handle (index = handle − 0x7E0000); `None` for the class and the map.
    handles: Vec<Option<String>>,
}

fn java_damaged(what: &str) -> ImportError {
    ImportError::Damaged(format!("not a FreeOTP backup ({what})"))
}

impl<'a> Stream<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ImportError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| java_damaged("truncated"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ImportError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ImportError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, ImportError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn expect(&mut self, want: &[u8], what: &str) -> Result<(), ImportError> {
        if self.take(want.len())? == want {
            Ok(())
        } else {
            Err(java_damaged(what))
        }
    }
    /// A `u16`-prefixed modified UTF-8 string (class and field names).
    fn utf(&mut self) -> Result<String, ImportError> {
        let n = usize::from(self.u16()?);
        modified_utf8(self.take(n)?)
    }
    /// A string object: new (`74` short, `7C` long) or a back-reference (`71`).
    fn string(&mut self) -> Result<String, ImportError> {
        let s = match self.u8()? {
            0x74 => {
                let n = usize::from(self.u16()?);
                modified_utf8(self.take(n)?)?
            }
            0x7C => {
                let b = self.take(8)?;
                let n = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                let n = usize::try_from(n).map_err(|_| java_damaged("string length"))?;
                modified_utf8(self.take(n)?)?
            }
            0x71 => {
                let handle = self.u32()?;
                let index = handle
                    .checked_sub(0x7E_0000)
                    .ok_or_else(|| java_damaged("bad reference"))?
                    as usize;
                return self
                    .handles
                    .get(index)
                    .cloned()
                    .flatten()
                    .ok_or_else(|| java_damaged("bad reference"));
            }
            _ => {
                return Err(ImportError::Unsupported(
                    "FreeOTP backups whose map holds something other than strings".into(),
                ));
            }
        };
        self.handles.push(Some(s.clone()));
        Ok(s)
    }
}

/// Java's modified UTF-8: UTF-8 with NUL as `C0 80` and supplementary characters as two
/// three-byte surrogates.
fn modified_utf8(b: &[u8]) -> Result<String, ImportError> {
    if let Ok(s) = std::str::from_utf8(b) {
        return Ok(s.to_owned());
    }
    let mut units: Vec<u16> = Vec::with_capacity(b.len());
    let mut i = 0;
    let bad = || java_damaged("bad modified UTF-8");
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            units.push(u16::from(c));
            i += 1;
        } else if c & 0xE0 == 0xC0 {
            let c2 = *b.get(i + 1).ok_or_else(bad)?;
            units.push((u16::from(c & 0x1F) << 6) | u16::from(c2 & 0x3F));
            i += 2;
        } else if c & 0xF0 == 0xE0 {
            let (c2, c3) = (
                *b.get(i + 1).ok_or_else(bad)?,
                *b.get(i + 2).ok_or_else(bad)?,
            );
            units.push(
                (u16::from(c & 0x0F) << 12) | (u16::from(c2 & 0x3F) << 6) | u16::from(c3 & 0x3F),
            );
            i += 3;
        } else {
            return Err(bad());
        }
    }
    String::from_utf16(&units).map_err(|_| bad())
}

/// Reads `java.util.HashMap<String,String>` as FreeOTP's backup writes it.
pub(crate) fn read_string_map(bytes: &[u8]) -> Result<Vec<(String, String)>, ImportError> {
    let mut s = Stream {
        bytes,
        pos: 0,
        handles: Vec::new(),
    };
    s.expect(STREAM_MAGIC, "stream header")?;
    s.expect(&[0x73, 0x72], "not an object")?;
    if s.utf()? != "java.util.HashMap" {
        return Err(ImportError::Unsupported(
            "Java-serialised files other than FreeOTP's HashMap backup".into(),
        ));
    }
    s.take(8)?; // serialVersionUID
    let _flags = s.u8()?;
    let fields = s.u16()?;
    if fields > 8 {
        return Err(java_damaged("too many fields"));
    }
    let mut layout = Vec::new();
    for _ in 0..fields {
        let code = s.u8()?;
        let name = s.utf()?;
        if code == b'L' || code == b'[' {
            return Err(java_damaged("unexpected object field"));
        }
        layout.push((code, name));
    }
    s.handles.push(None); // the class description
    s.expect(&[0x78, 0x70], "class description end")?;
    s.handles.push(None); // the map itself
    for (code, _) in &layout {
        let size = match code {
            b'F' | b'I' => 4,
            b'B' | b'Z' => 1,
            b'C' | b'S' => 2,
            b'J' | b'D' => 8,
            _ => return Err(java_damaged("unknown field type")),
        };
        s.take(size)?;
    }
    s.expect(&[0x77, 0x08], "map block")?;
    let _capacity = s.u32()?;
    let size = s.u32()? as usize;
    if size > MAX_MAP_ENTRIES {
        return Err(ImportError::HostileParameters(format!(
            "a Java map of {size} entries (at most {MAX_MAP_ENTRIES})"
        )));
    }
    // Each pair needs at least 6 bytes: never reserve more than the file can hold.
    let mut out = Vec::with_capacity(size.min(bytes.len() / 6));
    for _ in 0..size {
        let k = s.string()?;
        let v = s.string()?;
        out.push((k, v));
    }
    s.expect(&[0x78], "map end")?;
    Ok(out)
}

/// Writes a map in the same shape (fixtures and round trips).
pub(crate) fn write_string_map(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = STREAM_MAGIC.to_vec();
    out.extend_from_slice(&[0x73, 0x72]);
    let name = b"java.util.HashMap";
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&[
        0x05, 0x07, 0xDA, 0xC1, 0xC3, 0x16, 0x60, 0xD1, 0x03, 0x00, 0x02,
    ]);
    for (code, field) in [(b'F', "loadFactor"), (b'I', "threshold")] {
        out.push(code);
        out.extend_from_slice(&(field.len() as u16).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(&[0x78, 0x70]);
    out.extend_from_slice(&0.75f32.to_be_bytes());
    let capacity = (pairs.len() * 2).next_power_of_two().max(16) as u32;
    out.extend_from_slice(&((capacity as f32 * 0.75) as u32).to_be_bytes());
    out.extend_from_slice(&[0x77, 0x08]);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
    for (k, v) in pairs {
        for s in [k, v] {
            out.push(0x74);
            out.extend_from_slice(&(s.len() as u16).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out.push(0x78);
    out
}
