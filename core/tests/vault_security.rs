//! The attacks of the vault security review, each played against the real core. Every test
//! here failed on format 1 (the review confirmed each) and names the property it attacks;
//! `docs/threat-model.md` points at them.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::sync::Arc;

use common::*;
use twofold_core::backup::{
    self, BackupCredential, BackupOptions, RestoreMode, create_backup, restore_backup,
};
use twofold_core::crypto::{self, KdfLimit, KdfParams, SigningKey, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::vault::container::{self, BACKUP_MAGIC, Header, Slot, VAULT_MAGIC};
use twofold_core::vault::storage::prev_path;
use twofold_core::vault::{
    InsertPolicy, MemoryTrustStore, RecoveryKey, SlotCredential, SlotKind, TrustRecord, TrustStore,
    VaultError, VaultSession, slots,
};

const G: &str = "JBSWY3DPEHPK3PXP";
const PLATFORM_KEY: [u8; 32] = [0x5a; 32];

/// A victim's vault with a password, a recovery key, a biometric slot and one account, on a
/// device that keeps a trust record.
struct Victim {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    recovery: RecoveryKey,
    platform_slot: [u8; 16],
    trust: Arc<MemoryTrustStore>,
}

fn victim() -> Victim {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, recovery, trust) = create_trusted(&path);
    s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let platform_slot = s
        .add_platform_slot("bio", "Pixel fingerprint", &PLATFORM_KEY, b"blob".to_vec())
        .unwrap();
    s.lock();
    Victim {
        _dir: dir,
        path,
        recovery,
        platform_slot,
        trust,
    }
}

impl Victim {
    fn file(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }

    /// Unlocks with each of the victim's credentials on a session with `trust` (or none).
    /// A success must be the victim's own vault, never planted content.
    fn unlock_each(&self, trust: Option<&Arc<MemoryTrustStore>>) -> Vec<Result<(), VaultError>> {
        let open = || match trust {
            Some(t) => open_trusted(&self.path, t),
            None => VaultSession::open(&self.path).unwrap(),
        };
        let check = |s: &VaultSession, r: Result<twofold_core::vault::UnlockInfo, VaultError>| {
            r.map(|_| {
                let issuers: Vec<String> = s
                    .entries()
                    .unwrap()
                    .into_iter()
                    .map(|e| e.issuer.clone())
                    .collect();
                assert_eq!(issuers, ["GitHub"], "only the victim's own content opens");
            })
        };
        let mut out = Vec::new();
        let s = open();
        out.push(check(&s, s.unlock_with_password(PASSWORD)));
        let s = open();
        out.push(check(
            &s,
            s.unlock_with_recovery_key(&self.recovery.reveal()),
        ));
        let s = open();
        out.push(check(
            &s,
            s.unlock_with_platform_key(self.platform_slot, &PLATFORM_KEY),
        ));
        out
    }
}

/// The reviewer's attack: pick your own master key, wrap it to every slot's public key from
/// the header, seal your own content, and sign the file with your own key. `endorsements`
/// says what the forger does with the slots' endorsements.
#[derive(Clone, Copy, Debug)]
enum Endorsements {
    /// Left as they are but naming the forger's key (the MACs cannot be recomputed).
    Repointed,
    /// Kept exactly (naming the victim's key, which the forger lists but cannot sign with).
    Kept,
    /// Removed, as if the slots were left over from format 1.
    Stripped,
}

fn forge(magic: [u8; 4], original: &[u8], endorsements: Endorsements) -> Vec<u8> {
    forge_with(magic, original, endorsements, |_| {})
}

/// [`forge`] with the forger's content edited by `edit`.
fn forge_with(
    magic: [u8; 4],
    original: &[u8],
    endorsements: Endorsements,
    edit: impl FnOnce(&mut twofold_core::vault::VaultContent),
) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut header = cut(original).header;
    let attacker_mk = crypto::random_key(&rng).unwrap();
    let attacker = SigningKey::generate(&rng).unwrap();
    let vault_id = header.vault_id;
    for slot in &mut header.slots {
        container::wrap_master_key(magic, &vault_id, slot, &attacker_mk, &rng).unwrap();
        match endorsements {
            Endorsements::Repointed => {
                if let Some(e) = slot.endorsement.as_mut() {
                    e.signer = attacker.public();
                }
            }
            Endorsements::Kept => {}
            Endorsements::Stripped => slot.endorsement = None,
        }
    }
    // The forger's own content: an account whose secret the forger knows.
    let mut content = twofold_core::vault::VaultContent::new();
    content.entries.push(twofold_core::vault::Entry::new(
        twofold_core::vault::Id::from_random([9; 16]),
        OtpKind::DEFAULT_TOTP,
        twofold_core::Secret::from_base32("MFRGGZDFMZTWQ2LK").unwrap(),
        "Attacker".into(),
        "planted".into(),
        0,
        0,
    ));
    edit(&mut content);
    let body = if magic == BACKUP_MAGIC {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            content: &'a twofold_core::vault::VaultContent,
            created_at: i64,
        }
        rmp_serde::to_vec_named(&Body {
            content: &content,
            created_at: 0,
        })
        .unwrap()
    } else {
        rmp_serde::to_vec_named(&content).unwrap()
    };
    header.succession = None;
    let signers: Vec<&SigningKey> = vec![&attacker];
    if let Endorsements::Kept = endorsements {
        // List the victim's key too (the endorsements name it); only the forger's signs.
        let mut h = header.clone();
        h.signers = vec![attacker.public(), original_signer(original)];
        let sealed = seal_with_wrong_signatures(magic, &h, &attacker_mk, &body, &attacker);
        return sealed;
    }
    header.signers = vec![attacker.public()];
    container::seal_file(magic, &header, &attacker_mk, &body, &signers, &rng).unwrap()
}

