//! OTPX/2 frames: the sealed blob as an endless RaptorQ stream, one packet per frame, each
//! frame authenticated with a key only the invite's holders know.
//!
//! Frame bytes: `"OX" | version | session tag (8) | sender tag (8) | RaptorQ OTI (12) |
//! payload id (4) | symbol | MAC (8)`; text = `OTPX2F` + Base45(bytes).
//!
//! Every coding parameter a frame claims is checked before the decoder sees it (raptorq
//! asserts on some combinations and allocates by others): see [`check_parameters`].

use std::collections::HashSet;

use raptorq::{Decoder, Encoder, EncodingPacket, ObjectTransmissionInformation, PayloadId};

use super::{Invite, MAX_BLOB_BYTES, TransferError, VERSION, check_prefix, ct_eq, sender_tag};
use crate::crypto::hkdf32;
use crate::qr::EcLevel;

/// Text prefix of a frame.
pub const FRAME_PREFIX: &str = "OTPX2F";
const MAGIC: &[u8; 2] = b"OX";
const HEADER: usize = 2 + 1 + 8 + 8 + 12;
const MAC_LEN: usize = 8;
/// Bytes a frame spends besides its symbol.
pub const OVERHEAD: usize = HEADER + 4 + MAC_LEN;
/// Default QR version of a frame: 77×77 modules. Measured in docs/performance.md (section
/// transfer): the largest version that our decoder and zbar read from (nearly) all camera-like
/// 1280×720 pictures of a screen, the code spanning half of the picture's height or more.
/// Larger versions carry more per frame but fail at a distance — and a distance that fails,
/// fails for every frame, which no fountain code repairs.
pub const DEFAULT_QR_VERSION: i16 = 15;
/// Default error-correction level of a frame (L gains 26 % capacity but reads less often).
pub const DEFAULT_EC_LEVEL: EcLevel = EcLevel::M;
const MAX_FRAME_TEXT: usize = 8 * 1024;
/// Symbol alignment (RFC 6330 `Al`) and the smallest symbol a receiver accepts.
const ALIGNMENT: u8 = 8;
const MIN_SYMBOL: u16 = 64;
const MAX_SYMBOL: u16 = 4096;
/// Most source symbols a framed transfer may have in all. A 10-minute invite at 6 frames/s
/// shows 3 600 frames, so this leaves room and bounds the decoder's work; it is far below
/// raptorq's 56 403 per block. Larger transfers use the LAN.
pub const MAX_SOURCE_SYMBOLS: u64 = 16_384;
const MAX_BLOCKS: u8 = 16;

/// The key that authenticates frames: HKDF(PSK, salt = session id, "twofold/otpx/2 frame mac").
pub fn frame_key(psk: &[u8; 32], session_id: &[u8; 16]) -> [u8; 32] {
    *hkdf32(psk, session_id, b"twofold/otpx/2 frame mac")
}

fn mac(key: &[u8; 32], data: &[u8]) -> [u8; MAC_LEN] {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data);
    tag.as_ref()[..MAC_LEN].try_into().expect("8 bytes")
}

/// Largest frame (bytes before Base45) that fits a QR code of `version` at `ec` in
/// alphanumeric mode.
pub fn bytes_for_qr(version: i16, ec: EcLevel) -> usize {
    let ec: qrcode::EcLevel = ec.into();
    let fits = |chars: usize| {
        let text = "A".repeat(chars);
        qrcode::QrCode::with_version(text.as_bytes(), qrcode::Version::Normal(version), ec).is_ok()
    };
    let (mut lo, mut hi) = (0usize, 8000usize);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    let chars = lo.saturating_sub(FRAME_PREFIX.len());
    // Base45: 2 bytes → 3 characters, a last single byte → 2.
    chars / 3 * 2 + usize::from(chars % 3 == 2)
}

