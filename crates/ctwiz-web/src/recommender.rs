//! The Recommender panel: the patient's history run through the CDSi engine
//! (`ctwiz-forecast`), shown per vaccine group, and each dose's evaluation.

use chrono::NaiveDate;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::patient::Patient;
use ctwiz_forecast::{
    explain, DueStatus, Engine, EvaluationStatus, ForecastResult, SupportingData,
};
use maud::{html, Markup};
use std::sync::Arc;

/// The engine's result for the patient's stored doses; its `dose_index` is the index in
/// the stored dose list (refusals and not-administered entries included: the engine
/// skips them, CDSi 4.1).
pub struct Recommendation {
    pub result: ForecastResult,
    /// The patient's birth date (which groups are listed depends on the age).
    birth_date: NaiveDate,
    /// The supporting data the result was computed with (the dose notes quote its ages
    /// and intervals).
    data: Arc<SupportingData>,
}

/// Runs the forecast as of `today` on the one engine input every part of ctwiz builds
/// (`ctwiz_core::forecast_input`), so the page, Z42 answers and reports agree.
pub fn evaluate(
    engine: &Engine,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    today: NaiveDate,
) -> Option<Recommendation> {
    let input = ctwiz_core::forecast_input::patient(p, doses, observations);
    Some(Recommendation {
        result: engine.forecast(&input, today),
        birth_date: input.dob,
        data: engine.supporting_data().clone(),
    })
}

impl Recommendation {
    /// How stored dose `dose` counts for `group` (`ForecastResult::group_dose_status`)
    /// and, when it does not count, is extra or moved the antigen to a longer series, why
    /// in words (`ctwiz_forecast::explain`).
    pub fn dose_status(
        &self,
        group: &str,
        dose: usize,
    ) -> Option<(EvaluationStatus, Option<String>)> {
        let status = self.result.group_dose_status(group, dose)?;
        let note = explain::dose_notes(&self.data, &self.result, group)
            .into_iter()
            .find(|n| n.dose_index == dose)
            .map(|n| n.text);
        Some((status, note))
    }
}

/// The badge class of a status a nurse reads (`ctwiz_forecast::DueStatus`).
fn status_class(status: DueStatus) -> &'static str {
    match status {
        DueStatus::Overdue => "status-overdue",
        DueStatus::DueNow => "status-due",
        DueStatus::NotYetDue => "status-later",
        DueStatus::Complete | DueStatus::Immune => "status-ok",
        DueStatus::AgedOut | DueStatus::Contraindicated | DueStatus::NotRecommended => {
            "status-other"
        }
    }
}

/// The evaluation cell of one dose: its status for the group and the reason in words.
pub fn dose_cell(eval: Option<&(EvaluationStatus, Option<String>)>) -> Markup {
    html! {
        @match eval {
            Some((status, note)) => {
                @match status {
                    EvaluationStatus::Valid => span.ok { "Valid" },
                    EvaluationStatus::NotValid => span.bad { "Not valid" },
                    EvaluationStatus::SubStandard => span.bad { "Sub-standard" },
                    EvaluationStatus::Extraneous => span.muted { "Extra dose" },
                }
                @if let Some(note) = note { span.muted { " – " (note) } }
            }
            None => span.muted { "—" },
        }
    }
}

pub fn panel(rec: Option<&Recommendation>, today: NaiveDate) -> Markup {
    let Some(rec) = rec else {
        return html! { p.muted { "The recommender could not evaluate this record." } };
    };
    // The groups that apply to the patient, as the CLI and Z42 list them.
    let shown: Vec<_> = explain::listed_groups(&rec.data, &rec.result, rec.birth_date).collect();
    let hidden = rec.result.vaccine_groups.len() - shown.len();
    html! {
        p.muted { "CDSi evaluation as of " (today) "." }
        table.recommender {
            thead { tr { th { "Vaccine group" } th { "Status" } th { "Dose" } th { "Earliest" } th { "Recommended" } th { "Past due" } th { "Latest" } } }
            tbody {
                @for g in &shown {
                    @let f = g.forecast.as_ref();
                    @let due = g.due_status(today);
                    tr {
                        td { (g.vaccine_group) }
                        td { span class={ "badge " (status_class(due)) } { (due.label()) } }
                        td { @if let Some(f) = f { (f.dose_number) } }
                        td { @if let Some(f) = f { (f.earliest) } }
                        td { @if let Some(f) = f { (f.recommended) } }
                        td { @if let Some(d) = f.and_then(|f| f.past_due) { (d) } }
                        td { @if let Some(d) = f.and_then(|f| f.latest) { (d) } }
                    }
                }
            }
        }
        @if hidden > 0 { p.muted { (hidden) " vaccine group(s) that do not apply to this patient now (not recommended, by shared clinical decision-making only, or on the adult schedule) are not shown." } }
        @if !rec.result.unknown_vaccines.is_empty() {
            p.warn { (rec.result.unknown_vaccines.len()) " dose(s) have a vaccine code the CDSi data does not know; they were not evaluated." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctwiz_forecast::{AdministeredDose, Patient as EnginePatient, Sex};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn a_one_year_old_reads_not_yet_due_and_the_hepb_dose_says_why_a_4th_is_needed() {
        let engine = Engine::bundled().expect("bundled supporting data");
        let patient = EnginePatient::new(date("2025-01-01"), Sex::Female)
            .with_dose(AdministeredDose::new(date("2025-01-01"), "08"))
            .with_dose(AdministeredDose::new(date("2025-02-01"), "08"))
            .with_dose(AdministeredDose::new(date("2025-05-01"), "08"));
        let today = date("2026-01-01");
        let rec = Recommendation {
            result: engine.forecast(&patient, today),
            birth_date: patient.dob,
            data: engine.supporting_data().clone(),
        };
        let page = panel(Some(&rec), today).into_string();
        assert!(!page.contains("Up to date"), "{page}");
        let hpv = page
            .split("<tr>")
            .find(|row| row.contains("<td>HPV</td>"))
            .expect("an HPV row");
        assert!(hpv.contains("Not yet due"), "{hpv}");

        let eval = rec.dose_status("HepB", 2);
        assert_eq!(eval.as_ref().map(|e| e.0), Some(EvaluationStatus::Valid));
        let cell = dose_cell(eval.as_ref()).into_string();
        assert!(
            cell.contains("dose 3 given before 24 weeks of age: a 4th dose is needed"),
            "{cell}"
        );
        // A valid dose with nothing to explain reads just "Valid".
        let first = dose_cell(rec.dose_status("HepB", 0).as_ref()).into_string();
        assert!(first.contains("Valid") && !first.contains(" – "), "{first}");
    }
}
