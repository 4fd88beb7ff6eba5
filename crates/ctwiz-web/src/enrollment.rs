//! Program enrollment on the web: the state's list of clinics with the public programs each
//! is enrolled in (CVP, CVFA, both, or private only) and a form per clinic to change it.
//! `usecase::clinic_info` decides (leaving a program needs its stock and open orders
//! settled), stores and audits, as for `ctwiz clinic enroll`.

use crate::error::AppError;
use crate::page::{self, csrf_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::program::ProgramType;
use ctwiz_store::usecase::clinic_info;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct Done {
    /// The clinic just enrolled (its PIN), for the confirmation line.
    #[serde(default)]
    done: String,
}

/// Every clinic, its town, its enrollment and a form to change it.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Done>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let clinics = state
        .db(move |s| Ok(clinic_info::clinics_to_enroll(s, &actor, now)?))
        .await?;
    let done = clinics.iter().find(|c| c.pin.as_str() == q.done);
    Ok(page::layout(
        &ctx,
        "Clinics and program enrollment",
        html! {
            p { "A clinic orders and gives public vaccine only from the programs it is enrolled in: CVP for children, CVFA for adults. A clinic leaves a program only after its stock of that program's vaccine is used, transferred or returned and its open orders are settled. Each program also needs the clinic's current signed agreement (" a href="/admin/agreements" { "program agreements" } ")." }
            @if let Some(c) = done {
                p.notice role="status" { (c.name) " (" (c.pin) ") is now enrolled in: " (c.program.label()) "." }
            }
            @if clinics.is_empty() { p.muted { "No clinics are registered." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "PIN" } th { "Town" } th { "County" } th { "Enrolled in" } th { "Change enrollment" } } }
                    tbody { @for c in &clinics { tr {
                        td { (c.name) @if !c.active { " " span.muted { "(inactive)" } } }
                        td { (c.pin) }
                        td { (c.at.town.as_deref().unwrap_or("–")) }
                        td { (c.county) }
                        td { (c.program.short()) }
                        td {
                            form.inline method="post" action={ "/admin/clinics/" (c.pin) "/enrollment" } {
                                (csrf_field(&ctx))
                                label { span.visually-hidden { "Programs for " (c.name) }
                                    select name="program" { @for p in ProgramType::ALL {
                                        option value=(p.key()) selected[p == c.program] { (p.label()) }
                                    } }
                                }
                                button type="submit" { "Save" }
                            }
                        }
                    } } }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct EnrollForm {
    csrf: String,
    #[serde(default)]
    program: String,
}

/// Sets one clinic's enrollment; a refusal (e.g. stock of the program left) is shown as
/// the CLI shows it.
pub async fn enroll(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pin): Path<String>,
    Form(f): Form<EnrollForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let pin = ClinicPin::new(&pin)?;
    let to = ProgramType::parse(&f.program)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let clinic = state
        .db(move |s| Ok(clinic_info::enroll(s, &actor, &pin, to, now)?))
        .await?;
    Ok(Redirect::to(&format!("/admin/clinics?done={}", clinic.pin)).into_response())
}
