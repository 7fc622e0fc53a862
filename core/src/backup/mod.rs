//! Encrypted backups (`TWFB`): the vault container format sealed under a backup password
//! (heavier Argon2id) and/or the vault's recovery key. A backup is reported as made only
//! after it was read back from storage, decrypted and compared with the vault.
//! `docs/backup-format.md` is the normative description.

use std::path::{Path, PathBuf};

pub mod folder;

use crate::crypto::{self, KdfParams, Key32};
use crate::vault::care::{BackupCheck, DrillCredential, DrillRecord};
use crate::vault::container::{self, AnyParsed, BACKUP_MAGIC, Header, SlotKind};
use crate::vault::model::{Entry, EntryId, VaultContent};
use crate::vault::recovery::RecoveryKey;
use crate::vault::slots::{self, NewSlot, SlotCredential, SlotSecrets};
use crate::vault::storage::{self, FileSystem};
use crate::vault::{InputError, VaultError, VaultSession};

/// File extension of backups.
pub const EXTENSION: &str = "twfb";
/// Prefix of automatic backup file names.
pub const AUTO_PREFIX: &str = "twofold-";

/// How a backup is sealed.
#[derive(Clone, Copy)]
pub struct BackupOptions<'a> {
    /// Backup password (Argon2id at `kdf`, falling back to 64 MiB when memory is short).
    pub password: Option<&'a [u8]>,
    /// Also seal to the vault's recovery key, so the recovery key opens the backup.
    pub recovery: bool,
    /// Argon2id parameters for the password slot (default [`KdfParams::BACKUP`]).
    pub kdf: KdfParams,
}

impl<'a> BackupOptions<'a> {
    /// Password and recovery key, default (256 MiB) parameters.
    pub fn new(password: Option<&'a [u8]>) -> Self {
        Self::sealed(password, true)
    }

    /// Sealed with `password` (if any) and, if `recovery`, the vault's recovery key; default
    /// (256 MiB) parameters.
    pub fn sealed(password: Option<&'a [u8]>, recovery: bool) -> Self {
        BackupOptions {
            password,
            recovery,
            kdf: KdfParams::BACKUP,
        }
    }
}

/// What `create_backup` wrote and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Where the backup was written.
    pub path: PathBuf,
    /// Live accounts in the backup.
    pub entry_count: usize,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// Parameters actually used for the password slot (after any memory fallback).
    pub kdf: Option<KdfParams>,
    /// Whether the vault's recovery key also opens it.
    pub sealed_to_recovery_key: bool,
}

/// Names of entries for reports (never secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    /// The entry's id in the vault.
    pub id: EntryId,
    /// Service name; may be empty.
    pub issuer: String,
    /// Account name; may be empty.
    pub account: String,
}

impl From<&Entry> for EntrySummary {
    fn from(e: &Entry) -> Self {
        EntrySummary {
            id: e.id,
            issuer: e.issuer.clone(),
            account: e.account.clone(),
        }
    }
}

/// How a backup differs from the current vault (live entries only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupDiff {
    /// In the vault, not in the backup.
    pub missing: Vec<EntrySummary>,
    /// In both, but different.
    pub changed: Vec<EntrySummary>,
    /// In the backup, not in the vault.
    pub extra: Vec<EntrySummary>,
}

impl BackupDiff {
    /// Whether the backup and the vault hold the same accounts.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.changed.is_empty() && self.extra.is_empty()
    }
}

/// Result of `verify_backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupVerification {
    /// Live accounts in the backup.
    pub entry_count: usize,
    /// When an entry in it last changed (ms since the epoch); `None` when it has none.
    pub newest_change: Option<i64>,
    /// When the backup was made (ms since the epoch).
    pub created_at: i64,
    /// Present when compared against an unlocked vault.
    pub diff: Option<BackupDiff>,
    /// Container version of the file.
    pub format_version: u16,
    /// Made by a holder of the vault's credentials (see [`OpenedBackup::authenticated`]).
    pub authenticated: bool,
}

pub use crate::vault::edit::{RestoreMode, RestoreReport};

/// Seals `content` into backup bytes. Returns the bytes, the parameters used, and what is
/// needed to verify the file afterwards (the password slot's secrets and the master key).
struct Sealed {
    bytes: Vec<u8>,
    kdf: Option<KdfParams>,
    master_key: Key32,
    password: Option<SlotSecrets>,
    /// The vault's recovery slot the backup's recovery slot copies.
    recovery: Option<container::Slot>,
}

