//! Clock calibration without a network: from a code a service just accepted.
//!
//! A service accepts a TOTP code only during its time step (give or take the steps it
//! tolerates), so a code it accepted says which step the service's clock was in. We search
//! the steps within a window around the device's clock for the ones whose code is the one
//! typed. Exactly one match sets the offset to that step's centre, with an uncertainty of
//! half a period; several matches (a short code and a wide window) or none change nothing.
//! A second code, accepted right after the first, must be the next step's code: two
//! consecutive codes pin the step down where one is ambiguous.

use super::{OtpKind, Signer, effective_unix_ms};
use crate::secret::Secret;

/// Default search window: ±10 minutes around the device's clock.
pub const DEFAULT_WINDOW_S: u32 = 600;
/// Widest search window accepted: ±1 day (at most 172,801 codes for a 1-second period).
pub const MAX_WINDOW_S: u32 = 86_400;

/// A calibration that found exactly one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// Seconds to add to the device's clock (the new clock offset).
    pub offset_s: i64,
    /// The offset is right to within ± this many seconds (half the period).
    pub uncertainty_s: u32,
    /// The time step the (last) code belongs to.
    pub step: u64,
    /// The account's period in seconds.
    pub period: u32,
}

/// Why a calibration changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    /// The account counts codes (HOTP) instead of following the time.
    #[error("calibration needs a time-based account; this one counts codes (HOTP)")]
    NotTimeBased,
    #[error("the code has {found} characters; this account's codes have {expected}")]
    /// The code typed has the wrong number of characters.
    CodeLength {
        /// The account's number of digits.
        expected: usize,
        /// Characters typed (spaces and hyphens not counted).
        found: usize,
    },
    #[error("the code may only contain {allowed}")]
    /// The code typed holds characters this account's codes never have.
    CodeCharacters {
        /// What its codes are made of.
        allowed: &'static str,
    },
    #[error(
        "no time within ±{window_s} s of this device's clock gives that code: check the account and the code, or widen the window"
    )]
    /// No time step in the window gives the code.
    NoMatch {
        /// The half-width searched, in seconds.
        window_s: u32,
    },
    #[error(
        "{matches} times within ±{window_s} s give that code, so the clock cannot be told from it: enter a second code, the one the service shows (and accepts) right after this one"
    )]
    /// Several time steps in the window give the code; a second code is needed.
    Ambiguous {
        /// How many steps give it.
        matches: usize,
        /// The half-width searched, in seconds.
        window_s: u32,
    },
    #[error(
        "the second code is not the one that follows the first: enter two codes the service accepted one after the other"
    )]
    /// The second code is not the one of the step after the first.
    SecondCodeMismatch,
    /// The window asked for is out of range (1 s to a day).
    #[error("the window must be between 1 and {max} seconds", max = MAX_WINDOW_S)]
    Window,
}

/// Normalizes a typed code for comparison: spaces and hyphens dropped, Steam codes upper
/// case; checks its length and characters against the account.
fn normalize(kind: &OtpKind, typed: &str) -> Result<String, CalibrationError> {
    let cleaned: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let (expected, steam) = match kind {
        OtpKind::Hotp { .. } => return Err(CalibrationError::NotTimeBased),
        OtpKind::Steam => (super::STEAM_CHARS, true),
        OtpKind::Totp { .. } => (usize::from(kind.digits()), false),
    };
    let found = cleaned.chars().count();
    if found != expected {
        return Err(CalibrationError::CodeLength { expected, found });
    }
    if steam {
        let upper = cleaned.to_ascii_uppercase();
        if !upper.bytes().all(|b| super::STEAM_ALPHABET.contains(&b)) {
            return Err(CalibrationError::CodeCharacters {
                allowed: "the letters and digits of a Steam Guard code",
            });
        }
        Ok(upper)
    } else {
        if !cleaned.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CalibrationError::CodeCharacters { allowed: "digits" });
        }
        Ok(cleaned)
    }
}

