//! Clinic change requests (name, address, staff: approved by the state before they apply)
//! and the per-user notifications that tell a requester what was decided. The rules live
//! in `ctwiz_core::clinic_info`; the use cases in `usecase::clinic_info` and
//! `usecase::notifications`.

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::clinic_info::{ChangeRequest, ChangeStatus, ClinicChange};
use ctwiz_core::ids::{ClinicPin, UserId};

/// Stored change requests.
pub trait ChangeRequestStore {
    /// Records a pending request; returns its id.
    fn create_change_request(
        &self,
        clinic: &ClinicPin,
        change: &ClinicChange,
        requested_by: &str,
        requester: Option<UserId>,
        now: NaiveDateTime,
    ) -> Result<i64>;
    fn change_request(&self, id: i64) -> Result<Option<ChangeRequest>>;
    /// Requests of one clinic (or all) in one status (or any), newest first.
    fn change_requests(
        &self,
        clinic: Option<&ClinicPin>,
        status: Option<ChangeStatus>,
    ) -> Result<Vec<ChangeRequest>>;
    /// Decides a pending request; a request already decided is a `Conflict`.
    fn decide_change_request(
        &self,
        id: i64,
        status: ChangeStatus,
        reviewer: &str,
        reason: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<()>;
}

/// What a notification is about (its screen and its icon on the list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    ChangeRequestDecision,
    AccountDecision,
    OrderDecision,
    StockAlert,
    Report,
    /// A practice referred a child to the IAP area.
    Referral,
    /// DPH moved the clinic's onboarding to another stage.
    Onboarding,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 7] = [
        NotificationKind::ChangeRequestDecision,
        NotificationKind::AccountDecision,
        NotificationKind::OrderDecision,
        NotificationKind::StockAlert,
        NotificationKind::Report,
        NotificationKind::Referral,
        NotificationKind::Onboarding,
    ];

    pub fn key(self) -> &'static str {
        match self {
            NotificationKind::ChangeRequestDecision => "change-request",
            NotificationKind::AccountDecision => "account",
            NotificationKind::OrderDecision => "order",
            NotificationKind::StockAlert => "stock",
            NotificationKind::Report => "report",
            NotificationKind::Referral => "referral",
            NotificationKind::Onboarding => "onboarding",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::ChangeRequestDecision => "Clinic change request",
            NotificationKind::AccountDecision => "Account",
            NotificationKind::OrderDecision => "Vaccine order",
            NotificationKind::StockAlert => "Stock alert",
            NotificationKind::Report => "Report",
            NotificationKind::Referral => "IAP referral",
            NotificationKind::Onboarding => "Onboarding",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        Self::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// One notification to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub user: UserId,
    pub created_at: NaiveDateTime,
    pub kind: NotificationKind,
    pub message: String,
    /// The screen where the user acts on it (a path of this app).
    pub link: String,
    pub read_at: Option<NaiveDateTime>,
}

/// Stored notifications.
pub trait NotificationStore {
    fn notify(
        &self,
        user: UserId,
        kind: NotificationKind,
        message: &str,
        link: &str,
        now: NaiveDateTime,
    ) -> Result<i64>;
    /// The user's notifications created at or after `since`, newest first.
    fn notifications(&self, user: UserId, since: NaiveDateTime) -> Result<Vec<Notification>>;
    /// How many of them are unread.
    fn unread_notifications(&self, user: UserId, since: NaiveDateTime) -> Result<usize>;
    /// Marks the user's notification `id` read (once; the first time is kept) and returns
    /// it; `None` when the user has no such notification.
    fn mark_notification_read(
        &self,
        user: UserId,
        id: i64,
        now: NaiveDateTime,
    ) -> Result<Option<Notification>>;
    /// Deletes notifications created before `before`; returns how many.
    fn purge_notifications(&self, before: NaiveDateTime) -> Result<usize>;
}