/// The plaintext of a version 2 backup body.
#[derive(serde::Serialize, serde::Deserialize)]
struct BackupBody {
    content: VaultContent,
    /// When the backup was made (ms).
    created_at: i64,
}

#[derive(serde::Serialize)]
struct BackupBodyRef<'a> {
    content: &'a VaultContent,
    created_at: i64,
}

fn seal(
    session: &VaultSession,
    content: &VaultContent,
    generation: u64,
    options: &BackupOptions<'_>,
) -> Result<Sealed, VaultError> {
    seal_padded(session, content, generation, options, 4096)
}

/// Padding of the recovery kit's backup (see [`crypto::padded_len_above`]).
const KIT_MIN_PADDED: usize = 256;

fn seal_padded(
    session: &VaultSession,
    content: &VaultContent,
    generation: u64,
    options: &BackupOptions<'_>,
    min_padded: usize,
) -> Result<Sealed, VaultError> {
    let env = session.env();
    let rng = env.rng.as_ref();
    let now = (env.clock)();
    let keys = session.backup_keys()?;
    let master_key = crypto::random_key(rng)?;
    let backup_id: [u8; 16] = crypto::random_array(rng)?;
    let mut header_slots = Vec::new();
    let mut signers = vec![keys.current];
    let mut kdf = None;
    let mut password = None;
    if let Some(pw) = options.password {
        let (mut slot, secrets) = slots::create_slot(
            BACKUP_MAGIC,
            &backup_id,
            NewSlot::PasswordWithFallback {
                password: pw,
                params: options.kdf,
                floor_m_kib: KdfParams::BACKUP_FLOOR_M_KIB.min(options.kdf.m_kib),
            },
            &master_key,
            rng,
        )?;
        // Endorsements in a backup refer to the vault it came from (`origin`).
        container::endorse(
            &mut slot,
            &keys.vault_id,
            &secrets.endorse_key,
            signers[0].public(),
        );
        kdf = slot.kdf.as_ref().map(|k| k.params());
        password = Some(secrets);
        header_slots.push(slot);
    }
    let mut recovery = None;
    if options.recovery {
        let vault_slot = keys.recovery.ok_or(VaultError::NoSuchSlot)?;
        // The same slot id, public key and endorsement as in the vault, so the vault's
        // recovery key both opens and authenticates the backup.
        let mut slot = vault_slot.clone();
        container::wrap_master_key(BACKUP_MAGIC, &backup_id, &mut slot, &master_key, rng)?;
        if let (Some(e), Some(signer)) = (&slot.endorsement, keys.recovery_signer) {
            if e.signer != signers[0].public() {
                signers.push(signer);
            }
        } else {
            // Carried over from a version 1 vault and not confirmed since: not endorsed.
            slot.endorsement = None;
        }
        recovery = Some(vault_slot);
        header_slots.push(slot);
    }
    if header_slots.is_empty() {
        return Err(InputError::BackupNeedsCredential.into());
    }
    let header = Header {
        vault_id: backup_id,
        generation,
        origin: Some(keys.vault_id),
        signers: signers.iter().map(crypto::SigningKey::public).collect(),
        succession: None,
        slots: header_slots,
    };
    let body = zeroize::Zeroizing::new(
        rmp_serde::to_vec_named(&BackupBodyRef {
            content,
            created_at: now,
        })
        .map_err(|e| VaultError::Internal(e.to_string()))?,
    );
    let signer_refs: Vec<&crypto::SigningKey> = signers.iter().collect();
    let bytes = container::seal_file_padded(
        BACKUP_MAGIC,
        &header,
        &master_key,
        &body,
        &signer_refs,
        rng,
        min_padded,
    )?;
    Ok(Sealed {
        bytes,
        kdf,
        master_key,
        password,
        recovery,
    })
}

/// A sealed backup that is not yet confirmed: write [`PreparedBackup::bytes`] wherever the
/// app keeps backups (a file, a Storage Access Framework document, iCloud Drive), read them
/// back, and hand what was read to [`PreparedBackup::confirm`]. Only a confirmed backup counts
/// as made.
pub struct PreparedBackup {
    sealed: Sealed,
    content: VaultContent,
    sealed_to_recovery_key: bool,
}

