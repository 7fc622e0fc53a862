//! Crash consistency: a child process writes the vault in a loop and is killed (SIGKILL) at
//! random moments, 200 times. After every kill the vault opens at the last generation the
//! child reported committed or the one it was writing, with every committed entry present
//! and the HOTP counter never behind what was handed out.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use twofold_core::crypto::{RandomSource, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::vault::{EntryId, Id, VaultSession};

const CHILD_ENV: &str = "TWOFOLD_CRASH_CHILD_VAULT";
const KEY_ENV: &str = "TWOFOLD_CRASH_CHILD_KEY";

/// The child: runs only when the parent starts this test binary with `--ignored --exact`.
#[test]
#[ignore = "run by kill_a_writer_200_times as its child process"]
fn crash_child_writer() {
    let path = std::env::var(CHILD_ENV).expect("started by the crash test");
    let key = std::env::var(KEY_ENV).unwrap();
    let s = VaultSession::open(path.as_ref()).unwrap();
    s.unlock_with_recovery_key(&key).unwrap();
    let hotp = s
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| matches!(e.kind, OtpKind::Hotp { .. }))
        .unwrap()
        .id;
    let rng = SystemRandom::new();
    loop {
        let mut new = totp("crash", "writer", "AAAA");
        let mut key = [0u8; 20];
        rng.fill(&mut key).unwrap();
        new.secret = twofold_core::Secret::from_bytes(key.to_vec()).unwrap();
        let e = s.add_entry(new, true).unwrap();
        println!("entry {} {}", e.id, s.generation().unwrap());
        s.next_hotp(hotp).unwrap();
        let counter = match s.entry(hotp).unwrap().kind {
            OtpKind::Hotp { counter, .. } => counter,
            _ => unreachable!(),
        };
        println!("hotp {counter} {}", s.generation().unwrap());
    }
}

/// Waits for the child's first report (it is in its loop, however slow the machine), sleeps
/// `delay_ms(random byte)`, kills it, and returns every line it printed and whether it was
/// still running when the kill came.
fn kill_after_first_report(
    child: &mut std::process::Child,
    rng: &SystemRandom,
    delay_ms: impl Fn(u8) -> u64,
) -> (Vec<String>, bool) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut first = String::new();
    if out.read_line(&mut first).unwrap() > 0 {
        lines.push(first);
    }
    let mut delay = [0u8; 1];
    rng.fill(&mut delay).unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms(delay[0])));
    let mid_run = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let _ = child.wait();
    lines.extend(out.lines().map(|l| l.unwrap()));
    (lines, mid_run)
}

#[test]
fn kill_a_writer_200_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.twofold");
    let (s, recovery) = create(&path);
    s.add_entry(
        entry("otpauth://hotp/crash:hotp?secret=GEZDGNBVGY3TQOJQ&counter=0"),
        false,
    )
    .unwrap();
    drop(s);
    let key = recovery.reveal().to_string();
    let rng = SystemRandom::new();
    let exe = std::env::current_exe().unwrap();
    let mut committed_entries: Vec<EntryId> = Vec::new();
    let mut committed_gen = 2u64;
    let mut handed_out_counter = 0u64;
    let mut kills_mid_run = 0;

    for round in 0..200 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &path)
            .env(KEY_ENV, &key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (lines, mid_run) =
            kill_after_first_report(&mut child, &rng, |d| 20 + u64::from(d) % 120);
        kills_mid_run += usize::from(mid_run);
        for line in &lines {
            // libtest may print its own "test … ..." prefix on the same line as the first report.
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let start = tokens
                .iter()
                .position(|t| *t == "entry" || *t == "hotp")
                .unwrap_or(tokens.len());
            match &tokens[start..] {
                ["entry", id, generation] => {
                    committed_entries.push(Id::parse(id).unwrap());
                    committed_gen = generation.parse().unwrap();
                }
                ["hotp", counter, generation] => {
                    handed_out_counter = counter.parse().unwrap();
                    committed_gen = generation.parse().unwrap();
                }
                _ => {}
            }
        }

        let check = VaultSession::open(&path).unwrap();
        let info = check
            .unlock_with_recovery_key(&key)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(
            !info.recovered_from_previous,
            "round {round}: a kill must never damage the current file"
        );
        assert!(
            info.generation == committed_gen || info.generation == committed_gen + 1,
            "round {round}: on disk {} but last committed {committed_gen}; child said {:?}",
            info.generation,
            &lines[lines.len().saturating_sub(4)..]
        );
        committed_gen = info.generation;
        let entries = check.entries().unwrap();
        for id in &committed_entries {
            assert!(
                entries.iter().any(|e| &e.id == id),
                "round {round}: committed entry {id} lost"
            );
        }
        let counter = entries
            .iter()
            .find_map(|e| match e.kind {
                OtpKind::Hotp { counter, .. } => Some(counter),
                _ => None,
            })
            .unwrap();
        assert!(
            counter >= handed_out_counter,
            "round {round}: HOTP counter went back"
        );
        handed_out_counter = counter;
    }
    // The kills must really have landed while the child was writing (not after it finished).
    assert!(
        kills_mid_run >= 180,
        "only {kills_mid_run} of 200 kills hit a running writer"
    );
    // Enough commits were reported to check (about one per round on a quiet machine).
    assert!(
        committed_entries.len() >= 100,
        "{} commits",
        committed_entries.len()
    );
}

