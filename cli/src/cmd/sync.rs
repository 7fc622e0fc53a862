//! `twofold sync …`: keep several devices in step through a folder or a WebDAV server
//! (`docs/sync-protocol.md`).
//!
//! Joining, in files (each step a command; every secret-bearing file 0600):
//!
//! 1. new device: `sync join --session S --invite-out invite.png` — shows the join invite
//! 2. a member: `sync add --invite invite.png --session T --frames-dir F` — records the
//!    device as pending (nothing is published), writes the sealed group data as QR frames
//! 3. new device: `sync join --session S --frames F` — prints its code, writes the reply
//! 4. the member: `sync add --session T --reply reply.png` — prints its code, asks whether
//!    the new device shows the same one; only then adds it (a signed add and a new group key)
//!    and syncs. A "no" cancels the pending admission
//! 5. new device: `sync join --session S --accept` — asks whether the codes match, joins,
//!    syncs; it becomes a member when it reads the member's admission

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use twofold_core::crypto::SystemRandom;
use twofold_core::qr;
use twofold_core::sync::engine::{Change, SyncReport};
use twofold_core::sync::join::{JoinInvite, Joiner, cancel_device, confirm_device, invite_device};
use twofold_core::sync::webdav::WebDavStorage;
use twofold_core::sync::{
    self, ConflictView, DeviceView, Keep, StorageConfig, SyncError, SyncStorage, SyncWarning,
};
use twofold_core::transfer::frames;
use twofold_core::vault::VaultSession;

use super::transfer::{ask, collect_frames, read_code_text, read_session};
use crate::context::{Global, read_secret, resolve, vault_error, write_private};
use crate::error::{CliError, CliResult};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCommand>,
}

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Read every device's latest state, merge, write this device's, print what changed
    /// (the default).
    Now,
    /// Make this vault the first device of a new sync group.
    Setup(SetupArgs),
    /// Devices, last updates, conflicts and warnings (rollback, fork, withheld files).
    Status(JsonArg),
    /// Changes made on two devices at once, kept for review.
    Conflicts(JsonArg),
    /// Keep one side of an entry's conflicts (or both).
    Resolve(ResolveArgs),
    /// The devices of the group.
    Devices(JsonArg),
    /// Remove a device: it reads nothing written afterwards, its later files are refused.
    Revoke(RevokeArgs),
    /// On the NEW device: show a join invite, then receive the group and join.
    Join(JoinArgs),
    /// On a device of the group: add the device whose join invite you scanned.
    Add(AddArgs),
    /// Stop syncing this vault (it keeps its accounts).
    Leave,
}

#[derive(Args)]
pub struct JsonArg {
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SetupArgs {
    /// A folder another program replicates (Syncthing, Nextcloud, Dropbox, iCloud Drive…).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "webdav",
        required_unless_present = "webdav"
    )]
    folder: Option<PathBuf>,
    /// A WebDAV collection (https://…; http:// only on this computer).
    #[arg(long, value_name = "URL")]
    webdav: Option<String>,
    /// WebDAV user name.
    #[arg(long, requires = "webdav")]
    user: Option<String>,
    /// WebDAV password (first line; for Nextcloud an app password), kept in the vault.
    #[arg(long, value_name = "FILE", requires = "user")]
    password_file: Option<PathBuf>,
    /// This device's name in the group [default: the host name].
    #[arg(long)]
    name: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeepArg {
    Mine,
    Theirs,
    Both,
}

#[derive(Args)]
pub struct ResolveArgs {
    /// The entry (id, id prefix, issuer or issuer:account), or the entry holding the other
    /// secret.
    entry: String,
    #[arg(long, value_enum)]
    keep: KeepArg,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The device's name or tag (see `sync devices`).
    device: String,
}

