#![no_main]
//! Scanned recovery-kit parts (QR texts, split at newlines) never panic, and whatever they
//! join to is no larger than a kit can hold.
use libfuzzer_sys::fuzz_target;
use twofold_core::recovery_kit::{MAX_ACCOUNT_BYTES, join_account_parts};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if let Ok(backup) = join_account_parts(&parts) {
        assert!(backup.len() <= MAX_ACCOUNT_BYTES);
    }
});
