//! Never locked out, in the core: recovery codes per account (stored, checked, carried by
//! backups, transfers and imports), restore drills, the checkup, the exposure ledger (never a
//! secret in it), rotation — and vaults from before all this open and upgrade.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::*;
use twofold_core::Secret;
use twofold_core::backup::{self, BackupCredential, BackupOptions, RestoreMode};
use twofold_core::crypto::{KdfLimit, KdfParams};
use twofold_core::interop::{self, Format, ImportedEntry, export};
use twofold_core::otp::{self, OtpKind};
use twofold_core::transfer::{TransferPayload, payload};
use twofold_core::vault::care::{CareState, CheckupSettings, DrillCredential, ExposureWay};
use twofold_core::vault::checkup::{self, Severity};
use twofold_core::vault::container::{self, VAULT_MAGIC};
use twofold_core::vault::recovery_codes::{RecoveryCode, RecoveryCodeError};
use twofold_core::vault::storage::prev_path;
use twofold_core::vault::{
    InputError, RecoveryKey, SlotCredential, VaultEnv, VaultError, VaultSession, slots,
};

const T0: i64 = 1_760_000_000_000;
const DAY: i64 = 24 * 3600 * 1000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v2-pre-care")
        .join(name)
}

fn texts(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A vault at a clock the test moves.
fn vault_at(dir: &Path) -> (VaultSession, RecoveryKey, Arc<std::sync::atomic::AtomicI64>) {
    let (t, clock) = manual_clock(T0);
    let env = VaultEnv {
        clock,
        ..VaultEnv::default()
    };
    let (s, key) = create_in(&dir.join("vault.twofold"), env);
    (s, key, t)
}

fn fast_backup() -> BackupOptions<'static> {
    BackupOptions {
        password: Some(b"backup password"),
        recovery: true,
        kdf: KdfParams::FLOOR,
    }
}

/// The decrypted body of the vault file, as a user with the password could read it.
fn body_of(path: &Path, password: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let parsed = container::parse(&bytes, VAULT_MAGIC).unwrap();
    let mk = slots::unlock(
        &parsed,
        &SlotCredential::Password(password),
        KdfLimit::DEFAULT,
    )
    .unwrap()
    .master_key;
    container::open_body(&parsed, &mk).unwrap()
}

#[derive(serde::Deserialize)]
struct CareOnly {
    #[serde(default)]
    care: Option<CareState>,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_vault_from_before_recovery_codes_opens_and_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    std::fs::copy(fixture("vault.twofold"), &path).unwrap();
    std::fs::copy(fixture("vault.twofold.prev"), prev_path(&path)).unwrap();
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(b"pre-care fixture password")
        .unwrap();
    let entries = s.entries().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.recovery_codes.is_empty()));
    let github = entries.iter().find(|e| e.issuer == "GitHub").unwrap();
    // A note stays a note: only imports read codes out of notes.
    assert!(github.note.starts_with("Recovery codes:"));
    assert!(github.favorite);
    assert_eq!(s.clock_offset().unwrap(), -20);
    assert_eq!(s.care().unwrap(), CareState::default());
    // The checkup runs on it (no verified backup is recorded yet: the old code kept none).
    let kinds: Vec<&str> = checkup::run(&s).unwrap().iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&"backup-none"), "{kinds:?}");
    assert!(kinds.contains(&"clock-offset"), "{kinds:?}");

    // The first change writes the new fields; everything else is as it was.
    s.add_recovery_codes(github.id, &texts(&["1234-5678", "8765-4321"]))
        .unwrap();
    s.set_checkup_settings(CheckupSettings {
        unused_days: 30,
        ..Default::default()
    })
    .unwrap();
    s.lock();
    let s = VaultSession::open(&path).unwrap();
    s.unlock_with_password(b"pre-care fixture password")
        .unwrap();
    let again = s.entry(github.id).unwrap();
    assert_eq!(again.recovery_codes.len(), 2);
    assert_eq!(again.secret, github.secret);
    assert_eq!(again.note, github.note);
    assert_eq!(s.care().unwrap().settings.unused_days, 30);
    let bank = s
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| e.issuer == "Bank")
        .unwrap();
    assert!(matches!(bank.kind, OtpKind::Hotp { counter: 5, .. }));

    // The old backup opens, drills and restores into the upgraded vault.
    let r = backup::drill(
        &s,
        &fixture("backup.twfb"),
        &BackupCredential::Password(b"pre-care backup password"),
    )
    .unwrap();
    assert_eq!(r.record.backup_made_at, 1_750_000_000_000);
    assert_eq!(r.record.entries, 2);
    // The vault's GitHub now has codes the old backup lacks: changed since.
    assert_eq!(r.record.changed, 1);
    let key = RecoveryKey::parse("ZXF5-2ZMY-5OZZ-MPYI-FPJE-XDDD-X4F5").unwrap();
    backup::drill(
        &s,
        &fixture("backup.twfb"),
        &BackupCredential::RecoveryKey(&key),
    )
    .unwrap();
    let report = backup::restore_backup(
        &s,
        &fixture("backup.twfb"),
        &BackupCredential::Password(b"pre-care backup password"),
        RestoreMode::Merge,
        false,
    )
    .unwrap();
    assert_eq!(report.added, 0);
    // A merge never loses the codes the vault has.
    assert_eq!(s.entry(github.id).unwrap().recovery_codes.len(), 2);
}

