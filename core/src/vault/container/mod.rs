//! The `TWFV` (vault) and `TWFB` (backup) container, format version 2: a MessagePack header
//! authenticated as associated data, an XChaCha20-Poly1305 body padded to a size bucket, key
//! slots that each wrap the master key to a public key and *endorse* the file's signing keys,
//! and Ed25519 signatures over the whole file. `docs/vault-format.md` is the normative
//! description; this module is its implementation. Version 1 is read by [`v1`].

pub mod v1;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{
    self, CryptoError, Key32, RandomSource, SigningKey, SlotKeyPair, ephemeral_agree, hkdf32,
};
use crate::serde_bytes_helpers::{array, bytes};
use crate::vault::VaultError;

/// Magic of a vault file.
pub const VAULT_MAGIC: [u8; 4] = *b"TWFV";
/// Magic of a backup file.
pub const BACKUP_MAGIC: [u8; 4] = *b"TWFB";
/// Container version this build writes.
pub const FORMAT_VERSION: u16 = 2;
/// Largest header we parse (a slot is about 300 bytes plus its keystore blob).
pub const MAX_HEADER_LEN: usize = 64 * 1024;
/// Largest container we read: far above 10 000 entries, far below memory trouble.
pub const MAX_FILE_LEN: usize = 256 * 1024 * 1024;
/// Most slots a file may carry.
pub const MAX_SLOTS: usize = 16;
/// Most signing keys a file may carry (each slot endorses one).
pub const MAX_SIGNERS: usize = MAX_SLOTS;
/// Most password slots one unlock tries (each costs an Argon2id run).
pub const MAX_PASSWORD_SLOTS_TRIED: usize = 2;
/// Longest keystore alias and blob of a platform or PIN slot.
pub const MAX_ALIAS_LEN: usize = 256;
/// Longest keystore blob of a platform or PIN slot, in bytes.
pub const MAX_BLOB_LEN: usize = 8192;

pub(crate) const PREFIX_LEN: usize = 4 + 2 + 4;
pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;

const SIGN_CONTEXT: &[u8] = b"twofold/v2/sign";
const SUCCESSION_CONTEXT: &[u8] = b"twofold/v2/succession";
const ENDORSE_CONTEXT: &[u8] = b"twofold/v2/endorse";

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
    /// The name used in files and key derivation labels.
    pub fn label(self) -> &'static str {
        match self {
            SlotKind::Password => "password",
            SlotKind::Platform => "platform",
            SlotKind::Recovery => "recovery",
            SlotKind::Pin => "pin",
        }
    }
}

pub(crate) fn kind_code(kind: SlotKind) -> u8 {
    match kind {
        SlotKind::Password => 1,
        SlotKind::Platform => 2,
        SlotKind::Recovery => 3,
        SlotKind::Pin => 4,
    }
}

/// Argon2id parameters and salt of a password or PIN slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotKdf {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
    /// Random salt: 16 to 64 bytes (16 when we write it).
    #[serde(with = "bytes")]
    pub salt: Vec<u8>,
}

impl SlotKdf {
    /// The parameters without the salt, for checking against the limits.
    pub fn params(&self) -> crypto::KdfParams {
        crypto::KdfParams {
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
    /// Name of the hardware key in the platform keystore (at most [`MAX_ALIAS_LEN`] bytes).
    pub alias: String,
    /// The slot key as the keystore wrapped it (at most [`MAX_BLOB_LEN`] bytes).
    #[serde(with = "bytes")]
    pub blob: Vec<u8>,
}

/// The master key wrapped to a slot's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrap {
    /// The wrapper's ephemeral X25519 public key.
    #[serde(with = "array")]
    pub ephemeral: [u8; 32],
    /// XChaCha20-Poly1305 nonce.
    #[serde(with = "array")]
    pub nonce: [u8; 24],
    /// The encrypted master key with its tag.
    #[serde(with = "bytes")]
    pub ciphertext: Vec<u8>,
}

/// A slot's statement that a signing key is this vault's: a MAC under a key only the slot's
/// credential yields (§3.4 of the spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endorsement {
    /// The Ed25519 key the slot vouches for; one of the header's `signers`.
    #[serde(with = "array")]
    pub signer: [u8; 32],
    /// HMAC-SHA256 over the vault id, slot and signer under the slot's endorsement key.
    #[serde(with = "array")]
    pub mac: [u8; 32],
}

