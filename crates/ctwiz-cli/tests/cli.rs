//! End-to-end tests of the `ctwiz` binary on a real database in a temp dir.

mod common;

use common::{ctwiz, err, ok};
use std::path::Path;
use std::process::{Command, Output};

#[test]
fn seed_then_search_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = ok(
        &db,
        &[
            "seed",
            "--children",
            "300",
            "--clinics",
            "4",
            "--seed",
            "5",
            "--as-of",
            "2026-01-01",
        ],
    );
    assert!(out.contains("300 children"), "{out}");
    // Seeding twice would mix populations: refused, and nothing is lost.
    let e = err(&db, &["seed", "--children", "10"]);
    assert!(e.contains("already holds"), "{e}");
    let shown = ok(&db, &["patient", "show", "1"]);
    let name_line = shown.lines().next().unwrap();
    // "Patient 1: FAMILY, Given ..." → search for that family name finds patient 1.
    let family = name_line
        .split(": ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let found = ok(
        &db,
        &[
            "patient",
            "search",
            "--name",
            &family.to_lowercase(),
            "--limit",
            "100",
        ],
    );
    assert!(found.lines().any(|l| l.contains("│ 1 ")), "{found}");
    assert!(shown.contains("MRN"), "{shown}");
    let e = err(&db, &["patient", "show", "999999"]);
    assert!(e.contains("no patient with id 999999"), "{e}");
    let e = err(&db, &["patient", "search"]);
    assert!(e.contains("at least one search criterion"), "{e}");
}

#[test]
fn clinics_and_users_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    ok(&db, &["init"]);
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT90001",
            "--name",
            "Elm St Pediatrics",
            "--county",
            "new haven",
            "--cvp",
        ],
    );
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT90002",
            "--name",
            "Shore Family Medicine",
            "--county",
            "Middlesex",
            "--private",
        ],
    );
    let list = ok(&db, &["clinic", "list"]);
    assert!(
        list.contains("Elm St Pediatrics") && list.contains("private only"),
        "{list}"
    );
    let e = err(&db, &["clinic", "add", "--pin", "CT90001", "--name", "Dup"]);
    assert!(e.contains("already exists"), "{e}");
    let e = err(
        &db,
        &[
            "clinic", "add", "--pin", "X1", "--name", "Nowhere", "--county", "Kings",
        ],
    );
    assert!(e.contains("Windham"), "{e}");

    let out = ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "jdoe",
            "--email",
            "jdoe@example.org",
            "--clinic",
            "CT90001",
            "--role",
            "clinic-access",
        ],
    );
    assert!(out.contains("temporary password"), "{out}");
    let e = err(
        &db,
        &[
            "user",
            "add",
            "--username",
            "x1",
            "--email",
            "x@example.org",
            "--clinic",
            "CT90001",
            "--role",
            "janitor",
        ],
    );
    assert!(e.contains("clinic-access") && e.contains("janitor"), "{e}");
    let e = err(
        &db,
        &[
            "user",
            "add",
            "--username",
            "x2",
            "--email",
            "x@example.org",
            "--clinic",
            "CT99999",
            "--role",
            "clinic-access",
        ],
    );
    assert!(
        e.contains("unknown clinic CT99999") && e.contains("CT90001"),
        "{e}"
    );
    let e = err(
        &db,
        &[
            "user",
            "add",
            "--username",
            "x3",
            "--email",
            "x@example.org",
            "--role",
            "health-department",
        ],
    );
    assert!(e.contains("--county"), "{e}");
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "hd1",
            "--email",
            "hd@example.org",
            "--role",
            "health-department",
            "--county",
            "Tolland",
        ],
    );
    let users = ok(&db, &["user", "list"]);
    assert!(
        users.contains("clinic-access @ CT90001") && users.contains("Tolland"),
        "{users}"
    );
}

