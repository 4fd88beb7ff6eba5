//! A pool of SQLite connections for servers: one per process, shared by the web app and
//! the HL7 interface (SOAP, MLLP), so a process holds one set of connections to its
//! database.
//!
//! [`SqliteStore`] is `Send` but not `Sync`: a request takes a connection out, uses it
//! (on a blocking thread; the pool itself does not know about async runtimes) and puts it
//! back. More connections are opened under load; only [`StorePool::KEEP`] idle ones are
//! kept.

use crate::{Result, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Shared connections to one database. Cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct StorePool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<SqliteStore>>,
}

impl StorePool {
    /// Idle connections kept between requests.
    pub const KEEP: usize = 8;

    /// Opens (and migrates) the database once, so a bad path or a database from a newer
    /// ctwiz fails at start-up rather than at the first request.
    pub fn open(path: impl Into<PathBuf>) -> Result<StorePool> {
        let path = path.into();
        let first = SqliteStore::open(&path)?;
        Ok(StorePool {
            inner: Arc::new(Inner {
                path,
                idle: Mutex::new(vec![first]),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a connection of the pool (an idle one, or a new one). Blocks: call
    /// it from a blocking thread in async code.
    pub fn with<T>(&self, f: impl FnOnce(&SqliteStore) -> T) -> Result<T> {
        // A poisoned lock only means another request panicked: open a fresh connection.
        let taken = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let store = match taken {
            Some(s) => s,
            None => SqliteStore::open(&self.inner.path)?,
        };
        let out = f(&store);
        if let Ok(mut idle) = self.inner.idle.lock() {
            if idle.len() < Self::KEEP {
                idle.push(store);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PatientStore;

    #[test]
    fn connections_are_reused_and_see_each_others_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = StorePool::open(dir.path().join("pool.db")).expect("pool");
        let count = |p: &StorePool| p.with(|s| s.patient_count().expect("count")).expect("with");
        assert_eq!(count(&pool), 0);
        let nested = pool
            .with(|_outer| pool.with(|inner| inner.patient_count().is_ok()))
            .expect("outer");
        assert!(nested.expect("a second connection is opened while one is in use"));
        assert_eq!(pool.inner.idle.lock().expect("lock").len(), 2);
    }
}
