//! Device-to-device transfer, OTPX/1 (normative description: `docs/transfer-protocol.md`).
//!
//! The new device (receiver) shows an **invite** QR: session id, an ephemeral X25519 public key,
//! a 32-byte PSK, an expiry and optionally a LAN address. The old device (sender) scans it and
//! seals the chosen accounts with HPKE (RFC 9180) mode_psk, DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305. The sealed blob travels as an endless stream of RaptorQ
//! (RFC 6330) fountain-coded **frames** — Base45 text for QR alphanumeric mode, each with the
//! session and sender tags and a MAC under a PSK-derived key — or over one TCP connection.
//! Both screens show a 6-digit **confirmation code** from the HPKE exporter; the receiver adds
//! nothing before the user accepts. A photo of the frames alone reveals nothing: opening the
//! blob needs the receiver's private key, which never leaves the new device.

pub mod frames;
pub mod lan;

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, PskBundle, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{self, RandomSource};
use crate::interop::ImportedEntry;
use crate::serde_bytes_helpers::array;
use crate::vault::{Entry, Group};

pub use frames::{FrameInfo, Progress};

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;
type Kem = X25519HkdfSha256;

/// Protocol version carried in invites and frames.
pub const VERSION: u8 = 1;
/// Text prefix of an invite.
pub const INVITE_PREFIX: &str = "OTPX1I";
/// Longest an invite may live.
pub const MAX_INVITE_SECONDS: u64 = 600;
/// Largest sealed blob accepted (about 20 000 accounts).
pub const MAX_BLOB_BYTES: usize = 8 * 1024 * 1024;
/// Most accounts in one transfer.
pub const MAX_ENTRIES: usize = 100_000;

const INFO: &[u8] = b"twofold/otpx/1";
const PSK_ID: &[u8] = b"twofold/otpx/1/psk";
const CONFIRMATION_LABEL: &[u8] = b"twofold/otpx/1 confirmation";
const ENC_LEN: usize = 32;

/// Why a transfer step failed. No text contains key material or account secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("not a Twofold transfer invite: {0}")]
    InvalidInvite(String),
    #[error("this transfer invite has expired; show a new one on the new device")]
    Expired,
    #[error("this frame belongs to another transfer session")]
    WrongSession,
    #[error("this frame comes from a second sender; only the first sender is accepted")]
    SecondSender,
    #[error("this frame was altered (its authentication tag does not match)")]
    TamperedFrame,
    #[error("not a Twofold transfer frame")]
    NotAFrame,
    #[error("the transfer claims {0} bytes, more than Twofold accepts")]
    Oversized(u64),
    #[error("the transferred data does not decrypt: it was altered or is not for this device")]
    Decryption,
    #[error("the transfer is not complete yet")]
    Incomplete,
    #[error("the transferred accounts cannot be read: {0}")]
    BadPayload(String),
    #[error("network: {0}")]
    Network(String),
    #[error("timed out waiting for the other device")]
    Timeout,
    #[error("{0}")]
    Invalid(String),
}

fn random<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], TransferError> {
    crypto::random_array(rng).map_err(|e| TransferError::Invalid(e.to_string()))
}

/// An invite as the sender reads it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Invite {
    pub session_id: [u8; 16],
    pub receiver_public: [u8; 32],
    psk: [u8; 32],
    /// Unix seconds after which the invite is void.
    pub expires_at: u64,
    pub lan: Option<String>,
}

impl std::fmt::Debug for Invite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invite")
            .field("expires_at", &self.expires_at)
            .field("lan", &self.lan)
            .finish_non_exhaustive()
    }
}

impl Invite {
    /// The invite's bytes (see the protocol document).
    pub fn to_bytes(&self) -> Vec<u8> {
        let lan = self.lan.as_deref().unwrap_or("");
        let mut out = Vec::with_capacity(90 + lan.len());
        out.push(VERSION);
        out.extend_from_slice(&self.session_id);
        out.extend_from_slice(&self.receiver_public);
        out.extend_from_slice(&self.psk);
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.push(lan.len() as u8);
        out.extend_from_slice(lan.as_bytes());
        out
    }

