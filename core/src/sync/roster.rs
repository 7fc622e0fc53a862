//! Who is in a sync group, and with which keys (`docs/sync-protocol.md` §3).
//!
//! Every device has an Ed25519 signing key (its identity; it signs every file the device
//! writes) and an X25519 key (group keys are wrapped to it). Membership is a set of signed
//! statements that travel inside every snapshot:
//!
//! * `Add(device)`, signed by a member (the founder signs its own);
//! * `Revoke(device)`, signed by a member; final.
//!
//! Each statement names its **parents**, the heads of the roster its signer held, so the
//! statements form a graph of who had seen what. A statement counts only if its signer was
//! an active member in its own causal past, and a counted revocation voids everything the
//! revoked device signed outside the revoker's view (concurrently with its removal, or in a
//! stale copy kept away from it); concurrent revocations take effect most senior signer
//! first. So a stolen device kept away from its revocation can neither enrol accomplices nor
//! remove the devices that are left, and every device computes the same membership from the
//! same statements whatever order it learnt them in (`docs/sync-protocol.md` §6.2).
//!
//! Group keys change in epochs. A `Rotation` (signed by an active member) introduces a new
//! 32-byte key wrapped to each active device; a file is encrypted under one epoch's key. A
//! member writes only under an epoch whose recipients are exactly the active devices, and
//! rotates first otherwise — so after a revocation nothing new is readable by the revoked
//! device, and a joiner missed by a concurrent rotation gets the next one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::SyncError;
use crate::crypto::{self, Key32, RandomSource, SigningKey, SlotKeyPair};
use crate::serde_bytes_helpers::{array, bytes};

/// A device's signing (identity) public key.
pub type DeviceKey = [u8; 32];

/// Most statements (adds and revokes) a group holds.
pub const MAX_STATEMENTS: usize = 1024;
/// Most rotations a group holds.
pub const MAX_ROTATIONS: usize = 4096;
/// Longest device name.
pub const MAX_NAME_LEN: usize = 64;

const STATEMENT_CONTEXT: &[u8] = b"twofold/sync/1 statement";
const ROTATION_CONTEXT: &[u8] = b"twofold/sync/1 rotation";
const WRAP_INFO: &[u8] = b"twofold/sync/1 epoch key wrap";
const KEY_CHECK: &[u8] = b"twofold/sync/1 key check";
const DEVTAG_CONTEXT: &[u8] = b"twofold/sync/1 devtag";
/// Label of the X25519 key derived from a device's key-exchange seed.
pub const KX_LABEL: &str = "sync-device";

/// The 64-bit tag of a device: the first 8 bytes of SHA-256(label ‖ key), big-endian. File
/// names carry it (as 16 hex digits) so that they say nothing about the key.
pub fn devtag(key: &DeviceKey) -> u64 {
    let d = crypto::sha256(&[DEVTAG_CONTEXT, key.as_slice()].concat());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A member device as the roster knows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Device {
    /// The device's Ed25519 signing key: its identity in the group.
    #[serde(with = "array")]
    pub key: DeviceKey,
    /// X25519 public key group keys are wrapped to.
    #[serde(with = "array")]
    pub kx: [u8; 32],
    /// The user's name for the device ("phone", "desktop").
    pub name: String,
}

impl Device {
    /// The device's tag ([`devtag`] of its key).
    pub fn tag(&self) -> u64 {
        devtag(&self.key)
    }
}

/// A membership statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Statement {
    /// `by` adds `device` to the group (the founder's genesis adds itself, signed by itself).
    Add {
        /// The group's id.
        #[serde(with = "array")]
        group: [u8; 16],
        /// The device added.
        device: Device,
        /// Signing key of the member that adds it (and signs the statement).
        #[serde(with = "array")]
        by: DeviceKey,
        /// When it was signed (the signer's clock, Unix time in ms).
        at: i64,
        /// The statements the signer held when it signed (the heads of its roster, §6.1).
        /// Absent in statements of the first encoding, and in the founder's genesis.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parents: Vec<StatementId>,
    },
    /// `by` removes `device` from the group.
    Revoke {
        /// The group's id.
        #[serde(with = "array")]
        group: [u8; 16],
        /// Signing key of the device removed.
        #[serde(with = "array")]
        device: DeviceKey,
        /// Signing key of the member that removes it (and signs the statement).
        #[serde(with = "array")]
        by: DeviceKey,
        /// When it was signed (the signer's clock, Unix time in ms).
        at: i64,
        /// The devices the revoker still counts as members.
        survivors: Vec<DeviceKeyBytes>,
        /// As for `Add`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parents: Vec<StatementId>,
    },
}

