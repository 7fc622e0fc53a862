//! Builds a QR test set — codes generated with the `qrcode` crate, degraded the ways a phone
//! camera degrades them — writes it as PNG files with a manifest, and measures rqrr and rxing
//! on every image (success and milliseconds per 1280×720 frame).
//!
//! Usage: qr-decoders-bench OUT_DIR  (prints one JSON object per image on stdout)

use std::f64::consts::PI;
use std::path::Path;
use std::time::Instant;

use qrcode::{EcLevel, QrCode};

const W: usize = 1280;
const H: usize = 720;

/// A grey image.
#[derive(Clone)]
struct Gray {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Gray {
    fn new(w: usize, h: usize, fill: u8) -> Self {
        Gray { w, h, px: vec![fill; w * h] }
    }

    fn sample(&self, x: f64, y: f64, background: u8) -> u8 {
        // Bilinear, with the background outside.
        let x0 = x.floor();
        let y0 = y.floor();
        let get = |xi: f64, yi: f64| -> f64 {
            if xi < 0.0 || yi < 0.0 || xi >= self.w as f64 || yi >= self.h as f64 {
                f64::from(background)
            } else {
                f64::from(self.px[yi as usize * self.w + xi as usize])
            }
        };
        let fx = x - x0;
        let fy = y - y0;
        let v = get(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + get(x0 + 1.0, y0) * fx * (1.0 - fy)
            + get(x0, y0 + 1.0) * (1.0 - fx) * fy
            + get(x0 + 1.0, y0 + 1.0) * fx * fy;
        v.round().clamp(0.0, 255.0) as u8
    }
}

/// Renders a QR code with a 4-module quiet zone at `module` pixels per module.
fn render(text: &str, ec: EcLevel, module: usize) -> Gray {
    let code = QrCode::with_error_correction_level(text.as_bytes(), ec).expect("fits in a QR code");
    let n = code.width();
    let size = (n + 8) * module;
    let mut g = Gray::new(size, size, 255);
    for y in 0..n {
        for x in 0..n {
            if code[(x, y)] == qrcode::Color::Dark {
                for dy in 0..module {
                    for dx in 0..module {
                        g.px[((y + 4) * module + dy) * size + (x + 4) * module + dx] = 0;
                    }
                }
            }
        }
    }
    g
}

/// Places `code` (scaled to `target` pixels wide) into a 1280×720 frame through an inverse
/// mapping from frame to normalized code coordinates [0,1]².
fn place(code: &Gray, map: impl Fn(f64, f64) -> (f64, f64), background: u8) -> Gray {
    let mut out = Gray::new(W, H, background);
    for y in 0..H {
        for x in 0..W {
            let (u, v) = map(x as f64 + 0.5, y as f64 + 0.5);
            if (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v) {
                out.px[y * W + x] = code.sample(u * code.w as f64 - 0.5, v * code.h as f64 - 0.5, background);
            }
        }
    }
    out
}

fn centered(code: &Gray, size: f64, angle_deg: f64) -> Gray {
    let (cx, cy) = (W as f64 / 2.0, H as f64 / 2.0);
    let a = angle_deg * PI / 180.0;
    place(
        code,
        |x, y| {
            let (dx, dy) = (x - cx, y - cy);
            let rx = dx * a.cos() + dy * a.sin();
            let ry = -dx * a.sin() + dy * a.cos();
            (rx / size + 0.5, ry / size + 0.5)
        },
        200,
    )
}

/// Perspective: the code's square seen as a trapezoid (top edge narrower), via a homography.
fn perspective(code: &Gray, size: f64) -> Gray {
    let (cx, cy) = (W as f64 / 2.0, H as f64 / 2.0);
    // Destination corners (frame) of the code's unit square.
    let dst = [
        (cx - size * 0.38, cy - size * 0.45),
        (cx + size * 0.42, cy - size * 0.5),
        (cx + size * 0.55, cy + size * 0.5),
        (cx - size * 0.5, cy + size * 0.45),
    ];
    let src = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let hm = homography(&dst, &src);
    place(
        code,
        |x, y| {
            let d = hm[6] * x + hm[7] * y + 1.0;
            ((hm[0] * x + hm[1] * y + hm[2]) / d, (hm[3] * x + hm[4] * y + hm[5]) / d)
        },
        200,
    )
}

/// The 8 coefficients of the homography mapping `from[i]` to `to[i]`.
fn homography(from: &[(f64, f64); 4], to: &[(f64, f64); 4]) -> [f64; 8] {
    let mut a = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = from[i];
        let (u, v) = to[i];
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gauss-Jordan elimination.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs())).unwrap();
        a.swap(col, pivot);
        let div = a[col][col];
        for k in col..9 {
            a[col][k] /= div;
        }
        for r in 0..8 {
            if r != col {
                let f = a[r][col];
                for k in col..9 {
                    a[r][k] -= f * a[col][k];
                }
            }
        }
    }
    let mut h = [0.0; 8];
    for i in 0..8 {
        h[i] = a[i][8];
    }
    h
}

