//! # ctwiz-core
//!
//! The domain of the ctwiz Immunization Information System as plain values and pure
//! rules: patients, immunization events, vaccine code sets, clinics and jurisdictions,
//! users with the ten access types and their permission matrix, and inventory. No I/O,
//! no clock: functions that need "today" take it as an argument.
//!
//! It also holds ctwiz's use of the CDSi engine (`ctwiz-forecast`, a leaf crate):
//! [`forecast_input`], the one mapping from ctwiz records to engine input, and
//! [`assessment`], the population reports built on it.
//!
//! ```
//! use ctwiz_core::{access::{can, Action, Grant, Role, Scope, Target, User}, ids::*, org::County};
//! use ctwiz_core::place::Location;
//!
//! let mut nurse = User::new(Username::new("jdoe")?, "Jane Doe", Email::new("jdoe@example.org")?)?;
//! let pin = ClinicPin::new("CT00001")?;
//! nurse.grant(Grant::new(Role::ClinicAccess, Scope::Clinic(pin.clone()))?);
//! let here = Target::Clinic { pin: &pin, at: Location::in_county(County::Hartford) };
//! assert!(can(&nurse, here, Action::DoseRecord));
//! assert!(!can(&nurse, here, Action::OrderCreate));
//! # Ok::<(), ctwiz_core::CoreError>(())
//! ```

pub mod access;
pub mod actor;
pub mod age;
pub mod agreement;
pub mod allocation;
#[allow(missing_docs)] // the reports, documented at module level
pub mod assessment;
pub mod certificate;
pub mod clinic_info;
pub mod codes;
pub mod dose;
pub mod dose_stock;
pub mod error;
pub mod export;
pub mod forecast_input;
pub mod ids;
pub mod inventory;
pub mod lot_usage;
pub mod matching;
pub mod merge;
pub mod onboarding;
pub mod ordering;
pub mod org;
pub mod outreach;
pub mod patient;
pub mod place;
pub mod portal;
pub mod program;
pub mod synth;

pub use error::{CoreError, Result};
