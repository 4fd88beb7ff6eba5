//! The CDSi engine (ctwiz-forecast) as the [`Forecaster`] behind Z42
//! answers: dose evaluations per vaccine group and the forecast per group,
//! in the shapes of CDC IG R1.5 §7.4 (Z42 OBX groups).

use chrono::NaiveDate;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::patient::Patient;
use ctwiz_forecast::{explain, DoseNote, DueStatus, Engine, EvaluationReason, EvaluationStatus};

use super::Forecaster;
use crate::datatype::Cwe;
use crate::message::rsp::{DoseEvaluation, Forecast};

/// Z42 answers from the CDSi engine.
#[derive(Clone)]
pub struct CdsiForecaster {
    engine: Engine,
}

impl CdsiForecaster {
    pub fn new(engine: Engine) -> Self {
        CdsiForecaster { engine }
    }

    /// The engine over the bundled CDC supporting data.
    pub fn bundled() -> Result<Self, ctwiz_forecast::SupportingDataError> {
        Ok(CdsiForecaster::new(Engine::bundled()?))
    }
}

/// OBX 30956-7 "vaccine type": the CVX "unspecified formulation" code (and its text) for
/// a vaccine group, keyed by the engine's identifier for the group (its CDSi supporting
/// data name, `VaccineGroupForecast::vaccine_group`), per IG R1.5 §7.4 and the Z42
/// sample messages. Travel and outbreak groups use their "unspecified" code too; the
/// two without one in the CVX table (Chikungunya, Dengue) use their only licensed
/// vaccine's code. `None` only for a group the engine's data does not have.
pub fn vaccine_group_cvx(group: &str) -> Option<(&'static str, &'static str)> {
    Some(match group {
        "DTaP/Tdap/Td" => ("107", "DTaP, unspecified formulation"),
        "HepA" => ("85", "Hep A, unspecified formulation"),
        "HepB" => ("45", "Hep B, unspecified formulation"),
        "Hib" => ("17", "Hib, unspecified formulation"),
        "HPV" => ("137", "HPV, unspecified formulation"),
        "Influenza" => ("88", "Influenza, unspecified formulation"),
        "MMR" => ("03", "MMR"),
        "Meningococcal" => ("108", "Meningococcal ACWY, unspecified formulation"),
        "Meningococcal B" => ("164", "Meningococcal B, unspecified formulation"),
        "Pneumococcal" => ("109", "Pneumococcal, unspecified formulation"),
        "Polio" => ("89", "Polio, unspecified formulation"),
        "Rotavirus" => ("122", "Rotavirus, unspecified formulation"),
        "Varicella" => ("21", "Varicella"),
        "Zoster" => ("188", "Zoster, unspecified formulation"),
        "COVID-19" => (
            "213",
            "SARS-COV-2 (COVID-19) vaccine, unspecified formulation",
        ),
        "Chikungunya" => ("317", "Chikungunya live attenuated vaccine, 0.5 mL, PF"),
        "Cholera" => ("26", "cholera, unspecified formulation"),
        "Dengue" => ("56", "dengue fever"),
        "Ebola" => ("214", "Ebola, unspecified"),
        "Japanese Encephalitis" => ("129", "Japanese Encephalitis, unspecified formulation"),
        "Orthopoxvirus" => ("325", "Vaccinia (smallpox, mpox), unspecified"),
        "Rabies" => ("90", "rabies, unspecified formulation"),
        "RSV" => ("304", "Respiratory syncytial virus (RSV), unspecified"),
        "TBE" => ("222", "Tick-borne encephalitis, unspecified"),
        "Typhoid" => ("91", "typhoid, unspecified formulation"),
        "Yellow Fever" => ("184", "Yellow fever, unspecified formulation"),
        _ => return None,
    })
}

/// The group's CVX, or `None` for a group without one (left out of a Z42 rather
/// than sent with an empty OBX-5 code).
fn group_code(group: &str) -> Option<Cwe> {
    vaccine_group_cvx(group).map(|(code, text)| Cwe::new(code, text, "CVX"))
}

/// The local coding system of the words a nurse reads (HL7 table 0396: `99zzz` is a
/// locally defined table).
const LOCAL: &str = "99CTW";

/// OBX 59783-1 "status in immunization series": the LOINC answer (list LL940-8, as the
/// IG R1.5 Z42 profile asks), with the status a nurse reads as the alternate code, in
/// the words of `ctwiz_forecast::explain` that the web and CLI show.
fn status_code(due: DueStatus) -> Cwe {
    let (code, text, local) = match due {
        DueStatus::Complete => ("LA13421-5", "Complete", "COMPLETE"),
        DueStatus::Immune => ("LA27183-5", "Immune", "IMMUNE"),
        DueStatus::Overdue => ("LA13423-1", "Overdue", "OVERDUE"),
        DueStatus::DueNow => ("LA13422-3", "On schedule", "DUE"),
        DueStatus::NotYetDue => ("LA13422-3", "On schedule", "NOT_YET_DUE"),
        DueStatus::AgedOut => ("LA13424-9", "Too old", "AGED_OUT"),
        DueStatus::Contraindicated => ("LA4216-3", "Contraindicated", "CONTRAINDICATED"),
        DueStatus::NotRecommended => ("LA4695-8", "Not Recommended", "NOT_RECOMMENDED"),
    };
    Cwe {
        alt_code: local.into(),
        alt_text: due.label().into(),
        alt_system: LOCAL.into(),
        ..Cwe::new(code, text, "LN")
    }
}

