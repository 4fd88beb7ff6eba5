//! CDSi 5 "Identify relevant patient series" and CDSi 8 "Select best patient
//! series": which series apply to the patient, and which one of them drives
//! the antigen's forecast (pre-filtering scorable series, choosing an
//! obvious winner, scoring complete or in-process series, then choosing
//! among series groups).

use crate::gather::Organized;
use crate::plan::Admission;
use crate::result::SeriesStatus;
use crate::supporting_data::{Series, SeriesType};
use chrono::NaiveDate;
use std::cell::Cell;

/// CDSi 5: a standard series is relevant to everyone; a risk series only when
/// the patient has one of its indications in its age window; either only
/// when the patient's sex is among the series' required genders (`admission`,
/// the series' own facts worked out once per release).
pub(crate) fn is_relevant(series: &Series, admission: Admission, org: &Organized<'_>) -> bool {
    admission.admits(org.sex)
        && (!admission.risk
            || (!org.observations.is_empty()
                && series.indications.iter().any(|ind| {
                    org.has_observation(ind.code) && org.in_ages(&ind.ages, org.assessment)
                })))
}

/// What selection needs to know about an evaluated patient series.
pub(crate) struct Candidate<'a> {
    pub series: &'a Series,
    pub status: SeriesStatus,
    pub valid_doses: usize,
    pub first_valid: Option<NaiveDate>,
    pub remaining: usize,
    pub forecast_earliest: Option<NaiveDate>,
    /// The forecast is for a later target dose than the first: the first
    /// doses were met or skipped for this patient.
    pub first_doses_skipped: bool,
    /// Every valid dose is a preferable vaccine of a product series.
    pub all_product: bool,
    /// The index of the target dose forecast next.
    pub target: usize,
    /// [`Candidate::finish`], once scoring has asked for it (scoring asks
    /// several times per candidate).
    pub finish: Cell<Option<Option<NaiveDate>>>,
}

impl Candidate<'_> {
    /// CDSi 8 "forecast finish date": the next dose's earliest date plus the
    /// longest minimum interval of the target doses still to come. Only
    /// scoring asks (most antigens need none), so it is worked out then,
    /// once.
    fn finish(&self, org: &Organized<'_>) -> Option<NaiveDate> {
        if let Some(finish) = self.finish.get() {
            return finish;
        }
        let finish = self.forecast_earliest.map(|earliest| {
            self.series
                .doses
                .iter()
                .skip(self.target + 1)
                .flat_map(|d| d.intervals.iter())
                .filter_map(|r| r.min)
                .map(|m| org.add(m, earliest))
                .fold(earliest, NaiveDate::max)
        });
        self.finish.set(Some(finish));
        finish
    }
    /// The series can be finished before the last target dose's maximum age.
    fn completable(&self, org: &Organized<'_>) -> bool {
        let last_max_age = self
            .series
            .doses
            .last()
            .and_then(|d| d.ages.iter().filter_map(|a| a.max).next())
            .map(|m| org.age_date(m));
        self.status == SeriesStatus::NotComplete
            && self
                .finish(org)
                .is_some_and(|f| last_max_age.is_none_or(|m| f < m))
    }
    fn complete(&self) -> bool {
        matches!(self.status, SeriesStatus::Complete | SeriesStatus::Immune)
    }
    fn in_process(&self) -> bool {
        self.valid_doses > 0
    }
    /// A series the patient has none of whose first doses are skipped for
    /// them (the 2–23 month MenACWY risk series for an older patient) has no
    /// start date (CDSi 8.6 "can start earliest"): it competes only when no
    /// other series of its group can.
    fn startable(&self) -> bool {
        self.complete() || self.in_process() || !self.first_doses_skipped
    }
    /// Could this series still give the patient a dose or a completed
    /// series? Only such series set the series-priority bar (CDSi 8.1): an
    /// aged-out infant series of priority A does not hide an adult risk
    /// series of priority B.
    fn viable(&self) -> bool {
        self.startable()
            && (self.complete() || self.in_process() || self.status == SeriesStatus::NotComplete)
    }
}

