//! Administration for DPH state users: account requests (approve → two e-mails), users
//! (unlock, change access types) and the e-mail outbox.

use crate::error::AppError;
use crate::page::{self, csrf_field, text_field};
use crate::session::{CsrfOnly, Ctx};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::{AccountStatus, Action, Role};
use ctwiz_core::ids::{ClinicPin, UserId};
use ctwiz_store::accounts::{self, GrantEdit};
use ctwiz_store::web::RequestStatus;
use maud::{html, Markup};
use serde::Deserialize;

pub async fn index(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    if !ctx.can(Action::AccountApprove) {
        ctx.require(&state, Action::UserManage).await?;
    }
    Ok(page::layout(
        &ctx,
        "Administration",
        html! {
            div.tiles {
                @if ctx.can(Action::AccountApprove) { a.card href="/admin/requests" { h2 { "Account requests" } p { "Approve or reject requests for access." } } }
                @if ctx.can(Action::ChangeRequestReview) { a.card href="/admin/change-requests" { h2 { "Clinic change requests" } p { "Approve or reject clinics' name, address and staff changes." } } }
                @if ctx.can(Action::ClinicManage) { a.card href="/admin/clinics" { h2 { "Clinics and program enrollment" } p { "Enroll clinics in CVP, CVFA or both, or mark them private only." } } }
                @if ctx.can(Action::ClinicManage) { a.card href="/admin/agreements" { h2 { "Program agreements" } p { "CVP clinics without a current signed agreement (they may not order)." } } }
                @if ctx.can(Action::UserManage) { a.card href="/admin/users" { h2 { "Users" } p { "Unlock accounts and change access types." } } }
                @if ctx.can(Action::UserManage) { a.card href="/admin/outbox" { h2 { "E-mail and text outbox" } p { "Messages sent by the system." } } }
            }
        },
    ))
}

// ---------------------------------------------------------------- requests

