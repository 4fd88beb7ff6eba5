//! IAP outreach referrals (`ctwiz_core::outreach`).

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::outreach::{Attempt, Outcome, Referral};

/// A referral to store.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub patient: PatientId,
    pub clinic: ClinicPin,
    pub iap_area: String,
    pub reason: String,
    pub referred_by: String,
    pub referred_at: NaiveDateTime,
}

/// Which referrals to list.
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter {
    pub iap_area: Option<String>,
    pub clinic: Option<ClinicPin>,
    pub open_only: bool,
}

pub trait OutreachStore {
    /// Stores a referral; refused (Conflict) when the child already has an open one.
    fn create_referral(&self, r: &NewReferral) -> Result<i64>;
    fn referral(&self, id: i64) -> Result<Option<Referral>>;
    /// The child's open referral, if any.
    fn open_referral_for(&self, patient: PatientId) -> Result<Option<Referral>>;
    /// Newest first, with their attempts.
    fn referrals(&self, f: &ReferralFilter) -> Result<Vec<Referral>>;
    fn add_referral_attempt(&self, id: i64, a: &Attempt) -> Result<()>;
    /// Closes an open referral; refused (Conflict) when it is already closed.
    fn close_referral(
        &self,
        id: i64,
        outcome: Outcome,
        note: &str,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()>;
}
