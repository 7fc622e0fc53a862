//! The worked examples in docs/vault-format.md and docs/backup-format.md.
//!
//! Each example is generated here from fixed inputs (a seeded random source, a fixed clock and
//! password) and must equal the text in the document, so the documents cannot drift from the
//! code. Then the example file is checked and decrypted again by following the document's
//! steps with independent primitives alone (ring's Ed25519 and the RustCrypto HMAC, Argon2id,
//! HKDF-SHA256, X25519 and XChaCha20-Poly1305), without the container module, so the document
//! is a working specification.
//!
//! After a deliberate format change: `TWOFOLD_UPDATE_DOCS=1 cargo test --test format_examples`.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use common::*;
use hkdf::Hkdf;
use hmac::Mac;
use sha2::{Digest, Sha256};
use twofold_core::backup::{BackupOptions, create_backup};
use twofold_core::crypto::{KdfLimit, KdfParams};
use twofold_core::vault::container::{self, BACKUP_MAGIC, VAULT_MAGIC};
use twofold_core::vault::{
    CreateOptions, MemoryTrustStore, OsFileSystem, VaultContent, VaultEnv, VaultSession,
};

const SEED: &[u8] = b"twofold worked example v2";
const CLOCK_MS: i64 = 1_700_000_000_000;
const EXAMPLE_PASSWORD: &str = "correct horse battery staple";
const BACKUP_PASSWORD: &str = "backup passphrase";
const EXAMPLE_URI: &str =
    "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

fn env() -> VaultEnv {
    let (_, clock) = manual_clock(CLOCK_MS);
    VaultEnv {
        fs: Arc::new(OsFileSystem),
        rng: Arc::new(SeededRandom::new(SEED)),
        clock,
        trust: None,
        kdf_limit: KdfLimit::DEFAULT,
    }
}

fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The file's parts, by the document's framing rules (§1).
struct Framed {
    header: Vec<u8>,
    aad: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
    signed: Vec<u8>,
    signatures: Vec<[u8; 64]>,
}

fn frame(file: &[u8], signer_count: usize) -> Framed {
    let header_len = u32::from_be_bytes(file[6..10].try_into().unwrap()) as usize;
    let end = 10 + header_len;
    let body_end = file.len() - 64 * signer_count;
    Framed {
        header: file[10..end].to_vec(),
        aad: file[..end].to_vec(),
        nonce: file[end..end + 24].try_into().unwrap(),
        ciphertext: file[end + 24..body_end].to_vec(),
        signed: file[..body_end].to_vec(),
        signatures: file[body_end..]
            .chunks(64)
            .map(|c| c.try_into().unwrap())
            .collect(),
    }
}

/// §1: every signer's Ed25519 signature over `"twofold/v2/sign" ‖ everything before them`.
fn verify_signatures_by_hand(framed: &Framed, signers: &[[u8; 32]]) {
    let mut message = b"twofold/v2/sign".to_vec();
    message.extend_from_slice(&framed.signed);
    for (signer, signature) in signers.iter().zip(&framed.signatures) {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, signer)
            .verify(&message, signature)
            .expect("the documented signature verifies");
    }
}

/// §3.1: the slot key pair and the endorsement key from credential material.
fn slot_keys(ikm: &[u8], kind: &str) -> (x25519_dalek::StaticSecret, [u8; 32], [u8; 32]) {
    let sk = hkdf32(
        ikm,
        b"twofold/v1/slot",
        format!("twofold/v1/slot/{kind}").as_bytes(),
    );
    let secret = x25519_dalek::StaticSecret::from(sk);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    let endorse = hkdf32(
        ikm,
        b"twofold/v2/slot",
        format!("twofold/v2/endorse/{kind}").as_bytes(),
    );
    (secret, public, endorse)
}

fn kind_code(kind: twofold_core::vault::SlotKind) -> u8 {
    match kind {
        twofold_core::vault::SlotKind::Password => 1,
        twofold_core::vault::SlotKind::Platform => 2,
        twofold_core::vault::SlotKind::Recovery => 3,
        twofold_core::vault::SlotKind::Pin => 4,
    }
}

