//! `twofold` — the desktop client of the Twofold authenticator core.

mod cmd;
mod context;
mod error;
mod private_file;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::context::Global;

/// Twofold: an offline-first two-factor authenticator.
///
/// Exit status: 0 success, 1 the operation failed (I/O, damaged file, nothing found),
/// 2 invalid input, usage or credentials (malformed URI, bad option, wrong password).
#[derive(Parser)]
#[command(name = "twofold", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the one-time code for an otpauth URI or a bare secret (no vault needed).
    Code(cmd::code::CodeArgs),
    /// Work with otpauth:// URIs.
    #[command(subcommand)]
    Uri(cmd::uri::UriCommand),
    /// Create a new encrypted vault and print its recovery key (once).
    Init(cmd::vault::InitArgs),
    /// Add an account from an otpauth:// URI or a secret.
    Add(cmd::vault::AddArgs),
    /// List accounts (no codes, no secrets).
    List(cmd::vault::ListArgs),
    /// Print the current codes once.
    Codes(cmd::vault::CodesArgs),
    /// Live full-screen view of the codes with search.
    Watch,
    /// Change an account's names, note, group, favorite or code parameters.
    Edit(cmd::vault::EditArgs),
    /// Move an account to the trash.
    Rm(cmd::vault::EntryArg),
    /// List the trash.
    Trash(cmd::vault::TrashArgs),
    /// Take an account out of the trash.
    Restore(cmd::vault::EntryArg),
    /// Delete accounts in the trash for good.
    Purge(cmd::vault::PurgeArgs),
    /// HOTP (counter-based) accounts.
    #[command(subcommand)]
    Hotp(cmd::vault::HotpCommand),
    /// Change the vault password (rotates the vault key).
    Passwd(cmd::vault::PasswdArgs),
    /// Use or replace the recovery key.
    #[command(subcommand)]
    Recovery(cmd::vault::RecoveryCommand),
    /// What this device trusts about the vault file; accept a file it would refuse.
    #[command(subcommand)]
    Trust(cmd::vault::TrustCommand),
    /// Encrypted, verified backups.
    #[command(subcommand)]
    Backup(cmd::backup::BackupCommand),
    /// QR codes in image files.
    #[command(subcommand)]
    Qr(cmd::interop::QrCommand),
    /// Add accounts from photos or screenshots of QR codes (with preview and confirmation).
    Scan(cmd::interop::ScanArgs),
    /// Import another authenticator app's export (Aegis, 2FAS, andOTP, Bitwarden, Ente,
    /// FreeOTP+, Proton, Google Authenticator, otpauth lists).
    Import(cmd::interop::ImportArgs),
    /// Export accounts (otpauth list, Aegis, Google QR codes, CXF, backup).
    Export(cmd::interop::ExportArgs),
    /// Move accounts to another device: encrypted animated QR codes or the LAN (OTPX/2).
    #[command(subcommand)]
    Transfer(cmd::transfer::TransferCommand),
    /// Keep several devices in step through a folder or a WebDAV server (`sync` alone: sync
    /// now).
    Sync(cmd::sync::SyncArgs),
    /// An account's one-time recovery codes: add, list (unused first), mark used.
    RecoveryCodes(cmd::care::RecoveryCodesArgs),
    /// Security checkup: backups, drills, credentials, weak or duplicate secrets, exposures.
    Checkup(cmd::care::CheckupArgs),
    /// Where secrets left the vault in copyable form (exports, shown URIs and QR codes).
    Exposure(cmd::care::ExposureArgs),
    /// Replace an account's secret after re-enrolling 2FA at the service.
    Rotate(cmd::care::RotateArgs),
    /// The clock offset codes are corrected by; calibrate it from a code a service accepted.
    #[command(subcommand)]
    Time(cmd::time::TimeCommand),
    /// Put an account's current code on the clipboard (cleared after 20 s unless something
    /// else was copied since).
    Copy(cmd::desktop::CopyArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions(cmd::desktop::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

fn main() -> ExitCode {
    // The clipboard helper `copy` starts (not a command of its own: no completion, no page).
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(cmd::desktop::HOLD_ARG)) {
        return match cmd::desktop::hold(std::env::args().nth(2).as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => err.report(),
        };
    }
    let cli = Cli::parse();
    let g = &cli.global;
    let result = match &cli.command {
        Command::Code(args) => cmd::code::run(args),
        Command::Uri(command) => cmd::uri::run(g, command),
        Command::Init(a) => cmd::vault::init(g, a),
        Command::Add(a) => cmd::vault::add(g, a),
        Command::List(a) => cmd::vault::list(g, a),
        Command::Codes(a) => cmd::vault::codes(g, a),
        Command::Watch => cmd::watch::run(g),
        Command::Edit(a) => cmd::vault::edit(g, a),
        Command::Rm(a) => cmd::vault::rm(g, a),
        Command::Trash(a) => cmd::vault::trash(g, a),
        Command::Restore(a) => cmd::vault::restore(g, a),
        Command::Purge(a) => cmd::vault::purge(g, a),
        Command::Hotp(c) => cmd::vault::hotp(g, c),
        Command::Passwd(a) => cmd::vault::passwd(g, a),
        Command::Recovery(c) => cmd::vault::recovery(g, c),
        Command::Trust(c) => cmd::vault::trust(g, c),
        Command::Backup(c) => cmd::backup::run(g, c),
        Command::Qr(c) => cmd::interop::qr(c),
        Command::Scan(a) => cmd::interop::scan(g, a),
        Command::Import(a) => cmd::interop::import(g, a),
        Command::Export(a) => cmd::interop::export(g, a),
        Command::Transfer(c) => cmd::transfer::run(g, c),
        Command::Sync(a) => cmd::sync::run(g, a),
        Command::RecoveryCodes(a) => cmd::care::recovery_codes(g, a),
        Command::Checkup(a) => cmd::care::checkup(g, a),
        Command::Exposure(a) => cmd::care::exposure(g, a),
        Command::Rotate(a) => cmd::care::rotate(g, a),
        Command::Time(c) => cmd::time::run(g, c),
        Command::Copy(a) => cmd::desktop::copy(g, a),
        Command::Completions(a) => cmd::desktop::completions(Cli::command(), a),
        Command::Man => cmd::desktop::man(Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
