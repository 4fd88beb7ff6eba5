use super::codec::{self, stored};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::sql::{params, params_from_iter, OptionalExtension, Row};
use crate::traits::{
    DoseStore, PatientQuery, PatientStore, PatientSummary, SearchPage, MATCH_CANDIDATES_PER_PASS,
};
use chrono::NaiveDate;
use ctwiz_core::dose::Dose;
use ctwiz_core::ids::{ClinicPin, DoseId, PatientId};
use ctwiz_core::matching::{dob_variants, normalize_name, soundex, MAX_DOB_VARIANTS};
use ctwiz_core::patient::{Patient, PatientStatus, PersonName, Sex};

/// The columns a patient row is written with ([`SqliteStore::patient_values`]).
const PATIENT_COLUMNS: &str = "family, given, middle, family_sx, given_sx, family_norm, given_norm,
    dob, sex, county, status, confidential, opted_out, deceased_date, detail, town";
const PATIENT_VALUES: &str =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16";

/// The refusal of an MRN that another record holds at the same clinic.
fn mrn_taken(m: &ctwiz_core::patient::Mrn) -> StoreError {
    StoreError::Conflict(format!(
        "MRN {} at clinic {} already belongs to another patient",
        m.value, m.clinic
    ))
}

/// The smallest string greater than every string starting with `prefix` (for index ranges).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

impl SqliteStore {
    /// The `patients` columns of a record, in the order of [`PATIENT_COLUMNS`].
    fn patient_values(&self, p: &Patient) -> Result<Vec<Box<dyn crate::sql::ToSql>>> {
        let places = crate::traits::PlaceStore::places(self)?;
        let town = places.locate(p).town.map(|t| t.to_string());
        let fam = normalize_name(&p.name.family);
        let giv = normalize_name(&p.name.given);
        Ok(vec![
            Box::new(p.name.family.clone()),
            Box::new(p.name.given.clone()),
            Box::new(p.name.middle.clone()),
            Box::new(soundex(&fam)),
            Box::new(soundex(&giv)),
            Box::new(fam),
            Box::new(giv),
            Box::new(codec::date_text(p.dob)),
            Box::new(p.sex.code()),
            Box::new(p.county().map(|c| c.name())),
            Box::new(p.status.code()),
            Box::new(p.confidential),
            Box::new(p.is_opted_out()),
            Box::new(p.deceased_date.map(codec::date_text)),
            Box::new(serde_json::to_string(p)?),
            Box::new(town),
        ])
    }

    pub(super) fn write_patient_columns(
        &self,
        id: Option<PatientId>,
        p: &Patient,
    ) -> Result<PatientId> {
        let values = self.patient_values(p)?;
        let args = params_from_iter(values.iter());
        let id = match id {
            None => PatientId(self.conn.insert_returning_id(
                &format!("INSERT INTO patients ({PATIENT_COLUMNS}) VALUES ({PATIENT_VALUES})"),
                args,
            )?),
            Some(id) => {
                let n = self
                    .conn
                    .prepare_cached(
                        "UPDATE patients SET family=?1, given=?2, middle=?3, family_sx=?4, given_sx=?5,
                         family_norm=?6, given_norm=?7, dob=?8, sex=?9, county=?10, status=?11,
                         confidential=?12, opted_out=?13, deceased_date=?14, detail=?15, town=?16,
                         updated_at=datetime('now')
                         WHERE id=?17 AND merged_into IS NULL",
                    )?
                    .execute(crate::sql::params_from_iter(
                        values
                            .iter()
                            .map(|v| v.as_ref() as &dyn crate::sql::ToSql)
                            .chain(std::iter::once(&id.0 as &dyn crate::sql::ToSql)),
                    ))?;
                if n == 0 {
                    return Err(match self.merged_into(id)? {
                        // A merged record is a tombstone: changes go to the survivor.
                        Some(into) => StoreError::Conflict(format!(
                            "patient {id} was merged into patient {into}; edit that record"
                        )),
                        None => StoreError::NotFound {
                            what: "patient",
                            id: id.to_string(),
                        },
                    });
                }
                self.conn
                    .prepare_cached("DELETE FROM mrns WHERE patient_id = ?1")?
                    .execute([id.0])?;
                id
            }
        };
        let mut ins = self
            .conn
            .prepare_cached("INSERT INTO mrns (clinic_pin, mrn, patient_id) VALUES (?1, ?2, ?3)")?;
        for m in &p.mrns {
            ins.execute(params![m.clinic.as_str(), m.value, id.0])
                .map_err(|e| match e {
                    f if f.is_constraint_violation() => mrn_taken(m),
                    other => other.into(),
                })?;
        }
        Ok(id)
    }

