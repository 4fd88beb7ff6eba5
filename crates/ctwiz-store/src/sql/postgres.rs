//! The PostgreSQL side of [`super::Conn`]: `tokio-postgres` driven by a single-threaded
//! runtime of the connection's own, so the store stays synchronous.
//!
//! Statements are written for SQLite; here their placeholders are renumbered and they are
//! prepared once per connection. Parameters bind to whatever type PostgreSQL inferred for
//! them (an integer may fill a BIGINT, INTEGER, BOOLEAN or DOUBLE PRECISION parameter),
//! and columns read back in the five SQLite classes.
//!
//! **Savepoints cost no round trip of their own.** A nested scope's `SAVEPOINT`, the
//! `RELEASE` of a finished one and the `ROLLBACK TO` of a failed one are queued and sent in
//! the same network write as the next statement (the client pipelines requests: the server
//! runs them in order, and a statement after a failed one fails too).
//!
//! **Writes nobody waits for are deferred.** A write whose answer is not read (an audit
//! row, the message log) is queued (`defer`) and sent in the same network write as the
//! next statement. Its outcome is still the scope's: a scope that ends, or opens a nested
//! one, with writes queued sends them first and fails if one failed, and a scope that
//! fails drops its queued writes (its savepoint undoes them anyway). So a write that fails
//! undoes its own scope and no other, as if it had been sent on its own.

use super::{numbered_placeholders, Error, Params, Result, ToSql, ValueRef};
use futures_util::future::{join, Fuse, FutureExt};
use postgres::types::{to_sql_checked, FromSql, IsNull, Type};
use postgres::Statement;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use tokio_postgres::{Client, NoTls};

/// The connection's own task: it writes the requests and reads the answers. Polled inline
/// by each request (`PgConn::block_on`), as the synchronous `postgres` client does, so a
/// round trip wakes no other task.
type Connection =
    Fuse<Pin<Box<dyn Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send>>>;

/// Statements in write transactions before this connection first re-plans its statements
/// (`DISCARD PLANS`, sent with the next statement), then again after twice as many, and so
/// on: an import of a few thousand messages into a growing table, in one transaction,
/// otherwise keeps the plans made when the table was nearly empty (see
/// `keep_statistics_current`). A table one connection fills grows with that connection's
/// statements, so its plans stay within a factor of two of the table. (A re-planning costs
/// the server under a millisecond for each distinct statement used afterwards.)
const FIRST_REPLAN: u64 = 2_000;

/// Statements in write transactions between two checks of the planner's statistics
/// after a commit (`PgConn::keep_statistics_current`): an import checks after each batch,
/// a web server rarely.
const STATISTICS_CHECK_EVERY: u64 = 1_000;

/// The advisory lock every ctwiz write transaction takes (see `Conn::write_transaction`):
/// "ctwiz" in ASCII.
const WRITE_LOCK: i64 = 0x63_74_77_69_7a;

pub(crate) struct PgConn {
    /// The client and the runtime that drives its connection; `Some` until dropped (see
    /// `Drop`).
    inner: Option<(tokio::runtime::Runtime, Client)>,
    connection: RefCell<Connection>,
    statements: RefCell<HashMap<String, Statement>>,
    /// A transaction is open (`begin_write` until `commit`/`rollback`); savepoints only
    /// nest inside one, so they do not change it.
    pub(super) in_transaction: Cell<bool>,
    /// The open transaction's nested scopes, outermost first (see `Conn::nested`).
    savepoints: RefCell<Vec<Savepoint>>,
    /// Savepoints taken on this connection: each has a name of its own (`sp{n}`), since
    /// one is released only later and `ROLLBACK TO` must find the scope's own.
    savepoint_names: Cell<u64>,
    /// What closed scopes left to tell the server, in order, sent before the next
    /// statement. Releasing matters: held savepoints nest, and the server's visibility
    /// checks walk the whole stack of subtransactions (a batch of a thousand messages held
    /// a thousand deep made each foreign-key check of its rows cost milliseconds).
    closed: RefCell<Vec<Closed>>,
    /// Deferred writes of the innermost open scope, in order, with the savepoint commands
    /// that had to reach the server before them (see `defer`).
    outbox: RefCell<Vec<Queued>>,
    /// Statements run in write transactions on this connection, their count at which it
    /// re-plans next (see `FIRST_REPLAN`), and their count when the planner's statistics
    /// were last checked.
    writes: Cell<u64>,
    next_replan: Cell<u64>,
    writes_checked: Cell<u64>,
}

