//! A sync group made by the first roster encoding (statements without parents; admissions
//! published at once), committed in tests/fixtures/sync-v1 by the code of that time, still
//! opens, syncs and takes new members with the current code; its revocation still holds, and
//! the revoked device — which never heard of it — cannot remove the devices that are left,
//! even now that it signs statements of the new encoding.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;

use twofold_core::sync::join::{JoinInvite, Joiner, confirm_device, invite_device};
use twofold_core::sync::{self, FolderStorage, MemoryStorage, SyncError, SyncStorage};
use twofold_core::transfer::frames;
use twofold_core::vault::{MemoryTrustStore, OsFileSystem, VaultEnv, VaultSession};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sync-v1")
        .join(name)
}

fn open(dir: &Path, name: &str) -> VaultSession {
    let path = dir.join(format!("{name}.vault"));
    std::fs::copy(fixture(&format!("{name}.vault")), &path).unwrap();
    let env = VaultEnv {
        fs: Arc::new(OsFileSystem),
        trust: Some(Arc::new(MemoryTrustStore::new())),
        ..VaultEnv::default()
    };
    let session = VaultSession::open_in(&path, env).unwrap();
    session
        .unlock_with_password_accepting_untrusted(format!("{name} password").as_bytes())
        .unwrap();
    session
}

fn active(s: &VaultSession) -> Vec<String> {
    let mut v: Vec<String> = sync::devices(s)
        .unwrap()
        .into_iter()
        .filter(|d| d.active)
        .map(|d| d.name)
        .collect();
    v.sort();
    v
}

fn issuers(s: &VaultSession) -> Vec<String> {
    let mut v: Vec<String> = s
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| e.issuer.clone())
        .collect();
    v.sort();
    v
}

fn now_s() -> u64 {
    twofold_core::time::now_s()
}

#[test]
fn a_group_of_the_first_encoding_opens_syncs_admits_and_keeps_its_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("Sync");
    std::fs::create_dir(&folder).unwrap();
    let stale = MemoryStorage::new();
    for f in std::fs::read_dir(fixture("files")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().into_string().unwrap();
        std::fs::copy(f.path(), folder.join(&name)).unwrap();
        // The removed device's stale view: the files written before its removal.
        let bytes = std::fs::read(f.path()).unwrap();
        if sync::file::parse(&bytes)
            .unwrap()
            .header
            .revocations
            .is_empty()
        {
            stale.put(&name, bytes);
        }
    }
    let storage = FolderStorage::new(&folder);
    let (phone, desktop, tablet) = (
        open(dir.path(), "phone"),
        open(dir.path(), "desktop"),
        open(dir.path(), "tablet"),
    );
    // The old state opens; its roster reads as it did.
    for s in [&phone, &tablet] {
        assert_eq!(active(s), ["phone", "tablet"]);
        sync::sync(s, &storage).unwrap();
        assert_eq!(issuers(s), ["Bank", "GitHub"]);
    }
    // The removed desktop never synced after its removal. With the current code it removes
    // both other devices in the copy of the storage it still sees, and its file is planted.
    assert_eq!(active(&desktop), ["desktop", "phone", "tablet"]);
    sync::revoke(&desktop, "phone").unwrap();
    sync::revoke(&desktop, "tablet").unwrap();
    sync::sync(&desktop, &stale).unwrap();
    let desktop_tag = sync::state_of(&desktop).unwrap().my_tag();
    let newest = stale
        .names()
        .into_iter()
        .filter(|n| n.starts_with(&format!("d-{desktop_tag:016x}-")))
        .max_by_key(|n| sync::file::parse_name(n).unwrap().1)
        .unwrap();
    storage
        .write(&newest, &stale.get(&newest).unwrap())
        .unwrap();
    for s in [&phone, &tablet] {
        sync::sync(s, &storage).unwrap();
        assert_eq!(
            active(s),
            ["phone", "tablet"],
            "the removed device removed others"
        );
    }
    // And once it reads the group's files it learns that it was removed.
    assert!(matches!(
        sync::sync(&desktop, &storage),
        Ok(_) | Err(SyncError::Revoked)
    ));
    assert!(matches!(
        sync::sync(&desktop, &storage),
        Err(SyncError::Revoked)
    ));
    // The old group takes a new member through the confirmed join of the current code.
    let rng = twofold_core::crypto::SystemRandom::new();
    let now = now_s();
    let laptop_dir = tempfile::tempdir().unwrap();
    let laptop_path = laptop_dir.path().join("laptop.vault");
    let (laptop, _) = VaultSession::create_in(
        &laptop_path,
        twofold_core::vault::CreateOptions {
            password: b"laptop password",
            kdf: twofold_core::crypto::KdfParams::FLOOR,
        },
        VaultEnv {
            fs: Arc::new(OsFileSystem),
            trust: Some(Arc::new(MemoryTrustStore::new())),
            ..VaultEnv::default()
        },
    )
    .unwrap();
    let mut joiner = Joiner::new("laptop", now, 600, None, &rng).unwrap();
    let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
    let (mut sender, device) =
        invite_device(&tablet, invite, false, frames::default_frame_bytes(), &rng).unwrap();
    joiner.receiver().receive_blob(sender.blob(), now).unwrap();
    let code = sender
        .accept_reply(&joiner.receiver().reply().unwrap(), now)
        .unwrap();
    assert_eq!(Some(code), joiner.receiver().confirmation_code());
    confirm_device(&tablet, &device.key, &rng).unwrap();
    joiner.accept(&laptop, None).unwrap();
    sync::sync(&tablet, &storage).unwrap();
    sync::sync(&laptop, &storage).unwrap();
    sync::sync(&phone, &storage).unwrap();
    for s in [&phone, &tablet, &laptop] {
        assert_eq!(active(s), ["laptop", "phone", "tablet"]);
    }
    assert_eq!(issuers(&laptop), ["Bank", "GitHub"]);
}
