//! [`VaultSession`]: open, unlock, edit and lock a vault. `Send + Sync`; every method takes
//! `&self` and may be called from many threads. Reads share a lock; every change is applied
//! to a copy of the content, committed to disk, and only then made visible, so a failed write
//! leaves both the file and the session as they were.
//!
//! Where things are: the lifecycle and reads here, unlocking (versions, `.prev`, the trust
//! record, PIN attempts) in `unlock.rs`, the one transaction engine (mutate → commit →
//! publish, key rotation) in `commit.rs`, entry and group edits in `entries.rs`, key slots in
//! `slots.rs`.

mod care;
mod commit;
mod entries;
mod slots;
mod sync;
mod unlock;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::{self, KdfLimit, KdfParams, Key32, RandomSource, SigningKey, SystemRandom};
use crate::otp::{self, OtpKind};
use crate::serde_bytes_helpers::array;
use crate::vault::VaultError;
use crate::vault::care::CareState;
use crate::vault::container::{self, Header, SlotKind, VAULT_MAGIC};
use crate::vault::model::{self, Entry, EntryId, Group, GroupId, VaultContent};
use crate::vault::recovery::RecoveryKey;
use crate::vault::slots::{self as slot_ops, NewSlot};
use crate::vault::storage::{self, FileSystem, OsFileSystem};
use crate::vault::trust::{TrustRecord, TrustStore};

pub(crate) use sync::SyncBlob;
pub use sync::SyncTxn;

pub use crate::limits::{MAX_ENTRIES, MAX_NAME_LEN, MAX_NOTE_LEN};

/// The environment a session runs in: file system, randomness, clock, the device's trust
/// record, and the most key-derivation work a file may ask for.
#[derive(Clone)]
pub struct VaultEnv {
    /// Where the vault file, its `.prev` and temporary files are read and written.
    pub fs: Arc<dyn FileSystem>,
    /// Randomness for keys, nonces, salts and ids.
    pub rng: Arc<dyn RandomSource>,
    /// Current time in milliseconds since the epoch.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Where this device remembers the vault's last generation, signing key, HOTP counters
    /// and wrong PINs (`None`: no rollback detection, no PIN slots).
    pub trust: Option<Arc<dyn TrustStore>>,
    /// Argon2id parameters above this are refused before any work.
    pub kdf_limit: KdfLimit,
}

impl Default for VaultEnv {
    fn default() -> Self {
        VaultEnv {
            fs: Arc::new(OsFileSystem),
            rng: Arc::new(SystemRandom::new()),
            clock: Arc::new(system_now_ms),
            trust: None,
            kdf_limit: KdfLimit::DEFAULT,
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
    /// The vault password (must not be empty; NFC-normalized before derivation).
    pub password: &'a [u8],
    /// Argon2id parameters of the password slot.
    pub kdf: KdfParams,
}

/// A slot as the apps see it (no key material except the opaque keystore blob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInfo {
    /// The slot's random id (public: it is in the header).
    pub id: [u8; 16],
    /// Password, recovery key, platform key or PIN.
    pub kind: SlotKind,
    /// The user's name for the slot; while locked, the kind's generic name (labels are
    /// inside the encrypted body).
    pub label: String,
    /// When the slot was made (ms); 0 while locked.
    pub created_at: i64,
    /// Argon2id parameters of a password or PIN slot; `None` for the others.
    pub kdf: Option<KdfParams>,
    /// Keystore alias for platform and PIN slots.
    pub platform_alias: Option<String>,
    /// The blob the app stored when it wrapped the slot key (pull API for unlock).
    pub platform_blob: Option<Vec<u8>>,
    /// The slot vouches for the file's signing key. False only for a slot carried over from
    /// a version 1 vault that has not opened the vault since (see `confirm_recovery_key`).
    pub endorsed: bool,
}

/// What an unlock found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnlockInfo {
    /// The current file was damaged and its previous generation was opened instead.
    pub recovered_from_previous: bool,
    /// Generation of the file as it is now (after any upgrade or repair written at unlock).
    pub generation: u64,
    /// The file was in this older format version and has been rewritten as version 2.
    pub upgraded_from: Option<u16>,
    /// The file was older than this device's trust record, foreign to it, or unverifiable
    /// (format 1, an unconfirmed slot), and was accepted on purpose.
    pub accepted_untrusted: bool,
    /// PIN slots locked by too many wrong PINs, removed by this unlock.
    pub removed_pin_slots: usize,
    /// Slots (from a version 1 vault) that have not vouched for the signing key yet.
    pub unendorsed_slots: usize,
    /// Slots of a file accepted on purpose that this device's record did not know (planted
    /// in it, or revoked since): dropped, so they do not get the new master key.
    pub removed_unknown_slots: usize,
}

/// How to unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnlockOptions {
    /// Open a file that is [`VaultError::RolledBack`], [`VaultError::Forged`] by the trust
    /// record's account, or [`VaultError::Unverified`], because the user says it is theirs.
    /// It is then rewritten as version 2 under fresh keys this device records; HOTP
    /// counters are still raised to what the record saw.
    pub accept_untrusted: bool,
}

