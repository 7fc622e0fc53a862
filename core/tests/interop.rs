//! Importers and exporters on fixtures this project writes (encrypted ones produced here with
//! each format's documented parameters), real peers where a format's crypto has one (Python
//! `cryptography`, libsodium through PyNaCl, argon2-cffi; Debian's `zbarimg` for Google QR
//! images), and hostile input.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use twofold_core::crypto::SystemRandom;
use twofold_core::interop::{
    self, Format, ImportError, aegis, andotp, bitwarden, cxf, ente, google, otpauth_list, proton,
    twofas,
};
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::qr;
use twofold_core::vault::{Entry, VaultSession};

const A: &str = "4SJHB4GSD43FZBAI7C2HLRJGPQ";
const B: &str = "5OM4WOOGPLQEF6UGN3CPEOOLWU";
const C: &str = "YOOMIXWS5GN6RTBPUFFWKTW5M4";

fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/python");
    assert!(
        venv.exists(),
        "the interop peers need target/test-venv (scripts/test.sh creates it from tests/peers/requirements.txt)"
    );
    venv
}

fn peer(args: &[&str]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/interop_peers.py");
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "peer {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn names(r: &interop::ImportReport) -> Vec<String> {
    r.entries.iter().map(|e| e.label()).collect()
}

fn import(bytes: &[u8], password: Option<&[u8]>) -> interop::ImportReport {
    interop::import(bytes, None, password).unwrap_or_else(|e| panic!("{e}"))
}

/// A vault with one entry of each kind, for the exporters.
fn sample_vault(dir: &std::path::Path) -> VaultSession {
    let (s, _) = create(&dir.join("v"));
    let g = s.add_group("Work").unwrap();
    let mut github = totp("GitHub", "alice@example.com", A);
    github.groups = vec![twofold_core::vault::GroupRef::Id(g.id)];
    github.note = "laptop".into();
    github.favorite = true;
    s.add_entry(github, false).unwrap();
    s.add_entry(
        entry(&format!(
            "otpauth://totp/Bank:bob?secret={B}&algorithm=SHA256&digits=8&period=60"
        )),
        false,
    )
    .unwrap();
    s.add_entry(
        entry(&format!(
            "otpauth://hotp/Counter:carol?secret={C}&counter=42"
        )),
        false,
    )
    .unwrap();
    s.add_entry(
        entry(&format!("otpauth://steam/Steam:gaben?secret={A}")),
        true,
    )
    .unwrap();
    s
}

fn entries_of(s: &VaultSession) -> Vec<Entry> {
    s.entries().unwrap()
}

fn same(entries: &[Entry], report: &interop::ImportReport) {
    assert_eq!(report.entries.len(), entries.len(), "{:?}", names(report));
    for (e, i) in entries.iter().zip(&report.entries) {
        assert_eq!(
            (e.kind, &e.secret, &e.issuer, &e.account),
            (i.kind, &i.secret, &i.issuer, &i.account)
        );
    }
}

#[test]
fn otpauth_lists_with_comments_bad_lines_and_ente_metadata() {
    let text = format!(
        "# my accounts\n\notpauth://totp/GitHub:alice?secret={A}&issuer=GitHub\nnot a uri\notpauth://totp/x?secret=NOT!BASE32\n\
         otpauth://hotp/Bank:bob?secret={C}&counter=3&codeDisplay=%7B%22pinned%22%3Atrue%2C%22tags%22%3A%5B%22Work%22%5D%2C%22note%22%3A%22desk%22%7D\n"
    );
    let r = import(text.as_bytes(), None);
    assert_eq!(r.format, Format::OtpauthList);
    assert_eq!(names(&r), ["GitHub (alice)", "Bank (bob)"]);
    assert_eq!(r.errors.len(), 2, "one bad entry never aborts the rest");
    assert_eq!((r.errors[0].index, r.errors[1].index), (3, 4));
    assert!(
        r.errors[1].reason.contains("character"),
        "{}",
        r.errors[1].reason
    );
    assert!(!format!("{:?}", r.errors).contains(A));
    let bank = &r.entries[1];
    assert!(bank.favorite);
    assert_eq!(bank.groups, ["Work"]);
    assert_eq!(bank.note, "desk");
}

