//! The encrypted vault: round trips, credentials, slots, tampering, storage faults, threads.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::sync::Arc;

use common::*;
use twofold_core::crypto::{self, KdfLimit, KdfParams, SystemRandom};
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::vault::container::{self, VAULT_MAGIC};
use twofold_core::vault::storage::prev_path;
use twofold_core::vault::{EntryUpdate, SlotKind, VaultError, VaultSession};

const G: &str = "JBSWY3DPEHPK3PXP";
const RFC: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

#[test]
fn create_add_lock_unlock_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, recovery) = create(&path);
    let a = s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let b = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=5&digits=8"),
            false,
        )
        .unwrap();
    let before = s.entries().unwrap();
    s.lock();
    assert_eq!(s.entries(), Err(VaultError::Locked));
    assert_eq!(s.codes_at(0), Err(VaultError::Locked));

    let reopened = VaultSession::open(&path).unwrap();
    let info = reopened.unlock_with_password(PASSWORD).unwrap();
    assert!(!info.recovered_from_previous);
    assert_eq!(reopened.entries().unwrap(), before);
    assert_eq!(reopened.entry(a.id).unwrap().issuer, "GitHub");
    assert_eq!(reopened.entry(b.id).unwrap().kind.digits(), 8);

    let by_recovery = VaultSession::open(&path).unwrap();
    by_recovery
        .unlock_with_recovery_key(&recovery.reveal())
        .unwrap();
    assert_eq!(by_recovery.entries().unwrap(), before);
}

#[test]
fn wrong_credentials_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery) = create(&path);
    drop(s);
    let s = VaultSession::open(&path).unwrap();
    assert_eq!(
        s.unlock_with_password(b"correct horse battery stapler"),
        Err(VaultError::WrongCredential)
    );
    let other = RecoveryKey::generate(&SystemRandom::new()).unwrap();
    assert_eq!(
        s.unlock_with_recovery_key(&other.reveal()),
        Err(VaultError::WrongCredential)
    );
    // A typo in the recovery key is caught by its checksum, before any key is tried.
    let mut typo: Vec<char> = recovery.reveal().chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    assert!(matches!(
        s.unlock_with_recovery_key(&typo),
        Err(VaultError::RecoveryKeyFormat(_))
    ));
    assert_eq!(
        s.unlock_with_platform_key([9; 16], &[1; 32]),
        Err(VaultError::NoSuchSlot)
    );
    assert!(!s.is_unlocked());
    assert_eq!(
        VaultSession::open(&dir.path().join("none")).unwrap_err(),
        VaultError::NotFound(dir.path().join("none").display().to_string())
    );
}

use twofold_core::vault::RecoveryKey;

#[test]
fn creating_over_an_existing_vault_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let _ = create(&path);
    let again = VaultSession::create(
        &path,
        twofold_core::vault::CreateOptions {
            password: PASSWORD,
            kdf: FAST,
        },
    );
    assert!(matches!(again, Err(VaultError::AlreadyExists(_))));
}

