//! Desktop daily use: `copy` on a real X server (Xvfb, when installed), shell completions and
//! the man page.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn twofold(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twofold"));
    cmd.arg("--vault")
        .arg(dir.join("vault.twofold"))
        .args(args)
        .env_remove("TWOFOLD_VAULT")
        .env_remove("WAYLAND_DISPLAY")
        .env("TWOFOLD_CONFIG_DIR", dir.join("config"))
        .env("TWOFOLD_PASSWORD_FILE", dir.join("pw"));
    cmd
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_parse_and_name_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let bash = ok(twofold(dir.path(), &["completions", "bash"])
        .output()
        .unwrap());
    let script: PathBuf = dir.path().join("twofold.bash");
    std::fs::write(&script, &bash).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    for sub in [
        "backup",
        "recovery",
        "time",
        "copy",
        "completions",
        "man",
        "watch",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    assert!(
        !bash.contains("__clipboard-hold"),
        "the hidden helper is not offered"
    );
    // The completion completes: ask it for `twofold rec<TAB>`.
    let probe = format!(
        "source {}; COMP_WORDS=(twofold rec); COMP_CWORD=1; _twofold twofold rec twofold; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = Command::new("bash").arg("-c").arg(&probe).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("recovery"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let text = ok(twofold(dir.path(), &["completions", shell])
            .output()
            .unwrap());
        assert!(text.contains("calibrate"), "{shell}");
    }
    if Command::new("zsh").arg("--version").output().is_ok() {
        let zsh = ok(twofold(dir.path(), &["completions", "zsh"])
            .output()
            .unwrap());
        std::fs::write(dir.path().join("_twofold"), zsh).unwrap();
        let check = Command::new("zsh")
            .arg("-n")
            .arg(dir.path().join("_twofold"))
            .output()
            .unwrap();
        assert!(check.status.success(), "zsh -n");
    }
    let bad = twofold(dir.path(), &["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_page_has_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = ok(twofold(dir.path(), &["man"]).output().unwrap());
    assert!(
        page.starts_with(".ie") || page.contains(".TH twofold"),
        "roff: {}",
        &page[..80.min(page.len())]
    );
    let help = ok(twofold(dir.path(), &["--help"]).output().unwrap());
    // Every command `--help` lists has its own page.
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() > 20, "{commands:?}");
    for c in &commands {
        assert!(
            page.contains(&format!(".TH twofold-{c} ")),
            "no page for {c}"
        );
    }
    assert!(!page.contains("__clipboard-hold"));
    // man renders it without warnings, when man is installed.
    let path = dir.path().join("twofold.1");
    std::fs::write(&path, &page).unwrap();
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&path)
        .output()
    {
        assert!(
            out.status.success(),
            "groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private X server on a free display number, or `None` when Xvfb is not installed.
fn xvfb() -> Option<(Xvfb, String)> {
    for n in 90..120 {
        if std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Xvfb(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Some((server, display));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        return None;
    }
    None
}

fn clipboard(display: &str) -> String {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", display)
        .output()
        .expect("xclip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn copy_puts_the_code_on_the_clipboard_and_clears_it() {
    let Some((_server, display)) = xvfb() else {
        eprintln!(
            "Xvfb is not installed: the clipboard test was skipped (scripts/test.sh installs xvfb and xclip)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "hunter2 hunter2\n").unwrap();
    ok(twofold(
        dir.path(),
        &["init", "--kdf-memory", "19", "--kdf-passes", "2"],
    )
    .output()
    .unwrap());
    ok(twofold(
        dir.path(),
        &[
            "add",
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        ],
    )
    .output()
    .unwrap());
    ok(twofold(
        dir.path(),
        &["add", "otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQ"],
    )
    .output()
    .unwrap());
    let codes_now = || {
        let text = ok(twofold(dir.path(), &["codes", "github", "--json"])
            .output()
            .unwrap());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let c = &v[0];
        [
            c["code"].as_str().unwrap().to_owned(),
            c["next_code"].as_str().unwrap_or("").to_owned(),
        ]
    };

    // Copied, then cleared after the delay; the command itself returns at once.
    let before = codes_now();
    let start = Instant::now();
    let out = ok(twofold(dir.path(), &["copy", "git", "--clear-after", "3"])
        .env("DISPLAY", &display)
        .output()
        .unwrap());
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "copy waited for the clearing"
    );
    assert!(out.contains("GitHub"), "{out}");
    let held = clipboard(&display);
    assert!(
        before.contains(&held) || codes_now().contains(&held),
        "clipboard holds {held:?}"
    );
    assert_eq!(held.len(), 6);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(clipboard(&display), "", "cleared after 3 s");

    // Something copied meanwhile is left alone.
    ok(twofold(dir.path(), &["copy", "Bank", "--clear-after", "2"])
        .env("DISPLAY", &display)
        .output()
        .unwrap());
    assert_eq!(clipboard(&display).len(), 6);
    let mut other = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .env("DISPLAY", &display)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    other
        .stdin
        .take()
        .unwrap()
        .write_all(b"my own text")
        .unwrap();
    other.wait().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(clipboard(&display), "my own text");

    // Ambiguous or unknown searches copy nothing.
    for search in ["zzz", "a"] {
        let o = twofold(dir.path(), &["copy", search])
            .env("DISPLAY", &display)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{search}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Without any display the user is told, with the way out.
    let o = twofold(dir.path(), &["copy", "Bank"])
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("twofold codes"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
