//! The engine: runs gather → evaluate → select series → forecast → vaccine
//! group forecast for one patient.

use crate::dates::DateSums;
use crate::evaluate::{evaluate_series, DoseEval, SeriesState, TargetStatus};
use crate::forecast::{forecast_series, recommended_vaccines, AntigenFacts};
use crate::gather::{organize, recycle, AntigenDose, GatherBuffers, Organized};
use crate::name::Name;
use crate::patient::Patient;
use crate::plan::{Plan, Twin};
use crate::result::{
    valid_dose_count_in, AntigenResult, DoseEvaluation, EvaluationStatus, ForecastResult,
    PatientSeries, SeriesStatus,
};
use crate::select_series::{is_relevant, select_best, Candidate};
use crate::supporting_data::{
    Antigen, AntigenId, Series, Shared, SupportingData, SupportingDataError,
};
use crate::vaccine_group_forecast::{vaccine_group_forecast, Contained, GroupInputs, GroupScratch};
use chrono::NaiveDate;
use std::cell::Cell;
use std::sync::Arc;

/// A CDSi engine over one supporting-data release. Cheap to clone, `Send +
/// Sync`: share one across threads.
#[derive(Clone, Debug)]
pub struct Engine {
    data: Arc<SupportingData>,
    /// What the forecast needs of `data` that does not depend on the
    /// patient, worked out once.
    plan: Arc<Plan>,
}

impl Engine {
    /// An engine over the supporting data bundled with this crate (CDSi 4.64).
    /// This parses the XML (tens of milliseconds): build one engine and clone
    /// it (clones share the parsed data).
    pub fn bundled() -> Result<Engine, SupportingDataError> {
        Ok(Engine::new(Arc::new(SupportingData::bundled()?)))
    }

    /// An engine over supporting data you parsed yourself (e.g. a newer
    /// release read with [`SupportingData::from_xml_texts`]).
    pub fn new(data: Arc<SupportingData>) -> Engine {
        let plan = Arc::new(Plan::new(&data));
        Engine { data, plan }
    }

    /// The supporting data in use.
    pub fn supporting_data(&self) -> &Arc<SupportingData> {
        &self.data
    }

    /// Evaluates the patient's history and forecasts every antigen and vaccine
    /// group as of `assessment_date`. Never panics on odd input: unknown CVX
    /// codes are listed in [`ForecastResult::unknown_vaccines`].
    pub fn forecast(&self, patient: &Patient, assessment_date: NaiveDate) -> ForecastResult {
        DATE_SUMS.with(|sums| {
            let mut ages = AGE_DATES.take();
            ages.clear();
            ages.resize(self.plan.age_count(), Cell::new(None));
            let mut spare = SPARE.take();
            let result = self.forecast_with(patient, assessment_date, sums, &ages, &mut spare);
            AGE_DATES.set(ages);
            SPARE.set(spare);
            result
        })
    }

