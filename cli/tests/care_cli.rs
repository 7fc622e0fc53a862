//! Never locked out, end to end: recovery codes, restore drills, the checkup, the exposure
//! ledger and rotation, as a user runs them — and every bad input refused with nothing
//! changed.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use serde_json::Value;

use common::Solo;

const GITHUB: &str =
    "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";
const BANK: &str = "otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bank";
const NEW_GITHUB: &str =
    "otpauth://totp/GitHub:alice?secret=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU&issuer=GitHub";

/// The steps these tests repeat, on the shared single-vault lab.
trait CareLab {
    fn p(&self, name: &str) -> String;
    fn refused(&self, args: &[&str], needle: &str);
    fn vault_bytes(&self) -> Vec<u8>;
    fn findings(&self) -> Vec<String>;
}

impl CareLab for Solo {
    fn p(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// Exit status 2 (the user's input), with `needle` in the message.
    fn refused(&self, args: &[&str], needle: &str) {
        let o = self.run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    fn vault_bytes(&self) -> Vec<u8> {
        std::fs::read(self.path("main.vault")).unwrap()
    }

    fn findings(&self) -> Vec<String> {
        self.json(&["checkup", "--json"])["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn recovery_codes_add_list_use_and_refuse_bad_input() {
    let v = Solo::new();
    v.init();
    v.ok(&["add", GITHUB]);
    let out = v.ok(&[
        "recovery-codes",
        "github",
        "--add",
        "aaaa-1111",
        "bbbb-2222",
    ]);
    assert!(out.contains("Added 2"), "{out}");
    std::fs::write(
        v.path("codes.txt"),
        "cccc-3333\n\n  dddd-4444 \nAAAA 1111\n",
    )
    .unwrap();
    let out = v.ok(&["recovery-codes", "github", "--from-file", &v.p("codes.txt")]);
    assert!(out.contains("Added 2") && out.contains("4 stored"), "{out}");
    v.ok(&["recovery-codes", "github", "--use", "BBBB 2222"]);
    let list = v.json(&["recovery-codes", "github", "--list", "--json"]);
    let codes = list["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 4);
    // Unused first; the used one last, with its date.
    assert_eq!(codes[3]["code"], "bbbb-2222");
    assert_eq!(codes[3]["used"], true);
    assert!(codes[3]["used_at"].as_i64().unwrap() > 0);
    assert!(codes[..3].iter().all(|c| c["used"] == false));

    // Never in list output.
    let listed = v.ok(&["list", "--json"]);
    assert!(
        !listed.contains("aaaa-1111") && !listed.contains("cccc"),
        "{listed}"
    );

    // Bad input: a typed error, exit 2, and the vault file is untouched.
    let before = v.vault_bytes();
    v.refused(
        &["recovery-codes", "github", "--add", "  "],
        "must not be empty",
    );
    v.refused(
        &["recovery-codes", "github", "--add", &"x".repeat(129)],
        "at most 128",
    );
    v.refused(
        &[
            "recovery-codes",
            "github",
            "--add",
            "ok-1234",
            "bad\u{7}code",
        ],
        "control characters",
    );
    let many: Vec<String> = (0..61).map(|i| format!("code-{i:04}")).collect();
    let mut args = vec!["recovery-codes", "github", "--add"];
    args.extend(many.iter().map(String::as_str));
    v.refused(&args, "at most 64");
    v.refused(
        &["recovery-codes", "github", "--use", "zzzz-9999"],
        "no such recovery code",
    );
    v.refused(&["recovery-codes", "nosuch", "--list"], "no entry matches");
    assert_eq!(v.vault_bytes(), before, "a refused step changed the vault");
    assert_eq!(
        v.json(&["recovery-codes", "github", "--list", "--json"])["codes"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Another app's format has no place for them: the export says so.
    let out = v.ok(&["export", "--format", "aegis", "--out", &v.p("aegis.json")]);
    assert!(
        out.contains("recovery codes left out") && out.contains("GitHub"),
        "{out}"
    );
    // Twofold's own backup keeps them.
    v.ok(&["backup", "create", "--out", &v.p("b.twfb")]);
    v.ok(&["rm", "github"]);
    v.ok(&["purge", "--all"]);
    v.ok(&["backup", "restore", &v.p("b.twfb"), "--merge"]);
    let back = v.json(&["recovery-codes", "github", "--list", "--json"]);
    assert_eq!(back["codes"].as_array().unwrap().len(), 4);
}

#[test]
fn a_drill_opens_the_newest_backup_and_records_what_it_found() {
    let v = Solo::new();
    let recovery = v.init();
    v.ok(&["add", GITHUB]);
    // No backup yet: a clear failure.
    let o = v.run(&["backup", "drill", "--backup-password-file", &v.p("main.pw")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no backup in"));

    v.ok(&["backup", "create"]);
    let found = v.findings();
    assert!(found.contains(&"drill-none".to_owned()), "{found:?}");
    assert!(!found.contains(&"backup-none".to_owned()), "{found:?}");

    // Without a terminal and without the test-only file, it refuses to guess.
    let o = v.run(&["backup", "drill"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("typed from memory"));

    // The wrong password: a failed drill, nothing recorded, the vault untouched.
    std::fs::write(v.path("wrong"), "not it\n").unwrap();
    let before = v.vault_bytes();
    v.refused(
        &["backup", "drill", "--backup-password-file", &v.p("wrong")],
        "drill FAILED",
    );
    assert_eq!(v.vault_bytes(), before);

    let r = v.json(&[
        "backup",
        "drill",
        "--backup-password-file",
        &v.p("main.pw"),
        "--json",
    ]);
    assert_eq!(r["ok"], true);
    assert_eq!(r["credential"], "password");
    assert_eq!(r["complete"], true);
    assert_eq!(r["entries"], 1);
    let c = v.json(&["checkup", "--json"]);
    assert_eq!(c["last_drill"]["credential"], "password");
    assert_eq!(c["drill_due"], false);
    assert_eq!(c["changed_since_backup"], 0);
    assert!(
        c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "drill-none")
    );
    assert!(
        v.findings()
            .contains(&"recovery-key-unconfirmed".to_owned())
    );

    // An account added since: the drill says the backup is behind, the checkup too.
    v.ok(&["add", BANK]);
    std::fs::write(v.path("rk"), &recovery).unwrap();
    let r = v.json(&[
        "backup",
        "drill",
        "--recovery-key-file",
        &v.p("rk"),
        "--json",
    ]);
    assert_eq!(r["credential"], "recovery key");
    assert_eq!(r["complete"], false);
    assert_eq!(r["missing"], 1);
    let found = v.findings();
    assert!(found.contains(&"backup-stale".to_owned()), "{found:?}");
    assert_eq!(v.json(&["checkup", "--json"])["changed_since_backup"], 1);
    // Typing the recovery key in a drill confirms it.
    assert!(
        !found.contains(&"recovery-key-unconfirmed".to_owned()),
        "{found:?}"
    );
}

#[test]
fn the_checkup_lists_findings_with_fixes_and_keeps_its_settings() {
    let v = Solo::new();
    v.init();
    // 80 bits and 64 bits; two different accounts with the same name.
    v.ok(&[
        "add",
        "otpauth://totp/Shop:carol?secret=GEZDGNBVGY3TQOJQ&issuer=Shop",
    ]);
    v.ok(&[
        "add",
        "otpauth://totp/Old:dave?secret=MFRGGZDFMZTWQ&issuer=Old",
    ]);
    v.ok(&["add", GITHUB]);
    v.ok(&[
        "add",
        "otpauth://totp/GitHub:alice?secret=MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK&issuer=GitHub",
    ]);
    let c = v.json(&["checkup", "--json"]);
    let findings = c["findings"].as_array().unwrap();
    for f in findings {
        for key in ["id", "kind", "severity", "message", "fix"] {
            assert!(f[key].as_str().is_some_and(|s| !s.is_empty()), "{f}");
        }
    }
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for k in [
        "backup-none",
        "drill-none",
        "recovery-key-unconfirmed",
        "single-unlock-method",
        "weak-secret",
        "duplicate-name",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // Most severe first.
    assert_eq!(findings[0]["severity"], "critical");
    let weak: Vec<&Value> = findings
        .iter()
        .filter(|f| f["kind"] == "weak-secret")
        .collect();
    assert_eq!(weak.len(), 2);
    assert!(weak.iter().any(|f| f["severity"] == "critical"));
    assert!(weak.iter().any(|f| f["severity"] == "warning"));
    assert!(!kinds.contains(&"no-recovery-codes"));

    // Important issuers need recovery codes.
    v.ok(&["checkup", "--important", "github", "--backup-days", "7"]);
    let c = v.json(&["checkup", "--json"]);
    assert_eq!(c["settings"]["backup_max_age_days"], 7);
    assert_eq!(c["settings"]["important_issuers"][0], "github");
    let missing = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "no-recovery-codes")
        .count();
    assert_eq!(missing, 2);
    let first_github = v
        .json(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["issuer"] == "GitHub")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    v.ok(&["recovery-codes", &first_github, "--add", "1234-5678"]);
    let missing = v
        .findings()
        .iter()
        .filter(|k| *k == "no-recovery-codes")
        .count();
    assert_eq!(missing, 1);
    // A setting out of range is refused and nothing changes.
    let before = v.vault_bytes();
    v.refused(&["checkup", "--drill-days", "0"], "1 to 3650");
    assert_eq!(v.vault_bytes(), before);
}

#[test]
fn exports_and_inspections_are_ledgered_until_the_secret_is_rotated() {
    let v = Solo::new();
    v.init();
    v.ok(&["add", GITHUB]);
    v.ok(&["add", BANK]);
    assert_eq!(
        v.json(&["exposure", "--json"])["exposures"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // An encrypted export is not an exposure; a plain one is, for every account in it.
    std::fs::write(v.path("fpw"), "file password\n").unwrap();
    v.ok(&[
        "export",
        "--format",
        "aegis-encrypted",
        "--out",
        &v.p("enc.json"),
        "--file-password-file",
        &v.p("fpw"),
    ]);
    assert_eq!(
        v.json(&["exposure", "--json"])["exposures"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    v.ok(&["export", "--format", "otpauth", "--out", &v.p("list.txt")]);
    let out = v.ok(&["uri", "inspect", "--entry", "github"]);
    assert!(out.contains("secret:"), "{out}");
    let x = v.json(&["exposure", "--json"]);
    let list = x["exposures"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{x}");
    assert!(
        list.iter()
            .any(|e| e["way"] == "uri-shown" && e["name"] == "GitHub (alice)")
    );
    assert_eq!(
        list.iter().filter(|e| e["way"] == "otpauth-export").count(),
        2
    );
    let exposed = v.findings().iter().filter(|k| *k == "exposed").count();
    assert_eq!(exposed, 2);

    // Rotation: a code the new secret does not give now is refused, nothing changes.
    let before = v.vault_bytes();
    v.refused(
        &["rotate", "github", "--uri", NEW_GITHUB, "--code", "000000"],
        "not what the new secret gives",
    );
    v.refused(
        &["rotate", "github", "--uri", GITHUB, "--code", "000000"],
        "same as the old one",
    );
    v.refused(
        &["rotate", "nosuch", "--uri", NEW_GITHUB, "--code", "000000"],
        "no entry matches",
    );
    assert_eq!(v.vault_bytes(), before);

    // The code the service accepted (what `twofold code` gives for the new URI now).
    let code = v.ok(&["code", NEW_GITHUB]);
    let code: String = code
        .lines()
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let out = v.ok(&["rotate", "github", "--uri", NEW_GITHUB, "--code", &code]);
    assert!(out.contains("exposures are cleared"), "{out}");
    let x = v.json(&["exposure", "--json"]);
    assert!(
        x["exposures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] == "Bank (bob)"),
        "{x}"
    );
    let exposed = v.findings().iter().filter(|k| *k == "exposed").count();
    assert_eq!(exposed, 1);
    let trash = v.ok(&["trash"]);
    assert!(trash.contains("GitHub"), "{trash}");
    let list = v.json(&["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
}
