//! Whom a report covers: the acting scope and the permission matrix decide, for every
//! door. A clinic or county the actor may not see is refused, never silently widened or
//! narrowed.

use super::UseCaseError;
use crate::traits::{AuditAction, AuditStore, OrgStore, RecallNotice, RecallStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{can, Action, Target};
use ctwiz_core::actor::{authorize, authorize_at, Acting, Actor, Denied};
use ctwiz_core::ids::{ClinicPin, PatientId};
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
/// an optional clinic and county the actor asked for. A refusal is audited as `Denied`.
pub fn scope<S: OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    action: Action,
    wanted_clinic: Option<ClinicPin>,
    wanted_county: Option<County>,
    now: NaiveDateTime,
) -> Result<ReportScope, UseCaseError> {
    let asked = format!(
        "{} for clinic {} county {}",
        action.label(),
        wanted_clinic.as_ref().map(|c| c.as_str()).unwrap_or("-"),
        wanted_county
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    let decided = decide_scope(store, actor, action, wanted_clinic, wanted_county);
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
pub fn realtime<S: OrgStore + AuditStore + crate::reporting::ReportingStore + ?Sized>(
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
    // Each clinic's county, looked up by PIN (a period holds many doses per practice).
    let county_of: std::collections::HashMap<ClinicPin, County> = store
        .clinics()?
        .into_iter()
        .map(|c| (c.pin, c.county))
        .collect();
    let keep = |pin: &ClinicPin| {
        sc.clinics.as_ref().is_none_or(|cs| cs.contains(pin))
            && sc
                .counties
                .as_ref()
                .is_none_or(|cs| county_of.get(pin).is_some_and(|c| cs.contains(c)))
    };
    let doses = store
        .administered_doses(from, to)?
        .into_iter()
        .filter(|d| keep(&d.clinic));
    Ok(ctwiz_core::assessment::realtime::report(from, to, doses))
}
