//! JSON in, JSON out (the `serde` feature, on by default): reads a patient
//! as JSON, forecasts, writes the result as JSON and reads it back.
//!
//! `cargo run -p ctwiz-forecast --example json`

use ctwiz_forecast::{Engine, ForecastResult, Patient};

const PATIENT: &str = r#"{
  "dob": "2025-01-15",
  "sex": "Female",
  "doses": [
    { "date": "2025-03-15", "cvx": "20" },
    { "date": "2025-03-15", "cvx": "10", "mvx": "PMC" }
  ],
  "observations": []
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::bundled()?;
    let patient: Patient = serde_json::from_str(PATIENT)?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).ok_or("date")?;
    let result = engine.forecast(&patient, as_of);

    let json = serde_json::to_string_pretty(&result)?;
    let back: ForecastResult = serde_json::from_str(&json)?;
    assert_eq!(back, result, "the JSON round trip keeps every field");

    // Print just the vaccine-group forecasts.
    println!("{}", serde_json::to_string_pretty(&result.vaccine_groups)?);
    Ok(())
}
