//! Allocations of scarce vaccine: the state (order approvers) sets how many doses of a
//! vaccine a clinic may order in a period; every door's order is checked against them
//! (`check_order`, called by `inventory::create_order`).

use super::actors::permit;
use super::inventory::{clinic, permit_at};
use super::{audit_entry, UseCaseError};
use crate::allocations::AllocationStore;
use crate::traits::{AuditAction, AuditStore, InventoryStore, OrgStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::allocation::Allocation;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Cvx};

/// Sets clinic `pin`'s allocation of `cvx` for `first`..=`last` (replacing one that
/// starts the same day). Needs `OrderApprove` at the clinic; audited.
#[allow(clippy::too_many_arguments)]
pub fn set<S: AllocationStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    codes: &CodeSets,
    pin: &ClinicPin,
    cvx: Cvx,
    (first, last): (NaiveDate, NaiveDate),
    doses: i64,
    now: NaiveDateTime,
) -> Result<Allocation, UseCaseError> {
    let c = clinic(store, pin)?;
    permit_at(store, actor, &c, Action::OrderApprove, now)?;
    ctwiz_core::inventory::known_vaccine(codes, &cvx)?;
    let a = Allocation::new(c.pin.clone(), cvx, first, last, doses)?;
    store.set_allocation(&a, &actor.label(), now)?;
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Update,
        now,
        format!(
            "allocation of CVX {} to {} from {first} to {last}: {doses} doses",
            a.cvx, a.clinic
        ),
    ))?;
    Ok(a)
}

/// Allocations the actor may see: a clinic's own where it acts (inventory view), every
/// clinic's for order approvers statewide.
pub fn list<S: AllocationStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Allocation>, UseCaseError> {
    match actor.clinic() {
        Some(pin) => {
            permit(
                store,
                actor,
                Action::InventoryView,
                now,
                "vaccine allocations",
            )?;
            Ok(store.allocations(Some(pin))?)
        }
        None => {
            permit(
                store,
                actor,
                Action::OrderApprove,
                now,
                "vaccine allocations",
            )?;
            Ok(store.allocations(None)?)
        }
    }
}

/// Refuses a new `order` that goes beyond an allocation of its clinic covering the day
/// it is placed, naming what remains.
pub fn check_order<S: AllocationStore + InventoryStore + ?Sized>(
    store: &S,
    order: &ctwiz_core::ordering::VaccineOrder,
) -> Result<(), UseCaseError> {
    let allocations: Vec<Allocation> = store
        .allocations(Some(&order.clinic))?
        .into_iter()
        .filter(|a| a.covers(order.created_on))
        .collect();
    if allocations.is_empty() {
        return Ok(());
    }
    let orders = store.orders(Some(&order.clinic), None)?;
    for line in &order.lines {
        for a in allocations.iter().filter(|a| a.cvx == line.cvx) {
            a.check(&orders, line.requested)?;
        }
    }
    Ok(())
}
