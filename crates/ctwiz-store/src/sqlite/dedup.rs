//! SQLite implementation of the deduplication store (see `crate::dedup`).

use super::codec;
use super::SqliteStore;
use crate::dedup::{
    DedupPage, DedupPair, DedupSide, DedupStore, MergeOutcome, OpenReview, ProposedReview,
    QueueCounts,
};
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension};
use crate::traits::{AuditAction, AuditEntry, AuditStore, DoseStore, Interface, InventoryStore};
use chrono::NaiveDateTime;
use ctwiz_core::ids::PatientId;
use ctwiz_core::matching::model::TermFrequencies;
use ctwiz_core::matching::normalize_name;
use ctwiz_core::merge::{check_merge, merge_demographics, plan_dose_merge};
use ctwiz_core::patient::Patient;

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

/// The unordered pair condition on `dedup_review` for ?1 and ?2.
const SAME_PAIR: &str =
    "((patient_id = ?1 AND candidate_id = ?2) OR (patient_id = ?2 AND candidate_id = ?1))";

impl SqliteStore {
    /// A stored record (tombstones too) and the record it was merged into, if any.
    pub(super) fn patient_with_merge(
        &self,
        id: PatientId,
    ) -> Result<Option<(Patient, Option<PatientId>)>> {
        let row: Option<(String, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT detail, merged_into FROM patients WHERE id = ?1")?
            .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(detail, into)| {
            Ok((
                Self::patient_from_detail(id.0, &detail)?,
                into.map(PatientId),
            ))
        })
        .transpose()
    }

    /// A live (not merged) record, or why not.
    fn live_patient(&self, id: PatientId) -> Result<Patient> {
        match self.patient_with_merge(id)? {
            None => Err(StoreError::NotFound {
                what: "patient",
                id: id.to_string(),
            }),
            Some((_, Some(into))) => Err(StoreError::Conflict(format!(
                "patient {id} was already merged into patient {into}"
            ))),
            Some((p, None)) => Ok(p),
        }
    }

