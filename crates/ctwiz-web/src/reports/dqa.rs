//! DQA – Interface Activity: HL7 messages received and their errors, per facility.

use super::{csv_download, downloads, Params};
use crate::error::AppError;
use crate::page::{self, date_field, select_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::Clinic;
use ctwiz_store::interface::{ActivityRow, ErrorCodeRow};
use maud::html;

// ---------------------------------------------------------------- DQA

pub async fn dqa(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let wanted = p.get("clinic").map(ClinicPin::new).transpose()?;
    let (from, to) = (p.date("from")?, p.date("to")?);
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let asker = actor.clone();
    let r = state
        .db(move |s| {
            Ok(ctwiz_store::usecase::reports::dqa(
                s,
                &asker,
                from,
                to,
                wanted.as_ref(),
                now,
            )?)
        })
        .await?;
    let (from, to, clinics, activity, errors) = (r.from, r.to, r.clinics, r.activity, r.errors);
    let stock_exceptions = r.inventory_exceptions;
    if p.csv() {
        return match p.get("table") {
            Some("errors") => csv_download(
                "dqa-errors.csv",
                &ErrorCodeRow::COLUMNS,
                errors.iter().map(ErrorCodeRow::cells),
            ),
            _ => csv_download(
                "dqa-activity.csv",
                &ActivityRow::COLUMNS,
                activity.iter().map(ActivityRow::cells),
            ),
        };
    }
    let choices: Vec<&Clinic> = if ctx.clinic().is_some() {
        Vec::new()
    } else {
        clinics
            .iter()
            .filter(|c| {
                ctwiz_store::usecase::reports::dqa_facility_visible(
                    &actor,
                    &clinics,
                    c.pin.as_str(),
                )
            })
            .collect()
    };
    let received: u64 = activity.iter().map(|r| r.received).sum();
    Ok(page::layout(
        &ctx,
        "DQA – Interface Activity",
        html! {
            form.card method="get" action="/reports/dqa" {
                div.grid {
                    (date_field("from", "From", &from.to_string(), false))
                    (date_field("to", "To", &to.to_string(), false))
                    @if !choices.is_empty() {
                        (select_field("clinic", "Facility",
                            std::iter::once(("", "All facilities in scope".to_string())).chain(
                                choices.iter().map(|c| (c.pin.as_str(), format!("{} ({})", c.name, c.pin)))),
                            p.get("clinic").unwrap_or("")))
                    }
                }
                div.actions { button type="submit" { "Run report" } }
            }
            p { "Interface activity from " (from) " to " (to) " for " (page::acting_label(&ctx)) ": "
                strong { (received) } " message(s) received. Late reports are doses reported more than 48 hours after they were given." }
            @if activity.is_empty() {
                p.notice { "No HL7 interface messages were received in this period." }
            } @else {
                table {
                    thead { tr { th { "Facility" } th { "Day" } th { "Received" } th { "Accepted (AA)" } th { "Errors (AE)" }
                        th { "Rejected (AR)" } th { "With warnings" } th { "Late reports" } th { "Late doses" } th { "In QA" } } }
                    tbody { @for r in &activity { tr {
                        td { (r.facility) } td { (r.day) } td { (r.received) } td { (r.accepted) } td { (r.errors) }
                        td { (r.rejected) } td { (r.with_warnings) } td { (r.late_reports) } td { (r.late_doses) } td { (r.qa) }
                    } } }
                }
            }
            h2 { "Errors and warnings by code" }
            @if errors.is_empty() { p.muted { "None." } } @else {
                table {
                    thead { tr { th { "Facility" } th { "Day" } th { "Severity" } th { "HL7 0357" } th { "Application code" } th { "Count" } } }
                    tbody { @for r in &errors { tr {
                        td { (r.facility) } td { (r.day) } td { (r.severity) } td { (r.hl7_code) }
                        td { (r.app_code.clone().unwrap_or_default()) } td { (r.count) }
                    } } }
                }
            }
            h2 { "Inventory exceptions" }
            p.muted { "Administered doses a sender reported from a lot its clinic could not draw from (the coordinator settles them under Inventory → Exceptions)." }
            @if stock_exceptions.is_empty() { p.muted { "None." } } @else {
                table {
                    thead { tr { th { "Facility" } th { "Exception" } th { "Doses" } } }
                    tbody { @for (c, k, n) in &stock_exceptions { tr {
                        td { (c) } td { (k.label()) } td { (n) }
                    } } }
                }
            }
            (downloads(&p, "/reports/dqa", &[("activity", "activity"), ("errors", "error codes")]))
        },
    )
    .into_response())
}
