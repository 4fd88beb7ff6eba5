//! The lot usage report, for every door (web `/inventory/lot-usage`, `ctwiz report
//! lot-usage`): per lot, doses received, transferred, returned, wasted and adjusted, the
//! doses drawn for dose records against the dose records given from the lot, and the
//! difference with the records behind it (`ctwiz_core::lot_usage`). Scope as the movement
//! report: `InventoryView` at each clinic (a clinic user: their acting clinic), the period
//! defaulting to the three months up to today. The report names dose records and
//! patients, so reading it is audited.

use super::inventory::clinic_for;
use super::UseCaseError;
use crate::traits::{AuditAction, AuditStore, InventoryException, InventoryStore, OrgStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::lot_usage::{lot_usage, LotUsage};

/// [`report`]'s answer.
#[derive(Debug, Clone)]
pub struct LotUsageReport {
    pub clinic: ClinicPin,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub lots: Vec<LotUsage>,
    /// The clinic's open inventory exceptions (doses given but not drawn).
    pub open_exceptions: Vec<InventoryException>,
}

impl LotUsageReport {
    /// Lots whose difference is not zero.
    pub fn differing(&self) -> impl Iterator<Item = &LotUsage> {
        self.lots.iter().filter(|l| l.difference != 0)
    }
}

/// The lot usage report of clinic `pin` over `from..=to`.
pub fn report<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: NaiveDateTime,
) -> Result<LotUsageReport, UseCaseError> {
    clinic_for(store, actor, pin, Action::InventoryView, now)?;
    let (from, to) = super::period(from, to, now.date(), |to| {
        to.checked_sub_months(chrono::Months::new(3)).unwrap_or(to)
    })?;
    let data = store.lot_usage_data(Some(pin))?;
    let lots = lot_usage(&data.lots, &data.movements, &data.records, from, to);
    let open_exceptions = store.exceptions(Some(pin), true)?;
    store.audit(&super::audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("lot usage report of {pin} for {from} to {to}"),
    ))?;
    Ok(LotUsageReport {
        clinic: pin.clone(),
        from,
        to,
        lots,
        open_exceptions,
    })
}
