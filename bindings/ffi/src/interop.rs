//! QR decoding and encoding, enrollment from scanned text, imports and exports.

use std::sync::{Arc, Mutex};

use twofold_core::interop::enroll::{self, ScanOutcome};
use twofold_core::interop::{self, Format, ImportedEntry, PendingAccounts, cxf, export};
use twofold_core::qr;
use zeroize::Zeroizing;

use crate::convert::{OtpParams, secret_bytes};
use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;

/// Text of a QR code that may cross the FFI: anything but an account's secret. otpauth and
/// Google export codes are refused here — enroll them with `Enrollment.scan_luma` /
/// `scan_image`, which keep the secret in the core.
fn without_secrets(text: Option<String>) -> Result<Option<String>> {
    match text {
        Some(t) if enroll::holds_secret(&t) => {
            let mut t = Zeroizing::new(t);
            t.clear();
            Err(TwofoldError::input(
                crate::error::InputProblem::AccountCodeNotHere,
                "this QR code holds an account and its secret: add it on the Add screen \
                 (Enrollment.scanLuma / scanImage)",
            ))
        }
        other => Ok(other),
    }
}

fn luma<'a>(width: u32, height: u32, row_stride: u32, data: &'a [u8]) -> qr::LumaFrame<'a> {
    qr::LumaFrame {
        width,
        height,
        row_stride,
        data,
    }
}

/// Decodes the QR code in a camera frame (CameraX's Y plane: width, height, row stride,
/// bytes) for transfer invites, frames and replies. `None` when the frame holds no readable
/// code; `InvalidInput` for an otpauth or Google export code (use `Enrollment.scan_luma`).
#[uniffi::export]
pub fn decode_qr_luma(
    width: u32,
    height: u32,
    row_stride: u32,
    luma_bytes: Vec<u8>,
) -> Result<Option<String>> {
    without_secrets(qr::decode_luma(luma(
        width,
        height,
        row_stride,
        &luma_bytes,
    ))?)
}

/// Decodes the QR code in a PNG or JPEG, like `decode_qr_luma`.
#[uniffi::export]
pub fn decode_qr_image(bytes: Vec<u8>) -> Result<Option<String>> {
    without_secrets(qr::decode_image(&bytes)?)
}

/// How much of a QR code may be damaged and still read (more correction, bigger code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QrErrorCorrection {
    /// About 7% of the code may be lost.
    Low,
    /// About 15% (what transfer codes and invites use).
    Medium,
    /// About 25%.
    Quartile,
    /// About 30%.
    High,
}

/// A QR code's modules for native drawing: `size × size`, row-major, 1 = dark, no quiet zone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrMatrix {
    /// Modules per side (21 to 177).
    pub size: u32,
    /// `size × size` bytes, row by row: 1 for a dark module, 0 for a light one.
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

/// A QR code of `text` at `correction`, as modules to draw; too much text for a QR code is
/// `InvalidInput`.
#[uniffi::export]
pub fn encode_qr(text: String, correction: QrErrorCorrection) -> Result<QrMatrix> {
    Ok(matrix(qr::encode(&text, ec(correction))?))
}

/// A PNG of a QR code (quiet zone included), `scale` pixels per module.
#[uniffi::export]
pub fn encode_qr_png(text: String, correction: QrErrorCorrection, scale: u32) -> Result<Vec<u8>> {
    Ok(qr::encode(&text, ec(correction))?.to_png(scale.clamp(1, 64)))
}

/// An account read from a QR code or an import file, without its secret (for previews).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportedPreview {
    /// Service name; empty when the source had none.
    pub issuer: String,
    /// Account name; empty when the source had none.
    pub account: String,
    /// How the codes are made.
    pub params: OtpParams,
    /// The source's note; empty when none.
    pub note: String,
    /// Names of the groups, tags or folders the source had it in.
    pub groups: Vec<String>,
    /// Whether the source had it pinned or starred.
    pub favorite: bool,
    /// The secret is shorter than 128 bits (works, but worth a hint).
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
    /// Codes of the export scanned so far.
    pub scanned: u32,
    /// Codes the export has in all.
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
    /// Ids (UUIDs) of the accounts added, in order.
    pub added_ids: Vec<crate::convert::EntryId>,
    /// Accounts already in the vault (same secret and kind), skipped.
    pub duplicates: Vec<String>,
    /// Accounts refused (a name too long, code parameters out of range), with the reason.
    #[uniffi(default)]
    pub rejected: Vec<RejectedAccount>,
}

