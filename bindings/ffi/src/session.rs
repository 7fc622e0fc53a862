//! `VaultSession`: the apps' handle on one vault. Thread-safe; every call may block (KDF,
//! storage), so the apps call it off the main thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use twofold_core::Secret;
use twofold_core::backup::{self, BackupCredential, BackupOptions};
use twofold_core::uri;
use twofold_core::vault::{
    self, CreateOptions, EntryUpdate, IconRef, NewEntry, OsFileSystem, RecoveryKey,
};
use zeroize::{Zeroize, Zeroizing};

use crate::convert::*;
use crate::error::{Result, TwofoldError};
use crate::trust::{ForeignTrust, TrustStore};

/// One vault file, locked or unlocked; every method may be called from any thread and may block.
#[derive(uniffi::Object)]
pub struct VaultSession {
    pub(crate) inner: vault::VaultSession,
    /// The recovery key of a vault just created, handed out once.
    pending_recovery_key: Mutex<Option<RecoveryKey>>,
}

fn zeroizing(mut bytes: Vec<u8>) -> Zeroizing<Vec<u8>> {
    let out = Zeroizing::new(bytes.clone());
    bytes.zeroize();
    out
}

/// The session environment with the app's trust store.
fn env(trust: Arc<dyn TrustStore>) -> vault::VaultEnv {
    vault::VaultEnv {
        trust: Some(Arc::new(ForeignTrust(trust))),
        ..vault::VaultEnv::default()
    }
}

fn group_ids(ids: &[GroupId]) -> Vec<vault::GroupId> {
    ids.iter().map(|g| g.0).collect()
}

fn new_entry(mut input: EntryInput) -> Result<NewEntry> {
    let text = crate::convert::secret_text(std::mem::take(&mut input.secret))?;
    let secret = Secret::from_base32(&text).map_err(|e| {
        TwofoldError::input(crate::error::InputProblem::Secret, format!("secret: {e}"))
    })?;
    Ok(NewEntry {
        kind: input.params.kind()?,
        secret,
        issuer: input.issuer,
        account: input.account,
        note: input.note,
        groups: group_ids(&input.group_ids)
            .into_iter()
            .map(vault::GroupRef::Id)
            .collect(),
        favorite: input.favorite,
        icon: input.icon.filter(|i| !i.is_empty()).map(IconRef),
        recovery_codes: Vec::new(),
    })
}

impl VaultSession {
    fn wrap(inner: vault::VaultSession, recovery: Option<RecoveryKey>) -> Arc<Self> {
        Arc::new(VaultSession {
            inner,
            pending_recovery_key: Mutex::new(recovery),
        })
    }

    pub(crate) fn backup_key<'a>(
        key: &'a BackupKey,
        parsed: &'a mut Option<RecoveryKey>,
    ) -> Result<BackupCredential<'a>> {
        Ok(match key {
            BackupKey::Password { password } => BackupCredential::Password(password),
            BackupKey::RecoveryKey { key } => {
                *parsed =
                    Some(
                        RecoveryKey::parse(key).map_err(|e| TwofoldError::RecoveryKeyTypo {
                            details: e.to_string(),
                        })?,
                    );
                BackupCredential::RecoveryKey(parsed.as_ref().expect("just set"))
            }
        })
    }
}

#[uniffi::export]
impl VaultSession {
    /// Creates a vault (password slot + recovery slot) and returns it unlocked. The recovery
    /// key is available once through `take_recovery_key`. `trust` is where the app keeps the
    /// device's record of the vault (see `TrustStore`).
    #[uniffi::constructor]
    pub fn create(
        path: String,
        password: Vec<u8>,
        kdf: KdfSettings,
        trust: Arc<dyn TrustStore>,
    ) -> Result<Arc<Self>> {
        let password = zeroizing(password);
        let (inner, recovery) = vault::VaultSession::create_in(
            Path::new(&path),
            CreateOptions {
                password: &password,
                kdf: kdf.into(),
            },
            env(trust),
        )?;
        Ok(Self::wrap(inner, Some(recovery)))
    }

    /// Opens an existing vault, locked. `trust` is where the app keeps the device's record of
    /// the vault: files older than it, or not written with keys descending from it, are
    /// refused, and wrong PINs are counted there.
    #[uniffi::constructor]
    pub fn open(path: String, trust: Arc<dyn TrustStore>) -> Result<Arc<Self>> {
        Ok(Self::wrap(
            vault::VaultSession::open_in(Path::new(&path), env(trust))?,
            None,
        ))
    }

