//! What the vault remembers to keep its owner from being locked out: the newest verified
//! backup, restore drills, when the recovery key was last proven, the exposure ledger (where
//! secrets left in a form someone could copy), and the checkup's settings.
//!
//! It lives in the vault's encrypted body next to the content (`care` in
//! `docs/vault-format.md`), not in the content: it describes this vault file and its backups,
//! so it does not travel in backups, transfers or sync (each device records its own exports,
//! drills and backups; `docs/sync-protocol.md`). Vaults written before it existed open with
//! the defaults. Never holds a secret: entry ids, ways, dates and counts only.

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_DRILLS, MAX_EXPOSURES, MAX_IMPORTANT_ISSUERS, MAX_NAME_LEN};
use crate::vault::model::EntryId;
use crate::vault::{InputError, VaultError};

/// How a backup was shown to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupCheck {
    /// Written, read back and compared right after it was made.
    Created,
    /// Opened by a restore drill with a credential typed from memory.
    Drill,
}

/// The newest backup known to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedBackup {
    /// When the backup was made (ms): entries changed after this are not in it.
    pub made_at: i64,
    /// When it was last shown to open (ms).
    pub verified_at: i64,
    /// How it was shown to open.
    pub how: BackupCheck,
    /// Live accounts in it.
    pub entries: u32,
}

/// The credential a restore drill used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrillCredential {
    /// The backup's own password (or the vault password it was sealed with).
    Password,
    /// The vault's recovery key.
    RecoveryKey,
}

impl DrillCredential {
    /// Stable name for reports and JSON (`password`, `recovery key`).
    pub fn name(self) -> &'static str {
        match self {
            DrillCredential::Password => "password",
            DrillCredential::RecoveryKey => "recovery key",
        }
    }
}

/// One restore drill that opened its backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillRecord {
    /// When the drill ran (ms).
    pub at: i64,
    /// What the user typed to open the backup.
    pub credential: DrillCredential,
    /// The backup's file name (no directories).
    pub file: String,
    /// When the backup was made (ms).
    pub backup_made_at: i64,
    /// Live accounts in the backup.
    pub entries: u32,
    /// Accounts of the vault missing from the backup.
    pub missing: u32,
    /// Accounts in both that changed since the backup was made.
    pub changed: u32,
    /// Accounts only in the backup (trashed or purged since).
    pub extra: u32,
}

impl DrillRecord {
    /// Everything in the vault is in the backup as it is now.
    pub fn complete(&self) -> bool {
        self.missing == 0 && self.changed == 0
    }
}

/// How a secret left the vault in a form someone could copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExposureWay {
    /// A plain otpauth:// list export.
    OtpauthExport,
    /// An unencrypted Aegis export.
    AegisPlainExport,
    /// Google Authenticator transfer QR codes.
    GoogleQrExport,
    /// A FIDO CXF export (unencrypted JSON).
    CxfExport,
    /// The entry's otpauth URI shown (`uri inspect` of a stored entry, "show secret").
    UriShown,
    /// The entry's QR code shown on screen.
    QrShown,
}

impl ExposureWay {
    /// Stable name (JSON, FFI).
    pub fn id(self) -> &'static str {
        match self {
            ExposureWay::OtpauthExport => "otpauth-export",
            ExposureWay::AegisPlainExport => "aegis-plain-export",
            ExposureWay::GoogleQrExport => "google-qr-export",
            ExposureWay::CxfExport => "cxf-export",
            ExposureWay::UriShown => "uri-shown",
            ExposureWay::QrShown => "qr-shown",
        }
    }

    /// What the user did, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            ExposureWay::OtpauthExport => "exported as a plain otpauth list",
            ExposureWay::AegisPlainExport => "exported to an unencrypted Aegis file",
            ExposureWay::GoogleQrExport => "exported as Google Authenticator QR codes",
            ExposureWay::CxfExport => "exported to an unencrypted CXF file",
            ExposureWay::UriShown => "its otpauth URI was shown",
            ExposureWay::QrShown => "its QR code was shown",
        }
    }

    /// The way whose [`id`](Self::id) is `id`; `None` for a name this build does not know.
    pub fn parse(id: &str) -> Option<Self> {
        [
            ExposureWay::OtpauthExport,
            ExposureWay::AegisPlainExport,
            ExposureWay::GoogleQrExport,
            ExposureWay::CxfExport,
            ExposureWay::UriShown,
            ExposureWay::QrShown,
        ]
        .into_iter()
        .find(|w| w.id() == id)
    }
}

