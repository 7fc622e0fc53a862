//! Microsoft Authenticator's internal database (`databases/PhoneFactor`, SQLite), table
//! `accounts`: `name` (issuer), `username`, `oath_secret_key`, `account_type`. Type 0
//! (third-party) has a base32 secret and 6-digit codes; type 1 (Microsoft personal) a base64
//! secret and 8 digits; SHA1, 30 s. Work or school accounts (type 2) and accounts without a
//! code secret only approve sign-ins by push: they are listed as not imported, with the reason.

use super::support::{self, Collector};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::{Algorithm, OtpKind};

pub fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let db = container::Db::open(bytes)?;
    let rows = db.rows(
        "accounts",
        &["name", "username", "oath_secret_key", "account_type"],
    )?;
    let mut out = Collector::new();
    for (index, r) in rows.iter().enumerate() {
        let (issuer, username, secret) = (r[0].text(), r[1].text(), r[2].text());
        let label = format!("{issuer}:{username}");
        let result = match (r[3].int().unwrap_or(0), secret.trim().is_empty()) {
            (_, true) => Err(push_only()),
            (0, false) => support::secret_b32_lenient(&secret).map(|s| (s, 6)),
            (1, false) => support::b64(&secret)
                .map_err(|_| "the secret is not base64".to_owned())
                .and_then(support::secret_bytes)
                .map(|s| (s, 8)),
            (_, false) => Err(push_only()),
        }
        .map(|(secret, digits)| {
            ImportedEntry::new(
                OtpKind::Totp {
                    algorithm: Algorithm::Sha1,
                    digits,
                    period: 30,
                },
                secret,
                issuer.trim().to_owned(),
                username.trim().to_owned(),
            )
        });
        out.item(index, label, result)?;
    }
    Ok(out.finish(Format::MicrosoftAuthenticator))
}

fn push_only() -> String {
    "a Microsoft work, school or push-only account: it approves sign-ins in Microsoft \
     Authenticator and has no code secret to move; set up Twofold for it in the account's \
     security settings"
        .into()
}
