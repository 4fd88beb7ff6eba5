//! The official immunization record (for school, child care, camp and college), as an
//! HTML page for the browser's print and as a PDF. Both render the same [`RecordData`].

use crate::error::AppError;
use chrono::NaiveDate;
use ctwiz_core::ids::PatientId;
use maud::{html, Markup};
use printpdf::{BuiltinFont, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point};

/// What the record shows.
pub struct RecordData {
    pub name: String,
    pub dob: NaiveDate,
    pub sex: &'static str,
    pub id: PatientId,
    /// (vaccine group, vaccine, date given), grouped and in date order within a group.
    pub rows: Vec<(String, String, NaiveDate)>,
    /// The clinic (or office) that issues and signs the record.
    pub issuer: String,
    pub issued: NaiveDate,
}

pub fn html(r: &RecordData) -> Markup {
    html! {
        article.record {
            h2 { "Connecticut Immunization Record" }
            dl.facts {
                dt { "Name" } dd { (r.name) }
                dt { "Date of birth" } dd { (r.dob) }
                dt { "Sex" } dd { (r.sex) }
                dt { "ctwiz ID" } dd { (r.id) }
            }
            @if r.rows.is_empty() { p { "No immunizations on record." } } @else {
                table {
                    thead { tr { th { "Vaccine group" } th { "Vaccine" } th { "Date given" } } }
                    tbody {
                        @for (i, (group, vaccine, date)) in r.rows.iter().enumerate() {
                            tr {
                                td { @if i == 0 || r.rows[i - 1].0 != *group { strong { (group) } } }
                                td { (vaccine) }
                                td { (date) }
                            }
                        }
                    }
                }
            }
            p.muted { "Issued by " (r.issuer) " on " (r.issued) " from the Connecticut immunization registry (ctwiz). For school, child care, camp and college." }
            div.signature {
                div { "Authorized signature – " (r.issuer) }
                div { "Date" }
            }
        }
    }
}

/// The built-in PDF fonts cover Latin-1 only; anything else prints as '?'.
fn pdf_text(s: &str) -> String {
    s.chars()
        .map(|c| if (c as u32) < 0x100 { c } else { '?' })
        .collect()
}

fn rule(layer: &PdfLayerReference, x1: f32, x2: f32, y: f32) {
    layer.add_line(Line {
        points: vec![
            (Point::new(Mm(x1), Mm(y)), false),
            (Point::new(Mm(x2), Mm(y)), false),
        ],
        is_closed: false,
    });
}

const PAGE_W: f32 = 215.9;
const PAGE_H: f32 = 279.4;
const LEFT: f32 = 20.0;
const RIGHT: f32 = PAGE_W - 20.0;

fn pdf_error(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("PDF: {e}"))
}

/// A US-letter PDF of the record; long histories continue on further pages.
pub fn pdf(r: &RecordData) -> Result<Vec<u8>, AppError> {
    let (doc, page, layer) = PdfDocument::new(
        "Connecticut Immunization Record",
        Mm(PAGE_W),
        Mm(PAGE_H),
        "record",
    );
    let regular = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(pdf_error)?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(pdf_error)?;
    let mut layer = doc.get_page(page).get_layer(layer);
    let text = |l: &PdfLayerReference, s: &str, size: f32, x: f32, y: f32, f: &IndirectFontRef| {
        l.use_text(pdf_text(s), size, Mm(x), Mm(y), f);
    };
    let mut y = PAGE_H - 25.0;
    text(
        &layer,
        "Connecticut Immunization Record",
        16.0,
        LEFT,
        y,
        &bold,
    );
    y -= 4.0;
    rule(&layer, LEFT, RIGHT, y);
    y -= 9.0;
    for (label, value) in [
        ("Name", r.name.clone()),
        ("Date of birth", r.dob.to_string()),
        ("Sex", r.sex.to_string()),
        ("ctwiz ID", r.id.to_string()),
    ] {
        text(&layer, label, 10.0, LEFT, y, &regular);
        text(&layer, &value, 10.0, LEFT + 35.0, y, &bold);
        y -= 6.0;
    }
    y -= 4.0;
    let header = |l: &PdfLayerReference, y: f32| {
        text(l, "Vaccine group", 10.0, LEFT, y, &bold);
        text(l, "Vaccine", 10.0, LEFT + 55.0, y, &bold);
        text(l, "Date given", 10.0, LEFT + 135.0, y, &bold);
        rule(l, LEFT, RIGHT, y - 2.0);
    };
    header(&layer, y);
    y -= 8.0;
    if r.rows.is_empty() {
        text(
            &layer,
            "No immunizations on record.",
            10.0,
            LEFT,
            y,
            &regular,
        );
        y -= 6.0;
    }
    for (i, (group, vaccine, date)) in r.rows.iter().enumerate() {
        if y < 45.0 {
            let (p, l) = doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "record");
            layer = doc.get_page(p).get_layer(l);
            y = PAGE_H - 25.0;
            text(
                &layer,
                &format!("{} (continued)", r.name),
                10.0,
                LEFT,
                y,
                &regular,
            );
            y -= 10.0;
            header(&layer, y);
            y -= 8.0;
        }
        if i == 0 || r.rows[i - 1].0 != *group {
            text(&layer, group, 10.0, LEFT, y, &bold);
        }
        text(&layer, vaccine, 10.0, LEFT + 55.0, y, &regular);
        text(&layer, &date.to_string(), 10.0, LEFT + 135.0, y, &regular);
        y -= 5.5;
    }
    y -= 8.0;
    text(
        &layer,
        &format!(
            "Issued by {} on {} from the Connecticut immunization registry (ctwiz).",
            r.issuer, r.issued
        ),
        9.0,
        LEFT,
        y,
        &regular,
    );
    y -= 5.0;
    text(
        &layer,
        "For school, child care, camp and college.",
        9.0,
        LEFT,
        y,
        &regular,
    );
    y -= 22.0;
    rule(&layer, LEFT, LEFT + 95.0, y);
    rule(&layer, LEFT + 110.0, RIGHT, y);
    text(
        &layer,
        &format!("Authorized signature - {}", r.issuer),
        8.0,
        LEFT,
        y - 4.0,
        &regular,
    );
    text(&layer, "Date", 8.0, LEFT + 110.0, y - 4.0, &regular);
    doc.save_to_bytes().map_err(pdf_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_has_pages_for_long_histories() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        let r = RecordData {
            name: "RIVERA, Luz".into(),
            dob: d,
            sex: "F",
            id: PatientId(7),
            rows: (0..90)
                .map(|i| (format!("G{}", i / 5), "DTaP".into(), d))
                .collect(),
            issuer: "Clinic Ω".into(),
            issued: d,
        };
        let bytes = pdf(&r).expect("pdf renders");
        // To look at the output: CTWIZ_SAMPLE_PDF=/tmp/record.pdf cargo test -p ctwiz-web pdf_
        if let Some(path) = std::env::var_os("CTWIZ_SAMPLE_PDF") {
            std::fs::write(path, &bytes).expect("write sample PDF");
        }
        assert!(bytes.starts_with(b"%PDF"));
        let text = String::from_utf8_lossy(&bytes);
        // 90 rows at ~40 a page: three pages.
        assert!(text.contains("/Count 3"), "three pages expected");
    }
}
