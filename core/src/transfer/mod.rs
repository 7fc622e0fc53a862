//! Device-to-device transfer, OTPX/2 (normative description: `docs/transfer-protocol.md`).
//!
//! The new device (receiver) shows an **invite** QR: session id, an ephemeral X25519 public key,
//! a 32-byte PSK, a commitment to a secret receiver nonce, an expiry and optionally a LAN
//! address (a private IP literal). The old device (sender) scans it and seals the chosen
//! accounts with HPKE (RFC 9180) mode_psk, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305. The sealed blob travels as an endless stream of RaptorQ (RFC 6330)
//! fountain-coded **frames** — Base45 text for QR alphanumeric mode, each with the session and
//! sender tags and a MAC under a PSK-derived key — or over one TCP connection.
//!
//! The 6-digit **confirmation code** is a short authentication string with a commitment: the
//! receiver locks the first sender it accepts and only then reveals its nonce (the **reply**,
//! a small QR code / text, or a LAN message); the sender checks the nonce against the invite's
//! commitment and only then can compute its code. Both codes come from the HPKE exporter and
//! the nonce, so a man in the middle has to fix his contribution before the nonce exists and
//! cannot grind: he matches with probability 10⁻⁶ per attempt. The receiver adds nothing
//! before the user accepts.

pub mod frames;
pub mod lan;
pub mod payload;

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, PskBundle, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{self, RandomSource};
use crate::interop::ImportedEntry;
use crate::serde_bytes_helpers::{array, bytes};
use crate::vault::{Entry, Group};

pub use frames::{FrameInfo, Progress};

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;
type Kem = X25519HkdfSha256;

/// Protocol version carried in invites, frames, replies and LAN messages.
pub const VERSION: u8 = 2;
/// Text prefix of an invite.
pub const INVITE_PREFIX: &str = "OTPX2I";
/// Text prefix of a reply (the receiver's revealed nonce).
pub const REPLY_PREFIX: &str = "OTPX2R";
/// Longest an invite may live.
pub const MAX_INVITE_SECONDS: u64 = 600;
/// Largest sealed blob accepted (about 100 000 accounts).
pub const MAX_BLOB_BYTES: usize = 8 * 1024 * 1024;
/// Most accounts in one transfer.
pub const MAX_ENTRIES: usize = crate::limits::MAX_ENTRIES;
/// Digits of the confirmation code.
pub const CODE_DIGITS: u32 = 6;

const INFO: &[u8] = b"twofold/otpx/2";
const PSK_ID: &[u8] = b"twofold/otpx/2/psk";
const CONFIRMATION_LABEL: &[u8] = b"twofold/otpx/2 confirmation";
const CODE_LABEL: &[u8] = b"twofold/otpx/2 code";
const COMMITMENT_LABEL: &[u8] = b"twofold/otpx/2 receiver nonce";
pub(crate) const ENC_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 16;
const INVITE_FIXED: usize = 1 + 16 + 32 + 32 + 32 + 8 + 1;
const REPLY_LEN: usize = 1 + 8 + 8 + NONCE_LEN;

/// Why a transfer step failed. No text contains key material or account secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The text is not an invite (wrong prefix, bad Base45, wrong length); the detail says which.
    #[error("not a Twofold transfer invite: {0}")]
    InvalidInvite(String),
    /// A transfer of another protocol version (the message says which side to update).
    #[error("{}", version_message(*.0))]
    UnsupportedVersion(u8),
    /// The invite's lifetime has passed.
    #[error("this transfer invite has expired; show a new one on the new device")]
    Expired,
    /// A frame, reply or connection for another session id.
    #[error("this frame belongs to another transfer session")]
    WrongSession,
    /// Data from a sender other than the one the receiver locked.
    #[error("this data comes from a second sender; only the first sender is accepted")]
    SecondSender,
    /// A frame whose MAC does not verify.
    #[error("this frame was altered (its authentication tag does not match)")]
    TamperedFrame,
    /// Text that is not a transfer frame.
    #[error("not a Twofold transfer frame")]
    NotAFrame,
    /// A transfer length over [`MAX_BLOB_BYTES`].
    #[error("the transfer claims {0} bytes, more than Twofold accepts")]
    Oversized(u64),
    /// Fountain-code parameters out of the accepted range (symbol size, blocks).
    #[error("this frame's coding parameters are not acceptable: {0}")]
    BadParameters(String),
    /// A LAN address that is not a private, link-local or loopback IP literal.
    #[error(
        "refusing the LAN address {0}: only private, link-local or loopback IP addresses are used"
    )]
    ForbiddenAddress(String),
    /// The text is not a reply (wrong prefix, bad Base45, wrong length).
    #[error("not a reply from the new device: {0}")]
    InvalidReply(String),
    /// The receiver locked a different sealing than this sender's: someone else sent to it.
    #[error(
        "the new device locked onto data from ANOTHER sender: someone else sent to it. Stop, \
         cancel on both devices and start over"
    )]
    ReplyForAnotherSender,
    /// The reply's nonce does not open the invite's commitment, or differs from one already accepted.
    #[error("this reply does not match the invite (it was forged or belongs to another invite)")]
    TamperedReply,
    /// The sealed data does not decrypt under this session's keys.
    #[error("the transferred data does not decrypt: it was altered or is not for this device")]
    Decryption,
    /// Asked for the accounts or the code before enough data arrived.
    #[error("the transfer is not complete yet")]
    Incomplete,
    /// The decrypted payload does not decode, or breaks a limit.
    #[error("the transferred accounts cannot be read: {0}")]
    BadPayload(String),
    /// The other device's user declined.
    #[error("the other device refused the transfer: {0}")]
    Refused(String),
    /// A socket error on the LAN path.
    #[error("network: {0}")]
    Network(String),
    /// The LAN peer did not answer before the deadline.
    #[error("timed out waiting for the other device")]
    Timeout,
    /// Any other refused request or file (the message says what).
    #[error("{0}")]
    Invalid(String),
}

