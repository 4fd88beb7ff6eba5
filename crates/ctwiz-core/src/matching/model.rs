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

use super::compare::{compare, Comparison, Field};
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
    /// Same birth date and family name, clearly different given names: twins (or more),
    /// never one child — unless the SSN (up to a keying slip not in its last digit) or a
    /// clinic's MRN is the same (twins never share one; then the given name was
    /// mistyped).
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
            Override::Twins => "same birth date and family name, different given names: twins",
            Override::BirthOrder => "different multiple-birth order",
            Override::ClinicMrnDiffers => "the same clinic gave them different MRNs",
            Override::BirthDateDiffers => "birth dates differ by more than a keying slip",
        }
    }
}

/// The verdict on one pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// log2 of the posterior odds that the two are the same person.
    pub weight: f64,
    /// Probability that they are the same person (before overrides).
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

/// A fitted (or default) matching model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchModel {
    /// Per field, in [`Field::ALL`] order.
    pub fields: Vec<FieldParams>,
    /// Prior probability that a candidate pair found by blocking is a match.
    pub prior: f64,
    pub given_tf: TermFrequencies,
    pub family_tf: TermFrequencies,
    pub thresholds: Thresholds,
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
        }
    }
}

/// A comparison pattern: the level of every field, `MISSING` where unknown.
type Pattern = [u8; Field::COUNT];
const MISSING: u8 = u8::MAX;

fn pattern(c: &Comparison) -> Pattern {
    c.levels.map(|l| l.unwrap_or(MISSING))
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

    /// Scores two records. Symmetric: `score(a, b) == score(b, a)`.
    pub fn score(&self, a: &MatchRecord, b: &MatchRecord) -> Score {
        let c = compare(a, b);
        let weight = self.weight_of(a, &c);
        let probability = 1.0 / (1.0 + (-weight).exp2());
        let by_weight = if probability >= self.thresholds.link {
            Decision::Link
        } else if probability >= self.thresholds.review {
            Decision::Review
        } else {
            Decision::Distinct
        };
        let overridden = overrides(a, b, &c);
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
            overridden: overridden.filter(|_| decision != by_weight),
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
            let c = compare(&records[i as usize], &records[j as usize]);
            let close = |f: Field| c.level(f).is_some_and(|l| l <= 1);
            if close(Field::Dob) {
                *by_dob.entry(pattern(&c)).or_default() += 1.0;
                n_dob += 1;
            }
            if close(Field::Given) && close(Field::Family) {
                *by_names.entry(pattern(&c)).or_default() += 1.0;
                n_names += 1;
            }
        }
        let mut a = model.clone();
        a.expectation_maximisation(&by_dob.into_iter().collect::<Vec<_>>(), 30, &[Field::Dob]);
        let mut b = model.clone();
        b.expectation_maximisation(
            &by_names.into_iter().collect::<Vec<_>>(),
            30,
            &[Field::Given, Field::Family],
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
        // Each block holds most of the matches: the larger of the two counts estimates
        // them all, and their share of the candidates is the prior that scores them.
        let matches = (a.prior * n_dob as f64).max(b.prior * n_names as f64);
        if !pairs.is_empty() && n_dob + n_names > 0 {
            model.prior = (matches / pairs.len() as f64).clamp(1e-6, 1.0 - 1e-6);
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

    /// EM over aggregated comparison patterns (pattern, count): `u` stays fixed.
    fn expectation_maximisation(
        &mut self,
        patterns: &[(Pattern, f64)],
        iterations: usize,
        blocked: &[Field],
    ) {
        let learned = |f: Field| learned(f) && !blocked.contains(&f);
        if patterns.is_empty() {
            return;
        }
        for _ in 0..iterations {
            let mut m_acc: Vec<Vec<f64>> =
                self.fields.iter().map(|p| vec![0.0; p.m.len()]).collect();
            let (mut matched, mut total) = (0.0, 0.0);
            for (pat, count) in patterns {
                let mut odds = self.prior / (1.0 - self.prior);
                for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                    let l = pat[f.index()];
                    if l != MISSING {
                        let p = &self.fields[f.index()];
                        odds *= p.m[l as usize] / p.u[l as usize];
                    }
                }
                let post = if odds.is_infinite() {
                    1.0
                } else {
                    odds / (1.0 + odds)
                };
                matched += post * count;
                total += count;
                for f in Field::ALL.into_iter().filter(|&f| learned(f)) {
                    let l = pat[f.index()];
                    if l != MISSING {
                        m_acc[f.index()][l as usize] += post * count;
                    }
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
            let prior = (matched / total).clamp(1e-6, 1.0 - 1e-6);
            change = change.max((prior - self.prior).abs());
            self.prior = prior;
            if change < 1e-5 {
                break;
            }
        }
    }
}

/// The rules that weights cannot express (see [`Override`]).
fn overrides(a: &MatchRecord, b: &MatchRecord, c: &Comparison) -> Option<Override> {
    if let (Some(x), Some(y)) = (a.birth_order, b.birth_order) {
        if x != y {
            return Some(Override::BirthOrder);
        }
    }
    // Twins never share an SSN or a clinic's MRN: with one of those agreeing, a different
    // given name is a keying error, not a second child. Twins' SSNs are often issued in
    // sequence (differing in the last digit), so only a slip elsewhere still counts as
    // the same number.
    let same_identifier = c.level(Field::Ssn) == Some(0)
        || (c.level(Field::Ssn) == Some(1)
            && a.ssn.get(..a.ssn.len() - 1) != b.ssn.get(..b.ssn.len() - 1))
        || c.level(Field::Mrn) == Some(0);
    // Same birth date, or the same one with day and month transposed.
    let twins = c.level(Field::Dob).is_some_and(|l| l <= 1)
        && c.level(Field::Family).is_some_and(|l| l <= 2)
        && c.level(Field::Given) == Some(4)
        && !same_identifier;
    if twins {
        return Some(Override::Twins);
    }
    if c.level(Field::Mrn) == Some(1) {
        return Some(Override::ClinicMrnDiffers);
    }
    // The same SSN settles a disputed birth date the way it settles a given name.
    (c.level(Field::Dob) == Some(3) && !same_identifier).then_some(Override::BirthDateDiffers)
}

#[cfg(test)]
mod tests {
    use super::*;

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
