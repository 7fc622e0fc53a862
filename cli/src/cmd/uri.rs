//! `twofold uri`: inspect otpauth URIs.

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use twofold_core::otp::OtpKind;
use twofold_core::uri::{self, Credential};

use twofold_core::vault::care::ExposureWay;

use crate::context::{Global, resolve, vault_error};
use crate::error::{CliError, CliResult};

#[derive(Subcommand)]
pub enum UriCommand {
    /// Parse an otpauth URI and show what it contains (including the secret).
    Inspect(InspectArgs),
}

#[derive(Args)]
pub struct InspectArgs {
    /// The otpauth:// URI.
    #[arg(required_unless_present = "entry", conflicts_with = "entry")]
    uri: Option<String>,
    /// Inspect a stored account instead (asks for the vault password; recorded in the
    /// exposure ledger, since it shows the secret).
    #[arg(long, value_name = "ENTRY")]
    entry: Option<String>,
    /// Print one JSON object: type, issuer, account, secret, algorithm, digits, period, counter.
    #[arg(long)]
    json: bool,
}

pub fn run(g: &Global, command: &UriCommand) -> CliResult {
    match command {
        UriCommand::Inspect(args) => inspect(g, args),
    }
}

fn inspect(g: &Global, args: &InspectArgs) -> CliResult {
    let text = match (&args.uri, &args.entry) {
        (Some(u), _) => zeroize::Zeroizing::new(u.clone()),
        (None, Some(query)) => {
            let (session, _) = g.unlock()?;
            let entries = session.entries().map_err(vault_error)?;
            let id = resolve(&entries, query)?.id;
            session
                .reveal_uri(id, ExposureWay::UriShown)
                .map_err(vault_error)?
        }
        (None, None) => return Err(CliError::invalid("give a URI or --entry")),
    };
    let cred = uri::parse(&text).map_err(CliError::of)?;
    if args.json {
        println!("{}", inspect_json(&cred));
    } else {
        print!("{}", inspect_text(&cred));
    }
    Ok(())
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::from(s)
    }
}

/// The stable JSON shape of `uri inspect --json` (documented in the README).
pub fn inspect_json(cred: &Credential) -> Value {
    let (period, counter) = match cred.kind {
        OtpKind::Totp { period, .. } => (Value::from(period), Value::Null),
        OtpKind::Steam => (Value::from(cred.kind.period().unwrap_or(30)), Value::Null),
        OtpKind::Hotp { counter, .. } => (Value::Null, Value::from(counter)),
    };
    json!({
        "type": cred.kind.type_name(),
        "issuer": non_empty(&cred.issuer),
        "account": non_empty(&cred.account),
        "secret": cred.secret.to_base32(),
        "algorithm": cred.kind.algorithm().name(),
        "digits": cred.kind.digits(),
        "period": period,
        "counter": counter,
    })
}

fn inspect_text(cred: &Credential) -> String {
    let mut out = String::new();
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    out.push_str(&format!("type:      {}\n", cred.kind.type_name()));
    out.push_str(&format!("issuer:    {}\n", dash(&cred.issuer)));
    out.push_str(&format!("account:   {}\n", dash(&cred.account)));
    out.push_str(&format!("algorithm: {}\n", cred.kind.algorithm().name()));
    out.push_str(&format!("digits:    {}\n", cred.kind.digits()));
    match cred.kind {
        OtpKind::Hotp { counter, .. } => out.push_str(&format!("counter:   {counter}\n")),
        _ => out.push_str(&format!(
            "period:    {} s\n",
            cred.kind.period().unwrap_or(30)
        )),
    }
    out.push_str(&format!(
        "secret:    {} ({} bits{})\n",
        cred.secret.to_base32(),
        cred.secret.len() * 8,
        if cred.secret.is_weak() {
            ", shorter than the recommended 128"
        } else {
            ""
        }
    ));
    out.push_str(&format!("canonical: {}\n", uri::format(cred)));
    out
}