impl PreparedBackup {
    /// Seals the vault's current content.
    pub fn new(session: &VaultSession, options: &BackupOptions<'_>) -> Result<Self, VaultError> {
        let (content, generation) = session.snapshot()?;
        let sealed = seal(session, &content, generation, options)?;
        Ok(PreparedBackup {
            sealed,
            content,
            sealed_to_recovery_key: options.recovery,
        })
    }

    /// The file to write.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed.bytes
    }

    /// Checks what storage returned: byte for byte what was written, every signature, the
    /// password slot unwraps and vouches for the vault's signing key, the recovery slot is
    /// this vault's, and the body decrypts to the vault's content. `path` is only reported.
    pub fn confirm(&self, read_back: &[u8], path: &Path) -> Result<BackupReport, VaultError> {
        verify_bytes(read_back, &self.sealed, &self.content)?;
        Ok(BackupReport {
            path: path.to_path_buf(),
            entry_count: self.content.live_entries().len(),
            bytes: self.sealed.bytes.len(),
            kdf: self.sealed.kdf,
            sealed_to_recovery_key: self.sealed_to_recovery_key,
        })
    }
}

/// Creates a backup at `path` and verifies it: the file is read back from storage, every
/// slot we hold keys for is unwrapped, the body is decrypted and compared with the vault.
/// Only then is the report returned.
pub fn create_backup(
    session: &VaultSession,
    path: &Path,
    options: &BackupOptions<'_>,
) -> Result<BackupReport, VaultError> {
    let made_at = (session.env().clock)();
    let prepared = PreparedBackup::new(session, options)?;
    let fs = session.env().fs.as_ref();
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs.create_dir_all(dir)?;
    }
    storage::commit(fs, path, prepared.bytes(), storage::Prev::Leave)?;
    let read_back = fs.read(path)?.ok_or_else(|| {
        VaultError::Corrupt("the backup did not verify after writing: the file is missing".into())
    })?;
    let report = prepared.confirm(&read_back, path)?;
    // The checkup's "newest verified backup". The backup is made and verified whether or not
    // the vault can record it (a vault changed by another program meanwhile): not recording
    // only leaves the checkup asking for a backup again.
    let _ = session.record_verified_backup(made_at, report.entry_count, BackupCheck::Created);
    Ok(report)
}

/// The newest backup in `dir`: automatic backups by their timestamped names, else the last
/// `.twfb` file by name. `None` when there is none.
pub fn newest_backup(fs: &dyn FileSystem, dir: &Path) -> Result<Option<PathBuf>, VaultError> {
    if !fs.exists(dir)? {
        return Ok(None);
    }
    let mut files: Vec<PathBuf> = fs
        .list(dir)?
        .into_iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(EXTENSION))
        .collect();
    files.sort_by_key(|p| (is_auto_backup(p), p.file_name().map(|n| n.to_owned())));
    Ok(files.pop())
}

/// What a restore drill found.
#[derive(Debug, Clone)]
pub struct DrillReport {
    /// The drill: recorded in the vault when `authenticated`, only reported otherwise.
    pub record: DrillRecord,
    /// How the backup differs from the vault now.
    pub diff: BackupDiff,
    /// Made by a holder of this vault's credentials with keys it still uses. When false
    /// nothing was recorded.
    pub authenticated: bool,
}

