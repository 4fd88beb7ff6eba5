//! # ctwiz-web
//!
//! The provider web application of ctwiz: an axum server with server-rendered pages
//! (maud templates, one stylesheet, no JavaScript) for clinic staff, school nurses,
//! health departments and DPH state users.
//!
//! It parses requests, asks `ctwiz_core::access` whether the signed-in user may act,
//! calls `ctwiz-store` (the only SQL) and `ctwiz-forecast` (the CDSi Recommender), and
//! renders HTML. Sessions live in the database; every form carries a CSRF token; every
//! response carries security headers and a request id (`X-Request-Id`, also in the log
//! line and on the page of any 500). Sign-in and the public forms are throttled per
//! client address and per account (`limits`); the server drops connections that do not
//! send their request headers in time.
//!
//! ```no_run
//! # async fn run() -> Result<(), ctwiz_web::AppError> {
//! let cfg = ctwiz_web::WebConfig::new("127.0.0.1:8080".parse().unwrap(), "ctwiz.db".into());
//! ctwiz_web::serve(cfg).await
//! # }
//! ```

mod admin;
mod agreements;
mod auth;
mod certificate;
mod clinic_tools;
mod dedup;
mod disclosures;
mod enrollment;
mod error;
mod health;
mod help;
mod inventory;
mod limits;
pub mod logging;
mod mail;
mod metrics;
pub mod mllp;
mod modules;
mod nav;
mod onboarding;
mod outreach;
mod page;
mod patients;
mod portal;
mod recommender;
mod reports;
pub mod schedule;
mod session;
pub mod soap;
mod state;
mod texts;

pub use error::AppError;
pub use limits::{LimitRates, Limits, Rate, Throttle, ThrottleRates};
pub use mail::{deliver_outbox, SmtpConfig};
pub use state::AppState;
pub use texts::{deliver_texts, SmsGateway};

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
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub addr: SocketAddr,
    pub db_path: PathBuf,
    /// Mark cookies `Secure`: set when the site is served over HTTPS (directly or by a proxy).
    pub secure_cookies: bool,
    /// Deliver the e-mail outbox through this relay; without it mail stays in the outbox.
    pub smtp: Option<SmtpConfig>,
    /// Deliver the text-message outbox (portal codes) through this gateway; without it
    /// texts stay in the outbox.
    pub sms: Option<SmsGateway>,
    /// Also accept HL7 over MLLP here, from the addresses `mllp` binds to facilities.
    pub mllp_addr: Option<SocketAddr>,
    /// Which addresses may connect over MLLP, as which facility and account.
    pub mllp: mllp::MllpConfig,
    /// A connection that has not sent a whole request head within this time is closed
    /// (slow or half-open clients must not hold connections forever).
    pub header_read_timeout: Duration,
    /// The site's address as clients reach it (e.g. `https://iis.example.org` behind a
    /// TLS-terminating proxy): the SOAP WSDL advertises its service there, and it is the
    /// SMART Health Card issuer (`http://ADDR` if unset).
    pub public_url: Option<String>,
    /// Scheduled distributions to practices (`None`: not run by this process).
    pub schedule: Option<schedule::Schedule>,
    /// The throttles of sign-in, the public forms and SOAP sign-in failures.
    pub limits: LimitRates,
    /// How log lines are written (when `serve` installs the log output).
    pub log_format: logging::LogFormat,
    /// Which log lines are written.
    pub log_level: logging::LogLevel,
}

/// The default [`WebConfig::header_read_timeout`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl WebConfig {
    pub fn new(addr: SocketAddr, db_path: PathBuf) -> WebConfig {
        WebConfig {
            addr,
            db_path,
            secure_cookies: false,
            smtp: None,
            sms: None,
            mllp_addr: None,
            mllp: mllp::MllpConfig::new(Vec::new()),
            header_read_timeout: HEADER_READ_TIMEOUT,
            public_url: None,
            schedule: None,
            limits: LimitRates::default(),
            log_format: logging::LogFormat::default(),
            log_level: logging::LogLevel::default(),
        }
    }
}

