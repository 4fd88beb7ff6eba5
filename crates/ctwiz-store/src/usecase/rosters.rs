//! School rosters: the students a school nurse follows. A roster belongs to the school the
//! nurse acts for; listing it discloses names and birth dates (audited as a read). A nurse
//! has no patient search: she adds a student by naming her exactly (names and birth date,
//! [`add_by_name`]), and then sees that student's record, and only rostered students'
//! (`Role::sees_only_rostered`). Additions and removals are audited on the student's
//! record.

use super::actors::permit;
use super::patients::audit_entry;
use super::{audited, UseCaseError};
use crate::traits::{Atomic, AuditAction, AuditStore, PatientStore};
use crate::web::WebStore;
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::CoreError;

/// One student on a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub id: PatientId,
    pub name: String,
    pub dob: NaiveDate,
}

/// The school whose roster this is: rosters are kept per school.
fn school(actor: &Actor) -> Result<ClinicPin, UseCaseError> {
    actor.clinic().cloned().ok_or_else(|| {
        UseCaseError::Invalid(CoreError::Rule(
            "rosters are kept per school: choose the school you are working for first".into(),
        ))
    })
}

/// The acting school's roster (`RosterView`), audited as a read.
pub fn list<S: WebStore + PatientStore + AuditStore>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Student>, UseCaseError> {
    permit(
        store,
        actor,
        Action::RosterView,
        now,
        "view the student roster",
    )?;
    let pin = school(actor)?;
    let mut out = Vec::new();
    for id in store.roster(&pin)? {
        if let Some(p) = store.patient(id)? {
            out.push(Student {
                id,
                name: p.name.display(),
                dob: p.dob,
            });
        }
    }
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("roster {pin} viewed"),
    ))?;
    Ok(out)
}

/// The one answer for "no single record to add", whatever the reason (none, several with
/// the same names and birth date, confidential, opted out, merged): a nurse learns nothing
/// about records she may not see.
pub const NO_SINGLE_MATCH: &str = "No single record has exactly this first name, last name and date of birth. Check the spelling and the date with the family, or ask the DPH help desk.";

/// Adds the student named exactly (`given`, `family`, `dob`, names compared as search keys)
/// to the acting school's roster (`RosterEdit` there). Exactly one record must match, and
/// it must be one a school may see (not confidential, not opted out, not merged);
/// otherwise [`NO_SINGLE_MATCH`], the same words for every reason, audited as a refused
/// search. Returns the student's record id.
pub fn add_by_name<S: WebStore + PatientStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    given: &str,
    family: &str,
    dob: NaiveDate,
    now: NaiveDateTime,
) -> Result<PatientId, UseCaseError> {
    let criteria = format!("roster add by exact name given={given:?} family={family:?} dob={dob}");
    permit(store, actor, Action::RosterEdit, now, &criteria)?;
    let pin = school(actor)?;
    let found: Vec<PatientId> = super::patients::named_exactly(store, given, family, dob)?
        .into_iter()
        .filter_map(|p| p.id)
        .collect();
    let [pid] = found[..] else {
        store.audit(&audit_entry(
            actor,
            None,
            AuditAction::Denied,
            now,
            format!("{criteria}: {} exact matches", found.len()),
        ))?;
        return Err(UseCaseError::Invalid(CoreError::Rule(
            NO_SINGLE_MATCH.into(),
        )));
    };
    if store.roster(&pin)?.contains(&pid) {
        return Ok(pid);
    }
    let detail = format!("added to roster {pin} by exact name and birth date");
    audited(
        store,
        actor,
        Some(pid),
        AuditAction::Create,
        now,
        detail,
        |s| s.add_to_roster(&pin, pid, &actor.label(), now),
    )?;
    Ok(pid)
}

/// Removes patient `pid` from the acting school's roster (`RosterEdit` there).
pub fn remove<S: WebStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    permit(
        store,
        actor,
        Action::RosterEdit,
        now,
        "remove from the student roster",
    )?;
    let pin = school(actor)?;
    if !store.roster(&pin)?.contains(&pid) {
        return Err(super::not_found("student on roster", pid));
    }
    let detail = format!("removed from roster {pin}");
    audited(
        store,
        actor,
        Some(pid),
        AuditAction::Delete,
        now,
        detail,
        |s| s.remove_from_roster(&pin, pid),
    )
}

/// One rostered student who is not up to date: what is past due, and what is excused.
#[derive(Debug, Clone)]
pub struct StudentStatus {
    pub student: Student,
    /// Vaccine groups past due on the report's date, with the dose due.
    pub missing: Vec<ctwiz_core::assessment::recall::DueGroup>,
    /// Groups not asked, with the reason (immunity, contraindication, exemption).
    pub excused: Vec<String>,
}

/// The school nurse's report (`ReportRosterStatus` at her school): each rostered student
/// with a vaccine group past due on `as_of` per the Recommender, and what is missing; the
/// students up to date are counted. Audited as a read of the roster.
pub fn not_up_to_date<S: WebStore + PatientStore + crate::traits::DoseStore + AuditStore>(
    store: &S,
    ctx: &ctwiz_core::assessment::coverage::Context<'_>,
    actor: &Actor,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<(Vec<StudentStatus>, usize), UseCaseError> {
    permit(
        store,
        actor,
        Action::ReportRosterStatus,
        now,
        "run the student roster report",
    )?;
    let pin = school(actor)?;
    let mut out = Vec::new();
    let mut up_to_date = 0;
    for id in store.roster(&pin)? {
        let Some(p) = store.patient(id)? else {
            continue;
        };
        let doses = store.doses(id)?;
        let observations = store.observations(id)?;
        let (missing, excused) =
            ctwiz_core::assessment::recall::not_up_to_date(ctx, &p, &doses, &observations, as_of);
        if missing.is_empty() {
            up_to_date += 1;
            continue;
        }
        out.push(StudentStatus {
            student: Student {
                id,
                name: p.name.display(),
                dob: p.dob,
            },
            missing,
            excused: excused
                .into_iter()
                .map(|(g, why)| format!("{g}: {why}"))
                .collect(),
        });
    }
    out.sort_by(|a, b| (&a.student.name, a.student.dob).cmp(&(&b.student.name, b.student.dob)));
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("roster {pin} report: students not up to date on {as_of}"),
    ))?;
    Ok((out, up_to_date))
}
