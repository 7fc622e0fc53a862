#![no_main]
//! A WebDAV server's PROPFIND answer (the server is not trusted): parsing never panics.
use libfuzzer_sys::fuzz_target;
use twofold_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    if data.len() > 256 * 1024 {
        return;
    }
    fuzzing::webdav_listing(data);
});
