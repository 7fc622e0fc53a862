//! The device's trust record, kept by the app where a copied or replaced vault file cannot
//! reach it (Android: a file encrypted with a Keystore key in no-backup storage; iOS: a
//! Keychain item, this device only). The core reads and writes it; the app only stores bytes.

use std::io;
use std::sync::Arc;

use crate::error::TwofoldError;

/// Where the app keeps the vault's trust record (last generation and signing key seen, HOTP
/// counters, wrong-PIN counts). Implemented by the app; called by the core on a background
/// thread during unlock and after every change.
#[uniffi::export(with_foreign)]
pub trait TrustStore: Send + Sync {
    /// The stored record, or `None` before the first unlock.
    fn load(&self) -> Result<Option<Vec<u8>>, TwofoldError>;
    /// Replaces the stored record (atomically where the platform allows).
    fn store(&self, record: Vec<u8>) -> Result<(), TwofoldError>;
}

/// The app's store as the core's.
pub(crate) struct ForeignTrust(pub(crate) Arc<dyn TrustStore>);

impl twofold_core::vault::TrustStore for ForeignTrust {
    fn load(&self) -> io::Result<Option<Vec<u8>>> {
        self.0.load().map_err(io::Error::other)
    }
    fn store(&self, record: &[u8]) -> io::Result<()> {
        self.0.store(record.to_vec()).map_err(io::Error::other)
    }
}
