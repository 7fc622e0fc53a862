//! Explicit exports of an unlocked vault's live accounts to other apps' formats — the one
//! place the CLI and the apps get them from, with the session's own randomness. Every one
//! carries the secrets out of the core: callers re-authenticate the user first and write the
//! result somewhere private.

use zeroize::Zeroizing;

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
