//! Application state: what every handler needs, created once by [`crate::serve`] (or a
//! test) and passed down through axum. No globals.

use crate::error::AppError;
use ctwiz_core::codes::CodeSets;
use ctwiz_forecast::Engine;
use ctwiz_store::pool::StorePool;
use ctwiz_store::SqliteStore;
use std::path::PathBuf;
use std::sync::Arc;

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
}

impl AppState {
    /// Opens (and migrates) the database once to fail early, and loads the code sets and
    /// the CDSi supporting data.
    pub fn new(db_path: PathBuf, secure_cookies: bool) -> Result<AppState, AppError> {
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
            }),
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

    /// Minutes of inactivity after which a session ends.
    pub fn idle_minutes(&self) -> i64 {
        self.inner.idle_minutes
    }

    /// Runs `f` with a store on a blocking thread (SQLite and argon2 block).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&SqliteStore) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || pool.with(f)?)
            .await
            .map_err(|e| AppError::Internal(format!("worker failed: {e}")))?
    }
}
