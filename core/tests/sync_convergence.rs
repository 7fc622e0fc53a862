//! Convergence: whatever 2–4 devices do (add, edit each field, trash, restore, purge,
//! reorder, HOTP next, groups, settings, add and use recovery codes), in whatever order they sync, with files lost,
//! delayed and duplicated on the way, once every device has read every other device's latest
//! file they hold the same vault content — and no HOTP counter ever went back.
//!
//! Each device has its own copy of the storage (as with Syncthing); a delivery copies one
//! device's copy into another's, and may be lost. At the end every copy is delivered
//! everywhere until nothing changes.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod sync_support;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sync_support::*;
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::sync::doc::{Clock, Doc};
use twofold_core::sync::{self, MemoryStorage};
use twofold_core::vault::model::{self, Entry, Settings, VaultContent};
use twofold_core::vault::{EntryId, EntryUpdate};

#[derive(Debug, Clone)]
enum Op {
    Add {
        dev: usize,
        n: u8,
        hotp: bool,
    },
    Edit {
        dev: usize,
        pick: u8,
        field: u8,
        value: u8,
    },
    Trash {
        dev: usize,
        pick: u8,
    },
    Restore {
        dev: usize,
        pick: u8,
    },
    Purge {
        dev: usize,
        pick: u8,
    },
    Reorder {
        dev: usize,
        pick: u8,
    },
    HotpNext {
        dev: usize,
        pick: u8,
    },
    AddGroup {
        dev: usize,
        n: u8,
    },
    Retention {
        dev: usize,
        days: u8,
    },
    AddCode {
        dev: usize,
        pick: u8,
        n: u8,
    },
    UseCode {
        dev: usize,
        pick: u8,
        n: u8,
    },
    Tick {
        dev: usize,
        ms: u32,
    },
    Sync {
        dev: usize,
    },
    Deliver {
        from: usize,
        to: usize,
        lost: bool,
    },
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    let d = 0..devices;
    prop_oneof![
        3 => (d.clone(), any::<u8>(), any::<bool>()).prop_map(|(dev, n, hotp)| Op::Add { dev, n, hotp }),
        6 => (d.clone(), any::<u8>(), 0u8..8, any::<u8>())
            .prop_map(|(dev, pick, field, value)| Op::Edit { dev, pick, field, value }),
        2 => (d.clone(), any::<u8>()).prop_map(|(dev, pick)| Op::Trash { dev, pick }),
        1 => (d.clone(), any::<u8>()).prop_map(|(dev, pick)| Op::Restore { dev, pick }),
        1 => (d.clone(), any::<u8>()).prop_map(|(dev, pick)| Op::Purge { dev, pick }),
        1 => (d.clone(), any::<u8>()).prop_map(|(dev, pick)| Op::Reorder { dev, pick }),
        2 => (d.clone(), any::<u8>()).prop_map(|(dev, pick)| Op::HotpNext { dev, pick }),
        1 => (d.clone(), any::<u8>()).prop_map(|(dev, n)| Op::AddGroup { dev, n }),
        1 => (d.clone(), 1u8..60).prop_map(|(dev, days)| Op::Retention { dev, days }),
        3 => (d.clone(), any::<u8>(), 0u8..6).prop_map(|(dev, pick, n)| Op::AddCode { dev, pick, n }),
        2 => (d.clone(), any::<u8>(), 0u8..6).prop_map(|(dev, pick, n)| Op::UseCode { dev, pick, n }),
        3 => (d.clone(), 1u32..120_000).prop_map(|(dev, ms)| Op::Tick { dev, ms }),
        6 => d.clone().prop_map(|dev| Op::Sync { dev }),
        8 => (d.clone(), d, any::<bool>()).prop_map(|(from, to, lost)| Op::Deliver { from, to, lost }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<i64>, Vec<Op>)> {
    (2usize..=4).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(-3_600_000i64..3_600_000, n),
            proptest::collection::vec(op(n), 10..60),
        )
    })
}