fn original_signer(original: &[u8]) -> [u8; 32] {
    cut(original).header.signers[0]
}

/// A file listing two signers but carrying the forger's signature twice.
fn seal_with_wrong_signatures(
    magic: [u8; 4],
    header: &Header,
    mk: &crypto::Key32,
    body: &[u8],
    attacker: &SigningKey,
) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut h1 = header.clone();
    h1.signers = vec![attacker.public()];
    let one = container::seal_file(magic, &h1, mk, body, &[attacker], &rng).unwrap();
    // Rebuild with the two-signer header and the forger's signature in both places.
    let nonce_and_body = cut(&one).nonce_and_body;
    let h = rmp_serde::to_vec_named(header).unwrap();
    let mut out = magic.to_vec();
    out.extend_from_slice(&2u16.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&nonce_and_body);
    let mut message = b"twofold/v2/sign".to_vec();
    message.extend_from_slice(&out);
    let sig = attacker.sign(&message);
    out.extend_from_slice(&sig);
    out.extend_from_slice(&sig);
    out
}

/// The same attack in the format 1 layout (a downgrade): no signatures, no endorsements.
fn forge_v1(original: &[u8]) -> Vec<u8> {
    // Build a v1 file by hand with the documented v1 steps.
    let rng = SystemRandom::new();
    let header = cut(original).header;
    let mk = crypto::random_key(&rng).unwrap();
    #[derive(serde::Serialize)]
    struct V1Slot<'a> {
        #[serde(with = "serde_bytes_compat")]
        id: &'a [u8],
        kind: SlotKind,
        label: &'a str,
        created_at: i64,
        #[serde(with = "serde_bytes_compat")]
        public_key: &'a [u8],
        kdf: &'a Option<container::SlotKdf>,
        platform: &'a Option<container::PlatformRef>,
        wrap: container::Wrap,
    }
    #[derive(serde::Serialize)]
    struct V1Header<'a> {
        #[serde(with = "serde_bytes_compat")]
        vault_id: &'a [u8],
        generation: u64,
        created_at: i64,
        updated_at: i64,
        slots: Vec<V1Slot<'a>>,
    }
    let mut slots = Vec::new();
    for s in &header.slots {
        let (ephemeral, shared) = crypto::ephemeral_agree(&rng, &s.public_key).unwrap();
        let mut ikm = shared.to_vec();
        ikm.extend_from_slice(&ephemeral);
        ikm.extend_from_slice(&s.public_key);
        let kek = crypto::hkdf32(&ikm, &header.vault_id, b"twofold/v1/wrap");
        let nonce: [u8; 24] = crypto::random_array(&rng).unwrap();
        let mut aad = b"twofold/v1/slot".to_vec();
        aad.extend_from_slice(b"TWFV");
        aad.extend_from_slice(&header.vault_id);
        aad.extend_from_slice(&s.id);
        aad.push(match s.kind {
            SlotKind::Password => 1,
            SlotKind::Platform => 2,
            SlotKind::Recovery => 3,
            SlotKind::Pin => 4,
        });
        match &s.kdf {
            Some(k) => {
                aad.push(1);
                for v in [k.m_kib, k.t, k.p] {
                    aad.extend_from_slice(&v.to_be_bytes());
                }
                aad.push(k.salt.len() as u8);
                aad.extend_from_slice(&k.salt);
            }
            None => aad.push(0),
        }
        let alias = s.platform.as_ref().map_or("", |p| p.alias.as_str());
        aad.extend_from_slice(&(alias.len() as u32).to_be_bytes());
        aad.extend_from_slice(alias.as_bytes());
        aad.extend_from_slice(&s.public_key);
        let ciphertext = crypto::seal(&kek, &nonce, &aad, mk.as_ref());
        slots.push(V1Slot {
            id: &s.id,
            kind: s.kind,
            label: "x",
            created_at: 0,
            public_key: &s.public_key,
            kdf: &s.kdf,
            platform: &s.platform,
            wrap: container::Wrap {
                ephemeral,
                nonce,
                ciphertext,
            },
        });
    }
    let h = rmp_serde::to_vec_named(&V1Header {
        vault_id: &header.vault_id,
        generation: header.generation + 10,
        created_at: 0,
        updated_at: 0,
        slots,
    })
    .unwrap();
    let mut out = b"TWFV".to_vec();
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    let body_key = crypto::hkdf32(mk.as_ref(), &header.vault_id, b"twofold/v1/body");
    let nonce: [u8; 24] = crypto::random_array(&rng).unwrap();
    let body = rmp_serde::to_vec_named(&twofold_core::vault::VaultContent::new()).unwrap();
    let ct = crypto::seal(&body_key, &nonce, &out, &body);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

