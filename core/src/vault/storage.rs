//! Durable storage of vault files.
//!
//! Every write goes to a temporary file that is fsynced and read back, the current file is
//! hard-linked (or copied) to `<name>.prev` (or, after a credential change, the new file is),
//! the temporary file is renamed over the current one, and the directory is fsynced. At every instant the current file is either the old or
//! the new complete generation. File-system access goes through [`FileSystem`] so tests can
//! inject ENOSPC, EIO and short writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The operations storage needs, each a single step that can fail on its own.
pub trait FileSystem: Send + Sync {
    /// Whole file, or `None` if it does not exist.
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>>;
    /// Whether a file exists at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;
    /// Creates or truncates `path`, writes all of `bytes` and fsyncs the file.
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Atomically renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes `to` (which must not exist) a durable copy of `from`: a hard link where the file
    /// system allows, a synced copy otherwise.
    fn link_or_copy(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file; a missing file is not an error.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Fsyncs a directory so renames in it are durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Files directly inside `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        match fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn link_or_copy(&self, from: &Path, to: &Path) -> io::Result<()> {
        match fs::hard_link(from, to) {
            Ok(()) => Ok(()),
            Err(_) => {
                let bytes = fs::read(from)?;
                self.write_synced(to, &bytes)
            }
        }
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                out.push(entry.path());
            }
        }
        Ok(out)
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }
}

/// `<path>.<suffix>` next to `path`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// Where the previous generation of `path` is kept.
pub fn prev_path(path: &Path) -> PathBuf {
    sibling(path, "prev")
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A failed commit. `applied` tells whether the new file is already in place (only the final
/// directory sync failed, so the change is visible but its durability is not confirmed);
/// otherwise the file at the path is untouched.
#[derive(Debug)]
pub struct CommitError {
    /// Whether the new file is already in place (only the directory sync failed).
    pub applied: bool,
    /// The failure.
    pub error: io::Error,
}

impl From<CommitError> for crate::vault::VaultError {
    fn from(e: CommitError) -> Self {
        e.error.into()
    }
}

/// What happens to `<path>.prev` when `path` is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prev {
    /// The file being replaced becomes `<path>.prev` (the previous generation is kept).
    Rotate,
    /// `<path>.prev` is left as it is (the file being replaced is damaged, or there is none).
    Leave,
    /// `<path>.prev` becomes a copy of the new file *before* the new file takes `path`, so no
    /// older generation survives (after a credential was revoked).
    SameAsNew,
}

/// Replaces `path` with `bytes` atomically and durably, handling `<path>.prev` as `prev`
/// says. Unless the error says `applied`, the file at `path` is untouched on error.
pub fn commit(
    fs: &dyn FileSystem,
    path: &Path,
    bytes: &[u8],
    prev: Prev,
) -> Result<(), CommitError> {
    let tmp = sibling(path, "tmp");
    match commit_inner(fs, path, &tmp, bytes, prev) {
        Ok(()) => {}
        Err(error) => {
            let _ = fs.remove(&tmp);
            let _ = fs.remove(&sibling(path, "prev.tmp"));
            return Err(CommitError {
                applied: false,
                error,
            });
        }
    }
    // The new generation is in place; make the rename durable.
    fs.sync_dir(&parent_dir(path)).map_err(|error| CommitError {
        applied: true,
        error,
    })
}

fn commit_inner(
    fs: &dyn FileSystem,
    path: &Path,
    tmp: &Path,
    bytes: &[u8],
    prev: Prev,
) -> io::Result<()> {
    let dir = parent_dir(path);
    fs.remove(tmp)?;
    fs.write_synced(tmp, bytes)?;
    // Read back: a short or corrupted write must never replace a good file.
    match fs.read(tmp)? {
        Some(written) if written == bytes => {}
        _ => {
            return Err(io::Error::other(
                "the written file did not read back intact",
            ));
        }
    }
    let prev_source = match prev {
        Prev::Rotate if fs.exists(path)? => Some(path),
        Prev::SameAsNew => Some(tmp),
        _ => None,
    };
    if let Some(source) = prev_source {
        let prev_tmp = sibling(path, "prev.tmp");
        fs.remove(&prev_tmp)?;
        fs.link_or_copy(source, &prev_tmp)?;
        fs.rename(&prev_tmp, &prev_path(path))?;
        fs.sync_dir(&dir)?;
    }
    fs.rename(tmp, path)
}
