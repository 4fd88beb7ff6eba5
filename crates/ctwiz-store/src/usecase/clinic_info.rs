//! Clinic Information (Clinic Tools): a clinic's coordinators see their clinic and its
//! change-request history, change phone, fax and delivery hours at once, and ask for name,
//! address and staff changes, which the DPH state approves or rejects with a reason; each
//! decision notifies the requester. Also the staff-list gate of the public account request.
//! Every change and every refusal is audited.

use super::actors::permit;
use super::{audit_entry, not_found, UseCaseError};
use crate::clinic_info::{ChangeRequestStore, NotificationKind, NotificationStore};
use crate::traits::{Atomic, AuditAction, AuditStore, OrgStore, UserStore};
use crate::web::{NewAccountRequest, WebStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::clinic_info::{
    may_request_access, rejection_reason, ChangeRequest, ChangeStatus, ClinicChange, ContactDetails,
};
use ctwiz_core::org::Clinic;
use ctwiz_core::CoreError;

/// A clinic's information as Clinic Tools shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicInfo {
    pub clinic: Clinic,
    /// Every change request of the clinic, newest first.
    pub history: Vec<ChangeRequest>,
    /// Accounts with access here: (full name, username, access type).
    pub accounts: Vec<(String, String, ctwiz_core::access::Role)>,
}

/// A change request waiting for the state, with the clinic it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub request: ChangeRequest,
    pub clinic: Clinic,
}

/// The clinic the actor acts for: Clinic Tools work on one clinic.
fn acting_clinic<S: OrgStore + ?Sized>(store: &S, actor: &Actor) -> Result<Clinic, UseCaseError> {
    let pin = actor.clinic().ok_or_else(|| {
        UseCaseError::Invalid(CoreError::Rule(
            "Clinic Tools work on one clinic: choose the clinic you are working for first".into(),
        ))
    })?;
    store.clinic(pin)?.ok_or_else(|| not_found("clinic", pin))
}

/// The acting clinic and its change-request history (`ClinicToolsView`).
pub fn view<S: OrgStore + ChangeRequestStore + UserStore>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<ClinicInfo, UseCaseError> {
    permit(
        store,
        actor,
        Action::ClinicToolsView,
        now,
        "view clinic information",
    )?;
    let clinic = acting_clinic(store, actor)?;
    let history = store.change_requests(Some(&clinic.pin), None)?;
    let accounts = store
        .users()?
        .into_iter()
        .filter_map(|u| {
            u.role_at(&clinic.pin)
                .map(|r| (u.full_name.clone(), u.username.to_string(), r))
        })
        .collect();
    Ok(ClinicInfo {
        clinic,
        history,
        accounts,
    })
}

/// Sets the acting clinic's phone, fax and delivery hours at once (`ClinicToolsEdit`);
/// returns what changed (nothing is written or audited when nothing did).
pub fn update_contact<S: OrgStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    details: &ContactDetails,
    now: NaiveDateTime,
) -> Result<Vec<String>, UseCaseError> {
    permit(
        store,
        actor,
        Action::ClinicToolsEdit,
        now,
        "edit clinic contact details",
    )?;
    let mut clinic = acting_clinic(store, actor)?;
    let changed = details.apply(&mut clinic)?;
    if changed.is_empty() {
        return Ok(changed);
    }
    store.atomically(|s| {
        s.update_clinic(&clinic)?;
        s.audit(&audit_entry(
            actor,
            None,
            AuditAction::Update,
            now,
            format!(
                "clinic {} contact details: {}",
                clinic.pin,
                changed.join("; ")
            ),
        ))
    })?;
    Ok(changed)
}

/// Asks the state for a name, address or staff change of the acting clinic
/// (`ClinicToolsEdit`); returns the request's id. A change that would change nothing is
/// refused.
pub fn request_change<S: OrgStore + ChangeRequestStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    change: ClinicChange,
    now: NaiveDateTime,
) -> Result<i64, UseCaseError> {
    permit(
        store,
        actor,
        Action::ClinicToolsEdit,
        now,
        "request a clinic change",
    )?;
    let clinic = acting_clinic(store, actor)?;
    change.check(&clinic)?;
    Ok(store.atomically(|s| {
        let id = s.create_change_request(
            &clinic.pin,
            &change,
            actor.user.username.as_str(),
            actor.user.id,
            now,
        )?;
        s.audit(&audit_entry(
            actor,
            None,
            AuditAction::Create,
            now,
            format!(
                "clinic {} change request {id}: {}",
                clinic.pin,
                change.summary()
            ),
        ))?;
        Ok(id)
    })?)
}

