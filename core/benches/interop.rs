//! Import time for a 10 000-entry Aegis export, plain and encrypted (the encrypted one adds
//! Aegis's scrypt N=32768, r=8, p=1 and AES-GCM of the whole database).

use criterion::{Criterion, criterion_group, criterion_main};
use twofold_core::Secret;
use twofold_core::crypto::SystemRandom;
use twofold_core::interop::{self, aegis};
use twofold_core::otp::OtpKind;
use twofold_core::vault::model::{Entry, Id};

fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            Entry::new(
                Id::from_random([(i % 251) as u8; 16]),
                OtpKind::DEFAULT_TOTP,
                Secret::from_bytes((0..20).map(|j| (i * 13 + j) as u8).collect::<Vec<u8>>())
                    .unwrap(),
                format!("Service {i}"),
                format!("user{i}@example.com"),
                0,
                i as i64,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let list = entries(10_000);
    let refs: Vec<&Entry> = list.iter().collect();
    let plain = aegis::export_plain(&refs, &[], &rng).unwrap();
    let encrypted = aegis::export_encrypted(&refs, &[], b"benchmark", &rng).unwrap();
    let mut g = c.benchmark_group("import_aegis_10000");
    g.sample_size(10);
    g.bench_function("plain", |b| {
        b.iter(|| {
            assert_eq!(
                interop::import(plain.as_bytes(), None, None)
                    .unwrap()
                    .entries
                    .len(),
                10_000
            )
        })
    });
    g.bench_function("encrypted", |b| {
        b.iter(|| {
            assert_eq!(
                interop::import(encrypted.as_bytes(), None, Some(b"benchmark"))
                    .unwrap()
                    .entries
                    .len(),
                10_000
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
