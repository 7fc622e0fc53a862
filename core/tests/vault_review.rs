//! Second review of format 2 (vault and backups): each test plays one attack against the real
//! core. A test that asserts the secure behaviour and fails marks a weakness found by this
//! review (see the review report); the others are regression tests of properties that held.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use serde::{Deserialize, Serialize};
use twofold_core::backup::{self, BackupCredential, BackupOptions, RestoreMode, create_backup};
use twofold_core::crypto::{self, KdfLimit, KdfParams, SigningKey, SlotKeyPair, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::vault::container::{
    self, BACKUP_MAGIC, Header, PlatformRef, Slot, SlotKdf, VAULT_MAGIC,
};
use twofold_core::vault::slots::SlotSecrets;
use twofold_core::vault::storage::prev_path;
use twofold_core::vault::{
    Entry, Id, MemoryTrustStore, RecoveryKey, SlotCredential, SlotKind, VaultContent, VaultError,
    VaultSession, slots,
};
use twofold_core::{Algorithm, Secret};

const G: &str = "JBSWY3DPEHPK3PXP";
const BIO_KEY: [u8; 32] = [0x5a; 32];
/// The key of the slot an attacker plants (a "biometric" slot whose key the attacker chose).
const PLANTED_KEY: [u8; 32] = [0xe1; 32];
const PLANTED_ID: [u8; 16] = [0xee; 16];

fn rng() -> SystemRandom {
    SystemRandom::new()
}

// ----- serialization helpers (an attacker writes files by the spec, not with our code) -----

struct Bin(Vec<u8>);

impl Serialize for Bin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

struct BinIn(Vec<u8>);

impl<'de> Deserialize<'de> for BinIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BinIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<BinIn, E> {
                Ok(BinIn(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(Serialize)]
struct MetaOut {
    id: Bin,
    label: String,
    created_at: i64,
}

/// The plaintext of a format 2 vault body (`docs/vault-format.md` §4).
#[derive(Serialize)]
struct VaultBodyOut<'a> {
    content: &'a VaultContent,
    signers: Vec<Bin>,
    slots: Vec<MetaOut>,
    updated_at: i64,
}

#[derive(Deserialize)]
struct VaultBodyIn {
    content: VaultContent,
    signers: Vec<BinIn>,
}

/// What a holder of `credential` learns from a format 2 vault file.
struct Learned {
    signers: Vec<SigningKey>,
    content: VaultContent,
}

fn learn(file: &[u8], credential: &SlotCredential<'_>) -> Learned {
    let parsed = container::parse(file, VAULT_MAGIC).unwrap();
    let opened = slots::unlock(&parsed, credential, KdfLimit::DEFAULT).unwrap();
    let body = container::open_body(&parsed, &opened.master_key).unwrap();
    let body: VaultBodyIn = rmp_serde::from_slice(&body).unwrap();
    Learned {
        signers: body
            .signers
            .iter()
            .map(|s| SigningKey::from_seed(&s.0.clone().try_into().unwrap()))
            .collect(),
        content: body.content,
    }
}

/// Seals a complete format 2 vault file: wraps `mk` to every slot of `header` and signs with
/// `keys` (which become the signers; their seeds go into the body, as the spec says).
fn seal_vault(
    mut header: Header,
    mk: &crypto::Key32,
    content: &VaultContent,
    keys: &[&SigningKey],
) -> Vec<u8> {
    let rng = rng();
    let vault_id = header.vault_id;
    header.signers = keys.iter().map(|k| k.public()).collect();
    for slot in &mut header.slots {
        container::wrap_master_key(VAULT_MAGIC, &vault_id, slot, mk, &rng).unwrap();
    }
    let body = VaultBodyOut {
        content,
        signers: keys.iter().map(|k| Bin(k.seed().to_vec())).collect(),
        slots: header
            .slots
            .iter()
            .map(|s| MetaOut {
                id: Bin(s.id.to_vec()),
                label: "password".into(),
                created_at: 0,
            })
            .collect(),
        updated_at: 0,
    };
    let body = rmp_serde::to_vec_named(&body).unwrap();
    container::seal_file(VAULT_MAGIC, &header, mk, &body, keys, &rng).unwrap()
}

/// A backup body (`docs/backup-format.md`).
fn seal_backup(
    mut header: Header,
    mk: &crypto::Key32,
    content: &VaultContent,
    keys: &[&SigningKey],
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        content: &'a VaultContent,
        created_at: i64,
    }
    let rng = rng();
    let id = header.vault_id;
    header.signers = keys.iter().map(|k| k.public()).collect();
    for slot in &mut header.slots {
        container::wrap_master_key(BACKUP_MAGIC, &id, slot, mk, &rng).unwrap();
    }
    let body = rmp_serde::to_vec_named(&Body {
        content,
        created_at: 0,
    })
    .unwrap();
    container::seal_file(BACKUP_MAGIC, &header, mk, &body, keys, &rng).unwrap()
}

/// A slot whose key the attacker chose: a "biometric" slot with the alias the apps use.
fn planted_slot(vault_id: &[u8; 16], endorse_for: Option<[u8; 32]>) -> Slot {
    let secrets = SlotSecrets::derive(&PLANTED_KEY, SlotKind::Platform);
    let mut slot = Slot {
        id: PLANTED_ID,
        kind: SlotKind::Platform,
        public_key: secrets.keys.public,
        kdf: None,
        platform: Some(PlatformRef {
            alias: "twofold.biometric".into(),
            blob: vec![1, 2, 3],
        }),
        wrap: container::empty_wrap(),
        endorsement: None,
    };
    if let Some(signer) = endorse_for {
        container::endorse(&mut slot, vault_id, &secrets.endorse_key, signer);
    }
    slot
}

/// What the attacker reads with the planted slot's key from a vault file (None: nothing).
fn planted_reads(file: &[u8]) -> Option<VaultContent> {
    let parsed = container::parse(file, VAULT_MAGIC).ok()?;
    let slot = parsed.header.slots.iter().find(|s| s.id == PLANTED_ID)?;
    let keys = SlotKeyPair::derive(&PLANTED_KEY, SlotKind::Platform.label());
    let mk =
        container::unwrap_master_key(VAULT_MAGIC, &parsed.header.vault_id, slot, &keys).ok()?;
    let body = container::open_body(&parsed, &mk).ok()?;
    Some(rmp_serde::from_slice::<VaultBodyIn>(&body).ok()?.content)
}

fn issuers(content: &VaultContent) -> Vec<String> {
    content.entries.iter().map(|e| e.issuer.clone()).collect()
}

/// A format 1 slot as an attacker lays it out (`docs/vault-format.md` §12).
struct V1Slot {
    id: [u8; 16],
    kind: SlotKind,
    public_key: [u8; 32],
    kdf: Option<SlotKdf>,
    platform: Option<PlatformRef>,
}

impl V1Slot {
    fn from_v2(s: &Slot) -> Self {
        V1Slot {
            id: s.id,
            kind: s.kind,
            public_key: s.public_key,
            kdf: s.kdf.clone(),
            platform: s.platform.clone(),
        }
    }
}

fn kind_code(kind: SlotKind) -> u8 {
    match kind {
        SlotKind::Password => 1,
        SlotKind::Platform => 2,
        SlotKind::Recovery => 3,
        SlotKind::Pin => 4,
    }
}

/// A complete format 1 vault file that opens with every slot's credential (the v1 wrap needs
/// only public keys) and holds `content`.
fn v1_file(
    vault_id: [u8; 16],
    generation: u64,
    slots: &[V1Slot],
    content: &VaultContent,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct WrapOut {
        ephemeral: Bin,
        nonce: Bin,
        ciphertext: Bin,
    }
    #[derive(Serialize)]
    struct SlotOut<'a> {
        id: Bin,
        kind: SlotKind,
        label: &'a str,
        created_at: i64,
        public_key: Bin,
        kdf: &'a Option<SlotKdf>,
        platform: &'a Option<PlatformRef>,
        wrap: WrapOut,
    }
    #[derive(Serialize)]
    struct HeaderOut<'a> {
        vault_id: Bin,
        generation: u64,
        created_at: i64,
        updated_at: i64,
        slots: Vec<SlotOut<'a>>,
    }
    let rng = rng();
    let mk = crypto::random_key(&rng).unwrap();
    let mut out_slots = Vec::new();
    for s in slots {
        let (ephemeral, shared) = crypto::ephemeral_agree(&rng, &s.public_key).unwrap();
        let mut ikm = shared.to_vec();
        ikm.extend_from_slice(&ephemeral);
        ikm.extend_from_slice(&s.public_key);
        let kek = crypto::hkdf32(&ikm, &vault_id, b"twofold/v1/wrap");
        let nonce: [u8; 24] = crypto::random_array(&rng).unwrap();
        let mut aad = b"twofold/v1/slot".to_vec();
        aad.extend_from_slice(b"TWFV");
        aad.extend_from_slice(&vault_id);
        aad.extend_from_slice(&s.id);
        aad.push(kind_code(s.kind));
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
        out_slots.push(SlotOut {
            id: Bin(s.id.to_vec()),
            kind: s.kind,
            label: "password",
            created_at: 0,
            public_key: Bin(s.public_key.to_vec()),
            kdf: &s.kdf,
            platform: &s.platform,
            wrap: WrapOut {
                ephemeral: Bin(ephemeral.to_vec()),
                nonce: Bin(nonce.to_vec()),
                ciphertext: Bin(ciphertext),
            },
        });
    }
    let h = rmp_serde::to_vec_named(&HeaderOut {
        vault_id: Bin(vault_id.to_vec()),
        generation,
        created_at: 0,
        updated_at: 0,
        slots: out_slots,
    })
    .unwrap();
    let mut out = b"TWFV".to_vec();
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    let body_key = crypto::hkdf32(mk.as_ref(), &vault_id, b"twofold/v1/body");
    let nonce: [u8; 24] = crypto::random_array(&rng).unwrap();
    let body = rmp_serde::to_vec_named(content).unwrap();
    let ct = crypto::seal(&body_key, &nonce, &out, &body);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn attacker_content() -> VaultContent {
    let mut content = VaultContent::new();
    content.entries.push(Entry::new(
        Id::from_random([9; 16]),
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32("MFRGGZDFMZTWQ2LK").unwrap(),
        "Attacker".into(),
        "planted".into(),
        0,
        0,
    ));
    content
}

