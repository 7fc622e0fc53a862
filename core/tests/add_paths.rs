//! Every way an account enters a vault — typed in (`add_entry_with`), a batch (`insert`), an
//! import, scan or transfer (`interop::add_to_vault`, `PendingAccounts::add_to`) — applies the
//! same rules: for each row of the table below, every path gives the same outcome under the
//! same policy. (Before format 2 the three paths disagreed: over-long names were clipped by
//! one and refused by another, unknown groups were dropped by one and created by another, and
//! one never looked for duplicates.)

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::*;
use tempfile::TempDir;
use twofold_core::Secret;
use twofold_core::interop::{self, ImportedEntry, PendingAccounts};
use twofold_core::limits::{MAX_ENTRIES, MAX_NAME_LEN, MAX_NOTE_LEN};
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::vault::{
    GroupRef, InputError, InsertPolicy, InsertReport, NameField, NewEntry, OnDuplicate, VaultError,
    VaultSession,
};

/// What happened to the row's account, whichever path it took.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Stored, with these names and in these groups (by name, sorted).
    Added {
        issuer: String,
        account: String,
        groups: Vec<String>,
    },
    /// Refused for a reason of its own; the rest of a batch goes in.
    Rejected(InputError),
    /// Left out because the vault has the same account.
    Skipped,
    /// The whole add failed.
    Failed(String),
}

/// The vault every row starts from: one account and one group.
const EXISTING_SECRET: &str = "JBSWY3DPEHPK3PXP";
const EXISTING_GROUP: &str = "Work";

