//! Entry points for the fuzz targets (`core/fuzz`) and tests that need the whole open path of
//! a vault without a disk: an in-memory file system and "open these bytes as a vault".
//! Not part of the supported API.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::vault::{Entry, FileSystem, SlotCredential, VaultEnv, VaultError, VaultSession};

/// A file system in memory (files only; directories always exist).
#[derive(Debug, Default)]
pub struct MemoryFs(Mutex<HashMap<PathBuf, Vec<u8>>>);

impl MemoryFs {
    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        Ok(self.files().get(path).cloned())
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        Ok(self.files().contains_key(path))
    }
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.files().insert(path.to_path_buf(), bytes.to_vec());
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = self.files();
        let bytes = files
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        files.insert(to.to_path_buf(), bytes);
        Ok(())
    }
    fn link_or_copy(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut files = self.files();
        let bytes = files
            .get(from)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        files.insert(to.to_path_buf(), bytes);
        Ok(())
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.files().remove(path);
        Ok(())
    }
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(self
            .files()
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .cloned()
            .collect())
    }
    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }
}

/// Opens `current` (and `prev` as its previous generation) as a vault with `credential`,
/// in memory, accepting untrusted files so every path past the checks runs, and returns the
/// live entries.
pub fn open_vault(
    current: &[u8],
    prev: Option<&[u8]>,
    credential: &SlotCredential<'_>,
) -> Result<Vec<Entry>, VaultError> {
    let fs = Arc::new(MemoryFs::default());
    let path = Path::new("/fuzz/vault.twofold");
    fs.write_synced(path, current)?;
    if let Some(prev) = prev {
        fs.write_synced(&crate::vault::storage::prev_path(path), prev)?;
    }
    let env = VaultEnv {
        fs,
        ..VaultEnv::default()
    };
    let session = VaultSession::open_in(path, env)?;
    session.unlock_with(
        credential,
        crate::vault::UnlockOptions {
            accept_untrusted: true,
        },
    )?;
    session.entries()
}

/// A sync snapshot file as the storage serves it: parsed, verified and opened with a fixed
/// group key (a planted or damaged file must be refused without a panic or unbounded work);
/// and the same bytes as a decrypted snapshot body, merged the way a sync merges a member's
/// document. The merged vault content keeps every invariant and merging again changes nothing.
pub fn sync_snapshot(data: &[u8]) {
    use crate::sync::file;
    if let Ok(parsed) = file::parse(data)
        && parsed.verify().is_ok()
    {
        let _ = parsed.open(&[7; 32]);
    }
    let Ok(body) = file::unpad(data) else {
        return;
    };
    if body.doc.check().is_err() {
        return; // refused whole, as the engine does
    }
    let settings = crate::vault::model::Settings::default();
    let mut doc = crate::sync::doc::Doc::default();
    doc.merge(&body.doc);
    let merged = doc.materialize(&settings);
    if let Err(why) = merged.check_invariants() {
        panic!("a merged document breaks the vault's invariants: {why}");
    }
    doc.merge(&body.doc);
    assert!(
        doc.materialize(&settings) == merged,
        "merging the same document twice changed the vault"
    );
}

/// A WebDAV `PROPFIND` answer as a server (or something posing as one) sends it.
pub fn webdav_listing(data: &[u8]) {
    let _ = crate::sync::webdav::parse_multistatus(data, "/dav/twofold/");
}

/// The FreeOTP+ backup's Java serialized string map (read).
pub fn freeotp_read_string_map(
    bytes: &[u8],
) -> Result<Vec<(String, String)>, crate::interop::ImportError> {
    crate::interop::freeotp_backup::read_string_map(bytes)
}

/// The FreeOTP+ backup's Java serialized string map (written, for fixtures and benchmarks).
pub fn freeotp_write_string_map(pairs: &[(String, String)]) -> Vec<u8> {
    crate::interop::freeotp_backup::write_string_map(pairs)
}

/// The key-derivation parameters of a KeePass (KDBX 4) header, read before any key work.
pub fn keepass_header_kdf(bytes: &[u8]) {
    let _ = crate::interop::keepass::header_kdf(bytes);
}
