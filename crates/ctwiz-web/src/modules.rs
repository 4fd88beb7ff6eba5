//! The home page and the modules other than Patient Management and Administration:
//! clinic tools, tasks and school rosters (inventory and reports have their own modules).

use crate::error::AppError;
use crate::page::{self, csrf_field, nav_links, text_field};
use crate::session::{CsrfOnly, Ctx};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::PatientId;
use ctwiz_store::web::{RequestStatus, WebStore};
use ctwiz_store::{usecase, UserStore};
use maud::{html, Markup};
use serde::Deserialize;

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let pending = if ctx.can(Action::AccountApprove) {
        Some(
            state
                .db(|s| Ok(s.account_requests(Some(RequestStatus::Pending))?.len()))
                .await?,
        )
    } else {
        None
    };
    let links: Vec<_> = nav_links(&ctx).into_iter().skip(1).collect();
    let bell = crate::inventory::load_bell(&state, &ctx).await?;
    Ok(page::layout_with_bell(
        &ctx,
        "Home",
        html! {
            p { "Signed in as " strong { (ctx.user.username) } ", acting for " strong { (page::acting_label(&ctx)) } " as " (page::role_label(&ctx)) "." }
            @if let Some(n) = pending { @if n > 0 { p.notice { (n) " account request(s) wait for approval. " a href="/admin/requests" { "Review them" } } } }
            @if links.is_empty() { p.notice { "Your account has no access here yet. Contact the DPH state team." } }
            div.tiles {
                @for (href, label) in links {
                    a.card href=(href) { h2 { (label) } }
                }
            }
        },
        bell,
    ))
}

pub async fn clinic_tools(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    ctx.require(&state, Action::ClinicToolsView).await?;
    let clinic = ctx.clinic().cloned();
    let pin = clinic.as_ref().map(|c| c.pin.clone());
    let staff = state
        .db(move |s| {
            let Some(pin) = pin else {
                return Ok(Vec::new());
            };
            Ok(s.users()?
                .into_iter()
                .filter_map(|u| {
                    u.role_at(&pin)
                        .map(|r| (u.full_name.clone(), u.username.to_string(), r.label()))
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(page::layout(
        &ctx,
        "Clinic Tools",
        html! {
            @if let Some(c) = &clinic {
                section.card {
                    h2 { "Clinic profile" }
                    dl.facts {
                        dt { "Name" } dd { (c.name) }
                        dt { "PIN" } dd { (c.pin) }
                        dt { "County" } dd { (c.county) }
                        dt { "Program" } dd { (match c.program { ctwiz_core::org::ProgramType::Cvp => "Connecticut Vaccine Program (CVP)", ctwiz_core::org::ProgramType::PrivateOnly => "Private stock only" }) }
                        @if let Some(a) = &c.address { dt { "Address" } dd { (a.street) ", " (a.city) " " (a.zip) } }
                        @if let Some(p) = &c.phone { dt { "Phone" } dd { (p.formatted()) } }
                        @if let Some(h) = &c.delivery_hours { dt { "Delivery hours" } dd { (h) } }
                    }
                }
                section.card {
                    h2 { "Clinic staff with access" }
                    table { thead { tr { th { "Name" } th { "Username" } th { "Access type" } } }
                        tbody { @for (n, u, r) in &staff { tr { td { (n) } td { (u) } td { (r) } } } } }
                }
            } @else {
                p { "Clinic Tools are per clinic; choose a clinic to see its profile." }
            }
        },
    ))
}

pub async fn tasks(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    ctx.require(&state, Action::TaskView).await?;
    let pending = if ctx.can(Action::AccountApprove) {
        state
            .db(|s| Ok(s.account_requests(Some(RequestStatus::Pending))?.len()))
            .await?
    } else {
        0
    };
    Ok(page::layout(
        &ctx,
        "Tasks",
        html! {
            @if pending > 0 { p { a href="/admin/requests" { (pending) " account request(s) to review" } } }
            @else { p.muted { "No open tasks." } }
        },
    ))
}

// ---------------------------------------------------------------- school rosters

pub async fn rosters(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let Some(clinic) = ctx.clinic().cloned() else {
        ctx.require(&state, Action::RosterView).await?;
        return Ok(page::layout(
            &ctx,
            "Student rosters",
            html! { p { "Rosters are kept per school. Sign in with a school account to see its roster." } },
        ));
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let students = state
        .db(move |s| Ok(usecase::rosters::list(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        &format!("Student roster – {}", clinic.name),
        html! {
            @if students.is_empty() { p.muted { "No students on the roster yet." } } @else {
                table {
                    thead { tr { th { "Student" } th { "Date of birth" } th { "ID" } @if ctx.can(Action::RosterEdit) { th { "" } } } }
                    tbody { @for st in &students { tr {
                        td { a href={ "/patients/" (st.id) } { (st.name) } }
                        td { (st.dob) } td { (st.id) }
                        @if ctx.can(Action::RosterEdit) { td {
                            form.inline method="post" action={ "/rosters/" (st.id) "/remove" } { (csrf_field(&ctx)) button.small.secondary type="submit" { "Remove" } }
                        } }
                    } } }
                }
            }
            @if ctx.can(Action::RosterEdit) {
                form.card.stack method="post" action="/rosters/add" {
                    (csrf_field(&ctx))
                    (text_field("patient_id", "Add a student by ctwiz ID (find it with Patient search)", "", true))
                    div.actions { button type="submit" { "Add to roster" } }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct RosterAdd {
    csrf: String,
    patient_id: String,
}

pub async fn roster_add(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RosterAdd>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let id: i64 = f
        .patient_id
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(format!("{:?} is not a ctwiz ID.", f.patient_id)))?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::rosters::add(s, &actor, PatientId(id), now)?))
        .await?;
    Ok(Redirect::to("/rosters").into_response())
}

pub async fn roster_remove(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::rosters::remove(s, &actor, PatientId(id), now)?))
        .await?;
    Ok(Redirect::to("/rosters").into_response())
}
