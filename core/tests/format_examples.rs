//! The worked examples in docs/vault-format.md and docs/backup-format.md.
//!
//! Each example is generated here from fixed inputs (a seeded random source, a fixed clock and
//! password) and must equal the text in the document, so the documents cannot drift from the
//! code. Then the example file is decrypted again by following the document's steps with the
//! primitives alone (Argon2id, HKDF-SHA256, X25519, XChaCha20-Poly1305), without the
//! container module, so the document is a working specification.
//!
//! After a deliberate format change: `TWOFOLD_UPDATE_DOCS=1 cargo test --test format_examples`.

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use common::*;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use twofold_core::backup::{BackupOptions, create_backup};
use twofold_core::crypto::KdfParams;
use twofold_core::vault::container::{self, BACKUP_MAGIC, VAULT_MAGIC};
use twofold_core::vault::{CreateOptions, OsFileSystem, VaultEnv, VaultSession};

const SEED: &[u8] = b"twofold worked example";
const CLOCK_MS: i64 = 1_700_000_000_000;
const EXAMPLE_PASSWORD: &str = "correct horse battery staple";
const BACKUP_PASSWORD: &str = "backup passphrase";
const EXAMPLE_URI: &str =
    "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_block(b: &[u8]) -> String {
    hex(b)
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn env() -> VaultEnv {
    let (_, clock) = manual_clock(CLOCK_MS);
    VaultEnv {
        fs: Arc::new(OsFileSystem),
        rng: Arc::new(SeededRandom::new(SEED)),
        clock,
    }
}

fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