#[test]
fn platform_key_pull_flow_and_pin_slot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    // The app makes a 32-byte key, wraps it with its keystore, hands over key and blob.
    let platform_key = crypto::random_key(&SystemRandom::new()).unwrap();
    let blob = b"keystore-wrapped-blob".to_vec();
    let slot_id = s
        .add_platform_slot(
            "twofold.biometric",
            "Pixel fingerprint",
            &platform_key,
            blob.clone(),
        )
        .unwrap();
    let device_key = [7u8; 32];
    let pin_slot = s
        .add_pin_slot(
            "twofold.device",
            b"482916",
            &device_key,
            b"device-blob".to_vec(),
            PIN_KDF,
        )
        .unwrap();
    drop(s);

    let s = open_trusted(&path, &trust);
    // Locked: the app reads the blob for its slot…
    let slots = s.slots().unwrap();
    let platform = slots.iter().find(|x| x.kind == SlotKind::Platform).unwrap();
    assert_eq!(platform.id, slot_id);
    assert_eq!(platform.platform_blob.as_deref(), Some(&blob[..]));
    assert_eq!(
        platform.platform_alias.as_deref(),
        Some("twofold.biometric")
    );
    // …unwraps it behind the biometric prompt, and hands the key back.
    assert_eq!(
        s.unlock_with_platform_key(slot_id, &[0u8; 32]),
        Err(VaultError::WrongCredential)
    );
    s.unlock_with_platform_key(slot_id, &platform_key).unwrap();
    assert_eq!(s.entries().unwrap().len(), 1);
    s.lock();

    // PIN: needs both the PIN and the device key.
    assert_eq!(
        s.unlock_with_pin(pin_slot, b"482916", &[8u8; 32]),
        Err(VaultError::WrongCredential)
    );
    assert_eq!(
        s.unlock_with_pin(pin_slot, b"000000", &device_key),
        Err(VaultError::WrongCredential)
    );
    s.unlock_with_pin(pin_slot, b"482916", &device_key).unwrap();
    assert!(s.is_unlocked());
    // New PINs: six digits or more, digits only, and Argon2id at the default cost or more.
    for (pin, kdf) in [
        (&b"12345"[..], PIN_KDF),
        (&b"12345a"[..], PIN_KDF),
        (&b"123456"[..], FAST),
    ] {
        assert!(matches!(
            s.add_pin_slot("x", pin, &device_key, vec![], kdf),
            Err(VaultError::InvalidInput(_))
        ));
    }
    // Without a trust store (which counts wrong PINs) there are no PIN slots.
    let (plain, _) = create(&dir.path().join("plain"));
    assert!(matches!(
        plain.add_pin_slot("x", b"482916", &device_key, vec![], PIN_KDF),
        Err(VaultError::InvalidInput(_))
    ));
}

#[test]
fn password_change_rotates_master_key_and_keeps_other_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery) = create(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    let platform_key = [3u8; 32];
    let slot_id = s
        .add_platform_slot("bio", "bio", &platform_key, vec![1])
        .unwrap();
    let old_file = std::fs::read(&path).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    let new_file = std::fs::read(&path).unwrap();
    drop(s);

    let s = VaultSession::open(&path).unwrap();
    assert_eq!(
        s.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    s.unlock_with_password(b"new password").unwrap();
    s.lock();
    s.unlock_with_recovery_key(&recovery.reveal()).unwrap();
    s.lock();
    s.unlock_with_platform_key(slot_id, &platform_key).unwrap();
    assert_eq!(s.entries().unwrap().len(), 1);

    // The old file's master key does not open the new file: the key was rotated.
    let old = container::parse(&old_file, VAULT_MAGIC).unwrap();
    let old_mk = twofold_core::vault::slots::unlock(
        &old,
        &twofold_core::vault::SlotCredential::Password(PASSWORD),
        KdfLimit::DEFAULT,
    )
    .unwrap()
    .master_key;
    let new = container::parse(&new_file, VAULT_MAGIC).unwrap();
    assert!(container::open_body(&new, &old_mk).is_err());
}

#[test]
fn last_password_slot_cannot_be_removed_but_others_can() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let slots = s.slots().unwrap();
    let pw = slots
        .iter()
        .find(|x| x.kind == SlotKind::Password)
        .unwrap()
        .id;
    let rec = slots
        .iter()
        .find(|x| x.kind == SlotKind::Recovery)
        .unwrap()
        .id;
    assert_eq!(s.remove_slot(pw), Err(VaultError::LastPasswordSlot));
    s.remove_slot(rec).unwrap();
    assert_eq!(s.remove_slot(rec), Err(VaultError::NoSuchSlot));
    let second = s.add_password_slot(b"second", FAST, "spare").unwrap();
    s.remove_slot(pw).unwrap();
    s.lock();
    assert_eq!(
        s.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    s.unlock_with_password(b"second").unwrap();
    assert_eq!(s.slots().unwrap().len(), 1);
    assert_eq!(s.slots().unwrap()[0].id, second);
}

#[test]
fn recovery_key_rotation_invalidates_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, old) = create(&path);
    let new = s.rotate_recovery_key().unwrap();
    s.lock();
    assert_eq!(
        s.unlock_with_recovery_key(&old.reveal()),
        Err(VaultError::WrongCredential)
    );
    s.unlock_with_recovery_key(&new.reveal()).unwrap();
}