    fn forecast_with(
        &self,
        patient: &Patient,
        assessment_date: NaiveDate,
        sums: &DateSums,
        age_dates: &[Cell<Option<NaiveDate>>],
        spare: &mut Spare,
    ) -> ForecastResult {
        let data = &*self.data;
        sums.begin(patient.dob);
        let mut gather = std::mem::take(&mut spare.gather).recycle();
        let org = organize(
            data,
            &self.plan,
            patient,
            assessment_date,
            sums,
            age_dates,
            &mut gather,
        );
        let mut scratch = Scratch::from_spare(spare);
        let mut priority = recycle(std::mem::take(&mut spare.priority));
        priority.reserve(64);
        let mut series_targets = recycle(std::mem::take(&mut spare.series_targets));
        series_targets.reserve(64);
        let mut bufs = Buffers {
            series: Vec::with_capacity(64),
            evals: Vec::with_capacity(org.antigen_dose_count() * 3),
            group_best: Vec::with_capacity(32),
            priority,
            targets: series_targets,
        };
        let mut antigens: Vec<AntigenResult> = Vec::with_capacity(data.antigens.len());
        for i in 0..data.antigens.len() {
            let id = AntigenId(i as u16);
            let reused = self.plan.twin(i).and_then(|twin| {
                reuse_twin(data, &org, id, twin, &antigens, &mut scratch, &mut bufs)
            });
            antigens.push(match reused {
                Some(result) => result,
                None => evaluate_antigen(data, &org, id, &mut scratch, &mut bufs),
            });
        }
        // One allocation each for every evaluation, series and group-best
        // index of this forecast; the results' lists point into them.
        let Buffers {
            mut series,
            evals,
            group_best,
            priority,
            targets: series_targets,
        } = bufs;
        spare.series_targets = recycle(series_targets);
        if let Some(evals) = freeze(evals) {
            for s in &mut series {
                s.doses.resolve(&evals);
            }
        }
        let series = freeze(series);
        let group_best = freeze(group_best);
        for a in &mut antigens {
            if let Some(series) = &series {
                a.series.resolve(series);
            }
            if let Some(group_best) = &group_best {
                a.group_best_series.resolve(group_best);
            }
        }
        let inputs = GroupInputs {
            priority: &priority,
        };
        let mut group_scratch = GroupScratch::new(
            recycle(std::mem::take(&mut spare.contained)),
            recycle(std::mem::take(&mut spare.groups)),
        );
        let mut series_groups = Vec::with_capacity(data.vaccine_groups.len() + 8);
        let mut vaccine_groups: Vec<_> = data
            .vaccine_groups
            .iter()
            .map(|g| {
                vaccine_group_forecast(
                    g,
                    &antigens,
                    &inputs,
                    &mut group_scratch,
                    &mut series_groups,
                )
            })
            .collect();
        if let Some(series_groups) = freeze(series_groups) {
            for g in &mut vaccine_groups {
                g.series_groups.resolve(&series_groups);
            }
        }
        // The scratch buffers go back to the thread for its next forecast.
        let (contained, groups) = group_scratch.into_parts();
        spare.contained = recycle(contained);
        spare.groups = recycle(groups);
        spare.priority = recycle(priority);
        scratch.into_spare(spare);
        let unknown_vaccines = org.finish(&mut gather);
        spare.gather = gather.recycle();
        ForecastResult {
            assessment_date,
            antigens,
            vaccine_groups,
            unknown_vaccines,
        }
    }
}

thread_local! {
    /// The thread's remembered date sums. A sum depends on nothing but its
    /// base date and duration, so every forecast on the thread shares them:
    /// no 8 KiB table to set up per forecast (that copy was a tenth of a
    /// forecast's time), and the ages and intervals of one forecast often
    /// meet those of the last.
    static DATE_SUMS: DateSums = const { DateSums::new() };

    /// The buffer of the forecast under way's ages by plan id
    /// (`Organized::age_at`), kept for the thread's next forecast (cleared
    /// first): no allocation per forecast.
    static AGE_DATES: Cell<Vec<Cell<Option<NaiveDate>>>> = const { Cell::new(Vec::new()) };

    /// The scratch buffers of the thread's last forecast, emptied, for its
    /// next one: a forecast allocates little besides its result.
    static SPARE: Cell<Spare> = Cell::new(Spare::default());
}