#[derive(Args)]
pub struct JoinArgs {
    /// Where to keep the join session's secret state (0600).
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// Start: write the join invite's QR code here (0600).
    #[arg(long, value_name = "PNG", conflicts_with_all = ["frames", "accept"])]
    invite_out: Option<PathBuf>,
    /// This device's name in the group [default: the host name].
    #[arg(long, requires = "invite_out")]
    name: Option<String>,
    /// Seconds the invite stays valid (at most 600).
    #[arg(long, default_value_t = 600, requires = "invite_out")]
    ttl: u64,
    /// The member's frames: a folder of images, an image, or a text file.
    #[arg(long, value_name = "DIR_OR_FILE")]
    frames: Option<PathBuf>,
    /// Where to write the reply's QR code (default: next to the session file).
    #[arg(long, value_name = "PATH")]
    reply_png: Option<PathBuf>,
    /// Join: asks whether the codes on both screens match.
    #[arg(long)]
    accept: bool,
    /// With --accept in scripts: you compared the codes and they match.
    #[arg(long, requires = "accept")]
    codes_match: bool,
    /// The group's folder as this device sees it (when it is mounted elsewhere here).
    #[arg(long, value_name = "DIR", requires = "accept")]
    folder: Option<PathBuf>,
    /// The WebDAV password, when the member did not share it.
    #[arg(long, value_name = "FILE", requires = "accept")]
    webdav_password_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct AddArgs {
    /// The new device's join invite: its text, or an image of its QR code.
    #[arg(long, required_unless_present = "reply")]
    invite: Option<String>,
    /// Where to keep what checks the reply (0600).
    #[arg(long, value_name = "FILE")]
    session: PathBuf,
    /// Write the sealed group data as PNG frames plus frames.txt into this folder.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "reply",
        required_unless_present = "reply"
    )]
    frames_dir: Option<PathBuf>,
    /// How many frames to write (default: twice what a lossless receiver needs, plus 10).
    #[arg(long, requires = "frames_dir")]
    count: Option<u64>,
    /// Also give the new device the WebDAV password (otherwise it asks for it).
    #[arg(long)]
    share_credentials: bool,
    /// The new device's reply (text or image): shows the code, then asks whether the new
    /// device shows the same one before it is added.
    #[arg(long, value_name = "TEXT_OR_IMAGE", conflicts_with = "invite")]
    reply: Option<String>,
    /// With --reply in scripts: you compared the codes and they match.
    #[arg(long, requires = "reply", conflicts_with = "cancel")]
    codes_match: bool,
    /// With --reply: the codes differ (or you gave up); the device is not added.
    #[arg(long, requires = "reply")]
    cancel: bool,
}

/// The member's join session file: a version byte, the invited device's key, then the
/// transfer sender's state.
const ADD_SESSION_VERSION: u8 = 1;

fn sync_error(e: SyncError) -> CliError {
    CliError::of(e)
}

pub fn run(g: &Global, args: &SyncArgs) -> CliResult {
    match args.command.as_ref().unwrap_or(&SyncCommand::Now) {
        SyncCommand::Now => now(g),
        SyncCommand::Setup(a) => setup(g, a),
        SyncCommand::Status(a) => status(g, a.json),
        SyncCommand::Conflicts(a) => conflicts(g, a.json),
        SyncCommand::Resolve(a) => resolve_conflict(g, a),
        SyncCommand::Devices(a) => devices(g, a.json),
        SyncCommand::Revoke(a) => revoke(g, a),
        SyncCommand::Join(a) => join(g, a),
        SyncCommand::Add(a) => add(g, a),
        SyncCommand::Leave => leave(g),
    }
}

fn host_name() -> String {
    let from_file = std::fs::read_to_string("/etc/hostname").ok();
    let name = std::env::var("HOSTNAME")
        .ok()
        .or(from_file)
        .map(|n| n.trim().chars().take(64).collect::<String>())
        .filter(|n| !n.is_empty());
    name.unwrap_or_else(|| "desktop".into())
}

/// The storage of the vault's group (folders and WebDAV).
fn storage_of(session: &VaultSession) -> CliResult<Box<dyn SyncStorage>> {
    let state = sync::state_of(session).map_err(sync_error)?;
    sync::open_storage(&state.storage).map_err(sync_error)
}

