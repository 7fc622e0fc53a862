//! Import from and export to other authenticator apps' formats.
//!
//! An import never stops at the first bad entry: it returns every entry it could read plus a
//! per-item error list. Whole-file problems — a missing or wrong password, a damaged file, an
//! unknown format, hostile sizes or parameters — are distinct [`ImportError`]s. Facts about each
//! format are in `../shared/FORMATS.md` and `../shared/FORMATS-MORE.md`; one module per app.
//! Containers (ZIP, SQLite, preferences XML) are read by `container` with fixed limits, and
//! every password derivation a file asks for is checked and charged against one budget per
//! import (`support::Work`) before it runs.

pub mod aegis;
pub mod andotp;
pub(crate) mod authplus;
pub(crate) mod authy;
pub mod battlenet;
pub mod bitwarden;
pub(crate) mod container;
pub mod cxf;
pub(crate) mod duo;
pub mod enroll;
pub mod ente;
pub mod export;
pub(crate) mod freeotp;
pub(crate) mod freeotp_backup;
pub mod google;
pub(crate) mod keepass;
pub(crate) mod lastpass;
pub(crate) mod msauth;
pub(crate) mod onepassword;
pub mod otpauth_list;
mod pending;
pub mod proton;
pub(crate) mod protonpass;
pub(crate) mod raivo;
pub(crate) mod steam;
pub mod stratum;
pub mod support;
pub mod totp_authenticator;
pub mod twofas;
pub(crate) mod winauth;

pub use pending::PendingAccounts;

use crate::otp::OtpKind;
use crate::secret::Secret;
use crate::uri::Credential;

/// Largest file an import reads (real exports are kilobytes).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;
/// Most entries one import yields (as many as a vault holds).
pub const MAX_IMPORT_ENTRIES: usize = crate::limits::MAX_ENTRIES;

/// An account read from another app's file, a QR code or a transfer (where it is also the
/// wire format of one account, see `docs/transfer-protocol.md` §3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportedEntry {
    /// The kind of code and its parameters.
    pub kind: OtpKind,
    /// The key.
    pub secret: Secret,
    /// Service name; empty when the source had none.
    pub issuer: String,
    /// Account name; empty when the source had none.
    pub account: String,
    /// The source app's note or comment field; empty when none.
    #[serde(default)]
    pub note: String,
    /// Whether the source app had it pinned or starred.
    #[serde(default)]
    pub favorite: bool,
    /// Group / tag / folder names the source app had.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The account's recovery codes, where the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<crate::vault::recovery_codes::RecoveryCode>,
}

impl ImportedEntry {
    /// An account with no note, not a favorite, in no group.
    pub fn new(kind: OtpKind, secret: Secret, issuer: String, account: String) -> Self {
        ImportedEntry {
            kind,
            secret,
            issuer,
            account,
            note: String::new(),
            favorite: false,
            groups: Vec::new(),
            recovery_codes: Vec::new(),
        }
    }

    /// The account an otpauth URI describes.
    pub fn from_credential(c: Credential) -> Self {
        Self::new(
            c.kind,
            c.secret.clone(),
            c.issuer.clone(),
            c.account.clone(),
        )
    }

    /// Moves a clear recovery-codes block of the note ("Recovery codes:" and the codes after
    /// it, see [`crate::vault::recovery_codes::split_note`]) into [`ImportedEntry::recovery_codes`];
    /// the rest of the note stays. A block with a code Twofold cannot store stays in the
    /// note whole.
    pub fn take_recovery_codes_from_note(&mut self) {
        use crate::vault::recovery_codes as codes;
        let (found, rest) = codes::split_note(&self.note);
        if found.is_empty() {
            return;
        }
        let mut list = self.recovery_codes.clone();
        if codes::add_to(&mut list, &found).is_ok() {
            self.recovery_codes = list;
            self.note = rest;
        }
    }

    /// Same secret and kind of code as another imported entry.
    pub fn same_account(&self, other: &ImportedEntry) -> bool {
        self.secret == other.secret && crate::vault::model::same_kind(&self.kind, &other.kind)
    }

    /// "Issuer (account)" for messages.
    pub fn label(&self) -> String {
        crate::vault::model::label(&self.issuer, &self.account)
    }
}

