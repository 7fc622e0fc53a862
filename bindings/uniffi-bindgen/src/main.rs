//! `uniffi-bindgen`, pinned to the UniFFI version `twofold-ffi` is built with (bindings must
//! match the library exactly). Usage:
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libtwofold_ffi.so --language kotlin --out-dir OUT`

fn main() {
    uniffi::uniffi_bindgen_main()
}
