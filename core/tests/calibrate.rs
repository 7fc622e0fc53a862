//! Clock calibration from a code a service accepted, through the vault session: exactly one
//! matching step sets and stores the offset; anything else changes nothing.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use twofold_core::Secret;
use twofold_core::otp::calibrate::{CalibrationError, DEFAULT_WINDOW_S};
use twofold_core::otp::{self, Algorithm, OtpKind};
use twofold_core::vault::{InputError, NewEntry, VaultEnv, VaultError, VaultSession};

use common::*;

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// The service's (true) time, and the device's clock 7 min 13.4 s behind it.
const SERVICE_S: u64 = 1_800_000_000;
const DEVICE_MS: i64 = (SERVICE_S as i64 - 433) * 1000 - 400;

fn session(dir: &std::path::Path) -> (VaultSession, twofold_core::vault::EntryId) {
    let (_t, clock) = manual_clock(DEVICE_MS);
    let env = VaultEnv {
        clock,
        ..VaultEnv::default()
    };
    let (s, _) = create_in(&dir.join("v.twofold"), env);
    let e = s.add_entry(totp("Bank", "bob", SECRET), false).unwrap();
    (s, e.id)
}

fn code_at(unix_s: u64) -> String {
    otp::totp(
        &Secret::from_base32(SECRET).unwrap(),
        Algorithm::Sha1,
        6,
        30,
        unix_s,
    )
}

#[test]
fn an_accepted_code_sets_and_stores_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id) = session(dir.path());
    let c = s
        .calibrate_from_accepted_code(id, &code_at(SERVICE_S), None, DEFAULT_WINDOW_S)
        .unwrap();
    assert_eq!(c.uncertainty_s, 15);
    assert!((c.offset_s - 433).abs() <= 15, "offset {}", c.offset_s);
    assert_eq!(s.clock_offset().unwrap(), c.offset_s);
    // The codes the vault shows now are the service's.
    let codes = s.codes_at(DEVICE_MS).unwrap();
    assert_eq!(codes[0].code.as_deref(), Some(code_at(SERVICE_S).as_str()));
    // It is stored: a new session on the file sees it.
    s.lock();
    let again = VaultSession::open(&dir.path().join("v.twofold")).unwrap();
    again.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(again.clock_offset().unwrap(), c.offset_s);
}

#[test]
fn failed_calibrations_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id) = session(dir.path());
    s.set_clock_offset(3).unwrap();
    let generation = s.generation().unwrap();
    let calibrate = |code: &str, next: Option<&str>, window| {
        s.calibrate_from_accepted_code(id, code, next, window)
            .unwrap_err()
    };
    // A code from an hour away is outside ±10 min.
    let far = code_at(SERVICE_S + 3600);
    let err = calibrate(&far, None, DEFAULT_WINDOW_S);
    if code_at(SERVICE_S + 3600) != code_at(SERVICE_S) {
        assert!(
            matches!(
                err,
                VaultError::InvalidInput(InputError::Calibration(
                    CalibrationError::NoMatch { .. } | CalibrationError::Ambiguous { .. }
                ))
            ),
            "{err:?}"
        );
    }
    // Malformed codes and a second code that does not follow.
    assert!(matches!(
        calibrate("12345", None, DEFAULT_WINDOW_S),
        VaultError::InvalidInput(InputError::Calibration(CalibrationError::CodeLength { .. }))
    ));
    assert!(matches!(
        calibrate("12x456", None, DEFAULT_WINDOW_S),
        VaultError::InvalidInput(InputError::Calibration(
            CalibrationError::CodeCharacters { .. }
        ))
    ));
    let not_next = code_at(SERVICE_S + 300);
    if not_next != code_at(SERVICE_S + 30) {
        assert_eq!(
            calibrate(&code_at(SERVICE_S), Some(&not_next), DEFAULT_WINDOW_S),
            VaultError::InvalidInput(InputError::Calibration(
                CalibrationError::SecondCodeMismatch
            ))
        );
    }
    // The error text tells the user what to do and never shows a code.
    let text = calibrate(&far, None, DEFAULT_WINDOW_S).to_string();
    assert!(!text.contains(&far), "{text}");
    // An unknown entry, an HOTP entry.
    let hotp = s
        .add_entry(
            NewEntry::new(
                OtpKind::Hotp {
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    counter: 0,
                },
                Secret::from_base32(SECRET).unwrap(),
                "Counter".into(),
                String::new(),
            ),
            true,
        )
        .unwrap();
    let generation_after_add = s.generation().unwrap();
    assert!(generation_after_add > generation);
    assert_eq!(
        s.calibrate_from_accepted_code(hotp.id, "123456", None, 600)
            .unwrap_err(),
        VaultError::InvalidInput(InputError::Calibration(CalibrationError::NotTimeBased))
    );
    s.delete_entry(id).unwrap();
    let generation_after_delete = s.generation().unwrap();
    assert!(matches!(
        s.calibrate_from_accepted_code(id, &code_at(SERVICE_S), None, 600),
        Err(VaultError::NoSuchEntry(_))
    ));
    // Nothing was written by any failed calibration.
    assert_eq!(s.generation().unwrap(), generation_after_delete);
    assert_eq!(s.clock_offset().unwrap(), 3);
}

#[test]
fn two_consecutive_codes_pin_down_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id) = session(dir.path());
    let c = s
        .calibrate_from_accepted_code(
            id,
            &code_at(SERVICE_S),
            Some(&code_at(SERVICE_S + 30)),
            DEFAULT_WINDOW_S,
        )
        .unwrap();
    assert_eq!(c.step, SERVICE_S / 30 + 1);
    assert!((c.offset_s - 463).abs() <= 15, "offset {}", c.offset_s);
}