/// Every canonical file of `from` copied into `to` (a sync tool delivering).
fn deliver(from: &MemoryStorage, to: &MemoryStorage) {
    for name in from.names() {
        if twofold_core::sync::file::parse_name(&name).is_some()
            && to.get(&name).is_none()
            && let Some(bytes) = from.get(&name)
        {
            to.put(&name, bytes);
        }
    }
}

fn pick(d: &Device, n: u8, trashed: bool) -> Option<Entry> {
    let mut all: Vec<Entry> = d
        .session
        .read(|c| {
            c.entries
                .iter()
                .filter(|e| e.deleted_at.is_some() == trashed)
                .cloned()
                .collect()
        })
        .unwrap();
    if all.is_empty() {
        return None;
    }
    all.sort_by_key(|e| e.id);
    let i = usize::from(n) % all.len();
    Some(all.swap_remove(i))
}

fn counter(e: &Entry) -> Option<u64> {
    match e.kind {
        OtpKind::Hotp { counter, .. } => Some(counter),
        _ => None,
    }
}

fn run(n: usize, skews: &[i64], ops: &[Op]) -> Result<(), TestCaseError> {
    let names = ["phone", "desktop", "tablet", "spare"];
    let shared = MemoryStorage::new();
    let devices = group(&names[..n], &shared);
    for (d, skew) in devices.iter().zip(skews) {
        d.tick(*skew);
    }
    // Each device's own copy of the storage, starting from what the group wrote so far.
    let replicas: Vec<MemoryStorage> = (0..n)
        .map(|_| {
            let r = MemoryStorage::new();
            deliver(&shared, &r);
            r
        })
        .collect();
    let mut hotp_used: BTreeMap<EntryId, u64> = BTreeMap::new();
    let mut purged: BTreeSet<EntryId> = BTreeSet::new();
    let mut added: BTreeSet<EntryId> = BTreeSet::new();
    // Recovery codes added, and those marked used: (entry, code text).
    let mut codes_added: BTreeSet<(EntryId, String)> = BTreeSet::new();
    let mut codes_used: BTreeSet<(EntryId, String)> = BTreeSet::new();
    for op in ops {
        match *op {
            Op::Add { dev, n, hotp } => {
                let d = &devices[dev];
                d.tick(100);
                let mut new = new_entry(&format!("Issuer {n}"), &[n.max(1); 20]);
                if hotp {
                    new.kind = OtpKind::Hotp {
                        algorithm: Algorithm::Sha1,
                        digits: 6,
                        counter: u64::from(n),
                    };
                }
                let e = d.session.add_entry(new, true).unwrap();
                added.insert(e.id);
            }
            Op::Edit {
                dev,
                pick: p,
                field,
                value,
            } => {
                let d = &devices[dev];
                d.tick(100);
                let Some(e) = pick(d, p, false) else { continue };
                let mut u = EntryUpdate::default();
                match field {
                    0 => u.issuer = Some(format!("Issuer v{value}")),
                    1 => u.account = Some(format!("account{value}")),
                    2 => u.note = Some(format!("note {value}")),
                    3 => u.favorite = Some(value % 2 == 0),
                    4 => {
                        let groups = d.session.groups().unwrap();
                        u.group_ids = Some(
                            groups
                                .iter()
                                .filter(|g| (g.sort_key / 1024) as u8 % 2 == value % 2)
                                .map(|g| g.id)
                                .collect(),
                        );
                    }
                    5 => {
                        if counter(&e).is_none() {
                            u.kind = Some(OtpKind::Totp {
                                algorithm: Algorithm::Sha256,
                                digits: 6 + value % 3,
                                period: 30,
                            });
                        }
                    }
                    _ => {
                        // Other code settings (the secret's register).
                        if counter(&e).is_none() {
                            u.kind = Some(OtpKind::Totp {
                                algorithm: Algorithm::Sha1,
                                digits: 6,
                                period: 30 + u32::from(value % 4) * 15,
                            });
                        }
                    }
                }
                d.session.update_entry(e.id, u).unwrap();
            }
            Op::Trash { dev, pick: p } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, false) {
                    d.session.delete_entry(e.id).unwrap();
                }
            }
            Op::Restore { dev, pick: p } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, true) {
                    d.session.restore_entry(e.id).unwrap();
                }
            }
            Op::Purge { dev, pick: p } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, true) {
                    d.session.purge_entry(e.id).unwrap();
                    purged.insert(e.id);
                }
            }
            Op::Reorder { dev, pick: p } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, false) {
                    d.session.reorder(&[e.id]).unwrap();
                }
            }
            Op::HotpNext { dev, pick: p } => {
                let d = &devices[dev];
                d.tick(100);
                let hotps: Vec<Entry> = d
                    .session
                    .entries()
                    .unwrap()
                    .into_iter()
                    .filter(|e| counter(e).is_some())
                    .collect();
                if hotps.is_empty() {
                    continue;
                }
                let e = &hotps[usize::from(p) % hotps.len()];
                d.session.next_hotp(e.id).unwrap();
                let now = counter(&d.session.entry(e.id).unwrap()).unwrap();
                let m = hotp_used.entry(e.id).or_insert(0);
                *m = (*m).max(now);
            }
            Op::AddGroup { dev, n } => {
                let d = &devices[dev];
                d.tick(100);
                d.session.add_group(&format!("Group {n}")).unwrap();
            }
            Op::Retention { dev, days } => {
                let d = &devices[dev];
                d.tick(100);
                d.session.set_trash_retention_days(u32::from(days)).unwrap();
            }
            Op::AddCode { dev, pick: p, n } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, false) {
                    let code = format!("code-{n:02}");
                    d.session
                        .add_recovery_codes(e.id, std::slice::from_ref(&code))
                        .unwrap();
                    codes_added.insert((e.id, code));
                }
            }
            Op::UseCode { dev, pick: p, n } => {
                let d = &devices[dev];
                d.tick(100);
                if let Some(e) = pick(d, p, false) {
                    let code = format!("code-{n:02}");
                    if e.recovery_codes.iter().any(|c| c.code == code) {
                        d.session.use_recovery_code(e.id, &code).unwrap();
                        codes_used.insert((e.id, code));
                    }
                }
            }
            Op::Tick { dev, ms } => devices[dev].tick(i64::from(ms)),
            Op::Sync { dev } => {
                devices[dev].sync(&replicas[dev]);
            }
            Op::Deliver { from, to, lost } => {
                if !lost && from != to {
                    deliver(&replicas[from], &replicas[to]);
                }
            }
        }
    }
    // Quiescence: everyone reads everyone's latest files until nothing is written.
    for round in 0.. {
        prop_assert!(round < 8, "no quiescence after 8 rounds");
        for d in 0..n {
            devices[d].sync(&replicas[d]);
        }
        for from in 0..n {
            for to in 0..n {
                deliver(&replicas[from], &replicas[to]);
            }
        }
        let mut wrote = false;
        for d in 0..n {
            wrote |= devices[d].sync(&replicas[d]).written.is_some();
        }
        for from in 0..n {
            for to in 0..n {
                deliver(&replicas[from], &replicas[to]);
            }
        }
        if !wrote {
            break;
        }
    }
    let first = devices[0].view();
    for d in &devices[1..] {
        prop_assert_eq!(
            &first,
            &d.view(),
            "{} and {} differ",
            devices[0].name,
            d.name
        );
    }
    // HOTP counters never went back.
    for (id, used) in &hotp_used {
        if let Ok(e) = devices[0].session.entry(*id) {
            prop_assert!(counter(&e).unwrap() >= *used, "counter went back");
        }
    }
    // Nothing was lost that nobody purged.
    for id in added.difference(&purged) {
        prop_assert!(
            devices[0].session.entry(*id).is_ok(),
            "entry {id} vanished without being purged"
        );
    }
    // No recovery code added to an entry that still exists was lost, and none marked used
    // came back unused. An entry some device purged is exempt: an edit made elsewhere brings
    // it back as that device knew it (sync-protocol §5.6), and what only the purging device
    // held went with the purge, as purged content never travels.
    for (id, code) in codes_added.iter().filter(|(id, _)| !purged.contains(id)) {
        if let Ok(e) = devices[0].session.entry(*id) {
            let found = e.recovery_codes.iter().find(|c| &c.code == code);
            prop_assert!(found.is_some(), "recovery code {code} of {id} lost");
            if codes_used.contains(&(*id, code.clone())) {
                prop_assert!(
                    found.unwrap().used,
                    "recovery code {code} of {id} unused again"
                );
            }
        }
    }
    for d in &devices {
        prop_assert!(sync::status(&d.session).unwrap().warnings.is_empty());
        let invariants = d.session.read(|c| c.check_invariants()).unwrap();
        prop_assert!(invariants.is_ok(), "{}: {:?}", d.name, invariants);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        max_shrink_iters: 64,
        .. ProptestConfig::default()
    })]

    #[test]
    fn devices_converge_whatever_the_order_and_losses((n, skews, ops) in scenario()) {
        run(n, &skews, &ops)?;
    }
}

