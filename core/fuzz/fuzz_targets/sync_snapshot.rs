#![no_main]
//! A sync snapshot served by hostile storage: parsing, verifying and opening never panic; as
//! a decrypted body, merging it keeps the vault's invariants and is idempotent.
use libfuzzer_sys::fuzz_target;
use twofold_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 * 1024 {
        return;
    }
    fuzzing::sync_snapshot(data);
});
