//! The worked example in docs/sync-protocol.md (§11).
//!
//! A one-device group is set up from fixed inputs (a seeded random source, a fixed clock), an
//! account is added and synced, and the snapshot file it writes must equal the text in the
//! document, so the document cannot drift from the code. Then the file is verified and
//! decrypted by following the document's steps with independent primitives alone (ring's
//! Ed25519, RustCrypto's HKDF-SHA256, X25519 and XChaCha20-Poly1305, miniz_oxide's inflate and
//! a MessagePack reader of this file's own) — never through `twofold_core::sync` — both for the
//! generated file and for the hex printed in the document.
//!
//! It also checks what the storage sees of a group (§4.2): no names, and sizes that do not
//! tell how many accounts there are.
//!
//! After a deliberate format change:
//! `TWOFOLD_UPDATE_DOCS=1 cargo test -p twofold-core --test sync_format_examples`.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
mod sync_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use common::*;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use twofold_core::crypto::{KdfLimit, KdfParams};
use twofold_core::sync::{self, MemoryStorage, StorageConfig};
use twofold_core::vault::{CreateOptions, OsFileSystem, VaultEnv, VaultSession};

const SEED: &[u8] = b"twofold sync worked example";
const CLOCK_MS: i64 = 1_700_000_000_000;
const DEVICE_NAME: &str = "phone";
const EXAMPLE_URI: &str =
    "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

// ----- a MessagePack reader of our own (the document's encoding, not the crate's types) -----

#[derive(Debug, Clone, PartialEq)]
enum V {
    Nil,
    Bool(bool),
    Int(i128),
    Str(String),
    Bin(Vec<u8>),
    Arr(Vec<V>),
    Map(Vec<(V, V)>),
}

