//! CDSi 4 "Gather necessary data" and "Organize immunization history":
//! split each administered dose into its antigens (using the CVX → antigen
//! map and its age windows), drop records that were not administered, flag
//! sub-standard doses, and sort each antigen's doses by date.

use crate::dates::{CdsiDuration, DateSums};
use crate::patient::{AdministrationStatus, Patient};
use crate::plan::{AgeId, Plan, PlanDose};
use crate::result::EvaluationReason;
use crate::supporting_data::{AgeRange, Cvx, ObservationCode, SkipContext, SupportingData};
use chrono::{Datelike, NaiveDate};
use std::cell::Cell;

/// One administered dose as seen by one antigen.
#[derive(Clone, Debug)]
pub(crate) struct AntigenDose<'p> {
    /// Index into the patient's dose list.
    pub index: usize,
    pub date: NaiveDate,
    pub cvx: Cvx,
    pub mvx: Option<&'p str>,
    /// Set when the dose cannot count (CDSi 6.1 dose administered condition).
    pub sub_standard: Option<EvaluationReason>,
}

/// A patient's data organized for evaluation.
pub(crate) struct Organized<'p> {
    pub dob: NaiveDate,
    pub sex: crate::Sex,
    pub assessment: NaiveDate,
    /// Every antigen dose, sorted by antigen, date and dose index: one buffer
    /// for all antigens (see [`Organized::antigen_doses`]).
    doses: Vec<AntigenDose<'p>>,
    /// `doses[starts[a]..starts[a + 1]]` are antigen `a`'s doses.
    starts: Vec<u32>,
    /// The doses that can start a live virus conflict, by date.
    pub live_doses: Vec<(NaiveDate, Cvx, usize)>,
    pub observations: Vec<(ObservationCode, Option<NaiveDate>)>,
    pub unknown_vaccines: Vec<usize>,
    /// The forecast's date sums (ages, intervals), each worked out once.
    sums: &'p DateSums,
    /// The patient's ages of the plan's rows, by [`AgeId`], each worked
    /// out once (`None` until asked for).
    age_dates: &'p [Cell<Option<NaiveDate>>],
    /// The supporting data's per-release tables.
    pub plan: &'p Plan,
}

impl<'p> Organized<'p> {
    /// How many antigen doses there are in all (a dose counts once per antigen).
    pub fn antigen_dose_count(&self) -> usize {
        self.doses.len()
    }

    /// The doses of one antigen (by antigen id), in date order.
    pub fn antigen_doses(&self, antigen: usize) -> &[AntigenDose<'p>] {
        match (self.starts.get(antigen), self.starts.get(antigen + 1)) {
            (Some(&a), Some(&b)) => &self.doses[a as usize..b as usize],
            _ => &[],
        }
    }

    /// `duration.add_to(base)`, remembered for this forecast.
    #[inline]
    pub fn add(&self, duration: CdsiDuration, base: NaiveDate) -> NaiveDate {
        self.sums.add(duration, base)
    }

    /// The date the patient reaches `age`.
    #[inline]
    pub fn age_date(&self, age: CdsiDuration) -> NaiveDate {
        self.sums.age(age)
    }

    /// The date the patient reaches the plan's age `id` (`None` for
    /// [`AgeId::NONE`]).
    #[inline(always)]
    pub fn age_at(&self, id: AgeId) -> Option<NaiveDate> {
        let cell = self.age_dates.get(usize::from(id.0))?;
        if let Some(date) = cell.get() {
            return Some(date);
        }
        let date = self.plan.duration(id)?.add_to(self.dob);
        cell.set(Some(date));
        Some(date)
    }

