//! Onboarding through the CLI as a process: an EHR clinic applies, its QA messages are
//! answered and logged but not stored, DPH sends it back from the DQA review with notes,
//! signs off, and only then do its messages land; the notice to patients once live.

mod common;

use common::{err, ok};

use std::path::Path;

fn vxu(id: &str, mrn: &str) -> String {
    format!(
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|{id}|P|2.5.1\r\
         PID|1||{mrn}^^^C1^MR||Doe^Ann||20250101|F|||1 Main St^^Hartford^CT^06106\r\
         ORC|RE||D{id}^C1\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\r"
    )
}

fn patients(db: &Path) -> usize {
    ok(db, &["patient", "search", "--name", "Doe"])
        .lines()
        .filter(|l| l.contains("DOE"))
        .count()
}

#[test]
fn an_ehr_clinic_goes_from_application_through_qa_and_dqa_review_to_production() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    ok(
        &db,
        &[
            "clinic",
            "add",
            "--pin",
            "C1",
            "--name",
            "Elm St Pediatrics",
        ],
    );
    let e = err(
        &db,
        &[
            "onboarding",
            "apply",
            "--clinic",
            "C1",
            "--method",
            "ehr-hl7",
            "--contact-name",
            "Pat Lee",
            "--contact-email",
            "pat@elm.example",
        ],
    );
    assert!(e.contains("vendor and product"), "{e}");
    ok(
        &db,
        &[
            "onboarding",
            "apply",
            "--clinic",
            "C1",
            "--method",
            "ehr-hl7",
            "--vendor",
            "Acme EHR",
            "--product",
            "Acme Peds 9",
            "--contact-name",
            "Pat Lee",
            "--contact-email",
            "pat@elm.example",
        ],
    );
    let e = err(
        &db,
        &[
            "onboarding",
            "apply",
            "--clinic",
            "C1",
            "--method",
            "ui",
            "--contact-name",
            "Pat Lee",
            "--contact-email",
            "pat@elm.example",
        ],
    );
    assert!(e.contains("applied already"), "{e}");
    let e = err(&db, &["onboarding", "advance", "C1", "--to", "production"]);
    assert!(e.contains("SOAP connectivity seen"), "{e}");
    ok(
        &db,
        &["onboarding", "advance", "C1", "--to", "connectivity"],
    );
    ok(&db, &["onboarding", "advance", "C1", "--to", "qa"]);

    // In QA the message is answered and logged, not stored.
    let m1 = dir.path().join("m1.hl7");
    std::fs::write(&m1, vxu("M1", "MRN1")).unwrap();
    let out = ok(&db, &["hl7", "process", m1.to_str().unwrap()]);
    assert!(out.contains("MSA|AA|M1"), "{out}");
    assert_eq!(patients(&db), 0, "QA messages are not stored");
    let shown = ok(&db, &["onboarding", "show", "C1"]);
    assert!(shown.contains("QA messages: 1 (1 accepted"), "{shown}");
    assert!(shown.contains("Acme EHR Acme Peds 9"), "{shown}");

    ok(&db, &["onboarding", "advance", "C1", "--to", "dqa-review"]);
    let e = err(&db, &["onboarding", "advance", "C1", "--to", "qa"]);
    assert!(e.contains("what the clinic must fix"), "{e}");
    ok(
        &db,
        &[
            "onboarding",
            "advance",
            "C1",
            "--to",
            "qa",
            "--notes",
            "send RXA-9 for every dose",
        ],
    );
    ok(&db, &["onboarding", "advance", "C1", "--to", "dqa-review"]);
    let e = err(&db, &["onboarding", "notice", "C1"]);
    assert!(e.contains("once the clinic is live"), "{e}");
    let out = ok(&db, &["onboarding", "advance", "C1", "--to", "production"]);
    assert!(out.contains("Live in production"), "{out}");

    // In production the same kind of message lands.
    let m2 = dir.path().join("m2.hl7");
    std::fs::write(&m2, vxu("M2", "MRN2")).unwrap();
    ok(&db, &["hl7", "process", m2.to_str().unwrap()]);
    assert_eq!(patients(&db), 1);

    // The legacy data comes as a batch import; when it has stored the clinic's records
    // the onboarding is complete by itself.
    let legacy = dir.path().join("legacy.hl7");
    std::fs::write(
        &legacy,
        format!("{}{}", vxu("L1", "MRN3"), vxu("L2", "MRN4")),
    )
    .unwrap();
    let out = ok(&db, &["hl7", "import", legacy.to_str().unwrap()]);
    assert!(
        out.contains("clinic C1: legacy data imported; its onboarding is complete"),
        "{out}"
    );
    assert!(out.contains("accepted 2 (AA)"), "{out}");
    let shown = ok(&db, &["onboarding", "show", "C1"]);
    assert!(shown.contains("Legacy data imported"), "{shown}");
    // A second import moves nothing further.
    let again = dir.path().join("more.hl7");
    std::fs::write(&again, vxu("L3", "MRN5")).unwrap();
    let out = ok(&db, &["hl7", "import", again.to_str().unwrap()]);
    assert!(!out.contains("onboarding is complete"), "{out}");

    let shown = ok(&db, &["onboarding", "show", "C1"]);
    for stage in [
        "Application received",
        "SOAP connectivity seen",
        "Testing in QA",
        "DQA review by DPH",
        "send RXA-9 for every dose",
        "Live in production",
    ] {
        assert!(shown.contains(stage), "{stage}: {shown}");
    }
    let list = ok(&db, &["onboarding", "list"]);
    assert!(
        list.contains("C1") && list.contains("Legacy data imported"),
        "{list}"
    );
    let notice = ok(&db, &["onboarding", "notice", "C1"]);
    assert!(notice.contains("NOTICE TO PATIENTS") && notice.contains("AVISO A LOS PACIENTES"));
    assert!(notice.contains("Elm St Pediatrics"));
}