    /// The recovery key of a vault created by this session, exactly once; afterwards `None`.
    pub fn take_recovery_key(&self) -> Option<String> {
        let key = self
            .pending_recovery_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        key.map(|k| k.reveal().to_string())
    }

    /// The vault file's path, as given to `create` or `open`.
    pub fn path(&self) -> String {
        self.inner.path().display().to_string()
    }

    /// Whether the vault is unlocked (false after `lock`).
    pub fn is_unlocked(&self) -> bool {
        self.inner.is_unlocked()
    }

    /// Key slots; available while locked (the platform-key pull API reads blobs here).
    pub fn slots(&self) -> Result<Vec<SlotView>> {
        Ok(self.inner.slots()?.iter().map(Into::into).collect())
    }

    /// Unlocks with the password (UTF-8 bytes, wiped after the call).
    pub fn unlock_with_password(&self, password: Vec<u8>) -> Result<UnlockResult> {
        let password = zeroizing(password);
        Ok(self.inner.unlock_with_password(&password)?.into())
    }

    /// Opens a file the device would refuse (`VaultRolledBack`, `VaultForged`, `Unverified`)
    /// because the user said it is theirs; it is rewritten under fresh keys. Password only.
    pub fn unlock_with_password_accepting_untrusted(
        &self,
        password: Vec<u8>,
    ) -> Result<UnlockResult> {
        let password = zeroizing(password);
        Ok(self
            .inner
            .unlock_with_password_accepting_untrusted(&password)?
            .into())
    }

    /// Unlocks with the printable recovery key as typed; a typo is `RecoveryKeyTypo`.
    pub fn unlock_with_recovery_key(&self, recovery_key: String) -> Result<UnlockResult> {
        let key = Zeroizing::new(recovery_key);
        Ok(self.inner.unlock_with_recovery_key(&key)?.into())
    }

    /// Checks a typed recovery key against the vault (unlocked); a slot carried over from
    /// format 1 vouches for the vault from then on.
    pub fn confirm_recovery_key(&self, recovery_key: String) -> Result<()> {
        let text = Zeroizing::new(recovery_key);
        let key = RecoveryKey::parse(&text).map_err(|e| TwofoldError::RecoveryKeyTypo {
            details: e.to_string(),
        })?;
        Ok(self.inner.confirm_recovery_key(&key)?)
    }

    /// Wrong PINs in a row for a PIN slot (at 5 the slot is locked).
    pub fn pin_failures(&self, slot_id: SlotId) -> Result<u32> {
        Ok(self.inner.pin_failures(slot_id.0)?)
    }

    /// Second half of the pull API: the app unwrapped the slot's key with its keystore.
    pub fn unlock_with_platform_key(&self, slot_id: SlotId, key: Vec<u8>) -> Result<UnlockResult> {
        let key = key32(&zeroizing(key))?;
        Ok(self.inner.unlock_with_platform_key(slot_id.0, &key)?.into())
    }

    /// Unlocks with a PIN and the 32-byte device key the app unwrapped from its keystore; after 5
    /// wrong PINs in a row it is `PinLocked` without trying.
    pub fn unlock_with_pin(
        &self,
        slot_id: SlotId,
        pin: Vec<u8>,
        device_key: Vec<u8>,
    ) -> Result<UnlockResult> {
        let pin = zeroizing(pin);
        let device_key = key32(&zeroizing(device_key))?;
        Ok(self
            .inner
            .unlock_with_pin(slot_id.0, &pin, &device_key)?
            .into())
    }

    /// Zeroizes the master key and every decrypted entry.
    pub fn lock(&self) {
        self.inner.lock()
    }

    // ----- slots -----

    /// Adds a platform (biometric) slot from a key made by `generate_platform_key` and the
    /// blob the app's keystore produced by wrapping it. Returns the slot id.
    pub fn add_platform_slot(
        &self,
        alias: String,
        label: String,
        key: Vec<u8>,
        wrapped_blob: Vec<u8>,
    ) -> Result<SlotId> {
        let key = key32(&zeroizing(key))?;
        Ok(SlotId(self.inner.add_platform_slot(
            &alias,
            &label,
            &key,
            wrapped_blob,
        )?))
    }

    /// Adds a device-bound PIN slot (the PIN alone never opens it).
    pub fn add_pin_slot(
        &self,
        alias: String,
        pin: Vec<u8>,
        device_key: Vec<u8>,
        wrapped_blob: Vec<u8>,
        kdf: KdfSettings,
    ) -> Result<SlotId> {
        let pin = zeroizing(pin);
        let device_key = key32(&zeroizing(device_key))?;
        Ok(SlotId(self.inner.add_pin_slot(
            &alias,
            &pin,
            &device_key,
            wrapped_blob,
            kdf.into(),
        )?))
    }

