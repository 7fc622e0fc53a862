//! Key slots: turning a credential into the slot's key pair and endorsement key, creating
//! slots, and opening a header with a credential under a bounded amount of work.

use zeroize::Zeroizing;

use crate::crypto::{self, KdfLimit, KdfParams, Key32, RandomSource, SlotKeyPair, hkdf32};
use crate::vault::container::{
    self, Header, MAX_PASSWORD_SLOTS_TRIED, Parsed, PlatformRef, Slot, SlotKdf, SlotKind, v1,
};
use crate::vault::recovery::RecoveryKey;
use crate::vault::{InputError, VaultError};

/// Shortest PIN accepted for a new PIN slot (digits only).
pub const MIN_PIN_LEN: usize = 6;
/// A PIN slot's Argon2id must cost at least this much: a 6-digit PIN is only as strong as
/// the work per guess once the device key is known (`docs/threat-model.md`).
pub const MIN_PIN_KDF: KdfParams = KdfParams::DEFAULT;

/// Something that opens a slot.
pub enum SlotCredential<'a> {
    /// A password (UTF-8 is NFC-normalized before derivation).
    Password(&'a [u8]),
    /// The printable recovery key, parsed.
    Recovery(&'a RecoveryKey),
    /// The 32-byte key of a platform slot, unwrapped by the app's keystore.
    Platform {
        /// Id of the platform slot whose key this is.
        slot_id: [u8; 16],
        /// The slot key as the keystore unwrapped it.
        key: &'a [u8; 32],
    },
    /// A PIN together with the device key the app unwrapped from its keystore.
    Pin {
        /// Id of the PIN slot.
        slot_id: [u8; 16],
        /// The PIN as typed (ASCII digits).
        pin: &'a [u8],
        /// The 32-byte device key the keystore unwrapped.
        device_key: &'a [u8; 32],
    },
}

/// What a credential yields for one slot: the X25519 key pair that unwraps the master key,
/// and the key of the slot's endorsement MAC.
pub struct SlotSecrets {
    /// The X25519 key pair that unwraps the master key.
    pub keys: SlotKeyPair,
    /// Key of the MAC by which the slot endorses the file's signing keys.
    pub endorse_key: Key32,
}

impl SlotSecrets {
    /// Both keys from a slot's input keying material (`docs/vault-format.md` §3).
    pub fn derive(ikm: &[u8], kind: SlotKind) -> Self {
        let info = format!("twofold/v2/endorse/{}", kind.label());
        SlotSecrets {
            keys: SlotKeyPair::derive(ikm, kind.label()),
            endorse_key: hkdf32(ikm, b"twofold/v2/slot", info.as_bytes()),
        }
    }
}

/// The parts of a slot that decide whether and how a credential applies (v1 and v2).
trait SlotView {
    fn kind(&self) -> SlotKind;
    fn id(&self) -> [u8; 16];
    fn kdf(&self) -> Option<&SlotKdf>;
}

impl SlotView for Slot {
    fn kind(&self) -> SlotKind {
        self.kind
    }
    fn id(&self) -> [u8; 16] {
        self.id
    }
    fn kdf(&self) -> Option<&SlotKdf> {
        self.kdf.as_ref()
    }
}

impl SlotView for v1::Slot {
    fn kind(&self) -> SlotKind {
        self.kind
    }
    fn id(&self) -> [u8; 16] {
        self.id
    }
    fn kdf(&self) -> Option<&SlotKdf> {
        self.kdf.as_ref()
    }
}

impl SlotCredential<'_> {
    fn kind(&self) -> SlotKind {
        match self {
            SlotCredential::Password(_) => SlotKind::Password,
            SlotCredential::Recovery(_) => SlotKind::Recovery,
            SlotCredential::Platform { .. } => SlotKind::Platform,
            SlotCredential::Pin { .. } => SlotKind::Pin,
        }
    }

    fn applies_to(&self, slot: &dyn SlotView) -> bool {
        slot.kind() == self.kind()
            && match self {
                SlotCredential::Platform { slot_id, .. } | SlotCredential::Pin { slot_id, .. } => {
                    slot.id() == *slot_id
                }
                _ => true,
            }
    }

    /// Derives the slot's secrets (runs Argon2id for password and PIN slots, after checking
    /// the parameters against `limit`, within `budget`).
    fn secrets(
        &self,
        slot: &dyn SlotView,
        limit: KdfLimit,
        budget: &mut KdfBudget,
    ) -> Result<SlotSecrets, VaultError> {
        let kdf = || -> Result<&SlotKdf, VaultError> {
            let kdf = slot
                .kdf()
                .ok_or_else(|| VaultError::Corrupt("slot without KDF".into()))?;
            kdf.params().check_within(limit).map_err(VaultError::from)?;
            Ok(kdf)
        };
        Ok(match self {
            SlotCredential::Password(pw) => {
                let ikm = budget.argon2id(pw, kdf()?)?;
                SlotSecrets::derive(ikm.as_ref(), SlotKind::Password)
            }
            SlotCredential::Recovery(key) => SlotSecrets::derive(key.bytes(), SlotKind::Recovery),
            SlotCredential::Platform { key, .. } => {
                SlotSecrets::derive(key.as_ref(), SlotKind::Platform)
            }
            SlotCredential::Pin {
                pin, device_key, ..
            } => {
                let stretched = budget.argon2id(pin, kdf()?)?;
                SlotSecrets::derive(&join_pin(&stretched, device_key), SlotKind::Pin)
            }
        })
    }
}

