//! # ctwiz-forecast — a CDC CDSi immunization evaluation and forecast engine
//!
//! This crate implements the CDC *Logic Specification for ACIP
//! Recommendations* (Clinical Decision Support for Immunization, CDSi 4.x),
//! driven entirely by the CDC's supporting data (bundled: release 4.64). It
//! evaluates each administered dose per antigen (Valid / Not Valid /
//! Extraneous / Sub-standard, with reasons), selects the best patient series,
//! and forecasts the next dose per antigen and per vaccine group (earliest,
//! recommended, past-due and latest dates).
//!
//! It is a pure library: no file or network I/O, no global state. Build one
//! [`Engine`] (parsing the supporting data once) and share it — it is cheap to
//! clone and `Send + Sync`.
//!
//! Modules follow the specification's processes: [`supporting_data`] (the
//! parsed CDC data), `gather` (organize the history), `evaluate` (dose
//! evaluation), `conditional_skip`, `select_series`, `forecast`,
//! `vaccine_group_forecast`; [`cdsi_cases`] runs the CDC test cases.
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
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundled;
pub mod cdsi_cases;
mod conditional_skip;
pub mod dates;
mod engine;
mod evaluate;
mod forecast;
mod gather;
mod patient;
mod result;
mod select_series;
pub mod supporting_data;
mod vaccine_group_forecast;

pub use engine::Engine;
pub use patient::{AdministeredDose, AdministrationStatus, Observation, Patient};
pub use result::{
    AntigenResult, DoseEvaluation, EvaluationReason, EvaluationStatus, ForecastDates,
    ForecastResult, PatientSeries, Reasons, RecommendedVaccine, SeriesStatus, VaccineGroupForecast,
};
pub use supporting_data::{Cvx, ObservationCode, Sex, SupportingData, SupportingDataError};

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