/// The merge itself, on many more cases: commutative, associative, idempotent.
fn random_content(seed: &[u8], base: &VaultContent, now: i64) -> VaultContent {
    let mut c = base.clone();
    for (i, b) in seed.iter().enumerate() {
        let len = c.entries.len();
        match b % 8 {
            0 => {
                let id = model::Id::from_random([*b ^ (i as u8); 16]);
                if c.entry(id).is_none() {
                    c.entries.push(Entry::new(
                        id,
                        OtpKind::DEFAULT_TOTP,
                        Secret::from_bytes(vec![*b | 1; 20]).unwrap(),
                        format!("I{b}"),
                        "a".into(),
                        now,
                        i64::from(*b),
                    ));
                }
            }
            1 if len > 0 => c.entries[usize::from(*b) % len].note = format!("n{i}"),
            2 if len > 0 => c.entries[usize::from(*b) % len].deleted_at = Some(now),
            3 if len > 0 => {
                c.entries.remove(usize::from(*b) % len);
            }
            4 if len > 0 => c.entries[usize::from(*b) % len].issuer = format!("J{i}"),
            5 if len > 0 => {
                c.entries[usize::from(*b) % len].secret =
                    Secret::from_bytes(vec![*b ^ 0x55 | 1; 16]).unwrap()
            }
            6 if len > 0 => {
                let _ = c.add_recovery_codes(
                    c.entries[usize::from(*b) % len].id,
                    &[format!("rc-{}", b % 5)],
                    now,
                );
            }
            7 if len > 0 => {
                let e = &c.entries[usize::from(*b) % len];
                let (id, code) = (e.id, format!("rc-{}", b % 5));
                let _ = c.use_recovery_code(id, &code, now + i64::from(*b));
            }
            _ => {}
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn merge_is_commutative_associative_and_idempotent(
        s0 in proptest::collection::vec(any::<u8>(), 0..12),
        s1 in proptest::collection::vec(any::<u8>(), 0..12),
        s2 in proptest::collection::vec(any::<u8>(), 0..12),
        s3 in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let mut shared = Doc::default();
        let start = random_content(&s0, &VaultContent::new(), 1_000);
        shared.record_local(&VaultContent::new(), &start, &mut Clock { last: 0, device: 1, now: 1_000 });
        let base = shared.materialize(&Settings::default());
        let docs: Vec<Doc> = [&s1, &s2, &s3]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut d = shared.clone();
                let now = 2_000 + i as i64 * 7;
                let local = random_content(s, &base, now);
                d.record_local(&base, &local, &mut Clock { last: 0, device: 10 + i as u64, now });
                d
            })
            .collect();
        let join = |order: &[usize]| {
            let mut d = docs[order[0]].clone();
            for i in &order[1..] {
                d.merge(&docs[*i]);
            }
            d.normalize(10_000);
            d
        };
        let abc = join(&[0, 1, 2]);
        for order in [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            let other = join(&order);
            prop_assert_eq!(abc.materialize(&Settings::default()), other.materialize(&Settings::default()));
        }
        let mut twice = abc.clone();
        twice.merge(&abc);
        twice.merge(&docs[1]);
        twice.normalize(10_000);
        prop_assert_eq!(twice.materialize(&Settings::default()), abc.materialize(&Settings::default()));
    }
}

