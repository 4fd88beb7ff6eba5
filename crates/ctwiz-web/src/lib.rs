//! # ctwiz-web
//!
//! The provider web application of ctwiz: an axum server with server-rendered pages
//! (maud templates, one stylesheet, no JavaScript) for clinic staff, school nurses,
//! health departments and DPH state users.
//!
//! It parses requests, asks `ctwiz_core::access` whether the signed-in user may act,
//! calls `ctwiz-store` (the only SQL) and `ctwiz-forecast` (the CDSi Recommender), and
//! renders HTML. Sessions live in the database; every form carries a CSRF token; every
//! response carries security headers.
//!
//! ```no_run
//! # async fn run() -> Result<(), ctwiz_web::AppError> {
//! let cfg = ctwiz_web::WebConfig::new("127.0.0.1:8080".parse().unwrap(), "ctwiz.db".into());
//! ctwiz_web::serve(cfg).await
//! # }
//! ```

mod admin;
mod auth;
mod certificate;
mod dedup;
mod disclosures;
mod error;
mod inventory;
mod mail;
pub mod mllp;
mod modules;
mod page;
mod patients;
mod recommender;
mod reports;
mod session;
pub mod soap;
mod state;

pub use error::AppError;
pub use mail::{deliver_outbox, SmtpConfig};
pub use state::AppState;

/// The form a session token takes in the database (tests and tools that create sessions).
pub fn session_token_hash(token: &str) -> String {
    session::token_hash(token)
}

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    /// Mark cookies `Secure`: set when the site is served over HTTPS (directly or by a proxy).
    pub secure_cookies: bool,
    /// Deliver the e-mail outbox through this relay; without it mail stays in the outbox.
    pub smtp: Option<SmtpConfig>,
    /// Also accept HL7 over MLLP here, from the addresses `mllp` binds to facilities.
    pub mllp_addr: Option<SocketAddr>,
    /// Which addresses may connect over MLLP, as which facility and account.
    pub mllp: mllp::MllpConfig,
}

impl WebConfig {
    pub fn new(addr: SocketAddr, db_path: PathBuf) -> WebConfig {
        WebConfig {
            addr,
            db_path,
            secure_cookies: false,
            smtp: None,
            mllp_addr: None,
            mllp: mllp::MllpConfig::new(Vec::new()),
        }
    }
}

/// Opens the database and serves until Ctrl-C.
pub async fn serve(cfg: WebConfig) -> Result<(), AppError> {
    let state = AppState::new(cfg.db_path.clone(), cfg.secure_cookies)?;
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .map_err(|e| AppError::Internal(format!("cannot listen on {}: {e}", cfg.addr)))?;
    tracing::info!("ctwiz web listening on http://{}", cfg.addr);
    if let Some(smtp) = cfg.smtp.clone() {
        tokio::spawn(mail::run_delivery(
            state.clone(),
            smtp,
            std::time::Duration::from_secs(15),
        ));
    }
    // The CDC SOAP web service shares the store pool and the CDSi engine, not the web
    // app's sessions/CSRF.
    let interface = soap::InterfaceService::for_app(&state);
    if let Some(addr) = cfg.mllp_addr {
        if cfg.mllp.bindings.is_empty() {
            return Err(AppError::Internal(
                "MLLP trusts no address by default: bind at least one facility (--mllp-bind)"
                    .into(),
            ));
        }
        let mllp_config = cfg.mllp.clone();
        state
            .db(move |s| mllp::check_bindings(s, &mllp_config).map_err(AppError::Internal))
            .await?;
        let mllp_listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| AppError::Internal(format!("cannot listen for MLLP on {addr}: {e}")))?;
        tracing::info!("MLLP listening on {addr}");
        tokio::spawn(mllp::serve(
            mllp_listener,
            interface.clone(),
            cfg.mllp.clone(),
        ));
    }
    axum::serve(listener, router(state).merge(soap::router(interface)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| AppError::Internal(format!("server stopped: {e}")))
}

