//! Codes for 1, 100 and 10 000 accounts: what a session does every second (accounts keyed at
//! unlock, `KeyedAccounts::codes_at`) and a cold `otp::codes_at` (keying included), next to
//! (a) totp-rs used the obvious way, (b) the raw ring HMAC floor and (c) the raw RustCrypto
//! HMAC floor (the HMAC we and totp-rs use); each floor is key setup + two HMACs per account,
//! no truncation or formatting. One run. `scripts/perf_report.py codes` turns the results
//! into ratios in `docs/performance.md`.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use ring::hmac as ring_hmac;
use twofold_core::Secret;
use twofold_core::otp::{self, Algorithm, OtpKind};

const T: u64 = 1_700_000_000;

fn accounts(n: usize) -> Vec<(OtpKind, Secret)> {
    // Deterministic pseudo-random 20-byte keys (what most services issue).
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            let key: Vec<u8> = (0..20)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            (OtpKind::DEFAULT_TOTP, Secret::from_bytes(key).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("codes_at");
    for n in [1usize, 100, 10_000] {
        let entries = accounts(n);
        group.throughput(Throughput::Elements(n as u64));
        let keyed = otp::KeyedAccounts::new(entries.iter().map(|(k, s)| ((), k, s)));
        group.bench_with_input(BenchmarkId::new("twofold", n), &keyed, |b, keyed| {
            b.iter(|| black_box(keyed).codes_at(T as i64 * 1000, 0))
        });
        group.bench_with_input(
            BenchmarkId::new("twofold-cold", n),
            &entries,
            |b, entries| b.iter(|| otp::codes_at(black_box(entries), T as i64 * 1000, 0)),
        );
        group.bench_with_input(BenchmarkId::new("totp-rs", n), &entries, |b, entries| {
            b.iter(|| {
                entries
                    .iter()
                    .map(|(_, secret)| {
                        let totp = totp_rs::Builder::new()
                            .with_algorithm(totp_rs::Algorithm::SHA1)
                            .with_digits(6)
                            .with_step_duration(30)
                            .with_secret(secret.expose().to_vec())
                            .build_noncompliant();
                        let t = black_box(T);
                        (
                            totp.generate(t).to_string(),
                            totp.generate(t + 30).to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        });
        group.bench_with_input(BenchmarkId::new("ring-hmac", n), &entries, |b, entries| {
            b.iter(|| {
                let counter = black_box(T) / 30;
                let mut acc = 0u8;
                for (_, secret) in entries {
                    let key = ring_hmac::Key::new(
                        ring_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                        secret.expose(),
                    );
                    acc ^= ring_hmac::sign(&key, &counter.to_be_bytes()).as_ref()[0];
                    acc ^= ring_hmac::sign(&key, &(counter + 1).to_be_bytes()).as_ref()[0];
                }
                acc
            })
        });
        group.bench_with_input(
            BenchmarkId::new("rustcrypto-hmac", n),
            &entries,
            |b, entries| {
                b.iter(|| {
                    let counter = black_box(T) / 30;
                    let mut acc = 0u8;
                    for (_, secret) in entries {
                        let key =
                            hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.expose()).unwrap();
                        for c in [counter, counter + 1] {
                            let mut mac = key.clone();
                            mac.update(&c.to_be_bytes());
                            acc ^= mac.finalize().into_bytes()[0];
                        }
                    }
                    acc
                })
            },
        );
    }
    group.finish();

    // Single-code costs per algorithm, for the record.
    let secret = Secret::from_bytes(vec![0x42; 64]).unwrap();
    let mut single = c.benchmark_group("single_code");
    for alg in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        single.bench_function(alg.name(), |b| {
            b.iter(|| otp::totp(&secret, alg, 6, 30, black_box(T)))
        });
    }
    single.bench_function("steam", |b| b.iter(|| otp::steam(&secret, black_box(T))));
    single.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
