//! Helpers for the sync tests: devices (vaults in memory, each with its own clock), a group
//! made through the real join flow, and a look inside snapshot files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use twofold_core::Secret;
use twofold_core::crypto::{KdfParams, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::sync::file;
use twofold_core::sync::join::{JoinInvite, Joiner, confirm_device, invite_device};
use twofold_core::sync::{self, StorageConfig, SyncReport, SyncStorage};
use twofold_core::transfer::frames;
use twofold_core::vault::{
    CreateOptions, Entry, FileSystem, MemoryTrustStore, NewEntry, TrustStore, VaultEnv,
    VaultSession,
};

pub const PASSWORD: &[u8] = b"correct horse battery staple";

/// A file system in memory (vaults of the simulated devices).
#[derive(Default)]
pub struct MemFs(Mutex<HashMap<PathBuf, Vec<u8>>>);

impl MemFs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Vec<u8>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Every file, to put back later (a vault restored from a copy).
    pub fn snapshot(&self) -> HashMap<PathBuf, Vec<u8>> {
        self.lock().clone()
    }
    pub fn restore(&self, files: HashMap<PathBuf, Vec<u8>>) {
        *self.lock() = files;
    }
}

impl FileSystem for MemFs {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        Ok(self.lock().get(path).cloned())
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        Ok(self.lock().contains_key(path))
    }
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        self.lock().insert(path.to_path_buf(), bytes.to_vec());
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut m = self.lock();
        let v = m
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        m.insert(to.to_path_buf(), v);
        Ok(())
    }
    fn link_or_copy(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut m = self.lock();
        let v = m
            .get(from)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        m.insert(to.to_path_buf(), v);
        Ok(())
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.lock().remove(path);
        Ok(())
    }
    fn sync_dir(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(self
            .lock()
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .cloned()
            .collect())
    }
    fn create_dir_all(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
}

/// One simulated device: a vault in memory with its own clock and trust record.
pub struct Device {
    pub name: String,
    pub session: VaultSession,
    pub fs: Arc<MemFs>,
    pub clock: Arc<AtomicI64>,
    pub trust: Arc<MemoryTrustStore>,
}

pub const START_MS: i64 = 1_700_000_000_000;

impl Device {
    pub fn new(name: &str) -> Self {
        let fs = Arc::new(MemFs::default());
        let clock = Arc::new(AtomicI64::new(START_MS));
        let trust = Arc::new(MemoryTrustStore::new());
        let c = clock.clone();
        let env = VaultEnv {
            fs: fs.clone(),
            clock: Arc::new(move || c.load(Ordering::SeqCst)),
            trust: Some(trust.clone() as Arc<dyn TrustStore>),
            ..VaultEnv::default()
        };
        let (session, _) = VaultSession::create_in(
            Path::new("/vault/vault.twofold"),
            CreateOptions {
                password: PASSWORD,
                kdf: KdfParams::FLOOR,
            },
            env,
        )
        .unwrap();
        Device {
            name: name.into(),
            session,
            fs,
            clock,
            trust,
        }
    }

    /// Another device made from a copy of this one's vault file and trust record (a cloned
    /// or restored phone).
    pub fn clone_of(other: &Device, name: &str) -> Self {
        let fs = Arc::new(MemFs::default());
        fs.restore(other.fs.snapshot());
        let trust = Arc::new(MemoryTrustStore::new());
        if let Some(r) = other.trust.load().unwrap() {
            trust.store(&r).unwrap();
        }
        let clock = Arc::new(AtomicI64::new(other.now()));
        let session = Self::open(&fs, &clock, &trust, false);
        Device {
            name: name.into(),
            session,
            fs,
            clock,
            trust,
        }
    }

    fn open(
        fs: &Arc<MemFs>,
        clock: &Arc<AtomicI64>,
        trust: &Arc<MemoryTrustStore>,
        accept_untrusted: bool,
    ) -> VaultSession {
        let c = clock.clone();
        let env = VaultEnv {
            fs: fs.clone(),
            clock: Arc::new(move || c.load(Ordering::SeqCst)),
            trust: Some(trust.clone() as Arc<dyn TrustStore>),
            ..VaultEnv::default()
        };
        let session = VaultSession::open_in(Path::new("/vault/vault.twofold"), env).unwrap();
        if accept_untrusted {
            session
                .unlock_with_password_accepting_untrusted(PASSWORD)
                .unwrap();
        } else {
            session.unlock_with_password(PASSWORD).unwrap();
        }
        session
    }

    /// Puts back an older copy of the vault file (the user restores a file backup) and
    /// opens it, accepting the rollback as the user would.
    pub fn restore_vault(&mut self, files: HashMap<PathBuf, Vec<u8>>) {
        self.session.lock();
        self.fs.restore(files);
        self.session = Self::open(&self.fs, &self.clock, &self.trust, true);
    }

