//! Allocations through the CLI as a process: the state allocates a scarce vaccine, and a
//! clinic's order beyond what remains is refused with the remaining quantity (the web
//! door gives the same refusal: ctwiz-web tests/reports_inventory.rs).

mod common;

use common::{ctwiz, err, ok};

#[test]
fn orders_beyond_an_allocation_are_refused_with_what_remains() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    ok(&db, &["init"]);
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT1",
            "--name",
            "Elm St Pediatrics",
            "--county",
            "hartford",
            "--cvp",
        ],
    );
    ok(
        &db,
        &[
            "clinic",
            "sign-agreement",
            "--clinic",
            "CT1",
            "--program",
            "cvp",
            "--typed-name",
            "Maria Lopez",
            "--agree",
        ],
    );
    let today = chrono::Local::now().date_naive();
    let (from, to) = (
        (today - chrono::Days::new(1)).to_string(),
        (today + chrono::Days::new(30)).to_string(),
    );
    let e = err(
        &db,
        &[
            "inventory",
            "allocate",
            "--clinic",
            "CT1",
            "--cvx",
            "213",
            "--doses",
            "30",
            "--from",
            &to,
            "--to",
            &from,
        ],
    );
    assert!(e.contains("before it begins"), "{e}");
    let set = ok(
        &db,
        &[
            "inventory",
            "allocate",
            "--clinic",
            "CT1",
            "--cvx",
            "213",
            "--doses",
            "30",
            "--from",
            &from,
            "--to",
            &to,
        ],
    );
    assert!(
        set.contains("allocated 30 doses of CVX 213 to clinic CT1"),
        "{set}"
    );
    assert!(ok(&db, &["inventory", "allocations"]).contains("213"));

    let order = |line: &str| {
        ctwiz(
            &db,
            &[
                "inventory",
                "order",
                "create",
                "--clinic",
                "CT1",
                "--line",
                line,
                "--line",
                "20:10",
            ],
        )
    };
    assert!(order("213:20").status.success());
    let refused = order("213:20");
    assert!(!refused.status.success());
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(
        e.contains("20 already ordered, 10 remain, and this order asks 20"),
        "{e}"
    );
    // Nothing was stored by the refused order; what remains can still be ordered.
    assert!(order("213:10").status.success());
    let listed = ok(&db, &["inventory", "order", "list", "--clinic", "CT1"]);
    assert_eq!(listed.matches("pending").count(), 2, "{listed}");
}

/// `ctwiz report realtime` prints each practice and the share reporting in real time.
#[test]
fn realtime_report_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    ok(
        &db,
        &["seed", "--children", "200", "--clinics", "3", "--seed", "9"],
    );
    let out = ok(&db, &["report", "realtime", "--from", "2000-01-01"]);
    assert!(
        out.contains("Real-time reporting, doses given 2000-01-01 to"),
        "{out}"
    );
    let summary = out.lines().last().unwrap();
    assert!(
        summary.contains("practice(s) report in real time"),
        "{summary}"
    );
    // Seeded doses were recorded at seeding, long after most were given.
    assert!(out.contains(" no "), "{out}");
    let e = err(
        &db,
        &[
            "report",
            "realtime",
            "--from",
            "2026-02-01",
            "--to",
            "2026-01-01",
        ],
    );
    assert!(e.contains("before it begins"), "{e}");
}
