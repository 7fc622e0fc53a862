//! Explicit exports of an unlocked vault's live accounts to other apps' formats — the one
//! place the CLI and the apps get them from, with the session's own randomness. Every one
//! carries the secrets out of the core: callers re-authenticate the user first and write the
//! result somewhere private.

use zeroize::Zeroizing;

use crate::backup::{self, BackupOptions, PreparedBackup};
use crate::interop::cxf::Skipped;
use crate::interop::{aegis, cxf, google, otpauth_list};
use crate::vault::care::ExposureWay;
use crate::vault::{Entry, EntryId, VaultError, VaultSession};

/// Why an export failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The vault is locked, or reading it failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The format could not be written (for example no randomness for its encryption).
    #[error("the export could not be made: {0}")]
    Failed(String),
    /// The format is encrypted and no password (or an empty one) was given.
    #[error("choose a password for the exported file")]
    PasswordNeeded,
    /// The format is drawn on screen (Google Authenticator QR codes), not saved as a file.
    #[error("{0} is shown on screen, not saved as a file")]
    NotAFile(&'static str),
    /// What storage returned is not what was written.
    #[error("the saved file does not read back the same; save it again")]
    ReadBackDiffers,
}

fn failed(e: impl std::fmt::Display) -> ExportError {
    ExportError::Failed(e.to_string())
}

fn live(session: &VaultSession) -> Result<Vec<Entry>, ExportError> {
    Ok(session.entries()?)
}

/// Records the accounts an unencrypted export carries in the exposure ledger — before the
/// export is handed out, so an export the ledger cannot record is not made.
fn record(
    session: &VaultSession,
    entries: &[Entry],
    skipped: &[Skipped],
    way: ExposureWay,
) -> Result<(), ExportError> {
    let ids: Vec<EntryId> = entries
        .iter()
        .filter(|e| !skipped.iter().any(|s| s.id == e.id))
        .map(|e| e.id)
        .collect();
    Ok(session.record_exposure(&ids, way)?)
}

/// Accounts whose recovery codes a format of another app leaves out (it has no place for
/// them), as "Issuer (account)" — for the export's report. Twofold's own backups and
/// transfers keep them.
pub fn recovery_codes_left_out(session: &VaultSession) -> Result<Vec<String>, ExportError> {
    Ok(live(session)?
        .iter()
        .filter(|e| !e.recovery_codes.is_empty())
        .map(Entry::display_name)
        .collect())
}

/// otpauth:// URIs, one per line.
pub fn otpauth_list(session: &VaultSession) -> Result<Zeroizing<String>, ExportError> {
    let entries = live(session)?;
    record(session, &entries, &[], ExposureWay::OtpauthExport)?;
    Ok(Zeroizing::new(otpauth_list::export(
        &entries.iter().collect::<Vec<_>>(),
    )))
}

/// Aegis JSON, encrypted with Aegis's own parameters when `password` is given.
pub fn aegis(
    session: &VaultSession,
    password: Option<&[u8]>,
) -> Result<Zeroizing<String>, ExportError> {
    let entries = live(session)?;
    let refs: Vec<&Entry> = entries.iter().collect();
    let groups = session.groups()?;
    let rng = session.env().rng.as_ref();
    Ok(Zeroizing::new(match password {
        Some(pw) => aegis::export_encrypted(&refs, &groups, pw, rng).map_err(failed)?,
        None => {
            let doc = aegis::export_plain(&refs, &groups, rng).map_err(failed)?;
            record(session, &entries, &[], ExposureWay::AegisPlainExport)?;
            doc
        }
    }))
}

/// Google Authenticator `otpauth-migration://` URIs (one per QR code), and the accounts
/// that format cannot hold.
pub fn google_migration(
    session: &VaultSession,
) -> Result<(Vec<Zeroizing<String>>, Vec<Skipped>), ExportError> {
    let entries = live(session)?;
    let (uris, skipped) = google::export_random(
        &entries.iter().collect::<Vec<_>>(),
        session.env().rng.as_ref(),
    )
    .map_err(failed)?;
    record(session, &entries, &skipped, ExposureWay::GoogleQrExport)?;
    Ok((uris.into_iter().map(Zeroizing::new).collect(), skipped))
}

/// FIDO CXF JSON (TOTP accounts), made at `now_ms`, and the accounts left out.
pub fn cxf(
    session: &VaultSession,
    now_ms: i64,
) -> Result<(Zeroizing<String>, Vec<Skipped>), ExportError> {
    let entries = live(session)?;
    let (doc, skipped) = cxf::export(
        &entries.iter().collect::<Vec<_>>(),
        now_ms,
        session.env().rng.as_ref(),
    )
    .map_err(failed)?;
    record(session, &entries, &skipped, ExposureWay::CxfExport)?;
    Ok((Zeroizing::new(doc), skipped))
}

/// The formats the apps offer on their export screen, in the order they list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// A Twofold backup (encrypted; opens with the password and, when sealed to it, the
    /// recovery key).
    TwofoldBackup,
    /// Aegis JSON, encrypted with Aegis's parameters.
    AegisEncrypted,
    /// Aegis JSON, not encrypted.
    AegisPlain,
    /// otpauth:// URIs, one per line.
    OtpauthList,
    /// FIDO Credential Exchange (CXF) JSON.
    Cxf,
    /// Google Authenticator transfer QR codes, drawn on screen.
    GoogleQr,
}

