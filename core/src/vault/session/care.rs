//! The session's side of `vault::care`: recovery codes, the exposure ledger, verified
//! backups and drills, the checkup's settings, and rotating an exposed secret. Every change
//! goes through the one transaction engine (`commit.rs`): a failed step writes nothing.

use zeroize::Zeroizing;

use super::*;
use crate::Secret;
use crate::vault::care::{CareState, CheckupSettings, DrillRecord, ExposureWay, VerifiedBackup};
use crate::vault::edit::{InsertPolicy, NewEntry};
use crate::vault::recovery_codes::{self as codes, RecoveryCode};
use crate::vault::{InputError, SlotKind};

/// What [`VaultSession::rotate_entry`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The new entry (same names, note, groups, recovery codes; the new secret).
    pub new_entry: Entry,
    /// The old entry, now in the trash.
    pub old_entry: EntryId,
    /// Ledger records cleared.
    pub cleared_exposures: usize,
}

/// How many TOTP steps back a rotation accepts the confirming code (the user types it into
/// Twofold after the service accepted it).
const ROTATION_STEPS_BACK: u64 = 4;

/// Whether `code` is what `kind`/`secret` gives at `now_ms` (±, see above), and for HOTP the
/// counter after it.
fn check_code(
    kind: &OtpKind,
    secret: &Secret,
    code: &str,
    now_ms: u64,
    look_ahead: u32,
) -> Option<OtpKind> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.is_empty() {
        return None;
    }
    let eq = |a: &str| a == typed;
    match *kind {
        OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } => (0..u64::from(look_ahead)).find_map(|i| {
            let c = counter.checked_add(i)?;
            eq(&otp::hotp(secret, algorithm, digits, c)).then(|| OtpKind::Hotp {
                algorithm,
                digits,
                counter: c.saturating_add(1),
            })
        }),
        _ => {
            let period_ms = u64::from(kind.period().unwrap_or(30).max(1)) * 1000;
            (0..=ROTATION_STEPS_BACK + 1).find_map(|i| {
                // i = 0 is the next step (a clock slightly behind the service's).
                let t = if i == 0 {
                    now_ms.saturating_add(period_ms)
                } else {
                    now_ms.checked_sub((i - 1) * period_ms)?
                };
                let c = otp::code_for(kind, secret, t).code?;
                eq(&c).then_some(*kind)
            })
        }
    }
}

impl VaultSession {
    /// What the vault records about backups, drills, exposures and the checkup.
    pub fn care(&self) -> Result<CareState, VaultError> {
        let guard = self.read_state();
        Ok(guard.as_ref().ok_or(VaultError::Locked)?.care.clone())
    }

