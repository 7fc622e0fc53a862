//! [`Secret`]: raw OTP key bytes that never show up in logs and are wiped from memory on drop.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::uri::base32;

/// Secrets shorter than this many bits are accepted (Google issues 80-bit ones) but flagged.
pub const RECOMMENDED_MIN_BITS: usize = 128;
/// Upper bound on the size of a secret we accept from any input, in bytes. Real secrets are
/// 10–64 bytes; anything far beyond is hostile or a mistake.
pub const MAX_SECRET_BYTES: usize = 1024;

/// The key bytes of an OTP account.
///
/// `Debug` prints only a redaction marker, there is no `Display`, equality is constant-time,
/// and the bytes are zeroized when the value is dropped. Base32 appears only at the edges
/// ([`Secret::from_base32`], [`Secret::to_base32`]).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps raw key bytes. Fails for an empty key or one larger than [`MAX_SECRET_BYTES`].
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let mut bytes = bytes.into();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        if bytes.len() > MAX_SECRET_BYTES {
            let len = bytes.len();
            bytes.zeroize();
            return Err(SecretError::TooLong { len });
        }
        Ok(Secret(bytes))
    }

    /// Decodes a base32 secret leniently (see [`base32::decode`]).
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let bytes = base32::decode(text)?;
        Secret::from_bytes(bytes)
    }

    /// Upper-case, unpadded base32 — the form used in otpauth URIs and exports.
    pub fn to_base32(&self) -> String {
        base32::encode(&self.0)
    }

    /// The key bytes. Callers must not copy them into non-zeroizing storage.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length of the key in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for a constructed secret; present for API completeness.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when the key is shorter than [`RECOMMENDED_MIN_BITS`]; such keys work but
    /// deserve a warning.
    pub fn is_weak(&self) -> bool {
        self.0.len() * 8 < RECOMMENDED_MIN_BITS
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        if self.0.len() != other.0.len() {
            return false;
        }
        // Constant-time over the common length: no early exit on the first difference.
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for Secret {}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = crate::serde_bytes_helpers::bytes::deserialize(d)?;
        Secret::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a secret was refused. Never contains any part of the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No key bytes at all.
    #[error("secret is empty")]
    Empty,
    /// More than [`MAX_SECRET_BYTES`] key bytes.
    #[error("secret is too long ({len} bytes; at most {MAX_SECRET_BYTES})")]
    TooLong {
        /// How many bytes it had.
        len: usize,
    },
    /// The text is not valid base32.
    #[error(transparent)]
    Base32(#[from] base32::Base32Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let dbg = format!("{s:?}");
        assert_eq!(dbg, "Secret(<redacted>)");
        assert!(!dbg.contains("JBSW"));
    }

    #[test]
    fn equality_compares_content_and_length() {
        let a = Secret::from_bytes(vec![1, 2, 3]).unwrap();
        let b = Secret::from_bytes(vec![1, 2, 3]).unwrap();
        let c = Secret::from_bytes(vec![1, 2, 4]).unwrap();
        let d = Secret::from_bytes(vec![1, 2]).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn weak_secrets_are_flagged_not_refused() {
        let google = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(); // 80 bits
        assert!(google.is_weak());
        let strong = Secret::from_bytes(vec![7u8; 20]).unwrap();
        assert!(!strong.is_weak());
    }

    #[test]
    fn empty_and_oversized_are_refused() {
        assert_eq!(Secret::from_bytes(Vec::new()), Err(SecretError::Empty));
        assert!(matches!(
            Secret::from_bytes(vec![0u8; MAX_SECRET_BYTES + 1]),
            Err(SecretError::TooLong { .. })
        ));
    }
}
