//! CDSi 6 "Evaluate vaccine dose administered": walk the antigen's doses in
//! date order against one series' target doses, deciding for each dose
//! whether it satisfies the current target dose.
//!
//! Steps per dose (spec section in brackets): dose condition [6.1],
//! conditional skip [6.2], inadvertent vaccine [6.3], age [6.4], preferable
//! and allowable interval [6.5, 6.6], live virus conflict [6.7], preferable
//! and allowable vaccine [6.8, 6.9], satisfy target dose [6.11]. Gender
//! [6.10] is applied when the series is chosen as relevant.

use crate::conditional_skip::{is_skipped, SkipInput};
use crate::gather::{AntigenDose, Organized};
use crate::plan::{PlanDose, PlanFrom, PlanInterval, PlanSeries};
use crate::result::{EvaluationReason, EvaluationStatus, Reasons};
use crate::supporting_data::{
    AgeRule, IntervalRule, Series, SeriesDose, SkipContext, SupportingData,
};
use chrono::NaiveDate;

/// The evaluation of one antigen dose against one series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DoseEval {
    pub status: EvaluationStatus,
    pub reasons: Reasons,
    pub target_dose: Option<u8>,
    /// The target dose (1-based) the dose was evaluated against.
    pub against: Option<u8>,
    pub inadvertent: bool,
}

impl DoseEval {
    fn new(status: EvaluationStatus, reason: Option<EvaluationReason>) -> Self {
        DoseEval {
            status,
            reasons: reason.map_or(Reasons::EMPTY, Reasons::one),
            target_dose: None,
            against: None,
            inadvertent: false,
        }
    }
}

/// How a target dose was dealt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetStatus {
    /// Satisfied by the antigen dose at this position.
    Satisfied(usize),
    /// Skipped by a conditional skip.
    Skipped,
}

/// The evaluation state of a patient series.
#[derive(Clone, Debug, Default)]
pub(crate) struct SeriesState {
    pub evals: Vec<DoseEval>,
    /// History of target doses dealt with, in order.
    pub targets: Vec<TargetStatus>,
    /// Index of the current target dose definition; a satisfied recurring
    /// dose stays current, everything else moves on.
    pub pos: usize,
    /// The position of the last dose evaluated as an inadvertent
    /// administration, if any (doses are in date order: the latest one).
    pub last_inadvertent: Option<usize>,
}

impl SeriesState {
    /// No dose evaluated, no target dose dealt with.
    pub fn clear(&mut self) {
        self.evals.clear();
        self.targets.clear();
        self.pos = 0;
        self.last_inadvertent = None;
    }

    pub fn valid_doses(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| matches!(t, TargetStatus::Satisfied(_)))
            .count()
    }
}

/// The definition of target dose `k` (0-based); `None` once the series is done.
pub(crate) fn target_definition(series: &Series, k: usize) -> Option<&SeriesDose> {
    series.doses.get(k)
}

/// The dose an interval "from the immediate previous dose" refers to: the
/// latest earlier dose that was evaluated Valid or Not Valid and was not an
/// inadvertent administration.
pub(crate) fn previous_dose(evals: &[DoseEval], limit: usize) -> Option<usize> {
    evals[..limit.min(evals.len())].iter().rposition(|e| {
        matches!(
            e.status,
            EvaluationStatus::Valid | EvaluationStatus::NotValid
        ) && !e.inadvertent
    })
}

/// The age row in force on `date` (effective/cessation dates).
pub(crate) fn age_rule(dose: &SeriesDose, date: NaiveDate) -> Option<&AgeRule> {
    age_rule_in(&dose.ages, date)
}

/// The row of `ages` in force on `date`.
#[inline]
pub(crate) fn age_rule_in(ages: &[AgeRule], date: NaiveDate) -> Option<&AgeRule> {
    ages.iter()
        .find(|a| a.effective.is_none_or(|e| date >= e) && a.cessation.is_none_or(|c| date <= c))
}

/// Whether an interval row is in force on `date`.
pub(crate) fn interval_in_force(rule: &IntervalRule, date: NaiveDate) -> bool {
    rule.effective.is_none_or(|e| date >= e) && rule.cessation.is_none_or(|c| date <= c)
}

/// The reference date an interval is measured from, if it exists.
pub(crate) fn interval_reference(
    rule: &PlanInterval,
    org: &Organized<'_>,
    doses: &[AntigenDose<'_>],
    state: &SeriesState,
    limit: usize,
) -> Option<NaiveDate> {
    match rule.from {
        PlanFrom::Previous => previous_dose(&state.evals, limit).map(|j| doses[j].date),
        PlanFrom::TargetDose(n) => {
            let k = usize::from(n).checked_sub(1)?;
            match state.targets.get(k) {
                Some(TargetStatus::Satisfied(j)) => Some(doses[*j].date),
                _ => None,
            }
        }
        PlanFrom::MostRecent(list) => {
            let types = org.plan.cvx_list(list);
            doses[..limit.min(doses.len())]
                .iter()
                .zip(&state.evals)
                .rev()
                .find(|(d, e)| {
                    types.contains(&d.cvx)
                        && e.status != EvaluationStatus::SubStandard
                        && !e.inadvertent
                })
                .map(|(d, _)| d.date)
        }
        PlanFrom::Observation(code) => org.observation_date(code),
    }
}

/// Result of an age or interval check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Pass,
    Grace,
    Fail,
}

