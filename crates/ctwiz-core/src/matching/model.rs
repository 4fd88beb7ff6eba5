//! Fellegi–Sunter scoring: each field's agreement level carries a weight
//! `log2(m / u)`, where `m` is how often true matches agree at that level and `u` how
//! often unrelated records do. The weights add up (with the prior odds) to a match
//! weight; its logistic is the match probability, compared with two thresholds.
//!
//! `m` and `u` are learned from the registry's own records ([`MatchModel::fit`]): `u`
//! from random pairs (almost all of which are different people), `m` by
//! expectation–maximisation over the candidate pairs blocking finds. Exact name
//! agreement is adjusted for how common the name is (term frequency): two "SMITH"s say
//! less than two "TYMCZAK"s. Without data, [`MatchModel::default`] holds conservative
//! priors for a children's registry.

use super::compare::{compare, short_form, Comparison, Field};
use super::record::MatchRecord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// m and u probabilities of one field, one entry per agreement level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

impl FieldParams {
    fn new(m: &[f64], u: &[f64]) -> Self {
        FieldParams {
            m: m.to_vec(),
            u: u.to_vec(),
        }
    }
    pub fn weight(&self, level: u8) -> f64 {
        let l = level as usize;
        (self.m[l] / self.u[l]).log2()
    }
}

/// Match-probability thresholds: at or above `link` the records are the same person; at
/// or above `review` a person should look; below, they are different people.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub link: f64,
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            link: 0.95,
            review: 0.2,
        }
    }
}

/// What to do with a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Decision {
    /// Different people: keep both records.
    Distinct,
    /// Possibly the same person: a person decides (review queue).
    Review,
    /// The same person: link automatically.
    Link,
}

/// A rule that overrides the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Override {
    /// Same birth date, given names that are not the same name (nor a short form of it),
    /// and the child's own fields (given name, middle name, sex, SSN, a clinic's MRN, a
    /// reported multiple birth) more likely of two children of one birth than of one
    /// child ([`MatchModel::twin_odds`]): twins (or more), never one child. The same SSN
    /// (up to a keying slip not in its last digit) or clinic MRN rules twins out.
    Twins,
    /// Both records carry a multiple-birth order, and they differ.
    BirthOrder,
    /// The same clinic reported them under different MRNs: the clinic says they are two
    /// patients, so at most a review, never an automatic link.
    ClinicMrnDiffers,
    /// Birth dates differ by more than a transposition or one slip: at most a review. A
    /// child's schedule is computed from the birth date; linking two different dates
    /// automatically would corrupt every forecast of the merged record. The same SSN or
    /// clinic MRN lifts the cap.
    BirthDateDiffers,
}

impl Override {
    pub fn describe(self) -> &'static str {
        match self {
            Override::Twins => "same birth date and household, another child's given name: twins",
            Override::BirthOrder => "different multiple-birth order",
            Override::ClinicMrnDiffers => "the same clinic gave them different MRNs",
            Override::BirthDateDiffers => "birth dates differ by more than a keying slip",
        }
    }
}

/// The verdict on one pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// log2 of the posterior odds that the two are the same person rather than strangers.
    pub weight: f64,
    /// Probability that they are the same person (before overrides): against strangers
    /// and, where the question arises, co-twins ([`MatchModel::twin_odds`]).
    pub probability: f64,
    /// Whether they are the same person, on the evidence: the thresholds, and the rules
    /// that say two people (twins, birth order). What an analyst's pair list reports.
    pub judged: Decision,
    /// What to do automatically: `judged`, capped at review where a rule forbids linking
    /// without a person (a clinic's two MRNs, disputed birth dates). What ingest acts on.
    pub decision: Decision,
    /// The rule that changed the verdict, if any.
    pub overridden: Option<Override>,
}

/// One field's part in a score, for reviewers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub field: Field,
    /// The agreement level's description, "not known on both" when absent.
    pub level: &'static str,
    /// Contribution to the match weight, in bits (0 when absent).
    pub weight: f64,
}

/// "family name: exact (+5.2)", as reviewers read it.
impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({:+.1})",
            self.field.name(),
            self.level,
            self.weight
        )
    }
}

