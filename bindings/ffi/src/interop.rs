//! QR decoding and encoding, enrollment from scanned text, imports and exports.

use std::sync::{Arc, Mutex};

use twofold_core::crypto::{RandomSource, SystemRandom};
use twofold_core::interop::enroll::{self, ScanOutcome};
use twofold_core::interop::{
    self, Format, ImportReport, ImportedEntry, aegis, cxf, google, otpauth_list,
};
use twofold_core::qr;
use twofold_core::vault::Entry;
use zeroize::Zeroizing;

use crate::convert::OtpParams;
use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;

/// Decodes the QR code in a camera frame (CameraX's Y plane: width, height, row stride,
/// bytes). `None` when the frame holds no readable code.
#[uniffi::export]
pub fn decode_qr_luma(
    width: u32,
    height: u32,
    row_stride: u32,
    luma: Vec<u8>,
) -> Result<Option<String>> {
    Ok(qr::decode_luma(qr::LumaFrame {
        width,
        height,
        row_stride,
        data: &luma,
    })?)
}

/// Decodes the QR code in a PNG or JPEG (photos, screenshots).
#[uniffi::export]
pub fn decode_qr_image(bytes: Vec<u8>) -> Result<Option<String>> {
    Ok(qr::decode_image(&bytes)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QrErrorCorrection {
    Low,
    Medium,
    Quartile,
    High,
}

/// A QR code's modules for native drawing: `size × size`, row-major, 1 = dark, no quiet zone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrMatrix {
    pub size: u32,
    pub modules: Vec<u8>,
}

fn ec(level: QrErrorCorrection) -> qr::EcLevel {
    match level {
        QrErrorCorrection::Low => qr::EcLevel::L,
        QrErrorCorrection::Medium => qr::EcLevel::M,
        QrErrorCorrection::Quartile => qr::EcLevel::Q,
        QrErrorCorrection::High => qr::EcLevel::H,
    }
}

#[uniffi::export]
pub fn encode_qr(text: String, correction: QrErrorCorrection) -> Result<QrMatrix> {
    let m = qr::encode(&text, ec(correction))?;
    Ok(QrMatrix {
        size: m.size as u32,
        modules: m.dark.iter().map(|&d| u8::from(d)).collect(),
    })
}

/// A PNG of a QR code (quiet zone included), `scale` pixels per module.
#[uniffi::export]
pub fn encode_qr_png(text: String, correction: QrErrorCorrection, scale: u32) -> Result<Vec<u8>> {
    Ok(qr::encode(&text, ec(correction))?.to_png(scale.clamp(1, 64)))
}

/// An account read from a QR code or an import file, without its secret (for previews).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportedPreview {
    pub issuer: String,
    pub account: String,
    pub params: OtpParams,
    pub note: String,
    pub groups: Vec<String>,
    pub favorite: bool,
    pub weak_secret: bool,
}

impl From<&ImportedEntry> for ImportedPreview {
    fn from(e: &ImportedEntry) -> Self {
        ImportedPreview {
            issuer: e.issuer.clone(),
            account: e.account.clone(),
            params: (&e.kind).into(),
            note: e.note.clone(),
            groups: e.groups.clone(),
            favorite: e.favorite,
            weak_secret: e.secret.is_weak(),
        }
    }
}

/// Progress of a multi-QR Google export.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportProgress {
    pub scanned: u32,
    pub total: u32,
    /// 1-based numbers of the codes still missing.
    pub missing: Vec<u32>,
    /// "2 of 3 codes scanned (missing: 3)".
    pub description: String,
}

/// What one scan added to the enrollment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScanResult {
    /// Accounts this scan made available (one for otpauth://; a whole export when its last
    /// code arrives).
    pub new_accounts: Vec<ImportedPreview>,
    /// For Google exports: where the export stands.
    pub progress: Option<ExportProgress>,
    /// Accounts in the export that could not be read.
    pub errors: Vec<String>,
}

/// What adding accounts to a vault did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AddResult {
    pub added_ids: Vec<String>,
    /// Accounts already in the vault (same secret and kind), skipped.
    pub duplicates: Vec<String>,
}

