//! `twofold qr decode`, `scan`, `import`, `export`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use twofold_core::backup::{self, BackupOptions};
use twofold_core::interop::enroll::{Enrollment, ScanOutcome};
use twofold_core::interop::export as exports;
use twofold_core::interop::{self, Format, ImportError, ImportedEntry};
use twofold_core::qr;

use crate::context::{Global, read_secret, vault_error, with_spinner, write_private};
use crate::error::{CliError, CliResult};

#[derive(Subcommand)]
pub enum QrCommand {
    /// Print the text of the QR code in each image (PNG or JPEG).
    Decode(QrDecodeArgs),
}

#[derive(Args)]
pub struct QrDecodeArgs {
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

pub fn qr(command: &QrCommand) -> CliResult {
    let QrCommand::Decode(args) = command;
    let mut found = 0;
    for path in &args.images {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
        match qr::decode_image(&bytes) {
            Ok(Some(text)) => {
                found += 1;
                if args.images.len() == 1 {
                    println!("{text}");
                } else {
                    println!("{}: {text}", path.display());
                }
            }
            Ok(None) => eprintln!("{}: no QR code found", path.display()),
            Err(e) => eprintln!("{}: {e}", path.display()),
        }
    }
    if found == 0 {
        return Err(CliError::failed("no QR code found"));
    }
    Ok(())
}

fn describe(e: &ImportedEntry) -> String {
    let k = &e.kind;
    let params = match k.period() {
        Some(p) if k.type_name() != "steam" => {
            format!("{}, {} digits, {p} s", k.algorithm().name(), k.digits())
        }
        _ if k.type_name() == "hotp" => {
            format!("{}, {} digits, counter", k.algorithm().name(), k.digits())
        }
        _ => "Steam Guard".to_owned(),
    };
    format!("{} [{} · {params}]", e.label(), k.type_name())
}

fn confirm(question: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid("no terminal to confirm on; pass --yes"));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError::failed(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

#[derive(Args)]
pub struct ScanArgs {
    /// Photos or screenshots of QR codes (otpauth:// or Google Authenticator export codes).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Add without asking.
    #[arg(long)]
    yes: bool,
}

pub fn scan(g: &Global, args: &ScanArgs) -> CliResult {
    let mut enrollment = Enrollment::new();
    let mut problems = 0;
    for path in &args.images {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?;
        let text = match qr::decode_image(&bytes) {
            Ok(Some(t)) => t,
            Ok(None) => {
                eprintln!("{}: no QR code found", path.display());
                problems += 1;
                continue;
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                problems += 1;
                continue;
            }
        };
        match enrollment.scan(&text) {
            Ok(ScanOutcome::Account(_)) => {}
            Ok(ScanOutcome::Migration {
                progress, errors, ..
            }) => {
                println!(
                    "{}: Google Authenticator export, {}",
                    path.display(),
                    progress.describe()
                );
                for e in errors {
                    eprintln!("  skipped {e}");
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                problems += 1;
            }
        }
    }
    for p in enrollment.pending() {
        eprintln!(
            "twofold: incomplete Google export: {} — scan the missing codes too",
            p.describe()
        );
    }
    let found = enrollment.found_mut();
    if found.is_empty() {
        return Err(CliError::failed("nothing to add"));
    }
    println!(
        "Found {} account{}:",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    );
    for a in found.entries() {
        println!("  {}", describe(a));
    }
    if !args.yes && !confirm("Add them to the vault?")? {
        println!("Nothing added.");
        return Ok(());
    }
    add_accounts(g, found)?;
    if problems > 0 {
        eprintln!("twofold: {problems} image(s) could not be used");
    }
    Ok(())
}

/// Unlocks the vault, adds the waiting accounts (skipping duplicates) and says what happened.
pub fn add_accounts(g: &Global, accounts: &mut interop::PendingAccounts) -> CliResult {
    let (session, _) = g.unlock()?;
    let outcome = accounts.add_to(&session).map_err(vault_error)?;
    let n = outcome.added.len();
    println!("Added {n} account{}.", if n == 1 { "" } else { "s" });
    for d in &outcome.duplicates {
        println!("  already in the vault, skipped: {}", d.label);
    }
    for r in &outcome.rejected {
        println!("  not added: {}: {}", r.label, r.reason);
    }
    Ok(())
}

#[derive(Args)]
pub struct ImportArgs {
    /// The export file of another app (format detected from its contents).
    file: PathBuf,
    /// The format, if detection guesses wrong: otpauth, aegis, 2fas, andotp, andotp-encrypted,
    /// bitwarden, bitwarden-csv, ente-encrypted, freeotp-plus, proton, google, authy,
    /// authenticator-pro, authenticator-pro-db, freeotp, totp-authenticator, battlenet, duo,
    /// steam, winauth, authenticator-plus, google-db, microsoft-authenticator, keepass,
    /// lastpass, raivo, 1password, proton-pass.
    #[arg(long)]
    format: Option<String>,
    /// Password of an encrypted export (the global --password-file stays the vault's).
    #[arg(long, value_name = "PATH")]
    file_password_file: Option<PathBuf>,
    /// KeePass key file that unlocks the database (with or without a password).
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn import(g: &Global, args: &ImportArgs) -> CliResult {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError::failed(format!("{}: {e}", args.file.display())))?;
    let format = match &args.format {
        Some(name) => Some(
            Format::from_name(name)
                .ok_or_else(|| CliError::invalid(format!("unknown format '{name}'")))?,
        ),
        None => None,
    };
    let mut password = match &args.file_password_file {
        Some(p) => Some(read_secret(Some(p), "", "--file-password-file")?),
        None => None,
    };
    let key_file = match &args.key_file {
        Some(p) => {
            Some(zeroize::Zeroizing::new(std::fs::read(p).map_err(|e| {
                CliError::invalid(format!("{}: {e}", p.display()))
            })?))
        }
        None => None,
    };
    let report = loop {
        let attempt = with_spinner("Reading export (decrypting if needed)…", || {
            interop::import_with(
                &bytes,
                &interop::ImportOptions {
                    format,
                    password: password.as_deref().map(|p| p.as_slice()),
                    key_file: key_file.as_deref().map(|k| k.as_slice()),
                    heavy_kdf: g.allow_heavy_kdf,
                },
            )
        });
        match attempt {
            Err(ImportError::PasswordRequired)
                if password.is_none() && std::io::stdin().is_terminal() =>
            {
                password = Some(read_secret(
                    None,
                    "Password of the export file: ",
                    "--file-password-file",
                )?);
            }
            Err(e) => return Err(CliError::of(e)),
            Ok(r) => break r,
        }
    };
    let (session, _) = g.unlock()?;
    let read = report.entries.len();
    let outcome = interop::add_to_vault(&session, report.entries).map_err(vault_error)?;
    if args.json {
        // Items the file's reader refused carry their position in the file; accounts the
        // vault refused (a limit) have none.
        let failed: Vec<Value> = report
            .errors
            .iter()
            .map(|e| json!({"index": e.index, "label": e.label, "reason": e.reason}))
            .chain(outcome.rejected.iter().map(
                |r| json!({"index": Value::Null, "label": r.label, "reason": r.reason.to_string()}),
            ))
            .collect();
        let duplicates: Vec<&str> = outcome
            .duplicates
            .iter()
            .map(|d| d.label.as_str())
            .collect();
        println!(
            "{}",
            json!({
                "format": report.format.name(),
                "read": read,
                "imported": outcome.added.len(),
                "duplicates": duplicates,
                "failed": failed,
            })
        );
    } else {
        println!(
            "Imported {} of {read} accounts from {} ({}).",
            outcome.added.len(),
            args.file.display(),
            report.format.name()
        );
        for d in &outcome.duplicates {
            println!("  already in the vault, skipped: {}", d.label);
        }
        for r in &outcome.rejected {
            println!("  could not import {}: {}", r.label, r.reason);
        }
        for e in &report.errors {
            println!(
                "  could not import {} (item {}): {}",
                if e.label.is_empty() {
                    "an entry"
                } else {
                    &e.label
                },
                e.index + 1,
                e.reason
            );
        }
    }
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// otpauth:// URIs, one per line (plain text: contains the secrets).
    Otpauth,
    /// Aegis JSON, unencrypted (contains the secrets).
    Aegis,
    /// Aegis JSON encrypted with a password (scrypt + AES-256-GCM; Aegis opens it).
    AegisEncrypted,
    /// Google Authenticator transfer QR codes: PNG files and uris.txt in the --out folder.
    GoogleQr,
    /// FIDO Credential Exchange Format JSON (TOTP accounts).
    Cxf,
    /// Twofold's own encrypted, verified backup.
    Backup,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// File to write (a folder for google-qr).
    #[arg(long)]
    out: PathBuf,
    /// Password for aegis-encrypted and backup (backup defaults to the vault password).
    #[arg(long, value_name = "PATH")]
    file_password_file: Option<PathBuf>,
}

pub fn export(g: &Global, args: &ExportArgs) -> CliResult {
    let (session, vault_password) = g.unlock()?;
    let count = session.entries().map_err(vault_error)?.len();
    let failed = |e: exports::ExportError| match e {
        exports::ExportError::Vault(v) => vault_error(v),
        other => CliError::failed(other),
    };
    let file_password = || -> CliResult<_> {
        match &args.file_password_file {
            Some(p) => read_secret(Some(p), "", "--file-password-file"),
            None => read_secret(
                None,
                "Password for the export file: ",
                "--file-password-file",
            ),
        }
    };
    // Twofold's own backups keep recovery codes; other apps' formats have no place for them.
    let codes_left_out = || -> CliResult {
        let names = exports::recovery_codes_left_out(&session).map_err(failed)?;
        if !names.is_empty() {
            println!(
                "  recovery codes left out (this format has no place for them; they stay in the vault): {}",
                names.join(", ")
            );
        }
        Ok(())
    };
    let plain_warning = || {
        eprintln!(
            "twofold: warning: {} holds your secrets unencrypted; keep it safe and delete it after use",
            args.out.display()
        )
    };
    match args.format {
        ExportFormat::Otpauth => {
            let doc = exports::otpauth_list(&session).map_err(failed)?;
            write_private(&args.out, doc.as_bytes())?;
            plain_warning();
            println!("Exported {count} accounts to {}", args.out.display());
            codes_left_out()?;
        }
        ExportFormat::Aegis => {
            let doc = exports::aegis(&session, None).map_err(failed)?;
            write_private(&args.out, doc.as_bytes())?;
            plain_warning();
            println!("Exported {count} accounts to {}", args.out.display());
            codes_left_out()?;
        }
        ExportFormat::AegisEncrypted => {
            let pw = file_password()?;
            let doc = with_spinner("Encrypting (scrypt)…", || {
                exports::aegis(&session, Some(&pw))
            })
            .map_err(failed)?;
            write_private(&args.out, doc.as_bytes())?;
            println!(
                "Exported {count} accounts to {} (encrypted; Aegis opens it with that password)",
                args.out.display()
            );
            codes_left_out()?;
        }
        ExportFormat::Cxf => {
            let (doc, skipped) = exports::cxf(&session, super::now_ms()).map_err(failed)?;
            write_private(&args.out, doc.as_bytes())?;
            plain_warning();
            println!(
                "Exported {} accounts to {}",
                count - skipped.len(),
                args.out.display()
            );
            for s in skipped {
                println!("  not exported: {} ({})", s.label, s.reason);
            }
            codes_left_out()?;
        }
        ExportFormat::GoogleQr => {
            let (uris, skipped) = exports::google_migration(&session).map_err(failed)?;
            std::fs::create_dir_all(&args.out)
                .map_err(|e| CliError::failed(format!("{}: {e}", args.out.display())))?;
            for (n, uri) in uris.iter().enumerate() {
                let png = qr::encode(uri, qr::EcLevel::M)
                    .map_err(CliError::failed)?
                    .to_png(6);
                write_private(&args.out.join(format!("google-{}.png", n + 1)), &png)?;
            }
            let list = zeroize::Zeroizing::new(
                uris.iter()
                    .map(|u| format!("{}\n", u.as_str()))
                    .collect::<String>(),
            );
            write_private(&args.out.join("uris.txt"), list.as_bytes())?;
            eprintln!(
                "twofold: warning: Google's transfer codes carry the secrets unencrypted; show them only to your own phone"
            );
            println!(
                "Wrote {} QR code{} ({} accounts) to {}",
                uris.len(),
                if uris.len() == 1 { "" } else { "s" },
                count - skipped.len(),
                args.out.display()
            );
            for s in skipped {
                println!("  not exported: {} ({})", s.label, s.reason);
            }
            codes_left_out()?;
        }
        ExportFormat::Backup => {
            let pw = match &args.file_password_file {
                Some(p) => read_secret(Some(p), "", "--file-password-file")?,
                None => vault_password,
            };
            let report = with_spinner("Writing and verifying backup (Argon2id 256 MiB)…", || {
                backup::create_backup(&session, &args.out, &BackupOptions::new(Some(&pw)))
            })
            .map_err(vault_error)?;
            println!(
                "Backup written and verified: {} ({} entries)",
                report.path.display(),
                report.entry_count
            );
        }
    }
    Ok(())
}