    /// `OTPX1I` + Base45 of the bytes (QR alphanumeric mode).
    pub fn to_text(&self) -> String {
        let mut bytes = Zeroizing::new(self.to_bytes());
        let text = format!("{INVITE_PREFIX}{}", base45::encode(bytes.as_slice()));
        bytes.zeroize();
        text
    }

    /// Parses an invite text; checks the expiry against `now_s`.
    pub fn parse(text: &str, now_s: u64) -> Result<Self, TransferError> {
        let bad = |why: &str| TransferError::InvalidInvite(why.to_owned());
        let body = text
            .trim()
            .strip_prefix(INVITE_PREFIX)
            .ok_or_else(|| bad("it does not start with OTPX1I"))?;
        if body.len() > 1024 {
            return Err(bad("too long"));
        }
        let bytes = Zeroizing::new(base45::decode(body).map_err(|_| bad("not Base45"))?);
        if bytes.len() < 90 || bytes[0] != VERSION {
            return Err(bad("unknown version or truncated"));
        }
        let lan_len = usize::from(bytes[89]);
        if bytes.len() != 90 + lan_len {
            return Err(bad("wrong length"));
        }
        let lan = match lan_len {
            0 => None,
            _ => Some(
                std::str::from_utf8(&bytes[90..])
                    .map_err(|_| bad("LAN address is not text"))?
                    .to_owned(),
            ),
        };
        let invite = Invite {
            session_id: bytes[1..17].try_into().expect("16 bytes"),
            receiver_public: bytes[17..49].try_into().expect("32 bytes"),
            psk: bytes[49..81].try_into().expect("32 bytes"),
            expires_at: u64::from_be_bytes(bytes[81..89].try_into().expect("8 bytes")),
            lan,
        };
        if now_s >= invite.expires_at {
            return Err(TransferError::Expired);
        }
        if invite.expires_at > now_s + MAX_INVITE_SECONDS + 60 {
            return Err(bad("its expiry is implausibly far away"));
        }
        Ok(invite)
    }

    pub(crate) fn psk(&self) -> &[u8; 32] {
        &self.psk
    }
}

/// One account inside a transfer: the same shape an import produces.
pub type TransferEntry = ImportedEntry;

/// The sealed plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferPayload {
    pub version: u8,
    pub created_at: i64,
    pub entries: Vec<TransferEntry>,
}

impl TransferPayload {
    /// The accounts to send, with their group names.
    pub fn from_entries(entries: &[&Entry], groups: &[Group], created_at: i64) -> Self {
        TransferPayload {
            version: VERSION,
            created_at,
            entries: entries
                .iter()
                .map(|e| ImportedEntry {
                    kind: e.kind,
                    secret: e.secret.clone(),
                    issuer: e.issuer.clone(),
                    account: e.account.clone(),
                    note: e.note.clone(),
                    favorite: e.favorite,
                    groups: groups
                        .iter()
                        .filter(|g| e.group_ids.contains(&g.id))
                        .map(|g| g.name.clone())
                        .collect(),
                })
                .collect(),
        }
    }
}

/// rand_core 0.10 adapter over our random source, for HPKE's ephemeral key.
struct HpkeRng<'a>(&'a dyn RandomSource);

impl rand_core::TryRng for HpkeRng<'_> {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        // The system source does not fail in practice; if it ever did, abort rather than use
        // predictable key material.
        self.0.fill(dst).expect("random number generator failed");
        Ok(())
    }
}

impl rand_core::TryCryptoRng for HpkeRng<'_> {}

fn psk_mode_bundle(psk: &[u8; 32]) -> PskBundle<'_> {
    PskBundle::new(psk, PSK_ID).expect("non-empty PSK and id")
}

fn info(session_id: &[u8; 16]) -> Vec<u8> {
    [INFO, session_id.as_slice()].concat()
}

fn confirmation(export: &[u8; 4]) -> String {
    format!("{:06}", u32::from_be_bytes(*export) % 1_000_000)
}

/// The sender side: seals accounts for one invite.
pub struct TransferSender {
    invite: Invite,
    blob: Vec<u8>,
    code: String,
    stream: frames::FrameStream,
}