#[test]
fn aegis_plain_and_encrypted_round_trip_and_python_decrypts_ours() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample_vault(dir.path());
    let entries = entries_of(&s);
    let refs: Vec<&Entry> = entries.iter().collect();
    let groups = s.groups().unwrap();
    let rng = SystemRandom::new();

    let plain = aegis::export_plain(&refs, &groups, &rng).unwrap();
    let r = import(plain.as_bytes(), None);
    assert_eq!(r.format, Format::Aegis);
    same(&entries, &r);
    assert_eq!(r.entries[0].groups, ["Work"]);
    assert!(r.entries[0].favorite);
    assert_eq!(r.entries[0].note, "laptop");

    let encrypted = aegis::export_encrypted(&refs, &groups, b"hunter2", &rng).unwrap();
    assert!(
        !encrypted.contains(A),
        "the secret must not appear in an encrypted export"
    );
    same(&entries, &import(encrypted.as_bytes(), Some(b"hunter2")));
    assert_eq!(
        interop::import(encrypted.as_bytes(), None, Some(b"wrong")),
        Err(ImportError::WrongPassword)
    );
    assert_eq!(
        interop::import(encrypted.as_bytes(), None, None),
        Err(ImportError::PasswordRequired)
    );

    // An independent decryption (Python cryptography + hashlib.scrypt) reads our export.
    let file = dir.path().join("aegis.json");
    std::fs::write(&file, &encrypted).unwrap();
    let db: serde_json::Value =
        serde_json::from_str(&peer(&["aegis-decrypt", file.to_str().unwrap(), "hunter2"])).unwrap();
    assert_eq!(db["version"], 3);
    let secrets: Vec<&str> = db["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["info"]["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, [A, B, C, A]);
    assert_eq!(db["entries"][2]["info"]["counter"], 42);
}

#[test]
fn aegis_items_with_unsupported_types_are_reported_individually() {
    let doc = format!(
        r#"{{"version":1,"header":{{"slots":null,"params":null}},"db":{{"version":2,"entries":[
        {{"type":"totp","name":"a","issuer":"A","info":{{"secret":"{A}","algo":"SHA1","digits":6,"period":30}},"group":"Old"}},
        {{"type":"motp","name":"m","issuer":"M","info":{{"secret":"{A}","algo":"MD5","digits":6,"period":10,"pin":"1234"}}}},
        {{"type":"totp","name":"bad","issuer":"B","info":{{"secret":"{A}","algo":"SHA1","digits":4,"period":30}}}}]}}}}"#
    );
    let r = import(doc.as_bytes(), None);
    assert_eq!(names(&r), ["A (a)"]);
    assert_eq!(r.entries[0].groups, ["Old"]);
    assert_eq!(r.errors.len(), 2);
    assert!(r.errors[0].reason.contains("motp"));
    assert!(r.errors[1].reason.contains("4 digits"));
}

#[test]
fn twofas_all_schemas_and_encryption() {
    let services = format!(
        r#"[{{"name":"Deno","secret":"{A}","otp":{{"label":"Mason","account":"Mason","issuer":"Deno","digits":6,"period":30,"algorithm":"SHA1","tokenType":"TOTP"}},"groupId":"g1"}},
           {{"name":"Issuu","secret":"{C}","otp":{{"account":"James","digits":7,"algorithm":"SHA256","counter":5,"tokenType":"HOTP"}}}},
           {{"name":"Legacy","secret":"{B}","otp":{{"label":"old"}}}},
           {{"name":"Broken","secret":"***","otp":{{}}}}]"#
    );
    let plain = format!(
        r#"{{"services":{services},"groups":[{{"id":"g1","name":"Dev"}}],"schemaVersion":4,"appVersionCode":1}}"#
    );
    let r = import(plain.as_bytes(), None);
    assert_eq!(r.format, Format::TwoFas);
    assert_eq!(names(&r), ["Deno (Mason)", "Issuu (James)", "Legacy (old)"]);
    assert_eq!(r.entries[0].groups, ["Dev"]);
    assert_eq!(
        r.entries[1].kind,
        OtpKind::Hotp {
            algorithm: Algorithm::Sha256,
            digits: 7,
            counter: 5
        }
    );
    assert_eq!(r.errors.len(), 1);

    // Encrypted exactly as 2FAS does: PBKDF2-SHA256 10 000, 256-byte salt, AES-GCM.
    let salt = [7u8; 256];
    let enc = twofas::encrypt_field(services.as_bytes(), b"pw", &salt, [1; 12]);
    let reference =
        twofas::encrypt_field(b"tRiRjpRR5GNZfgamIrFPVN7VPbRuwGQs", b"pw", &salt, [2; 12]);
    let doc = format!(
        r#"{{"services":[],"groups":[{{"id":"g1","name":"Dev"}}],"schemaVersion":4,"servicesEncrypted":"{enc}","reference":"{reference}"}}"#
    );
    assert_eq!(names(&import(doc.as_bytes(), Some(b"pw"))), names(&r));
    assert_eq!(
        interop::import(doc.as_bytes(), None, Some(b"nope")),
        Err(ImportError::WrongPassword)
    );
    // Reference fine but services damaged: a damaged file, not a wrong password.
    let damaged = doc.replacen(&enc[..8], "AAAAAAAA", 1);
    assert!(matches!(
        interop::import(damaged.as_bytes(), None, Some(b"pw")),
        Err(ImportError::Damaged(_))
    ));
}

