//! The certificate as a US-letter PDF. DejaVu Sans (regular and bold, Bitstream Vera
//! licence, `data/fonts/LICENSE-DejaVu.txt`) is embedded and subsetted, so a name in Latin,
//! Greek, Cyrillic, Armenian, Georgian or Hebrew script prints as written and copies out as
//! text. Every cell wraps inside its column (long CVX names take several lines; the row
//! grows, nothing overprints), rows never split across pages, and the SMART Health Card
//! is drawn as a QR code.

use ctwiz_core::certificate::{Certificate, CertificateKind};
use printpdf::{
    path::PaintMode, Color, Greyscale, IndirectFontRef, Line, Mm, PdfDocument,
    PdfDocumentReference, PdfLayerReference, Point, Rect,
};

const REGULAR: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../data/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 215.9;
const PAGE_H: f32 = 279.4;
const LEFT: f32 = 18.0;
const RIGHT: f32 = PAGE_W - 18.0;
const TOP: f32 = PAGE_H - 20.0;
const BOTTOM: f32 = 20.0;
/// Points to millimetres.
const PT: f32 = 0.352_778;

/// The PDF could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the certificate PDF: {0}")]
pub struct PdfError(String);

fn pdf_error(e: impl std::fmt::Display) -> PdfError {
    PdfError(e.to_string())
}

/// US date, as school forms print them.
fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// Glyph advances of one embedded font, to measure text before placing it.
struct Metrics {
    face: ttf_parser::Face<'static>,
}

impl Metrics {
    fn new(bytes: &'static [u8]) -> Result<Self, PdfError> {
        Ok(Metrics {
            face: ttf_parser::Face::parse(bytes, 0).map_err(pdf_error)?,
        })
    }

    /// Width of `s` at `size` points, in millimetres.
    fn width(&self, s: &str, size: f32) -> f32 {
        let units: u32 = s
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .unwrap_or(self.face.units_per_em()) as u32
            })
            .sum();
        units as f32 / self.face.units_per_em() as f32 * size * PT
    }

    /// `s` broken into lines no wider than `width` mm: at spaces, and inside a word only
    /// when the word alone is wider than the column.
    fn wrap(&self, s: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in s.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if self.width(&line, size) > width && line.chars().count() > 1 {
                    let last = line.pop().expect("the line has at least two characters");
                    lines.push(std::mem::take(&mut line));
                    line.push(last);
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[derive(Clone, Copy)]
enum Face {
    Regular,
    Bold,
}

/// One table column: where it starts and how wide it is (mm).
#[derive(Clone, Copy)]
struct Column {
    x: f32,
    width: f32,
}

const SIZE: f32 = 10.0;
const LINE: f32 = 4.6;

/// Places text top-down over as many pages as it needs.
struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    fonts: [IndirectFontRef; 2],
    metrics: [Metrics; 2],
    y: f32,
    /// Printed at the top of continuation pages.
    running_head: String,
    /// The table header repeated on continuation pages, if a table is open.
    table: Option<(Vec<Column>, Vec<&'static str>)>,
}

impl Writer {
    /// A one-page document titled `title`, fonts embedded, at the top of the page.
    fn new(title: &str, running_head: String) -> Result<Writer, PdfError> {
        let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "page");
        let regular = doc.add_external_font(REGULAR).map_err(pdf_error)?;
        let bold = doc.add_external_font(BOLD).map_err(pdf_error)?;
        let layer = doc.get_page(page).get_layer(layer);
        Ok(Writer {
            doc,
            layer,
            fonts: [regular, bold],
            metrics: [Metrics::new(REGULAR)?, Metrics::new(BOLD)?],
            y: TOP,
            running_head,
            table: None,
        })
    }

    fn font(&self, f: Face) -> (&IndirectFontRef, &Metrics) {
        match f {
            Face::Regular => (&self.fonts[0], &self.metrics[0]),
            Face::Bold => (&self.fonts[1], &self.metrics[1]),
        }
    }

    fn text(&self, s: &str, size: f32, x: f32, y: f32, f: Face) {
        self.layer.use_text(s, size, Mm(x), Mm(y), self.font(f).0);
    }

    fn rule(&self, x1: f32, x2: f32, y: f32) {
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(x1), Mm(y)), false),
                (Point::new(Mm(x2), Mm(y)), false),
            ],
            is_closed: false,
        });
    }

    /// Makes room for `height` mm, starting a new page when this one is full.
    fn need(&mut self, height: f32) {
        if self.y - height >= BOTTOM {
            return;
        }
        let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "page");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.y = TOP;
        let head = format!("{} (continued)", self.running_head);
        self.text(&head, 9.0, LEFT, self.y, Face::Regular);
        self.y -= 8.0;
        if let Some((cols, heads)) = self.table.clone() {
            self.header_row(&cols, &heads);
        }
    }

    /// A paragraph wrapped to the page width.
    fn paragraph(&mut self, s: &str, size: f32, f: Face) {
        let lines = self.font(f).1.wrap(s, size, RIGHT - LEFT);
        for line in lines {
            self.need(size * PT * 1.4);
            self.y -= size * PT * 1.4;
            self.text(&line, size, LEFT, self.y, f);
        }
    }

    fn heading(&mut self, s: &str) {
        self.need(14.0 + LINE * 2.0);
        self.y -= 9.0;
        self.text(s, 12.0, LEFT, self.y, Face::Bold);
        self.y -= 2.0;
    }

    fn header_row(&mut self, cols: &[Column], heads: &[&'static str]) {
        self.y -= LINE;
        for (c, h) in cols.iter().zip(heads) {
            self.text(h, 9.0, c.x, self.y, Face::Bold);
        }
        self.rule(LEFT, RIGHT, self.y - 1.6);
        self.y -= 2.4;
    }

    fn open_table(&mut self, cols: Vec<Column>, heads: Vec<&'static str>) {
        self.need(LINE * 3.0);
        self.header_row(&cols, &heads);
        self.table = Some((cols, heads));
    }

    /// One row: each cell wrapped in its column; the row is as tall as its tallest cell.
    fn row(&mut self, cells: &[(&str, Face)]) {
        let cols = self
            .table
            .as_ref()
            .map(|(c, _)| c.clone())
            .expect("rows are written inside a table");
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&cols)
            .map(|((s, f), c)| self.font(*f).1.wrap(s, SIZE, c.width - 2.0))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        self.need(lines as f32 * LINE + 1.5);
        for (((_, f), col), cell) in cells.iter().zip(&cols).zip(&wrapped) {
            for (i, line) in cell.iter().enumerate() {
                let y = self.y - LINE * (i as f32 + 1.0);
                self.text(line, SIZE, col.x, y, *f);
            }
        }
        self.y -= lines as f32 * LINE + 1.5;
    }

    fn close_table(&mut self) {
        self.table = None;
    }

    /// Draws `code` as a `size` mm square with its lower-left corner at (x, y).
    fn qr(&self, code: &qrcode::QrCode, x: f32, y: f32, size: f32) {
        let n = code.width();
        let module = size / n as f32;
        let colors = code.to_colors();
        self.layer
            .set_fill_color(Color::Greyscale(Greyscale::new(0.0, None)));
        for row in 0..n {
            // One rectangle per run of dark modules.
            let mut col = 0;
            while col < n {
                if colors[row * n + col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let top = y + size - row as f32 * module;
                self.layer.add_rect(
                    Rect::new(
                        Mm(x + start as f32 * module),
                        Mm(top - module),
                        Mm(x + col as f32 * module),
                        Mm(top),
                    )
                    .with_mode(PaintMode::Fill),
                );
            }
        }
    }
}

