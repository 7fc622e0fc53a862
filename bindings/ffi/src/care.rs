//! Never locked out, for the apps: recovery codes (bytes in, bytes out through
//! `export_recovery_codes`), restore drills, the status screen, the security checkup, the
//! exposure ledger and rotation. Conversions only; the rules are the core's.

use std::path::Path;

use twofold_core::backup;
use twofold_core::vault::care::{self, ExposureWay as CoreWay, RecoveryCodesPolicy};
use twofold_core::vault::checkup::{self, Severity};
use zeroize::Zeroize;

use crate::convert::*;
use crate::error::{InputProblem, Result, TwofoldError};
use crate::session::VaultSession;

/// One recovery code, revealed. `code` is UTF-8 bytes: wipe them after showing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryCodeView {
    /// The code as the service printed it, as UTF-8 bytes.
    pub code: Vec<u8>,
    /// Spent: the service accepts it no more.
    pub used: bool,
    /// When it was marked used (ms since the epoch); null if unused or not known.
    pub used_at: Option<i64>,
}

/// How many recovery codes an account has, without revealing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryCodeSummary {
    /// Recovery codes stored for the account.
    pub total: u32,
    /// Those not yet used.
    pub unused: u32,
}

/// How a secret left the vault in copyable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ExposureWay {
    /// A plain otpauth:// list export.
    OtpauthExport,
    /// An unencrypted Aegis export.
    AegisPlainExport,
    /// Google Authenticator transfer QR codes.
    GoogleQrExport,
    /// A FIDO CXF export (unencrypted JSON).
    CxfExport,
    /// The entry's otpauth URI shown as text.
    UriShown,
    /// The entry's QR code shown on screen.
    QrShown,
}

impl From<ExposureWay> for CoreWay {
    fn from(w: ExposureWay) -> Self {
        match w {
            ExposureWay::OtpauthExport => CoreWay::OtpauthExport,
            ExposureWay::AegisPlainExport => CoreWay::AegisPlainExport,
            ExposureWay::GoogleQrExport => CoreWay::GoogleQrExport,
            ExposureWay::CxfExport => CoreWay::CxfExport,
            ExposureWay::UriShown => CoreWay::UriShown,
            ExposureWay::QrShown => CoreWay::QrShown,
        }
    }
}

impl From<CoreWay> for ExposureWay {
    fn from(w: CoreWay) -> Self {
        match w {
            CoreWay::OtpauthExport => ExposureWay::OtpauthExport,
            CoreWay::AegisPlainExport => ExposureWay::AegisPlainExport,
            CoreWay::GoogleQrExport => ExposureWay::GoogleQrExport,
            CoreWay::CxfExport => ExposureWay::CxfExport,
            CoreWay::UriShown => ExposureWay::UriShown,
            CoreWay::QrShown => ExposureWay::QrShown,
        }
    }
}

/// One record of the exposure ledger.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExposureView {
    /// The entry whose secret left (a UUID).
    pub entry_id: EntryId,
    /// How it left.
    pub way: ExposureWay,
    /// What happened, in English.
    pub description: String,
    /// When it first left this way (ms since the epoch).
    pub first_at: i64,
    /// When it last left this way (ms since the epoch).
    pub last_at: i64,
    /// How many times it left this way.
    pub count: u32,
}

/// The credential a drill used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DrillCredentialKind {
    /// The backup's own password (or the vault password it was sealed with).
    Password,
    /// The vault's recovery key.
    RecoveryKey,
}

/// A restore drill that opened its backup.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DrillView {
    /// When the drill ran (ms since the epoch).
    pub at: i64,
    /// What the user typed to open the backup.
    pub credential: DrillCredentialKind,
    /// The backup's file name (no directories).
    pub file: String,
    /// When the backup was made (ms since the epoch).
    pub backup_made_at: i64,
    /// Live accounts in the backup.
    pub entries: u32,
    /// Accounts of the vault missing from the backup.
    pub missing: u32,
    /// Accounts in both that changed since the backup was made.
    pub changed: u32,
    /// Accounts only in the backup (trashed or deleted since).
    pub extra: u32,
    /// Everything in the vault is in the backup as it is now.
    pub complete: bool,
}

