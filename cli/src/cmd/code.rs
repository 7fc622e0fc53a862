//! `twofold code`: one code from a URI or a bare secret.

use clap::{ArgGroup, Args, ValueEnum};
use twofold_core::otp::{self, Algorithm, OtpKind};
use twofold_core::{Secret, uri};

use crate::error::{CliError, CliResult};

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum AlgorithmArg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Sha1 => Algorithm::Sha1,
            AlgorithmArg::Sha256 => Algorithm::Sha256,
            AlgorithmArg::Sha512 => Algorithm::Sha512,
        }
    }
}

/// Print the code for an otpauth URI, or for a base32 secret with explicit parameters.
///
/// Examples:
///   twofold code 'otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example'
///   twofold code --secret JBSWY3DPEHPK3PXP --digits 8 --at 1700000000
///   twofold code --secret JBSWY3DPEHPK3PXP --hotp --counter 5
#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["uri", "secret"])))]
#[command(verbatim_doc_comment)]
pub struct CodeArgs {
    /// An otpauth:// URI (totp, hotp or steam).
    uri: Option<String>,
    /// Base32 secret (instead of a URI).
    #[arg(long, value_name = "BASE32")]
    secret: Option<String>,
    /// HMAC algorithm for --secret.
    #[arg(long, value_enum, default_value = "SHA1", requires = "secret")]
    algorithm: AlgorithmArg,
    /// Number of digits for --secret (6-10).
    #[arg(long, default_value_t = otp::DEFAULT_DIGITS, requires = "secret")]
    digits: u8,
    /// TOTP period in seconds for --secret (1-3600).
    #[arg(long, default_value_t = otp::DEFAULT_PERIOD, requires = "secret")]
    period: u32,
    /// Make --secret an HOTP account (needs --counter).
    #[arg(long, requires_all = ["secret", "counter"], conflicts_with = "steam")]
    hotp: bool,
    /// Make --secret a Steam Guard account.
    #[arg(long, requires = "secret")]
    steam: bool,
    /// HOTP counter (overrides the URI's counter).
    #[arg(long, value_name = "N")]
    counter: Option<u64>,
    /// Compute the code at this time (seconds since 1970-01-01 UTC) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<u64>,
}

pub fn run(args: &CodeArgs) -> CliResult {
    let (kind, secret) = match (&args.uri, &args.secret) {
        (Some(text), None) => {
            let cred = uri::parse(text).map_err(CliError::of)?;
            let kind = match (cred.kind, args.counter) {
                (
                    OtpKind::Hotp {
                        algorithm, digits, ..
                    },
                    Some(counter),
                ) => OtpKind::Hotp {
                    algorithm,
                    digits,
                    counter,
                },
                (_, Some(_)) => {
                    return Err(CliError::invalid("--counter applies only to hotp URIs"));
                }
                (kind, None) => kind,
            };
            (kind, cred.secret.clone())
        }
        (None, Some(b32)) => {
            let secret = Secret::from_base32(b32).map_err(CliError::invalid)?;
            let algorithm = args.algorithm.into();
            let kind = if args.steam {
                OtpKind::Steam
            } else if args.hotp {
                // clap guarantees --counter with --hotp.
                OtpKind::Hotp {
                    algorithm,
                    digits: args.digits,
                    counter: args.counter.unwrap_or(0),
                }
            } else {
                if args.counter.is_some() {
                    return Err(CliError::invalid("--counter needs --hotp"));
                }
                OtpKind::Totp {
                    algorithm,
                    digits: args.digits,
                    period: args.period,
                }
            };
            kind.validate().map_err(CliError::invalid)?;
            (kind, secret)
        }
        _ => return Err(CliError::invalid("give either a URI or --secret")),
    };
    println!("{}", code_of(&kind, &secret, super::at_ms(args.at)));
    Ok(())
}

fn code_of(kind: &OtpKind, secret: &Secret, at_ms: i64) -> String {
    match *kind {
        OtpKind::Hotp {
            algorithm,
            digits,
            counter,
        } => otp::hotp(secret, algorithm, digits, counter),
        _ => {
            let now = otp::effective_unix_ms(at_ms, 0);
            // Time-based kinds always yield a code.
            otp::code_for(kind, secret, now).code.unwrap_or_default()
        }
    }
}