/// [`bytes_for_qr`] at error-correction level M (the level invites and replies use).
pub fn bytes_for_qr_version(version: i16) -> usize {
    bytes_for_qr(version, EcLevel::M)
}

/// Frame bytes of the default QR version and level.
pub fn default_frame_bytes() -> usize {
    bytes_for_qr(DEFAULT_QR_VERSION, DEFAULT_EC_LEVEL)
}

/// Source blocks for `kt` source symbols: as few as raptorq's per-block limit allows.
fn blocks_for(kt: u64) -> u64 {
    kt.div_ceil(56_403).max(1)
}

/// Checks what a frame claims about the transfer before anything is allocated or decoded:
/// the length (1 byte to 8 MiB), symbol size (64–4096, a multiple of the alignment 8), one
/// sub-block, 1–16 source blocks but no more than there are symbols, at most
/// [`MAX_SOURCE_SYMBOLS`] source symbols and at most 56 403 in any block (raptorq panics
/// beyond). A refusal is a typed error, never a panic.
pub fn check_parameters(oti: &ObjectTransmissionInformation) -> Result<(), TransferError> {
    let bad = |why: String| Err(TransferError::BadParameters(why));
    let len = oti.transfer_length();
    if len == 0 || len > MAX_BLOB_BYTES as u64 {
        return Err(TransferError::Oversized(len));
    }
    let t = oti.symbol_size();
    if oti.symbol_alignment() != ALIGNMENT {
        return bad(format!(
            "symbol alignment {} (only {ALIGNMENT} is used)",
            oti.symbol_alignment()
        ));
    }
    if !(MIN_SYMBOL..=MAX_SYMBOL).contains(&t) || !t.is_multiple_of(u16::from(ALIGNMENT)) {
        return bad(format!(
            "symbol size {t} (must be {MIN_SYMBOL}–{MAX_SYMBOL}, a multiple of {ALIGNMENT})"
        ));
    }
    if oti.sub_blocks() != 1 {
        return bad(format!("{} sub-blocks (only 1 is used)", oti.sub_blocks()));
    }
    let z = u64::from(oti.source_blocks());
    let kt = len.div_ceil(u64::from(t));
    if z == 0 || z > u64::from(MAX_BLOCKS) || z > kt {
        return bad(format!("{z} source blocks for {kt} symbols"));
    }
    if kt > MAX_SOURCE_SYMBOLS {
        return bad(format!(
            "{kt} source symbols (at most {MAX_SOURCE_SYMBOLS} in frames)"
        ));
    }
    let per_block = kt.div_ceil(z);
    if per_block > 56_403 {
        return bad(format!(
            "{per_block} source symbols in one block (at most 56 403)"
        ));
    }
    Ok(())
}

/// The sender's endless frame source.
pub struct FrameStream {
    encoder: Encoder,
    header: Vec<u8>,
    key: [u8; 32],
}

