//! RFC 4648 base32 as authenticator secrets use it in the wild.
//!
//! Decoding is lenient where real exports are sloppy: lower case, spaces, hyphens, with or
//! without `=` padding, and a trailing partial group whose left-over bits are dropped (as
//! Google Authenticator does). Anything else is refused with the position of the first bad
//! character — never the character itself, which would leak part of a secret into error text.

use zeroize::Zeroize;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why a base32 string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    /// No symbols at all: nothing, or only spaces, hyphens, line breaks or padding.
    #[error("secret is empty")]
    Empty,
    /// A character outside the base32 alphabet and the separators we skip.
    #[error(
        "not valid base32: character {position} is not a letter A-Z, a digit 2-7, a space or a hyphen"
    )]
    InvalidCharacter {
        /// 1-based position of the character in the text.
        position: usize,
    },
    /// A `=` followed by more symbols.
    #[error("not valid base32: padding '=' at character {position} is followed by more data")]
    MisplacedPadding {
        /// 1-based position of the first `=`.
        position: usize,
    },
    /// Too few symbols for even one byte (a single symbol).
    #[error("not valid base32: {symbols} symbols do not make a whole byte")]
    TooShort {
        /// How many base32 symbols there were.
        symbols: usize,
    },
}

/// Encodes bytes as upper-case base32 without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[usize::from((buffer >> bits) & 0x1f)] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)] as char);
    }
    buffer.zeroize();
    out
}

fn symbol_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

/// Decodes base32 leniently. Positions in errors are 1-based character positions in `text`.
pub fn decode(text: &str) -> Result<Vec<u8>, Base32Error> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    let mut padding_at: Option<usize> = None;
    for (index, ch) in text.chars().enumerate() {
        let position = index + 1;
        if ch == ' ' || ch == '-' || ch == '\t' || ch == '\n' || ch == '\r' {
            continue;
        }
        if ch == '=' {
            padding_at.get_or_insert(position);
            continue;
        }
        let value = u8::try_from(ch).ok().and_then(symbol_value);
        let Some(value) = value else {
            out.zeroize();
            return Err(Base32Error::InvalidCharacter { position });
        };
        if let Some(position) = padding_at {
            out.zeroize();
            return Err(Base32Error::MisplacedPadding { position });
        }
        symbols += 1;
        buffer = (buffer << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    buffer.zeroize();
    if symbols == 0 {
        return Err(Base32Error::Empty);
    }
    if out.is_empty() {
        return Err(Base32Error::TooShort { symbols });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ];
        for (raw, b32) in cases {
            assert_eq!(encode(raw), b32);
            if !raw.is_empty() {
                assert_eq!(decode(b32).unwrap(), raw);
            }
        }
    }

    #[test]
    fn lenient_forms_decode_alike() {
        let want = decode("JBSWY3DPEHPK3PXP").unwrap();
        for form in [
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "jbsw-y3dp-ehpk-3pxp",
            "JBSWY3DPEHPK3PXP======",
            " JBSWY3DPEHPK3PXP ",
        ] {
            assert_eq!(decode(form).unwrap(), want, "{form}");
        }
    }

    #[test]
    fn errors_are_precise_and_do_not_echo_input() {
        assert_eq!(
            decode("JBSW1Y3D"),
            Err(Base32Error::InvalidCharacter { position: 5 })
        );
        assert_eq!(
            decode("JBSWÄY"),
            Err(Base32Error::InvalidCharacter { position: 5 })
        );
        assert_eq!(
            decode("MY==MY"),
            Err(Base32Error::MisplacedPadding { position: 3 })
        );
        assert_eq!(decode("  - "), Err(Base32Error::Empty));
        assert_eq!(decode("M"), Err(Base32Error::TooShort { symbols: 1 }));
        let msg = decode("SECRET1X").unwrap_err().to_string();
        assert!(!msg.contains("SECRET"), "{msg}");
    }
}
