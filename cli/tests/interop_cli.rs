//! `twofold qr decode`, `scan`, `import`, `export` end to end.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::Lab;

use serde_json::Value;
use twofold_core::qr;

/// A lab with vault `a` and a password file `filepw` for encrypted files.
fn lab() -> Lab {
    let lab = Lab::new(&["a"]);
    std::fs::write(lab.p("filepw"), "file password\n").unwrap();
    lab
}

/// A "photo" of a QR code: rotated, perspective-free but noisy, and JPEG-compressed, on a grey
/// 1280×720 background.
fn photo_of(text: &str, path: &Path) {
    let m = qr::encode(text, qr::EcLevel::M).unwrap();
    let (w, h) = (1280u32, 720u32);
    let module = 9.0f64;
    let side = (m.size + 8) as f64 * module;
    let angle = 12f64.to_radians();
    let mut img = image::GrayImage::new(w, h);
    let mut seed = 12345u32;
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (dx, dy) = (x as f64 - w as f64 / 2.0, y as f64 - h as f64 / 2.0);
        let (u, v) = (
            dx * angle.cos() + dy * angle.sin() + side / 2.0,
            -dx * angle.sin() + dy * angle.cos() + side / 2.0,
        );
        let (mx, my) = (
            (u / module).floor() as isize - 4,
            (v / module).floor() as isize - 4,
        );
        let inside = u >= 0.0 && v >= 0.0 && u < side && v < side;
        let dark = inside
            && mx >= 0
            && my >= 0
            && (mx as usize) < m.size
            && (my as usize) < m.size
            && m.dark[my as usize * m.size + mx as usize];
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let noise = (seed >> 16) as i32 % 31 - 15;
        let base = if !inside {
            150
        } else if dark {
            40
        } else {
            215
        };
        *px = image::Luma([(base + noise).clamp(0, 255) as u8]);
    }
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

