//! Every change to a vault's content, in one place, each keeping the content's invariants:
//! unique ids; names and notes within [`crate::limits`]; at most [`MAX_ENTRIES`] entries;
//! group references that exist; sort keys in order; HOTP counters that never go down.
//!
//! Every path that puts accounts into a vault — typing one in, a URI, a scan, an import, a
//! transfer, a restore — goes through [`VaultContent::insert`] with an explicit
//! [`InsertPolicy`], so the same account is accepted, refused or reported the same way
//! whichever path it takes. The session (`vault::session`) only wraps these in its
//! transaction; they run without a file system and are property-tested here.

use std::collections::HashMap;

use crate::crypto;
use crate::interop::ImportedEntry;
use crate::limits::{MAX_ENTRIES, MAX_NAME_LEN, MAX_NOTE_LEN, MAX_RECOVERY_CODES, SORT_STEP};
use crate::otp::{self, OtpKind};
use crate::secret::Secret;
use crate::vault::model::{
    self, Entry, EntryId, Group, GroupId, IconRef, Id, MAX_CLOCK_OFFSET_S,
    MAX_TRASH_RETENTION_DAYS, VaultContent, same_kind,
};
use crate::vault::recovery_codes as codes;
use crate::vault::{InputError, NameField, VaultError};

/// How a new account names a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// A group of the vault.
    Id(GroupId),
    /// A group by name (matched ignoring case; created if the policy says so).
    Name(String),
}

/// A new account, from whatever source.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// TOTP, HOTP or Steam, with its code parameters.
    pub kind: OtpKind,
    /// The shared secret.
    pub secret: Secret,
    /// Service name; trimmed and checked against [`MAX_NAME_LEN`] on insert. May be empty.
    pub issuer: String,
    /// Account name at the service; checked like `issuer`. May be empty.
    pub account: String,
    /// The user's note (at most [`MAX_NOTE_LEN`] characters); empty for none.
    pub note: String,
    /// Groups to put the account in, by id or by name; empty for none.
    pub groups: Vec<GroupRef>,
    /// Whether the account is pinned as a favorite.
    pub favorite: bool,
    /// An icon from the app's icon pack; `None` for none.
    pub icon: Option<IconRef>,
    /// The account's recovery codes (from an import, a transfer or a rotation).
    pub recovery_codes: Vec<codes::RecoveryCode>,
}

impl NewEntry {
    /// An account with no note, in no group, not a favorite, without an icon.
    pub fn new(kind: OtpKind, secret: Secret, issuer: String, account: String) -> Self {
        NewEntry {
            kind,
            secret,
            issuer,
            account,
            note: String::new(),
            groups: Vec::new(),
            favorite: false,
            icon: None,
            recovery_codes: Vec::new(),
        }
    }

    /// From a parsed otpauth URI.
    pub fn from_credential(c: crate::uri::Credential) -> Self {
        Self::new(
            c.kind,
            c.secret.clone(),
            c.issuer.clone(),
            c.account.clone(),
        )
    }

    /// Another app's account (groups by name).
    pub fn from_imported(e: ImportedEntry) -> Self {
        NewEntry {
            kind: e.kind,
            secret: e.secret.clone(),
            issuer: e.issuer.clone(),
            account: e.account.clone(),
            note: e.note.clone(),
            groups: e.groups.iter().cloned().map(GroupRef::Name).collect(),
            favorite: e.favorite,
            icon: None,
            recovery_codes: e.recovery_codes.clone(),
        }
    }

    /// "Issuer (account)" for reports.
    pub fn label(&self) -> String {
        model::label(&self.issuer, &self.account)
    }
}

/// What to do with an account that is already in the vault (same secret and kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Refuse the whole insert with [`VaultError::Duplicate`].
    Error,
    /// Leave it out and report it.
    Skip,
    /// Add it anyway.
    Allow,
}

/// What to do with a group a new account names that the vault does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnknownGroup {
    /// Refuse the whole insert with [`VaultError::NoSuchGroup`].
    Error,
    /// Create groups named by name (an unknown group id is still an error).
    Create,
}

/// How [`VaultContent::insert`] treats duplicates and unknown groups. Over-long names are
/// refused the same way under every policy: the account is reported as rejected (an insert
/// of one account fails with the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertPolicy {
    /// What to do with an account the vault already has.
    pub on_duplicate: OnDuplicate,
    /// What to do with a group the vault does not have.
    pub on_unknown_group: OnUnknownGroup,
}

impl InsertPolicy {
    /// Typing an account in: nothing is guessed.
    pub const STRICT: InsertPolicy = InsertPolicy {
        on_duplicate: OnDuplicate::Error,
        on_unknown_group: OnUnknownGroup::Error,
    };
    /// Imports, scans and transfers: duplicates are reported, groups are created by name.
    pub const IMPORT: InsertPolicy = InsertPolicy {
        on_duplicate: OnDuplicate::Skip,
        on_unknown_group: OnUnknownGroup::Create,
    };
}

/// An account that was left out because the vault has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Position in the insert's input.
    pub index: usize,
    /// How the account is named in reports (see [`model::label`]).
    pub label: String,
    /// The entry that is the same account.
    pub existing: EntryId,
}

