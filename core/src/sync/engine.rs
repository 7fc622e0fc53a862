//! One sync, and the operations around it (`docs/sync-protocol.md` §6).
//!
//! A sync runs in three steps so that slow storage never holds the vault's lock:
//!
//! 1. **Gather** (no lock): list the storage; for each device pick the newest file at or
//!    above the generation last accepted from it, read it, check its size, structure, name
//!    and signature; fall back to the next older one when the newest is torn.
//! 2. **Merge** (one vault transaction): record local edits as register writes, verify each
//!    file against the roster (membership, epoch key, rollback, fork), merge, rotate the
//!    group key when the active devices changed, and — when anything changed — reserve the
//!    next generation and seal this device's snapshot. Content and sync state are committed
//!    together; the generation is reserved before any file with it exists, so a crash can
//!    leave a gap but never two files with one generation.
//! 3. **Publish** (no lock): write the snapshot under a new name, read it back, and delete
//!    this device's generations older than the newest two.

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use super::doc::{self, Clock, ConflictValue, Doc, Field};
use super::file::{self, Body, FileError, FileHeader, Seen};
use super::roster::{
    self, Device, DeviceKey, DeviceKeyBytes, EpochId, Membership, Rotation, Signed, Statement,
};
use super::state::{KeyBytes, KeyBytesPub, Quarantine, SeenState, StorageConfig, SyncState};
use super::storage::{StoredFile, SyncStorage};
use super::{
    ConflictView, DeviceView, Keep, SyncError, SyncStatus, SyncWarning, state::STATE_VERSION,
};
use crate::crypto::{self, RandomSource, SigningKey};
use crate::vault::VaultSession;
use crate::vault::model::{self, Entry, EntryId, VaultContent};
use crate::vault::session::SyncTxn;

/// Older files of a device tried when its newest is unreadable.
const MAX_TRIES_PER_DEVICE: usize = 3;
/// Devices not in the roster whose files are read in one sync (new members announce
/// themselves this way; more is someone planting names).
const MAX_UNKNOWN_DEVICES: usize = 16;
/// Names listed; more is refused before reading any.
const MAX_LISTED: usize = 100_000;
/// Members' own generations a device keeps in the storage.
const KEEP_OWN: u64 = 2;

/// What one entry did in a sync, as brought in from other devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new entry from another device.
    Added,
    /// The fields (their user names) that changed.
    Edited(Vec<&'static str>),
    /// Moved to the trash on another device.
    Trashed,
    /// Taken out of the trash on another device.
    Restored,
    /// Purged on another device.
    Removed,
}

/// One entry that a sync changed, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    /// The entry.
    pub id: EntryId,
    /// Its display name after the sync.
    pub label: String,
    /// What happened to it.
    pub change: Change,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Changes that came from other devices.
    pub changes: Vec<EntryChange>,
    /// Conflicts found in this sync.
    pub new_conflicts: Vec<ConflictView>,
    /// Fields this device changed since its last sync (sent now).
    pub local_changes: usize,
    /// Files of other devices merged.
    pub files_merged: usize,
    /// The file written, and its size.
    pub written: Option<(String, u64)>,
    /// This device's older files deleted.
    pub pruned: usize,
    /// What this sync noticed and refused (empty: nothing).
    pub warnings: Vec<SyncWarning>,
    /// This device's generation after the sync.
    pub generation: u64,
    /// The group key changed (a device joined or was removed).
    pub rotated: bool,
}

/// A file that passed the checks that need no keys.
pub(crate) struct Candidate {
    name: String,
    bytes: Vec<u8>,
    digest: [u8; 32],
}

/// What the listing showed.
#[derive(Default)]
pub(crate) struct Facts {
    warnings: Vec<SyncWarning>,
    /// Highest generation listed per device tag (readable or not).
    latest: BTreeMap<u64, u64>,
    /// This device's files (name, generation).
    own: Vec<(String, u64)>,
    /// Devices whose newest listed file is older than what was accepted: (tag, listed).
    older: Vec<(u64, u64)>,
    /// Quarantined devices with files.
    quarantined: BTreeSet<u64>,
}

pub(crate) fn decode_state(blob: Option<&[u8]>) -> Result<SyncState, SyncError> {
    SyncState::decode(blob.ok_or(SyncError::NotInGroup)?)
}

/// The state of the vault's group (a copy).
pub fn state_of(session: &VaultSession) -> Result<SyncState, SyncError> {
    session.sync_read(|_, blob| decode_state(blob))?
}

fn file_warning(name: &str, e: FileError) -> SyncWarning {
    let file = name.to_owned();
    match e {
        FileError::Empty => SyncWarning::Incomplete { file },
        FileError::TooLarge(size) => SyncWarning::TooLarge { file, size },
        FileError::UnsupportedVersion(version) => SyncWarning::Unsupported { file, version },
        FileError::NotASnapshot => SyncWarning::Damaged {
            file,
            reason: "not a Twofold sync file".into(),
        },
        other => SyncWarning::Damaged {
            file,
            reason: other.to_string(),
        },
    }
}

/// Checks what needs no keys: size, structure, that the name is the content's, signature.
fn precheck(
    name: &str,
    tag: u64,
    generation: u64,
    bytes: Vec<u8>,
) -> Result<Candidate, SyncWarning> {
    if bytes.len() as u64 > file::MAX_FILE_LEN {
        return Err(SyncWarning::TooLarge {
            file: name.into(),
            size: bytes.len() as u64,
        });
    }
    let parsed = file::parse(&bytes).map_err(|e| file_warning(name, e))?;
    if roster::devtag(&parsed.header.writer) != tag || parsed.header.generation != generation {
        return Err(SyncWarning::Misnamed { file: name.into() });
    }
    parsed.verify().map_err(|e| file_warning(name, e))?;
    let digest = file::digest(&bytes);
    Ok(Candidate {
        name: name.into(),
        bytes,
        digest,
    })
}