    /// Can one of a target dose's skips of `phase` be met on `reference`:
    /// has the patient reached one of their ages ([`Plan::skip_ages`])?
    /// (`true` when the skips must be read to know.)
    #[inline(always)]
    pub fn may_skip(&self, td: &PlanDose, phase: SkipContext, reference: NaiveDate) -> bool {
        self.plan.skip_ages(td, phase).is_none_or(|ages| {
            ages.iter()
                .any(|&age| self.age_at(age).is_none_or(|from| reference >= from))
        })
    }

    /// Is the patient within the plan's age window `begin..end` on `date`?
    #[inline(always)]
    pub fn in_age_window(&self, begin: AgeId, end: AgeId, date: NaiveDate) -> bool {
        self.age_at(begin).is_none_or(|b| date >= b) && self.age_at(end).is_none_or(|e| date < e)
    }

    /// Is the patient within the age window `ages` on `date`?
    /// ([`AgeRange::contains`] with remembered sums.)
    #[inline]
    pub fn in_ages(&self, ages: &AgeRange, date: NaiveDate) -> bool {
        ages.begin.is_none_or(|b| date >= self.age_date(b))
            && ages.end.is_none_or(|e| date < self.age_date(e))
    }

    pub fn has_observation(&self, code: ObservationCode) -> bool {
        self.observations.iter().any(|(c, _)| *c == code)
    }

    pub fn observation_date(&self, code: ObservationCode) -> Option<NaiveDate> {
        self.observations
            .iter()
            .filter(|(c, _)| *c == code)
            .find_map(|(_, d)| *d)
    }
}

/// The buffers [`organize`] fills, empty or holding a former forecast's
/// data (cleared first): a thread keeps them between its forecasts so
/// organizing a history allocates nothing once they are large enough.
#[derive(Default)]
pub(crate) struct GatherBuffers<'p> {
    /// Each dose's vaccine, by dose index.
    codes: Vec<Option<Cvx>>,
    order: Vec<u64>,
    all: Vec<(u16, AntigenDose<'p>)>,
    doses: Vec<AntigenDose<'p>>,
    starts: Vec<u32>,
}

impl<'p> GatherBuffers<'p> {
    /// The same (emptied) buffers for another forecast's lifetime.
    pub(crate) fn recycle<'q>(self) -> GatherBuffers<'q> {
        GatherBuffers {
            codes: self.codes,
            order: recycle(self.order),
            all: recycle(self.all),
            doses: recycle(self.doses),
            starts: recycle(self.starts),
        }
    }
}

/// An emptied buffer as a buffer of another element type of the same size
/// and alignment (here the same type with another lifetime), keeping its
/// allocation: collecting a `Vec`'s own iterator into a `Vec` of a same-sized
/// type reuses the allocation, and with no element the map never runs.
pub(crate) fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("an empty list"))
        .collect()
}

impl<'p> Organized<'p> {
    /// The buffers back, for the thread's next forecast, and the unknown
    /// vaccines (part of the result).
    pub(crate) fn finish(self, spare: &mut GatherBuffers<'p>) -> Vec<usize> {
        spare.doses = self.doses;
        spare.starts = self.starts;
        self.unknown_vaccines
    }
}