impl FrameStream {
    /// Frames of `frame_bytes` bytes (before Base45) for the sealed `blob`; refused when the size is unusable or the blob too large for frames.
    pub fn new(blob: &[u8], invite: &Invite, frame_bytes: usize) -> Result<Self, TransferError> {
        if !(OVERHEAD + usize::from(MIN_SYMBOL)..=OVERHEAD + usize::from(MAX_SYMBOL))
            .contains(&frame_bytes)
        {
            return Err(TransferError::Invalid(format!(
                "a frame of {frame_bytes} bytes is not usable"
            )));
        }
        let symbol = ((frame_bytes - OVERHEAD) / 8 * 8) as u16;
        let kt = (blob.len() as u64).div_ceil(u64::from(symbol));
        let z = blocks_for(kt);
        let oti = ObjectTransmissionInformation::new(
            blob.len() as u64,
            symbol,
            u8::try_from(z).unwrap_or(u8::MAX),
            1,
            ALIGNMENT,
        );
        check_parameters(&oti).map_err(|e| match e {
            TransferError::BadParameters(_) => TransferError::Invalid(
                "too much data for frames in one invite's lifetime; use the LAN transfer".into(),
            ),
            other => other,
        })?;
        let encoder = Encoder::new(blob, oti);
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&invite.session_id[..8]);
        header.extend_from_slice(&sender_tag(&blob[..32.min(blob.len())]));
        header.extend_from_slice(&oti.serialize());
        Ok(FrameStream {
            encoder,
            header,
            key: frame_key(invite.psk(), &invite.session_id),
        })
    }

    /// Number of source symbols (frames a lossless receiver needs).
    pub fn source_symbols(&self) -> usize {
        self.encoder
            .get_block_encoders()
            .iter()
            .map(|b| b.source_packets().len())
            .sum()
    }

    fn packet(&self, n: u64) -> EncodingPacket {
        let blocks = self.encoder.get_block_encoders();
        let b = (n % blocks.len() as u64) as usize;
        let i = n / blocks.len() as u64;
        let source = blocks[b].source_packets();
        if (i as usize) < source.len() {
            source[i as usize].clone()
        } else {
            // Encoding symbol ids are 24 bits; the stream wraps around long before.
            let repair = ((i - source.len() as u64) % ((1 << 24) - source.len() as u64)) as u32;
            blocks[b].repair_packets(repair, 1).remove(0)
        }
    }

    /// Frame `n` as text.
    pub fn frame(&self, n: u64) -> String {
        let mut bytes = self.header.clone();
        bytes.extend_from_slice(&self.packet(n).serialize());
        let tag = mac(&self.key, &bytes);
        bytes.extend_from_slice(&tag);
        format!("{FRAME_PREFIX}{}", base45::encode(&bytes))
    }
}

/// How far a receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct frames received.
    pub received: usize,
    /// Frames needed without loss (the decoder may need one or two more).
    pub needed: usize,
    /// Whether the whole blob has been recovered.
    pub complete: bool,
}

/// What a frame says about itself (for diagnostics and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// The session's tag (first 8 bytes of its id).
    pub session_tag: [u8; 8],
    /// The sender's tag (first 8 bytes of SHA-256 of its `enc`).
    pub sender_tag: [u8; 8],
    /// Length of the sealed blob in bytes.
    pub transfer_length: u64,
    /// Bytes of encoded data per frame (RaptorQ symbol size).
    pub symbol_size: u16,
    /// RaptorQ source block number.
    pub source_block: u8,
    /// RaptorQ encoding symbol id within the block.
    pub symbol_id: u32,
}

/// Parses frame text into its fields and raw bytes (no authentication).
pub fn parse(text: &str) -> Result<(FrameInfo, Vec<u8>), TransferError> {
    let body = match check_prefix(text.trim(), 'F') {
        Some(r) => r?,
        None => return Err(TransferError::NotAFrame),
    };
    if body.len() > MAX_FRAME_TEXT {
        return Err(TransferError::NotAFrame);
    }
    let bytes = base45::decode(body).map_err(|_| TransferError::NotAFrame)?;
    if bytes.len() < OVERHEAD + 1 || &bytes[..2] != MAGIC {
        return Err(TransferError::NotAFrame);
    }
    if bytes[2] != VERSION {
        return Err(TransferError::UnsupportedVersion(bytes[2]));
    }
    let oti =
        ObjectTransmissionInformation::deserialize(bytes[19..31].try_into().expect("12 bytes"));
    let pid = PayloadId::deserialize(bytes[31..35].try_into().expect("4 bytes"));
    Ok((
        FrameInfo {
            session_tag: bytes[3..11].try_into().expect("8"),
            sender_tag: bytes[11..19].try_into().expect("8"),
            transfer_length: oti.transfer_length(),
            symbol_size: oti.symbol_size(),
            source_block: pid.source_block_number(),
            symbol_id: pid.encoding_symbol_id(),
        },
        bytes,
    ))
}

