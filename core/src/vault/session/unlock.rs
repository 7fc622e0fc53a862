//! Unlocking: which file to open (current, or `.prev` when the current one is damaged),
//! checking it against the device's trust record before any key derivation, opening it with
//! a credential, counting wrong PINs, and the repairs an unlock writes (upgrading a version 1
//! file, endorsing the slot just used, removing locked PIN slots, raising HOTP counters).

use super::commit::apply_hotp_floors;
use super::*;
use crate::vault::care::CareState;
use crate::vault::container::{AnyParsed, v1};
use crate::vault::slots::{KdfBudget, Opened, SlotCredential};
use crate::vault::trust::MAX_PIN_ATTEMPTS;

/// One PIN attempt at a time in this process (see `unlock_with_counted_pin`).
static PIN_ATTEMPTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A file opened with a credential, not yet the session's state.
struct Found {
    master_key: Key32,
    header: Header,
    content: VaultContent,
    signers: Vec<SigningKey>,
    slot_meta: Vec<SlotMeta>,
    /// Id and endorsement key of the slot that opened it.
    slot: ([u8; 16], Key32),
    /// The file's version (1: to be upgraded).
    version: u16,
    from_prev: bool,
    accepted_untrusted: bool,
    sync: Option<SyncBlob>,
    care: CareState,
    /// Slots left out of an accepted format 1 file because the record did not know them.
    dropped_slots: usize,
}

/// Checks a file's header against the trust record, before any key derivation. Returns
/// whether a rollback was accepted on purpose.
fn check_trust(
    header: &Header,
    trust: Option<&TrustRecord>,
    accept: bool,
    fallback: bool,
) -> Result<bool, VaultError> {
    let Some(rec) = trust else {
        return Ok(false);
    };
    // `.prev` after a damaged current file may be one generation behind the record.
    let floor = if fallback {
        rec.generation.saturating_sub(1)
    } else {
        rec.generation
    };
    let problem = if header.vault_id != rec.vault_id {
        Some(VaultError::Forged)
    } else if header.generation < floor {
        Some(VaultError::RolledBack {
            found: header.generation,
            expected: rec.generation,
        })
    } else if !header.signers.contains(&rec.signer)
        && header.succession.as_ref().map(|s| s.previous) != Some(rec.signer)
    {
        // Signed by keys that do not descend from the ones this device last saw.
        Some(VaultError::Forged)
    } else {
        None
    };
    match problem {
        Some(_) if accept => Ok(true),
        Some(e) => Err(e),
        None => Ok(false),
    }
}

fn both_damaged(first: VaultError) -> VaultError {
    match first {
        VaultError::Corrupt(reason) => {
            VaultError::Corrupt(format!("{reason}; the previous generation is damaged too"))
        }
        other => other,
    }
}

impl VaultSession {
    fn load_trust(&self) -> Result<Option<TrustRecord>, VaultError> {
        match &self.env.trust {
            Some(store) => Ok(store.load()?.as_deref().and_then(TrustRecord::decode)),
            None => Ok(None),
        }
    }