#[test]
fn andotp_plain_current_and_old_encryption() {
    let plain = format!(
        r#"[{{"secret":"{A}======","issuer":"Deno","label":"Mason","digits":6,"type":"TOTP","algorithm":"SHA1","period":30,"tags":["Home"]}},
           {{"secret":"{C}","label":"Issuu:James","digits":6,"type":"HOTP","algorithm":"SHA1","counter":9}},
           {{"secret":"{B}","issuer":"Valve","label":"gaben","type":"STEAM"}}]"#
    );
    let r = import(plain.as_bytes(), None);
    assert_eq!(r.format, Format::AndOtp);
    assert_eq!(
        names(&r),
        ["Deno (Mason)", "Issuu (James)", "Valve (gaben)"]
    );
    assert_eq!(r.entries[0].groups, ["Home"]);
    assert_eq!(r.entries[2].kind, OtpKind::Steam);
    let current = andotp::encrypt(plain.as_bytes(), b"pw", 150_000, [3; 12], [4; 12]);
    let old = andotp::encrypt_old(plain.as_bytes(), b"pw", [5; 12]);
    for bytes in [&current, &old] {
        let r2 = import(bytes, Some(b"pw"));
        assert_eq!(r2.format, Format::AndOtpEncrypted);
        assert_eq!(names(&r2), names(&r));
        assert_eq!(
            interop::import(bytes, None, Some(b"no")),
            Err(ImportError::WrongPassword)
        );
    }
    let mut hostile = current.clone();
    hostile[..4].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    assert!(matches!(
        interop::import(&hostile, None, Some(b"pw")),
        Err(ImportError::HostileParameters(_))
    ));
}

