//! The SQL connection the store speaks through: one small API (shaped like rusqlite's)
//! over SQLite, the embedded default, and PostgreSQL, for a statewide deployment. The
//! store's statements, written once, run on either; where the two dialects differ the
//! store asks [`Conn::dialect`] or a helper here for the fragment.
//!
//! Rows read the same on both: integers, reals, text and bytes ([`ValueRef`]); booleans
//! are 0/1 integers and dates ISO text, as the SQLite schema has always stored them.

pub mod ddl;
mod postgres;
mod postgres_tls;
mod sqlite;
mod value;

pub use value::{FromSql, ToSql, Value, ValueRef};

use std::cell::Cell;

/// Which SQL engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// What went wrong in the database layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {index}: {message}")]
    Column { index: usize, message: String },
    #[error("{0}")]
    Value(String),
    /// PostgreSQL refused to prepare a statement (the statement is named, for the log).
    #[error("{message} in: {sql}")]
    Prepare { message: String, sql: String },
    /// A nested unit of an unguarded transaction failed (never leaves the store).
    #[error("a unit of an unguarded transaction failed; the transaction was rolled back")]
    Spoiled,
}

impl Error {
    /// A UNIQUE, NOT NULL, CHECK or foreign-key constraint refused the write.
    pub fn is_constraint_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            Error::Postgres(e) => postgres::is_constraint_violation(e),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `query_row(...).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Parameters of a statement: `params![a, b]`, an array `[a, b]`, a slice of
/// `&dyn ToSql`, or [`params_from_iter`].
pub trait Params {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

impl Params for &[&dyn ToSql] {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(self)
    }
}

impl Params for [&dyn ToSql; 0] {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(&[])
    }
}

impl Params for () {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(&[])
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let refs: [&dyn ToSql; $n] = std::array::from_fn(|i| &self[i] as &dyn ToSql);
                f(&refs)
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

/// Parameters from an iterator (lists whose length is known only at run time).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let items: Vec<I::Item> = self.0.into_iter().collect();
        let refs: Vec<&dyn ToSql> = items.iter().map(|v| v as &dyn ToSql).collect();
        f(&refs)
    }
}

/// `params![a, b, c]`: a parameter list of any [`ToSql`] values.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::sql::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::sql::ToSql),+] as &[&dyn $crate::sql::ToSql]
    };
}
pub(crate) use params;

/// One connection to SQLite or PostgreSQL.
pub struct Conn {
    backend: Backend,
    /// Write transactions begun on this connection (tells one from the next).
    transactions: Cell<u64>,
    /// Inside `write_transaction_unguarded`: nested units take no savepoint.
    unguarded: Cell<bool>,
    /// A nested unit failed in an unguarded transaction, whose writes are then partial.
    spoiled: Cell<bool>,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::PgConn>),
}

impl Conn {
    pub fn sqlite(conn: rusqlite::Connection) -> Conn {
        Conn {
            backend: Backend::Sqlite(conn),
            transactions: Cell::new(0),
            unguarded: Cell::new(false),
            spoiled: Cell::new(false),
        }
    }

    /// Connects to `postgres://...` (the URL syntax of libpq; TLS with `sslmode=require`,
    /// see `postgres_tls`).
    pub fn postgres(url: &str) -> Result<Conn> {
        Ok(Conn {
            backend: Backend::Postgres(Box::new(postgres::PgConn::connect(url)?)),
            transactions: Cell::new(0),
            unguarded: Cell::new(false),
            spoiled: Cell::new(false),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (online backup, PRAGMAs).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// A statement prepared once per connection and kept (the store's fixed statements).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            inner: match &self.backend {
                Backend::Sqlite(c) => StmtInner::SqliteCached(c.prepare_cached(sql)?),
                Backend::Postgres(c) => StmtInner::Postgres(c, c.prepare(sql)?),
            },
        })
    }

    /// A statement prepared for one use.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            inner: match &self.backend {
                Backend::Sqlite(c) => StmtInner::Sqlite(c.prepare(sql)?),
                Backend::Postgres(c) => StmtInner::Postgres(c, c.prepare(sql)?),
            },
        })
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs a write whose answer nobody reads (no rows, no count: an audit row, a log
    /// line). On PostgreSQL, inside a transaction, it is queued and sent with the next
    /// statement, saving its round trip; a failure still fails the scope that wrote it (the
    /// scope's end waits for the answer, see `nested`) or the commit. SQLite runs it at once.
    pub fn execute_deferred<P: Params>(&self, sql: &str, params: P) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => self.execute(sql, params).map(|_| ()),
            Backend::Postgres(c) => c.defer(c.prepare(sql)?, params),
        }
    }

    /// PostgreSQL: queues `;`-separated statements without parameters (a setting for the
    /// deferred write after it, and its reset) to go in order with the deferred writes.
    pub fn execute_batch_deferred(&self, sql: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.defer_batch(sql),
        }
    }

    /// Runs several `;`-separated statements without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs an `INSERT` into a table keyed by an `id` column (prepared once per
    /// connection) and returns the new row's id. One round trip on PostgreSQL
    /// (`RETURNING id`), where `execute` and then `last_insert_rowid` take two.
    pub fn insert_returning_id<P: Params>(&self, sql: &str, params: P) -> Result<i64> {
        self.insert_each_returning_id(sql, [params])?
            .pop()
            .ok_or(Error::NoRows)
    }

    /// Runs a one-row `INSERT` into a table keyed by an `id` column once per parameter
    /// set, the statement prepared once, and returns the new rows' ids in order.
    pub fn insert_each_returning_id<P: Params>(
        &self,
        sql: &str,
        rows: impl IntoIterator<Item = P>,
    ) -> Result<Vec<i64>> {
        let rows = rows.into_iter();
        let mut ids = Vec::with_capacity(rows.size_hint().0);
        match &self.backend {
            Backend::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                for params in rows {
                    sqlite::execute(&mut st, params)?;
                    ids.push(c.last_insert_rowid());
                }
            }
            Backend::Postgres(c) => {
                let st = c.prepare(&format!("{sql} RETURNING id"))?;
                for params in rows {
                    let got = c.query(&st, params)?;
                    ids.push(got.first().ok_or(Error::NoRows)?.try_get(0)?);
                }
            }
        }
        Ok(ids)
    }

    /// Runs a multi-row `INSERT` into a table keyed by an `id` column and returns the new
    /// rows' ids (in no promised order).
    pub fn insert_returning_ids<P: Params>(&self, sql: &str, params: P) -> Result<Vec<i64>> {
        match &self.backend {
            Backend::Sqlite(c) => {
                let mut st = c.prepare_cached(&format!("{sql} RETURNING id"))?;
                let mut rows = sqlite::query(&mut st, params)?;
                let mut ids = Vec::new();
                while let Some(r) = rows.next()? {
                    ids.push(r.get(0)?);
                }
                Ok(ids)
            }
            Backend::Postgres(c) => {
                let st = c.prepare(&format!("{sql} RETURNING id"))?;
                c.query(&st, params)?
                    .iter()
                    .map(|r| Ok(r.try_get(0)?))
                    .collect()
            }
        }
    }

    /// The id of the row most recently inserted on this connection (into any table, on
    /// both engines: SQLite's rowid, PostgreSQL's last identity value).
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.last_insert_rowid()),
            Backend::Postgres(c) => c.lastval(),
        }
    }

    /// The open write transaction's number on this connection (each `write_transaction`
    /// takes the next), or `None` when no transaction is open.
    pub fn transaction(&self) -> Option<u64> {
        (!self.is_autocommit()).then(|| self.transactions.get())
    }

    /// No transaction is open on this connection.
    pub fn is_autocommit(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(c) => c.is_autocommit(),
            Backend::Postgres(c) => !c.in_transaction.get(),
        }
    }

    /// Runs `f` in a write transaction: committed if it returns `Ok`, rolled back if it
    /// fails or panics. Writers take the database's write lock up front (SQLite
    /// `BEGIN IMMEDIATE`; on PostgreSQL one transaction-scoped advisory lock shared by
    /// every ctwiz process), so a read-check-write sequence (stock levels, MRN checks)
    /// never interleaves with another writer. Not for nesting: see `nested`.
    pub fn write_transaction<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match &self.backend {
            Backend::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?,
            Backend::Postgres(c) => c.begin_write()?,
        }
        self.transactions.set(self.transactions.get() + 1);
        let guard = Rollback {
            conn: self,
            armed: Cell::new(true),
        };
        let out = f()?;
        match &self.backend {
            Backend::Sqlite(c) => c.execute_batch("COMMIT").map_err(Error::from)?,
            Backend::Postgres(c) => c.commit()?,
        }
        guard.armed.set(false);
        Ok(out)
    }

    /// Runs `f` in a write transaction whose nested units take no savepoint, for a batch
    /// of units that almost never fail (an HL7 import: a savepoint copies every page a
    /// message touches, a tenth of the import's work). If a unit does fail, its writes
    /// up to the failure cannot be undone alone: the whole transaction is rolled back and
    /// `Ok(None)` returned, nothing of `f` kept, for the caller to run the batch again
    /// under `write_transaction`, where each unit fails alone. Errors of `f` itself (not
    /// of a nested unit) roll back and are returned as from `write_transaction`.
    pub fn write_transaction_unguarded<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<Option<T>, E> {
        struct Guarded<'a>(&'a Conn);
        impl Drop for Guarded<'_> {
            fn drop(&mut self) {
                self.0.unguarded.set(false);
            }
        }
        self.spoiled.set(false);
        self.unguarded.set(true);
        let _back = Guarded(self);
        let out = self.write_transaction(|| {
            let v = f()?;
            // The last units' deferred writes (PostgreSQL) are answered here: one the
            // server refuses spoils the batch, to be run again unit by unit, instead of
            // failing the commit.
            if let Backend::Postgres(c) = &self.backend {
                c.flush().inspect_err(|_| self.spoiled.set(true))?;
            }
            if self.spoiled.get() {
                return Err(E::from(Error::Spoiled));
            }
            Ok(v)
        });
        match out {
            Ok(v) => Ok(Some(v)),
            Err(_) if self.spoiled.get() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs `f` inside the open write transaction as a nested unit: if it fails, its
    /// writes are undone and the transaction goes on. SQLite takes a savepoint and
    /// releases it. PostgreSQL's savepoint is sent only with the scope's first statement
    /// (a scope that only reads cached facts costs nothing) and released together with
    /// the next savepoint taken, saving a round trip per scope (held savepoints nest, and
    /// a deep stack of them slows the server's every visibility check). Its deferred
    /// writes (`execute_deferred`) are answered before it ends: one that failed fails it.
    pub fn nested<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if self.unguarded.get() {
            // No savepoint: a failure spoils the whole transaction (see above).
            return f().inspect_err(|_| self.spoiled.set(true));
        }
        match &self.backend {
            Backend::Sqlite(c) => {
                c.prepare_cached("SAVEPOINT nested")
                    .and_then(|mut s| s.execute([]))
                    .map_err(Error::from)?;
                let out = f();
                let end = |sql: &str| -> Result<()> {
                    c.prepare_cached(sql)?.execute([])?;
                    Ok(())
                };
                match out {
                    Ok(v) => {
                        end("RELEASE nested")?;
                        Ok(v)
                    }
                    Err(e) => {
                        end("ROLLBACK TO nested")?;
                        end("RELEASE nested")?;
                        Err(e)
                    }
                }
            }
            Backend::Postgres(c) => {
                // Deferred writes belong to the scope that queued them: the enclosing
                // scope's are settled before this one begins, this one's before it ends.
                c.flush()?;
                let scope = c.open_savepoint();
                let out = f().and_then(|v| match c.flush() {
                    Ok(()) => Ok(v),
                    Err(e) => Err(E::from(e)),
                });
                match out {
                    Ok(v) => {
                        c.close_savepoint(scope, false);
                        Ok(v)
                    }
                    Err(e) => {
                        c.close_savepoint(scope, true);
                        Err(e)
                    }
                }
            }
        }
    }
}

