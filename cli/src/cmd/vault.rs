//! Vault commands: init, add, list, codes, edit, rm, trash, restore, purge, hotp, passwd,
//! recovery.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;
use twofold_core::Secret;
use twofold_core::crypto::KdfParams;
use twofold_core::otp::{self, OtpKind};
use twofold_core::uri;
use twofold_core::vault::{
    CreateOptions, EntryUpdate, FileTrustStore, GroupRef, InsertPolicy, NewEntry, OnDuplicate,
    OnUnknownGroup, RecoveryKey, TrustRecord, TrustStore, VaultSession,
};

use super::code::AlgorithmArg;
use super::output::{code_json, entry_json};
use crate::context::{
    Global, read_new_password, read_secret, report_unlock, resolve, resolve_id, vault_error,
    with_spinner,
};
use crate::error::{CliError, CliResult};
use twofold_core::vault::codes::CodeList;

#[derive(Args)]
pub struct InitArgs {
    /// Argon2id memory in MiB (default 64; at least 19).
    #[arg(long, value_name = "MIB", default_value_t = KdfParams::DEFAULT.m_kib / 1024)]
    kdf_memory: u32,
    /// Argon2id passes (default 3; at least 2).
    #[arg(long, value_name = "N", default_value_t = KdfParams::DEFAULT.t)]
    kdf_passes: u32,
}

pub fn init(g: &Global, args: &InitArgs) -> CliResult {
    let path = g.vault_path();
    let kdf = KdfParams {
        m_kib: args.kdf_memory.saturating_mul(1024),
        t: args.kdf_passes,
        p: 1,
    };
    kdf.check_readable().map_err(CliError::invalid)?;
    if path.exists() {
        return Err(CliError::invalid(format!(
            "a vault already exists at {}",
            path.display()
        )));
    }
    let password = read_new_password(
        g.password_file.as_deref(),
        "--password-file or TWOFOLD_PASSWORD_FILE",
    )?;
    let (_, recovery) = with_spinner("Creating vault (Argon2id)…", || {
        VaultSession::create_in(
            &path,
            CreateOptions {
                password: &password,
                kdf,
            },
            g.env(),
        )
    })
    .map_err(vault_error)?;
    println!("Created {}", path.display());
    println!();
    println!("Recovery key (shown only now; write it down and keep it apart from this device):");
    println!();
    println!("    {}", recovery.reveal().as_str());
    println!();
    println!("It opens the vault and its backups if you forget the password:");
    println!("    twofold recovery unlock");
    Ok(())
}

#[derive(Args)]
pub struct AddArgs {
    /// otpauth:// URI of the account (or use --secret).
    uri: Option<String>,
    /// Base32 secret.
    #[arg(long, value_name = "BASE32", conflicts_with = "uri")]
    secret: Option<String>,
    /// Service name.
    #[arg(long)]
    issuer: Option<String>,
    /// Account name at the service.
    #[arg(long)]
    account: Option<String>,
    #[arg(long, value_enum, default_value = "SHA1")]
    algorithm: AlgorithmArg,
    #[arg(long, default_value_t = otp::DEFAULT_DIGITS)]
    digits: u8,
    #[arg(long, default_value_t = otp::DEFAULT_PERIOD)]
    period: u32,
    /// HOTP with this starting counter.
    #[arg(long, value_name = "N", conflicts_with = "steam")]
    hotp: Option<u64>,
    /// Steam Guard.
    #[arg(long)]
    steam: bool,
    /// A note kept with the entry.
    #[arg(long)]
    note: Option<String>,
    /// Put the entry in this group (created if missing).
    #[arg(long)]
    group: Option<String>,
    /// Mark as favorite.
    #[arg(long)]
    favorite: bool,
    /// Add even if the same account (secret and kind) is already in the vault.
    #[arg(long)]
    force: bool,
}

