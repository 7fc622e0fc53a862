//! The encrypted vault: data model, `TWFV` container, key slots, atomic storage and the
//! thread-safe session the apps and the CLI use.

pub mod codes;
pub mod container;
pub mod edit;
pub mod model;
pub mod recovery;
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
    RolledBack { found: u64, expected: u64 },
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
    #[error("no entry with id {0}")]
    NoSuchEntry(String),
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
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A storage failure; the vault on disk is unchanged.
    #[error("storage error ({kind}): {message}")]
    Io { kind: String, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Which name a length limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    Issuer,
    Account,
    Note,
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
    #[error("the {field} is longer than {max} characters")]
    NameTooLong { field: NameField, max: usize },
    #[error("a group needs a name")]
    EmptyGroupName,
    #[error("the password must not be empty")]
    EmptyPassword,
    #[error("a PIN is at least {min} digits")]
    PinTooShort { min: usize },
    #[error("a PIN slot needs Argon2id of at least {min}")]
    PinKdfTooWeak { min: KdfParams },
    #[error("a PIN needs the device's trust store (it counts wrong PINs)")]
    NeedsTrustStore,
    /// Digits or period out of range.
    #[error(transparent)]
    CodeParameters(#[from] crate::otp::OtpError),
    #[error("a vault holds at most {max} entries")]
    TooManyEntries { max: usize },
    #[error("a vault has at most {max} key slots")]
    TooManySlots { max: usize },
    #[error("this entry is not an HOTP account")]
    NotHotp,
    #[error("a clock offset of more than a year is not plausible")]
    ClockOffsetTooLarge,
    #[error("the keystore alias or blob is too long")]
    KeystoreDataTooLong,
    #[error("the key slots do not fit in a header")]
    HeaderTooLarge,
    #[error("a backup needs a password or the recovery key")]
    BackupNeedsCredential,
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
