//! The CDC IIS SOAP web service (WSDL 2011, `urn:cdc:iisb:2011`, SOAP 1.2):
//! `submitSingleMessage` and `connectivityTest`, with the WSDL's faults
//! (SecurityFault, MessageTooLargeFault, UnknownFault), and the WSDL itself at `?wsdl`.
//!
//! The handler only authenticates (username/password → the account), builds the
//! [`Actor`] acting for the facility, unwraps the envelope and calls
//! [`ctwiz_hl7::interface::process_message`] on a blocking thread — the same use case
//! as the MLLP listener and `ctwiz hl7 process`, which decides whether that actor may
//! submit or query for MSH-4. Mount it with
//! `app.merge(ctwiz_web::soap::router(service))`; it serves [`PATH`].

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Local;
use ctwiz_core::access::User;
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_forecast::Engine;
use ctwiz_hl7::interface::soap::{self, Fault, FaultKind, Request};
use ctwiz_hl7::interface::{self, CdsiForecaster, Context};
use ctwiz_store::accounts::{self, CredentialCache};
use ctwiz_store::pool::StorePool;
use ctwiz_store::{OrgStore, SqliteStore};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::Instrument;

/// Where the service lives.
pub const PATH: &str = "/iis/soap";
/// The largest HL7 message accepted (larger ones get MessageTooLargeFault).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The HL7 interface as a service for network transports (SOAP, MLLP): the process's
/// store pool, the code sets, the CDSi engine for Z44, the credential cache, and unique
/// response ids. Cheap to clone.
#[derive(Clone)]
pub struct InterfaceService {
    inner: Arc<Inner>,
    /// The service's site as clients reach it (behind a proxy), for the WSDL.
    public_url: Option<Arc<str>>,
    /// Addresses refused after too many failed sign-ins.
    failed_sign_ins: Arc<crate::limits::FailedSignIns>,
}

pub(crate) struct Inner {
    pool: StorePool,
    codes: CodeSets,
    forecaster: CdsiForecaster,
    credentials: CredentialCache,
    next_id: AtomicU64,
    started: String,
    max_message_bytes: usize,
    /// Messages by type and acknowledgment, failed sign-ins (shared with the web app).
    metrics: Arc<crate::metrics::Metrics>,
}

/// Errors of the service itself (not of messages: those become ACK/RSP content).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database: {0}")]
    Store(#[from] ctwiz_store::StoreError),
    #[error("CDSi supporting data: {0}")]
    Forecast(String),
    #[error("worker thread failed: {0}")]
    Join(String),
    #[error("the account {0} bound to this MLLP connection does not exist")]
    Unbound(String),
}

impl InterfaceService {
    /// A stand-alone service (benchmarks, tests): opens (and migrates) the database and
    /// loads the CDSi engine. A process that also runs the web app uses [`Self::for_app`].
    pub fn new(db_path: PathBuf) -> Result<Self, ServiceError> {
        let pool = StorePool::open(db_path)?;
        let engine = Engine::bundled().map_err(|e| ServiceError::Forecast(e.to_string()))?;
        Ok(Self::over(
            pool,
            engine,
            CodeSets::embedded(),
            Arc::default(),
        ))
    }

    /// The service over the web app's store pool, code sets and CDSi engine: one of each
    /// per process.
    pub fn for_app(state: &AppState) -> Self {
        Self::over(
            state.pool().clone(),
            state.engine().clone(),
            state.codes().clone(),
            state.metrics().clone(),
        )
    }

    fn over(
        pool: StorePool,
        engine: Engine,
        codes: CodeSets,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        InterfaceService {
            inner: Arc::new(Inner {
                pool,
                codes,
                forecaster: CdsiForecaster::new(engine),
                credentials: CredentialCache::default(),
                next_id: AtomicU64::new(1),
                started: Local::now().format("%Y%m%d%H%M%S").to_string(),
                max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
                metrics,
            }),
            public_url: None,
            failed_sign_ins: Arc::default(),
        }
    }

    /// Refuses an address whose failed sign-ins go past `rate` (by default as the web's
    /// sign-in per address: 20 at once, then one per 3 s).
    pub fn with_sign_in_failure_limit(mut self, rate: crate::limits::Rate) -> Self {
        self.failed_sign_ins = Arc::new(crate::limits::FailedSignIns::new(rate));
        self
    }

