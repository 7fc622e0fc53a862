//! `twofold transfer invite|send|receive`: OTPX/1 between two vaults, scriptable on one
//! machine (frames as PNG files and text) or over the LAN.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use twofold_core::qr;
use twofold_core::transfer::{
    Invite, TransferError, TransferPayload, TransferReceiver, TransferSender, frames, lan,
};
use twofold_core::vault::Entry;

use crate::context::{Global, resolve, vault_error, write_private};
use crate::error::{CliError, CliResult};

#[derive(Subcommand)]
pub enum TransferCommand {
    /// On the NEW device: start a session and show the invite (text, terminal QR, --png).
    Invite(InviteArgs),
    /// On the OLD device: seal accounts for an invite and show or write the frames.
    Send(SendArgs),
    /// On the NEW device: collect the frames (or the LAN transfer), show the code and preview;
    /// with --accept, add the accounts.
    Receive(ReceiveArgs),
}

#[derive(Args)]
pub struct InviteArgs {
    /// Where to keep the session's secret state (written with mode 0600).
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// Also receive over the LAN on this address (host:port).
    #[arg(long, value_name = "ADDR:PORT")]
    lan: Option<String>,
    /// Write the invite QR code as a PNG.
    #[arg(long, value_name = "PATH")]
    png: Option<PathBuf>,
    /// Seconds the invite stays valid (at most 600).
    #[arg(long, default_value_t = 600)]
    ttl: u64,
}

#[derive(Args)]
pub struct SendArgs {
    /// The invite: its text, or an image of its QR code.
    #[arg(long)]
    invite: String,
    /// Only these entries (ids, id prefixes, issuers); default: every account.
    #[arg(long, num_args = 1..)]
    ids: Vec<String>,
    /// Write frames as PNG files plus frames.txt into this folder.
    #[arg(long, value_name = "DIR", conflicts_with = "lan")]
    frames_dir: Option<PathBuf>,
    /// How many frames to write (default: twice what a lossless receiver needs, plus 10).
    #[arg(long, requires = "frames_dir")]
    count: Option<u64>,
    /// Send over TCP to the invite's LAN address instead of showing frames.
    #[arg(long)]
    lan: bool,
    /// QR version of the frames (larger: fewer frames, harder to scan).
    #[arg(long, default_value_t = frames::DEFAULT_QR_VERSION, value_parser = clap::value_parser!(i16).range(5..=30))]
    qr_version: i16,
}

#[derive(Args)]
pub struct ReceiveArgs {
    /// The session file written by `transfer invite`.
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// A folder of frame images, an image, or a text file with one frame per line.
    #[arg(
        long,
        value_name = "DIR_OR_FILE",
        conflicts_with = "lan",
        required_unless_present = "lan"
    )]
    frames: Option<PathBuf>,
    /// Wait for the sender on the invite's LAN address.
    #[arg(long)]
    lan: bool,
    /// Seconds to wait for a LAN sender.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Add the accounts (after you compared the confirmation code on both screens).
    #[arg(long)]
    accept: bool,
}

fn now_s() -> u64 {
    u64::try_from(super::now_ms() / 1000).unwrap_or(0)
}

fn transfer_error(e: TransferError) -> CliError {
    match e {
        TransferError::Network(_) | TransferError::Timeout => CliError::failed(e),
        other => CliError::invalid(other),
    }
}

pub fn run(g: &Global, command: &TransferCommand) -> CliResult {
    match command {
        TransferCommand::Invite(a) => invite(a),
        TransferCommand::Send(a) => send(g, a),
        TransferCommand::Receive(a) => receive(g, a),
    }
}