    fn live_dose_count(&self, id: PatientId) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM doses WHERE patient_id = ?1 AND deleted_reason IS NULL",
            )?
            .query_row([id.0], |r| r.get::<i64>(0))? as u64)
    }

    fn review_side(&self, id: PatientId) -> Result<DedupSide> {
        DedupStore::dedup_side(self, id)?
            .ok_or_else(|| StoreError::Corrupt(format!("review names missing patient {id}")))
    }

    fn pair_from_row(&self, r: (i64, i64, i64, String, String)) -> Result<DedupPair> {
        let (review, p, c, source, at) = r;
        Ok(DedupPair {
            review,
            patient: self.review_side(PatientId(p))?,
            candidate: self.review_side(PatientId(c))?,
            source,
            flagged_at: codec::datetime(&at)?,
        })
    }

    /// Closes open reviews of the pair with `status`; returns how many.
    fn close_pair(
        &self,
        a: PatientId,
        b: PatientId,
        status: &str,
        actor: &str,
        at: NaiveDateTime,
    ) -> Result<u64> {
        Ok(self.conn.execute(
            &format!(
                "UPDATE dedup_review SET status = ?3, decided_by = ?4, decided_at = ?5
                 WHERE status = 'open' AND {SAME_PAIR}"
            ),
            params![a.0, b.0, status, actor, ts(at)],
        )? as u64)
    }

    fn merge_in_transaction(
        &self,
        survivor: PatientId,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<MergeOutcome> {
        let kept = self.live_patient(survivor)?;
        let gone = self.live_patient(duplicate)?;
        check_merge(&kept, &gone)?;
        let (s, d) = (survivor.0, duplicate.0);

        // Doses: every row moves (deleted ones too, for audit); repeats of the survivor's
        // doses are kept deleted so nothing counts twice and nothing is lost.
        let plan = plan_dose_merge(&self.doses(survivor)?, &self.doses(duplicate)?);
        // What the merge changes, so it can be undone (`sqlite::unmerge`).
        let mut journal = self.journal_before_merge(survivor, duplicate)?;
        self.conn.execute(
            "UPDATE doses SET patient_id = ?1 WHERE patient_id = ?2",
            params![s, d],
        )?;
        let mut repeated = Vec::new();
        for (dup, kept_dose) in &plan.repeated {
            let reason =
                format!("merge of patient {duplicate} into {survivor}: repeats dose {kept_dose}");
            if self.conn.execute(
                "UPDATE doses SET deleted_reason = ?1 WHERE id = ?2 AND deleted_reason IS NULL",
                params![reason, dup.0],
            )? == 1
            {
                let drawn =
                    |id| -> Result<i64> { Ok(self.dose_draws(id)?.iter().map(|(_, n)| n).sum()) };
                let r = crate::dedup::RepeatedDose {
                    repeat: *dup,
                    kept: *kept_dose,
                    kept_drawn: drawn(*kept_dose)?,
                    repeat_drawn: drawn(*dup)?,
                };
                repeated.push(r);
                journal.doses_marked.push((r, reason));
            }
        }

        // Observations: identical ones (same kind, code, text and date) are one fact.
        let observations_repeated = self.conn.execute(
            "DELETE FROM observations WHERE patient_id = ?2 AND EXISTS (
                 SELECT 1 FROM observations o WHERE o.patient_id = ?1 AND o.kind = observations.kind
                 AND o.code = observations.code AND o.text = observations.text AND o.date = observations.date)",
            params![s, d],
        )? as u64;
        let observations_moved = self.conn.execute(
            "UPDATE observations SET patient_id = ?1 WHERE patient_id = ?2",
            params![s, d],
        )? as u64;

        // Every other table that references a patient (schema/*.rs).
        self.conn.execute(
            "UPDATE recall_notices SET patient_id = ?1 WHERE patient_id = ?2",
            params![s, d],
        )?;
        self.conn.execute(
            "INSERT INTO roster_students (clinic_pin, patient_id, added_by, added_at)
             SELECT clinic_pin, ?1, added_by, added_at FROM roster_students WHERE patient_id = ?2
             ON CONFLICT DO NOTHING",
            params![s, d],
        )?;
        self.conn
            .execute("DELETE FROM roster_students WHERE patient_id = ?1", [d])?;
        self.conn.execute(
            "UPDATE message_log SET patient_id = ?1 WHERE patient_id = ?2",
            params![s, d],
        )?;
        // Earlier merges into the duplicate now point straight at the survivor.
        self.conn.execute(
            "UPDATE patients SET merged_into = ?1 WHERE merged_into = ?2",
            params![s, d],
        )?;
        // audit_log rows are history and keep naming the record they were about.

        // Demographics and MRNs: the duplicate's MRN rows go first so the survivor can
        // take them over (an MRN belongs to one live record).
        let merged = merge_demographics(&kept, &gone);
        let mrns_moved = merged.mrns.len().saturating_sub(kept.mrns.len()) as u64;
        self.conn
            .execute("DELETE FROM mrns WHERE patient_id = ?1", [d])?;
        self.write_patient_columns(Some(survivor), &merged)?;
        self.conn.execute(
            "UPDATE patients SET merged_into = ?1, merged_at = ?2, updated_at = datetime('now')
             WHERE id = ?3",
            params![s, ts(at), d],
        )?;

        // The queue: the pair itself is decided; the duplicate's other open pairs now
        // concern the survivor, unless that repeats a pair already queued or dismissed.
        let mut reviews_resolved = self.close_pair(survivor, duplicate, "merged", actor, at)?;
        self.conn.execute(
            "UPDATE dedup_review SET patient_id = ?1 WHERE status = 'open' AND patient_id = ?2",
            params![s, d],
        )?;
        self.conn.execute(
            "UPDATE dedup_review SET candidate_id = ?1 WHERE status = 'open' AND candidate_id = ?2",
            params![s, d],
        )?;
        reviews_resolved += self.conn.execute(
            "UPDATE dedup_review SET status = 'merged', decided_by = ?1, decided_at = ?2
             WHERE status = 'open' AND (patient_id = candidate_id OR EXISTS (
                 SELECT 1 FROM dedup_review o WHERE o.id != dedup_review.id
                 AND min(o.patient_id, o.candidate_id) = min(dedup_review.patient_id, dedup_review.candidate_id)
                 AND max(o.patient_id, o.candidate_id) = max(dedup_review.patient_id, dedup_review.candidate_id)
                 AND (o.status = 'dismissed' OR (o.status = 'open' AND o.id < dedup_review.id))))",
            params![actor, ts(at)],
        )? as u64;

        self.write_merge_journal(journal, survivor, duplicate, actor, at)?;

        let out = MergeOutcome {
            survivor,
            duplicate,
            doses_moved: plan.moved.len() as u64,
            doses_repeated: plan.repeated.len() as u64,
            repeated,
            observations_moved,
            observations_repeated,
            mrns_moved,
            reviews_resolved,
        };
        let detail = format!(
            "merged patient {duplicate} into {survivor}: {} doses moved, {} repeated doses kept deleted, \
             {} observations moved, {} MRNs added",
            out.doses_moved, out.doses_repeated, out.observations_moved, out.mrns_moved
        );
        for patient in [survivor, duplicate] {
            self.audit(&AuditEntry {
                at,
                actor: actor.to_string(),
                patient: Some(patient),
                action: AuditAction::Merge,
                interface: via,
                clinic: None,
                detail: detail.clone(),
            })?;
        }
        Ok(out)
    }
}

