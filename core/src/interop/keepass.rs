//! KeePass / KeePassXC databases (KDBX 3.1 and 4), unlocked with the database password and/or
//! a key file, read with the `keepass` crate. Before anything is derived, the outer header's
//! key-derivation parameters (AES-KDF rounds, Argon2 memory, passes and lanes) are read here
//! and checked against the import ceilings and work budget, so a hostile header fails fast.
//!
//! TOTP fields, in KeePassXC's order: the legacy `TOTP Seed` + `TOTP Settings`
//! (`step;digits` or `step;S` for Steam); `otp` (an otpauth URI or KeeOtp's
//! `key=…&size=…&step=…&otpHashMode=…`); KeePass 2.47+ `TimeOtp-Secret[-Hex|-Base32|-Base64]`
//! with `TimeOtp-Length`, `-Period`, `-Algorithm`, and HOTP `HmacOtp-Secret…` with
//! `HmacOtp-Counter`. Issuer = Title, account = UserName, group = the entry's group. Entries
//! without any TOTP field are passwords and are not listed; entries in the recycle bin are
//! skipped.

use super::support::{self, Collector, Work};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::otp::{Algorithm, OtpKind};
use crate::uri;

const SIGNATURE: [u8; 8] = [0x03, 0xD9, 0xA2, 0x9A, 0x67, 0xFB, 0x4B, 0xB5];
const AES_KDF: [u8; 16] = [
    0xC9, 0xD9, 0xF3, 0x9A, 0x62, 0x8A, 0x44, 0x60, 0xBF, 0x74, 0x0D, 0x08, 0xC1, 0x8A, 0x4F, 0xEA,
];
const AES_KDF_ROUNDS_PER_UNIT: u64 = 16;

pub fn looks_like_kdbx(bytes: &[u8]) -> bool {
    bytes.starts_with(&SIGNATURE)
}

/// What the outer header asks the key derivation to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderKdf {
    AesKdf {
        rounds: u64,
    },
    Argon2 {
        memory: u64,
        iterations: u64,
        parallelism: u64,
    },
}

fn damaged(what: &str) -> ImportError {
    ImportError::Damaged(format!("KeePass header: {what}"))
}

/// Reads the key-derivation parameters of a KDBX 3.1 or 4 outer header.
pub(crate) fn header_kdf(bytes: &[u8]) -> Result<HeaderKdf, ImportError> {
    if !looks_like_kdbx(bytes) || bytes.len() < 12 {
        return Err(damaged("not a KDBX file"));
    }
    let major = u16::from_le_bytes([bytes[10], bytes[11]]);
    let wide = match major {
        3 => false,
        4 => true,
        1 | 2 => {
            return Err(ImportError::Unsupported(
                "KeePass 1 (.kdb) databases: open and save it in KeePassXC as KDBX".into(),
            ));
        }
        n => return Err(ImportError::Unsupported(format!("KDBX version {n}"))),
    };
    let mut pos = 12usize;
    let mut kdf = None;
    loop {
        let id = *bytes.get(pos).ok_or_else(|| damaged("truncated"))?;
        // `pos` never passes the end of the file, so these sums cannot overflow.
        let (len, head) = if wide {
            let b = bytes
                .get(pos + 1..pos + 5)
                .ok_or_else(|| damaged("truncated"))?;
            let len = u32::from_le_bytes(b.try_into().expect("4 bytes"));
            (
                usize::try_from(len).map_err(|_| damaged("field length"))?,
                5,
            )
        } else {
            let b = bytes
                .get(pos + 1..pos + 3)
                .ok_or_else(|| damaged("truncated"))?;
            (usize::from(u16::from_le_bytes([b[0], b[1]])), 3)
        };
        let start = pos.checked_add(head).ok_or_else(|| damaged("truncated"))?;
        let end = start.checked_add(len).filter(|e| *e <= bytes.len());
        let data = &bytes[start..end.ok_or_else(|| damaged("truncated"))?];
        match (id, wide) {
            (0, _) => break,
            (6, false) => {
                let rounds = u64::from_le_bytes(data.try_into().map_err(|_| damaged("rounds"))?);
                kdf = Some(HeaderKdf::AesKdf { rounds });
            }
            (11, true) => kdf = Some(variant_kdf(data)?),
            _ => {}
        }
        pos = start + len;
    }
    kdf.ok_or_else(|| damaged("no key derivation parameters"))
}

