//! OTPX/1 frames: the sealed blob as an endless RaptorQ stream, one packet per frame, each
//! frame authenticated with a key only the invite's holders know.
//!
//! Frame bytes: `"OX" | version | session tag (8) | sender tag (8) | RaptorQ OTI (12) |
//! payload id (4) | symbol | MAC (8)`; text = `OTPX1F` + Base45(bytes).

use std::collections::HashSet;

use raptorq::{Decoder, Encoder, EncodingPacket, ObjectTransmissionInformation, PayloadId};

use super::{Invite, MAX_BLOB_BYTES, TransferError, VERSION};
use crate::crypto::hkdf32;

/// Text prefix of a frame.
pub const FRAME_PREFIX: &str = "OTPX1F";
const MAGIC: &[u8; 2] = b"OX";
const HEADER: usize = 2 + 1 + 8 + 8 + 12;
const MAC_LEN: usize = 8;
/// Bytes a frame spends besides its symbol.
pub const OVERHEAD: usize = HEADER + 4 + MAC_LEN;
/// Default QR version of a frame: 77×77 modules, readable by phone cameras at arm's length.
pub const DEFAULT_QR_VERSION: i16 = 15;
const MAX_FRAME_TEXT: usize = 8 * 1024;

/// The key that authenticates frames: HKDF(PSK, salt = session id, "twofold/otpx/1 frame mac").
pub fn frame_key(psk: &[u8; 32], session_id: &[u8; 16]) -> [u8; 32] {
    *hkdf32(psk, session_id, b"twofold/otpx/1 frame mac")
}

fn mac(key: &[u8; 32], data: &[u8]) -> [u8; MAC_LEN] {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data);
    tag.as_ref()[..MAC_LEN].try_into().expect("8 bytes")
}

fn sender_tag(blob: &[u8]) -> [u8; 8] {
    // The HPKE encapsulated key (first 32 bytes) is unique per sealing.
    let d = ring::digest::digest(&ring::digest::SHA256, &blob[..32.min(blob.len())]);
    d.as_ref()[..8].try_into().expect("8 bytes")
}

/// Largest frame (bytes before Base45) that fits a QR code of `version` at error-correction
/// level M in alphanumeric mode.
pub fn bytes_for_qr_version(version: i16) -> usize {
    let fits = |chars: usize| {
        let text = "A".repeat(chars);
        qrcode::QrCode::with_version(
            text.as_bytes(),
            qrcode::Version::Normal(version),
            qrcode::EcLevel::M,
        )
        .is_ok()
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

/// The sender's endless frame source.
pub struct FrameStream {
    encoder: Encoder,
    header: Vec<u8>,
    key: [u8; 32],
}

impl FrameStream {
    pub fn new(blob: &[u8], invite: &Invite, frame_bytes: usize) -> Result<Self, TransferError> {
        if !(OVERHEAD + 16..=4096).contains(&frame_bytes) {
            return Err(TransferError::Invalid(format!(
                "a frame of {frame_bytes} bytes is not usable"
            )));
        }
        let symbol = ((frame_bytes - OVERHEAD) / 8 * 8) as u16;
        let encoder = Encoder::with_defaults(blob, symbol);
        let oti = encoder.get_config();
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&invite.session_id[..8]);
        header.extend_from_slice(&sender_tag(blob));
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
            let repair = (i - source.len() as u64) as u32;
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
    pub complete: bool,
}

/// What a frame says about itself (for diagnostics and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    pub session_tag: [u8; 8],
    pub sender_tag: [u8; 8],
    pub transfer_length: u64,
    pub symbol_size: u16,
    pub source_block: u8,
    pub symbol_id: u32,
}

/// Parses frame text into its fields and raw bytes (no authentication).
pub fn parse(text: &str) -> Result<(FrameInfo, Vec<u8>), TransferError> {
    let body = text
        .trim()
        .strip_prefix(FRAME_PREFIX)
        .ok_or(TransferError::NotAFrame)?;
    if body.len() > MAX_FRAME_TEXT {
        return Err(TransferError::NotAFrame);
    }
    let bytes = base45::decode(body).map_err(|_| TransferError::NotAFrame)?;
    if bytes.len() < OVERHEAD + 1 || &bytes[..2] != MAGIC || bytes[2] != VERSION {
        return Err(TransferError::NotAFrame);
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

fn oti_is_sane(oti: &ObjectTransmissionInformation) -> Result<(), TransferError> {
    let len = oti.transfer_length();
    if len == 0 || len > MAX_BLOB_BYTES as u64 {
        return Err(TransferError::Oversized(len));
    }
    let t = oti.symbol_size();
    let al = oti.symbol_alignment();
    if !(8..=4096).contains(&t)
        || al == 0
        || t % u16::from(al) != 0
        || oti.sub_blocks() != 1
        || oti.source_blocks() == 0
        || oti.source_blocks() > 16
    {
        return Err(TransferError::NotAFrame);
    }
    Ok(())
}

/// The receiver's frame sink.
pub struct FrameCollector {
    session_id: [u8; 16],
    key: [u8; 32],
    sender: Option<([u8; 8], ObjectTransmissionInformation)>,
    decoder: Option<Decoder>,
    seen: HashSet<(u8, u32)>,
    done: bool,
}

impl FrameCollector {
    pub fn new(session_id: [u8; 16], key: [u8; 32]) -> Self {
        FrameCollector {
            session_id,
            key,
            sender: None,
            decoder: None,
            seen: HashSet::new(),
            done: false,
        }
    }

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

    /// Adds one frame; returns the blob when it completes the transfer.
    pub fn add(&mut self, text: &str) -> Result<Option<Vec<u8>>, TransferError> {
        let (info, bytes) = parse(text)?;
        if info.session_tag != self.session_id[..8] {
            return Err(TransferError::WrongSession);
        }
        let (body, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let expected = mac(&self.key, body);
        if expected
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
        {
            return Err(TransferError::TamperedFrame);
        }
        let oti =
            ObjectTransmissionInformation::deserialize(body[19..31].try_into().expect("12 bytes"));
        oti_is_sane(&oti)?;
        match &self.sender {
            None => {
                self.sender = Some((info.sender_tag, oti));
                self.decoder = Some(Decoder::new(oti));
            }
            Some((tag, locked)) => {
                if *tag != info.sender_tag {
                    return Err(TransferError::SecondSender);
                }
                if *locked != oti {
                    return Err(TransferError::Invalid(
                        "the sender changed the transfer parameters".into(),
                    ));
                }
            }
        }
        let symbol = &body[35..];
        if symbol.len() != usize::from(oti.symbol_size())
            || info.source_block >= oti.source_blocks()
            || info.symbol_id >= (1 << 24)
        {
            return Err(TransferError::NotAFrame);
        }
        if self.done || !self.seen.insert((info.source_block, info.symbol_id)) {
            return Ok(None);
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
                Ok(Some(blob))
            }
            Some(_) => Err(TransferError::Decryption),
            None => Ok(None),
        }
    }
}
