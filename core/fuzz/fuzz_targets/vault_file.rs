#![no_main]
//! Arbitrary bytes as a vault file (and as its previous generation), opened with a fixed
//! recovery key through the whole session path in memory: typed errors only, never a panic
//! (no KDF runs for recovery slots, so every input is fast).
use libfuzzer_sys::fuzz_target;
use twofold_core::fuzzing;
use twofold_core::vault::{RecoveryKey, SlotCredential};

fuzz_target!(|data: &[u8]| {
    let key = RecoveryKey::from_bytes([7; 16]);
    let credential = SlotCredential::Recovery(&key);
    let split = data.first().map_or(0, |b| *b as usize % (data.len().max(1)));
    let (a, b) = data.split_at(split);
    let _ = fuzzing::open_vault(data, None, &credential);
    let _ = fuzzing::open_vault(a, Some(b), &credential);
});
