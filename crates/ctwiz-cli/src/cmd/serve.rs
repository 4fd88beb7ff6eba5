//! `ctwiz serve`: migrate the database, make sure someone can sign in, and run the web app
//! with the settings merged from flags, environment and `ctwiz.toml` (`crate::config`).

use super::{db, CliResult};
use crate::config::{self, Loaded, ServeFlags, ServeSettings};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::ids::{Email, Username};
use ctwiz_store::{accounts, UserStore};
use std::path::Path;

/// Username of the first state administrator created on an empty database.
const FIRST_ADMIN: &str = "admin";

pub fn run(path: &Path, flags: &ServeFlags, file: Option<&Loaded>) -> CliResult {
    let settings = ServeSettings::resolve(flags, &config::process_env, file)?;
    start(path, &settings)
}

/// Serves `path` with `settings` until Ctrl-C.
pub fn start(path: &Path, settings: &ServeSettings) -> CliResult {
    let cfg = settings.web_config(path.to_path_buf())?;
    // From here on, what goes wrong is logged in the configured format.
    ctwiz_web::logging::init(cfg.log_format, &cfg.log_level);
    for w in &settings.warnings {
        tracing::warn!("configuration: {w}");
    }
    let store = db::open(path)?;
    if store.users()?.is_empty() {
        let mut admin = User::new(
            Username::new(FIRST_ADMIN)?,
            "State Administrator",
            Email::new("admin@localhost.invalid")?,
        )?;
        admin.grant(Grant::new(Role::StateAdmin, Scope::State)?);
        let (_, temp) = accounts::create_with_temporary_password(&store, &admin)?;
        // Printed once and never stored: the hash is all the database keeps.
        println!("Created the first state administrator.");
        println!("  username: {FIRST_ADMIN}");
        println!("  one-time password: {temp}");
        println!("You will choose a new password at first sign-in.");
    }
    drop(store);
    println!(
        "Serving {} on http://{} (Ctrl-C or SIGTERM stops, after answering what is in flight)",
        config::shown_database(path),
        cfg.addr
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(ctwiz_web::serve(cfg))?;
    Ok(())
}
