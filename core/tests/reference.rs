//! Our OTP engine against totp-rs, the library the design started from: for any key length,
//! algorithm, digit count, period and time, both give the same codes — one code at a time,
//! cold (`otp::codes_at`) and keyed once (`KeyedAccounts`, what a session shows).

use proptest::prelude::*;
use twofold_core::Secret;
use twofold_core::otp::{self, Algorithm, KeyedAccounts, OtpKind};

fn reference(kind: &OtpKind, key: &[u8], unix_secs: u64) -> String {
    let (algorithm, digits, period) = match *kind {
        OtpKind::Totp {
            algorithm,
            digits,
            period,
        } => (
            match algorithm {
                Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
                Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
                Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
            },
            digits,
            period,
        ),
        OtpKind::Steam => (totp_rs::Algorithm::Steam, 5, 30),
        OtpKind::Hotp { .. } => unreachable!("time-based kinds only"),
    };
    totp_rs::Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_step_duration(u64::from(period))
        .with_secret(key.to_vec())
        .build_noncompliant()
        .generate(unix_secs)
        .to_string()
}

fn arb_kind() -> impl Strategy<Value = OtpKind> {
    prop_oneof![
        (
            prop_oneof![
                Just(Algorithm::Sha1),
                Just(Algorithm::Sha256),
                Just(Algorithm::Sha512)
            ],
            // totp-rs formats at most 9 digits; our 10-digit codes are checked by the RFC
            // vectors and oathtool.
            6u8..=9,
            1u32..=3600,
        )
            .prop_map(|(algorithm, digits, period)| OtpKind::Totp {
                algorithm,
                digits,
                period,
            }),
        Just(OtpKind::Steam),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn codes_match_totp_rs(
        kind in arb_kind(),
        // Up to 200 bytes: longer than every hash's block, so hashed keys are covered.
        key in proptest::collection::vec(any::<u8>(), 1..=200),
        unix_secs in 0u64..=4_102_444_800,
        ms in 0u64..1000,
    ) {
        let secret = Secret::from_bytes(key.clone()).unwrap();
        let period = u64::from(kind.period().unwrap());
        let want = reference(&kind, &key, unix_secs);
        let want_next = reference(&kind, &key, unix_secs + period);
        if let OtpKind::Totp { algorithm, digits, period } = kind {
            prop_assert_eq!(otp::totp(&secret, algorithm, digits, period, unix_secs), want.clone());
        } else {
            prop_assert_eq!(otp::steam(&secret, unix_secs), want.clone());
        }
        let unix_ms = (unix_secs * 1000 + ms) as i64;
        let cold = otp::codes_at([&(kind, secret.clone())], unix_ms, 0);
        let keyed = KeyedAccounts::new([(7u8, &kind, &secret)]);
        let warm = keyed.codes_at(unix_ms, 0);
        // Asked twice: the keyed state is cloned per code, never consumed.
        let again = keyed.codes_at(unix_ms, 0);
        prop_assert_eq!(&cold[0], &warm[0].1);
        prop_assert_eq!(&warm, &again);
        prop_assert_eq!(*warm[0].0, 7u8);
        prop_assert_eq!(warm[0].1.code.as_deref(), Some(want.as_str()));
        prop_assert_eq!(warm[0].1.next_code.as_deref(), Some(want_next.as_str()));
        prop_assert_eq!(warm[0].1.remaining_ms, period * 1000 - (unix_ms as u64 % (period * 1000)));
    }
}

#[test]
fn hotp_accounts_get_no_signer_and_no_code() {
    let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
    let hotp = OtpKind::Hotp {
        algorithm: Algorithm::Sha1,
        digits: 6,
        counter: 0,
    };
    let keyed = KeyedAccounts::new([(1, &hotp, &secret), (2, &OtpKind::DEFAULT_TOTP, &secret)]);
    let codes = keyed.codes_at(59_000, 0);
    assert_eq!(codes[0].1, otp::Code::HOTP);
    // RFC 6238's SHA1 vector at T = 59 s (8 digits: 94287082).
    assert_eq!(codes[1].1.code.as_deref(), Some("287082"));
    assert!(!format!("{keyed:?}").contains("12345"));
}
