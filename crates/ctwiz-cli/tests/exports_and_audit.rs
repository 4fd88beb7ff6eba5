//! The binary's CSV exports and audit log: a name that a spreadsheet would run as a
//! formula comes out neutralised, and `ctwiz audit` lists who read a record (and records
//! that it was asked).

use std::path::Path;
use std::process::{Command, Output};

fn ctwiz(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CTWIZ_DB")
        .env("USER", "auditor")
        .output()
        .expect("the ctwiz binary runs")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = ctwiz(db, args);
    assert!(
        out.status.success(),
        "ctwiz {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Two children of clinic C1 born 2024-01-01 with no doses, named like formulas
/// (`|` is `\F\` in HL7).
fn formula_children(db: &Path, dir: &Path) {
    ok(db, &["clinic", "add", "--pin", "C1", "--name", "C1"]);
    let msg = dir.join("m.hl7");
    std::fs::write(
        &msg,
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20260101090000||VXU^V04^VXU_V04|M1|P|2.5.1\r\
         PID|1||A1^^^C1^MR||=cmd\\F\\' /C calc'!A0^Ann||20240101|F\r\
         MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20260101090000||VXU^V04^VXU_V04|M2|P|2.5.1\r\
         PID|1||B2^^^C1^MR||-2+3^Bo||20240101|M\r",
    )
    .expect("write");
    let acks = ok(db, &["hl7", "process", msg.to_str().expect("path")]);
    assert_eq!(acks.matches("MSA|AA").count(), 2, "{acks}");
}

#[test]
fn csv_reports_neutralise_formula_cells() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("x.db");
    formula_children(&db, dir.path());
    let csv = ok(
        &db,
        &[
            "report",
            "cleanup",
            "--as-of",
            "2026-06-01",
            "--format",
            "csv",
        ],
    );
    assert!(csv.contains("\"'=CMD|' /C CALC'!A0, Ann\""), "{csv}");
    assert!(csv.contains(",\"'-2+3, Bo\","), "{csv}");
    // No cell anywhere starts a formula.
    for line in csv.lines() {
        for start in [",=", ",\"=", ",-2", ",\"-2", ",+", ",@"] {
            assert!(!line.contains(start), "{line}");
        }
    }
}

#[test]
fn audit_lists_who_read_a_record_and_records_the_reading() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("a.db");
    formula_children(&db, dir.path());
    ok(&db, &["patient", "show", "1"]);

    let table = ok(&db, &["audit", "--patient", "1"]);
    assert!(table.contains("patient show"), "{table}");
    assert!(table.contains("cli:auditor"), "{table}");
    assert!(!table.contains("audit log read"), "{table}");

    // The first read is now in the log, as a read of patient 1 by the operator.
    let csv = ok(&db, &["audit", "--patient", "1", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("at,actor,door,clinic,patient,action,detail")
    );
    let newest = lines.next().expect("a row");
    assert!(
        newest.contains(",cli:auditor,cli,,1,read,audit log read: patient 1 ("),
        "{csv}"
    );
    assert!(csv.contains(",read,patient show"), "{csv}");
    // The other child's rows are not listed.
    assert!(csv.lines().skip(1).all(|l| l.contains(",1,")), "{csv}");

    let json = ok(
        &db,
        &[
            "audit", "--user", "auditor", "--format", "json", "--limit", "1",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(rows[0]["actor"], "cli:auditor");

    let none = ok(&db, &["audit", "--user", "nobody", "--format", "csv"]);
    assert_eq!(none.lines().count(), 1, "{none}");
    let later = ok(&db, &["audit", "--since", "2999-01-01", "--format", "csv"]);
    assert_eq!(later.lines().count(), 1, "{later}");

    let out = ctwiz(
        &db,
        &["audit", "--since", "2026-02-02", "--until", "2026-02-01"],
    );
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("is empty"), "{e}");
}