    /// Biometric re-enrollment in one commit: the new platform slot replaces the old one.
    /// Delete the old hardware key only after this returns; if it fails, the old slot still
    /// works. Returns the new slot id.
    pub fn replace_platform_slot(
        &self,
        old_slot_id: SlotId,
        alias: String,
        label: String,
        key: Vec<u8>,
        wrapped_blob: Vec<u8>,
    ) -> Result<SlotId> {
        let key = key32(&zeroizing(key))?;
        Ok(SlotId(self.inner.replace_platform_slot(
            old_slot_id.0,
            &alias,
            &label,
            &key,
            wrapped_blob,
        )?))
    }

    /// Removes a slot; the keys rotate, so its credential opens nothing written afterwards.
    pub fn remove_slot(&self, slot_id: SlotId) -> Result<()> {
        Ok(self.inner.remove_slot(slot_id.0)?)
    }

    /// New password; rotates the master key, keeps the other slots working.
    pub fn change_password(&self, new_password: Vec<u8>, kdf: KdfSettings) -> Result<()> {
        let password = zeroizing(new_password);
        Ok(self.inner.change_password(&password, kdf.into())?)
    }

    /// Replaces the recovery key; returns the new one (show it once).
    pub fn rotate_recovery_key(&self) -> Result<String> {
        Ok(self.inner.rotate_recovery_key()?.reveal().to_string())
    }

    // ----- entries and groups -----

    /// Live entries in the user's order.
    pub fn entries(&self) -> Result<Vec<EntryView>> {
        Ok(self.inner.entries()?.iter().map(Into::into).collect())
    }

    /// One entry, live or in the trash.
    pub fn entry(&self, id: EntryId) -> Result<EntryView> {
        Ok((&self.inner.entry(id.0)?).into())
    }

    /// Entries in the trash, most recently deleted first.
    pub fn trash(&self) -> Result<Vec<EntryView>> {
        Ok(self.inner.trash()?.iter().map(Into::into).collect())
    }

    /// Live entries matching every word of `query` (issuer, account, note, group; case and
    /// accents ignored).
    pub fn search(&self, query: String) -> Result<Vec<EntryView>> {
        Ok(self.inner.search(&query)?.iter().map(Into::into).collect())
    }

    /// Adds an account; the same secret and kind already in the vault is `Duplicate` unless
    /// `allow_duplicate`.
    pub fn add_entry(&self, input: EntryInput, allow_duplicate: bool) -> Result<EntryView> {
        Ok((&self.inner.add_entry(new_entry(input)?, allow_duplicate)?).into())
    }

    /// An otpauth URI as UTF-8 bytes (it holds the secret; the facades wipe their copy).
    pub fn add_entry_from_uri(&self, uri: Vec<u8>, allow_duplicate: bool) -> Result<EntryView> {
        let uri = crate::convert::secret_text(uri)?;
        let entry = NewEntry::from_credential(uri::parse(&uri)?);
        Ok((&self.inner.add_entry(entry, allow_duplicate)?).into())
    }

    /// Changes an entry's names, parameters, groups, favourite or icon; returns it as saved.
    pub fn update_entry(&self, id: EntryId, changes: EntryChanges) -> Result<EntryView> {
        let update = EntryUpdate {
            issuer: changes.issuer,
            account: changes.account,
            note: changes.note,
            kind: changes.params.map(|p| p.kind()).transpose()?,
            group_ids: changes.group_ids.as_deref().map(group_ids),
            favorite: changes.favorite,
            icon: changes
                .icon
                .map(|i| if i.is_empty() { None } else { Some(IconRef(i)) }),
        };
        Ok((&self.inner.update_entry(id.0, update)?).into())
    }

    /// To the trash.
    pub fn delete_entry(&self, id: EntryId) -> Result<()> {
        Ok(self.inner.delete_entry(id.0)?)
    }

    /// Takes an entry out of the trash.
    pub fn restore_entry(&self, id: EntryId) -> Result<()> {
        Ok(self.inner.restore_entry(id.0)?)
    }

    /// Deletes a trashed entry for good.
    pub fn purge_entry(&self, id: EntryId) -> Result<()> {
        Ok(self.inner.purge_entry(id.0)?)
    }

