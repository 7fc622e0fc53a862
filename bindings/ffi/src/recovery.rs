//! The printable recovery kit and clock calibration from an accepted code (conversions only;
//! the rules are in `twofold_core::recovery_kit` and `twofold_core::otp::calibrate`).

use twofold_core::otp;
use twofold_core::recovery_kit;
use twofold_core::vault::{InputError, RecoveryKey, VaultError};
use zeroize::Zeroizing;

use crate::convert::EntryId;
use crate::error::{Result, TwofoldError};
use crate::session::VaultSession;

/// The file a recovery kit is made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecoveryKitFormat {
    /// A4 PDF with embedded fonts (for the share/print sheet).
    Pdf,
    /// One self-contained HTML file.
    Html,
}

/// What a recovery kit holds besides the key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryKitOptions {
    /// Add the accounts as QR codes only the recovery key opens.
    pub with_accounts: bool,
    /// Where the user keeps backups (e.g. the backup folder's display name); `None` prints
    /// a line to fill in.
    pub backup_location: Option<String>,
}

/// The clock after a calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ClockCalibration {
    /// The new clock offset (seconds added to the device's clock).
    pub offset_seconds: i64,
    /// Right to within ± this many seconds (half the account's period).
    pub uncertainty_seconds: u32,
    /// Past ±15 s: show a clock warning.
    pub warn: bool,
}

fn typed_key(text: String) -> Result<RecoveryKey> {
    let text = Zeroizing::new(text);
    RecoveryKey::parse(&text).map_err(|e| TwofoldError::RecoveryKeyTypo {
        details: e.to_string(),
    })
}

#[uniffi::export]
impl VaultSession {
    /// The printable recovery kit (PDF or HTML bytes) of the unlocked vault, made with the
    /// recovery key the user has just typed, or the one `rotate_recovery_key` just returned.
    /// A mistyped key is `RecoveryKeyTypo`, a wrong one `WrongCredential`: no kit. The bytes
    /// are a credential: share them only to print, and do not keep them.
    pub fn recovery_kit(
        &self,
        recovery_key: String,
        format: RecoveryKitFormat,
        options: RecoveryKitOptions,
    ) -> Result<Vec<u8>> {
        let key = typed_key(recovery_key)?;
        let format = match format {
            RecoveryKitFormat::Pdf => recovery_kit::KitFormat::Pdf,
            RecoveryKitFormat::Html => recovery_kit::KitFormat::Html,
        };
        let options = recovery_kit::KitOptions {
            with_accounts: options.with_accounts,
            backup_location: options.backup_location,
        };
        Ok(recovery_kit::recovery_kit(
            &self.inner,
            &key,
            format,
            &options,
        )?)
    }

    /// Sets the clock offset from a code the service of entry `id` just accepted (and,
    /// optionally, the code it accepted right after). Searches ±`window_seconds` (default
    /// 600) around the device's clock; exactly one matching time step sets and stores the
    /// offset. Several or none: `InvalidInput` with `CalibrationAmbiguous` (ask for the next
    /// code too) or `CalibrationNoMatch`, and nothing changes.
    pub fn calibrate_from_accepted_code(
        &self,
        id: EntryId,
        code: String,
        next_code: Option<String>,
        window_seconds: Option<u32>,
    ) -> Result<ClockCalibration> {
        let c = self.inner.calibrate_from_accepted_code(
            id.0,
            &code,
            next_code.as_deref(),
            window_seconds.unwrap_or(otp::calibrate::DEFAULT_WINDOW_S),
        )?;
        Ok(ClockCalibration {
            offset_seconds: c.offset_s,
            uncertainty_seconds: c.uncertainty_s,
            warn: otp::offset_needs_warning(c.offset_s),
        })
    }
}

/// Puts the scanned accounts codes of a printed recovery kit (their texts, any order,
/// repeats allowed) back together into backup bytes, to open with the recovery key like any
/// backup. Missing parts are `InvalidInput` with `KitMissingParts { missing }`.
#[uniffi::export]
pub fn join_recovery_kit_parts(texts: Vec<String>) -> Result<Vec<u8>> {
    recovery_kit::join_account_parts(&texts)
        .map_err(|e| VaultError::from(InputError::from(e)).into())
}
