//! The printable recovery kit: rendered by poppler's `pdftoppm`, its QR codes read back by our
//! decoder and by zbar's `zbarimg`; the key decoded is the key, the accounts codes restore
//! every entry with the recovery key alone, and a kit is never made with a wrong key.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::Path;
use std::process::Command;

use twofold_core::backup::open_backup;
use twofold_core::qr;
use twofold_core::recovery_kit::{
    self, KitFormat, KitOptions, KitPartError, MAX_ACCOUNT_BYTES, join_account_parts,
};
use twofold_core::vault::{InputError, RecoveryKey, SlotCredential, VaultError, VaultSession};

use common::*;

fn vault_with(dir: &Path, accounts: usize) -> (VaultSession, RecoveryKey) {
    let (s, key) = create(&dir.join("v.twofold"));
    for i in 0..accounts {
        // Distinct 160-bit secrets (base32 of 20 bytes derived from i).
        let bytes: Vec<u8> = (0..20u8)
            .map(|k| k.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(7) ^ (i >> 8) as u8)
            .collect();
        let secret = twofold_core::Secret::from_bytes(bytes).unwrap().to_base32();
        s.add_entry(
            totp(
                &format!("Service {i}"),
                &format!("user{i}@example.com"),
                &secret,
            ),
            true,
        )
        .unwrap();
    }
    // One in the trash: not on the kit.
    let trashed = s
        .add_entry(totp("Gone", "old", "JBSWY3DPEHPK3PXP"), true)
        .unwrap();
    s.delete_entry(trashed.id).unwrap();
    (s, key)
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("-v").output().is_ok()
}

/// Renders every page of the PDF to PNG (200 dpi, greyscale) and returns the files in order.
fn render(pdf: &Path, dir: &Path) -> Vec<std::path::PathBuf> {
    let prefix = dir.join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png"])
        .arg(pdf)
        .arg(&prefix)
        .output()
        .expect("pdftoppm (Debian poppler-utils; scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    pages
}

/// Every QR text zbarimg reads on a page.
fn zbar(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .expect("zbarimg (Debian zbar-tools)");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Our decoder on each quarter of a page (a page holds up to four codes, one per quarter).
fn ours_by_quarter(png: &Path) -> Vec<String> {
    let img = image::open(png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    // The grid's rows start at 160 pt and 455 pt of 842: split between them.
    let split = h * 440 / 842;
    let mut out = Vec::new();
    for (y0, y1) in [(0, split), (split, h)] {
        for (x0, x1) in [(0, w / 2), (w / 2, w)] {
            let crop = image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image();
            let mut png = Vec::new();
            crop.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            if let Some(text) = qr::decode_image(&png).unwrap() {
                out.push(text);
            }
        }
    }
    out
}

#[test]
fn printed_kit_gives_back_the_key_and_every_account() {
    assert!(
        tool("pdftoppm") || tool("zbarimg"),
        "poppler-utils and zbar-tools are needed"
    );
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_with(dir.path(), 12);
    let pdf = recovery_kit::recovery_kit(
        &s,
        &key,
        KitFormat::Pdf,
        &KitOptions {
            with_accounts: true,
            backup_location: Some("~/Documents/Twofold backups".into()),
        },
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let path = dir.path().join("kit.pdf");
    std::fs::write(&path, &pdf).unwrap();
    // Fonts are embedded (subset) and the key does not sit in the file as plain bytes.
    let fonts = Command::new("pdffonts").arg(&path).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    assert!(
        fonts.lines().skip(2).all(|l| l.contains(" yes ")),
        "not all embedded:\n{fonts}"
    );
    // The text a reader extracts is the sheet's, key included, in groups.
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(key.reveal().as_str()), "{text}");
    assert!(text.contains("~/Documents/Twofold backups"));
    assert!(text.contains("Restore"));

    let pages = render(&path, dir.path());
    assert!(pages.len() >= 2, "{} pages", pages.len());
    // Page 1: the key's QR, read by both decoders, is the key.
    let png = std::fs::read(&pages[0]).unwrap();
    let ours = qr::decode_image(&png)
        .unwrap()
        .expect("our decoder reads the key's code");
    assert_eq!(RecoveryKey::parse(&ours).unwrap(), key);
    assert_eq!(ours, key.reveal().as_str());
    assert_eq!(zbar(&pages[0]), vec![key.reveal().to_string()]);

    // The accounts pages: every part, read by each decoder, restores every live entry.
    let mut by_zbar = Vec::new();
    let mut by_ours = Vec::new();
    for page in &pages[1..] {
        by_zbar.extend(zbar(page));
        by_ours.extend(ours_by_quarter(page));
    }
    let live = s.entries().unwrap();
    for texts in [&by_zbar, &by_ours] {
        let backup = join_account_parts(texts).unwrap();
        let opened = open_backup(&backup, &SlotCredential::Recovery(&key)).unwrap();
        assert!(opened.authenticated);
        assert_eq!(opened.content.live_entries().len(), live.len());
        assert_eq!(opened.content.entries.len(), live.len(), "trash left out");
        for e in &live {
            let got = opened.content.entry(e.id).expect("entry on paper");
            assert_eq!(got, e);
        }
        // The password does not open it: only the recovery key does.
        assert_eq!(
            open_backup(&backup, &SlotCredential::Password(PASSWORD)).unwrap_err(),
            VaultError::NoSuchSlot
        );
    }
}

#[test]
fn a_wrong_key_makes_no_kit() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _key) = vault_with(dir.path(), 1);
    let other = RecoveryKey::from_bytes([7; 16]);
    for format in [KitFormat::Pdf, KitFormat::Html] {
        assert_eq!(
            recovery_kit::recovery_kit(&s, &other, format, &KitOptions::default()).unwrap_err(),
            VaultError::WrongCredential
        );
    }
    // A locked vault makes none either.
    s.lock();
    assert_eq!(
        recovery_kit::recovery_kit(&s, &other, KitFormat::Pdf, &KitOptions::default()).unwrap_err(),
        VaultError::Locked
    );
}

#[test]
fn html_kit_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_with(dir.path(), 3);
    let html = String::from_utf8(
        recovery_kit::recovery_kit(
            &s,
            &key,
            KitFormat::Html,
            &KitOptions {
                with_accounts: true,
                backup_location: Some("<script>alert(1)</script>".into()),
            },
        )
        .unwrap(),
    )
    .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(key.reveal().as_str()));
    let parts = html.matches("<figcaption>Part ").count();
    assert!(parts >= 1);
    assert_eq!(
        html.matches("<svg").count(),
        1 + parts,
        "the key's and each part's"
    );
    // Nothing is fetched from anywhere; the location the user typed is text, not markup.
    for needle in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    // Without a known location the sheet leaves a line to fill in.
    let plain = String::from_utf8(
        recovery_kit::recovery_kit(&s, &key, KitFormat::Html, &KitOptions::default()).unwrap(),
    )
    .unwrap();
    assert!(plain.contains("_____"));
    assert_eq!(plain.matches("<svg").count(), 1);
}