/// A victim with a password, a recovery key, a biometric slot and one account, on a device
/// that keeps a trust record.
struct Victim {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    recovery: RecoveryKey,
    bio_slot: [u8; 16],
    trust: Arc<MemoryTrustStore>,
}

fn victim() -> Victim {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, recovery, trust) = create_trusted(&path);
    s.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let bio_slot = s
        .add_platform_slot("twofold.biometric", "Pixel", &BIO_KEY, b"blob".to_vec())
        .unwrap();
    s.lock();
    Victim {
        _dir: dir,
        path,
        recovery,
        bio_slot,
        trust,
    }
}

impl Victim {
    fn file(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
    fn header(&self) -> Header {
        container::parse(&self.file(), VAULT_MAGIC).unwrap().header
    }
}

// ===== accepting a file on purpose ==========================================================

/// The upgrade path: a forger (no credential) writes a format 1 file that the victim's
/// password opens (the v1 wrap needs only the public key) and that carries one extra slot
/// whose key the forger chose. The victim's device calls it a rollback; the user accepts it
/// (the app's "older version" prompt, with the password). Everything written afterwards must
/// stay unreadable to the forger.
#[test]
fn a_planted_format_1_file_accepted_on_purpose_gives_the_planter_no_slot() {
    planted_format_1_file_accepted(true);
}

#[test]
#[ignore = "open weakness: with no trust record nothing tells a planted slot from a genuine one (the apps should list carried-over slots before accepting)"]
fn a_planted_format_1_file_accepted_on_a_new_device_gives_the_planter_no_slot() {
    planted_format_1_file_accepted(false);
}

fn planted_format_1_file_accepted(with_record: bool) {
    {
        let v = victim();
        let h = v.header();
        let password_slot = h
            .slots
            .iter()
            .find(|s| s.kind == SlotKind::Password)
            .unwrap();
        let planted = planted_slot(&h.vault_id, None);
        let file = v1_file(
            h.vault_id,
            h.generation + 1,
            &[V1Slot::from_v2(password_slot), V1Slot::from_v2(&planted)],
            &VaultContent::new(),
        );
        std::fs::write(&v.path, &file).unwrap();
        let trust = if with_record {
            v.trust.clone()
        } else {
            Arc::new(MemoryTrustStore::new())
        };
        let s = open_trusted(&v.path, &trust);
        let refused = s.unlock_with_password(PASSWORD);
        assert!(
            matches!(
                refused,
                Err(VaultError::RolledBack { .. }) | Err(VaultError::Unverified(_))
            ),
            "{refused:?}"
        );
        let info = s
            .unlock_with_password_accepting_untrusted(PASSWORD)
            .unwrap();
        assert_eq!(info.upgraded_from, Some(1));
        // The user, finding the accounts gone, adds them again (or restores a backup).
        s.add_entry(totp("Bank", "alice", "MZXW6YTBOI"), false)
            .unwrap();
        s.lock();
        let read = planted_reads(&v.file());
        assert!(
            read.is_none(),
            "record: {with_record}: the planter reads what the victim wrote afterwards: {:?}",
            read.map(|c| issuers(&c))
        );
    }
}

/// An old copy of the vault put back (a sync conflict, a restored disk image) is refused as a
/// rollback, and the user accepts it. The copy predates a recovery-key rotation: the revoked
/// recovery key must not come back with it.
#[test]
fn an_old_copy_accepted_on_purpose_does_not_bring_back_a_revoked_credential() {
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.rotate_recovery_key().unwrap();
    s.lock();
    std::fs::write(&v.path, &old).unwrap();
    let s = open_trusted(&v.path, &v.trust);
    assert!(matches!(
        s.unlock_with_password(PASSWORD),
        Err(VaultError::RolledBack { .. })
    ));
    let info = s
        .unlock_with_password_accepting_untrusted(PASSWORD)
        .unwrap();
    s.add_entry(totp("Later", "x", "MZXW6YTBOI"), false)
        .unwrap();
    s.lock();
    let r = slots::unlock(
        &container::parse(&v.file(), VAULT_MAGIC).unwrap(),
        &SlotCredential::Recovery(&v.recovery),
        KdfLimit::DEFAULT,
    );
    assert!(
        matches!(
            r,
            Err(VaultError::NoSuchSlot) | Err(VaultError::WrongCredential)
        ),
        "the revoked recovery key opens what is written after the accepted rollback"
    );
    assert!(info.removed_unknown_slots >= 1, "{info:?}");
}

/// The same with a small-order "public key": the master key wrapped to it is readable by
/// anyone (X25519 with a low-order point gives the all-zero shared secret), not just the
/// planter. No writer may wrap the master key to such a key.
#[test]
fn the_master_key_is_never_wrapped_to_a_low_order_key() {
    let v = victim();
    let h = v.header();
    let password_slot = h
        .slots
        .iter()
        .find(|s| s.kind == SlotKind::Password)
        .unwrap();
    let zero = V1Slot {
        id: [0x0f; 16],
        kind: SlotKind::Recovery,
        public_key: [0; 32],
        kdf: None,
        platform: None,
    };
    let file = v1_file(
        h.vault_id,
        h.generation + 1,
        &[V1Slot::from_v2(password_slot), zero],
        &VaultContent::new(),
    );
    std::fs::write(&v.path, &file).unwrap();
    let s = open_trusted(&v.path, &Arc::new(MemoryTrustStore::new()));
    let _ = s.unlock_with_password_accepting_untrusted(PASSWORD);
    s.lock();
    let parsed = container::parse(&v.file(), VAULT_MAGIC);
    let Ok(parsed) = parsed else {
        return; // refused, nothing written
    };
    for slot in &parsed.header.slots {
        let mut ikm = vec![0u8; 32];
        ikm.extend_from_slice(&slot.wrap.ephemeral);
        ikm.extend_from_slice(&slot.public_key);
        let kek = crypto::hkdf32(&ikm, &parsed.header.vault_id, b"twofold/v2/wrap");
        let aad = container::slot_aad(VAULT_MAGIC, &parsed.header.vault_id, slot);
        assert!(
            crypto::open(&kek, &slot.wrap.nonce, &aad, &slot.wrap.ciphertext).is_err(),
            "the master key is wrapped under a key anyone can compute"
        );
    }
}

/// A forgery with the password slot's endorsement stripped and the other slots' endorsements
/// repointed to the forger's key is accepted on purpose with the password. Afterwards the
/// user's own recovery key must still open their vault, and the forger's signing key (whose
/// seed the forger knows) must not stay one of the vault's signers.
#[test]
fn a_forgery_accepted_on_purpose_leaves_no_forged_endorsement_or_signer_behind() {
    let v = victim();
    let mut h = v.header();
    let forger = SigningKey::generate(&rng()).unwrap();
    for slot in &mut h.slots {
        if slot.kind == SlotKind::Password {
            slot.endorsement = None;
        } else if let Some(e) = slot.endorsement.as_mut() {
            e.signer = forger.public();
        }
    }
    h.succession = None;
    h.generation += 1;
    let mk = crypto::random_key(&rng()).unwrap();
    std::fs::write(&v.path, seal_vault(h, &mk, &attacker_content(), &[&forger])).unwrap();
    let s = open_trusted(&v.path, &v.trust);
    assert_eq!(s.unlock_with_password(PASSWORD), Err(VaultError::Forged));
    s.unlock_with_password_accepting_untrusted(PASSWORD)
        .unwrap();
    s.lock();
    let forger_signs = v.header().signers.contains(&forger.public());
    let s = open_trusted(&v.path, &v.trust);
    let recovery = s.unlock_with_recovery_key(&v.recovery.reveal()).map(|_| ());
    assert!(
        !forger_signs && recovery.is_ok(),
        "the forger's key still signs the vault: {forger_signs}; the user's own recovery key \
         on their own vault: {recovery:?}"
    );
}

// ===== former credential holders ============================================================

/// A vault used on two devices: A (password) and B (its own biometric slot). The old password
/// leaks; A changes it. Before B has seen the new generation, the former holder (old master
/// key and signing seed, write access to the synced folder) writes a file for B's slot, which
/// was absent at the change. The docs (vault-format §10, threat-model row 8) say any device
/// with a trust record refuses it.
#[test]
#[ignore = "open weakness (docs/vault-format.md §10): silent rotation lets a former holder forge for a device whose record predates the change"]
fn a_former_holder_cannot_forge_for_a_device_whose_record_predates_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (a, _, trust_a) = create_trusted(&path);
    a.add_entry(totp("GitHub", "alice", G), false).unwrap();
    let b_key = [0xb0u8; 32];
    let b_slot = a
        .add_platform_slot("twofold.biometric", "Device B", &b_key, b"b".to_vec())
        .unwrap();
    a.lock();
    let trust_b = Arc::new(MemoryTrustStore::new());
    let b = open_trusted(&path, &trust_b);
    b.unlock_with_platform_key(b_slot, &b_key).unwrap();
    b.lock();
    let old = std::fs::read(&path).unwrap();
    let learned = learn(&old, &SlotCredential::Password(PASSWORD));
    let a = open_trusted(&path, &trust_a);
    a.unlock_with_password(PASSWORD).unwrap();
    a.change_password(b"new password", FAST).unwrap();
    a.lock();