#[test]
fn recovery_codes_are_checked_and_a_refused_change_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, _) = vault_at(dir.path());
    let e = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    assert_eq!(
        s.add_recovery_codes(e.id, &texts(&["abcd-1234", "efgh 5678"])),
        Ok(2)
    );
    let generation = s.generation().unwrap();
    let file = std::fs::read(dir.path().join("vault.twofold")).unwrap();
    let bad = |r: Result<usize, VaultError>, want: RecoveryCodeError| {
        assert_eq!(
            r,
            Err(VaultError::InvalidInput(InputError::RecoveryCode(want)))
        );
    };
    bad(
        s.add_recovery_codes(e.id, &texts(&["fine-1234", ""])),
        RecoveryCodeError::Empty,
    );
    bad(
        s.add_recovery_codes(e.id, &texts(&["tab\there"])),
        RecoveryCodeError::ControlCharacter,
    );
    bad(
        s.add_recovery_codes(e.id, &["y".repeat(129)]),
        RecoveryCodeError::TooLong { max: 128 },
    );
    let many: Vec<String> = (0..63).map(|i| format!("c-{i:03}")).collect();
    bad(
        s.add_recovery_codes(e.id, &many),
        RecoveryCodeError::TooMany { max: 64 },
    );
    assert_eq!(
        s.use_recovery_code(e.id, "nope-0000"),
        Err(VaultError::InvalidInput(InputError::RecoveryCode(
            RecoveryCodeError::Unknown
        )))
    );
    let stranger = twofold_core::vault::Id::from_random([7; 16]);
    assert!(matches!(
        s.add_recovery_codes(stranger, &texts(&["abcd"])),
        Err(VaultError::NoSuchEntry(_))
    ));
    assert!(matches!(
        s.recovery_codes(stranger),
        Err(VaultError::NoSuchEntry(_))
    ));
    assert_eq!(s.generation().unwrap(), generation);
    assert_eq!(
        std::fs::read(dir.path().join("vault.twofold")).unwrap(),
        file
    );

    s.use_recovery_code(e.id, "ABCD1234").unwrap();
    let codes = s.recovery_codes(e.id).unwrap();
    assert_eq!(codes[0].code, "efgh 5678");
    assert!(codes[1].used && codes[1].used_at == Some(T0));
    // Never in Debug.
    let debug = format!("{:?}", s.entry(e.id).unwrap());
    assert!(
        !debug.contains("abcd") && !debug.contains("5678"),
        "{debug}"
    );
}

