//! Vault costs, split the way a user feels them: unlocking = KDF + decrypt/deserialize, and
//! saving = serialize/encrypt + durable atomic write. For 10, 1 000 and 10 000 entries.
//! `scripts/bench-vault.py` adds peak memory and the Argon2id comparison with the C reference.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use twofold_core::Secret;
use twofold_core::crypto::{self, KdfParams, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::vault::RecoveryKey;
use twofold_core::vault::container::{self, Header, VAULT_MAGIC};
use twofold_core::vault::model::{Entry, Id, VaultContent};
use twofold_core::vault::slots::{self, NewSlot};
use twofold_core::vault::storage::{self, OsFileSystem};

fn content(n: usize) -> VaultContent {
    let mut c = VaultContent::new();
    for i in 0..n {
        let key: Vec<u8> = (0..20).map(|j| (i * 31 + j) as u8).collect();
        let mut e = Entry::new(
            Id::from_random([(i % 251) as u8; 16]),
            OtpKind::DEFAULT_TOTP,
            Secret::from_bytes(key).unwrap(),
            format!("Service number {i}"),
            format!("user{i}@example.com"),
            1_700_000_000_000,
            i as i64 * 1024,
        );
        e.favorite = i % 10 == 0;
        c.entries.push(e);
    }
    c
}

/// A header with one (recovery) slot endorsing the signer, as small as a real one.
fn header(mk: &crypto::Key32, signer: &crypto::SigningKey, rng: &SystemRandom) -> Header {
    let recovery = RecoveryKey::generate(rng).unwrap();
    let (mut slot, secrets) =
        slots::create_slot(VAULT_MAGIC, &[7; 16], NewSlot::Recovery(&recovery), mk, rng).unwrap();
    container::endorse(&mut slot, &[7; 16], &secrets.endorse_key, signer.public());
    Header {
        vault_id: [7; 16],
        generation: 1,
        origin: None,
        signers: vec![signer.public()],
        succession: None,
        slots: vec![slot],
    }
}

/// A sealed file of `data` (the body as the vault writes it: MessagePack, padded).
fn seal(
    header: &Header,
    mk: &crypto::Key32,
    signer: &crypto::SigningKey,
    data: &VaultContent,
    rng: &SystemRandom,
) -> Vec<u8> {
    let body = rmp_serde::to_vec_named(data).unwrap();
    container::seal_file(VAULT_MAGIC, header, mk, &body, &[signer], rng).unwrap()
}

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let mk = crypto::random_key(&rng).unwrap();
    let signer = crypto::SigningKey::generate(&rng).unwrap();
    let header = header(&mk, &signer, &rng);

    let mut kdf = c.benchmark_group("unlock_kdf");
    kdf.sample_size(10);
    for (name, p) in [
        ("default_64MiB_t3", KdfParams::DEFAULT),
        ("floor_19MiB_t2", KdfParams::FLOOR),
    ] {
        kdf.bench_function(name, |b| {
            b.iter(|| crypto::argon2id(black_box(b"password"), &[1u8; 16], p).unwrap())
        });
    }
    kdf.finish();

    let mut open = c.benchmark_group("unlock_decrypt_deserialize");
    for n in [10usize, 1_000, 10_000] {
        let data = content(n);
        let bytes = seal(&header, &mk, &signer, &data, &rng);
        open.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| {
                // Signature check, decryption and deserialization.
                let parsed = container::parse(bytes, VAULT_MAGIC).unwrap();
                let plain = container::open_body(&parsed, &mk).unwrap();
                rmp_serde::from_slice::<VaultContent>(&plain).unwrap()
            })
        });
    }
    open.finish();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.twofold");
    let mut save = c.benchmark_group("save");
    save.sample_size(20);
    for n in [10usize, 1_000, 10_000] {
        let data = content(n);
        save.bench_with_input(BenchmarkId::new("seal", n), &data, |b, data| {
            b.iter(|| seal(&header, &mk, &signer, data, &rng))
        });
        save.bench_with_input(
            BenchmarkId::new("seal_and_atomic_write", n),
            &data,
            |b, data| {
                b.iter(|| {
                    let bytes = seal(&header, &mk, &signer, data, &rng);
                    storage::commit(&OsFileSystem, &path, &bytes, storage::Prev::Rotate).unwrap()
                })
            },
        );
    }
    save.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
