//! Records and enums of the FFI surface and their conversions from core types.

use twofold_core::backup::{
    BackupDiff, BackupReport, BackupVerification, EntrySummary, RestoreReport,
};
use twofold_core::crypto::KdfParams;
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::vault::{self, Entry, Group, Id, SlotInfo};

use crate::error::{Result, TwofoldError};

/// How an account's codes are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpType {
    /// Time-based codes (RFC 6238): a new code every `period` seconds.
    Totp,
    /// Counter-based codes (RFC 4226): a new code each time the user asks for one.
    Hotp,
    /// Steam Guard: five characters from Steam's alphabet every 30 seconds.
    Steam,
}

/// The HMAC hash function of an account's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HashAlgorithm {
    /// HMAC-SHA1, what most services use.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl From<Algorithm> for HashAlgorithm {
    fn from(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha1 => HashAlgorithm::Sha1,
            Algorithm::Sha256 => HashAlgorithm::Sha256,
            Algorithm::Sha512 => HashAlgorithm::Sha512,
        }
    }
}

impl From<HashAlgorithm> for Algorithm {
    fn from(a: HashAlgorithm) -> Self {
        match a {
            HashAlgorithm::Sha1 => Algorithm::Sha1,
            HashAlgorithm::Sha256 => Algorithm::Sha256,
            HashAlgorithm::Sha512 => Algorithm::Sha512,
        }
    }
}

/// Code parameters: `period` applies to TOTP, `counter` to HOTP; Steam ignores all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct OtpParams {
    /// TOTP, HOTP or Steam.
    pub otp_type: OtpType,
    /// The HMAC hash function (SHA1 for Steam).
    pub algorithm: HashAlgorithm,
    /// Digits in a code, 6 to 10 (5 characters for Steam).
    pub digits: u8,
    /// Seconds each TOTP code lasts, 1 to 3600 (usually 30); 0 when read from an HOTP or Steam
    /// entry.
    pub period: u32,
    /// Counter of the next HOTP code; 0 for TOTP and Steam.
    pub counter: u64,
}

impl From<&OtpKind> for OtpParams {
    fn from(k: &OtpKind) -> Self {
        let (otp_type, counter) = match *k {
            OtpKind::Totp { .. } => (OtpType::Totp, 0),
            OtpKind::Hotp { counter, .. } => (OtpType::Hotp, counter),
            OtpKind::Steam => (OtpType::Steam, 0),
        };
        OtpParams {
            otp_type,
            algorithm: k.algorithm().into(),
            digits: k.digits(),
            period: k.period().unwrap_or(0),
            counter,
        }
    }
}

impl OtpParams {
    pub(crate) fn kind(&self) -> Result<OtpKind> {
        let kind = match self.otp_type {
            OtpType::Totp => OtpKind::Totp {
                algorithm: self.algorithm.into(),
                digits: self.digits,
                period: self.period,
            },
            OtpType::Hotp => OtpKind::Hotp {
                algorithm: self.algorithm.into(),
                digits: self.digits,
                counter: self.counter,
            },
            OtpType::Steam => OtpKind::Steam,
        };
        kind.validate().map_err(|e| {
            TwofoldError::input(crate::error::InputProblem::CodeParameters, e.to_string())
        })?;
        Ok(kind)
    }
}

