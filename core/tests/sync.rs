//! Sync between devices, as a user sees it: what one device changes the others get; no edit
//! is lost; deletes, HOTP counters, joining and revocation behave as `docs/sync-protocol.md`
//! says. Every device is a real vault; every file goes through a storage.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod sync_support;

use sync_support::*;
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::sync::engine::Change;
use twofold_core::sync::{self, Field, Keep, MemoryStorage, SyncError, SyncWarning};
use twofold_core::vault::EntryUpdate;

fn update(f: impl FnOnce(&mut EntryUpdate)) -> EntryUpdate {
    let mut u = EntryUpdate::default();
    f(&mut u);
    u
}

#[test]
fn what_one_device_adds_edits_and_deletes_the_others_get() {
    let storage = MemoryStorage::new();
    let [a, b, c]: [Device; 3] = group(&["phone", "desktop", "tablet"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let gh = a.add("GitHub", &[1; 20]);
    a.sync(&storage);
    let report = b.sync(&storage);
    assert!(
        report
            .changes
            .iter()
            .any(|ch| ch.id == gh.id && ch.change == Change::Added),
        "{report:?}"
    );
    c.sync(&storage);
    assert!(c.find("GitHub").is_some());
    // An edit on the tablet reaches the phone.
    c.tick(1000);
    c.session
        .update_entry(gh.id, update(|u| u.note = Some("work".into())))
        .unwrap();
    c.sync(&storage);
    let report = a.sync(&storage);
    assert!(matches!(&report.changes[..], [ch] if ch.change == Change::Edited(vec!["note"])));
    assert_eq!(a.find("GitHub").unwrap().note, "work");
    // Trash and restore.
    b.sync(&storage);
    b.tick(1000);
    b.session.delete_entry(gh.id).unwrap();
    b.sync(&storage);
    a.sync(&storage);
    assert!(a.find("GitHub").unwrap().deleted_at.is_some());
    a.tick(1000);
    a.session.restore_entry(gh.id).unwrap();
    a.sync(&storage);
    b.sync(&storage);
    assert!(b.find("GitHub").unwrap().deleted_at.is_none());
    for d in [&a, &b, &c] {
        d.sync(&storage);
    }
    assert_eq!(a.view(), b.view());
    assert_eq!(b.view(), c.view());
}

#[test]
fn concurrent_edits_to_different_fields_both_survive() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let e = a.add("Mail", &[2; 20]);
    a.sync(&storage);
    b.sync(&storage);
    a.tick(500);
    a.session
        .update_entry(e.id, update(|u| u.note = Some("from the phone".into())))
        .unwrap();
    b.tick(700);
    b.session
        .update_entry(e.id, update(|u| u.account = Some("bob@example.com".into())))
        .unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    for d in [&a, &b] {
        let got = d.find("Mail").unwrap();
        assert_eq!(got.note, "from the phone");
        assert_eq!(got.account, "bob@example.com");
        assert!(sync::conflicts(&d.session).unwrap().is_empty());
    }
    assert_eq!(a.view(), b.view());
}

#[test]
fn concurrent_edits_to_one_field_resolve_the_same_way_and_keep_the_loser() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let e = a.add("Bank", &[3; 20]);
    a.sync(&storage);
    b.sync(&storage);
    a.tick(100);
    a.session
        .update_entry(e.id, update(|u| u.note = Some("PIN in the drawer".into())))
        .unwrap();
    b.tick(5000);
    b.session
        .update_entry(e.id, update(|u| u.note = Some("call 0800".into())))
        .unwrap();
    a.sync(&storage);
    let report = b.sync(&storage);
    assert_eq!(report.new_conflicts.len(), 1, "{report:?}");
    a.sync(&storage);
    assert_eq!(a.view(), b.view());
    // The later edit wins on both, and the other is kept for review on both.
    assert_eq!(a.find("Bank").unwrap().note, "call 0800");
    for d in [&a, &b] {
        let conflicts = sync::conflicts(&d.session).unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, Field::Note);
        assert_eq!(conflicts[0].shown, "call 0800");
        assert_eq!(conflicts[0].other, "PIN in the drawer");
    }
    assert_eq!(
        sync::conflicts(&a.session).unwrap()[0].mine_is_shown,
        Some(false)
    );
    // The phone keeps its own note: "mine" on the phone is the loser.
    assert_eq!(sync::resolve(&a.session, e.id, Keep::Mine).unwrap(), 1);
    a.sync(&storage);
    b.sync(&storage);
    for d in [&a, &b] {
        assert_eq!(d.find("Bank").unwrap().note, "PIN in the drawer");
        assert!(sync::conflicts(&d.session).unwrap().is_empty());
    }
    assert!(matches!(
        sync::resolve(&a.session, e.id, Keep::Mine),
        Err(SyncError::NoSuchConflict(_))
    ));
}

