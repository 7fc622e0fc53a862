//! The otpauth Key URI Format: `otpauth://TYPE/LABEL?PARAMETERS`.
//!
//! [`parse`] accepts what real apps and web sites produce (README, "What URIs are accepted"): `totp`, `hotp`
//! and `steam` types in any case, `issuer:account` labels split at a literal `:` or `%3A`,
//! `%20` and `+` for spaces, optional padding and spacing in the secret, unknown parameters.
//! Everything else is refused with a [`UriError`] that names the reason and never contains
//! the secret. [`format()`] writes the canonical form, which [`parse`] reads back to the same
//! [`Credential`].

pub mod base32;

use std::fmt::Write as _;

use crate::otp::{self, Algorithm, OtpKind};
use crate::secret::{Secret, SecretError};

/// Longest URI we look at. Real ones are well under 1 KiB.
pub const MAX_URI_LEN: usize = 16 * 1024;

/// An account as described by an otpauth URI: what the code generator needs plus its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The kind of code and its parameters.
    pub kind: OtpKind,
    /// The key (from the `secret` parameter).
    pub secret: Secret,
    /// Service name (`GitHub`); empty when the URI names none.
    pub issuer: String,
    /// Account name at the service (`alice@example.com`); may be empty.
    pub account: String,
}

impl otp::OtpSource for Credential {
    fn otp_kind(&self) -> &OtpKind {
        &self.kind
    }
    fn otp_secret(&self) -> &Secret {
        &self.secret
    }
}

/// Why an otpauth URI was refused. The text is one line, suitable for a user, and never
/// contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The URI is longer than [`MAX_URI_LEN`] bytes.
    #[error("URI is too long ({len} bytes; at most {MAX_URI_LEN})")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The URI does not start with `otpauth://`.
    #[error("not an otpauth URI: it must start with otpauth://")]
    WrongScheme,
    /// No type (`totp`, `hotp`, `steam`) after the scheme.
    #[error("otpauth URI has no type: expected otpauth://totp/..., hotp or steam")]
    MissingType,
    /// A type other than `totp`, `hotp` or `steam`.
    #[error("unknown OTP type '{0}': expected totp, hotp or steam")]
    UnknownType(String),
    /// A `%` escape that is not two hex digits or not UTF-8; names the part (label or parameter).
    #[error("malformed percent-encoding in the {0}")]
    MalformedEncoding(&'static str),
    /// No `secret` parameter.
    #[error("the secret parameter is missing")]
    MissingSecret,
    /// A `secret` parameter with no value.
    #[error("the secret parameter is empty")]
    EmptySecret,
    /// The `secret` is not usable (bad base32, too long).
    #[error("invalid secret: {0}")]
    InvalidSecret(SecretError),
    /// An `algorithm` other than SHA1, SHA256 or SHA512.
    #[error("unsupported algorithm '{0}': expected SHA1, SHA256 or SHA512")]
    UnsupportedAlgorithm(String),
    /// A `digits` value outside the supported range.
    #[error("{0} digits is not supported: use {min} to {max}", min = otp::MIN_DIGITS, max = otp::MAX_DIGITS)]
    UnsupportedDigits(u64),
    /// A `period` of 0.
    #[error("period must not be 0")]
    PeriodZero,
    /// A `period` longer than the longest supported.
    #[error("period {0} s is too long: at most {max} s", max = otp::MAX_PERIOD)]
    PeriodOutOfRange(u64),
    /// An `hotp` URI without `counter`.
    #[error("an hotp URI needs a counter parameter")]
    MissingCounter,
    /// A numeric parameter whose value is not a whole number.
    #[error("{parameter} must be a whole number, got '{value}'")]
    NotANumber {
        /// Which parameter (`digits`, `period` or `counter`).
        parameter: &'static str,
        /// What it held.
        value: String,
    },
    /// A parameter given twice (which value was meant is unknowable).
    #[error("parameter '{0}' appears more than once")]
    DuplicateParameter(&'static str),
}

/// Parses an otpauth URI.
pub fn parse(uri: &str) -> Result<Credential, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong { len: uri.len() });
    }
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once("://").ok_or(UriError::WrongScheme)?;
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return Err(UriError::WrongScheme);
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (type_name, raw_label) = path.split_once('/').unwrap_or((path, ""));
    if type_name.is_empty() {
        return Err(UriError::MissingType);
    }

    let params = Params::parse(query)?;
    let type_lower = type_name.to_ascii_lowercase();
    let is_steam_encoder = params
        .encoder
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("steam"));
    let kind = match type_lower.as_str() {
        "steam" => OtpKind::Steam,
        "totp" if is_steam_encoder => OtpKind::Steam,
        "totp" => OtpKind::Totp {
            algorithm: params.algorithm()?,
            digits: params.digits()?,
            period: params.period()?,
        },
        "hotp" => OtpKind::Hotp {
            algorithm: params.algorithm()?,
            digits: params.digits()?,
            counter: params.counter()?.ok_or(UriError::MissingCounter)?,
        },
        _ => return Err(UriError::UnknownType(short(type_name))),
    };

    let secret_text = params.secret.as_deref().ok_or(UriError::MissingSecret)?;
    if secret_text.trim().is_empty() {
        return Err(UriError::EmptySecret);
    }
    let secret = Secret::from_base32(secret_text).map_err(|e| match e {
        SecretError::Base32(base32::Base32Error::Empty) | SecretError::Empty => {
            UriError::EmptySecret
        }
        other => UriError::InvalidSecret(other),
    })?;

    let label = percent_decode(raw_label).ok_or(UriError::MalformedEncoding("label"))?;
    let (issuer, account) = split_label(&label, params.issuer.as_deref());
    Ok(Credential {
        kind,
        secret,
        issuer,
        account,
    })
}

