//! Recovery keys: 128 random bits, printed as 28 base32 characters in seven groups of four,
//! the last two being a check value.
//!
//! The check value is `s · 27 + h`, where `s` is the sum of the 26 data symbols weighted by
//! their position (1..=26) modulo the prime 37, and `h` is a byte of SHA-256 over the key
//! modulo 27. Because 37 is prime and larger than every symbol difference and weight, any
//! single mistyped character and any swap of two neighbouring characters changes `s`, so the
//! typo is caught before any key derivation is attempted. Easily confused characters
//! (`0`/`O`, `1`/`I`, `8`/`B`) are read as the letter, and case, spaces and hyphens are ignored.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{CryptoError, RandomSource, random_array};
use crate::uri::base32;

const DATA_SYMBOLS: usize = 26;
const CHECK_SYMBOLS: usize = 2;
const TOTAL_SYMBOLS: usize = DATA_SYMBOLS + CHECK_SYMBOLS;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A recovery key. `Display` is deliberately absent; use [`RecoveryKey::reveal`] where the
/// key must be shown (once, at setup).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct RecoveryKey([u8; 16]);

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(<redacted>)")
    }
}

/// Why a typed recovery key was refused before trying it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryKeyError {
    /// Not 28 characters once whitespace and hyphens are left out (how many there were).
    #[error("a recovery key has {TOTAL_SYMBOLS} characters; this has {0}")]
    Length(usize),
    /// A character outside the base32 alphabet (its 1-based position in the text).
    #[error("character {0} of the recovery key is not a letter A-Z or a digit 2-7")]
    Character(usize),
    /// The check characters do not match the rest: a typo.
    #[error("the recovery key has a typo (its check characters do not match)")]
    Checksum,
}

impl RecoveryKey {
    /// A new random recovery key.
    pub fn generate(rng: &dyn RandomSource) -> Result<Self, CryptoError> {
        Ok(RecoveryKey(random_array(rng)?))
    }

    /// From raw bytes (worked examples and tests).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        RecoveryKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The printable form, e.g. `ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23`.
    pub fn reveal(&self) -> Zeroizing<String> {
        let mut symbols = Zeroizing::new(base32::encode(&self.0).into_bytes());
        let values: Zeroizing<Vec<u8>> = Zeroizing::new(
            symbols
                .iter()
                .map(|&c| symbol_value(c).unwrap_or(0))
                .collect(),
        );
        let check = check_value(&values, &self.0);
        symbols.push(ALPHABET[(check >> 5) as usize]);
        symbols.push(ALPHABET[(check & 31) as usize]);
        let mut out = String::with_capacity(TOTAL_SYMBOLS + 6);
        for (i, &c) in symbols.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c as char);
        }
        Zeroizing::new(out)
    }

    /// Parses a typed recovery key, catching typos through the check characters.
    pub fn parse(text: &str) -> Result<Self, RecoveryKeyError> {
        let mut values = Zeroizing::new(Vec::with_capacity(TOTAL_SYMBOLS));
        for (index, ch) in text.chars().enumerate() {
            if ch.is_whitespace() || ch == '-' {
                continue;
            }
            let c = match ch.to_ascii_uppercase() {
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                other => other,
            };
            let v = u8::try_from(c).ok().and_then(symbol_value);
            match v {
                Some(v) => values.push(v),
                None => return Err(RecoveryKeyError::Character(index + 1)),
            }
        }
        if values.len() != TOTAL_SYMBOLS {
            return Err(RecoveryKeyError::Length(values.len()));
        }
        // 26 symbols carry 130 bits: 128 of key and 2 that must be zero.
        if values[DATA_SYMBOLS - 1] & 0b11 != 0 {
            return Err(RecoveryKeyError::Checksum);
        }
        let text: Zeroizing<String> = Zeroizing::new(
            values[..DATA_SYMBOLS]
                .iter()
                .map(|&v| ALPHABET[v as usize] as char)
                .collect(),
        );
        let bytes = Zeroizing::new(base32::decode(&text).map_err(|_| RecoveryKeyError::Checksum)?);
        let mut key = [0u8; 16];
        key.copy_from_slice(&bytes[..16]);
        let want = check_value(&values[..DATA_SYMBOLS], &key);
        let got = (u16::from(values[DATA_SYMBOLS]) << 5) | u16::from(values[DATA_SYMBOLS + 1]);
        if want != got {
            key.zeroize();
            return Err(RecoveryKeyError::Checksum);
        }
        Ok(RecoveryKey(key))
    }
}

fn symbol_value(c: u8) -> Option<u8> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

fn check_value(data_symbols: &[u8], key: &[u8; 16]) -> u16 {
    let weighted: u32 = data_symbols
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as u32 + 1) * u32::from(v))
        .sum();
    let s = (weighted % 37) as u16;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        &[b"twofold recovery".as_ref(), key].concat(),
    );
    let h = u16::from(digest.as_ref()[0]) % 27;
    s * 27 + h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    #[test]
    fn printable_form_round_trips_leniently() {
        let key = RecoveryKey::generate(&SystemRandom::new()).unwrap();
        let text = key.reveal();
        assert_eq!(text.len(), 34);
        assert_eq!(text.matches('-').count(), 6);
        assert_eq!(RecoveryKey::parse(&text).unwrap(), key);
        assert_eq!(
            RecoveryKey::parse(&text.to_lowercase().replace('-', " ")).unwrap(),
            key
        );
    }

    #[test]
    fn every_single_substitution_and_neighbour_swap_is_caught() {
        let rng = SystemRandom::new();
        for _ in 0..20 {
            let key = RecoveryKey::generate(&rng).unwrap();
            let clean: Vec<u8> = key.reveal().bytes().filter(|&c| c != b'-').collect();
            for pos in 0..clean.len() {
                for &replacement in ALPHABET.iter() {
                    if replacement == clean[pos] {
                        continue;
                    }
                    let mut typo = clean.clone();
                    typo[pos] = replacement;
                    let typed = String::from_utf8(typo).unwrap();
                    assert!(
                        RecoveryKey::parse(&typed).is_err(),
                        "substitution at {pos} slipped through"
                    );
                }
                if pos + 1 < clean.len() && clean[pos] != clean[pos + 1] {
                    let mut swapped = clean.clone();
                    swapped.swap(pos, pos + 1);
                    let typed = String::from_utf8(swapped).unwrap();
                    assert!(
                        RecoveryKey::parse(&typed).is_err(),
                        "swap at {pos} slipped through"
                    );
                }
            }
        }
    }

    #[test]
    fn confusable_digits_read_as_letters() {
        let key = RecoveryKey::from_bytes([0u8; 16]);
        let text = key.reveal();
        assert!(text.starts_with("AAAA"));
        let key2 = RecoveryKey::from_bytes([0x01; 16]);
        let t2 = key2
            .reveal()
            .replace('O', "0")
            .replace('I', "1")
            .replace('B', "8");
        assert_eq!(RecoveryKey::parse(&t2).unwrap(), key2);
    }

    #[test]
    fn errors() {
        assert_eq!(RecoveryKey::parse("ABCD"), Err(RecoveryKeyError::Length(4)));
        assert_eq!(
            RecoveryKey::parse("ABC!"),
            Err(RecoveryKeyError::Character(4))
        );
        assert_eq!(
            format!("{:?}", RecoveryKey::from_bytes([1; 16])),
            "RecoveryKey(<redacted>)"
        );
    }
}
