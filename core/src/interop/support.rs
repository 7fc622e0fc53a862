//! Helpers shared by the importers: bounded JSON parsing, per-item error collection, base64,
//! the crypto the formats use, and format detection for JSON files.

use serde_json::Value;
use zeroize::Zeroizing;

use super::{Format, ImportError, ImportReport, ImportedEntry, ItemError, MAX_IMPORT_ENTRIES};
use crate::otp::{self, Algorithm, OtpKind};
use crate::secret::Secret;

/// The file as UTF-8 text (a leading byte-order mark is dropped).
pub fn text(bytes: &[u8]) -> Result<&str, ImportError> {
    std::str::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}'))
        .map_err(|_| ImportError::Damaged("the file is not UTF-8 text".into()))
}

/// Parses JSON (serde_json bounds nesting depth at 128, so deep input is an error, not a crash).
pub fn json(text: &str) -> Result<Value, ImportError> {
    serde_json::from_str(text)
        .map_err(|e| ImportError::Damaged(format!("not valid JSON ({})", e.classify_name())))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// Collects entries and per-item errors.
#[derive(Default)]
pub(crate) struct Collector {
    pub entries: Vec<ImportedEntry>,
    pub errors: Vec<ItemError>,
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            entries: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Records the outcome of one item.
    pub fn item(
        &mut self,
        index: usize,
        label: impl Into<String>,
        result: Result<ImportedEntry, String>,
    ) -> Result<(), ImportError> {
        match result {
            Ok(e) => {
                if self.entries.len() >= MAX_IMPORT_ENTRIES {
                    return Err(ImportError::TooManyEntries);
                }
                self.entries.push(e);
            }
            Err(reason) => {
                if self.errors.len() >= MAX_IMPORT_ENTRIES {
                    return Err(ImportError::TooManyEntries);
                }
                self.errors.push(ItemError {
                    index,
                    label: label.into(),
                    reason,
                });
            }
        }
        Ok(())
    }

    pub fn finish(self, format: Format) -> ImportReport {
        ImportReport {
            format,
            entries: self.entries,
            errors: self.errors,
        }
    }
}

/// A string field, or "" when absent or null.
pub fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An unsigned integer field (numbers or numeric strings).
pub fn uint_field(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of a JSON array field, bounded.
pub fn array<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], ImportError> {
    match v.get(key) {
        Some(Value::Array(items)) => {
            if items.len() > MAX_IMPORT_ENTRIES {
                Err(ImportError::TooManyEntries)
            } else {
                Ok(items)
            }
        }
        Some(Value::Null) | None => Ok(&[]),
        Some(_) => Err(ImportError::Damaged(format!("'{key}' is not a list"))),
    }
}

pub(crate) fn algorithm(name: &str) -> Result<Algorithm, String> {
    if name.trim().is_empty() {
        return Ok(Algorithm::Sha1);
    }
    Algorithm::from_name(name).ok_or_else(|| {
        format!(
            "unsupported algorithm '{}'",
            name.chars().take(16).collect::<String>()
        )
    })
}

pub(crate) fn digits(n: Option<u64>) -> Result<u8, String> {
    match n {
        None => Ok(otp::DEFAULT_DIGITS),
        Some(d) if (u64::from(otp::MIN_DIGITS)..=u64::from(otp::MAX_DIGITS)).contains(&d) => {
            Ok(d as u8)
        }
        Some(d) => Err(format!("{d} digits is not supported")),
    }
}

pub(crate) fn period(n: Option<u64>) -> Result<u32, String> {
    match n {
        None => Ok(otp::DEFAULT_PERIOD),
        Some(p) if p >= 1 && p <= u64::from(otp::MAX_PERIOD) => Ok(p as u32),
        Some(p) => Err(format!("period {p} s is not supported")),
    }
}

/// Builds a kind from a type name (`totp`, `hotp`, `steam`, any case) and parameters.
pub fn kind(
    type_name: &str,
    algo: &str,
    digits_n: Option<u64>,
    period_n: Option<u64>,
    counter: Option<u64>,
) -> Result<OtpKind, String> {
    match type_name.to_ascii_lowercase().as_str() {
        "totp" | "" => Ok(OtpKind::Totp {
            algorithm: algorithm(algo)?,
            digits: digits(digits_n)?,
            period: period(period_n)?,
        }),
        "hotp" => Ok(OtpKind::Hotp {
            algorithm: algorithm(algo)?,
            digits: digits(digits_n)?,
            counter: counter.unwrap_or(0),
        }),
        "steam" => Ok(OtpKind::Steam),
        other => Err(format!(
            "unsupported type '{}'",
            other.chars().take(16).collect::<String>()
        )),
    }
}

pub(crate) fn secret_b32(text: &str) -> Result<Secret, String> {
    Secret::from_base32(text).map_err(|e| format!("secret: {e}"))
}

pub(crate) fn b64(text: &str) -> Result<Vec<u8>, ImportError> {
    use base64::Engine;
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(cleaned.trim_end_matches('=').as_bytes())
        })
        .map_err(|_| ImportError::Damaged("invalid base64".into()))
}