/// Opens the database and serves until Ctrl-C or SIGTERM, then drains: HTTP requests
/// and MLLP messages in flight are answered (for at most 10 s) before it returns.
pub async fn serve(cfg: WebConfig) -> Result<(), AppError> {
    // Errors (every 500, with its request id) must land somewhere: stderr, unless the
    // program embedding us installed its own subscriber.
    logging::init(cfg.log_format, &cfg.log_level);
    // Opening the database blocks (a PostgreSQL client runs its own small runtime).
    let (db_path, secure_cookies) = (cfg.db_path.clone(), cfg.secure_cookies);
    let limits = Limits::from_rates(&cfg.limits);
    let state =
        tokio::task::spawn_blocking(move || AppState::with_limits(db_path, secure_cookies, limits))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
    let public_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cfg.addr));
    state.set_public_url(
        ctwiz_store::certificate::shc::IssuerUrl::new(&public_url)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    );
    // The card issuer's key exists from the first run, so the JWK Set is never empty.
    let now = state.now();
    state
        .db(move |s| Ok(ctwiz_store::usecase::certificates::signing_key(s, now)?))
        .await?;
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
    if let Some(sch) = cfg.schedule {
        tokio::spawn(schedule::run(state.clone(), sch));
    }
    if let Some(gw) = cfg.sms.clone() {
        tokio::spawn(texts::run_delivery(
            state.clone(),
            gw,
            std::time::Duration::from_secs(5),
        ));
    }
    // The CDC SOAP web service shares the store pool and the CDSi engine, not the web
    // app's sessions/CSRF.
    let interface = soap::InterfaceService::for_app(&state)
        .with_public_url(cfg.public_url.clone())
        .with_sign_in_failure_limit(cfg.limits.soap_sign_in_failures);
    let stop = stop_on_signal();
    let mut mllp_done = None;
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
        mllp_done = Some(tokio::spawn(mllp::serve_until(
            mllp_listener,
            interface.clone(),
            cfg.mllp.clone(),
            stopping(stop.clone()),
        )));
    }
    serve_app(
        listener,
        router(state).merge(soap::router(interface)),
        cfg.header_read_timeout,
        stopping(stop),
    )
    .await?;
    // HTTP drained; MLLP drains alongside (it started when the signal came).
    if let Some(mllp) = mllp_done {
        match mllp.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("MLLP listener: {e}"),
            Err(e) => tracing::warn!("MLLP listener task: {e}"),
        }
    }
    tracing::info!("ctwiz stopped");
    Ok(())
}

/// Turns `true` once the process is asked to stop: Ctrl-C, or SIGTERM (what systemd,
/// Kubernetes and `kill` send). Either way the doors stop taking new work and finish
/// what they hold (`serve_app`, `mllp::serve_until`) before the process exits.
fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    // Registered here, before serving: from now on SIGTERM is ours, not the default kill.
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| tracing::warn!("cannot listen for SIGTERM: {e}"))
        .ok();
    tokio::spawn(async move {
        #[cfg(unix)]
        let terminate = async {
            match sigterm.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: stopping"),
            _ = terminate => tracing::info!("SIGTERM: stopping"),
        }
        let _ = stop.send(true);
    });
    stopping
}