/// `ChangeRequestReview` on the clinic of request `id`, refusal audited; the pending
/// request and its clinic.
fn reviewable<S: OrgStore + ChangeRequestStore + AuditStore>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<(ChangeRequest, Clinic), UseCaseError> {
    permit(
        store,
        actor,
        Action::ChangeRequestReview,
        now,
        "review clinic change requests",
    )?;
    let req = store
        .change_request(id)?
        .ok_or_else(|| not_found("change request", id))?;
    let clinic = store
        .clinic(&req.clinic)?
        .ok_or_else(|| not_found("clinic", &req.clinic))?;
    super::inventory::permit_at(store, actor, &clinic, Action::ChangeRequestReview, now)?;
    if req.status != ChangeStatus::Pending {
        return Err(UseCaseError::Invalid(CoreError::Rule(format!(
            "change request {id} was already {}",
            req.status.label().to_lowercase()
        ))));
    }
    Ok((req, clinic))
}

/// Pending change requests of every clinic, oldest first (`ChangeRequestReview`).
pub fn pending<S: OrgStore + ChangeRequestStore + AuditStore>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Review>, UseCaseError> {
    permit(
        store,
        actor,
        Action::ChangeRequestReview,
        now,
        "review clinic change requests",
    )?;
    let mut out = Vec::new();
    for request in store.change_requests(None, Some(ChangeStatus::Pending))? {
        if let Some(clinic) = store.clinic(&request.clinic)? {
            out.push(Review { request, clinic });
        }
    }
    out.reverse();
    Ok(out)
}

/// Records the decision on `req` (with the clinic as changed, when approved), tells the
/// requester (a notification linking to the clinic's history) and audits, in one
/// transaction; returns the decided request.
fn decide<S: OrgStore + ChangeRequestStore + NotificationStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    req: &ChangeRequest,
    clinic: &Clinic,
    decision: Result<Option<Clinic>, String>,
    now: NaiveDateTime,
) -> Result<ChangeRequest, UseCaseError> {
    let (status, reason, outcome) = match &decision {
        Ok(_) => (ChangeStatus::Approved, None, "approved".to_string()),
        Err(reason) => (
            ChangeStatus::Rejected,
            Some(reason.as_str()),
            format!("rejected (reason: {reason})"),
        ),
    };
    let what = format!("{outcome}: {}", req.change.summary());
    store.atomically(|s| {
        if let Ok(Some(changed)) = &decision {
            s.update_clinic(changed)?;
        }
        s.decide_change_request(req.id, status, actor.user.username.as_str(), reason, now)?;
        if let Some(user) = req.requester {
            s.notify(
                user,
                NotificationKind::ChangeRequestDecision,
                &format!("{} ({}): {what}", clinic.name, clinic.pin),
                "/clinic-tools#history",
                now,
            )?;
        }
        s.audit(&audit_entry(
            actor,
            None,
            AuditAction::Update,
            now,
            format!("clinic {} change request {} {what}", clinic.pin, req.id),
        ))
    })?;
    store
        .change_request(req.id)?
        .ok_or_else(|| not_found("change request", req.id))
}

/// Approves request `id`: applies the change to the clinic, records the decision,
/// notifies the requester and audits, in one transaction. The change is checked again
/// against the clinic as it is now (another approval may have changed it).
pub fn approve<
    S: OrgStore
        + ChangeRequestStore
        + NotificationStore
        + AuditStore
        + Atomic
        + crate::onboarding::OnboardingStore
        + crate::interface::InterfaceStore
        + UserStore,
>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<ChangeRequest, UseCaseError> {
    let (req, clinic) = reviewable(store, actor, id, now)?;
    let mut changed = clinic.clone();
    req.change.apply(&mut changed)?;
    let changed = (changed != clinic).then_some(changed);
    let decided = decide(store, actor, &req, &clinic, Ok(changed), now)?;
    if matches!(req.change, ClinicChange::Staff(_)) {
        // A direct-entry clinic's coordinator has added its staff (onboarding moves on).
        // The decision is committed whatever this does; a move that fails is made by
        // the next staff addition.
        let _ = super::onboarding::seen(
            store,
            actor,
            &clinic.pin,
            ctwiz_core::onboarding::Seen::StaffAdded,
            now,
        );
    }
    Ok(decided)
}

