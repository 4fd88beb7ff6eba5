//! The official immunization record, as HTML and as PDF.

use super::{group_doses, vaccine_name};
use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::access::Action;
use ctwiz_core::ids::PatientId;
use ctwiz_store::DoseStore;
use maud::{html, Markup};

// ---------------------------------------------------------------- official record

/// Loads what the official record shows and audits the print.
async fn record_data(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    what: &'static str,
) -> Result<crate::certificate::RecordData, AppError> {
    let ctx2 = ctx.clone();
    let (p, doses) = state
        .db(move |s| {
            let pid = PatientId(id);
            let p = ctx2.patient_for_purpose(s, pid, Action::CertificatePrint, what)?;
            let doses = s.doses(pid)?;
            Ok((p, doses))
        })
        .await?;
    let codes = state.codes();
    let rows = group_doses(codes, &doses)
        .into_iter()
        .flat_map(|(group, rows)| {
            rows.into_iter()
                .map(|(_, d)| (group.clone(), vaccine_name(codes, &d.cvx), d.date))
                .collect::<Vec<_>>()
        })
        .collect();
    let issuer = match ctx.clinic() {
        Some(c) => format!("{} (PIN {})", c.name, c.pin),
        None => crate::page::acting_label(ctx),
    };
    Ok(crate::certificate::RecordData {
        name: p.name.display(),
        dob: p.dob,
        sex: p.sex.code(),
        id: PatientId(id),
        rows,
        issuer,
        issued: ctx.now.date(),
    })
}

pub async fn official_record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let r = record_data(&state, &ctx, id, "official immunization record printed").await?;
    Ok(page::layout(
        &ctx,
        "Official immunization record",
        html! {
            div.no-print.notice {
                "Use your browser's Print command (Ctrl+P / ⌘P) to print this record, or "
                a href={ "/patients/" (id) "/record.pdf" } { "download it as PDF" } "."
            }
            (crate::certificate::html(&r))
        },
    ))
}

pub async fn official_record_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = record_data(&state, &ctx, id, "official immunization record PDF").await?;
    let pdf = crate::certificate::pdf(&r)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"immunization-record-{id}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