/// Completes when `stop` turns `true` (or its sender is gone).
async fn stopping(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (for at most 10 s). HTTP/1.1, with the client's address handed to handlers as
/// `ConnectInfo<SocketAddr>` (the throttles key on it), and connections closed when a
/// request head takes longer than `header_read_timeout` to arrive (hyper's timer).
/// The next connection on `listener`. A failed accept (out of file descriptors and the
/// like) is logged and waited out instead of spinning; the wait is cancellable, so a
/// stopping server does not wait for it.
pub(crate) async fn accept(
    listener: &tokio::net::TcpListener,
    door: &str,
) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(c) => return c,
            Err(e) => {
                tracing::warn!("{door}: accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AppError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::{Service, ServiceExt};
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = accept(&listener, "HTTP") => accepted,
            _ = &mut shutdown => break,
        };
        let service = match make.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let service = hyper_util::service::TowerToHyperService::new(
            service
                .map_request(|req: Request<hyper::body::Incoming>| req.map(axum::body::Body::new)),
        );
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

/// Every route of the application. Tests drive this directly.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(modules::home))
        .route("/static/style.css", get(stylesheet))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
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
        .route("/forgot-password/reset", post(auth::forgot_password_reset))
        .route("/trouble-signing-in", get(auth::trouble_signing_in))
        .route("/help", get(help::index))
        .route("/help/{key}", get(help::topic))
        .route(
            "/request-account",
            get(auth::request_account_page).post(auth::request_account),
        )
        .route("/portal", get(portal::search_page).post(portal::search))
        .route(
            "/portal/verify",
            get(portal::verify_page).post(portal::verify),
        )
        .route("/portal/record", get(portal::record))
        .route("/portal/certificate.pdf", get(portal::certificate_pdf))
        .route(
            "/portal/record.smart-health-card",
            get(portal::smart_health_card),
        )
        .route("/portal/done", post(portal::done))
        .route("/portal/help", get(portal::help))
        .route("/patients", get(patients::search))
        .route("/patients/duplicates", get(dedup::queue))
        .route("/patients/duplicates/{review}", get(dedup::compare))
        .route("/patients/duplicates/{review}/merge", post(dedup::merge))
        .route("/patients/{id}/unmerge", post(dedup::unmerge))
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
        .route("/patients/{id}/releases", post(patients::releases::record))
        .route("/patients/{id}/disclosures", get(disclosures::page))
        .route(
            "/patients/{id}/record.pdf",
            get(patients::official_record_pdf),
        )
        .route(
            "/patients/{id}/record.smart-health-card",
            get(patients::smart_health_card),
        )
        .route("/.well-known/jwks.json", get(patients::jwks))
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
        .route(
            "/inventory/allocations",
            get(inventory::allocations::page).post(inventory::allocations::set),
        )
        .route("/inventory/exceptions", get(inventory::exceptions))
        .route("/inventory/exceptions/{id}", post(inventory::settle))
        .route("/inventory/lot-usage", get(inventory::lot_usage_report))
        .route("/clinic-tools", get(clinic_tools::page))
        .route("/clinic-tools/contact", post(clinic_tools::contact))
        .route("/clinic-tools/changes", post(clinic_tools::request_change))
        .route("/clinic-tools/agreement", post(agreements::sign))
        .route("/admin/agreements", get(agreements::flagged))
        .route("/admin/clinics", get(enrollment::page))
        .route("/admin/clinics/{pin}/enrollment", post(enrollment::enroll))
        .route("/admin/change-requests", get(clinic_tools::reviews))
        .route(
            "/admin/change-requests/{id}/approve",
            post(clinic_tools::approve),
        )
        .route(
            "/admin/change-requests/{id}/reject",
            post(clinic_tools::reject),
        )
        .route("/notifications", get(clinic_tools::notifications_page))
        .route("/notifications/{id}", get(clinic_tools::open_notification))
        .route("/reports", get(reports::index))
        .route("/reports/coverage", get(reports::coverage))
        .route("/reports/compliancy", get(reports::compliancy))
        .route("/reports/cleanup", get(reports::cleanup))
        .route(
            "/reports/recall",
            get(reports::recall).post(reports::record_recall),
        )
        .route("/reports/dqa", get(reports::dqa))
        .route("/reports/students", get(reports::students))
        .route("/reports/distributed", get(reports::distributed::list))
        .route("/reports/realtime", get(reports::realtime::realtime))
        .route("/reports/trend", get(reports::trend::trend))
        .route("/outreach", get(outreach::page).post(outreach::refer))
        .route("/onboarding", get(onboarding::page))
        .route("/onboarding/{pin}", get(onboarding::clinic))
        .route("/onboarding/{pin}/apply", post(onboarding::apply))
        .route("/onboarding/{pin}/advance", post(onboarding::advance))
        .route("/onboarding/{pin}/notice", get(onboarding::notice))
        .route("/outreach/{id}/attempt", post(outreach::attempt))
        .route("/outreach/{id}/close", post(outreach::close))
        .route("/reports/distributed/{id}", get(reports::distributed::view))
        .route("/tasks", get(modules::tasks))
        .route("/rosters", get(modules::rosters))
        .route("/rosters/add", post(modules::roster_add))
        .route("/rosters/{id}/remove", post(modules::roster_remove))
        .route("/admin", get(admin::index))
        .route("/admin/requests", get(admin::requests))
        .route("/admin/requests/{id}/approve", post(admin::approve))
        .route("/admin/requests/{id}/reject", post(admin::reject))
        .route("/admin/users/{id}/status", post(admin::set_status))
        .route("/admin/users/{id}/identity", post(admin::set_identity))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}/unlock", post(admin::unlock))
        .route("/admin/users/{id}/grants", post(admin::change_grant))
        .route("/admin/outbox", get(admin::outbox))
        .route_layer(middleware::from_fn_with_state(
            state.metrics().clone(),
            metrics::track,
        ))
        .fallback(|| async { AppError::NotFound("This page".into()) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn(logging::request_context))
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

pub(crate) use logging::request_id;

/// Headers on every response: no framing, no sniffing, no referrers, no scripts, no
/// cross-origin use, no caching of pages that may hold patient data, HTTPS only when served
/// over HTTPS. (The request id is [`logging::request_context`]'s.)
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
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
    // Served over HTTPS (directly or by a proxy): browsers must not fall back to HTTP.
    if state.secure_cookies() {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}