impl TransferSender {
    /// Seals `payload` for the invite (which must not have expired at `now_s`); frames carry
    /// at most `frame_bytes` bytes (see [`frames::bytes_for_qr_version`]).
    pub fn new(
        invite: Invite,
        payload: &TransferPayload,
        frame_bytes: usize,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        if payload.entries.len() > MAX_ENTRIES {
            return Err(TransferError::Invalid(format!(
                "at most {MAX_ENTRIES} accounts per transfer"
            )));
        }
        let plain = Zeroizing::new(
            rmp_serde::to_vec_named(payload).map_err(|e| TransferError::Invalid(e.to_string()))?,
        );
        let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&invite.receiver_public)
            .map_err(|_| TransferError::InvalidInvite("bad public key".into()))?;
        let mode = OpModeS::Psk(psk_mode_bundle(invite.psk()));
        let (enc, mut ctx) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(
            &mode,
            &pk,
            &info(&invite.session_id),
            &mut HpkeRng(rng),
        )
        .map_err(|e| TransferError::Invalid(format!("HPKE: {e:?}")))?;
        let mut export = [0u8; 4];
        ctx.export(CONFIRMATION_LABEL, &mut export)
            .expect("4-byte export");
        let ct = ctx
            .seal(&plain, &invite.session_id)
            .map_err(|e| TransferError::Invalid(format!("HPKE: {e:?}")))?;
        let mut blob = enc.to_bytes().to_vec();
        blob.extend_from_slice(&ct);
        if blob.len() > MAX_BLOB_BYTES {
            return Err(TransferError::Oversized(blob.len() as u64));
        }
        let stream = frames::FrameStream::new(&blob, &invite, frame_bytes)?;
        Ok(TransferSender {
            invite,
            blob,
            code: confirmation(&export),
            stream,
        })
    }

    /// The 6-digit code both screens show.
    pub fn confirmation_code(&self) -> &str {
        &self.code
    }

    /// Frame `n` of the endless stream (source symbols first, then repair symbols).
    pub fn frame(&self, n: u64) -> String {
        self.stream.frame(n)
    }

    /// Frames a receiver needs at least (the source symbols).
    pub fn source_frames(&self) -> usize {
        self.stream.source_symbols()
    }

    /// The sealed blob (for the LAN transport).
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    pub fn invite(&self) -> &Invite {
        &self.invite
    }
}

/// What the receiver keeps between showing the invite and receiving (written to a 0600 file
/// by the CLI). Wiped on drop.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ReceiverState {
    pub version: u8,
    #[serde(with = "array")]
    pub session_id: [u8; 16],
    #[serde(with = "array")]
    secret_key: [u8; 32],
    #[serde(with = "array")]
    psk: [u8; 32],
    pub expires_at: u64,
    pub lan: Option<String>,
}

/// The receiver side: shows the invite, collects frames (or the LAN blob), opens the payload,
/// shows the confirmation code and a preview, and hands out the accounts only on accept.
pub struct TransferReceiver {
    state: ReceiverState,
    collector: frames::FrameCollector,
    opened: Option<(String, TransferPayload)>,
}

impl TransferReceiver {
    /// A new session valid for `ttl_s` seconds (at most 10 minutes) from `now_s`.
    pub fn new(
        now_s: u64,
        ttl_s: u64,
        lan: Option<String>,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        if let Some(l) = &lan
            && (l.is_empty() || l.len() > 255)
        {
            return Err(TransferError::Invalid(
                "the LAN address must be 1 to 255 characters".into(),
            ));
        }
        let ikm: Zeroizing<[u8; 32]> = Zeroizing::new(random(rng)?);
        let (sk, _) = Kem::derive_keypair(ikm.as_ref());
        let state = ReceiverState {
            version: VERSION,
            session_id: random(rng)?,
            secret_key: sk.to_bytes().into(),
            psk: random(rng)?,
            expires_at: now_s + ttl_s.clamp(1, MAX_INVITE_SECONDS),
            lan,
        };
        Ok(Self::from_state(state))
    }

    pub fn from_state(state: ReceiverState) -> Self {
        let collector = frames::FrameCollector::new(
            state.session_id,
            frames::frame_key(&state.psk, &state.session_id),
        );
        TransferReceiver {
            state,
            collector,
            opened: None,
        }
    }

