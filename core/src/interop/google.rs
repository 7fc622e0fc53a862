//! Google Authenticator's `otpauth-migration://offline?data=…` (base64 of a protobuf
//! `MigrationPayload`). Large exports are split over several QR codes sharing a `batch_id`;
//! they are combined here and missing parts are reported. Export writes such batches for what
//! the format can hold (SHA1, 6-digit, 30-second TOTP and SHA1 6-digit HOTP).

use std::collections::BTreeMap;

use prost::Message;
use zeroize::Zeroize;

use super::cxf::Skipped;
use super::support::Collector;
use super::{Format, ImportError, ImportReport, ImportedEntry, ItemError};
use crate::otp::{Algorithm, OtpKind};
use crate::secret::Secret;
use crate::vault::Entry;

/// Accounts per QR code when exporting (what Google's app uses; keeps codes scannable).
pub const ACCOUNTS_PER_QR: usize = 10;
const MAX_DATA_CHARS: usize = 64 * 1024;
const MAX_BATCH_SIZE: i32 = 1000;
const MAX_PARAMETERS: usize = 1000;

/// The protobuf message inside one `otpauth-migration://` URI.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MigrationPayload {
    /// The accounts in this code.
    #[prost(message, repeated, tag = "1")]
    pub otp_parameters: Vec<OtpParameters>,
    /// Format version (1 in the exports we have seen).
    #[prost(int32, tag = "2")]
    pub version: i32,
    /// How many codes the export has.
    #[prost(int32, tag = "3")]
    pub batch_size: i32,
    /// This code's 0-based position in the export.
    #[prost(int32, tag = "4")]
    pub batch_index: i32,
    /// Identifies the export the code belongs to (shared by all its codes).
    #[prost(int32, tag = "5")]
    pub batch_id: i32,
}

/// One account in a migration payload.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OtpParameters {
    /// The raw key bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub secret: Vec<u8>,
    /// The label: account name, possibly `Issuer:account`.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Service name; may be empty.
    #[prost(string, tag = "3")]
    pub issuer: String,
    /// 0 unspecified (SHA1), 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5 (refused).
    #[prost(int32, tag = "4")]
    pub algorithm: i32,
    /// 0 unspecified (6), 1 six digits, 2 eight digits.
    #[prost(int32, tag = "5")]
    pub digits: i32,
    /// 0 unspecified (TOTP), 1 HOTP, 2 TOTP.
    #[prost(int32, tag = "6")]
    pub r#type: i32,
    /// HOTP counter; 0 for TOTP.
    #[prost(int64, tag = "7")]
    pub counter: i64,
}

/// One decoded migration URI.
#[derive(Debug, Clone)]
pub struct MigrationPart {
    /// Identifies the export the code belongs to.
    pub batch_id: i32,
    /// 0-based.
    pub batch_index: usize,
    /// How many codes the export has.
    pub batch_size: usize,
    /// One result per account in this code.
    pub accounts: Vec<Result<ImportedEntry, String>>,
}

/// Decodes one `otpauth-migration://` URI.
pub fn decode_uri(uri: &str) -> Result<MigrationPart, String> {
    let uri = uri.trim();
    let rest = uri
        .strip_prefix("otpauth-migration://")
        .ok_or("not an otpauth-migration:// URI")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| q)
        .ok_or("no data parameter")?;
    let data = query
        .split('&')
        .find_map(|p| p.strip_prefix("data="))
        .ok_or("no data parameter")?;
    if data.len() > MAX_DATA_CHARS {
        return Err("the data parameter is too long".into());
    }
    // Percent-decode only: a '+' here is base64, not a space.
    let decoded =
        crate::uri::percent_decode_with(data, false).ok_or("malformed percent-encoding in data")?;
    let mut raw = decode_base64(&decoded).ok_or("data is not valid base64")?;
    let mut payload =
        MigrationPayload::decode(raw.as_slice()).map_err(|_| "data is not a migration payload")?;
    raw.zeroize();
    if payload.otp_parameters.len() > MAX_PARAMETERS {
        return Err("too many accounts in one code".into());
    }
    let size = payload.batch_size.max(1);
    if size > MAX_BATCH_SIZE || payload.batch_index < 0 || payload.batch_index >= size {
        return Err(format!(
            "implausible batch position {} of {}",
            payload.batch_index, payload.batch_size
        ));
    }
    let accounts = payload.otp_parameters.iter_mut().map(account).collect();
    Ok(MigrationPart {
        batch_id: payload.batch_id,
        batch_index: payload.batch_index as usize,
        batch_size: size as usize,
        accounts,
    })
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = s.trim();
    [STANDARD, URL_SAFE]
        .iter()
        .find_map(|e| e.decode(s).ok())
        .or_else(|| {
            let t = s.trim_end_matches('=');
            [STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(t).ok())
        })
}

