//! SQLite implementation of [`crate::allocations::AllocationStore`].

use super::codec;
use super::SqliteStore;
use crate::allocations::AllocationStore;
use crate::error::Result;
use crate::sql::params;
use chrono::NaiveDateTime;
use ctwiz_core::allocation::Allocation;
use ctwiz_core::ids::{ClinicPin, Cvx};

impl AllocationStore for SqliteStore {
    fn set_allocation(&self, a: &Allocation, by: &str, now: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO allocations (clinic_pin, cvx, first_day, last_day, doses, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (clinic_pin, cvx, first_day) DO UPDATE
                   SET last_day = excluded.last_day, doses = excluded.doses,
                       set_by = excluded.set_by, set_at = excluded.set_at",
            )?
            .execute(params![
                a.clinic.as_str(),
                a.cvx.as_str(),
                a.first.to_string(),
                a.last.to_string(),
                a.doses,
                by,
                now.format(codec::DATETIME).to_string()
            ])?;
        Ok(())
    }

    fn allocations(&self, clinic: Option<&ClinicPin>) -> Result<Vec<Allocation>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin, cvx, first_day, last_day, doses FROM allocations
              WHERE CAST(?1 AS TEXT) IS NULL OR clinic_pin = ?1
              ORDER BY first_day DESC, clinic_pin, cvx",
        )?;
        let rows = st.query_map([clinic.map(|c| c.as_str())], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<i64>(4)?,
            ))
        })?;
        rows.map(|r| {
            let (pin, cvx, first, last, doses) = r?;
            Ok(Allocation {
                clinic: ClinicPin::new(&pin)?,
                cvx: Cvx::new(&cvx)?,
                first: codec::date(&first)?,
                last: codec::date(&last)?,
                doses,
            })
        })
        .collect()
    }
}
