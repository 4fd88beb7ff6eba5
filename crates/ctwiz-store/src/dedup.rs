//! Deduplication: the review queue of possible duplicate records (filled by the HL7
//! interface when a submission matches an existing record only uncertainly) and the two
//! decisions a person makes on a pair: merge the records, or mark them as different people.
//!
//! The rules of a merge (which doses repeat, which demographics win) are pure and live in
//! `ctwiz_core::merge`; this store applies them atomically.

use crate::error::Result;
use crate::traits::Interface;
use chrono::NaiveDateTime;
use ctwiz_core::ids::{DoseId, PatientId};
use ctwiz_core::matching::model::TermFrequencies;
use ctwiz_core::patient::Patient;
use serde::{Deserialize, Serialize};

/// One side of a queued pair: the record as stored and how many live doses it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupSide {
    /// Name, birth date, sex, MRNs and other identifiers are all on the record.
    pub patient: Patient,
    pub live_doses: u64,
}

impl DedupSide {
    pub fn id(&self) -> PatientId {
        self.patient
            .id
            .expect("records loaded from the store carry their id")
    }
}

/// An open pair in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupPair {
    /// The review's id (for decisions and links).
    pub review: i64,
    /// The record the flagging submission created or touched.
    pub patient: DedupSide,
    /// The existing record it may duplicate.
    pub candidate: DedupSide,
    /// Who flagged it (e.g. the HL7 interface user of a clinic).
    pub source: String,
    pub flagged_at: NaiveDateTime,
}

/// A page of the open queue, oldest first, with the number of open pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DedupPage {
    pub rows: Vec<DedupPair>,
    pub total: u64,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOutcome {
    pub survivor: PatientId,
    pub duplicate: PatientId,
    /// Distinct doses moved to the survivor.
    pub doses_moved: u64,
    /// Doses the survivor already had: moved but kept deleted (audit only).
    pub doses_repeated: u64,
    /// The live ones among those repeats, now kept deleted, each with the draws from stock
    /// both doses had (the stock rule settles them from these).
    pub repeated: Vec<RepeatedDose>,
    /// Observations (immunity, contraindications, conditions) moved.
    pub observations_moved: u64,
    /// Identical observations the survivor already had, dropped.
    pub observations_repeated: u64,
    /// MRNs the survivor gained.
    pub mrns_moved: u64,
    /// Queued pairs closed by the merge.
    pub reviews_resolved: u64,
}

/// What an unmerge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmergeOutcome {
    pub survivor: PatientId,
    pub duplicate: PatientId,
    /// Dose rows given back to the duplicate (repeats marked by the merge are live again).
    pub doses_returned: u64,
    /// Observations given back (moved ones and the identical ones the merge dropped).
    pub observations_returned: u64,
    /// MRNs the duplicate holds again.
    pub mrns_returned: u64,
    /// Whether the survivor's record went back to its state before the merge (false: it
    /// was changed after the merge, and keeps those changes minus the duplicate's MRNs).
    pub demographics_restored: bool,
    /// The duplicate's doses the merge had kept deleted as repeats, live again.
    pub repeats_restored: Vec<RepeatedDose>,
}

/// A dose a merge kept deleted as a repeat of the survivor's `kept`, with the net draws
/// from stock both had at the merge: what the merge's stock rule decided from, and what
/// an unmerge reverses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatedDose {
    pub repeat: DoseId,
    pub kept: DoseId,
    pub kept_drawn: i64,
    pub repeat_drawn: i64,
}

impl RepeatedDose {
    /// What the merge did with the repeat's draw (`ctwiz_core::dose_stock::repeat_on_merge`).
    pub fn draw(&self) -> ctwiz_core::dose_stock::RepeatDraw {
        ctwiz_core::dose_stock::repeat_on_merge(self.kept_drawn, self.repeat_drawn)
    }
}

