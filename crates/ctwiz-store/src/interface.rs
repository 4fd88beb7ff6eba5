//! Stores for the HL7 interface: the message log behind the DQA – Interface Activity
//! report, each clinic's interface status (onboarding QA or production), batch-import
//! progress (for resumable, idempotent imports) and the deduplication review queue that
//! uncertain patient matches go to.

use crate::error::{Result, StoreError};
use crate::traits::Interface;
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::ids::{ClinicPin, PatientId};
use serde::{Deserialize, Serialize};

/// Where a clinic's EHR interface stands. While onboarding, its messages are validated
/// and acknowledged exactly as in production, but nothing reaches production data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InterfaceStatus {
    Qa,
    Production,
}

impl InterfaceStatus {
    pub fn key(self) -> &'static str {
        match self {
            InterfaceStatus::Qa => "qa",
            InterfaceStatus::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "qa" => Ok(InterfaceStatus::Qa),
            "production" => Ok(InterfaceStatus::Production),
            other => Err(StoreError::Conflict(format!(
                "interface status {other:?} is not qa or production"
            ))),
        }
    }
}

/// MSA-1 of the answer we sent (HL7 table 0008).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckResult {
    /// AA
    Accepted,
    /// AE
    Error,
    /// AR
    Rejected,
}

impl AckResult {
    pub fn code(self) -> &'static str {
        match self {
            AckResult::Accepted => "AA",
            AckResult::Error => "AE",
            AckResult::Rejected => "AR",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "AA" => Ok(AckResult::Accepted),
            "AE" => Ok(AckResult::Error),
            "AR" => Ok(AckResult::Rejected),
            other => Err(StoreError::Corrupt(format!("ack result {other:?}"))),
        }
    }
}

/// One ERR we sent back: severity (E/W/I), HL7 table 0357 code, CDC table 0533 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedError {
    pub severity: String,
    pub hl7_code: String,
    pub app_code: Option<String>,
    /// ERR-2 as text, e.g. `RXA-5`.
    pub location: String,
    pub text: String,
}

/// One processed message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageLogEntry {
    /// MSH-4 as sent (the facility may be unknown to us).
    pub facility: String,
    /// The registered clinic it resolved to.
    pub clinic: Option<ClinicPin>,
    /// MSH-9, e.g. `VXU^V04`.
    pub message_type: String,
    /// MSH-10.
    pub control_id: String,
    pub result: AckResult,
    pub mode: InterfaceStatus,
    pub interface: Interface,
    pub received_at: NaiveDateTime,
    pub processed_at: NaiveDateTime,
    pub patient: Option<PatientId>,
    /// Doses the message reported.
    pub doses: u32,
    /// Administered doses reported more than 48 hours after administration.
    pub late_doses: u32,
    pub errors: Vec<LoggedError>,
}

/// One row of the DQA – Interface Activity report: a facility's messages on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub facility: String,
    pub day: NaiveDate,
    pub received: u64,
    /// AA
    pub accepted: u64,
    /// AE
    pub errors: u64,
    /// AR
    pub rejected: u64,
    /// Messages answered with at least one warning.
    pub with_warnings: u64,
    /// Messages with at least one late-reported administered dose.
    pub late_reports: u64,
    pub late_doses: u64,
    /// Of the received, how many came while the clinic was in QA.
    pub qa: u64,
}

/// Count of one error code for a facility and day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCodeRow {
    pub facility: String,
    pub day: NaiveDate,
    pub severity: String,
    pub hl7_code: String,
    pub app_code: Option<String>,
    pub count: u64,
}

impl ActivityRow {
    /// Column names of the DQA – Interface Activity export, in [`ActivityRow::cells`] order.
    pub const COLUMNS: [&'static str; 10] = [
        "facility",
        "day",
        "received",
        "accepted_AA",
        "errors_AE",
        "rejected_AR",
        "with_warnings",
        "late_reports",
        "late_doses",
        "qa",
    ];

    /// The row as text cells for tables and CSV (CLI and web share one layout).
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.facility.clone(),
            self.day.to_string(),
            self.received.to_string(),
            self.accepted.to_string(),
            self.errors.to_string(),
            self.rejected.to_string(),
            self.with_warnings.to_string(),
            self.late_reports.to_string(),
            self.late_doses.to_string(),
            self.qa.to_string(),
        ]
    }
}

