//! One-time-password generation: HOTP (RFC 4226), TOTP (RFC 6238) and Steam Guard.
//!
//! One HMAC path serves every kind: RustCrypto's `hmac` over `sha1`/`sha2` (with their
//! `zeroize` features, so keyed states are wiped on drop). It was chosen over ring's HMAC by
//! benchmark (`docs/performance.md`): with SHA extensions in the CPU it is about twice as fast
//! for SHA1, which nearly every account uses. An account's HMAC is keyed once
//! ([`Signer::new`]) and the keyed state is cloned per code; [`KeyedAccounts`] keeps the keyed
//! states of a whole vault so that showing codes costs two HMAC finalisations per account.
//! Truncation is ours, so 10-digit codes, Steam codes and counters up to 2^64−1 all work, and
//! any key length (Google's 80-bit secrets included) is accepted. totp-rs, the library the
//! design started from, is the reference our codes are tested against.

pub mod calibrate;

use crate::secret::Secret;

pub mod manual;

/// Fewest digits a TOTP/HOTP code may have.
pub const MIN_DIGITS: u8 = 6;
/// Most digits a TOTP/HOTP code may have.
pub const MAX_DIGITS: u8 = 10;
/// Longest TOTP period in seconds.
pub const MAX_PERIOD: u32 = 3600;
/// Default TOTP period in seconds (also Steam's).
pub const DEFAULT_PERIOD: u32 = 30;
/// Default number of digits.
pub const DEFAULT_DIGITS: u8 = 6;
/// Number of characters in a Steam Guard code.
pub const STEAM_CHARS: usize = 5;
/// A clock further off than this from a trusted time sample deserves a warning.
pub const SKEW_WARNING_SECS: i64 = 15;

const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// HMAC hash function of an account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    /// HMAC-SHA1, the default and what most services use.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// Canonical name as used in otpauth URIs: `SHA1`, `SHA256`, `SHA512`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Parses an algorithm name case-insensitively; `SHA-256` style spellings are accepted.
    pub fn from_name(name: &str) -> Option<Self> {
        let cleaned: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_uppercase();
        match cleaned.as_str() {
            "SHA1" => Some(Algorithm::Sha1),
            "SHA256" => Some(Algorithm::Sha256),
            "SHA512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// What kind of code an account produces, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp {
        /// HMAC hash function.
        algorithm: Algorithm,
        /// Length of a code, [`MIN_DIGITS`] to [`MAX_DIGITS`].
        digits: u8,
        /// Seconds each code is valid, 1 to [`MAX_PERIOD`].
        period: u32,
    },
    /// Counter-based (RFC 4226). `counter` is the counter the next code will use.
    Hotp {
        /// HMAC hash function.
        algorithm: Algorithm,
        /// Length of a code, [`MIN_DIGITS`] to [`MAX_DIGITS`].
        digits: u8,
        /// The counter value the next code is computed from.
        counter: u64,
    },
    /// Steam Guard: SHA1, 30 s, five characters.
    Steam,
}

impl OtpKind {
    /// A TOTP kind with the usual defaults (SHA1, 6 digits, 30 s).
    pub const DEFAULT_TOTP: OtpKind = OtpKind::Totp {
        algorithm: Algorithm::Sha1,
        digits: DEFAULT_DIGITS,
        period: DEFAULT_PERIOD,
    };

    /// Checks digits and period ranges.
    pub fn validate(&self) -> Result<(), OtpError> {
        match *self {
            OtpKind::Totp { digits, period, .. } => {
                check_digits(digits)?;
                if period == 0 || period > MAX_PERIOD {
                    return Err(OtpError::Period(period));
                }
                Ok(())
            }
            OtpKind::Hotp { digits, .. } => check_digits(digits),
            OtpKind::Steam => Ok(()),
        }
    }