fn account(p: &mut OtpParameters) -> Result<ImportedEntry, String> {
    let secret_bytes = std::mem::take(&mut p.secret);
    let secret = Secret::from_bytes(secret_bytes).map_err(|e| format!("secret: {e}"))?;
    let algorithm = match p.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err("MD5 accounts are not supported".into()),
        n => return Err(format!("unknown algorithm {n}")),
    };
    let digits = match p.digits {
        0 | 1 => 6,
        2 => 8,
        n => return Err(format!("unknown digit count {n}")),
    };
    let kind = match p.r#type {
        1 => OtpKind::Hotp {
            algorithm,
            digits,
            counter: u64::try_from(p.counter).map_err(|_| "negative HOTP counter")?,
        },
        0 | 2 => OtpKind::Totp {
            algorithm,
            digits,
            period: 30,
        },
        n => return Err(format!("unknown OTP type {n}")),
    };
    let (mut issuer, mut account) = (p.issuer.trim().to_owned(), p.name.trim().to_owned());
    if let Some((prefix, rest)) = account.clone().split_once(':')
        && (issuer.is_empty() || issuer == prefix.trim())
    {
        issuer = prefix.trim().to_owned();
        account = rest.trim().to_owned();
    }
    Ok(ImportedEntry::new(kind, secret, issuer, account))
}

/// Accumulates parts of multi-QR exports (batches) until every part is there.
#[derive(Debug, Default, Clone)]
pub struct BatchCollector {
    batches: BTreeMap<i32, Batch>,
    /// Batch ids in the order they were first seen (accounts keep the order of the codes).
    order: Vec<i32>,
}

#[derive(Debug, Clone)]
struct Batch {
    size: usize,
    parts: BTreeMap<usize, Vec<Result<ImportedEntry, String>>>,
}

/// Where a batch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchProgress {
    /// The export this is about.
    pub batch_id: i32,
    /// Codes of it scanned so far.
    pub scanned: usize,
    /// Codes it has in all.
    pub total: usize,
    /// 0-based indexes not scanned yet.
    pub missing: Vec<usize>,
}

impl BatchProgress {
    /// Whether every code of the export has been scanned.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// "2 of 3 codes scanned (missing: 3)" — 1-based for people.
    pub fn describe(&self) -> String {
        if self.is_complete() {
            format!("complete: {} of {} codes scanned", self.total, self.total)
        } else {
            let missing: Vec<String> = self.missing.iter().map(|i| (i + 1).to_string()).collect();
            format!(
                "{} of {} codes scanned (missing: {})",
                self.scanned,
                self.total,
                missing.join(", ")
            )
        }
    }
}

impl BatchCollector {
    /// A collector with no batches yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a part (a repeated scan of the same code is harmless) and reports progress.
    pub fn add(&mut self, part: MigrationPart) -> Result<BatchProgress, String> {
        if !self.batches.contains_key(&part.batch_id) {
            self.order.push(part.batch_id);
        }
        let batch = self.batches.entry(part.batch_id).or_insert_with(|| Batch {
            size: part.batch_size,
            parts: BTreeMap::new(),
        });
        if batch.size != part.batch_size {
            return Err(format!(
                "this code says the export has {} codes, earlier ones said {}",
                part.batch_size, batch.size
            ));
        }
        batch.parts.entry(part.batch_index).or_insert(part.accounts);
        Ok(self.progress(part.batch_id).expect("just added"))
    }

    /// Where batch `batch_id` stands; `None` when no code of it was added.
    pub fn progress(&self, batch_id: i32) -> Option<BatchProgress> {
        let b = self.batches.get(&batch_id)?;
        Some(BatchProgress {
            batch_id,
            scanned: b.parts.len(),
            total: b.size,
            missing: (0..b.size).filter(|i| !b.parts.contains_key(i)).collect(),
        })
    }

    /// Takes a batch's accounts out, in code order.
    pub fn take(&mut self, batch_id: i32) -> Vec<Result<ImportedEntry, String>> {
        self.order.retain(|id| *id != batch_id);
        self.batches
            .remove(&batch_id)
            .map(|b| b.parts.into_values().flatten().collect())
            .unwrap_or_default()
    }

    /// Unfinished and finished batches, in the order first seen.
    pub fn batch_ids(&self) -> Vec<i32> {
        self.order.clone()
    }
}

/// Imports a text of migration URIs (one per line; comments with `#`).
pub fn import_text(text: &str) -> Result<ImportReport, ImportError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut report = import_lines(&lines)?;
    report.format = Format::GoogleMigration;
    Ok(report)
}

/// Imports migration URIs given with their line numbers; missing batch parts are reported.
pub fn import_lines(lines: &[(usize, &str)]) -> Result<ImportReport, ImportError> {
    let mut collector = BatchCollector::new();
    let mut out = Collector::new();
    for &(index, line) in lines {
        match decode_uri(line).and_then(|part| collector.add(part)) {
            Ok(_) => {}
            Err(reason) => out.errors.push(ItemError {
                index,
                label: format!("line {}", index + 1),
                reason,
            }),
        }
    }
    for id in collector.batch_ids() {
        let progress = collector.progress(id).expect("listed");
        if !progress.is_complete() {
            out.errors.push(ItemError {
                index: 0,
                label: format!("export batch {id}"),
                reason: progress.describe(),
            });
        }
        for (n, account) in collector.take(id).into_iter().enumerate() {
            let label = account
                .as_ref()
                .map(ImportedEntry::label)
                .unwrap_or_else(|_| format!("account {}", n + 1));
            out.item(n, label, account)?;
        }
    }
    Ok(out.finish(Format::GoogleMigration))
}