/// Splits a decoded label into issuer and account, preferring the `issuer` parameter.
fn split_label(label: &str, issuer_param: Option<&str>) -> (String, String) {
    // A parameter that is present but empty (`&issuer=&`) means "no parameter".
    match issuer_param.map(str::trim).filter(|i| !i.is_empty()) {
        Some(issuer) => {
            let account = match label.strip_prefix(issuer).and_then(|r| r.strip_prefix(':')) {
                Some(rest) => rest,
                None => label.split_once(':').map_or(label, |(_, account)| account),
            };
            (issuer.to_owned(), account.trim().to_owned())
        }
        None => match label.split_once(':') {
            Some((issuer, account)) => (issuer.trim().to_owned(), account.trim().to_owned()),
            None => (String::new(), label.trim().to_owned()),
        },
    }
}

/// The parameters we understand; unknown ones are ignored.
#[derive(Default)]
struct Params {
    secret: Option<String>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
    counter: Option<String>,
    encoder: Option<String>,
}

impl Params {
    fn parse(query: &str) -> Result<Self, UriError> {
        let mut p = Params::default();
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(raw_key)
                .ok_or(UriError::MalformedEncoding("parameters"))?
                .to_ascii_lowercase();
            let (slot, name): (&mut Option<String>, &'static str) = match key.as_str() {
                "secret" => (&mut p.secret, "secret"),
                "issuer" => (&mut p.issuer, "issuer"),
                "algorithm" => (&mut p.algorithm, "algorithm"),
                "digits" => (&mut p.digits, "digits"),
                "period" => (&mut p.period, "period"),
                "counter" => (&mut p.counter, "counter"),
                "encoder" => (&mut p.encoder, "encoder"),
                _ => continue,
            };
            if slot.is_some() {
                return Err(UriError::DuplicateParameter(name));
            }
            let what = if name == "secret" {
                "secret"
            } else {
                "parameters"
            };
            *slot = Some(percent_decode(raw_value).ok_or(UriError::MalformedEncoding(what))?);
        }
        Ok(p)
    }

    fn algorithm(&self) -> Result<Algorithm, UriError> {
        match self.algorithm.as_deref().map(str::trim) {
            None | Some("") => Ok(Algorithm::Sha1),
            Some(name) => Algorithm::from_name(name)
                .ok_or_else(|| UriError::UnsupportedAlgorithm(short(name))),
        }
    }

    fn digits(&self) -> Result<u8, UriError> {
        let Some(n) = number(self.digits.as_deref(), "digits")? else {
            return Ok(otp::DEFAULT_DIGITS);
        };
        match u8::try_from(n) {
            Ok(d) if (otp::MIN_DIGITS..=otp::MAX_DIGITS).contains(&d) => Ok(d),
            _ => Err(UriError::UnsupportedDigits(n)),
        }
    }

    fn period(&self) -> Result<u32, UriError> {
        match number(self.period.as_deref(), "period")? {
            None => Ok(otp::DEFAULT_PERIOD),
            Some(0) => Err(UriError::PeriodZero),
            Some(n) if n > u64::from(otp::MAX_PERIOD) => Err(UriError::PeriodOutOfRange(n)),
            Some(n) => Ok(n as u32),
        }
    }

    fn counter(&self) -> Result<Option<u64>, UriError> {
        number(self.counter.as_deref(), "counter")
    }
}

fn number(value: Option<&str>, parameter: &'static str) -> Result<Option<u64>, UriError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::NotANumber {
            parameter,
            value: short(value),
        });
    }
    // All digits: the only failure left is overflow.
    value
        .parse::<u64>()
        .map(Some)
        .map_err(|_| UriError::NotANumber {
            parameter,
            value: short(value),
        })
}

/// A bounded, printable excerpt of user input for error messages (never used for secrets).
fn short(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(24).collect();
    if s.chars().count() > 24 {
        out.push('…');
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space). `None` for a bad escape or invalid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    percent_decode_with(s, true)
}

/// Decodes `%XX` escapes; `+` becomes a space only when `plus_is_space` (not in base64 data).
pub(crate) fn percent_decode_with(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str, out: &mut String) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Canonical otpauth URI of a credential: every parameter explicit, names percent-encoded,
/// secret as upper-case unpadded base32.
pub fn format(credential: &Credential) -> String {
    let mut out = String::with_capacity(128);
    out.push_str("otpauth://");
    out.push_str(credential.kind.type_name());
    out.push('/');
    let issuer = credential.issuer.as_str();
    if !issuer.is_empty() || credential.account.contains(':') {
        // With no issuer, an empty prefix (`/:a:b`) keeps an account containing ':' whole:
        // the label splits at its first colon.
        percent_encode(issuer, &mut out);
        out.push(':');
    }
    percent_encode(&credential.account, &mut out);
    out.push_str("?secret=");
    out.push_str(&credential.secret.to_base32());
    if !issuer.is_empty() {
        out.push_str("&issuer=");
        percent_encode(issuer, &mut out);
    }
    match credential.kind {
        OtpKind::Totp {
            algorithm,
            digits,
            period,
        } => {
            let _ = write!(
                out,
                "&algorithm={}&digits={digits}&period={period}",
                algorithm.name()
            );
        }
        OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } => {
            let _ = write!(
                out,
                "&algorithm={}&digits={digits}&counter={counter}",
                algorithm.name()
            );
        }
        OtpKind::Steam => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%20b+c%3A").as_deref(), Some("a b c:"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn encodes_reserved_characters() {
        let mut s = String::new();
        percent_encode("a b:c/é", &mut s);
        assert_eq!(s, "a%20b%3Ac%2F%C3%A9");
    }
}
