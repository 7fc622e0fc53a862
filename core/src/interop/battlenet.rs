//! Battle.net Authenticator's preferences. New app (`com.blizzard.messenger`):
//! `com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET` and `…AUTHENTICATOR_SERIAL`; old BMA
//! app: `com.blizzard.bma.AUTH_STORE.HASH` = 40 hex secret characters then the serial. Each
//! value is hex, XORed byte by byte with a fixed 56-byte mask, then ASCII. Codes: TOTP SHA1,
//! 8 digits, 30 s; issuer `Battle.net`, account = the serial.

use super::support::{self, Collector};
use super::{Format, ImportError, ImportReport, ImportedEntry, container};
use crate::otp::{Algorithm, OtpKind};

const MASK_HEX: &str = "398e27fc50276a656065b0e525f4c06c04c61075286b8e7aeda59da9813b5dd6c80d2fb38068773fa59ba47c17ca6c6479015c1d5b8b8f6b9a";
const NEW_SECRET: &str = "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET";
const NEW_SERIAL: &str = "com.blizzard.messenger.AUTHENTICATOR_SERIAL";
const OLD_HASH: &str = "com.blizzard.bma.AUTH_STORE.HASH";

fn mask() -> Vec<u8> {
    support::hex(MASK_HEX).expect("constant")
}

/// Hex → XOR with the mask → ASCII.
pub fn unmask(value: &str) -> Result<String, String> {
    let bytes = support::hex(value).map_err(|_| "not hex".to_owned())?;
    let mask = mask();
    if bytes.len() > mask.len() {
        return Err("longer than the app's mask".into());
    }
    let plain: Vec<u8> = bytes.iter().zip(&mask).map(|(b, m)| b ^ m).collect();
    String::from_utf8(plain)
        .ok()
        .filter(|s| s.is_ascii())
        .ok_or_else(|| "does not unmask to text".to_owned())
}

/// The inverse of [`unmask`] (fixtures).
pub fn mask_text(text: &str) -> String {
    support::hex_encode(
        &text
            .bytes()
            .zip(mask())
            .map(|(b, m)| b ^ m)
            .collect::<Vec<u8>>(),
    )
}

pub(crate) fn import(text: &str) -> Result<ImportReport, ImportError> {
    let prefs = container::prefs(text)?;
    let mut out = Collector::new();
    let mut found = false;
    if let Some(secret) = container::pref(&prefs, NEW_SECRET) {
        found = true;
        let serial = container::pref(&prefs, NEW_SERIAL).unwrap_or("");
        let result = unmask(serial).and_then(|serial| {
            let secret = unmask(secret)?;
            entry(&secret, serial)
        });
        out.item(0, "Battle.net", result)?;
    }
    if let Some(hash) = container::pref(&prefs, OLD_HASH) {
        found = true;
        let result = unmask(hash).and_then(|plain| {
            if plain.len() < 40 || !plain.is_char_boundary(40) {
                return Err("too short".into());
            }
            let (secret, serial) = plain.split_at(40);
            entry(secret, serial.to_owned())
        });
        out.item(1, "Battle.net (old app)", result)?;
    }
    if !found {
        return Err(ImportError::Damaged(
            "no Battle.net authenticator in this preferences file".into(),
        ));
    }
    Ok(out.finish(Format::BattleNet))
}

fn entry(secret_hex: &str, serial: String) -> Result<ImportedEntry, String> {
    let bytes = support::hex(secret_hex).map_err(|_| "the secret is not hex".to_owned())?;
    Ok(ImportedEntry::new(
        OtpKind::Totp {
            algorithm: Algorithm::Sha1,
            digits: 8,
            period: 30,
        },
        support::secret_bytes(bytes)?,
        "Battle.net".into(),
        serial.trim().to_owned(),
    ))
}