impl ErrorCodeRow {
    /// Column names of the DQA error-code export, in [`ErrorCodeRow::cells`] order.
    pub const COLUMNS: [&'static str; 6] = [
        "facility",
        "day",
        "severity",
        "hl7_0357",
        "application_code",
        "count",
    ];

    /// The row as text cells for tables and CSV.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.facility.clone(),
            self.day.to_string(),
            self.severity.clone(),
            self.hl7_code.clone(),
            self.app_code.clone().unwrap_or_default(),
            self.count.to_string(),
        ]
    }
}

/// How far a batch file has been imported, keyed by the hash of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub file_hash: String,
    pub path: String,
    /// Messages (in file order) whose outcome is committed.
    pub messages_done: u64,
    pub complete: bool,
}

/// An uncertain identity match waiting for a person to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupReview {
    pub patient: PatientId,
    pub candidate: PatientId,
    pub source: String,
}

pub trait InterfaceStore {
    /// Runs `f` as one atomic unit (nested calls join the outer unit).
    fn atomically<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T>
    where
        Self: Sized;
    /// [`Self::atomically`] for a batch whose nested units almost never fail, run
    /// without a savepoint each where the store can. `Ok(None)`: a nested unit failed and
    /// nothing of `f` was kept; run the batch again with `atomically`, where each unit
    /// can fail alone.
    fn atomically_unguarded<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<Option<T>>
    where
        Self: Sized,
    {
        self.atomically(f).map(Some)
    }
    /// A clinic with no recorded status is in production.
    fn interface_status(&self, clinic: &ClinicPin) -> Result<InterfaceStatus>;
    fn set_interface_status(
        &self,
        clinic: &ClinicPin,
        status: InterfaceStatus,
        at: NaiveDateTime,
    ) -> Result<()>;
    /// Logs a message with its errors. Nothing is read back, so on PostgreSQL, inside a
    /// transaction, the row goes with the next statement (its failure still fails the
    /// scope that wrote it, see `sql::Conn::execute_deferred`).
    fn log_message(&self, e: &MessageLogEntry) -> Result<()>;
    /// The latest logged messages, newest first, optionally for one facility.
    fn message_log(&self, facility: Option<&str>, limit: u32) -> Result<Vec<MessageLogEntry>>;
    /// Messages per facility and day of receipt, in `from..=to`.
    fn interface_activity(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ActivityRow>>;
    /// ERR counts per facility, day and code, in `from..=to`.
    fn interface_error_counts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErrorCodeRow>>;
    fn import_progress(&self, file_hash: &str) -> Result<Option<ImportProgress>>;
    fn record_import_progress(&self, p: &ImportProgress) -> Result<()>;
    /// Keeps the ACKs of committed messages of an import (by message index in the file)
    /// until they are written out; call it in the batch's transaction.
    fn record_pending_acks(&self, file_hash: &str, acks: &[(u64, String)]) -> Result<()>;
    /// ACKs committed but not yet confirmed written, in message order.
    fn pending_acks(&self, file_hash: &str) -> Result<Vec<(u64, String)>>;
    /// Forgets the pending ACKs up to `through` (inclusive): they are written.
    fn clear_pending_acks(&self, file_hash: &str, through: u64) -> Result<()>;
    /// Queues `patient` and `candidate` for a person to decide whether they are one
    /// person. Not queued again when the pair is waiting or was judged two people, when
    /// either record is merged, or when `candidate` already waits in
    /// [`MAX_OPEN_REVIEWS_PER_RECORD`] open pairs (the queue stays a few clusters, not
    /// every pair of a look-alike feed).
    fn flag_for_dedup_review(
        &self,
        patient: PatientId,
        candidate: PatientId,
        source: &str,
        at: NaiveDateTime,
    ) -> Result<()>;
    /// Open pairs, oldest first (the full queue with both records: `crate::dedup`).
    fn dedup_reviews(&self, limit: u32) -> Result<Vec<DedupReview>>;
}

/// A record joins at most this many open review pairs as the existing candidate.
pub const MAX_OPEN_REVIEWS_PER_RECORD: u32 = 3;
