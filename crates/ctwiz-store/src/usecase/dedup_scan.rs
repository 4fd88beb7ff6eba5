//! The duplicate scan (`ctwiz patient dedup-scan`): the whole registry through the
//! matching engine (`ctwiz_core::matching`: blocking with caps, Fellegi–Sunter scores),
//! the possible duplicates into the review queue with their score and evidence.
//!
//! What an IIS analyst expects of a scan: it proposes, a person decides. Nothing is
//! merged unless the caller asks for it ([`ScanOptions::link`]); then only pairs the
//! engine would link on its own at ingest (`Score::decision` = link: not twins, no
//! disputed birth date, no clinic's two MRNs), each merge through
//! [`super::dedup::merge`] (authorized per record, audited, undoable).

use super::{audit_entry, audit_refusal, UseCaseError};
use crate::dedup::{DedupStore, ProposedReview, QueueCounts};
use crate::traits::{Atomic, AuditStore, DoseStore, InventoryStore, PatientStore};
use crate::StoreError;
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::{authorize_at, Actor};
use ctwiz_core::ids::PatientId;
use ctwiz_core::matching::batch::{score_pairs, ScoredPair, RANDOM_PAIRS};
use ctwiz_core::matching::{
    candidate_pairs, Blocking, Decision, Evidence, MatchModel, MatchRecord,
};
use std::collections::HashMap;

/// Below this many records EM has too few pairs to learn from: the scan uses the
/// default model (`MatchModel::default`), as ingest does (and `ctwiz match pairs`).
pub use ctwiz_core::matching::batch::MIN_RECORDS_TO_FIT;

/// Which weights score the pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScanModel {
    /// Fitted to the registry's own records (EM, u from random pairs), when it holds at
    /// least [`MIN_RECORDS_TO_FIT`]; the default model otherwise. Opt-in: on registries
    /// of 10,000 records and more it is far slower than the default model (see
    /// docs/matching.md).
    Fitted,
    /// The default model, as ingest scores (comparable with what ingest decided).
    #[default]
    Default,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    pub model: ScanModel,
    /// Merge the pairs the engine would link automatically (the rest go to review).
    pub link: bool,
    /// Seed of the random pairs that estimate `u` (a scan is reproducible).
    pub seed: u64,
}

/// Where a scan is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStep {
    Reading { done: u64, total: u64 },
    Scoring { done: u64, total: u64 },
    Merging { done: u64, total: u64 },
    Queueing,
}

/// What a scan found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Live records read.
    pub records: u64,
    /// Pairs blocking proposed (bounded per record).
    pub candidate_pairs: u64,
    /// Whether the weights were fitted to the registry (else the default model).
    pub model_fitted: bool,
    /// Pairs the engine would link automatically.
    pub link_pairs: u64,
    /// Pairs that need a person.
    pub review_pairs: u64,
    /// Records merged into another (only with [`ScanOptions::link`]).
    pub merged: u64,
    /// Merges refused (opted-out record, out of scope...): queued for review instead.
    pub merge_refused: u64,
    /// What the queue took.
    pub queue: QueueCounts,
}

