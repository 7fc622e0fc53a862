#![no_main]
//! Backup files opened with a recovery key never panic.
use libfuzzer_sys::fuzz_target;
use twofold_core::backup;
use twofold_core::vault::{RecoveryKey, SlotCredential};

fuzz_target!(|data: &[u8]| {
    let key = RecoveryKey::from_bytes([7; 16]);
    let _ = backup::open_backup(data, &SlotCredential::Recovery(&key));
});
