//! Never locked out: `twofold recovery-codes`, `backup drill`, `checkup`, `exposure`,
//! `rotate`. The rules are the core's (`vault::recovery_codes`, `vault::care`, `vault::checkup`,
//! `backup::drill`); this module asks, calls and prints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use twofold_core::backup::{self, BackupCredential};
use twofold_core::vault::care::{CheckupSettings, RecoveryCodesPolicy};
use twofold_core::vault::checkup::{self, Finding};
use twofold_core::vault::{RecoveryKey, VaultError, VaultSession};
use zeroize::Zeroizing;

use crate::context::{Global, read_secret, resolve, vault_error, with_spinner};
use crate::error::{CliError, CliResult};

use super::format_time;

#[derive(Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["add", "from_file", "list", "use_code"])))]
pub struct RecoveryCodesArgs {
    /// Entry: id, id prefix, issuer or issuer:account.
    entry: String,
    /// Add these codes (each checked: not empty, at most 128 characters, no control
    /// characters; at most 64 per account). Codes the account has already are skipped.
    #[arg(long, num_args = 1.., value_name = "CODE")]
    add: Vec<String>,
    /// Add the codes in this file, one per line (blank lines are skipped).
    #[arg(long, value_name = "FILE")]
    from_file: Option<PathBuf>,
    /// Show the codes, unused first (asks for the vault password, like every command that
    /// shows secrets).
    #[arg(long)]
    list: bool,
    /// Mark this code used (matched ignoring case, spaces and hyphens).
    #[arg(long = "use", value_name = "CODE")]
    use_code: Option<String>,
    /// With --list: one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn recovery_codes(g: &Global, args: &RecoveryCodesArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let e = resolve(&entries, &args.entry)?;
    let name = e.display_name();
    if args.list {
        let codes = session.recovery_codes(e.id).map_err(vault_error)?;
        if args.json {
            let list: Vec<Value> = codes
                .iter()
                .map(|c| json!({"code": c.code, "used": c.used, "used_at": c.used_at}))
                .collect();
            println!(
                "{}",
                json!({"entry": e.id.to_string(), "name": name, "codes": list})
            );
            return Ok(());
        }
        if codes.is_empty() {
            println!("{name}: no recovery codes stored");
            return Ok(());
        }
        let unused = codes.iter().filter(|c| !c.used).count();
        println!("{name}: {unused} of {} recovery codes unused", codes.len());
        for c in &codes {
            match (c.used, c.used_at) {
                (false, _) => println!("  {}", c.code),
                (true, Some(t)) => println!("  {}  (used {})", c.code, format_time(t)),
                (true, None) => println!("  {}  (used)", c.code),
            }
        }
        return Ok(());
    }
    if let Some(code) = &args.use_code {
        session.use_recovery_code(e.id, code).map_err(vault_error)?;
        let left = session
            .recovery_codes(e.id)
            .map_err(vault_error)?
            .iter()
            .filter(|c| !c.used)
            .count();
        println!("Marked a recovery code of {name} used; {left} unused left");
        if left <= 2 {
            eprintln!(
                "twofold: warning: {name} has {left} unused recovery code(s) left; get new ones from the service"
            );
        }
        return Ok(());
    }
    let mut texts = args.add.clone();
    if let Some(path) = &args.from_file {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?,
        );
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::invalid(format!("{} is not UTF-8 text", path.display())))?;
        texts.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let added = session
        .add_recovery_codes(e.id, &texts)
        .map_err(vault_error)?;
    let total = session.recovery_codes(e.id).map_err(vault_error)?.len();
    println!(
        "Added {added} recovery code{} to {name} ({total} stored{})",
        if added == 1 { "" } else { "s" },
        if added < texts.len() {
            "; the others were there already"
        } else {
            ""
        }
    );
    Ok(())
}

