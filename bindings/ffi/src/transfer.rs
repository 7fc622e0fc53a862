//! OTPX/2 transfer objects for the apps: the new device runs a `TransferReceiver`, the old
//! one a `TransferSender`. Blocking calls (LAN) belong off the main thread. The receiver's
//! reply (shown once a sender is locked) goes to the sender, which only then has a code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use twofold_core::crypto::SystemRandom;
use twofold_core::transfer::{self, Invite, Reply, TransferError, lan};

use crate::convert::EntryId;
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
            | TransferError::UnsupportedVersion(_)
            | TransferError::BadParameters(_)
            | TransferError::ForbiddenAddress(_)
            | TransferError::InvalidReply(_)
            | TransferError::ReplyForAnotherSender
            | TransferError::TamperedReply
            | TransferError::Oversized(_) => TwofoldError::TransferRejected { details },
            TransferError::Incomplete => {
                TwofoldError::input(crate::error::InputProblem::TransferState, details)
            }
            TransferError::Decryption
            | TransferError::BadPayload(_)
            | TransferError::Refused(_)
            | TransferError::Network(_)
            | TransferError::Timeout
            | TransferError::Invalid(_) => TwofoldError::TransferFailed { details },
        }
    }
}

/// How far a transfer's frames have come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TransferProgress {
    /// Distinct frames received.
    pub received: u32,
    /// Frames needed without loss (one or two more may be needed).
    pub needed: u32,
    /// Whether every account has arrived.
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

/// What one scanned frame brought: the progress, and once the accounts are complete, the
/// confirmation code to compare, the reply to show the old device and the preview — taken
/// together, so a screen never shows a code without its preview.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivedFrame {
    /// Frames received and needed so far.
    pub progress: TransferProgress,
    /// Set once complete.
    pub confirmation_code: Option<String>,
    /// Set once complete (the QR text for the old device).
    pub reply_text: Option<String>,
    /// The accounts received (no secrets); empty until complete.
    pub preview: Vec<ImportedPreview>,
}

/// The new device's side: shows the invite, collects frames (or the LAN blob), shows the
/// confirmation code and a preview, adds the accounts only on `accept_into`.
#[derive(uniffi::Object)]
pub struct TransferReceiver {
    inner: Mutex<Option<transfer::TransferReceiver>>,
    /// A LAN sender waiting for the user's decision.
    lan: Mutex<Option<lan::Incoming>>,
}

impl TransferReceiver {
    fn with<T>(&self, f: impl FnOnce(&mut transfer::TransferReceiver) -> Result<T>) -> Result<T> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let r = guard.as_mut().ok_or_else(|| {
            TwofoldError::input(
                crate::error::InputProblem::TransferState,
                "this transfer was already accepted",
            )
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
            lan: Mutex::new(None),
        }))
    }

    /// The invite text to show as a QR code (`encodeQr(text, MEDIUM)`).
    pub fn invite_text(&self) -> Result<String> {
        self.with(|r| Ok(r.invite().to_text()))
    }

    /// When this session's invite expires (seconds since the epoch).
    pub fn expires_at(&self) -> Result<u64> {
        self.with(|r| Ok(r.expires_at()))
    }

    /// One scanned frame (any order; duplicates harmless); once the accounts are complete the
    /// result carries the confirmation code, the reply and the preview too.
    pub fn receive_frame(&self, text: String, now_seconds: u64) -> Result<ReceivedFrame> {
        self.with(|r| {
            let progress: TransferProgress = r.receive_frame(&text, now_seconds)?.into();
            if !progress.complete {
                return Ok(ReceivedFrame {
                    progress,
                    confirmation_code: None,
                    reply_text: None,
                    preview: vec![],
                });
            }
            Ok(ReceivedFrame {
                progress,
                confirmation_code: r.confirmation_code(),
                reply_text: r.reply().map(|x| x.to_text()),
                preview: r
                    .preview()
                    .unwrap_or_default()
                    .iter()
                    .map(Into::into)
                    .collect(),
            })
        })
    }

    /// Waits (blocking, `timeout_ms` for the whole exchange) for the sender on the invite's
    /// LAN address; returns once its accounts arrived (then show `confirmation_code()` and
    /// `preview()`, and `accept_into` or `reject`). The expiry is checked against the clock
    /// whenever data arrives.
    pub fn receive_lan(&self, timeout_ms: u64) -> Result<()> {
        let incoming = self.with(|r| {
            Ok(lan::receive_on_invite(
                r,
                Duration::from_millis(timeout_ms),
                &twofold_core::time::now_s,
                &mut |_| {},
            )?)
        })?;
        *self.lan.lock().unwrap_or_else(|p| p.into_inner()) = Some(incoming);
        Ok(())
    }

    /// The reply to show the old device (as a QR code, `encodeQr(text, MEDIUM)`), once a
    /// sender is locked: it reveals this session's nonce so the old device can show its code.
    pub fn reply_text(&self) -> Result<Option<String>> {
        self.with(|r| Ok(r.reply().map(|x| x.to_text())))
    }

    /// Frames received and needed so far.
    pub fn progress(&self) -> Result<TransferProgress> {
        self.with(|r| Ok(r.progress().into()))
    }

    /// The 6-digit code to compare with the old device, once a sender is locked.
    pub fn confirmation_code(&self) -> Result<Option<String>> {
        self.with(|r| Ok(r.confirmation_code()))
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
            .ok_or_else(|| {
                TwofoldError::input(
                    crate::error::InputProblem::TransferState,
                    "this transfer was already accepted",
                )
            })?;
        let accounts = receiver.accept()?;
        let lan = self.lan.lock().unwrap_or_else(|p| p.into_inner()).take();
        let outcome = twofold_core::interop::add_to_vault(&vault.inner, accounts);
        if let Some(incoming) = lan {
            let _ = incoming.answer(outcome.is_ok());
        }
        Ok(outcome?.into())
    }

    /// The codes differ (or the user gave up): nothing is added; a LAN sender is told no.
    pub fn reject(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(incoming) = self.lan.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = incoming.answer(false);
        }
    }
}