fn time(ms: i64) -> String {
    super::format_time(ms)
}

fn print_report(report: &SyncReport) {
    let count = |f: fn(&Change) -> bool| report.changes.iter().filter(|c| f(&c.change)).count();
    let added = count(|c| *c == Change::Added);
    let edited = count(|c| matches!(c, Change::Edited(_) | Change::Restored));
    let deleted = count(|c| matches!(c, Change::Trashed | Change::Removed));
    println!(
        "Synced: {added} added, {edited} edited, {deleted} deleted, {} conflict{} (from {} file{}).",
        report.new_conflicts.len(),
        if report.new_conflicts.len() == 1 {
            ""
        } else {
            "s"
        },
        report.files_merged,
        if report.files_merged == 1 { "" } else { "s" },
    );
    for c in &report.changes {
        let line = match &c.change {
            Change::Added => format!("  + {}", c.label),
            Change::Edited(fields) => format!("  ~ {}: {}", c.label, fields.join(", ")),
            Change::Trashed => format!("  - {} (moved to the trash)", c.label),
            Change::Restored => format!("  ~ {} (taken out of the trash)", c.label),
            Change::Removed => format!("  - {} (deleted for good)", c.label),
        };
        println!("{line}");
    }
    for c in &report.new_conflicts {
        println!("  ! {}", conflict_line(c));
    }
    if !report.new_conflicts.is_empty() {
        println!("Review with `twofold sync conflicts`.");
    }
    match &report.written {
        Some((name, bytes)) if report.local_changes > 0 => println!(
            "Sent {} change{} made here ({name}, {bytes} bytes).",
            report.local_changes,
            if report.local_changes == 1 { "" } else { "s" }
        ),
        Some((name, bytes)) => {
            println!("Wrote this device's merged state ({name}, {bytes} bytes).")
        }
        None => println!("Nothing to send."),
    }
    for w in &report.warnings {
        eprintln!("twofold: warning: {w}");
    }
}

fn conflict_line(c: &ConflictView) -> String {
    format!(
        "{}: {} changed on {} and on {} at about the same time — showing {:?} (from {}), kept {:?} (from {}) for review",
        c.label,
        c.field.name(),
        c.shown_by,
        c.other_by,
        c.shown,
        c.shown_by,
        c.other,
        c.other_by
    )
}

fn now(g: &Global) -> CliResult {
    let (session, _) = g.unlock()?;
    let storage = storage_of(&session)?;
    let report = sync::sync(&session, storage.as_ref()).map_err(sync_error)?;
    print_report(&report);
    Ok(())
}

fn setup(g: &Global, args: &SetupArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let name = args.name.clone().unwrap_or_else(host_name);
    let (config, storage): (StorageConfig, Box<dyn SyncStorage>) = match (
        &args.folder,
        &args.webdav,
    ) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            (
                StorageConfig::Folder {
                    path: dir.display().to_string(),
                },
                Box::new(sync::FolderStorage::new(&dir)),
            )
        }
        (None, Some(url)) => {
            let password = match &args.password_file {
                Some(f) => Some(
                    String::from_utf8(read_secret(Some(f), "", "--password-file")?.to_vec())
                        .map_err(|_| CliError::invalid("the WebDAV password is not text"))?,
                ),
                None if args.user.is_some() => Some(
                    String::from_utf8(
                        read_secret(None, "WebDAV password: ", "--password-file")?.to_vec(),
                    )
                    .map_err(|_| CliError::invalid("the WebDAV password is not text"))?,
                ),
                None => None,
            };
            let dav =
                WebDavStorage::new(url, args.user.clone(), password.clone()).map_err(sync_error)?;
            dav.ensure_collection().map_err(|e| sync_error(e.into()))?;
            match dav.probe() {
                Ok(caps) => {
                    if !caps.conditional_create {
                        eprintln!(
                            "twofold: note: this server ignores If-None-Match (fine: Twofold never relies on it)."
                        );
                    }
                    if !caps.etags {
                        eprintln!("twofold: note: this server lists no ETags (fine: not needed).");
                    }
                }
                Err(e) => return Err(sync_error(e.into())),
            }
            (
                StorageConfig::WebDav {
                    url: url.clone(),
                    user: args.user.clone(),
                    password,
                },
                Box::new(dav),
            )
        }
        (None, None) => return Err(CliError::invalid("give --folder DIR or --webdav URL")),
    };
    let described = config.describe();
    let report = sync::setup(&session, config, storage.as_ref(), &name).map_err(sync_error)?;
    println!("This vault is now device '{name}' of a new sync group in {described}.");
    println!(
        "Wrote {} ({} bytes). Add another device with `twofold sync join` on it and `twofold sync add` here.",
        report.written.as_ref().map_or("nothing", |w| w.0.as_str()),
        report.written.as_ref().map_or(0, |w| w.1)
    );
    Ok(())
}

