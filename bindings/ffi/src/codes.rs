//! `CodeList`: the code screen's list (`twofold_core::vault::codes`) — rows filtered and
//! ordered by the core, hiding and HOTP codes kept by the core, and the wait until the next
//! change, so an app's code screen holds one ticker and its published state.

use std::sync::{Arc, Mutex, MutexGuard};

use twofold_core::vault::codes;

use crate::convert::{EntryId, GroupId, OtpParams, OtpType};
use crate::error::Result;
use crate::session::VaultSession;

/// One row of the code list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRow {
    /// The entry's id (a UUID).
    pub entry_id: EntryId,
    /// Service name; may be empty.
    pub issuer: String,
    /// Account name at the service; may be empty.
    pub account: String,
    /// Ids of the groups the entry is in; empty for none.
    pub group_ids: Vec<GroupId>,
    /// Whether the user pinned the entry as a favourite.
    pub favorite: bool,
    /// TOTP, HOTP or Steam.
    pub otp_type: OtpType,
    /// The secret is shorter than 128 bits (works, but worth a hint).
    pub weak_secret: bool,
    /// Tap-to-reveal is on and the row is not revealed: no code is given.
    pub hidden: bool,
    /// The code grouped for reading ("123 456"); `None` while hidden and for an HOTP row
    /// until its next code was asked for. Copy with `CodeList.copy_code`.
    pub code_display: Option<String>,
    /// The next period's code, grouped; `None` while hidden and for HOTP.
    pub next_code_display: Option<String>,
    /// Period in seconds (0 for HOTP).
    pub period: u32,
    /// Milliseconds until the code changes (0 for HOTP).
    pub remaining_ms: u64,
}

impl From<codes::CodeRow> for CodeRow {
    fn from(r: codes::CodeRow) -> Self {
        CodeRow {
            entry_id: EntryId(r.entry_id),
            code_display: r.code_display(),
            next_code_display: r.next_code_display(),
            group_ids: r.group_ids.iter().copied().map(GroupId).collect(),
            otp_type: OtpParams::from(&r.kind).otp_type,
            issuer: r.issuer,
            account: r.account,
            favorite: r.favorite,
            weak_secret: r.weak_secret,
            hidden: r.hidden,
            period: r.period,
            remaining_ms: r.remaining_ms,
        }
    }
}

/// The code list at one moment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeRows {
    /// The rows to show, favourites first, then the vault's order.
    pub rows: Vec<CodeRow>,
    /// Live entries in the vault, before search and group filter.
    pub total: u32,
    /// Ask for rows again after this many milliseconds.
    pub refresh_in_ms: u64,
    /// Seconds added to this device's clock when computing the codes.
    pub clock_offset_seconds: i64,
    /// The clock offset is large enough to warn the user.
    pub clock_warning: bool,
}

/// The view state of one code screen over a session. Dropped (or `hide_all`) when the screen
/// is left; locking the session makes every call fail with `Locked`.
#[derive(uniffi::Object)]
pub struct CodeList {
    session: Arc<VaultSession>,
    state: Mutex<codes::CodeList>,
}

impl CodeList {
    fn state(&self) -> MutexGuard<'_, codes::CodeList> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl VaultSession {
    /// A code list over this session (no search, no group, codes shown).
    pub fn code_list(self: Arc<Self>) -> Arc<CodeList> {
        Arc::new(CodeList {
            session: self,
            state: Mutex::new(codes::CodeList::new()),
        })
    }
}

#[uniffi::export]
impl CodeList {
    /// The visible rows at `now_ms`: entries of `group_id` (`None`: all) matching `query`
    /// (every word; case and accents ignored), favourites first, then the vault's order. The
    /// filter comes with every call, so a list is always computed for the filter it shows.
    pub fn rows(&self, query: String, group_id: Option<GroupId>, now_ms: i64) -> Result<CodeRows> {
        let group = group_id.map(|g| g.0);
        let mut state = self.state();
        state.set_query(&query);
        state.set_group(group);
        let r = state.rows(&self.session.inner, now_ms)?;
        Ok(CodeRows {
            total: u32::try_from(r.total).unwrap_or(u32::MAX),
            rows: r.rows.into_iter().map(Into::into).collect(),
            refresh_in_ms: r.refresh_in_ms,
            clock_offset_seconds: r.clock_offset_s,
            clock_warning: r.clock_warning,
        })
    }

    /// Hides codes until revealed; turning it on hides every row again.
    pub fn set_tap_to_reveal(&self, on: bool) {
        self.state().set_tap_to_reveal(on);
    }

    /// Reveals one row until `hide_all`.
    pub fn reveal(&self, id: EntryId) -> Result<()> {
        self.state().reveal(id.0);
        Ok(())
    }

    /// Leaving the screen: every row hidden again, generated HOTP codes forgotten.
    pub fn hide_all(&self) {
        self.state().hide_all();
    }

    /// Advances an HOTP counter (saved first), reveals the row and shows the code on it.
    pub fn next_hotp(&self, id: EntryId, now_ms: i64) -> Result<String> {
        let id = id.0;
        Ok(self.state().next_hotp(&self.session.inner, id, now_ms)?)
    }

    /// The code to put on the clipboard (no spaces): reveals the row and records the use.
    /// `None` when the row has nothing to copy (an HOTP row not asked for its next code).
    pub fn copy_code(&self, id: EntryId, now_ms: i64) -> Result<Option<String>> {
        let id = id.0;
        Ok(self.state().copy(&self.session.inner, id, now_ms)?)
    }
}