/// An account as the apps see it: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryView {
    /// The entry's id (a UUID), fixed for its life.
    pub id: EntryId,
    /// How the codes are made.
    pub params: OtpParams,
    /// Service name, at most 256 characters; may be empty.
    pub issuer: String,
    /// Account name at the service, at most 256 characters; may be empty.
    pub account: String,
    /// The user's note, at most 4096 characters; empty for none.
    pub note: String,
    /// Ids of the groups the entry is in; empty for none.
    pub group_ids: Vec<GroupId>,
    /// Whether the user pinned the entry as a favourite.
    pub favorite: bool,
    /// The icon the user chose from the icon pack; null when none was chosen.
    pub icon: Option<String>,
    /// When the entry was made (ms since the epoch).
    pub created_at: i64,
    /// When the entry was last changed (ms since the epoch).
    pub updated_at: i64,
    /// When a code was last copied or used (ms since the epoch); null if never.
    pub last_used_at: Option<i64>,
    /// How many times a code was copied or used.
    pub use_count: u64,
    /// When the entry was moved to the trash (ms since the epoch); null while it is live.
    pub deleted_at: Option<i64>,
    /// The secret is shorter than 128 bits (works, but worth a hint).
    pub weak_secret: bool,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        EntryView {
            id: EntryId(e.id),
            params: (&e.kind).into(),
            issuer: e.issuer.clone(),
            account: e.account.clone(),
            note: e.note.clone(),
            group_ids: e.group_ids.iter().copied().map(GroupId).collect(),
            favorite: e.favorite,
            icon: e.icon.as_ref().map(|i| i.0.clone()),
            created_at: e.created_at,
            updated_at: e.updated_at,
            last_used_at: e.last_used_at,
            use_count: e.use_count,
            deleted_at: e.deleted_at,
            weak_secret: e.secret.is_weak(),
        }
    }
}

/// A new account: its parameters, its secret and names. `secret` is the base32 text as typed,
/// in UTF-8 bytes (never a String: the facades wipe the array after the call).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryInput {
    /// How the codes are made.
    pub params: OtpParams,
    /// The base32 secret as typed (spaces and case ignored), as UTF-8 bytes; wiped after the call.
    pub secret: Vec<u8>,
    /// Service name, at most 256 characters; may be empty.
    pub issuer: String,
    /// Account name at the service, at most 256 characters; may be empty.
    pub account: String,
    /// The user's note, at most 4096 characters; empty (the default) for none.
    #[uniffi(default)]
    pub note: String,
    /// Ids of the groups to put the entry in; empty (the default) for none.
    #[uniffi(default)]
    pub group_ids: Vec<GroupId>,
    /// Whether the entry is a favourite (default false).
    #[uniffi(default)]
    pub favorite: bool,
    /// The icon from the icon pack; null (the default) for none.
    #[uniffi(default)]
    pub icon: Option<String>,
}

impl std::fmt::Debug for EntryInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryInput")
            .field("params", &self.params)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// Text that carries a secret, handed over as UTF-8 bytes: a zeroizing string (the input
/// bytes are wiped on every path).
pub(crate) fn secret_text(bytes: Vec<u8>) -> crate::error::Result<zeroize::Zeroizing<String>> {
    use zeroize::Zeroize;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(zeroize::Zeroizing::new(s)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(crate::error::TwofoldError::input(
                crate::error::InputProblem::NotUtf8,
                "the text is not UTF-8",
            ))
        }
    }
}

/// A secret-bearing text leaving the core as bytes.
pub(crate) fn secret_bytes(text: impl Into<zeroize::Zeroizing<String>>) -> Vec<u8> {
    // The buffer moves out (no copy is left behind); the emptied string is wiped.
    std::mem::take(&mut *text.into()).into_bytes()
}

/// Changes to an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryChanges {
    /// The new service name; null keeps it.
    #[uniffi(default)]
    pub issuer: Option<String>,
    /// The new account name; null keeps it.
    #[uniffi(default)]
    pub account: Option<String>,
    /// The new note (empty removes it); null keeps it.
    #[uniffi(default)]
    pub note: Option<String>,
    /// The new code parameters; null keeps them.
    #[uniffi(default)]
    pub params: Option<OtpParams>,
    /// The groups the entry is in from now on (empty: none); null keeps them.
    #[uniffi(default)]
    pub group_ids: Option<Vec<GroupId>>,
    /// Whether the entry is a favourite; null keeps it.
    #[uniffi(default)]
    pub favorite: Option<bool>,
    /// `Some("")` removes the icon.
    #[uniffi(default)]
    pub icon: Option<String>,
}

