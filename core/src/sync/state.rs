//! What a device keeps about its sync group, inside its encrypted vault body: its keys, the
//! group keys, the roster, the replicated document as of the last sync, its clock and
//! generation, and what it last saw of every member (rollback and fork detection).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::doc::Doc;
use super::roster::{self, Device, DeviceKey, EpochId, Membership, Signed};
use super::{SyncError, SyncWarning};
use crate::crypto::{SigningKey, SlotKeyPair};
use crate::serde_bytes_helpers::array;

/// Version of the state this build writes.
pub const STATE_VERSION: u32 = 1;

/// 32 secret bytes (seeds, group keys): wiped on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct KeyBytes(
    /// The secret bytes.
    #[serde(with = "array")]
    pub [u8; 32],
);

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyBytes(<redacted>)")
    }
}

/// Where the group's files are.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageConfig {
    /// A folder on this device (replicated by another program).
    Folder {
        /// The folder's path on this device.
        path: String,
    },
    /// A WebDAV collection.
    WebDav {
        /// The collection's `https://` URL (plain `http://` only to a loopback address).
        url: String,
        /// User name for HTTP authentication (`None`: no authentication).
        user: Option<String>,
        /// Stored only inside the encrypted vault.
        password: Option<String>,
    },
    /// A location only the app can open (a SAF tree, a security-scoped bookmark): the app
    /// passes its storage to every sync; `label` is what to show.
    App {
        /// What to show for the location (the app chooses it).
        label: String,
    },
}

impl Drop for StorageConfig {
    fn drop(&mut self) {
        if let StorageConfig::WebDav {
            password: Some(p), ..
        } = self
        {
            p.zeroize();
        }
    }
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl StorageConfig {
    /// What to show the user (never the password).
    pub fn describe(&self) -> String {
        match self {
            StorageConfig::Folder { path } => format!("folder {path}"),
            StorageConfig::WebDav { url, user, .. } => match user {
                Some(u) => format!("WebDAV {url} (as {u})"),
                None => format!("WebDAV {url}"),
            },
            StorageConfig::App { label } => label.clone(),
        }
    }
}

/// What this device last accepted from a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenState {
    /// The generation of the member's file.
    pub generation: u64,
    /// SHA-256 of that file's bytes (another file with the same generation is a fork).
    #[serde(with = "array")]
    pub digest: [u8; 32],
    /// When this device first read that file (its own clock, ms).
    pub received_at: i64,
    /// The writer's clock when it wrote it (ms).
    pub written_at: i64,
}

/// A member whose generation was seen twice with different contents (a cloned or restored
/// device): its files are ignored until it is revoked (and re-joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    /// The generation seen with two contents.
    pub generation: u64,
    /// When this device noticed the fork (its own clock, ms since the Unix epoch).
    pub since: i64,
}

/// The state.
#[derive(Clone, Serialize, Deserialize)]
pub struct SyncState {
    /// Version of the state's layout ([`STATE_VERSION`] when this build wrote it).
    pub version: u32,
    /// The group's random 16-byte id.
    #[serde(with = "array")]
    pub group: [u8; 16],
    /// Signing key of the device that set the group up (the root of the roster).
    #[serde(with = "array")]
    pub founder: DeviceKey,
    /// This device's signing key seed.
    pub signing_seed: KeyBytes,
    /// Seed of this device's X25519 key.
    pub kx_seed: KeyBytes,
    /// This device's name in the group.
    pub name: String,
    /// Group keys by epoch.
    pub epochs: BTreeMap<EpochId, KeyBytes>,
    /// Every signed roster statement this device knows (adds, confirmations, removals).
    pub statements: BTreeSet<Signed>,
    /// Every signed key rotation this device knows (each wraps an epoch key to the members).
    pub rotations: BTreeSet<Signed>,
    /// The replicated document as of the last sync.
    pub doc: Doc,
    /// The last clock value issued or merged.
    pub clock: u64,
    /// The last generation this device reserved for a file.
    pub generation: u64,
    /// What this device last accepted from each member (itself included: what it wrote).
    pub seen: BTreeMap<KeyBytesPub, SeenState>,
    /// Members that forked, by signing key: their files are ignored until they are revoked.
    pub quarantined: BTreeMap<KeyBytesPub, Quarantine>,
    /// Where the group's files are.
    pub storage: StorageConfig,
    /// What the last sync warned about.
    pub warnings: Vec<SyncWarning>,
    /// When the last sync completed (ms since the Unix epoch; `None`: never).
    pub last_sync: Option<i64>,
    /// The next sync is this device's first after joining: its own accounts that the group
    /// already holds are not added twice.
    pub first_sync: bool,
    /// This device learned that it was removed from the group.
    pub revoked: bool,
    /// The state changed outside a sync (a resolution, a revocation, a device added): the
    /// next sync publishes even if it merges nothing.
    #[serde(default)]
    pub unpublished: bool,
    /// Devices this device invited that wait for its user to confirm that the codes match
    /// (`docs/sync-protocol.md` §9). Never published; dropped when they expire.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingAdmission>,
    /// This device took a join bundle and waits for the member that invited it to confirm
    /// and publish its admission: it reads, but writes nothing until it is a member.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_admission: bool,
}

