//! `twofold sync` between vaults on one machine through a folder: setup, the join flow in
//! files (invite, frames, reply, matching codes), edits both ways, status and devices as
//! JSON, conflicts and their resolution, revocation, and the refusals with their exit
//! statuses.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::Lab;

/// The sync steps the tests repeat.
trait SyncLab {
    fn join(&self, member: &str, new: &str);
    fn issuers(&self, vault: &str) -> Vec<String>;
}

impl SyncLab for Lab {
    /// `new` joins the group of `member` through the files flow.
    fn join(&self, member: &str, new: &str) {
        let session = format!("{new}.join");
        let invite = format!("{new}.invite.png");
        let out = self.ok(
            new,
            &[
                "sync",
                "join",
                "--session",
                &session,
                "--invite-out",
                &invite,
                "--name",
                new,
            ],
        );
        assert!(out.contains("OTPX2J"));
        let frames = format!("{new}.frames");
        std::fs::create_dir_all(self.p(&frames)).unwrap();
        let added = self.ok(
            member,
            &[
                "sync",
                "add",
                "--invite",
                &invite,
                "--session",
                "add.bin",
                "--frames-dir",
                &frames,
            ],
        );
        assert!(added.contains(&format!("Invited '{new}'")), "{added}");
        let received = self.ok(
            new,
            &["sync", "join", "--session", &session, "--frames", &frames],
        );
        let code = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("Confirmation code: "))
                .unwrap()
                .to_owned()
        };
        assert!(received.contains("Not joined yet"));
        let reply = format!("{session}.reply.png");
        let member_code = self.ok(
            member,
            &[
                "sync",
                "add",
                "--session",
                "add.bin",
                "--reply",
                &reply,
                "--codes-match",
            ],
        );
        assert_eq!(code(&received), code(&member_code));
        assert!(
            member_code.contains(&format!("Added '{new}'")),
            "{member_code}"
        );
        let joined = self.ok(
            new,
            &[
                "sync",
                "join",
                "--session",
                &session,
                "--accept",
                "--codes-match",
            ],
        );
        assert!(joined.contains("Joined the group"), "{joined}");
        assert!(!self.p(&session).exists(), "the session file is removed");
    }

    fn issuers(&self, vault: &str) -> Vec<String> {
        let list = self.json(vault, &["list", "--json"]);
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| e["issuer"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn two_vaults_keep_in_step_through_a_folder() {
    let lab = Lab::new(&["desktop", "laptop"]);
    lab.ok(
        "desktop",
        &[
            "add",
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        ],
    );
    let setup = lab.ok(
        "desktop",
        &["sync", "setup", "--folder", "shared", "--name", "desktop"],
    );
    assert!(setup.contains("new sync group"), "{setup}");
    // A second setup, or one into a folder holding a group, is refused.
    lab.fails("desktop", &["sync", "setup", "--folder", "other"], 2);
    let err = lab.fails("laptop", &["sync", "setup", "--folder", "shared"], 2);
    assert!(err.contains("join that group"), "{err}");
    lab.join("desktop", "laptop");
    assert_eq!(lab.issuers("laptop"), ["GitHub"]);
    // Edits both ways; `sync` alone is `sync now`.
    lab.ok(
        "laptop",
        &[
            "add",
            "--secret",
            "GEZDGNBVGY3TQOJQ",
            "--issuer",
            "Bank",
            "--account",
            "bob",
        ],
    );
    let out = lab.ok("laptop", &["sync"]);
    assert!(out.contains("Sent 1 change made here"), "{out}");
    let out = lab.ok("desktop", &["sync", "now"]);
    assert!(out.contains("+ Bank (bob)"), "{out}");
    assert_eq!(lab.issuers("desktop"), ["GitHub", "Bank"]);
    // Status as JSON.
    let status = lab.json("desktop", &["sync", "status", "--json"]);
    let keys: Vec<&str> = status
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "group",
            "device",
            "storage",
            "generation",
            "last_sync",
            "epoch",
            "revoked",
            "awaiting_admission",
            "devices",
            "conflicts",
            "warnings"
        ]
    );
    assert_eq!(status["devices"].as_array().unwrap().len(), 2);
    assert_eq!(status["devices"][0]["this_device"], true);
    let devices = lab.json("desktop", &["sync", "devices", "--json"]);
    assert_eq!(devices[1]["name"], "laptop");
    assert!(devices[1]["generation"].as_u64().unwrap() >= 1);
    // The same field on both: one conflict, resolved from the laptop.
    lab.ok("desktop", &["edit", "GitHub", "--note", "desk"]);
    lab.ok("laptop", &["edit", "GitHub", "--note", "lap"]);
    lab.ok("desktop", &["sync"]);
    let out = lab.ok("laptop", &["sync"]);
    assert!(out.contains("1 conflict"), "{out}");
    lab.ok("desktop", &["sync"]);
    let conflicts = lab.json("desktop", &["sync", "conflicts", "--json"]);
    assert_eq!(conflicts.as_array().unwrap().len(), 1);
    assert_eq!(conflicts[0]["field"], "note");
    lab.ok("laptop", &["sync", "resolve", "GitHub", "--keep", "mine"]);
    lab.ok("desktop", &["sync"]);
    let note = |v: &str| {
        lab.json(v, &["list", "--json"])[0]["note"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(note("desktop"), "lap");
    assert_eq!(note("laptop"), "lap");
    assert!(
        lab.ok("desktop", &["sync", "conflicts"])
            .contains("No conflicts")
    );
    lab.fails(
        "desktop",
        &["sync", "resolve", "GitHub", "--keep", "theirs"],
        2,
    );
    // Revocation: the laptop is told, and exits with status 1.
    let out = lab.ok("desktop", &["sync", "revoke", "laptop"]);
    assert!(out.contains("Removed 'laptop'"), "{out}");
    let err = lab.fails("laptop", &["sync"], 1);
    assert!(err.contains("removed from its sync group"), "{err}");
    lab.fails("desktop", &["sync", "revoke", "nobody"], 2);
    // The snapshot files are private to the user.
    #[cfg(unix)]
    for f in std::fs::read_dir(lab.p("shared")).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn sync_refuses_what_it_cannot_do() {
    let lab = Lab::new(&["a"]);
    let err = lab.fails("a", &["sync"], 2);
    assert!(err.contains("not in a sync group"), "{err}");
    lab.fails("a", &["sync", "status"], 2);
    // WebDAV over plain HTTP to another machine is refused before anything is sent.
    let err = lab.fails(
        "a",
        &[
            "sync",
            "setup",
            "--webdav",
            "http://cloud.example/dav",
            "--name",
            "a",
        ],
        2,
    );
    assert!(err.contains("https://"), "{err}");
    // An invite to transfer accounts is not a join invite.
    let transfer = lab.ok("a", &["transfer", "invite", "--session", "t.bin"]);
    let invite = transfer.lines().find(|l| l.starts_with("OTPX2I")).unwrap();
    lab.ok("a", &["sync", "setup", "--folder", "s", "--name", "a"]);
    std::fs::create_dir_all(lab.p("f")).unwrap();
    let err = lab.fails(
        "a",
        &[
            "sync",
            "add",
            "--invite",
            invite,
            "--session",
            "x",
            "--frames-dir",
            "f",
        ],
        2,
    );
    assert!(err.contains("invite to transfer accounts"), "{err}");
    lab.ok("a", &["sync", "leave"]);
    lab.fails("a", &["sync"], 2);
}

#[test]
fn a_device_is_added_only_when_the_codes_match() {
    let lab = Lab::new(&["desktop", "laptop"]);
    lab.ok(
        "desktop",
        &["sync", "setup", "--folder", "shared", "--name", "desktop"],
    );
    lab.ok(
        "laptop",
        &[
            "sync",
            "join",
            "--session",
            "laptop.join",
            "--invite-out",
            "invite.png",
            "--name",
            "laptop",
        ],
    );
    std::fs::create_dir_all(lab.p("frames")).unwrap();
    let invited = lab.ok(
        "desktop",
        &[
            "sync",
            "add",
            "--invite",
            "invite.png",
            "--session",
            "add.bin",
            "--frames-dir",
            "frames",
        ],
    );
    assert!(invited.contains("not added yet"), "{invited}");
    // A sync in between publishes nothing of the invitation.
    let files_before = std::fs::read_dir(lab.p("shared")).unwrap().count();
    lab.ok("desktop", &["sync"]);
    assert_eq!(
        std::fs::read_dir(lab.p("shared")).unwrap().count(),
        files_before
    );
    let received = lab.ok(
        "laptop",
        &[
            "sync",
            "join",
            "--session",
            "laptop.join",
            "--frames",
            "frames",
        ],
    );
    let reply = received
        .lines()
        .find_map(|l| l.strip_prefix("Reply: "))
        .unwrap()
        .to_owned();
    // No terminal to ask, and no --codes-match: refused, nothing added.
    let err = lab.fails(
        "desktop",
        &[
            "sync",
            "add",
            "--session",
            "add.bin",
            "--reply",
            "laptop.join.reply.png",
        ],
        2,
    );
    assert!(err.contains("--codes-match"), "{err}");
    let out = lab.ok(
        "desktop",
        &[
            "sync",
            "add",
            "--session",
            "add.bin",
            "--reply",
            "laptop.join.reply.png",
            "--cancel",
        ],
    );
    assert!(out.contains("not added"), "{out}");
    let devices = lab.json("desktop", &["sync", "devices", "--json"]);
    assert_eq!(devices.as_array().unwrap().len(), 1, "{devices}");
    // The laptop takes the bundle, but nobody admitted it: it writes nothing.
    let joined = lab.ok(
        "laptop",
        &[
            "sync",
            "join",
            "--session",
            "laptop.join",
            "--accept",
            "--codes-match",
        ],
    );
    assert!(joined.contains("Waiting for desktop"), "{joined}");
    let status = lab.json("laptop", &["sync", "status", "--json"]);
    assert_eq!(status["awaiting_admission"], true, "{status}");
    assert_eq!(
        std::fs::read_dir(lab.p("shared")).unwrap().count(),
        files_before
    );
    // And the cancelled invitation cannot be confirmed afterwards.
    let err = lab.fails(
        "desktop",
        &[
            "sync",
            "add",
            "--session",
            "add.bin",
            "--reply",
            &reply,
            "--codes-match",
        ],
        2,
    );
    assert!(err.contains("no device is waiting"), "{err}");
}