impl From<&care::DrillRecord> for DrillView {
    fn from(d: &care::DrillRecord) -> Self {
        DrillView {
            at: d.at,
            credential: match d.credential {
                care::DrillCredential::Password => DrillCredentialKind::Password,
                care::DrillCredential::RecoveryKey => DrillCredentialKind::RecoveryKey,
            },
            file: d.file.clone(),
            backup_made_at: d.backup_made_at,
            entries: d.entries,
            missing: d.missing,
            changed: d.changed,
            extra: d.extra,
            complete: d.complete(),
        }
    }
}

/// What a drill found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DrillResult {
    /// What the drill found; recorded in the vault only when `authenticated`.
    pub drill: DrillView,
    /// The backup was made with this vault's current keys. False: the drill proves nothing
    /// and was **not recorded** (anyone who can write to the backup folder can make a backup
    /// that opens, since every slot holds only public keys); show "not recorded".
    pub authenticated: bool,
}

/// "Last restore drill: 3 weeks ago, OK" and the rest of the status screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CareStatusView {
    /// When the newest backup known to open was made (ms since the epoch); null if none.
    pub newest_verified_backup: Option<i64>,
    /// Accounts added, edited or trashed since that backup was made (all, when there is none).
    pub changed_since_backup: u32,
    /// The most recent successful drill; null before the first.
    pub last_drill: Option<DrillView>,
    /// No drill yet, or the last is older than the drill interval (a setting).
    pub drill_due: bool,
    /// When the user last proved to have the recovery key (ms since the epoch); null if never.
    pub recovery_key_confirmed_at: Option<i64>,
    /// Accounts whose secret left the vault (exposure ledger) and was not rotated since.
    pub exposed_entries: u32,
}

/// How urgent a checkup finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FindingSeverity {
    /// Worth knowing.
    Info,
    /// Fix it soon.
    Warning,
    /// A lock-out or a leak is likely: fix it now.
    Critical,
}

/// One finding of the security checkup.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FindingView {
    /// Stable id (`kind`, or `kind:entry-id`).
    pub id: String,
    /// The kind alone (`backup-none`, `weak-secret`, …; the part of `id` before `:`).
    pub kind: String,
    /// How urgent it is.
    pub severity: FindingSeverity,
    /// What is wrong, in an English sentence for the user (names accounts, never a secret).
    pub message: String,
    /// What to do about it, in an English sentence.
    pub fix: String,
    /// Ids (UUIDs) of the accounts it concerns; empty for findings about the whole vault.
    pub entry_ids: Vec<EntryId>,
}

/// Which accounts the checkup expects recovery codes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecoveryCodesFor {
    /// Accounts whose issuer is in `importantIssuers`.
    Important,
    /// Every account.
    All,
    /// No account: the checkup says nothing about recovery codes.
    Off,
}