/// Standard base64 with padding (for building fixtures of the formats that use it).
pub fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn hex(text: &str) -> Result<Vec<u8>, ImportError> {
    let t = text.trim();
    // Byte-wise slicing below: anything but ASCII hex digits is refused first (a multi-byte
    // character would otherwise split mid-character).
    if !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ImportError::Damaged("invalid hex".into()));
    }
    (0..t.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&t[i..i + 2], 16)
                .map_err(|_| ImportError::Damaged("invalid hex".into()))
        })
        .collect()
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// AES-256-GCM decryption (ciphertext ‖ tag). `None` when authentication fails.
pub fn aes_gcm_open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// AES-256-GCM encryption; returns ciphertext ‖ tag.
pub fn aes_gcm_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte key"));
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    )
    .expect("in-memory encryption");
    buf
}

/// Most PBKDF2 iterations one derivation may ask for (Bitwarden's default is 600 000, andOTP
/// uses 140 000–160 000, Authy API dumps 100 000).
pub const MAX_PBKDF2_ITERATIONS: u64 = 5_000_000;
/// Most memory one password derivation (scrypt, Argon2) may ask for: what a phone survives.
pub const MAX_KDF_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// The ceiling a desktop may allow on request (`twofold import --allow-heavy-kdf`): Ente's
/// strongest exports ask for 1 GiB.
pub const HEAVY_KDF_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;
/// Most Argon2 / scrypt lanes.
pub const MAX_KDF_PARALLELISM: u64 = 16;
/// Most passes of Argon2 one derivation may ask for.
pub const MAX_ARGON2_PASSES: u64 = 64;
/// Most password slots of one file that are tried (Aegis files can carry many).
pub const MAX_PASSWORD_SLOTS: usize = 4;
/// Total password-derivation work one import may spend, in units of about one PBKDF2 block
/// iteration (two hash compressions): scrypt costs N·r·p units, Argon2 2·m(KiB)·t, AES-KDF one
/// unit per 16 rounds. 48 million units is some 20 s on a phone core; every real file needs a
/// small fraction of it (Ente's strongest export 8.4 million, an Aegis slot 0.26 million).
pub const WORK_BUDGET: u64 = 48_000_000;

/// The hash of a PBKDF2 derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    /// PBKDF2-HMAC-SHA1.
    Sha1,
    /// PBKDF2-HMAC-SHA256.
    Sha256,
    /// PBKDF2-HMAC-SHA512.
    Sha512,
}

impl Prf {
    fn output_len(self) -> usize {
        match self {
            Prf::Sha1 => 20,
            Prf::Sha256 => 32,
            Prf::Sha512 => 64,
        }
    }
}

fn hostile(what: &str, detail: impl std::fmt::Display) -> ImportError {
    ImportError::HostileParameters(format!("{what}: {detail}"))
}

/// The password-derivation budget of one import. Every key derivation a file asks for is
/// checked against fixed ceilings and charged here *before* it runs, so a hostile file (huge
/// iteration counts, memory, or thousands of per-entry derivations) fails fast with
/// [`ImportError::HostileParameters`] instead of running for hours.
#[derive(Debug)]
pub struct Work {
    left: std::cell::Cell<u64>,
    /// Most memory one derivation may ask for.
    max_memory: u64,
}