    /// A new record with its MRNs and doses, inside the caller's transaction; the doses'
    /// ids in order.
    fn insert_record(&self, p: &Patient, doses: &[Dose]) -> Result<(PatientId, Vec<DoseId>)> {
        if self.conn.dialect() == crate::sql::Dialect::Postgres
            && doses.len() <= super::doses::DOSES_PER_INSERT
        {
            return self.insert_record_at_once(p, doses);
        }
        let id = self.write_patient_columns(None, p)?;
        let doses = self.add_doses(id, doses)?;
        Ok((id, doses))
    }

    /// PostgreSQL: the patient row, its MRNs and its doses in one statement (data-modifying
    /// CTEs), one round trip instead of three. An MRN another record holds is not inserted
    /// (`ON CONFLICT DO NOTHING`) and refuses the record as the row-by-row path does; the
    /// caller's scope then undoes the rest.
    fn insert_record_at_once(
        &self,
        p: &Patient,
        doses: &[Dose],
    ) -> Result<(PatientId, Vec<DoseId>)> {
        let recorded_at = self.transaction_time()?;
        // The doses' values borrow from `doses`.
        let mut args: Vec<Box<dyn crate::sql::ToSql + '_>> = self.patient_values(p)?;
        let mut sql = format!(
            "WITH p AS (INSERT INTO patients ({PATIENT_COLUMNS}) VALUES ({PATIENT_VALUES}) RETURNING id)"
        );
        if !p.mrns.is_empty() {
            let mut rows = Vec::with_capacity(p.mrns.len());
            for m in &p.mrns {
                args.push(Box::new(m.clinic.as_str().to_string()));
                args.push(Box::new(m.value.clone()));
                let n = args.len();
                rows.push(format!("(?{}, ?{n}, (SELECT id FROM p))", n - 1));
            }
            sql.push_str(&format!(
                ", m AS (INSERT INTO mrns (clinic_pin, mrn, patient_id) VALUES {}
                 ON CONFLICT DO NOTHING RETURNING clinic_pin, mrn)",
                rows.join(", ")
            ));
        }
        if !doses.is_empty() {
            let mut rows = Vec::with_capacity(doses.len());
            for d in doses {
                let first = args.len() + 1;
                args.extend(
                    Self::dose_params(d)?
                        .into_iter()
                        .map(|v| Box::new(v) as Box<dyn crate::sql::ToSql>),
                );
                args.push(Box::new(recorded_at.as_str()));
                let cols = super::doses::placeholders(first, args.len() + 1 - first);
                rows.push(format!("((SELECT id FROM p), {cols})"));
            }
            sql.push_str(&format!(
                ", d AS ({}{} RETURNING id)",
                super::doses::INSERT_DOSE,
                rows.join(", ")
            ));
        }
        // The patient's row with each inserted MRN, then a row per dose id.
        sql.push_str(if p.mrns.is_empty() {
            " SELECT id, NULL, NULL, NULL::BIGINT FROM p"
        } else {
            " SELECT p.id, m.clinic_pin, m.mrn, NULL::BIGINT FROM p LEFT JOIN m ON true"
        });
        if !doses.is_empty() {
            sql.push_str(" UNION ALL SELECT NULL, NULL, NULL, id FROM d");
        }
        let mut st = self.conn.prepare_cached(&sql)?;
        let mut rows = st.query(params_from_iter(args.iter()))?;
        let mut id = None;
        let mut inserted = std::collections::HashSet::new();
        let mut dose_ids = Vec::with_capacity(doses.len());
        while let Some(r) = rows.next()? {
            if let Some(dose) = r.get::<Option<i64>>(3)? {
                dose_ids.push(dose);
                continue;
            }
            id = Some(r.get::<i64>(0)?);
            if let (Some(clinic), Some(mrn)) =
                (r.get::<Option<String>>(1)?, r.get::<Option<String>>(2)?)
            {
                inserted.insert((clinic, mrn));
            }
        }
        let id = id.ok_or_else(|| StoreError::Corrupt("a new patient row without id".into()))?;
        let dose_ids = super::doses::dose_ids_in_order(dose_ids, doses.len())?;
        for m in &p.mrns {
            // Taken by another record, or twice in this one.
            if !inserted.remove(&(m.clinic.as_str().to_string(), m.value.clone())) {
                return Err(mrn_taken(m));
            }
        }
        Ok((PatientId(id), dose_ids))
    }

    /// `match_candidates` on SQLite when few records share the probe's two name sounds
    /// (the usual case: a group of a few in a registry of a million): their birth dates
    /// are read from the index and compared here, instead of one index seek per birth-date
    /// variant (some eighty, a fifth of an import's store work). Same candidates in the
    /// same order as the one statement; `None` when the group is larger, for it.
    fn match_candidates_in_small_group(
        &self,
        probe: &Patient,
        fam_sx: &str,
        giv_sx: &str,
        variants: &[String],
    ) -> Result<Option<Vec<Patient>>> {
        let dobs: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT dob FROM patients WHERE family_sx = ?1 AND given_sx = ?2 LIMIT ?3",
            )?
            .query_map(params![fam_sx, giv_sx, SMALL_SOUND_GROUP as i64 + 1], |r| {
                r.get::<String>(0)
            })?
            .collect::<crate::sql::Result<_>>()?;
        if dobs.len() > SMALL_SOUND_GROUP {
            return Ok(None);
        }
        let same_dob = self
            .conn
            .prepare_cached(SAME_DOB_PASS)?
            .query_map(
                params![
                    codec::date_text(probe.dob),
                    fam_sx,
                    giv_sx,
                    MATCH_CANDIDATES_PER_PASS as i64
                ],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )?
            .collect::<crate::sql::Result<Vec<_>>>()?;
        // The variants are in date order, as the one statement reads them.
        let mut near = Vec::new();
        for v in variants.iter().filter(|v| dobs.contains(v)) {
            let room = MATCH_CANDIDATES_PER_PASS as usize - near.len();
            if room == 0 {
                break;
            }
            let mut st = self.conn.prepare_cached(
                "SELECT id, detail FROM patients
                 WHERE family_sx = ?1 AND given_sx = ?2 AND dob = ?3 AND merged_into IS NULL
                 ORDER BY id",
            )?;
            let rows = st.query_map(params![fam_sx, giv_sx, v], |r| {
                Ok((r.get::<i64>(0)?, r.get::<String>(1)?))
            })?;
            for r in rows.take(room) {
                near.push(r?);
            }
        }
        Self::candidates(same_dob.into_iter().chain(near)).map(Some)
    }

    /// The lookup's rows (id, detail), first pass first, as candidates: a record both
    /// passes found is one candidate.
    fn candidates(rows: impl IntoIterator<Item = (i64, String)>) -> Result<Vec<Patient>> {
        let mut found: Vec<Patient> = Vec::new();
        for (id, d) in rows {
            if !found.iter().any(|p| p.id == Some(PatientId(id))) {
                found.push(SqliteStore::patient_from_detail(id, &d)?);
            }
        }
        Ok(found)
    }

    pub(super) fn patient_from_detail(id: i64, detail: &str) -> Result<Patient> {
        let mut p: Patient = serde_json::from_str(detail)
            .map_err(|e| StoreError::Corrupt(format!("patient {id}: {e}")))?;
        p.id = Some(PatientId(id));
        Ok(p)
    }

    fn summary(r: &Row<'_>) -> Result<PatientSummary> {
        let mut name = PersonName {
            family: r.get(1)?,
            given: r.get(2)?,
            middle: r.get(3)?,
            suffix: None,
        };
        name.middle = name.middle.filter(|m| !m.is_empty());
        Ok(PatientSummary {
            id: PatientId(r.get(0)?),
            name,
            dob: codec::date(&r.get::<String>(4)?)?,
            sex: stored("sex", Sex::from_code(&r.get::<String>(5)?))?,
            county: codec::county(r.get(6)?)?,
            status: stored("status", PatientStatus::from_code(&r.get::<String>(7)?))?,
            confidential: r.get(8)?,
            opted_out: r.get(9)?,
        })
    }
}

