//! `twofold transfer invite|send|receive`: OTPX/2 between two vaults, scriptable on one
//! machine (frames and the reply as PNG files and text) or over the LAN.
//!
//! Files flow (each step a command; every file is written 0600 through `write_private`):
//!
//! 1. new device: `transfer invite --session S --png invite.png`
//! 2. old device: `transfer send --invite invite.png --session T --frames-dir F`
//! 3. new device: `transfer receive --session S --frames F` — prints its code, writes the
//!    reply (text and PNG); nothing is added yet
//! 4. old device: `transfer send --session T --reply reply.png` — prints its code
//! 5. new device: `transfer receive --session S --accept` — asks whether the codes match
//!    (scripts say `--codes-match`), then adds the accounts
//!
//! LAN: `transfer receive --session S --lan --accept` and `transfer send --invite … --lan`;
//! one connection, both sides ask whether the codes match, the sender asks before connecting.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use twofold_core::interop::PendingAccounts;
use twofold_core::qr;
use twofold_core::transfer::{Invite, check_lan_address};
use twofold_core::transfer::{
    Reply, SenderState, TransferError, TransferReceiver, TransferSender, frames, lan,
};
use twofold_core::vault::Entry;

use crate::context::{Global, resolve, vault_error, write_private};
use crate::error::{CliError, CliResult};

#[derive(Subcommand)]
pub enum TransferCommand {
    /// On the NEW device: start a session and show the invite (text, terminal QR, --png).
    Invite(InviteArgs),
    /// On the OLD device: seal accounts for an invite and show or write the frames (or send
    /// over the LAN); with --reply, read the new device's reply and show the code.
    Send(SendArgs),
    /// On the NEW device: collect the frames (or the LAN transfer), show the code, the reply
    /// and a preview; with --accept, add the accounts once you confirmed the codes match.
    Receive(ReceiveArgs),
}

#[derive(Args)]
pub struct InviteArgs {
    /// Where to keep the session's secret state (written with mode 0600).
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// Also receive over the LAN on this address: a private IP literal with port
    /// (192.168.1.20:47000, [fe80::1]:47000).
    #[arg(long, value_name = "IP:PORT")]
    lan: Option<String>,
    /// Write the invite QR code as a PNG (mode 0600: it holds the session's PSK).
    #[arg(long, value_name = "PATH")]
    png: Option<PathBuf>,
    /// Seconds the invite stays valid (at most 600).
    #[arg(long, default_value_t = 600)]
    ttl: u64,
}

#[derive(Args)]
pub struct SendArgs {
    /// The invite: its text, or an image of its QR code.
    #[arg(long, required_unless_present = "reply")]
    invite: Option<String>,
    /// Where to keep what checks the reply (0600); needed with --frames-dir and --reply.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// The new device's reply (its text, or an image of its QR code): shows the code.
    #[arg(long, value_name = "TEXT_OR_IMAGE", requires = "session", conflicts_with_all = ["invite", "frames_dir", "lan"])]
    reply: Option<String>,
    /// Only these entries (ids, id prefixes, issuers); default: every account.
    #[arg(long, num_args = 1..)]
    ids: Vec<String>,
    /// Write frames as PNG files plus frames.txt into this folder.
    #[arg(long, value_name = "DIR", conflicts_with = "lan", requires = "session")]
    frames_dir: Option<PathBuf>,
    /// How many frames to write (default: twice what a lossless receiver needs, plus 10).
    #[arg(long, requires = "frames_dir")]
    count: Option<u64>,
    /// Send over TCP to the invite's LAN address instead of showing frames.
    #[arg(long)]
    lan: bool,
    /// The LAN address you expect (scripts): refuse if the invite names another; without it
    /// you are asked on the terminal.
    #[arg(long, value_name = "IP:PORT", requires = "lan")]
    to: Option<String>,
    /// You compared the codes on both screens and they match (scripts; otherwise asked).
    #[arg(long, requires = "lan")]
    codes_match: bool,
    /// Seconds for the whole LAN exchange, including the time the users take to compare.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// QR version of the frames (larger: fewer frames, harder to scan).
    #[arg(long, default_value_t = frames::DEFAULT_QR_VERSION, value_parser = clap::value_parser!(i16).range(5..=30))]
    qr_version: i16,
}

