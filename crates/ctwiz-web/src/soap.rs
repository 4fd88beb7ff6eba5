//! The CDC IIS SOAP web service (WSDL 2011, `urn:cdc:iisb:2011`, SOAP 1.2):
//! `submitSingleMessage` and `connectivityTest`, with the WSDL's faults
//! (SecurityFault, MessageTooLargeFault, UnknownFault), and the WSDL itself at `?wsdl`.
//!
//! The handler only authenticates, unwraps the envelope and calls
//! [`ctwiz_hl7::interface::process_message`] on a blocking thread — the same use case
//! as the MLLP listener and `ctwiz hl7 process`. Mount it with
//! `app.merge(ctwiz_web::soap::router(state))`; it serves [`PATH`].

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use blake2::{Blake2b512, Digest};
use chrono::Local;
use ctwiz_core::access::{can, Action, Role, Scope, Target, User};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_hl7::interface::soap::{self, Fault, FaultKind, Request};
use ctwiz_hl7::interface::{self, CdsiForecaster, Context};
use ctwiz_store::{accounts, Interface, OrgStore, SqliteStore};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the service lives.
pub const PATH: &str = "/iis/soap";
/// The largest HL7 message accepted (larger ones get MessageTooLargeFault).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Idle connections kept between requests.
const POOL_KEEP: usize = 8;
/// How long a verified username/password is trusted without re-hashing: argon2 costs
/// tens of milliseconds, which would dominate every interface message. A cached entry
/// still re-reads the account on every request ([`accounts::recheck_cached_sign_in`]), so
/// locking, disabling, a password change or reset, and grant changes apply at once.
const CREDENTIAL_TTL: Duration = Duration::from_secs(300);

/// The HL7 interface as a service for network transports (SOAP, MLLP): a database, the
/// code sets, the CDSi engine for Z44, and unique response ids. Cheap to clone.
#[derive(Clone)]
pub struct InterfaceService {
    inner: Arc<Inner>,
}

struct Inner {
    db_path: PathBuf,
    pool: Mutex<Vec<SqliteStore>>,
    codes: CodeSets,
    forecaster: Option<CdsiForecaster>,
    next_id: AtomicU64,
    started: String,
    max_message_bytes: usize,
    /// blake2(username, password) → (verified at, the argon2 hash it was verified against).
    credentials: Mutex<HashMap<Vec<u8>, (Instant, String)>>,
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
}