    /// The state to keep (MessagePack) while waiting.
    pub fn state_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(&self.state).expect("plain struct")
    }

    pub fn from_state_bytes(bytes: &[u8]) -> Result<Self, TransferError> {
        let state: ReceiverState = rmp_serde::from_slice(bytes)
            .map_err(|_| TransferError::Invalid("not a transfer session file".into()))?;
        if state.version != VERSION {
            return Err(TransferError::Invalid(
                "transfer session file of another version".into(),
            ));
        }
        Ok(Self::from_state(state))
    }

    pub fn invite(&self) -> Invite {
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.state.secret_key).expect("own key");
        Invite {
            session_id: self.state.session_id,
            receiver_public: Kem::sk_to_pk(&sk).to_bytes().into(),
            psk: self.state.psk,
            expires_at: self.state.expires_at,
            lan: self.state.lan.clone(),
        }
    }

    pub fn expires_at(&self) -> u64 {
        self.state.expires_at
    }

    fn check_time(&self, now_s: u64) -> Result<(), TransferError> {
        if now_s >= self.state.expires_at {
            Err(TransferError::Expired)
        } else {
            Ok(())
        }
    }

    /// Takes one scanned frame (any order, duplicates harmless). When the last needed frame
    /// arrives, the payload is opened.
    pub fn receive_frame(&mut self, text: &str, now_s: u64) -> Result<Progress, TransferError> {
        if self.opened.is_some() {
            return Ok(self.collector.progress());
        }
        self.check_time(now_s)?;
        if let Some(blob) = self.collector.add(text)? {
            self.open(&blob)?;
        }
        Ok(self.collector.progress())
    }

    /// Takes the whole sealed blob (LAN transport).
    pub fn receive_blob(&mut self, blob: &[u8], now_s: u64) -> Result<(), TransferError> {
        self.check_time(now_s)?;
        if blob.len() > MAX_BLOB_BYTES {
            return Err(TransferError::Oversized(blob.len() as u64));
        }
        self.open(blob)
    }

    pub fn progress(&self) -> Progress {
        self.collector.progress()
    }

    fn open(&mut self, blob: &[u8]) -> Result<(), TransferError> {
        if blob.len() < ENC_LEN + 16 {
            return Err(TransferError::Decryption);
        }
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.state.secret_key).expect("own key");
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&blob[..ENC_LEN])
            .map_err(|_| TransferError::Decryption)?;
        let mode = OpModeR::Psk(psk_mode_bundle(&self.state.psk));
        let mut ctx =
            hpke::setup_receiver::<Aead, Kdf, Kem>(&mode, &sk, &enc, &info(&self.state.session_id))
                .map_err(|_| TransferError::Decryption)?;
        let plain = Zeroizing::new(
            ctx.open(&blob[ENC_LEN..], &self.state.session_id)
                .map_err(|_| TransferError::Decryption)?,
        );
        let mut export = [0u8; 4];
        ctx.export(CONFIRMATION_LABEL, &mut export)
            .expect("4-byte export");
        let payload: TransferPayload = rmp_serde::from_slice(&plain)
            .map_err(|_| TransferError::BadPayload("unreadable account list".into()))?;
        if payload.entries.len() > MAX_ENTRIES {
            return Err(TransferError::BadPayload("too many accounts".into()));
        }
        for e in &payload.entries {
            e.kind
                .validate()
                .map_err(|err| TransferError::BadPayload(err.to_string()))?;
        }
        self.opened = Some((confirmation(&export), payload));
        Ok(())
    }

    /// The 6-digit code to compare with the sender's screen (once complete).
    pub fn confirmation_code(&self) -> Option<&str> {
        self.opened.as_ref().map(|(c, _)| c.as_str())
    }

    /// The accounts received (once complete), for a preview.
    pub fn preview(&self) -> Option<&[TransferEntry]> {
        self.opened.as_ref().map(|(_, p)| p.entries.as_slice())
    }

    /// The user confirmed the codes match: the accounts, ready for
    /// [`crate::interop::add_to_vault`].
    pub fn accept(mut self) -> Result<Vec<ImportedEntry>, TransferError> {
        let (_, payload) = self.opened.take().ok_or(TransferError::Incomplete)?;
        Ok(payload.entries)
    }
}
