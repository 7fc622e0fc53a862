//! Sync between a user's own devices through storage they already have: a folder another
//! program replicates, or a WebDAV server (normative description: `docs/sync-protocol.md`).
//!
//! The storage is hostile — it can read, delete, plant, replay and withhold files — so:
//!
//! * each device writes only its own files, `d-<devtag>-<generation>.twfs`, each a full
//!   snapshot of its merged state, padded, encrypted under the group's current epoch key and
//!   signed with the device's key ([`file`]);
//! * every reader verifies the signature, decrypts, checks the writer against the roster
//!   ([`roster`]), remembers the last generation and digest it accepted from each member
//!   (refusing older files and reporting the same generation with other contents as a fork),
//!   and merges ([`doc`]): per-field last-writer-wins registers stamped with hybrid logical
//!   clocks ([`hlc`]), HOTP counters by maximum, tombstones, conflict entries;
//! * field clocks come from the difference between the vault's content and what the last
//!   sync left, so ordinary edits need no sync bookkeeping;
//! * devices join through the transfer channel ([`join`]), and a revoked device's later
//!   files are refused while everything written after its revocation is under a key it
//!   never receives.
//!
//! The state a device keeps ([`state`]) lives in its encrypted vault body and is committed
//! with the merged content in one atomic write ([`crate::vault::VaultSession::sync_transaction`]).

// Documented in a follow-up: see docs/architecture.md "Lints".
#![allow(missing_docs)]

pub mod doc;
pub mod engine;
pub mod file;
pub mod hlc;
pub mod join;
pub mod roster;
pub mod state;
pub mod storage;
pub mod webdav;

use serde::{Deserialize, Serialize};

use crate::crypto::CryptoError;
use crate::transfer::TransferError;
use crate::vault::{EntryId, VaultError, VaultSession};

pub use doc::Field;
pub use engine::{SyncReport, sync};
pub use roster::EpochId;
pub use state::{StorageConfig, SyncState};
pub use storage::{FolderStorage, MemoryStorage, StorageError, StoredFile, SyncStorage};

/// Why a sync operation failed. Nothing is changed when one is returned (a storage failure
/// after the vault was committed leaves a consistent vault; the next sync publishes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("this vault is not in a sync group (set one up with `sync setup`, or join one)")]
    NotInGroup,
    #[error("this vault is already in a sync group; leave it first")]
    AlreadyInGroup,
    #[error(
        "this device was removed from its sync group on another device; it no longer syncs \
         (join again from a device still in the group)"
    )]
    Revoked,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Credentials would travel in the clear.
    #[error("{0}")]
    Insecure(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("no device matches '{0}' (see `sync devices`)")]
    NoSuchDevice(String),
    #[error("{0}")]
    NoSuchConflict(String),
    /// The sync location already holds another group's files.
    #[error("{0}")]
    NotEmpty(String),
    /// The sync state stored in the vault cannot be used.
    #[error("{0}")]
    BadState(String),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// A join bundle that cannot be used (not for this device, not from a member).
    #[error("{0}")]
    Join(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl crate::error::Classify for SyncError {
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            SyncError::Vault(e) => e.kind(),
            SyncError::Transfer(e) => e.kind(),
            SyncError::NotInGroup
            | SyncError::AlreadyInGroup
            | SyncError::Insecure(_)
            | SyncError::InvalidInput(_)
            | SyncError::NoSuchDevice(_)
            | SyncError::NoSuchConflict(_)
            | SyncError::NotEmpty(_)
            | SyncError::Join(_) => ErrorKind::Input,
            SyncError::Revoked
            | SyncError::Storage(_)
            | SyncError::BadState(_)
            | SyncError::Crypto(_)
            | SyncError::Internal(_) => ErrorKind::Failure,
        }
    }
}

