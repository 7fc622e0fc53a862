//! The replicated state of a sync group: every entry as a set of last-writer-wins registers
//! stamped with hybrid logical clocks, HOTP counters and usage merged by maximum, tombstones
//! for purged entries, and the conflicts kept for the user's review
//! (`docs/sync-protocol.md` §5).
//!
//! Three operations, all deterministic:
//!
//! * [`Doc::record_local`] turns the difference between the vault's content and the content
//!   the document stood for at the last sync into register writes — ordinary vault edits need
//!   no sync bookkeeping;
//! * [`Doc::merge`] joins another device's document in (register by register: the larger
//!   stamp wins; counters by maximum) and notes concurrent writes whose loser must be kept;
//! * [`Doc::materialize`] turns the document back into vault content.
//!
//! Merging is commutative, associative and idempotent; [`Doc::normalize`] (run after every
//! merge) drops what a tombstone covers, so a purged secret leaves every later file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::hlc::{self, Stamp};
use crate::Secret;
use crate::otp::OtpKind;
use crate::vault::model::{
    self, CONTENT_VERSION, Entry, EntryId, Group, GroupId, IconRef, Settings, VaultContent,
};

/// A purged entry's tombstone is forgotten after this long (a device offline for longer
/// could bring the entry back; losing a 2FA secret is worse than seeing it again).
pub const TOMBSTONE_TTL_MS: i64 = 400 * 24 * 3600 * 1000;
/// A resolved conflict is forgotten after this long.
pub const RESOLVED_TTL_MS: i64 = 90 * 24 * 3600 * 1000;

/// One last-writer-wins register, encoded as `[stamp, prev, value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reg<T> {
    /// Who wrote this value, when.
    pub stamp: Stamp,
    /// The stamp of the value the writer replaced: what it had seen of this register.
    pub prev: Stamp,
    /// The value.
    pub value: T,
}

impl<T: Serialize> Serialize for Reg<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.stamp, &self.prev, &self.value).serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Reg<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (stamp, prev, value) = <(Stamp, Stamp, T)>::deserialize(d)?;
        Ok(Reg { stamp, prev, value })
    }
}

/// A register that lost to a concurrent write (its writer had not seen the winner's value,
/// and the winner's writer had not seen it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost<T> {
    /// The register that lost, with its value.
    pub loser: Reg<T>,
    /// The stamp of the write that won.
    pub winner: Stamp,
}

/// Bytes that order two values with the same stamp (only a value written twice under one
/// stamp, e.g. a conflict copy made on two devices, needs this).
fn value_key<T: Serialize>(v: &T) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(rmp_serde::to_vec(v).unwrap_or_default())
}

impl<T: Clone + PartialEq + Serialize> Reg<T> {
    /// A register holding `value`, written at `stamp` over the value stamped `prev`.
    pub fn new(stamp: Stamp, prev: Stamp, value: T) -> Self {
        Reg { stamp, prev, value }
    }

    /// Whether `other` wins over `self`.
    fn loses_to(&self, other: &Reg<T>) -> bool {
        match other.stamp.cmp(&self.stamp) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                value_key(&other.value).as_slice() > value_key(&self.value).as_slice()
            }
        }
    }

    /// Joins `other` in. Returns the loser when the two were written concurrently (the
    /// winner's writer had not seen the loser), even with the same value: two devices that
    /// set one value concurrently both lose to a third device's value, so whether a loser is
    /// kept is decided only after every merge, against the register's final value
    /// ([`Doc::normalize`]).
    pub fn merge(&mut self, other: &Reg<T>) -> Option<Lost<T>> {
        if self.stamp == other.stamp && self.value == other.value {
            return None;
        }
        let other_wins = self.loses_to(other);
        let (winner, loser) = if other_wins {
            (other, &*self)
        } else {
            (&*self, other)
        };
        let lost = (winner.prev < loser.stamp).then(|| Lost {
            loser: loser.clone(),
            winner: winner.stamp,
        });
        if other_wins {
            *self = other.clone();
        }
        lost
    }
}

/// The code kind and the secret: one register, because a secret with another entry's digits
/// or period is broken. The HOTP counter is kept outside (merged by maximum) and is 0 here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Otp {
    /// The code kind and its settings (for HOTP with counter 0).
    #[serde(rename = "k")]
    pub kind: OtpKind,
    /// The shared secret.
    #[serde(rename = "x")]
    pub secret: Secret,
}

impl Otp {
    fn of(entry: &Entry) -> Self {
        Otp {
            kind: without_counter(entry.kind),
            secret: entry.secret.clone(),
        }
    }
}

fn without_counter(kind: OtpKind) -> OtpKind {
    match kind {
        OtpKind::Hotp {
            algorithm, digits, ..
        } => OtpKind::Hotp {
            algorithm,
            digits,
            counter: 0,
        },
        other => other,
    }
}

fn counter_of(kind: &OtpKind) -> u64 {
    match kind {
        OtpKind::Hotp { counter, .. } => *counter,
        _ => 0,
    }
}

/// The fields of an entry that have a register of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Field {
    /// The secret together with the code kind and settings.
    Otp,
    /// The issuer (service name).
    Issuer,
    /// The account name.
    Account,
    /// The free-text note.
    Note,
    /// The user-defined groups the entry is in.
    Groups,
    /// Whether the entry is a favorite.
    Favorite,
    /// The icon-pack reference.
    Icon,
    /// The entry's position in the list (no conflict is recorded).
    Sort,
    /// Whether and since when the entry is in the trash (no conflict is recorded).
    Trash,
}

impl Field {
    /// What the user calls the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Otp => "secret and code settings",
            Field::Issuer => "issuer",
            Field::Account => "account",
            Field::Note => "note",
            Field::Groups => "groups",
            Field::Favorite => "favorite",
            Field::Icon => "icon",
            Field::Sort => "position",
            Field::Trash => "trash",
        }
    }
}

