//! SQLite implementation of [`crate::agreements::AgreementStore`].

use super::codec;
use super::SqliteStore;
use crate::agreements::AgreementStore;
use crate::error::Result;
use crate::sql::params;
use ctwiz_core::agreement::{Program, Signature};
use ctwiz_core::ids::ClinicPin;

impl AgreementStore for SqliteStore {
    fn add_signature(&self, s: &Signature) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO agreement_signatures (clinic_pin, program, version, typed_name, signed_by, signed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                s.clinic.as_str(),
                s.program.key(),
                s.version,
                s.typed_name,
                s.signed_by,
                s.signed_at.format(codec::DATETIME).to_string()
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn signatures(&self, clinic: Option<&ClinicPin>) -> Result<Vec<Signature>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin, program, version, typed_name, signed_by, signed_at
               FROM agreement_signatures WHERE CAST(?1 AS TEXT) IS NULL OR clinic_pin = ?1
              ORDER BY signed_at DESC, id DESC",
        )?;
        let rows = st.query_map([clinic.map(|c| c.as_str())], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (pin, program, version, typed_name, signed_by, at) = row?;
            out.push(Signature {
                clinic: codec::stored("clinic_pin", ClinicPin::new(&pin))?,
                program: codec::stored("program", Program::parse(&program))?,
                version,
                typed_name,
                signed_by,
                signed_at: codec::datetime(&at)?,
            });
        }
        Ok(out)
    }
}