fn device_json(d: &DeviceView) -> Value {
    json!({
        "name": d.name,
        "tag": d.tag,
        "this_device": d.this_device,
        "active": d.active,
        "revoked": d.revoked,
        "quarantined": d.quarantined,
        "generation": d.generation,
        "last_update": d.last_update,
        "last_seen": d.last_seen,
        "added_by": d.added_by,
        "added_at": d.added_at,
    })
}

fn warning_json(w: &SyncWarning) -> Value {
    json!({"kind": w.kind(), "message": w.to_string()})
}

fn device_line(d: &DeviceView) -> String {
    let state = if d.revoked {
        "removed"
    } else if d.quarantined {
        "ignored (forked)"
    } else {
        "active"
    };
    let update = match (d.this_device, d.last_update) {
        (true, _) => "this device".to_owned(),
        (false, Some(t)) => format!(
            "last update {} (generation {})",
            time(t),
            d.generation.unwrap_or(0)
        ),
        (false, None) => "no update read yet".to_owned(),
    };
    format!("  {} [{}] {state}, {update}", d.name, d.tag)
}

fn status(g: &Global, json: bool) -> CliResult {
    let (session, _) = g.unlock()?;
    let s = sync::status(&session).map_err(sync_error)?;
    if json {
        let v = json!({
            "group": s.group,
            "device": s.device_name,
            "storage": s.storage,
            "generation": s.generation,
            "last_sync": s.last_sync,
            "epoch": s.epoch,
            "revoked": s.revoked,
            "awaiting_admission": s.awaiting_admission,
            "devices": s.devices.iter().map(device_json).collect::<Vec<_>>(),
            "conflicts": s.open_conflicts,
            "warnings": s.warnings.iter().map(warning_json).collect::<Vec<_>>(),
        });
        println!("{v}");
        return Ok(());
    }
    println!("Sync group {} in {}", s.group, s.storage);
    println!(
        "This device: '{}', generation {}, last sync {}",
        s.device_name,
        s.generation,
        s.last_sync.map_or("never".into(), time)
    );
    if s.revoked {
        println!("This device was REMOVED from the group; it no longer syncs.");
    }
    if s.awaiting_admission {
        println!(
            "This device waits for the device that invited it to confirm the codes and sync; until then it writes nothing."
        );
    }
    println!("Devices:");
    for d in &s.devices {
        println!("{}", device_line(d));
    }
    println!("Conflicts to review: {}", s.open_conflicts);
    if s.warnings.is_empty() {
        println!("Warnings: none");
    } else {
        println!("Warnings:");
        for w in &s.warnings {
            println!("  {w}");
        }
    }
    Ok(())
}