#[test]
fn bitwarden_json_csv_and_password_protected_by_an_independent_peer() {
    let json = format!(
        r#"{{"encrypted":false,"folders":[{{"id":"f1","name":"2FA"}}],"items":[
          {{"type":1,"name":"GitHub","folderId":"f1","favorite":true,"login":{{"username":"alice","totp":"otpauth://totp/GitHub:alice?secret={A}&issuer=GitHub"}}}},
          {{"type":1,"name":"Bare","login":{{"username":"bob","totp":"{B}"}}}},
          {{"type":1,"name":"Steam","login":{{"totp":"steam://{C}"}}}},
          {{"type":1,"name":"Just a password","login":{{"username":"x","password":"y","totp":null}}}},
          {{"type":1,"name":"Bad","login":{{"totp":"otpauth://totp/x?secret=1"}}}}]}}"#
    );
    let r = import(json.as_bytes(), None);
    assert_eq!(r.format, Format::BitwardenJson);
    assert_eq!(names(&r), ["GitHub (alice)", "Bare (bob)", "(unnamed)"]);
    assert_eq!(r.entries[0].groups, ["2FA"]);
    assert!(r.entries[0].favorite);
    assert_eq!(r.entries[2].kind, OtpKind::Steam);
    assert_eq!(r.entries[2].note, "Bitwarden item: Steam");
    assert_eq!(r.errors.len(), 1, "password-only items are not errors");

    let csv = format!(
        "folder,favorite,type,name,notes,fields,login_uri,login_username,login_password,login_totp\n\
         Work,1,login,\"GitHub, Inc.\",\"multi\nline\",,,alice,,otpauth://totp/GitHub:alice?secret={A}&issuer=GitHub\n\
         ,,login,No TOTP,,,,bob,pw,\n"
    );
    let r = import(csv.as_bytes(), None);
    assert_eq!(r.format, Format::BitwardenCsv);
    assert_eq!(names(&r), ["GitHub (alice)"]);
    assert_eq!(r.entries[0].note, "multi\nline");
    assert_eq!(r.entries[0].groups, ["Work"]);

    // Our own protected export, and one written by an independent implementation.
    let ours = bitwarden::protect(&json, b"pw", "salt-of-ours", 600_000, [1; 16], [2; 16]);
    assert_eq!(
        names(&import(ours.as_bytes(), Some(b"pw"))),
        ["GitHub (alice)", "Bare (bob)", "(unnamed)"]
    );
    assert_eq!(
        interop::import(ours.as_bytes(), None, Some(b"no")),
        Err(ImportError::WrongPassword)
    );
    let dir = tempfile::tempdir().unwrap();
    let plain_file = dir.path().join("plain.json");
    std::fs::write(&plain_file, &json).unwrap();
    let theirs = peer(&[
        "bitwarden-protect",
        plain_file.to_str().unwrap(),
        "correct horse",
    ]);
    assert_eq!(
        names(&import(theirs.as_bytes(), Some(b"correct horse"))).len(),
        3
    );
    assert_eq!(
        interop::import(theirs.as_bytes(), None, Some(b"wrong")),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn ente_encrypted_both_ways_with_libsodium() {
    let plain = format!(
        "otpauth://totp/Deno:Mason?secret={A}&issuer=Deno&codeDisplay=%7B%22pinned%22%3Atrue%7D\notpauth://steam/Boeing:Sophia?secret={C}&issuer=Boeing\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let plain_file = dir.path().join("plain.txt");
    std::fs::write(&plain_file, &plain).unwrap();
    // libsodium (PyNaCl) seals, we open.
    let theirs = peer(&["ente-seal", plain_file.to_str().unwrap(), "pw"]);
    let r = import(theirs.as_bytes(), Some(b"pw"));
    assert_eq!(r.format, Format::EnteEncrypted);
    assert_eq!(names(&r), ["Deno (Mason)", "Boeing (Sophia)"]);
    assert!(r.entries[0].favorite);
    assert_eq!(
        interop::import(theirs.as_bytes(), None, Some(b"no")),
        Err(ImportError::WrongPassword)
    );
    // We seal, libsodium opens.
    let ours = ente::seal(&plain, b"pw", [9; 16], [8; 24], 64 * 1024 * 1024, 2).unwrap();
    let file = dir.path().join("ours.json");
    std::fs::write(&file, &ours).unwrap();
    assert_eq!(peer(&["ente-open", file.to_str().unwrap(), "pw"]), plain);
    // Absurd KDF parameters are refused before any work.
    let hostile = ours.replace("67108864", "68719476736");
    assert!(matches!(
        interop::import(hostile.as_bytes(), None, Some(b"pw")),
        Err(ImportError::HostileParameters(_))
    ));
}

#[test]
fn ente_exports_above_the_phone_limit_need_the_desktop_override() {
    // Ente's strongest exports use more Argon2id memory than a phone survives: refused by
    // default, before any work, with the hint; read on request (the CLI's --allow-heavy-kdf).
    let plain = format!("otpauth://totp/Deno:Mason?secret={A}&issuer=Deno\n");
    let heavy = ente::seal(&plain, b"pw", [9; 16], [8; 24], 512 * 1024 * 1024, 2).unwrap();
    match interop::import(heavy.as_bytes(), None, Some(b"pw")) {
        Err(ImportError::HostileParameters(m)) => assert!(m.contains("--allow-heavy-kdf"), "{m}"),
        other => panic!("{other:?}"),
    }
    let r = interop::import_with(
        heavy.as_bytes(),
        &interop::ImportOptions {
            password: Some(b"pw"),
            heavy_kdf: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(names(&r), ["Deno (Mason)"]);
}

#[test]
fn freeotp_plus_signed_byte_secrets() {
    let doc = r#"{"tokenOrder":["A:a"],"tokens":[
        {"algo":"SHA512","counter":10299,"digits":8,"issuerExt":"WWE","label":"Mason","period":30,"secret":[-19,64,-59,-18,-5,-20,-50,34,6,-79,93,117,-63,24,42,118],"type":"HOTP"},
        {"algo":"SHA1","digits":6,"issuerExt":"X","label":"bad","period":30,"secret":[1,2,999],"type":"TOTP"}]}"#;
    let r = import(doc.as_bytes(), None);
    assert_eq!(r.format, Format::FreeOtpPlus);
    assert_eq!(
        r.entries[0].secret.to_base32(),
        "5VAML3X35THCEBVRLV24CGBKOY"
    );
    assert_eq!(
        r.entries[0].kind,
        OtpKind::Hotp {
            algorithm: Algorithm::Sha512,
            digits: 8,
            counter: 10299
        }
    );
    assert_eq!(r.errors.len(), 1);
}

#[test]
fn proton_plain_and_password_by_an_independent_peer() {
    let plain = format!(
        r#"{{"version":1,"entries":[{{"id":"1","content":{{"uri":"otpauth://totp/Deno:Mason?secret={A}&issuer=Deno","entry_type":"Totp","name":"Mason"}},"note":"hi"}},
           {{"id":"2","content":{{"uri":"otpauth://steam/Steam:x?secret={B}","entry_type":"Steam","name":"x"}},"note":null}}]}}"#
    );
    let r = import(plain.as_bytes(), None);
    assert_eq!(r.format, Format::Proton);
    assert_eq!(names(&r), ["Deno (Mason)", "Steam (x)"]);
    assert_eq!(r.entries[0].note, "hi");
    let ours = proton::seal(&plain, b"pw", [1; 16], [2; 12]).unwrap();
    assert_eq!(names(&import(ours.as_bytes(), Some(b"pw"))), names(&r));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.json");
    std::fs::write(&f, &plain).unwrap();
    let theirs = peer(&["proton-seal", f.to_str().unwrap(), "pw"]);
    assert_eq!(names(&import(theirs.as_bytes(), Some(b"pw"))), names(&r));
    assert_eq!(
        interop::import(theirs.as_bytes(), None, Some(b"no")),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn google_migration_batches_export_import_and_zbarimg_reads_our_qr_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample_vault(dir.path());
    for i in 0..21 {
        let mut e = totp(&format!("Service {i}"), "user", A);
        e.secret = twofold_core::Secret::from_bytes(vec![i as u8 + 1; 20]).unwrap();
        s.add_entry(e, false).unwrap();
    }
    let entries = entries_of(&s);
    let refs: Vec<&Entry> = entries.iter().collect();
    let (uris, skipped) = google::export(&refs, 77);
    // SHA256/8-digit/60 s and Steam cannot be represented; 1 TOTP + 1 HOTP + 21 = 23 fit.
    assert_eq!(
        skipped.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(),
        ["Bank (bob)", "Steam (gaben)"]
    );
    assert_eq!(uris.len(), 3, "10 accounts per code");
    let text = uris.join("\n");
    let r = import(text.as_bytes(), None);
    assert_eq!(r.format, Format::GoogleMigration);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.entries.len(), 23);
    assert_eq!(
        r.entries[1].kind,
        OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter: 42
        }
    );

    // A missing part of the batch is reported, the rest still imports.
    let partial = format!("{}\n{}", uris[0], uris[2]);
    let r = import(partial.as_bytes(), None);
    assert_eq!(r.entries.len(), 13);
    assert!(
        r.errors
            .iter()
            .any(|e| e.reason.contains("2 of 3 codes scanned (missing: 2)")),
        "{:?}",
        r.errors
    );

    // The QR images decode with our decoder and with Debian's zbarimg.
    for (n, uri) in uris.iter().enumerate() {
        let png = qr::encode(uri, qr::EcLevel::M).unwrap().to_png(4);
        assert_eq!(
            qr::decode_image(&png).unwrap().as_deref(),
            Some(uri.as_str())
        );
        let file = dir.path().join(format!("google-{n}.png"));
        std::fs::write(&file, &png).unwrap();
        let out = Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(&file)
            .output()
            .expect("zbarimg (apt-get install zbar-tools)");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            uri,
            "zbarimg on code {n}"
        );
    }
}