mod serde_bytes_compat {
    pub fn serialize<S: serde::Serializer>(v: &&[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
}

// ----- no credential, no forgery ------------------------------------------------------------

#[test]
fn a_file_forged_without_a_credential_opens_with_no_credential() {
    for endorsements in [
        Endorsements::Repointed,
        Endorsements::Kept,
        Endorsements::Stripped,
    ] {
        let v = victim();
        let original = v.file();
        let prev_before = std::fs::read(prev_path(&v.path)).unwrap();
        let record_before = v.trust.load().unwrap();
        let forged = forge(VAULT_MAGIC, &original, endorsements);
        std::fs::write(&v.path, &forged).unwrap();
        // On the victim's device (it keeps a trust record). A file whose signatures do not
        // hold is damaged, and the victim's own previous generation opens instead (reported;
        // the biometric slot added in the lost generation is not in it).
        for r in v.unlock_each(Some(&v.trust)) {
            let typed = match endorsements {
                Endorsements::Kept => r.is_ok() || r == Err(VaultError::NoSuchSlot),
                _ => r == Err(VaultError::Forged),
            };
            assert!(typed, "{endorsements:?}: {r:?}");
        }
        std::fs::write(&v.path, &forged).unwrap();
        // On a device that has never seen the vault: a forged endorsement is caught by the
        // slot itself; a stripped one is at best "cannot be shown to be yours".
        for r in v.unlock_each(Some(&Arc::new(MemoryTrustStore::new()))) {
            let expected = match endorsements {
                Endorsements::Stripped => matches!(r, Err(VaultError::Unverified(_))),
                Endorsements::Kept => r.is_ok() || r == Err(VaultError::NoSuchSlot),
                Endorsements::Repointed => r == Err(VaultError::Forged),
            };
            assert!(expected, "{endorsements:?} on a new device: {r:?}");
        }
        // Nothing the victim had was overwritten, and the record did not move back.
        if !matches!(endorsements, Endorsements::Kept) {
            assert_eq!(v.trust.load().unwrap(), record_before);
        }
        assert_eq!(
            std::fs::read(prev_path(&v.path)).unwrap(),
            prev_before,
            "the previous generation is intact"
        );
        let _ = &original;
    }
}

#[test]
fn a_forged_format_1_file_is_a_rollback_on_the_victims_device_and_unverified_elsewhere() {
    let v = victim();
    std::fs::write(&v.path, forge_v1(&v.file())).unwrap();
    for r in v.unlock_each(Some(&v.trust)) {
        assert!(matches!(r, Err(VaultError::RolledBack { .. })), "{r:?}");
    }
    for r in v.unlock_each(Some(&Arc::new(MemoryTrustStore::new()))) {
        assert!(matches!(r, Err(VaultError::Unverified(_))), "{r:?}");
    }
}

#[test]
fn a_forged_file_is_refused_through_the_session_so_nothing_later_is_sealed_for_the_forger() {
    // The reviewer's end-to-end worry: the victim goes on adding accounts under a key the
    // forger chose. Every unlock is refused, so no session exists to add them with.
    let v = victim();
    std::fs::write(
        &v.path,
        forge(VAULT_MAGIC, &v.file(), Endorsements::Repointed),
    )
    .unwrap();
    let s = open_trusted(&v.path, &v.trust);
    assert_eq!(s.unlock_with_password(PASSWORD), Err(VaultError::Forged));
    assert_eq!(
        s.add_entry(totp("New", "later", G), false).unwrap_err(),
        VaultError::Locked
    );
}

#[test]
fn a_forged_backup_is_refused_or_unauthenticated_and_never_restored_silently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery, _trust) = create_trusted(&path);
    s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let file = dir.path().join("b.twfb");
    create_backup(
        &s,
        &file,
        &BackupOptions {
            password: Some(b"backup pw"),
            recovery: true,
            kdf: FAST,
        },
    )
    .unwrap();
    let genuine = std::fs::read(&file).unwrap();
    let key = BackupCredential::RecoveryKey(&recovery);
    let v = backup::verify_backup_bytes(&genuine, &key, None).unwrap();
    assert!(v.authenticated, "a genuine backup is authenticated");

