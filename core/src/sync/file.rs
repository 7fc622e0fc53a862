//! The snapshot file `TWFS` version 1 (`docs/sync-protocol.md` §4): one device's full state,
//! encrypted under the group's epoch key and signed with the device's key.
//!
//! ```text
//! "TWFS" | u16 version | u32 header_len | header (MessagePack)
//!        | XChaCha20-Poly1305(K_body, header.nonce, padded body, AAD = every byte before it)
//!        | Ed25519 signature (64 bytes) by header.writer over "twofold/sync/1 file" ‖ every byte before it
//! ```
//!
//! A reader checks sizes, parses the header, verifies the signature, and only then decrypts.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::doc::Doc;
use super::roster::{DeviceKey, EpochId, Signed};
use crate::crypto::{self, RandomSource, SigningKey};
use crate::serde_bytes_helpers::array;

/// The first four bytes of every snapshot file.
pub const MAGIC: [u8; 4] = *b"TWFS";
/// The snapshot format version this build writes (and the newest it reads).
pub const VERSION: u16 = 1;
/// Largest snapshot file read (a 100 000-entry vault is about 12 MiB).
pub const MAX_FILE_LEN: u64 = 32 * 1024 * 1024;
/// Largest header (a rotation wrapped to the most devices a group holds fits).
pub const MAX_HEADER_LEN: usize = 256 * 1024;
/// Largest body once inflated.
pub const MAX_PLAIN_LEN: usize = 96 * 1024 * 1024;
const PREFIX_LEN: usize = 10;
const SIG_LEN: usize = 64;
const TAG_LEN: usize = 16;
const SIGNATURE_CONTEXT: &[u8] = b"twofold/sync/1 file";
const BODY_INFO: &[u8] = b"twofold/sync/1 body";
/// Body encodings.
const DEFLATE: u8 = 1;

/// The clear header of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHeader {
    /// The group's id.
    #[serde(with = "array")]
    pub group: [u8; 16],
    /// The writer's signing key (its device tag names the file).
    #[serde(with = "array")]
    pub writer: DeviceKey,
    /// The writer's generation: +1 for every file it writes, never reused.
    pub generation: u64,
    /// The epoch whose key encrypts the body.
    pub epoch: EpochId,
    /// The body's XChaCha20-Poly1305 nonce: random, new for every file.
    #[serde(with = "array")]
    pub nonce: [u8; 24],
    /// The signed rotation that introduced `epoch` (wraps its key to each recipient), so a
    /// device that missed it can still read the file.
    pub rotation: Option<Signed>,
    /// The group's revocations (signed; they name device keys only), so a removed device
    /// learns that it was removed although it cannot read the body.
    #[serde(default)]
    pub revocations: Vec<Signed>,
}

/// What the writer saw of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The member's signing key.
    #[serde(with = "array")]
    pub device: DeviceKey,
    /// The member's latest generation the writer had merged.
    pub generation: u64,
    /// SHA-256 of that file ([`digest`]).
    #[serde(with = "array")]
    pub digest: [u8; 32],
}

/// The encrypted body of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// The writer's wall clock when it wrote (ms).
    pub written_at: i64,
    /// The writer's hybrid logical clock.
    pub clock: u64,
    /// Every membership statement the writer holds.
    pub statements: Vec<Signed>,
    /// Every rotation the writer holds.
    pub rotations: Vec<Signed>,
    /// The latest generation the writer had merged from each member.
    pub seen: Vec<Seen>,
    /// The writer's replicated document: its whole merged state.
    pub doc: Doc,
}

/// Why a file is not a readable snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The file has no bytes.
    #[error("empty (still being written?)")]
    Empty,
    /// It does not start with [`MAGIC`].
    #[error("not a Twofold sync file")]
    NotASnapshot,
    /// Its format version (the field) is newer than [`VERSION`].
    #[error("written by a newer Twofold (sync file version {0})")]
    UnsupportedVersion(u16),
    /// Its size (the field, in bytes) is above [`MAX_FILE_LEN`].
    #[error("{0} bytes, more than a sync file may have")]
    TooLarge(u64),
    /// It ends before its header, body or signature does.
    #[error("truncated")]
    Truncated,
    /// Its header is malformed or too large, or one could not be written (the field says
    /// which).
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// The writer's signature over the file does not verify.
    #[error("its signature does not verify (altered, truncated or forged)")]
    BadSignature,
    /// The body does not decrypt with the epoch key given.
    #[error("it does not decrypt with the group's key")]
    Decryption,
    /// The decrypted body is not a readable body (the field says what is wrong).
    #[error("its contents are not readable: {0}")]
    BadBody(&'static str),
}

