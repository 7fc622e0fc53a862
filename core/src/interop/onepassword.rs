//! 1Password's `.1pux` export: a ZIP with `export.attributes`, `export.data` (JSON) and
//! `files/`. Items are walked under `accounts[].vaults[].items[]`; a one-time password is a
//! field of `details.sections[].fields[]` whose `id` starts with `TOTP_` (or whose value has a
//! `totp` key), holding an otpauth URI or a bare base32 secret. The item's title names it and
//! the login field designated `username` is the account. Items in the trash are skipped.

use serde_json::Value;

use super::support::{self, Collector, array, str_field};
use super::{Format, ImportError, ImportReport, container};

pub fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let data = if container::is_zip(bytes) {
        let mut zip = container::Zip::open(bytes)?;
        let name = zip
            .find("export.data")
            .ok_or_else(|| ImportError::Damaged("the archive has no export.data".into()))?;
        zip.read(&name, None)?
    } else {
        zeroize::Zeroizing::new(bytes.to_vec())
    };
    let doc = support::json(support::text(&data)?)?;
    let mut out = Collector::new();
    let mut index = 0;
    for account in array(&doc, "accounts")? {
        for vault in array(account, "vaults")? {
            let vault_name = vault
                .get("attrs")
                .map(|a| str_field(a, "name"))
                .unwrap_or("");
            for item in array(vault, "items")? {
                if str_field(item, "state") == "trashed" {
                    continue;
                }
                let title = item
                    .get("overview")
                    .map(|o| str_field(o, "title"))
                    .unwrap_or("");
                let details = item.get("details").unwrap_or(&Value::Null);
                let username = array(details, "loginFields")?
                    .iter()
                    .find(|f| str_field(f, "designation") == "username")
                    .map(|f| str_field(f, "value"))
                    .unwrap_or("");
                for section in array(details, "sections")? {
                    for field in array(section, "fields")? {
                        let value = field.get("value").unwrap_or(&Value::Null);
                        let Some(totp) = value.get("totp").and_then(Value::as_str) else {
                            continue;
                        };
                        if !str_field(field, "id").starts_with("TOTP_")
                            && value.get("totp").is_none()
                        {
                            continue;
                        }
                        let result = support::totp_field(totp, title, username).map(|mut e| {
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
        }
    }
    Ok(out.finish(Format::OnePassword))
}
