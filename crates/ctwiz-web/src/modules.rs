//! The home page, tasks and school rosters (Clinic Tools, inventory and reports have
//! their own modules).

use crate::error::AppError;
use crate::page::{self, csrf_field, module_links, text_field};
use crate::session::{CsrfOnly, Ctx};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::PatientId;
use ctwiz_store::usecase;
use maud::{html, Markup};
use serde::Deserialize;

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let (tasks, unread, recent) = state
        .db(move |s| {
            let tasks = if actor.may(Action::TaskView) {
                usecase::tasks::pending(s, &actor, now)?
            } else {
                Vec::new()
            };
            let unread: Vec<_> = usecase::notifications::list(s, &actor, now)?
                .into_iter()
                .filter(|n| n.read_at.is_none())
                .take(5)
                .collect();
            let recent = if actor.may(Action::PatientView) || actor.may(Action::RosterView) {
                usecase::patients::recently_viewed(s, &actor, now)?
            } else {
                Vec::new()
            };
            Ok((tasks, unread, recent))
        })
        .await?;
    let open_tasks: usize = tasks.iter().map(|t| t.count).sum();
    let links = module_links(&ctx);
    let bell = crate::inventory::load_bell(&state, &ctx).await?;
    Ok(page::layout_with_bell(
        &ctx,
        "Home",
        html! {
            p { "Signed in as " strong { (ctx.user.username) } ", acting for " strong { (page::acting_label(&ctx)) } " as " (page::role_label(&ctx)) "." }
            @if links.is_empty() { p.notice { "Your account has no access here yet. Contact the DPH state team." } }
            div.cols {
                div {
                    @if ctx.can(Action::PatientSearch) {
                        form.card.quick-search method="get" action="/patients" role="search" {
                            h2 { "Quick patient search" }
                            div.grid {
                                (text_field("family", "Last name", "", false))
                                (text_field("given", "First name", "", false))
                                label { span { "Date of birth" } input type="date" name="dob"; }
                            }
                            div.actions { button type="submit" { "Search" } }
                        }
                    }
                    @if !recent.is_empty() {
                        section.card {
                            h2 { "Recently viewed patients" }
                            ul.recent {
                                @for p in &recent {
                                    @if let Some(id) = p.id {
                                        li { a href={ "/patients/" (id) } { (p.name.display()) } " " span.muted { "born " (p.dob) " · ID " (id) } }
                                    }
                                }
                            }
                        }
                    }
                }
                div {
                    @if ctx.can(Action::TaskView) {
                        section.card {
                            h2 { a href="/tasks" { "Tasks" } " " span.badge { (open_tasks) } }
                            @if tasks.is_empty() { p.muted { "No open tasks." } }
                            ul.tasks { @for t in &tasks { li { a href=(t.link) { strong { (t.count) } " " (t.what) } } } }
                        }
                    }
                    section.card {
                        h2 { a href="/notifications" { "Notifications" } " " span.badge { (ctx.unread_notifications) } }
                        @if unread.is_empty() { p.muted { "No unread notifications." } }
                        ul.notifications {
                            @for n in &unread {
                                li { a href={ "/notifications/" (n.id) } { (n.kind.label()) ": " (n.message) } }
                            }
                        }
                    }
                }
            }
            div.tiles {
                @for (href, label) in links {
                    a.card href=(href) { h2 { (label) } }
                }
            }
        },
        bell,
    ))
}

pub async fn tasks(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let tasks = state
        .db(move |s| Ok(usecase::tasks::pending(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Tasks",
        html! {
            @if tasks.is_empty() { p.muted { "No open tasks." } } @else {
                ul.tasks {
                    @for t in &tasks {
                        li { a href=(t.link) { strong { (t.count) } " " (t.what) } }
                    }
                }
            }
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
                    h2 { "Add a student" }
                    p.muted { "Enter the student's first name, last name and date of birth exactly as the family gives them. The student is added only when exactly one record matches; you then see that student's immunization record." }
                    (csrf_field(&ctx))
                    (text_field("given", "First name", "", true))
                    (text_field("family", "Last name", "", true))
                    label { span { "Date of birth" } input type="date" name="dob" required; }
                    div.actions { button type="submit" { "Add to roster" } }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct RosterAdd {
    csrf: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    dob: String,
}

pub async fn roster_add(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RosterAdd>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let dob = chrono::NaiveDate::parse_from_str(f.dob.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "{:?} is not a date of birth (use the date picker or YYYY-MM-DD).",
            f.dob
        ))
    })?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(usecase::rosters::add_by_name(
                s, &actor, &f.given, &f.family, dob, now,
            )?)
        })
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
