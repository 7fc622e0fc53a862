//! Sync for the apps: `SyncGroup` (setup, sync, status, conflicts, devices, revoke), the join
//! flow (`SyncJoiner` on the new device, `SyncInviter` on a member, over OTPX/2 frames and
//! reply), and `SyncStorage`, the foreign trait the app implements over a place only it can
//! open (an Android SAF tree, an iOS security-scoped folder). WebDAV and plain folders are
//! the core's; the apps need no HTTP code. Every call may block (storage, network): call
//! them off the main thread.

use std::sync::{Arc, Mutex};

use twofold_core::crypto::SystemRandom;
use twofold_core::sync::engine::{Change, SyncReport};
use twofold_core::sync::join::{self, JoinInvite, Joiner};
use twofold_core::sync::{
    self, ConflictView, DeviceView, Keep, StorageConfig, StorageError, StoredFile, SyncError,
    SyncStatus, SyncWarning,
};
use twofold_core::transfer::{self, Reply, frames};
use zeroize::Zeroize;

use crate::convert::EntryId;
use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;
use crate::transfer::TransferProgress;

impl From<SyncError> for TwofoldError {
    fn from(e: SyncError) -> Self {
        let details = e.to_string();
        match e {
            SyncError::Vault(v) => v.into(),
            SyncError::Transfer(t) => t.into(),
            SyncError::NotInGroup => TwofoldError::SyncNotSetUp { details },
            SyncError::Revoked => TwofoldError::SyncRevoked { details },
            SyncError::Storage(s) => TwofoldError::SyncStorage {
                denied: matches!(s, StorageError::Denied(_)),
                details,
            },
            SyncError::AlreadyInGroup
            | SyncError::Insecure(_)
            | SyncError::InvalidInput(_)
            | SyncError::NoSuchDevice(_)
            | SyncError::NoSuchConflict(_)
            | SyncError::NotEmpty(_)
            | SyncError::Join(_) => TwofoldError::SyncRefused { details },
            SyncError::BadState(_) => TwofoldError::Corrupt { details },
            SyncError::Crypto(_) | SyncError::Internal(_) => TwofoldError::Internal { details },
        }
    }
}

/// A file in the app's sync folder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncFile {
    /// The file's name in the folder (no path).
    pub name: String,
    /// Size in bytes, when the provider says.
    pub size: Option<u64>,
}

/// The sync folder as the app opens it. Only whole files: `write` creates a new file (the core
/// never writes a name twice; write it completely — on Android with mode "wt" — or fail);
/// `read` returns `None` for a file that is gone. Called on a background thread.
#[uniffi::export(with_foreign)]
pub trait SyncStorage: Send + Sync {
    /// Every file directly in the folder.
    fn list(&self) -> Result<Vec<SyncFile>, TwofoldError>;
    /// The whole file, or null when it is gone.
    fn read(&self, name: String) -> Result<Option<Vec<u8>>, TwofoldError>;
    /// Creates the file `name` holding `bytes`, written completely (a name is never written twice).
    fn write(&self, name: String, bytes: Vec<u8>) -> Result<(), TwofoldError>;
    /// A missing file is not an error.
    fn delete(&self, name: String) -> Result<(), TwofoldError>;
}

fn storage_error(e: TwofoldError) -> StorageError {
    match e {
        TwofoldError::SyncStorage {
            denied: true,
            details,
        } => StorageError::Denied(details),
        other => StorageError::Unavailable(other.to_string()),
    }
}

/// The app's folder as the core's storage.
struct Foreign(Arc<dyn SyncStorage>);

impl sync::SyncStorage for Foreign {
    fn list(&self) -> Result<Vec<StoredFile>, StorageError> {
        Ok(self
            .0
            .list()
            .map_err(storage_error)?
            .into_iter()
            .map(|f| StoredFile {
                name: f.name,
                size: f.size,
            })
            .collect())
    }
    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let mut bytes = self.0.read(name.to_owned()).map_err(storage_error)?;
        if let Some(b) = bytes.as_mut() {
            // The engine refuses anything longer; keep no more than it needs to say so.
            b.truncate(usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX));
        }
        Ok(bytes)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.0
            .write(name.to_owned(), bytes.to_vec())
            .map_err(storage_error)
    }
    fn delete(&self, name: &str) -> Result<(), StorageError> {
        self.0.delete(name.to_owned()).map_err(storage_error)
    }
}