    let mut h = container::parse(&std::fs::read(&path).unwrap(), VAULT_MAGIC)
        .unwrap()
        .header;
    let old_signer = &learned.signers[0];
    h.slots.retain(|s| s.id == b_slot);
    h.slots
        .push(planted_slot(&h.vault_id, Some(old_signer.public())));
    h.succession = None;
    h.generation += 10;
    let mk = crypto::random_key(&rng()).unwrap();
    std::fs::write(&path, seal_vault(h, &mk, &learned.content, &[old_signer])).unwrap();
    // Device A, which made the change, refuses it.
    assert_eq!(
        open_trusted(&path, &trust_a).unlock_with_password(b"new password"),
        Err(VaultError::Forged)
    );
    // Device B has a record too.
    let b = open_trusted(&path, &trust_b);
    let r = b.unlock_with_platform_key(b_slot, &b_key);
    assert!(
        r.is_err(),
        "device B silently opened the former holder's file: {r:?}"
    );
}

/// The same attack, carried on: B opened the file, the user adds an account on B and later
/// changes the password on B (a full key rotation). The docs bound the former holder's window
/// by the next use of the absent slot; a slot planted in the accepted file must not survive a
/// rotation.
#[test]
#[ignore = "open weakness (docs/vault-format.md §10): a slot planted in a former holder's forgery survives rotations"]
fn a_slot_planted_by_a_former_holder_does_not_survive_a_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (a, _, trust_a) = create_trusted(&path);
    let b_key = [0xb0u8; 32];
    let b_slot = a
        .add_platform_slot("twofold.biometric", "Device B", &b_key, b"b".to_vec())
        .unwrap();
    a.lock();
    let trust_b = Arc::new(MemoryTrustStore::new());
    open_trusted(&path, &trust_b)
        .unlock_with_platform_key(b_slot, &b_key)
        .unwrap();
    let old = std::fs::read(&path).unwrap();
    let learned = learn(&old, &SlotCredential::Password(PASSWORD));
    let a = open_trusted(&path, &trust_a);
    a.unlock_with_password(PASSWORD).unwrap();
    a.change_password(b"new password", FAST).unwrap();
    a.lock();
    let mut h = container::parse(&std::fs::read(&path).unwrap(), VAULT_MAGIC)
        .unwrap()
        .header;
    let old_signer = &learned.signers[0];
    // Keep a password slot for B's user: the old password's slot with an old endorsement.
    let old_header = container::parse(&old, VAULT_MAGIC).unwrap().header;
    let mut slots_kept: Vec<Slot> = old_header
        .slots
        .iter()
        .filter(|s| s.kind == SlotKind::Password)
        .cloned()
        .collect();
    slots_kept.extend(h.slots.iter().filter(|s| s.id == b_slot).cloned());
    slots_kept.push(planted_slot(&h.vault_id, Some(old_signer.public())));
    h.slots = slots_kept;
    h.succession = None;
    h.generation += 10;
    let mk = crypto::random_key(&rng()).unwrap();
    std::fs::write(&path, seal_vault(h, &mk, &learned.content, &[old_signer])).unwrap();
    let b = open_trusted(&path, &trust_b);
    if b.unlock_with_platform_key(b_slot, &b_key).is_err() {
        return; // refused: nothing to carry on with
    }
    b.add_entry(totp("Later", "bob", "MZXW6YTBOI"), false)
        .unwrap();
    b.rotate_recovery_key().unwrap();
    b.lock();
    let read = planted_reads(&std::fs::read(&path).unwrap());
    assert!(
        read.is_none(),
        "the former holder's planted slot reads every later generation: {:?}",
        read.map(|c| issuers(&c))
    );
}

