//! Re-authentication (`VaultSession::verify_credential`): checks a credential against the
//! unlocked vault in memory — no file read, no state replaced.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::*;
use twofold_core::vault::{RecoveryKey, SlotCredential, VaultError};

#[test]
fn the_right_password_or_recovery_key_verifies_and_a_wrong_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (s, recovery) = create(&dir.path().join("v"));
    s.verify_credential(&SlotCredential::Password(PASSWORD))
        .unwrap();
    s.verify_credential(&SlotCredential::Recovery(&recovery))
        .unwrap();
    assert!(matches!(
        s.verify_credential(&SlotCredential::Password(b"wrong")),
        Err(VaultError::WrongCredential)
    ));
    let other = RecoveryKey::generate(&twofold_core::crypto::SystemRandom::new()).unwrap();
    assert!(matches!(
        s.verify_credential(&SlotCredential::Recovery(&other)),
        Err(VaultError::WrongCredential)
    ));
    s.lock();
    assert!(matches!(
        s.verify_credential(&SlotCredential::Password(PASSWORD)),
        Err(VaultError::Locked)
    ));
}

#[test]
fn the_file_is_not_read_and_the_session_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let added = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    s.record_use(added.id).unwrap(); // kept in memory until the next write
    let generation = s.generation().unwrap();

    // Someone swaps the file for a vault whose password they know.
    let (attacker, _) = create(&dir.path().join("theirs"));
    attacker
        .change_password(b"attacker knows this", FAST)
        .unwrap();
    drop(attacker);
    std::fs::copy(dir.path().join("theirs"), &path).unwrap();

    assert!(
        matches!(
            s.verify_credential(&SlotCredential::Password(b"attacker knows this")),
            Err(VaultError::WrongCredential)
        ),
        "the swapped file's password proves nothing about this vault"
    );
    s.verify_credential(&SlotCredential::Password(PASSWORD))
        .unwrap();
    assert_eq!(
        s.entry(added.id).unwrap().use_count,
        1,
        "pending usage kept"
    );
    assert_eq!(s.generation().unwrap(), generation, "nothing was written");
    assert_eq!(s.entries().unwrap().len(), 1, "the open vault is the same");
}

#[test]
fn a_changed_password_verifies_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    s.change_password(b"a new password", FAST).unwrap();
    s.verify_credential(&SlotCredential::Password(b"a new password"))
        .unwrap();
    assert!(matches!(
        s.verify_credential(&SlotCredential::Password(PASSWORD)),
        Err(VaultError::WrongCredential)
    ));
}