/// Scans every live record for duplicates (`PatientMerge` statewide: the scan reads the
/// whole registry). One audit row records the scan; each merge audits its records.
pub fn scan<S>(
    store: &S,
    actor: &Actor,
    options: ScanOptions,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(ScanStep),
) -> Result<ScanReport, UseCaseError>
where
    S: DedupStore + PatientStore + DoseStore + InventoryStore + AuditStore + Atomic,
{
    audit_refusal::<_, UseCaseError, _>(
        store,
        actor,
        None,
        now,
        |d| format!("duplicate scan of the registry: {d}"),
        authorize_at(actor, Target::State, Action::PatientMerge).map(|_| ()),
    )?;
    let mut report = ScanReport::default();

    // Read: ids and match records of every live record.
    let total = store.patient_count()?;
    let (mut ids, mut records): (Vec<PatientId>, Vec<MatchRecord>) = (Vec::new(), Vec::new());
    store.for_each_chunk(None, 5_000, &mut |chunk| {
        for (p, _, _) in chunk {
            if let Some(id) = p.id {
                ids.push(id);
                records.push(MatchRecord::from_patient(&p));
            }
        }
        progress(ScanStep::Reading {
            done: ids.len() as u64,
            total,
        });
        Ok(())
    })?;
    report.records = ids.len() as u64;

    // Block, fit, score.
    let pairs = candidate_pairs(&records, Blocking::default());
    report.candidate_pairs = pairs.len() as u64;
    let fitted;
    let model: &MatchModel =
        if options.model == ScanModel::Fitted && records.len() >= MIN_RECORDS_TO_FIT {
            report.model_fitted = true;
            fitted = MatchModel::fit(&records, &pairs, RANDOM_PAIRS, options.seed);
            &fitted
        } else {
            ctwiz_core::matching::default_model()
        };
    const CHUNK: usize = 50_000;
    let mut found: Vec<ScoredPair> = Vec::new();
    for (i, chunk) in pairs.chunks(CHUNK).enumerate() {
        found.extend(score_pairs(model, &records, chunk, Decision::Review));
        progress(ScanStep::Scoring {
            done: (i * CHUNK + chunk.len()) as u64,
            total: pairs.len() as u64,
        });
    }
    // Strongest first: merges and the queue's per-record cap keep the best evidence.
    found.sort_by(|x, y| {
        y.score
            .probability
            .total_cmp(&x.score.probability)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    report.link_pairs = found
        .iter()
        .filter(|p| p.score.decision == Decision::Link)
        .count() as u64;
    report.review_pairs = found.len() as u64 - report.link_pairs;

    // Merge (on request): each record into the oldest (lowest id) of its group.
    let mut into: HashMap<u32, u32> = HashMap::new();
    let root = |into: &HashMap<u32, u32>, mut i: u32| {
        while let Some(&j) = into.get(&i) {
            i = j;
        }
        i
    };
    let mut to_review: Vec<&ScoredPair> = Vec::new();
    let mut done = 0;
    for p in &found {
        if !(options.link && p.score.decision == Decision::Link) {
            to_review.push(p);
            continue;
        }
        done += 1;
        progress(ScanStep::Merging {
            done,
            total: report.link_pairs,
        });
        let (ra, rb) = (root(&into, p.a), root(&into, p.b));
        if ra == rb {
            continue;
        }
        let (keep, gone) = if ids[ra as usize] < ids[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        match super::dedup::merge(store, actor, ids[keep as usize], ids[gone as usize], now) {
            Ok(_) => {
                into.insert(gone, keep);
                report.merged += 1;
            }
            // A refusal of this merge (a rule, the record's scope): a person decides.
            Err(
                UseCaseError::Denied(_)
                | UseCaseError::Invalid(_)
                | UseCaseError::Merged { .. }
                | UseCaseError::Store(StoreError::Conflict(_) | StoreError::Core(_)),
            ) => {
                report.merge_refused += 1;
                to_review.push(p);
            }
            Err(e) => return Err(e),
        }
    }

    // Queue the rest, naming the records that are still live.
    progress(ScanStep::Queueing);
    let proposed: Vec<ProposedReview> = to_review
        .into_iter()
        .filter_map(|p| {
            let (ra, rb) = (root(&into, p.a), root(&into, p.b));
            (ra != rb).then(|| {
                let (x, y) = (&records[p.a as usize], &records[p.b as usize]);
                ProposedReview {
                    a: ids[ra as usize],
                    b: ids[rb as usize],
                    score: p.score.probability,
                    evidence: Evidence::encode(&model.explain(x, y)),
                }
            })
        })
        .collect();
    report.queue =
        store.queue_proposed(&proposed, &format!("dedup scan by {}", actor.label()), now)?;
    store.audit(&audit_entry(
        actor,
        None,
        crate::AuditAction::Read,
        now,
        format!(
            "duplicate scan of {} records ({} model): {} to link, {} to review, {} merged, {} queued",
            report.records,
            if report.model_fitted { "fitted" } else { "default" },
            report.link_pairs,
            report.review_pairs,
            report.merged,
            report.queue.queued
        ),
    ))?;
    Ok(report)
}
