//! Onboarding records (`ctwiz_core::onboarding`).

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::onboarding::{Application, Stage};

/// One move between stages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEvent {
    pub at: NaiveDateTime,
    pub by: String,
    pub from: Option<Stage>,
    pub to: Stage,
    pub notes: String,
}

/// A clinic's onboarding with its history, oldest move first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    pub clinic: ClinicPin,
    pub application: Application,
    pub stage: Stage,
    pub applied_at: NaiveDateTime,
    pub history: Vec<StageEvent>,
}

pub trait OnboardingStore {
    /// Records the application at stage Applied; refused (Conflict) when the clinic has
    /// one already.
    fn create_onboarding(
        &self,
        clinic: &ClinicPin,
        app: &Application,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()>;
    fn onboarding(&self, clinic: &ClinicPin) -> Result<Option<Onboarding>>;
    /// Every clinic's onboarding, by PIN.
    fn onboardings(&self) -> Result<Vec<Onboarding>>;
    /// Moves the clinic from `from` to `to` with its history row; refused (Conflict) when
    /// it is no longer at `from` (someone moved it meanwhile).
    fn move_onboarding(&self, clinic: &ClinicPin, from: Stage, e: &StageEvent) -> Result<()>;
}
