//! IAP outreach (`usecase::outreach`): a practice refers a child who is behind to the IAP
//! area of the child's town; the area's coordinator records attempts and the outcome.

use crate::error::AppError;
use crate::page::{self, csrf_field, form_error, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::PatientId;
use ctwiz_core::outreach::{AttemptMethod, Outcome, Referral};
use ctwiz_store::usecase::outreach;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// Prefills the referral form (a "Refer to IAP" link from a list).
    #[serde(default)]
    patient: String,
    #[serde(default)]
    reason: String,
    /// `all` shows closed referrals too.
    #[serde(default)]
    show: String,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Markup, AppError> {
    render(&state, &ctx, &q, None).await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    q: &ListQuery,
    error: Option<String>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let open_only = q.show != "all";
    let list = state
        .db(move |s| Ok(outreach::list(s, &actor, open_only, now)?))
        .await?;
    let works = ctx.can(Action::ReferralWork);
    Ok(page::layout(
        ctx,
        "IAP referrals",
        html! {
            p { "A practice refers a child who is behind to the Immunization Action Plan (IAP) area of the child's town. The area's coordinator tries to reach the family and records what came of it." }
            (form_error(error.as_deref()))
            @if ctx.can(Action::ReferralCreate) && ctx.clinic().is_some() {
                form.card.stack method="post" action="/outreach" {
                    h2 { "Refer a child" }
                    (csrf_field(ctx))
                    div.grid {
                        (text_field("patient", "Patient id", &q.patient, true))
                        (text_field("reason", "What is missing", &q.reason, true))
                    }
                    div.actions { button type="submit" { "Refer to IAP" } }
                }
            }
            p {
                @if open_only { a href="/outreach?show=all" { "Show closed referrals too" } }
                @else { a href="/outreach" { "Show open referrals only" } }
            }
            @if list.is_empty() { p.muted { "No referrals." } } @else {
                @for r in &list { (referral_card(ctx, r, works)) }
            }
        },
    ))
}

fn referral_card(ctx: &Ctx, r: &Referral, works: bool) -> Markup {
    html! {
        section.card id=(format!("referral-{}", r.id)) {
            h2 { "Referral " (r.id) " — " a href=(format!("/patients/{}", r.patient)) { "patient " (r.patient) } }
            p { "From " (r.clinic) " to " (r.iap_area) " on " (r.referred_at.format("%Y-%m-%d")) ": " (r.reason) }
            @if !r.attempts.is_empty() {
                table {
                    thead { tr { th { "When" } th { "How" } th { "By" } th { "Note" } } }
                    tbody { @for a in &r.attempts { tr {
                        td { (a.at.format("%Y-%m-%d %H:%M")) } td { (a.method.label()) } td { (a.by) } td { (a.note) }
                    } } }
                }
            }
            @match &r.outcome {
                Some((o, at, by)) => p { strong { "Closed: " (o.label()) } " on " (at.format("%Y-%m-%d")) " by " (by) @if !r.outcome_note.is_empty() { " — " (r.outcome_note) } },
                None if works => {
                    form.stack method="post" action=(format!("/outreach/{}/attempt", r.id)) {
                        (csrf_field(ctx))
                        div.grid {
                            (select_field("method", "Attempt", AttemptMethod::ALL.iter().map(|m| (m.key(), m.label().to_string())), "phone"))
                            (text_field("note", "Note", "", false))
                        }
                        div.actions { button type="submit" { "Record attempt" } }
                    }
                    form.stack method="post" action=(format!("/outreach/{}/close", r.id)) {
                        (csrf_field(ctx))
                        div.grid {
                            (select_field("outcome", "Outcome", Outcome::ALL.iter().map(|o| (o.key(), o.label().to_string())), "up-to-date"))
                            (text_field("note", "Note (e.g. the new provider)", "", false))
                        }
                        div.actions { button type="submit" { "Close referral" } }
                    }
                },
                None => p.muted { "Open: the IAP coordinator is working on it." },
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ReferForm {
    csrf: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    reason: String,
}

pub async fn refer(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReferForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let id: i64 = f.patient.trim().parse().map_err(|_| {
            AppError::BadRequest(format!(
                "Patient id {:?} is not a number.",
                f.patient.trim()
            ))
        })?;
        let (actor, now, reason) = (ctx.as_actor(), ctx.now, f.reason.clone());
        state
            .db(move |s| {
                Ok(outreach::refer(
                    s,
                    &actor,
                    PatientId(id),
                    None,
                    &reason,
                    now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/outreach").into_response()),
        Err(e) => {
            let q = ListQuery {
                patient: f.patient.clone(),
                reason: f.reason.clone(),
                show: String::new(),
            };
            again(&state, &ctx, &q, e).await
        }
    }
}

async fn again(
    state: &AppState,
    ctx: &Ctx,
    q: &ListQuery,
    e: AppError,
) -> Result<Response, AppError> {
    let msg = crate::inventory::user_message(e)?;
    Ok((
        StatusCode::BAD_REQUEST,
        render(state, ctx, q, Some(msg)).await?,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct WorkForm {
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

pub async fn attempt(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<WorkForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let method = AttemptMethod::parse(&f.method)?;
        let (actor, now, note) = (ctx.as_actor(), ctx.now, f.note.clone());
        state
            .db(move |s| Ok(outreach::record_attempt(s, &actor, id, method, &note, now)?))
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/outreach#referral-{id}")).into_response()),
        Err(e) => again(&state, &ctx, &ListQuery::default(), e).await,
    }
}

pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<WorkForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let outcome = Outcome::parse(&f.outcome)?;
        let (actor, now, note) = (ctx.as_actor(), ctx.now, f.note.clone());
        state
            .db(move |s| Ok(outreach::close(s, &actor, id, outcome, &note, now)?))
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/outreach?show=all").into_response()),
        Err(e) => again(&state, &ctx, &ListQuery::default(), e).await,
    }
}