impl Evidence {
    /// A compact text form for storing the evidence of a queued pair: one
    /// `field:level:weight` item per field (level `-` when not known on both).
    pub fn encode(evidence: &[Evidence]) -> String {
        evidence
            .iter()
            .map(|e| {
                let level = e
                    .field
                    .levels()
                    .iter()
                    .position(|l| *l == e.level)
                    .map_or("-".to_string(), |l| l.to_string());
                format!("{}:{level}:{:.3}", e.field.index(), e.weight)
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Reads [`Evidence::encode`]'s form back; `None` when it is not that form.
    pub fn decode(text: &str) -> Option<Vec<Evidence>> {
        text.split(';')
            .filter(|s| !s.is_empty())
            .map(|item| {
                let mut parts = item.split(':');
                let field = *Field::ALL.get(parts.next()?.parse::<usize>().ok()?)?;
                let level = match parts.next()? {
                    "-" => "not known on both",
                    l => field.levels().get(l.parse::<usize>().ok()?)?,
                };
                let weight = parts.next()?.parse().ok()?;
                Some(Evidence {
                    field,
                    level,
                    weight,
                })
            })
            .collect()
    }
}

/// Relative frequency of each normalized value, with the number of records counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TermFrequencies {
    pub records: u64,
    pub counts: HashMap<String, u32>,
}

impl TermFrequencies {
    fn from_values<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut tf = TermFrequencies::default();
        for v in values.filter(|v| !v.is_empty()) {
            tf.records += 1;
            *tf.counts.entry(v.to_string()).or_default() += 1;
        }
        tf
    }

    /// The chance that a random record has this value, if any were counted.
    fn frequency(&self, value: &str) -> Option<f64> {
        (self.records > 0).then(|| {
            let n = self.counts.get(value).copied().unwrap_or(1).max(1);
            f64::from(n) / self.records as f64
        })
    }
}

/// How many records carry a given name, as counted in a registry or a file: what tells two
/// alike given names that are both names in use (co-twins: Jayden and Jaden) from a slip
/// (Olivia and Olivai), see [`MatchModel::score_with_names`].
pub trait GivenNameCounts {
    /// Records carrying `given` (normalized as [`MatchRecord::given`]); `None` when names
    /// are not counted (the question then gives no evidence either way).
    fn given_count(&self, given: &str) -> Option<u32>;
}

/// The names of the records a model was fitted to (or counted by
/// [`MatchModel::with_given_names_counted`]); none counted without records.
impl GivenNameCounts for TermFrequencies {
    fn given_count(&self, given: &str) -> Option<u32> {
        (self.records > 0).then(|| self.counts.get(given).copied().unwrap_or(0))
    }
}

/// Counts of the names asked about, e.g. looked up in the store for one message; a name
/// not in the map is carried by no record.
impl GivenNameCounts for HashMap<String, u32> {
    fn given_count(&self, given: &str) -> Option<u32> {
        Some(self.get(given).copied().unwrap_or(0))
    }
}

/// No names counted.
pub struct NotCounted;

impl GivenNameCounts for NotCounted {
    fn given_count(&self, _: &str) -> Option<u32> {
        None
    }
}

/// The co-twin hypothesis. Two records with the same birth date and family name whose
/// given names are not the same name are either one child with a slip in the given name,
/// or two children of one birth. Under "co-twins" the household's fields (family name,
/// birth date, address, phone, mother) agree as they do for one child, so they weigh
/// nothing between the two hypotheses; the child's own fields decide: co-twins' middle
/// names and sexes compare as strangers' do (`u`), their SSNs are never the same (often
/// consecutive), a clinic gives them two MRNs, and their given names are two names their
/// parents chose, sometimes alike (Olivia and Oliver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinParams {
    /// Prior odds of co-twins against one child among candidate pairs with the same birth
    /// date: co-twin pairs per same-child pair. Learned by EM where the model is fitted, so
    /// a population without twins (an adults' extract) stops treating a replaced given
    /// name as a second child, and one with twins learns how often they occur.
    pub ratio: f64,
    /// How co-twins' given names compare, per level of [`Field::Given`] (never exact).
    pub given: Vec<f64>,
}

impl Default for TwinParams {
    /// A children's registry: about 3 children in 100 have a co-twin, and a child is
    /// reported again under a second record some 15 times in 100, so a same-birth-date,
    /// same-family pair is a co-twin pair about once for five same-child pairs. About one
    /// twin pair in five is given names that look alike (shared opening, rhyme, a letter
    /// apart); otherwise two unrelated names.
    fn default() -> Self {
        TwinParams {
            ratio: 0.2,
            given: TWIN_GIVEN_PRIOR.to_vec(),
        }
    }
}

/// Co-twins' given names by level of [`Field::Given`]: the default, and the centre EM
/// pulls towards (as `TWIN_GIVEN_PSEUDO_COUNT` pairs' worth of evidence).
const TWIN_GIVEN_PRIOR: [f64; 5] = [1e-4, 0.02, 0.08, 0.10, 0.7999];
const TWIN_GIVEN_PSEUDO_COUNT: f64 = 10.0;
/// Co-twins' SSNs: never the same; a slip in the last digit (consecutive numbers, as
/// enumeration at birth often issues them) or different. Only these levels reach the
/// twin test: any other agreement of the SSN is one person's number.
const TWIN_SSN: [f64; 3] = [1e-6, 0.3, 0.7];
/// Co-twins at one clinic have two MRNs there.
const TWIN_MRN: [f64; 2] = [1e-6, 1.0 - 1e-6];
/// A record reported as one of a multiple birth (PID-24/25) has a co-twin for certain,
/// where a child has one about 3 times in 100: the prior odds of co-twins rise that much.
const MULTIPLE_BIRTH_FACTOR: f64 = 1.0 / 0.03;
/// Given names a letter or a sound apart that are both names in use in the records
/// (`MatchModel::both_in_use`) rather than a slip: a keying slip rarely lands on another
/// name in use (of the few hundred one-letter slips of a name, a handful are names;
/// taken as 3 in 100), co-twins' names nearly always are names (9 in 10).
const IN_USE_IF_SLIP: f64 = 0.03;
const IN_USE_IF_TWINS: f64 = 0.9;

/// The fields that are the child's own: co-twins compare on them as strangers do. The
/// rest are the household's (and the birth's), which co-twins share.
fn personal(f: Field) -> bool {
    matches!(
        f,
        Field::Given | Field::Middle | Field::Sex | Field::Ssn | Field::Mrn
    )
}

/// A fitted (or default) matching model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchModel {
    /// Per field, in [`Field::ALL`] order.
    pub fields: Vec<FieldParams>,
    /// Prior probability that two records are the same person: in a fitted model, two
    /// records drawn at random, as `u` is learned (see [`MatchModel::fit`]); the default
    /// model's hand-set weights take a candidate pair found by blocking.
    pub prior: f64,
    pub given_tf: TermFrequencies,
    pub family_tf: TermFrequencies,
    pub thresholds: Thresholds,
    pub twins: TwinParams,
}