/// The Argon2id work one unlock may still do: at most [`MAX_PASSWORD_SLOTS_TRIED`] runs in
/// all, whether one file is tried or the current one and then `.prev` (a slot with the same
/// parameters and salt in both costs one run). Holds the outputs until the unlock ends.
pub struct KdfBudget {
    runs_left: usize,
    done: Vec<(SlotKdf, Key32)>,
}

impl Default for KdfBudget {
    fn default() -> Self {
        KdfBudget {
            runs_left: MAX_PASSWORD_SLOTS_TRIED,
            done: Vec::new(),
        }
    }
}

impl KdfBudget {
    /// Argon2id of a password or PIN with a slot's parameters (already checked).
    fn argon2id(&mut self, secret: &[u8], kdf: &SlotKdf) -> Result<Key32, VaultError> {
        if let Some((_, key)) = self.done.iter().find(|(k, _)| k == kdf) {
            return Ok(key.clone());
        }
        if self.runs_left == 0 {
            return Err(VaultError::HostileFile(format!(
                "the file asks for more than {MAX_PASSWORD_SLOTS_TRIED} key derivations in one \
                 unlock"
            )));
        }
        self.runs_left -= 1;
        let key = crypto::argon2id(&crypto::normalize_password(secret), &kdf.salt, kdf.params())?;
        self.done.push((kdf.clone(), key.clone()));
        Ok(key)
    }
}

fn pin_ikm(
    pin: &[u8],
    device_key: &[u8; 32],
    kdf: &SlotKdf,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let stretched = crypto::argon2id(&crypto::normalize_password(pin), &kdf.salt, kdf.params())?;
    Ok(join_pin(&stretched, device_key))
}

/// `Argon2id(PIN) ‖ device_key`, the input keying material of a PIN slot.
fn join_pin(stretched: &Key32, device_key: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    let mut ikm = Zeroizing::new(Vec::with_capacity(64));
    ikm.extend_from_slice(stretched.as_ref());
    ikm.extend_from_slice(device_key);
    ikm
}

