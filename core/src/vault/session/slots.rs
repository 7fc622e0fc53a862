//! Key slots of an unlocked vault. Adding a slot revokes nothing and keeps the keys; every
//! change that takes a credential away (password change, recovery-key rotation, slot
//! removal, biometric re-enrollment) rotates the master key and the signing key.

use super::*;
use crate::vault::slots::SlotSecrets;

impl VaultSession {
    /// Adds a slot that endorses the current signing key, with the same master key.
    fn add_slot(&self, spec: NewSlot<'_>, label: &str) -> Result<[u8; 16], VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        if open.header.slots.len() >= container::MAX_SLOTS {
            return Err(crate::vault::InputError::TooManySlots {
                max: container::MAX_SLOTS,
            }
            .into());
        }
        let vault_id = open.header.vault_id;
        let (mut slot, SlotSecrets { endorse_key, .. }) = slot_ops::create_slot(
            VAULT_MAGIC,
            &vault_id,
            spec,
            &open.master_key,
            self.env.rng.as_ref(),
        )?;
        container::endorse(&mut slot, &vault_id, &endorse_key, open.header.signers[0]);
        let id = slot.id;
        let now = self.now();
        self.change_header(open, |header, meta| {
            header.slots.push(slot);
            meta.push(SlotMeta {
                id,
                label: label.to_owned(),
                created_at: now,
            });
            Ok(())
        })?;
        Ok(id)
    }

    /// Adds a platform (biometric) slot. The app generated `key` (see
    /// [`crate::crypto::random_key`]), wrapped it with its hardware keystore into
    /// `wrapped_blob`, and hands both over; the core keeps only the blob and a public key.
    pub fn add_platform_slot(
        &self,
        alias: &str,
        label: &str,
        key: &[u8; 32],
        wrapped_blob: Vec<u8>,
    ) -> Result<[u8; 16], VaultError> {
        self.add_slot(
            NewSlot::Platform {
                alias: alias.to_owned(),
                key,
                wrapped_blob,
            },
            label,
        )
    }

    /// Replaces a platform slot by a new one in one commit (biometric re-enrollment): the
    /// old slot keeps working until the new one is written, and its key opens nothing
    /// written afterwards. The app deletes the old hardware key only after this returns.
    pub fn replace_platform_slot(
        &self,
        old_slot_id: [u8; 16],
        alias: &str,
        label: &str,
        key: &[u8; 32],
        wrapped_blob: Vec<u8>,
    ) -> Result<[u8; 16], VaultError> {
        self.rekey(|plan| {
            if !plan
                .slots()
                .iter()
                .any(|s| s.id == old_slot_id && s.kind == SlotKind::Platform)
            {
                return Err(VaultError::NoSuchSlot);
            }
            plan.remove(|s| s.id == old_slot_id);
            plan.add(
                NewSlot::Platform {
                    alias: alias.to_owned(),
                    key,
                    wrapped_blob,
                },
                label,
            )
        })
    }

    /// Adds a device-bound PIN slot: the PIN alone never opens it, it needs `device_key`
    /// from the keystore too. At least six digits; the trust store counts wrong PINs, so a
    /// session without one cannot have PIN slots.
    pub fn add_pin_slot(
        &self,
        alias: &str,
        pin: &[u8],
        device_key: &[u8; 32],
        wrapped_blob: Vec<u8>,
        params: KdfParams,
    ) -> Result<[u8; 16], VaultError> {
        if self.env.trust.is_none() {
            return Err(crate::vault::InputError::NeedsTrustStore.into());
        }
        self.add_slot(
            NewSlot::Pin {
                alias: alias.to_owned(),
                pin,
                device_key,
                wrapped_blob,
                params,
            },
            "PIN",
        )
    }

    /// Adds another password slot.
    pub fn add_password_slot(
        &self,
        password: &[u8],
        params: KdfParams,
        label: &str,
    ) -> Result<[u8; 16], VaultError> {
        self.add_slot(NewSlot::Password { password, params }, label)
    }

    /// Removes a slot, rotating the keys: its credential opens nothing written afterwards.
    /// The last password slot cannot be removed.
    pub fn remove_slot(&self, slot_id: [u8; 16]) -> Result<(), VaultError> {
        self.rekey(|plan| match plan.remove(|s| s.id == slot_id) {
            0 => Err(VaultError::NoSuchSlot),
            _ => Ok(()),
        })
    }

    /// Changes the password: every password slot is replaced by one for the new password,
    /// and the keys rotate. The other slots keep working without their secrets (the master
    /// key is wrapped to their public keys), so nothing else is asked for.
    pub fn change_password(
        &self,
        new_password: &[u8],
        params: KdfParams,
    ) -> Result<(), VaultError> {
        self.rekey(|plan| {
            plan.remove(|s| s.kind == SlotKind::Password);
            plan.add(
                NewSlot::Password {
                    password: new_password,
                    params,
                },
                "password",
            )
            .map(|_| ())
        })
    }

    /// Replaces the recovery slot with a new recovery key, returned to be shown once; the
    /// keys rotate, so the old recovery key opens nothing written afterwards.
    pub fn rotate_recovery_key(&self) -> Result<RecoveryKey, VaultError> {
        let key = RecoveryKey::generate(self.env.rng.as_ref())?;
        self.rekey(|plan| {
            plan.remove(|s| s.kind == SlotKind::Recovery);
            plan.add(NewSlot::Recovery(&key), "recovery key")
                .map(|_| ())
        })?;
        Ok(key)
    }

    /// Whether `key` is the vault's current recovery key (its recovery slot's public key is
    /// the key's). No key derivation beyond the key's own HKDF; nothing changes.
    pub(crate) fn is_current_recovery_key(&self, key: &RecoveryKey) -> Result<bool, VaultError> {
        let secrets = SlotSecrets::derive(key.bytes(), SlotKind::Recovery);
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(open
            .header
            .slots
            .iter()
            .any(|s| s.kind == SlotKind::Recovery && s.public_key == secrets.keys.public))
    }

    /// Checks a recovery key the user typed against the vault's recovery slot and, when it
    /// matches, has the slot endorse the current signing key (a slot carried over from a
    /// version 1 vault is authenticated from then on). Wrong keys are
    /// [`VaultError::WrongCredential`]; nothing changes.
    pub fn confirm_recovery_key(&self, key: &RecoveryKey) -> Result<(), VaultError> {
        let secrets = SlotSecrets::derive(key.bytes(), SlotKind::Recovery);
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let slot = open
            .header
            .slots
            .iter()
            .find(|s| s.kind == SlotKind::Recovery)
            .ok_or(VaultError::NoSuchSlot)?;
        if slot.public_key != secrets.keys.public {
            return Err(VaultError::WrongCredential);
        }
        let slot_id = slot.id;
        // The user has shown to hold the recovery key (the checkup asks for this).
        let mut care = open.care.clone();
        care.recovery_key_confirmed_at = Some(self.now());
        if slot.endorsement.as_ref().map(|e| e.signer) == Some(open.header.signers[0]) {
            let content = open.content.clone();
            return self.commit(
                open,
                commit::Change {
                    care: Some(care),
                    ..commit::Change::content(content)
                },
            );
        }
        let before = std::mem::replace(&mut open.care, care);
        let result = self.change_header(open, |header, _| {
            let (vault_id, current) = (header.vault_id, header.signers[0]);
            if let Some(s) = header.slots.iter_mut().find(|s| s.id == slot_id) {
                container::endorse(s, &vault_id, &secrets.endorse_key, current);
            }
            Ok(())
        });
        if result.is_err() {
            open.care = before;
        }
        result
    }

    /// The recovery slot's public key, so backups can be sealed to the recovery key.
    pub fn recovery_public_key(&self) -> Result<Option<[u8; 32]>, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(open
            .header
            .slots
            .iter()
            .find(|s| s.kind == SlotKind::Recovery)
            .map(|s| s.public_key))
    }

    /// Whether `signer` is one of the signing keys of this vault (`vault_id`) as it is now
    /// (a restored backup is authenticated for this vault only then).
    pub(crate) fn uses_signing_key(
        &self,
        vault_id: [u8; 16],
        signer: [u8; 32],
    ) -> Result<bool, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(open.header.vault_id == vault_id && open.header.signers.contains(&signer))
    }

    /// What a backup of this vault is sealed and signed with: the vault id, the current
    /// signing key, and the recovery slot with the signing key it endorses.
    pub(crate) fn backup_keys(&self) -> Result<BackupKeys, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        let copy = |public: &[u8; 32]| {
            open.signers
                .iter()
                .find(|k| &k.public() == public)
                .map(|k| SigningKey::from_seed(&k.seed()))
        };
        let recovery = open
            .header
            .slots
            .iter()
            .find(|s| s.kind == SlotKind::Recovery)
            .cloned();
        let recovery_signer = recovery
            .as_ref()
            .and_then(|s| s.endorsement.as_ref())
            .and_then(|e| copy(&e.signer));
        Ok(BackupKeys {
            vault_id: open.header.vault_id,
            current: copy(&open.header.signers[0])
                .ok_or_else(|| VaultError::Internal("no current signing key".into()))?,
            recovery,
            recovery_signer,
        })
    }
}

/// See [`VaultSession::backup_keys`].
pub(crate) struct BackupKeys {
    pub(crate) vault_id: [u8; 16],
    pub(crate) current: SigningKey,
    pub(crate) recovery: Option<container::Slot>,
    pub(crate) recovery_signer: Option<SigningKey>,
}
