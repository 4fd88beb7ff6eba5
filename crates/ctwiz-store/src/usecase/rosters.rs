//! School rosters: the students a school nurse follows. A roster belongs to the school the
//! nurse acts for; listing it discloses names and birth dates (audited as a read); a
//! student is added only when the nurse may view that record; additions and removals are
//! audited on the student's record.

use super::actors::permit;
use super::patients::{audit_entry, authorize};
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

/// Adds patient `pid` to the acting school's roster: `RosterEdit` there and `PatientView`
/// on the student's record.
pub fn add<S: WebStore + PatientStore + AuditStore + Atomic>(
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
        "add to the student roster",
    )?;
    let pin = school(actor)?;
    authorize(store, actor, pid, Action::PatientView, now, "add to roster")?;
    let detail = format!("added to roster {pin}");
    audited(
        store,
        actor,
        Some(pid),
        AuditAction::Create,
        now,
        detail,
        |s| s.add_to_roster(&pin, pid, &actor.label(), now),
    )
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