/// The file's parts, by the document's framing rules.
struct Framed {
    header: Vec<u8>,
    aad: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

fn frame(file: &[u8]) -> Framed {
    let header_len = u32::from_be_bytes(file[6..10].try_into().unwrap()) as usize;
    let end = 10 + header_len;
    Framed {
        header: file[10..end].to_vec(),
        aad: file[..end].to_vec(),
        nonce: file[end..end + 24].try_into().unwrap(),
        ciphertext: file[end + 24..].to_vec(),
    }
}

/// Derives the slot key pair from credential material per the document.
fn slot_keys(ikm: &[u8], kind: &str) -> (x25519_dalek::StaticSecret, [u8; 32]) {
    let sk = hkdf32(
        ikm,
        b"twofold/v1/slot",
        format!("twofold/v1/slot/{kind}").as_bytes(),
    );
    let secret = x25519_dalek::StaticSecret::from(sk);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// Unwraps the master key from a slot, by hand.
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
    let kek = hkdf32(&ikm, &header.vault_id, b"twofold/v1/wrap");
    // Slot AAD as the document spells it out.
    let mut aad = b"twofold/v1/slot".to_vec();
    aad.extend_from_slice(magic);
    aad.extend_from_slice(&header.vault_id);
    aad.extend_from_slice(&slot.id);
    aad.push(match slot.kind {
        twofold_core::vault::SlotKind::Password => 1,
        twofold_core::vault::SlotKind::Platform => 2,
        twofold_core::vault::SlotKind::Recovery => 3,
        twofold_core::vault::SlotKind::Pin => 4,
    });
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

fn open_body_by_hand(framed: &Framed, vault_id: &[u8; 16], mk: &[u8; 32]) -> Vec<u8> {
    let body_key = hkdf32(mk, vault_id, b"twofold/v1/body");
    XChaCha20Poly1305::new(&body_key.into())
        .decrypt(
            &XNonce::from(framed.nonce),
            Payload {
                msg: &framed.ciphertext,
                aad: &framed.aad,
            },
        )
        .expect("the documented body steps decrypt the body")
}

fn argon2id(password: &[u8], salt: &[u8], k: &container::SlotKdf) -> [u8; 32] {
    let params = argon2::Params::new(k.m_kib, k.t, k.p, Some(32)).unwrap();
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, salt, &mut out)
        .unwrap();
    out
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
    let framed = frame(&file);
    let parsed = container::parse(&file, VAULT_MAGIC).unwrap();
    let h = &parsed.header;

    // Every intermediate value, recomputed by hand from the inputs.
    let pw_slot = &h.slots[0];
    let kdf = pw_slot.kdf.as_ref().unwrap();
    let stretched = argon2id(EXAMPLE_PASSWORD.as_bytes(), &kdf.salt, kdf);
    let (pw_secret, pw_public) = slot_keys(&stretched, "password");
    assert_eq!(pw_public, pw_slot.public_key);
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
    let (rec_secret, rec_public) = slot_keys(&recovery_bytes, "recovery");
    assert_eq!(rec_public, h.slots[1].public_key);
    assert_eq!(unwrap_by_hand(&VAULT_MAGIC, h, 1, &rec_secret), mk);
    let body = open_body_by_hand(&framed, &h.vault_id, &mk);
    let body_key = hkdf32(&mk, &h.vault_id, b"twofold/v1/body");

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
        ("recovery key (printed)", recovery.reveal().to_string()),
        ("recovery key bytes", hex(&recovery_bytes)),
        ("password slot id", hex(&pw_slot.id)),
        ("password slot salt", hex(&kdf.salt)),
        ("Argon2id(password, salt)", hex(&stretched)),
        ("password slot public key", hex(&pw_public)),
        ("password slot ephemeral", hex(&pw_slot.wrap.ephemeral)),
        ("password slot nonce", hex(&pw_slot.wrap.nonce)),
        ("password slot wrapped MK", hex(&pw_slot.wrap.ciphertext)),
        ("recovery slot public key", hex(&rec_public)),
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
    writeln!(t, "Decrypted body ({} bytes of MessagePack):", body.len()).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&body)).unwrap();
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
    let bframed = frame(&bfile);
    let bparsed = container::parse(&bfile, BACKUP_MAGIC).unwrap();
    let bh = &bparsed.header;
    let bkdf = bh.slots[0].kdf.as_ref().unwrap();
    let bstretched = argon2id(BACKUP_PASSWORD.as_bytes(), &bkdf.salt, bkdf);
    let (bsecret, _) = slot_keys(&bstretched, "password");
    let bmk = unwrap_by_hand(&BACKUP_MAGIC, bh, 0, &bsecret);
    assert_eq!(
        unwrap_by_hand(&BACKUP_MAGIC, bh, 1, &rec_secret),
        bmk,
        "the vault's recovery key opens the backup"
    );
    let bbody = open_body_by_hand(&bframed, &bh.vault_id, &bmk);
    assert_eq!(bbody, body, "the backup body is the vault content");

    let mut b = String::new();
    writeln!(b, "Inputs: the vault of the vault-format example, right after its entry was added (same random stream, same clock); backup password `{BACKUP_PASSWORD}` with Argon2id m = {} KiB, t = {}, p = {} (real backups use 256 MiB; the example uses the floor so the test stays fast); sealed to the vault's recovery key too.", bkdf.m_kib, bkdf.t, bkdf.p).unwrap();
    writeln!(b).unwrap();
    writeln!(b, "```").unwrap();
    for (name, value) in [
        ("backup master key", hex(&bmk)),
        ("backup id (vault_id)", hex(&bh.vault_id)),
        ("password slot salt", hex(&bkdf.salt)),
        ("Argon2id(password, salt)", hex(&bstretched)),
        ("recovery slot public key", hex(&bh.slots[1].public_key)),
        ("body nonce", hex(&bframed.nonce)),
    ] {
        writeln!(b, "{name:<26} {value}").unwrap();
    }
    writeln!(b, "```").unwrap();
    writeln!(b).unwrap();
    writeln!(b, "The decrypted body is byte for byte the vault example's body. Complete file ({} bytes, SHA-256 {}):", bfile.len(), hex(&Sha256::digest(&bfile))).unwrap();
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

#[test]
fn the_documented_file_decrypts_from_its_hex_alone() {
    // Read the complete file back out of the document and open it with the password.
    let doc = std::fs::read_to_string(format!(
        "{}/../docs/vault-format.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let sec = section(&doc, "vault");
    let block = sec.rsplit("```\n").nth(1).unwrap();
    let file = unhex(&block.replace('\n', ""));
    assert_eq!(&file[..4], b"TWFV");
    let s = VaultSession::open_in(
        &{
            let dir = tempfile::tempdir().unwrap().keep();
            let p = dir.join("doc.twofold");
            std::fs::write(&p, &file).unwrap();
            p
        },
        VaultEnv::default(),
    )
    .unwrap();
    s.unlock_with_password(EXAMPLE_PASSWORD.as_bytes()).unwrap();
    let entries = s.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].issuer, "Example");
    assert_eq!(entries[0].secret.to_base32(), "JBSWY3DPEHPK3PXP");
}
