//! The security checkup: what stands between the user and a lock-out or a leak, each finding
//! with a stable id, a severity, a sentence and the fix. Computed from the content, the care
//! state (`vault::care`), the key slots and the clock offset; changes nothing. The apps and
//! the CLI show this list as it is (the JSON shape is in the README).

use std::collections::BTreeMap;

use crate::otp::OtpKind;
use crate::vault::care::{CareState, RecoveryCodesPolicy};
use crate::vault::model::{self, Entry, EntryId, VaultContent};
use crate::vault::{SlotKind, VaultError, VaultSession};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Fix it soon.
    Warning,
    /// A lock-out or a leak is likely: fix it now.
    Critical,
}

impl Severity {
    /// Stable name for JSON and reports (`info`, `warning`, `critical`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable: the kind (`backup-none`, `weak-secret`, …), then `:` and the entry id for
    /// findings about one account.
    pub id: String,
    /// The kind alone (the part of `id` before `:`).
    pub kind: &'static str,
    /// How urgent it is.
    pub severity: Severity,
    /// What is wrong, in a sentence for the user (names accounts, never a secret).
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// The accounts it concerns (none for vault-wide findings).
    pub entries: Vec<EntryId>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Below this a secret is weak (RFC 4226 asks for 128 bits, recommends 160).
pub const WEAK_SECRET_BITS: usize = 128;
/// Below this a secret is severely weak (RFC 4226's hard minimum).
pub const SEVERE_SECRET_BITS: usize = 80;

fn days(ms: i64) -> i64 {
    ms / DAY_MS
}

fn finding(
    kind: &'static str,
    severity: Severity,
    message: String,
    fix: impl Into<String>,
    entries: Vec<EntryId>,
) -> Finding {
    let id = match entries.as_slice() {
        [one] => format!("{kind}:{one}"),
        _ if entries.len() > 1 => format!("{kind}:{}", entries[0]),
        _ => kind.to_owned(),
    };
    Finding {
        id,
        kind,
        severity,
        message,
        fix: fix.into(),
        entries,
    }
}

/// The checkup of an unlocked vault at the session's clock.
pub fn run(session: &VaultSession) -> Result<Vec<Finding>, VaultError> {
    let (content, _) = session.snapshot()?;
    let care = session.care()?;
    let slots = session.slot_kinds()?;
    let now = (session.env().clock)();
    Ok(evaluate(&content, &care, &slots, now))
}

/// The checkup of `content` with `care` and a vault with these slot kinds, at `now` (ms);
/// most severe first, then by id.
pub fn evaluate(
    content: &VaultContent,
    care: &CareState,
    slots: &[SlotKind],
    now: i64,
) -> Vec<Finding> {
    let s = &care.settings;
    let live = content.live_entries();
    let mut out = Vec::new();
    use Severity::*;

    // Backups.
    match &care.backup {
        None if !live.is_empty() => out.push(finding(
            "backup-none",
            Critical,
            "No backup of this vault is known to open: losing this device loses every account."
                .into(),
            "Make a backup (`twofold backup create`) and keep it off this device.",
            vec![],
        )),
        None => {}
        Some(b) if b.made_at > now.saturating_add(DAY_MS) => out.push(finding(
            "backup-old",
            Warning,
            "The newest verified backup is dated in the future: it was made while the clock \
             was set ahead, so it cannot tell which accounts changed since."
                .into(),
            "Make a new backup (`twofold backup create`).",
            vec![],
        )),
        Some(b) => {
            let age = days(now.saturating_sub(b.made_at));
            if age > i64::from(s.backup_max_age_days) {
                out.push(finding(
                    "backup-old",
                    Warning,
                    format!("The newest verified backup is {age} days old."),
                    "Make a new backup (`twofold backup create`).",
                    vec![],
                ));
            }
            let changed: Vec<EntryId> = content
                .entries
                .iter()
                .filter(|e| {
                    e.updated_at
                        .max(e.created_at)
                        .max(e.deleted_at.unwrap_or(i64::MIN))
                        > b.made_at
                })
                .map(|e| e.id)
                .collect();
            if !changed.is_empty() {
                out.push(Finding {
                    id: "backup-stale".into(),
                    kind: "backup-stale",
                    severity: Warning,
                    message: format!(
                        "{} account{} changed since the newest verified backup was made.",
                        changed.len(),
                        if changed.len() == 1 { "" } else { "s" }
                    ),
                    fix: "Make a new backup (`twofold backup create`).".into(),
                    entries: changed,
                });
            }
        }
    }
    // Drills.
    match care.last_drill() {
        None if !live.is_empty() => out.push(finding(
            "drill-none",
            Warning,
            "No restore drill yet: a backup counts only if it opens with what you remember.".into(),
            "Run `twofold backup drill` and type the backup password from memory.",
            vec![],
        )),
        None => {}
        Some(d) if d.at > now.saturating_add(DAY_MS) => out.push(finding(
            "drill-old",
            Warning,
            "The last restore drill is dated in the future: the clock was set ahead when it \
             ran."
                .into(),
            "Run `twofold backup drill` again.",
            vec![],
        )),
        Some(d) => {
            let age = days(now.saturating_sub(d.at));
            if age > i64::from(s.drill_interval_days) {
                out.push(finding(
                    "drill-old",
                    Warning,
                    format!("The last restore drill was {age} days ago."),
                    "Run `twofold backup drill` again.",
                    vec![],
                ));
            }
        }
    }
    // Credentials.
    if care.recovery_key_confirmed_at.is_none() && slots.contains(&SlotKind::Recovery) {
        out.push(finding(
            "recovery-key-unconfirmed",
            Warning,
            "The recovery key has never been confirmed: it may not be written down correctly."
                .into(),
            "Type it once with `twofold recovery confirm` (or run a drill with it).",
            vec![],
        ));
    }
    let unlock_methods = slots.iter().filter(|k| **k != SlotKind::Recovery).count();
    if unlock_methods <= 1 {
        out.push(finding(
            "single-unlock-method",
            Info,
            "Only one way to unlock the vault besides the recovery key.".into(),
            "Add another (biometrics or a PIN in the app) so one forgotten password is not a lock-out.",
            vec![],
        ));
    }
    // Duplicates: the same account twice, and names that collide in apps keyed by name.
    // Keyed by a digest of the secret, so no copy of it lingers in the map.
    let mut by_secret: BTreeMap<([u8; 32], String), Vec<&Entry>> = BTreeMap::new();
    let mut by_name: BTreeMap<(String, String), Vec<&Entry>> = BTreeMap::new();
    for e in &live {
        by_secret
            .entry((
                <sha2::Sha256 as sha2::Digest>::digest(e.secret.expose()).into(),
                kind_key(&e.kind),
            ))
            .or_default()
            .push(e);
        by_name
            .entry((model::fold(&e.issuer), model::fold(&e.account)))
            .or_default()
            .push(e);
    }
    for group in by_secret.values().filter(|g| g.len() > 1) {
        out.push(finding(
            "duplicate-account",
            Warning,
            format!(
                "{} entries are the same account ({}).",
                group.len(),
                group[0].display_name()
            ),
            "Keep one and move the others to the trash.",
            group.iter().map(|e| e.id).collect(),
        ));
    }
    for group in by_name.values().filter(|g| g.len() > 1) {
        let distinct = group
            .iter()
            .any(|e| e.secret != group[0].secret || !model::same_kind(&e.kind, &group[0].kind));
        if distinct {
            out.push(finding(
                "duplicate-name",
                Warning,
                format!(
                    "{} different accounts are all named {}: apps that key accounts by name \
                     would overwrite one with another on import.",
                    group.len(),
                    group[0].display_name()
                ),
                "Rename them so each has its own name (`twofold edit`).",
                group.iter().map(|e| e.id).collect(),
            ));
        }
    }
    let important: Vec<String> = s.important_issuers.iter().map(|i| model::fold(i)).collect();
    let exposed: BTreeMap<EntryId, Vec<&crate::vault::care::Exposure>> =
        care.exposures.iter().fold(BTreeMap::new(), |mut m, x| {
            m.entry(x.entry).or_default().push(x);
            m
        });
    let hotp_used: BTreeMap<EntryId, u64> = care
        .hotp_used
        .iter()
        .map(|h| (h.entry, h.counter))
        .collect();
    for e in &live {
        let name = e.display_name();
        let bits = e.secret.len() * 8;
        if bits < SEVERE_SECRET_BITS {
            out.push(finding(
                "weak-secret",
                Critical,
                format!("{name}: the secret is only {bits} bits (under {SEVERE_SECRET_BITS})."),
                "Re-enrol 2FA at the service and rotate (`twofold rotate`).",
                vec![e.id],
            ));
        } else if bits < WEAK_SECRET_BITS {
            out.push(finding(
                "weak-secret",
                Warning,
                format!("{name}: the secret is {bits} bits (under {WEAK_SECRET_BITS})."),
                "Re-enrol 2FA at the service if it offers a longer secret (`twofold rotate`).",
                vec![e.id],
            ));
        }
        let wants_codes = match s.recovery_codes {
            RecoveryCodesPolicy::All => true,
            RecoveryCodesPolicy::Important => important.contains(&model::fold(&e.issuer)),
            RecoveryCodesPolicy::Off => false,
        };
        if wants_codes && !e.recovery_codes.iter().any(|c| !c.used) {
            out.push(finding(
                "no-recovery-codes",
                if e.recovery_codes.is_empty() { Warning } else { Critical },
                if e.recovery_codes.is_empty() {
                    format!("{name}: no recovery codes are stored.")
                } else {
                    format!("{name}: every stored recovery code is used.")
                },
                "Get recovery codes from the service and add them (`twofold recovery-codes ENTRY --add`).",
                vec![e.id],
            ));
        }
        if let OtpKind::Hotp { counter, .. } = e.kind
            && let Some(used) = hotp_used.get(&e.id)
            && counter.saturating_sub(*used) > u64::from(s.hotp_look_ahead)
        {
            out.push(finding(
                "hotp-ahead",
                Warning,
                format!(
                    "{name}: the counter is {} codes past the last one used; the service may \
                     no longer accept the next code.",
                    counter - used
                ),
                "Resynchronise at the service (most accept two consecutive codes).",
                vec![e.id],
            ));
        }
        let last = e.last_used_at.unwrap_or(e.created_at);
        let idle = days(now.saturating_sub(last));
        if idle > i64::from(s.unused_days) {
            out.push(finding(
                "unused",
                Info,
                format!("{name}: not used for {idle} days."),
                "Check that the account still exists and still uses this 2FA; remove it if not.",
                vec![e.id],
            ));
        }
        if let Some(xs) = exposed.get(&e.id) {
            let last = xs.iter().max_by_key(|x| x.last_at).expect("non-empty");
            out.push(finding(
                "exposed",
                Critical,
                format!(
                    "{name}: the secret left the vault in copyable form ({}, {} day{} ago) and \
                     was not rotated since.",
                    last.way.describe(),
                    days(now.saturating_sub(last.last_at)),
                    if days(now.saturating_sub(last.last_at)) == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
                "Re-enrol 2FA at the service and run `twofold rotate ENTRY`.",
                vec![e.id],
            ));
        }
    }
    let offset = content.settings.clock_offset_s;
    if crate::otp::offset_needs_warning(offset) {
        out.push(finding(
            "clock-offset",
            Warning,
            format!("This device's clock is {offset:+} s off: codes are corrected by that offset."),
            "Set the device clock right (automatic time), then calibrate again.",
            vec![],
        ));
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The kind of code without the HOTP counter, as a key.
fn kind_key(kind: &OtpKind) -> String {
    match kind {
        OtpKind::Hotp {
            algorithm, digits, ..
        } => format!("hotp/{algorithm:?}/{digits}"),
        other => format!("{other:?}"),
    }
}
