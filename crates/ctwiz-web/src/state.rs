//! Application state: what every handler needs, created once by [`crate::serve`] (or a
//! test) and passed down through axum. No globals.

use crate::error::AppError;
use crate::limits::Limits;
use chrono::NaiveDateTime;
use ctwiz_core::codes::CodeSets;
use ctwiz_forecast::Engine;
use ctwiz_store::pool::StorePool;
use ctwiz_store::SqliteStore;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// The public address when none is configured (`ctwiz serve`'s default listen address).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Shared, cheaply clonable state handed to every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The process's connections, shared with the HL7 interface service.
    pool: StorePool,
    codes: CodeSets,
    engine: Engine,
    secure_cookies: bool,
    idle_minutes: i64,
    limits: Limits,
    /// Seconds added to the real time (tests move the clock past a lock).
    clock_offset: AtomicI64,
    /// Secrets of queued e-mails (temporary passwords) by outbox id: they live only here,
    /// never in the database, until the message is delivered (see `mail`).
    held_secrets: Mutex<HashMap<i64, String>>,
    /// The registry's public address: the SMART Health Card issuer (`iss`).
    public_url: std::sync::OnceLock<ctwiz_store::certificate::shc::IssuerUrl>,
    /// The process's metrics (`/metrics`), shared with the HL7 interface.
    metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Opens (and migrates) the database once to fail early, and loads the code sets and
    /// the CDSi supporting data.
    pub fn new(db_path: PathBuf, secure_cookies: bool) -> Result<AppState, AppError> {
        AppState::with_limits(db_path, secure_cookies, Limits::default())
    }

    /// [`AppState::new`] with other throttles (tests that send many requests from one
    /// address; deployments that want stricter ones).
    pub fn with_limits(
        db_path: PathBuf,
        secure_cookies: bool,
        limits: Limits,
    ) -> Result<AppState, AppError> {
        let pool = StorePool::open(db_path)?;
        let engine = Engine::bundled()
            .map_err(|e| AppError::Internal(format!("CDSi supporting data: {e}")))?;
        Ok(AppState {
            inner: Arc::new(Inner {
                pool,
                codes: CodeSets::embedded(),
                engine,
                secure_cookies,
                idle_minutes: 30,
                limits,
                clock_offset: AtomicI64::new(0),
                held_secrets: Mutex::new(HashMap::new()),
                public_url: std::sync::OnceLock::new(),
                metrics: Arc::default(),
            }),
        })
    }

    /// Sets the public address once (`serve`, from `WebConfig::public_url`); later calls
    /// keep the first.
    pub fn set_public_url(&self, url: ctwiz_store::certificate::shc::IssuerUrl) {
        let _ = self.inner.public_url.set(url);
    }

    /// The SMART Health Card issuer: the configured public address, else the default
    /// local address of `ctwiz serve`.
    pub fn public_url(&self) -> &ctwiz_store::certificate::shc::IssuerUrl {
        self.inner.public_url.get_or_init(|| {
            ctwiz_store::certificate::shc::IssuerUrl::new(DEFAULT_PUBLIC_URL)
                .expect("the default public URL is valid")
        })
    }

    pub fn codes(&self) -> &CodeSets {
        &self.inner.codes
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The connection pool, for the other services of this process (SOAP, MLLP).
    pub fn pool(&self) -> &StorePool {
        &self.inner.pool
    }

    /// Whether cookies get the `Secure` attribute (served over TLS or behind an HTTPS proxy).
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// The throttles of sign-in and the public forms.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.inner.metrics
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The server's current time (UTC, whole seconds), including any [`shift_clock`].
    ///
    /// [`shift_clock`]: AppState::shift_clock
    pub fn now(&self) -> NaiveDateTime {
        crate::session::now()
            + chrono::Duration::seconds(self.inner.clock_offset.load(Ordering::Relaxed))
    }

    /// Moves this server's clock forward by `by` (tests and demos: e.g. past a sign-in lock).
    pub fn shift_clock(&self, by: chrono::Duration) {
        self.inner
            .clock_offset
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }

    /// Keeps `secret` for the queued e-mail `outbox_id` until it is delivered.
    pub(crate) fn hold_secret(&self, outbox_id: i64, secret: String) {
        if let Ok(mut held) = self.inner.held_secrets.lock() {
            held.insert(outbox_id, secret);
        }
    }

    /// The secret held for the e-mail `outbox_id`, if this process still has it.
    pub(crate) fn held_secret(&self, outbox_id: i64) -> Option<String> {
        self.inner
            .held_secrets
            .lock()
            .ok()
            .and_then(|held| held.get(&outbox_id).cloned())
    }

    /// Forgets the secret of a delivered e-mail.
    pub(crate) fn forget_secret(&self, outbox_id: i64) {
        if let Ok(mut held) = self.inner.held_secrets.lock() {
            held.remove(&outbox_id);
        }
    }

    /// Minutes of inactivity after which a session ends.
    pub fn idle_minutes(&self) -> i64 {
        self.inner.idle_minutes
    }

    /// Runs `f` with a store on a blocking thread (SQLite and argon2 block), inside the
    /// caller's span (what it logs names the request).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&SqliteStore) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| pool.with(f))?)
            .await
            .map_err(|e| AppError::Internal(format!("worker failed: {e}")))?
    }
}