/// The QR code of the card (`shc:/` digits, error correction L as the spec recommends), or
/// `None` when the card is too large for one QR code (then only the file carries it).
fn verification_qr(content: &str) -> Option<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(content.as_bytes(), qrcode::EcLevel::L).ok()
}

/// A titled list as a US-letter PDF (the printable copy of a distributed report): the
/// header lines, then a table whose cells wrap in their columns and whose header repeats
/// on every page. `widths` are the columns' shares of the page width.
pub fn render_list(
    title: &str,
    header: &[String],
    heads: &[&'static str],
    widths: &[f32],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, PdfError> {
    assert_eq!(heads.len(), widths.len(), "one width per column");
    let mut w = Writer::new(title, title.to_string())?;
    w.text(title, 14.0, LEFT, w.y, Face::Bold);
    w.y -= 2.0;
    for line in header {
        w.paragraph(line, 9.0, Face::Regular);
    }
    w.y -= 1.5;
    w.rule(LEFT, RIGHT, w.y);
    let total: f32 = widths.iter().sum();
    let mut x = LEFT;
    let cols: Vec<Column> = widths
        .iter()
        .map(|share| {
            let width = (RIGHT - LEFT) * share / total;
            let c = Column { x, width };
            x += width;
            c
        })
        .collect();
    w.open_table(cols, heads.to_vec());
    for r in rows {
        let cells: Vec<(&str, Face)> = r.iter().map(|c| (c.as_str(), Face::Regular)).collect();
        w.row(&cells);
    }
    w.close_table();
    w.doc.save_to_bytes().map_err(pdf_error)
}

/// Renders `c` as a PDF.
pub fn render(c: &Certificate) -> Result<Vec<u8>, PdfError> {
    let mut w = Writer::new(
        c.kind.title(),
        format!("{} – born {}", c.name, us_date(c.dob)),
    )?;

    w.text(c.kind.title(), 16.0, LEFT, w.y, Face::Bold);
    w.y -= 2.0;
    w.paragraph(
        &format!("Official record from the {}", c.registry),
        9.0,
        Face::Regular,
    );
    w.y -= 1.5;
    w.rule(LEFT, RIGHT, w.y);
    w.y -= 2.0;

    let label_w = 38.0;
    let facts = [
        ("Name", c.name.clone(), Face::Bold),
        ("Date of birth", us_date(c.dob), Face::Regular),
        ("Sex", c.sex.to_string(), Face::Regular),
        ("Registry ID", c.patient.to_string(), Face::Regular),
    ];
    w.open_table(
        vec![
            Column {
                x: LEFT,
                width: label_w,
            },
            Column {
                x: LEFT + label_w,
                width: RIGHT - LEFT - label_w,
            },
        ],
        vec!["", ""],
    );
    for (label, value, face) in &facts {
        w.row(&[(label, Face::Regular), (value, *face)]);
    }
    w.close_table();

    w.heading("Immunizations");
    let (g, v) = (44.0, 104.0);
    let cols = vec![
        Column { x: LEFT, width: g },
        Column {
            x: LEFT + g,
            width: v,
        },
        Column {
            x: LEFT + g + v,
            width: RIGHT - LEFT - g - v,
        },
    ];
    if c.groups.is_empty() {
        w.paragraph("No immunizations on record.", SIZE, Face::Regular);
    } else {
        w.open_table(cols.clone(), vec!["Vaccine group", "Vaccine", "Date given"]);
        for group in &c.groups {
            for (i, d) in group.doses.iter().enumerate() {
                let name = if i == 0 { group.group.as_str() } else { "" };
                w.row(&[
                    (name, Face::Bold),
                    (&d.vaccine, Face::Regular),
                    (&us_date(d.date), Face::Regular),
                ]);
            }
        }
        w.close_table();
    }

    if !c.immunity.is_empty() {
        w.heading("Evidence of immunity");
        w.open_table(
            vec![
                Column {
                    x: LEFT,
                    width: g + v,
                },
                Column {
                    x: LEFT + g + v,
                    width: RIGHT - LEFT - g - v,
                },
            ],
            vec!["Evidence", "Date recorded"],
        );
        for i in &c.immunity {
            w.row(&[
                (&i.evidence, Face::Regular),
                (&us_date(i.date), Face::Regular),
            ]);
        }
        w.close_table();
    }

    if !c.exemptions.is_empty() {
        w.heading(if c.kind == CertificateKind::Travel {
            "Medical exemptions"
        } else {
            "Exemptions and refusals"
        });
        w.open_table(cols, vec!["Kind", "Vaccine or condition", "Date"]);
        for e in &c.exemptions {
            let what = format!("{} ({})", e.subject, e.detail);
            w.row(&[
                (e.kind.label(), Face::Bold),
                (&what, Face::Regular),
                (&us_date(e.date), Face::Regular),
            ]);
        }
        w.close_table();
    }

    w.y -= 4.0;
    w.paragraph(
        &format!(
            "Issued by {} on {} from the {}.",
            c.issuer,
            us_date(c.issued),
            c.registry
        ),
        9.0,
        Face::Regular,
    );

    let qr_size = 55.0;
    w.need(qr_size + 14.0);
    w.y -= 6.0;
    let top = w.y;
    let caption_w = RIGHT - LEFT - qr_size - 6.0;
    let caption = match c.verification.as_deref().and_then(verification_qr) {
        Some(code) => {
            w.qr(&code, RIGHT - qr_size, top - qr_size, qr_size);
            "Verify this certificate: the QR code is a SMART Health Card signed by the registry. \
             Scan it with any SMART Health Card verifier; the registry publishes its keys at \
             /.well-known/jwks.json."
        }
        None if c.verification.is_some() => {
            "This record is too long for one QR code: download the .smart-health-card file \
             from the registry to verify it."
        }
        None => "This copy carries no verification code.",
    };
    let lines = w.metrics[0].wrap(caption, 8.5, caption_w);
    for (i, line) in lines.iter().enumerate() {
        w.text(line, 8.5, LEFT, top - 4.0 - i as f32 * 4.0, Face::Regular);
    }
    let sig_y = top - qr_size + 6.0;
    w.rule(LEFT, LEFT + caption_w * 0.6, sig_y);
    w.rule(LEFT + caption_w * 0.68, LEFT + caption_w, sig_y);
    w.text(
        "Authorized signature",
        8.0,
        LEFT,
        sig_y - 4.0,
        Face::Regular,
    );
    w.text(
        "Date",
        8.0,
        LEFT + caption_w * 0.68,
        sig_y - 4.0,
        Face::Regular,
    );
    w.y = top - qr_size;

    w.doc.save_to_bytes().map_err(pdf_error)
}