impl Default for MatchModel {
    /// Priors for a children's registry before any data is seen: `u` from the spread of
    /// names, birth dates (about 18 birth-year cohorts) and addresses; `m` from typical
    /// keying-error rates.
    fn default() -> Self {
        let p = FieldParams::new;
        MatchModel {
            fields: vec![
                p(
                    &[0.86, 0.05, 0.05, 0.03, 0.01],
                    &[0.01, 0.002, 0.02, 0.03, 0.938],
                ),
                p(&[0.7, 0.2, 0.1], &[0.02, 0.06, 0.92]),
                p(
                    &[0.88, 0.04, 0.04, 0.03, 0.01],
                    &[0.005, 0.002, 0.01, 0.02, 0.963],
                ),
                p(
                    &[0.93, 0.02, 0.045, 0.005],
                    &[0.0002, 0.0001, 0.002, 0.9977],
                ),
                p(&[0.98, 0.02], &[0.5, 0.5]),
                p(&[0.85, 0.15], &[0.1, 0.9]),
                p(&[0.8, 0.1, 0.1], &[0.002, 0.005, 0.993]),
                p(&[0.9, 0.05, 0.05], &[0.05, 0.02, 0.93]),
                p(&[0.9, 0.04, 0.06], &[0.05, 0.03, 0.92]),
                p(&[0.85, 0.03, 0.12], &[0.0005, 0.002, 0.9975]),
                p(&[0.95, 0.03, 0.02], &[0.00001, 0.0001, 0.99989]),
                p(&[0.9, 0.05, 0.05], &[0.002, 0.005, 0.993]),
                // MRN at the same clinic: fixed, never learned (see `fit`).
                p(&[0.95, 0.05], &[0.000001, 0.999999]),
            ],
            prior: 0.05,
            given_tf: TermFrequencies::default(),
            family_tf: TermFrequencies::default(),
            thresholds: Thresholds::default(),
            twins: TwinParams::default(),
        }
    }
}

/// A comparison pattern: the level of every field, `MISSING` where unknown; and, for
/// given names alike but not equal, whether both are names in use
/// ([`MatchModel::both_in_use`]), which tells co-twins from a slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pattern {
    levels: [u8; Field::COUNT],
    given_in_use: Option<bool>,
}
const MISSING: u8 = u8::MAX;

impl Pattern {
    fn at(&self, f: Field) -> u8 {
        self.levels[f.index()]
    }
}

