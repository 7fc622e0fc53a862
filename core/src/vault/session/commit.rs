//! The one transaction engine: every change is applied to a copy, sealed, written, and only
//! then made the session's state; key rotation ("rekey") for every credential change.

use super::*;
use crate::vault::care::CareState;
use crate::vault::container::Succession;
use crate::vault::slots::SlotSecrets;
use crate::vault::trust::KnownSlot;

/// One write of the vault.
pub(super) struct Change {
    pub(super) content: VaultContent,
    /// New header (slots, signers); `None` keeps the current one.
    pub(super) header: Option<Header>,
    /// New signing keys (same order as the new header's signers).
    pub(super) signers: Option<Vec<SigningKey>>,
    pub(super) master_key: Option<Key32>,
    pub(super) slot_meta: Option<Vec<SlotMeta>>,
    /// A credential is revoked: no older generation may survive, `.prev` included.
    pub(super) revokes: bool,
    /// New sync state: `None` keeps the current one, `Some(None)` removes it.
    pub(super) sync: Option<Option<SyncBlob>>,
    /// New care state (`None` keeps the current one).
    pub(super) care: Option<CareState>,
}

impl Change {
    /// A change of content only.
    pub(super) fn content(content: VaultContent) -> Self {
        Change {
            content,
            header: None,
            signers: None,
            master_key: None,
            slot_meta: None,
            revokes: false,
            sync: None,
            care: None,
        }
    }
}

#[derive(Serialize)]
struct VaultBodyRef<'a> {
    content: &'a VaultContent,
    signers: Vec<Seed>,
    slots: &'a [SlotMeta],
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sync: Option<&'a SyncBlob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    care: Option<&'a CareState>,
}

/// What the encrypted body of a file to be sealed holds.
pub(super) struct BodyParts<'a> {
    pub content: &'a VaultContent,
    pub signers: &'a [SigningKey],
    pub slot_meta: &'a [SlotMeta],
    pub sync: Option<&'a SyncBlob>,
    pub care: &'a CareState,
    pub now: i64,
}

/// Seals a vault file: the body holds the content, the signing seeds and the slot labels.
pub(super) fn seal(
    header: &Header,
    master_key: &Key32,
    parts: BodyParts<'_>,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, VaultError> {
    let signers = parts.signers;
    let body = VaultBodyRef {
        content: parts.content,
        signers: signers.iter().map(|k| Seed(*k.seed())).collect(),
        slots: parts.slot_meta,
        updated_at: parts.now,
        sync: parts.sync,
        // Written only once there is something to keep: the body of a vault that never
        // recorded anything stays as older versions wrote it.
        care: (*parts.care != CareState::default()).then_some(parts.care),
    };
    let plaintext = zeroize::Zeroizing::new(
        rmp_serde::to_vec_named(&body).map_err(|e| VaultError::Internal(e.to_string()))?,
    );
    let keys: Vec<&SigningKey> = signers.iter().collect();
    container::seal_file(VAULT_MAGIC, header, master_key, &plaintext, &keys, rng)
}

/// Raises every HOTP counter to the highest this device saw: a code once shown is never
/// shown again, whatever older file, backup or accepted rollback the content came from.
pub(super) fn apply_hotp_floors(content: &mut VaultContent, trust: Option<&TrustRecord>) -> bool {
    trust.is_some_and(|t| content.raise_hotp_counters(|id| t.hotp_floor(id)))
}

impl VaultSession {
    /// Applies `change` to a copy of the content, commits it, then makes it current.
    pub(super) fn mutate<R>(
        &self,
        change: impl FnOnce(&mut VaultContent, i64) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let now = self.now();
        let mut content = open.content.clone();
        let result = change(&mut content, now)?;
        self.commit(open, Change::content(content))?;
        Ok(result)
    }

    /// Applies a change to the content in one commit (for the crate's own modules, which
    /// call [`crate::vault::edit`] operations in it).
    pub(crate) fn modify<R>(
        &self,
        change: impl FnOnce(&mut VaultContent, i64) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        self.mutate(change)
    }

