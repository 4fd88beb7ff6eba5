//! Vaccine inventory and public vaccine orders, for every door.
//!
//! Each function asks the matrix at the clinic that holds the stock (or the order),
//! checks the core rules (`ctwiz_core::inventory`, `ctwiz_core::ordering`) and writes
//! through the store, whose transactions re-check stock against the same rules. Every
//! inventory transaction records the actor's label as who moved the stock.

use super::{audit_refusal, not_found, UseCaseError};
use crate::traits::{Atomic, AuditStore, InventoryStore, OrgStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::{authorize_at, Actor, Authorized};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Cvx};
use ctwiz_core::inventory::{
    apply, check_arrival, check_count_is_current, check_transfer, known_vaccine, Lot, Movement,
    WastageReason,
};
use ctwiz_core::ordering::VaccineOrder;
use ctwiz_core::org::Clinic;
use ctwiz_core::program::Program;

/// The registered clinic `pin`.
pub fn clinic<S: OrgStore + ?Sized>(store: &S, pin: &ClinicPin) -> Result<Clinic, UseCaseError> {
    store.clinic(pin)?.ok_or_else(|| not_found("clinic", pin))
}

/// `action` at clinic `c`, for `actor`.
pub fn authorize_at_clinic<'a>(
    actor: &'a Actor,
    c: &Clinic,
    action: Action,
) -> Result<Authorized<'a>, UseCaseError> {
    let target = c.target();
    Ok(authorize_at(actor, target, action)?)
}

/// `action` at clinic `c`, with a refusal audited as `Denied` (naming `what` and the
/// clinic), the same for every door.
pub(crate) fn permit_at<S: AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    c: &Clinic,
    action: Action,
    at: NaiveDateTime,
) -> Result<(), UseCaseError> {
    let target = c.target();
    audit_refusal::<_, UseCaseError, _>(
        store,
        actor,
        None,
        at,
        |d| format!("{} at {}: {d}", action.label(), c.pin),
        authorize_at(actor, target, action),
    )?;
    Ok(())
}

/// Clinic `pin`, after the matrix allowed `action` there: doors ask this before reading
/// a form, so a refused user learns nothing about their input.
pub fn clinic_for<S: OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    action: Action,
    at: NaiveDateTime,
) -> Result<Clinic, UseCaseError> {
    let c = clinic(store, pin)?;
    permit_at(store, actor, &c, action, at)?;
    Ok(c)
}

/// The clinic an inventory screen is about: a clinic user's acting clinic (another `pin`
/// is refused); for health-department and state users the `pin` they picked, or `None`
/// when they have not picked one yet (the screen shows a picker). `action` is asked
/// there; refusals are audited.
pub fn screen_clinic<S: OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: Option<&ClinicPin>,
    action: Action,
    at: NaiveDateTime,
) -> Result<Option<Clinic>, UseCaseError> {
    super::actors::permit(store, actor, action, at, action.label())?;
    match (actor.clinic(), pin) {
        (Some(own), Some(p)) if own != p => {
            let c = clinic(store, p)?;
            permit_at(store, actor, &c, action, at)?;
            Ok(Some(c))
        }
        (Some(own), _) => Ok(Some(clinic(store, own)?)),
        (None, None) => Ok(None),
        (None, Some(p)) => clinic_for(store, actor, p, action, at).map(Some),
    }
}

/// A lot with the clinic that holds it, after the matrix allowed `action` there.
fn lot_at<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    lot_id: i64,
    action: Action,
    at: NaiveDateTime,
) -> Result<(Lot, i64, Clinic), UseCaseError> {
    let stock = store.lot(lot_id)?.ok_or_else(|| not_found("lot", lot_id))?;
    let c = clinic(store, &stock.lot.clinic)?;
    permit_at(store, actor, &c, action, at)?;
    Ok((stock.lot, stock.on_hand, c))
}

/// Receives `doses` of `lot` at its clinic (into the clinic's lot with that number and
/// funding if held, else a new lot). Returns the lot id and the new quantity.
pub fn receive<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    codes: &CodeSets,
    lot: &Lot,
    doses: i64,
    at: NaiveDateTime,
) -> Result<(i64, i64), UseCaseError> {
    let c = clinic_for(store, actor, &lot.clinic, Action::InventoryEdit, at)?;
    check_arrival(lot, &c, codes, at.date())?;
    Ok(store.receive_into_lot(lot, doses, &actor.label(), at)?)
}

