//! The review queue as clusters: records joined by open review pairs grouped together
//! (`ctwiz_core::matching::clusters`), each pair with its match probability and each
//! field's evidence, clusters sorted by their strongest pair. The one view for every door
//! (web review page, `ctwiz patient duplicates`).

use super::{audit_entry, UseCaseError};
use crate::dedup::{DedupSide, DedupStore, OpenReview};
use crate::traits::{AuditStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::PatientId;
use ctwiz_core::matching::{clusters, default_model, Evidence, MatchRecord};
use std::collections::HashMap;

/// Which model's weights a pair's score and evidence come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoredBy {
    /// Stored by the duplicate scan (its fitted or default model).
    Scan,
    /// Flagged by ingest; scored now with the default model (the one ingest uses).
    DefaultModel,
}

/// One open pair of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPair {
    pub review: i64,
    pub a: PatientId,
    pub b: PatientId,
    /// Match probability.
    pub probability: f64,
    /// Each field's part in the score, strongest (by absolute weight) first.
    pub evidence: Vec<Evidence>,
    pub scored_by: ScoredBy,
    pub source: String,
    pub flagged_at: NaiveDateTime,
}

/// Records joined by open pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewCluster {
    /// The records, by id.
    pub records: Vec<DedupSide>,
    /// Its pairs, highest probability first.
    pub pairs: Vec<ClusterPair>,
}

impl ReviewCluster {
    /// The probability of its strongest pair (what the queue sorts by).
    pub fn best(&self) -> f64 {
        self.pairs.first().map_or(0.0, |p| p.probability)
    }
}

/// A page of clusters, strongest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterPage {
    pub clusters: Vec<ReviewCluster>,
    pub total_clusters: u64,
    pub total_pairs: u64,
}

/// `limit` clusters from `offset` (0 limit: 25; at most 200), strongest first
/// (`PatientMerge`); the view is audited as a read.
pub fn clusters_page<S: DedupStore + PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    limit: u32,
    offset: u32,
    now: NaiveDateTime,
) -> Result<ClusterPage, UseCaseError> {
    super::dedup::may_merge(store, actor, now, "view the possible duplicates queue")?;
    let open = store.open_reviews()?;
    let mut records: HashMap<PatientId, MatchRecord> = HashMap::new();
    let mut scored: Vec<ClusterPair> = Vec::with_capacity(open.len());
    for r in open {
        scored.push(score_review(store, &mut records, r)?);
    }
    let edges: Vec<(PatientId, PatientId)> = scored.iter().map(|p| (p.a, p.b)).collect();
    let mut groups: Vec<(Vec<PatientId>, Vec<ClusterPair>)> = clusters(&edges)
        .into_iter()
        .map(|g| (g, Vec::new()))
        .collect();
    let group_of: HashMap<PatientId, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, (g, _))| g.iter().map(move |&id| (id, i)))
        .collect();
    for p in scored {
        groups[group_of[&p.a]].1.push(p);
    }
    for (_, pairs) in &mut groups {
        pairs.sort_by(|x, y| {
            y.probability
                .total_cmp(&x.probability)
                .then(x.review.cmp(&y.review))
        });
    }
    groups.sort_by(|(gx, px), (gy, py)| {
        py[0]
            .probability
            .total_cmp(&px[0].probability)
            .then(gx[0].cmp(&gy[0]))
    });
    let total_clusters = groups.len() as u64;
    let total_pairs = groups.iter().map(|(_, p)| p.len() as u64).sum();
    let limit = if limit == 0 { 25 } else { limit.min(200) } as usize;
    let mut page = Vec::new();
    for (ids, pairs) in groups.into_iter().skip(offset as usize).take(limit) {
        let records = ids
            .iter()
            .map(|&id| {
                store.dedup_side(id)?.ok_or_else(|| {
                    UseCaseError::Store(crate::StoreError::Corrupt(format!(
                        "review names missing patient {id}"
                    )))
                })
            })
            .collect::<Result<_, UseCaseError>>()?;
        page.push(ReviewCluster { records, pairs });
    }
    store.audit(&audit_entry(
        actor,
        None,
        crate::AuditAction::Read,
        now,
        "possible duplicates queue viewed".into(),
    ))?;
    Ok(ClusterPage {
        clusters: page,
        total_clusters,
        total_pairs,
    })
}

/// The pair's stored score and evidence, or (flagged by ingest) the default model's.
fn score_review<S: PatientStore + ?Sized>(
    store: &S,
    records: &mut HashMap<PatientId, MatchRecord>,
    r: OpenReview,
) -> Result<ClusterPair, UseCaseError> {
    let stored = r
        .score
        .zip(r.evidence.as_deref().and_then(Evidence::decode));
    let (probability, mut evidence, scored_by) = match stored {
        Some((p, e)) => (p, e, ScoredBy::Scan),
        None => {
            for id in [r.patient, r.candidate] {
                if let std::collections::hash_map::Entry::Vacant(slot) = records.entry(id) {
                    let p = store.patient(id)?.ok_or_else(|| {
                        UseCaseError::Store(crate::StoreError::Corrupt(format!(
                            "review names missing patient {id}"
                        )))
                    })?;
                    slot.insert(MatchRecord::from_patient(&p));
                }
            }
            let (x, y) = (&records[&r.patient], &records[&r.candidate]);
            let m = default_model();
            (
                m.score(x, y).probability,
                m.explain(x, y),
                ScoredBy::DefaultModel,
            )
        }
    };
    evidence.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
    Ok(ClusterPair {
        review: r.review,
        a: r.patient,
        b: r.candidate,
        probability,
        evidence,
        scored_by,
        source: r.source,
        flagged_at: r.flagged_at,
    })
}
