//! Whom a report covers: the acting scope and the permission matrix decide, for every
//! door. A clinic or county the actor may not see is refused, never silently widened or
//! narrowed.

use super::UseCaseError;
use crate::traits::OrgStore;
use ctwiz_core::access::{can, Action, Target};
use ctwiz_core::actor::{authorize, authorize_at, Acting, Actor, Denied};
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::{Clinic, County};

/// The population a report runs over, and what the actor could narrow it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportScope {
    /// Only patients of these clinics (`None`: no clinic filter).
    pub clinics: Option<Vec<ClinicPin>>,
    /// Only residents of these counties (`None`: statewide).
    pub counties: Option<Vec<County>>,
    /// Clinics the actor may narrow to (none for clinic users, who have theirs).
    pub clinic_choices: Vec<(ClinicPin, String, County)>,
    /// Counties the actor may narrow to (more than one only for the state).
    pub county_choices: Vec<County>,
    pub chosen_clinic: Option<ClinicPin>,
    pub chosen_county: Option<County>,
    /// "Hartford Pediatrics (CT00001)", "Hartford County", "Statewide".
    pub label: String,
}

/// Decides the scope of a report guarded by `action` (ReportCoverage, ReportDqa, …) for
/// an optional clinic and county the actor asked for.
pub fn scope<S: OrgStore + ?Sized>(
    store: &S,
    actor: &Actor,
    action: Action,
    wanted_clinic: Option<ClinicPin>,
    wanted_county: Option<County>,
) -> Result<ReportScope, UseCaseError> {
    authorize(actor, action)?;
    let clinics = store.clinics()?;
    match &actor.acting {
        Acting::Clinic { pin, county } => {
            if wanted_clinic.as_ref().is_some_and(|w| w != pin)
                || wanted_county.is_some_and(|w| w != *county)
            {
                return Err(Denied::OutOfScope(action).into());
            }
            let name = clinics
                .iter()
                .find(|c| &c.pin == pin)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            Ok(ReportScope {
                clinics: Some(vec![pin.clone()]),
                counties: None,
                clinic_choices: Vec::new(),
                county_choices: Vec::new(),
                chosen_clinic: None,
                chosen_county: None,
                label: format!("{name} ({pin})"),
            })
        }
        Acting::Jurisdiction(_) | Acting::State => {
            let clinic_choices: Vec<(ClinicPin, String, County)> = clinics
                .iter()
                .filter(|c| {
                    let at = Target::Clinic {
                        pin: &c.pin,
                        county: c.county,
                    };
                    authorize_at(actor, at, action).is_ok()
                })
                .map(|c| (c.pin.clone(), c.name.clone(), c.county))
                .collect();
            // Health departments: their jurisdictions only; the state: every county.
            let county_choices: Vec<County> = County::ALL
                .into_iter()
                .filter(|c| can(&actor.user, Target::Jurisdiction(*c), action))
                .collect();
            if let Some(w) = &wanted_clinic {
                if !clinic_choices.iter().any(|(p, _, _)| p == w) {
                    return Err(Denied::OutOfScope(action).into());
                }
            }
            let counties = match wanted_county {
                Some(c) if !county_choices.contains(&c) => {
                    return Err(Denied::OutOfScope(action).into())
                }
                Some(c) => Some(vec![c]),
                None if county_choices.len() == County::ALL.len() => None,
                None => Some(county_choices.clone()),
            };
            let mut label = match &counties {
                None => "Statewide".to_string(),
                Some(cs) => cs
                    .iter()
                    .map(|c| format!("{c} County"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            if let Some(w) = &wanted_clinic {
                if let Some((_, name, _)) = clinic_choices.iter().find(|(p, _, _)| p == w) {
                    label = format!("{name} ({w}), {label}");
                }
            }
            Ok(ReportScope {
                clinics: wanted_clinic.clone().map(|c| vec![c]),
                counties,
                clinic_choices,
                county_choices,
                chosen_clinic: wanted_clinic,
                chosen_county: wanted_county,
                label,
            })
        }
        Acting::Nowhere => Err(Denied::NoActingScope.into()),
    }
}

/// Whether the DQA – Interface Activity report may show messages from `facility` (MSH-4):
/// clinic users their own clinic's; others the clinics the matrix lets them see (the state
/// also sees messages from senders that are no registered clinic, which it must follow
/// up).
pub fn dqa_facility_visible(actor: &Actor, clinics: &[Clinic], facility: &str) -> bool {
    match &actor.acting {
        Acting::Clinic { pin, .. } => pin.as_str().eq_ignore_ascii_case(facility),
        Acting::Nowhere => false,
        Acting::Jurisdiction(_) | Acting::State => {
            match clinics
                .iter()
                .find(|c| c.pin.as_str().eq_ignore_ascii_case(facility))
            {
                Some(c) => {
                    let at = Target::Clinic {
                        pin: &c.pin,
                        county: c.county,
                    };
                    authorize_at(actor, at, Action::ReportDqa).is_ok()
                }
                None => authorize_at(actor, Target::State, Action::ReportDqa).is_ok(),
            }
        }
    }
}
