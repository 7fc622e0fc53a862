//! The one error type the apps see. Variants are stable; each is something the UI can act on.

use twofold_core::crypto::CryptoError;
use twofold_core::uri::UriError;
use twofold_core::vault::VaultError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TwofoldError {
    /// Password, PIN, recovery key or platform key does not open the vault or backup.
    #[error("wrong password or key")]
    WrongCredential,
    /// A typed recovery key has a typo (checksum) or the wrong length.
    #[error("{details}")]
    RecoveryKeyTypo { details: String },
    /// The file is damaged or was tampered with (and so is its previous generation).
    #[error("{details}")]
    VaultCorrupt { details: String },
    /// A well-formed file not written with this vault's keys (or not descending from those
    /// this device last saw): someone may have forged it. Nothing was opened or changed.
    #[error("{details}")]
    VaultForged { details: String },
    /// The file is older than the one this device last saw: an old copy was put back. The
    /// user may accept it on purpose with the password (`unlockWithPasswordAcceptingRollback`).
    #[error("{details}")]
    VaultRolledBack {
        found: u64,
        expected: u64,
        details: String,
    },
    /// The file opened but cannot be shown to be this vault's with what the device knows
    /// (made by Twofold 0.1, or a slot not confirmed since the upgrade, on a device with no
    /// record): ask the user, then `unlockWithPasswordAcceptingUntrusted`. For backups,
    /// `restoreBackup(..., acceptUnverified = true)`.
    #[error("{details}")]
    Unverified { details: String },
    /// Too many wrong PINs: unlock with the password or biometrics; the PIN is then removed.
    #[error("too many wrong PINs")]
    PinLocked,
    /// Not a Twofold vault or backup file.
    #[error("{details}")]
    NotATwofoldFile { details: String },
    /// Written by a newer Twofold.
    #[error("unsupported format version {version}")]
    UnsupportedVersion { version: u16 },
    /// KDF parameters below the floor.
    #[error("{details}")]
    WeakOrHostileKdf { details: String },
    #[error("no vault at {path}")]
    VaultNotFound { path: String },
    #[error("a vault already exists at {path}")]
    VaultExists { path: String },
    /// The session is locked; unlock first.
    #[error("the vault is locked")]
    Locked,
    #[error("no entry {id}")]
    NoSuchEntry { id: String },
    #[error("no group {id}")]
    NoSuchGroup { id: String },
    /// No slot for this kind of credential (or that slot id).
    #[error("no key slot for this credential")]
    NoSuchSlot,
    /// The same account (secret and kind) is already in the vault.
    #[error("already in the vault as {existing_id}")]
    Duplicate { existing_id: String },
    /// Input that cannot be accepted; the message says why.
    #[error("{details}")]
    InvalidInput { details: String },
    /// An otpauth URI was refused; `reason` says why.
    #[error("invalid otpauth URI: {reason}")]
    InvalidUri { reason: String },
    /// Removing the last password slot would risk a lock-out.
    #[error("the last password slot cannot be removed")]
    LastPasswordSlot,
    #[error("the HOTP counter cannot advance")]
    CounterExhausted,
    /// Another program changed the vault; unlock again.
    #[error("the vault was changed elsewhere; unlock again")]
    Conflict,
    /// Storage failed; the vault on disk is unchanged (unless the message says the change
    /// was written but not confirmed durable).
    #[error("{details}")]
    Storage { details: String },
    /// An encrypted export file needs its password.
    #[error("this file is encrypted: enter its password")]
    FilePasswordRequired,
    /// An import file is damaged.
    #[error("{details}")]
    DamagedFile { details: String },
    /// Not a format Twofold can import, or a variant it does not support.
    #[error("{details}")]
    UnsupportedFormat { details: String },
    /// An import file with absurd sizes or parameters (refused before doing the work).
    #[error("{details}")]
    HostileFile { details: String },
    /// The transfer invite expired: show a new one.
    #[error("the transfer invite has expired")]
    TransferExpired,
    /// A frame or invite was refused (another session, altered, second sender, not OTPX/1).
    #[error("{details}")]
    TransferRejected { details: String },
    /// The transfer failed (data did not decrypt, network, timeout).
    #[error("{details}")]
    TransferFailed { details: String },
    #[error("{details}")]
    Internal { details: String },
}