/// One entry that could not be read, and why (never containing its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// 0-based position of the item in the file.
    pub index: usize,
    /// What the file called it, when that much was readable.
    pub label: String,
    /// Why it could not be read (never containing its secret).
    pub reason: String,
}

/// The result of reading a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The format the file was read as (detected or given).
    pub format: Format,
    /// Every account that could be read, in file order.
    pub entries: Vec<ImportedEntry>,
    /// The items that could not be read.
    pub errors: Vec<ItemError>,
}

/// Formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One otpauth:// (or otpauth-migration://) URI per line; also Ente Auth's plain export.
    OtpauthList,
    /// Aegis Authenticator's JSON export, plain or encrypted.
    Aegis,
    /// 2FAS Authenticator's `.2fas` backup, plain or encrypted.
    TwoFas,
    /// andOTP's plain JSON backup.
    AndOtp,
    /// andOTP's encrypted binary backup (current or old layout).
    AndOtpEncrypted,
    /// Bitwarden's JSON export (plain or password-protected); its TOTP fields.
    BitwardenJson,
    /// Bitwarden's CSV export (the `login_totp` column).
    BitwardenCsv,
    /// Ente Auth's encrypted export.
    EnteEncrypted,
    /// FreeOTP+'s JSON backup.
    FreeOtpPlus,
    /// Proton Authenticator's export, plain or encrypted.
    Proton,
    /// Google Authenticator `otpauth-migration://` URIs (one or several lines).
    GoogleMigration,
    /// Authy's token files (Android preferences XML or JSON token lists; plain or encrypted).
    Authy,
    /// Authenticator Pro / Stratum backups: plain JSON, encrypted (Argon2id + AES-GCM) and
    /// legacy encrypted (PBKDF2 + AES-CBC).
    Stratum,
    /// Authenticator Pro / Stratum's internal SQLite database.
    StratumDb,
    /// The original FreeOTP: v1 `tokens.xml` and the v2 encrypted backup (`externalBackup.xml`).
    FreeOtp,
    /// TOTP Authenticator (BinaryBoot): encrypted backup or the app's preferences file.
    TotpAuthenticator,
    /// Battle.net Authenticator's preferences (obfuscated secret), new app and old BMA.
    BattleNet,
    /// Duo Mobile's `accounts.json`.
    Duo,
    /// Steam: Steam Desktop Authenticator `.maFile` (or its zipped, possibly encrypted,
    /// maFiles folder) and the Steam app's own files.
    Steam,
    /// WinAuth's text export (also zipped with a password).
    WinAuth,
    /// Authenticator Plus's password-protected ZIP (`Accounts.txt`).
    AuthenticatorPlus,
    /// Google Authenticator's internal SQLite database.
    GoogleAuthenticatorDb,
    /// Microsoft Authenticator's internal SQLite database.
    MicrosoftAuthenticator,
    /// KeePass / KeePassXC databases (KDBX 3.1 and 4).
    KeePass,
    /// LastPass Authenticator's JSON export.
    LastPass,
    /// Raivo OTP's password-protected ZIP export.
    Raivo,
    /// 1Password `.1pux` export.
    OnePassword,
    /// Proton Pass export (ZIP or `data.json`).
    ProtonPass,
}

impl Format {
    /// Every format, in the order detection and help text list them.
    pub const ALL: [Format; 28] = [
        Format::OtpauthList,
        Format::Aegis,
        Format::TwoFas,
        Format::AndOtp,
        Format::AndOtpEncrypted,
        Format::BitwardenJson,
        Format::BitwardenCsv,
        Format::EnteEncrypted,
        Format::FreeOtpPlus,
        Format::Proton,
        Format::GoogleMigration,
        Format::Authy,
        Format::Stratum,
        Format::StratumDb,
        Format::FreeOtp,
        Format::TotpAuthenticator,
        Format::BattleNet,
        Format::Duo,
        Format::Steam,
        Format::WinAuth,
        Format::AuthenticatorPlus,
        Format::GoogleAuthenticatorDb,
        Format::MicrosoftAuthenticator,
        Format::KeePass,
        Format::LastPass,
        Format::Raivo,
        Format::OnePassword,
        Format::ProtonPass,
    ];