/// Step 1: list and read (no lock).
pub(crate) fn gather(
    storage: &dyn SyncStorage,
    state: &SyncState,
) -> Result<(Vec<Candidate>, Facts), SyncError> {
    let listing = storage.list()?;
    if listing.len() > MAX_LISTED {
        return Err(SyncError::InvalidInput(format!(
            "the sync location lists {} files; it must be a folder for Twofold alone",
            listing.len()
        )));
    }
    let my_tag = state.my_tag();
    let seen: BTreeMap<u64, &SeenState> = state
        .seen
        .iter()
        .map(|(k, s)| (roster::devtag(&k.0), s))
        .collect();
    let quarantined: BTreeSet<u64> = state
        .quarantined
        .keys()
        .map(|k| roster::devtag(&k.0))
        .collect();
    let known: BTreeSet<u64> = state
        .membership()
        .members
        .values()
        .map(Device::tag)
        .collect();
    let mut facts = Facts::default();
    let mut by_tag: BTreeMap<u64, Vec<(u64, &StoredFile)>> = BTreeMap::new();
    for f in &listing {
        match file::parse_name(&f.name) {
            Some((tag, generation)) => {
                let e = facts.latest.entry(tag).or_insert(generation);
                *e = (*e).max(generation);
                if tag == my_tag {
                    facts.own.push((f.name.clone(), generation));
                }
                match f.size {
                    Some(0) => facts.warnings.push(SyncWarning::Incomplete {
                        file: f.name.clone(),
                    }),
                    Some(size) if size > file::MAX_FILE_LEN => {
                        facts.warnings.push(SyncWarning::TooLarge {
                            file: f.name.clone(),
                            size,
                        })
                    }
                    _ => by_tag.entry(tag).or_default().push((generation, f)),
                }
            }
            None if file::looks_like_copy(&f.name) => {
                facts.warnings.push(SyncWarning::ConflictCopy {
                    file: f.name.clone(),
                })
            }
            None => {}
        }
    }
    let mut candidates = Vec::new();
    let mut unknown = 0;
    for (tag, mut files) in by_tag {
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        let floor = if tag == my_tag {
            // Only files above what this device reserved are news (a restored vault).
            state.generation.saturating_add(1)
        } else {
            if quarantined.contains(&tag) {
                facts.quarantined.insert(tag);
                continue;
            }
            if !known.contains(&tag) {
                unknown += 1;
                if unknown > MAX_UNKNOWN_DEVICES {
                    continue;
                }
            }
            seen.get(&tag).map_or(0, |s| s.generation)
        };
        if files.first().is_some_and(|(g, _)| *g < floor) && tag != my_tag {
            facts.older.push((tag, files[0].0));
        }
        for (generation, f) in files
            .iter()
            .filter(|(g, _)| *g >= floor)
            .take(MAX_TRIES_PER_DEVICE)
        {
            let Some(bytes) = storage.read(&f.name, file::MAX_FILE_LEN)? else {
                continue;
            };
            if let Some(s) = seen.get(&tag)
                && *generation == s.generation
                && file::digest(&bytes) == s.digest
            {
                // Already merged.
                break;
            }
            match precheck(&f.name, tag, *generation, bytes) {
                Ok(c) => {
                    candidates.push(c);
                    break;
                }
                Err(w) => facts.warnings.push(w),
            }
        }
    }
    Ok((candidates, facts))
}

/// What checking one file against the state decided.
enum Verdict {
    Accept(Box<Body>, Option<(EpochId, Zeroizing<[u8; 32]>)>),
    Unchanged,
    /// Might become readable once another file of this sync is merged.
    Retry(SyncWarning),
    Refuse(SyncWarning),
}

fn verdict(state: &SyncState, membership: &Membership, c: &Candidate) -> Verdict {
    let Ok(parsed) = file::parse(&c.bytes) else {
        return Verdict::Refuse(SyncWarning::Damaged {
            file: c.name.clone(),
            reason: "unreadable".into(),
        });
    };
    let h = &parsed.header;
    let file = c.name.clone();
    if h.group != state.group {
        return Verdict::Refuse(SyncWarning::ForeignGroup { file });
    }
    let writer = h.writer;
    let name = membership.name_of(roster::devtag(&writer));
    let me = state.me();
    if writer != me {
        if membership.revoked.contains(&writer) {
            return Verdict::Refuse(SyncWarning::RevokedWriter { device: name, file });
        }
        if let Some(seen) = state.seen.get(&KeyBytesPub(writer)) {
            if h.generation < seen.generation {
                return Verdict::Refuse(SyncWarning::Rollback {
                    device: name,
                    found: h.generation,
                    seen: seen.generation,
                });
            }
            if h.generation == seen.generation {
                return if c.digest == seen.digest {
                    Verdict::Unchanged
                } else {
                    Verdict::Refuse(SyncWarning::Fork {
                        device: name,
                        generation: h.generation,
                    })
                };
            }
        }
    } else if h.generation <= state.generation {
        return match state.seen.get(&KeyBytesPub(me)) {
            Some(s) if s.generation == h.generation && s.digest != c.digest => {
                Verdict::Refuse(SyncWarning::Fork {
                    device: format!("{} (this device)", state.name),
                    generation: h.generation,
                })
            }
            _ => Verdict::Unchanged,
        };
    }
    let known = membership.members.contains_key(&writer);
    let mut tentative = None;
    let key: Zeroizing<[u8; 32]> = match state.epoch_key(&h.epoch) {
        Some(k) => Zeroizing::new(*k),
        None => {
            let opened = h
                .rotation
                .as_ref()
                .and_then(|s| s.open_rotation(&state.group))
                .filter(|r| r.epoch == h.epoch);
            match opened.and_then(|r| r.unwrap(state.my_tag(), &state.kx())) {
                Some(k) => {
                    tentative = Some((h.epoch, Zeroizing::new(*k)));
                    Zeroizing::new(*k)
                }
                None if known => {
                    return Verdict::Retry(SyncWarning::NoKey { device: name, file });
                }
                None => return Verdict::Retry(SyncWarning::NotAMember { file }),
            }
        }
    };
    let body = match parsed.open(&key) {
        Ok(b) => b,
        Err(FileError::Decryption) if !known => {
            return Verdict::Refuse(SyncWarning::NotAMember { file });
        }
        Err(e) => return Verdict::Refuse(file_warning(&c.name, e)),
    };
    if body.statements.len() > roster::MAX_STATEMENTS
        || body.rotations.len() > roster::MAX_ROTATIONS
        || body.seen.len() > roster::MAX_STATEMENTS
        || body.doc.entries.len() > crate::limits::MAX_ENTRIES
    {
        return Verdict::Refuse(SyncWarning::Damaged {
            file,
            reason: "more devices or entries than Twofold allows".into(),
        });
    }
    if let Err(why) = body.doc.check() {
        return Verdict::Refuse(SyncWarning::Damaged {
            file,
            reason: format!("it holds {why}"),
        });
    }
    let mut statements = state.statements.clone();
    statements.extend(body.statements.iter().cloned());
    let with_body = Membership::compute(&state.group, &state.founder, &statements);
    if !with_body.is_active(&writer) {
        return if with_body.revoked.contains(&writer) {
            Verdict::Refuse(SyncWarning::RevokedWriter {
                device: with_body.name_of(roster::devtag(&writer)),
                file,
            })
        } else {
            Verdict::Retry(SyncWarning::NotAMember { file })
        };
    }
    if let Some((_, _)) = &tentative {
        // A key from the file's own header: its rotator must have been a member.
        let rotator_ok = h
            .rotation
            .as_ref()
            .and_then(|s| s.open_rotation(&state.group))
            .is_some_and(|r| with_body.members.contains_key(&r.by));
        if !rotator_ok {
            return Verdict::Refuse(SyncWarning::NotAMember { file });
        }
    }
    Verdict::Accept(Box::new(body), tentative)
}

