//! Sync measurements for docs/performance.md (section `sync`): three devices with 500
//! accounts, vaults on disk (fsync included, key derivation not), through a local folder and
//! through WebDAV servers on loopback (wsgidav from target/test-venv, rclone from Debian,
//! when present). For each storage, the median of 15 runs of:
//!
//! * a sync that sends one edit (read the others' files, merge, commit the vault, write,
//!   read back, prune);
//! * a sync that receives that edit on another device;
//! * a sync with nothing new;
//! * the first sync of a device that just joined (reads two 500-entry files);
//!
//! and the bytes written per sync, with what padding adds. Prints the Markdown section.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use twofold_core::Secret;
use twofold_core::crypto::{KdfParams, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::sync::join::{JoinInvite, Joiner, invite_device};
use twofold_core::sync::webdav::WebDavStorage;
use twofold_core::sync::{self, FolderStorage, StorageConfig, SyncStorage};
use twofold_core::vault::{CreateOptions, EntryUpdate, NewEntry, VaultSession};

const RUNS: usize = 15;
const ENTRIES: usize = 500;

fn vault(dir: &Path, name: &str) -> VaultSession {
    VaultSession::create(
        &dir.join(format!("{name}.twofold")),
        CreateOptions {
            password: b"bench password",
            kdf: KdfParams::FLOOR,
        },
    )
    .unwrap()
    .0
}

fn join(member: &VaultSession, new: &VaultSession, name: &str) {
    let rng = SystemRandom::new();
    let now = twofold_core::time::now_s();
    let mut joiner = Joiner::new(name, now, 600, None, &rng).unwrap();
    let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
    let (mut sender, _) = invite_device(member, invite, true, 800, &rng).unwrap();
    joiner.receiver().receive_blob(sender.blob(), now).unwrap();
    sender
        .accept_reply(&joiner.receiver().reply().unwrap(), now)
        .unwrap();
    joiner.accept(new, None).unwrap();
}

/// Real secrets are random (they do not compress).
fn random_secret() -> Secret {
    let rng = SystemRandom::new();
    Secret::from_bytes(
        twofold_core::crypto::random_array::<20>(&rng)
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

struct Row {
    storage: String,
    send: Duration,
    receive: Duration,
    idle: Duration,
    first: Duration,
    bytes: u64,
    vault: u64,
}

fn measure(label: &str, dir: &Path, storage: &dyn SyncStorage) -> Row {
    let a = vault(dir, &format!("{label}-a"));
    let adds: Vec<NewEntry> = (0..ENTRIES)
        .map(|i| {
            let mut n = NewEntry::new(
                OtpKind::DEFAULT_TOTP,
                random_secret(),
                format!("Service {i}"),
                format!("user{i}@example.com"),
            );
            if i % 5 == 0 {
                n.note = format!("recovery codes in the safe, shelf {i}");
            }
            n
        })
        .collect();
    a.insert(adds, twofold_core::vault::InsertPolicy::IMPORT)
        .unwrap();
    sync::setup(
        &a,
        StorageConfig::App {
            label: label.into(),
        },
        storage,
        "a",
    )
    .unwrap();
    let b = vault(dir, &format!("{label}-b"));
    join(&a, &b, "b");
    sync::sync(&a, storage).unwrap();
    sync::sync(&b, storage).unwrap();
    let c = vault(dir, &format!("{label}-c"));
    join(&a, &c, "c");
    sync::sync(&a, storage).unwrap();
    let start = Instant::now();
    sync::sync(&c, storage).unwrap();
    let first = start.elapsed();
    sync::sync(&b, storage).unwrap();
    sync::sync(&a, storage).unwrap();
    let ids: Vec<_> = a.entries().unwrap().iter().map(|e| e.id).collect();
    let (mut send, mut receive, mut idle) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for run in 0..RUNS {
        a.update_entry(
            ids[run * 7 % ids.len()],
            EntryUpdate {
                note: Some(format!("edited in run {run}")),
                ..EntryUpdate::default()
            },
        )
        .unwrap();
        let t = Instant::now();
        let report = sync::sync(&a, storage).unwrap();
        send.push(t.elapsed());
        bytes = report.written.map_or(0, |w| w.1);
        let t = Instant::now();
        sync::sync(&b, storage).unwrap();
        receive.push(t.elapsed());
        let t = Instant::now();
        let report = sync::sync(&b, storage).unwrap();
        idle.push(t.elapsed());
        assert!(report.written.is_none());
        sync::sync(&c, storage).unwrap();
    }
    Row {
        storage: label.into(),
        send: median(send),
        receive: median(receive),
        idle: median(idle),
        first,
        bytes,
        vault: std::fs::metadata(a.path()).map_or(0, |m| m.len()),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wsgidav(dir: &Path) -> Option<(Server, String)> {
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/wsgidav");
    if !exe.exists() {
        return None;
    }
    let root = dir.join("wsgidav-root");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let child = Command::new(exe)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--auth",
            "anonymous",
            "-q",
            "-q",
        ])
        .arg("--root")
        .arg(&root)
        .arg("--no-config")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    wait(port);
    Some((server, format!("http://127.0.0.1:{port}/sync")))
}

fn rclone(dir: &Path) -> Option<(Server, String)> {
    let root = dir.join("rclone-root");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let child = Command::new("rclone")
        .args(["serve", "webdav", "--config", "/dev/null", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    wait(port);
    Some((server, format!("http://127.0.0.1:{port}/sync")))
}

fn padding_overhead() -> (u64, u64, u64) {
    // The body of a 500-entry snapshot before and after padding (read from a real file).
    let dir = tempfile::tempdir().unwrap();
    let storage = FolderStorage::new(dir.path());
    let a = vault(dir.path(), "p");
    let adds: Vec<NewEntry> = (0..ENTRIES)
        .map(|i| {
            NewEntry::new(
                OtpKind::DEFAULT_TOTP,
                random_secret(),
                format!("Service {i}"),
                format!("user{i}@example.com"),
            )
        })
        .collect();
    a.insert(adds, twofold_core::vault::InsertPolicy::IMPORT)
        .unwrap();
    let report = sync::setup(&a, StorageConfig::App { label: "p".into() }, &storage, "a").unwrap();
    let (name, total) = report.written.unwrap();
    let bytes = std::fs::read(dir.path().join(&name)).unwrap();
    let state = sync::state_of(&a).unwrap();
    let parsed = sync::file::parse(&bytes).unwrap();
    let body = parsed
        .open(state.epoch_key(&parsed.header.epoch).unwrap())
        .unwrap();
    let packed = rmp_serde::to_vec_named(&body).unwrap();
    let deflated = miniz_oxide::deflate::compress_to_vec(&packed, 6).len() as u64;
    (packed.len() as u64, deflated, total)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    let mut rows = vec![measure(
        "local folder",
        dir.path(),
        &FolderStorage::new(&folder),
    )];
    if let Some((_server, url)) = wsgidav(dir.path()) {
        let dav = WebDavStorage::new(&url, None, None).unwrap();
        dav.ensure_collection().unwrap();
        rows.push(measure("WebDAV, wsgidav 4.4 (loopback)", dir.path(), &dav));
    }
    if let Some((_server, url)) = rclone(dir.path()) {
        let dav = WebDavStorage::new(&url, None, None).unwrap();
        dav.ensure_collection().unwrap();
        rows.push(measure(
            "WebDAV, rclone serve webdav (loopback)",
            dir.path(),
            &dav,
        ));
    }
    let (packed, deflated, written) = padding_overhead();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "Command: `scripts/perf_report.py sync` (runs `cargo run --release -p twofold-core --example sync_bench`)."
    );
    println!(
        "Machine: {cpu}, {} {}.",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    println!();
    println!(
        "{ENTRIES} accounts, 3 devices, vaults on disk (every sync that changes something commits the vault with fsync; the key derivation of unlocking is not included). Median of {RUNS} runs; goal: under 200 ms per sync on a local folder."
    );
    println!();
    println!(
        "| storage | send one edit | receive it | nothing new | first sync after joining | snapshot written | vault rewritten |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} B | {} B |",
            r.storage,
            ms(r.send),
            ms(r.receive),
            ms(r.idle),
            ms(r.first),
            r.bytes,
            r.vault
        );
    }
    println!();
    println!(
        "A sync with nothing new lists the storage and reads each member's newest file to compare its digest (a fork is seen only by reading); it writes nothing, neither to the storage nor to the vault."
    );
    println!();
    println!(
        "Snapshot of {ENTRIES} accounts: MessagePack body {packed} bytes, deflated {deflated} bytes, written {written} bytes (header, padding to a Padmé size, tag and signature: +{:.1} % over the deflated body).",
        (written as f64 / deflated as f64 - 1.0) * 100.0
    );
}
