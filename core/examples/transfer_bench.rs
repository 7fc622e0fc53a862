//! Transfer measurements for docs/performance.md (section `transfer`): frames needed and
//! scanning time at 6 frames/s for 10, 100 and 500 accounts at 0 %, 20 % and 40 % loss
//! (random loss, 30 trials each), seal and open times, next to Google Authenticator's
//! migration codes for the same accounts. Prints the Markdown section.

use std::time::Instant;

use twofold_core::Secret;
use twofold_core::crypto::SystemRandom;
use twofold_core::interop::google;
use twofold_core::otp::OtpKind;
use twofold_core::qr;
use twofold_core::transfer::{
    Invite, TransferEntry, TransferPayload, TransferReceiver, TransferSender, frames,
};
use twofold_core::vault::model::{Entry, Id};

const NOW: u64 = 1_700_000_000;
const FPS: f64 = 6.0;

fn payload(n: usize) -> TransferPayload {
    TransferPayload {
        version: 1,
        created_at: 0,
        entries: (0..n)
            .map(|i| TransferEntry {
                kind: OtpKind::DEFAULT_TOTP,
                secret: Secret::from_bytes(
                    (0..20).map(|j| (i * 17 + j * 3) as u8).collect::<Vec<u8>>(),
                )
                .unwrap(),
                issuer: format!("Service {i}"),
                account: format!("user{i}@example.com"),
                note: String::new(),
                favorite: false,
                groups: vec![],
            })
            .collect(),
    }
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

fn main() {
    let rng = SystemRandom::new();
    let frame_bytes = frames::bytes_for_qr_version(frames::DEFAULT_QR_VERSION);
    let mut rows = Vec::new();
    let mut timing = Vec::new();
    let mut google_rows = Vec::new();
    for n in [10usize, 100, 500] {
        let p = payload(n);
        let mut seal_ms = Vec::new();
        let mut open_ms = Vec::new();
        let mut source = 0;
        let mut needed_by_loss = Vec::new();
        for loss in [0.0f64, 0.2, 0.4] {
            let mut shown = Vec::new();
            for trial in 0..30u64 {
                let mut receiver = TransferReceiver::new(NOW, 600, None, &rng).unwrap();
                let invite = Invite::parse(&receiver.invite().to_text(), NOW).unwrap();
                let t = Instant::now();
                let sender = TransferSender::new(invite, &p, frame_bytes, &rng).unwrap();
                seal_ms.push(t.elapsed().as_secs_f64() * 1e3);
                source = sender.source_frames();
                let mut state = (trial + 1) * 0x9e37_79b9_7f4a_7c15;
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
                    let t = Instant::now();
                    let done = receiver.receive_frame(&frame, NOW).unwrap().complete;
                    if done {
                        open_ms.push(t.elapsed().as_secs_f64() * 1e3);
                        break;
                    }
                }
                shown.push(k as f64);
            }
            needed_by_loss.push(median(shown));
        }
        let cells: Vec<String> = needed_by_loss
            .iter()
            .map(|f| format!("{f:.0} frames · {:.1} s", f / FPS))
            .collect();
        rows.push(format!("| {n} | {source} | {} |", cells.join(" | ")));
        timing.push(format!(
            "| {n} | {:.2} ms | {:.2} ms |",
            median(seal_ms),
            median(open_ms)
        ));
        let list = entries(&p);
        let refs: Vec<&Entry> = list.iter().collect();
        let (uris, _) = google::export(&refs, 1);
        let version = (qr::encode(&uris[0], qr::EcLevel::M).unwrap().size - 17) / 4;
        google_rows.push(format!("| {n} | {} codes (QR version {version}, plaintext secrets) | {source} frames at 0 % loss, sealed |", uris.len()));
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
        "Frames are sized for QR version {} ({frame_bytes} bytes each). Frames shown until the receiver completes, median of 30 random-loss trials, and the scanning time at 6 frames/s:",
        frames::DEFAULT_QR_VERSION
    );
    println!();
    println!("| accounts | source frames | 0 % loss | 20 % loss | 40 % loss |");
    println!("|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!();
    println!(
        "| accounts | seal (HPKE + fountain setup) | open (last frame: decode + HPKE + parse) |"
    );
    println!("|---:|---:|---:|");
    for r in timing {
        println!("{r}");
    }
    println!();
    println!(
        "Google Authenticator's migration QR codes for the same accounts (10 per code; each code is scanned by hand and carries the secrets in plaintext):"
    );
    println!();
    println!("| accounts | Google migration | OTPX/1 |");
    println!("|---:|---|---|");
    for r in google_rows {
        println!("{r}");
    }
}
