//! The `TWFV` (vault) and `TWFB` (backup) container: a MessagePack header authenticated as
//! associated data, an XChaCha20-Poly1305 body, and key slots that each wrap the master key.
//! `docs/vault-format.md` is the normative description; this module is its implementation.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{
    self, CryptoError, KdfParams, Key32, RandomSource, SlotKeyPair, ephemeral_agree, hkdf32,
};
use crate::serde_bytes_helpers::{array, bytes};
use crate::vault::VaultError;
use crate::vault::model::VaultContent;

/// Magic of a vault file.
pub const VAULT_MAGIC: [u8; 4] = *b"TWFV";
/// Magic of a backup file.
pub const BACKUP_MAGIC: [u8; 4] = *b"TWFB";
/// Container version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Largest header we parse (a header is a few hundred bytes per slot).
pub const MAX_HEADER_LEN: usize = 256 * 1024;
/// Largest container we read: far above 10 000 entries, far below memory trouble.
pub const MAX_FILE_LEN: usize = 256 * 1024 * 1024;
/// Most slots a file may carry.
pub const MAX_SLOTS: usize = 64;

const PREFIX_LEN: usize = 4 + 2 + 4;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// What a slot is unlocked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotKind {
    /// A password through Argon2id.
    Password,
    /// A 32-byte key the app keeps wrapped by the hardware keystore (biometric unlock).
    Platform,
    /// The printable recovery key.
    Recovery,
    /// A PIN through Argon2id, combined with a device key from the keystore.
    Pin,
}

impl SlotKind {
    pub fn label(self) -> &'static str {
        match self {
            SlotKind::Password => "password",
            SlotKind::Platform => "platform",
            SlotKind::Recovery => "recovery",
            SlotKind::Pin => "pin",
        }
    }

    fn code(self) -> u8 {
        match self {
            SlotKind::Password => 1,
            SlotKind::Platform => 2,
            SlotKind::Recovery => 3,
            SlotKind::Pin => 4,
        }
    }
}

/// Argon2id parameters and salt of a password or PIN slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotKdf {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    #[serde(with = "bytes")]
    pub salt: Vec<u8>,
}

impl SlotKdf {
    pub fn params(&self) -> KdfParams {
        KdfParams {
            m_kib: self.m_kib,
            t: self.t,
            p: self.p,
        }
    }
}

/// The keystore side of a platform or PIN slot: the alias of the hardware key and the blob
/// the app produced by wrapping the slot's 32-byte key with it. Opaque to the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRef {
    pub alias: String,
    #[serde(with = "bytes")]
    pub blob: Vec<u8>,
}

/// The master key wrapped to a slot's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrap {
    #[serde(with = "array")]
    pub ephemeral: [u8; 32],
    #[serde(with = "array")]
    pub nonce: [u8; 24],
    #[serde(with = "bytes")]
    pub ciphertext: Vec<u8>,
}

/// One way to open the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    #[serde(with = "array")]
    pub id: [u8; 16],
    pub kind: SlotKind,
    #[serde(default)]
    pub label: String,
    pub created_at: i64,
    /// X25519 public key of the slot; its private key is derived from the credential.
    #[serde(with = "array")]
    pub public_key: [u8; 32],
    #[serde(default)]
    pub kdf: Option<SlotKdf>,
    #[serde(default)]
    pub platform: Option<PlatformRef>,
    pub wrap: Wrap,
}

/// The authenticated, unencrypted header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    #[serde(with = "array")]
    pub vault_id: [u8; 16],
    pub generation: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub slots: Vec<Slot>,
}

/// A parsed but not yet decrypted file.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub magic: [u8; 4],
    pub header: Header,
    /// Every byte before the body nonce: the body's associated data.
    pub aad: Vec<u8>,
    pub nonce: [u8; 24],
    pub ciphertext: Vec<u8>,
}

/// Why a container could not be parsed; all of these mean "damaged", never "wrong key".
fn corrupt(reason: impl Into<String>) -> VaultError {
    VaultError::Corrupt(reason.into())
}

