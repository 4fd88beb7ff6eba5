//! CDSi 9 "Identify and evaluate vaccine group": combine the antigens of a
//! vaccine group (e.g. Diphtheria, Tetanus and Pertussis for DTaP/Tdap/Td)
//! into one status and one forecast.

use crate::result::{
    AntigenResult, EvaluationStatus, ForecastDates, RecommendedVaccine, SeriesStatus,
    VaccineGroupForecast,
};
use crate::supporting_data::VaccineGroup;

/// Combines the group's antigen results.
pub(crate) fn vaccine_group_forecast(
    group: &VaccineGroup,
    antigens: &[AntigenResult],
) -> VaccineGroupForecast {
    let members = || {
        group
            .antigens
            .iter()
            .filter_map(|id| antigens.get(usize::from(id.0)))
    };
    let considered = || members().filter(|a| a.status != SeriesStatus::NotRecommended);
    let status = group_status(considered);
    let forecast = if status == SeriesStatus::NotComplete {
        let due = considered()
            .filter(|a| a.status == SeriesStatus::NotComplete)
            .filter_map(|a| a.forecast.as_ref());
        if group.administer_full_group {
            combine_full_group(due)
        } else {
            // Not the full group: the antigen needing a dose soonest drives it,
            // but never before the group's most recent dose (test data: DT as
            // a 5th DTaP dose) and counting the most doses of any antigen.
            let dose_number = considered()
                .filter_map(|a| a.forecast.as_ref())
                .map(|f| f.dose_number)
                .max();
            let last_dose = considered()
                .filter_map(|a| a.best())
                .flat_map(|s| s.doses.iter())
                .filter(|d| d.status != EvaluationStatus::SubStandard)
                .map(|d| d.date)
                .max();
            due.min_by_key(|f| (f.earliest, f.recommended)).map(|f| {
                let mut f = f.clone();
                if let Some(last) = last_dose {
                    f.earliest = f.earliest.max(last);
                    f.recommended = f.recommended.max(f.earliest);
                    f.past_due = f.past_due.map(|p| p.max(f.earliest));
                }
                f.dose_number = dose_number.unwrap_or(f.dose_number);
                f
            })
        }
    } else {
        None
    };
    VaccineGroupForecast {
        vaccine_group: group.name.clone(),
        status,
        forecast,
        antigens: group.antigen_names.clone(),
    }
}

fn group_status<'a, I: Iterator<Item = &'a AntigenResult>>(
    members: impl Fn() -> I,
) -> SeriesStatus {
    if members().next().is_none() {
        return SeriesStatus::NotRecommended;
    }
    let any = |s: SeriesStatus| members().any(|a| a.status == s);
    let all = |s: SeriesStatus| members().all(|a| a.status == s);
    // CDSi 9: a contraindicated antigen stops the whole group.
    if any(SeriesStatus::Contraindicated) {
        SeriesStatus::Contraindicated
    } else if any(SeriesStatus::NotComplete) {
        SeriesStatus::NotComplete
    } else if all(SeriesStatus::Immune) {
        SeriesStatus::Immune
    } else if members().all(|a| matches!(a.status, SeriesStatus::Complete | SeriesStatus::Immune)) {
        SeriesStatus::Complete
    } else if any(SeriesStatus::AgedOut) {
        SeriesStatus::AgedOut
    } else {
        members()
            .next()
            .map_or(SeriesStatus::NotRecommended, |a| a.status)
    }
}

/// Administer-full-vaccine-group (CDSi 9, MMR): the earliest date is the
/// latest of the antigens' (every antigen's minimums are met); the
/// recommended, past-due and latest dates are the earliest of the antigens'
/// (the antigen furthest behind sets the pace), never before the earliest
/// date; the dose number is the lowest (a child with single-antigen measles
/// and mumps doses still needs MMR dose 1 for rubella).
fn combine_full_group<'a>(
    mut it: impl Iterator<Item = &'a ForecastDates>,
) -> Option<ForecastDates> {
    let mut out = it.next()?.clone();
    // Vaccines of later antigens not already listed, in order.
    let mut more: Vec<RecommendedVaccine> = Vec::new();
    for f in it {
        out.earliest = out.earliest.max(f.earliest);
        out.recommended = out.recommended.min(f.recommended);
        out.dose_number = out.dose_number.min(f.dose_number);
        out.past_due = match (out.past_due, f.past_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        out.latest = match (out.latest, f.latest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for v in &f.vaccines {
            if !out.vaccines.iter().chain(&more).any(|x| x.cvx == v.cvx) {
                more.push(v.clone());
            }
        }
    }
    if !more.is_empty() {
        out.vaccines = out.vaccines.iter().cloned().chain(more).collect();
    }
    out.recommended = out.recommended.max(out.earliest);
    out.past_due = out.past_due.map(|p| p.max(out.earliest));
    Some(out)
}
