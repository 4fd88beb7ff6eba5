//! Dose records and stock: the dose link of movements, inventory exceptions and what the
//! lot usage report reads (inventory migration 2). The trait methods in `inventory.rs`
//! call these.

use super::codec::{self, stored};
use super::doses::{dose_from_row, DOSE_COLUMNS};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{json_integers, json_texts, params, OptionalExtension, Row};
use crate::traits::{
    ExceptionResolution, Interface, InventoryException, LotUsageData, NewException,
};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose_stock::ExceptionKind;
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, LotNumber, PatientId};
use ctwiz_core::lot_usage::{DoseRecord, LotMovement};

const EXCEPTION_COLUMNS: &str =
    "e.id, e.dose_id, d.patient_id, d.date, e.clinic_pin, e.kind, e.cvx, e.lot_number,
    e.raised_at, e.raised_by, e.interface, e.resolution, e.resolved_lot_id, e.resolution_note,
    e.resolved_by, e.resolved_at";

fn exception_from_row(r: &Row<'_>) -> Result<InventoryException> {
    Ok(InventoryException {
        id: r.get(0)?,
        dose: DoseId(r.get(1)?),
        patient: PatientId(r.get(2)?),
        dose_date: codec::date(&r.get::<String>(3)?)?,
        clinic: stored("clinic_pin", ClinicPin::new(&r.get::<String>(4)?))?,
        kind: stored("kind", ExceptionKind::parse(&r.get::<String>(5)?))?,
        cvx: stored("cvx", Cvx::new(&r.get::<String>(6)?))?,
        lot_number: stored("lot_number", LotNumber::new(&r.get::<String>(7)?))?,
        raised_at: codec::datetime(&r.get::<String>(8)?)?,
        raised_by: r.get(9)?,
        interface: r.get(10)?,
        resolution: r.get(11)?,
        resolved_lot: r.get(12)?,
        resolution_note: r.get(13)?,
        resolved_by: r.get(14)?,
        resolved_at: r
            .get::<Option<String>>(15)?
            .map(|s| codec::datetime(&s))
            .transpose()?,
    })
}

fn ts(at: NaiveDateTime) -> String {
    at.format(codec::DATETIME).to_string()
}