#[test]
fn recovery_codes_travel_in_backups_transfers_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, _) = vault_at(dir.path());
    let e = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXP"), false)
        .unwrap();
    s.add_recovery_codes(e.id, &texts(&["abcd-1234", "efgh-5678"]))
        .unwrap();
    s.use_recovery_code(e.id, "efgh-5678").unwrap();

    // Backups.
    let file = dir.path().join("b.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    let opened = backup::open_backup(
        &std::fs::read(&file).unwrap(),
        &SlotCredential::Password(b"backup password"),
    )
    .unwrap();
    let codes = &opened.content.entries[0].recovery_codes;
    assert_eq!(codes.len(), 2);
    assert!(codes.iter().any(|c| c.code == "efgh-5678" && c.used));

    // OTPX/2 payloads: codes and used flags survive; a payload without codes is byte for
    // byte what the earlier encoding wrote (no trailing section).
    let mut with = ImportedEntry::new(
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        "GitHub".into(),
        "alice".into(),
    );
    let plain = TransferPayload {
        version: 2,
        created_at: T0,
        entries: vec![with.clone()],
    };
    let old_style = payload::encode_with(&plain, false);
    with.recovery_codes = s.recovery_codes(e.id).unwrap();
    let full = TransferPayload {
        entries: vec![with.clone()],
        ..plain.clone()
    };
    let bytes = payload::encode_with(&full, false);
    assert!(
        bytes.starts_with(&old_style),
        "the section is only appended"
    );
    let back = payload::decode(&bytes).unwrap();
    assert_eq!(back.entries[0].recovery_codes, with.recovery_codes);
    assert_eq!(
        payload::decode(&old_style).unwrap().entries[0].recovery_codes,
        vec![]
    );
    // Crafted sections: refused with a typed error, never a panic.
    let mut crafted = bytes.to_vec();
    crafted.push(0);
    assert!(payload::decode(&crafted).is_err());
    let mut crafted = old_style.to_vec();
    crafted.extend_from_slice(&[1, 1, 5, 1, 0, 4, b'a', b'b', b'c', b'd']);
    assert!(
        payload::decode(&crafted).is_err(),
        "an index past the accounts"
    );
    let mut crafted = old_style.to_vec();
    crafted.extend_from_slice(&[1, 1, 0, 1, 0, 2, b'a', 7]);
    assert!(payload::decode(&crafted).is_err(), "a control character");
    for cut in 1..(bytes.len() - old_style.len()) {
        assert!(payload::decode(&bytes[..bytes.len() - cut]).is_err());
    }

    // What a sender puts in a transfer, and what the receiving vault keeps.
    let sent = TransferPayload::from_entries(&[&s.entry(e.id).unwrap()], &[], T0);
    let received = payload::decode(&payload::encode(&sent)).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _, _) = vault_at(other_dir.path());
    let report = interop::add_to_vault(&other, received.entries).unwrap();
    let got = other.recovery_codes(report.added[0]).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().any(|c| c.code == "efgh-5678" && c.used));

    // Imports: a clear block in a 2FAS note, an Ente codeDisplay note, a Bitwarden note.
    let twofas = r#"{"services":[{"name":"GitHub","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"alice","issuer":"GitHub","digits":6,"period":30,"algorithm":"SHA1","tokenType":"TOTP"},"badge":"Backup codes: 1111-2222, 3333-4444"}],"groups":[],"schemaVersion":4}"#;
    let r = interop::import(twofas.as_bytes(), Some(Format::TwoFas), None).unwrap();
    let codes: Vec<&str> = r.entries[0]
        .recovery_codes
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, ["1111-2222", "3333-4444"]);
    assert_eq!(r.entries[0].note, "");
    let note = "Personal\nRecovery codes:\nq1w2-e3r4\nt5y6-u7i8";
    let display = format!("{{\"note\":{}}}", serde_json::to_string(note).unwrap());
    let encoded: String = display
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let ente = format!(
        "otpauth://totp/Ente:bob?secret=JBSWY3DPEHPK3PXP&issuer=Ente&codeDisplay={encoded}\n"
    );
    let r = interop::import(ente.as_bytes(), Some(Format::OtpauthList), None).unwrap();
    assert_eq!(r.entries[0].recovery_codes.len(), 2);
    assert_eq!(r.entries[0].note, "Personal");
    let bitwarden = r#"{"encrypted":false,"folders":[],"items":[{"type":1,"name":"Shop","notes":"recovery codes:\nabcd-efgh-1234\nijkl-mnop-5678\nthe rest of the note","login":{"username":"carol","totp":"otpauth://totp/Shop:carol?secret=JBSWY3DPEHPK3PXQ&issuer=Shop"}}]}"#;
    let r = interop::import(bitwarden.as_bytes(), Some(Format::BitwardenJson), None).unwrap();
    assert_eq!(r.entries[0].recovery_codes.len(), 2);
    assert_eq!(r.entries[0].note, "the rest of the note");
    // Prose about codes is not a block: the note stays whole.
    let prose = r#"{"encrypted":false,"folders":[],"items":[{"type":1,"name":"Shop","notes":"Recovery codes are in the safe","login":{"username":"carol","totp":"otpauth://totp/Shop:carol?secret=JBSWY3DPEHPK3PXQ&issuer=Shop"}}]}"#;
    let r = interop::import(prose.as_bytes(), Some(Format::BitwardenJson), None).unwrap();
    assert!(r.entries[0].recovery_codes.is_empty());
    assert_eq!(r.entries[0].note, "Recovery codes are in the safe");
    // Into the vault: an account it has already gains the codes it brings.
    let mut again = r.entries[0].clone();
    again.secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    again.issuer = "GitHub".into();
    again.recovery_codes = vec![RecoveryCode::new("new-9999").unwrap()];
    let report = interop::add_to_vault(&s, vec![again]).unwrap();
    assert_eq!(report.duplicates.len(), 1);
    assert_eq!(s.recovery_codes(e.id).unwrap().len(), 3);

    // Exports to other apps' formats name the accounts whose codes they leave out.
    assert_eq!(
        export::recovery_codes_left_out(&s).unwrap(),
        vec!["GitHub (alice)".to_owned()]
    );
}

