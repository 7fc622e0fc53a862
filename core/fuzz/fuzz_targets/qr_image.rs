#![no_main]
//! Image files (PNG, JPEG) and raw luma frames given to the QR decoder never panic.
use libfuzzer_sys::fuzz_target;
use twofold_core::qr;

fuzz_target!(|data: &[u8]| {
    let _ = qr::decode_image(data);
    if data.len() >= 4 {
        let width = u32::from(data[0]) + 1;
        let height = u32::from(data[1]) + 1;
        let stride = width + u32::from(data[2] % 8);
        let _ = qr::decode_luma(qr::LumaFrame {
            width,
            height,
            row_stride: stride,
            data: &data[3..],
        });
    }
});