/// A group the user sorts entries into.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupView {
    /// The group's id (a UUID).
    pub id: GroupId,
    /// The group's name as the user typed it (not empty, at most 256 characters).
    pub name: String,
}

impl From<&Group> for GroupView {
    fn from(g: &Group) -> Self {
        GroupView {
            id: GroupId(g.id),
            name: g.name.clone(),
        }
    }
}

/// The code of one entry at one moment. HOTP entries have no `code` until `next_hotp`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeView {
    /// Id of the entry the code is for.
    pub entry_id: EntryId,
    /// The current code; null for HOTP (its codes come only from `nextHotp`).
    pub code: Option<String>,
    /// The code of the following period; null for HOTP.
    pub next_code: Option<String>,
    /// Seconds each code lasts (0 for HOTP).
    pub period: u32,
    /// Milliseconds until `code` expires (0 for HOTP).
    pub remaining_ms: u64,
}

impl From<vault::CodeView> for CodeView {
    fn from(c: vault::CodeView) -> Self {
        CodeView {
            entry_id: EntryId(c.entry_id),
            code: c.code,
            next_code: c.next_code,
            period: c.period,
            remaining_ms: c.remaining_ms,
        }
    }
}

/// What opens a key slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SlotKind {
    /// A password (Argon2id).
    Password,
    /// A key the app keeps in its hardware keystore, released by biometrics.
    Platform,
    /// The recovery key printed or written down when the vault was made.
    Recovery,
    /// A device-bound PIN (Argon2id of the PIN plus the keystore's device key).
    Pin,
}

impl From<vault::SlotKind> for SlotKind {
    fn from(k: vault::SlotKind) -> Self {
        match k {
            vault::SlotKind::Password => SlotKind::Password,
            vault::SlotKind::Platform => SlotKind::Platform,
            vault::SlotKind::Recovery => SlotKind::Recovery,
            vault::SlotKind::Pin => SlotKind::Pin,
        }
    }
}

/// A key slot. For platform and PIN slots, `platform_blob` is what the app stored when it
/// wrapped the slot key with its keystore (the pull API hands it back for unlocking).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SlotView {
    /// The slot's id: 32 hex characters.
    pub id: SlotId,
    /// What opens the slot.
    pub kind: SlotKind,
    /// The user's name for the slot; while locked, the kind's generic name.
    pub label: String,
    /// When the slot was made (ms since the epoch); 0 while locked.
    pub created_at: i64,
    /// Argon2id cost of a password or PIN slot; null for the others.
    pub kdf: Option<KdfSettings>,
    /// Keystore alias of the hardware key of a platform or PIN slot; null for the others.
    pub platform_alias: Option<String>,
    /// The blob the app stored when it wrapped the slot's key; null for password and recovery
    /// slots.
    pub platform_blob: Option<Vec<u8>>,
    /// False only for a slot carried over from a format 1 vault that has not opened the
    /// vault since (the recovery key can be confirmed with `confirmRecoveryKey`).
    pub endorsed: bool,
}

impl From<&SlotInfo> for SlotView {
    fn from(s: &SlotInfo) -> Self {
        SlotView {
            id: SlotId(s.id),
            kind: s.kind.into(),
            label: s.label.clone(),
            created_at: s.created_at,
            kdf: s.kdf.map(Into::into),
            platform_alias: s.platform_alias.clone(),
            platform_blob: s.platform_blob.clone(),
            endorsed: s.endorsed,
        }
    }
}

/// Argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct KdfSettings {
    /// Memory in KiB (65536 is 64 MiB).
    pub memory_kib: u32,
    /// Passes over the memory (time cost).
    pub passes: u32,
    /// Lanes (degree of parallelism).
    pub parallelism: u32,
}

impl From<KdfParams> for KdfSettings {
    fn from(p: KdfParams) -> Self {
        KdfSettings {
            memory_kib: p.m_kib,
            passes: p.t,
            parallelism: p.p,
        }
    }
}

