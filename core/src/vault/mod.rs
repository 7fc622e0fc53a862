//! The encrypted vault: data model, `TWFV` container, key slots, atomic storage and the
//! thread-safe session the apps and the CLI use.

pub mod care;
pub mod checkup;
pub mod codes;
pub mod container;
pub mod edit;
pub mod model;
pub mod recovery;
pub mod recovery_codes;
pub mod session;
pub mod slots;
pub mod storage;
pub mod strength;
pub mod trust;

pub use container::SlotKind;
pub use edit::{
    EntryUpdate, GroupRef, InsertPolicy, InsertReport, NewEntry, OnDuplicate, OnUnknownGroup,
};
pub use model::{Entry, EntryId, Group, GroupId, IconRef, Id, Settings, VaultContent};
pub use recovery::{RecoveryKey, RecoveryKeyError};
pub use session::{
    CodeView, CreateOptions, SlotInfo, UnlockInfo, UnlockOptions, VaultEnv, VaultSession,
};
pub use slots::SlotCredential;
pub use storage::{FileSystem, OsFileSystem};
pub use trust::{FileTrustStore, MemoryTrustStore, TrustRecord, TrustStore};

use crate::crypto::{CryptoError, KdfParams, KdfRejection};

/// Everything that can go wrong with a vault. Variants are stable and actionable; none of the
/// texts contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The password, PIN, recovery key or platform key does not open any slot.
    #[error("wrong password or key")]
    WrongCredential,
    /// A typed recovery key failed its checksum or format (a typo, not a wrong key).
    #[error(transparent)]
    RecoveryKeyFormat(#[from] RecoveryKeyError),
    /// The file (and its previous generation) cannot be read: damaged or tampered with.
    #[error("the file is damaged: {0}")]
    Corrupt(String),
    /// The file is well formed and signed, but not with keys a slot of this vault vouches
    /// for (or not by keys descending from those this device last saw): someone who does not
    /// hold this vault's credentials wrote it. Nothing was opened or changed.
    #[error(
        "this file was not written with this vault's keys: it may have been forged (nothing was opened or changed)"
    )]
    Forged,
    /// The file is older than the one this device last opened: an old copy was put back.
    #[error(
        "this file is older than the one this device last opened (generation {found}, expected at least {expected}): an old copy may have been put back; nothing was changed"
    )]
    RolledBack {
        /// Generation of the file found on disk.
        found: u64,
        /// The generation this device last saw (from its trust record).
        expected: u64,
    },
    /// The file opened with the credential but cannot be shown to be this vault's with what
    /// this device knows: written by Twofold 0.1 (format 1, which has no authenticity), or
    /// opened by a slot that has not vouched for the file's keys since that upgrade, on a
    /// device with no record of the vault. Nothing was changed; opening it needs the user's
    /// explicit consent (`UnlockOptions::accept_untrusted`).
    #[error("this file cannot be shown to be yours ({0}); nothing was changed")]
    Unverified(String),
    /// A file asks for more work or memory than any Twofold file needs; refused before
    /// doing it.
    #[error("refused before doing the work: {0}")]
    HostileFile(String),
    /// Too many wrong PINs: the PIN slot is locked and is removed at the next unlock.
    #[error(
        "too many wrong PINs: unlock with your password or biometrics (the PIN is then removed)"
    )]
    PinLocked,
    /// The bytes are not a Twofold vault or backup at all.
    #[error("this is not a Twofold {0} file")]
    NotAContainer(&'static str),
    /// Written by a newer Twofold.
    #[error("this file uses format version {0}, which this version of Twofold cannot read")]
    UnsupportedVersion(u16),
    /// The KDF parameters of a file are below the floor.
    #[error(transparent)]
    Kdf(KdfRejection),
    /// No vault exists at the path.
    #[error("no vault at {0}")]
    NotFound(String),
    /// Creating a vault where one exists already.
    #[error("a vault already exists at {0}")]
    AlreadyExists(String),
    /// The session is locked.
    #[error("the vault is locked")]
    Locked,
    /// No entry has this id (the id as given).
    #[error("no entry with id {0}")]
    NoSuchEntry(String),
    /// No group has this id or name (as given).
    #[error("no group with id {0}")]
    NoSuchGroup(String),
    /// No slot of the kind or id the credential needs.
    #[error("the vault has no key slot for this kind of credential")]
    NoSuchSlot,
    /// An account with the same secret and kind exists.
    #[error("this account is already in the vault (entry {0})")]
    Duplicate(String),
    /// Input that cannot be accepted; the reason says which rule it broke.
    #[error(transparent)]
    InvalidInput(#[from] InputError),
    /// The operation would leave the vault without a password slot.
    #[error("the last password slot cannot be removed: the vault must always open with a password")]
    LastPasswordSlot,
    /// An HOTP counter at 2^64-1 cannot advance.
    #[error("the HOTP counter of this entry cannot advance any further")]
    CounterExhausted,
    /// Another process changed the vault since it was opened.
    #[error("the vault was changed by another program; unlock it again")]
    Conflict,
    /// A cryptographic primitive failed (random source, key derivation).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A storage failure; the vault on disk is unchanged.
    #[error("storage error ({kind}): {message}")]
    Io {
        /// The `std::io::ErrorKind`, by name (for example `NotFound`, `PermissionDenied`).
        kind: String,
        /// The operating system's message.
        message: String,
    },
    /// An invariant of the core did not hold: a bug, not bad input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Which name a length limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    /// The service name of an entry.
    Issuer,
    /// The account name of an entry.
    Account,
    /// The free-text note of an entry.
    Note,
    /// The name of a group.
    GroupName,
}

impl std::fmt::Display for NameField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameField::Issuer => "issuer",
            NameField::Account => "account",
            NameField::Note => "note",
            NameField::GroupName => "group name",
        })
    }
}

