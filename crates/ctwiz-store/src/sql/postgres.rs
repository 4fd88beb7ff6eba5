//! The PostgreSQL side of [`super::Conn`] (the synchronous `postgres` client).
//!
//! Statements are written for SQLite; here their placeholders are renumbered and they are
//! prepared once per connection. Parameters bind to whatever type PostgreSQL inferred for
//! them (an integer may fill a BIGINT, INTEGER, BOOLEAN or DOUBLE PRECISION parameter),
//! and columns read back in the five SQLite classes.

use super::{numbered_placeholders, Error, Params, Result, ToSql, ValueRef};
use postgres::types::{to_sql_checked, FromSql, IsNull, Type};
use postgres::{Client, NoTls, Statement};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The advisory lock every ctwiz write transaction takes (see `Conn::write_transaction`):
/// "ctwiz" in ASCII.
const WRITE_LOCK: i64 = 0x63_74_77_69_7a;

pub(crate) struct PgConn {
    /// Always `Some` until dropped (see `Drop`).
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<String, Statement>>,
    /// A transaction is open (`begin_write` until `commit`/`rollback`); savepoints only
    /// nest inside one, so they do not change it.
    pub(super) in_transaction: Cell<bool>,
    /// The open transaction's nested scopes, outermost first (see `Conn::nested`).
    savepoints: RefCell<Vec<Savepoint>>,
    /// Savepoints taken on this connection: each has a name of its own (`sp{n}`), since
    /// one is released only later and `ROLLBACK TO` must find the scope's own.
    savepoint_names: Cell<u64>,
    /// Savepoints of closed scopes still held on the server, innermost first: released
    /// with the next savepoint sent (one round trip for both), or by the commit.
    /// Unreleased savepoints nest, and the server's visibility checks walk the whole
    /// stack of subtransactions: a batch of a thousand messages held a thousand deep
    /// made each scan of the rows it wrote cost milliseconds.
    releases: RefCell<Vec<u64>>,
}

/// A nested scope's savepoint: taken on the server (`sent`) only before the scope's first
/// statement.
struct Savepoint {
    name: u64,
    sent: bool,
}

/// A scope opened by [`PgConn::open_savepoint`], to be closed by `close_savepoint`.
pub(super) struct Scope {
    depth: usize,
    name: u64,
}

impl PgConn {
    pub(super) fn connect(url: &str) -> Result<PgConn> {
        let mut client = Client::connect(url, NoTls)?;
        // Notices ("relation already exists, skipping" at each open) are not news.
        client.batch_execute("SET client_min_messages TO warning")?;
        Ok(PgConn {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            savepoints: RefCell::new(Vec::new()),
            savepoint_names: Cell::new(0),
            releases: RefCell::new(Vec::new()),
        })
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

    /// Closes a nested scope: if it failed (`undo`) and sent anything, its writes are
    /// rolled back; otherwise nothing is sent now (see `Conn::nested`). A sent savepoint
    /// is released later, with the next one taken (`releases`).
    pub(super) fn close_savepoint(&self, scope: Scope, undo: bool) -> Result<()> {
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
                _ => return Ok(()),
            }
        };
        if !sent {
            return Ok(());
        }
        if undo {
            // Savepoints inside this one go with the rollback.
            self.releases.borrow_mut().retain(|&n| n < scope.name);
            self.client()
                .batch_execute(&format!("ROLLBACK TO SAVEPOINT sp{}", scope.name))?;
        }
        // ROLLBACK TO keeps the savepoint: it is released like a successful one.
        self.releases.borrow_mut().push(scope.name);
        Ok(())
    }

    /// Takes on the server the savepoints of the scopes that have not sent a statement
    /// yet, before the statement that needs them, after releasing those of closed scopes.
    fn send_savepoints(&self, client: &mut Client) -> Result<()> {
        let mut sps = self.savepoints.borrow_mut();
        let Some(first) = sps.iter().position(|sp| !sp.sent) else {
            return Ok(());
        };
        let mut sql = String::new();
        for n in self.releases.borrow_mut().drain(..) {
            sql.push_str(&format!("RELEASE SAVEPOINT sp{n};"));
        }
        for sp in &mut sps[first..] {
            sql.push_str(&format!("SAVEPOINT sp{};", sp.name));
            sp.sent = true;
        }
        client.batch_execute(&sql)?;
        Ok(())
    }

    /// The client, with the pending savepoints sent (for a statement that may write or
    /// fail: a failed statement aborts PostgreSQL's transaction up to the last savepoint).
    fn client_for_statement(&self) -> Result<std::cell::RefMut<'_, Client>> {
        let mut c = self.client();
        self.send_savepoints(&mut c)?;
        Ok(c)
    }

    fn client(&self) -> std::cell::RefMut<'_, Client> {
        std::cell::RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut()
                .expect("the client lives until the connection is dropped")
        })
    }

    pub(super) fn prepare(&self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = self
            .client_for_statement()?
            .prepare(&numbered_placeholders(sql))
            .map_err(|e| Error::Prepare {
                message: describe(&e),
                sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
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
            let n = self.client_for_statement()?.execute(st, &binds)?;
            Ok(n as usize)
        })
    }

    pub(super) fn query<P: Params>(&self, st: &Statement, params: P) -> Result<Vec<postgres::Row>> {
        params.with(|ps| {
            let values = values(ps)?;
            let binds = binds(&values);
            Ok(self.client_for_statement()?.query(st, &binds)?)
        })
    }

    pub(super) fn lastval(&self) -> Result<i64> {
        let row = self
            .client_for_statement()?
            .query_one("SELECT lastval()", &[])?;
        Ok(row.try_get(0)?)
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        self.client_for_statement()?.batch_execute(sql)?;
        Ok(())
    }

    pub(super) fn begin_write(&self) -> Result<()> {
        let mut c = self.client();
        c.batch_execute("BEGIN")?;
        self.in_transaction.set(true);
        self.savepoints.borrow_mut().clear();
        self.releases.borrow_mut().clear();
        c.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        Ok(())
    }

    pub(super) fn commit(&self) -> Result<()> {
        self.client().batch_execute("COMMIT")?;
        self.in_transaction.set(false);
        self.savepoints.borrow_mut().clear();
        self.releases.borrow_mut().clear();
        Ok(())
    }

    pub(super) fn rollback(&self) {
        if let Ok(mut c) = self.client.try_borrow_mut() {
            if let Some(c) = c.as_mut() {
                let _ = c.batch_execute("ROLLBACK");
            }
        }
        self.in_transaction.set(false);
        if let Ok(mut sps) = self.savepoints.try_borrow_mut() {
            sps.clear();
        }
        if let Ok(mut rs) = self.releases.try_borrow_mut() {
            rs.clear();
        }
    }
}

impl Drop for PgConn {
    /// The synchronous client closes its connection by blocking on its own runtime, which
    /// panics on a thread that drives an async runtime (a server's pool dropped there):
    /// it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            let closer = std::thread::Builder::new()
                .name("ctwiz-pg-close".into())
                .spawn(move || drop(client));
            // No thread to be had: the process is going down; let the socket go with it.
            if let Err(e) = closer {
                eprintln!("ctwiz: PostgreSQL connection left open: {e}");
            }
        }
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
        None => e.to_string(),
    }
}

/// SQLSTATE class 23: integrity constraint violation.
pub(super) fn is_constraint_violation(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code().starts_with("23"))
}