/// The slots a credential is tried against, in file order, with the work bounded: at most
/// [`MAX_PASSWORD_SLOTS_TRIED`] password slots (each an Argon2id run); platform and PIN
/// credentials name their slot.
fn candidates<'s, S: SlotView>(
    slots: &'s [S],
    credential: &SlotCredential<'_>,
) -> Vec<(usize, &'s S)> {
    let limit = match credential {
        SlotCredential::Password(_) => MAX_PASSWORD_SLOTS_TRIED,
        _ => slots.len(),
    };
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| credential.applies_to(*s))
        .take(limit)
        .collect()
}

/// A slot a credential opened.
pub struct Opened {
    /// Index of the slot in the header.
    pub index: usize,
    /// The vault's master key, unwrapped.
    pub master_key: Key32,
    /// The slot's endorsement key, to check and renew its endorsement.
    pub endorse_key: Key32,
    /// The slot endorses one of the file's signers (false: a slot from a v1 file, not yet
    /// endorsed — the file is not authenticated by it).
    pub endorsed: bool,
}

/// Opens a version 2 header with a credential. A credential that matches a slot's public
/// key but not its endorsement is [`VaultError::Forged`]: someone who does not hold this
/// vault's keys wrote the file.
pub fn unlock(
    parsed: &Parsed,
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
) -> Result<Opened, VaultError> {
    unlock_within(parsed, credential, limit, &mut KdfBudget::default())
}

/// [`unlock`] spending from a budget shared with other files of the same unlock (`.prev`).
pub fn unlock_within(
    parsed: &Parsed,
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
    budget: &mut KdfBudget,
) -> Result<Opened, VaultError> {
    let header = &parsed.header;
    let candidates = candidates(&header.slots, credential);
    if candidates.is_empty() {
        return Err(VaultError::NoSuchSlot);
    }
    for (index, slot) in candidates {
        let secrets = credential.secrets(slot, limit, budget)?;
        if secrets.keys.public != slot.public_key {
            continue;
        }
        let endorsed = match &slot.endorsement {
            Some(_) => {
                if !container::endorsement_valid(
                    slot,
                    &header.endorsement_vault_id(),
                    &secrets.endorse_key,
                ) {
                    return Err(VaultError::Forged);
                }
                true
            }
            None => false,
        };
        let master_key =
            container::unwrap_master_key(parsed.magic, &header.vault_id, slot, &secrets.keys)?;
        return Ok(Opened {
            index,
            master_key,
            endorse_key: secrets.endorse_key,
            endorsed,
        });
    }
    Err(VaultError::WrongCredential)
}

/// Whether `credential` opens one of `slots` (re-authentication of an unlocked session: the
/// same derivation an unlock runs, nothing opened or changed). Wrong is
/// [`VaultError::WrongCredential`].
pub fn check_credential(
    slots: &[Slot],
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
) -> Result<(), VaultError> {
    let candidates = candidates(slots, credential);
    if candidates.is_empty() {
        return Err(VaultError::NoSuchSlot);
    }
    let mut budget = KdfBudget::default();
    for (_, slot) in candidates {
        if credential.secrets(slot, limit, &mut budget)?.keys.public == slot.public_key {
            return Ok(());
        }
    }
    Err(VaultError::WrongCredential)
}

/// Opens a version 1 header with a credential (not authenticated: v1 has no endorsements).
pub fn unlock_v1(
    parsed: &v1::Parsed,
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
) -> Result<Opened, VaultError> {
    unlock_v1_within(parsed, credential, limit, &mut KdfBudget::default())
}

