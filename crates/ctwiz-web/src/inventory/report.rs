//! The inventory movement report (page and CSV).

use crate::error::AppError;
use crate::page::{self, date_field};
use crate::patients::vaccine_name;
use crate::reports::{csv_download, parse_date};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_store::usecase::inventory as usecase;
use maud::html;
use serde::Deserialize;

// ---------------------------------------------------------------- movement report

/// A report's optional date parameter (empty: the report's default).
pub(super) fn optional_date(
    v: &Option<String>,
    what: &str,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    v.as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse_date(what, v))
        .transpose()
}

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// Stock movements per clinic, vaccine, funding, kind and reason, for the clinics the
/// user may see (a clinic user: their acting clinic).
pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let (from, to) = (optional_date(&q.from, "from")?, optional_date(&q.to, "to")?);
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let report = state
        .db(move |s| Ok(usecase::movement_report(s, &actor, from, to, None, now)?))
        .await?;
    let (from, to, rows) = (report.from, report.to, report.rows);
    if q.format.as_deref() == Some("csv") {
        return csv_download(
            "inventory-movements.csv",
            &[
                "clinic",
                "county",
                "cvx",
                "funding",
                "kind",
                "reason",
                "doses",
                "transactions",
            ],
            rows.iter().map(|r| {
                vec![
                    r.clinic.to_string(),
                    r.county.to_string(),
                    r.cvx.to_string(),
                    r.funding.clone(),
                    r.kind.clone(),
                    r.reason.clone().unwrap_or_default(),
                    r.doses_text(),
                    r.transactions.to_string(),
                ]
            }),
        );
    }
    let codes = state.codes();
    Ok(page::layout(
        &ctx,
        "Inventory movement report",
        html! {
            form.card method="get" action="/inventory/report" {
                div.grid {
                    (date_field("from", "From", &from.to_string(), false))
                    (date_field("to", "To", &to.to_string(), false))
                }
                div.actions { button type="submit" { "Run report" } }
            }
            p { "Doses administered, received, moved and wasted from " (from) " to " (to) " · " (page::acting_label(&ctx)) "." }
            @if rows.is_empty() { p.muted { "No stock movements in this period." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "County" } th { "Vaccine" } th { "Funding" } th { "Movement" } th { "Reason" } th { "Doses" } th { "Transactions" } } }
                    tbody { @for r in &rows { tr {
                        td { (r.clinic) } td { (r.county) } td { (vaccine_name(codes, &r.cvx)) } td { (r.funding) }
                        td { (r.kind) } td { (r.reason.clone().unwrap_or_default()) } td { (r.doses_text()) } td { (r.transactions) }
                    } } }
                }
            }
            p { a href={ "/inventory/report?format=csv&from=" (from) "&to=" (to) } { "Download CSV" } }
        },
    )
    .into_response())
}