#[test]
fn two_versions_of_the_code_settings_never_overwrite_each_other() {
    // The secret and its code settings are one register: a secret with the other device's
    // digits or period is broken, so the losing version becomes an entry of its own. (Two
    // different secrets for one entry: the engine's unit test
    // `two_secrets_for_one_entry_become_two_entries`.)
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let e = a.add("VPN", &[4; 20]);
    a.sync(&storage);
    b.sync(&storage);
    a.tick(100);
    a.session
        .update_entry(
            e.id,
            update(|u| {
                u.kind = Some(OtpKind::Totp {
                    algorithm: Algorithm::Sha1,
                    digits: 8,
                    period: 30,
                })
            }),
        )
        .unwrap();
    b.tick(200);
    b.session
        .update_entry(
            e.id,
            update(|u| {
                u.kind = Some(OtpKind::Totp {
                    algorithm: Algorithm::Sha256,
                    digits: 6,
                    period: 60,
                })
            }),
        )
        .unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    assert_eq!(a.view(), b.view());
    let kinds: Vec<OtpKind> = a
        .session
        .entries()
        .unwrap()
        .iter()
        .map(|x| x.kind)
        .collect();
    assert_eq!(kinds.len(), 2, "the losing version is a second entry");
    for k in [
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 8,
            period: 30,
        },
        OtpKind::Totp {
            algorithm: Algorithm::Sha256,
            digits: 6,
            period: 60,
        },
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let conflicts = sync::conflicts(&b.session).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, Field::Otp);
    let other = conflicts[0].other_entry.unwrap();
    // Keep both: both entries stay, the conflict is closed everywhere.
    sync::resolve(&b.session, other, Keep::Both).unwrap();
    b.sync(&storage);
    a.sync(&storage);
    assert!(sync::conflicts(&a.session).unwrap().is_empty());
    assert_eq!(a.session.entries().unwrap().len(), 2);
}

#[test]
fn hotp_counters_merge_by_maximum_and_never_go_back() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    a.tick(1000);
    let e = a
        .session
        .add_entry(
            twofold_core::vault::NewEntry {
                kind: OtpKind::Hotp {
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    counter: 10,
                },
                ..new_entry("Token", &[5; 20])
            },
            false,
        )
        .unwrap();
    a.sync(&storage);
    b.sync(&storage);
    // Offline, the phone uses three codes and the desktop one.
    for _ in 0..3 {
        a.session.next_hotp(e.id).unwrap();
    }
    b.session.next_hotp(e.id).unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    for d in [&a, &b] {
        match d.find("Token").unwrap().kind {
            OtpKind::Hotp { counter, .. } => assert_eq!(counter, 13),
            other => panic!("{other:?}"),
        }
    }
    // The next code on the desktop is one neither device showed.
    let shown: Vec<String> = (10..13)
        .map(|c| {
            twofold_core::otp::hotp(
                &Secret::from_bytes(vec![5; 20]).unwrap(),
                Algorithm::Sha1,
                6,
                c,
            )
        })
        .collect();
    assert!(!shown.contains(&b.session.next_hotp(e.id).unwrap()));
}