/// CDSi 8.1: a series is scorable when the patient is old enough for it on
/// the assessment date (minimum age to start, with the usual 4-day grace:
/// Heplisav-B at 18 years − 4 days) and started it in time (first valid
/// dose, or the assessment date before any dose, before the maximum age to
/// start). A childhood dose still counts in an adult risk series (HepA at
/// 7 years for an adult with an adoptee contact).
fn scorable(c: &Candidate<'_>, org: &Organized<'_>) -> bool {
    if c.series.series_type == SeriesType::EvaluationOnly {
        return false;
    }
    let start = c.first_valid.unwrap_or(org.assessment);
    c.series
        .min_age_to_start
        .is_none_or(|m| org.assessment >= crate::dates::add_days(org.age_date(m), -4))
        && c.series
            .max_age_to_start
            .is_none_or(|m| start < org.age_date(m))
}

/// Was the series started (first valid dose) before its maximum age to start?
fn started_in_time(c: &Candidate<'_>, org: &Organized<'_>) -> bool {
    let start = c.first_valid.unwrap_or(org.assessment);
    c.series
        .max_age_to_start
        .is_none_or(|m| start < org.age_date(m))
}

/// Has the patient reached the series' minimum age to start (on the
/// assessment date)? Used to pick a default series before any dose.
fn old_enough_to_start(c: &Candidate<'_>, org: &Organized<'_>) -> bool {
    c.series
        .min_age_to_start
        .is_none_or(|m| org.assessment >= org.age_date(m))
}

/// A set of candidate indices (at most 64 series per antigen), so that
/// selection allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Members(u64);

impl Members {
    fn all(n: usize) -> Self {
        Members(if n >= 64 { u64::MAX } else { (1u64 << n) - 1 })
    }
    /// The members in increasing order (one step per set bit).
    fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(i)
        })
    }
    fn filter(self, f: impl Fn(usize) -> bool) -> Self {
        Members(
            self.iter()
                .filter(|&i| f(i))
                .fold(0, |acc, i| acc | (1 << i)),
        )
    }
    /// The members also in `other`.
    fn and(self, other: Members) -> Members {
        Members(self.0 & other.0)
    }
    /// The members not in `other`.
    fn and_not(self, other: Members) -> Members {
        Members(self.0 & !other.0)
    }
    fn len(self) -> u32 {
        self.0.count_ones()
    }
    fn first(self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }
    fn contains(self, i: usize) -> bool {
        i < 64 && self.0 & (1 << i) != 0
    }
    /// These members, or `fallback` when there are none.
    fn or_if_empty(self, fallback: Members) -> Members {
        if self.len() > 0 {
            self
        } else {
            fallback
        }
    }
}