#[derive(Args)]
pub struct ReceiveArgs {
    /// The session file written by `transfer invite` (updated as the transfer progresses).
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// A folder of frame images, an image, or a text file with one frame per line.
    #[arg(long, value_name = "DIR_OR_FILE", conflicts_with = "lan")]
    frames: Option<PathBuf>,
    /// Wait for the sender on the invite's LAN address (needs --accept: you decide while the
    /// sender waits).
    #[arg(long, requires = "accept")]
    lan: bool,
    /// Seconds for the whole LAN exchange.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Where to write the reply's QR code (default: next to the session file).
    #[arg(long, value_name = "PATH")]
    reply_png: Option<PathBuf>,
    /// Add the accounts: asks whether the codes on both screens match.
    #[arg(long)]
    accept: bool,
    /// With --accept in scripts: you compared the codes and they match.
    #[arg(long, requires = "accept")]
    codes_match: bool,
}

fn now_s() -> u64 {
    u64::try_from(super::now_ms() / 1000).unwrap_or(0)
}

fn transfer_error(e: TransferError) -> CliError {
    CliError::of(e)
}

pub fn run(g: &Global, command: &TransferCommand) -> CliResult {
    match command {
        TransferCommand::Invite(a) => invite(a),
        TransferCommand::Send(a) => match &a.reply {
            Some(reply) => send_reply(a, reply),
            None => send(g, a),
        },
        TransferCommand::Receive(a) => receive(g, a),
    }
}

/// Asks `question` on the terminal; `flag` answers yes for scripts.
pub(crate) fn ask(question: &str, flag: bool, flag_name: &str) -> CliResult<bool> {
    if flag {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid(format!(
            "no terminal to ask \"{question}\"; check and pass {flag_name}"
        )));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError::failed(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn invite(args: &InviteArgs) -> CliResult {
    let rng = twofold_core::crypto::SystemRandom::new();
    let receiver =
        TransferReceiver::new(now_s(), args.ttl, args.lan.clone(), &rng).map_err(transfer_error)?;
    write_private(&args.session, &receiver.state_bytes())?;
    let text = receiver.invite().to_text();
    let matrix = qr::encode(&text, qr::EcLevel::M).map_err(CliError::of)?;
    if let Some(png) = &args.png {
        write_private(png, &matrix.to_png(6))?;
    }
    print!("{}", matrix.to_terminal());
    println!("{text}");
    eprintln!(
        "Invite valid until {}. Scan it on the old device (`twofold transfer send --invite …`).",
        twofold_core::time::format_utc(receiver.expires_at() as i64 * 1000)
    );
    Ok(())
}

/// Text given on the command line, or read from a text file or a QR image.
pub(crate) fn read_code_text(arg: &str, prefix: &str) -> CliResult<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| CliError::failed(format!("{arg}: {e}")))?;
        if let Ok(text) = std::str::from_utf8(&bytes)
            && text.trim().starts_with(prefix)
        {
            return Ok(text.trim().to_owned());
        }
        return qr::decode_image(&bytes)
            .map_err(CliError::invalid)?
            .ok_or_else(|| CliError::invalid(format!("{arg}: no QR code found")));
    }
    Ok(arg.trim().to_owned())
}

pub(crate) fn read_session(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::failed(format!("{}: {e}", path.display())))
}

