use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::traits::{InventoryStore, LotStock};
use chrono::NaiveDateTime;
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use ctwiz_core::inventory::{apply, Lot, Movement, StockFunding};
use rusqlite::{params, Row};

const LOT_COLUMNS: &str =
    "l.id, l.clinic_pin, l.cvx, l.ndc, l.mvx, l.lot_number, l.expiration, l.funding,
    COALESCE((SELECT SUM(delta) FROM inventory_transactions t WHERE t.lot_id = l.id), 0)";

fn lot_from_row(r: &Row<'_>) -> Result<LotStock> {
    let funding = match r.get::<_, String>(7)?.as_str() {
        "public" => StockFunding::Public,
        "private" => StockFunding::Private,
        other => return Err(StoreError::Corrupt(format!("lot funding {other:?}"))),
    };
    Ok(LotStock {
        lot: Lot {
            id: Some(r.get(0)?),
            clinic: stored("clinic_pin", ClinicPin::new(&r.get::<_, String>(1)?))?,
            cvx: stored("cvx", Cvx::new(&r.get::<_, String>(2)?))?,
            ndc: r
                .get::<_, Option<String>>(3)?
                .map(|s| stored("ndc", Ndc::new(&s)))
                .transpose()?,
            mvx: r
                .get::<_, Option<String>>(4)?
                .map(|s| stored("mvx", Mvx::new(&s)))
                .transpose()?,
            lot_number: stored("lot_number", LotNumber::new(&r.get::<_, String>(5)?))?,
            expiration: codec::date(&r.get::<_, String>(6)?)?,
            funding,
        },
        on_hand: r.get(8)?,
    })
}

impl InventoryStore for SqliteStore {
    fn add_lot(&self, lot: &Lot) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO lots (clinic_pin, cvx, ndc, mvx, lot_number, expiration, funding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                lot.clinic.as_str(),
                lot.cvx.as_str(),
                lot.ndc.as_ref().map(|n| n.as_str()),
                lot.mvx.as_ref().map(|m| m.as_str()),
                lot.lot_number.as_str(),
                lot.expiration.format(codec::DATE).to_string(),
                lot.funding.key(),
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!(
                        "clinic {} already has {} lot {} (or the clinic does not exist)",
                        lot.clinic,
                        lot.funding.key(),
                        lot.lot_number
                    ))
                }
                other => other.into(),
            })?;
        Ok(self.conn.last_insert_rowid())
    }

    fn lot(&self, id: i64) -> Result<Option<LotStock>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {LOT_COLUMNS} FROM lots l WHERE l.id = ?1"))?;
        let mut rows = st.query([id])?;
        rows.next()?.map(lot_from_row).transpose()
    }

    fn lots(&self, clinic: &ClinicPin) -> Result<Vec<LotStock>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {LOT_COLUMNS} FROM lots l WHERE l.clinic_pin = ?1 ORDER BY l.cvx, l.expiration, l.lot_number"
        ))?;
        let mut rows = st.query([clinic.as_str()])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(lot_from_row(r)?);
        }
        Ok(out)
    }

    fn record_movement(
        &self,
        lot_id: i64,
        m: &Movement,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        // Read-check-write inside one IMMEDIATE transaction so two clinics' writers
        // can't both spend the last dose.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            let stock = self.lot(lot_id)?.ok_or_else(|| StoreError::NotFound {
                what: "lot",
                id: lot_id.to_string(),
            })?;
            let new = apply(&stock.lot, stock.on_hand, m, at.date())
                .map_err(ctwiz_core::CoreError::from)?;
            self.conn
                .prepare_cached(
                    "INSERT INTO inventory_transactions (lot_id, kind, delta, movement, at, by_user)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    lot_id,
                    m.kind(),
                    m.delta(),
                    serde_json::to_string(m)?,
                    at.format(codec::DATETIME).to_string(),
                    by
                ])?;
            Ok(new)
        })();
        match result {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                self.conn.execute_batch("ROLLBACK")?;
                Err(e)
            }
        }
    }

    fn movements(&self, lot_id: i64) -> Result<Vec<(NaiveDateTime, String, Movement)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT at, by_user, movement FROM inventory_transactions WHERE lot_id = ?1 ORDER BY id")?;
        let rows = st.query_map([lot_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (at, by, m) = r?;
            Ok((codec::datetime(&at)?, by, serde_json::from_str(&m)?))
        })
        .collect()
    }
}