    /// The address the WSDL advertises: `url` (the site as clients reach it, e.g.
    /// `https://iis.example.org`) followed by [`PATH`]. Without it the WSDL follows the
    /// request's `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` and `Host`.
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty())
            .map(Arc::from);
        self
    }

    pub fn max_message_bytes(&self) -> usize {
        self.inner.max_message_bytes
    }

    /// Runs `f` with a pooled connection on a blocking thread, inside the caller's span.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteStore, &Inner) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let this = self.inner.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| Ok(this.pool.with(|s| f(s, &this))?))
        })
        .await
        .map_err(|e| ServiceError::Join(e.to_string()))?
    }

    /// A `connectivityTest` signed in as `username`: the connection of the user's clinic
    /// is proven (`interface::connectivity_test`). `Err(fault)` when the sign-in fails.
    async fn connectivity(
        &self,
        username: String,
        password: String,
    ) -> Result<Result<(), Fault>, ServiceError> {
        self.with_store(
            move |store, inner| -> Result<Result<(), Fault>, ctwiz_store::StoreError> {
                let now = Local::now().naive_local();
                let user = match inner.sign_in(store, &username, &password, now)? {
                    Ok(user) => user,
                    Err(fault) => return Ok(Err(fault)),
                };
                // The clinic a test proves is the user's own: only one is unambiguous.
                let facility = match user.clinics().as_slice() {
                    [only] => only.to_string(),
                    _ => String::new(),
                };
                let actor = actor_for(store, user, &facility, Channel::Soap)?;
                interface::connectivity_test(store, &actor, now);
                Ok(Ok(()))
            },
        )
        .await?
        .map_err(ServiceError::Store)
    }

    /// Signs in (SOAP sends username and password with every message) and processes the
    /// message as that user acting for `facility`. `Err(fault)` when the sign-in fails.
    async fn submit(
        &self,
        username: String,
        password: String,
        facility: String,
        hl7: String,
    ) -> Result<Result<String, Fault>, ServiceError> {
        self.with_store(
            move |store, inner| -> Result<Result<String, Fault>, ctwiz_store::StoreError> {
                let now = Local::now().naive_local();
                let user = match inner.sign_in(store, &username, &password, now)? {
                    Ok(user) => user,
                    Err(fault) => return Ok(Err(fault)),
                };
                let actor = actor_for(store, user, &facility, Channel::Soap)?;
                Ok(Ok(inner.process(store, &actor, &hl7)))
            },
        )
        .await?
        .map_err(ServiceError::Store)
    }
}

impl Inner {
    /// SOAP's sign-in (credentials with every request): the user, or the SecurityFault
    /// to answer with (the failure counted in the metrics).
    fn sign_in(
        &self,
        store: &SqliteStore,
        username: &str,
        password: &str,
        now: chrono::NaiveDateTime,
    ) -> Result<Result<User, Fault>, ctwiz_store::StoreError> {
        Ok(
            match self
                .credentials
                .sign_in(store, Channel::Soap, username, password, now)?
            {
                Ok(account) => Ok(account.user),
                Err(why) => {
                    self.metrics.sign_in_failed("soap");
                    Err(sign_in_fault(why))
                }
            },
        )
    }

    /// The interface use case for one message from `actor`; the ER7 response.
    pub(crate) fn process(&self, store: &SqliteStore, actor: &Actor, hl7: &str) -> String {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut ctx = Context::new(
            &self.codes,
            actor,
            Local::now().naive_local(),
            format!("{}-{id}", self.started),
        );
        ctx.forecaster = Some(&self.forecaster);
        let started = std::time::Instant::now();
        let outcome = interface::process_message(store, &ctx, hl7);
        let elapsed = started.elapsed();
        self.metrics.hl7_message(
            actor.channel.key(),
            &outcome.log.message_type,
            outcome.result.code(),
            elapsed.as_secs_f64(),
        );
        // Inside the caller's `hl7` span (door, facility, MSH-10). Error texts stay in the
        // message log: they may quote the patient's data.
        tracing::info!(
            target: "ctwiz::hl7",
            message_type = %log_safe(&outcome.log.message_type),
            control_id = %log_safe(&outcome.log.control_id),
            ack = outcome.result.code(),
            errors = outcome.log.errors.len(),
            ms = elapsed.as_millis() as u64,
            "HL7 {} {} answered {}",
            log_safe(&outcome.log.message_type),
            log_safe(&outcome.log.control_id),
            outcome.result.code(),
        );
        outcome.response.to_er7()
    }
}

/// Username and password of an `Authorization: Basic` header, if one is sent.
fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The SecurityFault for a failed sign-in: what failed, in words that give an attacker
/// nothing to go on — an unknown username and a wrong password read the same.
fn sign_in_fault(why: accounts::SignInFailure) -> Fault {
    use accounts::SignInFailure::*;
    let (reason, detail) = match why {
        UnknownUser | WrongPassword => (
            "the username or password is not correct",
            "check the credentials configured in the sending system",
        ),
        Locked => (
            "the account is locked",
            "too many failed sign-ins or locked by an administrator; ask the registry to unlock it",
        ),
        Disabled => (
            "the account is disabled",
            "ask the registry whether this interface account is still in use",
        ),
    };
    Fault::new(FaultKind::Security, reason, detail)
}