/// Moves `doses` of lot `lot_id` to clinic `to`. Returns the destination lot id.
pub fn transfer<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    codes: &CodeSets,
    lot_id: i64,
    to: &ClinicPin,
    doses: i64,
    at: NaiveDateTime,
) -> Result<i64, UseCaseError> {
    let (lot, _, _) = lot_at(store, actor, lot_id, Action::InventoryEdit, at)?;
    let dest = clinic(store, to)?;
    check_transfer(&lot, &dest, codes, at.date())?;
    Ok(store.transfer(lot_id, to, doses, &actor.label(), at)?)
}

/// Whether doses left the clinic as waste or went back to the distributor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposal {
    Waste,
    Return,
}

/// Records wasted or returned doses of lot `lot_id` (expired stock included). Returns
/// the new quantity.
pub fn dispose<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    lot_id: i64,
    how: Disposal,
    doses: i64,
    reason: WastageReason,
    at: NaiveDateTime,
) -> Result<i64, UseCaseError> {
    lot_at(store, actor, lot_id, Action::InventoryEdit, at)?;
    let m = match how {
        Disposal::Waste => Movement::Waste { doses, reason },
        Disposal::Return => Movement::Return { doses, reason },
    };
    Ok(store.record_movement(lot_id, &m, &actor.label(), at)?)
}

/// One lot's physical count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub lot_id: i64,
    pub counted: i64,
    /// The computed quantity the counter saw (a screen); a count against a quantity
    /// that changed since is refused.
    pub seen: Option<i64>,
    pub reason: Option<String>,
}

/// Records the counts of lots of one clinic, all or none: every count is checked first
/// and a refusal lists every lot's problem. Returns how many lots were reconciled.
pub fn reconcile<S: InventoryStore + OrgStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    clinic_pin: &ClinicPin,
    counts: &[Count],
    at: NaiveDateTime,
) -> Result<usize, UseCaseError> {
    clinic_for(store, actor, clinic_pin, Action::InventoryEdit, at)?;
    let by = actor.label();
    store
        .atomically(|s| {
            let mut moves = Vec::with_capacity(counts.len());
            let mut problems = Vec::new();
            for n in counts {
                let stock = s
                    .lot(n.lot_id)?
                    .filter(|l| &l.lot.clinic == clinic_pin)
                    .ok_or_else(|| crate::StoreError::NotFound {
                        what: "lot",
                        id: format!("{} at {clinic_pin}", n.lot_id),
                    })?;
                let m = Movement::Reconcile {
                    counted: n.counted,
                    computed: stock.on_hand,
                    reason: n.reason.clone(),
                };
                let checked = check_count_is_current(&stock.lot, n.seen, stock.on_hand)
                    .and_then(|()| apply(&stock.lot, stock.on_hand, &m, at.date()));
                match checked {
                    Ok(_) => moves.push((n.lot_id, m)),
                    Err(e) => problems.push((stock.lot.lot_number.clone(), e)),
                }
            }
            if !problems.is_empty() {
                return Ok(Err(UseCaseError::Reconcile(problems)));
            }
            for (id, m) in &moves {
                s.record_movement(*id, m, &by, at)?;
            }
            Ok(Ok(moves.len()))
        })
        .map_err(UseCaseError::from)?
}

/// A new order of `program`'s vaccine for clinic `clinic_pin`, pending state approval:
/// the clinic must be enrolled in the program and hold its current agreement. Returns its
/// id.
pub fn create_order<
    S: InventoryStore
        + OrgStore
        + AuditStore
        + crate::agreements::AgreementStore
        + crate::allocations::AllocationStore
        + Atomic,
>(
    store: &S,
    actor: &Actor,
    codes: &CodeSets,
    clinic_pin: &ClinicPin,
    program: Program,
    lines: Vec<(Cvx, i64)>,
    at: NaiveDateTime,
) -> Result<i64, UseCaseError> {
    let c = clinic_for(store, actor, clinic_pin, Action::OrderCreate, at)?;
    for (cvx, _) in &lines {
        known_vaccine(codes, cvx)?;
    }
    let order = VaccineOrder::new(&c, program, &actor.label(), at.date(), lines)?;
    super::agreements::may_order(store, &c, program, at.date())?;
    // The allocation is read and the order written in one transaction, so two orders
    // at once cannot both take the last doses.
    store
        .atomically(|s| {
            Ok(match super::allocations::check_order(s, &order) {
                Ok(()) => Ok(s.create_order(&order)?),
                Err(refused) => Err(refused),
            })
        })
        .map_err(UseCaseError::from)?
}

