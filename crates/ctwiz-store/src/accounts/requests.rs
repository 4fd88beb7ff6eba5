//! Deciding account requests (state users with `AccountApprove`): approval creates the
//! account with the requested access at each clinic and a temporary password, records the
//! decision and queues the username e-mail, all in one transaction; the temporary password
//! goes to the door's `deliver` (it is never stored readable). Every decision and every
//! refusal is audited.

use super::{audit_by, create_with_temporary_password, AdminError};
use crate::traits::{Atomic, AuditAction, UserStore};
use crate::web::{RequestStatus, WebStore};
use crate::StoreError;
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, Grant, Scope, User};
use ctwiz_core::actor::{authorize, Actor};
use ctwiz_core::ids::{Email, Username};

/// `AccountApprove` for the actor; a refusal is audited as `Denied`.
fn may_decide<S: UserStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), AdminError> {
    crate::usecase::audit_refusal(
        store,
        actor,
        None,
        now,
        |d| format!("decide account request {id}: {d}"),
        authorize(actor, Action::AccountApprove).map(|_| ()),
    )
}

/// Every account request, newest first, for a state user who decides them
/// (`AccountApprove`).
pub fn list<S: UserStore + WebStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<crate::web::AccountRequest>, AdminError> {
    super::permitted(store, actor, Action::AccountApprove, now)?;
    Ok(store.account_requests(None)?)
}

/// The pending request `id`.
fn pending<S: WebStore + ?Sized>(
    store: &S,
    id: i64,
) -> Result<crate::web::AccountRequest, AdminError> {
    let req = store
        .account_request(id)?
        .ok_or(AdminError::NoSuchRequest(id))?;
    if req.status != RequestStatus::Pending {
        return Err(AdminError::AlreadyDecided(id));
    }
    Ok(req)
}

/// Approves request `id` under `username`. `deliver(store, email, temporary_password)`
/// queues the password's own message inside the same transaction (two messages, so one
/// intercepted e-mail does not open the account). Returns the new user.
pub fn approve<S, F>(
    store: &S,
    actor: &Actor,
    id: i64,
    username: &str,
    now: NaiveDateTime,
    deliver: F,
) -> Result<User, AdminError>
where
    S: UserStore + WebStore + crate::clinic_info::NotificationStore + Atomic,
    F: FnOnce(&S, &Email, String) -> crate::Result<()>,
{
    may_decide(store, actor, id, now)?;
    let username = Username::new(username).map_err(AdminError::Invalid)?;
    let req = pending(store, id)?;
    if store.account(&username)?.is_some() {
        return Err(AdminError::UsernameTaken(username));
    }
    let mut user = User::new(
        username.clone(),
        &req.request.full_name,
        req.request.email.clone(),
    )
    .map_err(AdminError::Invalid)?;
    for c in &req.request.clinics {
        let grant =
            Grant::new(c.role, Scope::Clinic(c.pin.clone())).map_err(AdminError::Invalid)?;
        user.grant(grant);
    }
    if let Some(g) = &req.request.other {
        user.grant(g.clone());
    }
    let grants = user
        .grants
        .iter()
        .map(|g| format!("{} {}", g.role.key(), super::scope_text(&g.scope)))
        .collect::<Vec<_>>()
        .join(", ");
    store.atomically(|s| {
        let (new_id, temp) = create_with_temporary_password(s, &user)?;
        // Waiting for the user's first sign-in: what they were given.
        let held = user
            .grants
            .iter()
            .map(|g| format!("{} at {}", g.role.label(), super::scope_text(&g.scope)))
            .collect::<Vec<_>>()
            .join("; ");
        s.notify(
            new_id,
            crate::clinic_info::NotificationKind::AccountDecision,
            &format!("your account request was approved: {held}"),
            "/",
            now,
        )?;
        s.decide_account_request(
            id,
            RequestStatus::Approved,
            &actor.label(),
            None,
            Some(&username),
            now,
        )?;
        s.queue_email(
            &user.email,
            "Your CT WiZ account: username",
            &format!(
                "Your request for CT WiZ access was approved.\n\nUsername: {username}\n\n\
                 Your temporary password follows in a separate e-mail."
            ),
            now,
        )?;
        deliver(s, &user.email, temp)?;
        audit_by(
            s,
            actor,
            AuditAction::GrantChange,
            format!("account request {id} approved: {username} with [{grants}]"),
            now,
        )?;
        Ok::<_, StoreError>(())
    })?;
    Ok(user)
}

/// Rejects request `id`, with an optional note for the requester's record.
pub fn reject<S: UserStore + WebStore + Atomic>(
    store: &S,
    actor: &Actor,
    id: i64,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), AdminError> {
    may_decide(store, actor, id, now)?;
    let req = pending(store, id)?;
    let Some(reason) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Err(AdminError::Invalid(ctwiz_core::CoreError::Rule(
            "give the reason for the denial: it is e-mailed to the requester".into(),
        )));
    };
    // Two e-mails, as CT WiZ sends them: that access was denied, and why.
    let to = &req.request.email;
    let clinics = req
        .request
        .clinics
        .iter()
        .map(|c| format!("{} ({})", c.pin, c.role.label()))
        .collect::<Vec<_>>()
        .join(", ");
    store.atomically(|s| {
        s.decide_account_request(
            id,
            RequestStatus::Rejected,
            &actor.label(),
            Some(reason),
            None,
            now,
        )?;
        s.queue_email(
            to,
            "CT WiZ access denied",
            &format!(
                "Dear {},\n\nYour request for CT WiZ access for {clinics} has been denied. A second e-mail gives the reason.\n\nConnecticut Department of Public Health, Immunization Program",
                req.request.full_name
            ),
            now,
        )?;
        s.queue_email(
            to,
            "CT WiZ access denied: the reason",
            &format!(
                "Dear {},\n\nThe reason your CT WiZ access request was denied: {reason}\n\nYou may send a new request once this is resolved, or contact the DPH Immunization Program help desk.",
                req.request.full_name
            ),
            now,
        )?;
        audit_by(
            s,
            actor,
            AuditAction::GrantChange,
            format!("account request {id} rejected: {reason}; two e-mails queued"),
            now,
        )
    })?;
    Ok(())
}