/// Takes in the statements and rotations of an accepted body, and every epoch key wrapped
/// to this device by a rotation of a (past or present) member.
fn adopt_roster(state: &mut SyncState, statements: &[Signed], rotations: &[Signed]) {
    for s in statements {
        if state.statements.len() < roster::MAX_STATEMENTS
            && s.open_statement(&state.group).is_some()
        {
            state.statements.insert(s.clone());
        }
    }
    for r in rotations {
        if state.rotations.len() < roster::MAX_ROTATIONS && r.open_rotation(&state.group).is_some()
        {
            state.rotations.insert(r.clone());
        }
    }
    unwrap_epoch_keys(state);
}

fn unwrap_epoch_keys(state: &mut SyncState) {
    let membership = state.membership();
    let kx = state.kx();
    let me = state.my_tag();
    for (epoch, (r, _)) in roster::rotations_by_epoch(&state.group, &state.rotations) {
        if state.epochs.contains_key(&epoch) || !membership.members.contains_key(&r.by) {
            continue;
        }
        if let Some(k) = r.unwrap(me, &kx) {
            state.epochs.insert(epoch, KeyBytes(*k));
        }
    }
}

/// The epoch this device writes under: the newest one started by an active member, if this
/// device has its key and it was wrapped to exactly the active devices; otherwise a new one
/// (returned with `true`).
pub(crate) fn ensure_epoch(
    state: &mut SyncState,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<(EpochId, bool), SyncError> {
    let membership = state.membership();
    let active: Vec<Device> = membership.active().into_iter().cloned().collect();
    let tags: BTreeSet<u64> = active.iter().map(Device::tag).collect();
    let rotations = roster::rotations_by_epoch(&state.group, &state.rotations);
    let current = rotations
        .iter()
        .rev()
        .find(|(_, (r, _))| membership.is_active(&r.by));
    if let Some((id, (r, _))) = current
        && r.recipients() == tags
        && state.epochs.contains_key(id)
    {
        return Ok((*id, false));
    }
    let n = rotations
        .keys()
        .map(|e| e.n)
        .max()
        .map_or(0, |n| n.saturating_add(1));
    let epoch = EpochId {
        n,
        by: state.my_tag(),
    };
    let (signed, key) =
        Rotation::create(&state.group, epoch, &state.signing_key(), &active, now, rng)?;
    state.rotations.insert(signed);
    state.epochs.insert(epoch, KeyBytes(*key));
    Ok((epoch, true))
}

/// The one file a device that learnt it was removed still writes: when it changed the roster
/// since its last file (it removed a device while it was still a member, concurrently with its
/// own removal), that revocation must reach the others, or they would compute the members
/// from fewer statements than this device holds and disagree (sync-protocol.md §6.3). The
/// file goes out under the newest epoch this device holds, without a rotation; the others
/// refuse its body (`revoked-writer`) but take the revocations of its clear header, as any
/// device does from any file of the group.
fn last_word(
    state: &mut SyncState,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<Option<(String, Vec<u8>)>, SyncError> {
    if !state.unpublished {
        return Ok(None);
    }
    let me = state.me();
    let signed_a_revocation = state.statements.iter().any(|s| {
        matches!(
            s.open_statement(&state.group),
            Some(Statement::Revoke { by, .. }) if by == me
        )
    });
    let Some(epoch) = state.epochs.keys().max_by_key(|e| e.n).copied() else {
        return Ok(None);
    };
    state.unpublished = false;
    if !signed_a_revocation {
        return Ok(None);
    }
    seal_next(state, epoch, now, rng).map(Some)
}

/// Seals this device's next file under `epoch`: the generation after `state.generation`,
/// recorded as what this device last wrote. Returns its name and bytes.
fn seal_next(
    state: &mut SyncState,
    epoch: EpochId,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<(String, Vec<u8>), SyncError> {
    state.generation = state.generation.saturating_add(1);
    let bytes = seal_snapshot(state, epoch, now, rng)?;
    state.seen.insert(
        KeyBytesPub(state.me()),
        SeenState {
            generation: state.generation,
            digest: file::digest(&bytes),
            received_at: now,
            written_at: now,
        },
    );
    Ok((file::file_name(state.my_tag(), state.generation), bytes))
}

/// Seals this device's snapshot of generation `state.generation`.
fn seal_snapshot(
    state: &SyncState,
    epoch: EpochId,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, SyncError> {
    let rotation = roster::rotations_by_epoch(&state.group, &state.rotations)
        .remove(&epoch)
        .map(|(_, s)| s);
    let revocations = state
        .statements
        .iter()
        .filter(|s| {
            matches!(
                s.open_statement(&state.group),
                Some(Statement::Revoke { .. })
            )
        })
        .cloned()
        .collect();
    let header = FileHeader {
        group: state.group,
        writer: state.me(),
        generation: state.generation,
        epoch,
        nonce: [0; 24],
        rotation,
        revocations,
    };
    let body = Body {
        written_at: now,
        clock: state.clock,
        statements: state.statements.iter().cloned().collect(),
        rotations: state.rotations.iter().cloned().collect(),
        seen: state
            .seen
            .iter()
            .map(|(k, s)| Seen {
                device: k.0,
                generation: s.generation,
                digest: s.digest,
            })
            .collect(),
        doc: state.doc.clone(),
    };
    let key = state
        .epoch_key(&epoch)
        .ok_or_else(|| SyncError::Internal("no key for the current epoch".into()))?;
    file::seal(header, &body, key, &state.signing_key(), rng)
        .map_err(|e| SyncError::Internal(e.to_string()))
}

/// What the merge step decided.
struct Merged {
    report: SyncReport,
    publish: Option<(String, Vec<u8>)>,
    own: Vec<(String, u64)>,
    revoked: bool,
}

/// Everything of the state but when it last synced and what it warned about: a change here
/// is worth a vault write.
fn state_fingerprint(state: &SyncState) -> Zeroizing<Vec<u8>> {
    let mut copy = state.clone();
    copy.last_sync = None;
    copy.warnings.clear();
    copy.encode()
}

/// Step 2: merge, under the vault's lock.
fn merge_step(
    txn: &mut SyncTxn,
    state: &mut SyncState,
    candidates: Vec<Candidate>,
    facts: Facts,
    rng: &dyn RandomSource,
) -> Result<Merged, SyncError> {
    let now = txn.now;
    let fingerprint = state_fingerprint(state);
    let original = state.clone();
    let previous_warnings = state.warnings.clone();
    let doc_before = state.doc.clone();
    let roster_before = (state.statements.clone(), state.rotations.len());
    let me = state.me();
    let my_tag = state.my_tag();
    let mut warnings = facts.warnings;
    let mut clock = Clock {
        last: state.clock,
        device: my_tag,
        now,
    };
    // 1. This device's own changes since the last sync.
    let base = state.doc.materialize(&txn.content.settings);
    let joined_with: BTreeSet<EntryId> = if state.first_sync {
        txn.content.entries.iter().map(|e| e.id).collect()
    } else {
        BTreeSet::new()
    };
    let local_changes = state.doc.record_local(&base, &txn.content, &mut clock);
    let before = state.doc.materialize(&txn.content.settings);

    // 2. Revocations travel in the clear headers too: a device removed from the group
    // learns it from files it can no longer read. (They count only when signed by a member.)
    for c in &candidates {
        if let Ok(p) = file::parse(&c.bytes)
            && p.header.group == state.group
        {
            for s in &p.header.revocations {
                if state.statements.len() < roster::MAX_STATEMENTS
                    && matches!(
                        s.open_statement(&state.group),
                        Some(Statement::Revoke { .. })
                    )
                {
                    state.statements.insert(s.clone());
                }
            }
        }
    }
    // 3. The other devices' files, in passes (a file may introduce the member or the key
    // another needs).
    let mut pending = candidates;
    let mut merged = 0;
    let mut new_conflicts = Vec::new();
    let mut claims: BTreeMap<DeviceKey, (u64, DeviceKey)> = BTreeMap::new();
    let mut behind = state.generation;
    loop {
        let membership = state.membership();
        let mut retry = Vec::new();
        let mut progress = false;
        for c in pending {
            match verdict(state, &membership, &c) {
                Verdict::Accept(body, tentative) => {
                    let parsed = file::parse(&c.bytes).expect("checked");
                    let writer = parsed.header.writer;
                    let generation = parsed.header.generation;
                    if let Some((epoch, key)) = tentative {
                        state.epochs.insert(epoch, KeyBytes(*key));
                    }
                    adopt_roster(state, &body.statements, &body.rotations);
                    let outcome = state.doc.merge(&body.doc);
                    let device = state.membership().name_of(roster::devtag(&writer));
                    for t in [outcome.max_time, body.clock] {
                        if !clock.observe(t) {
                            let ahead = crate::sync::hlc::to_ms(t) - now;
                            if !warnings.iter().any(|w| matches!(w, SyncWarning::ClockAhead { device: d, .. } if *d == device)) {
                                warnings.push(SyncWarning::ClockAhead {
                                    device: device.clone(),
                                    ahead_ms: ahead,
                                });
                            }
                        }
                    }
                    if writer == me {
                        behind = behind.max(generation);
                    } else {
                        state.seen.insert(
                            KeyBytesPub(writer),
                            SeenState {
                                generation,
                                digest: c.digest,
                                received_at: now,
                                written_at: body.written_at,
                            },
                        );
                    }
                    for s in &body.seen {
                        if s.device == me {
                            behind = behind.max(s.generation);
                        } else if s.device != writer {
                            let e = claims.entry(s.device).or_insert((0, writer));
                            if s.generation > e.0 {
                                *e = (s.generation, writer);
                            }
                        }
                    }
                    merged += 1;
                    progress = true;
                }
                Verdict::Unchanged => {}
                Verdict::Retry(w) => retry.push((c, w)),
                Verdict::Refuse(w) => {
                    if let SyncWarning::Fork { generation, .. } = &w
                        && let Ok(p) = file::parse(&c.bytes)
                        && p.header.writer != me
                    {
                        state.quarantined.insert(
                            KeyBytesPub(p.header.writer),
                            Quarantine {
                                generation: *generation,
                                since: now,
                            },
                        );
                    }
                    warnings.push(w);
                }
            }
        }
        if !progress || retry.is_empty() {
            warnings.extend(retry.into_iter().map(|(_, w)| w));
            break;
        }
        pending = retry.into_iter().map(|(c, _)| c).collect();
    }

    let membership = state.membership();
    state.revoked = false;
    if membership.revoked.contains(&me) {
        // Keep only what tells who is in the group. The content merged here stays out of
        // the state (the vault does not take it either): should a more senior revocation
        // void this one later, the next sync merges those files again, from the same place.
        let mut kept = original;
        kept.statements = std::mem::take(&mut state.statements);
        kept.rotations = std::mem::take(&mut state.rotations);
        kept.epochs = std::mem::take(&mut state.epochs);
        *state = kept;
        state.revoked = true;
        state.warnings = warnings;
        state.last_sync = Some(now);
        let publish = last_word(state, now, rng)?;
        return Ok(Merged {
            report: SyncReport::default(),
            publish,
            own: facts.own,
            revoked: true,
        });
    }
    // Invitations whose codes were never confirmed lapse; a device that joined writes
    // nothing until the member that invited it has published its admission (§9).
    state.pending.retain(|p| p.expires_at > now);
    let awaiting = state.awaiting_admission && !membership.is_active(&me);
    state.awaiting_admission = awaiting;
    for tag in &facts.quarantined {
        warnings.push(SyncWarning::Quarantined {
            device: membership.name_of(*tag),
        });
    }
    for (tag, listed) in &facts.older {
        if let Some(d) = membership.by_tag(*tag)
            && let Some(s) = state.seen.get(&KeyBytesPub(d.key))
        {
            warnings.push(SyncWarning::Rollback {
                device: d.name.clone(),
                found: *listed,
                seen: s.generation,
            });
        }
    }
    for (device, (generation, by)) in &claims {
        let tag = roster::devtag(device);
        let have = state
            .seen
            .get(&KeyBytesPub(*device))
            .map_or(0, |s| s.generation);
        if membership.is_active(device)
            && !state.quarantined.contains_key(&KeyBytesPub(*device))
            && have < *generation
            && facts.latest.get(&tag).copied().unwrap_or(0) < *generation
        {
            warnings.push(SyncWarning::Withheld {
                device: membership.name_of(tag),
                generation: *generation,
                seen_by: membership.name_of(roster::devtag(by)),
            });
        }
    }
    let own_listed = facts.own.iter().map(|(_, g)| *g).max().unwrap_or(0);
    if behind > state.generation {
        warnings.push(SyncWarning::OwnStateBehind {
            had: state.generation,
            found: behind,
        });
    }

    // 3. A device that joined with accounts the group already has does not add them twice.
    if state.first_sync && !awaiting {
        dedupe_joined(&mut state.doc, &joined_with, &doc_before);
    }
    new_conflicts.extend(state.doc.normalize(now));

    // 4. Publish when anything changed, or when this device's newest file is missing.
    let roster_changed =
        roster_before.0 != state.statements || roster_before.1 != state.rotations.len();
    let needs_file = state.doc != doc_before
        || roster_changed
        || local_changes > 0
        || behind > state.generation
        || own_listed < state.generation
        || state.generation == 0
        || state.unpublished;
    let mut publish = None;
    let mut rotated = false;
    state.clock = clock.last;
    if needs_file && !awaiting {
        let (epoch, new_epoch) = ensure_epoch(state, now, rng)?;
        rotated = new_epoch;
        state.generation = state.generation.max(behind);
        publish = Some(seal_next(state, epoch, now, rng)?);
        state.unpublished = false;
    }
    state.first_sync &= awaiting;

    // 5. The vault takes the merged content.
    let after = state.doc.materialize(&txn.content.settings);
    let report = SyncReport {
        changes: changes(&before, &after),
        new_conflicts: new_conflicts
            .iter()
            .filter_map(|k| state.doc.conflicts.get(k))
            .map(|c| conflict_view(&state.doc, &membership, c, my_tag))
            .collect(),
        local_changes,
        files_merged: merged,
        written: publish.as_ref().map(|(n, b)| (n.clone(), b.len() as u64)),
        pruned: 0,
        warnings: warnings.clone(),
        generation: state.generation,
        rotated,
    };
    let content_changed = after != txn.content;
    txn.content = after;
    state.warnings = warnings;
    if content_changed
        || state_fingerprint(state) != fingerprint
        || state.warnings != previous_warnings
    {
        state.last_sync = Some(now);
        txn.state = Some(state.encode());
        txn.write = true;
    }
    Ok(Merged {
        report,
        publish,
        own: facts.own,
        revoked: false,
    })
}

/// Drops from the document the entries this device brought into the group that the group
/// already had (same secret, kind, issuer and account), folding their counters in.
fn dedupe_joined(doc: &mut Doc, joined_with: &BTreeSet<EntryId>, before: &Doc) {
    let group_entries: Vec<EntryId> = doc
        .entries
        .keys()
        .filter(|id| !joined_with.contains(id))
        .copied()
        .collect();
    let mut drop_ids = Vec::new();
    for id in joined_with {
        if !before.entries.contains_key(id) && doc.entries.contains_key(id) {
            // Recorded in this sync: never published.
        } else if before.entries.contains_key(id) {
            continue;
        }
        let Some(mine) = doc.entries.get(id) else {
            continue;
        };
        let twin = group_entries.iter().copied().find(|g| {
            doc.entries.get(g).is_some_and(|t| {
                t.otp.value == mine.otp.value
                    && t.issuer.value == mine.issuer.value
                    && t.account.value == mine.account.value
            })
        });
        if let Some(twin) = twin {
            let counter = mine.counter;
            if let Some(t) = doc.entries.get_mut(&twin) {
                t.counter = t.counter.max(counter);
            }
            drop_ids.push(*id);
        }
    }
    for id in drop_ids {
        doc.entries.remove(&id);
    }
}

fn label(e: &Entry) -> String {
    e.display_name()
}

/// What changed between two materializations, per entry.
fn changes(before: &VaultContent, after: &VaultContent) -> Vec<EntryChange> {
    let old: BTreeMap<EntryId, &Entry> = before.entries.iter().map(|e| (e.id, e)).collect();
    let new: BTreeMap<EntryId, &Entry> = after.entries.iter().map(|e| (e.id, e)).collect();
    let mut out = Vec::new();
    for (id, e) in &new {
        match old.get(id) {
            None => out.push(EntryChange {
                id: *id,
                label: label(e),
                change: Change::Added,
            }),
            Some(o) => {
                if o.deleted_at.is_none() && e.deleted_at.is_some() {
                    out.push(EntryChange {
                        id: *id,
                        label: label(e),
                        change: Change::Trashed,
                    });
                    continue;
                }
                if o.deleted_at.is_some() && e.deleted_at.is_none() {
                    out.push(EntryChange {
                        id: *id,
                        label: label(e),
                        change: Change::Restored,
                    });
                }
                let mut fields = Vec::new();
                if o.secret != e.secret || doc_kind(o) != doc_kind(e) {
                    fields.push(Field::Otp.name());
                }
                if o.kind != e.kind && doc_kind(o) == doc_kind(e) {
                    fields.push("counter");
                }
                for (changed, f) in [
                    (o.issuer != e.issuer, Field::Issuer),
                    (o.account != e.account, Field::Account),
                    (o.note != e.note, Field::Note),
                    (o.group_ids != e.group_ids, Field::Groups),
                    (o.favorite != e.favorite, Field::Favorite),
                    (o.icon != e.icon, Field::Icon),
                    (o.sort_key != e.sort_key, Field::Sort),
                ] {
                    if changed {
                        fields.push(f.name());
                    }
                }
                if !crate::vault::recovery_codes::same_set(&o.recovery_codes, &e.recovery_codes) {
                    fields.push("recovery codes");
                }
                if !fields.is_empty() {
                    out.push(EntryChange {
                        id: *id,
                        label: label(e),
                        change: Change::Edited(fields),
                    });
                }
            }
        }
    }
    for (id, e) in &old {
        if !new.contains_key(id) {
            out.push(EntryChange {
                id: *id,
                label: label(e),
                change: Change::Removed,
            });
        }
    }
    out
}

fn doc_kind(e: &Entry) -> crate::otp::OtpKind {
    match e.kind {
        crate::otp::OtpKind::Hotp {
            algorithm, digits, ..
        } => crate::otp::OtpKind::Hotp {
            algorithm,
            digits,
            counter: 0,
        },
        other => other,
    }
}

/// One sync: read every member's newest file, merge, write this device's (see the module
/// documentation for the three steps). Randomness (nonces, new group keys) is the session's.
pub fn sync(session: &VaultSession, storage: &dyn SyncStorage) -> Result<SyncReport, SyncError> {
    let rng = session.env().rng.clone();
    sync_with(session, storage, rng.as_ref())
}

/// [`sync`] with a given randomness source.
pub fn sync_with(
    session: &VaultSession,
    storage: &dyn SyncStorage,
    rng: &dyn RandomSource,
) -> Result<SyncReport, SyncError> {
    // A device that learnt it was removed still reads: a revocation it saw can be voided by
    // a more senior one it had not seen yet (sync-protocol.md §6.2), and then it is a member
    // again, as every other device computes.
    let state0 = state_of(session)?;
    let (candidates, facts) = gather(storage, &state0)?;
    drop(state0);
    let merged = session.sync_transaction(|txn| -> Result<Merged, SyncError> {
        let mut state = decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        let merged = merge_step(txn, &mut state, candidates, facts, rng)?;
        if merged.revoked {
            txn.state = Some(state.encode());
            txn.write = true;
        }
        Ok(merged)
    })?;
    if merged.revoked {
        if let Some((name, bytes)) = &merged.publish {
            storage.write(name, bytes)?;
        }
        return Err(SyncError::Revoked);
    }
    let mut report = merged.report;
    if let Some((name, bytes)) = merged.publish {
        storage.write(&name, &bytes)?;
        // Read back before deleting anything: the new file must be there, intact.
        match storage.read(&name, file::MAX_FILE_LEN)? {
            Some(back) if back == bytes => {}
            _ => {
                return Err(SyncError::Storage(super::StorageError::Other(format!(
                    "{name} did not read back intact; older files were kept"
                ))));
            }
        }
        let newest = report.generation;
        for (old, generation) in &merged.own {
            if generation.saturating_add(KEEP_OWN) <= newest && storage.delete(old).is_ok() {
                report.pruned += 1;
            }
        }
    }
    Ok(report)
}

/// Makes this vault the first member of a new sync group whose files go to `storage`
/// (described by `config`), as device `name`; publishes its first snapshot.
pub fn setup(
    session: &VaultSession,
    config: StorageConfig,
    storage: &dyn SyncStorage,
    name: &str,
) -> Result<SyncReport, SyncError> {
    roster::check_name(name)?;
    if super::is_member(session)? {
        return Err(SyncError::AlreadyInGroup);
    }
    let foreign = storage
        .list()?
        .iter()
        .filter(|f| file::parse_name(&f.name).is_some())
        .count();
    if foreign > 0 {
        return Err(SyncError::NotEmpty(format!(
            "the sync location already holds {foreign} snapshot file(s) of a sync group: to sync \
             with it, join that group from one of its devices (`sync join`); otherwise choose an \
             empty folder"
        )));
    }
    let rng = session.env().rng.clone();
    session.sync_transaction(|txn| -> Result<(), SyncError> {
        if txn.state.is_some() {
            return Err(SyncError::AlreadyInGroup);
        }
        let state = new_state(name, config, txn.now, rng.as_ref())?;
        txn.state = Some(state.encode());
        txn.write = true;
        Ok(())
    })?;
    sync_with(session, storage, rng.as_ref())
}

fn new_state(
    name: &str,
    storage: StorageConfig,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<SyncState, SyncError> {
    let signing_seed = KeyBytes(*crypto::random_key(rng)?);
    let kx_seed = KeyBytes(*crypto::random_key(rng)?);
    let group: [u8; 16] = crypto::random_array(rng)?;
    let signer = SigningKey::from_seed(&signing_seed.0);
    let mut state = SyncState {
        version: STATE_VERSION,
        group,
        founder: signer.public(),
        signing_seed,
        kx_seed,
        name: name.trim().to_owned(),
        epochs: BTreeMap::new(),
        statements: BTreeSet::new(),
        rotations: BTreeSet::new(),
        doc: Doc::default(),
        clock: 0,
        generation: 0,
        seen: BTreeMap::new(),
        quarantined: BTreeMap::new(),
        storage,
        warnings: Vec::new(),
        last_sync: None,
        first_sync: false,
        revoked: false,
        unpublished: true,
        pending: Vec::new(),
        awaiting_admission: false,
    };
    let genesis = Statement::Add {
        group,
        device: state.device(),
        by: state.me(),
        at: now,
        parents: Vec::new(),
    };
    state
        .statements
        .insert(Signed::statement(&genesis, &signer));
    ensure_epoch(&mut state, now, rng)?;
    Ok(state)
}

fn device_views(state: &SyncState) -> Vec<DeviceView> {
    let membership = state.membership();
    let me = state.me();
    let mut out: Vec<DeviceView> = membership
        .members
        .values()
        .map(|d| {
            let seen = state.seen.get(&KeyBytesPub(d.key));
            let (by, at) = membership.added.get(&d.key).copied().unwrap_or((d.key, 0));
            DeviceView {
                name: d.name.clone(),
                tag: format!("{:016x}", d.tag()),
                this_device: d.key == me,
                active: membership.is_active(&d.key),
                revoked: membership.revoked.contains(&d.key),
                quarantined: state.quarantined.contains_key(&KeyBytesPub(d.key)),
                generation: seen.map(|s| s.generation),
                last_update: seen.map(|s| s.written_at),
                last_seen: seen.map(|s| s.received_at),
                added_by: membership.name_of(roster::devtag(&by)),
                added_at: at,
            }
        })
        .collect();
    out.sort_by(|a, b| (!a.this_device, &a.name).cmp(&(!b.this_device, &b.name)));
    out
}

/// The members of the group.
pub fn devices(session: &VaultSession) -> Result<Vec<DeviceView>, SyncError> {
    Ok(device_views(&state_of(session)?))
}

/// Members, conflicts, warnings.
pub fn status(session: &VaultSession) -> Result<SyncStatus, SyncError> {
    let state = state_of(session)?;
    let epoch = roster::rotations_by_epoch(&state.group, &state.rotations)
        .keys()
        .next_back()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let mut warnings = state.warnings.clone();
    for (k, q) in &state.quarantined {
        let w = SyncWarning::Fork {
            device: state.membership().name_of(roster::devtag(&k.0)),
            generation: q.generation,
        };
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    Ok(SyncStatus {
        group: crypto::hex(&state.group),
        device_name: state.name.clone(),
        storage: state.storage.describe(),
        generation: state.generation,
        last_sync: state.last_sync,
        devices: device_views(&state),
        open_conflicts: state.doc.open_conflicts().len(),
        warnings,
        epoch,
        revoked: state.revoked,
        awaiting_admission: state.awaiting_admission,
    })
}

fn describe_value(doc: &Doc, value: &ConflictValue) -> String {
    match value {
        ConflictValue::Text(t) if t.is_empty() => "(empty)".into(),
        ConflictValue::Text(t) => t.clone(),
        ConflictValue::Groups(g) => {
            let names: Vec<String> = g
                .iter()
                .filter_map(|id| doc.groups.get(id).map(|g| g.name.value.clone()))
                .collect();
            if names.is_empty() {
                "(no group)".into()
            } else {
                names.join(", ")
            }
        }
        ConflictValue::Flag(b) => if *b { "yes" } else { "no" }.into(),
        ConflictValue::Icon(i) => i.as_ref().map_or("(none)".into(), |i| i.0.clone()),
        ConflictValue::Entry(id) => format!("another secret, kept as entry {id}"),
    }
}

fn current_value(doc: &Doc, c: &doc::Conflict) -> String {
    let Some(e) = doc.entries.get(&c.entry) else {
        return "(deleted)".into();
    };
    let v = match c.field {
        Field::Issuer => ConflictValue::Text(e.issuer.value.clone()),
        Field::Account => ConflictValue::Text(e.account.value.clone()),
        Field::Note => ConflictValue::Text(e.note.value.clone()),
        Field::Groups => ConflictValue::Groups(e.groups.value.clone()),
        Field::Favorite => ConflictValue::Flag(e.favorite.value),
        Field::Icon => ConflictValue::Icon(e.icon.value.clone()),
        Field::Otp => return "the secret shown in this entry".into(),
        Field::Sort | Field::Trash => return String::new(),
    };
    describe_value(doc, &v)
}

fn conflict_view(doc: &Doc, membership: &Membership, c: &doc::Conflict, me: u64) -> ConflictView {
    let label = doc.entries.get(&c.entry).map_or_else(
        || "(deleted entry)".to_owned(),
        |e| model::label(&e.issuer.value, &e.account.value),
    );
    ConflictView {
        entry: c.entry,
        label,
        field: c.field,
        shown: current_value(doc, c),
        shown_by: membership.name_of(c.winner.device),
        shown_at: c.winner.ms(),
        other: describe_value(doc, &c.value),
        other_by: membership.name_of(c.loser.device),
        other_at: c.loser.ms(),
        other_entry: match c.value {
            ConflictValue::Entry(id) => Some(id),
            _ => None,
        },
        mine_is_shown: if c.winner.device == me {
            Some(true)
        } else if c.loser.device == me {
            Some(false)
        } else {
            None
        },
    }
}

/// Conflicts not resolved yet, oldest first.
pub fn conflicts(session: &VaultSession) -> Result<Vec<ConflictView>, SyncError> {
    let state = state_of(session)?;
    let membership = state.membership();
    let me = state.my_tag();
    Ok(state
        .doc
        .open_conflicts()
        .into_iter()
        .map(|c| conflict_view(&state.doc, &membership, c, me))
        .collect())
}

/// Resolves every open conflict of `entry` (the entry, or the entry holding the other
/// secret). Edits the vault; the next sync sends the resolution. Returns how many.
pub fn resolve(session: &VaultSession, entry: EntryId, keep: Keep) -> Result<usize, SyncError> {
    let rng = session.env().rng.clone();
    let rng = rng.as_ref();
    session.sync_transaction(|txn| -> Result<usize, SyncError> {
        let mut state = decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        let me = state.my_tag();
        let keys: Vec<doc::ConflictKey> = state
            .doc
            .open_conflicts()
            .into_iter()
            .filter(|c| c.entry == entry || c.value == ConflictValue::Entry(entry))
            .map(|c| c.key())
            .collect();
        if keys.is_empty() {
            return Err(SyncError::NoSuchConflict(format!(
                "entry {entry} has no open sync conflict (see `sync conflicts`)"
            )));
        }
        // Bring the document up to the vault first, so the resolution's edits are this
        // device's newest writes.
        let mut clock = Clock {
            last: state.clock,
            device: me,
            now: txn.now,
        };
        let base = state.doc.materialize(&txn.content.settings);
        state.doc.record_local(&base, &txn.content, &mut clock);
        for key in &keys {
            let c = state.doc.conflicts[key].clone();
            let keep_other = match keep {
                Keep::Both => None,
                Keep::Theirs => Some(c.loser.device != me || c.winner.device == me),
                Keep::Mine => Some(c.loser.device == me && c.winner.device != me),
            };
            apply_resolution(&mut txn.content, &state.doc, &c, keep_other, txn.now, rng)?;
        }
        // The edits above are recorded (stamped) by the next sync, like any edit.
        for key in &keys {
            state.doc.resolve(key, &mut clock);
        }
        state.clock = clock.last;
        state.unpublished = true;
        txn.state = Some(state.encode());
        txn.write = true;
        Ok(keys.len())
    })
}

/// Applies one resolution to the vault content. `keep_other`: `Some(true)` keeps the value
/// kept for review, `Some(false)` the one shown, `None` both.
fn apply_resolution(
    content: &mut VaultContent,
    doc: &Doc,
    c: &doc::Conflict,
    keep_other: Option<bool>,
    now: i64,
    rng: &dyn RandomSource,
) -> Result<(), SyncError> {
    if let ConflictValue::Entry(other) = &c.value {
        match keep_other {
            None => {}
            Some(false) => {
                if let Some(e) = content.entry_mut(*other) {
                    e.deleted_at.get_or_insert(now);
                }
            }
            Some(true) => {
                let replacement = content.entry(*other).map(|e| (e.kind, e.secret.clone()));
                if let (Some((kind, secret)), Some(e)) = (replacement, content.entry_mut(c.entry)) {
                    e.kind = kind;
                    e.secret = secret;
                    e.updated_at = now;
                }
                if let Some(e) = content.entry_mut(*other) {
                    e.deleted_at.get_or_insert(now);
                }
            }
        }
        return Ok(());
    }
    let Some(current) = content.entry(c.entry).cloned() else {
        return Ok(());
    };
    let mut with_other = current.clone();
    match &c.value {
        ConflictValue::Text(t) => match c.field {
            Field::Issuer => with_other.issuer = t.clone(),
            Field::Account => with_other.account = t.clone(),
            _ => with_other.note = t.clone(),
        },
        ConflictValue::Groups(g) => {
            with_other.group_ids = g
                .iter()
                .filter(|id| doc.groups.contains_key(id))
                .copied()
                .collect()
        }
        ConflictValue::Flag(f) => with_other.favorite = *f,
        ConflictValue::Icon(i) => with_other.icon = i.clone(),
        ConflictValue::Entry(_) => unreachable!("handled above"),
    }
    with_other.updated_at = now;
    match keep_other {
        Some(false) => {}
        Some(true) => {
            if let Some(e) = content.entry_mut(c.entry) {
                *e = with_other;
            }
        }
        None => {
            with_other.id = model::Id::from_random(crypto::random_array(rng)?);
            with_other.created_at = now;
            with_other.sort_key = current.sort_key.saturating_add(1);
            with_other.use_count = 0;
            content.entries.push(with_other);
        }
    }
    Ok(())
}

/// Removes a device from the group: it is revoked (final), a new group key is made for the
/// remaining devices, and its later files are refused. The next sync publishes this.
pub fn revoke(session: &VaultSession, query: &str) -> Result<DeviceView, SyncError> {
    let rng = session.env().rng.clone();
    let rng = rng.as_ref();
    session.sync_transaction(|txn| -> Result<DeviceView, SyncError> {
        let mut state = decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        let target = find_member(&state, query)?;
        if target.key == state.me() {
            return Err(SyncError::InvalidInput(
                "this device cannot revoke itself; revoke it from another device, or leave the \
                 group (`sync leave`)"
                    .into(),
            ));
        }
        let membership = state.membership();
        if membership.revoked.contains(&target.key) {
            return Err(SyncError::InvalidInput(format!(
                "{} is already removed",
                target.name
            )));
        }
        let survivors = membership
            .active()
            .into_iter()
            .filter(|d| d.key != target.key)
            .map(|d| DeviceKeyBytes(d.key))
            .collect();
        let statement = Statement::Revoke {
            group: state.group,
            device: target.key,
            by: state.me(),
            at: txn.now,
            survivors,
            parents: roster::heads(&state.group, &state.statements),
        };
        state
            .statements
            .insert(Signed::statement(&statement, &state.signing_key()));
        state.quarantined.remove(&KeyBytesPub(target.key));
        ensure_epoch(&mut state, txn.now, rng)?;
        state.unpublished = true;
        let view = device_views(&state)
            .into_iter()
            .find(|v| v.tag == format!("{:016x}", target.tag()))
            .ok_or_else(|| SyncError::Internal("revoked device vanished".into()))?;
        txn.state = Some(state.encode());
        txn.write = true;
        Ok(view)
    })
}

/// Finds a member by name or tag prefix.
pub(crate) fn find_member(state: &SyncState, query: &str) -> Result<Device, SyncError> {
    let q = query.trim().to_lowercase();
    let membership = state.membership();
    let found: Vec<Device> = membership
        .members
        .values()
        .filter(|d| {
            d.name.to_lowercase() == q
                || (q.len() >= 4 && format!("{:016x}", d.tag()).starts_with(&q))
        })
        .cloned()
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(SyncError::NoSuchDevice(query.to_owned())),
        _ => Err(SyncError::InvalidInput(format!(
            "'{query}' matches several devices; use its tag (see `sync devices`)"
        ))),
    }
}

/// Leaves the group: forgets the sync state (the vault keeps its accounts). Other devices
/// should revoke this one.
pub fn leave(session: &VaultSession) -> Result<(), SyncError> {
    session.sync_transaction(|txn| -> Result<(), SyncError> {
        if txn.state.is_none() {
            return Err(SyncError::NotInGroup);
        }
        txn.state = None;
        txn.write = true;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::crypto::SystemRandom;
    use crate::otp::OtpKind;
    use crate::sync::join::{JoinInvite, Joiner, confirm_device, invite_device};
    use crate::sync::storage::MemoryStorage;
    use crate::sync::test_device as device;
    use crate::vault::NewEntry;

    fn set_secret(s: &VaultSession, id: EntryId, bytes: Vec<u8>) {
        s.modify(|c, now| {
            let e = c.entry_mut(id).unwrap();
            e.secret = Secret::from_bytes(bytes).unwrap();
            e.updated_at = now;
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn two_secrets_for_one_entry_become_two_entries() {
        let storage = MemoryStorage::new();
        let (a, b) = (device(), device());
        setup(
            &a,
            StorageConfig::App { label: "t".into() },
            &storage,
            "phone",
        )
        .unwrap();
        let rng = SystemRandom::new();
        let now = crate::time::now_s();
        let mut joiner = Joiner::new("desktop", now, 600, None, &rng).unwrap();
        let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
        let (mut sender, added) = invite_device(&a, invite, false, 800, &rng).unwrap();
        joiner.receiver().receive_blob(sender.blob(), now).unwrap();
        sender
            .accept_reply(&joiner.receiver().reply().unwrap(), now)
            .unwrap();
        confirm_device(&a, &added.key, &rng).unwrap();
        joiner.accept(&b, None).unwrap();
        let e = a
            .add_entry(
                NewEntry::new(
                    OtpKind::DEFAULT_TOTP,
                    Secret::from_bytes(vec![1; 20]).unwrap(),
                    "VPN".into(),
                    "alice".into(),
                ),
                false,
            )
            .unwrap();
        sync(&a, &storage).unwrap();
        sync(&b, &storage).unwrap();
        // Re-enrolled on both devices at once, with two different secrets.
        set_secret(&a, e.id, vec![0xaa; 20]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        set_secret(&b, e.id, vec![0xbb; 32]);
        sync(&a, &storage).unwrap();
        sync(&b, &storage).unwrap();
        sync(&a, &storage).unwrap();
        for s in [&a, &b] {
            let secrets: Vec<Vec<u8>> = s
                .entries()
                .unwrap()
                .iter()
                .map(|x| x.secret.expose().to_vec())
                .collect();
            assert_eq!(secrets.len(), 2);
            assert!(secrets.contains(&vec![0xaa; 20]) && secrets.contains(&vec![0xbb; 32]));
            let open = conflicts(s).unwrap();
            assert_eq!(open.len(), 1);
            assert_eq!(open[0].field, Field::Otp);
            // The secret is never shown in a conflict, in hex or in base32. (The texts name
            // entries by random ids, so a short pattern such as "aa" can occur by chance.)
            for secret in [vec![0xaa; 20], vec![0xbb; 32]] {
                let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
                let b32 = Secret::from_bytes(secret).unwrap().to_base32();
                for text in [&open[0].other, &open[0].shown] {
                    assert!(!text.contains(&hex) && !text.contains(&b32[..16]), "{text}");
                }
            }
        }
        // Keep the shown one: the other goes to the trash (not lost), everywhere.
        let other = conflicts(&b).unwrap()[0].other_entry.unwrap();
        resolve(&b, other, Keep::Theirs).unwrap();
        sync(&b, &storage).unwrap();
        sync(&a, &storage).unwrap();
        assert_eq!(a.entries().unwrap().len(), 1);
        assert_eq!(a.trash().unwrap().len(), 1);
        assert!(conflicts(&a).unwrap().is_empty());
    }
}