#[test]
fn demo_creates_one_user_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let out = ok(&db, &["demo", "--children", "200", "--no-serve"]);
    for role in [
        "demo-primary-coordinator",
        "demo-school-nurse",
        "demo-health-department",
        "demo-state",
    ] {
        assert!(out.contains(role), "{role} missing in {out}");
    }
    // Running again keeps the data and the accounts.
    let again = ok(&db, &["demo", "--children", "200", "--no-serve"]);
    assert!(
        again.contains("keeping them") && again.contains("(exists)"),
        "{again}"
    );
}

#[test]
fn inventory_and_order_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT1",
            "--name",
            "Main Peds",
            "--county",
            "Hartford",
            "--cvp",
        ],
    );
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT2",
            "--name",
            "North Peds",
            "--county",
            "Tolland",
            "--cvp",
        ],
    );
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT3",
            "--name",
            "Private Care",
            "--private",
        ],
    );
    let out = ok(
        &db,
        &[
            "inventory",
            "receive",
            "--clinic",
            "CT1",
            "--cvx",
            "20",
            "--lot",
            "DT1",
            "--exp",
            "2099-01-01",
            "--doses",
            "10",
            "--mvx",
            "SKB",
        ],
    );
    assert!(out.contains("10 on hand"), "{out}");
    let e = err(
        &db,
        &[
            "inventory",
            "receive",
            "--clinic",
            "CT3",
            "--cvx",
            "20",
            "--lot",
            "P1",
            "--exp",
            "2099-01-01",
            "--doses",
            "5",
        ],
    );
    assert!(e.contains("private-only"), "{e}");
    ok(
        &db,
        &[
            "inventory",
            "transfer",
            "--lot-id",
            "1",
            "--to",
            "CT2",
            "--doses",
            "3",
        ],
    );
    ok(
        &db,
        &[
            "inventory",
            "waste",
            "--lot-id",
            "1",
            "--doses",
            "1",
            "--reason",
            "broken-vial",
        ],
    );
    let e = err(
        &db,
        &[
            "inventory",
            "waste",
            "--lot-id",
            "1",
            "--doses",
            "100",
            "--reason",
            "spoiled",
        ],
    );
    assert!(e.contains("only 6 on hand"), "{e}");
    let e = err(
        &db,
        &["inventory", "reconcile", "--lot-id", "1", "--counted", "5"],
    );
    assert!(e.contains("reason"), "{e}");
    ok(
        &db,
        &[
            "inventory",
            "reconcile",
            "--lot-id",
            "1",
            "--counted",
            "5",
            "--reason",
            "vial found broken",
        ],
    );
    let shown = ok(&db, &["inventory", "show", "--clinic", "CT1"]);
    assert!(shown.contains("DT1") && shown.contains(" 5 "), "{shown}");

    // Public orders need the clinic's current program agreement.
    let order = [
        "inventory",
        "order",
        "create",
        "--clinic",
        "CT1",
        "--line",
        "20:50",
    ];
    let e = err(&db, &order);
    assert!(e.contains("no current CVP agreement"), "{e}");
    let flagged = ok(&db, &["clinic", "agreements"]);
    assert!(
        flagged.contains("CT1") && flagged.contains("never signed"),
        "{flagged}"
    );
    let e = err(
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
        ],
    );
    assert!(e.contains("I agree"), "{e}");
    let signed = ok(
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
    assert!(
        signed.contains("CVP-2026.1") && signed.contains("current through"),
        "{signed}"
    );
    assert!(!ok(&db, &["clinic", "agreements"]).contains("CT1 "));

    ok(
        &db,
        &[
            "inventory",
            "order",
            "create",
            "--clinic",
            "CT1",
            "--line",
            "20:50",
            "--line",
            "10:20",
        ],
    );
    let e = err(
        &db,
        &[
            "inventory",
            "order",
            "create",
            "--clinic",
            "CT3",
            "--line",
            "20:5",
        ],
    );
    assert!(e.contains("private-only"), "{e}");
    let e = err(
        &db,
        &["inventory", "order", "approve", "1", "--line", "20:40"],
    );
    assert!(e.contains("note"), "{e}");
    ok(
        &db,
        &[
            "inventory",
            "order",
            "approve",
            "1",
            "--line",
            "20:40",
            "--note",
            "allocation",
        ],
    );
    ok(
        &db,
        &[
            "inventory",
            "order",
            "receive",
            "1",
            "--lot",
            "20:DT9:2099-06-30:40",
        ],
    );
    let list = ok(&db, &["inventory", "order", "list", "--status", "received"]);
    assert!(list.contains("CVX 20: 50/40"), "{list}");

    let csv = ok(
        &db,
        &[
            "report",
            "inventory",
            "--format",
            "csv",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
        ],
    );
    assert!(
        csv.starts_with("clinic,county,cvx,funding,movement,reason,doses,transactions"),
        "{csv}"
    );
    assert!(
        csv.contains("CT1,Hartford,20,cvp,waste,broken-vial,-1,1"),
        "{csv}"
    );
    assert!(csv.contains("CT2,Tolland,20,cvp,transfer-in,,3,1"), "{csv}");
}