/// Rolls an open transaction back unless it was committed (errors and panics alike).
struct Rollback<'c> {
    conn: &'c Conn,
    armed: Cell<bool>,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if !self.armed.get() {
            return;
        }
        // Nothing more can be done about a failed rollback: the connection is dropped by
        // its owner, which ends the transaction on both engines.
        match &self.conn.backend {
            Backend::Sqlite(c) => {
                if !c.is_autocommit() {
                    let _ = c.execute_batch("ROLLBACK");
                }
            }
            Backend::Postgres(c) => c.rollback(),
        }
    }
}

/// A prepared statement.
pub struct Statement<'c> {
    inner: StmtInner<'c>,
}

enum StmtInner<'c> {
    SqliteCached(rusqlite::CachedStatement<'c>),
    Sqlite(rusqlite::Statement<'c>),
    Postgres(&'c postgres::PgConn, ::postgres::Statement),
}

impl<'c> Statement<'c> {
    /// Runs the statement; the number of rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        match &mut self.inner {
            StmtInner::SqliteCached(st) => sqlite::execute(st, params),
            StmtInner::Sqlite(st) => sqlite::execute(st, params),
            StmtInner::Postgres(c, st) => c.execute(st, params),
        }
    }

    /// The rows of a query, read with [`Rows::next`].
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        Ok(Rows {
            inner: match &mut self.inner {
                StmtInner::SqliteCached(st) => RowsInner::Sqlite(sqlite::query(st, params)?),
                StmtInner::Sqlite(st) => RowsInner::Sqlite(sqlite::query(st, params)?),
                StmtInner::Postgres(c, st) => RowsInner::Postgres {
                    rows: c.query(st, params)?.into_iter(),
                    current: None,
                },
            },
        })
    }

    /// Each row turned into a `T` by `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// The first row turned into a `T` by `f`; [`Error::NoRows`] if there is none.
    pub fn query_row<T, P: Params>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }
}

