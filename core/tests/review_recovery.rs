//! Adversarial review of the recovery features (issue 18) and the app-facing core types
//! (issue 15): the vault's `care` section, recovery codes on every path in and out, the
//! transfer's recovery-codes section, the printed kit's TK1 parts, automatic backups into a
//! folder the app implements, the auto-lock rule and the code list. Each test plays an
//! attacker (or an unlucky user) and asserts what the user relies on.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
mod sync_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use common::*;
use serde::Deserialize;
use twofold_core::Secret;
use twofold_core::autolock::{AutoLock, OnBackground, PICKER_GRACE_SECS};
use twofold_core::backup::folder::{BackupFolder, backup_to_folder};
use twofold_core::backup::{self, BackupCredential, BackupOptions};
use twofold_core::crypto::{KdfParams, SigningKey, SystemRandom};
use twofold_core::limits::{
    MAX_DRILLS, MAX_EXPOSURES, MAX_IMPORTANT_ISSUERS, MAX_RECOVERY_CODE_LEN, MAX_RECOVERY_CODES,
};
use twofold_core::otp::OtpKind;
use twofold_core::recovery_kit::{self, KitPartError, MAX_PARTS, PART_BYTES};
use twofold_core::sync::doc::{Clock, Doc};
use twofold_core::transfer::{
    Invite, Purpose, TransferEntry, TransferError, TransferPayload, TransferReceiver,
    TransferSender, payload,
};
use twofold_core::vault::care::{
    BackupCheck, CareState, CheckupSettings, DrillCredential, DrillRecord, Exposure, ExposureWay,
    HotpUse, MAX_DAYS, RecoveryCodesPolicy, VerifiedBackup,
};
use twofold_core::vault::checkup;
use twofold_core::vault::codes::CodeList;
use twofold_core::vault::container::{self, VAULT_MAGIC};
use twofold_core::vault::edit::RestoreMode;
use twofold_core::vault::model::{Entry, Id, Settings, VaultContent};
use twofold_core::vault::recovery_codes::{self as codes, RecoveryCode, RecoveryCodeError};
use twofold_core::vault::{
    InputError, NewEntry, RecoveryKey, SlotCredential, VaultEnv, VaultError, VaultSession, slots,
};

const T0: i64 = 1_760_000_000_000;
const NOW_S: u64 = 1_760_000_000;

fn texts(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn vault_in(dir: &Path) -> (VaultSession, RecoveryKey) {
    let (_, s, key) = clocked_vault_in(dir, T0);
    (s, key)
}

/// A vault in `dir` whose clock starts at `start_ms` and moves only when the test sets it.
fn clocked_vault_in(dir: &Path, start_ms: i64) -> (Arc<AtomicI64>, VaultSession, RecoveryKey) {
    let (t, clock) = manual_clock(start_ms);
    let (s, key) = create_in(
        &dir.join("vault.twofold"),
        VaultEnv {
            clock,
            ..VaultEnv::default()
        },
    );
    (t, s, key)
}

fn fast_backup() -> BackupOptions<'static> {
    BackupOptions {
        password: Some(b"backup password"),
        recovery: true,
        kdf: KdfParams::FLOOR,
    }
}

fn id(n: u32) -> Id {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&n.to_be_bytes());
    b[15] = 0x5a;
    Id(b)
}

fn code(text: &str, used: bool, used_at: Option<i64>) -> RecoveryCode {
    RecoveryCode {
        code: text.into(),
        used,
        used_at,
    }
}

// ---------------------------------------------------------------------------------------
// 1. The `care` section of the vault body.
// ---------------------------------------------------------------------------------------

/// Bytes as MessagePack bin (the body's seeds).
struct BinIn(Vec<u8>);

impl<'de> Deserialize<'de> for BinIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BinIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<BinIn, E> {
                Ok(BinIn(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(Deserialize)]
struct SignersOnly {
    signers: Vec<BinIn>,
}

/// Rewrites the vault file at `path` as its owner could (password in hand): the same
/// header, keys and content, with `care` put into a body that has none yet. What a newer or
/// buggy Twofold, or a tool of the user's, might write; the file is authentic.
fn plant_care(path: &Path, password: &[u8], care: &CareState) {
    let bytes = std::fs::read(path).unwrap();
    let parsed = container::parse(&bytes, VAULT_MAGIC).unwrap();
    let mk = slots::unlock(
        &parsed,
        &SlotCredential::Password(password),
        twofold_core::crypto::KdfLimit::DEFAULT,
    )
    .unwrap()
    .master_key;
    let body = container::open_body(&parsed, &mk).unwrap();
    // A body without `care` is a map of four fields (content, signers, slots, updated_at).
    assert_eq!(body[0], 0x84, "a fresh vault's body has no care section");
    let seeds: SignersOnly = rmp_serde::from_slice(&body).unwrap();
    let keys: Vec<SigningKey> = seeds
        .signers
        .iter()
        .map(|s| SigningKey::from_seed(&s.0.clone().try_into().unwrap()))
        .collect();
    let mut crafted = vec![0x85];
    crafted.extend_from_slice(&body[1..]);
    crafted.extend_from_slice(&[0xa4, b'c', b'a', b'r', b'e']);
    crafted.extend_from_slice(&rmp_serde::to_vec_named(care).unwrap());
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let file = container::seal_file(
        VAULT_MAGIC,
        &parsed.header,
        &mk,
        &crafted,
        &refs,
        &SystemRandom::new(),
    )
    .unwrap();
    std::fs::write(path, file).unwrap();
}

/// Everything out of range at once: far more records than the limits, the same record many
/// times, dates at both ends of time, counts and counters at their maximum, settings the
/// checks refuse.
fn hostile_care(real: &[Id]) -> CareState {
    let ways = [
        ExposureWay::OtpauthExport,
        ExposureWay::AegisPlainExport,
        ExposureWay::GoogleQrExport,
        ExposureWay::CxfExport,
        ExposureWay::UriShown,
        ExposureWay::QrShown,
    ];
    let mut exposures = Vec::new();
    for i in 0..(3 * MAX_EXPOSURES as u32) {
        let entry = if i % 3 == 0 {
            real[i as usize % real.len()]
        } else {
            id(i)
        };
        let at = match i % 4 {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => T0 - i64::from(i),
        };
        exposures.push(Exposure {
            entry,
            way: ways[i as usize % ways.len()],
            first_at: at,
            last_at: i64::MIN.wrapping_add(i64::from(i)),
            count: u32::MAX,
        });
    }
    let drills = (0..(40 * MAX_DRILLS as i64))
        .map(|i| DrillRecord {
            at: if i % 2 == 0 {
                i64::MIN + i
            } else {
                i64::MAX - i
            },
            credential: DrillCredential::RecoveryKey,
            file: "../../etc/passwd\u{7}".repeat(50),
            backup_made_at: i64::MIN,
            entries: u32::MAX,
            missing: u32::MAX,
            changed: u32::MAX,
            extra: u32::MAX,
        })
        .collect();
    CareState {
        backup: Some(VerifiedBackup {
            made_at: i64::MIN,
            verified_at: i64::MAX,
            how: BackupCheck::Drill,
            entries: u32::MAX,
        }),
        drills,
        recovery_key_confirmed_at: Some(i64::MIN),
        exposures,
        settings: CheckupSettings {
            backup_max_age_days: 0,
            drill_interval_days: u32::MAX,
            unused_days: 0,
            hotp_look_ahead: u32::MAX,
            recovery_codes: RecoveryCodesPolicy::All,
            important_issuers: (0..(20 * MAX_IMPORTANT_ISSUERS))
                .map(|i| format!("Issuer\u{1}{i}"))
                .collect(),
        },
        hotp_used: (0..50_000u32)
            .map(|i| HotpUse {
                entry: if i % 2 == 0 { real[0] } else { id(i) },
                counter: u64::MAX - u64::from(i),
            })
            .collect(),
    }
}

fn assert_care_within_limits(care: &CareState) {
    assert!(
        care.exposures.len() <= MAX_EXPOSURES,
        "{}",
        care.exposures.len()
    );
    let mut pairs: Vec<(Id, ExposureWay)> =
        care.exposures.iter().map(|x| (x.entry, x.way)).collect();
    pairs.sort();
    let n = pairs.len();
    pairs.dedup();
    assert_eq!(pairs.len(), n, "one ledger record per entry and way");
    assert!(care.drills.len() <= MAX_DRILLS, "{}", care.drills.len());
    assert!(care.settings.clone().checked().is_ok(), "{:?}", {
        let mut s = care.settings.clone();
        s.important_issuers.truncate(3);
        s
    });
    let mut hotp: Vec<Id> = care.hotp_used.iter().map(|h| h.entry).collect();
    hotp.sort();
    let n = hotp.len();
    hotp.dedup();
    assert_eq!(hotp.len(), n, "one HOTP use record per entry");
}

#[test]
fn a_crafted_care_section_opens_bounded_and_no_entry_is_lost_on_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let b = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=7"),
            false,
        )
        .unwrap();
    s.add_recovery_codes(a.id, &texts(&["abcd-1234"])).unwrap();
    let before = s.entries().unwrap();
    s.lock();
    plant_care(&path, PASSWORD, &hostile_care(&[a.id, b.id]));

    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(s.entries().unwrap(), before, "every entry opens as it was");
    // The care state is held to the documented limits as soon as it is read.
    assert_care_within_limits(&s.care().unwrap());
    // The checkup and the status screen run on it without a panic.
    let findings = checkup::run(&s).unwrap();
    assert!(findings.iter().any(|f| f.kind == "exposed"), "{findings:?}");
    s.care_status().unwrap();
    // A rotation of the HOTP account searches the look-ahead for the typed code: at most
    // the limit, not the four billion codes the file asks for.
    let new_hotp = OtpKind::Hotp {
        algorithm: twofold_core::Algorithm::Sha1,
        digits: 6,
        counter: 0,
    };
    assert_eq!(
        s.rotate_entry(
            b.id,
            new_hotp,
            Secret::from_base32("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").unwrap(),
            "not a code",
        )
        .unwrap_err(),
        VaultError::InvalidInput(InputError::RotationCodeMismatch)
    );
    assert_eq!(
        s.care().unwrap().settings.hotp_look_ahead,
        twofold_core::vault::care::MAX_HOTP_LOOK_AHEAD
    );
    // Recording into it and an ordinary change both save, and nothing else is lost.
    s.record_exposure(&[a.id], ExposureWay::UriShown).unwrap();
    let c = s
        .add_entry(totp("Shop", "carol", "JBSWY3DPEHPK3PXQ"), false)
        .unwrap();
    s.lock();
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    let after = s.entries().unwrap();
    assert_eq!(after.len(), 3);
    for e in &before {
        assert!(after.contains(e), "{} survived the save", e.issuer);
    }
    assert!(after.iter().any(|e| e.id == c.id));
    let care = s.care().unwrap();
    assert_care_within_limits(&care);
    let newest = care.exposures.iter().map(|x| x.last_at).max().unwrap();
    assert!(
        care.exposures
            .iter()
            .any(|x| x.entry == a.id && x.way == ExposureWay::UriShown && x.last_at == newest),
        "the new record is kept, the oldest go"
    );
}