fn version_message(v: u8) -> String {
    if v < VERSION {
        format!(
            "the other device uses the old transfer protocol OTPX/{v}; update Twofold on the \
             other device and try again"
        )
    } else {
        format!(
            "the other device uses the newer transfer protocol OTPX/{v}; update Twofold on this \
             device and try again"
        )
    }
}

/// `OTPX<digit><kind>` of another version → [`TransferError::UnsupportedVersion`].
pub(crate) fn check_prefix(text: &str, kind: char) -> Option<Result<&str, TransferError>> {
    let b = text.as_bytes();
    if b.len() < 6 || !text.starts_with("OTPX") || b[5] != kind as u8 || !b[4].is_ascii_digit() {
        return None;
    }
    let v = b[4] - b'0';
    Some(if v == VERSION {
        Ok(&text[6..])
    } else {
        Err(TransferError::UnsupportedVersion(v))
    })
}

fn random<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N], TransferError> {
    crypto::random_array(rng).map_err(|e| TransferError::Invalid(e.to_string()))
}

/// Checks a LAN address for an invite: an IP literal with a port (`192.168.1.20:47000`,
/// `[fe80::1%2]:47000`) in a private (RFC 1918), link-local (169.254/16, fe80::/10), unique
/// local (fc00::/7) or loopback range. Host names and public addresses are refused, so a
/// phishing invite cannot make the sender ship data across the internet.
pub fn check_lan_address(text: &str) -> Result<std::net::SocketAddr, TransferError> {
    use std::net::{IpAddr, SocketAddr};
    let forbidden = || TransferError::ForbiddenAddress(text.chars().take(80).collect());
    let addr: SocketAddr = text.parse().map_err(|_| forbidden())?;
    let ok = match addr.ip() {
        IpAddr::V4(ip) => ip.is_private() || ip.is_link_local() || ip.is_loopback(),
        IpAddr::V6(ip) => {
            let s = ip.segments()[0];
            ip.is_loopback() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    };
    if !ok || addr.port() == 0 {
        return Err(forbidden());
    }
    Ok(addr)
}

/// Constant-time equality of two byte strings.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn commitment(session_id: &[u8; 16], nonce: &[u8; NONCE_LEN]) -> [u8; 32] {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        &[COMMITMENT_LABEL, session_id.as_slice(), nonce.as_slice()].concat(),
    );
    d.as_ref().try_into().expect("32 bytes")
}

/// The tag that names one sealing: SHA-256(enc)[0..8].
pub fn sender_tag(enc: &[u8]) -> [u8; 8] {
    let d = ring::digest::digest(&ring::digest::SHA256, enc);
    d.as_ref()[..8].try_into().expect("8 bytes")
}

/// code value = first 8 bytes of HMAC-SHA256(k_c, label ‖ session id ‖ nonce), big-endian.
fn code_value(code_key: &[u8; 32], session_id: &[u8; 16], nonce: &[u8; NONCE_LEN]) -> u64 {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, code_key);
    let tag = ring::hmac::sign(&key, &[CODE_LABEL, session_id, nonce].concat());
    u64::from_be_bytes(tag.as_ref()[..8].try_into().expect("8 bytes"))
}

fn format_code(value: u64, digits: u32) -> String {
    let digits = digits.clamp(1, 18);
    format!(
        "{:0width$}",
        value % 10u64.pow(digits),
        width = digits as usize
    )
}

