//! Sync between a user's own devices through storage they already have: a folder another
//! program replicates, or a WebDAV server (normative description: `docs/sync-protocol.md`).
//!
//! The storage is hostile — it can read, delete, plant, replay and withhold files — so:
//!
//! * each device writes only its own files, `d-<devtag>-<generation>.twfs`, each a full
//!   snapshot of its merged state, padded, encrypted under the group's current epoch key and
//!   signed with the device's key ([`file`](mod@file));
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

pub mod doc;
pub mod engine;
pub mod file;
pub mod hlc;
pub mod join;
pub mod roster;
pub mod state;
pub mod storage;
pub mod webdav;

/// A new vault on an in-memory file system, unlocked, for the sync modules' unit tests.
#[cfg(test)]
pub(crate) fn test_device() -> crate::vault::VaultSession {
    let env = crate::vault::VaultEnv {
        fs: std::sync::Arc::new(crate::fuzzing::MemoryFs::default()),
        ..crate::vault::VaultEnv::default()
    };
    crate::vault::VaultSession::create_in(
        std::path::Path::new("/v/vault.twofold"),
        crate::vault::CreateOptions {
            password: b"pw",
            kdf: crate::crypto::KdfParams::FLOOR,
        },
        env,
    )
    .unwrap()
    .0
}

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
    /// The vault is not in a sync group (set one up or join one first).
    #[error("this vault is not in a sync group (set one up with `sync setup`, or join one)")]
    NotInGroup,
    /// The vault is already in a sync group (leave it before setting up or joining another).
    #[error("this vault is already in a sync group; leave it first")]
    AlreadyInGroup,
    /// This device was removed from its group on another device; it no longer syncs.
    #[error(
        "this device was removed from its sync group on another device; it no longer syncs \
         (join again from a device still in the group)"
    )]
    Revoked,
    /// The vault failed (locked, unreadable, or its write failed).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The sync location failed (unreachable, refused, or an I/O error).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Credentials would travel in the clear.
    #[error("{0}")]
    Insecure(String),
    /// An argument that cannot be used (the message says which and why).
    #[error("{0}")]
    InvalidInput(String),
    /// No member device matches the name or tag given.
    #[error("no device matches '{0}' (see `sync devices`)")]
    NoSuchDevice(String),
    /// No open conflict matches the one named (resolved already, or never there).
    #[error("{0}")]
    NoSuchConflict(String),
    /// The sync location already holds another group's files.
    #[error("{0}")]
    NotEmpty(String),
    /// The sync state stored in the vault cannot be used.
    #[error("{0}")]
    BadState(String),
    /// The transfer channel failed while joining (a bad or expired code, a closed session).
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// A join bundle that cannot be used (not for this device, not from a member).
    #[error("{0}")]
    Join(String),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A broken invariant inside the core (a bug, never caused by input).
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
        /// Name of the file.
        file: String,
    },
    /// A snapshot of another sync group.
    ForeignGroup {
        /// Name of the file.
        file: String,
    },
    /// Truncated, altered or otherwise unreadable.
    Damaged {
        /// Name of the file.
        file: String,
        /// What is wrong with it, for display.
        reason: String,
    },
    /// Empty: probably still being written; the previous state of its device is kept.
    Incomplete {
        /// Name of the file.
        file: String,
    },
    /// Larger than a sync file may be; not read.
    TooLarge {
        /// Name of the file.
        file: String,
        /// Its size, in bytes.
        size: u64,
    },
    /// A copy a sync tool made (`.sync-conflict-`, `(conflicted copy …)`, `(1)`): ignored.
    ConflictCopy {
        /// Name of the copy.
        file: String,
    },
    /// The file's contents are not what its name says (a file renamed or swapped).
    Misnamed {
        /// Name of the file.
        file: String,
    },
    /// Written by a newer Twofold.
    Unsupported {
        /// Name of the file.
        file: String,
        /// The sync file format version it carries.
        version: u16,
    },
    /// The storage shows an older file of a member than this device already read.
    Rollback {
        /// The member, as [`DeviceView::name`] shows it.
        device: String,
        /// The generation the storage shows.
        found: u64,
        /// The newer generation this device already accepted.
        seen: u64,
    },
    /// A member's generation was seen with two different contents: a cloned or restored
    /// device. Its files are ignored until it is revoked.
    Fork {
        /// The member, as [`DeviceView::name`] shows it.
        device: String,
        /// The generation seen with two contents.
        generation: u64,
    },
    /// A forked member's files are being ignored.
    Quarantined {
        /// The member, as [`DeviceView::name`] shows it.
        device: String,
    },
    /// A file written by a revoked device.
    RevokedWriter {
        /// The revoked device, as [`DeviceView::name`] shows it.
        device: String,
        /// Name of the file.
        file: String,
    },
    /// No key for the epoch a file is encrypted under (yet).
    NoKey {
        /// The member that wrote the file.
        device: String,
        /// Name of the file.
        file: String,
    },
    /// Another member has read a generation of this member that the storage does not show:
    /// the storage withholds it (or the sync tool has not delivered it yet).
    Withheld {
        /// The member whose generation is missing.
        device: String,
        /// The missing generation.
        generation: u64,
        /// The member that has read it.
        seen_by: String,
    },
    /// A member's clock is far ahead; its clock was not adopted.
    ClockAhead {
        /// The member, as [`DeviceView::name`] shows it.
        device: String,
        /// How far ahead of this device's clock, in milliseconds.
        ahead_ms: i64,
    },
    /// The storage (or a member) shows files of this device newer than its own state: the
    /// vault was restored or copied. This device continues above them.
    OwnStateBehind {
        /// The last generation this device's own state reserved.
        had: u64,
        /// The highest generation of this device found in the storage or read by a member.
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
    /// The name the device was given when it set up or joined the group.
    pub name: String,
    /// 16 hex digits (as in the device's file names).
    pub tag: String,
    /// It is the device this vault is on.
    pub this_device: bool,
    /// It is in the roster and not revoked.
    pub active: bool,
    /// It was removed from the group; its later files are refused.
    pub revoked: bool,
    /// Ignored after a fork.
    pub quarantined: bool,
    /// The last generation this device accepted from it.
    pub generation: Option<u64>,
    /// When it wrote that generation (its clock, ms).
    pub last_update: Option<i64>,
    /// When this device first read that generation (ms).
    pub last_seen: Option<i64>,
    /// Name of the member that added it (its own name for the device that set up the group).
    pub added_by: String,
    /// When it was added (the adding member's clock, ms since the Unix epoch).
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
    /// The entry the conflict is on.
    pub entry: EntryId,
    /// The entry's name.
    pub label: String,
    /// The field the two values were written to.
    pub field: Field,
    /// The value shown now (the winner), for display.
    pub shown: String,
    /// Name of the device that wrote the shown value.
    pub shown_by: String,
    /// When the shown value was written (its writer's clock, ms since the Unix epoch).
    pub shown_at: i64,
    /// The value kept for review.
    pub other: String,
    /// Name of the device that wrote the other value.
    pub other_by: String,
    /// When the other value was written (its writer's clock, ms since the Unix epoch).
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
    /// This device's name in the group.
    pub device_name: String,
    /// The sync location, for display (never a password).
    pub storage: String,
    /// The last generation this device reserved.
    pub generation: u64,
    /// When this device last completed a sync (ms since the Unix epoch; `None`: never).
    pub last_sync: Option<i64>,
    /// Every device of the roster, this one included, revoked ones too.
    pub devices: Vec<DeviceView>,
    /// Number of conflicts kept for review and not yet resolved.
    pub open_conflicts: usize,
    /// What the last sync noticed (empty: nothing).
    pub warnings: Vec<SyncWarning>,
    /// The group's current key epoch as [`EpochId`] displays it (empty: no epoch yet).
    pub epoch: String,
    /// This device was removed from the group and no longer syncs.
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