fn suggested_username(email: &str) -> String {
    email
        .split('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect::<String>()
        .to_lowercase()
}

pub async fn requests(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let all = state
        .db(move |s| Ok(accounts::requests::list(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Account requests",
        html! {
            @if all.is_empty() { p.muted { "No requests." } }
            @for r in &all {
                section.card {
                    h2 { (r.request.full_name) " " span.muted { "– " (r.request.email) " – " (r.status.key()) } }
                    p.muted { "Requested " (r.created_at) @if let Some(p) = &r.request.phone { " · phone " (p) } }
                    ul {
                        @for c in &r.request.clinics { li { (c.pin) ": " (c.role.label()) } }
                        @if let Some(g) = &r.request.other { li { (ctwiz_store::accounts::scope_text(&g.scope)) ": " (g.role.label()) } }
                    }
                    @if r.request.nurse_attested { p.muted { "Attested: " (ctwiz_core::clinic_info::NURSE_ATTESTATION) } }
                    @if r.status == RequestStatus::Pending {
                        div.actions {
                            form.inline method="post" action={ "/admin/requests/" (r.id) "/approve" } {
                                (csrf_field(&ctx))
                                label { span { "Username" } input type="text" name="username" value=(suggested_username(r.request.email.as_str())) required; }
                                button type="submit" { "Approve" }
                            }
                            form.inline method="post" action={ "/admin/requests/" (r.id) "/reject" } {
                                (csrf_field(&ctx))
                                label { span { "Reason (e-mailed to the requester)" } input type="text" name="note" required; }
                                button.secondary type="submit" { "Reject" }
                            }
                        }
                    } @else {
                        p { "Decided by " (r.decided_by.clone().unwrap_or_default()) @if let Some(u) = &r.username { " · username " (u) } @if let Some(n) = &r.note { " · " (n) } }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct ApproveForm {
    csrf: String,
    username: String,
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ApproveForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let held = state.clone();
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            // The temporary password is held in memory for its e-mail, never stored.
            accounts::requests::approve(s, &actor, id, &f.username, now, |s, to, temp| {
                crate::mail::queue_with_secret(
                    &held,
                    s,
                    to,
                    "Your CT WiZ account: temporary password",
                    &format!("Temporary password: {}\n\nAt first sign-in you will choose a new password and two security questions.", crate::mail::WITHHELD),
                    temp,
                    now,
                )
                .map(|_| ())
            })?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to("/admin/requests").into_response())
}

#[derive(Deserialize)]
pub struct RejectForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<RejectForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(accounts::requests::reject(
                s,
                &actor,
                id,
                Some(&f.note),
                now,
            )?)
        })
        .await?;
    Ok(Redirect::to("/admin/requests").into_response())
}

// ---------------------------------------------------------------- users

pub async fn users(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let all = state
        .db(move |s| Ok(accounts::users_with_locks(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Users",
        html! {
            table {
                thead { tr { th { "User" } th { "Status" } th { "Access" } th { "" } } }
                tbody {
                    @for (u, locked_until) in &all {
                        @let uid = u.id.map(|i| i.0).unwrap_or_default();
                        tr {
                            td { strong { (u.username) } br; (u.full_name) br; span.muted { (u.email) }
                                details { summary { "Change name or e-mail" }
                                    form.stack method="post" action={ "/admin/users/" (uid) "/identity" } {
                                        (csrf_field(&ctx))
                                        (text_field("full_name", "Full name", &u.full_name, true))
                                        label { span { "E-mail" } input type="email" name="email" value=(u.email) required; }
                                        button.small type="submit" { "Save and notify the user" }
                                    }
                                }
                            }
                            td { (format!("{:?}", u.status))
                                @if let Some(t) = locked_until { br; span.muted { "sign-in locked until " (t) " UTC" } }
                                @if u.status != AccountStatus::Active || locked_until.is_some() {
                                    form.inline method="post" action={ "/admin/users/" (uid) "/unlock" } { (csrf_field(&ctx)) button.small type="submit" { "Unlock" } }
                                }
                                @if u.status == AccountStatus::Disabled {
                                    form.inline method="post" action={ "/admin/users/" (uid) "/status" } { (csrf_field(&ctx)) input type="hidden" name="active" value="1"; button.small type="submit" { "Reactivate" } }
                                } @else {
                                    form.inline method="post" action={ "/admin/users/" (uid) "/status" } { (csrf_field(&ctx)) input type="hidden" name="active" value="0";
                                        input type="text" name="reason" placeholder="Reason" size="12" required;
                                        button.small.secondary type="submit" { "Deactivate" } }
                                } }
                            td {
                                @for (i, g) in u.grants.iter().enumerate() {
                                    form.inline method="post" action={ "/admin/users/" (uid) "/grants" } {
                                        (csrf_field(&ctx))
                                        input type="hidden" name="index" value=(i);
                                        span { (accounts::scope_text(&g.scope)) " " }
                                        select name="role" {
                                            @for r in Role::ALL.iter().filter(|r| r.scope_kind() == g.role.scope_kind()) {
                                                option value=(r.key()) selected[*r == g.role] { (r.label()) }
                                            }
                                            option value="remove" { "— remove this access —" }
                                        }
                                        button.small type="submit" { "Change" }
                                    }
                                    br;
                                }
                            }
                            td {
                                form.inline method="post" action={ "/admin/users/" (uid) "/grants" } {
                                    (csrf_field(&ctx))
                                    input type="hidden" name="index" value="new";
                                    input type="text" name="pin" placeholder="Clinic PIN" size="9";
                                    select name="role" {
                                        @for r in Role::ALL.iter().filter(|r| r.scope_kind() == ctwiz_core::access::ScopeKind::Clinic) {
                                            option value=(r.key()) { (r.label()) }
                                        }
                                    }
                                    button.small.secondary type="submit" { "Add clinic" }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let actor = ctx.as_actor();
    let now = ctx.now;
    state
        .db(move |s| Ok(accounts::unlock(s, &actor, UserId(id), now)?))
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    reason: String,
}

/// Deactivate or reactivate an account (`accounts::set_active` decides, audits, e-mails).
pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let active = f.active == "1";
    state
        .db(move |s| {
            Ok(accounts::set_active(
                s,
                &actor,
                UserId(id),
                active,
                &f.reason,
                now,
            )?)
        })
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct IdentityForm {
    csrf: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    email: String,
}

/// Correct a user's name or e-mail (`accounts::change_identity`).
pub async fn set_identity(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<IdentityForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(accounts::change_identity(
                s,
                &actor,
                UserId(id),
                &f.full_name,
                &f.email,
                now,
            )?)
        })
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct GrantForm {
    csrf: String,
    index: String,
    role: String,
    #[serde(default)]
    pin: String,
}

pub async fn change_grant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<GrantForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let edit = if f.index == "new" {
        GrantEdit::AtClinic(ClinicPin::new(&f.pin)?, Role::parse(&f.role)?)
    } else {
        let i: usize = f
            .index
            .parse()
            .map_err(|_| AppError::BadRequest(format!("Unknown access entry {:?}.", f.index)))?;
        if f.role == "remove" {
            GrantEdit::Remove(i)
        } else {
            GrantEdit::Change(i, Role::parse(&f.role)?)
        }
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(accounts::edit_grant(s, &actor, UserId(id), edit, now)?))
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn outbox(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let (mails, texts) = state
        .db(move |s| Ok(accounts::outbox(s, &actor, 200, now)?))
        .await?;
    // A secret (temporary password) is never stored; while this process holds it for an
    // unsent message, the state team sees it here to forward it by hand.
    let mails: Vec<_> = mails
        .into_iter()
        .map(|m| {
            let body = if m.sent_at.is_none() {
                crate::mail::deliverable_body(&state, &m)
            } else {
                m.body.clone()
            };
            (m, body)
        })
        .collect();
    Ok(page::layout(
        &ctx,
        "E-mail and text outbox",
        html! {
            p.muted { "With an SMTP relay configured (ctwiz serve --smtp), mail is sent from here; without one it stays here for the state team to forward. Text messages (portal codes) go through the SMS gateway (ctwiz serve --sms-gateway) the same way." }
            h2 { "Text messages" }
            @if texts.is_empty() { p.muted { "No text messages yet." } }
            @else {
                table {
                    thead { tr { th { "To" } th { "Queued" } th { "Sent" } th { "Message" } } }
                    tbody {
                        @for t in &texts {
                            tr.text-message {
                                td { (t.to) } td { (t.created_at) }
                                td { @if let Some(at) = t.sent_at { (at) } @else { "not sent" } }
                                td { (t.body) }
                            }
                        }
                    }
                }
            }
            h2 { "E-mail" }
            @if mails.is_empty() { p.muted { "No e-mail yet." } }
            @for (m, body) in &mails {
                section.card {
                    h2 { (m.subject) }
                    p.muted { "To " (m.to) " · queued " (m.created_at)
                        @if let Some(at) = m.sent_at { " · sent " (at) } @else { " · not sent" } }
                    pre.mail { (body) }
                }
            }
        },
    ))
}
