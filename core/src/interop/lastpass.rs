//! LastPass Authenticator's JSON export: `{"version":3,"accounts":[{issuerName, userName,
//! secret (base32), timeStep, digits, algorithm, folderData{folderId, position}}],
//! "folders":[{id, name}]}`. TOTP only; an empty issuer name falls back to the user name.

use serde_json::Value;

use super::support::{self, Collector, array, str_field, uint_field};
use super::{Format, ImportError, ImportReport, ImportedEntry};

pub fn import(text: &str) -> Result<ImportReport, ImportError> {
    let doc = support::json(text)?;
    let folders: Vec<(String, String)> = array(&doc, "folders")?
        .iter()
        .map(|f| {
            let id = match f.get("id") {
                Some(Value::Number(n)) => n.to_string(),
                _ => str_field(f, "id").to_owned(),
            };
            (id, str_field(f, "name").to_owned())
        })
        .collect();
    let mut out = Collector::new();
    for (index, a) in array(&doc, "accounts")?.iter().enumerate() {
        let label = format!(
            "{}:{}",
            str_field(a, "issuerName"),
            str_field(a, "userName")
        );
        out.item(index, label, entry(a, &folders))?;
    }
    Ok(out.finish(Format::LastPass))
}

fn entry(a: &Value, folders: &[(String, String)]) -> Result<ImportedEntry, String> {
    let secret = support::secret_b32_lenient(str_field(a, "secret"))?;
    let kind = support::kind(
        "totp",
        str_field(a, "algorithm"),
        uint_field(a, "digits"),
        uint_field(a, "timeStep"),
        None,
    )?;
    let account = str_field(a, "userName").to_owned();
    let issuer = match str_field(a, "issuerName") {
        "" => account.clone(),
        i => i.to_owned(),
    };
    let folder_id = a
        .get("folderData")
        .and_then(|f| f.get("folderId"))
        .map(|v| match v {
            Value::Number(n) => n.to_string(),
            other => other.as_str().unwrap_or("").to_owned(),
        });
    let groups = folder_id
        .and_then(|id| folders.iter().find(|(f, _)| *f == id))
        .map(|(_, n)| n.clone())
        .filter(|n| !n.is_empty())
        .into_iter()
        .collect();
    Ok(ImportedEntry {
        groups,
        ..ImportedEntry::new(kind, secret, issuer, account)
    })
}
