//! The vault's data model: entries, groups, settings, and search.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use zeroize::Zeroize;

use crate::otp::{OtpKind, OtpSource};
use crate::secret::Secret;
use crate::serde_bytes_helpers::array;

/// A 16-byte random identifier shown as a lower-case UUID (version 4 layout).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Id(#[serde(with = "array")] pub [u8; 16]);

impl Id {
    /// A random id with the UUID v4 version and variant bits set.
    pub fn from_random(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Id(bytes)
    }

    /// Parses the hyphenated or plain hex form.
    pub fn parse(text: &str) -> Option<Self> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Id(out))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

/// Ids of entries and of groups.
pub type EntryId = Id;
/// Id of a group.
pub type GroupId = Id;

/// A reference to an icon in the app's icon pack (e.g. `github`), never image bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IconRef(pub String);

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Random id, fixed for the entry's life (sync and restores match entries by it).
    pub id: EntryId,
    /// TOTP, HOTP (with the counter of the next code) or Steam, with its code parameters.
    pub kind: OtpKind,
    /// The shared secret the codes are computed from.
    pub secret: Secret,
    /// Service name, at most [`crate::limits::MAX_NAME_LEN`] characters; may be empty.
    pub issuer: String,
    /// Account name at the service (same limits as `issuer`); may be empty.
    pub account: String,
    /// The user's note, at most [`crate::limits::MAX_NOTE_LEN`] characters; empty for none.
    #[serde(default)]
    pub note: String,
    /// Groups the entry is in, each one of the vault's [`Group`]s; empty for none.
    #[serde(default)]
    pub group_ids: Vec<GroupId>,
    /// Whether the user pinned the entry as a favorite.
    #[serde(default)]
    pub favorite: bool,
    /// The icon the user chose from the icon pack; `None` when none was chosen.
    #[serde(default)]
    pub icon: Option<IconRef>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// When the entry was last changed (ms since the epoch).
    pub updated_at: i64,
    /// When a code was last copied or used (ms since the epoch); `None` if never.
    #[serde(default)]
    pub last_used_at: Option<i64>,
    /// How many times a code was copied or used.
    #[serde(default)]
    pub use_count: u64,
    /// Position in the user's order (ascending).
    pub sort_key: i64,
    /// Set when the entry is in the trash.
    #[serde(default)]
    pub deleted_at: Option<i64>,
    /// The account's one-time recovery codes (see [`crate::vault::recovery_codes`]); vaults written
    /// before they existed open with none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<crate::vault::recovery_codes::RecoveryCode>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // The secret zeroizes itself; names and notes are wiped too.
        self.issuer.zeroize();
        self.account.zeroize();
        self.note.zeroize();
    }
}

impl OtpSource for Entry {
    fn otp_kind(&self) -> &OtpKind {
        &self.kind
    }
    fn otp_secret(&self) -> &Secret {
        &self.secret
    }
}

impl Entry {
    /// A new entry created at `now` with the given position; no note, groups, icon or
    /// favorite, never used.
    pub fn new(
        id: EntryId,
        kind: OtpKind,
        secret: Secret,
        issuer: String,
        account: String,
        now: i64,
        sort_key: i64,
    ) -> Self {
        Entry {
            id,
            kind,
            secret,
            issuer,
            account,
            note: String::new(),
            group_ids: Vec::new(),
            favorite: false,
            icon: None,
            created_at: now,
            updated_at: now,
            last_used_at: None,
            use_count: 0,
            sort_key,
            deleted_at: None,
            recovery_codes: Vec::new(),
        }
    }

    /// Whether this entry is the same account as another: same secret and kind of code
    /// (counters and names may differ).
    pub fn same_account(&self, kind: &OtpKind, secret: &Secret) -> bool {
        &self.secret == secret && same_kind(&self.kind, kind)
    }

    /// "Issuer (account)", "Issuer" or "account" — for lists and messages.
    pub fn display_name(&self) -> String {
        label(&self.issuer, &self.account)
    }
}