/// §3.4: the endorsement MAC, computed by hand; returns it.
fn endorsement_by_hand(vault_id: &[u8; 16], slot: &container::Slot, key: &[u8; 32]) -> [u8; 32] {
    let e = slot.endorsement.as_ref().expect("endorsed");
    let mut input = b"twofold/v2/endorse".to_vec();
    input.extend_from_slice(vault_id);
    input.extend_from_slice(&slot.id);
    input.push(kind_code(slot.kind));
    input.extend_from_slice(&slot.public_key);
    input.extend_from_slice(&e.signer);
    let mac = hmac_sha256(key, &input);
    assert_eq!(mac, e.mac, "the documented endorsement matches");
    mac
}

/// §3.3: unwraps the master key from a slot, by hand.
fn unwrap_by_hand(
    magic: &[u8; 4],
    header: &container::Header,
    slot_index: usize,
    secret: &x25519_dalek::StaticSecret,
) -> [u8; 32] {
    let slot = &header.slots[slot_index];
    let shared = secret
        .diffie_hellman(&x25519_dalek::PublicKey::from(slot.wrap.ephemeral))
        .to_bytes();
    let mut ikm = shared.to_vec();
    ikm.extend_from_slice(&slot.wrap.ephemeral);
    ikm.extend_from_slice(&slot.public_key);
    let kek = hkdf32(&ikm, &header.vault_id, b"twofold/v2/wrap");
    // Slot AAD as the document spells it out.
    let mut aad = b"twofold/v2/slot".to_vec();
    aad.extend_from_slice(magic);
    aad.extend_from_slice(&header.vault_id);
    aad.extend_from_slice(&slot.id);
    aad.push(kind_code(slot.kind));
    match &slot.kdf {
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
    let alias = slot.platform.as_ref().map_or("", |p| p.alias.as_str());
    aad.extend_from_slice(&(alias.len() as u32).to_be_bytes());
    aad.extend_from_slice(alias.as_bytes());
    aad.extend_from_slice(&slot.public_key);
    let cipher = XChaCha20Poly1305::new(&kek.into());
    let mk = cipher
        .decrypt(
            &XNonce::from(slot.wrap.nonce),
            Payload {
                msg: &slot.wrap.ciphertext,
                aad: &aad,
            },
        )
        .expect("the documented slot steps unwrap the master key");
    mk.try_into().unwrap()
}

/// §4: decrypts the body and strips its padding; returns (padded length, body).
fn open_body_by_hand(framed: &Framed, vault_id: &[u8; 16], mk: &[u8; 32]) -> (usize, Vec<u8>) {
    let body_key = hkdf32(mk, vault_id, b"twofold/v2/body");
    let padded = XChaCha20Poly1305::new(&body_key.into())
        .decrypt(
            &XNonce::from(framed.nonce),
            Payload {
                msg: &framed.ciphertext,
                aad: &framed.aad,
            },
        )
        .expect("the documented body steps decrypt the body");
    let len = u32::from_be_bytes(padded[..4].try_into().unwrap()) as usize;
    assert!(padded[4 + len..].iter().all(|b| *b == 0));
    (padded.len(), padded[4..4 + len].to_vec())
}

fn argon2id(password: &[u8], salt: &[u8], k: &container::SlotKdf) -> [u8; 32] {
    let params = argon2::Params::new(k.m_kib, k.t, k.p, Some(32)).unwrap();
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, salt, &mut out)
        .unwrap();
    out
}

/// The vault body as §4 documents it.
#[derive(serde::Deserialize)]
struct DocumentedVaultBody {
    content: VaultContent,
    signers: Vec<serde_bytes_buf::Buf>,
    slots: Vec<DocumentedSlotMeta>,
    #[allow(dead_code)]
    updated_at: i64,
}

#[derive(serde::Deserialize)]
struct DocumentedSlotMeta {
    #[allow(dead_code)]
    id: serde_bytes_buf::Buf,
    label: String,
    #[allow(dead_code)]
    created_at: i64,
}

