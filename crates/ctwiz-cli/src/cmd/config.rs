//! `ctwiz config check` and `ctwiz config example`.

use super::CliResult;
use crate::config::{self, Loaded, ServeFlags, ServeSettings, Setting, Source};
use ctwiz_store::SqliteStore;
use std::path::PathBuf;

// Parsed once per run: the size of the flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration file and the settings `ctwiz serve` would run with (flags,
    /// CTWIZ_* variables, file, defaults): print each with where it came from (secrets
    /// masked), open the database to see that its migrations are current and that every
    /// MLLP facility's account and clinic exist. Exits non-zero on any problem.
    Check(CheckArgs),
    /// Print a commented example configuration file (every key, with its default).
    Example,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Check the file and the settings only; do not open the database.
    #[arg(long)]
    pub skip_database: bool,
    #[command(flatten)]
    pub serve: ServeFlags,
}

pub fn run(db: &Setting<PathBuf>, c: ConfigCommand, file: Option<&Loaded>) -> CliResult {
    match c {
        ConfigCommand::Example => {
            print_example();
            Ok(())
        }
        ConfigCommand::Check(a) => check(db, &a, file),
    }
}

/// `ctwiz config example` (which needs no configuration, not even a readable one).
pub fn print_example() {
    print!("{}", config::EXAMPLE);
}

fn check(db: &Setting<PathBuf>, a: &CheckArgs, file: Option<&Loaded>) -> CliResult {
    match file {
        Some(f) => println!("configuration file: {}", f.path.display()),
        None => println!(
            "configuration file: none (no --config, CTWIZ_CONFIG or ./{})",
            config::FILE_NAME
        ),
    }
    let settings = ServeSettings::resolve(&a.serve, &config::process_env, file)?;
    let mut rows: Vec<(String, String, Source)> = vec![(
        "database".into(),
        config::shown_database(&db.value),
        db.source,
    )];
    rows.extend(settings.rows());
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (key, value, source) in &rows {
        println!("{key:<width$}  {value}  ({source})");
    }
    let mut problems = Vec::new();
    if a.skip_database {
        println!("database: not checked (--skip-database)");
    } else {
        check_database(&db.value, &settings, &mut problems);
    }
    for w in &settings.warnings {
        println!("warning: {w}");
    }
    if problems.is_empty() {
        println!("configuration OK");
        return Ok(());
    }
    for p in &problems {
        println!("problem: {p}");
    }
    Err(format!(
        "the configuration has {} problem(s): {}",
        problems.len(),
        problems.join("; ")
    )
    .into())
}

/// The database opens at the schema this build migrates to (read without migrating),
/// and every MLLP facility's account and clinic exist.
fn check_database(db: &std::path::Path, settings: &ServeSettings, problems: &mut Vec<String>) {
    let shown = config::shown_database(db);
    let want = ctwiz_store::SCHEMA_VERSION;
    match SqliteStore::applied_schema_version(db) {
        Err(e) => problems.push(format!("database {shown} cannot be opened: {e}")),
        Ok(None) => problems.push(format!(
            "database {shown} does not exist (`ctwiz init` creates it)"
        )),
        Ok(Some(v)) if v > want => problems.push(format!(
            "database {shown} is at schema {v}, written by a newer ctwiz (this one knows {want})"
        )),
        Ok(Some(v)) if v < want => problems.push(format!(
            "database {shown} is at schema {v}, this build's is {want}: its migrations are not \
             current (`ctwiz init` applies them; MLLP facilities not checked)"
        )),
        Ok(Some(v)) => {
            println!("database: opens; schema {v} is current");
            let store = match SqliteStore::open(db) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("database {shown} cannot be opened: {e}"));
                    return;
                }
            };
            for b in &settings.mllp_facilities.value {
                let one = ctwiz_web::mllp::MllpConfig::new(vec![b.clone()]);
                match ctwiz_web::mllp::check_bindings(&store, &one) {
                    Ok(()) => println!(
                        "mllp facility {}: account {:?} and clinic exist",
                        b.facility,
                        b.username.as_str()
                    ),
                    Err(e) => problems.push(e),
                }
            }
        }
    }
}
