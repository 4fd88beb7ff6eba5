//! What the public portal keeps: verification challenges (a hashed bearer token, the
//! record it would open, the hashed code, tries), the short visits they open, the text
//! message outbox, and the releases of information recorded on a record.

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::ids::{PatientId, Phone};
use ctwiz_core::portal::{ChallengeState, ContactKind};

/// A challenge as stored. `patient` is `None` for a search that matched nothing: such a
/// challenge looks and behaves the same but never opens.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChallenge {
    pub id: i64,
    pub patient: Option<PatientId>,
    pub via: ContactKind,
    /// Keyed hash of the code (see `usecase::portal`); empty when nothing was sent.
    pub code_hash: String,
    pub state: ChallengeState,
}

/// An open portal visit: the record it shows and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalVisit {
    pub patient: PatientId,
    pub challenge: i64,
    pub expires_at: NaiveDateTime,
}

/// A text message waiting in (or sent from) the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMessage {
    pub id: i64,
    pub created_at: NaiveDateTime,
    /// Ten digits (`ctwiz_core::ids::Phone`).
    pub to: String,
    pub body: String,
    pub sent_at: Option<NaiveDateTime>,
}

/// A release of information: the record (or part of it) given to someone, authorized in
/// writing by the patient or guardian.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub id: i64,
    pub patient: PatientId,
    /// Who signed the authorization (the patient, or a parent or guardian by name).
    pub signed_by: String,
    /// The signer's relationship to the patient ("self", "mother", "legal guardian").
    pub relationship: String,
    /// Who receives the information (a school, a new provider, a camp).
    pub released_to: String,
    /// What was released (e.g. "complete immunization history", "school certificate").
    pub information: String,
    /// The date on the signed authorization.
    pub signed_on: chrono::NaiveDate,
    /// The user who recorded it, as in the audit log (`door:user@clinic`).
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

/// A release as entered, before the store assigns its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRelease {
    pub signed_by: String,
    pub relationship: String,
    pub released_to: String,
    pub information: String,
    pub signed_on: chrono::NaiveDate,
}

pub trait PortalStore {
    /// Stores a new challenge under the hash of its bearer token; returns its id.
    fn add_challenge(
        &self,
        token_hash: &str,
        patient: Option<PatientId>,
        via: ContactKind,
        code_hash: &str,
        now: NaiveDateTime,
    ) -> Result<i64>;
    fn challenge(&self, token_hash: &str) -> Result<Option<StoredChallenge>>;
    /// Stores the challenge's wrong-try count.
    fn set_challenge_tries(&self, id: i64, tries: u32) -> Result<()>;
    /// Marks the challenge used at `at`.
    fn use_challenge(&self, id: i64, at: NaiveDateTime) -> Result<()>;
    /// Challenges that sent a code for `patient` since `since` (the per-record limit).
    fn codes_sent_since(&self, patient: PatientId, since: NaiveDateTime) -> Result<u32>;

    fn add_visit(&self, token_hash: &str, visit: &PortalVisit, now: NaiveDateTime) -> Result<()>;
    fn visit(&self, token_hash: &str) -> Result<Option<PortalVisit>>;
    fn end_visit(&self, token_hash: &str) -> Result<()>;
    /// Forgets challenges and visits that ended before `before`; returns how many rows.
    fn expire_portal(&self, before: NaiveDateTime) -> Result<u64>;

    fn queue_text(&self, to: &Phone, body: &str, now: NaiveDateTime) -> Result<i64>;
    /// Newest first.
    fn texts(&self, limit: u32) -> Result<Vec<TextMessage>>;
    /// Texts not yet handed to the gateway, oldest first.
    fn unsent_texts(&self, limit: u32) -> Result<Vec<TextMessage>>;
    fn mark_text_sent(&self, id: i64, at: NaiveDateTime) -> Result<()>;

    fn add_release(
        &self,
        patient: PatientId,
        r: &NewRelease,
        recorded_by: &str,
        now: NaiveDateTime,
    ) -> Result<i64>;
    /// The record's releases, newest signature first.
    fn releases(&self, patient: PatientId) -> Result<Vec<Release>>;
}