/// Something a sync noticed and refused or reported; nothing was imported from the file it
/// names, and nothing stored was lost. Stable `kind()` codes for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncWarning {
    /// A file signed by a key that is not a member, or that does not decrypt with the
    /// group's keys: planted by someone who is not in the group.
    NotAMember {
        file: String,
    },
    /// A snapshot of another sync group.
    ForeignGroup {
        file: String,
    },
    /// Truncated, altered or otherwise unreadable.
    Damaged {
        file: String,
        reason: String,
    },
    /// Empty: probably still being written; the previous state of its device is kept.
    Incomplete {
        file: String,
    },
    TooLarge {
        file: String,
        size: u64,
    },
    /// A copy a sync tool made (`.sync-conflict-`, `(conflicted copy …)`, `(1)`): ignored.
    ConflictCopy {
        file: String,
    },
    /// The file's contents are not what its name says (a file renamed or swapped).
    Misnamed {
        file: String,
    },
    /// Written by a newer Twofold.
    Unsupported {
        file: String,
        version: u16,
    },
    /// The storage shows an older file of a member than this device already read.
    Rollback {
        device: String,
        found: u64,
        seen: u64,
    },
    /// A member's generation was seen with two different contents: a cloned or restored
    /// device. Its files are ignored until it is revoked.
    Fork {
        device: String,
        generation: u64,
    },
    /// A forked member's files are being ignored.
    Quarantined {
        device: String,
    },
    /// A file written by a revoked device.
    RevokedWriter {
        device: String,
        file: String,
    },
    /// No key for the epoch a file is encrypted under (yet).
    NoKey {
        device: String,
        file: String,
    },
    /// Another member has read a generation of this member that the storage does not show:
    /// the storage withholds it (or the sync tool has not delivered it yet).
    Withheld {
        device: String,
        generation: u64,
        seen_by: String,
    },
    /// A member's clock is far ahead; its clock was not adopted.
    ClockAhead {
        device: String,
        ahead_ms: i64,
    },
    /// The storage (or a member) shows files of this device newer than its own state: the
    /// vault was restored or copied. This device continues above them.
    OwnStateBehind {
        had: u64,
        found: u64,
    },
}

impl SyncWarning {
    /// A stable code for scripts (`sync status --json`).
    pub fn kind(&self) -> &'static str {
        match self {
            SyncWarning::NotAMember { .. } => "planted",
            SyncWarning::ForeignGroup { .. } => "foreign-group",
            SyncWarning::Damaged { .. } => "damaged",
            SyncWarning::Incomplete { .. } => "incomplete",
            SyncWarning::TooLarge { .. } => "too-large",
            SyncWarning::ConflictCopy { .. } => "conflict-copy",
            SyncWarning::Misnamed { .. } => "misnamed",
            SyncWarning::Unsupported { .. } => "unsupported",
            SyncWarning::Rollback { .. } => "rollback",
            SyncWarning::Fork { .. } => "fork",
            SyncWarning::Quarantined { .. } => "quarantined",
            SyncWarning::RevokedWriter { .. } => "revoked-writer",
            SyncWarning::NoKey { .. } => "no-key",
            SyncWarning::Withheld { .. } => "withheld",
            SyncWarning::ClockAhead { .. } => "clock-ahead",
            SyncWarning::OwnStateBehind { .. } => "own-state-behind",
        }
    }
}