impl From<KdfSettings> for KdfParams {
    fn from(s: KdfSettings) -> Self {
        KdfParams {
            m_kib: s.memory_kib,
            t: s.passes,
            p: s.parallelism,
        }
    }
}

/// What an unlock found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct UnlockResult {
    /// The vault file was damaged; its previous generation was opened (tell the user).
    pub recovered_from_previous: bool,
    /// The generation of the vault file opened (it grows with every write).
    pub generation: u64,
    /// The file was in this older format and was rewritten as format 2.
    pub upgraded_from: Option<u16>,
    /// An untrusted file was accepted on purpose (and rewritten under fresh keys).
    pub accepted_untrusted: bool,
    /// PIN slots locked by too many wrong PINs that this unlock removed (tell the user).
    pub removed_pin_slots: u32,
    /// Slots from a format 1 vault not yet confirmed (suggest confirming the recovery key).
    pub unendorsed_slots: u32,
}

impl From<vault::UnlockInfo> for UnlockResult {
    fn from(u: vault::UnlockInfo) -> Self {
        UnlockResult {
            recovered_from_previous: u.recovered_from_previous,
            generation: u.generation,
            upgraded_from: u.upgraded_from,
            accepted_untrusted: u.accepted_untrusted,
            removed_pin_slots: u.removed_pin_slots as u32,
            unendorsed_slots: u.unendorsed_slots as u32,
        }
    }
}

/// How far this device's clock is from trusted time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ClockStatus {
    /// Seconds to add to this device's clock to get trusted time (negative: it runs fast).
    pub offset_seconds: i64,
    /// Past ±15 s: show a clock warning.
    pub warn: bool,
}

/// Opens a backup.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum BackupKey {
    /// The password the backup was made with.
    Password {
        /// The password as UTF-8 bytes (wiped after the call).
        password: Vec<u8>,
    },
    /// The vault's recovery key (a backup sealed to it).
    RecoveryKey {
        /// The key as the user typed it: 28 characters; case, spaces and hyphens ignored.
        key: String,
    },
}

/// How a restore treats the vault's accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RestoreMode {
    /// Adds what the vault lacks; for accounts in both, keeps the newer version.
    Merge,
    /// The backup's accounts, groups and settings replace the vault's (key slots are kept).
    Replace,
}

/// A backup written and verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupResult {
    /// Where the backup was written.
    pub path: String,
    /// Live accounts in the backup.
    pub entry_count: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Argon2id cost of the backup's password slot (after any memory fallback); null without a
    /// password.
    pub kdf: Option<KdfSettings>,
    /// Whether the vault's recovery key also opens the backup.
    pub sealed_to_recovery_key: bool,
    /// Old automatic backups removed after this one verified.
    pub deleted: Vec<String>,
}

impl BackupResult {
    pub(crate) fn new(r: BackupReport, deleted: Vec<std::path::PathBuf>) -> Self {
        BackupResult {
            path: r.path.display().to_string(),
            entry_count: r.entry_count as u64,
            bytes: r.bytes as u64,
            kdf: r.kdf.map(Into::into),
            sealed_to_recovery_key: r.sealed_to_recovery_key,
            deleted: deleted.iter().map(|p| p.display().to_string()).collect(),
        }
    }
}

/// An account named in a report (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryRef {
    /// The entry's id (a UUID).
    pub id: EntryId,
    /// Service name; may be empty.
    pub issuer: String,
    /// Account name; may be empty.
    pub account: String,
}

fn refs(v: &[EntrySummary]) -> Vec<EntryRef> {
    v.iter()
        .map(|e| EntryRef {
            id: EntryId(e.id),
            issuer: e.issuer.clone(),
            account: e.account.clone(),
        })
        .collect()
}

/// How a backup differs from the unlocked vault (live accounts only).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupDifference {
    /// In the vault, not in the backup.
    pub missing: Vec<EntryRef>,
    /// In both, but different.
    pub changed: Vec<EntryRef>,
    /// In the backup, not in the vault.
    pub extra: Vec<EntryRef>,
}