/// Fields learned from data (the MRN rule is fixed).
fn learned(f: Field) -> bool {
    f != Field::Mrn
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

impl MatchModel {
    /// The weight of one field at `level` for this pair, term-frequency adjusted for an
    /// exact name.
    fn field_weight(&self, f: Field, level: u8, a: &MatchRecord) -> f64 {
        let params = &self.fields[f.index()];
        if level == 0 {
            let tf = match f {
                Field::Given => self.given_tf.frequency(&a.given),
                Field::Family => self.family_tf.frequency(&a.family_joined),
                _ => None,
            };
            if let Some(tf) = tf {
                return (params.m[0] / tf).log2();
            }
        }
        params.weight(level)
    }

    /// The match weight of two records (log2 posterior odds), from their comparison.
    fn weight_of(&self, a: &MatchRecord, c: &Comparison) -> f64 {
        let mut w = logit(self.prior);
        for f in Field::ALL {
            if let Some(l) = c.level(f) {
                w += self.field_weight(f, l, a);
            }
        }
        w
    }

    /// Scores two records. Symmetric: `score(a, b) == score(b, a)`. Given names alike but
    /// not equal are told apart from a slip by the names this model counted (none in
    /// [`MatchModel::default`]).
    pub fn score(&self, a: &MatchRecord, b: &MatchRecord) -> Score {
        self.score_with_names(a, b, &self.given_tf)
    }

    /// [`MatchModel::score`] with given names counted elsewhere (ingest: the registry's
    /// counts of the names in question, looked up in the store). The counts only answer
    /// whether two alike given names are both names in use; exact names still weigh by
    /// the model's own term frequencies.
    pub fn score_with_names(
        &self,
        a: &MatchRecord,
        b: &MatchRecord,
        names: &dyn GivenNameCounts,
    ) -> Score {
        let c = compare(a, b);
        let weight = self.weight_of(a, &c);
        // Where co-twins are a third explanation, the same person must beat both: the
        // odds against it are strangers' (`-weight`) plus co-twins' (`twin_odds`).
        let twins = self.twin_odds_with(a, b, &c, names).map_or(0.0, f64::exp2);
        let probability = 1.0 / (1.0 + (-weight).exp2() + twins);
        let by_weight = if probability >= self.thresholds.link {
            Decision::Link
        } else if probability >= self.thresholds.review {
            Decision::Review
        } else {
            Decision::Distinct
        };
        let overridden = self.overrides(a, b, &c, names);
        let (judged, decision) = match overridden {
            Some(Override::Twins | Override::BirthOrder) => {
                (Decision::Distinct, Decision::Distinct)
            }
            Some(Override::ClinicMrnDiffers | Override::BirthDateDiffers) => {
                (by_weight, by_weight.min(Decision::Review))
            }
            None => (by_weight, by_weight),
        };
        Score {
            weight,
            probability,
            judged,
            decision,
            // Twins are named even where the odds alone already said so: a reviewer
            // reads why two look-alike records were kept apart.
            overridden: overridden.filter(|o| decision != by_weight || *o == Override::Twins),
        }
    }

    /// Each field's part in the score of `a` and `b`, in field order.
    pub fn explain(&self, a: &MatchRecord, b: &MatchRecord) -> Vec<Evidence> {
        let c = compare(a, b);
        Field::ALL
            .iter()
            .map(|&f| match c.level(f) {
                Some(l) => Evidence {
                    field: f,
                    level: f.levels()[l as usize],
                    weight: self.field_weight(f, l, a),
                },
                None => Evidence {
                    field: f,
                    level: "not known on both",
                    weight: 0.0,
                },
            })
            .collect()
    }

    /// This model with the given names' frequencies counted in `records`: exact given
    /// names weigh by how common they are, and alike names both in use weigh for twins
    /// ([`MatchModel::twin_odds`]).
    pub fn with_given_names_counted(mut self, records: &[MatchRecord]) -> MatchModel {
        self.given_tf = TermFrequencies::from_values(records.iter().map(|r| r.given.as_str()));
        self
    }

    /// Learns the model from `records` and the candidate `pairs` that blocking found
    /// among them (indexes into `records`): term frequencies of names, `u` from
    /// `random_pairs` random pairs, then `m` and the prior by EM over the candidates.
    /// Deterministic for a given `seed`.
    pub fn fit(
        records: &[MatchRecord],
        pairs: &[(u32, u32)],
        random_pairs: usize,
        seed: u64,
    ) -> MatchModel {
        let mut model = MatchModel {
            given_tf: TermFrequencies::from_values(records.iter().map(|r| r.given.as_str())),
            ..MatchModel::default()
        };
        // Keyed by the joined family name, as exact agreement compares it.
        model.family_tf =
            TermFrequencies::from_values(records.iter().map(|r| r.family_joined.as_str()));
        if records.len() < 2 {
            return model;
        }
        model.estimate_u(records, random_pairs, seed);
        // Two EM sessions, as Splink trains: one on the pairs with the same birth date,
        // one on the pairs with the same names. Each leaves out the fields its block is
        // made of: inside the block they agree by construction and would teach EM that
        // agreeing on them *is* the match.
        let (mut by_dob, mut by_names) = (HashMap::new(), HashMap::new());
        let (mut n_dob, mut n_names) = (0usize, 0usize);
        for &(i, j) in pairs {
            let (a, b) = (&records[i as usize], &records[j as usize]);
            let c = compare(a, b);
            let close = |f: Field| c.level(f).is_some_and(|l| l <= 1);
            let pattern = Pattern {
                levels: c.levels.map(|l| l.unwrap_or(MISSING)),
                given_in_use: model.given_in_use(a, b, &c, &model.given_tf),
            };
            if close(Field::Dob) {
                *by_dob.entry(pattern).or_default() += 1.0;
                n_dob += 1;
            }
            if close(Field::Given) && close(Field::Family) {
                *by_names.entry(pattern).or_default() += 1.0;
                n_names += 1;
            }
        }
        let mut a = model.clone();
        a.expectation_maximisation(
            &by_dob.into_iter().collect::<Vec<_>>(),
            30,
            &[Field::Dob],
            true,
        );
        let mut b = model.clone();
        b.expectation_maximisation(
            &by_names.into_iter().collect::<Vec<_>>(),
            30,
            &[Field::Given, Field::Family],
            false,
        );
        for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
            let i = f.index();
            model.fields[i].m = match f {
                Field::Dob => b.fields[i].m.clone(),
                Field::Given | Field::Family => a.fields[i].m.clone(),
                _ => (a.fields[i].m.iter().zip(&b.fields[i].m))
                    .map(|(x, y)| (x + y) / 2.0)
                    .collect(),
            };
        }
        // Twins share a birth date: the birth-date session learns how common they are.
        model.twins = a.twins.clone();
        // Each block holds most of the matches: the larger of the two counts estimates
        // them all. `u` was learned from random pairs, so the prior that goes with it is
        // the matches' share of *all* pairs (Splink's "probability two random records
        // match"), not of the candidates: a candidate already agrees on its blocking key,
        // and that agreement is weighed again by `m / u`; the candidates' share would
        // count it twice (and linked two Jasmine Clarkes of different addresses, birth
        // dates and SSNs on their names alone).
        let matches = (a.prior * n_dob as f64).max(b.prior * n_names as f64);
        let all_pairs = records.len() as f64 * (records.len() as f64 - 1.0) / 2.0;
        if n_dob + n_names > 0 && matches > 0.0 {
            model.prior = (matches / all_pairs).clamp(1e-12, 1.0 - 1e-6);
        }
        model
    }

    fn estimate_u(&mut self, records: &[MatchRecord], samples: usize, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut counts: Vec<Vec<f64>> = self.fields.iter().map(|p| vec![0.0; p.u.len()]).collect();
        let n = records.len();
        for _ in 0..samples {
            let i = rng.random_range(0..n);
            let mut j = rng.random_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            let c = compare(&records[i], &records[j]);
            for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                if let Some(l) = c.level(f) {
                    counts[f.index()][l as usize] += 1.0;
                }
            }
        }
        for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
            let c = &counts[f.index()];
            let total: f64 = c.iter().sum();
            if total > 0.0 {
                // Add-one smoothing: a level never seen among random pairs is rare, not
                // impossible.
                let k = c.len() as f64;
                self.fields[f.index()].u = c.iter().map(|x| (x + 1.0) / (total + k)).collect();
            }
        }
    }

    /// EM over aggregated comparison patterns (pattern, count): `u` stays fixed. With
    /// `twins`, a third class besides "same person" and "different people": co-twins
    /// ([`TwinParams`]), who agree on the household's fields as one person does and on
    /// their own fields as strangers do; EM learns how common they are and how their
    /// given names compare. Without it, EM takes any pair agreeing on the household for
    /// one person and learns from twins that given names often differ.
    fn expectation_maximisation(
        &mut self,
        patterns: &[(Pattern, f64)],
        iterations: usize,
        blocked: &[Field],
        twins: bool,
    ) {
        let learned = |f: Field| learned(f) && !blocked.contains(&f);
        if patterns.is_empty() {
            return;
        }
        for _ in 0..iterations {
            let mut m_acc: Vec<Vec<f64>> =
                self.fields.iter().map(|p| vec![0.0; p.m.len()]).collect();
            let mut t_acc = [0.0; TWIN_GIVEN_PRIOR.len()];
            let (mut matched, mut twinned, mut total) = (0.0, 0.0, 0.0);
            let p_match = self.prior;
            let p_twins = if twins {
                (self.prior * self.twins.ratio).min(1.0 - p_match)
            } else {
                0.0
            };
            let p_other = (1.0 - p_match - p_twins).max(1e-12);
            for (pat, count) in patterns {
                let (mut lm, mut lu) = (p_match, p_other);
                let mut lt = if twins && twin_pattern(pat) {
                    p_twins
                } else {
                    0.0
                };
                if let Some(in_use) = pat.given_in_use {
                    let (slip, twin) = in_use_probabilities(in_use);
                    lm *= slip;
                    lt *= twin;
                }
                for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                    let l = pat.at(f);
                    if l == MISSING {
                        continue;
                    }
                    let p = &self.fields[f.index()];
                    lm *= p.m[l as usize];
                    lu *= p.u[l as usize];
                    if lt > 0.0 {
                        lt *= if personal(f) {
                            self.twin_level_probability(f, l)
                        } else {
                            p.m[l as usize]
                        };
                    }
                }
                let z = lm + lt + lu;
                let (wm, wt) = if z > 0.0 && z.is_finite() {
                    (lm / z, lt / z)
                } else {
                    (0.0, 0.0)
                };
                matched += wm * count;
                twinned += wt * count;
                total += count;
                for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                    let l = pat.at(f);
                    if l != MISSING {
                        // Co-twins agree on the household's fields as one person does:
                        // they teach its `m` too; the child's own fields, only one person.
                        let w = if personal(f) { wm } else { wm + wt };
                        m_acc[f.index()][l as usize] += w * count;
                    }
                }
                if wt > 0.0 {
                    t_acc[pat.at(Field::Given) as usize] += wt * count;
                }
            }
            let mut change: f64 = 0.0;
            for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                let acc = &m_acc[f.index()];
                let sum: f64 = acc.iter().sum();
                if sum <= 0.0 {
                    continue;
                }
                let k = acc.len() as f64;
                let new: Vec<f64> = acc.iter().map(|x| (x + 0.01) / (sum + 0.01 * k)).collect();
                for (old, n) in self.fields[f.index()].m.iter().zip(&new) {
                    change = change.max((old - n).abs());
                }
                self.fields[f.index()].m = new;
            }
            if twins {
                // Few pairs are twins: the prior keeps a handful of them from deciding
                // how all twins' names compare.
                let sum: f64 = t_acc.iter().sum::<f64>() + TWIN_GIVEN_PSEUDO_COUNT;
                let new: Vec<f64> = t_acc
                    .iter()
                    .zip(TWIN_GIVEN_PRIOR)
                    .map(|(x, p)| (x + TWIN_GIVEN_PSEUDO_COUNT * p) / sum)
                    .collect();
                for (old, n) in self.twins.given.iter().zip(&new) {
                    change = change.max((old - n).abs());
                }
                self.twins.given = new;
                let ratio = if matched > 0.0 {
                    (twinned / matched).clamp(1e-9, 1e3)
                } else {
                    self.twins.ratio
                };
                change = change.max((ratio - self.twins.ratio).abs());
                self.twins.ratio = ratio;
            }
            let prior = (matched / total).clamp(1e-6, 1.0 - 1e-6);
            change = change.max((prior - self.prior).abs());
            self.prior = prior;
            if change < 1e-5 {
                break;
            }
        }
    }

    /// The probability of a level of one of the child's own fields under co-twins.
    fn twin_level_probability(&self, f: Field, level: u8) -> f64 {
        let l = level as usize;
        match f {
            Field::Given => self.twins.given[l],
            Field::Ssn => TWIN_SSN[l],
            Field::Mrn => TWIN_MRN[l],
            _ => self.fields[f.index()].u[l],
        }
    }

    /// Whether two given names are both names in use among the records the model was
    /// fitted to, not a slip: each carried by at least 3 records, the rarer by at least
    /// 1 in 50 of the commoner's (a slip of a common name can recur a few times, never as
    /// often as a name). `None` without counted names (the default model).
    fn both_in_use(names: &dyn GivenNameCounts, a: &str, b: &str) -> Option<bool> {
        let (x, y) = (names.given_count(a)?, names.given_count(b)?);
        let (lo, hi) = (x.min(y), x.max(y));
        Some(lo >= 3 && lo.saturating_mul(50) >= hi)
    }

    /// [`MatchModel::both_in_use`] for given names that are alike but not equal (levels
    /// 1 to 3: a slip or two names); `None` otherwise.
    fn given_in_use(
        &self,
        a: &MatchRecord,
        b: &MatchRecord,
        c: &Comparison,
        names: &dyn GivenNameCounts,
    ) -> Option<bool> {
        c.level(Field::Given)
            .filter(|l| (1..=3).contains(l))
            .and_then(|_| MatchModel::both_in_use(names, &a.given, &b.given))
    }

    /// The two given names whose counts can change the verdict on `a` and `b`: the
    /// co-twin question arises ([`MatchModel::twin_odds`]) and the names are alike but
    /// not equal. What ingest looks up in the registry before scoring, so a message whose
    /// candidates raise no such question costs no look-up.
    pub fn given_names_in_question<'r>(
        &self,
        a: &'r MatchRecord,
        b: &'r MatchRecord,
    ) -> Option<[&'r str; 2]> {
        // Cheap tests first: most candidates differ in birth date or carry the same name.
        if a.given == b.given || a.given.is_empty() || b.given.is_empty() || a.dob.is_empty() {
            return None;
        }
        let c = compare(a, b);
        (c.level(Field::Given).is_some_and(|l| (1..=3).contains(&l))
            && self.twin_question(a, b, &c))
        .then_some([a.given.as_str(), b.given.as_str()])
    }

    /// Whether `a` and `b` may be two children of one birth rather than one child: same
    /// birth date (or day and month transposed), given names known and neither the same
    /// name nor a short form of it, no identifier of one person shared, not the same
    /// birth order.
    fn twin_question(&self, a: &MatchRecord, b: &MatchRecord, c: &Comparison) -> bool {
        c.level(Field::Given).is_some_and(|g| g > 0)
            && c.level(Field::Dob).is_some_and(|l| l <= 1)
            && !short_form(&a.given, &b.given)
            && !same_identifier(a, b, c)
            && !matches!((a.birth_order, b.birth_order), (Some(x), Some(y)) if x == y)
    }

    /// log2 of the odds that `a` and `b` are two children of one birth rather than one
    /// child ([`TwinParams`]), when the question arises: same birth date (or day and
    /// month transposed), given names known and neither the same
    /// name nor a short form of it, no identifier of one person shared, not the same
    /// birth order. The household's fields weigh nothing here (both hypotheses expect
    /// them to agree); each of the child's own fields weighs `log2(t / m)`; a reported
    /// multiple birth raises the prior odds; two alike given names that are both names
    /// in use weigh for co-twins, a slip (a name hardly anyone carries) for one child.
    pub fn twin_odds(&self, a: &MatchRecord, b: &MatchRecord, c: &Comparison) -> Option<f64> {
        self.twin_odds_with(a, b, c, &self.given_tf)
    }

    /// [`MatchModel::twin_odds`] with given names counted elsewhere.
    pub fn twin_odds_with(
        &self,
        a: &MatchRecord,
        b: &MatchRecord,
        c: &Comparison,
        names: &dyn GivenNameCounts,
    ) -> Option<f64> {
        // The same birth order of one birth is one child (different orders: `BirthOrder`).
        if !self.twin_question(a, b, c) {
            return None;
        }
        let mut ratio = self.twins.ratio;
        // A record reported as one of a multiple birth (PID-24 Y or a PID-25 order) has
        // a co-twin for certain. An explicit N is not taken as evidence against: a
        // sender's default N would otherwise help merge the twins it failed to flag, the
        // worst error a registry can make.
        if a.multiple_birth == Some(true)
            || b.multiple_birth == Some(true)
            || a.birth_order.is_some()
            || b.birth_order.is_some()
        {
            ratio *= MULTIPLE_BIRTH_FACTOR;
        }
        let mut odds = ratio.max(1e-12).log2();
        for f in Field::ALL.into_iter().filter(|&f| personal(f)) {
            if let Some(l) = c.level(f) {
                let m = self.fields[f.index()].m[l as usize];
                odds += (self.twin_level_probability(f, l) / m).log2();
            }
        }
        if let Some(in_use) = self.given_in_use(a, b, c, names) {
            let (slip, twins) = in_use_probabilities(in_use);
            odds += (twins / slip).log2();
        }
        Some(odds)
    }

    /// The rules that weights cannot express (see [`Override`]).
    fn overrides(
        &self,
        a: &MatchRecord,
        b: &MatchRecord,
        c: &Comparison,
        names: &dyn GivenNameCounts,
    ) -> Option<Override> {
        if let (Some(x), Some(y)) = (a.birth_order, b.birth_order) {
            if x != y {
                return Some(Override::BirthOrder);
            }
        }
        if self
            .twin_odds_with(a, b, c, names)
            .is_some_and(|odds| odds > 0.0)
        {
            return Some(Override::Twins);
        }
        if c.level(Field::Mrn) == Some(1) {
            return Some(Override::ClinicMrnDiffers);
        }
        // The same SSN settles a disputed birth date the way it settles a given name.
        (c.level(Field::Dob) == Some(3) && !same_identifier(a, b, c))
            .then_some(Override::BirthDateDiffers)
    }
}