impl<'de> serde::Deserialize<'de> for V {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        struct Vis;
        impl<'de> serde::de::Visitor<'de> for Vis {
            type Value = V;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a MessagePack value")
            }
            fn visit_unit<E>(self) -> Result<V, E> {
                Ok(V::Nil)
            }
            fn visit_none<E>(self) -> Result<V, E> {
                Ok(V::Nil)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<V, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<V, E> {
                Ok(V::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<V, E> {
                Ok(V::Int(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<V, E> {
                Ok(V::Int(n.into()))
            }
            fn visit_str<E>(self, s: &str) -> Result<V, E> {
                Ok(V::Str(s.into()))
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<V, E> {
                Ok(V::Bin(b.to_vec()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<V, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(V::Arr(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<V, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry()? {
                    out.push((k, v));
                }
                Ok(V::Map(out))
            }
        }
        d.deserialize_any(Vis)
    }
}

impl V {
    fn parse(bytes: &[u8]) -> V {
        rmp_serde::from_slice(bytes).expect("MessagePack")
    }
    fn get(&self, key: &str) -> &V {
        match self {
            V::Map(m) => m
                .iter()
                .find(|(k, _)| *k == V::Str(key.into()))
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no field {key}")),
            _ => panic!("not a map looking for {key}"),
        }
    }
    fn keys(&self) -> Vec<String> {
        match self {
            V::Map(m) => m
                .iter()
                .map(|(k, _)| match k {
                    V::Str(s) => s.clone(),
                    other => format!("{other:?}"),
                })
                .collect(),
            _ => panic!("not a map"),
        }
    }
    fn bin(&self) -> &[u8] {
        match self {
            V::Bin(b) => b,
            other => panic!("not bin: {other:?}"),
        }
    }
    fn b32(&self) -> [u8; 32] {
        self.bin().try_into().expect("32 bytes")
    }
    fn int(&self) -> i128 {
        match self {
            V::Int(n) => *n,
            other => panic!("not an int: {other:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            V::Str(s) => s,
            other => panic!("not a str: {other:?}"),
        }
    }
    fn arr(&self) -> &[V] {
        match self {
            V::Arr(a) => a,
            other => panic!("not an array: {other:?}"),
        }
    }
}

// ----- the document's steps, with independent primitives -----

fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .unwrap();
    out
}

fn ed25519_verify(public: &[u8; 32], message: &[u8], signature: &[u8]) {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(message, signature)
        .expect("the documented signature verifies");
}

fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
    pair.public_key().as_ref().try_into().unwrap()
}

/// §3.1: a device tag.
fn devtag(key: &[u8; 32]) -> u64 {
    let d = Sha256::digest([b"twofold/sync/1 devtag".as_slice(), key].concat());
    u64::from_be_bytes(d[..8].try_into().unwrap())
}

/// §3.1: the device's X25519 key pair from its 32-byte key-exchange seed.
fn kx_pair(kx_seed: &[u8; 32]) -> (x25519_dalek::StaticSecret, [u8; 32]) {
    let sk = hkdf32(kx_seed, b"twofold/v1/slot", b"twofold/v1/slot/sync-device");
    let secret = x25519_dalek::StaticSecret::from(sk);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// §3.2: an epoch id as 12 bytes.
fn epoch_bytes(epoch: &V) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&(epoch.get("n").int() as u32).to_be_bytes());
    b[4..].copy_from_slice(&(epoch.get("by").int() as u64).to_be_bytes());
    b
}

/// §4.4: Padmé above 4096 bytes.
fn padme(len: usize) -> usize {
    if len <= 4096 {
        return 4096;
    }
    let e = (len as f64).log2().floor() as u32;
    let s = (e as f64).log2().floor() as u32 + 1;
    let step = 1usize << (e - s);
    len.div_ceil(step) * step
}

/// Everything the document's steps produce from a file and the reader's key-exchange seed.
struct ByHand {
    header_bytes: Vec<u8>,
    header: V,
    rotation: V,
    signature: Vec<u8>,
    kx_public: [u8; 32],
    shared: [u8; 32],
    kek: [u8; 32],
    epoch_key: [u8; 32],
    body_key: [u8; 32],
    padded_len: usize,
    deflated_len: usize,
    body_bytes: Vec<u8>,
    body: V,
}

fn by_hand(file: &[u8], kx_seed: &[u8; 32]) -> ByHand {
    // §4.1 framing.
    assert_eq!(&file[..4], b"TWFS");
    assert_eq!(u16::from_be_bytes([file[4], file[5]]), 1);
    let header_len = u32::from_be_bytes(file[6..10].try_into().unwrap()) as usize;
    let end = 10 + header_len;
    let split = file.len() - 64;
    let header_bytes = file[10..end].to_vec();
    let header = V::parse(&header_bytes);
    assert_eq!(
        header.keys(),
        [
            "group",
            "writer",
            "generation",
            "epoch",
            "nonce",
            "rotation",
            "revocations"
        ]
    );
    // §4.3 signature first.
    let writer = header.get("writer").b32();
    let signature = file[split..].to_vec();
    ed25519_verify(
        &writer,
        &[b"twofold/sync/1 file".as_slice(), &file[..split]].concat(),
        &signature,
    );
    let group = header.get("group").bin().to_vec();
    let epoch = header.get("epoch");
    // §3.3: the rotation in the header, its signature, and the wrap to this reader.
    let signed = header.get("rotation");
    let rotation_body = signed.get("body").bin();
    let rotation = V::parse(rotation_body);
    let rotator = rotation.get("by").b32();
    ed25519_verify(
        &rotator,
        &[b"twofold/sync/1 rotation".as_slice(), rotation_body].concat(),
        signed.get("sig").bin(),
    );
    assert_eq!(rotation.get("group").bin(), group.as_slice());
    assert_eq!(rotation.get("epoch"), epoch);
    assert_eq!(
        rotation.get("epoch").get("by").int() as u64,
        devtag(&rotator)
    );
    let (kx_secret, kx_public) = kx_pair(kx_seed);
    let me = devtag(&writer); // the example's only device reads its own file
    let wrap = rotation
        .get("wraps")
        .arr()
        .iter()
        .find(|w| w.get("to").int() as u64 == me)
        .expect("a wrap to this device");
    let ephemeral = wrap.get("ephemeral").b32();
    let shared = kx_secret
        .diffie_hellman(&x25519_dalek::PublicKey::from(ephemeral))
        .to_bytes();
    let eb = epoch_bytes(epoch);
    let kek = hkdf32(
        &shared,
        &group,
        &[
            b"twofold/sync/1 epoch key wrap".as_slice(),
            &eb,
            &ephemeral,
            &kx_public,
        ]
        .concat(),
    );
    let epoch_key: [u8; 32] = XChaCha20Poly1305::new(&kek.into())
        .decrypt(
            &XNonce::from([0u8; 24]),
            Payload {
                msg: wrap.get("ciphertext").bin(),
                aad: &eb,
            },
        )
        .expect("the documented wrap opens")
        .try_into()
        .unwrap();
    let check = Sha256::digest(
        [
            b"twofold/sync/1 key check".as_slice(),
            &group,
            &eb,
            &epoch_key,
        ]
        .concat(),
    );
    assert_eq!(check.as_slice(), rotation.get("key_check").bin());
    // §4.4: the body.
    let body_key = hkdf32(
        &epoch_key,
        &group,
        &[b"twofold/sync/1 body".as_slice(), &eb].concat(),
    );
    let nonce: [u8; 24] = header.get("nonce").bin().try_into().unwrap();
    let padded = XChaCha20Poly1305::new(&body_key.into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &file[end..split],
                aad: &file[..end],
            },
        )
        .expect("the documented body steps decrypt the body");
    assert_eq!(padded[0], 1, "raw DEFLATE");
    let deflated_len = u32::from_be_bytes(padded[1..5].try_into().unwrap()) as usize;
    assert_eq!(padded.len(), padme(5 + deflated_len));
    assert!(padded[5 + deflated_len..].iter().all(|b| *b == 0));
    let body_bytes = miniz_oxide::inflate::decompress_to_vec(&padded[5..5 + deflated_len]).unwrap();
    let body = V::parse(&body_bytes);
    assert_eq!(
        body.keys(),
        [
            "written_at",
            "clock",
            "statements",
            "rotations",
            "seen",
            "doc"
        ]
    );
    ByHand {
        header_bytes,
        header,
        rotation,
        signature,
        kx_public,
        shared,
        kek,
        epoch_key,
        body_key,
        padded_len: padded.len(),
        deflated_len,
        body_bytes,
        body,
    }
}

/// §5: the example's one entry, read from the decrypted body.
fn check_entry(h: &ByHand) {
    let doc = h.body.get("doc");
    assert_eq!(doc.keys(), ["e", "x", "g", "gx", "r", "k"]);
    let entries = doc.get("e").arr();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    let otp = e.get("o").arr();
    assert_eq!(otp.len(), 3, "[stamp, prev, value]");
    assert_eq!(otp[2].get("x").bin(), b"Hello!\xde\xad\xbe\xef");
    assert_eq!(otp[2].get("k").get("type").str(), "totp");
    assert_eq!(e.get("i").arr()[2].str(), "Example");
    assert_eq!(e.get("a").arr()[2].str(), "alice@example.com");
    // The stamp: [clock value, device tag]; the writer's tag.
    let writer = h.header.get("writer").b32();
    assert_eq!(otp[0].arr()[1].int() as u64, devtag(&writer));
    // The genesis statement: the founder adds itself.
    let statements = h.body.get("statements").arr();
    assert_eq!(statements.len(), 1);
    let sbody = statements[0].get("body").bin();
    ed25519_verify(
        &writer,
        &[b"twofold/sync/1 statement".as_slice(), sbody].concat(),
        statements[0].get("sig").bin(),
    );
    let add = V::parse(sbody);
    let add = add.get("Add");
    assert_eq!(add.get("device").get("key").b32(), writer);
    assert_eq!(add.get("by").b32(), writer);
    assert_eq!(add.get("device").get("kx").b32(), h.kx_public);
    assert_eq!(add.get("device").get("name").str(), DEVICE_NAME);
}

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

fn generate() -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.twofold");
    let (clock, clock_fn) = manual_clock(CLOCK_MS);
    let (session, _) = VaultSession::create_in(
        &path,
        CreateOptions {
            password: PASSWORD,
            kdf: KdfParams::FLOOR,
        },
        VaultEnv {
            clock: clock_fn,
            ..env()
        },
    )
    .unwrap();
    let storage = MemoryStorage::new();
    sync::setup(
        &session,
        StorageConfig::Folder {
            path: "/home/alice/Sync/twofold".into(),
        },
        &storage,
        DEVICE_NAME,
    )
    .unwrap();
    clock.fetch_add(60_000, std::sync::atomic::Ordering::SeqCst);
    session.add_entry(entry(EXAMPLE_URI), false).unwrap();
    clock.fetch_add(1_000, std::sync::atomic::Ordering::SeqCst);
    let report = sync::sync(&session, &storage).unwrap();
    let (name, _) = report.written.clone().expect("a file");
    assert_eq!(report.generation, 2);
    let file = storage.get(&name).unwrap();
    let state = sync::state_of(&session).unwrap();

    let h = by_hand(&file, &state.kx_seed.0);
    check_entry(&h);
    // What the document's steps found is what the code holds.
    let writer = h.header.get("writer").b32();
    assert_eq!(writer, ed25519_public(&state.signing_seed.0));
    assert_eq!(writer, state.me());
    assert_eq!(name, format!("d-{:016x}-2.twfs", devtag(&writer)));
    assert_eq!(state.epochs.len(), 1);
    let (epoch, key) = state.epochs.iter().next().unwrap();
    assert_eq!(key.0, h.epoch_key);
    assert_eq!(h.header.get("group").bin(), state.group.as_slice());
    let names = storage.names();
    assert_eq!(names.len(), 2, "generations 1 and 2 are kept: {names:?}");

    let mut t = String::new();
    writeln!(t, "Inputs:").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "- random bytes: SHA-256(`{}` ‖ counter as u64 big-endian), counter 0, 1, 2, … — one 32-byte block per draw, truncated to the size drawn (the vault's own keys draw first)", String::from_utf8_lossy(SEED)).unwrap();
    writeln!(
        t,
        "- clock: {CLOCK_MS} ms ({}) at `sync setup`; the account is added 60 s later and `sync` runs 1 s after that",
        twofold_core::time::format_utc(CLOCK_MS)
    )
    .unwrap();
    writeln!(
        t,
        "- operations: create a vault, `sync setup` as device `{DEVICE_NAME}` (writes generation 1), add `{EXAMPLE_URI}`, `sync` (writes generation 2, shown here)"
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Values (hex):").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```").unwrap();
    let rotation_wrap = &h.rotation.get("wraps").arr()[0];
    for (label, value) in [
        ("file name", name.clone()),
        ("group", hex(&state.group)),
        ("signing key seed", hex(&state.signing_seed.0)),
        ("signing public key (writer)", hex(&writer)),
        ("device tag", format!("{:016x}", devtag(&writer))),
        ("key-exchange seed", hex(&state.kx_seed.0)),
        ("X25519 public key (kx)", hex(&h.kx_public)),
        ("epoch", format!("n = {}, by = {:016x}", epoch.n, epoch.by)),
        ("wrap ephemeral", hex(rotation_wrap.get("ephemeral").bin())),
        ("X25519 shared secret", hex(&h.shared)),
        ("wrap KEK", hex(&h.kek)),
        ("epoch key", hex(&h.epoch_key)),
        ("key check", hex(h.rotation.get("key_check").bin())),
        ("K_body", hex(&h.body_key)),
        ("body nonce", hex(h.header.get("nonce").bin())),
    ] {
        writeln!(t, "{label:<28} {value}").unwrap();
    }
    writeln!(t, "```").unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Header ({} bytes of MessagePack; generation {}, the rotation of epoch {} inside):",
        h.header_bytes.len(),
        h.header.get("generation").int(),
        epoch.n
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&h.header_bytes)).unwrap();
    writeln!(t).unwrap();
    writeln!(
        t,
        "Decrypted body: {} bytes of MessagePack, deflated to {} bytes, padded to {} bytes before encryption:",
        h.body_bytes.len(),
        h.deflated_len,
        h.padded_len
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&h.body_bytes)).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Signature:").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", hex_block(&h.signature)).unwrap();
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
    t
}