#[test]
fn the_ledger_records_every_copyable_exit_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, t) = vault_at(dir.path());
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXPJBSWY3DP"), false)
        .unwrap();
    let b = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBV&counter=3"),
            false,
        )
        .unwrap();
    assert!(s.care().unwrap().exposures.is_empty());
    export::aegis(&s, Some(b"file password")).unwrap();
    assert!(
        s.care().unwrap().exposures.is_empty(),
        "an encrypted export leaks nothing"
    );
    export::otpauth_list(&s).unwrap();
    export::aegis(&s, None).unwrap();
    let (_, skipped) = export::cxf(&s, T0).unwrap();
    assert_eq!(skipped.len(), 1, "CXF has no HOTP");
    export::google_migration(&s).unwrap();
    t.fetch_add(DAY, Ordering::SeqCst);
    let uri = s.reveal_uri(a.id, ExposureWay::UriShown).unwrap();
    assert!(uri.contains("secret="));
    s.reveal_uri(a.id, ExposureWay::UriShown).unwrap();
    s.record_exposure(&[b.id], ExposureWay::QrShown).unwrap();
    let care = s.care().unwrap();
    let of = |id, way| {
        care.exposures
            .iter()
            .find(|x| x.entry == id && x.way == way)
    };
    for way in [
        ExposureWay::OtpauthExport,
        ExposureWay::AegisPlainExport,
        ExposureWay::GoogleQrExport,
    ] {
        assert!(
            of(a.id, way).is_some() && of(b.id, way).is_some(),
            "{way:?}"
        );
    }
    assert!(of(a.id, ExposureWay::CxfExport).is_some());
    assert!(
        of(b.id, ExposureWay::CxfExport).is_none(),
        "left out of CXF, not exposed"
    );
    let shown = of(a.id, ExposureWay::UriShown).unwrap();
    assert_eq!((shown.count, shown.first_at), (2, T0 + DAY));
    assert!(of(b.id, ExposureWay::QrShown).is_some());
    // An unknown entry is refused and nothing is recorded.
    let stranger = twofold_core::vault::Id::from_random([9; 16]);
    assert!(matches!(
        s.reveal_uri(stranger, ExposureWay::UriShown),
        Err(VaultError::NoSuchEntry(_))
    ));
    assert_eq!(s.care().unwrap(), care);

    // The attack: read the decrypted body with the password and look for either secret, in
    // bytes or in base32, inside what the ledger stored.
    s.lock();
    let body = body_of(&dir.path().join("vault.twofold"), PASSWORD);
    let stored: CareOnly = rmp_serde::from_slice(&body).unwrap();
    let stored = stored.care.expect("the care state is in the body");
    assert_eq!(stored.exposures.len(), care.exposures.len());
    let ledger = rmp_serde::to_vec_named(&stored).unwrap();
    for e in [&a, &b] {
        assert!(
            !contains(&ledger, e.secret.expose()),
            "secret bytes in the ledger"
        );
        assert!(!contains(&ledger, e.secret.to_base32().as_bytes()));
        assert!(
            contains(&ledger, &e.id.0),
            "the ledger names the entry by id"
        );
    }
    // The backup carries no ledger at all (each device records its own exits).
    s.unlock_with_password(PASSWORD).unwrap();
    let file = dir.path().join("b.twfb");
    backup::create_backup(&s, &file, &fast_backup()).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let parsed = container::parse(&bytes, twofold_core::vault::container::BACKUP_MAGIC).unwrap();
    let mk = slots::unlock(
        &parsed,
        &SlotCredential::Password(b"backup password"),
        KdfLimit::DEFAULT,
    )
    .unwrap()
    .master_key;
    let plain = container::open_body(&parsed, &mk).unwrap();
    assert!(!contains(&plain, b"exposures"));

    // Exposed and not rotated: the checkup says so, for each account.
    let exposed: Vec<_> = checkup::run(&s)
        .unwrap()
        .into_iter()
        .filter(|f| f.kind == "exposed")
        .collect();
    assert_eq!(exposed.len(), 2);
    assert!(exposed.iter().all(|f| f.severity == Severity::Critical));
}

