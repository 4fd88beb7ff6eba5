//! Input: the patient, their immunization history and their observations
//! (CDSi 4.1 "Gather necessary data": patient data).

use crate::supporting_data::{ObservationCode, Sex};
use chrono::NaiveDate;

/// Whether a recorded dose was actually given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AdministrationStatus {
    /// The dose was administered (the normal case).
    #[default]
    Administered,
    /// The record says the dose was not administered; it is ignored.
    NotAdministered,
    /// The patient or guardian refused; the dose is ignored.
    Refused,
}

/// One vaccine dose in the patient's history.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AdministeredDose {
    /// Date administered.
    pub date: NaiveDate,
    /// CVX code as recorded (e.g. `"03"` or `"3"`).
    pub cvx: String,
    /// MVX manufacturer code, if recorded.
    #[cfg_attr(feature = "serde", serde(default))]
    pub mvx: Option<String>,
    /// Lot expiration date, if recorded: a dose given after it is sub-standard.
    #[cfg_attr(feature = "serde", serde(default))]
    pub lot_expiration: Option<NaiveDate>,
    /// The dose is known to be sub-potent or recalled (sub-standard).
    #[cfg_attr(feature = "serde", serde(default))]
    pub sub_potent: bool,
    /// Administered, not administered or refused.
    #[cfg_attr(feature = "serde", serde(default))]
    pub status: AdministrationStatus,
}

impl AdministeredDose {
    /// An administered dose with just a date and CVX.
    pub fn new(date: NaiveDate, cvx: impl Into<String>) -> Self {
        AdministeredDose {
            date,
            cvx: cvx.into(),
            mvx: None,
            lot_expiration: None,
            sub_potent: false,
            status: AdministrationStatus::Administered,
        }
    }

    /// Sets the manufacturer.
    pub fn with_mvx(mut self, mvx: impl Into<String>) -> Self {
        self.mvx = Some(mvx.into());
        self
    }
}

/// A CDSi observation (condition, immunity, contraindication, indication).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Observation {
    /// Observation code from `ScheduleSupportingData.xml`, e.g. `"085"`.
    pub code: String,
    /// When it was observed (used for intervals from an observation).
    #[cfg_attr(feature = "serde", serde(default))]
    pub date: Option<NaiveDate>,
}

impl Observation {
    /// An observation without a date.
    pub fn new(code: impl Into<String>) -> Self {
        Observation {
            code: code.into(),
            date: None,
        }
    }

    pub(crate) fn parsed_code(&self) -> Option<ObservationCode> {
        ObservationCode::parse(&self.code)
    }
}

/// The patient whose history is evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Patient {
    /// Date of birth.
    pub dob: NaiveDate,
    /// Sex (for sex-specific series such as HPV).
    pub sex: Sex,
    /// Immunization history, in any order.
    #[cfg_attr(feature = "serde", serde(default))]
    pub doses: Vec<AdministeredDose>,
    /// Observations.
    #[cfg_attr(feature = "serde", serde(default))]
    pub observations: Vec<Observation>,
}

impl Patient {
    /// A patient with no history.
    pub fn new(dob: NaiveDate, sex: Sex) -> Self {
        Patient {
            dob,
            sex,
            doses: Vec::new(),
            observations: Vec::new(),
        }
    }

    /// Adds a dose (builder style).
    pub fn with_dose(mut self, dose: AdministeredDose) -> Self {
        self.doses.push(dose);
        self
    }

    /// Adds an observation (builder style).
    pub fn with_observation(mut self, observation: Observation) -> Self {
        self.observations.push(observation);
        self
    }
}
