//! Transfer measurements for docs/performance.md (section `transfer`), all from one run:
//!
//! 1. payload bytes per account: OTPX/1's named MessagePack against the OTPX/2 compact
//!    encoding without and with compression;
//! 2. the QR version / error-correction choice: bytes per frame, frames for 100 accounts at
//!    20 % loss, and how many 1280×720 camera-like pictures of a frame our decoder and zbarimg
//!    read;
//! 3. frames shown until the receiver completes and the scanning time at 6 frames/s for 10,
//!    100 and 500 accounts at 0 %, 20 % and 40 % loss (30 random-loss trials each, median);
//! 4. seal and open times;
//! 5. Google Authenticator's plaintext migration QR codes for the same accounts.
//!
//! Prints the Markdown section. Needs `zbarimg` (Debian zbar-tools) for table 2.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::time::Instant;

use serde::Serialize;
use twofold_core::Secret;
use twofold_core::crypto::{RandomSource, SystemRandom};
use twofold_core::interop::{ImportedEntry, google};
use twofold_core::otp::OtpKind;
use twofold_core::qr::{self, EcLevel};
use twofold_core::transfer::{
    Invite, TransferEntry, TransferPayload, TransferReceiver, TransferSender, frames, payload,
};
use twofold_core::vault::model::{Entry, Id};

const NOW: u64 = 1_700_000_000;
const FPS: f64 = 6.0;

const ISSUERS: [&str; 40] = [
    "GitHub",
    "Google",
    "Microsoft",
    "Amazon Web Services",
    "Dropbox",
    "Slack",
    "Discord",
    "Twitter",
    "Facebook",
    "Instagram",
    "Reddit",
    "Steam",
    "Epic Games",
    "PayPal",
    "Coinbase",
    "Binance",
    "Kraken",
    "Cloudflare",
    "DigitalOcean",
    "GitLab",
    "Bitbucket",
    "Atlassian",
    "Okta",
    "Salesforce",
    "Stripe",
    "Twitch",
    "Nintendo",
    "Sony",
    "Ubisoft",
    "Proton",
    "Tutanota",
    "Fastmail",
    "npm",
    "PyPI",
    "Docker Hub",
    "Heroku",
    "Linode",
    "Hetzner",
    "Namecheap",
    "Bank of Example",
];
const NAMES: [&str; 12] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "trent",
];
const DOMAINS: [&str; 5] = [
    "gmail.com",
    "outlook.com",
    "example.org",
    "proton.me",
    "corp.example.com",
];

/// `n` accounts as a real vault holds them: random 160-bit secrets, a few dozen well-known
/// issuers with numbered extras, varied account names.
fn accounts(n: usize) -> Vec<TransferEntry> {
    let rng = SystemRandom::new();
    (0..n)
        .map(|i| {
            let mut secret = vec![0u8; 20];
            rng.fill(&mut secret).unwrap();
            let issuer = if i < ISSUERS.len() || i % 2 == 0 {
                ISSUERS[i % ISSUERS.len()].to_owned()
            } else {
                format!("{} {}", ISSUERS[i % ISSUERS.len()], i / ISSUERS.len())
            };
            TransferEntry {
                kind: if i % 25 == 24 {
                    OtpKind::Steam
                } else {
                    OtpKind::DEFAULT_TOTP
                },
                secret: Secret::from_bytes(secret).unwrap(),
                issuer,
                account: format!(
                    "{}{}@{}",
                    NAMES[i % NAMES.len()],
                    (i * 37) % 1000,
                    DOMAINS[(i / 3) % DOMAINS.len()]
                ),
                note: String::new(),
                favorite: i % 10 == 0,
                groups: if i % 3 == 0 {
                    vec!["Work".into()]
                } else {
                    vec![]
                },
                recovery_codes: Vec::new(),
            }
        })
        .collect()
}

fn payload_of(n: usize) -> TransferPayload {
    TransferPayload {
        version: 2,
        created_at: 1_700_000_000_000,
        entries: accounts(n),
    }
}

/// OTPX/1's plaintext: named-field MessagePack of the same accounts.
#[derive(Serialize)]
struct Otpx1Payload<'a> {
    version: u8,
    created_at: i64,
    entries: &'a [ImportedEntry],
}

