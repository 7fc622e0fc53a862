//! OTPX/2 payload encoding: the sealed plaintext, compact (numbered fields, raw secret bytes,
//! interned issuer and group names, optional raw-deflate compression). Byte layout in
//! `docs/transfer-protocol.md` §3. Parsing is strict and bounded: every length is checked
//! against what is left, every index against the table, trailing bytes are refused.

use zeroize::Zeroizing;

use super::{MAX_ENTRIES, TransferError, TransferPayload};
use crate::Secret;
use crate::interop::ImportedEntry;
use crate::otp::{Algorithm, OtpKind};

/// First byte of the plaintext: the encoding.
const PLAIN: u8 = 0;
const DEFLATE: u8 = 1;
/// Largest plaintext a receiver inflates to (the sealed blob is at most 8 MiB too).
const MAX_PLAIN: usize = 16 * 1024 * 1024;
/// Longest issuer, account, note or group name.
const MAX_TEXT: usize = 64 * 1024;

const TYPE_MASK: u8 = 0b11;
const TYPE_TOTP: u8 = 0;
const TYPE_HOTP: u8 = 1;
const TYPE_STEAM: u8 = 2;
const ALG_SHIFT: u8 = 2;
const FAVORITE: u8 = 1 << 4;
const HAS_NOTE: u8 = 1 << 5;
const HAS_GROUPS: u8 = 1 << 6;
/// Digits ≠ 6 or (TOTP) period ≠ 30 follow.
const CUSTOM: u8 = 1 << 7;
/// Tag of the optional section of recovery codes after the accounts.
const SECTION_RECOVERY_CODES: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

struct Interner(Vec<String>);

impl Interner {
    fn index(&mut self, s: &str) -> u64 {
        match self.0.iter().position(|t| t == s) {
            Some(i) => i as u64,
            None => {
                self.0.push(s.to_owned());
                (self.0.len() - 1) as u64
            }
        }
    }
}

/// The plaintext for `payload`; compressed when that is smaller.
pub fn encode(payload: &TransferPayload) -> Zeroizing<Vec<u8>> {
    encode_with(payload, true)
}

