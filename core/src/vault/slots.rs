//! Key slots: turning a credential into the slot's key pair, creating slots, and unlocking a
//! header with a credential.

use zeroize::Zeroizing;

use crate::crypto::{self, KdfParams, Key32, RandomSource, SlotKeyPair};
use crate::vault::VaultError;
use crate::vault::container::{self, Header, PlatformRef, Slot, SlotKdf, SlotKind};
use crate::vault::recovery::RecoveryKey;

/// Shortest PIN accepted for a PIN slot.
pub const MIN_PIN_LEN: usize = 4;

/// Something that opens a slot.
pub enum SlotCredential<'a> {
    /// A password (UTF-8 is NFC-normalized before derivation).
    Password(&'a [u8]),
    /// The printable recovery key, parsed.
    Recovery(&'a RecoveryKey),
    /// The 32-byte key of a platform slot, unwrapped by the app's keystore.
    Platform {
        slot_id: [u8; 16],
        key: &'a [u8; 32],
    },
    /// A PIN together with the device key the app unwrapped from its keystore.
    Pin {
        slot_id: [u8; 16],
        pin: &'a [u8],
        device_key: &'a [u8; 32],
    },
}

impl SlotCredential<'_> {
    fn applies_to(&self, slot: &Slot) -> bool {
        match self {
            SlotCredential::Password(_) => slot.kind == SlotKind::Password,
            SlotCredential::Recovery(_) => slot.kind == SlotKind::Recovery,
            SlotCredential::Platform { slot_id, .. } => {
                slot.kind == SlotKind::Platform && &slot.id == slot_id
            }
            SlotCredential::Pin { slot_id, .. } => {
                slot.kind == SlotKind::Pin && &slot.id == slot_id
            }
        }
    }

    /// Derives the slot's key pair (runs Argon2id for password and PIN slots).
    fn key_pair(&self, slot: &Slot) -> Result<SlotKeyPair, VaultError> {
        match self {
            SlotCredential::Password(pw) => {
                let kdf = slot
                    .kdf
                    .as_ref()
                    .ok_or(VaultError::Corrupt("password slot without KDF".into()))?;
                let ikm =
                    crypto::argon2id(&crypto::normalize_password(pw), &kdf.salt, kdf.params())?;
                Ok(SlotKeyPair::derive(
                    ikm.as_ref(),
                    SlotKind::Password.label(),
                ))
            }
            SlotCredential::Recovery(key) => {
                Ok(SlotKeyPair::derive(key.bytes(), SlotKind::Recovery.label()))
            }
            SlotCredential::Platform { key, .. } => {
                Ok(SlotKeyPair::derive(*key, SlotKind::Platform.label()))
            }
            SlotCredential::Pin {
                pin, device_key, ..
            } => {
                let kdf = slot
                    .kdf
                    .as_ref()
                    .ok_or(VaultError::Corrupt("PIN slot without KDF".into()))?;
                Ok(SlotKeyPair::derive(
                    &pin_ikm(pin, device_key, kdf)?,
                    SlotKind::Pin.label(),
                ))
            }
        }
    }
}

fn pin_ikm(
    pin: &[u8],
    device_key: &[u8; 32],
    kdf: &SlotKdf,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let stretched = crypto::argon2id(&crypto::normalize_password(pin), &kdf.salt, kdf.params())?;
    let mut ikm = Zeroizing::new(Vec::with_capacity(64));
    ikm.extend_from_slice(stretched.as_ref());
    ikm.extend_from_slice(device_key);
    Ok(ikm)
}

/// Tries every slot the credential applies to. Returns the slot index and the master key.
pub fn unlock(
    magic: [u8; 4],
    header: &Header,
    credential: &SlotCredential<'_>,
) -> Result<(usize, Key32), VaultError> {
    let mut applicable = false;
    for (index, slot) in header.slots.iter().enumerate() {
        if !credential.applies_to(slot) {
            continue;
        }
        applicable = true;
        let keys = credential.key_pair(slot)?;
        match container::unwrap_master_key(magic, &header.vault_id, slot, &keys) {
            Ok(mk) => return Ok((index, mk)),
            Err(VaultError::WrongCredential) => continue,
            Err(other) => return Err(other),
        }
    }
    if applicable {
        Err(VaultError::WrongCredential)
    } else {
        Err(VaultError::NoSuchSlot)
    }
}

/// What a new slot is made from.
pub enum NewSlot<'a> {
    Password {
        password: &'a [u8],
        params: KdfParams,
    },
    /// A password slot whose memory cost halves (and passes double) while memory cannot be
    /// reserved, down to `floor_m_kib` (backups).
    PasswordWithFallback {
        password: &'a [u8],
        params: KdfParams,
        floor_m_kib: u32,
    },
    Recovery(&'a RecoveryKey),
    Platform {
        alias: String,
        key: &'a [u8; 32],
        wrapped_blob: Vec<u8>,
    },
    Pin {
        alias: String,
        pin: &'a [u8],
        device_key: &'a [u8; 32],
        wrapped_blob: Vec<u8>,
        params: KdfParams,
    },
}

