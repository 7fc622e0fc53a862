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
/// Most recovery codes one account keeps (services hand out 8–16; some 30).
pub const MAX_RECOVERY_CODES: usize = 64;
/// Longest recovery code (characters, after trimming).
pub const MAX_RECOVERY_CODE_LEN: usize = 128;
/// Most records the exposure ledger keeps: one per account and way, with the first and last
/// date and a count; past this the records touched longest ago are dropped.
pub const MAX_EXPOSURES: usize = 10_000;
/// Most restore drills remembered (the newest are kept).
pub const MAX_DRILLS: usize = 32;
/// Most issuers the checkup treats as important.
pub const MAX_IMPORTANT_ISSUERS: usize = 256;
