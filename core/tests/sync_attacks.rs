//! The storage as an attacker: it plants, replays, forks, truncates, flips, swaps, copies,
//! withholds and inflates files. Each attack is refused or reported with a typed warning;
//! nothing is imported from the attacking file, and nothing the victim holds is lost.
//! (`docs/threat-model.md` names these tests.)

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod sync_support;

use sync_support::*;
use twofold_core::crypto::{SigningKey, SystemRandom};
use twofold_core::sync::doc::Doc;
use twofold_core::sync::file::{self, Body, FileHeader};
use twofold_core::sync::roster::EpochId;
use twofold_core::sync::{self, MemoryStorage, SyncWarning};
use twofold_core::vault::EntryUpdate;

/// A two-device group where `b` has read `a`'s latest file with one account in it.
fn setup() -> (MemoryStorage, Device, Device) {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    a.add("GitHub", &[1; 20]);
    a.sync(&storage);
    b.sync(&storage);
    assert!(b.find("GitHub").is_some());
    (storage, a, b)
}

fn has(report: &twofold_core::sync::SyncReport, f: impl Fn(&SyncWarning) -> bool) -> bool {
    report.warnings.iter().any(f)
}

/// A snapshot made by someone who is not a member: his own key, a key of his own for the
/// body, the victim's group id (it is in the clear), an account he wants imported.
fn planted(group: [u8; 16], writer: &SigningKey, generation: u64) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut doc = Doc::default();
    let mut content = twofold_core::vault::VaultContent::new();
    content.entries.push(twofold_core::vault::Entry::new(
        twofold_core::vault::Id::from_random([9; 16]),
        twofold_core::otp::OtpKind::DEFAULT_TOTP,
        twofold_core::Secret::from_bytes(vec![0x66; 20]).unwrap(),
        "Phishing".into(),
        "victim".into(),
        START_MS,
        0,
    ));
    doc.record_local(
        &twofold_core::vault::VaultContent::new(),
        &content,
        &mut twofold_core::sync::doc::Clock {
            last: u64::MAX / 2,
            device: 1,
            now: START_MS,
        },
    );
    let header = FileHeader {
        group,
        writer: writer.public(),
        generation,
        epoch: EpochId::default(),
        nonce: [0; 24],
        rotation: None,
        revocations: vec![],
    };
    let body = Body {
        written_at: START_MS,
        clock: 0,
        statements: vec![],
        rotations: vec![],
        seen: vec![],
        doc,
    };
    file::seal(header, &body, &[0x42; 32], writer, &rng).unwrap()
}

#[test]
fn a_file_planted_by_someone_outside_the_group_is_refused() {
    let (storage, _a, b) = setup();
    let before = b.view();
    let group = sync::state_of(&b.session).unwrap().group;
    let attacker = SigningKey::generate(&SystemRandom::new()).unwrap();
    let tag = twofold_core::sync::roster::devtag(&attacker.public());
    storage.put(&file::file_name(tag, 1), planted(group, &attacker, 1));
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::NotAMember { .. })),
        "{report:?}"
    );
    assert_eq!(b.view(), before);
    // Under a member's name, it is not that member's file.
    let a_tag = sync::state_of(&_a.session).unwrap().my_tag();
    storage.put(&file::file_name(a_tag, 99), planted(group, &attacker, 99));
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::Misnamed { .. })),
        "{report:?}"
    );
    assert_eq!(b.view(), before);
    // Junk with a canonical name.
    storage.put(&file::file_name(tag, 2), b"hello".to_vec());
    let report = b.sync(&storage);
    assert!(has(&report, |w| matches!(w, SyncWarning::Damaged { .. })));
    assert_eq!(b.view(), before);
}

#[test]
fn a_file_of_another_group_is_refused() {
    let (storage, _a, b) = setup();
    let before = b.view();
    let other_storage = MemoryStorage::new();
    let [x]: [Device; 1] = group(&["stranger"], &other_storage)
        .try_into()
        .ok()
        .unwrap();
    x.add("Not yours", &[7; 20]);
    x.sync(&other_storage);
    let theirs = files_of(&x, &other_storage).pop().unwrap();
    storage.put(&theirs, other_storage.get(&theirs).unwrap());
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::ForeignGroup { .. })),
        "{report:?}"
    );
    assert_eq!(b.view(), before);
}

