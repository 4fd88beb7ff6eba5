//! Opening a patient's record: the one PHI read every door goes through.

use super::UseCaseError;
use crate::traits::{AuditAction, AuditEntry, AuditStore, Interface, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, PatientScope};
use ctwiz_core::actor::{authorize_on_patient, Actor, Authorized};
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;

/// The audit row of `actor` doing `action` to patient `id` (or to no patient).
pub fn audit_entry(
    actor: &Actor,
    patient: Option<PatientId>,
    action: AuditAction,
    now: NaiveDateTime,
    detail: String,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: actor.label(),
        patient,
        action,
        interface: Interface::of(actor.channel),
        clinic: actor.clinic().cloned(),
        detail,
    }
}

/// Loads patient `id` and asks the matrix for `action` on it (the record's county,
/// reporting clinics and confidentiality); refuses a merged record, naming the survivor.
/// Writes no audit row: for changes, whose own row says what changed.
pub fn authorize<'a, S: PatientStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    id: PatientId,
    action: Action,
) -> Result<(Authorized<'a>, Patient), UseCaseError> {
    let p = store
        .patient(id)?
        .ok_or_else(|| super::not_found("patient", id))?;
    if let Some(into) = store.merged_into(id)? {
        return Err(UseCaseError::Merged { id, into });
    }
    let clinics = store.patient_clinics(id)?;
    let scope = PatientScope {
        county: p.county(),
        clinics: &clinics,
        confidential: p.confidential,
    };
    let proof = authorize_on_patient(actor, scope, action)?;
    Ok((proof, p))
}

/// Loads patient `id` for `action` (view, edit, record a dose, print) and writes one
/// audit row naming `purpose` (the page or command that read it): opening a record,
/// even to change it, is a disclosure.
pub fn open<'a, S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    id: PatientId,
    action: Action,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<(Authorized<'a>, Patient), UseCaseError> {
    let opened = authorize(store, actor, id, action)?;
    store.audit(&audit_entry(
        actor,
        Some(id),
        AuditAction::Read,
        now,
        purpose.to_string(),
    ))?;
    Ok(opened)
}
