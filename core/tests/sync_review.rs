//! Weaknesses found while writing `docs/sync-protocol.md`, each as a test of the property a
//! user would expect. Tests marked `#[ignore]` fail today; `docs/threat-model.md` names them
//! (row 17i) until the lead decides how to close them.

mod sync_support;

use sync_support::*;
use twofold_core::sync::{self, MemoryStorage, SyncError};

/// A stolen phone is revoked. Its thief keeps it away from the revocation (a stale copy of
/// the storage), revokes the devices that are left with the phone's still-valid key, and
/// plants the file. A revocation counts when its signer was *ever* a member
/// (`sync-protocol.md` §6.2), so the remaining devices take the thief's revocations and stop
/// syncing for good: the revoked device has removed the devices that removed it.
#[test]
#[ignore = "open weakness (sync-protocol.md §6.2): a revoked device's revocations still count, so it can remove every device that is left"]
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
        let active: Vec<String> = sync::devices(&d.session)
            .unwrap()
            .into_iter()
            .filter(|v| v.active)
            .map(|v| v.name)
            .collect();
        assert_eq!(active, ["phone", "desktop"], "{}", d.name);
    }
}