#[test]
fn rotation_needs_a_code_of_the_new_secret_and_clears_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, t) = vault_at(dir.path());
    let old = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXPJBSWY3DP"), false)
        .unwrap();
    s.add_recovery_codes(old.id, &texts(&["keep-1234"]))
        .unwrap();
    s.reveal_uri(old.id, ExposureWay::UriShown).unwrap();
    let new_secret = Secret::from_base32("KRSXG5CTMVRXEZLUKRSXG5CT").unwrap();
    let now_s = |t: &std::sync::atomic::AtomicI64| (t.load(Ordering::SeqCst) / 1000) as u64;
    let good = otp::totp(&new_secret, otp::Algorithm::Sha1, 6, 30, now_s(&t));
    let old_code = otp::totp(&old.secret, otp::Algorithm::Sha1, 6, 30, now_s(&t));
    let generation = s.generation().unwrap();
    // Refused, nothing changed: the old secret's code, a stale code, the same secret, an
    // unknown entry.
    for (secret, code) in [
        (new_secret.clone(), old_code.clone()),
        (new_secret.clone(), "000000".to_owned()),
        (old.secret.clone(), old_code.clone()),
    ] {
        assert!(
            matches!(
                s.rotate_entry(old.id, OtpKind::DEFAULT_TOTP, secret, &code),
                Err(VaultError::InvalidInput(
                    InputError::RotationCodeMismatch | InputError::RotationSameSecret
                ))
            ),
            "{code}"
        );
    }
    let stranger = twofold_core::vault::Id::from_random([3; 16]);
    assert!(matches!(
        s.rotate_entry(stranger, OtpKind::DEFAULT_TOTP, new_secret.clone(), &good),
        Err(VaultError::NoSuchEntry(_))
    ));
    assert_eq!(s.generation().unwrap(), generation);
    // The code typed a minute after the service accepted it still counts.
    t.fetch_add(60_000, Ordering::SeqCst);
    let r = s
        .rotate_entry(old.id, OtpKind::DEFAULT_TOTP, new_secret.clone(), &good)
        .unwrap();
    assert_eq!(r.cleared_exposures, 1);
    assert_eq!(r.new_entry.secret, new_secret);
    assert_eq!(r.new_entry.issuer, "GitHub");
    assert_eq!(r.new_entry.recovery_codes.len(), 1);
    assert!(s.entry(old.id).unwrap().deleted_at.is_some());
    assert!(s.care().unwrap().exposures.is_empty());
    assert!(
        checkup::run(&s)
            .unwrap()
            .iter()
            .all(|f| f.kind != "exposed")
    );
    // The trashed old secret can be rotated no more.
    assert!(matches!(
        s.rotate_entry(old.id, OtpKind::DEFAULT_TOTP, new_secret, &good),
        Err(VaultError::NoSuchEntry(_))
    ));

    // HOTP: the code for one of the next counters; the counter moves past it.
    let h = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBV&counter=0"),
            false,
        )
        .unwrap();
    let fresh = Secret::from_base32("MFRGGZDFMZTWQ2LKMFRGGZDF").unwrap();
    let code = otp::hotp(&fresh, otp::Algorithm::Sha1, 6, 2);
    let kind = OtpKind::Hotp {
        algorithm: otp::Algorithm::Sha1,
        digits: 6,
        counter: 0,
    };
    let r = s.rotate_entry(h.id, kind, fresh, &code).unwrap();
    assert!(matches!(r.new_entry.kind, OtpKind::Hotp { counter: 3, .. }));
}