/// A statement's id: SHA-256 of its signed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatementId(
    /// The digest.
    #[serde(with = "array")]
    pub [u8; 32],
);

/// A device key inside a list (MessagePack `bin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceKeyBytes(
    /// The device's signing key.
    #[serde(with = "array")]
    pub DeviceKey,
);

impl Statement {
    fn signer(&self) -> &DeviceKey {
        match self {
            Statement::Add { by, .. } | Statement::Revoke { by, .. } => by,
        }
    }
    fn group(&self) -> &[u8; 16] {
        match self {
            Statement::Add { group, .. } | Statement::Revoke { group, .. } => group,
        }
    }
    fn at(&self) -> i64 {
        match self {
            Statement::Add { at, .. } | Statement::Revoke { at, .. } => *at,
        }
    }
    fn parents(&self) -> &[StatementId] {
        match self {
            Statement::Add { parents, .. } | Statement::Revoke { parents, .. } => parents,
        }
    }
}

/// A statement with its signer's signature over `context ‖ body`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signed {
    /// The statement or rotation, as MessagePack.
    #[serde(with = "bytes")]
    pub body: Vec<u8>,
    /// The signer's Ed25519 signature over the context string and `body`.
    #[serde(with = "array")]
    pub sig: [u8; 64],
}

fn sign(context: &[u8], body: Vec<u8>, key: &SigningKey) -> Signed {
    let sig = key.sign(&[context, body.as_slice()].concat());
    Signed { body, sig }
}

impl Signed {
    /// Signs a statement.
    pub fn statement(s: &Statement, key: &SigningKey) -> Self {
        let body = rmp_serde::to_vec_named(s).expect("plain data");
        sign(STATEMENT_CONTEXT, body, key)
    }

    /// This statement's id.
    pub fn id(&self) -> StatementId {
        StatementId(crypto::sha256(&self.body))
    }

    /// The statement, if the signature by its named signer is valid and it is for `group`.
    pub fn open_statement(&self, group: &[u8; 16]) -> Option<Statement> {
        if self.body.len() > 64 * 1024 {
            return None;
        }
        let s: Statement = rmp_serde::from_slice(&self.body).ok()?;
        (s.group() == group
            && crypto::verify_signature(
                s.signer(),
                &[STATEMENT_CONTEXT, self.body.as_slice()].concat(),
                &self.sig,
            ))
        .then_some(s)
    }

    /// The rotation, if the signature by its rotator is valid and it is for `group`.
    pub fn open_rotation(&self, group: &[u8; 16]) -> Option<Rotation> {
        if self.body.len() > 256 * 1024 {
            return None;
        }
        let r: Rotation = rmp_serde::from_slice(&self.body).ok()?;
        (&r.group == group
            && r.epoch.by == devtag(&r.by)
            && crypto::verify_signature(
                &r.by,
                &[ROTATION_CONTEXT, self.body.as_slice()].concat(),
                &self.sig,
            ))
        .then_some(r)
    }
}

/// An epoch: its number and the tag of the device that started it. Concurrent rotations
/// order by (number, tag).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct EpochId {
    /// The epoch's number: one more than the highest the rotator knew (the first is 0).
    pub n: u32,
    /// Tag of the device that started the epoch.
    pub by: u64,
}