#[test]
fn an_older_file_served_again_is_a_rollback() {
    let (storage, a, b) = setup();
    let old_name = files_of(&a, &storage).pop().unwrap();
    let old = storage.get(&old_name).unwrap();
    a.add("GitLab", &[2; 20]);
    a.sync(&storage);
    b.sync(&storage);
    assert!(b.find("GitLab").is_some());
    let before = b.view();
    // The storage hides the new files and serves the old one again.
    for n in files_of(&a, &storage) {
        storage.remove(&n);
    }
    storage.put(&old_name, old.clone());
    let report = b.sync(&storage);
    assert!(
        has(
            &report,
            |w| matches!(w, SyncWarning::Rollback { device, .. } if device == "phone")
        ),
        "{report:?}"
    );
    assert_eq!(b.view(), before, "kept what it had read");
    let status = sync::status(&b.session).unwrap();
    assert!(status.warnings.iter().any(|w| w.kind() == "rollback"));
    // Renamed to look newer, it is misnamed.
    let tag = sync::state_of(&a.session).unwrap().my_tag();
    storage.put(&file::file_name(tag, 1000), old);
    let report = b.sync(&storage);
    assert!(has(&report, |w| matches!(w, SyncWarning::Misnamed { .. })));
    assert_eq!(b.view(), before);
}

#[test]
fn the_same_generation_with_other_contents_is_a_fork_and_the_device_is_quarantined() {
    let (storage, a, b) = setup();
    // The phone's vault is copied to a second phone; both keep syncing as "phone". The copy
    // writes before it sees the original's file (its sync tool is behind): the same
    // generation twice, with other contents, under the same name.
    let twin = Device::clone_of(&a, "phone (copy)");
    let behind = MemoryStorage::new();
    for n in storage.names() {
        behind.put(&n, storage.get(&n).unwrap());
    }
    a.add("From the original", &[3; 20]);
    a.sync(&storage);
    b.sync(&storage);
    assert!(b.find("From the original").is_some());
    let before = b.view();
    twin.add("From the copy", &[4; 20]);
    twin.sync(&behind);
    let forked = files_of(&twin, &behind).pop().unwrap();
    assert_eq!(Some(&forked), files_of(&a, &storage).last());
    storage.put(&forked, behind.get(&forked).unwrap());
    let report = b.sync(&storage);
    assert!(
        has(
            &report,
            |w| matches!(w, SyncWarning::Fork { device, .. } if device == "phone")
        ),
        "{report:?}"
    );
    assert_eq!(b.view(), before);
    // From now on the forked device is ignored, whatever it writes, until it is revoked.
    a.add("Later", &[5; 20]);
    a.sync(&storage);
    let report = b.sync(&storage);
    assert!(b.find("Later").is_none());
    assert!(has(&report, |w| matches!(
        w,
        SyncWarning::Quarantined { .. }
    )));
    let status = sync::status(&b.session).unwrap();
    assert!(
        status
            .devices
            .iter()
            .any(|d| d.name == "phone" && d.quarantined)
    );
    assert!(status.warnings.iter().any(|w| w.kind() == "fork"));
    assert!(b.find("GitHub").is_some() && b.find("From the original").is_some());
}

