//! What the sync layer (`crate::sync`) needs from a session: its state stored inside the
//! encrypted vault body, and one transaction that commits merged content and that state in a
//! single atomic write — so a crash leaves either the old vault and old sync state or the new
//! vault and new sync state, never one without the other.
//!
//! The vault does not interpret the state: it is opaque bytes the sync layer encodes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::*;

/// The sync layer's encoded state (it holds the device's keys and the group keys): wiped on
/// drop, written into the body as a MessagePack `bin`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SyncBlob(pub(crate) Zeroizing<Vec<u8>>);

impl Serialize for SyncBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for SyncBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_bytes_helpers::bytes::deserialize(d).map(|v| SyncBlob(Zeroizing::new(v)))
    }
}

/// One sync transaction: a copy of the content and of the sync state to change, and whether
/// to write them.
pub struct SyncTxn {
    /// The vault content as it is now; what it holds after the closure is written.
    pub content: VaultContent,
    /// The sync state (`None`: not in a group); what it holds after the closure is written.
    pub state: Option<Zeroizing<Vec<u8>>>,
    /// The session's clock at the start of the transaction (ms).
    pub now: i64,
    /// The vault's id (the sync layer binds its state to it).
    pub vault_id: [u8; 16],
    /// Set to write the content and state; left false, nothing is written.
    pub write: bool,
}

impl VaultSession {
    /// The content and the sync state, read consistently.
    pub fn sync_read<R>(
        &self,
        f: impl FnOnce(&VaultContent, Option<&[u8]>) -> R,
    ) -> Result<R, VaultError> {
        let guard = self.read_state();
        let open = guard.as_ref().ok_or(VaultError::Locked)?;
        Ok(f(&open.content, open.sync.as_ref().map(|b| b.0.as_slice())))
    }

    /// Runs `f` on a copy of the content and sync state under the session's write lock, and
    /// commits both in one write when `f` sets `write`. No other change of the session can
    /// come between what `f` read and what is written.
    pub fn sync_transaction<R, E: From<VaultError>>(
        &self,
        f: impl FnOnce(&mut SyncTxn) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self.write_state();
        let open = guard.as_mut().ok_or(VaultError::Locked)?;
        let mut txn = SyncTxn {
            content: open.content.clone(),
            state: open.sync.as_ref().map(|b| b.0.clone()),
            now: self.now(),
            vault_id: open.header.vault_id,
            write: false,
        };
        let result = f(&mut txn)?;
        if txn.write {
            let change = commit::Change {
                sync: Some(txn.state.take().map(SyncBlob)),
                ..commit::Change::content(std::mem::take(&mut txn.content))
            };
            self.commit(open, change)?;
        }
        Ok(result)
    }
}
