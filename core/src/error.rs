//! One classification of every error the core returns, for callers that act on whose fault
//! it is (the CLI's exit status, an app deciding between "fix the input" and "try again").

/// Whose fault a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input, credentials or choice: fix it and retry (CLI exit status 2).
    Input,
    /// The operation failed for another reason — storage, a damaged or refused file, the
    /// network (CLI exit status 1).
    Failure,
}

/// An error that knows its [`ErrorKind`].
pub trait Classify {
    /// Whose fault this error is.
    fn kind(&self) -> ErrorKind;
}

impl Classify for crate::vault::VaultError {
    fn kind(&self) -> ErrorKind {
        use crate::vault::VaultError as E;
        match self {
            E::WrongCredential
            | E::RecoveryKeyFormat(_)
            | E::InvalidInput(_)
            | E::Duplicate(_)
            | E::NoSuchEntry(_)
            | E::NoSuchGroup(_)
            | E::NoSuchSlot
            | E::LastPasswordSlot
            | E::CounterExhausted
            | E::PinLocked
            | E::AlreadyExists(_)
            | E::NotAContainer(_) => ErrorKind::Input,
            E::Corrupt(_)
            | E::Forged
            | E::RolledBack { .. }
            | E::Unverified(_)
            | E::HostileFile(_)
            | E::UnsupportedVersion(_)
            | E::Kdf(_)
            | E::NotFound(_)
            | E::Locked
            | E::Conflict
            | E::Crypto(_)
            | E::Io { .. }
            | E::Internal(_) => ErrorKind::Failure,
        }
    }
}

impl Classify for crate::interop::ImportError {
    fn kind(&self) -> ErrorKind {
        use crate::interop::ImportError as E;
        match self {
            E::PasswordRequired | E::WrongPassword => ErrorKind::Input,
            E::Damaged(_)
            | E::UnknownFormat(_)
            | E::Unsupported(_)
            | E::TooLarge(_)
            | E::TooManyEntries
            | E::HostileParameters(_) => ErrorKind::Failure,
        }
    }
}

impl Classify for crate::transfer::TransferError {
    fn kind(&self) -> ErrorKind {
        use crate::transfer::TransferError as E;
        match self {
            E::Network(_) | E::Timeout | E::Refused(_) => ErrorKind::Failure,
            _ => ErrorKind::Input,
        }
    }
}

impl Classify for crate::uri::UriError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}

impl Classify for crate::qr::QrError {
    fn kind(&self) -> ErrorKind {
        match self {
            crate::qr::QrError::TooLong => ErrorKind::Failure,
            _ => ErrorKind::Input,
        }
    }
}