#[test]
fn a_vault_too_large_for_paper_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_with(dir.path(), 120);
    let err = recovery_kit::recovery_kit(
        &s,
        &key,
        KitFormat::Pdf,
        &KitOptions {
            with_accounts: true,
            backup_location: None,
        },
    )
    .unwrap_err();
    match &err {
        VaultError::InvalidInput(InputError::KitTooLarge { bytes, max }) => {
            assert_eq!(*max, MAX_ACCOUNT_BYTES);
            assert!(bytes > max);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("without the accounts"), "{err}");
    // Without the accounts the same vault makes a kit.
    assert!(recovery_kit::recovery_kit(&s, &key, KitFormat::Pdf, &KitOptions::default()).is_ok());
}

#[test]
fn scanning_only_some_parts_says_which_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (s, key) = vault_with(dir.path(), 12);
    let (content, _) = s.snapshot().unwrap();
    let backup = twofold_core::backup::seal_to_recovery_key(&s, &content, &key).unwrap();
    let parts = recovery_kit::account_parts(&backup).unwrap();
    assert!(parts.len() >= 2, "{} bytes", backup.len());
    assert_eq!(
        join_account_parts(&parts[1..]),
        Err(KitPartError::Missing { missing: vec![1] })
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any backup up to the limit comes back from its parts, in any order.
    #[test]
    fn parts_round_trip(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..MAX_ACCOUNT_BYTES), rotate in 0usize..12) {
        let mut parts = recovery_kit::account_parts(&bytes).unwrap();
        let n = parts.len();
        parts.rotate_left(rotate % n);
        proptest::prop_assert_eq!(join_account_parts(&parts).unwrap(), bytes);
    }

    /// Arbitrary text never panics and never joins to more than a kit holds.
    #[test]
    fn arbitrary_text_is_refused_or_bounded(texts in proptest::collection::vec("TK1:[0-9]{1,2}:[0-9]{1,2}:[0-9A-F]{8}:[0-9A-Z $%*+./:-]{0,60}", 1..5)) {
        if let Ok(b) = join_account_parts(&texts) {
            proptest::prop_assert!(b.len() <= MAX_ACCOUNT_BYTES);
        }
    }
}
