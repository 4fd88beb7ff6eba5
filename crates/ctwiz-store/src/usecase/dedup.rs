//! Merging duplicate records and settling pairs as different people: the one path for
//! every door (web review queue, `ctwiz patient merge / not-duplicate`).

use super::{audit_refusal, UseCaseError};
use crate::dedup::{DedupStore, MergeOutcome};
use crate::traits::{AuditStore, Interface};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::{authorize, Actor};
use ctwiz_core::ids::PatientId;

/// `PatientMerge` in the actor's scope; a refusal is audited (`what` names the attempt).
fn may_merge<S: AuditStore + ?Sized>(
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

/// Merges `duplicate` into `survivor` (`DedupStore::merge_patients`: one transaction,
/// audit rows for both records under the actor's label and door).
pub fn merge<S: DedupStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    survivor: PatientId,
    duplicate: PatientId,
    now: NaiveDateTime,
) -> Result<MergeOutcome, UseCaseError> {
    may_merge(
        store,
        actor,
        now,
        &format!("merge patient {duplicate} into {survivor}"),
    )?;
    // The store's own refusals (itself, unknown, already merged) pass through as they are.
    store
        .merge_patients(
            survivor,
            duplicate,
            &actor.label(),
            Interface::of(actor.channel),
            now,
        )
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