impl Default for Work {
    fn default() -> Self {
        Self::new()
    }
}

impl Work {
    /// A fresh budget of [`WORK_BUDGET`] with the phone memory ceiling ([`MAX_KDF_MEMORY_BYTES`]).
    pub fn new() -> Self {
        Self::with_memory_limit(MAX_KDF_MEMORY_BYTES)
    }

    /// A budget whose derivations may each use up to `max_memory` bytes.
    pub fn with_memory_limit(max_memory: u64) -> Self {
        Work {
            left: std::cell::Cell::new(WORK_BUDGET),
            max_memory,
        }
    }

    /// The refusal of a derivation above the memory ceiling says how a desktop can lift it.
    fn memory_hint(&self) -> &'static str {
        if self.max_memory < HEAVY_KDF_MEMORY_BYTES {
            "; on a desktop, `twofold import --allow-heavy-kdf` reads it"
        } else {
            ""
        }
    }

    /// Most memory one derivation may use.
    pub fn max_memory(&self) -> u64 {
        self.max_memory
    }

    /// Units still available.
    pub fn left(&self) -> u64 {
        self.left.get()
    }

    /// Takes `units` from the budget (`None` = the file's numbers overflowed).
    pub fn charge(&self, units: Option<u64>, what: &str) -> Result<(), ImportError> {
        match units {
            Some(u) if u <= self.left.get() => {
                self.left.set(self.left.get() - u);
                Ok(())
            }
            _ => Err(hostile(
                what,
                format!(
                    "more password-derivation work than one import allows ({WORK_BUDGET} units)"
                ),
            )),
        }
    }

    /// PBKDF2-HMAC filling `out`, after checking the iteration count and charging the work.
    pub fn pbkdf2(
        &self,
        prf: Prf,
        password: &[u8],
        salt: &[u8],
        iterations: u64,
        out: &mut [u8],
        what: &str,
    ) -> Result<(), ImportError> {
        if iterations == 0 {
            return Err(ImportError::Damaged(format!("{what}: 0 PBKDF2 iterations")));
        }
        if iterations > MAX_PBKDF2_ITERATIONS {
            return Err(hostile(
                what,
                format!("{iterations} PBKDF2 iterations (at most {MAX_PBKDF2_ITERATIONS})"),
            ));
        }
        let blocks = out.len().div_ceil(prf.output_len()) as u64;
        self.charge(iterations.checked_mul(blocks), what)?;
        let alg = match prf {
            Prf::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Prf::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Prf::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        };
        let n = std::num::NonZeroU32::new(iterations as u32).expect("checked above");
        ring::pbkdf2::derive(alg, n, salt, password, out);
        Ok(())
    }

    /// PBKDF2-HMAC, 32 bytes.
    pub fn pbkdf2_32(
        &self,
        prf: Prf,
        password: &[u8],
        salt: &[u8],
        iterations: u64,
        what: &str,
    ) -> Result<Zeroizing<[u8; 32]>, ImportError> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.pbkdf2(prf, password, salt, iterations, out.as_mut(), what)?;
        Ok(out)
    }

    /// scrypt, 32 bytes, after checking N, r, p against the memory ceiling and charging N·r·p.
    pub fn scrypt(
        &self,
        password: &[u8],
        salt: &[u8],
        n: u64,
        r: u64,
        p: u64,
        what: &str,
    ) -> Result<Zeroizing<[u8; 32]>, ImportError> {
        let memory = n.checked_mul(r).and_then(|x| x.checked_mul(128));
        if !n.is_power_of_two()
            || n < 2
            || r == 0
            || p == 0
            || r > 64
            || p > MAX_KDF_PARALLELISM
            || memory.is_none_or(|m| m > self.max_memory)
        {
            return Err(hostile(
                what,
                format!(
                    "scrypt N={n} r={r} p={p} (at most {} MiB of memory, {MAX_KDF_PARALLELISM} lanes){}",
                    self.max_memory >> 20,
                    self.memory_hint()
                ),
            ));
        }
        self.charge(n.checked_mul(r).and_then(|x| x.checked_mul(p)), what)?;
        let params = scrypt::Params::new(n.trailing_zeros() as u8, r as u32, p as u32)
            .map_err(|_| hostile(what, format!("scrypt N={n} r={r} p={p}")))?;
        let mut key = Zeroizing::new([0u8; 32]);
        scrypt::scrypt(password, salt, &params, key.as_mut())
            .map_err(|_| ImportError::Damaged(format!("{what}: scrypt failed")))?;
        Ok(key)
    }

    /// Argon2id v1.3, 32 bytes, after checking memory (KiB), passes and lanes and charging
    /// 2·m·t.
    pub fn argon2id(
        &self,
        password: &[u8],
        salt: &[u8],
        m_kib: u64,
        t: u64,
        p: u64,
        what: &str,
    ) -> Result<Zeroizing<[u8; 32]>, ImportError> {
        let refuse = || {
            hostile(
                what,
                format!(
                    "Argon2id m={m_kib} KiB t={t} p={p} (at most {} MiB, {MAX_ARGON2_PASSES} passes, {MAX_KDF_PARALLELISM} lanes){}",
                    self.max_memory >> 20,
                    self.memory_hint()
                ),
            )
        };
        if m_kib.checked_mul(1024).is_none_or(|b| b > self.max_memory)
            || t > MAX_ARGON2_PASSES
            || p > MAX_KDF_PARALLELISM
        {
            return Err(refuse());
        }
        if t == 0 || p == 0 || m_kib < 8 * p {
            return Err(ImportError::Damaged(format!(
                "{what}: invalid Argon2id parameters m={m_kib} KiB t={t} p={p}"
            )));
        }
        self.charge(m_kib.checked_mul(t).and_then(|x| x.checked_mul(2)), what)?;
        let params = crate::crypto::KdfParams {
            m_kib: m_kib as u32,
            t: t as u32,
            p: p as u32,
        };
        crate::crypto::argon2id(password, salt, params).map_err(|e| match e {
            crate::crypto::CryptoError::OutOfMemory { .. } => refuse(),
            other => ImportError::Damaged(format!("{what}: {other}")),
        })
    }
}

