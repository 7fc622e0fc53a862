//! OTPX/1 device-to-device transfer: round trips through lossy, reordered, duplicated frame
//! streams; every rejection case; frames as QR images (our decoder and Debian's zbarimg); the
//! LAN transport on loopback; property tests of the fountain layer.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use twofold_core::crypto::{RandomSource, SystemRandom};
use twofold_core::interop;
use twofold_core::otp::OtpKind;
use twofold_core::qr;
use twofold_core::transfer::frames::{self, FrameCollector, FrameStream};
use twofold_core::transfer::{
    Invite, TransferError, TransferPayload, TransferReceiver, TransferSender, lan,
};
use twofold_core::vault::Entry;

const NOW: u64 = 1_700_000_000;

fn vault_with(n: usize) -> (tempfile::TempDir, twofold_core::vault::VaultSession) {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    let g = s.add_group("Work").unwrap();
    let mut entries = Vec::new();
    for i in 0..n {
        let mut e = totp(
            &format!("Service {i}"),
            &format!("user{i}@example.com"),
            "AAAA",
        );
        e.secret = twofold_core::Secret::from_bytes(
            (0..20).map(|j| (i * 31 + j) as u8).collect::<Vec<u8>>(),
        )
        .unwrap();
        if i % 3 == 0 {
            e.group_ids = vec![g.id];
        }
        entries.push(e);
    }
    s.add_entries(entries).unwrap();
    (dir, s)
}

fn payload(s: &twofold_core::vault::VaultSession) -> TransferPayload {
    let entries = s.entries().unwrap();
    let refs: Vec<&Entry> = entries.iter().collect();
    TransferPayload::from_entries(&refs, &s.groups().unwrap(), 1_700_000_000_000)
}

fn pair(n: usize) -> (TransferReceiver, TransferSender, TransferPayload) {
    let rng = SystemRandom::new();
    let (_dir, s) = vault_with(n);
    let receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
    let invite = Invite::parse(&receiver.invite().to_text(), NOW + 1).unwrap();
    let p = payload(&s);
    let sender = TransferSender::new(
        invite,
        &p,
        frames::bytes_for_qr_version(frames::DEFAULT_QR_VERSION),
        &rng,
    )
    .unwrap();
    (receiver, sender, p)
}

