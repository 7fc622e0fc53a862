//! Plain lists of otpauth URIs, one per line — also Ente Auth's plain export, whose URIs carry
//! a `codeDisplay` parameter (percent-encoded JSON with `pinned`, `tags`, `note`).

use serde_json::Value;

use super::support::Collector;
use super::{Format, ImportError, ImportReport, ImportedEntry, google};
use crate::uri;

/// Reads every line: otpauth:// URIs become entries, `otpauth-migration://` lines are expanded,
/// blank lines and `#` comments are skipped, anything else is a per-line error.
pub fn import(text: &str) -> Result<ImportReport, ImportError> {
    let mut out = Collector::new();
    let mut migration_lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("otpauth-migration://") {
            migration_lines.push((index, line));
            continue;
        }
        let result = uri::parse(line).map_err(|e| e.to_string()).map(|c| {
            let mut entry = ImportedEntry::from_credential(c);
            apply_code_display(line, &mut entry);
            entry
        });
        out.item(index, format!("line {}", index + 1), result)?;
    }
    if !migration_lines.is_empty() {
        let report = google::import_lines(&migration_lines)?;
        for e in report.entries {
            out.item(0, "", Ok(e))?;
        }
        out.errors.extend(report.errors);
    }
    Ok(out.finish(Format::OtpauthList))
}

/// Ente's `codeDisplay` parameter: favorites, tags and notes.
fn apply_code_display(line: &str, entry: &mut ImportedEntry) {
    let Some(query) = line.split_once('?').map(|(_, q)| q) else {
        return;
    };
    for pair in query.split('&') {
        let Some(value) = pair.strip_prefix("codeDisplay=") else {
            continue;
        };
        let Some(decoded) = uri::percent_decode(value) else {
            return;
        };
        let Ok(v) = serde_json::from_str::<Value>(&decoded) else {
            return;
        };
        entry.favorite = v.get("pinned").and_then(Value::as_bool).unwrap_or(false);
        if let Some(tags) = v.get("tags").and_then(Value::as_array) {
            entry.groups = tags
                .iter()
                .filter_map(Value::as_str)
                .take(32)
                .map(str::to_owned)
                .collect();
        }
        if let Some(note) = v.get("note").and_then(Value::as_str) {
            entry.note = note.chars().take(4096).collect();
        }
    }
}

/// The export: one canonical otpauth URI per line.
pub fn export(entries: &[&crate::vault::Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&uri::format(&uri::Credential {
            kind: e.kind,
            secret: e.secret.clone(),
            issuer: e.issuer.clone(),
            account: e.account.clone(),
        }));
        out.push('\n');
    }
    out
}
