//! Format 1 files written by Twofold 0.1 (the committed fixtures in tests/fixtures/v1, made by
//! the v1 code itself) still open with every credential, upgrade to format 2 in place, and
//! give the same codes; v1 backups verify and restore. See tests/fixtures/v1/README.md.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use twofold_core::Secret;
use twofold_core::backup::{self, BackupCredential, RestoreMode};
use twofold_core::otp::{self, Algorithm, OtpKind};
use twofold_core::vault::container::{self, VAULT_MAGIC};
use twofold_core::vault::storage::prev_path;
use twofold_core::vault::{
    MemoryTrustStore, OsFileSystem, RecoveryKey, SlotKind, VaultError, VaultSession,
};

const V1_PASSWORD: &[u8] = b"v1 fixture password";
const V1_RECOVERY: &str = "ZPIU-EG6Q-O62B-YQGD-G7FD-TFVK-XYO2";
const V1_BACKUP_PASSWORD: &[u8] = b"v1 backup password";
const PLATFORM_SLOT: &str = "5a408700fcf8ea87a9aee212f4a58df8";
const PIN_SLOT: &str = "42a3b4ec8190352aaef531f976ae7e40";
const AT: i64 = 1_700_000_000_000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(name)
}

fn slot_id(hex: &str) -> [u8; 16] {
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    id
}

/// A copy of the fixture vault (and its `.prev`) in a fresh folder.
fn copy_vault() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    std::fs::copy(fixture("vault.twofold"), &path).unwrap();
    std::fs::copy(fixture("vault.twofold.prev"), prev_path(&path)).unwrap();
    (dir, path)
}

/// The codes the fixture's accounts must give at `AT`, computed from the known secrets.
fn expected_codes() -> Vec<(String, Option<String>)> {
    let github = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let steam = Secret::from_base32("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ").unwrap();
    // Clock offset +3 s stored in the vault.
    let t = (AT / 1000 + 3) as u64;
    vec![
        (
            "GitHub".into(),
            Some(otp::totp(&github, Algorithm::Sha1, 6, 30, t)),
        ),
        ("Bank".into(), None),
        ("Steam".into(), Some(otp::steam(&steam, t))),
    ]
}

fn codes(s: &VaultSession) -> Vec<(String, Option<String>)> {
    let entries = s.entries().unwrap();
    s.codes_at(AT)
        .unwrap()
        .into_iter()
        .map(|c| {
            let e = entries.iter().find(|e| e.id == c.entry_id).unwrap();
            (e.issuer.clone(), c.code)
        })
        .collect()
}

fn check_content(s: &VaultSession) {
    assert_eq!(codes(s), expected_codes());
    let entries = s.entries().unwrap();
    let github = entries.iter().find(|e| e.issuer == "GitHub").unwrap();
    assert_eq!(github.note, "personal account");
    assert!(github.favorite);
    assert_eq!(github.use_count, 1);
    assert_eq!(s.groups().unwrap()[0].name, "Work");
    assert_eq!(github.group_ids, vec![s.groups().unwrap()[0].id]);
    let bank = entries.iter().find(|e| e.issuer == "Bank").unwrap();
    assert!(matches!(
        bank.kind,
        OtpKind::Hotp {
            counter: 8,
            digits: 8,
            ..
        }
    ));
    assert_eq!(s.trash().unwrap()[0].account, "trashed");
    assert_eq!(s.clock_offset().unwrap(), 3);
}

