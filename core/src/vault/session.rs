//! [`VaultSession`]: open, unlock, edit and lock a vault. `Send + Sync`; every method takes
//! `&self` and may be called from many threads. Reads share a lock; every change is applied
//! to a copy of the content, committed to disk, and only then made visible, so a failed write
//! leaves both the file and the session as they were.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::crypto::{self, KdfParams, Key32, RandomSource, SystemRandom};
use crate::otp::{self, OtpKind};
use crate::secret::Secret;
use crate::vault::VaultError;
use crate::vault::container::{self, Header, Parsed, SlotKind, VAULT_MAGIC};
use crate::vault::model::{self, Entry, EntryId, Group, GroupId, IconRef, Id, VaultContent};
use crate::vault::recovery::RecoveryKey;
use crate::vault::slots::{self, NewSlot, SlotCredential};
use crate::vault::storage::{self, FileSystem, OsFileSystem};

/// Longest issuer, account or group name we store.
pub const MAX_NAME_LEN: usize = 256;
/// Longest note.
pub const MAX_NOTE_LEN: usize = 4096;
/// Most entries a vault holds.
pub const MAX_ENTRIES: usize = 100_000;

/// The environment a session runs in: file system, randomness and clock.
#[derive(Clone)]
pub struct VaultEnv {
    pub fs: Arc<dyn FileSystem>,
    pub rng: Arc<dyn RandomSource>,
    /// Current time in milliseconds since the epoch.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl Default for VaultEnv {
    fn default() -> Self {
        VaultEnv {
            fs: Arc::new(OsFileSystem),
            rng: Arc::new(SystemRandom::new()),
            clock: Arc::new(system_now_ms),
        }
    }
}

/// Milliseconds since the epoch from the system clock.
pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parameters of a new vault.
pub struct CreateOptions<'a> {
    pub password: &'a [u8],
    pub kdf: KdfParams,
}

/// A slot as the apps see it (no key material except the opaque keystore blob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    pub id: [u8; 16],
    pub kind: SlotKind,
    pub label: String,
    pub created_at: i64,
    pub kdf: Option<KdfParams>,
    /// Keystore alias for platform and PIN slots.
    pub platform_alias: Option<String>,
    /// The blob the app stored when it wrapped the slot key (pull API for unlock).
    pub platform_blob: Option<Vec<u8>>,
}

/// What an unlock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockInfo {
    /// The current file was damaged and its previous generation was opened instead.
    pub recovered_from_previous: bool,
    pub generation: u64,
}

/// The code of one entry at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeView {
    pub entry_id: EntryId,
    pub code: Option<String>,
    pub period: u32,
    pub remaining_ms: u64,
    pub next_code: Option<String>,
}

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

struct Unlocked {
    master_key: Key32,
    header: Header,
    content: VaultContent,
    /// The file on disk is damaged (we opened `.prev`): the next write must not rotate it
    /// into `.prev`.
    current_damaged: bool,
}

/// An open vault file, locked or unlocked.
pub struct VaultSession {
    path: PathBuf,
    env: VaultEnv,
    state: RwLock<Option<Unlocked>>,
}

impl std::fmt::Debug for VaultSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSession")
            .field("path", &self.path)
            .field("unlocked", &self.is_unlocked())
            .finish()
    }
}

