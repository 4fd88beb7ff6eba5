use super::CliResult;
use ctwiz_store::SqliteStore;
use std::path::Path;

/// Opens (and migrates) the database.
pub fn open(path: &Path) -> CliResult<SqliteStore> {
    SqliteStore::open(path).map_err(|e| {
        format!(
            "cannot open database {}: {e}",
            ctwiz_store::db_for_display(path)
        )
        .into()
    })
}

pub fn init(path: &Path) -> CliResult {
    let s = open(path)?;
    println!(
        "database {} is ready (schema version {})",
        ctwiz_store::db_for_display(path),
        s.schema_version()?
    );
    Ok(())
}

/// `ctwiz backup --out FILE`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The new file to write (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
}

/// A consistent copy of the registry, taken while it is in use (SQLite online backup).
/// For PostgreSQL deployments see docs/DEPLOYMENT.md (pg_dump).
pub fn backup(path: &Path, a: BackupArgs) -> CliResult {
    let store = open(path)?;
    let actor = super::operator(ctwiz_core::actor::Channel::Cli);
    let now = chrono::Local::now().naive_local();
    ctwiz_store::usecase::maintenance::backup(&store, &actor, &a.out, now)?;
    let size = std::fs::metadata(&a.out)?.len();
    println!(
        "backed up {} to {} ({size} bytes, integrity checked)",
        ctwiz_store::db_for_display(path),
        a.out.display()
    );
    Ok(())
}

/// `ctwiz restore --from FILE`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// A backup written by `ctwiz backup`.
    #[arg(long, value_name = "FILE")]
    pub from: std::path::PathBuf,
}

/// Replaces the database with a backup (stop `ctwiz serve` first). The replaced database
/// is kept beside it, never deleted.
pub fn restore(path: &Path, a: RestoreArgs) -> CliResult {
    let actor = super::operator(ctwiz_core::actor::Channel::Cli);
    let now = chrono::Local::now().naive_local();
    let kept = ctwiz_store::usecase::maintenance::restore(&actor, &a.from, path, now)?;
    println!(
        "restored {} from {}",
        ctwiz_store::db_for_display(path),
        a.from.display()
    );
    if let Some(k) = kept {
        println!("the replaced database is kept as {}", k.display());
    }
    Ok(())
}