/// A pair the duplicate scan proposes for review, with what the model saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedReview {
    pub a: PatientId,
    pub b: PatientId,
    /// Match probability.
    pub score: f64,
    /// Each field's evidence (`ctwiz_core::matching::Evidence::encode`).
    pub evidence: String,
}

/// What queueing a list of proposed pairs did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// New open reviews.
    pub queued: u64,
    /// Already waiting, or already judged two people: not queued again.
    pub known: u64,
    /// Left out because one of the records already waits in
    /// `MAX_OPEN_REVIEWS_PER_RECORD` open reviews (or is merged).
    pub capped: u64,
}

/// An open review pair with both records live, as the cluster view needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenReview {
    pub review: i64,
    pub patient: PatientId,
    pub candidate: PatientId,
    pub source: String,
    pub flagged_at: NaiveDateTime,
    /// Probability and encoded evidence stored by the scan (`None`: flagged by ingest).
    pub score: Option<f64>,
    pub evidence: Option<String>,
}

pub trait DedupStore {
    /// How many live records carry each of `given` (given names as the matcher
    /// normalizes them, `MatchRecord::given`), keyed as passed, with `records` the
    /// number of records the registry has stored (merged ones included: the highest id,
    /// one index seek). What ingest asks, only for the two names of a pair whose verdict
    /// they can change (`MatchModel::given_names_in_question`), so a message costs no
    /// look-up unless a look-alike of the same birth date is among its candidates; each
    /// name is one count on the index `patients_given_live`.
    fn given_name_counts(&self, given: &[&str]) -> Result<TermFrequencies>;
    /// Queues `pairs` (in the order given: strongest first) for review in one
    /// transaction, each like `flag_for_dedup_review` but with its score and evidence and
    /// with the cap on *both* records: no record waits in more than
    /// `MAX_OPEN_REVIEWS_PER_RECORD` open reviews.
    fn queue_proposed(
        &self,
        pairs: &[ProposedReview],
        source: &str,
        at: NaiveDateTime,
    ) -> Result<QueueCounts>;
    /// Every open pair whose records are both live (ids and stored scores only).
    fn open_reviews(&self) -> Result<Vec<OpenReview>>;
    /// One record (tombstones too) with its live dose count, for the review views.
    fn dedup_side(&self, id: PatientId) -> Result<Option<DedupSide>>;
    /// Open pairs whose records are both still live, oldest first, `limit` from `offset`.
    fn dedup_queue(&self, limit: u32, offset: u32) -> Result<DedupPage>;
    /// One queued pair (open or decided), by review id.
    fn dedup_pair(&self, review: i64) -> Result<Option<DedupPair>>;
    /// Merges `duplicate` into `survivor` in one transaction: the duplicate's doses (those
    /// the survivor already has are kept deleted), observations, recall notices, roster
    /// places, message-log references and MRNs move to the survivor; the survivor's
    /// empty demographics are filled from the duplicate; the duplicate stays as a
    /// tombstone pointing at the survivor; queued pairs of the two are closed; an audit
    /// row records it. Refused (nothing written) for a record into itself, unknown ids,
    /// already-merged or opted-out records.
    fn merge_patients(
        &self,
        survivor: PatientId,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<MergeOutcome>;
    /// Undoes the most recent merge of `duplicate`, in one transaction: the rows the
    /// merge moved go back, the survivor's record is restored (or, if edited since the
    /// merge, keeps those edits and gives back the duplicate's MRNs), the duplicate lives
    /// again, the pair is settled as different people, and both records get an audit row.
    /// What was recorded on the survivor after the merge stays there. Refused (nothing
    /// written) for a record that is not merged, or when a later merge involving the
    /// survivor must be undone first.
    fn unmerge_patient(
        &self,
        duplicate: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<UnmergeOutcome>;
    /// Records that two records are different people: their open pairs are closed and
    /// the pair is never queued again. Works for pairs not (yet) in the queue too.
    fn dismiss_pair(
        &self,
        a: PatientId,
        b: PatientId,
        actor: &str,
        via: Interface,
        at: NaiveDateTime,
    ) -> Result<()>;
}