/// A search's total stops counting here (the page says "10001 matching records").
const SEARCH_COUNT_CAP: u64 = 10_001;

const SUMMARY_COLUMNS: &str =
    "p.id, p.family, p.given, p.middle, p.dob, p.sex, p.county, p.status, p.confidential, p.opted_out";

/// At most this many records sharing a probe's two name sounds: SQLite compares their
/// birth dates with the variants in Rust (`match_candidates_in_small_group`).
const SMALL_SOUND_GROUP: usize = 32;

/// The lookup's first pass, (id, detail): the same birth date (?1), either name sounding
/// alike (?2, ?3), at most ?4 records.
const SAME_DOB_PASS: &str = "SELECT id, detail FROM patients
    WHERE dob = ?1 AND (family_sx = ?2 OR given_sx = ?3) AND merged_into IS NULL LIMIT ?4";

/// The matching lookup, two passes in one statement (one round trip to a database
/// server), each capped:
/// 1. same birth date, either name sounding alike (index on dob);
/// 2. both names sounding alike, birth date one slip away (index on family_sx, given_sx,
///    dob: one seek per variant).
///
/// Built once with a slot for every possible variant: a statement per variant count
/// cost more to build and look up than the lookup itself. Ordered by pass in Rust: an
/// `ORDER BY` made SQLite build two temporary b-trees per message.
///
/// Two texts, one per engine. SQLite turns `dob IN (…80 values…)` into a temporary
/// b-tree filled and searched on every run (a third of the lookup's cost); a join with
/// the variants as a `VALUES` list, written as the outer loop (`CROSS JOIN` fixes the
/// order in SQLite), seeks the index once per variant with nothing built. PostgreSQL
/// plans the `IN` list as one index scan over an array.
static MATCH_CANDIDATES: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let same_dob = format!(
        "SELECT id, detail, 1 AS pass FROM ({SAME_DOB_PASS}) AS same_dob
         UNION ALL"
    );
    let postgres = format!(
        "{same_dob}
         SELECT id, detail, pass FROM (
           SELECT id, detail, 2 AS pass FROM patients
           WHERE family_sx = ?2 AND given_sx = ?3 AND dob IN ({})
           AND merged_into IS NULL LIMIT ?4) AS near_dob",
        super::doses::placeholders(5, MAX_DOB_VARIANTS)
    );
    let rows = (5..5 + MAX_DOB_VARIANTS)
        .map(|i| format!("(?{i})"))
        .collect::<Vec<_>>()
        .join(", ");
    let sqlite = format!(
        "{same_dob}
         SELECT id, detail, pass FROM (
           SELECT p.id, p.detail, 2 AS pass FROM (VALUES {rows}) AS v
           CROSS JOIN patients p
           WHERE p.family_sx = ?2 AND p.given_sx = ?3 AND p.dob = v.column1
           AND p.merged_into IS NULL LIMIT ?4) AS near_dob"
    );
    [sqlite, postgres]
});