/// One way to open the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Random slot id, stable for the slot's life.
    #[serde(with = "array")]
    pub id: [u8; 16],
    /// What the slot is unlocked with.
    pub kind: SlotKind,
    /// X25519 public key of the slot; its private key is derived from the credential.
    #[serde(with = "array")]
    pub public_key: [u8; 32],
    /// Argon2id parameters and salt; present for password and PIN slots.
    #[serde(default)]
    pub kdf: Option<SlotKdf>,
    /// Keystore reference; present for platform and PIN slots.
    #[serde(default)]
    pub platform: Option<PlatformRef>,
    /// The master key wrapped to `public_key`.
    pub wrap: Wrap,
    /// `None` only for a slot carried over from a version 1 file and not used since: it is
    /// endorsed the first time its credential opens the vault.
    #[serde(default)]
    pub endorsement: Option<Endorsement>,
}

/// The previous current signer's signature over the new one, written when the signing key
/// rotates, so a device that last saw the previous key can follow the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Succession {
    /// The signing key being replaced.
    #[serde(with = "array")]
    pub previous: [u8; 32],
    /// Its Ed25519 signature over the new current key.
    #[serde(with = "array")]
    pub signature: [u8; 64],
}

/// The authenticated, unencrypted header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Random id of the vault, fixed at creation.
    #[serde(with = "array")]
    pub vault_id: [u8; 16],
    /// +1 on every write of a vault; for a backup, the generation of the vault it came from.
    pub generation: u64,
    /// Backups: the vault the backup was made from (its slots' endorsements refer to it).
    #[serde(default, with = "opt_id")]
    pub origin: Option<[u8; 16]>,
    /// Ed25519 verification keys; the first is the current one. Every one signs the file.
    #[serde(with = "key_list")]
    pub signers: Vec<[u8; 32]>,
    /// Present in the file written when the current signing key changed.
    #[serde(default)]
    pub succession: Option<Succession>,
    /// The key slots, at most [`MAX_SLOTS`].
    pub slots: Vec<Slot>,
}

impl Header {
    /// The vault id the slots' endorsements are computed over.
    pub fn endorsement_vault_id(&self) -> [u8; 16] {
        self.origin.unwrap_or(self.vault_id)
    }

    /// The current signing key.
    pub fn current_signer(&self) -> [u8; 32] {
        self.signers[0]
    }
}

/// A parsed file whose signatures have been checked, not yet decrypted.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// [`VAULT_MAGIC`] or [`BACKUP_MAGIC`].
    pub magic: [u8; 4],
    /// The verified header.
    pub header: Header,
    /// Every byte before the body nonce: the body's associated data.
    aad: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

/// A file of any version this build reads.
pub enum AnyParsed {
    /// A version 1 file (unauthenticated).
    V1(v1::Parsed),
    /// A version 2 file whose signatures verified.
    V2(Parsed),
}

/// Damaged: framing, header, signature or body authentication failed.
pub(crate) fn corrupt(reason: impl Into<String>) -> VaultError {
    VaultError::Corrupt(reason.into())
}

fn hostile(reason: impl Into<String>) -> VaultError {
    VaultError::HostileFile(reason.into())
}