/// One entry as the group replicates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDoc {
    /// The entry's id (the same on every device).
    #[serde(rename = "id")]
    pub id: EntryId,
    /// Creation time (ms): the earliest any device knows.
    #[serde(rename = "c")]
    pub created: i64,
    /// Last edit time (ms) as the vault records it: the latest any device knows.
    #[serde(rename = "u")]
    pub updated: i64,
    /// The secret and code settings (HOTP counter 0: it is kept in `counter`).
    #[serde(rename = "o")]
    pub otp: Reg<Otp>,
    /// HOTP counter: the highest any device used (never goes back).
    #[serde(rename = "n")]
    pub counter: u64,
    /// The issuer (empty: none).
    #[serde(rename = "i")]
    pub issuer: Reg<String>,
    /// The account name (empty: none).
    #[serde(rename = "a")]
    pub account: Reg<String>,
    /// The note (empty: none).
    #[serde(rename = "m")]
    pub note: Reg<String>,
    /// Ids of the groups the entry is in (empty: none).
    #[serde(rename = "g")]
    pub groups: Reg<Vec<GroupId>>,
    /// Whether the entry is a favorite.
    #[serde(rename = "f")]
    pub favorite: Reg<bool>,
    /// The icon-pack reference (`None`: no icon).
    #[serde(rename = "ic")]
    pub icon: Reg<Option<IconRef>>,
    /// Sort key: the entry's position in the list (lower first).
    #[serde(rename = "k")]
    pub sort: Reg<i64>,
    /// `Some(ms)`: moved to the trash then; `None`: not in the trash.
    #[serde(rename = "t")]
    pub trash: Reg<Option<i64>>,
    /// Last use (ms): the latest any device knows.
    #[serde(rename = "l")]
    pub last_used: Option<i64>,
    /// Uses counted on each device (device tag → count); the entry's count is the sum.
    #[serde(rename = "q")]
    pub uses: BTreeMap<u64, u64>,
    /// Recovery codes as a grow-only set by code text → (used, earliest known used date):
    /// joined by union, used = either, the earliest date (so merging commutes). A code is
    /// never removed by sync. Absent in documents written before recovery codes existed.
    #[serde(rename = "rc", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recovery: BTreeMap<String, (bool, Option<i64>)>,
}

impl Drop for EntryDoc {
    fn drop(&mut self) {
        self.issuer.value.zeroize();
        self.account.value.zeroize();
        self.note.value.zeroize();
        for (mut code, _) in std::mem::take(&mut self.recovery) {
            code.zeroize();
        }
    }
}

/// Joins recovery codes into the set.
fn join_codes(
    set: &mut BTreeMap<String, (bool, Option<i64>)>,
    codes: impl IntoIterator<Item = (String, (bool, Option<i64>))>,
) {
    for (code, (used, at)) in codes {
        let mine = set.entry(code).or_insert((false, None));
        mine.0 |= used;
        mine.1 = crate::vault::recovery_codes::earliest(mine.1, at);
    }
}

fn codes_of(e: &Entry) -> impl Iterator<Item = (String, (bool, Option<i64>))> + '_ {
    e.recovery_codes
        .iter()
        .map(|c| (c.code.clone(), (c.used, c.used_at)))
}