    /// Short lower-case name: `totp`, `hotp`, `steam`.
    pub fn type_name(&self) -> &'static str {
        match self {
            OtpKind::Totp { .. } => "totp",
            OtpKind::Hotp { .. } => "hotp",
            OtpKind::Steam => "steam",
        }
    }

    /// The HMAC algorithm (SHA1 for Steam).
    pub fn algorithm(&self) -> Algorithm {
        match *self {
            OtpKind::Totp { algorithm, .. } | OtpKind::Hotp { algorithm, .. } => algorithm,
            OtpKind::Steam => Algorithm::Sha1,
        }
    }

    /// Number of characters in a code.
    pub fn digits(&self) -> u8 {
        match *self {
            OtpKind::Totp { digits, .. } | OtpKind::Hotp { digits, .. } => digits,
            OtpKind::Steam => STEAM_CHARS as u8,
        }
    }

    /// Period in seconds for time-based kinds.
    pub fn period(&self) -> Option<u32> {
        match *self {
            OtpKind::Totp { period, .. } => Some(period),
            OtpKind::Steam => Some(DEFAULT_PERIOD),
            OtpKind::Hotp { .. } => None,
        }
    }
}

fn check_digits(digits: u8) -> Result<(), OtpError> {
    if (MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        Ok(())
    } else {
        Err(OtpError::Digits(digits))
    }
}

/// Invalid OTP parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    /// A code length outside [`MIN_DIGITS`] to [`MAX_DIGITS`].
    #[error("{0} digits is not supported (use {MIN_DIGITS} to {MAX_DIGITS})")]
    Digits(u8),
    /// A period of 0 s or longer than [`MAX_PERIOD`].
    #[error("period {0} s is not supported (use 1 to {MAX_PERIOD} seconds)")]
    Period(u32),
}

/// Something that can produce codes: an account's kind and secret.
pub trait OtpSource {
    /// The kind of code and its parameters.
    fn otp_kind(&self) -> &OtpKind;
    /// The key the codes are computed from.
    fn otp_secret(&self) -> &Secret;
}

impl OtpSource for (OtpKind, Secret) {
    fn otp_kind(&self) -> &OtpKind {
        &self.0
    }
    fn otp_secret(&self) -> &Secret {
        &self.1
    }
}

/// The code an account shows at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The current code; `None` for HOTP, whose codes come only from an explicit
    /// "next code" action that advances the counter.
    pub code: Option<String>,
    /// Period in seconds (0 for HOTP).
    pub period: u32,
    /// Milliseconds until `code` expires (0 for HOTP).
    pub remaining_ms: u64,
    /// The code of the following period (`None` for HOTP).
    pub next_code: Option<String>,
}

impl Code {
    /// What an HOTP account shows without an explicit "next code": nothing.
    pub const HOTP: Code = Code {
        code: None,
        period: 0,
        remaining_ms: 0,
        next_code: None,
    };
}

/// The keyed HMAC state of one account's secret: keyed once, cloned per code. Its memory is
/// wiped when it is dropped (the hash cores zeroize), and it never prints its state.
#[derive(Clone)]
pub struct Signer(Mac);

