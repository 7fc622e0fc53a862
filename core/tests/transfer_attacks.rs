//! The confirmation code attacked the way the review did it: a man in the middle who sees
//! every QR code (invite, frames, reply) and can show his own grinds encapsulations or nonces
//! offline. With the code shortened to 1–2 digits through the test hook `code_with_digits`, his
//! success rate over many runs must be what guessing gives (1/10, 1/100), while the same
//! grinding against an OTPX/1-style code (fixed before any sender is locked) wins almost
//! always. Bounds are binomial tails far beyond 4 σ, so the tests do not flake.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use twofold_core::Secret;
use twofold_core::crypto::{RandomSource, SystemRandom};
use twofold_core::otp::OtpKind;
use twofold_core::transfer::{
    Invite, Reply, TransferEntry, TransferError, TransferPayload, TransferReceiver, TransferSender,
};

const NOW: u64 = 1_700_000_000;

fn payload(label: &str) -> TransferPayload {
    TransferPayload {
        version: 2,
        created_at: 0,
        entries: vec![TransferEntry {
            kind: OtpKind::DEFAULT_TOTP,
            secret: Secret::from_bytes(label.as_bytes().to_vec()).unwrap(),
            issuer: label.into(),
            account: "victim".into(),
            note: String::new(),
            favorite: false,
            groups: vec![],
            recovery_codes: Vec::new(),
        }],
    }
}

fn seal(invite_text: &str, label: &str, rng: &dyn RandomSource) -> TransferSender {
    let invite = Invite::parse(invite_text, NOW).unwrap();
    TransferSender::new(invite, &payload(label), 300, rng).unwrap()
}

/// Feeds all of a sender's frames (it is small: one or two source symbols suffice).
fn deliver(receiver: &mut TransferReceiver, sender: &TransferSender) {
    let mut n = 0;
    while !receiver.progress().complete {
        receiver.receive_frame(&sender.frame(n), NOW).unwrap();
        n += 1;
        assert!(n < 50);
    }
}

/// OTPX/1's weakness, reproduced: when the sender's code is fixed before the receiver locks
/// anyone (here: the code under a public all-zero nonce, known to everyone), the attacker
/// grinds his own sealings until one shows the sender's code, and wins almost every time.
#[test]
fn a_code_fixed_before_the_lock_is_ground_by_the_attacker() {
    let rng = SystemRandom::new();
    let public_nonce = [0u8; 16];
    let (runs, mut wins) = (20, 0);
    for _ in 0..runs {
        let receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let invite = receiver.invite().to_text();
        let honest = seal(&invite, "honest", &rng);
        let shown = honest.state().code_for_nonce(&public_nonce, 1);
        // 100 encapsulations: each matches with probability 1/10.
        let hit = (0..100).any(|_| {
            let mine = seal(&invite, "attacker", &rng);
            mine.state().code_for_nonce(&public_nonce, 1) == shown
        });
        wins += u32::from(hit);
    }
    eprintln!("OTPX/1-style code, 1 digit: the grinding attacker won {wins} of {runs}");
    // P(miss) = 0.9^100 ≈ 3·10⁻⁵ per run.
    assert!(
        wins >= runs - 1,
        "the grinding attacker won only {wins} of {runs}"
    );
}

/// OTPX/2, frames injected with the real invite: the attacker grinds as much as he likes, but
/// must fix his `enc` (the receiver locks the first sender) before the nonce is revealed, and
/// never learns the honest sender's exporter. He rewrites the reply to name the honest
/// sender (the honest sender would refuse a reply naming him). Success is guessing.
fn injection_success(digits: u32, runs: u32) -> u32 {
    let rng = SystemRandom::new();
    let mut wins = 0;
    for _ in 0..runs {
        let mut receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let invite = receiver.invite().to_text();
        let mut honest = seal(&invite, "honest", &rng);
        // Grind: 20 sealings, keep the one whose code under a guessed nonce matches the
        // honest sender's code under the same guess — the best an attacker can compute.
        let mut guess = [0u8; 16];
        rng.fill(&mut guess).unwrap();
        let mut best = seal(&invite, "attacker", &rng);
        for _ in 0..20 {
            let c = seal(&invite, "attacker", &rng);
            if c.state().code_for_nonce(&guess, digits)
                == best.state().code_for_nonce(&guess, digits)
            {
                best = c;
            }
        }
        // His frames reach the receiver first: it locks him, then reveals its nonce.
        deliver(&mut receiver, &best);
        let theirs = receiver.code_with_digits(digits).unwrap();
        let reply = receiver.reply().unwrap();
        assert_eq!(
            honest.accept_reply(&reply, NOW).unwrap_err(),
            TransferError::ReplyForAnotherSender,
            "the honest sender sees the lock went to someone else"
        );
        let rewritten = Reply::new(
            reply.session_tag,
            honest.state().sender_tag(),
            *reply.nonce(),
        );
        honest.accept_reply(&rewritten, NOW).unwrap();
        wins += u32::from(honest.code_with_digits(digits).unwrap() == theirs);
    }
    wins
}

