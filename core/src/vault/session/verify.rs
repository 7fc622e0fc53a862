//! Re-authentication of an unlocked session: the user proves again that they hold a
//! credential (before an export or a transfer) without the file being read again and without
//! the session's state being replaced — the open vault, its pending usage statistics and its
//! keyed codes stay as they are.

use crate::vault::VaultError;
use crate::vault::container::VAULT_MAGIC;
use crate::vault::slots::{self as slot_ops, SlotCredential};

use super::VaultSession;

impl VaultSession {
    /// Checks `credential` (password, recovery key, platform key) against the unlocked
    /// vault's slots in memory: `Ok` when it opens one to this vault's key,
    /// [`VaultError::WrongCredential`] otherwise, [`VaultError::Locked`] when locked. A PIN is
    /// [`VaultError::NoSuchSlot`] (its wrong tries are counted only at unlock).
    pub fn verify_credential(&self, credential: &SlotCredential<'_>) -> Result<(), VaultError> {
        // The header and key are copied out so the KDF does not run under the state lock.
        let (header, master_key) = {
            let guard = self.read_state();
            let open = guard.as_ref().ok_or(VaultError::Locked)?;
            (open.header.clone(), open.master_key.clone())
        };
        slot_ops::verify_against(
            &header,
            VAULT_MAGIC,
            credential,
            self.env.kdf_limit,
            &master_key,
        )
    }
}