/// A parsed (not yet verified) snapshot.
pub struct Parsed<'a> {
    /// The file's clear header (not yet authenticated).
    pub header: FileHeader,
    bytes: &'a [u8],
    header_end: usize,
}

/// The name a device gives its file of a generation: `d-<16 hex digits of its tag>-<gen>.twfs`.
pub fn file_name(devtag: u64, generation: u64) -> String {
    format!("d-{devtag:016x}-{generation}.twfs")
}

/// The tag and generation of a canonical file name; `None` for any other name.
pub fn parse_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("d-")?.strip_suffix(".twfs")?;
    let (tag, generation) = rest.split_once('-')?;
    if tag.len() != 16 || !tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    if generation.is_empty()
        || generation.len() > 20
        || !generation.bytes().all(|b| b.is_ascii_digit())
        || (generation.len() > 1 && generation.starts_with('0'))
    {
        return None;
    }
    Some((u64::from_str_radix(tag, 16).ok()?, generation.parse().ok()?))
}

/// Whether a name that is not canonical looks like a copy of one made by a sync tool
/// (`d-….sync-conflict-….twfs`, `d-… (conflicted copy …).twfs`, `d-… (1).twfs`, …).
pub fn looks_like_copy(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("d-") else {
        return false;
    };
    rest.len() >= 17
        && rest.as_bytes()[..16]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && name.contains(".twfs")
        && parse_name(name).is_none()
}

fn body_key(epoch_key: &[u8; 32], group: &[u8; 16], epoch: EpochId) -> crypto::Key32 {
    let mut info = BODY_INFO.to_vec();
    info.extend_from_slice(&epoch.n.to_be_bytes());
    info.extend_from_slice(&epoch.by.to_be_bytes());
    crypto::hkdf32(epoch_key, group, &info)
}

/// The padded plaintext: encoding byte, u32 length, the deflated MessagePack body, zeros up
/// to a Padmé size.
fn pad(body: &Body) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let packed = Zeroizing::new(
        rmp_serde::to_vec_named(body).map_err(|_| FileError::BadBody("cannot encode"))?,
    );
    let deflated = Zeroizing::new(miniz_oxide::deflate::compress_to_vec(&packed, 6));
    let len = u32::try_from(deflated.len()).map_err(|_| FileError::TooLarge(u64::MAX))?;
    let total = crypto::padded_len(5 + deflated.len());
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    out.push(DEFLATE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&deflated);
    out.resize(total, 0);
    Ok(out)
}

pub(crate) fn unpad(plain: &[u8]) -> Result<Body, FileError> {
    if plain.len() < 5 || plain[0] != DEFLATE {
        return Err(FileError::BadBody("unknown encoding"));
    }
    let len = u32::from_be_bytes(plain[1..5].try_into().expect("4 bytes")) as usize;
    let data = plain
        .get(5..5 + len)
        .ok_or(FileError::BadBody("length past the end"))?;
    if plain[5 + len..].iter().any(|b| *b != 0) {
        return Err(FileError::BadBody("padding is not zero"));
    }
    let inflated = Zeroizing::new(
        miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_PLAIN_LEN)
            .map_err(|_| FileError::BadBody("compressed data is damaged or too large"))?,
    );
    rmp_serde::from_slice(&inflated).map_err(|_| FileError::BadBody("not a snapshot body"))
}