fn send(g: &Global, args: &SendArgs) -> CliResult {
    let invite_text = read_code_text(args.invite.as_deref().unwrap_or_default(), "OTPX")?;
    let invite = Invite::parse(&invite_text, now_s()).map_err(transfer_error)?;
    if args.lan && invite.lan.is_none() {
        return Err(CliError::invalid(
            "this invite has no LAN address (the new device needs `transfer invite --lan`)",
        ));
    }
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
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if args.lan {
        // Show the destination and ask before anything leaves the device.
        let dest = invite.lan.clone().expect("checked above");
        check_lan_address(&dest).map_err(transfer_error)?;
        match &args.to {
            Some(to) if *to != dest => {
                return Err(CliError::invalid(format!(
                    "the invite names {dest}, not {to}; refusing to send"
                )));
            }
            Some(_) => {}
            None => {
                let question = format!(
                    "Send {} account{} to {dest} on the local network?",
                    chosen.len(),
                    plural(chosen.len())
                );
                if !ask(&question, false, "--to ADDRESS")? {
                    println!("Nothing sent.");
                    return Ok(());
                }
            }
        }
    }
    let mut sender = TransferSender::seal_entries(
        invite,
        &chosen,
        &session.groups().map_err(vault_error)?,
        super::now_ms(),
        Some(args.qr_version),
        session.env().rng.as_ref(),
    )
    .map_err(transfer_error)?;
    eprintln!("Sending {} account{}.", chosen.len(), plural(chosen.len()));
    if args.lan {
        return send_lan(&mut sender, args);
    }
    if let Some(path) = &args.session {
        write_private(path, &sender.state().to_bytes())?;
    }
    match &args.frames_dir {
        Some(dir) => {
            let count = args.count.unwrap_or(sender.source_frames() as u64 * 2 + 10);
            let mut lines = String::new();
            for n in 0..count {
                let text = sender.frame(n);
                let png = qr::encode(&text, frames::DEFAULT_EC_LEVEL)
                    .map_err(CliError::failed)?
                    .to_png(4);
                write_private(&dir.join(format!("frame-{n:04}.png")), &png)?;
                lines.push_str(&text);
                lines.push('\n');
            }
            write_private(&dir.join("frames.txt"), lines.as_bytes())?;
            println!(
                "Wrote {count} frames to {} (a receiver needs about {}).",
                dir.display(),
                sender.source_frames()
            );
            println!(
                "When the new device shows its reply, run `twofold transfer send --session {} --reply REPLY` to see the code.",
                args.session
                    .as_deref()
                    .unwrap_or(Path::new("FILE"))
                    .display()
            );
            Ok(())
        }
        None => {
            animate(&sender)?;
            if !std::io::stdin().is_terminal() {
                return Ok(());
            }
            print!("The new device's reply (its text, or a picture of it), empty to stop: ");
            std::io::stdout().flush().ok();
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| CliError::failed(e.to_string()))?;
            if line.trim().is_empty() {
                return Ok(());
            }
            let reply =
                Reply::parse(&read_code_text(line.trim(), "OTPX")?).map_err(transfer_error)?;
            let code = sender
                .accept_reply(&reply, now_s())
                .map_err(transfer_error)?;
            print_sender_code(&code);
            Ok(())
        }
    }
}

fn print_sender_code(code: &str) {
    println!("Confirmation code: {code}");
    println!(
        "Accept on the new device only if it shows the same code. If it shows another one, cancel on both: someone else may be in between."
    );
}

fn send_reply(args: &SendArgs, reply: &str) -> CliResult {
    let path = args.session.as_deref().expect("clap requires --session");
    let mut state = SenderState::from_bytes(&read_session(path)?).map_err(transfer_error)?;
    let reply = Reply::parse(&read_code_text(reply, "OTPX")?).map_err(transfer_error)?;
    let code = state
        .accept_reply(&reply, now_s())
        .map_err(transfer_error)?;
    write_private(path, &state.to_bytes())?;
    print_sender_code(&code);
    Ok(())
}

fn send_lan(sender: &mut TransferSender, args: &SendArgs) -> CliResult {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let out = lan::connect(sender, timeout, &now_s).map_err(transfer_error)?;
    print_sender_code(out.confirmation_code());
    if !ask(
        "Does the new device show the same code?",
        args.codes_match,
        "--codes-match",
    )? {
        println!("Cancelled; the accounts were not sent.");
        return Ok(());
    }
    out.send(sender).map_err(transfer_error)?;
    println!("Sent over the LAN; the new device accepted the accounts.");
    Ok(())
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
            let matrix =
                qr::encode(&sender.frame(n), frames::DEFAULT_EC_LEVEL).map_err(CliError::of)?;
            execute!(out, cursor::MoveTo(0, 0)).map_err(term)?;
            for line in matrix.to_terminal().lines() {
                write!(out, "{line}\r\n").map_err(term)?;
            }
            write!(
                out,
                "\r\nframe {n}. When the new device shows its reply, press Esc and enter it.\r\n"
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
        Ok(text) if text.trim_start().starts_with("OTPX") => {
            Ok(text.lines().map(str::to_owned).collect())
        }
        _ => Ok(qr::decode_image(&bytes)
            .map_err(CliError::invalid)?
            .into_iter()
            .collect()),
    }
}