/// Order `id` with its clinic, after the matrix allowed `action` there.
fn order_at<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: i64,
    action: Action,
    at: NaiveDateTime,
) -> Result<(VaccineOrder, Clinic), UseCaseError> {
    let o = store.order(id)?.ok_or_else(|| not_found("order", id))?;
    let c = clinic(store, &o.clinic)?;
    permit_at(store, actor, &c, action, at)?;
    Ok((o, c))
}

/// The state's decision on a pending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve, changing quantities (`CVX → doses`, 0 drops a line) with a note.
    Approve {
        changes: Vec<(Cvx, i64)>,
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
}

/// Decides pending order `id`; the clinic's users who order are notified.
pub fn decide_order<
    S: InventoryStore
        + OrgStore
        + AuditStore
        + crate::clinic_info::NotificationStore
        + crate::traits::UserStore
        + ?Sized,
>(
    store: &S,
    actor: &Actor,
    id: i64,
    decision: &Decision,
    at: NaiveDateTime,
) -> Result<(), UseCaseError> {
    let (mut o, c) = order_at(store, actor, id, Action::OrderApprove, at)?;
    let by = actor.label();
    let what = match decision {
        Decision::Approve { changes, note } => {
            o.approve(&by, changes, note.as_deref())?;
            let doses: i64 = o.lines.iter().filter_map(|l| l.approved).sum();
            match note {
                Some(n) if !n.trim().is_empty() => {
                    format!("approved ({doses} doses; note: {})", n.trim())
                }
                _ => format!("approved ({doses} doses)"),
            }
        }
        Decision::Reject { reason } => {
            o.reject(&by, reason)?;
            format!("rejected (reason: {reason})")
        }
    };
    store.save_order(&o)?;
    super::notifications::notify_clinic(
        store,
        &c.pin,
        Action::OrderCreate,
        crate::clinic_info::NotificationKind::OrderDecision,
        &format!("{} ({}): order {id} {what}", c.name, c.pin),
        "/inventory/orders",
        at,
    )?;
    Ok(())
}

/// One received lot of a shipment: CVX, lot number, expiration, doses.
pub type ShipmentLot = (Cvx, ctwiz_core::ids::LotNumber, chrono::NaiveDate, i64);

/// Receives approved order `id`'s shipment into the ordering clinic's public stock.
/// Returns the lot ids.
pub fn receive_order<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    codes: &CodeSets,
    id: i64,
    shipment: &[ShipmentLot],
    at: NaiveDateTime,
) -> Result<Vec<i64>, UseCaseError> {
    let (o, c) = order_at(store, actor, id, Action::InventoryEdit, at)?;
    let mut lots = Vec::with_capacity(shipment.len());
    for (cvx, number, expiration, doses) in shipment {
        let lot = Lot {
            id: None,
            clinic: o.clinic.clone(),
            cvx: cvx.clone(),
            ndc: None,
            mvx: None,
            lot_number: number.clone(),
            expiration: *expiration,
            funding: ctwiz_core::inventory::StockFunding::Public(o.program),
        };
        check_arrival(&lot, &c, codes, at.date())?;
        lots.push((lot, *doses));
    }
    Ok(store.receive_order(id, &lots, &actor.label(), at)?)
}

/// The stock movement report: totals per clinic, vaccine, funding, kind and reason over a
/// period, for the clinics the actor may see (`InventoryView` at each; a clinic user: their
/// acting clinic), optionally one county. The period defaults to the three months up to
/// `now`'s date; one that starts after it ends is refused. Returns the period and the rows.
pub fn movement_report<S: InventoryStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    county: Option<ctwiz_core::org::County>,
    now: NaiveDateTime,
) -> Result<MovementReport, UseCaseError> {
    super::actors::permit(
        store,
        actor,
        Action::InventoryView,
        now,
        "inventory movement report",
    )?;
    let (from, to) = super::period(from, to, now.date(), |to| {
        to.checked_sub_months(chrono::Months::new(3)).unwrap_or(to)
    })?;
    let clinics = store.clinics()?;
    let rows = store
        .inventory_report(from, to)?
        .into_iter()
        .filter(|r| county.is_none_or(|c| c == r.county))
        .filter(|r| {
            clinics
                .iter()
                .find(|c| c.pin == r.clinic)
                .is_some_and(|c| authorize_at(actor, c.target(), Action::InventoryView).is_ok())
        })
        .collect();
    Ok(MovementReport { from, to, rows })
}

/// [`movement_report`]'s answer.
#[derive(Debug, Clone)]
pub struct MovementReport {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub rows: Vec<crate::traits::InventoryReportRow>,
}