/// The KDF parameters of a KDBX 4 variant dictionary.
fn variant_kdf(d: &[u8]) -> Result<HeaderKdf, ImportError> {
    let mut pos = 2usize; // version
    let (mut uuid, mut r, mut m, mut i, mut p) = (None, None, None, None, None);
    while let Some(&ty) = d.get(pos) {
        if ty == 0 {
            break;
        }
        let truncated = || damaged("KDF parameters truncated");
        let add = |a: usize, b: usize| a.checked_add(b).ok_or_else(truncated);
        let read_len = |at: usize| -> Result<usize, ImportError> {
            let b = d.get(at..add(at, 4)?).ok_or_else(truncated)?;
            usize::try_from(i32::from_le_bytes(b.try_into().expect("4 bytes")))
                .map_err(|_| damaged("negative length"))
        };
        let klen = read_len(add(pos, 1)?)?;
        let kstart = add(pos, 5)?;
        let kend = add(kstart, klen)?;
        let key = d.get(kstart..kend).ok_or_else(truncated)?;
        let vlen = read_len(kend)?;
        let vstart = add(kend, 4)?;
        let vend = add(vstart, vlen)?;
        let value = d.get(vstart..vend).ok_or_else(truncated)?;
        let num = || -> u64 {
            let mut b = [0u8; 8];
            let n = value.len().min(8);
            b[..n].copy_from_slice(&value[..n]);
            u64::from_le_bytes(b)
        };
        match key {
            b"$UUID" => uuid = Some(value.to_vec()),
            b"R" => r = Some(num()),
            b"M" => m = Some(num()),
            b"I" => i = Some(num()),
            b"P" => p = Some(num()),
            _ => {}
        }
        pos = vend;
    }
    match uuid {
        Some(u) if u == AES_KDF => Ok(HeaderKdf::AesKdf {
            rounds: r.ok_or_else(|| damaged("AES-KDF without rounds"))?,
        }),
        Some(_) => Ok(HeaderKdf::Argon2 {
            memory: m.ok_or_else(|| damaged("Argon2 without memory"))?,
            iterations: i.ok_or_else(|| damaged("Argon2 without iterations"))?,
            parallelism: p.unwrap_or(1),
        }),
        None => Err(damaged("no KDF")),
    }
}

/// Checks the header's KDF against the ceilings and charges its work.
fn check_kdf(kdf: &HeaderKdf, work: &Work) -> Result<(), ImportError> {
    let what = "KeePass database";
    match *kdf {
        HeaderKdf::AesKdf { rounds } => {
            work.charge(Some(rounds.div_ceil(AES_KDF_ROUNDS_PER_UNIT)), what)
        }
        HeaderKdf::Argon2 {
            memory,
            iterations,
            parallelism,
        } => {
            if memory > work.max_memory()
                || parallelism > support::MAX_KDF_PARALLELISM
                || iterations > support::MAX_ARGON2_PASSES
            {
                return Err(ImportError::HostileParameters(format!(
                    "{what}: Argon2 with {memory} bytes, {iterations} passes, {parallelism} lanes (at most {} MiB, {} passes, {} lanes)",
                    work.max_memory() >> 20,
                    support::MAX_ARGON2_PASSES,
                    support::MAX_KDF_PARALLELISM
                )));
            }
            work.charge(
                (memory / 1024)
                    .checked_mul(iterations)
                    .and_then(|x| x.checked_mul(2)),
                what,
            )
        }
    }
}

