//! `AutoLock`: the one auto-lock rule both apps feed with their monotonic clock
//! (`twofold_core::autolock`).

use std::sync::{Arc, Mutex, MutexGuard};

use twofold_core::autolock::{self, OnBackground};

/// How long a system picker the app opened may keep the vault unlocked in the background.
#[uniffi::export]
pub fn auto_lock_picker_grace_seconds() -> i64 {
    autolock::PICKER_GRACE_SECS
}

/// What to do when the app goes to the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AutoLockAction {
    /// Lock at once.
    LockNow,
    /// Set a timer for `ms`; on firing call `timer_fired`, on return `foregrounded`.
    LockAfter {
        /// Milliseconds of the monotonic clock until the vault locks.
        ms: u64,
    },
    /// Never lock automatically.
    Stay,
}

/// The auto-lock state of the app: the delay, the pickers the app opened, and when it left.
/// Times are milliseconds of a monotonic clock that counts while the device sleeps.
#[derive(uniffi::Object)]
pub struct AutoLock {
    inner: Mutex<autolock::AutoLock>,
}

impl AutoLock {
    fn state(&self) -> MutexGuard<'_, autolock::AutoLock> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl AutoLock {
    /// `delay_seconds`: 0 locks at once, negative never.
    #[uniffi::constructor]
    pub fn new(delay_seconds: i64) -> Arc<Self> {
        Arc::new(AutoLock {
            inner: Mutex::new(autolock::AutoLock::new(delay_seconds)),
        })
    }

    /// Changes the delay: seconds after leaving the app until it locks (0 at once, negative
    /// never).
    pub fn set_delay(&self, delay_seconds: i64) {
        self.state().set_delay(delay_seconds);
    }

    /// Before launching a system picker (folder, file, picture, "save as").
    pub fn picker_opened(&self) {
        self.state().picker_opened();
    }

    /// Its answer arrived or it was dismissed.
    pub fn picker_closed(&self) {
        self.state().picker_closed();
    }

    /// The app went to the background at `now_ms`: what to do about locking.
    pub fn backgrounded(&self, now_ms: i64) -> AutoLockAction {
        match self.state().backgrounded(now_ms) {
            OnBackground::LockNow => AutoLockAction::LockNow,
            OnBackground::LockAfter(ms) => AutoLockAction::LockAfter { ms },
            OnBackground::Stay => AutoLockAction::Stay,
        }
    }

    /// The timer fired: lock unless it is stale (the app came back or was locked meanwhile).
    pub fn timer_fired(&self) -> bool {
        self.state().timer_fired()
    }

    /// Back in front: lock before showing anything when this is true.
    pub fn foregrounded(&self, now_ms: i64) -> bool {
        self.state().foregrounded(now_ms)
    }

    /// The vault was locked: nothing pending.
    pub fn locked(&self) {
        self.state().locked();
    }
}
