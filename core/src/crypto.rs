//! The primitives the vault, backup and (later) transfer formats are built from: randomness,
//! HKDF-SHA256, XChaCha20-Poly1305, Argon2id and X25519. Every key lives in a zeroizing
//! container and every failure is a typed error.

use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, Zeroizing};

/// 32 bytes of key material that are wiped on drop.
pub type Key32 = Zeroizing<[u8; 32]>;

/// Where random bytes come from. The system source in production; a deterministic one only
/// for the worked examples in the format documents.
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes, or fails without filling it in part.
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's CSPRNG (via ring).
pub struct SystemRandom(ring::rand::SystemRandom);

impl Default for SystemRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemRandom {
    /// Opens the system source (no I/O happens until the first fill).
    pub fn new() -> Self {
        SystemRandom(ring::rand::SystemRandom::new())
    }
}

impl RandomSource for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        ring::rand::SecureRandom::fill(&self.0, buf).map_err(|_| CryptoError::Random)
    }
}

/// Fixed-size random array.
pub fn random_array<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// Random 32-byte key.
pub fn random_key(rng: &dyn RandomSource) -> Result<Key32, CryptoError> {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(key.as_mut())?;
    Ok(key)
}

/// Failures of the primitives. None of them carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The system random number generator returned an error.
    #[error("the system random number generator failed")]
    Random,
    /// The tag did not verify: the key is wrong or the data was changed.
    #[error("authentication failed: wrong key or damaged data")]
    Authentication,
    /// The key derivation could not allocate its memory.
    #[error("not enough memory for the key derivation ({m_kib} KiB)")]
    OutOfMemory {
        /// The memory it asked for, in KiB.
        m_kib: u32,
    },
    /// Argon2 refused the parameters (for example fewer than 8 KiB per lane).
    #[error("invalid key derivation parameters")]
    KdfParams,
}

/// HKDF-SHA256 producing 32 bytes.
pub fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> Key32 {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    hk.expand(info, out.as_mut()).expect("32-byte HKDF output");
    out
}

/// XChaCha20-Poly1305 encryption; the result is ciphertext ‖ 16-byte tag.
pub fn seal(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer")
}

/// XChaCha20-Poly1305 decryption into a zeroizing buffer.
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Authentication)
}

/// Argon2id cost parameters (m in KiB, t passes, p lanes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over the memory (at least 1).
    pub t: u32,
    /// Lanes (parallelism; at least 1).
    pub p: u32,
}

impl KdfParams {
    /// Vault password default: 64 MiB, 3 passes, 1 lane.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// Backup password default: 256 MiB, 3 passes.
    pub const BACKUP: KdfParams = KdfParams {
        m_kib: 256 * 1024,
        t: 3,
        p: 1,
    };
    /// Lowest memory a backup falls back to.
    pub const BACKUP_FLOOR_M_KIB: u32 = 64 * 1024;
    /// Below this no file is opened: 19 MiB, 2 passes (OWASP's Argon2id minimum).
    pub const FLOOR: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// Above these a file is hostile: we refuse rather than allocate or spin. The ceiling is
    /// what a phone survives (256 MiB), with the passes a backup's memory fallback can reach
    /// (256 MiB × 3 → 128 × 6 → 64 × 12).
    pub const MAX_M_KIB: u32 = 256 * 1024;
    /// Most passes a file may ask for.
    pub const MAX_T: u32 = 12;
    /// Most lanes a file may ask for.
    pub const MAX_P: u32 = 4;

    /// Whether a file carrying these parameters may be opened under the default limit.
    pub fn check_readable(&self) -> Result<(), KdfRejection> {
        self.check_within(KdfLimit::DEFAULT)
    }

    /// Whether a file carrying these parameters may be opened under `limit`.
    pub fn check_within(&self, limit: KdfLimit) -> Result<(), KdfRejection> {
        if self.m_kib < Self::FLOOR.m_kib || self.t < Self::FLOOR.t || self.p == 0 {
            return Err(KdfRejection::BelowFloor(*self));
        }
        if self.m_kib > limit.max_m_kib
            || self.t > limit.max_t
            || self.p > Self::MAX_P
            || self.work() > limit.max_work
        {
            return Err(KdfRejection::AboveLimit(*self));
        }
        // Argon2 needs at least 8 KiB per lane.
        if self.m_kib < 8 * self.p {
            return Err(KdfRejection::BelowFloor(*self));
        }
        Ok(())
    }

    /// Argon2id work: memory in KiB times passes.
    pub fn work(&self) -> u64 {
        u64::from(self.m_kib) * u64::from(self.t)
    }
}

