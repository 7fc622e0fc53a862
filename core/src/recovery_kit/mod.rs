//! The recovery kit: a printable emergency sheet (PDF or self-contained HTML) with the
//! vault's recovery key, in groups and as a QR code, the vault id, the date, where backups
//! live and step-by-step instructions; optionally the accounts themselves, as a backup sealed
//! to the recovery key and printed as QR codes, so the paper alone restores everything.
//!
//! The recovery key is never stored readable, so a kit is made only with a key the user has
//! just typed (checked against the vault's recovery slot: [`VaultSession::confirm_recovery_key`])
//! or one just made by [`VaultSession::rotate_recovery_key`]. A wrong key makes no kit.
//!
//! Accounts parts (`docs/backup-format.md`, "Recovery kit"): the backup bytes are cut into
//! parts of at most [`PART_BYTES`]; part `i` of `n` is the QR text
//! `TK1:<i>:<n>:<check>:<base45 of the part>` (QR alphanumeric mode), where `check` is the
//! first 8 hex digits (upper case) of SHA-256 over the whole backup. Parts can be scanned in
//! any order; [`join_account_parts`] puts them back together and checks the result.

mod html;
mod pdf;

use crate::backup;
use crate::qr::{self, EcLevel, QrMatrix};
use crate::vault::{RecoveryKey, VaultContent, VaultError, VaultSession};

/// Bytes of backup per accounts QR code.
pub const PART_BYTES: usize = 1000;
/// Most accounts QR codes a kit prints (three pages of four).
pub const MAX_PARTS: usize = 12;
/// Largest sealed accounts backup a kit holds.
pub const MAX_ACCOUNT_BYTES: usize = PART_BYTES * MAX_PARTS;
/// Prefix of an accounts part's QR text.
pub const PART_PREFIX: &str = "TK1:";

/// The file the kit is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitFormat {
    /// A4 PDF with embedded (subset) DejaVu fonts and vector QR codes.
    Pdf,
    /// One self-contained HTML file (inline SVG QR codes, no external resources).
    Html,
}

/// What goes on the kit besides the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KitOptions {
    /// Add the accounts, sealed to the recovery key, as QR codes.
    pub with_accounts: bool,
    /// Where the user's backups are kept (a folder, a cloud drive), printed on the sheet;
    /// `None` prints a line to fill in by hand.
    pub backup_location: Option<String>,
}

/// Why scanned accounts parts do not make a backup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KitPartError {
    /// A scanned text is not a recovery-kit part.
    #[error("this QR code is not a part of a Twofold recovery kit")]
    NotAPart,
    /// Parts of different kits (their counts or checks differ).
    #[error("these QR codes come from different recovery kits")]
    Mixed,
    #[error("parts are missing: {}", list(.missing))]
    /// Some parts were not scanned.
    Missing {
        /// Their numbers, 1-based.
        missing: Vec<usize>,
    },
    /// The joined bytes do not match the kit's check.
    #[error("the parts do not add up to the backup they were printed from (a misread code?)")]
    Checksum,
}

