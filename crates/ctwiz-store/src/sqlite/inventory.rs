use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, Row};
use crate::traits::{
    DoseStore, ExceptionResolution, Interface, InventoryException, InventoryReportRow,
    InventoryStore, LotStock, LotUsageData, NewException,
};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose::Dose;
use ctwiz_core::dose_stock::ExceptionKind;
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, LotNumber, Mvx, Ndc, PatientId};
use ctwiz_core::inventory::{apply, Lot, Movement, StockFunding};
use ctwiz_core::ordering::{OrderLine, OrderStatus, VaccineOrder};
use ctwiz_core::program::Program;

/// Stored movements beyond this many doses come from before core bounded movements
/// (`ctwiz_core::inventory::MAX_DOSES_PER_MOVEMENT`); sums leave them out and name the
/// lot instead, so one bad row cannot overflow a report (SQLite's SUM fails on overflow;
/// in-range rows would need billions of rows to reach it).
const SANE_DELTA: &str = "BETWEEN -1000000000 AND 1000000000";

/// The lot columns and its quantity; the count of out-of-range movements comes last.
fn lot_columns() -> String {
    format!(
        "l.id, l.clinic_pin, l.cvx, l.ndc, l.mvx, l.lot_number, l.expiration, l.funding,
        COALESCE((SELECT SUM(delta) FROM inventory_transactions t WHERE t.lot_id = l.id AND t.delta {SANE_DELTA}), 0),
        (SELECT COUNT(*) FROM inventory_transactions t WHERE t.lot_id = l.id AND t.delta NOT {SANE_DELTA}),
        l.program"
    )
}

/// The `funding` and `program` columns of a lot: public stock names its program.
fn funding_columns(f: StockFunding) -> (&'static str, Option<&'static str>) {
    match f {
        StockFunding::Public(p) => ("public", Some(p.key())),
        StockFunding::Private => ("private", None),
    }
}

fn funding_from_columns(funding: &str, program: Option<&str>) -> Result<StockFunding> {
    match (funding, program) {
        ("private", None) => Ok(StockFunding::Private),
        ("public", Some(p)) => Ok(StockFunding::Public(stored("program", Program::parse(p))?)),
        (f, p) => Err(StoreError::Corrupt(format!(
            "lot funding {f:?} program {p:?}"
        ))),
    }
}

/// SQL for a lot's stock funding key (`StockFunding::key`) from its columns.
const FUNDING_KEY_SQL: &str = "CASE WHEN l.funding = 'public' THEN l.program ELSE l.funding END";

fn lot_from_row(r: &Row<'_>) -> Result<LotStock> {
    let out_of_range: i64 = r.get(9)?;
    if out_of_range > 0 {
        return Err(StoreError::Corrupt(format!(
            "lot {} (id {}) holds {out_of_range} movement(s) out of the range ctwiz accepts, stored before movements were bounded; its quantity is unknown until corrected",
            r.get::<String>(5)?,
            r.get::<i64>(0)?
        )));
    }
    let funding = funding_from_columns(
        &r.get::<String>(7)?,
        r.get::<Option<String>>(10)?.as_deref(),
    )?;
    Ok(LotStock {
        lot: Lot {
            id: Some(r.get(0)?),
            clinic: stored("clinic_pin", ClinicPin::new(&r.get::<String>(1)?))?,
            cvx: stored("cvx", Cvx::new(&r.get::<String>(2)?))?,
            ndc: r
                .get::<Option<String>>(3)?
                .map(|s| stored("ndc", Ndc::new(&s)))
                .transpose()?,
            mvx: r
                .get::<Option<String>>(4)?
                .map(|s| stored("mvx", Mvx::new(&s)))
                .transpose()?,
            lot_number: stored("lot_number", LotNumber::new(&r.get::<String>(5)?))?,
            expiration: codec::date(&r.get::<String>(6)?)?,
            funding,
        },
        on_hand: r.get(8)?,
    })
}

fn constraint(e: crate::sql::Error, msg: impl FnOnce() -> String) -> StoreError {
    match e {
        f if f.is_constraint_violation() => StoreError::Conflict(msg()),
        other => other.into(),
    }
}