#[test]
fn otpauth_and_cxf_exports() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample_vault(dir.path());
    let entries = entries_of(&s);
    let refs: Vec<&Entry> = entries.iter().collect();
    same(
        &entries,
        &otpauth_list::import(&otpauth_list::export(&refs)).unwrap(),
    );
    let (doc, skipped) = cxf::export(&refs, 1_700_000_000_000, &SystemRandom::new()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let items = v["accounts"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let cred = &items[1]["credentials"][0];
    assert_eq!(
        (
            cred["type"].as_str(),
            cred["algorithm"].as_str(),
            cred["digits"].as_u64(),
            cred["period"].as_u64()
        ),
        (Some("totp"), Some("sha256"), Some(8), Some(60))
    );
    assert_eq!(cred["secret"], B);
    assert_eq!(skipped.len(), 2, "no HOTP or Steam in CXF");
}

#[test]
fn adding_to_a_vault_reports_duplicates_and_creates_groups() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample_vault(dir.path());
    let text = format!(
        "otpauth://totp/GitHub:alice?secret={A}\notpauth://totp/New:n?secret={B}\notpauth://totp/New:n?secret={B}\n"
    );
    let mut r = import(text.as_bytes(), None);
    r.entries[1].groups = vec!["work".into(), "Travel".into()];
    let outcome = interop::add_to_vault(&s, r.entries).unwrap();
    assert_eq!(outcome.added.len(), 1);
    assert_eq!(
        outcome
            .duplicates
            .iter()
            .map(|d| d.label.as_str())
            .collect::<Vec<_>>(),
        ["GitHub (alice)", "New (n)"]
    );
    let added = s.entry(outcome.added[0]).unwrap();
    let groups = s.groups().unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["Work", "Travel"],
        "groups matched case-insensitively"
    );
    assert_eq!(added.group_ids.len(), 2);
}