pub(crate) fn organize<'p>(
    data: &SupportingData,
    plan: &'p Plan,
    patient: &'p Patient,
    assessment: NaiveDate,
    sums: &'p DateSums,
    age_dates: &'p [Cell<Option<NaiveDate>>],
    spare: &mut GatherBuffers<'p>,
) -> Organized<'p> {
    // The doses in (date, dose index) order: a history is usually recorded
    // in date order already, else a few (date, index) pairs are sorted.
    // Sorted as one integer each, (day number, index): the same order, with
    // cheaper comparisons.
    // Every dose's vaccine, read in a pass of its own first: the codes sit
    // in small allocations of their own, and a loop that does nothing else
    // lets the processor fetch many of them at once instead of one per turn
    // of the loop below (a history not read lately is not in the cache).
    let codes = &mut spare.codes;
    codes.clear();
    codes.extend(patient.doses.iter().map(|d| Cvx::parse(&d.cvx)));
    let order = &mut spare.order;
    order.clear();
    order.extend(patient.doses.iter().enumerate().map(|(i, d)| {
        let day = i64::from(d.date.num_days_from_ce()) - i64::from(i32::MIN);
        (day as u64) << 32 | (i as u64 & 0xFFFF_FFFF)
    }));
    if !order.is_sorted() {
        order.sort_unstable();
    }
    // (antigen id, dose) pairs in (date, dose index) order.
    let all = &mut spare.all;
    all.clear();
    all.reserve(patient.doses.len() * 3);
    let mut live_doses = Vec::new();
    let mut unknown_vaccines = Vec::new();
    for &key in order.iter() {
        let index = (key & 0xFFFF_FFFF) as usize;
        let dose = &patient.doses[index];
        if dose.status != AdministrationStatus::Administered {
            continue;
        }
        // Doses recorded after the assessment date are not yet history.
        if dose.date > assessment {
            continue;
        }
        let Some((cvx, entry)) = codes
            .get(index)
            .copied()
            .flatten()
            .and_then(|c| plan.slot(c).filter(|e| e.known).map(|e| (c, e)))
        else {
            unknown_vaccines.push(index);
            continue;
        };
        if !entry.conflicts_as_previous.is_empty() {
            live_doses.push((dose.date, cvx, index));
        }
        // CDSi 6.1: an expired lot or a sub-potent dose is sub-standard.
        let sub_standard = if dose.sub_potent {
            Some(EvaluationReason::SubPotent)
        } else if dose.lot_expiration.is_some_and(|exp| dose.date > exp) {
            Some(EvaluationReason::ExpiredLot)
        } else {
            None
        };
        for assoc in entry.antigens.iter() {
            let in_window = assoc.ages.begin.is_none_or(|b| dose.date >= sums.age(b))
                && assoc.ages.end.is_none_or(|e| dose.date < sums.age(e));
            if !in_window {
                continue;
            }
            all.push((
                assoc.antigen.0,
                AntigenDose {
                    index,
                    date: dose.date,
                    cvx,
                    mvx: dose.mvx.as_deref(),
                    sub_standard,
                },
            ));
        }
    }
    unknown_vaccines.sort_unstable();
    // Each antigen's doses form one run in (date, dose index) order, laid
    // out by a counting sort on the antigen (which keeps that order);
    // `starts` records where each run begins.
    let mut starts = std::mem::take(&mut spare.starts);
    starts.clear();
    starts.resize(data.antigens.len() + 1, 0);
    for (a, _) in all.iter() {
        if let Some(s) = starts.get_mut(usize::from(*a) + 1) {
            *s += 1;
        }
    }
    for a in 1..starts.len() {
        starts[a] += starts[a - 1];
    }
    // `starts[a + 1]` is the end of antigen `a`'s run: filled from the back,
    // it ends up at the run's beginning, so shifting by one gives the starts.
    let total = starts.last().copied().unwrap_or(0);
    let mut doses = std::mem::take(&mut spare.doses);
    doses.clear();
    if let Some((_, first)) = all.first() {
        doses.resize(all.len(), first.clone());
    }
    for (a, d) in all.drain(..).rev() {
        if let Some(end) = starts.get_mut(usize::from(a) + 1) {
            *end -= 1;
            doses[*end as usize] = d;
        }
    }
    starts.remove(0);
    starts.push(total);
    doses.truncate(total as usize);
    live_doses.sort_unstable_by_key(|d| (d.0, d.2));
    let observations = patient
        .observations
        .iter()
        .filter_map(|o| o.parsed_code().map(|c| (c, o.date)))
        .collect();
    Organized {
        dob: patient.dob,
        sex: patient.sex,
        assessment,
        doses,
        starts,
        live_doses,
        observations,
        unknown_vaccines,
        sums,
        age_dates,
        plan,
    }
}