#[test]
fn purge_removes_the_secret_from_every_later_file() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let secret = [0x5e; 20];
    let e = a.add("Old shop", &secret);
    a.sync(&storage);
    b.sync(&storage);
    a.tick(1000);
    a.session.delete_entry(e.id).unwrap();
    a.session.purge_entry(e.id).unwrap();
    a.sync(&storage);
    let report = b.sync(&storage);
    assert!(report.changes.iter().any(|c| c.change == Change::Removed));
    b.sync(&storage);
    assert!(b.find("Old shop").is_none());
    for d in [&a, &b] {
        let newest = files_of(d, &storage).pop().unwrap();
        let body = open_file(d, &storage.get(&newest).unwrap());
        assert!(!body.doc.entries.contains_key(&e.id));
        let plain = rmp_serde::to_vec_named(&body).unwrap();
        assert!(
            !plain.windows(secret.len()).any(|w| w == secret),
            "{} still carries the purged secret",
            d.name
        );
    }
}

#[test]
fn an_edit_after_a_delete_on_another_device_brings_the_entry_back() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let e = a.add("Forum", &[6; 20]);
    a.sync(&storage);
    b.sync(&storage);
    // The phone purges; later, the desktop (not having synced) edits.
    a.tick(1000);
    a.session.delete_entry(e.id).unwrap();
    a.session.purge_entry(e.id).unwrap();
    b.tick(60_000);
    b.session
        .update_entry(e.id, update(|u| u.note = Some("still in use".into())))
        .unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    for d in [&a, &b] {
        let got = d.find("Forum").expect("back");
        assert_eq!(got.note, "still in use");
        assert_eq!(got.secret.expose(), &[6; 20]);
    }
    // A move to the trash followed (elsewhere) by an edit takes it out of the trash.
    a.tick(1000);
    a.session.delete_entry(e.id).unwrap();
    b.tick(60_000);
    b.session
        .update_entry(e.id, update(|u| u.account = Some("carol".into())))
        .unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    assert!(a.find("Forum").unwrap().deleted_at.is_none());
    assert_eq!(a.view(), b.view());
}

#[test]
fn groups_reorder_and_settings_sync() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let x = a.add("X", &[7; 20]);
    let y = a.add("Y", &[8; 20]);
    let work = a.session.add_group("Work").unwrap();
    a.session
        .update_entry(x.id, update(|u| u.group_ids = Some(vec![work.id])))
        .unwrap();
    a.session.reorder(&[y.id, x.id]).unwrap();
    a.session.set_trash_retention_days(7).unwrap();
    a.session.set_clock_offset(12).unwrap();
    a.sync(&storage);
    b.sync(&storage);
    assert_eq!(a.view(), b.view());
    assert_eq!(b.session.groups().unwrap()[0].name, "Work");
    assert_eq!(b.session.entries().unwrap()[0].issuer, "Y");
    // The clock offset is the device's own.
    assert_eq!(b.session.clock_offset().unwrap(), 0);
    b.session.delete_group(work.id).unwrap();
    b.sync(&storage);
    a.sync(&storage);
    assert!(a.session.groups().unwrap().is_empty());
    assert!(a.find("X").unwrap().group_ids.is_empty());
}

#[test]
fn a_joining_device_keeps_its_accounts_and_does_not_double_the_groups() {
    let storage = MemoryStorage::new();
    let a = Device::new("phone");
    a.add("Shared", &[9; 20]);
    sync::setup(
        &a.session,
        sync::StorageConfig::App {
            label: "test".into(),
        },
        &storage,
        "phone",
    )
    .unwrap();
    let b = Device::new("laptop");
    b.add("Shared", &[9; 20]);
    b.add("Only on the laptop", &[10; 20]);
    join(&a, &b, &storage);
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    assert_eq!(a.view(), b.view());
    let issuers: Vec<String> = a
        .session
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.issuer.clone())
        .collect();
    assert_eq!(issuers.len(), 2, "{issuers:?}");
    assert!(issuers.contains(&"Only on the laptop".to_string()));
}

