//! `twofold time`: the clock offset codes are computed with, and calibrating it offline from
//! a code a service just accepted.

use clap::{Args, Subcommand};
use serde_json::json;
use twofold_core::otp::{self, calibrate};

use crate::context::{Global, resolve_id, vault_error};
use crate::error::CliResult;

#[derive(Subcommand)]
pub enum TimeCommand {
    /// Show the clock offset the codes are corrected by.
    Status(StatusArgs),
    /// Set the clock offset from a code a service has just accepted (no network needed).
    ///
    /// Searches the time steps within ±10 minutes (or --window) of this device's clock for
    /// the code. Exactly one match sets the offset to that step's centre (right to within
    /// half the account's period). When several steps or none give the code, nothing
    /// changes; give a second code, the one the service accepted right after the first, to
    /// pin the step down.
    Calibrate(CalibrateArgs),
}

#[derive(Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CalibrateArgs {
    /// Entry: id, id prefix, issuer or issuer:account.
    entry: String,
    /// The code the service accepted.
    code: String,
    /// The code the service accepted right after CODE (the next time step).
    next_code: Option<String>,
    /// Search ± this many seconds around this device's clock (1 to 86400).
    #[arg(long, value_name = "S", default_value_t = calibrate::DEFAULT_WINDOW_S)]
    window: u32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(g: &Global, command: &TimeCommand) -> CliResult {
    match command {
        TimeCommand::Status(args) => {
            let (session, _) = g.unlock()?;
            let offset = session.clock_offset().map_err(vault_error)?;
            let warn = otp::offset_needs_warning(offset);
            if args.json {
                println!("{}", json!({ "offset_seconds": offset, "warning": warn }));
            } else {
                println!("Clock offset: {offset:+} s");
                if warn {
                    println!(
                        "This device's clock is more than {} s off; codes are corrected for it.",
                        otp::SKEW_WARNING_SECS
                    );
                }
            }
            Ok(())
        }
        TimeCommand::Calibrate(args) => {
            let (session, _) = g.unlock()?;
            let entries = session.entries().map_err(vault_error)?;
            let id = resolve_id(&entries, &args.entry)?;
            let before = session.clock_offset().map_err(vault_error)?;
            let c = session
                .calibrate_from_accepted_code(
                    id,
                    &args.code,
                    args.next_code.as_deref(),
                    args.window,
                )
                .map_err(vault_error)?;
            let warn = otp::offset_needs_warning(c.offset_s);
            if args.json {
                println!(
                    "{}",
                    json!({
                        "offset_seconds": c.offset_s,
                        "uncertainty_seconds": c.uncertainty_s,
                        "previous_offset_seconds": before,
                        "period": c.period,
                        "step": c.step,
                        "warning": warn,
                    })
                );
            } else {
                println!(
                    "Clock offset set to {:+} s (± {} s; it was {before:+} s).",
                    c.offset_s, c.uncertainty_s
                );
                if warn {
                    println!(
                        "This device's clock is more than {} s off; codes are now corrected for it.",
                        otp::SKEW_WARNING_SECS
                    );
                }
            }
            Ok(())
        }
    }
}
