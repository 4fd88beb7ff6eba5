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
use crate::sql::{Conn, Dialect};
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

/// The PostgreSQL URL in a `--db` value, if it is one.
pub fn postgres_url(db: &Path) -> Option<&str> {
    db.to_str()
        .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// A `--db` value fit for messages and logs: a PostgreSQL URL's password is masked.
pub fn db_for_display(db: &Path) -> String {
    let Some(url) = postgres_url(db) else {
        return db.display().to_string();
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    // user:password@host... (the credentials end at the last '@' before the path).
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
#[test]
fn a_password_is_never_shown() {
    let shown = |s: &str| db_for_display(Path::new(s));
    assert_eq!(
        shown("postgres://ctwiz:s3cr@t@db1:5432/ctwiz?sslmode=require"),
        "postgres://ctwiz:***@db1:5432/ctwiz?sslmode=require"
    );
    assert_eq!(
        shown("postgres://ctwiz@db1/ctwiz"),
        "postgres://ctwiz@db1/ctwiz"
    );
    assert_eq!(shown("/var/lib/ctwiz/ctwiz.db"), "/var/lib/ctwiz/ctwiz.db");
}

pub struct SqliteStore {
    conn: Conn,
    /// The towns table as last read, with its version (see `places.rs`).
    places: std::cell::RefCell<Option<(i64, std::sync::Arc<ctwiz_core::place::Places>)>>,
    /// Answers kept for the rest of this connection's write transaction.
    held: std::cell::RefCell<WhileLocked>,
}

/// Answers that no other process can change while this connection holds the database's
/// write lock, kept until its transaction ends: a VXU asks them once per dose, and on
/// PostgreSQL each question is a round trip. A write through this store that could change
/// one forgets it, and a savepoint rolled back forgets them all (it may undo such a write
/// after its new value was read).
#[derive(Default)]
struct WhileLocked {
    /// The write transaction these answers belong to.
    transaction: u64,
    /// Whether a clinic holds any lot (`InventoryStore::holds_any_lot`).
    lot_holders: std::collections::HashMap<String, bool>,
    /// The towns table's version (`places_meta`).
    places_version: Option<i64>,
    /// A clinic as `OrgStore::clinic` answers (`None`: no such clinic); placed under the
    /// towns table, so a new table forgets them.
    clinics: std::collections::HashMap<String, Option<ctwiz_core::org::Clinic>>,
    /// The time this transaction's rows are recorded at (see `transaction_time`).
    time: Option<String>,
    /// A clinic's interface status as stored (`None`: never set).
    interface_status: std::collections::HashMap<String, Option<String>>,
}

impl SqliteStore {
    /// `ask` once per write transaction; outside one, every time.
    fn while_locked<T: Clone>(
        &self,
        get: impl Fn(&WhileLocked) -> Option<T>,
        put: impl FnOnce(&mut WhileLocked, T),
        ask: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let Some(transaction) = self.conn.transaction() else {
            return ask();
        };
        if self.held.borrow().transaction != transaction {
            *self.held.borrow_mut() = WhileLocked {
                transaction,
                ..Default::default()
            };
        }
        if let Some(v) = get(&self.held.borrow()) {
            return Ok(v);
        }
        let v = ask()?;
        put(&mut self.held.borrow_mut(), v.clone());
        Ok(v)
    }
}

impl SqliteStore {
    /// The database's clock (UTC, `YYYY-MM-DD HH:MM:SS`) as a write transaction first
    /// read it, for the rows it records (`doses.recorded_at`): PostgreSQL's `now()` is
    /// the transaction's start too, and SQLite computing its `datetime('now')` default
    /// for each dose row was a twentieth of an import's writing.
    fn transaction_time(&self) -> Result<String> {
        self.while_locked_value(
            |h| h.time.clone(),
            |h, v| h.time = Some(v),
            "SELECT datetime('now')",
        )
    }

    /// [`Self::while_locked`] for a question of one row and one column, asked by `sql`.
    fn while_locked_value<T: Clone + crate::sql::FromSql>(
        &self,
        get: impl Fn(&WhileLocked) -> Option<T>,
        put: impl FnOnce(&mut WhileLocked, T),
        sql: &str,
    ) -> Result<T> {
        self.while_locked(get, put, || {
            Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
        })
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`: an SQLite file, or
    /// a PostgreSQL database given as `postgres://user:password@host:port/db`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        if let Some(url) = postgres_url(path.as_ref()) {
            return Self::open_postgres(url);
        }
        let conn = Connection::open(path.as_ref())?;
        Self::init(conn, true)
    }

    /// Connects to a PostgreSQL database and migrates it. The database must sort text by
    /// code point (the C collation), as SQLite does, so lists and reports come out in the
    /// same order on both.
    pub fn open_postgres(url: &str) -> Result<Self> {
        let conn = Conn::postgres(url)?;
        let collation: String = conn.query_row(
            "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
            (),
            |r| r.get(0),
        )?;
        if collation != "C" && collation != "POSIX" {
            return Err(StoreError::Conflict(format!(
                "the PostgreSQL database sorts text by the {collation} collation; ctwiz needs C \
                 (create it with: CREATE DATABASE name TEMPLATE template0 ENCODING 'UTF8' \
                 LC_COLLATE 'C' LC_CTYPE 'C')"
            )));
        }
        Self::migrated(conn)
    }

    /// Migrates the database on `conn` and settles its towns table: a store ready to use.
    fn migrated(conn: Conn) -> Result<Self> {
        migrations::migrate(&conn)?;
        let store = SqliteStore {
            conn,
            places: Default::default(),
            held: Default::default(),
        };
        store.settle_places()?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn dialect(&self) -> crate::sql::Dialect {
        self.conn.dialect()
    }

    /// The connection, for `test_support`'s statements (damaging a row, reading every
    /// table): test code only.
    #[cfg(feature = "test-support")]
    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
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
            // A 64 MiB page cache (SQLite's default is 2 MiB): an import or a busy server
            // otherwise reads the same index pages back from the WAL again and again.
            conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;")?;
        }
        conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")?;
        // Plans that do not depend on bound values. Once ANALYZE has gathered samples
        // (`optimize`, after a seed or bulk load), SQLite otherwise re-prepares every
        // cached statement each time its parameters are bound again: 14 % of an
        // import's CPU went to re-parsing the matching query.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // One VXU runs a few dozen distinct statements (matching, doses, stock, audit):
        // rusqlite's default cache of 16 would re-prepare most of them per message.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations::register_functions(&conn)?;
        let conn = Conn::sqlite(conn);
        Self::migrated(conn)
    }

    /// The schema version of the opened database.
    pub fn schema_version(&self) -> Result<u32> {
        migrations::applied(&self.conn)
    }

    /// The schema version of the database at `path`, read without creating, migrating or
    /// writing anything (`ctwiz config check`); `None` if the SQLite file does not exist.
    pub fn applied_schema_version(path: impl AsRef<Path>) -> Result<Option<u32>> {
        let path = path.as_ref();
        let conn = match postgres_url(path) {
            Some(url) => Conn::postgres(url)?,
            None if !path.exists() => return Ok(None),
            None => Conn::sqlite(Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?),
        };
        let tables: i64 = conn.query_row(
            match conn.dialect() {
                Dialect::Sqlite => {
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
                }
                Dialect::Postgres => {
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = 'schema_versions'"
                }
            },
            (),
            |r| r.get(0),
        )?;
        if tables == 0 {
            return Ok(Some(0));
        }
        Ok(Some(migrations::applied(&conn)?))
    }

    /// Runs `f` inside one transaction: all of its writes land, or none.
    pub fn in_transaction<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        // Inside an outer transaction, join it as a nested unit (a savepoint): use cases
        // can then compose store calls (which use transactions themselves) into one
        // atomic unit.
        if !self.conn.is_autocommit() {
            return self.conn.nested(|| f(self)).inspect_err(|_| {
                // What was read after a write now undone may be stale: ask again.
                *self.held.borrow_mut() = WhileLocked::default();
            });
        }
        // The write lock is taken up front, so read-check-write sequences (stock
        // levels, MRN checks) can't interleave with another writer.
        self.conn.write_transaction(|| f(self))
    }

    /// [`Self::in_transaction`] for a batch of nested units that almost never fail:
    /// none takes a savepoint. `Ok(None)`: one failed, so nothing of `f` was kept; run
    /// the batch again with `in_transaction`. Inside an open transaction, the same as
    /// `in_transaction`.
    pub fn in_transaction_unguarded<T>(
        &self,
        f: impl FnOnce(&Self) -> Result<T>,
    ) -> Result<Option<T>> {
        if !self.conn.is_autocommit() {
            return self.in_transaction(f).map(Some);
        }
        // Facts held while locked belong to their transaction's number: a run again is a
        // new transaction and asks afresh.
        self.conn.write_transaction_unguarded(|| f(self))
    }

    /// The SQLite connection, for what only SQLite has (online backup, file size).
    fn sqlite_conn(&self) -> Result<&Connection> {
        self.conn.as_sqlite().ok_or_else(|| {
            StoreError::Conflict(
                "this needs an SQLite database; on PostgreSQL use its own tools (pg_dump)".into(),
            )
        })
    }

    /// Size of the database file in bytes (pages × page size).
    pub fn size_bytes(&self) -> Result<u64> {
        let Some(conn) = self.conn.as_sqlite() else {
            let size: i64 =
                self.conn
                    .query_row("SELECT pg_database_size(current_database())", (), |r| {
                        r.get(0)
                    })?;
            return Ok(size as u64);
        };
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((pages * size) as u64)
    }

    /// Tunes this connection for a large bulk load (e.g. `ctwiz seed`): no fsync per
    /// commit (a process crash still can't corrupt the database; only an OS crash can lose
    /// the last transactions) and a 256 MiB page cache.
    pub fn tune_for_bulk_load(&self) -> Result<()> {
        self.conn.execute_batch(match self.conn.dialect() {
            Dialect::Sqlite => "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;",
            // Commits do not wait for the WAL flush (a crash loses the last ones only).
            Dialect::Postgres => "SET synchronous_commit = off",
        })?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (after bulk loads).
    pub fn optimize(&self) -> Result<()> {
        self.conn.execute_batch(match self.conn.dialect() {
            Dialect::Sqlite => "PRAGMA optimize; ANALYZE;",
            Dialect::Postgres => "ANALYZE",
        })?;
        Ok(())
    }
}