/// How an account is named in lists and messages: "Issuer (account)", "Issuer", "account" or
/// "(unnamed)".
pub fn label(issuer: &str, account: &str) -> String {
    match (issuer.is_empty(), account.is_empty()) {
        (false, false) => format!("{issuer} ({account})"),
        (false, true) => issuer.to_owned(),
        (true, false) => account.to_owned(),
        (true, true) => "(unnamed)".to_owned(),
    }
}

/// Same kind of code, ignoring the HOTP counter.
pub fn same_kind(a: &OtpKind, b: &OtpKind) -> bool {
    match (a, b) {
        (
            OtpKind::Hotp {
                algorithm: a1,
                digits: d1,
                ..
            },
            OtpKind::Hotp {
                algorithm: a2,
                digits: d2,
                ..
            },
        ) => a1 == a2 && d1 == d2,
        _ => a == b,
    }
}

/// A user-defined group of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Random id, fixed for the group's life.
    pub id: GroupId,
    /// The group's name: not empty, at most [`crate::limits::MAX_NAME_LEN`] characters.
    pub name: String,
    /// Position among the groups (ascending).
    pub sort_key: i64,
}

/// Preferences stored inside the encrypted vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Seconds added to the device clock when computing codes.
    #[serde(default)]
    pub clock_offset_s: i64,
    /// Entries in the trash longer than this are purged on the next write.
    #[serde(default = "default_retention")]
    pub trash_retention_days: u32,
}

fn default_retention() -> u32 {
    30
}

/// Largest clock offset accepted: a device clock more than a year off is not plausible.
pub const MAX_CLOCK_OFFSET_S: i64 = 366 * 24 * 3600;
/// Longest trash retention (ten years).
pub const MAX_TRASH_RETENTION_DAYS: u32 = 3650;

impl Settings {
    /// Whether every setting is in range (settings from a backup are checked like input).
    pub fn validate(&self) -> Result<(), String> {
        if self.clock_offset_s.unsigned_abs() > MAX_CLOCK_OFFSET_S.unsigned_abs() {
            return Err(format!(
                "a clock offset of {} s is more than a year",
                self.clock_offset_s
            ));
        }
        if !(1..=MAX_TRASH_RETENTION_DAYS).contains(&self.trash_retention_days) {
            return Err(format!(
                "trash retention must be 1 to {MAX_TRASH_RETENTION_DAYS} days, not {}",
                self.trash_retention_days
            ));
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            clock_offset_s: 0,
            trash_retention_days: default_retention(),
        }
    }
}

/// Why content from outside (a restored backup, an accepted file) is refused.
fn refuse(what: String) -> Result<(), String> {
    Err(what)
}

impl VaultContent {
    /// Every entry's kind of code is one the code generator supports (digits 6–10, period
    /// 1–3600 s): content from a file that is not authenticated is checked before it is
    /// shown, since a code of 11 digits cannot be computed.
    pub fn check_kinds(&self) -> Result<(), String> {
        for e in &self.entries {
            if let Err(why) = e.kind.validate() {
                return refuse(format!("an account's code settings: {why}"));
            }
        }
        Ok(())
    }

