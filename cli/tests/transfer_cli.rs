//! `twofold transfer` between two vaults on one machine: frames with 30 % dropped, the LAN,
//! and an expired invite.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Two {
    dir: tempfile::TempDir,
}

impl Two {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for v in ["old", "new"] {
            std::fs::write(
                dir.path().join(format!("{v}.pw")),
                format!("{v} password\n"),
            )
            .unwrap();
        }
        let two = Two { dir };
        for v in ["old", "new"] {
            two.ok(v, &["init", "--kdf-memory", "19", "--kdf-passes", "2"]);
        }
        two
    }

    fn p(&self, n: &str) -> PathBuf {
        self.dir.path().join(n)
    }

    fn cmd(&self, vault: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
        c.arg("--vault")
            .arg(self.p(&format!("{vault}.vault")))
            .arg("--password-file")
            .arg(self.p(&format!("{vault}.pw")))
            .args(args);
        c.env_remove("TWOFOLD_VAULT")
            .env_remove("TWOFOLD_PASSWORD_FILE");
        c
    }

    fn run(&self, vault: &str, args: &[&str]) -> Output {
        self.cmd(vault, args).output().unwrap()
    }

    fn ok(&self, vault: &str, args: &[&str]) -> String {
        let o = self.run(vault, args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

fn code_in(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("Confirmation code: "))
        .expect("a confirmation code")
        .to_owned()
}

#[test]
fn two_vault_transfer_with_30_percent_of_frames_dropped() {
    let t = Two::new();
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
    assert!(invite.lines().last().unwrap().starts_with("OTPX1I"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let frames = t.p("frames");
    let sent = t.ok(
        "old",
        &[
            "transfer",
            "send",
            "--invite",
            png.to_str().unwrap(),
            "--frames-dir",
            frames.to_str().unwrap(),
            "--count",
            "40",
        ],
    );
    let code = code_in(&sent);
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
    assert_eq!(code_in(&preview), code, "both screens show the same code");
    assert!(preview.contains("26 accounts:"), "{preview}");
    assert!(preview.contains("Nothing added yet"));
    assert!(
        t.ok("new", &["list", "--json"]).trim() == "[]",
        "nothing imported before --accept"
    );
    let done = t.ok(
        "new",
        &[
            "transfer",
            "receive",
            "--session",
            session.to_str().unwrap(),
            "--frames",
            frames.to_str().unwrap(),
            "--accept",
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
    let t = Two::new();
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
            &["transfer", "send", "--invite", &invite_text, "--lan"],
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
    assert!(
        received_text.contains("Added 1 account."),
        "{received_text}"
    );
}

#[test]
fn expired_invites_and_foreign_frames_are_refused() {
    let t = Two::new();
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
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another transfer session"), "{err}");
}