/// [`unlock_v1`] spending from a shared budget.
pub fn unlock_v1_within(
    parsed: &v1::Parsed,
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
    budget: &mut KdfBudget,
) -> Result<Opened, VaultError> {
    let candidates = candidates(&parsed.header.slots, credential);
    if candidates.is_empty() {
        return Err(VaultError::NoSuchSlot);
    }
    for (index, slot) in candidates {
        let secrets = credential.secrets(slot, limit, budget)?;
        match v1::unwrap_master_key(parsed, slot, &secrets.keys) {
            Ok(master_key) => {
                return Ok(Opened {
                    index,
                    master_key,
                    endorse_key: secrets.endorse_key,
                    endorsed: false,
                });
            }
            Err(VaultError::WrongCredential) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(VaultError::WrongCredential)
}

/// What a new slot is made from.
pub enum NewSlot<'a> {
    /// A password slot with fixed Argon2id parameters (vaults).
    Password {
        /// The password (NFC-normalized before derivation; must not be empty).
        password: &'a [u8],
        /// Argon2id parameters for the slot.
        params: KdfParams,
    },
    /// A password slot whose memory cost halves (and passes double) while memory cannot be
    /// reserved, down to `floor_m_kib` (backups).
    PasswordWithFallback {
        /// The password (NFC-normalized before derivation; must not be empty).
        password: &'a [u8],
        /// Argon2id parameters to try first.
        params: KdfParams,
        /// Lowest memory cost to fall back to, in KiB (never below [`KdfParams::FLOOR`]).
        floor_m_kib: u32,
    },
    /// A recovery-key slot (no key derivation: the key has 128 random bits).
    Recovery(&'a RecoveryKey),
    /// A platform slot: a random key the app keeps wrapped by a hardware keystore key.
    Platform {
        /// Name of the keystore key (at most [`container::MAX_ALIAS_LEN`] bytes).
        alias: String,
        /// The slot's random 32-byte key.
        key: &'a [u8; 32],
        /// `key` as the keystore wrapped it (at most [`container::MAX_BLOB_LEN`] bytes).
        wrapped_blob: Vec<u8>,
    },
    /// A PIN slot: Argon2id of a PIN together with a device key the keystore holds.
    Pin {
        /// Name of the keystore key that wraps the device key.
        alias: String,
        /// The new PIN: at least [`MIN_PIN_LEN`] ASCII digits.
        pin: &'a [u8],
        /// The random 32-byte device key.
        device_key: &'a [u8; 32],
        /// `device_key` as the keystore wrapped it (at most [`container::MAX_BLOB_LEN`] bytes).
        wrapped_blob: Vec<u8>,
        /// Argon2id parameters, at least [`MIN_PIN_KDF`].
        params: KdfParams,
    },
}

type SlotParts = (SlotKind, SlotSecrets, Option<SlotKdf>, Option<PlatformRef>);

fn new_slot_password(
    password: &[u8],
    params: KdfParams,
    floor_m_kib: u32,
    rng: &dyn RandomSource,
) -> Result<SlotParts, VaultError> {
    if password.is_empty() {
        return Err(InputError::EmptyPassword.into());
    }
    params.check_readable().map_err(VaultError::from)?;
    let salt: [u8; 16] = crypto::random_array(rng)?;
    let floor = floor_m_kib.max(KdfParams::FLOOR.m_kib);
    let (ikm, used) = crypto::argon2id_with_fallback(
        &crypto::normalize_password(password),
        &salt,
        params,
        floor,
    )?;
    let secrets = SlotSecrets::derive(ikm.as_ref(), SlotKind::Password);
    let kdf = SlotKdf {
        m_kib: used.m_kib,
        t: used.t,
        p: used.p,
        salt: salt.to_vec(),
    };
    Ok((SlotKind::Password, secrets, Some(kdf), None))
}

fn check_keystore_ref(alias: &str, blob: &[u8]) -> Result<(), VaultError> {
    if alias.len() > container::MAX_ALIAS_LEN || blob.len() > container::MAX_BLOB_LEN {
        return Err(InputError::KeystoreDataTooLong.into());
    }
    Ok(())
}

/// Checks a new PIN: at least [`MIN_PIN_LEN`] digits, nothing else.
pub fn check_new_pin(pin: &[u8]) -> Result<(), VaultError> {
    if pin.len() < MIN_PIN_LEN || !pin.iter().all(u8::is_ascii_digit) {
        return Err(InputError::PinTooShort { min: MIN_PIN_LEN }.into());
    }
    Ok(())
}

/// Builds a slot (public key and parameters), wraps `master_key` into it, and returns it with
/// the credential's secrets (to endorse the file's signer and to verify a file just written).
/// The slot is not endorsed yet.
pub fn create_slot(
    magic: [u8; 4],
    vault_id: &[u8; 16],
    spec: NewSlot<'_>,
    master_key: &Key32,
    rng: &dyn RandomSource,
) -> Result<(Slot, SlotSecrets), VaultError> {
    let id: [u8; 16] = crypto::random_array(rng)?;
    let (kind, secrets, kdf, platform) = match spec {
        NewSlot::Password { password, params } => {
            new_slot_password(password, params, params.m_kib, rng)?
        }
        NewSlot::PasswordWithFallback {
            password,
            params,
            floor_m_kib,
        } => new_slot_password(password, params, floor_m_kib, rng)?,
        NewSlot::Recovery(key) => (
            SlotKind::Recovery,
            SlotSecrets::derive(key.bytes(), SlotKind::Recovery),
            None,
            None,
        ),
        NewSlot::Platform {
            alias,
            key,
            wrapped_blob,
        } => {
            check_keystore_ref(&alias, &wrapped_blob)?;
            (
                SlotKind::Platform,
                SlotSecrets::derive(key, SlotKind::Platform),
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
            check_new_pin(pin)?;
            check_keystore_ref(&alias, &wrapped_blob)?;
            params.check_readable().map_err(VaultError::from)?;
            if params.work() < MIN_PIN_KDF.work() || params.m_kib < MIN_PIN_KDF.m_kib {
                return Err(InputError::PinKdfTooWeak { min: MIN_PIN_KDF }.into());
            }
            let salt: [u8; 16] = crypto::random_array(rng)?;
            let kdf = SlotKdf {
                m_kib: params.m_kib,
                t: params.t,
                p: params.p,
                salt: salt.to_vec(),
            };
            let secrets = SlotSecrets::derive(&pin_ikm(pin, device_key, &kdf)?, SlotKind::Pin);
            (
                SlotKind::Pin,
                secrets,
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
        public_key: secrets.keys.public,
        kdf,
        platform,
        wrap: container::empty_wrap(),
        endorsement: None,
    };
    container::wrap_master_key(magic, vault_id, &mut slot, master_key, rng)?;
    Ok((slot, secrets))
}

/// The slot's endorsement verifies under `endorse_key` (a file just written, or a backup).
pub fn is_endorsed_by(header: &Header, slot: &Slot, endorse_key: &Key32) -> bool {
    container::endorsement_valid(slot, &header.endorsement_vault_id(), endorse_key)
}

/// Checks `credential` against the slots of an unlocked vault's `header` (kept in memory):
/// it must open a slot to exactly `master_key`. Reads no file and changes nothing — the
/// re-authentication before exports and transfers. PINs are not accepted here (their wrong
/// tries are counted only by an unlock): [`VaultError::NoSuchSlot`].
pub fn verify_against(
    header: &Header,
    magic: [u8; 4],
    credential: &SlotCredential<'_>,
    limit: KdfLimit,
    master_key: &Key32,
) -> Result<(), VaultError> {
    if matches!(credential, SlotCredential::Pin { .. }) {
        return Err(VaultError::NoSuchSlot);
    }
    let candidates = candidates(&header.slots, credential);
    if candidates.is_empty() {
        return Err(VaultError::NoSuchSlot);
    }
    let mut budget = KdfBudget::default();
    for (_, slot) in candidates {
        let secrets = credential.secrets(slot, limit, &mut budget)?;
        if secrets.keys.public != slot.public_key {
            continue;
        }
        let opened = container::unwrap_master_key(magic, &header.vault_id, slot, &secrets.keys)?;
        if *opened == **master_key {
            return Ok(());
        }
    }
    Err(VaultError::WrongCredential)
}
