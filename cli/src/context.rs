//! What every vault command needs: where the vault is, how to get credentials without
//! echoing them, how to open and unlock, and how to find an entry from what the user typed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use twofold_core::crypto::KdfLimit;
use twofold_core::vault::{
    Entry, EntryId, FileTrustStore, Id, UnlockInfo, VaultEnv, VaultError, VaultSession,
};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// Options shared by every command.
#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// Vault file [default: the platform data directory, e.g.
    /// ~/.local/share/twofold/vault.twofold; env TWOFOLD_VAULT].
    #[arg(long, global = true, value_name = "PATH", env = "TWOFOLD_VAULT")]
    pub vault: Option<PathBuf>,
    /// Read the vault password from this file (first line) instead of prompting
    /// [env TWOFOLD_PASSWORD_FILE].
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "TWOFOLD_PASSWORD_FILE"
    )]
    pub password_file: Option<PathBuf>,
    /// Allow key derivations above the 256 MiB a phone survives (up to 1 GiB): for vaults
    /// made by Twofold 0.1 with --kdf-memory above 256, and for imports such as Ente's
    /// strongest exports.
    #[arg(long, global = true)]
    pub allow_heavy_kdf: bool,
}

/// The platform data directory for Twofold.
pub fn data_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        if let Some(h) = home {
            return h.join("Library/Application Support/twofold");
        }
    } else if cfg!(windows) {
        if let Some(a) = std::env::var_os("APPDATA") {
            return PathBuf::from(a).join("twofold");
        }
    } else if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("twofold");
    } else if let Some(h) = home {
        return h.join(".local/share/twofold");
    }
    PathBuf::from(".twofold")
}

/// The platform config directory for Twofold (where the trust records live): never next to
/// the vault, so whoever can replace a synced vault file cannot reset what this device saw.
pub fn config_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("TWOFOLD_CONFIG_DIR").filter(|x| !x.is_empty()) {
        return PathBuf::from(x);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        if let Some(h) = home {
            return h.join("Library/Preferences/twofold");
        }
    } else if cfg!(windows) {
        if let Some(a) = std::env::var_os("LOCALAPPDATA") {
            return PathBuf::from(a).join("twofold");
        }
    } else if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("twofold");
    } else if let Some(h) = home {
        return h.join(".config/twofold");
    }
    PathBuf::from(".twofold-config")
}

impl Global {
    /// The session environment: the real file system, and this device's trust record for
    /// the vault in the config directory.
    pub fn env(&self) -> VaultEnv {
        let trust = FileTrustStore::for_vault(&config_dir().join("trust"), &self.vault_path());
        VaultEnv {
            trust: Some(std::sync::Arc::new(trust)),
            kdf_limit: if self.allow_heavy_kdf {
                KdfLimit::V1
            } else {
                KdfLimit::DEFAULT
            },
            ..VaultEnv::default()
        }
    }

    pub fn vault_path(&self) -> PathBuf {
        self.vault
            .clone()
            .unwrap_or_else(|| data_dir().join("vault.twofold"))
    }

    /// The vault password: from `--password-file`, else a TTY prompt.
    pub fn password(&self, prompt: &str) -> CliResult<Zeroizing<Vec<u8>>> {
        read_secret(
            self.password_file.as_deref(),
            prompt,
            "--password-file or TWOFOLD_PASSWORD_FILE",
        )
    }

    /// Opens the vault, locked.
    pub fn open(&self) -> CliResult<VaultSession> {
        let path = self.vault_path();
        VaultSession::open_in(&path, self.env()).map_err(|e| match e {
            VaultError::NotFound(_) => CliError::failed(format!(
                "no vault at {} (create one with `twofold init`, or pass --vault)",
                path.display()
            )),
            other => vault_error(other),
        })
    }

    /// Opens and unlocks the vault with the password.
    pub fn unlock(&self) -> CliResult<(VaultSession, Zeroizing<Vec<u8>>)> {
        let session = self.open()?;
        let password = self.password("Vault password: ")?;
        let info = with_spinner("Unlocking (Argon2id)…", || {
            session.unlock_with_password(&password)
        })
        .map_err(vault_error)?;
        report_unlock(&info);
        Ok((session, password))
    }
}