/// xorshift for reproducible loss patterns.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Feeds frames with `loss` dropped, shuffled in windows of 8, every 5th duplicated. Returns the
/// frames shown until completion.
fn transmit(receiver: &mut TransferReceiver, sender: &TransferSender, loss: f64, seed: u64) -> u64 {
    let mut rng = Lcg(seed | 1);
    let mut n = 0u64;
    loop {
        let mut window: Vec<String> = (n..n + 8).map(|i| sender.frame(i)).collect();
        n += 8;
        for i in (1..window.len()).rev() {
            window.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        for (k, f) in window.iter().enumerate() {
            if (rng.next() % 10_000) as f64 / 10_000.0 < loss {
                continue;
            }
            let times = if k % 5 == 0 { 2 } else { 1 };
            for _ in 0..times {
                if receiver.receive_frame(f, NOW + 2).unwrap().complete {
                    return n;
                }
            }
        }
        assert!(n < 100_000, "never completed");
    }
}

#[test]
fn round_trips_at_0_to_50_percent_loss_with_reordering_and_duplicates() {
    for (loss, accounts) in [(0.0, 1), (0.0, 120), (0.2, 120), (0.3, 40), (0.5, 120)] {
        let (mut receiver, sender, sent) = pair(accounts);
        let shown = transmit(&mut receiver, &sender, loss, 42 + accounts as u64);
        assert_eq!(
            receiver.confirmation_code(),
            Some(sender.confirmation_code()),
            "loss {loss}"
        );
        assert_eq!(receiver.confirmation_code().unwrap().len(), 6);
        let preview = receiver.preview().unwrap();
        assert_eq!(preview.len(), accounts);
        assert!(
            shown as usize >= sender.source_frames(),
            "cannot finish with fewer frames than source symbols"
        );
        let accepted = receiver.accept().unwrap();
        for (got, want) in accepted.iter().zip(&sent.entries) {
            assert_eq!(
                (&got.secret, &got.issuer, &got.groups, got.kind),
                (&want.secret, &want.issuer, &want.groups, want.kind)
            );
        }
    }
}

#[test]
fn accepted_accounts_go_into_the_new_vault_with_duplicates_reported() {
    let (mut receiver, sender, _) = pair(5);
    transmit(&mut receiver, &sender, 0.0, 1);
    let dir = tempfile::tempdir().unwrap();
    let (new_vault, _) = create(&dir.path().join("new"));
    let accepted = receiver.accept().unwrap();
    new_vault
        .add_entry(interop_entry(&accepted[0]), false)
        .unwrap();
    let outcome = interop::add_to_vault(&new_vault, accepted).unwrap();
    assert_eq!((outcome.added.len(), outcome.duplicates.len()), (4, 1));
    assert_eq!(new_vault.groups().unwrap()[0].name, "Work");
}

fn interop_entry(e: &interop::ImportedEntry) -> twofold_core::vault::NewEntry {
    twofold_core::vault::NewEntry {
        kind: e.kind,
        secret: e.secret.clone(),
        issuer: e.issuer.clone(),
        account: e.account.clone(),
        note: String::new(),
        group_ids: vec![],
        favorite: false,
        icon: None,
    }
}

#[test]
fn nothing_is_available_before_completion_and_accept() {
    let (mut receiver, sender, _) = pair(30);
    let p = receiver.receive_frame(&sender.frame(0), NOW).unwrap();
    assert!(!p.complete);
    assert_eq!(p.received, 1);
    assert!(p.needed >= 2);
    assert!(receiver.confirmation_code().is_none());
    assert!(receiver.preview().is_none());
    assert_eq!(receiver.accept().unwrap_err(), TransferError::Incomplete);
}

#[test]
fn every_rejection_case() {
    let rng = SystemRandom::new();
    let (mut receiver, sender, p) = pair(20);
    let invite_text = receiver.invite().to_text();

    // Expired invites: at the sender when scanning, at the receiver when frames arrive late.
    assert_eq!(
        Invite::parse(&invite_text, NOW + 301).unwrap_err(),
        TransferError::Expired
    );
    assert_eq!(
        receiver
            .receive_frame(&sender.frame(0), NOW + 300)
            .unwrap_err(),
        TransferError::Expired
    );
    // Malformed invites.
    assert!(matches!(
        Invite::parse("OTPX1I%%%", NOW),
        Err(TransferError::InvalidInvite(_))
    ));
    assert!(matches!(
        Invite::parse("otpauth://totp/x?secret=AAAA", NOW),
        Err(TransferError::InvalidInvite(_))
    ));
    let truncated = &invite_text[..invite_text.len() - 6];
    assert!(matches!(
        Invite::parse(truncated, NOW),
        Err(TransferError::InvalidInvite(_))
    ));

    // Frames of another session (e.g. replayed from an earlier transfer).
    let (_, other_sender, _) = pair(3);
    assert_eq!(
        receiver
            .receive_frame(&other_sender.frame(0), NOW)
            .unwrap_err(),
        TransferError::WrongSession
    );

    // A tampered frame: one bit of the symbol flipped, re-encoded as valid Base45.
    let (_, mut bytes) = frames::parse(&sender.frame(1)).unwrap();
    bytes[40] ^= 1;
    let tampered = format!("{}{}", frames::FRAME_PREFIX, base45::encode(&bytes));
    assert_eq!(
        receiver.receive_frame(&tampered, NOW).unwrap_err(),
        TransferError::TamperedFrame
    );
    assert_eq!(
        receiver.receive_frame("OTPX1Fgarbage", NOW).unwrap_err(),
        TransferError::NotAFrame
    );
    assert_eq!(
        receiver.receive_frame("hello", NOW).unwrap_err(),
        TransferError::NotAFrame
    );

    // A second sender for the same invite is refused once the first one is locked in.
    receiver.receive_frame(&sender.frame(0), NOW).unwrap();
    let invite = Invite::parse(&invite_text, NOW).unwrap();
    let second = TransferSender::new(invite, &p, 400, &rng).unwrap();
    assert_eq!(
        receiver.receive_frame(&second.frame(0), NOW).unwrap_err(),
        TransferError::SecondSender
    );
    // Duplicates of accepted frames are harmless.
    let before = receiver.progress();
    receiver.receive_frame(&sender.frame(0), NOW).unwrap();
    assert_eq!(receiver.progress(), before);

    // An oversized claim, correctly authenticated, is refused before any allocation.
    let invite = Invite::parse(&invite_text, NOW).unwrap();
    let key = frames::frame_key(
        &invite.to_bytes()[49..81].try_into().unwrap(),
        &invite.session_id,
    );
    let mut collector = FrameCollector::new(invite.session_id, key);
    let (_, mut bytes) = frames::parse(&sender.frame(2)).unwrap();
    bytes[19..25].copy_from_slice(&[0x40, 0, 0, 0, 0, 0]); // transfer length 2^46
    let len = bytes.len();
    let body = bytes[..len - 8].to_vec();
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key), &body);
    bytes[len - 8..].copy_from_slice(&tag.as_ref()[..8]);
    let forged = format!("{}{}", frames::FRAME_PREFIX, base45::encode(&bytes));
    assert!(matches!(
        collector.add(&forged),
        Err(TransferError::Oversized(_))
    ));

    // A blob that does not decrypt (LAN path): rejected, nothing opened.
    let mut fresh = TransferReceiver::new(NOW, 60, None, &rng).unwrap();
    let mut blob = sender.blob().to_vec();
    assert_eq!(
        fresh.receive_blob(&blob, NOW).unwrap_err(),
        TransferError::Decryption,
        "sealed for another receiver"
    );
    let (mut r2, s2, _) = pair(2);
    blob = s2.blob().to_vec();
    let last = blob.len() - 1;
    blob[last] ^= 1;
    assert_eq!(
        r2.receive_blob(&blob, NOW).unwrap_err(),
        TransferError::Decryption
    );
    assert!(r2.confirmation_code().is_none());
}

