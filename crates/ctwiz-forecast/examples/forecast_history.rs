//! Forecasts one child's history and prints the Recommender table: each
//! vaccine group's status, next dose number and dates, and the vaccines to
//! give.
//!
//! `cargo run -p ctwiz-forecast --example forecast_history`

use chrono::NaiveDate;
use ctwiz_forecast::{AdministeredDose, Engine, Patient, Sex};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a YYYY-MM-DD date")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Parse the bundled CDC supporting data once; clones share it.
    let engine = Engine::bundled()?;

    // A 6-month-old with her 2- and 4-month doses.
    let patient = Patient::new(date("2025-01-15"), Sex::Female)
        .with_dose(AdministeredDose::new(date("2025-03-15"), "110")) // DTaP-HepB-IPV
        .with_dose(AdministeredDose::new(date("2025-03-15"), "49")) // Hib (PRP-OMP)
        .with_dose(AdministeredDose::new(date("2025-03-15"), "133")) // PCV13
        .with_dose(AdministeredDose::new(date("2025-03-15"), "116")) // Rotavirus
        .with_dose(AdministeredDose::new(date("2025-05-16"), "110"))
        .with_dose(AdministeredDose::new(date("2025-05-16"), "49"))
        .with_dose(AdministeredDose::new(date("2025-05-16"), "133"))
        .with_dose(AdministeredDose::new(date("2025-05-16"), "116"));

    let result = engine.forecast(&patient, date("2025-07-15"));

    println!(
        "{:<22} {:<16} {:>4}  {:<10}  {:<11}  {:<10}  vaccines",
        "vaccine group", "status", "dose", "earliest", "recommended", "past due"
    );
    for group in &result.vaccine_groups {
        match &group.forecast {
            Some(next) => {
                let vaccines: Vec<String> = next
                    .vaccines
                    .iter()
                    .map(|v| format!("{} (CVX {})", v.vaccine_type, v.cvx))
                    .collect();
                println!(
                    "{:<22} {:<16} {:>4}  {:<10}  {:<11}  {:<10}  {}",
                    group.vaccine_group,
                    group.status.as_str(),
                    next.dose_number,
                    next.earliest,
                    next.recommended,
                    next.past_due.map_or("-".to_string(), |d| d.to_string()),
                    vaccines.join(", ")
                );
            }
            None => println!("{:<22} {}", group.vaccine_group, group.status.as_str()),
        }
    }
    Ok(())
}
