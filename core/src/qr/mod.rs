//! QR codes: decoding from camera luma frames (what CameraX's Y plane gives: width, height,
//! row stride, bytes) and from image files (PNG, JPEG), and encoding for exports and the
//! transfer protocol (PNG, a module matrix for native drawing, and terminal text).
//!
//! The decoder is rxing (a ZXing port), chosen by measurement on a degraded test set
//! (`docs/performance.md`, `scripts/bench_qr.py`): it decoded the most of the pure-Rust
//! candidates and was the fastest of all four decoders measured. When a frame yields nothing,
//! we retry once on a contrast-stretched copy, which recovers washed-out and low-contrast
//! screens.

use std::io::Cursor;

use image::ImageReader;

/// Largest frame or image side we accept.
pub const MAX_SIDE: u32 = 8192;
/// Largest image file we decode.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024 * 1024;

/// Why a frame or image could not be examined (not finding a code is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The frame is empty, larger than we decode, or its buffer is shorter than its size says.
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    /// The bytes are not an image we can decode.
    #[error("not a readable PNG or JPEG image: {0}")]
    InvalidImage(String),
    /// The text is longer than the largest QR code holds at the chosen level.
    #[error("the text does not fit in a QR code")]
    TooLong,
}

/// A greyscale camera frame: `data[y * row_stride + x]` is the luma of pixel (x, y).
#[derive(Debug, Clone, Copy)]
pub struct LumaFrame<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the next (at least `width`).
    pub row_stride: u32,
    /// The luma bytes, at least `row_stride × (height − 1) + width` of them.
    pub data: &'a [u8],
}

impl LumaFrame<'_> {
    /// The pixels without row padding (borrowed when there is none).
    fn packed(&self) -> Result<std::borrow::Cow<'_, [u8]>, QrError> {
        let (w, h, s) = (
            self.width as usize,
            self.height as usize,
            self.row_stride as usize,
        );
        if w == 0 || h == 0 || self.width > MAX_SIDE || self.height > MAX_SIDE {
            return Err(QrError::InvalidFrame(format!(
                "{}×{} is not a usable size",
                self.width, self.height
            )));
        }
        if s < w {
            return Err(QrError::InvalidFrame(format!(
                "row stride {s} is smaller than the width {w}"
            )));
        }
        let needed = s * (h - 1) + w;
        if self.data.len() < needed {
            return Err(QrError::InvalidFrame(format!(
                "{} bytes for a frame that needs {needed}",
                self.data.len()
            )));
        }
        if s == w {
            return Ok(std::borrow::Cow::Borrowed(&self.data[..w * h]));
        }
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            out.extend_from_slice(&self.data[y * s..y * s + w]);
        }
        Ok(std::borrow::Cow::Owned(out))
    }
}

fn rxing_decode(luma: &[u8], width: u32, height: u32) -> Option<String> {
    let mut hints = rxing::DecodeHints::default()
        .with(rxing::DecodeHintValue::TryHarder(true))
        .with(rxing::DecodeHintValue::AlsoInverted(true));
    rxing::helpers::detect_in_luma_slice_with_hints(
        luma,
        width,
        height,
        Some(rxing::BarcodeFormat::QR_CODE),
        &mut hints,
    )
    .ok()
    .map(|r| r.getText().to_owned())
}

/// Stretches the 1st–99th percentile of brightness to the full range.
fn stretch_contrast(luma: &[u8]) -> Vec<u8> {
    let mut histogram = [0usize; 256];
    for &v in luma {
        histogram[usize::from(v)] += 1;
    }
    let cut = luma.len() / 100;
    let (mut lo, mut seen) = (0usize, 0usize);
    while lo < 255 && seen + histogram[lo] <= cut {
        seen += histogram[lo];
        lo += 1;
    }
    let (mut hi, mut seen) = (255usize, 0usize);
    while hi > 0 && seen + histogram[hi] <= cut {
        seen += histogram[hi];
        hi -= 1;
    }
    if hi <= lo {
        return luma.to_vec();
    }
    let span = (hi - lo) as f32;
    luma.iter()
        .map(|&v| (((usize::from(v).clamp(lo, hi) - lo) as f32 / span) * 255.0).round() as u8)
        .collect()
}

fn decode_packed(luma: &[u8], width: u32, height: u32) -> Option<String> {
    // The contrast-stretched retry costs a pass over the frame, so only frames that failed pay it.
    rxing_decode(luma, width, height)
        .or_else(|| rxing_decode(&stretch_contrast(luma), width, height))
}