/// What waits in the outbox for the next network write.
enum Queued {
    /// Savepoint commands queued before a deferred write.
    Sql(String),
    /// A deferred write and its parameters.
    Write(Statement, Vec<ValueRef<'static>>),
}

/// A nested scope's savepoint: taken on the server (`sent`) only with the scope's first
/// statement.
struct Savepoint {
    name: u64,
    sent: bool,
}

/// A closed scope's savepoint, still to be undone to and/or released on the server.
#[derive(Clone, Copy)]
enum Closed {
    RollbackTo(u64),
    Release(u64),
}

impl Closed {
    fn name(self) -> u64 {
        match self {
            Closed::RollbackTo(n) | Closed::Release(n) => n,
        }
    }
}

fn boxed(
    connection: impl Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 'static,
) -> Connection {
    (Box::pin(connection) as Pin<Box<dyn Future<Output = _> + Send>>).fuse()
}

/// A scope opened by [`PgConn::open_savepoint`], to be closed by `close_savepoint`.
pub(super) struct Scope {
    depth: usize,
    name: u64,
}

impl PgConn {
    pub(super) fn connect(url: &str) -> Result<PgConn> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Value(format!("starting the PostgreSQL client: {e}")))?;
        let (config, tls) = super::postgres_tls::settings(url)?;
        let (client, connection): (Client, Connection) = match tls {
            None => {
                let (client, connection) = rt.block_on(config.connect(NoTls))?;
                (client, boxed(connection))
            }
            Some(tls) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
                let (client, connection) = rt.block_on(config.connect(tls))?;
                (client, boxed(connection))
            }
        };
        let conn = PgConn {
            inner: Some((rt, client)),
            connection: RefCell::new(connection),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            savepoints: RefCell::new(Vec::new()),
            savepoint_names: Cell::new(0),
            closed: RefCell::new(Vec::new()),
            outbox: RefCell::new(Vec::new()),
            writes: Cell::new(0),
            next_replan: Cell::new(FIRST_REPLAN),
            writes_checked: Cell::new(0),
        };
        // Notices ("relation already exists, skipping" at each open) are not news.
        conn.batch("SET client_min_messages TO warning")?;
        Ok(conn)
    }

    /// Runs `request` to its end, driving the connection meanwhile; a connection that
    /// failed fails the request.
    fn block_on<T>(
        &self,
        request: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        let (rt, _) = self.inner();
        let mut request = pin!(request);
        let mut connection = self.connection.borrow_mut();
        Ok(rt.block_on(std::future::poll_fn(|cx| {
            if let Poll::Ready(Err(e)) = Pin::new(&mut *connection).poll(cx) {
                return Poll::Ready(Err(e));
            }
            request.as_mut().poll(cx)
        }))?)
    }

    fn inner(&self) -> &(tokio::runtime::Runtime, Client) {
        self.inner
            .as_ref()
            .expect("the client lives until the connection is dropped")
    }

    /// Opens a nested scope in the open transaction; nothing is sent yet.
    pub(super) fn open_savepoint(&self) -> Scope {
        let name = self.savepoint_names.get() + 1;
        self.savepoint_names.set(name);
        let mut sps = self.savepoints.borrow_mut();
        sps.push(Savepoint { name, sent: false });
        Scope {
            depth: sps.len(),
            name,
        }
    }

    /// Closes a nested scope. If it sent anything, its savepoint is released, after a
    /// rollback to it if it failed (`undo`); both go with the next statement (see
    /// `Conn::nested`).
    pub(super) fn close_savepoint(&self, scope: Scope, undo: bool) {
        if undo {
            // The scope's deferred writes would be undone with it: they are not sent. (The
            // savepoint commands before them still are, in order.)
            self.outbox
                .borrow_mut()
                .retain(|q| matches!(q, Queued::Sql(_)));
        }
        let sent = {
            let mut sps = self.savepoints.borrow_mut();
            // A scope left open by a panic below this one ends with it.
            match sps.get(scope.depth - 1) {
                Some(sp) if sp.name == scope.name => {
                    let sent = sp.sent;
                    sps.truncate(scope.depth - 1);
                    sent
                }
                // The transaction ended under the scope (its savepoints went with it).
                _ => return,
            }
        };
        if !sent {
            return;
        }
        let mut closed = self.closed.borrow_mut();
        if undo {
            // Savepoints taken inside this one go with the rollback.
            closed.retain(|c| c.name() < scope.name);
            closed.push(Closed::RollbackTo(scope.name));
        }
        closed.push(Closed::Release(scope.name));
    }

    /// What must reach the server before the next statement: the closed scopes' rollbacks
    /// and releases, then the savepoints of the open scopes that have not sent anything
    /// yet (`take_savepoints`), which are marked sent.
    fn pending(&self, take_savepoints: bool) -> Option<String> {
        let mut sql = String::new();
        for c in self.closed.borrow_mut().drain(..) {
            match c {
                Closed::RollbackTo(n) => sql.push_str(&format!("ROLLBACK TO SAVEPOINT sp{n};")),
                Closed::Release(n) => sql.push_str(&format!("RELEASE SAVEPOINT sp{n};")),
            }
        }
        if take_savepoints {
            for sp in self
                .savepoints
                .borrow_mut()
                .iter_mut()
                .filter(|sp| !sp.sent)
            {
                sql.push_str(&format!("SAVEPOINT sp{};", sp.name));
                sp.sent = true;
            }
        }
        (!sql.is_empty()).then_some(sql)
    }

    /// Queues what must reach the server before the next statement: the scope's savepoint
    /// (and what closed before it), then a re-planning when one is due (`count_write`).
    fn queue_preamble(&self, queued: &mut Vec<Queued>) {
        if let Some(sql) = self.pending(true) {
            queued.push(Queued::Sql(sql));
        }
        if self.count_write() {
            queued.push(Queued::Sql("DISCARD PLANS".into()));
        }
    }

    /// Runs one request, after what is queued and pending (in the same network write). A
    /// deferred write that failed fails the request with its own error.
    fn run<'c, T, F>(&'c self, request: impl FnOnce(&'c Client) -> F) -> Result<T>
    where
        F: Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    {
        let (_, client) = self.inner();
        let mut queued = self.outbox.take();
        self.queue_preamble(&mut queued);
        if queued.is_empty() {
            return self.block_on(request(client));
        }
        let (before, out) = self.block_on(
            join(send_in_order(client, &queued), request(client)).map(|(a, b)| Ok((a, b))),
        )?;
        before?;
        Ok(out?)
    }

    /// Queues a write whose answer nobody reads, to go with the next statement (see the
    /// module documentation). Outside a transaction it runs at once.
    pub(super) fn defer<P: Params>(&self, st: Statement, params: P) -> Result<()> {
        if !self.in_transaction.get() {
            self.execute(&st, params)?;
            return Ok(());
        }
        let values = params.with(|ps| -> Result<Vec<ValueRef<'static>>> {
            ps.iter().map(|p| Ok(owned(p.to_sql()?))).collect()
        })?;
        let mut outbox = self.outbox.borrow_mut();
        self.queue_preamble(&mut outbox);
        outbox.push(Queued::Write(st, values));
        Ok(())
    }

    /// Queues statements without parameters (settings around a deferred write) to go, in
    /// order, with the deferred writes; outside a transaction they run at once.
    pub(super) fn defer_batch(&self, sql: &str) -> Result<()> {
        if !self.in_transaction.get() {
            return self.batch(sql);
        }
        let mut text = self.pending(true).unwrap_or_default();
        text.push_str(sql);
        self.outbox.borrow_mut().push(Queued::Sql(text));
        Ok(())
    }

    /// Sends the deferred writes now and waits for their answers: the first error, if one
    /// failed. Nothing is sent when none is queued.
    pub(super) fn flush(&self) -> Result<()> {
        if !self
            .outbox
            .borrow()
            .iter()
            .any(|q| matches!(q, Queued::Write(..)))
        {
            return Ok(());
        }
        let (_, client) = self.inner();
        let queued = self.outbox.take();
        self.block_on(send_in_order(client, &queued))
    }

    pub(super) fn prepare(&self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let numbered = numbered_placeholders(sql);
        let st = self.run(|c| c.prepare(&numbered)).map_err(|e| match e {
            Error::Postgres(e) => Error::Prepare {
                message: describe(&e),
                sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
            },
            other => other,
        })?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), st.clone());
        Ok(st)
    }

    pub(super) fn execute<P: Params>(&self, st: &Statement, params: P) -> Result<usize> {
        params.with(|ps| {
            let values = values(ps)?;
            let binds = binds(&values);
            let n = self.run(|c| c.execute(st, &binds))?;
            Ok(n as usize)
        })
    }

    pub(super) fn query<P: Params>(&self, st: &Statement, params: P) -> Result<Vec<postgres::Row>> {
        params.with(|ps| {
            let values = values(ps)?;
            let binds = binds(&values);
            self.run(|c| c.query(st, &binds))
        })
    }

    pub(super) fn lastval(&self) -> Result<i64> {
        let row = self.run(|c| c.query_one("SELECT lastval()", &[]))?;
        Ok(row.try_get(0)?)
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        self.run(|c| c.batch_execute(sql))
    }

    pub(super) fn begin_write(&self) -> Result<()> {
        self.savepoints.borrow_mut().clear();
        self.closed.borrow_mut().clear();
        self.outbox.borrow_mut().clear();
        let (_, client) = self.inner();
        self.block_on(client.batch_execute("BEGIN"))?;
        self.in_transaction.set(true);
        self.block_on(client.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]))?;
        Ok(())
    }

    pub(super) fn commit(&self) -> Result<()> {
        // A rollback to a savepoint still queued must run first: committing a transaction
        // that a failed statement left aborted would roll it all back. Deferred writes go
        // in the same network write; if one failed, the COMMIT rolled everything back and
        // its error is the answer.
        let queued = self.outbox.take();
        let sql = format!("{}COMMIT", self.pending(false).unwrap_or_default());
        let (_, client) = self.inner();
        let (before, out) = self.block_on(
            join(send_in_order(client, &queued), client.batch_execute(&sql))
                .map(|(a, b)| Ok((a, b))),
        )?;
        before?;
        out?;
        self.in_transaction.set(false);
        self.savepoints.borrow_mut().clear();
        if self.writes.get() - self.writes_checked.get() >= STATISTICS_CHECK_EVERY {
            self.writes_checked.set(self.writes.get());
            self.keep_statistics_current();
        }
        Ok(())
    }

    /// Counts a statement run in a write transaction; true when it is time to re-plan
    /// (`FIRST_REPLAN`).
    fn count_write(&self) -> bool {
        if !self.in_transaction.get() {
            return false;
        }
        let n = self.writes.get() + 1;
        self.writes.set(n);
        if n < self.next_replan.get() {
            return false;
        }
        self.next_replan.set(n.saturating_mul(2));
        true
    }

    /// Analyzes the tables that have more than doubled since the planner last looked at
    /// them. A plan is kept for the connection's life (prepared statements, and the
    /// server's own foreign-key checks): one made while a table was nearly empty scans it
    /// whole on every run, and a bulk import into a new database then slows down with
    /// every row (3,068 VXUs into an empty registry: the doses' foreign-key checks on
    /// `patients` took 18 s of the import's 33). ANALYZE records the sizes, and every
    /// connection re-plans what depends on the analyzed tables; the autovacuum daemon
    /// would too, but only a minute or more later. Inside a long transaction
    /// `DISCARD PLANS` does this connection's part (`FIRST_REPLAN`): ANALYZE there would
    /// hold its lock to the end and, failing, fail the transaction. Best effort: the
    /// transaction has committed, and a failure here only leaves the plans as they were.
    fn keep_statistics_current(&self) {
        let (_, client) = self.inner();
        let grown = self.block_on(client.query(
            "SELECT quote_ident(c.relname) FROM pg_class c
             WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind = 'r'
             AND pg_relation_size(c.oid) / current_setting('block_size')::bigint
                 > 2 * GREATEST(c.relpages, 0) + 16",
            &[],
        ));
        let tables: Vec<String> = match grown {
            Ok(rows) => rows.iter().filter_map(|r| r.try_get(0).ok()).collect(),
            Err(_) => return,
        };
        if !tables.is_empty() {
            let _ = self.block_on(client.batch_execute(&format!("ANALYZE {}", tables.join(", "))));
        }
    }

    pub(super) fn rollback(&self) {
        if let Some((_, client)) = &self.inner {
            if self.connection.try_borrow_mut().is_ok() {
                let _ = self.block_on(client.batch_execute("ROLLBACK"));
            }
        }
        self.in_transaction.set(false);
        if let Ok(mut sps) = self.savepoints.try_borrow_mut() {
            sps.clear();
        }
        if let Ok(mut closed) = self.closed.try_borrow_mut() {
            closed.clear();
        }
        if let Ok(mut outbox) = self.outbox.try_borrow_mut() {
            outbox.clear();
        }
    }
}

