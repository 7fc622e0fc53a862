//! The vault commands end to end, as a script or a new user runs them.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::PathBuf;

use serde_json::Value;

use common::{Solo, stderr};

#[test]
fn init_add_list_codes_edit_trash() {
    let v = Solo::new();
    v.init();
    assert!(v.path("main.vault").exists());
    v.ok(&[
        "add",
        "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
    ]);
    v.ok(&[
        "add",
        "--secret",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--issuer",
        "RFC",
        "--account",
        "vectors",
        "--digits",
        "8",
        "--group",
        "Work",
    ]);
    v.ok(&[
        "add",
        "--secret",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "--issuer",
        "Counter",
        "--hotp",
        "0",
    ]);

    let list = v.json(&["list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "issuer",
            "account",
            "note",
            "groups",
            "favorite",
            "algorithm",
            "digits",
            "period",
            "counter",
            "created_at",
            "updated_at",
            "last_used_at",
            "use_count",
            "deleted_at"
        ]
    );
    assert_eq!(list[1]["groups"][0], "Work");
    assert!(
        !serde_json::to_string(&list).unwrap().contains("JBSWY3DP"),
        "list never shows secrets"
    );

    let codes = v.json(&["codes", "--json", "--at", "59"]);
    let rfc = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["issuer"] == "RFC")
        .unwrap();
    assert_eq!(rfc["code"], "94287082");
    assert_eq!(rfc["remaining_ms"], 1000);
    assert_eq!(rfc["period"], 30);
    let hotp = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["issuer"] == "Counter")
        .unwrap();
    assert_eq!(hotp["code"], Value::Null);
    let text = v.ok(&["codes", "--at", "1700000000", "github"]);
    assert!(text.contains("324 550"), "{text}");
    assert!(!text.contains("RFC"));

    assert_eq!(v.ok(&["hotp", "next", "Counter"]).trim(), "755224");
    assert_eq!(v.ok(&["hotp", "next", "counter"]).trim(), "287082");

    v.ok(&["edit", "github", "--note", "work laptop", "--favorite"]);
    let found = v.json(&["list", "--json", "laptop"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["favorite"], true);
    // `codes` lists as the apps do (one rule, vault::codes): favourites first, then the
    // vault's order; `list` keeps the vault's order.
    let issuers = |j: Value| -> Vec<String> {
        j.as_array()
            .unwrap()
            .iter()
            .map(|c| c["issuer"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    v.ok(&["edit", "Counter", "--favorite"]);
    let listed = issuers(v.json(&["list", "--json"]));
    assert_eq!(listed, ["GitHub", "RFC", "Counter"]);
    let coded = issuers(v.json(&["codes", "--json", "--at", "59"]));
    assert_eq!(coded, ["GitHub", "Counter", "RFC"]);
    v.ok(&["edit", "Counter", "--no-favorite"]);

    let dup = v.run(&["add", "otpauth://totp/Again?secret=JBSWY3DPEHPK3PXP"]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(stderr(&dup).contains("already in the vault"));

    v.ok(&["rm", "RFC"]);
    assert_eq!(v.json(&["list", "--json"]).as_array().unwrap().len(), 2);
    assert_eq!(v.json(&["trash", "--json"]).as_array().unwrap().len(), 1);
    v.ok(&["restore", "rfc"]);
    v.ok(&["rm", "RFC"]);
    v.ok(&["purge", "--all"]);
    assert!(v.json(&["trash", "--json"]).as_array().unwrap().is_empty());
}

#[test]
fn credentials_are_never_guessed_or_echoed() {
    let v = Solo::new();
    v.init();
    std::fs::write(v.path("wrong"), "nope\n").unwrap();
    let o = v.run_with(&["list"], Some(&v.path("wrong")));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("wrong password"), "{}", stderr(&o));
    // No terminal and no password file: a clear error, not a hang.
    let o = v.run_with(&["list"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--password-file"), "{}", stderr(&o));
    let o = common::twofold_cmd()
        .args(["--vault", v.path("missing").to_str().unwrap(), "list"])
        .env("TWOFOLD_PASSWORD_FILE", v.path("main.pw"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("twofold init"));
}

#[test]
fn passwd_and_recovery_unlock() {
    let v = Solo::new();
    let recovery = v.init();
    v.ok(&["add", "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP"]);
    std::fs::write(v.path("new"), "a much better passphrase\n").unwrap();
    v.ok(&[
        "passwd",
        "--new-password-file",
        v.path("new").to_str().unwrap(),
    ]);
    assert_eq!(
        v.run(&["list"]).status.code(),
        Some(2),
        "old password no longer works"
    );
    assert!(v.run_with(&["list"], Some(&v.path("new"))).status.success());

    // Forgot it: the recovery key sets a new one.
    std::fs::write(v.path("rk"), format!("{}\n", recovery.to_lowercase())).unwrap();
    std::fs::write(v.path("third"), "third passphrase\n").unwrap();
    let o = v.run_with(
        &[
            "recovery",
            "unlock",
            "--recovery-key-file",
            v.path("rk").to_str().unwrap(),
            "--new-password-file",
            v.path("third").to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = v.run_with(&["list", "--json"], Some(&v.path("third")));
    assert!(o.status.success());
    let typo = recovery.replacen(
        &recovery[..1],
        if &recovery[..1] == "A" { "B" } else { "A" },
        1,
    );
    std::fs::write(v.path("rk2"), typo).unwrap();
    let o = v.run_with(
        &[
            "recovery",
            "unlock",
            "--recovery-key-file",
            v.path("rk2").to_str().unwrap(),
            "--new-password-file",
            v.path("third").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("typo"), "{}", stderr(&o));
}

#[test]
fn backup_create_verify_break_restore() {
    let v = Solo::new();
    let recovery = v.init();
    v.ok(&["add", "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP"]);
    v.ok(&["add", "otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQ"]);
    let file = v.path("backup.twfb");
    let created = v.json(&[
        "backup",
        "create",
        "--out",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(created["verified"], true);
    assert_eq!(created["entry_count"], 2);
    assert_eq!(created["kdf"]["m_kib"], 262144);

    let verified = v.json(&["backup", "verify", file.to_str().unwrap(), "--json"]);
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["entry_count"], 2);
    assert!(verified["diff"]["missing"].as_array().unwrap().is_empty());

    // The recovery key opens it too.
    std::fs::write(v.path("rk"), &recovery).unwrap();
    let by_key = v.json(&[
        "backup",
        "verify",
        file.to_str().unwrap(),
        "--recovery-key-file",
        v.path("rk").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(by_key["entry_count"], 2);

    // A broken copy is refused, loudly.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0x01;
    std::fs::write(v.path("broken.twfb"), &bytes).unwrap();
    let o = v.run(&["backup", "verify", v.path("broken.twfb").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does NOT verify"), "{}", stderr(&o));

    // Changes show in the diff; restore brings a deleted entry back.
    v.ok(&["rm", "bank"]);
    v.ok(&["purge", "--all"]);
    let diff = v.json(&["backup", "verify", file.to_str().unwrap(), "--json"]);
    assert_eq!(diff["diff"]["extra"][0]["issuer"], "Bank");
    let out = v.ok(&["backup", "restore", file.to_str().unwrap(), "--merge"]);
    assert!(out.contains("1 added"), "{out}");
    assert_eq!(v.json(&["list", "--json"]).as_array().unwrap().len(), 2);

    // Separate backup password.
    std::fs::write(v.path("bpw"), "backup only\n").unwrap();
    let other = v.path("other.twfb");
    v.ok(&[
        "backup",
        "create",
        "--out",
        other.to_str().unwrap(),
        "--backup-password-file",
        v.path("bpw").to_str().unwrap(),
    ]);
    assert_eq!(
        v.run(&["backup", "verify", other.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    v.ok(&[
        "backup",
        "verify",
        other.to_str().unwrap(),
        "--backup-password-file",
        v.path("bpw").to_str().unwrap(),
    ]);
}

fn fixture(name: &str) -> PathBuf {
    common::core_fixture(&format!("v1/{name}"))
}

#[test]
fn a_vault_from_twofold_0_1_is_upgraded_once_the_user_accepts_it() {
    let v = Solo::new();
    std::fs::copy(fixture("vault.twofold"), v.path("main.vault")).unwrap();
    std::fs::write(v.path("main.pw"), "v1 fixture password\n").unwrap();
    // Not opened silently: one line says why and what to do; nothing is changed.
    let o = v.run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("format 1") && err.contains("twofold trust accept"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(v.path("main.vault")).unwrap(),
        std::fs::read(fixture("vault.twofold")).unwrap()
    );
    let o = v.run(&["trust", "accept"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("upgraded the vault from format 1"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("recovery confirm"), "{}", stderr(&o));
    let list = v.json(&["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let codes = v.json(&["codes", "--json", "--at", "1700000000"]);
    let github = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["issuer"] == "GitHub")
        .unwrap();
    // JBSWY3DPEHPK3PXP at 1700000000 + 3 s (the vault's clock offset): the same step.
    assert_eq!(github["code"], "324550");
    // The recovery key confirms against the upgraded vault.
    std::fs::write(v.path("rk"), "ZPIU-EG6Q-O62B-YQGD-G7FD-TFVK-XYO2\n").unwrap();
    let o = v.run(&[
        "recovery",
        "confirm",
        "--recovery-key-file",
        v.path("rk").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let status = v.ok(&["trust", "status"]);
    assert!(status.contains("generation:"), "{status}");
}

#[test]
fn a_vault_file_put_back_or_forged_is_refused_in_one_line() {
    let v = Solo::new();
    v.init();
    v.ok(&[
        "add",
        "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=5",
    ]);
    let old = std::fs::read(v.path("main.vault")).unwrap();
    let at = |n: &str| {
        v.ok(&[
            "code",
            "--secret",
            "GEZDGNBVGY3TQOJQ",
            "--hotp",
            "--counter",
            n,
        ])
        .trim()
        .to_owned()
    };
    assert_eq!(v.ok(&["hotp", "next", "bank"]).trim(), at("5"));
    v.ok(&["add", "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP"]);
    std::fs::write(v.path("main.vault"), &old).unwrap();
    let o = v.run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(
        stderr(&o).contains("older than the one this device last opened"),
        "{}",
        stderr(&o)
    );
    // Accepted on purpose: the counter does not go back, so the code shown is not shown again.
    v.ok(&["trust", "accept"]);
    assert_eq!(v.ok(&["hotp", "next", "bank"]).trim(), at("6"));

    // A file of someone else's vault put in its place is foreign to this device.
    let other = Solo::new();
    other.init();
    std::fs::copy(other.path("main.vault"), v.path("main.vault")).unwrap();
    std::fs::copy(other.path("main.pw"), v.path("main.pw")).unwrap();
    let o = v.run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("forged"), "{}", stderr(&o));
}

#[test]
fn an_unauthenticated_backup_restores_only_with_accept_unverified() {
    let v = Solo::new();
    v.init();
    std::fs::write(v.path("bpw"), "v1 backup password\n").unwrap();
    let backup = fixture("backup.twfb");
    let verified = v.json(&[
        "backup",
        "verify",
        backup.to_str().unwrap(),
        "--backup-password-file",
        v.path("bpw").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(verified["authenticated"], false);
    assert_eq!(verified["format_version"], 1);
    let bpw = v.path("bpw");
    let args = [
        "backup",
        "restore",
        backup.to_str().unwrap(),
        "--merge",
        "--backup-password-file",
        bpw.to_str().unwrap(),
    ];
    let o = v.run(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--accept-unverified"), "{}", stderr(&o));
    assert!(v.json(&["list", "--json"]).as_array().unwrap().is_empty());
    let mut accepted = args.to_vec();
    accepted.push("--accept-unverified");
    let out = v.ok(&accepted);
    assert!(out.contains("3 added"), "{out}");
}
