//! Authenticator Pro / Stratum backups.
//!
//! Plain: `{"Authenticators":[…],"Categories":[{Id,Name}],"AuthenticatorCategories":
//! [{CategoryId,AuthenticatorSecret}]}`; `Type` 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex;
//! `Algorithm` 0 SHA1, 1 SHA256, 2 SHA512. Encrypted (app ≥ 1.19): `AUTHENTICATORPRO` ‖ salt 16
//! ‖ IV 12 ‖ AES-256-GCM ciphertext ‖ tag, key = Argon2id(password, salt, t 3, m 64 MiB, p 4).
//! Legacy encrypted: `AuthenticatorPro` ‖ salt 20 ‖ IV 16 ‖ AES-256-CBC/PKCS#7, key =
//! PBKDF2-HMAC-SHA1(password, salt, 64 000). The app's own database (`authenticator.db3`,
//! table `authenticator`) holds the same fields. mOTP and Yandex entries are reported by name:
//! Twofold has no engine for them.

use serde_json::Value;

use super::support::{self, Collector, Prf, Work, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::{Algorithm, OtpKind};

pub(crate) const STRONG_HEADER: &[u8; 16] = b"AUTHENTICATORPRO";
pub(crate) const LEGACY_HEADER: &[u8; 16] = b"AuthenticatorPro";
pub(crate) const ARGON2_M_KIB: u64 = 64 * 1024;
pub(crate) const ARGON2_T: u64 = 3;
pub(crate) const ARGON2_P: u64 = 4;
pub(crate) const LEGACY_ITERATIONS: u64 = 64_000;

pub(crate) fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(STRONG_HEADER) || bytes.starts_with(LEGACY_HEADER)
}

pub(crate) fn import(
    bytes: &[u8],
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    if let Some(body) = bytes.strip_prefix(STRONG_HEADER.as_slice()) {
        if body.len() < 16 + 12 + 16 {
            return Err(ImportError::Damaged(
                "too short for an encrypted backup".into(),
            ));
        }
        let password = password.ok_or(ImportError::PasswordRequired)?;
        let (salt, rest) = body.split_at(16);
        let (iv, ct) = rest.split_at(12);
        let key = work.argon2id(
            password,
            salt,
            ARGON2_M_KIB,
            ARGON2_T,
            ARGON2_P,
            "Authenticator Pro backup",
        )?;
        let plain =
            support::aes_gcm_open(key.as_ref(), iv, &[], ct).ok_or(ImportError::WrongPassword)?;
        return import_plain(support::text(&plain)?);
    }
    if let Some(body) = bytes.strip_prefix(LEGACY_HEADER.as_slice()) {
        if body.len() < 20 + 16 + 16 {
            return Err(ImportError::Damaged(
                "too short for an encrypted backup".into(),
            ));
        }
        let password = password.ok_or(ImportError::PasswordRequired)?;
        let (salt, rest) = body.split_at(20);
        let (iv, ct) = rest.split_at(16);
        let key = work.pbkdf2_32(
            Prf::Sha1,
            password,
            salt,
            LEGACY_ITERATIONS,
            "Authenticator Pro legacy backup",
        )?;
        let iv: [u8; 16] = iv.try_into().expect("16 bytes");
        let plain = support::aes_cbc_open(&key, &iv, ct).ok_or(ImportError::WrongPassword)?;
        // Without a MAC, a wrong key shows as bad padding or as bytes that are not JSON.
        let text = std::str::from_utf8(&plain).map_err(|_| ImportError::WrongPassword)?;
        if serde_json::from_str::<Value>(text).is_err() {
            return Err(ImportError::WrongPassword);
        }
        return import_plain(text);
    }
    import_plain(support::text(bytes)?)
}

