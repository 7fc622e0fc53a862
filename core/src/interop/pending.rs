//! Accounts waiting for the user to confirm — read from an import file, found by scanning, or
//! received by a transfer. Every app screen and CLI command that adds accounts shows them
//! (previews, no secrets), lets the user untick some by index, and adds the rest in one write.

use crate::interop::ImportedEntry;
use crate::vault::{InsertReport, VaultError, VaultSession};

/// Accounts waiting to be added.
#[derive(Debug, Clone, Default)]
pub struct PendingAccounts {
    entries: Vec<ImportedEntry>,
}

impl PendingAccounts {
    /// The accounts of an import file or a transfer, as they came (an account twice in one
    /// file is reported as a duplicate when added).
    pub fn new(entries: Vec<ImportedEntry>) -> Self {
        PendingAccounts { entries }
    }

    /// Adds a scanned account unless the same account (secret and kind) is already waiting:
    /// scanning one code again is harmless. Returns whether it was new.
    pub fn push_unique(&mut self, entry: ImportedEntry) -> bool {
        if self.entries.iter().any(|e| e.same_account(&entry)) {
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// The waiting accounts, in order.
    pub fn entries(&self) -> &[ImportedEntry] {
        &self.entries
    }

    /// How many accounts are waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no account is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Leaves the account at `index` out (the user unticked it); out of range does nothing.
    pub fn remove(&mut self, index: usize) -> bool {
        if index < self.entries.len() {
            self.entries.remove(index);
            true
        } else {
            false
        }
    }

    /// Adds the waiting accounts to the vault in one write (duplicates reported, not
    /// doubled; see [`crate::interop::add_to_vault`]). They are no longer waiting afterwards,
    /// whether or not the write succeeded.
    pub fn add_to(&mut self, session: &VaultSession) -> Result<InsertReport, VaultError> {
        super::add_to_vault(session, std::mem::take(&mut self.entries))
    }
}