/// The rows of a query.
pub struct Rows<'s> {
    inner: RowsInner<'s>,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: std::vec::IntoIter<::postgres::Row>,
        current: Option<::postgres::Row>,
    },
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // a lending iterator: rows borrow the cursor
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.inner {
            RowsInner::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            RowsInner::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// Rows turned into values by a closure, as an iterator.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row of a result.
#[derive(Clone, Copy)]
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a ::postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0) as a `T`.
    pub fn get<T: FromSql>(&self, index: usize) -> Result<T> {
        let v = match self {
            Row::Sqlite(r) => sqlite::value(r, index)?,
            Row::Postgres(r) => postgres::value(r, index)?,
        };
        T::from_sql(v).map_err(|message| Error::Column { index, message })
    }
}

/// A subquery listing the integers of a JSON array bound at `param` (`"?1"`), for
/// `id IN (...)` with a list of any length in one statement.
pub fn json_integers(d: Dialect, param: &str) -> String {
    match d {
        Dialect::Sqlite => format!("SELECT value FROM json_each({param})"),
        Dialect::Postgres => {
            format!("SELECT value::bigint FROM json_array_elements_text(CAST({param} AS json))")
        }
    }
}

/// A subquery listing the strings of a JSON array bound at `param`.
pub fn json_texts(d: Dialect, param: &str) -> String {
    match d {
        Dialect::Sqlite => format!("SELECT value FROM json_each({param})"),
        Dialect::Postgres => {
            format!("SELECT value FROM json_array_elements_text(CAST({param} AS json))")
        }
    }
}

