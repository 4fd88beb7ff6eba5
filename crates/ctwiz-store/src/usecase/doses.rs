//! Recording, correcting and deleting doses, for every door.
//!
//! Recording needs `DoseRecord` on the patient (`ctwiz_core::actor::authorize_on_patient`)
//! and refuses a repeat of a live dose (same CVX on the same date,
//! `ctwiz_core::dose::check_not_recorded`). Correcting or deleting also needs to be the
//! dose's reporting clinic or the state (`ctwiz_core::dose::may_change`). The change and
//! its audit row are written in one transaction.

use super::patients::{audit_entry, authorize, open};
use super::{dose_stock, not_found, UseCaseError};
use crate::traits::{Atomic, AuditAction, AuditStore, DoseStore, InventoryStore, PatientStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::{Acting, Actor};
use ctwiz_core::dose::{check_not_recorded, may_change, Dose, DoseError};
use ctwiz_core::dose_stock::DeletedVaccine;
use ctwiz_core::ids::{Cvx, DoseId, LotNumber, PatientId};
use ctwiz_core::patient::Patient;

/// Records `dose` for patient `pid`; with `lot_id`, draws one dose from that lot of the
/// actor's clinic (the stock rules may refuse). Without it, an administered dose from the
/// clinic's stock draws from the lot it names or becomes an inventory exception
/// (`usecase::dose_stock::record`). `what` names the entry in the audit row
/// ("administered", "historical", "refusal").
pub fn record<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    dose: &Dose,
    lot_id: Option<i64>,
    what: &str,
    now: NaiveDateTime,
) -> Result<DoseId, UseCaseError>
where
    S: PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    let (_, p) = authorize(store, actor, pid, Action::DoseRecord, now, what)?;
    dose.validate(p.dob, now.date())?;
    if let Some(lid) = lot_id {
        // Only the acting clinic's own stock may be drawn from, and only for its vaccine.
        let held = store
            .lot(lid)?
            .filter(|l| Some(&l.lot.clinic) == actor.clinic())
            .ok_or_else(|| not_found("lot", format!("{lid} of the acting clinic")))?;
        if held.lot.cvx != dose.cvx {
            return Err(crate::StoreError::Conflict(format!(
                "lot {} holds CVX {}, but the dose is CVX {}",
                held.lot.lot_number, held.lot.cvx, dose.cvx
            ))
            .into());
        }
        ctwiz_core::dose_stock::check_lot_serves(&held.lot, p.dob, dose.date)?;
    }
    let detail = format!("{what} dose CVX {} on {}", dose.cvx, dose.date);
    let by = actor.label();
    Ok(store.atomically(|s| {
        // Checked inside the transaction so two identical entries cannot both land.
        if let Err(e) = check_not_recorded(&s.doses(pid)?, dose) {
            return Ok(Err(e));
        }
        let id = s.add_dose(pid, dose)?;
        let mut stored = dose.clone();
        stored.id = Some(id);
        dose_stock::record(s, &stored, lot_id, change(actor, &by, now))?;
        s.audit(&audit_entry(
            actor,
            Some(pid),
            AuditAction::Create,
            now,
            detail,
        ))?;
        Ok(Ok(id))
    })??)
}

/// The stock trail of a dose change by `actor`.
fn change<'a>(actor: &Actor, by: &'a str, at: NaiveDateTime) -> dose_stock::Change<'a> {
    dose_stock::Change {
        by,
        interface: crate::Interface::of(actor.channel),
        at,
    }
}

/// A live dose of the patient that the actor may change: the reporting clinic or the
/// state.
fn changeable<S: DoseStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    did: DoseId,
) -> Result<(Dose, Vec<Dose>), UseCaseError> {
    let live = store.doses(pid)?;
    let d = live
        .iter()
        .find(|d| d.id == Some(did))
        .cloned()
        .ok_or_else(|| not_found("dose", did.0))?;
    if !may_change(actor.clinic(), actor.acting == Acting::State, &d) {
        return Err(DoseError::NotReportingClinic {
            dose: did,
            reporter: d.clinic.clone(),
        }
        .into());
    }
    Ok((d, live))
}

/// Opens dose `did` of patient `pid` for correction (the dose edit page): allowed only
/// to whoever may change it, and audited as a read of the record.
pub fn open_for_change<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    did: DoseId,
    now: NaiveDateTime,
) -> Result<(Patient, Dose), UseCaseError>
where
    S: PatientStore + DoseStore + AuditStore,
{
    authorize(store, actor, pid, Action::DoseRecord, now, "dose edit page")?;
    let (d, _) = changeable(store, actor, pid, did)?;
    let (_, p) = open(
        store,
        actor,
        pid,
        Action::DoseRecord,
        now,
        &format!("dose {} edit page viewed", did.0),
    )?;
    Ok((p, d))
}