fn list(v: &[usize]) -> String {
    v.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything printed on a kit, in the order it is printed.
pub(crate) struct Sheet {
    /// The recovery key as printed (`ABCD-EFGH-…`).
    pub key: zeroize::Zeroizing<String>,
    pub key_qr: QrMatrix,
    /// The vault id, hex in groups of four.
    pub vault_id: String,
    /// `2026-12-01`.
    pub date: String,
    pub backup_location: Option<String>,
    /// Accounts parts' QR codes, empty without accounts.
    pub parts: Vec<QrMatrix>,
    pub accounts: usize,
}

pub(crate) const TITLE: &str = "Twofold emergency kit";
pub(crate) const WARNING: &str = "Keep this sheet somewhere safe, like a passport. Anyone who holds it can open your \
     Twofold accounts; nobody from Twofold will ever ask you for it.";
pub(crate) const FILL_IN: &str = "_______________________________________________";

impl Sheet {
    /// The numbered steps, in plain words.
    pub(crate) fn steps(&self) -> Vec<String> {
        let backups = match &self.backup_location {
            Some(place) => format!("Your backup files are in: {place}."),
            None => "Your backup files are where you wrote above.".to_owned(),
        };
        let mut steps = vec![
            "Install Twofold on your new phone or computer: on a phone from its app store, on \
             a computer the twofold program."
                .to_owned(),
            "Open Twofold and choose \"Restore\" (on a computer: twofold recovery unlock, or \
             twofold backup restore FILE --merge to bring a backup into a new vault)."
                .to_owned(),
            "When it asks for your recovery key, scan the square code next to the key with the \
             camera, or type the key. Capitals, spaces and dashes do not matter, and 0 and O, 1 \
             and I, 8 and B count as the same."
                .to_owned(),
            format!(
                "Choose your newest backup file. {backups} It opens with this recovery key even if \
                 you have forgotten your password."
            ),
        ];
        if !self.parts.is_empty() {
            steps.push(format!(
                "No backup file? Choose \"Restore from paper\" and scan the {} codes on the \
                 \"Your accounts\" pages, in any order (on a computer: twofold recovery kit-read \
                 PHOTOS... --out backup.twfb, then restore that file). They hold your {} \
                 accounts as of the date above, locked with this recovery key.",
                self.parts.len(),
                self.accounts
            ));
        }
        steps
            .push("Choose a new password, then check that your accounts are all there.".to_owned());
        steps.push(
            "If this sheet is lost, or someone may have seen it, make a new recovery key in \
             Twofold (Settings, Recovery key; on a computer: twofold recovery rotate --kit \
             FILE) and print the new kit. This sheet then stops opening anything saved after \
             that."
                .to_owned(),
        );
        steps
    }
}

/// The vault id as printed: hex in groups of four.
fn vault_id_text(id: &[u8; 16]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the kit's accounts backup holds: the live entries (not the trash), their groups and
/// settings.
fn kit_content(content: &VaultContent) -> VaultContent {
    let mut out = content.clone();
    out.entries.retain(|e| e.deleted_at.is_none());
    out
}

/// Cuts backup bytes into accounts parts (QR texts), or says the backup is too large to
/// print.
pub fn account_parts(backup: &[u8]) -> Result<Vec<String>, VaultError> {
    if backup.len() > MAX_ACCOUNT_BYTES {
        return Err(crate::vault::InputError::KitTooLarge {
            bytes: backup.len(),
            max: MAX_ACCOUNT_BYTES,
        }
        .into());
    }
    let check = check_text(backup);
    let n = backup.len().div_ceil(PART_BYTES).max(1);
    Ok(backup
        .chunks(PART_BYTES)
        .enumerate()
        .map(|(i, chunk)| {
            format!(
                "{PART_PREFIX}{}:{n}:{check}:{}",
                i + 1,
                base45::encode(chunk)
            )
        })
        .collect())
}

fn check_text(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref()[..4].iter().map(|b| format!("{b:02X}")).collect()
}

/// Puts scanned accounts parts (QR texts, any order, duplicates allowed) back together into
/// the backup they were cut from. Bounded: at most [`MAX_PARTS`] parts of [`PART_BYTES`].
pub fn join_account_parts(texts: &[String]) -> Result<Vec<u8>, KitPartError> {
    let mut total = None;
    let mut check = None;
    let mut parts: Vec<Option<Vec<u8>>> = Vec::new();
    for text in texts {
        let rest = text
            .trim()
            .strip_prefix(PART_PREFIX)
            .ok_or(KitPartError::NotAPart)?;
        let mut fields = rest.splitn(4, ':');
        let (Some(i), Some(n), Some(c), Some(payload)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(KitPartError::NotAPart);
        };
        let i: usize = i.parse().map_err(|_| KitPartError::NotAPart)?;
        let n: usize = n.parse().map_err(|_| KitPartError::NotAPart)?;
        if n == 0 || n > MAX_PARTS || i == 0 || i > n || c.len() != 8 {
            return Err(KitPartError::NotAPart);
        }
        if payload.len() > PART_BYTES * 3 / 2 + 2 {
            return Err(KitPartError::NotAPart);
        }
        let bytes = base45::decode(payload).map_err(|_| KitPartError::NotAPart)?;
        if bytes.len() > PART_BYTES {
            return Err(KitPartError::NotAPart);
        }
        match (total, &check) {
            (None, _) => {
                total = Some(n);
                check = Some(c.to_owned());
                parts = vec![None; n];
            }
            (Some(t), Some(k)) if t == n && k == c => {}
            _ => return Err(KitPartError::Mixed),
        }
        match &parts[i - 1] {
            Some(existing) if existing != &bytes => return Err(KitPartError::Checksum),
            _ => parts[i - 1] = Some(bytes),
        }
    }
    if total.is_none() {
        return Err(KitPartError::Missing { missing: vec![1] });
    }
    let missing: Vec<usize> = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_none())
        .map(|(i, _)| i + 1)
        .collect();
    if !missing.is_empty() {
        return Err(KitPartError::Missing { missing });
    }
    let backup: Vec<u8> = parts.into_iter().flatten().flatten().collect();
    if Some(check_text(&backup)) != check {
        return Err(KitPartError::Checksum);
    }
    Ok(backup)
}

/// Makes a recovery kit of `session`'s (unlocked) vault with the recovery key the user
/// typed or just received. The key is checked against the vault's recovery slot first (a
/// wrong key is [`VaultError::WrongCredential`] and no kit is made); it appears only in the
/// returned bytes, never in errors.
pub fn recovery_kit(
    session: &VaultSession,
    key: &RecoveryKey,
    format: KitFormat,
    options: &KitOptions,
) -> Result<Vec<u8>, VaultError> {
    session.confirm_recovery_key(key)?;
    let vault_id = vault_id_text(&session.vault_id()?);
    let now = (session.env().clock)();
    let (y, m, d, ..) = crate::time::utc_parts(now);
    let printed = key.reveal();
    let key_qr =
        qr::encode(&printed, EcLevel::M).map_err(|e| VaultError::Internal(e.to_string()))?;
    let (parts, accounts) = if options.with_accounts {
        let (content, _) = session.snapshot()?;
        let content = kit_content(&content);
        let bytes = backup::seal_to_recovery_key(session, &content, key)?;
        let texts = account_parts(&bytes)?;
        let matrices = texts
            .iter()
            .map(|t| qr::encode(t, EcLevel::M))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        (matrices, content.live_entries().len())
    } else {
        (Vec::new(), 0)
    };
    let sheet = Sheet {
        key: printed,
        key_qr,
        vault_id,
        date: format!("{y:04}-{m:02}-{d:02}"),
        backup_location: options
            .backup_location
            .as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        parts,
        accounts,
    };
    match format {
        KitFormat::Pdf => pdf::render(&sheet),
        KitFormat::Html => Ok(html::render(&sheet).into_bytes()),
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (words longer than a
/// line stay whole).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_in_any_order_and_refuse_damage() {
        let backup: Vec<u8> = (0..2500u32).map(|i| (i * 7 + 3) as u8).collect();
        let parts = account_parts(&backup).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts[0].starts_with("TK1:1:3:"));
        let mut shuffled = vec![parts[2].clone(), parts[0].clone(), parts[1].clone()];
        assert_eq!(join_account_parts(&shuffled).unwrap(), backup);
        shuffled.push(parts[1].clone());
        assert_eq!(join_account_parts(&shuffled).unwrap(), backup);
        assert_eq!(
            join_account_parts(&parts[..2]),
            Err(KitPartError::Missing { missing: vec![3] })
        );
        let other = account_parts(&backup[..2400]).unwrap();
        assert_eq!(
            join_account_parts(&[parts[0].clone(), other[1].clone()]),
            Err(KitPartError::Mixed)
        );
        // A part whose payload was misread (a valid Base45 text of other bytes).
        let fields: Vec<&str> = parts[1].splitn(5, ':').collect();
        let mut bytes = base45::decode(fields[4]).unwrap();
        bytes[10] ^= 1;
        let forged = format!(
            "TK1:{}:{}:{}:{}",
            fields[1],
            fields[2],
            fields[3],
            base45::encode(&bytes)
        );
        assert_eq!(
            join_account_parts(&[parts[0].clone(), forged, parts[2].clone()]),
            Err(KitPartError::Checksum)
        );
        for bad in [
            "otpauth://totp/x",
            "TK1:0:3:00000000:",
            "TK1:4:3:00000000:",
            "TK1:1",
        ] {
            assert_eq!(
                join_account_parts(&[bad.to_owned()]),
                Err(KitPartError::NotAPart),
                "{bad}"
            );
        }
        assert!(matches!(
            account_parts(&vec![0u8; MAX_ACCOUNT_BYTES + 1]),
            Err(VaultError::InvalidInput(
                crate::vault::InputError::KitTooLarge { .. }
            ))
        ));
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        let lines = wrap("one two three four five six", 9);
        assert_eq!(lines, ["one two", "three", "four five", "six"]);
        assert!(wrap("", 10).is_empty());
    }
}
