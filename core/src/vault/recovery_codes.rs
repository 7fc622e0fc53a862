//! Recovery codes of one account: the one-time codes a service hands out for when the second
//! factor is lost. They live in the entry, inside the encrypted body like the secret; their
//! text is zeroized on drop and never shown by `Debug`.
//!
//! Rules in one place: what a code may look like ([`check_code`]), when two codes are the same
//! ([`same_code`]: ignoring case, spaces and hyphens), how two lists join ([`merge_into`]: a
//! set by [`same_code`], used = either, the earliest date) and how a block of them is found
//! in another app's note ([`split_note`]).

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::limits::{MAX_RECOVERY_CODE_LEN, MAX_RECOVERY_CODES};

/// One recovery code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCode {
    /// The code as the service printed it (trimmed).
    pub code: String,
    /// Spent: the service accepts it no more.
    #[serde(default)]
    pub used: bool,
    /// When it was marked used (ms), if known.
    #[serde(default)]
    pub used_at: Option<i64>,
}

impl RecoveryCode {
    /// An unused code (checked).
    pub fn new(text: &str) -> Result<Self, RecoveryCodeError> {
        Ok(RecoveryCode {
            code: check_code(text)?,
            used: false,
            used_at: None,
        })
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCode")
            .field("code", &"<redacted>")
            .field("used", &self.used)
            .field("used_at", &self.used_at)
            .finish()
    }
}

impl Drop for RecoveryCode {
    fn drop(&mut self) {
        self.code.zeroize();
    }
}

/// Why a recovery code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryCodeError {
    /// Empty once trimmed.
    #[error("a recovery code must not be empty")]
    Empty,
    /// Longer than the limit.
    #[error("a recovery code is at most {max} characters")]
    TooLong {
        /// The limit, in characters ([`MAX_RECOVERY_CODE_LEN`]).
        max: usize,
    },
    /// Contains a control character or a line break.
    #[error("a recovery code must not contain control characters or line breaks")]
    ControlCharacter,
    /// The account would have more codes than the limit.
    #[error("an account keeps at most {max} recovery codes")]
    TooMany {
        /// The most codes an account keeps ([`MAX_RECOVERY_CODES`]).
        max: usize,
    },
    /// Not one of the account's codes (compared as [`same_code`] does).
    #[error("this account has no such recovery code")]
    Unknown,
}

/// The stored form of a typed code: trimmed, within [`MAX_RECOVERY_CODE_LEN`], no control
/// characters.
pub fn check_code(text: &str) -> Result<String, RecoveryCodeError> {
    let t = text.trim();
    match problem(t) {
        Some(e) => Err(e),
        None => Ok(t.to_owned()),
    }
}

/// What is wrong with a trimmed code, if anything (no copy of the code is made).
fn problem(t: &str) -> Option<RecoveryCodeError> {
    if t.is_empty() {
        return Some(RecoveryCodeError::Empty);
    }
    if t.chars().any(char::is_control) {
        return Some(RecoveryCodeError::ControlCharacter);
    }
    if t.chars().count() > MAX_RECOVERY_CODE_LEN {
        return Some(RecoveryCodeError::TooLong {
            max: MAX_RECOVERY_CODE_LEN,
        });
    }
    None
}

/// Whether `text` is a code as stored ([`check_code`] gives it back unchanged), checked
/// without copying it.
pub fn is_stored_form(text: &str) -> bool {
    text.trim() == text && problem(text).is_none()
}

/// The form two codes are compared in: lower case, without spaces and hyphens ("ABCD-EFGH"
/// is "abcd efgh"). Wiped when dropped, like the code.
#[derive(PartialEq, Eq, Hash)]
struct Canonical(String);