fn add(vault: &VaultSession, entries: Vec<ImportedEntry>) -> Result<AddResult> {
    let outcome = interop::add_to_vault(&vault.inner, entries)?;
    Ok(AddResult {
        added_ids: outcome.added.iter().map(|i| i.to_string()).collect(),
        duplicates: outcome.duplicates,
    })
}

/// A scanning session: feed it every decoded QR text; it keeps partial Google exports and
/// the accounts found until `add_to` puts them in a vault.
#[derive(uniffi::Object)]
pub struct Enrollment {
    inner: Mutex<enroll::Enrollment>,
    found: Mutex<Vec<ImportedEntry>>,
}

#[uniffi::export]
impl Enrollment {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Enrollment {
            inner: Mutex::new(enroll::Enrollment::new()),
            found: Mutex::new(Vec::new()),
        })
    }

    /// Takes the text of one scanned code. Repeated scans of the same code are harmless.
    pub fn scan(&self, text: String) -> Result<ScanResult> {
        let outcome = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .scan(&text)?;
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match outcome {
            ScanOutcome::Account(e) => {
                let preview = (&e).into();
                if !found.iter().any(|f| f.same_account(&e)) {
                    found.push(e);
                }
                ScanResult {
                    new_accounts: vec![preview],
                    progress: None,
                    errors: vec![],
                }
            }
            ScanOutcome::Migration {
                progress,
                accounts,
                errors,
            } => {
                let previews = accounts.iter().map(Into::into).collect();
                found.extend(accounts);
                ScanResult {
                    new_accounts: previews,
                    progress: Some(ExportProgress {
                        scanned: progress.scanned as u32,
                        total: progress.total as u32,
                        missing: progress.missing.iter().map(|i| *i as u32 + 1).collect(),
                        description: progress.describe(),
                    }),
                    errors,
                }
            }
        })
    }

    /// Every account found so far.
    pub fn accounts(&self) -> Vec<ImportedPreview> {
        self.found
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(Into::into)
            .collect()
    }

    /// Forgets one found account (the user unticked it).
    pub fn remove(&self, index: u32) {
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        if (index as usize) < found.len() {
            found.remove(index as usize);
        }
    }

    /// Adds the found accounts to the vault (duplicates reported, not doubled) and clears them.
    pub fn add_to(&self, vault: Arc<VaultSession>) -> Result<AddResult> {
        let entries = std::mem::take(&mut *self.found.lock().unwrap_or_else(|p| p.into_inner()));
        add(&vault, entries)
    }
}

/// One entry of an import file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportItemError {
    pub index: u32,
    pub label: String,
    pub reason: String,
}

/// A read import file, held until the user confirms (secrets stay in Rust).
#[derive(uniffi::Object)]
pub struct ImportSession {
    report: Mutex<ImportReport>,
}

#[uniffi::export]
impl ImportSession {
    /// Reads another app's export. `format` is a name (`aegis`, `2fas`, …) or `None` to
    /// detect it; `password` for encrypted exports (`FilePasswordRequired` asks for one).
    #[uniffi::constructor]
    pub fn read(
        bytes: Vec<u8>,
        format: Option<String>,
        password: Option<Vec<u8>>,
    ) -> Result<Arc<Self>> {
        Self::read_with_key_file(bytes, format, password, None)
    }

    /// [`read`](Self::read) for a KeePass database unlocked with a key file (and optionally
    /// a password); other formats ignore the key file.
    #[uniffi::constructor]
    pub fn read_with_key_file(
        bytes: Vec<u8>,
        format: Option<String>,
        password: Option<Vec<u8>>,
        key_file: Option<Vec<u8>>,
    ) -> Result<Arc<Self>> {
        let format =
            match format {
                Some(name) => Some(Format::from_name(&name).ok_or_else(|| {
                    TwofoldError::UnsupportedFormat {
                        details: format!("unknown format '{name}'"),
                    }
                })?),
                None => None,
            };
        let password = password.map(Zeroizing::new);
        let key_file = key_file.map(Zeroizing::new);
        let report = interop::import_with_key_file(
            &bytes,
            format,
            password.as_deref().map(|p| p.as_slice()),
            key_file.as_deref().map(|k| k.as_slice()),
        )?;
        Ok(Arc::new(ImportSession {
            report: Mutex::new(report),
        }))
    }