impl Drop for PgConn {
    /// A runtime cannot be dropped on a thread that drives an async runtime (a server's
    /// pool dropped there): client and runtime end on a thread of their own.
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let connection =
                std::mem::replace(self.connection.get_mut(), boxed(std::future::ready(Ok(()))));
            let closer = std::thread::Builder::new()
                .name("ctwiz-pg-close".into())
                .spawn(move || {
                    // The client's end says goodbye (Terminate); the connection sends it
                    // and ends.
                    let (rt, client) = inner;
                    drop(client);
                    let _ = rt.block_on(connection);
                });
            // No thread to be had: the process is going down; let the socket go with it.
            if let Err(e) = closer {
                eprintln!("ctwiz: PostgreSQL connection left open: {e}");
            }
        }
    }
}

/// Sends `queued` in order without waiting between them (the client pipelines), then
/// waits for every answer: the first error in order, if any.
async fn send_in_order(
    client: &Client,
    queued: &[Queued],
) -> std::result::Result<(), tokio_postgres::Error> {
    type Answer<'a> =
        Pin<Box<dyn Future<Output = std::result::Result<(), tokio_postgres::Error>> + 'a>>;
    let mut answers: Vec<Option<Answer<'_>>> = queued
        .iter()
        .map(|q| -> Option<Answer<'_>> {
            Some(match q {
                Queued::Sql(sql) => Box::pin(client.batch_execute(sql)),
                Queued::Write(st, values) => {
                    Box::pin(async move { client.execute(st, &binds(values)).await.map(|_| ()) })
                }
            })
        })
        .collect();
    let mut first_error = None;
    // Each is polled in order: its first poll sends it.
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for a in answers.iter_mut() {
            if let Some(f) = a {
                match f.as_mut().poll(cx) {
                    Poll::Ready(r) => {
                        if let (Err(e), None) = (r, &first_error) {
                            first_error = Some(e);
                        }
                        *a = None;
                    }
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    first_error.map_or(Ok(()), Err)
}

/// A parameter's value that outlives the caller's borrow (a deferred write's).
fn owned(v: ValueRef<'_>) -> ValueRef<'static> {
    match v {
        ValueRef::Null => ValueRef::Null,
        ValueRef::Integer(i) => ValueRef::Integer(i),
        ValueRef::Real(r) => ValueRef::Real(r),
        ValueRef::Text(t) => ValueRef::Text(Cow::Owned(t.into_owned())),
        ValueRef::Blob(b) => ValueRef::Blob(Cow::Owned(b.into_owned())),
    }
}

fn values<'a>(ps: &'a [&'a dyn ToSql]) -> Result<Vec<ValueRef<'a>>> {
    ps.iter().map(|p| p.to_sql()).collect()
}

fn binds<'a>(values: &'a [ValueRef<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

fn put<T: postgres::types::ToSql>(
    v: T,
    ty: &Type,
    out: &mut bytes::BytesMut,
) -> Result<IsNull, BoxError> {
    v.to_sql(ty, out)
}

fn text_type(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

impl postgres::types::ToSql for ValueRef<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match self {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => put(i, ty, out),
                Type::INT4 => put(i32::try_from(*i)?, ty, out),
                Type::INT2 => put(i16::try_from(*i)?, ty, out),
                Type::BOOL => put(*i != 0, ty, out),
                Type::FLOAT8 => put(*i as f64, ty, out),
                Type::FLOAT4 => put(*i as f32, ty, out),
                _ if text_type(ty) => put(i.to_string().as_str(), ty, out),
                _ => Err(format!("an integer cannot fill a {ty} parameter").into()),
            },
            ValueRef::Real(r) => match *ty {
                Type::FLOAT8 => put(r, ty, out),
                Type::FLOAT4 => put(*r as f32, ty, out),
                _ if text_type(ty) => put(r.to_string().as_str(), ty, out),
                _ => Err(format!("a real number cannot fill a {ty} parameter").into()),
            },
            ValueRef::Text(t) => {
                if text_type(ty) || *ty == Type::JSON {
                    put(t.as_ref(), &Type::TEXT, out)
                } else {
                    Err(format!("text cannot fill a {ty} parameter").into())
                }
            }
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => put(b.as_ref(), ty, out),
                _ => Err(format!("bytes cannot fill a {ty} parameter").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A NUMERIC column (what SUM over integers returns): an integer when it has no
/// fractional digits, a double otherwise.
struct Numeric(ValueRef<'static>);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "short NUMERIC value".into())
        };
        let ndigits = word(0)? as usize;
        let weight = word(2)? as i16 as i32;
        let sign = word(4)?;
        let dscale = word(6)?;
        if sign == 0xC000 {
            return Err("NaN in a NUMERIC column".into());
        }
        let mut int: i128 = 0;
        let mut real: f64 = 0.0;
        for i in 0..ndigits {
            let d = word(8 + 2 * i)? as i128;
            let power = weight - i as i32;
            real += d as f64 * 10000f64.powi(power);
            if power >= 0 {
                int = 10000i128
                    .checked_pow(power as u32)
                    .and_then(|p| int.checked_add(d * p))
                    .ok_or("NUMERIC value out of range")?;
            }
        }
        let negative = sign == 0x4000;
        Ok(Numeric(if dscale == 0 {
            let v = i64::try_from(if negative { -int } else { int })?;
            ValueRef::Integer(v)
        } else {
            ValueRef::Real(if negative { -real } else { real })
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

pub(super) fn value(r: &postgres::Row, index: usize) -> Result<ValueRef<'_>> {
    let column = r.columns().get(index).ok_or_else(|| Error::Column {
        index,
        message: "no such column".into(),
    })?;
    let ty = column.type_().clone();
    let v = match ty {
        Type::INT8 => r.try_get::<_, Option<i64>>(index)?.map(ValueRef::Integer),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(index)?
            .map(|i| ValueRef::Integer(i.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(index)?
            .map(|i| ValueRef::Integer(i.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(index)?
            .map(|b| ValueRef::Integer(b.into())),
        Type::FLOAT8 => r.try_get::<_, Option<f64>>(index)?.map(ValueRef::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(index)?
            .map(|f| ValueRef::Real(f.into())),
        Type::NUMERIC => r.try_get::<_, Option<Numeric>>(index)?.map(|n| n.0),
        Type::BYTEA => r
            .try_get::<_, Option<&[u8]>>(index)?
            .map(|b| ValueRef::Blob(Cow::Borrowed(b))),
        ref t if text_type(t) => r
            .try_get::<_, Option<&str>>(index)?
            .map(|s| ValueRef::Text(Cow::Borrowed(s))),
        other => {
            return Err(Error::Column {
                index,
                message: format!("column type {other} is not one ctwiz reads"),
            })
        }
    };
    Ok(v.unwrap_or(ValueRef::Null))
}

/// The server's message and its SQLSTATE, or the client's error.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            // The cause says what went wrong ("error performing TLS handshake: invalid
            // peer certificate: UnknownIssuer", "... Connection refused").
            let mut out = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                let text = c.to_string();
                if !out.contains(&text) {
                    out.push_str(": ");
                    out.push_str(&text);
                }
                cause = c.source();
            }
            out
        }
    }
}

/// SQLSTATE class 23: integrity constraint violation.
pub(super) fn is_constraint_violation(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code().starts_with("23"))
}
