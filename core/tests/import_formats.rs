//! The second importer wave on fixtures this project writes (tests/peers/make_import_fixtures.py,
//! independent implementations: Python `cryptography`, argon2-cffi, `sqlite3`, `zipfile`,
//! `pyzipper`, Debian's `zip -P`, `pykeepass`): every format and variant imports the accounts
//! it holds, reports each bad entry without stopping, and tells a missing password, a wrong
//! one, a damaged file and an unsupported variant apart. Then hostile files: ZIP bombs,
//! SQLite views and oversized values, XML entities, and key-derivation parameters above the
//! ceilings — each refused quickly with a typed error.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::PathBuf;
use std::time::Instant;

use twofold_core::interop::{self, Format, ImportError, ImportReport};
use twofold_core::otp::{Algorithm, OtpKind};

const A: &str = "4SJHB4GSD43FZBAI7C2HLRJGPQ";
const B: &str = "5OM4WOOGPLQEF6UGN3CPEOOLWU";
const C: &str = "YOOMIXWS5GN6RTBPUFFWKTW5M4";
const D: &str = "KUVJJOM753IHTNDSZVCNKL7GII";

const TA: OtpKind = OtpKind::DEFAULT_TOTP;
const TB: OtpKind = OtpKind::Totp {
    algorithm: Algorithm::Sha256,
    digits: 8,
    period: 60,
};
const HC: OtpKind = OtpKind::Hotp {
    algorithm: Algorithm::Sha1,
    digits: 6,
    counter: 42,
};
const ST: OtpKind = OtpKind::Steam;

