//! Re-authentication before exports and transfers: checks a credential against the unlocked
//! vault in memory (`VaultSession::verify_credential` in the core) — no file read, no state
//! replaced. `WrongCredential` when it does not match.

use twofold_core::vault::{RecoveryKey, SlotCredential};
use zeroize::Zeroizing;

use crate::convert::{SlotId, key32};
use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;

#[uniffi::export]
impl VaultSession {
    /// The vault password (bytes, wiped).
    pub fn verify_password(&self, password: Vec<u8>) -> Result<()> {
        let password = Zeroizing::new(password);
        Ok(self
            .inner
            .verify_credential(&SlotCredential::Password(&password))?)
    }

    /// The recovery key as typed.
    pub fn verify_recovery_key(&self, recovery_key: String) -> Result<()> {
        let text = Zeroizing::new(recovery_key);
        let key = RecoveryKey::parse(&text).map_err(|e| TwofoldError::RecoveryKeyTypo {
            details: e.to_string(),
        })?;
        Ok(self
            .inner
            .verify_credential(&SlotCredential::Recovery(&key))?)
    }

    /// A platform slot's key, unwrapped by the app's keystore (the biometric prompt).
    pub fn verify_platform_key(&self, slot_id: SlotId, key: Vec<u8>) -> Result<()> {
        let key = key32(&Zeroizing::new(key))?;
        Ok(self.inner.verify_credential(&SlotCredential::Platform {
            slot_id: slot_id.0,
            key: &key,
        })?)
    }
}