#[test]
fn injected_frames_match_the_code_no_better_than_guessing() {
    // 1 digit, 1000 runs: guessing gives 100 (σ ≈ 9.5). P(X ≥ 150) and P(X ≤ 55) < 10⁻⁵.
    let wins = injection_success(1, 1000);
    eprintln!("injected frames, 1 digit: {wins} of 1000 (guessing: 100)");
    assert!((55..150).contains(&wins), "1 digit: {wins} of 1000");
    // 2 digits, 1000 runs: guessing gives 10 (σ ≈ 3.1). P(X ≥ 27) < 10⁻⁵.
    let wins = injection_success(2, 1000);
    eprintln!("injected frames, 2 digits: {wins} of 1000 (guessing: 10)");
    assert!(wins < 27, "2 digits: {wins} of 1000");
}

/// The full man in the middle: the old device scans the attacker's invite (he holds its
/// private key, so he learns the honest sender's exporter) and he relays to the real new
/// device. Without the nonce commitment he would grind his own nonce after seeing the new
/// device's code; the commitment in his invite makes the honest sender refuse any nonce but
/// the committed one, and with it the codes match no better than guessing.
#[test]
fn an_invite_substituting_attacker_cannot_grind_the_nonce() {
    let rng = SystemRandom::new();
    let digits = 1;
    let (runs, mut wins, mut offline_grinds) = (1000, 0, 0);
    for run in 0..runs {
        let mut receiver = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let real_invite = receiver.invite().to_text();
        // The attacker's own receiver session, whose invite the old device scans.
        let mut attacker_side = TransferReceiver::new(NOW, 300, None, &rng).unwrap();
        let mut honest = seal(&attacker_side.invite().to_text(), "honest", &rng);
        deliver(&mut attacker_side, &honest);
        // He re-seals to the real new device, which locks him and reveals its nonce.
        let relay = seal(&real_invite, "relayed", &rng);
        deliver(&mut receiver, &relay);
        let theirs = receiver.code_with_digits(digits).unwrap();
        // Offline grinding of his nonce (what OTPX/2 without the commitment would allow).
        let mut ground = None;
        for _ in 0..200 {
            let mut n = [0u8; 16];
            rng.fill(&mut n).unwrap();
            if attacker_side.code_for_nonce(&n, digits).unwrap() == theirs {
                ground = Some(n);
                break;
            }
        }
        if let Some(n) = ground {
            offline_grinds += 1;
            let reply = attacker_side.reply().unwrap();
            let forged = Reply::new(reply.session_tag, reply.sender_tag, n);
            if run < 20 {
                assert_eq!(
                    honest.accept_reply(&forged, NOW).unwrap_err(),
                    TransferError::TamperedReply,
                    "a ground nonce does not open the commitment"
                );
            }
        }
        // So he must send his committed nonce.
        honest
            .accept_reply(&attacker_side.reply().unwrap(), NOW)
            .unwrap();
        wins += u32::from(honest.code_with_digits(digits).unwrap() == theirs);
    }
    eprintln!(
        "invite substitution, 1 digit: offline grinding found a matching nonce in \
         {offline_grinds} of {runs} runs; with the commitment the codes matched in {wins} \
         (guessing: 100)"
    );
    // P(no hit in 200 tries) = 0.9^200 ≈ 7·10⁻¹⁰ per run.
    assert!(
        offline_grinds >= runs - 1,
        "grinding works offline: {offline_grinds}"
    );
    assert!((55..150).contains(&wins), "{wins} of {runs}");
}
