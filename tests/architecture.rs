//! The invariants docs/ARCHITECTURE.md states per crate, checked on the sources so a change
//! that breaks one fails here with the file that broke it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(p: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(p).expect("readable source dir") {
            let path = e.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).expect("utf-8 source");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

/// The text before a file's `#[cfg(test)]` module (unit tests may do what the code may not).
fn product_code(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

fn offenders(dir: &str, needles: &[&str], skip: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources(dir) {
        let shown = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        if skip.iter().any(|s| shown.contains(s)) {
            continue;
        }
        for n in needles {
            if product_code(&text).contains(n) {
                found.push(format!("{shown}: {n}"));
            }
        }
    }
    found
}

#[test]
fn the_pure_crates_do_no_io_and_read_no_clock() {
    let io = [
        "std::fs",
        "std::net",
        "tokio::",
        "Local::now",
        "Utc::now",
        "SystemTime::now",
    ];
    for dir in ["crates/ctwiz-core/src", "crates/ctwiz-forecast/src"] {
        let found = offenders(dir, &io, &[]);
        assert!(
            found.is_empty(),
            "I/O or clock in a pure crate:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn only_the_store_speaks_sql() {
    let sql = [
        "rusqlite::",
        "\"SELECT ",
        "\"INSERT INTO",
        "\"UPDATE ",
        "\"DELETE FROM",
    ];
    for dir in [
        "crates/ctwiz-core/src",
        "crates/ctwiz-forecast/src",
        "crates/ctwiz-hl7/src",
        "crates/ctwiz-web/src",
        "crates/ctwiz-cli/src",
        "crates/ctwiz-store/src/usecase",
        // The doors' tests reach the database through the store too, so they run
        // unchanged on either backend (`ctwiz_store::test_support`).
        "crates/ctwiz-web/tests",
        "crates/ctwiz-cli/tests",
    ] {
        let found = offenders(dir, &sql, &[]);
        assert!(
            found.is_empty(),
            "SQL outside the store:\n{}",
            found.join("\n")
        );
    }
    for krate in [
        "ctwiz-core",
        "ctwiz-forecast",
        "ctwiz-hl7",
        "ctwiz-web",
        "ctwiz-cli",
    ] {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
                .expect("manifest");
        let deps = manifest
            .split("[dev-dependencies]")
            .next()
            .expect("some text");
        assert!(
            !deps.contains("rusqlite"),
            "{krate} depends on rusqlite outside its tests"
        );
        if krate == "ctwiz-web" || krate == "ctwiz-cli" {
            assert!(
                !manifest.contains("rusqlite") && !manifest.contains("\npostgres"),
                "{krate}'s tests speak to the database themselves"
            );
        }
    }
}

#[test]
fn only_authorize_makes_the_proof() {
    for dir in [
        "crates/ctwiz-core/src",
        "crates/ctwiz-store/src",
        "crates/ctwiz-hl7/src",
        "crates/ctwiz-web/src",
        "crates/ctwiz-cli/src",
    ] {
        let found = offenders(dir, &["Authorized {"], &["ctwiz-core/src/actor.rs"]);
        assert!(
            found.is_empty(),
            "an Authorized built by hand:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_doors_hold_no_rules_of_their_own() {
    // Per-patient permission, CSV writing, report scope and recall attribution live below
    // the doors (the doors may still ask them what to show).
    let rules = [
        "can_on_patient(",
        "csv::Writer",
        "fn recorded_scope",
        "Target::Jurisdiction(*c), action",
    ];
    for dir in ["crates/ctwiz-web/src", "crates/ctwiz-cli/src"] {
        let found = offenders(dir, &rules, &[]);
        assert!(found.is_empty(), "a rule in a door:\n{}", found.join("\n"));
    }
}

#[test]
fn the_doors_write_no_audit_rows_and_decide_no_permission() {
    // Audit rows (reads, changes, refusals) are written by the use cases, so every door
    // leaves the same trail; a door asks the matrix only to decide what to show
    // (`Ctx::can`), and refuses through a use case (`Ctx::require` → `actors::permit`).
    let writes = [
        "AuditEntry {",
        ".audit(&",
        "actor::authorize",
        "actor::{authorize",
        " authorize_at(",
        "Err(AppError::Forbidden)",
    ];
    for dir in ["crates/ctwiz-web/src", "crates/ctwiz-cli/src"] {
        // session.rs answers `Ctx::can_on` (what to show) with the matrix's own function.
        let found = offenders(
            dir,
            &writes,
            &["ctwiz-web/src/error.rs", "ctwiz-web/src/session.rs"],
        );
        assert!(
            found.is_empty(),
            "an audit row or a permission decision in a door:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_audit_log_is_append_only() {
    let found = offenders(
        "crates/ctwiz-store/src",
        &["UPDATE audit_log", "DELETE FROM audit_log"],
        &[],
    );
    assert!(
        found.is_empty(),
        "audit rows changed:\n{}",
        found.join("\n")
    );
}

/// The ctwiz crates a crate's manifest names outside its dev-dependencies.
fn ctwiz_dependencies(krate: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
        .expect("manifest");
    let deps = manifest
        .split("[dev-dependencies]")
        .next()
        .expect("some text");
    deps.lines()
        .filter_map(|l| l.trim().strip_prefix("ctwiz-"))
        .filter_map(|rest| rest.split(['=', '.', ' ']).next())
        .map(|name| format!("ctwiz-{name}"))
        .collect()
}

#[test]
fn the_engine_is_a_leaf_and_core_uses_only_the_engine() {
    // Embedders build ctwiz-forecast with no other ctwiz crate present; ctwiz's own use of
    // it (forecast input, the population assessments) lives in ctwiz-core.
    assert_eq!(ctwiz_dependencies("ctwiz-forecast"), Vec::<String>::new());
    assert_eq!(ctwiz_dependencies("ctwiz-core"), vec!["ctwiz-forecast"]);
    let manifest =
        std::fs::read_to_string(root().join("crates/ctwiz-forecast/Cargo.toml")).expect("manifest");
    assert!(
        !manifest.contains("[features]") || !manifest.contains("core ="),
        "ctwiz-forecast has a `core` feature again"
    );
}

/// Embedders build `ctwiz-forecast` by itself (issue 20): without optional features its
/// manifest names no other ctwiz crate, and every file it embeds lies inside its own
/// directory (so `cargo package` ships it).
#[test]
fn the_forecast_engine_builds_alone() {
    let dir = root().join("crates/ctwiz-forecast");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .expect("some text");
    for line in deps.lines().filter(|l| l.trim_start().starts_with("ctwiz")) {
        assert!(
            line.contains("optional = true"),
            "ctwiz-forecast needs another ctwiz crate by default: {line}"
        );
    }
    for (path, text) in sources("crates/ctwiz-forecast/src") {
        for embedded in text.split("include_str!(\"").skip(1) {
            let rel = embedded.split('"').next().expect("a path");
            let file = path.parent().expect("a directory").join(rel);
            let file = file.canonicalize().unwrap_or_else(|e| {
                panic!("{} embeds {rel}, which is missing: {e}", path.display())
            });
            assert!(
                file.starts_with(dir.canonicalize().expect("crate dir")),
                "{} embeds {} from outside the crate",
                path.display(),
                file.display()
            );
        }
    }
}