    /// Moves this device's clock forward.
    pub fn tick(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn sync(&self, storage: &dyn SyncStorage) -> SyncReport {
        self.tick(1000);
        sync::sync(&self.session, storage)
            .unwrap_or_else(|e| panic!("{} failed to sync: {e}", self.name))
    }

    pub fn add(&self, issuer: &str, secret: &[u8]) -> Entry {
        self.tick(1000);
        self.session
            .add_entry(new_entry(issuer, secret), true)
            .unwrap()
    }

    pub fn find(&self, issuer: &str) -> Option<Entry> {
        let all = self.session.read(|c| c.entries.clone()).unwrap();
        all.into_iter().find(|e| e.issuer == issuer)
    }

    /// The content other devices must agree on: entries (with everything but local
    /// statistics), groups, retention.
    pub fn view(&self) -> String {
        self.session
            .read(|c| {
                let mut out = String::new();
                for e in &c.entries {
                    let counter = match e.kind {
                        OtpKind::Hotp { counter, .. } => counter,
                        _ => 0,
                    };
                    out.push_str(&format!(
                        "{} {}|{}|{}|{:?}|{}|{:?}|{}|{:?}|{}|{}\n",
                        e.id,
                        e.issuer,
                        e.account,
                        e.note,
                        e.group_ids,
                        e.favorite,
                        e.deleted_at,
                        e.sort_key,
                        e.kind,
                        twofold_core::crypto::hex(e.secret.expose()),
                        counter
                    ));
                }
                for e in &c.entries {
                    for r in &e.recovery_codes {
                        out.push_str(&format!(
                            "code {} {} {} {:?}\n",
                            e.id, r.code, r.used, r.used_at
                        ));
                    }
                }
                for g in &c.groups {
                    out.push_str(&format!("group {} {} {}\n", g.id, g.name, g.sort_key));
                }
                out.push_str(&format!("retention {}\n", c.settings.trash_retention_days));
                out
            })
            .unwrap()
    }
}

pub fn new_entry(issuer: &str, secret: &[u8]) -> NewEntry {
    NewEntry::new(
        OtpKind::DEFAULT_TOTP,
        Secret::from_bytes(secret.to_vec()).unwrap(),
        issuer.into(),
        "alice".into(),
    )
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `newcomer` joins the group of `member` through the real OTPX/2 flow (invite, sealed
/// bundle, reply, matching codes); then both sync.
pub fn join(member: &Device, newcomer: &Device, storage: &dyn SyncStorage) {
    let rng = SystemRandom::new();
    let now = now_s();
    let mut joiner = Joiner::new(&newcomer.name, now, 600, None, &rng).unwrap();
    let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
    let (mut sender, device) = invite_device(
        &member.session,
        invite,
        true,
        frames::default_frame_bytes(),
        &rng,
    )
    .unwrap();
    assert_eq!(device.name, newcomer.name);
    joiner.receiver().receive_blob(sender.blob(), now).unwrap();
    let reply = joiner.receiver().reply().unwrap();
    let code = sender.accept_reply(&reply, now).unwrap();
    assert_eq!(Some(code), joiner.receiver().confirmation_code());
    confirm_device(&member.session, &device.key, &rng).unwrap();
    joiner.accept(&newcomer.session, None).unwrap();
    member.sync(storage);
    newcomer.sync(storage);
}

/// A group of devices named `names` on `storage`, everyone synced.
pub fn group(names: &[&str], storage: &dyn SyncStorage) -> Vec<Device> {
    let devices: Vec<Device> = names.iter().map(|n| Device::new(n)).collect();
    sync::setup(
        &devices[0].session,
        StorageConfig::App {
            label: "test storage".into(),
        },
        storage,
        &devices[0].name,
    )
    .unwrap();
    for d in &devices[1..] {
        join(&devices[0], d, storage);
    }
    for d in &devices {
        d.sync(storage);
    }
    devices
}

/// The decrypted body of a snapshot file, read with `reader`'s keys.
pub fn open_file(reader: &Device, bytes: &[u8]) -> file::Body {
    let state = sync::state_of(&reader.session).unwrap();
    let parsed = file::parse(bytes).unwrap();
    parsed.verify().unwrap();
    let key = state.epoch_key(&parsed.header.epoch).expect("epoch key");
    parsed.open(key).unwrap()
}

/// Names of `device`'s files in the storage, newest last.
pub fn files_of(device: &Device, storage: &dyn SyncStorage) -> Vec<String> {
    let tag = sync::state_of(&device.session).unwrap().my_tag();
    let mut v: Vec<(u64, String)> = storage
        .list()
        .unwrap()
        .into_iter()
        .filter_map(|f| {
            file::parse_name(&f.name)
                .filter(|(t, _)| *t == tag)
                .map(|(_, g)| (g, f.name))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, n)| n).collect()
}