/// Parses the framing and header of a container with the expected magic.
pub fn parse(bytes: &[u8], magic: [u8; 4]) -> Result<Parsed, VaultError> {
    if bytes.len() > MAX_FILE_LEN {
        return Err(corrupt(format!(
            "file is too large ({} bytes)",
            bytes.len()
        )));
    }
    if bytes.len() < PREFIX_LEN {
        return Err(corrupt("file is truncated (no header)"));
    }
    if bytes[..4] != magic {
        let what = if magic == VAULT_MAGIC {
            "vault"
        } else {
            "backup"
        };
        return Err(VaultError::NotAContainer(what));
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
    validate_header(&header)?;
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

fn validate_header(header: &Header) -> Result<(), VaultError> {
    if header.slots.is_empty() {
        return Err(corrupt("the file has no key slots"));
    }
    if header.slots.len() > MAX_SLOTS {
        return Err(corrupt("the file has too many key slots"));
    }
    for slot in &header.slots {
        if slot.wrap.ciphertext.len() != 32 + TAG_LEN {
            return Err(corrupt("a key slot is malformed"));
        }
        match (slot.kind, &slot.kdf, &slot.platform) {
            (SlotKind::Password, Some(kdf), None) => check_kdf(kdf)?,
            (SlotKind::Pin, Some(kdf), Some(_)) => check_kdf(kdf)?,
            (SlotKind::Platform, None, Some(_)) | (SlotKind::Recovery, None, None) => {}
            _ => return Err(corrupt("a key slot is malformed")),
        }
    }
    Ok(())
}

fn check_kdf(kdf: &SlotKdf) -> Result<(), VaultError> {
    if kdf.salt.len() < 16 || kdf.salt.len() > 64 {
        return Err(corrupt("a key slot has a malformed salt"));
    }
    kdf.params().check_readable().map_err(VaultError::Kdf)
}

/// Serializes a header and seals the content into a complete file.
pub fn seal_file(
    magic: [u8; 4],
    header: &Header,
    master_key: &Key32,
    content: &VaultContent,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, VaultError> {
    let header_bytes =
        rmp_serde::to_vec_named(header).map_err(|e| VaultError::Internal(e.to_string()))?;
    let plaintext = Zeroizing::new(
        rmp_serde::to_vec_named(content).map_err(|e| VaultError::Internal(e.to_string()))?,
    );
    let nonce: [u8; 24] = crypto::random_array(rng)?;
    let mut out =
        Vec::with_capacity(PREFIX_LEN + header_bytes.len() + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&magic);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_bytes);
    let body_key = body_key(master_key, &header.vault_id);
    let ciphertext = crypto::seal(&body_key, &nonce, &out, &plaintext);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts and deserializes the body with the master key.
pub fn open_body(parsed: &Parsed, master_key: &Key32) -> Result<VaultContent, VaultError> {
    let body_key = body_key(master_key, &parsed.header.vault_id);
    let plaintext = crypto::open(&body_key, &parsed.nonce, &parsed.aad, &parsed.ciphertext)
        .map_err(|_| corrupt("the encrypted body failed authentication"))?;
    let content: VaultContent = rmp_serde::from_slice(&plaintext)
        .map_err(|_| corrupt("the decrypted body is not readable"))?;
    Ok(content)
}

fn body_key(master_key: &Key32, vault_id: &[u8; 16]) -> Key32 {
    hkdf32(master_key.as_ref(), vault_id, b"twofold/v1/body")
}

/// The associated data that binds a slot's wrap to its file and parameters:
/// `"twofold/v1/slot" | magic | vault_id | slot_id | kind | kdf | platform alias | public key`.
pub fn slot_aad(magic: [u8; 4], vault_id: &[u8; 16], slot: &Slot) -> Vec<u8> {
    let mut aad = Vec::with_capacity(128);
    aad.extend_from_slice(b"twofold/v1/slot");
    aad.extend_from_slice(&magic);
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(&slot.id);
    aad.push(slot.kind.code());
    match &slot.kdf {
        Some(kdf) => {
            aad.push(1);
            for v in [kdf.m_kib, kdf.t, kdf.p] {
                aad.extend_from_slice(&v.to_be_bytes());
            }
            aad.push(kdf.salt.len() as u8);
            aad.extend_from_slice(&kdf.salt);
        }
        None => aad.push(0),
    }
    let alias = slot.platform.as_ref().map_or("", |p| p.alias.as_str());
    aad.extend_from_slice(&(alias.len() as u32).to_be_bytes());
    aad.extend_from_slice(alias.as_bytes());
    aad.extend_from_slice(&slot.public_key);
    aad
}

fn wrap_key(shared: &Key32, ephemeral: &[u8; 32], public: &[u8; 32], vault_id: &[u8; 16]) -> Key32 {
    let mut ikm = Zeroizing::new(Vec::with_capacity(96));
    ikm.extend_from_slice(shared.as_ref());
    ikm.extend_from_slice(ephemeral);
    ikm.extend_from_slice(public);
    hkdf32(&ikm, vault_id, b"twofold/v1/wrap")
}

/// Wraps the master key to `slot.public_key`, filling `slot.wrap`. Needs no secret of the slot.
pub fn wrap_master_key(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    slot: &mut Slot,
    master_key: &Key32,
    rng: &dyn RandomSource,
) -> Result<(), VaultError> {
    let (ephemeral, shared) = ephemeral_agree(rng, &slot.public_key)?;
    let kek = wrap_key(&shared, &ephemeral, &slot.public_key, vault_id);
    let nonce: [u8; 24] = crypto::random_array(rng)?;
    let aad = slot_aad(magic, vault_id, slot);
    let ciphertext = crypto::seal(&kek, &nonce, &aad, master_key.as_ref());
    slot.wrap = Wrap {
        ephemeral,
        nonce,
        ciphertext,
    };
    Ok(())
}

/// Unwraps the master key from a slot with the slot's key pair.
pub fn unwrap_master_key(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    slot: &Slot,
    keys: &SlotKeyPair,
) -> Result<Key32, VaultError> {
    if keys.public != slot.public_key {
        return Err(VaultError::WrongCredential);
    }
    let shared = keys.agree(&slot.wrap.ephemeral);
    let kek = wrap_key(&shared, &slot.wrap.ephemeral, &slot.public_key, vault_id);
    let aad = slot_aad(magic, vault_id, slot);
    let plain =
        crypto::open(&kek, &slot.wrap.nonce, &aad, &slot.wrap.ciphertext).map_err(|e| match e {
            CryptoError::Authentication => VaultError::WrongCredential,
            other => VaultError::Crypto(other),
        })?;
    let mut mk = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(corrupt("a key slot holds a key of the wrong size"));
    }
    mk.copy_from_slice(&plain);
    Ok(mk)
}

/// An empty wrap, filled in by [`wrap_master_key`].
pub fn empty_wrap() -> Wrap {
    Wrap {
        ephemeral: [0; 32],
        nonce: [0; 24],
        ciphertext: Vec::new(),
    }
}
