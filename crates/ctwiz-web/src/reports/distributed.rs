//! Reports the state distributed to the acting practice (monthly compliancy, yearly
//! clean-up): the list, and each one as a page or CSV (`usecase::distributions` decides,
//! marks opened and audits; this renders).

use crate::error::AppError;
use crate::page;
use crate::patients::record::download;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::assessment::distribution;
use ctwiz_store::usecase::distributions;
use maud::html;
use serde::Deserialize;

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let list = state
        .db(move |s| Ok(distributions::list(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Distributed reports",
        html! {
            p { "Lists the DPH Immunization Program sends to " strong { (page::acting_label(&ctx)) } ": each month the children turning 8 or 20 months with what they are missing, and each year the two-year-olds not up to date." }
            @if list.is_empty() { p.muted { "No report has been distributed to this practice yet." } } @else {
                table {
                    thead { tr { th { "Report" } th { "Period" } th { "Children" } th { "Sent" } th { "Opened" } } }
                    tbody { @for d in &list { tr {
                        td { a href={ "/reports/distributed/" (d.id) } { (d.kind.label()) } }
                        td { (d.period) } td { (d.children.len()) } td { (d.created_at.date()) }
                        td { @if let Some(o) = d.opened_at { (o.date()) } @else { strong { "New" } } }
                    } } }
                }
            }
        },
    )
    .into_response())
}

#[derive(Deserialize)]
pub struct ViewQuery {
    #[serde(default)]
    csv: Option<String>,
    #[serde(default)]
    pdf: Option<String>,
}

pub async fn view(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let d = state
        .db(move |s| Ok(distributions::open(s, &actor, id, now)?))
        .await?;
    let name = |ext: &str| format!("{}-{}-{}.{ext}", d.kind.key(), d.period, d.clinic);
    if q.pdf.is_some() {
        let bytes =
            ctwiz_store::distributions::pdf(&d).map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(download("application/pdf", name("pdf"), bytes));
    }
    if q.csv.is_some() {
        let text = distribution::csv(&d.children);
        return Ok(download(
            "text/csv; charset=utf-8",
            name("csv"),
            text.into_bytes(),
        ));
    }
    let behind = d.children.iter().filter(|c| !c.up_to_date).count();
    Ok(page::layout(
        &ctx,
        &format!("{} – {}", d.kind.label(), d.period),
        html! {
            p { (d.children.len()) " child(ren) for " (d.clinic) ", sent " (d.created_at.date()) "; " strong { (behind) } " not up to date. "
                a href={ "/reports/distributed/" (d.id) "?csv=1" } { "Download CSV" } " · "
                a href={ "/reports/distributed/" (d.id) "?pdf=1" } { "Print (PDF)" } }
            table {
                thead { tr {
                    th { "Child" } th { "Date of birth" }
                    @if d.children.iter().any(|c| c.milestone_months.is_some()) { th { "Milestone" } }
                    th { "Up to date" } th { "Missing" } th { "Not asked" }
                } }
                tbody { @for c in &d.children { tr {
                    td { @if let Some(p) = c.patient { a href={ "/patients/" (p) } { (c.name) } } @else { (c.name) } }
                    td { (c.dob) }
                    @if let (Some(m), Some(day)) = (c.milestone_months, c.milestone_day) { td { (m) " months on " (day) } }
                    td { @if c.up_to_date { span.ok { "yes" } } @else { span.bad { "no" } } }
                    td { (c.missing.join(", ")) }
                    td.muted { (c.not_due.join("; ")) }
                } } }
            }
        },
    )
    .into_response())
}
