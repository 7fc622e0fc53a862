//! The stable `--json` shapes (documented in the README). Secrets never appear here.

use serde_json::{Value, json};
use twofold_core::otp::OtpKind;
use twofold_core::vault::codes::CodeRow;
use twofold_core::vault::{Entry, Group};

fn or_null(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::from(s)
    }
}

fn kind_fields(kind: &OtpKind) -> (Value, Value) {
    match kind {
        OtpKind::Hotp { counter, .. } => (Value::Null, Value::from(*counter)),
        other => (Value::from(other.period().unwrap_or(30)), Value::Null),
    }
}

/// One entry as `list --json` prints it.
pub fn entry_json(e: &Entry, groups: &[Group]) -> Value {
    let (period, counter) = kind_fields(&e.kind);
    let group_names: Vec<&str> = groups
        .iter()
        .filter(|g| e.group_ids.contains(&g.id))
        .map(|g| g.name.as_str())
        .collect();
    json!({
        "id": e.id.to_string(),
        "type": e.kind.type_name(),
        "issuer": or_null(&e.issuer),
        "account": or_null(&e.account),
        "note": or_null(&e.note),
        "groups": group_names,
        "favorite": e.favorite,
        "algorithm": e.kind.algorithm().name(),
        "digits": e.kind.digits(),
        "period": period,
        "counter": counter,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "last_used_at": e.last_used_at,
        "use_count": e.use_count,
        "deleted_at": e.deleted_at,
    })
}

/// One code as `codes --json` prints it.
pub fn code_json(r: &CodeRow) -> Value {
    let timed = r.period != 0;
    json!({
        "id": r.entry_id.to_string(),
        "type": r.kind.type_name(),
        "issuer": or_null(&r.issuer),
        "account": or_null(&r.account),
        "code": r.code,
        "next_code": r.next_code,
        "period": if timed { Value::from(r.period) } else { Value::Null },
        "remaining_ms": if timed { Value::from(r.remaining_ms) } else { Value::Null },
    })
}
