//! # ctwiz-forecast — a CDC CDSi immunization evaluation and forecast engine
//!
//! This crate implements the CDC *Logic Specification for ACIP
//! Recommendations* (Clinical Decision Support for Immunization, CDSi 4.x),
//! driven entirely by the CDC's supporting data (bundled: release 4.64). It
//! evaluates each administered dose per antigen (Valid / Not Valid /
//! Extraneous / Sub-standard, with reasons), selects the best patient series,
//! and forecasts the next dose per antigen and per vaccine group (earliest,
//! recommended, past-due and latest dates, and the vaccines to give).
//!
//! It is a pure library: no file or network I/O, no clock, and no state that
//! can change an answer (a per-thread cache of date sums, per-thread scratch
//! buffers emptied before each forecast, and the process-wide table of
//! supporting-data names are the only globals). Build one [`Engine`]
//! (parsing the supporting data once) and share it — it is cheap to clone and
//! `Send + Sync`. Names in the results ([`Name`]) share the supporting data's
//! text, interned for the life of the process, so a forecast copies no
//! strings and counts no references for them.
//!
//! Modules follow the specification's processes: [`supporting_data`] (the
//! parsed CDC data), then, internally, gather (organize the history),
//! evaluate (dose evaluation), conditional skip, select series, forecast and
//! vaccine-group forecast. [`dates`] holds the CDSi date arithmetic and
//! [`bundled`] the embedded release.
//!
//! ## Forecast a history
//!
//! ```
//! use chrono::NaiveDate;
//! use ctwiz_forecast::{AdministeredDose, Engine, Patient, Sex, SeriesStatus};
//!
//! let engine = Engine::bundled().expect("bundled supporting data parses");
//! let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! let patient = Patient::new(date("2025-01-15"), Sex::Female)
//!     .with_dose(AdministeredDose::new(date("2025-03-15"), "107")) // DTaP
//!     .with_dose(AdministeredDose::new(date("2025-03-15"), "10")); // IPV
//!
//! let result = engine.forecast(&patient, date("2025-05-01"));
//! let polio = result.vaccine_group("Polio").unwrap();
//! assert_eq!(polio.status, SeriesStatus::NotComplete);
//! let next = polio.forecast.as_ref().unwrap();
//! assert_eq!(next.dose_number, 2);
//! assert_eq!(next.earliest, date("2025-04-12")); // 4 weeks after dose 1
//!
//! // Every vaccine group of the supporting data has an entry.
//! for group in &result.vaccine_groups {
//!     let when = group.forecast.as_ref().map(|f| f.recommended.to_string());
//!     println!("{:<22} {:<15} {}", group.vaccine_group, group.status.as_str(),
//!              when.unwrap_or_default());
//! }
//! ```
//!
//! ## Load a newer supporting-data release
//!
//! The CDC publishes new supporting data several times a year. Hand the XML
//! texts of a release (`ScheduleSupportingData.xml` and every
//! `AntigenSupportingData- *.xml`) to [`SupportingData::from_xml_texts`]; the
//! crate reads no files, so read them yourself (see
//! `examples/newer_release.rs`). A malformed file is a typed
//! [`SupportingDataError`] naming the file, never a panic.
//!
//! ```
//! use std::sync::Arc;
//! use ctwiz_forecast::{bundled, Engine, SupportingData, SupportingDataError};
//!
//! // Here the bundled texts stand in for the files of a newer release.
//! let schedule: &str = bundled::SCHEDULE_XML;
//! let antigens: Vec<&str> = bundled::ANTIGEN_XMLS.to_vec();
//! let data = SupportingData::from_xml_texts(schedule, &antigens)?;
//! assert!(data.vaccine_group("MMR").is_some());
//! let engine = Engine::new(Arc::new(data));
//! # let _ = engine;
//!
//! // Bad input is an error, not a panic.
//! let err = SupportingData::from_xml_texts("<notSupportingData/>", &antigens).unwrap_err();
//! assert!(err.to_string().contains("ScheduleSupportingData.xml"));
//! # Ok::<(), SupportingDataError>(())
//! ```
//!
//! ## Walk the evaluations and their reasons
//!
//! Each [`AntigenResult`] lists the relevant [`PatientSeries`]; the selected
//! one is [`AntigenResult::best`]. Each series evaluates every dose of the
//! antigen ([`DoseEvaluation`]: status, [`EvaluationReason`]s, the target
//! dose it satisfied).
//!
//! ```
//! use chrono::NaiveDate;
//! use ctwiz_forecast::{AdministeredDose, Engine, EvaluationReason, EvaluationStatus, Patient, Sex};
//!
//! let engine = Engine::bundled().unwrap();
//! let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! // The second DTaP comes 3 weeks after the first: too soon.
//! let patient = Patient::new(date("2025-01-15"), Sex::Male)
//!     .with_dose(AdministeredDose::new(date("2025-03-15"), "20"))
//!     .with_dose(AdministeredDose::new(date("2025-04-05"), "20"));
//! let result = engine.forecast(&patient, date("2025-06-01"));
//!
//! let diphtheria = result.antigen("Diphtheria").unwrap();
//! let series = diphtheria.best().unwrap();
//! let second = &series.doses[1];
//! assert_eq!(second.status, EvaluationStatus::NotValid);
//! assert_eq!(&second.reasons[..], &[EvaluationReason::IntervalTooSoon]);
//! for e in &series.doses {
//!     let reasons: Vec<&str> = e.reasons.iter().map(|r| r.text()).collect();
//!     println!("dose {} {}: {} {}", e.dose_index + 1, e.date, e.status.as_str(), reasons.join("; "));
//! }
//! // The antigen-level view counts a dose valid in any series group's best series.
//! assert_eq!(diphtheria.valid_dose_count(), 1);
//! ```
//!
//! ## JSON in and out (`serde` feature, on by default)
//!
//! The input ([`Patient`], [`AdministeredDose`], [`Observation`]) and every
//! result type serialize and deserialize with serde.
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use ctwiz_forecast::{Engine, ForecastResult, Patient};
//!
//! let patient: Patient = serde_json::from_str(r#"{
//!     "dob": "2025-01-15", "sex": "Female",
//!     "doses": [{ "date": "2025-03-15", "cvx": "20" }]
//! }"#).unwrap();
//! let engine = Engine::bundled().unwrap();
//! let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
//! let result = engine.forecast(&patient, as_of);
//!
//! let json = serde_json::to_string(&result).unwrap();
//! let back: ForecastResult = serde_json::from_str(&json).unwrap();
//! assert_eq!(back, result);
//! # }
//! ```
//!
//! ## Features
//!
//! - `serde` (default): `Serialize`/`Deserialize` for the input and results.
//! - `python`: the `ctwiz_forecast` Python module (pyo3, abi3), built into a
//!   wheel with maturin (`pyproject.toml`); `forecast(dob=..., doses=[(date,
//!   cvx)], as_of=...)` returns plain dicts and lists.
//! - `wasm`: exports for WebAssembly (`wasm32-unknown-unknown`), a plain C
//!   ABI taking and returning JSON, used by the in-browser demo page in
//!   ctwiz's `docs/forecast-demo/`.
//!
//! ctwiz's own mapping from its records and its population assessments live in
//! `ctwiz-core`, which depends on this crate (never the other way round).