/// Checks magic and length and reads the version, before anything else.
fn prefix(bytes: &[u8], magic: [u8; 4]) -> Result<u16, VaultError> {
    if bytes.len() > MAX_FILE_LEN {
        return Err(hostile(format!(
            "the file is too large ({} bytes)",
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
    Ok(u16::from_be_bytes([bytes[4], bytes[5]]))
}

/// The vault id and generation a file claims, of any version, without checking anything
/// (to match `.prev` to a damaged current file, and to detect a concurrent writer).
pub fn peek(bytes: &[u8], magic: [u8; 4]) -> Option<([u8; 16], u64)> {
    #[derive(Deserialize)]
    struct Claimed {
        #[serde(with = "array")]
        vault_id: [u8; 16],
        generation: u64,
    }
    let version = prefix(bytes, magic).ok()?;
    if version != FORMAT_VERSION && version != v1::FORMAT_VERSION {
        return None;
    }
    let header_len = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    let header = bytes.get(PREFIX_LEN..PREFIX_LEN.checked_add(header_len)?)?;
    let claimed: Claimed = rmp_serde::from_slice(header).ok()?;
    Some((claimed.vault_id, claimed.generation))
}

/// Parses a file of version 1 or 2 with the expected magic; other versions are refused as
/// [`VaultError::UnsupportedVersion`].
pub fn parse_any(bytes: &[u8], magic: [u8; 4]) -> Result<AnyParsed, VaultError> {
    match prefix(bytes, magic)? {
        v1::FORMAT_VERSION => v1::parse(bytes, magic).map(AnyParsed::V1),
        FORMAT_VERSION => parse(bytes, magic).map(AnyParsed::V2),
        other => Err(VaultError::UnsupportedVersion(other)),
    }
}

/// Parses a version 2 file: framing, header, structure, and every signature. A file that
/// passes is exactly what some holder of its signing keys wrote; whether those keys are this
/// vault's is for a slot's endorsement to say.
pub fn parse(bytes: &[u8], magic: [u8; 4]) -> Result<Parsed, VaultError> {
    let version = prefix(bytes, magic)?;
    if version != FORMAT_VERSION {
        return Err(VaultError::UnsupportedVersion(version));
    }
    let header_len = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    if header_len > MAX_HEADER_LEN {
        return Err(hostile(format!(
            "header length {header_len} exceeds {MAX_HEADER_LEN}"
        )));
    }
    let header_end = PREFIX_LEN + header_len;
    if bytes.len() < header_end + NONCE_LEN + TAG_LEN {
        return Err(corrupt("file is truncated"));
    }
    let header: Header = rmp_serde::from_slice(&bytes[PREFIX_LEN..header_end])
        .map_err(|_| corrupt("header is not readable"))?;
    validate_header(&header)?;
    let signatures_len = header.signers.len() * SIGNATURE_LEN;
    let body_end = bytes
        .len()
        .checked_sub(signatures_len)
        .filter(|end| *end >= header_end + NONCE_LEN + TAG_LEN)
        .ok_or_else(|| corrupt("file is truncated"))?;
    let message = signed_message(&bytes[..body_end]);
    for (i, signer) in header.signers.iter().enumerate() {
        let at = body_end + i * SIGNATURE_LEN;
        let signature: [u8; 64] = bytes[at..at + SIGNATURE_LEN]
            .try_into()
            .map_err(|_| corrupt("file is truncated"))?;
        if !crypto::verify_signature(signer, &message, &signature) {
            return Err(corrupt(
                "a signature does not match: the file was changed after it was written",
            ));
        }
    }
    if let Some(s) = &header.succession
        && !crypto::verify_signature(
            &s.previous,
            &succession_message(&header.vault_id, &header.signers[0]),
            &s.signature,
        )
    {
        return Err(corrupt("the signing-key succession does not verify"));
    }
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&bytes[header_end..header_end + NONCE_LEN]);
    Ok(Parsed {
        magic,
        header,
        aad: bytes[..header_end].to_vec(),
        nonce,
        ciphertext: bytes[header_end + NONCE_LEN..body_end].to_vec(),
    })
}

fn signed_message(unsigned: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGN_CONTEXT.len() + unsigned.len());
    m.extend_from_slice(SIGN_CONTEXT);
    m.extend_from_slice(unsigned);
    m
}

/// What the previous signer signs when the signing key rotates.
pub fn succession_message(vault_id: &[u8; 16], new_signer: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SUCCESSION_CONTEXT.len() + 48);
    m.extend_from_slice(SUCCESSION_CONTEXT);
    m.extend_from_slice(vault_id);
    m.extend_from_slice(new_signer);
    m
}

/// Presence of `kdf` and `platform` must match the kind; salts are 16–64 bytes.
pub(crate) fn check_kdf_shape(
    kind: SlotKind,
    kdf: Option<&SlotKdf>,
    platform: Option<&PlatformRef>,
) -> Result<(), VaultError> {
    let ok = matches!(
        (kind, kdf.is_some(), platform.is_some()),
        (SlotKind::Password, true, false)
            | (SlotKind::Pin, true, true)
            | (SlotKind::Platform, false, true)
            | (SlotKind::Recovery, false, false)
    );
    if !ok {
        return Err(corrupt("a key slot is malformed"));
    }
    if let Some(kdf) = kdf
        && (kdf.salt.len() < 16 || kdf.salt.len() > 64)
    {
        return Err(corrupt("a key slot has a malformed salt"));
    }
    Ok(())
}

fn validate_header(header: &Header) -> Result<(), VaultError> {
    if header.slots.is_empty() {
        return Err(corrupt("the file has no key slots"));
    }
    if header.slots.len() > MAX_SLOTS {
        return Err(hostile(format!(
            "the file has {} key slots (at most {MAX_SLOTS})",
            header.slots.len()
        )));
    }
    if header.signers.len() > MAX_SIGNERS {
        return Err(hostile(format!(
            "the file has {} signing keys (at most {MAX_SIGNERS})",
            header.signers.len()
        )));
    }
    if header.signers.is_empty() {
        return Err(corrupt("the file has no signing key"));
    }
    for (i, s) in header.signers.iter().enumerate() {
        if header.signers[..i].contains(s) {
            return Err(corrupt("the file lists a signing key twice"));
        }
    }
    for (i, slot) in header.slots.iter().enumerate() {
        if header.slots[..i].iter().any(|o| o.id == slot.id) {
            return Err(corrupt("two key slots share an id"));
        }
        if slot.wrap.ciphertext.len() != 32 + TAG_LEN {
            return Err(corrupt("a key slot is malformed"));
        }
        check_kdf_shape(slot.kind, slot.kdf.as_ref(), slot.platform.as_ref())?;
        if let Some(p) = &slot.platform
            && (p.alias.len() > MAX_ALIAS_LEN || p.blob.len() > MAX_BLOB_LEN)
        {
            return Err(hostile("a key slot's keystore data is too large"));
        }
        if let Some(e) = &slot.endorsement
            && !header.signers.contains(&e.signer)
        {
            return Err(corrupt("a key slot endorses a key the file does not list"));
        }
    }
    Ok(())
}

/// Builds a complete file: header, padded and encrypted body, and one signature per entry of
/// `header.signers`, made by `signing_keys` (same order).
pub fn seal_file(
    magic: [u8; 4],
    header: &Header,
    master_key: &Key32,
    body: &[u8],
    signing_keys: &[&SigningKey],
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, VaultError> {
    seal_file_padded(magic, header, master_key, body, signing_keys, rng, 4096)
}

/// [`seal_file`] with the body padded from `min_padded` bytes up (readers accept any
/// padding: they read the length prefix).
pub fn seal_file_padded(
    magic: [u8; 4],
    header: &Header,
    master_key: &Key32,
    body: &[u8],
    signing_keys: &[&SigningKey],
    rng: &dyn RandomSource,
    min_padded: usize,
) -> Result<Vec<u8>, VaultError> {
    if signing_keys.len() != header.signers.len()
        || signing_keys
            .iter()
            .zip(&header.signers)
            .any(|(k, s)| k.public() != *s)
    {
        return Err(VaultError::Internal(
            "the signing keys do not match the header".into(),
        ));
    }
    let header_bytes =
        rmp_serde::to_vec_named(header).map_err(|e| VaultError::Internal(e.to_string()))?;
    if header_bytes.len() > MAX_HEADER_LEN {
        return Err(crate::vault::InputError::HeaderTooLarge.into());
    }
    let plaintext = pad(body, min_padded);
    let nonce: [u8; 24] = crypto::random_array(rng)?;
    let mut out = Vec::with_capacity(
        PREFIX_LEN
            + header_bytes.len()
            + NONCE_LEN
            + plaintext.len()
            + TAG_LEN
            + SIGNATURE_LEN * signing_keys.len(),
    );
    out.extend_from_slice(&magic);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_bytes);
    let body_key = body_key(master_key, &header.vault_id);
    let ciphertext = crypto::seal(&body_key, &nonce, &out, &plaintext);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    let message = signed_message(&out);
    for key in signing_keys {
        out.extend_from_slice(&key.sign(&message));
    }
    Ok(out)
}

/// `u32 length ‖ body ‖ zeros` up to [`crypto::padded_len_above`] `min`.
fn pad(body: &[u8], min: usize) -> Zeroizing<Vec<u8>> {
    let total = crypto::padded_len_above(4 + body.len(), min);
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out.resize(total, 0);
    out
}

/// Decrypts the body with the master key and strips the padding.
pub fn open_body(parsed: &Parsed, master_key: &Key32) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let body_key = body_key(master_key, &parsed.header.vault_id);
    let mut plaintext = crypto::open(&body_key, &parsed.nonce, &parsed.aad, &parsed.ciphertext)
        .map_err(|_| corrupt("the encrypted body failed authentication"))?;
    if plaintext.len() < 4 {
        return Err(corrupt("the decrypted body is truncated"));
    }
    let len = u32::from_be_bytes([plaintext[0], plaintext[1], plaintext[2], plaintext[3]]) as usize;
    if len > plaintext.len() - 4 {
        return Err(corrupt("the decrypted body is truncated"));
    }
    plaintext.copy_within(4..4 + len, 0);
    plaintext.truncate(len);
    Ok(plaintext)
}