/// An account that was not added, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedAccount {
    /// How the account is named: "Issuer (account)", "Issuer", "account" or "(unnamed)".
    pub label: String,
    /// Why it was refused (an English sentence).
    pub reason: String,
}

impl From<twofold_core::vault::InsertReport> for AddResult {
    fn from(r: twofold_core::vault::InsertReport) -> Self {
        AddResult {
            added_ids: r
                .added
                .iter()
                .copied()
                .map(crate::convert::EntryId)
                .collect(),
            duplicates: r.duplicates.into_iter().map(|d| d.label).collect(),
            rejected: r
                .rejected
                .into_iter()
                .map(|r| RejectedAccount {
                    label: r.label,
                    reason: r.reason.to_string(),
                })
                .collect(),
        }
    }
}

/// A scanning session: feed it camera frames (`scan_luma`), pictures (`scan_image`) or typed
/// text (`scan_text`, as bytes); it decodes in the core, keeps partial Google exports and the
/// accounts found until `add_to` puts them in a vault. Only previews come back.
#[derive(uniffi::Object)]
pub struct Enrollment {
    inner: Mutex<enroll::Enrollment>,
}

impl Enrollment {
    fn session(&self) -> std::sync::MutexGuard<'_, enroll::Enrollment> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl Enrollment {
    /// An empty scanning session.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Enrollment {
            inner: Mutex::new(enroll::Enrollment::new()),
        })
    }

    /// Decodes the QR code in a camera frame's Y plane and enrolls what it holds: `None` when
    /// the frame has no readable code. Repeated scans of the same code are harmless.
    pub fn scan_luma(
        &self,
        width: u32,
        height: u32,
        row_stride: u32,
        luma_bytes: Vec<u8>,
    ) -> Result<Option<ScanResult>> {
        let frame = luma(width, height, row_stride, &luma_bytes);
        Ok(self.session().scan_luma(frame)?.map(Into::into))
    }

    /// Decodes the QR code in a PNG or JPEG and enrolls what it holds; `None` without a code.
    pub fn scan_image(&self, bytes: Vec<u8>) -> Result<Option<ScanResult>> {
        Ok(self.session().scan_image(&bytes)?.map(Into::into))
    }

    /// A typed or pasted otpauth:// (or otpauth-migration://) URI, as UTF-8 bytes (the caller
    /// wipes its copy).
    pub fn scan_text(&self, text: Vec<u8>) -> Result<ScanResult> {
        let text = crate::convert::secret_text(text)?;
        Ok(self.session().scan(&text)?.into())
    }

    /// Every account found so far.
    pub fn accounts(&self) -> Vec<ImportedPreview> {
        previews(self.session().found())
    }

    /// Forgets one found account (the user unticked it).
    pub fn remove(&self, index: u32) {
        self.session().found_mut().remove(index as usize);
    }

    /// Adds the found accounts to the vault (duplicates reported, not doubled) and clears them.
    pub fn add_to(&self, vault: Arc<VaultSession>) -> Result<AddResult> {
        Ok(self.session().found_mut().add_to(&vault.inner)?.into())
    }
}

fn previews(pending: &PendingAccounts) -> Vec<ImportedPreview> {
    pending.entries().iter().map(Into::into).collect()
}

impl From<ScanOutcome> for ScanResult {
    fn from(outcome: ScanOutcome) -> Self {
        match outcome {
            ScanOutcome::Account(e) => ScanResult {
                new_accounts: vec![(&e).into()],
                progress: None,
                errors: vec![],
            },
            ScanOutcome::Migration {
                progress,
                accounts,
                errors,
            } => ScanResult {
                new_accounts: accounts.iter().map(Into::into).collect(),
                progress: Some(ExportProgress {
                    scanned: progress.scanned as u32,
                    total: progress.total as u32,
                    missing: progress.missing.iter().map(|i| *i as u32 + 1).collect(),
                    description: progress.describe(),
                }),
                errors,
            },
        }
    }
}

/// One entry of an import file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportItemError {
    /// 0-based position of the item in the file.
    pub index: u32,
    /// What the file called it, when that much was readable.
    pub label: String,
    /// Why it could not be read (never containing its secret).
    pub reason: String,
}

/// A read import file, held until the user confirms (secrets stay in Rust).
#[derive(uniffi::Object)]
pub struct ImportSession {
    format: Format,
    errors: Vec<interop::ItemError>,
    pending: Mutex<PendingAccounts>,
}