/// The backup body as backup-format.md documents it.
#[derive(serde::Deserialize)]
struct DocumentedBackupBody {
    content: VaultContent,
    created_at: i64,
}

/// A MessagePack `bin`, read without the crate's helpers.
mod serde_bytes_buf {
    pub struct Buf(pub Vec<u8>);

    impl<'de> serde::Deserialize<'de> for Buf {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

/// The public key of an Ed25519 seed, by ring.
fn ed25519_public(seed: &[u8]) -> [u8; 32] {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
    pair.public_key().as_ref().try_into().unwrap()
}

struct Example {
    vault_text: String,
    backup_text: String,
}

fn generate() -> Example {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.twofold");
    let (session, recovery) = VaultSession::create_in(
        &path,
        CreateOptions {
            password: EXAMPLE_PASSWORD.as_bytes(),
            kdf: KdfParams::FLOOR,
        },
        env(),
    )
    .unwrap();
    let e = session.add_entry(entry(EXAMPLE_URI), false).unwrap();
    let file = std::fs::read(&path).unwrap();
    let parsed = container::parse(&file, VAULT_MAGIC).unwrap();
    let h = &parsed.header;
    let framed = frame(&file, h.signers.len());
    verify_signatures_by_hand(&framed, &h.signers);

    // Every intermediate value, recomputed by hand from the inputs.
    let pw_slot = &h.slots[0];
    let kdf = pw_slot.kdf.as_ref().unwrap();
    let stretched = argon2id(EXAMPLE_PASSWORD.as_bytes(), &kdf.salt, kdf);
    let (pw_secret, pw_public, pw_endorse) = slot_keys(&stretched, "password");
    assert_eq!(pw_public, pw_slot.public_key);
    let pw_mac = endorsement_by_hand(&h.vault_id, pw_slot, &pw_endorse);
    let mk = unwrap_by_hand(&VAULT_MAGIC, h, 0, &pw_secret);
    let recovery_bytes = {
        // The recovery key's 16 bytes are the base32 decoding of its first 26 characters.
        let text: String = recovery
            .reveal()
            .chars()
            .filter(|c| *c != '-')
            .take(26)
            .collect();
        twofold_core::uri::base32::decode(&text).unwrap()[..16].to_vec()
    };
    let (rec_secret, rec_public, rec_endorse) = slot_keys(&recovery_bytes, "recovery");
    assert_eq!(rec_public, h.slots[1].public_key);
    let rec_mac = endorsement_by_hand(&h.vault_id, &h.slots[1], &rec_endorse);
    assert_eq!(unwrap_by_hand(&VAULT_MAGIC, h, 1, &rec_secret), mk);
    let (padded_len, body) = open_body_by_hand(&framed, &h.vault_id, &mk);
    let decoded: DocumentedVaultBody = rmp_serde::from_slice(&body).unwrap();
    assert_eq!(decoded.content.entries.len(), 1);
    assert_eq!(decoded.slots[0].label, "password");
    assert_eq!(decoded.signers.len(), 1);
    let seed = &decoded.signers[0].0;
    assert_eq!(
        ed25519_public(seed),
        h.signers[0],
        "the body's seed is the signer's"
    );
    let body_key = hkdf32(&mk, &h.vault_id, b"twofold/v2/body");

    let mut t = String::new();
    writeln!(t, "Inputs:").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "- random bytes: SHA-256(`{}` ‖ counter as u64 big-endian), counter 0, 1, 2, … — one 32-byte block per draw, truncated to the size drawn", String::from_utf8_lossy(SEED)).unwrap();
    writeln!(
        t,
        "- clock: {CLOCK_MS} ms ({})",
        twofold_core::time::format_utc(CLOCK_MS)
    )
    .unwrap();
    writeln!(
        t,
        "- password: `{EXAMPLE_PASSWORD}`, Argon2id m = {} KiB, t = {}, p = {}",
        kdf.m_kib, kdf.t, kdf.p
    )
    .unwrap();
    writeln!(
        t,
        "- operations: create the vault, then add `{EXAMPLE_URI}`"
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Values (hex):").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```").unwrap();
    for (name, value) in [
        ("master key MK", hex(&mk)),
        ("vault_id", hex(&h.vault_id)),
        ("signing key seed", hex(seed)),
        ("signing public key", hex(&h.signers[0])),
        ("recovery key (printed)", recovery.reveal().to_string()),
        ("recovery key bytes", hex(&recovery_bytes)),
        ("password slot id", hex(&pw_slot.id)),
        ("password slot salt", hex(&kdf.salt)),
        ("Argon2id(password, salt)", hex(&stretched)),
        ("password slot public key", hex(&pw_public)),
        ("password endorsement key", hex(&pw_endorse)),
        ("password endorsement MAC", hex(&pw_mac)),
        ("password slot ephemeral", hex(&pw_slot.wrap.ephemeral)),
        ("password slot nonce", hex(&pw_slot.wrap.nonce)),
        ("password slot wrapped MK", hex(&pw_slot.wrap.ciphertext)),
        ("recovery slot public key", hex(&rec_public)),
        ("recovery endorsement MAC", hex(&rec_mac)),
        ("K_body", hex(&body_key)),
        ("body nonce", hex(&framed.nonce)),
        ("entry id", e.id.to_string()),
    ] {
        writeln!(t, "{name:<26} {value}").unwrap();
    }
    writeln!(t, "```").unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Header ({} bytes of MessagePack; generation {}):",
        framed.header.len(),
        h.generation
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&framed.header)).unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Decrypted body ({} bytes of MessagePack, padded to {} bytes before encryption):",
        body.len(),
        padded_len
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&body)).unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Signature ({} of {} bytes):",
        framed.signatures.len(),
        64
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&framed.signatures[0])).unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Complete file ({} bytes, SHA-256 {}):",
        file.len(),
        hex(&Sha256::digest(&file))
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&file)).unwrap();

    // The backup example continues from the same session and random stream.
    let backup_path = dir.path().join("example.twfb");
    create_backup(
        &session,
        &backup_path,
        &BackupOptions {
            password: Some(BACKUP_PASSWORD.as_bytes()),
            recovery: true,
            kdf: KdfParams::FLOOR,
        },
    )
    .unwrap();
    let bfile = std::fs::read(&backup_path).unwrap();
    let bparsed = container::parse(&bfile, BACKUP_MAGIC).unwrap();
    let bh = &bparsed.header;
    let bframed = frame(&bfile, bh.signers.len());
    assert_eq!(bh.origin, Some(h.vault_id));
    assert_eq!(bh.signers, h.signers, "signed by the vault's key");
    verify_signatures_by_hand(&bframed, &bh.signers);
    let bkdf = bh.slots[0].kdf.as_ref().unwrap();
    let bstretched = argon2id(BACKUP_PASSWORD.as_bytes(), &bkdf.salt, bkdf);
    let (bsecret, _, bendorse) = slot_keys(&bstretched, "password");
    // Endorsements in a backup are computed over the vault's id (`origin`).
    let bmac = endorsement_by_hand(&h.vault_id, &bh.slots[0], &bendorse);
    endorsement_by_hand(&h.vault_id, &bh.slots[1], &rec_endorse);
    let bmk = unwrap_by_hand(&BACKUP_MAGIC, bh, 0, &bsecret);
    assert_eq!(
        unwrap_by_hand(&BACKUP_MAGIC, bh, 1, &rec_secret),
        bmk,
        "the vault's recovery key opens the backup"
    );
    let (bpadded, bbody) = open_body_by_hand(&bframed, &bh.vault_id, &bmk);
    let bdecoded: DocumentedBackupBody = rmp_serde::from_slice(&bbody).unwrap();
    assert_eq!(
        bdecoded.content, decoded.content,
        "the backup holds the vault content"
    );
    assert_eq!(bdecoded.created_at, CLOCK_MS);

    let mut b = String::new();
    writeln!(b, "Inputs: the vault of the vault-format example, right after its entry was added (same random stream, same clock); backup password `{BACKUP_PASSWORD}` with Argon2id m = {} KiB, t = {}, p = {} (real backups use 256 MiB; the example uses the floor so the test stays fast); sealed to the vault's recovery key too.", bkdf.m_kib, bkdf.t, bkdf.p).unwrap();
    writeln!(b).unwrap();
    writeln!(b, "```").unwrap();
    for (name, value) in [
        ("backup master key", hex(&bmk)),
        ("backup id (vault_id)", hex(&bh.vault_id)),
        ("origin (the vault's id)", hex(&h.vault_id)),
        ("signer (the vault's key)", hex(&bh.signers[0])),
        ("password slot salt", hex(&bkdf.salt)),
        ("Argon2id(password, salt)", hex(&bstretched)),
        ("password endorsement MAC", hex(&bmac)),
        ("recovery slot public key", hex(&bh.slots[1].public_key)),
        ("body nonce", hex(&bframed.nonce)),
    ] {
        writeln!(b, "{name:<26} {value}").unwrap();
    }
    writeln!(b, "```").unwrap();
    writeln!(b).unwrap();
    writeln!(
        b,
        "Decrypted body ({} bytes of MessagePack, padded to {bpadded} bytes):",
        bbody.len()
    )
    .unwrap();
    writeln!(b).unwrap();
    writeln!(b, "```\n{}\n```", hex_block(&bbody)).unwrap();
    writeln!(b).unwrap();
    writeln!(
        b,
        "Complete file ({} bytes, SHA-256 {}):",
        bfile.len(),
        hex(&Sha256::digest(&bfile))
    )
    .unwrap();
    writeln!(b).unwrap();
    writeln!(b, "```\n{}\n```", hex_block(&bfile)).unwrap();
    Example {
        vault_text: t,
        backup_text: b,
    }
}