fn exportable(kind: &OtpKind) -> Result<(i32, i64), String> {
    match *kind {
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        } => Ok((2, 0)),
        OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter,
        } => Ok((
            1,
            i64::try_from(counter).map_err(|_| "counter too large for the format".to_string())?,
        )),
        OtpKind::Steam => Err("Google Authenticator cannot hold Steam accounts".into()),
        _ => Err("Google Authenticator can only hold SHA1, 6-digit, 30-second accounts".into()),
    }
}

/// [`export`] with a random batch id (what Google Authenticator uses to tell exports apart).
pub fn export_random(
    entries: &[&Entry],
    rng: &dyn crate::crypto::RandomSource,
) -> Result<(Vec<String>, Vec<Skipped>), crate::crypto::CryptoError> {
    let id: [u8; 4] = crate::crypto::random_array(rng)?;
    Ok(export(entries, i32::from_be_bytes(id) & 0x7fff_ffff))
}

/// Export as migration URIs, `ACCOUNTS_PER_QR` accounts per code, one batch. Returns the URIs
/// and the entries the format cannot hold.
pub fn export(entries: &[&Entry], batch_id: i32) -> (Vec<String>, Vec<Skipped>) {
    let mut params = Vec::new();
    let mut skipped = Vec::new();
    for e in entries {
        match exportable(&e.kind) {
            Ok((otp_type, counter)) => params.push(OtpParameters {
                secret: e.secret.expose().to_vec(),
                name: e.account.clone(),
                issuer: e.issuer.clone(),
                algorithm: 1,
                digits: 1,
                r#type: otp_type,
                counter,
            }),
            Err(reason) => skipped.push(Skipped {
                id: e.id,
                label: e.display_name(),
                reason,
            }),
        }
    }
    let chunks: Vec<Vec<OtpParameters>> =
        params.chunks(ACCOUNTS_PER_QR).map(<[_]>::to_vec).collect();
    let size = chunks.len() as i32;
    let mut uris = Vec::with_capacity(chunks.len());
    for (index, chunk) in chunks.into_iter().enumerate() {
        let payload = MigrationPayload {
            otp_parameters: chunk,
            version: 1,
            batch_size: size,
            batch_index: index as i32,
            batch_id,
        };
        let mut bytes = payload.encode_to_vec();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        bytes.zeroize();
        let mut data = String::with_capacity(b64.len() + 16);
        for c in b64.chars() {
            match c {
                '+' => data.push_str("%2B"),
                '/' => data.push_str("%2F"),
                '=' => data.push_str("%3D"),
                c => data.push(c),
            }
        }
        uris.push(format!("otpauth-migration://offline?data={data}"));
        let mut payload = payload;
        for p in &mut payload.otp_parameters {
            p.secret.zeroize();
        }
    }
    for p in &mut params {
        p.secret.zeroize();
    }
    (uris, skipped)
}

/// Google Authenticator's internal database (`databases/databases`, SQLite, app ≤ 5.10),
/// table `accounts`: `email`, `secret` (base32), `counter`, `type` (0 TOTP, 1 HOTP),
/// `issuer`, optional `isencrypted` (such rows are refused). The app always made SHA1,
/// 6-digit, 30 s codes. The name is `email`, or its part after `:` when it is `Issuer:name`.
pub fn import_db(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let db = super::container::Db::open(bytes)?;
    let rows = db.rows(
        "accounts",
        &[
            "email",
            "secret",
            "counter",
            "type",
            "issuer",
            "isencrypted",
        ],
    )?;
    let mut out = Collector::new();
    for (index, r) in rows.iter().enumerate() {
        let email = r[0].text();
        let result = (|| {
            if r[5].int().unwrap_or(0) > 0 {
                return Err("the secret is encrypted by the app (not readable)".to_owned());
            }
            let secret = super::support::secret_b32_lenient(&r[1].text())?;
            let kind = match r[3].int().unwrap_or(0) {
                0 => OtpKind::DEFAULT_TOTP,
                1 => OtpKind::Hotp {
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    counter: r[2].int().and_then(|c| u64::try_from(c).ok()).unwrap_or(0),
                },
                n => return Err(format!("unknown account type {n}")),
            };
            let mut issuer = r[4].text().trim().to_owned();
            let mut account = email.trim().to_owned();
            let parts: Vec<&str> = email.split(':').collect();
            if let [prefix, name] = parts.as_slice() {
                if issuer.is_empty() {
                    issuer = prefix.trim().to_owned();
                }
                account = name.trim().to_owned();
            }
            Ok(ImportedEntry::new(kind, secret, issuer, account))
        })();
        out.item(index, email.clone(), result)?;
    }
    Ok(out.finish(Format::GoogleAuthenticatorDb))
}
