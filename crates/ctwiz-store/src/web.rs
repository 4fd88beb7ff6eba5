//! Stores used by the web application: sessions, security questions, account requests,
//! the e-mail outbox and school rosters.

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::access::Role;
use ctwiz_core::ids::{ClinicPin, Email, PatientId, UserId, Username};
use serde::{Deserialize, Serialize};

/// A signed-in browser session. The store only ever sees a hash of the cookie token.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSession {
    pub user_id: UserId,
    /// Token that every form of this session must echo back.
    pub csrf: String,
    /// The clinic the user is acting for (multi-clinic users choose it).
    pub clinic: Option<ClinicPin>,
    pub created_at: NaiveDateTime,
    pub last_seen: NaiveDateTime,
}

/// One security question with the argon2 hash of its normalized answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityAnswer {
    pub question: String,
    pub answer_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn key(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }
}

/// One clinic named in an account request with the access type asked for there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedClinic {
    pub pin: ClinicPin,
    pub role: Role,
}

/// What a person fills in on the public request-an-account form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccountRequest {
    pub full_name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub clinics: Vec<RequestedClinic>,
    /// Access beyond clinics: a health department's jurisdiction, or DPH statewide.
    pub other: Option<ctwiz_core::access::Grant>,
    /// A school nurse confirmed `clinic_info::NURSE_ATTESTATION`.
    pub nurse_attested: bool,
}

/// A stored account request and its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRequest {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub request: NewAccountRequest,
    pub status: RequestStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub note: Option<String>,
    pub username: Option<Username>,
}

/// An e-mail waiting in (or sent from) the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEmail {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: Option<NaiveDateTime>,
}

pub trait WebStore {
    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        clinic: Option<&ClinicPin>,
        now: NaiveDateTime,
    ) -> Result<()>;
    fn session(&self, token_hash: &str) -> Result<Option<WebSession>>;
    fn touch_session(&self, token_hash: &str, now: NaiveDateTime) -> Result<()>;
    fn set_session_clinic(&self, token_hash: &str, clinic: Option<&ClinicPin>) -> Result<()>;
    fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Signs the user out everywhere (password reset, lock).
    fn delete_user_sessions(&self, user: UserId) -> Result<()>;
    /// Signs the user out everywhere except the session `keep` (after a password change).
    fn delete_other_sessions(&self, user: UserId, keep: &str) -> Result<()>;
    /// Removes sessions idle since before `idle_before`; returns how many.
    fn expire_sessions(&self, idle_before: NaiveDateTime) -> Result<u64>;

    /// Replaces the user's security questions.
    fn set_security_answers(&self, user: UserId, answers: &[SecurityAnswer]) -> Result<()>;
    fn security_answers(&self, user: UserId) -> Result<Vec<SecurityAnswer>>;
    /// The server's secret called `name`, made (256 random bits) on first use and kept.
    fn server_secret(&self, name: &str) -> Result<String>;

    fn create_account_request(&self, r: &NewAccountRequest, now: NaiveDateTime) -> Result<i64>;
    fn account_request(&self, id: i64) -> Result<Option<AccountRequest>>;
    /// Requests newest first, optionally only those with `status`.
    fn account_requests(&self, status: Option<RequestStatus>) -> Result<Vec<AccountRequest>>;
    /// Records the decision on a pending request; a request is decided once.
    fn decide_account_request(
        &self,
        id: i64,
        status: RequestStatus,
        by: &str,
        note: Option<&str>,
        username: Option<&Username>,
        now: NaiveDateTime,
    ) -> Result<()>;

    fn queue_email(&self, to: &Email, subject: &str, body: &str, now: NaiveDateTime)
        -> Result<i64>;
    /// Newest first.
    fn outbox(&self, limit: u32) -> Result<Vec<OutboxEmail>>;
    fn mark_email_sent(&self, id: i64, at: NaiveDateTime) -> Result<()>;
    /// Mail not yet handed to an SMTP server, oldest first.
    fn unsent_emails(&self, limit: u32) -> Result<Vec<OutboxEmail>>;
    /// Usernames of accounts registered with this e-mail address (forgot-username).
    fn usernames_for_email(&self, email: &Email) -> Result<Vec<Username>>;

    fn roster(&self, clinic: &ClinicPin) -> Result<Vec<PatientId>>;
    fn add_to_roster(
        &self,
        clinic: &ClinicPin,
        patient: PatientId,
        by: &str,
        now: NaiveDateTime,
    ) -> Result<()>;
    fn remove_from_roster(&self, clinic: &ClinicPin, patient: PatientId) -> Result<()>;
}