impl From<twofold_core::interop::ImportError> for TwofoldError {
    fn from(e: twofold_core::interop::ImportError) -> Self {
        use twofold_core::interop::ImportError as I;
        let details = e.to_string();
        match e {
            I::PasswordRequired => TwofoldError::FilePasswordRequired,
            I::WrongPassword => TwofoldError::WrongCredential,
            I::Damaged(_) => TwofoldError::DamagedFile { details },
            I::UnknownFormat(_) | I::Unsupported(_) => TwofoldError::UnsupportedFormat { details },
            I::TooLarge(_) | I::TooManyEntries | I::HostileParameters(_) => {
                TwofoldError::HostileFile { details }
            }
        }
    }
}

impl From<twofold_core::qr::QrError> for TwofoldError {
    fn from(e: twofold_core::qr::QrError) -> Self {
        TwofoldError::InvalidInput {
            details: e.to_string(),
        }
    }
}

impl From<twofold_core::interop::enroll::ScanError> for TwofoldError {
    fn from(e: twofold_core::interop::enroll::ScanError) -> Self {
        use twofold_core::interop::enroll::ScanError as S;
        match e {
            S::InvalidUri(u) => u.into(),
            other => TwofoldError::InvalidInput {
                details: other.to_string(),
            },
        }
    }
}

impl From<VaultError> for TwofoldError {
    fn from(e: VaultError) -> Self {
        let message = e.to_string();
        match e {
            VaultError::WrongCredential => TwofoldError::WrongCredential,
            VaultError::RecoveryKeyFormat(_) => TwofoldError::RecoveryKeyTypo { details: message },
            VaultError::Corrupt(_) => TwofoldError::VaultCorrupt { details: message },
            VaultError::Forged => TwofoldError::VaultForged { details: message },
            VaultError::RolledBack { found, expected } => TwofoldError::VaultRolledBack {
                found,
                expected,
                details: message,
            },
            VaultError::HostileFile(_) => TwofoldError::HostileFile { details: message },
            VaultError::PinLocked => TwofoldError::PinLocked,
            VaultError::Unverified(_) => TwofoldError::Unverified { details: message },
            VaultError::NotAContainer(_) => TwofoldError::NotATwofoldFile { details: message },
            VaultError::UnsupportedVersion(version) => TwofoldError::UnsupportedVersion { version },
            VaultError::Kdf(_) => TwofoldError::WeakOrHostileKdf { details: message },
            VaultError::NotFound(path) => TwofoldError::VaultNotFound { path },
            VaultError::AlreadyExists(path) => TwofoldError::VaultExists { path },
            VaultError::Locked => TwofoldError::Locked,
            VaultError::NoSuchEntry(id) => TwofoldError::NoSuchEntry { id },
            VaultError::NoSuchGroup(id) => TwofoldError::NoSuchGroup { id },
            VaultError::NoSuchSlot => TwofoldError::NoSuchSlot,
            VaultError::Duplicate(existing_id) => TwofoldError::Duplicate { existing_id },
            VaultError::InvalidInput(_) => TwofoldError::InvalidInput { details: message },
            VaultError::LastPasswordSlot => TwofoldError::LastPasswordSlot,
            VaultError::CounterExhausted => TwofoldError::CounterExhausted,
            VaultError::Conflict => TwofoldError::Conflict,
            VaultError::Io { .. } => TwofoldError::Storage { details: message },
            VaultError::Crypto(CryptoError::OutOfMemory { .. }) => {
                TwofoldError::Storage { details: message }
            }
            VaultError::Crypto(_) | VaultError::Internal(_) => {
                TwofoldError::Internal { details: message }
            }
        }
    }
}

impl From<UriError> for TwofoldError {
    fn from(e: UriError) -> Self {
        TwofoldError::InvalidUri {
            reason: e.to_string(),
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TwofoldError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TwofoldError::Internal {
            details: format!("the app's callback failed: {}", e.reason),
        }
    }
}

pub type Result<T, E = TwofoldError> = std::result::Result<T, E>;