    /// Opens `bytes` with a credential: structure and signatures, the trust record, the slot
    /// (with its endorsement), the body.
    fn try_open(
        &self,
        bytes: &[u8],
        credential: &SlotCredential<'_>,
        trust: Option<&TrustRecord>,
        accept: bool,
        fallback: bool,
        budget: &mut KdfBudget,
    ) -> Result<Found, VaultError> {
        let limit = self.env.kdf_limit;
        match container::parse_any(bytes, VAULT_MAGIC)? {
            AnyParsed::V2(parsed) => {
                let mut accepted_untrusted = check_trust(&parsed.header, trust, accept, fallback)?;
                let Opened {
                    index,
                    master_key,
                    endorse_key,
                    endorsed,
                } = slot_ops::unlock_within(&parsed, credential, limit, budget)?;
                let slot_id = parsed.header.slots[index].id;
                if !endorsed {
                    // Anyone can strip an endorsement; an unendorsed slot is only known to be
                    // a genuine format 1 leftover if this device saw the upgrade.
                    match trust {
                        Some(rec) if rec.legacy_slots.contains(&slot_id) => {}
                        _ if accept => accepted_untrusted = true,
                        Some(_) => return Err(VaultError::Forged),
                        None => {
                            return Err(VaultError::Unverified(
                                "this key's slot has not vouched for the file since it was \
                                 upgraded from format 1, and this device has no record of it"
                                    .into(),
                            ));
                        }
                    }
                }
                let plaintext = container::open_body(&parsed, &master_key)?;
                let body: VaultBody = rmp_serde::from_slice(&plaintext).map_err(|_| {
                    VaultError::Corrupt("the decrypted body is not readable".into())
                })?;
                check_content_version(&body.content)?;
                if accepted_untrusted {
                    body.content.check_kinds().map_err(|why| {
                        VaultError::HostileFile(format!("the file's content: {why}"))
                    })?;
                }
                let signers: Vec<SigningKey> = body
                    .signers
                    .iter()
                    .map(|s| SigningKey::from_seed(&s.0))
                    .collect();
                if signers
                    .iter()
                    .map(SigningKey::public)
                    .ne(parsed.header.signers.iter().copied())
                {
                    return Err(VaultError::Corrupt(
                        "the body's signing keys do not match the header".into(),
                    ));
                }
                let care = body
                    .care
                    .map(|c| c.within_limits(&body.content))
                    .unwrap_or_default();
                Ok(Found {
                    master_key,
                    slot: (slot_id, endorse_key),
                    header: parsed.header,
                    content: body.content,
                    signers,
                    slot_meta: body.slots,
                    version: container::FORMAT_VERSION,
                    from_prev: false,
                    accepted_untrusted,
                    sync: body.sync,
                    care,
                    dropped_slots: 0,
                })
            }
            AnyParsed::V1(parsed) => {
                // Format 1 has no authenticity: anyone can write one that a credential opens.
                // A trust record is written only for version 2, so a v1 file where one exists
                // is an old copy put back; without one, the user decides.
                if !accept && let Some(rec) = trust {
                    return Err(VaultError::RolledBack {
                        found: parsed.header.generation,
                        expected: rec.generation,
                    });
                }
                let opened = slot_ops::unlock_v1_within(&parsed, credential, limit, budget)?;
                let content = v1::open_body(&parsed, &opened.master_key)?;
                check_content_version(&content)?;
                // Format 1 is not authenticated: codes this build cannot compute are refused
                // before anything shows them.
                content
                    .check_kinds()
                    .map_err(|why| VaultError::HostileFile(format!("the file's content: {why}")))?;
                if !accept {
                    return Err(VaultError::Unverified(
                        "it was written by Twofold 0.1 (format 1), which cannot show that the \
                         file was not replaced; accepting it upgrades it to format 2"
                            .into(),
                    ));
                }
                upgrade_v1(&parsed.header, opened, content, trust, self)
            }
        }
    }

