//! Verified backups: create, verify (with diff), restore (merge/replace), rotation, tamper.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::*;
use twofold_core::backup::{
    self, BackupCredential, BackupOptions, RestoreMode, auto_backup, create_backup, restore_backup,
    verify_backup,
};
use twofold_core::crypto::KdfParams;
use twofold_core::otp::OtpKind;
use twofold_core::vault::{EntryUpdate, OsFileSystem, VaultEnv, VaultError, VaultSession};

const G: &str = "JBSWY3DPEHPK3PXP";
const RFC: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const BACKUP_PW: &[u8] = b"backup passphrase";

fn fast(password: Option<&[u8]>) -> BackupOptions<'_> {
    BackupOptions {
        password,
        recovery: true,
        kdf: FAST,
    }
}

fn counter(s: &VaultSession, id: twofold_core::vault::EntryId) -> u64 {
    match s.entry(id).unwrap().kind {
        OtpKind::Hotp { counter, .. } => counter,
        _ => panic!("not hotp"),
    }
}

#[test]
fn create_reads_back_and_verify_reports_contents_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    let a = s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let b = s.add_entry(totp("Bank", "bob", RFC), false).unwrap();
    let file = dir.path().join("b.twfb");
    let report = create_backup(&s, &file, &fast(Some(BACKUP_PW))).unwrap();
    assert_eq!(report.entry_count, 2);
    assert_eq!(report.kdf, Some(FAST));
    assert!(report.sealed_to_recovery_key);
    assert_eq!(report.bytes as u64, std::fs::metadata(&file).unwrap().len());

    let fs = OsFileSystem;
    let current = s.read(|c| c.clone()).unwrap();
    let v = verify_backup(
        &fs,
        &file,
        &BackupCredential::Password(BACKUP_PW),
        Some(&current),
    )
    .unwrap();
    assert_eq!(v.entry_count, 2);
    assert_eq!(v.newest_change, Some(s.entry(b.id).unwrap().updated_at));
    assert!(v.diff.unwrap().is_empty());
    // The recovery key opens it too.
    let v = verify_backup(&fs, &file, &BackupCredential::RecoveryKey(&recovery), None).unwrap();
    assert_eq!(v.entry_count, 2);
    assert!(v.diff.is_none());
    assert_eq!(
        verify_backup(&fs, &file, &BackupCredential::Password(b"nope"), None),
        Err(VaultError::WrongCredential)
    );

    // Change the vault: one edited, one deleted, one new.
    s.update_entry(
        a.id,
        EntryUpdate {
            issuer: Some("GitHub Enterprise".into()),
            ..Default::default()
        },
    )
    .unwrap();
    s.delete_entry(b.id).unwrap();
    let c = s
        .add_entry(totp("New", "carol", "MZXW6YTBOI"), false)
        .unwrap();
    let current = s.read(|c| c.clone()).unwrap();
    let diff = verify_backup(
        &fs,
        &file,
        &BackupCredential::Password(BACKUP_PW),
        Some(&current),
    )
    .unwrap()
    .diff
    .unwrap();
    assert_eq!(
        diff.missing.iter().map(|e| e.id).collect::<Vec<_>>(),
        [c.id]
    );
    assert_eq!(
        diff.changed.iter().map(|e| e.id).collect::<Vec<_>>(),
        [a.id]
    );
    assert_eq!(diff.extra.iter().map(|e| e.id).collect::<Vec<_>>(), [b.id]);
}

#[test]
fn default_backup_kdf_is_256_mib() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let report = create_backup(
        &s,
        &dir.path().join("b"),
        &BackupOptions::new(Some(BACKUP_PW)),
    )
    .unwrap();
    assert_eq!(
        report.kdf,
        Some(KdfParams {
            m_kib: 256 * 1024,
            t: 3,
            p: 1
        })
    );
}