fn blur(g: &Gray, sigma: f64) -> Gray {
    let radius = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f64 = kernel.iter().sum();
    let pass = |src: &Gray, horizontal: bool| {
        let mut out = src.clone();
        for y in 0..src.h {
            for x in 0..src.w {
                let mut acc = 0.0;
                for (k, wgt) in kernel.iter().enumerate() {
                    let o = k as isize - radius;
                    let (sx, sy) = if horizontal { (x as isize + o, y as isize) } else { (x as isize, y as isize + o) };
                    let sx = sx.clamp(0, src.w as isize - 1) as usize;
                    let sy = sy.clamp(0, src.h as isize - 1) as usize;
                    acc += wgt * f64::from(src.px[sy * src.w + sx]);
                }
                out.px[y * src.w + x] = (acc / sum).round() as u8;
            }
        }
        out
    };
    pass(&pass(g, true), false)
}

fn noise(g: &Gray, amplitude: i32, seed: u64) -> Gray {
    let mut s = seed | 1;
    let mut out = g.clone();
    for p in out.px.iter_mut() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let n = (s % (2 * amplitude as u64 + 1)) as i32 - amplitude;
        *p = (i32::from(*p) + n).clamp(0, 255) as u8;
    }
    out
}

fn contrast(g: &Gray, low: u8, high: u8) -> Gray {
    let mut out = g.clone();
    for p in out.px.iter_mut() {
        *p = (f64::from(low) + f64::from(*p) / 255.0 * f64::from(high - low)).round() as u8;
    }
    out
}

fn invert(g: &Gray) -> Gray {
    let mut out = g.clone();
    for p in out.px.iter_mut() {
        *p = 255 - *p;
    }
    out
}

fn jpeg(g: &Gray, quality: u8) -> Gray {
    let img = image::GrayImage::from_raw(g.w as u32, g.h as u32, g.px.clone()).unwrap();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&img).unwrap();
    let back = image::load_from_memory(&bytes).unwrap().to_luma8();
    Gray { w: g.w, h: g.h, px: back.into_raw() }
}

fn save(g: &Gray, path: &Path) {
    image::GrayImage::from_raw(g.w as u32, g.h as u32, g.px.clone()).unwrap().save(path).unwrap();
}

fn decode_rqrr(g: &Gray) -> Option<String> {
    for candidate in [g.clone(), invert(g)] {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(candidate.w, candidate.h, |x, y| candidate.px[y * candidate.w + x]);
        for grid in img.detect_grids() {
            if let Ok((_, text)) = grid.decode() {
                return Some(text);
            }
        }
    }
    None
}

fn decode_rxing(g: &Gray) -> Option<String> {
    let mut hints = rxing::DecodeHints::default()
        .with(rxing::DecodeHintValue::TryHarder(true))
        .with(rxing::DecodeHintValue::AlsoInverted(true));
    rxing::helpers::detect_in_luma_with_hints(g.px.clone(), g.w as u32, g.h as u32, Some(rxing::BarcodeFormat::QR_CODE), &mut hints)
        .ok()
        .map(|r| r.getText().to_owned())
}

fn decode_twofold(g: &Gray) -> Option<String> {
    twofold_core::qr::decode_luma(twofold_core::qr::LumaFrame { width: g.w as u32, height: g.h as u32, row_stride: g.w as u32, data: &g.px })
        .ok()
        .flatten()
}