#[test]
fn drills_record_date_credential_and_result_and_a_wrong_password_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key, t) = vault_at(dir.path());
    s.add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXPJBSWY3DP"), false)
        .unwrap();
    let backups = dir.path().join("backups");
    assert_eq!(
        backup::newest_backup(&twofold_core::vault::OsFileSystem, &backups).unwrap(),
        None
    );
    let first = backup::auto_backup(&s, &backups, &fast_backup(), 5).unwrap();
    t.fetch_add(2000, Ordering::SeqCst);
    let second = backup::auto_backup(&s, &backups, &fast_backup(), 5).unwrap();
    std::fs::write(backups.join("notes.txt"), "not a backup").unwrap();
    let newest = backup::newest_backup(&twofold_core::vault::OsFileSystem, &backups)
        .unwrap()
        .unwrap();
    assert_eq!(newest, second.created.path);
    assert_ne!(newest, first.created.path);
    let care = s.care().unwrap();
    assert_eq!(care.backup.as_ref().unwrap().made_at, T0 + 2000);

    let generation = s.generation().unwrap();
    for wrong in [
        BackupCredential::Password(b"wrong"),
        BackupCredential::RecoveryKey(&RecoveryKey::from_bytes([1; 16])),
    ] {
        assert_eq!(
            backup::drill(&s, &newest, &wrong).unwrap_err(),
            VaultError::WrongCredential
        );
    }
    let mut damaged = std::fs::read(&newest).unwrap();
    let n = damaged.len();
    damaged[n - 10] ^= 1;
    std::fs::write(dir.path().join("damaged.twfb"), &damaged).unwrap();
    assert!(matches!(
        backup::drill(
            &s,
            &dir.path().join("damaged.twfb"),
            &BackupCredential::Password(b"backup password")
        ),
        Err(VaultError::Corrupt(_))
    ));
    assert_eq!(s.generation().unwrap(), generation);
    assert_eq!(s.care().unwrap(), care);

    t.fetch_add(DAY, Ordering::SeqCst);
    let r = backup::drill(&s, &newest, &BackupCredential::Password(b"backup password")).unwrap();
    assert!(r.record.complete() && r.authenticated);
    assert_eq!(r.record.credential, DrillCredential::Password);
    assert_eq!(r.record.at, T0 + 2000 + DAY);
    let kinds = |s: &VaultSession| -> Vec<&'static str> {
        checkup::run(s).unwrap().iter().map(|f| f.kind).collect()
    };
    assert!(kinds(&s).contains(&"recovery-key-unconfirmed"));
    backup::drill(&s, &newest, &BackupCredential::RecoveryKey(&key)).unwrap();
    let k = kinds(&s);
    assert!(
        !k.contains(&"recovery-key-unconfirmed") && !k.contains(&"drill-none"),
        "{k:?}"
    );
    let care = s.care().unwrap();
    assert_eq!(care.drills.len(), 2);
    assert_eq!(
        care.last_drill().unwrap().credential,
        DrillCredential::RecoveryKey
    );

    // Time passes and the vault changes: the checkup asks for a new backup and drill.
    t.fetch_add(100 * DAY, Ordering::SeqCst);
    s.add_entry(totp("Bank", "bob", "GEZDGNBVGY3TQOJQGEZDGNBV"), false)
        .unwrap();
    let k = kinds(&s);
    for want in ["backup-old", "backup-stale", "drill-old"] {
        assert!(k.contains(&want), "{want} missing from {k:?}");
    }

    // A backup of another vault is no drill of this one.
    let other_dir = tempfile::tempdir().unwrap();
    let (other, _, _) = vault_at(other_dir.path());
    let foreign = other_dir.path().join("f.twfb");
    backup::create_backup(&other, &foreign, &fast_backup()).unwrap();
    assert!(matches!(
        backup::drill(
            &s,
            &foreign,
            &BackupCredential::Password(b"backup password")
        ),
        Err(VaultError::Unverified(_))
    ));
}