/// Rejects request `id` with a reason the requester reads (required), notifies them and
/// audits, in one transaction.
pub fn reject<S: OrgStore + ChangeRequestStore + NotificationStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<ChangeRequest, UseCaseError> {
    let (req, clinic) = reviewable(store, actor, id, now)?;
    let reason = rejection_reason(reason)?;
    decide(store, actor, &req, &clinic, Err(reason), now)
}

/// Files a public account request: every clinic named must be registered, and a CVP
/// clinic must list the requester's e-mail on its staff list. Returns the request's id.
pub fn submit_account_request<S: OrgStore + WebStore + crate::traits::PlaceStore>(
    store: &S,
    request: &NewAccountRequest,
    now: NaiveDateTime,
) -> Result<i64, UseCaseError> {
    let roles: Vec<_> = request.clinics.iter().map(|c| c.role).collect();
    ctwiz_core::clinic_info::check_requested_access(
        &roles,
        request.other.as_ref(),
        request.nurse_attested,
    )?;
    // A health department named in the request must be one in the towns table.
    if let Some(ctwiz_core::access::Scope::Jurisdiction(j)) =
        request.other.as_ref().map(|g| &g.scope)
    {
        if !super::places::jurisdictions(store)?.contains(j) {
            return Err(UseCaseError::Invalid(CoreError::Rule(format!(
                "{j} is not a jurisdiction in the towns table."
            ))));
        }
    }
    for c in &request.clinics {
        let clinic = store.clinic(&c.pin)?.ok_or_else(|| {
            UseCaseError::Invalid(CoreError::Rule(format!(
                "Clinic PIN {} is not registered; check the PIN with your clinic.",
                c.pin
            )))
        })?;
        may_request_access(&clinic, &request.email)?;
    }
    Ok(store.create_account_request(request, now)?)
}

/// Every registered clinic, by name, with its program enrollment: the state's
/// (`ClinicManage`) list to enroll clinics from. A refusal is audited.
pub fn clinics_to_enroll<S: OrgStore + AuditStore>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Clinic>, UseCaseError> {
    permit(store, actor, Action::ClinicManage, now, "clinic enrollment")?;
    let mut clinics = store.clinics()?;
    clinics.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.pin.cmp(&b.pin)));
    Ok(clinics)
}

/// The state (`ClinicManage`) sets clinic `pin`'s enrollment in the public programs (CVP,
/// CVFA, both, or private only). Leaving a program is refused while the clinic holds its
/// stock or open orders (`ctwiz_core::program::check_enrollment_change`). Audited; returns
/// the clinic as enrolled now.
pub fn enroll<S: OrgStore + crate::traits::InventoryStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    pin: &ctwiz_core::ids::ClinicPin,
    to: ctwiz_core::org::ProgramType,
    now: NaiveDateTime,
) -> Result<Clinic, UseCaseError> {
    use ctwiz_core::ordering::OrderStatus;
    use ctwiz_core::program::{check_enrollment_change, Holding, Program};
    let mut clinic = super::inventory::clinic_for(store, actor, pin, Action::ClinicManage, now)?;
    let from = clinic.program;
    let lots = store.lots(pin)?;
    let orders = store.orders(Some(pin), None)?;
    let holding: Vec<Holding> = Program::ALL
        .into_iter()
        .map(|program| Holding {
            program,
            doses: lots
                .iter()
                .filter(|l| l.lot.funding.program() == Some(program))
                .map(|l| l.on_hand.max(0))
                .sum(),
            open_orders: orders
                .iter()
                .filter(|o| {
                    o.program == program
                        && matches!(o.status, OrderStatus::Pending | OrderStatus::Approved)
                })
                .count(),
        })
        .collect();
    check_enrollment_change(from, to, &holding)?;
    clinic.program = to;
    let detail = format!(
        "clinic {} enrollment: {} → {}",
        clinic.pin,
        from.key(),
        to.key()
    );
    super::audited(store, actor, None, AuditAction::Update, now, detail, |s| {
        s.update_clinic(&clinic)
    })?;
    Ok(clinic)
}