impl SqliteStore {
    fn lots_where(
        &self,
        sql_where: &str,
        args: &[&dyn crate::sql::ToSql],
    ) -> Result<Vec<LotStock>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {} FROM lots l WHERE {sql_where} ORDER BY l.cvx, l.expiration, l.lot_number",
            lot_columns()
        ))?;
        let mut rows = st.query(args)?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(lot_from_row(r)?);
        }
        Ok(out)
    }

    /// Checks and records a movement; the caller provides the transaction.
    fn movement_in_tx(
        &self,
        lot_id: i64,
        m: &Movement,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        self.movement_for(lot_id, None, m, at.date(), by, at)
    }

    /// Checks a movement (core's `apply`, expiry judged on `on`) and records it, for dose
    /// record `dose` if given; the caller provides the transaction.
    fn movement_for(
        &self,
        lot_id: i64,
        dose: Option<DoseId>,
        m: &Movement,
        on: NaiveDate,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        let stock = self.lot(lot_id)?.ok_or_else(|| StoreError::NotFound {
            what: "lot",
            id: lot_id.to_string(),
        })?;
        let new = apply(&stock.lot, stock.on_hand, m, on).map_err(ctwiz_core::CoreError::from)?;
        self.conn
            .prepare_cached(
                "INSERT INTO inventory_transactions (lot_id, kind, delta, movement, at, by_user, dose_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                lot_id,
                m.kind(),
                m.delta(),
                serde_json::to_string(m)?,
                at.format(codec::DATETIME).to_string(),
                by,
                dose.map(|d| d.0)
            ])?;
        Ok(new)
    }

    fn order_lines(&self, id: i64) -> Result<Vec<OrderLine>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT cvx, requested, approved FROM vaccine_order_lines WHERE order_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map([id], |r| Ok((r.get::<String>(0)?, r.get(1)?, r.get(2)?)))?;
        rows.map(|r| {
            let (cvx, requested, approved) = r?;
            Ok(OrderLine {
                cvx: stored("cvx", Cvx::new(&cvx))?,
                requested,
                approved,
            })
        })
        .collect()
    }

    fn order_from_row(&self, r: &Row<'_>) -> Result<VaccineOrder> {
        let id: i64 = r.get(0)?;
        Ok(VaccineOrder {
            id: Some(id),
            clinic: stored("clinic_pin", ClinicPin::new(&r.get::<String>(1)?))?,
            program: stored("program", Program::parse(&r.get::<String>(7)?))?,
            created_by: r.get(2)?,
            created_on: codec::date(&r.get::<String>(3)?)?,
            status: stored("status", OrderStatus::parse(&r.get::<String>(4)?))?,
            lines: self.order_lines(id)?,
            decided_by: r.get(5)?,
            decision_note: r.get(6)?,
        })
    }
}

const ORDER_COLUMNS: &str =
    "id, clinic_pin, created_by, created_on, status, decided_by, decision_note, program";

impl crate::traits::Atomic for SqliteStore {
    fn atomically<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.in_transaction(f)
    }
}

impl InventoryStore for SqliteStore {
    fn add_lot(&self, lot: &Lot) -> Result<i64> {
        self.held
            .borrow_mut()
            .lot_holders
            .remove(lot.clinic.as_str());
        self.conn
            .prepare_cached(
                "INSERT INTO lots (clinic_pin, cvx, ndc, mvx, lot_number, expiration, funding, program)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                lot.clinic.as_str(),
                lot.cvx.as_str(),
                lot.ndc.as_ref().map(|n| n.as_str()),
                lot.mvx.as_ref().map(|m| m.as_str()),
                lot.lot_number.as_str(),
                codec::date_text(lot.expiration),
                funding_columns(lot.funding).0,
                funding_columns(lot.funding).1,
            ])
            .map_err(|e| {
                constraint(e, || {
                    format!(
                        "clinic {} already has {} lot {} (or the clinic does not exist)",
                        lot.clinic,
                        lot.funding.key(),
                        lot.lot_number
                    )
                })
            })?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn lot(&self, id: i64) -> Result<Option<LotStock>> {
        Ok(self.lots_where("l.id = ?1", &[&id])?.pop())
    }

    fn lots(&self, clinic: &ClinicPin) -> Result<Vec<LotStock>> {
        self.lots_where("l.clinic_pin = ?1", &[&clinic.as_str()])
    }

    fn find_lot(&self, clinic: &ClinicPin, lot_number: &LotNumber) -> Result<Option<LotStock>> {
        // Prefer the lot with stock when public and private lots share a number.
        let mut found = self.lots_where(
            "l.clinic_pin = ?1 AND l.lot_number = ?2",
            &[&clinic.as_str(), &lot_number.as_str()],
        )?;
        found.sort_by_key(|l| -l.on_hand);
        Ok(found.into_iter().next())
    }

