//! Raivo OTP's export: `raivo-otp-export.zip` (WinZip AES, the master password) holding
//! `raivo-otp-export.json` — a list whose values are all strings: `issuer`, `account`,
//! `secret` (base32), `algorithm`, `digits`, `kind` (TOTP | HOTP), `timer` (period),
//! `counter`, `pinned`. The JSON itself (already unzipped) is read too.

use serde_json::Value;

use super::support::{self, Collector, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};

pub fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    if container::is_zip(bytes) {
        let mut zip = container::Zip::open(bytes)?;
        let name = zip.find("raivo-otp-export.json").ok_or_else(|| {
            ImportError::Damaged("the archive has no raivo-otp-export.json".into())
        })?;
        let json = zip.read(&name, password)?;
        return import_json(support::text(&json)?);
    }
    import_json(support::text(bytes)?)
}

fn import_json(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let Value::Array(items) = &doc else {
        return Err(ImportError::Damaged("a Raivo export is a JSON list".into()));
    };
    if items.len() > super::MAX_IMPORT_ENTRIES {
        return Err(ImportError::TooManyEntries);
    }
    let mut out = Collector::new();
    for (index, e) in items.iter().enumerate() {
        let label = format!("{}:{}", str_field(e, "issuer"), str_field(e, "account"));
        out.item(index, label, entry(e))?;
    }
    Ok(out.finish(Format::Raivo))
}

fn entry(e: &Value) -> Result<ImportedEntry, String> {
    let secret = support::secret_b32_lenient(str_field(e, "secret"))?;
    let kind = support::kind(
        str_field(e, "kind"),
        str_field(e, "algorithm"),
        uint_field(e, "digits"),
        uint_field(e, "timer"),
        uint_field(e, "counter"),
    )?;
    let favorite = match e.get("pinned") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    };
    Ok(ImportedEntry {
        favorite,
        ..ImportedEntry::new(
            kind,
            secret,
            str_field(e, "issuer").to_owned(),
            str_field(e, "account").to_owned(),
        )
    })
}
