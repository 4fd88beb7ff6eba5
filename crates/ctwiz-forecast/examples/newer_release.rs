//! Loads a CDC supporting-data release from a directory of its XML files
//! (`ScheduleSupportingData.xml` and every `AntigenSupportingData- *.xml`)
//! and forecasts with it. The library itself reads no files: the program
//! reads them and hands the texts to `SupportingData::from_xml_texts`.
//!
//! `cargo run -p ctwiz-forecast --example newer_release -- DIR`
//! (without DIR, the bundled 4.64 texts are used the same way).

use chrono::NaiveDate;
use ctwiz_forecast::bundled::{ANTIGEN_XMLS, BUNDLED_RELEASE, SCHEDULE_XML};
use ctwiz_forecast::{AdministeredDose, Engine, Patient, Sex, SupportingData};
use std::path::Path;
use std::sync::Arc;

/// Reads the schedule and antigen files of a release directory.
fn read_release(dir: &Path) -> Result<(String, Vec<String>), Box<dyn std::error::Error>> {
    let schedule = std::fs::read_to_string(dir.join("ScheduleSupportingData.xml"))?;
    let mut antigens = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_antigen = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("AntigenSupportingData") && n.ends_with(".xml"));
        if is_antigen {
            antigens.push(std::fs::read_to_string(&path)?);
        }
    }
    Ok((schedule, antigens))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = match std::env::args().nth(1) {
        Some(dir) => {
            let (schedule, antigens) = read_release(Path::new(&dir))?;
            let texts: Vec<&str> = antigens.iter().map(String::as_str).collect();
            println!("release in {dir}: {} antigen files", texts.len());
            // A malformed file is a typed error naming the file, never a panic.
            SupportingData::from_xml_texts(&schedule, &texts)?
        }
        None => {
            println!("no directory given: the bundled release {BUNDLED_RELEASE}");
            SupportingData::from_xml_texts(SCHEDULE_XML, ANTIGEN_XMLS)?
        }
    };
    println!(
        "{} antigens, {} vaccine groups, {} CVX codes",
        data.antigens.len(),
        data.vaccine_groups.len(),
        data.cvx.len()
    );
    let engine = Engine::new(Arc::new(data));
    let dob = NaiveDate::from_ymd_opt(2024, 6, 1).ok_or("date")?;
    let patient = Patient::new(dob, Sex::Male)
        .with_dose(AdministeredDose::new(dob + chrono::Months::new(12), "03")); // MMR
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 10).ok_or("date")?;
    let mmr = engine
        .forecast(&patient, as_of)
        .vaccine_group("MMR")
        .cloned()
        .ok_or("no MMR group")?;
    println!("MMR: {}", mmr.status.as_str());
    if let Some(next) = mmr.forecast {
        println!(
            "  dose {} recommended {}",
            next.dose_number, next.recommended
        );
    }
    Ok(())
}