/// Where a new group's files go.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncLocation {
    /// A folder only the app can open (the `SyncStorage` given to `SyncGroup`); `label` is
    /// what to show ("Nextcloud folder 'Twofold'").
    App {
        /// What to show for the folder.
        label: String,
    },
    /// A WebDAV collection (https://…). The password (bytes; the app wipes its copy) is
    /// stored only inside the encrypted vault.
    WebDav {
        /// The collection's URL: https, or http only to this machine (loopback).
        url: String,
        /// The user name; null when the server needs none.
        user: Option<String>,
        /// The password as UTF-8 bytes (wiped after the call); null when the server needs none.
        password: Option<Vec<u8>>,
    },
    /// A plain folder path (desktop; tests).
    Folder {
        /// The folder's path.
        path: String,
    },
}

fn config(location: SyncLocation) -> Result<StorageConfig> {
    Ok(match location {
        SyncLocation::App { label } => StorageConfig::App { label },
        SyncLocation::Folder { path } => StorageConfig::Folder { path },
        SyncLocation::WebDav {
            url,
            user,
            password,
        } => {
            let password = match password {
                Some(mut p) => {
                    let text = String::from_utf8(p.clone()).map_err(|_| {
                        TwofoldError::input(
                            crate::error::InputProblem::NotUtf8,
                            "the WebDAV password is not text",
                        )
                    });
                    p.zeroize();
                    Some(text?)
                }
                None => None,
            };
            StorageConfig::WebDav {
                url,
                user,
                password,
            }
        }
    })
}

/// One entry's change brought in by a sync.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncChange {
    /// The entry's id (a UUID).
    pub entry_id: EntryId,
    /// The entry's name after the sync.
    pub label: String,
    /// `added`, `edited`, `trashed`, `restored` or `removed`.
    pub kind: String,
    /// For `edited`: the fields that changed ("note", "issuer", …).
    pub fields: Vec<String>,
}

/// Something a sync refused or noticed; `kind` is stable (see `sync status --json`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncWarningView {
    /// Stable kind (`planted`, `foreign-group`, `damaged`, `rollback`, `fork`, …; docs/ffi.md
    /// lists them all).
    pub kind: String,
    /// An English sentence for logs; show a message keyed by `kind`.
    pub message: String,
}

fn warnings(w: &[SyncWarning]) -> Vec<SyncWarningView> {
    w.iter()
        .map(|w| SyncWarningView {
            kind: w.kind().to_owned(),
            message: w.to_string(),
        })
        .collect()
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncResult {
    /// Changes that came from other devices.
    pub changes: Vec<SyncChange>,
    /// Conflicts found in this sync (kept for review).
    pub new_conflicts: Vec<SyncConflict>,
    /// Edits of this device sent now.
    pub local_changes: u32,
    /// Bytes of the snapshot written (`None`: nothing was written).
    pub written_bytes: Option<u64>,
    /// What this sync noticed and refused (empty: nothing).
    pub warnings: Vec<SyncWarningView>,
    /// This device's generation after the sync.
    pub generation: u64,
}

fn result(r: SyncReport) -> SyncResult {
    SyncResult {
        changes: r
            .changes
            .iter()
            .map(|c| {
                let (kind, fields) = match &c.change {
                    Change::Added => ("added", vec![]),
                    Change::Edited(f) => ("edited", f.iter().map(|s| (*s).to_owned()).collect()),
                    Change::Trashed => ("trashed", vec![]),
                    Change::Restored => ("restored", vec![]),
                    Change::Removed => ("removed", vec![]),
                };
                SyncChange {
                    entry_id: EntryId(c.id),
                    label: c.label.clone(),
                    kind: kind.into(),
                    fields,
                }
            })
            .collect(),
        new_conflicts: r.new_conflicts.iter().map(conflict).collect(),
        local_changes: r.local_changes as u32,
        written_bytes: r.written.map(|w| w.1),
        warnings: warnings(&r.warnings),
        generation: r.generation,
    }
}

/// A conflict kept for review (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncConflict {
    /// The entry the conflict is on (a UUID).
    pub entry_id: EntryId,
    /// The entry's name.
    pub label: String,
    /// "note", "issuer", "secret and code settings", …
    pub field: String,
    /// The value shown now (the winner), for display.
    pub shown: String,
    /// Name of the device that wrote the shown value.
    pub shown_by: String,
    /// When the shown value was written (its writer's clock, ms since the epoch).
    pub shown_at: i64,
    /// The value kept for review.
    pub other: String,
    /// Name of the device that wrote the other value.
    pub other_by: String,
    /// When the other value was written (its writer's clock, ms since the epoch).
    pub other_at: i64,
    /// For a secret: the entry holding the other one.
    pub other_entry_id: Option<EntryId>,
    /// `Some(true)`: this device wrote the value shown; `Some(false)`: the other one.
    pub mine_is_shown: Option<bool>,
}