/// An account that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Position in the insert's input.
    pub index: usize,
    /// How the account is named in reports (see [`model::label`]).
    pub label: String,
    /// The rule the account broke.
    pub reason: InputError,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InsertReport {
    /// Ids of the entries added, in input order.
    pub added: Vec<EntryId>,
    /// Accounts left out because the vault has them ([`OnDuplicate::Skip`]).
    pub duplicates: Vec<Skipped>,
    /// Accounts refused for a rule of their own (an over-long name, bad code parameters).
    pub rejected: Vec<Rejected>,
}

/// Changes to an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EntryUpdate {
    /// New service name (trimmed, at most [`MAX_NAME_LEN`] characters).
    pub issuer: Option<String>,
    /// New account name (trimmed, at most [`MAX_NAME_LEN`] characters).
    pub account: Option<String>,
    /// New note (trimmed, at most [`MAX_NOTE_LEN`] characters); `Some("")` clears it.
    pub note: Option<String>,
    /// New code parameters. An HOTP counter never goes down: a lower one is raised to the
    /// current counter.
    pub kind: Option<OtpKind>,
    /// New set of groups, each one the vault has; `Some(vec![])` takes the entry out of all.
    pub group_ids: Option<Vec<GroupId>>,
    /// Pin or unpin the entry as a favorite.
    pub favorite: Option<bool>,
    /// New icon; `Some(None)` removes it.
    pub icon: Option<Option<IconRef>>,
}

/// How a restore combines the backup with the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMode {
    /// Add what the vault lacks; for entries in both, keep the newer version.
    Merge,
    /// The backup's entries, groups and settings replace the vault's (slots are kept).
    Replace,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreReport {
    /// Entries of the backup the vault did not have.
    pub added: usize,
    /// Entries in both that the backup's version replaced.
    pub updated: usize,
    /// Entries in both that stayed as they were (apart from a higher HOTP counter).
    pub unchanged: usize,
    /// Entries of the vault that a replace dropped (0 for a merge).
    pub removed: usize,
    /// The backup was authenticated (set by the backup module).
    pub authenticated: bool,
}

/// Trims a name and checks its length.
pub fn check_name(field: NameField, value: &str) -> Result<String, InputError> {
    let max = match field {
        NameField::Note => MAX_NOTE_LEN,
        _ => MAX_NAME_LEN,
    };
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(InputError::NameTooLong { field, max });
    }
    Ok(trimmed.to_owned())
}

fn no_entry(id: EntryId) -> VaultError {
    VaultError::NoSuchEntry(id.to_string())
}

/// The names, kind and note of a new account, checked.
struct Checked {
    issuer: String,
    account: String,
    note: String,
}

fn check_new(n: &NewEntry) -> Result<Checked, InputError> {
    n.kind.validate()?;
    // Counted before they are joined, so a hostile list costs no more than a good one.
    if n.recovery_codes.len() > MAX_RECOVERY_CODES {
        return Err(codes::RecoveryCodeError::TooMany {
            max: MAX_RECOVERY_CODES,
        }
        .into());
    }
    let mut list = Vec::new();
    codes::merge_into(&mut list, &n.recovery_codes);
    codes::check_list(&list)?;
    Ok(Checked {
        issuer: check_name(NameField::Issuer, &n.issuer)?,
        account: check_name(NameField::Account, &n.account)?,
        note: check_name(NameField::Note, &n.note)?,
    })
}

impl VaultContent {
    fn next_group_sort_key(&self) -> i64 {
        self.groups
            .iter()
            .map(|g| g.sort_key)
            .max()
            .map_or(0, |m| m.saturating_add(SORT_STEP))
    }

    fn group_named(&self, name: &str) -> Option<GroupId> {
        let folded = model::fold(name);
        self.groups
            .iter()
            .find(|g| model::fold(&g.name) == folded)
            .map(|g| g.id)
    }