/// Turns SQLite's `?` and `?N` placeholders into PostgreSQL's `$N` (a bare `?` takes the
/// number after the largest one so far, as SQLite numbers it). Quoted text is left alone.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut largest = 0u32;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = if digits.is_empty() {
                    largest + 1
                } else {
                    digits.parse().unwrap_or(u32::MAX)
                };
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?1 AND c = ? AND d = '?' AND e = ?2"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = '?' AND e = $2"
        );
        assert_eq!(
            numbered_placeholders("VALUES (?, ?, ?)"),
            "VALUES ($1, $2, $3)"
        );
        assert_eq!(
            numbered_placeholders("SELECT \"a?\" FROM t WHERE x = ?3 OR y = ?"),
            "SELECT \"a?\" FROM t WHERE x = $3 OR y = $4"
        );
    }

    #[test]
    fn sqlite_rows_read_through_the_layer() -> Result<()> {
        let c = Conn::sqlite(rusqlite::Connection::open_in_memory()?);
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, x REAL)",
        )?;
        let n = c.execute(
            "INSERT INTO t (name, flag, x) VALUES (?1, ?2, ?3), (?4, ?5, NULL)",
            params!["a", true, 1.5, "b", false],
        )?;
        assert_eq!(n, 2);
        let mut st = c.prepare_cached("SELECT id, name, flag, x FROM t ORDER BY id")?;
        let rows: Vec<(i64, String, bool, Option<f64>)> = st
            .query_map([] as [&dyn ToSql; 0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_>>()?;
        assert_eq!(
            rows,
            vec![
                (1, "a".into(), true, Some(1.5)),
                (2, "b".into(), false, None)
            ]
        );
        let none = c
            .query_row("SELECT id FROM t WHERE name = ?1", ["zz"], |r| {
                r.get::<i64>(0)
            })
            .optional()?;
        assert_eq!(none, None);
        let err = c.query_row("SELECT name FROM t WHERE id = 1", (), |r| r.get::<i64>(0));
        assert!(
            matches!(err, Err(Error::Column { index: 0, .. })),
            "{err:?}"
        );
        Ok(())
    }

    /// Deferred writes (`execute_deferred`) belong to the scope that queued them, on the
    /// backend under test (`CTWIZ_TEST_BACKEND`): kept with it, dropped with it, and one the
    /// database refuses fails its own scope only, or the commit it went with.
    #[cfg(feature = "test-support")]
    #[test]
    fn a_deferred_write_fails_its_own_scope_only() -> Result<()> {
        let store = crate::test_support::store();
        let c = store.conn();
        c.execute_batch("CREATE TABLE deferred_t (n INTEGER NOT NULL CHECK (n > 0))")?;
        let insert = |n: i64| c.execute_deferred("INSERT INTO deferred_t (n) VALUES (?1)", [n]);
        let stored = || -> Result<Vec<i64>> {
            let mut st = c.prepare("SELECT n FROM deferred_t ORDER BY n")?;
            let rows = st.query_map((), |r| r.get(0))?;
            rows.collect()
        };
        c.write_transaction(|| -> Result<()> {
            c.nested(|| insert(1))?;
            // Refused by the database: its scope fails, with the write before it; the
            // transaction goes on.
            let refused = c.nested(|| {
                insert(2)?;
                insert(-1)
            });
            assert!(refused.is_err(), "a CHECK violation");
            // A scope that fails on its own drops what it queued.
            let dropped: Result<()> = c.nested(|| {
                insert(3)?;
                Err(Error::Value("changed its mind".into()))
            });
            assert!(dropped.is_err());
            // Queued before a nested scope: the enclosing scope's own, kept when the
            // nested one fails.
            insert(4)?;
            let inner: Result<()> = c.nested(|| {
                insert(5)?;
                Err(Error::Value("changed its mind".into()))
            });
            assert!(inner.is_err());
            // Read back in the same transaction: a query sees what was queued before it.
            assert_eq!(stored()?, vec![1, 4]);
            // Goes with the commit.
            insert(6)
        })?;
        assert_eq!(stored()?, vec![1, 4, 6]);
        // Refused at the commit it went with: nothing of that transaction stays.
        let r = c.write_transaction(|| {
            insert(7)?;
            insert(-7)
        });
        assert!(r.is_err(), "a CHECK violation at commit");
        assert!(c.is_autocommit());
        assert_eq!(stored()?, vec![1, 4, 6]);
        Ok(())
    }

    /// An unguarded transaction keeps everything when no unit fails; when one fails (in
    /// its own code, or a deferred write the database refuses, even the last one) it keeps
    /// nothing and says so with `None`, on the backend under test.
    #[cfg(feature = "test-support")]
    #[test]
    fn an_unguarded_transaction_is_all_or_nothing() -> Result<()> {
        let store = crate::test_support::store();
        let c = store.conn();
        c.execute_batch("CREATE TABLE unguarded_t (n INTEGER NOT NULL CHECK (n > 0))")?;
        let insert = |n: i64| c.execute("INSERT INTO unguarded_t (n) VALUES (?1)", [n]);
        let deferred = |n: i64| c.execute_deferred("INSERT INTO unguarded_t (n) VALUES (?1)", [n]);
        let count =
            || -> Result<i64> { c.query_row("SELECT COUNT(*) FROM unguarded_t", (), |r| r.get(0)) };
        let all = c.write_transaction_unguarded(|| -> Result<()> {
            c.nested(|| insert(1).map(drop))?;
            c.nested(|| deferred(2))
        })?;
        assert_eq!(all, Some(()));
        assert_eq!(count()?, 2);
        // A unit fails and the caller carries on, as an import answers the message AR:
        // the batch is spoiled all the same.
        let spoiled = c.write_transaction_unguarded(|| -> Result<()> {
            c.nested(|| insert(3).map(drop))?;
            let failed: Result<()> = c.nested(|| {
                insert(4)?;
                Err(Error::Value("refused".into()))
            });
            assert!(failed.is_err());
            c.nested(|| insert(5).map(drop))
        })?;
        assert_eq!(spoiled, None);
        assert!(c.is_autocommit());
        assert_eq!(count()?, 2, "nothing of the spoiled batch stays");
        // The last unit's deferred write refused (PostgreSQL answers it at the end).
        let refused = c.write_transaction_unguarded(|| -> Result<()> {
            c.nested(|| deferred(6))?;
            let _ = c.nested(|| deferred(-6));
            Ok(())
        })?;
        assert_eq!(refused, None);
        assert_eq!(count()?, 2);
        // An error of the transaction's own code is an error, as for `write_transaction`.
        let own: Result<Option<()>> = c.write_transaction_unguarded(|| {
            insert(7)?;
            Err(Error::Value("no".into()))
        });
        assert!(own.is_err());
        assert_eq!(count()?, 2);
        Ok(())
    }

    #[test]
    fn a_failed_write_transaction_leaves_nothing() -> Result<()> {
        let c = Conn::sqlite(rusqlite::Connection::open_in_memory()?);
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
        let r: Result<()> = c.write_transaction(|| {
            c.execute("INSERT INTO t (id) VALUES (1)", ())?;
            Err(Error::Value("no".into()))
        });
        assert!(r.is_err());
        assert!(c.is_autocommit());
        let n: i64 = c.query_row("SELECT COUNT(*) FROM t", (), |r| r.get(0))?;
        assert_eq!(n, 0);
        Ok(())
    }
}