/// Revocations a roster scenario makes at most (see `run_roster`): no limit since a removed
/// device publishes the revocations it made before it heard of its own (a cycle of three
/// concurrent revocations used to leave the devices disagreeing).
const MAX_REVOCATIONS: usize = usize::MAX;

/// What a device does in a roster scenario.
#[derive(Debug, Clone)]
enum RosterOp {
    Add { dev: usize, n: u8 },
    Revoke { dev: usize, target: usize },
    Sync { dev: usize },
    Deliver { from: usize, to: usize, lost: bool },
}

fn roster_scenario() -> impl Strategy<Value = (usize, Vec<RosterOp>)> {
    (3usize..=4).prop_flat_map(|n| {
        let d = 0..n;
        let op = prop_oneof![
            2 => (d.clone(), any::<u8>()).prop_map(|(dev, n)| RosterOp::Add { dev, n }),
            2 => (d.clone(), d.clone()).prop_map(|(dev, target)| RosterOp::Revoke { dev, target }),
            4 => d.clone().prop_map(|dev| RosterOp::Sync { dev }),
            6 => (d.clone(), d, any::<bool>())
                .prop_map(|(from, to, lost)| RosterOp::Deliver { from, to, lost }),
        ];
        (Just(n), proptest::collection::vec(op, 4..30))
    })
}

