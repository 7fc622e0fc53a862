//! Hybrid logical clocks (Kulkarni, Demirbas et al., OPODIS 2014) and the stamps that order
//! every write in a sync group.
//!
//! A clock value is one `u64`: milliseconds since the epoch in the upper 48 bits, a counter
//! in the lower 16. A device's clock never goes back (it is stored in the vault), advances
//! past every stamp it has merged, and stays close to wall time, so "last writer wins" means
//! what a user expects while still respecting what each device had seen.

use serde::{Deserialize, Serialize};

/// Bits of the logical counter.
pub const COUNTER_BITS: u32 = 16;
/// A remote stamp further ahead of the local clock than this is not adopted (and warned
/// about): one device with a wrong clock must not drag every other device's clock along.
pub const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

/// The clock value for a wall time in milliseconds, with counter 0.
pub fn from_ms(ms: i64) -> u64 {
    (ms.clamp(0, (1i64 << 47) - 1) as u64) << COUNTER_BITS
}

/// The wall time (ms) of a clock value.
pub fn to_ms(t: u64) -> i64 {
    (t >> COUNTER_BITS) as i64
}

/// The next clock value after `last` for a change made at `hint_ms` (never later than
/// `now_ms`): above `last`, and at the hint's time when that is later.
pub fn tick(last: u64, hint_ms: i64, now_ms: i64) -> u64 {
    let at = from_ms(hint_ms.min(now_ms));
    at.max(last.saturating_add(1))
}

/// Whether a remote clock value may be adopted by a device whose wall clock reads `now_ms`.
pub fn adoptable(remote: u64, now_ms: i64) -> bool {
    to_ms(remote) <= now_ms.saturating_add(MAX_AHEAD_MS)
}

/// Who wrote a value and when: ordered by clock value, then by the writer's device tag, so
/// every device orders every pair of writes the same way. Encoded as the pair
/// `[time, device]`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(from = "(u64, u64)", into = "(u64, u64)")]
pub struct Stamp {
    /// Clock value.
    pub time: u64,
    /// Device tag of the writer (see `roster::devtag`).
    pub device: u64,
}

impl From<(u64, u64)> for Stamp {
    fn from((time, device): (u64, u64)) -> Self {
        Stamp { time, device }
    }
}

impl From<Stamp> for (u64, u64) {
    fn from(s: Stamp) -> Self {
        (s.time, s.device)
    }
}

impl Stamp {
    /// The lowest stamp (clock 0, device 0): below every write.
    pub const ZERO: Stamp = Stamp { time: 0, device: 0 };

    /// The stamp of a write at clock value `time` by the device with tag `device`.
    pub fn new(time: u64, device: u64) -> Self {
        Stamp { time, device }
    }

    /// Wall time of the stamp in milliseconds.
    pub fn ms(&self) -> i64 {
        to_ms(self.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_monotonic_and_follow_wall_time() {
        let a = tick(0, 1_000, 1_000);
        assert_eq!(to_ms(a), 1_000);
        // Same millisecond: the counter moves.
        let b = tick(a, 1_000, 1_000);
        assert_eq!(b, a + 1);
        // The wall clock went back: the clock does not.
        let c = tick(b, 500, 500);
        assert!(c > b);
        // A hint later than now is capped at now.
        let d = tick(c, 9_000, 2_000);
        assert_eq!(to_ms(d), 2_000);
    }

    #[test]
    fn far_future_stamps_are_not_adoptable() {
        let now = 1_700_000_000_000;
        assert!(adoptable(from_ms(now + 1000), now));
        assert!(!adoptable(from_ms(now + MAX_AHEAD_MS + 1), now));
    }

    #[test]
    fn stamps_order_by_time_then_device() {
        assert!(Stamp::new(5, 1) < Stamp::new(5, 2));
        assert!(Stamp::new(5, 9) < Stamp::new(6, 1));
    }
}
