//! Ente Auth encrypted export: `{"version":1,"kdfParams":{"memLimit","opsLimit","salt"},
//! "encryptedData","encryptionNonce"}`. The key is Argon2id v1.3(password, salt, m = memLimit
//! bytes, t = opsLimit, p = 1); the cipher is libsodium's
//! `crypto_secretstream_xchacha20poly1305` with `encryptionNonce` as the stream header and the
//! data as one final chunk whose plaintext is Ente's plain export (otpauth URIs). The plain
//! export itself is read by `otpauth_list`.

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::{ChaCha20, hchacha};
use poly1305::Poly1305;
use poly1305::universal_hash::KeyInit;
use serde_json::Value;
use zeroize::Zeroizing;

use super::support::{self, Work, str_field, uint_field};
use super::{Format, ImportError, ImportReport, otpauth_list};
use crate::crypto::{self, KdfParams};

const TAG_FINAL: u8 = 3;
const ABYTES: usize = 17;

pub(crate) fn import_encrypted(
    text: &str,
    password: Option<&[u8]>,
    work: &Work,
) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let kdf = doc.get("kdfParams").unwrap_or(&Value::Null);
    let mem =
        uint_field(kdf, "memLimit").ok_or_else(|| ImportError::Damaged("no memLimit".into()))?;
    let ops =
        uint_field(kdf, "opsLimit").ok_or_else(|| ImportError::Damaged("no opsLimit".into()))?;
    let salt = support::b64(str_field(kdf, "salt"))?;
    let header = support::b64(str_field(&doc, "encryptionNonce"))?;
    let data = support::b64(str_field(&doc, "encryptedData"))?;
    if salt.len() != 16 || header.len() != 24 || data.len() < ABYTES {
        return Err(ImportError::Damaged(
            "salt, header or data has the wrong size".into(),
        ));
    }
    let password = password.ok_or(ImportError::PasswordRequired)?;
    // Memory and passes are checked against the ceilings before anything runs.
    let key = work.argon2id(password, &salt, mem / 1024, ops, 1, "Ente export")?;
    let header: [u8; 24] = header.try_into().expect("checked length");
    let plain = open_final_chunk(&key, &header, &data).ok_or(ImportError::WrongPassword)?;
    let mut report = otpauth_list::import(support::text(&plain)?)?;
    report.format = Format::EnteEncrypted;
    Ok(report)
}

/// The per-stream key and nonce: HChaCha20(key, header[..16]) and counter 1 ‖ header[16..].
fn stream_state(key: &[u8; 32], header: &[u8; 24]) -> (Zeroizing<[u8; 32]>, [u8; 12]) {
    let subkey = hchacha::<chacha20::R20>(key.into(), header[..16].try_into().expect("16 bytes"));
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(subkey.as_slice());
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&1u32.to_le_bytes());
    nonce[4..].copy_from_slice(&header[16..]);
    (k, nonce)
}

fn keystream_block(k: &[u8; 32], nonce: &[u8; 12], counter: u32, block: &mut [u8]) {
    let mut c = ChaCha20::new(k.into(), nonce.into());
    c.seek(u64::from(counter) * 64);
    c.apply_keystream(block);
}

fn mac(k: &[u8; 32], nonce: &[u8; 12], tag_block: &[u8; 64], ciphertext: &[u8]) -> [u8; 16] {
    let mut poly_key = Zeroizing::new([0u8; 64]);
    keystream_block(k, nonce, 0, poly_key.as_mut());
    let mut input = Vec::with_capacity(64 + ciphertext.len() + 32);
    // No associated data: zero-length AD and no padding for it.
    input.extend_from_slice(tag_block);
    input.extend_from_slice(ciphertext);
    // libsodium pads with `(0x10 - 64 + mlen) & 0xf` zero bytes, which is `mlen mod 16` — not
    // the usual "up to a multiple of 16". Matching it exactly is what makes the tags agree.
    input.resize(input.len() + ciphertext.len() % 16, 0);
    input.extend_from_slice(&0u64.to_le_bytes());
    input.extend_from_slice(&((64 + ciphertext.len()) as u64).to_le_bytes());
    let poly = Poly1305::new_from_slice(&poly_key[..32]).expect("32-byte key");
    let tag = poly.compute_unpadded(&input);
    tag.into()
}

/// Opens one secretstream chunk (`tag ‖ ciphertext ‖ mac`) that must carry the FINAL tag.
fn open_final_chunk(key: &[u8; 32], header: &[u8; 24], chunk: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (k, nonce) = stream_state(key, header);
    let mlen = chunk.len() - ABYTES;
    let mut block = [0u8; 64];
    block[0] = chunk[0];
    keystream_block(&k, &nonce, 1, &mut block);
    let tag = block[0];
    block[0] = chunk[0];
    let ciphertext = &chunk[1..1 + mlen];
    let expected = mac(&k, &nonce, &block, ciphertext);
    let stored = &chunk[1 + mlen..];
    if !constant_time_eq(&expected, stored) || tag != TAG_FINAL {
        return None;
    }
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    let mut c = ChaCha20::new((&*k).into(), (&nonce).into());
    c.seek(2 * 64);
    c.apply_keystream(&mut plain);
    Some(plain)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seals `plain` as one FINAL secretstream chunk (what libsodium's push with TAG_FINAL
/// produces), for fixtures and an Ente-compatible export.
pub fn seal_final_chunk(key: &[u8; 32], header: &[u8; 24], plain: &[u8]) -> Vec<u8> {
    let (k, nonce) = stream_state(key, header);
    let mut block = [0u8; 64];
    block[0] = TAG_FINAL;
    keystream_block(&k, &nonce, 1, &mut block);
    let encrypted_tag = block[0];
    let mut ciphertext = plain.to_vec();
    let mut c = ChaCha20::new((&*k).into(), (&nonce).into());
    c.seek(2 * 64);
    c.apply_keystream(&mut ciphertext);
    let tag = mac(&k, &nonce, &block, &ciphertext);
    let mut out = vec![encrypted_tag];
    out.extend_from_slice(&ciphertext);
    out.extend_from_slice(&tag);
    out
}

/// An Ente encrypted export of a plain export text.
pub fn seal(
    plain_text: &str,
    password: &[u8],
    salt: [u8; 16],
    header: [u8; 24],
    mem_bytes: u64,
    ops: u32,
) -> Result<String, ImportError> {
    let params = KdfParams {
        m_kib: (mem_bytes / 1024) as u32,
        t: ops,
        p: 1,
    };
    let key = crypto::argon2id(password, &salt, params)
        .map_err(|e| ImportError::Damaged(e.to_string()))?;
    let data = seal_final_chunk(&key, &header, plain_text.as_bytes());
    Ok(serde_json::json!({
        "version": 1,
        "kdfParams": {"memLimit": mem_bytes, "opsLimit": ops, "salt": support::b64_encode(&salt)},
        "encryptedData": support::b64_encode(&data),
        "encryptionNonce": support::b64_encode(&header),
    })
    .to_string())
}