    /// Writes a new generation and publishes it to the session.
    pub(super) fn commit(&self, open: &mut Unlocked, change: Change) -> Result<(), VaultError> {
        let now = self.now();
        let Change {
            mut content,
            header,
            signers,
            master_key,
            slot_meta,
            revokes,
            sync,
            care,
        } = change;
        content.purge_expired(now);
        apply_hotp_floors(&mut content, open.trust.as_ref());
        if !open.current_damaged {
            // Refuse to overwrite a generation written by someone else since we loaded.
            if let Some(bytes) = self.env.fs.read(&self.path)?
                && let Some((_, generation)) = container::peek(&bytes, VAULT_MAGIC)
                && generation != open.header.generation
            {
                return Err(VaultError::Conflict);
            }
        }
        let mut header = header.unwrap_or_else(|| open.header.clone());
        header.generation = open
            .header
            .generation
            .max(open.min_generation)
            .checked_add(1)
            .ok_or(VaultError::Internal("generation overflow".into()))?;
        let bytes = seal(
            &header,
            master_key.as_ref().unwrap_or(&open.master_key),
            BodyParts {
                content: &content,
                signers: signers.as_deref().unwrap_or(&open.signers),
                slot_meta: slot_meta.as_deref().unwrap_or(&open.slot_meta),
                sync: match &sync {
                    Some(new) => new.as_ref(),
                    None => open.sync.as_ref(),
                },
                care: care.as_ref().unwrap_or(&open.care),
                now,
            },
            self.env.rng.as_ref(),
        )?;
        let prev = if revokes {
            storage::Prev::SameAsNew
        } else if open.current_damaged {
            storage::Prev::Leave
        } else {
            storage::Prev::Rotate
        };
        let result = storage::commit(self.env.fs.as_ref(), &self.path, &bytes, prev);
        if let Err(e) = &result
            && !e.applied
        {
            return result.map_err(VaultError::from);
        }
        // The new generation is on disk (perhaps not yet durably): the session follows it.
        open.header = header;
        open.content = content;
        open.codes = Default::default();
        if let Some(s) = signers {
            open.signers = s;
        }
        if let Some(k) = master_key {
            open.master_key = k;
        }
        if let Some(m) = slot_meta {
            open.slot_meta = m;
        }
        if let Some(s) = sync {
            open.sync = s;
        }
        if let Some(c) = care {
            open.care = c;
        }
        open.current_damaged = false;
        open.usage_dirty = false;
        open.min_generation = 0;
        self.store_trust(open, false);
        result.map_err(VaultError::from)
    }

    /// Brings the trust record up to the session's state and stores it. A failure to store
    /// is not an error of the write that happened: the record only lags (it never moves
    /// backwards), which narrows nothing but rollback detection.
    pub(super) fn store_trust(&self, open: &mut Unlocked, fresh: bool) {
        let Some(store) = &self.env.trust else {
            return;
        };
        let header = &open.header;
        let mut record = match (&open.trust, fresh) {
            (Some(r), false) if r.vault_id == header.vault_id => r.clone(),
            _ => TrustRecord::new(header.vault_id, 0, header.signers[0]),
        };
        record.generation = record.generation.max(header.generation);
        record.signer = header.signers[0];
        // Floors are kept for entries that are gone too: a purged HOTP entry restored from
        // an old backup must not show its old codes again.
        for e in &open.content.entries {
            if let OtpKind::Hotp { counter, .. } = e.kind {
                match record.hotp.iter_mut().find(|(id, _)| *id == e.id) {
                    Some((_, floor)) => *floor = (*floor).max(counter),
                    None => record.hotp.push((e.id, counter)),
                }
            }
        }
        record
            .pin_failures
            .retain(|p| header.slots.iter().any(|s| s.id == p.slot_id));
        // Only this session writes unendorsed slots (carried over from format 1, or from a
        // file accepted on purpose), so this device knows they were not stripped by a forger.
        record.legacy_slots = header
            .slots
            .iter()
            .filter(|s| s.endorsement.is_none())
            .map(|s| s.id)
            .collect();
        record.slots = header
            .slots
            .iter()
            .map(|s| KnownSlot {
                id: s.id,
                public_key: s.public_key,
            })
            .collect();
        let _ = store.store(&record.encode());
        open.trust = Some(record);
    }

