//! Enrollment from scanned text: one entry point for whatever a camera or image read.
//! `otpauth://` → a preview of one account; `otpauth-migration://` → the accounts in it, with
//! multi-QR Google exports accumulated across scans ("2 of 3 codes scanned", which are
//! missing). Duplicates are reported by [`super::add_to_vault`] when the user confirms.

use super::ImportedEntry;
use super::google::{self, BatchCollector, BatchProgress};
use crate::uri;

/// What one scan produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// One account to preview and confirm.
    Account(ImportedEntry),
    /// Part of a Google export. When `progress.is_complete()`, `accounts` holds every account of
    /// the export (and `errors` those that could not be read); before that both are empty.
    Migration {
        /// How many of the export's codes have been scanned, and which are missing.
        progress: BatchProgress,
        /// The export's accounts once every code is scanned; empty before.
        accounts: Vec<ImportedEntry>,
        /// Why each unreadable account of the export was refused; empty before completion.
        errors: Vec<String>,
    },
}

/// Why scanned text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// An `otpauth://` URI that does not parse.
    #[error("{0}")]
    InvalidUri(#[from] uri::UriError),
    /// An `otpauth-migration://` code that does not decode or contradicts earlier codes of its export.
    #[error("this Google Authenticator code cannot be read: {0}")]
    InvalidMigration(String),
    /// Text that is neither `otpauth://` nor `otpauth-migration://`.
    #[error("this QR code is not an authenticator code")]
    NotAnAuthenticatorCode,
}

/// Why a picture or frame could not be enrolled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollError {
    /// The image or frame holds no decodable QR code.
    #[error(transparent)]
    Qr(#[from] crate::qr::QrError),
    /// The QR code's text was refused.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// A scanning session: keeps partial Google exports between scans, and the accounts found so
/// far until they are added (scanning one code again is harmless).
#[derive(Debug, Default, Clone)]
pub struct Enrollment {
    batches: BatchCollector,
    found: super::PendingAccounts,
}

/// Whether scanned text is an account code (`otpauth://` or a Google `otpauth-migration://`
/// export), i.e. text that carries a secret and must stay in the core.
pub fn holds_secret(text: &str) -> bool {
    let text = text.trim_start();
    let lower = text.get(..20).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("otpauth://") || lower.starts_with("otpauth-migration://")
}

impl Enrollment {
    /// A session with nothing scanned yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the QR code in a camera frame and scans it; `None` without a readable code.
    pub fn scan_luma(
        &mut self,
        frame: crate::qr::LumaFrame<'_>,
    ) -> Result<Option<ScanOutcome>, EnrollError> {
        let text = crate::qr::decode_luma(frame)?.map(zeroize::Zeroizing::new);
        text.map(|t| self.scan(&t).map_err(EnrollError::from))
            .transpose()
    }

    /// Decodes the QR code in a PNG or JPEG and scans it; `None` without a readable code.
    pub fn scan_image(&mut self, bytes: &[u8]) -> Result<Option<ScanOutcome>, EnrollError> {
        let text = crate::qr::decode_image(bytes)?.map(zeroize::Zeroizing::new);
        text.map(|t| self.scan(&t).map_err(EnrollError::from))
            .transpose()
    }

    /// The accounts found so far, waiting to be added.
    pub fn found(&self) -> &super::PendingAccounts {
        &self.found
    }

    /// The accounts found so far, to untick or add.
    pub fn found_mut(&mut self) -> &mut super::PendingAccounts {
        &mut self.found
    }

    /// Scans one code's text; the accounts it holds join [`Enrollment::found`].
    pub fn scan(&mut self, text: &str) -> Result<ScanOutcome, ScanError> {
        let outcome = self.scan_text(text)?;
        match &outcome {
            ScanOutcome::Account(e) => {
                self.found.push_unique(e.clone());
            }
            ScanOutcome::Migration { accounts, .. } => {
                for a in accounts {
                    self.found.push_unique(a.clone());
                }
            }
        }
        Ok(outcome)
    }

    fn scan_text(&mut self, text: &str) -> Result<ScanOutcome, ScanError> {
        let text = text.trim();
        let lower = text.get(..20).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("otpauth-migration://") {
            let part = google::decode_uri(text).map_err(ScanError::InvalidMigration)?;
            let id = part.batch_id;
            let progress = self
                .batches
                .add(part)
                .map_err(ScanError::InvalidMigration)?;
            if !progress.is_complete() {
                return Ok(ScanOutcome::Migration {
                    progress,
                    accounts: vec![],
                    errors: vec![],
                });
            }
            let (mut accounts, mut errors) = (Vec::new(), Vec::new());
            for (n, a) in self.batches.take(id).into_iter().enumerate() {
                match a {
                    Ok(e) => accounts.push(e),
                    Err(reason) => errors.push(format!("account {}: {reason}", n + 1)),
                }
            }
            return Ok(ScanOutcome::Migration {
                progress,
                accounts,
                errors,
            });
        }
        if lower.starts_with("otpauth://") {
            return Ok(ScanOutcome::Account(ImportedEntry::from_credential(
                uri::parse(text)?,
            )));
        }
        Err(ScanError::NotAnAuthenticatorCode)
    }

    /// Progress of every unfinished Google export.
    pub fn pending(&self) -> Vec<BatchProgress> {
        self.batches
            .batch_ids()
            .into_iter()
            .filter_map(|id| self.batches.progress(id))
            .collect()
    }
}
