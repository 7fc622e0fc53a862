//! The issue-18 review at the command line: a backup planted in the backup folder (every
//! slot is only a public key, so anyone who can write there can make a file the user's
//! recovery key opens) is drilled but never recorded, and the exit status says so.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::Solo;
use twofold_core::crypto::{SigningKey, SystemRandom, random_key};
use twofold_core::vault::container::{self, BACKUP_MAGIC};

const GITHUB: &str =
    "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";

/// MessagePack of a backup body holding no account, claiming to be made at `created_at`
/// (`docs/backup-format.md`: `{content, created_at}`).
fn empty_body(created_at: i64) -> Vec<u8> {
    let mut b = vec![0x82, 0xa7];
    b.extend_from_slice(b"content");
    b.extend_from_slice(&[0x84, 0xa7]);
    b.extend_from_slice(b"version");
    b.extend_from_slice(&[0x01, 0xa7]);
    b.extend_from_slice(b"entries");
    b.extend_from_slice(&[0x90, 0xa6]);
    b.extend_from_slice(b"groups");
    b.extend_from_slice(&[0x90, 0xa8]);
    b.extend_from_slice(b"settings");
    b.extend_from_slice(&[0x82, 0xae]);
    b.extend_from_slice(b"clock_offset_s");
    b.extend_from_slice(&[0x00, 0xb4]);
    b.extend_from_slice(b"trash_retention_days");
    b.extend_from_slice(&[0x1e, 0xaa]);
    b.extend_from_slice(b"created_at");
    b.push(0xd3);
    b.extend_from_slice(&created_at.to_be_bytes());
    b
}

/// The genuine backup's header with every slot wrapping the planter's own key, no
/// endorsements, signed by the planter.
fn planted(genuine: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let mut header = container::parse(genuine, BACKUP_MAGIC).unwrap().header;
    let mk = random_key(&rng).unwrap();
    let planter = SigningKey::generate(&rng).unwrap();
    let vault_id = header.vault_id;
    for slot in &mut header.slots {
        container::wrap_master_key(BACKUP_MAGIC, &vault_id, slot, &mk, &rng).unwrap();
        slot.endorsement = None;
    }
    header.succession = None;
    header.signers = vec![planter.public()];
    container::seal_file(
        BACKUP_MAGIC,
        &header,
        &mk,
        &empty_body(4_102_444_800_000),
        &[&planter],
        &rng,
    )
    .unwrap()
}

#[test]
fn a_planted_backup_opens_in_a_drill_but_is_not_recorded_and_the_status_says_so() {
    let v = Solo::new();
    let recovery = v.init();
    v.ok(&["add", GITHUB]);
    let real = v.path("real.twfb");
    v.ok(&["backup", "create", "--out", real.to_str().unwrap()]);
    let fake = v.path("twofold-20991231-235959.twfb");
    std::fs::write(&fake, planted(&std::fs::read(&real).unwrap())).unwrap();
    std::fs::write(v.path("rk"), &recovery).unwrap();
    let vault = v.path("main.vault");
    let before = std::fs::read(&vault).unwrap();
    let rk = v.path("rk");

    let args = [
        "backup",
        "drill",
        fake.to_str().unwrap(),
        "--recovery-key-file",
        rk.to_str().unwrap(),
    ];
    let o = v.run(&args);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(err.contains("NOT recorded"), "{err}");
    assert!(!out.contains("Recorded in the vault"), "{out}");
    assert!(
        out.contains("0 accounts"),
        "what it found is reported: {out}"
    );
    let mut json = args.to_vec();
    json.push("--json");
    let o = v.run(&json);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (r["ok"].clone(), r["recorded"].clone()),
        (false.into(), false.into())
    );
    assert_eq!(
        std::fs::read(&vault).unwrap(),
        before,
        "the vault is untouched"
    );
    let c = v.json(&["checkup", "--json"]);
    let kinds: Vec<&str> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"drill-none"), "{kinds:?}");

    // The real backup drills and is recorded.
    let o = v.run(&[
        "backup",
        "drill",
        real.to_str().unwrap(),
        "--recovery-key-file",
        rk.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Recorded in the vault"));
}