/// Syncs `d`; false once it has learnt that it was removed.
fn sync_or_removed(d: &Device, storage: &MemoryStorage) -> Result<bool, TestCaseError> {
    d.tick(1000);
    match sync::sync(&d.session, storage) {
        Ok(r) => Ok(r.written.is_some()),
        Err(sync::SyncError::Revoked) => Ok(false),
        Err(e) => Err(TestCaseError::fail(format!(
            "{} failed to sync: {e}",
            d.name
        ))),
    }
}

fn active_names(d: &Device) -> BTreeSet<String> {
    sync::devices(&d.session)
        .unwrap()
        .into_iter()
        .filter(|v| v.active)
        .map(|v| v.name)
        .collect()
}

/// Revocations made in any order, concurrently and crosswise (two devices removing each
/// other, a removed device removing others before it hears of its removal), with files lost
/// and delivered late: once every device has read everything, the devices that are still
/// members agree on who the members are and hold the same accounts, every removed device
/// knows it was removed, and the group is never left empty.
fn run_roster(n: usize, ops: &[RosterOp]) -> Result<(), TestCaseError> {
    run_roster_with(n, ops, MAX_REVOCATIONS)
}

/// [`run_roster`] with at most `max_revocations` revocations.
fn run_roster_with(
    n: usize,
    ops: &[RosterOp],
    max_revocations: usize,
) -> Result<(), TestCaseError> {
    run_roster_devices(n, ops, max_revocations).map(|_| ())
}

