//! Authenticator Plus: "Export as Text and HTML" writes a password-protected ZIP (ZipCrypto or
//! WinZip AES) whose `Accounts.txt` holds one otpauth URI per line. The app's own backup
//! (`authplus.db`) is SQLCipher-encrypted and is refused with a hint.

use super::{Format, ImportError, ImportReport, container, otpauth_list, support};

pub fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    if !container::is_zip(bytes) {
        return Err(ImportError::Unsupported(
            "Authenticator Plus's own backup (authplus.db, SQLCipher): use the app's \
             \"Export as Text and HTML\" and import that ZIP"
                .into(),
        ));
    }
    let mut zip = container::Zip::open(bytes)?;
    let name = zip
        .find("Accounts.txt")
        .ok_or_else(|| ImportError::Damaged("the archive has no Accounts.txt".into()))?;
    let text = zip.read(&name, password)?;
    let mut report = otpauth_list::import(support::text(&text)?)?;
    report.format = Format::AuthenticatorPlus;
    Ok(report)
}