impl EntryDoc {
    /// The latest write to a field the user edits (what a tombstone is compared with).
    pub fn newest_edit(&self) -> Stamp {
        [
            self.otp.stamp,
            self.issuer.stamp,
            self.account.stamp,
            self.note.stamp,
            self.groups.stamp,
            self.favorite.stamp,
            self.icon.stamp,
            self.sort.stamp,
            self.trash.stamp,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }

    /// The latest write other than position and trash: an edit after a move to the trash
    /// (on another device) takes the entry out of it.
    fn newest_content_edit(&self) -> Stamp {
        [
            self.otp.stamp,
            self.issuer.stamp,
            self.account.stamp,
            self.note.stamp,
            self.groups.stamp,
            self.favorite.stamp,
            self.icon.stamp,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }

    /// A new entry's registers, all written at `stamp`.
    fn from_entry(e: &Entry, stamp: Stamp, device: u64) -> Self {
        let reg = |v| Reg::new(stamp, Stamp::ZERO, v);
        let mut uses = BTreeMap::new();
        if e.use_count > 0 {
            uses.insert(device, e.use_count);
        }
        EntryDoc {
            id: e.id,
            created: e.created_at,
            updated: e.updated_at,
            otp: Reg::new(stamp, Stamp::ZERO, Otp::of(e)),
            counter: counter_of(&e.kind),
            issuer: reg(e.issuer.clone()),
            account: reg(e.account.clone()),
            note: reg(e.note.clone()),
            groups: Reg::new(stamp, Stamp::ZERO, e.group_ids.clone()),
            favorite: Reg::new(stamp, Stamp::ZERO, e.favorite),
            icon: Reg::new(stamp, Stamp::ZERO, e.icon.clone()),
            sort: Reg::new(stamp, Stamp::ZERO, e.sort_key),
            trash: Reg::new(stamp, Stamp::ZERO, e.deleted_at),
            last_used: e.last_used_at,
            uses,
            recovery: codes_of(e).collect(),
        }
    }

    fn use_count(&self) -> u64 {
        self.uses.values().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// Whether the entry shows in the trash.
    fn trashed(&self) -> Option<i64> {
        match self.trash.value {
            Some(at) if self.trash.stamp > self.newest_content_edit() => Some(at),
            _ => None,
        }
    }

    fn merge(&mut self, other: &EntryDoc, lost: &mut Vec<(EntryId, Field, LostValue)>) {
        let id = self.id;
        macro_rules! reg {
            ($f:ident, $field:expr, $wrap:expr) => {
                if let Some(l) = self.$f.merge(&other.$f) {
                    lost.push((id, $field, $wrap(l)));
                }
            };
        }
        reg!(otp, Field::Otp, LostValue::Otp);
        reg!(issuer, Field::Issuer, LostValue::Text);
        reg!(account, Field::Account, LostValue::Text);
        reg!(note, Field::Note, LostValue::Text);
        reg!(groups, Field::Groups, LostValue::Groups);
        reg!(favorite, Field::Favorite, LostValue::Flag);
        reg!(icon, Field::Icon, LostValue::Icon);
        // Position and trash resolve silently: there is nothing to review in either.
        self.sort.merge(&other.sort);
        self.trash.merge(&other.trash);
        self.created = self.created.min(other.created);
        self.updated = self.updated.max(other.updated);
        self.counter = self.counter.max(other.counter);
        self.last_used = self.last_used.max(other.last_used);
        for (device, n) in &other.uses {
            let mine = self.uses.entry(*device).or_insert(0);
            *mine = (*mine).max(*n);
        }
        join_codes(
            &mut self.recovery,
            other.recovery.iter().map(|(k, v)| (k.clone(), *v)),
        );
    }

    /// The entry's recovery codes: the set joined as the vault joins lists
    /// ([`crate::vault::recovery_codes::merge_into`]: one code in two spellings, typed on two
    /// devices, is one code, used if either used it), in text order; a union of several
    /// devices' lists past the limit keeps the first codes in that order (the same on every
    /// device).
    fn recovery_codes(&self) -> Vec<crate::vault::recovery_codes::RecoveryCode> {
        use crate::vault::recovery_codes::{RecoveryCode, merge_into};
        let all: Vec<RecoveryCode> = self
            .recovery
            .iter()
            .map(|(code, (used, at))| RecoveryCode {
                code: code.clone(),
                used: *used,
                used_at: *at,
            })
            .collect();
        let mut list = Vec::new();
        merge_into(&mut list, &all);
        list.truncate(crate::limits::MAX_RECOVERY_CODES);
        list
    }

    fn to_entry(&self, live_groups: &BTreeMap<GroupId, GroupDoc>) -> Entry {
        let kind = match self.otp.value.kind {
            OtpKind::Hotp {
                algorithm, digits, ..
            } => OtpKind::Hotp {
                algorithm,
                digits,
                counter: self.counter,
            },
            other => other,
        };
        Entry {
            id: self.id,
            kind,
            secret: self.otp.value.secret.clone(),
            issuer: self.issuer.value.clone(),
            account: self.account.value.clone(),
            note: self.note.value.clone(),
            group_ids: self
                .groups
                .value
                .iter()
                .filter(|g| live_groups.contains_key(g))
                .copied()
                .collect(),
            favorite: self.favorite.value,
            icon: self.icon.value.clone(),
            created_at: self.created,
            updated_at: self.updated,
            last_used_at: self.last_used,
            use_count: self.use_count(),
            sort_key: self.sort.value,
            deleted_at: self.trashed(),
            recovery_codes: self.recovery_codes(),
        }
    }
}

/// A losing value, as [`EntryDoc::merge`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LostValue {
    /// The secret and code settings.
    Otp(Lost<Otp>),
    /// Issuer, account or note.
    Text(Lost<String>),
    /// The group ids.
    Groups(Lost<Vec<GroupId>>),
    /// The favorite flag.
    Flag(Lost<bool>),
    /// The icon reference.
    Icon(Lost<Option<IconRef>>),
}

impl LostValue {
    /// The stamp of what the losing write replaced.
    fn prev(&self) -> Stamp {
        match self {
            LostValue::Otp(l) => l.loser.prev,
            LostValue::Text(l) => l.loser.prev,
            LostValue::Groups(l) => l.loser.prev,
            LostValue::Flag(l) => l.loser.prev,
            LostValue::Icon(l) => l.loser.prev,
        }
    }

    /// The losing write's stamp.
    fn loser(&self) -> Stamp {
        match self {
            LostValue::Otp(l) => l.loser.stamp,
            LostValue::Text(l) => l.loser.stamp,
            LostValue::Groups(l) => l.loser.stamp,
            LostValue::Flag(l) => l.loser.stamp,
            LostValue::Icon(l) => l.loser.stamp,
        }
    }

    /// The losing value's encoding (what two losers are compared by).
    fn value_key(&self) -> zeroize::Zeroizing<Vec<u8>> {
        match self {
            LostValue::Otp(l) => value_key(&l.loser.value),
            LostValue::Text(l) => value_key(&l.loser.value),
            LostValue::Groups(l) => value_key(&l.loser.value),
            LostValue::Flag(l) => value_key(&l.loser.value),
            LostValue::Icon(l) => value_key(&l.loser.value),
        }
    }
}

/// The stamp, prev and value encoding of a field's register now (`None`: a field whose
/// losers are not kept).
fn current(e: &EntryDoc, field: Field) -> Option<(Stamp, Stamp, zeroize::Zeroizing<Vec<u8>>)> {
    fn of<T: Serialize>(r: &Reg<T>) -> (Stamp, Stamp, zeroize::Zeroizing<Vec<u8>>) {
        (r.stamp, r.prev, value_key(&r.value))
    }
    Some(match field {
        Field::Otp => of(&e.otp),
        Field::Issuer => of(&e.issuer),
        Field::Account => of(&e.account),
        Field::Note => of(&e.note),
        Field::Groups => of(&e.groups),
        Field::Favorite => of(&e.favorite),
        Field::Icon => of(&e.icon),
        Field::Sort | Field::Trash => return None,
    })
}

/// A user-defined group as the group replicates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDoc {
    /// The group's id (the same on every device).
    #[serde(rename = "id")]
    pub id: GroupId,
    /// The group's name.
    #[serde(rename = "n")]
    pub name: Reg<String>,
    /// Sort key: the group's position (lower first).
    #[serde(rename = "k")]
    pub sort: Reg<i64>,
}

impl GroupDoc {
    fn newest_edit(&self) -> Stamp {
        self.name.stamp.max(self.sort.stamp)
    }
}

/// The value that lost a concurrent write, kept for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConflictValue {
    /// Issuer, account or note.
    Text(String),
    /// The group ids.
    Groups(Vec<GroupId>),
    /// The favorite flag.
    Flag(bool),
    /// The icon reference (`None`: no icon).
    Icon(Option<IconRef>),
    /// The secret (and code settings): the losing secret lives on as this entry.
    Entry(EntryId),
}

impl Drop for ConflictValue {
    fn drop(&mut self) {
        if let ConflictValue::Text(t) = self {
            t.zeroize();
        }
    }
}

/// Two devices changed one field of one entry without seeing each other's change. The
/// larger stamp won; the other value is kept here until the user resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The entry both devices changed.
    #[serde(rename = "e")]
    pub entry: EntryId,
    /// The field both devices changed.
    #[serde(rename = "f")]
    pub field: Field,
    /// The write that won (device tag and time).
    #[serde(rename = "w")]
    pub winner: Stamp,
    /// The write that lost.
    #[serde(rename = "l")]
    pub loser: Stamp,
    /// The losing value.
    #[serde(rename = "v")]
    pub value: ConflictValue,
    /// Resolved by the user (on any device).
    #[serde(rename = "r")]
    pub resolved: Reg<bool>,
}

/// Identifies a conflict on every device: the entry, the field and the losing write.
pub type ConflictKey = (EntryId, Field, Stamp);

impl Conflict {
    /// The key that names this conflict on every device.
    pub fn key(&self) -> ConflictKey {
        (self.entry, self.field, self.loser)
    }
}

/// Maps serialized as lists of their values (each value carries its key).
mod as_list {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub trait Keyed {
        type Key: Ord;
        fn key(&self) -> Self::Key;
    }

    impl Keyed for EntryDoc {
        type Key = EntryId;
        fn key(&self) -> EntryId {
            self.id
        }
    }

    impl Keyed for GroupDoc {
        type Key = GroupId;
        fn key(&self) -> GroupId {
            self.id
        }
    }

    impl Keyed for Conflict {
        type Key = ConflictKey;
        fn key(&self) -> ConflictKey {
            Conflict::key(self)
        }
    }

    pub fn serialize<S: Serializer, V: Keyed + Serialize>(
        map: &BTreeMap<V::Key, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Keyed + Deserialize<'de>>(
        d: D,
    ) -> Result<BTreeMap<V::Key, V>, D::Error> {
        let list = Vec::<V>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for v in list {
            if out.insert(v.key(), v).is_some() {
                return Err(serde::de::Error::custom("duplicate key"));
            }
        }
        Ok(out)
    }
}

