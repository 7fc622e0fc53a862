//! Weaknesses found while writing `docs/sync-protocol.md`, each as a test of the property a
//! user would expect, and closed since: a revoked device's statements made outside its
//! revoker's view do not count (§6.2), and a member admits a device only once its user has
//! confirmed the codes (§9). `docs/threat-model.md` rows 17i and 17n name them.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod sync_support;

use sync_support::*;
use twofold_core::crypto::{self, SigningKey, SlotKeyPair, SystemRandom};
use twofold_core::sync::join::{JoinInvite, Joiner, cancel_device, confirm_device, invite_device};
use twofold_core::sync::roster::{self, KX_LABEL};
use twofold_core::sync::{self, MemoryStorage, SyncError, file};
use twofold_core::transfer::{Invite, frames};

/// A stolen phone is revoked. Its thief keeps it away from the revocation (a stale copy of
/// the storage), revokes the devices that are left with the phone's still-valid key, and
/// plants the file. A revocation counts when its signer was *ever* a member
/// (`sync-protocol.md` §6.2), so the remaining devices take the thief's revocations and stop
/// syncing for good: the revoked device has removed the devices that removed it.
#[test]
fn a_revoked_device_cannot_remove_the_devices_that_removed_it() {
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
    // The thief, in its stale view, removes both remaining devices and writes its file.
    sync::revoke(&c.session, "phone").unwrap();
    sync::revoke(&c.session, "desktop").unwrap();
    c.sync(&stale);
    let newest = files_of(&c, &stale).pop().unwrap();
    storage.put(&newest, stale.get(&newest).unwrap());
    for d in [&a, &b] {
        match sync::sync(&d.session, &storage) {
            Ok(_) => {}
            Err(SyncError::Revoked) => panic!("{} was removed by the revoked device", d.name),
            Err(e) => panic!("{}: {e}", d.name),
        }
        let mut active: Vec<String> = sync::devices(&d.session)
            .unwrap()
            .into_iter()
            .filter(|v| v.active)
            .map(|v| v.name)
            .collect();
        active.sort();
        assert_eq!(active, ["desktop", "phone"], "{}", d.name);
    }
}

