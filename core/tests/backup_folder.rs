//! Automatic backups into an app's document folder (`backup::folder`), over an in-memory
//! implementation of the `BackupFolder` the apps implement (SAF, security-scoped folders).
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};

use common::*;
use twofold_core::backup::folder::{BackupFolder, FolderBackups, backup_to_folder};
use twofold_core::backup::{self, BackupCredential};
use twofold_core::vault::{VaultError, VaultSession};

const T0: i64 = 1_700_000_000_000;

/// A folder in memory, with the faults storage providers have.
#[derive(Default)]
struct MemoryFolder {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    /// Reads give the file with one byte flipped.
    damage_reads: Mutex<bool>,
    /// Reads find nothing (a provider that has not made the file visible).
    lose_writes: Mutex<bool>,
    /// Writes fail.
    refuse_writes: Mutex<bool>,
    /// Each write waits here twice (start, then finish) when set.
    gate: Mutex<Option<Arc<Barrier>>>,
    writes: Mutex<Vec<String>>,
}

impl MemoryFolder {
    fn names(&self) -> Vec<String> {
        self.files.lock().unwrap().keys().cloned().collect()
    }
    fn put(&self, name: &str, bytes: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(name.into(), bytes.to_vec());
    }
}

fn refused(what: &str) -> VaultError {
    VaultError::Io {
        kind: "backup folder".into(),
        message: what.into(),
    }
}

impl BackupFolder for MemoryFolder {
    fn list(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.names())
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        if *self.lose_writes.lock().unwrap() {
            return Ok(None);
        }
        let mut bytes = self.files.lock().unwrap().get(name).cloned();
        if *self.damage_reads.lock().unwrap()
            && let Some(b) = bytes.as_mut()
        {
            let n = b.len() / 2;
            b[n] ^= 1;
        }
        Ok(bytes)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        let gate = self.gate.lock().unwrap().clone();
        if let Some(g) = &gate {
            g.wait();
        }
        if *self.refuse_writes.lock().unwrap() {
            return Err(refused("the provider refused the document"));
        }
        self.put(name, bytes);
        self.writes.lock().unwrap().push(name.into());
        if let Some(g) = &gate {
            g.wait();
        }
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.files.lock().unwrap().remove(name);
        Ok(())
    }
}

fn vault() -> (
    tempfile::TempDir,
    VaultSession,
    twofold_core::vault::RecoveryKey,
) {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    (dir, s, recovery)
}

#[test]
fn a_backup_is_written_read_back_confirmed_and_opens_with_the_recovery_key() {
    let (d, s, recovery) = vault();
    let folder = MemoryFolder::default();
    let r = backup_to_folder(&s, &folder, 10, T0).unwrap();
    assert_eq!(r.name, "twofold-20231114-221320.twfb");
    assert_eq!(r.entry_count, 1);
    assert!(r.deleted.is_empty());
    let bytes = folder.files.lock().unwrap()[&r.name].clone();
    assert_eq!(bytes.len(), r.bytes);
    let path = d.path().join("copy.twfb");
    std::fs::write(&path, &bytes).unwrap();
    let check = backup::verify_backup(
        &twofold_core::vault::OsFileSystem,
        &path,
        &BackupCredential::RecoveryKey(&recovery),
        None,
    )
    .unwrap();
    assert_eq!(
        check.entry_count, 1,
        "sealed to the recovery key: no password needed"
    );
}

#[test]
fn the_newest_backups_are_kept_and_other_files_never_touched() {
    let (_d, s, _) = vault();
    let folder = MemoryFolder::default();
    folder.put("notes.txt", b"mine");
    folder.put("my-backup.twfb", b"mine too");
    for i in 0..5 {
        backup_to_folder(&s, &folder, 3, T0 + i * 60_000).unwrap();
    }
    let names = folder.names();
    assert_eq!(
        names,
        [
            "my-backup.twfb",
            "notes.txt",
            "twofold-20231114-221520.twfb",
            "twofold-20231114-221620.twfb",
            "twofold-20231114-221720.twfb",
        ]
    );
    // Two in the same second get different names.
    let a = backup_to_folder(&s, &folder, 10, T0 + 4 * 60_000).unwrap();
    assert_eq!(a.name, "twofold-20231114-221720-2.twfb");
}

#[test]
fn a_backup_that_does_not_read_back_is_removed_and_nothing_is_pruned() {
    let (_d, s, _) = vault();
    let folder = MemoryFolder::default();
    backup_to_folder(&s, &folder, 1, T0).unwrap();
    let before = folder.names();

    *folder.damage_reads.lock().unwrap() = true;
    let e = backup_to_folder(&s, &folder, 1, T0 + 60_000).unwrap_err();
    assert!(matches!(e, VaultError::Corrupt(_)), "{e:?}");
    assert_eq!(
        folder.names(),
        before,
        "the bad copy is gone, the good one kept"
    );
    *folder.damage_reads.lock().unwrap() = false;

    *folder.lose_writes.lock().unwrap() = true;
    let e = backup_to_folder(&s, &folder, 1, T0 + 120_000).unwrap_err();
    assert!(matches!(e, VaultError::Io { .. }), "{e:?}");
    assert_eq!(folder.names(), before);
    *folder.lose_writes.lock().unwrap() = false;

    *folder.refuse_writes.lock().unwrap() = true;
    let e = backup_to_folder(&s, &folder, 1, T0 + 180_000).unwrap_err();
    assert!(e.to_string().contains("refused the document"), "{e}");
    assert_eq!(folder.names(), before);
}

#[test]
fn a_locked_vault_writes_nothing() {
    let (_d, s, _) = vault();
    let folder = MemoryFolder::default();
    s.lock();
    assert!(matches!(
        backup_to_folder(&s, &folder, 10, T0),
        Err(VaultError::Locked)
    ));
    assert!(folder.names().is_empty());
}

#[test]
fn requests_during_a_backup_merge_into_one_more_run() {
    let (_d, s, _) = vault();
    let gate = Arc::new(Barrier::new(2));
    let folder = MemoryFolder::default();
    *folder.gate.lock().unwrap() = Some(gate.clone());
    let backups = FolderBackups::new(folder, 10);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| backups.backup(&s, T0));
        gate.wait(); // the first backup is writing
        // Three changes arrive meanwhile: each returns at once.
        for i in 1..=3 {
            assert!(backups.backup(&s, T0 + i * 1000).is_none());
        }
        gate.wait(); // first write done
        gate.wait(); // the merged run starts writing
        gate.wait(); // and finishes
        let last = first
            .join()
            .unwrap()
            .expect("the first caller ran")
            .unwrap();
        assert_eq!(
            last.name, "twofold-20231114-221323.twfb",
            "one more run, at the latest request's time"
        );
    });
    assert_eq!(backups.folder().writes.lock().unwrap().len(), 2, "not four");
    // Idle again: the next request runs itself.
    *backups.folder().gate.lock().unwrap() = None;
    assert!(backups.backup(&s, T0 + 10_000).is_some());
}