/// A pattern the co-twin class learns from ([`MatchModel::twin_odds`], as far as a
/// pattern tells): the same birth date, given names known and not equal, SSNs not equal;
/// and family names alike. Scoring asks about co-twins whatever the family names (a
/// second report may misspell or hyphenate one), but the class is learned where it is
/// told apart best: among pairs of same-birth-date strangers, family names rarely agree,
/// while among any pairs a different family name also explains away a second child.
fn twin_pattern(pat: &Pattern) -> bool {
    pat.at(Field::Family) <= 2
        && pat.at(Field::Dob) <= 1
        && pat.at(Field::Given) != MISSING
        && pat.at(Field::Given) > 0
        && pat.at(Field::Ssn) != 0
}

/// The chance of what [`MatchModel::both_in_use`] said, for one child with a slip in the
/// given name and for co-twins.
fn in_use_probabilities(in_use: bool) -> (f64, f64) {
    if in_use {
        (IN_USE_IF_SLIP, IN_USE_IF_TWINS)
    } else {
        (1.0 - IN_USE_IF_SLIP, 1.0 - IN_USE_IF_TWINS)
    }
}

/// Twins never share an SSN or a clinic's MRN: with one of those agreeing, a different
/// given name is a keying error, not a second child. Twins' SSNs are often issued in
/// sequence (differing in the last digit), so only a slip elsewhere still counts as the
/// same number.
fn same_identifier(a: &MatchRecord, b: &MatchRecord, c: &Comparison) -> bool {
    c.level(Field::Ssn) == Some(0)
        || (c.level(Field::Ssn) == Some(1)
            && a.ssn.get(..a.ssn.len() - 1) != b.ssn.get(..b.ssn.len() - 1))
        || c.level(Field::Mrn) == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::Sex;

    fn rec(given: &str, family: &str, dob: &str) -> MatchRecord {
        let mut r = MatchRecord::default();
        r.set_names(given, "", family);
        r.dob = dob.into();
        r.set_street_line("12 Main St");
        r.set_zip("06106");
        r
    }

    #[test]
    fn stored_evidence_reads_back() {
        let m = MatchModel::default();
        let mut b = rec("Olivia", "Tymczack", "20200403");
        b.set_zip("");
        let e = m.explain(&rec("Olivia", "Tymczak", "20200304"), &b);
        let back = Evidence::decode(&Evidence::encode(&e)).expect("decodes");
        assert_eq!(back.len(), e.len());
        for (x, y) in e.iter().zip(&back) {
            assert_eq!((x.field, x.level), (y.field, y.level));
            assert!((x.weight - y.weight).abs() < 1e-3);
        }
        assert!(back.iter().any(|e| e.level == "not known on both"));
        assert_eq!(Evidence::decode("99:0:1.0"), None);
        assert_eq!(Evidence::decode("x"), None);
    }

    #[test]
    fn same_child_links_and_twins_never_do() {
        let m = MatchModel::default();
        let a = rec("Olivia", "Tymczak", "20200304");
        assert_eq!(
            m.score(&a, &rec("Olivia", "Tymczak", "20200304")).decision,
            Decision::Link
        );
        assert_eq!(
            m.score(&a, &rec("Olivia", "Tymczak", "20200403")).decision,
            Decision::Link
        );
        let twin = m.score(&a, &rec("Sophia", "Tymczak", "20200304"));
        assert_eq!(twin.decision, Decision::Distinct);
        assert_eq!(
            m.score(&a, &rec("Noah", "Brown", "20190101")).decision,
            Decision::Distinct
        );
    }

    #[test]
    fn a_clinics_two_mrns_are_reviewed_not_linked() {
        let m = MatchModel::default();
        let mut a = rec("Olivia", "Tymczak", "20200304");
        let mut b = a.clone();
        a.mrns = vec![("CT001".into(), "1".into())];
        b.mrns = vec![("CT001".into(), "2".into())];
        let s = m.score(&a, &b);
        assert_eq!(s.decision, Decision::Review);
        assert_eq!(s.overridden, Some(Override::ClinicMrnDiffers));
    }

    #[test]
    fn common_names_weigh_less_than_rare_ones() {
        let mut records: Vec<MatchRecord> = (0..50)
            .map(|i| {
                rec(
                    &format!("G{i}"),
                    "Smith",
                    &format!("2020{:02}01", i % 12 + 1),
                )
            })
            .collect();
        records.push(rec("Ann", "Tymczak", "20200101"));
        let m = MatchModel::fit(&records, &[], 1000, 7);
        let smith = m.field_weight(Field::Family, 0, &records[0]);
        let rare = m.field_weight(Field::Family, 0, &records[50]);
        assert!(rare > smith + 4.0, "{rare} vs {smith}");
    }

    /// A child of the Tymczak household: same birth date, family, address, phone, mother.
    fn child(given: &str, sex: Sex) -> MatchRecord {
        let mut r = rec(given, "Tymczak", "20200304");
        r.sex = Some(sex);
        r.set_phone("8605550123");
        r.set_mother_maiden("Nowak");
        r
    }

    #[test]
    fn look_alike_twins_of_another_sex_are_two_children() {
        let m = MatchModel::default();
        let s = m.score(&child("Olivia", Sex::Female), &child("Oliver", Sex::Male));
        assert_eq!(
            (s.judged, s.decision),
            (Decision::Distinct, Decision::Distinct)
        );
        assert_eq!(s.overridden, Some(Override::Twins));
    }

    #[test]
    fn look_alike_twins_of_one_sex_are_told_apart_by_their_own_fields() {
        let m = MatchModel::default();
        let (mut a, mut b) = (child("Jayden", Sex::Male), child("Jaden", Sex::Male));
        // Nothing but the household and a name a letter apart: not two children.
        assert_ne!(m.score(&a, &b).judged, Decision::Distinct);
        // Middle names of their own: possibly two children, never linked without a person.
        let (mut x, mut y) = (a.clone(), b.clone());
        x.set_names("Jayden", "Lucas", "Tymczak");
        y.set_names("Jaden", "Owen", "Tymczak");
        assert_eq!(m.score(&x, &y).decision, Decision::Review);
        // And two MRNs at one clinic: twins.
        x.mrns = vec![("CT001".into(), "1".into())];
        y.mrns = vec![("CT001".into(), "2".into())];
        let s = m.score(&x, &y);
        assert_eq!(
            (s.decision, s.overridden),
            (Decision::Distinct, Some(Override::Twins))
        );
        // One record reported as one of a multiple birth (PID-24/25): twins.
        a.birth_order = Some(1);
        assert_eq!(m.score(&a, &b).decision, Decision::Distinct);
        // The same birth order: one child.
        b.birth_order = Some(1);
        assert_ne!(m.score(&a, &b).decision, Decision::Distinct);
    }

    #[test]
    fn a_slip_in_a_given_name_still_links_or_goes_to_review() {
        let m = MatchModel::default();
        for (x, y, linked) in [
            ("Olivia", "Olivai", true),
            ("Robert", "Bob", true),
            ("Sebastian", "Seb", true),
            // "Sounds alike": a fair chance of twins' names before any name is counted.
            ("Olivia", "Olvia", false),
        ] {
            let s = m.score(&child(x, Sex::Female), &child(y, Sex::Female));
            let expected = if linked {
                Decision::Link
            } else {
                Decision::Review
            };
            assert_eq!(s.decision, expected, "{x}/{y}: {s:?}");
        }
    }

    #[test]
    fn a_reported_multiple_birth_makes_look_alike_records_twins() {
        let m = MatchModel::default();
        let (mut a, b) = (child("Jayden", Sex::Male), child("Jaden", Sex::Male));
        assert_ne!(m.score(&a, &b).decision, Decision::Distinct);
        // PID-24 Y without a birth order.
        a.multiple_birth = Some(true);
        let s = m.score(&a, &b);
        assert_eq!(
            (s.decision, s.overridden),
            (Decision::Distinct, Some(Override::Twins))
        );
        // An explicit N is no evidence either way.
        a.multiple_birth = Some(false);
        assert_eq!(m.score(&a, &b), m.score(&child("Jayden", Sex::Male), &b));
        // A multiple birth does not make one child's nickname a second child.
        let (mut x, y) = (child("Robert", Sex::Male), child("Bob", Sex::Male));
        x.multiple_birth = Some(true);
        assert_eq!(m.score(&x, &y).decision, Decision::Link);
    }

    /// Ingest's counts: the registry's counts of the two names in question, asked only
    /// where they can change the verdict.
    #[test]
    fn names_counted_elsewhere_tell_twins_from_slips() {
        let m = MatchModel::default();
        let (a, b) = (child("Jayden", Sex::Male), child("Jaden", Sex::Male));
        assert_eq!(m.given_names_in_question(&a, &b), Some(["JAYDEN", "JADEN"]));
        let counts: HashMap<String, u32> = [("JAYDEN".into(), 120), ("JADEN".into(), 40)].into();
        let s = m.score_with_names(&a, &b, &counts);
        assert_eq!(
            (s.judged, s.overridden),
            (Decision::Distinct, Some(Override::Twins))
        );
        assert_eq!(m.score_with_names(&a, &b, &NotCounted), m.score(&a, &b));
        // A slip nobody else carries: one child.
        let slip = child("Jaydn", Sex::Male);
        let s = m.score_with_names(&a, &slip, &counts);
        assert_eq!(s.decision, Decision::Link, "{s:?}");
        // No question: the same name, a nickname, another birth date, an SSN shared.
        assert_eq!(m.given_names_in_question(&a, &a.clone()), None);
        let bob = (child("Robert", Sex::Male), child("Bob", Sex::Male));
        assert_eq!(m.given_names_in_question(&bob.0, &bob.1), None);
        let mut older = b.clone();
        older.dob = "20190304".into();
        assert_eq!(m.given_names_in_question(&a, &older), None);
        let (mut x, mut y) = (a.clone(), b.clone());
        x.set_ssn("123456789");
        y.set_ssn("123456789");
        assert_eq!(m.given_names_in_question(&x, &y), None);
        // Two different names (not alike): counts change nothing.
        assert_eq!(
            m.given_names_in_question(&a, &child("Sophia", Sex::Female)),
            None
        );
    }

    /// A registry where the given names are counted: a look-alike pair of names both in
    /// use is two children, a slip nobody else carries is one child.
    #[test]
    fn names_in_use_tell_twins_from_slips() {
        let mut m = MatchModel::default();
        m.given_tf.records = 10_000;
        for (name, n) in [
            ("JAYDEN", 120),
            ("JADEN", 40),
            ("OLIVIA", 150),
            ("OLIVAI", 1),
        ] {
            m.given_tf.counts.insert(name.into(), n);
        }
        let s = m.score(&child("Jayden", Sex::Male), &child("Jaden", Sex::Male));
        assert_eq!(s.judged, Decision::Distinct, "{s:?}");
        let s = m.score(&child("Olivia", Sex::Female), &child("Olivai", Sex::Female));
        assert_eq!(s.judged, Decision::Link, "{s:?}");
        // Counted names settle the sound-alike slip the default model sends to review.
        m.given_tf.counts.insert("OLVIA".into(), 1);
        let s = m.score(&child("Olivia", Sex::Female), &child("Olvia", Sex::Female));
        assert_eq!(s.judged, Decision::Link, "{s:?}");
    }

    /// Records of `n` people, each reported twice; in the second report the given name is
    /// replaced 15 times in 100 and the SSN 5 times in 100, independently, as in an
    /// extract with keying errors and no twins. With `twins`, every tenth person also has
    /// a co-twin (another name and SSN, nothing else) reported twice.
    fn population(n: usize, twins: bool) -> Vec<MatchRecord> {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let names = [
            "Ann", "Ben", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea",
            "Max", "Nia", "Otto", "Pia", "Quin", "Rosa", "Sam", "Tess",
        ];
        let mut out = Vec::new();
        let person = |rng: &mut ChaCha8Rng, i: usize, family: &str, dob: &str, given: &str| {
            let mut r = rec(given, family, dob);
            r.set_street_line(&format!("{} Elm St", rng.random_range(1..900)));
            r.set_city(["Hartford", "Avon", "Essex", "Derby"][i % 4]);
            r.set_ssn(&format!("{:09}", rng.random_range(0..1_000_000_000u32)));
            r
        };
        for i in 0..n {
            let family = format!("F{}", i % (n / 3));
            let dob = format!("{}{:02}{:02}", 1950 + i % 50, 1 + i % 12, 1 + i % 28);
            let mut kids = vec![person(&mut rng, i, &family, &dob, names[i % names.len()])];
            if twins && i % 10 == 0 {
                let mut t = kids[0].clone();
                let other = names[(i + 7) % names.len()];
                t.set_names(other, "", &family);
                t.set_ssn(&format!("{:09}", rng.random_range(0..1_000_000_000u32)));
                kids.push(t);
            }
            for k in kids {
                let mut dup = k.clone();
                if rng.random_bool(0.15) {
                    let other = names[rng.random_range(0..names.len())];
                    dup.set_names(other, "", &family);
                }
                if rng.random_bool(0.05) {
                    dup.set_ssn(&format!("{:09}", rng.random_range(0..1_000_000_000u32)));
                }
                out.push(k);
                out.push(dup);
            }
        }
        out
    }

    #[test]
    fn em_learns_whether_the_records_hold_twins() {
        use super::super::blocking::{candidate_pairs, Blocking};
        let fit = |records: &[MatchRecord]| {
            let pairs = candidate_pairs(records, Blocking::default());
            MatchModel::fit(records, &pairs, 20_000, 3)
        };
        let plain = population(3000, false);
        let no_twins = fit(&plain);
        assert!(no_twins.twins.ratio < 1e-3, "{:?}", no_twins.twins);
        // A replaced given name and SSN is a slip there: linked on the rest.
        let i = (0..plain.len())
            .step_by(2)
            .find(|&i| {
                let c = compare(&plain[i], &plain[i + 1]);
                c.level(Field::Given) == Some(4) && c.level(Field::Ssn) == Some(2)
            })
            .expect("some record has both replaced");
        assert_eq!(
            no_twins.score(&plain[i], &plain[i + 1]).judged,
            Decision::Link
        );
        let with_twins = fit(&population(3000, true));
        assert!(with_twins.twins.ratio > 0.03, "{:?}", with_twins.twins);
    }

    #[test]
    fn evidence_names_each_field() {
        let m = MatchModel::default();
        let e = m.explain(
            &rec("Ann", "Lee", "20200101"),
            &rec("Ann", "Lee", "20201231"),
        );
        let dob = e.iter().find(|e| e.field == Field::Dob).unwrap();
        assert_eq!(dob.level, "different");
        assert!(dob.weight < 0.0);
        assert!(e.iter().find(|e| e.field == Field::Given).unwrap().weight > 0.0);
    }
}