    /// Resolves an account's group references, creating groups by name when `policy` says
    /// so. Ids for new groups come from `ids`.
    fn resolve_groups(
        &mut self,
        refs: &[GroupRef],
        policy: OnUnknownGroup,
        ids: &mut dyn Iterator<Item = Id>,
    ) -> Result<Vec<GroupId>, VaultError> {
        // Every reference is checked before any group is created, so a refused account
        // leaves no group behind.
        let mut checked = Vec::with_capacity(refs.len());
        for r in refs {
            checked.push(match r {
                GroupRef::Id(id) => {
                    if !self.groups.iter().any(|g| g.id == *id) {
                        return Err(VaultError::NoSuchGroup(id.to_string()));
                    }
                    GroupRef::Id(*id)
                }
                GroupRef::Name(name) => {
                    let name = check_name(NameField::GroupName, name)?;
                    if name.is_empty() {
                        continue;
                    }
                    if policy == OnUnknownGroup::Error && self.group_named(&name).is_none() {
                        return Err(VaultError::NoSuchGroup(name));
                    }
                    GroupRef::Name(name)
                }
            });
        }
        let mut out = Vec::with_capacity(checked.len());
        for r in checked {
            let id = match r {
                GroupRef::Id(id) => id,
                GroupRef::Name(name) => match (self.group_named(&name), policy) {
                    (Some(id), _) => id,
                    (None, OnUnknownGroup::Error) => {
                        return Err(VaultError::NoSuchGroup(name));
                    }
                    (None, OnUnknownGroup::Create) => {
                        let id = ids.next().ok_or_else(out_of_ids)?;
                        let sort_key = self.next_group_sort_key();
                        self.groups.push(Group { id, name, sort_key });
                        id
                    }
                },
            };
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Adds accounts under `policy`. `ids` supplies fresh random ids (one per account and
    /// one per group that may be created). Whole-insert failures (a duplicate or unknown
    /// group the policy refuses, the entry limit) change nothing; an account that breaks a
    /// rule of its own is reported in [`InsertReport::rejected`] and the rest go in.
    pub fn insert(
        &mut self,
        new: Vec<NewEntry>,
        policy: InsertPolicy,
        ids: &mut dyn Iterator<Item = Id>,
        now: i64,
    ) -> Result<InsertReport, VaultError> {
        let mut report = InsertReport::default();
        let mut index = AccountIndex::new(&self.entries, true);
        let mut sort_key = self.next_sort_key();
        for (i, n) in new.into_iter().enumerate() {
            let checked = match check_new(&n) {
                Ok(c) => c,
                Err(reason) => {
                    report.rejected.push(Rejected {
                        index: i,
                        label: n.label(),
                        reason,
                    });
                    continue;
                }
            };
            if policy.on_duplicate != OnDuplicate::Allow
                && let Some(existing) = index.same_account(&self.entries, &n.kind, &n.secret)
            {
                if policy.on_duplicate == OnDuplicate::Error {
                    return Err(VaultError::Duplicate(self.entries[existing].id.to_string()));
                }
                // The account is here already: the recovery codes it brings (checked above)
                // join the entry's — new codes, and used marks the vault did not have yet (a
                // code used on the old phone since); the vault keeps its list when they
                // would not fit.
                let e = &mut self.entries[existing];
                let mut joined = e.recovery_codes.clone();
                codes::merge_into(&mut joined, &n.recovery_codes);
                if joined != e.recovery_codes && codes::check_list(&joined).is_ok() {
                    e.recovery_codes = joined;
                    e.updated_at = now;
                }
                let existing = e.id;
                report.duplicates.push(Skipped {
                    index: i,
                    label: n.label(),
                    existing,
                });
                continue;
            }
            if self.entries.len() >= MAX_ENTRIES {
                return Err(InputError::TooManyEntries { max: MAX_ENTRIES }.into());
            }
            let group_ids = match self.resolve_groups(&n.groups, policy.on_unknown_group, ids) {
                Ok(g) => g,
                Err(VaultError::InvalidInput(reason)) => {
                    report.rejected.push(Rejected {
                        index: i,
                        label: n.label(),
                        reason,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let id = ids.next().ok_or_else(out_of_ids)?;
            let mut entry = Entry::new(
                id,
                n.kind,
                n.secret,
                checked.issuer,
                checked.account,
                now,
                sort_key,
            );
            entry.note = checked.note;
            entry.group_ids = group_ids;
            entry.favorite = n.favorite;
            entry.icon = n.icon;
            codes::merge_into(&mut entry.recovery_codes, &n.recovery_codes);
            sort_key = sort_key.saturating_add(SORT_STEP);
            index.insert(self.entries.len(), &entry);
            self.entries.push(entry);
            report.added.push(id);
        }
        Ok(report)
    }

    /// Edits an entry.
    pub fn update(
        &mut self,
        id: EntryId,
        update: EntryUpdate,
        now: i64,
    ) -> Result<&Entry, VaultError> {
        if let Some(kind) = &update.kind {
            kind.validate().map_err(InputError::from)?;
        }
        if let Some(groups) = &update.group_ids {
            for g in groups {
                if !self.groups.iter().any(|x| &x.id == g) {
                    return Err(VaultError::NoSuchGroup(g.to_string()));
                }
            }
        }
        let issuer = update
            .issuer
            .map(|v| check_name(NameField::Issuer, &v))
            .transpose()?;
        let account = update
            .account
            .map(|v| check_name(NameField::Account, &v))
            .transpose()?;
        let note = update
            .note
            .map(|v| check_name(NameField::Note, &v))
            .transpose()?;
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        if let Some(v) = issuer {
            e.issuer = v;
        }
        if let Some(v) = account {
            e.account = v;
        }
        if let Some(v) = note {
            e.note = v;
        }
        if let Some(mut k) = update.kind {
            keep_counter(&mut k, &e.kind);
            e.kind = k;
        }
        if let Some(g) = update.group_ids {
            e.group_ids = g;
        }
        if let Some(f) = update.favorite {
            e.favorite = f;
        }
        if let Some(i) = update.icon {
            e.icon = i;
        }
        e.updated_at = now;
        Ok(e)
    }

    /// Moves an entry to the trash.
    pub fn trash(&mut self, id: EntryId, now: i64) -> Result<(), VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        if e.deleted_at.is_none() {
            e.deleted_at = Some(now);
        }
        Ok(())
    }

    /// Takes an entry out of the trash.
    pub fn untrash(&mut self, id: EntryId, now: i64) -> Result<(), VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        if e.deleted_at.take().is_some() {
            e.updated_at = now;
        }
        Ok(())
    }

    /// Deletes a trashed entry for good. Live entries must be trashed first.
    pub fn purge(&mut self, id: EntryId) -> Result<(), VaultError> {
        let index = self
            .entries
            .iter()
            .position(|e| e.id == id && e.deleted_at.is_some())
            .ok_or_else(|| VaultError::NoSuchEntry(format!("{id} in the trash")))?;
        self.entries.remove(index);
        Ok(())
    }

    /// Empties the trash; returns how many entries were purged.
    pub fn empty_trash(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.deleted_at.is_none());
        before - self.entries.len()
    }

    /// Drops trashed entries older than the retention period.
    pub fn purge_expired(&mut self, now: i64) {
        let keep_ms = i64::from(self.settings.trash_retention_days) * 24 * 3600 * 1000;
        self.entries.retain(|e| match e.deleted_at {
            Some(t) => now.saturating_sub(t) < keep_ms,
            None => true,
        });
    }

    /// Puts the listed entries first, in the given order; the rest keep their order after.
    pub fn reorder(&mut self, ids: &[EntryId]) -> Result<(), VaultError> {
        for id in ids {
            if self.entry(*id).is_none() {
                return Err(no_entry(*id));
            }
        }
        let mut order: Vec<EntryId> = Vec::with_capacity(self.entries.len());
        for id in ids {
            if !order.contains(id) {
                order.push(*id);
            }
        }
        let mut rest: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| !order.contains(&e.id))
            .collect();
        rest.sort_by_key(|e| e.sort_key);
        order.extend(rest.iter().map(|e| e.id));
        let position: HashMap<EntryId, i64> = order
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as i64 * SORT_STEP))
            .collect();
        for e in &mut self.entries {
            if let Some(p) = position.get(&e.id) {
                e.sort_key = *p;
            }
        }
        Ok(())
    }

    /// Adds a group named `name` with id `id`, after the others.
    pub fn add_group(&mut self, id: GroupId, name: &str) -> Result<Group, VaultError> {
        let name = check_name(NameField::GroupName, name)?;
        if name.is_empty() {
            return Err(InputError::EmptyGroupName.into());
        }
        let group = Group {
            id,
            name,
            sort_key: self.next_group_sort_key(),
        };
        self.groups.push(group.clone());
        Ok(group)
    }

    /// Renames a group (the name is trimmed and must not be empty).
    pub fn rename_group(&mut self, id: GroupId, name: &str) -> Result<(), VaultError> {
        let name = check_name(NameField::GroupName, name)?;
        if name.is_empty() {
            return Err(InputError::EmptyGroupName.into());
        }
        let g = self
            .groups
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| VaultError::NoSuchGroup(id.to_string()))?;
        g.name = name;
        Ok(())
    }

