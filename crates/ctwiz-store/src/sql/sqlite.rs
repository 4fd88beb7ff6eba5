//! The SQLite side of [`super::Conn`]: binding through rusqlite without copies.

use super::{Error, Params, Result, ToSql, ValueRef};
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteRef};
use std::borrow::Cow;

/// A parameter's value as rusqlite binds it (text and bytes borrowed, not copied).
struct Bind<'a>(&'a ValueRef<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => SqliteRef::Null,
            ValueRef::Integer(i) => SqliteRef::Integer(*i),
            ValueRef::Real(r) => SqliteRef::Real(*r),
            ValueRef::Text(t) => SqliteRef::Text(t.as_bytes()),
            ValueRef::Blob(b) => SqliteRef::Blob(b),
        }))
    }
}

fn bind(st: &mut rusqlite::Statement<'_>, params: &[&dyn ToSql]) -> Result<()> {
    let wanted = st.parameter_count();
    if params.len() != wanted {
        return Err(Error::Sqlite(rusqlite::Error::InvalidParameterCount(
            params.len(),
            wanted,
        )));
    }
    // Every parameter NULL at once, then only the others bound: a dose row is two
    // thirds NULLs, and each bind is a call through rusqlite into SQLite.
    st.clear_bindings();
    for (i, p) in params.iter().enumerate() {
        let v = p.to_sql()?;
        if !matches!(v, ValueRef::Null) {
            st.raw_bind_parameter(i + 1, Bind(&v))?;
        }
    }
    Ok(())
}

pub(super) fn execute<P: Params>(st: &mut rusqlite::Statement<'_>, params: P) -> Result<usize> {
    params.with(|ps| {
        bind(st, ps)?;
        Ok(st.raw_execute()?)
    })
}

pub(super) fn query<'s, P: Params>(
    st: &'s mut rusqlite::Statement<'_>,
    params: P,
) -> Result<rusqlite::Rows<'s>> {
    params.with(|ps| bind(st, ps))?;
    Ok(st.raw_query())
}

pub(super) fn value<'a>(r: &'a rusqlite::Row<'_>, index: usize) -> Result<ValueRef<'a>> {
    Ok(match r.get_ref(index)? {
        SqliteRef::Null => ValueRef::Null,
        SqliteRef::Integer(i) => ValueRef::Integer(i),
        SqliteRef::Real(f) => ValueRef::Real(f),
        SqliteRef::Text(t) => {
            ValueRef::Text(Cow::Borrowed(std::str::from_utf8(t).map_err(|e| {
                Error::Column {
                    index,
                    message: format!("text is not UTF-8: {e}"),
                }
            })?))
        }
        SqliteRef::Blob(b) => ValueRef::Blob(Cow::Borrowed(b)),
    })
}