    /// Short name used by the CLI (`--format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::OtpauthList => "otpauth",
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::AndOtp => "andotp",
            Format::AndOtpEncrypted => "andotp-encrypted",
            Format::BitwardenJson => "bitwarden",
            Format::BitwardenCsv => "bitwarden-csv",
            Format::EnteEncrypted => "ente-encrypted",
            Format::FreeOtpPlus => "freeotp-plus",
            Format::Proton => "proton",
            Format::GoogleMigration => "google",
            Format::Authy => "authy",
            Format::Stratum => "authenticator-pro",
            Format::StratumDb => "authenticator-pro-db",
            Format::FreeOtp => "freeotp",
            Format::TotpAuthenticator => "totp-authenticator",
            Format::BattleNet => "battlenet",
            Format::Duo => "duo",
            Format::Steam => "steam",
            Format::WinAuth => "winauth",
            Format::AuthenticatorPlus => "authenticator-plus",
            Format::GoogleAuthenticatorDb => "google-db",
            Format::MicrosoftAuthenticator => "microsoft-authenticator",
            Format::KeePass => "keepass",
            Format::LastPass => "lastpass",
            Format::Raivo => "raivo",
            Format::OnePassword => "1password",
            Format::ProtonPass => "proton-pass",
        }
    }

    /// The format a `--format` name or alias names (case-insensitive); `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == n)
            .or(match n.as_str() {
                "ente" | "otpauth-list" | "uri" | "uris" => Some(Format::OtpauthList),
                "twofas" => Some(Format::TwoFas),
                "bitwarden-json" => Some(Format::BitwardenJson),
                "freeotp+" | "freeotpplus" => Some(Format::FreeOtpPlus),
                "google-migration" | "google-authenticator" => Some(Format::GoogleMigration),
                "stratum" | "authenticatorpro" => Some(Format::Stratum),
                "stratum-db" => Some(Format::StratumDb),
                "battle.net" | "blizzard" => Some(Format::BattleNet),
                "duo-mobile" => Some(Format::Duo),
                "steam-desktop-authenticator" | "mafile" | "sda" => Some(Format::Steam),
                "authenticatorplus" => Some(Format::AuthenticatorPlus),
                "google-authenticator-db" => Some(Format::GoogleAuthenticatorDb),
                "microsoft" | "msauth" => Some(Format::MicrosoftAuthenticator),
                "kdbx" | "keepassxc" => Some(Format::KeePass),
                "lastpass-authenticator" => Some(Format::LastPass),
                "raivo-otp" => Some(Format::Raivo),
                "1pux" | "onepassword" => Some(Format::OnePassword),
                "protonpass" => Some(Format::ProtonPass),
                "totpauthenticator" => Some(Format::TotpAuthenticator),
                _ => None,
            })
    }

    /// [`Format::from_name`], or [`ImportError::UnknownFormat`] listing the names.
    pub fn parse_name(name: &str) -> Result<Self, ImportError> {
        Self::from_name(name).ok_or_else(|| ImportError::UnknownFormat(Self::names()))
    }

    /// Every format's `--format` name, comma-separated.
    pub fn names() -> String {
        Format::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a whole file could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is encrypted and no password was given.
    #[error("the file is encrypted: a password is needed")]
    PasswordRequired,
    /// The password does not open the file.
    #[error("wrong password for this file")]
    WrongPassword,
    /// The file is truncated or its structure is broken; the detail says where.
    #[error("the file is damaged: {0}")]
    Damaged(String),
    /// No known format matched; lists the formats tried.
    #[error("not a format Twofold can import (tried: {0})")]
    UnknownFormat(String),
    /// Larger than [`MAX_IMPORT_BYTES`]; carries the size in bytes.
    #[error("the file is too large ({0} bytes; at most {MAX_IMPORT_BYTES})")]
    TooLarge(usize),
    /// More than [`MAX_IMPORT_ENTRIES`] accounts.
    #[error("the file holds too many entries (more than {MAX_IMPORT_ENTRIES})")]
    TooManyEntries,
    /// The file asks for more work or memory than an import allows (key derivation
    /// parameters, ZIP expansion, database size, XML entities): the detail says what.
    #[error("refused, the file asks for more than an import allows: {0}")]
    HostileParameters(String),
    /// A known format in a variant or version we do not read (the detail says which).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// Guesses the format from the bytes (content, not file name).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if container::is_zip(bytes) {
        return detect_zip(bytes);
    }
    if container::is_sqlite(bytes) {
        return detect_sqlite(bytes);
    }
    if keepass::looks_like_kdbx(bytes) {
        return Some(Format::KeePass);
    }
    if freeotp_backup::looks_like(bytes) {
        return Some(Format::FreeOtp);
    }
    if stratum::looks_encrypted(bytes) {
        return Some(Format::Stratum);
    }
    let text = std::str::from_utf8(bytes)
        .ok()
        .map(|t| t.trim_start_matches('\u{feff}').trim());
    if let Some(text) = text {
        if text.starts_with('{') || text.starts_with('[') {
            return support::detect_json(text);
        }
        if text.starts_with('<') {
            return detect_prefs(text);
        }
        if totp_authenticator::looks_encrypted(text) {
            return Some(Format::TotpAuthenticator);
        }
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        if first.starts_with("otpauth-migration://") {
            return Some(Format::GoogleMigration);
        }
        if first.starts_with("otpauth://") {
            return Some(Format::OtpauthList);
        }
        if first.to_ascii_lowercase().contains("login_totp") {
            return Some(Format::BitwardenCsv);
        }
    }
    if andotp::looks_encrypted(bytes) {
        return Some(Format::AndOtpEncrypted);
    }
    None
}