const SYNC_STORAGE_ENV: &str = "TWOFOLD_CRASH_CHILD_SYNC_DIR";
const SYNC_TRUST_ENV: &str = "TWOFOLD_CRASH_CHILD_TRUST";

fn sync_env(trust: &std::path::Path) -> twofold_core::vault::VaultEnv {
    twofold_core::vault::VaultEnv {
        trust: Some(std::sync::Arc::new(
            twofold_core::vault::FileTrustStore::new(trust),
        )),
        ..twofold_core::vault::VaultEnv::default()
    }
}

/// The child of the syncing test: edits and syncs in a loop, reporting what it committed.
#[test]
#[ignore = "run by kill_a_syncing_writer_100_times as its child process"]
fn crash_child_syncing_writer() {
    use twofold_core::sync;
    let path = std::env::var(CHILD_ENV).expect("started by the crash test");
    let key = std::env::var(KEY_ENV).unwrap();
    let dir = std::env::var(SYNC_STORAGE_ENV).unwrap();
    let trust = std::env::var(SYNC_TRUST_ENV).unwrap();
    let s = VaultSession::open_in(path.as_ref(), sync_env(trust.as_ref())).unwrap();
    s.unlock_with_recovery_key(&key).unwrap();
    let storage = sync::FolderStorage::new(&dir);
    let hotp = s
        .entries()
        .unwrap()
        .into_iter()
        .find(|e| matches!(e.kind, OtpKind::Hotp { .. }))
        .unwrap()
        .id;
    let rng = SystemRandom::new();
    loop {
        let mut new = totp("crash", "syncing writer", "AAAA");
        let mut key = [0u8; 20];
        rng.fill(&mut key).unwrap();
        new.secret = twofold_core::Secret::from_bytes(key.to_vec()).unwrap();
        let e = s.add_entry(new, true).unwrap();
        println!("entry {}", e.id);
        s.next_hotp(hotp).unwrap();
        let counter = match s.entry(hotp).unwrap().kind {
            OtpKind::Hotp { counter, .. } => counter,
            _ => unreachable!(),
        };
        println!("hotp {counter}");
        let report = sync::sync(&s, &storage).unwrap();
        println!("synced {}", report.generation);
    }
}

