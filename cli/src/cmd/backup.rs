//! `twofold backup create|verify|restore`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use twofold_core::backup::{
    self, BackupCredential, BackupDiff, BackupOptions, BackupReport, EntrySummary, RestoreMode,
};
use twofold_core::vault::{OsFileSystem, RecoveryKey, VaultError};
use zeroize::Zeroizing;

use crate::context::{Global, read_secret, vault_error, with_spinner};
use crate::error::{CliError, CliResult};

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Write an encrypted backup, read it back and check it against the vault.
    Create(CreateArgs),
    /// Check that a backup opens, and how it differs from the vault.
    Verify(VerifyArgs),
    /// Bring entries back from a backup.
    Restore(RestoreArgs),
    /// Restore drill: open the newest backup with the password (or recovery key) typed
    /// from memory, compare it with the vault, and record the result.
    Drill(super::care::DrillArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Backup file. Without it, a timestamped file in the backups folder next to the vault,
    /// keeping the newest --keep.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Seal with this password (Argon2id 256 MiB) instead of the vault password.
    #[arg(long, value_name = "PATH")]
    backup_password_file: Option<PathBuf>,
    /// How many automatic backups to keep (without --out).
    #[arg(long, default_value_t = 10)]
    keep: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CredentialArgs {
    /// The backup's own password, if it was made with --backup-password-file.
    #[arg(long, value_name = "PATH")]
    backup_password_file: Option<PathBuf>,
    /// Open with the recovery key (read from this file) instead of a password.
    #[arg(long, value_name = "PATH", conflicts_with = "backup_password_file")]
    recovery_key_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The backup file.
    file: PathBuf,
    #[command(flatten)]
    credential: CredentialArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["merge", "replace"])))]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Add entries the vault lacks; keep the newer version of entries in both.
    #[arg(long)]
    merge: bool,
    /// Make the vault's entries exactly the backup's (slots and passwords stay).
    #[arg(long)]
    replace: bool,
    /// Restore a backup that cannot be authenticated (made by Twofold 0.1, or opened by a
    /// recovery key not confirmed since the upgrade) because you know it is yours.
    #[arg(long)]
    accept_unverified: bool,
    #[command(flatten)]
    credential: CredentialArgs,
}

pub fn run(g: &Global, command: &BackupCommand) -> CliResult {
    match command {
        BackupCommand::Create(a) => create(g, a),
        BackupCommand::Verify(a) => verify(g, a),
        BackupCommand::Restore(a) => restore(g, a),
        BackupCommand::Drill(a) => super::care::drill(g, a),
    }
}

fn create(g: &Global, args: &CreateArgs) -> CliResult {
    let (session, vault_password) = g.unlock()?;
    let backup_password = match &args.backup_password_file {
        Some(p) => read_secret(Some(p), "", "--backup-password-file")?,
        None => vault_password,
    };
    let options = BackupOptions::new(Some(&backup_password));
    let (report, deleted) = match &args.out {
        Some(path) => {
            let r = with_spinner("Writing and verifying backup (Argon2id 256 MiB)…", || {
                backup::create_backup(&session, path, &options)
            })
            .map_err(vault_error)?;
            (r, vec![])
        }
        None => {
            let dir = g
                .vault_path()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
                .join("backups");
            let r = with_spinner("Writing and verifying backup (Argon2id 256 MiB)…", || {
                backup::auto_backup(&session, &dir, &options, args.keep)
            })
            .map_err(vault_error)?;
            (r.created, r.deleted)
        }
    };
    if args.json {
        println!("{}", report_json(&report, &deleted));
    } else {
        println!("Backup written and verified: {}", report.path.display());
        println!(
            "  {} entries, {} bytes, {}{}",
            report.entry_count,
            report.bytes,
            report.kdf.map(|k| k.to_string()).unwrap_or_default(),
            if report.sealed_to_recovery_key {
                "; the recovery key opens it too"
            } else {
                ""
            }
        );
        for d in &deleted {
            println!("  removed old backup {}", d.display());
        }
    }
    Ok(())
}