/// A Google Authenticator migration URI with `n` accounts (dense codes).
fn migration_uri(n: usize, seed: u8) -> String {
    let mut payload = Vec::new();
    for i in 0..n {
        let mut p = Vec::new();
        let secret: Vec<u8> = (0..20).map(|j| seed.wrapping_mul(31).wrapping_add((i * 7 + j) as u8)).collect();
        let field = |p: &mut Vec<u8>, tag: u8, bytes: &[u8]| {
            p.push(tag);
            p.push(bytes.len() as u8);
            p.extend_from_slice(bytes);
        };
        field(&mut p, 0x0a, &secret);
        field(&mut p, 0x12, format!("user{i}@example.com").as_bytes());
        field(&mut p, 0x1a, format!("Service {i}").as_bytes());
        p.extend_from_slice(&[0x20, 1, 0x28, 1, 0x30, 2]);
        payload.push(0x0a);
        payload.push(p.len() as u8);
        payload.extend_from_slice(&p);
    }
    payload.extend_from_slice(&[0x10, 1, 0x18, 1, 0x20, 0, 0x28, 42]);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
    let enc: String = b64.chars().map(|c| match c { '+' => "%2B".into(), '/' => "%2F".into(), '=' => "%3D".into(), c => c.to_string() }).collect();
    format!("otpauth-migration://offline?data={enc}")
}

fn main() {
    let out_dir = std::env::args().nth(1).expect("usage: qr-decoders-bench OUT_DIR");
    let out = Path::new(&out_dir);
    std::fs::create_dir_all(out).unwrap();
    let mut payloads = vec![
        ("uri-short".to_owned(), "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example".to_owned(), EcLevel::M),
        ("uri-long".to_owned(), "otpauth://totp/ACME%20Corporation:first.last%40acme-corporation.example?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ5OM4WOOGPLQEF6UGN3CPEOOLWU&issuer=ACME%20Corporation&algorithm=SHA256&digits=8&period=30".to_owned(), EcLevel::M),
        ("steam".to_owned(), "otpauth://steam/Steam:gaben?secret=FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW&issuer=Steam".to_owned(), EcLevel::M),
    ];
    for n in [1usize, 5, 10] {
        payloads.push((format!("migration-{n}"), migration_uri(n, n as u8), EcLevel::L));
    }
    let mut cases: Vec<(String, Gray)> = Vec::new();
    for (name, text, ec) in &payloads {
        let code = render(text, *ec, 8);
        let size = 420.0;
        let base = centered(&code, size, 0.0);
        cases.push((format!("{name}-clean"), base.clone()));
        cases.push((format!("{name}-rotated15"), centered(&code, size, 15.0)));
        cases.push((format!("{name}-rotated45"), centered(&code, size, 45.0)));
        cases.push((format!("{name}-perspective"), perspective(&code, size)));
        cases.push((format!("{name}-blur2"), blur(&base, 2.0)));
        cases.push((format!("{name}-noise40"), noise(&base, 40, 7)));
        cases.push((format!("{name}-lowcontrast"), contrast(&base, 90, 150)));
        cases.push((format!("{name}-inverted"), invert(&base)));
        cases.push((format!("{name}-small"), centered(&code, 180.0, 0.0)));
        cases.push((format!("{name}-jpeg15"), jpeg(&base, 15)));
        let combined = jpeg(&noise(&blur(&centered(&code, 380.0, 10.0), 1.2), 20, 3), 40);
        cases.push((format!("{name}-combined"), combined));
    }
    for (name, g) in &cases {
        let file = out.join(format!("{name}.png"));
        save(g, &file);
        let expected = &payloads.iter().find(|(n, _, _)| name.starts_with(&format!("{n}-"))).unwrap().1;
        let mut row = serde_json::json!({"file": file.file_name().unwrap().to_str().unwrap(), "expected": expected});
        for (decoder, f) in [("rqrr", decode_rqrr as fn(&Gray) -> Option<String>), ("rxing", decode_rxing), ("twofold", decode_twofold)] {
            // Median of 5 runs.
            let mut times = Vec::new();
            let mut got = None;
            for _ in 0..5 {
                let t = Instant::now();
                got = f(g);
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(|a, b| a.total_cmp(b));
            row[decoder] = serde_json::json!({"ok": got.as_deref() == Some(expected.as_str()), "ms": times[2]});
        }
        println!("{row}");
    }
}