/// A restore drill: opens the backup at `path` with a credential the user typed from memory,
/// compares it with the vault, and records the drill (date, credential, result) in the vault
/// — which also counts the backup as verified, and the recovery key as confirmed when it was
/// the credential and is the vault's current one. A wrong credential is
/// [`VaultError::WrongCredential`] and a damaged file [`VaultError::Corrupt`]; a backup of
/// another vault is [`VaultError::Unverified`]; none of them records anything. A backup that
/// opens but cannot be authenticated as made with this vault's current keys (planted in the
/// folder, or made before the last key change) is reported with `authenticated: false` and
/// records nothing either.
pub fn drill(
    session: &VaultSession,
    path: &Path,
    credential: &BackupCredential<'_>,
) -> Result<DrillReport, VaultError> {
    let bytes = session
        .env()
        .fs
        .read(path)?
        .ok_or_else(|| VaultError::NotFound(path.display().to_string()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    drill_bytes(session, &bytes, &name, credential)
}

/// [`drill`] for backup bytes the app read itself (a document provider); `name` is what the
/// drill record calls the file.
pub fn drill_bytes(
    session: &VaultSession,
    bytes: &[u8],
    name: &str,
    credential: &BackupCredential<'_>,
) -> Result<DrillReport, VaultError> {
    let opened = open_backup(bytes, &credential.slot())?;
    let vault_id = session.vault_id()?;
    if opened.origin.is_some_and(|o| o != vault_id) {
        return Err(VaultError::Unverified(
            "the backup was made from another vault; a drill needs a backup of this one".into(),
        ));
    }
    let authenticated = match (opened.origin, opened.signer) {
        (Some(origin), Some(signer)) => {
            opened.authenticated && session.uses_signing_key(origin, signer)?
        }
        _ => false,
    };
    let (content, _) = session.snapshot()?;
    let d = diff(&content, &opened.content);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let key = match credential {
        BackupCredential::RecoveryKey(k) => Some(*k),
        BackupCredential::Password(_) => None,
    };
    let drill = DrillRecord {
        at: (session.env().clock)(),
        credential: match credential {
            BackupCredential::Password(_) => DrillCredential::Password,
            BackupCredential::RecoveryKey(_) => DrillCredential::RecoveryKey,
        },
        file: record_name(name),
        backup_made_at: opened.created_at,
        entries: count(opened.content.live_entries().len()),
        missing: count(d.missing.len()),
        changed: count(d.changed.len()),
        extra: count(d.extra.len()),
    };
    // Anyone who can write to the backup folder can plant a file the user's credential
    // opens (a slot is only a public key), named to be the newest: a drill of a backup that
    // cannot be authenticated reports what it found and records nothing, so it neither
    // stands for a verified backup nor satisfies the checkup's drill.
    let record = if authenticated {
        session.record_drill(drill, key)?
    } else {
        drill
    };
    Ok(DrillReport {
        record,
        diff: d,
        authenticated,
    })
}

/// What a drill record calls the file: the last component of the name the app or the file
/// system gave (a document provider's display name is whatever the folder's owner chose),
/// without control characters, at most [`crate::limits::MAX_NAME_LEN`] characters.
fn record_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(crate::limits::MAX_NAME_LEN)
        .collect()
}

fn verify_bytes(bytes: &[u8], sealed: &Sealed, content: &VaultContent) -> Result<(), VaultError> {
    let failed =
        |why: &str| VaultError::Corrupt(format!("the backup did not verify after writing: {why}"));
    if bytes != sealed.bytes {
        return Err(failed("the file on storage differs from what was written"));
    }
    let parsed = container::parse(bytes, BACKUP_MAGIC)?;
    let header = &parsed.header;
    let mut unwrapped = 0;
    for slot in &header.slots {
        match slot.kind {
            SlotKind::Password => {
                let secrets = sealed
                    .password
                    .as_ref()
                    .ok_or_else(|| failed("unexpected password slot"))?;
                let mk = container::unwrap_master_key(
                    BACKUP_MAGIC,
                    &header.vault_id,
                    slot,
                    &secrets.keys,
                )
                .map_err(|_| failed("the password slot does not open"))?;
                if *mk != *sealed.master_key {
                    return Err(failed("the password slot holds the wrong key"));
                }
                if !slots::is_endorsed_by(header, slot, &secrets.endorse_key) {
                    return Err(failed(
                        "the password slot does not vouch for the vault's key",
                    ));
                }
                unwrapped += 1;
            }
            SlotKind::Recovery => {
                let ours = sealed.recovery.as_ref();
                if ours.map(|s| (s.id, s.public_key)) != Some((slot.id, slot.public_key)) {
                    return Err(failed(
                        "the recovery slot is not sealed to this vault's recovery key",
                    ));
                }
                if ours.and_then(|s| s.endorsement.as_ref()) != slot.endorsement.as_ref() {
                    return Err(failed("the recovery slot's endorsement is not the vault's"));
                }
            }
            _ => return Err(failed("unexpected slot kind")),
        }
    }
    let plaintext = container::open_body(&parsed, &sealed.master_key)
        .map_err(|_| failed("the body does not decrypt"))?;
    let body: BackupBody =
        rmp_serde::from_slice(&plaintext).map_err(|_| failed("the body is not readable"))?;
    if &body.content != content {
        return Err(failed("the decrypted content differs from the vault"));
    }
    if sealed.password.is_some() && unwrapped == 0 {
        return Err(failed("the password slot is missing"));
    }
    Ok(())
}

/// What an opened backup holds.
#[derive(Debug, Clone)]
pub struct OpenedBackup {
    /// The decrypted vault content.
    pub content: VaultContent,
    /// When it was made (ms).
    pub created_at: i64,
    /// Generation of the vault it was made from.
    pub generation: u64,
    /// Container version of the file (1: made by Twofold 0.1).
    pub format_version: u16,
    /// The slot that opened it vouches for the keys that signed it, so it was made by a
    /// holder of this vault's credentials. False for version 1 backups and for backups whose
    /// recovery slot came from a version 1 vault and was opened by the recovery key before
    /// it was confirmed.
    pub authenticated: bool,
    /// The vault the backup says it was made from (`None` for version 1).
    pub origin: Option<[u8; 16]>,
    /// The signing key the opening slot vouches for (`None` when not authenticated). A
    /// restore counts the backup as authenticated only if this is one of the vault's signing
    /// keys now: a key retired by a credential change is known to former credential holders.
    pub signer: Option<[u8; 32]>,
}

/// Opens backup bytes with a password or the recovery key. A backup whose slot matches the
/// credential but does not vouch for the keys that signed it is [`VaultError::Forged`].
pub fn open_backup(
    bytes: &[u8],
    credential: &SlotCredential<'_>,
) -> Result<OpenedBackup, VaultError> {
    let limit = crypto::KdfLimit::DEFAULT;
    match container::parse_any(bytes, BACKUP_MAGIC)? {
        AnyParsed::V2(parsed) => {
            let opened = slots::unlock(&parsed, credential, limit)?;
            let plaintext = container::open_body(&parsed, &opened.master_key)?;
            let body: BackupBody = rmp_serde::from_slice(&plaintext)
                .map_err(|_| VaultError::Corrupt("the decrypted body is not readable".into()))?;
            let signer = parsed.header.slots[opened.index]
                .endorsement
                .as_ref()
                .filter(|_| opened.endorsed)
                .map(|e| e.signer);
            Ok(OpenedBackup {
                content: body.content,
                created_at: body.created_at,
                generation: parsed.header.generation,
                format_version: container::FORMAT_VERSION,
                authenticated: opened.endorsed,
                origin: parsed.header.origin,
                signer,
            })
        }
        AnyParsed::V1(parsed) => {
            let opened = slots::unlock_v1(&parsed, credential, limit)?;
            let content = container::v1::open_body(&parsed, &opened.master_key)?;
            Ok(OpenedBackup {
                content,
                created_at: parsed.header.created_at,
                generation: parsed.header.generation,
                format_version: container::v1::FORMAT_VERSION,
                authenticated: false,
                origin: None,
                signer: None,
            })
        }
    }
}

/// A credential for a backup: its password or the recovery key.
pub enum BackupCredential<'a> {
    /// The backup password.
    Password(&'a [u8]),
    /// The vault's recovery key, for a backup sealed to it.
    RecoveryKey(&'a RecoveryKey),
}

impl<'a> BackupCredential<'a> {
    fn slot(&self) -> SlotCredential<'a> {
        match *self {
            BackupCredential::Password(p) => SlotCredential::Password(p),
            BackupCredential::RecoveryKey(k) => SlotCredential::Recovery(k),
        }
    }
}

fn read_backup(
    fs: &dyn FileSystem,
    path: &Path,
    credential: &BackupCredential<'_>,
) -> Result<OpenedBackup, VaultError> {
    let bytes = fs
        .read(path)?
        .ok_or_else(|| VaultError::NotFound(path.display().to_string()))?;
    open_backup(&bytes, &credential.slot())
}

/// Opens a backup file and reports what it holds; with `current`, how it differs.
pub fn verify_backup(
    fs: &dyn FileSystem,
    path: &Path,
    credential: &BackupCredential<'_>,
    current: Option<&VaultContent>,
) -> Result<BackupVerification, VaultError> {
    let bytes = fs
        .read(path)?
        .ok_or_else(|| VaultError::NotFound(path.display().to_string()))?;
    verify_backup_bytes(&bytes, credential, current)
}

/// [`verify_backup`] for backup bytes the app read itself (e.g. from a document provider).
pub fn verify_backup_bytes(
    bytes: &[u8],
    credential: &BackupCredential<'_>,
    current: Option<&VaultContent>,
) -> Result<BackupVerification, VaultError> {
    let opened = open_backup(bytes, &credential.slot())?;
    Ok(BackupVerification {
        entry_count: opened.content.live_entries().len(),
        newest_change: opened.content.newest_change(),
        created_at: opened.created_at,
        diff: current.map(|c| diff(c, &opened.content)),
        format_version: opened.format_version,
        authenticated: opened.authenticated,
    })
}

/// Differences between the live entries of the vault and of a backup.
pub fn diff(vault: &VaultContent, backup: &VaultContent) -> BackupDiff {
    let mut out = BackupDiff::default();
    let vault_live = vault.live_entries();
    let backup_live = backup.live_entries();
    for v in &vault_live {
        match backup_live.iter().find(|b| b.id == v.id) {
            None => out.missing.push((*v).into()),
            Some(b) if !crate::vault::edit::same_content(v, b) => out.changed.push((*v).into()),
            Some(_) => {}
        }
    }
    for b in &backup_live {
        if !vault_live.iter().any(|v| v.id == b.id) {
            out.extra.push((*b).into());
        }
    }
    out
}

/// Restores a backup into the unlocked session.
pub fn restore_backup(
    session: &VaultSession,
    path: &Path,
    credential: &BackupCredential<'_>,
    mode: RestoreMode,
    accept_unverified: bool,
) -> Result<RestoreReport, VaultError> {
    let opened = read_backup(session.env().fs.as_ref(), path, credential)?;
    restore_content(session, opened, mode, accept_unverified)
}

/// Restores opened backup content into the unlocked session, checked like an import: an
/// unauthenticated backup (format 1, or opened by a slot that does not vouch for its keys)
/// needs `accept_unverified`, the backup's settings must be in range, and a merge may not
/// exceed the vault's entry limit.
pub fn restore_content(
    session: &VaultSession,
    opened: OpenedBackup,
    mode: RestoreMode,
    accept_unverified: bool,
) -> Result<RestoreReport, VaultError> {
    // Authenticated for this vault: made by a holder of its credentials with a signing key
    // it still uses (one a credential change retired is known to whoever held the revoked
    // credential, who could sign any backup with it).
    let this_vaults = match (opened.origin, opened.signer) {
        (Some(origin), Some(signer)) => session.uses_signing_key(origin, signer)?,
        _ => false,
    };
    let authenticated = opened.authenticated && this_vaults;
    if !authenticated && !accept_unverified {
        return Err(VaultError::Unverified(if opened.format_version == 1 {
            "the backup was written by Twofold 0.1 (format 1), which cannot show who made it".into()
        } else if opened.authenticated {
            "the backup was made by another vault, or with keys this vault stopped using at a \
             password or key change, so it cannot be shown to be this vault's"
                .into()
        } else {
            "the key that opened the backup does not vouch for the keys that signed it".into()
        }));
    }
    opened
        .content
        .check_as_input()
        .map_err(|why| VaultError::HostileFile(format!("the backup's content: {why}")))?;
    if mode == RestoreMode::Replace {
        opened
            .content
            .settings
            .validate()
            .map_err(|why| VaultError::HostileFile(format!("the backup's settings: {why}")))?;
    }
    let mut report = session.modify(|vault, _now| vault.restore(opened.content, mode))?;
    report.authenticated = authenticated;
    Ok(report)
}

/// Seals `content` as a backup of `session`'s vault that only the recovery key opens (the
/// printed recovery kit's accounts), then opens it with `key` and checks that it holds
/// exactly `content` and vouches for the vault's keys. Returns the backup bytes.
pub fn seal_to_recovery_key(
    session: &VaultSession,
    content: &VaultContent,
    key: &RecoveryKey,
) -> Result<Vec<u8>, VaultError> {
    let generation = session.generation()?;
    let sealed = seal_padded(
        session,
        content,
        generation,
        &BackupOptions::sealed(None, true),
        KIT_MIN_PADDED,
    )?;
    let opened = open_backup(&sealed.bytes, &SlotCredential::Recovery(key))?;
    if &opened.content != content || !opened.authenticated {
        return Err(VaultError::Corrupt(
            "the backup for the recovery kit did not verify after sealing".into(),
        ));
    }
    Ok(sealed.bytes)
}

/// What an automatic backup run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoBackupReport {
    /// The backup this run wrote.
    pub created: BackupReport,
    /// Older automatic backups removed to keep the newest `keep`.
    pub deleted: Vec<PathBuf>,
}