#[test]
fn every_flipped_byte_and_every_truncation_is_refused() {
    let (storage, a, b) = setup();
    a.session
        .update_entry(
            a.find("GitHub").unwrap().id,
            EntryUpdate {
                note: Some("new note".into()),
                ..EntryUpdate::default()
            },
        )
        .unwrap();
    a.sync(&storage);
    let name = files_of(&a, &storage).pop().unwrap();
    let good = storage.get(&name).unwrap();
    let before = b.view();
    let mut refused = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01 << (i % 8);
        storage.put(&name, bad);
        let report = sync::sync(&b.session, &storage).unwrap();
        assert_eq!(report.files_merged, 0, "byte {i} flipped was accepted");
        assert!(!report.warnings.is_empty(), "byte {i}: no warning");
        refused += 1;
    }
    for len in (0..good.len())
        .step_by(61)
        .chain(good.len() - 70..good.len())
    {
        storage.put(&name, good[..len].to_vec());
        let report = sync::sync(&b.session, &storage).unwrap();
        assert_eq!(report.files_merged, 0, "truncated to {len} was accepted");
        assert!(
            report.warnings.iter().any(|w| matches!(
                w,
                SyncWarning::Damaged { .. } | SyncWarning::Incomplete { .. }
            )),
            "{len}: {report:?}"
        );
    }
    assert_eq!(b.view(), before);
    assert!(refused > 4000);
    // The intact file is taken.
    storage.put(&name, good);
    assert_eq!(b.sync(&storage).files_merged, 1);
    assert_eq!(b.find("GitHub").unwrap().note, "new note");
}

#[test]
fn sync_tool_conflict_copies_are_ignored() {
    let (storage, a, b) = setup();
    a.add("Newer", &[6; 20]);
    a.sync(&storage);
    let name = files_of(&a, &storage).pop().unwrap();
    let bytes = storage.remove(&name).unwrap();
    let stem = name.trim_end_matches(".twfs");
    for copy in [
        format!("{stem}.sync-conflict-20240101-120000-ABCDEFG.twfs"),
        format!("{stem} (conflicted copy 2024-01-01 120000).twfs"),
        format!("{stem} (1).twfs"),
        format!("{stem} (phone's conflicted copy 2024-01-01).twfs"),
    ] {
        storage.put(&copy, bytes.clone());
    }
    storage.put(&format!(".syncthing.{name}.tmp"), bytes.clone());
    let before = b.view();
    let report = b.sync(&storage);
    let copies = report
        .warnings
        .iter()
        .filter(|w| matches!(w, SyncWarning::ConflictCopy { .. }))
        .count();
    assert_eq!(copies, 4, "{report:?}");
    assert_eq!(b.view(), before, "nothing imported from a copy");
    assert!(b.find("Newer").is_none());
    storage.put(&name, bytes);
    b.sync(&storage);
    assert!(b.find("Newer").is_some());
}

#[test]
fn a_file_still_being_written_is_skipped_and_the_previous_one_used() {
    let (storage, a, b) = setup();
    a.add("Second", &[7; 20]);
    a.sync(&storage);
    a.add("Third", &[8; 20]);
    a.sync(&storage);
    let newest = files_of(&a, &storage).pop().unwrap();
    let bytes = storage.get(&newest).unwrap();
    // Zero bytes (wsgidav serves this while a PUT is in flight).
    storage.put(&newest, Vec::new());
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::Incomplete { .. })),
        "{report:?}"
    );
    // The generation before it was read instead.
    assert!(b.find("Second").is_some());
    assert!(b.find("Third").is_none());
    // Half written: the same.
    storage.put(&newest, bytes[..bytes.len() / 2].to_vec());
    let report = b.sync(&storage);
    assert!(has(&report, |w| matches!(w, SyncWarning::Damaged { .. })));
    storage.put(&newest, bytes);
    b.sync(&storage);
    assert!(b.find("Third").is_some());
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let (storage, a, b) = setup();
    let tag = sync::state_of(&a.session).unwrap().my_tag();
    let next = sync::state_of(&a.session).unwrap().generation + 1;
    storage.put(
        &file::file_name(tag, next),
        vec![0u8; (file::MAX_FILE_LEN + 1) as usize],
    );
    let before = b.view();
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::TooLarge { .. })),
        "{report:?}"
    );
    assert_eq!(b.view(), before);
}

