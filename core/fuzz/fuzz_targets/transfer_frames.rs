#![no_main]
//! A receiver fed whole sets of crafted frames. The fuzzer builds each frame from structured
//! fields — coding parameters (mostly plausible, sometimes wild), payload ids, symbols, version,
//! session and sender tags — and the target authenticates it with the session's real frame key,
//! so hostile frames reach the parameter checks and the fountain decoder, mixed with genuine
//! frames of an honest sender. Nothing may panic; a completed transfer must open and answer.
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use twofold_core::crypto::{CryptoError, RandomSource};
use twofold_core::transfer::{
    Invite, Reply, TransferEntry, TransferPayload, TransferReceiver, TransferSender, frames,
};

const NOW: u64 = 1_700_000_000;

struct Counter(std::sync::atomic::AtomicU64);

impl RandomSource for Counter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(32) {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let d = ring::digest::digest(&ring::digest::SHA256, &n.to_be_bytes());
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

struct Fixture {
    state: Vec<u8>,
    invite: Invite,
    honest: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rng = Counter(0.into());
        let receiver = TransferReceiver::new(NOW, 600, None, &rng).unwrap();
        let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
        let payload = TransferPayload {
            version: 2,
            created_at: 0,
            entries: (0..40)
                .map(|i| TransferEntry {
                    kind: twofold_core::OtpKind::DEFAULT_TOTP,
                    secret: twofold_core::Secret::from_bytes(vec![i as u8 + 1; 20]).unwrap(),
                    issuer: format!("Issuer {i}"),
                    account: format!("user{i}"),
                    note: String::new(),
                    favorite: false,
                    groups: vec![],
                    recovery_codes: vec![],
                })
                .collect(),
        };
        let sender = TransferSender::new(invite.clone(), &payload, 200, &rng).unwrap();
        let honest = (0..40).map(|n| sender.frame(n)).collect();
        Fixture {
            state: receiver.state_bytes().to_vec(),
            invite,
            honest,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Length {
    Small(u16),
    Wild(u64),
}

#[derive(Arbitrary, Debug)]
struct Crafted {
    length: Length,
    symbol_size: u16,
    plausible_symbol: bool,
    blocks: u8,
    sub_blocks: u16,
    alignment: u8,
    block: u8,
    symbol_id: u32,
    fill: Vec<u8>,
    exact_symbol_length: bool,
    version: u8,
    right_session: bool,
    sender: u8,
    authentic: bool,
}

#[derive(Arbitrary, Debug)]
enum Step {
    Honest(u8),
    Crafted(Crafted),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    steps: Vec<Step>,
    reply: String,
}

fn build(f: &Fixture, c: &Crafted) -> String {
    let t = if c.plausible_symbol {
        64 * (1 + c.symbol_size % 64)
    } else {
        c.symbol_size
    };
    let len = match c.length {
        Length::Small(l) => u64::from(l),
        Length::Wild(l) => l & 0xff_ffff_ffff,
    };
    let mut b = b"OX".to_vec();
    b.push(if c.version.is_multiple_of(8) {
        c.version
    } else {
        2
    });
    if c.right_session {
        b.extend_from_slice(&f.invite.session_id[..8]);
    } else {
        b.extend_from_slice(&[c.sender; 8]);
    }
    b.extend_from_slice(&[c.sender % 3; 8]);
    let l = len.to_be_bytes();
    let ts = t.to_be_bytes();
    let n = c.sub_blocks.to_be_bytes();
    b.extend_from_slice(&[
        l[3], l[4], l[5], l[6], l[7], 0, ts[0], ts[1], c.blocks, n[0], n[1],
    ]);
    b.push(c.alignment);
    b.push(c.block);
    b.extend_from_slice(&(c.symbol_id & 0xff_ffff).to_be_bytes()[1..]);
    let sym_len = if c.exact_symbol_length {
        usize::from(t).min(4096)
    } else {
        c.fill.len().min(4096)
    };
    for i in 0..sym_len {
        b.push(c.fill.get(i % c.fill.len().max(1)).copied().unwrap_or(0));
    }
    b.extend_from_slice(&[0; 8]);
    if c.authentic {
        let key = frames::frame_key(f.invite.psk(), &f.invite.session_id);
        frames::seal_frame_bytes(&key, &mut b);
    }
    format!("{}{}", frames::FRAME_PREFIX, base45::encode(&b))
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let mut receiver = TransferReceiver::from_state_bytes(&f.state).unwrap();
    for step in input.steps.iter().take(64) {
        let text = match step {
            Step::Honest(n) => f.honest[usize::from(*n) % f.honest.len()].clone(),
            Step::Crafted(c) => build(f, c),
            Step::Text(t) => t.clone(),
        };
        let _ = receiver.receive_frame(&text, NOW + 1);
        let _ = receiver.progress();
    }
    let _ = Reply::parse(&input.reply);
    let _ = Invite::parse(&input.reply, NOW);
    if receiver.progress().complete {
        let reply = receiver.reply().expect("a complete transfer has a reply");
        assert!(Reply::parse(&reply.to_text()).is_ok());
        assert!(receiver.confirmation_code().is_some());
        let n = receiver.preview().map(<[_]>::len);
        let restored = TransferReceiver::from_state_bytes(&receiver.state_bytes()).unwrap();
        assert_eq!(restored.reply(), Some(reply));
        assert_eq!(receiver.accept().ok().map(|a| a.len()), n);
    }
});