/// `twofold-YYYYMMDD-HHMMSS.twfb` (UTC) for a time in milliseconds.
pub fn auto_backup_name(unix_ms: i64) -> String {
    let (y, m, d, hh, mm, ss) = crate::time::utc_parts(unix_ms);
    format!("{AUTO_PREFIX}{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}.{EXTENSION}")
}

fn is_auto_backup(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(AUTO_PREFIX) && n.ends_with(&format!(".{EXTENSION}")))
}

/// Automatic backups into `dir`: writes and verifies a new timestamped backup, then removes
/// the oldest automatic backups beyond `keep` (at least 1). Nothing is removed unless the
/// new backup verified, so the newest verified copy is never deleted.
pub fn auto_backup(
    session: &VaultSession,
    dir: &Path,
    options: &BackupOptions<'_>,
    keep: usize,
) -> Result<AutoBackupReport, VaultError> {
    let fs = session.env().fs.as_ref();
    fs.create_dir_all(dir)?;
    let now = (session.env().clock)();
    let base = auto_backup_name(now);
    let mut path = dir.join(&base);
    let mut n = 1;
    while fs.exists(&path)? {
        n += 1;
        path = dir.join(base.replace(&format!(".{EXTENSION}"), &format!("-{n}.{EXTENSION}")));
    }
    let created = create_backup(session, &path, options)?;
    let existing = fs.list(dir)?;
    let mut deleted = Vec::new();
    for old in auto_backups_to_delete(&existing, keep, &created.path) {
        fs.remove(&old)?;
        deleted.push(old);
    }
    Ok(AutoBackupReport { created, deleted })
}