#[test]
fn reports_over_a_seeded_population() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    ok(
        &db,
        &[
            "seed",
            "--children",
            "3000",
            "--clinics",
            "5",
            "--seed",
            "9",
            "--as-of",
            "2026-06-30",
        ],
    );
    let as_of = ["--as-of", "2026-06-30"];

    let json = ok(
        &db,
        &[&["report", "coverage", "--format", "json"][..], &as_of[..]].concat(),
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = rows.as_array().unwrap();
    // The seven measures, 4:3:1:3:3:1:4, and PCV complete for age.
    assert_eq!(rows.len(), 9, "{json}");
    assert_eq!(rows[7]["measure"], "4:3:1:3:3:1:4", "{json}");
    let cohort: u64 = rows[0]["cohort"].as_str().unwrap().parse().unwrap();
    assert!(cohort > 50, "cohort of 24–35 month olds: {cohort}");
    let combined: u64 = rows[7]["children_met"].as_str().unwrap().parse().unwrap();
    for r in &rows[..7] {
        // Every child complete on all seven is complete on each.
        assert!(r["children_met"].as_str().unwrap().parse::<u64>().unwrap() >= combined);
    }

    let chart = dir.path().join("c.svg");
    let by_clinic = ok(
        &db,
        &[
            &[
                "report",
                "coverage",
                "--by",
                "clinic",
                "--format",
                "csv",
                "--chart",
                chart.to_str().unwrap(),
            ][..],
            &as_of[..],
        ]
        .concat(),
    );
    assert!(
        by_clinic.starts_with("clinic,cohort,4+ DTaP"),
        "{by_clinic}"
    );
    assert!(std::fs::read_to_string(&chart).unwrap().contains("<svg"));

    // The clean-up list is exactly the children not up to date, and each row says what
    // to find or give, or why nothing is asked (here: PCV complete for age by catch-up).
    let cleanup = ok(
        &db,
        &[&["report", "cleanup", "--format", "json"][..], &as_of[..]].concat(),
    );
    let listed: serde_json::Value = serde_json::from_str(&cleanup).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len() as u64, cohort - combined, "{cleanup}");
    for row in listed {
        assert!(row["missing"] != "" || row["not_asked"] != "", "{row}");
    }

    let trend_svg = dir.path().join("t.svg");
    let trend = ok(
        &db,
        &[
            &[
                "report",
                "trend",
                "--quarters",
                "3",
                "--format",
                "csv",
                "--chart",
                trend_svg.to_str().unwrap(),
            ][..],
            &as_of[..],
        ]
        .concat(),
    );
    assert_eq!(trend.lines().count(), 4, "{trend}");
    assert!(
        trend.lines().last().unwrap().starts_with("2026-06-30,"),
        "{trend}"
    );
    assert_eq!(
        std::fs::read_to_string(&trend_svg)
            .unwrap()
            .matches("<polyline")
            .count(),
        9,
        "one line per childhood measure"
    );

    let comp = ok(
        &db,
        &[&["report", "compliancy", "--format", "csv"][..], &as_of[..]].concat(),
    );
    assert!(
        comp.starts_with("clinic,children_8m,utd_8m_percent,children_20m,utd_20m_percent"),
        "{comp}"
    );
    assert!(comp.lines().any(|l| l.starts_with("ALL,")), "{comp}");

    let letters = dir.path().join("l.pdf");
    let recall = ok(
        &db,
        &[
            &[
                "report",
                "recall",
                "--clinic",
                "CT00001",
                "--format",
                "csv",
                "--record",
                "letter",
                "--letters",
                letters.to_str().unwrap(),
            ][..],
            &as_of[..],
        ]
        .concat(),
    );
    let listed = recall.lines().count() - 1;
    assert!(listed > 0, "{recall}");
    assert!(std::fs::read(&letters).unwrap().starts_with(b"%PDF"));
    // Everyone was just reminded: skipping recent notices leaves nobody.
    let again = ok(
        &db,
        &[
            &[
                "report",
                "recall",
                "--clinic",
                "CT00001",
                "--format",
                "csv",
                "--skip-recent-days",
                "30",
            ][..],
            &as_of[..],
        ]
        .concat(),
    );
    assert_eq!(again.lines().count(), 1, "{again}");
    let e = err(
        &db,
        &[
            "report",
            "recall",
            "--from",
            "2026-07-01",
            "--to",
            "2026-06-01",
        ],
    );
    assert!(e.contains("after"), "{e}");
}

