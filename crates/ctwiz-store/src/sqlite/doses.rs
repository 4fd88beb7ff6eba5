use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{json_integers, params, Row, ValueRef};
use crate::traits::DoseStore;
use ctwiz_core::dose::{
    CompletionStatus, Dose, DoseAmount, FundingSource, InformationSource, Observation,
    ObservationKind, Provider, RefusalReason, Route, Site, VfcEligibility,
};
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, LotNumber, Mvx, Ndc, PatientId};
use std::borrow::Cow;
use std::collections::HashMap;

/// An observation from `SELECT kind, code, text, date ...`.
fn observation_from_row(r: &Row<'_>) -> Result<Observation> {
    Ok(Observation {
        kind: kind_parse(&r.get::<String>(0)?)?,
        code: r.get(1)?,
        text: r.get(2)?,
        date: codec::date(&r.get::<String>(3)?)?,
    })
}

pub(super) const DOSE_COLUMNS: &str =
    "id, patient_id, cvx, mvx, ndc, lot, lot_expiration, date, source, amount, amount_unit,
    route, site, clinic_pin, administering_provider, funding, eligibility, completion, refusal, vis,
    sender_id";

fn opt<T>(
    column: &'static str,
    v: Option<String>,
    parse: fn(&str) -> ctwiz_core::Result<T>,
) -> Result<Option<T>> {
    v.map(|s| stored(column, parse(&s))).transpose()
}

pub(super) fn dose_from_row(r: &Row<'_>) -> Result<Dose> {
    let amount = match (r.get::<Option<f64>>(9)?, r.get::<Option<String>>(10)?) {
        (Some(v), Some(u)) => Some(DoseAmount { value: v, unit: u }),
        _ => None,
    };
    let vis: Option<String> = r.get(19)?;
    Ok(Dose {
        id: Some(DoseId(r.get(0)?)),
        patient: Some(PatientId(r.get(1)?)),
        cvx: stored("cvx", Cvx::new(&r.get::<String>(2)?))?,
        mvx: opt("mvx", r.get(3)?, Mvx::new)?,
        ndc: opt("ndc", r.get(4)?, Ndc::new)?,
        lot: opt("lot", r.get(5)?, LotNumber::new)?,
        lot_expiration: codec::opt_date(r.get(6)?)?,
        date: codec::date(&r.get::<String>(7)?)?,
        source: stored("source", InformationSource::from_code(&r.get::<String>(8)?))?,
        amount,
        route: opt("route", r.get(11)?, Route::from_code)?,
        site: opt("site", r.get(12)?, Site::from_code)?,
        clinic: opt("clinic_pin", r.get(13)?, ClinicPin::new)?,
        administered_by: provider_from_column(r.get(14)?)?,
        funding: opt("funding", r.get(15)?, FundingSource::from_code)?,
        eligibility: opt("eligibility", r.get(16)?, VfcEligibility::from_code)?,
        completion: stored(
            "completion",
            CompletionStatus::from_code(&r.get::<String>(17)?),
        )?,
        refusal: opt("refusal", r.get(18)?, RefusalReason::from_code)?,
        vis: match vis {
            Some(v) => serde_json::from_str(&v)?,
            None => Vec::new(),
        },
        sender_id: r.get(20)?,
    })
}

/// `doses.administering_provider`: RXA-10 in its parts, as JSON (`providers` migration 1
/// converted the text ctwiz kept before, "Given Family (id)", with the same reading the
/// web uses for a typed name).
fn provider_from_column(v: Option<String>) -> Result<Option<Provider>> {
    v.map(|json| {
        serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("administering_provider {json:?}: {e}")))
    })
    .transpose()
}

fn kind_key(k: ObservationKind) -> &'static str {
    match k {
        ObservationKind::Immunity => "immunity",
        ObservationKind::Contraindication => "contraindication",
        ObservationKind::Precaution => "precaution",
        ObservationKind::Condition => "condition",
    }
}

fn kind_parse(s: &str) -> Result<ObservationKind> {
    Ok(match s {
        "immunity" => ObservationKind::Immunity,
        "contraindication" => ObservationKind::Contraindication,
        "precaution" => ObservationKind::Precaution,
        "condition" => ObservationKind::Condition,
        other => return Err(StoreError::Corrupt(format!("observation kind {other:?}"))),
    })
}

