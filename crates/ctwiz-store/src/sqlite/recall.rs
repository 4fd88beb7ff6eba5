use super::codec;
use super::SqliteStore;
use crate::error::Result;
use crate::sql::{params, OptionalExtension};
use crate::traits::{RecallNotice, RecallStore};
use chrono::NaiveDate;
use ctwiz_core::ids::PatientId;

impl RecallStore for SqliteStore {
    fn record_recall_notices(&self, notices: &[RecallNotice]) -> Result<()> {
        self.in_transaction(|s| {
            let mut st = s.conn.prepare_cached(
                "INSERT INTO recall_notices (patient_id, sent_on, method, vaccine_groups, sent_by, scope)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for n in notices {
                st.execute(params![
                    n.patient.0,
                    codec::date_text(n.sent_on),
                    n.method,
                    n.vaccine_groups.join(";"),
                    n.sent_by,
                    n.scope
                ])?;
            }
            Ok(())
        })
    }

    fn last_recall_notice(&self, patient: PatientId) -> Result<Option<NaiveDate>> {
        let d: Option<String> = self
            .conn
            .prepare_cached("SELECT MAX(sent_on) FROM recall_notices WHERE patient_id = ?1")?
            .query_row([patient.0], |r| r.get(0))
            .optional()?
            .flatten();
        codec::opt_date(d)
    }

    fn last_recall_run(&self, scope: &str) -> Result<Option<NaiveDate>> {
        let d: Option<String> = self
            .conn
            .prepare_cached("SELECT MAX(sent_on) FROM recall_notices WHERE scope = ?1")?
            .query_row([scope], |r| r.get(0))
            .optional()?
            .flatten();
        codec::opt_date(d)
    }
}