/// A forecast's scratch buffers between forecasts: empty, their capacity
/// kept. The borrowed types are stored with a `'static` lifetime and
/// recycled ([`recycle`]) into a forecast's lifetime, never holding an
/// element meanwhile.
#[derive(Default)]
struct Spare {
    gather: GatherBuffers<'static>,
    evals: Vec<DoseEval>,
    targets_done: Vec<TargetStatus>,
    cands: Vec<Candidate<'static>>,
    scores: Vec<i32>,
    completed_groups: Vec<&'static str>,
    targets: Vec<(&'static Series, usize)>,
    relevant: Vec<u16>,
    priority: Vec<bool>,
    series_targets: Vec<usize>,
    contained: Vec<Contained<'static>>,
    groups: Vec<&'static Name>,
}

/// A finished buffer as a shared one, not copied (`None` when empty:
/// nothing to share).
fn freeze<T>(v: Vec<T>) -> Option<Arc<Vec<T>>> {
    (!v.is_empty()).then(|| Arc::new(v))
}

/// The forecast-wide buffers the results' lists are cut from: each antigen
/// appends its series, their evaluations and its group-best indices, and
/// records pending ranges ([`Shared::pending`]).
struct Buffers {
    series: Vec<PatientSeries>,
    evals: Vec<DoseEvaluation>,
    group_best: Vec<usize>,
    /// Per series (parallel to `series`): is its forecast a priority
    /// forecast (CDSi FORECASTPRIORITY-1)?
    priority: Vec<bool>,
    /// Per series (parallel to `series`): the index of its forecast
    /// target dose.
    targets: Vec<usize>,
}

/// Buffers reused across the antigens of one forecast, so the hot path does
/// not allocate per series.
struct Scratch<'d> {
    state: SeriesState,
    cands: Vec<Candidate<'d>>,
    scores: Vec<i32>,
    completed_groups: Vec<&'d str>,
    /// Per evaluated series: the series and its forecast target dose index.
    targets: Vec<(&'d Series, usize)>,
    /// The antigen's relevant series (by position) when the patient has
    /// observations.
    relevant: Vec<u16>,
}

impl Scratch<'_> {
    /// The thread's spare buffers as this forecast's scratch.
    fn from_spare(spare: &mut Spare) -> Self {
        let mut scratch = Scratch {
            state: SeriesState {
                evals: recycle(std::mem::take(&mut spare.evals)),
                targets: recycle(std::mem::take(&mut spare.targets_done)),
                pos: 0,
                last_inadvertent: None,
            },
            cands: recycle(std::mem::take(&mut spare.cands)),
            scores: recycle(std::mem::take(&mut spare.scores)),
            completed_groups: recycle(std::mem::take(&mut spare.completed_groups)),
            targets: recycle(std::mem::take(&mut spare.targets)),
            relevant: std::mem::take(&mut spare.relevant),
        };
        // Room for the doses of one antigen (seldom more than 16), so the
        // buffers do not grow while the first antigens are evaluated.
        scratch.state.evals.reserve(16);
        scratch.state.targets.reserve(16);
        scratch.cands.reserve(16);
        scratch.scores.reserve(16);
        scratch.completed_groups.reserve(4);
        scratch.targets.reserve(16);
        scratch.relevant.reserve(16);
        scratch
    }

    /// The buffers back to the thread, emptied.
    fn into_spare(self, spare: &mut Spare) {
        spare.evals = recycle(self.state.evals);
        spare.targets_done = recycle(self.state.targets);
        spare.cands = recycle(self.cands);
        spare.scores = recycle(self.scores);
        spare.completed_groups = recycle(self.completed_groups);
        spare.targets = recycle(self.targets);
        spare.relevant = self.relevant;
    }
}

