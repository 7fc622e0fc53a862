//! The export catalogue and exports made in memory for a document provider
//! (`twofold_core::interop::export`): what each format is called, its file name and MIME type,
//! whether it needs a password or leaves the secrets readable, and `PendingExport`, confirmed
//! from the bytes read back like `PendingBackup`.

use std::sync::Arc;

use twofold_core::interop::export::{self, ExportKind};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::interop::{SkippedEntry, skipped};
use crate::session::VaultSession;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ExportFormat {
    /// A Twofold backup (`.twfb`), encrypted with a password.
    TwofoldBackup,
    /// An Aegis vault file, encrypted with a password.
    AegisEncrypted,
    /// An Aegis vault file in plain JSON: the secrets are readable.
    AegisPlain,
    /// otpauth:// URIs, one per line: the secrets are readable.
    OtpauthList,
    /// A FIDO Credential Exchange (CXF) JSON file: the secrets are readable.
    Cxf,
    /// Google Authenticator transfer QR codes, drawn on screen (not a file).
    GoogleQr,
}

impl From<ExportKind> for ExportFormat {
    fn from(k: ExportKind) -> Self {
        match k {
            ExportKind::TwofoldBackup => ExportFormat::TwofoldBackup,
            ExportKind::AegisEncrypted => ExportFormat::AegisEncrypted,
            ExportKind::AegisPlain => ExportFormat::AegisPlain,
            ExportKind::OtpauthList => ExportFormat::OtpauthList,
            ExportKind::Cxf => ExportFormat::Cxf,
            ExportKind::GoogleQr => ExportFormat::GoogleQr,
        }
    }
}

impl From<ExportFormat> for ExportKind {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::TwofoldBackup => ExportKind::TwofoldBackup,
            ExportFormat::AegisEncrypted => ExportKind::AegisEncrypted,
            ExportFormat::AegisPlain => ExportKind::AegisPlain,
            ExportFormat::OtpauthList => ExportKind::OtpauthList,
            ExportFormat::Cxf => ExportKind::Cxf,
            ExportFormat::GoogleQr => ExportKind::GoogleQr,
        }
    }
}

/// One format of the export catalogue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportFormatInfo {
    /// Which format this is.
    pub format: ExportFormat,
    /// Its name for a list.
    pub name: String,
    /// The file name to suggest when saving (empty for QR codes on screen).
    pub file_name: String,
    /// The document's MIME type (empty for QR codes on screen).
    pub mime_type: String,
    /// The user must choose a password for the file.
    pub needs_password: bool,
    /// The secrets are readable in the result: warn before.
    pub plaintext: bool,
    /// Saved as a file (`false`: drawn on screen with `export_google_migration`).
    pub is_file: bool,
}

/// Every export format, in the order an export screen lists them; names that carry a time
/// use `now_ms`.
#[uniffi::export]
pub fn export_formats(now_ms: i64) -> Vec<ExportFormatInfo> {
    export::catalogue(now_ms)
        .into_iter()
        .map(|f| ExportFormatInfo {
            format: f.kind.into(),
            name: f.name.to_owned(),
            file_name: f.file_name,
            mime_type: f.mime_type.to_owned(),
            needs_password: f.needs_password,
            plaintext: f.plaintext,
            is_file: f.is_file,
        })
        .collect()
}

/// An export waiting to be written by the app where the user chose, and confirmed from what
/// the provider returns when read back. Only a confirmed export counts as saved.
#[derive(uniffi::Object)]
pub struct PendingExport {
    inner: export::PendingExport,
}

#[uniffi::export]
impl PendingExport {
    /// The file to write (the secrets, or the encrypted vault): wipe it after writing.
    pub fn bytes(&self) -> Vec<u8> {
        self.inner.bytes().to_vec()
    }

    /// Accounts the format cannot hold.
    pub fn skipped(&self) -> Vec<SkippedEntry> {
        skipped(self.inner.skipped().to_vec())
    }

    /// Confirms the export from the bytes read back: exactly what was written (and for a
    /// Twofold backup, decrypting to the vault), else `Storage` / `VaultCorrupt`.
    pub fn confirm(&self, read_back: Vec<u8>) -> Result<()> {
        let read_back = Zeroizing::new(read_back);
        Ok(self.inner.confirm(&read_back)?)
    }
}

/// Explicit exports into a document provider: re-authenticate the user first.
#[uniffi::export]
impl VaultSession {
    /// Makes an export of `format` in memory (`password` for the encrypted formats; wiped).
    pub fn prepare_export(
        &self,
        format: ExportFormat,
        password: Option<Vec<u8>>,
        now_ms: i64,
    ) -> Result<Arc<PendingExport>> {
        let password = password.map(Zeroizing::new);
        Ok(Arc::new(PendingExport {
            inner: export::PendingExport::new(
                &self.inner,
                format.into(),
                password.as_deref().map(|p| p.as_slice()),
                now_ms,
            )?,
        }))
    }
}