/// A former holder of the password keeps the old signing seed and the recovery slot's old
/// endorsement. After the change the recovery key is confirmed (its slot now vouches for the
/// new key only, and the old key is gone from the vault). A backup the former holder forges
/// with the old key must not be "authenticated" and must not restore without consent.
#[test]
fn a_former_holder_cannot_forge_an_authenticated_backup_after_the_recovery_key_moved_on() {
    let v = victim();
    let old = v.file();
    let old_header = container::parse(&old, VAULT_MAGIC).unwrap().header;
    let learned = learn(&old, &SlotCredential::Password(PASSWORD));
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.change_password(b"new password", FAST).unwrap();
    s.confirm_recovery_key(&v.recovery).unwrap();
    s.lock();
    open_trusted(&v.path, &v.trust)
        .unlock_with_platform_key(v.bio_slot, &BIO_KEY)
        .unwrap();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(b"new password").unwrap();
    let now = v.header();
    let old_signer = &learned.signers[0];
    assert!(!now.signers.contains(&old_signer.public()), "old key gone");

    let recovery_slot = old_header
        .slots
        .iter()
        .find(|s| s.kind == SlotKind::Recovery)
        .unwrap()
        .clone();
    let header = Header {
        vault_id: [0x42; 16],
        generation: now.generation + 1,
        origin: Some(old_header.vault_id),
        signers: vec![],
        succession: None,
        slots: vec![recovery_slot],
    };
    let mk = crypto::random_key(&rng()).unwrap();
    let forged = seal_backup(header, &mk, &attacker_content(), &[old_signer]);
    let key = BackupCredential::RecoveryKey(&v.recovery);
    let verified = backup::verify_backup_bytes(&forged, &key, None).unwrap();
    let file = v._dir.path().join("forged.twfb");
    std::fs::write(&file, &forged).unwrap();
    let restored = backup::restore_backup(&s, &file, &key, RestoreMode::Merge, false);
    assert!(
        matches!(restored, Err(VaultError::Unverified(_))),
        "a backup forged with a retired key restores as authenticated: {restored:?}"
    );
    // `verify` has no vault to compare with: it can only say the backup was made by a holder
    // of one of the vault's credentials at some time.
    let _ = verified.authenticated;
}

