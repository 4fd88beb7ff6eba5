//! Program agreements on the web: the Clinic Tools section (status, the versioned text and
//! the physician's signing form) and the state's list of clinics without a current
//! agreement. `usecase::agreements` decides, stores and audits.

use crate::error::AppError;
use crate::page::{self, csrf_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::agreement::Program;
use ctwiz_store::usecase::agreements::{self, Status};
use maud::{html, Markup};
use serde::Deserialize;

/// The Clinic Tools section: each program's newest signature and whether it is current;
/// for the signing physician, the current texts and the form.
pub fn section(ctx: &Ctx, st: &Status) -> Markup {
    html! {
        section.card #agreement {
            h2 { "Program agreement" }
            @let missing = st.missing();
            @if !missing.is_empty() {
                p.bad role="alert" { "No current " (missing.iter().map(|p| p.short()).collect::<Vec<_>>().join(" or ")) " agreement: this clinic may not order that program's vaccine until its signing physician signs." }
            }
            table {
                thead { tr { th { "Program" } th { "Signed version" } th { "Signed by" } th { "Signed on" } th { "Current through" } th { "Status" } } }
                tbody { @for (p, s, current) in st.programs.iter().filter(|(p, ..)| st.clinic.program.enrolled(*p)) { tr {
                    td { (p.label()) }
                    @if let Some(s) = s {
                        td { (s.version) } td { (s.typed_name) " " span.muted { "(" (s.signed_by) ")" } }
                        td { (s.signed_at.date()) } td { (s.valid_through()) }
                        td { @if *current { span.ok { "Current" } } @else { span.bad { "Sign again" } } }
                    } @else {
                        td colspan="4" { span.muted { "never signed" } } td { span.bad { "Not signed" } }
                    }
                } } }
            }
            @if ctx.can(Action::ClinicAgreementSign) {
                @for p in st.clinic.program.programs() {
                    @let text = p.current();
                    details {
                        summary { (text.title) " (" (text.version) ")" }
                        ol { @for t in text.terms { li { (t) } } }
                    }
                }
                form.stack method="post" action="/clinic-tools/agreement" {
                    (csrf_field(ctx))
                    label { span { "Agreement" }
                        select name="program" { @for p in st.clinic.program.programs() { option value=(p.key()) { (p.label()) } } }
                    }
                    (text_field("typed_name", "Your first and last name (your signature)", "", true))
                    label.check { input type="checkbox" name="agree" value="1"; " I have read the agreement and agree to every term, for this clinic, for one year." }
                    div.actions { button type="submit" { "Sign the agreement" } }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SignForm {
    csrf: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    agree: Option<String>,
}

pub async fn sign(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<SignForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let pin = match ctx.clinic() {
        Some(c) => c.pin.clone(),
        None => {
            ctx.require(&state, Action::ClinicAgreementSign).await?;
            return Err(AppError::BadRequest(
                "Choose the clinic you are signing for first.".into(),
            ));
        }
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(agreements::sign(
                s,
                &actor,
                &pin,
                &f.program,
                &f.typed_name,
                f.agree.is_some(),
                now,
            )?)
        })
        .await?;
    Ok(Redirect::to("/clinic-tools?done=signed#agreement").into_response())
}

/// The state's list: public-program clinics without a current agreement.
pub async fn flagged(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let list = state
        .db(move |s| Ok(agreements::flagged(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Clinics without a current program agreement",
        html! {
            p { "These clinics may not order a program's vaccine (CVP or CVFA) until their signing physician signs this year's agreement of that program in Clinic Tools." }
            @if list.is_empty() { p.muted { "Every clinic has a current agreement for each program it is enrolled in." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "PIN" } th { "County" } @for p in Program::ALL { th { (p.key().to_uppercase()) " – newest signature" } } } }
                    tbody { @for st in &list { tr {
                        td { (st.clinic.name) } td { (st.clinic.pin) } td { (st.clinic.county) }
                        @for (p, s, current) in &st.programs {
                            td { @if !st.clinic.program.enrolled(*p) { span.muted { "not enrolled" } }
                                @else if *current { span.ok { "current" } }
                                @else if let Some(s) = s { (s.version) " signed " (s.signed_at.date()) " by " (s.typed_name) " – " span.bad { "not current" } }
                                @else { span.bad { "never signed" } } }
                        }
                    } } }
                }
            }
        },
    ))
}