#[test]
fn care_survives_edit_save_reopen_and_never_travels_in_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    s.record_exposure(&[a.id], ExposureWay::QrShown).unwrap();
    s.set_checkup_settings(CheckupSettings {
        unused_days: 40,
        important_issuers: vec!["GitHub".into()],
        ..Default::default()
    })
    .unwrap();
    let file = dir.path().join("b.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    let care = s.care().unwrap();
    assert!(care.backup.is_some());
    s.update_entry(
        a.id,
        twofold_core::vault::EntryUpdate {
            note: Some("edited".into()),
            ..Default::default()
        },
    )
    .unwrap();
    s.lock();
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(PASSWORD).unwrap();
    assert_eq!(s.care().unwrap(), care, "the edit kept the care state");

    // A backup restored into another vault brings accounts, never this device's ledger.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _) = vault_in(other_dir.path());
    backup::restore_backup(
        &other,
        &file,
        &BackupCredential::Password(b"backup password"),
        RestoreMode::Replace,
        true,
    )
    .unwrap();
    assert_eq!(other.entries().unwrap().len(), 1);
    let theirs = other.care().unwrap();
    assert!(theirs.exposures.is_empty() && theirs.settings == CheckupSettings::default());
}

// ---------------------------------------------------------------------------------------
// 2. Recovery codes: secrecy, used marks, one rule on every path in.
// ---------------------------------------------------------------------------------------

#[test]
fn recovery_codes_are_in_no_debug_display_or_error_text_and_not_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let secret_code = "zq7x-k9w2-r4m8";
    s.add_recovery_codes(a.id, &texts(&[secret_code])).unwrap();
    let needles = ["zq7x", "k9w2", "r4m8"];
    let check = |what: &str, text: String| {
        for n in needles {
            assert!(!text.contains(n), "{what} shows the code: {text}");
        }
    };
    check("Entry Debug", format!("{:?}", s.entry(a.id).unwrap()));
    check(
        "codes Debug",
        format!("{:?}", s.recovery_codes(a.id).unwrap()),
    );
    check("content Debug", format!("{:?}", s.snapshot().unwrap().0));
    // Errors about a code never repeat it (a typo of the code is nearly the code).
    let near = "zq7x-k9w2-r4m9";
    for r in [
        s.use_recovery_code(a.id, near),
        s.add_recovery_codes(a.id, &[format!("{near}\u{7}")])
            .map(|_| ()),
        s.add_recovery_codes(a.id, &[format!("{near}{}", "x".repeat(200))])
            .map(|_| ()),
    ] {
        let e = r.unwrap_err();
        check("error Display", e.to_string());
        check("error Debug", format!("{e:?}"));
    }
    // Not in the file, and not in the ledger part of the body.
    s.lock();
    let bytes = std::fs::read(dir.path().join("vault.twofold")).unwrap();
    for n in needles {
        assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()));
    }
}

#[test]
fn a_code_spelled_another_way_is_the_same_code_on_every_path() {
    // Typed twice in one list.
    let mut n = totp("GitHub", "alice", "JBSWY3DPEHPK3PXP");
    n.recovery_codes = vec![
        code("ABCD-EFGH", false, None),
        code("abcd efgh", true, Some(5)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s.add_entry(n, false).unwrap();
    let got = s.recovery_codes(a.id).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].used, "the one code is spent");

    // An older list holding both spellings: using one spends both.
    let mut list = vec![
        code("ABCD-EFGH", false, None),
        code("abcd efgh", false, None),
    ];
    codes::mark_used(&mut list, "abcdefgh", 9).unwrap();
    assert!(list.iter().all(|c| c.used), "{list:?}");

    // Joining two lists (a restore, an import into an existing account): one code, used,
    // whichever list comes first, with the same text either way.
    let mine = vec![code("ABCD-EFGH", false, None)];
    let theirs = vec![code("abcd efgh", true, Some(7))];
    let mut ab = mine.clone();
    codes::merge_into(&mut ab, &theirs);
    let mut ba = theirs.clone();
    codes::merge_into(&mut ba, &mine);
    assert_eq!(ab.len(), 1, "{ab:?}");
    assert!(ab[0].used && ab[0].used_at == Some(7));
    assert!(codes::same_set(&ab, &ba), "{ab:?} {ba:?}");

    // Sync: one device typed it one way, the other another way and used it.
    let e = Entry::new(
        id(1),
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        "GitHub".into(),
        "alice".into(),
        T0,
        0,
    );
    let empty = VaultContent::new();
    let mut base = VaultContent::new();
    base.entries.push(e.clone());
    let mut doc = Doc::default();
    let mut clock_a = Clock {
        last: 0,
        device: 1,
        now: T0,
    };
    let mut clock_b = Clock {
        device: 2,
        ..clock_a
    };
    doc.record_local(&empty, &base, &mut clock_a);
    let (mut doc_a, mut doc_b) = (doc.clone(), doc);
    let mut local_a = base.clone();
    local_a.entries[0].recovery_codes = vec![code("ABCD-EFGH", false, None)];
    let mut local_b = base.clone();
    local_b.entries[0].recovery_codes = vec![code("abcd efgh", true, Some(T0))];
    doc_a.record_local(&base, &local_a, &mut clock_a);
    doc_b.record_local(&base, &local_b, &mut clock_b);
    let mut ab = doc_a.clone();
    ab.merge(&doc_b);
    ab.normalize(T0);
    let mut ba = doc_b.clone();
    ba.merge(&doc_a);
    ba.normalize(T0);
    let settings = Settings::default();
    let (ca, cb) = (ab.materialize(&settings), ba.materialize(&settings));
    assert_eq!(ca, cb, "both devices see the same");
    let merged = &ca.entries[0].recovery_codes;
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(
        merged[0].used,
        "the spent code is not shown unused on either device"
    );
    ca.check_invariants().unwrap();
}

#[test]
fn a_used_mark_is_never_lost_by_a_restore_or_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    s.add_recovery_codes(a.id, &texts(&["1111-2222", "3333-4444"]))
        .unwrap();
    // A backup made before the code was used, restored (merged) after: still used.
    let file = dir.path().join("before.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    s.use_recovery_code(a.id, "1111-2222").unwrap();
    for mode in [RestoreMode::Merge, RestoreMode::Replace] {
        backup::restore_backup(
            &s,
            &file,
            &BackupCredential::Password(b"backup password"),
            mode,
            false,
        )
        .unwrap();
        let got = s.recovery_codes(a.id).unwrap();
        assert!(
            got.iter().any(|c| c.code == "1111-2222" && c.used),
            "{mode:?}: {got:?}"
        );
    }
    // An import bringing the code unused into the account: still used.
    let mut again = twofold_core::interop::ImportedEntry::new(
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        "GitHub".into(),
        "alice".into(),
    );
    again.recovery_codes = vec![code("1111-2222", false, None)];
    twofold_core::interop::add_to_vault(&s, vec![again]).unwrap();
    let got = s.recovery_codes(a.id).unwrap();
    assert!(
        got.iter().any(|c| c.code == "1111-2222" && c.used),
        "{got:?}"
    );
    assert_eq!(got.len(), 2);
    // A transfer from the old phone, where the other code was used since: the mark arrives
    // even though no code is new.
    let mut used_there = twofold_core::interop::ImportedEntry::new(
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        "GitHub".into(),
        "alice".into(),
    );
    used_there.recovery_codes = vec![code("3333-4444", true, Some(T0 - 5))];
    twofold_core::interop::add_to_vault(&s, vec![used_there]).unwrap();
    let got = s.recovery_codes(a.id).unwrap();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .any(|c| c.code == "3333-4444" && c.used && c.used_at == Some(T0 - 5)),
        "the used mark of an account already here is not dropped: {got:?}"
    );
}