// ===== restore is checked like an import =====================================================

/// A backup that cannot be shown to be the user's (every 0.1 backup is such a one, so the
/// prompt is routine) holds an entry no writer of ours makes. Accepted, it must be refused as
/// hostile — not stored, and never a panic when codes are shown.
#[test]
fn a_restored_backup_with_impossible_entries_is_refused_and_never_panics() {
    let hostile_contents: Vec<(&str, VaultContent)> = {
        let entry = |kind: OtpKind, issuer: String| {
            Entry::new(
                Id::from_random([3; 16]),
                kind,
                Secret::from_base32(G).unwrap(),
                issuer,
                "x".into(),
                0,
                0,
            )
        };
        let one = |e: Entry| {
            let mut c = VaultContent::new();
            c.entries.push(e);
            c
        };
        let mut dup = VaultContent::new();
        dup.entries.push(entry(OtpKind::DEFAULT_TOTP, "A".into()));
        let mut second = entry(OtpKind::DEFAULT_TOTP, "B".into());
        second.secret = Secret::from_base32("MZXW6YTBOI").unwrap();
        dup.entries.push(second);
        vec![
            (
                "11 digits",
                one(entry(
                    OtpKind::Totp {
                        algorithm: Algorithm::Sha1,
                        digits: 11,
                        period: 30,
                    },
                    "A".into(),
                )),
            ),
            (
                "period 0",
                one(entry(
                    OtpKind::Totp {
                        algorithm: Algorithm::Sha1,
                        digits: 6,
                        period: 0,
                    },
                    "A".into(),
                )),
            ),
            (
                "HOTP of 200 digits",
                one(entry(
                    OtpKind::Hotp {
                        algorithm: Algorithm::Sha1,
                        digits: 200,
                        counter: 0,
                    },
                    "A".into(),
                )),
            ),
            (
                "a 100 000-character issuer",
                one(entry(OtpKind::DEFAULT_TOTP, "A".repeat(100_000))),
            ),
            ("two entries with one id", dup),
        ]
    };
    for (what, content) in hostile_contents {
        let v = victim();
        let h = v.header();
        let mut recovery = h
            .slots
            .iter()
            .find(|s| s.kind == SlotKind::Recovery)
            .unwrap()
            .clone();
        recovery.endorsement = None;
        let header = Header {
            vault_id: [0x42; 16],
            generation: 1,
            origin: Some(h.vault_id),
            signers: vec![],
            succession: None,
            slots: vec![recovery],
        };
        let signer = SigningKey::generate(&rng()).unwrap();
        let mk = crypto::random_key(&rng()).unwrap();
        let file = v._dir.path().join("hostile.twfb");
        std::fs::write(&file, seal_backup(header, &mk, &content, &[&signer])).unwrap();
        let s = open_trusted(&v.path, &v.trust);
        s.unlock_with_password(PASSWORD).unwrap();
        let before = s.generation().unwrap();
        for mode in [RestoreMode::Merge, RestoreMode::Replace] {
            let r = backup::restore_backup(
                &s,
                &file,
                &BackupCredential::RecoveryKey(&v.recovery),
                mode,
                true,
            );
            let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.codes_at(1_700_000_000_000).map(|c| c.len())
            }));
            assert!(shown.is_ok(), "{what} ({mode:?}): showing codes panics");
            assert!(
                matches!(r, Err(VaultError::HostileFile(_))),
                "{what} ({mode:?}): {r:?}"
            );
        }
        assert_eq!(
            s.generation().unwrap(),
            before,
            "{what}: nothing was written"
        );
    }
}

