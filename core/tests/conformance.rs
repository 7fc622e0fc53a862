//! Opt-in conformance check against real third-party exports in `../shared/corpus` (beside the
//! checkout; never copied into the project). Every sample must import with exactly the entries
//! its `expected.json` lists, no per-item errors, and the expected code at the expected time.
//! When the folder is absent the test says so and checks nothing else.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::PathBuf;

use serde_json::Value;
use twofold_core::interop::{self, ImportedEntry};
use twofold_core::otp::{self, OtpKind};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    dir.is_dir().then_some(dir)
}

fn label(issuer: &str, name: &str) -> String {
    let joined = if issuer.is_empty() {
        name.to_owned()
    } else {
        format!("{issuer}:{name}")
    };
    joined
        .split(':')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(":")
}

fn matches(e: &ImportedEntry, want: &Value) -> bool {
    let s = |k: &str| want.get(k).and_then(Value::as_str).unwrap_or("");
    let n = |k: &str| want.get(k).and_then(Value::as_u64);
    let kind_ok = match e.kind {
        OtpKind::Totp {
            algorithm,
            digits,
            period,
        } => {
            s("type") == "totp"
                && algorithm.name() == s("algorithm")
                && Some(u64::from(digits)) == n("digits")
                && Some(u64::from(period)) == n("period")
        }
        OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } => {
            s("type") == "hotp"
                && algorithm.name() == s("algorithm")
                && Some(u64::from(digits)) == n("digits")
                && Some(counter) == n("counter")
        }
        OtpKind::Steam => s("type") == "steam",
    };
    kind_ok
        && e.secret.to_base32() == s("secret_base32")
        && label(&e.issuer, &e.account) == label(s("issuer"), s("name"))
}

/// The code the expectation describes: at `time` for TOTP/Steam, at `counter` for HOTP.
fn code_of(e: &ImportedEntry, code: &Value) -> String {
    match e.kind {
        OtpKind::Hotp {
            algorithm, digits, ..
        } => otp::hotp(
            &e.secret,
            algorithm,
            digits,
            code["counter"].as_u64().unwrap(),
        ),
        kind => otp::code_for(&kind, &e.secret, code["time"].as_u64().unwrap() * 1000)
            .code
            .unwrap(),
    }
}

/// Imports every file an `expected.json` lists and compares it with the expectation.
fn check_folder(dir: &std::path::Path, expected: &Value) -> usize {
    let mut checked = 0;
    for f in expected["files"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let password = f["password"].as_str().map(str::as_bytes);
        let report =
            interop::import(&bytes, None, password).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            report.errors.is_empty(),
            "{file}: per-item errors {:?}",
            report.errors
        );
        let expected = f["expected_entries"].as_array().unwrap();
        assert_eq!(
            report.entries.len(),
            expected.len(),
            "{file}: entry count ({:?})",
            report.format
        );
        for want in expected {
            let got = report
                .entries
                .iter()
                .find(|e| matches(e, want))
                .unwrap_or_else(|| {
                    panic!(
                        "{file}: no entry like {want}; got {:?}",
                        report
                            .entries
                            .iter()
                            .map(|e| (e.label(), e.kind, e.secret.to_base32()))
                            .collect::<Vec<_>>()
                    )
                });
            if let Some(code) = want.get("code") {
                assert_eq!(
                    code_of(got, code),
                    code["code"].as_str().unwrap(),
                    "{file}: code of {}",
                    got.label()
                );
            }
        }
        // A wrong password is a distinct error, and so is a missing one.
        if password.is_some() {
            assert_eq!(
                interop::import(&bytes, None, Some(b"not the password")),
                Err(interop::ImportError::WrongPassword),
                "{file}"
            );
            assert_eq!(
                interop::import(&bytes, None, None),
                Err(interop::ImportError::PasswordRequired),
                "{file}"
            );
        }
        println!("conformance: {file} ({}) ok", report.format.name());
        checked += 1;
    }
    checked
}

#[test]
fn every_corpus_sample_imports_exactly_as_expected() {
    let Some(dir) = corpus() else {
        println!(
            "conformance: ../shared/corpus is absent — nothing to check against real exports here"
        );
        return;
    };
    let mut checked = 0;
    // The first wave (formats of FORMATS.md) and the second (FORMATS-MORE.md: Authy,
    // Authenticator Pro, FreeOTP v1/v2, TOTP Authenticator, Steam, Authenticator Plus,
    // Microsoft Authenticator's database).
    for folder in ["aegis-test-resources", "aegis-test-resources-more"] {
        let Ok(expected) = std::fs::read_to_string(dir.join(folder).join("expected.json")) else {
            println!("conformance: {folder} is absent — skipped");
            continue;
        };
        let expected: Value = serde_json::from_str(&expected).unwrap();
        checked += check_folder(&dir.join(folder), &expected);
    }

    let google: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("google-migration/expected.json")).unwrap(),
    )
    .unwrap();
    for (file, f) in google["files"].as_object().unwrap() {
        let bytes = std::fs::read(dir.join("google-migration").join(file)).unwrap();
        let report = interop::import(&bytes, None, None).unwrap();
        assert!(report.errors.is_empty(), "{file}: {:?}", report.errors);
        assert_eq!(
            report.entries.len() as u64,
            f["expected_entry_count"].as_u64().unwrap(),
            "{file}"
        );
        let expected: Vec<&Value> = f["payloads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["otp_parameters"].as_array().unwrap())
            .collect();
        for (got, want) in report.entries.iter().zip(expected) {
            assert_eq!(
                got.secret.to_base32(),
                want["secret_base32"].as_str().unwrap()
            );
            assert_eq!(
                label(&got.issuer, &got.account),
                label(
                    want["issuer"].as_str().unwrap(),
                    want["name"].as_str().unwrap()
                )
            );
            assert_eq!(got.kind.type_name(), want["type"].as_str().unwrap());
            assert_eq!(got.kind.digits() as u64, want["digits"].as_u64().unwrap());
        }
        checked += 1;
    }
    println!("conformance: {checked} real export files imported exactly as expected");
    assert!(checked >= 21, "{checked} files checked");
}