impl std::fmt::Display for EpochId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{:016x}", self.n, self.by)
    }
}

/// The epoch key wrapped to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrap {
    /// Recipient's device tag.
    pub to: u64,
    /// The wrap's single-use X25519 public key.
    #[serde(with = "array")]
    pub ephemeral: [u8; 32],
    /// The epoch key sealed under the wrap's key (48 bytes: the key and its tag).
    #[serde(with = "bytes")]
    pub ciphertext: Vec<u8>,
}

/// A new group key, wrapped to each recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// The group's id.
    #[serde(with = "array")]
    pub group: [u8; 16],
    /// The epoch this rotation starts.
    pub epoch: EpochId,
    /// Signing key of the member that rotated (and signs the rotation).
    #[serde(with = "array")]
    pub by: DeviceKey,
    /// When it was made (the rotator's clock, Unix time in ms).
    pub at: i64,
    /// SHA-256(label ‖ group ‖ epoch ‖ key): tells the right key from a wrong one.
    #[serde(with = "array")]
    pub key_check: [u8; 32],
    /// The epoch key wrapped to each recipient (one per member it is for).
    pub wraps: Vec<Wrap>,
}

fn epoch_bytes(epoch: EpochId) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&epoch.n.to_be_bytes());
    b[4..].copy_from_slice(&epoch.by.to_be_bytes());
    b
}

fn key_check(group: &[u8; 16], epoch: EpochId, key: &[u8; 32]) -> [u8; 32] {
    crypto::sha256(
        &[
            KEY_CHECK,
            group.as_slice(),
            &epoch_bytes(epoch),
            key.as_slice(),
        ]
        .concat(),
    )
}

fn wrap_kek(
    shared: &[u8; 32],
    group: &[u8; 16],
    epoch: EpochId,
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
) -> Key32 {
    let info = [
        WRAP_INFO,
        &epoch_bytes(epoch),
        ephemeral.as_slice(),
        recipient.as_slice(),
    ]
    .concat();
    crypto::hkdf32(shared, group, &info)
}

impl Rotation {
    /// A new epoch key for `recipients`, signed by `rotator`.
    pub fn create(
        group: &[u8; 16],
        epoch: EpochId,
        rotator: &SigningKey,
        recipients: &[Device],
        at: i64,
        rng: &dyn RandomSource,
    ) -> Result<(Signed, Key32), SyncError> {
        let key = crypto::random_key(rng)?;
        let mut wraps = Vec::with_capacity(recipients.len());
        for d in recipients {
            let (ephemeral, shared) = crypto::ephemeral_agree(rng, &d.kx)?;
            let kek = wrap_kek(&shared, group, epoch, &ephemeral, &d.kx);
            // Each wrap has its own key (fresh ephemeral): a fixed nonce is safe.
            let ciphertext = crypto::seal(&kek, &[0u8; 24], &epoch_bytes(epoch), key.as_ref());
            wraps.push(Wrap {
                to: d.tag(),
                ephemeral,
                ciphertext,
            });
        }
        let rotation = Rotation {
            group: *group,
            epoch,
            by: rotator.public(),
            at,
            key_check: key_check(group, epoch, &key),
            wraps,
        };
        let body = rmp_serde::to_vec_named(&rotation).expect("plain data");
        Ok((sign(ROTATION_CONTEXT, body, rotator), key))
    }

    /// The epoch key, if this rotation wraps it to the device with tag `me` and key pair
    /// `kx`, and the key matches the rotation's check.
    pub fn unwrap(&self, me: u64, kx: &SlotKeyPair) -> Option<Key32> {
        let w = self.wraps.iter().find(|w| w.to == me)?;
        let shared = kx.agree(&w.ephemeral);
        let kek = wrap_kek(&shared, &self.group, self.epoch, &w.ephemeral, &kx.public);
        let plain = crypto::open(&kek, &[0u8; 24], &epoch_bytes(self.epoch), &w.ciphertext).ok()?;
        let key: [u8; 32] = plain.as_slice().try_into().ok()?;
        let key = Zeroizing::new(key);
        self.check(&key).then_some(key)
    }