#[test]
fn a_revoked_device_reads_nothing_written_afterwards_and_its_files_are_refused() {
    let storage = MemoryStorage::new();
    let [a, b, c]: [Device; 3] = group(&["phone", "desktop", "old phone"], &storage)
        .try_into()
        .ok()
        .unwrap();
    a.add("Before", &[11; 20]);
    a.sync(&storage);
    for d in [&b, &c] {
        d.sync(&storage);
    }
    assert!(c.find("Before").is_some());
    let epoch_before = sync::status(&a.session).unwrap().epoch;
    let view = sync::revoke(&a.session, "old phone").unwrap();
    assert!(view.revoked);
    let report = a.sync(&storage);
    assert!(report.written.is_some());
    assert_ne!(sync::status(&a.session).unwrap().epoch, epoch_before);
    b.sync(&storage);
    // Written after the revocation, by both remaining devices.
    a.add("After", &[12; 20]);
    a.sync(&storage);
    b.add("Also after", &[13; 20]);
    b.sync(&storage);
    // The revoked device learns it was removed and gets nothing new.
    assert!(matches!(
        sync::sync(&c.session, &storage),
        Err(SyncError::Revoked)
    ));
    assert!(c.find("After").is_none() && c.find("Also after").is_none());
    // Nor can it decrypt the files written since with any key it holds.
    let keys = sync::state_of(&c.session).unwrap().epochs;
    for d in [&a, &b] {
        let newest = files_of(d, &storage).pop().unwrap();
        let bytes = storage.get(&newest).unwrap();
        let parsed = twofold_core::sync::file::parse(&bytes).unwrap();
        for key in keys.values() {
            assert!(parsed.open(&key.0).is_err());
        }
        assert!(!keys.contains_key(&parsed.header.epoch));
    }
    // (Its later files: `a_revoked_devices_later_files_and_accomplices_are_refused`.)
    let status = sync::status(&a.session).unwrap();
    assert!(
        status
            .devices
            .iter()
            .any(|d| d.name == "old phone" && d.revoked && !d.active)
    );
}

