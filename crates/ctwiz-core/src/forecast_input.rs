//! Builds the engine's input from ctwiz-core records, so every part of
//! ctwiz — web, CLI, HL7 Z42 responses, reports — asks the engine the same question.

use crate::dose::{CompletionStatus, Dose, Observation as CoreObservation};
use crate::patient::{Patient as CorePatient, Sex as CoreSex};
use chrono::NaiveDate;
use ctwiz_forecast::Sex;
use ctwiz_forecast::{AdministeredDose, AdministrationStatus, Observation, Patient};

/// The engine's view of one dose.
pub fn dose(d: &Dose) -> AdministeredDose {
    AdministeredDose {
        date: d.date,
        cvx: d.cvx.as_str().to_string(),
        mvx: d.mvx.as_ref().map(|m| m.as_str().to_string()),
        lot_expiration: d.lot_expiration,
        sub_potent: false,
        status: match d.completion {
            CompletionStatus::Complete => AdministrationStatus::Administered,
            // CDSi treats a partial dose as given; the evaluation decides its validity.
            CompletionStatus::PartiallyAdministered => AdministrationStatus::Administered,
            CompletionStatus::NotAdministered => AdministrationStatus::NotAdministered,
            CompletionStatus::Refused => AdministrationStatus::Refused,
        },
    }
}

/// The engine's view of the patient as it was known before `day`: the doses given and
/// the observations recorded before it. Reports assessing a past date (a birthday, a
/// milestone, a visit) ask this, so a later dose or titer does not count early.
pub fn patient_before(
    p: &CorePatient,
    doses: &[Dose],
    observations: &[CoreObservation],
    day: NaiveDate,
) -> Patient {
    let doses: Vec<Dose> = doses.iter().filter(|d| d.date < day).cloned().collect();
    let observations: Vec<CoreObservation> = observations
        .iter()
        .filter(|o| o.date < day)
        .cloned()
        .collect();
    patient(p, &doses, &observations)
}

/// The engine's view of a patient with the given doses and observations.
pub fn patient(p: &CorePatient, doses: &[Dose], observations: &[CoreObservation]) -> Patient {
    Patient {
        dob: p.dob,
        sex: match p.sex {
            CoreSex::Female => Sex::Female,
            CoreSex::Male => Sex::Male,
            CoreSex::Unknown => Sex::Unknown,
        },
        doses: doses.iter().map(dose).collect(),
        observations: observations
            .iter()
            .map(|o| Observation {
                code: o.code.clone(),
                date: Some(o.date),
            })
            .collect(),
    }
}