impl SqliteStore {
    /// A dose's column values, borrowed from the dose where they can be: an import binds
    /// some twenty values for each of a few dozen doses per message.
    pub(super) fn dose_params(d: &Dose) -> Result<Vec<ValueRef<'_>>> {
        // Room for a key before or after the values.
        let mut values = Vec::with_capacity(DOSE_VALUES);
        Self::push_dose_params(d, &mut values)?;
        Ok(values)
    }

    /// Appends a dose's values, in `INSERT_DOSE` order after `patient_id`.
    fn push_dose_params<'d>(d: &'d Dose, out: &mut Vec<ValueRef<'d>>) -> Result<()> {
        fn text(s: &str) -> ValueRef<'_> {
            ValueRef::Text(Cow::Borrowed(s))
        }
        fn owned(s: String) -> ValueRef<'static> {
            ValueRef::Text(Cow::Owned(s))
        }
        fn or_null<'a, T>(v: Option<T>, f: impl FnOnce(T) -> ValueRef<'a>) -> ValueRef<'a> {
            v.map_or(ValueRef::Null, f)
        }
        let date = |x: chrono::NaiveDate| owned(codec::date_text(x));
        let vis = if d.vis.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&d.vis)?)
        };
        let provider = d
            .administered_by
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        out.extend([
            text(d.cvx.as_str()),
            or_null(d.mvx.as_ref(), |m| text(m.as_str())),
            or_null(d.ndc.as_ref(), |m| text(m.as_str())),
            or_null(d.lot.as_ref(), |m| text(m.as_str())),
            or_null(d.lot_expiration, date),
            date(d.date),
            text(d.source.code()),
            or_null(d.amount.as_ref(), |a| ValueRef::Real(a.value)),
            or_null(d.amount.as_ref(), |a| text(&a.unit)),
            or_null(d.route, |x| text(x.code())),
            or_null(d.site, |x| text(x.code())),
            or_null(d.clinic.as_ref(), |m| text(m.as_str())),
            // The display text stays readable in the old column; the parts are in
            // administering_provider (the last parameter).
            or_null(d.administered_by.as_ref(), |p| owned(Provider::display(p))),
            or_null(d.funding, |x| text(x.code())),
            or_null(d.eligibility, |x| text(x.code())),
            text(d.completion.code()),
            or_null(d.refusal, |x| text(x.code())),
            or_null(vis, owned),
            or_null(d.sender_id.as_deref(), text),
            or_null(provider, owned),
        ]);
        Ok(())
    }

    /// Live doses of the given patients, grouped by patient.
    pub(super) fn doses_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<Dose>>> {
        let list = serde_json::to_string(ids)?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE patient_id IN ({})
             AND deleted_reason IS NULL ORDER BY patient_id, date, id",
            json_integers(self.conn.dialect(), "?1")
        ))?;
        let mut rows = st.query([list])?;
        let mut out: HashMap<i64, Vec<Dose>> = HashMap::with_capacity(ids.len());
        while let Some(ref r) = rows.next()? {
            let pid: i64 = r.get(1)?;
            out.entry(pid).or_default().push(dose_from_row(r)?);
        }
        Ok(out)
    }

    /// Observations of the patients with these ids, grouped by patient.
    pub(super) fn observations_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<Observation>>> {
        let list = serde_json::to_string(ids)?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT kind, code, text, date, patient_id FROM observations
             WHERE patient_id IN ({}) ORDER BY patient_id, date, id",
            json_integers(self.conn.dialect(), "?1")
        ))?;
        let mut rows = st.query([list])?;
        let mut out: HashMap<i64, Vec<Observation>> = HashMap::new();
        while let Some(ref r) = rows.next()? {
            let pid: i64 = r.get(4)?;
            out.entry(pid).or_default().push(observation_from_row(r)?);
        }
        Ok(out)
    }

    /// Live doses of patients with ids in `first..=last`, grouped by patient.
    pub(super) fn doses_between(&self, first: i64, last: i64) -> Result<HashMap<i64, Vec<Dose>>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE patient_id BETWEEN ?1 AND ?2 AND deleted_reason IS NULL
             ORDER BY patient_id, date, id"
        ))?;
        let mut rows = st.query(params![first, last])?;
        let mut out: HashMap<i64, Vec<Dose>> = HashMap::new();
        while let Some(ref r) = rows.next()? {
            let pid: i64 = r.get(1)?;
            out.entry(pid).or_default().push(dose_from_row(r)?);
        }
        Ok(out)
    }
}

/// The columns a new dose row is written with: `patient_id`, the values in `dose_params`
/// order, `recorded_at` (the transaction's time, see `SqliteStore::transaction_time`).
pub(super) const INSERT_DOSE: &str =
    "INSERT INTO doses (patient_id, cvx, mvx, ndc, lot, lot_expiration, date,
    source, amount, amount_unit, route, site, clinic_pin, administered_by, funding, eligibility,
    completion, refusal, vis, sender_id, administering_provider, recorded_at) VALUES ";
/// Values per dose row.
pub(super) const DOSE_VALUES: usize = 22;
/// Doses per multi-row insert on PostgreSQL (22 parameters each, far below its limit).
pub(super) const DOSES_PER_INSERT: usize = 200;

impl SqliteStore {
    /// A refused dose insert names the patient (the only key a new dose refers to).
    fn dose_insert_error(patient: PatientId, e: crate::sql::Error) -> StoreError {
        match e {
            f if f.is_constraint_violation() => StoreError::NotFound {
                what: "patient",
                id: patient.to_string(),
            },
            other => other.into(),
        }
    }

    /// A new dose row's values, in `INSERT_DOSE` order.
    fn dose_row_params<'d>(
        patient: PatientId,
        d: &'d Dose,
        recorded_at: &'d str,
    ) -> Result<Vec<ValueRef<'d>>> {
        let mut args = Vec::with_capacity(DOSE_VALUES);
        args.push(ValueRef::Integer(patient.0));
        Self::push_dose_params(d, &mut args)?;
        args.push(ValueRef::Text(Cow::Borrowed(recorded_at)));
        Ok(args)
    }
}

