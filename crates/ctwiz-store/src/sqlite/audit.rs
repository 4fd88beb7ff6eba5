use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, params_from_iter, Value};
use crate::traits::{AuditAction, AuditEntry, AuditFilter, AuditStore, Interface};
use ctwiz_core::ids::{ClinicPin, PatientId};

fn action_parse(s: &str) -> Result<AuditAction> {
    AuditAction::ALL
        .into_iter()
        .find(|a| a.key() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("audit action {s:?}")))
}

fn interface_parse(s: &str) -> Result<Interface> {
    Interface::ALL
        .into_iter()
        .find(|a| a.key() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("audit interface {s:?}")))
}

const COLUMNS: &str = "at, actor, patient_id, action, interface, detail, clinic";

fn entry(r: &crate::sql::Row<'_>) -> Result<AuditEntry> {
    Ok(AuditEntry {
        at: codec::datetime(&r.get::<String>(0)?)?,
        actor: r.get(1)?,
        patient: r.get::<Option<i64>>(2)?.map(PatientId),
        action: action_parse(&r.get::<String>(3)?)?,
        interface: interface_parse(&r.get::<String>(4)?)?,
        detail: r.get(5)?,
        clinic: r
            .get::<Option<String>>(6)?
            .map(|c| ClinicPin::new(&c))
            .transpose()?,
    })
}

impl AuditStore for SqliteStore {
    fn audit(&self, e: &AuditEntry) -> Result<()> {
        // Nothing is read back: on PostgreSQL the row goes with the next statement.
        self.conn.execute_deferred(
                "INSERT INTO audit_log (at, actor, patient_id, action, interface, detail, clinic) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                e.at.format(codec::DATETIME).to_string(),
                e.actor,
                e.patient.map(|p| p.0),
                e.action.key(),
                e.interface.key(),
                e.detail,
                e.clinic.as_ref().map(|c| c.as_str()),
            ])?;
        Ok(())
    }

    fn audit_for_patient(&self, id: PatientId, limit: u32) -> Result<Vec<AuditEntry>> {
        self.audit_query(&AuditFilter {
            patient: Some(id),
            limit,
            ..AuditFilter::default()
        })
    }

    fn audit_query(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(p) = f.patient {
            sql.push_str(" AND patient_id = ?");
            args.push(Value::Integer(p.0));
        }
        if let Some(u) = &f.user {
            // The label is `door:user`, or `door:user@clinic` with the clinic column set
            // (usernames may hold `@` themselves).
            sql.push_str(
                " AND (substr(actor, instr(actor, ':') + 1) = ?
                  OR substr(actor, instr(actor, ':') + 1) = ? || '@' || clinic)",
            );
            args.push(Value::Text(u.clone()));
            args.push(Value::Text(u.clone()));
        }
        if let Some(a) = &f.actor {
            sql.push_str(" AND actor = ?");
            args.push(Value::Text(a.clone()));
        }
        if let Some(t) = f.since {
            sql.push_str(" AND at >= ?");
            args.push(Value::Text(t.format(codec::DATETIME).to_string()));
        }
        if let Some(t) = f.until {
            sql.push_str(" AND at < ?");
            args.push(Value::Text(t.format(codec::DATETIME).to_string()));
        }
        let limit = if f.limit == 0 { 1000 } else { f.limit };
        sql.push_str(" ORDER BY at DESC, id DESC LIMIT ?");
        args.push(Value::Integer(limit.into()));
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query(params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(entry(r)?);
        }
        Ok(out)
    }
}