#[test]
fn entries_groups_trash_order_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let work = s.add_group("Work").unwrap();
    let a = s
        .add_entry(totp("Bäckerei Müller", "jürgen", G), false)
        .unwrap();
    let b = s
        .add_entry(totp("GitHub", "alice@example.com", RFC), false)
        .unwrap();
    let c = s
        .add_entry(totp("Google", "alice", "MZXW6YTBOI"), false)
        .unwrap();
    s.update_entry(
        b.id,
        EntryUpdate {
            group_ids: Some(vec![work.id]),
            note: Some("personal laptop".into()),
            ..Default::default()
        },
    )
    .unwrap();

    let names = |v: Vec<twofold_core::vault::Entry>| {
        v.into_iter().map(|e| e.issuer.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(s.search("backerei").unwrap()), ["Bäckerei Müller"]);
    assert_eq!(
        names(s.search("MULLER JURGEN").unwrap()),
        ["Bäckerei Müller"]
    );
    assert_eq!(names(s.search("work").unwrap()), ["GitHub"]);
    assert_eq!(names(s.search("laptop").unwrap()), ["GitHub"]);
    assert_eq!(names(s.search("alice").unwrap()), ["GitHub", "Google"]);
    assert_eq!(s.search("").unwrap().len(), 3);

    // Duplicates (same secret and kind) are refused unless allowed.
    assert_eq!(
        s.add_entry(totp("Other", "x", G), false),
        Err(VaultError::Duplicate(a.id.to_string()))
    );
    let dup = s.add_entry(totp("Other", "x", G), true).unwrap();
    s.delete_entry(dup.id).unwrap();

    s.reorder(&[c.id, a.id]).unwrap();
    assert_eq!(
        names(s.entries().unwrap()),
        ["Google", "Bäckerei Müller", "GitHub"]
    );

    s.delete_entry(a.id).unwrap();
    assert_eq!(s.entries().unwrap().len(), 2);
    assert_eq!(s.trash().unwrap().len(), 2);
    assert!(
        matches!(s.purge_entry(b.id), Err(VaultError::NoSuchEntry(_))),
        "live entries are not purged"
    );
    s.restore_entry(a.id).unwrap();
    assert_eq!(s.entries().unwrap().len(), 3);
    s.purge_entry(dup.id).unwrap();
    assert!(s.trash().unwrap().is_empty());

    s.delete_group(work.id).unwrap();
    assert!(s.entry(b.id).unwrap().group_ids.is_empty());
    assert!(matches!(
        s.update_entry(
            b.id,
            EntryUpdate {
                group_ids: Some(vec![work.id]),
                ..Default::default()
            }
        ),
        Err(VaultError::NoSuchGroup(_))
    ));
}

#[test]
fn trash_is_purged_after_the_retention_period() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, clock_fn) = manual_clock(1_700_000_000_000);
    let env = twofold_core::vault::VaultEnv {
        clock: clock_fn,
        ..twofold_core::vault::VaultEnv::default()
    };
    let (s, _) = create_in(&dir.path().join("v"), env);
    let e = s.add_entry(totp("A", "a", G), false).unwrap();
    s.delete_entry(e.id).unwrap();
    clock.fetch_add(29 * 86_400_000, std::sync::atomic::Ordering::SeqCst);
    s.add_entry(totp("B", "b", RFC), false).unwrap();
    assert_eq!(s.trash().unwrap().len(), 1);
    clock.fetch_add(2 * 86_400_000, std::sync::atomic::Ordering::SeqCst);
    s.add_entry(totp("C", "c", "MZXW6YTBOI"), false).unwrap();
    assert!(s.trash().unwrap().is_empty());
}

