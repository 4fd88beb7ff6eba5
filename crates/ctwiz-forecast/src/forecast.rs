//! CDSi 7 "Forecast dates and reasons" for one patient series: conditional
//! skip (forecast context) [7.1], evidence of immunity [7.2],
//! contraindications [7.3], forecast need [7.4] and forecast dates [7.5].

use crate::conditional_skip::{is_skipped, SkipInput};
use crate::dates::add_days;
use crate::evaluate::{
    age_rule, interval_in_force, interval_reference, target_definition, SeriesState,
};
use crate::gather::{AntigenDose, Organized};
use crate::result::{ForecastDates, RecommendedVaccine, SeriesStatus};
use crate::supporting_data::{Antigen, Series, SkipContext, SupportingData};
use chrono::NaiveDate;

/// CDSi 7.2: does the patient have evidence of immunity to the antigen?
pub(crate) fn has_immunity(antigen: &Antigen, org: &Organized<'_>) -> bool {
    if antigen
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
    antigen
        .contraindications
        .iter()
        .any(|c| org.has_observation(c.code) && c.ages.contains(org.dob, org.assessment))
}

/// The series status and, when a dose is needed, its forecast.
pub(crate) fn forecast_series(
    data: &SupportingData,
    org: &Organized<'_>,
    antigen: &Antigen,
    series: &Series,
    doses: &[AntigenDose<'_>],
    state: &SeriesState,
    completed_group: &dyn Fn(&str) -> bool,
) -> (SeriesStatus, Option<ForecastDates>) {
    // CDSi 7.1: skip target doses whose forecast-context skip is met.
    let mut k = state.pos;
    let td = loop {
        let Some(td) = target_definition(series, k) else {
            return (SeriesStatus::Complete, None);
        };
        let input = SkipInput {
            org,
            doses,
            evals: &state.evals,
            limit: doses.len(),
            reference: org.assessment,
            completed_group,
        };
        if !td.conditional_skips.is_empty()
            && is_skipped(&td.conditional_skips, SkipContext::Forecast, &input)
        {
            k += 1;
            continue;
        }
        break td;
    };
    if has_immunity(antigen, org) {
        return (SeriesStatus::Immune, None);
    }
    if is_contraindicated(antigen, org) {
        return (SeriesStatus::Contraindicated, None);
    }

    // CDSi 7.5 forecast dates.
    let dob = org.dob;
    let age = age_rule(td, org.assessment);
    let max_age_date = age.and_then(|a| a.max).map(|m| m.add_to(dob));
    if max_age_date.is_some_and(|m| org.assessment >= m) {
        return (SeriesStatus::AgedOut, None);
    }
    let mut earliest = age
        .and_then(|a| a.min.or(a.abs_min))
        .map(|m| m.add_to(dob))
        .unwrap_or(dob);
    let rec_by_age: Option<NaiveDate> = age.and_then(|a| a.earliest_rec).map(|d| d.add_to(dob));
    let past_due_by_age: Option<NaiveDate> = age
        .and_then(|a| a.latest_rec)
        .map(|d| add_days(d.add_to(dob), -1));
    let mut rec_by_interval: Option<NaiveDate> = None;
    let mut past_due_by_interval: Option<NaiveDate> = None;

    let rules: Vec<_> = td
        .intervals
        .iter()
        .filter(|r| interval_in_force(r, org.assessment))
        .collect();
    // An interval with priority "override" takes precedence over the others.
    let has_override = rules.iter().any(|r| r.priority_override);
    let mut interval_earliest: Option<NaiveDate> = None;
    for rule in &rules {
        if has_override && !rule.priority_override {
            continue;
        }
        let Some(reference) = interval_reference(rule, org, doses, state, doses.len()) else {
            continue;
        };
        if let Some(min) = rule.min.or(rule.abs_min) {
            let d = min.add_to(reference);
            interval_earliest = Some(interval_earliest.map_or(d, |e| e.max(d)));
        }
        if let Some(r) = rule.earliest_rec {
            let d = r.add_to(reference);
            rec_by_interval = Some(rec_by_interval.map_or(d, |e| e.max(d)));
        }
        if let Some(l) = rule.latest_rec {
            let d = add_days(l.add_to(reference), -1);
            past_due_by_interval = Some(past_due_by_interval.map_or(d, |e| e.max(d)));
        }
    }
    if let Some(ie) = interval_earliest {
        earliest = earliest.max(ie);
    }
    // Live virus vaccines: wait out the conflict window of earlier live doses.
    if let Some(end) = live_virus_conflict_end(data, org, td) {
        earliest = earliest.max(end);
    }
    if let Some(season_start) = td.season_start {
        earliest = earliest.max(season_start);
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
    let latest = max_age_date.map(|m| add_days(m, -1));
    if latest.is_some_and(|l| earliest > l) {
        return (SeriesStatus::AgedOut, None);
    }
    let on = org.assessment.max(earliest);
    let mut vaccines: Vec<RecommendedVaccine> = Vec::new();
    for v in td
        .preferable_vaccines
        .iter()
        .filter(|v| v.forecast && v.ages.contains(dob, on))
    {
        let contraindicated = antigen.vaccine_contraindications.iter().any(|c| {
            org.has_observation(c.code)
                && c.vaccines
                    .iter()
                    .any(|(cvx, ages)| *cvx == v.cvx && ages.contains(dob, org.assessment))
        });
        if !contraindicated && !vaccines.iter().any(|x| x.cvx == v.cvx) {
            vaccines.push(RecommendedVaccine {
                cvx: v.cvx,
                vaccine_type: v.vaccine_type.clone(),
            });
        }
    }
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
            vaccines,
        }),
    )
}

fn live_virus_conflict_end(
    data: &SupportingData,
    org: &Organized<'_>,
    td: &crate::supporting_data::SeriesDose,
) -> Option<NaiveDate> {
    let mut end: Option<NaiveDate> = None;
    for c in &data.live_virus_conflicts {
        if !td.preferable_vaccines.iter().any(|v| v.cvx == c.current) {
            continue;
        }
        for &(d, cvx, _) in &org.all_doses {
            if cvx == c.previous {
                let e = c.end.add_to(d);
                if e > org.assessment {
                    end = Some(end.map_or(e, |x| x.max(e)));
                }
            }
        }
    }
    end
}
