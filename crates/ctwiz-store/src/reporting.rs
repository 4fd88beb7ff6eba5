//! What the real-time reporting report reads (`ctwiz_core::assessment::realtime`).

use crate::error::Result;
use chrono::NaiveDate;
use ctwiz_core::assessment::realtime::DoseReport;

pub trait ReportingStore {
    /// Doses administered by a clinic (not history, not deleted, given or partly given)
    /// from `from` to `to`, with when they were recorded and whether HL7 brought them.
    fn administered_doses(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DoseReport>>;
}