/// The replicated state of the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doc {
    /// Every entry not purged, by id (entries in the trash included).
    #[serde(rename = "e", with = "as_list", default)]
    pub entries: BTreeMap<EntryId, EntryDoc>,
    /// Tombstones of purged entries: purged at this stamp.
    #[serde(rename = "x", default)]
    pub purged: BTreeMap<EntryId, Stamp>,
    /// Every user-defined group not deleted, by id.
    #[serde(rename = "g", with = "as_list", default)]
    pub groups: BTreeMap<GroupId, GroupDoc>,
    /// Tombstones of deleted groups: deleted at this stamp.
    #[serde(rename = "gx", default)]
    pub groups_purged: BTreeMap<GroupId, Stamp>,
    /// Trash retention in days (a stamp of zero: never set, the default applies).
    #[serde(rename = "r", default = "default_retention")]
    pub retention: Reg<u32>,
    /// Conflicts kept for review (resolved ones too, until [`RESOLVED_TTL_MS`] passes).
    #[serde(rename = "k", with = "as_list", default)]
    pub conflicts: BTreeMap<ConflictKey, Conflict>,
    /// Concurrent losers found by [`Doc::merge`], kept (as conflicts, a losing secret as an
    /// entry) or dropped by [`Doc::normalize`] once every merge is done, so that what is kept
    /// does not depend on the order of the merges.
    #[serde(skip)]
    pending: Vec<(EntryId, Field, LostValue)>,
}

impl Default for Doc {
    fn default() -> Self {
        Doc {
            entries: BTreeMap::new(),
            purged: BTreeMap::new(),
            groups: BTreeMap::new(),
            groups_purged: BTreeMap::new(),
            retention: default_retention(),
            conflicts: BTreeMap::new(),
            pending: Vec::new(),
        }
    }
}

fn default_retention() -> Reg<u32> {
    Reg::new(
        Stamp::ZERO,
        Stamp::ZERO,
        Settings::default().trash_retention_days,
    )
}

/// The device's clock while it records and merges.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The last clock value this device issued or merged.
    pub last: u64,
    /// This device's tag.
    pub device: u64,
    /// Wall time (ms).
    pub now: i64,
}

impl Clock {
    /// A stamp for a change made at `hint_ms`, later than everything seen and than `prev`.
    pub fn stamp(&mut self, hint_ms: i64, prev: Stamp) -> Stamp {
        let mut t = hlc::tick(self.last, hint_ms, self.now);
        if t <= prev.time {
            t = prev.time.saturating_add(1);
        }
        self.last = self.last.max(t);
        Stamp::new(t, self.device)
    }

    /// Moves the clock past a merged stamp, unless it is implausibly far ahead.
    pub fn observe(&mut self, t: u64) -> bool {
        if hlc::adoptable(t, self.now) {
            self.last = self.last.max(t);
            true
        } else {
            false
        }
    }
}

/// The id of the entry that keeps a losing secret: the same on every device that sees the
/// conflict.
pub fn conflict_entry_id(entry: EntryId, loser: Stamp) -> EntryId {
    let mut data = Vec::with_capacity(48);
    data.extend_from_slice(b"twofold/sync/1 conflict entry");
    data.extend_from_slice(&entry.0);
    data.extend_from_slice(&loser.time.to_be_bytes());
    data.extend_from_slice(&loser.device.to_be_bytes());
    let digest = crate::crypto::sha256(&data);
    model::Id::from_random(digest[..16].try_into().expect("16 bytes"))
}

/// What [`Doc::merge`] found.
#[derive(Debug, Default)]
pub struct MergeOutcome {
    /// The largest clock value merged, and whether some stamp was too far ahead to adopt.
    pub max_time: u64,
}

impl Doc {
    /// The content this document stands for. `local` supplies what is not replicated (the
    /// device's clock offset).
    pub fn materialize(&self, local: &Settings) -> VaultContent {
        let mut entries: Vec<Entry> = self
            .entries
            .values()
            .map(|e| e.to_entry(&self.groups))
            .collect();
        entries.sort_by_key(|a| (a.sort_key, a.id));
        // Two devices that each added an entry at the end gave both the same place: every
        // device moves the later id one step on, so no two entries share a place.
        let mut previous: Option<i64> = None;
        for e in &mut entries {
            if let Some(p) = previous
                && e.sort_key <= p
            {
                e.sort_key = p.saturating_add(1);
            }
            previous = Some(e.sort_key);
        }
        let mut groups: Vec<Group> = self
            .groups
            .values()
            .map(|g| Group {
                id: g.id,
                name: g.name.value.clone(),
                sort_key: g.sort.value,
            })
            .collect();
        groups.sort_by_key(|a| (a.sort_key, a.id));
        VaultContent {
            version: CONTENT_VERSION,
            entries,
            groups,
            settings: Settings {
                clock_offset_s: local.clock_offset_s,
                trash_retention_days: self
                    .retention
                    .value
                    .clamp(1, model::MAX_TRASH_RETENTION_DAYS),
            },
        }
    }

    /// Records how `local` differs from `base` (what this document materialized to at the
    /// last sync) as writes by this device. Returns how many fields the user changed (times
    /// and usage statistics are recorded too, but not counted).
    pub fn record_local(
        &mut self,
        base: &VaultContent,
        local: &VaultContent,
        clock: &mut Clock,
    ) -> usize {
        let mut changes = 0;
        let base_entries: BTreeMap<EntryId, &Entry> =
            base.entries.iter().map(|e| (e.id, e)).collect();
        let local_ids: std::collections::BTreeSet<EntryId> =
            local.entries.iter().map(|e| e.id).collect();
        for e in &local.entries {
            match (base_entries.get(&e.id), self.entries.get_mut(&e.id)) {
                (Some(b), Some(d)) => changes += record_entry(d, b, e, clock),
                _ => {
                    // New here (or back after a purge, e.g. restored from a backup): every
                    // register is written now, above any tombstone this device has merged.
                    let floor = self.purged.get(&e.id).copied().unwrap_or_default();
                    let stamp = clock.stamp(e.created_at.max(e.updated_at), floor);
                    let doc = EntryDoc::from_entry(e, stamp, clock.device);
                    self.entries.insert(e.id, doc);
                    changes += 1;
                }
            }
        }
        for b in &base.entries {
            if !local_ids.contains(&b.id) && self.entries.contains_key(&b.id) {
                let prev = self.entries[&b.id].newest_edit();
                let stamp = clock.stamp(clock.now, prev);
                let t = self.purged.entry(b.id).or_default();
                *t = (*t).max(stamp);
                changes += 1;
            }
        }
        changes += self.record_groups(base, local, clock);
        if local.settings.trash_retention_days != base.settings.trash_retention_days {
            let prev = self.retention.stamp;
            self.retention = Reg::new(
                clock.stamp(clock.now, prev),
                prev,
                local.settings.trash_retention_days,
            );
            changes += 1;
        }
        self.normalize(clock.now);
        changes
    }

