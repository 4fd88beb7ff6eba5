//! Undoing a merge. Each merge writes a journal row (in its own transaction) naming every
//! row it moved or changed; an unmerge puts exactly those back and leaves alone what was
//! recorded on the survivor since, so nothing entered after the merge is lost.

use super::codec;
use super::SqliteStore;
use crate::dedup::{DedupStore, RepeatedDose, UnmergeOutcome};
use crate::error::{Result, StoreError};
use crate::sql::{params, OptionalExtension};
use crate::traits::{AuditAction, AuditEntry, AuditStore, Interface};
use chrono::NaiveDateTime;
use ctwiz_core::ids::PatientId;
use serde::{Deserialize, Serialize};

/// An observation row as stored (kind, code, text, date).
type ObservationRow = (String, String, String, String);

/// What one merge changed (stored as JSON in `merge_journal.changes`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Journal {
    /// The survivor's stored record (`patients.detail`) before and right after the merge.
    pub survivor_before: String,
    pub survivor_after: String,
    /// Every dose row of the duplicate (deleted ones too), moved to the survivor.
    pub doses_moved: Vec<i64>,
    /// Those of them marked deleted as repeats (the survivor's dose each repeats, the net
    /// draws from stock of both before the merge), with the reason written.
    pub doses_marked: Vec<(RepeatedDose, String)>,
    /// The duplicate's observations moved, and the identical ones dropped.
    pub observations_moved: Vec<i64>,
    pub observations_dropped: Vec<ObservationRow>,
    pub recall_notices_moved: Vec<i64>,
    pub messages_moved: Vec<i64>,
    /// The duplicate's roster places (clinic, added by, added at), and the clinics whose
    /// roster gained the survivor through the merge.
    pub roster_removed: Vec<(String, String, String)>,
    pub roster_added: Vec<String>,
    /// Records merged into the duplicate earlier, re-pointed at the survivor.
    pub repointed: Vec<i64>,
}