impl Drop for Canonical {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

fn canonical(text: &str) -> Canonical {
    Canonical(
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect(),
    )
}

/// Whether two code texts name the same code.
pub fn same_code(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// Checks a whole list as stored input (a backup, a sync document, a transfer).
pub fn check_list(codes: &[RecoveryCode]) -> Result<(), RecoveryCodeError> {
    if codes.len() > MAX_RECOVERY_CODES {
        return Err(RecoveryCodeError::TooMany {
            max: MAX_RECOVERY_CODES,
        });
    }
    for c in codes {
        if let Some(e) = problem(c.code.trim()) {
            return Err(e);
        }
        if c.code.trim() != c.code {
            return Err(RecoveryCodeError::ControlCharacter);
        }
    }
    Ok(())
}

/// Adds new codes (typed or read from a file) to a list: each is checked, codes the list has
/// already (or given twice) are skipped. All or nothing: any malformed code, or more than
/// [`MAX_RECOVERY_CODES`] in all, refuses the whole call. Returns how many were added. Linear
/// in the input, which may be as long as a hostile paste.
pub fn add_to(list: &mut Vec<RecoveryCode>, texts: &[String]) -> Result<usize, RecoveryCodeError> {
    let mut seen: HashSet<Canonical> = list.iter().map(|c| canonical(&c.code)).collect();
    let mut fresh: Vec<RecoveryCode> = Vec::new();
    for t in texts {
        let code = RecoveryCode::new(t)?;
        if seen.insert(canonical(&code.code)) {
            if list.len() + fresh.len() >= MAX_RECOVERY_CODES {
                return Err(RecoveryCodeError::TooMany {
                    max: MAX_RECOVERY_CODES,
                });
            }
            fresh.push(code);
        }
    }
    let n = fresh.len();
    list.extend(fresh);
    Ok(n)
}

/// Marks the code matching `text` used at `now` (a code used already keeps its date). A list
/// from before codes were joined by [`same_code`] may hold one code in two spellings: both
/// are spent.
pub fn mark_used(list: &mut [RecoveryCode], text: &str, now: i64) -> Result<(), RecoveryCodeError> {
    let wanted = canonical(text);
    let mut found = false;
    for code in list.iter_mut().filter(|c| canonical(&c.code) == wanted) {
        found = true;
        if !code.used {
            code.used = true;
            code.used_at = Some(now);
        }
    }
    if found {
        Ok(())
    } else {
        Err(RecoveryCodeError::Unknown)
    }
}

/// Joins `other` into `list`: a set of codes as [`same_code`] compares them; used if either
/// says so, with the earliest known date; of two spellings of one code the smaller text is
/// kept, so the result is the same whichever list comes first. Commutative, associative and
/// idempotent as a set (the order is `list`'s, then `other`'s new codes). Codes of `list`
/// that are one code already are joined too.
pub fn merge_into(list: &mut Vec<RecoveryCode>, other: &[RecoveryCode]) {
    let mut joined: Vec<RecoveryCode> = Vec::with_capacity(list.len() + other.len());
    let mut index: HashMap<Canonical, usize> = HashMap::new();
    for o in list.drain(..).chain(other.iter().cloned()) {
        match index.get(&canonical(&o.code)) {
            Some(&i) => {
                let c = &mut joined[i];
                if o.code < c.code {
                    // Wiped first: a longer text would move the string, leaving the old
                    // bytes in freed memory.
                    c.code.zeroize();
                    c.code.push_str(&o.code);
                }
                c.used |= o.used;
                c.used_at = earliest(c.used_at, o.used_at);
            }
            None => {
                index.insert(canonical(&o.code), joined.len());
                joined.push(o);
            }
        }
    }
    *list = joined;
}

/// Marks used the codes of `list` that `other` knows as used (with the earliest date), adding
/// none: a code spent once stays spent, whatever older copy of the list comes back (a
/// restore that replaces the vault's entries with a backup's).
pub fn keep_used_marks(list: &mut [RecoveryCode], other: &[RecoveryCode]) {
    let used: HashMap<Canonical, Option<i64>> = other
        .iter()
        .filter(|c| c.used)
        .map(|c| (canonical(&c.code), c.used_at))
        .collect();
    for c in list.iter_mut() {
        if let Some(at) = used.get(&canonical(&c.code)) {
            c.used = true;
            c.used_at = earliest(c.used_at, *at);
        }
    }
}

/// [`merge_into`] when the joined list stays within [`MAX_RECOVERY_CODES`]; otherwise
/// `list` is left as it is. Returns whether it joined.
pub fn merge_within_limit(list: &mut Vec<RecoveryCode>, other: &[RecoveryCode]) -> bool {
    let mut joined = list.clone();
    merge_into(&mut joined, other);
    if joined.len() > MAX_RECOVERY_CODES {
        return false;
    }
    *list = joined;
    true
}

/// The earlier of two optional dates (a known date beats none).
pub fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The same set of codes (order aside).
pub fn same_set(a: &[RecoveryCode], b: &[RecoveryCode]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Codes in the order a user wants them: unused first, each part in the stored order.
pub fn unused_first(list: &[RecoveryCode]) -> Vec<RecoveryCode> {
    let mut v: Vec<RecoveryCode> = list.iter().filter(|c| !c.used).cloned().collect();
    v.extend(list.iter().filter(|c| c.used).cloned());
    v
}

/// Whether a line starts a block of recovery codes ("Recovery codes:", "Backup codes",
/// "2FA backup codes:" …).
fn is_heading(line: &str) -> Option<&str> {
    let lower = line.to_lowercase();
    for head in [
        "recovery codes",
        "recovery code",
        "backup codes",
        "backup code",
        "2fa recovery codes",
        "2fa backup codes",
        "emergency codes",
        "scratch codes",
    ] {
        if let Some(rest) = lower.strip_prefix(head) {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
            let at = line.len() - rest.len();
            return Some(&line[at..]);
        }
    }
    None
}

/// Whether a piece of text looks like one code: 4–64 characters of letters, digits, spaces
/// and hyphens, with at least one digit (so a sentence is never taken for a code).
fn looks_like_code(text: &str) -> bool {
    let t = text.trim();
    let n = t.chars().count();
    (4..=64).contains(&n)
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
        && t.split_whitespace().count() <= 2
}

/// Finds a recovery-codes block in another app's note: a heading line ("Recovery codes:",
/// "Backup codes", …) followed by codes, one per line or separated by commas (or the codes on
/// the heading line itself after the colon), up to the first line that is not a code. Returns
/// the codes and the note without the block. Only a clear block is taken: no heading, or a
/// heading with no code after it, leaves the note as it is. At most [`MAX_RECOVERY_CODES`]
/// codes are taken; the rest of the block stays in the note.
pub fn split_note(note: &str) -> (Vec<String>, String) {
    let lines: Vec<&str> = note.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = is_heading(line.trim()) else {
            continue;
        };
        let mut codes = Vec::new();
        let pieces = |l: &str| -> Option<Vec<String>> {
            let parts: Vec<String> = l
                .split([',', ';'])
                .map(|p| p.trim().trim_start_matches(['-', '*', '•']).trim())
                .map(|p| {
                    // "1. abcd-efgh" or "1) abcd-efgh": a numbered list.
                    match p.split_once(['.', ')']) {
                        Some((n, code)) if n.chars().all(|c| c.is_ascii_digit()) => {
                            code.trim().to_owned()
                        }
                        _ => p.to_owned(),
                    }
                })
                .filter(|p| !p.is_empty())
                .collect();
            (!parts.is_empty() && parts.iter().all(|p| looks_like_code(p))).then_some(parts)
        };
        let mut end = i + 1;
        if !rest.is_empty() {
            match pieces(rest) {
                Some(p) => codes.extend(p),
                None => continue,
            }
        }
        while end < lines.len() && codes.len() < MAX_RECOVERY_CODES {
            let l = lines[end].trim();
            if l.is_empty() && codes.is_empty() {
                end += 1;
                continue;
            }
            match pieces(l) {
                Some(p) if codes.len() + p.len() <= MAX_RECOVERY_CODES => {
                    codes.extend(p);
                    end += 1;
                }
                _ => break,
            }
        }
        if codes.is_empty() {
            continue;
        }
        let kept: Vec<&str> = lines[..i].iter().chain(&lines[end..]).copied().collect();
        return (codes, kept.join("\n").trim().to_owned());
    }
    (Vec::new(), note.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn malformed_codes_are_refused_and_nothing_is_added() {
        let mut list = Vec::new();
        assert_eq!(
            add_to(&mut list, &texts(&["  "])),
            Err(RecoveryCodeError::Empty)
        );
        assert_eq!(
            add_to(&mut list, &texts(&["good-1234", "bad\u{7}"])),
            Err(RecoveryCodeError::ControlCharacter)
        );
        assert_eq!(
            add_to(&mut list, &texts(&[&"x".repeat(MAX_RECOVERY_CODE_LEN + 1)])),
            Err(RecoveryCodeError::TooLong {
                max: MAX_RECOVERY_CODE_LEN
            })
        );
        let many: Vec<String> = (0..=MAX_RECOVERY_CODES)
            .map(|i| format!("c{i:04}"))
            .collect();
        assert_eq!(
            add_to(&mut list, &many),
            Err(RecoveryCodeError::TooMany {
                max: MAX_RECOVERY_CODES
            })
        );
        assert!(list.is_empty());
    }

    #[test]
    fn duplicates_by_case_spaces_and_hyphens_are_skipped() {
        let mut list = Vec::new();
        assert_eq!(
            add_to(&mut list, &texts(&["ABCD-EFGH", "abcd efgh", "1234"])),
            Ok(2)
        );
        assert_eq!(add_to(&mut list, &texts(&["abcdefgh"])), Ok(0));
        mark_used(&mut list, "abcdEFGH", 5).unwrap();
        mark_used(&mut list, "abcd-efgh", 9).unwrap();
        assert_eq!(list[0].used_at, Some(5));
        assert_eq!(
            mark_used(&mut list, "nope", 1),
            Err(RecoveryCodeError::Unknown)
        );
        assert_eq!(unused_first(&list)[0].code, "1234");
    }

    #[test]
    fn merge_is_a_set_with_used_or_and_the_earliest_date() {
        let a = vec![
            RecoveryCode {
                code: "a1".into(),
                used: true,
                used_at: Some(7),
            },
            RecoveryCode::new("b2").unwrap(),
        ];
        let b = vec![
            RecoveryCode {
                code: "a1".into(),
                used: true,
                used_at: Some(3),
            },
            RecoveryCode {
                code: "b2".into(),
                used: true,
                used_at: None,
            },
            RecoveryCode::new("c3").unwrap(),
        ];
        let mut ab = a.clone();
        merge_into(&mut ab, &b);
        let mut ba = b.clone();
        merge_into(&mut ba, &a);
        assert!(same_set(&ab, &ba));
        assert_eq!(ab.len(), 3);
        assert_eq!(ab[0].used_at, Some(3));
        assert!(ab[1].used);
        let again = ab.clone();
        merge_into(&mut ab, &again);
        assert!(same_set(&ab, &again));
    }

    #[test]
    fn a_block_in_a_note_is_found_and_the_rest_kept() {
        let note = "Work account\nRecovery codes:\n1. 1234-5678\n2. 8765-4321\n\nAsk IT for more";
        let (codes, rest) = split_note(note);
        assert_eq!(codes, texts(&["1234-5678", "8765-4321"]));
        assert_eq!(rest, "Work account\n\nAsk IT for more");
        let (codes, rest) = split_note("Backup codes: ab12cd, ef34gh, ij56kl");
        assert_eq!(codes, texts(&["ab12cd", "ef34gh", "ij56kl"]));
        assert_eq!(rest, "");
        // No heading, or a heading followed by prose: the note stays as it is.
        for note in [
            "1234-5678\n8765-4321",
            "Recovery codes are in the drawer at home",
            "recovery codes:\nask the admin for them",
        ] {
            let (codes, rest) = split_note(note);
            assert!(codes.is_empty(), "{note}");
            assert_eq!(rest, note);
        }
    }

    #[test]
    fn debug_never_shows_the_code() {
        let c = RecoveryCode::new("secret-9876").unwrap();
        assert!(!format!("{c:?}").contains("9876"));
    }
}