#[test]
fn codes_next_hotp_and_clock_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let t = s
        .add_entry(
            entry(&format!("otpauth://totp/RFC:t?secret={RFC}&digits=8")),
            false,
        )
        .unwrap();
    let h = s
        .add_entry(
            entry(&format!("otpauth://hotp/RFC:h?secret={RFC}&counter=0")),
            false,
        )
        .unwrap();
    let codes = s.codes_at(59_000).unwrap();
    assert_eq!(codes[0].entry_id, t.id);
    assert_eq!(codes[0].code.as_deref(), Some("94287082"));
    assert_eq!(codes[1].code, None, "HOTP codes only come from next_hotp");

    assert_eq!(s.next_hotp(h.id).unwrap(), "755224");
    assert_eq!(s.next_hotp(h.id).unwrap(), "287082");
    // The counter is on disk already.
    let other = VaultSession::open(&path).unwrap();
    other.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(
        other.entry(h.id).unwrap().kind,
        OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 2
        }
    );
    assert_eq!(other.entry(h.id).unwrap().use_count, 2);
    assert!(matches!(
        s.next_hotp(t.id),
        Err(VaultError::InvalidInput(_))
    ));

    s.set_clock_offset(-30).unwrap();
    assert_eq!(
        s.codes_at(89_000).unwrap()[0].code.as_deref(),
        Some("94287082")
    );
    let (offset, warn) = s.record_time_sample(1_000_000, 1_020_000).unwrap();
    assert_eq!((offset, warn), (20, true));
    assert_eq!(s.clock_offset().unwrap(), 20);
}