/// HOTP floors are kept per entry id. A backup that cannot be shown to be the user's (accepted,
/// as every 0.1 backup must be) carries an HOTP account the vault purged, under a new id and
/// an old counter: the codes already shown must not be shown again.
#[test]
#[ignore = "open weakness: HOTP floors are per entry id; keying them by the secret changes the body"]
fn a_restore_cannot_move_an_hotp_counter_back_by_changing_the_entry_id() {
    let v = victim();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    let bank = "GEZDGNBVGY3TQOJQ";
    let e = s
        .add_entry(
            entry(&format!("otpauth://hotp/Bank:bob?secret={bank}&counter=5")),
            false,
        )
        .unwrap();
    let shown = [s.next_hotp(e.id).unwrap(), s.next_hotp(e.id).unwrap()];
    s.delete_entry(e.id).unwrap();
    s.purge_entry(e.id).unwrap();
    let h = v.header();
    let mut recovery = h
        .slots
        .iter()
        .find(|s| s.kind == SlotKind::Recovery)
        .unwrap()
        .clone();
    recovery.endorsement = None;
    let mut content = VaultContent::new();
    content.entries.push(Entry::new(
        Id::from_random([8; 16]),
        OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 5,
        },
        Secret::from_base32(bank).unwrap(),
        "Bank".into(),
        "bob".into(),
        0,
        0,
    ));
    let header = Header {
        vault_id: [0x42; 16],
        generation: 1,
        origin: Some(h.vault_id),
        signers: vec![],
        succession: None,
        slots: vec![recovery],
    };
    let signer = SigningKey::generate(&rng()).unwrap();
    let mk = crypto::random_key(&rng()).unwrap();
    let file = v._dir.path().join("old.twfb");
    std::fs::write(&file, seal_backup(header, &mk, &content, &[&signer])).unwrap();
    backup::restore_backup(
        &s,
        &file,
        &BackupCredential::RecoveryKey(&v.recovery),
        RestoreMode::Merge,
        true,
    )
    .unwrap();
    let restored = s
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| e.issuer == "Bank")
        .unwrap();
    let code = s.next_hotp(restored.id).unwrap();
    assert!(
        !shown.contains(&code),
        "an HOTP code was shown twice: {code}"
    );
}

// ===== .prev, rollback and freshness =========================================================

/// A damaged first block (the magic overwritten) is damage like any other: the previous
/// generation opens, and says so (vault-format §9: "missing or damaged (framing …)").
#[test]
fn a_current_file_with_a_damaged_magic_falls_back_to_the_previous_generation() {
    let v = victim();
    let mut bytes = v.file();
    bytes[..4].copy_from_slice(&[0; 4]);
    std::fs::write(&v.path, &bytes).unwrap();
    let s = open_trusted(&v.path, &v.trust);
    let r = s.unlock_with_password(PASSWORD);
    assert!(
        matches!(r, Ok(info) if info.recovered_from_previous),
        "{r:?}"
    );
}

/// Regression: a file of a version this build does not know never falls back to `.prev`.
#[test]
fn a_newer_format_never_falls_back_to_the_previous_generation() {
    let v = victim();
    let mut bytes = v.file();
    bytes[4..6].copy_from_slice(&3u16.to_be_bytes());
    std::fs::write(&v.path, &bytes).unwrap();
    assert_eq!(
        open_trusted(&v.path, &v.trust).unlock_with_password(PASSWORD),
        Err(VaultError::UnsupportedVersion(3))
    );
}

