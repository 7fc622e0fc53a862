//! Entry and group edits, HOTP, usage and settings: each one change through the
//! transaction engine.

use super::*;

/// A new entry.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub kind: OtpKind,
    pub secret: Secret,
    pub issuer: String,
    pub account: String,
    pub note: String,
    pub group_ids: Vec<GroupId>,
    pub favorite: bool,
    pub icon: Option<IconRef>,
}

impl NewEntry {
    /// From a parsed otpauth URI.
    pub fn from_credential(c: crate::uri::Credential) -> Self {
        NewEntry {
            kind: c.kind,
            secret: c.secret.clone(),
            issuer: c.issuer.clone(),
            account: c.account.clone(),
            note: String::new(),
            group_ids: Vec::new(),
            favorite: false,
            icon: None,
        }
    }
}

/// Changes to an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EntryUpdate {
    pub issuer: Option<String>,
    pub account: Option<String>,
    pub note: Option<String>,
    pub kind: Option<OtpKind>,
    pub group_ids: Option<Vec<GroupId>>,
    pub favorite: Option<bool>,
    pub icon: Option<Option<IconRef>>,
}

impl VaultSession {
    /// Adds an entry. An entry with the same secret and kind is refused as
    /// [`VaultError::Duplicate`] unless `allow_duplicate`.
    pub fn add_entry(&self, new: NewEntry, allow_duplicate: bool) -> Result<Entry, VaultError> {
        validate_kind(&new.kind)?;
        let issuer = check_name("issuer", &new.issuer, MAX_NAME_LEN)?;
        let account = check_name("account", &new.account, MAX_NAME_LEN)?;
        let note = check_name("note", &new.note, MAX_NOTE_LEN)?;
        let id = new_id(self.env.rng.as_ref())?;
        self.mutate(|c, now| {
            if c.entries.len() >= MAX_ENTRIES {
                return Err(VaultError::InvalidInput(format!(
                    "a vault holds at most {MAX_ENTRIES} entries"
                )));
            }
            if !allow_duplicate
                && let Some(existing) = c
                    .entries
                    .iter()
                    .find(|e| e.deleted_at.is_none() && e.same_account(&new.kind, &new.secret))
            {
                return Err(VaultError::Duplicate(existing.id.to_string()));
            }
            for g in &new.group_ids {
                if !c.groups.iter().any(|x| &x.id == g) {
                    return Err(VaultError::NoSuchGroup(g.to_string()));
                }
            }
            let mut entry = Entry::new(
                id,
                new.kind,
                new.secret.clone(),
                issuer,
                account,
                now,
                c.next_sort_key(),
            );
            entry.note = note;
            entry.group_ids = new.group_ids.clone();
            entry.favorite = new.favorite;
            entry.icon = new.icon.clone();
            c.entries.push(entry.clone());
            Ok(entry)
        })
    }

    /// Adds many entries in one write (imports, restores). Returns what was added.
    pub fn add_entries(&self, new: Vec<NewEntry>) -> Result<Vec<Entry>, VaultError> {
        let mut ids = Vec::with_capacity(new.len());
        for _ in &new {
            ids.push(new_id(self.env.rng.as_ref())?);
        }
        self.mutate(|c, now| {
            if c.entries.len() + new.len() > MAX_ENTRIES {
                return Err(VaultError::InvalidInput(format!(
                    "a vault holds at most {MAX_ENTRIES} entries"
                )));
            }
            let mut added = Vec::with_capacity(new.len());
            let mut sort_key = c.next_sort_key();
            for (n, id) in new.into_iter().zip(ids) {
                validate_kind(&n.kind)?;
                let mut entry = Entry::new(
                    id,
                    n.kind,
                    n.secret.clone(),
                    check_name("issuer", &n.issuer, MAX_NAME_LEN)?,
                    check_name("account", &n.account, MAX_NAME_LEN)?,
                    now,
                    sort_key,
                );
                entry.note = check_name("note", &n.note, MAX_NOTE_LEN)?;
                entry.group_ids = n
                    .group_ids
                    .iter()
                    .filter(|g| c.groups.iter().any(|x| &x.id == *g))
                    .copied()
                    .collect();
                entry.favorite = n.favorite;
                entry.icon = n.icon.clone();
                sort_key = sort_key.saturating_add(1024);
                c.entries.push(entry.clone());
                added.push(entry);
            }
            Ok(added)
        })
    }

    /// Edits an entry.
    pub fn update_entry(&self, id: EntryId, update: EntryUpdate) -> Result<Entry, VaultError> {
        if let Some(kind) = &update.kind {
            validate_kind(kind)?;
        }
        self.mutate(|c, now| {
            if let Some(groups) = &update.group_ids {
                for g in groups {
                    if !c.groups.iter().any(|x| &x.id == g) {
                        return Err(VaultError::NoSuchGroup(g.to_string()));
                    }
                }
            }
            let e = c
                .entry_mut(id)
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            if let Some(v) = &update.issuer {
                e.issuer = check_name("issuer", v, MAX_NAME_LEN)?;
            }
            if let Some(v) = &update.account {
                e.account = check_name("account", v, MAX_NAME_LEN)?;
            }
            if let Some(v) = &update.note {
                e.note = check_name("note", v, MAX_NOTE_LEN)?;
            }
            if let Some(k) = update.kind {
                e.kind = k;
            }
            if let Some(g) = &update.group_ids {
                e.group_ids = g.clone();
            }
            if let Some(f) = update.favorite {
                e.favorite = f;
            }
            if let Some(i) = &update.icon {
                e.icon = i.clone();
            }
            e.updated_at = now;
            Ok(e.clone())
        })
    }