fn entries(p: &TransferPayload) -> Vec<Entry> {
    p.entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Entry::new(
                Id::from_random([i as u8; 16]),
                e.kind,
                e.secret.clone(),
                e.issuer.clone(),
                e.account.clone(),
                0,
                i as i64,
            )
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Frames shown until completion, median of `trials` random-loss runs.
fn frames_shown(p: &TransferPayload, frame_bytes: usize, loss: f64, trials: u64) -> (f64, usize) {
    let rng = SystemRandom::new();
    let mut shown = Vec::new();
    let mut source = 0;
    for trial in 0..trials {
        let mut receiver = TransferReceiver::new(NOW, 600, None, &rng).unwrap();
        let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
        let sender = TransferSender::new(invite, p, frame_bytes, &rng).unwrap();
        source = sender.source_frames();
        let mut state = (trial + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut k = 0u64;
        loop {
            let frame = sender.frame(k);
            k += 1;
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if ((state % 10_000) as f64) < loss * 10_000.0 {
                continue;
            }
            if receiver.receive_frame(&frame, NOW).unwrap().complete {
                break;
            }
        }
        shown.push(k as f64);
    }
    (median(shown), source)
}

fn zbar_reads(png: &[u8], dir: &std::path::Path) -> Option<String> {
    let file = dir.join("pic.png");
    std::fs::write(&file, png).ok()?;
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&file)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn level_name(l: EcLevel) -> &'static str {
    match l {
        EcLevel::L => "L",
        EcLevel::M => "M",
        EcLevel::Q => "Q",
        EcLevel::H => "H",
    }
}

fn main() {
    let rng = SystemRandom::new();
    let dir = tempfile_dir();

    // 1. Payload encoding.
    let mut payload_rows = Vec::new();
    for n in [10usize, 100, 500] {
        let p = payload_of(n);
        let old = rmp_serde::to_vec_named(&Otpx1Payload {
            version: 1,
            created_at: p.created_at,
            entries: &p.entries,
        })
        .unwrap()
        .len();
        let compact = payload::encode_with(&p, false).len();
        let packed = payload::encode(&p).len();
        payload_rows.push(format!(
            "| {n} | {old} B ({:.0} B/account) | {compact} B ({:.0} B/account) | {packed} B ({:.0} B/account) |",
            old as f64 / n as f64,
            compact as f64 / n as f64,
            packed as f64 / n as f64
        ));
    }

    // 2. QR version and error-correction level.
    let hundred = payload_of(100);
    let mut qr_rows = Vec::new();
    for (version, level) in [
        (10, EcLevel::M),
        (15, EcLevel::M),
        (15, EcLevel::L),
        (20, EcLevel::M),
        (20, EcLevel::L),
        (25, EcLevel::M),
        (25, EcLevel::L),
        (30, EcLevel::L),
    ] {
        let frame_bytes = frames::bytes_for_qr(version, level);
        let (shown, source) = frames_shown(&hundred, frame_bytes, 0.2, 15);
        let receiver = TransferReceiver::new(NOW, 600, None, &rng).unwrap();
        let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
        let sender = TransferSender::new(invite, &hundred, frame_bytes, &rng).unwrap();
        let (mut ours, mut zbar, mut pictures) = (0, 0, 0);
        for (k, fill) in [0.5f32, 0.6, 0.7, 0.85].into_iter().enumerate() {
            for seed in 0..6u64 {
                let text = sender.frame(seed);
                let matrix = qr::encode(&text, level).unwrap();
                let luma = matrix.camera_picture(fill, seed * 7 + k as u64 + 1);
                pictures += 1;
                let read = qr::decode_luma(qr::LumaFrame {
                    width: 1280,
                    height: 720,
                    row_stride: 1280,
                    data: &luma,
                })
                .ok()
                .flatten();
                if read.as_deref() == Some(text.as_str()) {
                    ours += 1;
                }
                if zbar_reads(&qr::luma_png(1280, 720, &luma), &dir).as_deref()
                    == Some(text.as_str())
                {
                    zbar += 1;
                }
            }
        }
        qr_rows.push(format!(
            "| {version}-{} | {} | {frame_bytes} B | {source} | {shown:.0} frames · {:.1} s | {ours}/{pictures} | {zbar}/{pictures} |",
            level_name(level),
            17 + 4 * version,
            shown / FPS
        ));
    }

    // 3–5. The chosen default.
    let frame_bytes = frames::default_frame_bytes();
    let mut rows = Vec::new();
    let mut timing = Vec::new();
    let mut google_rows = Vec::new();
    for n in [10usize, 100, 500] {
        let p = payload_of(n);
        let mut cells = Vec::new();
        let mut source = 0;
        for loss in [0.0f64, 0.2, 0.4] {
            let (shown, s) = frames_shown(&p, frame_bytes, loss, 30);
            source = s;
            cells.push(format!("{shown:.0} frames · {:.1} s", shown / FPS));
        }
        rows.push(format!("| {n} | {source} | {} |", cells.join(" | ")));
        let mut seal_ms = Vec::new();
        let mut open_ms = Vec::new();
        for _ in 0..10 {
            let mut receiver = TransferReceiver::new(NOW, 600, None, &rng).unwrap();
            let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
            let t = Instant::now();
            let sender = TransferSender::new(invite, &p, frame_bytes, &rng).unwrap();
            seal_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            receiver.receive_blob(sender.blob(), NOW).unwrap();
            open_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        timing.push(format!(
            "| {n} | {:.2} ms | {:.2} ms |",
            median(seal_ms),
            median(open_ms)
        ));
        let list = entries(&p);
        let refs: Vec<&Entry> = list.iter().collect();
        let (uris, _) = google::export(&refs, 1);
        let versions: Vec<usize> = uris
            .iter()
            .map(|u| (qr::encode(u, EcLevel::M).unwrap().size - 17) / 4)
            .collect();
        let bytes: usize = uris.iter().map(String::len).sum();
        google_rows.push(format!(
            "| {n} | {} code{} (QR version {}–{}, {bytes} characters, secrets in plaintext), each scanned by hand | {source} source frames, sealed, any {source}+ of the stream |",
            uris.len(),
            if uris.len() == 1 { "" } else { "s" },
            versions.iter().min().unwrap(),
            versions.iter().max().unwrap()
        ));
    }
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap().trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "Command: `cargo run --release -p twofold-core --example transfer_bench` via `scripts/perf_report.py transfer`."
    );
    println!("Machine: {machine}.");
    println!();
    println!(
        "Accounts as a real vault holds them: random 160-bit secrets, 40 well-known issuers (every other account beyond the first 40 numbered), varied account names, a third in a group."
    );
    println!();
    println!("Plaintext per transfer (before HPKE adds 32 + 16 bytes):");
    println!();
    println!(
        "| accounts | OTPX/1 named MessagePack | OTPX/2 compact | OTPX/2 compact + deflate (sent) |"
    );
    println!("|---:|---:|---:|---:|");
    for r in payload_rows {
        println!("{r}");
    }
    println!();
    println!(
        "QR version and error-correction level of a frame: bytes per frame, frames for 100 accounts at 20 % loss (median of 15), and how many of 24 camera-like 1280×720 pictures (the code spanning 50 %, 60 %, 70 % and 85 % of the height, turned up to 4°, blurred, noisy, unevenly lit) each decoder read:"
    );
    println!();
    println!(
        "| version-level | modules | frame | source frames | 100 accounts, 20 % loss | our decoder | zbarimg |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in qr_rows {
        println!("{r}");
    }
    println!();
    println!(
        "Chosen default: version {}-{} ({frame_bytes} bytes per frame). Frames shown until the receiver completes, median of 30 random-loss trials, and the scanning time at 6 frames/s:",
        frames::DEFAULT_QR_VERSION,
        level_name(frames::DEFAULT_EC_LEVEL)
    );
    println!();
    println!("| accounts | source frames | 0 % loss | 20 % loss | 40 % loss |");
    println!("|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!();
    println!("| accounts | seal (encode + HPKE + fountain setup) | open (HPKE + parse) |");
    println!("|---:|---:|---:|");
    for r in timing {
        println!("{r}");
    }
    println!();
    println!(
        "Google Authenticator's migration QR codes for the same accounts, from the same run (at most 10 accounts per code):"
    );
    println!();
    println!("| accounts | Google migration | OTPX/2 |");
    println!("|---:|---|---|");
    for r in google_rows {
        println!("{r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let mut name = [0u8; 8];
    SystemRandom::new().fill(&mut name).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "twofold-bench-{}",
        name.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
