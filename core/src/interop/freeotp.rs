//! FreeOTP+ JSON export: `{"tokens":[{algo, counter, digits, issuerExt, label, period,
//! secret: [signed bytes], type}], "tokenOrder": [...]}`.

use serde_json::Value;

use super::support::{self, Collector, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};
use crate::secret::Secret;

pub fn import(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let tokens = array(&doc, "tokens")?;
    let mut out = Collector::new();
    for (index, t) in tokens.iter().enumerate() {
        let label = format!("{}:{}", str_field(t, "issuerExt"), str_field(t, "label"));
        out.item(index, label, entry(t))?;
    }
    Ok(out.finish(Format::FreeOtpPlus))
}

fn entry(t: &Value) -> Result<ImportedEntry, String> {
    let bytes: Vec<u8> = t
        .get("secret")
        .and_then(Value::as_array)
        .ok_or("no secret")?
        .iter()
        .map(|b| {
            b.as_i64()
                .filter(|v| (-128..=255).contains(v))
                .map(|v| v as u8)
                .ok_or("secret is not a list of bytes")
        })
        .collect::<Result<_, _>>()?;
    let secret = Secret::from_bytes(bytes).map_err(|e| format!("secret: {e}"))?;
    let kind = support::kind(
        str_field(t, "type"),
        str_field(t, "algo"),
        uint_field(t, "digits"),
        uint_field(t, "period"),
        uint_field(t, "counter"),
    )?;
    let issuer = match str_field(t, "issuerExt") {
        "" => str_field(t, "issuerInt"),
        s => s,
    };
    Ok(ImportedEntry::new(
        kind,
        secret,
        issuer.to_owned(),
        str_field(t, "label").to_owned(),
    ))
}
