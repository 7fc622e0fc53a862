//! What a device remembers about its vault outside the vault file, so that a file put back
//! from an older copy, or forged with a former credential, is noticed: the last generation and
//! signing key it saw, each HOTP counter's high-water mark, and wrong-PIN counts.
//!
//! The record lives where whoever can replace the vault file cannot reach it: the apps keep
//! it in Keystore/Keychain-protected storage, the CLI in its config directory. The core reads
//! and writes it through [`TrustStore`]; the record itself is not secret (it holds no key).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::serde_bytes_helpers::array;
use crate::vault::model::EntryId;
use crate::vault::storage::{self, FileSystem, OsFileSystem};

/// Wrong PINs allowed before a PIN slot is locked (and removed at the next unlock).
pub const MAX_PIN_ATTEMPTS: u32 = 5;

/// Where a device keeps its [`TrustRecord`] (one per vault).
pub trait TrustStore: Send + Sync {
    /// The stored record, or `None` if there is none yet.
    fn load(&self) -> io::Result<Option<Vec<u8>>>;
    /// Replaces the stored record (atomically, where the platform allows).
    fn store(&self, record: &[u8]) -> io::Result<()>;
}

/// A record kept in memory (tests, and apps' previews).
#[derive(Debug, Default)]
pub struct MemoryTrustStore(Mutex<Option<Vec<u8>>>);

impl MemoryTrustStore {
    /// An empty store: no record yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TrustStore for MemoryTrustStore {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    fn store(&self, record: &[u8]) -> io::Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(record.to_vec());
        Ok(())
    }
}

/// A record in a file, written atomically with mode 0600 (the CLI keeps one per vault path
/// in its config directory).
#[derive(Debug, Clone)]
pub struct FileTrustStore {
    path: PathBuf,
}

impl FileTrustStore {
    /// A store whose record is the file at `path` (created on the first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTrustStore { path: path.into() }
    }

    /// The record's file for a vault at `vault` inside `dir`: named by a hash of the vault's
    /// absolute path, so moving the vault means a fresh record.
    pub fn for_vault(dir: &Path, vault: &Path) -> Self {
        let absolute = std::path::absolute(vault).unwrap_or_else(|_| vault.to_path_buf());
        let digest = crate::crypto::sha256(absolute.as_os_str().as_encoded_bytes());
        Self::new(dir.join(format!("{}.trust", crate::crypto::hex(&digest[..16]))))
    }

    /// The record's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TrustStore for FileTrustStore {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        OsFileSystem.read(&self.path)
    }
    fn store(&self, record: &[u8]) -> io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            OsFileSystem.create_dir_all(dir)?;
        }
        storage::commit(&OsFileSystem, &self.path, record, storage::Prev::Leave)
            .map_err(|e| e.error)
    }
}

/// The remembered state of one vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRecord {
    /// Record format version ([`TrustRecord::VERSION`]).
    pub version: u32,
    /// The vault's id (from its header); a file with another id is refused as
    /// [`crate::vault::VaultError::Forged`].
    #[serde(with = "array")]
    pub vault_id: [u8; 16],
    /// Highest generation this device saw.
    pub generation: u64,
    /// The current signing key of that generation.
    #[serde(with = "array")]
    pub signer: [u8; 32],
    /// Highest HOTP counter each entry had (counters never go back).
    #[serde(default)]
    pub hotp: Vec<(EntryId, u64)>,
    /// Wrong PINs in a row, per PIN slot.
    #[serde(default)]
    pub pin_failures: Vec<PinFailures>,
    /// Slots carried over from a format 1 vault that have not vouched for the signing key
    /// yet: this device saw the upgrade, so they are known not to be stripped by a forger.
    #[serde(default, with = "id_list")]
    pub legacy_slots: Vec<[u8; 16]>,
    /// The slots of the last generation this device wrote or opened (public values). A file
    /// accepted on purpose keeps only these and the slot that opened it, so a slot planted in
    /// it, or one revoked since, never receives the new master key. Empty in records written
    /// before this field existed (then every slot is kept).
    #[serde(default)]
    pub slots: Vec<KnownSlot>,
}

/// A slot as the trust record remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownSlot {
    /// The slot's id.
    #[serde(with = "array")]
    pub id: [u8; 16],
    /// The slot's X25519 public key.
    #[serde(with = "array")]
    pub public_key: [u8; 32],
}

mod id_list {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    struct Bin<'a>(&'a [u8; 16]);

    impl serde::Serialize for Bin<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    pub fn serialize<S: Serializer>(v: &[[u8; 16]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for id in v {
            seq.serialize_element(&Bin(id))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 16]>, D::Error> {
        #[derive(Deserialize)]
        struct Id(#[serde(with = "crate::serde_bytes_helpers::array")] [u8; 16]);
        Ok(Vec::<Id>::deserialize(d)?
            .into_iter()
            .map(|i| i.0)
            .collect())
    }
}

/// Wrong PINs in a row for one slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinFailures {
    /// The PIN slot's id.
    #[serde(with = "array")]
    pub slot_id: [u8; 16],
    /// Wrong PINs since the last right one.
    pub count: u32,
}

impl TrustRecord {
    /// Format version of records this build writes and reads.
    pub const VERSION: u32 = 1;

    /// A record of a vault seen at `generation` signed by `signer`, with no counters, PIN
    /// failures or slots yet.
    pub(crate) fn new(vault_id: [u8; 16], generation: u64, signer: [u8; 32]) -> Self {
        TrustRecord {
            version: Self::VERSION,
            vault_id,
            generation,
            signer,
            hotp: Vec::new(),
            pin_failures: Vec::new(),
            legacy_slots: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Whether the record knows this slot (and knows any slots at all).
    pub fn knows_slot(&self, id: &[u8; 16], public_key: &[u8; 32]) -> bool {
        self.slots
            .iter()
            .any(|k| &k.id == id && &k.public_key == public_key)
    }

    /// Reads a stored record; an unreadable one counts as absent.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice::<TrustRecord>(bytes)
            .ok()
            .filter(|r| r.version == Self::VERSION)
    }

    /// The record as stored (MessagePack).
    pub(crate) fn encode(&self) -> Vec<u8> {
        // A record of plain integers and byte strings always serializes.
        rmp_serde::to_vec_named(self).unwrap_or_default()
    }

    /// The HOTP high-water mark of an entry.
    pub fn hotp_floor(&self, id: EntryId) -> Option<u64> {
        self.hotp.iter().find(|(e, _)| *e == id).map(|(_, c)| *c)
    }

    /// Wrong PINs in a row for a slot.
    pub fn pin_failures(&self, slot_id: &[u8; 16]) -> u32 {
        self.pin_failures
            .iter()
            .find(|p| &p.slot_id == slot_id)
            .map_or(0, |p| p.count)
    }

    /// Sets the wrong-PIN count of a slot (0 forgets it).
    pub(crate) fn set_pin_failures(&mut self, slot_id: [u8; 16], count: u32) {
        self.pin_failures.retain(|p| p.slot_id != slot_id);
        if count > 0 {
            self.pin_failures.push(PinFailures { slot_id, count });
        }
    }

    /// PIN slots that reached [`MAX_PIN_ATTEMPTS`].
    pub fn locked_pin_slots(&self) -> Vec<[u8; 16]> {
        self.pin_failures
            .iter()
            .filter(|p| p.count >= MAX_PIN_ATTEMPTS)
            .map(|p| p.slot_id)
            .collect()
    }
}