#[derive(Args)]
pub struct DrillArgs {
    /// The backup to open [default: the newest in the backups folder next to the vault].
    file: Option<PathBuf>,
    /// Open it with the recovery key (typed) instead of the backup password.
    #[arg(long)]
    recovery_key: bool,
    /// For tests and automation only: read the backup password from this file. A drill
    /// proves what you remember, so leave it out and type the password.
    #[arg(long, value_name = "PATH", conflicts_with = "recovery_key_file")]
    backup_password_file: Option<PathBuf>,
    /// For tests and automation only: read the recovery key from this file.
    #[arg(long, value_name = "PATH")]
    recovery_key_file: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// The backups folder next to the vault (where `backup create` writes).
fn backups_dir(g: &Global) -> PathBuf {
    g.vault_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .join("backups")
}

fn prompt(what: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid(format!(
            "a drill asks for the {what} typed from memory; run it in a terminal \
             (tests and scripts: --backup-password-file / --recovery-key-file)"
        )));
    }
    read_secret(None, &format!("{} (from memory): ", capitalise(what)), "")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub fn drill(g: &Global, args: &DrillArgs) -> CliResult {
    let path = match &args.file {
        Some(p) => p.clone(),
        None => {
            let dir = backups_dir(g);
            backup::newest_backup(&twofold_core::vault::OsFileSystem, &dir)
                .map_err(vault_error)?
                .ok_or_else(|| {
                    CliError::failed(format!(
                        "no backup in {} (make one with `twofold backup create`, or name the file)",
                        dir.display()
                    ))
                })?
        }
    };
    if !path.exists() {
        return Err(CliError::failed(format!("no backup at {}", path.display())));
    }
    let (session, _) = g.unlock()?;
    if !args.json {
        println!("Restore drill: {}", path.display());
    }
    let use_key = args.recovery_key || args.recovery_key_file.is_some();
    let secret = match (&args.backup_password_file, &args.recovery_key_file) {
        (Some(p), _) => read_secret(Some(p), "", "--backup-password-file")?,
        (None, Some(p)) => read_secret(Some(p), "", "--recovery-key-file")?,
        (None, None) if use_key => prompt("recovery key")?,
        (None, None) => prompt("backup password")?,
    };
    let key;
    let credential = if use_key {
        key = RecoveryKey::parse(&String::from_utf8_lossy(&secret)).map_err(CliError::invalid)?;
        BackupCredential::RecoveryKey(&key)
    } else {
        BackupCredential::Password(&secret)
    };
    let report = with_spinner("Opening the backup (Argon2id)…", || {
        backup::drill(&session, &path, &credential)
    })
    .map_err(|e| match e {
        VaultError::WrongCredential => CliError::invalid(
            "the drill FAILED: that password or key does not open this backup (nothing was recorded). \
             If you cannot remember it, make a new backup now while the vault is open",
        ),
        VaultError::Corrupt(why) => CliError::failed(format!(
            "the drill FAILED: the backup is damaged ({why}); make a new backup now"
        )),
        other => vault_error(other),
    })?;
    let r = &report.record;
    if args.json {
        println!(
            "{}",
            json!({
                "ok": report.authenticated,
                "recorded": report.authenticated,
                "file": path.display().to_string(),
                "credential": r.credential.name(),
                "at": r.at,
                "backup_made_at": r.backup_made_at,
                "entries": r.entries,
                "missing": r.missing,
                "changed": r.changed,
                "extra": r.extra,
                "complete": r.complete(),
                "authenticated": report.authenticated,
            })
        );
        return not_recorded(report.authenticated);
    }
    println!(
        "Drill OK: the {} opened the backup made {} ({} accounts).",
        r.credential.name(),
        format_time(r.backup_made_at),
        r.entries
    );
    if r.complete() {
        println!("  It holds every account of the vault as it is now.");
    } else {
        println!(
            "  Not in it as they are now: {} missing, {} changed since — make a new backup.",
            r.missing, r.changed
        );
        for e in report.diff.missing.iter().chain(&report.diff.changed) {
            println!(
                "    {} {}",
                &e.id.to_string()[..8],
                twofold_core::vault::model::label(&e.issuer, &e.account)
            );
        }
    }
    if r.extra > 0 {
        println!(
            "  {} account(s) only in the backup (deleted since).",
            r.extra
        );
    }
    if report.authenticated {
        println!("Recorded in the vault.");
    }
    not_recorded(report.authenticated)
}