/// The code of one entry at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeView {
    /// The entry the code is for.
    pub entry_id: EntryId,
    /// The current code; `None` for HOTP (its codes come only from [`VaultSession::next_hotp`]).
    pub code: Option<String>,
    /// Period in seconds (0 for HOTP).
    pub period: u32,
    /// Milliseconds until `code` expires (0 for HOTP).
    pub remaining_ms: u64,
    /// The code of the following period (`None` for HOTP).
    pub next_code: Option<String>,
}

/// A signing-key seed inside the encrypted body.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Seed(#[serde(with = "array")] pub(crate) [u8; 32]);

/// What the user calls a slot and when it was made (inside the body, not the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SlotMeta {
    #[serde(with = "array")]
    pub(crate) id: [u8; 16],
    pub(crate) label: String,
    pub(crate) created_at: i64,
}

/// The plaintext of a version 2 vault body.
#[derive(Serialize, Deserialize)]
pub(crate) struct VaultBody {
    pub(crate) content: VaultContent,
    /// Seeds of the header's signers, same order.
    pub(crate) signers: Vec<Seed>,
    pub(crate) slots: Vec<SlotMeta>,
    pub(crate) updated_at: i64,
    /// This device's sync membership and state (`docs/sync-protocol.md`), absent when the
    /// vault is not in a sync group.
    #[serde(default)]
    pub(crate) sync: Option<SyncBlob>,
    /// Backups verified, restore drills, the exposure ledger and the checkup's settings
    /// (`vault::care`); absent in vaults written before they existed.
    #[serde(default)]
    pub(crate) care: Option<CareState>,
}

/// An unlocked vault.
struct Unlocked {
    master_key: Key32,
    header: Header,
    content: VaultContent,
    /// The header's signing keys, same order.
    signers: Vec<SigningKey>,
    slot_meta: Vec<SlotMeta>,
    /// The slot the session was unlocked with and its endorsement key: re-endorsed when the
    /// signing key rotates, without asking for the credential again.
    unlocked_with: Option<([u8; 16], Key32)>,
    /// The file on disk is damaged (we opened `.prev`): the next write must not rotate it
    /// into `.prev`.
    current_damaged: bool,
    /// Usage statistics changed in memory only (written with the next change or at lock).
    usage_dirty: bool,
    /// The next generation written must be above this (an accepted rollback).
    min_generation: u64,
    /// The trust record as last stored.
    trust: Option<TrustRecord>,
    /// The sync state inside the body (see `sync.rs`).
    sync: Option<SyncBlob>,
    /// What the body records about backups, drills and exposures (see `care.rs`).
    care: CareState,
    /// Live entries' keyed HMAC states, built at the first code after unlock or a change
    /// (reset wherever `content` is replaced).
    codes: std::sync::OnceLock<otp::KeyedAccounts<EntryId>>,
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
        let signer = SigningKey::generate(rng)?;
        let mut slots = Vec::new();
        let mut slot_meta = Vec::new();
        for (spec, label) in [
            (
                NewSlot::Password {
                    password: options.password,
                    params: options.kdf,
                },
                "password",
            ),
            (NewSlot::Recovery(&recovery), "recovery key"),
        ] {
            let (mut slot, secrets) =
                slot_ops::create_slot(VAULT_MAGIC, &vault_id, spec, &master_key, rng)?;
            container::endorse(&mut slot, &vault_id, &secrets.endorse_key, signer.public());
            slot_meta.push(SlotMeta {
                id: slot.id,
                label: label.into(),
                created_at: now,
            });
            slots.push(slot);
        }
        let header = Header {
            vault_id,
            generation: 1,
            origin: None,
            signers: vec![signer.public()],
            succession: None,
            slots,
        };
        let content = VaultContent::new();
        let bytes = commit::seal(
            &header,
            &master_key,
            commit::BodyParts {
                content: &content,
                signers: std::slice::from_ref(&signer),
                slot_meta: &slot_meta,
                sync: None,
                care: &CareState::default(),
                now,
            },
            rng,
        )?;
        storage::commit(env.fs.as_ref(), path, &bytes, storage::Prev::Leave)?;
        let session = VaultSession {
            path: path.to_path_buf(),
            env,
            state: RwLock::new(None),
        };
        let mut open = Unlocked {
            master_key,
            header,
            content,
            signers: vec![signer],
            slot_meta,
            unlocked_with: None,
            current_damaged: false,
            usage_dirty: false,
            min_generation: 0,
            trust: None,
            sync: None,
            care: CareState::default(),
            codes: Default::default(),
        };
        // A new vault at this path: whatever the device remembered of an older one is gone.
        session.store_trust(&mut open, true);
        *session.write_state() = Some(open);
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

