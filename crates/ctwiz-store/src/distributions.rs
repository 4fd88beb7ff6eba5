//! Stored distributions of scheduled reports (rules in
//! `ctwiz_core::assessment::distribution`, use cases in `usecase::distributions`).

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::assessment::distribution::{DistributedChild, DistributionKind};
use ctwiz_core::ids::ClinicPin;

/// One practice's copy of a distributed report.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub id: i64,
    pub kind: DistributionKind,
    pub period: String,
    pub clinic: ClinicPin,
    pub created_at: NaiveDateTime,
    pub children: Vec<DistributedChild>,
    /// When someone at the practice first opened it (its task is then done).
    pub opened_at: Option<NaiveDateTime>,
}

pub trait DistributionStore {
    /// Stores the practice's copy unless one exists for that kind and period; `Some(id)`
    /// only for the call that stored it (exactly once, whatever runs at the same time).
    fn claim_distribution(
        &self,
        kind: DistributionKind,
        period: &str,
        clinic: &ClinicPin,
        children: &[DistributedChild],
        now: NaiveDateTime,
    ) -> Result<Option<i64>>;
    fn distribution(&self, id: i64) -> Result<Option<Distribution>>;
    /// The practice's distributions, newest first.
    fn distributions(&self, clinic: &ClinicPin) -> Result<Vec<Distribution>>;
    /// Marks it opened (the first time is kept).
    fn mark_distribution_opened(&self, id: i64, now: NaiveDateTime) -> Result<()>;
    /// Whether a run of this kind and period finished; and recording that it did.
    fn distribution_run_finished(&self, kind: DistributionKind, period: &str) -> Result<bool>;
    fn finish_distribution_run(
        &self,
        kind: DistributionKind,
        period: &str,
        now: NaiveDateTime,
    ) -> Result<()>;
}