/// What a correction changes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub date: NaiveDate,
    pub lot: Option<LotNumber>,
    /// The vaccine given, when it was recorded wrongly (`None` keeps it).
    pub cvx: Option<Cvx>,
    pub reason: String,
}

fn reason_given(reason: &str) -> Result<&str, UseCaseError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(UseCaseError::Invalid(ctwiz_core::CoreError::Empty {
            field: "reason",
        }));
    }
    Ok(r)
}

/// Corrects the date, lot or vaccine of dose `did`; a new lot or vaccine moves its draw
/// from stock (`usecase::dose_stock::correct`). Returns the dose as stored.
pub fn correct<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    did: DoseId,
    c: &Correction,
    now: NaiveDateTime,
) -> Result<Dose, UseCaseError>
where
    S: PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    let (_, p) = authorize(
        store,
        actor,
        pid,
        Action::DoseRecord,
        now,
        "dose correction",
    )?;
    let (before, live) = changeable(store, actor, pid, did)?;
    let reason = reason_given(&c.reason)?;
    let mut after = before.clone();
    after.date = c.date;
    after.lot = c.lot.clone();
    if let Some(cvx) = &c.cvx {
        after.cvx = cvx.clone();
    }
    after.validate(p.dob, now.date())?;
    check_not_recorded(&live, &after)?;
    let detail = format!(
        "dose {} corrected ({reason}): date {} -> {}, lot {:?} -> {:?}, CVX {} -> {}",
        did.0,
        before.date,
        after.date,
        before.lot.as_ref().map(|l| l.to_string()),
        after.lot.as_ref().map(|l| l.to_string()),
        before.cvx,
        after.cvx
    );
    let by = actor.label();
    store.atomically(|s| {
        s.update_dose(&after)?;
        dose_stock::correct(s, &before, &after, reason, change(actor, &by, now))?;
        s.audit(&audit_entry(
            actor,
            Some(pid),
            AuditAction::Update,
            now,
            detail,
        ))
    })?;
    Ok(after)
}

/// Deletes dose `did` (kept, marked deleted, for audit) with the reason; what it drew
/// from stock goes back to the lot (`DeletedVaccine::BackToStock`).
pub fn delete<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    did: DoseId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    delete_as(
        store,
        actor,
        pid,
        did,
        reason,
        DeletedVaccine::BackToStock,
        now,
    )
}

/// Deletes dose `did` with the reason, saying what became of the vaccine: back to stock,
/// or drawn up and lost (wastage) (`usecase::dose_stock::delete`).
pub fn delete_as<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    did: DoseId,
    reason: &str,
    vaccine: DeletedVaccine,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    authorize(store, actor, pid, Action::DoseRecord, now, "dose deletion")?;
    let (d, _) = changeable(store, actor, pid, did)?;
    let reason = reason_given(reason)?;
    let detail = format!(
        "dose {} CVX {} on {} deleted ({}): {reason}",
        did.0,
        d.cvx,
        d.date,
        vaccine.key()
    );
    let by = actor.label();
    store.atomically(|s| {
        s.delete_dose(did, reason)?;
        dose_stock::delete(s, &d, reason, vaccine, change(actor, &by, now))?;
        s.audit(&audit_entry(
            actor,
            Some(pid),
            AuditAction::Delete,
            now,
            detail,
        ))
    })?;
    Ok(())
}

/// Records observation `o` (immunity, contraindication, condition) for patient `pid`:
/// `DoseRecord` on the patient, dated between birth and today, the observation and its
/// audit row in one transaction.
pub fn add_observation<S>(
    store: &S,
    actor: &Actor,
    pid: PatientId,
    o: &ctwiz_core::dose::Observation,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: PatientStore + DoseStore + AuditStore + Atomic,
{
    let (_, p) = authorize(
        store,
        actor,
        pid,
        Action::DoseRecord,
        now,
        "add observation",
    )?;
    o.validate(p.dob, now.date())?;
    let detail = format!("observation {:?} {}", o.kind, o.code);
    super::audited(
        store,
        actor,
        Some(pid),
        AuditAction::Create,
        now,
        detail,
        |s| s.add_observation(pid, o),
    )
}
