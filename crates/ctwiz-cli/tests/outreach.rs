//! IAP outreach through the CLI as a process, acting as a clinic user and as the IAP
//! coordinator of the child's area (the web door: ctwiz-web tests/outreach.rs).

mod common;

use common::{err, ok};

#[test]
fn a_practice_refers_and_the_areas_coordinator_closes_the_referral() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    ok(
        &db,
        &[
            "seed",
            "--children",
            "300",
            "--clinics",
            "4",
            "--duplicates",
            "0",
            "--twins",
            "0",
        ],
    );
    // A child living in New London County.
    let found = ok(&db, &["patient", "search", "--name", "S", "--limit", "300"]);
    let child = found
        .lines()
        .filter(|l| l.contains("New London"))
        .find_map(|l| l.split('┆').next())
        .map(|c| c.trim_start_matches('│').trim().to_string())
        .expect("a child in New London County");
    // Every New London County town is in the Ledge Light IAP area (embedded table).
    let area = "Ledge Light IAP";
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "nurse",
            "--email",
            "n@example.org",
            "--role",
            "clinic-access",
            "--clinic",
            "CT00001",
        ],
    );
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "iap",
            "--email",
            "i@example.org",
            "--role",
            "iap-coordinator",
            "--jurisdiction",
            area,
        ],
    );
    let e = err(
        &db,
        &[
            "user",
            "add",
            "--username",
            "hdept",
            "--email",
            "h@example.org",
            "--role",
            "health-department",
            "--jurisdiction",
            area,
        ],
    );
    assert!(e.contains("an IAP area is for IAP coordinators"), "{e}");

    let out = ok(
        &db,
        &[
            "--as",
            "nurse",
            "outreach",
            "refer",
            "--patient",
            &child,
            "--reason",
            "1+ MMR",
        ],
    );
    assert!(out.contains("referral 1 sent"), "{out}");
    let e = err(
        &db,
        &[
            "--as",
            "nurse",
            "outreach",
            "refer",
            "--patient",
            &child,
            "--reason",
            "again",
        ],
    );
    assert!(e.contains("already has open referral 1"), "{e}");
    // Only the coordinator works it.
    let e = err(
        &db,
        &[
            "--as",
            "nurse",
            "outreach",
            "close",
            "1",
            "--outcome",
            "unreachable",
        ],
    );
    assert!(e.contains("may not work IAP referrals"), "{e}");
    let list = ok(&db, &["--as", "iap", "outreach", "list"]);
    assert!(list.contains(area) && list.contains("1+ MMR"), "{list}");
    ok(
        &db,
        &[
            "--as", "iap", "outreach", "attempt", "1", "--method", "postcard",
        ],
    );
    let e = err(
        &db,
        &[
            "--as", "iap", "outreach", "attempt", "1", "--method", "pigeon",
        ],
    );
    assert!(e.contains("home-visit"), "{e}");
    let out = ok(
        &db,
        &[
            "--as",
            "iap",
            "outreach",
            "close",
            "1",
            "--outcome",
            "moved-out-of-state",
            "--note",
            "to RI",
        ],
    );
    assert!(out.contains("Moved out of state"), "{out}");
    // The record is marked moved, and the closed referral takes no more work.
    let shown = ok(&db, &["patient", "show", &child]);
    assert!(
        shown.contains("MovedOrGoneElsewhere") || shown.contains("Moved or gone elsewhere"),
        "{shown}"
    );
    let e = err(
        &db,
        &[
            "--as", "iap", "outreach", "attempt", "1", "--method", "phone",
        ],
    );
    assert!(e.contains("was closed"), "{e}");
    let mine = ok(&db, &["--as", "nurse", "outreach", "list", "--all"]);
    assert!(mine.contains("Moved out of state"), "{mine}");
}