impl std::fmt::Display for SyncWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncWarning::NotAMember { file } => write!(
                f,
                "{file}: not written by a member of this group (planted?); ignored"
            ),
            SyncWarning::ForeignGroup { file } => {
                write!(f, "{file}: belongs to another sync group; ignored")
            }
            SyncWarning::Damaged { file, reason } => write!(f, "{file}: {reason}; ignored"),
            SyncWarning::Incomplete { file } => write!(
                f,
                "{file}: empty (still being written?); the previous state of its device is kept"
            ),
            SyncWarning::TooLarge { file, size } => {
                write!(
                    f,
                    "{file}: {size} bytes, more than a sync file may have; ignored"
                )
            }
            SyncWarning::ConflictCopy { file } => write!(
                f,
                "{file}: a copy made by a sync tool; ignored (it can be deleted)"
            ),
            SyncWarning::Misnamed { file } => write!(
                f,
                "{file}: its contents are not what its name says (renamed or swapped); ignored"
            ),
            SyncWarning::Unsupported { file, version } => write!(
                f,
                "{file}: written by a newer Twofold (sync file version {version}); update Twofold"
            ),
            SyncWarning::Rollback {
                device,
                found,
                seen,
            } => write!(
                f,
                "{device}: the storage shows generation {found}, older than generation {seen} \
                 already read (an old file served again?); kept what was read"
            ),
            SyncWarning::Fork { device, generation } => write!(
                f,
                "{device}: generation {generation} exists with two different contents (a cloned \
                 or restored device?); its files are ignored until you revoke it and join it again"
            ),
            SyncWarning::Quarantined { device } => write!(
                f,
                "{device}: ignored since it forked (revoke it and join it again)"
            ),
            SyncWarning::RevokedWriter { device, file } => {
                write!(f, "{file}: written by {device}, which was removed; refused")
            }
            SyncWarning::NoKey { device, file } => write!(
                f,
                "{file}: from {device}, encrypted under a group key this device does not have \
                 yet; skipped"
            ),
            SyncWarning::Withheld {
                device,
                generation,
                seen_by,
            } => write!(
                f,
                "{device}: {seen_by} has read its generation {generation}, which the storage \
                 does not show (withheld, or not delivered yet)"
            ),
            SyncWarning::ClockAhead { device, ahead_ms } => write!(
                f,
                "{device}: its clock is {} hours ahead; check its date and time",
                ahead_ms / 3_600_000
            ),
            SyncWarning::OwnStateBehind { had, found } => write!(
                f,
                "this device's sync state (generation {had}) is older than its files in the \
                 storage (generation {found}): the vault was restored or copied; continuing above"
            ),
        }
    }
}

/// A member device as the apps and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    pub name: String,
    /// 16 hex digits (as in the device's file names).
    pub tag: String,
    pub this_device: bool,
    pub active: bool,
    pub revoked: bool,
    /// Ignored after a fork.
    pub quarantined: bool,
    /// The last generation this device accepted from it.
    pub generation: Option<u64>,
    /// When it wrote that generation (its clock, ms).
    pub last_update: Option<i64>,
    /// When this device first read that generation (ms).
    pub last_seen: Option<i64>,
    pub added_by: String,
    pub added_at: i64,
}

/// Which side of a conflict to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// This device's value (the value shown here when neither side was written here).
    Mine,
    /// The other value.
    Theirs,
    /// Both: the other value as a second entry (for a secret: both entries stay).
    Both,
}

/// A conflict as the apps and the CLI show it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictView {
    pub entry: EntryId,
    /// The entry's name.
    pub label: String,
    pub field: Field,
    /// The value shown now (the winner), for display.
    pub shown: String,
    pub shown_by: String,
    pub shown_at: i64,
    /// The value kept for review.
    pub other: String,
    pub other_by: String,
    pub other_at: i64,
    /// For a secret: the entry that holds the other secret.
    pub other_entry: Option<EntryId>,
    /// Which side is this device's (`None`: neither was written here).
    pub mine_is_shown: Option<bool>,
}

/// The state of this device's membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// 32 hex digits.
    pub group: String,
    pub device_name: String,
    pub storage: String,
    /// The last generation this device reserved.
    pub generation: u64,
    pub last_sync: Option<i64>,
    pub devices: Vec<DeviceView>,
    pub open_conflicts: usize,
    pub warnings: Vec<SyncWarning>,
    pub epoch: String,
    pub revoked: bool,
    /// This device joined and waits for the member that invited it to confirm the codes
    /// and sync: it reads but writes nothing yet.
    pub awaiting_admission: bool,
}

pub use engine::{conflicts, devices, leave, resolve, revoke, setup, state_of, status};

/// Opens the storage a configuration names (folders and WebDAV; an app location needs the
/// app's own storage).
pub fn open_storage(config: &StorageConfig) -> Result<Box<dyn SyncStorage>, SyncError> {
    match config {
        StorageConfig::Folder { path } => Ok(Box::new(FolderStorage::new(path))),
        StorageConfig::WebDav {
            url,
            user,
            password,
        } => Ok(Box::new(webdav::WebDavStorage::new(
            url,
            user.clone(),
            password.clone(),
        )?)),
        StorageConfig::App { label } => Err(SyncError::InvalidInput(format!(
            "the sync location ({label}) is opened by the app that set it up"
        ))),
    }
}

/// Whether the vault is in a sync group.
pub fn is_member(session: &VaultSession) -> Result<bool, SyncError> {
    Ok(session.sync_read(|_, blob| blob.is_some())?)
}