impl SqliteStore {
    pub(super) fn draws_of_dose(&self, dose: DoseId) -> Result<Vec<(i64, i64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT lot_id, -SUM(delta) FROM inventory_transactions
             WHERE dose_id = ?1 AND kind IN ('administer', 'give-back')
             GROUP BY lot_id HAVING SUM(delta) != 0 ORDER BY lot_id",
        )?;
        let rows = st.query_map([dose.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub(super) fn move_draws(&self, from: DoseId, to: DoseId) -> Result<()> {
        self.conn.execute(
            "UPDATE inventory_transactions SET dose_id = ?2 WHERE dose_id = ?1",
            params![from.0, to.0],
        )?;
        Ok(())
    }

    pub(super) fn insert_exception(&self, e: &NewException) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO inventory_exceptions (dose_id, clinic_pin, kind, cvx, lot_number, raised_at, raised_by, interface)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                e.dose.0,
                e.clinic.as_str(),
                e.kind.key(),
                e.cvx.as_str(),
                e.lot_number.as_str(),
                ts(e.at),
                e.by,
                e.interface.key()
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    pub(super) fn exceptions_where(
        &self,
        clinic: Option<&ClinicPin>,
        open_only: bool,
        id: Option<i64>,
    ) -> Result<Vec<InventoryException>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {EXCEPTION_COLUMNS} FROM inventory_exceptions e JOIN doses d ON d.id = e.dose_id
             WHERE (CAST(?1 AS TEXT) IS NULL OR e.clinic_pin = ?1) AND (?2 = 0 OR e.resolution IS NULL)
             AND (CAST(?3 AS BIGINT) IS NULL OR e.id = ?3)
             ORDER BY e.id DESC"
        ))?;
        let mut rows = st.query(params![clinic.map(|c| c.as_str()), open_only, id])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(exception_from_row(r)?);
        }
        Ok(out)
    }

    pub(super) fn close_exception(
        &self,
        id: i64,
        how: &ExceptionResolution,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        let (lot, note) = match how {
            ExceptionResolution::Linked { lot_id } => (Some(*lot_id), None),
            ExceptionResolution::NotFromStock { why } => (None, Some(why.trim())),
            ExceptionResolution::DoseChanged { note } => (None, Some(note.trim())),
        };
        let n = self.conn.execute(
            "UPDATE inventory_exceptions SET resolution = ?2, resolved_lot_id = ?3, resolution_note = ?4,
             resolved_by = ?5, resolved_at = ?6 WHERE id = ?1 AND resolution IS NULL",
            params![id, how.key(), lot, note, by, ts(at)],
        )?;
        if n == 0 {
            let known: Option<String> = self
                .conn
                .query_row(
                    "SELECT resolution FROM inventory_exceptions WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            return Err(match known {
                Some(r) => StoreError::Conflict(format!(
                    "inventory exception {id} is already resolved ({r})"
                )),
                None => StoreError::NotFound {
                    what: "inventory exception",
                    id: id.to_string(),
                },
            });
        }
        Ok(())
    }

    pub(super) fn open_exceptions_for(&self, dose: DoseId) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id FROM inventory_exceptions WHERE dose_id = ?1 AND resolution IS NULL ORDER BY id",
        )?;
        let rows = st.query_map([dose.0], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub(super) fn count_exceptions(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        interfaces: &[Interface],
    ) -> Result<Vec<(ClinicPin, ExceptionKind, i64)>> {
        let keys: Vec<&str> = interfaces.iter().map(|i| i.key()).collect();
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT clinic_pin, kind, COUNT(*) FROM inventory_exceptions
             WHERE raised_at >= ?1 AND raised_at < date(?2, '+1 day')
             AND interface IN ({})
             GROUP BY 1, 2 ORDER BY 1, 2",
            json_texts(self.conn.dialect(), "?3")
        ))?;
        let rows = st.query_map(
            params![
                codec::date_text(from),
                codec::date_text(to),
                serde_json::to_string(&keys)?
            ],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get(2)?)),
        )?;
        rows.map(|r| {
            let (c, k, n) = r?;
            Ok((
                stored("clinic_pin", ClinicPin::new(&c))?,
                stored("kind", ExceptionKind::parse(&k))?,
                n,
            ))
        })
        .collect()
    }

    pub(super) fn usage_data(&self, clinic: Option<&ClinicPin>) -> Result<LotUsageData> {
        let lots = self.lots_of(clinic)?;
        let ids: Vec<i64> = lots.iter().map(|(id, _, _)| *id).collect();
        let id_list = serde_json::to_string(&ids)?;
        let movements = {
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT lot_id, movement, at, dose_id FROM inventory_transactions
                 WHERE lot_id IN ({}) ORDER BY id",
                json_integers(self.conn.dialect(), "?1")
            ))?;
            let rows = st.query_map([&id_list], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<i64>>(3)?,
                ))
            })?;
            rows.map(|r| {
                let (lot_id, m, at, dose) = r?;
                Ok(LotMovement {
                    lot_id,
                    movement: serde_json::from_str(&m)?,
                    at: codec::datetime(&at)?,
                    dose: dose.map(DoseId),
                })
            })
            .collect::<Result<Vec<_>>>()?
        };
        // Records that drew from these lots, and live records naming one of them at its
        // clinic (exceptions included).
        let ids = json_integers(self.conn.dialect(), "?1");
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DOSE_COLUMNS}, deleted_reason IS NULL,
                EXISTS (SELECT 1 FROM inventory_exceptions e WHERE e.dose_id = doses.id
                        AND e.resolution = 'not-from-stock')
             FROM doses WHERE id IN (
                SELECT dose_id FROM inventory_transactions
                WHERE dose_id IS NOT NULL AND lot_id IN ({ids}))
             OR (deleted_reason IS NULL AND lot IS NOT NULL AND EXISTS (
                SELECT 1 FROM lots l WHERE l.id IN ({ids})
                AND l.clinic_pin = doses.clinic_pin AND l.lot_number = doses.lot AND l.cvx = doses.cvx))
             ORDER BY id"
        ))?;
        let mut rows = st.query([&id_list])?;
        let mut records = Vec::new();
        while let Some(ref r) = rows.next()? {
            let dose = dose_from_row(r)?;
            records.push(DoseRecord {
                patient: dose
                    .patient
                    .ok_or_else(|| StoreError::Corrupt("dose without patient".into()))?,
                dose,
                live: r.get(21)?,
                not_from_stock: r.get(22)?,
            });
        }
        Ok(LotUsageData {
            lots,
            movements,
            records,
        })
    }

    fn lots_of(
        &self,
        clinic: Option<&ClinicPin>,
    ) -> Result<Vec<(i64, ctwiz_core::inventory::Lot, i64)>> {
        use crate::traits::InventoryStore;
        let stocks = match clinic {
            Some(c) => self.lots(c)?,
            None => {
                let pins: Vec<String> = self
                    .conn
                    .prepare_cached("SELECT DISTINCT clinic_pin FROM lots ORDER BY 1")?
                    .query_map([], |r| r.get(0))?
                    .collect::<std::result::Result<_, _>>()?;
                let mut all = Vec::new();
                for p in pins {
                    all.extend(self.lots(&stored("clinic_pin", ClinicPin::new(&p))?)?);
                }
                all
            }
        };
        stocks
            .into_iter()
            .map(|s| {
                let id = s
                    .lot
                    .id
                    .ok_or_else(|| StoreError::Corrupt("lot without id".into()))?;
                Ok((id, s.lot, s.on_hand))
            })
            .collect()
    }
}