/// A span for one HL7 message: every line logged while it is processed names the door,
/// the facility it is processed for and its MSH-10 (message control id).
pub(crate) fn message_span(door: &'static str, facility: &str, hl7: &str) -> tracing::Span {
    tracing::info_span!(
        "hl7",
        door,
        facility = %log_safe(facility),
        control_id = %log_safe(control_id(hl7)),
    )
}

/// MSH-10 read from the header segment alone (the message is not parsed yet when its
/// span opens); empty if there is none.
fn control_id(hl7: &str) -> &str {
    let msh = hl7.trim_start().split(['\r', '\n']).next().unwrap_or("");
    match msh.strip_prefix("MSH").and_then(|rest| rest.chars().next()) {
        // MSH-1 is the separator itself, so MSH-10 is the 10th piece.
        Some(sep) => msh.split(sep).nth(9).unwrap_or(""),
        None => "",
    }
}

/// A value a sender chose, as it goes into a log line: printable, at most 64 characters.
fn log_safe(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// MSH-4.1 of a message (empty if it is not HL7): the facility it claims to come from.
pub(crate) fn msh4(hl7: &str) -> String {
    ctwiz_hl7::er7::parse(hl7)
        .map(|m| m.msh().field(4).component(1).text().trim().to_string())
        .unwrap_or_default()
}

/// `user` acting for the clinic `facility` through `channel`. A facility that is not a
/// registered clinic leaves the actor acting nowhere: the interface then refuses the
/// message (it decides; this only says who is asking and for whom).
pub(crate) fn actor_for(
    store: &SqliteStore,
    user: User,
    facility: &str,
    channel: Channel,
) -> Result<Actor, ctwiz_store::StoreError> {
    let clinic = match ClinicPin::new(facility.trim()) {
        Ok(pin) => store.clinic(&pin)?,
        Err(_) => None,
    };
    let acting = match clinic {
        Some(c) => Acting::Clinic {
            pin: c.pin,
            at: ctwiz_core::place::Locality::county(c.county),
        },
        None => Acting::Nowhere,
    };
    Ok(Actor::new(user, acting, channel))
}

/// The SOAP service's routes: `GET PATH?wsdl` and `POST PATH`.
pub fn router(service: InterfaceService) -> Router {
    // Larger bodies than the message limit still reach the handler, so the sender gets
    // the WSDL's MessageTooLargeFault rather than a bare HTTP 413.
    // XML escaping can grow a message several times (a CR becomes `&#13;`).
    let limit = service.inner.max_message_bytes * 8 + 64 * 1024;
    Router::new()
        .route(PATH, get(wsdl).post(submit))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(interface_headers))
        .layer(axum::middleware::from_fn(crate::logging::request_context))
        .with_state(service)
}

/// The security headers of the web pages that apply to an XML service: answers may hold
/// PHI, so nothing is cached, sniffed, framed or sent on as a referrer.
async fn interface_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    for (k, v) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        h.insert(k, axum::http::HeaderValue::from_static(v));
    }
    res
}

/// Serves only the SOAP service on `listener` (a stand-alone interface endpoint,
/// benchmarks); the web app merges [`router`] instead.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: InterfaceService,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(service).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}

/// The service address clients reach: the configured public URL, else the scheme and
/// host a TLS-terminating proxy reports (`Forwarded` per RFC 7239, or the de-facto
/// `X-Forwarded-Proto` / `X-Forwarded-Host`), else the request's `Host` over http.
fn public_location(configured: Option<&str>, headers: &HeaderMap, path: &str) -> String {
    if let Some(base) = configured {
        return format!("{base}{PATH}");
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // The first (client-facing) element of Forwarded.
    let forwarded = |key: &str| -> Option<String> {
        let first = text("forwarded")?.split(',').next()?;
        first.split(';').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().trim_matches('"').to_string())
        })
    };
    let first = |name: &str| {
        text(name)
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
    };
    let proto = forwarded("proto")
        .or_else(|| first("x-forwarded-proto"))
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
        .map(|p| p.to_ascii_lowercase())
        .unwrap_or_else(|| "http".into());
    // The first candidate that is a host at all (a forged value falls through).
    let host = [
        forwarded("host"),
        first("x-forwarded-host"),
        text("host").map(str::to_string),
    ]
    .into_iter()
    .flatten()
    .find(|h| valid_host(h))
    .unwrap_or_else(|| "localhost".into());
    format!("{proto}://{host}{path}")
}