fn conflicts(g: &Global, json: bool) -> CliResult {
    let (session, _) = g.unlock()?;
    let list = sync::conflicts(&session).map_err(sync_error)?;
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|c| {
                json!({
                    "entry": c.entry.to_string(),
                    "label": c.label,
                    "field": c.field.name(),
                    "shown": c.shown,
                    "shown_by": c.shown_by,
                    "shown_at": c.shown_at,
                    "other": c.other,
                    "other_by": c.other_by,
                    "other_at": c.other_at,
                    "other_entry": c.other_entry.map(|e| e.to_string()),
                    "mine_is_shown": c.mine_is_shown,
                })
            })
            .collect();
        println!("{}", Value::Array(v));
        return Ok(());
    }
    if list.is_empty() {
        println!("No conflicts.");
        return Ok(());
    }
    for c in &list {
        println!("{} [{}]", c.label, c.entry);
        println!("  {}", conflict_line(c));
    }
    println!("Keep one side with `twofold sync resolve ENTRY --keep mine|theirs|both`.");
    Ok(())
}

fn resolve_conflict(g: &Global, args: &ResolveArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let mut all = session.entries().map_err(vault_error)?;
    all.extend(session.trash().map_err(vault_error)?);
    let id = resolve(&all, &args.entry)?.id;
    let keep = match args.keep {
        KeepArg::Mine => Keep::Mine,
        KeepArg::Theirs => Keep::Theirs,
        KeepArg::Both => Keep::Both,
    };
    let n = sync::resolve(&session, id, keep).map_err(sync_error)?;
    println!("Resolved {n} conflict{}.", if n == 1 { "" } else { "s" });
    sync_after(&session);
    Ok(())
}

/// Publishes a change made outside a sync (resolve, revoke, add); a storage failure is
/// reported, not fatal: the next sync sends it.
fn sync_after(session: &VaultSession) {
    let result =
        storage_of(session).and_then(|s| sync::sync(session, s.as_ref()).map_err(sync_error));
    match result {
        Ok(r) => {
            if let Some((name, _)) = &r.written {
                println!("Sent ({name}).");
            }
            for w in &r.warnings {
                eprintln!("twofold: warning: {w}");
            }
        }
        Err(e) => eprintln!(
            "twofold: warning: not sent yet ({}); the next `twofold sync` sends it",
            e.message
        ),
    }
}

fn devices(g: &Global, json: bool) -> CliResult {
    let (session, _) = g.unlock()?;
    let list = sync::devices(&session).map_err(sync_error)?;
    if json {
        println!(
            "{}",
            Value::Array(list.iter().map(device_json).collect::<Vec<_>>())
        );
        return Ok(());
    }
    for d in &list {
        println!("{}", device_line(d));
    }
    Ok(())
}

fn revoke(g: &Global, args: &RevokeArgs) -> CliResult {
    let (session, _) = g.unlock()?;
    let d = sync::revoke(&session, &args.device).map_err(sync_error)?;
    println!(
        "Removed '{}' [{}]. It cannot read anything written from now on, and its later files are refused. It keeps what it already had.",
        d.name, d.tag
    );
    sync_after(&session);
    Ok(())
}

fn leave(g: &Global) -> CliResult {
    let (session, _) = g.unlock()?;
    sync::leave(&session).map_err(sync_error)?;
    println!(
        "This vault no longer syncs (its accounts stay). Remove it on another device with `twofold sync revoke`."
    );
    Ok(())
}

fn now_s() -> u64 {
    twofold_core::time::now_s()
}