/// One ledger record: an entry, a way, when first and last, how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// The entry whose secret left.
    pub entry: EntryId,
    /// How it left.
    pub way: ExposureWay,
    /// When it first left this way (ms since the epoch).
    pub first_at: i64,
    /// When it last left this way (ms since the epoch).
    pub last_at: i64,
    /// How many times it left this way (saturating).
    pub count: u32,
}

/// Which accounts the checkup expects recovery codes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryCodesPolicy {
    /// Accounts whose issuer is in [`CheckupSettings::important_issuers`].
    Important,
    /// Every account.
    All,
    /// No finding.
    Off,
}

/// The checkup's thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckupSettings {
    /// A verified backup older than this is a finding.
    #[serde(default = "d_backup")]
    pub backup_max_age_days: u32,
    /// No successful restore drill within this many days is a finding (the apps offer a
    /// drill at this interval).
    #[serde(default = "d_drill")]
    pub drill_interval_days: u32,
    /// An account not used for this long is a finding.
    #[serde(default = "d_unused")]
    pub unused_days: u32,
    /// An HOTP counter this many codes past the last one used is a finding (servers look
    /// ahead only a few codes).
    #[serde(default = "d_hotp")]
    pub hotp_look_ahead: u32,
    /// Which accounts are expected to have recovery codes.
    #[serde(default = "d_policy")]
    pub recovery_codes: RecoveryCodesPolicy,
    /// Issuers (matched ignoring case and accents) whose accounts must have recovery codes.
    #[serde(default)]
    pub important_issuers: Vec<String>,
}

fn d_backup() -> u32 {
    30
}
fn d_drill() -> u32 {
    90
}
fn d_unused() -> u32 {
    365
}
fn d_hotp() -> u32 {
    10
}
fn d_policy() -> RecoveryCodesPolicy {
    RecoveryCodesPolicy::Important
}

impl Default for CheckupSettings {
    fn default() -> Self {
        CheckupSettings {
            backup_max_age_days: d_backup(),
            drill_interval_days: d_drill(),
            unused_days: d_unused(),
            hotp_look_ahead: d_hotp(),
            recovery_codes: d_policy(),
            important_issuers: Vec::new(),
        }
    }
}

/// Longest threshold in days (ten years).
pub const MAX_DAYS: u32 = 3650;
/// Largest HOTP look-ahead (codes).
pub const MAX_HOTP_LOOK_AHEAD: u32 = 1000;

/// Whether an important issuer's name can be kept (trimmed): non-empty, within the name
/// limit, no control characters.
fn issuer_ok(trimmed: &str) -> bool {
    !trimmed.is_empty()
        && trimmed.chars().count() <= MAX_NAME_LEN
        && !trimmed.chars().any(char::is_control)
}

impl CheckupSettings {
    /// Every value in range; issuers trimmed, non-empty, within the name limit.
    pub fn checked(mut self) -> Result<Self, VaultError> {
        let bad = |what: &str| VaultError::from(InputError::CheckupSetting(what.to_owned()));
        for (name, v) in [
            ("backup age", self.backup_max_age_days),
            ("drill interval", self.drill_interval_days),
            ("unused-account age", self.unused_days),
        ] {
            if !(1..=MAX_DAYS).contains(&v) {
                return Err(bad(&format!("the {name} must be 1 to {MAX_DAYS} days")));
            }
        }
        if !(1..=MAX_HOTP_LOOK_AHEAD).contains(&self.hotp_look_ahead) {
            return Err(bad(&format!(
                "the HOTP look-ahead must be 1 to {MAX_HOTP_LOOK_AHEAD} codes"
            )));
        }
        if self.important_issuers.len() > MAX_IMPORTANT_ISSUERS {
            return Err(bad(&format!(
                "at most {MAX_IMPORTANT_ISSUERS} important issuers"
            )));
        }
        if self.important_issuers.iter().any(|i| !issuer_ok(i.trim())) {
            return Err(InputError::NameTooLong {
                field: crate::vault::NameField::Issuer,
                max: MAX_NAME_LEN,
            }
            .into());
        }
        self.important_issuers = distinct_issuers(&self.important_issuers);
        Ok(self)
    }

