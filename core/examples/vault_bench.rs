//! Measurements criterion cannot make: peak memory of an unlock, and Argon2id timings for the
//! comparison with the C reference. Driven by `scripts/bench_vault.py`.
//!
//! ```text
//! vault_bench create PATH N        write a vault (default KDF) with N entries
//! vault_bench unlock PATH          unlock it; print kdf_ms, open_ms, peak_rss_kib as JSON
//! vault_bench argon2 M_KIB T P K   K runs of Argon2id; print the times in ms as JSON
//! vault_bench codes PATH K         unlock, then K calls of codes_at; print µs per call (JSON)
//! ```

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::Path;
use std::time::Instant;

use twofold_core::Secret;
use twofold_core::crypto::{self, KdfParams};
use twofold_core::otp::OtpKind;
use twofold_core::vault::{CreateOptions, NewEntry, VaultSession};

const PASSWORD: &[u8] = b"benchmark password";

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("create") => {
            let path = Path::new(&args[1]);
            let n: usize = args[2].parse().unwrap();
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(path.with_extension("twofold.prev"));
            let (s, _) = VaultSession::create(
                path,
                CreateOptions {
                    password: PASSWORD,
                    kdf: KdfParams::DEFAULT,
                },
            )
            .unwrap();
            let entries = (0..n)
                .map(|i| {
                    NewEntry::new(
                        OtpKind::DEFAULT_TOTP,
                        Secret::from_bytes(
                            (0..20u32)
                                .map(|j| {
                                    if j < 4 {
                                        (i as u32).to_be_bytes()[j as usize]
                                    } else {
                                        j as u8
                                    }
                                })
                                .collect::<Vec<u8>>(),
                        )
                        .unwrap(),
                        format!("Service number {i}"),
                        format!("user{i}@example.com"),
                    )
                })
                .collect();
            s.insert(entries, twofold_core::vault::InsertPolicy::STRICT)
                .unwrap();
        }
        Some("unlock") => {
            let path = Path::new(&args[1]);
            let s = VaultSession::open(path).unwrap();
            let slots = s.slots().unwrap();
            let kdf = slots[0].kdf.unwrap();
            let salt = [0u8; 16];
            let t0 = Instant::now();
            crypto::argon2id(PASSWORD, &salt, kdf).unwrap();
            let kdf_ms = t0.elapsed().as_secs_f64() * 1e3;
            let t1 = Instant::now();
            s.unlock_with_password(PASSWORD).unwrap();
            let unlock_ms = t1.elapsed().as_secs_f64() * 1e3;
            let n = s.entries().unwrap().len();
            println!(
                "{{\"entries\": {n}, \"kdf_ms\": {kdf_ms:.2}, \"unlock_ms\": {unlock_ms:.2}, \"peak_rss_kib\": {}}}",
                peak_rss_kib()
            );
        }
        Some("argon2") => {
            let m: u32 = args[1].parse().unwrap();
            let t: u32 = args[2].parse().unwrap();
            let p: u32 = args[3].parse().unwrap();
            let k: usize = args[4].parse().unwrap();
            let params = KdfParams { m_kib: m, t, p };
            let times: Vec<String> = (0..k)
                .map(|i| {
                    let start = Instant::now();
                    crypto::argon2id(b"password", &[i as u8; 16], params).unwrap();
                    format!("{:.3}", start.elapsed().as_secs_f64() * 1e3)
                })
                .collect();
            println!("[{}]", times.join(", "));
        }
        Some("codes") => {
            let s = VaultSession::open(Path::new(&args[1])).unwrap();
            s.unlock_with_password(PASSWORD).unwrap();
            let k: usize = args[2].parse().unwrap();
            let now = 1_700_000_000_000i64;
            for _ in 0..k / 10 {
                std::hint::black_box(s.codes_at(now).unwrap());
            }
            let mut times: Vec<f64> = (0..k)
                .map(|i| {
                    let start = Instant::now();
                    std::hint::black_box(s.codes_at(now + i as i64).unwrap());
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{{\"median_us\": {:.2}, \"entries\": {}}}",
                times[times.len() / 2],
                s.entries().unwrap().len()
            );
        }
        _ => {
            eprintln!(
                "usage: vault_bench create PATH N | unlock PATH | argon2 M_KIB T P K | codes PATH K"
            );
            std::process::exit(2);
        }
    }
}