/// The most Argon2id work a file may ask for before anything runs. The default is what a
/// phone survives; a desktop may raise it for its own vault (see `VaultEnv::kdf_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfLimit {
    /// Most memory in KiB.
    pub max_m_kib: u32,
    /// Most passes.
    pub max_t: u32,
    /// Memory (KiB) × passes.
    pub max_work: u64,
}

impl KdfLimit {
    /// 256 MiB, 12 passes, and at most the work of the backup default (256 MiB × 3).
    pub const DEFAULT: KdfLimit = KdfLimit {
        max_m_kib: KdfParams::MAX_M_KIB,
        max_t: KdfParams::MAX_T,
        max_work: 256 * 1024 * 3,
    };
    /// What format version 1 allowed (1 GiB, 64 passes): only for opening a vault made with
    /// such parameters by Twofold 0.1.
    pub const V1: KdfLimit = KdfLimit {
        max_m_kib: 1024 * 1024,
        max_t: 64,
        max_work: 1024 * 1024 * 64,
    };
}

impl std::fmt::Display for KdfParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Argon2id m={} MiB t={} p={}",
            self.m_kib / 1024,
            self.t,
            self.p
        )
    }
}

/// Why a file's KDF parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KdfRejection {
    /// Weaker than [`KdfParams::FLOOR`]: too cheap to guess against, refused as a downgrade.
    #[error("key derivation parameters ({0}) are below the minimum of 19 MiB and 2 passes")]
    BelowFloor(KdfParams),
    /// More memory, passes, lanes or work than the [`KdfLimit`] allows.
    #[error(
        "key derivation parameters ({0}) exceed the limit of 256 MiB, 12 passes and the work of 256 MiB × 3"
    )]
    AboveLimit(KdfParams),
}

/// A password as the KDF sees it: Unicode NFC when the bytes are UTF-8 (so the same password
/// typed on two keyboards derives the same key), the raw bytes otherwise.
pub fn normalize_password(password: &[u8]) -> Zeroizing<Vec<u8>> {
    match std::str::from_utf8(password) {
        Ok(text) => {
            let mut nfc: String = text.nfc().collect();
            let out = Zeroizing::new(nfc.as_bytes().to_vec());
            nfc.zeroize();
            out
        }
        Err(_) => Zeroizing::new(password.to_vec()),
    }
}

/// Argon2id v1.3 with 32 bytes of output. The memory is reserved fallibly, so an allocation
/// failure is an error instead of an abort.
pub fn argon2id(password: &[u8], salt: &[u8], params: KdfParams) -> Result<Key32, CryptoError> {
    let argon_params = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|_| CryptoError::KdfParams)?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let blocks_needed = argon.params().block_count();
    let mut blocks: Vec<argon2::Block> = Vec::new();
    blocks
        .try_reserve_exact(blocks_needed)
        .map_err(|_| CryptoError::OutOfMemory {
            m_kib: params.m_kib,
        })?;
    blocks.resize(blocks_needed, argon2::Block::default());
    let mut out = Zeroizing::new([0u8; 32]);
    let result = argon.hash_password_into_with_memory(password, salt, out.as_mut(), &mut blocks);
    // The blocks hold password-derived state.
    for block in blocks.iter_mut() {
        *block = argon2::Block::default();
    }
    result.map_err(|_| CryptoError::KdfParams)?;
    Ok(out)
}

/// Argon2id at `preferred`, falling back by halving memory and doubling passes (keeping the
/// work about equal) while memory cannot be reserved, down to `floor_m_kib`. Returns the key
/// and the parameters actually used.
pub fn argon2id_with_fallback(
    password: &[u8],
    salt: &[u8],
    preferred: KdfParams,
    floor_m_kib: u32,
) -> Result<(Key32, KdfParams), CryptoError> {
    let mut params = preferred;
    loop {
        match argon2id(password, salt, params) {
            Err(CryptoError::OutOfMemory { .. }) if params.m_kib / 2 >= floor_m_kib => {
                params = KdfParams {
                    m_kib: params.m_kib / 2,
                    t: params.t * 2,
                    p: params.p,
                };
            }
            other => return other.map(|key| (key, params)),
        }
    }
}

