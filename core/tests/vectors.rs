//! RFC 4226 / RFC 6238 / Steam Guard vectors (copied into tests/vectors/otp-vectors.json).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use serde_json::Value;
use twofold_core::otp::{self, Algorithm, OtpKind};
use twofold_core::{Secret, uri};

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/otp-vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn all() -> Vec<Value> {
    let v = vectors();
    let mut out = v["rfc"].as_array().unwrap().clone();
    out.extend(v["steam"].as_array().unwrap().iter().cloned());
    out
}

#[test]
fn every_vector_matches_through_the_engine() {
    let cases = all();
    assert!(
        cases.len() >= 34,
        "expected all RFC and Steam vectors, got {}",
        cases.len()
    );
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let secret = Secret::from_bytes(hex(case["secret_hex"].as_str().unwrap())).unwrap();
        let b32 = Secret::from_base32(case["secret_base32"].as_str().unwrap()).unwrap();
        assert_eq!(secret, b32, "{id}: base32 and hex disagree");
        let algorithm = Algorithm::from_name(case["algorithm"].as_str().unwrap()).unwrap();
        let digits = case["digits"].as_u64().unwrap() as u8;
        let expected = case["expected"].as_str().unwrap();
        let got = match case["kind"].as_str().unwrap() {
            "hotp" => otp::hotp(
                &secret,
                algorithm,
                digits,
                case["counter"].as_u64().unwrap(),
            ),
            "totp" => {
                let period = case["period"].as_u64().unwrap() as u32;
                otp::totp(
                    &secret,
                    algorithm,
                    digits,
                    period,
                    case["time"].as_u64().unwrap(),
                )
            }
            "steam" => otp::steam(&secret, case["time"].as_u64().unwrap()),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(got, expected, "{id}");
    }
}

#[test]
fn every_vector_matches_through_a_uri_and_the_batch_api() {
    let cases = all();
    let mut creds = Vec::new();
    let mut times = Vec::new();
    for case in &cases {
        let b32 = case["secret_base32"].as_str().unwrap();
        let text = match case["kind"].as_str().unwrap() {
            "hotp" => continue,
            "totp" => format!(
                "otpauth://totp/Vectors:{}?secret={b32}&algorithm={}&digits={}&period={}",
                case["id"].as_str().unwrap(),
                case["algorithm"].as_str().unwrap(),
                case["digits"],
                case["period"]
            ),
            _ => format!(
                "otpauth://steam/Steam:{}?secret={b32}",
                case["id"].as_str().unwrap()
            ),
        };
        creds.push((
            uri::parse(&text).unwrap(),
            case["expected"].as_str().unwrap().to_owned(),
        ));
        times.push(case["time"].as_i64().unwrap());
    }
    for ((cred, expected), t) in creds.iter().zip(times) {
        let codes = otp::codes_at(std::iter::once(cred), t * 1000 + 999, 0);
        assert_eq!(
            codes[0].code.as_deref(),
            Some(expected.as_str()),
            "{}",
            cred.account
        );
        let period = cred.kind.period().unwrap();
        assert_eq!(codes[0].period, period);
        let elapsed_ms = (t as u64 % u64::from(period)) * 1000 + 999;
        assert_eq!(codes[0].remaining_ms, u64::from(period) * 1000 - elapsed_ms);
    }
}

#[test]
fn hotp_vectors_through_a_uri_counter() {
    for case in vectors()["rfc"].as_array().unwrap() {
        if case["kind"] != "hotp" {
            continue;
        }
        let text = format!(
            "otpauth://hotp/RFC4226?secret={}&counter={}",
            case["secret_base32"].as_str().unwrap(),
            case["counter"]
        );
        let cred = uri::parse(&text).unwrap();
        let OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } = cred.kind
        else {
            panic!("not hotp")
        };
        assert_eq!(
            otp::hotp(&cred.secret, algorithm, digits, counter),
            case["expected"]
        );
    }
}

#[test]
fn year_9999_and_the_2038_boundary_produce_codes() {
    let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
    // RFC 6238 vector at 20000000000 (year 2603) and a date in year 9999.
    assert_eq!(
        otp::totp(&secret, Algorithm::Sha1, 8, 30, 20_000_000_000),
        "65353130"
    );
    let end_of_9999 = 253_402_300_799u64;
    let code = otp::totp(&secret, Algorithm::Sha1, 8, 30, end_of_9999);
    assert_eq!(code.len(), 8);
    let view = otp::code_for(&OtpKind::DEFAULT_TOTP, &secret, end_of_9999 * 1000);
    assert_eq!(view.remaining_ms, 1000 * (30 - end_of_9999 % 30));
}
