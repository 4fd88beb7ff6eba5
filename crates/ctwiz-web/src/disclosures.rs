//! A patient's accounting of disclosures (state users only): every read and change of
//! the record in the audit log, with who, through which door, acting for which clinic.
//! The rows come from `ctwiz_store::usecase::audit::read`, which decides who may see
//! them and records that they were seen.

use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use ctwiz_core::ids::PatientId;
use ctwiz_store::usecase::audit::{self, AuditReadError};
use ctwiz_store::AuditFilter;
use maud::{html, Markup};

/// Rows shown on the page, newest first.
const SHOWN: u32 = 500;

fn refused(e: AuditReadError) -> AppError {
    match e {
        AuditReadError::Denied(_) => AppError::Forbidden,
        AuditReadError::EmptyPeriod { .. } => AppError::BadRequest(e.to_string()),
        AuditReadError::Store(s) => AppError::Store(s),
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let pid = PatientId(id);
    let ctx2 = ctx.clone();
    let rows = state
        .db(move |s| {
            let filter = AuditFilter {
                patient: Some(pid),
                limit: SHOWN,
                ..AuditFilter::default()
            };
            audit::read(s, &ctx2.as_actor(), &filter, ctx2.now).map_err(refused)
        })
        .await?;
    Ok(page::layout(
        &ctx,
        &format!("Disclosures of patient {id}"),
        html! {
            p { a href={ "/patients/" (id) } { "Back to the record" } }
            @if rows.is_empty() { p.muted { "Nobody has read or changed this record yet." } }
            @else {
                p.muted { "Newest first; at most " (SHOWN) " rows." }
                table {
                    thead { tr { th { "Time" } th { "Actor" } th { "Door" } th { "Clinic" } th { "Action" } th { "Detail" } } }
                    tbody { @for a in &rows { tr {
                        td { (a.at) }
                        td { (a.actor) }
                        td { (a.interface.key()) }
                        td { (a.clinic.as_ref().map(|c| c.to_string()).unwrap_or_default()) }
                        td { (a.action.key()) }
                        td { (a.detail) }
                    } } }
                }
            }
        },
    ))
}