fn report_json(r: &BackupReport, deleted: &[PathBuf]) -> Value {
    json!({
        "path": r.path.display().to_string(),
        "verified": true,
        "entry_count": r.entry_count,
        "bytes": r.bytes,
        "kdf": r.kdf.map(|k| json!({"m_kib": k.m_kib, "t": k.t, "p": k.p})),
        "recovery_key": r.sealed_to_recovery_key,
        "deleted": deleted.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}

enum Cred {
    Password(Zeroizing<Vec<u8>>),
    Recovery(RecoveryKey),
}

impl Cred {
    fn backup(&self) -> BackupCredential<'_> {
        match self {
            Cred::Password(p) => BackupCredential::Password(p),
            Cred::Recovery(k) => BackupCredential::RecoveryKey(k),
        }
    }
}

/// The credential for a backup, and the vault password if we have it without asking again.
fn credential(g: &Global, args: &CredentialArgs) -> CliResult<(Cred, Option<Zeroizing<Vec<u8>>>)> {
    if let Some(p) = &args.backup_password_file {
        let vault_pw = match &g.password_file {
            Some(_) => Some(g.password("Vault password: ")?),
            None => None,
        };
        return Ok((
            Cred::Password(read_secret(Some(p), "", "--backup-password-file")?),
            vault_pw,
        ));
    }
    if let Some(p) = &args.recovery_key_file {
        let text = read_secret(Some(p), "", "--recovery-key-file")?;
        let key = RecoveryKey::parse(&String::from_utf8_lossy(&text)).map_err(CliError::invalid)?;
        let vault_pw = match &g.password_file {
            Some(_) => Some(g.password("Vault password: ")?),
            None => None,
        };
        return Ok((Cred::Recovery(key), vault_pw));
    }
    let pw = g.password("Backup (vault) password: ")?;
    Ok((Cred::Password(pw.clone()), Some(pw)))
}

fn summary_json(v: &[EntrySummary]) -> Value {
    Value::Array(
        v.iter()
            .map(|e| json!({"id": e.id.to_string(), "issuer": e.issuer, "account": e.account}))
            .collect(),
    )
}

fn diff_json(d: &BackupDiff) -> Value {
    json!({"missing": summary_json(&d.missing), "changed": summary_json(&d.changed), "extra": summary_json(&d.extra)})
}

fn verify(g: &Global, args: &VerifyArgs) -> CliResult {
    let (cred, vault_password) = credential(g, &args.credential)?;
    // Compare with the vault when it exists and we can open it without another prompt.
    let current = match vault_password {
        Some(pw) if g.vault_path().exists() => {
            let session = g.open()?;
            match session.unlock_with_password(&pw) {
                Ok(_) => Some(session.read(|c| c.clone()).map_err(vault_error)?),
                Err(VaultError::WrongCredential) => None,
                Err(e) => return Err(vault_error(e)),
            }
        }
        _ => None,
    };
    let result = with_spinner("Opening backup (Argon2id)…", || {
        backup::verify_backup(&OsFileSystem, &args.file, &cred.backup(), current.as_ref())
    });
    let v = result.map_err(|e| match e {
        VaultError::Corrupt(reason) => {
            CliError::failed(format!("backup does NOT verify: {reason}"))
        }
        VaultError::WrongCredential => {
            CliError::invalid("backup does NOT open: wrong password or key")
        }
        other => vault_error(other),
    })?;
    if args.json {
        println!(
            "{}",
            json!({
                "ok": true,
                "entry_count": v.entry_count,
                "newest_change": v.newest_change,
                "created_at": v.created_at,
                "diff": v.diff.as_ref().map(diff_json),
                "format_version": v.format_version,
                "authenticated": v.authenticated,
            })
        );
        return Ok(());
    }
    println!(
        "Backup OK: {} entries, made {}",
        v.entry_count,
        super::format_time(v.created_at)
    );
    if let Some(t) = v.newest_change {
        println!("  newest change: {}", super::format_time(t));
    }
    if !v.authenticated {
        println!(
            "  NOT authenticated: {} — restore it only if you know it is yours \
             (`backup restore --accept-unverified`)",
            if v.format_version == 1 {
                "made by Twofold 0.1 (format 1), which cannot show who made it"
            } else {
                "the key that opened it does not vouch for the keys that signed it"
            }
        );
    }
    match &v.diff {
        None => println!("  (not compared with the vault)"),
        Some(d) if d.is_empty() => println!("  identical to the vault"),
        Some(d) => {
            for (what, list) in [
                ("missing from backup", &d.missing),
                ("changed since", &d.changed),
                ("only in backup", &d.extra),
            ] {
                for e in list.iter() {
                    println!("  {what}: {} {}", &e.id.to_string()[..8], name(e));
                }
            }
        }
    }
    Ok(())
}

fn name(e: &EntrySummary) -> String {
    twofold_core::vault::model::label(&e.issuer, &e.account)
}

fn restore(g: &Global, args: &RestoreArgs) -> CliResult {
    let (session, vault_password) = g.unlock()?;
    let cred = if args.credential.backup_password_file.is_some()
        || args.credential.recovery_key_file.is_some()
    {
        let global = Global {
            password_file: None,
            ..g.clone()
        };
        credential(&global, &args.credential)?.0
    } else {
        Cred::Password(vault_password)
    };
    let mode = if args.replace {
        RestoreMode::Replace
    } else {
        RestoreMode::Merge
    };
    let r = with_spinner("Restoring (Argon2id)…", || {
        backup::restore_backup(
            &session,
            &args.file,
            &cred.backup(),
            mode,
            args.accept_unverified,
        )
    })
    .map_err(|e| match e {
        VaultError::Unverified(_) => CliError::failed(format!(
            "{e}. If you know this backup is yours, add --accept-unverified"
        )),
        other => vault_error(other),
    })?;
    println!(
        "Restored from {}: {} added, {} updated, {} unchanged, {} removed",
        args.file.display(),
        r.added,
        r.updated,
        r.unchanged,
        r.removed
    );
    Ok(())
}