    /// Opens the current file, or the previous generation when the current one is damaged
    /// — only the generation just before it (or the same one) of the same vault.
    fn open_file(
        &self,
        credential: &SlotCredential<'_>,
        trust: Option<&TrustRecord>,
        accept: bool,
    ) -> Result<Found, VaultError> {
        let fs = self.env.fs.as_ref();
        // One budget of key derivations for the current file and `.prev` together.
        let budget = &mut KdfBudget::default();
        let current = fs.read(&self.path)?;
        let peeked = current
            .as_deref()
            .and_then(|b| container::peek(b, VAULT_MAGIC));
        let first = match current {
            Some(bytes) => match self.try_open(&bytes, credential, trust, accept, false, budget) {
                Ok(found) => return Ok(found),
                Err(e @ VaultError::Corrupt(_)) => e,
                // The vault's own path holding something else is damage too (a zeroed first
                // block): `.prev` stands in for it under the same rules.
                Err(e @ VaultError::NotAContainer(_)) => e,
                Err(other) => return Err(other),
            },
            None => VaultError::Corrupt("the vault file is missing".into()),
        };
        let Some(prev) = fs.read(&storage::prev_path(&self.path))? else {
            return Err(first);
        };
        if let Some((prev_id, prev_generation)) = container::peek(&prev, VAULT_MAGIC) {
            let follows = match (peeked, trust) {
                (Some((id, generation)), _) => {
                    prev_id == id
                        && (prev_generation == generation
                            || prev_generation.checked_add(1) == Some(generation))
                }
                (None, Some(rec)) => {
                    prev_id == rec.vault_id && prev_generation.saturating_add(1) >= rec.generation
                }
                (None, None) => true,
            };
            if !follows {
                return Err(match first {
                    VaultError::Corrupt(reason) => VaultError::Corrupt(format!(
                        "{reason}; the previous-generation file (generation {prev_generation}) \
                         is not the one before it, so it was not used"
                    )),
                    other => other,
                });
            }
        }
        match self.try_open(&prev, credential, trust, accept, true, budget) {
            Ok(mut found) => {
                found.from_prev = true;
                Ok(found)
            }
            Err(VaultError::Corrupt(_)) => Err(both_damaged(first)),
            Err(other) => Err(other),
        }
    }

    /// Unlocks with any credential. When the current file is damaged, the previous
    /// generation is opened instead and `recovered_from_previous` says so.
    pub fn unlock(&self, credential: &SlotCredential<'_>) -> Result<UnlockInfo, VaultError> {
        self.unlock_with(credential, UnlockOptions::default())
    }

    /// [`VaultSession::unlock`] with options.
    pub fn unlock_with(
        &self,
        credential: &SlotCredential<'_>,
        options: UnlockOptions,
    ) -> Result<UnlockInfo, VaultError> {
        if let SlotCredential::Pin { slot_id, .. } = credential {
            return self.unlock_with_counted_pin(credential, *slot_id, options);
        }
        let trust = self.load_trust()?;
        let found = self.open_file(credential, trust.as_ref(), options.accept_untrusted)?;
        self.finish_unlock(found, trust)
    }

