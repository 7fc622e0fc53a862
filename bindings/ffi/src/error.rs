//! The one error type the apps see: the set of cases a screen acts on, each with the fields a
//! UI needs for a localised message (and `details`, an English sentence for logs and tests).
//! Every core error is mapped here, once; Kotlin and Swift use the generated type directly
//! (`TwofoldException` / `TwofoldError`) with a message catalogue keyed by variant.

use twofold_core::crypto::CryptoError;
use twofold_core::interop::ImportError;
use twofold_core::interop::enroll::ScanError;
use twofold_core::otp::calibrate::CalibrationError;
use twofold_core::qr::QrError;
use twofold_core::recovery_kit::KitPartError;
use twofold_core::uri::UriError;
use twofold_core::vault::{InputError, NameField, VaultError};

/// Every way a call can fail, as a screen acts on it. The generated type is the apps' failure
/// type itself (Kotlin `TwofoldException.X`, Swift `TwofoldError.X`), never mapped again; what
/// the user reads comes from one message catalogue per platform, keyed by variant (Kotlin
/// `FailureMessages.kt`, Swift `FailureMessages.swift`). The apps raise it too, for the few
/// rules only they can check (`InputProblem::PasswordsDiffer`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TwofoldError {
    /// Password, PIN, recovery key or platform key does not open the vault, backup or file:
    /// ask again.
    #[error("wrong password or key")]
    WrongCredential,
    /// A typed recovery key has a typo (checksum) or the wrong length: point at the input.
    #[error("{details}")]
    RecoveryKeyTypo {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The keystore key behind a biometric or PIN slot is gone (raised by the apps'
    /// keystores): fall back to the password and offer to set it up again.
    #[error("biometric unlock must be set up again")]
    PlatformKeyInvalidated,
    /// An encrypted import file needs its password: ask for it.
    #[error("this file is encrypted: enter its password")]
    PasswordRequired,
    /// The vault, backup or import file is damaged (for the vault: its previous generation too):
    /// offer a restore from a backup.
    #[error("{details}")]
    Corrupt {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// A well-formed file not written with this vault's keys (or not by keys descending from
    /// those this device last saw): someone may have replaced it. Nothing was opened or changed.
    #[error("{details}")]
    Forged {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The vault file is older than the one this device last saw: an old copy was put back. The
    /// user may accept it on purpose with the password (`unlockWithPasswordAcceptingUntrusted`).
    #[error("{details}")]
    RolledBack {
        /// The generation of the file found on disk.
        found: u64,
        /// The generation this device last saw (higher than `found`).
        expected: u64,
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The file opened but cannot be shown to be this vault's with what the device knows (made
    /// by Twofold 0.1, or a slot not confirmed since): ask the user, then
    /// `unlockWithPasswordAcceptingUntrusted`; for backups `restoreBackup(…, acceptUnverified)`.
    #[error("{details}")]
    Unverified {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// A file asks for more work or memory than any real one (refused before doing it).
    #[error("{details}")]
    HostileFile {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// Not a file Twofold reads: not a Twofold file, written by a newer Twofold, key
    /// derivation below the floor, or not an import format (or variant) we know.
    #[error("{details}")]
    UnsupportedFile {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// Too many wrong PINs: unlock with the password or biometrics (the PIN is then removed).
    #[error("too many wrong PINs")]
    PinLocked,
    /// The session is locked: unlock first.
    #[error("the vault is locked")]
    Locked,
    /// Another program changed the vault since it was unlocked: lock and unlock again.
    #[error("the vault was changed elsewhere; unlock again")]
    Conflict,
    /// The same account (secret and kind) is already in the vault.
    #[error("already in the vault as {existing_id}")]
    Duplicate {
        /// The id (a UUID) of the account already in the vault.
        existing_id: String,
    },
    /// Input the user can fix; `problem` says which rule it broke.
    #[error("{details}")]
    InvalidInput {
        /// Which rule the input broke.
        problem: InputProblem,
        /// An English sentence for logs and tests; show a message keyed by `problem`.
        details: String,
    },
    /// The vault file, an entry, a group or a key slot does not exist.
    #[error("{details}")]
    NotFound {
        /// What was not found.
        what: Missing,
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// Storage failed; the vault on disk is unchanged (unless the details say the change was
    /// written but not confirmed durable).
    #[error("{details}")]
    Storage {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The transfer invite expired: show a new one.
    #[error("the transfer invite has expired")]
    TransferExpired,
    /// A frame, invite or reply was refused (another session, altered, a second sender, a
    /// device that needs an update).
    #[error("{details}")]
    TransferRejected {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The transfer failed (data did not decrypt, network, timeout): start again.
    #[error("{details}")]
    TransferFailed {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// This vault is not in a sync group: offer to set one up or to join one.
    #[error("{details}")]
    SyncNotSetUp {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// This device was removed from its sync group on another device; it no longer syncs.
    #[error("{details}")]
    SyncRevoked {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// The sync folder or server cannot be reached (try later), or refuses this device
    /// (`denied`: fix the credentials or the folder's permission).
    #[error("{details}")]
    SyncStorage {
        /// True when the storage refused this device (credentials, permission); false when it
        /// could not be reached.
        denied: bool,
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// A sync operation was refused: a location holding another group, plain HTTP to another
    /// machine, a join invite or bundle that is not right, no such device or conflict.
    #[error("{details}")]
    SyncRefused {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
    /// A bug: report it.
    #[error("{details}")]
    Internal {
        /// An English sentence for logs and tests; show a message keyed by the variant.
        details: String,
    },
}

/// Which rule input broke (for `TwofoldError::InvalidInput`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum InputProblem {
    /// A name or note is longer than its limit.
    NameTooLong {
        /// Which name.
        field: NameKind,
        /// Its limit, in characters (256 for names, 4096 for the note).
        max: u32,
    },
    /// A group name is empty (or only whitespace).
    EmptyGroupName,
    /// A password is empty (also: an encrypted export asked for without one).
    EmptyPassword,
    /// A PIN is shorter than the minimum.
    PinTooShort {
        /// The fewest digits a PIN may have (6).
        min: u32,
    },
    /// The Argon2id cost asked for a PIN slot is below its floor (64 MiB, 3 passes).
    PinKdfTooWeak,
    /// PIN slots need the app's trust store.
    NeedsTrustStore,
    /// Digits or period out of range.
    CodeParameters,
    /// The vault would hold more accounts than its limit.
    TooManyEntries {
        /// The most accounts a vault holds (100 000).
        max: u32,
    },
    /// The vault would have more key slots than its limit.
    TooManySlots {
        /// The most key slots a vault has.
        max: u32,
    },
    /// A counter operation on an account that is not HOTP.
    NotHotp,
    /// A clock offset beyond a year either way.
    ClockOffsetTooLarge,
    /// A platform or PIN slot's keystore alias or wrapped blob is over its size limit.
    KeystoreDataTooLong,
    /// The key slots together do not fit in the vault file's header.
    HeaderTooLarge,
    /// A backup asked for with neither a password nor the recovery key.
    BackupNeedsCredential,
    /// A recovery code refused (empty, too long, control characters, too many) or not the
    /// account's (the details say which).
    RecoveryCode,
    /// Rotation: the code is not what the new secret gives now (nothing changed).
    RotationCodeMismatch,
    /// Rotation: the "new" secret is the old one.
    RotationSameSecret,
    /// A checkup setting out of range.
    CheckupSetting,
    /// Clock calibration: the account counts codes (HOTP) instead of following the time.
    CalibrationNotTimeBased,
    /// Clock calibration: the code typed is not a code of this account (length, characters).
    CalibrationBadCode,
    /// Clock calibration: no time step in the window gives the code.
    CalibrationNoMatch,
    /// Clock calibration: several steps give the code; ask for the next code too.
    CalibrationAmbiguous {
        /// How many time steps in the window give the code (2 or more).
        matches: u32,
    },
    /// Clock calibration: the second code is not the one after the first.
    CalibrationSecondCodeMismatch,
    /// Clock calibration: the window is out of range.
    CalibrationWindow,
    /// The accounts do not fit on a printed recovery kit (`bytes` sealed, `max` printable).
    KitTooLarge {
        /// Size of the sealed accounts backup, in bytes.
        bytes: u64,
        /// The most bytes a printed kit holds.
        max: u64,
    },
    /// A scanned code is not a recovery-kit part.
    KitNotAPart,
    /// Scanned parts come from different kits.
    KitMixedParts,
    /// Parts are missing (1-based numbers).
    KitMissingParts {
        /// The missing part numbers, counted from 1.
        missing: Vec<u32>,
    },
    /// The parts do not add up to the backup they were printed from.
    KitChecksum,
    /// Removing the last password slot would risk a lock-out.
    LastPasswordSlot,
    /// An HOTP counter at 2^64 − 1 cannot advance.
    CounterExhausted,
    /// Creating a vault where one exists.
    VaultExists,
    /// An otpauth URI was refused (the details say why).
    Uri,
    /// A base32 secret was refused.
    Secret,
    /// A QR code or picture that is not an authenticator code, or not readable.
    NotAnAuthenticatorCode,
    /// A transfer or account QR code given to the wrong call (`Enrollment.scan…` adds
    /// accounts; the text decoders are for transfer codes).
    AccountCodeNotHere,
    /// A picture or camera frame that cannot be read.
    Image,
    /// Not an id of this vault.
    NotAnId,
    /// A platform or device key that is not 32 bytes.
    KeyLength,
    /// Text that is not UTF-8.
    NotUtf8,
    /// A transfer call out of order (already accepted, not connected, no LAN address, not
    /// complete yet).
    TransferState,
    /// An export format drawn on screen (Google Authenticator QR codes) asked for as a file.
    ExportNotAFile,
    /// Raised by the apps: a new password and its confirmation differ.
    PasswordsDiffer,
    /// Raised by the apps: the password judge (`passwordStrength`) refused a new password;
    /// the details carry its reason.
    PasswordRefused,
    /// Raised by the apps: this device has no biometric hardware, or none is enrolled.
    BiometricsUnavailable,
    /// Raised by the apps: the platform keystore would not make or wrap a key (the password
    /// still works).
    KeystoreRefused,
    /// Raised by the apps: no file or folder was chosen to save to.
    NoDestination,
    /// Raised by the apps: the system's biometric or lock-screen prompt failed (too many tries,
    /// hardware busy, …); the details carry the system's own, already localised, message.
    SystemPrompt,
}

/// Which name a length limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NameKind {
    /// The service name.
    Issuer,
    /// The account name.
    Account,
    /// The user's note.
    Note,
    /// A group's name.
    GroupName,
}

/// What `TwofoldError::NotFound` did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Missing {
    /// The vault file.
    Vault,
    /// An account (entry).
    Entry,
    /// A group.
    Group,
    /// A key slot.
    Slot,
}

impl TwofoldError {
    /// Input refused for `problem`, with an English sentence.
    pub(crate) fn input(problem: InputProblem, details: impl Into<String>) -> Self {
        TwofoldError::InvalidInput {
            problem,
            details: details.into(),
        }
    }
}

impl From<InputError> for InputProblem {
    fn from(e: InputError) -> Self {
        match e {
            InputError::NameTooLong { field, max } => InputProblem::NameTooLong {
                field: match field {
                    NameField::Issuer => NameKind::Issuer,
                    NameField::Account => NameKind::Account,
                    NameField::Note => NameKind::Note,
                    NameField::GroupName => NameKind::GroupName,
                },
                max: max as u32,
            },
            InputError::EmptyGroupName => InputProblem::EmptyGroupName,
            InputError::EmptyPassword => InputProblem::EmptyPassword,
            InputError::PinTooShort { min } => InputProblem::PinTooShort { min: min as u32 },
            InputError::PinKdfTooWeak { .. } => InputProblem::PinKdfTooWeak,
            InputError::NeedsTrustStore => InputProblem::NeedsTrustStore,
            InputError::CodeParameters(_) => InputProblem::CodeParameters,
            InputError::TooManyEntries { max } => InputProblem::TooManyEntries { max: max as u32 },
            InputError::TooManySlots { max } => InputProblem::TooManySlots { max: max as u32 },
            InputError::NotHotp => InputProblem::NotHotp,
            InputError::ClockOffsetTooLarge => InputProblem::ClockOffsetTooLarge,
            InputError::KeystoreDataTooLong => InputProblem::KeystoreDataTooLong,
            InputError::HeaderTooLarge => InputProblem::HeaderTooLarge,
            InputError::BackupNeedsCredential => InputProblem::BackupNeedsCredential,
            InputError::RecoveryCode(_) => InputProblem::RecoveryCode,
            InputError::RotationCodeMismatch => InputProblem::RotationCodeMismatch,
            InputError::RotationSameSecret => InputProblem::RotationSameSecret,
            InputError::CheckupSetting(_) => InputProblem::CheckupSetting,
            InputError::Calibration(c) => match c {
                CalibrationError::NotTimeBased => InputProblem::CalibrationNotTimeBased,
                CalibrationError::CodeLength { .. } | CalibrationError::CodeCharacters { .. } => {
                    InputProblem::CalibrationBadCode
                }
                CalibrationError::NoMatch { .. } => InputProblem::CalibrationNoMatch,
                CalibrationError::Ambiguous { matches, .. } => InputProblem::CalibrationAmbiguous {
                    matches: u32::try_from(matches).unwrap_or(u32::MAX),
                },
                CalibrationError::SecondCodeMismatch => InputProblem::CalibrationSecondCodeMismatch,
                CalibrationError::Window => InputProblem::CalibrationWindow,
            },
            InputError::KitTooLarge { bytes, max } => InputProblem::KitTooLarge {
                bytes: bytes as u64,
                max: max as u64,
            },
            InputError::KitPart(p) => match p {
                KitPartError::NotAPart => InputProblem::KitNotAPart,
                KitPartError::Mixed => InputProblem::KitMixedParts,
                KitPartError::Missing { missing } => InputProblem::KitMissingParts {
                    missing: missing
                        .into_iter()
                        .map(|m| u32::try_from(m).unwrap_or(u32::MAX))
                        .collect(),
                },
                KitPartError::Checksum => InputProblem::KitChecksum,
            },
        }
    }
}

impl From<VaultError> for TwofoldError {
    fn from(e: VaultError) -> Self {
        let details = e.to_string();
        match e {
            VaultError::WrongCredential => TwofoldError::WrongCredential,
            VaultError::RecoveryKeyFormat(_) => TwofoldError::RecoveryKeyTypo { details },
            VaultError::Corrupt(_) => TwofoldError::Corrupt { details },
            VaultError::Forged => TwofoldError::Forged { details },
            VaultError::RolledBack { found, expected } => TwofoldError::RolledBack {
                found,
                expected,
                details,
            },
            VaultError::Unverified(_) => TwofoldError::Unverified { details },
            VaultError::HostileFile(_) => TwofoldError::HostileFile { details },
            VaultError::PinLocked => TwofoldError::PinLocked,
            VaultError::NotAContainer(_)
            | VaultError::UnsupportedVersion(_)
            | VaultError::Kdf(_) => TwofoldError::UnsupportedFile { details },
            VaultError::NotFound(_) => TwofoldError::NotFound {
                what: Missing::Vault,
                details,
            },
            VaultError::NoSuchEntry(_) => TwofoldError::NotFound {
                what: Missing::Entry,
                details,
            },
            VaultError::NoSuchGroup(_) => TwofoldError::NotFound {
                what: Missing::Group,
                details,
            },
            VaultError::NoSuchSlot => TwofoldError::NotFound {
                what: Missing::Slot,
                details,
            },
            VaultError::AlreadyExists(_) => TwofoldError::input(InputProblem::VaultExists, details),
            VaultError::Locked => TwofoldError::Locked,
            VaultError::Duplicate(existing_id) => TwofoldError::Duplicate { existing_id },
            VaultError::InvalidInput(reason) => TwofoldError::input(reason.into(), details),
            VaultError::LastPasswordSlot => {
                TwofoldError::input(InputProblem::LastPasswordSlot, details)
            }
            VaultError::CounterExhausted => {
                TwofoldError::input(InputProblem::CounterExhausted, details)
            }
            VaultError::Conflict => TwofoldError::Conflict,
            VaultError::Io { .. } | VaultError::Crypto(CryptoError::OutOfMemory { .. }) => {
                TwofoldError::Storage { details }
            }
            VaultError::Crypto(_) | VaultError::Internal(_) => TwofoldError::Internal { details },
        }
    }
}

impl From<ImportError> for TwofoldError {
    fn from(e: ImportError) -> Self {
        let details = e.to_string();
        match e {
            ImportError::PasswordRequired => TwofoldError::PasswordRequired,
            ImportError::WrongPassword => TwofoldError::WrongCredential,
            ImportError::Damaged(_) => TwofoldError::Corrupt { details },
            ImportError::UnknownFormat(_) | ImportError::Unsupported(_) => {
                TwofoldError::UnsupportedFile { details }
            }
            ImportError::TooLarge(_)
            | ImportError::TooManyEntries
            | ImportError::HostileParameters(_) => TwofoldError::HostileFile { details },
        }
    }
}

impl From<QrError> for TwofoldError {
    fn from(e: QrError) -> Self {
        TwofoldError::input(InputProblem::Image, e.to_string())
    }
}

impl From<twofold_core::interop::enroll::EnrollError> for TwofoldError {
    fn from(e: twofold_core::interop::enroll::EnrollError) -> Self {
        match e {
            twofold_core::interop::enroll::EnrollError::Qr(q) => q.into(),
            twofold_core::interop::enroll::EnrollError::Scan(s) => s.into(),
        }
    }
}

impl From<twofold_core::interop::export::ExportError> for TwofoldError {
    fn from(e: twofold_core::interop::export::ExportError) -> Self {
        match e {
            twofold_core::interop::export::ExportError::Vault(v) => v.into(),
            e @ twofold_core::interop::export::ExportError::PasswordNeeded => {
                TwofoldError::input(InputProblem::EmptyPassword, e.to_string())
            }
            e @ twofold_core::interop::export::ExportError::NotAFile(_) => {
                TwofoldError::input(InputProblem::ExportNotAFile, e.to_string())
            }
            e @ twofold_core::interop::export::ExportError::ReadBackDiffers => {
                TwofoldError::Storage {
                    details: e.to_string(),
                }
            }
            other => TwofoldError::Internal {
                details: other.to_string(),
            },
        }
    }
}

impl From<ScanError> for TwofoldError {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::InvalidUri(u) => u.into(),
            other => TwofoldError::input(InputProblem::NotAnAuthenticatorCode, other.to_string()),
        }
    }
}

impl From<UriError> for TwofoldError {
    fn from(e: UriError) -> Self {
        TwofoldError::input(InputProblem::Uri, format!("invalid otpauth URI: {e}"))
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