// The engine has no unsafe code; the bindings' generated glue needs it.
#![cfg_attr(not(any(feature = "python", feature = "wasm")), forbid(unsafe_code))]
#![cfg_attr(any(feature = "python", feature = "wasm"), deny(unsafe_code))]
#![deny(missing_docs)]

pub mod bundled;
mod conditional_skip;
pub mod dates;
mod engine;
mod evaluate;
pub mod explain;
mod forecast;
mod gather;
mod name;
mod patient;
mod plan;
#[cfg(feature = "python")]
#[allow(unsafe_code)] // pyo3's generated module glue
mod python;
mod result;
mod select_series;
pub mod supporting_data;
mod vaccine_group_forecast;
#[cfg(feature = "wasm")]
#[allow(unsafe_code)] // `#[no_mangle]` exports; no unsafe block
mod wasm;

pub use engine::Engine;
pub use explain::{DoseNote, DueStatus, Relevance};
pub use patient::{AdministeredDose, AdministrationStatus, Observation, Patient};
pub use result::{
    AntigenResult, DoseEvaluation, EvaluationReason, EvaluationStatus, ForecastDates,
    ForecastResult, PatientSeries, Reasons, RecommendedVaccine, SeriesGroupForecast, SeriesStatus,
    VaccineGroupForecast,
};
pub use supporting_data::{
    Cvx, Name, Names, ObservationCode, SeriesType, Sex, Shared, SupportingData, SupportingDataError,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<ForecastResult>();
    }

    #[test]
    fn bundled_data_parses_every_antigen() {
        let data = SupportingData::bundled().expect("bundled data parses");
        assert_eq!(data.antigens.len(), 30);
        assert!(data
            .vaccine_group("DTaP/Tdap/Td")
            .is_some_and(|g| g.antigens.len() == 3));
        assert!(data.cvx.contains_key(&Cvx(3)));
    }
}
