//! Cross-check against a real peer: Debian's `oathtool`, run as a subprocess, must agree with
//! the engine on at least 500 random cases. The README's test command installs it.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::process::Command;

use proptest::prelude::RngCore;
use proptest::test_runner::{RngAlgorithm, TestRng};
use twofold_core::Secret;
use twofold_core::otp::{self, Algorithm};

fn oathtool(args: &[String]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("oathtool is required for this test (apt-get install oathtool): {e}")
        });
    assert!(
        out.status.success(),
        "oathtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn agrees_with_oathtool_on_500_random_cases() {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]);
    let special_times = [
        0u64,
        2_147_483_647,
        4_294_967_296,
        253_402_300_799,
        32_503_680_000,
    ];
    let mut checked = 0;
    for i in 0..520u64 {
        let len = 10 + (rng.next_u32() % 55) as usize;
        let mut key = vec![0u8; len];
        rng.fill_bytes(&mut key);
        let secret = Secret::from_bytes(key.clone()).unwrap();
        let digits = [6u8, 7, 8][(rng.next_u32() % 3) as usize];
        if i % 5 == 4 {
            // SHA1 HOTP with counters across the whole u64 range.
            let counter = match i % 3 {
                0 => u64::from(rng.next_u32() % 1000),
                1 => rng.next_u64() >> 1,
                _ => u64::MAX - u64::from(rng.next_u32() % 16),
            };
            let want = oathtool(&[
                "--hotp".into(),
                format!("--digits={digits}"),
                format!("--counter={counter}"),
                hex(&key),
            ]);
            assert_eq!(
                otp::hotp(&secret, Algorithm::Sha1, digits, counter),
                want,
                "hotp case {i}"
            );
        } else {
            let (algorithm, mode) = [
                (Algorithm::Sha1, "sha1"),
                (Algorithm::Sha256, "sha256"),
                (Algorithm::Sha512, "sha512"),
            ][(rng.next_u32() % 3) as usize];
            let period = [30u32, 60][(rng.next_u32() % 2) as usize];
            let time = if i % 4 == 0 {
                special_times[(i / 4) as usize % special_times.len()]
            } else {
                rng.next_u64() % 253_402_300_800
            };
            let want = oathtool(&[
                format!("--totp={mode}"),
                format!("--digits={digits}"),
                format!("--time-step-size={period}s"),
                format!("--now=@{time}"),
                hex(&key),
            ]);
            let got = otp::totp(&secret, algorithm, digits, period, time);
            assert_eq!(
                got, want,
                "totp case {i}: {mode} {digits} digits {period}s at {time}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 500);
}