#[test]
fn a_backup_restored_into_a_new_vault_brings_its_codes_to_an_account_already_there() {
    // The old phone's vault has the codes; the new phone's vault has the same account,
    // scanned again (another id). Merging the old backup must not drop the codes.
    let old_dir = tempfile::tempdir().unwrap();
    let (old, _) = vault_in(old_dir.path());
    let a = old
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    old.add_recovery_codes(a.id, &texts(&["5555-6666", "7777-8888"]))
        .unwrap();
    old.use_recovery_code(a.id, "7777-8888").unwrap();
    let file = old_dir.path().join("old.twfb");
    backup::create_backup(&old, &file, &fast_backup()).unwrap();

    let new_dir = tempfile::tempdir().unwrap();
    let (new, _) = vault_in(new_dir.path());
    let b = new
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    backup::restore_backup(
        &new,
        &file,
        &BackupCredential::Password(b"backup password"),
        RestoreMode::Merge,
        true,
    )
    .unwrap();
    assert_eq!(new.entries().unwrap().len(), 1, "the same account once");
    let got = new.recovery_codes(b.id).unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|c| c.code == "7777-8888" && c.used));
}

#[test]
fn hostile_code_lists_are_refused_on_every_path_in_with_bounded_work() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let generation = s.generation().unwrap();
    let too_many = Err(VaultError::InvalidInput(InputError::RecoveryCode(
        RecoveryCodeError::TooMany {
            max: MAX_RECOVERY_CODES,
        },
    )));
    // Typed or pasted: a million distinct codes, and a million copies of one.
    let million: Vec<String> = (0..1_000_000).map(|i| format!("c{i:07}")).collect();
    assert_eq!(s.add_recovery_codes(a.id, &million), too_many);
    let same: Vec<String> = vec!["dup-0001".to_owned(); 1_000_000];
    assert_eq!(
        s.add_recovery_codes(a.id, &same),
        Ok(1),
        "one code, however often"
    );
    // A megabyte code.
    let huge = "x".repeat(1 << 20);
    assert_eq!(
        s.add_recovery_codes(a.id, std::slice::from_ref(&huge)),
        Err(VaultError::InvalidInput(InputError::RecoveryCode(
            RecoveryCodeError::TooLong {
                max: MAX_RECOVERY_CODE_LEN
            }
        )))
    );
    assert_eq!(
        s.generation().unwrap(),
        generation + 1,
        "only the good add wrote"
    );

    // An import or transfer handing over an account with a million codes: that account is
    // refused (with the reason), the others go in.
    let mut hostile = totp("Shop", "carol", "JBSWY3DPEHPK3PXQ");
    hostile.recovery_codes = (0..1_000_000)
        .map(|i| code(&format!("c{i:07}"), false, None))
        .collect();
    let mut fine = totp("Mail", "dave", "JBSWY3DPEHPK3PXR");
    fine.recovery_codes = vec![code("ok-1234", false, None)];
    let mut long = totp("Bank", "erin", "JBSWY3DPEHPK3PXS");
    long.recovery_codes = vec![code(&huge, false, None)];
    let mut control = totp("Club", "frank", "JBSWY3DPEHPK3PXT");
    control.recovery_codes = vec![code("ab\ncd", false, None)];
    let report = s
        .insert(
            vec![hostile, fine, long, control],
            twofold_core::vault::InsertPolicy::IMPORT,
        )
        .unwrap();
    assert_eq!(report.added.len(), 1, "{report:?}");
    assert_eq!(report.rejected.len(), 3, "{report:?}");
    assert_eq!(s.entries().unwrap().len(), 2);

    // A restore or an accepted file: content with such lists is refused as input.
    let (mut content, _) = s.snapshot().unwrap();
    content.entries[0].recovery_codes = (0..=MAX_RECOVERY_CODES)
        .map(|i| code(&format!("r{i:04}"), false, None))
        .collect();
    assert!(content.check_as_input().is_err());
    content.entries[0].recovery_codes = vec![code(" padded ", false, None)];
    assert!(
        content.check_as_input().is_err(),
        "stored codes are trimmed"
    );

    // Sync: a document whose entry holds codes a vault cannot hold is refused.
    let mut doc = Doc::default();
    let mut clock = Clock {
        last: 0,
        device: 1,
        now: T0,
    };
    let mut base = VaultContent::new();
    base.entries.push(s.entry(a.id).unwrap());
    doc.record_local(&VaultContent::new(), &base, &mut clock);
    doc.check().unwrap();
    let e = doc.entries.values_mut().next().unwrap();
    e.recovery.insert(huge.clone(), (false, None));
    assert!(doc.check().is_err());
    let e = doc.entries.values_mut().next().unwrap();
    e.recovery.clear();
    for i in 0..100_000 {
        e.recovery.insert(format!("s{i:06}"), (false, None));
    }
    assert!(doc.check().is_err());
}

// ---------------------------------------------------------------------------------------
// 3. The transfer's optional recovery-codes section.
// ---------------------------------------------------------------------------------------

fn account(label: &str) -> TransferEntry {
    TransferEntry {
        kind: OtpKind::DEFAULT_TOTP,
        secret: Secret::from_bytes(format!("{label}-secret-bytes").into_bytes()).unwrap(),
        issuer: label.into(),
        account: "alice".into(),
        note: String::new(),
        favorite: false,
        groups: vec![],
        recovery_codes: Vec::new(),
    }
}

