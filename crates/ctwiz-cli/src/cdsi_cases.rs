//! The CDC CDSi test cases: parse the JSON test-case format (see
//! `shared/cdsi/README.md`), turn a case into engine input and judge a result.
//! Used by `ctwiz cdsi-test` (and, through it, by the test that keeps the CDC
//! pass counts from regressing); it is ctwiz's tooling, not part of the
//! `ctwiz-forecast` library API.
//!
//! A case passes when, for the case's vaccine group, every dose's evaluation
//! status matches, the series status matches (case-insensitively), and the
//! forecast dose number (when given), earliest, recommended and past-due
//! dates all match exactly (an expected null means no date produced). This
//! module reads no files: callers hand in the JSON text.

use chrono::NaiveDate;
use ctwiz_forecast::{
    AdministeredDose, EvaluationStatus, ForecastResult, Name, Observation, Patient, SeriesStatus,
    Sex,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A test-case file.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CaseFile {
    /// Free-form metadata.
    #[serde(default)]
    pub meta: serde_json::Value,
    /// The cases.
    pub cases: Vec<TestCase>,
}

/// One CDC test case.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TestCase {
    /// CDC id, e.g. `"2013-0003"`.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// Date of birth.
    pub dob: NaiveDate,
    /// Assessment date.
    pub assessment_date: NaiveDate,
    /// Vaccine group under test, as spelled in the test set.
    pub vaccine_group: String,
    /// The patient's doses with expected evaluations.
    #[serde(default)]
    pub doses: Vec<TestDose>,
    /// Expected forecast (first element used).
    #[serde(default)]
    pub expected_forecasts: Vec<ExpectedForecast>,
    /// Observations (underlying-conditions set).
    #[serde(default)]
    pub observations: Vec<TestObservation>,
}

/// A dose in a test case.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TestDose {
    /// 1-based index.
    #[serde(default)]
    pub dose_index: u32,
    /// Date administered.
    pub date_administered: NaiveDate,
    /// Vaccine name.
    #[serde(default)]
    pub vaccine_name: String,
    /// CVX.
    pub cvx: String,
    /// MVX.
    #[serde(default)]
    pub mvx: Option<String>,
    /// Expected status (`Valid`, `Not Valid`, `Extraneous`).
    #[serde(default)]
    pub evaluation_status: Option<String>,
    /// Expected reason (free text; not compared).
    #[serde(default)]
    pub evaluation_reason: Option<String>,
}

/// Expected forecast.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExpectedForecast {
    /// Series status.
    pub series_status: String,
    /// Dose number; null when no dose is due.
    #[serde(default)]
    pub forecast_dose_number: Option<u32>,
    /// Earliest date.
    #[serde(default)]
    pub earliest_date: Option<NaiveDate>,
    /// Recommended date.
    #[serde(default)]
    pub recommended_date: Option<NaiveDate>,
    /// Past-due date.
    #[serde(default)]
    pub past_due_date: Option<NaiveDate>,
}

/// An observation in a test case.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TestObservation {
    /// CDSi observation code.
    pub code: String,
    /// Text.
    #[serde(default)]
    pub text: Option<String>,
    /// Date.
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// Errors reading a test-case file.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    /// The JSON does not match the format.
    #[error("test-case file is not in the expected JSON format: {0}")]
    Json(#[from] serde_json::Error),
}

/// Parses a test-case file's text.
pub fn parse_case_file(json: &str) -> Result<CaseFile, CaseFileError> {
    Ok(serde_json::from_str(json)?)
}

/// The CDSi vaccine group name for a test set's spelling (both the healthy
/// set's `DTAP`, `POL`, `PCV`, ... and the underlying-conditions set's
/// `DTaP`, `IPOL`, `Pneumococcal`, ...). Unknown names pass through.
pub fn cdsi_vaccine_group(name: &str) -> &str {
    match name.trim().to_ascii_uppercase().as_str() {
        "DTAP" | "TDAP" | "TD" | "DTAP/TDAP/TD" => "DTaP/Tdap/Td",
        "POL" | "IPOL" | "IPV" | "POLIO" => "Polio",
        "HIB" => "Hib",
        "PCV" | "PNEUMOCOCCAL" | "PPSV" => "Pneumococcal",
        "HEPB" => "HepB",
        "HEPA" => "HepA",
        "VAR" | "VARICELLA" => "Varicella",
        "ROTA" | "ROTAVIRUS" => "Rotavirus",
        "MCV" | "MENACWY" | "MENINGOCOCCAL" => "Meningococcal",
        "MENB" | "MENINGOCOCCAL B" => "Meningococcal B",
        "ZOSTER" => "Zoster",
        "FLU" | "INFLUENZA" => "Influenza",
        "YELLOW FEVER" | "YF" => "Yellow Fever",
        "JAPANESE ENCEPHALITIS" | "JE" => "Japanese Encephalitis",
        _ => name.trim(),
    }
}

