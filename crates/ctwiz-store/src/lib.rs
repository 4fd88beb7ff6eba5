//! # ctwiz-store
//!
//! Persistence for ctwiz: the store traits that the web app, CLI and HL7 interface
//! program against, and their implementation ([`SqliteStore`]) on SQLite, the embedded
//! default, or PostgreSQL (`SqliteStore::open("postgres://...")`), through one SQL layer
//! (`sql`) so each statement is written once. This is the only crate that speaks SQL.
//!
//! ```
//! use ctwiz_store::{PatientStore, SqliteStore};
//! use ctwiz_core::patient::{Patient, PersonName, Sex};
//! let store = SqliteStore::open_in_memory()?;
//! let dob = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
//! let id = store.create_patient(&Patient::new(PersonName::new("Rivera", "Luz")?, dob, Sex::Female)?)?;
//! assert_eq!(store.patient(id)?.unwrap().name.given, "Luz");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod accounts;
pub mod agreements;
pub mod allocations;
pub mod certificate;
pub mod clinic_info;
pub mod dedup;
pub mod distributions;
mod error;
pub mod interface;
pub mod onboarding;
pub mod outreach;
pub mod pool;
pub mod portal;
pub mod reporting;
pub mod secret;
pub(crate) mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod test_support;
mod traits;
pub mod usecase;
pub mod web;

pub use error::{Result, StoreError};
pub use sql::Dialect;
pub use sqlite::{db_for_display, default_db_path, postgres_url, SqliteStore, SCHEMA_VERSION};
pub use traits::*;
