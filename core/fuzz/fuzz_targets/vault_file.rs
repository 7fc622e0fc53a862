#![no_main]
//! Vault files: framing and header parsing, then a slot unwrap with a fixed recovery key,
//! never panic (no KDF runs for recovery slots, so every input is fast).
use libfuzzer_sys::fuzz_target;
use twofold_core::vault::container::{self, VAULT_MAGIC};
use twofold_core::vault::{RecoveryKey, SlotCredential, slots};

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = container::parse(data, VAULT_MAGIC) {
        let key = RecoveryKey::from_bytes([7; 16]);
        if let Ok((_, mk)) =
            slots::unlock(VAULT_MAGIC, &parsed.header, &SlotCredential::Recovery(&key))
        {
            let _ = container::open_body(&parsed, &mk);
        }
    }
});
