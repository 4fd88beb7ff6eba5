//! Inventory exceptions, for every door: administered doses from a clinic whose lot it
//! could not draw from (unknown lot, another clinic's lot, no stock left, expired lot;
//! raised by `usecase::dose_stock::record`). The clinic's coordinator sees them
//! (`InventoryView` at the clinic) and settles each one (`InventoryEdit`): link it to the
//! lot it really came from (one dose is drawn from that lot for the record), or record
//! why it was not from the clinic's stock. Each settlement writes its audit row in the
//! same transaction.

use super::inventory::{clinic, clinic_for};
use super::{not_found, UseCaseError};
use crate::traits::{
    Atomic, AuditAction, AuditStore, DoseStore, ExceptionResolution, InventoryException,
    InventoryStore, OrgStore,
};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::{authorize_at, Actor};
use ctwiz_core::ids::{ClinicPin, DoseId};
use ctwiz_core::inventory::Movement;

/// Exceptions of clinic `pin` (open ones only, or all), newest first, after the matrix
/// allowed `InventoryView` there. Each names a dose record and its patient, so the view
/// is audited.
pub fn list<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    open_only: bool,
    now: NaiveDateTime,
) -> Result<Vec<InventoryException>, UseCaseError> {
    clinic_for(store, actor, pin, Action::InventoryView, now)?;
    let rows = store.exceptions(Some(pin), open_only)?;
    store.audit(&super::audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("inventory exceptions of {pin} viewed ({} rows)", rows.len()),
    ))?;
    Ok(rows)
}

/// Open exceptions the actor may settle (`InventoryEdit` at their clinics), for the Task
/// Module: counts only, no patient named.
pub fn open_count<S: InventoryStore + OrgStore + ?Sized>(
    store: &S,
    actor: &Actor,
) -> Result<usize, UseCaseError> {
    let Some(pin) = actor.clinic() else {
        return Ok(0);
    };
    let c = clinic(store, pin)?;
    let at = c.target();
    if authorize_at(actor, at, Action::InventoryEdit).is_err() {
        return Ok(0);
    }
    Ok(store.exceptions(Some(pin), true)?.len())
}

/// How a coordinator settles an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// The dose came from lot `lot_id` of the clinic: one dose is drawn from it.
    Link { lot_id: i64 },
    /// The dose was not from the clinic's stock (e.g. brought by the patient, another
    /// clinic's vaccine given on site), with the reason.
    NotFromStock { why: String },
}

/// Settles open exception `id` (`InventoryEdit` at its clinic). Linking draws one dose
/// from the lot, which must be the clinic's, of the dose's vaccine, with a dose left; an
/// expired lot may be named (the dose was given from it; the record shows the date).
pub fn settle<S>(
    store: &S,
    actor: &Actor,
    id: i64,
    how: &Settle,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: InventoryStore + DoseStore + OrgStore + AuditStore + Atomic,
{
    let e = store
        .exception(id)?
        .ok_or_else(|| not_found("inventory exception", id))?;
    clinic_for(store, actor, &e.clinic, Action::InventoryEdit, now)?;
    let by = actor.label();
    let (resolution, detail) = match how {
        Settle::Link { lot_id } => {
            let stock = store
                .lot(*lot_id)?
                .filter(|l| l.lot.clinic == e.clinic)
                .ok_or_else(|| not_found("lot", format!("{lot_id} at {}", e.clinic)))?;
            if stock.lot.cvx != e.cvx {
                return Err(crate::StoreError::Conflict(format!(
                    "lot {} holds CVX {}, but the dose is CVX {}",
                    stock.lot.lot_number, stock.lot.cvx, e.cvx
                ))
                .into());
            }
            (
                ExceptionResolution::Linked { lot_id: *lot_id },
                format!(
                    "inventory exception {id} (dose {}) linked to lot {}",
                    e.dose.0, stock.lot.lot_number
                ),
            )
        }
        Settle::NotFromStock { why } => {
            let why = why.trim();
            if why.is_empty() {
                return Err(UseCaseError::Invalid(ctwiz_core::CoreError::Empty {
                    field: "reason the dose was not from stock",
                }));
            }
            (
                ExceptionResolution::NotFromStock {
                    why: why.to_string(),
                },
                format!(
                    "inventory exception {id} (dose {}) not from stock: {why}",
                    e.dose.0
                ),
            )
        }
    };
    super::audited(
        store,
        actor,
        Some(e.patient),
        AuditAction::Update,
        now,
        detail,
        |s| {
            if let ExceptionResolution::Linked { lot_id } = resolution {
                let stock = s.lot(lot_id)?.ok_or_else(|| crate::StoreError::NotFound {
                    what: "lot",
                    id: lot_id.to_string(),
                })?;
                // The coordinator says the dose came from this lot: judge expiry on the
                // last day it was usable, so an expired lot given from can be named.
                let on = e.dose_date.min(stock.lot.expiration);
                s.record_dose_movement(
                    lot_id,
                    DoseId(e.dose.0),
                    &Movement::Administer { doses: 1 },
                    on,
                    &by,
                    now,
                )?;
            }
            s.resolve_exception(id, &resolution, &by, now)
        },
    )
}