/// Recomputes a frame's MAC (tests and the fuzz target build authentic hostile frames).
pub fn seal_frame_bytes(key: &[u8; 32], bytes: &mut [u8]) {
    let len = bytes.len();
    if len < MAC_LEN {
        return;
    }
    let tag = mac(key, &bytes[..len - MAC_LEN]);
    bytes[len - MAC_LEN..].copy_from_slice(&tag);
}

/// The receiver's frame sink.
pub struct FrameCollector {
    session_id: [u8; 16],
    key: [u8; 32],
    sender: Option<([u8; 8], ObjectTransmissionInformation)>,
    decoder: Option<Decoder>,
    seen: HashSet<(u8, u32)>,
    done: bool,
    failed: bool,
}

impl FrameCollector {
    /// An empty collector for one session, checking frame MACs with `key`.
    pub fn new(session_id: [u8; 16], key: [u8; 32]) -> Self {
        FrameCollector {
            session_id,
            key,
            sender: None,
            decoder: None,
            seen: HashSet::new(),
            done: false,
            failed: false,
        }
    }

    /// Distinct frames received and frames needed so far.
    pub fn progress(&self) -> Progress {
        let needed = self.sender.as_ref().map_or(0, |(_, oti)| {
            oti.transfer_length().div_ceil(u64::from(oti.symbol_size())) as usize
        });
        Progress {
            received: self.seen.len(),
            needed,
            complete: self.done,
        }
    }

    /// The decoded data did not open: the session is spent (start a new one).
    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    /// Adds one frame; returns the blob when it completes the transfer.
    pub fn add(&mut self, text: &str) -> Result<Option<Vec<u8>>, TransferError> {
        let (info, bytes) = parse(text)?;
        if self.failed {
            return Err(TransferError::Decryption);
        }
        if info.session_tag != self.session_id[..8] {
            return Err(TransferError::WrongSession);
        }
        let (body, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let expected = mac(&self.key, body);
        if !ct_eq(&expected, tag) {
            return Err(TransferError::TamperedFrame);
        }
        let oti =
            ObjectTransmissionInformation::deserialize(body[19..31].try_into().expect("12 bytes"));
        match &self.sender {
            None => {
                check_parameters(&oti)?;
            }
            Some((tag, locked)) => {
                if *tag != info.sender_tag {
                    return Err(TransferError::SecondSender);
                }
                if *locked != oti {
                    return Err(TransferError::BadParameters(
                        "the sender changed the transfer parameters".into(),
                    ));
                }
            }
        }
        let symbol = &body[35..];
        if symbol.len() != usize::from(oti.symbol_size())
            || info.source_block >= oti.source_blocks()
        {
            return Err(TransferError::NotAFrame);
        }
        if self.sender.is_none() {
            self.sender = Some((info.sender_tag, oti));
            self.decoder = Some(Decoder::new(oti));
        }
        if self.done || !self.seen.insert((info.source_block, info.symbol_id)) {
            return Ok(None);
        }
        // Bounded work: a sender whose frames never complete the decoder is cut off.
        let kt = oti.transfer_length().div_ceil(u64::from(oti.symbol_size()));
        if self.seen.len() as u64 > 2 * kt + 256 {
            return Err(TransferError::BadParameters(
                "far more frames than the transfer needs without completing".into(),
            ));
        }
        let packet = EncodingPacket::deserialize(&body[31..]);
        let decoded = self
            .decoder
            .as_mut()
            .expect("set with the sender")
            .decode(packet);
        match decoded {
            Some(blob) if blob.len() as u64 == oti.transfer_length() => {
                self.done = true;
                if sender_tag(&blob[..32.min(blob.len())]) != info.sender_tag {
                    // The symbols do not belong to the tag they claim.
                    self.failed = true;
                    return Err(TransferError::Decryption);
                }
                Ok(Some(blob))
            }
            Some(_) => {
                self.failed = true;
                Err(TransferError::Decryption)
            }
            None => Ok(None),
        }
    }
}
