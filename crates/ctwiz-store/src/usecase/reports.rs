//! Whom a report covers: the acting scope and the permission matrix decide, for every
//! door. A clinic or county the actor may not see is refused, never silently widened or
//! narrowed.

use super::UseCaseError;
use crate::traits::{AuditAction, AuditStore, OrgStore, PlaceStore, RecallNotice, RecallStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{can, Action, Target};
use ctwiz_core::actor::{authorize, authorize_at, Acting, Actor, Denied};
use ctwiz_core::assessment::Cohort;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::org::{Clinic, County};
use ctwiz_core::place::{Jurisdiction, Places};
use std::sync::Arc;

/// The population a report runs over, and what the actor could narrow it to.
#[derive(Debug, Clone)]
pub struct ReportScope {
    /// Only patients of these clinics (`None`: no clinic filter).
    pub clinics: Option<Vec<ClinicPin>>,
    /// Only residents of these jurisdictions (`None`: statewide).
    pub within: Option<Vec<Jurisdiction>>,
    /// Clinics the actor may narrow to (none for clinic users, who have theirs).
    pub clinic_choices: Vec<(ClinicPin, String, County)>,
    /// Jurisdictions (counties, health departments) the actor may narrow to (more than
    /// one only for the state).
    pub area_choices: Vec<Jurisdiction>,
    pub chosen_clinic: Option<ClinicPin>,
    pub chosen_area: Option<Jurisdiction>,
    /// The towns table the report places children with.
    pub places: Arc<Places>,
    /// "Hartford Pediatrics (CT00001)", "Hartford County", "Statewide".
    pub label: String,
}

impl ReportScope {
    /// The cohort of this scope: children of `as_of` aged `ages` (months, inclusive).
    pub fn cohort_of(&self, as_of: chrono::NaiveDate, ages: (u32, u32)) -> Cohort {
        Cohort {
            as_of,
            min_age_months: ages.0,
            max_age_months: ages.1,
            clinics: self.clinics.clone(),
            within: self.within.clone(),
            places: Some(self.places.clone()),
        }
    }
}

/// Decides the scope of a report guarded by `action` (ReportCoverage, ReportDqa, …) for
/// an optional clinic and jurisdiction the actor asked for (a county or a health
/// department by name, as typed). A refusal is audited as `Denied`; an unknown name is
/// refused naming the valid ones.
pub fn scope<S: OrgStore + AuditStore + PlaceStore + ?Sized>(
    store: &S,
    actor: &Actor,
    action: Action,
    wanted_clinic: Option<ClinicPin>,
    wanted_area: Option<&str>,
    now: NaiveDateTime,
) -> Result<ReportScope, UseCaseError> {
    let places = store.places()?;
    let wanted_area = wanted_area
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| places.jurisdiction(s))
        .transpose()
        .map_err(UseCaseError::Invalid)?;
    let asked = format!(
        "{} for clinic {} area {}",
        action.label(),
        wanted_clinic.as_ref().map(|c| c.as_str()).unwrap_or("-"),
        wanted_area
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    let decided = decide_scope(store, actor, action, wanted_clinic, wanted_area, places);
    match decided {
        Err(UseCaseError::Denied(d)) => {
            super::audit_refusal(store, actor, None, now, |d| format!("{asked}: {d}"), Err(d))
        }
        other => other,
    }
}

fn decide_scope<S: OrgStore + ?Sized>(
    store: &S,
    actor: &Actor,
    action: Action,
    wanted_clinic: Option<ClinicPin>,
    wanted_area: Option<Jurisdiction>,
    places: Arc<Places>,
) -> Result<ReportScope, UseCaseError> {
    authorize(actor, action)?;
    let clinics = store.clinics()?;
    match &actor.acting {
        Acting::Clinic { pin, at } => {
            if wanted_clinic.as_ref().is_some_and(|w| w != pin)
                || wanted_area
                    .as_ref()
                    .is_some_and(|w| !w.contains(at.location()))
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
                within: None,
                clinic_choices: Vec::new(),
                area_choices: Vec::new(),
                chosen_clinic: None,
                chosen_area: None,
                label: format!("{name} ({pin})"),
                places,
            })
        }
        Acting::Jurisdiction(_) | Acting::State => {
            let clinic_choices: Vec<(ClinicPin, String, County)> = clinics
                .iter()
                .filter(|c| {
                    let at = c.target();
                    authorize_at(actor, at, action).is_ok()
                })
                .map(|c| (c.pin.clone(), c.name.clone(), c.county))
                .collect();
            // Health departments and IAP coordinators: their jurisdictions only; the
            // state: every county, health department and IAP area.
            let every = super::places::every(&places);
            let area_choices: Vec<Jurisdiction> = every
                .iter()
                .filter(|j| can(&actor.user, Target::Jurisdiction(j), action))
                .cloned()
                .collect();
            if let Some(w) = &wanted_clinic {
                if !clinic_choices.iter().any(|(p, _, _)| p == w) {
                    return Err(Denied::OutOfScope(action).into());
                }
            }
            let within = match &wanted_area {
                Some(j) if !area_choices.contains(j) => {
                    return Err(Denied::OutOfScope(action).into())
                }
                Some(j) => Some(vec![j.clone()]),
                None if area_choices.len() == every.len() => None,
                None => Some(area_choices.clone()),
            };
            let mut label = match &within {
                None => "Statewide".to_string(),
                Some(js) => js.iter().map(|j| j.label()).collect::<Vec<_>>().join(", "),
            };
            if let Some(w) = &wanted_clinic {
                if let Some((_, name, _)) = clinic_choices.iter().find(|(p, _, _)| p == w) {
                    label = format!("{name} ({w}), {label}");
                }
            }
            Ok(ReportScope {
                clinics: wanted_clinic.clone().map(|c| vec![c]),
                within,
                clinic_choices,
                area_choices,
                chosen_clinic: wanted_clinic,
                chosen_area: wanted_area,
                label,
                places,
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
                    let at = c.target();
                    authorize_at(actor, at, Action::ReportDqa).is_ok()
                }
                None => authorize_at(actor, Target::State, Action::ReportDqa).is_ok(),
            }
        }
    }
}

