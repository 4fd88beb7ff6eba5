//! Opening a patient's record: the one PHI read every door goes through.

use super::UseCaseError;
use crate::traits::{AuditAction, AuditEntry, Interface, Store};
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, PatientScope};
use ctwiz_core::actor::{authorize_on_patient, Actor, Authorized};
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;

/// Loads patient `id` for `action` (view, edit, record a dose, print): asks the matrix
/// with the record's county, reporting clinics and confidentiality, then refuses a merged
/// record (naming the survivor), and writes one audit row naming `purpose` (the page or
/// command that read it). Refusals are audited too ([`AuditAction::Denied`]).
pub fn open<'a, S: Store + ?Sized>(
    store: &S,
    actor: &'a Actor,
    id: PatientId,
    action: Action,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<(Authorized<'a>, Patient), UseCaseError> {
    let p = store.patient(id)?.ok_or_else(|| UseCaseError::NotFound {
        what: "patient",
        id: id.to_string(),
    })?;
    let clinics = store.patient_clinics(id)?;
    let scope = PatientScope {
        county: p.county(),
        clinics: &clinics,
        confidential: p.confidential,
    };
    let entry = |action: AuditAction, detail: String| AuditEntry {
        at: now,
        actor: actor.label(),
        patient: Some(id),
        action,
        interface: Interface::of(actor.channel),
        clinic: actor.clinic().cloned(),
        detail,
    };
    match authorize_on_patient(actor, scope, action) {
        Ok(proof) => {
            // Said only to those who may see the record: that it was merged is itself
            // a fact about the person.
            if let Some(into) = store.merged_into(id)? {
                return Err(UseCaseError::Merged { id, into });
            }
            // Opening a record, even to change it, is a disclosure: audited as a read
            // (a print as a print).
            let kind = if action == Action::CertificatePrint {
                AuditAction::Print
            } else {
                AuditAction::Read
            };
            store.audit(&entry(kind, purpose.to_string()))?;
            Ok((proof, p))
        }
        Err(denied) => {
            store.audit(&entry(AuditAction::Denied, format!("{purpose}: {denied}")))?;
            Err(denied.into())
        }
    }
}