#[uniffi::export]
impl ImportSession {
    /// Reads another app's export. `format` is a name (`aegis`, `2fas`, …) or `None` to
    /// detect it; `password` for encrypted exports (`PasswordRequired` asks for one).
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
        let format = format.as_deref().map(Format::parse_name).transpose()?;
        let password = password.map(Zeroizing::new);
        let key_file = key_file.map(Zeroizing::new);
        let report = interop::import_with_key_file(
            &bytes,
            format,
            password.as_deref().map(|p| p.as_slice()),
            key_file.as_deref().map(|k| k.as_slice()),
        )?;
        Ok(Arc::new(ImportSession {
            format: report.format,
            errors: report.errors,
            pending: Mutex::new(PendingAccounts::new(report.entries)),
        }))
    }

    /// The format read, by name (`aegis`, `2fas`, `google`, …).
    pub fn format(&self) -> String {
        self.format.name().to_owned()
    }

    /// The accounts read and not left out, in the file's order (no secrets).
    pub fn accounts(&self) -> Vec<ImportedPreview> {
        previews(&self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The items of the file that could not be read.
    pub fn errors(&self) -> Vec<ImportItemError> {
        self.errors
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
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(index as usize);
    }

    /// Adds the accounts to the vault; duplicates are reported, not doubled.
    pub fn add_to(&self, vault: Arc<VaultSession>) -> Result<AddResult> {
        Ok(self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_to(&vault.inner)?
            .into())
    }
}

/// An entry an export format could not hold.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedEntry {
    /// "Issuer (account)" of the entry left out.
    pub label: String,
    /// Why the format cannot hold it.
    pub reason: String,
}

/// An export file's bytes (UTF-8 text with the secrets: the caller writes it where the user
/// chose and wipes it).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TextExport {
    /// The file, UTF-8 text with the secrets in it (wipe it once written).
    pub content: Vec<u8>,
    /// Entries the format could not hold, left out.
    pub skipped: Vec<SkippedEntry>,
}

/// A Google Authenticator export, drawn as QR codes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoogleExport {
    /// One QR code per `otpauth-migration://` URI, in order, ready to draw (the URIs with the
    /// secrets in them stay in the core).
    pub codes: Vec<QrMatrix>,
    /// Entries the format could not hold, left out.
    pub skipped: Vec<SkippedEntry>,
}

fn matrix(m: qr::QrMatrix) -> QrMatrix {
    QrMatrix {
        size: m.size as u32,
        modules: m.dark.iter().map(|&d| u8::from(d)).collect(),
    }
}

pub(crate) fn skipped(v: Vec<cxf::Skipped>) -> Vec<SkippedEntry> {
    v.into_iter()
        .map(|s| SkippedEntry {
            label: s.label,
            reason: s.reason,
        })
        .collect()
}

/// Explicit exports. Every one of these carries the secrets out of the core, as bytes the
/// facades wipe after writing them: re-authenticate the user before calling them.
#[uniffi::export]
impl VaultSession {
    /// otpauth:// URIs, one per line (UTF-8).
    pub fn export_otpauth_list(&self) -> Result<Vec<u8>> {
        Ok(secret_bytes(export::otpauth_list(&self.inner)?))
    }

    /// Aegis JSON (UTF-8); encrypted with Aegis's parameters when `password` is given.
    pub fn export_aegis(&self, password: Option<Vec<u8>>) -> Result<Vec<u8>> {
        let password = password.map(Zeroizing::new);
        Ok(secret_bytes(export::aegis(
            &self.inner,
            password.as_deref().map(|p| p.as_slice()),
        )?))
    }

    /// Google Authenticator transfer codes (only what that format can hold), drawn.
    pub fn export_google_migration(&self) -> Result<GoogleExport> {
        let (uris, s) = export::google_migration(&self.inner)?;
        let codes = uris
            .iter()
            .map(|u| qr::encode(u, qr::EcLevel::M).map(matrix))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(GoogleExport {
            codes,
            skipped: skipped(s),
        })
    }

    /// FIDO CXF JSON with the TOTP accounts.
    pub fn export_cxf(&self, now_ms: i64) -> Result<TextExport> {
        let (content, s) = export::cxf(&self.inner, now_ms)?;
        Ok(TextExport {
            content: secret_bytes(content),
            skipped: skipped(s),
        })
    }
}