    /// Empties the trash; returns how many entries were deleted for good.
    pub fn empty_trash(&self) -> Result<u64> {
        Ok(self.inner.empty_trash()? as u64)
    }

    /// The listed entries first, in this order.
    pub fn reorder(&self, ids: Vec<EntryId>) -> Result<()> {
        let ids = ids.iter().map(|i| i.0).collect::<Vec<_>>();
        Ok(self.inner.reorder(&ids)?)
    }

    /// The groups in the user's order.
    pub fn groups(&self) -> Result<Vec<GroupView>> {
        Ok(self.inner.groups()?.iter().map(Into::into).collect())
    }

    /// A new group after the others (the name is trimmed and must not be empty).
    pub fn add_group(&self, name: String) -> Result<GroupView> {
        Ok((&self.inner.add_group(&name)?).into())
    }

    /// Renames a group (the name is trimmed and must not be empty).
    pub fn rename_group(&self, id: GroupId, name: String) -> Result<()> {
        Ok(self.inner.rename_group(id.0, &name)?)
    }

    /// Deletes a group; its entries stay, without the group.
    pub fn delete_group(&self, id: GroupId) -> Result<()> {
        Ok(self.inner.delete_group(id.0)?)
    }

    // ----- codes and time -----

    /// Codes of every live entry at `unix_ms`, corrected by the stored clock offset.
    pub fn codes_at(&self, unix_ms: i64) -> Result<Vec<CodeView>> {
        Ok(self
            .inner
            .codes_at(unix_ms)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Advances the HOTP counter (saved before returning) and returns the code.
    pub fn next_hotp(&self, id: EntryId) -> Result<String> {
        Ok(self.inner.next_hotp(id.0)?)
    }

    /// The user copied or used a code.
    pub fn record_use(&self, id: EntryId) -> Result<()> {
        Ok(self.inner.record_use(id.0)?)
    }

    /// Seconds added to this device's clock when computing codes.
    pub fn clock_offset(&self) -> Result<i64> {
        Ok(self.inner.clock_offset()?)
    }

    /// Sets the clock offset in seconds (at most a year either way).
    pub fn set_clock_offset(&self, seconds: i64) -> Result<()> {
        Ok(self.inner.set_clock_offset(seconds)?)
    }

    /// A trusted time sample (e.g. an HTTPS `Date` header read at local time `local_ms`).
    pub fn record_time_sample(&self, local_ms: i64, trusted_ms: i64) -> Result<ClockStatus> {
        let (offset_seconds, warn) = self.inner.record_time_sample(local_ms, trusted_ms)?;
        Ok(ClockStatus {
            offset_seconds,
            warn,
        })
    }

    // ----- explicit exports -----

    /// The otpauth URI of one entry, secret included; recorded in the exposure ledger as
    /// shown (`export_entry_uri_as` says whether as text or a QR code). An explicit export:
    /// re-authenticate the user before calling it.
    pub fn export_entry_uri(&self, id: EntryId) -> Result<Vec<u8>> {
        Ok(crate::convert::secret_bytes(
            self.inner
                .reveal_uri(id.0, vault::care::ExposureWay::UriShown)?,
        ))
    }

    // ----- backups -----

    /// Writes an encrypted backup to `path`, reads it back and compares it with the vault.
    /// `password` seals it (Argon2id 256 MiB); `seal_to_recovery_key` lets the recovery key
    /// open it too.
    pub fn create_backup(
        &self,
        path: String,
        password: Option<Vec<u8>>,
        seal_to_recovery_key: bool,
    ) -> Result<BackupResult> {
        let password = password.map(zeroizing);
        let options = BackupOptions::sealed(
            password.as_deref().map(|p| p.as_slice()),
            seal_to_recovery_key,
        );
        Ok(BackupResult::new(
            backup::create_backup(&self.inner, Path::new(&path), &options)?,
            vec![],
        ))
    }

    /// A timestamped backup in `directory`, keeping the newest `keep` automatic backups
    /// (older ones are removed only after the new one verified).
    pub fn auto_backup(
        &self,
        directory: String,
        password: Option<Vec<u8>>,
        keep: u32,
    ) -> Result<BackupResult> {
        let password = password.map(zeroizing);
        let options = BackupOptions::sealed(password.as_deref().map(|p| p.as_slice()), true);
        let r = backup::auto_backup(
            &self.inner,
            &PathBuf::from(directory),
            &options,
            keep as usize,
        )?;
        Ok(BackupResult::new(r.created, r.deleted))
    }

    /// Opens a backup and reports its contents; when this session is unlocked, also how it
    /// differs from the vault.
    pub fn verify_backup(&self, path: String, key: BackupKey) -> Result<BackupCheck> {
        let mut parsed = None;
        let credential = Self::backup_key(&key, &mut parsed)?;
        let current = self.inner.read(|c| c.clone()).ok();
        Ok(backup::verify_backup(
            &OsFileSystem,
            Path::new(&path),
            &credential,
            current.as_ref(),
        )?
        .into())
    }

    /// Restores a backup. An unauthenticated backup (made by Twofold 0.1, or opened by a
    /// recovery key not confirmed since the upgrade) is `Unverified` unless
    /// `accept_unverified` (the user said it is theirs).
    pub fn restore_backup(
        &self,
        path: String,
        key: BackupKey,
        mode: RestoreMode,
        accept_unverified: bool,
    ) -> Result<RestoreResult> {
        let mut parsed = None;
        let credential = Self::backup_key(&key, &mut parsed)?;
        let mode = match mode {
            RestoreMode::Merge => backup::RestoreMode::Merge,
            RestoreMode::Replace => backup::RestoreMode::Replace,
        };
        Ok(backup::restore_backup(
            &self.inner,
            Path::new(&path),
            &credential,
            mode,
            accept_unverified,
        )?
        .into())
    }
}

/// A sealed backup waiting to be written by the app (Storage Access Framework, iCloud Drive)
/// and confirmed from what the provider returns when read back.
#[derive(uniffi::Object)]
pub struct PendingBackup {
    inner: backup::PreparedBackup,
    /// The session it was made from: a confirmed backup is recorded there as verified.
    session: Arc<VaultSession>,
    made_at: i64,
}

#[uniffi::export]
impl PendingBackup {
    /// The file to write.
    pub fn bytes(&self) -> Vec<u8> {
        self.inner.bytes().to_vec()
    }

    /// Confirms the backup from the bytes read back from where it was written; `name` is
    /// only reported back. Fails (`VaultCorrupt`) unless they are exactly what was written and
    /// decrypt to the vault's content.
    pub fn confirm(&self, read_back: Vec<u8>, name: String) -> Result<BackupResult> {
        let report = self.inner.confirm(&read_back, Path::new(&name))?;
        // The checkup's newest verified backup; the backup is made whether or not the vault
        // can record it (see `backup::create_backup`).
        let _ = self.session.inner.record_verified_backup(
            self.made_at,
            report.entry_count,
            vault::care::BackupCheck::Created,
        );
        Ok(BackupResult::new(report, vec![]))
    }
}

/// The name for an automatic backup made at `unix_ms` (`twofold-YYYYMMDD-HHMMSS.twfb`, UTC),
/// for apps that write backups into a document-provider folder themselves.
#[uniffi::export]
pub fn auto_backup_name(unix_ms: i64) -> String {
    backup::auto_backup_name(unix_ms)
}

/// Which automatic backups in a folder listing to delete so the newest `keep` remain;
/// `newest` (the one just confirmed) is never among them and other files are never named.
#[uniffi::export]
pub fn auto_backups_to_delete(names: Vec<String>, keep: u32, newest: String) -> Vec<String> {
    backup::folder::auto_backup_names_to_delete(&names, keep as usize, &newest)
}

#[uniffi::export]
impl VaultSession {
    /// Seals a backup in memory for the app to write itself (document providers). Only a
    /// backup confirmed with `PendingBackup.confirm` counts as made.
    pub fn prepare_backup(
        self: Arc<Self>,
        password: Option<Vec<u8>>,
        seal_to_recovery_key: bool,
    ) -> Result<Arc<PendingBackup>> {
        let password = password.map(zeroizing);
        let options = BackupOptions::sealed(
            password.as_deref().map(|p| p.as_slice()),
            seal_to_recovery_key,
        );
        let made_at = (self.inner.env().clock)();
        Ok(Arc::new(PendingBackup {
            inner: backup::PreparedBackup::new(&self.inner, &options)?,
            session: self.clone(),
            made_at,
        }))
    }

    /// `verify_backup` for bytes the app read from a document provider.
    pub fn verify_backup_bytes(&self, bytes: Vec<u8>, key: BackupKey) -> Result<BackupCheck> {
        let mut parsed = None;
        let credential = Self::backup_key(&key, &mut parsed)?;
        let current = self.inner.read(|c| c.clone()).ok();
        Ok(backup::verify_backup_bytes(&bytes, &credential, current.as_ref())?.into())
    }
}