const fn totp(digits: u8, period: u32) -> OtpKind {
    OtpKind::Totp {
        algorithm: Algorithm::Sha1,
        digits,
        period,
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn password(name: &str) -> Vec<u8> {
    let all: serde_json::Value =
        serde_json::from_slice(&fixture("PASSWORDS.json")).expect("PASSWORDS.json");
    all[name]
        .as_str()
        .unwrap_or_else(|| panic!("no password for {name}"))
        .as_bytes()
        .to_vec()
}

type Want<'a> = (&'a str, &'a str, OtpKind, &'a str);

/// Imports a fixture (format detected), checks its format, accounts (issuer, account, kind,
/// base32 secret; `""` secret = not compared) and per-item error reasons.
fn check(
    name: &str,
    format: Format,
    pw: Option<&[u8]>,
    want: &[Want],
    errors: &[&str],
) -> ImportReport {
    let bytes = fixture(name);
    let report = interop::import(&bytes, None, pw).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(report.format, format, "{name}: detected format");
    let got: Vec<(String, String, OtpKind, String)> = report
        .entries
        .iter()
        .map(|e| {
            (
                e.issuer.clone(),
                e.account.clone(),
                e.kind,
                e.secret.to_base32(),
            )
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{name}: {got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2), (w.0, w.1, w.2), "{name}");
        if !w.3.is_empty() {
            assert_eq!(g.3, w.3, "{name}: secret of {}", w.0);
        }
    }
    assert_eq!(
        report.errors.len(),
        errors.len(),
        "{name}: {:?}",
        report.errors
    );
    for (e, w) in report.errors.iter().zip(errors) {
        assert!(
            e.reason.to_lowercase().contains(&w.to_lowercase()),
            "{name}: '{}' should mention '{w}'",
            e.reason
        );
    }
    // Errors never carry a secret.
    let text = format!("{:?}", report.errors);
    for s in [A, B, C, D] {
        assert!(!text.contains(s), "{name}: a secret in the errors");
    }
    if let Some(pw) = pw {
        if pw != b"TotpAuthenticator" {
            assert_eq!(
                interop::import(&bytes, None, Some(b"not the password")),
                Err(ImportError::WrongPassword),
                "{name}: wrong password"
            );
            assert_eq!(
                interop::import(&bytes, None, None),
                Err(ImportError::PasswordRequired),
                "{name}: no password"
            );
        }
        let _ = pw;
    }
    report
}

fn hostile(result: Result<ImportReport, ImportError>, what: &str) -> String {
    match result {
        Err(ImportError::HostileParameters(detail)) => detail,
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn authy_plain_encrypted_and_api_dumps() {
    let r = check(
        "authy_plain.xml",
        Format::Authy,
        None,
        &[
            ("GitHub", "alice", TA, A),
            ("Bank", "bob", totp(8, 30), B),
            ("Dropbox", "carol", TA, C),
            ("Authy Native", "", totp(7, 10), ""),
        ],
        &["secret"],
    );
    assert_eq!(r.entries[3].secret.len(), 16, "Authy's own seed is hex");
    check(
        "authy_encrypted.xml",
        Format::Authy,
        Some(&password("authy_encrypted.xml")),
        &[
            ("GitHub", "alice", TA, A),
            ("Bank", "bob", totp(8, 30), B),
            ("Authy Native", "", totp(7, 10), ""),
        ],
        &[],
    );
    check(
        "authy_api.json",
        Format::Authy,
        Some(&password("authy_api.json")),
        &[("GitHub", "alice", TA, A)],
        &[],
    );
}

const STRATUM: &[Want] = &[
    ("GitHub", "alice", TA, A),
    ("Bank", "bob", TB, B),
    ("Counter", "carol", HC, C),
    ("Steam", "gaben", ST, D),
];

#[test]
fn authenticator_pro_plain_strong_legacy_and_database() {
    let r = check(
        "stratum_plain.json",
        Format::Stratum,
        None,
        STRATUM,
        &["mOTP", "Yandex"],
    );
    assert_eq!(r.entries[0].groups, ["Work"]);
    assert_eq!(r.errors[0].label, "MobileOTP:dave", "reported by name");
    check(
        "stratum_encrypted.bin",
        Format::Stratum,
        Some(&password("stratum_encrypted.bin")),
        STRATUM,
        &["mOTP", "Yandex"],
    );
    check(
        "stratum_legacy.bin",
        Format::Stratum,
        Some(&password("stratum_legacy.bin")),
        STRATUM,
        &["mOTP", "Yandex"],
    );
    check(
        "stratum.db3",
        Format::StratumDb,
        None,
        STRATUM,
        &["mOTP", "Yandex"],
    );
    // An encrypted (SQLCipher) database is an unsupported variant with a hint.
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(matches!(
        interop::import(&random, Some(Format::StratumDb), None),
        Err(ImportError::Unsupported(m)) if m.contains("SQLCipher")
    ));
}

#[test]
fn freeotp_v1_tokens_and_v2_backup() {
    check(
        "freeotp_tokens.xml",
        Format::FreeOtp,
        None,
        &[
            ("Counter", "carol", HC, C),
            ("GitHub", "alice", TA, A),
            ("My Bank", "bobby", TB, B),
            ("Steam", "gaben", ST, D),
        ],
        &["secret"],
    );
    check(
        "freeotp_backup.xml",
        Format::FreeOtp,
        Some(&password("freeotp_backup.xml")),
        &[
            ("GitHub", "alice", TA, A),
            ("", "nullalgo", TA, B),
            ("Counter", "carol", HC, C),
        ],
        &["missing"],
    );
    // FreeOTP+ keeps its own name.
    assert_eq!(Format::from_name("freeotp+"), Some(Format::FreeOtpPlus));
    assert_eq!(Format::from_name("freeotp"), Some(Format::FreeOtp));
}

#[test]
fn freeotp_backups_with_hostile_maps_and_costs_are_refused() {
    use twofold_core::fuzzing::{
        freeotp_read_string_map as read_string_map, freeotp_write_string_map as write_string_map,
    };
    let pairs = vec![("a".to_owned(), "b".to_owned())];
    let mut bytes = write_string_map(&pairs);
    assert_eq!(read_string_map(&bytes).unwrap(), pairs);
    // The map claims two billion entries: refused before anything is allocated.
    let at = bytes.len() - 1 - 2 * 4 - 4;
    bytes[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    let t = Instant::now();
    hostile(interop::import(&bytes, None, Some(b"x")), "huge Java map");
    assert!(t.elapsed().as_secs() < 5);
    // A nested object instead of a string is an unsupported shape, not a walk.
    let mut nested = write_string_map(&pairs);
    let key_at = nested.len() - 1 - 4;
    nested[key_at - 2] = 0x73;
    assert!(interop::import(&nested, None, Some(b"x")).is_err());
    // A master key asking for 100 million PBKDF2 iterations.
    let master = serde_json::json!({"mAlgorithm": "PBKDF2withHmacSHA512", "mIterations": 100_000_000u64,
        "mSalt": vec![1; 32], "mEncryptedKey": {}});
    let file = write_string_map(&[("masterKey".to_owned(), master.to_string())]);
    let detail = hostile(
        interop::import(&file, None, Some(b"x")),
        "FreeOTP iterations",
    );
    assert!(detail.contains("100000000 PBKDF2 iterations"), "{detail}");
}

#[test]
fn totp_authenticator_backup_fallback_password_and_internal_file() {
    let want: &[Want] = &[
        ("GitHub", "alice", TA, A),
        ("", "bob", TA, B),
        ("Carol Co", "carol", TA, C),
    ];
    check(
        "totp_authenticator.bin",
        Format::TotpAuthenticator,
        Some(&password("totp_authenticator.bin")),
        want,
        &[],
    );
    // Made without a user password: the app's built-in one opens it, no password asked.
    check(
        "totp_authenticator_default.bin",
        Format::TotpAuthenticator,
        None,
        want,
        &[],
    );
    check(
        "totp_authenticator_prefs.xml",
        Format::TotpAuthenticator,
        None,
        want,
        &[],
    );
}

#[test]
fn battle_net_new_and_old_app() {
    let secret = twofold_core::Secret::from_bytes((1..=20).collect::<Vec<u8>>())
        .unwrap()
        .to_base32();
    check(
        "battlenet_prefs.xml",
        Format::BattleNet,
        None,
        &[("Battle.net", "US-1234-5678-9012", totp(8, 30), &secret)],
        &[],
    );
    check(
        "battlenet_bma.xml",
        Format::BattleNet,
        None,
        &[("Battle.net", "EU210987654321", totp(8, 30), &secret)],
        &[],
    );
}

#[test]
fn duo_accounts_with_a_push_only_account_reported() {
    check(
        "duo_accounts.json",
        Format::Duo,
        None,
        &[("", "GitHub", TA, A), ("", "Counter", HC, C)],
        &["push"],
    );
}

#[test]
fn steam_mafile_app_files_and_sda_folders() {
    check(
        "steam.maFile",
        Format::Steam,
        None,
        &[("Steam", "gaben", ST, D)],
        &[],
    );
    check(
        "steam_app.json",
        Format::Steam,
        None,
        &[("Steam", "gaben", ST, D)],
        &["shared_secret"],
    );
    let both: &[Want] = &[("Steam", "gaben", ST, D), ("Steam", "robin", ST, A)];
    check(
        "steam_sda_encrypted.zip",
        Format::Steam,
        Some(&password("steam_sda_encrypted.zip")),
        both,
        &[],
    );
    check("steam_sda_plain.zip", Format::Steam, None, both, &[]);
}

#[test]
fn winauth_text_and_zipcrypto_zip() {
    let bnet = twofold_core::Secret::from_bytes((1..=20).collect::<Vec<u8>>())
        .unwrap()
        .to_base32();
    let want: &[Want] = &[
        ("GitHub", "alice", TA, A),
        ("Bank", "", TB, B),
        ("Steam", "gaben", ST, D),
        ("Battle.net", "US-1234", totp(8, 30), &bnet),
        ("Counter", "carol", HC, C),
    ];
    // Plain text is a list of otpauth URIs: detected as such, read with WinAuth's names when
    // asked.
    let text = fixture("winauth.txt");
    assert_eq!(interop::detect(&text), Some(Format::OtpauthList));
    let r = interop::import(&text, Some(Format::WinAuth), None).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let got: Vec<_> = r
        .entries
        .iter()
        .map(|e| (e.issuer.as_str(), e.account.as_str(), e.kind))
        .collect();
    let expected: Vec<_> = want.iter().map(|w| (w.0, w.1, w.2)).collect();
    assert_eq!(got, expected);
    check(
        "winauth.zip",
        Format::WinAuth,
        Some(&password("winauth.zip")),
        want,
        &[],
    );
}

#[test]
fn authenticator_plus_aes_and_zipcrypto() {
    let want: &[Want] = &[
        ("GitHub", "alice", TA, A),
        ("Bank", "bob", TB, B),
        ("Counter", "carol", HC, C),
        ("Steam", "gaben", ST, D),
    ];
    for name in ["authplus_aes.zip", "authplus_zipcrypto.zip"] {
        check(
            name,
            Format::AuthenticatorPlus,
            Some(&password(name)),
            want,
            &[],
        );
    }
}

#[test]
fn google_and_microsoft_databases() {
    check(
        "google_authenticator.db",
        Format::GoogleAuthenticatorDb,
        None,
        &[
            ("GitHub", "alice", TA, A),
            ("", "bob@bank.example", TA, B),
            ("Counter", "carol", HC, C),
        ],
        &["character"],
    );
    let ten = {
        let full = twofold_core::Secret::from_base32(B).unwrap();
        twofold_core::Secret::from_bytes(full.expose()[..10].to_vec())
            .unwrap()
            .to_base32()
    };
    check(
        "microsoft_authenticator.db",
        Format::MicrosoftAuthenticator,
        None,
        &[
            ("GitHub", "alice", TA, A),
            ("Microsoft", "bob@outlook.com", totp(8, 30), &ten),
        ],
        &["push"],
    );
}

const KEEPASS: &[Want] = &[
    ("Legacy", "bob", totp(8, 60), B),
    ("KeeOtp", "kee", TB, B),
    ("KeePass TimeOtp", "tim", TB, B),
    ("KeePass HmacOtp", "carol", HC, C),
    ("SteamXC", "gaben", ST, D),
    ("GitHub", "alice", TA, A),
];

#[test]
fn keepass_kdbx4_kdbx31_and_key_files() {
    let r = check(
        "keepass4.kdbx",
        Format::KeePass,
        Some(&password("keepass4.kdbx")),
        KEEPASS,
        &["character"],
    );
    assert_eq!(r.entries[5].groups, ["Work"]);
    assert!(
        !r.entries.iter().any(|e| e.issuer == "Deleted"),
        "the recycle bin is skipped"
    );
    check(
        "keepass31.kdbx",
        Format::KeePass,
        Some(&password("keepass31.kdbx")),
        &[
            ("GitHub", "alice", TA, A),
            ("Legacy", "bob", totp(8, 60), B),
        ],
        &[],
    );
    let db = fixture("keepass_keyfile.kdbx");
    let key = fixture("keepass.keyx");
    let pw = password("keepass_keyfile.kdbx");
    assert_eq!(
        interop::import(&db, None, Some(&pw)),
        Err(ImportError::WrongPassword),
        "the key file is part of the key"
    );
    let r = interop::import_with_key_file(&db, None, Some(&pw), Some(&key)).unwrap();
    assert_eq!(r.entries.len(), KEEPASS.len());
    assert_eq!(
        interop::import_with_key_file(&db, None, Some(b"wrong"), Some(&key)),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn keepass_headers_asking_too_much_are_refused_before_any_derivation() {
    // KDBX 4: Argon2 memory ("M") set to 1 GiB.
    let mut db = fixture("keepass4.kdbx");
    let needle = b"\x01\x00\x00\x00M\x08\x00\x00\x00";
    let at = db
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("an Argon2 header")
        + needle.len();
    db[at..at + 8].copy_from_slice(&(1u64 << 30).to_le_bytes());
    let t = Instant::now();
    let detail = hostile(
        interop::import(&db, None, Some(b"x")),
        "KDBX4 Argon2 memory",
    );
    assert!(detail.contains("Argon2"), "{detail}");
    assert!(t.elapsed().as_secs() < 2);
    // KDBX 3.1: AES-KDF rounds (field 6) set to 2^62.
    let mut db = fixture("keepass31.kdbx");
    let needle = b"\x06\x08\x00";
    let at = db
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("TransformRounds")
        + needle.len();
    db[at..at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    let t = Instant::now();
    hostile(interop::import(&db, None, Some(b"x")), "KDBX3 rounds");
    assert!(t.elapsed().as_secs() < 2);
}

#[test]
fn password_manager_exports() {
    let r = check(
        "lastpass.json",
        Format::LastPass,
        None,
        &[("GitHub", "alice", TA, A), ("bob@bank", "bob@bank", TB, B)],
        &["character"],
    );
    assert_eq!(r.entries[0].groups, ["Work"]);
    let r = check(
        "raivo.zip",
        Format::Raivo,
        Some(&password("raivo.zip")),
        &[
            ("GitHub", "alice", TA, A),
            ("Bank", "bob", TB, B),
            ("Counter", "carol", HC, C),
        ],
        &["character"],
    );
    assert!(r.entries[0].favorite && !r.entries[1].favorite);
    let r = check(
        "onepassword.1pux",
        Format::OnePassword,
        None,
        &[("GitHub", "alice", TA, A), ("Bank", "bob", TA, B)],
        &[],
    );
    assert_eq!(r.entries[1].groups, ["Personal"]);
    let r = check(
        "protonpass.zip",
        Format::ProtonPass,
        None,
        &[
            ("GitHub", "alice", TA, A),
            ("Bank", "bob@bank.example", TA, B),
            ("Counter", "carol", HC, C),
        ],
        &[],
    );
    assert_eq!(r.entries[0].note, "laptop");
}

#[test]
fn every_new_format_has_a_name_the_cli_accepts() {
    assert!(Format::ALL.len() >= 26);
    for f in Format::ALL {
        assert_eq!(Format::from_name(f.name()), Some(f), "{}", f.name());
    }
}

// --- hostile containers ----------------------------------------------------------------------

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        std::io::Write::write_all(&mut w, data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_bombs_are_refused_without_expanding_them() {
    let deflate = zip::CompressionMethod::Deflated;
    // One entry expanding to 20 MiB (per-entry limit 16 MiB).
    let big = vec![b'0'; 20 << 20];
    let bomb = zip_with(&[("raivo-otp-export.json", &big)], deflate);
    assert!(bomb.len() < 100_000);
    let t = Instant::now();
    let detail = hostile(interop::import(&bomb, None, None), "20 MiB entry");
    assert!(detail.contains("expands"), "{detail}");
    // 1 MiB from a few kilobytes: a ratio no export has.
    let ratio = zip_with(
        &[
            ("export.data", &big[..1 << 20]),
            ("export.attributes", b"{}"),
        ],
        deflate,
    );
    let detail = hostile(interop::import(&ratio, None, None), "ratio");
    assert!(detail.contains('×'), "{detail}");
    // Five thousand entries.
    let names: Vec<String> = (0..5000).map(|i| format!("f{i}.txt")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let detail = hostile(
        interop::import(&zip_with(&many, zip::CompressionMethod::Stored), None, None),
        "entries",
    );
    assert!(detail.contains("5000 entries"), "{detail}");
    assert!(t.elapsed().as_secs() < 10);
    // A header that lies about the size: the read stops at the cap anyway.
    let mut liar = zip_with(&[("Accounts.txt", &big[..4 << 20])], deflate);
    let declared = (4u32 << 20).to_le_bytes();
    let small = 100u32.to_le_bytes();
    let mut i = 0;
    while let Some(p) = liar[i..].windows(4).position(|w| w == declared) {
        liar[i + p..i + p + 4].copy_from_slice(&small);
        i += p + 4;
    }
    assert!(interop::import(&liar, Some(Format::AuthenticatorPlus), None).is_err());
}

#[test]
fn hostile_databases_run_nothing_and_stop_at_the_limits() {
    let t = Instant::now();
    // `accounts` is a view over a query counting to 10^12: it is never run.
    let r = interop::import(
        &fixture("hostile/google_view.db"),
        Some(Format::GoogleAuthenticatorDb),
        None,
    );
    assert!(
        matches!(&r, Err(ImportError::Damaged(m)) if m.contains("no table")),
        "{r:?}"
    );
    assert_eq!(interop::detect(&fixture("hostile/google_view.db")), None);
    // A 2 MB value, beyond the length limit.
    hostile(
        interop::import(&fixture("hostile/microsoft_big_value.db"), None, None),
        "big value",
    );
    // More rows than an import takes.
    assert_eq!(
        interop::import(&fixture("hostile/google_many_rows.db"), None, None),
        Err(ImportError::TooManyEntries)
    );
    // A header claiming 2^32 pages of 64 KiB.
    let mut db = fixture("google_authenticator.db");
    db[16..18].copy_from_slice(&1u16.to_be_bytes());
    db[28..32].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        interop::import(&db, Some(Format::GoogleAuthenticatorDb), None),
        Err(ImportError::TooLarge(_) | ImportError::HostileParameters(_))
    ));
    assert!(t.elapsed().as_secs() < 20);
}

#[test]
fn xml_entities_are_never_expanded() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE map [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<map><string name="com.authy.storage.tokens.authenticator.key">&c;</string></map>"#;
    let detail = hostile(interop::import(laughs.as_bytes(), None, None), "entities");
    assert!(detail.contains("DOCTYPE"), "{detail}");
    let undeclared =
        r#"<map><string name="com.authy.storage.tokens.authenticator.key">&xxe;</string></map>"#;
    assert!(matches!(
        interop::import(undeclared.as_bytes(), None, None),
        Err(ImportError::Damaged(m)) if m.contains("entity")
    ));
}

// --- key derivation ceilings of every password format ------------------------------------------

#[test]
fn every_password_format_refuses_hostile_key_derivation_parameters() {
    let t = Instant::now();
    // Aegis: scrypt asking for 1 GiB.
    let aegis = serde_json::json!({"version": 1, "header": {"slots": [{"type": 1, "uuid": "u", "key": "00",
        "key_params": {"nonce": "000000000000000000000000", "tag": "00000000000000000000000000000000"},
        "n": 1u64 << 20, "r": 8, "p": 1, "salt": "00"}],
        "params": {"nonce": "000000000000000000000000", "tag": "00000000000000000000000000000000"}},
        "db": "AAAA"});
    let detail = hostile(
        interop::import(aegis.to_string().as_bytes(), None, Some(b"x")),
        "Aegis scrypt",
    );
    assert!(detail.contains("scrypt"), "{detail}");
    // Aegis: many password slots — at most four are tried, then the file is refused.
    let slot = serde_json::json!({"type": 1, "uuid": "u", "key": "00".repeat(32),
        "key_params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)},
        "n": 1024, "r": 8, "p": 1, "salt": "00"});
    let aegis = serde_json::json!({"version": 1, "header": {"slots": vec![slot; 1000],
        "params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)}}, "db": "AAAA"});
    let detail = hostile(
        interop::import(aegis.to_string().as_bytes(), None, Some(b"x")),
        "Aegis slots",
    );
    assert!(detail.contains("1000 password slots"), "{detail}");
    // andOTP: 16 million PBKDF2 iterations.
    let mut andotp = 0x00FF_FFFFu32.to_be_bytes().to_vec();
    andotp.extend_from_slice(&[7; 12 + 12 + 32]);
    hostile(
        interop::import(&andotp, Some(Format::AndOtpEncrypted), Some(b"x")),
        "andOTP",
    );
    // Ente: 1 GiB of Argon2 memory, then 256 MiB × 200 passes.
    for (mem, ops) in [(1u64 << 30, 4), (256 << 20, 200)] {
        let ente = serde_json::json!({"version": 1, "kdfParams": {"memLimit": mem, "opsLimit": ops,
            "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}, "encryptedData": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "encryptionNonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
        hostile(
            interop::import(ente.to_string().as_bytes(), None, Some(b"x")),
            "Ente",
        );
    }
    // Bitwarden: 50 million iterations.
    let bw = serde_json::json!({"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 0,
        "kdfIterations": 50_000_000u64, "encKeyValidation_DO_NOT_EDIT": "2.AA==|AA==|AA==", "data": "2.AA==|AA==|AA=="});
    hostile(
        interop::import(bw.to_string().as_bytes(), None, Some(b"x")),
        "Bitwarden",
    );
    // Authy: one token asking for 10 million iterations, and 2000 tokens at 100 000.
    let token = |iterations: u64| {
        serde_json::json!({"encrypted_seed": "AAAAAAAAAAAAAAAAAAAAAA==", "salt": "s",
        "key_derivation_iterations": iterations, "digits": 6, "name": "x"})
    };
    hostile(
        interop::import(
            serde_json::json!([token(10_000_000)])
                .to_string()
                .as_bytes(),
            None,
            Some(b"x"),
        ),
        "Authy iterations",
    );
    let many = serde_json::Value::Array(vec![token(100_000); 2000]);
    let detail = hostile(
        interop::import(many.to_string().as_bytes(), None, Some(b"x")),
        "Authy tokens",
    );
    assert!(detail.contains("2000 encrypted tokens"), "{detail}");
    // Steam Desktop Authenticator: 1000 encrypted files at 50 000 iterations each.
    let entries: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"filename": format!("{i}.maFile"), "encryption_iv": "AAAAAAAAAAAAAAAAAAAAAA==",
            "encryption_salt": "AAAAAAAAAAA="}))
        .collect();
    let manifest = serde_json::json!({"encrypted": true, "entries": entries}).to_string();
    let sda = zip_with(
        &[("maFiles/manifest.json", manifest.as_bytes())],
        zip::CompressionMethod::Stored,
    );
    hostile(interop::import(&sda, None, Some(b"x")), "SDA");
    // Nothing above ran a derivation it refused.
    assert!(t.elapsed().as_secs() < 15, "{:?}", t.elapsed());
}

/// Found by the `import_text` fuzz target: a hex field with a multi-byte character used to
/// split mid-character. Now each is a per-item (or whole-file) error, never a panic.
#[test]
fn hex_fields_with_non_ascii_characters_are_errors_not_panics() {
    let authy = r#"[{"secretSeed": "090ce964d27f35434f34682e6ȝa", "digits": 7, "name": "x"},
                    {"secretSeed": "00112233445566778899aabbccddeeff", "digits": 7, "name": "ok"}]"#;
    let r = interop::import(authy.as_bytes(), None, None).unwrap();
    assert_eq!((r.entries.len(), r.errors.len()), (1, 1));
    let bnet = "<map><string name=\"com.blizzard.bma.AUTH_STORE.HASH\">ȝȝ00</string></map>";
    let r = interop::import(bnet.as_bytes(), None, None).unwrap();
    assert_eq!((r.entries.len(), r.errors.len()), (0, 1));
    let totp = "<map><string name=\"STATIC_TOTP_CODES_LIST\">[{&quot;key&quot;:&quot;aȝ&quot;,&quot;base&quot;:&quot;16&quot;}]</string></map>";
    let r = interop::import(totp.as_bytes(), None, None).unwrap();
    assert_eq!((r.entries.len(), r.errors.len()), (0, 1));
}