pub fn import(
    bytes: &[u8],
    password: Option<&[u8]>,
    key_file: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let kdf = header_kdf(bytes)?;
    if password.is_none() && key_file.is_none() {
        return Err(ImportError::PasswordRequired);
    }
    check_kdf(&kdf, work)?;
    let mut key = keepass::DatabaseKey::new();
    if let Some(p) = password {
        let p = std::str::from_utf8(p).map_err(|_| ImportError::WrongPassword)?;
        key = key.with_password(p);
    }
    if let Some(mut k) = key_file {
        key = key
            .with_keyfile(&mut k)
            .map_err(|e| ImportError::Damaged(format!("the key file cannot be read: {e}")))?;
    }
    let kdbx3 = u16::from_le_bytes([bytes[10], bytes[11]]) == 3;
    let db = keepass::Database::parse(bytes, key).map_err(|e| open_error(e, kdbx3))?;
    let recycle = db.meta.recyclebin_uuid;
    let mut out = Collector::new();
    let mut index = 0usize;
    // Depth-first over the group tree, in the database's order.
    let mut stack = vec![(db.root().id(), true)];
    while let Some((group_id, is_root)) = stack.pop() {
        let Some(group) = db.group(group_id) else {
            continue;
        };
        if Some(group_id.uuid()) == recycle {
            continue;
        }
        let group_name = if is_root {
            String::new()
        } else {
            group.name.clone()
        };
        for entry in group.entries() {
            let field = |k: &str| entry.get(k).map(str::trim).filter(|v| !v.is_empty());
            let Some(result) = totp_of(&field) else {
                continue;
            };
            let title = field("Title").unwrap_or("").to_owned();
            let user = field("UserName").unwrap_or("").to_owned();
            let result = result.map(|(kind, secret)| {
                let mut e = ImportedEntry::new(kind, secret, title.clone(), user.clone());
                if !group_name.is_empty() {
                    e.groups = vec![group_name.clone()];
                }
                e
            });
            out.item(index, title, result)?;
            index += 1;
        }
        let children: Vec<_> = group.group_ids().collect();
        for child in children.into_iter().rev() {
            stack.push((child, false));
        }
    }
    Ok(out.finish(Format::KeePass))
}

fn open_error(e: keepass::error::DatabaseOpenError, kdbx3: bool) -> ImportError {
    use keepass::error::{DatabaseKeyError, DatabaseOpenError as E};
    match e {
        E::Key(DatabaseKeyError::IncorrectKey) => ImportError::WrongPassword,
        // KDBX 3.1 has no header MAC: a wrong key shows as bad CBC padding.
        E::Cryptography(_) if kdbx3 => ImportError::WrongPassword,
        E::Key(DatabaseKeyError::EmptyKey) => ImportError::PasswordRequired,
        E::Key(other) => ImportError::Damaged(format!("the key file cannot be used: {other}")),
        E::UnsupportedVersion => ImportError::Unsupported("this KeePass database version".into()),
        other => ImportError::Damaged(format!("KeePass database: {other}")),
    }
}

type Totp = Result<(OtpKind, crate::secret::Secret), String>;

/// The entry's one-time password, if it has one.
fn totp_of<'a>(field: &dyn Fn(&str) -> Option<&'a str>) -> Option<Totp> {
    if let Some(seed) = field("TOTP Seed") {
        return Some(legacy(seed, field("TOTP Settings").unwrap_or("")));
    }
    if let Some(otp) = field("otp") {
        return Some(otp_field(otp));
    }
    for (prefix, hotp) in [("TimeOtp", false), ("HmacOtp", true)] {
        if let Some(secret) = keepass_secret(field, prefix) {
            return Some(secret.and_then(|secret| {
                let kind = if hotp {
                    OtpKind::Hotp {
                        algorithm: Algorithm::Sha1,
                        digits: 6,
                        counter: parse_num(field("HmacOtp-Counter"), 0)?,
                    }
                } else {
                    let algorithm = match field("TimeOtp-Algorithm").unwrap_or("HMAC-SHA-1") {
                        "HMAC-SHA-1" => Algorithm::Sha1,
                        "HMAC-SHA-256" => Algorithm::Sha256,
                        "HMAC-SHA-512" => Algorithm::Sha512,
                        other => return Err(format!("unsupported algorithm '{other}'")),
                    };
                    OtpKind::Totp {
                        algorithm,
                        digits: support::digits(Some(parse_num(field("TimeOtp-Length"), 6)?))?,
                        period: support::period(Some(parse_num(field("TimeOtp-Period"), 30)?))?,
                    }
                };
                Ok((kind, secret))
            }));
        }
    }
    None
}