/// OBX 30982-3 "reason applied by forecast logic": a dose note of
/// `ctwiz_forecast::explain` (the words the web and CLI show), coded in the local table
/// by the CDSi evaluation reason it quotes. The IG R1.5 names no value set for it.
fn reason_code(note: &DoseNote) -> Cwe {
    let code = match (note.status, note.reason) {
        // A valid dose the default series did not count: the patient needs the
        // longer series.
        (EvaluationStatus::Valid, _) => "LONGER_SERIES",
        (_, Some(r)) => match r {
            EvaluationReason::TooYoung => "TOO_YOUNG",
            EvaluationReason::TooOld => "TOO_OLD",
            EvaluationReason::IntervalTooSoon => "TOO_SOON",
            EvaluationReason::LiveVirusConflict => "LIVE_VIRUS_CONFLICT",
            EvaluationReason::Inadvertent => "INADVERTENT",
            EvaluationReason::NotPreferableOrAllowable => "NOT_ALLOWABLE",
            EvaluationReason::SeriesComplete => "SERIES_COMPLETE",
            EvaluationReason::ExpiredLot => "EXPIRED_LOT",
            EvaluationReason::SubPotent => "SUB_POTENT",
            EvaluationReason::AgeGracePeriod
            | EvaluationReason::IntervalGracePeriod
            | EvaluationReason::AllowableInterval
            | EvaluationReason::AllowableVaccine => "OTHER",
        },
        (EvaluationStatus::Extraneous, None) => "EXTRA_DOSE",
        (EvaluationStatus::SubStandard, None) => "SUB_STANDARD",
        (EvaluationStatus::NotValid, None) => "NOT_VALID",
    };
    Cwe::new(code, &note.text, LOCAL)
}

impl Forecaster for CdsiForecaster {
    fn evaluate(
        &self,
        patient: &Patient,
        doses: &[Dose],
        observations: &[Observation],
        today: NaiveDate,
    ) -> (Vec<Vec<DoseEvaluation>>, Vec<Forecast>) {
        let input = ctwiz_core::forecast_input::patient(patient, doses, observations);
        let result = self.engine.forecast(&input, today);
        let data = self.engine.supporting_data();
        let mut evals: Vec<Vec<DoseEvaluation>> = vec![Vec::new(); doses.len()];
        let mut forecast = Vec::new();
        let listed: Vec<&str> = explain::listed_groups(data, &result, input.dob)
            .map(|g| g.vaccine_group.as_str())
            .collect();
        for g in &result.vaccine_groups {
            let group = g.vaccine_group.as_str();
            let notes = explain::dose_notes(data, &result, group);
            let code = group_code(group).unwrap_or_else(|| Cwe::new("", group, ""));
            // The group's antigens' selected series, and the doses they evaluated.
            let series: Vec<_> = result
                .antigens
                .iter()
                .filter(|a| g.antigens.contains(&a.antigen))
                .filter_map(|a| a.best())
                .collect();
            let mut indices: Vec<usize> = series
                .iter()
                .flat_map(|s| s.doses.iter().map(|d| d.dose_index))
                .collect();
            indices.sort_unstable();
            indices.dedup();
            // One OBX group per vaccine group and dose: the dose's status for the
            // group as the web shows it (`ForecastResult::group_dose_status`).
            for index in indices {
                let (Some(status), Some(slot)) =
                    (result.group_dose_status(group, index), evals.get_mut(index))
                else {
                    continue;
                };
                let valid = status == EvaluationStatus::Valid;
                let dose_number = series
                    .iter()
                    .flat_map(|s| s.doses.iter())
                    .filter(|d| d.dose_index == index)
                    .find_map(|d| d.target_dose)
                    .map(u32::from)
                    .filter(|_| valid);
                slot.push(DoseEvaluation {
                    vaccine_group: code.clone(),
                    valid,
                    reason: notes
                        .iter()
                        .find(|n| n.dose_index == index)
                        .map(reason_code),
                    dose_number,
                });
            }
            // Forecast rows: the groups the patient's record lists (explain::relevance),
            // each coded in CVX (a group without a code is left out rather than sent
            // with an empty OBX-5).
            if !listed.contains(&group) || group_code(group).is_none() {
                continue;
            }
            let f = g.forecast.as_ref();
            forecast.push(Forecast {
                vaccine_group: code,
                status: Some(status_code(g.due_status(today))),
                reason: notes.iter().find(|n| n.next_dose).map(reason_code),
                dose_number: f.map(|f| u32::from(f.dose_number)),
                earliest: f.map(|f| f.earliest),
                recommended: f.map(|f| f.recommended),
                overdue: f.and_then(|f| f.past_due),
                latest: f.and_then(|f| f.latest),
            });
        }
        (evals, forecast)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vaccine group of the engine's supporting data that a clinic routinely gives
    /// has a Z42 code: the table uses the engine's names ("Meningococcal B", not "MenB").
    #[test]
    fn every_engine_group_has_a_vaccine_type_code_the_cvx_table_knows() {
        let engine = Engine::bundled().expect("bundled supporting data");
        let codes = ctwiz_core::codes::CodeSets::embedded();
        for g in &engine.supporting_data().vaccine_groups {
            let (cvx, _) = vaccine_group_cvx(&g.name)
                .unwrap_or_else(|| panic!("{} has no Z42 vaccine type code", g.name));
            let cvx = ctwiz_core::ids::Cvx::new(cvx).expect("a CVX code");
            assert!(codes.vaccine(&cvx).is_some(), "{}: CVX {cvx}", g.name);
        }
        assert_eq!(
            group_code("Meningococcal B").map(|c| c.code),
            Some("164".into())
        );
    }
}