#[test]
fn codes_follow_every_change_to_the_accounts() {
    // Accounts are keyed once per unlock or change: each change must show at the next call.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let t = s
        .add_entry(entry(&format!("otpauth://totp/RFC:t?secret={RFC}")), false)
        .unwrap();
    assert_eq!(
        s.codes_at(59_000).unwrap()[0].code.as_deref(),
        Some("287082")
    );
    s.update_entry(
        t.id,
        EntryUpdate {
            kind: Some(OtpKind::Totp {
                algorithm: Algorithm::Sha1,
                digits: 8,
                period: 30,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        s.codes_at(59_000).unwrap()[0].code.as_deref(),
        Some("94287082")
    );
    let second = s
        .add_entry(
            entry("otpauth://totp/Other:o?secret=JBSWY3DPEHPK3PXP"),
            false,
        )
        .unwrap();
    let ids: Vec<_> = s
        .codes_at(59_000)
        .unwrap()
        .iter()
        .map(|c| c.entry_id)
        .collect();
    assert_eq!(ids, [t.id, second.id]);
    s.reorder(&[second.id, t.id]).unwrap();
    let ids: Vec<_> = s
        .codes_at(59_000)
        .unwrap()
        .iter()
        .map(|c| c.entry_id)
        .collect();
    assert_eq!(ids, [second.id, t.id]);
    s.delete_entry(second.id).unwrap();
    let ids: Vec<_> = s
        .codes_at(59_000)
        .unwrap()
        .iter()
        .map(|c| c.entry_id)
        .collect();
    assert_eq!(ids, [t.id]);
    s.lock();
    assert_eq!(s.codes_at(59_000), Err(VaultError::Locked));
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(
        s.codes_at(59_000).unwrap()[0].code.as_deref(),
        Some("94287082")
    );
}

#[test]
fn hotp_counter_at_the_top_cannot_advance() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let h = s
        .add_entry(
            entry(&format!(
                "otpauth://hotp/x?secret={RFC}&counter=18446744073709551615"
            )),
            false,
        )
        .unwrap();
    assert_eq!(s.next_hotp(h.id), Err(VaultError::CounterExhausted));
}

#[test]
fn every_single_byte_flip_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery) = create(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let key = recovery.reveal();
    let lone = dir.path().join("lone");
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut damaged = bytes.clone();
            damaged[i] ^= mask;
            std::fs::write(&lone, &damaged).unwrap();
            let session = VaultSession::open(&lone).unwrap();
            let result = session.unlock_with_recovery_key(&key);
            assert!(result.is_err(), "byte {i} mask {mask:#x} still opened");
            assert!(!session.is_unlocked());
        }
    }
    // And with the password, for a sample of positions across the file.
    for i in (0..bytes.len()).step_by(bytes.len() / 12) {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x04;
        std::fs::write(&lone, &damaged).unwrap();
        assert!(
            VaultSession::open(&lone)
                .unwrap()
                .unlock_with_password(PASSWORD)
                .is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn truncated_files_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (_, recovery) = create(&path);
    let bytes = std::fs::read(&path).unwrap();
    let lone = dir.path().join("lone");
    for len in 0..bytes.len() {
        std::fs::write(&lone, &bytes[..len]).unwrap();
        let r = VaultSession::open(&lone)
            .unwrap()
            .unlock_with_recovery_key(&recovery.reveal());
        assert!(
            matches!(
                r,
                Err(VaultError::Corrupt(_))
                    | Err(VaultError::NotAContainer(_))
                    | Err(VaultError::WrongCredential)
            ),
            "{len}: {r:?}"
        );
    }
    std::fs::write(&lone, b"PK\x03\x04 not a vault at all").unwrap();
    assert_eq!(
        VaultSession::open(&lone)
            .unwrap()
            .unlock_with_password(PASSWORD),
        Err(VaultError::NotAContainer("vault"))
    );
}

#[test]
fn kdf_parameters_below_the_floor_or_absurd_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let _ = create(&path);
    let bytes = std::fs::read(&path).unwrap();
    for (m, t) in [
        (8 * 1024, 2),
        (19 * 1024, 1),
        (64, 100),
        (4 * 1024 * 1024, 3),
    ] {
        // Whoever plants such a file signs it with a key of their own: the parameters are
        // checked before any Argon2id runs, before the endorsement could expose the forgery.
        let weak = resign(&bytes, |h| {
            let kdf = h.slots[0].kdf.as_mut().unwrap();
            kdf.m_kib = m;
            kdf.t = t;
        });
        let lone = dir.path().join("weak");
        std::fs::write(&lone, &weak).unwrap();
        let r = VaultSession::open(&lone)
            .unwrap()
            .unlock_with_password(PASSWORD);
        if m < 19 * 1024 || t < 2 {
            assert!(matches!(r, Err(VaultError::Kdf(_))), "m={m} t={t}: {r:?}");
        } else {
            assert!(
                matches!(r, Err(VaultError::HostileFile(_))),
                "m={m} t={t}: {r:?}"
            );
        }
    }
    // Creating one is refused too.
    let weak = KdfParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };
    let r = VaultSession::create(
        &dir.path().join("w2"),
        twofold_core::vault::CreateOptions {
            password: PASSWORD,
            kdf: weak,
        },
    );
    assert!(matches!(r, Err(VaultError::Kdf(_))));
}

#[test]
fn damaged_current_file_falls_back_to_previous_generation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    s.add_entry(totp("B", "b", RFC), false).unwrap();
    let gen_b = s.generation().unwrap();
    drop(s);
    // Damage the body of the current file.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let s = VaultSession::open(&path).unwrap();
    let prev_before = std::fs::read(prev_path(&path)).unwrap();
    let info = s.unlock_with_password(PASSWORD).unwrap();
    assert!(info.recovered_from_previous);
    // The unlock rewrote the damaged file from the previous generation (its content, one
    // generation on) and kept the good previous generation.
    assert_eq!(info.generation, gen_b);
    assert_eq!(s.entries().unwrap().len(), 1);
    assert_eq!(std::fs::read(prev_path(&path)).unwrap(), prev_before);
    s.add_entry(totp("C", "c", "MZXW6YTBOI"), false).unwrap();
    drop(s);
    let s = VaultSession::open(&path).unwrap();
    assert!(
        !s.unlock_with_password(PASSWORD)
            .unwrap()
            .recovered_from_previous
    );

    // Both damaged: a clear VaultCorrupt.
    std::fs::write(&path, b"TWFV\x00\x01garbage").unwrap();
    std::fs::write(prev_path(&path), b"TWFV\x00\x01garbage").unwrap();
    let r = VaultSession::open(&path)
        .unwrap()
        .unlock_with_password(PASSWORD);
    assert!(
        matches!(&r, Err(VaultError::Corrupt(m)) if m.contains("previous generation")),
        "{r:?}"
    );
}

