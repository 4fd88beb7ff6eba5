//! CDSi 6.2 / 7.1 "Evaluate conditional skip": decide whether a target dose
//! can be skipped because of the patient's age, dose history or completed
//! series. Used by evaluation (reference date = date administered) and by
//! forecasting (reference date = assessment date).

use crate::evaluate::{previous_dose, DoseEval};
use crate::gather::{AntigenDose, Organized};
use crate::plan::{PlanCondition, PlanSkip, PlanSkipSet};
use crate::result::EvaluationStatus;
use crate::supporting_data::{ConditionKind, CountLogic};
use chrono::NaiveDate;

/// What a skip decision looks at.
pub(crate) struct SkipInput<'a, 'p> {
    pub org: &'a Organized<'p>,
    pub doses: &'a [AntigenDose<'p>],
    pub evals: &'a [DoseEval],
    /// Only doses before this position count (the dose under evaluation).
    pub limit: usize,
    pub reference: NaiveDate,
    /// Is a series of this antigen in the named series group complete?
    pub completed_group: &'a dyn Fn(&str) -> bool,
}

/// `skips` are a target dose's skips of one phase ([`crate::plan::Plan::skips`]:
/// each applies in it and has a set).
pub(crate) fn is_skipped(skips: &[PlanSkip], input: &SkipInput<'_, '_>) -> bool {
    let plan = input.org.plan;
    skips.iter().any(|skip| {
        let sets = plan.skip_sets(skip);
        // setLogic: OR (or n/a with a single set) vs AND.
        if skip.any {
            sets.iter().any(|s| set_met(s, input))
        } else {
            sets.iter().all(|s| set_met(s, input))
        }
    })
}

fn set_met(set: &PlanSkipSet, input: &SkipInput<'_, '_>) -> bool {
    // A set only applies between its effective and cessation dates.
    if set.effective.is_some_and(|e| input.reference < e)
        || set.cessation.is_some_and(|c| input.reference > c)
    {
        return false;
    }
    let conditions = input.org.plan.conditions(set);
    if conditions.is_empty() {
        return false;
    }
    if set.any {
        conditions.iter().any(|c| condition_met(c, input))
    } else {
        conditions.iter().all(|c| condition_met(c, input))
    }
}

fn condition_met(c: &PlanCondition, input: &SkipInput<'_, '_>) -> bool {
    match c.kind {
        ConditionKind::Age => input.org.in_age_window(c.begin, c.end, input.reference),
        ConditionKind::Interval => {
            let Some(interval) = c.interval else {
                return false;
            };
            match previous_dose(input.evals, input.limit) {
                Some(j) => input.reference >= input.org.add(interval, input.doses[j].date),
                None => false,
            }
        }
        ConditionKind::CompletedSeries => input
            .org
            .plan
            .series_groups(c)
            .iter()
            .any(|g| (input.completed_group)(g)),
        ConditionKind::VaccineCountByAge
        | ConditionKind::VaccineCountByDate
        | ConditionKind::VaccineCountByDateAndAge => {
            // At most `limit` doses count: too few for "more than n" or
            // "exactly n" settles it without reading them.
            let most = u32::try_from(input.limit).unwrap_or(u32::MAX);
            match c.count_logic {
                CountLogic::GreaterThan if most <= c.dose_count => return false,
                CountLogic::EqualTo if most < c.dose_count => return false,
                _ => {}
            }
            let by_age = c.kind != ConditionKind::VaccineCountByDate;
            let by_date = c.kind != ConditionKind::VaccineCountByAge;
            // The age window as dates, once for all the doses.
            let begin = if by_age {
                input.org.age_at(c.begin)
            } else {
                None
            };
            let end = if by_age {
                input.org.age_at(c.end)
            } else {
                None
            };
            let vaccine_types = input.org.plan.vaccine_types(c);
            let mut count = 0u32;
            // An antigen's doses are in date order: once a dose is past the
            // window's end, so are all the later ones.
            for (d, e) in input.doses[..input.limit].iter().zip(input.evals) {
                if end.is_some_and(|e| d.date >= e)
                    || (by_date && c.end_date.is_some_and(|e| d.date > e))
                {
                    break;
                }
                if begin.is_some_and(|b| d.date < b)
                    || (by_date && c.start_date.is_some_and(|s| d.date < s))
                {
                    continue;
                }
                if e.status == EvaluationStatus::SubStandard
                    || (c.valid_only && e.status != EvaluationStatus::Valid)
                {
                    continue;
                }
                // Last: the vaccine list is the longest test.
                if vaccine_types.is_empty() || vaccine_types.contains(&d.cvx) {
                    count += 1;
                    // "More than n" is settled by the first dose over n.
                    if matches!(c.count_logic, CountLogic::GreaterThan) && count > c.dose_count {
                        break;
                    }
                }
            }
            match c.count_logic {
                CountLogic::GreaterThan => count > c.dose_count,
                CountLogic::EqualTo => count == c.dose_count,
                CountLogic::LessThan => count < c.dose_count,
            }
        }
    }
}