/// Scores the candidates, appends the best series of each series group to
/// `group_best`, and returns the best candidate overall (`None` when no series
/// can be selected).
pub(crate) fn select_best(
    cands: &[Candidate<'_>],
    org: &Organized<'_>,
    scores: &mut [i32],
    group_best: &mut Vec<usize>,
) -> Option<usize> {
    let everyone = Members::all(cands.len().min(64));
    let traits = Traits::of(cands, everyone);
    let mut winners = Members::default();
    let mut handled = Members::default();
    for first in everyone.iter() {
        // Handle each series group once, at its first member.
        if handled.contains(first) {
            continue;
        }
        let g = &cands[first].series.series_group;
        let group = everyone.filter(|i| cands[i].series.series_group == *g);
        handled.0 |= group.0;
        let members = group.and_not(traits.evaluation_only);
        if members.len() == 0 {
            continue;
        }
        // Priority: only the series of the highest priority letter among the
        // viable ones compete.
        let viable = members.and(traits.viable);
        let competing = viable.or_if_empty(members);
        let members = if competing.len() == 1 && members.len() == 1 {
            members
        } else {
            let best_priority = competing
                .iter()
                .map(|i| cands[i].series.priority)
                .min()
                .unwrap_or('A');
            members.filter(|i| cands[i].series.priority == best_priority)
        };
        let members = members.and(traits.startable).or_if_empty(members);
        if let Some(w) = select_in_group(cands, &traits, members, org, scores) {
            winners.0 |= 1 << w;
        }
    }
    group_best.extend(winners.iter());
    choose_among_groups(cands, winners)
}

/// What selection asks of every candidate, as sets: worked out once per
/// antigen, so the rules below combine sets instead of looping over the
/// candidates again and again.
struct Traits {
    evaluation_only: Members,
    viable: Members,
    startable: Members,
    /// With a valid dose ([`Candidate::in_process`]).
    in_process: Members,
    complete: Members,
    default_series: Members,
}

impl Traits {
    fn of(cands: &[Candidate<'_>], everyone: Members) -> Self {
        let mut t = Traits {
            evaluation_only: Members::default(),
            viable: Members::default(),
            startable: Members::default(),
            in_process: Members::default(),
            complete: Members::default(),
            default_series: Members::default(),
        };
        for i in everyone.iter() {
            let c = &cands[i];
            let bit = 1u64 << i;
            let mark = |set: &mut Members, yes: bool| set.0 |= if yes { bit } else { 0 };
            mark(
                &mut t.evaluation_only,
                c.series.series_type == SeriesType::EvaluationOnly,
            );
            mark(&mut t.viable, c.viable());
            mark(&mut t.startable, c.startable());
            mark(&mut t.in_process, c.in_process());
            mark(&mut t.complete, c.complete());
            mark(&mut t.default_series, c.series.default_series);
        }
        t
    }
}

fn select_in_group(
    cands: &[Candidate<'_>],
    traits: &Traits,
    members: Members,
    org: &Organized<'_>,
    scores: &mut [i32],
) -> Option<usize> {
    // CDSi 8.2: with no valid dose in any series of the group, the default
    // series is the patient's series.
    if members.and(traits.in_process).len() == 0 {
        if let Some(d) = members
            .and(traits.default_series)
            .iter()
            .find(|&i| old_enough_to_start(&cands[i], org))
        {
            return Some(d);
        }
    }
    // CDSi 8.2: one complete series wins, several are scored. A complete
    // series counts even if the patient started it younger than its minimum
    // age to start (HPV 3-dose from age 9), but not if they started it after
    // its maximum age to start (the infant COVID-19 series for an adult).
    let complete = members
        .and(traits.complete)
        .filter(|i| started_in_time(&cands[i], org));
    if complete.len() == 1 {
        return complete.first();
    }
    if complete.len() > 1 {
        score_complete(cands, complete, scores);
        return best_scored(cands, complete, scores);
    }
    // When the patient is too young for every series of the group, a series
    // they have already started still counts (PPSV23 at 47 years in the
    // 50+ PPSV23-PCV series).
    let members = members.filter(|i| scorable(&cands[i], org)).or_if_empty(
        members
            .and(traits.in_process)
            .filter(|i| started_in_time(&cands[i], org)),
    );
    if members.len() <= 1 {
        return members.first();
    }
    let in_process = members.and(traits.in_process);
    if in_process.len() == 1 {
        return in_process.first();
    }
    if in_process.len() > 1 {
        score_in_process(cands, in_process, org, scores);
        return best_scored(cands, in_process, scores);
    }
    // CDSi 8.2 rule 5: nothing started — the default series; else CDSi 8.6.
    if let Some(d) = members.and(traits.default_series).first() {
        return Some(d);
    }
    score_no_valid_doses(cands, members, org, scores);
    best_scored(cands, members, scores)
}

/// CDSi 8.6 scoring of series with no valid doses (Table 8-11): can start
/// earliest (the next dose's earliest date, +1/0/−1), completable (±1), and a
/// product series counts against (−1, others +1).
fn score_no_valid_doses(
    cands: &[Candidate<'_>],
    members: Members,
    org: &Organized<'_>,
    scores: &mut [i32],
) {
    award(members, scores, |i| cands[i].forecast_earliest, false, 1);
    for i in members.iter() {
        let c = &cands[i];
        scores[i] += if c.completable(org) { 1 } else { -1 };
        scores[i] += if c.series.product_path { -1 } else { 1 };
    }
}

/// CDSi 8.4 complete-series scoring (Table 8-7): the most valid doses.
fn score_complete(cands: &[Candidate<'_>], members: Members, scores: &mut [i32]) {
    award(members, scores, |i| Some(cands[i].valid_doses), true, 1);
}

/// Points: `unique` to a single best, 0 to tied best, `-unique` to the rest.
fn award<K: Ord + Copy>(
    members: Members,
    scores: &mut [i32],
    key: impl Fn(usize) -> Option<K>,
    best_is_max: bool,
    unique: i32,
) {
    let keys = members.iter().filter_map(&key);
    let best = if best_is_max { keys.max() } else { keys.min() };
    let is_best = members.filter(|m| best.is_some() && key(m) == best);
    for m in members.iter() {
        scores[m] += match (is_best.contains(m), is_best.len()) {
            (true, 1) => unique,
            (true, _) => 0,
            (false, _) => -unique,
        };
    }
}

/// CDSi 8.5 in-process-series scoring (Table 8-9).
fn score_in_process(
    cands: &[Candidate<'_>],
    members: Members,
    org: &Organized<'_>,
    scores: &mut [i32],
) {
    // Each member's completability, asked once.
    let completable = members.filter(|i| cands[i].completable(org));
    for i in members.iter() {
        let c = &cands[i];
        scores[i] += if c.series.product_path && c.all_product {
            2
        } else {
            -2
        };
        scores[i] += if completable.contains(i) { 3 } else { -3 };
    }
    award(members, scores, |i| Some(cands[i].valid_doses), true, 2);
    award(members, scores, |i| Some(cands[i].remaining), false, 2);
    award(completable, scores, |i| cands[i].finish(org), false, 1);
}

fn best_scored(cands: &[Candidate<'_>], members: Members, scores: &[i32]) -> Option<usize> {
    members.iter().max_by(|&a, &b| {
        scores[a]
            .cmp(&scores[b])
            .then_with(|| cands[b].series.preference.cmp(&cands[a].series.preference))
            .then_with(|| b.cmp(&a))
    })
}

/// Among the best series of each series group: a series that needs a dose
/// drives the antigen — a relevant risk series first (it is forecast even
/// when the standard series is complete), then the one due soonest — then a
/// complete one, then the others.
fn choose_among_groups(cands: &[Candidate<'_>], winners: Members) -> Option<usize> {
    // Equivalent series groups: a series that names another group as
    // equivalent is satisfied when that group's best series is complete
    // (an adult who completed the risk Twinrix series needs no standard
    // HepB series). The relation is one-way as the data states it: the
    // pneumococcal risk series name no equivalent group, so a complete
    // standard series does not satisfy them.
    let satisfied = |i: usize| {
        cands[i].series.equivalent_series_groups.iter().any(|g| {
            winners
                .iter()
                .any(|j| j != i && cands[j].series.series_group == *g && cands[j].complete())
        })
    };
    let winners = winners
        .filter(|i| cands[i].complete() || !satisfied(i))
        .or_if_empty(winners);
    let rank = |i: usize| match cands[i].status {
        SeriesStatus::NotComplete => 0,
        SeriesStatus::Complete | SeriesStatus::Immune => 1,
        SeriesStatus::Contraindicated => 2,
        _ => 3,
    };
    winners.iter().min_by_key(|&i| {
        (
            rank(i),
            cands[i].series.series_type != SeriesType::Risk,
            cands[i].forecast_earliest,
            cands[i].series.priority,
            cands[i].series.series_group.as_str(),
        )
    })
}