pub(crate) fn import_plain(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    if doc.get("Authenticators").is_none() {
        return Err(ImportError::Damaged(
            "not an Authenticator Pro backup (no Authenticators)".into(),
        ));
    }
    let categories: Vec<(String, String)> = array(&doc, "Categories")?
        .iter()
        .map(|c| {
            (
                str_field(c, "Id").to_owned(),
                str_field(c, "Name").to_owned(),
            )
        })
        .collect();
    let links: Vec<(String, String)> = array(&doc, "AuthenticatorCategories")?
        .iter()
        .map(|l| {
            (
                str_field(l, "AuthenticatorSecret").to_owned(),
                str_field(l, "CategoryId").to_owned(),
            )
        })
        .collect();
    let mut out = Collector::new();
    for (index, a) in array(&doc, "Authenticators")?.iter().enumerate() {
        let fields = Fields {
            type_id: uint_field(a, "Type"),
            issuer: str_field(a, "Issuer").to_owned(),
            username: str_field(a, "Username").to_owned(),
            secret: str_field(a, "Secret").to_owned(),
            algorithm: uint_field(a, "Algorithm"),
            digits: uint_field(a, "Digits"),
            period: uint_field(a, "Period"),
            counter: uint_field(a, "Counter"),
        };
        let label = format!("{}:{}", fields.issuer, fields.username);
        let result = fields.entry().map(|mut e| {
            e.groups = links
                .iter()
                .filter(|(s, _)| *s == fields.secret)
                .filter_map(|(_, id)| categories.iter().find(|(c, _)| c == id))
                .map(|(_, n)| n.clone())
                .collect();
            e
        });
        out.item(index, label, result)?;
    }
    Ok(out.finish(Format::Stratum))
}

/// One authenticator's fields, as the backup and the database both hold them.
struct Fields {
    type_id: Option<u64>,
    issuer: String,
    username: String,
    secret: String,
    algorithm: Option<u64>,
    digits: Option<u64>,
    period: Option<u64>,
    counter: Option<u64>,
}

impl Fields {
    fn entry(&self) -> Result<ImportedEntry, String> {
        let algorithm = match self.algorithm.unwrap_or(0) {
            0 => Algorithm::Sha1,
            1 => Algorithm::Sha256,
            2 => Algorithm::Sha512,
            n => return Err(format!("unknown algorithm {n}")),
        };
        let kind = match self.type_id {
            Some(1) => OtpKind::Hotp {
                algorithm,
                digits: support::digits(self.digits)?,
                counter: self.counter.unwrap_or(0),
            },
            Some(2) => OtpKind::Totp {
                algorithm,
                digits: support::digits(self.digits)?,
                period: support::period(self.period)?,
            },
            Some(3) => return Err(support::unsupported_kind("mOTP (Mobile-OTP)")),
            Some(4) => OtpKind::Steam,
            Some(5) => return Err(support::unsupported_kind("Yandex")),
            Some(n) => return Err(format!("unknown authenticator type {n}")),
            None => return Err("no authenticator type".into()),
        };
        let secret = support::secret_b32_lenient(&self.secret)?;
        Ok(ImportedEntry::new(
            kind,
            secret,
            self.issuer.clone(),
            self.username.clone(),
        ))
    }
}

/// The app's internal database (`authenticator.db3`). Encrypted databases (an app password is
/// set) are SQLCipher and are refused with a hint.
pub fn import_db(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    if !container::is_sqlite(bytes) {
        return Err(ImportError::Unsupported(
            "this Authenticator Pro database is encrypted (SQLCipher, an app password is set): \
             make a backup from the app instead"
                .into(),
        ));
    }
    let db = container::Db::open(bytes)?;
    let rows = db.rows(
        "authenticator",
        &[
            "type",
            "issuer",
            "username",
            "secret",
            "algorithm",
            "digits",
            "period",
            "counter",
        ],
    )?;
    let mut out = Collector::new();
    for (index, r) in rows.iter().enumerate() {
        let uint = |i: usize| r[i].int().and_then(|n| u64::try_from(n).ok());
        let fields = Fields {
            type_id: uint(0),
            issuer: r[1].text(),
            username: r[2].text(),
            secret: r[3].text(),
            algorithm: uint(4),
            digits: uint(5),
            period: uint(6),
            counter: uint(7),
        };
        let label = format!("{}:{}", fields.issuer, fields.username);
        out.item(index, label, fields.entry())?;
    }
    Ok(out.finish(Format::StratumDb))
}

/// An encrypted backup in the current layout (fixtures, benchmarks, round trips).
pub fn seal(
    plain_json: &[u8],
    password: &[u8],
    salt: [u8; 16],
    iv: [u8; 12],
) -> Result<Vec<u8>, ImportError> {
    let key = Work::new().argon2id(password, &salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P, "seal")?;
    let mut out = STRONG_HEADER.to_vec();
    out.extend_from_slice(&salt);
    out.extend_from_slice(&iv);
    out.extend(support::aes_gcm_seal(key.as_ref(), &iv, &[], plain_json));
    Ok(out)
}
