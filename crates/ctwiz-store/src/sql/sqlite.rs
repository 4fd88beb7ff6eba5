//! The SQLite side of [`super::Conn`]: binding through rusqlite without copies.

use super::{Error, Params, Result, ToSql, ValueRef};
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteRef};
use std::borrow::Cow;

/// A parameter as rusqlite binds it (text and bytes borrowed, not copied).
struct Bind<'a>(&'a dyn ToSql);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        let v = self
            .0
            .to_sql()
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(match v {
            ValueRef::Null => ToSqlOutput::Borrowed(SqliteRef::Null),
            ValueRef::Integer(i) => ToSqlOutput::Borrowed(SqliteRef::Integer(i)),
            ValueRef::Real(r) => ToSqlOutput::Borrowed(SqliteRef::Real(r)),
            ValueRef::Text(Cow::Borrowed(t)) => {
                ToSqlOutput::Borrowed(SqliteRef::Text(t.as_bytes()))
            }
            ValueRef::Text(Cow::Owned(t)) => ToSqlOutput::Owned(Owned::Text(t)),
            ValueRef::Blob(Cow::Borrowed(b)) => ToSqlOutput::Borrowed(SqliteRef::Blob(b)),
            ValueRef::Blob(Cow::Owned(b)) => ToSqlOutput::Owned(Owned::Blob(b)),
        })
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
    for (i, p) in params.iter().enumerate() {
        st.raw_bind_parameter(i + 1, Bind(*p))?;
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