fn ids(store: &SqliteStore, sql: &str, args: impl crate::sql::Params) -> Result<Vec<i64>> {
    let mut st = store.conn.prepare_cached(sql)?;
    let rows = st.query_map(args, |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// `UPDATE table SET patient_id = to WHERE id IN (ids) AND patient_id = from`, row by row.
fn move_rows(store: &SqliteStore, table: &str, ids: &[i64], from: i64, to: i64) -> Result<u64> {
    let mut st = store.conn.prepare_cached(&format!(
        "UPDATE {table} SET patient_id = ?1 WHERE id = ?2 AND patient_id = ?3"
    ))?;
    let mut n = 0;
    for id in ids {
        n += st.execute(params![to, id, from])? as u64;
    }
    Ok(n)
}

impl SqliteStore {
    fn detail(&self, id: PatientId) -> Result<String> {
        Ok(self
            .conn
            .prepare_cached("SELECT detail FROM patients WHERE id = ?1")?
            .query_row([id.0], |r| r.get(0))?)
    }

    /// The journal's view of the rows a merge of `d` into `s` is about to change; called
    /// inside the merge's transaction before anything moves.
    pub(super) fn journal_before_merge(&self, s: PatientId, d: PatientId) -> Result<Journal> {
        let mut j = Journal {
            survivor_before: self.detail(s)?,
            doses_moved: ids(self, "SELECT id FROM doses WHERE patient_id = ?1", [d.0])?,
            recall_notices_moved: ids(
                self,
                "SELECT id FROM recall_notices WHERE patient_id = ?1",
                [d.0],
            )?,
            messages_moved: ids(
                self,
                "SELECT id FROM message_log WHERE patient_id = ?1",
                [d.0],
            )?,
            repointed: ids(
                self,
                "SELECT id FROM patients WHERE merged_into = ?1",
                [d.0],
            )?,
            ..Journal::default()
        };
        {
            let mut st = self.conn.prepare_cached(
                "SELECT o.kind, o.code, o.text, o.date FROM observations o WHERE o.patient_id = ?2
                 AND EXISTS (SELECT 1 FROM observations k WHERE k.patient_id = ?1 AND k.kind = o.kind
                 AND k.code = o.code AND k.text = o.text AND k.date = o.date)",
            )?;
            let rows = st.query_map(params![s.0, d.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            j.observations_dropped = rows.collect::<std::result::Result<_, _>>()?;
            j.observations_moved = ids(
                self,
                "SELECT o.id FROM observations o WHERE o.patient_id = ?1 AND NOT EXISTS (
                 SELECT 1 FROM observations k WHERE k.patient_id = ?2 AND k.kind = o.kind
                 AND k.code = o.code AND k.text = o.text AND k.date = o.date)",
                [d.0, s.0],
            )?;
            let mut st = self.conn.prepare_cached(
                "SELECT clinic_pin, added_by, added_at FROM roster_students WHERE patient_id = ?1",
            )?;
            let rows = st.query_map([d.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            j.roster_removed = rows.collect::<std::result::Result<_, _>>()?;
            let mut st = self.conn.prepare_cached(
                "SELECT clinic_pin FROM roster_students r WHERE patient_id = ?2 AND NOT EXISTS
                 (SELECT 1 FROM roster_students k WHERE k.patient_id = ?1 AND k.clinic_pin = r.clinic_pin)",
            )?;
            let rows = st.query_map(params![s.0, d.0], |r| r.get(0))?;
            j.roster_added = rows.collect::<std::result::Result<_, _>>()?;
        }
        Ok(j)
    }

    /// Completes and stores the journal at the end of the merge's transaction.
    pub(super) fn write_merge_journal(
        &self,
        mut j: Journal,
        s: PatientId,
        d: PatientId,
        actor: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        j.survivor_after = self.detail(s)?;
        self.conn.execute(
            "INSERT INTO merge_journal (survivor_id, duplicate_id, merged_at, merged_by, changes)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                s.0,
                d.0,
                at.format(codec::DATETIME).to_string(),
                actor,
                serde_json::to_string(&j)?
            ],
        )?;
        Ok(())
    }

    fn unmerge_in_transaction(
        &self,
        d: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<UnmergeOutcome> {
        let Some((_, into)) = self.patient_with_merge(d)? else {
            return Err(StoreError::NotFound {
                what: "patient",
                id: d.to_string(),
            });
        };
        let Some(into) = into else {
            return Err(StoreError::Conflict(format!(
                "patient {d} is not a merged record"
            )));
        };
        let row: Option<(i64, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, survivor_id, changes FROM merge_journal
                 WHERE duplicate_id = ?1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
            )?
            .query_row([d.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((journal_id, s, changes)) = row else {
            return Err(StoreError::Conflict(format!(
                "the merge of patient {d} was made before merges were journaled and cannot be undone"
            )));
        };
        let s = PatientId(s);
        if into != s {
            return Err(StoreError::Conflict(format!(
                "patient {s}, which {d} was merged into, was itself merged into patient {into}; \
                 undo that merge first"
            )));
        }
        // Later merges into the survivor saw the duplicate's data as the survivor's: they
        // are undone first, newest first, so each journal still describes the records.
        if let Some(later) = self
            .conn
            .prepare_cached(
                "SELECT duplicate_id FROM merge_journal
                 WHERE survivor_id = ?1 AND id > ?2 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![s.0, journal_id], |r| r.get::<i64>(0))
            .optional()?
        {
            return Err(StoreError::Conflict(format!(
                "patient {later} was merged into patient {s} after patient {d}; undo that merge first"
            )));
        }
        let j: Journal = serde_json::from_str(&changes)
            .map_err(|e| StoreError::Corrupt(format!("merge journal {journal_id}: {e}")))?;

        // The survivor: back to its record before the merge when nobody changed it since;
        // otherwise it keeps the later changes and only gives back the duplicate's MRNs.
        let duplicate = Self::patient_from_detail(d.0, &self.detail(d)?)?;
        let current = self.detail(s)?;
        let demographics_restored = current == j.survivor_after;
        let before = Self::patient_from_detail(s.0, &j.survivor_before)?;
        let survivor = if demographics_restored {
            before
        } else {
            let mut p = Self::patient_from_detail(s.0, &current)?;
            p.mrns
                .retain(|m| before.mrns.contains(m) || !duplicate.mrns.contains(m));
            p
        };
        self.write_patient_columns(Some(s), &survivor)?;

        let doses_returned = move_rows(self, "doses", &j.doses_moved, s.0, d.0)?;
        let mut repeats_restored = Vec::new();
        {
            let mut st = self.conn.prepare_cached(
                "UPDATE doses SET deleted_reason = NULL WHERE id = ?1 AND deleted_reason = ?2",
            )?;
            for (r, reason) in &j.doses_marked {
                if st.execute(params![r.repeat.0, reason])? == 1 {
                    repeats_restored.push(*r);
                }
            }
        }
        let mut observations_returned =
            move_rows(self, "observations", &j.observations_moved, s.0, d.0)?;
        {
            let mut st = self.conn.prepare_cached(
                "INSERT INTO observations (patient_id, kind, code, text, date) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (kind, code, text, date) in &j.observations_dropped {
                observations_returned += st.execute(params![d.0, kind, code, text, date])? as u64;
            }
        }
        move_rows(self, "recall_notices", &j.recall_notices_moved, s.0, d.0)?;
        move_rows(self, "message_log", &j.messages_moved, s.0, d.0)?;
        for pin in &j.roster_added {
            self.conn.execute(
                "DELETE FROM roster_students WHERE clinic_pin = ?1 AND patient_id = ?2",
                params![pin, s.0],
            )?;
        }
        for (pin, by, added) in &j.roster_removed {
            self.conn.execute(
                "INSERT INTO roster_students (clinic_pin, patient_id, added_by, added_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![pin, d.0, by, added],
            )?;
        }
        for id in &j.repointed {
            self.conn.execute(
                "UPDATE patients SET merged_into = ?1 WHERE id = ?2 AND merged_into = ?3",
                params![d.0, id, s.0],
            )?;
        }

        // The duplicate lives again, with its MRNs.
        self.conn.execute(
            "UPDATE patients SET merged_into = NULL, merged_at = NULL WHERE id = ?1",
            [d.0],
        )?;
        self.write_patient_columns(Some(d), &duplicate)?;
        self.conn.execute(
            "UPDATE merge_journal SET undone_at = ?1, undone_by = ?2 WHERE id = ?3",
            params![at.format(codec::DATETIME).to_string(), actor, journal_id],
        )?;
        // Whoever undoes a merge says the two are different people: never queue them again.
        self.dismiss_pair(s, d, actor, via, at)?;

        let out = UnmergeOutcome {
            survivor: s,
            duplicate: d,
            doses_returned,
            observations_returned,
            mrns_returned: duplicate.mrns.len() as u64,
            demographics_restored,
            repeats_restored,
        };
        let detail = format!(
            "undid the merge of patient {d} into {s}: {} doses and {} observations returned, {} MRNs; \
             {}",
            out.doses_returned,
            out.observations_returned,
            out.mrns_returned,
            if demographics_restored {
                "the survivor's record restored as before the merge"
            } else {
                "the survivor's later changes kept"
            }
        );
        for patient in [s, d] {
            self.audit(&AuditEntry {
                at,
                actor: actor.to_string(),
                patient: Some(patient),
                action: AuditAction::Unmerge,
                interface: via,
                clinic: None,
                detail: detail.clone(),
            })?;
        }
        Ok(out)
    }

    /// Undoes the most recent merge of `duplicate` (see `DedupStore::unmerge_patient`).
    pub(super) fn unmerge(
        &self,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<UnmergeOutcome> {
        self.in_transaction(|s| s.unmerge_in_transaction(duplicate, actor, via, at))
    }
}