    // Endorsements repointed to the forger's key: refused as forged.
    let forged = forge(BACKUP_MAGIC, &genuine, Endorsements::Repointed);
    assert_eq!(
        backup::verify_backup_bytes(&forged, &key, None).unwrap_err(),
        VaultError::Forged
    );
    // Stripped: it opens (the recovery slot's public key is public), but is reported as
    // unauthenticated, and a restore needs explicit acceptance — which it did not get.
    let stripped = forge(BACKUP_MAGIC, &genuine, Endorsements::Stripped);
    let v = backup::verify_backup_bytes(&stripped, &key, None).unwrap();
    assert!(!v.authenticated);
    std::fs::write(&file, &stripped).unwrap();
    let before = s.entries().unwrap();
    for mode in [RestoreMode::Merge, RestoreMode::Replace] {
        assert!(matches!(
            restore_backup(&s, &file, &key, mode, false),
            Err(VaultError::Unverified(_))
        ));
    }
    assert_eq!(s.entries().unwrap(), before, "nothing restored from it");
}

#[test]
fn a_restored_backup_is_checked_like_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery) = create(&path);
    s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let file = dir.path().join("b.twfb");
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
    // Settings no writer of ours produces (retention 0 would purge the trash at once), in a
    // backup the user accepts even though it is not authenticated.
    let hostile = forge_with(
        BACKUP_MAGIC,
        &std::fs::read(&file).unwrap(),
        Endorsements::Stripped,
        |c| c.settings.trash_retention_days = 0,
    );
    std::fs::write(&file, hostile).unwrap();
    let e = s.entries().unwrap()[0].id;
    s.delete_entry(e).unwrap();
    let r = restore_backup(
        &s,
        &file,
        &BackupCredential::RecoveryKey(&recovery),
        RestoreMode::Replace,
        true,
    );
    assert!(matches!(r, Err(VaultError::HostileFile(_))), "{r:?}");
    assert_eq!(s.trash().unwrap().len(), 1, "the trash was not purged");
    assert_eq!(
        s.read(|c| c.settings.trash_retention_days).unwrap(),
        30,
        "the vault's settings are unchanged"
    );
}

fn fast_backup() -> BackupOptions<'static> {
    BackupOptions {
        password: Some(b"backup pw"),
        recovery: false,
        kdf: FAST,
    }
}

#[test]
fn a_merge_restore_cannot_exceed_the_entry_limit() {
    use twofold_core::vault::session::MAX_ENTRIES;
    let dir = tempfile::tempdir().unwrap();
    let (big, _) = create(&dir.path().join("big"));
    let half = MAX_ENTRIES / 2 + 1;
    let many = |tag: u8| {
        (0..half)
            .map(|i| {
                let mut secret = [tag; 20];
                secret[..8].copy_from_slice(&(i as u64).to_be_bytes());
                twofold_core::vault::NewEntry {
                    secret: twofold_core::Secret::from_bytes(secret.to_vec()).unwrap(),
                    ..totp("S", &format!("u{i}"), G)
                }
            })
            .collect::<Vec<_>>()
    };
    big.insert(many(1), InsertPolicy::STRICT).unwrap();
    let file = dir.path().join("b.twfb");
    create_backup(&big, &file, &fast_backup()).unwrap();
    let (other, _) = create(&dir.path().join("other"));
    other.insert(many(2), InsertPolicy::STRICT).unwrap();
    // A backup of another vault is not authenticated for this one: accepted explicitly.
    let r = restore_backup(
        &other,
        &file,
        &BackupCredential::Password(b"backup pw"),
        RestoreMode::Merge,
        true,
    );
    assert!(matches!(r, Err(VaultError::InvalidInput(_))), "{r:?}");
    assert_eq!(other.entries().unwrap().len(), half);
}

// ----- revocation ---------------------------------------------------------------------------

/// The master key a credential unwraps from a file (what a former credential holder keeps).
fn master_key_of(file: &[u8], credential: &SlotCredential<'_>) -> crypto::Key32 {
    let parsed = container::parse(file, VAULT_MAGIC).unwrap();
    slots::unlock(&parsed, credential, KdfLimit::DEFAULT)
        .unwrap()
        .master_key
}