fn invite(args: &InviteArgs) -> CliResult {
    let rng = twofold_core::crypto::SystemRandom::new();
    let receiver =
        TransferReceiver::new(now_s(), args.ttl, args.lan.clone(), &rng).map_err(transfer_error)?;
    write_private(&args.session, &receiver.state_bytes())?;
    let text = receiver.invite().to_text();
    let matrix = qr::encode(&text, qr::EcLevel::M).map_err(CliError::failed)?;
    if let Some(png) = &args.png {
        std::fs::write(png, matrix.to_png(6))
            .map_err(|e| CliError::failed(format!("{}: {e}", png.display())))?;
    }
    print!("{}", matrix.to_terminal());
    println!("{text}");
    eprintln!(
        "Invite valid until {}. Scan it on the old device (`twofold transfer send --invite …`).",
        twofold_core::time::format_utc(receiver.expires_at() as i64 * 1000)
    );
    Ok(())
}

fn read_invite(arg: &str) -> CliResult<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| CliError::failed(format!("{arg}: {e}")))?;
        if let Ok(text) = std::str::from_utf8(&bytes)
            && text.trim().starts_with("OTPX1I")
        {
            return Ok(text.trim().to_owned());
        }
        return qr::decode_image(&bytes)
            .map_err(CliError::invalid)?
            .ok_or_else(|| CliError::invalid(format!("{arg}: no QR code found")));
    }
    Ok(arg.trim().to_owned())
}

fn send(g: &Global, args: &SendArgs) -> CliResult {
    let invite = Invite::parse(&read_invite(&args.invite)?, now_s()).map_err(transfer_error)?;
    let (session, _) = g.unlock()?;
    let all = session.entries().map_err(vault_error)?;
    let chosen: Vec<&Entry> = if args.ids.is_empty() {
        all.iter().collect()
    } else {
        args.ids
            .iter()
            .map(|q| resolve(&all, q))
            .collect::<CliResult<_>>()?
    };
    if chosen.is_empty() {
        return Err(CliError::invalid("no accounts to send"));
    }
    let payload = TransferPayload::from_entries(
        &chosen,
        &session.groups().map_err(vault_error)?,
        super::now_ms(),
    );
    let rng = twofold_core::crypto::SystemRandom::new();
    let sender = TransferSender::new(
        invite,
        &payload,
        frames::bytes_for_qr_version(args.qr_version),
        &rng,
    )
    .map_err(transfer_error)?;
    drop(payload);
    eprintln!(
        "Sending {} account{}.",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" }
    );
    println!("Confirmation code: {}", sender.confirmation_code());
    if args.lan {
        lan::send(sender.invite(), sender.blob(), Duration::from_secs(30))
            .map_err(transfer_error)?;
        println!(
            "Sent over the LAN; the new device accepted the data. Check that it shows the same code."
        );
        return Ok(());
    }
    match &args.frames_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
            let count = args.count.unwrap_or(sender.source_frames() as u64 * 2 + 10);
            let mut lines = String::new();
            for n in 0..count {
                let text = sender.frame(n);
                let png = qr::encode(&text, qr::EcLevel::M)
                    .map_err(CliError::failed)?
                    .to_png(4);
                std::fs::write(dir.join(format!("frame-{n:04}.png")), png)
                    .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
                lines.push_str(&text);
                lines.push('\n');
            }
            std::fs::write(dir.join("frames.txt"), lines)
                .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
            println!(
                "Wrote {count} frames to {} (a receiver needs about {}).",
                dir.display(),
                sender.source_frames()
            );
            Ok(())
        }
        None => animate(&sender),
    }
}