    /// Whether `key` is this epoch's key.
    pub fn check(&self, key: &[u8; 32]) -> bool {
        key_check(&self.group, self.epoch, key) == self.key_check
    }

    /// Tags of the devices the key was wrapped to.
    pub fn recipients(&self) -> BTreeSet<u64> {
        self.wraps.iter().map(|w| w.to).collect()
    }
}

/// Who is in the group now, from a set of statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Devices with a valid add (active or revoked), by key.
    pub members: BTreeMap<DeviceKey, Device>,
    /// Revoked devices (final).
    pub revoked: BTreeSet<DeviceKey>,
    /// Who added each member (the founder: itself) and when.
    pub added: BTreeMap<DeviceKey, (DeviceKey, i64)>,
    /// When each revoked device was revoked, and by whom.
    pub revocations: BTreeMap<DeviceKey, (DeviceKey, i64)>,
}

/// One valid statement in the roster's graph.
struct Node {
    id: StatementId,
    statement: Statement,
    signer: DeviceKey,
    /// Indices of the statements it was made after (known ones only).
    parents: Vec<usize>,
    /// Its causal past: every statement it was made after, transitively (a bit set).
    past: Vec<u64>,
}

fn has(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// The valid statements of `group` as a graph in a deterministic topological order.
fn graph(group: &[u8; 16], statements: &BTreeSet<Signed>) -> Vec<Node> {
    let mut opened: BTreeMap<StatementId, Statement> = BTreeMap::new();
    for s in statements {
        if let Some(st) = s.open_statement(group) {
            // One body signed twice is one statement.
            opened.entry(s.id()).or_insert(st);
        }
    }
    // Statements of the first encoding carry no parents: they are read as a chain in
    // (at, id) order, each made after the ones before it (§6.2).
    let mut legacy: Vec<(i64, StatementId)> = opened
        .iter()
        .filter(|(_, s)| s.parents().is_empty())
        .map(|(id, s)| (s.at(), *id))
        .collect();
    legacy.sort();
    let mut deps: BTreeMap<StatementId, Vec<StatementId>> = BTreeMap::new();
    for (i, (_, id)) in legacy.iter().enumerate() {
        deps.insert(
            *id,
            i.checked_sub(1).map(|p| legacy[p].1).into_iter().collect(),
        );
    }
    for (id, s) in &opened {
        if !s.parents().is_empty() {
            let mut p: Vec<StatementId> = s
                .parents()
                .iter()
                .filter(|p| *p != id && opened.contains_key(p))
                .copied()
                .collect();
            p.sort();
            p.dedup();
            deps.insert(*id, p);
        }
    }
    // Kahn's algorithm; among the ready statements the smallest (at, id) goes first. A
    // statement in a cycle (impossible with hashes) is left out.
    let mut children: BTreeMap<StatementId, Vec<StatementId>> = BTreeMap::new();
    let mut waiting: BTreeMap<StatementId, usize> = BTreeMap::new();
    let mut ready: BTreeSet<(i64, StatementId)> = BTreeSet::new();
    for (id, p) in &deps {
        waiting.insert(*id, p.len());
        for q in p {
            children.entry(*q).or_default().push(*id);
        }
        if p.is_empty() {
            ready.insert((opened[id].at(), *id));
        }
    }
    let words = opened.len().div_ceil(64).max(1);
    let mut index: BTreeMap<StatementId, usize> = BTreeMap::new();
    let mut nodes: Vec<Node> = Vec::with_capacity(opened.len());
    while let Some((_, id)) = ready.pop_first() {
        let parents: Vec<usize> = deps[&id].iter().map(|p| index[p]).collect();
        let mut past = vec![0u64; words];
        for &p in &parents {
            for (w, v) in past.iter_mut().zip(&nodes[p].past) {
                *w |= v;
            }
            past[p / 64] |= 1 << (p % 64);
        }
        let statement = opened[&id].clone();
        index.insert(id, nodes.len());
        nodes.push(Node {
            id,
            signer: *statement.signer(),
            statement,
            parents,
            past,
        });
        for c in children.get(&id).into_iter().flatten() {
            let w = waiting.get_mut(c).expect("known");
            *w -= 1;
            if *w == 0 {
                ready.insert((opened[c].at(), *c));
            }
        }
    }
    nodes
}

/// Which statements count, when the statements in `killed` do not: each one whose signer
/// was an active member in its own causal past (the genesis always).
fn replay(nodes: &[Node], founder: &DeviceKey, killed: &[bool]) -> Vec<bool> {
    let mut counted = vec![false; nodes.len()];
    let mut adds: BTreeMap<DeviceKey, Vec<usize>> = BTreeMap::new();
    let mut revokes: BTreeMap<DeviceKey, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if killed[i] {
            continue;
        }
        let active = |k: &DeviceKey| {
            adds.get(k)
                .is_some_and(|v| v.iter().any(|&a| has(&n.past, a)))
                && !revokes
                    .get(k)
                    .is_some_and(|v| v.iter().any(|&r| has(&n.past, r)))
        };
        match &n.statement {
            Statement::Add { device, by, .. } => {
                let genesis = &device.key == founder && by == founder;
                if check_name(&device.name).is_ok() && (genesis || active(by)) {
                    counted[i] = true;
                    adds.entry(device.key).or_default().push(i);
                }
            }
            Statement::Revoke { device, by, .. } => {
                if device != by && active(by) {
                    counted[i] = true;
                    revokes.entry(*device).or_default().push(i);
                }
            }
        }
    }
    counted
}