/// A host[:port] as a URL authority may carry it (no userinfo, path or markup).
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

async fn wsdl(State(service): State<InterfaceService>, headers: HeaderMap, uri: Uri) -> Response {
    let location = public_location(service.public_url.as_deref(), &headers, uri.path());
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        soap::wsdl_for(&location),
    )
        .into_response()
}

fn soap_response(status: StatusCode, xml: String) -> Response {
    // No cache may keep an answer: `interface_headers` marks every response no-store.
    (status, [(header::CONTENT_TYPE, soap::CONTENT_TYPE)], xml).into_response()
}

fn fault_response(f: &Fault) -> Response {
    // SOAP 1.2 over HTTP: Sender faults are 400, the others 500.
    let status = StatusCode::from_u16(f.soap_code.http_status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, soap::fault_content_type(f))],
        soap::fault(f),
    )
        .into_response()
}

/// HTTP 429 with `Retry-After` and a SecurityFault saying why, for an address refused after
/// too many failed sign-ins.
fn too_many_failures(wait: u64) -> Response {
    let f = Fault::new(
        FaultKind::Security,
        "too many failed sign-ins from this address",
        format!("retry after {wait} seconds"),
    );
    let mut res = soap_response(StatusCode::TOO_MANY_REQUESTS, soap::fault(&f));
    res.headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
    res
}

async fn submit(
    State(service): State<InterfaceService>,
    from: crate::limits::ClientAddr,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(xml) = std::str::from_utf8(&body) else {
        return fault_response(
            &Fault::new(FaultKind::Unknown, "the request is not UTF-8", "").by_sender(),
        );
    };
    let request = match soap::parse_request(xml) {
        Ok(r) => r,
        Err(f) => return fault_response(&f),
    };
    match request {
        Request::ConnectivityTest { echo_back } => {
            // The WSDL's connectivityTest carries no credentials; an EHR may sign it
            // with HTTP Basic to prove its clinic's connection (onboarding).
            if let Some((username, password)) = basic_credentials(&headers) {
                if let Some(wait) = service.failed_sign_ins.blocked(from.0) {
                    return too_many_failures(wait);
                }
                match service.connectivity(username, password).await {
                    Ok(Ok(())) => {}
                    Ok(Err(fault)) => {
                        tracing::warn!("SOAP connectivityTest: sign-in refused");
                        service.failed_sign_ins.failed(from.0);
                        return fault_response(&fault);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "SOAP connectivityTest failed");
                        return fault_response(&Fault::new(
                            FaultKind::Unknown,
                            "internal error",
                            e.to_string(),
                        ));
                    }
                }
            }
            soap_response(
                StatusCode::OK,
                soap::response("connectivityTest", &echo_back),
            )
        }
        Request::SubmitSingleMessage {
            username,
            password,
            facility_id,
            hl7_message,
        } => {
            let max = service.inner.max_message_bytes;
            if hl7_message.len() > max {
                return fault_response(&Fault::new(
                    FaultKind::MessageTooLarge,
                    "message too large",
                    format!("{} bytes; the limit is {max}", hl7_message.len()),
                ));
            }
            // facilityID names the clinic the sender acts for; left out, MSH-4 does. The
            // interface refuses a message whose MSH-4 is another clinic.
            let facility = if facility_id.trim().is_empty() {
                msh4(&hl7_message)
            } else {
                facility_id.trim().to_string()
            };
            let span = message_span("soap", &facility, &hl7_message);
            if let Some(wait) = service.failed_sign_ins.blocked(from.0) {
                span.in_scope(|| tracing::warn!("SOAP submitSingleMessage refused: too many failed sign-ins from this address"));
                return too_many_failures(wait);
            }
            match service
                .submit(username, password, facility, hl7_message)
                .instrument(span.clone())
                .await
            {
                Ok(Ok(answer)) => soap_response(
                    StatusCode::OK,
                    soap::response("submitSingleMessage", &answer),
                ),
                Ok(Err(fault)) => {
                    // Only a failed sign-in answers with a fault here.
                    span.in_scope(|| tracing::warn!("SOAP submitSingleMessage: sign-in refused"));
                    service.failed_sign_ins.failed(from.0);
                    fault_response(&fault)
                }
                Err(e) => {
                    span.in_scope(
                        || tracing::error!(error = %e, "SOAP submitSingleMessage failed"),
                    );
                    fault_response(&Fault::new(
                        FaultKind::Unknown,
                        "internal error",
                        e.to_string(),
                    ))
                }
            }
        }
    }
}
