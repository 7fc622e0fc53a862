#![no_main]
//! Every importer, through format detection, with and without a password: never panics.
//! (KDF parameters in files are bounded, but a fuzzer that finds a valid slot with the
//! largest allowed cost would be slow, so inputs are capped at 64 KiB.)
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::{self, Format};

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let _ = interop::import(data, None, None);
    let (selector, rest) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => return,
    };
    let format = Format::ALL[usize::from(selector) % Format::ALL.len()];
    let _ = interop::import(rest, Some(format), Some(b"fuzz"));
});
