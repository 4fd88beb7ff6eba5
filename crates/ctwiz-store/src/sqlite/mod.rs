//! SQLite implementation of the store traits.
//!
//! One [`SqliteStore`] wraps one connection. Open one per thread or request; SQLite in
//! WAL mode lets many readers run beside one writer.

mod agreements;
mod allocations;
mod audit;
mod backup;
mod certificates;
mod clinic_info;
mod codec;
mod dedup;
mod distributions;
mod dose_stock;
mod doses;
mod interface;
mod inventory;
mod migrations;
mod onboarding;
mod orgs;
mod outreach;
mod patients;
mod places;
mod portal;
mod recall;
mod reporting;
mod schema;
mod unmerge;
mod users;
mod web;

use crate::error::{Result, StoreError};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prepared statements kept per connection (see [`SqliteStore::init`]).
const STATEMENT_CACHE: usize = 256;

pub use migrations::SCHEMA_VERSION;

/// `ctwiz.db` in the working directory unless `CTWIZ_DB` says otherwise (the CLI's
/// `--db` flag reads the same variable).
pub fn default_db_path() -> PathBuf {
    std::env::var_os("CTWIZ_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ctwiz.db"))
}

pub struct SqliteStore {
    conn: Connection,
    /// The towns table as last read, with its version (see `places.rs`).
    places: std::cell::RefCell<Option<(i64, std::sync::Arc<ctwiz_core::place::Places>)>>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path.as_ref())?;
        Self::init(conn, true)
    }

    /// A private database that disappears when dropped (tests, demos).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, false)
    }

    fn init(conn: Connection, file: bool) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10))?;
        if file {
            // WAL: readers don't block the writer; NORMAL sync is durable at each
            // checkpoint and safe against corruption on power loss.
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Conflict(format!(
                    "could not switch the database to WAL mode (got {mode})"
                )));
            }
            conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        }
        conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")?;
        // One VXU runs a few dozen distinct statements (matching, doses, stock, audit):
        // rusqlite's default cache of 16 would re-prepare most of them per message.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations::migrate(&conn)?;
        let store = SqliteStore {
            conn,
            places: Default::default(),
        };
        store.settle_places()?;
        Ok(store)
    }

    /// The schema version of the opened database.
    pub fn schema_version(&self) -> Result<u32> {
        migrations::applied(&self.conn)
    }

    /// Runs `f` inside one transaction: all of its writes land, or none.
    pub fn in_transaction<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        // Inside an outer transaction, join it through a savepoint: use cases can then
        // compose store calls (which use transactions themselves) into one atomic unit.
        // The savepoint statements are prepared once (an import runs several per message).
        if !self.conn.is_autocommit() {
            self.savepoint("SAVEPOINT nested")?;
            return match f(self) {
                Ok(v) => {
                    self.savepoint("RELEASE nested")?;
                    Ok(v)
                }
                Err(e) => {
                    self.savepoint("ROLLBACK TO nested")?;
                    self.savepoint("RELEASE nested")?;
                    Err(e)
                }
            };
        }
        // IMMEDIATE takes the write lock up front, so read-check-write sequences (stock
        // levels, MRN checks) can't interleave with another writer.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let out = f(self)?;
        tx.commit()?;
        Ok(out)
    }

    fn savepoint(&self, sql: &str) -> Result<()> {
        self.conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    }

    /// Size of the database file in bytes (pages × page size).
    pub fn size_bytes(&self) -> Result<u64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages * size) as u64)
    }

    /// Tunes this connection for a large bulk load (e.g. `ctwiz seed`): no fsync per
    /// commit (a process crash still can't corrupt the database; only an OS crash can lose
    /// the last transactions) and a 256 MiB page cache.
    pub fn tune_for_bulk_load(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;")?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (after bulk loads).
    pub fn optimize(&self) -> Result<()> {
        self.conn.execute_batch("PRAGMA optimize; ANALYZE;")?;
        Ok(())
    }
}
