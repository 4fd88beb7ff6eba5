//! CDSi 4 "Gather necessary data" and "Organize immunization history":
//! split each administered dose into its antigens (using the CVX → antigen
//! map and its age windows), drop records that were not administered, flag
//! sub-standard doses, and sort each antigen's doses by date.

use crate::patient::{AdministrationStatus, Patient};
use crate::result::EvaluationReason;
use crate::supporting_data::{Cvx, ObservationCode, SupportingData};
use chrono::NaiveDate;

/// One administered dose as seen by one antigen.
#[derive(Clone, Debug)]
pub(crate) struct AntigenDose<'p> {
    /// Index into the patient's dose list.
    pub index: usize,
    pub date: NaiveDate,
    pub cvx: Cvx,
    pub mvx: Option<&'p str>,
    /// Set when the dose cannot count (CDSi 6.1 dose administered condition).
    pub sub_standard: Option<EvaluationReason>,
}

/// A patient's data organized for evaluation.
pub(crate) struct Organized<'p> {
    pub dob: NaiveDate,
    pub sex: crate::Sex,
    pub assessment: NaiveDate,
    /// Indexed by antigen id.
    pub per_antigen: Vec<Vec<AntigenDose<'p>>>,
    /// The doses that can start a live virus conflict, by date.
    pub live_doses: Vec<(NaiveDate, Cvx, usize)>,
    pub observations: Vec<(ObservationCode, Option<NaiveDate>)>,
    pub unknown_vaccines: Vec<usize>,
}

impl Organized<'_> {
    pub fn has_observation(&self, code: ObservationCode) -> bool {
        self.observations.iter().any(|(c, _)| *c == code)
    }

    pub fn observation_date(&self, code: ObservationCode) -> Option<NaiveDate> {
        self.observations
            .iter()
            .filter(|(c, _)| *c == code)
            .find_map(|(_, d)| *d)
    }
}

pub(crate) fn organize<'p>(
    data: &SupportingData,
    patient: &'p Patient,
    assessment: NaiveDate,
) -> Organized<'p> {
    let mut per_antigen: Vec<Vec<AntigenDose<'p>>> = vec![Vec::new(); data.antigens.len()];
    let mut live_doses = Vec::new();
    let mut unknown_vaccines = Vec::new();
    for (index, dose) in patient.doses.iter().enumerate() {
        if dose.status != AdministrationStatus::Administered {
            continue;
        }
        // Doses recorded after the assessment date are not yet history.
        if dose.date > assessment {
            continue;
        }
        let Some(entry) = Cvx::parse(&dose.cvx).and_then(|c| data.cvx.get(&c).map(|e| (c, e)))
        else {
            unknown_vaccines.push(index);
            continue;
        };
        let (cvx, entry) = entry;
        if data.conflicts_by_previous.contains_key(&cvx) {
            live_doses.push((dose.date, cvx, index));
        }
        // CDSi 6.1: an expired lot or a sub-potent dose is sub-standard.
        let sub_standard = if dose.sub_potent {
            Some(EvaluationReason::SubPotent)
        } else if dose.lot_expiration.is_some_and(|exp| dose.date > exp) {
            Some(EvaluationReason::ExpiredLot)
        } else {
            None
        };
        for assoc in &entry.antigens {
            if !assoc.ages.contains(patient.dob, dose.date) {
                continue;
            }
            per_antigen[usize::from(assoc.antigen.0)].push(AntigenDose {
                index,
                date: dose.date,
                cvx,
                mvx: dose.mvx.as_deref(),
                sub_standard,
            });
        }
    }
    for doses in &mut per_antigen {
        doses.sort_by_key(|d| (d.date, d.index));
    }
    live_doses.sort_by_key(|d| (d.0, d.2));
    let observations = patient
        .observations
        .iter()
        .filter_map(|o| o.parsed_code().map(|c| (c, o.date)))
        .collect();
    Organized {
        dob: patient.dob,
        sex: patient.sex,
        assessment,
        per_antigen,
        live_doses,
        observations,
        unknown_vaccines,
    }
}
