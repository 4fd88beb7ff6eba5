//! The CDSi engine (ctwiz-forecast) as the [`Forecaster`] behind Z42
//! answers: dose evaluations per vaccine group and the forecast per group,
//! in the shapes of CDC IG R1.5 §7.4 (Z42 OBX groups).

use chrono::NaiveDate;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::patient::Patient;
use ctwiz_forecast::{Engine, EvaluationStatus, SeriesStatus};

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

/// OBX 59783-1 "status in immunization series" (LOINC answer list LL940-8).
fn status_code(status: SeriesStatus, past_due: Option<NaiveDate>, today: NaiveDate) -> Cwe {
    let (code, text) = match status {
        SeriesStatus::Complete => ("LA13421-5", "Complete"),
        SeriesStatus::Immune => ("LA27183-5", "Immune"),
        SeriesStatus::NotComplete if past_due.is_some_and(|d| d <= today) => {
            ("LA13423-1", "Overdue")
        }
        SeriesStatus::NotComplete => ("LA13422-3", "On schedule"),
        SeriesStatus::AgedOut => ("LA13424-9", "Too old"),
        SeriesStatus::Contraindicated => ("LA4216-3", "Contraindicated"),
        SeriesStatus::NotRecommended => ("LA4695-8", "Not Recommended"),
    };
    Cwe::new(code, text, "LN")
}

/// Whether a vaccine group belongs in the patient's forecast: every group the engine
/// has a series for (due, complete, immune, contraindicated, aged out). "Not
/// Recommended" means no series applies — travel and risk-based vaccines for a
/// patient with no observation that calls for them (an observation on record makes
/// a risk series apply, and the group then has another status).
fn relevant(status: SeriesStatus) -> bool {
    status != SeriesStatus::NotRecommended
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
        let group_of = |antigen: &str| {
            result
                .vaccine_groups
                .iter()
                .find(|g| g.antigens.iter().any(|a| a.eq_ignore_ascii_case(antigen)))
                .map(|g| g.vaccine_group.to_string())
                .unwrap_or_else(|| antigen.to_string())
        };
        let mut evals: Vec<Vec<(String, DoseEvaluation)>> = vec![Vec::new(); doses.len()];
        for antigen in &result.antigens {
            let Some(series) = antigen.best() else {
                continue;
            };
            let group = group_of(&antigen.antigen);
            for ev in &series.doses {
                let Some(slot) = evals.get_mut(ev.dose_index) else {
                    continue;
                };
                let valid = ev.status == EvaluationStatus::Valid;
                let reason = ev.reasons.first().map(|r| r.text().to_string());
                // One OBX group per vaccine group: antigens of a combination
                // (e.g. DTaP's three) merge; the dose is valid if all are.
                match slot.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, e)) => {
                        e.valid &= valid;
                        if e.reason.is_none() {
                            e.reason = reason.filter(|_| !valid);
                        }
                    }
                    None => slot.push((
                        group.clone(),
                        DoseEvaluation {
                            vaccine_group: group_code(&group)
                                .unwrap_or_else(|| Cwe::new("", &group, "")),
                            valid,
                            reason: reason.filter(|_| !valid),
                            dose_number: ev.target_dose.map(u32::from).filter(|_| valid),
                        },
                    )),
                }
            }
        }
        let forecast = result
            .vaccine_groups
            .iter()
            .filter(|g| relevant(g.status))
            .filter_map(|g| {
                let f = g.forecast.as_ref();
                Some(Forecast {
                    vaccine_group: group_code(&g.vaccine_group)?,
                    status: Some(status_code(g.status, f.and_then(|f| f.past_due), today)),
                    dose_number: f.map(|f| u32::from(f.dose_number)),
                    earliest: f.map(|f| f.earliest),
                    recommended: f.map(|f| f.recommended),
                    overdue: f.and_then(|f| f.past_due),
                    latest: f.and_then(|f| f.latest),
                })
            })
            .collect();
        (
            evals
                .into_iter()
                .map(|v| v.into_iter().map(|(_, e)| e).collect())
                .collect(),
            forecast,
        )
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