fn conflict(c: &ConflictView) -> SyncConflict {
    SyncConflict {
        entry_id: EntryId(c.entry),
        label: c.label.clone(),
        field: c.field.name().to_owned(),
        shown: c.shown.clone(),
        shown_by: c.shown_by.clone(),
        shown_at: c.shown_at,
        other: c.other.clone(),
        other_by: c.other_by.clone(),
        other_at: c.other_at,
        other_entry_id: c.other_entry.map(EntryId),
        mine_is_shown: c.mine_is_shown,
    }
}

/// A device of the group.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncDevice {
    /// The name the device was given when it set up or joined the group.
    pub name: String,
    /// 16 hex digits (as in the device's file names).
    pub tag: String,
    /// It is the device this vault is on.
    pub this_device: bool,
    /// It is in the group and not revoked.
    pub active: bool,
    /// It was removed from the group; its later files are refused.
    pub revoked: bool,
    /// Its files are ignored: one of its generations was seen with two different contents (a
    /// cloned or restored device).
    pub quarantined: bool,
    /// The last generation this device accepted from it; null when none yet.
    pub generation: Option<u64>,
    /// When it wrote that generation (its clock, ms since the epoch); null when none yet.
    pub last_update: Option<i64>,
    /// When this device first read that generation (ms since the epoch); null when none yet.
    pub last_seen: Option<i64>,
    /// Name of the member that added it (its own name for the device that set up the group).
    pub added_by: String,
    /// When it was added (the adding member's clock, ms since the epoch).
    pub added_at: i64,
}

fn device(d: DeviceView) -> SyncDevice {
    SyncDevice {
        name: d.name,
        tag: d.tag,
        this_device: d.this_device,
        active: d.active,
        revoked: d.revoked,
        quarantined: d.quarantined,
        generation: d.generation,
        last_update: d.last_update,
        last_seen: d.last_seen,
        added_by: d.added_by,
        added_at: d.added_at,
    }
}

/// This device's membership.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatusView {
    /// The group's id: 32 hex digits.
    pub group: String,
    /// This device's name in the group.
    pub device_name: String,
    /// The sync location, for display (never a password).
    pub storage: String,
    /// The last generation this device reserved.
    pub generation: u64,
    /// When this device last completed a sync (ms since the epoch); null if never.
    pub last_sync: Option<i64>,
    /// Every device of the group, this one included, revoked ones too.
    pub devices: Vec<SyncDevice>,
    /// Conflicts kept for review and not yet resolved.
    pub open_conflicts: u32,
    /// What the last sync noticed (empty: nothing).
    pub warnings: Vec<SyncWarningView>,
    /// This device was removed from the group and no longer syncs.
    pub revoked: bool,
    /// Joined, waiting for the member that invited this device to confirm and sync: it
    /// reads but writes nothing yet.
    pub awaiting_admission: bool,
}