    /// A PIN attempt, counted where a copied file cannot reset it: the count is raised and
    /// stored *before* the PIN is tried (an attempt that is interrupted, or races another one,
    /// counts as wrong), one attempt at a time in this process, and only a right PIN resets
    /// it. Without a record nothing can count: the password comes first (`Unverified`).
    fn unlock_with_counted_pin(
        &self,
        credential: &SlotCredential<'_>,
        slot_id: [u8; 16],
        options: UnlockOptions,
    ) -> Result<UnlockInfo, VaultError> {
        let Some(store) = &self.env.trust else {
            return Err(VaultError::InvalidInput(
                crate::vault::InputError::NeedsTrustStore,
            ));
        };
        let _one_at_a_time = PIN_ATTEMPTS.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut record) = self.load_trust()? else {
            return Err(VaultError::Unverified(
                "this device has no record of the vault (or cannot read it), so wrong PINs \
                 cannot be counted: unlock with the password first"
                    .into(),
            ));
        };
        let failures = record.pin_failures(&slot_id);
        if failures >= MAX_PIN_ATTEMPTS {
            return Err(VaultError::PinLocked);
        }
        record.set_pin_failures(slot_id, failures + 1);
        // Fail closed: an attempt that cannot be counted is not made.
        store.store(&record.encode())?;
        match self.open_file(credential, Some(&record), options.accept_untrusted) {
            Ok(found) => {
                record.set_pin_failures(slot_id, 0);
                self.finish_unlock(found, Some(record))
            }
            Err(VaultError::WrongCredential) if failures + 1 >= MAX_PIN_ATTEMPTS => {
                Err(VaultError::PinLocked)
            }
            Err(VaultError::WrongCredential) => Err(VaultError::WrongCredential),
            Err(other) => {
                // Not a wrong PIN: the file was refused (before or after the PIN matched).
                record.set_pin_failures(slot_id, failures);
                let _ = store.store(&record.encode());
                Err(other)
            }
        }
    }

    /// Makes a found file the session's state and writes what the unlock repairs.
    fn finish_unlock(
        &self,
        found: Found,
        trust: Option<TrustRecord>,
    ) -> Result<UnlockInfo, VaultError> {
        let Found {
            master_key,
            header,
            content,
            signers,
            slot_meta,
            slot,
            version,
            from_prev,
            accepted_untrusted,
            sync,
            care,
            dropped_slots,
        } = found;
        let mut info = UnlockInfo {
            recovered_from_previous: from_prev,
            accepted_untrusted,
            upgraded_from: (version != container::FORMAT_VERSION).then_some(version),
            removed_unknown_slots: dropped_slots,
            ..UnlockInfo::default()
        };
        // A file accepted on purpose keeps only the slots this device knew (and the one that
        // opened it): whoever wrote it may have added slots of their own, and an old copy
        // brings back slots revoked since.
        let known = known_slots(trust.as_ref(), header.vault_id, accepted_untrusted);
        let slot_id = slot.0;
        let min_generation = match (&trust, accepted_untrusted) {
            (Some(rec), true) => rec.generation,
            _ => 0,
        };
        let locked_pins: Vec<[u8; 16]> = trust
            .as_ref()
            .map(|t| t.locked_pin_slots())
            .unwrap_or_default()
            .into_iter()
            .filter(|id| {
                header
                    .slots
                    .iter()
                    .any(|s| s.id == *id && s.kind == SlotKind::Pin)
            })
            .filter(|id| *id != slot.0)
            .collect();
        let used = header.slots.iter().find(|s| s.id == slot.0);
        let needs_endorsement = used
            .is_some_and(|s| s.endorsement.as_ref().map(|e| e.signer) != Some(header.signers[0]));
        let mut open = Unlocked {
            master_key,
            header,
            content,
            signers,
            slot_meta,
            unlocked_with: Some(slot),
            current_damaged: from_prev,
            usage_dirty: false,
            min_generation,
            trust,
            sync,
            care,
            codes: Default::default(),
        };
        let floors_raise = {
            let mut probe = open.content.clone();
            apply_hotp_floors(&mut probe, open.trust.as_ref())
        };
        // Locked PIN slots go, with fresh keys; a file accepted on purpose is rewritten under
        // fresh keys too, so whoever may have made it cannot read what is written next.
        let needs_rekey =
            !locked_pins.is_empty() || (accepted_untrusted && version == container::FORMAT_VERSION);
        let mut guard = self.write_state();
        let result = (|| -> Result<(), VaultError> {
            if version != container::FORMAT_VERSION {
                // The upgraded header and keys are already in `open`: write them, and let no
                // version 1 generation survive next to it.
                let content = open.content.clone();
                let change = commit::Change {
                    revokes: true,
                    ..commit::Change::content(content)
                };
                self.commit(&mut open, change)?;
            } else if needs_rekey {
                // Written below.
            } else if needs_endorsement || floors_raise || from_prev {
                let (slot_id, key) = open.unlocked_with.clone().expect("set above");
                self.change_header(&mut open, |header, _| {
                    let vault_id = header.vault_id;
                    let current = header.signers[0];
                    if let Some(s) = header.slots.iter_mut().find(|s| s.id == slot_id) {
                        container::endorse(s, &vault_id, &key, current);
                    }
                    Ok(())
                })?;
            } else {
                self.store_trust(&mut open, false);
            }
            Ok(())
        })();
        if let Err(e) = result {
            *guard = None;
            return Err(e);
        }
        *guard = Some(open);
        drop(guard);
        if needs_rekey {
            let accepted_v2 = accepted_untrusted && version == container::FORMAT_VERSION;
            let used = slot_id;
            match self.rekey(|plan| {
                let mut unknown = 0;
                if accepted_v2 {
                    // Whoever wrote a file accepted on purpose chose its endorsements and its
                    // signing keys: none is kept. The slot just used vouches for the new key,
                    // the others do when they are next used (as after an upgrade).
                    plan.forget_endorsements();
                    if let Some(known) = &known {
                        unknown = plan.remove(|s| {
                            s.id != used
                                && !known
                                    .iter()
                                    .any(|k| k.id == s.id && k.public_key == s.public_key)
                        });
                    }
                }
                Ok((plan.remove(|s| locked_pins.contains(&s.id)), unknown))
            }) {
                Ok((pins, unknown)) => {
                    info.removed_pin_slots = pins;
                    info.removed_unknown_slots += unknown;
                }
                Err(e) => {
                    self.lock_without_flush();
                    return Err(e);
                }
            }
        }
        info.generation = self.generation()?;
        info.unendorsed_slots = self.read_state().as_ref().map_or(0, |o| {
            o.header
                .slots
                .iter()
                .filter(|s| s.endorsement.is_none())
                .count()
        });
        Ok(info)
    }

    fn lock_without_flush(&self) {
        *self.write_state() = None;
    }

    /// Unlocks with the vault password.
    pub fn unlock_with_password(&self, password: &[u8]) -> Result<UnlockInfo, VaultError> {
        self.unlock(&SlotCredential::Password(password))
    }

    /// Unlocks a file that is rolled back, foreign to this device's record, or unverifiable
    /// (format 1), because the user says it is theirs. Needs the password, the strongest
    /// credential. The file is rewritten as version 2 under fresh keys; HOTP counters are
    /// raised to what this device saw, and the next generation is above the record's.
    pub fn unlock_with_password_accepting_untrusted(
        &self,
        password: &[u8],
    ) -> Result<UnlockInfo, VaultError> {
        self.unlock_with(
            &SlotCredential::Password(password),
            UnlockOptions {
                accept_untrusted: true,
            },
        )
    }

    /// Unlocks with the printable recovery key; a typo is reported as such.
    pub fn unlock_with_recovery_key(&self, text: &str) -> Result<UnlockInfo, VaultError> {
        let key = RecoveryKey::parse(text)?;
        self.unlock(&SlotCredential::Recovery(&key))
    }

    /// Second half of the pull API: the app unwrapped the slot key with its keystore.
    pub fn unlock_with_platform_key(
        &self,
        slot_id: [u8; 16],
        key: &[u8; 32],
    ) -> Result<UnlockInfo, VaultError> {
        self.unlock(&SlotCredential::Platform { slot_id, key })
    }

    /// Unlocks with a PIN and the device key the app unwrapped from its keystore. After
    /// [`MAX_PIN_ATTEMPTS`] wrong PINs in a row this is [`VaultError::PinLocked`] without
    /// trying, and the next unlock with another credential removes the PIN slot.
    pub fn unlock_with_pin(
        &self,
        slot_id: [u8; 16],
        pin: &[u8],
        device_key: &[u8; 32],
    ) -> Result<UnlockInfo, VaultError> {
        self.unlock(&SlotCredential::Pin {
            slot_id,
            pin,
            device_key,
        })
    }

    /// Wrong PINs in a row for a slot, as the trust record counts them.
    pub fn pin_failures(&self, slot_id: [u8; 16]) -> Result<u32, VaultError> {
        Ok(self.load_trust()?.map_or(0, |t| t.pin_failures(&slot_id)))
    }
}

