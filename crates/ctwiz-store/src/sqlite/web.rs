//! SQLite implementation of the web stores (see `crate::web`).

use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension, Row};
use crate::web::{
    AccountRequest, NewAccountRequest, OutboxEmail, RequestStatus, RequestedClinic, SecurityAnswer,
    WebSession, WebStore,
};
use chrono::NaiveDateTime;
use ctwiz_core::ids::{ClinicPin, Email, PatientId, UserId, Username};

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

fn opt_ts(s: Option<String>) -> Result<Option<NaiveDateTime>> {
    s.as_deref().map(codec::datetime).transpose()
}

fn status_parse(s: &str) -> Result<RequestStatus> {
    [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Rejected,
    ]
    .into_iter()
    .find(|x| x.key() == s)
    .ok_or_else(|| StoreError::Corrupt(format!("account request status {s:?}")))
}

const REQUEST_COLUMNS: &str =
    "id, created_at, full_name, email, phone, clinics, status, decided_by, decided_at, note, username, other_access, nurse_attested";

fn request_from_row(r: &Row<'_>) -> Result<AccountRequest> {
    let clinics: Vec<RequestedClinic> = serde_json::from_str(&r.get::<String>(5)?)?;
    Ok(AccountRequest {
        id: r.get(0)?,
        created_at: codec::datetime(&r.get::<String>(1)?)?,
        request: NewAccountRequest {
            full_name: r.get(2)?,
            email: stored("email", Email::new(&r.get::<String>(3)?))?,
            phone: r.get(4)?,
            clinics,
            other: r
                .get::<Option<String>>(11)?
                .map(|j| serde_json::from_str(&j))
                .transpose()?,
            nurse_attested: r.get(12)?,
        },
        status: status_parse(&r.get::<String>(6)?)?,
        decided_by: r.get(7)?,
        decided_at: opt_ts(r.get(8)?)?,
        note: r.get(9)?,
        username: r
            .get::<Option<String>>(10)?
            .map(|u| stored("username", Username::new(&u)))
            .transpose()?,
    })
}

impl SqliteStore {
    fn emails_where(&self, where_order: &str, limit: u32) -> Result<Vec<OutboxEmail>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, created_at, to_addr, subject, body, sent_at FROM outbox WHERE {where_order} LIMIT ?1"
        ))?;
        let mut rows = st.query([limit])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(OutboxEmail {
                id: r.get(0)?,
                created_at: codec::datetime(&r.get::<String>(1)?)?,
                to: r.get(2)?,
                subject: r.get(3)?,
                body: r.get(4)?,
                sent_at: opt_ts(r.get(5)?)?,
            });
        }
        Ok(out)
    }
}

