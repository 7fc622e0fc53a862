//! `twofold transfer` (OTPX/2) between two vaults on one machine: frames with 30 % dropped and
//! the reply step, the LAN with its questions, expired invites, OTPX/1 data, and the private
//! files every secret-bearing output goes through (0600, replaced not rewritten, symlinks not
//! followed).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::PathBuf;
use std::process::Stdio;

#[cfg(unix)]
use common::mode;
use common::{Lab, code_in, line_in};

#[test]
fn two_vault_transfer_with_30_percent_of_frames_dropped() {
    let t = Lab::new(&["old", "new"]);
    for i in 0..25 {
        let secret: String = (0..32)
            .map(|j| (b'A' + ((i * 7 + j * 3) % 26) as u8) as char)
            .collect();
        t.ok(
            "old",
            &[
                "add",
                "--secret",
                &secret,
                "--issuer",
                &format!("Service {i}"),
                "--account",
                "me",
            ],
        );
    }
    t.ok(
        "old",
        &[
            "add",
            "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=9",
        ],
    );
    let session = t.p("session.bin");
    let png = t.p("invite.png");
    let invite = t.ok(
        "new",
        &[
            "transfer",
            "invite",
            "--session",
            session.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
        ],
    );
    assert!(invite.lines().last().unwrap().starts_with("OTPX2I"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    #[cfg(unix)]
    assert_eq!(mode(&png), 0o600, "the invite PNG holds the PSK");
    let frames = t.p("frames");
    let sender_state = t.p("sender.bin");
    let sent = t.ok(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            png.to_str().unwrap(),
            "--session",
            sender_state.to_str().unwrap(),
            "--frames-dir",
            frames.to_str().unwrap(),
            "--count",
            "40",
        ],
    );
    assert!(
        !sent.contains("Confirmation code"),
        "the sender shows no code before the reply: {sent}"
    );
    #[cfg(unix)]
    for f in [
        sender_state.clone(),
        frames.join("frames.txt"),
        frames.join("frame-0000.png"),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    // Drop every third and a few more: 30 % of the 40 images.
    for n in (0..40).filter(|n| n % 3 == 0 || *n == 7).take(12) {
        std::fs::remove_file(frames.join(format!("frame-{n:04}.png"))).unwrap();
    }
    let preview = t.ok(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            session.to_str().unwrap(),
            "--frames",
            frames.to_str().unwrap(),
        ],
    );
    let code = code_in(&preview);
    assert!(preview.contains("26 accounts:"), "{preview}");
    assert!(preview.contains("Nothing added yet"));
    assert!(line_in(&preview, "Reply: ").starts_with("OTPX2R"));
    let reply_png = PathBuf::from(line_in(&preview, "Reply QR code: "));
    #[cfg(unix)]
    assert_eq!(mode(&reply_png), 0o600);
    assert!(
        t.ok("new", &["list", "--json"]).trim() == "[]",
        "nothing imported before --accept"
    );
    // The old device reads the reply (from its picture) and only now shows its code.
    let confirmed = t.ok(
        "old",
        &[
            "transfer",
            "send",
            "--session",
            sender_state.to_str().unwrap(),
            "--reply",
            reply_png.to_str().unwrap(),
        ],
    );
    assert_eq!(code_in(&confirmed), code, "both screens show the same code");
    // --accept asks whether the codes match; without a terminal a script must say so.
    let o = t.run(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            session.to_str().unwrap(),
            "--accept",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--codes-match"));
    assert!(t.ok("new", &["list", "--json"]).trim() == "[]");
    let done = t.ok(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            session.to_str().unwrap(),
            "--accept",
            "--codes-match",
        ],
    );
    assert!(done.contains("Added 26 accounts."), "{done}");
    let codes_old = t.ok("old", &["codes", "--json", "--at", "1700000000"]);
    let codes_new = t.ok("new", &["codes", "--json", "--at", "1700000000"]);
    let strip = |s: &str| -> Vec<serde_json::Value> {
        serde_json::from_str::<Vec<serde_json::Value>>(s)
            .unwrap()
            .into_iter()
            .map(|mut v| {
                v.as_object_mut().unwrap().remove("id");
                v
            })
            .collect()
    };
    assert_eq!(
        strip(&codes_old),
        strip(&codes_new),
        "the new vault produces the same codes"
    );
    assert!(
        !session.exists(),
        "the session file is removed after the import"
    );
}

#[test]
fn lan_transfer_between_two_processes() {
    let t = Lab::new(&["old", "new"]);
    t.ok(
        "old",
        &[
            "add",
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let session = t.p("s.bin");
    let invite = t.ok(
        "new",
        &[
            "transfer",
            "invite",
            "--session",
            session.to_str().unwrap(),
            "--lan",
            &addr,
        ],
    );
    let invite_text = invite.lines().last().unwrap().to_owned();
    // The sender shows the destination and asks; a script must name it, and a wrong one is
    // refused before anything is sent.
    let o = t.run(
        "old",
        &["transfer", "send", "--invite", &invite_text, "--lan"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--to"), "{o:?}");
    let o = t.run(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            &invite_text,
            "--lan",
            "--to",
            "127.0.0.1:1",
            "--codes-match",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("names {addr}")));
    let receiver = t
        .cmd(
            "new",
            &[
                "transfer",
                "receive",
                "--session",
                session.to_str().unwrap(),
                "--lan",
                "--timeout",
                "20",
                "--accept",
                "--codes-match",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sent = None;
    for _ in 0..50 {
        let o = t.run(
            "old",
            &[
                "transfer",
                "send",
                "--invite",
                &invite_text,
                "--lan",
                "--to",
                &addr,
                "--codes-match",
                "--timeout",
                "20",
            ],
        );
        if o.status.success() {
            sent = Some(String::from_utf8(o.stdout).unwrap());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let sent = sent.expect("the sender reached the receiver");
    let received = receiver.wait_with_output().unwrap();
    let received_text = String::from_utf8_lossy(&received.stdout);
    assert!(
        received.status.success(),
        "{}",
        String::from_utf8_lossy(&received.stderr)
    );
    assert_eq!(code_in(&received_text), code_in(&sent));
    assert!(sent.contains("the new device accepted"), "{sent}");
    assert!(
        received_text.contains("Added 1 account."),
        "{received_text}"
    );
}

#[test]
fn expired_invites_and_foreign_frames_are_refused() {
    let t = Lab::new(&["old", "new"]);
    t.ok(
        "old",
        &["add", "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP"],
    );
    let session = t.p("s.bin");
    let invite = t.ok(
        "new",
        &[
            "transfer",
            "invite",
            "--session",
            session.to_str().unwrap(),
            "--ttl",
            "1",
        ],
    );
    let text = invite.lines().last().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let o = t.run(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            &text,
            "--session",
            t.p("x.bin").to_str().unwrap(),
            "--frames-dir",
            t.p("f").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expired"));
    // Frames from another session.
    let other = t.p("other.bin");
    let invite2 = t.ok(
        "new",
        &["transfer", "invite", "--session", other.to_str().unwrap()],
    );
    t.ok(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            invite2.lines().last().unwrap(),
            "--session",
            t.p("y.bin").to_str().unwrap(),
            "--frames-dir",
            t.p("f2").to_str().unwrap(),
            "--count",
            "5",
        ],
    );
    let s3 = t.p("third.bin");
    t.ok(
        "new",
        &["transfer", "invite", "--session", s3.to_str().unwrap()],
    );
    let o = t.run(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            s3.to_str().unwrap(),
            "--frames",
            t.p("f2/frames.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another transfer session"), "{err}");
}

#[test]
fn otpx1_invites_and_frames_are_refused_with_update_the_other_device() {
    let t = Lab::new(&["old", "new"]);
    t.ok(
        "old",
        &["add", "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP"],
    );
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/otpx1");
    let invite = std::fs::read_to_string(format!("{fixtures}/invite.txt")).unwrap();
    let o = t.run(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            invite.trim(),
            "--session",
            t.p("s.bin").to_str().unwrap(),
            "--frames-dir",
            t.p("f").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("update Twofold on the other device"), "{err}");
    let session = t.p("new.bin");
    t.ok(
        "new",
        &["transfer", "invite", "--session", session.to_str().unwrap()],
    );
    let o = t.run(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            session.to_str().unwrap(),
            "--frames",
            &format!("{fixtures}/frames.txt"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("update Twofold on the other device"), "{err}");
}

/// Every output that can hold a secret goes through one writer: a pre-existing world-readable
/// target ends up 0600 with the new content, and a symlink at the target is replaced, not
/// followed (the file it pointed to is untouched).
#[cfg(unix)]
#[test]
fn secret_outputs_replace_0644_targets_and_never_follow_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let t = Lab::new(&["old", "new"]);
    t.ok(
        "old",
        &["add", "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP"],
    );
    let export = t.p("export.txt");
    std::fs::write(&export, "old content").unwrap();
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o644)).unwrap();
    t.ok(
        "old",
        &[
            "export",
            "--format",
            "otpauth",
            "--out",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(mode(&export), 0o600);
    assert!(
        std::fs::read_to_string(&export)
            .unwrap()
            .contains("JBSWY3DPEHPK3PXP")
    );

    let victim = t.p("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    for (i, args) in [
        vec!["export", "--format", "aegis", "--out"],
        vec!["transfer", "invite", "--session", "{other}", "--png"],
        vec!["transfer", "invite", "--png", "{other}", "--session"],
    ]
    .into_iter()
    .enumerate()
    {
        let link = t.p(&format!("link{i}"));
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let other = t.p(&format!("other{i}"));
        let mut argv: Vec<String> = args
            .iter()
            .map(|a| a.replace("{other}", other.to_str().unwrap()))
            .collect();
        argv.push(link.to_str().unwrap().to_owned());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        t.ok(if i == 0 { "old" } else { "new" }, &argv);
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "untouched",
            "{argv:?}"
        );
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(mode(&link), 0o600, "{argv:?}");
    }
}
