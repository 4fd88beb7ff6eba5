//! Releases of information: the signed authorizations under which a record (or part of
//! it) was given to someone (a school, a new provider, a camp). Recording one takes the
//! right to print the official record (`CertificatePrint`) on that record; listing them
//! takes `PatientView`. Both are audited.

use super::{audited, patients, UseCaseError};
use crate::portal::{NewRelease, PortalStore, Release};
use crate::traits::{Atomic, AuditAction, AuditStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::PatientId;
use ctwiz_core::CoreError;

/// Longest text kept in a release's fields.
const MAX_FIELD: usize = 200;

fn checked(r: &NewRelease, today: chrono::NaiveDate) -> Result<NewRelease, UseCaseError> {
    let field = |name: &'static str, v: &str| -> Result<String, UseCaseError> {
        let v = v.trim();
        if v.is_empty() {
            return Err(UseCaseError::Invalid(CoreError::Rule(format!(
                "a release of information needs {name}"
            ))));
        }
        if v.chars().count() > MAX_FIELD {
            return Err(UseCaseError::Invalid(CoreError::Rule(format!(
                "{name} is longer than {MAX_FIELD} characters"
            ))));
        }
        Ok(v.to_string())
    };
    if r.signed_on > today {
        return Err(UseCaseError::Invalid(CoreError::Rule(format!(
            "the authorization's date {} is in the future",
            r.signed_on
        ))));
    }
    Ok(NewRelease {
        signed_by: field("the name of the person who signed", &r.signed_by)?,
        relationship: field("the signer's relationship to the patient", &r.relationship)?,
        released_to: field("who receives the information", &r.released_to)?,
        information: field("what information is released", &r.information)?,
        signed_on: r.signed_on,
    })
}

/// Records release `r` on record `patient` for `actor`; the release and its audit row
/// land together. Returns the release's id.
pub fn record<S>(
    store: &S,
    actor: &Actor,
    patient: PatientId,
    r: &NewRelease,
    now: NaiveDateTime,
) -> Result<i64, UseCaseError>
where
    S: PatientStore + PortalStore + AuditStore + Atomic,
{
    let r = checked(r, now.date())?;
    patients::authorize(
        store,
        actor,
        patient,
        Action::CertificatePrint,
        now,
        "record a release of information",
    )?;
    let detail = format!(
        "release of information to {:?} ({}), signed by {} ({}) on {}",
        r.released_to, r.information, r.signed_by, r.relationship, r.signed_on
    );
    audited(
        store,
        actor,
        Some(patient),
        AuditAction::Create,
        now,
        detail,
        |s| s.add_release(patient, &r, &actor.label(), now),
    )
}

/// The record's past releases, newest first (`PatientView`; audited as a read).
pub fn list<S>(
    store: &S,
    actor: &Actor,
    patient: PatientId,
    now: NaiveDateTime,
) -> Result<Vec<Release>, UseCaseError>
where
    S: PatientStore + PortalStore + AuditStore + ?Sized,
{
    patients::open(
        store,
        actor,
        patient,
        Action::PatientView,
        now,
        "releases of information listed",
    )?;
    Ok(store.releases(patient)?)
}