pub(crate) fn collect_frames(receiver: &mut TransferReceiver, path: &Path) -> CliResult {
    let texts = frame_texts(path)?;
    let mut rejected = 0;
    let mut first_error = None;
    for text in &texts {
        match receiver.receive_frame(text, now_s()) {
            Ok(p) if p.complete => break,
            Ok(p) => eprint!("\rframes: {} of about {} needed", p.received, p.needed),
            Err(e @ (TransferError::Expired | TransferError::Decryption)) => {
                return Err(transfer_error(e));
            }
            Err(e) => {
                rejected += 1;
                if rejected <= 3 {
                    eprintln!("\nrejected a frame: {e}");
                }
                first_error.get_or_insert(e);
            }
        }
    }
    eprintln!();
    let p = receiver.progress();
    if p.complete {
        return Ok(());
    }
    match first_error {
        Some(e) if p.received == 0 => Err(transfer_error(e)),
        _ => Err(CliError::failed(format!(
            "not enough frames yet: {} of about {} needed ({} read, {rejected} rejected)",
            p.received,
            p.needed,
            texts.len()
        ))),
    }
}

fn show_received(receiver: &TransferReceiver) {
    let code = receiver.confirmation_code().expect("complete");
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
}

fn receive(g: &Global, args: &ReceiveArgs) -> CliResult {
    let mut receiver = TransferReceiver::from_state_bytes(&read_session(&args.session)?)
        .map_err(transfer_error)?;
    if args.lan {
        return receive_lan(g, args, receiver);
    }
    if let Some(path) = &args.frames {
        if !receiver.progress().complete {
            collect_frames(&mut receiver, path)?;
            // The sender is locked now: keep it (and the nonce) for the following steps.
            write_private(&args.session, &receiver.state_bytes())?;
        }
    } else if !receiver.progress().complete {
        return Err(CliError::invalid(
            "nothing received yet: pass --frames (or --lan)",
        ));
    }
    show_received(&receiver);
    let reply = receiver.reply().expect("complete").to_text();
    let png_path = args.reply_png.clone().unwrap_or_else(|| {
        let mut p = args.session.clone().into_os_string();
        p.push(".reply.png");
        PathBuf::from(p)
    });
    let png = qr::encode(&reply, qr::EcLevel::M)
        .map_err(CliError::failed)?
        .to_png(6);
    write_private(&png_path, &png)?;
    println!("Reply: {reply}");
    println!("Reply QR code: {}", png_path.display());
    if !args.accept {
        println!(
            "Nothing added yet. Show the reply to the old device (`twofold transfer send --session … --reply …`); if it then shows the same code, run again with --accept."
        );
        return Ok(());
    }
    let code = receiver.confirmation_code().expect("complete");
    if !ask(
        &format!("Does the old device show the same code, {code}?"),
        args.codes_match,
        "--codes-match",
    )? {
        let _ = std::fs::remove_file(&args.session);
        let _ = std::fs::remove_file(&png_path);
        println!("Nothing added; the transfer is cancelled. Start again with a new invite.");
        return Ok(());
    }
    let mut accounts = PendingAccounts::new(receiver.accept().map_err(transfer_error)?);
    super::interop::add_accounts(g, &mut accounts)?;
    let _ = std::fs::remove_file(&args.session);
    let _ = std::fs::remove_file(&png_path);
    Ok(())
}

fn receive_lan(g: &Global, args: &ReceiveArgs, mut receiver: TransferReceiver) -> CliResult {
    if let Some(addr) = &receiver.invite().lan {
        eprintln!("Waiting for the sender on {addr} …");
    }
    let incoming = lan::receive_on_invite(
        &mut receiver,
        Duration::from_secs(args.timeout.max(1)),
        &now_s,
        &mut |r| {
            if let Some(code) = r.confirmation_code() {
                println!("Confirmation code: {code}");
                std::io::stdout().flush().ok();
            }
        },
    )
    .map_err(transfer_error)?;
    let preview = receiver.preview().expect("complete");
    println!(
        "{} account{}:",
        preview.len(),
        if preview.len() == 1 { "" } else { "s" }
    );
    for e in preview {
        println!("  {} [{}]", e.label(), e.kind.type_name());
    }
    let code = receiver.confirmation_code().expect("locked");
    if !ask(
        &format!("Does the old device show the same code, {code}?"),
        args.codes_match,
        "--codes-match",
    )? {
        let _ = incoming.answer(false);
        let _ = std::fs::remove_file(&args.session);
        println!("Nothing added; the transfer is cancelled.");
        return Ok(());
    }
    let mut accounts = PendingAccounts::new(receiver.accept().map_err(transfer_error)?);
    let added = super::interop::add_accounts(g, &mut accounts);
    let _ = incoming.answer(added.is_ok());
    added?;
    let _ = std::fs::remove_file(&args.session);
    Ok(())
}