/// Decodes the QR code in a camera frame. `Ok(None)` when there is none (or it is unreadable).
pub fn decode_luma(frame: LumaFrame<'_>) -> Result<Option<String>, QrError> {
    let luma = frame.packed()?;
    Ok(decode_packed(&luma, frame.width, frame.height))
}

/// Decodes the QR code in a PNG or JPEG file.
pub fn decode_image(bytes: &[u8]) -> Result<Option<String>, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::InvalidImage(format!(
            "{} bytes is too large",
            bytes.len()
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::InvalidImage(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| QrError::InvalidImage(e.to_string()))?
        .to_luma8();
    let (w, h) = img.dimensions();
    Ok(decode_packed(img.as_raw(), w, h))
}

/// Every distinct QR code in a PNG or JPEG that holds several side by side (a scanned or
/// photographed page of a printed recovery kit): the whole picture, then each cell of 1×2,
/// 2×1, 2×2 and 2×3 grids over it, so codes laid out in up to two columns and three rows are
/// each found on their own. Bounded: at most 15 decodes. In the order found.
pub fn decode_image_all(bytes: &[u8]) -> Result<Vec<String>, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::InvalidImage(format!(
            "{} bytes is too large",
            bytes.len()
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| QrError::InvalidImage(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| QrError::InvalidImage(e.to_string()))?
        .to_luma8();
    let (w, h) = img.dimensions();
    let luma = img.as_raw();
    let mut found: Vec<String> = Vec::new();
    for (cols, rows) in [(1u32, 1u32), (2, 1), (1, 2), (2, 2), (2, 3)] {
        for row in 0..rows {
            for col in 0..cols {
                let (x0, x1) = (w * col / cols, w * (col + 1) / cols);
                let (y0, y1) = (h * row / rows, h * (row + 1) / rows);
                if x1 <= x0 || y1 <= y0 {
                    continue;
                }
                let start = (y0 * w + x0) as usize;
                let frame = LumaFrame {
                    width: x1 - x0,
                    height: y1 - y0,
                    row_stride: w,
                    data: &luma[start..],
                };
                if let Some(text) = decode_luma(frame)?
                    && !found.contains(&text)
                {
                    found.push(text);
                }
            }
        }
    }
    Ok(found)
}

/// A PNG of a greyscale picture (`width × height`, tightly packed).
pub fn luma_png(width: u32, height: u32, luma: &[u8]) -> Vec<u8> {
    let img = image::GrayImage::from_raw(width, height, luma.to_vec()).expect("sized buffer");
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("PNG encoding to memory");
    out
}

/// Error-correction level for encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcLevel {
    /// Low: about 7 % of the code may be damaged.
    L,
    /// Medium: about 15 %.
    M,
    /// Quartile: about 25 %.
    Q,
    /// High: about 30 %.
    H,
}

impl From<EcLevel> for qrcode::EcLevel {
    fn from(l: EcLevel) -> Self {
        match l {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// The modules of a QR code: `size × size`, row-major, `true` = dark. No quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    /// Modules per side.
    pub size: usize,
    /// `size × size` flags, row by row; `true` is a dark module.
    pub dark: Vec<bool>,
}

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// The smallest code holding `text` as one alphanumeric segment, if the text allows it.
fn alphanumeric_code(text: &str, ec: qrcode::EcLevel) -> Option<qrcode::QrCode> {
    if !text.bytes().all(|b| ALPHANUMERIC.contains(&b)) {
        return None;
    }
    (1..=40).find_map(|v| {
        let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
        let capacity = bits.max_len(ec).ok()?;
        bits.push_alphanumeric_data(text.as_bytes()).ok()?;
        // The library does not refuse data longer than the version holds on this path (it
        // asserts later), so check the capacity ourselves before finishing the code.
        if bits.len() > capacity {
            return None;
        }
        bits.push_terminator(ec).ok()?;
        if bits.len() != capacity {
            return None;
        }
        qrcode::QrCode::with_bits(bits, ec).ok()
    })
}

/// Encodes text in the smallest code: the library's mixed-mode segmentation, or a single
/// alphanumeric segment when that is smaller. (The segmentation heuristic sometimes splits
/// Base45 text into digit runs that cost more than they save; transfer frames must fit the QR
/// version they were sized for.)
pub fn encode(text: &str, ec: EcLevel) -> Result<QrMatrix, QrError> {
    let level = ec.into();
    let mixed = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level).ok();
    let code = match (mixed, alphanumeric_code(text, level)) {
        (Some(m), Some(a)) => {
            if a.width() < m.width() {
                a
            } else {
                m
            }
        }
        (Some(m), None) => m,
        (None, Some(a)) => a,
        (None, None) => return Err(QrError::TooLong),
    };
    let size = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok(QrMatrix { size, dark })
}

impl QrMatrix {
    /// A greyscale PNG with a 4-module quiet zone, `scale` pixels per module.
    pub fn to_png(&self, scale: u32) -> Vec<u8> {
        let scale = scale.max(1) as usize;
        let side = (self.size + 8) * scale;
        let mut px = vec![255u8; side * side];
        for y in 0..self.size {
            for x in 0..self.size {
                if self.dark[y * self.size + x] {
                    for dy in 0..scale {
                        let row = ((y + 4) * scale + dy) * side;
                        px[row + (x + 4) * scale..row + (x + 5) * scale].fill(0);
                    }
                }
            }
        }
        let img = image::GrayImage::from_raw(side as u32, side as u32, px).expect("sized buffer");
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("PNG encoding to memory");
        out
    }

    /// A 1280×720 greyscale camera picture of this code shown on a screen (test and benchmark
    /// support): the code, quiet zone included, spans `fill` of the picture's height, turned
    /// by a few degrees, sampled with a lens blur, low contrast, uneven lighting and sensor
    /// noise, all drawn from `seed`. Returns the luma plane (row stride 1280).
    #[doc(hidden)]
    pub fn camera_picture(&self, fill: f32, seed: u64) -> Vec<u8> {
        const W: usize = 1280;
        const H: usize = 720;
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f32 / (1u64 << 53) as f32
        };
        let side = (self.size + 8) as f32;
        let px_per_module = fill.clamp(0.1, 1.0) * H as f32 / side;
        let angle = (rnd() - 0.5) * 8f32.to_radians();
        let (sin, cos) = angle.sin_cos();
        let cx = W as f32 / 2.0 + (rnd() - 0.5) * 80.0;
        let cy = H as f32 / 2.0 + (rnd() - 0.5) * 40.0;
        let (dark, light) = (40.0 + rnd() * 30.0, 170.0 + rnd() * 50.0);
        let module = |mx: f32, my: f32| -> f32 {
            // Screen coordinates → module grid (quiet zone included), light outside.
            let (x, y) = (mx + 4.0, my + 4.0);
            if x < 0.0 || y < 0.0 || x >= side || y >= side {
                return 0.0;
            }
            let (ix, iy) = (x as usize, y as usize);
            if ix < 4 || iy < 4 || ix >= self.size + 4 || iy >= self.size + 4 {
                return 0.0;
            }
            f32::from(u8::from(self.dark[(iy - 4) * self.size + (ix - 4)]))
        };
        let mut sharp = vec![0f32; W * H];
        for y in 0..H {
            for x in 0..W {
                let dx = x as f32 - cx;
                let dy = y as f32 - cy;
                let u = (cos * dx + sin * dy) / px_per_module + side / 2.0 - 4.0;
                let v = (-sin * dx + cos * dy) / px_per_module + side / 2.0 - 4.0;
                sharp[y * W + x] = module(u, v);
            }
        }
        // Lens blur: a 3×3 box twice (about one pixel of defocus).
        let mut blurred = sharp.clone();
        for _ in 0..2 {
            let src = blurred.clone();
            for y in 1..H - 1 {
                for x in 1..W - 1 {
                    let mut acc = 0.0;
                    for k in [y - 1, y, y + 1] {
                        acc += src[k * W + x - 1] + src[k * W + x] + src[k * W + x + 1];
                    }
                    blurred[y * W + x] = acc / 9.0;
                }
            }
        }
        let mut out = vec![0u8; W * H];
        let tilt = rnd() * 0.35;
        for y in 0..H {
            for x in 0..W {
                let shade = 1.0 - tilt * (x as f32 / W as f32);
                let level = light + (dark - light) * blurred[y * W + x];
                let noise = (rnd() + rnd() + rnd() - 1.5) * 14.0;
                out[y * W + x] = (level * shade + noise).clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    /// Text for a terminal: two rows of modules per line with half blocks, quiet zone included,
    /// dark modules drawn as spaces on a light background (scans on dark and light themes).
    pub fn to_terminal(&self) -> String {
        let n = self.size as isize;
        let dark = |x: isize, y: isize| {
            x >= 0 && y >= 0 && x < n && y < n && self.dark[(y * n + x) as usize]
        };
        let mut out = String::new();
        let mut y = -2;
        while y < n + 2 {
            for x in -2..n + 2 {
                out.push(match (dark(x, y), dark(x, y + 1)) {
                    (false, false) => '█',
                    (true, false) => '▄',
                    (false, true) => '▀',
                    (true, true) => ' ',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(m: &QrMatrix, scale: usize, stride_pad: usize) -> (Vec<u8>, u32, u32, u32) {
        let side = (m.size + 8) * scale;
        let stride = side + stride_pad;
        let mut data = vec![255u8; stride * side];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
                if mx >= 0
                    && my >= 0
                    && (mx as usize) < m.size
                    && (my as usize) < m.size
                    && m.dark[my as usize * m.size + mx as usize]
                {
                    data[y * stride + x] = 0;
                }
            }
        }
        (data, side as u32, side as u32, stride as u32)
    }

    #[test]
    fn round_trip_through_a_padded_camera_frame() {
        let text = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example";
        let m = encode(text, EcLevel::M).unwrap();
        let (data, w, h, stride) = frame_of(&m, 4, 37);
        let got = decode_luma(LumaFrame {
            width: w,
            height: h,
            row_stride: stride,
            data: &data,
        })
        .unwrap();
        assert_eq!(got.as_deref(), Some(text));
    }

    #[test]
    fn png_round_trip_and_empty_frames() {
        let text = "OTPX1 ALPHANUMERIC 0123456789 $%*+-./:";
        let png = encode(text, EcLevel::M).unwrap().to_png(6);
        assert_eq!(decode_image(&png).unwrap().as_deref(), Some(text));
        let blank = vec![128u8; 64 * 64];
        assert_eq!(
            decode_luma(LumaFrame {
                width: 64,
                height: 64,
                row_stride: 64,
                data: &blank
            })
            .unwrap(),
            None
        );
    }

    #[test]
    fn bad_frames_and_images_are_errors_not_panics() {
        let data = vec![0u8; 100];
        for (w, h, s) in [(0, 10, 10), (10, 10, 5), (20, 20, 20), (9000, 1, 9000)] {
            assert!(
                decode_luma(LumaFrame {
                    width: w,
                    height: h,
                    row_stride: s,
                    data: &data
                })
                .is_err(),
                "{w}x{h}/{s}"
            );
        }
        assert!(decode_image(b"not an image").is_err());
        let png = encode("x", EcLevel::L).unwrap().to_png(2);
        assert!(decode_image(&png[..png.len() / 2]).is_err());
    }

    #[test]
    fn low_contrast_is_recovered_by_stretching() {
        let text = "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP";
        let m = encode(text, EcLevel::M).unwrap();
        let (mut data, w, h, s) = frame_of(&m, 5, 0);
        for v in data.iter_mut() {
            *v = if *v == 0 { 118 } else { 132 };
        }
        assert_eq!(
            decode_luma(LumaFrame {
                width: w,
                height: h,
                row_stride: s,
                data: &data
            })
            .unwrap()
            .as_deref(),
            Some(text)
        );
    }

    #[test]
    fn alphanumeric_text_gets_the_smallest_version_without_panicking() {
        // Base45-like text at the edge of version 15's capacity (600 characters at level M),
        // with digit runs that tempt the mixed-mode segmentation into a larger code.
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut x = 7u32;
        for trial in 0..60 {
            let mut text = String::from("OTPX1F");
            while text.len() < 599 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                text.push(alphabet[(x >> 16) as usize % alphabet.len()] as char);
            }
            assert_eq!(encode(&text, EcLevel::M).unwrap().size, 77, "trial {trial}");
        }
        assert_eq!(encode(&"A".repeat(601), EcLevel::M).unwrap().size, 81);
    }

    #[test]
    fn terminal_rendering_has_half_blocks_and_a_quiet_zone() {
        let m = encode("hello", EcLevel::L).unwrap();
        let t = m.to_terminal();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), (m.size + 4).div_ceil(2));
        assert!(lines[0].chars().all(|c| c == '█'));
        assert_eq!(lines[0].chars().count(), m.size + 4);
    }
}
