//! Towns, health districts and IAP areas through the CLI as a process: reports grouped by
//! health district and IAP area over a seeded population (snapshots), a health district's
//! user scoped to its towns, and replacing the towns table (a bad file changes nothing).

mod common;

use common::{err, ok};

use std::path::Path;

const AS_OF: &str = "2026-06-01";

fn coverage_by(db: &Path, by: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "report", "coverage", "--as-of", AS_OF, "--by", by, "--format", "csv",
    ];
    args.extend_from_slice(extra);
    ok(db, &args)
}

#[test]
fn reports_by_district_and_iap_and_a_district_users_scope() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    ok(
        &db,
        &[
            "seed",
            "--children",
            "1500",
            "--clinics",
            "8",
            "--as-of",
            AS_OF,
        ],
    );
    let list = ok(&db, &["jurisdictions", "list"]);
    assert!(list.contains("169 towns"), "{list}");
    assert!(
        list.contains("0 not"),
        "every seeded address is placed: {list}"
    );

    let by_hd = coverage_by(&db, "health-district", &[]);
    insta::assert_snapshot!("coverage_by_health_district", by_hd);
    let by_iap = coverage_by(&db, "iap", &[]);
    insta::assert_snapshot!("coverage_by_iap_area", by_iap);
    // The groups add up to the whole cohort.
    let cohort = |csv: &str| -> u64 {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let total = cohort(&coverage_by(&db, "county", &[]));
    assert_eq!(cohort(&by_hd), total);
    assert_eq!(cohort(&by_iap), total);

    // Narrowed to one district: only its row.
    let uncas = coverage_by(
        &db,
        "health-district",
        &["--health-district", "uncas health district"],
    );
    let rows: Vec<&str> = uncas.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{uncas}");
    assert!(rows[0].starts_with("Uncas Health District,"), "{uncas}");
    let e = err(
        &db,
        &[
            "report",
            "coverage",
            "--health-district",
            "Nowhere District",
        ],
    );
    assert!(
        e.contains("Nowhere District") && e.contains("Ledge Light Health District"),
        "{e}"
    );

    // A district's user finds residents of its towns only (Norwich is Uncas; New London,
    // in the same county, is Ledge Light).
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "uncas",
            "--email",
            "u@example.org",
            "--role",
            "health-department",
            "--jurisdiction",
            "Uncas Health District",
        ],
    );
    let state_sees = ok(&db, &["patient", "search", "--name", "S", "--limit", "500"]);
    let district_sees = ok(
        &db,
        &[
            "--as", "uncas", "patient", "search", "--name", "S", "--limit", "500",
        ],
    );
    let count = |s: &str| s.lines().filter(|l| l.contains("┆")).count() - 1;
    assert!(count(&district_sees) > 0, "{district_sees}");
    assert!(count(&district_sees) < count(&state_sees));
    assert!(
        district_sees
            .lines()
            .filter(|l| l.contains("┆"))
            .skip(1)
            .all(|l| l.contains("New London")),
        "Norwich is in New London County: {district_sees}"
    );
}

#[test]
fn replacing_the_towns_table_moves_patients_and_a_bad_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    ok(
        &db,
        &[
            "seed",
            "--children",
            "400",
            "--clinics",
            "4",
            "--as-of",
            AS_OF,
        ],
    );
    let csv = ok(&db, &["jurisdictions", "export"]);
    assert!(csv.starts_with("town,county,health_department,iap_area,zip_codes,other_names\n"));
    assert_eq!(csv.lines().count(), 170);

    // A malformed table is refused whole, naming the line; the table in use stays.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, csv.replacen(",Tolland,", ",Kings,", 1)).unwrap();
    let e = err(&db, &["jurisdictions", "import", bad.to_str().unwrap()]);
    assert!(e.contains("line") && e.contains("Kings"), "{e}");
    assert_eq!(ok(&db, &["jurisdictions", "export"]), csv);

    // Norwich moves to a new district: its residents follow, and reports show it.
    let moved = dir.path().join("moved.csv");
    let text: String = csv
        .lines()
        .map(|l| {
            if l.starts_with("Norwich,") {
                l.replacen("Uncas Health District", "Norwich Health Department", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&moved, text).unwrap();
    let out = ok(&db, &["jurisdictions", "import", moved.to_str().unwrap()]);
    assert!(out.contains("imported 169 towns"), "{out}");
    let by_hd = coverage_by(
        &db,
        "health-district",
        &["--min-age-months", "0", "--max-age-months", "215"],
    );
    assert!(by_hd.contains("Norwich Health Department,"), "{by_hd}");
    let audit = ok(&db, &["audit", "--user", "cli-test"]);
    assert!(audit.contains("jurisdictions import"), "{audit}");
}