    /// What the apps show about backups, drills and exposures, at the session's clock.
    pub fn care_status(&self) -> Result<crate::vault::care::CareStatus, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(open.care.status(&open.content, self.now()))
    }

    /// The kinds of the vault's key slots.
    pub fn slot_kinds(&self) -> Result<Vec<SlotKind>, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(open.header.slots.iter().map(|s| s.kind).collect())
    }

    /// Applies a change to copies of the content and the care state, commits both in one
    /// write, then makes them current.
    pub(crate) fn mutate_care<R>(
        &self,
        change: impl FnOnce(&mut VaultContent, &mut CareState, i64) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let now = self.now();
        let mut content = open.content.clone();
        let mut care = open.care.clone();
        let result = change(&mut content, &mut care, now)?;
        let ids: std::collections::HashSet<EntryId> =
            content.entries.iter().map(|e| e.id).collect();
        care.forget_missing(|id| ids.contains(&id));
        self.commit(
            open,
            commit::Change {
                care: Some(care),
                ..commit::Change::content(content)
            },
        )?;
        Ok(result)
    }

    /// Adds recovery codes to an account (each checked; all or nothing). Returns how many
    /// were new.
    pub fn add_recovery_codes(&self, id: EntryId, texts: &[String]) -> Result<usize, VaultError> {
        self.mutate(|c, now| c.add_recovery_codes(id, texts, now))
    }

    /// Marks a recovery code used (matched ignoring case, spaces and hyphens).
    pub fn use_recovery_code(&self, id: EntryId, text: &str) -> Result<(), VaultError> {
        self.mutate(|c, now| c.use_recovery_code(id, text, now))
    }

    /// An account's recovery codes, unused first. They are secrets: callers re-authenticate
    /// the user before showing them.
    pub fn recovery_codes(&self, id: EntryId) -> Result<Vec<RecoveryCode>, VaultError> {
        self.read(|c| c.entry(id).map(|e| codes::unused_first(&e.recovery_codes)))?
            .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))
    }

    /// Records in the ledger that these entries' secrets left the vault `way`.
    pub fn record_exposure(&self, ids: &[EntryId], way: ExposureWay) -> Result<(), VaultError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.mutate_care(|content, care, now| {
            let known: std::collections::HashSet<EntryId> =
                content.entries.iter().map(|e| e.id).collect();
            if let Some(id) = ids.iter().find(|id| !known.contains(id)) {
                return Err(VaultError::NoSuchEntry(id.to_string()));
            }
            care.record_exposure(ids, way, now);
            Ok(())
        })
    }

    /// An entry's otpauth URI, to show (as text or a QR code): recorded in the exposure
    /// ledger first, so a failure to record shows nothing.
    pub fn reveal_uri(
        &self,
        id: EntryId,
        way: ExposureWay,
    ) -> Result<Zeroizing<String>, VaultError> {
        let entry = self.entry(id)?;
        self.record_exposure(&[id], way)?;
        Ok(Zeroizing::new(crate::uri::format(
            &crate::uri::Credential {
                kind: entry.kind,
                secret: entry.secret.clone(),
                issuer: entry.issuer.clone(),
                account: entry.account.clone(),
            },
        )))
    }

    /// Records a backup shown to open (made at `made_at`, holding `entries` accounts).
    pub fn record_verified_backup(
        &self,
        made_at: i64,
        entries: usize,
        how: crate::vault::care::BackupCheck,
    ) -> Result<(), VaultError> {
        self.mutate_care(|_, care, now| {
            care.note_verified(VerifiedBackup {
                made_at,
                verified_at: now,
                how,
                entries: u32::try_from(entries).unwrap_or(u32::MAX),
            });
            Ok(())
        })
    }

    /// Records a restore drill that opened a backup made with this vault's current keys (the
    /// drill's `at` is set to now). `key`: the recovery key the drill used, which confirms
    /// the vault's recovery key only if it is the current one ([`CareState::record_drill`]).
    pub fn record_drill(
        &self,
        mut drill: DrillRecord,
        key: Option<&crate::vault::RecoveryKey>,
    ) -> Result<DrillRecord, VaultError> {
        let key_is_current = match key {
            Some(k) => self.is_current_recovery_key(k)?,
            None => false,
        };
        self.mutate_care(|_, care, now| {
            drill.at = now;
            care.record_drill(drill.clone(), key_is_current);
            Ok(drill)
        })
    }

    /// Changes the checkup's settings (checked: days 1–3650, issuers within the name limit).
    pub fn set_checkup_settings(&self, settings: CheckupSettings) -> Result<(), VaultError> {
        let settings = settings.checked()?;
        self.mutate_care(|_, care, _| {
            care.settings = settings;
            Ok(())
        })
    }

    /// Rotation, after the user re-enrolled 2FA at the service: `kind`/`secret` are the new
    /// secret (from its URI or QR code) and `accepted_code` a code the service just accepted
    /// from it. When the code is what the new secret gives now (TOTP: this step, the next or
    /// up to four back; HOTP: the next codes within the checkup's look-ahead), a new entry
    /// takes the old one's names, note, groups, favorite, icon and recovery codes, the old
    /// one goes to the trash, and its exposures leave the ledger — one write. Otherwise
    /// nothing changes.
    pub fn rotate_entry(
        &self,
        old: EntryId,
        kind: OtpKind,
        secret: Secret,
        accepted_code: &str,
    ) -> Result<Rotation, VaultError> {
        kind.validate().map_err(InputError::from)?;
        let rng = self.env.rng.clone();
        self.mutate_care(|content, care, now| {
            let prev = content
                .entry(old)
                .filter(|e| e.deleted_at.is_none())
                .ok_or_else(|| VaultError::NoSuchEntry(old.to_string()))?
                .clone();
            if prev.secret == secret {
                return Err(InputError::RotationSameSecret.into());
            }
            let at = otp::effective_unix_ms(now, content.settings.clock_offset_s);
            let kind = check_code(
                &kind,
                &secret,
                accepted_code,
                at,
                care.settings.hotp_look_ahead,
            )
            .ok_or(InputError::RotationCodeMismatch)?;
            let groups: Vec<crate::vault::GroupRef> = prev
                .group_ids
                .iter()
                .map(|g| crate::vault::GroupRef::Id(*g))
                .collect();
            let new = NewEntry {
                kind,
                secret,
                issuer: prev.issuer.clone(),
                account: prev.account.clone(),
                note: prev.note.clone(),
                groups,
                favorite: prev.favorite,
                icon: prev.icon.clone(),
                recovery_codes: prev.recovery_codes.clone(),
            };
            let mut ids = std::iter::from_fn(|| new_id(rng.as_ref()).ok());
            let report = content.insert(
                vec![new],
                InsertPolicy {
                    on_duplicate: crate::vault::OnDuplicate::Error,
                    ..InsertPolicy::IMPORT
                },
                &mut ids,
                now,
            )?;
            if let Some(r) = report.rejected.first() {
                return Err(r.reason.clone().into());
            }
            let new_id = *report
                .added
                .first()
                .ok_or_else(|| VaultError::Internal("the new entry was not added".into()))?;
            content.trash(old, now)?;
            let cleared = care.clear_exposures(old);
            let new_entry = content
                .entry(new_id)
                .cloned()
                .ok_or_else(|| VaultError::Internal("the new entry is missing".into()))?;
            Ok(Rotation {
                new_entry,
                old_entry: old,
                cleared_exposures: cleared,
            })
        })
    }
}