#[test]
fn a_file_put_under_another_devices_name_is_refused() {
    let (storage, a, b) = setup();
    let c = Device::new("tablet");
    join(&a, &c, &storage);
    b.sync(&storage);
    c.add("From the tablet", &[9; 20]);
    c.sync(&storage);
    let c_file = files_of(&c, &storage).pop().unwrap();
    let bytes = storage.remove(&c_file).unwrap();
    let a_tag = sync::state_of(&a.session).unwrap().my_tag();
    let a_gen = sync::state_of(&a.session).unwrap().generation;
    storage.put(&file::file_name(a_tag, a_gen + 1), bytes);
    let before = b.view();
    let report = b.sync(&storage);
    assert!(has(&report, |w| matches!(w, SyncWarning::Misnamed { .. })));
    assert_eq!(b.view(), before);
}

#[test]
fn a_withheld_generation_is_noticed_through_another_member() {
    let storage = MemoryStorage::new();
    let [a, b, c]: [Device; 3] = group(&["phone", "desktop", "tablet"], &storage)
        .try_into()
        .ok()
        .unwrap();
    a.add("Seen by the tablet", &[10; 20]);
    a.sync(&storage);
    c.sync(&storage);
    c.add("Tablet's own", &[11; 20]);
    c.sync(&storage);
    // The storage stops showing the phone's newest file to the desktop.
    let hidden = files_of(&a, &storage).pop().unwrap();
    storage.remove(&hidden);
    let report = b.sync(&storage);
    assert!(
        has(&report, |w| matches!(
            w,
            SyncWarning::Withheld { device, seen_by, .. } if device == "phone" && seen_by == "tablet"
        )),
        "{report:?}"
    );
    // What the tablet merged still arrives through the tablet.
    assert!(b.find("Seen by the tablet").is_some());
    assert!(b.find("Tablet's own").is_some());
}

#[test]
fn a_member_with_a_clock_far_ahead_does_not_drag_the_others_along() {
    let (storage, a, b) = setup();
    a.tick(3 * 24 * 3600 * 1000);
    a.session
        .update_entry(
            a.find("GitHub").unwrap().id,
            EntryUpdate {
                note: Some("from the future".into()),
                ..EntryUpdate::default()
            },
        )
        .unwrap();
    a.sync(&storage);
    let report = b.sync(&storage);
    assert!(
        has(
            &report,
            |w| matches!(w, SyncWarning::ClockAhead { device, .. } if device == "phone")
        ),
        "{report:?}"
    );
    let clock = sync::state_of(&b.session).unwrap().clock;
    assert!(twofold_core::sync::hlc::to_ms(clock) <= b.now() + 24 * 3600 * 1000);
    // The value is still merged (it is the member's), and a later edit here still lands.
    assert_eq!(b.find("GitHub").unwrap().note, "from the future");
    b.session
        .update_entry(
            b.find("GitHub").unwrap().id,
            EntryUpdate {
                note: Some("fixed".into()),
                ..EntryUpdate::default()
            },
        )
        .unwrap();
    b.sync(&storage);
    a.sync(&storage);
    assert_eq!(a.find("GitHub").unwrap().note, "fixed");
}

#[test]
fn a_device_whose_vault_was_restored_continues_above_its_old_files() {
    let (storage, mut a, b) = setup();
    let old_vault = a.fs.snapshot();
    a.add("Made before the restore", &[12; 20]);
    a.sync(&storage);
    a.add("Also before", &[13; 20]);
    a.sync(&storage);
    b.sync(&storage);
    // The user puts back an old copy of the phone's vault file.
    a.restore_vault(old_vault);
    assert!(a.find("Made before the restore").is_none());
    a.add("After the restore", &[14; 20]);
    let report = a.sync(&storage);
    assert!(
        has(&report, |w| matches!(w, SyncWarning::OwnStateBehind { .. })),
        "{report:?}"
    );
    // Its own newer file was merged back, and the others see no fork.
    assert!(a.find("Made before the restore").is_some());
    let report = b.sync(&storage);
    assert!(
        !has(&report, |w| matches!(w, SyncWarning::Fork { .. })),
        "{report:?}"
    );
    assert!(b.find("After the restore").is_some());
    a.sync(&storage);
    assert_eq!(a.view(), b.view());
}
