//! The code list every front end shows: the apps' code screen, `twofold codes` and
//! `twofold watch`. One rule for all of them:
//!
//! - **Which rows:** live entries in the selected group (all when none is selected) that match
//!   the search ([`super::model::matches`]: every word, case and accents ignored).
//! - **Order:** favourites first, then the user's order (the vault's sort keys) — the same
//!   order within each part.
//! - **Codes:** TOTP and Steam rows carry the current and the next code, the period and the
//!   milliseconds left, from the session's keyed HMAC states. HOTP rows carry no code until
//!   the user asks for the next one ([`CodeList::next_hotp`], which saves the advanced counter
//!   first); that code stays on the row for [`HOTP_VISIBLE_MS`].
//! - **Hiding:** with tap-to-reveal on, every row is hidden (no code, no next code) until it
//!   is revealed, copied or its HOTP code generated; revealed rows stay revealed until the
//!   list is left ([`CodeList::hide_all`]) or the vault locks (the app drops the list).
//! - **When to ask again:** [`CodeRows::refresh_in_ms`] is the time to the next change on
//!   screen (the next whole second of a countdown, a period boundary, an HOTP code expiring),
//!   so one ticker that sleeps that long shows every new code on time.
//!
//! The list keeps this view state (search, group, revealed rows, generated HOTP codes) in the
//! core, so the apps hold only the state they publish and one ticker. What stays in the apps:
//! the long-press "show the next code" gesture (a finger on the screen, not a rule — the row
//! already carries the next code) and the clipboard.

use std::collections::{HashMap, HashSet};

use crate::otp::{self, OtpKind};

use super::model::{self, EntryId, GroupId};
use super::{VaultError, VaultSession};

/// How long a generated HOTP code stays on its row (milliseconds).
pub const HOTP_VISIBLE_MS: i64 = 30_000;

/// One row of the code list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// The entry shown.
    pub entry_id: EntryId,
    /// The service's name (may be empty).
    pub issuer: String,
    /// The account's name (may be empty).
    pub account: String,
    /// Groups the entry belongs to.
    pub group_ids: Vec<GroupId>,
    /// Marked as favourite (favourites come first).
    pub favorite: bool,
    /// Kind and parameters (no secret).
    pub kind: OtpKind,
    /// The secret is shorter than RFC 4226 recommends.
    pub weak_secret: bool,
    /// Tap-to-reveal is on and the row is not revealed: no code is given.
    pub hidden: bool,
    /// The code to copy, without spaces. `None` while hidden, and for an HOTP row until the
    /// next code was asked for (and again [`HOTP_VISIBLE_MS`] later).
    pub code: Option<String>,
    /// The code of the following period (`None` while hidden and for HOTP).
    pub next_code: Option<String>,
    /// Period in seconds (0 for HOTP).
    pub period: u32,
    /// Milliseconds until `code` expires (0 for HOTP).
    pub remaining_ms: u64,
}

impl CodeRow {
    /// The code split for reading (`123 456`; see [`otp::display_grouped`]).
    pub fn code_display(&self) -> Option<String> {
        self.code.as_deref().map(otp::display_grouped)
    }

    /// The next code split for reading.
    pub fn next_code_display(&self) -> Option<String> {
        self.next_code.as_deref().map(otp::display_grouped)
    }

    /// "Issuer (account)", "Issuer", "account" or "(unnamed)".
    pub fn display_name(&self) -> String {
        model::label(&self.issuer, &self.account)
    }
}

/// The code list at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRows {
    /// The visible rows, in the list's order.
    pub rows: Vec<CodeRow>,
    /// How many live entries the vault holds (before search and group filter).
    pub total: usize,
    /// Milliseconds until something on screen changes: ask again then.
    pub refresh_in_ms: u64,
    /// The clock offset the codes are corrected by (seconds).
    pub clock_offset_s: i64,
    /// The offset is large enough to tell the user their clock is off.
    pub clock_warning: bool,
}

/// The view state of a code list: search, group filter, tap-to-reveal and the rows revealed,
/// and the HOTP codes generated while it is shown. Built per screen; asked for rows on every
/// tick.
#[derive(Debug, Default)]
pub struct CodeList {
    query: String,
    group: Option<GroupId>,
    tap_to_reveal: bool,
    revealed: HashSet<EntryId>,
    /// Generated HOTP codes and when (wall-clock ms) they were generated.
    hotp: HashMap<EntryId, (String, i64)>,
}

impl CodeList {
    /// An empty search, no group filter, codes shown.
    pub fn new() -> Self {
        Self::default()
    }

    /// The search text.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Searches for `query` (every word must match; case and accents ignored).
    pub fn set_query(&mut self, query: &str) {
        self.query = query.to_owned();
    }

    /// The selected group.
    pub fn group(&self) -> Option<GroupId> {
        self.group
    }

    /// Shows only entries of `group` (`None`: all).
    pub fn set_group(&mut self, group: Option<GroupId>) {
        self.group = group;
    }

    /// Whether codes are hidden until revealed.
    pub fn tap_to_reveal(&self) -> bool {
        self.tap_to_reveal
    }

    /// Hides codes until revealed (`true`) or shows them all. Turning it on hides every row
    /// again.
    pub fn set_tap_to_reveal(&mut self, on: bool) {
        if on && !self.tap_to_reveal {
            self.revealed.clear();
        }
        self.tap_to_reveal = on;
    }