/// `ctwiz serve` runs the web app with the CDC SOAP service merged in: the sign-in page
/// and the WSDL are both served by the one process.
#[test]
fn serve_answers_sign_in_and_wsdl() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("--db")
        .arg(common::db_arg(&db))
        .args(["serve", "--addr", &addr])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let get = |path: &str| -> Option<String> {
        let mut s = std::net::TcpStream::connect(&addr).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    let mut page = None;
    for _ in 0..100 {
        page = get("/sign-in");
        if page.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let wsdl = get("/iis/soap?wsdl");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("one-time password"), "{stdout}");
    assert!(page.expect("server came up").contains("200 OK"));
    let wsdl = wsdl.expect("WSDL answered");
    assert!(wsdl.contains("submitSingleMessage"), "{wsdl}");
}

/// MLLP carries no credentials, so `serve --mllp` trusts no address by default: it needs
/// a facility binding, and a binding must name an existing account and clinic.
#[test]
fn serve_mllp_needs_a_binding_to_an_account_and_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let e = err(
        &db,
        &["serve", "--addr", "127.0.0.1:0", "--mllp", "127.0.0.1:0"],
    );
    assert!(e.contains("--mllp-bind"), "{e}");
    let e = err(
        &db,
        &[
            "serve",
            "--mllp",
            "127.0.0.1:0",
            "--mllp-bind",
            "C1=ehr@not-an-address",
        ],
    );
    assert!(e.contains("is not an IP address"), "{e}");
    ok(&db, &["clinic", "add", "--pin", "C1", "--name", "C1"]);
    let e = err(
        &db,
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--mllp",
            "127.0.0.1:0",
            "--mllp-bind",
            "C1=nobody@127.0.0.1",
        ],
    );
    assert!(e.contains("there is no account \"nobody\""), "{e}");
}

