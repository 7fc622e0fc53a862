//! Helpers shared by the vault and backup integration tests.
#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use twofold_core::Secret;
use twofold_core::crypto::{CryptoError, KdfParams, RandomSource, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::uri;
use twofold_core::vault::{
    CreateOptions, FileSystem, MemoryTrustStore, NewEntry, OsFileSystem, RecoveryKey, TrustStore,
    VaultEnv, VaultSession,
};

pub const PASSWORD: &[u8] = b"correct horse battery staple";
/// The cheapest parameters a file may carry; keeps tests fast.
pub const FAST: KdfParams = KdfParams::FLOOR;

pub fn entry(uri_text: &str) -> NewEntry {
    NewEntry::from_credential(uri::parse(uri_text).unwrap())
}

pub fn totp(issuer: &str, account: &str, secret_b32: &str) -> NewEntry {
    NewEntry::new(
        OtpKind::DEFAULT_TOTP,
        Secret::from_base32(secret_b32).unwrap(),
        issuer.into(),
        account.into(),
    )
}

pub fn env_with(fs: Arc<dyn FileSystem>) -> VaultEnv {
    VaultEnv {
        fs,
        ..VaultEnv::default()
    }
}

/// An environment with an in-memory trust record (what the apps keep in the keystore).
pub fn trusted_env(trust: &Arc<MemoryTrustStore>) -> VaultEnv {
    VaultEnv {
        trust: Some(trust.clone() as Arc<dyn TrustStore>),
        ..VaultEnv::default()
    }
}

/// A new vault on a device that keeps a trust record; returns the record's store too.
pub fn create_trusted(path: &Path) -> (VaultSession, RecoveryKey, Arc<MemoryTrustStore>) {
    let trust = Arc::new(MemoryTrustStore::new());
    let (s, r) = create_in(path, trusted_env(&trust));
    (s, r, trust)
}

/// Opens a vault on the device whose trust record is `trust`.
pub fn open_trusted(path: &Path, trust: &Arc<MemoryTrustStore>) -> VaultSession {
    VaultSession::open_in(path, trusted_env(trust)).unwrap()
}

/// PIN slots need Argon2id at the default cost or more.
pub const PIN_KDF: KdfParams = KdfParams::DEFAULT;

pub fn create(path: &Path) -> (VaultSession, RecoveryKey) {
    VaultSession::create(
        path,
        CreateOptions {
            password: PASSWORD,
            kdf: FAST,
        },
    )
    .unwrap()
}

pub fn create_in(path: &Path, env: VaultEnv) -> (VaultSession, RecoveryKey) {
    VaultSession::create_in(
        path,
        CreateOptions {
            password: PASSWORD,
            kdf: FAST,
        },
        env,
    )
    .unwrap()
}

/// A deterministic random source (SHA-256 in counter mode over a seed), for the worked
/// examples in the format documents.
pub struct SeededRandom {
    seed: Vec<u8>,
    counter: AtomicU64,
}

impl SeededRandom {
    pub fn new(seed: &[u8]) -> Self {
        SeededRandom {
            seed: seed.to_vec(),
            counter: AtomicU64::new(0),
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::SeqCst);
            let mut input = self.seed.clone();
            input.extend_from_slice(&n.to_be_bytes());
            let d = ring::digest::digest(&ring::digest::SHA256, &input);
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A clock the test moves by hand.
pub fn manual_clock(start_ms: i64) -> (Arc<AtomicI64>, Arc<dyn Fn() -> i64 + Send + Sync>) {
    let t = Arc::new(AtomicI64::new(start_ms));
    let t2 = t.clone();
    (t, Arc::new(move || t2.load(Ordering::SeqCst)))
}

pub fn system_rng() -> Arc<dyn RandomSource> {
    Arc::new(SystemRandom::new())
}

/// What the faulty file system does to the Nth mutating operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fail with "no space left on device".
    NoSpace,
    /// Fail with an I/O error.
    Eio,
    /// Write only the first half of the bytes and report success.
    SilentShortWrite,
    /// Write only the first half of the bytes, then fail.
    ShortWriteThenError,
}

/// The real file system with one injected fault at mutating operation number `fail_at`
/// (writes, renames, links, removes and directory syncs are counted).
pub struct FaultyFs {
    pub inner: OsFileSystem,
    pub fail_at: usize,
    pub fault: Fault,
    pub ops: AtomicUsize,
    pub log: Mutex<Vec<String>>,
}

impl FaultyFs {
    pub fn new(fail_at: usize, fault: Fault) -> Self {
        FaultyFs {
            inner: OsFileSystem,
            fail_at,
            fault,
            ops: AtomicUsize::new(0),
            log: Mutex::new(vec![]),
        }
    }

    fn tick(&self, what: &str) -> bool {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(what.to_owned());
        n == self.fail_at
    }

    fn error(&self) -> io::Error {
        match self.fault {
            Fault::NoSpace => io::Error::from_raw_os_error(28),
            _ => io::Error::from_raw_os_error(5),
        }
    }
}

impl FileSystem for FaultyFs {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        self.inner.read(path)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.inner.exists(path)
    }
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        if self.tick("write") {
            return match self.fault {
                Fault::SilentShortWrite => self.inner.write_synced(path, &bytes[..bytes.len() / 2]),
                Fault::ShortWriteThenError => {
                    self.inner.write_synced(path, &bytes[..bytes.len() / 2])?;
                    Err(io::Error::from_raw_os_error(28))
                }
                _ => Err(self.error()),
            };
        }
        self.inner.write_synced(path, bytes)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.tick("rename") {
            return Err(self.error());
        }
        self.inner.rename(from, to)
    }
    fn link_or_copy(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.tick("link") {
            return Err(self.error());
        }
        self.inner.link_or_copy(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        if self.tick("remove") {
            return Err(self.error());
        }
        self.inner.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if self.tick("sync_dir") {
            return Err(self.error());
        }
        self.inner.sync_dir(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        self.inner.list(dir)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
}

// ----- generated examples in the docs -----

/// Byte range of the text between `<!-- example:NAME -->` and `<!-- /example:NAME -->`.
pub fn section_range(doc: &str, name: &str) -> std::ops::Range<usize> {
    let start_marker = format!("<!-- example:{name} -->\n");
    let end_marker = format!("<!-- /example:{name} -->");
    let start = doc
        .find(&start_marker)
        .unwrap_or_else(|| panic!("no {start_marker}"))
        + start_marker.len();
    let end = doc[start..].find(&end_marker).unwrap() + start;
    start..end
}

pub fn section<'a>(doc: &'a str, name: &str) -> &'a str {
    &doc[section_range(doc, name)]
}

pub fn check_or_update(file: &str, name: &str, text: &str) {
    let path = format!("{}/../docs/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap();
    if std::env::var_os("TWOFOLD_UPDATE_DOCS").is_some() {
        let mut updated = doc.clone();
        updated.replace_range(section_range(&doc, name), text);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        section(&doc, name),
        text,
        "{file} is out of date: run TWOFOLD_UPDATE_DOCS=1 cargo test --test format_examples"
    );
}

// ----- forging files, as an attacker with write access would -----

/// The parts of a version 2 file, cut by the documented framing.
pub struct Cut {
    pub header: twofold_core::vault::container::Header,
    pub nonce_and_body: Vec<u8>,
}

/// Cuts a file by its framing alone (nothing is verified).
pub fn cut(bytes: &[u8]) -> Cut {
    let header_len = u32::from_be_bytes(bytes[6..10].try_into().unwrap()) as usize;
    let header: twofold_core::vault::container::Header =
        rmp_serde::from_slice(&bytes[10..10 + header_len]).unwrap();
    let body_end = bytes.len() - 64 * header.signers.len();
    Cut {
        header,
        nonce_and_body: bytes[10 + header_len..body_end].to_vec(),
    }
}

/// Assembles a file from a header and an encrypted body and signs it with `keys` (which
/// become the header's signers).
pub fn assemble(
    magic: [u8; 4],
    mut header: twofold_core::vault::container::Header,
    nonce_and_body: &[u8],
    keys: &[&twofold_core::crypto::SigningKey],
) -> Vec<u8> {
    header.signers = keys.iter().map(|k| k.public()).collect();
    let h = rmp_serde::to_vec_named(&header).unwrap();
    let mut out = magic.to_vec();
    out.extend_from_slice(&2u16.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(nonce_and_body);
    let mut message = b"twofold/v2/sign".to_vec();
    message.extend_from_slice(&out);
    for k in keys {
        out.extend_from_slice(&k.sign(&message));
    }
    out
}

/// Edits a file's header and signs it again with an attacker's own key (endorsements keep
/// their MACs but now name the attacker's key, so they no longer verify).
pub fn resign(
    bytes: &[u8],
    edit: impl FnOnce(&mut twofold_core::vault::container::Header),
) -> Vec<u8> {
    let Cut {
        mut header,
        nonce_and_body,
    } = cut(bytes);
    edit(&mut header);
    let attacker = twofold_core::crypto::SigningKey::from_seed(&[0xa7; 32]);
    for slot in &mut header.slots {
        if let Some(e) = slot.endorsement.as_mut() {
            e.signer = attacker.public();
        }
    }
    header.succession = None;
    assemble(
        [bytes[0], bytes[1], bytes[2], bytes[3]],
        header,
        &nonce_and_body,
        &[&attacker],
    )
}

/// Lower-case hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The bytes of hex text.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `s` in lines of 64 characters, as the format documents print long values.
pub fn wrap64(s: &str) -> String {
    s.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hex of `b` in lines of 64 characters.
pub fn hex_block(b: &[u8]) -> String {
    wrap64(&hex(b))
}
