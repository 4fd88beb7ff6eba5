use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::traits::{AuditAction, AuditEntry, AuditStore, Interface};
use ctwiz_core::ids::PatientId;
use rusqlite::params;

fn action_parse(s: &str) -> Result<AuditAction> {
    use AuditAction::*;
    [Read, Create, Update, Delete, Merge, Print]
        .into_iter()
        .find(|a| a.key() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("audit action {s:?}")))
}

fn interface_parse(s: &str) -> Result<Interface> {
    use Interface::*;
    [Web, Cli, Hl7, Soap, Batch, Portal]
        .into_iter()
        .find(|a| a.key() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("audit interface {s:?}")))
}

impl AuditStore for SqliteStore {
    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit_log (at, actor, patient_id, action, interface, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                e.at.format(codec::DATETIME).to_string(),
                e.actor,
                e.patient.map(|p| p.0),
                e.action.key(),
                e.interface.key(),
                e.detail
            ])?;
        Ok(())
    }

    fn audit_for_patient(&self, id: PatientId, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at, actor, patient_id, action, interface, detail FROM audit_log
             WHERE patient_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let mut rows = st.query(params![id.0, limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(AuditEntry {
                at: codec::datetime(&r.get::<_, String>(0)?)?,
                actor: r.get(1)?,
                patient: r.get::<_, Option<i64>>(2)?.map(PatientId),
                action: action_parse(&r.get::<_, String>(3)?)?,
                interface: interface_parse(&r.get::<_, String>(4)?)?,
                detail: r.get(5)?,
            });
        }
        Ok(out)
    }
}