/// The old device's side: seals the chosen accounts for a scanned invite, shows frames (or
/// uses the LAN), reads the new device's reply, and only then has a code.
#[derive(uniffi::Object)]
pub struct TransferSender {
    inner: Mutex<transfer::TransferSender>,
    lan: Mutex<Option<lan::Outgoing>>,
}

impl TransferSender {
    fn sender(&self) -> std::sync::MutexGuard<'_, transfer::TransferSender> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl TransferSender {
    /// Seals the accounts with `entry_ids` (all when empty) of the unlocked `vault` for the
    /// invite. Frames are sized for QR `qr_version` (0: the default, 15) at level MEDIUM.
    /// Re-authenticate the user first: this takes secrets out of the vault (sealed). Refuses an
    /// invite whose LAN address is not a private IP literal.
    #[uniffi::constructor]
    pub fn new(
        vault: Arc<VaultSession>,
        invite_text: String,
        entry_ids: Vec<EntryId>,
        now_seconds: u64,
        qr_version: u8,
    ) -> Result<Arc<Self>> {
        let invite = Invite::parse(&invite_text, now_seconds)?;
        let ids = entry_ids.iter().map(|i| i.0).collect::<Vec<_>>();
        let all = vault.inner.entries()?;
        let inner = transfer::TransferSender::seal_entries(
            invite,
            &transfer::select(&all, &ids),
            &vault.inner.groups()?,
            now_seconds as i64 * 1000,
            (qr_version != 0).then_some(i16::from(qr_version)),
            vault.inner.env().rng.as_ref(),
        )?;
        Ok(Arc::new(TransferSender {
            inner: Mutex::new(inner),
            lan: Mutex::new(None),
        }))
    }

    /// Where a LAN transfer would go (a private IP and port), to show the user and ask before
    /// `connect_lan`; `None` when the invite has no LAN address.
    pub fn lan_destination(&self) -> Option<String> {
        self.sender().invite().lan.clone()
    }

    /// The new device's reply (scanned text): checked against the invite; returns the code.
    /// `TransferRejected` when it names another sender (someone else sent to the new device:
    /// tell the user to stop) or does not open the invite's commitment.
    pub fn accept_reply(&self, reply_text: String, now_seconds: u64) -> Result<String> {
        let reply = Reply::parse(&reply_text)?;
        Ok(self.sender().accept_reply(&reply, now_seconds)?)
    }

    /// The 6-digit code, once the reply was accepted (`None` before: show no code).
    pub fn confirmation_code(&self) -> Option<String> {
        self.sender().confirmation_code()
    }

    /// Frame `n` of the endless stream; show them in order, about 6 per second, looping on,
    /// at error correction MEDIUM.
    pub fn frame(&self, n: u64) -> String {
        self.sender().frame(n)
    }

    /// Frames a lossless receiver needs.
    pub fn source_frames(&self) -> u64 {
        self.sender().source_frames() as u64
    }

    /// Connects to the invite's LAN address (blocking; `timeout_ms` bounds the whole exchange,
    /// `finish_lan` included), sends the hello and takes the nonce: returns the code to show.
    /// Ask the user first (`lan_destination`).
    pub fn connect_lan(&self, timeout_ms: u64) -> Result<String> {
        let out = lan::connect(
            &mut self.sender(),
            Duration::from_millis(timeout_ms),
            &twofold_core::time::now_s,
        )?;
        let code = out.confirmation_code().to_owned();
        *self.lan.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
        Ok(code)
    }

    /// The user confirmed both screens show the same code: send the accounts (blocking) and
    /// wait for the new device's user. `TransferFailed` when they were refused.
    pub fn finish_lan(&self) -> Result<()> {
        let out = self
            .lan
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| {
                TwofoldError::input(
                    crate::error::InputProblem::TransferState,
                    "connect_lan first",
                )
            })?;
        Ok(out.send(&self.sender())?)
    }

    /// The codes differ: close the LAN connection; nothing is sent.
    pub fn cancel_lan(&self) {
        self.lan.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