impl WebStore for SqliteStore {
    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        clinic: Option<&ClinicPin>,
        now: NaiveDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, clinic_pin, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute(params![
                token_hash,
                user.0,
                csrf,
                clinic.map(|c| c.as_str()),
                ts(now)
            ])?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> Result<Option<WebSession>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT user_id, csrf, clinic_pin, created_at, last_seen FROM web_sessions WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Option<String>>(2)?,
                    r.get::<String>(3)?,
                    r.get::<String>(4)?,
                ))
            })
            .optional()?;
        row.map(|(user, csrf, clinic, created, seen)| {
            Ok(WebSession {
                user_id: UserId(user),
                csrf,
                clinic: clinic
                    .map(|c| stored("clinic PIN", ClinicPin::new(&c)))
                    .transpose()?,
                created_at: codec::datetime(&created)?,
                last_seen: codec::datetime(&seen)?,
            })
        })
        .transpose()
    }

    fn touch_session(&self, token_hash: &str, now: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE web_sessions SET last_seen = ?2 WHERE token_hash = ?1")?
            .execute(params![token_hash, ts(now)])?;
        Ok(())
    }

    fn set_session_clinic(&self, token_hash: &str, clinic: Option<&ClinicPin>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE web_sessions SET clinic_pin = ?2 WHERE token_hash = ?1")?
            .execute(params![token_hash, clinic.map(|c| c.as_str())])?;
        Ok(())
    }

    fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM web_sessions WHERE token_hash = ?1")?
            .execute([token_hash])?;
        Ok(())
    }

    fn delete_user_sessions(&self, user: UserId) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM web_sessions WHERE user_id = ?1")?
            .execute([user.0])?;
        Ok(())
    }

    fn delete_other_sessions(&self, user: UserId, keep: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM web_sessions WHERE user_id = ?1 AND token_hash <> ?2")?
            .execute(params![user.0, keep])?;
        Ok(())
    }

    fn expire_sessions(&self, idle_before: NaiveDateTime) -> Result<u64> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM web_sessions WHERE last_seen < ?1")?
            .execute([ts(idle_before)])?;
        Ok(n as u64)
    }

    fn set_security_answers(&self, user: UserId, answers: &[SecurityAnswer]) -> Result<()> {
        self.in_transaction(|s| {
            s.conn
                .prepare_cached("DELETE FROM security_answers WHERE user_id = ?1")?
                .execute([user.0])?;
            let mut ins = s.conn.prepare_cached(
                "INSERT INTO security_answers (user_id, position, question, answer_hash) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, a) in answers.iter().enumerate() {
                ins.execute(params![user.0, i as i64, a.question, a.answer_hash])?;
            }
            Ok(())
        })
    }

    fn security_answers(&self, user: UserId) -> Result<Vec<SecurityAnswer>> {
        let mut st = self.conn.prepare_cached(
            "SELECT question, answer_hash FROM security_answers WHERE user_id = ?1 ORDER BY position",
        )?;
        let rows = st.query_map([user.0], |r| {
            Ok(SecurityAnswer {
                question: r.get(0)?,
                answer_hash: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn server_secret(&self, name: &str) -> Result<String> {
        let read = |conn: &crate::sql::Conn| -> Result<Option<String>> {
            Ok(conn
                .prepare_cached("SELECT value FROM server_secrets WHERE name = ?1")?
                .query_row([name], |r| r.get(0))
                .optional()?)
        };
        // Read first: the public pages that use a secret write nothing once it exists.
        if let Some(v) = read(&self.conn)? {
            return Ok(v);
        }
        // The first use creates it; a process creating it at the same moment wins alike.
        self.conn
            .prepare_cached(
                "INSERT INTO server_secrets (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?
            .execute(params![name, crate::secret::random_token()])?;
        read(&self.conn)?
            .ok_or_else(|| crate::StoreError::Corrupt(format!("server secret {name} vanished")))
    }

    fn create_account_request(&self, r: &NewAccountRequest, now: NaiveDateTime) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO account_requests (created_at, full_name, email, phone, clinics, status, other_access, nurse_attested)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
            )?
            .execute(params![
                ts(now),
                r.full_name,
                r.email.as_str(),
                r.phone,
                serde_json::to_string(&r.clinics)?,
                r.other.as_ref().map(serde_json::to_string).transpose()?,
                r.nurse_attested,
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn account_request(&self, id: i64) -> Result<Option<AccountRequest>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM account_requests WHERE id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        rows.next()?.as_ref().map(request_from_row).transpose()
    }

    fn account_requests(&self, status: Option<RequestStatus>) -> Result<Vec<AccountRequest>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM account_requests WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1 ORDER BY id DESC"
        ))?;
        let mut rows = st.query([status.map(|s| s.key())])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(request_from_row(r)?);
        }
        Ok(out)
    }

    fn decide_account_request(
        &self,
        id: i64,
        status: RequestStatus,
        by: &str,
        note: Option<&str>,
        username: Option<&Username>,
        now: NaiveDateTime,
    ) -> Result<()> {
        if status == RequestStatus::Pending {
            return Err(StoreError::Conflict(
                "a decision must approve or reject the request".into(),
            ));
        }
        let n = self
            .conn
            .prepare_cached(
                "UPDATE account_requests SET status = ?2, decided_by = ?3, decided_at = ?4, note = ?5, username = ?6
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![
                id,
                status.key(),
                by,
                ts(now),
                note,
                username.map(|u| u.as_str())
            ])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "account request {id} does not exist or was already decided"
            )));
        }
        Ok(())
    }

    fn queue_email(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (created_at, to_addr, subject, body) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![ts(now), to.as_str(), subject, body])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn outbox(&self, limit: u32) -> Result<Vec<OutboxEmail>> {
        self.emails_where("1 = 1 ORDER BY id DESC", limit)
    }

    fn unsent_emails(&self, limit: u32) -> Result<Vec<OutboxEmail>> {
        self.emails_where("sent_at IS NULL ORDER BY id", limit)
    }

    fn mark_email_sent(&self, id: i64, at: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE outbox SET sent_at = ?2 WHERE id = ?1")?
            .execute(params![id, ts(at)])?;
        Ok(())
    }

    fn usernames_for_email(&self, email: &Email) -> Result<Vec<Username>> {
        let mut st = self.conn.prepare_cached(
            "SELECT username FROM users WHERE lower(email) = lower(?1) ORDER BY username",
        )?;
        let names: Vec<String> = st
            .query_map([email.as_str()], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        names
            .iter()
            .map(|n| stored("username", Username::new(n)))
            .collect()
    }

    fn roster(&self, clinic: &ClinicPin) -> Result<Vec<PatientId>> {
        let mut st = self.conn.prepare_cached(
            "SELECT patient_id FROM roster_students WHERE clinic_pin = ?1 ORDER BY patient_id",
        )?;
        let ids = st
            .query_map([clinic.as_str()], |r| Ok(PatientId(r.get(0)?)))?
            .collect::<std::result::Result<_, _>>()?;
        Ok(ids)
    }

    fn add_to_roster(
        &self,
        clinic: &ClinicPin,
        patient: PatientId,
        by: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO roster_students (clinic_pin, patient_id, added_by, added_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![clinic.as_str(), patient.0, by, ts(now)])
            .map_err(|e| match e {
                f if f.is_constraint_violation() =>
                {
                    StoreError::NotFound {
                        what: "patient",
                        id: patient.to_string(),
                    }
                }
                other => other.into(),
            })?;
        Ok(())
    }

    fn remove_from_roster(&self, clinic: &ClinicPin, patient: PatientId) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM roster_students WHERE clinic_pin = ?1 AND patient_id = ?2",
            )?
            .execute(params![clinic.as_str(), patient.0])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::web::*;
    use crate::{accounts, SqliteStore, UserStore};
    use ctwiz_core::access::{Role, User};
    use ctwiz_core::ids::{ClinicPin, Email, Username};

    fn now() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("valid date")
    }

    #[test]
    fn sessions_round_trip_and_expire() {
        let s = SqliteStore::open_in_memory().unwrap();
        let u = User::new(
            Username::new("aone").unwrap(),
            "A One",
            Email::new("a1@example.org").unwrap(),
        )
        .unwrap();
        let (id, _) = accounts::create_with_temporary_password(&s, &u).unwrap();
        let pin = ClinicPin::new("CT00001").unwrap();
        s.create_session("h1", id, "c1", Some(&pin), now()).unwrap();
        let got = s.session("h1").unwrap().unwrap();
        assert_eq!(got.clinic, Some(pin));
        assert_eq!(got.csrf, "c1");
        s.set_session_clinic("h1", None).unwrap();
        assert_eq!(s.session("h1").unwrap().unwrap().clinic, None);
        let later = now() + chrono::Duration::hours(2);
        assert_eq!(s.expire_sessions(later).unwrap(), 1);
        assert!(s.session("h1").unwrap().is_none());
        assert!(s.account_by_id(id).unwrap().is_some());
    }

    #[test]
    fn requests_are_decided_once() {
        let s = SqliteStore::open_in_memory().unwrap();
        let r = NewAccountRequest {
            full_name: "Pat Nurse".into(),
            email: Email::new("pat@example.org").unwrap(),
            phone: None,
            clinics: vec![RequestedClinic {
                pin: ClinicPin::new("CT00002").unwrap(),
                role: Role::ClinicAccess,
            }],
            other: None,
            nurse_attested: false,
        };
        let id = s.create_account_request(&r, now()).unwrap();
        assert_eq!(
            s.account_requests(Some(RequestStatus::Pending))
                .unwrap()
                .len(),
            1
        );
        s.decide_account_request(
            id,
            RequestStatus::Rejected,
            "state",
            Some("no"),
            None,
            now(),
        )
        .unwrap();
        assert!(s
            .decide_account_request(id, RequestStatus::Approved, "state", None, None, now())
            .is_err());
        let got = s.account_request(id).unwrap().unwrap();
        assert_eq!(got.status, RequestStatus::Rejected);
        assert_eq!(got.request, r);
    }

    #[test]
    fn nested_transactions_roll_back_together() {
        let s = SqliteStore::open_in_memory().unwrap();
        let to = Email::new("x@example.org").unwrap();
        let r: crate::Result<()> = s.in_transaction(|s| {
            s.queue_email(&to, "one", "body", now())?;
            s.in_transaction(|s| s.queue_email(&to, "two", "body", now()))?;
            Err(crate::StoreError::Conflict("stop".into()))
        });
        assert!(r.is_err());
        assert!(s.outbox(10).unwrap().is_empty());
    }
}