/// Every route of the application. Tests drive this directly.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(modules::home))
        .route("/static/style.css", get(stylesheet))
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route(
            "/account/password",
            get(auth::password_page).post(auth::change_password),
        )
        .route(
            "/choose-clinic",
            get(auth::choose_clinic_page).post(auth::choose_clinic),
        )
        .route(
            "/forgot-username",
            get(auth::forgot_username_page).post(auth::forgot_username),
        )
        .route(
            "/forgot-password",
            get(auth::forgot_password_page).post(auth::forgot_password),
        )
        .route(
            "/request-account",
            get(auth::request_account_page).post(auth::request_account),
        )
        .route("/patients", get(patients::search))
        .route("/patients/duplicates", get(dedup::queue))
        .route("/patients/duplicates/{review}", get(dedup::compare))
        .route("/patients/duplicates/{review}/merge", post(dedup::merge))
        .route(
            "/patients/duplicates/{review}/dismiss",
            post(dedup::dismiss),
        )
        .route(
            "/patients/new",
            get(patients::new_patient_page).post(patients::create_patient),
        )
        .route("/patients/{id}", get(patients::home))
        .route(
            "/patients/{id}/edit",
            get(patients::edit_patient_page).post(patients::update_patient),
        )
        .route("/patients/{id}/doses/new", get(patients::new_dose_page))
        .route("/patients/{id}/doses", post(patients::add_dose))
        .route(
            "/patients/{id}/doses/{dose}/edit",
            get(patients::edit_dose_page).post(patients::update_dose),
        )
        .route(
            "/patients/{id}/doses/{dose}/delete",
            post(patients::delete_dose),
        )
        .route(
            "/patients/{id}/observations",
            post(patients::add_observation),
        )
        .route("/patients/{id}/record", get(patients::official_record))
        .route("/patients/{id}/disclosures", get(disclosures::page))
        .route(
            "/patients/{id}/record.pdf",
            get(patients::official_record_pdf),
        )
        .route("/inventory", get(inventory::lots))
        .route("/inventory/receive", post(inventory::receive))
        .route("/inventory/waste", post(inventory::waste))
        .route("/inventory/transfer", post(inventory::transfer))
        .route(
            "/inventory/reconcile",
            get(inventory::reconcile_page).post(inventory::reconcile),
        )
        .route(
            "/inventory/orders",
            get(inventory::orders).post(inventory::create_order),
        )
        .route(
            "/inventory/orders/{id}/approve",
            post(inventory::approve_order),
        )
        .route(
            "/inventory/orders/{id}/reject",
            post(inventory::reject_order),
        )
        .route(
            "/inventory/orders/{id}/receive",
            post(inventory::receive_shipment),
        )
        .route("/inventory/report", get(inventory::report))
        .route("/clinic-tools", get(modules::clinic_tools))
        .route("/reports", get(reports::index))
        .route("/reports/coverage", get(reports::coverage))
        .route("/reports/compliancy", get(reports::compliancy))
        .route("/reports/cleanup", get(reports::cleanup))
        .route(
            "/reports/recall",
            get(reports::recall).post(reports::record_recall),
        )
        .route("/reports/dqa", get(reports::dqa))
        .route("/tasks", get(modules::tasks))
        .route("/rosters", get(modules::rosters))
        .route("/rosters/add", post(modules::roster_add))
        .route("/rosters/{id}/remove", post(modules::roster_remove))
        .route("/admin", get(admin::index))
        .route("/admin/requests", get(admin::requests))
        .route("/admin/requests/{id}/approve", post(admin::approve))
        .route("/admin/requests/{id}/reject", post(admin::reject))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}/unlock", post(admin::unlock))
        .route("/admin/users/{id}/grants", post(admin::change_grant))
        .route("/admin/outbox", get(admin::outbox))
        .fallback(|| async { AppError::NotFound("This page".into()) })
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        page::STYLE,
    )
        .into_response()
}

/// Headers on every response: no framing, no sniffing, no referrers, no scripts, and no
/// caching of pages that may hold patient data.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}