/// A drill of a backup that cannot be authenticated opened it, but proves nothing about
/// this vault's backups: the core recorded nothing, and the exit status says so.
fn not_recorded(authenticated: bool) -> CliResult {
    if authenticated {
        return Ok(());
    }
    Err(CliError::failed(
        "the drill is NOT recorded: this backup cannot be shown to be made with this vault's \
         keys (someone may have put it there, or it predates a key change). Make a new backup \
         and drill that one",
    ))
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CodesFor {
    Important,
    All,
    Off,
}

#[derive(Args)]
pub struct CheckupArgs {
    /// One JSON object (shape in the README).
    #[arg(long)]
    json: bool,
    /// Setting: a verified backup older than this many days is a finding.
    #[arg(long, value_name = "DAYS")]
    backup_days: Option<u32>,
    /// Setting: no restore drill within this many days is a finding.
    #[arg(long, value_name = "DAYS")]
    drill_days: Option<u32>,
    /// Setting: an account unused this many days is a finding.
    #[arg(long, value_name = "DAYS")]
    unused_days: Option<u32>,
    /// Setting: an HOTP counter this many codes past the last one used is a finding.
    #[arg(long, value_name = "CODES")]
    hotp_look_ahead: Option<u32>,
    /// Setting: which accounts need recovery codes.
    #[arg(long, value_enum)]
    recovery_codes_for: Option<CodesFor>,
    /// Setting: issuers that count as important (replaces the list; give "" to clear).
    #[arg(long, num_args = 0.., value_name = "ISSUER")]
    important: Option<Vec<String>>,
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "kind": f.kind,
        "severity": f.severity.name(),
        "message": f.message,
        "fix": f.fix,
        "entries": f.entries.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
}

fn settings_json(s: &CheckupSettings) -> Value {
    json!({
        "backup_max_age_days": s.backup_max_age_days,
        "drill_interval_days": s.drill_interval_days,
        "unused_days": s.unused_days,
        "hotp_look_ahead": s.hotp_look_ahead,
        "recovery_codes": match s.recovery_codes {
            RecoveryCodesPolicy::Important => "important",
            RecoveryCodesPolicy::All => "all",
            RecoveryCodesPolicy::Off => "off",
        },
        "important_issuers": s.important_issuers,
    })
}

pub fn checkup(g: &Global, args: &CheckupArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let changes_settings = args.backup_days.is_some()
        || args.drill_days.is_some()
        || args.unused_days.is_some()
        || args.hotp_look_ahead.is_some()
        || args.recovery_codes_for.is_some()
        || args.important.is_some();
    if changes_settings {
        let mut s = session.care().map_err(vault_error)?.settings;
        if let Some(v) = args.backup_days {
            s.backup_max_age_days = v;
        }
        if let Some(v) = args.drill_days {
            s.drill_interval_days = v;
        }
        if let Some(v) = args.unused_days {
            s.unused_days = v;
        }
        if let Some(v) = args.hotp_look_ahead {
            s.hotp_look_ahead = v;
        }
        if let Some(v) = args.recovery_codes_for {
            s.recovery_codes = match v {
                CodesFor::Important => RecoveryCodesPolicy::Important,
                CodesFor::All => RecoveryCodesPolicy::All,
                CodesFor::Off => RecoveryCodesPolicy::Off,
            };
        }
        if let Some(list) = &args.important {
            s.important_issuers = list
                .iter()
                .filter(|i| !i.trim().is_empty())
                .cloned()
                .collect();
        }
        session.set_checkup_settings(s).map_err(vault_error)?;
    }
    print_checkup(&session, args.json)
}

fn print_checkup(session: &VaultSession, as_json: bool) -> CliResult {
    let findings = checkup::run(session).map_err(vault_error)?;
    let care = session.care().map_err(vault_error)?;
    let status = session.care_status().map_err(vault_error)?;
    if as_json {
        let drill = care.last_drill();
        println!(
            "{}",
            json!({
                "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
                "newest_verified_backup": care.backup.as_ref().map(|b| json!({
                    "made_at": b.made_at, "verified_at": b.verified_at, "entries": b.entries,
                })),
                "last_drill": drill.map(|d| json!({
                    "at": d.at, "credential": d.credential.name(), "complete": d.complete(),
                })),
                "changed_since_backup": status.changed_since_backup,
                "drill_due": status.drill_due,
                "recovery_key_confirmed_at": care.recovery_key_confirmed_at,
                "settings": settings_json(&care.settings),
            })
        );
        return Ok(());
    }
    if findings.is_empty() {
        println!("Checkup: nothing to fix.");
    } else {
        println!("Checkup: {} finding(s)", findings.len());
    }
    for f in &findings {
        println!("[{}] {}", f.severity.name(), f.message);
        println!("    fix: {}", f.fix);
    }
    if let Some(d) = care.last_drill() {
        println!(
            "Last restore drill: {} with the {}, {}",
            format_time(d.at),
            d.credential.name(),
            if d.complete() {
                "OK"
            } else {
                "backup out of date"
            }
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct ExposureArgs {
    #[arg(long)]
    json: bool,
}

pub fn exposure(g: &Global, args: &ExposureArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let care = session.care().map_err(vault_error)?;
    let (content, _) = session.snapshot().map_err(vault_error)?;
    let name = |id| {
        content
            .entry(id)
            .map(|e| {
                let n = e.display_name();
                if e.deleted_at.is_some() {
                    format!("{n} (in the trash)")
                } else {
                    n
                }
            })
            .unwrap_or_else(|| "(deleted account)".to_owned())
    };
    let mut list = care.exposures.clone();
    list.sort_by_key(|x| std::cmp::Reverse(x.last_at));
    if args.json {
        let v: Vec<Value> = list
            .iter()
            .map(|x| {
                json!({
                    "entry": x.entry.to_string(),
                    "name": name(x.entry),
                    "way": x.way.id(),
                    "first_at": x.first_at,
                    "last_at": x.last_at,
                    "count": x.count,
                })
            })
            .collect();
        println!("{}", json!({"exposures": v}));
        return Ok(());
    }
    if list.is_empty() {
        println!("No secret has left this vault in copyable form (or every one was rotated).");
        return Ok(());
    }
    for x in &list {
        println!(
            "{}  {}: {}{}",
            format_time(x.last_at),
            name(x.entry),
            x.way.describe(),
            if x.count > 1 {
                format!(" ({} times since {})", x.count, format_time(x.first_at))
            } else {
                String::new()
            }
        );
    }
    println!("Rotate each with `twofold rotate ENTRY` after re-enrolling 2FA at the service.");
    Ok(())
}

#[derive(Args)]
pub struct RotateArgs {
    /// The entry whose secret is replaced.
    entry: String,
    /// The new otpauth:// URI the service showed.
    #[arg(long, conflicts_with = "qr")]
    uri: Option<String>,
    /// A picture (PNG/JPEG) of the service's new QR code.
    #[arg(long, value_name = "IMAGE")]
    qr: Option<PathBuf>,
    /// A code from the new secret that the service accepted.
    #[arg(long)]
    code: Option<String>,
}

fn ask_line(question: &str) -> CliResult<String> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid(format!(
            "{question} (no terminal to ask; pass it as an option)"
        )));
    }
    eprint!("{question} ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::failed(format!("cannot read: {e}")))?;
    Ok(line.trim().to_owned())
}

pub fn rotate(g: &Global, args: &RotateArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let e = resolve(&entries, &args.entry)?;
    let name = e.display_name();
    eprintln!(
        "Rotating {name}: at the service, turn two-factor authentication off and on again (or \
         \"reset authenticator\"); it shows a new QR code."
    );
    let text = match (&args.uri, &args.qr) {
        (Some(u), _) => Zeroizing::new(u.clone()),
        (None, Some(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?;
            Zeroizing::new(
                twofold_core::qr::decode_image(&bytes)
                    .map_err(CliError::invalid)?
                    .ok_or_else(|| {
                        CliError::invalid(format!("no QR code found in {}", path.display()))
                    })?,
            )
        }
        (None, None) => Zeroizing::new(ask_line("Paste the new otpauth:// URI:")?),
    };
    let cred = twofold_core::uri::parse(&text).map_err(CliError::of)?;
    let code = match &args.code {
        Some(c) => c.clone(),
        None => ask_line("Type a code from the new secret that the service accepted:")?,
    };
    let r = session
        .rotate_entry(e.id, cred.kind, cred.secret.clone(), &code)
        .map_err(vault_error)?;
    println!(
        "Rotated {name}: the new secret is entry {}; the old one is in the trash{}.",
        &r.new_entry.id.to_string()[..8],
        if r.cleared_exposures > 0 {
            "; its exposures are cleared"
        } else {
            ""
        }
    );
    Ok(())
}