fn join(g: &Global, args: &JoinArgs) -> CliResult {
    if let Some(png) = &args.invite_out {
        let rng = SystemRandom::new();
        let name = args.name.clone().unwrap_or_else(host_name);
        let joiner = Joiner::new(&name, now_s(), args.ttl, None, &rng).map_err(sync_error)?;
        write_private(&args.session, &joiner.to_bytes())?;
        let text = joiner.invite_text();
        let matrix = qr::encode(&text, qr::EcLevel::M).map_err(CliError::of)?;
        write_private(png, &matrix.to_png(6))?;
        print!("{}", matrix.to_terminal());
        println!("{text}");
        eprintln!(
            "Join invite for '{name}', valid until {}. Scan it on a device of the group (`twofold sync add --invite …`).",
            time(joiner.expires_at() as i64 * 1000)
        );
        return Ok(());
    }
    let mut joiner = Joiner::from_bytes(&read_session(&args.session)?).map_err(sync_error)?;
    if let Some(path) = &args.frames {
        if !joiner.receiver().progress().complete {
            collect_frames(joiner.receiver(), path)?;
            write_private(&args.session, &joiner.to_bytes())?;
        }
    } else if !joiner.receiver().progress().complete {
        return Err(CliError::invalid("nothing received yet: pass --frames"));
    }
    let code = joiner
        .receiver()
        .confirmation_code()
        .ok_or_else(|| CliError::failed("nothing received yet"))?;
    let preview = joiner
        .preview()
        .ok_or_else(|| CliError::failed("the group's data is not readable"))?;
    println!("Confirmation code: {code}");
    println!(
        "Group of {} (devices: {}), files in {}{}.",
        preview.inviter,
        preview.devices.join(", "),
        preview.storage,
        if preview.with_credentials {
            " (with the password)"
        } else {
            ""
        }
    );
    let reply = joiner
        .receiver()
        .reply()
        .ok_or_else(|| CliError::failed("nothing received yet"))?
        .to_text();
    let png_path = args.reply_png.clone().unwrap_or_else(|| {
        let mut p = args.session.clone().into_os_string();
        p.push(".reply.png");
        PathBuf::from(p)
    });
    let png = qr::encode(&reply, qr::EcLevel::M)
        .map_err(CliError::of)?
        .to_png(6);
    write_private(&png_path, &png)?;
    println!("Reply: {reply}");
    println!("Reply QR code: {}", png_path.display());
    if !args.accept {
        println!(
            "Not joined yet. Show the reply to the other device (`twofold sync add --session … --reply …`); if it shows the same code, run again with --accept."
        );
        return Ok(());
    }
    if !ask(
        &format!("Does the other device show the same code, {code}?"),
        args.codes_match,
        "--codes-match",
    )? {
        let _ = std::fs::remove_file(&args.session);
        let _ = std::fs::remove_file(&png_path);
        println!(
            "Not joined; start again with a new invite (and remove this device on the other one)."
        );
        return Ok(());
    }
    let (session, _) = g.unlock()?;
    let state_storage = joiner_storage(args, &preview)?;
    let joined = joiner.accept(&session, state_storage).map_err(sync_error)?;
    let _ = std::fs::remove_file(&args.session);
    let _ = std::fs::remove_file(&png_path);
    println!(
        "Joined the group of {} ({} devices).",
        joined.inviter,
        joined.devices.len()
    );
    let storage = storage_of(&session)?;
    let report = sync::sync(&session, storage.as_ref()).map_err(sync_error)?;
    print_report(&report);
    if sync::state_of(&session).is_ok_and(|s| s.awaiting_admission) {
        println!(
            "Waiting for {} to confirm the codes and sync: until then this device reads but writes nothing. Run `twofold sync` again afterwards.",
            joined.inviter
        );
    }
    Ok(())
}

/// The location the joining device uses, when it is not the bundle's as it stands.
fn joiner_storage(
    args: &JoinArgs,
    preview: &twofold_core::sync::join::JoinPreview,
) -> CliResult<Option<StorageConfig>> {
    if let Some(dir) = &args.folder {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        return Ok(Some(StorageConfig::Folder {
            path: dir.display().to_string(),
        }));
    }
    let Some(file) = &args.webdav_password_file else {
        return Ok(None);
    };
    // The bundle's URL and user, with the password given here.
    let (url, user) = preview
        .webdav
        .clone()
        .ok_or_else(|| CliError::invalid("the group's files are not on a WebDAV server"))?;
    let password =
        String::from_utf8(read_secret(Some(file), "", "--webdav-password-file")?.to_vec())
            .map_err(|_| CliError::invalid("the WebDAV password is not text"))?;
    Ok(Some(StorageConfig::WebDav {
        url,
        user,
        password: Some(password),
    }))
}