/// The plaintext of two accounts without codes, uncompressed, so a section can be appended.
fn two_accounts_plain() -> Vec<u8> {
    let p = TransferPayload {
        version: 2,
        created_at: T0,
        entries: vec![account("GitHub"), account("Bank")],
    };
    payload::encode_with(&p, false).to_vec()
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One code: flags, the text, no date.
fn code_bytes(out: &mut Vec<u8>, text: &[u8], used: bool) {
    out.push(u8::from(used));
    varint(out, text.len() as u64);
    out.extend_from_slice(text);
}

/// Seals `plain` as an accounts transfer for a fresh receiver and hands the blob over.
fn deliver_plain(plain: &[u8]) -> (TransferReceiver, Result<(), TransferError>) {
    let rng = SystemRandom::new();
    let mut receiver = TransferReceiver::new(NOW_S, 300, None, &rng).unwrap();
    let invite = Invite::parse(&receiver.invite().to_text(), NOW_S).unwrap();
    let sender = TransferSender::new_for(invite, Purpose::Accounts, &[], plain, 400, &rng).unwrap();
    let r = receiver.receive_blob(sender.blob(), NOW_S);
    (receiver, r)
}

#[test]
fn crafted_recovery_code_sections_in_an_authentic_sealing_are_refused_whole() {
    let base = two_accounts_plain();
    let with = |section: &[u8]| {
        let mut p = base.clone();
        p.extend_from_slice(section);
        p
    };
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // A million codes claimed for one account.
    let mut s = vec![1, 1, 0];
    varint(&mut s, 1_000_000);
    cases.push(("a million codes", with(&s)));
    // A megabyte code claimed.
    let mut s = vec![1, 1, 0, 1, 0];
    varint(&mut s, 1 << 20);
    cases.push(("a 1 MiB code", with(&s)));
    // A code present in full but over the length limit.
    let mut s = vec![1, 1, 0, 1];
    code_bytes(
        &mut s,
        "y".repeat(MAX_RECOVERY_CODE_LEN + 1).as_bytes(),
        false,
    );
    cases.push(("a 129-character code", with(&s)));
    // Codes for an account the transfer does not hold.
    let mut s = vec![1, 1, 2, 1];
    code_bytes(&mut s, b"abcd-1234", false);
    cases.push(("an account index past the accounts", with(&s)));
    let mut s = vec![1, 1];
    varint(&mut s, u64::MAX);
    cases.push(("an index of 2^64-1", with(&s)));
    // The same account twice.
    let mut s = vec![1, 2, 0, 1];
    code_bytes(&mut s, b"abcd-1234", false);
    s.extend_from_slice(&[0, 1]);
    code_bytes(&mut s, b"efgh-5678", false);
    cases.push(("one account's codes twice", with(&s)));
    // More accounts with codes than accounts.
    cases.push(("three lists for two accounts", with(&[1, 3])));
    // The section repeated, or an unknown section after it.
    let mut one = vec![1, 1, 0, 1];
    code_bytes(&mut one, b"abcd-1234", false);
    let mut twice = one.clone();
    twice.extend_from_slice(&one);
    cases.push(("the section twice", with(&twice)));
    let mut unknown = one.clone();
    unknown.extend_from_slice(&[2, 0]);
    cases.push(("an unknown section after it", with(&unknown)));
    cases.push(("an unknown section", with(&[9, 0])));
    // Undefined flag bits, control characters, an empty code.
    let mut s = vec![1, 1, 0, 1, 0b100, 4];
    s.extend_from_slice(b"abcd");
    cases.push(("undefined flags", with(&s)));
    let mut s = vec![1, 1, 0, 1];
    code_bytes(&mut s, b"ab\x1bcd", false);
    cases.push(("an escape character", with(&s)));
    let mut s = vec![1, 1, 0, 1];
    code_bytes(&mut s, b"   ", false);
    cases.push(("an empty code", with(&s)));
    let mut s = vec![1, 1, 0, 1];
    code_bytes(&mut s, &[0xff, 0xfe, b'a', b'b'], false);
    cases.push(("not UTF-8", with(&s)));

    for (what, plain) in cases {
        let (mut receiver, r) = deliver_plain(&plain);
        assert!(
            matches!(r, Err(TransferError::BadPayload(_))),
            "{what}: {r:?}"
        );
        assert!(receiver.preview().is_none(), "{what}: nothing to accept");
        // The refused sealing did not take the session: the honest sender still gets in.
        let rng = SystemRandom::new();
        let invite = Invite::parse(&receiver.invite().to_text(), NOW_S).unwrap();
        let honest = TransferSender::new(
            invite,
            &TransferPayload {
                version: 2,
                created_at: T0,
                entries: vec![account("Honest")],
            },
            400,
            &rng,
        )
        .unwrap();
        receiver.receive_blob(honest.blob(), NOW_S).unwrap();
        assert_eq!(receiver.accept().unwrap()[0].issuer, "Honest", "{what}");
    }

    // What a sender may do: omit the section, list the accounts in any order, give an
    // account an empty list.
    let (_, r) = deliver_plain(&base);
    r.unwrap();
    let mut s = vec![1, 2, 1, 1];
    code_bytes(&mut s, b"bank-0001", true);
    s.extend_from_slice(&[0, 1]);
    code_bytes(&mut s, b"git-0001", false);
    let (receiver, r) = deliver_plain(&with(&s));
    r.unwrap();
    let got = receiver.accept().unwrap();
    assert_eq!(got[0].recovery_codes[0].code, "git-0001");
    assert!(got[1].recovery_codes[0].used);
    let (receiver, r) = deliver_plain(&with(&[1, 1, 0, 0]));
    r.unwrap();
    assert!(receiver.accept().unwrap()[0].recovery_codes.is_empty());
}

#[test]
fn the_recovery_codes_section_is_authenticated_with_everything_else() {
    let rng = SystemRandom::new();
    let mut a = account("GitHub");
    a.recovery_codes = vec![
        code("abcd-1234", true, Some(T0)),
        code("efgh-5678", false, None),
    ];
    let p = TransferPayload {
        version: 2,
        created_at: T0,
        entries: vec![a],
    };
    let receiver = TransferReceiver::new(NOW_S, 300, None, &rng).unwrap();
    let invite = Invite::parse(&receiver.invite().to_text(), NOW_S).unwrap();
    let sender = TransferSender::new(invite, &p, 400, &rng).unwrap();
    let state = receiver.state_bytes();
    // Every single bit flip anywhere in the sealed blob is refused, and leaves the session
    // able to take the real one.
    let blob = sender.blob().to_vec();
    for i in 0..blob.len() {
        let mut r = TransferReceiver::from_state_bytes(&state).unwrap();
        let mut bad = blob.clone();
        bad[i] ^= 1 << (i % 8);
        assert!(
            matches!(r.receive_blob(&bad, NOW_S), Err(TransferError::Decryption)),
            "flip at {i}"
        );
        if i % 64 == 0 {
            r.receive_blob(&blob, NOW_S).unwrap();
        }
    }
    // Over frames, the codes arrive as sent.
    let mut r = TransferReceiver::from_state_bytes(&state).unwrap();
    let mut n = 0;
    while !r.progress().complete {
        r.receive_frame(&sender.frame(n), NOW_S).unwrap();
        n += 1;
        assert!(n < 100);
    }
    let got = r.accept().unwrap();
    assert_eq!(got[0].recovery_codes, p.entries[0].recovery_codes);
}

// ---------------------------------------------------------------------------------------
// 4. The printed kit's TK1 parts.
// ---------------------------------------------------------------------------------------

fn field(part: &str, i: usize) -> String {
    part.splitn(5, ':').nth(i).unwrap().to_owned()
}

fn with_fields(index: &str, count: &str, check: &str, data: &str) -> String {
    format!("TK1:{index}:{count}:{check}:{data}")
}

#[test]
fn kit_parts_mixed_repeated_missing_forged_or_altered_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_in(dir.path());
    for i in 0..30 {
        s.add_entry(
            totp(&format!("Service {i}"), "alice", "JBSWY3DPEHPK3PXP"),
            true,
        )
        .unwrap();
    }
    let (content, _) = s.snapshot().unwrap();
    let bytes = backup::seal_to_recovery_key(&s, &content, &key).unwrap();
    let parts = recovery_kit::account_parts(&bytes).unwrap();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let n = parts.len();

    // Any order, any repeats: the backup, which opens with the recovery key only.
    let mut shuffled: Vec<String> = parts.iter().rev().cloned().collect();
    shuffled.extend(parts.iter().cloned());
    assert_eq!(recovery_kit::join_account_parts(&shuffled).unwrap(), bytes);
    let opened = backup::open_backup(&bytes, &SlotCredential::Recovery(&key)).unwrap();
    assert_eq!(opened.content.live_entries().len(), 30);
    // Another key is a wrong credential, not a damaged file; a password finds no slot.
    let other = RecoveryKey::generate(&SystemRandom::new()).unwrap();
    assert!(matches!(
        backup::open_backup(&bytes, &SlotCredential::Recovery(&other)),
        Err(VaultError::WrongCredential)
    ));
    let r = backup::open_backup(&bytes, &SlotCredential::Password(PASSWORD));
    assert!(
        matches!(r, Err(VaultError::NoSuchSlot | VaultError::WrongCredential)),
        "{r:?}"
    );

    // Zero parts, missing parts.
    assert_eq!(
        recovery_kit::join_account_parts(&[]),
        Err(KitPartError::Missing { missing: vec![1] })
    );
    assert_eq!(
        recovery_kit::join_account_parts(&parts[1..]),
        Err(KitPartError::Missing { missing: vec![1] })
    );
    assert_eq!(
        recovery_kit::join_account_parts(&[parts[0].clone()]),
        Err(KitPartError::Missing {
            missing: (2..=n).collect()
        })
    );
    // Parts of two kits of the same vault, made a moment apart.
    s.add_entry(totp("Late", "alice", "JBSWY3DPEHPK3PXP"), true)
        .unwrap();
    let (later, _) = s.snapshot().unwrap();
    let other_kit =
        recovery_kit::account_parts(&backup::seal_to_recovery_key(&s, &later, &key).unwrap())
            .unwrap();
    let mut mixed = parts.clone();
    mixed[1] = other_kit[1].clone();
    assert_eq!(
        recovery_kit::join_account_parts(&mixed),
        Err(KitPartError::Mixed)
    );
    // A forged header: another count, another check, an index past the count, zero.
    let p1 = &parts[1];
    let (i, c, k, d) = (field(p1, 1), field(p1, 2), field(p1, 3), field(p1, 4));
    let forged_count = with_fields(&i, &(n + 1).to_string(), &k, &d);
    let mut v = parts.clone();
    v[1] = forged_count;
    assert_eq!(
        recovery_kit::join_account_parts(&v),
        Err(KitPartError::Mixed)
    );
    let mut v = parts.clone();
    v[1] = with_fields(&i, &c, "0BADC0DE", &d);
    assert_eq!(
        recovery_kit::join_account_parts(&v),
        Err(KitPartError::Mixed)
    );
    for (index, count) in [
        ((n + 1).to_string(), c.clone()),
        ("0".into(), c.clone()),
        ("1".into(), "0".into()),
        ("1".into(), (MAX_PARTS + 1).to_string()),
        ("99999999999999999999999".into(), c.clone()),
        ("-1".into(), c.clone()),
    ] {
        let bad = with_fields(&index, &count, &k, &d);
        assert_eq!(
            recovery_kit::join_account_parts(&[parts[0].clone(), bad.clone()]),
            Err(KitPartError::NotAPart),
            "{bad:.40}"
        );
    }
    // An altered payload: a valid Base45 text of other bytes.
    let mut raw = base45::decode(&d).unwrap();
    raw[7] ^= 0x40;
    let mut v = parts.clone();
    v[1] = with_fields(&i, &c, &k, &base45::encode(&raw));
    assert_eq!(
        recovery_kit::join_account_parts(&v),
        Err(KitPartError::Checksum)
    );
    // The same part read twice, once wrong: refused rather than guessed.
    let mut v = parts.clone();
    v.push(with_fields(&i, &c, &k, &base45::encode(&raw)));
    assert_eq!(
        recovery_kit::join_account_parts(&v),
        Err(KitPartError::Checksum)
    );
    // Damage no Base45 decoder accepts, and oversized parts, are not parts.
    for bad in [
        with_fields(&i, &c, &k, "~~~~"),
        with_fields(&i, &c, &k, &"A".repeat(1 << 20)),
        with_fields(&i, &c, &k, &base45::encode(vec![0u8; PART_BYTES + 1])),
    ] {
        assert_eq!(
            recovery_kit::join_account_parts(&[bad]),
            Err(KitPartError::NotAPart)
        );
    }
}