/// An invite as the sender reads it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Invite {
    /// Random session id; its first 8 bytes tag every frame and reply.
    pub session_id: [u8; 16],
    /// The receiver's ephemeral X25519 public key (the HPKE recipient).
    pub receiver_public: [u8; 32],
    psk: [u8; 32],
    /// SHA-256("twofold/otpx/2 receiver nonce" ‖ session id ‖ n_R): the receiver's nonce,
    /// committed before any sender contributes.
    pub nonce_commitment: [u8; 32],
    /// Unix seconds after which the invite is void.
    pub expires_at: u64,
    /// A private IP literal with port, checked by [`check_lan_address`].
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
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let lan = self.lan.as_deref().unwrap_or("");
        let mut out = Zeroizing::new(Vec::with_capacity(INVITE_FIXED + lan.len()));
        out.push(VERSION);
        out.extend_from_slice(&self.session_id);
        out.extend_from_slice(&self.receiver_public);
        out.extend_from_slice(&self.psk);
        out.extend_from_slice(&self.nonce_commitment);
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.push(lan.len() as u8);
        out.extend_from_slice(lan.as_bytes());
        out
    }

    /// `OTPX2I` + Base45 of the bytes (QR alphanumeric mode).
    pub fn to_text(&self) -> String {
        format!(
            "{INVITE_PREFIX}{}",
            base45::encode(self.to_bytes().as_slice())
        )
    }

    /// Parses an invite text; checks the expiry against `now_s` and the LAN address.
    pub fn parse(text: &str, now_s: u64) -> Result<Self, TransferError> {
        let bad = |why: &str| TransferError::InvalidInvite(why.to_owned());
        let body = match check_prefix(text.trim(), 'I') {
            Some(r) => r?,
            None => return Err(bad("it does not start with OTPX2I")),
        };
        if body.len() > 1024 {
            return Err(bad("too long"));
        }
        let bytes = Zeroizing::new(base45::decode(body).map_err(|_| bad("not Base45"))?);
        let (invite, used) = Self::from_bytes_prefix(&bytes, now_s)?;
        if used != bytes.len() {
            return Err(bad("wrong length"));
        }
        Ok(invite)
    }

    /// Reads an invite's bytes at the start of `bytes` (a sync join invite carries more after
    /// them); returns it and how many bytes it took. Checks the expiry and the LAN address.
    pub fn from_bytes_prefix(bytes: &[u8], now_s: u64) -> Result<(Self, usize), TransferError> {
        let bad = |why: &str| TransferError::InvalidInvite(why.to_owned());
        if bytes.first().is_some_and(|&v| v != VERSION) {
            return Err(TransferError::UnsupportedVersion(bytes[0]));
        }
        if bytes.len() < INVITE_FIXED {
            return Err(bad("truncated"));
        }
        let lan_len = usize::from(bytes[INVITE_FIXED - 1]);
        if bytes.len() < INVITE_FIXED + lan_len {
            return Err(bad("wrong length"));
        }
        let bytes = &bytes[..INVITE_FIXED + lan_len];
        let lan = match lan_len {
            0 => None,
            _ => {
                let text = std::str::from_utf8(&bytes[INVITE_FIXED..])
                    .map_err(|_| bad("LAN address is not text"))?;
                check_lan_address(text)?;
                Some(text.to_owned())
            }
        };
        let invite = Invite {
            session_id: bytes[1..17].try_into().expect("16 bytes"),
            receiver_public: bytes[17..49].try_into().expect("32 bytes"),
            psk: bytes[49..81].try_into().expect("32 bytes"),
            nonce_commitment: bytes[81..113].try_into().expect("32 bytes"),
            expires_at: u64::from_be_bytes(bytes[113..121].try_into().expect("8 bytes")),
            lan,
        };
        if now_s >= invite.expires_at {
            return Err(TransferError::Expired);
        }
        if invite.expires_at > now_s + MAX_INVITE_SECONDS + 60 {
            return Err(bad("its expiry is implausibly far away"));
        }
        Ok((invite, bytes.len()))
    }

    /// The PSK (for the frame key and tests of the frame layer).
    pub fn psk(&self) -> &[u8; 32] {
        &self.psk
    }
}

/// One account inside a transfer: the same shape an import produces.
pub type TransferEntry = ImportedEntry;

/// The sealed plaintext (encoded by [`payload`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPayload {
    /// Protocol version of the payload ([`VERSION`]).
    pub version: u8,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// The accounts, in the sender's order.
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
                    recovery_codes: e.recovery_codes.clone(),
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

/// What a sealing carries. Each purpose has its own HPKE `info`, so a sealing made for one
/// never opens as the other (a sync join bundle is never read as accounts, nor the reverse).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Accounts (the OTPX/2 payload of `docs/transfer-protocol.md` §3).
    #[default]
    Accounts,
    /// A sync group's keys and roster for a joining device (`docs/sync-protocol.md` §7);
    /// the context is the joining device's identity block from the invite.
    SyncJoin,
}

const SYNC_JOIN_INFO: &[u8] = b"twofold/sync/1 join";

