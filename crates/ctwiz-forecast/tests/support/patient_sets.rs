//! The fixed patient sets the benchmark and the same-answers test forecast:
//! synthetic children aged 0–18 with routine histories (generated here,
//! deterministic) and the patients of the CDC CDSi test-case files (read
//! from the workspace's sibling `shared/cdsi/testcases`).
//!
//! Shared by `benches/forecast.rs` and `tests/same_answers.rs` (included
//! with `#[path]`), so both look at exactly the same patients.

use chrono::{Days, Months, NaiveDate};
use ctwiz_forecast::{AdministeredDose, Observation, Patient, Sex};
use std::path::PathBuf;

/// A patient and their assessment date.
pub type Case = (Patient, NaiveDate);

/// Routine childhood schedule: (CVX, age in months).
const SCHEDULE: &[(&str, u32)] = &[
    ("08", 0),
    ("08", 2),
    ("08", 6),
    ("110", 2),
    ("110", 4),
    ("110", 6),
    ("20", 15),
    ("130", 48),
    ("10", 2),
    ("10", 4),
    ("10", 6),
    ("49", 2),
    ("49", 4),
    ("49", 12),
    ("133", 2),
    ("133", 4),
    ("133", 6),
    ("133", 12),
    ("116", 2),
    ("116", 4),
    ("116", 6),
    ("03", 12),
    ("03", 48),
    ("21", 12),
    ("21", 48),
    ("83", 12),
    ("83", 18),
    ("115", 132),
    ("114", 132),
    ("62", 132),
    ("62", 138),
    ("114", 192),
    ("141", 6),
    ("141", 7),
    ("141", 18),
    ("141", 30),
    ("141", 42),
    ("141", 54),
    ("141", 66),
];

/// The assessment date of the synthetic set.
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 10).expect("valid date")
}

/// Child `i`: a deterministic age 0–18 and the routine doses due by `as_of`,
/// each a few days late.
fn child(i: u64, as_of: NaiveDate) -> Patient {
    let age_days = (i * 2_654_435_761) % (18 * 365);
    let dob = as_of
        .checked_sub_days(Days::new(age_days))
        .expect("in range");
    let sex = if i & 1 == 0 { Sex::Female } else { Sex::Male };
    let mut p = Patient::new(dob, sex);
    for (k, (cvx, months)) in SCHEDULE.iter().enumerate() {
        let jitter = (i + k as u64 * 7) % 20;
        let date = dob
            .checked_add_months(Months::new(*months))
            .and_then(|d| d.checked_add_days(Days::new(jitter)))
            .expect("in range");
        if date <= as_of {
            p.doses.push(AdministeredDose::new(date, *cvx));
        }
    }
    p
}

/// The synthetic set: 2,000 children.
pub fn synthetic() -> Vec<Case> {
    (0..2_000).map(|i| (child(i, as_of()), as_of())).collect()
}

/// The directory of the shared CDC test-case files.
pub fn testcase_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cdsi/testcases")
}

/// The patients (with their assessment dates) of a CDC test-case file, or
/// `None` when the shared test cases are not present.
pub fn cdc_patients(file: &str) -> Option<Vec<Case>> {
    let text = std::fs::read_to_string(testcase_dir().join(file)).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("test-case JSON parses");
    let date = |v: &serde_json::Value| {
        NaiveDate::parse_from_str(v.as_str().expect("a date string"), "%Y-%m-%d")
            .expect("a YYYY-MM-DD date")
    };
    let cases = json["cases"].as_array().expect("a cases array");
    Some(
        cases
            .iter()
            .map(|c| {
                let sex = match c["sex"].as_str() {
                    Some("F") => Sex::Female,
                    Some("M") => Sex::Male,
                    _ => Sex::Unknown,
                };
                let mut p = Patient::new(date(&c["dob"]), sex);
                for d in c["doses"].as_array().into_iter().flatten() {
                    let mut dose = AdministeredDose::new(
                        date(&d["date_administered"]),
                        d["cvx"].as_str().expect("a CVX string"),
                    );
                    if let Some(mvx) = d["mvx"].as_str() {
                        dose = dose.with_mvx(mvx);
                    }
                    p.doses.push(dose);
                }
                for o in c["observations"].as_array().into_iter().flatten() {
                    if let Some(code) = o["code"].as_str() {
                        let mut obs = Observation::new(code);
                        obs.date = o["date"].as_str().map(|_| date(&o["date"]));
                        p.observations.push(obs);
                    }
                }
                (p, date(&c["assessment_date"]))
            })
            .collect(),
    )
}
