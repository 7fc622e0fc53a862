//! The export catalogue the apps list, and exports made in memory and confirmed from what
//! storage gives back (`interop::export::{catalogue, PendingExport}`).
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::*;
use twofold_core::backup;
use twofold_core::interop::export::{ExportError, ExportKind, PendingExport, catalogue};
use twofold_core::vault::VaultError;

const SECRET: &str = "JBSWY3DPEHPK3PXP";
const NOW: i64 = 1_700_000_000_000;

fn vault() -> (tempfile::TempDir, twofold_core::vault::VaultSession) {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    s.add_entry(totp("GitHub", "alice", SECRET), false).unwrap();
    s.add_entry(
        entry("otpauth://hotp/Bank:carol?secret=GEZDGNBVGY3TQOJQ&counter=3"),
        false,
    )
    .unwrap();
    (dir, s)
}

#[test]
fn the_catalogue_lists_every_format_once_with_what_saving_needs() {
    let list = catalogue(NOW);
    assert_eq!(
        list.iter().map(|f| f.kind).collect::<Vec<_>>(),
        ExportKind::ALL
    );
    for f in &list {
        assert!(!f.name.is_empty());
        assert_eq!(f.is_file, !f.file_name.is_empty(), "{f:?}");
        assert_eq!(f.is_file, !f.mime_type.is_empty(), "{f:?}");
        assert!(
            f.needs_password != f.plaintext,
            "a format is either encrypted with a password or plaintext: {f:?}"
        );
    }
    let backup = &list[0];
    assert_eq!(backup.file_name, "twofold-export-20231114-221320.twfb");
    assert!(backup.needs_password && !backup.plaintext);
    let names: std::collections::HashSet<_> = list
        .iter()
        .filter(|f| f.is_file)
        .map(|f| &f.file_name)
        .collect();
    assert_eq!(names.len(), 5, "no two formats suggest the same file name");
    assert!(
        ExportKind::GoogleQr.info(NOW).plaintext,
        "QR codes on screen show the secrets"
    );
}

#[test]
fn plain_exports_confirm_only_the_bytes_written() {
    let (_d, s) = vault();
    for kind in [
        ExportKind::OtpauthList,
        ExportKind::AegisPlain,
        ExportKind::Cxf,
    ] {
        let p = PendingExport::new(&s, kind, None, NOW).unwrap();
        let text = String::from_utf8(p.bytes().to_vec()).unwrap();
        assert!(text.contains(SECRET), "{kind:?} carries the secret");
        p.confirm(p.bytes()).unwrap();
        // Storage that returns nothing, a truncated file or a flipped byte is not a save.
        assert!(matches!(p.confirm(&[]), Err(ExportError::ReadBackDiffers)));
        let b = p.bytes();
        assert!(matches!(
            p.confirm(&b[..b.len() - 1]),
            Err(ExportError::ReadBackDiffers)
        ));
        let mut flipped = b.to_vec();
        flipped[b.len() / 2] ^= 1;
        assert!(matches!(
            p.confirm(&flipped),
            Err(ExportError::ReadBackDiffers)
        ));
    }
    // CXF holds TOTP accounts only: the HOTP one is listed, not dropped silently.
    let cxf = PendingExport::new(&s, ExportKind::Cxf, None, NOW).unwrap();
    assert_eq!(cxf.skipped().len(), 1, "{:?}", cxf.skipped());
}

#[test]
fn encrypted_formats_need_a_password_and_do_not_show_the_secret() {
    let (_d, s) = vault();
    for kind in [ExportKind::TwofoldBackup, ExportKind::AegisEncrypted] {
        assert!(matches!(
            PendingExport::new(&s, kind, None, NOW),
            Err(ExportError::PasswordNeeded)
        ));
        assert!(matches!(
            PendingExport::new(&s, kind, Some(b""), NOW),
            Err(ExportError::PasswordNeeded)
        ));
    }
    let aegis = PendingExport::new(&s, ExportKind::AegisEncrypted, Some(b"pw"), NOW).unwrap();
    assert!(!String::from_utf8_lossy(aegis.bytes()).contains(SECRET));
    aegis.confirm(aegis.bytes()).unwrap();
}

#[test]
fn a_twofold_backup_export_confirms_by_decrypting_and_opens_with_its_password() {
    let (d, s) = vault();
    let p = PendingExport::new(&s, ExportKind::TwofoldBackup, Some(b"backup pw"), NOW).unwrap();
    p.confirm(p.bytes()).unwrap();
    let mut flipped = p.bytes().to_vec();
    let n = flipped.len();
    flipped[n - 10] ^= 1;
    assert!(matches!(
        p.confirm(&flipped),
        Err(ExportError::Vault(VaultError::Corrupt(_)))
    ));
    let path = d.path().join("export.twfb");
    std::fs::write(&path, p.bytes()).unwrap();
    let check = backup::verify_backup(
        &twofold_core::vault::OsFileSystem,
        &path,
        &backup::BackupCredential::Password(b"backup pw"),
        None,
    )
    .unwrap();
    assert_eq!(check.entry_count, 2);
}

#[test]
fn google_codes_are_not_a_file_and_a_locked_vault_exports_nothing() {
    let (_d, s) = vault();
    assert!(matches!(
        PendingExport::new(&s, ExportKind::GoogleQr, None, NOW),
        Err(ExportError::NotAFile(_))
    ));
    s.lock();
    assert!(matches!(
        PendingExport::new(&s, ExportKind::OtpauthList, None, NOW),
        Err(ExportError::Vault(VaultError::Locked))
    ));
}
