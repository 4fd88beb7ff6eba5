//! CDSi 7 "Forecast dates and reasons" for one patient series: conditional
//! skip (forecast context) [7.1], evidence of immunity [7.2],
//! contraindications [7.3], forecast need [7.4] and forecast dates [7.5].

use crate::conditional_skip::{is_skipped, SkipInput};
use crate::dates::day_before;
use crate::evaluate::{interval_reference, target_definition, SeriesState};
use crate::gather::{AntigenDose, Organized};
use crate::plan::{AgeId, PlanDose, PlanInterval, PlanSeries};
use crate::result::{ForecastDates, RecommendedVaccine, SeriesStatus};
use crate::supporting_data::{Antigen, Series, SkipContext};
use crate::supporting_data::{Cvx, PreferableVaccine, Shared};
use chrono::NaiveDate;

/// CDSi 7.2: does the patient have evidence of immunity to the antigen?
pub(crate) fn has_immunity(antigen: &Antigen, org: &Organized<'_>) -> bool {
    if !org.observations.is_empty()
        && antigen
            .immunity_codes
            .iter()
            .any(|c| org.has_observation(*c))
    {
        return true;
    }
    antigen
        .birth_date_immunity
        .iter()
        .any(|b| org.dob < b.born_before && !b.exclusions.iter().any(|c| org.has_observation(*c)))
}

/// CDSi 7.3: is the antigen contraindicated on the assessment date?
pub(crate) fn is_contraindicated(antigen: &Antigen, org: &Organized<'_>) -> bool {
    // Every contraindication is an observation: without any, the rows need
    // not be read.
    !org.observations.is_empty()
        && antigen
            .contraindications
            .iter()
            .any(|c| org.has_observation(c.code) && org.in_ages(&c.ages, org.assessment))
}

/// What CDSi 7.2 and 7.3 decide for an antigen as a whole, the same for
/// every series of it: decided once per antigen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AntigenFacts {
    /// Evidence of immunity (CDSi 7.2).
    pub immune: bool,
    /// Contraindicated on the assessment date (CDSi 7.3).
    pub contraindicated: bool,
}

impl AntigenFacts {
    pub(crate) fn of(antigen: &Antigen, org: &Organized<'_>) -> Self {
        AntigenFacts {
            immune: has_immunity(antigen, org),
            contraindicated: is_contraindicated(antigen, org),
        }
    }
}

/// The dates of one target dose (CDSi 7.5), before vaccine selection.
struct TargetDates {
    earliest: NaiveDate,
    recommended: NaiveDate,
    past_due: Option<NaiveDate>,
    /// Maximum age date (the dose cannot be given on or after it).
    max_age: Option<NaiveDate>,
}

