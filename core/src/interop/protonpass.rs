//! Proton Pass's export: a ZIP holding `Proton Pass/data.json` (or that JSON itself):
//! `{"encrypted": false, "vaults": {"<id>": {"name", "items": [{"data": {"type", "metadata":
//! {"name", "note"}, "content": {"totpUri", "itemUsername", "itemEmail"}, "extraFields":
//! [{"fieldName", "type": "totp", "data": {"totpUri"}}]}}]}}}`. A value without `://` is a
//! bare secret. PGP-encrypted exports are refused with a hint.

use serde_json::Value;

use super::support::{self, Collector, array, str_field};
use super::{Format, ImportError, ImportReport, container};

pub fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let data = if container::is_zip(bytes) {
        let mut zip = container::Zip::open(bytes)?;
        let names = zip.names();
        let name = names
            .iter()
            .find(|n| n.ends_with("data.json"))
            .cloned()
            .ok_or_else(|| ImportError::Damaged("the archive has no data.json".into()))?;
        zip.read(&name, None)?
    } else {
        if bytes.starts_with(b"-----BEGIN PGP") {
            return Err(pgp());
        }
        zeroize::Zeroizing::new(bytes.to_vec())
    };
    let doc = support::json(support::text(&data)?)?;
    if doc.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(pgp());
    }
    let mut out = Collector::new();
    let mut index = 0;
    let Some(Value::Object(vaults)) = doc.get("vaults") else {
        return Err(ImportError::Damaged("no vaults in the export".into()));
    };
    for vault in vaults.values() {
        let vault_name = str_field(vault, "name");
        for item in array(vault, "items")? {
            if item.get("state").and_then(Value::as_u64) == Some(2) {
                continue; // in the trash
            }
            let data = item.get("data").unwrap_or(&Value::Null);
            let meta = data.get("metadata").unwrap_or(&Value::Null);
            let content = data.get("content").unwrap_or(&Value::Null);
            let title = str_field(meta, "name");
            let username = match str_field(content, "itemUsername") {
                "" => match str_field(content, "itemEmail") {
                    "" => str_field(content, "username"),
                    e => e,
                },
                u => u,
            };
            let mut uris = Vec::new();
            if str_field(data, "type") == "login" {
                uris.push(str_field(content, "totpUri"));
            }
            for f in array(data, "extraFields")? {
                if str_field(f, "type") == "totp" {
                    uris.push(f.get("data").map(|d| str_field(d, "totpUri")).unwrap_or(""));
                }
            }
            for uri in uris.into_iter().filter(|u| !u.trim().is_empty()) {
                let result = support::totp_field(uri, title, username).map(|mut e| {
                    e.note = str_field(meta, "note").chars().take(4096).collect();
                    if !vault_name.is_empty() {
                        e.groups = vec![vault_name.to_owned()];
                    }
                    e
                });
                out.item(index, title, result)?;
                index += 1;
            }
        }
    }
    Ok(out.finish(Format::ProtonPass))
}

fn pgp() -> ImportError {
    ImportError::Unsupported(
        "PGP-encrypted Proton Pass exports: export again without encryption (ZIP) and import that"
            .into(),
    )
}