    /// Checked like an import (restores): kinds, name and note lengths, icon references, and
    /// ids that are unique; settings are checked separately ([`Settings::validate`]).
    pub fn check_as_input(&self) -> Result<(), String> {
        use crate::vault::session::{MAX_NAME_LEN, MAX_NOTE_LEN};
        self.check_kinds()?;
        let long = |s: &str, max: usize| s.chars().count() > max;
        let mut ids = std::collections::HashSet::with_capacity(self.entries.len());
        for e in &self.entries {
            if long(&e.issuer, MAX_NAME_LEN)
                || long(&e.account, MAX_NAME_LEN)
                || long(&e.note, MAX_NOTE_LEN)
                || e.icon.as_ref().is_some_and(|i| long(&i.0, MAX_NAME_LEN))
            {
                return refuse(format!(
                    "an account's name, note or icon is longer than {MAX_NAME_LEN} characters \
                     (notes {MAX_NOTE_LEN})"
                ));
            }
            if !ids.insert(e.id) {
                return refuse(format!("two accounts share the id {}", e.id));
            }
            if let Err(why) = crate::vault::recovery_codes::check_list(&e.recovery_codes) {
                return refuse(format!("an account's recovery codes: {why}"));
            }
        }
        let mut group_ids = std::collections::HashSet::with_capacity(self.groups.len());
        for g in &self.groups {
            if long(&g.name, MAX_NAME_LEN) {
                return refuse(format!(
                    "a group name is longer than {MAX_NAME_LEN} characters"
                ));
            }
            if !group_ids.insert(g.id) {
                return refuse(format!("two groups share the id {}", g.id));
            }
        }
        Ok(())
    }
}

/// Everything inside the encrypted body of a vault or backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VaultContent {
    /// Content format version ([`CONTENT_VERSION`] when this build writes it).
    pub version: u32,
    /// Every entry, trashed ones included (`deleted_at` set), in no particular order.
    pub entries: Vec<Entry>,
    /// The user's groups, in no particular order (`sort_key` orders them).
    pub groups: Vec<Group>,
    /// Preferences stored in the vault (clock offset, trash retention).
    pub settings: Settings,
}

/// Version of [`VaultContent`] this build writes.
pub const CONTENT_VERSION: u32 = 1;

impl VaultContent {
    /// Empty content of the current [`CONTENT_VERSION`].
    pub fn new() -> Self {
        VaultContent {
            version: CONTENT_VERSION,
            ..Default::default()
        }
    }

    /// Live (not trashed) entries in the user's order.
    pub fn live_entries(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.deleted_at.is_none())
            .collect();
        v.sort_by_key(|e| e.sort_key);
        v
    }

    /// The entry with this id, live or trashed; `None` if there is none.
    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub(crate) fn entry_mut(&mut self, id: EntryId) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    pub(crate) fn next_sort_key(&self) -> i64 {
        self.entries
            .iter()
            .map(|e| e.sort_key)
            .max()
            .map_or(0, |m| m.saturating_add(1024))
    }

    /// The most recent change to any entry.
    pub fn newest_change(&self) -> Option<i64> {
        self.entries
            .iter()
            .map(|e| e.updated_at.max(e.deleted_at.unwrap_or(i64::MIN)))
            .max()
    }
}

/// Lower-case, accent-free form of text used for matching ("Bäckerei" → "backerei").
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether an entry matches a search query: every word of the query must appear in the
/// issuer, account, note or a group name, ignoring case and accents.
pub fn matches(entry: &Entry, groups: &[Group], query: &str) -> bool {
    let words: Vec<String> = query.split_whitespace().map(fold).collect();
    if words.is_empty() {
        return true;
    }
    let mut haystack = fold(&entry.issuer);
    for part in [&entry.account, &entry.note] {
        haystack.push('\n');
        haystack.push_str(&fold(part));
    }
    for g in groups.iter().filter(|g| entry.group_ids.contains(&g.id)) {
        haystack.push('\n');
        haystack.push_str(&fold(&g.name));
    }
    words.iter().all(|w| haystack.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_format_as_uuid_v4_and_parse_back() {
        let id = Id::from_random([0xab; 16]);
        let text = id.to_string();
        assert_eq!(text, "abababab-abab-4bab-abab-abababababab");
        assert_eq!(Id::parse(&text), Some(id));
        assert_eq!(Id::parse("zz"), None);
    }

    #[test]
    fn fold_strips_accents_and_case() {
        assert_eq!(fold("Bäckerei ÉCOLE"), "backerei ecole");
        assert_eq!(fold("Straße"), "straße");
    }
}
