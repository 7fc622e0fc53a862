//! The auto-lock rule both apps follow: lock after the app spent the chosen delay in the
//! background — but not while a system picker the app itself opened (a folder, file, picture
//! or "save as" dialog) is in front, for up to [`PICKER_GRACE_SECS`]: leaving the app for its
//! own picker is not leaving it, and the picker's answer must reach an unlocked vault (an
//! export would otherwise leave an empty document behind).
//!
//! The apps feed it a monotonic clock that keeps counting while the device sleeps (Android's
//! `elapsedRealtime`, iOS's `ContinuousClock`) and ask it at three moments: going to the
//! background (lock now, or set a timer), the timer firing, and coming back (the process may
//! have been frozen and its timer never fired, so the clock is checked again then).

/// How long a picker the app opened may keep the vault unlocked in the background (seconds).
pub const PICKER_GRACE_SECS: i64 = 600;

/// What to do when the app goes to the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBackground {
    /// Lock at once (delay "immediately").
    LockNow,
    /// Set a timer: lock after this many milliseconds (and check again on return).
    LockAfter(u64),
    /// Never lock automatically.
    Stay,
}

/// The auto-lock state of one app: the user's delay, the pickers open, and when it went to
/// the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoLock {
    delay_secs: i64,
    pickers_open: u32,
    /// Monotonic time it went to the background and the delay then in force.
    background: Option<(i64, u64)>,
}

impl AutoLock {
    /// A delay in seconds: 0 locks at once, a negative one never.
    pub fn new(delay_secs: i64) -> Self {
        AutoLock {
            delay_secs,
            pickers_open: 0,
            background: None,
        }
    }

    /// The user changed the delay (applies from the next time the app goes to the background).
    pub fn set_delay(&mut self, delay_secs: i64) {
        self.delay_secs = delay_secs;
    }

    /// A system picker the app opened is about to be in front.
    pub fn picker_opened(&mut self) {
        self.pickers_open = self.pickers_open.saturating_add(1);
    }

    /// Its answer arrived, or it was dismissed.
    pub fn picker_closed(&mut self) {
        self.pickers_open = self.pickers_open.saturating_sub(1);
    }

    /// The delay in force now, in milliseconds (`None`: never).
    fn effective_ms(&self) -> Option<u64> {
        if self.delay_secs < 0 {
            return None;
        }
        let secs = if self.pickers_open > 0 {
            self.delay_secs.max(PICKER_GRACE_SECS)
        } else {
            self.delay_secs
        };
        Some(u64::try_from(secs).unwrap_or(0).saturating_mul(1000))
    }

    /// The app went to the background at `now_ms` (monotonic). Told again before it came
    /// back (a lifecycle event repeated), the app left at the first time: the delay is not
    /// restarted, and what is left of it is returned (or `LockNow` when nothing is).
    pub fn backgrounded(&mut self, now_ms: i64) -> OnBackground {
        match self.effective_ms() {
            None => {
                self.background = None;
                OnBackground::Stay
            }
            Some(0) => {
                self.background = None;
                OnBackground::LockNow
            }
            Some(ms) => {
                let since = self.background.map_or(now_ms, |(since, _)| since);
                self.background = Some((since, ms));
                if self.due(now_ms) {
                    self.background = None;
                    return OnBackground::LockNow;
                }
                // Not due: `since <= now_ms` and less than `ms` has passed.
                let passed = u64::try_from(now_ms - since).unwrap_or(0);
                OnBackground::LockAfter(ms - passed)
            }
        }
    }

    /// Whether the delay has passed at `now_ms` (a clock that went backwards counts as
    /// passed: when in doubt, lock).
    fn due(&self, now_ms: i64) -> bool {
        match self.background {
            // A span too long for the arithmetic has passed any delay.
            Some((since, ms)) => {
                now_ms < since
                    || now_ms
                        .checked_sub(since)
                        .and_then(|d| u64::try_from(d).ok())
                        .is_none_or(|d| d >= ms)
            }
            None => false,
        }
    }