/// Full-screen animated QR frames at 6 per second until Esc, q or Ctrl-C.
fn animate(sender: &TransferSender) -> CliResult {
    use crossterm::event::{self, Event, KeyCode, KeyModifiers};
    use crossterm::{cursor, execute, terminal};
    let mut out = std::io::stdout();
    let term = |e: std::io::Error| CliError::failed(format!("terminal: {e}"));
    terminal::enable_raw_mode().map_err(term)?;
    execute!(out, terminal::EnterAlternateScreen, cursor::Hide).map_err(term)?;
    let result = (|| -> CliResult {
        let mut n = 0u64;
        loop {
            let matrix = qr::encode(&sender.frame(n), qr::EcLevel::M).map_err(CliError::failed)?;
            execute!(out, cursor::MoveTo(0, 0)).map_err(term)?;
            for line in matrix.to_terminal().lines() {
                write!(out, "{line}\r\n").map_err(term)?;
            }
            write!(
                out,
                "\r\nConfirmation code: {}   frame {n}   (Esc to stop)\r\n",
                sender.confirmation_code()
            )
            .map_err(term)?;
            out.flush().map_err(term)?;
            n += 1;
            if event::poll(Duration::from_millis(166)).map_err(term)?
                && let Event::Key(k) = event::read().map_err(term)?
                && (matches!(k.code, KeyCode::Esc | KeyCode::Char('q'))
                    || (k.code == KeyCode::Char('c')
                        && k.modifiers.contains(KeyModifiers::CONTROL)))
            {
                return Ok(());
            }
        }
    })();
    let _ = execute!(out, cursor::Show, terminal::LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
    result
}

fn frame_texts(path: &Path) -> CliResult<Vec<String>> {
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| CliError::failed(format!("{}: {e}", p.display())));
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("png")
                        || x.eq_ignore_ascii_case("jpg")
                        || x.eq_ignore_ascii_case("jpeg")
                })
            })
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            if let Ok(Some(text)) = qr::decode_image(&read(&f)?) {
                out.push(text);
            }
        }
        return Ok(out);
    }
    let bytes = read(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim_start().starts_with("OTPX1F") => {
            Ok(text.lines().map(str::to_owned).collect())
        }
        _ => Ok(qr::decode_image(&bytes)
            .map_err(CliError::invalid)?
            .into_iter()
            .collect()),
    }
}

fn receive(g: &Global, args: &ReceiveArgs) -> CliResult {
    let state = std::fs::read(&args.session)
        .map_err(|e| CliError::failed(format!("{}: {e}", args.session.display())))?;
    let mut receiver = TransferReceiver::from_state_bytes(&state).map_err(transfer_error)?;
    if args.lan {
        let addr = receiver.invite().lan.clone().ok_or_else(|| {
            CliError::invalid("this session has no LAN address (use --lan on `transfer invite`)")
        })?;
        let listener = std::net::TcpListener::bind(&addr)
            .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
        eprintln!("Waiting for the sender on {addr} …");
        lan::receive(
            listener,
            &mut receiver,
            Duration::from_secs(args.timeout),
            now_s(),
        )
        .map_err(transfer_error)?;
    } else if let Some(path) = &args.frames {
        let texts = frame_texts(path)?;
        let mut rejected = 0;
        for text in &texts {
            match receiver.receive_frame(text, now_s()) {
                Ok(p) if p.complete => break,
                Ok(p) => eprint!("\rframes: {} of about {} needed", p.received, p.needed),
                Err(e @ TransferError::Expired) => return Err(transfer_error(e)),
                Err(e) => {
                    rejected += 1;
                    if rejected <= 3 {
                        eprintln!("\nrejected a frame: {e}");
                    }
                }
            }
        }
        eprintln!();
        let p = receiver.progress();
        if !p.complete {
            return Err(CliError::failed(format!(
                "not enough frames yet: {} of about {} needed ({} read, {rejected} rejected)",
                p.received,
                p.needed,
                texts.len()
            )));
        }
    }
    let code = receiver.confirmation_code().expect("complete").to_owned();
    let preview = receiver.preview().expect("complete");
    println!("Confirmation code: {code}");
    println!(
        "{} account{}:",
        preview.len(),
        if preview.len() == 1 { "" } else { "s" }
    );
    for e in preview {
        println!("  {} [{}]", e.label(), e.kind.type_name());
    }
    if !args.accept {
        println!(
            "Nothing added yet. If the old device shows the same code, run again with --accept."
        );
        return Ok(());
    }
    let accounts = receiver.accept().map_err(transfer_error)?;
    super::interop::add_accounts(g, accounts)?;
    let _ = std::fs::remove_file(&args.session);
    Ok(())
}
