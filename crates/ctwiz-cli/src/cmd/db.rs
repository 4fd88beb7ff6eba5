use super::CliResult;
use ctwiz_store::SqliteStore;
use std::path::Path;

/// Opens (and migrates) the database.
pub fn open(path: &Path) -> CliResult<SqliteStore> {
    SqliteStore::open(path)
        .map_err(|e| format!("cannot open database {}: {e}", path.display()).into())
}

pub fn init(path: &Path) -> CliResult {
    let s = open(path)?;
    println!(
        "database {} is ready (schema version {})",
        path.display(),
        s.schema_version()?
    );
    Ok(())
}
