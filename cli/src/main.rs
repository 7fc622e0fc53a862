//! `twofold` — the desktop client of the Twofold authenticator core.

mod cmd;
mod error;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Twofold: an offline-first two-factor authenticator.
///
/// Exit status: 0 success, 1 the operation failed (I/O, nothing found), 2 invalid input or
/// usage (malformed URI, bad option).
#[derive(Parser)]
#[command(name = "twofold", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the one-time code for an otpauth URI or a bare secret.
    Code(cmd::code::CodeArgs),
    /// Work with otpauth:// URIs.
    #[command(subcommand)]
    Uri(cmd::uri::UriCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Code(args) => cmd::code::run(&args),
        Command::Uri(command) => cmd::uri::run(&command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