/// Why input was refused: one variant per rule, each with what a UI needs to say so.
/// Deliberately exhaustive: a new rule must fail to compile at the FFI's one mapping to the
/// apps' errors until it has its own case there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A name or note is longer than its limit.
    #[error("the {field} is longer than {max} characters")]
    NameTooLong {
        /// Which name.
        field: NameField,
        /// Its limit, in characters.
        max: usize,
    },
    /// A group name is empty (or only whitespace).
    #[error("a group needs a name")]
    EmptyGroupName,
    /// A password is empty.
    #[error("the password must not be empty")]
    EmptyPassword,
    /// A PIN is shorter than the minimum.
    #[error("a PIN is at least {min} digits")]
    PinTooShort {
        /// The fewest digits a PIN may have.
        min: usize,
    },
    /// The Argon2id parameters asked for a PIN slot are below its floor.
    #[error("a PIN slot needs Argon2id of at least {min}")]
    PinKdfTooWeak {
        /// The weakest parameters a PIN slot accepts.
        min: KdfParams,
    },
    /// A PIN slot was asked for without a trust store to count wrong PINs in.
    #[error("a PIN needs the device's trust store (it counts wrong PINs)")]
    NeedsTrustStore,
    /// Digits or period out of range.
    #[error(transparent)]
    CodeParameters(#[from] crate::otp::OtpError),
    /// The vault would hold more entries than its limit.
    #[error("a vault holds at most {max} entries")]
    TooManyEntries {
        /// The most entries a vault holds.
        max: usize,
    },
    /// The vault would have more key slots than its limit.
    #[error("a vault has at most {max} key slots")]
    TooManySlots {
        /// The most key slots a vault has.
        max: usize,
    },
    /// A counter operation on an entry that is not HOTP.
    #[error("this entry is not an HOTP account")]
    NotHotp,
    /// A clock offset beyond [`model::MAX_CLOCK_OFFSET_S`] either way.
    #[error("a clock offset of more than a year is not plausible")]
    ClockOffsetTooLarge,
    /// A platform or PIN slot's keystore alias or blob is over its limit
    /// ([`container::MAX_ALIAS_LEN`], [`container::MAX_BLOB_LEN`]).
    #[error("the keystore alias or blob is too long")]
    KeystoreDataTooLong,
    /// The key slots together do not fit in a header of [`container::MAX_HEADER_LEN`] bytes.
    #[error("the key slots do not fit in a header")]
    HeaderTooLarge,
    /// A backup was asked for with neither a password nor the recovery key.
    #[error("a backup needs a password or the recovery key")]
    BackupNeedsCredential,
    /// A recovery code that cannot be stored or is not the account's.
    #[error(transparent)]
    RecoveryCode(#[from] crate::vault::recovery_codes::RecoveryCodeError),
    /// Rotation: the code typed is not one the new secret produces now, so the service may
    /// not have the new secret; nothing was changed.
    #[error(
        "that code is not what the new secret gives now: check that you scanned the new QR code and typed the code the service accepted (nothing was changed)"
    )]
    RotationCodeMismatch,
    /// Rotation: the new secret is the one the account has already.
    #[error(
        "the new secret is the same as the old one: rotating needs the new secret the service issued"
    )]
    RotationSameSecret,
    /// A checkup setting out of range.
    #[error("{0}")]
    CheckupSetting(String),
    /// A clock calibration from an accepted code found no single time step; nothing changed.
    #[error(transparent)]
    Calibration(#[from] crate::otp::calibrate::CalibrationError),
    /// The accounts do not fit on a printed recovery kit.
    #[error(
        "the accounts take {bytes} bytes sealed, more than the {max} bytes a printed recovery kit holds (12 QR codes): make the kit without the accounts and keep a backup file"
    )]
    KitTooLarge {
        /// The size of the sealed accounts.
        bytes: usize,
        /// The most a kit prints.
        max: usize,
    },
    /// Scanned recovery-kit parts do not make a backup.
    #[error(transparent)]
    KitPart(#[from] crate::recovery_kit::KitPartError),
}

impl From<KdfRejection> for VaultError {
    fn from(e: KdfRejection) -> Self {
        match e {
            KdfRejection::BelowFloor(_) => VaultError::Kdf(e),
            KdfRejection::AboveLimit(_) => VaultError::HostileFile(e.to_string()),
        }
    }
}

impl From<std::io::Error> for VaultError {
    fn from(e: std::io::Error) -> Self {
        VaultError::Io {
            kind: format!("{:?}", e.kind()),
            message: e.to_string(),
        }
    }
}
