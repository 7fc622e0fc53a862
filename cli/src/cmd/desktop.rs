//! Desktop daily use: `twofold copy` (the code on the clipboard, cleared after 20 s unless
//! something else was copied since), shell completions and the man page from the clap
//! definitions.
//!
//! The clipboard on X11 and Wayland belongs to a running program: the copied text lives only
//! as long as the process that offers it. So `copy` hands the code to a small detached child
//! (`twofold __clipboard-hold SECONDS`, the code on its standard input, never in its
//! arguments), which offers it, and after the delay clears the clipboard if it still holds
//! the code, then exits. The command itself returns at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use twofold_core::otp::OtpKind;
use zeroize::Zeroizing;

use crate::context::{Global, resolve, vault_error};
use crate::error::{CliError, CliResult};

/// Default time a copied code stays on the clipboard.
pub const CLEAR_AFTER_S: u64 = 20;

#[derive(Args)]
pub struct CopyArgs {
    /// The account: id, id prefix, issuer, issuer:account, or search words matching exactly
    /// one account.
    #[arg(required = true)]
    search: Vec<String>,
    /// Clear the clipboard after this many seconds (unless something else was copied).
    #[arg(long, value_name = "S", default_value_t = CLEAR_AFTER_S,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    clear_after: u64,
}

/// The first argument that makes `twofold` the clipboard helper.
pub const HOLD_ARG: &str = "__clipboard-hold";

#[derive(Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// The code of the one account `words` name; HOTP accounts advance (and save) their counter
/// first, as `hotp next` does.
fn code_for(g: &Global, words: &[String]) -> CliResult<(Zeroizing<String>, String)> {
    let (session, _) = g.unlock()?;
    let entries = session.entries().map_err(vault_error)?;
    let query = words.join(" ");
    let entry = match resolve(&entries, &query) {
        Ok(e) => e.clone(),
        Err(_) => {
            let found = session.search(&query).map_err(vault_error)?;
            match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(CliError::invalid(format!(
                        "no account matches '{query}' (see `twofold list`)"
                    )));
                }
                many => {
                    return Err(CliError::invalid(format!(
                        "'{query}' matches {} accounts; say which (see `twofold list`)",
                        many.len()
                    )));
                }
            }
        }
    };
    let code = if matches!(entry.kind, OtpKind::Hotp { .. }) {
        session.next_hotp(entry.id).map_err(vault_error)?
    } else {
        let codes = session.codes_at(super::now_ms()).map_err(vault_error)?;
        let c = codes
            .into_iter()
            .find(|c| c.entry_id == entry.id)
            .and_then(|c| c.code)
            .ok_or_else(|| CliError::failed("no code for this account"))?;
        session.record_use(entry.id).map_err(vault_error)?;
        session.flush_usage().map_err(vault_error)?;
        c
    };
    Ok((Zeroizing::new(code), entry.display_name()))
}

pub fn copy(g: &Global, args: &CopyArgs) -> CliResult {
    let (code, name) = code_for(g, &args.search)?;
    put_on_clipboard(&code, args.clear_after).map_err(|why| {
        CliError::failed(format!(
            "cannot use the clipboard ({why}); is a graphical session running (DISPLAY or \
             WAYLAND_DISPLAY)? `twofold codes {}` prints the code instead",
            args.search.join(" ")
        ))
    })?;
    println!(
        "Copied the code of {name}; the clipboard is cleared in {} s.",
        args.clear_after
    );
    Ok(())
}

/// Starts the detached helper that offers `code` on the clipboard and clears it after
/// `clear_after_s` seconds unless it changed; returns once the code is on the clipboard, or
/// why it could not be put there.
pub fn put_on_clipboard(code: &str, clear_after_s: u64) -> Result<(), String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the twofold program: {e}"))?;
    let mut child = Process::new(exe);
    child
        .arg(HOLD_ARG)
        .arg(clear_after_s.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Its own process group: closing the terminal or Ctrl-C does not end it early.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut child, 0);
    let mut child = child
        .spawn()
        .map_err(|e| format!("cannot start the clipboard helper: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(code.as_bytes())
            .map_err(|e| format!("clipboard helper: {e}"))?;
    }
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim_end() == "ok" {
        return Ok(());
    }
    let _ = child.wait();
    Err(line
        .trim()
        .strip_prefix("error ")
        .unwrap_or("no clipboard")
        .to_owned())
}

/// The hidden helper: reads the code from stdin, puts it on the clipboard (marked to stay out
/// of clipboard history where the desktop supports it), says `ok` (or `error …`) on stdout,
/// then keeps offering it and clears it after the delay if it is still there.
pub fn hold(clear_after: Option<&str>) -> CliResult {
    let clear_after: u64 = clear_after
        .and_then(|s| s.parse().ok())
        .filter(|s| (1..=3600).contains(s))
        .ok_or_else(|| CliError::invalid("the clipboard helper needs a delay in seconds"))?;
    let mut code = Zeroizing::new(String::new());
    std::io::stdin()
        .take(64)
        .read_to_string(&mut code)
        .map_err(|e| CliError::failed(e.to_string()))?;
    let mut out = std::io::stdout();
    let mut clipboard = match arboard::Clipboard::new() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "error {e}");
            return Err(CliError::failed(e.to_string()));
        }
    };
    #[cfg(target_os = "linux")]
    let set = {
        use arboard::SetExtLinux;
        clipboard.set().exclude_from_history().text(code.as_str())
    };
    #[cfg(not(target_os = "linux"))]
    let set = clipboard.set_text(code.as_str());
    if let Err(e) = set {
        let _ = writeln!(out, "error {e}");
        return Err(CliError::failed(e.to_string()));
    }
    let _ = writeln!(out, "ok");
    let _ = out.flush();
    let deadline = Instant::now() + Duration::from_secs(clear_after);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250).min(deadline - Instant::now()));
    }
    // Cleared only if it still holds the code: whatever was copied since stays.
    let still_ours = clipboard
        .get_text()
        .is_ok_and(|text| Zeroizing::new(text).as_str() == code.as_str());
    if still_ours {
        let _ = clipboard.clear();
        // Give the clipboard manager a moment to take the (empty) selection over.
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

pub fn completions(mut command: clap::Command, args: &CompletionsArgs) -> CliResult {
    let mut out = std::io::stdout();
    let name = command.get_name().to_owned();
    match args.shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut command, name, &mut out)
        }
        Shell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut command, name, &mut out)
        }
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut command, name, &mut out)
        }
        Shell::Elvish => {
            clap_complete::generate(clap_complete::Shell::Elvish, &mut command, name, &mut out)
        }
        Shell::Powershell => clap_complete::generate(
            clap_complete::Shell::PowerShell,
            &mut command,
            name,
            &mut out,
        ),
    }
    Ok(())
}

/// The man page: `twofold(1)` with every subcommand's page appended (one roff document).
pub fn man(command: clap::Command) -> CliResult {
    let mut out = Vec::new();
    let write = |man: clap_mangen::Man, out: &mut Vec<u8>| {
        man.render(out).map_err(|e| CliError::failed(e.to_string()))
    };
    let mut command = command;
    command.build();
    write(clap_mangen::Man::new(command.clone()), &mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page =
            clap_mangen::Man::new(sub.clone().bin_name(format!("twofold {}", sub.get_name())))
                .title(format!("twofold-{}", sub.get_name()));
        write(page, &mut out)?;
    }
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| CliError::failed(e.to_string()))
}