/// HPKE `info` for a purpose: for accounts exactly OTPX/2's; for a sync join it also
/// commits to the joining device's identity block (`context`).
fn info_for(purpose: Purpose, session_id: &[u8; 16], context: &[u8]) -> Vec<u8> {
    match purpose {
        Purpose::Accounts => info(session_id),
        Purpose::SyncJoin => [
            SYNC_JOIN_INFO,
            session_id.as_slice(),
            &crypto::sha256(context),
        ]
        .concat(),
    }
}

fn export_code_key(
    export: impl FnOnce(&[u8], &mut [u8]) -> Result<(), hpke::HpkeError>,
    session_id: &[u8; 16],
) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    export(
        &[CONFIRMATION_LABEL, session_id.as_slice()].concat(),
        key.as_mut(),
    )
    .expect("32-byte export");
    key
}

/// The receiver's revealed nonce, as the sender reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// The session the reply belongs to (first 8 bytes of the session id).
    pub session_tag: [u8; 8],
    /// The sender the receiver locked (SHA-256(enc)[0..8]).
    pub sender_tag: [u8; 8],
    nonce: [u8; NONCE_LEN],
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").finish_non_exhaustive()
    }
}

impl Reply {
    /// `OTPX2R` + Base45(version ‖ session tag ‖ sender tag ‖ nonce).
    pub fn to_text(&self) -> String {
        let mut b = Vec::with_capacity(REPLY_LEN);
        b.push(VERSION);
        b.extend_from_slice(&self.session_tag);
        b.extend_from_slice(&self.sender_tag);
        b.extend_from_slice(&self.nonce);
        format!("{REPLY_PREFIX}{}", base45::encode(&b))
    }

    /// Reads an `OTPX2R` reply text (scanned or typed).
    pub fn parse(text: &str) -> Result<Self, TransferError> {
        let bad = |why: &str| TransferError::InvalidReply(why.to_owned());
        let body = match check_prefix(text.trim(), 'R') {
            Some(r) => r?,
            None => return Err(bad("it does not start with OTPX2R")),
        };
        if body.len() > 128 {
            return Err(bad("too long"));
        }
        let b = base45::decode(body).map_err(|_| bad("not Base45"))?;
        if b.first().is_some_and(|&v| v != VERSION) {
            return Err(TransferError::UnsupportedVersion(b[0]));
        }
        if b.len() != REPLY_LEN {
            return Err(bad("wrong length"));
        }
        Ok(Reply {
            session_tag: b[1..9].try_into().expect("8"),
            sender_tag: b[9..17].try_into().expect("8"),
            nonce: b[17..].try_into().expect("16"),
        })
    }

    /// The nonce (for the LAN transport and tests).
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// A reply with these fields (tests that forge replies; the LAN transport).
    pub fn new(session_tag: [u8; 8], sender_tag: [u8; 8], nonce: [u8; NONCE_LEN]) -> Self {
        Reply {
            session_tag,
            sender_tag,
            nonce,
        }
    }
}

/// What the sender needs to check the reply and compute its code: kept in memory by the apps,
/// in a 0600 file by the CLI between `transfer send` and `transfer send --reply`. Wiped on drop.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct SenderState {
    version: u8,
    #[serde(with = "array")]
    session_id: [u8; 16],
    #[serde(with = "array")]
    sender_tag: [u8; 8],
    #[serde(with = "array")]
    nonce_commitment: [u8; 32],
    #[serde(with = "array")]
    code_key: [u8; 32],
    expires_at: u64,
    /// The accepted reply's nonce: one reply per sealing.
    #[serde(with = "bytes")]
    nonce: Vec<u8>,
    accounts: u64,
}

