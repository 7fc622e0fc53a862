//! Free functions: otpauth URIs, code display, KDF settings, platform keys.

use twofold_core::Secret;
use twofold_core::crypto::{self, KdfParams, SystemRandom};
use twofold_core::otp;
use twofold_core::uri::{self, Credential};

use crate::convert::{EntryInput, KdfSettings, OtpParams};
use crate::error::{Result, TwofoldError};

/// What an otpauth URI describes, without its secret (for a preview before adding).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UriPreview {
    /// How the codes are made.
    pub params: OtpParams,
    /// Service name; empty when the URI has none.
    pub issuer: String,
    /// Account name; empty when the URI has none.
    pub account: String,
    /// Length of the secret in bits.
    pub secret_bits: u32,
    /// Shorter than 128 bits: works, deserves a hint.
    pub weak_secret: bool,
}

/// Parses an otpauth URI (UTF-8 bytes: it holds the secret); a refusal says why in
/// `InvalidUri.reason`.
#[uniffi::export]
pub fn parse_otpauth_uri(uri: Vec<u8>) -> Result<UriPreview> {
    let uri = crate::convert::secret_text(uri)?;
    let c = uri::parse(&uri)?;
    Ok(UriPreview {
        params: (&c.kind).into(),
        issuer: c.issuer.clone(),
        account: c.account.clone(),
        secret_bits: (c.secret.len() * 8) as u32,
        weak_secret: c.secret.is_weak(),
    })
}

/// The canonical otpauth URI (UTF-8 bytes) of an account the caller describes (with the
/// secret it gives).
#[uniffi::export]
pub fn format_otpauth_uri(mut input: EntryInput) -> Result<Vec<u8>> {
    let text = crate::convert::secret_text(std::mem::take(&mut input.secret))?;
    let secret = Secret::from_base32(&text)
        .map_err(|e| TwofoldError::input(crate::error::InputProblem::Secret, e.to_string()))?;
    Ok(crate::convert::secret_bytes(uri::format(&Credential {
        kind: input.params.kind()?,
        secret,
        issuer: input.issuer,
        account: input.account,
    })))
}

/// A code split for reading (`123 456`, `1234 5678`; Steam codes whole).
#[uniffi::export]
pub fn display_code(code: String) -> String {
    otp::display_grouped(&code)
}

/// Whether a clock offset deserves a warning (beyond ±15 s).
#[uniffi::export]
pub fn clock_offset_needs_warning(offset_seconds: i64) -> bool {
    otp::offset_needs_warning(offset_seconds)
}

/// Default Argon2id settings for a vault password (64 MiB, 3 passes).
#[uniffi::export]
pub fn default_kdf() -> KdfSettings {
    KdfParams::DEFAULT.into()
}

/// Argon2id settings that take about `target_ms` on this device, using at most
/// `max_memory_kib` (never below the 19 MiB / 2-pass floor). Slow: call off the main thread.
#[uniffi::export]
pub fn calibrate_kdf(target_ms: u64, max_memory_kib: u32) -> Result<KdfSettings> {
    crypto::calibrate(std::time::Duration::from_millis(target_ms), max_memory_kib)
        .map(Into::into)
        .map_err(|e| TwofoldError::Internal {
            details: e.to_string(),
        })
}

/// 32 random bytes for a new platform or device slot. The app wraps them with its hardware
/// keystore, passes both to `add_platform_slot`, and zero-fills its copy.
#[uniffi::export]
pub fn generate_platform_key() -> Result<Vec<u8>> {
    let key = crypto::random_key(&SystemRandom::new()).map_err(|e| TwofoldError::Internal {
        details: e.to_string(),
    })?;
    Ok(key.to_vec())
}

/// How strong a new password looks (for the create-vault and change-password screens).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PasswordStrength {
    /// 0 (trivial) to 4 (strong).
    pub score: u8,
    /// Estimated guesses needed to find the password, as a power of ten.
    pub guesses_log10: f64,
    /// Let it through without an explicit "use anyway".
    pub acceptable: bool,
    /// Hints, most important first.
    pub feedback: Vec<String>,
}

/// Strength feedback for a password being typed; the bytes are wiped after use.
#[uniffi::export]
pub fn password_strength(password: Vec<u8>) -> PasswordStrength {
    let password = zeroize::Zeroizing::new(password);
    let s = twofold_core::vault::strength::estimate(&password);
    PasswordStrength {
        score: s.score,
        guesses_log10: s.guesses_log10,
        acceptable: s.acceptable,
        feedback: s.feedback,
    }
}