fn status(s: SyncStatus) -> SyncStatusView {
    SyncStatusView {
        group: s.group,
        device_name: s.device_name,
        storage: s.storage,
        generation: s.generation,
        last_sync: s.last_sync,
        devices: s.devices.into_iter().map(device).collect(),
        open_conflicts: s.open_conflicts as u32,
        warnings: warnings(&s.warnings),
        revoked: s.revoked,
        awaiting_admission: s.awaiting_admission,
    }
}

/// Which side of a conflict to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncKeep {
    /// This device's value (the value shown here when neither side was written here).
    Mine,
    /// The other value.
    Theirs,
    /// Both: the other value as a second entry (for a secret, both entries stay).
    Both,
}

/// The sync group of one unlocked vault. `storage` is the app's folder, needed when the
/// group's files are in a place only the app opens (`SyncLocation::App`); WebDAV and folder
/// paths are opened by the core.
#[derive(uniffi::Object)]
pub struct SyncGroup {
    vault: Arc<VaultSession>,
    app_storage: Option<Arc<dyn SyncStorage>>,
    /// One sync at a time per group (background work and a button press may overlap).
    running: Mutex<()>,
}

impl SyncGroup {
    fn storage(&self) -> Result<Box<dyn sync::SyncStorage>> {
        let state = sync::state_of(&self.vault.inner)?;
        self.storage_for(&state.storage)
    }

    fn storage_for(&self, config: &StorageConfig) -> Result<Box<dyn sync::SyncStorage>> {
        match (config, &self.app_storage) {
            (StorageConfig::App { .. }, Some(app)) => Ok(Box::new(Foreign(app.clone()))),
            (StorageConfig::App { label }, None) => Err(TwofoldError::SyncRefused {
                details: format!("the sync folder ({label}) needs the app's storage"),
            }),
            (other, _) => Ok(sync::open_storage(other)?),
        }
    }
}

#[uniffi::export]
impl SyncGroup {
    /// The sync group of `vault`; `storage` is the app's folder (null when the group's files are
    /// on WebDAV or a plain folder, or to set one up there).
    #[uniffi::constructor]
    pub fn new(vault: Arc<VaultSession>, storage: Option<Arc<dyn SyncStorage>>) -> Arc<Self> {
        Arc::new(SyncGroup {
            vault,
            app_storage: storage,
            running: Mutex::new(()),
        })
    }

    /// Whether the vault is in a sync group.
    pub fn is_set_up(&self) -> Result<bool> {
        Ok(sync::is_member(&self.vault.inner)?)
    }

    /// Makes this vault the first device of a new group at `location`, named `device_name`;
    /// writes its first snapshot. For WebDAV the collection is created if needed.
    pub fn setup(&self, location: SyncLocation, device_name: String) -> Result<SyncResult> {
        let config = config(location)?;
        if let StorageConfig::WebDav {
            url,
            user,
            password,
        } = &config
        {
            let dav = sync::webdav::WebDavStorage::new(url, user.clone(), password.clone())?;
            dav.ensure_collection().map_err(SyncError::from)?;
        }
        let storage = self.storage_for(&config)?;
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        Ok(result(sync::setup(
            &self.vault.inner,
            config,
            storage.as_ref(),
            &device_name,
        )?))
    }

    /// Reads every device's latest state, merges, writes this device's. Call at start, on
    /// return to the foreground, a few seconds after a change, and from background work.
    pub fn sync_now(&self) -> Result<SyncResult> {
        let storage = self.storage()?;
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        Ok(result(sync::sync(&self.vault.inner, storage.as_ref())?))
    }

    /// This device's membership: group, devices, last sync, open conflicts and warnings.
    pub fn status(&self) -> Result<SyncStatusView> {
        Ok(status(sync::status(&self.vault.inner)?))
    }

    /// Conflicts kept for review and not yet resolved (never a secret).
    pub fn conflicts(&self) -> Result<Vec<SyncConflict>> {
        Ok(sync::conflicts(&self.vault.inner)?
            .iter()
            .map(conflict)
            .collect())
    }

