//! The committed fuzz seeds (`core/fuzz/seeds/TARGET`): every fuzz target has some, and each
//! seed goes through the code its target fuzzes without a panic. This runs on the stable
//! toolchain in every test run, so a seed that once crashed a target (kept here after the fix)
//! stays a regression test even where `cargo fuzz` is not run.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use twofold_core::interop::{self, Format, enroll::Enrollment, google};
use twofold_core::transfer::{frames, payload};
use twofold_core::vault::{RecoveryKey, SlotCredential};
use twofold_core::{backup, fuzzing, qr, uri};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The fuzz targets declared in `core/fuzz/Cargo.toml`.
fn targets() -> Vec<String> {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz manifest");
    manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "twofold-core-fuzz")
        .map(str::to_owned)
        .collect()
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("seeds").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "fuzz target {target} has no seeds in {}: {e}",
                dir.display()
            )
        })
        .map(|f| {
            let path = f.expect("seed entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("seed"))
        })
        .collect();
    out.sort();
    out
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// What each target does with its input, for raw bytes (the structured targets — `import_zip`,
/// `transfer_frames`, `vault_v2` — build their input from the bytes; their seeds go through
/// the raw entry point those inputs end in).
fn run(target: &str, data: &[u8]) {
    let key = RecoveryKey::from_bytes([7; 16]);
    match target {
        "backup_file" => {
            let _ = backup::open_backup(data, &SlotCredential::Recovery(&key));
        }
        "vault_file" | "vault_v2" => {
            let split = data.first().map_or(0, |b| *b as usize % data.len().max(1));
            let _ = fuzzing::open_vault(data, None, &SlotCredential::Recovery(&key));
            let (a, b) = data.split_at(split);
            let _ = fuzzing::open_vault(a, Some(b), &SlotCredential::Recovery(&key));
        }
        "base32" => {
            if let Some(t) = text(data)
                && let Ok(bytes) = uri::base32::decode(t)
            {
                assert_eq!(
                    uri::base32::decode(&uri::base32::encode(&bytes)).unwrap(),
                    bytes
                );
            }
        }
        "otpauth_uri" => {
            if let Some(t) = text(data)
                && let Ok(c) = uri::parse(t)
            {
                let again = uri::parse(&uri::format(&c)).expect("canonical form re-parses");
                assert_eq!(again, c);
            }
        }
        "enrollment" => {
            if let Some(t) = text(data) {
                let mut e = Enrollment::new();
                for line in t.split('\n') {
                    let _ = e.scan(line);
                }
                let _ = e.pending();
            }
        }
        "google_migration" => {
            if let Some(t) = text(data) {
                let mut batches = google::BatchCollector::new();
                for line in t.lines() {
                    if let Ok(part) = google::decode_uri(line) {
                        let _ = batches.add(part);
                    }
                }
                for id in batches.batch_ids() {
                    let _ = batches.take(id);
                }
            }
        }
        "import_any" | "import_text" | "import_zip" | "import_sqlite" | "import_binary" => {
            let _ = interop::import(data, None, None);
            let _ = interop::import(data, None, Some(b"fuzz"));
            // The format a seed's first byte picks, as `import_any` does.
            if let Some((selector, rest)) = data.split_first() {
                let format = Format::ALL[usize::from(*selector) % Format::ALL.len()];
                let _ = interop::import(rest, Some(format), Some(b"fuzz"));
            }
            if target == "import_binary" {
                let _ = fuzzing::freeotp_read_string_map(data);
                fuzzing::keepass_header_kdf(data);
            }
        }
        "qr_image" => {
            let _ = qr::decode_image(data);
        }
        "recovery_key" => {
            if let Some(t) = text(data)
                && let Ok(k) = RecoveryKey::parse(t)
            {
                assert_eq!(RecoveryKey::parse(&k.reveal()).unwrap(), k);
            }
        }
        "transfer_payload" => {
            if let Ok(p) = payload::decode(data) {
                let again = payload::decode(&payload::encode(&p)).expect("our encoding decodes");
                assert_eq!(again, p);
            }
        }
        "transfer_frames" => {
            if let Some(t) = text(data) {
                for line in t.lines() {
                    let _ = frames::parse(line);
                }
            }
            let _ = payload::decode(data);
        }
        "kit_parts" => {
            let text = String::from_utf8_lossy(data);
            let parts: Vec<String> = text.split('\n').map(str::to_owned).collect();
            if let Ok(backup) = twofold_core::recovery_kit::join_account_parts(&parts) {
                assert!(backup.len() <= twofold_core::recovery_kit::MAX_ACCOUNT_BYTES);
            }
        }
        "sync_snapshot" => fuzzing::sync_snapshot(data),
        "webdav_listing" => fuzzing::webdav_listing(data),
        other => panic!(
            "fuzz target {other} is not known to this test: add what it does to `run` and \
             commit seeds for it in core/fuzz/seeds/{other}"
        ),
    }
}

#[test]
fn every_fuzz_target_has_seeds_and_none_of_them_panics() {
    let targets = targets();
    assert!(targets.len() >= 19, "fuzz targets found: {targets:?}");
    for target in &targets {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "no seeds for fuzz target {target}");
        for (name, data) in seeds {
            let outcome = std::panic::catch_unwind(|| run(target, &data));
            assert!(
                outcome.is_ok(),
                "fuzz target {target} panics on its seed {name}"
            );
        }
    }
}

#[test]
fn seeds_stay_small_enough_to_commit() {
    for target in targets() {
        let total: usize = seeds(&target).iter().map(|(_, d)| d.len()).sum();
        assert!(
            total <= 128 * 1024,
            "the seeds of {target} take {total} bytes; keep a few small ones"
        );
    }
}
