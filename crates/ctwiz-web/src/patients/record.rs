//! The official immunization certificate of a record: the print page, the PDF and the
//! SMART Health Card file, all issued by `usecase::certificates` (audited as a print).

use crate::certificate::KindQuery;
use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ctwiz_core::certificate::CertificateKind;
use ctwiz_core::ids::PatientId;
use ctwiz_store::usecase::certificates::{self, Issued};
use maud::{html, Markup};

/// Issues the certificate of `kind` for record `id` as the signed-in user.
async fn issue(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    kind: CertificateKind,
) -> Result<Issued, AppError> {
    let issuer = match ctx.clinic() {
        Some(c) => format!("{} (PIN {})", c.name, c.pin),
        None => crate::page::acting_label(ctx),
    };
    let actor = ctx.as_actor();
    let now = ctx.now;
    let st = state.clone();
    state
        .db(move |s| {
            let req = certificates::IssueRequest {
                patient: PatientId(id),
                kind,
                issuer,
                iss: st.public_url(),
                codes: st.codes(),
            };
            Ok(certificates::issue(s, &actor, &req, now)?)
        })
        .await
}

pub async fn official_record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<KindQuery>,
) -> Result<Markup, AppError> {
    let kind = q.kind()?;
    let issued = issue(&state, &ctx, id, kind).await?;
    let past = super::releases::list(&state, &ctx, id).await?;
    let base = format!("/patients/{id}/record");
    Ok(page::layout(
        &ctx,
        "Official immunization record",
        html! {
            (crate::certificate::kind_links(&base, kind))
            div.no-print.notice {
                "Use your browser's Print command (Ctrl+P / ⌘P) to print this record, "
                a href={ (base) ".pdf?kind=" (kind.code()) } { "download it as PDF" }
                " (with its verification QR code), or download the "
                a href={ (base) ".smart-health-card?kind=" (kind.code()) } { "SMART Health Card" } "."
            }
            (crate::certificate::html(&issued.certificate))
            (super::releases::section(&ctx, id, &past))
        },
    ))
}

/// A download with its content type and file name.
pub fn download(content_type: &str, file_name: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The certificate of `?kind=` as a file: its PDF or its SMART Health Card.
async fn issued_file(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &KindQuery,
    card: bool,
) -> Result<Response, AppError> {
    let kind = q.kind()?;
    let issued = issue(state, ctx, id, kind).await?;
    Ok(if card {
        download(
            "application/smart-health-card",
            format!("immunization-record-{id}.smart-health-card"),
            issued.card_file().into_bytes(),
        )
    } else {
        download(
            "application/pdf",
            format!("immunization-certificate-{}-{id}.pdf", kind.code()),
            issued.pdf,
        )
    })
}

pub async fn official_record_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<KindQuery>,
) -> Result<Response, AppError> {
    issued_file(&state, &ctx, id, &q, false).await
}

pub async fn smart_health_card(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<KindQuery>,
) -> Result<Response, AppError> {
    issued_file(&state, &ctx, id, &q, true).await
}

/// `/.well-known/jwks.json`: the card issuer's public keys, retired ones included.
pub async fn jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    let set = state.db(|s| Ok(certificates::published_keys(s)?)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            // Verifiers in browsers fetch it from other origins (the SHC spec asks for CORS).
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        set.to_string(),
    )
        .into_response())
}