/// Writes a snapshot: encrypts `body` under the epoch key, signs with the device key.
pub fn seal(
    header_fields: FileHeader,
    body: &Body,
    epoch_key: &[u8; 32],
    signer: &SigningKey,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, FileError> {
    let mut header = header_fields;
    header.nonce = crypto::random_array(rng).map_err(|_| FileError::Malformed("no randomness"))?;
    let header_bytes =
        rmp_serde::to_vec_named(&header).map_err(|_| FileError::Malformed("header"))?;
    if header_bytes.len() > MAX_HEADER_LEN {
        return Err(FileError::Malformed("header too large"));
    }
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_bytes);
    let plain = pad(body)?;
    let key = body_key(epoch_key, &header.group, header.epoch);
    let ciphertext = crypto::seal(&key, &header.nonce, &out, &plain);
    out.extend_from_slice(&ciphertext);
    let sig = signer.sign(&[SIGNATURE_CONTEXT, out.as_slice()].concat());
    out.extend_from_slice(&sig);
    if out.len() as u64 > MAX_FILE_LEN {
        return Err(FileError::TooLarge(out.len() as u64));
    }
    Ok(out)
}

/// Parses the clear parts of a snapshot (bounded: nothing is allocated beyond the input).
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(FileError::TooLarge(bytes.len() as u64));
    }
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(FileError::NotASnapshot);
    }
    if bytes.len() < PREFIX_LEN {
        return Err(FileError::Truncated);
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    if version != VERSION {
        return Err(FileError::UnsupportedVersion(version));
    }
    let header_len = u32::from_be_bytes(bytes[6..10].try_into().expect("4 bytes")) as usize;
    if header_len > MAX_HEADER_LEN {
        return Err(FileError::Malformed("header too large"));
    }
    let header_end = PREFIX_LEN + header_len;
    if bytes.len() < header_end + TAG_LEN + SIG_LEN {
        return Err(FileError::Truncated);
    }
    let header: FileHeader = rmp_serde::from_slice(&bytes[PREFIX_LEN..header_end])
        .map_err(|_| FileError::Malformed("header"))?;
    Ok(Parsed {
        header,
        bytes,
        header_end,
    })
}

impl Parsed<'_> {
    /// Verifies the writer's signature over the whole file.
    pub fn verify(&self) -> Result<(), FileError> {
        let split = self.bytes.len() - SIG_LEN;
        let sig: [u8; 64] = self.bytes[split..].try_into().expect("64 bytes");
        let message = [SIGNATURE_CONTEXT, &self.bytes[..split]].concat();
        if crypto::verify_signature(&self.header.writer, &message, &sig) {
            Ok(())
        } else {
            Err(FileError::BadSignature)
        }
    }

    /// Decrypts and decodes the body (after [`Parsed::verify`]).
    pub fn open(&self, epoch_key: &[u8; 32]) -> Result<Body, FileError> {
        let split = self.bytes.len() - SIG_LEN;
        let key = body_key(epoch_key, &self.header.group, self.header.epoch);
        let plain = crypto::open(
            &key,
            &self.header.nonce,
            &self.bytes[..self.header_end],
            &self.bytes[self.header_end..split],
        )
        .map_err(|_| FileError::Decryption)?;
        unpad(&plain)
    }
}

/// SHA-256 of a whole file: what "the same generation" is compared by.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    crypto::sha256(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_canonical_or_nothing() {
        let name = file_name(0x0123_4567_89ab_cdef, 42);
        assert_eq!(name, "d-0123456789abcdef-42.twfs");
        assert_eq!(parse_name(&name), Some((0x0123_4567_89ab_cdef, 42)));
        for bad in [
            "d-0123456789ABCDEF-42.twfs",
            "d-0123456789abcdef-042.twfs",
            "d-0123456789abcdef-.twfs",
            "d-0123456789abcde-42.twfs",
            "d-0123456789abcdef-42.twfs.tmp",
            ".syncthing.d-0123456789abcdef-42.twfs.tmp",
            "d-0123456789abcdef-99999999999999999999999.twfs",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
        for copy in [
            "d-0123456789abcdef-42.sync-conflict-20240101-120000-ABCDEFG.twfs",
            "d-0123456789abcdef-42 (conflicted copy 2024-01-01 120000).twfs",
            "d-0123456789abcdef-42 (1).twfs",
        ] {
            assert!(looks_like_copy(copy), "{copy}");
        }
        assert!(!looks_like_copy("notes.txt"));
        assert!(!looks_like_copy(&name));
    }
}