#[test]
fn receiver_state_survives_a_file_and_invites_are_bounded() {
    let rng = SystemRandom::new();
    let receiver = TransferReceiver::new(NOW, 10_000, Some("127.0.0.1:4545".into()), &rng).unwrap();
    assert_eq!(
        receiver.expires_at(),
        NOW + 600,
        "invites live at most 10 minutes"
    );
    let restored = TransferReceiver::from_state_bytes(&receiver.state_bytes()).unwrap();
    assert_eq!(restored.invite().to_text(), receiver.invite().to_text());
    assert_eq!(
        Invite::parse(&receiver.invite().to_text(), NOW)
            .unwrap()
            .lan
            .as_deref(),
        Some("127.0.0.1:4545")
    );
    assert!(TransferReceiver::from_state_bytes(b"nonsense").is_err());
    assert!(
        !format!("{:?}", receiver.invite()).contains("psk"),
        "Debug hides the PSK"
    );
}

#[test]
fn frames_as_qr_images_decode_with_our_decoder_and_zbarimg() {
    let (mut receiver, sender, _) = pair(10);
    let dir = tempfile::tempdir().unwrap();
    let invite = receiver.invite().to_text();
    let m = qr::encode(&invite, qr::EcLevel::M).unwrap();
    assert!(m.size <= 57, "an invite fits a small code");
    let mut n = 0;
    while !receiver.progress().complete {
        let text = sender.frame(n);
        let matrix = qr::encode(&text, qr::EcLevel::M).unwrap();
        assert!(
            matrix.size <= 17 + 4 * frames::DEFAULT_QR_VERSION as usize,
            "frame {n} ({} chars) needs {} modules",
            text.len(),
            matrix.size
        );
        let png = matrix.to_png(4);
        let decoded = qr::decode_image(&png).unwrap().unwrap();
        assert_eq!(decoded, text);
        if n < 3 {
            let file = dir.path().join(format!("frame-{n}.png"));
            std::fs::write(&file, &png).unwrap();
            let out = Command::new("zbarimg")
                .args(["--quiet", "--raw"])
                .arg(&file)
                .output()
                .expect("zbarimg");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                text,
                "zbarimg on frame {n}"
            );
        }
        receiver.receive_frame(&decoded, NOW).unwrap();
        n += 1;
    }
    assert_eq!(
        receiver.confirmation_code(),
        Some(sender.confirmation_code())
    );
}

