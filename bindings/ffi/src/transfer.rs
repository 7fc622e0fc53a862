//! OTPX/1 transfer objects for the apps: the new device runs a `TransferReceiver`, the old
//! one a `TransferSender`. Blocking calls (LAN) belong off the main thread.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use twofold_core::crypto::SystemRandom;
use twofold_core::transfer::{self, Invite, TransferError, TransferPayload, frames, lan};
use twofold_core::vault::Entry;

use crate::convert::parse_id;
use crate::error::{Result, TwofoldError};
use crate::interop::{AddResult, ImportedPreview};
use crate::session::VaultSession;

impl From<TransferError> for TwofoldError {
    fn from(e: TransferError) -> Self {
        let details = e.to_string();
        match e {
            TransferError::Expired => TwofoldError::TransferExpired,
            TransferError::WrongSession
            | TransferError::SecondSender
            | TransferError::TamperedFrame
            | TransferError::NotAFrame
            | TransferError::InvalidInvite(_)
            | TransferError::Oversized(_) => TwofoldError::TransferRejected { details },
            TransferError::Incomplete => TwofoldError::InvalidInput { details },
            TransferError::Decryption
            | TransferError::BadPayload(_)
            | TransferError::Network(_)
            | TransferError::Timeout
            | TransferError::Invalid(_) => TwofoldError::TransferFailed { details },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TransferProgress {
    pub received: u32,
    pub needed: u32,
    pub complete: bool,
}

impl From<transfer::Progress> for TransferProgress {
    fn from(p: transfer::Progress) -> Self {
        TransferProgress {
            received: p.received as u32,
            needed: p.needed as u32,
            complete: p.complete,
        }
    }
}

/// The new device's side: shows the invite, collects frames (or the LAN blob), shows the
/// confirmation code and a preview, adds the accounts only on `accept_into`.
#[derive(uniffi::Object)]
pub struct TransferReceiver {
    inner: Mutex<Option<transfer::TransferReceiver>>,
}

impl TransferReceiver {
    fn with<T>(&self, f: impl FnOnce(&mut transfer::TransferReceiver) -> Result<T>) -> Result<T> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let r = guard.as_mut().ok_or_else(|| TwofoldError::InvalidInput {
            details: "this transfer was already accepted".into(),
        })?;
        f(r)
    }
}

#[uniffi::export]
impl TransferReceiver {
    /// A session valid for `ttl_seconds` (at most 600) from `now_seconds`; `lan` ("host:port")
    /// to also accept the LAN transport.
    #[uniffi::constructor]
    pub fn new(now_seconds: u64, ttl_seconds: u64, lan: Option<String>) -> Result<Arc<Self>> {
        let r =
            transfer::TransferReceiver::new(now_seconds, ttl_seconds, lan, &SystemRandom::new())?;
        Ok(Arc::new(TransferReceiver {
            inner: Mutex::new(Some(r)),
        }))
    }

    /// The invite text to show as a QR code (`encodeQr(text, MEDIUM)`).
    pub fn invite_text(&self) -> Result<String> {
        self.with(|r| Ok(r.invite().to_text()))
    }

    pub fn expires_at(&self) -> Result<u64> {
        self.with(|r| Ok(r.expires_at()))
    }

    /// One scanned frame (any order; duplicates harmless).
    pub fn receive_frame(&self, text: String, now_seconds: u64) -> Result<TransferProgress> {
        self.with(|r| Ok(r.receive_frame(&text, now_seconds)?.into()))
    }

    /// Waits (blocking, up to `timeout_ms`) for the sender on the invite's LAN address.
    pub fn receive_lan(&self, timeout_ms: u64, now_seconds: u64) -> Result<()> {
        self.with(|r| {
            let addr = r
                .invite()
                .lan
                .clone()
                .ok_or_else(|| TwofoldError::InvalidInput {
                    details: "this session has no LAN address".into(),
                })?;
            let listener =
                std::net::TcpListener::bind(&addr).map_err(|e| TwofoldError::TransferFailed {
                    details: format!("cannot listen on {addr}: {e}"),
                })?;
            Ok(lan::receive(
                listener,
                r,
                Duration::from_millis(timeout_ms),
                now_seconds,
            )?)
        })
    }

    pub fn progress(&self) -> Result<TransferProgress> {
        self.with(|r| Ok(r.progress().into()))
    }

    /// The 6-digit code to compare with the old device, once complete.
    pub fn confirmation_code(&self) -> Result<Option<String>> {
        self.with(|r| Ok(r.confirmation_code().map(str::to_owned)))
    }

    /// The accounts received (no secrets), once complete.
    pub fn preview(&self) -> Result<Vec<ImportedPreview>> {
        self.with(|r| {
            Ok(r.preview()
                .unwrap_or_default()
                .iter()
                .map(Into::into)
                .collect())
        })
    }

    /// The user confirmed the codes match: add the accounts (duplicates reported).
    pub fn accept_into(&self, vault: Arc<VaultSession>) -> Result<AddResult> {
        let receiver = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| TwofoldError::InvalidInput {
                details: "this transfer was already accepted".into(),
            })?;
        let accounts = receiver.accept()?;
        let outcome = twofold_core::interop::add_to_vault(&vault.inner, accounts)?;
        Ok(AddResult {
            added_ids: outcome.added.iter().map(|i| i.to_string()).collect(),
            duplicates: outcome.duplicates,
        })
    }
}

/// The old device's side: seals the chosen accounts for a scanned invite.
#[derive(uniffi::Object)]
pub struct TransferSender {
    inner: transfer::TransferSender,
}

#[uniffi::export]
impl TransferSender {
    /// Seals the accounts with `entry_ids` (all when empty) of the unlocked `vault` for the
    /// invite. Frames are sized for QR `qr_version` (0: the default, 15). Re-authenticate the
    /// user first: this takes secrets out of the vault (sealed).
    #[uniffi::constructor]
    pub fn new(
        vault: Arc<VaultSession>,
        invite_text: String,
        entry_ids: Vec<String>,
        now_seconds: u64,
        qr_version: u8,
    ) -> Result<Arc<Self>> {
        let invite = Invite::parse(&invite_text, now_seconds)?;
        let all = vault.inner.entries()?;
        let chosen: Vec<&Entry> = if entry_ids.is_empty() {
            all.iter().collect()
        } else {
            let ids = entry_ids
                .iter()
                .map(|i| parse_id(i))
                .collect::<Result<Vec<_>>>()?;
            all.iter().filter(|e| ids.contains(&e.id)).collect()
        };
        let payload = TransferPayload::from_entries(
            &chosen,
            &vault.inner.groups()?,
            now_seconds as i64 * 1000,
        );
        let version = if qr_version == 0 {
            frames::DEFAULT_QR_VERSION
        } else {
            i16::from(qr_version).clamp(5, 30)
        };
        let inner = transfer::TransferSender::new(
            invite,
            &payload,
            frames::bytes_for_qr_version(version),
            &SystemRandom::new(),
        )?;
        Ok(Arc::new(TransferSender { inner }))
    }

    pub fn confirmation_code(&self) -> String {
        self.inner.confirmation_code().to_owned()
    }

    /// Frame `n` of the endless stream; show them in order, about 6 per second, looping on.
    pub fn frame(&self, n: u64) -> String {
        self.inner.frame(n)
    }

    /// Frames a lossless receiver needs.
    pub fn source_frames(&self) -> u64 {
        self.inner.source_frames() as u64
    }

    /// Sends over the invite's LAN address (blocking, up to `timeout_ms`).
    pub fn send_lan(&self, timeout_ms: u64) -> Result<()> {
        Ok(lan::send(
            self.inner.invite(),
            self.inner.blob(),
            Duration::from_millis(timeout_ms),
        )?)
    }
}
