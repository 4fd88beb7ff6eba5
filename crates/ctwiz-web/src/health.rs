//! Probes for load balancers and orchestrators: `/healthz` (the process answers) and
//! `/readyz` (the database answers and its schema is the one this build migrates to).
//! No session, no data: they say only "ok" or what is wrong.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let schema = state.db(|s| Ok(s.schema_version()?)).await;
    match schema {
        Ok(v) if v == ctwiz_store::SCHEMA_VERSION => {
            text(StatusCode::OK, format!("ready (schema {v})\n"))
        }
        Ok(v) => {
            let why = format!(
                "database schema {v}, this build expects {}",
                ctwiz_store::SCHEMA_VERSION
            );
            tracing::warn!("readiness: {why}");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            )
        }
        Err(e) => {
            tracing::warn!("readiness: {e}");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer\n".into(),
            )
        }
    }
}