type SlotParts = (SlotKind, SlotKeyPair, Option<SlotKdf>, Option<PlatformRef>);

fn new_slot_password(
    password: &[u8],
    params: KdfParams,
    floor_m_kib: u32,
    rng: &dyn RandomSource,
) -> Result<SlotParts, VaultError> {
    if password.is_empty() {
        return Err(VaultError::InvalidInput(
            "the password must not be empty".into(),
        ));
    }
    params.check_readable().map_err(VaultError::Kdf)?;
    let salt: [u8; 16] = crypto::random_array(rng)?;
    let floor = floor_m_kib.max(KdfParams::FLOOR.m_kib);
    let (ikm, used) = crypto::argon2id_with_fallback(
        &crypto::normalize_password(password),
        &salt,
        params,
        floor,
    )?;
    let keys = SlotKeyPair::derive(ikm.as_ref(), SlotKind::Password.label());
    let kdf = SlotKdf {
        m_kib: used.m_kib,
        t: used.t,
        p: used.p,
        salt: salt.to_vec(),
    };
    Ok((SlotKind::Password, keys, Some(kdf), None))
}

/// Builds a slot (public key and parameters) and wraps `master_key` into it.
pub fn create_slot(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    spec: NewSlot<'_>,
    label: String,
    now: i64,
    master_key: &Key32,
    rng: &dyn RandomSource,
) -> Result<Slot, VaultError> {
    create_slot_with_keys(magic, vault_id, spec, label, now, master_key, rng).map(|(slot, _)| slot)
}

/// A recovery slot wrapping `master_key` to a known recovery public key, without the
/// recovery key itself (backups sealed to the vault's recovery key).
pub fn recovery_slot_for_public_key(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    public_key: [u8; 32],
    label: String,
    now: i64,
    master_key: &Key32,
    rng: &dyn RandomSource,
) -> Result<Slot, VaultError> {
    let mut slot = Slot {
        id: crypto::random_array(rng)?,
        kind: SlotKind::Recovery,
        label,
        created_at: now,
        public_key,
        kdf: None,
        platform: None,
        wrap: container::empty_wrap(),
    };
    container::wrap_master_key(magic, vault_id, &mut slot, master_key, rng)?;
    Ok(slot)
}

/// [`create_slot`], also returning the slot's key pair (to verify a file just written).
pub fn create_slot_with_keys(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    spec: NewSlot<'_>,
    label: String,
    now: i64,
    master_key: &Key32,
    rng: &dyn RandomSource,
) -> Result<(Slot, SlotKeyPair), VaultError> {
    let id: [u8; 16] = crypto::random_array(rng)?;
    let (kind, keys, kdf, platform) = match spec {
        NewSlot::Password { password, params } => {
            new_slot_password(password, params, params.m_kib, rng)?
        }
        NewSlot::PasswordWithFallback {
            password,
            params,
            floor_m_kib,
        } => new_slot_password(password, params, floor_m_kib, rng)?,
        NewSlot::Recovery(key) => {
            let keys = SlotKeyPair::derive(key.bytes(), SlotKind::Recovery.label());
            (SlotKind::Recovery, keys, None, None)
        }
        NewSlot::Platform {
            alias,
            key,
            wrapped_blob,
        } => {
            let keys = SlotKeyPair::derive(key, SlotKind::Platform.label());
            (
                SlotKind::Platform,
                keys,
                None,
                Some(PlatformRef {
                    alias,
                    blob: wrapped_blob,
                }),
            )
        }
        NewSlot::Pin {
            alias,
            pin,
            device_key,
            wrapped_blob,
            params,
        } => {
            if pin.len() < MIN_PIN_LEN {
                return Err(VaultError::InvalidInput(format!(
                    "a PIN needs at least {MIN_PIN_LEN} characters"
                )));
            }
            params.check_readable().map_err(VaultError::Kdf)?;
            let salt: [u8; 16] = crypto::random_array(rng)?;
            let kdf = SlotKdf {
                m_kib: params.m_kib,
                t: params.t,
                p: params.p,
                salt: salt.to_vec(),
            };
            let keys = SlotKeyPair::derive(&pin_ikm(pin, device_key, &kdf)?, SlotKind::Pin.label());
            (
                SlotKind::Pin,
                keys,
                Some(kdf),
                Some(PlatformRef {
                    alias,
                    blob: wrapped_blob,
                }),
            )
        }
    };
    let mut slot = Slot {
        id,
        kind,
        label,
        created_at: now,
        public_key: keys.public,
        kdf,
        platform,
        wrap: container::empty_wrap(),
    };
    container::wrap_master_key(magic, vault_id, &mut slot, master_key, rng)?;
    Ok((slot, keys))
}
