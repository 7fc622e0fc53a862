pub mod backup;
pub mod care;
pub mod code;
pub mod desktop;
pub mod interop;
pub mod kit;
pub mod output;
pub mod sync;
pub mod time;
pub mod transfer;
pub mod uri;
pub mod vault;
pub mod watch;

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

/// `2023-11-14 22:13:20 UTC` for milliseconds since the epoch.
pub fn format_time(unix_ms: i64) -> String {
    twofold_core::time::format_utc(unix_ms)
}