impl SenderState {
    /// The state as MessagePack, for a 0600 file between the two CLI steps.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(rmp_serde::to_vec_named(self).expect("plain struct"))
    }

    /// Reads what [`SenderState::to_bytes`] wrote; refuses other versions.
    pub fn from_bytes(b: &[u8]) -> Result<Self, TransferError> {
        let s: SenderState = rmp_serde::from_slice(b)
            .map_err(|_| TransferError::Invalid("not a transfer sender file".into()))?;
        if s.version != VERSION || !(s.nonce.is_empty() || s.nonce.len() == NONCE_LEN) {
            return Err(TransferError::Invalid(
                "transfer sender file of another version".into(),
            ));
        }
        Ok(s)
    }

    /// Takes the receiver's reply (scanned from the new device, or from the LAN). Checks that
    /// it is for this invite, names this sealing, and opens the invite's commitment; then the
    /// code can be shown. A second, different reply is refused.
    pub fn accept_reply(&mut self, reply: &Reply, now_s: u64) -> Result<String, TransferError> {
        if now_s >= self.expires_at {
            return Err(TransferError::Expired);
        }
        if reply.session_tag != self.session_id[..8] {
            return Err(TransferError::WrongSession);
        }
        if reply.sender_tag != self.sender_tag {
            return Err(TransferError::ReplyForAnotherSender);
        }
        let opened = commitment(&self.session_id, &reply.nonce);
        if !ct_eq(&opened, &self.nonce_commitment) {
            return Err(TransferError::TamperedReply);
        }
        if !self.nonce.is_empty() && self.nonce != reply.nonce {
            return Err(TransferError::TamperedReply);
        }
        self.nonce = reply.nonce.to_vec();
        Ok(self.confirmation_code().expect("nonce set"))
    }

    /// The code, once a reply was accepted.
    pub fn confirmation_code(&self) -> Option<String> {
        self.code_with_digits(CODE_DIGITS)
    }

    /// Test hook: the code with another width (the grinding tests use 1–2 digits).
    #[doc(hidden)]
    pub fn code_with_digits(&self, digits: u32) -> Option<String> {
        let nonce: [u8; NONCE_LEN] = self.nonce.as_slice().try_into().ok()?;
        Some(format_code(
            code_value(&self.code_key, &self.session_id, &nonce),
            digits,
        ))
    }

    /// Test hook: the code this sealing would show for another nonce (what a grinding
    /// attacker computes for his own sealings).
    #[doc(hidden)]
    pub fn code_for_nonce(&self, nonce: &[u8; NONCE_LEN], digits: u32) -> String {
        format_code(code_value(&self.code_key, &self.session_id, nonce), digits)
    }

    /// This sealing's tag (SHA-256 of its `enc`, first 8 bytes), which a reply must name.
    pub fn sender_tag(&self) -> [u8; 8] {
        self.sender_tag
    }

    /// Unix seconds after which the invite, and so this state, is void.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Accounts sealed.
    pub fn accounts(&self) -> u64 {
        self.accounts
    }
}

/// The sender side: seals accounts for one invite, streams frames, checks the reply.
pub struct TransferSender {
    invite: Invite,
    blob: Vec<u8>,
    state: SenderState,
    stream: frames::FrameStream,
}

/// The entries of `all` a transfer sends: those with `ids`, or every one when `ids` is empty.
pub fn select<'a>(all: &'a [Entry], ids: &[crate::vault::EntryId]) -> Vec<&'a Entry> {
    all.iter()
        .filter(|e| ids.is_empty() || ids.contains(&e.id))
        .collect()
}

/// The QR version frames are sized for: `requested` clamped to 5–30, or
/// [`frames::DEFAULT_QR_VERSION`].
pub fn frame_qr_version(requested: Option<i16>) -> i16 {
    requested.map_or(frames::DEFAULT_QR_VERSION, |v| v.clamp(5, 30))
}

impl TransferSender {
    /// Seals `entries` (with their `groups`) for the invite, made at `now_ms`, in frames for
    /// QR `qr_version` (see [`frame_qr_version`]) at the default error correction level.
    pub fn seal_entries(
        invite: Invite,
        entries: &[&Entry],
        groups: &[Group],
        now_ms: i64,
        qr_version: Option<i16>,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        let payload = TransferPayload::from_entries(entries, groups, now_ms);
        let frame_bytes =
            frames::bytes_for_qr(frame_qr_version(qr_version), frames::DEFAULT_EC_LEVEL);
        Self::new(invite, &payload, frame_bytes, rng)
    }

