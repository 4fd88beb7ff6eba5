//! Reminder/recall letters as a PDF (one US-letter page per family), mailing labels and
//! phone lists as CSV.

use super::CliResult;
use chrono::NaiveDate;
use ctwiz_core::assessment::recall::{RecallEntry, Urgency};
use ctwiz_core::org::Clinic;
use printpdf::{BuiltinFont, Mm, PdfDocument};
use std::collections::HashMap;

/// Renders one letter per entry. `clinics` gives the name and phone to call.
pub fn letters_pdf(
    entries: &[RecallEntry],
    clinics: &HashMap<String, Clinic>,
    today: NaiveDate,
) -> CliResult<Vec<u8>> {
    let (w, h) = (Mm(215.9), Mm(279.4));
    let (doc, first_page, first_layer) = PdfDocument::new("Immunization reminders", w, h, "letter");
    let regular = doc.add_builtin_font(BuiltinFont::Helvetica)?;
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold)?;
    for (i, e) in entries.iter().enumerate() {
        let layer = if i == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (p, l) = doc.add_page(w, h, "letter");
            doc.get_page(p).get_layer(l)
        };
        let clinic = e
            .child
            .clinic
            .as_ref()
            .and_then(|c| clinics.get(c.as_str()));
        let mut y = 255.0;
        // Writes a line at the cursor and moves down by `gap` mm; "" only moves.
        let mut line = |text: &str, size: f32, font: &printpdf::IndirectFontRef, gap: f32| {
            if !text.is_empty() {
                layer.use_text(text, size, Mm(25.0), Mm(y), font);
            }
            y -= gap;
        };
        line(
            clinic.map_or("Connecticut Immunization Program", |c| c.name.as_str()),
            14.0,
            &bold,
            6.0,
        );
        if let Some(c) = clinic {
            if let Some(a) = &c.address {
                line(
                    &format!("{}, {}, {} {}", a.street, a.city, a.state, a.zip),
                    10.0,
                    &regular,
                    5.0,
                );
            }
            if let Some(p) = &c.phone {
                line(&format!("Phone {}", p.formatted()), 10.0, &regular, 5.0);
            }
        }
        line("", 0.0, &regular, 10.0);
        line(
            &today.format("%B %-d, %Y").to_string(),
            11.0,
            &regular,
            12.0,
        );
        line(
            &format!("To the parent or guardian of {}", e.child.name),
            11.0,
            &regular,
            5.5,
        );
        if let Some(g) = &e.guardian {
            line(g, 11.0, &regular, 5.5);
        }
        if let Some(a) = &e.address {
            line(a, 11.0, &regular, 5.5);
        }
        line("", 0.0, &regular, 10.0);
        let overdue = e.due.iter().any(|d| d.urgency == Urgency::Overdue);
        line(
            if overdue {
                "Immunizations are overdue"
            } else {
                "Immunizations are coming due"
            },
            13.0,
            &bold,
            9.0,
        );
        line(
            &format!(
                "Our records show that {} (born {}) needs:",
                e.child.name, e.child.dob
            ),
            11.0,
            &regular,
            8.0,
        );
        for d in &e.due {
            let when = match d.urgency {
                Urgency::Overdue => {
                    format!("overdue since {}", d.past_due.unwrap_or(d.recommended))
                }
                Urgency::Due => format!("recommended on {}", d.recommended),
            };
            line(
                &format!("  -  {} dose {}: {}", d.vaccine_group, d.dose_number, when),
                11.0,
                &regular,
                6.5,
            );
        }
        line("", 0.0, &regular, 6.0);
        let call = clinic
            .and_then(|c| {
                c.phone.as_ref().map(|p| {
                    format!(
                        "Please call {} at {} to make an appointment.",
                        c.name,
                        p.formatted()
                    )
                })
            })
            .unwrap_or_else(|| {
                "Please contact your child's health care provider to make an appointment.".into()
            });
        line(&call, 11.0, &regular, 6.0);
        line("If your child has already received these vaccines, please ask the provider to update the", 11.0, &regular, 5.5);
        line(
            "Connecticut immunization registry so our records are complete.",
            11.0,
            &regular,
            5.5,
        );
    }
    Ok(doc.save_to_bytes()?)
}

/// Mailing labels: one row per family with an address.
pub fn label_rows(entries: &[RecallEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .filter_map(|e| {
            let addr = e.address.as_ref()?;
            Some(vec![
                format!("Parent/Guardian of {}", e.child.name),
                e.guardian.clone().unwrap_or_default(),
                addr.clone(),
            ])
        })
        .collect()
}

/// Phone/text list: one row per family with a phone number.
pub fn phone_rows(entries: &[RecallEntry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .filter_map(|e| {
            let phone = e.phone.as_ref()?;
            let due = e
                .due
                .iter()
                .map(|d| d.vaccine_group.clone())
                .collect::<Vec<_>>()
                .join(", ");
            Some(vec![
                e.child.name.clone(),
                e.guardian.clone().unwrap_or_default(),
                phone.clone(),
                due,
            ])
        })
        .collect()
}
