//! Issue 22 through the CLI as a process: an EHR's VXUs (`ctwiz hl7 process`) add a dose
//! from a lot, move it to another lot (RXA-21 U) and delete it (RXA-21 D); the lot usage
//! report (`ctwiz report lot-usage`) shows the lot counts after each step and no
//! difference; a dose from a lot the clinic does not hold is an inventory exception,
//! listed, settled, and counted in the DQA report.

mod common;

use common::ok;
use std::path::Path;

/// A VXU from C1: one HepB dose given on 2026-11-24 under ORC-3 E1, from `lot`.
fn vxu(ctl: &str, lot: &str, action: &str) -> String {
    format!(
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20261125090000||VXU^V04^VXU_V04|{ctl}|P|2.5.1\r\
         PID|1||M1^^^C1^MR||Doe^Ann||20250101|F\r\
         ORC|RE||E1^C1\r\
         RXA|0|1|20261124||08^HepB^CVX|0.5|mL||00^^NIP001||||||{lot}||MSD^^MVX|||CP|{action}\r"
    )
}

/// (lot, on hand, difference) per lot, from `report lot-usage --format csv`.
fn lots(db: &Path) -> Vec<(String, i64, i64)> {
    let csv = ok(
        db,
        &[
            "report",
            "lot-usage",
            "--clinic",
            "C1",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "csv",
        ],
    );
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (lot, on_hand, diff) = (col("lot"), col("on_hand"), col("difference"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[lot].to_string(),
                c[on_hand].parse().expect("number"),
                c[diff].parse().expect("number"),
            )
        })
        .collect()
}

#[test]
fn the_lot_count_follows_each_dose_through_hl7_and_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("d.db");
    ok(
        &db,
        &["clinic", "add", "--pin", "C1", "--name", "Clinic One"],
    );
    for lot in ["LOTA", "LOTB"] {
        ok(
            &db,
            &[
                "inventory",
                "receive",
                "--clinic",
                "C1",
                "--cvx",
                "08",
                "--lot",
                lot,
                "--exp",
                "2030-01-01",
                "--doses",
                "5",
            ],
        );
    }
    let msg = dir.path().join("m.hl7");
    let send = |ctl: &str, lot: &str, action: &str| {
        std::fs::write(&msg, vxu(ctl, lot, action)).expect("write");
        let ack = ok(&db, &["hl7", "process", msg.to_str().expect("path")]);
        assert!(ack.contains("MSA|AA"), "{ack}");
    };
    let step = |what: &str, want: [(&str, i64); 2]| {
        let got = lots(&db);
        eprintln!("{what}: {got:?}");
        for (lot, n) in want {
            let row = got.iter().find(|r| r.0 == lot).expect(lot);
            assert_eq!(row.1, n, "{what}: lot {lot}");
            assert_eq!(row.2, 0, "{what}: lot {lot} difference");
        }
    };
    step("received", [("LOTA", 5), ("LOTB", 5)]);
    send("M1", "LOTA", "A");
    step("RXA-21 A from LOTA", [("LOTA", 4), ("LOTB", 5)]);
    send("M2", "LOTB", "U");
    step("RXA-21 U to LOTB", [("LOTA", 5), ("LOTB", 4)]);
    send("M3", "LOTB", "D");
    step("RXA-21 D", [("LOTA", 5), ("LOTB", 5)]);

    // A lot C1 does not hold: the dose is stored and is an inventory exception.
    send("M4", "ELSEWHERE", "A");
    step("A from an unknown lot", [("LOTA", 5), ("LOTB", 5)]);
    let listed = ok(&db, &["inventory", "exceptions", "--clinic", "C1"]);
    assert!(listed.contains("unknown-lot"), "{listed}");
    let dqa = ok(
        &db,
        &[
            "report",
            "dqa",
            "--view",
            "inventory-exceptions",
            "--from",
            "2000-01-01",
            "--format",
            "csv",
        ],
    );
    assert!(dqa.contains("C1,unknown-lot,1"), "{dqa}");
    ok(
        &db,
        &[
            "inventory",
            "settle",
            "1",
            "--not-from-stock",
            "brought from the pharmacy",
        ],
    );
    let listed = ok(&db, &["inventory", "exceptions", "--clinic", "C1"]);
    assert!(!listed.contains("unknown-lot"), "{listed}");
    let listed = ok(&db, &["inventory", "exceptions", "--clinic", "C1", "--all"]);
    assert!(listed.contains("not-from-stock"), "{listed}");
}