    fn record_movement(
        &self,
        lot_id: i64,
        m: &Movement,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        if matches!(
            m,
            Movement::TransferOut { .. } | Movement::TransferIn { .. }
        ) {
            return Err(StoreError::Conflict(
                "transfers move stock between two clinics: use the transfer operation".into(),
            ));
        }
        self.in_transaction(|s| s.movement_in_tx(lot_id, m, by, at))
    }

    fn movements(&self, lot_id: i64) -> Result<Vec<(NaiveDateTime, String, Movement)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT at, by_user, movement FROM inventory_transactions WHERE lot_id = ?1 ORDER BY id")?;
        let rows = st.query_map([lot_id], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (at, by, m) = r?;
            Ok((codec::datetime(&at)?, by, serde_json::from_str(&m)?))
        })
        .collect()
    }

    fn receive_into_lot(
        &self,
        lot: &Lot,
        doses: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<(i64, i64)> {
        self.in_transaction(|s| {
            let held = s
                .lots_where(
                    "l.clinic_pin = ?1 AND l.lot_number = ?2 AND l.funding = ?3",
                    &[
                        &lot.clinic.as_str(),
                        &lot.lot_number.as_str(),
                        &funding_columns(lot.funding).0,
                    ],
                )?
                .pop();
            let id = match held {
                Some(h) => {
                    if h.lot.cvx != lot.cvx || h.lot.expiration != lot.expiration {
                        return Err(StoreError::Conflict(format!(
                            "lot {} is already held at {} as CVX {} expiring {}",
                            lot.lot_number, lot.clinic, h.lot.cvx, h.lot.expiration
                        )));
                    }
                    h.lot
                        .id
                        .ok_or_else(|| StoreError::Corrupt("lot without id".into()))?
                }
                None => s.add_lot(lot)?,
            };
            let q = s.movement_in_tx(id, &Movement::Receive { doses }, by, at)?;
            Ok((id, q))
        })
    }

    fn administer_from_lot(
        &self,
        patient: PatientId,
        dose: &Dose,
        lot_id: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<DoseId> {
        self.in_transaction(|s| {
            let stock = s.lot(lot_id)?.ok_or_else(|| StoreError::NotFound {
                what: "lot",
                id: lot_id.to_string(),
            })?;
            if stock.lot.cvx != dose.cvx {
                return Err(StoreError::Conflict(format!(
                    "lot {} holds CVX {}, but the dose is CVX {}",
                    stock.lot.lot_number, stock.lot.cvx, dose.cvx
                )));
            }
            let id = s.add_dose(patient, dose)?;
            s.movement_for(
                lot_id,
                Some(id),
                &Movement::Administer { doses: 1 },
                dose.date,
                by,
                at,
            )?;
            Ok(id)
        })
    }

    fn transfer(
        &self,
        lot_id: i64,
        to: &ClinicPin,
        doses: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        self.in_transaction(|s| {
            let from = s.lot(lot_id)?.ok_or_else(|| StoreError::NotFound {
                what: "lot",
                id: lot_id.to_string(),
            })?;
            if &from.lot.clinic == to {
                return Err(StoreError::Conflict(
                    "a transfer needs two different clinics".into(),
                ));
            }
            s.movement_in_tx(
                lot_id,
                &Movement::TransferOut {
                    doses,
                    to: to.clone(),
                },
                by,
                at,
            )?;
            let existing = s
                .lots_where(
                    "l.clinic_pin = ?1 AND l.lot_number = ?2 AND l.funding = ?3",
                    &[
                        &to.as_str(),
                        &from.lot.lot_number.as_str(),
                        &funding_columns(from.lot.funding).0,
                    ],
                )?
                .pop();
            let dest = match existing {
                Some(l) => l
                    .lot
                    .id
                    .ok_or_else(|| StoreError::Corrupt("lot without id".into()))?,
                None => s.add_lot(&Lot {
                    id: None,
                    clinic: to.clone(),
                    ..from.lot.clone()
                })?,
            };
            s.movement_in_tx(
                dest,
                &Movement::TransferIn {
                    doses,
                    from: from.lot.clinic.clone(),
                },
                by,
                at,
            )?;
            Ok(dest)
        })
    }

    fn doses_used(
        &self,
        clinic: &ClinicPin,
        cvx: &Cvx,
        funding: StockFunding,
        since: NaiveDate,
    ) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!("SELECT COALESCE(-SUM(t.delta), 0) FROM inventory_transactions t JOIN lots l ON l.id = t.lot_id
             WHERE l.clinic_pin = ?1 AND l.cvx = ?2 AND t.kind IN ('administer', 'give-back') AND t.at >= ?3
               AND {FUNDING_KEY_SQL} = ?4"),
            params![clinic.as_str(), cvx.as_str(), codec::date_text(since), funding.key()],
            |r| r.get(0),
        )?)
    }

    fn create_order(&self, o: &VaccineOrder) -> Result<i64> {
        self.in_transaction(|s| {
            s.conn
                .prepare_cached(
                    "INSERT INTO vaccine_orders (clinic_pin, created_by, created_on, status, decided_by, decision_note, program)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    o.clinic.as_str(),
                    o.created_by,
                    codec::date_text(o.created_on),
                    o.status.key(),
                    o.decided_by,
                    o.decision_note,
                    o.program.key()
                ])
                .map_err(|e| constraint(e, || format!("unknown clinic {}", o.clinic)))?;
            let id = s.conn.last_insert_rowid()?;
            let mut ins = s
                .conn
                .prepare_cached("INSERT INTO vaccine_order_lines (order_id, cvx, requested, approved) VALUES (?1, ?2, ?3, ?4)")?;
            for l in &o.lines {
                ins.execute(params![id, l.cvx.as_str(), l.requested, l.approved])?;
            }
            Ok(id)
        })
    }

    fn order(&self, id: i64) -> Result<Option<VaccineOrder>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ORDER_COLUMNS} FROM vaccine_orders WHERE id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        rows.next()?
            .as_ref()
            .map(|r| self.order_from_row(r))
            .transpose()
    }

    fn orders(
        &self,
        clinic: Option<&ClinicPin>,
        status: Option<OrderStatus>,
    ) -> Result<Vec<VaccineOrder>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ORDER_COLUMNS} FROM vaccine_orders
             WHERE (CAST(?1 AS TEXT) IS NULL OR clinic_pin = ?1) AND (CAST(?2 AS TEXT) IS NULL OR status = ?2) ORDER BY id DESC"
        ))?;
        let mut rows = st.query(params![clinic.map(|c| c.as_str()), status.map(|s| s.key())])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(self.order_from_row(r)?);
        }
        Ok(out)
    }

    fn save_order(&self, o: &VaccineOrder) -> Result<()> {
        let id =
            o.id.ok_or_else(|| StoreError::Conflict("cannot save an order that has no id".into()))?;
        self.in_transaction(|s| {
            let n = s
                .conn
                .prepare_cached("UPDATE vaccine_orders SET status = ?2, decided_by = ?3, decision_note = ?4 WHERE id = ?1")?
                .execute(params![id, o.status.key(), o.decided_by, o.decision_note])?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "order", id: id.to_string() });
            }
            let mut up = s
                .conn
                .prepare_cached("UPDATE vaccine_order_lines SET approved = ?3 WHERE order_id = ?1 AND cvx = ?2")?;
            for l in &o.lines {
                up.execute(params![id, l.cvx.as_str(), l.approved])?;
            }
            Ok(())
        })
    }

    fn receive_order(
        &self,
        order_id: i64,
        lots: &[(Lot, i64)],
        by: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<i64>> {
        self.in_transaction(|s| {
            let mut o = s.order(order_id)?.ok_or_else(|| StoreError::NotFound {
                what: "order",
                id: order_id.to_string(),
            })?;
            o.mark_received()?;
            let mut ids = Vec::with_capacity(lots.len());
            for (lot, doses) in lots {
                if lot.clinic != o.clinic || lot.funding != StockFunding::Public(o.program) {
                    return Err(StoreError::Conflict(format!(
                        "order {order_id} delivers {} vaccine to clinic {}",
                        o.program.short(),
                        o.clinic
                    )));
                }
                if !o
                    .lines
                    .iter()
                    .any(|l| l.cvx == lot.cvx && l.approved.unwrap_or(0) > 0)
                {
                    return Err(StoreError::Conflict(format!(
                        "CVX {} was not approved on order {order_id}",
                        lot.cvx
                    )));
                }
                let id = match s.find_lot(&lot.clinic, &lot.lot_number)? {
                    Some(existing)
                        if existing.lot.funding == lot.funding && existing.lot.cvx == lot.cvx =>
                    {
                        existing
                            .lot
                            .id
                            .ok_or_else(|| StoreError::Corrupt("lot without id".into()))?
                    }
                    _ => s.add_lot(lot)?,
                };
                s.movement_in_tx(id, &Movement::Receive { doses: *doses }, by, at)?;
                ids.push(id);
            }
            s.save_order(&o)?;
            Ok(ids)
        })
    }

    fn lots_numbered(&self, lot_number: &LotNumber) -> Result<Vec<LotStock>> {
        self.lots_where("l.lot_number = ?1", &[&lot_number.as_str()])
    }

    fn holds_any_lot(&self, clinic: &ClinicPin) -> Result<bool> {
        self.while_locked(
            |h| h.lot_holders.get(clinic.as_str()).copied(),
            |h, v| {
                h.lot_holders.insert(clinic.as_str().to_string(), v);
            },
            // The UNIQUE (clinic_pin, lot_number, funding) index answers it.
            || {
                Ok(self
                    .conn
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM lots WHERE clinic_pin = ?1)")?
                    .query_row([clinic.as_str()], |r| r.get(0))?)
            },
        )
    }

    fn record_dose_movement(
        &self,
        lot_id: i64,
        dose: DoseId,
        m: &Movement,
        on: NaiveDate,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        self.in_transaction(|s| s.movement_for(lot_id, Some(dose), m, on, by, at))
    }

    fn dose_draws(&self, dose: DoseId) -> Result<Vec<(i64, i64)>> {
        self.draws_of_dose(dose)
    }

    fn move_dose_draws(&self, from: DoseId, to: DoseId) -> Result<()> {
        self.move_draws(from, to)
    }

    fn raise_exception(&self, e: &NewException) -> Result<i64> {
        self.insert_exception(e)
    }

    fn exceptions(
        &self,
        clinic: Option<&ClinicPin>,
        open_only: bool,
    ) -> Result<Vec<InventoryException>> {
        self.exceptions_where(clinic, open_only, None)
    }

    fn exception(&self, id: i64) -> Result<Option<InventoryException>> {
        Ok(self.exceptions_where(None, false, Some(id))?.pop())
    }

    fn resolve_exception(
        &self,
        id: i64,
        how: &ExceptionResolution,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.close_exception(id, how, by, at)
    }

    fn open_exceptions_of_dose(&self, dose: DoseId) -> Result<Vec<i64>> {
        self.open_exceptions_for(dose)
    }

    fn exception_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        interfaces: &[Interface],
    ) -> Result<Vec<(ClinicPin, ExceptionKind, i64)>> {
        self.count_exceptions(from, to, interfaces)
    }

    fn lot_usage_data(&self, clinic: Option<&ClinicPin>) -> Result<LotUsageData> {
        self.usage_data(clinic)
    }

    fn inventory_report(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<InventoryReportRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT l.clinic_pin, c.county, l.cvx, {FUNDING_KEY_SQL}, t.kind,
                    json_extract(t.movement, '$.' || CASE t.kind WHEN 'waste' THEN 'Waste' WHEN 'return' THEN 'Return' END || '.reason'),
                    SUM(CASE WHEN t.delta {SANE_DELTA} THEN t.delta ELSE 0 END), COUNT(*),
                    group_concat(DISTINCT CASE WHEN t.delta NOT {SANE_DELTA} THEN l.lot_number END)
             FROM inventory_transactions t JOIN lots l ON l.id = t.lot_id JOIN clinics c ON c.pin = l.clinic_pin
             WHERE t.at >= ?1 AND t.at < date(?2, '+1 day')
             GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 3, 5, 6"
        ))?;
        let rows = st.query_map(params![codec::date_text(from), codec::date_text(to)], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<Option<String>>(5)?,
                r.get::<i64>(6)?,
                r.get::<i64>(7)?,
                r.get::<Option<String>>(8)?,
            ))
        })?;
        rows.map(|r| {
            let (clinic, county, cvx, funding, kind, reason, doses, transactions, damaged) = r?;
            let damaged_lots: Vec<String> = damaged
                .map(|d| d.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            Ok(InventoryReportRow {
                clinic: stored("clinic_pin", ClinicPin::new(&clinic))?,
                county: stored("county", ctwiz_core::org::County::parse(&county))?,
                cvx: stored("cvx", Cvx::new(&cvx))?,
                funding,
                kind,
                reason,
                doses: damaged_lots.is_empty().then_some(doses),
                transactions,
                damaged_lots,
            })
        })
        .collect()
    }
}
