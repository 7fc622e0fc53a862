//! Duo Mobile's `files/duokit/accounts.json`: a list of `{"name", "otpGenerator":
//! {"otpSecret", "counter"?}}`. A counter makes it HOTP, else TOTP; SHA1, 6 digits, 30 s. Duo
//! push-only accounts (no `otpGenerator`) are reported, not dropped.

use serde_json::Value;

use super::support::{self, Collector, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::otp::{Algorithm, OtpKind};

pub fn import(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let Value::Array(items) = &doc else {
        return Err(ImportError::Damaged("Duo's accounts.json is a list".into()));
    };
    if items.len() > super::MAX_IMPORT_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let mut out = Collector::new();
    for (index, a) in items.iter().enumerate() {
        out.item(index, str_field(a, "name"), entry(a))?;
    }
    Ok(out.finish(Format::Duo))
}

fn entry(a: &Value) -> Result<ImportedEntry, String> {
    let Some(otp) = a.get("otpGenerator").filter(|g| g.is_object()) else {
        return Err("a Duo push-only account (it has no passcode secret to import)".into());
    };
    let text = str_field(otp, "otpSecret");
    let secret = support::secret_b32_lenient(text).or_else(|e| {
        support::b64(text)
            .ok()
            .and_then(|b| support::secret_bytes(b).ok())
            .ok_or(e)
    })?;
    let kind = match uint_field(otp, "counter") {
        Some(counter) => OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 6,
            counter,
        },
        None => OtpKind::DEFAULT_TOTP,
    };
    Ok(ImportedEntry::new(
        kind,
        secret,
        String::new(),
        str_field(a, "name").to_owned(),
    ))
}
