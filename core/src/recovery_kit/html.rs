//! The kit as one self-contained HTML file: inline SVG QR codes, inline CSS, nothing loaded
//! from anywhere (it opens offline and prints on A4 or Letter).

use super::{FILL_IN, Sheet, TITLE, WARNING};
use crate::qr::QrMatrix;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG of the code with a 4-module quiet zone: one path of row runs, no anti-aliasing
/// seams (`shape-rendering: crispEdges`).
fn svg(m: &QrMatrix, label: &str) -> String {
    let side = m.size + 8;
    let mut d = String::new();
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
            d.push_str(&format!(
                "M{} {}h{}v1h-{}z",
                start + 4,
                row + 4,
                col - start,
                col - start
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" \
         aria-label=\"{}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" \
         height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{d}\"/></svg>",
        escape(label)
    )
}

pub(super) fn render(sheet: &Sheet) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str("<meta name=\"referrer\" content=\"no-referrer\">");
    h.push_str(&format!("<title>{}</title>", escape(TITLE)));
    h.push_str(
        "<style>\
         @page{size:A4;margin:16mm}\
         body{font-family:'DejaVu Sans',system-ui,sans-serif;color:#000;max-width:180mm;margin:0 auto;padding:8mm;line-height:1.4}\
         h1{font-size:22pt;margin:0 0 4mm}h2{font-size:14pt;margin:6mm 0 2mm}\
         .key{background:#eee;padding:3mm 4mm;margin:4mm 0}\
         .key b{display:block;font-size:11pt}\
         .key code{font-family:'DejaVu Sans Mono',ui-monospace,monospace;font-size:19pt;font-weight:bold;letter-spacing:.04em;word-break:keep-all}\
         .facts{display:flex;gap:6mm;align-items:flex-start}.facts svg{width:52mm;height:52mm;flex:none}\
         dl{margin:0}dt{font-weight:bold;margin-top:3mm}dd{margin:0}\
         .parts{display:grid;grid-template-columns:1fr 1fr;gap:8mm}\
         .parts figure{margin:0;break-inside:avoid}.parts svg{width:80mm;height:80mm}\
         .accounts{break-before:page}\
         footer{color:#555;font-size:8.5pt;margin-top:6mm}\
         </style></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        escape(TITLE),
        escape(WARNING)
    ));
    h.push_str(&format!(
        "<div class=\"key\"><b>Your recovery key</b><code>{}</code></div>\n",
        escape(&sheet.key)
    ));
    let location = sheet.backup_location.as_deref().unwrap_or(FILL_IN);
    h.push_str(&format!(
        "<div class=\"facts\">{}<dl><dt>Vault id</dt><dd>{}</dd><dt>Made on</dt><dd>{}</dd>\
         <dt>Backup files are kept in</dt><dd>{}</dd></dl></div>\n",
        svg(&sheet.key_qr, "QR code of the recovery key"),
        escape(&sheet.vault_id),
        escape(&sheet.date),
        escape(location)
    ));
    h.push_str("<h2>How to get your accounts back</h2>\n<ol>\n");
    for step in sheet.steps() {
        h.push_str(&format!("<li>{}</li>\n", escape(&step)));
    }
    h.push_str("</ol>\n");
    if !sheet.parts.is_empty() {
        h.push_str(&format!(
            "<section class=\"accounts\"><h2>Your accounts (encrypted)</h2>\n<p>These {} codes \
             hold your {} accounts as of {}, locked with the recovery key above: without it \
             they reveal nothing. Scan all of them, in any order, when Twofold asks for them \
             (\"Restore from paper\").</p>\n<div class=\"parts\">\n",
            sheet.parts.len(),
            sheet.accounts,
            escape(&sheet.date)
        ));
        for (i, part) in sheet.parts.iter().enumerate() {
            let label = format!("Part {} of {}", i + 1, sheet.parts.len());
            h.push_str(&format!(
                "<figure>{}<figcaption>{label}</figcaption></figure>\n",
                svg(part, &label)
            ));
        }
        h.push_str("</div></section>\n");
    }
    h.push_str(&format!(
        "<footer>{}</footer>\n</body></html>\n",
        escape(TITLE)
    ));
    h
}