    /// The vault file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment (file system, randomness, clock, trust record) this session uses.
    pub fn env(&self) -> &VaultEnv {
        &self.env
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

    /// Whether the session holds the decrypted vault.
    pub fn is_unlocked(&self) -> bool {
        self.read_state().is_some()
    }

    /// Locks: pending usage statistics are written (best effort), then the master key,
    /// signing keys and every decrypted entry are zeroized.
    pub fn lock(&self) {
        let mut guard = self.write_state();
        if let Some(open) = guard.as_mut()
            && open.usage_dirty
        {
            let content = open.content.clone();
            let _ = self.commit(open, commit::Change::content(content));
        }
        *guard = None;
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

    /// The groups in the user's order.
    pub fn groups(&self) -> Result<Vec<Group>, VaultError> {
        self.read(|c| {
            let mut g = c.groups.clone();
            g.sort_by_key(|g| g.sort_key);
            g
        })
    }

    /// The entry with this id, live or trashed.
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

    /// Codes of every live entry at `unix_ms`, corrected by the stored clock offset. Each
    /// account's HMAC is keyed once per unlock or change, not per call.
    pub fn codes_at(&self, unix_ms: i64) -> Result<Vec<CodeView>, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        let keyed = open.codes.get_or_init(|| {
            otp::KeyedAccounts::new(
                open.content
                    .live_entries()
                    .into_iter()
                    .map(|e| (e.id, &e.kind, &e.secret)),
            )
        });
        Ok(keyed
            .codes_at(unix_ms, open.content.settings.clock_offset_s)
            .into_iter()
            .map(|(id, code)| CodeView {
                entry_id: *id,
                code: code.code,
                period: code.period,
                remaining_ms: code.remaining_ms,
                next_code: code.next_code,
            })
            .collect())
    }

    /// Runs `f` over the content and the codes of every live entry at `unix_ms` (corrected by
    /// the stored clock offset; keyed states reused as in [`VaultSession::codes_at`]), under one
    /// read of the state so the two agree. The code list ([`super::codes::CodeList`]) is built
    /// on it.
    pub fn read_with_codes<R>(
        &self,
        unix_ms: i64,
        f: impl FnOnce(&VaultContent, Vec<(EntryId, otp::Code)>) -> R,
    ) -> Result<R, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        let keyed = open.codes.get_or_init(|| {
            otp::KeyedAccounts::new(
                open.content
                    .live_entries()
                    .into_iter()
                    .map(|e| (e.id, &e.kind, &e.secret)),
            )
        });
        let codes = keyed
            .codes_at(unix_ms, open.content.settings.clock_offset_s)
            .into_iter()
            .map(|(id, code)| (*id, code))
            .collect();
        Ok(f(&open.content, codes))
    }

    /// Seconds added to the device clock when computing codes.
    pub fn clock_offset(&self) -> Result<i64, VaultError> {
        self.read(|c| c.settings.clock_offset_s)
    }

    /// A consistent copy of the content and its generation.
    pub fn snapshot(&self) -> Result<(VaultContent, u64), VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok((open.content.clone(), open.header.generation))
    }

    /// Generation of the file as this session last read or wrote it (one more per write).
    pub fn generation(&self) -> Result<u64, VaultError> {
        let guard = self.read_state();
        Ok(guard.as_ref().ok_or(VaultError::Locked)?.header.generation)
    }

    /// The vault's id (public: it is in the file's header).
    pub fn vault_id(&self) -> Result<[u8; 16], VaultError> {
        let guard = self.read_state();
        Ok(guard.as_ref().ok_or(VaultError::Locked)?.header.vault_id)
    }

    /// The slots of the vault; available while locked (the platform-key pull API reads the
    /// keystore blob from here). Labels are the user's once unlocked.
    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        if let Some(open) = self.read_state().as_ref() {
            return Ok(slot_infos(&open.header, &open.slot_meta));
        }
        unlock::slots_while_locked(self)
    }
}

fn slot_infos(header: &Header, meta: &[SlotMeta]) -> Vec<SlotInfo> {
    header
        .slots
        .iter()
        .map(|s| {
            let m = meta.iter().find(|m| m.id == s.id);
            SlotInfo {
                id: s.id,
                kind: s.kind,
                label: m.map_or_else(|| default_label(s.kind).to_owned(), |m| m.label.clone()),
                created_at: m.map_or(0, |m| m.created_at),
                kdf: s.kdf.as_ref().map(|k| k.params()),
                platform_alias: s.platform.as_ref().map(|p| p.alias.clone()),
                platform_blob: s.platform.as_ref().map(|p| p.blob.clone()),
                endorsed: s.endorsement.is_some(),
            }
        })
        .collect()
}

/// The name a slot has while its label is unknown (locked).
fn default_label(kind: SlotKind) -> &'static str {
    match kind {
        SlotKind::Password => "password",
        SlotKind::Platform => "biometrics",
        SlotKind::Recovery => "recovery key",
        SlotKind::Pin => "PIN",
    }
}

/// For entries.rs: a random id from the session's randomness.
fn new_id(rng: &dyn RandomSource) -> Result<model::Id, VaultError> {
    Ok(model::Id::from_random(crypto::random_array(rng)?))
}
