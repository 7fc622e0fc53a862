//! `twofold recovery kit` (the printable emergency sheet), `recovery rotate --kit` (a new key
//! and its kit in one step) and `recovery kit-read` (the accounts codes of a printed kit back
//! into a backup file).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use twofold_core::qr;
use twofold_core::recovery_kit::{self, KitFormat, KitOptions};
use twofold_core::vault::{InputError, RecoveryKey, VaultSession};
use zeroize::Zeroizing;

use crate::context::{Global, read_secret, vault_error, with_spinner, write_private};
use crate::error::{CliError, CliResult};

#[derive(Clone, Copy, ValueEnum)]
pub enum KitFormatArg {
    Pdf,
    Html,
}

/// Where the kit goes and what it holds (shared by `kit` and `rotate --kit`).
#[derive(Args, Clone)]
pub struct KitOutput {
    /// pdf (A4, embedded fonts) or html (one self-contained file) [default: from the
    /// file name's extension, else pdf].
    #[arg(long, value_enum)]
    format: Option<KitFormatArg>,
    /// Add the accounts, sealed to the recovery key, as QR codes (the paper alone then
    /// restores everything; about 40 accounts fit).
    #[arg(long)]
    with_accounts: bool,
    /// Where your backups are kept, printed on the sheet [default: the backups folder next to
    /// the vault, where `twofold backup create` writes them].
    #[arg(long, value_name = "TEXT")]
    backup_location: Option<String>,
}

#[derive(Args)]
pub struct KitArgs {
    /// The file to write (mode 0600, atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    kit: KitOutput,
    /// Read the recovery key from this file instead of prompting (it is checked against the
    /// vault; the kit is written only if it is right).
    #[arg(long, value_name = "PATH")]
    recovery_key_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct RotateArgs {
    /// Also write the emergency kit of the new key to this file, in the same step.
    #[arg(long, value_name = "FILE")]
    kit: Option<PathBuf>,
    #[command(flatten)]
    output: KitOutput,
}

#[derive(Args)]
pub struct KitReadArgs {
    /// Photos or scans of the kit's accounts codes (PNG or JPEG): single codes or whole
    /// pages, in any order.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// The backup file to write; restore it with `twofold backup restore FILE --merge
    /// --recovery-key-file …`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn format_for(path: &Path, arg: Option<KitFormatArg>) -> KitFormat {
    match arg {
        Some(KitFormatArg::Pdf) => KitFormat::Pdf,
        Some(KitFormatArg::Html) => KitFormat::Html,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm") => {
                KitFormat::Html
            }
            _ => KitFormat::Pdf,
        },
    }
}

fn default_backup_location(g: &Global) -> String {
    let vault = g.vault_path();
    let dir = vault
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .join("backups");
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    format!("{} (on this computer)", dir.display())
}

/// Renders the kit (with a spinner on a terminal) and writes it.
fn write_kit(
    g: &Global,
    session: &VaultSession,
    key: &RecoveryKey,
    out: &Path,
    kit: &KitOutput,
) -> CliResult {
    let format = format_for(out, kit.format);
    let options = KitOptions {
        with_accounts: kit.with_accounts,
        backup_location: Some(
            kit.backup_location
                .clone()
                .unwrap_or_else(|| default_backup_location(g)),
        ),
    };
    let bytes = with_spinner("Making the recovery kit…", || {
        recovery_kit::recovery_kit(session, key, format, &options)
    })
    .map_err(vault_error)?;
    write_private(out, &bytes)?;
    println!(
        "Wrote the recovery kit to {} ({} bytes{}). Print it and keep it somewhere safe; it is a \
         credential: anyone holding it can open your accounts. Delete the file once printed.",
        out.display(),
        bytes.len(),
        if kit.with_accounts {
            ", with the accounts"
        } else {
            ""
        }
    );
    Ok(())
}

pub fn kit(g: &Global, args: &KitArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let typed = read_secret(
        args.recovery_key_file.as_deref(),
        "Recovery key (as printed at setup): ",
        "--recovery-key-file",
    )?;
    let text = Zeroizing::new(String::from_utf8_lossy(&typed).into_owned());
    let key = RecoveryKey::parse(&text).map_err(|e| vault_error(e.into()))?;
    write_kit(g, &session, &key, &args.out, &args.kit)
}

pub fn rotate(g: &Global, args: &RotateArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let key = session.rotate_recovery_key().map_err(vault_error)?;
    println!("New recovery key (the old one no longer opens the vault or new backups):");
    println!();
    println!("    {}", key.reveal().as_str());
    if let Some(out) = &args.kit {
        println!();
        write_kit(g, &session, &key, out, &args.output)?;
    }
    Ok(())
}

pub fn kit_read(args: &KitReadArgs) -> CliResult {
    let mut texts = Vec::new();
    for path in &args.images {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?;
        let found = qr::decode_image_all(&bytes).map_err(CliError::of)?;
        if found.is_empty() {
            return Err(CliError::failed(format!(
                "no QR code found in {} (photograph the codes flat and sharp, or one at a time)",
                path.display()
            )));
        }
        texts.extend(found);
    }
    // A whole page may hold other codes too (the recovery key's, on page 1): keep the parts,
    // unless there are none (then the error says what was found).
    if texts
        .iter()
        .any(|t| t.starts_with(recovery_kit::PART_PREFIX))
    {
        texts.retain(|t| t.starts_with(recovery_kit::PART_PREFIX));
    }
    texts.sort();
    texts.dedup();
    let backup = recovery_kit::join_account_parts(&texts)
        .map_err(|e| vault_error(InputError::from(e).into()))?;
    // The parts are a sealed backup: encrypted, but a credential's worth of data all the same.
    write_private(&args.out, &backup)?;
    println!(
        "Put {} codes back together into {} ({} bytes). Restore it with `twofold backup \
         restore {} --merge --recovery-key-file FILE`.",
        texts.len(),
        args.out.display(),
        backup.len(),
        args.out.display()
    );
    Ok(())
}