#[test]
fn recovery_only_and_password_only_backups() {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    s.add_entry(totp("A", "a", G), false).unwrap();
    let fs = OsFileSystem;
    let rec_only = dir.path().join("r");
    create_backup(
        &s,
        &rec_only,
        &BackupOptions {
            password: None,
            recovery: true,
            kdf: FAST,
        },
    )
    .unwrap();
    assert_eq!(
        verify_backup(
            &fs,
            &rec_only,
            &BackupCredential::RecoveryKey(&recovery),
            None
        )
        .unwrap()
        .entry_count,
        1
    );
    assert_eq!(
        verify_backup(&fs, &rec_only, &BackupCredential::Password(BACKUP_PW), None),
        Err(VaultError::NoSuchSlot)
    );
    let pw_only = dir.path().join("p");
    create_backup(
        &s,
        &pw_only,
        &BackupOptions {
            password: Some(BACKUP_PW),
            recovery: false,
            kdf: FAST,
        },
    )
    .unwrap();
    assert_eq!(
        verify_backup(
            &fs,
            &pw_only,
            &BackupCredential::RecoveryKey(&recovery),
            None
        ),
        Err(VaultError::NoSuchSlot)
    );
    assert!(matches!(
        create_backup(
            &s,
            &dir.path().join("x"),
            &BackupOptions {
                password: None,
                recovery: false,
                kdf: FAST
            }
        ),
        Err(VaultError::InvalidInput(_))
    ));
}

#[test]
fn every_byte_flip_and_truncation_of_a_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    s.add_entry(totp("A", "a", G), false).unwrap();
    let file = dir.path().join("b");
    create_backup(
        &s,
        &file,
        &BackupOptions {
            password: None,
            recovery: true,
            kdf: FAST,
        },
    )
    .unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let cred = twofold_core::vault::SlotCredential::Recovery(&recovery);
    assert!(backup::open_backup(&bytes, &cred).is_ok());
    for i in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x20;
        assert!(
            backup::open_backup(&damaged, &cred).is_err(),
            "flip at {i} opened"
        );
    }
    for len in 0..bytes.len() {
        assert!(
            backup::open_backup(&bytes[..len], &cred).is_err(),
            "truncation at {len} opened"
        );
    }
    // A vault file is not a backup and vice versa.
    let vault_bytes = std::fs::read(dir.path().join("v")).unwrap();
    assert_eq!(
        backup::open_backup(&vault_bytes, &cred).unwrap_err(),
        VaultError::NotAContainer("backup")
    );
}

#[test]
fn restore_merge_adds_missing_keeps_newer_and_never_moves_counters_back() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let a = s.add_entry(totp("A", "a", G), false).unwrap();
    let h = s
        .add_entry(
            entry(&format!("otpauth://hotp/H:h?secret={RFC}&counter=10")),
            false,
        )
        .unwrap();
    let file = dir.path().join("b");
    create_backup(&s, &file, &fast(Some(BACKUP_PW))).unwrap();
    // After the backup: HOTP advanced, A edited, A's twin added elsewhere, then B deleted.
    s.next_hotp(h.id).unwrap();
    s.next_hotp(h.id).unwrap();
    s.update_entry(
        a.id,
        EntryUpdate {
            note: Some("edited later".into()),
            ..Default::default()
        },
    )
    .unwrap();
    s.purge_entry({
        s.delete_entry(h.id).unwrap();
        h.id
    })
    .unwrap();
    let r = restore_backup(
        &s,
        &file,
        &BackupCredential::Password(BACKUP_PW),
        RestoreMode::Merge,
        false,
    )
    .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (1, 0, 1));
    // The edited entry keeps its newer version; the purged HOTP entry comes back.
    assert_eq!(s.entry(a.id).unwrap().note, "edited later");
    assert_eq!(counter(&s, h.id), 10);

    // Merging a stale copy of an entry whose counter moved on keeps the higher counter.
    s.next_hotp(h.id).unwrap();
    s.next_hotp(h.id).unwrap();
    s.next_hotp(h.id).unwrap();
    let r = restore_backup(
        &s,
        &file,
        &BackupCredential::Password(BACKUP_PW),
        RestoreMode::Merge,
        false,
    )
    .unwrap();
    assert_eq!(r.added, 0);
    assert_eq!(counter(&s, h.id), 13);
}