#[test]
fn a_kit_of_the_most_parts_joins_and_a_flood_of_scans_is_bounded() {
    // The largest kit: twelve full parts.
    let backup_bytes: Vec<u8> = (0..(PART_BYTES * MAX_PARTS) as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let parts = recovery_kit::account_parts(&backup_bytes).unwrap();
    assert_eq!(parts.len(), MAX_PARTS);
    assert!(parts[0].starts_with(&format!("TK1:1:{MAX_PARTS}:")));
    // A camera that reports every part a hundred thousand times over.
    let flood: Vec<String> = (0..100_000).map(|i| parts[i % MAX_PARTS].clone()).collect();
    assert_eq!(
        recovery_kit::join_account_parts(&flood).unwrap(),
        backup_bytes
    );
    // One byte more does not fit on paper.
    assert!(matches!(
        recovery_kit::account_parts(&vec![0u8; PART_BYTES * MAX_PARTS + 1]),
        Err(VaultError::InvalidInput(InputError::KitTooLarge { .. }))
    ));
}

// ---------------------------------------------------------------------------------------
// 5. A `BackupFolder` that lies.
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct LyingFolder {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    /// Names listed besides the real files (which may not exist, or reach outside).
    extra_names: Mutex<Vec<String>>,
    /// Reads of any name give the bytes of this file instead.
    read_other: Mutex<Option<String>>,
    /// Reads fail with an I/O error.
    fail_reads: Mutex<bool>,
    /// Writes store the first half, then fail.
    fail_writes_midway: Mutex<bool>,
    /// Every name the core asked to delete or write.
    deleted: Mutex<Vec<String>>,
    written: Mutex<Vec<String>>,
}

fn io(what: &str) -> VaultError {
    VaultError::Io {
        kind: "backup folder".into(),
        message: what.into(),
    }
}

impl BackupFolder for LyingFolder {
    fn list(&self) -> Result<Vec<String>, VaultError> {
        let mut v: Vec<String> = self.files.lock().unwrap().keys().cloned().collect();
        v.extend(self.extra_names.lock().unwrap().iter().cloned());
        Ok(v)
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        if *self.fail_reads.lock().unwrap() {
            return Err(io("the provider dropped the connection"));
        }
        let files = self.files.lock().unwrap();
        match self.read_other.lock().unwrap().as_ref() {
            Some(other) => Ok(files.get(other).cloned()),
            None => Ok(files.get(name).cloned()),
        }
    }
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.written.lock().unwrap().push(name.into());
        if *self.fail_writes_midway.lock().unwrap() {
            self.files
                .lock()
                .unwrap()
                .insert(name.into(), bytes[..bytes.len() / 2].to_vec());
            return Err(io("no space left on the provider"));
        }
        self.files
            .lock()
            .unwrap()
            .insert(name.into(), bytes.to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.deleted.lock().unwrap().push(name.into());
        self.files.lock().unwrap().remove(name);
        Ok(())
    }
}

fn confirmed_backups(f: &LyingFolder, key: &RecoveryKey) -> Vec<String> {
    f.files
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, b)| backup::open_backup(b, &SlotCredential::Recovery(key)).is_ok())
        .map(|(n, _)| n.clone())
        .collect()
}

#[test]
fn a_lying_folder_never_costs_the_good_backup_and_leaves_no_unconfirmed_file() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_in(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let f = LyingFolder::default();
    let good = backup_to_folder(&s, &f, 1, T0).unwrap().name;
    assert_eq!(confirmed_backups(&f, &key), vec![good.clone()]);

    let mut t = T0;
    let mut attempt = |f: &LyingFolder| {
        t += 1000;
        backup_to_folder(&s, f, 1, t)
    };
    // Reads give another file's bytes (the good backup's): not a confirmation.
    *f.read_other.lock().unwrap() = Some(good.clone());
    let r = attempt(&f);
    assert!(matches!(r, Err(VaultError::Corrupt(_))), "{r:?}");
    *f.read_other.lock().unwrap() = None;
    // Reads fail midway: typed, and the unconfirmed file does not stay behind.
    *f.fail_reads.lock().unwrap() = true;
    let r = attempt(&f);
    assert!(matches!(r, Err(VaultError::Io { .. })), "{r:?}");
    *f.fail_reads.lock().unwrap() = false;
    // Writes fail midway, leaving half a file: typed, and the half file goes.
    *f.fail_writes_midway.lock().unwrap() = true;
    let r = attempt(&f);
    assert!(matches!(r, Err(VaultError::Io { .. })), "{r:?}");
    *f.fail_writes_midway.lock().unwrap() = false;
    assert_eq!(
        f.files.lock().unwrap().keys().cloned().collect::<Vec<_>>(),
        vec![good.clone()],
        "only the good backup is in the folder"
    );
    assert!(
        !f.deleted.lock().unwrap().contains(&good),
        "the good backup was never deleted"
    );

    // A listing of names that reach outside the folder, or that it cannot read.
    *f.extra_names.lock().unwrap() = texts(&[
        "../twofold-20000101-000000.twfb",
        "..\\twofold-20000101-000001.twfb",
        "sub/twofold-20000101-000002.twfb",
        "/etc/twofold-20000101-000003.twfb",
        "twofold-20000101-000004.twfb/..",
        "twofold-20000101-000005.twfb\0",
        "twofold-20000101-000006.twfb",
    ]);
    let report = attempt(&f).unwrap();
    for name in f
        .deleted
        .lock()
        .unwrap()
        .iter()
        .chain(f.written.lock().unwrap().iter())
    {
        assert!(
            !name.contains('/') && !name.contains('\\') && !name.contains('\0') && name != "..",
            "the core named {name:?}"
        );
    }
    assert_eq!(confirmed_backups(&f, &key), vec![report.name.clone()]);
}

#[test]
fn a_huge_listing_costs_linear_work_and_the_new_name_is_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_in(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let f = LyingFolder::default();
    let base = backup::auto_backup_name(T0);
    // Every name this second could take, up to 200 000, is listed (a hostile provider).
    let mut names = vec![base.clone()];
    names.extend((2..200_000).map(|n| base.replace(".twfb", &format!("-{n}.twfb"))));
    *f.extra_names.lock().unwrap() = names.clone();
    let report = backup_to_folder(&s, &f, 3, T0).unwrap();
    assert!(!names.contains(&report.name), "{}", report.name);
    assert_eq!(confirmed_backups(&f, &key), vec![report.name]);
}

#[test]
fn a_folder_backup_counts_as_the_newest_verified_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let kinds = |s: &VaultSession| -> Vec<&'static str> {
        checkup::run(s).unwrap().iter().map(|f| f.kind).collect()
    };
    assert!(kinds(&s).contains(&"backup-none"));
    let f = LyingFolder::default();
    backup_to_folder(&s, &f, 2, T0).unwrap();
    let care = s.care().unwrap();
    let b = care.backup.expect("recorded");
    assert_eq!((b.how, b.entries), (BackupCheck::Created, 1));
    assert!(!kinds(&s).contains(&"backup-none"), "{:?}", kinds(&s));
    assert!(!kinds(&s).contains(&"backup-stale"), "{:?}", kinds(&s));
}

// ---------------------------------------------------------------------------------------
// 6. The auto-lock rule and the code list.
// ---------------------------------------------------------------------------------------

#[test]
fn clocks_that_jump_by_days_or_to_the_ends_of_time_lock_and_never_panic() {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    for (away, back) in [
        (0, 3 * DAY_MS),
        (3 * DAY_MS, 0),
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MIN),
        (-1, i64::MAX),
        (i64::MIN, 0),
    ] {
        let mut a = AutoLock::new(60);
        assert_eq!(a.backgrounded(away), OnBackground::LockAfter(60_000));
        assert!(a.foregrounded(back), "{away} → {back}");
    }
    // Delays at the ends of their range.
    let mut a = AutoLock::new(i64::MAX);
    assert!(matches!(a.backgrounded(0), OnBackground::LockAfter(_)));
    assert!(a.foregrounded(-1), "a clock going back still locks");
    let mut a = AutoLock::new(i64::MIN);
    assert_eq!(a.backgrounded(0), OnBackground::Stay);
}

#[test]
fn a_picker_whose_close_never_came_keeps_no_grace_once_the_vault_locked() {
    // A sheet that pauses auto-lock is torn down without its "closed" (the view went away
    // while presented): the next time the vault locks, the pause ends.
    let mut a = AutoLock::new(0);
    a.picker_opened();
    a.picker_opened();
    a.picker_closed();
    let grace = PICKER_GRACE_SECS as u64 * 1000;
    assert_eq!(a.backgrounded(0), OnBackground::LockAfter(grace));
    assert!(a.foregrounded(grace as i64), "locked after the grace");
    a.locked();
    assert_eq!(
        a.backgrounded(grace as i64 + 1),
        OnBackground::LockNow,
        "the user's delay again"
    );
    // Told twice that the app left, without a return between: the delay is not restarted.
    let mut a = AutoLock::new(60);
    assert_eq!(a.backgrounded(0), OnBackground::LockAfter(60_000));
    assert_eq!(a.backgrounded(50_000), OnBackground::LockAfter(10_000));
    assert!(a.foregrounded(60_000), "locked 60 s after it first left");
    a.locked();
    a.backgrounded(0);
    assert_eq!(a.backgrounded(70_000), OnBackground::LockNow);
    // Many unmatched opens do not overflow, and closes never go below zero.
    let mut a = AutoLock::new(30);
    for _ in 0..100_000 {
        a.picker_opened();
    }
    for _ in 0..200_000 {
        a.picker_closed();
    }
    assert_eq!(a.backgrounded(0), OnBackground::LockAfter(30_000));
}

mod autolock_property {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Open,
        Close,
        Delay(i64),
        Background,
        Timer,
        Foreground,
        Lock,
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Open),
            Just(Op::Close),
            (-1i64..1200).prop_map(Op::Delay),
            Just(Op::Background),
            Just(Op::Timer),
            Just(Op::Foreground),
            Just(Op::Lock),
            (0i64..2_000_000).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// Whatever the sequence: with a delay that locks (≥ 0), the vault never stays
        /// unlocked in the background past the longer of that delay and the picker grace
        /// — counted from when the app left, and checked when it returns.
        #[test]
        fn never_unlocked_in_the_background_past_the_longest_wait(
            start_delay in 0i64..1200,
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let mut a = AutoLock::new(start_delay);
            let mut delay = start_delay;
            let mut now = 1_000i64;
            let mut left: Option<(i64, i64)> = None; // (when, the delay then)
            for op in ops {
                match op {
                    Op::Open => a.picker_opened(),
                    Op::Close => a.picker_closed(),
                    Op::Delay(d) => { a.set_delay(d); delay = d; }
                    Op::Background => {
                        let action = a.backgrounded(now);
                        left = match action {
                            OnBackground::LockNow => { a.locked(); None }
                            OnBackground::Stay => {
                                prop_assert!(delay < 0, "stays only when the user chose never");
                                None
                            }
                            OnBackground::LockAfter(ms) => {
                                prop_assert!(delay >= 0);
                                let bound = delay.max(PICKER_GRACE_SECS) * 1000;
                                prop_assert!(ms as i64 <= bound, "{ms} > {bound}");
                                // Told twice: the time it first left stands, and the
                                // bound holds from then.
                                Some(match left {
                                    Some((since, _)) => {
                                        let total = ms as i64 + (now - since);
                                        prop_assert!(total <= bound, "{total} > {bound} since the app left");
                                        (since, total)
                                    }
                                    None => (now, ms as i64),
                                })
                            }
                        };
                    }
                    Op::Timer => {
                        if a.timer_fired() { a.locked(); left = None; }
                    }
                    Op::Foreground => {
                        let lock = a.foregrounded(now);
                        if let Some((since, ms)) = left.take() {
                            prop_assert_eq!(lock, now - since >= ms, "at {} after {}", now, since);
                        }
                        if lock { a.locked(); }
                    }
                    Op::Lock => { a.locked(); left = None; }
                    Op::Wait(ms) => now += ms,
                }
            }
        }
    }
}