/// After a credential change: the revoked credential plus the old file opens nothing written
/// afterwards — not the new file, not its `.prev`, not a later generation.
fn assert_revoked(path: &std::path::Path, old_file: &[u8], revoked: &SlotCredential<'_>) {
    let old_mk = master_key_of(old_file, revoked);
    for later in [
        std::fs::read(path).unwrap(),
        std::fs::read(prev_path(path)).unwrap(),
    ] {
        let parsed = container::parse(&later, VAULT_MAGIC).unwrap();
        assert!(
            container::open_body(&parsed, &old_mk).is_err(),
            "the old master key decrypts a later file"
        );
        let r = slots::unlock(&parsed, revoked, KdfLimit::DEFAULT);
        assert!(
            matches!(
                r,
                Err(VaultError::WrongCredential) | Err(VaultError::NoSuchSlot)
            ),
            "the revoked credential opens a later file"
        );
        // The old signing keys are not the new file's either.
        let old_signers = container::parse(old_file, VAULT_MAGIC)
            .unwrap()
            .header
            .signers;
        assert_ne!(parsed.header.signers[0], old_signers[0]);
    }
}

#[test]
fn every_credential_change_revokes_the_old_credential_for_everything_written_afterwards() {
    let fast_pin = PIN_KDF;
    // change_password
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    assert_revoked(&v.path, &old, &SlotCredential::Password(PASSWORD));
    s.add_entry(totp("Later", "x", "MZXW6YTBOI"), false)
        .unwrap();
    assert_revoked(&v.path, &old, &SlotCredential::Password(PASSWORD));

    // rotate_recovery_key
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.rotate_recovery_key().unwrap();
    assert_revoked(&v.path, &old, &SlotCredential::Recovery(&v.recovery));

    // remove_slot (platform)
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.remove_slot(v.platform_slot).unwrap();
    let platform = SlotCredential::Platform {
        slot_id: v.platform_slot,
        key: &PLATFORM_KEY,
    };
    assert_revoked(&v.path, &old, &platform);

    // biometric re-enrollment
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    let new_key = [0x77u8; 32];
    let new_slot = s
        .replace_platform_slot(v.platform_slot, "bio2", "Pixel", &new_key, b"b2".to_vec())
        .unwrap();
    let platform = SlotCredential::Platform {
        slot_id: v.platform_slot,
        key: &PLATFORM_KEY,
    };
    assert_revoked(&v.path, &old, &platform);
    s.lock();
    s.unlock_with_platform_key(new_slot, &new_key).unwrap();

    // remove_slot (PIN), and a PIN slot removed after too many wrong PINs
    for by_lockout in [false, true] {
        let v = victim();
        let s = open_trusted(&v.path, &v.trust);
        s.unlock_with_password(PASSWORD).unwrap();
        let device_key = [0x33u8; 32];
        let pin_slot = s
            .add_pin_slot("pin", b"246810", &device_key, b"pb".to_vec(), fast_pin)
            .unwrap();
        s.lock();
        let old = v.file();
        if by_lockout {
            for _ in 0..5 {
                let _ = s.unlock_with_pin(pin_slot, b"000000", &device_key);
            }
            assert_eq!(
                s.unlock_with_pin(pin_slot, b"246810", &device_key),
                Err(VaultError::PinLocked)
            );
            let info = s.unlock_with_password(PASSWORD).unwrap();
            assert_eq!(info.removed_pin_slots, 1);
        } else {
            s.unlock_with_password(PASSWORD).unwrap();
            s.remove_slot(pin_slot).unwrap();
        }
        let pin = SlotCredential::Pin {
            slot_id: pin_slot,
            pin: b"246810",
            device_key: &device_key,
        };
        assert_revoked(&v.path, &old, &pin);
    }
}

