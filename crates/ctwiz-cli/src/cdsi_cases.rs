//! The CDC CDSi test cases: parse the JSON test-case format (see
//! `shared/cdsi/README.md`), turn a case into engine input and judge a result.
//! Used by `ctwiz cdsi-test` (and, through it, by the test that keeps the CDC
//! pass counts from regressing); it is ctwiz's tooling, not part of the
//! `ctwiz-forecast` library API.
//!
//! A case passes when, for the case's vaccine group, every dose's evaluation
//! status matches, and the expected forecast matches one forecast of the
//! group: the series status (case-insensitively), the forecast dose number
//! (when given), earliest, recommended and past-due dates all exactly (an
//! expected null means no date produced). The forecasts it may match are the
//! group's headline forecast and, when the case names the series type its
//! doses belong to (the underlying-conditions set's `series_type`: standard
//! or risk), the forecast of each series group of that type (CDSi
//! FORECASTVG-1: every best series of Table 8-14 yields its own vaccine group
//! forecast). This module reads no files: callers hand in the JSON text.

use chrono::NaiveDate;
use ctwiz_forecast::{
    AdministeredDose, EvaluationStatus, ForecastDates, ForecastResult, Observation, Patient,
    SeriesStatus, SeriesType, Sex,
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
    /// The series type the dose belongs to (`standard` or `risk`; the
    /// underlying-conditions set).
    #[serde(default)]
    pub series_type: Option<String>,
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

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

impl TestCase {
    /// The series type the case's doses name, when they all name the same
    /// one (`None` without doses or when they differ).
    pub fn series_type(&self) -> Option<SeriesType> {
        let mut types = self.doses.iter().map(|d| {
            match d
                .series_type
                .as_deref()
                .map(|t| t.trim().to_ascii_lowercase())
            {
                Some(t) if t == "risk" => Some(SeriesType::Risk),
                Some(t) if t == "standard" => Some(SeriesType::Standard),
                _ => None,
            }
        });
        let first = types.next()??;
        types.all(|t| t == Some(first)).then_some(first)
    }
}

/// How one forecast differs from the expected one (empty when it matches).
fn forecast_mismatches(
    exp: &ExpectedForecast,
    status: SeriesStatus,
    forecast: Option<&ForecastDates>,
) -> Vec<String> {
    let mut mismatches = Vec::new();
    let got_status = status.as_str();
    if !exp.series_status.trim().eq_ignore_ascii_case(got_status) {
        mismatches.push(format!(
            "series status: expected {}, got {got_status}",
            exp.series_status
        ));
    }
    let f = forecast.filter(|_| status == SeriesStatus::NotComplete);
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
    mismatches
}

/// Judges an already computed result against the case's expectations.
pub fn judge_case(case: &TestCase, result: &ForecastResult) -> CaseOutcome {
    let mut mismatches = Vec::new();
    let group_name = cdsi_vaccine_group(&case.vaccine_group);
    let group = result.vaccine_group(group_name);
    if group.is_none() {
        mismatches.push(format!("vaccine group {:?} is unknown", case.vaccine_group));
    }
    for (i, dose) in case.doses.iter().enumerate() {
        let Some(expected) = dose.evaluation_status.as_deref() else {
            continue;
        };
        let got = result.group_dose_status(group_name, i);
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
        let headline = forecast_mismatches(exp, g.status, g.forecast.as_ref());
        let of_series_type = case.series_type().is_some_and(|t| {
            g.series_groups
                .iter()
                .filter(|s| s.series_type == t)
                .any(|s| forecast_mismatches(exp, s.status, s.forecast.as_ref()).is_empty())
        });
        if !of_series_type {
            mismatches.extend(headline);
        }
    }
    CaseOutcome {
        id: case.id.clone(),
        name: case.name.clone(),
        passed: mismatches.is_empty(),
        mismatches,
    }
}