/// Which app a ZIP archive comes from, by the names inside.
fn detect_zip(bytes: &[u8]) -> Option<Format> {
    let zip = container::Zip::open(bytes).ok()?;
    let names = zip.names();
    let has = |base: &str| zip.find(base).is_some();
    if has("raivo-otp-export.json") {
        Some(Format::Raivo)
    } else if has("export.data") && has("export.attributes") {
        Some(Format::OnePassword)
    } else if names.iter().any(|n| n.ends_with("Proton Pass/data.json")) || has("data.json") {
        Some(Format::ProtonPass)
    } else if has("Accounts.txt") {
        Some(Format::AuthenticatorPlus)
    } else if has("manifest.json") || names.iter().any(|n| n.ends_with(".maFile")) {
        Some(Format::Steam)
    } else if names
        .iter()
        .any(|n| n.to_ascii_lowercase().ends_with(".txt"))
    {
        Some(Format::WinAuth)
    } else {
        None
    }
}

/// Which app's internal database this is, by its tables.
fn detect_sqlite(bytes: &[u8]) -> Option<Format> {
    let db = container::Db::open(bytes).ok()?;
    let accounts = db.columns("accounts").ok()?.unwrap_or_default();
    if accounts.iter().any(|c| c == "oath_secret_key") {
        Some(Format::MicrosoftAuthenticator)
    } else if accounts.iter().any(|c| c == "email") && accounts.iter().any(|c| c == "secret") {
        Some(Format::GoogleAuthenticatorDb)
    } else if db.columns("authenticator").ok()?.is_some() {
        Some(Format::StratumDb)
    } else {
        None
    }
}

/// Which app an Android preferences file belongs to, by its keys.
fn detect_prefs(text: &str) -> Option<Format> {
    if !container::looks_like_prefs_xml(text) {
        return None;
    }
    if text.contains("com.authy.storage.tokens") {
        Some(Format::Authy)
    } else if text.contains("com.blizzard.") {
        Some(Format::BattleNet)
    } else if text.contains("STATIC_TOTP_CODES_LIST") {
        Some(Format::TotpAuthenticator)
    } else if text.contains("tokenOrder") || text.contains("&quot;issuerExt&quot;") {
        Some(Format::FreeOtp)
    } else {
        None
    }
}

/// Reads a file: auto-detects the format unless given, decrypts with `password` when needed.
pub fn import(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&[u8]>,
) -> Result<ImportReport, ImportError> {
    import_with_key_file(bytes, format, password, None)
}

/// [`import`] with a KeePass key file (the other formats have none and ignore it).
pub fn import_with_key_file(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&[u8]>,
    key_file: Option<&[u8]>,
) -> Result<ImportReport, ImportError> {
    import_with(
        bytes,
        &ImportOptions {
            format,
            password,
            key_file,
            heavy_kdf: false,
        },
    )
}

/// How to read an import file.
#[derive(Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// The format, or `None` to detect it from the contents.
    pub format: Option<Format>,
    /// The file's password, when it is encrypted.
    pub password: Option<&'a [u8]>,
    /// A KeePass key file.
    pub key_file: Option<&'a [u8]>,
    /// Allow key derivations of up to 1 GiB instead of the 256 MiB a phone survives (desktop
    /// only: Ente's strongest exports need it).
    pub heavy_kdf: bool,
}

