//! The kit as an A4 PDF (krilla): DejaVu Sans and DejaVu Sans Mono embedded as subsets (their
//! licence allows embedding; `docs/threat-model.md` and the README record it), QR codes as
//! vector paths so they print sharp at any resolution.

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::{FILL_IN, Sheet, TITLE, WARNING, wrap};
use crate::qr::QrMatrix;
use crate::vault::VaultError;

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
/// Characters per line of 10.5 pt DejaVu Sans across the text width (measured glyph widths
/// average under 0.56 em for English text).
const BODY_CHARS: usize = 86;

struct Fonts {
    regular: Font,
    bold: Font,
    mono: Font,
}

fn font(bytes: &'static [u8]) -> Result<Font, VaultError> {
    Font::new(bytes.into(), 0).ok_or_else(|| VaultError::Internal("the kit's font".into()))
}

fn grey(level: u8) -> Fill {
    Fill {
        paint: luma::Color::new(level).into(),
        ..Fill::default()
    }
}

struct Writer<'a, 'b> {
    surface: &'a mut Surface<'b>,
    fonts: &'a Fonts,
}

impl Writer<'_, '_> {
    fn text(&mut self, x: f32, y: f32, font: &Font, size: f32, text: &str) {
        self.surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Wrapped paragraph starting at baseline `y`; returns the baseline after it.
    fn paragraph(&mut self, x: f32, mut y: f32, chars: usize, size: f32, text: &str) -> f32 {
        let regular = self.fonts.regular.clone();
        for line in wrap(text, chars) {
            self.text(x, y, &regular, size, &line);
            y += size * 1.35;
        }
        y
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Fill) {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(r);
        }
        if let Some(path) = pb.finish() {
            self.surface.set_fill(Some(fill));
            self.surface.draw_path(&path);
            self.surface.set_fill(Some(Fill::default()));
        }
    }

