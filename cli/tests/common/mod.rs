//! The harness every CLI test file shares: a temporary lab of named vaults, each with its own
//! vault file (`NAME.vault`), password file (`NAME.pw`) and configuration directory (where its
//! trust record lives), and the `twofold` binary run against them as a user or a script would.
#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Key derivation cheap enough for tests (19 MiB, 2 passes).
pub const TEST_KDF: [&str; 4] = ["--kdf-memory", "19", "--kdf-passes", "2"];

/// `twofold` with no vault, configuration or password from the environment.
pub fn twofold_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    c.env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_PASSWORD_FILE")
        .env_remove("TWOFOLD_CONFIG_DIR");
    c
}

/// Runs `twofold ARGS` with no vault.
pub fn twofold(args: &[&str]) -> Output {
    twofold_cmd().args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fixture of the core's tests (`core/tests/fixtures/NAME`).
pub fn core_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(name)
}

/// The recovery key `init` prints (seven groups joined by dashes).
pub fn recovery_key_in(init_output: &str) -> String {
    init_output
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 34 && l.matches('-').count() == 6)
        .expect("recovery key printed")
        .to_owned()
}

/// The text after `prefix` on the first line that starts with it.
pub fn line_in(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no '{prefix}' in {text}"))
        .to_owned()
}

/// The transfer or join confirmation code a command printed.
pub fn code_in(text: &str) -> String {
    line_in(text, "Confirmation code: ")
}

/// A file's permission bits (the link's own, not its target's).
#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// A temporary directory holding named vaults.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// A lab where each vault of `vaults` exists (initialised with its password
    /// `"NAME password"`).
    pub fn new(vaults: &[&str]) -> Self {
        let lab = Lab::empty(vaults);
        for v in vaults {
            lab.init(v);
        }
        lab
    }

    /// A lab with password files for `vaults` but no vault yet.
    pub fn empty(vaults: &[&str]) -> Self {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        for v in vaults {
            lab.write_password(v, &format!("{v} password"));
        }
        lab
    }

    /// Creates vault `name` with the test KDF (and its password file, if it has none yet) and
    /// returns its recovery key.
    pub fn init(&self, name: &str) -> String {
        if !self.password_file(name).exists() {
            self.write_password(name, &format!("{name} password"));
        }
        let mut args = vec!["init"];
        args.extend(TEST_KDF);
        recovery_key_in(&self.ok(name, &args))
    }

    /// A path in the lab.
    pub fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Vault `name`'s file.
    pub fn vault(&self, name: &str) -> PathBuf {
        self.p(&format!("{name}.vault"))
    }

    /// Vault `name`'s password file.
    pub fn password_file(&self, name: &str) -> PathBuf {
        self.p(&format!("{name}.pw"))
    }

    /// Replaces vault `name`'s password file (with a newline, as an editor writes it).
    pub fn write_password(&self, name: &str, password: &str) {
        std::fs::write(self.password_file(name), format!("{password}\n")).unwrap();
    }

    /// `twofold --vault NAME.vault ARGS`, run in the lab, with the vault's own configuration
    /// directory and no password (it would prompt).
    pub fn cmd_without_password(&self, vault: &str, args: &[&str]) -> Command {
        let mut c = twofold_cmd();
        c.arg("--vault")
            .arg(self.vault(vault))
            .args(args)
            .current_dir(self.dir.path())
            .env("TWOFOLD_CONFIG_DIR", self.p(&format!("{vault}.config")));
        c
    }

    /// As [`Lab::cmd_without_password`], with the vault's password file.
    pub fn cmd(&self, vault: &str, args: &[&str]) -> Command {
        let mut c = self.cmd_without_password(vault, args);
        c.env("TWOFOLD_PASSWORD_FILE", self.password_file(vault));
        c
    }

    pub fn run(&self, vault: &str, args: &[&str]) -> Output {
        self.cmd(vault, args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, vault: &str, args: &[&str]) -> String {
        let o = self.run(vault, args);
        assert!(
            o.status.success(),
            "{vault} {args:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs and asserts the exit status; returns stderr.
    pub fn fails(&self, vault: &str, args: &[&str], status: i32) -> String {
        let o = self.run(vault, args);
        assert_eq!(
            o.status.code(),
            Some(status),
            "{vault} {args:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        String::from_utf8(o.stderr).unwrap()
    }

    /// Runs a `--json` command and parses its output.
    pub fn json(&self, vault: &str, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(vault, args)).unwrap()
    }
}

/// A lab with one vault, `main`, for tests about a single vault: the same commands without
/// naming the vault each time.
pub struct Solo(pub Lab);

impl Solo {
    /// No vault yet (`init` makes it); its password file is `main.pw`.
    pub fn new() -> Self {
        Solo(Lab::empty(&["main"]))
    }

    /// Creates the vault and returns its recovery key.
    pub fn init(&self) -> String {
        self.0.init("main")
    }

    /// A path in the lab (the vault is `main.vault`, its password file `main.pw`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.p(name)
    }

    /// Runs with `password_file` as the password (`None`: nothing given, it would prompt).
    pub fn run_with(&self, args: &[&str], password_file: Option<&Path>) -> Output {
        let mut c = self.0.cmd_without_password("main", args);
        if let Some(p) = password_file {
            c.env("TWOFOLD_PASSWORD_FILE", p);
        }
        c.output().unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.0.run("main", args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.0.ok("main", args)
    }

    pub fn json(&self, args: &[&str]) -> Value {
        self.0.json("main", args)
    }
}