/// Two clinics report the same child under slightly different names: the HL7 interface
/// queues the pair; `patient duplicates` lists it, `patient merge` merges it, and
/// `patient not-duplicate` settles another pair for good.
#[test]
fn duplicates_are_listed_merged_and_dismissed() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("d.db");
    for pin in ["C1", "C2", "C3"] {
        ok(&db, &["clinic", "add", "--pin", pin, "--name", pin]);
    }
    let msg = dir.path().join("m.hl7");
    std::fs::write(
        &msg,
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250601090000||VXU^V04^VXU_V04|M1|P|2.5.1\r\
         PID|1||A1^^^C1^MR||Doe^Ann||20250101|F\r\
         ORC|RE||D1^C1\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\r\
         MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250601090000||VXU^V04^VXU_V04|M2|P|2.5.1\r\
         PID|1||B2^^^C1^MR||Doe^Ann||20250101|F\r\
         ORC|RE||D2^C1\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\r\
         ORC|RE||D3^C1\rRXA|0|1|20250501||10^IPV^CVX|999|||01^^NIP001\r\
         MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250601090000||VXU^V04^VXU_V04|M3|P|2.5.1\r\
         PID|1||C3^^^C1^MR||Doe^Ann||20250101|F\r",
    )
    .expect("write");
    let acks = ok(&db, &["hl7", "process", msg.to_str().expect("path")]);
    assert_eq!(acks.matches("MSA|AA").count(), 3, "{acks}");

    let queue = ok(&db, &["patient", "duplicates"]);
    // One clinic sends the same child under three MRNs: never linked automatically
    // (two MRNs of one clinic are two records to it), each pair waits for review.
    assert!(queue.contains("MRN B2@C1"), "{queue}");
    assert!(queue.contains("MRN A1@C1"), "{queue}");
    assert!(queue.contains("waiting for review"), "{queue}");
    let waiting = |q: &str| -> u32 {
        q.lines()
            .find(|l| l.contains("waiting for review"))
            .and_then(|l| l.split(", ").nth(1))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("count line")
    };
    let before = waiting(&queue);
    assert!(before >= 2, "{queue}");

    // Only the state merges, at the CLI door as on the web: a clinic user acting through
    // `--as` is refused (and the refusal is audited).
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "nurse-c1",
            "--email",
            "n@c1.example",
            "--role",
            "clinic-access",
            "--clinic",
            "C1",
        ],
    );
    let e = err(
        &db,
        &[
            "--as",
            "nurse-c1",
            "patient",
            "merge",
            "--survivor",
            "1",
            "--duplicate",
            "2",
        ],
    );
    assert!(e.contains("may not merge patient records"), "{e}");
    let e = err(
        &db,
        &["--as", "nurse-c1", "patient", "not-duplicate", "3", "1"],
    );
    assert!(e.contains("may not merge patient records"), "{e}");
    // A command that takes no actor does not silently ignore --as.
    let e = err(&db, &["--as", "nurse-c1", "user", "list"]);
    assert!(
        e.contains("--as applies to the patient") && e.contains("hl7 and audit"),
        "{e}"
    );
    let denied = ok(&db, &["audit", "--user", "nurse-c1", "--format", "csv"]);
    assert_eq!(denied.matches(",denied,").count(), 2, "{denied}");

    // Refusals come with reasons and change nothing.
    let e = err(
        &db,
        &["patient", "merge", "--survivor", "1", "--duplicate", "1"],
    );
    assert!(e.contains("itself"), "{e}");
    let e = err(
        &db,
        &["patient", "merge", "--survivor", "1", "--duplicate", "99"],
    );
    assert!(e.contains("patient 99 not found"), "{e}");

    let merged = ok(
        &db,
        &["patient", "merge", "--survivor", "1", "--duplicate", "2"],
    );
    assert!(
        merged.contains("1 doses moved, 1 repeated doses dropped"),
        "{merged}"
    );
    let e = err(
        &db,
        &["patient", "merge", "--survivor", "1", "--duplicate", "2"],
    );
    assert!(e.contains("already merged"), "{e}");
    // The duplicate's id leads to the survivor, which now holds both MRNs and three doses.
    let shown = ok(&db, &["patient", "show", "2"]);
    assert!(shown.contains("merged into patient 1"), "{shown}");
    assert!(shown.contains("MRN B2 at clinic C1"), "{shown}");
    assert_eq!(shown.matches("│ 2025-").count(), 2, "{shown}");
    let found = ok(&db, &["patient", "search", "--name", "doe"]);
    assert!(!found.contains("│ 2 "), "{found}");

    let after_merge = waiting(&ok(&db, &["patient", "duplicates"]));
    assert!(after_merge < before);
    ok(&db, &["patient", "not-duplicate", "3", "1"]);
    let left = ok(&db, &["patient", "duplicates"]);
    assert_eq!(waiting(&left), 0, "{left}");
    let e = err(&db, &["patient", "not-duplicate", "3", "3"]);
    assert!(e.contains("itself"), "{e}");

    // The merge is undone through the same door: a clinic user is refused (audited), the
    // state gets both records back with their own MRNs and doses.
    let e = err(&db, &["--as", "nurse-c1", "patient", "unmerge", "2"]);
    assert!(e.contains("may not merge patient records"), "{e}");
    let undone = ok(&db, &["patient", "unmerge", "2"]);
    assert!(
        undone.contains("Undid the merge of patient 2 into patient 1: 2 doses, 0 observations and 1 MRNs returned"),
        "{undone}"
    );
    assert!(undone.contains("as it was before the merge"), "{undone}");
    let shown = ok(&db, &["patient", "show", "2"]);
    assert!(!shown.contains("merged into"), "{shown}");
    assert!(shown.contains("MRN B2 at clinic C1"), "{shown}");
    assert_eq!(shown.matches("│ 2025-").count(), 2, "{shown}");
    let survivor = ok(&db, &["patient", "show", "1"]);
    assert!(!survivor.contains("MRN B2"), "{survivor}");
    assert_eq!(survivor.matches("│ 2025-").count(), 1, "{survivor}");
    let e = err(&db, &["patient", "unmerge", "2"]);
    assert!(e.contains("not a merged record"), "{e}");
    let trail = ok(&db, &["audit", "--patient", "2", "--format", "csv"]);
    assert!(trail.contains(",unmerge,"), "{trail}");
}