/// PBKDF2-HMAC with SHA1 or SHA256, 32 bytes, without a budget: for the exporters and
/// fixture writers, which choose their own parameters.
pub fn pbkdf2(sha256: bool, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let alg = if sha256 {
        ring::pbkdf2::PBKDF2_HMAC_SHA256
    } else {
        ring::pbkdf2::PBKDF2_HMAC_SHA1
    };
    let mut out = Zeroizing::new([0u8; 32]);
    let iterations = std::num::NonZeroU32::new(iterations.max(1)).expect("non-zero");
    ring::pbkdf2::derive(alg, iterations, salt, password, out.as_mut());
    out
}

/// AES-256-CBC with PKCS#7 padding. `None` when the length or the padding is wrong (for
/// formats without a MAC, bad padding is the only sign of a wrong key).
pub fn aes_cbc_open(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
    if data.is_empty() || !data.len().is_multiple_of(16) {
        return None;
    }
    let mut buf = Zeroizing::new(data.to_vec());
    let len = cbc::Decryptor::<aes::Aes256>::new(key.into(), iv.into())
        .decrypt_padded::<Pkcs7>(&mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// AES-256-CBC with PKCS#7 padding (fixtures and round trips).
pub fn aes_cbc_seal(key: &[u8; 32], iv: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    cbc::Encryptor::<aes::Aes256>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plain)
}

/// Checked `a * b` on sizes read from a file.
pub fn checked_size(a: usize, b: usize, what: &str) -> Result<usize, ImportError> {
    a.checked_mul(b)
        .filter(|n| *n <= super::MAX_IMPORT_BYTES)
        .ok_or_else(|| hostile(what, format!("a size of {a} × {b} bytes")))
}

/// Base32 as authenticator apps write it: case, spaces, dashes and padding ignored.
pub fn secret_b32_lenient(text: &str) -> Result<Secret, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    secret_b32(&cleaned)
}

/// A secret from bytes, with the reason as text.
pub fn secret_bytes(bytes: Vec<u8>) -> Result<Secret, String> {
    Secret::from_bytes(bytes).map_err(|e| format!("secret: {e}"))
}