#[test]
fn the_code_list_follows_deletes_and_adds_and_never_advances_hotp_by_listing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let h = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=7"),
            false,
        )
        .unwrap();
    let counter = |s: &VaultSession| match s.entry(h.id).unwrap().kind {
        OtpKind::Hotp { counter, .. } => counter,
        _ => unreachable!(),
    };
    let mut list = CodeList::new();
    list.set_tap_to_reveal(true);
    list.reveal(a.id);
    let generation = s.generation().unwrap();
    for i in 0..200 {
        let rows = list.rows(&s, T0 + i * 777).unwrap();
        assert_eq!(rows.rows.len(), 2);
        let hotp = rows.rows.iter().find(|r| r.entry_id == h.id).unwrap();
        assert!(hotp.code.is_none() && hotp.next_code.is_none());
    }
    // Copying an HOTP row that shows no code gives nothing and advances nothing.
    assert_eq!(list.copy(&s, h.id, T0).unwrap(), None);
    assert_eq!(counter(&s), 7);
    assert_eq!(s.generation().unwrap(), generation, "listing wrote nothing");
    // The next code: saved first, shown for its time, copied without another advance.
    let c = list.next_hotp(&s, h.id, T0).unwrap();
    assert_eq!(counter(&s), 8);
    assert_eq!(list.copy(&s, h.id, T0 + 1).unwrap(), Some(c.clone()));
    assert_eq!(counter(&s), 8);

    // Deleted between refreshes: gone from the rows, its actions typed errors or nothing.
    s.delete_entry(h.id).unwrap();
    let rows = list.rows(&s, T0 + 2).unwrap();
    assert_eq!(rows.rows.len(), 1);
    assert_eq!(rows.total, 1);
    assert_eq!(list.copy(&s, h.id, T0 + 3).unwrap(), None);
    assert!(matches!(
        list.next_hotp(&s, h.id, T0 + 4),
        Err(VaultError::NoSuchEntry(_))
    ));
    assert_eq!(counter(&s), 8, "a trashed entry is never advanced");
    // Added between refreshes: there, and hidden like every row not revealed.
    let b = s
        .add_entry(totp("Shop", "carol", "JBSWY3DPEHPK3PXQ"), false)
        .unwrap();
    let rows = list.rows(&s, T0 + 5).unwrap();
    let row = rows.rows.iter().find(|r| r.entry_id == b.id).unwrap();
    assert!(row.hidden && row.code.is_none());
    // Purged while its HOTP code was on screen, then restored: the code is gone.
    s.restore_entry(h.id).unwrap();
    let rows = list.rows(&s, T0 + HOTP_GONE).unwrap();
    let hotp = rows.rows.iter().find(|r| r.entry_id == h.id).unwrap();
    assert!(hotp.code.is_none(), "the code expired while trashed");
}

const HOTP_GONE: i64 = twofold_core::vault::codes::HOTP_VISIBLE_MS + 10;

#[test]
fn the_code_list_at_extreme_times_and_offsets_gives_rows_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let mut n = NewEntry::new(
        OtpKind::Totp {
            algorithm: twofold_core::Algorithm::Sha512,
            digits: 10,
            period: 3600,
        },
        Secret::from_base32("JBSWY3DPEHPK3PXQ").unwrap(),
        "Long".into(),
        "period".into(),
    );
    n.favorite = true;
    s.add_entry(n, false).unwrap();
    s.add_entry(
        entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=7"),
        false,
    )
    .unwrap();
    let max = twofold_core::vault::model::MAX_CLOCK_OFFSET_S;
    for offset in [-max, -1, 0, 1, max] {
        s.set_clock_offset(offset).unwrap();
        let mut list = CodeList::new();
        for now in [i64::MIN, i64::MIN + 1, -1, 0, 1, T0, i64::MAX - 1, i64::MAX] {
            let rows = list.rows(&s, now).unwrap();
            assert_eq!(rows.rows.len(), 3);
            assert!(rows.refresh_in_ms >= 1 && rows.refresh_in_ms <= 1000);
            for r in &rows.rows {
                assert!(r.remaining_ms <= u64::from(r.period) * 1000, "{r:?}");
            }
            assert!(rows.rows[0].favorite, "favourites first");
        }
    }
    assert!(matches!(
        s.set_clock_offset(max + 1),
        Err(VaultError::InvalidInput(InputError::ClockOffsetTooLarge))
    ));
}

#[test]
fn checkup_settings_at_their_limits_and_beyond_are_checked() {
    // Hostile settings from an app: refused with a typed error, nothing recorded.
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let generation = s.generation().unwrap();
    for bad in [
        CheckupSettings {
            backup_max_age_days: MAX_DAYS + 1,
            ..Default::default()
        },
        CheckupSettings {
            hotp_look_ahead: 0,
            ..Default::default()
        },
        CheckupSettings {
            important_issuers: vec!["x".into(); MAX_IMPORTANT_ISSUERS + 1],
            ..Default::default()
        },
        CheckupSettings {
            important_issuers: vec!["bad\u{0}name".into()],
            ..Default::default()
        },
        CheckupSettings {
            important_issuers: vec!["y".repeat(1 << 20)],
            ..Default::default()
        },
    ] {
        assert!(matches!(
            s.set_checkup_settings(bad),
            Err(VaultError::InvalidInput(_))
        ));
    }
    assert_eq!(s.generation().unwrap(), generation);
    s.set_checkup_settings(CheckupSettings {
        backup_max_age_days: MAX_DAYS,
        drill_interval_days: MAX_DAYS,
        unused_days: 1,
        hotp_look_ahead: 1000,
        recovery_codes: RecoveryCodesPolicy::Off,
        important_issuers: vec!["x".into(); MAX_IMPORTANT_ISSUERS],
    })
    .unwrap();
    assert_eq!(s.care().unwrap().settings.important_issuers, vec!["x"]);
}

#[test]
fn care_survives_a_password_change_and_a_recovery_key_rotation() {
    // Both rewrite the file under a new master key (revocation): the care state goes along.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    s.record_exposure(&[a.id], ExposureWay::OtpauthExport)
        .unwrap();
    s.set_checkup_settings(CheckupSettings {
        drill_interval_days: 7,
        ..Default::default()
    })
    .unwrap();
    let care = s.care().unwrap();
    s.change_password(b"a new password", KdfParams::FLOOR)
        .unwrap();
    s.rotate_recovery_key().unwrap();
    assert_eq!(s.care().unwrap(), care);
    s.lock();
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(b"a new password").unwrap();
    assert_eq!(s.care().unwrap(), care);
}

#[test]
fn a_hostile_note_in_an_import_yields_at_most_the_limit_and_nothing_else_breaks() {
    // A Bitwarden export whose note holds a block of 200 000 "codes" (about 2 MB).
    let mut note = String::from("Backup codes:\n");
    for i in 0..200_000 {
        note.push_str(&format!("{i:08}\n"));
    }
    let json = serde_json::json!({
        "encrypted": false,
        "folders": [],
        "items": [
            {"type": 1, "name": "Shop", "notes": note,
             "login": {"username": "carol",
                       "totp": "otpauth://totp/Shop:carol?secret=JBSWY3DPEHPK3PXQ&issuer=Shop"}},
            {"type": 1, "name": "Mail", "notes": "Recovery codes: mail-0001, mail-0002",
             "login": {"username": "dave",
                       "totp": "otpauth://totp/Mail:dave?secret=JBSWY3DPEHPK3PXR&issuer=Mail"}}
        ]
    });
    let bytes = serde_json::to_vec(&json).unwrap();
    let report = twofold_core::interop::import(
        &bytes,
        Some(twofold_core::interop::Format::BitwardenJson),
        None,
    )
    .unwrap();
    assert_eq!(report.entries.len(), 2);
    let shop = &report.entries[0];
    assert!(shop.recovery_codes.len() <= MAX_RECOVERY_CODES);
    assert_eq!(report.entries[1].recovery_codes.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let r = twofold_core::interop::add_to_vault(&s, report.entries).unwrap();
    // The account with the over-long rest of the note is refused with its reason; the other
    // goes in with its codes.
    assert_eq!(r.added.len(), 1, "{r:?}");
    assert!(
        matches!(
            r.rejected.as_slice(),
            [twofold_core::vault::edit::Rejected {
                index: 0,
                reason: InputError::NameTooLong { .. },
                ..
            }]
        ),
        "{r:?}"
    );
    let mail = s
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| e.issuer == "Mail")
        .unwrap();
    assert_eq!(s.recovery_codes(mail.id).unwrap().len(), 2);
}

