//! SQLite implementation of change requests and notifications (see `crate::clinic_info`).

use super::codec;
use super::SqliteStore;
use crate::clinic_info::{ChangeRequestStore, Notification, NotificationKind, NotificationStore};
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension, Row};
use chrono::NaiveDateTime;
use ctwiz_core::clinic_info::{ChangeRequest, ChangeStatus, ClinicChange};
use ctwiz_core::ids::{ClinicPin, UserId};

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

fn opt_ts(s: Option<String>) -> Result<Option<NaiveDateTime>> {
    s.as_deref().map(codec::datetime).transpose()
}

const CHANGE_COLUMNS: &str = "id, clinic_pin, change, requested_by, requester_id, requested_at, status, reviewer, reviewed_at, reason";

fn change_from_row(r: &Row<'_>) -> Result<ChangeRequest> {
    let change: String = r.get(2)?;
    let change: ClinicChange = serde_json::from_str(&change)
        .map_err(|e| StoreError::Corrupt(format!("change request: {e}")))?;
    let status: String = r.get(6)?;
    Ok(ChangeRequest {
        id: r.get(0)?,
        clinic: codec::stored("clinic_pin", ClinicPin::new(&r.get::<String>(1)?))?,
        change,
        requested_by: r.get(3)?,
        requester: r.get::<Option<i64>>(4)?.map(UserId),
        requested_at: codec::datetime(&r.get::<String>(5)?)?,
        status: codec::stored("status", ChangeStatus::parse(&status))?,
        reviewer: r.get(7)?,
        reviewed_at: opt_ts(r.get(8)?)?,
        reason: r.get(9)?,
    })
}

impl ChangeRequestStore for SqliteStore {
    fn create_change_request(
        &self,
        clinic: &ClinicPin,
        change: &ClinicChange,
        requested_by: &str,
        requester: Option<UserId>,
        now: NaiveDateTime,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO clinic_change_requests (clinic_pin, change, requested_by, requester_id, requested_at, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
            )?
            .execute(params![
                clinic.as_str(),
                serde_json::to_string(change)?,
                requested_by,
                requester.map(|u| u.0),
                ts(now)
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn change_request(&self, id: i64) -> Result<Option<ChangeRequest>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CHANGE_COLUMNS} FROM clinic_change_requests WHERE id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        rows.next()?.as_ref().map(change_from_row).transpose()
    }

    fn change_requests(
        &self,
        clinic: Option<&ClinicPin>,
        status: Option<ChangeStatus>,
    ) -> Result<Vec<ChangeRequest>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CHANGE_COLUMNS} FROM clinic_change_requests
             WHERE (CAST(?1 AS TEXT) IS NULL OR clinic_pin = ?1) AND (CAST(?2 AS TEXT) IS NULL OR status = ?2) ORDER BY id DESC"
        ))?;
        let mut rows = st.query(params![clinic.map(|c| c.as_str()), status.map(|s| s.key())])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(change_from_row(r)?);
        }
        Ok(out)
    }

    fn decide_change_request(
        &self,
        id: i64,
        status: ChangeStatus,
        reviewer: &str,
        reason: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<()> {
        if status == ChangeStatus::Pending {
            return Err(StoreError::Conflict(
                "a decision must approve or reject the change request".into(),
            ));
        }
        let n = self
            .conn
            .prepare_cached(
                "UPDATE clinic_change_requests SET status = ?2, reviewer = ?3, reviewed_at = ?4, reason = ?5
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![id, status.key(), reviewer, ts(now), reason])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "change request {id} does not exist or was already decided"
            )));
        }
        Ok(())
    }
}

const NOTE_COLUMNS: &str = "id, user_id, created_at, kind, message, link, read_at";

fn note_from_row(r: &Row<'_>) -> Result<Notification> {
    let kind: String = r.get(3)?;
    Ok(Notification {
        id: r.get(0)?,
        user: UserId(r.get(1)?),
        created_at: codec::datetime(&r.get::<String>(2)?)?,
        kind: NotificationKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("notification kind {kind:?}")))?,
        message: r.get(4)?,
        link: r.get(5)?,
        read_at: opt_ts(r.get(6)?)?,
    })
}

impl NotificationStore for SqliteStore {
    fn notify(
        &self,
        user: UserId,
        kind: NotificationKind,
        message: &str,
        link: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO notifications (user_id, created_at, kind, message, link) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![user.0, ts(now), kind.key(), message, link])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn notifications(&self, user: UserId, since: NaiveDateTime) -> Result<Vec<Notification>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM notifications WHERE user_id = ?1 AND created_at >= ?2 ORDER BY created_at DESC, id DESC"
        ))?;
        let mut rows = st.query(params![user.0, ts(since)])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(note_from_row(r)?);
        }
        Ok(out)
    }

    fn unread_notifications(&self, user: UserId, since: NaiveDateTime) -> Result<usize> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND created_at >= ?2 AND read_at IS NULL",
            )?
            .query_row(params![user.0, ts(since)], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn mark_notification_read(
        &self,
        user: UserId,
        id: i64,
        now: NaiveDateTime,
    ) -> Result<Option<Notification>> {
        self.conn
            .prepare_cached(
                "UPDATE notifications SET read_at = ?3 WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL",
            )?
            .execute(params![id, user.0, ts(now)])?;
        self.conn
            .prepare_cached(&format!(
                "SELECT {NOTE_COLUMNS} FROM notifications WHERE id = ?1 AND user_id = ?2"
            ))?
            .query_row(params![id, user.0], |r| Ok(note_from_row(r)))
            .optional()?
            .transpose()
    }

    fn purge_notifications(&self, before: NaiveDateTime) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM notifications WHERE created_at < ?1")?
            .execute([ts(before)])?)
    }
}
