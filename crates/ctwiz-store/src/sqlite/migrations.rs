//! Applies the schema migrations: each component's numbered, append-only list runs in order,
//! each migration once, in a transaction, recorded in `schema_versions`.

use super::schema::COMPONENTS;
use crate::error::{Result, StoreError};
use crate::sql::{ddl, Conn, Dialect, OptionalExtension};
use rusqlite::Connection;

/// The total number of migrations this build knows (a summary "schema version").
pub const SCHEMA_VERSION: u32 = {
    let mut n = 0;
    let mut i = 0;
    while i < COMPONENTS.len() {
        n += COMPONENTS[i].1.len() as u32;
        i += 1;
    }
    n
};

/// The Rust functions migrations may call (search keys are computed by the same code that
/// writes them, `ctwiz_core::matching`; a provider's text is read as the web reads it).
pub(super) fn register_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ctwiz_normalize_name", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .map(|s| ctwiz_core::matching::normalize_name(&s)))
    })?;
    conn.create_scalar_function("ctwiz_soundex", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .map(|s| ctwiz_core::matching::soundex(&s)))
    })?;
    conn.create_scalar_function("ctwiz_provider_from_text", 1, flags, |ctx| {
        ctx.get::<Option<String>>(0)?
            .map(|s| serde_json::to_string(&ctwiz_core::dose::Provider::from_text(&s)))
            .transpose()
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
    })?;
    Ok(())
}

pub(super) fn migrate(conn: &Conn) -> Result<()> {
    match conn.dialect() {
        // Each migration in its own transaction.
        Dialect::Sqlite => apply(conn, true),
        // All of it in one: PostgreSQL's DDL is transactional, and the write lock keeps
        // several processes starting at once from migrating side by side.
        Dialect::Postgres => conn.write_transaction(|| {
            conn.execute_batch(ddl::POSTGRES_COMPAT)?;
            apply(conn, false)
        }),
    }
}

fn apply(conn: &Conn, each_in_transaction: bool) -> Result<()> {
    let in_dialect = |sql: &str| match conn.dialect() {
        Dialect::Sqlite => sql.to_string(),
        Dialect::Postgres => ddl::to_postgres(sql),
    };
    conn.execute_batch(&in_dialect(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    ))?;
    // Refuse before touching anything if any component is newer than this build.
    let mut st = conn.prepare("SELECT component, version FROM schema_versions")?;
    let known: Vec<(String, u32)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (component, version) in &known {
        let supported = COMPONENTS
            .iter()
            .find(|(c, _)| c == component)
            .map_or(0, |(_, m)| m.len() as u32);
        if *version > supported {
            return Err(StoreError::TooNew {
                component: component.clone(),
                found: *version,
                supported,
            });
        }
    }
    for (component, migrations) in COMPONENTS {
        let current: u32 = conn
            .query_row(
                "SELECT version FROM schema_versions WHERE component = ?1",
                [component],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let step = || -> Result<()> {
                conn.execute_batch(&in_dialect(sql))?;
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?1, ?2)
                     ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    crate::sql::params![component, i as u32 + 1],
                )?;
                Ok(())
            };
            if each_in_transaction {
                conn.write_transaction(step)?;
            } else {
                step()?;
            }
        }
    }
    Ok(())
}

/// Sum of applied migrations over all components.
pub(super) fn applied(conn: &Conn) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(version), 0) FROM schema_versions",
        [],
        |r| r.get(0),
    )?)
}