#[test]
fn a_v1_vault_opens_with_every_credential_only_when_accepted_and_upgrades_in_place() {
    let recovery = RecoveryKey::parse(V1_RECOVERY).unwrap();
    let platform_key = [0x42u8; 32];
    let device_key = [0x24u8; 32];
    type Unlock = Box<dyn Fn(&VaultSession, bool) -> Result<(), VaultError>>;
    let rk = recovery.clone();
    let credentials: Vec<(&str, Unlock)> = vec![
        (
            "password",
            Box::new(|s: &VaultSession, accept: bool| {
                if accept {
                    s.unlock_with_password_accepting_untrusted(V1_PASSWORD)
                } else {
                    s.unlock_with_password(V1_PASSWORD)
                }
                .map(|_| ())
            }),
        ),
        (
            "recovery key",
            Box::new(move |s: &VaultSession, accept: bool| {
                s.unlock_with(
                    &twofold_core::vault::SlotCredential::Recovery(&rk),
                    twofold_core::vault::UnlockOptions {
                        accept_untrusted: accept,
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "platform key",
            Box::new(move |s: &VaultSession, accept: bool| {
                s.unlock_with(
                    &twofold_core::vault::SlotCredential::Platform {
                        slot_id: slot_id(PLATFORM_SLOT),
                        key: &platform_key,
                    },
                    twofold_core::vault::UnlockOptions {
                        accept_untrusted: accept,
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "PIN",
            Box::new(move |s: &VaultSession, accept: bool| {
                s.unlock_with(
                    &twofold_core::vault::SlotCredential::Pin {
                        slot_id: slot_id(PIN_SLOT),
                        pin: b"123456",
                        device_key: &device_key,
                    },
                    twofold_core::vault::UnlockOptions {
                        accept_untrusted: accept,
                    },
                )
                .map(|_| ())
            }),
        ),
    ];
    for (name, unlock) in &credentials {
        let (_dir, path) = copy_vault();
        let original = std::fs::read(&path).unwrap();
        let trust = Arc::new(MemoryTrustStore::new());
        let s = open_trusted(&path, &trust);
        // Format 1 cannot show who wrote it: never opened silently, nothing changed.
        let r = unlock(&s, false);
        assert!(matches!(r, Err(VaultError::Unverified(_))), "{name}: {r:?}");
        assert!(!s.is_unlocked());
        assert_eq!(std::fs::read(&path).unwrap(), original, "{name}");
        // Accepted: opened, upgraded, same content and codes. A PIN cannot accept it: with
        // no record on this device there is nowhere to count wrong PINs, so the password
        // comes first (the spec: accepting is done with the password).
        if *name == "PIN" {
            assert!(matches!(unlock(&s, true), Err(VaultError::Unverified(_))));
            s.unlock_with_password_accepting_untrusted(V1_PASSWORD)
                .unwrap();
        } else {
            unlock(&s, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        check_content(&s);
        let upgraded = std::fs::read(&path).unwrap();
        assert_eq!(&upgraded[..6], b"TWFV\x00\x02", "{name}");
        // No format 1 generation is left next to it.
        let prev = std::fs::read(prev_path(&path)).unwrap();
        assert_eq!(prev, upgraded, "{name}: .prev is the upgraded file");
        let header = container::parse(&upgraded, VAULT_MAGIC).unwrap().header;
        assert_eq!(header.slots.len(), 4, "{name}: every slot carried over");
        assert_eq!(
            header
                .slots
                .iter()
                .filter(|s| s.endorsement.is_some())
                .count(),
            1,
            "{name}: only the slot just used vouches for the new key"
        );
        s.lock();
        // Reopened on this device: every credential works, without asking again, and each
        // slot vouches for the vault once it has been used.
        for (other, unlock_again) in &credentials {
            let s = open_trusted(&path, &trust);
            unlock_again(&s, false).unwrap_or_else(|e| panic!("{name} then {other}: {e}"));
            check_content(&s);
            s.lock();
        }
        let header = container::parse(&std::fs::read(&path).unwrap(), VAULT_MAGIC)
            .unwrap()
            .header;
        assert!(
            header.slots.iter().all(|s| s.endorsement.is_some()),
            "{name}: all slots endorsed after each was used"
        );
        assert_eq!(header.signers.len(), 1, "{name}: one signing key left");
    }
}

#[test]
fn an_upgraded_vaults_unconfirmed_recovery_slot_is_unverified_on_another_device_until_confirmed() {
    let (_dir, path) = copy_vault();
    let this_device = Arc::new(MemoryTrustStore::new());
    let s = open_trusted(&path, &this_device);
    s.unlock_with_password_accepting_untrusted(V1_PASSWORD)
        .unwrap();
    let slots = s.slots().unwrap();
    assert!(
        !slots
            .iter()
            .find(|x| x.kind == SlotKind::Recovery)
            .unwrap()
            .endorsed
    );
    assert_eq!(
        slots
            .iter()
            .find(|x| x.kind == SlotKind::Platform)
            .unwrap()
            .label,
        "Pixel fingerprint",
        "labels moved into the body"
    );
    s.lock();
    // Another device (no record) cannot tell a genuine leftover from a stripped forgery.
    let other = open_trusted(&path, &Arc::new(MemoryTrustStore::new()));
    assert!(matches!(
        other.unlock_with_recovery_key(V1_RECOVERY),
        Err(VaultError::Unverified(_))
    ));
    // Confirming the recovery key (typed from paper) makes its slot vouch for the vault.
    s.unlock_with_password(V1_PASSWORD).unwrap();
    let wrong = RecoveryKey::generate(&twofold_core::crypto::SystemRandom::new()).unwrap();
    assert_eq!(
        s.confirm_recovery_key(&wrong),
        Err(VaultError::WrongCredential)
    );
    s.confirm_recovery_key(&RecoveryKey::parse(V1_RECOVERY).unwrap())
        .unwrap();
    s.lock();
    let other = open_trusted(&path, &Arc::new(MemoryTrustStore::new()));
    other.unlock_with_recovery_key(V1_RECOVERY).unwrap();
    check_content(&other);
}

#[test]
fn a_v1_file_put_back_after_the_upgrade_is_a_rollback() {
    let (_dir, path) = copy_vault();
    let trust = Arc::new(MemoryTrustStore::new());
    let s = open_trusted(&path, &trust);
    s.unlock_with_password_accepting_untrusted(V1_PASSWORD)
        .unwrap();
    s.lock();
    std::fs::copy(fixture("vault.twofold"), &path).unwrap();
    let r = open_trusted(&path, &trust).unlock_with_password(V1_PASSWORD);
    assert!(matches!(r, Err(VaultError::RolledBack { .. })), "{r:?}");
}

#[test]
fn a_v2_file_is_refused_by_the_v1_reader_as_an_unsupported_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let _ = create(&path);
    let v2 = std::fs::read(&path).unwrap();
    // The v1 reader (kept verbatim in container::v1) says what Twofold 0.1 says.
    assert_eq!(
        container::v1::parse(&v2, VAULT_MAGIC).unwrap_err(),
        VaultError::UnsupportedVersion(2)
    );
    // And a future version 3 is refused by this one, without falling back to `.prev`.
    let mut v3 = v2.clone();
    v3[5] = 3;
    std::fs::write(&path, &v3).unwrap();
    assert_eq!(
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_password(PASSWORD),
        Err(VaultError::UnsupportedVersion(3))
    );
}

#[test]
fn a_v1_backup_verifies_and_restores_only_when_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.twofold");
    let (s, _) = create(&path);
    let backup_file = fixture("backup.twfb");
    for credential in [
        BackupCredential::Password(V1_BACKUP_PASSWORD),
        BackupCredential::RecoveryKey(&RecoveryKey::parse(V1_RECOVERY).unwrap()),
    ] {
        let v = backup::verify_backup(&OsFileSystem, &backup_file, &credential, None).unwrap();
        assert_eq!(v.entry_count, 3);
        assert_eq!(v.format_version, 1);
        assert!(!v.authenticated);
    }
    let credential = BackupCredential::Password(V1_BACKUP_PASSWORD);
    assert!(matches!(
        backup::restore_backup(&s, &backup_file, &credential, RestoreMode::Replace, false),
        Err(VaultError::Unverified(_))
    ));
    assert!(s.entries().unwrap().is_empty(), "nothing was restored");
    let r =
        backup::restore_backup(&s, &backup_file, &credential, RestoreMode::Replace, true).unwrap();
    assert_eq!(r.added, 4);
    assert!(!r.authenticated);
    // The backup was made before the last use was recorded.
    let entries = s.entries().unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.issuer.as_str())
            .collect::<Vec<_>>(),
        ["GitHub", "Bank", "Steam"]
    );
    let t = (AT / 1000 + 3) as u64;
    let github = entries.iter().find(|e| e.issuer == "GitHub").unwrap();
    assert_eq!(
        s.codes_at(AT)
            .unwrap()
            .iter()
            .find(|c| c.entry_id == github.id)
            .unwrap()
            .code,
        Some(otp::totp(&github.secret, Algorithm::Sha1, 6, 30, t))
    );
    let wrong = backup::verify_backup(
        &OsFileSystem,
        &backup_file,
        &BackupCredential::Password(b"nope"),
        None,
    );
    assert_eq!(wrong.unwrap_err(), VaultError::WrongCredential);
}
