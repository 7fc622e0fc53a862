//! WinAuth's export: one otpauth URI per line (`Issuer:Name` or `Name` labels; Steam and
//! Battle.net authenticators carry extra parameters). Optionally zipped with a password
//! (ZipCrypto, one `.txt` entry). The URI's issuer is kept, else the label is the issuer;
//! WinAuth's `Steam` entries become Steam Guard codes and `BattleNet` becomes `Battle.net`.

use super::support::Collector;
use super::{Format, ImportError, ImportReport, ImportedEntry, container, support};
use crate::otp::OtpKind;
use crate::uri;

pub fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    if container::is_zip(bytes) {
        let mut zip = container::Zip::open(bytes)?;
        let name = zip
            .names()
            .into_iter()
            .find(|n| n.to_ascii_lowercase().ends_with(".txt"))
            .ok_or_else(|| ImportError::Damaged("the archive holds no .txt export".into()))?;
        let text = zip.read(&name, password)?;
        return import_text(support::text(&text)?);
    }
    import_text(support::text(bytes)?)
}

pub fn import_text(text: &str) -> Result<ImportReport, ImportError> {
    let mut out = Collector::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // WinAuth writes Steam authenticators as 5-digit TOTP: read them as Steam Guard.
        let lower = line.to_ascii_lowercase();
        let steam_line;
        let line = if lower.starts_with("otpauth://totp/")
            && (lower.contains("issuer=steam&")
                || lower.ends_with("issuer=steam")
                || lower["otpauth://totp/".len()..].starts_with("steam:"))
        {
            steam_line = format!("otpauth://steam/{}", &line["otpauth://totp/".len()..]);
            steam_line.as_str()
        } else {
            line
        };
        let result = uri::parse(line).map_err(|e| e.to_string()).map(|c| {
            let mut e = ImportedEntry::from_credential(c);
            if e.issuer.is_empty() {
                e.issuer = std::mem::take(&mut e.account);
            }
            if e.issuer.eq_ignore_ascii_case("steam") {
                e.kind = OtpKind::Steam;
                e.issuer = "Steam".into();
            } else if e.issuer.eq_ignore_ascii_case("battlenet") {
                e.issuer = "Battle.net".into();
            }
            e
        });
        out.item(index, format!("line {}", index + 1), result)?;
    }
    Ok(out.finish(Format::WinAuth))
}