/// Picks Argon2id parameters that take about `target` on this device: memory as high as
/// `max_m_kib` allows (never below the floor), passes scaled to fill the time (at least 2).
pub fn calibrate(target: Duration, max_m_kib: u32) -> Result<KdfParams, CryptoError> {
    let salt = [0x5a; 16];
    let mut m_kib = max_m_kib.clamp(KdfParams::FLOOR.m_kib, KdfParams::MAX_M_KIB);
    loop {
        let probe = KdfParams { m_kib, t: 1, p: 1 };
        let start = Instant::now();
        match argon2id(b"calibration", &salt, probe) {
            Ok(_) => {}
            Err(CryptoError::OutOfMemory { .. }) if m_kib / 2 >= KdfParams::FLOOR.m_kib => {
                m_kib /= 2;
                continue;
            }
            Err(e) => return Err(e),
        }
        let per_pass = start.elapsed().max(Duration::from_micros(1));
        let passes = (target.as_secs_f64() / per_pass.as_secs_f64()).floor() as u32;
        if passes >= KdfParams::FLOOR.t || m_kib / 2 < KdfParams::FLOOR.m_kib {
            // Never more work than a reader accepts.
            let max_t = (KdfLimit::DEFAULT.max_work / u64::from(m_kib))
                .min(u64::from(KdfParams::MAX_T)) as u32;
            let t = passes.clamp(KdfParams::FLOOR.t, max_t.max(KdfParams::FLOOR.t));
            return Ok(KdfParams { m_kib, t, p: 1 });
        }
        // Too slow even for two passes: use less memory.
        m_kib /= 2;
    }
}

/// An X25519 key pair derived from credential material: the private half never leaves the
/// core and is wiped on drop.
pub struct SlotKeyPair {
    secret: x25519_dalek::StaticSecret,
    /// The X25519 public key (what a file stores to address this slot).
    pub public: [u8; 32],
}

impl SlotKeyPair {
    /// Derives the key pair for a slot kind from its input keying material.
    pub fn derive(ikm: &[u8], kind_label: &str) -> Self {
        let info = format!("twofold/v1/slot/{kind_label}");
        let sk = hkdf32(ikm, b"twofold/v1/slot", info.as_bytes());
        let secret = x25519_dalek::StaticSecret::from(*sk);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        SlotKeyPair { secret, public }
    }

    /// X25519 with a peer's public key.
    pub fn agree(&self, peer: &[u8; 32]) -> Key32 {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(*peer));
        Zeroizing::new(shared.to_bytes())
    }
}

/// A fresh ephemeral X25519 key pair, for wrapping to a slot's public key.
pub fn ephemeral_agree(
    rng: &dyn RandomSource,
    peer: &[u8; 32],
) -> Result<([u8; 32], Key32), CryptoError> {
    let seed = random_key(rng)?;
    let secret = x25519_dalek::StaticSecret::from(*seed);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(*peer));
    Ok((public, Zeroizing::new(shared.to_bytes())))
}

/// An Ed25519 signing key (format v2 vault and backup signatures). The seed lives inside the
/// encrypted vault body; the key is wiped on drop.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A new random key.
    pub fn generate(rng: &dyn RandomSource) -> Result<Self, CryptoError> {
        let seed = random_key(rng)?;
        Ok(Self::from_seed(&seed))
    }

    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The seed, to be stored encrypted.
    pub fn seed(&self) -> Key32 {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The verification key.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs `message` (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", hex(&self.public()))
    }
}

/// Whether `signature` is a valid Ed25519 signature of `message` by `public` (strict
/// verification: no malleable or small-order encodings).
pub fn verify_signature(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
        return false;
    };
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
        .is_ok()
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&key, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Whether `tag` is HMAC-SHA256(key, data), compared in constant time.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::verify(&key, data, tag).is_ok()
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The padded length of `len` bytes: Padmé (Nikitin et al., PETS 2019) above a 4 KiB
/// minimum. The size then tells at most O(log log len) bits, and the overhead is at most
/// about 12 %.
pub fn padded_len(len: usize) -> usize {
    padded_len_above(len, 4096)
}