/// Records that a report listing patients (names, birth dates, contacts) was produced:
/// the list is a disclosure, audited as one read; `what` names the report and its scope.
pub fn disclosed<S: AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    what: &str,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    store.audit(&super::audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        what.to_string(),
    ))?;
    Ok(())
}

/// How a reminder/recall notice went out.
pub const NOTICE_METHODS: [&str; 4] = ["letter", "phone", "text", "email"];

/// `method` as recorded (lower case), refused unless it is one of [`NOTICE_METHODS`].
pub fn notice_method(method: &str) -> Result<String, UseCaseError> {
    let m = method.trim().to_lowercase();
    if NOTICE_METHODS.contains(&m.as_str()) {
        Ok(m)
    } else {
        Err(UseCaseError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "unknown notice method {m:?}; valid values: {}",
            NOTICE_METHODS.join(", ")
        ))))
    }
}

/// One child a notice was sent about, with the vaccine groups it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSent {
    pub patient: PatientId,
    pub vaccine_groups: Vec<String>,
}

/// Records that notices went out by `method` on `sent_on` for the children of a recall
/// list run over `scope` (a clinic PIN, a county or "state": see
/// `Cohort::recorded_scope`): `RecallNoticeRecord` (sending is a write the read-only
/// health departments may not do), a known method, the notices and one audit row in one
/// transaction. Returns how many were recorded.
pub fn record_notices<S: RecallStore + AuditStore + crate::traits::Atomic>(
    store: &S,
    actor: &Actor,
    method: &str,
    sent_on: NaiveDate,
    scope: &str,
    sent: &[NoticeSent],
    now: NaiveDateTime,
) -> Result<usize, UseCaseError> {
    super::actors::permit(
        store,
        actor,
        Action::RecallNoticeRecord,
        now,
        "record recall notices",
    )?;
    let method = notice_method(method)?;
    let notices: Vec<RecallNotice> = sent
        .iter()
        .map(|n| RecallNotice {
            patient: n.patient,
            sent_on,
            method: method.clone(),
            vaccine_groups: n.vaccine_groups.clone(),
            sent_by: actor.label(),
            scope: scope.to_string(),
        })
        .collect();
    let detail = format!(
        "{} {method} recall notices recorded for {scope}",
        notices.len()
    );
    super::audited(store, actor, None, AuditAction::Create, now, detail, |s| {
        s.record_recall_notices(&notices)
    })?;
    Ok(notices.len())
}