    /// Deletes a group; its entries stay, without the group.
    pub fn delete_group(&mut self, id: GroupId) -> Result<(), VaultError> {
        let before = self.groups.len();
        self.groups.retain(|g| g.id != id);
        if self.groups.len() == before {
            return Err(VaultError::NoSuchGroup(id.to_string()));
        }
        for e in &mut self.entries {
            e.group_ids.retain(|g| *g != id);
        }
        Ok(())
    }

    /// Advances an HOTP counter and returns the code for the counter it had.
    pub fn next_hotp(&mut self, id: EntryId, now: i64) -> Result<String, VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        let OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } = e.kind
        else {
            return Err(InputError::NotHotp.into());
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
    }

    /// Adds recovery codes to an entry (all checked first; codes it has are skipped).
    /// Returns how many were added.
    pub fn add_recovery_codes(
        &mut self,
        id: EntryId,
        texts: &[String],
        now: i64,
    ) -> Result<usize, VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        let added = codes::add_to(&mut e.recovery_codes, texts).map_err(InputError::from)?;
        if added > 0 {
            e.updated_at = now;
        }
        Ok(added)
    }

    /// Marks one of an entry's recovery codes used.
    pub fn use_recovery_code(
        &mut self,
        id: EntryId,
        text: &str,
        now: i64,
    ) -> Result<(), VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        let before = e.recovery_codes.clone();
        codes::mark_used(&mut e.recovery_codes, text, now).map_err(InputError::from)?;
        if e.recovery_codes != before {
            e.updated_at = now;
        }
        Ok(())
    }

    /// Records that the user used (copied) an entry's code.
    pub fn record_use(&mut self, id: EntryId, now: i64) -> Result<(), VaultError> {
        let e = self.entry_mut(id).ok_or_else(|| no_entry(id))?;
        e.last_used_at = Some(now);
        e.use_count = e.use_count.saturating_add(1);
        Ok(())
    }

    /// Sets the seconds added to the device clock for codes (at most a year either way).
    pub fn set_clock_offset(&mut self, seconds: i64) -> Result<(), VaultError> {
        if seconds.unsigned_abs() > MAX_CLOCK_OFFSET_S.unsigned_abs() {
            return Err(InputError::ClockOffsetTooLarge.into());
        }
        self.settings.clock_offset_s = seconds;
        Ok(())
    }

    /// How long trashed entries are kept (clamped to 1 day – 10 years).
    pub fn set_trash_retention_days(&mut self, days: u32) {
        self.settings.trash_retention_days = days.clamp(1, MAX_TRASH_RETENTION_DAYS);
    }

    /// Raises HOTP counters to `floor(id)` where that is higher; returns whether any moved.
    pub fn raise_hotp_counters(&mut self, floor: impl Fn(EntryId) -> Option<u64>) -> bool {
        let mut raised = false;
        for e in &mut self.entries {
            if let OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            } = e.kind
                && let Some(f) = floor(e.id)
                && f > counter
            {
                e.kind = OtpKind::Hotp {
                    algorithm,
                    digits,
                    counter: f,
                };
                raised = true;
            }
        }
        raised
    }

    /// Restores a backup's content into this one; an HOTP counter never goes back, nor does a
    /// recovery code marked used become unused. The caller
    /// checked the backup's settings. A restore that would exceed [`MAX_ENTRIES`] fails (run
    /// it on a copy, as the session does, to change nothing).
    pub fn restore(
        &mut self,
        backup: VaultContent,
        mode: RestoreMode,
    ) -> Result<RestoreReport, VaultError> {
        let mut report = RestoreReport::default();
        match mode {
            RestoreMode::Replace => {
                if backup.entries.len() > MAX_ENTRIES {
                    return Err(InputError::TooManyEntries { max: MAX_ENTRIES }.into());
                }
                let old = std::mem::take(&mut self.entries);
                let old_index = AccountIndex::new(&old, false);
                let mut entries = backup.entries;
                for e in &mut entries {
                    if let Some(prev) = old_index.find(&old, e).map(|i| &old[i]) {
                        keep_highest_counter(e, prev);
                        // Like a counter, a spent recovery code never comes back unused.
                        codes::keep_used_marks(&mut e.recovery_codes, &prev.recovery_codes);
                        if same_content(e, prev) {
                            report.unchanged += 1
                        } else {
                            report.updated += 1
                        }
                    } else {
                        report.added += 1;
                    }
                }
                let new_index = AccountIndex::new(&entries, false);
                report.removed = old
                    .iter()
                    .filter(|o| new_index.find(&entries, o).is_none())
                    .count();
                self.entries = entries;
                self.groups = backup.groups;
                self.settings = backup.settings;
            }
            RestoreMode::Merge => {
                let live = backup.entries.iter().filter(|b| b.deleted_at.is_none());
                let mut index = AccountIndex::new(&self.entries, true);
                let mut next_sort = self.next_sort_key();
                for b in live {
                    if let Some(i) = index.by_id(b.id) {
                        let v = &mut self.entries[i];
                        if b.updated_at > v.updated_at && !same_content(v, b) {
                            let mut newer = b.clone();
                            keep_highest_counter(&mut newer, v);
                            newer.sort_key = v.sort_key;
                            // Recovery codes join as a set; where both together are over the
                            // limit, the vault keeps its own.
                            if !codes::merge_within_limit(
                                &mut newer.recovery_codes,
                                &v.recovery_codes,
                            ) {
                                newer.recovery_codes = v.recovery_codes.clone();
                            }
                            *v = newer;
                            report.updated += 1;
                        } else {
                            keep_highest_counter(v, b);
                            codes::merge_within_limit(&mut v.recovery_codes, &b.recovery_codes);
                            report.unchanged += 1;
                        }
                    } else if let Some(i) = index.same_account(&self.entries, &b.kind, &b.secret) {
                        // The same account under another id (scanned again on a new
                        // phone): its recovery codes join as they do for an import.
                        let v = &mut self.entries[i];
                        keep_highest_counter(v, b);
                        codes::merge_within_limit(&mut v.recovery_codes, &b.recovery_codes);
                        report.unchanged += 1;
                    } else {
                        if self.entries.len() >= MAX_ENTRIES {
                            return Err(InputError::TooManyEntries { max: MAX_ENTRIES }.into());
                        }
                        let mut added = b.clone();
                        added.sort_key = next_sort;
                        next_sort = next_sort.saturating_add(SORT_STEP);
                        index.insert(self.entries.len(), &added);
                        self.entries.push(added);
                        report.added += 1;
                    }
                }
                for g in backup.groups {
                    if !self.groups.iter().any(|v| v.id == g.id) {
                        self.groups.push(g);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Checks every invariant this module keeps; the first broken one, for tests and fuzzing.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        if self.entries.len() > MAX_ENTRIES {
            return Err(format!("{} entries", self.entries.len()));
        }
        for e in &self.entries {
            if !ids.insert(e.id) {
                return Err(format!("duplicate entry id {}", e.id));
            }
            e.kind.validate().map_err(|err| err.to_string())?;
            for (field, v) in [
                (NameField::Issuer, &e.issuer),
                (NameField::Account, &e.account),
                (NameField::Note, &e.note),
            ] {
                check_name(field, v).map_err(|err| err.to_string())?;
            }
            for g in &e.group_ids {
                if !self.groups.iter().any(|x| x.id == *g) {
                    return Err(format!("entry {} names a missing group", e.id));
                }
            }
            crate::vault::recovery_codes::check_list(&e.recovery_codes)
                .map_err(|err| err.to_string())?;
        }
        let mut group_ids = std::collections::HashSet::new();
        for g in &self.groups {
            if !group_ids.insert(g.id) {
                return Err(format!("duplicate group id {}", g.id));
            }
            if g.name.is_empty() {
                return Err("a group without a name".into());
            }
            check_name(NameField::GroupName, &g.name).map_err(|err| err.to_string())?;
        }
        let mut keys = std::collections::HashSet::new();
        if !self.live_entries().iter().all(|e| keys.insert(e.sort_key)) {
            return Err("two live entries share a place in the order".into());
        }
        Ok(())
    }
}

fn out_of_ids() -> VaultError {
    VaultError::Internal("not enough fresh ids for the insert".into())
}

/// An HOTP kind update never lowers the counter.
fn keep_counter(new: &mut OtpKind, old: &OtpKind) {
    if let (
        OtpKind::Hotp { counter, .. },
        OtpKind::Hotp {
            counter: current, ..
        },
    ) = (new, old)
        && *counter < *current
    {
        *counter = *current;
    }
}

/// Equal in everything a user would call the entry (not usage statistics or order).
pub fn same_content(a: &Entry, b: &Entry) -> bool {
    a.secret == b.secret
        && same_kind(&a.kind, &b.kind)
        && a.issuer == b.issuer
        && a.account == b.account
        && a.note == b.note
        && a.group_ids == b.group_ids
        && a.favorite == b.favorite
        && a.icon == b.icon
        && crate::vault::recovery_codes::same_set(&a.recovery_codes, &b.recovery_codes)
}

fn hotp_counter(kind: &OtpKind) -> Option<u64> {
    match kind {
        OtpKind::Hotp { counter, .. } => Some(*counter),
        _ => None,
    }
}

/// Keeps the higher HOTP counter of two versions of an entry: counters never go back.
fn keep_highest_counter(target: &mut Entry, other: &Entry) {
    if let (
        OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        },
        Some(theirs),
    ) = (target.kind, hotp_counter(&other.kind))
        && theirs > counter
        && same_kind(&target.kind, &other.kind)
    {
        target.kind = OtpKind::Hotp {
            algorithm,
            digits,
            counter: theirs,
        };
    }
}

/// Finds entries by id, and entries by account (same secret and kind), without a scan per
/// lookup, so inserts and restores of 100 000 entries stay linear.
struct AccountIndex {
    by_id: HashMap<EntryId, usize>,
    by_secret: HashMap<[u8; 16], Vec<usize>>,
    /// Only live entries are found by account.
    live_only: bool,
}

/// A bucket key for a secret (a truncated hash; matches are confirmed by comparing).
fn secret_bucket(secret: &Secret) -> [u8; 16] {
    let digest = crypto::sha256(secret.expose());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

impl AccountIndex {
    fn new(entries: &[Entry], live_only: bool) -> Self {
        let mut index = AccountIndex {
            by_id: HashMap::with_capacity(entries.len()),
            by_secret: HashMap::with_capacity(entries.len()),
            live_only,
        };
        for (i, e) in entries.iter().enumerate() {
            index.insert(i, e);
        }
        index
    }

    fn insert(&mut self, at: usize, e: &Entry) {
        self.by_id.entry(e.id).or_insert(at);
        if e.deleted_at.is_none() || !self.live_only {
            self.by_secret
                .entry(secret_bucket(&e.secret))
                .or_default()
                .push(at);
        }
    }

    fn by_id(&self, id: EntryId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// An indexed entry that is the same account as (`kind`, `secret`).
    fn same_account(&self, entries: &[Entry], kind: &OtpKind, secret: &Secret) -> Option<usize> {
        self.by_secret
            .get(&secret_bucket(secret))?
            .iter()
            .copied()
            .find(|&i| entries[i].same_account(kind, secret))
    }

    /// By id, else by account.
    fn find(&self, entries: &[Entry], e: &Entry) -> Option<usize> {
        self.by_id(e.id)
            .or_else(|| self.same_account(entries, &e.kind, &e.secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(seed: u8) -> impl Iterator<Item = Id> {
        (0u32..).map(move |n| {
            let mut b = [seed; 16];
            b[..4].copy_from_slice(&n.to_be_bytes());
            Id::from_random(b)
        })
    }

    fn account(secret: u8, issuer: &str) -> NewEntry {
        NewEntry::new(
            OtpKind::DEFAULT_TOTP,
            Secret::from_bytes(vec![secret; 20]).unwrap(),
            issuer.into(),
            "a".into(),
        )
    }

    #[test]
    fn insert_policies_decide_duplicates_and_unknown_groups() {
        let mut c = VaultContent::new();
        let mut fresh = ids(1);
        let r = c
            .insert(vec![account(1, "A")], InsertPolicy::STRICT, &mut fresh, 0)
            .unwrap();
        assert_eq!(r.added.len(), 1);
        // A duplicate: an error, reported, or allowed.
        assert!(matches!(
            c.insert(vec![account(1, "A2")], InsertPolicy::STRICT, &mut fresh, 0),
            Err(VaultError::Duplicate(_))
        ));
        let r = c
            .insert(vec![account(1, "A2")], InsertPolicy::IMPORT, &mut fresh, 0)
            .unwrap();
        assert_eq!((r.added.len(), r.duplicates.len()), (0, 1));
        let allow = InsertPolicy {
            on_duplicate: OnDuplicate::Allow,
            ..InsertPolicy::STRICT
        };
        assert_eq!(
            c.insert(vec![account(1, "A3")], allow, &mut fresh, 0)
                .unwrap()
                .added
                .len(),
            1
        );
        // Duplicates within one insert are found too.
        let r = c
            .insert(
                vec![account(2, "B"), account(2, "B again")],
                InsertPolicy::IMPORT,
                &mut fresh,
                0,
            )
            .unwrap();
        assert_eq!((r.added.len(), r.duplicates.len()), (1, 1));
        // Unknown groups: refused, or created by name (matched ignoring case and accents).
        let mut named = account(3, "C");
        named.groups = vec![GroupRef::Name("Wörk".into())];
        assert!(matches!(
            c.insert(vec![named.clone()], InsertPolicy::STRICT, &mut fresh, 0),
            Err(VaultError::NoSuchGroup(_))
        ));
        c.insert(vec![named], InsertPolicy::IMPORT, &mut fresh, 0)
            .unwrap();
        let mut again = account(4, "D");
        again.groups = vec![GroupRef::Name("work".into())];
        c.insert(vec![again], InsertPolicy::IMPORT, &mut fresh, 0)
            .unwrap();
        assert_eq!(c.groups.len(), 1);
        c.check_invariants().unwrap();
    }

    #[test]
    fn over_long_names_are_rejected_under_every_policy() {
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for policy in [InsertPolicy::STRICT, InsertPolicy::IMPORT] {
            let mut c = VaultContent::new();
            let r = c
                .insert(
                    vec![account(1, &long), account(2, "fine")],
                    policy,
                    &mut ids(2),
                    0,
                )
                .unwrap();
            assert_eq!(r.added.len(), 1);
            assert_eq!(
                r.rejected[0].reason,
                InputError::NameTooLong {
                    field: NameField::Issuer,
                    max: MAX_NAME_LEN
                }
            );
        }
    }

    #[test]
    fn hotp_counters_never_go_down_through_an_update() {
        let mut c = VaultContent::new();
        let hotp = NewEntry::new(
            OtpKind::Hotp {
                algorithm: crate::Algorithm::Sha1,
                digits: 6,
                counter: 10,
            },
            Secret::from_bytes(vec![5; 20]).unwrap(),
            "H".into(),
            "h".into(),
        );
        let id = c
            .insert(vec![hotp], InsertPolicy::STRICT, &mut ids(3), 0)
            .unwrap()
            .added[0];
        let update = EntryUpdate {
            kind: Some(OtpKind::Hotp {
                algorithm: crate::Algorithm::Sha1,
                digits: 8,
                counter: 2,
            }),
            ..Default::default()
        };
        c.update(id, update, 1).unwrap();
        assert!(matches!(
            c.entry(id).unwrap().kind,
            OtpKind::Hotp {
                counter: 10,
                digits: 8,
                ..
            }
        ));
    }

    /// One random operation on a vault content.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(Vec<(u8, bool, u8)>, bool),
        Update(usize, u8, Option<u64>),
        Trash(usize),
        Untrash(usize),
        Purge(usize),
        Reorder(Vec<usize>),
        AddGroup(u8),
        DeleteGroup(usize),
        NextHotp(usize),
        Restore(bool),
        /// Recovery codes: `n` codes from `seed` (some malformed, some past the limit).
        AddCodes(usize, u8, u8),
        UseCode(usize, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                prop::collection::vec((0u8..6, any::<bool>(), 0u8..4), 1..4),
                any::<bool>()
            )
                .prop_map(|(v, import)| Op::Insert(v, import)),
            (0usize..12, 0u8..4, proptest::option::of(0u64..30))
                .prop_map(|(i, n, c)| Op::Update(i, n, c)),
            (0usize..12).prop_map(Op::Trash),
            (0usize..12).prop_map(Op::Untrash),
            (0usize..12).prop_map(Op::Purge),
            prop::collection::vec(0usize..12, 0..5).prop_map(Op::Reorder),
            (0u8..4).prop_map(Op::AddGroup),
            (0usize..4).prop_map(Op::DeleteGroup),
            (0usize..12).prop_map(Op::NextHotp),
            any::<bool>().prop_map(Op::Restore),
            (0usize..12, 0u8..70, any::<u8>()).prop_map(|(i, n, s)| Op::AddCodes(i, n, s)),
            (0usize..12, any::<u8>()).prop_map(|(i, s)| Op::UseCode(i, s)),
        ]
    }

    fn counters(c: &VaultContent) -> HashMap<EntryId, u64> {
        c.entries
            .iter()
            .filter_map(|e| hotp_counter(&e.kind).map(|n| (e.id, n)))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any sequence of edits keeps every invariant, and no HOTP counter ever goes down.
        #[test]
        fn every_sequence_of_edits_keeps_the_invariants(ops in prop::collection::vec(op(), 1..30)) {
            let mut c = VaultContent::new();
            let mut fresh = ids(9);
            let mut snapshot: Option<VaultContent> = None;
            for (step, op) in ops.into_iter().enumerate() {
                let before = counters(&c);
                let id_at = |c: &VaultContent, i: usize| c.entries.get(i % c.entries.len().max(1)).map(|e| e.id);
                let _ = match op {
                    Op::Insert(v, import) => {
                        let new = v.into_iter().map(|(s, hotp, g)| {
                            let kind = if hotp {
                                OtpKind::Hotp { algorithm: crate::Algorithm::Sha1, digits: 6, counter: u64::from(s) }
                            } else {
                                OtpKind::DEFAULT_TOTP
                            };
                            let mut n = NewEntry::new(kind, Secret::from_bytes(vec![s + 1; 20]).unwrap(), format!("I{s}"), "a".into());
                            n.groups = vec![GroupRef::Name(format!("G{g}"))];
                            n
                        }).collect();
                        let policy = if import { InsertPolicy::IMPORT } else { InsertPolicy::STRICT };
                        c.insert(new, policy, &mut fresh, step as i64).map(|_| ())
                    }
                    Op::Update(i, n, counter) => match id_at(&c, i) {
                        Some(id) => {
                            let kind = counter.map(|counter| match c.entry(id).unwrap().kind {
                                OtpKind::Hotp { algorithm, digits, .. } => OtpKind::Hotp { algorithm, digits, counter },
                                other => other,
                            });
                            c.update(id, EntryUpdate { issuer: Some(format!("U{n}")), kind, ..Default::default() }, step as i64).map(|_| ())
                        }
                        None => Ok(()),
                    },
                    Op::Trash(i) => match id_at(&c, i) { Some(id) => c.trash(id, step as i64), None => Ok(()) },
                    Op::Untrash(i) => match id_at(&c, i) { Some(id) => c.untrash(id, step as i64), None => Ok(()) },
                    Op::Purge(i) => match id_at(&c, i) { Some(id) => c.purge(id), None => Ok(()) },
                    Op::Reorder(v) => {
                        let ids: Vec<EntryId> = v.into_iter().filter_map(|i| id_at(&c, i)).collect();
                        c.reorder(&ids)
                    }
                    Op::AddGroup(n) => c.add_group(fresh.next().unwrap(), &format!("N{n}")).map(|_| ()),
                    Op::DeleteGroup(i) => match c.groups.get(i % c.groups.len().max(1)).map(|g| g.id) {
                        Some(id) => c.delete_group(id),
                        None => Ok(()),
                    },
                    Op::NextHotp(i) => match id_at(&c, i) { Some(id) => c.next_hotp(id, step as i64).map(|_| ()), None => Ok(()) },
                    Op::AddCodes(i, n, seed) => match id_at(&c, i) {
                        Some(id) => {
                            let texts: Vec<String> = (0..n)
                                .map(|k| match seed.wrapping_add(k) % 17 {
                                    0 => String::new(),
                                    1 => "bad\u{1}".into(),
                                    x => format!("code-{x}-{k}"),
                                })
                                .collect();
                            let before = c.entry(id).unwrap().recovery_codes.clone();
                            let r = c.add_recovery_codes(id, &texts, step as i64);
                            if r.is_err() {
                                prop_assert_eq!(&c.entry(id).unwrap().recovery_codes, &before, "a refused add changed the list");
                            }
                            r.map(|_| ())
                        }
                        None => Ok(()),
                    },
                    Op::UseCode(i, seed) => match id_at(&c, i) {
                        Some(id) => {
                            let code = c.entry(id).unwrap().recovery_codes.get(usize::from(seed) % 4).map(|r| r.code.clone());
                            c.use_recovery_code(id, &code.unwrap_or_else(|| "none".into()), step as i64)
                        }
                        None => Ok(()),
                    },
                    Op::Restore(replace) => match snapshot.take() {
                        Some(s) => {
                            let mode = if replace { RestoreMode::Replace } else { RestoreMode::Merge };
                            let codes_before: Vec<(EntryId, String)> = c.entries.iter()
                                .flat_map(|e| e.recovery_codes.iter().map(move |r| (e.id, r.code.clone())))
                                .collect();
                            let r = c.restore(s, mode).map(|_| ());
                            if mode == RestoreMode::Merge && r.is_ok() {
                                for (id, code) in codes_before {
                                    prop_assert!(
                                        c.entry(id).is_some_and(|e| e.recovery_codes.iter().any(|r| r.code == code)),
                                        "a merge lost recovery code {code} of {id}"
                                    );
                                }
                            }
                            r
                        }
                        None => {
                            snapshot = Some(c.clone());
                            Ok(())
                        }
                    },
                };
                prop_assert!(c.check_invariants().is_ok(), "{:?}", c.check_invariants());
                for (id, counter) in before {
                    if let Some(now) = counters(&c).get(&id) {
                        prop_assert!(*now >= counter, "counter of {id} went from {counter} to {now}");
                    }
                }
            }
        }
    }
}