    pub fn format(&self) -> String {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .format
            .name()
            .to_owned()
    }

    pub fn accounts(&self) -> Vec<ImportedPreview> {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .iter()
            .map(Into::into)
            .collect()
    }

    pub fn errors(&self) -> Vec<ImportItemError> {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .errors
            .iter()
            .map(|e| ImportItemError {
                index: e.index as u32,
                label: e.label.clone(),
                reason: e.reason.clone(),
            })
            .collect()
    }

    /// Leaves one account out (the user unticked it in the preview).
    pub fn remove(&self, index: u32) {
        let entries = &mut self
            .report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries;
        if (index as usize) < entries.len() {
            entries.remove(index as usize);
        }
    }

    /// Adds the accounts to the vault; duplicates are reported, not doubled.
    pub fn add_to(&self, vault: Arc<VaultSession>) -> Result<AddResult> {
        let entries = std::mem::take(
            &mut self
                .report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entries,
        );
        add(&vault, entries)
    }
}

/// An entry an export format could not hold.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedEntry {
    pub label: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TextExport {
    pub content: String,
    pub skipped: Vec<SkippedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoogleExport {
    /// One `otpauth-migration://` URI per QR code, in order.
    pub uris: Vec<String>,
    pub skipped: Vec<SkippedEntry>,
}

fn skipped(v: Vec<cxf::Skipped>) -> Vec<SkippedEntry> {
    v.into_iter()
        .map(|s| SkippedEntry {
            label: s.label,
            reason: s.reason,
        })
        .collect()
}

fn internal(e: impl std::fmt::Display) -> TwofoldError {
    TwofoldError::Internal {
        details: e.to_string(),
    }
}

/// Explicit exports. Every one of these carries the secrets out of the core: re-authenticate
/// the user before calling them.
#[uniffi::export]
impl VaultSession {
    /// otpauth:// URIs, one per line.
    pub fn export_otpauth_list(&self) -> Result<String> {
        let entries = self.inner.entries()?;
        Ok(otpauth_list::export(
            &entries.iter().collect::<Vec<&Entry>>(),
        ))
    }

    /// Aegis JSON; encrypted with Aegis's parameters when `password` is given.
    pub fn export_aegis(&self, password: Option<Vec<u8>>) -> Result<String> {
        let entries = self.inner.entries()?;
        let refs: Vec<&Entry> = entries.iter().collect();
        let groups = self.inner.groups()?;
        let rng = SystemRandom::new();
        Ok(match password.map(Zeroizing::new) {
            Some(pw) => aegis::export_encrypted(&refs, &groups, &pw, &rng)?,
            None => aegis::export_plain(&refs, &groups, &rng)?,
        })
    }

    /// Google Authenticator transfer codes (only what that format can hold).
    pub fn export_google_migration(&self) -> Result<GoogleExport> {
        let entries = self.inner.entries()?;
        let mut id = [0u8; 4];
        SystemRandom::new().fill(&mut id).map_err(internal)?;
        let (uris, s) = google::export(
            &entries.iter().collect::<Vec<&Entry>>(),
            i32::from_be_bytes(id) & 0x7fff_ffff,
        );
        Ok(GoogleExport {
            uris,
            skipped: skipped(s),
        })
    }

    /// FIDO CXF JSON with the TOTP accounts.
    pub fn export_cxf(&self, now_ms: i64) -> Result<TextExport> {
        let entries = self.inner.entries()?;
        let (content, s) = cxf::export(
            &entries.iter().collect::<Vec<&Entry>>(),
            now_ms,
            &SystemRandom::new(),
        )
        .map_err(internal)?;
        Ok(TextExport {
            content,
            skipped: skipped(s),
        })
    }
}
