//! Running the `ctwiz` binary as a process, for the CLI's end-to-end tests: `--db` first,
//! no inherited `CTWIZ_DB`/`CTWIZ_USER`, a fixed `USER`.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn ctwiz(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CTWIZ_DB")
        .env_remove("CTWIZ_USER")
        .env("USER", "cli-test")
        .output()
        .expect("the ctwiz binary runs")
}

/// Runs `ctwiz`, which must succeed; its stdout.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = ctwiz(db, args);
    assert!(out.status.success(), "ctwiz {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `ctwiz`, which must fail; its stderr.
pub fn err(db: &Path, args: &[&str]) -> String {
    let out = ctwiz(db, args);
    assert!(!out.status.success(), "ctwiz {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}