fn evaluate_antigen<'d>(
    data: &'d SupportingData,
    org: &Organized<'d>,
    id: AntigenId,
    scratch: &mut Scratch<'d>,
    bufs: &mut Buffers,
) -> AntigenResult {
    let antigen = data.antigen(id);
    let doses: &[AntigenDose<'_>] = org.antigen_doses(usize::from(id.0));
    // The relevant series (CDSi 5), decided once.
    let Scratch {
        state,
        cands,
        scores,
        completed_groups,
        targets,
        relevant,
    } = scratch;
    let plans = org.plan.series(usize::from(id.0));
    let relevant = relevant_series(antigen, org, usize::from(id.0), relevant);
    if relevant.is_empty() {
        return AntigenResult {
            antigen: antigen.name.clone(),
            series: Shared::default(),
            best_series: None,
            status: SeriesStatus::NotRecommended,
            forecast: None,
            group_best_series: Shared::default(),
        };
    }
    cands.clear();
    targets.clear();
    completed_groups.clear();
    let facts = AntigenFacts::of(antigen, org);
    let series_start = bufs.series.len();
    for &k in relevant {
        let (series, plan_series) = (&antigen.series[usize::from(k)], &plans[usize::from(k)]);
        if doses.is_empty() {
            // Nothing to evaluate: the series stands at its first target dose.
            state.clear();
        } else {
            let completed = |g: &str| completed_groups.contains(&g);
            evaluate_series(state, data, org, series, plan_series, doses, &completed);
        }
        if crate::evaluate::target_definition(series, state.pos).is_none() {
            completed_groups.push(series.series_group.as_str());
        }
        let completed = |g: &str| completed_groups.contains(&g);
        let (status, forecast, target) =
            forecast_series(org, facts, series, plan_series, doses, state, &completed);
        targets.push((series, target));
        bufs.targets.push(target);
        // FORECASTPRIORITY-1: the forecast target dose has preferable
        // intervals in force, every one of them of priority "override".
        bufs.priority.push(
            forecast.is_some()
                && org.plan.doses(plan_series).get(target).is_some_and(|td| {
                    td.any_override && {
                        let mut intervals = org
                            .plan
                            .intervals(td)
                            .iter()
                            .filter(|r| r.in_force(org.assessment))
                            .peekable();
                        intervals.peek().is_some() && intervals.all(|r| r.priority_override)
                    }
                }),
        );
        let mut valid_doses = 0;
        let mut first_valid = None;
        for t in &state.targets {
            if let TargetStatus::Satisfied(j) = t {
                valid_doses += 1;
                first_valid = first_valid.or(Some(doses[*j].date));
            }
        }
        // CDSi 8.4: a product series scores only if every dose given is its
        // product (the first target dose's preferable vaccines).
        let all_product =
            series.product_path
                && doses.iter().zip(&state.evals).all(|(d, e)| {
                    e.status == EvaluationStatus::SubStandard
                        || org.plan.doses(plan_series).first().is_some_and(|td| {
                            org.plan.preferable(td).iter().any(|v| v.cvx == d.cvx)
                        })
                });
        cands.push(Candidate {
            target,
            series,
            status,
            valid_doses,
            first_valid,
            remaining: series.doses.len().saturating_sub(state.pos),
            forecast_earliest: forecast.as_ref().map(|f| f.earliest),
            first_doses_skipped: forecast.is_some() && target > 0,
            all_product,
            finish: std::cell::Cell::new(None),
        });
        let evals_start = bufs.evals.len();
        bufs.evals
            .extend(doses.iter().zip(&state.evals).map(|(d, e)| DoseEvaluation {
                dose_index: d.index,
                date: d.date,
                cvx: d.cvx,
                status: e.status,
                reasons: e.reasons,
                target_dose: e.target_dose,
                evaluated_against: e.against,
            }));
        bufs.series.push(PatientSeries {
            name: series.name.clone(),
            series_type: series.series_type,
            series_group: series.series_group.clone(),
            status,
            doses: Shared::pending(evals_start..bufs.evals.len()),
            valid_doses,
            forecast,
            score: 0,
        });
    }
    scores.clear();
    scores.resize(cands.len(), 0);
    let group_best_start = bufs.group_best.len();
    let best = select_best(cands, org, scores, &mut bufs.group_best);
    let group_best = &bufs.group_best[group_best_start..];
    let out_series = &mut bufs.series[series_start..];
    for (s, score) in out_series.iter_mut().zip(scores.iter()) {
        s.score = *score;
    }
    // Recommended vaccines are worked out for the best series of each series
    // group (each yields a vaccine group forecast, FORECASTVG-1) and the
    // selected one.
    for b in group_best.iter().copied().chain(best) {
        if let (Some(f), Some(&(series, k))) = (out_series[b].forecast.as_mut(), targets.get(b)) {
            if f.vaccines.is_empty() {
                f.vaccines = recommended_vaccines(org, antigen, series, k, f.earliest);
            }
        }
    }
    let (status, mut forecast) = match best {
        Some(b) => (out_series[b].status, out_series[b].forecast.clone()),
        None => (SeriesStatus::NotRecommended, None),
    };
    // The forecast dose number counts every dose valid for the antigen, also
    // in another series group's best series (test data: a risk series
    // forecast after a complete standard series). Seasonal series count per
    // season instead, and a series that counts its doses from an observation
    // (MMR again after antiretroviral therapy begins) starts the count afresh
    // once it has a valid dose of its own. Checked in this order so the data
    // is only scanned for antigens with more than one series group in play.
    let seasonal = || {
        antigen
            .series
            .iter()
            .any(|s| s.doses.iter().any(|d| d.season_start.is_some()))
    };
    let restarted = || {
        best.is_some_and(|b| out_series[b].valid_doses > 0)
            && best
                .and_then(|b| targets.get(b))
                .is_some_and(|&(series, _)| counts_from_observation(series))
    };
    if group_best.len() > 1 && !seasonal() && !restarted() {
        let evals = &bufs.evals;
        let counted = valid_dose_count_in(
            out_series,
            &|s: &PatientSeries| &evals[s.doses.range()],
            group_best,
            best,
        );
        if let Some(f) = forecast.as_mut() {
            f.dose_number = f
                .dose_number
                .max(u8::try_from(counted + 1).unwrap_or(u8::MAX));
        }
    }
    AntigenResult {
        antigen: antigen.name.clone(),
        series: Shared::pending(series_start..bufs.series.len()),
        best_series: best,
        status,
        forecast,
        group_best_series: Shared::pending(group_best_start..bufs.group_best.len()),
    }
}

/// The positions of the antigen's relevant series (CDSi 5): for a patient
/// without observations, the release's standard series admitting the
/// patient's sex ([`Plan::standard_series`]), else those `out` is filled
/// with. The positions are those of the data's series and the plan's (both
/// built from the same release in `Engine::new`).
#[inline]
fn relevant_series<'a, 'd: 'a>(
    antigen: &'d Antigen,
    org: &Organized<'d>,
    id: usize,
    out: &'a mut Vec<u16>,
) -> &'a [u16] {
    if org.observations.is_empty() {
        return org.plan.standard_series(id, org.sex);
    }
    out.clear();
    out.extend(
        antigen
            .series
            .iter()
            .zip(org.plan.series(id))
            .enumerate()
            .filter(|(_, (s, p))| is_relevant(s, p.admission, org))
            .filter_map(|(k, _)| u16::try_from(k).ok()),
    );
    out
}

