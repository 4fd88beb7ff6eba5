//! Releases of information on the official-record page: the signed authorizations under
//! which the record was given to someone, listed, and a form to record a new one. The
//! rules and the audit are `ctwiz_store::usecase::releases`'.

use crate::error::AppError;
use crate::page::csrf_field;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::ids::PatientId;
use ctwiz_store::portal::{NewRelease, Release};
use ctwiz_store::usecase::releases;
use maud::{html, Markup};
use serde::Deserialize;

/// Who may sign for a patient, as the form offers it.
const RELATIONSHIPS: [&str; 5] = ["self", "mother", "father", "legal guardian", "other"];

/// The record's past releases, for `ctx`.
pub async fn list(state: &AppState, ctx: &Ctx, id: i64) -> Result<Vec<Release>, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(releases::list(s, &actor, PatientId(id), now)?))
        .await
}

/// The list and the form, below the certificate (not printed).
pub fn section(ctx: &Ctx, id: i64, past: &[Release]) -> Markup {
    html! {
        section.card.no-print {
            h2 { "Releases of information" }
            @if past.is_empty() { p.muted { "No release of information recorded." } } @else {
                table {
                    thead { tr { th { "Signed on" } th { "Signed by" } th { "Released to" } th { "Information" } th { "Recorded by" } } }
                    tbody {
                        @for r in past {
                            tr {
                                td { (r.signed_on) }
                                td { (r.signed_by) " (" (r.relationship) ")" }
                                td { (r.released_to) }
                                td { (r.information) }
                                td { (r.recorded_by) " · " (r.recorded_at) }
                            }
                        }
                    }
                }
            }
            h3 { "Record a signed release" }
            form.stack method="post" action={ "/patients/" (id) "/releases" } {
                (csrf_field(ctx))
                (crate::page::text_field("signed_by", "Signed by (name)", "", true))
                label { span { "Relationship to the patient *" }
                    select name="relationship" required {
                        @for r in RELATIONSHIPS { option value=(r) { (r) } }
                    }
                }
                (crate::page::text_field("released_to", "Released to (school, provider, camp…)", "", true))
                (crate::page::text_field("information", "Information released", "complete immunization history", true))
                label { span { "Date signed *" } input type="date" name="signed_on" value=(ctx.now.date()) required; }
                div.actions { button type="submit" { "Record the release" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    csrf: String,
    signed_by: String,
    relationship: String,
    released_to: String,
    information: String,
    signed_on: String,
}

/// `POST /patients/{id}/releases`.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let r = NewRelease {
        signed_by: f.signed_by,
        relationship: f.relationship,
        released_to: f.released_to,
        information: f.information,
        signed_on: super::parse_date("Date signed", &f.signed_on)?,
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(releases::record(s, &actor, PatientId(id), &r, now)?))
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}/record")).into_response())
}