#[test]
fn the_sync_document_matches_the_code_and_decrypts_by_its_own_steps() {
    check_or_update("sync-protocol.md", "sync", &generate());
}

/// The documented values of a `label value` line and the last hex block of the example.
fn documented() -> (BTreeMap<String, String>, Vec<u8>) {
    let path = format!("{}/../docs/sync-protocol.md", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let sec = section(&text, "sync");
    let values_block = sec.split("```\n").nth(1).unwrap();
    let values = values_block
        .lines()
        .filter_map(|l| {
            let (k, v) = l.rsplit_once("  ")?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    let block = sec.rsplit("```\n").nth(1).unwrap();
    (values, unhex(&block.replace('\n', "")))
}

#[test]
fn the_documented_file_verifies_and_decrypts_from_its_hex_alone() {
    let (values, file) = documented();
    let kx_seed: [u8; 32] = unhex(&values["key-exchange seed"]).try_into().unwrap();
    let h = by_hand(&file, &kx_seed);
    check_entry(&h);
    assert_eq!(hex(&h.epoch_key), values["epoch key"]);
    assert_eq!(
        format!("{:016x}", devtag(&h.header.get("writer").b32())),
        values["device tag"]
    );
    // A flipped byte anywhere fails the signature (§4.3), before any decryption.
    for i in [0, 11, file.len() / 2, file.len() - 65, file.len() - 1] {
        let mut bad = file.clone();
        bad[i] ^= 1;
        let split = bad.len() - 64;
        let writer: [u8; 32] = h.header.get("writer").b32();
        let message = [b"twofold/sync/1 file".as_slice(), &bad[..split]].concat();
        assert!(
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &writer)
                .verify(&message, &bad[split..])
                .is_err(),
            "byte {i}"
        );
    }
}

/// What a storage operator (a WebDAV server, a cloud folder) sees: opaque names, the clear
/// header of §4.2 and padded sizes. Device names, issuers and accounts never appear, also in
/// the clear revocations, and one account or twenty-five give files of the same size.
#[test]
fn the_storage_sees_no_names_and_sizes_hide_the_entry_count() {
    let storage = MemoryStorage::new();
    let names = ["Alice's phone", "Work desktop", "Old tablet"];
    let [a, b, _c]: [sync_support::Device; 3] = sync_support::group(&names, &storage)
        .try_into()
        .ok()
        .unwrap();
    let newest_size = |d: &sync_support::Device| {
        let name = sync_support::files_of(d, &storage).pop().unwrap();
        storage.get(&name).unwrap().len()
    };
    a.add("Private-Issuer-0", &[1; 20]);
    a.sync(&storage);
    let one = newest_size(&a);
    for i in 1..25u8 {
        a.add(&format!("Private-Issuer-{i}"), &[i + 1; 20]);
    }
    a.sync(&storage);
    assert_eq!(newest_size(&a), one, "1 and 25 accounts look the same");
    sync::revoke(&a.session, "Old tablet").unwrap();
    a.sync(&storage);
    b.sync(&storage);
    let mut secrets: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
    secrets.push(b"Private-Issuer".to_vec());
    secrets.push(b"alice".to_vec());
    let files = storage.names();
    assert!(files.len() >= 3, "{files:?}");
    let mut saw_revocation = false;
    for f in &files {
        assert!(twofold_core::sync::file::parse_name(f).is_some(), "{f}");
        let bytes = storage.get(f).unwrap();
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_slice()),
                "{f} shows {:?}",
                String::from_utf8_lossy(s)
            );
        }
        let header_len = u32::from_be_bytes(bytes[6..10].try_into().unwrap()) as usize;
        let header = V::parse(&bytes[10..10 + header_len]);
        saw_revocation |= !header.get("revocations").arr().is_empty();
    }
    assert!(
        saw_revocation,
        "the revocation travels in the clear headers"
    );
}
