//! The Task Module: each user's pending work where they act, by what the permission matrix
//! lets them do there. A task counts open items and links to the screen where they are
//! done; it disappears when nothing is left.

use super::actors::permit;
use super::inventory::authorize_at_clinic;
use super::UseCaseError;
use crate::clinic_info::ChangeRequestStore;
use crate::traits::{AuditStore, InventoryStore, OrgStore};
use crate::web::{RequestStatus, WebStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::clinic_info::ChangeStatus;
use ctwiz_core::ordering::OrderStatus;

/// One kind of pending work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// What is to be done ("clinic change request(s) wait for review").
    pub what: &'static str,
    pub count: usize,
    /// Where it is done.
    pub link: &'static str,
}

/// The actor's open tasks (`TaskView`), in the order they appear on the page.
pub fn pending<S>(store: &S, actor: &Actor, now: NaiveDateTime) -> Result<Vec<Task>, UseCaseError>
where
    S: WebStore
        + ChangeRequestStore
        + InventoryStore
        + OrgStore
        + AuditStore
        + crate::agreements::AgreementStore,
{
    permit(store, actor, Action::TaskView, now, "view tasks")?;
    let mut out = Vec::new();
    let mut add = |what, count, link| {
        if count > 0 {
            out.push(Task { what, count, link });
        }
    };
    if actor.may(Action::ChangeRequestReview) {
        let n = store
            .change_requests(None, Some(ChangeStatus::Pending))?
            .len();
        add(
            "clinic change request(s) wait for review",
            n,
            "/admin/change-requests",
        );
    }
    if actor.may(Action::ClinicManage) {
        let n = super::agreements::flagged(store, actor, now)?.len();
        add(
            "CVP clinic(s) without a current program agreement",
            n,
            "/admin/agreements",
        );
    }
    if actor.may(Action::AccountApprove) {
        let n = store.account_requests(Some(RequestStatus::Pending))?.len();
        add("account request(s) wait for approval", n, "/admin/requests");
    }
    let clinics = store.clinics()?;
    let to_approve = store
        .orders(None, Some(OrderStatus::Pending))?
        .iter()
        .filter(|o| {
            clinics
                .iter()
                .find(|c| c.pin == o.clinic)
                .is_some_and(|c| authorize_at_clinic(actor, c, Action::OrderApprove).is_ok())
        })
        .count();
    add(
        "public vaccine order(s) wait for approval",
        to_approve,
        "/inventory/orders",
    );
    if let Some(pin) = actor.clinic() {
        if actor.may(Action::InventoryEdit) {
            let n = store.orders(Some(pin), Some(OrderStatus::Approved))?.len();
            add("approved order(s) to receive", n, "/inventory/orders");
        }
    }
    add(
        "dose(s) given from a lot not in stock (inventory exceptions) to settle",
        super::inventory_exceptions::open_count(store, actor)?,
        "/inventory/exceptions",
    );
    Ok(out)
}