    /// The timer set at [`AutoLock::backgrounded`] fired: lock, unless the app came back
    /// (or was locked) in the meantime and the timer is stale. Timers measure uptime, which
    /// runs no faster than the monotonic clock, so a timer never fires before the delay.
    pub fn timer_fired(&mut self) -> bool {
        self.background.take().is_some()
    }

    /// The app is in front again at `now_ms`: whether to lock before showing anything.
    pub fn foregrounded(&mut self, now_ms: i64) -> bool {
        let lock = self.due(now_ms);
        self.background = None;
        lock
    }

    /// The vault was locked (by the user or the rule): nothing is pending, and no picker
    /// keeps a grace any more — its answer needs an unlock anyway, and a picker whose
    /// "closed" never came (its screen went away while it was shown) must not lengthen
    /// every later delay.
    pub fn locked(&mut self) {
        self.background = None;
        self.pickers_open = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_delay_in_the_background_and_not_before() {
        let mut a = AutoLock::new(60);
        assert_eq!(a.backgrounded(1_000), OnBackground::LockAfter(60_000));
        assert!(!a.foregrounded(60_999), "back before the delay: still open");
        assert!(
            !a.timer_fired(),
            "a timer that fires after the return is stale"
        );
        assert_eq!(a.backgrounded(100_000), OnBackground::LockAfter(60_000));
        assert!(
            a.foregrounded(160_000),
            "back after the delay (a frozen process)"
        );
        assert!(!a.foregrounded(999_999), "nothing pending after that");
        assert_eq!(a.backgrounded(0), OnBackground::LockAfter(60_000));
        assert!(a.timer_fired());
        assert!(
            !a.foregrounded(1),
            "locked by the timer: nothing pending on return"
        );
    }

    #[test]
    fn immediately_and_never() {
        assert_eq!(AutoLock::new(0).backgrounded(5), OnBackground::LockNow);
        let mut never = AutoLock::new(-1);
        assert_eq!(never.backgrounded(5), OnBackground::Stay);
        assert!(!never.foregrounded(i64::MAX));
    }

    #[test]
    fn an_own_picker_keeps_the_vault_open_for_the_grace_time_only() {
        let mut a = AutoLock::new(0);
        a.picker_opened();
        let grace = (PICKER_GRACE_SECS * 1000) as u64;
        assert_eq!(a.backgrounded(0), OnBackground::LockAfter(grace));
        assert!(
            !a.foregrounded(grace as i64 - 1),
            "the picker's answer arrives unlocked"
        );
        a.picker_closed();
        assert_eq!(
            a.backgrounded(0),
            OnBackground::LockNow,
            "no picker: the user's delay"
        );
        // A longer delay than the grace stays; two pickers need two closes.
        let mut long = AutoLock::new(3600);
        long.picker_opened();
        long.picker_opened();
        long.picker_closed();
        assert_eq!(long.backgrounded(0), OnBackground::LockAfter(3_600_000));
        long.picker_closed();
        long.picker_closed(); // an extra close does not go negative
        let mut short = AutoLock::new(30);
        short.picker_closed();
        assert_eq!(short.backgrounded(0), OnBackground::LockAfter(30_000));
        // Left for the picker and then for good: locked after the grace.
        short.picker_opened();
        short.backgrounded(0);
        assert!(short.foregrounded(grace as i64));
    }

    #[test]
    fn a_clock_that_goes_backwards_locks() {
        let mut a = AutoLock::new(60);
        a.backgrounded(10_000);
        assert!(a.foregrounded(9_000));
    }

    #[test]
    fn a_delay_change_applies_from_the_next_background() {
        let mut a = AutoLock::new(60);
        a.backgrounded(0);
        a.set_delay(0);
        assert!(!a.foregrounded(1_000));
        assert_eq!(a.backgrounded(1_000), OnBackground::LockNow);
        a.set_delay(10);
        a.backgrounded(0);
        a.locked();
        assert!(
            !a.foregrounded(1_000_000),
            "a manual lock clears the pending timer"
        );
    }
}