    /// Seals `payload` for the invite (which must not have expired at `now_s`); frames carry
    /// at most `frame_bytes` bytes (see [`frames::bytes_for_qr`]).
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
        let plain = payload::encode(payload);
        Self::seal(
            invite,
            Purpose::Accounts,
            &[],
            &plain,
            payload.entries.len() as u64,
            frame_bytes,
            rng,
        )
    }

    /// Seals `plaintext` for another purpose than accounts (a sync join bundle), bound to
    /// `context` (see [`Purpose`]); the frames, reply and code work as for accounts.
    pub fn new_for(
        invite: Invite,
        purpose: Purpose,
        context: &[u8],
        plaintext: &[u8],
        frame_bytes: usize,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        Self::seal(invite, purpose, context, plaintext, 0, frame_bytes, rng)
    }

    fn seal(
        invite: Invite,
        purpose: Purpose,
        context: &[u8],
        plain: &[u8],
        accounts: u64,
        frame_bytes: usize,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&invite.receiver_public)
            .map_err(|_| TransferError::InvalidInvite("bad public key".into()))?;
        let mode = OpModeS::Psk(psk_mode_bundle(invite.psk()));
        let (enc, mut ctx) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(
            &mode,
            &pk,
            &info_for(purpose, &invite.session_id, context),
            &mut HpkeRng(rng),
        )
        .map_err(|e| TransferError::Invalid(format!("HPKE: {e:?}")))?;
        let code_key = export_code_key(|l, out| ctx.export(l, out), &invite.session_id);
        let ct = ctx
            .seal(plain, &invite.session_id)
            .map_err(|e| TransferError::Invalid(format!("HPKE: {e:?}")))?;
        let mut blob = enc.to_bytes().to_vec();
        blob.extend_from_slice(&ct);
        if blob.len() > MAX_BLOB_BYTES {
            return Err(TransferError::Oversized(blob.len() as u64));
        }
        let stream = frames::FrameStream::new(&blob, &invite, frame_bytes)?;
        let state = SenderState {
            version: VERSION,
            session_id: invite.session_id,
            sender_tag: sender_tag(&blob[..ENC_LEN]),
            nonce_commitment: invite.nonce_commitment,
            code_key: *code_key,
            expires_at: invite.expires_at,
            nonce: Vec::new(),
            accounts,
        };
        Ok(TransferSender {
            invite,
            blob,
            state,
            stream,
        })
    }

    /// Checks the new device's reply (see [`SenderState::accept_reply`]); returns the code.
    pub fn accept_reply(&mut self, reply: &Reply, now_s: u64) -> Result<String, TransferError> {
        self.state.accept_reply(reply, now_s)
    }

    /// The 6-digit code, only once the receiver's reply was accepted.
    pub fn confirmation_code(&self) -> Option<String> {
        self.state.confirmation_code()
    }

    /// Test hook: the code with another width.
    #[doc(hidden)]
    pub fn code_with_digits(&self, digits: u32) -> Option<String> {
        self.state.code_with_digits(digits)
    }

    /// What to keep to check the reply later (CLI).
    pub fn state(&self) -> &SenderState {
        &self.state
    }

    /// Frame `n` of the endless stream (source symbols first, then repair symbols).
    pub fn frame(&self, n: u64) -> String {
        self.stream.frame(n)
    }

    /// Frames a receiver needs at least (the source symbols).
    pub fn source_frames(&self) -> usize {
        self.stream.source_symbols()
    }

    /// The sealed blob: `enc` (32 bytes) ‖ ciphertext.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// The invite this sealing is for.
    pub fn invite(&self) -> &Invite {
        &self.invite
    }
}

/// What the receiver keeps between showing the invite and accepting (written to a 0600 file
/// by the CLI). Wiped on drop.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct ReceiverState {
    pub version: u8,
    #[serde(with = "array")]
    pub session_id: [u8; 16],
    #[serde(with = "array")]
    secret_key: [u8; 32],
    #[serde(with = "array")]
    psk: [u8; 32],
    #[serde(with = "array")]
    nonce: [u8; NONCE_LEN],
    pub expires_at: u64,
    pub lan: Option<String>,
    /// The locked sender's `enc` (empty: none yet).
    #[serde(with = "bytes")]
    locked_enc: Vec<u8>,
    /// The whole sealed blob once it arrived (so `--accept` can run later).
    #[serde(with = "bytes")]
    blob: Vec<u8>,
    /// What the sealing carries (absent in sessions saved before sync joins: accounts).
    #[serde(default)]
    #[zeroize(skip)]
    purpose: Purpose,
    /// The purpose's context (a joining device's identity block).
    #[serde(default, with = "bytes")]
    context: Vec<u8>,
}

struct Opened {
    code_key: Zeroizing<[u8; 32]>,
    payload: Option<TransferPayload>,
    /// The plaintext of a sealing that is not accounts.
    raw: Option<Zeroizing<Vec<u8>>>,
}

/// The receiver side: shows the invite, collects frames (or the LAN data), locks the first
/// sender, reveals its nonce, shows the confirmation code and a preview, and hands out the
/// accounts only on accept.
pub struct TransferReceiver {
    state: ReceiverState,
    collector: frames::FrameCollector,
    opened: Option<Opened>,
}

impl TransferReceiver {
    /// A new session valid for `ttl_s` seconds (at most 10 minutes) from `now_s`.
    pub fn new(
        now_s: u64,
        ttl_s: u64,
        lan: Option<String>,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        Self::new_for(now_s, ttl_s, lan, Purpose::Accounts, Vec::new(), rng)
    }

    /// A session for another purpose than accounts (see [`Purpose`]); its sealing opens
    /// with [`TransferReceiver::accept_raw`].
    pub fn new_for(
        now_s: u64,
        ttl_s: u64,
        lan: Option<String>,
        purpose: Purpose,
        context: Vec<u8>,
        rng: &dyn RandomSource,
    ) -> Result<Self, TransferError> {
        if let Some(l) = &lan {
            check_lan_address(l)?;
        }
        let ikm: Zeroizing<[u8; 32]> = Zeroizing::new(random(rng)?);
        let (sk, _) = Kem::derive_keypair(ikm.as_ref());
        let state = ReceiverState {
            version: VERSION,
            session_id: random(rng)?,
            secret_key: sk.to_bytes().into(),
            psk: random(rng)?,
            nonce: random(rng)?,
            expires_at: now_s + ttl_s.clamp(1, MAX_INVITE_SECONDS),
            lan,
            locked_enc: Vec::new(),
            blob: Vec::new(),
            purpose,
            context,
        };
        Self::from_state(state)
    }