impl TestCase {
    /// The patient described by the case.
    pub fn patient(&self) -> Patient {
        let sex = match self.sex.trim().to_ascii_uppercase().as_str() {
            "F" | "FEMALE" => Sex::Female,
            "M" | "MALE" => Sex::Male,
            _ => Sex::Unknown,
        };
        Patient {
            dob: self.dob,
            sex,
            doses: self
                .doses
                .iter()
                .map(|d| {
                    let mut dose = AdministeredDose::new(d.date_administered, d.cvx.clone());
                    dose.mvx = d.mvx.clone().filter(|m| !m.trim().is_empty());
                    dose
                })
                .collect(),
            observations: self
                .observations
                .iter()
                .map(|o| Observation {
                    code: o.code.clone(),
                    date: o.date,
                })
                .collect(),
        }
    }
}

/// The verdict on one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseOutcome {
    /// Case id.
    pub id: String,
    /// Case name.
    pub name: String,
    /// Did every compared field match?
    pub passed: bool,
    /// One line per mismatch: `field: expected X, got Y`.
    pub mismatches: Vec<String>,
}

impl CaseOutcome {
    /// A human-readable diff of the mismatches.
    pub fn diff(&self) -> String {
        let mut s = format!("case {} ({})\n", self.id, self.name);
        for m in &self.mismatches {
            let _ = writeln!(s, "  {m}");
        }
        s
    }
}

/// The combined status of one dose for the antigens of a vaccine group.
pub fn group_dose_status(
    result: &ForecastResult,
    group_antigens: &[Name],
    dose_index: usize,
) -> Option<EvaluationStatus> {
    let statuses_for = |names: &mut dyn Iterator<Item = &str>| -> Vec<EvaluationStatus> {
        names
            .filter_map(|name| result.antigen(name))
            .filter_map(|a| a.dose_status(dose_index))
            .collect()
    };
    let mut statuses = statuses_for(&mut group_antigens.iter().map(Name::as_str));
    if statuses.is_empty() {
        // A dose of another group (e.g. varicella in an MMR case) is judged
        // by its own antigens.
        statuses = statuses_for(&mut result.antigens.iter().map(|a| a.antigen.as_str()));
    }
    if statuses.is_empty() {
        return None;
    }
    // A dose that is not valid for any antigen it carries is not valid for
    // the group. A dose that counts for some antigens and is merely extra for
    // others (a decennial Tdap after a complete pertussis series) is valid
    // for the group; it is extraneous only when it is extra for all of them.
    for s in [
        EvaluationStatus::SubStandard,
        EvaluationStatus::NotValid,
        EvaluationStatus::Valid,
    ] {
        if statuses.contains(&s) {
            return Some(s);
        }
    }
    Some(EvaluationStatus::Extraneous)
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

/// Judges an already computed result against the case's expectations.
pub fn judge_case(case: &TestCase, result: &ForecastResult) -> CaseOutcome {
    let mut mismatches = Vec::new();
    let group_name = cdsi_vaccine_group(&case.vaccine_group);
    let group = result.vaccine_group(group_name);
    let antigens = group.map(|g| g.antigens.clone()).unwrap_or_default();
    if group.is_none() {
        mismatches.push(format!("vaccine group {:?} is unknown", case.vaccine_group));
    }
    for (i, dose) in case.doses.iter().enumerate() {
        let Some(expected) = dose.evaluation_status.as_deref() else {
            continue;
        };
        let got = group_dose_status(result, &antigens, i);
        let got_text = got.map_or("(not evaluated)", EvaluationStatus::as_str);
        if !expected.trim().eq_ignore_ascii_case(got_text) {
            mismatches.push(format!(
                "dose {} ({} CVX {}): expected {expected}, got {got_text}",
                i + 1,
                dose.date_administered,
                dose.cvx
            ));
        }
    }
    if let (Some(exp), Some(g)) = (case.expected_forecasts.first(), group) {
        let got_status = g.status.as_str();
        if !exp.series_status.trim().eq_ignore_ascii_case(got_status) {
            mismatches.push(format!(
                "series status: expected {}, got {got_status}",
                exp.series_status
            ));
        }
        let f = g
            .forecast
            .as_ref()
            .filter(|_| g.status == SeriesStatus::NotComplete);
        if let Some(n) = exp.forecast_dose_number {
            let got = f.map(|f| u32::from(f.dose_number));
            if got != Some(n) {
                mismatches.push(format!(
                    "forecast dose number: expected {n}, got {}",
                    got.map_or("-".to_string(), |g| g.to_string())
                ));
            }
        }
        let pairs = [
            ("earliest", exp.earliest_date, f.map(|f| f.earliest)),
            (
                "recommended",
                exp.recommended_date,
                f.map(|f| f.recommended),
            ),
            ("past due", exp.past_due_date, f.and_then(|f| f.past_due)),
        ];
        for (field, want, got) in pairs {
            if want != got {
                mismatches.push(format!(
                    "{field} date: expected {}, got {}",
                    fmt_date(want),
                    fmt_date(got)
                ));
            }
        }
    }
    CaseOutcome {
        id: case.id.clone(),
        name: case.name.clone(),
        passed: mismatches.is_empty(),
        mismatches,
    }
}
