//! The same seeded population on SQLite and on PostgreSQL gives byte-identical reports
//! (the CLI as a process on each). Runs when `CTWIZ_TEST_POSTGRES` names a server
//! (always under CI).

mod common;

use common::{ctwiz_on, pg};
use std::ffi::OsString;

fn ok(db: &OsString, args: &[&str]) -> String {
    let out = ctwiz_on(db, args);
    assert!(
        out.status.success(),
        "ctwiz {args:?} on {db:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn a_seeded_population_reports_the_same_on_both_backends() {
    let Some(server) = pg::server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lite: OsString = dir.path().join("same.db").into();
    let postgres: OsString = pg::fresh_database(&server).into();
    let as_of = "2026-06-30";
    let seed = [
        "seed",
        "--children",
        "1500",
        "--clinics",
        "6",
        "--seed",
        "4",
        "--as-of",
        as_of,
    ];
    // The seed's summary names the database's size, which differs; the rest must not.
    let seeded: Vec<String> = [&lite, &postgres]
        .iter()
        .map(|db| {
            ok(db, &seed)
                .lines()
                .filter(|l| !l.contains("bytes") && !l.contains("MiB") && !l.contains("/s"))
                .map(str::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert_eq!(seeded[0], seeded[1]);
    let reports: &[&[&str]] = &[
        &["report", "coverage", "--format", "csv", "--as-of", as_of],
        &[
            "report", "coverage", "--by", "clinic", "--format", "csv", "--as-of", as_of,
        ],
        &[
            "report", "coverage", "--by", "town", "--format", "csv", "--as-of", as_of,
        ],
        &["report", "compliancy", "--format", "csv", "--as-of", as_of],
        &["report", "cleanup", "--format", "csv", "--as-of", as_of],
        &["report", "recall", "--format", "csv", "--as-of", as_of],
        &["report", "trend", "--format", "csv", "--as-of", as_of],
        &["patient", "search", "--name", "sm"],
        &["patient", "show", "7"],
    ];
    for args in reports {
        let a = ok(&lite, args);
        let b = ok(&postgres, args);
        assert!(
            a.lines().count() > 1,
            "{args:?} printed too little to compare: {a}"
        );
        assert_eq!(a, b, "{args:?} differs between SQLite and PostgreSQL");
    }
    // The duplicate scan queues the same clusters on both (the seed reports some
    // children twice), and the review queue lists them alike.
    for db in [&lite, &postgres] {
        ok(db, &["patient", "dedup-scan"]);
    }
    let a = masked_times(&ok(&lite, &["patient", "duplicates"]));
    assert!(!a.starts_with("0 clusters"), "the scan queued nothing: {a}");
    assert_eq!(a, masked_times(&ok(&postgres, &["patient", "duplicates"])));
}

/// The text with each `YYYY-MM-DD HH:MM:SS` (when the scan queued a pair: the two scans
/// ran at different moments) replaced by `<time>`.
fn masked_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd";
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                s => s == c,
            });
        if fits {
            out.extend_from_slice(b"<time>");
            i += SHAPE.len();
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("ASCII was replaced by ASCII")
}