    /// The settings brought into range, as [`checked`](Self::checked) would accept them:
    /// each threshold clamped, issuers that cannot be kept dropped, the rest trimmed,
    /// deduplicated and at most [`MAX_IMPORTANT_ISSUERS`] (for settings read from a file,
    /// which no one can be asked to correct).
    pub fn clamped(mut self) -> Self {
        for v in [
            &mut self.backup_max_age_days,
            &mut self.drill_interval_days,
            &mut self.unused_days,
        ] {
            *v = (*v).clamp(1, MAX_DAYS);
        }
        self.hotp_look_ahead = self.hotp_look_ahead.clamp(1, MAX_HOTP_LOOK_AHEAD);
        let kept: Vec<String> = self
            .important_issuers
            .iter()
            .filter(|i| issuer_ok(i.trim()))
            .cloned()
            .collect();
        let mut issuers = distinct_issuers(&kept);
        issuers.truncate(MAX_IMPORTANT_ISSUERS);
        self.important_issuers = issuers;
        self
    }
}

/// Trimmed, the first of each name as [`crate::vault::model::fold`] compares them.
fn distinct_issuers(names: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|i| i.trim())
        .filter(|t| seen.insert(crate::vault::model::fold(t)))
        .map(str::to_owned)
        .collect()
}

/// An HOTP counter as it was when the account's code was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotpUse {
    /// The HOTP entry.
    pub entry: EntryId,
    /// Its counter (that of its next code) when a code was last used.
    pub counter: u64,
}

/// Everything in this module, as stored in the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CareState {
    /// The newest backup known to open; `None` before the first.
    #[serde(default)]
    pub backup: Option<VerifiedBackup>,
    /// Successful drills, oldest first, at most [`MAX_DRILLS`].
    #[serde(default)]
    pub drills: Vec<DrillRecord>,
    /// When the user last proved to have the recovery key (typed it, or a drill with it).
    #[serde(default)]
    pub recovery_key_confirmed_at: Option<i64>,
    /// The exposure ledger, at most [`MAX_EXPOSURES`] records.
    #[serde(default)]
    pub exposures: Vec<Exposure>,
    /// The checkup's thresholds as the user set them.
    #[serde(default)]
    pub settings: CheckupSettings,
    /// The HOTP counter at the last use of each HOTP account's code.
    #[serde(default)]
    pub hotp_used: Vec<HotpUse>,
}