#[derive(Clone)]
enum Mac {
    Sha1(hmac::Hmac<sha1::Sha1>),
    Sha256(hmac::Hmac<sha2::Sha256>),
    Sha512(hmac::Hmac<sha2::Sha512>),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// HMAC(K, counter) with a state keyed once.
fn sign<M: hmac::Mac + Clone>(keyed: &M, counter: u64) -> hmac::digest::Output<M> {
    let mut mac = keyed.clone();
    mac.update(&counter.to_be_bytes());
    mac.finalize().into_bytes()
}

/// RFC 4226 §5.3 dynamic truncation: a 31-bit value.
fn truncate(mac: &[u8]) -> u32 {
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff
}

impl Signer {
    /// Keys the HMAC of `algorithm` with `secret`.
    pub fn new(algorithm: Algorithm, secret: &Secret) -> Self {
        use hmac::KeyInit;
        // HMAC takes keys of any length (long ones are hashed first), so keying cannot fail.
        let key = secret.expose();
        Signer(match algorithm {
            Algorithm::Sha1 => {
                Mac::Sha1(hmac::Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
            }
            Algorithm::Sha256 => {
                Mac::Sha256(hmac::Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
            }
            Algorithm::Sha512 => {
                Mac::Sha512(hmac::Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
            }
        })
    }

    /// The truncated HMAC of `counter`: a 31-bit value.
    fn truncated(&self, counter: u64) -> u32 {
        match &self.0 {
            Mac::Sha1(m) => truncate(&sign(m, counter)),
            Mac::Sha256(m) => truncate(&sign(m, counter)),
            Mac::Sha512(m) => truncate(&sign(m, counter)),
        }
    }

    /// The `digits`-digit HOTP value of `counter`.
    pub fn decimal(&self, counter: u64, digits: u8) -> String {
        decimal_code(self.truncated(counter), digits)
    }

    /// The Steam Guard code of `counter` (30-second steps).
    pub fn steam(&self, counter: u64) -> String {
        let mut value = self.truncated(counter);
        let mut out = String::with_capacity(STEAM_CHARS);
        for _ in 0..STEAM_CHARS {
            out.push(STEAM_ALPHABET[(value % 26) as usize] as char);
            value /= 26;
        }
        out
    }

    /// The [`Code`] of an account of `kind` keyed by this signer at `now_ms` (already
    /// offset-corrected).
    pub fn code(&self, kind: &OtpKind, now_ms: u64) -> Code {
        let period = match *kind {
            OtpKind::Hotp { .. } => return Code::HOTP,
            OtpKind::Totp { period, .. } => period.max(1),
            OtpKind::Steam => DEFAULT_PERIOD,
        };
        let period_ms = u64::from(period) * 1000;
        let counter = now_ms / period_ms;
        let remaining_ms = period_ms - now_ms % period_ms;
        let (code, next_code) = match *kind {
            OtpKind::Steam => (self.steam(counter), self.steam(counter.saturating_add(1))),
            _ => {
                let digits = kind.digits();
                (
                    self.decimal(counter, digits),
                    self.decimal(counter.saturating_add(1), digits),
                )
            }
        };
        Code {
            code: Some(code),
            period,
            remaining_ms,
            next_code: Some(next_code),
        }
    }
}

/// The keyed signers of a list of accounts, each tagged with what the caller identifies it
/// by: built once (when a vault is unlocked or its content changes) and asked for codes every
/// second. HOTP accounts get no signer (their codes come only from an explicit action).
pub struct KeyedAccounts<T> {
    accounts: Vec<(T, OtpKind, Option<Signer>)>,
}

impl<T> KeyedAccounts<T> {
    /// Keys every time-based account of `accounts`, in order.
    pub fn new<'a>(accounts: impl IntoIterator<Item = (T, &'a OtpKind, &'a Secret)>) -> Self {
        KeyedAccounts {
            accounts: accounts
                .into_iter()
                .map(|(tag, kind, secret)| {
                    let signer = match kind {
                        OtpKind::Hotp { .. } => None,
                        _ => Some(Signer::new(kind.algorithm(), secret)),
                    };
                    (tag, *kind, signer)
                })
                .collect(),
        }
    }

    /// How many accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The accounts' tags, in order.
    pub fn tags(&self) -> impl Iterator<Item = &T> {
        self.accounts.iter().map(|(tag, _, _)| tag)
    }

    /// Every account's code at `unix_ms` shifted by `clock_offset_s`, in order.
    pub fn codes_at(&self, unix_ms: i64, clock_offset_s: i64) -> Vec<(&T, Code)> {
        let now_ms = effective_unix_ms(unix_ms, clock_offset_s);
        self.accounts
            .iter()
            .map(|(tag, kind, signer)| {
                let code = match signer {
                    Some(s) => s.code(kind, now_ms),
                    None => Code::HOTP,
                };
                (tag, code)
            })
            .collect()
    }
}

impl<T> std::fmt::Debug for KeyedAccounts<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyedAccounts({} accounts)", self.accounts.len())
    }
}

/// Writes `value mod 10^digits`, zero-padded to `digits` characters.
fn decimal_code(value: u32, digits: u8) -> String {
    let digits = usize::from(digits);
    let mut buf = [b'0'; MAX_DIGITS as usize];
    let mut v = value;
    for slot in buf[..digits].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    // Only ASCII digits were written.
    buf[..digits].iter().map(|&b| b as char).collect()
}

/// HOTP code (RFC 4226) for `counter`.
pub fn hotp(secret: &Secret, algorithm: Algorithm, digits: u8, counter: u64) -> String {
    Signer::new(algorithm, secret).decimal(counter, digits)
}

/// TOTP code (RFC 6238) at `unix_secs`.
pub fn totp(
    secret: &Secret,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    unix_secs: u64,
) -> String {
    Signer::new(algorithm, secret).decimal(unix_secs / u64::from(period.max(1)), digits)
}

/// Steam Guard code at `unix_secs`.
pub fn steam(secret: &Secret, unix_secs: u64) -> String {
    Signer::new(Algorithm::Sha1, secret).steam(unix_secs / u64::from(DEFAULT_PERIOD))
}

/// The time the codes are computed for: `unix_ms` corrected by `clock_offset_s`, never before
/// the epoch.
pub fn effective_unix_ms(unix_ms: i64, clock_offset_s: i64) -> u64 {
    let corrected = unix_ms.saturating_add(clock_offset_s.saturating_mul(1000));
    u64::try_from(corrected).unwrap_or(0)
}

/// Codes for every entry at `unix_ms` (milliseconds since the epoch) shifted by
/// `clock_offset_s`, keying each account's HMAC for this call. One result per entry, in
/// order. HOTP entries get no code (see [`Code`]). To show codes repeatedly, key once with
/// [`KeyedAccounts`].
pub fn codes_at<'a, S, I>(entries: I, unix_ms: i64, clock_offset_s: i64) -> Vec<Code>
where
    S: OtpSource + 'a,
    I: IntoIterator<Item = &'a S>,
{
    let now_ms = effective_unix_ms(unix_ms, clock_offset_s);
    entries
        .into_iter()
        .map(|e| code_for(e.otp_kind(), e.otp_secret(), now_ms))
        .collect()
}

/// The [`Code`] of one account at `now_ms` (already offset-corrected).
pub fn code_for(kind: &OtpKind, secret: &Secret, now_ms: u64) -> Code {
    match kind {
        OtpKind::Hotp { .. } => Code::HOTP,
        _ => Signer::new(kind.algorithm(), secret).code(kind, now_ms),
    }
}

/// A code split for reading: `123 456`, `1234 567`, `1234 5678`, `12345 67890`; Steam codes
/// and anything that is not all digits stay whole.
pub fn display_grouped(code: &str) -> String {
    let n = code.chars().count();
    if n < 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return code.to_owned();
    }
    let split = if n.is_multiple_of(3) && n < 9 {
        n / 2
    } else {
        n.div_ceil(2)
    };
    format!("{} {}", &code[..split], &code[split..])
}