/// The one-dose insert, built once (every dose recorded one at a time runs it).
static INSERT_ONE_DOSE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{INSERT_DOSE}{}", dose_rows(1)));

/// The ids a multi-row dose insert returned, in the order of its VALUES: identity values
/// are drawn row by row in that order, and RETURNING's own order is not promised.
pub(super) fn dose_ids_in_order(mut ids: Vec<i64>, inserted: usize) -> Result<Vec<DoseId>> {
    ids.sort_unstable();
    if ids.len() != inserted {
        return Err(StoreError::Corrupt(format!(
            "{inserted} doses inserted, {} ids returned",
            ids.len()
        )));
    }
    Ok(ids.into_iter().map(DoseId).collect())
}

/// `(?1, …, ?21), (?22, …)`: placeholders for `rows` dose rows.
fn dose_rows(rows: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(r * DOSE_VALUES + 1, DOSE_VALUES)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `?first, …`: `count` numbered placeholders.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl DoseStore for SqliteStore {
    fn add_dose(&self, patient: PatientId, d: &Dose) -> Result<DoseId> {
        self.add_doses(patient, std::slice::from_ref(d))?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a dose inserted without an id".into()))
    }

    fn add_doses(&self, patient: PatientId, doses: &[Dose]) -> Result<Vec<DoseId>> {
        let recorded_at = self.transaction_time()?;
        // SQLite: one prepared insert run once per dose (measured: its multi-row insert
        // with RETURNING costs more per row). PostgreSQL: each statement is a round trip
        // and a child's history is a few dozen doses, so multi-row inserts.
        if self.conn.dialect() == crate::sql::Dialect::Sqlite || doses.len() < 2 {
            let args = doses
                .iter()
                .map(|d| Self::dose_row_params(patient, d, &recorded_at))
                .collect::<Result<Vec<_>>>()?;
            let ids = self
                .conn
                .insert_each_returning_id(
                    &INSERT_ONE_DOSE,
                    args.iter().map(|a| crate::sql::params_from_iter(a.iter())),
                )
                .map_err(|e| Self::dose_insert_error(patient, e))?;
            return Ok(ids.into_iter().map(DoseId).collect());
        }
        let mut ids = Vec::with_capacity(doses.len());
        for chunk in doses.chunks(DOSES_PER_INSERT) {
            let mut args = Vec::with_capacity(chunk.len() * DOSE_VALUES);
            for d in chunk {
                args.extend(Self::dose_row_params(patient, d, &recorded_at)?);
            }
            let new = self
                .conn
                .insert_returning_ids(
                    &format!("{INSERT_DOSE}{}", dose_rows(chunk.len())),
                    crate::sql::params_from_iter(args.iter()),
                )
                .map_err(|e| Self::dose_insert_error(patient, e))?;
            ids.extend(dose_ids_in_order(new, chunk.len())?);
        }
        Ok(ids)
    }

    fn update_dose(&self, d: &Dose) -> Result<()> {
        let id =
            d.id.ok_or_else(|| StoreError::Conflict("cannot update a dose that has no id".into()))?;
        let mut args = Self::dose_params(d)?;
        args.push(ValueRef::Integer(id.0));
        let n = self
            .conn
            .prepare_cached(
                "UPDATE doses SET cvx=?1, mvx=?2, ndc=?3, lot=?4, lot_expiration=?5, date=?6, source=?7,
                 amount=?8, amount_unit=?9, route=?10, site=?11, clinic_pin=?12, administered_by=?13,
                 funding=?14, eligibility=?15, completion=?16, refusal=?17, vis=?18, sender_id=?19,
                 administering_provider=?20
                 WHERE id=?21 AND deleted_reason IS NULL",
            )?
            .execute(crate::sql::params_from_iter(args.iter()))?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "dose",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    fn doses(&self, patient: PatientId) -> Result<Vec<Dose>> {
        Ok(self
            .doses_between(patient.0, patient.0)?
            .remove(&patient.0)
            .unwrap_or_default())
    }

    fn delete_dose(&self, id: DoseId, reason: &str) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(StoreError::Conflict(
                "deleting a dose needs a reason".into(),
            ));
        }
        let n = self
            .conn
            .prepare_cached(
                "UPDATE doses SET deleted_reason = ?1 WHERE id = ?2 AND deleted_reason IS NULL",
            )?
            .execute(params![reason.trim(), id.0])?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "dose",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    fn add_observation(&self, patient: PatientId, o: &Observation) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO observations (patient_id, kind, code, text, date) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![patient.0, kind_key(o.kind), o.code, o.text, codec::date_text(o.date)])?;
        Ok(())
    }

    fn observations(&self, patient: PatientId) -> Result<Vec<Observation>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT kind, code, text, date FROM observations WHERE patient_id = ?1 ORDER BY date, id")?;
        let mut rows = st.query([patient.0])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            out.push(observation_from_row(r)?);
        }
        Ok(out)
    }
}