/// The DQA – Interface Activity report: messages received and their errors per facility
/// and day over a period (default: the 30 days up to `now`), for the facilities the actor
/// may see (`dqa_facility_visible`), optionally one clinic.
pub fn dqa<
    S: crate::interface::InterfaceStore + crate::InventoryStore + OrgStore + AuditStore + ?Sized,
>(
    store: &S,
    actor: &Actor,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    clinic: Option<&ClinicPin>,
    now: NaiveDateTime,
) -> Result<DqaReport, UseCaseError> {
    super::actors::permit(store, actor, Action::ReportDqa, now, "DQA report")?;
    let (from, to) = super::period(from, to, now.date(), |to| to - chrono::Days::new(30))?;
    let clinics = store.clinics()?;
    let keep = |f: &str| {
        dqa_facility_visible(actor, &clinics, f)
            && clinic.is_none_or(|w| w.as_str().eq_ignore_ascii_case(f))
    };
    let activity = store
        .interface_activity(from, to)?
        .into_iter()
        .filter(|r| keep(&r.facility))
        .collect();
    let errors = store
        .interface_error_counts(from, to)?
        .into_iter()
        .filter(|r| keep(&r.facility))
        .collect();
    // Doses the senders gave from lots their clinic could not draw from: every door that
    // takes HL7 messages (`ctwiz hl7 process` is the CLI's), not the web's dose form.
    let interfaces: Vec<crate::Interface> = crate::Interface::ALL
        .into_iter()
        .filter(|i| !matches!(i, crate::Interface::Web | crate::Interface::Portal))
        .collect();
    let inventory_exceptions = store
        .exception_counts(from, to, &interfaces)?
        .into_iter()
        .filter(|(c, _, _)| keep(c.as_str()))
        .collect();
    Ok(DqaReport {
        from,
        to,
        clinics,
        activity,
        errors,
        inventory_exceptions,
    })
}

/// [`dqa`]'s answer (with the registered clinics, for naming facilities).
#[derive(Debug, Clone)]
pub struct DqaReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub clinics: Vec<Clinic>,
    pub activity: Vec<crate::interface::ActivityRow>,
    pub errors: Vec<crate::interface::ErrorCodeRow>,
    /// Inventory exceptions raised by HL7 senders' doses: (facility, kind, count).
    pub inventory_exceptions: Vec<(ClinicPin, ctwiz_core::dose_stock::ExceptionKind, i64)>,
}

/// Real-time reporting over `from`..=`to` for the practices in the actor's report scope
/// (`ReportCoverage`: a clinic its own, a health department the clinics of its
/// jurisdiction, the state all). Names no patient.
pub fn realtime<
    S: OrgStore + AuditStore + PlaceStore + crate::reporting::ReportingStore + ?Sized,
>(
    store: &S,
    actor: &Actor,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    now: NaiveDateTime,
) -> Result<ctwiz_core::assessment::realtime::RealtimeReport, UseCaseError> {
    if to < from {
        return Err(UseCaseError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "the period cannot end ({to}) before it begins ({from})"
        ))));
    }
    let sc = scope(store, actor, Action::ReportCoverage, None, None, now)?;
    // Each clinic's place, looked up by PIN (a period holds many doses per practice).
    let place_of: std::collections::HashMap<ClinicPin, ctwiz_core::place::Locality> = store
        .clinics()?
        .into_iter()
        .map(|c| (c.pin, c.at))
        .collect();
    let keep = |pin: &ClinicPin| {
        sc.clinics.as_ref().is_none_or(|cs| cs.contains(pin))
            && sc.within.as_ref().is_none_or(|js| {
                place_of
                    .get(pin)
                    .is_some_and(|at| js.iter().any(|j| j.contains(at.location())))
            })
    };
    let doses = store
        .administered_doses(from, to)?
        .into_iter()
        .filter(|d| keep(&d.clinic));
    Ok(ctwiz_core::assessment::realtime::report(from, to, doses))
}