#[test]
fn a_wrong_password_never_falls_back_to_the_previous_generation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    s.change_password(b"new", FAST).unwrap();
    drop(s);
    // The current file is intact, so the old password is simply wrong…
    let s = VaultSession::open(&path).unwrap();
    assert_eq!(
        s.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    // …and `.prev` holds the new generation, not one the old password opens.
    let prev = VaultSession::open(&prev_path(&path)).unwrap();
    assert_eq!(
        prev.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    prev.unlock_with_password(b"new").unwrap();
}

#[test]
fn concurrent_writers_in_two_sessions_conflict_instead_of_losing_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (a, _) = create(&path);
    let b = VaultSession::open(&path).unwrap();
    b.unlock_with_password(PASSWORD).unwrap();
    a.add_entry(totp("A", "a", G), false).unwrap();
    assert_eq!(
        b.add_entry(totp("B", "b", RFC), false),
        Err(VaultError::Conflict)
    );
    b.unlock_with_password(PASSWORD).unwrap();
    b.add_entry(totp("B", "b", RFC), false).unwrap();
    assert_eq!(b.entries().unwrap().len(), 2);
}

#[test]
fn injected_storage_faults_leave_the_old_vault_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    drop(s);
    let good = std::fs::read(&path).unwrap();

    // Count the mutating operations of one commit.
    let probe = Arc::new(FaultyFs::new(usize::MAX, Fault::Eio));
    let s = VaultSession::open_in(&path, env_with(probe.clone())).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    s.add_entry(totp("B", "b", RFC), false).unwrap();
    let ops_per_commit = probe.ops.load(std::sync::atomic::Ordering::SeqCst);
    assert!(ops_per_commit >= 5, "{:?}", probe.log.lock().unwrap());
    drop(s);
    std::fs::write(&path, &good).unwrap();
    let _ = std::fs::remove_file(prev_path(&path));

    for fault in [
        Fault::NoSpace,
        Fault::Eio,
        Fault::SilentShortWrite,
        Fault::ShortWriteThenError,
    ] {
        for fail_at in 0..ops_per_commit {
            let fs = Arc::new(FaultyFs::new(fail_at, fault));
            let s = VaultSession::open_in(&path, env_with(fs.clone())).unwrap();
            s.unlock_with_password(PASSWORD).unwrap();
            let r = s.add_entry(totp("B", "b", RFC), false);
            let failed_op = fs
                .log
                .lock()
                .unwrap()
                .get(fail_at)
                .cloned()
                .unwrap_or_default();
            let current = std::fs::read(&path).unwrap();
            let last_op = fail_at == ops_per_commit - 1;
            match r {
                Err(VaultError::Io { .. }) if last_op => {
                    // Only the final directory sync failed: the new generation is in place,
                    // the error says durability is unconfirmed, and the session follows disk.
                    assert_eq!(failed_op, "sync_dir");
                    assert_eq!(s.entries().unwrap().len(), 2);
                    let check = VaultSession::open(&path).unwrap();
                    check.unlock_with_password(PASSWORD).unwrap();
                    assert_eq!(check.entries().unwrap().len(), 2);
                }
                Err(VaultError::Io { .. }) => {
                    assert_eq!(
                        current, good,
                        "{fault:?} at op {fail_at} ({failed_op}) changed the vault"
                    );
                    // The session still shows what is on disk.
                    assert_eq!(s.entries().unwrap().len(), 1);
                }
                Ok(_) => panic!("{fault:?} at op {fail_at} ({failed_op}) was not reported"),
                Err(other) => panic!("{fault:?} at op {fail_at}: unexpected {other:?}"),
            }
            if !last_op {
                // The vault opens at the old state, with no temporary file left behind.
                let check = VaultSession::open(&path).unwrap();
                check.unlock_with_password(PASSWORD).unwrap();
                assert_eq!(check.entries().unwrap().len(), 1);
                assert!(!path.with_file_name("v.tmp").exists());
            }
            std::fs::write(&path, &good).unwrap();
            let _ = std::fs::remove_file(prev_path(&path));
        }
    }
}