    /// Changes the slots with a fresh master key and signing key: every credential change
    /// goes through here. `edit` adds and removes slots on a [`Rekey`]; slots whose secret
    /// is present (new ones, and the one this session was unlocked with) endorse the new
    /// signing key at once, the others keep their endorsement of an older key, which stays
    /// listed (and signing) until they are next used. No older generation survives.
    pub(super) fn rekey<R>(
        &self,
        edit: impl FnOnce(&mut Rekey<'_>) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let rng = self.env.rng.as_ref();
        let master_key = crypto::random_key(rng)?;
        let vault_id = open.header.vault_id;
        let mut plan = Rekey {
            slots: open.header.slots.clone(),
            meta: open.slot_meta.clone(),
            present: Vec::new(),
            master_key: &master_key,
            vault_id,
            now: self.now(),
            rng,
        };
        let result = edit(&mut plan)?;
        let Rekey {
            mut slots,
            mut meta,
            mut present,
            ..
        } = plan;
        if !slots.iter().any(|s| s.kind == SlotKind::Password) {
            return Err(VaultError::LastPasswordSlot);
        }
        if let Some((id, key)) = &open.unlocked_with
            && !present.iter().any(|(p, _)| p == id)
        {
            present.push((*id, key.clone()));
        }
        let signer = SigningKey::generate(rng)?;
        for slot in &mut slots {
            container::wrap_master_key(VAULT_MAGIC, &vault_id, slot, &master_key, rng)?;
            if let Some((_, key)) = present.iter().find(|(id, _)| *id == slot.id) {
                container::endorse(slot, &vault_id, key, signer.public());
            }
        }
        let mut signers = vec![signer];
        for old in &open.signers {
            if endorsed_by_some(&slots, &old.public()) {
                signers.push(SigningKey::from_seed(&old.seed()));
            }
        }
        let previous = &open.signers[0];
        let succession = Succession {
            previous: previous.public(),
            signature: previous.sign(&container::succession_message(
                &vault_id,
                &signers[0].public(),
            )),
        };
        meta.retain(|m| slots.iter().any(|s| s.id == m.id));
        let header = Header {
            vault_id,
            generation: open.header.generation,
            origin: None,
            signers: signers.iter().map(SigningKey::public).collect(),
            succession: Some(succession),
            slots,
        };
        let unlocked_slot_kept = open
            .unlocked_with
            .as_ref()
            .is_some_and(|(id, _)| header.slots.iter().any(|s| s.id == *id));
        let content = open.content.clone();
        self.commit(
            open,
            Change {
                content,
                header: Some(header),
                signers: Some(signers),
                master_key: Some(master_key),
                slot_meta: Some(meta),
                revokes: true,
                sync: None,
                care: None,
            },
        )?;
        if !unlocked_slot_kept {
            open.unlocked_with = None;
        }
        Ok(result)
    }

    /// A header change that revokes nothing (a slot added, a slot re-endorsed): same master
    /// key and signers; signers no slot endorses any more (but the current one) are dropped.
    pub(super) fn change_header(
        &self,
        open: &mut Unlocked,
        edit: impl FnOnce(&mut Header, &mut Vec<SlotMeta>) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let mut header = open.header.clone();
        let mut meta = open.slot_meta.clone();
        edit(&mut header, &mut meta)?;
        let current = header.signers[0];
        let keep: Vec<bool> = open
            .signers
            .iter()
            .map(|k| k.public() == current || endorsed_by_some(&header.slots, &k.public()))
            .collect();
        let signers: Vec<SigningKey> = open
            .signers
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| SigningKey::from_seed(&s.seed()))
            .collect();
        header.signers = signers.iter().map(SigningKey::public).collect();
        let content = open.content.clone();
        self.commit(
            open,
            Change {
                content,
                header: Some(header),
                signers: Some(signers),
                master_key: None,
                slot_meta: Some(meta),
                revokes: false,
                sync: None,
                care: None,
            },
        )
    }
}

fn endorsed_by_some(slots: &[container::Slot], signer: &[u8; 32]) -> bool {
    slots
        .iter()
        .any(|s| s.endorsement.as_ref().is_some_and(|e| &e.signer == signer))
}

/// A planned key rotation: the slots as they will be, and the secrets of those present.
pub(super) struct Rekey<'a> {
    slots: Vec<container::Slot>,
    meta: Vec<SlotMeta>,
    present: Vec<([u8; 16], Key32)>,
    master_key: &'a Key32,
    vault_id: [u8; 16],
    now: i64,
    rng: &'a dyn RandomSource,
}

impl Rekey<'_> {
    /// Adds a slot made from `spec`; it endorses the new signing key. Returns its id.
    pub(super) fn add(&mut self, spec: NewSlot<'_>, label: &str) -> Result<[u8; 16], VaultError> {
        let (slot, SlotSecrets { endorse_key, .. }) =
            slot_ops::create_slot(VAULT_MAGIC, &self.vault_id, spec, self.master_key, self.rng)?;
        let id = slot.id;
        self.present.push((id, endorse_key));
        self.meta.push(SlotMeta {
            id,
            label: label.to_owned(),
            created_at: self.now,
        });
        self.slots.push(slot);
        Ok(id)
    }

    /// Removes the slots `remove` selects; returns how many.
    pub(super) fn remove(&mut self, remove: impl Fn(&container::Slot) -> bool) -> usize {
        let before = self.slots.len();
        self.slots.retain(|s| !remove(s));
        before - self.slots.len()
    }

    /// Forgets every slot's endorsement; slots whose secret is present endorse the new key,
    /// the others are left unendorsed (endorsed when next used).
    pub(super) fn forget_endorsements(&mut self) {
        for s in &mut self.slots {
            s.endorsement = None;
        }
    }

    /// The slots as planned.
    pub(super) fn slots(&self) -> &[container::Slot] {
        &self.slots
    }
}