pub fn add(g: &Global, args: &AddArgs) -> CliResult {
    let mut new = match (&args.uri, &args.secret) {
        (Some(text), _) => NewEntry::from_credential(uri::parse(text).map_err(CliError::of)?),
        (None, Some(b32)) => {
            let secret = Secret::from_base32(b32).map_err(CliError::invalid)?;
            let algorithm = args.algorithm.into();
            let kind = if args.steam {
                OtpKind::Steam
            } else if let Some(counter) = args.hotp {
                OtpKind::Hotp {
                    algorithm,
                    digits: args.digits,
                    counter,
                }
            } else {
                OtpKind::Totp {
                    algorithm,
                    digits: args.digits,
                    period: args.period,
                }
            };
            kind.validate().map_err(CliError::invalid)?;
            NewEntry::new(kind, secret, String::new(), String::new())
        }
        (None, None) => return Err(CliError::invalid("give an otpauth:// URI or --secret")),
    };
    if let Some(v) = &args.issuer {
        new.issuer = v.clone();
    }
    if let Some(v) = &args.account {
        new.account = v.clone();
    }
    if let Some(v) = &args.note {
        new.note = v.clone();
    }
    new.favorite = args.favorite;
    let weak = new.secret.is_weak();
    let (session, _) = g.unlock()?;
    if let Some(name) = &args.group {
        new.groups = vec![GroupRef::Name(name.clone())];
    }
    let policy = InsertPolicy {
        on_duplicate: if args.force {
            OnDuplicate::Allow
        } else {
            OnDuplicate::Error
        },
        on_unknown_group: OnUnknownGroup::Create,
    };
    let entry = session.add_entry_with(new, policy).map_err(|e| match e {
        twofold_core::vault::VaultError::Duplicate(id) => CliError::invalid(format!(
            "this account is already in the vault as {id}; use --force to add it again"
        )),
        other => vault_error(other),
    })?;
    if weak {
        eprintln!(
            "twofold: note: this secret is shorter than 128 bits (the service chose it; it still works)"
        );
    }
    println!("Added {} {}", entry.id, entry.display_name());
    Ok(())
}

fn group_id(session: &VaultSession, name: &str) -> CliResult<twofold_core::vault::GroupId> {
    let groups = session.groups().map_err(vault_error)?;
    match groups.iter().find(|x| x.name.eq_ignore_ascii_case(name)) {
        Some(x) => Ok(x.id),
        None => Ok(session.add_group(name).map_err(vault_error)?.id),
    }
}

#[derive(Args)]
pub struct ListArgs {
    /// Only entries matching this text (issuer, account, note, group; case and accents ignored).
    search: Vec<String>,
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
}