#[test]
fn eight_threads_edit_and_read_codes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let h = s
        .add_entry(
            entry(&format!("otpauth://hotp/h?secret={RFC}&counter=0")),
            false,
        )
        .unwrap();
    let s = Arc::new(s);
    let mut handles = Vec::new();
    for t in 0..8u8 {
        let s = s.clone();
        handles.push(std::thread::spawn(move || {
            let mut hotp_codes = Vec::new();
            for i in 0..6u8 {
                let key: Vec<u8> = (0..20)
                    .map(|j| t.wrapping_mul(31).wrapping_add(i).wrapping_add(j))
                    .collect();
                let mut n = totp(&format!("T{t}"), &format!("i{i}"), "AAAA");
                n.secret = twofold_core::Secret::from_bytes(key).unwrap();
                s.add_entry(n, true).unwrap();
                let codes = s.codes_at(1_700_000_000_000).unwrap();
                assert!(
                    codes.iter().filter(|c| c.code.is_some()).all(|c| c
                        .code
                        .as_ref()
                        .unwrap()
                        .len()
                        == 6)
                );
                hotp_codes.push(s.next_hotp(h.id).unwrap());
            }
            hotp_codes
        }));
    }
    let mut all_codes: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(s.entries().unwrap().len(), 1 + 8 * 6);
    // 48 next_hotp calls used counters 0..48 exactly once each.
    let counter = match s.entry(h.id).unwrap().kind {
        OtpKind::Hotp { counter, .. } => counter,
        _ => unreachable!(),
    };
    assert_eq!(counter, 48);
    let secret = twofold_core::Secret::from_base32(RFC).unwrap();
    let mut expected: Vec<String> = (0..48)
        .map(|c| twofold_core::otp::hotp(&secret, Algorithm::Sha1, 6, c))
        .collect();
    all_codes.sort();
    expected.sort();
    assert_eq!(all_codes, expected);
    let reopened = VaultSession::open(&path).unwrap();
    reopened.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(reopened.entries().unwrap().len(), 49);
}

#[test]
fn no_secret_in_debug_display_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery) = create(&path);
    let e = s.add_entry(totp("GitHub", "alice", RFC), false).unwrap();
    let raw_hex: String = e
        .secret
        .expose()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let forbidden = [
        RFC.to_owned(),
        raw_hex.clone(),
        raw_hex.to_uppercase(),
        format!("{:?}", e.secret.expose()),
        String::from_utf8(PASSWORD.to_vec()).unwrap(),
        recovery.reveal().to_string(),
        recovery.reveal().replace('-', ""),
    ];
    let mut texts = vec![
        format!("{e:?}"),
        format!("{:?}", s.entries().unwrap()),
        format!("{s:?}"),
        format!("{recovery:?}"),
        format!("{:?}", s.slots().unwrap()),
        format!("{:?}", s.codes_at(0).unwrap()),
        format!("{:?}", e.secret),
    ];
    let errors = [
        s.add_entry(totp("GitHub", "alice", RFC), false)
            .unwrap_err(),
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_password(b"wrong")
            .unwrap_err(),
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_recovery_key("AAAA-AAAA")
            .unwrap_err(),
    ];
    for err in &errors {
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    let uri_err =
        twofold_core::uri::parse(&format!("otpauth://totp/x?secret={RFC}&digits=3")).unwrap_err();
    texts.push(uri_err.to_string());
    texts.push(format!("{uri_err:?}"));
    for text in &texts {
        for secret in &forbidden {
            assert!(
                !text.contains(secret.as_str()),
                "{text:?} contains a secret"
            );
        }
    }
}
