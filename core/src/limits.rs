//! The limits of what a vault holds, shared by everything that puts accounts into one (the
//! session, imports, scans, transfers, restores), so the same account is accepted or refused
//! the same way whichever path it takes.

/// Most entries a vault holds (live and trashed); also the most an import, a transfer or a
/// backup may carry.
pub const MAX_ENTRIES: usize = 100_000;
/// Longest issuer, account or group name (characters, after trimming).
pub const MAX_NAME_LEN: usize = 256;
/// Longest note (characters, after trimming).
pub const MAX_NOTE_LEN: usize = 4096;
/// Step between neighbouring sort keys of entries and groups (room to insert between).
pub const SORT_STEP: i64 = 1024;
