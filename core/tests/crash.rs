//! Crash consistency: a child process writes the vault in a loop and is killed (SIGKILL) at
//! random moments, 200 times. After every kill the vault opens at the last generation the
//! child reported committed or the one it was writing, with every committed entry present
//! and the HOTP counter never behind what was handed out.

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
        let mut delay = [0u8; 1];
        rng.fill(&mut delay).unwrap();
        // Let the child get past start-up and into its write loop, then kill it anywhere.
        std::thread::sleep(Duration::from_millis(40 + u64::from(delay[0]) % 120));
        child.kill().unwrap();
        let _ = child.wait();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut reported = 0;
        let mut last_lines = Vec::new();
        for line in out.lines() {
            let line = line.unwrap();
            last_lines.push(line.clone());
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
                    reported += 1;
                }
                ["hotp", counter, generation] => {
                    handed_out_counter = counter.parse().unwrap();
                    committed_gen = generation.parse().unwrap();
                    reported += 1;
                }
                _ => {}
            }
        }
        if reported > 0 {
            kills_mid_run += 1;
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
            &last_lines[last_lines.len().saturating_sub(4)..]
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
    // The kills must really have landed while the child was writing.
    assert!(
        kills_mid_run >= 120,
        "only {kills_mid_run} of 200 kills hit a running writer"
    );
    assert!(committed_entries.len() >= 200);
}