/// Regression: a trust record of another vault refuses the file before any key derivation.
#[test]
fn a_record_of_another_vault_refuses_the_file() {
    let v = victim();
    let w = victim();
    assert_eq!(
        open_trusted(&v.path, &w.trust).unlock_with_password(PASSWORD),
        Err(VaultError::Forged)
    );
}

/// Regression: a former holder puts the generation from before a key rotation back as
/// `.prev` and damages the current file; the device does not fall back across the rotation.
#[test]
fn prev_from_before_a_rotation_is_not_a_fallback() {
    let v = victim();
    let old = v.file();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    s.remove_slot(v.bio_slot).unwrap();
    s.lock();
    let mut current = v.file();
    let i = current.len() - 10;
    current[i] ^= 1;
    std::fs::write(&v.path, &current).unwrap();
    // The old generation is the one right before the damaged file's: `.prev` "follows".
    std::fs::write(prev_path(&v.path), &old).unwrap();
    let s = open_trusted(&v.path, &v.trust);
    let r = s.unlock_with_platform_key(v.bio_slot, &BIO_KEY);
    assert!(r.is_err(), "{r:?}");
    let r = s.unlock_with_password(PASSWORD);
    assert!(
        !matches!(r, Ok(info) if info.recovered_from_previous),
        "{r:?}"
    );
}

/// Regression: a credential holder can write any generation; at 2^64 − 1 the next write is a
/// typed error, never a panic, and the file is not changed.
#[test]
fn the_last_generation_is_a_typed_error_not_a_panic() {
    let v = victim();
    let learned = learn(&v.file(), &SlotCredential::Password(PASSWORD));
    let mut h = v.header();
    h.generation = u64::MAX;
    h.succession = None;
    let mk = crypto::random_key(&rng()).unwrap();
    let keys: Vec<&SigningKey> = learned.signers.iter().collect();
    // Slots keep their endorsements (the signers are the vault's own).
    let file = seal_vault(h, &mk, &learned.content, &keys);
    std::fs::write(&v.path, &file).unwrap();
    let s = open_trusted(&v.path, &v.trust);
    s.unlock_with_password(PASSWORD).unwrap();
    let r = s.add_entry(totp("X", "y", "MZXW6YTBOI"), false);
    assert!(r.is_err(), "{r:?}");
    assert_eq!(v.file(), file);
}

// ===== PIN attempts ==========================================================================

/// Several wrong PINs at once (the API is `Send + Sync`; an app and its widget or autofill
/// extension share one record): no more than five may be tried in all.
#[test]
fn concurrent_wrong_pins_are_each_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    let device_key = [0x44u8; 32];
    let pin_slot = s
        .add_pin_slot("pin", b"135790", &device_key, b"pb".to_vec(), PIN_KDF)
        .unwrap();
    s.lock();
    let threads = 7;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            let session = open_trusted(&path, &trust);
            std::thread::spawn(move || {
                barrier.wait();
                session.unlock_with_pin(pin_slot, b"000000", &device_key)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wrong = results
        .iter()
        .filter(|r| **r == Err(VaultError::WrongCredential))
        .count();
    let failures = open_trusted(&path, &trust).pin_failures(pin_slot).unwrap();
    assert!(
        wrong <= 4 && failures >= 5,
        "{threads} wrong PINs at once: {wrong} reported wrong, {failures} counted: {results:?}"
    );
}

/// The record is missing (lost, or unreadable) and the current file is damaged, so `.prev`
/// is opened: the wrong PINs must still be limited (the code says it fails closed).
#[test]
fn wrong_pins_are_limited_when_the_record_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, _trust) = create_trusted(&path);
    let device_key = [0x44u8; 32];
    let pin_slot = s
        .add_pin_slot("pin", b"135790", &device_key, b"pb".to_vec(), PIN_KDF)
        .unwrap();
    s.add_entry(totp("A", "a", G), false).unwrap();
    s.lock();
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() - 10;
    bytes[i] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let fresh = Arc::new(MemoryTrustStore::new());
    let s = open_trusted(&path, &fresh);
    let wrong = (0..7)
        .map(|_| s.unlock_with_pin(pin_slot, b"000000", &device_key))
        .filter(|r| *r == Err(VaultError::WrongCredential))
        .count();
    assert!(wrong <= 4, "{wrong} wrong PINs tried without a limit");
}

// ===== bounded work ==========================================================================

/// A hostile current file (no record on this device) whose second password slot matches but
/// does not open makes the unlock fall back to `.prev`, which is tried in full again. The spec
/// (§6 step 4) bounds an unlock at two Argon2id runs; this one would run three different ones.
#[test]
fn a_hostile_current_file_cannot_double_the_key_derivations_through_prev() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _) = create(&path);
    s.add_password_slot(b"second", FAST, "b").unwrap();
    s.add_entry(totp("A", "a", G), false).unwrap();
    s.lock();
    let genuine = std::fs::read(&path).unwrap();
    let hostile = resign(&genuine, |h| {
        h.slots[0].kdf.as_mut().unwrap().salt = vec![0x99; 16];
        let second = h
            .slots
            .iter_mut()
            .filter(|s| s.kind == SlotKind::Password)
            .nth(1)
            .unwrap();
        second.endorsement = None;
        second.wrap.ciphertext[0] ^= 1;
    });
    std::fs::write(&path, &hostile).unwrap();
    let r = VaultSession::open(&path)
        .unwrap()
        .unlock_with_password(b"second");
    assert!(
        r.is_err(),
        "three distinct Argon2id runs in one unlock (two per file): {r:?}"
    );
}