#[test]
fn the_checkup_finds_each_kind_of_problem() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, t) = vault_at(dir.path());
    let kinds = |s: &VaultSession| -> Vec<(String, Severity)> {
        checkup::run(s)
            .unwrap()
            .into_iter()
            .map(|f| (f.kind.to_owned(), f.severity))
            .collect()
    };
    // An empty vault has nothing to lose yet: no backup or drill finding.
    assert!(
        kinds(&s)
            .iter()
            .all(|(k, _)| k != "backup-none" && k != "drill-none")
    );
    let a = s
        .add_entry(totp("GitHub", "alice", "JBSWY3DPEHPK3PXPJBSWY3DP"), false)
        .unwrap();
    s.add_entry(totp("GitHub", "alice", "MFRGGZDFMZTWQ2LKMFRGGZDF"), false)
        .unwrap();
    s.add_entry_with(
        totp("Copy", "x", "JBSWY3DPEHPK3PXPJBSWY3DP"),
        twofold_core::vault::InsertPolicy {
            on_duplicate: twofold_core::vault::OnDuplicate::Allow,
            ..twofold_core::vault::InsertPolicy::STRICT
        },
    )
    .unwrap();
    s.add_entry(totp("Short", "y", "MFRGGZDFMZTWQ"), false)
        .unwrap(); // 64 bits
    s.add_entry(totp("Mid", "z", "MFRGGZDFMZTWQ2LK"), false)
        .unwrap(); // 80 bits
    let h = s
        .add_entry(
            entry("otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBV&counter=0"),
            false,
        )
        .unwrap();
    s.set_clock_offset(40).unwrap();
    let k = kinds(&s);
    let has = |k: &[(String, Severity)], kind: &str, sev: Severity| {
        k.iter().any(|(x, s)| x == kind && *s == sev)
    };
    assert!(has(&k, "backup-none", Severity::Critical), "{k:?}");
    assert!(has(&k, "drill-none", Severity::Warning));
    assert!(has(&k, "recovery-key-unconfirmed", Severity::Warning));
    assert!(has(&k, "single-unlock-method", Severity::Info));
    assert!(has(&k, "duplicate-account", Severity::Warning));
    assert!(has(&k, "duplicate-name", Severity::Warning));
    assert!(has(&k, "weak-secret", Severity::Critical));
    assert!(has(&k, "weak-secret", Severity::Warning));
    assert!(has(&k, "clock-offset", Severity::Warning));
    assert!(
        !k.iter()
            .any(|(x, _)| x == "no-recovery-codes" || x == "hotp-ahead" || x == "unused")
    );
    // Sorted most severe first.
    let sev: Vec<Severity> = k.iter().map(|(_, s)| *s).collect();
    assert!(sev.windows(2).all(|w| w[0] >= w[1]));

    // Recovery codes for every account, a setting.
    s.set_checkup_settings(CheckupSettings {
        recovery_codes: twofold_core::vault::care::RecoveryCodesPolicy::All,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        kinds(&s)
            .iter()
            .filter(|(k, _)| k == "no-recovery-codes")
            .count(),
        6
    );
    s.add_recovery_codes(a.id, &texts(&["only-1111"])).unwrap();
    s.use_recovery_code(a.id, "only-1111").unwrap();
    let f = checkup::run(&s).unwrap();
    let used_up = f
        .iter()
        .find(|f| f.kind == "no-recovery-codes" && f.entries == vec![a.id])
        .unwrap();
    assert_eq!(used_up.severity, Severity::Critical, "every code used");
    // Settings out of range: refused, nothing changed.
    let before = s.care().unwrap();
    for bad in [
        CheckupSettings {
            drill_interval_days: 0,
            ..Default::default()
        },
        CheckupSettings {
            hotp_look_ahead: 0,
            ..Default::default()
        },
        CheckupSettings {
            important_issuers: vec!["bad\nname".into()],
            ..Default::default()
        },
    ] {
        assert!(matches!(
            s.set_checkup_settings(bad),
            Err(VaultError::InvalidInput(_))
        ));
    }
    assert_eq!(s.care().unwrap(), before);

    // HOTP: a code used (copied), then eleven more generated without use.
    s.next_hotp(h.id).unwrap();
    s.record_use(h.id).unwrap();
    for _ in 0..11 {
        s.next_hotp(h.id).unwrap();
    }
    assert!(kinds(&s).iter().any(|(k, _)| k == "hotp-ahead"));
    s.record_use(h.id).unwrap();
    s.flush_usage().unwrap();
    assert!(!kinds(&s).iter().any(|(k, _)| k == "hotp-ahead"));

    // A year without use.
    t.fetch_add(400 * DAY, Ordering::SeqCst);
    assert!(
        kinds(&s)
            .iter()
            .any(|(k, s)| k == "unused" && *s == Severity::Info)
    );
}
