//! Showing an account's QR code needs the password again, and the code shown is the
//! account's otpauth URI (an authenticator can enroll from it).
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use twofold_core::qr;
use twofold_core::uri;
use twofold_core::vault::VaultError;

use common::*;

#[test]
fn the_qr_code_is_shown_only_after_the_password_and_enrolls_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v.twofold"));
    let e = s
        .add_entry(
            entry("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&digits=8"),
            false,
        )
        .unwrap();
    let generation = s.generation().unwrap();
    assert_eq!(
        s.entry_qr_for_display(e.id, b"not the password")
            .unwrap_err(),
        VaultError::WrongCredential
    );
    let m = s.entry_qr_for_display(e.id, PASSWORD).unwrap();
    let text = qr::decode_image(&m.to_png(4)).unwrap().unwrap();
    let shown = uri::parse(&text).unwrap();
    assert_eq!(shown.secret.expose(), e.secret.expose());
    assert_eq!(shown.kind, e.kind);
    assert_eq!(
        (shown.issuer.as_str(), shown.account.as_str()),
        ("GitHub", "alice")
    );
    // The wrong password recorded nothing; the shown code is in the exposure ledger (one
    // write), never its secret. Trashed and locked entries show nothing.
    assert_eq!(s.generation().unwrap(), generation + 1);
    let ledger = s.care().unwrap().exposures;
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].entry, ledger[0].way),
        (e.id, twofold_core::vault::care::ExposureWay::QrShown)
    );
    s.delete_entry(e.id).unwrap();
    assert!(matches!(
        s.entry_qr_for_display(e.id, PASSWORD),
        Err(VaultError::NoSuchEntry(_))
    ));
    s.lock();
    assert_eq!(
        s.entry_qr_for_display(e.id, PASSWORD).unwrap_err(),
        VaultError::Locked
    );
    assert_eq!(s.check_password(PASSWORD).unwrap_err(), VaultError::Locked);
}