fn fresh_vault(dir: &TempDir, name: &str) -> VaultSession {
    let (s, _) = create(&dir.path().join(name));
    let work = s.add_group(EXISTING_GROUP).unwrap();
    let mut e = totp("Existing", "me", EXISTING_SECRET);
    e.groups = vec![GroupRef::Id(work.id)];
    s.add_entry(e, false).unwrap();
    s
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

struct Row {
    what: &'static str,
    entry: NewEntry,
    /// Expected under `InsertPolicy::STRICT` (typing an account in).
    strict: Outcome,
    /// Expected under `InsertPolicy::IMPORT` (imports, scans, transfers).
    import: Outcome,
}

fn named(issuer: &str, account: &str, groups: &[&str]) -> Outcome {
    let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    groups.sort();
    Outcome::Added {
        issuer: issuer.into(),
        account: account.into(),
        groups,
    }
}

fn with_groups(mut e: NewEntry, groups: &[&str]) -> NewEntry {
    e.groups = groups
        .iter()
        .map(|g| GroupRef::Name(g.to_string()))
        .collect();
    e
}

fn rows() -> Vec<Row> {
    let fresh = || totp("Acme", "alice", "GEZDGNBVGY3TQOJQ");
    let too_long = |field| {
        Outcome::Rejected(InputError::NameTooLong {
            field,
            max: MAX_NAME_LEN,
        })
    };
    let mut note = fresh();
    note.note = long(MAX_NOTE_LEN + 1);
    let mut bad_digits = fresh();
    bad_digits.kind = OtpKind::Totp {
        algorithm: Algorithm::Sha1,
        digits: 11,
        period: 30,
    };
    let bad_digits_outcome = match bad_digits.kind.validate() {
        Err(e) => Outcome::Rejected(InputError::CodeParameters(e)),
        Ok(()) => panic!("11 digits should be out of range"),
    };
    vec![
        Row {
            what: "a plain new account",
            entry: fresh(),
            strict: named("Acme", "alice", &[]),
            import: named("Acme", "alice", &[]),
        },
        Row {
            what: "names are trimmed, never clipped",
            entry: totp("  Acme ", " alice  ", "GEZDGNBVGY3TQOJQ"),
            strict: named("Acme", "alice", &[]),
            import: named("Acme", "alice", &[]),
        },
        Row {
            what: "an issuer at the limit",
            entry: totp(&long(MAX_NAME_LEN), "alice", "GEZDGNBVGY3TQOJQ"),
            strict: named(&long(MAX_NAME_LEN), "alice", &[]),
            import: named(&long(MAX_NAME_LEN), "alice", &[]),
        },
        Row {
            what: "an over-long issuer",
            entry: totp(&long(MAX_NAME_LEN + 1), "alice", "GEZDGNBVGY3TQOJQ"),
            strict: too_long(NameField::Issuer),
            import: too_long(NameField::Issuer),
        },
        Row {
            what: "an over-long account",
            entry: totp("Acme", &long(MAX_NAME_LEN + 1), "GEZDGNBVGY3TQOJQ"),
            strict: too_long(NameField::Account),
            import: too_long(NameField::Account),
        },
        Row {
            what: "an over-long note",
            entry: note,
            strict: Outcome::Rejected(InputError::NameTooLong {
                field: NameField::Note,
                max: MAX_NOTE_LEN,
            }),
            import: Outcome::Rejected(InputError::NameTooLong {
                field: NameField::Note,
                max: MAX_NOTE_LEN,
            }),
        },
        Row {
            what: "an over-long group name",
            entry: with_groups(fresh(), &[&long(MAX_NAME_LEN + 1)]),
            strict: too_long(NameField::GroupName),
            import: too_long(NameField::GroupName),
        },
        Row {
            what: "a new group next to an over-long one creates neither",
            entry: with_groups(fresh(), &["Home", &long(MAX_NAME_LEN + 1)]),
            strict: Outcome::Failed("NoSuchGroup(\"Home\")".into()),
            import: too_long(NameField::GroupName),
        },
        Row {
            what: "code parameters out of range",
            entry: bad_digits,
            strict: bad_digits_outcome.clone(),
            import: bad_digits_outcome,
        },
        Row {
            what: "an existing group, named in another case",
            entry: with_groups(fresh(), &["wORK"]),
            strict: named("Acme", "alice", &[EXISTING_GROUP]),
            import: named("Acme", "alice", &[EXISTING_GROUP]),
        },
        Row {
            what: "an unknown group",
            entry: with_groups(fresh(), &["Home"]),
            strict: Outcome::Failed("NoSuchGroup(\"Home\")".into()),
            import: named("Acme", "alice", &["Home"]),
        },
        Row {
            what: "the same group twice, and a blank one",
            entry: with_groups(fresh(), &["Home", "home", "  "]),
            strict: Outcome::Failed("NoSuchGroup(\"Home\")".into()),
            import: named("Acme", "alice", &["Home"]),
        },
        Row {
            what: "the same secret and kind as an existing account",
            entry: totp("Other", "name", EXISTING_SECRET),
            strict: Outcome::Failed("Duplicate".into()),
            import: Outcome::Skipped,
        },
        Row {
            what: "the same secret as an HOTP account is a different account",
            entry: NewEntry::new(
                OtpKind::Hotp {
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    counter: 0,
                },
                Secret::from_base32(EXISTING_SECRET).unwrap(),
                "Other".into(),
                "name".into(),
            ),
            strict: named("Other", "name", &[]),
            import: named("Other", "name", &[]),
        },
    ]
}

/// A whole-add failure, without ids (they differ per vault).
fn failed(e: VaultError) -> Outcome {
    match e {
        VaultError::InvalidInput(reason) => Outcome::Rejected(reason),
        VaultError::Duplicate(_) => Outcome::Failed("Duplicate".into()),
        other => Outcome::Failed(format!("{other:?}")),
    }
}

/// The row's account (at `index` in the add) as the vault now holds it.
fn outcome_of(s: &VaultSession, report: InsertReport, index: usize) -> Outcome {
    if let Some(r) = report.rejected.iter().find(|r| r.index == index) {
        return Outcome::Rejected(r.reason.clone());
    }
    if report.duplicates.iter().any(|d| d.index == index) {
        return Outcome::Skipped;
    }
    // Accounts are added in input order, skipping the ones reported.
    let before = report.rejected.iter().filter(|r| r.index < index).count()
        + report.duplicates.iter().filter(|d| d.index < index).count();
    let id = report.added[index - before];
    stored(s, id)
}

fn stored(s: &VaultSession, id: twofold_core::vault::EntryId) -> Outcome {
    let e = s.entry(id).unwrap();
    let groups = s.groups().unwrap();
    let mut names: Vec<String> = e
        .group_ids
        .iter()
        .map(|g| groups.iter().find(|x| x.id == *g).unwrap().name.clone())
        .collect();
    names.sort();
    Outcome::Added {
        issuer: e.issuer.clone(),
        account: e.account.clone(),
        groups: names,
    }
}

/// The imported form of a row's account: what an import, a QR scan or a transfer yields.
fn imported(e: &NewEntry) -> ImportedEntry {
    let mut i = ImportedEntry::new(
        e.kind,
        e.secret.clone(),
        e.issuer.clone(),
        e.account.clone(),
    );
    i.note = e.note.clone();
    i.groups = e
        .groups
        .iter()
        .map(|g| match g {
            GroupRef::Name(n) => n.clone(),
            GroupRef::Id(_) => unreachable!("imports name their groups"),
        })
        .collect();
    i
}

/// A valid account added with the row in one batch, to show a refused row leaves the rest.
fn neighbour() -> NewEntry {
    totp("Neighbour", "n", "MFRGGZDFMZTWQ2LK")
}

type Path = fn(&VaultSession, &NewEntry, InsertPolicy) -> Option<Outcome>;

/// Every path, by name. A path that cannot express a policy returns `None` for it.
fn paths() -> Vec<(&'static str, Path)> {
    vec![
        ("add_entry_with", |s, e, policy| {
            Some(match s.add_entry_with(e.clone(), policy) {
                Ok(entry) => stored(s, entry.id),
                Err(VaultError::InvalidInput(reason)) => Outcome::Rejected(reason),
                Err(VaultError::Duplicate(_)) if policy.on_duplicate == OnDuplicate::Skip => {
                    Outcome::Skipped
                }
                Err(e) => failed(e),
            })
        }),
        ("insert", |s, e, policy| {
            Some(match s.insert(vec![e.clone()], policy) {
                Ok(report) => outcome_of(s, report, 0),
                Err(e) => failed(e),
            })
        }),
        ("insert in a batch", |s, e, policy| {
            let before = s.entries().unwrap().len();
            Some(match s.insert(vec![neighbour(), e.clone()], policy) {
                Ok(report) => {
                    let n = s.entries().unwrap();
                    assert!(
                        n.iter().any(|x| x.issuer == "Neighbour"),
                        "a refused account must not keep the rest of the batch out"
                    );
                    assert!(n.len() <= before + 2);
                    outcome_of(s, report, 1)
                }
                Err(e) => {
                    assert_eq!(
                        s.entries().unwrap().len(),
                        before,
                        "a failed add changes nothing"
                    );
                    failed(e)
                }
            })
        }),
        ("interop::add_to_vault", |s, e, policy| {
            (policy == InsertPolicy::IMPORT).then(|| {
                match interop::add_to_vault(s, vec![imported(e)]) {
                    Ok(report) => outcome_of(s, report, 0),
                    Err(e) => failed(e),
                }
            })
        }),
        ("PendingAccounts::add_to", |s, e, policy| {
            (policy == InsertPolicy::IMPORT).then(|| {
                let mut pending = PendingAccounts::new(vec![imported(&neighbour()), imported(e)]);
                match pending.add_to(s) {
                    Ok(report) => outcome_of(s, report, 1),
                    Err(e) => failed(e),
                }
            })
        }),
    ]
}

#[test]
fn every_add_path_gives_every_row_the_same_outcome() {
    let dir = TempDir::new().unwrap();
    let mut n = 0;
    for row in rows() {
        for (policy_name, policy, want) in [
            ("STRICT", InsertPolicy::STRICT, &row.strict),
            ("IMPORT", InsertPolicy::IMPORT, &row.import),
        ] {
            for (path, run) in paths() {
                n += 1;
                let s = fresh_vault(&dir, &format!("v{n}.twofold"));
                let groups_before = s.groups().unwrap().len();
                let Some(got) = run(&s, &row.entry, policy) else {
                    continue;
                };
                assert_eq!(
                    &got, want,
                    "{}: {path} under {policy_name} gave {got:?}, want {want:?}",
                    row.what
                );
                if !matches!(got, Outcome::Added { .. }) {
                    // A refused account creates no group (the neighbour names none).
                    assert_eq!(
                        s.groups().unwrap().len(),
                        groups_before,
                        "{}: {path}",
                        row.what
                    );
                }
            }
        }
    }
}

#[test]
fn a_full_vault_refuses_one_more_account_on_every_path() {
    let dir = TempDir::new().unwrap();
    let s = fresh_vault(&dir, "full.twofold");
    let filler: Vec<NewEntry> = (1..MAX_ENTRIES as u64)
        .map(|i| {
            NewEntry::new(
                OtpKind::DEFAULT_TOTP,
                Secret::from_bytes(i.to_be_bytes().repeat(3)).unwrap(),
                "Filler".into(),
                i.to_string(),
            )
        })
        .collect();
    let report = s.insert(filler, InsertPolicy::STRICT).unwrap();
    assert!(report.rejected.is_empty() && report.duplicates.is_empty());
    assert_eq!(s.entries().unwrap().len(), MAX_ENTRIES);
    let want = Outcome::Rejected(InputError::TooManyEntries { max: MAX_ENTRIES });
    let one_more = totp("Acme", "alice", "GEZDGNBVGY3TQOJQ");
    for (path, run) in paths() {
        if path == "insert in a batch" {
            continue; // its neighbour does not fit either
        }
        for policy in [InsertPolicy::STRICT, InsertPolicy::IMPORT] {
            if let Some(got) = run(&s, &one_more, policy) {
                assert_eq!(got, want, "{path}");
            }
        }
    }
    assert_eq!(s.entries().unwrap().len(), MAX_ENTRIES);
}