#[test]
fn prev_never_opens_with_a_revoked_credential() {
    let v = victim();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    let prev = VaultSession::open(&prev_path(&v.path)).unwrap();
    assert_eq!(
        prev.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    // The generation after it rotates the new generation into `.prev` as usual.
    s.add_entry(totp("Later", "x", "MZXW6YTBOI"), false)
        .unwrap();
    let prev = VaultSession::open(&prev_path(&v.path)).unwrap();
    assert_eq!(
        prev.unlock_with_password(PASSWORD),
        Err(VaultError::WrongCredential)
    );
    prev.unlock_with_password(b"new password").unwrap();
}

#[test]
fn a_former_password_holder_with_write_access_cannot_forge_for_the_new_password() {
    let v = victim();
    let old = v.file();
    // What the former holder learns from the old file with the old password.
    let old_mk = master_key_of(&old, &SlotCredential::Password(PASSWORD));
    let old_parsed = container::parse(&old, VAULT_MAGIC).unwrap();
    let old_body = container::open_body(&old_parsed, &old_mk).unwrap();
    #[derive(serde::Deserialize)]
    struct Body {
        signers: Vec<Seed>,
    }
    #[derive(serde::Deserialize)]
    struct Seed(#[serde(with = "serde_bytes_array")] [u8; 32]);
    let old_signer =
        SigningKey::from_seed(&rmp_serde::from_slice::<Body>(&old_body).unwrap().signers[0].0);
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    s.lock();
    // The forger keeps the current slots but re-signs with the old key, wrapping a master
    // key of their own; the old key is still listed for the slots that vouch for it.
    let current = v.file();
    let Cut { mut header, .. } = cut(&current);
    let rng = SystemRandom::new();
    let attacker_mk = crypto::random_key(&rng).unwrap();
    let vault_id = header.vault_id;
    for slot in &mut header.slots {
        container::wrap_master_key(VAULT_MAGIC, &vault_id, slot, &attacker_mk, &rng).unwrap();
    }
    header.signers.retain(|k| *k == old_signer.public());
    header.slots.retain(|s: &Slot| {
        s.endorsement
            .as_ref()
            .is_none_or(|e| e.signer == old_signer.public())
    });
    header.succession = None;
    let body = rmp_serde::to_vec_named(&twofold_core::vault::VaultContent::new()).unwrap();
    let forged = container::seal_file(
        VAULT_MAGIC,
        &header,
        &attacker_mk,
        &body,
        &[&old_signer],
        &rng,
    )
    .unwrap();
    std::fs::write(&v.path, &forged).unwrap();
    // The new password has no slot in it (its slot vouches for the new key only) …
    let s = open_trusted(&v.path, &v.trust);
    assert!(s.unlock_with_password(b"new password").is_err());
    // … and the slots left over from before the change, which still vouch for the old key,
    // refuse it on the victim's device: the file does not descend from the key it last saw.
    for r in v.unlock_each(Some(&v.trust)).into_iter().skip(1) {
        assert_eq!(r, Err(VaultError::Forged));
    }
}

mod serde_bytes_array {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = [u8; 32];
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("32 bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<[u8; 32], E> {
                v.try_into().map_err(E::custom)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[test]
fn slots_absent_at_a_rotation_vouch_for_the_new_key_once_used_and_the_old_key_goes() {
    let v = victim();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    s.lock();
    let h = container::parse(&v.file(), VAULT_MAGIC).unwrap().header;
    assert_eq!(
        h.signers.len(),
        2,
        "the old key stays while absent slots vouch for it"
    );
    // Each absent slot re-endorses the current key when it is next used…
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_recovery_key(&v.recovery.reveal()).unwrap();
    s.lock();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_platform_key(v.platform_slot, &PLATFORM_KEY)
        .unwrap();
    s.lock();
    // …and once none vouches for the old key, it is gone from the file and its body.
    let h = container::parse(&v.file(), VAULT_MAGIC).unwrap().header;
    assert_eq!(h.signers.len(), 1);
    assert!(
        h.slots
            .iter()
            .all(|s| s.endorsement.as_ref().unwrap().signer == h.signers[0])
    );
}

// ----- rollback and .prev -------------------------------------------------------------------

#[test]
fn an_older_copy_put_back_is_refused_and_counters_never_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    let h = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=5"),
            false,
        )
        .unwrap();
    let old_copy = std::fs::read(&path).unwrap();
    let first = s.next_hotp(h.id).unwrap();
    s.next_hotp(h.id).unwrap();
    let generation = s.generation().unwrap();
    s.lock();
    std::fs::write(&path, &old_copy).unwrap();
    let s = open_trusted(&path, &trust);
    assert_eq!(
        s.unlock_with_password(PASSWORD),
        Err(VaultError::RolledBack {
            found: generation - 2,
            expected: generation
        })
    );
    assert_eq!(std::fs::read(&path).unwrap(), old_copy, "nothing written");
    // Accepted on purpose: opened, but the counter is where this device last saw it, so the
    // codes already shown are never shown again, and the next generation is above the record.
    let info = s
        .unlock_with_password_accepting_untrusted(PASSWORD)
        .unwrap();
    assert!(info.accepted_untrusted);
    assert!(info.generation > generation);
    match s.entry(h.id).unwrap().kind {
        OtpKind::Hotp { counter, .. } => assert_eq!(counter, 7),
        other => panic!("{other:?}"),
    }
    assert_ne!(s.next_hotp(h.id).unwrap(), first);
    s.lock();
    open_trusted(&path, &trust)
        .unlock_with_password(PASSWORD)
        .unwrap();
}

#[test]
fn restoring_an_old_backup_never_moves_a_counter_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, _trust) = create_trusted(&path);
    let h = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=5"),
            false,
        )
        .unwrap();
    let file = dir.path().join("b.twfb");
    create_backup(&s, &file, &fast_backup()).unwrap();
    s.next_hotp(h.id).unwrap();
    s.next_hotp(h.id).unwrap();
    // Purge it, then restore the old backup (which has counter 5) with replace.
    s.delete_entry(h.id).unwrap();
    s.purge_entry(h.id).unwrap();
    restore_backup(
        &s,
        &file,
        &BackupCredential::Password(b"backup pw"),
        RestoreMode::Replace,
        false,
    )
    .unwrap();
    match s.entry(h.id).unwrap().kind {
        OtpKind::Hotp { counter, .. } => assert_eq!(counter, 7, "the device's floor holds"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_previous_generation_is_used_only_right_behind_the_damaged_file_of_the_same_vault() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    let old = std::fs::read(&path).unwrap(); // generation n
    s.add_entry(totp("B", "b", "MZXW6YTBOI"), false).unwrap();
    s.add_entry(totp("C", "c", "MFRGGZDFMZTWQ2LK"), false)
        .unwrap(); // n + 2
    s.lock();
    let damage = |bytes: &[u8]| {
        let mut d = bytes.to_vec();
        let i = d.len() - 100;
        d[i] ^= 1;
        d
    };
    // An older generation planted as `.prev` next to a damaged current file: refused.
    std::fs::write(&path, damage(&std::fs::read(&path).unwrap())).unwrap();
    std::fs::write(prev_path(&path), &old).unwrap();
    let r = open_trusted(&path, &trust).unlock_with_password(PASSWORD);
    assert!(
        matches!(&r, Err(VaultError::Corrupt(m)) if m.contains("not the one before it")),
        "{r:?}"
    );
    // Another vault's file as `.prev`: refused.
    let (other, _) = create(&dir.path().join("other"));
    drop(other);
    std::fs::write(
        prev_path(&path),
        std::fs::read(dir.path().join("other")).unwrap(),
    )
    .unwrap();
    let r = open_trusted(&path, &trust).unlock_with_password(PASSWORD);
    assert!(matches!(r, Err(VaultError::Corrupt(_))), "{r:?}");
}

#[test]
fn a_pin_is_locked_after_five_wrong_tries_even_if_the_file_is_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    let device_key = [0x44u8; 32];
    let pin_slot = s
        .add_pin_slot("pin", b"135790", &device_key, b"pb".to_vec(), PIN_KDF)
        .unwrap();
    s.lock();
    let copy = std::fs::read(&path).unwrap();
    for n in 1..=5 {
        let r = s.unlock_with_pin(pin_slot, b"000000", &device_key);
        if n < 5 {
            assert_eq!(r, Err(VaultError::WrongCredential));
        } else {
            assert_eq!(r, Err(VaultError::PinLocked));
        }
        assert_eq!(s.pin_failures(pin_slot).unwrap(), n);
    }
    // Putting the old file back does not reset the count: it is not in the file.
    std::fs::write(&path, &copy).unwrap();
    let s = open_trusted(&path, &trust);
    assert_eq!(
        s.unlock_with_pin(pin_slot, b"135790", &device_key),
        Err(VaultError::PinLocked)
    );
    // The password still opens, and removes the PIN slot.
    let info = s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(info.removed_pin_slots, 1);
    assert!(s.slots().unwrap().iter().all(|x| x.kind != SlotKind::Pin));
    s.lock();
    assert_eq!(
        s.unlock_with_pin(pin_slot, b"135790", &device_key),
        Err(VaultError::NoSuchSlot)
    );
    // A right PIN resets the count.
    let s2 = open_trusted(&path, &trust);
    s2.unlock_with_password(PASSWORD).unwrap();
    let pin2 = s2
        .add_pin_slot("pin2", b"112233", &device_key, b"pb".to_vec(), PIN_KDF)
        .unwrap();
    s2.lock();
    let _ = s2.unlock_with_pin(pin2, b"000000", &device_key);
    s2.unlock_with_pin(pin2, b"112233", &device_key).unwrap();
    assert_eq!(s2.pin_failures(pin2).unwrap(), 0);
}