#[test]
fn hostile_input_fails_fast() {
    let huge = vec![b' '; interop::MAX_IMPORT_BYTES + 1];
    assert_eq!(
        interop::import(&huge, None, None),
        Err(ImportError::TooLarge(huge.len()))
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(interop::import(deep.as_bytes(), Some(Format::AndOtp), None).is_err());
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    assert!(interop::import(deep_obj.as_bytes(), Some(Format::Aegis), None).is_err());
    // Too many entries.
    let many = format!(
        "[{}]",
        vec![format!(r#"{{"secret":"{A}","type":"TOTP"}}"#); 100_001].join(",")
    );
    assert_eq!(
        interop::import(many.as_bytes(), Some(Format::AndOtp), None),
        Err(ImportError::TooManyEntries)
    );
    // Aegis asking for 1 TiB of scrypt memory.
    let hostile = r#"{"version":1,"header":{"slots":[{"type":1,"uuid":"x","key":"00","key_params":{"nonce":"000000000000000000000000","tag":"00000000000000000000000000000000"},"n":1073741824,"r":8,"p":1,"salt":"00"}],"params":{"nonce":"000000000000000000000000","tag":"00000000000000000000000000000000"}},"db":"AAAA"}"#;
    assert!(matches!(
        interop::import(hostile.as_bytes(), None, Some(b"x")),
        Err(ImportError::HostileParameters(_))
    ));
    // Bad base64 in an encrypted database.
    let bad_b64 = r#"{"encrypted":true,"passwordProtected":true,"salt":"s","kdfType":0,"kdfIterations":1000000000000,"encKeyValidation_DO_NOT_EDIT":"2.@@@|x|y","data":"2.a|b|c"}"#;
    assert!(matches!(
        interop::import(bad_b64.as_bytes(), None, Some(b"x")),
        Err(ImportError::HostileParameters(_))
    ));
    // A Google code claiming a billion-part batch.
    let payload = google::MigrationPayload {
        otp_parameters: vec![],
        version: 1,
        batch_size: 1_000_000_000,
        batch_index: 5,
        batch_id: 1,
    };
    use base64::Engine as _;
    let uri = format!(
        "otpauth-migration://offline?data={}",
        base64::engine::general_purpose::STANDARD
            .encode(prost::Message::encode_to_vec(&payload))
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    );
    let r = import(uri.as_bytes(), None);
    assert!(r.entries.is_empty());
    assert!(
        r.errors[0].reason.contains("implausible batch"),
        "{:?}",
        r.errors
    );
    // Garbage and unknown formats.
    assert!(matches!(
        interop::import(b"\x00\x01\x02", None, None),
        Err(ImportError::UnknownFormat(_))
    ));
    assert!(matches!(
        interop::import(b"{\"hello\": 1}", None, None),
        Err(ImportError::UnknownFormat(_))
    ));
    assert!(
        interop::import(
            b"{\"version\": 1, \"header\": {}, \"db\": \"!!!\"}",
            None,
            Some(b"x")
        )
        .is_err()
    );
}
