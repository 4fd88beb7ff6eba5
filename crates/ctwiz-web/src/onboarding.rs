//! Onboarding pages (`usecase::onboarding`): the clinic files its Application for
//! Electronic Reporting and follows its stage; DPH lists every clinic's onboarding, reviews
//! the QA results and moves each clinic on (or back to QA with notes).

use crate::error::AppError;
use crate::page::{self, csrf_field, form_error, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::{ClinicPin, Email, Phone};
use ctwiz_core::onboarding::{Application, Method, Stage};
use ctwiz_store::onboarding::Onboarding;
use ctwiz_store::usecase::onboarding::{self, QaSummary};
use maud::{html, Markup};
use serde::Deserialize;

/// DPH: every clinic's onboarding; a clinic: its own (or the application form).
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(c) = ctx.clinic() {
        return Ok(Redirect::to(&format!("/onboarding/{}", c.pin)).into_response());
    }
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let list = state
        .db(move |s| Ok(onboarding::list(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Onboarding",
        html! {
            p { "Each clinic's Application for Electronic Reporting and where it stands. Open a clinic to review its QA messages and move it on." }
            @if list.is_empty() { p.muted { "No applications." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "Method" } th { "Stage" } th { "Applied" } th { "Next step" } } }
                    tbody { @for o in &list { tr {
                        td { a href=(format!("/onboarding/{}", o.clinic)) { (o.clinic) } }
                        td { (o.application.method.label()) } td { (o.stage.label()) }
                        td { (o.applied_at.date()) } td { (o.stage.next_step()) }
                    } } }
                }
            }
        },
    )
    .into_response())
}

pub async fn clinic(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pin): Path<String>,
) -> Result<Response, AppError> {
    render(&state, &ctx, &pin, None).await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    pin: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let pin = ClinicPin::new(pin)?;
    let (actor, now, p2) = (ctx.as_actor(), ctx.now, pin.clone());
    let found = state
        .db(move |s| Ok(onboarding::status(s, &actor, &p2, now)?))
        .await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match found {
        Some((o, qa)) => status_page(ctx, &o, &qa, error.as_deref()),
        None => application_form(ctx, &pin, error.as_deref()),
    };
    Ok((status, page::layout(ctx, "Onboarding", body)).into_response())
}

fn application_form(ctx: &Ctx, pin: &ClinicPin, error: Option<&str>) -> Markup {
    html! {
        p { "Application for Electronic Reporting for clinic " strong { (pin) } ". Choose how the clinic will report: its EHR sends HL7 messages, or staff enter doses in these pages." }
        (form_error(error))
        form.card.stack method="post" action=(format!("/onboarding/{pin}/apply")) {
            (csrf_field(ctx))
            (select_field("method", "Reporting method", [(Method::EhrHl7.key(), Method::EhrHl7.label().to_string()), (Method::UiDirectEntry.key(), Method::UiDirectEntry.label().to_string())], Method::EhrHl7.key()))
            div.grid {
                (text_field("vendor", "EHR vendor", "", false))
                (text_field("product", "EHR product and version", "", false))
            }
            div.grid {
                (text_field("contact_name", "Technical contact", "", true))
                label { span { "Contact e-mail *" } input type="email" name="contact_email" required; }
                (text_field("contact_phone", "Contact phone", "", false))
            }
            div.actions { button type="submit" { "Send the application" } }
        }
    }
}