/// The slots a file accepted on purpose may keep: those of this device's record of the same
/// vault (`None`: keep every slot — no record, or one written before it listed slots).
fn known_slots(
    trust: Option<&TrustRecord>,
    vault_id: [u8; 16],
    accepted_untrusted: bool,
) -> Option<Vec<crate::vault::trust::KnownSlot>> {
    trust
        .filter(|r| accepted_untrusted && r.vault_id == vault_id && !r.slots.is_empty())
        .map(|r| r.slots.clone())
}

fn check_content_version(content: &VaultContent) -> Result<(), VaultError> {
    if content.version > model::CONTENT_VERSION {
        return Err(VaultError::UnsupportedVersion(
            u16::try_from(content.version).unwrap_or(u16::MAX),
        ));
    }
    Ok(())
}

/// Turns an opened version 1 vault into version 2 state: a fresh master key and signing key,
/// every slot re-wrapped to its public key, the slot that opened it endorsing the new key
/// (the others are endorsed when they are next used), labels moved into the body.
fn upgrade_v1(
    old: &v1::Header,
    opened: Opened,
    content: VaultContent,
    trust: Option<&TrustRecord>,
    session: &VaultSession,
) -> Result<Found, VaultError> {
    let rng = session.env.rng.as_ref();
    let master_key = crypto::random_key(rng)?;
    let signer = SigningKey::generate(rng)?;
    let vault_id = old.vault_id;
    let used_id = old.slots[opened.index].id;
    // Where this device has a record listing the vault's slots, a format 1 file (always an
    // old copy or a forgery there) keeps only those and the one that opened it.
    let known = known_slots(trust, vault_id, true);
    let keep = |s: &v1::Slot| {
        s.id == used_id
            || known.as_ref().is_none_or(|k| {
                k.iter()
                    .any(|k| k.id == s.id && k.public_key == s.public_key)
            })
    };
    let kept: Vec<&v1::Slot> = old.slots.iter().filter(|s| keep(s)).collect();
    let dropped_slots = old.slots.len() - kept.len();
    let mut slots = Vec::with_capacity(kept.len());
    for s in kept.iter().copied() {
        let mut slot = container::Slot {
            id: s.id,
            kind: s.kind,
            public_key: s.public_key,
            kdf: s.kdf.clone(),
            platform: s.platform.clone(),
            wrap: container::empty_wrap(),
            endorsement: None,
        };
        container::wrap_master_key(VAULT_MAGIC, &vault_id, &mut slot, &master_key, rng)?;
        if s.id == used_id {
            container::endorse(&mut slot, &vault_id, &opened.endorse_key, signer.public());
        }
        slots.push(slot);
    }
    let slot_meta = kept
        .iter()
        .map(|s| SlotMeta {
            id: s.id,
            label: s.label.clone(),
            created_at: s.created_at,
        })
        .collect();
    Ok(Found {
        master_key,
        header: Header {
            vault_id,
            generation: old.generation,
            origin: None,
            signers: vec![signer.public()],
            succession: None,
            slots,
        },
        content,
        signers: vec![signer],
        slot_meta,
        slot: (used_id, opened.endorse_key),
        version: v1::FORMAT_VERSION,
        from_prev: false,
        sync: None,
        care: CareState::default(),
        accepted_untrusted: true,
        dropped_slots,
    })
}

