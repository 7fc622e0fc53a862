//! `twofold recovery kit`, `recovery rotate --kit`, `recovery kit-read` and `time calibrate`
//! end to end, as a user runs them.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Vault {
    dir: tempfile::TempDir,
    name: &'static str,
}

impl Vault {
    fn new() -> Self {
        Self::named("vault.twofold")
    }

    fn named(name: &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "hunter2 hunter2\n").unwrap();
        Vault { dir, name }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_twofold"))
            .arg("--vault")
            .arg(self.path(self.name))
            .args(args)
            .env_remove("TWOFOLD_VAULT")
            .env("TWOFOLD_CONFIG_DIR", self.path("config"))
            .env("TWOFOLD_PASSWORD_FILE", self.path("pw"))
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Creates the vault; returns the recovery key as printed.
    fn init(&self) -> String {
        let out = self.ok(&["init", "--kdf-memory", "19", "--kdf-passes", "2"]);
        find_key(&out)
    }
}

fn find_key(out: &str) -> String {
    out.lines()
        .map(str::trim)
        .find(|l| l.len() == 34 && l.matches('-').count() == 6)
        .expect("recovery key printed")
        .to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pdf_text(path: &Path) -> String {
    let o = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Each quarter of each accounts page as its own PNG (one code per image, like photos).
fn photograph_parts(pdf: &Path, dir: &Path) -> Vec<PathBuf> {
    let o = Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png", "-f", "2"])
        .arg(pdf)
        .arg(dir.join("page"))
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(o.status.success());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    let mut photos = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        let img = image::open(page).unwrap().to_luma8();
        let (w, h) = img.dimensions();
        let split = h * 440 / 842;
        for (q, (x0, y0, x1, y1)) in [
            (0, 0, w / 2, split),
            (w / 2, 0, w, split),
            (0, split, w / 2, h),
            (w / 2, split, w, h),
        ]
        .into_iter()
        .enumerate()
        {
            let crop = image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image();
            // Blank quarters (the last page's) are not photographed.
            if crop.pixels().all(|p| p.0[0] > 200) {
                continue;
            }
            let path = dir.join(format!("photo-{n}-{q}.png"));
            crop.save(&path).unwrap();
            photos.push(path);
        }
    }
    photos
}

#[test]
fn kit_with_accounts_restores_a_new_vault_from_paper() {
    let v = Vault::new();
    let key = v.init();
    v.ok(&[
        "add",
        "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
    ]);
    for i in 0..6 {
        v.ok(&[
            "add",
            &format!(
                "otpauth://totp/Shop{i}:bob?secret=GEZDGNBVGY3TQOJ{}",
                ["Q", "R", "S", "T", "U", "V"][i]
            ),
        ]);
    }
    std::fs::write(
        v.path("rk"),
        format!("{}\n", key.to_lowercase().replace('-', " ")),
    )
    .unwrap();
    let out = v.ok(&[
        "recovery",
        "kit",
        "--out",
        &v.s("kit.pdf"),
        "--with-accounts",
        "--recovery-key-file",
        &v.s("rk"),
    ]);
    assert!(out.contains("credential"), "{out}");
    let pdf = v.path("kit.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    #[cfg(unix)]
    assert_eq!(mode(&pdf), 0o600);
    let text = pdf_text(&pdf);
    assert!(text.contains(&key), "the key in groups");
    // The default backup location is the folder `backup create` writes to.
    assert!(text.contains("backups"), "{text}");
    // No temporary file is left next to it, and the key is in no other file.
    for entry in std::fs::read_dir(v.dir.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name}");
    }

    // A new computer: a new vault, the paper, the recovery key.
    let photos = photograph_parts(&pdf, v.dir.path());
    assert!(!photos.is_empty());
    let photo_args: Vec<String> = photos
        .iter()
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    let mut args = vec!["recovery", "kit-read", "--out"];
    let backup = v.s("from-paper.twfb");
    args.push(&backup);
    // In reverse order: the order does not matter.
    args.extend(photo_args.iter().rev().map(String::as_str));
    v.ok(&args);
    let fresh = Vault::named("new.twofold");
    fresh.init();
    let restored = fresh.run(&[
        "backup",
        "restore",
        &backup,
        "--merge",
        "--accept-unverified",
        "--recovery-key-file",
        &v.s("rk"),
    ]);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let old = v.json(&["list", "--json"]);
    let new = fresh.json(&["list", "--json"]);
    let names = |l: &Value| {
        let mut v: Vec<String> = l
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{}:{}", e["issuer"], e["account"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&old), names(&new));
    assert_eq!(new.as_array().unwrap().len(), 7);
    // Same codes: the secrets came through.
    let at = ["codes", "--json", "--at", "1700000000"];
    let codes = |j: Value| {
        let mut c: Vec<String> = j
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].to_string())
            .collect();
        c.sort();
        c
    };
    assert_eq!(codes(v.json(&at)), codes(fresh.json(&at)));

    // Whole pages (all of them, the key's page too) work as well.
    let mut pages: Vec<String> = std::fs::read_dir(v.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    pages.sort();
    let key_page = v.path("key-page");
    let o = Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&key_page)
        .output()
        .unwrap();
    assert!(o.status.success());
    let first = std::fs::read_dir(v.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("key-page")
        })
        .unwrap();
    pages.push(first.to_str().unwrap().to_owned());
    let whole = v.s("from-pages.twfb");
    let mut args = vec!["recovery", "kit-read", "--out", whole.as_str()];
    args.extend(pages.iter().map(String::as_str));
    v.ok(&args);
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&backup).unwrap()
    );

    // Missing photos are named.
    if photos.len() > 1 {
        let o = v.run(&[
            "recovery",
            "kit-read",
            "--out",
            &v.s("x.twfb"),
            &photo_args[1],
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
        assert!(!v.path("x.twfb").exists());
    }
}

#[test]
fn a_wrong_or_mistyped_key_writes_no_kit() {
    let v = Vault::new();
    let key = v.init();
    // A typo (caught by the check characters) and a well-formed key of another vault.
    let typo = format!(
        "{}{}",
        if key.starts_with('A') { "B" } else { "A" },
        &key[1..]
    );
    let other = Vault::new().init();
    for (bad, what) in [
        (typo.as_str(), "typo"),
        (other.as_str(), "wrong key"),
        ("hello", "malformed"),
    ] {
        std::fs::write(v.path("rk"), bad).unwrap();
        for out in ["kit.pdf", "kit.html"] {
            let o = v.run(&[
                "recovery",
                "kit",
                "--out",
                &v.s(out),
                "--recovery-key-file",
                &v.s("rk"),
            ]);
            assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
            assert!(!v.path(out).exists(), "{what}: a kit was written");
            assert!(!stderr(&o).contains(bad), "the typed key is echoed");
        }
    }
    // An existing file is left alone by a refused kit.
    std::fs::write(v.path("kit.pdf"), b"old").unwrap();
    std::fs::write(v.path("rk"), &other).unwrap();
    let o = v.run(&[
        "recovery",
        "kit",
        "--out",
        &v.s("kit.pdf"),
        "--recovery-key-file",
        &v.s("rk"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(v.path("kit.pdf")).unwrap(), b"old");
}

#[test]
fn rotate_writes_the_new_keys_kit_in_the_same_step() {
    let v = Vault::new();
    let old = v.init();
    let out = v.ok(&[
        "recovery",
        "rotate",
        "--kit",
        &v.s("kit.html"),
        "--backup-location",
        "the blue USB stick",
    ]);
    let new = find_key(&out);
    assert_ne!(new, old);
    let html = std::fs::read_to_string(v.path("kit.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(&new) && !html.contains(&old));
    assert!(html.contains("the blue USB stick"));
    #[cfg(unix)]
    assert_eq!(mode(&v.path("kit.html")), 0o600);
    // The old key makes no kit any more.
    std::fs::write(v.path("rk"), &old).unwrap();
    let o = v.run(&[
        "recovery",
        "kit",
        "--out",
        &v.s("k2.pdf"),
        "--recovery-key-file",
        &v.s("rk"),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn time_calibrate_from_an_accepted_code() {
    let v = Vault::new();
    v.init();
    v.ok(&[
        "add",
        "otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bank",
    ]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The service's clock runs 5 minutes ahead of this machine's.
    let service = now + 300;
    let code_at = |t: u64| {
        v.ok(&[
            "code",
            "--secret",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "--at",
            &t.to_string(),
        ])
        .trim()
        .to_owned()
    };
    let code = code_at(service);
    let next = code_at(service + 30);
    let c = v.json(&["time", "calibrate", "Bank", &code, &next, "--json"]);
    let offset = c["offset_seconds"].as_i64().unwrap();
    assert!((offset - 330).abs() <= 17, "offset {offset}");
    assert_eq!(c["uncertainty_seconds"], 15);
    assert_eq!(c["warning"], true);
    let status = v.json(&["time", "status", "--json"]);
    assert_eq!(status["offset_seconds"].as_i64(), Some(offset));
    // `codes` now shows the service's code and warns about the clock.
    let o = v.run(&["codes"]);
    assert!(stderr(&o).contains("clock offset"), "{}", stderr(&o));

    // No match within the window: nothing changes, and the user is told why.
    let far = code_at(now + 7200);
    let o = v.run(&["time", "calibrate", "Bank", &far, "--window", "60"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no time within"), "{}", stderr(&o));
    let o = v.run(&["time", "calibrate", "Bank", "12ab56"]);
    assert_eq!(o.status.code(), Some(2));
    let o = v.run(&["time", "calibrate", "Nobody", &code]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        v.json(&["time", "status", "--json"])["offset_seconds"].as_i64(),
        Some(offset)
    );
}