/// A backup planted in the backup folder by someone who never held a credential: the
/// genuine backup's header (its slots' public keys are public), every slot wrapping the
/// planter's own master key, endorsements stripped, signed by the planter, claiming to be
/// made far in the future, holding nothing.
fn planted_backup(genuine: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut header = cut(genuine).header;
    let mk = twofold_core::crypto::random_key(&rng).unwrap();
    let planter = SigningKey::generate(&rng).unwrap();
    let vault_id = header.vault_id;
    for slot in &mut header.slots {
        container::wrap_master_key(container::BACKUP_MAGIC, &vault_id, slot, &mk, &rng).unwrap();
        slot.endorsement = None;
    }
    header.succession = None;
    header.signers = vec![planter.public()];
    #[derive(serde::Serialize)]
    struct Body<'a> {
        content: &'a VaultContent,
        created_at: i64,
    }
    let body = rmp_serde::to_vec_named(&Body {
        content: &VaultContent::new(),
        created_at: T0 + 100 * 365 * 24 * 3600 * 1000,
    })
    .unwrap();
    container::seal_file(
        container::BACKUP_MAGIC,
        &header,
        &mk,
        &body,
        &[&planter],
        &rng,
    )
    .unwrap()
}

#[test]
fn a_drill_of_a_backup_that_cannot_be_shown_to_be_ours_proves_nothing_about_backups() {
    let dir = tempfile::tempdir().unwrap();
    let (t, s, key) = clocked_vault_in(dir.path(), T0);
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let genuine = dir.path().join("twofold-20251009-000000.twfb");
    backup::create_backup(&s, &genuine, &fast_backup()).unwrap();
    let real = s.care().unwrap().backup.unwrap();
    let kinds = |s: &VaultSession| -> Vec<&'static str> {
        checkup::run(s).unwrap().iter().map(|f| f.kind).collect()
    };
    // A planted "backup from the future" opens with the recovery key and the password (a
    // slot is only a public key) but is not authenticated; a drill on it must not become
    // the newest verified backup, or the checkup would never again say that accounts
    // changed since the last backup.
    let planted = dir.path().join("twofold-20991231-235959.twfb");
    std::fs::write(&planted, planted_backup(&std::fs::read(&genuine).unwrap())).unwrap();
    let care = s.care().unwrap();
    for credential in [
        BackupCredential::RecoveryKey(&key),
        BackupCredential::Password(b"backup password"),
    ] {
        let r = backup::drill(&s, &planted, &credential).unwrap();
        assert!(!r.authenticated);
        assert_eq!(r.record.entries, 0, "the report says what the file holds");
        assert_eq!(s.care().unwrap(), care, "nothing recorded");
        assert_eq!(
            s.care().unwrap().backup.unwrap(),
            real,
            "not a verified backup"
        );
    }
    let k = kinds(&s);
    assert!(
        k.contains(&"drill-none"),
        "a planted file is no drill: {k:?}"
    );
    assert!(k.contains(&"recovery-key-unconfirmed"), "{k:?}");
    // The genuine backup drills as before.
    let r = backup::drill(&s, &genuine, &BackupCredential::RecoveryKey(&key)).unwrap();
    assert!(r.authenticated);
    let k = kinds(&s);
    assert!(
        !k.contains(&"drill-none") && !k.contains(&"recovery-key-unconfirmed"),
        "{k:?}"
    );
    t.fetch_add(60_000, std::sync::atomic::Ordering::SeqCst);
    s.update_entry(
        a.id,
        twofold_core::vault::EntryUpdate {
            note: Some("changed after the backup".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(kinds(&s).contains(&"backup-stale"), "{:?}", kinds(&s));

    // An old backup drilled with a recovery key that was rotated since: the drill opened it,
    // but the key the user holds opens nothing new, so it is not "confirmed".
    let s2_dir = tempfile::tempdir().unwrap();
    let (s2, old_key) = vault_in(s2_dir.path());
    s2.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let old = s2_dir.path().join("old.twfb");
    backup::create_backup(&s2, &old, &fast_backup()).unwrap();
    let new_key = s2.rotate_recovery_key().unwrap();
    let r = backup::drill(&s2, &old, &BackupCredential::RecoveryKey(&old_key)).unwrap();
    assert_eq!(r.record.credential, DrillCredential::RecoveryKey);
    // (It still authenticates: the vault keeps its older signing keys in the header.)
    assert!(r.authenticated);
    assert_eq!(
        s2.care().unwrap().drills.len(),
        1,
        "the drill itself counts"
    );
    assert_eq!(
        s2.care().unwrap().recovery_key_confirmed_at,
        None,
        "a revoked recovery key is not the vault's"
    );
    assert!(kinds(&s2).contains(&"recovery-key-unconfirmed"));
    // A current backup does not open with the old key; with the new one the drill counts.
    let new = s2_dir.path().join("new.twfb");
    backup::create_backup(&s2, &new, &fast_backup()).unwrap();
    assert!(matches!(
        backup::drill(&s2, &new, &BackupCredential::RecoveryKey(&old_key)),
        Err(VaultError::WrongCredential)
    ));
    backup::drill(&s2, &new, &BackupCredential::RecoveryKey(&new_key)).unwrap();
    assert!(!kinds(&s2).contains(&"recovery-key-unconfirmed"));
}

// ---------------------------------------------------------------------------------------
// Freed memory: what the recovery-code rules copy is wiped before it is freed.
// ---------------------------------------------------------------------------------------

/// The allocator of this test binary: passes everything to the system allocator, and on the
/// thread that asks for it, looks into every block before it is freed (or moved by a
/// realloc) for a marker, counting the blocks that still hold it.
mod freed {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Watching;

    thread_local! {
        static NEEDLE: Cell<Option<&'static [u8]>> = const { Cell::new(None) };
        static FOUND: Cell<usize> = const { Cell::new(0) };
    }

    fn needle() -> Option<&'static [u8]> {
        NEEDLE.try_with(Cell::get).ok().flatten()
    }

    /// # Safety
    /// `p` points to `len` readable bytes.
    unsafe fn look(p: *const u8, len: usize) {
        if let Some(n) = needle() {
            // SAFETY: the caller's block, still allocated.
            let block = unsafe { std::slice::from_raw_parts(p, len) };
            if block.windows(n.len()).any(|w| w == n) {
                let _ = FOUND.try_with(|f| f.set(f.get() + 1));
            }
        }
    }

    // SAFETY: every call is forwarded to `System` with the same arguments; blocks are only
    // read, while still allocated.
    unsafe impl GlobalAlloc for Watching {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
            unsafe {
                look(p, layout.size());
                System.dealloc(p, layout)
            }
        }
        unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if needle().is_none() {
                return unsafe { System.realloc(p, layout, new_size) };
            }
            // Watching: always move, so the old block is looked at like any freed one.
            unsafe {
                let new = System.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
                    look(p, layout.size());
                    System.dealloc(p, layout);
                }
                new
            }
        }
    }

    /// How many freed blocks held `marker` while `f` ran on this thread.
    pub fn blocks_left_holding(marker: &'static [u8], f: impl FnOnce()) -> usize {
        FOUND.with(|c| c.set(0));
        NEEDLE.with(|c| c.set(Some(marker)));
        f();
        NEEDLE.with(|c| c.set(None));
        FOUND.with(Cell::get)
    }
}

#[global_allocator]
static WATCHING: freed::Watching = freed::Watching;

#[test]
fn recovery_code_copies_are_wiped_before_they_are_freed() {
    const MARK: &[u8] = b"Qz7Kx9Wm2";
    let texts = |v: &[&str]| -> zeroize::Zeroizing<Vec<String>> {
        zeroize::Zeroizing::new(v.iter().map(|s| s.to_string()).collect())
    };
    // Adding, checking, comparing, spending and joining codes.
    let n = freed::blocks_left_holding(MARK, || {
        let mut list = Vec::new();
        let typed = texts(&["  Qz7Kx9Wm2-1  ", "qz7kx9wm2 1", "Qz7Kx9Wm2-2"]);
        codes::add_to(&mut list, &typed).unwrap();
        codes::check_list(&list).unwrap();
        assert!(codes::same_code("Qz7Kx9Wm2-1", "qz7kx9wm2 1"));
        codes::mark_used(&mut list, "qz7kx9wm2-2", 5).unwrap();
        let mut other = vec![code(
            "Qz7Kx9Wm2-1xxxxxxxxxxxxxxxxxxxxxxxxxxx",
            true,
            Some(1),
        )];
        other.push(code("Qz7Kx9Wm2 1", true, Some(3)));
        codes::merge_into(&mut other, &list);
        codes::keep_used_marks(&mut list, &other);
        drop((list, other, typed));
    });
    assert_eq!(n, 0, "freed blocks still held a recovery code");
    // Reading a transfer payload that carries one.
    let mut a = account("GitHub");
    a.recovery_codes = vec![code("Qz7Kx9Wm2-3", false, None)];
    let plain = payload::encode_with(
        &TransferPayload {
            version: 2,
            created_at: T0,
            entries: vec![a],
        },
        false,
    );
    let n = freed::blocks_left_holding(MARK, || {
        let p = payload::decode(&plain).unwrap();
        assert_eq!(p.entries[0].recovery_codes.len(), 1);
        drop(p);
    });
    assert_eq!(n, 0, "decoding a payload left a copy of its recovery code");
    drop(plain);
}

