//! Entry and group edits, HOTP, usage and settings: each one operation of [`crate::vault::edit`]
//! run through the transaction engine.

use super::*;
use crate::vault::edit::{EntryUpdate, InsertPolicy, InsertReport, NewEntry, OnDuplicate};

impl VaultSession {
    /// `n` fresh random ids.
    fn fresh_ids(&self, n: usize) -> Result<std::vec::IntoIter<model::Id>, VaultError> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(new_id(self.env.rng.as_ref())?);
        }
        Ok(ids.into_iter())
    }

    /// Adds accounts under `policy` in one write (see [`crate::vault::edit`]).
    pub fn insert(
        &self,
        new: Vec<NewEntry>,
        policy: InsertPolicy,
    ) -> Result<InsertReport, VaultError> {
        let groups: usize = new.iter().map(|n| n.groups.len()).sum();
        let mut ids = self.fresh_ids(new.len() + groups)?;
        self.mutate(move |c, now| c.insert(new, policy, &mut ids, now))
    }

    /// Adds one account typed in, scanned or pasted. An account with the same secret and kind
    /// is refused as [`VaultError::Duplicate`] unless `allow_duplicate`; unknown groups are
    /// refused; a name that breaks a limit is the error.
    pub fn add_entry(&self, new: NewEntry, allow_duplicate: bool) -> Result<Entry, VaultError> {
        let policy = InsertPolicy {
            on_duplicate: if allow_duplicate {
                OnDuplicate::Allow
            } else {
                OnDuplicate::Error
            },
            ..InsertPolicy::STRICT
        };
        self.add_entry_with(new, policy)
    }

    /// Adds one account under `policy`; a rejected or skipped account is the error.
    pub fn add_entry_with(&self, new: NewEntry, policy: InsertPolicy) -> Result<Entry, VaultError> {
        let report = self.insert(vec![new], policy)?;
        if let Some(rejected) = report.rejected.into_iter().next() {
            return Err(rejected.reason.into());
        }
        if let Some(skipped) = report.duplicates.first() {
            return Err(VaultError::Duplicate(skipped.existing.to_string()));
        }
        let id = report
            .added
            .first()
            .ok_or_else(|| VaultError::Internal("nothing was added".into()))?;
        self.entry(*id)
    }

    /// Edits an entry.
    pub fn update_entry(&self, id: EntryId, update: EntryUpdate) -> Result<Entry, VaultError> {
        self.mutate(|c, now| c.update(id, update, now).cloned())
    }

    /// Moves an entry to the trash.
    pub fn delete_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, now| c.trash(id, now))
    }

    /// Takes an entry out of the trash.
    pub fn restore_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, now| c.untrash(id, now))
    }

    /// Deletes a trashed entry for good. Live entries must be trashed first.
    pub fn purge_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, _| c.purge(id))
    }

    /// Empties the trash. Returns how many entries were purged.
    pub fn empty_trash(&self) -> Result<usize, VaultError> {
        self.mutate(|c, _| Ok(c.empty_trash()))
    }

    /// Puts the listed entries first, in the given order; the rest keep their order after.
    pub fn reorder(&self, ids: &[EntryId]) -> Result<(), VaultError> {
        self.mutate(|c, _| c.reorder(ids))
    }

    /// A new group, after the others.
    pub fn add_group(&self, name: &str) -> Result<Group, VaultError> {
        let id = new_id(self.env.rng.as_ref())?;
        self.mutate(|c, _| c.add_group(id, name))
    }

    /// Renames a group (the name is trimmed and must not be empty).
    pub fn rename_group(&self, id: GroupId, name: &str) -> Result<(), VaultError> {
        self.mutate(|c, _| c.rename_group(id, name))
    }

    /// Deletes a group; its entries stay, without the group.
    pub fn delete_group(&self, id: GroupId) -> Result<(), VaultError> {
        self.mutate(|c, _| c.delete_group(id))
    }

    /// Produces the next HOTP code. The advanced counter is on disk before the code is
    /// returned, so a code is never shown twice, even across a crash.
    pub fn next_hotp(&self, id: EntryId) -> Result<String, VaultError> {
        self.mutate(|c, now| c.next_hotp(id, now))
    }

    /// Records that the user used (copied) an entry's code. Kept in memory and written with
    /// the next change or when the vault locks, so using a code does not rewrite the file
    /// (an observer of a synced folder would see every use).
    pub fn record_use(&self, id: EntryId) -> Result<(), VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        open.content.record_use(id, self.now())?;
        if let Some(OtpKind::Hotp { counter, .. }) = open.content.entry(id).map(|e| e.kind) {
            // The code used is the one before the counter: the checkup measures how far
            // the counter runs ahead of it.
            open.care.note_hotp_use(id, counter);
        }
        open.usage_dirty = true;
        Ok(())
    }

    /// Writes usage statistics kept in memory by [`VaultSession::record_use`] now.
    pub fn flush_usage(&self) -> Result<(), VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        if !open.usage_dirty {
            return Ok(());
        }
        let content = open.content.clone();
        self.commit(open, commit::Change::content(content))
    }

    /// Sets the clock offset in seconds.
    pub fn set_clock_offset(&self, seconds: i64) -> Result<(), VaultError> {
        self.mutate(|c, _| c.set_clock_offset(seconds))
    }

    /// Records a trusted time sample (e.g. an HTTPS `Date` header read at local time
    /// `local_ms`). Stores the offset; returns it and whether the user should be warned.
    pub fn record_time_sample(
        &self,
        local_ms: i64,
        trusted_ms: i64,
    ) -> Result<(i64, bool), VaultError> {
        let offset = otp::offset_from_sample(local_ms, trusted_ms);
        self.set_clock_offset(offset)?;
        Ok((offset, otp::offset_needs_warning(offset)))
    }

    /// Calibrates the clock from a code the service of entry `id` just accepted (and
    /// optionally the code it accepted right after): searches ±`window_s` around this
    /// device's clock (see [`otp::calibrate`]). Exactly one matching step sets and stores the
    /// clock offset (the same setting a trusted time sample sets); otherwise nothing changes
    /// and the error says why.
    pub fn calibrate_from_accepted_code(
        &self,
        id: EntryId,
        code: &str,
        next_code: Option<&str>,
        window_s: u32,
    ) -> Result<otp::calibrate::Calibration, VaultError> {
        let local_ms = (self.env.clock)();
        let calibration = self.read(|c| {
            let e = c
                .entry(id)
                .filter(|e| e.deleted_at.is_none())
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            otp::calibrate::calibrate(&e.kind, &e.secret, local_ms, code, next_code, window_s)
                .map_err(|e| VaultError::from(crate::vault::InputError::from(e)))
        })??;
        self.set_clock_offset(calibration.offset_s)?;
        Ok(calibration)
    }

    /// Re-authentication: whether `password` is this vault's (one Argon2id run; nothing
    /// changes). For showing or exporting a secret from an unlocked session.
    pub fn check_password(&self, password: &[u8]) -> Result<(), VaultError> {
        let slots = {
            let guard = self.read_state();
            guard
                .as_ref()
                .ok_or(VaultError::Locked)?
                .header
                .slots
                .clone()
        };
        crate::vault::slots::check_credential(
            &slots,
            &crate::vault::SlotCredential::Password(password),
            self.env.kdf_limit,
        )
    }

    /// The QR code of entry `id`'s otpauth URI, secret included, to show on screen (an
    /// authenticator scans it to enroll the account), after the user re-authenticated with
    /// `password`. The one place a stored entry's QR code is made for display; it is recorded
    /// in the exposure ledger (`QrShown`).
    pub fn entry_qr_for_display(
        &self,
        id: EntryId,
        password: &[u8],
    ) -> Result<crate::qr::QrMatrix, VaultError> {
        if !self.read(|c| c.entry(id).is_some_and(|e| e.deleted_at.is_none()))? {
            return Err(VaultError::NoSuchEntry(id.to_string()));
        }
        self.check_password(password)?;
        // Recorded in the exposure ledger before the code is handed out.
        let text = self.reveal_uri(id, crate::vault::care::ExposureWay::QrShown)?;
        crate::qr::encode(&text, crate::qr::EcLevel::M)
            .map_err(|err| VaultError::Internal(err.to_string()))
    }

    /// Changes how long trashed entries are kept (1 day to 10 years).
    pub fn set_trash_retention_days(&self, days: u32) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            c.set_trash_retention_days(days);
            Ok(())
        })
    }
}
