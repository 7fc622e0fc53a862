pub mod code;
pub mod uri;

use std::time::{SystemTime, UNIX_EPOCH};

/// Current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `--at UNIX_SECONDS` if given, else now, in milliseconds.
pub fn at_ms(at: Option<u64>) -> i64 {
    match at {
        Some(secs) => i64::try_from(secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
        None => now_ms(),
    }
}