fn check_name(what: &str, value: &str, max: usize) -> Result<String, VaultError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(VaultError::InvalidInput(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(trimmed.to_owned())
}

impl VaultSession {
    /// Creates a new vault with a password slot and a recovery slot. Returns the unlocked
    /// session and the recovery key, which must be shown to the user once.
    pub fn create(
        path: &Path,
        options: CreateOptions<'_>,
    ) -> Result<(Self, RecoveryKey), VaultError> {
        Self::create_in(path, options, VaultEnv::default())
    }

    /// [`VaultSession::create`] in a given environment.
    pub fn create_in(
        path: &Path,
        options: CreateOptions<'_>,
        env: VaultEnv,
    ) -> Result<(Self, RecoveryKey), VaultError> {
        if env.fs.exists(path)? || env.fs.exists(&storage::prev_path(path))? {
            return Err(VaultError::AlreadyExists(path.display().to_string()));
        }
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            env.fs.create_dir_all(dir)?;
        }
        let now = (env.clock)();
        let rng = env.rng.as_ref();
        let master_key = crypto::random_key(rng)?;
        let vault_id: [u8; 16] = crypto::random_array(rng)?;
        let recovery = RecoveryKey::generate(rng)?;
        let password_slot = slots::create_slot(
            VAULT_MAGIC,
            &vault_id,
            NewSlot::Password {
                password: options.password,
                params: options.kdf,
            },
            "password".into(),
            now,
            &master_key,
            rng,
        )?;
        let recovery_slot = slots::create_slot(
            VAULT_MAGIC,
            &vault_id,
            NewSlot::Recovery(&recovery),
            "recovery key".into(),
            now,
            &master_key,
            rng,
        )?;
        let header = Header {
            vault_id,
            generation: 1,
            created_at: now,
            updated_at: now,
            slots: vec![password_slot, recovery_slot],
        };
        let content = VaultContent::new();
        let bytes = container::seal_file(VAULT_MAGIC, &header, &master_key, &content, rng)?;
        storage::commit(env.fs.as_ref(), path, &bytes, false)?;
        let session = VaultSession {
            path: path.to_path_buf(),
            env,
            state: RwLock::new(Some(Unlocked {
                master_key,
                header,
                content,
                current_damaged: false,
            })),
        };
        Ok((session, recovery))
    }

    /// Opens an existing vault, locked.
    pub fn open(path: &Path) -> Result<Self, VaultError> {
        Self::open_in(path, VaultEnv::default())
    }

    /// [`VaultSession::open`] in a given environment.
    pub fn open_in(path: &Path, env: VaultEnv) -> Result<Self, VaultError> {
        if !env.fs.exists(path)? && !env.fs.exists(&storage::prev_path(path))? {
            return Err(VaultError::NotFound(path.display().to_string()));
        }
        Ok(VaultSession {
            path: path.to_path_buf(),
            env,
            state: RwLock::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn now(&self) -> i64 {
        (self.env.clock)()
    }

    fn read_state(&self) -> RwLockReadGuard<'_, Option<Unlocked>> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, Option<Unlocked>> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_unlocked(&self) -> bool {
        self.read_state().is_some()
    }

    /// Parses the current file, or the previous generation when the current one is damaged.
    /// Returns the parsed file and whether it came from `.prev`.
    fn read_parsed(&self) -> Result<(Parsed, bool), VaultError> {
        let fs = self.env.fs.as_ref();
        let current = fs.read(&self.path)?;
        let first_error = match current {
            Some(bytes) => match container::parse(&bytes, VAULT_MAGIC) {
                Ok(parsed) => return Ok((parsed, false)),
                Err(e @ VaultError::Corrupt(_)) => e,
                Err(other) => return Err(other),
            },
            None => VaultError::Corrupt("the vault file is missing".into()),
        };
        match fs.read(&storage::prev_path(&self.path))? {
            Some(bytes) => match container::parse(&bytes, VAULT_MAGIC) {
                Ok(parsed) => Ok((parsed, true)),
                Err(_) => Err(both_damaged(first_error)),
            },
            None => Err(first_error),
        }
    }

    /// The slots of the vault; available while locked (the platform-key pull API reads the
    /// keystore blob from here).
    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        let (parsed, _) = self.read_parsed()?;
        Ok(slot_infos(&parsed.header))
    }

    /// Unlocks with any credential. When the current file is damaged, the previous
    /// generation is opened instead and `recovered_from_previous` says so.
    pub fn unlock(&self, credential: &SlotCredential<'_>) -> Result<UnlockInfo, VaultError> {
        let fs = self.env.fs.as_ref();
        let current = match fs.read(&self.path)? {
            Some(bytes) => open_bytes(&bytes, credential),
            None => Err(VaultError::Corrupt("the vault file is missing".into())),
        };
        let (unlocked, recovered) = match current {
            Ok(u) => (u, false),
            Err(first @ VaultError::Corrupt(_)) => {
                match fs.read(&storage::prev_path(&self.path))? {
                    Some(bytes) => match open_bytes(&bytes, credential) {
                        Ok(u) => (u, true),
                        Err(VaultError::Corrupt(_)) => return Err(both_damaged(first)),
                        Err(other) => return Err(other),
                    },
                    None => return Err(first),
                }
            }
            Err(other) => return Err(other),
        };
        let info = UnlockInfo {
            recovered_from_previous: recovered,
            generation: unlocked.header.generation,
        };
        let (master_key, header, content) = unlocked.into_parts();
        *self.write_state() = Some(Unlocked {
            master_key,
            header,
            content,
            current_damaged: recovered,
        });
        Ok(info)
    }

    pub fn unlock_with_password(&self, password: &[u8]) -> Result<UnlockInfo, VaultError> {
        self.unlock(&SlotCredential::Password(password))
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

    /// Locks: the master key and every decrypted entry are zeroized.
    pub fn lock(&self) {
        *self.write_state() = None;
    }

    /// Runs `f` over the decrypted content.
    pub fn read<R>(&self, f: impl FnOnce(&VaultContent) -> R) -> Result<R, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(f(&open.content))
    }

    /// Live entries in the user's order.
    pub fn entries(&self) -> Result<Vec<Entry>, VaultError> {
        self.read(|c| c.live_entries().into_iter().cloned().collect())
    }

    /// Entries in the trash, most recently deleted first.
    pub fn trash(&self) -> Result<Vec<Entry>, VaultError> {
        self.read(|c| {
            let mut v: Vec<Entry> = c
                .entries
                .iter()
                .filter(|e| e.deleted_at.is_some())
                .cloned()
                .collect();
            v.sort_by_key(|e| std::cmp::Reverse(e.deleted_at));
            v
        })
    }

    pub fn groups(&self) -> Result<Vec<Group>, VaultError> {
        self.read(|c| {
            let mut g = c.groups.clone();
            g.sort_by_key(|g| g.sort_key);
            g
        })
    }

    pub fn entry(&self, id: EntryId) -> Result<Entry, VaultError> {
        self.read(|c| c.entry(id).cloned())?
            .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))
    }

    /// Live entries matching `query` (every word, in issuer/account/note/group names,
    /// ignoring case and accents).
    pub fn search(&self, query: &str) -> Result<Vec<Entry>, VaultError> {
        self.read(|c| {
            c.live_entries()
                .into_iter()
                .filter(|e| model::matches(e, &c.groups, query))
                .cloned()
                .collect()
        })
    }

    /// Codes of every live entry at `unix_ms`, corrected by the stored clock offset.
    pub fn codes_at(&self, unix_ms: i64) -> Result<Vec<CodeView>, VaultError> {
        self.read(|c| {
            let live = c.live_entries();
            let codes = otp::codes_at(live.iter().copied(), unix_ms, c.settings.clock_offset_s);
            live.iter()
                .zip(codes)
                .map(|(e, code)| CodeView {
                    entry_id: e.id,
                    code: code.code,
                    period: code.period,
                    remaining_ms: code.remaining_ms,
                    next_code: code.next_code,
                })
                .collect()
        })
    }

    pub fn clock_offset(&self) -> Result<i64, VaultError> {
        self.read(|c| c.settings.clock_offset_s)
    }

    /// A consistent copy of the content and its generation.
    pub fn snapshot(&self) -> Result<(VaultContent, u64), VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok((open.content.clone(), open.header.generation))
    }

    pub fn generation(&self) -> Result<u64, VaultError> {
        let guard = self.read_state();
        Ok(guard.as_ref().ok_or(VaultError::Locked)?.header.generation)
    }

    /// Applies `change` to a copy of the content, commits it, then makes it current.
    fn mutate<R>(
        &self,
        change: impl FnOnce(&mut VaultContent, i64) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let now = self.now();
        let mut content = open.content.clone();
        let result = change(&mut content, now)?;
        self.commit(open, None, content, None, now)?;
        Ok(result)
    }

    /// Writes a new generation. `header_slots` replaces the slots; `new_master_key` rotates.
    fn commit(
        &self,
        open: &mut Unlocked,
        header_slots: Option<Vec<container::Slot>>,
        mut content: VaultContent,
        new_master_key: Option<Key32>,
        now: i64,
    ) -> Result<(), VaultError> {
        purge_expired(&mut content, now);
        if !open.current_damaged {
            // Refuse to overwrite a generation written by someone else since we loaded.
            if let Some(bytes) = self.env.fs.read(&self.path)?
                && let Ok(parsed) = container::parse(&bytes, VAULT_MAGIC)
                && parsed.header.generation != open.header.generation
            {
                return Err(VaultError::Conflict);
            }
        }
        let mut header = open.header.clone();
        header.generation = header
            .generation
            .checked_add(1)
            .ok_or(VaultError::Internal("generation overflow".into()))?;
        header.updated_at = now;
        if let Some(slots) = header_slots {
            header.slots = slots;
        }
        let key = new_master_key.as_ref().unwrap_or(&open.master_key);
        let bytes =
            container::seal_file(VAULT_MAGIC, &header, key, &content, self.env.rng.as_ref())?;
        let result = storage::commit(
            self.env.fs.as_ref(),
            &self.path,
            &bytes,
            !open.current_damaged,
        );
        if let Err(e) = &result
            && !e.applied
        {
            return result.map_err(VaultError::from);
        }
        // The new generation is on disk (perhaps not yet durably): the session follows it.
        open.header = header;
        open.content = content;
        if let Some(k) = new_master_key {
            open.master_key = k;
        }
        open.current_damaged = false;
        result.map_err(VaultError::from)
    }

    fn new_id(&self) -> Result<Id, VaultError> {
        Ok(Id::from_random(crypto::random_array(
            self.env.rng.as_ref(),
        )?))
    }

    /// Adds an entry. An entry with the same secret and kind is refused as
    /// [`VaultError::Duplicate`] unless `allow_duplicate`.
    pub fn add_entry(&self, new: NewEntry, allow_duplicate: bool) -> Result<Entry, VaultError> {
        new.kind
            .validate()
            .map_err(|e| VaultError::InvalidInput(e.to_string()))?;
        let issuer = check_name("issuer", &new.issuer, MAX_NAME_LEN)?;
        let account = check_name("account", &new.account, MAX_NAME_LEN)?;
        let note = check_name("note", &new.note, MAX_NOTE_LEN)?;
        let id = self.new_id()?;
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
            ids.push(self.new_id()?);
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
                n.kind
                    .validate()
                    .map_err(|e| VaultError::InvalidInput(e.to_string()))?;
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
            kind.validate()
                .map_err(|e| VaultError::InvalidInput(e.to_string()))?;
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
        let id = self.new_id()?;
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

    /// Records that the user used (copied) an entry's code.
    pub fn record_use(&self, id: EntryId) -> Result<(), VaultError> {
        self.mutate(|c, now| {
            let e = c
                .entry_mut(id)
                .ok_or_else(|| VaultError::NoSuchEntry(id.to_string()))?;
            e.last_used_at = Some(now);
            e.use_count = e.use_count.saturating_add(1);
            Ok(())
        })
    }

    /// Sets the clock offset in seconds.
    pub fn set_clock_offset(&self, seconds: i64) -> Result<(), VaultError> {
        if seconds.unsigned_abs() > 366 * 24 * 3600 {
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
            c.settings.trash_retention_days = days.max(1);
            Ok(())
        })
    }

    /// Replaces the whole content (restore from backup in replace mode). Slots are kept.
    pub fn replace_content(&self, content: VaultContent) -> Result<(), VaultError> {
        self.mutate(|c, _| {
            *c = content;
            c.version = model::CONTENT_VERSION;
            Ok(())
        })
    }

    /// Applies an arbitrary change to the content in one commit (merge restore, imports).
    pub fn modify<R>(
        &self,
        change: impl FnOnce(&mut VaultContent, i64) -> Result<R, VaultError>,
    ) -> Result<R, VaultError> {
        self.mutate(change)
    }

    // ----- slots -------------------------------------------------------------------------

    fn change_slots(
        &self,
        edit: impl FnOnce(
            &mut Vec<container::Slot>,
            &Header,
            &Key32,
            i64,
        ) -> Result<Option<Key32>, VaultError>,
    ) -> Result<(), VaultError> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let now = self.now();
        let mut slots = open.header.slots.clone();
        let rotated = edit(&mut slots, &open.header, &open.master_key, now)?;
        if !slots.iter().any(|s| s.kind == SlotKind::Password) {
            return Err(VaultError::LastPasswordSlot);
        }
        let content = open.content.clone();
        self.commit(open, Some(slots), content, rotated, now)
    }

    /// Creates a slot from `spec`, wraps the master key into it and commits. Returns its id.
    fn add_slot(&self, spec: NewSlot<'_>, label: &str) -> Result<[u8; 16], VaultError> {
        let mut new_id = [0u8; 16];
        self.change_slots(|slots, header, mk, now| {
            let slot = slots::create_slot(
                VAULT_MAGIC,
                &header.vault_id,
                spec,
                label.to_owned(),
                now,
                mk,
                self.env.rng.as_ref(),
            )?;
            new_id = slot.id;
            slots.push(slot);
            Ok(None)
        })?;
        Ok(new_id)
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

    /// Adds a device-bound PIN slot: the PIN alone never opens it, it needs `device_key`
    /// from the keystore too.
    pub fn add_pin_slot(
        &self,
        alias: &str,
        pin: &[u8],
        device_key: &[u8; 32],
        wrapped_blob: Vec<u8>,
        params: KdfParams,
    ) -> Result<[u8; 16], VaultError> {
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

    /// Removes a slot. The last password slot cannot be removed.
    pub fn remove_slot(&self, slot_id: [u8; 16]) -> Result<(), VaultError> {
        self.change_slots(|slots, _, _, _| {
            let before = slots.len();
            slots.retain(|s| s.id != slot_id);
            if slots.len() == before {
                return Err(VaultError::NoSuchSlot);
            }
            Ok(None)
        })
    }

    /// Changes the password: every password slot is replaced by one for the new password,
    /// the master key is rotated, and every other slot is re-wrapped to its public key (so
    /// biometric, PIN and recovery slots keep working without their secrets).
    pub fn change_password(
        &self,
        new_password: &[u8],
        params: KdfParams,
    ) -> Result<(), VaultError> {
        let rng = self.env.rng.clone();
        self.change_slots(|slots, header, _old_mk, now| {
            let new_mk = crypto::random_key(rng.as_ref())?;
            let password_slot = slots::create_slot(
                VAULT_MAGIC,
                &header.vault_id,
                NewSlot::Password {
                    password: new_password,
                    params,
                },
                "password".into(),
                now,
                &new_mk,
                rng.as_ref(),
            )?;
            slots.retain(|s| s.kind != SlotKind::Password);
            for slot in slots.iter_mut() {
                container::wrap_master_key(
                    VAULT_MAGIC,
                    &header.vault_id,
                    slot,
                    &new_mk,
                    rng.as_ref(),
                )?;
            }
            slots.insert(0, password_slot);
            Ok(Some(new_mk))
        })
    }

    /// Replaces the recovery slot with a new recovery key, returned to be shown once.
    pub fn rotate_recovery_key(&self) -> Result<RecoveryKey, VaultError> {
        let key = RecoveryKey::generate(self.env.rng.as_ref())?;
        self.change_slots(|slots, header, mk, now| {
            let slot = slots::create_slot(
                VAULT_MAGIC,
                &header.vault_id,
                NewSlot::Recovery(&key),
                "recovery key".into(),
                now,
                mk,
                self.env.rng.as_ref(),
            )?;
            slots.retain(|s| s.kind != SlotKind::Recovery);
            slots.push(slot);
            Ok(None)
        })?;
        Ok(key)
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

    /// The environment (file system, randomness, clock) this session uses.
    pub fn env(&self) -> &VaultEnv {
        &self.env
    }
}

/// The error when both generations are damaged.
fn both_damaged(first: VaultError) -> VaultError {
    match first {
        VaultError::Corrupt(reason) => {
            VaultError::Corrupt(format!("{reason}; the previous generation is damaged too"))
        }
        other => other,
    }
}

/// A decrypted vault file.
struct Opened {
    master_key: Key32,
    header: Header,
    content: VaultContent,
}

impl Opened {
    fn into_parts(self) -> (Key32, Header, VaultContent) {
        (self.master_key, self.header, self.content)
    }
}

fn open_bytes(bytes: &[u8], credential: &SlotCredential<'_>) -> Result<Opened, VaultError> {
    let parsed = container::parse(bytes, VAULT_MAGIC)?;
    let (_, master_key) = slots::unlock(VAULT_MAGIC, &parsed.header, credential)?;
    let content = container::open_body(&parsed, &master_key)?;
    if content.version > model::CONTENT_VERSION {
        return Err(VaultError::UnsupportedVersion(content.version as u16));
    }
    Ok(Opened {
        master_key,
        header: parsed.header,
        content,
    })
}

fn slot_infos(header: &Header) -> Vec<SlotInfo> {
    header
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
        })
        .collect()
}

/// Drops trashed entries older than the retention period.
fn purge_expired(content: &mut VaultContent, now: i64) {
    let keep_ms = i64::from(content.settings.trash_retention_days) * 24 * 3600 * 1000;
    content.entries.retain(|e| match e.deleted_at {
        Some(t) => now.saturating_sub(t) < keep_ms,
        None => true,
    });
}