/// An entry an OTP engine we do not have would need: reported by name, never dropped.
pub fn unsupported_kind(name: &str) -> String {
    format!("{name} codes are not supported by Twofold (the account was not imported)")
}

/// Which JSON format a document is, from its keys.
pub fn detect_json(text: &str) -> Option<Format> {
    let v: Value = serde_json::from_str(text).ok()?;
    match &v {
        Value::Array(items) => {
            let first = items.first()?;
            let has = |k: &str| first.get(k).is_some();
            if has("otpGenerator") {
                Some(Format::Duo)
            } else if has("decryptedSecret")
                || has("encryptedSecret")
                || has("secretSeed")
                || has("encrypted_seed")
            {
                Some(Format::Authy)
            } else if has("kind") && (has("timer") || has("iconType")) {
                Some(Format::Raivo)
            } else if first.get("secret").is_some()
                && (first.get("type").is_some() || first.get("label").is_some())
            {
                Some(Format::AndOtp)
            } else {
                None
            }
        }
        Value::Object(o) => {
            let first_of = |k: &str| -> Option<&Value> {
                match o.get(k)? {
                    Value::Array(a) => a.first(),
                    Value::Object(m) => m.values().next(),
                    _ => None,
                }
            };
            if o.contains_key("Authenticators") {
                Some(Format::Stratum)
            } else if o.contains_key("shared_secret")
                || first_of("accounts").is_some_and(|a| a.get("shared_secret").is_some())
            {
                Some(Format::Steam)
            } else if first_of("accounts").is_some_and(|a| a.get("vaults").is_some()) {
                Some(Format::OnePassword)
            } else if first_of("accounts")
                .is_some_and(|a| a.get("issuerName").is_some() || a.get("timeStep").is_some())
            {
                Some(Format::LastPass)
            } else if o.contains_key("authenticator_tokens") || o.contains_key("authy_tokens") {
                Some(Format::Authy)
            } else if o.contains_key("vaults")
                && (o.contains_key("userId") || o.contains_key("encrypted"))
            {
                Some(Format::ProtonPass)
            } else if o.contains_key("header") && o.contains_key("db") {
                Some(Format::Aegis)
            } else if o.contains_key("services")
                && (o.contains_key("schemaVersion") || o.contains_key("servicesEncrypted"))
            {
                Some(Format::TwoFas)
            } else if o.contains_key("items") && o.contains_key("encrypted")
                || o.contains_key("encKeyValidation_DO_NOT_EDIT")
                || o.get("passwordProtected").is_some()
            {
                Some(Format::BitwardenJson)
            } else if o.contains_key("kdfParams") && o.contains_key("encryptedData") {
                Some(Format::EnteEncrypted)
            } else if o.contains_key("tokens") {
                Some(Format::FreeOtpPlus)
            } else if o.contains_key("entries") && o.contains_key("version")
                || o.contains_key("salt") && o.contains_key("content")
            {
                Some(Format::Proton)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A password manager's TOTP field: an otpauth URI, `steam://SECRET`, or a bare base32
/// secret. Names the value lacks come from the item (`title`, `username`).
pub fn totp_field(value: &str, title: &str, username: &str) -> Result<ImportedEntry, String> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let mut entry = if lower.starts_with("otpauth://") {
        ImportedEntry::from_credential(crate::uri::parse(v).map_err(|e| e.to_string())?)
    } else if let Some(secret) = lower.strip_prefix("steam://").map(|_| &v[8..]) {
        ImportedEntry::new(
            OtpKind::Steam,
            secret_b32_lenient(secret)?,
            String::new(),
            String::new(),
        )
    } else if v.contains("://") {
        return Err("the TOTP field is neither an otpauth URI nor a secret".into());
    } else {
        ImportedEntry::new(
            OtpKind::DEFAULT_TOTP,
            secret_b32_lenient(v)?,
            String::new(),
            String::new(),
        )
    };
    if entry.issuer.is_empty() {
        entry.issuer = title.trim().to_owned();
    }
    if entry.account.is_empty() {
        entry.account = username.trim().to_owned();
    }
    Ok(entry)
}
