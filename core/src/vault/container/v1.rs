//! Reader of format version 1 (`TWFV`/`TWFB` v1), kept so that every file written by
//! Twofold 0.1 still opens: the session upgrades a v1 vault to version 2 on its first unlock,
//! and v1 backups can still be verified and restored. Nothing here writes. The v1 layout is
//! described in `docs/vault-format.md` §10.
//!
//! A v1 file is not authenticated: anyone can wrap a key to a slot's public key. Whatever is
//! opened from one is reported as unauthenticated, and a v1 vault is rewritten as v2 at once.

use serde::{Deserialize, Serialize};

use super::{
    MAX_FILE_LEN, NONCE_LEN, PREFIX_LEN, PlatformRef, SlotKdf, SlotKind, TAG_LEN, Wrap,
    check_kdf_shape, corrupt, kind_code, wrap_key,
};
use crate::crypto::{self, CryptoError, Key32, SlotKeyPair, hkdf32};
use crate::serde_bytes_helpers::array;
use crate::vault::VaultError;
use crate::vault::model::VaultContent;

/// The version this module reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest v1 header.
const MAX_HEADER_LEN: usize = 256 * 1024;
/// Most slots a v1 file could carry.
const MAX_SLOTS: usize = 64;

/// A v1 key slot (the label and creation time were in the clear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Random slot id.
    #[serde(with = "array")]
    pub id: [u8; 16],
    /// What the slot is unlocked with.
    pub kind: SlotKind,
    /// The user's name for the slot (in the clear in v1).
    #[serde(default)]
    pub label: String,
    /// When the slot was added (ms since the epoch).
    pub created_at: i64,
    /// X25519 public key of the slot.
    #[serde(with = "array")]
    pub public_key: [u8; 32],
    /// Argon2id parameters and salt of a password or PIN slot.
    #[serde(default)]
    pub kdf: Option<SlotKdf>,
    /// Keystore reference of a platform or PIN slot.
    #[serde(default)]
    pub platform: Option<PlatformRef>,
    /// The master key wrapped to `public_key`.
    pub wrap: Wrap,
}

/// The v1 header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Random id of the vault.
    #[serde(with = "array")]
    pub vault_id: [u8; 16],
    /// +1 on every write.
    pub generation: u64,
    /// When the vault was created (ms since the epoch).
    pub created_at: i64,
    /// When the file was last written (ms since the epoch).
    pub updated_at: i64,
    /// The key slots.
    pub slots: Vec<Slot>,
}

/// A parsed v1 file.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// [`VAULT_MAGIC`](super::VAULT_MAGIC) or [`BACKUP_MAGIC`](super::BACKUP_MAGIC).
    pub magic: [u8; 4],
    /// The header as read (nothing in v1 authenticates it).
    pub header: Header,
    aad: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

/// Parses a v1 file. Like the v1 reader always did, any other version is refused as
/// [`VaultError::UnsupportedVersion`] — which is what Twofold 0.1 says of a version 2 file.
pub fn parse(bytes: &[u8], magic: [u8; 4]) -> Result<Parsed, VaultError> {
    if bytes.len() > MAX_FILE_LEN || bytes.len() < PREFIX_LEN {
        return Err(corrupt("the file's length is implausible"));
    }
    if bytes[..4] != magic {
        return Err(VaultError::NotAContainer(if magic == super::VAULT_MAGIC {
            "vault"
        } else {
            "backup"
        }));
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(VaultError::UnsupportedVersion(version));
    }
    let header_len = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    if header_len > MAX_HEADER_LEN {
        return Err(corrupt(format!(
            "header length {header_len} is implausible"
        )));
    }
    let header_end = PREFIX_LEN + header_len;
    if bytes.len() < header_end + NONCE_LEN + TAG_LEN {
        return Err(corrupt("file is truncated"));
    }
    let header: Header = rmp_serde::from_slice(&bytes[PREFIX_LEN..header_end])
        .map_err(|_| corrupt("header is not readable"))?;
    if header.slots.is_empty() || header.slots.len() > MAX_SLOTS {
        return Err(corrupt("the file has no key slots, or too many"));
    }
    for (i, slot) in header.slots.iter().enumerate() {
        // Version 1 never checked this; a repeated id would let one platform or PIN
        // credential be tried against many slots (one Argon2id run each).
        if header.slots[..i].iter().any(|o| o.id == slot.id) {
            return Err(corrupt("two key slots share an id"));
        }
        if slot.wrap.ciphertext.len() != 32 + TAG_LEN {
            return Err(corrupt("a key slot is malformed"));
        }
        check_kdf_shape(slot.kind, slot.kdf.as_ref(), slot.platform.as_ref())?;
    }
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&bytes[header_end..header_end + NONCE_LEN]);
    Ok(Parsed {
        magic,
        header,
        aad: bytes[..header_end].to_vec(),
        nonce,
        ciphertext: bytes[header_end + NONCE_LEN..].to_vec(),
    })
}

/// The v1 slot AAD: `"twofold/v1/slot" | magic | vault_id | slot_id | kind | kdf | alias |
/// public key`.
fn slot_aad(magic: [u8; 4], vault_id: &[u8; 16], slot: &Slot) -> Vec<u8> {
    super::slot_aad_with(
        b"twofold/v1/slot",
        magic,
        vault_id,
        &slot.id,
        kind_code(slot.kind),
        slot.kdf.as_ref(),
        slot.platform.as_ref(),
        &slot.public_key,
    )
}

/// Unwraps the master key of a v1 slot with the slot's key pair.
pub fn unwrap_master_key(
    parsed: &Parsed,
    slot: &Slot,
    keys: &SlotKeyPair,
) -> Result<Key32, VaultError> {
    if keys.public != slot.public_key {
        return Err(VaultError::WrongCredential);
    }
    let vault_id = &parsed.header.vault_id;
    let shared = keys.agree(&slot.wrap.ephemeral);
    let kek = wrap_key(
        b"twofold/v1/wrap",
        &shared,
        &slot.wrap.ephemeral,
        &slot.public_key,
        vault_id,
    );
    let aad = slot_aad(parsed.magic, vault_id, slot);
    let plain =
        crypto::open(&kek, &slot.wrap.nonce, &aad, &slot.wrap.ciphertext).map_err(|e| match e {
            CryptoError::Authentication => VaultError::WrongCredential,
            other => VaultError::Crypto(other),
        })?;
    let mut mk = zeroize::Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(corrupt("a key slot holds a key of the wrong size"));
    }
    mk.copy_from_slice(&plain);
    Ok(mk)
}

/// Decrypts a v1 body: `K_body = HKDF(MK, vault_id, "twofold/v1/body")`, no padding.
pub fn open_body(parsed: &Parsed, master_key: &Key32) -> Result<VaultContent, VaultError> {
    let body_key = hkdf32(
        master_key.as_ref(),
        &parsed.header.vault_id,
        b"twofold/v1/body",
    );
    let plaintext = crypto::open(&body_key, &parsed.nonce, &parsed.aad, &parsed.ciphertext)
        .map_err(|_| corrupt("the encrypted body failed authentication"))?;
    rmp_serde::from_slice(&plaintext).map_err(|_| corrupt("the decrypted body is not readable"))
}