/// The slots of the file on disk, without a credential (current, else `.prev`).
pub(super) fn slots_while_locked(session: &VaultSession) -> Result<Vec<SlotInfo>, VaultError> {
    let fs = session.env.fs.as_ref();
    let from = |bytes: &[u8]| -> Result<Vec<SlotInfo>, VaultError> {
        Ok(match container::parse_any(bytes, VAULT_MAGIC)? {
            AnyParsed::V2(p) => slot_infos(&p.header, &[]),
            AnyParsed::V1(p) => p
                .header
                .slots
                .iter()
                .map(|s| SlotInfo {
                    id: s.id,
                    kind: s.kind,
                    label: s.label.clone(),
                    created_at: s.created_at,
                    kdf: s.kdf.as_ref().map(|k| k.params()),
                    platform_alias: s.platform.as_ref().map(|p| p.alias.clone()),
                    platform_blob: s.platform.as_ref().map(|p| p.blob.clone()),
                    endorsed: false,
                })
                .collect(),
        })
    };
    let first = match fs.read(&session.path)? {
        Some(bytes) => match from(&bytes) {
            Ok(v) => return Ok(v),
            Err(e @ VaultError::Corrupt(_)) => e,
            Err(e @ VaultError::NotAContainer(_)) => e,
            Err(other) => return Err(other),
        },
        None => VaultError::Corrupt("the vault file is missing".into()),
    };
    match fs.read(&storage::prev_path(&session.path))? {
        Some(bytes) => from(&bytes).map_err(|_| both_damaged(first)),
        None => Err(first),
    }
}