/// Reads a file with [`ImportOptions`].
pub fn import_with(bytes: &[u8], options: &ImportOptions<'_>) -> Result<ImportReport, ImportError> {
    let ImportOptions {
        format,
        password,
        key_file,
        heavy_kdf,
    } = *options;
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let format = match format.or_else(|| detect(bytes)) {
        Some(f) => f,
        None => {
            // A container that could not even be opened says why (a bomb, a damaged file).
            if container::is_zip(bytes) {
                container::Zip::open(bytes)?;
            }
            if container::is_sqlite(bytes) {
                container::Db::open(bytes)?;
            }
            return Err(ImportError::UnknownFormat(Format::names()));
        }
    };
    let work = support::Work::with_memory_limit(if heavy_kdf {
        support::HEAVY_KDF_MEMORY_BYTES
    } else {
        support::MAX_KDF_MEMORY_BYTES
    });
    let w = &work;
    let mut report = match format {
        Format::OtpauthList => otpauth_list::import(support::text(bytes)?),
        Format::GoogleMigration => google::import_text(support::text(bytes)?),
        Format::Aegis => aegis::import(support::text(bytes)?, password, w),
        Format::TwoFas => twofas::import(support::text(bytes)?, password, w),
        Format::AndOtp => andotp::import_plain(support::text(bytes)?),
        Format::AndOtpEncrypted => andotp::import_encrypted(bytes, password, w),
        Format::BitwardenJson => bitwarden::import_json(support::text(bytes)?, password, w),
        Format::BitwardenCsv => bitwarden::import_csv(support::text(bytes)?),
        Format::EnteEncrypted => ente::import_encrypted(support::text(bytes)?, password, w),
        Format::FreeOtpPlus => freeotp::import(support::text(bytes)?),
        Format::Proton => proton::import(support::text(bytes)?, password, w),
        Format::Authy => authy::import(support::text(bytes)?, password, w),
        Format::Stratum => stratum::import(bytes, password, w),
        Format::StratumDb => stratum::import_db(bytes),
        Format::FreeOtp => freeotp_backup::import(bytes, password, w),
        Format::TotpAuthenticator => totp_authenticator::import(support::text(bytes)?, password),
        Format::BattleNet => battlenet::import(support::text(bytes)?),
        Format::Duo => duo::import(support::text(bytes)?),
        Format::Steam => steam::import(bytes, password, w),
        Format::WinAuth => winauth::import(bytes, password),
        Format::AuthenticatorPlus => authplus::import(bytes, password),
        Format::GoogleAuthenticatorDb => google::import_db(bytes),
        Format::MicrosoftAuthenticator => msauth::import(bytes),
        Format::KeePass => keepass::import(bytes, password, key_file, w),
        Format::LastPass => lastpass::import(support::text(bytes)?),
        Format::Raivo => raivo::import(bytes, password),
        Format::OnePassword => onepassword::import(bytes),
        Format::ProtonPass => protonpass::import(bytes),
    }?;
    report.format = format;
    if matches!(
        format,
        Format::TwoFas
            | Format::OtpauthList
            | Format::EnteEncrypted
            | Format::BitwardenJson
            | Format::BitwardenCsv
    ) {
        // These apps keep recovery codes in the account's note, if anywhere.
        for e in &mut report.entries {
            e.take_recovery_codes_from_note();
        }
    }
    if report.entries.len() > MAX_IMPORT_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    Ok(report)
}

/// Adds imported, scanned or transferred accounts to an unlocked vault in one write, under
/// [`crate::vault::InsertPolicy::IMPORT`]: an account the vault already has (same secret and
/// kind) is reported, not doubled; groups are created by name; an account that breaks a
/// limit is reported with its reason and the rest go in.
pub fn add_to_vault(
    session: &crate::vault::VaultSession,
    entries: Vec<ImportedEntry>,
) -> Result<crate::vault::InsertReport, crate::vault::VaultError> {
    session.insert(
        entries
            .into_iter()
            .map(crate::vault::NewEntry::from_imported)
            .collect(),
        crate::vault::InsertPolicy::IMPORT,
    )
}