    /// Moves an entry to the trash.
    pub fn delete_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, now| {
            let e = c
                .entry_mut(id)
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            if e.deleted_at.is_none() {
                e.deleted_at = Some(now);
            }
            Ok(())
        })
    }

    /// Takes an entry out of the trash.
    pub fn restore_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, now| {
            let e = c
                .entry_mut(id)
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            if e.deleted_at.take().is_some() {
                e.updated_at = now;
            }
            Ok(())
        })
    }

    /// Deletes a trashed entry for good. Live entries must be trashed first.
    pub fn purge_entry(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            let index = c
                .entries
                .iter()
                .position(|e| e.id == id && e.deleted_at.is_some())
                .ok_or_else(|| VaultError::NoSuchEntry(format!("{id} in the trash")))?;
            c.entries.remove(index);
            Ok(())
        })
    }

    /// Empties the trash. Returns how many entries were purged.
    pub fn empty_trash(&self) -> Result<usize, VaultError> {
        self.mutate(|c, _| {
            let before = c.entries.len();
            c.entries.retain(|e| e.deleted_at.is_none());
            Ok(before - c.entries.len())
        })
    }

    /// Puts the listed entries first, in the given order; the rest keep their order after.
    pub fn reorder(&self, ids: &[EntryId]) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            for id in ids {
                if c.entry(*id).is_none() {
                    return Err(VaultError::NoSuchEntry(id.to_string()));
                }
            }
            let mut order: Vec<EntryId> = ids.to_vec();
            let mut rest: Vec<&Entry> = c.entries.iter().filter(|e| !ids.contains(&e.id)).collect();
            rest.sort_by_key(|e| e.sort_key);
            order.extend(rest.iter().map(|e| e.id));
            for (position, id) in order.iter().enumerate() {
                if let Some(e) = c.entry_mut(*id) {
                    e.sort_key = (position as i64) * 1024;
                }
            }
            Ok(())
        })
    }

    pub fn add_group(&self, name: &str) -> Result<Group, VaultError> {
        let name = check_name("group name", name, MAX_NAME_LEN)?;
        if name.is_empty() {
            return Err(VaultError::InvalidInput("a group needs a name".into()));
        }
        let id = new_id(self.env.rng.as_ref())?;
        self.mutate(|c, _| {
            let sort_key = c
                .groups
                .iter()
                .map(|g| g.sort_key)
                .max()
                .map_or(0, |m| m + 1024);
            let group = Group { id, name, sort_key };
            c.groups.push(group.clone());
            Ok(group)
        })
    }

    pub fn rename_group(&self, id: GroupId, name: &str) -> Result<(), VaultError> {
        let name = check_name("group name", name, MAX_NAME_LEN)?;
        self.mutate(|c, _| {
            let g = c
                .groups
                .iter_mut()
                .find(|g| g.id == id)
                .ok_or_else(|| VaultError::NoSuchGroup(id.to_string()))?;
            g.name = name;
            Ok(())
        })
    }

    /// Deletes a group; its entries stay, without the group.
    pub fn delete_group(&self, id: GroupId) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            let before = c.groups.len();
            c.groups.retain(|g| g.id != id);
            if c.groups.len() == before {
                return Err(VaultError::NoSuchGroup(id.to_string()));
            }
            for e in &mut c.entries {
                e.group_ids.retain(|g| *g != id);
            }
            Ok(())
        })
    }

    /// Produces the next HOTP code. The advanced counter is on disk before the code is
    /// returned, so a code is never shown twice, even across a crash.
    pub fn next_hotp(&self, id: EntryId) -> Result<String, VaultError> {
        self.mutate(|c, now| {
            let e = c
                .entry_mut(id)
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            let OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            } = e.kind
            else {
                return Err(VaultError::InvalidInput(
                    "this entry is not an HOTP account".into(),
                ));
            };
            let next = counter.checked_add(1).ok_or(VaultError::CounterExhausted)?;
            let code = otp::hotp(&e.secret, algorithm, digits, counter);
            e.kind = OtpKind::Hotp {
                algorithm,
                digits,
                counter: next,
            };
            e.last_used_at = Some(now);
            e.use_count = e.use_count.saturating_add(1);
            Ok(code)
        })
    }

    /// Records that the user used (copied) an entry's code. Kept in memory and written with
    /// the next change or when the vault locks, so using a code does not rewrite the file
    /// (an observer of a synced folder would see every use).
    pub fn record_use(&self, id: EntryId) -> Result<(), VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let now = self.now();
        let e = open
            .content
            .entry_mut(id)
            .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
        e.last_used_at = Some(now);
        e.use_count = e.use_count.saturating_add(1);
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
        if seconds.unsigned_abs() > model::MAX_CLOCK_OFFSET_S.unsigned_abs() {
            return Err(VaultError::InvalidInput(
                "a clock offset of more than a year is not plausible".into(),
            ));
        }
        self.mutate(|c, _| {
            c.settings.clock_offset_s = seconds;
            Ok(())
        })
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

    /// Changes how long trashed entries are kept.
    pub fn set_trash_retention_days(&self, days: u32) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            c.settings.trash_retention_days = days.clamp(1, model::MAX_TRASH_RETENTION_DAYS);
            Ok(())
        })
    }
}