    /// Keeps one side of every open conflict of the entry (or both); then sync.
    pub fn resolve(&self, entry_id: EntryId, keep: SyncKeep) -> Result<u32> {
        let keep = match keep {
            SyncKeep::Mine => Keep::Mine,
            SyncKeep::Theirs => Keep::Theirs,
            SyncKeep::Both => Keep::Both,
        };
        Ok(sync::resolve(&self.vault.inner, entry_id.0, keep)? as u32)
    }

    /// Every device of the group, this one included, revoked ones too.
    pub fn devices(&self) -> Result<Vec<SyncDevice>> {
        Ok(sync::devices(&self.vault.inner)?
            .into_iter()
            .map(device)
            .collect())
    }

    /// Removes a device (by name or tag): it reads nothing written afterwards and its later
    /// files are refused; it keeps what it had. Then sync.
    pub fn revoke(&self, device_name_or_tag: String) -> Result<SyncDevice> {
        Ok(device(sync::revoke(
            &self.vault.inner,
            &device_name_or_tag,
        )?))
    }

    /// Stops syncing this vault (its accounts stay).
    pub fn leave(&self) -> Result<()> {
        Ok(sync::leave(&self.vault.inner)?)
    }
}

/// The new device's side of a join: its invite (show as a QR code), the member's frames,
/// the reply to show back, the code to compare, and `accept_into` once the codes match.
#[derive(uniffi::Object)]
pub struct SyncJoiner {
    inner: Mutex<Option<Joiner>>,
}

impl SyncJoiner {
    fn with<T>(&self, f: impl FnOnce(&mut Joiner) -> Result<T>) -> Result<T> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let joiner = guard.as_mut().ok_or_else(|| {
            TwofoldError::input(
                crate::error::InputProblem::TransferState,
                "this join was already accepted",
            )
        })?;
        f(joiner)
    }
}

/// What the group the new device is about to join holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncJoinPreview {
    /// Names of the group's members.
    pub devices: Vec<String>,
    /// Name of the member that sent the group's data.
    pub inviter: String,
    /// The sync location, for display (never a password).
    pub storage: String,
    /// Whether the member shared the WebDAV credentials.
    pub with_credentials: bool,
}

fn preview(p: join::JoinPreview) -> SyncJoinPreview {
    SyncJoinPreview {
        devices: p.devices,
        inviter: p.inviter,
        storage: p.storage,
        with_credentials: p.with_credentials,
    }
}

#[uniffi::export]
impl SyncJoiner {
    /// A join session for this device, named `device_name`, valid `ttl_seconds` (≤ 600).
    #[uniffi::constructor]
    pub fn new(device_name: String, now_seconds: u64, ttl_seconds: u64) -> Result<Arc<Self>> {
        let joiner = Joiner::new(
            &device_name,
            now_seconds,
            ttl_seconds,
            None,
            &SystemRandom::new(),
        )?;
        Ok(Arc::new(SyncJoiner {
            inner: Mutex::new(Some(joiner)),
        }))
    }

    /// `OTPX2J…`: show as a QR code (level MEDIUM) for a member to scan.
    pub fn invite_text(&self) -> Result<String> {
        self.with(|j| Ok(j.invite_text()))
    }

    /// One scanned frame of the member's stream.
    pub fn receive_frame(&self, text: String, now_seconds: u64) -> Result<TransferProgress> {
        self.with(|j| Ok(j.receiver().receive_frame(&text, now_seconds)?.into()))
    }

    /// The reply to show the member (once the group's data arrived).
    pub fn reply_text(&self) -> Result<Option<String>> {
        self.with(|j| Ok(j.receiver().reply().map(|r| r.to_text())))
    }

    /// The 6-digit code to compare with the member's screen.
    pub fn confirmation_code(&self) -> Result<Option<String>> {
        self.with(|j| Ok(j.receiver().confirmation_code()))
    }

