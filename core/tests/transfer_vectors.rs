//! The test vectors in docs/transfer-protocol.md: fixed randomness and time give an exact
//! invite, plaintext, sealed blob, frames, reply and confirmation code. The document must match the code
//! (`TWOFOLD_UPDATE_DOCS=1 cargo test --test transfer_vectors` after a deliberate change), and
//! the documented frames, fed to a receiver restored from the documented state, complete the
//! transfer with the documented code.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::fmt::Write as _;

use common::*;
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::transfer::frames;
use twofold_core::transfer::{
    Invite, Reply, TransferEntry, TransferPayload, TransferReceiver, TransferSender, payload,
};

const NOW: u64 = 1_700_000_000;

struct Vectors {
    text: String,
    state: Vec<u8>,
    frames: Vec<String>,
    reply: String,
    code: String,
}

fn generate() -> Vectors {
    let receiver_rng = SeededRandom::new(b"otpx/2 receiver vector");
    let receiver =
        TransferReceiver::new(NOW, 300, Some("192.168.1.20:47000".into()), &receiver_rng).unwrap();
    let invite_text = receiver.invite().to_text();
    let invite = Invite::parse(&invite_text, NOW).unwrap();
    let payload = TransferPayload {
        version: 2,
        created_at: 1_700_000_000_000,
        entries: vec![
            TransferEntry {
                kind: OtpKind::DEFAULT_TOTP,
                secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
                issuer: "Example".into(),
                account: "alice@example.com".into(),
                note: String::new(),
                favorite: true,
                groups: vec!["Work".into()],
                recovery_codes: Vec::new(),
            },
            TransferEntry {
                kind: OtpKind::Hotp {
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    counter: 7,
                },
                secret: Secret::from_base32("GEZDGNBVGY3TQOJQ").unwrap(),
                issuer: "Bank".into(),
                account: "bob".into(),
                note: String::new(),
                favorite: false,
                groups: vec![],
                recovery_codes: Vec::new(),
            },
        ],
    };
    let sender_rng = SeededRandom::new(b"otpx/2 sender vector");
    let frame_bytes = frames::bytes_for_qr_version(12);
    let mut sender =
        TransferSender::new(invite.clone(), &payload, frame_bytes, &sender_rng).unwrap();
    let frames: Vec<String> = (0..3).map(|n| sender.frame(n)).collect();
    let invite_bytes = invite.to_bytes();
    let plaintext = payload::encode(&payload);
    let state = receiver.state_bytes().to_vec();
    // The receiver collects the frames, locks the sender, reveals its nonce in the reply.
    let mut receiver = receiver;
    for f in &frames {
        if receiver.receive_frame(f, NOW + 5).unwrap().complete {
            break;
        }
    }
    let reply = receiver.reply().unwrap();
    let reply_text = reply.to_text();
    let code = sender.accept_reply(&reply, NOW + 6).unwrap();
    assert_eq!(receiver.confirmation_code(), Some(code.clone()));
    let mut t = String::new();
    writeln!(t, "Inputs: time {NOW} ({}); receiver randomness SHA-256(`otpx/2 receiver vector` ‖ counter), sender randomness SHA-256(`otpx/2 sender vector` ‖ counter) (as in the vault example); invite lifetime 300 s; LAN address `192.168.1.20:47000`; frames sized for QR version 12 at level M ({frame_bytes} bytes); two accounts (`Example`/`alice@example.com`, SHA1 TOTP, secret `JBSWY3DPEHPK3PXP`, favorite, group `Work`; `Bank`/`bob`, SHA1 HOTP counter 7, secret `GEZDGNBVGY3TQOJQ`), `created_at` 1700000000000.", twofold_core::time::format_utc(NOW as i64 * 1000)).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```").unwrap();
    for (name, value) in [
        ("session id", hex(&invite.session_id)),
        ("receiver public key", hex(&invite.receiver_public)),
        ("PSK", hex(invite.psk())),
        ("receiver nonce n_R", hex(reply.nonce())),
        ("nonce commitment", hex(&invite.nonce_commitment)),
        ("expires at", invite.expires_at.to_string()),
        (
            "frame key",
            hex(&frames::frame_key(invite.psk(), &invite.session_id)),
        ),
        ("plaintext length", plaintext.len().to_string()),
        ("HPKE enc (first 32 blob bytes)", hex(&sender.blob()[..32])),
        ("sealed blob length", sender.blob().len().to_string()),
        (
            "sealed blob SHA-256",
            hex(ring::digest::digest(&ring::digest::SHA256, sender.blob()).as_ref()),
        ),
        ("source frames", sender.source_frames().to_string()),
        ("sender tag", hex(&reply.sender_tag)),
        ("confirmation code", code.clone()),
    ] {
        writeln!(t, "{name:<31} {value}").unwrap();
    }
    writeln!(t, "```").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Invite bytes ({} bytes):", invite_bytes.len()).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", wrap64(&hex(&invite_bytes))).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Invite text (the QR code's content):").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", wrap64(&invite_text)).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Plaintext (§3, {} bytes):", plaintext.len()).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", wrap64(&hex(&plaintext))).unwrap();
    writeln!(t).unwrap();
    writeln!(t, "Sealed blob:").unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{}\n```", wrap64(&hex(sender.blob()))).unwrap();
    for (n, f) in frames.iter().enumerate() {
        writeln!(t).unwrap();
        writeln!(t, "Frame {n}:").unwrap();
        writeln!(t).unwrap();
        writeln!(t, "```\n{}\n```", wrap64(f)).unwrap();
    }
    writeln!(t).unwrap();
    writeln!(
        t,
        "Reply (shown by the receiver once it locked the sender):"
    )
    .unwrap();
    writeln!(t).unwrap();
    writeln!(t, "```\n{reply_text}\n```").unwrap();
    Vectors {
        text: t,
        state,
        frames,
        reply: reply_text,
        code,
    }
}

#[test]
fn the_protocol_document_carries_the_current_vectors() {
    check_or_update("transfer-protocol.md", "vectors", &generate().text);
}

#[test]
fn the_documented_frames_complete_a_transfer() {
    let v = generate();
    let mut receiver = TransferReceiver::from_state_bytes(&v.state).unwrap();
    let mut progress = None;
    // Any large-enough subset in any order: repair frames alone suffice.
    for n in [2usize, 1] {
        let p = receiver.receive_frame(&v.frames[n], NOW + 10).unwrap();
        progress = Some(p);
        if p.complete {
            break;
        }
    }
    assert!(progress.unwrap().complete, "{progress:?}");
    assert_eq!(
        receiver.reply().unwrap().to_text(),
        v.reply,
        "the same nonce"
    );
    Reply::parse(&v.reply).unwrap();
    assert_eq!(receiver.confirmation_code(), Some(v.code.clone()));
    let accounts = receiver.accept().unwrap();
    assert_eq!(accounts[0].groups, ["Work"]);
    assert_eq!(accounts[1].secret.to_base32(), "GEZDGNBVGY3TQOJQ");
}