/// Clock offset (seconds to add to the local clock) from a trusted time sample, e.g. an HTTPS
/// `Date` header fetched by the app at local time `local_ms`.
pub fn offset_from_sample(local_ms: i64, trusted_ms: i64) -> i64 {
    let diff = i128::from(trusted_ms) - i128::from(local_ms);
    // Round to the nearest second, then clamp into i64.
    let secs = (diff + if diff >= 0 { 500 } else { -500 }) / 1000;
    secs.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Whether an offset is large enough to warn the user about their clock.
pub fn offset_needs_warning(clock_offset_s: i64) -> bool {
    clock_offset_s.unsigned_abs() > SKEW_WARNING_SECS as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn decimal_codes_keep_leading_zeros() {
        assert_eq!(decimal_code(42, 6), "000042");
        assert_eq!(decimal_code(2_147_483_647, 10), "2147483647");
        assert_eq!(decimal_code(2_147_483_647, 6), "483647");
    }

    #[test]
    fn hotp_handles_the_largest_counter() {
        let code = hotp(&rfc_secret(), Algorithm::Sha1, 6, u64::MAX);
        assert_eq!(code.len(), 6);
        assert_ne!(code, hotp(&rfc_secret(), Algorithm::Sha1, 6, u64::MAX - 1));
    }

    #[test]
    fn code_view_counts_down_and_previews_next() {
        let kind = OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 8,
            period: 30,
        };
        let s = rfc_secret();
        let at = code_for(&kind, &s, 59_000);
        assert_eq!(at.code.as_deref(), Some("94287082"));
        assert_eq!(at.remaining_ms, 1_000);
        assert_eq!(at.period, 30);
        let after = code_for(&kind, &s, 60_000);
        assert_eq!(after.code, at.next_code);
        assert_eq!(after.remaining_ms, 30_000);
    }

    #[test]
    fn hotp_codes_are_not_shown_without_an_explicit_action() {
        let kind = OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 3,
        };
        let c = code_for(&kind, &rfc_secret(), 1_000);
        assert_eq!(c.code, None);
        assert_eq!(c.next_code, None);
    }

    #[test]
    fn clock_offset_shifts_time_and_never_goes_before_epoch() {
        assert_eq!(effective_unix_ms(10_000, -5), 5_000);
        assert_eq!(effective_unix_ms(10_000, -50), 0);
        assert_eq!(effective_unix_ms(i64::MAX, i64::MAX), i64::MAX as u64);
        let kind = OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 8,
            period: 30,
        };
        let entries = vec![(kind, rfc_secret())];
        let shifted = codes_at(&entries, 0, 59);
        assert_eq!(shifted[0].code.as_deref(), Some("94287082"));
    }

    #[test]
    fn codes_are_grouped_for_reading() {
        assert_eq!(display_grouped("123456"), "123 456");
        assert_eq!(display_grouped("1234567"), "1234 567");
        assert_eq!(display_grouped("12345678"), "1234 5678");
        assert_eq!(display_grouped("123456789"), "12345 6789");
        assert_eq!(display_grouped("1234567890"), "12345 67890");
        assert_eq!(display_grouped("C5V56"), "C5V56");
    }

    #[test]
    fn offsets_from_samples_round_and_warn() {
        assert_eq!(offset_from_sample(1_000_000, 1_020_400), 20);
        assert_eq!(offset_from_sample(1_000_000, 999_400), -1);
        assert!(offset_needs_warning(20));
        assert!(offset_needs_warning(-16));
        assert!(!offset_needs_warning(15));
    }

    #[test]
    fn validation_bounds() {
        let ok = OtpKind::Totp {
            algorithm: Algorithm::Sha512,
            digits: 10,
            period: 3600,
        };
        assert!(ok.validate().is_ok());
        let bad_digits = OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 5,
            counter: 0,
        };
        assert_eq!(bad_digits.validate(), Err(OtpError::Digits(5)));
        let zero = OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 0,
        };
        assert_eq!(zero.validate(), Err(OtpError::Period(0)));
        let long = OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 3601,
        };
        assert_eq!(long.validate(), Err(OtpError::Period(3601)));
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::from_name("sha-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_name("SHA512"), Some(Algorithm::Sha512));
        assert_eq!(Algorithm::from_name("MD5"), None);
    }
}