impl CareState {
    /// Records that `entries` left the vault `way` at `now`. The ledger keeps one record per
    /// entry and way (first and last date, a count); past [`MAX_EXPOSURES`] the records
    /// touched longest ago are dropped.
    ///
    /// Linear in the ledger and the entries (an export of a whole large vault records every
    /// entry at once).
    pub fn record_exposure(&mut self, entries: &[EntryId], way: ExposureWay, now: i64) {
        // A few entries (one shown): a scan; many (an export): an index.
        let mut index: Option<std::collections::HashMap<EntryId, usize>> = (entries.len() > 8)
            .then(|| {
                self.exposures
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.way == way)
                    .map(|(i, x)| (x.entry, i))
                    .collect()
            });
        for id in entries {
            let found = match &index {
                Some(m) => m.get(id).copied(),
                None => self
                    .exposures
                    .iter()
                    .position(|x| x.entry == *id && x.way == way),
            };
            match found {
                Some(i) => {
                    let x = &mut self.exposures[i];
                    x.last_at = x.last_at.max(now);
                    x.count = x.count.saturating_add(1);
                }
                None => {
                    if let Some(m) = index.as_mut() {
                        m.insert(*id, self.exposures.len());
                    }
                    self.exposures.push(Exposure {
                        entry: *id,
                        way,
                        first_at: now,
                        last_at: now,
                        count: 1,
                    });
                }
            }
        }
        self.trim_exposures();
    }

    /// Past [`MAX_EXPOSURES`], drops the records touched longest ago.
    fn trim_exposures(&mut self) {
        if self.exposures.len() > MAX_EXPOSURES {
            self.exposures.sort_by_key(|x| std::cmp::Reverse(x.last_at));
            self.exposures.truncate(MAX_EXPOSURES);
            self.exposures.sort_by_key(|x| x.first_at);
        }
    }

    /// The state as read from a vault body, held to the limits this module keeps when it
    /// writes: one ledger record per entry and way (joined: the earliest first date, the
    /// latest last date, the counts added) and at most [`MAX_EXPOSURES`]; the newest
    /// [`MAX_DRILLS`] drills; settings brought into range ([`CheckupSettings::clamped`]);
    /// one HOTP use per account still in `content`. A body written by this version is
    /// unchanged; one written by another writer (a newer version, a damaged tool) costs no
    /// more to use than the limits allow, and keeps every record that fits.
    pub fn within_limits(mut self, content: &crate::vault::VaultContent) -> Self {
        let mut at: std::collections::HashMap<(EntryId, ExposureWay), usize> =
            std::collections::HashMap::new();
        let mut exposures: Vec<Exposure> = Vec::new();
        for x in std::mem::take(&mut self.exposures) {
            match at.get(&(x.entry, x.way)) {
                Some(&i) => {
                    let o = &mut exposures[i];
                    o.first_at = o.first_at.min(x.first_at);
                    o.last_at = o.last_at.max(x.last_at);
                    o.count = o.count.saturating_add(x.count);
                }
                None => {
                    at.insert((x.entry, x.way), exposures.len());
                    exposures.push(x);
                }
            }
        }
        self.exposures = exposures;
        self.trim_exposures();
        if self.drills.len() > MAX_DRILLS {
            let excess = self.drills.len() - MAX_DRILLS;
            self.drills.drain(..excess);
        }
        self.settings = self.settings.clamped();
        let live: std::collections::HashSet<EntryId> =
            content.entries.iter().map(|e| e.id).collect();
        let mut hotp: std::collections::HashMap<EntryId, usize> = std::collections::HashMap::new();
        let mut used: Vec<HotpUse> = Vec::new();
        for h in std::mem::take(&mut self.hotp_used) {
            if !live.contains(&h.entry) {
                continue;
            }
            match hotp.get(&h.entry) {
                Some(&i) => used[i].counter = used[i].counter.max(h.counter),
                None => {
                    hotp.insert(h.entry, used.len());
                    used.push(h);
                }
            }
        }
        self.hotp_used = used;
        self
    }

    /// Forgets an entry's exposures (its secret was rotated).
    pub fn clear_exposures(&mut self, entry: EntryId) -> usize {
        let before = self.exposures.len();
        self.exposures.retain(|x| x.entry != entry);
        before - self.exposures.len()
    }

    /// Records a drill that opened a backup shown to be made with this vault's current keys
    /// (the caller records no other: the date and content of any other file are the word
    /// of whoever wrote it, since a slot is only a public key). The backup becomes the newest
    /// verified one; the recovery key counts as confirmed only when the key typed is the
    /// vault's current one (`key_is_current`).
    pub fn record_drill(&mut self, drill: DrillRecord, key_is_current: bool) {
        if drill.credential == DrillCredential::RecoveryKey && key_is_current {
            self.recovery_key_confirmed_at = Some(drill.at);
        }
        self.note_verified(VerifiedBackup {
            made_at: drill.backup_made_at,
            verified_at: drill.at,
            how: BackupCheck::Drill,
            entries: drill.entries,
        });
        self.drills.push(drill);
        if self.drills.len() > MAX_DRILLS {
            let excess = self.drills.len() - MAX_DRILLS;
            self.drills.drain(..excess);
        }
    }

    /// Keeps the newest verified backup (by when it was made). A backup dated after the
    /// moment it is verified was made while a clock was set ahead: it cannot be dated, so it
    /// is not noted, and a record so dated gives way to the next backup — kept, it would
    /// stand as newer than every later backup and hide every change made after it.
    pub fn note_verified(&mut self, b: VerifiedBackup) {
        if b.made_at > b.verified_at {
            return;
        }
        match &self.backup {
            Some(old) if old.made_at > b.made_at && old.made_at <= b.verified_at => {}
            _ => self.backup = Some(b),
        }
    }

    /// The last drill recorded, if any (by the order drills were recorded, so a drill dated
    /// ahead by a wrong clock does not stay the last one).
    pub fn last_drill(&self) -> Option<&DrillRecord> {
        self.drills.last()
    }

    /// Remembers the counter at the use of an HOTP account's code.
    pub fn note_hotp_use(&mut self, entry: EntryId, counter: u64) {
        match self.hotp_used.iter_mut().find(|h| h.entry == entry) {
            Some(h) => h.counter = h.counter.max(counter),
            None => self.hotp_used.push(HotpUse { entry, counter }),
        }
    }

    /// Drops what concerns entries no longer in the vault (purged), except exposures: the
    /// secret left anyway, and the ledger says so until it is cleared by rotation or ages
    /// out.
    pub fn forget_missing(&mut self, exists: impl Fn(EntryId) -> bool) {
        self.hotp_used.retain(|h| exists(h.entry));
    }
}