fn parse_num(v: Option<&str>, default: u64) -> Result<u64, String> {
    match v {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| format!("'{s}' is not a number")),
    }
}

/// KeePass 2.47+: `<prefix>-Secret` (UTF-8), `-Secret-Hex`, `-Secret-Base32`, `-Secret-Base64`.
fn keepass_secret<'a>(
    field: &dyn Fn(&str) -> Option<&'a str>,
    prefix: &str,
) -> Option<Result<crate::secret::Secret, String>> {
    if let Some(s) = field(&format!("{prefix}-Secret")) {
        return Some(support::secret_bytes(s.as_bytes().to_vec()));
    }
    if let Some(s) = field(&format!("{prefix}-Secret-Hex")) {
        let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        return Some(
            support::hex(&cleaned.to_ascii_lowercase())
                .map_err(|_| "the secret is not hex".to_owned())
                .and_then(support::secret_bytes),
        );
    }
    if let Some(s) = field(&format!("{prefix}-Secret-Base32")) {
        return Some(support::secret_b32_lenient(s));
    }
    if let Some(s) = field(&format!("{prefix}-Secret-Base64")) {
        return Some(
            support::b64(s)
                .map_err(|_| "the secret is not base64".to_owned())
                .and_then(support::secret_bytes),
        );
    }
    None
}

/// KeePassXC's legacy `TOTP Seed` + `TOTP Settings` (`step;digits` or `step;S`).
fn legacy(seed: &str, settings: &str) -> Totp {
    let secret = support::secret_b32_lenient(seed)?;
    let parts: Vec<&str> = settings.split(';').map(str::trim).collect();
    if parts.len() < 2 {
        return Ok((OtpKind::DEFAULT_TOTP, secret));
    }
    if parts[1].eq_ignore_ascii_case("S") {
        return Ok((OtpKind::Steam, secret));
    }
    let period = parts[0]
        .parse()
        .map_err(|_| "bad TOTP Settings".to_owned())?;
    let digits = parts[1]
        .parse()
        .map_err(|_| "bad TOTP Settings".to_owned())?;
    Ok((
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: support::digits(Some(digits))?,
            period: support::period(Some(period))?,
        },
        secret,
    ))
}

/// The `otp` field: an otpauth URI (with KeePassXC's `encoder=steam`) or KeeOtp's
/// `key=…&size=…&step=…&otpHashMode=…`.
fn otp_field(v: &str) -> Totp {
    if v.to_ascii_lowercase().starts_with("otpauth://") {
        let steam = v.contains("encoder=steam");
        let c = uri::parse(v).map_err(|e| e.to_string())?;
        let kind = if steam { OtpKind::Steam } else { c.kind };
        return Ok((kind, c.secret));
    }
    let mut key = None;
    let (mut size, mut step, mut mode) = (None, None, "SHA1".to_owned());
    for pair in v.split('&') {
        let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
        let val = uri::percent_decode(val).unwrap_or_else(|| val.to_owned());
        match k.trim() {
            "key" => key = Some(val),
            "size" => size = Some(val.parse().map_err(|_| "bad size".to_owned())?),
            "step" => step = Some(val.parse().map_err(|_| "bad step".to_owned())?),
            "otpHashMode" => mode = val,
            _ => {}
        }
    }
    let secret = support::secret_b32_lenient(&key.ok_or("the otp field has no secret")?)?;
    Ok((
        OtpKind::Totp {
            algorithm: support::algorithm(&mode)?,
            digits: support::digits(size)?,
            period: support::period(step)?,
        },
        secret,
    ))
}
