//! Use cases below the doors. Each takes an authenticated [`Actor`], asks the permission
//! matrix (`ctwiz_core::actor::authorize*`), applies the core rules, writes in one store
//! transaction and writes the audit row, in that order, so web, SOAP, MLLP, CLI and batch
//! import get the same answer and leave the same trail. Written against the store traits:
//! no SQL here.
//!
//! [`Actor`]: ctwiz_core::actor::Actor

pub mod actors;
pub mod agreements;
pub mod allocations;
pub mod audit;
pub mod certificates;
pub mod clinic_info;
pub mod dedup;
pub mod dedup_clusters;
pub mod dedup_scan;
pub mod distributions;
pub mod dose_stock;
pub mod doses;
pub mod inventory;
pub mod inventory_exceptions;
pub mod lot_usage;
pub mod maintenance;
pub mod notifications;
pub mod onboarding;
pub mod outreach;
pub mod patients;
pub mod places;
pub mod portal;
pub mod possible_matches;
pub mod releases;
pub mod reports;
pub mod rosters;
pub mod tasks;

use crate::StoreError;
use ctwiz_core::actor::Denied;
use ctwiz_core::dose::DoseError;
use ctwiz_core::ids::{LotNumber, PatientId};
use ctwiz_core::inventory::InventoryError;
use ctwiz_core::CoreError;

/// Why a use case refused or failed. Doors map each variant to their own answer (HTTP
/// status, HL7 ERR, exit code) without reading the text.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("no user named {0:?}")]
    UnknownUser(String),
    #[error("patient {id} was merged into patient {into}; open that record")]
    Merged { id: PatientId, into: PatientId },
    /// A stock rule refused the movement (nothing was written).
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A dose rule refused the entry or change (nothing was written).
    #[error(transparent)]
    Dose(#[from] DoseError),
    /// A reconciliation refused lot by lot; nothing was recorded.
    #[error("nothing was recorded: {}", .0.iter().map(|(lot, e)| format!("lot {lot}: {e}")).collect::<Vec<_>>().join("; "))]
    Reconcile(Vec<(LotNumber, InventoryError)>),
    /// Another domain rule refused the input (order status, dates, codes).
    #[error(transparent)]
    Invalid(CoreError),
    /// A portal visit that ended (15 minutes after verification, or "Done"), or whose
    /// record may no longer be shown there.
    #[error("This visit has ended or the record is not available here. Start again from the portal's first page.")]
    PortalClosed,
    #[error(transparent)]
    Store(StoreError),
}

impl From<CoreError> for UseCaseError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Inventory(e) => UseCaseError::Inventory(e),
            other => UseCaseError::Invalid(other),
        }
    }
}

/// Store errors that carry a domain refusal (the store re-checks core rules inside its
/// transaction) become that refusal.
impl From<StoreError> for UseCaseError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Core(c) => c.into(),
            StoreError::NotFound { what, id } => UseCaseError::NotFound { what, id },
            other => UseCaseError::Store(other),
        }
    }
}

/// A report period: `to` defaults to `today`, `from` to `default_from(to)`; a period that
/// starts after it ends is refused.
fn period(
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
    default_from: impl FnOnce(chrono::NaiveDate) -> chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), UseCaseError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| default_from(to));
    if from > to {
        return Err(UseCaseError::Invalid(CoreError::Rule(format!(
            "the period starts ({from}) after it ends ({to})"
        ))));
    }
    Ok((from, to))
}

fn not_found(what: &'static str, id: impl ToString) -> UseCaseError {
    UseCaseError::NotFound {
        what,
        id: id.to_string(),
    }
}

/// The audit row of `actor` doing `action` to patient `patient` (or to no patient), under
/// the actor's label, door and acting clinic.
pub fn audit_entry(
    actor: &ctwiz_core::actor::Actor,
    patient: Option<PatientId>,
    action: crate::AuditAction,
    now: chrono::NaiveDateTime,
    detail: String,
) -> crate::AuditEntry {
    crate::AuditEntry {
        at: now,
        actor: actor.label(),
        patient,
        action,
        interface: crate::Interface::of(actor.channel),
        clinic: actor.clinic().cloned(),
        detail,
    }
}

/// Runs `write` and the audit row of `actor` doing `action` to `patient` in one
/// transaction: a change and its trail land together or not at all.
pub(crate) fn audited<S, T>(
    store: &S,
    actor: &ctwiz_core::actor::Actor,
    patient: Option<PatientId>,
    action: crate::AuditAction,
    now: chrono::NaiveDateTime,
    detail: String,
    write: impl FnOnce(&S) -> crate::Result<T>,
) -> Result<T, UseCaseError>
where
    S: crate::AuditStore + crate::traits::Atomic,
{
    Ok(store.atomically(|s| {
        let t = write(s)?;
        s.audit(&audit_entry(actor, patient, action, now, detail))?;
        Ok(t)
    })?)
}

/// The matrix's `decision`, with a refusal first audited as [`crate::AuditAction::Denied`]
/// (`detail` says what was attempted), so every door leaves the same trail when refused.
pub(crate) fn audit_refusal<T, E, S>(
    store: &S,
    actor: &ctwiz_core::actor::Actor,
    patient: Option<PatientId>,
    now: chrono::NaiveDateTime,
    detail: impl FnOnce(&Denied) -> String,
    decision: Result<T, Denied>,
) -> Result<T, E>
where
    S: crate::AuditStore + ?Sized,
    E: From<Denied> + From<StoreError>,
{
    match decision {
        Ok(t) => Ok(t),
        Err(denied) => {
            let row = audit_entry(
                actor,
                patient,
                crate::AuditAction::Denied,
                now,
                detail(&denied),
            );
            store.audit(&row).map_err(E::from)?;
            Err(denied.into())
        }
    }
}
