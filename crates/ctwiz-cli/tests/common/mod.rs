//! Running the `ctwiz` binary as a process, for the CLI's end-to-end tests: `--db` first,
//! no inherited `CTWIZ_DB`/`CTWIZ_USER`/`CTWIZ_PUBLIC_URL`/`CTWIZ_CONFIG`, a fixed `USER`.
//!
//! `CTWIZ_TEST_BACKEND=postgres` runs them on PostgreSQL: each database file a test names
//! stands for a fresh PostgreSQL database (on the server `CTWIZ_TEST_POSTGRES` names),
//! created the first time the file is used.

#![allow(dead_code)]

pub use ctwiz_store::test_support as pg;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

pub use ctwiz_store::test_support::on_postgres;

/// What `--db` gets for the test database `db`: the file, or its PostgreSQL stand-in.
pub fn db_arg(db: &Path) -> OsString {
    static DATABASES: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());
    if !on_postgres() {
        return db.into();
    }
    let server = pg::server().expect("CTWIZ_TEST_BACKEND=postgres needs CTWIZ_TEST_POSTGRES");
    let mut dbs = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    dbs.entry(db.to_path_buf())
        .or_insert_with(|| pg::fresh_database(&server))
        .clone()
        .into()
}

pub fn ctwiz(db: &Path, args: &[&str]) -> Output {
    ctwiz_on(&db_arg(db), args)
}

/// Runs `ctwiz` on exactly this `--db` (a file or a `postgres://` URL).
pub fn ctwiz_on(db: &std::ffi::OsStr, args: &[&str]) -> Output {
    command(db)
        .args(args)
        .output()
        .expect("the ctwiz binary runs")
}

/// `ctwiz --db DB` with the test environment, to add arguments to and run or spawn.
pub fn command(db: &std::ffi::OsStr) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctwiz"));
    c.arg("--db")
        .arg(db)
        .env_remove("CTWIZ_DB")
        .env_remove("CTWIZ_USER")
        .env_remove("CTWIZ_PUBLIC_URL")
        .env_remove("CTWIZ_CONFIG")
        .env("USER", "cli-test");
    c
}

/// Runs `ctwiz`, which must succeed; its stdout.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = ctwiz(db, args);
    assert!(
        out.status.success(),
        "ctwiz {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `ctwiz`, which must fail; its stderr.
pub fn err(db: &Path, args: &[&str]) -> String {
    let out = ctwiz(db, args);
    assert!(!out.status.success(), "ctwiz {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}