/// Finds the clock offset at which `code` (and, if given, `next_code` in the following step)
/// is what the account shows, searching ±`window_s` around `local_ms` (the device's clock,
/// uncorrected). Bounded work: at most `2 · window_s / period + 2` codes per code given.
pub fn calibrate(
    kind: &OtpKind,
    secret: &Secret,
    local_ms: i64,
    code: &str,
    next_code: Option<&str>,
    window_s: u32,
) -> Result<Calibration, CalibrationError> {
    if window_s == 0 || window_s > MAX_WINDOW_S {
        return Err(CalibrationError::Window);
    }
    let code = normalize(kind, code)?;
    let next_code = next_code.map(|c| normalize(kind, c)).transpose()?;
    let period = match *kind {
        OtpKind::Totp { period, .. } => period.max(1),
        OtpKind::Steam => super::DEFAULT_PERIOD,
        OtpKind::Hotp { .. } => return Err(CalibrationError::NotTimeBased),
    };
    let signer = Signer::new(kind.algorithm(), secret);
    let at = |step: u64| match kind {
        OtpKind::Steam => signer.steam(step),
        _ => signer.decimal(step, kind.digits()),
    };
    let period_ms = u64::from(period) * 1000;
    let window = i64::from(window_s);
    let first = effective_unix_ms(local_ms, -window) / period_ms;
    let last = effective_unix_ms(local_ms, window) / period_ms;
    let matches: Vec<u64> = (first..=last).filter(|&s| at(s) == code).collect();
    if matches.is_empty() {
        return Err(CalibrationError::NoMatch { window_s });
    }
    let step = match &next_code {
        None if matches.len() == 1 => matches[0],
        None => {
            return Err(CalibrationError::Ambiguous {
                matches: matches.len(),
                window_s,
            });
        }
        Some(next) => {
            let pinned: Vec<u64> = matches
                .iter()
                .map(|s| s.saturating_add(1))
                .filter(|&s| &at(s) == next)
                .collect();
            match pinned.len() {
                0 => return Err(CalibrationError::SecondCodeMismatch),
                1 => pinned[0],
                n => {
                    return Err(CalibrationError::Ambiguous {
                        matches: n,
                        window_s,
                    });
                }
            }
        }
    };
    // The step's centre, in milliseconds, against the device's clock.
    let centre_ms = i128::from(step) * i128::from(period_ms) + i128::from(period_ms / 2);
    let diff = centre_ms - i128::from(local_ms);
    let offset = (diff + if diff >= 0 { 500 } else { -500 }) / 1000;
    Ok(Calibration {
        offset_s: offset.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        uncertainty_s: period.div_ceil(2),
        step,
        period,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, totp};

    fn secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    const TOTP30: OtpKind = OtpKind::Totp {
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
    };

    #[test]
    fn one_code_finds_a_clock_that_is_minutes_off() {
        // The service's clock: 1_700_000_000 s. The device runs 4 min 7 s slow.
        let service_s = 1_700_000_000u64;
        let local_ms = (service_s as i64 - 247) * 1000 + 300;
        let code = totp(&secret(), Algorithm::Sha1, 6, 30, service_s);
        let c = calibrate(&TOTP30, &secret(), local_ms, &code, None, DEFAULT_WINDOW_S).unwrap();
        assert_eq!(c.step, service_s / 30);
        assert_eq!(c.uncertainty_s, 15);
        // Corrected, the device's clock lands in the step's centre, within ±15 s of the truth.
        let corrected = local_ms / 1000 + c.offset_s;
        assert_eq!(corrected as u64, (service_s / 30) * 30 + 15);
        assert!((corrected - service_s as i64).abs() <= 15);
    }

    #[test]
    fn outside_the_window_is_no_match_and_a_wrong_code_too() {
        let service_s = 1_700_000_000u64;
        let code = totp(&secret(), Algorithm::Sha1, 6, 30, service_s);
        let local_ms = (service_s as i64 - 3600) * 1000;
        assert_eq!(
            calibrate(&TOTP30, &secret(), local_ms, &code, None, 600),
            Err(CalibrationError::NoMatch { window_s: 600 })
        );
        // A wider window reaches it.
        assert!(calibrate(&TOTP30, &secret(), local_ms, &code, None, 4000).is_ok());
    }

    #[test]
    fn an_ambiguous_code_is_pinned_down_by_the_next_one() {
        // Find, by search, a code that occurs twice within ±1 day around t.
        let t = 1_700_000_000u64;
        let window = MAX_WINDOW_S;
        let first = (t - u64::from(window)) / 30;
        let last = (t + u64::from(window)) / 30;
        let mut seen = std::collections::HashMap::new();
        let mut pair = None;
        for s in first..=last {
            let c = totp(&secret(), Algorithm::Sha1, 6, 30, s * 30);
            if let Some(&prev) = seen.get(&c) {
                pair = Some((prev, s, c));
                break;
            }
            seen.insert(c, s);
        }
        let (a, b, code) =
            pair.expect("5761 six-digit codes repeat at least once (birthday bound)");
        let local_ms = t as i64 * 1000;
        let err = calibrate(&TOTP30, &secret(), local_ms, &code, None, window).unwrap_err();
        assert!(matches!(err, CalibrationError::Ambiguous { matches, .. } if matches >= 2));
        for step in [a, b] {
            let next = totp(&secret(), Algorithm::Sha1, 6, 30, (step + 1) * 30);
            let c = calibrate(&TOTP30, &secret(), local_ms, &code, Some(&next), window).unwrap();
            assert_eq!(c.step, step + 1);
        }
        let unrelated = totp(&secret(), Algorithm::Sha1, 6, 30, (a + 7) * 30);
        if unrelated != totp(&secret(), Algorithm::Sha1, 6, 30, (b + 1) * 30) {
            assert_eq!(
                calibrate(
                    &TOTP30,
                    &secret(),
                    local_ms,
                    &code,
                    Some(&unrelated),
                    window
                ),
                Err(CalibrationError::SecondCodeMismatch)
            );
        }
    }

    #[test]
    fn steam_and_malformed_codes() {
        let t = 1_700_000_000u64;
        let code = crate::otp::steam(&secret(), t);
        let c = calibrate(
            &OtpKind::Steam,
            &secret(),
            t as i64 * 1000 + 90_000,
            &code.to_lowercase(),
            None,
            600,
        )
        .unwrap();
        assert_eq!(c.step, t / 30);
        assert_eq!(
            calibrate(&TOTP30, &secret(), 0, "12345", None, 600),
            Err(CalibrationError::CodeLength {
                expected: 6,
                found: 5
            })
        );
        assert!(matches!(
            calibrate(&TOTP30, &secret(), 0, "12a456", None, 600),
            Err(CalibrationError::CodeCharacters { .. })
        ));
        assert_eq!(
            calibrate(&TOTP30, &secret(), 0, "123 456", None, 0),
            Err(CalibrationError::Window)
        );
        let hotp = OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 0,
        };
        assert_eq!(
            calibrate(&hotp, &secret(), 0, "123456", None, 600),
            Err(CalibrationError::NotTimeBased)
        );
    }
}