/// [`run_roster_with`], returning the devices once they settled.
fn run_roster_devices(
    n: usize,
    ops: &[RosterOp],
    max_revocations: usize,
) -> Result<Vec<Device>, TestCaseError> {
    let names = ["phone", "desktop", "tablet", "spare"];
    let shared = MemoryStorage::new();
    let devices = group(&names[..n], &shared);
    let replicas: Vec<MemoryStorage> = (0..n)
        .map(|_| {
            let r = MemoryStorage::new();
            deliver(&shared, &r);
            r
        })
        .collect();
    let mut revocations = 0;
    for op in ops {
        match *op {
            RosterOp::Add { dev, n } => {
                let d = &devices[dev];
                d.tick(100);
                d.session
                    .add_entry(new_entry(&format!("Issuer {n}"), &[n.max(1); 20]), true)
                    .unwrap();
            }
            RosterOp::Revoke { dev, target } => {
                let d = &devices[dev];
                d.tick(100);
                // Only what the user could do: remove another device this one still lists.
                // Any number, concurrent, mutual or in a cycle (the seniority rule settles
                // them once every device holds every revocation).
                if revocations < max_revocations
                    && dev != target
                    && active_names(d).contains(devices[target].name.as_str())
                    && sync::revoke(&d.session, &devices[target].name).is_ok()
                {
                    revocations += 1;
                }
            }
            RosterOp::Sync { dev } => {
                sync_or_removed(&devices[dev], &replicas[dev])?;
            }
            RosterOp::Deliver { from, to, lost } => {
                if !lost && from != to {
                    deliver(&replicas[from], &replicas[to]);
                }
            }
        }
    }
    for round in 0.. {
        prop_assert!(round < 8, "no quiescence after 8 rounds");
        let mut wrote = false;
        for _ in 0..2 {
            for d in 0..n {
                wrote |= sync_or_removed(&devices[d], &replicas[d])?;
            }
            for from in 0..n {
                for to in 0..n {
                    deliver(&replicas[from], &replicas[to]);
                }
            }
        }
        if !wrote {
            break;
        }
    }
    let staying: Vec<&Device> = devices
        .iter()
        .filter(|d| !sync::state_of(&d.session).unwrap().revoked)
        .collect();
    prop_assert!(!staying.is_empty(), "every device was removed");
    let members = active_names(staying[0]);
    let staying_names: BTreeSet<String> = staying.iter().map(|d| d.name.clone()).collect();
    prop_assert_eq!(
        &members,
        &staying_names,
        "members and devices still syncing"
    );
    let view = staying[0].view();
    for d in &staying[1..] {
        prop_assert_eq!(
            &members,
            &active_names(d),
            "{} disagrees on members",
            d.name
        );
        prop_assert_eq!(&view, &d.view(), "{} holds other accounts", d.name);
    }
    drop(staying);
    Ok(devices)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        max_shrink_iters: 64,
        .. ProptestConfig::default()
    })]

    #[test]
    fn rosters_converge_with_concurrent_revocations((n, ops) in roster_scenario()) {
        run_roster(n, &ops)?;
    }
}

/// Three devices each remove another at once, in a cycle (phone → desktop → tablet → phone),
/// and only some files reach the others. The seniority rule applies the revocations one at a
/// time, and each voids what the revoked device signed outside the revoker's view, so the
/// outcome depends on every one of the three. The phone learns of its own removal before it
/// ever published its removal of the desktop: it still writes that one file (`last_word`),
/// whose body the others refuse and whose clear header gives them the revocation. Without it
/// the devices that kept syncing and the members they listed disagreed.
#[test]
fn a_cycle_of_three_concurrent_revocations_converges() {
    let ops = [
        RosterOp::Revoke { dev: 2, target: 0 },
        RosterOp::Sync { dev: 2 },
        RosterOp::Revoke { dev: 0, target: 1 },
        // Written by the phone after it removed the desktop, before it heard of its own
        // removal: it must not reach the devices that stay.
        RosterOp::Add { dev: 0, n: 7 },
        RosterOp::Deliver {
            from: 2,
            to: 0,
            lost: false,
        },
        RosterOp::Revoke { dev: 1, target: 2 },
    ];
    let devices = match run_roster_devices(3, &ops, usize::MAX) {
        Ok(d) => d,
        Err(e) => panic!("{e:?}"),
    };
    let phone = &devices[0];
    let state = sync::state_of(&phone.session).unwrap();
    assert!(state.revoked, "the phone knows it was removed");
    // The last file is written once: further syncs of the removed phone write nothing.
    let storage = MemoryStorage::new();
    phone.tick(1000);
    assert!(matches!(
        sync::sync(&phone.session, &storage),
        Err(sync::SyncError::Revoked)
    ));
    assert_eq!(
        sync::state_of(&phone.session).unwrap().generation,
        state.generation,
        "a removed device writes one last file, not one per sync"
    );
    assert!(
        storage.names().is_empty(),
        "nothing written: {:?}",
        storage.names()
    );
    for d in &devices[1..] {
        let issuers: Vec<String> = d
            .session
            .entries()
            .unwrap()
            .iter()
            .map(|e| e.issuer.clone())
            .collect();
        assert!(
            !issuers.iter().any(|i| i == "Issuer 7"),
            "{} took content from the removed phone's last file: {issuers:?}",
            d.name
        );
    }
}
