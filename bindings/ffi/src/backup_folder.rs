//! Automatic backups into a folder the app opens (`twofold_core::backup::folder`): the app
//! implements `BackupFolder` (an Android SAF tree, an iOS security-scoped folder); the core
//! writes, reads back, confirms, lists and prunes, and merges requests that arrive while a
//! backup runs.

use std::sync::Arc;

use twofold_core::backup::folder::{self, FolderBackups};
use twofold_core::vault::VaultError;

use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;

/// The backup folder as the app opens it. `write` creates the file completely (on Android
/// with mode "wt") or fails; `read` returns `None` for a missing file; `delete` of a missing
/// file is no error. Failures: `Storage { details }` with a message for the user (e.g. that
/// the app lost access and the folder must be chosen again). Called on a background thread.
#[uniffi::export(with_foreign)]
pub trait BackupFolder: Send + Sync {
    /// Names of the files directly in the folder.
    fn list(&self) -> Result<Vec<String>, TwofoldError>;
    /// The whole file, or null when it is missing.
    fn read(&self, name: String) -> Result<Option<Vec<u8>>, TwofoldError>;
    /// Creates the file `name` holding `bytes`, written completely, or fails.
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), TwofoldError>;
    /// Deletes the file `name`; a missing file is no error.
    fn delete(&self, name: String) -> Result<(), TwofoldError>;
}

fn folder_error(e: TwofoldError) -> VaultError {
    VaultError::Io {
        kind: "backup folder".into(),
        message: match e {
            TwofoldError::Storage { details } => details,
            other => other.to_string(),
        },
    }
}

/// The app's folder as the core's.
struct Foreign(Arc<dyn BackupFolder>);

impl folder::BackupFolder for Foreign {
    fn list(&self) -> Result<Vec<String>, VaultError> {
        self.0.list().map_err(folder_error)
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        self.0.read(name.to_owned()).map_err(folder_error)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.0
            .write(name.to_owned(), bytes.to_vec())
            .map_err(folder_error)
    }
    fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.0.delete(name.to_owned()).map_err(folder_error)
    }
}

/// What an automatic backup into the folder did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FolderBackupResult {
    /// The file written, read back and confirmed.
    pub name: String,
    /// Live accounts in the backup.
    pub entry_count: u64,
    /// Size of the file in bytes.
    pub size: u64,
    /// Older automatic backups deleted (other files are never touched).
    pub deleted: Vec<String>,
}

/// Automatic backups into one folder, keeping the newest `keep`. Requests while a backup
/// runs are merged into one more run.
#[derive(uniffi::Object)]
pub struct FolderBackupper {
    inner: FolderBackups<Foreign>,
}

#[uniffi::export]
impl FolderBackupper {
    /// Automatic backups into `folder`, keeping the newest `keep` (older ones deleted after a new
    /// one is confirmed).
    #[uniffi::constructor]
    pub fn new(folder: Arc<dyn BackupFolder>, keep: u32) -> Arc<Self> {
        Arc::new(FolderBackupper {
            inner: FolderBackups::new(Foreign(folder), keep as usize),
        })
    }

    /// Backs up `vault` now (sealed to its recovery key, written, read back, confirmed, then
    /// older automatic backups pruned). `None` when a backup was already running: it runs once
    /// more for this request, and its caller gets the result.
    pub fn backup_now(
        &self,
        vault: Arc<VaultSession>,
        now_ms: i64,
    ) -> Result<Option<FolderBackupResult>> {
        match self.inner.backup(&vault.inner, now_ms) {
            None => Ok(None),
            Some(r) => {
                let r = r?;
                Ok(Some(FolderBackupResult {
                    name: r.name,
                    entry_count: r.entry_count as u64,
                    size: r.bytes as u64,
                    deleted: r.deleted,
                }))
            }
        }
    }
}