#[test]
fn a_drill_records_a_plain_file_name_whatever_the_provider_calls_the_file() {
    // A document provider's display name is chosen by whoever owns the folder.
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_in(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let file = dir.path().join("b.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let hostile = format!(
        "../../shared/\u{1b}[2J\u{1b}]0;owned\u{7}b\nackup.twfb{}",
        "x".repeat(5000)
    );
    let r =
        backup::drill_bytes(&s, &bytes, &hostile, &BackupCredential::RecoveryKey(&key)).unwrap();
    let name = &r.record.file;
    assert!(name.starts_with("[2J]0;ownedbackup.twfb"), "{name:?}");
    assert!(!name.chars().any(char::is_control) && !name.contains('/'));
    assert!(name.chars().count() <= twofold_core::limits::MAX_NAME_LEN);
    assert_eq!(s.care().unwrap().last_drill().unwrap().file, *name);
}

#[test]
fn recording_an_export_of_a_whole_large_vault_is_linear_and_bounded() {
    // An export of every account of a vault at its limit records them all at once.
    let ids: Vec<Id> = (0..twofold_core::limits::MAX_ENTRIES as u32)
        .map(id)
        .collect();
    let mut care = CareState::default();
    care.record_exposure(&ids, ExposureWay::OtpauthExport, T0);
    assert_eq!(care.exposures.len(), MAX_EXPOSURES);
    // Again, and in another way: one record per entry and way, counts go up.
    care.record_exposure(&ids, ExposureWay::OtpauthExport, T0 + 1);
    care.record_exposure(&ids[..10], ExposureWay::QrShown, T0 + 2);
    assert_eq!(care.exposures.len(), MAX_EXPOSURES);
    assert!(care.exposures.iter().all(|x| x.last_at > T0));
    assert!(
        care.exposures
            .iter()
            .filter(|x| x.way == ExposureWay::OtpauthExport)
            .all(|x| x.count == 2 && x.first_at == T0),
        "the records exported twice are the ones kept"
    );
    assert_eq!(
        care.exposures
            .iter()
            .filter(|x| x.way == ExposureWay::QrShown)
            .count(),
        10
    );
    assert_care_within_limits(&care);
}

#[test]
fn a_transfer_into_a_vault_that_has_the_account_keeps_its_codes_and_used_marks() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = vault_in(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let mine: Vec<String> = (0..60).map(|i| format!("mine-{i:03}")).collect();
    s.add_recovery_codes(a.id, &mine).unwrap();
    s.use_recovery_code(a.id, "mine-000").unwrap();
    let incoming = |codes: Vec<RecoveryCode>| {
        let mut e = account("GitHub");
        e.secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        e.recovery_codes = codes;
        let p = TransferPayload {
            version: 2,
            created_at: T0,
            entries: vec![e],
        };
        // Through the real encoding and the receiver's decoder.
        let (receiver, r) = deliver_plain(&payload::encode(&p));
        r.unwrap();
        receiver.accept().unwrap()
    };
    // The same codes, unused, and two new ones: joined, the used mark kept.
    let mut sent: Vec<RecoveryCode> = (0..60)
        .map(|i| code(&format!("MINE {i:03}"), false, None))
        .collect();
    sent.push(code("new-001", false, None));
    sent.push(code("new-002", false, None));
    let report = twofold_core::interop::add_to_vault(&s, incoming(sent)).unwrap();
    assert_eq!(report.duplicates.len(), 1);
    let got = s.recovery_codes(a.id).unwrap();
    assert_eq!(got.len(), 62, "one code per code, two new");
    assert!(
        got.iter()
            .any(|c| codes::same_code(&c.code, "mine-000") && c.used)
    );
    // More than fit: the vault keeps what it has, unchanged.
    let before = s.recovery_codes(a.id).unwrap();
    let many: Vec<RecoveryCode> = (0..10)
        .map(|i| code(&format!("extra-{i}"), false, None))
        .collect();
    twofold_core::interop::add_to_vault(&s, incoming(many)).unwrap();
    assert_eq!(s.recovery_codes(a.id).unwrap(), before);
}

#[test]
fn a_backup_made_while_the_clock_was_ahead_does_not_hide_later_changes() {
    const YEAR: i64 = 365 * 24 * 3600 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let (t, s, _) = clocked_vault_in(dir.path(), T0 + 10 * YEAR);
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    backup::create_backup(&s, &dir.path().join("ahead.twfb"), &fast_backup()).unwrap();
    // The clock is put right; a new backup is made, then an account changes.
    t.store(T0, std::sync::atomic::Ordering::SeqCst);
    backup::create_backup(&s, &dir.path().join("now.twfb"), &fast_backup()).unwrap();
    assert_eq!(s.care().unwrap().backup.unwrap().made_at, T0);
    t.store(T0 + 60_000, std::sync::atomic::Ordering::SeqCst);
    s.update_entry(
        a.id,
        twofold_core::vault::EntryUpdate {
            account: Some("alice@example.com".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let kinds: Vec<&str> = checkup::run(&s).unwrap().iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&"backup-stale"), "{kinds:?}");
    // An older backup drilled later still does not replace a newer one.
    let r = backup::drill(
        &s,
        &dir.path().join("ahead.twfb"),
        &BackupCredential::Password(b"backup password"),
    )
    .unwrap();
    assert!(r.authenticated);
    assert_eq!(
        s.care().unwrap().backup.unwrap().made_at,
        T0,
        "a backup dated after now cannot be dated: it is not the newest"
    );
    assert_eq!(s.care().unwrap().drills.len(), 1, "the drill itself counts");
}

#[test]
fn a_drill_or_backup_dated_ahead_leaves_the_checkup_asking_again() {
    const YEAR: i64 = 365 * 24 * 3600 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let (t, s, _) = clocked_vault_in(dir.path(), T0 + 10 * YEAR);
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    let file = dir.path().join("ahead.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    backup::drill(&s, &file, &BackupCredential::Password(b"backup password")).unwrap();
    let kinds = |s: &VaultSession| -> Vec<&'static str> {
        checkup::run(s).unwrap().iter().map(|f| f.kind).collect()
    };
    assert!(!kinds(&s).contains(&"drill-old"));
    // The clock is put right: both are dated ten years ahead, and the checkup says so.
    t.store(T0, std::sync::atomic::Ordering::SeqCst);
    let k = kinds(&s);
    assert!(
        k.contains(&"drill-old") && k.contains(&"backup-old"),
        "{k:?}"
    );
    assert!(s.care_status().unwrap().drill_due);
    // A new backup and drill put it right.
    let now = dir.path().join("now.twfb");
    backup::create_backup(&s, &now, &fast_backup()).unwrap();
    backup::drill(&s, &now, &BackupCredential::Password(b"backup password")).unwrap();
    let k = kinds(&s);
    assert!(
        !k.contains(&"drill-old") && !k.contains(&"backup-old"),
        "{k:?}"
    );
    assert!(!s.care_status().unwrap().drill_due);
    assert_eq!(s.care().unwrap().last_drill().unwrap().at, T0);
}

#[test]
fn pruning_a_listing_for_an_app_never_names_anything_outside_the_folder() {
    // The free function the apps use when they write backups themselves.
    let names = texts(&[
        "../twofold-20000101-000000.twfb",
        "sub/twofold-20000101-000001.twfb",
        "..\\twofold-20000101-000002.twfb",
        "twofold-20000101-000003.twfb",
        "twofold-20000101-000004.twfb",
        "notes.txt",
    ]);
    let gone = twofold_core::backup::folder::auto_backup_names_to_delete(
        &names,
        1,
        "twofold-20000101-000004.twfb",
    );
    assert_eq!(gone, vec!["twofold-20000101-000003.twfb".to_owned()]);
}

/// Open weakness, recorded rather than fixed (the fix belongs in how sync relates a rotated
/// entry to the one it replaced, which no field records today): a recovery code spent on one
/// device while another device rotated the account. The mark lands on the old entry, now in
/// the trash; the new entry, which took the codes at rotation, still offers the spent code.
#[test]
#[ignore = "open weakness: a used mark made on the old entry is not carried to the entry a concurrent rotation made (threat-model 19b)"]
fn a_code_spent_while_another_device_rotated_the_account_stays_spent() {
    let storage = twofold_core::sync::MemoryStorage::new();
    let devices = sync_support::group(&["phone", "laptop"], &storage);
    let (phone, laptop) = (&devices[0], &devices[1]);
    let e = phone.add("GitHub", b"0123456789abcdef0123");
    phone
        .session
        .add_recovery_codes(e.id, &texts(&["1111-2222", "3333-4444"]))
        .unwrap();
    phone.sync(&storage);
    laptop.sync(&storage);
    // On the laptop the user spends a recovery code; on the phone, before it hears of it,
    // the user re-enrols 2FA at the service and rotates.
    laptop.session.use_recovery_code(e.id, "1111-2222").unwrap();
    let secret = Secret::from_bytes(b"a new secret from the service".to_vec()).unwrap();
    let kind = OtpKind::DEFAULT_TOTP;
    let at = twofold_core::otp::effective_unix_ms(phone.now(), 0);
    let now_code = twofold_core::otp::code_for(&kind, &secret, at)
        .code
        .unwrap();
    let rotated = phone
        .session
        .rotate_entry(e.id, kind, secret, &now_code)
        .unwrap();
    for d in [phone, laptop, phone, laptop] {
        d.sync(&storage);
    }
    for d in [phone, laptop] {
        let codes = d.session.recovery_codes(rotated.new_entry.id).unwrap();
        assert!(
            codes.iter().any(|c| c.code == "1111-2222" && c.used),
            "{}: the spent code is offered again on the rotated account",
            d.name
        );
    }
}