/// Format 1 has no duplicate-id check: a hostile 0.1 file repeats the PIN slot the app asks
/// for. A PIN names one slot, so at most one Argon2id run (the sixth copy asks for 512 MiB:
/// reaching it means five runs happened).
#[test]
fn a_format_1_file_cannot_repeat_a_pin_slot_to_multiply_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let pin_id = [0x77u8; 16];
    let pin_slot = |m_kib: u32, n: u8| V1Slot {
        id: pin_id,
        kind: SlotKind::Pin,
        public_key: [n; 32],
        kdf: Some(SlotKdf {
            m_kib,
            t: 2,
            p: 1,
            salt: vec![n; 16],
        }),
        platform: Some(PlatformRef {
            alias: "pin".into(),
            blob: vec![],
        }),
    };
    let mut slots: Vec<V1Slot> = (1..=5).map(|n| pin_slot(FAST.m_kib, n)).collect();
    slots.push(pin_slot(512 * 1024, 6));
    std::fs::write(&path, v1_file([5; 16], 3, &slots, &VaultContent::new())).unwrap();
    let trust = Arc::new(MemoryTrustStore::new());
    let r = open_trusted(&path, &trust).unlock_with_pin(pin_id, b"123456", &[1; 32]);
    assert!(
        !matches!(r, Err(VaultError::HostileFile(_))),
        "five Argon2id runs for one PIN: {r:?}"
    );
}

/// §2: more than 16 signers is hostile (refused before any work), not merely damaged.
#[test]
fn more_than_sixteen_signers_is_a_hostile_file() {
    let v = victim();
    let keys: Vec<SigningKey> = (0..17u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let c = cut(&v.file());
    let mut header = c.header;
    for s in &mut header.slots {
        s.endorsement = None;
    }
    let file = assemble(VAULT_MAGIC, header, &c.nonce_and_body, &refs);
    let r = container::parse(&file, VAULT_MAGIC);
    assert!(
        matches!(r, Err(VaultError::HostileFile(_))),
        "{:?}",
        r.err()
    );
}

/// Regression: on a device with a record, a planted format 1 file is refused before any key
/// derivation, however much work it asks for.
#[test]
fn a_planted_format_1_file_is_refused_before_any_work_where_a_record_exists() {
    let v = victim();
    let h = v.header();
    let mut password_slot = V1Slot::from_v2(
        h.slots
            .iter()
            .find(|s| s.kind == SlotKind::Password)
            .unwrap(),
    );
    password_slot.kdf.as_mut().unwrap().m_kib = 1024 * 1024;
    std::fs::write(
        &v.path,
        v1_file(
            h.vault_id,
            h.generation + 1,
            &[password_slot],
            &VaultContent::new(),
        ),
    )
    .unwrap();
    let r = open_trusted(&v.path, &v.trust).unlock_with_password(PASSWORD);
    assert!(matches!(r, Err(VaultError::RolledBack { .. })), "{r:?}");
}

// ===== crash consistency of a credential change ==============================================

/// The final rename of a password change fails after `.prev` already holds the new
/// generation: the change is reported as failed, the vault still opens with the password it
/// had, the session goes on writing, and nothing is lost.
#[test]
fn a_credential_change_interrupted_before_the_final_rename_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, _, trust) = create_trusted(&path);
    s.add_entry(totp("A", "a", G), false).unwrap();
    s.lock();
    let faulty = Arc::new(FaultyFs::new(6, Fault::Eio));
    let env = twofold_core::vault::VaultEnv {
        fs: faulty.clone(),
        ..trusted_env(&trust)
    };
    let s = VaultSession::open_in(&path, env).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    assert!(s.change_password(b"new password", FAST).is_err());
    assert_eq!(faulty.log.lock().unwrap()[6], "rename");
    s.add_entry(totp("B", "b", "MZXW6YTBOI"), false).unwrap();
    s.lock();
    let s = open_trusted(&path, &trust);
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(s.entries().unwrap().len(), 2);
    assert_eq!(
        open_trusted(&path, &trust).unlock_with_password(b"new password"),
        Err(VaultError::WrongCredential)
    );
}

// ===== secrets in Debug and errors ===========================================================

/// Regression: what a verification or restore returns never prints a secret.
#[test]
fn backup_reports_never_print_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let (s, recovery, _) = create_trusted(&path);
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
    let bytes = std::fs::read(&file).unwrap();
    let opened = backup::open_backup(&bytes, &SlotCredential::Recovery(&recovery)).unwrap();
    let verified = backup::verify_backup_bytes(
        &bytes,
        &BackupCredential::Password(b"backup pw"),
        Some(&s.snapshot().unwrap().0),
    )
    .unwrap();
    let text = format!("{opened:?} {verified:?} {s:?} {:?}", s.slots().unwrap());
    let secret = Secret::from_base32(G).unwrap();
    assert!(!text.contains(G));
    assert!(!text.contains(&format!("{:?}", secret.expose())));
    assert!(!text.contains(recovery.reveal().as_str()));
    let _ = KdfParams::DEFAULT;
}
