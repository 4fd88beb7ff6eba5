//! SQLite implementation of the interface stores (see `crate::interface`).

use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::interface::MAX_OPEN_REVIEWS_PER_RECORD;
use crate::interface::{
    AckResult, ActivityRow, DedupReview, ErrorCodeRow, ImportProgress, InterfaceStatus,
    InterfaceStore, LoggedError, MessageLogEntry,
};
use crate::sql::{params, OptionalExtension};
use crate::traits::Interface;
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::ids::{ClinicPin, PatientId};

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

fn interface_parse(s: &str) -> Result<Interface> {
    Interface::ALL
        .into_iter()
        .find(|i| i.key() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("interface {s:?}")))
}

/// `from..=to` as received_at text bounds.
fn day_bounds(from: NaiveDate, to: NaiveDate) -> (String, String) {
    (
        format!("{} 00:00:00", codec::date_text(from)),
        format!("{} 23:59:59", codec::date_text(to)),
    )
}

/// A message-log row (see `log_message`).
const INSERT_MESSAGE: &str =
    "INSERT INTO message_log (facility, clinic_pin, message_type, control_id, result, mode,
     interface, received_at, processed_at, patient_id, doses, late_doses, warnings)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

impl InterfaceStore for SqliteStore {
    fn atomically<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.in_transaction(f)
    }

    fn atomically_unguarded<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<Option<T>> {
        self.in_transaction_unguarded(f)
    }

    fn interface_status(&self, clinic: &ClinicPin) -> Result<InterfaceStatus> {
        let s: Option<String> = self.while_locked(
            |h| h.interface_status.get(clinic.as_str()).cloned(),
            |h, v| {
                h.interface_status.insert(clinic.as_str().to_string(), v);
            },
            || {
                Ok(self
                    .conn
                    .prepare_cached("SELECT status FROM interface_status WHERE clinic_pin = ?1")?
                    .query_row([clinic.as_str()], |r| r.get(0))
                    .optional()?)
            },
        )?;
        s.map_or(Ok(InterfaceStatus::Production), |s| {
            InterfaceStatus::parse(&s)
        })
    }

    fn set_interface_status(
        &self,
        clinic: &ClinicPin,
        status: InterfaceStatus,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.held
            .borrow_mut()
            .interface_status
            .remove(clinic.as_str());
        self.conn.execute(
            "INSERT INTO interface_status (clinic_pin, status, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (clinic_pin) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            params![clinic.as_str(), status.key(), ts(at)],
        )?;
        Ok(())
    }

    fn log_message(&self, e: &MessageLogEntry) -> Result<()> {
        let warnings = e.errors.iter().filter(|x| x.severity == "W").count() as i64;
        let row = params![
            e.facility,
            e.clinic.as_ref().map(|c| c.as_str()),
            e.message_type,
            e.control_id,
            e.result.code(),
            e.mode.key(),
            e.interface.key(),
            ts(e.received_at),
            ts(e.processed_at),
            e.patient.map(|p| p.0),
            e.doses,
            e.late_doses,
            warnings,
        ];
        if self.conn.dialect() == crate::sql::Dialect::Postgres {
            // One statement, the errors with their message (data-modifying CTE), and
            // deferred: no round trip of its own.
            if e.errors.is_empty() {
                return Ok(self.conn.execute_deferred(INSERT_MESSAGE, row)?);
            }
            let mut args: Vec<&dyn crate::sql::ToSql> = row.to_vec();
            let mut rows = Vec::with_capacity(e.errors.len());
            for x in &e.errors {
                let first = args.len() + 1;
                args.extend([
                    &x.severity as &dyn crate::sql::ToSql,
                    &x.hl7_code,
                    &x.app_code,
                    &x.location,
                    &x.text,
                ]);
                rows.push(format!("({})", super::doses::placeholders(first, 5)));
            }
            let sql = format!(
                "WITH m AS ({INSERT_MESSAGE} RETURNING id)
                 INSERT INTO message_errors (message_id, severity, hl7_code, app_code, location, text)
                 SELECT m.id, e.* FROM m, (VALUES {}) AS e",
                rows.join(", ")
            );
            // Each error row's foreign-key check runs a plan the server keeps per
            // connection, made when it first ran: in a new database, while message_log was
            // nearly empty, a scan of the whole table, kept as the table grows (an import
            // into a fresh database: milliseconds per error row by 20,000 messages). A plan
            // made for each check sees the table as it is (an index look-up).
            self.conn
                .execute_batch_deferred("SET plan_cache_mode = force_custom_plan")?;
            self.conn.execute_deferred(&sql, args.as_slice())?;
            self.conn.execute_batch_deferred("RESET plan_cache_mode")?;
            return Ok(());
        }
        let id = self.conn.insert_returning_id(INSERT_MESSAGE, row)?;
        if !e.errors.is_empty() {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO message_errors (message_id, severity, hl7_code, app_code, location, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for x in &e.errors {
                st.execute(params![
                    id, x.severity, x.hl7_code, x.app_code, x.location, x.text
                ])?;
            }
        }
        Ok(())
    }

    fn message_log(&self, facility: Option<&str>, limit: u32) -> Result<Vec<MessageLogEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, facility, clinic_pin, message_type, control_id, result, mode, interface,
                    received_at, processed_at, patient_id, doses, late_doses
             FROM message_log WHERE CAST(?1 AS TEXT) IS NULL OR facility = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![facility, limit], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Option<String>>(2)?,
                    r.get::<String>(3)?,
                    r.get::<String>(4)?,
                    r.get::<String>(5)?,
                    r.get::<String>(6)?,
                    r.get::<String>(7)?,
                    r.get::<String>(8)?,
                    r.get::<String>(9)?,
                    r.get::<Option<i64>>(10)?,
                    r.get::<u32>(11)?,
                    r.get::<u32>(12)?,
                ))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut errs = self.conn.prepare_cached(
            "SELECT severity, hl7_code, app_code, location, text FROM message_errors
             WHERE message_id = ?1 ORDER BY rowid",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, fac, clinic, mt, cid, result, mode, iface, rec, proc_, pat, doses, late) in rows {
            let errors = errs
                .query_map([id], |r| {
                    Ok(LoggedError {
                        severity: r.get(0)?,
                        hl7_code: r.get(1)?,
                        app_code: r.get(2)?,
                        location: r.get(3)?,
                        text: r.get(4)?,
                    })
                })?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.push(MessageLogEntry {
                facility: fac,
                clinic: clinic
                    .map(|c| codec::stored("clinic_pin", ClinicPin::new(&c)))
                    .transpose()?,
                message_type: mt,
                control_id: cid,
                result: AckResult::parse(&result)?,
                mode: InterfaceStatus::parse(&mode)?,
                interface: interface_parse(&iface)?,
                received_at: codec::datetime(&rec)?,
                processed_at: codec::datetime(&proc_)?,
                patient: pat.map(PatientId),
                doses,
                late_doses: late,
                errors,
            });
        }
        Ok(out)
    }

    fn interface_activity(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ActivityRow>> {
        let (lo, hi) = day_bounds(from, to);
        let mut st = self.conn.prepare_cached(
            "SELECT facility, substr(received_at, 1, 10) AS day, COUNT(*),
                    SUM(CASE WHEN result = 'AA' THEN 1 ELSE 0 END), SUM(CASE WHEN result = 'AE' THEN 1 ELSE 0 END), SUM(CASE WHEN result = 'AR' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN warnings > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN late_doses > 0 THEN 1 ELSE 0 END), SUM(late_doses), SUM(CASE WHEN mode = 'qa' THEN 1 ELSE 0 END)
             FROM message_log WHERE received_at BETWEEN ?1 AND ?2
             GROUP BY facility, day ORDER BY facility, day",
        )?;
        let rows = st
            .query_map(params![lo, hi], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    [
                        r.get::<i64>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<i64>(4)?,
                        r.get::<i64>(5)?,
                        r.get::<i64>(6)?,
                        r.get::<i64>(7)?,
                        r.get::<i64>(8)?,
                        r.get::<i64>(9)?,
                    ],
                ))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(facility, day, n)| {
                let n = n.map(|v| v.max(0) as u64);
                Ok(ActivityRow {
                    facility,
                    day: codec::date(&day)?,
                    received: n[0],
                    accepted: n[1],
                    errors: n[2],
                    rejected: n[3],
                    with_warnings: n[4],
                    late_reports: n[5],
                    late_doses: n[6],
                    qa: n[7],
                })
            })
            .collect()
    }

    fn interface_error_counts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ErrorCodeRow>> {
        let (lo, hi) = day_bounds(from, to);
        let mut st = self.conn.prepare_cached(
            "SELECT m.facility, substr(m.received_at, 1, 10) AS day, e.severity, e.hl7_code,
                    e.app_code, COUNT(*)
             FROM message_errors e JOIN message_log m ON m.id = e.message_id
             WHERE m.received_at BETWEEN ?1 AND ?2
             GROUP BY m.facility, day, e.severity, e.hl7_code, e.app_code
             ORDER BY m.facility, day, e.severity, e.hl7_code, e.app_code",
        )?;
        let rows = st
            .query_map(params![lo, hi], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<String>(3)?,
                    r.get::<Option<String>>(4)?,
                    r.get::<i64>(5)?,
                ))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(facility, day, severity, hl7_code, app_code, n)| {
                Ok(ErrorCodeRow {
                    facility,
                    day: codec::date(&day)?,
                    severity,
                    hl7_code,
                    app_code,
                    count: n.max(0) as u64,
                })
            })
            .collect()
    }

    fn import_progress(&self, file_hash: &str) -> Result<Option<ImportProgress>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT file_hash, path, messages_done, complete FROM import_progress WHERE file_hash = ?1",
            )?
            .query_row([file_hash], |r| {
                Ok(ImportProgress {
                    file_hash: r.get(0)?,
                    path: r.get(1)?,
                    messages_done: r.get::<i64>(2)?.max(0) as u64,
                    complete: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn record_import_progress(&self, p: &ImportProgress) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_progress (file_hash, path, messages_done, complete) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (file_hash) DO UPDATE SET path = excluded.path,
                   messages_done = excluded.messages_done, complete = excluded.complete",
            )?
            .execute(params![
                p.file_hash,
                p.path,
                p.messages_done as i64,
                p.complete
            ])?;
        Ok(())
    }

    fn record_pending_acks(&self, file_hash: &str, acks: &[(u64, String)]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO import_pending_acks (file_hash, message_index, ack) VALUES (?1, ?2, ?3)
             ON CONFLICT (file_hash, message_index) DO UPDATE SET ack = excluded.ack",
        )?;
        for (i, ack) in acks {
            st.execute(params![file_hash, *i as i64, ack])?;
        }
        Ok(())
    }

    fn pending_acks(&self, file_hash: &str) -> Result<Vec<(u64, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT message_index, ack FROM import_pending_acks WHERE file_hash = ?1 ORDER BY message_index",
        )?;
        let rows = st.query_map(params![file_hash], |r| {
            Ok((r.get::<i64>(0)? as u64, r.get::<String>(1)?))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn clear_pending_acks(&self, file_hash: &str, through: u64) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM import_pending_acks WHERE file_hash = ?1 AND message_index <= ?2",
            )?
            .execute(params![file_hash, through as i64])?;
        Ok(())
    }

    fn flag_for_dedup_review(
        &self,
        patient: PatientId,
        candidate: PatientId,
        source: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                // A pair already waiting, or already judged to be two people, is not
                // queued again; nor is a merged record.
                "INSERT INTO dedup_review (patient_id, candidate_id, source, created_at)
                 SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), ?3, ?4 WHERE ?1 != ?2
                 AND NOT EXISTS (SELECT 1 FROM dedup_review WHERE status IN ('open', 'dismissed')
                     AND ((patient_id = ?1 AND candidate_id = ?2) OR (patient_id = ?2 AND candidate_id = ?1)))
                 AND NOT EXISTS (SELECT 1 FROM patients WHERE id IN (?1, ?2) AND merged_into IS NOT NULL)
                 AND (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND patient_id = ?2)
                   + (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND candidate_id = ?2) < ?5",
            )?
            .execute(params![patient.0, candidate.0, source, ts(at), MAX_OPEN_REVIEWS_PER_RECORD])?;
        Ok(())
    }

    fn dedup_reviews(&self, limit: u32) -> Result<Vec<DedupReview>> {
        let mut st = self.conn.prepare_cached(
            "SELECT patient_id, candidate_id, source FROM dedup_review WHERE status = 'open' ORDER BY id LIMIT ?1",
        )?;
        let rows = st
            .query_map([limit], |r| {
                Ok(DedupReview {
                    patient: PatientId(r.get(0)?),
                    candidate: PatientId(r.get(1)?),
                    source: r.get(2)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interface::InterfaceStore;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, d)
            .and_then(|x| x.and_hms_opt(h, 0, 0))
            .expect("valid test date")
    }

    fn entry(
        fac: &str,
        result: AckResult,
        day: u32,
        late: u32,
        errs: &[(&str, &str)],
    ) -> MessageLogEntry {
        MessageLogEntry {
            facility: fac.into(),
            clinic: None,
            message_type: "VXU^V04".into(),
            control_id: "1".into(),
            result,
            mode: InterfaceStatus::Production,
            interface: Interface::Soap,
            received_at: at(day, 9),
            processed_at: at(day, 9),
            patient: None,
            doses: 1,
            late_doses: late,
            errors: errs
                .iter()
                .map(|(s, c)| LoggedError {
                    severity: (*s).into(),
                    hl7_code: (*c).into(),
                    app_code: Some("5".into()),
                    location: "RXA-5".into(),
                    text: "x".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn activity_counts_per_facility_and_day() {
        let s = SqliteStore::open_in_memory().expect("store");
        s.log_message(&entry("A", AckResult::Accepted, 1, 0, &[("W", "103")]))
            .expect("log");
        s.log_message(&entry(
            "A",
            AckResult::Error,
            1,
            1,
            &[("E", "103"), ("W", "103")],
        ))
        .expect("log");
        s.log_message(&entry("A", AckResult::Rejected, 2, 0, &[("E", "200")]))
            .expect("log");
        s.log_message(&entry("B", AckResult::Accepted, 1, 2, &[]))
            .expect("log");
        let rows = s
            .interface_activity(at(1, 0).date(), at(2, 0).date())
            .expect("activity");
        assert_eq!(rows.len(), 3);
        let a1 = &rows[0];
        assert_eq!(
            (a1.facility.as_str(), a1.received, a1.accepted, a1.errors),
            ("A", 2, 1, 1)
        );
        assert_eq!(
            (a1.with_warnings, a1.late_reports, a1.late_doses),
            (2, 1, 1)
        );
        assert_eq!(rows[1].rejected, 1);
        assert_eq!(rows[2].late_doses, 2);
        let errs = s
            .interface_error_counts(at(1, 0).date(), at(1, 0).date())
            .expect("errors");
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].severity.as_str(), errs[0].count), ("E", 1));
        assert_eq!((errs[1].severity.as_str(), errs[1].count), ("W", 2));
        let log = s.message_log(Some("A"), 10).expect("log");
        assert_eq!(log.len(), 3);
        assert_eq!(log[1].errors.len(), 2);
    }

    #[test]
    fn status_defaults_to_production_and_progress_upserts() {
        let s = SqliteStore::open_in_memory().expect("store");
        let pin = ClinicPin::new("C1").expect("pin");
        assert_eq!(
            s.interface_status(&pin).expect("status"),
            InterfaceStatus::Production
        );
        s.set_interface_status(&pin, InterfaceStatus::Qa, at(1, 1))
            .expect("set");
        assert_eq!(
            s.interface_status(&pin).expect("status"),
            InterfaceStatus::Qa
        );
        let mut p = ImportProgress {
            file_hash: "h".into(),
            path: "f".into(),
            messages_done: 3,
            complete: false,
        };
        s.record_import_progress(&p).expect("record");
        p.messages_done = 7;
        p.complete = true;
        s.record_import_progress(&p).expect("record");
        assert_eq!(s.import_progress("h").expect("read"), Some(p));
    }
}
