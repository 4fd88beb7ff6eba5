//! CVFA beside CVP through the CLI as a process: the state enrolls a clinic in both
//! programs, lots and orders are kept per program, each program needs its own agreement,
//! a shipment arrives as its program's stock, and leaving a program is refused while its
//! stock is on hand. The web door gives the same refusals (ctwiz-web tests/programs.rs).

mod common;

use common::{ctwiz, err, ok};

use std::path::Path;
use std::process::Output;

fn sign(db: &Path, program: &str) -> Output {
    ctwiz(
        db,
        &[
            "clinic",
            "sign-agreement",
            "--clinic",
            "CT1",
            "--program",
            program,
            "--typed-name",
            "Maria Lopez",
            "--agree",
        ],
    )
}

#[test]
fn cvfa_enrollment_lots_agreements_and_orders_per_program() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    ok(&db, &["init"]);
    let added = ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT1",
            "--name",
            "Elm Family Medicine",
            "--county",
            "hartford",
        ],
    );
    assert!(added.contains("(Hartford, CVP)"), "{added}");
    let exp = (chrono::Local::now().date_naive() + chrono::Days::new(300)).to_string();
    let receive = |funding: &str, lot: &str| {
        ctwiz(
            &db,
            &[
                "inventory",
                "receive",
                "--clinic",
                "CT1",
                "--cvx",
                "187",
                "--lot",
                lot,
                "--exp",
                &exp,
                "--doses",
                "20",
                "--funding",
                funding,
            ],
        )
    };
    // A CVP-only clinic holds no CVFA stock, signs no CVFA agreement, orders none.
    let e = String::from_utf8(receive("cvfa", "SHX1").stderr).unwrap();
    assert!(e.contains("not enrolled in CVFA"), "{e}");
    let e = String::from_utf8(sign(&db, "cvfa").stderr).unwrap();
    assert!(e.contains("not enrolled in CVFA"), "{e}");
    let e = err(
        &db,
        &[
            "inventory",
            "order",
            "create",
            "--clinic",
            "CT1",
            "--program",
            "cvfa",
            "--line",
            "187:10",
        ],
    );
    assert!(e.contains("not enrolled in CVFA"), "{e}");

    // The state enrolls it in both; an unknown enrollment is refused.
    let e = err(
        &db,
        &["clinic", "enroll", "--clinic", "CT1", "--program", "vfc"],
    );
    assert!(
        e.contains("valid values: cvp, cvfa, cvp,cvfa, private"),
        "{e}"
    );
    let en = ok(
        &db,
        &[
            "clinic",
            "enroll",
            "--clinic",
            "CT1",
            "--program",
            "cvp,cvfa",
        ],
    );
    assert!(en.contains("enrolled in: CVP and CVFA"), "{en}");
    assert!(ok(&db, &["clinic", "list"]).contains("CVP and CVFA"));

    // Stock of each program, kept apart.
    assert!(receive("cvfa", "SHX1").status.success());
    assert!(receive("cvp", "SHX2").status.success());
    let lots = ok(&db, &["inventory", "show", "--clinic", "CT1"]);
    assert!(lots.contains("cvfa") && lots.contains("cvp"), "{lots}");

    // Each program's order needs that program's agreement.
    assert!(sign(&db, "cvp").status.success());
    let e = err(
        &db,
        &[
            "inventory",
            "order",
            "create",
            "--clinic",
            "CT1",
            "--program",
            "cvfa",
            "--line",
            "187:10",
        ],
    );
    assert!(e.contains("no current CVFA agreement"), "{e}");
    let flagged = ok(&db, &["clinic", "agreements"]);
    assert!(
        flagged.contains("CT1") && flagged.contains("never signed"),
        "{flagged}"
    );
    assert!(sign(&db, "cvfa").status.success());
    assert!(!ok(&db, &["clinic", "agreements"]).contains("CT1"));
    let placed = ok(
        &db,
        &[
            "inventory",
            "order",
            "create",
            "--clinic",
            "CT1",
            "--program",
            "cvfa",
            "--line",
            "187:10",
        ],
    );
    assert!(placed.starts_with("CVFA order "), "{placed}");
    let id = placed.split_whitespace().nth(2).unwrap().to_string();
    let listed = ok(&db, &["inventory", "order", "list", "--clinic", "CT1"]);
    assert!(listed.contains("CVFA"), "{listed}");

    // Leaving CVFA is refused while its stock and order are open.
    let e = err(
        &db,
        &["clinic", "enroll", "--clinic", "CT1", "--program", "cvp"],
    );
    assert!(
        e.contains("20 dose(s) of CVFA stock and 1 open CVFA order(s)"),
        "{e}"
    );

    // The shipment of a CVFA order arrives as CVFA stock.
    ok(&db, &["inventory", "order", "approve", &id]);
    ok(
        &db,
        &[
            "inventory",
            "order",
            "receive",
            &id,
            "--lot",
            &format!("187:SHX9:{exp}:10"),
        ],
    );
    let lots = ok(&db, &["inventory", "show", "--clinic", "CT1"]);
    let shx9 = lots.lines().find(|l| l.contains("SHX9")).unwrap();
    assert!(shx9.contains("cvfa"), "{lots}");
    // Suggestions count each program's own stock.
    let cvfa = ok(
        &db,
        &[
            "inventory",
            "order",
            "suggest",
            "--clinic",
            "CT1",
            "--program",
            "cvfa",
        ],
    );
    assert!(cvfa.contains("On hand (CVFA)"), "{cvfa}");
    let row = cvfa.lines().find(|l| l.contains("187")).unwrap();
    assert!(row.contains("30"), "20 + 10 CVFA doses on hand: {cvfa}");
}