// ----- bounded work on hostile files --------------------------------------------------------

#[test]
fn hostile_headers_are_refused_before_any_key_derivation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let _ = create(&path);
    let bytes = std::fs::read(&path).unwrap();
    let lone = dir.path().join("hostile");
    let unlock = |file: &[u8]| {
        std::fs::write(&lone, file).unwrap();
        VaultSession::open(&lone)
            .unwrap()
            .unlock_with_password(PASSWORD)
    };
    // Memory, passes and total work above what a phone survives.
    for (m, t) in [
        (1024 * 1024, 3),
        (256 * 1024, 4),
        (64 * 1024, 13),
        (512 * 1024, 2),
    ] {
        let hostile = resign(&bytes, |h| {
            let kdf = h.slots[0].kdf.as_mut().unwrap();
            kdf.m_kib = m;
            kdf.t = t;
        });
        let r = unlock(&hostile);
        assert!(
            matches!(r, Err(VaultError::HostileFile(_))),
            "m={m} t={t}: {r:?}"
        );
    }
    // More slots than any vault has.
    let many = resign(&bytes, |h| {
        let slot = h.slots[0].clone();
        while h.slots.len() < 17 {
            let mut s = slot.clone();
            s.id[0] = h.slots.len() as u8;
            h.slots.push(s);
        }
    });
    assert!(matches!(unlock(&many), Err(VaultError::HostileFile(_))));
    // A header length beyond the limit.
    let mut long = bytes.clone();
    long[6..10].copy_from_slice(&(1u32 << 20).to_be_bytes());
    assert!(matches!(unlock(&long), Err(VaultError::HostileFile(_))));
}