fn status_page(ctx: &Ctx, o: &Onboarding, qa: &QaSummary, error: Option<&str>) -> Markup {
    let a = &o.application;
    let stages = a.method.stages();
    let at = stages.iter().position(|s| *s == o.stage).unwrap_or(0);
    let next = stages.get(at + 1).copied();
    html! {
        p { "Clinic " strong { (o.clinic) } " · " (a.method.label())
            @if a.method == Method::EhrHl7 { " · " (a.ehr_vendor) " " (a.ehr_product) }
            " · technical contact " (a.contact_name) " <" (a.contact_email) ">" }
        (form_error(error))
        ol.stages { @for (i, s) in stages.iter().enumerate() {
            li aria-current=[(i == at).then_some("step")] { @if i < at { "✓ " } (s.label()) }
        } }
        p { strong { "Stage: " (o.stage.label()) } ". Next: " (o.stage.next_step()) }
        @if a.method == Method::EhrHl7 {
            h2 { "QA messages" }
            p { (qa.messages) " messages in QA: " (qa.accepted) " accepted, " (qa.with_errors) " with errors, " (qa.rejected) " rejected (error rate " (format!("{:.1}%", qa.error_rate())) ")." }
            @if !qa.top_errors.is_empty() {
                table { thead { tr { th { "Error code" } th { "Messages" } } }
                    tbody { @for (code, n) in &qa.top_errors { tr { td { (code) } td { (n) } } } } }
            }
        }
        @if o.stage.is_live() {
            p { a href=(format!("/onboarding/{}/notice", o.clinic)) { "Notice to Patients about reporting (English and Spanish)" } }
        }
        h2 { "History" }
        table {
            thead { tr { th { "When" } th { "By" } th { "Stage" } th { "Notes" } } }
            tbody { @for e in &o.history { tr {
                td { (e.at.format("%Y-%m-%d %H:%M")) } td { (e.by) } td { (e.to.label()) } td { (e.notes) }
            } } }
        }
        @if ctx.can(Action::ChangeRequestReview) && ctx.clinic().is_none() {
            @if let Some(next) = next {
                form.card.stack method="post" action=(format!("/onboarding/{}/advance", o.clinic)) {
                    h2 { "Move the clinic on" }
                    (csrf_field(ctx))
                    input type="hidden" name="to" value=(next.key());
                    (text_field("notes", "Notes", "", false))
                    div.actions { button type="submit" { "Move to: " (next.label()) } }
                }
            }
            @if o.stage == Stage::DqaReview {
                form.card.stack method="post" action=(format!("/onboarding/{}/advance", o.clinic)) {
                    h2 { "Send back to QA" }
                    (csrf_field(ctx))
                    input type="hidden" name="to" value=(Stage::Qa.key());
                    (text_field("notes", "What the clinic must fix", "", true))
                    div.actions { button.secondary type="submit" { "Send back to QA" } }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
}

pub async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pin): Path<String>,
    Form(f): Form<ApplyForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let clinic = ClinicPin::new(&pin)?;
        let phone = Some(f.contact_phone.trim())
            .filter(|p| !p.is_empty())
            .map(Phone::new)
            .transpose()?;
        let app = Application::new(
            Method::parse(&f.method)?,
            &f.vendor,
            &f.product,
            &f.contact_name,
            Email::new(&f.contact_email)?,
            phone,
        )?;
        let (actor, now) = (ctx.as_actor(), ctx.now);
        state
            .db(move |s| Ok(onboarding::apply(s, &actor, Some(&clinic), &app, now)?))
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/onboarding/{pin}")).into_response()),
        Err(e) => render(&state, &ctx, &pin, Some(crate::inventory::user_message(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct AdvanceForm {
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    notes: String,
}

pub async fn advance(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pin): Path<String>,
    Form(f): Form<AdvanceForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let clinic = ClinicPin::new(&pin)?;
        let to = Stage::parse(&f.to)?;
        let (actor, now, notes) = (ctx.as_actor(), ctx.now, f.notes.clone());
        state
            .db(move |s| Ok(onboarding::advance(s, &actor, &clinic, to, &notes, now)?))
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/onboarding/{pin}")).into_response()),
        Err(e) => render(&state, &ctx, &pin, Some(crate::inventory::user_message(e)?)).await,
    }
}

pub async fn notice(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(pin): Path<String>,
) -> Result<Response, AppError> {
    let clinic = ClinicPin::new(&pin)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let text = state
        .db(move |s| Ok(onboarding::patient_notice(s, &actor, &clinic, now)?))
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"notice-to-patients-{pin}.txt\""),
            ),
        ],
        text,
    )
        .into_response())
}
