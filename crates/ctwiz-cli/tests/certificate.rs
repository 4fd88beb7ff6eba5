//! `ctwiz certificate` and `ctwiz keys` end to end: the PDF read back with `pdftotext
//! -layout` (poppler-utils; `.ci/run` installs it), names in another script stored,
//! searched and printed as written, and the SMART Health Card verified against the
//! published keys across a key rotation.

mod common;

use chrono::NaiveDate;
use common::{ctwiz, ok};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{Dose, InformationSource, Observation, ObservationKind, RefusalReason};
use ctwiz_core::ids::{Cvx, PatientId};
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::certificate::{shc, ShcKeyStore};
use ctwiz_store::{DoseStore, PatientStore, SqliteStore};
use std::path::{Path, PathBuf};
use std::process::Command;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

const FAMILY: &str = "Иванова-Петрова";
const GIVEN: &str = "Мария-Александра";

/// The vaccines with the longest CVX short names that belong to a vaccine group: the
/// rows that used to print over their dates.
fn long_named_vaccines(n: usize) -> Vec<(Cvx, String)> {
    let codes = CodeSets::embedded();
    let mut v: Vec<_> = codes
        .vaccines()
        .filter(|v| !v.vaccine_groups.is_empty())
        .map(|v| (v.cvx.clone(), v.short_name.clone()))
        .collect();
    v.sort_by_key(|(_, name)| std::cmp::Reverse(name.chars().count()));
    v.truncate(n);
    v
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    patient: PatientId,
    /// (vaccine, date) of every dose given.
    doses: Vec<(String, NaiveDate)>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("c.db");
    ok(&db, &["init"]);
    let store = SqliteStore::open(common::db_arg(&db)).expect("store");
    let p = Patient::new(
        PersonName::new(FAMILY, GIVEN).expect("name"),
        day(2018, 5, 6),
        Sex::Female,
    )
    .expect("patient");
    let mut doses = Vec::new();
    let mut given = Vec::new();
    for (i, (cvx, name)) in long_named_vaccines(6).into_iter().enumerate() {
        let date = day(2019, 1 + i as u32, 10 + i as u32);
        doses.push(Dose::new(
            cvx,
            date,
            InformationSource::HistoricalUnspecified,
        ));
        given.push((name, date));
    }
    // Flu every autumn: many rows in one group.
    for (i, y) in (2019..2026).enumerate() {
        let date = day(y, 10, 1 + i as u32);
        doses.push(Dose::new(
            Cvx::new("150").expect("cvx"),
            date,
            InformationSource::HistoricalUnspecified,
        ));
        given.push(("Influenza".into(), date));
    }
    doses.push(Dose::refusal(
        Cvx::new("62").expect("cvx"),
        day(2025, 3, 3),
        RefusalReason::ReligiousExemption,
    ));
    let id = store.create_patient_with_doses(&p, &doses).expect("stored");
    store
        .add_observation(
            id,
            &Observation::new(
                ObservationKind::Immunity,
                "038",
                "History of varicella disease",
                day(2020, 8, 9),
            )
            .expect("observation"),
        )
        .expect("stored");
    Fixture {
        _dir: dir,
        db,
        patient: id,
        doses: given,
    }
}

/// `pdftotext -layout` of `pdf`, or `None` (with the reason printed) outside CI when
/// poppler-utils is missing; under CI a missing tool fails the test.
fn pdftotext(pdf: &Path) -> Option<String> {
    match Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed: {out:?}");
            Some(String::from_utf8(out.stdout).expect("utf-8 text"))
        }
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "skipping the PDF text check: pdftotext (poppler-utils) is not installed: {e}"
            );
            None
        }
        Err(e) => panic!("pdftotext (poppler-utils) is required under CI: {e}"),
    }
}

/// The JWS inside a `.smart-health-card` file.
fn card_jws(path: &Path) -> String {
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("card written")).expect("json");
    file["verifiableCredential"][0]
        .as_str()
        .expect("a JWS")
        .to_string()
}