fn check_min(
    date: NaiveDate,
    abs_min: Option<NaiveDate>,
    min: Option<NaiveDate>,
    grace_allowed: bool,
) -> Check {
    let abs = abs_min.or(min);
    match (abs, min) {
        (Some(a), _) if date < a => Check::Fail,
        (_, Some(m)) if date < m => {
            if grace_allowed {
                Check::Grace
            } else {
                Check::Fail
            }
        }
        _ => Check::Pass,
    }
}

/// Evaluates every dose of one antigen against one series, into `state`
/// (whose buffers are reused).
pub(crate) fn evaluate_series(
    state: &mut SeriesState,
    data: &SupportingData,
    org: &Organized<'_>,
    series: &Series,
    plan_series: &PlanSeries,
    doses: &[AntigenDose<'_>],
    completed_group: &dyn Fn(&str) -> bool,
) {
    state.clear();
    let tds = org.plan.doses(plan_series);
    // The doses given before the first target dose's (absolute) minimum
    // age are too young for it, and it stays the target: each is Not Valid
    // against it without the steps below (when it has no evaluation skip,
    // and the dose is not one of its inadvertent vaccines, checked first).
    let mut first = 0;
    if let Some(td) = tds.first().filter(|td| !td.skips_evaluation) {
        if let Some(young) = org.age_at(td.too_young_before) {
            let inadvertent = org.plan.inadvertent(td);
            for dose in doses {
                if dose.date >= young || inadvertent.contains(&dose.cvx) {
                    break;
                }
                state.evals.push(match dose.sub_standard {
                    Some(reason) => DoseEval::new(EvaluationStatus::SubStandard, Some(reason)),
                    None => DoseEval {
                        against: Some(td.number),
                        ..DoseEval::new(
                            EvaluationStatus::NotValid,
                            Some(EvaluationReason::TooYoung),
                        )
                    },
                });
                first += 1;
            }
        }
    }
    for (i, dose) in doses.iter().enumerate().skip(first) {
        // CDSi 6.1: a sub-standard dose cannot count.
        if let Some(reason) = dose.sub_standard {
            state
                .evals
                .push(DoseEval::new(EvaluationStatus::SubStandard, Some(reason)));
            continue;
        }
        // CDSi 6.2: skip target doses whose conditional skip is met on this date.
        let target = loop {
            let k = state.pos;
            let Some(td) = tds.get(k) else {
                break None;
            };
            if td.skips_evaluation
                && org.may_skip(td, SkipContext::Evaluation, dose.date)
                && is_skipped(
                    org.plan.skips(td, SkipContext::Evaluation),
                    &SkipInput {
                        org,
                        doses,
                        evals: &state.evals,
                        limit: i,
                        reference: dose.date,
                        completed_group,
                    },
                )
            {
                state.targets.push(TargetStatus::Skipped);
                state.pos = k + 1;
                continue;
            }
            break Some((td, &series.doses[k]));
        };
        let Some((td, series_dose)) = target else {
            // CDSi 6: doses after the series is complete are extraneous.
            state.evals.push(DoseEval::new(
                EvaluationStatus::Extraneous,
                Some(EvaluationReason::SeriesComplete),
            ));
            continue;
        };
        let mut eval = evaluate_dose(data, org, doses, state, i, td, series_dose);
        eval.against = Some(td.number);
        if eval.status == EvaluationStatus::Valid {
            state.targets.push(TargetStatus::Satisfied(i));
            // CDSi 6.11: a satisfied recurring target dose stays the current target.
            if !td.recurring {
                state.pos += 1;
            }
            eval.target_dose = Some(td.number);
            state.evals.push(eval);
        } else {
            if eval.inadvertent {
                state.last_inadvertent = Some(i);
            }
            state.evals.push(eval);
        }
    }
}

fn evaluate_dose(
    data: &SupportingData,
    org: &Organized<'_>,
    doses: &[AntigenDose<'_>],
    state: &SeriesState,
    i: usize,
    td: &PlanDose,
    series_dose: &SeriesDose,
) -> DoseEval {
    let plan = org.plan;
    let dose = &doses[i];
    let date = dose.date;
    // CDSi 6.3: an inadvertent vaccine never counts.
    if plan.inadvertent(td).contains(&dose.cvx) {
        let mut e = DoseEval::new(
            EvaluationStatus::NotValid,
            Some(EvaluationReason::Inadvertent),
        );
        e.inadvertent = true;
        return e;
    }
    let mut reasons = Reasons::EMPTY;
    // CDSi 6.4/6.5: the grace period applies to every dose (test cases show
    // it applies even right after a not-valid dose).
    let grace_allowed = true;

    // CDSi 6.4 age.
    if let Some(age) = plan.ages(td).iter().find(|a| a.in_force(date)) {
        let min = org.age_at(age.min);
        // Past the minimum age, and the absolute minimum is no later: the
        // dose passes without reading it.
        let check = if age.abs_min_not_after_min && min.is_some_and(|m| date >= m) {
            Check::Pass
        } else {
            check_min(date, org.age_at(age.abs_min), min, grace_allowed)
        };
        match check {
            Check::Fail => {
                return DoseEval::new(EvaluationStatus::NotValid, Some(EvaluationReason::TooYoung))
            }
            Check::Grace => reasons.push(EvaluationReason::AgeGracePeriod),
            Check::Pass => {}
        }
        if org.age_at(age.max).is_some_and(|m| date >= m) {
            // Test data and CDSi 4.x: a dose at/after the maximum age is extraneous.
            return DoseEval::new(EvaluationStatus::Extraneous, Some(EvaluationReason::TooOld));
        }
    }

    // CDSi 6.5 preferable interval; 6.6 allowable interval when it fails.
    let mut preferable_interval_ok = true;
    for rule in plan.intervals(td).iter().filter(|r| r.in_force(date)) {
        let Some(reference) = interval_reference(rule, org, doses, state, i) else {
            continue;
        };
        let min = plan.duration(rule.min).map(|d| org.add(d, reference));
        // On or after the minimum interval's end, and the absolute minimum
        // ends no later: the dose passes (the usual case, one sum fewer).
        if rule.abs_min_not_after_min && min.is_some_and(|m| date >= m) {
            continue;
        }
        let abs = plan.duration(rule.abs_min).map(|d| org.add(d, reference));
        match check_min(date, abs, min, grace_allowed) {
            Check::Fail => preferable_interval_ok = false,
            Check::Grace => reasons.push(EvaluationReason::IntervalGracePeriod),
            Check::Pass => {}
        }
    }
    if !preferable_interval_ok {
        let mut any = false;
        let mut all_ok = true;
        for rule in plan
            .allowable_intervals(td)
            .iter()
            .filter(|r| r.in_force(date))
        {
            let Some(reference) = interval_reference(rule, org, doses, state, i) else {
                continue;
            };
            any = true;
            if plan
                .duration(rule.abs_min)
                .is_some_and(|d| date < org.add(d, reference))
            {
                all_ok = false;
            }
        }
        if any && all_ok {
            reasons.push(EvaluationReason::AllowableInterval);
        } else {
            return DoseEval::new(
                EvaluationStatus::NotValid,
                Some(EvaluationReason::IntervalTooSoon),
            );
        }
    }

    // CDSi 6.7 live virus conflict.
    if live_virus_conflict(data, org, dose) {
        return DoseEval::new(
            EvaluationStatus::NotValid,
            Some(EvaluationReason::LiveVirusConflict),
        );
    }

    // CDSi 6.8 preferable vaccine, 6.9 allowable vaccine.
    let preferable = plan.preferable(td).iter().enumerate().any(|(j, v)| {
        v.cvx == dose.cvx
            && org.in_age_window(v.begin, v.end, date)
            && (!v.mvx
                || series_dose.preferable_vaccines[j]
                    .mvx
                    .as_deref()
                    .is_none_or(|m| dose.mvx.is_some_and(|dm| dm.eq_ignore_ascii_case(m))))
    });
    if !preferable {
        let allowable = plan
            .allowable(td)
            .iter()
            .any(|v| v.cvx == dose.cvx && org.in_age_window(v.begin, v.end, date));
        if !allowable {
            return DoseEval::new(
                EvaluationStatus::NotValid,
                Some(EvaluationReason::NotPreferableOrAllowable),
            );
        }
        reasons.push(EvaluationReason::AllowableVaccine);
    }

    DoseEval {
        status: EvaluationStatus::Valid,
        reasons,
        target_dose: None,
        against: None,
        inadvertent: false,
    }
}

/// CDSi 6.7: is this dose given within the conflict window of an earlier
/// live virus vaccine?
fn live_virus_conflict(data: &SupportingData, org: &Organized<'_>, dose: &AntigenDose<'_>) -> bool {
    if !org.plan.slot(dose.cvx).is_some_and(|s| s.live_current) {
        return false;
    }
    org.live_doses.iter().any(|&(d, prev, idx)| {
        idx != dose.index
            && d < dose.date
            && org
                .plan
                .conflicts(prev, dose.cvx)
                .map(|r| &data.live_virus_conflicts[r])
                .any(|c| dose.date >= org.add(c.begin, d) && dose.date < org.add(c.min_end, d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_an_inline_deduplicated_list() {
        let mut r = Reasons::EMPTY;
        r.push(EvaluationReason::AgeGracePeriod);
        r.push(EvaluationReason::AllowableVaccine);
        r.push(EvaluationReason::AgeGracePeriod);
        assert_eq!(
            &r[..],
            &[
                EvaluationReason::AgeGracePeriod,
                EvaluationReason::AllowableVaccine
            ]
        );
        assert_eq!(r.first(), Some(&EvaluationReason::AgeGracePeriod));
        #[cfg(feature = "serde")]
        assert_eq!(
            serde_json::to_string(&r).expect("serializes"),
            r#"["AgeGracePeriod","AllowableVaccine"]"#
        );
    }
}