impl PatientStore for SqliteStore {
    fn create_patient(&self, p: &Patient) -> Result<PatientId> {
        self.in_transaction(|s| s.write_patient_columns(None, p))
    }

    fn update_patient(&self, p: &Patient) -> Result<()> {
        let id = p
            .id
            .ok_or_else(|| StoreError::Conflict("cannot update a patient that has no id".into()))?;
        self.in_transaction(|s| s.write_patient_columns(Some(id), p).map(|_| ()))
    }

    fn patient(&self, id: PatientId) -> Result<Option<Patient>> {
        let detail: Option<String> = self
            .conn
            .prepare_cached("SELECT detail FROM patients WHERE id = ?1")?
            .query_row([id.0], |r| r.get(0))
            .optional()?;
        detail
            .map(|d| Self::patient_from_detail(id.0, &d))
            .transpose()
    }

    fn merged_into(&self, id: PatientId) -> Result<Option<PatientId>> {
        // One hop is enough: a merge re-points earlier merges into the duplicate.
        Ok(self
            .conn
            .prepare_cached("SELECT merged_into FROM patients WHERE id = ?1")?
            .query_row([id.0], |r| r.get::<Option<i64>>(0))
            .optional()?
            .flatten()
            .map(PatientId))
    }

    fn find_by_mrn(&self, clinic: &ClinicPin, mrn: &str) -> Result<Option<PatientId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT patient_id FROM mrns WHERE clinic_pin = ?1 AND mrn = ?2")?
            .query_row(params![clinic.as_str(), mrn.trim()], |r| r.get(0))
            .optional()?
            .map(PatientId))
    }

    fn match_candidates(&self, probe: &Patient) -> Result<Vec<Patient>> {
        let fam = normalize_name(&probe.name.family);
        let giv = normalize_name(&probe.name.given);
        let (fam_sx, giv_sx) = (soundex(&fam), soundex(&giv));
        // In date order, the order an index over the variants would give.
        let mut variants: Vec<NaiveDate> = dob_variants(probe.dob);
        variants.sort_unstable();
        let variants: Vec<String> = variants.into_iter().map(codec::date_text).collect();
        if variants.len() > MAX_DOB_VARIANTS {
            return Err(StoreError::Corrupt(format!(
                "{} birth-date variants, more than the {MAX_DOB_VARIANTS} the lookup binds",
                variants.len()
            )));
        }
        if self.conn.dialect() == crate::sql::Dialect::Sqlite {
            if let Some(found) =
                self.match_candidates_in_small_group(probe, &fam_sx, &giv_sx, &variants)?
            {
                return Ok(found);
            }
        }
        let [sqlite, postgres] = &*MATCH_CANDIDATES;
        let sql = match self.conn.dialect() {
            crate::sql::Dialect::Sqlite => sqlite,
            crate::sql::Dialect::Postgres => postgres,
        };
        let mut st = self.conn.prepare_cached(sql)?;
        use crate::sql::Value;
        let args = [
            Value::Text(codec::date_text(probe.dob)),
            Value::Text(fam_sx),
            Value::Text(giv_sx),
            Value::Integer(MATCH_CANDIDATES_PER_PASS as i64),
        ]
        .into_iter()
        .chain(variants.into_iter().map(Value::Text))
        // Unused variant slots are NULL, which no birth date equals.
        .chain(std::iter::repeat(Value::Null))
        .take(4 + MAX_DOB_VARIANTS);
        let mut rows = st
            .query_map(params_from_iter(args), |r| {
                Ok((r.get::<i64>(2)?, r.get::<i64>(0)?, r.get::<String>(1)?))
            })?
            .collect::<crate::sql::Result<Vec<_>>>()?;
        rows.sort_by_key(|r| r.0);
        Self::candidates(rows.into_iter().map(|(_, id, d)| (id, d)))
    }

    fn search_patients(&self, q: &PatientQuery) -> Result<SearchPage> {
        use crate::sql::Value;
        let mut wheres: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let mut from = String::from("patients p");
        if let Some(id) = q.id {
            // The id of a merged record finds the record it was merged into.
            let id = self.merged_into(id)?.unwrap_or(id);
            wheres.push("p.id = ?".into());
            args.push(Value::Integer(id.0));
        }
        if let Some(mrn) = q.mrn.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            from.push_str(" JOIN mrns m ON m.patient_id = p.id");
            wheres.push("m.mrn = ?".into());
            args.push(Value::Text(mrn.to_string()));
        }
        if let Some(dob) = q.dob {
            wheres.push("p.dob = ?".into());
            args.push(Value::Text(codec::date_text(dob)));
        }
        // A name matches by prefix; a phonetic search also by Soundex, exact prefixes
        // listed before sound-alikes.
        let mut sounds: Vec<(&str, &str, String)> = Vec::new();
        for (column_norm, column_sx, value) in [
            ("family_norm", "family_sx", &q.family),
            ("given_norm", "given_sx", &q.given),
        ] {
            let Some(v) = value
                .as_deref()
                .map(normalize_name)
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            // A name without English letters has no Soundex code: prefix search only.
            if q.phonetic && !soundex(&v).is_empty() {
                sounds.push((column_norm, column_sx, v));
            } else {
                wheres.push(format!("p.{column_norm} >= ? AND p.{column_norm} < ?"));
                args.push(Value::Text(v.clone()));
                args.push(Value::Text(prefix_end(&v)));
            }
        }
        if let Some(cs) = &q.counties {
            if cs.is_empty() {
                return Ok(SearchPage::default());
            }
            wheres.push(format!("p.county IN ({})", vec!["?"; cs.len()].join(", ")));
            args.extend(cs.iter().map(|c| Value::Text(c.name().to_string())));
        }
        if let Some(ts) = &q.towns {
            if ts.is_empty() {
                return Ok(SearchPage::default());
            }
            wheres.push(format!("p.town IN ({})", vec!["?"; ts.len()].join(", ")));
            args.extend(ts.iter().map(|t| Value::Text(t.clone())));
        }
        if wheres.is_empty() && sounds.is_empty() {
            return Err(StoreError::Conflict(
                "give at least one search criterion: name, birth date, MRN or id".into(),
            ));
        }
        // Merged records are tombstones, never results. Said as "not one of the merged
        // ids" (a short list, read once per query through `patients_merged`), a search
        // reads only its index until it has the page: `merged_into IS NULL` would read
        // each matching row of the table to check it.
        wheres.push("p.id NOT IN (SELECT id FROM patients WHERE merged_into IS NOT NULL)".into());
        // Results are ordered by tier, then name, birth date and id. Tier t takes each
        // phonetic name by its prefix (its bit clear) or as a sound-alike only (set); the
        // given name's bit is the high one: both prefixes first, then the given name's
        // prefix with a sound-alike family name, then a sound-alike given name with the
        // family prefix, then both sound-alikes. Each tier is one query in name order,
        // which an index serves without sorting: a page costs the rows it shows, not
        // every match (a one-letter name matches a tenth of the registry). `given_sx` is a
        // function of `given_norm`, so ordering by it too changes no order; it lets the
        // indexes `web_patients_name_lookup` and `patients_search_sound` serve the order
        // as stored.
        let tiers: Vec<(String, Vec<Value>)> = (0..1usize << sounds.len())
            .map(|t| {
                let mut w = wheres.clone();
                let mut a = args.clone();
                for (i, (column_norm, column_sx, v)) in sounds.iter().enumerate() {
                    let prefix = format!("p.{column_norm} >= ? AND p.{column_norm} < ?");
                    if t >> i & 1 == 0 {
                        w.push(prefix);
                    } else {
                        w.push(format!("p.{column_sx} = ? AND NOT ({prefix})"));
                        a.push(Value::Text(soundex(v)));
                    }
                    a.push(Value::Text(v.clone()));
                    a.push(Value::Text(prefix_end(v)));
                }
                (w.join(" AND "), a)
            })
            .collect();
        // Up to `cap` matches of a tier (the total shown stops at 10,001).
        let count = |where_sql: &str, a: &[Value], cap: u64| -> Result<u64> {
            let n: i64 = self
                .conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM (SELECT DISTINCT p.id FROM {from} WHERE {where_sql} LIMIT ?) AS page"
                ))?
                .query_row(
                    params_from_iter(a.iter().chain([&Value::Integer(cap as i64)])),
                    |r| r.get(0),
                )?;
            Ok(n as u64)
        };
        let mut total = 0u64;
        for (where_sql, a) in &tiers {
            if total >= SEARCH_COUNT_CAP {
                break;
            }
            total += count(where_sql, a, SEARCH_COUNT_CAP - total)?;
        }
        let mut need = u64::from(if q.limit == 0 { 25 } else { q.limit.min(500) });
        let mut skip = u64::from(q.offset);
        let mut out = Vec::new();
        for (where_sql, a) in &tiers {
            if need == 0 {
                break;
            }
            let mut st = self.conn.prepare_cached(&format!(
                // (PostgreSQL wants a DISTINCT query's sort keys among its columns.)
                "SELECT DISTINCT {SUMMARY_COLUMNS}, p.family_norm, p.given_norm, p.given_sx
                 FROM {from} WHERE {where_sql}
                 ORDER BY p.family_norm, p.given_norm, p.given_sx, p.dob, p.id LIMIT ? OFFSET ?"
            ))?;
            let page = [Value::Integer(need as i64), Value::Integer(skip as i64)];
            let mut rows = st.query(params_from_iter(a.iter().chain(page.iter())))?;
            let before = out.len();
            while let Some(ref r) = rows.next()? {
                out.push(Self::summary(r)?);
            }
            let got = (out.len() - before) as u64;
            if got == 0 && skip > 0 {
                // The page starts after this tier: skip its rows in the next.
                skip -= count(where_sql, a, skip)?;
            } else {
                skip = 0;
            }
            need -= got;
        }
        Ok(SearchPage { rows: out, total })
    }

    fn patient_count(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM patients WHERE merged_into IS NULL",
            [],
            |r| r.get::<i64>(0),
        )? as u64)
    }

    fn patient_clinics(&self, id: PatientId) -> Result<Vec<ClinicPin>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin FROM mrns WHERE patient_id = ?1
             UNION SELECT clinic_pin FROM doses WHERE patient_id = ?1 AND clinic_pin IS NOT NULL
             ORDER BY 1",
        )?;
        let rows = st.query_map([id.0], |r| r.get::<String>(0))?;
        rows.map(|r| stored("clinic PIN", ClinicPin::new(&r?)))
            .collect()
    }

    fn patient_rosters(&self, id: PatientId) -> Result<Vec<ClinicPin>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin FROM roster_students WHERE patient_id = ?1 ORDER BY 1",
        )?;
        let rows = st.query_map([id.0], |r| r.get::<String>(0))?;
        rows.map(|r| stored("clinic PIN", ClinicPin::new(&r?)))
            .collect()
    }

    fn create_patient_with_dose_ids(
        &self,
        p: &Patient,
        doses: &[Dose],
    ) -> Result<(PatientId, Vec<DoseId>)> {
        self.in_transaction(|s| s.insert_record(p, doses))
    }

    fn create_patients_with_doses(&self, batch: &[(Patient, Vec<Dose>)]) -> Result<Vec<PatientId>> {
        self.in_transaction(|s| {
            batch
                .iter()
                .map(|(p, doses)| s.insert_record(p, doses).map(|(id, _)| id))
                .collect()
        })
    }

    fn for_each_patient(&self, f: &mut dyn FnMut(Patient, Vec<Dose>) -> Result<()>) -> Result<()> {
        self.for_each_chunk(None, 2000, &mut |chunk| {
            for (p, d, _) in chunk {
                f(p, d)?;
            }
            Ok(())
        })
    }

    fn for_each_chunk(
        &self,
        born: Option<(NaiveDate, NaiveDate)>,
        chunk: usize,
        f: &mut dyn FnMut(Vec<crate::traits::PatientRecord>) -> Result<()>,
    ) -> Result<()> {
        // Keyset pagination over (dob, id), which the dob index serves in order, so
        // memory stays flat and each chunk costs the same however large the registry is.
        // Dates are stored as ISO text, so bounds are compared as text too.
        let (from, to) = match born {
            Some((f, t)) => (codec::date_text(f), codec::date_text(t)),
            None => ("0000-01-01".to_string(), "9999-12-31".to_string()),
        };
        let mut after = (from, 0i64);
        loop {
            let mut batch: Vec<Patient> = Vec::with_capacity(chunk);
            let mut last_key = None;
            {
                let mut st = self.conn.prepare_cached(
                    "SELECT id, detail, dob FROM patients
                     WHERE dob >= ?1 AND (dob, id) > (?1, ?2) AND dob <= ?3
                     AND merged_into IS NULL
                     ORDER BY dob, id LIMIT ?4",
                )?;
                let mut rows = st.query(params![after.0, after.1, to, chunk as i64])?;
                while let Some(ref r) = rows.next()? {
                    let id: i64 = r.get(0)?;
                    batch.push(Self::patient_from_detail(id, &r.get::<String>(1)?)?);
                    last_key = Some((r.get::<String>(2)?, id));
                }
            }
            let Some(key) = last_key else {
                return Ok(());
            };
            let ids: Vec<i64> = batch.iter().filter_map(|p| p.id.map(|i| i.0)).collect();
            let mut doses = self.doses_of(&ids)?;
            let mut observations = self.observations_of(&ids)?;
            let items = batch
                .into_iter()
                .map(|p| {
                    let id = p.id.map(|i| i.0);
                    let mine = id.and_then(|i| doses.remove(&i)).unwrap_or_default();
                    let seen = id.and_then(|i| observations.remove(&i)).unwrap_or_default();
                    (p, mine, seen)
                })
                .collect();
            f(items)?;
            after = key;
        }
    }
}