/// Which automatic backups among `existing` (other files are never touched) to remove so
/// that the newest `keep` (at least 1) remain; `newest` (the backup just verified) is never
/// among them. Names sort by time, so the oldest go first. Used for plain directories and by
/// the apps for document-provider folders, which they can only list by name.
pub fn auto_backups_to_delete<P: AsRef<Path> + Clone + PartialEq>(
    existing: &[P],
    keep: usize,
    newest: &P,
) -> Vec<P> {
    let mut autos: Vec<&P> = existing
        .iter()
        .filter(|p| is_auto_backup(p.as_ref()))
        .collect();
    autos.sort_by(|a, b| a.as_ref().file_name().cmp(&b.as_ref().file_name()));
    let excess = autos.len().saturating_sub(keep.max(1));
    autos
        .into_iter()
        .take(excess)
        .filter(|p| *p != newest)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_names_sort_by_time() {
        assert_eq!(auto_backup_name(0), "twofold-19700101-000000.twfb");
        assert_eq!(
            auto_backup_name(1_700_000_000_000),
            "twofold-20231114-221320.twfb"
        );
        assert_eq!(
            auto_backup_name(951_782_400_000),
            "twofold-20000229-000000.twfb"
        );
        assert!(auto_backup_name(1_700_000_000_000) < auto_backup_name(1_700_000_001_000));
    }

    #[test]
    fn pruning_keeps_the_newest_and_never_touches_other_files() {
        let names: Vec<String> = [
            "twofold-20240103-000000.twfb",
            "notes.txt",
            "twofold-20240101-000000.twfb",
            "my-backup.twfb",
            "twofold-20240102-000000.twfb",
        ]
        .map(String::from)
        .to_vec();
        let newest = "twofold-20240103-000000.twfb".to_string();
        assert_eq!(
            auto_backups_to_delete(&names, 2, &newest),
            vec!["twofold-20240101-000000.twfb".to_string()]
        );
        assert!(auto_backups_to_delete(&names, 3, &newest).is_empty());
        // keep 0 still keeps one: the new backup.
        assert_eq!(auto_backups_to_delete(&names, 0, &newest).len(), 2);
        assert!(!auto_backups_to_delete(&names, 0, &newest).contains(&newest));
    }
}
