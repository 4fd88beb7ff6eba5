//! SQLite implementation of [`crate::distributions::DistributionStore`].

use super::codec;
use super::SqliteStore;
use crate::distributions::{Distribution, DistributionStore};
use crate::error::Result;
use crate::sql::{params, OptionalExtension, Row};
use chrono::NaiveDateTime;
use ctwiz_core::assessment::distribution::{DistributedChild, DistributionKind};
use ctwiz_core::ids::ClinicPin;

const COLUMNS: &str = "id, kind, period, clinic_pin, created_at, content, opened_at";

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

fn from_row(r: &Row<'_>) -> Result<Distribution> {
    let kind: String = r.get(1)?;
    let pin: String = r.get(3)?;
    Ok(Distribution {
        id: r.get(0)?,
        kind: DistributionKind::parse(&kind)?,
        period: r.get(2)?,
        clinic: ClinicPin::new(&pin)?,
        created_at: codec::datetime(&r.get::<String>(4)?)?,
        children: serde_json::from_str(&r.get::<String>(5)?)?,
        opened_at: r
            .get::<Option<String>>(6)?
            .map(|t| codec::datetime(&t))
            .transpose()?,
    })
}

impl DistributionStore for SqliteStore {
    fn claim_distribution(
        &self,
        kind: DistributionKind,
        period: &str,
        clinic: &ClinicPin,
        children: &[DistributedChild],
        now: NaiveDateTime,
    ) -> Result<Option<i64>> {
        let stored = self
            .conn
            .prepare_cached(
                "INSERT INTO distributions (kind, period, clinic_pin, created_at, children, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, period, clinic_pin) DO NOTHING",
            )?
            .execute(params![
                kind.key(),
                period,
                clinic.as_str(),
                ts(now),
                children.len() as i64,
                serde_json::to_string(children)?
            ])?;
        (stored == 1)
            .then(|| self.conn.last_insert_rowid())
            .transpose()
            .map_err(Into::into)
    }

    fn distribution(&self, id: i64) -> Result<Option<Distribution>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM distributions WHERE id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        rows.next()?.as_ref().map(from_row).transpose()
    }

    fn distributions(&self, clinic: &ClinicPin) -> Result<Vec<Distribution>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM distributions WHERE clinic_pin = ?1 ORDER BY created_at DESC, id DESC"
        ))?;
        let mut rows = st.query([clinic.as_str()])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(from_row(r)?);
        }
        Ok(out)
    }

    fn unopened_distributions(&self, clinic: &ClinicPin) -> Result<usize> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM distributions WHERE clinic_pin = ?1 AND opened_at IS NULL",
            )?
            .query_row([clinic.as_str()], |r| r.get(0))?;
        Ok(n as usize)
    }

    fn mark_distribution_opened(&self, id: i64, now: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE distributions SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL",
            )?
            .execute(params![id, ts(now)])?;
        Ok(())
    }

    fn distribution_run_finished(&self, kind: DistributionKind, period: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM distribution_runs WHERE kind = ?1 AND period = ?2")?
            .query_row(params![kind.key(), period], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn finish_distribution_run(
        &self,
        kind: DistributionKind,
        period: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO distribution_runs (kind, period, finished_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, period) DO NOTHING",
            )?
            .execute(params![kind.key(), period, ts(now)])?;
        Ok(())
    }
}