impl DedupStore for SqliteStore {
    fn given_name_counts(&self, given: &[&str]) -> Result<TermFrequencies> {
        let mut tf = TermFrequencies::default();
        let records: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(id) FROM patients")?
            .query_row([], |r| r.get(0))?;
        tf.records = records.unwrap_or(0).max(0) as u64;
        // The store keys names by `normalize_name` (letters only); the matcher keeps
        // digits too ("TEST1"), so each name is looked up by its store key.
        let mut count = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM patients WHERE given_norm = ?1 AND merged_into IS NULL",
        )?;
        for &name in given {
            if tf.counts.contains_key(name) {
                continue;
            }
            let n: i64 = count.query_row([normalize_name(name)], |r| r.get(0))?;
            tf.counts
                .insert(name.to_string(), u32::try_from(n).unwrap_or(u32::MAX));
        }
        Ok(tf)
    }

    fn queue_proposed(
        &self,
        pairs: &[ProposedReview],
        source: &str,
        at: NaiveDateTime,
    ) -> Result<QueueCounts> {
        self.in_transaction(|s| {
            let mut counts = QueueCounts::default();
            let mut known = s.conn.prepare_cached(&format!(
                "SELECT EXISTS (SELECT 1 FROM dedup_review WHERE status IN ('open', 'dismissed') AND {SAME_PAIR})"
            ))?;
            let mut insert = s.conn.prepare_cached(
                "INSERT INTO dedup_review (patient_id, candidate_id, source, created_at, score, evidence)
                 SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), ?3, ?4, CAST(?5 AS DOUBLE PRECISION), ?6
                 WHERE ?1 != ?2
                 AND NOT EXISTS (SELECT 1 FROM patients WHERE id IN (?1, ?2) AND merged_into IS NOT NULL)
                 AND (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND patient_id = ?1)
                   + (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND candidate_id = ?1) < ?7
                 AND (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND patient_id = ?2)
                   + (SELECT COUNT(*) FROM dedup_review WHERE status = 'open' AND candidate_id = ?2) < ?7",
            )?;
            for p in pairs {
                if known.query_row(params![p.a.0, p.b.0], |r| r.get::<bool>(0))? {
                    counts.known += 1;
                    continue;
                }
                let n = insert.execute(params![
                    p.a.0,
                    p.b.0,
                    source,
                    ts(at),
                    p.score,
                    p.evidence,
                    crate::interface::MAX_OPEN_REVIEWS_PER_RECORD
                ])?;
                if n == 1 {
                    counts.queued += 1;
                } else {
                    counts.capped += 1;
                }
            }
            Ok(counts)
        })
    }

    fn open_reviews(&self) -> Result<Vec<OpenReview>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.id, r.patient_id, r.candidate_id, r.source, r.created_at, r.score, r.evidence
             FROM dedup_review r
             JOIN patients a ON a.id = r.patient_id AND a.merged_into IS NULL
             JOIN patients b ON b.id = r.candidate_id AND b.merged_into IS NULL
             WHERE r.status = 'open' ORDER BY r.id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<i64>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<Option<f64>>(5)?,
                r.get::<Option<String>>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (review, p, c, source, at, score, evidence) = row?;
            Ok(OpenReview {
                review,
                patient: PatientId(p),
                candidate: PatientId(c),
                source,
                flagged_at: codec::datetime(&at)?,
                score,
                evidence,
            })
        })
        .collect()
    }

    fn dedup_side(&self, id: PatientId) -> Result<Option<DedupSide>> {
        let Some((patient, _)) = self.patient_with_merge(id)? else {
            return Ok(None);
        };
        Ok(Some(DedupSide {
            patient,
            live_doses: self.live_dose_count(id)?,
        }))
    }

    fn dedup_queue(&self, limit: u32, offset: u32) -> Result<DedupPage> {
        const OPEN: &str = "FROM dedup_review r
             JOIN patients a ON a.id = r.patient_id AND a.merged_into IS NULL
             JOIN patients b ON b.id = r.candidate_id AND b.merged_into IS NULL
             WHERE r.status = 'open'";
        let total: i64 = self
            .conn
            .query_row(&format!("SELECT COUNT(*) {OPEN}"), [], |r| r.get(0))?;
        let limit = if limit == 0 { 25 } else { limit.min(200) };
        let rows: Vec<(i64, i64, i64, String, String)> = {
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT r.id, r.patient_id, r.candidate_id, r.source, r.created_at {OPEN}
                 ORDER BY r.id LIMIT ?1 OFFSET ?2"
            ))?;
            let rows = st.query_map(params![limit, offset], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        Ok(DedupPage {
            rows: rows
                .into_iter()
                .map(|r| self.pair_from_row(r))
                .collect::<Result<_>>()?,
            total: total as u64,
        })
    }

    fn dedup_pair(&self, review: i64) -> Result<Option<DedupPair>> {
        let row: Option<(i64, i64, i64, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, patient_id, candidate_id, source, created_at FROM dedup_review WHERE id = ?1",
            )?
            .query_row([review], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        row.map(|r| self.pair_from_row(r)).transpose()
    }

    fn merge_patients(
        &self,
        survivor: PatientId,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<MergeOutcome> {
        if survivor == duplicate {
            return Err(StoreError::Conflict(format!(
                "patient {survivor} cannot be merged into itself"
            )));
        }
        // Any error inside rolls the whole merge back: both records stay as they were.
        self.in_transaction(|s| s.merge_in_transaction(survivor, duplicate, actor, via, at))
    }

    fn unmerge_patient(
        &self,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<crate::dedup::UnmergeOutcome> {
        self.unmerge(duplicate, actor, via, at)
    }

    fn dismiss_pair(
        &self,
        a: PatientId,
        b: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<()> {
        if a == b {
            return Err(StoreError::Conflict(format!(
                "patient {a} cannot be a duplicate of itself"
            )));
        }
        self.in_transaction(|s| {
            for id in [a, b] {
                if s.patient_with_merge(id)?.is_none() {
                    return Err(StoreError::NotFound {
                        what: "patient",
                        id: id.to_string(),
                    });
                }
            }
            if s.close_pair(a, b, "dismissed", actor, at)? == 0 {
                // Not queued (yet): record the decision so it never is.
                s.conn.execute(
                    "INSERT INTO dedup_review (patient_id, candidate_id, source, created_at, status, decided_by, decided_at)
                     VALUES (?1, ?2, ?3, ?4, 'dismissed', ?3, ?4)",
                    params![a.0, b.0, actor, ts(at)],
                )?;
            }
            for (p, other) in [(a, b), (b, a)] {
                s.audit(&AuditEntry {
                    at,
                    actor: actor.to_string(),
                    patient: Some(p),
                    action: AuditAction::Update,
                    interface: via,
                    clinic: None,
                    detail: format!("marked not a duplicate of patient {other}"),
                })?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traits::PatientStore;
    use chrono::NaiveDate;
    use ctwiz_core::dose::{Dose, InformationSource};
    use ctwiz_core::ids::Cvx;
    use ctwiz_core::patient::{PersonName, Sex};

    fn at() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("valid time")
    }

    fn child(s: &SqliteStore, given: &str, doses: &[(&str, u32)]) -> PatientId {
        let dob = NaiveDate::from_ymd_opt(2024, 1, 1).expect("dob");
        let p = Patient::new(
            PersonName::new("Rivera", given).expect("name"),
            dob,
            Sex::Female,
        )
        .expect("patient");
        let doses: Vec<Dose> = doses
            .iter()
            .map(|(cvx, day)| {
                Dose::new(
                    Cvx::new(cvx).expect("cvx"),
                    NaiveDate::from_ymd_opt(2024, 3, *day).expect("date"),
                    InformationSource::NewRecord,
                )
            })
            .collect();
        s.create_patient_with_doses(&p, &doses).expect("stored")
    }

    /// A failure late in the merge (after doses, observations and MRNs moved) rolls
    /// everything back: both records are exactly as before.
    #[test]
    fn a_failing_merge_leaves_both_records_intact() {
        let s = SqliteStore::open_in_memory().expect("db");
        let a = child(&s, "Luz", &[("08", 2)]);
        let b = child(&s, "Lucia", &[("08", 2), ("10", 5)]);
        let before = (
            s.patient(a).expect("a"),
            s.patient(b).expect("b"),
            s.doses(a).expect("doses a"),
            s.doses(b).expect("doses b"),
        );
        s.conn
            .execute_batch(
                "CREATE TEMP TRIGGER fail_tombstone BEFORE UPDATE OF merged_into ON patients
                 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
            )
            .expect("trigger");
        let e = s
            .merge_patients(a, b, "tester", Interface::Cli, at())
            .unwrap_err();
        assert!(e.to_string().contains("simulated failure"), "{e}");
        let after = (
            s.patient(a).expect("a"),
            s.patient(b).expect("b"),
            s.doses(a).expect("doses a"),
            s.doses(b).expect("doses b"),
        );
        assert_eq!(before, after);
        assert_eq!(s.merged_into(b).expect("lookup"), None);
        assert!(s.audit_for_patient(a, 10).expect("audit").is_empty());
    }
}