/// [`padded_len`] with another minimum (the printed recovery kit pads from 256 bytes: paper
/// is dearer than disk, and its size reveals no more than Padmé's O(log log len) bits above
/// the minimum).
pub fn padded_len_above(len: usize, min: usize) -> usize {
    if len <= min {
        return min;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - e.leading_zeros(); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// Lower-case hex, for messages about public values (never secrets).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let key = [7u8; 32];
        let nonce = [9u8; 24];
        let ct = seal(&key, &nonce, b"aad", b"hello");
        assert_eq!(&open(&key, &nonce, b"aad", &ct).unwrap()[..], b"hello");
        assert_eq!(
            open(&key, &nonce, b"aae", &ct),
            Err(CryptoError::Authentication)
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(
            open(&key, &nonce, b"aad", &bad),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn argon2id_matches_rfc9106_shape_and_is_deterministic() {
        let p = KdfParams {
            m_kib: 64,
            t: 2,
            p: 1,
        };
        let a = argon2id(b"password", b"somesaltsomesalt", p).unwrap();
        let b = argon2id(b"password", b"somesaltsomesalt", p).unwrap();
        let c = argon2id(b"passwore", b"somesaltsomesalt", p).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn kdf_floor_and_ceiling() {
        assert!(KdfParams::DEFAULT.check_readable().is_ok());
        assert!(KdfParams::FLOOR.check_readable().is_ok());
        assert!(KdfParams::BACKUP.check_readable().is_ok());
        let weak = KdfParams {
            m_kib: 19 * 1024 - 1,
            t: 2,
            p: 1,
        };
        assert_eq!(weak.check_readable(), Err(KdfRejection::BelowFloor(weak)));
        let one_pass = KdfParams {
            m_kib: 64 * 1024,
            t: 1,
            p: 1,
        };
        assert!(one_pass.check_readable().is_err());
        let huge = KdfParams {
            m_kib: 512 * 1024,
            t: 3,
            p: 1,
        };
        assert_eq!(huge.check_readable(), Err(KdfRejection::AboveLimit(huge)));
    }

    #[test]
    fn calibration_fills_the_target_and_respects_the_floor() {
        // A tiny target on the floor's memory: never below 2 passes or 19 MiB.
        let quick = calibrate(Duration::from_millis(1), KdfParams::FLOOR.m_kib).unwrap();
        assert_eq!(
            quick,
            KdfParams {
                m_kib: KdfParams::FLOOR.m_kib,
                t: 2,
                p: 1
            }
        );
        assert!(quick.check_readable().is_ok());
        // A longer target buys more passes at the same memory.
        let slower = calibrate(Duration::from_millis(400), KdfParams::FLOOR.m_kib).unwrap();
        assert_eq!(slower.m_kib, KdfParams::FLOOR.m_kib);
        assert!(slower.t > quick.t, "{slower:?}");
        // Memory requests below the floor are raised to it.
        assert_eq!(
            calibrate(Duration::from_millis(1), 1024).unwrap().m_kib,
            KdfParams::FLOOR.m_kib
        );
    }

    #[test]
    fn kdf_work_budget_allows_the_backup_fallback_and_nothing_heavier() {
        for (m, t) in [(256, 3), (128, 6), (64, 12), (64, 3), (19, 2)] {
            let p = KdfParams {
                m_kib: m * 1024,
                t,
                p: 1,
            };
            assert!(p.check_readable().is_ok(), "{p}");
        }
        for (m, t) in [(256, 4), (128, 7), (64, 13), (19, 13)] {
            let p = KdfParams {
                m_kib: m * 1024,
                t,
                p: 1,
            };
            assert_eq!(p.check_readable(), Err(KdfRejection::AboveLimit(p)));
        }
        let v1_heavy = KdfParams {
            m_kib: 1024 * 1024,
            t: 4,
            p: 1,
        };
        assert!(v1_heavy.check_readable().is_err());
        assert!(v1_heavy.check_within(KdfLimit::V1).is_ok());
    }

    #[test]
    fn signatures_verify_and_reject_any_change() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap();
        let sig = key.sign(b"message");
        assert!(verify_signature(&key.public(), b"message", &sig));
        assert!(!verify_signature(&key.public(), b"messagf", &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!verify_signature(&key.public(), b"message", &bad));
        let again = SigningKey::from_seed(&key.seed());
        assert_eq!(again.public(), key.public());
        assert!(!format!("{key:?}").contains(&hex(key.seed().as_ref())));
        // ring, an independent implementation, agrees.
        let ring_key =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key.public());
        assert!(ring_key.verify(b"message", &sig).is_ok());
    }

    #[test]
    fn padme_buckets() {
        assert_eq!(padded_len(0), 4096);
        assert_eq!(padded_len(4096), 4096);
        assert_eq!(padded_len(4097), 4352);
        for len in [5000usize, 10_000, 100_000, 1_000_000, 30_000_000] {
            let p = padded_len(len);
            assert!(
                p >= len && (p - len) as f64 <= len as f64 * 0.12,
                "{len} -> {p}"
            );
        }
        // Many sizes share one bucket.
        assert_eq!(padded_len(100_001), padded_len(100_100));
    }

    #[test]
    fn passwords_are_nfc_normalized() {
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        assert_eq!(
            normalize_password(composed.as_bytes()),
            normalize_password(decomposed.as_bytes())
        );
        assert_eq!(&normalize_password(&[0xff, 0xfe])[..], &[0xff, 0xfe]);
    }

    #[test]
    fn slot_key_pairs_agree() {
        let rng = SystemRandom::new();
        let slot = SlotKeyPair::derive(b"ikm", "recovery");
        let (eph_pub, shared_sender) = ephemeral_agree(&rng, &slot.public).unwrap();
        assert_eq!(slot.agree(&eph_pub), shared_sender);
        let other = SlotKeyPair::derive(b"ikm", "password");
        assert_ne!(other.public, slot.public);
    }
}