impl Membership {
    /// Computes membership from `statements` for the group founded by `founder`
    /// (`docs/sync-protocol.md` §6.2). A pure function of the set: every device that holds
    /// the same statements computes the same membership, whatever order it learnt them in.
    pub fn compute(group: &[u8; 16], founder: &DeviceKey, statements: &BTreeSet<Signed>) -> Self {
        let nodes = graph(group, statements);
        // Seniority: the founder first, then each device by the causal position of its
        // earliest add that counts (how many statements came before it), its time and its
        // id. Only adds that count: a device cannot make itself senior with an add of its
        // own that names few parents, because its signer must have been a member then.
        let first = replay(&nodes, founder, &vec![false; nodes.len()]);
        let mut seniority: BTreeMap<DeviceKey, (u8, u32, i64, StatementId)> = BTreeMap::new();
        for (n, _) in nodes.iter().zip(&first).filter(|(_, c)| **c) {
            if let Statement::Add { device, at, .. } = &n.statement {
                let depth: u32 = n.past.iter().map(|w| w.count_ones()).sum();
                let rank = if &device.key == founder {
                    (0, 0, 0, StatementId([0; 32]))
                } else {
                    (1, depth, *at, n.id)
                };
                let e = seniority.entry(device.key).or_insert(rank);
                if rank < *e {
                    *e = rank;
                }
            }
        }
        let rank_of = |k: &DeviceKey| {
            seniority
                .get(k)
                .copied()
                .unwrap_or((2, u32::MAX, i64::MAX, StatementId([0xff; 32])))
        };
        // A revocation of X voids every statement of X that its signer had not seen
        // (outside its causal past): what X did concurrently with or after its removal.
        // Revocations take effect one at a time, the most senior signer's first, so of two
        // devices that revoke each other concurrently the more senior one stays.
        let mut killed = vec![false; nodes.len()];
        let mut decided = vec![false; nodes.len()];
        let counted = loop {
            let counted = replay(&nodes, founder, &killed);
            let next = nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| {
                    counted[*i] && !decided[*i] && matches!(n.statement, Statement::Revoke { .. })
                })
                .min_by_key(|(_, n)| (rank_of(&n.signer), n.statement.at(), n.id))
                .map(|(i, _)| i);
            let Some(r) = next else { break counted };
            decided[r] = true;
            let Statement::Revoke {
                device: target,
                survivors,
                parents,
                ..
            } = &nodes[r].statement
            else {
                unreachable!("a revocation")
            };
            for (j, n) in nodes.iter().enumerate() {
                let unseen = !has(&nodes[r].past, j) && j != r;
                // A revocation of the first encoding also voids the target's adds of
                // devices it did not name among the survivors.
                let unvouched = parents.is_empty()
                    && matches!(&n.statement, Statement::Add { device, .. }
                        if !survivors.iter().any(|s| s.0 == device.key));
                if n.signer == *target && (unseen || unvouched) {
                    killed[j] = true;
                }
            }
        };
        let mut members: BTreeMap<DeviceKey, Device> = BTreeMap::new();
        let mut added = BTreeMap::new();
        let mut revoked = BTreeSet::new();
        let mut revocations: BTreeMap<DeviceKey, (DeviceKey, i64)> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if !counted[i] {
                continue;
            }
            match &n.statement {
                Statement::Add { device, by, at, .. } => {
                    if let std::collections::btree_map::Entry::Vacant(e) = members.entry(device.key)
                    {
                        e.insert(device.clone());
                        added.insert(device.key, (*by, *at));
                    }
                }
                Statement::Revoke { device, by, at, .. } => {
                    revoked.insert(*device);
                    let r = revocations.entry(*device).or_insert((*by, *at));
                    if (*at, *by) < (r.1, r.0) {
                        *r = (*by, *at);
                    }
                }
            }
        }
        Membership {
            members,
            revoked,
            added,
            revocations,
        }
    }

    /// Active (not revoked) members.
    pub fn active(&self) -> Vec<&Device> {
        self.members
            .values()
            .filter(|d| !self.revoked.contains(&d.key))
            .collect()
    }

    /// Whether `key` is a member and not revoked.
    pub fn is_active(&self, key: &DeviceKey) -> bool {
        self.members.contains_key(key) && !self.revoked.contains(key)
    }

    /// Device by tag (members only).
    pub fn by_tag(&self, tag: u64) -> Option<&Device> {
        self.members.values().find(|d| d.tag() == tag)
    }

    /// A device's name for messages: its roster name, or its tag.
    pub fn name_of(&self, tag: u64) -> String {
        self.by_tag(tag)
            .map_or_else(|| format!("device {tag:016x}"), |d| d.name.clone())
    }
}