/// Someone photographs the new tablet's join invite, swaps its identity block (the tablet's
/// keys and name) for his own, and shows that to the phone. The phone cannot tell: it admits
/// the keys it was shown, starts an epoch wrapped to them, and — as `sync add` does at once —
/// publishes it, before any code is compared. The real tablet never gets a bundle it can open
/// (the sealing is bound to the identity block), so no codes are ever shown; but the attacker,
/// who can read the storage, unwraps the new group key from the rotation in the phone's clear
/// header with nothing but his own key, and is an active member until someone revokes him.
#[test]
fn a_join_invite_with_a_swapped_identity_gives_the_attacker_no_group_key() {
    let storage = MemoryStorage::new();
    let [a, _b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    a.add("Written after the join", &[7; 20]);
    let rng = SystemRandom::new();
    let now = now_s();
    let mut tablet = Joiner::new("tablet", now, 600, None, &rng).unwrap();
    // The attacker's identity block: 1 | key | kx | name length | name.
    let attacker_sign = SigningKey::generate(&rng).unwrap();
    let attacker_kx_seed = crypto::random_key(&rng).unwrap();
    let attacker_kx = SlotKeyPair::derive(attacker_kx_seed.as_ref(), KX_LABEL);
    let mut block = vec![1u8];
    block.extend_from_slice(&attacker_sign.public());
    block.extend_from_slice(&attacker_kx.public);
    block.push(6);
    block.extend_from_slice(b"tablet");
    let honest = base45::decode(&tablet.invite_text()["OTPX2J".len()..]).unwrap();
    let (_, used) = Invite::from_bytes_prefix(&honest, now).unwrap();
    let mut swapped = honest[..used].to_vec();
    swapped.extend_from_slice(&block);
    let shown = format!("OTPX2J{}", base45::encode(swapped.as_slice()));
    let invite = JoinInvite::parse(&shown, now).unwrap();
    let (sender, _) = invite_device(
        &a.session,
        invite,
        true,
        frames::default_frame_bytes(),
        &rng,
    )
    .unwrap();
    // The real tablet cannot open it: it shows no code, the user sees the join fail.
    assert!(tablet.receiver().receive_blob(sender.blob(), now).is_err());
    // The phone publishes, as `sync add` does right after writing the frames.
    a.sync(&storage);
    let newest = files_of(&a, &storage).pop().unwrap();
    let bytes = storage.get(&newest).unwrap();
    let parsed = file::parse(&bytes).unwrap();
    let group = parsed.header.group;
    let rotation = parsed
        .header
        .rotation
        .as_ref()
        .and_then(|s| s.open_rotation(&group))
        .unwrap();
    let key = rotation.unwrap(roster::devtag(&attacker_sign.public()), &attacker_kx);
    if let Some(key) = &key {
        let body = parsed.open(key).unwrap();
        assert!(
            body.doc.entries.is_empty(),
            "the attacker reads {} accounts",
            body.doc.entries.len()
        );
    }
    assert!(
        key.is_none(),
        "the attacker unwrapped the group key from the storage"
    );
}

/// An invitation waits in the member's vault: a sync in between publishes nothing of it, a
/// cancelled one leaves nothing (and cannot be confirmed), an expired one cannot be
/// confirmed and is dropped, and a device that took the bundle of an invitation nobody
/// confirmed writes nothing.
#[test]
fn a_pending_admission_is_never_published_and_lapses_or_cancels_without_a_trace() {
    let storage = MemoryStorage::new();
    let [a, _b]: [Device; 2] = group(&["phone", "desktop"], &storage)
        .try_into()
        .ok()
        .unwrap();
    let rng = SystemRandom::new();
    let before = sync::state_of(&a.session).unwrap();
    let invite = |name: &str| {
        let now = now_s();
        let mut joiner = Joiner::new(name, now, 600, None, &rng).unwrap();
        let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
        let (mut sender, device) = invite_device(
            &a.session,
            invite,
            false,
            frames::default_frame_bytes(),
            &rng,
        )
        .unwrap();
        joiner.receiver().receive_blob(sender.blob(), now).unwrap();
        let reply = joiner.receiver().reply().unwrap();
        sender.accept_reply(&reply, now).unwrap();
        (joiner, device)
    };
    let (joiner, tablet) = invite("tablet");
    assert_eq!(sync::state_of(&a.session).unwrap().pending.len(), 1);
    // A sync in between: nothing to publish, and the roster is unchanged.
    let files = storage.names();
    assert!(a.sync(&storage).written.is_none());
    assert_eq!(storage.names(), files);
    let during = sync::state_of(&a.session).unwrap();
    assert_eq!(during.statements, before.statements);
    assert_eq!(during.rotations, before.rotations);
    // The tablet takes the bundle (its user saw matching codes) but the phone's user cancels.
    let newcomer = Device::new("tablet");
    joiner.accept(&newcomer.session, None).unwrap();
    cancel_device(&a.session, &tablet.key).unwrap();
    let after = sync::state_of(&a.session).unwrap();
    assert!(after.pending.is_empty());
    assert_eq!(after.statements, before.statements);
    assert!(confirm_device(&a.session, &tablet.key, &rng).is_err());
    assert!(
        newcomer.sync(&storage).written.is_none(),
        "an unadmitted device wrote"
    );
    assert!(
        sync::state_of(&newcomer.session)
            .unwrap()
            .awaiting_admission
    );
    assert!(
        newcomer.session.entries().unwrap().is_empty(),
        "it read nothing"
    );
    // An invitation left past its invite's expiry cannot be confirmed, and a sync drops it.
    let (_joiner, spare) = invite("spare");
    let late = (now_s() as i64 + 601) * 1000 - a.now();
    a.tick(late);
    assert!(confirm_device(&a.session, &spare.key, &rng).is_err());
    a.sync(&storage);
    let lapsed = sync::state_of(&a.session).unwrap();
    assert!(lapsed.pending.is_empty());
    assert_eq!(lapsed.statements, before.statements);
}
