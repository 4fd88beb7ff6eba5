//! SQLite implementation of [`crate::reporting::ReportingStore`].

use super::codec;
use super::SqliteStore;
use crate::error::Result;
use crate::reporting::ReportingStore;
use crate::sql::params;
use chrono::NaiveDate;
use ctwiz_core::assessment::realtime::DoseReport;
use ctwiz_core::ids::ClinicPin;

impl ReportingStore for SqliteStore {
    fn administered_doses(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DoseReport>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin, date, recorded_at, sender_id IS NOT NULL FROM doses
              WHERE date BETWEEN ?1 AND ?2 AND source = '00' AND completion IN ('CP', 'PA')
                AND deleted_reason IS NULL AND clinic_pin IS NOT NULL",
        )?;
        let rows = st.query_map(params![from.to_string(), to.to_string()], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<bool>(3)?,
            ))
        })?;
        rows.map(|r| {
            let (pin, given, recorded, hl7) = r?;
            Ok(DoseReport {
                clinic: ClinicPin::new(&pin)?,
                given: codec::date(&given)?,
                recorded_at: codec::datetime(&recorded)?,
                via_hl7: hl7,
            })
        })
        .collect()
    }
}
