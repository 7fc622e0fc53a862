//! Weaknesses found while writing `docs/sync-protocol.md`, each as a test of the property a
//! user would expect. They fail today and are marked `#[ignore]` (run them with `--ignored`);
//! `docs/threat-model.md` names them (rows 17i, 17n) until the lead decides how to close them.

mod sync_support;

use sync_support::*;
use twofold_core::crypto::{self, SigningKey, SlotKeyPair, SystemRandom};
use twofold_core::sync::join::{JoinInvite, Joiner, invite_device};
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