#[test]
fn restore_replace_takes_the_backup_but_keeps_slots_and_counters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let h = s
        .add_entry(
            entry(&format!("otpauth://hotp/H:h?secret={RFC}&counter=0")),
            false,
        )
        .unwrap();
    let file = dir.path().join("b");
    create_backup(&s, &file, &fast(Some(BACKUP_PW))).unwrap();
    s.next_hotp(h.id).unwrap();
    s.add_entry(totp("Later", "x", G), false).unwrap();
    let r = restore_backup(
        &s,
        &file,
        &BackupCredential::Password(BACKUP_PW),
        RestoreMode::Replace,
        false,
    )
    .unwrap();
    assert_eq!((r.added, r.removed), (0, 1));
    assert_eq!(s.entries().unwrap().len(), 1);
    assert_eq!(
        counter(&s, h.id),
        1,
        "the counter used after the backup is not reused"
    );
    s.lock();
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(s.entries().unwrap().len(), 1);
}

#[test]
fn automatic_backups_rotate_and_keep_the_newest_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, clock_fn) = manual_clock(1_700_000_000_000);
    let env = VaultEnv {
        clock: clock_fn,
        ..VaultEnv::default()
    };
    let (s, _) = create_in(&dir.path().join("v"), env);
    s.add_entry(totp("A", "a", G), false).unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::write(backups.join("notes.txt"), "mine").unwrap();
    let mut created = Vec::new();
    for _ in 0..5 {
        let r = auto_backup(&s, &backups, &fast(Some(BACKUP_PW)), 3).unwrap();
        created.push(r.created.path.clone());
        clock.fetch_add(3_600_000, Ordering::SeqCst);
    }
    let mut names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "notes.txt",
            "twofold-20231115-001320.twfb",
            "twofold-20231115-011320.twfb",
            "twofold-20231115-021320.twfb"
        ]
    );
    assert_eq!(
        created.last().unwrap().file_name().unwrap(),
        "twofold-20231115-021320.twfb"
    );
    // Two backups in the same second get distinct names.
    let r1 = auto_backup(&s, &backups, &fast(Some(BACKUP_PW)), 10).unwrap();
    let r2 = auto_backup(&s, &backups, &fast(Some(BACKUP_PW)), 10).unwrap();
    assert_ne!(r1.created.path, r2.created.path);

    // A failing backup deletes nothing.
    let before = std::fs::read_dir(&backups).unwrap().count();
    let faulty = Arc::new(FaultyFs::new(1, Fault::NoSpace));
    let s2 = VaultSession::open_in(&dir.path().join("v"), env_with(faulty)).unwrap();
    s2.unlock_with_password(PASSWORD).unwrap();
    assert!(auto_backup(&s2, &backups, &fast(Some(BACKUP_PW)), 1).is_err());
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), before);
}

#[test]
fn prepared_backups_for_document_providers_are_confirmed_from_what_was_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    s.add_entry(totp("A", "a", G), false).unwrap();
    let prepared = backup::PreparedBackup::new(&s, &fast(Some(BACKUP_PW))).unwrap();
    let written = prepared.bytes().to_vec();
    // What a flaky provider returns instead is refused: truncated, or one byte off.
    let doc = std::path::Path::new("content://backups/twofold.twfb");
    assert!(matches!(
        prepared.confirm(&written[..written.len() - 1], doc),
        Err(VaultError::Corrupt(_))
    ));
    let mut flipped = written.clone();
    flipped[100] ^= 1;
    assert!(matches!(
        prepared.confirm(&flipped, doc),
        Err(VaultError::Corrupt(_))
    ));
    let report = prepared.confirm(&written, doc).unwrap();
    assert_eq!((report.entry_count, report.bytes), (1, written.len()));
    // The bytes are a complete backup: verify them without any file.
    let v = backup::verify_backup_bytes(&written, &BackupCredential::RecoveryKey(&recovery), None)
        .unwrap();
    assert_eq!(v.entry_count, 1);
}