    fn record_groups(
        &mut self,
        base: &VaultContent,
        local: &VaultContent,
        clock: &mut Clock,
    ) -> usize {
        let mut changes = 0;
        let base_groups: BTreeMap<GroupId, &Group> =
            base.groups.iter().map(|g| (g.id, g)).collect();
        for g in &local.groups {
            match (base_groups.get(&g.id), self.groups.get_mut(&g.id)) {
                (Some(b), Some(d)) => {
                    if b.name != g.name {
                        let prev = d.name.stamp;
                        d.name = Reg::new(clock.stamp(clock.now, prev), prev, g.name.clone());
                        changes += 1;
                    }
                    if b.sort_key != g.sort_key {
                        let prev = d.sort.stamp;
                        d.sort = Reg::new(clock.stamp(clock.now, prev), prev, g.sort_key);
                        changes += 1;
                    }
                }
                _ => {
                    let floor = self.groups_purged.get(&g.id).copied().unwrap_or_default();
                    let stamp = clock.stamp(clock.now, floor);
                    self.groups.insert(
                        g.id,
                        GroupDoc {
                            id: g.id,
                            name: Reg::new(stamp, Stamp::ZERO, g.name.clone()),
                            sort: Reg::new(stamp, Stamp::ZERO, g.sort_key),
                        },
                    );
                    changes += 1;
                }
            }
        }
        let local_ids: std::collections::BTreeSet<GroupId> =
            local.groups.iter().map(|g| g.id).collect();
        for b in &base.groups {
            if !local_ids.contains(&b.id) && self.groups.contains_key(&b.id) {
                let prev = self.groups[&b.id].newest_edit();
                let stamp = clock.stamp(clock.now, prev);
                let t = self.groups_purged.entry(b.id).or_default();
                *t = (*t).max(stamp);
                changes += 1;
            }
        }
        changes
    }

    /// Joins `other` in, noting the concurrent losers. Call [`Doc::normalize`] after the last
    /// merge: it records the conflicts to review and creates the entries that keep losing
    /// secrets.
    pub fn merge(&mut self, other: &Doc) -> MergeOutcome {
        let mut out = MergeOutcome::default();
        let mut lost = Vec::new();
        for (id, theirs) in &other.entries {
            out.max_time = out.max_time.max(theirs.newest_edit().time);
            match self.entries.get_mut(id) {
                Some(mine) => mine.merge(theirs, &mut lost),
                None => {
                    self.entries.insert(*id, theirs.clone());
                }
            }
        }
        for (id, t) in &other.purged {
            out.max_time = out.max_time.max(t.time);
            let mine = self.purged.entry(*id).or_default();
            *mine = (*mine).max(*t);
        }
        for (id, theirs) in &other.groups {
            out.max_time = out.max_time.max(theirs.newest_edit().time);
            match self.groups.get_mut(id) {
                Some(mine) => {
                    mine.name.merge(&theirs.name);
                    mine.sort.merge(&theirs.sort);
                }
                None => {
                    self.groups.insert(*id, theirs.clone());
                }
            }
        }
        for (id, t) in &other.groups_purged {
            out.max_time = out.max_time.max(t.time);
            let mine = self.groups_purged.entry(*id).or_default();
            *mine = (*mine).max(*t);
        }
        out.max_time = out.max_time.max(other.retention.stamp.time);
        self.retention.merge(&other.retention);
        for (key, theirs) in &other.conflicts {
            out.max_time = out.max_time.max(theirs.resolved.stamp.time);
            match self.conflicts.get_mut(key) {
                Some(mine) => {
                    mine.resolved.merge(&theirs.resolved);
                }
                None => {
                    self.conflicts.insert(*key, theirs.clone());
                }
            }
        }
        self.pending.extend(lost);
        out
    }

    /// Keeps the concurrent losers the merges since the last call found, as a function of
    /// their set and of the merged registers only (not of the order of the merges): a loser
    /// whose value the register holds now is dropped (two devices wrote the same value), and
    /// of the losers of one field with one value only the latest is kept. Returns the
    /// conflicts recorded, and the losing secrets to make into entries.
    fn keep_losers(&mut self) -> (Vec<ConflictKey>, Vec<(EntryId, Reg<Otp>)>) {
        // Per field: each losing value's encoding and its latest loser.
        type Losers = Vec<(zeroize::Zeroizing<Vec<u8>>, LostValue)>;
        let mut best: BTreeMap<(EntryId, Field), Losers> = BTreeMap::new();
        let pending = std::mem::take(&mut self.pending);
        // Per field: the latest value any write met in these merges had replaced. A loser at
        // or below it was overwritten knowingly by that write (which may have met the winner
        // only after the loser did), so nothing of it is lost.
        let mut seen: BTreeMap<(EntryId, Field), Stamp> = BTreeMap::new();
        for (entry, field, lost) in &pending {
            let s = seen.entry((*entry, *field)).or_default();
            *s = (*s).max(lost.prev());
        }
        for (entry, field, lost) in pending {
            let Some((_, prev, now)) = self.entries.get(&entry).and_then(|e| current(e, field))
            else {
                continue;
            };
            let key = lost.value_key();
            let replaced = seen.get(&(entry, field)).copied().unwrap_or_default();
            if key == now || prev.max(replaced) >= lost.loser() {
                continue;
            }
            let losers = best.entry((entry, field)).or_default();
            match losers.iter_mut().find(|(k, _)| *k == key) {
                Some(b) => {
                    if lost.loser() > b.1.loser() {
                        b.1 = lost;
                    }
                }
                None => losers.push((key, lost)),
            }
        }
        let mut keys = Vec::new();
        let mut copies = Vec::new();
        for ((entry, field), mut losers) in best {
            let Some((winner, _, _)) = self.entries.get(&entry).and_then(|e| current(e, field))
            else {
                continue;
            };
            losers.sort_by_key(|(_, l)| l.loser());
            for (_, lost) in losers {
                if let Some(key) = self.keep_loser(entry, field, winner, lost, &mut copies) {
                    keys.push(key);
                }
            }
        }
        (keys, copies)
    }