fn add(g: &Global, args: &AddArgs) -> CliResult {
    if let Some(reply) = &args.reply {
        let bytes = read_session(&args.session)?;
        let bad = || CliError::invalid("not a `sync add` session file");
        if bytes.len() < 33 || bytes[0] != ADD_SESSION_VERSION {
            return Err(bad());
        }
        let device: [u8; 32] = bytes[1..33].try_into().expect("32 bytes");
        let mut state =
            twofold_core::transfer::SenderState::from_bytes(&bytes[33..]).map_err(CliError::of)?;
        let (session, _) = g.unlock()?;
        if args.cancel {
            cancel_device(&session, &device).map_err(sync_error)?;
            println!("Cancelled: the device was not added.");
            return Ok(());
        }
        let reply = twofold_core::transfer::Reply::parse(&read_code_text(reply, "OTPX")?)
            .map_err(CliError::of)?;
        let code = state.accept_reply(&reply, now_s()).map_err(CliError::of)?;
        println!("Confirmation code: {code}");
        if !ask(
            &format!("Does the new device show the same code, {code}?"),
            args.codes_match,
            "--codes-match (or --cancel)",
        )? {
            cancel_device(&session, &device).map_err(sync_error)?;
            return Err(CliError::invalid(
                "the codes differ, so the device was not added: someone else may be in between. Start again with a new join invite.",
            ));
        }
        let rng = SystemRandom::new();
        let added = confirm_device(&session, &device, &rng).map_err(sync_error)?;
        println!(
            "Added '{}' to the group. It becomes a member when it reads this sync.",
            added.name
        );
        sync_after(&session);
        return Ok(());
    }
    let text = read_code_text(args.invite.as_deref().unwrap_or_default(), "OTPX")?;
    let invite = JoinInvite::parse(&text, now_s()).map_err(sync_error)?;
    let (session, _) = g.unlock()?;
    let rng = SystemRandom::new();
    let frame_bytes = frames::bytes_for_qr(frames::DEFAULT_QR_VERSION, frames::DEFAULT_EC_LEVEL);
    let (sender, device) =
        invite_device(&session, invite, args.share_credentials, frame_bytes, &rng)
            .map_err(sync_error)?;
    let mut file = vec![ADD_SESSION_VERSION];
    file.extend_from_slice(&device.key);
    file.extend_from_slice(&sender.state().to_bytes());
    write_private(&args.session, &file)?;
    let dir = args
        .frames_dir
        .as_deref()
        .expect("clap requires --frames-dir");
    let count = args.count.unwrap_or(sender.source_frames() as u64 * 2 + 10);
    let mut lines = String::new();
    for n in 0..count {
        let text = sender.frame(n);
        let png = qr::encode(&text, frames::DEFAULT_EC_LEVEL)
            .map_err(CliError::of)?
            .to_png(4);
        write_private(&dir.join(format!("frame-{n:04}.png")), &png)?;
        lines.push_str(&text);
        lines.push('\n');
    }
    write_private(&dir.join("frames.txt"), lines.as_bytes())?;
    println!(
        "Invited '{}' (not added yet). Wrote {count} frames to {} for it to read (it needs about {}).",
        device.name,
        dir.display(),
        sender.source_frames()
    );
    println!(
        "When it shows its reply, run `twofold sync add --session {} --reply REPLY` to compare the codes; it is added only if they match.",
        args.session.display()
    );
    Ok(())
}

/// Background sync for `twofold watch`: at start, after each change, and every minute.
pub struct Background {
    poke: mpsc::Sender<()>,
    changed: Arc<AtomicBool>,
    status: Arc<Mutex<Option<String>>>,
}

impl Background {
    /// Asks for a sync soon (after a change).
    pub fn poke(&self) {
        let _ = self.poke.send(());
    }

    /// Whether a sync changed the vault since the last call.
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::SeqCst)
    }

    /// A line for the status bar, once.
    pub fn take_status(&self) -> Option<String> {
        self.status.lock().ok()?.take()
    }
}

