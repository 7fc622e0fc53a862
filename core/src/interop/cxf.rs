//! FIDO Credential Exchange Format (CXF v1.0) JSON with TOTP credentials. CXF has no HOTP or
//! Steam type: those are skipped and reported.

use serde_json::{Value, json};

use crate::crypto::{RandomSource, random_array};
use crate::otp::OtpKind;
use crate::vault::Entry;

/// What an export wrote and what it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry left out.
    pub id: crate::vault::EntryId,
    /// "Issuer (account)" of the entry left out.
    pub label: String,
    /// Why the format cannot hold it.
    pub reason: String,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The CXF document and the entries it had to leave out.
pub fn export(
    entries: &[&Entry],
    now_ms: i64,
    rng: &dyn RandomSource,
) -> Result<(String, Vec<Skipped>), crate::crypto::CryptoError> {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for e in entries {
        let label = e.display_name();
        let OtpKind::Totp {
            algorithm,
            digits,
            period,
        } = e.kind
        else {
            skipped.push(Skipped {
                id: e.id,
                label,
                reason: format!("CXF has no {} credential type", e.kind.type_name()),
            });
            continue;
        };
        let id: [u8; 16] = random_array(rng)?;
        items.push(json!({
            "id": b64url(&id),
            "creationAt": e.created_at / 1000,
            "modifiedAt": e.updated_at / 1000,
            "title": if e.issuer.is_empty() { e.account.clone() } else { e.issuer.clone() },
            "favorite": e.favorite,
            "credentials": [{
                "type": "totp",
                "secret": e.secret.to_base32(),
                "period": period,
                "digits": digits,
                "username": e.account,
                "algorithm": algorithm.name().to_ascii_lowercase(),
                "issuer": e.issuer,
            }],
        }));
    }
    let account_id: [u8; 16] = random_array(rng)?;
    let doc: Value = json!({
        "version": {"major": 1, "minor": 0},
        "exporterRpId": "twofold.app",
        "exporterDisplayName": "Twofold",
        "timestamp": now_ms / 1000,
        "accounts": [{
            "id": b64url(&account_id),
            "username": "",
            "email": "",
            "collections": [],
            "items": items,
        }],
    });
    Ok((
        serde_json::to_string_pretty(&doc).expect("JSON of plain values"),
        skipped,
    ))
}
