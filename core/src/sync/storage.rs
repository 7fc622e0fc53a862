//! Where snapshot files live: a folder another program replicates (Syncthing, Nextcloud,
//! Dropbox, iCloud Drive…), a WebDAV collection ([`super::webdav`]), or whatever the app
//! implements (an Android SAF tree, an iOS security-scoped folder).
//!
//! The storage is not trusted: everything read from it is checked by the engine. Storage
//! only has to list, read, write whole new files, and delete — no rename over an existing
//! file, no locks, no conditional requests.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file in the storage as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The file's name in the location (no directory part).
    pub name: String,
    /// Size in bytes when the storage says (WebDAV may not).
    pub size: Option<u64>,
}

/// A storage failure (the operation did nothing, or nothing that matters: the engine never
/// relies on a write that was not confirmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The storage cannot be reached (network, unmounted folder, server error); try later.
    #[error("the sync storage cannot be reached: {0}")]
    Unavailable(String),
    /// The storage refuses this device (credentials, permissions).
    #[error("the sync storage refused access: {0}")]
    Denied(String),
    /// Anything else.
    #[error("sync storage error: {0}")]
    Other(String),
}

impl From<io::Error> for StorageError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::PermissionDenied => StorageError::Denied(e.to_string()),
            io::ErrorKind::NotFound => StorageError::Unavailable(e.to_string()),
            _ => StorageError::Other(e.to_string()),
        }
    }
}

/// What the sync engine needs from a storage.
pub trait SyncStorage: Send + Sync {
    /// Every file directly in the sync location (names only, no folders).
    fn list(&self) -> Result<Vec<StoredFile>, StorageError>;
    /// A file's bytes, or `None` if it is gone. More than `max` bytes is an error the engine
    /// reports (implementations should stop reading past it).
    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError>;
    /// Creates `name` with `bytes` (the engine never writes a name twice).
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// Removes `name`; a missing file is not an error.
    fn delete(&self, name: &str) -> Result<(), StorageError>;
}

/// Names the engine writes: only its own canonical names (no separators, no dot files).
pub(crate) fn check_own_name(name: &str) -> Result<(), StorageError> {
    if super::file::parse_name(name).is_none() {
        return Err(StorageError::Other(format!(
            "refusing to write the name {name:?}"
        )));
    }
    Ok(())
}

/// A plain folder. Writes go to a hidden temporary file that is fsynced and renamed into
/// place, so a reader (or a sync tool) never sees a half-written file under a real name.
#[derive(Debug, Clone)]
pub struct FolderStorage {
    dir: PathBuf,
}

impl FolderStorage {
    /// The folder at `dir` (it must exist when a sync reads or writes it).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderStorage { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl SyncStorage for FolderStorage {
    fn list(&self) -> Result<Vec<StoredFile>, StorageError> {
        let mut out = Vec::new();
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| StorageError::Unavailable(format!("{}: {e}", self.dir.display())))?;
        for entry in entries {
            let entry = entry?;
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Gone between the listing and the look (a sync tool renaming): skip it.
                Err(_) => continue,
            };
            if !meta.is_file() {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            out.push(StoredFile {
                name,
                size: Some(meta.len()),
            });
        }
        Ok(out)
    }

    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Ok(None);
        }
        let file = match std::fs::File::open(self.dir.join(name)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_own_name(name)?;
        // A write killed half-way leaves its hidden temporary file: this device's are removed
        // before the next one (no one else writes names with its tag).
        if let Some((tag, _)) = super::file::parse_name(name)
            && let Ok(entries) = std::fs::read_dir(&self.dir)
        {
            let prefix = format!(".d-{tag:016x}-");
            for e in entries.flatten() {
                if let Some(n) = e.file_name().to_str()
                    && n.starts_with(&prefix)
                    && n.ends_with(".twfs.tmp")
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let target = self.dir.join(name);
        let result = (|| -> io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &target)?;
            #[cfg(unix)]
            std::fs::File::open(&self.dir)?.sync_all()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|e| {
            StorageError::Unavailable(format!("cannot write into {}: {e}", self.dir.display()))
        })
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        check_own_name(name)?;
        match std::fs::remove_file(self.dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Files in memory (tests, benchmarks, previews).
#[derive(Debug, Default)]
pub struct MemoryStorage {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    /// An empty storage: no files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a file as an attacker with access to the storage would.
    pub fn put(&self, name: &str, bytes: Vec<u8>) {
        self.lock().insert(name.to_owned(), bytes);
    }

    /// A file's bytes.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.lock().get(name).cloned()
    }

    /// Removes a file as an attacker would.
    pub fn remove(&self, name: &str) -> Option<Vec<u8>> {
        self.lock().remove(name)
    }

    /// Every name.
    pub fn names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SyncStorage for MemoryStorage {
    fn list(&self) -> Result<Vec<StoredFile>, StorageError> {
        Ok(self
            .lock()
            .iter()
            .map(|(n, b)| StoredFile {
                name: n.clone(),
                size: Some(b.len() as u64),
            })
            .collect())
    }

    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.lock().get(name).map(|b| {
            let end = b
                .len()
                .min(usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX));
            b[..end].to_vec()
        }))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_own_name(name)?;
        self.lock().insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        self.lock().remove(name);
        Ok(())
    }
}
