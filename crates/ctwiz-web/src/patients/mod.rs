//! Patient Management: search, add/edit demographics, the Immunization Home (history by
//! vaccine group with the Recommender), dose entry, observations and the official record.
//! Every read and change of a record is written to the audit log.

use crate::error::AppError;
use chrono::NaiveDate;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::Dose;
use ctwiz_core::ids::Cvx;
use ctwiz_core::patient::PatientStatus;
use std::collections::BTreeMap;

mod demographics;
mod doses;
mod home;
pub(crate) mod record;
pub(crate) mod releases;
mod search;

pub use demographics::{create_patient, edit_patient_page, new_patient_page, update_patient};
pub use doses::{
    add_dose, add_observation, delete_dose, edit_dose_page, new_dose_page, update_dose,
};
pub use home::home;
pub use record::{jwks, official_record, official_record_pdf, smart_health_card};
pub use search::search;

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "{field}: {s:?} is not a date (expected YYYY-MM-DD)"
        ))
    })
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|t| !t.is_empty())
}

fn status_label(s: PatientStatus) -> &'static str {
    match s {
        PatientStatus::Active => "Active",
        PatientStatus::Inactive => "Inactive",
        PatientStatus::MovedOrGoneElsewhere => "Moved or gone elsewhere",
        PatientStatus::LostToFollowUp => "Lost to follow-up",
        PatientStatus::OtherProvider => "Other provider",
        PatientStatus::Deceased => "Deceased",
    }
}

/// Doses given (not refusals) grouped by CDSi vaccine group; a combination vaccine appears
/// in each of its groups.
pub fn group_doses<'a>(
    codes: &CodeSets,
    doses: &'a [Dose],
) -> BTreeMap<String, Vec<(usize, &'a Dose)>> {
    let mut groups: BTreeMap<String, Vec<(usize, &Dose)>> = BTreeMap::new();
    for (i, d) in doses.iter().enumerate().filter(|(_, d)| d.was_given()) {
        for g in codes.groups_listed(&d.cvx) {
            groups.entry(g).or_default().push((i, d));
        }
    }
    groups
}

pub fn vaccine_name(codes: &CodeSets, cvx: &Cvx) -> String {
    codes.vaccine_label(cvx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctwiz_core::dose::{InformationSource, RefusalReason};

    #[test]
    fn combination_doses_appear_in_each_group_and_refusals_in_none() {
        let codes = CodeSets::embedded();
        let d = |cvx: &str| {
            Dose::new(
                Cvx::new(cvx).unwrap(),
                NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                InformationSource::HistoricalUnspecified,
            )
        };
        let doses = vec![
            d("94"),
            Dose::refusal(
                Cvx::new("03").unwrap(),
                NaiveDate::from_ymd_opt(2024, 2, 1).unwrap(),
                RefusalReason::ParentalDecision,
            ),
        ];
        let g = group_doses(&codes, &doses);
        assert!(
            g.contains_key("MMR") && g.contains_key("Varicella"),
            "{:?}",
            g.keys()
        );
        assert_eq!(g.values().map(Vec::len).sum::<usize>(), 2);
    }
}
