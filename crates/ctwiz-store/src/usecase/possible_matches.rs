//! Adding a patient who may already be in the registry: the records a new one scores in
//! the review band or above against (the matching engine's default model over the store's
//! bounded `match_candidates`), so the person adding can open the existing record instead
//! of creating a duplicate, or confirm that it is someone else.

use super::{audit_entry, UseCaseError};
use crate::dedup::{DedupSide, DedupStore};
use crate::traits::{Atomic, AuditAction, AuditStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::PatientId;
use ctwiz_core::matching::{default_model, Decision, Evidence, MatchRecord};
use ctwiz_core::patient::Patient;

/// An existing record the new one may duplicate.
#[derive(Debug, Clone, PartialEq)]
pub struct PossibleMatch {
    pub existing: DedupSide,
    /// Match probability.
    pub probability: f64,
    /// Each field's part in the score, strongest (by absolute weight) first.
    pub evidence: Vec<Evidence>,
}

/// What adding a patient did.
#[derive(Debug, Clone, PartialEq)]
pub enum Added {
    /// Created (no possible match, or the person confirmed it is someone else).
    Created(PatientId),
    /// Nothing written: these existing records may be the same person (strongest first).
    PossibleDuplicates(Vec<PossibleMatch>),
}

/// Adds `p` like [`super::patients::create`], unless it scores in the review band or above
/// against existing records the actor may view and `confirmed` is false: then nothing is
/// written and the matches come back, each disclosure audited on the existing record.
/// Records the actor may not view are not shown (nor do they stop the add: a clinic user
/// cannot act on what they cannot see; the duplicate scan finds those later).
pub fn create_checked<S: PatientStore + DedupStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    p: &Patient,
    confirmed: bool,
    now: NaiveDateTime,
) -> Result<Added, UseCaseError> {
    super::actors::permit(store, actor, Action::PatientEdit, now, "add a patient")?;
    p.validate(now.date())?;
    if !confirmed {
        let found = possible_matches(store, actor, p)?;
        if !found.is_empty() {
            for m in &found {
                store.audit(&audit_entry(
                    actor,
                    Some(m.existing.id()),
                    AuditAction::Read,
                    now,
                    format!(
                        "shown as a possible duplicate of a patient being added (match {:.3})",
                        m.probability
                    ),
                ))?;
            }
            return Ok(Added::PossibleDuplicates(found));
        }
    }
    super::patients::create(store, actor, p, now).map(Added::Created)
}

fn possible_matches<S: PatientStore + DedupStore + ?Sized>(
    store: &S,
    actor: &Actor,
    p: &Patient,
) -> Result<Vec<PossibleMatch>, UseCaseError> {
    let model = default_model();
    let new = MatchRecord::from_patient(p);
    let mut out = Vec::new();
    for c in store.match_candidates(p)? {
        let Some(id) = c.id else { continue };
        let old = MatchRecord::from_patient(&c);
        let score = model.score(&new, &old);
        if score.judged < Decision::Review {
            continue;
        }
        let [may_view] = super::patients::allowed_on(store, actor, id, &c, [Action::PatientView])?;
        if !may_view {
            continue;
        }
        let Some(existing) = store.dedup_side(id)? else {
            continue;
        };
        let mut evidence = model.explain(&new, &old);
        evidence.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
        out.push(PossibleMatch {
            existing,
            probability: score.probability,
            evidence,
        });
    }
    out.sort_by(|x, y| y.probability.total_cmp(&x.probability));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use chrono::NaiveDate;
    use ctwiz_core::actor::Channel;
    use ctwiz_core::patient::{PersonName, Sex};

    fn child(given: &str, family: &str, m: u32, d: u32) -> Patient {
        Patient::new(
            PersonName::new(family, given).expect("name"),
            NaiveDate::from_ymd_opt(2023, m, d).expect("dob"),
            Sex::Female,
        )
        .expect("patient")
    }

    #[test]
    fn a_possible_duplicate_is_shown_and_created_only_when_confirmed() {
        let s = SqliteStore::open_in_memory().expect("db");
        let now = NaiveDate::from_ymd_opt(2025, 2, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("now");
        let actor = super::super::actors::local_operator("tester", Channel::Web);
        let old = s
            .create_patient(&child("Marisol", "Quintanilla", 3, 4))
            .expect("old");
        // A typo and a swapped day/month: shown, with evidence; nothing written.
        let again = child("Marisol", "Quintanila", 4, 3);
        let Added::PossibleDuplicates(found) =
            create_checked(&s, &actor, &again, false, now).expect("checked")
        else {
            panic!("a possible duplicate");
        };
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].existing.id(), old);
        assert!(found[0].probability >= default_model().thresholds.review);
        assert!(found[0]
            .evidence
            .iter()
            .any(|e| e.level == "day and month transposed"));
        assert_eq!(s.patient_count().expect("count"), 1);
        // Confirmed: created.
        assert!(matches!(
            create_checked(&s, &actor, &again, true, now).expect("created"),
            Added::Created(_)
        ));
        // A twin (same birth date and family, another given name) is not a duplicate.
        assert!(matches!(
            create_checked(&s, &actor, &child("Sofia", "Quintanilla", 3, 4), false, now)
                .expect("created"),
            Added::Created(_)
        ));
        assert_eq!(s.patient_count().expect("count"), 3);
    }
}
