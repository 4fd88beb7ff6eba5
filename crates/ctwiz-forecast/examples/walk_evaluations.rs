//! Walks a result: for every antigen the patient's doses count toward, the
//! selected series and each dose's evaluation with its reasons, then the
//! other series the engine considered.
//!
//! `cargo run -p ctwiz-forecast --example walk_evaluations`

use chrono::NaiveDate;
use ctwiz_forecast::{AdministeredDose, Engine, EvaluationStatus, Patient, Sex};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a YYYY-MM-DD date")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::bundled()?;
    // The second DTaP came too soon (3 weeks after the first) and a dose
    // with an unknown CVX was recorded.
    let patient = Patient::new(date("2025-01-15"), Sex::Male)
        .with_dose(AdministeredDose::new(date("2025-03-15"), "20"))
        .with_dose(AdministeredDose::new(date("2025-04-05"), "20"))
        .with_dose(AdministeredDose::new(date("2025-04-05"), "999"));
    let result = engine.forecast(&patient, date("2025-06-01"));

    for &i in &result.unknown_vaccines {
        println!(
            "dose {} (CVX {}): unknown vaccine",
            i + 1,
            patient.doses[i].cvx
        );
    }
    for antigen in &result.antigens {
        let Some(best) = antigen.best() else { continue };
        if best.doses.is_empty() {
            continue;
        }
        println!(
            "{}: {} — series {:?} ({}), {} valid dose(s)",
            antigen.antigen,
            antigen.status.as_str(),
            best.name,
            best.series_group,
            best.valid_doses
        );
        for e in &best.doses {
            let reasons: Vec<&str> = e.reasons.iter().map(|r| r.text()).collect();
            let target = match (e.status, e.target_dose) {
                (EvaluationStatus::Valid, Some(t)) => format!("target dose {t}"),
                _ => "counts for nothing".to_string(),
            };
            println!(
                "  dose {} {} CVX {}: {} ({target}) {}",
                e.dose_index + 1,
                e.date,
                e.cvx,
                e.status.as_str(),
                reasons.join("; ")
            );
        }
        for (k, s) in antigen.series.iter().enumerate() {
            if Some(k) != antigen.best_series {
                println!("  also considered: {:?}, score {}", s.name, s.score);
            }
        }
    }
    Ok(())
}