#[test]
fn at_most_two_password_slots_are_tried() {
    // Five password slots; the password belongs to the third. Were it tried, the forged
    // endorsement would make this `Forged`; it is never reached.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    s.add_password_slot(b"second", FAST, "b").unwrap();
    s.add_password_slot(b"third", FAST, "c").unwrap();
    s.add_password_slot(b"fourth", FAST, "d").unwrap();
    s.lock();
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_password(b"second")
            .is_ok()
    );
    assert_eq!(
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_password(b"third"),
        Err(VaultError::WrongCredential)
    );
    let forged = resign(&bytes, |_| {});
    std::fs::write(&path, forged).unwrap();
    assert_eq!(
        VaultSession::open(&path)
            .unwrap()
            .unlock_with_password(b"fourth"),
        Err(VaultError::WrongCredential)
    );
}

// ----- metadata -----------------------------------------------------------------------------

#[test]
fn using_a_code_does_not_rewrite_the_file_until_the_vault_locks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    let e = s.add_entry(totp("A", "a", G), false).unwrap();
    let before = std::fs::read(&path).unwrap();
    let generation = s.generation().unwrap();
    for _ in 0..10 {
        s.record_use(e.id).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "no write per use");
    assert_eq!(s.entry(e.id).unwrap().use_count, 10);
    s.lock();
    assert_ne!(std::fs::read(&path).unwrap(), before);
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(
        s.generation().unwrap(),
        generation + 1,
        "one write for ten uses"
    );
    assert_eq!(s.entry(e.id).unwrap().use_count, 10);
}

#[test]
fn file_sizes_do_not_tell_the_entry_count_and_slot_labels_are_not_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let sizes: Vec<usize> = [1usize, 5, 10]
        .iter()
        .map(|n| {
            let path = dir.path().join(format!("v{n}"));
            let (s, _) = create(&path);
            for i in 0..*n {
                let mut secret = [7u8; 20];
                secret[0] = i as u8;
                s.add_entry(
                    twofold_core::vault::NewEntry {
                        secret: twofold_core::Secret::from_bytes(secret.to_vec()).unwrap(),
                        ..totp("Service", &format!("user{i}@example.com"), G)
                    },
                    false,
                )
                .unwrap();
            }
            s.add_platform_slot("alias", "Pixel fingerprint", &[1; 32], vec![1])
                .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows("Pixel fingerprint".len())
                    .any(|w| w == b"Pixel fingerprint"),
                "the label is encrypted"
            );
            bytes.len()
        })
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
}

#[test]
fn the_trust_record_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery, trust) = create_trusted(&path);
    s.add_entry(
        entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=5"),
        false,
    )
    .unwrap();
    let record = trust.load().unwrap().unwrap();
    let parsed = TrustRecord::decode(&record).unwrap();
    assert_eq!(parsed.hotp.len(), 1);
    let secret = twofold_core::Secret::from_base32("GEZDGNBVGY3TQOJQ").unwrap();
    for needle in [
        secret.expose().to_vec(),
        PASSWORD.to_vec(),
        recovery.reveal().as_bytes().to_vec(),
    ] {
        assert!(!record.windows(needle.len()).any(|w| w == needle.as_slice()));
    }
}

#[test]
fn a_new_vault_over_an_old_record_starts_a_fresh_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    s.lock();
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(prev_path(&path)).unwrap();
    let (s, _) = create_in(&path, trusted_env(&trust));
    s.lock();
    open_trusted(&path, &trust)
        .unlock_with_password(PASSWORD)
        .unwrap();
    let _ = KdfParams::DEFAULT;
}