/// A device invited by this one, not admitted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAdmission {
    /// The invited device (keys and name from its join request).
    pub device: super::roster::Device,
    /// When the invitation lapses (Unix ms): the join invite's expiry.
    pub expires_at: i64,
}

/// A public key used as a map key (MessagePack `bin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyBytesPub(
    /// The device's Ed25519 signing key.
    #[serde(with = "array")]
    pub DeviceKey,
);

/// The state's encoding: this byte, then raw DEFLATE of its MessagePack (the document
/// compresses to a fifth, and the vault is rewritten on every change).
const DEFLATED: u8 = 1;
/// Largest state inflated.
const MAX_STATE_LEN: usize = 256 * 1024 * 1024;

impl SyncState {
    /// The state as the vault body stores it: the byte 1, then raw DEFLATE of its
    /// MessagePack (wiped on drop, since it holds the device's seeds and the group keys).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let packed = Zeroizing::new(rmp_serde::to_vec_named(self).expect("plain data"));
        let mut out = Zeroizing::new(vec![DEFLATED]);
        out.extend_from_slice(&Zeroizing::new(miniz_oxide::deflate::compress_to_vec(
            &packed, 3,
        )));
        out
    }

    /// Reads what [`SyncState::encode`] wrote; [`SyncError::BadState`] for bytes that are not a
    /// state or a state of a newer version.
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        let bad = || SyncError::BadState("the sync state in the vault is not readable".into());
        let (&encoding, rest) = bytes.split_first().ok_or_else(bad)?;
        if encoding != DEFLATED {
            return Err(bad());
        }
        let packed = Zeroizing::new(
            miniz_oxide::inflate::decompress_to_vec_with_limit(rest, MAX_STATE_LEN)
                .map_err(|_| bad())?,
        );
        let state: SyncState = rmp_serde::from_slice(&packed).map_err(|_| bad())?;
        if state.version > STATE_VERSION {
            return Err(SyncError::BadState(format!(
                "the sync state was written by a newer Twofold (version {})",
                state.version
            )));
        }
        Ok(state)
    }

    /// This device's Ed25519 signing key (from its seed).
    pub(crate) fn signing_key(&self) -> SigningKey {
        SigningKey::from_seed(&self.signing_seed.0)
    }

    /// This device's X25519 key pair, to which epoch keys are wrapped (from its seed).
    pub fn kx(&self) -> SlotKeyPair {
        SlotKeyPair::derive(&self.kx_seed.0, roster::KX_LABEL)
    }

    /// This device's public signing key: its identity in the roster.
    pub fn me(&self) -> DeviceKey {
        self.signing_key().public()
    }

    /// This device's tag ([`roster::devtag`] of its key; its file names carry it).
    pub fn my_tag(&self) -> u64 {
        roster::devtag(&self.me())
    }

    /// This device as the roster knows it.
    pub fn device(&self) -> Device {
        Device {
            key: self.me(),
            kx: self.kx().public,
            name: self.name.clone(),
        }
    }

    /// The roster as the known statements make it: members, revoked devices, who added whom.
    pub fn membership(&self) -> Membership {
        Membership::compute(&self.group, &self.founder, &self.statements)
    }

    /// The group key of `epoch` (`None`: this device does not have it).
    pub fn epoch_key(&self, epoch: &EpochId) -> Option<&[u8; 32]> {
        self.epochs.get(epoch).map(|k| &k.0)
    }
}

impl std::fmt::Debug for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncState")
            .field("group", &crate::crypto::hex(&self.group))
            .field("name", &self.name)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}
