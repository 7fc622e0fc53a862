//! Errors of the CLI and their exit status.

use std::fmt::Display;

use std::process::ExitCode;
use twofold_core::error::{Classify, ErrorKind};

/// Exit status for an operation that failed for reasons other than the user's input.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for invalid input or usage (the same status clap uses).
pub const EXIT_INVALID: u8 = 2;

/// A failure to report on stderr as one line, with its exit status.
#[derive(Debug)]
pub struct CliError {
    pub status: u8,
    pub message: String,
}

impl CliError {
    /// The user gave something we cannot accept.
    pub fn invalid(message: impl Display) -> Self {
        CliError {
            status: EXIT_INVALID,
            message: message.to_string(),
        }
    }

    /// The operation failed.
    pub fn failed(message: impl Display) -> Self {
        CliError {
            status: EXIT_FAILURE,
            message: message.to_string(),
        }
    }

    /// A core error, with the exit status its kind says (input → 2, failure → 1).
    pub fn of(e: impl Classify + Display) -> Self {
        match e.kind() {
            ErrorKind::Input => Self::invalid(e),
            ErrorKind::Failure => Self::failed(e),
        }
    }

    pub fn report(&self) -> ExitCode {
        eprintln!("twofold: {}", self.message.replace('\n', " "));
        ExitCode::from(self.status)
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