impl From<&BackupDiff> for BackupDifference {
    fn from(d: &BackupDiff) -> Self {
        BackupDifference {
            missing: refs(&d.missing),
            changed: refs(&d.changed),
            extra: refs(&d.extra),
        }
    }
}

/// What a backup holds, read without restoring it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupCheck {
    /// Live accounts in the backup.
    pub entry_count: u64,
    /// When an account in it last changed (ms since the epoch); null when it has none.
    pub newest_change: Option<i64>,
    /// When the backup was made (ms since the epoch).
    pub created_at: i64,
    /// How it differs from the unlocked vault; null when the vault is locked.
    pub difference: Option<BackupDifference>,
    /// Container format of the file (1: made by Twofold 0.1).
    pub format_version: u16,
    /// Made by a holder of the vault's credentials. When false, say so and restore only
    /// with `acceptUnverified` after the user confirmed.
    pub authenticated: bool,
}

impl From<BackupVerification> for BackupCheck {
    fn from(v: BackupVerification) -> Self {
        BackupCheck {
            entry_count: v.entry_count as u64,
            newest_change: v.newest_change,
            created_at: v.created_at,
            difference: v.diff.as_ref().map(Into::into),
            format_version: v.format_version,
            authenticated: v.authenticated,
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RestoreResult {
    /// Accounts of the backup the vault did not have.
    pub added: u64,
    /// Accounts in both that the backup's version replaced.
    pub updated: u64,
    /// Accounts in both that stayed as they were (apart from a higher HOTP counter).
    pub unchanged: u64,
    /// Accounts of the vault that a replace removed (0 for a merge).
    pub removed: u64,
    /// Whether the backup was made by a holder of the vault's credentials.
    pub authenticated: bool,
}

impl From<RestoreReport> for RestoreResult {
    fn from(r: RestoreReport) -> Self {
        RestoreResult {
            added: r.added as u64,
            updated: r.updated as u64,
            unchanged: r.unchanged as u64,
            removed: r.removed as u64,
            authenticated: r.authenticated,
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An account's id as it crosses the FFI: text (a UUID) in Kotlin and Swift. A call given text
/// that is not an id fails before it runs, with `InvalidInput { problem: NotAnId }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryId(pub(crate) Id);

uniffi::custom_type!(EntryId, String, {
    lower: |id| id.0.to_string(),
    try_lift: |text| Ok(EntryId(parse_id(&text)?)),
});

/// A group's id as it crosses the FFI: text (a UUID) in Kotlin and Swift, checked as
/// [`EntryId`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub(crate) Id);

uniffi::custom_type!(GroupId, String, {
    lower: |id| id.0.to_string(),
    try_lift: |text| Ok(GroupId(parse_id(&text)?)),
});

/// A key slot's id as it crosses the FFI: 32 hex characters in Kotlin and Swift. A call given
/// text that is not a slot id fails before it runs, with `InvalidInput { problem: NotAnId }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotId(pub(crate) [u8; 16]);

uniffi::custom_type!(SlotId, String, {
    lower: |id| hex(&id.0),
    try_lift: |text| Ok(SlotId(parse_slot_id(&text)?)),
});

fn parse_id(id: &str) -> Result<Id> {
    Id::parse(id).ok_or_else(|| {
        TwofoldError::input(
            crate::error::InputProblem::NotAnId,
            format!("'{id}' is not an id"),
        )
    })
}

fn parse_slot_id(id: &str) -> Result<[u8; 16]> {
    let bad = || {
        TwofoldError::input(
            crate::error::InputProblem::NotAnId,
            format!("'{id}' is not a slot id"),
        )
    };
    if id.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b =
            u8::from_str_radix(id.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub(crate) fn key32(bytes: &[u8]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
    let mut k = zeroize::Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(TwofoldError::input(
            crate::error::InputProblem::KeyLength,
            "a platform or device key is 32 bytes",
        ));
    }
    k.copy_from_slice(bytes);
    Ok(k)
}