    /// A QR code with its quiet zone in a `side`-point square at (x, y). The path is in
    /// module units (small integers keep the content stream short) under a scaling
    /// transform; each run of dark modules in a row is one rectangle, slightly taller than a
    /// module so rows overlap and no hairline seams appear when rendered.
    fn qr(&mut self, x: f32, y: f32, side: f32, m: &QrMatrix) {
        let module = side / (m.size + 8) as f32;
        let mut pb = PathBuilder::new();
        for row in 0..m.size {
            let mut col = 0;
            while col < m.size {
                if !m.dark[row * m.size + col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < m.size && m.dark[row * m.size + col] {
                    col += 1;
                }
                let height = if row + 1 < m.size { 1.05 } else { 1.0 };
                if let Some(r) = Rect::from_xywh(
                    (start + 4) as f32,
                    (row + 4) as f32,
                    (col - start) as f32,
                    height,
                ) {
                    pb.push_rect(r);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface
                .push_transform(&Transform::from_row(module, 0.0, 0.0, module, x, y));
            self.surface.set_fill(Some(Fill {
                rule: FillRule::NonZero,
                ..Fill::default()
            }));
            self.surface.draw_path(&path);
            self.surface.pop();
        }
    }

    fn footer(&mut self, page: usize, pages: usize) {
        let regular = self.fonts.regular.clone();
        self.surface.set_fill(Some(grey(90)));
        self.text(
            MARGIN,
            PAGE_H - 30.0,
            &regular,
            8.5,
            &format!("{TITLE} · page {page} of {pages}"),
        );
        self.surface.set_fill(Some(Fill::default()));
    }
}

fn key_page(w: &mut Writer<'_, '_>, sheet: &Sheet, pages: usize) {
    let (bold, mono, regular) = (
        w.fonts.bold.clone(),
        w.fonts.mono.clone(),
        w.fonts.regular.clone(),
    );
    let text_w = PAGE_W - 2.0 * MARGIN;
    w.text(MARGIN, 78.0, &bold, 24.0, TITLE);
    let mut y = w.paragraph(MARGIN, 102.0, BODY_CHARS, 10.5, WARNING);

    // The key, in a light box.
    y += 8.0;
    w.rect(MARGIN, y, text_w, 64.0, grey(238));
    w.text(MARGIN + 12.0, y + 20.0, &bold, 11.0, "Your recovery key");
    w.text(MARGIN + 12.0, y + 48.0, &mono, 20.5, &sheet.key);
    y += 64.0 + 14.0;

    // Its QR code, and the facts beside it.
    let qr_side = 150.0;
    w.qr(MARGIN - 8.0, y, qr_side, &sheet.key_qr);
    let fx = MARGIN + qr_side + 10.0;
    let mut fy = y + 22.0;
    let facts: [(&str, &str); 3] = [
        ("Vault id", &sheet.vault_id),
        ("Made on", &sheet.date),
        (
            "Backup files are kept in",
            sheet.backup_location.as_deref().unwrap_or(FILL_IN),
        ),
    ];
    for (label, value) in facts {
        w.text(fx, fy, &bold, 10.0, label);
        let lines = wrap(value, 52);
        for line in &lines {
            fy += 14.0;
            w.text(fx, fy, &regular, 10.5, line);
        }
        fy += 22.0;
    }
    y = (y + qr_side).max(fy) + 16.0;

    w.text(MARGIN, y, &bold, 14.0, "How to get your accounts back");
    y += 22.0;
    for (i, step) in sheet.steps().iter().enumerate() {
        w.text(MARGIN, y, &bold, 10.5, &format!("{}.", i + 1));
        y = w.paragraph(MARGIN + 18.0, y, BODY_CHARS - 4, 10.5, step) + 5.0;
    }
    w.footer(1, pages);
}

fn accounts_page(w: &mut Writer<'_, '_>, sheet: &Sheet, first: usize, page: usize, pages: usize) {
    let (bold, regular) = (w.fonts.bold.clone(), w.fonts.regular.clone());
    w.text(MARGIN, 78.0, &bold, 20.0, "Your accounts (encrypted)");
    let intro = format!(
        "These {} codes hold your {} accounts as of {}, locked with the recovery key on page 1: \
         without it they reveal nothing. Scan all of them, in any order, when Twofold asks for \
         them (\"Restore from paper\").",
        sheet.parts.len(),
        sheet.accounts,
        sheet.date
    );
    w.paragraph(MARGIN, 102.0, BODY_CHARS, 10.5, &intro);
    let side = 235.0;
    let gap = (PAGE_W - 2.0 * MARGIN - 2.0 * side) + 2.0 * 8.0;
    for (k, part) in sheet.parts.iter().enumerate().skip(first).take(4) {
        let slot = k - first;
        let x = MARGIN - 8.0 + (slot % 2) as f32 * (side + gap - 16.0);
        let y = 160.0 + (slot / 2) as f32 * (side + 60.0);
        w.qr(x, y, side, part);
        w.text(
            x + 8.0 + side * 4.0 / (part.size + 8) as f32,
            y + side + 10.0,
            &regular,
            11.0,
            &format!("Part {} of {}", k + 1, sheet.parts.len()),
        );
    }
    w.footer(page, pages);
}

pub(super) fn render(sheet: &Sheet) -> Result<Vec<u8>, VaultError> {
    let fonts = Fonts {
        regular: font(dejavu::sans::regular())?,
        bold: font(dejavu::sans::bold())?,
        mono: font(dejavu::sans_mono::bold())?,
    };
    let pages = 1 + sheet.parts.len().div_ceil(4);
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(TITLE.to_owned())
            .creator("Twofold".to_owned()),
    );
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| VaultError::Internal("A4".into()))?;
    {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        key_page(
            &mut Writer {
                surface: &mut surface,
                fonts: &fonts,
            },
            sheet,
            pages,
        );
        surface.finish();
        page.finish();
    }
    for p in 1..pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        accounts_page(
            &mut Writer {
                surface: &mut surface,
                fonts: &fonts,
            },
            sheet,
            (p - 1) * 4,
            p + 1,
            pages,
        );
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| VaultError::Internal(format!("the PDF could not be written: {e:?}")))
}
