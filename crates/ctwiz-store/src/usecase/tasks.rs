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
        + crate::agreements::AgreementStore
        + crate::interface::InterfaceStore
        + crate::traits::RecallStore
        + crate::distributions::DistributionStore
        + crate::outreach::OutreachStore
        + crate::onboarding::OnboardingStore,
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
            "clinic(s) without a current agreement of a program they are enrolled in",
            n,
            "/admin/agreements",
        );
    }
    if actor.may(Action::AccountApprove) {
        let n = store.account_requests(Some(RequestStatus::Pending))?.len();
        add("account request(s) wait for approval", n, "/admin/requests");
    }
    if actor.may(Action::ChangeRequestReview) {
        let n = store
            .onboardings()?
            .iter()
            .filter(|o| o.stage == ctwiz_core::onboarding::Stage::DqaReview)
            .count();
        add("clinic(s) wait for their DQA review", n, "/onboarding");
    }
    // An IAP coordinator's area's open referrals (the state sees them on the page).
    if let ctwiz_core::actor::Acting::Jurisdiction(ctwiz_core::place::Jurisdiction::IapArea(a)) =
        &actor.acting
    {
        if actor.may(Action::ReferralWork) {
            let n = store
                .referrals(&crate::outreach::ReferralFilter {
                    iap_area: Some(a.clone()),
                    open_only: true,
                    ..Default::default()
                })?
                .len();
            add("open IAP referral(s) to work", n, "/outreach");
        }
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
    add(
        "report(s) distributed to this practice to review",
        super::distributions::unopened(store, actor)?,
        "/reports/distributed",
    );
    if let Some(pin) = actor.clinic() {
        let today = now.date();
        if actor.may(Action::InventoryEdit) && reconciliation_is_due(store, pin, today)? {
            add(
                "monthly inventory reconciliation of public vaccine is due",
                1,
                "/inventory/reconcile",
            );
        }
        if actor.may(Action::ReportDqa) {
            add(
                "day(s) of the last week with HL7 messages from this clinic answered with errors",
                dqa_error_days(store, actor, today)?,
                "/reports/dqa",
            );
        }
        if actor.may(Action::RecallNoticeRecord)
            && ctwiz_core::assessment::recall::recall_run_due(
                store.last_recall_run(pin.as_str())?,
                today,
            )
        {
            add(
                "reminder/recall list due (no notices recorded in the last 30 days)",
                1,
                "/reports/recall",
            );
        }
    }
    Ok(out)
}

/// Whether clinic `pin` holds public doses and has not reconciled this month.
fn reconciliation_is_due<S: InventoryStore + ?Sized>(
    store: &S,
    pin: &ctwiz_core::ids::ClinicPin,
    today: chrono::NaiveDate,
) -> Result<bool, UseCaseError> {
    use ctwiz_core::inventory::Movement;
    let mut holds_public = false;
    let mut last: Option<chrono::NaiveDate> = None;
    for l in store.lots(pin)? {
        if l.lot.funding.program().is_none() {
            continue;
        }
        holds_public |= l.on_hand > 0;
        if let Some(id) = l.lot.id {
            for (at, _, m) in store.movements(id)? {
                if matches!(m, Movement::Reconcile { .. }) {
                    last = last.max(Some(at.date()));
                }
            }
        }
    }
    Ok(ctwiz_core::inventory::reconciliation_due(
        holds_public,
        last,
        today,
    ))
}

/// Days of the last seven on which messages from the acting clinic's facility were
/// answered with errors or rejected (the DQA report shows which; the same facility
/// rule as the report's).
fn dqa_error_days<S: crate::interface::InterfaceStore + ?Sized>(
    store: &S,
    actor: &Actor,
    today: chrono::NaiveDate,
) -> Result<usize, UseCaseError> {
    let from = today - chrono::Days::new(6);
    Ok(store
        .interface_activity(from, today)?
        .iter()
        .filter(|r| {
            r.errors + r.rejected > 0
                && super::reports::dqa_facility_visible(actor, &[], &r.facility)
        })
        .count())
}
