#![no_main]
//! Google migration URIs (base64 + protobuf) decode without panicking, including batch
//! accumulation.
use libfuzzer_sys::fuzz_target;
use twofold_core::interop::google;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut batches = google::BatchCollector::new();
    for line in text.lines() {
        if let Ok(part) = google::decode_uri(line) {
            let _ = batches.add(part);
        }
    }
    for id in batches.batch_ids() {
        let _ = batches.take(id);
    }
});