/// Kill -9 a device while it edits and syncs through a folder, 100 times: each time its
/// vault opens as committed, its next sync completes, and the other device merges its files
/// with no fork, no damaged or misnamed file, and every committed entry.
#[test]
fn kill_a_syncing_writer_100_times() {
    use twofold_core::sync::{self, SyncWarning};
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    let storage = sync::FolderStorage::new(&shared);
    let (a_path, b_path) = (dir.path().join("a.twofold"), dir.path().join("b.twofold"));
    let (a_trust, b_trust) = (dir.path().join("a.trust"), dir.path().join("b.trust"));
    let (a, recovery) = create_in(&a_path, sync_env(&a_trust));
    a.add_entry(
        entry("otpauth://hotp/crash:hotp?secret=GEZDGNBVGY3TQOJQ&counter=0"),
        false,
    )
    .unwrap();
    sync::setup(
        &a,
        sync::StorageConfig::Folder {
            path: shared.display().to_string(),
        },
        &storage,
        "writer",
    )
    .unwrap();
    let (b, _) = create_in(&b_path, sync_env(&b_trust));
    let rng = SystemRandom::new();
    let now = twofold_core::time::now_s();
    let mut joiner = sync::join::Joiner::new("reader", now, 600, None, &rng).unwrap();
    let invite = sync::join::JoinInvite::parse(&joiner.invite_text(), now).unwrap();
    let (mut sender, added) = sync::join::invite_device(&a, invite, false, 800, &rng).unwrap();
    joiner.receiver().receive_blob(sender.blob(), now).unwrap();
    sender
        .accept_reply(&joiner.receiver().reply().unwrap(), now)
        .unwrap();
    sync::join::confirm_device(&a, &added.key, &rng).unwrap();
    joiner.accept(&b, None).unwrap();
    sync::sync(&a, &storage).unwrap();
    sync::sync(&b, &storage).unwrap();
    drop(a);
    let key = recovery.reveal().to_string();
    let exe = std::env::current_exe().unwrap();
    let mut committed: Vec<EntryId> = Vec::new();
    let mut handed_out = 0u64;
    let mut kills_mid_run = 0;
    let mut syncs = 0;
    for round in 0..100 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child_syncing_writer",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &a_path)
            .env(KEY_ENV, &key)
            .env(SYNC_STORAGE_ENV, &shared)
            .env(SYNC_TRUST_ENV, &a_trust)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (lines, mid_run) = kill_after_first_report(&mut child, &rng, |d| u64::from(d) * 2);
        kills_mid_run += usize::from(mid_run);
        for line in &lines {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let start = tokens
                .iter()
                .position(|t| ["entry", "hotp", "synced"].contains(t))
                .unwrap_or(tokens.len());
            match &tokens[start..] {
                ["entry", id] => committed.push(Id::parse(id).unwrap()),
                ["hotp", counter] => handed_out = counter.parse().unwrap(),
                ["synced", _] => syncs += 1,
                _ => {}
            }
        }
        // The writer's vault opens as committed and its next sync completes.
        let a = VaultSession::open_in(&a_path, sync_env(&a_trust)).unwrap();
        let info = a
            .unlock_with_recovery_key(&key)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(!info.recovered_from_previous, "round {round}");
        let report = sync::sync(&a, &storage).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(report.warnings.is_empty(), "round {round}: {report:?}");
        let entries = a.entries().unwrap();
        for id in &committed {
            assert!(
                entries.iter().any(|e| &e.id == id),
                "round {round}: {id} lost"
            );
        }
        let counter = entries
            .iter()
            .find_map(|e| match e.kind {
                OtpKind::Hotp { counter, .. } => Some(counter),
                _ => None,
            })
            .unwrap();
        assert!(
            counter >= handed_out,
            "round {round}: HOTP counter went back"
        );
        // The other device merges it cleanly.
        let report = sync::sync(&b, &storage).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(
            !report.warnings.iter().any(|w| matches!(
                w,
                SyncWarning::Fork { .. }
                    | SyncWarning::Damaged { .. }
                    | SyncWarning::Misnamed { .. }
                    | SyncWarning::Rollback { .. }
                    | SyncWarning::Incomplete { .. }
            )),
            "round {round}: {report:?}"
        );
        let on_b = b.entries().unwrap();
        for id in &committed {
            assert!(
                on_b.iter().any(|e| &e.id == id),
                "round {round}: {id} not on the reader"
            );
        }
    }
    assert!(
        kills_mid_run >= 60,
        "only {kills_mid_run} of 100 kills hit a running writer"
    );
    eprintln!("{syncs} syncs completed by the child, {kills_mid_run} kills mid-run");
    // Kills landed after completed syncs too, not only during the first one.
    assert!(syncs >= 20, "the child synced only {syncs} times");
    // Killed writes leave no more than one hidden temporary file behind.
    let leftovers = std::fs::read_dir(&shared)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .ends_with(".tmp")
        })
        .count();
    assert!(leftovers <= 1, "{leftovers} temporary files left");
}