/// What an export screen shows about a format and what saving it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFormatInfo {
    /// The format.
    pub kind: ExportKind,
    /// Its name for a list ("Aegis (encrypted)").
    pub name: &'static str,
    /// The file name to suggest in a "save as" dialog (empty for QR codes on screen).
    pub file_name: String,
    /// The document's MIME type (empty for QR codes on screen).
    pub mime_type: &'static str,
    /// The user must choose a password for the file.
    pub needs_password: bool,
    /// The secrets are readable by anyone who gets the file or sees the codes: warn first.
    pub plaintext: bool,
    /// Saved as a file (`false`: drawn on screen).
    pub is_file: bool,
}

impl ExportKind {
    /// Every format, in the order an export screen lists them.
    pub const ALL: [ExportKind; 6] = [
        ExportKind::TwofoldBackup,
        ExportKind::AegisEncrypted,
        ExportKind::AegisPlain,
        ExportKind::OtpauthList,
        ExportKind::Cxf,
        ExportKind::GoogleQr,
    ];

    /// The catalogue entry of this format; file names that carry a time use `now_ms`.
    pub fn info(self, now_ms: i64) -> ExportFormatInfo {
        let (name, file_name, mime_type, needs_password, plaintext) = match self {
            ExportKind::TwofoldBackup => (
                "Twofold backup (encrypted)",
                backup::auto_backup_name(now_ms).replacen("twofold-", "twofold-export-", 1),
                "application/octet-stream",
                true,
                false,
            ),
            ExportKind::AegisEncrypted => (
                "Aegis (encrypted)",
                "aegis-export.json".to_owned(),
                "application/json",
                true,
                false,
            ),
            ExportKind::AegisPlain => (
                "Aegis (not encrypted)",
                "aegis-export-plain.json".to_owned(),
                "application/json",
                false,
                true,
            ),
            ExportKind::OtpauthList => (
                "otpauth:// links (not encrypted)",
                "twofold-accounts.txt".to_owned(),
                "text/plain",
                false,
                true,
            ),
            ExportKind::Cxf => (
                "Credential Exchange (CXF, not encrypted)",
                "twofold-export.cxf.json".to_owned(),
                "application/json",
                false,
                true,
            ),
            ExportKind::GoogleQr => (
                "Google Authenticator QR codes",
                String::new(),
                "",
                false,
                true,
            ),
        };
        ExportFormatInfo {
            kind: self,
            name,
            file_name,
            mime_type,
            needs_password,
            plaintext,
            is_file: self != ExportKind::GoogleQr,
        }
    }
}

/// The export catalogue at `now_ms`: every format an app offers, with its file name, MIME
/// type, and whether it needs a password or leaves the secrets readable.
pub fn catalogue(now_ms: i64) -> Vec<ExportFormatInfo> {
    ExportKind::ALL.iter().map(|k| k.info(now_ms)).collect()
}

/// An export file made in memory for the app to save where the user chose (a document
/// provider), counted as saved only once [`PendingExport::confirm`] accepts what storage
/// gives back. Its bytes carry the secrets (or the encrypted vault) and are wiped on drop.
pub struct PendingExport {
    kind: ExportKind,
    body: Pending,
    skipped: Vec<Skipped>,
}

enum Pending {
    File(Zeroizing<Vec<u8>>),
    Backup(Box<PreparedBackup>),
}

impl std::fmt::Debug for PendingExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PendingExport({:?}, {} bytes)",
            self.kind,
            self.bytes().len()
        )
    }
}

impl PendingExport {
    /// Makes the export of `kind` from the live accounts at `now_ms`. Encrypted formats need
    /// a non-empty `password` ([`ExportError::PasswordNeeded`]); a plain format ignores it.
    /// Google QR codes are drawn, not saved ([`google_migration`]).
    pub fn new(
        session: &VaultSession,
        kind: ExportKind,
        password: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<Self, ExportError> {
        let info = kind.info(now_ms);
        let password = password.filter(|p| !p.is_empty());
        if info.needs_password && password.is_none() {
            return Err(ExportError::PasswordNeeded);
        }
        let text = |s: Zeroizing<String>| Pending::File(Zeroizing::new(s.as_bytes().to_vec()));
        let (body, skipped) = match kind {
            ExportKind::TwofoldBackup => (
                Pending::Backup(Box::new(PreparedBackup::new(
                    session,
                    &BackupOptions::sealed(password, true),
                )?)),
                vec![],
            ),
            ExportKind::AegisEncrypted => (text(aegis(session, password)?), vec![]),
            ExportKind::AegisPlain => (text(aegis(session, None)?), vec![]),
            ExportKind::OtpauthList => (text(otpauth_list(session)?), vec![]),
            ExportKind::Cxf => {
                let (doc, skipped) = cxf(session, now_ms)?;
                (text(doc), skipped)
            }
            ExportKind::GoogleQr => return Err(ExportError::NotAFile(info.name)),
        };
        Ok(PendingExport {
            kind,
            body,
            skipped,
        })
    }

    /// The format.
    pub fn kind(&self) -> ExportKind {
        self.kind
    }

    /// The file to write.
    pub fn bytes(&self) -> &[u8] {
        match &self.body {
            Pending::File(b) => b,
            Pending::Backup(b) => b.bytes(),
        }
    }

    /// Accounts the format cannot hold (listed to the user, never dropped silently).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Confirms the export from the bytes storage returned when read back: they must be
    /// exactly what was written, and a Twofold backup must also decrypt to the vault.
    pub fn confirm(&self, read_back: &[u8]) -> Result<(), ExportError> {
        match &self.body {
            Pending::File(b) => {
                if read_back != b.as_slice() {
                    return Err(ExportError::ReadBackDiffers);
                }
            }
            Pending::Backup(b) => {
                b.confirm(read_back, std::path::Path::new(""))?;
            }
        }
        Ok(())
    }
}