/// The statements a new statement is made after: the heads of `statements` (those no
/// other statement of the group was made after).
pub fn heads(group: &[u8; 16], statements: &BTreeSet<Signed>) -> Vec<StatementId> {
    let nodes = graph(group, statements);
    let mut is_parent = vec![false; nodes.len()];
    for n in &nodes {
        for &p in &n.parents {
            is_parent[p] = true;
        }
    }
    nodes
        .iter()
        .zip(is_parent)
        .filter(|(_, p)| !p)
        .map(|(n, _)| n.id)
        .collect()
}

/// Checks a device name.
pub fn check_name(name: &str) -> Result<(), SyncError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_LEN || n.chars().any(char::is_control) {
        return Err(SyncError::InvalidInput(format!(
            "a device name has 1 to {MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

/// The rotations of a group, one per epoch (a second, different rotation under the same
/// epoch id is ignored: the smaller body wins, on every device).
pub fn rotations_by_epoch(
    group: &[u8; 16],
    rotations: &BTreeSet<Signed>,
) -> BTreeMap<EpochId, (Rotation, Signed)> {
    let mut out: BTreeMap<EpochId, (Rotation, Signed)> = BTreeMap::new();
    for s in rotations {
        if let Some(r) = s.open_rotation(group) {
            match out.get(&r.epoch) {
                Some((_, existing)) if existing <= s => {}
                _ => {
                    out.insert(r.epoch, (r, s.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;

    struct Dev {
        sign: SigningKey,
        kx: SlotKeyPair,
        name: &'static str,
    }

    impl Dev {
        fn new(name: &'static str) -> Self {
            let rng = SystemRandom::new();
            let seed = crypto::random_key(&rng).unwrap();
            Dev {
                sign: SigningKey::generate(&rng).unwrap(),
                kx: SlotKeyPair::derive(seed.as_ref(), KX_LABEL),
                name,
            }
        }
        fn device(&self) -> Device {
            Device {
                key: self.sign.public(),
                kx: self.kx.public,
                name: self.name.into(),
            }
        }
    }

    const G: [u8; 16] = [7; 16];

    fn add(d: &Dev, by: &Dev, at: i64) -> Signed {
        Signed::statement(
            &Statement::Add {
                group: G,
                device: d.device(),
                by: by.sign.public(),
                at,
                parents: Vec::new(),
            },
            &by.sign,
        )
    }

    fn revoke(d: &Dev, by: &Dev, survivors: &[&Dev]) -> Signed {
        Signed::statement(
            &Statement::Revoke {
                group: G,
                device: d.sign.public(),
                by: by.sign.public(),
                at: 10,
                survivors: survivors
                    .iter()
                    .map(|s| DeviceKeyBytes(s.sign.public()))
                    .collect(),
                parents: Vec::new(),
            },
            &by.sign,
        )
    }

    #[test]
    fn adds_chain_from_the_founder_and_revocation_is_final() {
        let (a, b, c) = (Dev::new("a"), Dev::new("b"), Dev::new("c"));
        let mut set: BTreeSet<Signed> = [add(&a, &a, 1), add(&b, &a, 2), add(&c, &b, 3)].into();
        let m = Membership::compute(&G, &a.sign.public(), &set);
        assert_eq!(m.active().len(), 3);
        // A self-signed add by anyone but the founder is nothing.
        let stranger = Dev::new("x");
        set.insert(add(&stranger, &stranger, 4));
        let m = Membership::compute(&G, &a.sign.public(), &set);
        assert!(!m.members.contains_key(&stranger.sign.public()));
        // b is revoked by a, who vouches for c: c stays.
        set.insert(revoke(&b, &a, &[&a, &c]));
        let m = Membership::compute(&G, &a.sign.public(), &set);
        assert!(!m.is_active(&b.sign.public()));
        assert!(m.is_active(&c.sign.public()));
        // A device the revoked b adds afterwards (backdated) is not a member.
        let evil = Dev::new("evil");
        set.insert(add(&evil, &b, 2));
        let m = Membership::compute(&G, &a.sign.public(), &set);
        assert!(!m.members.contains_key(&evil.sign.public()));
        // A forged signature counts for nothing.
        let mut forged = add(&Dev::new("y"), &a, 5);
        forged.sig[0] ^= 1;
        set.insert(forged);
        assert_eq!(
            Membership::compute(&G, &a.sign.public(), &set)
                .members
                .len(),
            3
        );
    }

    /// A statement of the current encoding, made after everything in `seen`.
    fn after(
        seen: &BTreeSet<Signed>,
        by: &Dev,
        s: impl FnOnce(Vec<StatementId>) -> Statement,
    ) -> Signed {
        Signed::statement(&s(heads(&G, seen)), &by.sign)
    }

    fn add_after(seen: &BTreeSet<Signed>, d: &Dev, by: &Dev, at: i64) -> Signed {
        after(seen, by, |parents| Statement::Add {
            group: G,
            device: d.device(),
            by: by.sign.public(),
            at,
            parents,
        })
    }

    fn revoke_after(seen: &BTreeSet<Signed>, d: &Dev, by: &Dev, at: i64) -> Signed {
        after(seen, by, |parents| Statement::Revoke {
            group: G,
            device: d.sign.public(),
            by: by.sign.public(),
            at,
            survivors: Vec::new(),
            parents,
        })
    }

    #[test]
    fn a_revocation_voids_what_the_revoked_device_did_outside_the_revokers_view() {
        let (a, b, c, d, e) = (
            Dev::new("a"),
            Dev::new("b"),
            Dev::new("c"),
            Dev::new("d"),
            Dev::new("e"),
        );
        let mut set: BTreeSet<Signed> = [add(&a, &a, 1)].into();
        set.insert(add_after(&set, &b, &a, 2));
        set.insert(add_after(&set, &c, &b, 3));
        // c adds d, and the founder sees that before it revokes c.
        set.insert(add_after(&set, &d, &c, 4));
        let seen_by_a = set.clone();
        // Kept away from its revocation, c adds e and removes a and b.
        let stale = set.clone();
        set.insert(add_after(&stale, &e, &c, 5));
        set.insert(revoke_after(&stale, &a, &c, 6));
        set.insert(revoke_after(&stale, &b, &c, 6));
        set.insert(revoke_after(&seen_by_a, &c, &a, 7));
        let m = Membership::compute(&G, &a.sign.public(), &set);
        let key = |x: &Dev| x.sign.public();
        assert!(m.is_active(&key(&a)) && m.is_active(&key(&b)) && m.is_active(&key(&d)));
        assert!(!m.is_active(&key(&c)));
        assert!(!m.members.contains_key(&key(&e)));
        // Whatever subset a device learnt first, the whole set gives one answer; and a
        // statement made after seeing the revocation by the revoked device counts for nothing.
        set.insert(revoke_after(&set, &d, &c, 8));
        assert!(Membership::compute(&G, &a.sign.public(), &set).is_active(&key(&d)));
    }

    #[test]
    fn of_two_devices_revoking_each_other_at_once_the_senior_one_stays() {
        let (a, b, c) = (Dev::new("a"), Dev::new("b"), Dev::new("c"));
        let mut set: BTreeSet<Signed> = [add(&a, &a, 1)].into();
        set.insert(add_after(&set, &b, &a, 2));
        set.insert(add_after(&set, &c, &a, 3));
        let view = set.clone();
        // c even backdates its revocation and forges itself an early add naming few parents.
        set.insert(revoke_after(&view, &b, &c, 0));
        set.insert(revoke_after(&view, &c, &b, 9));
        let genesis_only: BTreeSet<Signed> = [add(&a, &a, 1)].into();
        set.insert(add_after(&genesis_only, &c, &c, 0));
        let m = Membership::compute(&G, &a.sign.public(), &set);
        assert!(m.is_active(&b.sign.public()), "b joined first");
        assert!(!m.is_active(&c.sign.public()));
        assert!(m.is_active(&a.sign.public()));
    }

    #[test]
    fn epoch_keys_unwrap_only_for_recipients() {
        let rng = SystemRandom::new();
        let (a, b, c) = (Dev::new("a"), Dev::new("b"), Dev::new("c"));
        let epoch = EpochId {
            n: 1,
            by: a.device().tag(),
        };
        let (signed, key) =
            Rotation::create(&G, epoch, &a.sign, &[a.device(), b.device()], 5, &rng).unwrap();
        let r = signed.open_rotation(&G).unwrap();
        assert_eq!(r.unwrap(b.device().tag(), &b.kx).unwrap(), key);
        assert!(r.unwrap(c.device().tag(), &c.kx).is_none());
        // Claiming c's tag does not help c's key open b's wrap.
        assert!(r.unwrap(b.device().tag(), &c.kx).is_none());
        assert!(signed.open_rotation(&[8; 16]).is_none());
    }
}
