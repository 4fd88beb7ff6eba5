//! The Recommender panel: the patient's history run through the CDSi engine
//! (`ctwiz-forecast`), shown per vaccine group, and each dose's evaluation.

use chrono::NaiveDate;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::patient::Patient;
use ctwiz_forecast::{Engine, EvaluationStatus, ForecastResult, SeriesStatus};
use maud::{html, Markup};

/// The engine's result for the patient's stored doses; its `dose_index` is the index in
/// the stored dose list (refusals and not-administered entries included: the engine
/// skips them, CDSi 4.1).
pub struct Recommendation {
    pub result: ForecastResult,
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
    })
}

impl Recommendation {
    /// Whether stored dose `dose` counts for `group` (valid), or why not.
    /// A dose is valid for a group when every antigen of the group that evaluated it
    /// found it valid in the selected series.
    pub fn dose_status(&self, group: &str, dose: usize) -> Option<(bool, String)> {
        let g = self.result.vaccine_group(group)?;
        let mut seen = false;
        let mut problems: Vec<String> = Vec::new();
        for antigen in &g.antigens {
            let Some(best) = self.result.antigen(antigen).and_then(|a| a.best()) else {
                continue;
            };
            for e in best.doses.iter().filter(|e| e.dose_index == dose) {
                seen = true;
                if e.status != EvaluationStatus::Valid {
                    let why: Vec<&str> = e.reasons.iter().map(|r| r.text()).collect();
                    let text = if why.is_empty() {
                        format!("{} ({antigen})", e.status.as_str())
                    } else {
                        format!("{} ({antigen}): {}", e.status.as_str(), why.join(", "))
                    };
                    if !problems.contains(&text) {
                        problems.push(text);
                    }
                }
            }
        }
        if !seen {
            return None;
        }
        Some((problems.is_empty(), problems.join("; ")))
    }
}

/// How the clinic reads a group's status on the assessment date: the CDSi status, and
/// for a series not complete whether the next dose is not yet due, due, or overdue.
fn status_view(
    status: SeriesStatus,
    earliest: Option<NaiveDate>,
    past_due: Option<NaiveDate>,
    today: NaiveDate,
) -> (&'static str, &'static str) {
    match status {
        SeriesStatus::NotComplete => match (earliest, past_due) {
            (_, Some(p)) if today >= p => ("Overdue", "status-overdue"),
            (Some(e), _) if today >= e => ("Due", "status-due"),
            _ => ("Up to date", "status-ok"),
        },
        SeriesStatus::Complete => ("Complete", "status-ok"),
        SeriesStatus::Immune => ("Immune", "status-ok"),
        other => (other.as_str(), "status-other"),
    }
}

pub fn panel(rec: Option<&Recommendation>, today: NaiveDate) -> Markup {
    let Some(rec) = rec else {
        return html! { p.muted { "The recommender could not evaluate this record." } };
    };
    let shown: Vec<_> = rec
        .result
        .vaccine_groups
        .iter()
        .filter(|g| g.status != SeriesStatus::NotRecommended)
        .collect();
    let hidden = rec.result.vaccine_groups.len() - shown.len();
    html! {
        p.muted { "CDSi evaluation as of " (today) "." }
        table.recommender {
            thead { tr { th { "Vaccine group" } th { "Status" } th { "Dose" } th { "Earliest" } th { "Recommended" } th { "Past due" } th { "Latest" } } }
            tbody {
                @for g in &shown {
                    @let f = g.forecast.as_ref();
                    @let (label, class) = status_view(g.status, f.map(|f| f.earliest), f.and_then(|f| f.past_due), today);
                    tr {
                        td { (g.vaccine_group) }
                        td { span class={ "badge " (class) } { (label) } }
                        td { @if let Some(f) = f { (f.dose_number) } }
                        td { @if let Some(f) = f { (f.earliest) } }
                        td { @if let Some(f) = f { (f.recommended) } }
                        td { @if let Some(d) = f.and_then(|f| f.past_due) { (d) } }
                        td { @if let Some(d) = f.and_then(|f| f.latest) { (d) } }
                    }
                }
            }
        }
        @if hidden > 0 { p.muted { (hidden) " vaccine group(s) not recommended for this patient are not shown." } }
        @if !rec.result.unknown_vaccines.is_empty() {
            p.warn { (rec.result.unknown_vaccines.len()) " dose(s) have a vaccine code the CDSi data does not know; they were not evaluated." }
        }
    }
}