fn body_key(master_key: &Key32, vault_id: &[u8; 16]) -> Key32 {
    hkdf32(master_key.as_ref(), vault_id, b"twofold/v2/body")
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn slot_aad_with(
    context: &[u8],
    magic: [u8; 4],
    vault_id: &[u8; 16],
    slot_id: &[u8; 16],
    kind: u8,
    kdf: Option<&SlotKdf>,
    platform: Option<&PlatformRef>,
    public_key: &[u8; 32],
) -> Vec<u8> {
    let mut aad = Vec::with_capacity(128);
    aad.extend_from_slice(context);
    aad.extend_from_slice(&magic);
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(slot_id);
    aad.push(kind);
    match kdf {
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
    let alias = platform.map_or("", |p| p.alias.as_str());
    aad.extend_from_slice(&(alias.len() as u32).to_be_bytes());
    aad.extend_from_slice(alias.as_bytes());
    aad.extend_from_slice(public_key);
    aad
}

/// The associated data that binds a slot's wrap to its file and parameters:
/// `"twofold/v2/slot" | magic | vault_id | slot_id | kind | kdf | platform alias | public key`.
pub fn slot_aad(magic: [u8; 4], vault_id: &[u8; 16], slot: &Slot) -> Vec<u8> {
    slot_aad_with(
        b"twofold/v2/slot",
        magic,
        vault_id,
        &slot.id,
        kind_code(slot.kind),
        slot.kdf.as_ref(),
        slot.platform.as_ref(),
        &slot.public_key,
    )
}

pub(crate) fn wrap_key(
    info: &[u8],
    shared: &Key32,
    ephemeral: &[u8; 32],
    public: &[u8; 32],
    vault_id: &[u8; 16],
) -> Key32 {
    let mut ikm = Zeroizing::new(Vec::with_capacity(96));
    ikm.extend_from_slice(shared.as_ref());
    ikm.extend_from_slice(ephemeral);
    ikm.extend_from_slice(public);
    hkdf32(&ikm, vault_id, info)
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
    // A low-order "public key" gives the all-zero shared secret (the scalar is clamped to a
    // multiple of 8): the wrap would be readable by anyone. No credential derives such a key.
    if shared.iter().all(|b| *b == 0) {
        return Err(corrupt(
            "a key slot's public key is not a valid X25519 key (low order)",
        ));
    }
    let kek = wrap_key(
        b"twofold/v2/wrap",
        &shared,
        &ephemeral,
        &slot.public_key,
        vault_id,
    );
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
    let kek = wrap_key(
        b"twofold/v2/wrap",
        &shared,
        &slot.wrap.ephemeral,
        &slot.public_key,
        vault_id,
    );
    let aad = slot_aad(magic, vault_id, slot);
    let plain =
        crypto::open(&kek, &slot.wrap.nonce, &aad, &slot.wrap.ciphertext).map_err(|e| match e {
            CryptoError::Authentication => corrupt("a key slot's wrapped key does not open"),
            other => VaultError::Crypto(other),
        })?;
    let mut mk = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(corrupt("a key slot holds a key of the wrong size"));
    }
    mk.copy_from_slice(&plain);
    Ok(mk)
}

/// The endorsement MAC input: `"twofold/v2/endorse" | vault_id | slot_id | kind |
/// public_key | signer`.
fn endorsement_input(
    vault_id: &[u8; 16],
    slot_id: &[u8; 16],
    kind: SlotKind,
    public_key: &[u8; 32],
    signer: &[u8; 32],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(ENDORSE_CONTEXT.len() + 97);
    m.extend_from_slice(ENDORSE_CONTEXT);
    m.extend_from_slice(vault_id);
    m.extend_from_slice(slot_id);
    m.push(kind_code(kind));
    m.extend_from_slice(public_key);
    m.extend_from_slice(signer);
    m
}

/// Makes `slot` endorse `signer` with the slot's endorsement key.
pub fn endorse(slot: &mut Slot, vault_id: &[u8; 16], endorse_key: &Key32, signer: [u8; 32]) {
    let input = endorsement_input(vault_id, &slot.id, slot.kind, &slot.public_key, &signer);
    slot.endorsement = Some(Endorsement {
        signer,
        mac: crypto::hmac_sha256(endorse_key.as_ref(), &input),
    });
}

/// Whether `slot`'s endorsement verifies under `endorse_key`.
pub fn endorsement_valid(slot: &Slot, vault_id: &[u8; 16], endorse_key: &Key32) -> bool {
    match &slot.endorsement {
        Some(e) => {
            let input =
                endorsement_input(vault_id, &slot.id, slot.kind, &slot.public_key, &e.signer);
            crypto::hmac_sha256_verify(endorse_key.as_ref(), &input, &e.mac)
        }
        None => false,
    }
}

/// An empty wrap, filled in by [`wrap_master_key`].
pub fn empty_wrap() -> Wrap {
    Wrap {
        ephemeral: [0; 32],
        nonce: [0; 24],
        ciphertext: Vec::new(),
    }
}

mod opt_id {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<[u8; 16]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(id) => s.serialize_bytes(id),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 16]>, D::Error> {
        #[derive(Deserialize)]
        struct Id(#[serde(with = "crate::serde_bytes_helpers::array")] [u8; 16]);
        Ok(Option::<Id>::deserialize(d)?.map(|i| i.0))
    }
}

mod key_list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    struct Bin<'a>(&'a [u8; 32]);

    impl serde::Serialize for Bin<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for key in v {
            seq.serialize_element(&Bin(key))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        #[derive(Deserialize)]
        struct Key(#[serde(with = "crate::serde_bytes_helpers::array")] [u8; 32]);
        Ok(Vec::<Key>::deserialize(d)?
            .into_iter()
            .map(|k| k.0)
            .collect())
    }
}