#[test]
fn scan_enrolls_from_a_photo_and_qr_decode_reads_it() {
    let env = lab();
    let uri = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";
    let photo = env.p("photo.jpg");
    photo_of(uri, &photo);
    assert_eq!(
        env.ok("a", &["qr", "decode", photo.to_str().unwrap()])
            .trim(),
        uri
    );
    let out = env.ok("a", &["scan", photo.to_str().unwrap(), "--yes"]);
    assert!(
        out.contains("Example (alice@example.com) [totp · SHA1, 6 digits, 30 s]"),
        "{out}"
    );
    assert!(out.contains("Added 1 account."), "{out}");
    let codes: Value =
        serde_json::from_str(&env.ok("a", &["codes", "--json", "--at", "1700000000"])).unwrap();
    assert_eq!(codes[0]["code"], "324550");
    // Scanning it again reports the duplicate instead of doubling it.
    let out = env.ok("a", &["scan", photo.to_str().unwrap(), "--yes"]);
    assert!(
        out.contains("already in the vault, skipped: Example (alice@example.com)"),
        "{out}"
    );
    // No code in an image: exit status 1.
    let blank = env.p("blank.png");
    image::GrayImage::from_pixel(64, 64, image::Luma([200]))
        .save(&blank)
        .unwrap();
    let o = env.run("a", &["qr", "decode", blank.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no QR code found"));
}

#[test]
fn export_then_import_every_format_into_a_fresh_vault() {
    let env = lab();
    env.ok(
        "a",
        &[
            "add",
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        ],
    );
    env.ok(
        "a",
        &[
            "add",
            "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&counter=7",
        ],
    );
    env.ok(
        "a",
        &[
            "add",
            "otpauth://totp/Wide:w?secret=MZXW6YTBOI&algorithm=SHA512&digits=8",
        ],
    );
    let fpw = env.p("filepw");
    for (format, file, expect) in [
        ("otpauth", "o.txt", 3u64),
        ("aegis", "a.json", 3),
        ("aegis-encrypted", "ae.json", 3),
        ("cxf", "c.json", 0),
    ] {
        let out = env.p(file);
        env.ok(
            "a",
            &[
                "export",
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
                "--file-password-file",
                fpw.to_str().unwrap(),
            ],
        );
        if format == "cxf" {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            assert_eq!(v["accounts"][0]["items"].as_array().unwrap().len(), 2);
            continue;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
                0o600,
                "{format}"
            );
        }
        let vault = format!("fresh-{format}");
        env.init(&vault);
        let summary: Value = serde_json::from_str(&env.ok(
            &vault,
            &[
                "import",
                out.to_str().unwrap(),
                "--file-password-file",
                fpw.to_str().unwrap(),
                "--json",
            ],
        ))
        .unwrap();
        assert_eq!(
            summary["imported"].as_u64(),
            Some(expect),
            "{format}: {summary}"
        );
        assert!(summary["failed"].as_array().unwrap().is_empty());
    }
    // Google QR export: PNGs plus the URIs, only what the format can hold.
    let folder = env.p("google");
    let out = env.ok(
        "a",
        &[
            "export",
            "--format",
            "google-qr",
            "--out",
            folder.to_str().unwrap(),
        ],
    );
    assert!(out.contains("not exported: Wide (w)"), "{out}");
    let png = folder.join("google-1.png");
    env.init("fresh-g");
    let out = env.ok("fresh-g", &["scan", png.to_str().unwrap(), "--yes"]);
    assert!(out.contains("Added 2 accounts."), "{out}");
    // Wrong and missing file passwords are distinct, clear errors.
    std::fs::write(env.p("wrong"), "nope\n").unwrap();
    let o = env.run(
        "a",
        &[
            "import",
            env.p("ae.json").to_str().unwrap(),
            "--file-password-file",
            env.p("wrong").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong password for this file"));
    let o = env.run("a", &["import", env.p("ae.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a password is needed"));
}

#[test]
fn import_reports_failures_per_item() {
    let env = lab();
    let list = env.p("list.txt");
    std::fs::write(&list, "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\ngarbage\notpauth://totp/B:b?secret=GEZDGNBVGY3TQOJQ\n").unwrap();
    let summary: Value =
        serde_json::from_str(&env.ok("a", &["import", list.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(summary["format"], "otpauth");
    assert_eq!(summary["imported"], 2);
    assert_eq!(summary["failed"][0]["index"], 1);
    let text = env.ok("a", &["import", list.to_str().unwrap()]);
    assert!(
        text.contains("already in the vault, skipped: A (a)"),
        "{text}"
    );
    assert!(text.contains("could not import line 2"), "{text}");
}

/// Opt-in: every real third-party sample in ../shared/corpus imports through `twofold import`
/// with all its accounts and no failures (the core conformance test checks every field).
#[test]
fn every_corpus_sample_imports_through_the_cli() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if !corpus.is_dir() {
        println!("conformance: ../shared/corpus is absent — skipped");
        return;
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("aegis-test-resources/expected.json")).unwrap(),
    )
    .unwrap();
    let mut files: Vec<(PathBuf, u64)> = expected["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                corpus
                    .join("aegis-test-resources")
                    .join(f["file"].as_str().unwrap()),
                f["entry_count"].as_u64().unwrap(),
            )
        })
        .collect();
    files.push((corpus.join("google-migration/example_export.txt"), 6));
    let env = lab();
    std::fs::write(env.p("test.pw"), "test\n").unwrap();
    let mut passwords = vec![None; files.len()];
    if let Ok(more) =
        std::fs::read_to_string(corpus.join("aegis-test-resources-more/expected.json"))
    {
        let more: Value = serde_json::from_str(&more).unwrap();
        for f in more["files"].as_array().unwrap() {
            files.push((
                corpus
                    .join("aegis-test-resources-more")
                    .join(f["file"].as_str().unwrap()),
                f["entry_count"].as_u64().unwrap(),
            ));
            passwords.push(f["password"].as_str().map(str::to_owned));
        }
    }
    for (n, (file, count)) in files.iter().enumerate() {
        let vault = format!("corpus-{n}");
        env.init(&vault);
        let pw_file = env.p(&format!("corpus-{n}.filepw"));
        std::fs::write(
            &pw_file,
            format!("{}\n", passwords[n].as_deref().unwrap_or("test")),
        )
        .unwrap();
        let out = env.ok(
            &vault,
            &[
                "import",
                file.to_str().unwrap(),
                "--file-password-file",
                pw_file.to_str().unwrap(),
                "--json",
            ],
        );
        let summary: Value = serde_json::from_str(&out).unwrap();
        let added = summary["imported"].as_u64().unwrap()
            + summary["duplicates"].as_array().unwrap().len() as u64;
        assert_eq!(added, *count, "{}: {summary}", file.display());
        assert!(
            summary["failed"].as_array().unwrap().is_empty(),
            "{}: {summary}",
            file.display()
        );
    }
}

fn fixture(name: &str) -> PathBuf {
    common::core_fixture(&format!("import/{name}"))
}

fn fixture_password(name: &str) -> String {
    let all: Value =
        serde_json::from_slice(&std::fs::read(fixture("PASSWORDS.json")).unwrap()).unwrap();
    all[name].as_str().unwrap().to_owned()
}

/// The second wave through `twofold import`: detection, `--format`, `--file-password-file`,
/// `--key-file`, per-item failures (a Microsoft push-only account, mOTP/Yandex by name) and the
/// exit statuses (2 for credentials, 1 for damaged or hostile files).
#[test]
fn import_new_formats_with_flags_and_exit_statuses() {
    let env = lab();
    let import = |vault: &str, args: &[&str]| -> Value {
        env.init(vault);
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        all.push("--json");
        serde_json::from_str(&env.ok(vault, &all)).unwrap()
    };
    let pw = |name: &str| {
        let path = env.p(&format!("{name}.pw"));
        std::fs::write(&path, format!("{}\n", fixture_password(name))).unwrap();
        path
    };
    let s = import(
        "stratum",
        &[
            fixture("stratum_encrypted.bin").to_str().unwrap(),
            "--file-password-file",
            pw("stratum_encrypted.bin").to_str().unwrap(),
        ],
    );
    assert_eq!(
        (s["format"].as_str(), s["imported"].as_u64()),
        (Some("authenticator-pro"), Some(4))
    );
    let reasons = s["failed"].to_string();
    assert!(
        reasons.contains("mOTP") && reasons.contains("Yandex"),
        "{reasons}"
    );
    let s = import(
        "keepass",
        &[
            fixture("keepass_keyfile.kdbx").to_str().unwrap(),
            "--file-password-file",
            pw("keepass_keyfile.kdbx").to_str().unwrap(),
            "--key-file",
            fixture("keepass.keyx").to_str().unwrap(),
        ],
    );
    // Two entries hold the same SHA256 secret: one is reported as a duplicate.
    assert_eq!(
        (s["format"].as_str(), s["imported"].as_u64()),
        (Some("keepass"), Some(5))
    );
    assert_eq!(s["duplicates"].as_array().unwrap().len(), 1);
    let s = import(
        "ms",
        &[fixture("microsoft_authenticator.db").to_str().unwrap()],
    );
    assert_eq!(s["imported"], 2);
    assert!(
        s["failed"][0]["reason"].as_str().unwrap().contains("push"),
        "{s}"
    );
    let s = import(
        "winauth",
        &[
            fixture("winauth.txt").to_str().unwrap(),
            "--format",
            "winauth",
        ],
    );
    assert_eq!(
        (s["format"].as_str(), s["imported"].as_u64()),
        (Some("winauth"), Some(5))
    );
    // Without the key file the password alone is wrong: exit 2.
    let o = env.run(
        "keepass",
        &[
            "import",
            fixture("keepass_keyfile.kdbx").to_str().unwrap(),
            "--file-password-file",
            pw("keepass_keyfile.kdbx").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    // A damaged file and a hostile one: exit 1, with the reason.
    let mut damaged = std::fs::read(fixture("stratum_encrypted.bin")).unwrap();
    damaged.truncate(30);
    std::fs::write(env.p("damaged.bin"), damaged).unwrap();
    let o = env.run(
        "keepass",
        &["import", env.p("damaged.bin").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = env.run(
        "keepass",
        &[
            "import",
            fixture("hostile/microsoft_big_value.db").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refused"));
}
