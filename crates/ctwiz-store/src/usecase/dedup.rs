//! Merging duplicate records and settling pairs as different people: the one path for
//! every door (web review queue, `ctwiz patient merge / unmerge / not-duplicate`); the
//! duplicate scan (`dedup_scan`) and the queue's cluster view (`dedup_clusters`).

use super::{audit_refusal, UseCaseError};
use crate::dedup::{DedupStore, MergeOutcome, UnmergeOutcome};
use crate::traits::{Atomic, AuditStore, DoseStore, Interface, InventoryStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::{authorize, Actor};
use ctwiz_core::ids::PatientId;

pub use super::dedup_clusters::{clusters_page, ClusterPage, ReviewCluster};
pub use super::dedup_scan::{scan, ScanModel, ScanOptions, ScanReport, ScanStep};

/// `PatientMerge` in the actor's scope; a refusal is audited (`what` names the attempt).
pub(super) fn may_merge<S: AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
    what: &str,
) -> Result<(), UseCaseError> {
    audit_refusal(
        store,
        actor,
        None,
        now,
        |d| format!("{what}: {d}"),
        authorize(actor, Action::PatientMerge).map(|_| ()),
    )
}

/// `PatientMerge` on record `id` when it exists (the store refuses unknown ones in its own
/// words); a refusal is audited on that record.
fn may_merge_record<S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: PatientId,
    now: NaiveDateTime,
    what: &str,
) -> Result<(), UseCaseError> {
    let Some(p) = store.patient(id)? else {
        return Ok(());
    };
    super::patients::permit_on(store, actor, &p, id, Action::PatientMerge, now, what)?;
    Ok(())
}

/// Merges `duplicate` into `survivor` (`DedupStore::merge_patients`: one transaction,
/// audit rows for both records under the actor's label and door). In the same
/// transaction, each dose event the two records shared keeps one draw from stock
/// (`usecase::dose_stock::merged_repeat`).
pub fn merge<S>(
    store: &S,
    actor: &Actor,
    survivor: PatientId,
    duplicate: PatientId,
    now: NaiveDateTime,
) -> Result<MergeOutcome, UseCaseError>
where
    S: DedupStore + PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    let what = format!("merge patient {duplicate} into {survivor}");
    may_merge(store, actor, now, &what)?;
    // Each record must be one the actor may merge (a health department: its residents).
    for id in [survivor, duplicate] {
        may_merge_record(store, actor, id, now, &what)?;
    }
    let by = actor.label();
    let via = Interface::of(actor.channel);
    // The store's own refusals (itself, unknown, already merged) pass through as they are.
    store
        .atomically(|s| {
            let out = s.merge_patients(survivor, duplicate, &by, via, now)?;
            let kept = s.doses(survivor)?;
            for r in &out.repeated {
                if let Some(k) = kept.iter().find(|d| d.id == Some(r.kept)) {
                    let change = super::dose_stock::Change {
                        by: &by,
                        interface: via,
                        at: now,
                    };
                    super::dose_stock::merged_repeat(s, k, r.repeat, r.draw(), change)?;
                }
            }
            Ok(out)
        })
        .map_err(UseCaseError::Store)
}

/// Undoes the most recent merge of `duplicate` (`DedupStore::unmerge_patient`): the same
/// permission as a merge, on both records; audited on both. In the same transaction, each
/// repeated dose event the merge settled in stock gets its draws back
/// (`usecase::dose_stock::unmerged_repeat`).
pub fn unmerge<S>(
    store: &S,
    actor: &Actor,
    duplicate: PatientId,
    now: NaiveDateTime,
) -> Result<UnmergeOutcome, UseCaseError>
where
    S: DedupStore + PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    let what = format!("undo the merge of patient {duplicate}");
    may_merge(store, actor, now, &what)?;
    may_merge_record(store, actor, duplicate, now, &what)?;
    if let Some(survivor) = store.merged_into(duplicate)? {
        may_merge_record(store, actor, survivor, now, &what)?;
    }
    let by = actor.label();
    let via = Interface::of(actor.channel);
    store
        .atomically(|s| {
            let out = s.unmerge_patient(duplicate, &by, via, now)?;
            let back = s.doses(duplicate)?;
            for r in &out.repeats_restored {
                if let Some(d) = back.iter().find(|d| d.id == Some(r.repeat)) {
                    let change = super::dose_stock::Change {
                        by: &by,
                        interface: via,
                        at: now,
                    };
                    super::dose_stock::unmerged_repeat(s, d, r.kept, r.draw(), change)?;
                }
            }
            Ok(out)
        })
        .map_err(UseCaseError::Store)
}

/// Records that `a` and `b` are different people (`DedupStore::dismiss_pair`).
pub fn dismiss<S: DedupStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    a: PatientId,
    b: PatientId,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    may_merge(store, actor, now, &format!("dismiss pair {a} and {b}"))?;
    store
        .dismiss_pair(a, b, &actor.label(), Interface::of(actor.channel), now)
        .map_err(UseCaseError::Store)
}

/// Review `review`'s pair with both records' live doses, for comparing side by side
/// (`PatientMerge`); each record's disclosure is audited, naming the other.
pub fn compare<S: DedupStore + crate::traits::DoseStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    review: i64,
    now: NaiveDateTime,
) -> Result<
    (
        crate::dedup::DedupPair,
        Vec<ctwiz_core::dose::Dose>,
        Vec<ctwiz_core::dose::Dose>,
    ),
    UseCaseError,
> {
    may_merge(store, actor, now, &format!("compare review {review}"))?;
    let pair = store
        .dedup_pair(review)?
        .ok_or_else(|| super::not_found("review", review))?;
    let (a, b) = (pair.patient.id(), pair.candidate.id());
    let (da, db) = (store.doses(a)?, store.doses(b)?);
    for (p, o) in [(a, b), (b, a)] {
        store.audit(&super::audit_entry(
            actor,
            Some(p),
            crate::AuditAction::Read,
            now,
            format!("compared with patient {o} for deduplication"),
        ))?;
    }
    Ok((pair, da, db))
}

/// The other record of review `review`'s pair, `chosen` being one of its two records.
fn pair_partner<S: DedupStore + ?Sized>(
    store: &S,
    review: i64,
    chosen: PatientId,
) -> Result<PatientId, UseCaseError> {
    let pair = store
        .dedup_pair(review)?
        .ok_or_else(|| super::not_found("review", review))?;
    let (a, b) = (pair.patient.id(), pair.candidate.id());
    match chosen {
        x if x == a => Ok(b),
        x if x == b => Ok(a),
        _ => Err(UseCaseError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "patient {chosen} is not one of the pair under review"
        )))),
    }
}

/// Settles review `review` by merging its other record into `survivor` (one of the pair).
pub fn merge_review<
    S: DedupStore + PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
>(
    store: &S,
    actor: &Actor,
    review: i64,
    survivor: PatientId,
    now: NaiveDateTime,
) -> Result<MergeOutcome, UseCaseError> {
    may_merge(store, actor, now, &format!("merge review {review}"))?;
    let duplicate = pair_partner(store, review, survivor)?;
    merge(store, actor, survivor, duplicate, now)
}

/// Settles review `review` as two different people.
pub fn dismiss_review<S: DedupStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    review: i64,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    may_merge(store, actor, now, &format!("dismiss review {review}"))?;
    let pair = store
        .dedup_pair(review)?
        .ok_or_else(|| super::not_found("review", review))?;
    dismiss(store, actor, pair.patient.id(), pair.candidate.id(), now)
}