    /// Keeps a losing value: a conflict record, and for a secret an entry of its own.
    fn keep_loser(
        &mut self,
        entry: EntryId,
        field: Field,
        winner: Stamp,
        lost: LostValue,
        copies: &mut Vec<(EntryId, Reg<Otp>)>,
    ) -> Option<ConflictKey> {
        let loser = lost.loser();
        let key = (entry, field, loser);
        if self.conflicts.contains_key(&key) {
            return None;
        }
        let value = match lost {
            LostValue::Otp(l) => {
                let id = conflict_entry_id(entry, loser);
                copies.push((entry, l.loser));
                ConflictValue::Entry(id)
            }
            LostValue::Text(l) => ConflictValue::Text(l.loser.value.clone()),
            LostValue::Groups(l) => ConflictValue::Groups(l.loser.value.clone()),
            LostValue::Flag(l) => ConflictValue::Flag(l.loser.value),
            LostValue::Icon(l) => ConflictValue::Icon(l.loser.value.clone()),
        };
        self.conflicts.insert(
            key,
            Conflict {
                entry,
                field,
                winner,
                loser,
                value,
                resolved: Reg::new(Stamp::ZERO, Stamp::ZERO, false),
            },
        );
        Some(key)
    }

    /// Keeps the concurrent losers of the merges since the last call (conflicts, and entries
    /// for losing secrets), then drops what tombstones cover (the registers of purged
    /// entries: their secrets leave every later file), tombstones past
    /// [`TOMBSTONE_TTL_MS`], and conflicts that no longer concern anything. Returns the
    /// conflicts recorded for the first time.
    pub fn normalize(&mut self, now: i64) -> Vec<ConflictKey> {
        let (new_conflicts, copies) = self.keep_losers();
        for (entry, loser) in copies {
            let id = conflict_entry_id(entry, loser.stamp);
            if self.entries.contains_key(&id) {
                continue;
            }
            let Some(original) = self.entries.get(&entry) else {
                continue;
            };
            let stamp = loser.stamp;
            let mut copy = original.clone();
            copy.id = id;
            copy.otp = loser;
            let at = |v| Reg::new(stamp, Stamp::ZERO, v);
            copy.issuer = at(original.issuer.value.clone());
            copy.account = at(original.account.value.clone());
            copy.note = at(original.note.value.clone());
            copy.groups = Reg::new(stamp, Stamp::ZERO, original.groups.value.clone());
            copy.favorite = Reg::new(stamp, Stamp::ZERO, original.favorite.value);
            copy.icon = Reg::new(stamp, Stamp::ZERO, original.icon.value.clone());
            copy.sort = Reg::new(stamp, Stamp::ZERO, original.sort.value);
            copy.trash = Reg::new(stamp, Stamp::ZERO, None);
            copy.uses.clear();
            self.entries.insert(id, copy);
        }
        let purged = &self.purged;
        self.entries
            .retain(|id, e| purged.get(id).is_none_or(|t| e.newest_edit() > *t));
        let entries = &self.entries;
        self.purged.retain(|id, t| {
            entries.contains_key(id) || now.saturating_sub(t.ms()) < TOMBSTONE_TTL_MS
        });
        let gpurged = &self.groups_purged;
        self.groups
            .retain(|id, g| gpurged.get(id).is_none_or(|t| g.newest_edit() > *t));
        let groups = &self.groups;
        self.groups_purged.retain(|id, t| {
            groups.contains_key(id) || now.saturating_sub(t.ms()) < TOMBSTONE_TTL_MS
        });
        let entries = &self.entries;
        self.conflicts.retain(|_, c| {
            let concerns = entries.contains_key(&c.entry)
                || matches!(c.value, ConflictValue::Entry(id) if entries.contains_key(&id));
            let expired =
                c.resolved.value && now.saturating_sub(c.resolved.stamp.ms()) >= RESOLVED_TTL_MS;
            concerns && !expired
        });
        let conflicts = &self.conflicts;
        new_conflicts
            .into_iter()
            .filter(|k| conflicts.contains_key(k))
            .collect()
    }

    /// Conflicts the user has not resolved, oldest first.
    pub fn open_conflicts(&self) -> Vec<&Conflict> {
        let mut v: Vec<&Conflict> = self
            .conflicts
            .values()
            .filter(|c| !c.resolved.value)
            .collect();
        v.sort_by_key(|c| (c.loser, c.entry));
        v
    }

    /// Marks a conflict resolved.
    pub fn resolve(&mut self, key: &ConflictKey, clock: &mut Clock) {
        if let Some(c) = self.conflicts.get_mut(key) {
            let prev = c.resolved.stamp;
            c.resolved = Reg::new(clock.stamp(clock.now, prev), prev, true);
        }
    }

    /// Whether every value is one a vault may hold (names and notes within the limits,
    /// valid code settings); a document from a file that breaks this is refused whole.
    pub fn check(&self) -> Result<(), &'static str> {
        use crate::limits::{MAX_ENTRIES, MAX_NAME_LEN, MAX_NOTE_LEN};
        let long = |s: &str, max: usize| s.chars().count() > max;
        if self.entries.len() > MAX_ENTRIES || self.groups.len() > MAX_ENTRIES {
            return Err("more entries than a vault holds");
        }
        for e in self.entries.values() {
            if e.otp.value.kind.validate().is_err() {
                return Err("an entry with code settings Twofold cannot use");
            }
            if long(&e.issuer.value, MAX_NAME_LEN)
                || long(&e.account.value, MAX_NAME_LEN)
                || long(&e.note.value, MAX_NOTE_LEN)
                || e.groups.value.len() > 1024
                || e.uses.len() > 1024
            {
                return Err("an entry with over-long names or notes");
            }
            if e.recovery.len() > 16 * crate::limits::MAX_RECOVERY_CODES
                || e.recovery
                    .keys()
                    .any(|c| !crate::vault::recovery_codes::is_stored_form(c))
            {
                return Err("an entry with recovery codes a vault cannot hold");
            }
        }
        for g in self.groups.values() {
            if g.name.value.trim().is_empty() || long(&g.name.value, MAX_NAME_LEN) {
                return Err("a group with an empty or over-long name");
            }
        }
        for c in self.conflicts.values() {
            if let ConflictValue::Text(t) = &c.value
                && long(t, MAX_NOTE_LEN)
            {
                return Err("an over-long value kept for review");
            }
        }
        if self.conflicts.len() > MAX_ENTRIES
            || self.purged.len() > MAX_ENTRIES
            || self.groups_purged.len() > MAX_ENTRIES
        {
            return Err("more records than a vault holds");
        }
        Ok(())
    }

    /// The largest clock value anywhere in the document.
    pub fn max_time(&self) -> u64 {
        let e = self.entries.values().map(|e| e.newest_edit().time);
        let x = self.purged.values().map(|s| s.time);
        let g = self.groups.values().map(|g| g.newest_edit().time);
        let gx = self.groups_purged.values().map(|s| s.time);
        let k = self.conflicts.values().map(|c| c.resolved.stamp.time);
        e.chain(x)
            .chain(g)
            .chain(gx)
            .chain(k)
            .chain(std::iter::once(self.retention.stamp.time))
            .max()
            .unwrap_or(0)
    }
}