/// What the apps show on their "never locked out" screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareStatus {
    /// When the newest backup known to open was made (ms).
    pub newest_verified_backup: Option<i64>,
    /// Accounts added, edited or trashed since that backup was made (all, when there is none).
    pub changed_since_backup: usize,
    /// The most recent successful drill; `None` before the first.
    pub last_drill: Option<DrillRecord>,
    /// No drill yet, or the last is older than the drill interval.
    pub drill_due: bool,
    /// When the user last proved to have the recovery key (ms); `None` if never.
    pub recovery_key_confirmed_at: Option<i64>,
    /// Accounts with unrotated exposures.
    pub exposed_entries: usize,
}

impl CareState {
    /// The status at `now` (ms) for `content`.
    pub fn status(&self, content: &crate::vault::VaultContent, now: i64) -> CareStatus {
        let made = self.backup.as_ref().map(|b| b.made_at);
        let changed = content
            .entries
            .iter()
            .filter(|e| {
                made.is_none_or(|m| {
                    e.updated_at
                        .max(e.created_at)
                        .max(e.deleted_at.unwrap_or(i64::MIN))
                        > m
                })
            })
            .count();
        let last = self.last_drill().cloned();
        let interval = i64::from(self.settings.drill_interval_days) * 24 * 3600 * 1000;
        let live: std::collections::HashSet<EntryId> =
            content.live_entries().iter().map(|e| e.id).collect();
        let mut exposed: Vec<EntryId> = self
            .exposures
            .iter()
            .map(|x| x.entry)
            .filter(|id| live.contains(id))
            .collect();
        exposed.sort();
        exposed.dedup();
        CareStatus {
            newest_verified_backup: made,
            changed_since_backup: changed,
            // A drill dated more than a day ahead ran while the clock was set ahead: due.
            drill_due: last.as_ref().is_none_or(|d| {
                now.saturating_sub(d.at) > interval || d.at > now.saturating_add(24 * 3600 * 1000)
            }),
            last_drill: last,
            recovery_key_confirmed_at: self.recovery_key_confirmed_at,
            exposed_entries: exposed.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::model::Id;

    #[test]
    fn the_ledger_is_bounded_and_drops_the_oldest() {
        let mut c = CareState::default();
        for i in 0..(MAX_EXPOSURES as u32 + 10) {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&i.to_be_bytes());
            c.record_exposure(&[Id(b)], ExposureWay::UriShown, i64::from(i));
        }
        assert_eq!(c.exposures.len(), MAX_EXPOSURES);
        assert!(c.exposures.iter().all(|x| x.last_at >= 10));
        // The same entry and way again is one record with a count.
        let id = c.exposures[0].entry;
        c.record_exposure(&[id], ExposureWay::UriShown, 1 << 40);
        assert_eq!(c.exposures.len(), MAX_EXPOSURES);
        let x = c.exposures.iter().find(|x| x.entry == id).unwrap();
        assert_eq!((x.count, x.last_at), (2, 1 << 40));
        assert_eq!(c.clear_exposures(id), 1);
    }

    #[test]
    fn drills_are_bounded_and_the_recovery_key_counts_as_confirmed() {
        let mut c = CareState::default();
        for at in 0..(MAX_DRILLS as i64 + 5) {
            c.record_drill(
                DrillRecord {
                    at,
                    credential: if at == 3 {
                        DrillCredential::RecoveryKey
                    } else {
                        DrillCredential::Password
                    },
                    file: "b.twfb".into(),
                    backup_made_at: at,
                    entries: 1,
                    missing: 0,
                    changed: 0,
                    extra: 0,
                },
                true,
            );
        }
        assert_eq!(c.drills.len(), MAX_DRILLS);
        assert_eq!(c.recovery_key_confirmed_at, Some(3));
        assert_eq!(c.backup.as_ref().unwrap().made_at, MAX_DRILLS as i64 + 4);
    }

    #[test]
    fn settings_are_checked() {
        assert!(CheckupSettings::default().checked().is_ok());
        let s = CheckupSettings {
            backup_max_age_days: 0,
            ..Default::default()
        };
        assert!(matches!(
            s.checked(),
            Err(VaultError::InvalidInput(InputError::CheckupSetting(_)))
        ));
        let s = CheckupSettings {
            important_issuers: vec![" GitHub ".into(), "github".into()],
            ..Default::default()
        };
        assert_eq!(s.checked().unwrap().important_issuers, vec!["GitHub"]);
    }
}