pub fn list(g: &Global, args: &ListArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session
        .search(&args.search.join(" "))
        .map_err(vault_error)?;
    let groups = session.groups().map_err(vault_error)?;
    if args.json {
        let v: Vec<Value> = entries.iter().map(|e| entry_json(e, &groups)).collect();
        println!("{}", Value::Array(v));
        return Ok(());
    }
    if entries.is_empty() {
        println!("No entries. Add one with `twofold add <otpauth-uri>`.");
    }
    for e in &entries {
        let fav = if e.favorite { "★ " } else { "" };
        println!(
            "{}  {:<5} {fav}{}",
            &e.id.to_string()[..8],
            e.kind.type_name(),
            e.display_name()
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct CodesArgs {
    /// Only entries matching this text.
    search: Vec<String>,
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
    /// Codes at this time (seconds since 1970-01-01 UTC) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<u64>,
}

pub fn codes(g: &Global, args: &CodesArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let at = super::at_ms(args.at);
    // The apps' list rule (vault::codes): favourites first, then the vault's order.
    let mut list = CodeList::new();
    list.set_query(&args.search.join(" "));
    let listed = list.rows(&session, at).map_err(vault_error)?;
    if args.json {
        println!(
            "{}",
            Value::Array(listed.rows.iter().map(code_json).collect())
        );
        return Ok(());
    }
    let width = listed
        .rows
        .iter()
        .map(|r| r.display_name().chars().count())
        .max()
        .unwrap_or(0);
    for r in &listed.rows {
        let code = match r.code_display() {
            Some(code) => format!(
                "{code}   ({:>2}s, next {})",
                r.remaining_ms.div_ceil(1000),
                r.next_code_display().unwrap_or_default()
            ),
            None => "(hotp: `twofold hotp next`)".to_owned(),
        };
        println!("{:<width$}  {code}", r.display_name());
    }
    if listed.clock_warning {
        eprintln!(
            "twofold: warning: codes are shifted by a clock offset of {} s",
            listed.clock_offset_s
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct EditArgs {
    /// Entry: id, id prefix, issuer or issuer:account.
    entry: String,
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    note: Option<String>,
    /// Put the entry in this group (created if missing); an empty name removes all groups.
    #[arg(long)]
    group: Option<String>,
    #[arg(long, overrides_with = "no_favorite")]
    favorite: bool,
    #[arg(long)]
    no_favorite: bool,
    /// New number of digits (TOTP/HOTP).
    #[arg(long)]
    digits: Option<u8>,
    /// New period in seconds (TOTP).
    #[arg(long)]
    period: Option<u32>,
}

pub fn edit(g: &Global, args: &EditArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let e = resolve(&entries, &args.entry)?;
    let mut update = EntryUpdate {
        issuer: args.issuer.clone(),
        account: args.account.clone(),
        note: args.note.clone(),
        ..Default::default()
    };
    if args.favorite {
        update.favorite = Some(true);
    } else if args.no_favorite {
        update.favorite = Some(false);
    }
    if let Some(name) = &args.group {
        update.group_ids = Some(if name.is_empty() {
            vec![]
        } else {
            vec![group_id(&session, name)?]
        });
    }
    if args.digits.is_some() || args.period.is_some() {
        update.kind = Some(match e.kind {
            OtpKind::Totp {
                algorithm,
                digits,
                period,
            } => OtpKind::Totp {
                algorithm,
                digits: args.digits.unwrap_or(digits),
                period: args.period.unwrap_or(period),
            },
            OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            } => {
                if args.period.is_some() {
                    return Err(CliError::invalid("HOTP entries have no period"));
                }
                OtpKind::Hotp {
                    algorithm,
                    digits: args.digits.unwrap_or(digits),
                    counter,
                }
            }
            OtpKind::Steam => {
                return Err(CliError::invalid(
                    "Steam codes have fixed digits and period",
                ));
            }
        });
    }
    let updated = session.update_entry(e.id, update).map_err(vault_error)?;
    println!("Updated {} {}", updated.id, updated.display_name());
    Ok(())
}

#[derive(Args)]
pub struct EntryArg {
    /// Entry: id, id prefix, issuer or issuer:account.
    entry: String,
}

pub fn rm(g: &Global, args: &EntryArg) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let e = resolve(&entries, &args.entry)?;
    session.delete_entry(e.id).map_err(vault_error)?;
    println!(
        "Moved {} to the trash (`twofold restore {}` brings it back)",
        e.display_name(),
        &e.id.to_string()[..8]
    );
    Ok(())
}

#[derive(Args)]
pub struct TrashArgs {
    #[arg(long)]
    json: bool,
}

pub fn trash(g: &Global, args: &TrashArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let entries = session.trash().map_err(vault_error)?;
    let groups = session.groups().map_err(vault_error)?;
    if args.json {
        println!(
            "{}",
            Value::Array(entries.iter().map(|e| entry_json(e, &groups)).collect())
        );
        return Ok(());
    }
    if entries.is_empty() {
        println!("The trash is empty.");
    }
    let retention = session
        .read(|c| c.settings.trash_retention_days)
        .map_err(vault_error)?;
    for e in &entries {
        println!("{}  {}", &e.id.to_string()[..8], e.display_name());
    }
    if !entries.is_empty() {
        println!("(entries are purged {retention} days after deletion)");
    }
    Ok(())
}

pub fn restore(g: &Global, args: &EntryArg) -> CliResult {
    let (session, _) = g.unlock()?;
    let trashed = session.trash().map_err(vault_error)?;
    let id = resolve_id(&trashed, &args.entry)?;
    session.restore_entry(id).map_err(vault_error)?;
    println!(
        "Restored {}",
        session.entry(id).map_err(vault_error)?.display_name()
    );
    Ok(())
}

#[derive(Args)]
pub struct PurgeArgs {
    /// Entry in the trash to delete for good.
    entry: Option<String>,
    /// Empty the whole trash.
    #[arg(long, conflicts_with = "entry")]
    all: bool,
}

pub fn purge(g: &Global, args: &PurgeArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    if args.all {
        let n = session.empty_trash().map_err(vault_error)?;
        println!("Purged {n} entries");
        return Ok(());
    }
    let Some(query) = &args.entry else {
        return Err(CliError::invalid("name an entry in the trash, or --all"));
    };
    let trashed = session.trash().map_err(vault_error)?;
    let e = resolve(&trashed, query)?;
    session.purge_entry(e.id).map_err(vault_error)?;
    println!("Purged {}", e.display_name());
    Ok(())
}

#[derive(Subcommand)]
pub enum HotpCommand {
    /// Advance the counter (saved first) and print the next code.
    Next(EntryArg),
}

pub fn hotp(g: &Global, command: &HotpCommand) -> CliResult {
    let HotpCommand::Next(args) = command;
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let id = resolve_id(&entries, &args.entry)?;
    println!("{}", session.next_hotp(id).map_err(vault_error)?);
    Ok(())
}

#[derive(Args)]
pub struct PasswdArgs {
    /// Read the new password from this file instead of prompting.
    #[arg(long, value_name = "PATH")]
    new_password_file: Option<PathBuf>,
}

pub fn passwd(g: &Global, args: &PasswdArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let new = read_new_password(args.new_password_file.as_deref(), "--new-password-file")?;
    with_spinner("Changing password (Argon2id)…", || {
        session.change_password(&new, KdfParams::DEFAULT)
    })
    .map_err(vault_error)?;
    println!(
        "Password changed; the vault key was rotated (biometric, PIN and recovery slots still work)."
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum RecoveryCommand {
    /// Open the vault with the recovery key and set a new password.
    Unlock(RecoveryUnlockArgs),
    /// Replace the recovery key with a new one (shown once; `--kit FILE` also writes its
    /// printable emergency kit).
    Rotate(super::kit::RotateArgs),
    /// Type the recovery key to check it (and, for a vault upgraded from format 1, to let
    /// its slot vouch for the vault from now on). Changes nothing else.
    Confirm(RecoveryKeyFileArg),
    /// Write the printable emergency kit (PDF or HTML): the recovery key, typed again here
    /// and checked, as text and QR code, the vault id, the date, where backups live and
    /// step-by-step recovery instructions; `--with-accounts` adds the accounts as QR codes
    /// only the recovery key opens.
    Kit(super::kit::KitArgs),
    /// Put the accounts codes of a printed kit (photos or scans, one code per image) back
    /// together into a backup file.
    KitRead(super::kit::KitReadArgs),
}

#[derive(Args)]
pub struct RecoveryKeyFileArg {
    /// Read the recovery key from this file instead of prompting.
    #[arg(long, value_name = "PATH")]
    recovery_key_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct RecoveryUnlockArgs {
    /// Read the recovery key from this file instead of prompting.
    #[arg(long, value_name = "PATH")]
    recovery_key_file: Option<PathBuf>,
    /// Read the new password from this file instead of prompting.
    #[arg(long, value_name = "PATH")]
    new_password_file: Option<PathBuf>,
}

pub fn recovery(g: &Global, command: &RecoveryCommand) -> CliResult {
    match command {
        RecoveryCommand::Unlock(args) => {
            let session = g.open()?;
            let key = read_secret(
                args.recovery_key_file.as_deref(),
                "Recovery key: ",
                "--recovery-key-file",
            )?;
            let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&key).into_owned());
            let info = session
                .unlock_with_recovery_key(&text)
                .map_err(vault_error)?;
            report_unlock(&info);
            eprintln!("Recovery key accepted. Choose a new password.");
            let new = read_new_password(args.new_password_file.as_deref(), "--new-password-file")?;
            with_spinner("Setting new password (Argon2id)…", || {
                session.change_password(&new, KdfParams::DEFAULT)
            })
            .map_err(vault_error)?;
            println!("New password set. The recovery key still works.");
            Ok(())
        }
        RecoveryCommand::Rotate(args) => super::kit::rotate(g, args),
        RecoveryCommand::Kit(args) => super::kit::kit(g, args),
        RecoveryCommand::KitRead(args) => super::kit::kit_read(args),
        RecoveryCommand::Confirm(args) => {
            let (session, _) = g.unlock()?;
            let key = read_secret(
                args.recovery_key_file.as_deref(),
                "Recovery key: ",
                "--recovery-key-file",
            )?;
            let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&key).into_owned());
            let key = RecoveryKey::parse(&text).map_err(|e| vault_error(e.into()))?;
            session.confirm_recovery_key(&key).map_err(vault_error)?;
            println!("The recovery key is correct: it opens this vault and its backups.");
            Ok(())
        }
    }
}

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Open a vault file this device would refuse — older than the one it last saw,
    /// written with other keys, or made by Twofold 0.1 — because you know it is yours. It
    /// is rewritten under fresh keys that this device then trusts (asks for the password).
    Accept,
    /// What this device remembers about the vault (to notice files put back or forged).
    Status,
}

pub fn trust(g: &Global, command: &TrustCommand) -> CliResult {
    match command {
        TrustCommand::Accept => {
            let session = g.open()?;
            let password = g.password("Vault password: ")?;
            let info = with_spinner("Unlocking (Argon2id)…", || {
                session.unlock_with_password_accepting_untrusted(&password)
            })
            .map_err(vault_error)?;
            report_unlock(&info);
            if info.accepted_untrusted {
                println!(
                    "Accepted the vault file as yours and rewrote it under fresh keys \
                     (generation {}).",
                    info.generation
                );
            } else {
                println!(
                    "The vault file was already trusted on this device (generation {}).",
                    info.generation
                );
            }
            Ok(())
        }
        TrustCommand::Status => {
            let store = FileTrustStore::for_vault(
                &crate::context::config_dir().join("trust"),
                &g.vault_path(),
            );
            let record = store
                .load()
                .map_err(|e| CliError::failed(format!("{}: {e}", store.path().display())))?
                .as_deref()
                .and_then(TrustRecord::decode);
            match record {
                None => println!(
                    "No record of this vault on this device yet ({}); the next unlock makes one.",
                    store.path().display()
                ),
                Some(r) => {
                    println!("record:       {}", store.path().display());
                    println!("vault id:     {}", twofold_core::crypto::hex(&r.vault_id));
                    println!("generation:   {} (older files are refused)", r.generation);
                    println!(
                        "signing key:  {}",
                        twofold_core::crypto::hex(&r.signer[..8])
                    );
                    println!("HOTP floors:  {} account(s)", r.hotp.len());
                    let locked = r.locked_pin_slots().len();
                    if locked > 0 {
                        println!("locked PINs:  {locked}");
                    }
                }
            }
            Ok(())
        }
    }
}