/// Records the changed fields of one entry; returns how many.
fn record_entry(d: &mut EntryDoc, base: &Entry, local: &Entry, clock: &mut Clock) -> usize {
    let mut changes = 0;
    let edited = local.updated_at;
    macro_rules! field {
        ($reg:ident, $value:expr, $hint:expr) => {{
            let value = $value;
            let prev = d.$reg.stamp;
            d.$reg = Reg::new(clock.stamp($hint, prev), prev, value);
            changes += 1;
        }};
    }
    if local.secret != base.secret || without_counter(local.kind) != without_counter(base.kind) {
        field!(otp, Otp::of(local), edited);
    }
    if local.issuer != base.issuer {
        field!(issuer, local.issuer.clone(), edited);
    }
    if local.account != base.account {
        field!(account, local.account.clone(), edited);
    }
    if local.note != base.note {
        field!(note, local.note.clone(), edited);
    }
    if local.group_ids != base.group_ids {
        field!(groups, local.group_ids.clone(), edited);
    }
    if local.favorite != base.favorite {
        field!(favorite, local.favorite, edited);
    }
    if local.icon != base.icon {
        field!(icon, local.icon.clone(), edited);
    }
    if local.sort_key != base.sort_key {
        field!(sort, local.sort_key, clock.now);
    }
    if local.deleted_at != base.deleted_at {
        let hint = local.deleted_at.unwrap_or(edited);
        field!(trash, local.deleted_at, hint);
    }
    // Counters and times merge by maximum; only increases are news. Times and usage change
    // the document (they are sent) but are not edits the user made.
    let counter = counter_of(&local.kind);
    if counter > d.counter {
        d.counter = counter;
        changes += 1;
    }
    d.updated = d.updated.max(local.updated_at);
    d.created = d.created.min(local.created_at);
    d.last_used = d.last_used.max(local.last_used_at);
    if local.use_count > base.use_count {
        let mine = d.uses.entry(clock.device).or_insert(0);
        *mine = mine.saturating_add(local.use_count - base.use_count);
    }
    // Recovery codes added or marked used here join the set (a grow-only set needs no
    // stamps; a code removed locally comes back from the document).
    if !crate::vault::recovery_codes::same_set(&local.recovery_codes, &base.recovery_codes) {
        let before = d.recovery.clone();
        join_codes(&mut d.recovery, codes_of(local));
        if d.recovery != before {
            changes += 1;
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::Algorithm;

    fn entry(id: u8, issuer: &str, at: i64) -> Entry {
        Entry::new(
            model::Id::from_random([id; 16]),
            OtpKind::DEFAULT_TOTP,
            Secret::from_bytes(vec![id; 20]).unwrap(),
            issuer.into(),
            "alice".into(),
            at,
            i64::from(id) * 1024,
        )
    }

    fn clock(device: u64, now: i64) -> Clock {
        Clock {
            last: 0,
            device,
            now,
        }
    }

    #[test]
    fn registers_merge_by_stamp_and_report_concurrent_losers() {
        let mut a = Reg::new(Stamp::new(10, 1), Stamp::ZERO, "a".to_string());
        let b = Reg::new(Stamp::new(20, 2), Stamp::ZERO, "b".to_string());
        let lost = a.merge(&b).expect("concurrent");
        assert_eq!(a.value, "b");
        assert_eq!(lost.loser.value, "a");
        // b's writer had seen a: an ordinary overwrite.
        let mut a = Reg::new(Stamp::new(10, 1), Stamp::ZERO, "a".to_string());
        let b = Reg::new(Stamp::new(20, 2), Stamp::new(10, 1), "b".to_string());
        assert!(a.merge(&b).is_none());
        assert_eq!(a.value, "b");
        // Idempotent and order-independent.
        let mut c = b.clone();
        assert!(
            c.merge(&Reg::new(Stamp::new(10, 1), Stamp::ZERO, "a".into()))
                .is_none()
        );
        assert_eq!(c, b);
    }

    #[test]
    fn diff_then_merge_keeps_edits_to_different_fields() {
        let base_entry = entry(1, "GitHub", 1000);
        let mut shared = Doc::default();
        let empty = VaultContent::new();
        let mut start = VaultContent::new();
        start.entries.push(base_entry.clone());
        shared.record_local(&empty, &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());

        let mut a = shared.clone();
        let mut local_a = base.clone();
        local_a.entries[0].note = "from a".into();
        local_a.entries[0].updated_at = 2000;
        a.record_local(&base, &local_a, &mut clock(1, 2000));

        let mut b = shared.clone();
        let mut local_b = base.clone();
        local_b.entries[0].issuer = "GitHub Inc".into();
        local_b.entries[0].updated_at = 2001;
        b.record_local(&base, &local_b, &mut clock(2, 2001));

        let mut ab = a.clone();
        ab.merge(&b);
        ab.normalize(3000);
        let mut ba = b.clone();
        ba.merge(&a);
        ba.normalize(3000);
        assert_eq!(ab, ba);
        let merged = ab.materialize(&Settings::default());
        assert_eq!(merged.entries[0].note, "from a");
        assert_eq!(merged.entries[0].issuer, "GitHub Inc");
        assert!(ab.open_conflicts().is_empty());
    }

    #[test]
    fn two_secrets_for_one_entry_both_survive() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "Bank", 1000));
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        let mut a = shared.clone();
        let mut la = base.clone();
        la.entries[0].secret = Secret::from_bytes(vec![0xaa; 20]).unwrap();
        la.entries[0].updated_at = 2000;
        a.record_local(&base, &la, &mut clock(1, 2000));
        let mut b = shared.clone();
        let mut lb = base.clone();
        lb.entries[0].secret = Secret::from_bytes(vec![0xbb; 20]).unwrap();
        lb.entries[0].kind = OtpKind::Totp {
            algorithm: Algorithm::Sha256,
            digits: 8,
            period: 30,
        };
        lb.entries[0].updated_at = 2500;
        b.record_local(&base, &lb, &mut clock(2, 2500));
        let mut ab = a.clone();
        ab.merge(&b);
        ab.normalize(3000);
        let mut ba = b.clone();
        ba.merge(&a);
        ba.normalize(3000);
        assert_eq!(ab, ba);
        let content = ab.materialize(&Settings::default());
        let secrets: Vec<&Secret> = content.entries.iter().map(|e| &e.secret).collect();
        assert_eq!(content.entries.len(), 2);
        assert!(secrets.contains(&&Secret::from_bytes(vec![0xaa; 20]).unwrap()));
        assert!(secrets.contains(&&Secret::from_bytes(vec![0xbb; 20]).unwrap()));
        let conflicts = ab.open_conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, Field::Otp);
    }

    #[test]
    fn one_secret_set_on_two_devices_and_losing_to_a_third_is_kept_once_in_any_order() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "Bank", 1000));
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        let set = |fill: u8, dev: u64, at: i64| {
            let mut d = shared.clone();
            let mut l = base.clone();
            l.entries[0].secret = Secret::from_bytes(vec![fill; 20]).unwrap();
            l.entries[0].updated_at = at;
            d.record_local(&base, &l, &mut clock(dev, at));
            d
        };
        let docs = [set(0xaa, 2, 2000), set(0xaa, 3, 2001), set(0xbb, 4, 2002)];
        let mut results = Vec::new();
        for order in [[0, 1, 2], [0, 2, 1], [2, 0, 1], [1, 2, 0]] {
            let mut d = docs[order[0]].clone();
            d.merge(&docs[order[1]]);
            d.merge(&docs[order[2]]);
            let new = d.normalize(3000);
            assert_eq!(new.len(), 1, "one conflict");
            results.push(d);
        }
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        let content = results[0].materialize(&Settings::default());
        assert_eq!(
            content.entries.len(),
            2,
            "the winner and one copy of the other secret"
        );
        let secrets: Vec<&Secret> = content.entries.iter().map(|e| &e.secret).collect();
        assert!(secrets.contains(&&Secret::from_bytes(vec![0xaa; 20]).unwrap()));
        assert!(secrets.contains(&&Secret::from_bytes(vec![0xbb; 20]).unwrap()));
        // Two devices agreeing on a value is no conflict.
        let mut two = docs[0].clone();
        two.merge(&docs[1]);
        assert!(two.normalize(3000).is_empty());
        assert_eq!(two.materialize(&Settings::default()).entries.len(), 1);
    }

    #[test]
    fn a_value_overwritten_knowingly_is_no_conflict_whichever_merge_meets_it_first() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "Mail", 1000));
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        let note = |doc: &Doc, from: &VaultContent, text: &str, dev: u64, at: i64| {
            let mut d = doc.clone();
            let mut l = from.clone();
            l.entries[0].note = text.into();
            l.entries[0].updated_at = at;
            d.record_local(from, &l, &mut clock(dev, at));
            d
        };
        // 2 writes v1; 3 reads it and writes v2 over it; 4, having seen neither, writes v3 last.
        let d1 = note(&shared, &base, "v1", 2, 2000);
        let seen = d1.materialize(&Settings::default());
        let d2 = note(&d1, &seen, "v2", 3, 2100);
        let d3 = note(&shared, &base, "v3", 4, 2200);
        let docs = [d1, d2, d3];
        let mut results = Vec::new();
        for order in [[0, 1, 2], [0, 2, 1], [2, 0, 1], [1, 2, 0]] {
            let mut d = docs[order[0]].clone();
            d.merge(&docs[order[1]]);
            d.merge(&docs[order[2]]);
            d.normalize(3000);
            results.push(d);
        }
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        let open = results[0].open_conflicts();
        assert_eq!(open.len(), 1, "only v2 lost: v1 was replaced by its reader");
        assert_eq!(open[0].value, ConflictValue::Text("v2".into()));
        assert_eq!(
            results[0].materialize(&Settings::default()).entries[0].note,
            "v3"
        );
    }

    #[test]
    fn purge_drops_the_secret_and_a_later_edit_brings_the_entry_back() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "Mail", 1000));
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        // a purges at 2000.
        let mut a = shared.clone();
        a.record_local(&base, &VaultContent::new(), &mut clock(1, 2000));
        assert!(a.entries.is_empty());
        let bytes = rmp_serde::to_vec_named(&a).unwrap();
        assert!(!bytes.windows(20).any(|w| w == [1u8; 20]));
        // b edited later, not having seen the purge.
        let mut b = shared.clone();
        let mut lb = base.clone();
        lb.entries[0].note = "still needed".into();
        lb.entries[0].updated_at = 3000;
        b.record_local(&base, &lb, &mut clock(2, 3000));
        let mut ab = a.clone();
        ab.merge(&b);
        ab.normalize(4000);
        assert_eq!(ab.materialize(&Settings::default()).entries.len(), 1);
        // An edit before the purge does not.
        let mut c = shared.clone();
        let mut lc = base.clone();
        lc.entries[0].note = "old".into();
        lc.entries[0].updated_at = 1500;
        c.record_local(&base, &lc, &mut clock(3, 1500));
        let mut ac = a.clone();
        ac.merge(&c);
        ac.normalize(4000);
        assert!(ac.materialize(&Settings::default()).entries.is_empty());
    }

    #[test]
    fn hotp_counters_merge_by_maximum() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        let mut e = entry(1, "VPN", 1000);
        e.kind = OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 5,
        };
        start.entries.push(e);
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        let bump = |n: u64, dev: u64| {
            let mut d = shared.clone();
            let mut l = base.clone();
            if let OtpKind::Hotp { counter, .. } = &mut l.entries[0].kind {
                *counter = n;
            }
            d.record_local(&base, &l, &mut clock(dev, 2000));
            d
        };
        let mut a = bump(9, 1);
        a.merge(&bump(7, 2));
        let content = a.materialize(&Settings::default());
        assert!(matches!(
            content.entries[0].kind,
            OtpKind::Hotp { counter: 9, .. }
        ));
    }

    #[test]
    fn an_edit_after_a_move_to_the_trash_takes_the_entry_out() {
        let mut shared = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "Shop", 1000));
        shared.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let base = shared.materialize(&Settings::default());
        let mut a = shared.clone();
        let mut la = base.clone();
        la.entries[0].deleted_at = Some(2000);
        a.record_local(&base, &la, &mut clock(1, 2000));
        assert!(
            a.materialize(&Settings::default()).entries[0]
                .deleted_at
                .is_some()
        );
        let mut b = shared.clone();
        let mut lb = base.clone();
        lb.entries[0].account = "bob".into();
        lb.entries[0].updated_at = 3000;
        b.record_local(&base, &lb, &mut clock(2, 3000));
        a.merge(&b);
        let c = a.materialize(&Settings::default());
        assert_eq!(c.entries[0].deleted_at, None);
        assert_eq!(c.entries[0].account, "bob");
    }

    #[test]
    fn documents_round_trip_through_messagepack() {
        let mut d = Doc::default();
        let mut start = VaultContent::new();
        start.entries.push(entry(1, "A", 1000));
        start.entries.push(entry(2, "B", 1000));
        d.record_local(&VaultContent::new(), &start, &mut clock(1, 1000));
        let bytes = rmp_serde::to_vec_named(&d).unwrap();
        let back: Doc = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, d);
    }
}