/// Issue 13: quantities are bounded and the stock rules hold for the CLI door as for the
/// web (one use case below both): a huge receipt is refused and the report keeps working;
/// public stock cannot be transferred to a private-only clinic; unknown vaccines and
/// expired lots are refused; `--user` acts with that user's grants.
#[test]
fn inventory_rules_hold_at_the_cli_door() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rules.db");
    for (pin, program) in [("CT1", "--cvp"), ("CT2", "--cvp"), ("CT3", "--private")] {
        ok(
            &db,
            &[
                "clinic", "add", "--pin", pin, "--name", pin, "--county", "Hartford", program,
            ],
        );
    }
    let receive = |doses: &str, cvx: &str, exp: &str, lot: &str| {
        ctwiz(
            &db,
            &[
                "inventory",
                "receive",
                "--clinic",
                "CT1",
                "--cvx",
                cvx,
                "--lot",
                lot,
                "--exp",
                exp,
                "--doses",
                doses,
            ],
        )
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let out = receive("9223372036854775807", "20", "2099-01-01", "HUGE1");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("at most 100000 doses may move at once"),
        "{}",
        stderr(&out)
    );
    assert!(receive("100001", "20", "2099-01-01", "HUGE1").status.code() == Some(1));
    let dt1 = receive("10", "20", "2099-01-01", "DT1");
    assert!(dt1.status.success(), "{}", stderr(&dt1));
    // Its id as printed ("(id N)"): on PostgreSQL the refused receipts above used ids.
    let dt1_id = String::from_utf8_lossy(&dt1.stdout)
        .split("(id ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("the receipt names its lot id")
        .to_string();
    let csv = ok(
        &db,
        &[
            "report",
            "inventory",
            "--format",
            "csv",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
        ],
    );
    assert!(csv.contains("CT1,Hartford,20,cvp,receive,,10,1"), "{csv}");
    // Public stock to a private-only clinic: refused like a receipt there.
    let e = err(
        &db,
        &[
            "inventory",
            "transfer",
            "--lot-id",
            &dt1_id,
            "--to",
            "CT3",
            "--doses",
            "2",
        ],
    );
    assert!(e.contains("CT3 is private-only"), "{e}");
    let shown = ok(&db, &["inventory", "show", "--clinic", "CT1"]);
    assert!(shown.contains(" 10 "), "nothing moved: {shown}");
    // Unknown CVX, expired lot.
    let out = receive("5", "555", "2099-01-01", "X1");
    assert!(
        stderr(&out).contains("CVX 555 is not a known vaccine code"),
        "{}",
        stderr(&out)
    );
    let out = receive("5", "20", "2020-01-01", "OLD1");
    assert!(
        stderr(&out).contains("expired on 2020-01-01; it cannot be received"),
        "{}",
        stderr(&out)
    );
    // A clinic user at CT2 may not change CT1's stock; at CT2 the same user may.
    ok(
        &db,
        &[
            "user",
            "add",
            "--username",
            "coord2",
            "--email",
            "c2@example.org",
            "--role",
            "primary-coordinator",
            "--clinic",
            "CT2",
        ],
    );
    let e = err(
        &db,
        &[
            "inventory",
            "waste",
            "--as",
            "coord2",
            "--lot-id",
            &dt1_id,
            "--doses",
            "1",
            "--reason",
            "lost",
        ],
    );
    assert!(e.contains("you may not"), "{e}");
    ok(
        &db,
        &[
            "inventory",
            "--as",
            "coord2",
            "receive",
            "--clinic",
            "CT2",
            "--cvx",
            "20",
            "--lot",
            "C2LOT",
            "--exp",
            "2099-01-01",
            "--doses",
            "4",
        ],
    );
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
    assert!(table.contains("cli:cli-test"), "{table}");
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
        newest.contains(",cli:cli-test,cli,,1,read,audit log read: patient 1 ("),
        "{csv}"
    );
    assert!(csv.contains(",read,patient show"), "{csv}");
    // The other child's rows are not listed.
    assert!(csv.lines().skip(1).all(|l| l.contains(",1,")), "{csv}");

    let json = ok(
        &db,
        &[
            "audit", "--user", "cli-test", "--format", "json", "--limit", "1",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(rows[0]["actor"], "cli:cli-test");

    let none = ok(&db, &["audit", "--user", "nobody", "--format", "csv"]);
    assert_eq!(none.lines().count(), 1, "{none}");
    let later = ok(&db, &["audit", "--since", "2999-01-01", "--format", "csv"]);
    assert_eq!(later.lines().count(), 1, "{later}");

    let e = err(
        &db,
        &["audit", "--since", "2026-02-02", "--until", "2026-02-01"],
    );
    assert!(e.contains("is empty"), "{e}");
}

#[test]
fn backup_and_restore_round_trip_and_keep_the_replaced_database() {
    if common::on_postgres() {
        return; // a PostgreSQL database is backed up with pg_dump (docs/DEPLOYMENT.md)
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    ok(&db, &["seed", "--children", "30", "--seed", "7"]);
    let before = ok(&db, &["report", "coverage", "--format", "csv"]);
    let copy = dir.path().join("nightly.db");
    let out = ok(&db, &["backup", "--out", copy.to_str().unwrap()]);
    assert!(out.contains("integrity checked"), "{out}");
    let again = err(&db, &["backup", "--out", copy.to_str().unwrap()]);
    assert!(again.contains("already exists"), "{again}");
    // A change after the backup; the restore brings back the backed-up state.
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "CT99999",
            "--name",
            "After Backup Clinic",
        ],
    );
    assert!(ok(&db, &["clinic", "list"]).contains("After Backup Clinic"));
    let out = ok(&db, &["restore", "--from", copy.to_str().unwrap()]);
    assert!(out.contains("kept as"), "{out}");
    assert_eq!(ok(&db, &["report", "coverage", "--format", "csv"]), before);
    assert!(!ok(&db, &["clinic", "list"]).contains("After Backup Clinic"));
    let audit = ok(&db, &["audit", "--limit", "20"]);
    assert!(audit.contains("registry restored from"), "{audit}");
    assert!(audit.contains("registry backed up to"), "{audit}");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "plain text").unwrap();
    let refused = err(&db, &["restore", "--from", junk.to_str().unwrap()]);
    assert!(
        refused.contains("not a sound database") || refused.contains("not a database"),
        "{refused}"
    );
    assert_eq!(ok(&db, &["report", "coverage", "--format", "csv"]), before);
}