    /// Reveals one row (until [`CodeList::hide_all`]).
    pub fn reveal(&mut self, id: EntryId) {
        self.revealed.insert(id);
    }

    /// Leaving the list: every row is hidden again and generated HOTP codes are forgotten.
    pub fn hide_all(&mut self) {
        self.revealed.clear();
        self.hotp.clear();
    }

    /// Advances the HOTP counter of `id` (saved before returning), reveals the row and shows
    /// the code on it for [`HOTP_VISIBLE_MS`] from `now_ms`. Returns the code. Only a row the
    /// list can show: an entry trashed since the last refresh (here or by a sync) is
    /// [`VaultError::NoSuchEntry`] and its counter stays as it is.
    pub fn next_hotp(
        &mut self,
        session: &VaultSession,
        id: EntryId,
        now_ms: i64,
    ) -> Result<String, VaultError> {
        if session.entry(id)?.deleted_at.is_some() {
            return Err(VaultError::NoSuchEntry(id.to_string()));
        }
        let code = session.next_hotp(id)?;
        self.hotp.insert(id, (code.clone(), now_ms));
        self.revealed.insert(id);
        Ok(code)
    }

    /// The user copies the code of `id`: the row is revealed, the use recorded, and the code
    /// (without spaces) returned. `None` when the row has nothing to copy (an HOTP row whose
    /// next code was not asked for) or is not in the vault's live entries.
    pub fn copy(
        &mut self,
        session: &VaultSession,
        id: EntryId,
        now_ms: i64,
    ) -> Result<Option<String>, VaultError> {
        self.revealed.insert(id);
        let code = self
            .rows_unfiltered(session, now_ms)?
            .rows
            .into_iter()
            .find(|r| r.entry_id == id)
            .and_then(|r| r.code);
        if code.is_some() {
            session.record_use(id)?;
        }
        Ok(code)
    }

    /// The visible rows at `now_ms` (wall clock, milliseconds since the epoch).
    pub fn rows(&mut self, session: &VaultSession, now_ms: i64) -> Result<CodeRows, VaultError> {
        self.build(session, now_ms, true)
    }

    fn rows_unfiltered(
        &mut self,
        session: &VaultSession,
        now_ms: i64,
    ) -> Result<CodeRows, VaultError> {
        self.build(session, now_ms, false)
    }

    fn build(
        &mut self,
        session: &VaultSession,
        now_ms: i64,
        filtered: bool,
    ) -> Result<CodeRows, VaultError> {
        // Generated HOTP codes expire (a clock set back expires them too).
        self.hotp
            .retain(|_, (_, at)| (0..HOTP_VISIBLE_MS).contains(&now_ms.saturating_sub(*at)));
        session.read_with_codes(now_ms, |content, codes| {
            let codes: HashMap<EntryId, otp::Code> = codes.into_iter().collect();
            let live = content.live_entries();
            let total = live.len();
            let mut rows: Vec<CodeRow> = live
                .into_iter()
                .filter(|e| {
                    !filtered
                        || (self.group.is_none_or(|g| e.group_ids.contains(&g))
                            && model::matches(e, &content.groups, &self.query))
                })
                .map(|e| {
                    let hidden = self.tap_to_reveal && !self.revealed.contains(&e.id);
                    let (code, next_code, period, remaining_ms) = match e.kind {
                        OtpKind::Hotp { .. } => {
                            (self.hotp.get(&e.id).map(|(c, _)| c.clone()), None, 0, 0)
                        }
                        _ => match codes.get(&e.id) {
                            Some(c) => (
                                c.code.clone(),
                                c.next_code.clone(),
                                c.period,
                                c.remaining_ms,
                            ),
                            None => (None, None, 0, 0),
                        },
                    };
                    CodeRow {
                        entry_id: e.id,
                        issuer: e.issuer.clone(),
                        account: e.account.clone(),
                        group_ids: e.group_ids.clone(),
                        favorite: e.favorite,
                        kind: e.kind,
                        weak_secret: e.secret.is_weak(),
                        hidden,
                        code: if hidden { None } else { code },
                        next_code: if hidden { None } else { next_code },
                        period,
                        remaining_ms,
                    }
                })
                .collect();
            // Stable: the user's order is kept within favourites and within the rest.
            rows.sort_by_key(|r| !r.favorite);
            let refresh_in_ms = self.refresh_in_ms(&rows, now_ms);
            let clock_offset_s = content.settings.clock_offset_s;
            CodeRows {
                rows,
                total,
                refresh_in_ms,
                clock_offset_s,
                clock_warning: otp::offset_needs_warning(clock_offset_s),
            }
        })
    }

    /// The next whole second (countdowns), the nearest period boundary among the rows, or the
    /// nearest HOTP code expiry, whichever comes first; at least 1 ms.
    fn refresh_in_ms(&self, rows: &[CodeRow], now_ms: i64) -> u64 {
        let to_second = 1000 - now_ms.rem_euclid(1000) as u64;
        let to_boundary = rows
            .iter()
            .filter(|r| r.period > 0)
            .map(|r| r.remaining_ms)
            .min()
            .unwrap_or(u64::MAX);
        let to_hotp_expiry = self
            .hotp
            .values()
            .map(|(_, at)| (at.saturating_add(HOTP_VISIBLE_MS) - now_ms).max(1) as u64)
            .min()
            .unwrap_or(u64::MAX);
        to_second.min(to_boundary).min(to_hotp_expiry).max(1)
    }
}