fn target_dates(
    org: &Organized<'_>,
    td: &PlanDose,
    min_age_to_start: Option<crate::dates::CdsiDuration>,
    doses: &[AntigenDose<'_>],
    state: &SeriesState,
) -> TargetDates {
    let plan = org.plan;
    let dob = org.dob;
    let age = plan.ages(td).iter().find(|a| a.in_force(org.assessment));
    let max_age = age.and_then(|a| org.age_at(a.max));
    let mut earliest = age
        .and_then(|a| org.age_at(a.min).or_else(|| org.age_at(a.abs_min)))
        .unwrap_or(dob);
    let rec_by_age: Option<NaiveDate> = age.and_then(|a| org.age_at(a.earliest_rec));
    let past_due_by_age: Option<NaiveDate> =
        age.and_then(|a| org.age_at(a.latest_rec)).map(day_before);
    let mut rec_by_interval: Option<NaiveDate> = None;
    let mut past_due_by_interval: Option<NaiveDate> = None;
    // An interval with priority "override" takes precedence over the others.
    let in_force = |r: &&PlanInterval| r.in_force(org.assessment);
    let intervals = plan.intervals(td);
    let has_override = td.any_override
        && intervals
            .iter()
            .filter(in_force)
            .any(|r| r.priority_override);
    let mut interval_earliest: Option<NaiveDate> = None;
    for rule in intervals.iter().filter(in_force) {
        if has_override && !rule.priority_override {
            continue;
        }
        let Some(reference) = interval_reference(rule, org, doses, state, doses.len()) else {
            continue;
        };
        let min_id = if rule.min == AgeId::NONE {
            rule.abs_min
        } else {
            rule.min
        };
        let min = plan.duration(min_id).map(|m| org.add(m, reference));
        if let Some(d) = min {
            interval_earliest = Some(interval_earliest.map_or(d, |e| e.max(d)));
        }
        // The recommended and past-due dates by interval count only where
        // the age row has none (below). The earliest recommended interval
        // is often the minimum one: its date is worked out once.
        if rec_by_age.is_none() {
            let rec = if rule.earliest_rec == min_id {
                min
            } else {
                plan.duration(rule.earliest_rec)
                    .map(|r| org.add(r, reference))
            };
            if let Some(d) = rec {
                rec_by_interval = Some(rec_by_interval.map_or(d, |e| e.max(d)));
            }
        }
        if past_due_by_age.is_none() {
            if let Some(l) = plan.duration(rule.latest_rec) {
                let d = day_before(org.add(l, reference));
                past_due_by_interval = Some(past_due_by_interval.map_or(d, |e| e.max(d)));
            }
        }
    }
    if let Some(ie) = interval_earliest {
        earliest = earliest.max(ie);
    }
    // Live virus vaccines: wait out the conflict window of earlier live doses.
    if let Some(end) = live_virus_conflict_end(org, td) {
        earliest = earliest.max(end);
    }
    if let Some(season_start) = td.season_start {
        earliest = earliest.max(season_start);
    }
    // Test data: the next dose is never forecast before an inadvertent dose
    // that had to be repeated (the last one: the doses are in date order).
    if let Some(last) = state.last_inadvertent.and_then(|j| doses.get(j)) {
        earliest = earliest.max(last.date);
    }
    // A series cannot be started before its minimum age to start.
    if state.valid_doses() == 0 {
        if let Some(start) = min_age_to_start {
            earliest = earliest.max(org.age_date(start));
        }
    }
    // CDSi 7.5: the recommended and past-due dates come from the age rule
    // when it has them, otherwise from the intervals; neither may precede
    // the earliest date.
    let recommended = rec_by_age
        .or(rec_by_interval)
        .map_or(earliest, |r| r.max(earliest));
    let past_due = past_due_by_age
        .or(past_due_by_interval)
        .map(|p| p.max(earliest));
    TargetDates {
        earliest,
        recommended,
        past_due,
        max_age,
    }
}

/// The series status and, when a dose is needed, its forecast.
pub(crate) fn forecast_series(
    org: &Organized<'_>,
    antigen: AntigenFacts,
    series: &Series,
    plan_series: &PlanSeries,
    doses: &[AntigenDose<'_>],
    state: &SeriesState,
    completed_group: &dyn Fn(&str) -> bool,
) -> (SeriesStatus, Option<ForecastDates>, usize) {
    let tds = org.plan.doses(plan_series);
    // CDSi 7.1: skip target doses whose forecast-context skip is met on the
    // assessment date; CDSi 7.6 validates the recommendation by asking again
    // on the forecast's earliest date (CONDSKIP-2: the reference date is the
    // assessment date, then the earliest date): Hib dose 3 is skipped when
    // the child will be 12 months old by the time it may be given.
    let mut k = state.pos;
    let (td, dates) = loop {
        let Some(td) = tds.get(k) else {
            return (SeriesStatus::Complete, None, k);
        };
        let skips = org.plan.skips(td, SkipContext::Forecast);
        let skipped_on = |reference: NaiveDate| {
            let input = SkipInput {
                org,
                doses,
                evals: &state.evals,
                limit: doses.len(),
                reference,
                completed_group,
            };
            is_skipped(skips, &input)
        };
        let has_skips = td.skips_forecast;
        if has_skips && skipped_on(org.assessment) {
            k += 1;
            continue;
        }
        let dates = target_dates(org, td, series.min_age_to_start, doses, state);
        if has_skips && dates.earliest > org.assessment && skipped_on(dates.earliest) {
            k += 1;
            continue;
        }
        break (td, dates);
    };
    if antigen.immune {
        return (SeriesStatus::Immune, None, k);
    }
    if antigen.contraindicated {
        return (SeriesStatus::Contraindicated, None, k);
    }
    let TargetDates {
        earliest,
        recommended,
        past_due,
        max_age,
    } = dates;
    // CDSi 7.4: no forecast once the patient has reached the maximum age.
    if max_age.is_some_and(|m| org.assessment >= m || earliest >= m) {
        return (SeriesStatus::AgedOut, None, k);
    }
    let latest = max_age.map(day_before);
    // The CDC reports the forecast dose number as the count of valid doses
    // plus one (skipped target doses are not counted).
    let valid = state.valid_doses();
    // Seasonal doses are counted within the season.
    let counted = match td.season_start {
        Some(start) => state
            .targets
            .iter()
            .filter(|t| matches!(t, crate::evaluate::TargetStatus::Satisfied(j) if doses[*j].date >= start))
            .count(),
        None => valid,
    };
    let dose_number = u8::try_from(counted + 1).unwrap_or(u8::MAX);
    (
        SeriesStatus::NotComplete,
        Some(ForecastDates {
            dose_number,
            earliest,
            recommended,
            past_due,
            latest,
            // Filled in for the series a vaccine group forecast contains only
            // (see `recommended_vaccines`).
            vaccines: Shared::default(),
        }),
        k,
    )
}

/// The latest end of a live virus conflict window (CDSi 6.7) that the next
/// dose's live vaccines would fall into, if it is after the assessment date.
fn live_virus_conflict_end(org: &Organized<'_>, td: &PlanDose) -> Option<NaiveDate> {
    if !td.live_vaccine {
        return None;
    }
    let mut end: Option<NaiveDate> = None;
    // The latest end over the conflict rows from each earlier live dose to
    // any of the target dose's preferable vaccines (listed once per
    // release, `Plan::live_ends`).
    let ends = org.plan.live_ends(td);
    for &(d, prev, _) in &org.live_doses {
        for &(_, duration) in ends.iter().filter(|&&(p, _)| p == prev) {
            let e = org.add(duration, d);
            if e > org.assessment {
                end = Some(end.map_or(e, |x| x.max(e)));
            }
        }
    }
    end
}

/// The vaccines to recommend for target dose `k` of a series: its preferable
/// vaccines flagged for forecasting, in their age window on the earliest date
/// (or today), minus vaccine-specific contraindications (CDSi 7.3, 7.5).
/// Shares the target dose's precomputed list when every one of them applies.
pub(crate) fn recommended_vaccines(
    org: &Organized<'_>,
    antigen: &Antigen,
    series: &Series,
    k: usize,
    earliest: NaiveDate,
) -> Shared<RecommendedVaccine> {
    let Some(td) = target_definition(series, k) else {
        return Shared::default();
    };
    let on = org.assessment.max(earliest);
    let contraindicated = |cvx: Cvx| {
        !org.observations.is_empty()
            && antigen.vaccine_contraindications.iter().any(|c| {
                org.has_observation(c.code)
                    && c.vaccines
                        .iter()
                        .any(|(v, ages)| *v == cvx && org.in_ages(ages, org.assessment))
            })
    };
    let applies = |v: &PreferableVaccine| org.in_ages(&v.ages, on) && !contraindicated(v.cvx);
    let mut flagged = td.preferable_vaccines.iter().filter(|v| v.forecast);
    // Every flagged row applies: the answer is the precomputed list.
    if flagged.all(applies) {
        return td.forecast_vaccines.clone();
    }
    let mut vaccines: Vec<RecommendedVaccine> = Vec::new();
    for v in td
        .preferable_vaccines
        .iter()
        .filter(|v| v.forecast && applies(v))
    {
        if !vaccines.iter().any(|x| x.cvx == v.cvx) {
            vaccines.push(RecommendedVaccine {
                cvx: v.cvx,
                vaccine_type: v.vaccine_type.clone(),
            });
        }
    }
    Shared::from(vaccines)
}