/// The checkup's settings.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckupSettingsView {
    /// A verified backup older than this many days is a finding (1–3650).
    pub backup_max_age_days: u32,
    /// No successful restore drill within this many days is a finding, and a drill is due
    /// (1–3650).
    pub drill_interval_days: u32,
    /// An account not used for this many days is a finding (1–3650).
    pub unused_days: u32,
    /// An HOTP counter this many codes past the last one used is a finding (1–1000).
    pub hotp_look_ahead: u32,
    /// Which accounts are expected to have recovery codes.
    pub recovery_codes_for: RecoveryCodesFor,
    /// Issuers (matched ignoring case and accents) whose accounts must have recovery codes.
    pub important_issuers: Vec<String>,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RotationResult {
    /// The new entry (same names, note, groups and recovery codes; the new secret).
    pub new_entry: EntryView,
    /// Id of the old entry, now in the trash.
    pub old_entry_id: EntryId,
    /// Exposure ledger records cleared.
    pub cleared_exposures: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn texts(codes: Vec<Vec<u8>>) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(codes.len());
    let mut codes = codes.into_iter();
    while let Some(c) = codes.next() {
        match secret_text(c) {
            Ok(mut t) => out.push(std::mem::take(&mut *t)),
            Err(e) => {
                for mut rest in codes {
                    rest.zeroize();
                }
                for mut done in out {
                    done.zeroize();
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

#[uniffi::export]
impl VaultSession {
    /// Adds recovery codes (UTF-8 bytes, wiped by the facade) to an account; all are checked
    /// first (not empty, at most 128 characters, no control characters, at most 64 per
    /// account) and none is added if one is refused. Returns how many were new.
    pub fn add_recovery_codes(&self, id: EntryId, codes: Vec<Vec<u8>>) -> Result<u32> {
        let id = id.0;
        let mut list = texts(codes)?;
        let r = self.inner.add_recovery_codes(id, &list);
        for t in &mut list {
            t.zeroize();
        }
        Ok(count(r?))
    }

    /// Marks a recovery code used (matched ignoring case, spaces and hyphens).
    pub fn use_recovery_code(&self, id: EntryId, code: Vec<u8>) -> Result<()> {
        let id = id.0;
        let text = secret_text(code)?;
        Ok(self.inner.use_recovery_code(id, &text)?)
    }

    /// An account's recovery codes, unused first. An explicit export: re-authenticate the
    /// user before calling it.
    pub fn export_recovery_codes(&self, id: EntryId) -> Result<Vec<RecoveryCodeView>> {
        Ok(self
            .inner
            .recovery_codes(id.0)?
            .iter()
            .map(|c| RecoveryCodeView {
                code: secret_bytes(c.code.clone()),
                used: c.used,
                used_at: c.used_at,
            })
            .collect())
    }

    /// How many recovery codes an account has and how many are unused (no codes revealed).
    pub fn recovery_code_summary(&self, id: EntryId) -> Result<RecoveryCodeSummary> {
        let codes = self.inner.recovery_codes(id.0)?;
        Ok(RecoveryCodeSummary {
            total: count(codes.len()),
            unused: count(codes.iter().filter(|c| !c.used).count()),
        })
    }

    /// A restore drill on a backup file: opens it with the credential the user typed from
    /// memory, compares it with the vault and records the drill if the backup is this
    /// vault's (`authenticated`). A wrong credential is `WrongCredential` and records nothing.
    pub fn restore_drill(&self, path: String, key: BackupKey) -> Result<DrillResult> {
        let mut parsed = None;
        let credential = Self::backup_key(&key, &mut parsed)?;
        let r = backup::drill(&self.inner, Path::new(&path), &credential)?;
        Ok(DrillResult {
            drill: (&r.record).into(),
            authenticated: r.authenticated,
        })
    }

    /// `restore_drill` on backup bytes the app read from a document provider; `name` is
    /// what the record calls the file.
    pub fn restore_drill_bytes(
        &self,
        bytes: Vec<u8>,
        name: String,
        key: BackupKey,
    ) -> Result<DrillResult> {
        let mut parsed = None;
        let credential = Self::backup_key(&key, &mut parsed)?;
        let r = backup::drill_bytes(&self.inner, &bytes, &name, &credential)?;
        Ok(DrillResult {
            drill: (&r.record).into(),
            authenticated: r.authenticated,
        })
    }

    /// Backups verified, the last drill and whether one is due, the recovery key's last
    /// confirmation, exposed accounts.
    pub fn care_status(&self) -> Result<CareStatusView> {
        let s = self.inner.care_status()?;
        Ok(CareStatusView {
            newest_verified_backup: s.newest_verified_backup,
            changed_since_backup: count(s.changed_since_backup),
            last_drill: s.last_drill.as_ref().map(DrillView::from),
            drill_due: s.drill_due,
            recovery_key_confirmed_at: s.recovery_key_confirmed_at,
            exposed_entries: count(s.exposed_entries),
        })
    }

    /// The security checkup, most severe first.
    pub fn security_checkup(&self) -> Result<Vec<FindingView>> {
        Ok(checkup::run(&self.inner)?
            .into_iter()
            .map(|f| FindingView {
                id: f.id,
                kind: f.kind.to_owned(),
                severity: match f.severity {
                    Severity::Info => FindingSeverity::Info,
                    Severity::Warning => FindingSeverity::Warning,
                    Severity::Critical => FindingSeverity::Critical,
                },
                message: f.message,
                fix: f.fix,
                entry_ids: f.entries.iter().copied().map(EntryId).collect(),
            })
            .collect())
    }

    /// The checkup's settings as stored.
    pub fn checkup_settings(&self) -> Result<CheckupSettingsView> {
        let s = self.inner.care()?.settings;
        Ok(CheckupSettingsView {
            backup_max_age_days: s.backup_max_age_days,
            drill_interval_days: s.drill_interval_days,
            unused_days: s.unused_days,
            hotp_look_ahead: s.hotp_look_ahead,
            recovery_codes_for: match s.recovery_codes {
                RecoveryCodesPolicy::Important => RecoveryCodesFor::Important,
                RecoveryCodesPolicy::All => RecoveryCodesFor::All,
                RecoveryCodesPolicy::Off => RecoveryCodesFor::Off,
            },
            important_issuers: s.important_issuers,
        })
    }

    /// Changes the checkup's settings (days 1–3650, look-ahead 1–1000, issuers within the
    /// name limit); out of range is `InvalidInput` and nothing changes.
    pub fn set_checkup_settings(&self, settings: CheckupSettingsView) -> Result<()> {
        Ok(self.inner.set_checkup_settings(care::CheckupSettings {
            backup_max_age_days: settings.backup_max_age_days,
            drill_interval_days: settings.drill_interval_days,
            unused_days: settings.unused_days,
            hotp_look_ahead: settings.hotp_look_ahead,
            recovery_codes: match settings.recovery_codes_for {
                RecoveryCodesFor::Important => RecoveryCodesPolicy::Important,
                RecoveryCodesFor::All => RecoveryCodesPolicy::All,
                RecoveryCodesFor::Off => RecoveryCodesPolicy::Off,
            },
            important_issuers: settings.important_issuers,
        })?)
    }

    /// The exposure ledger, most recent first.
    pub fn exposures(&self) -> Result<Vec<ExposureView>> {
        let mut list = self.inner.care()?.exposures;
        list.sort_by_key(|x| std::cmp::Reverse(x.last_at));
        Ok(list
            .into_iter()
            .map(|x| ExposureView {
                entry_id: EntryId(x.entry),
                way: x.way.into(),
                description: x.way.describe().to_owned(),
                first_at: x.first_at,
                last_at: x.last_at,
                count: x.count,
            })
            .collect())
    }

    /// An entry's otpauth URI (UTF-8 bytes) to show as text or as a QR code (`way`):
    /// recorded in the exposure ledger first. An explicit export: re-authenticate first.
    pub fn export_entry_uri_as(&self, id: EntryId, way: ExposureWay) -> Result<Vec<u8>> {
        Ok(secret_bytes(self.inner.reveal_uri(id.0, way.into())?))
    }

    /// Records that the app let these entries' secrets out in copyable form itself.
    pub fn record_exposure(&self, ids: Vec<EntryId>, way: ExposureWay) -> Result<()> {
        let ids = ids.iter().map(|i| i.0).collect::<Vec<_>>();
        Ok(self.inner.record_exposure(&ids, way.into())?)
    }

    /// Rotation after re-enrolling at the service: `uri` is the new otpauth URI (UTF-8
    /// bytes, wiped), `accepted_code` a code of it the service accepted. The old entry goes
    /// to the trash and its exposures clear; a code the new secret does not give now is
    /// `InvalidInput { RotationCodeMismatch }` and nothing changes.
    pub fn rotate_entry(
        &self,
        id: EntryId,
        uri: Vec<u8>,
        accepted_code: String,
    ) -> Result<RotationResult> {
        let id = id.0;
        let text = secret_text(uri)?;
        let cred = twofold_core::uri::parse(&text)
            .map_err(|e| TwofoldError::input(InputProblem::Uri, e.to_string()))?;
        let r = self
            .inner
            .rotate_entry(id, cred.kind, cred.secret.clone(), &accepted_code)?;
        Ok(RotationResult {
            new_entry: (&r.new_entry).into(),
            old_entry_id: EntryId(r.old_entry),
            cleared_exposures: count(r.cleared_exposures),
        })
    }
}
