//! Sync through real storage: WebDAV servers started here on a random 127.0.0.1 port
//! (wsgidav from PyPI, Apache mod_dav and rclone from Debian; `scripts/test.sh` installs
//! them), three devices syncing through each — two of them at the same time from two threads
//! — with Basic authentication; and a plain folder per device with a simulated sync tool
//! copying files between them late, in pieces, under conflict names and through temporary
//! files, while two devices sync concurrently.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod sync_support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_support::*;
use twofold_core::sync::webdav::WebDavStorage;
use twofold_core::sync::{self, FolderStorage, StorageError, SyncStorage, SyncWarning};

const USER: &str = "alice";
const PASSWORD: &str = "correct horse";

/// A server process, stopped (and its files removed) on drop.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
    name: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_listening(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start ({status})");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not start listening on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn require(program: &str, hint: &str) -> PathBuf {
    let p = PathBuf::from(program);
    if p.is_absolute() {
        assert!(p.exists(), "{program} is required for this test ({hint})");
        return p;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|c| c.is_file())
    });
    found.unwrap_or_else(|| panic!("{program} is required for this test ({hint})"))
}

fn wsgidav() -> Server {
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/wsgidav");
    assert!(
        exe.exists(),
        "wsgidav is required: scripts/test.sh installs it into target/test-venv (pip install wsgidav cheroot)"
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let config = format!(
        "host: 127.0.0.1\nport: {port}\nprovider_mapping:\n  \"/\": \"{}\"\n\
         http_authenticator:\n  domain_controller: null\n  accept_basic: true\n  accept_digest: false\n  default_to_digest: false\n\
         simple_dc:\n  user_mapping:\n    \"*\":\n      \"{USER}\":\n        password: \"{PASSWORD}\"\nverbose: 0\n",
        root.display()
    );
    let cfg = dir.path().join("wsgidav.yaml");
    std::fs::write(&cfg, config).unwrap();
    let mut child = Command::new(exe)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(port, &mut child, "wsgidav");
    Server {
        child,
        url: format!("http://127.0.0.1:{port}/sync"),
        _dir: dir,
        name: "wsgidav",
    }
}

fn rclone() -> Server {
    let exe = require("rclone", "apt-get install rclone");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(exe)
        .args(["serve", "webdav", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--user", USER, "--pass", PASSWORD, "--config", "/dev/null"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(port, &mut child, "rclone serve webdav");
    Server {
        child,
        url: format!("http://127.0.0.1:{port}/sync"),
        _dir: dir,
        name: "rclone",
    }
}

fn sha1_base64(text: &str) -> String {
    use base64::Engine;
    use sha1::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(text.as_bytes()))
}

fn apache() -> Server {
    let exe = require("/usr/sbin/apache2", "apt-get install apache2-bin");
    let dir = tempfile::tempdir().unwrap();
    let (dav, run) = (dir.path().join("dav"), dir.path().join("run"));
    for d in [&dav, &run] {
        std::fs::create_dir_all(d).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        format!("{USER}:{{SHA}}{}\n", sha1_base64(PASSWORD)),
    )
    .unwrap();
    let port = free_port();
    let m = "/usr/lib/apache2/modules";
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let conf = format!(
        r#"ServerRoot "{d}"
ServerName localhost
Listen 127.0.0.1:{port}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authn_file_module {m}/mod_authn_file.so
LoadModule auth_basic_module {m}/mod_auth_basic.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule dav_module {m}/mod_dav.so
LoadModule dav_fs_module {m}/mod_dav_fs.so
LoadModule alias_module {m}/mod_alias.so
{user}
PidFile {run}/httpd.pid
ErrorLog {run}/error.log
Mutex file:{run} default
DavLockDB {run}/davlock
Alias /dav {dav}
<Directory "{dav}">
  Dav On
  AuthType Basic
  AuthName "dav"
  AuthUserFile {htpasswd}
  Require valid-user
</Directory>
"#,
        d = dir.path().display(),
        run = run.display(),
        dav = dav.display(),
        htpasswd = htpasswd.display(),
        user = if root {
            "User nobody\nGroup nogroup"
        } else {
            ""
        },
    );
    let cfg = dir.path().join("httpd.conf");
    std::fs::write(&cfg, conf).unwrap();
    let mut child = Command::new(exe)
        .arg("-f")
        .arg(&cfg)
        .arg("-DFOREGROUND")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(port, &mut child, "apache2");
    Server {
        child,
        url: format!("http://127.0.0.1:{port}/dav/sync"),
        _dir: dir,
        name: "apache",
    }
}

fn client(server: &Server) -> WebDavStorage {
    WebDavStorage::new(&server.url, Some(USER.into()), Some(PASSWORD.into())).unwrap()
}

/// Three devices through one server; two of them sync at the same time from two threads.
fn three_devices_through(server: Server) {
    let dav = client(&server);
    dav.ensure_collection().unwrap();
    // Wrong credentials are refused by the server, and said so.
    let wrong = WebDavStorage::new(&server.url, Some(USER.into()), Some("nope".into())).unwrap();
    assert!(
        matches!(wrong.list(), Err(StorageError::Denied(_))),
        "{}: {:?}",
        server.name,
        wrong.list()
    );
    let caps = dav.probe().unwrap();
    eprintln!("{}: {caps:?}", server.name);
    let devices = group(&["phone", "desktop", "tablet"], &dav);
    let [a, b, c]: [Device; 3] = devices.try_into().ok().unwrap();
    a.add("On the phone", &[1; 20]);
    a.sync(&dav);
    b.sync(&dav);
    assert!(b.find("On the phone").is_some(), "{}", server.name);
    // Two devices editing and syncing at once, each with its own connection.
    std::thread::scope(|s| {
        for (d, tag) in [(&a, 10u8), (&b, 40u8)] {
            let url = server.url.clone();
            s.spawn(move || {
                let dav =
                    WebDavStorage::new(&url, Some(USER.into()), Some(PASSWORD.into())).unwrap();
                for i in 0..12u8 {
                    d.add(&format!("{} {i}", d.name), &[tag + i; 20]);
                    let report =
                        sync::sync(&d.session, &dav).unwrap_or_else(|e| panic!("{}: {e}", d.name));
                    assert!(
                        !report.warnings.iter().any(|w| matches!(
                            w,
                            SyncWarning::Fork { .. } | SyncWarning::Misnamed { .. }
                        )),
                        "{report:?}"
                    );
                }
            });
        }
    });
    for _ in 0..2 {
        for d in [&a, &b, &c] {
            d.sync(&dav);
        }
    }
    assert_eq!(a.view(), b.view(), "{}", server.name);
    assert_eq!(b.view(), c.view(), "{}", server.name);
    assert_eq!(c.session.entries().unwrap().len(), 25, "{}", server.name);
    // Old generations are pruned on the server: at most two per device remain.
    let mut per_device: BTreeMap<u64, usize> = BTreeMap::new();
    for f in dav.list().unwrap() {
        if let Some((tag, _)) = twofold_core::sync::file::parse_name(&f.name) {
            *per_device.entry(tag).or_default() += 1;
        }
    }
    assert_eq!(per_device.len(), 3);
    assert!(per_device.values().all(|n| *n <= 2), "{per_device:?}");
    for d in [&a, &b, &c] {
        assert!(sync::status(&d.session).unwrap().warnings.is_empty());
    }
}

#[test]
fn three_devices_through_wsgidav() {
    three_devices_through(wsgidav());
}

#[test]
fn three_devices_through_apache_mod_dav() {
    three_devices_through(apache());
}

#[test]
fn three_devices_through_rclone_serve_webdav() {
    three_devices_through(rclone());
}

/// A sync tool between per-device folders, as Syncthing, Nextcloud or Dropbox behave at
/// their worst: it delivers files late, writes them in place in two pieces, sometimes under a
/// conflict name, leaves hidden temporary files, and mirrors deletions.
fn sync_tool(folders: &[PathBuf], stop: &AtomicBool, rounds: &Mutex<u64>) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Where each canonical name was written first (its owner's folder).
    let mut origin: BTreeMap<String, usize> = BTreeMap::new();
    while !stop.load(Ordering::SeqCst) {
        for (i, from) in folders.iter().enumerate() {
            let Ok(listing) = std::fs::read_dir(from) else {
                continue;
            };
            let names: Vec<String> = listing
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| twofold_core::sync::file::parse_name(n).is_some())
                .collect();
            for name in &names {
                origin.entry(name.clone()).or_insert(i);
            }
            for (j, to) in folders.iter().enumerate() {
                if i == j || next() % 3 == 0 {
                    continue; // late: not this round
                }
                for name in &names {
                    if origin.get(name) != Some(&i) || to.join(name).exists() {
                        continue;
                    }
                    let Ok(bytes) = std::fs::read(from.join(name)) else {
                        continue;
                    };
                    match next() % 8 {
                        0 => {
                            // A conflict copy next to the real file.
                            let _ = std::fs::write(
                                to.join(format!(
                                    "{}.sync-conflict-20240101-000000-XYZ.twfs",
                                    name.trim_end_matches(".twfs")
                                )),
                                &bytes,
                            );
                        }
                        1 | 2 => {
                            // In place, in two pieces, with a pause between.
                            let half = bytes.len() / 2;
                            let _ = std::fs::write(to.join(name), &bytes[..half]);
                            std::thread::sleep(Duration::from_millis(3));
                            let _ = std::fs::write(to.join(name), &bytes);
                        }
                        3 => {
                            // Empty first (a file being created), then whole.
                            let _ = std::fs::write(to.join(name), b"");
                            std::thread::sleep(Duration::from_millis(2));
                            let _ = std::fs::write(to.join(name), &bytes);
                        }
                        _ => {
                            // Through a temporary file, as Syncthing does.
                            let tmp = to.join(format!(".syncthing.{name}.tmp"));
                            if std::fs::write(&tmp, &bytes).is_ok() {
                                let _ = std::fs::rename(&tmp, to.join(name));
                            }
                        }
                    }
                }
            }
        }
        // Deletions: a canonical file its owner deleted goes everywhere.
        for (name, owner) in &origin {
            if !folders[*owner].join(name).exists() {
                for to in folders {
                    let _ = std::fs::remove_file(to.join(name));
                }
            }
        }
        *rounds.lock().unwrap() += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Everything of every folder copied everywhere, cleanly (the sync tool catching up): the
/// longest version of each file (a torn copy is shorter) goes to every folder.
fn settle(folders: &[PathBuf]) {
    let mut best: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for from in folders {
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let name = e.file_name().to_str().unwrap().to_owned();
            if twofold_core::sync::file::parse_name(&name).is_some()
                && let Ok(bytes) = std::fs::read(e.path())
                && best.get(&name).is_none_or(|b| b.len() < bytes.len())
            {
                best.insert(name, bytes);
            }
        }
    }
    for (name, bytes) in &best {
        for to in folders {
            if std::fs::read(to.join(name)).ok().as_ref() != Some(bytes) {
                std::fs::write(to.join(name), bytes).unwrap();
            }
        }
    }
}

#[test]
fn folders_with_a_sync_tool_between_two_devices_syncing_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let folders: Vec<PathBuf> = ["phone", "desktop", "spare"]
        .iter()
        .map(|n| {
            let p = dir.path().join(n);
            std::fs::create_dir_all(&p).unwrap();
            p
        })
        .collect();
    let stores: Vec<FolderStorage> = folders.iter().map(FolderStorage::new).collect();
    // The group is made in one folder and copied to the others before the tool starts.
    let devices = group(&["phone", "desktop", "spare"], &stores[0]);
    settle(&folders);
    for (d, s) in devices.iter().zip(&stores) {
        d.sync(s);
    }
    let stop = AtomicBool::new(false);
    let rounds = Mutex::new(0u64);
    let added = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        s.spawn(|| sync_tool(&folders, &stop, &rounds));
        let writers: Vec<_> = devices[..2]
            .iter()
            .zip(&stores)
            .map(|(d, store)| {
                let added = added.clone();
                s.spawn(move || {
                    for i in 0..20u8 {
                        let e = d.add(
                            &format!("{} {i}", d.name),
                            &[i + if d.name == "phone" { 1 } else { 100 }; 20],
                        );
                        added.lock().unwrap().push(e.id);
                        let report = sync::sync(&d.session, store)
                            .unwrap_or_else(|e| panic!("{}: {e}", d.name));
                        // Torn and copied files are expected here; forks and swaps never.
                        assert!(
                            !report.warnings.iter().any(|w| matches!(
                                w,
                                SyncWarning::Fork { .. }
                                    | SyncWarning::Misnamed { .. }
                                    | SyncWarning::NotAMember { .. }
                                    | SyncWarning::ForeignGroup { .. }
                            )),
                            "{}: {report:?}",
                            d.name
                        );
                        std::thread::sleep(Duration::from_millis(7));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        // The spare device wakes up now and then meanwhile.
        devices[2].sync(&stores[2]);
        stop.store(true, Ordering::SeqCst);
    });
    assert!(*rounds.lock().unwrap() > 10, "the sync tool ran");
    // The tool catches up; everyone reads everyone's latest files.
    for _ in 0..3 {
        settle(&folders);
        for (d, s) in devices.iter().zip(&stores) {
            d.sync(s);
        }
    }
    settle(&folders);
    for (d, s) in devices.iter().zip(&stores) {
        let report = d.sync(s);
        assert!(
            !report
                .warnings
                .iter()
                .any(|w| !matches!(w, SyncWarning::ConflictCopy { .. })),
            "{}: {report:?}",
            d.name
        );
    }
    assert_eq!(devices[0].view(), devices[1].view());
    assert_eq!(devices[1].view(), devices[2].view());
    for id in added.lock().unwrap().iter() {
        assert!(devices[2].session.entry(*id).is_ok(), "entry {id} lost");
    }
}