    /// What the group holds, once the group's data arrived; null before.
    pub fn preview(&self) -> Result<Option<SyncJoinPreview>> {
        self.with(|j| Ok(j.preview().map(preview)))
    }

    /// The user confirmed the codes match: `vault` joins the group. `location` replaces the
    /// bundle's (the app's own folder for `SyncLocation::App`, or WebDAV with the password
    /// typed here); `None` keeps it. Sync right after.
    pub fn accept_into(
        &self,
        vault: Arc<VaultSession>,
        location: Option<SyncLocation>,
    ) -> Result<SyncJoinPreview> {
        let joiner = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| {
                TwofoldError::input(
                    crate::error::InputProblem::TransferState,
                    "this join was already accepted",
                )
            })?;
        let location = location.map(config).transpose()?;
        Ok(preview(joiner.accept(&vault.inner, location)?))
    }

    /// The codes differ (or the user cancelled): forget everything received.
    pub fn reject(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A member's side: invites the device of a scanned join invite and shows the sealed group
/// data as frames; reads the new device's reply and only then has a code. The device is
/// added only by `confirm` (the user saw the same code on both), and `cancel` drops it.
#[derive(uniffi::Object)]
pub struct SyncInviter {
    group: Arc<SyncGroup>,
    sender: Mutex<transfer::TransferSender>,
    device_name: String,
    device_key: [u8; 32],
}

#[uniffi::export]
impl SyncInviter {
    /// Records the invite's device as waiting to be added (in `group`'s vault; nothing is
    /// published) and seals the group's data for it, without any group key; WebDAV
    /// credentials only when `share_credentials`. Re-authenticate the user first.
    #[uniffi::constructor]
    pub fn new(
        group: Arc<SyncGroup>,
        invite_text: String,
        share_credentials: bool,
        now_seconds: u64,
    ) -> Result<Arc<Self>> {
        let invite = JoinInvite::parse(&invite_text, now_seconds)?;
        let frame_bytes =
            frames::bytes_for_qr(frames::DEFAULT_QR_VERSION, frames::DEFAULT_EC_LEVEL);
        let (sender, device) = join::invite_device(
            &group.vault.inner,
            invite,
            share_credentials,
            frame_bytes,
            &SystemRandom::new(),
        )?;
        Ok(Arc::new(SyncInviter {
            group,
            sender: Mutex::new(sender),
            device_name: device.name,
            device_key: device.key,
        }))
    }

    /// The new device's name, to show.
    pub fn device_name(&self) -> String {
        self.device_name.clone()
    }

    /// Frame `n` of the endless stream, as text to show as a QR code (source frames first, then
    /// repair frames).
    pub fn frame(&self, n: u64) -> String {
        self.sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .frame(n)
    }

    /// Frames the new device needs at least (the source frames).
    pub fn source_frames(&self) -> u64 {
        self.sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .source_frames() as u64
    }

    /// The new device's reply: returns the code to compare. Then `confirm` if the new device
    /// shows the same code, `cancel` if not.
    pub fn accept_reply(&self, reply_text: String, now_seconds: u64) -> Result<String> {
        let reply = Reply::parse(&reply_text)?;
        Ok(self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .accept_reply(&reply, now_seconds)?)
    }

    /// The user saw the same code on both devices: the device is added (a signed add and a
    /// new group key wrapped to it, in this vault). Sync afterwards to publish it; the new
    /// device becomes a member when it reads that. Refused before `accept_reply`, and once
    /// the invite has expired.
    pub fn confirm(&self) -> Result<()> {
        let code = self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .confirmation_code();
        if code.is_none() {
            return Err(TwofoldError::SyncRefused {
                details: "read the new device's reply and compare the codes first".into(),
            });
        }
        join::confirm_device(
            &self.group.vault.inner,
            &self.device_key,
            &SystemRandom::new(),
        )?;
        Ok(())
    }

    /// The codes differ, or the user gave up: the device is not added, and nothing of the
    /// invitation stays.
    pub fn cancel(&self) -> Result<()> {
        Ok(join::cancel_device(
            &self.group.vault.inner,
            &self.device_key,
        )?)
    }
}