/// The results of an antigen whose series are those of an earlier one
/// ([`crate::plan::Twin`]), taken from the earlier antigen's when the
/// patient has the same doses for both, none of the vaccines only one of
/// them names, and the same evidence of immunity and contraindications:
/// then every evaluation, score and forecast date is the same (the
/// evaluations themselves are shared, not copied). Only the names and the
/// recommended vaccines are the antigen's own. `None`: evaluate it.
fn reuse_twin<'d>(
    data: &'d SupportingData,
    org: &Organized<'d>,
    id: AntigenId,
    twin: &Twin,
    antigens: &[AntigenResult],
    scratch: &mut Scratch<'d>,
    bufs: &mut Buffers,
) -> Option<AntigenResult> {
    if twin.without_observations && !org.observations.is_empty() {
        return None;
    }
    let b = usize::from(id.0);
    let a = usize::from(twin.source);
    let (mine, theirs) = (org.antigen_doses(b), org.antigen_doses(a));
    if mine.len() != theirs.len()
        || mine.iter().zip(theirs).any(|(x, y)| x.index != y.index)
        || mine
            .iter()
            .any(|d| twin.excluded.binary_search(&d.cvx).is_ok())
    {
        return None;
    }
    let antigen = data.antigen(id);
    let source = antigens.get(a)?;
    if AntigenFacts::of(antigen, org) != AntigenFacts::of(data.antigen(AntigenId(twin.source)), org)
    {
        return None;
    }
    let relevant = relevant_series(antigen, org, b, &mut scratch.relevant);
    let from = source.series.range();
    if relevant.is_empty() || relevant.len() != from.len() {
        return None;
    }
    let series_start = bufs.series.len();
    for (i, &k) in relevant.iter().enumerate() {
        let series = &antigen.series[usize::from(k)];
        let j = from.start + i;
        let mut s = bufs.series[j].clone();
        s.name = series.name.clone();
        s.series_group = series.series_group.clone();
        bufs.series.push(s);
        bufs.priority.push(bufs.priority[j]);
        bufs.targets.push(bufs.targets[j]);
    }
    let out_series = &mut bufs.series[series_start..];
    let group_best = &bufs.group_best[source.group_best_series.range()];
    // The recommended vaccines of the best series of each series group and
    // of the selected one, from this antigen's own target doses.
    for b in group_best.iter().copied().chain(source.best_series) {
        if let (Some(f), Some(&p)) = (out_series[b].forecast.as_mut(), relevant.get(b)) {
            let series = &antigen.series[usize::from(p)];
            let k = bufs.targets[series_start + b];
            f.vaccines = recommended_vaccines(org, antigen, series, k, f.earliest);
        }
    }
    let forecast = source.forecast.clone().map(|mut f| {
        if let Some(best) = source
            .best_series
            .and_then(|b| out_series[b].forecast.as_ref())
        {
            f.vaccines = best.vaccines.clone();
        }
        f
    });
    Some(AntigenResult {
        antigen: antigen.name.clone(),
        series: Shared::pending(series_start..bufs.series.len()),
        best_series: source.best_series,
        status: source.status,
        forecast,
        group_best_series: Shared::pending(source.group_best_series.range()),
    })
}