impl InterfaceService {
    /// Opens (and migrates) the database once to fail early, and loads the CDSi engine
    /// so Z44 queries are answered.
    pub fn new(db_path: PathBuf) -> Result<Self, ServiceError> {
        let first = SqliteStore::open(&db_path)?;
        let forecaster =
            CdsiForecaster::bundled().map_err(|e| ServiceError::Forecast(e.to_string()))?;
        Ok(InterfaceService {
            inner: Arc::new(Inner {
                db_path,
                pool: Mutex::new(vec![first]),
                codes: CodeSets::embedded(),
                forecaster: Some(forecaster),
                next_id: AtomicU64::new(1),
                started: Local::now().format("%Y%m%d%H%M%S").to_string(),
                max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
                credentials: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteStore, &Inner) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let this = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let taken = this.pool.lock().ok().and_then(|mut p| p.pop());
            let store = match taken {
                Some(s) => s,
                None => SqliteStore::open(&this.db_path)?,
            };
            let out = f(&store, &this);
            if let Ok(mut p) = this.pool.lock() {
                if p.len() < POOL_KEEP {
                    p.push(store);
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| ServiceError::Join(e.to_string()))?
    }

    /// Processes one HL7 message through the interface and returns the ER7 response
    /// (segments separated by CR).
    pub async fn process(&self, hl7: String, door: Interface) -> Result<String, ServiceError> {
        self.with_store(move |store, inner| {
            let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
            let mut ctx = Context::new(
                &inner.codes,
                Local::now().naive_local(),
                format!("{}-{id}", inner.started),
            );
            ctx.interface = door;
            ctx.forecaster = inner.forecaster.as_ref().map(|f| f as _);
            interface::process_message(store, &ctx, &hl7)
                .response
                .to_er7()
        })
        .await
    }

    /// Signs the user in and checks that they may submit for `facility`: a grant that
    /// allows recording doses at the clinic (coordinators, clinic access, state), or the
    /// clinic's DQA-interface role (the EHR interface staff).
    async fn authorize(
        &self,
        username: String,
        password: String,
        facility: String,
    ) -> Result<Result<(), Fault>, ServiceError> {
        self.with_store(
            move |store, inner| -> Result<Result<(), Fault>, ServiceError> {
                let security = |detail: String| {
                    Err(Fault::new(
                        FaultKind::Security,
                        accounts::SIGN_IN_FAILED,
                        detail,
                    ))
                };
                let key = Blake2b512::new()
                    .chain_update(username.as_bytes())
                    .chain_update([0u8])
                    .chain_update(password.as_bytes())
                    .finalize()
                    .to_vec();
                let cached = inner.credentials.lock().ok().and_then(|c| {
                    c.get(&key)
                        .filter(|(at, _)| at.elapsed() < CREDENTIAL_TTL)
                        .map(|(_, hash)| hash.clone())
                });
                // A cache hit still honours the account's current state (one indexed read);
                // any change drops the entry and the full sign-in decides (and counts a
                // failure if the password no longer verifies).
                let rechecked = match cached {
                    Some(hash) => match accounts::recheck_cached_sign_in(store, &username, &hash) {
                        Ok(Ok(account)) => Some(account.user),
                        Ok(Err(_)) => {
                            if let Ok(mut c) = inner.credentials.lock() {
                                c.remove(&key);
                            }
                            None
                        }
                        Err(e) => return Err(ServiceError::Store(e)),
                    },
                    None => None,
                };
                let user: User = match rechecked {
                    Some(u) => u,
                    None => match accounts::sign_in(
                        store,
                        ctwiz_core::actor::Channel::Soap,
                        &username,
                        &password,
                        Local::now().naive_local(),
                    ) {
                        Ok(Ok(account)) => {
                            if let Ok(mut c) = inner.credentials.lock() {
                                c.retain(|_, (at, _)| at.elapsed() < CREDENTIAL_TTL);
                                c.insert(key, (Instant::now(), account.password_hash.clone()));
                            }
                            account.user
                        }
                        Ok(Err(_)) => return Ok(security(String::new())),
                        Err(e) => return Err(ServiceError::Store(e)),
                    },
                };
                let Ok(pin) = ClinicPin::new(&facility) else {
                    return Ok(security(format!(
                        "facilityID {facility:?} is not a clinic PIN"
                    )));
                };
                let Some(clinic) = store.clinic(&pin)? else {
                    return Ok(security(format!("facility {pin} is not registered")));
                };
                let target = Target::Clinic {
                    pin: &pin,
                    county: clinic.county,
                };
                let interface_staff = user.grants.iter().any(|g| {
                    g.role == Role::ClinicAccessDqaInterface
                        && g.scope == Scope::Clinic(pin.clone())
                });
                if can(&user, target, Action::DoseRecord) || interface_staff {
                    Ok(Ok(()))
                } else {
                    Ok(security(format!(
                        "user {username} may not submit for facility {pin}"
                    )))
                }
            },
        )
        .await?
    }
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
        .with_state(service)
}

/// Serves only the SOAP service on `listener` (a stand-alone interface endpoint,
/// benchmarks); the web app merges [`router`] instead.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: InterfaceService,
) -> std::io::Result<()> {
    axum::serve(listener, router(service)).await
}

async fn wsdl(headers: HeaderMap, uri: Uri) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let location = format!("http://{host}{}", uri.path());
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        soap::wsdl_for(&location),
    )
        .into_response()
}

fn soap_response(status: StatusCode, xml: String) -> Response {
    (status, [(header::CONTENT_TYPE, soap::CONTENT_TYPE)], xml).into_response()
}

fn fault_response(f: &Fault) -> Response {
    // SOAP 1.2 over HTTP: Sender faults are 400, Receiver faults 500.
    let status = match f.kind {
        FaultKind::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    soap_response(status, soap::fault(f))
}

async fn submit(State(service): State<InterfaceService>, body: Bytes) -> Response {
    let Ok(xml) = std::str::from_utf8(&body) else {
        return fault_response(&Fault::new(
            FaultKind::Unknown,
            "the request is not UTF-8",
            "",
        ));
    };
    let request = match soap::parse_request(xml) {
        Ok(r) => r,
        Err(f) => return fault_response(&f),
    };
    match request {
        Request::ConnectivityTest { echo_back } => soap_response(
            StatusCode::OK,
            soap::response("connectivityTest", &echo_back),
        ),
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
            // The facility is MSH-4 (what the interface files the data under); a
            // facilityID that names another clinic is refused.
            let msh4 = ctwiz_hl7::er7::parse(&hl7_message)
                .map(|m| m.msh().field(4).component(1).text().trim().to_string())
                .unwrap_or_default();
            let facility = if facility_id.trim().is_empty() {
                msh4.clone()
            } else {
                facility_id.trim().to_string()
            };
            if !msh4.is_empty() && !msh4.eq_ignore_ascii_case(&facility) {
                return fault_response(&Fault::new(
                    FaultKind::Security,
                    accounts::SIGN_IN_FAILED,
                    format!("facilityID {facility:?} does not match MSH-4 {msh4:?}"),
                ));
            }
            match service.authorize(username, password, facility).await {
                Ok(Ok(())) => {}
                Ok(Err(f)) => return fault_response(&f),
                Err(e) => {
                    return fault_response(&Fault::new(
                        FaultKind::Unknown,
                        "internal error",
                        e.to_string(),
                    ))
                }
            }
            match service.process(hl7_message, Interface::Soap).await {
                Ok(answer) => soap_response(
                    StatusCode::OK,
                    soap::response("submitSingleMessage", &answer),
                ),
                Err(e) => fault_response(&Fault::new(
                    FaultKind::Unknown,
                    "internal error",
                    e.to_string(),
                )),
            }
        }
    }
}