    fn from_state(state: ReceiverState) -> Result<Self, TransferError> {
        let collector = frames::FrameCollector::new(
            state.session_id,
            frames::frame_key(&state.psk, &state.session_id),
        );
        let mut r = TransferReceiver {
            state,
            collector,
            opened: None,
        };
        if !r.state.locked_enc.is_empty() {
            let enc = r.state.locked_enc.clone();
            r.state.locked_enc.clear();
            r.lock(&enc)?;
            if !r.state.blob.is_empty() {
                let blob = std::mem::take(&mut r.state.blob);
                r.open(&blob)?;
            }
        }
        Ok(r)
    }

    /// The state to keep (MessagePack) while waiting: keys, nonce, and the locked blob.
    pub fn state_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(rmp_serde::to_vec_named(&self.state).expect("plain struct"))
    }

    /// Reads what [`TransferReceiver::state_bytes`] wrote (and reopens a blob that had arrived).
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Self, TransferError> {
        let state: ReceiverState = rmp_serde::from_slice(bytes).map_err(|_| {
            TransferError::Invalid("not a transfer session file (or one of another version)".into())
        })?;
        if state.version != VERSION {
            return Err(TransferError::UnsupportedVersion(state.version));
        }
        Self::from_state(state)
    }

    /// The invite to show (the same each time for this session).
    pub fn invite(&self) -> Invite {
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.state.secret_key).expect("own key");
        Invite {
            session_id: self.state.session_id,
            receiver_public: Kem::sk_to_pk(&sk).to_bytes().into(),
            psk: self.state.psk,
            nonce_commitment: commitment(&self.state.session_id, &self.state.nonce),
            expires_at: self.state.expires_at,
            lan: self.state.lan.clone(),
        }
    }

    /// Unix seconds after which the session is void.
    pub fn expires_at(&self) -> u64 {
        self.state.expires_at
    }

    pub(crate) fn check_time(&self, now_s: u64) -> Result<(), TransferError> {
        if now_s >= self.state.expires_at {
            Err(TransferError::Expired)
        } else {
            Ok(())
        }
    }

    /// Takes one scanned frame (any order, duplicates harmless). When the last needed frame
    /// arrives, the payload is opened and the sender locked.
    pub fn receive_frame(&mut self, text: &str, now_s: u64) -> Result<Progress, TransferError> {
        if self.is_complete() {
            return Ok(self.collector.progress());
        }
        self.check_time(now_s)?;
        if let Some(blob) = self.collector.add(text)?
            && let Err(e) = self.receive_blob(&blob, now_s)
        {
            self.collector.mark_failed();
            return Err(e);
        }
        Ok(self.collector.progress())
    }

    /// Locks the sender whose HPKE `enc` arrived first (LAN hello, or the first complete
    /// blob). From now on only that sender's data is taken, and the reply can be shown.
    pub fn lock_sender(&mut self, enc: &[u8], now_s: u64) -> Result<(), TransferError> {
        self.check_time(now_s)?;
        self.lock(enc)
    }

    fn lock(&mut self, enc: &[u8]) -> Result<(), TransferError> {
        if !self.state.locked_enc.is_empty() {
            return if self.state.locked_enc == enc {
                Ok(())
            } else {
                Err(TransferError::SecondSender)
            };
        }
        if enc.len() != ENC_LEN {
            return Err(TransferError::Decryption);
        }
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.state.secret_key).expect("own key");
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
            .map_err(|_| TransferError::Decryption)?;
        let mode = OpModeR::Psk(psk_mode_bundle(&self.state.psk));
        let ctx = hpke::setup_receiver::<Aead, Kdf, Kem>(
            &mode,
            &sk,
            &encapped,
            &info_for(
                self.state.purpose,
                &self.state.session_id,
                &self.state.context,
            ),
        )
        .map_err(|_| TransferError::Decryption)?;
        let code_key = export_code_key(|l, out| ctx.export(l, out), &self.state.session_id);
        self.state.locked_enc = enc.to_vec();
        self.opened = Some(Opened {
            code_key,
            payload: None,
            raw: None,
        });
        Ok(())
    }

    /// Takes the whole sealed blob (LAN transport, or the frames' result). Locks its sender if
    /// none is locked yet; refuses another sender's blob.
    pub fn receive_blob(&mut self, blob: &[u8], now_s: u64) -> Result<(), TransferError> {
        self.check_time(now_s)?;
        if blob.len() > MAX_BLOB_BYTES {
            return Err(TransferError::Oversized(blob.len() as u64));
        }
        if blob.len() < ENC_LEN + 16 {
            return Err(TransferError::Decryption);
        }
        if self.is_complete() {
            return if self.state.blob == blob {
                Ok(())
            } else {
                Err(TransferError::SecondSender)
            };
        }
        // Open first, lock only authentic data: a broken blob must not use up the lock.
        let was_locked = !self.state.locked_enc.is_empty();
        if was_locked && self.state.locked_enc != blob[..ENC_LEN] {
            return Err(TransferError::SecondSender);
        }
        self.lock(&blob[..ENC_LEN])?;
        match self.open(blob) {
            Ok(()) => Ok(()),
            Err(e) => {
                if !was_locked {
                    self.state.locked_enc.clear();
                    self.opened = None;
                }
                Err(e)
            }
        }
    }

    fn open(&mut self, blob: &[u8]) -> Result<(), TransferError> {
        let sk =
            <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.state.secret_key).expect("own key");
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&blob[..ENC_LEN])
            .map_err(|_| TransferError::Decryption)?;
        let mode = OpModeR::Psk(psk_mode_bundle(&self.state.psk));
        let info = info_for(
            self.state.purpose,
            &self.state.session_id,
            &self.state.context,
        );
        let mut ctx = hpke::setup_receiver::<Aead, Kdf, Kem>(&mode, &sk, &enc, &info)
            .map_err(|_| TransferError::Decryption)?;
        let plain = Zeroizing::new(
            ctx.open(&blob[ENC_LEN..], &self.state.session_id)
                .map_err(|_| TransferError::Decryption)?,
        );
        let opened = self.opened.as_mut().ok_or(TransferError::Incomplete)?;
        match self.state.purpose {
            Purpose::Accounts => opened.payload = Some(payload::decode(&plain)?),
            Purpose::SyncJoin => opened.raw = Some(plain),
        }
        self.state.blob = blob.to_vec();
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.opened
            .as_ref()
            .is_some_and(|o| o.payload.is_some() || o.raw.is_some())
    }

    /// The plaintext of a complete sealing that is not accounts, for a preview before the
    /// user accepts.
    pub fn raw_preview(&self) -> Option<&[u8]> {
        self.opened.as_ref()?.raw.as_deref().map(Vec::as_slice)
    }

    /// What this session receives.
    pub fn purpose(&self) -> Purpose {
        self.state.purpose
    }

    /// The user confirmed the codes match: the plaintext of a sealing that is not accounts.
    pub fn accept_raw(mut self) -> Result<Zeroizing<Vec<u8>>, TransferError> {
        if self.state.purpose == Purpose::Accounts {
            return Err(TransferError::Invalid(
                "this session receives accounts, not a sync join".into(),
            ));
        }
        self.opened
            .take()
            .and_then(|mut o| o.raw.take())
            .ok_or(TransferError::Incomplete)
    }

    /// Frames received and needed; `complete` once the data is whole (by frames or LAN).
    pub fn progress(&self) -> Progress {
        let mut p = self.collector.progress();
        p.complete |= self.is_complete();
        p
    }

    /// The reply to show the old device (its nonce, revealed now that a sender is locked).
    pub fn reply(&self) -> Option<Reply> {
        self.opened.as_ref()?;
        Some(Reply {
            session_tag: self.state.session_id[..8].try_into().expect("8"),
            sender_tag: sender_tag(&self.state.locked_enc),
            nonce: self.state.nonce,
        })
    }

    /// The 6-digit code to compare with the sender's screen (once a sender is locked).
    pub fn confirmation_code(&self) -> Option<String> {
        self.code_with_digits(CODE_DIGITS)
    }

    /// Test hook: the code with another width.
    #[doc(hidden)]
    pub fn code_with_digits(&self, digits: u32) -> Option<String> {
        let o = self.opened.as_ref()?;
        Some(format_code(
            code_value(&o.code_key, &self.state.session_id, &self.state.nonce),
            digits,
        ))
    }

    /// Test hook: the code the locked sender would show for another nonce (what a grinding
    /// attacker who plays the receiver computes).
    #[doc(hidden)]
    pub fn code_for_nonce(&self, nonce: &[u8; NONCE_LEN], digits: u32) -> Option<String> {
        let o = self.opened.as_ref()?;
        Some(format_code(
            code_value(&o.code_key, &self.state.session_id, nonce),
            digits,
        ))
    }

    /// The accounts received (once complete), for a preview.
    pub fn preview(&self) -> Option<&[TransferEntry]> {
        self.opened
            .as_ref()?
            .payload
            .as_ref()
            .map(|p| p.entries.as_slice())
    }

    /// The user confirmed the codes match: the accounts, ready for
    /// [`crate::interop::add_to_vault`].
    pub fn accept(mut self) -> Result<Vec<ImportedEntry>, TransferError> {
        if self.state.purpose != Purpose::Accounts {
            return Err(TransferError::Invalid(
                "this session receives a sync join, not accounts".into(),
            ));
        }
        let payload = self
            .opened
            .take()
            .and_then(|mut o| o.payload.take())
            .ok_or(TransferError::Incomplete)?;
        Ok(payload.entries)
    }
}