/// Does some target dose of the series measure its interval from an
/// observation (e.g. the start of antiretroviral therapy)?
fn counts_from_observation(series: &Series) -> bool {
    series.doses.iter().any(|d| {
        d.intervals
            .iter()
            .any(|r| matches!(r.from, crate::supporting_data::IntervalFrom::Observation(_)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::{AdministeredDose, Observation};
    use crate::Sex;

    /// Reusing a twin antigen's results ([`reuse_twin`]) answers exactly as
    /// evaluating it: histories with and without the vaccines only one
    /// twin names (TT, single-antigen measles, mumps and rubella vaccines),
    /// with an observation, and doses of both kinds.
    #[test]
    fn twins_answer_as_evaluated_antigens() {
        let data = Arc::new(SupportingData::bundled().expect("bundled data parses"));
        let with = Engine::new(Arc::clone(&data));
        let without = Engine {
            data: Arc::clone(&data),
            plan: Arc::new(Plan::new(&data).without_twins()),
        };
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
        let histories: &[&[(&str, u32)]] = &[
            &[],
            &[
                ("20", 2),
                ("20", 4),
                ("20", 6),
                ("20", 15),
                ("03", 12),
                ("03", 48),
            ],
            &[("20", 2), ("35", 4), ("20", 6), ("09", 90), ("115", 132)],
            &[("28", 2), ("28", 4), ("110", 6), ("20", 18), ("113", 84)],
            &[("03", 12), ("05", 13), ("07", 14), ("06", 15), ("94", 48)],
            &[("04", 12), ("38", 14), ("03", 40), ("21", 41)],
            &[("107", 1), ("20", 3), ("20", 3), ("03", 11), ("03", 12)],
        ];
        for (h, history) in histories.iter().enumerate() {
            for (age_months, observation) in [(60, None), (240, Some("055")), (30, Some("038"))] {
                let dob = date(2010, 3, 31);
                let mut patient =
                    Patient::new(dob, if h % 2 == 0 { Sex::Female } else { Sex::Male });
                for &(cvx, months) in history.iter() {
                    let given = crate::dates::add_months(dob, months as i32);
                    patient.doses.push(AdministeredDose::new(given, cvx));
                }
                if let Some(code) = observation {
                    patient.observations.push(Observation::new(code));
                }
                let as_of = crate::dates::add_months(dob, age_months);
                assert_eq!(
                    with.forecast(&patient, as_of),
                    without.forecast(&patient, as_of),
                    "history {h} at {age_months} months, observation {observation:?}"
                );
            }
        }
    }
}