#[test]
fn documents_match_the_code_and_decrypt_by_their_own_steps() {
    let ex = generate();
    check_or_update("vault-format.md", "vault", &ex.vault_text);
    check_or_update("backup-format.md", "backup", &ex.backup_text);
}

/// The last hex block of a document section.
fn documented_file(doc: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/../docs/{doc}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let sec = section(&text, name);
    let block = sec.rsplit("```\n").nth(1).unwrap();
    unhex(&block.replace('\n', ""))
}

fn session_for(file: &[u8]) -> (tempfile::TempDir, VaultSession) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("doc.twofold");
    std::fs::write(&p, file).unwrap();
    let env = VaultEnv {
        trust: Some(Arc::new(MemoryTrustStore::new())),
        ..VaultEnv::default()
    };
    let s = VaultSession::open_in(&p, env).unwrap();
    (dir, s)
}

#[test]
fn the_documented_file_decrypts_from_its_hex_alone() {
    let file = documented_file("vault-format.md", "vault");
    assert_eq!(&file[..6], b"TWFV\x00\x02");
    let (_dir, s) = session_for(&file);
    s.unlock_with_password(EXAMPLE_PASSWORD.as_bytes()).unwrap();
    let entries = s.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].issuer, "Example");
    assert_eq!(entries[0].secret.to_base32(), "JBSWY3DPEHPK3PXP");
}

#[test]
fn the_format_1_example_kept_in_the_document_still_opens_and_upgrades() {
    let file = documented_file("vault-format.md", "vault-v1");
    assert_eq!(&file[..6], b"TWFV\x00\x01");
    let (dir, s) = session_for(&file);
    // Format 1 cannot be authenticated: the user accepts it once, and it becomes format 2.
    assert!(matches!(
        s.unlock_with_password(EXAMPLE_PASSWORD.as_bytes()),
        Err(twofold_core::vault::VaultError::Unverified(_))
    ));
    let info = s
        .unlock_with_password_accepting_untrusted(EXAMPLE_PASSWORD.as_bytes())
        .unwrap();
    assert_eq!(info.upgraded_from, Some(1));
    assert_eq!(
        s.entries().unwrap()[0].secret.to_base32(),
        "JBSWY3DPEHPK3PXP"
    );
    let upgraded = std::fs::read(dir.path().join("doc.twofold")).unwrap();
    assert_eq!(&upgraded[..6], b"TWFV\x00\x02");
}