/// [`encode`] with compression switched off or on (the benchmark measures both).
#[doc(hidden)]
pub fn encode_with(payload: &TransferPayload, compress: bool) -> Zeroizing<Vec<u8>> {
    let mut table = Interner(Vec::new());
    let mut body = Zeroizing::new(Vec::with_capacity(64 * payload.entries.len() + 16));
    put_varint(&mut body, payload.entries.len() as u64);
    for e in &payload.entries {
        let (ty, alg, digits, period, counter) = match e.kind {
            OtpKind::Totp {
                algorithm,
                digits,
                period,
            } => (TYPE_TOTP, algorithm, digits, period, None),
            OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            } => (TYPE_HOTP, algorithm, digits, 30, Some(counter)),
            OtpKind::Steam => (TYPE_STEAM, Algorithm::Sha1, 6, 30, None),
        };
        let alg_bits = match alg {
            Algorithm::Sha1 => 0u8,
            Algorithm::Sha256 => 1,
            Algorithm::Sha512 => 2,
        };
        let custom = ty != TYPE_STEAM && (digits != 6 || period != 30);
        let mut flags = ty | (alg_bits << ALG_SHIFT);
        if e.favorite {
            flags |= FAVORITE;
        }
        if !e.note.is_empty() {
            flags |= HAS_NOTE;
        }
        if !e.groups.is_empty() {
            flags |= HAS_GROUPS;
        }
        if custom {
            flags |= CUSTOM;
        }
        body.push(flags);
        if custom {
            body.push(digits);
            if ty == TYPE_TOTP {
                put_varint(&mut body, u64::from(period));
            }
        }
        if let Some(c) = counter {
            put_varint(&mut body, c);
        }
        put_bytes(&mut body, e.secret.expose());
        put_varint(&mut body, table.index(&e.issuer));
        put_bytes(&mut body, e.account.as_bytes());
        if !e.note.is_empty() {
            put_bytes(&mut body, e.note.as_bytes());
        }
        if !e.groups.is_empty() {
            put_varint(&mut body, e.groups.len() as u64);
            for g in &e.groups {
                put_varint(&mut body, table.index(g));
            }
        }
    }
    // Optional trailing section (§3.1): recovery codes of the entries that have any. Absent
    // when no entry has codes, so such payloads are byte for byte what earlier versions wrote.
    let with_codes: Vec<(usize, &ImportedEntry)> = payload
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.recovery_codes.is_empty())
        .collect();
    if !with_codes.is_empty() {
        body.push(SECTION_RECOVERY_CODES);
        put_varint(&mut body, with_codes.len() as u64);
        for (i, e) in with_codes {
            put_varint(&mut body, i as u64);
            put_varint(&mut body, e.recovery_codes.len() as u64);
            for c in &e.recovery_codes {
                let flags = u8::from(c.used) | (u8::from(c.used_at.is_some()) << 1);
                body.push(flags);
                put_bytes(&mut body, c.code.as_bytes());
                if let Some(t) = c.used_at {
                    put_varint(&mut body, ((t << 1) ^ (t >> 63)) as u64);
                }
            }
        }
    }
    let mut plain = Zeroizing::new(Vec::with_capacity(body.len() + 64));
    // created_at as zigzag, then the string table, then the entries.
    let t = payload.created_at;
    put_varint(&mut plain, ((t << 1) ^ (t >> 63)) as u64);
    put_varint(&mut plain, table.0.len() as u64);
    for s in &table.0 {
        put_bytes(&mut plain, s.as_bytes());
    }
    plain.extend_from_slice(&body);
    drop(body);
    let packed = Zeroizing::new(if compress {
        miniz_oxide::deflate::compress_to_vec(&plain, 9)
    } else {
        Vec::new()
    });
    let mut out = Zeroizing::new(Vec::with_capacity(plain.len() + 1));
    if compress && packed.len() + 8 < plain.len() {
        out.push(DEFLATE);
        put_varint(&mut out, plain.len() as u64);
        out.extend_from_slice(&packed);
    } else {
        out.push(PLAIN);
        out.extend_from_slice(&plain);
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

fn bad(why: &str) -> TransferError {
    TransferError::BadPayload(why.to_owned())
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, TransferError> {
        let b = *self.data.get(self.pos).ok_or_else(|| bad("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, TransferError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(bad("number too large"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("number too large"))
    }

    fn count(&mut self, max: usize) -> Result<usize, TransferError> {
        let n = self.varint()?;
        // Every counted item takes at least one byte.
        if n > max as u64 || n > (self.data.len() - self.pos) as u64 {
            return Err(bad("implausible count"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self, max: usize) -> Result<&'a [u8], TransferError> {
        let n = self.varint()?;
        if n > max as u64 || n > (self.data.len() - self.pos) as u64 {
            return Err(bad("implausible length"));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn text(&mut self) -> Result<String, TransferError> {
        let b = self.bytes(MAX_TEXT)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| bad("text is not UTF-8"))
    }
}

/// Reads a plaintext produced by [`encode`].
pub fn decode(data: &[u8]) -> Result<TransferPayload, TransferError> {
    let (&format, rest) = data.split_first().ok_or_else(|| bad("empty"))?;
    let inflated;
    let plain: &[u8] = match format {
        PLAIN => rest,
        DEFLATE => {
            let mut r = Reader { data: rest, pos: 0 };
            let size = r.varint()?;
            if size > MAX_PLAIN as u64 {
                return Err(bad("too large once unpacked"));
            }
            inflated = Zeroizing::new(
                miniz_oxide::inflate::decompress_to_vec_with_limit(&rest[r.pos..], size as usize)
                    .map_err(|_| bad("compressed data is damaged"))?,
            );
            if inflated.len() as u64 != size {
                return Err(bad("compressed data has the wrong size"));
            }
            &inflated
        }
        _ => return Err(bad("unknown encoding")),
    };
    let mut r = Reader {
        data: plain,
        pos: 0,
    };
    let z = r.varint()?;
    let created_at = ((z >> 1) as i64) ^ -((z & 1) as i64);
    let nstrings = r.count(2 * MAX_ENTRIES + 1)?;
    let mut table = Vec::with_capacity(nstrings);
    for _ in 0..nstrings {
        table.push(r.text()?);
    }
    let string = |i: u64| -> Result<String, TransferError> {
        table
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .cloned()
            .ok_or_else(|| bad("name index out of range"))
    };
    let n = r.count(MAX_ENTRIES)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let flags = r.byte()?;
        let ty = flags & TYPE_MASK;
        let algorithm = match (flags >> ALG_SHIFT) & 0b11 {
            0 => Algorithm::Sha1,
            1 => Algorithm::Sha256,
            2 => Algorithm::Sha512,
            _ => return Err(bad("unknown algorithm")),
        };
        let (mut digits, mut period) = (6u8, 30u32);
        if flags & CUSTOM != 0 {
            if ty == TYPE_STEAM {
                return Err(bad("Steam accounts have fixed parameters"));
            }
            digits = r.byte()?;
            if ty == TYPE_TOTP {
                period = u32::try_from(r.varint()?).map_err(|_| bad("period out of range"))?;
            }
        }
        let kind = match ty {
            TYPE_TOTP => OtpKind::Totp {
                algorithm,
                digits,
                period,
            },
            TYPE_HOTP => OtpKind::Hotp {
                algorithm,
                digits,
                counter: r.varint()?,
            },
            TYPE_STEAM if algorithm == Algorithm::Sha1 => OtpKind::Steam,
            _ => return Err(bad("unknown account type")),
        };
        kind.validate().map_err(|e| bad(&e.to_string()))?;
        let secret = Secret::from_bytes(r.bytes(crate::secret::MAX_SECRET_BYTES)?.to_vec())
            .map_err(|e| bad(&e.to_string()))?;
        let issuer = string(r.varint()?)?;
        let account = r.text()?;
        let note = if flags & HAS_NOTE != 0 {
            r.text()?
        } else {
            String::new()
        };
        let groups = if flags & HAS_GROUPS != 0 {
            let k = r.count(1024)?;
            (0..k)
                .map(|_| string(r.varint()?))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        entries.push(ImportedEntry {
            kind,
            secret,
            issuer,
            account,
            note,
            favorite: flags & FAVORITE != 0,
            groups,
            recovery_codes: Vec::new(),
        });
    }
    if r.pos < plain.len() {
        if r.byte()? != SECTION_RECOVERY_CODES {
            return Err(bad("unexpected bytes after the accounts"));
        }
        let k = r.count(entries.len())?;
        let mut seen = vec![false; entries.len()];
        for _ in 0..k {
            let i = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
            if i >= entries.len() || std::mem::replace(&mut seen[i], true) {
                return Err(bad("recovery codes for no account, or twice for one"));
            }
            let n = r.count(crate::limits::MAX_RECOVERY_CODES)?;
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                let flags = r.byte()?;
                if flags > 0b11 {
                    return Err(bad("unknown recovery code flags"));
                }
                // A copy of the code: wiped when dropped, like the stored one.
                let text = Zeroizing::new(r.text()?);
                let used_at = if flags & 0b10 != 0 {
                    let z = r.varint()?;
                    Some(((z >> 1) as i64) ^ -((z & 1) as i64))
                } else {
                    None
                };
                let mut code = crate::vault::recovery_codes::RecoveryCode::new(&text)
                    .map_err(|e| bad(&e.to_string()))?;
                code.used = flags & 1 != 0;
                code.used_at = used_at;
                list.push(code);
            }
            entries[i].recovery_codes = list;
        }
        if r.pos != plain.len() {
            return Err(bad("unexpected bytes after the recovery codes"));
        }
    }
    Ok(TransferPayload {
        version: super::VERSION,
        created_at,
        entries,
    })
}