/// Tells the user what an unlock found and repaired (on stderr).
pub fn report_unlock(info: &UnlockInfo) {
    if info.recovered_from_previous {
        eprintln!(
            "twofold: warning: the vault file was damaged; opened the previous generation and \
             rewrote the vault from it (generation {}).",
            info.generation
        );
    }
    if let Some(v) = info.upgraded_from {
        eprintln!("twofold: upgraded the vault from format {v} to format 2.");
    }
    if info.removed_pin_slots > 0 {
        eprintln!(
            "twofold: removed {} PIN slot(s) locked by too many wrong PINs.",
            info.removed_pin_slots
        );
    }
    if info.unendorsed_slots > 0 {
        eprintln!(
            "twofold: note: {} key slot(s) made before format 2 are confirmed the next time \
             they open the vault; confirm the recovery key now with `twofold recovery confirm`.",
            info.unendorsed_slots
        );
    }
}

/// Reads a secret from a file (first line, without its line ending) or a TTY prompt.
pub fn read_secret(file: Option<&Path>, prompt: &str, how: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    if let Some(path) = file {
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| CliError::failed(format!("cannot read {}: {e}", path.display())))?,
        );
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let line = &bytes[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Err(CliError::invalid(format!("{} is empty", path.display())));
        }
        return Ok(Zeroizing::new(line.to_vec()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid(format!(
            "no terminal to ask for a password; use {how}"
        )));
    }
    let text = Zeroizing::new(
        rpassword::prompt_password(prompt)
            .map_err(|e| CliError::failed(format!("cannot read password: {e}")))?,
    );
    Ok(Zeroizing::new(text.as_bytes().to_vec()))
}

/// Asks for a new password twice on a TTY (or reads it from a file once).
pub fn read_new_password(file: Option<&Path>, how: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    let first = read_secret(file, "New password: ", how)?;
    if file.is_none() {
        let again = read_secret(None, "Repeat it: ", how)?;
        if *again != *first {
            return Err(CliError::invalid("the passwords do not match"));
        }
    }
    let strength = twofold_core::vault::strength::estimate(&first);
    if !strength.acceptable {
        let hint = strength.feedback.first().map(String::as_str).unwrap_or("");
        eprintln!(
            "twofold: warning: this password is easy to guess ({}/4). {hint}",
            strength.score
        );
    }
    Ok(first)
}

/// Runs `f` with a spinner on stderr when it is a terminal (Argon2id takes a moment).
pub fn with_spinner<T>(message: &str, f: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return f();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(80));
    let out = f();
    bar.finish_and_clear();
    out
}

/// Maps core errors to exit statuses: wrong credentials and bad input are the user's (2),
/// the rest are failures (1).
pub fn vault_error(e: VaultError) -> CliError {
    match e {
        VaultError::Unverified(_) | VaultError::RolledBack { .. } | VaultError::Forged => {
            let hint = format!(
                "{e}. If this vault file is yours, `twofold trust accept` opens it anyway (asks \
                 for the password)"
            );
            CliError {
                message: hint,
                ..CliError::of(e)
            }
        }
        other => CliError::of(other),
    }
}

/// Finds one entry from what the user typed: a full id, a unique id prefix (4+ hex
/// characters), or a unique issuer / `issuer:account` (case-insensitive).
pub fn resolve<'a>(entries: &'a [Entry], query: &str) -> CliResult<&'a Entry> {
    if let Some(id) = Id::parse(query) {
        return entries
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| CliError::invalid(format!("no entry {query}")));
    }
    let q = query.to_lowercase();
    let by_prefix: Vec<&Entry> =
        if q.len() >= 4 && q.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            entries
                .iter()
                .filter(|e| e.id.to_string().starts_with(&q))
                .collect()
        } else {
            Vec::new()
        };
    let candidates = if by_prefix.is_empty() {
        entries
            .iter()
            .filter(|e| {
                let issuer = e.issuer.to_lowercase();
                let full = format!("{issuer}:{}", e.account.to_lowercase());
                issuer == q || full == q || e.account.to_lowercase() == q
            })
            .collect()
    } else {
        by_prefix
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::invalid(format!(
            "no entry matches '{query}' (see `twofold list`)"
        ))),
        many => Err(CliError::invalid(format!(
            "'{query}' matches {} entries; use more of the id (see `twofold list`)",
            many.len()
        ))),
    }
}

/// Id of the entry the user named.
pub fn resolve_id(entries: &[Entry], query: &str) -> CliResult<EntryId> {
    resolve(entries, query).map(|e| e.id)
}

/// The one writer of files that can hold a secret (see [`crate::private_file`]).
pub use crate::private_file::write_private;