fn us(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

#[test]
fn school_certificate_prints_every_date_intact_and_the_name_as_written() {
    let f = fixture();
    let out = f._dir.path().join("school.pdf");
    let card = f._dir.path().join("school.smart-health-card");
    let id = f.patient.to_string();
    let said = ok(
        &f.db,
        &[
            "certificate",
            &id,
            "--kind",
            "school",
            "--out",
            out.to_str().expect("utf-8 path"),
            "--card",
            card.to_str().expect("utf-8 path"),
        ],
    );
    assert!(
        said.contains("Certificate of Immunization for School"),
        "{said}"
    );
    let bytes = std::fs::read(&out).expect("pdf written");
    assert!(bytes.starts_with(b"%PDF"));
    // The fonts are subsetted: a whole DejaVu Sans is 750 kB.
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    let Some(text) = pdftotext(&out) else { return };
    assert!(
        text.contains(&format!("{FAMILY}, {GIVEN}")),
        "the name as written:\n{text}"
    );
    // Every dose's date appears as a whole token, once per group row it belongs to.
    for (vaccine, date) in &f.doses {
        let d = us(*date);
        let line = text
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == d))
            .unwrap_or_else(|| panic!("{vaccine} on {d} is missing or garbled:\n{text}"));
        // The date's line starts with (part of) the vaccine's name: nothing printed over it.
        let first_word = vaccine
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .expect("a name");
        assert!(
            line.contains(first_word),
            "{d} should sit on the first line of {vaccine:?}: {line:?}\n{text}"
        );
    }
    assert!(text.contains("Evidence of immunity"), "{text}");
    assert!(text.contains("History of varicella disease"), "{text}");
    assert!(text.contains("Religious exemption"), "{text}");
    assert!(text.contains("Connecticut Immunization Registry"), "{text}");
    // The card verifies with the store's key and carries the name as written.
    let store = SqliteStore::open(common::db_arg(&f.db)).expect("store");
    let payload =
        shc::verify(&card_jws(&card), &store.shc_keys().expect("keys")).expect("verifies");
    let bundle = &payload["vc"]["credentialSubject"]["fhirBundle"];
    assert_eq!(bundle["entry"][0]["resource"]["name"][0]["family"], FAMILY);
    // 6 long-named doses and 7 flu doses, the refusal not among them.
    assert_eq!(bundle["entry"].as_array().map(Vec::len), Some(1 + 13));
}

#[test]
fn travel_certificate_leaves_refusals_out_and_unknown_kinds_are_refused() {
    let f = fixture();
    let out = f._dir.path().join("travel.pdf");
    let id = f.patient.to_string();
    let path = out.to_str().expect("utf-8 path");
    ok(
        &f.db,
        &["certificate", &id, "--kind", "travel", "--out", path],
    );
    if let Some(text) = pdftotext(&out) {
        assert!(
            text.contains("Certificate of Vaccination for Travel"),
            "{text}"
        );
        assert!(!text.contains("Religious exemption"), "{text}");
    }
    let e = ctwiz(
        &f.db,
        &["certificate", &id, "--kind", "prom", "--out", path],
    );
    assert!(!e.status.success());
    let stderr = String::from_utf8_lossy(&e.stderr);
    assert!(
        stderr.contains("school, childcare, camp, college, travel"),
        "{stderr}"
    );
}

#[test]
fn names_in_another_script_are_found_by_search() {
    let f = fixture();
    // Lower case, a prefix, the hyphen left out: the search key keeps the Cyrillic letters.
    let found = ok(
        &f.db,
        &["patient", "search", "--name", "иванова", "--given", "мария"],
    );
    // Lists show the family name in capitals (in its own script).
    assert!(found.contains(&FAMILY.to_uppercase()), "{found}");
    assert!(found.contains(GIVEN), "{found}");
    let none = ok(&f.db, &["patient", "search", "--name", "Петров"]);
    assert!(!none.contains(GIVEN), "{none}");
}

#[test]
fn rotated_keys_stay_published_and_old_cards_still_verify() {
    let f = fixture();
    let id = f.patient.to_string();
    let pdf = f._dir.path().join("a.pdf");
    let card = f._dir.path().join("a.smart-health-card");
    let (pdf_s, card_s) = (pdf.to_str().expect("path"), card.to_str().expect("path"));
    ok(
        &f.db,
        &[
            "certificate",
            &id,
            "--kind",
            "camp",
            "--out",
            pdf_s,
            "--card",
            card_s,
        ],
    );
    let before: serde_json::Value =
        serde_json::from_str(&ok(&f.db, &["keys", "show"])).expect("jwks json");
    assert_eq!(before["keys"].as_array().map(Vec::len), Some(1));
    let rotated = ok(&f.db, &["keys", "rotate"]);
    assert!(rotated.contains("retired (still published)"), "{rotated}");
    let after: serde_json::Value =
        serde_json::from_str(&ok(&f.db, &["keys", "show"])).expect("jwks json");
    assert_eq!(after["keys"].as_array().map(Vec::len), Some(2));
    let store = SqliteStore::open(common::db_arg(&f.db)).expect("store");
    let keys = store.shc_keys().expect("keys");
    shc::verify(&card_jws(&card), &keys).expect("a card signed before the rotation still verifies");
    ok(
        &f.db,
        &[
            "certificate",
            &id,
            "--kind",
            "camp",
            "--out",
            pdf_s,
            "--card",
            card_s,
        ],
    );
    let jws = card_jws(&card);
    let signing = keys
        .iter()
        .find(|k| k.retired_at.is_none())
        .expect("a signing key");
    assert!(
        shc::verify(&jws, std::slice::from_ref(signing)).is_ok(),
        "signed with the new key"
    );
    // The rotation is audited.
    let audit = ok(&f.db, &["audit", "--limit", "50"]);
    assert!(audit.contains("signing key rotated"), "{audit}");
    assert!(audit.contains("camp certificate issued"), "{audit}");
}