/// Starts background sync in `scope` when the vault is in a group with a folder or WebDAV
/// location; `None` otherwise.
pub fn background<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    session: &'env VaultSession,
) -> Option<Background> {
    let storage = storage_of(session).ok()?;
    let (tx, rx) = mpsc::channel::<()>();
    let changed = Arc::new(AtomicBool::new(false));
    let status = Arc::new(Mutex::new(None));
    let (c, s) = (changed.clone(), status.clone());
    scope.spawn(move || {
        loop {
            let message = match sync::sync(session, storage.as_ref()) {
                Ok(r) => {
                    if !r.changes.is_empty() || !r.new_conflicts.is_empty() {
                        c.store(true, Ordering::SeqCst);
                    }
                    match (r.changes.len(), r.warnings.first()) {
                        (_, Some(w)) => Some(format!("sync: {w}")),
                        (0, None) => None,
                        (n, None) => Some(format!("synced: {n} change(s) from other devices")),
                    }
                }
                Err(e) => Some(format!("sync: {e}")),
            };
            if let Some(m) = message
                && let Ok(mut slot) = s.lock()
            {
                *slot = Some(m);
            }
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {
                    // Let a burst of changes settle into one sync.
                    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    });
    Some(Background {
        poke: tx,
        changed,
        status,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use twofold_core::crypto::KdfParams;
    use twofold_core::vault::{CreateOptions, NewEntry};

    fn vault(dir: &std::path::Path, name: &str) -> VaultSession {
        VaultSession::create(
            &dir.join(name),
            CreateOptions {
                password: b"pw",
                kdf: KdfParams::FLOOR,
            },
        )
        .unwrap()
        .0
    }

    #[test]
    fn watch_syncs_in_the_background_at_start_and_after_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        let folder = sync::FolderStorage::new(&shared);
        let (a, b) = (vault(dir.path(), "a"), vault(dir.path(), "b"));
        let config = StorageConfig::Folder {
            path: shared.display().to_string(),
        };
        sync::setup(&a, config, &folder, "a").unwrap();
        let rng = SystemRandom::new();
        let now = now_s();
        let mut joiner = Joiner::new("b", now, 600, None, &rng).unwrap();
        let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
        let (mut sender, added) = invite_device(&a, invite, false, 800, &rng).unwrap();
        joiner.receiver().receive_blob(sender.blob(), now).unwrap();
        sender
            .accept_reply(&joiner.receiver().reply().unwrap(), now)
            .unwrap();
        confirm_device(&a, &added.key, &rng).unwrap();
        joiner.accept(&b, None).unwrap();
        sync::sync(&a, &folder).unwrap();
        a.add_entry(
            NewEntry::new(
                twofold_core::otp::OtpKind::DEFAULT_TOTP,
                twofold_core::Secret::from_bytes(vec![1; 20]).unwrap(),
                "Shared".into(),
                "x".into(),
            ),
            false,
        )
        .unwrap();
        sync::sync(&a, &folder).unwrap();
        let wait_for = |what: &str, f: &dyn Fn() -> bool| {
            let start = Instant::now();
            while !f() {
                assert!(start.elapsed() < Duration::from_secs(30), "{what}");
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        std::thread::scope(|scope| {
            let bg = background(scope, &b).expect("b is in a group");
            // At start: the entry arrives without any call.
            wait_for("the first background sync", &|| {
                b.entries().unwrap().iter().any(|e| e.issuer == "Shared")
            });
            // After a change here, a poke sends it.
            let id = b.entries().unwrap()[0].id;
            b.update_entry(
                id,
                twofold_core::vault::EntryUpdate {
                    note: Some("from b".into()),
                    ..Default::default()
                },
            )
            .unwrap();
            bg.poke();
            wait_for("the poked sync", &|| {
                sync::sync(&a, &folder).unwrap();
                a.entries().unwrap()[0].note == "from b"
            });
            drop(bg);
        });
    }
}
