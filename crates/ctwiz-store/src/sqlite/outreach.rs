//! SQLite implementation of [`crate::outreach::OutreachStore`].

use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::outreach::{NewReferral, OutreachStore, ReferralFilter};
use crate::sql::{params, Row};
use chrono::NaiveDateTime;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::outreach::{Attempt, AttemptMethod, Outcome, Referral};

const COLUMNS: &str = "id, patient_id, clinic_pin, iap_area, reason, referred_by, referred_at,
     outcome, outcome_at, outcome_by, outcome_note";

fn time(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, codec::DATETIME)
        .map_err(|e| StoreError::Corrupt(format!("referral time {s:?}: {e}")))
}

impl SqliteStore {
    fn referral_row(&self, r: &Row<'_>) -> Result<Referral> {
        let outcome = match r.get::<Option<String>>(7)? {
            Some(o) => Some((
                codec::stored("outcome", Outcome::parse(&o))?,
                time(&r.get::<String>(8)?)?,
                r.get::<String>(9)?,
            )),
            None => None,
        };
        Ok(Referral {
            id: r.get(0)?,
            patient: PatientId(r.get(1)?),
            clinic: codec::stored("clinic PIN", ClinicPin::new(&r.get::<String>(2)?))?,
            iap_area: r.get(3)?,
            reason: r.get(4)?,
            referred_by: r.get(5)?,
            referred_at: time(&r.get::<String>(6)?)?,
            attempts: Vec::new(),
            outcome,
            outcome_note: r.get(10)?,
        })
    }

    fn with_attempts(&self, mut r: Referral) -> Result<Referral> {
        let mut st = self.conn.prepare_cached(
            "SELECT at, by_actor, method, note FROM referral_attempts
              WHERE referral_id = ?1 ORDER BY at, rowid",
        )?;
        let mut rows = st.query([r.id])?;
        while let Some(ref a) = rows.next()? {
            r.attempts.push(Attempt {
                at: time(&a.get::<String>(0)?)?,
                by: a.get(1)?,
                method: codec::stored(
                    "attempt method",
                    AttemptMethod::parse(&a.get::<String>(2)?),
                )?,
                note: a.get(3)?,
            });
        }
        Ok(r)
    }

    fn referrals_where(
        &self,
        sql_where: &str,
        args: &[&dyn crate::sql::ToSql],
    ) -> Result<Vec<Referral>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM referrals WHERE {sql_where} ORDER BY referred_at DESC, id DESC"
        ))?;
        let mut rows = st.query(args)?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(self.referral_row(r)?);
        }
        out.into_iter().map(|r| self.with_attempts(r)).collect()
    }
}

impl OutreachStore for SqliteStore {
    fn create_referral(&self, r: &NewReferral) -> Result<i64> {
        let done = self
            .conn
            .prepare_cached(
                "INSERT INTO referrals (patient_id, clinic_pin, iap_area, reason, referred_by, referred_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                r.patient.0,
                r.clinic.as_str(),
                r.iap_area,
                r.reason,
                r.referred_by,
                r.referred_at.format(codec::DATETIME).to_string()
            ]);
        match done {
            Ok(_) => Ok(self.conn.last_insert_rowid()?),
            Err(e) if e.is_constraint_violation() => Err(StoreError::Conflict(format!(
                "patient {} already has an open referral",
                r.patient
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn referral(&self, id: i64) -> Result<Option<Referral>> {
        Ok(self.referrals_where("id = ?1", &[&id])?.pop())
    }

    fn open_referral_for(&self, patient: PatientId) -> Result<Option<Referral>> {
        Ok(self
            .referrals_where("patient_id = ?1 AND outcome IS NULL", &[&patient.0])?
            .pop())
    }

    fn referrals(&self, f: &ReferralFilter) -> Result<Vec<Referral>> {
        let area = f.iap_area.as_deref();
        let clinic = f.clinic.as_ref().map(|c| c.as_str());
        self.referrals_where(
            "(CAST(?1 AS TEXT) IS NULL OR iap_area = ?1) AND (CAST(?2 AS TEXT) IS NULL OR clinic_pin = ?2)
             AND (?3 = 0 OR outcome IS NULL)",
            &[&area, &clinic, &f.open_only],
        )
    }

    fn add_referral_attempt(&self, id: i64, a: &Attempt) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO referral_attempts (referral_id, at, by_actor, method, note)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id,
                a.at.format(codec::DATETIME).to_string(),
                a.by,
                a.method.key(),
                a.note
            ])?;
        Ok(())
    }

    fn close_referral(
        &self,
        id: i64,
        outcome: Outcome,
        note: &str,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE referrals SET outcome = ?2, outcome_at = ?3, outcome_by = ?4, outcome_note = ?5
                  WHERE id = ?1 AND outcome IS NULL",
            )?
            .execute(params![
                id,
                outcome.key(),
                at.format(codec::DATETIME).to_string(),
                by,
                note
            ])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "referral {id} is closed or does not exist"
            )));
        }
        Ok(())
    }
}