#[test]
fn lan_transfer_on_loopback_with_timeout_and_wrong_peer() {
    let rng = SystemRandom::new();
    // The real thing: the sender connects to the invite's address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut receiver = TransferReceiver::new(NOW, 300, Some(addr), &rng).unwrap();
    let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
    let (_dir, s) = vault_with(500);
    let sender = TransferSender::new(invite.clone(), &payload(&s), 500, &rng).unwrap();
    let blob = sender.blob().to_vec();
    let t = std::thread::spawn(move || lan::send(&invite, &blob, Duration::from_secs(5)));
    lan::receive(listener, &mut receiver, Duration::from_secs(5), NOW).unwrap();
    t.join().unwrap().unwrap();
    assert_eq!(
        receiver.confirmation_code(),
        Some(sender.confirmation_code())
    );
    assert_eq!(receiver.preview().unwrap().len(), 500);

    // Nobody connects: a timeout, not a hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut idle = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
    assert_eq!(
        lan::receive(listener, &mut idle, Duration::from_millis(300), NOW).unwrap_err(),
        TransferError::Timeout
    );

    // A wrong peer (another session, or not our protocol) is refused.
    for garbage in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        [
            b"OTPX1L".as_slice(),
            &[9u8; 8],
            &4u32.to_be_bytes(),
            b"abcd",
        ]
        .concat(),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let t = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(&garbage).unwrap();
            let mut answer = [0u8; 1];
            c.read_exact(&mut answer).map(|_| answer[0])
        });
        let err = lan::receive(listener, &mut r, Duration::from_secs(5), NOW).unwrap_err();
        assert!(
            matches!(err, TransferError::NotAFrame | TransferError::WrongSession),
            "{err:?}"
        );
        assert_eq!(t.join().unwrap().unwrap(), b'R');
        // The listener accepted exactly one connection and is closed now.
        assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fountain_layer_decodes_any_large_enough_subset(
        len in 33usize..6000,
        frame_bytes in 120usize..700,
        seed in any::<u64>(),
        loss in 0.0f64..0.6,
    ) {
        let rng = SystemRandom::new();
        let receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
        let mut blob = vec![0u8; len];
        rng.fill(&mut blob).unwrap();
        let stream = FrameStream::new(&blob, &invite, frame_bytes).unwrap();
        let key = frames::frame_key(&invite.to_bytes()[49..81].try_into().unwrap(), &invite.session_id);
        let mut collector = FrameCollector::new(invite.session_id, key);
        let mut lcg = Lcg(seed | 1);
        let mut got = None;
        for n in 0..(stream.source_symbols() as u64 * 4 + 40) {
            if (lcg.next() % 1000) as f64 / 1000.0 < loss {
                continue;
            }
            if let Some(b) = collector.add(&stream.frame(n)).unwrap() {
                got = Some(b);
                break;
            }
        }
        prop_assert_eq!(got, Some(blob));
    }
}

#[test]
fn steam_and_hotp_survive_the_trip() {
    let rng = SystemRandom::new();
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    s.add_entry(
        entry("otpauth://steam/Steam:g?secret=JBSWY3DPEHPK3PXP"),
        false,
    )
    .unwrap();
    s.add_entry(
        entry("otpauth://hotp/B:b?secret=GEZDGNBVGY3TQOJQ&counter=77"),
        false,
    )
    .unwrap();
    let mut receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
    let sender = TransferSender::new(
        Invite::parse(&receiver.invite().to_text(), NOW).unwrap(),
        &payload(&s),
        300,
        &rng,
    )
    .unwrap();
    transmit(&mut receiver, &sender, 0.1, 9);
    let got = receiver.accept().unwrap();
    assert_eq!(got[0].kind, OtpKind::Steam);
    assert!(matches!(got[1].kind, OtpKind::Hotp { counter: 77, .. }));
}