#[test]
fn a_revoked_devices_later_files_and_accomplices_are_refused() {
    // A stolen device is revoked. Its thief keeps the device away from the revocation (a
    // stale copy of the storage), writes with its still-valid old keys, and enrols an
    // accomplice in its stale view of the group; then plants both devices' files.
    let storage = MemoryStorage::new();
    let [a, b, c]: [Device; 3] = group(&["phone", "desktop", "stolen"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let stale = MemoryStorage::new();
    for n in storage.names() {
        stale.put(&n, storage.get(&n).unwrap());
    }
    sync::revoke(&a.session, "stolen").unwrap();
    a.sync(&storage);
    b.sync(&storage);
    c.add("Planted by the thief", &[15; 20]);
    c.sync(&stale);
    let evil = Device::new("accomplice");
    let rng = twofold_core::crypto::SystemRandom::new();
    let now = now_s();
    let mut joiner =
        twofold_core::sync::join::Joiner::new("accomplice", now, 600, None, &rng).unwrap();
    let invite = twofold_core::sync::join::JoinInvite::parse(&joiner.invite_text(), now).unwrap();
    let (mut sender, added) = twofold_core::sync::join::invite_device(
        &c.session,
        invite,
        true,
        twofold_core::transfer::frames::default_frame_bytes(),
        &rng,
    )
    .unwrap();
    joiner.receiver().receive_blob(sender.blob(), now).unwrap();
    let reply = joiner.receiver().reply().unwrap();
    sender.accept_reply(&reply, now).unwrap();
    twofold_core::sync::join::confirm_device(&c.session, &added.key, &rng).unwrap();
    joiner.accept(&evil.session, None).unwrap();
    c.sync(&stale);
    evil.add("Planted by the accomplice", &[14; 20]);
    evil.sync(&stale);
    for d in [&c, &evil] {
        let newest = files_of(d, &stale).pop().unwrap();
        storage.put(&newest, stale.get(&newest).unwrap());
    }
    let before = a.view();
    let report = a.sync(&storage);
    assert_eq!(a.view(), before, "nothing imported");
    assert!(a.find("Planted by the thief").is_none());
    assert!(a.find("Planted by the accomplice").is_none());
    assert!(
        report
            .warnings
            .iter()
            .any(|w| matches!(w, SyncWarning::RevokedWriter { device, .. } if device == "stolen")),
        "{report:?}"
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| matches!(w, SyncWarning::NotAMember { .. })),
        "{report:?}"
    );
    let members: Vec<String> = sync::devices(&a.session)
        .unwrap()
        .into_iter()
        .filter(|d| d.active)
        .map(|d| d.name)
        .collect();
    assert_eq!(members, ["phone", "desktop"]);
    // Once the thief's device reads the real storage, it learns it was removed.
    assert!(matches!(
        sync::sync(&c.session, &storage),
        Err(SyncError::Revoked)
    ));
}

#[test]
fn status_lists_members_and_old_generations_are_pruned() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    for i in 0..5u8 {
        a.add(&format!("E{i}"), &[20 + i; 20]);
        a.sync(&storage);
    }
    assert_eq!(files_of(&a, &storage).len(), 2, "keeps the newest two");
    b.sync(&storage);
    let status = sync::status(&b.session).unwrap();
    assert_eq!(status.device_name, "desktop");
    let phone = status.devices.iter().find(|d| d.name == "phone").unwrap();
    assert_eq!(
        phone.generation,
        Some(sync::state_of(&a.session).unwrap().generation)
    );
    assert!(status.warnings.is_empty(), "{:?}", status.warnings);
    // A sync with nothing new writes nothing.
    let quiet = a.sync(&storage);
    let quiet2 = a.sync(&storage);
    assert!(quiet2.written.is_none(), "{quiet:?} {quiet2:?}");
}

#[test]
fn recovery_codes_sync_as_a_set_and_a_code_used_anywhere_is_used_everywhere() {
    let storage = MemoryStorage::new();
    let [a, b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let gh = a.add("GitHub", &[1; 20]);
    a.sync(&storage);
    b.sync(&storage);
    // Both add codes before syncing.
    a.session
        .add_recovery_codes(gh.id, &["aaaa-1111".into(), "bbbb-2222".into()])
        .unwrap();
    b.tick(500);
    b.session
        .add_recovery_codes(gh.id, &["cccc-3333".into()])
        .unwrap();
    a.sync(&storage);
    let report = b.sync(&storage);
    assert!(
        report
            .changes
            .iter()
            .any(|ch| ch.id == gh.id && ch.change == Change::Edited(vec!["recovery codes"])),
        "{report:?}"
    );
    a.sync(&storage);
    for d in [&a, &b] {
        let codes = d.session.recovery_codes(gh.id).unwrap();
        assert_eq!(codes.len(), 3, "{}: {codes:?}", d.name);
    }
    // Used on the desktop at one time, on the phone later: used, with the earliest date.
    b.tick(1000);
    b.session.use_recovery_code(gh.id, "aaaa-1111").unwrap();
    let first = b.session.recovery_codes(gh.id).unwrap()[2].used_at;
    a.tick(5000);
    a.session.use_recovery_code(gh.id, "AAAA 1111").unwrap();
    a.sync(&storage);
    b.sync(&storage);
    a.sync(&storage);
    for d in [&a, &b] {
        let codes = d.session.recovery_codes(gh.id).unwrap();
        let used: Vec<_> = codes.iter().filter(|c| c.used).collect();
        assert_eq!(used.len(), 1, "{}", d.name);
        assert_eq!(used[0].code, "aaaa-1111");
        assert_eq!(used[0].used_at, first, "{}: the earliest date", d.name);
    }
    assert_eq!(a.view(), b.view());
}
