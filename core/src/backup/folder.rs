//! Automatic backups into a folder only the app can open (an Android Storage Access Framework
//! tree, an iOS security-scoped folder): one flow for both apps over [`BackupFolder`], the four
//! calls the app implements. A backup is sealed to the vault's recovery key (no password is
//! asked for, and the recovery key restores it), written under a new timestamped name, read
//! back and confirmed ([`super::PreparedBackup::confirm`]: byte for byte, every signature, and
//! decrypting to the vault); only then are the oldest automatic backups beyond `keep` deleted
//! ([`super::auto_backups_to_delete`]: other files are never touched, the new one never).
//!
//! Requests that arrive while a backup runs are merged ([`FolderBackups`]): the running one
//! runs once more when it is done, so the newest change is always backed up, and never two at
//! once.

use std::collections::HashSet;
use std::sync::Mutex;

use super::{BackupOptions, EXTENSION, PreparedBackup, auto_backup_name};
use crate::vault::{VaultError, VaultSession};

/// A folder the app opens for the core. Names are plain file names (no separators). Every
/// call may block; failures are [`VaultError::Io`] (the app's message inside).
pub trait BackupFolder {
    /// Names of the files directly in the folder.
    fn list(&self) -> Result<Vec<String>, VaultError>;
    /// The file's bytes, `None` when there is no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError>;
    /// Writes a new file completely, or fails.
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError>;
    /// Deletes a file; a missing one is not an error.
    fn delete(&self, name: &str) -> Result<(), VaultError>;
}

/// What one folder backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderBackupReport {
    /// The file written and confirmed.
    pub name: String,
    /// Live accounts in it.
    pub entry_count: usize,
    /// Its size.
    pub bytes: usize,
    /// Older automatic backups deleted to keep the newest `keep`.
    pub deleted: Vec<String>,
}

fn folder_failed(what: &str) -> VaultError {
    VaultError::Io {
        kind: "backup folder".into(),
        message: what.into(),
    }
}

/// Whether a listed name is a plain file name in the folder. Anything else — a separator,
/// `..`, a NUL — is a provider's mistake or an attack, and the core never names it back.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// [`super::auto_backups_to_delete`] for a folder listing of names (a document provider's):
/// only plain names are considered, so no name with a separator or `..` is ever handed back
/// to the folder to delete, whatever the listing held.
pub fn auto_backup_names_to_delete(names: &[String], keep: usize, newest: &str) -> Vec<String> {
    let plain: Vec<String> = names.iter().filter(|n| plain_name(n)).cloned().collect();
    super::auto_backups_to_delete(&plain, keep, &newest.to_owned())
}

/// A name for a backup made at `now_ms` that is not in `existing`: the timestamped name, with
/// `-2`, `-3`, … before the extension when that second is taken. Linear in the listing.
fn fresh_name(existing: &[String], now_ms: i64) -> String {
    let existing: HashSet<&str> = existing.iter().map(String::as_str).collect();
    let base = auto_backup_name(now_ms);
    let mut name = base.clone();
    let mut n = 1;
    while existing.contains(name.as_str()) {
        n += 1;
        name = base.replace(&format!(".{EXTENSION}"), &format!("-{n}.{EXTENSION}"));
    }
    name
}

/// One automatic backup into `folder` at `now_ms`, keeping the newest `keep` (at least 1)
/// automatic backups. Nothing is deleted unless the new backup was read back and confirmed;
/// a backup that was not written whole or does not read back right is deleted again (best
/// effort) and reported. Only plain names of the listing are ever named back to the folder.
/// A confirmed backup is the checkup's newest verified backup.
pub fn backup_to_folder(
    session: &VaultSession,
    folder: &dyn BackupFolder,
    keep: usize,
    now_ms: i64,
) -> Result<FolderBackupReport, VaultError> {
    let made_at = (session.env().clock)();
    let prepared = PreparedBackup::new(session, &BackupOptions::sealed(None, true))?;
    let name = fresh_name(&folder.list()?, now_ms);
    let confirmed =
        folder
            .write(&name, prepared.bytes())
            .and_then(|()| match folder.read(&name)? {
                Some(back) => prepared.confirm(&back, std::path::Path::new(&name)),
                None => Err(folder_failed(
                    "the backup just written is not in the folder",
                )),
            });
    let report = match confirmed {
        Ok(r) => r,
        Err(e) => {
            // A file that is not a confirmed backup (half written, unreadable, other
            // bytes) must not look like one.
            let _ = folder.delete(&name);
            return Err(e);
        }
    };
    // As for a backup file (`super::create_backup`): made and confirmed whether or not the
    // vault can record it.
    let _ = session.record_verified_backup(
        made_at,
        report.entry_count,
        crate::vault::care::BackupCheck::Created,
    );
    let existing = folder.list()?;
    let mut deleted = Vec::new();
    for old in auto_backup_names_to_delete(&existing, keep, &name) {
        folder.delete(&old)?;
        deleted.push(old);
    }
    Ok(FolderBackupReport {
        name,
        entry_count: report.entry_count,
        bytes: report.bytes,
        deleted,
    })
}

#[derive(Default)]
struct Queue {
    running: bool,
    /// A request arrived while running: the time it was made at.
    again: Option<i64>,
}

/// Automatic backups into one folder, with requests merged: a request while a backup runs
/// returns at once (`None`) and the running backup runs once more afterwards, at the latest
/// request's time. Both apps use this one rule.
pub struct FolderBackups<F> {
    folder: F,
    keep: usize,
    queue: Mutex<Queue>,
}

impl<F: BackupFolder> FolderBackups<F> {
    /// Backups into `folder`, keeping the newest `keep`.
    pub fn new(folder: F, keep: usize) -> Self {
        FolderBackups {
            folder,
            keep,
            queue: Mutex::new(Queue::default()),
        }
    }

    /// The folder.
    pub fn folder(&self) -> &F {
        &self.folder
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Backs up now, or — when a backup is running — asks it to run once more and returns
    /// `None`. `Some` holds the result of the last run this call made.
    pub fn backup(
        &self,
        session: &VaultSession,
        now_ms: i64,
    ) -> Option<Result<FolderBackupReport, VaultError>> {
        {
            let mut q = self.queue();
            if q.running {
                q.again = Some(q.again.map_or(now_ms, |t| t.max(now_ms)));
                return None;
            }
            q.running = true;
        }
        // Should the app's folder panic through a call, the queue must not stay "running".
        let _done = Done(self);
        let mut at = now_ms;
        loop {
            let result = backup_to_folder(session, &self.folder, self.keep, at);
            let mut q = self.queue();
            match q.again.take() {
                Some(t) => at = t.max(at),
                None => return Some(result),
            }
        }
    }
}

/// Marks the queue idle when the running backup ends, however it ends.
struct Done<'a, F>(&'a FolderBackups<F>);

impl<F> Drop for Done<'_, F> {
    fn drop(&mut self) {
        let mut q = self.0.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.running = false;
        q.again = None;
    }
}
