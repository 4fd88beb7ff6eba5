//! What the engine works out once per supporting-data release, not per
//! patient: the CVX map as a table indexed by the code (no hashing per dose)
//! with each vaccine's antigens and live virus conflict rows beside it, and
//! per antigen what decides which of its series are relevant, so that a
//! forecast reads only the series it evaluates.

use crate::dates::CdsiDuration;
use crate::name::Name;
use crate::supporting_data::{
    AgeRange, AgeRule, ConditionKind, ConditionalSkip, CountLogic, Cvx, CvxAssociation,
    IntervalFrom, IntervalRule, ObservationCode, Series, SeriesType, Sex, Shared, SkipContext,
    SupportingData,
};
use chrono::NaiveDate;

/// A supporting-data release prepared for forecasting (built by
/// [`crate::Engine::new`], shared by the engine's clones).
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// `slots[slot_of[cvx] - 1]` is the vaccine's entry; 0 = not in the data.
    slot_of: Box<[u16]>,
    slots: Vec<CvxSlot>,
    /// Per antigen (by id), parallel to its series: who each series is for
    /// and where its target doses are.
    series: Box<[Box<[PlanSeries]>]>,
    /// Every target dose of every series, series by series in the data's
    /// order: the doses of one series are side by side, and so are their
    /// rows in the tables below (walking a series reads memory in order,
    /// not the supporting data's scattered allocations).
    doses: Vec<PlanDose>,
    /// The target doses' age rows.
    ages: Vec<PlanAge>,
    /// Every distinct age and interval of the rows above ([`AgeId`] is an
    /// index).
    age_durations: Vec<CdsiDuration>,
    /// The target doses' preferable and allowable interval rows.
    intervals: Vec<PlanInterval>,
    /// The target doses' preferable and allowable vaccines, as far as
    /// evaluation reads them.
    vaccines: Vec<PlanVaccine>,
    /// The target doses' inadvertent vaccines, and the vaccine types of
    /// skip conditions.
    inadvertent: Vec<Cvx>,
    /// The target doses' conditional skips, their sets and conditions.
    skips: Vec<PlanSkip>,
    skip_sets: Vec<PlanSkipSet>,
    conditions: Vec<PlanCondition>,
    /// The target doses' skip ages (see `PlanDose::evaluation_skip_ages`).
    skip_age_rows: Vec<AgeId>,
    /// The series groups of `CompletedSeries` conditions.
    series_groups: Vec<String>,
    /// Per target dose with live vaccines: the live virus conflict rows
    /// its preferable vaccines can fall into, as (earlier vaccine, end of
    /// the conflict), sorted and once each.
    live_ends: Vec<(Cvx, CdsiDuration)>,
    /// Per antigen (by id) and sex (`Sex as usize`): the series relevant to
    /// a patient of that sex without observations (the standard series
    /// that admit the sex), by position.
    standard: Box<[[Box<[u16]>; 3]]>,
    /// Per antigen (by id): the earlier antigen whose series evaluate and
    /// forecast exactly as its own for a patient without the listed
    /// vaccines ([`Twin`]), if any.
    twins: Box<[Option<Twin>]>,
}

/// An antigen whose series are those of an earlier antigen but for
/// vaccines the other one does not name (the CDC data's Diphtheria and
/// Tetanus series differ only by TT, the Measles, Mumps and Rubella series
/// only by their single-antigen vaccines): for a patient with the same
/// doses for both and none of those vaccines, every evaluation, score and
/// forecast date is the same, and the earlier antigen's are reused.
#[derive(Clone, Debug)]
pub(crate) struct Twin {
    /// The earlier antigen (by id).
    pub source: u16,
    /// The vaccines only one of the two names, sorted: a patient dose of
    /// one of them rules the reuse out.
    pub excluded: Box<[Cvx]>,
    /// Only their standard series are the same: the reuse is for a patient
    /// without observations (for whom no risk series is relevant).
    pub without_observations: bool,
}

/// A conditional skip of a target dose ([`ConditionalSkip`]).
#[derive(Clone, Copy, Debug)]
/// Laid out per phase ([`Plan::skips`]): only the skips that apply in it.
pub(crate) struct PlanSkip {
    /// Sets combine with OR (else AND).
    pub any: bool,
    sets: Span,
}

/// A set of conditions of a conditional skip.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanSkipSet {
    pub effective: Option<NaiveDate>,
    pub cessation: Option<NaiveDate>,
    /// Conditions combine with OR (else AND).
    pub any: bool,
    conditions: Span,
}

/// One condition of a skip set ([`crate::supporting_data::SkipCondition`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanCondition {
    pub kind: ConditionKind,
    pub valid_only: bool,
    pub count_logic: CountLogic,
    /// The age window.
    pub begin: AgeId,
    pub end: AgeId,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub interval: Option<CdsiDuration>,
    pub dose_count: u32,
    vaccine_types: Span,
    series_groups: Span,
}

/// A series as the forecast walks it: who it is for and its target doses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanSeries {
    /// Who the series is for.
    pub admission: Admission,
    /// Its target doses in [`Plan::doses`].
    doses: Span,
}

/// A run of rows in one of the plan's tables.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The rows from `start` to the end of `table`.
    fn of<T>(table: &[T], start: usize) -> Span {
        Span {
            start: start as u32,
            end: table.len() as u32,
        }
    }

    #[inline]
    fn slice<T>(self, table: &[T]) -> &[T] {
        table
            .get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }
}

/// A target dose of a series (the data's `SeriesDose` at the same
/// position) with what evaluation and forecasting read of it.
#[derive(Clone, Debug)]
pub(crate) struct PlanDose {
    /// 1-based dose number.
    pub number: u8,
    /// Repeats once reached.
    pub recurring: bool,
    /// Some conditional skip applies when evaluating a dose (context
    /// evaluation or both, with a set): else none can skip it then.
    pub skips_evaluation: bool,
    /// Some conditional skip applies when forecasting.
    pub skips_forecast: bool,
    /// Some preferable vaccine is a live virus vaccine.
    pub live_vaccine: bool,
    /// Seasonal recommendation start.
    pub season_start: Option<NaiveDate>,
    ages: Span,
    intervals: Span,
    allowable_intervals: Span,
    preferable: Span,
    allowable: Span,
    inadvertent: Span,
    /// The conditional skips that apply when evaluating a dose (context
    /// evaluation or both, with a set), and those that apply when
    /// forecasting: each phase reads only its own.
    evaluation_skips: Span,
    forecast_skips: Span,
    /// Per phase: ages of which the patient must have reached one on the
    /// reference date for a skip to be met ([`Plan::skip_ages`]), when
    /// every way a skip can be met has an age condition (`None`: some way
    /// does not, the skips must be read).
    evaluation_skip_ages: Option<Span>,
    forecast_skip_ages: Option<Span>,
    /// The age before which any dose is too young for this target dose
    /// (its one age row, in force on every date: the absolute minimum age,
    /// else the minimum age), or [`AgeId::NONE`].
    pub too_young_before: AgeId,
    /// Some preferable interval row has priority "override".
    pub any_override: bool,
    live_ends: Span,
}

/// A preferable or allowable vaccine row of a target dose, as evaluation
/// reads it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanVaccine {
    pub cvx: Cvx,
    /// The row names a manufacturer (read from the data's row, same
    /// position, when the CVX matches).
    pub mvx: bool,
    /// The row's age window (inclusive begin, exclusive end).
    pub begin: AgeId,
    pub end: AgeId,
}

/// A duration of the release's rows (an age, or an interval), by its
/// index in the plan's table of distinct durations: a forecast works out
/// each age of the patient once ([`crate::gather::Organized::age_at`]) and
/// finds it again by index. [`AgeId::NONE`] is a duration the row does not
/// have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AgeId(pub u16);

impl AgeId {
    /// No age.
    pub const NONE: AgeId = AgeId(u16::MAX);
}

/// An age row of a target dose ([`AgeRule`] with [`AgeId`]s).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanAge {
    pub abs_min: AgeId,
    pub min: AgeId,
    pub earliest_rec: AgeId,
    pub latest_rec: AgeId,
    pub max: AgeId,
    /// The absolute minimum age is reached no later than the minimum age
    /// (see [`PlanInterval::abs_min_not_after_min`]).
    pub abs_min_not_after_min: bool,
    pub effective: Option<NaiveDate>,
    pub cessation: Option<NaiveDate>,
}

impl PlanAge {
    /// Is the row in force on `date`?
    #[inline]
    pub(crate) fn in_force(&self, date: NaiveDate) -> bool {
        self.effective.is_none_or(|e| date >= e) && self.cessation.is_none_or(|c| date <= c)
    }
}

/// A preferable or allowable interval row ([`IntervalRule`] with
/// [`AgeId`]s for its durations).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanInterval {
    pub from: PlanFrom,
    pub abs_min: AgeId,
    pub min: AgeId,
    pub earliest_rec: AgeId,
    pub latest_rec: AgeId,
    pub priority_override: bool,
    /// The absolute minimum interval ends no later than the minimum one
    /// from any date (same months, no more days), or there is none: a dose
    /// on or after the minimum interval's end passes without the other.
    pub abs_min_not_after_min: bool,
    pub effective: Option<NaiveDate>,
    pub cessation: Option<NaiveDate>,
}

impl PlanInterval {
    /// Is the row in force on `date`?
    #[inline]
    pub(crate) fn in_force(&self, date: NaiveDate) -> bool {
        self.effective.is_none_or(|e| date >= e) && self.cessation.is_none_or(|c| date <= c)
    }
}

/// Where an interval is measured from ([`IntervalFrom`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum PlanFrom {
    Previous,
    TargetDose(u8),
    /// The vaccine types, in [`Plan::cvx_list`].
    MostRecent(Span),
    Observation(ObservationCode),
}

/// The distinct durations of a release as ids, while the plan is built.
#[derive(Default)]
struct AgeIds {
    ids: std::collections::HashMap<CdsiDuration, AgeId>,
    durations: Vec<CdsiDuration>,
}

impl AgeIds {
    fn id(&mut self, age: Option<CdsiDuration>) -> AgeId {
        let Some(age) = age else {
            return AgeId::NONE;
        };
        let next = self.durations.len();
        // More distinct ages than ids cannot happen in CDC data (a few
        // hundred); should it, the plan would panic when built, never
        // answer wrongly.
        let fresh = AgeId(u16::try_from(next).expect("fewer than 65,535 distinct ages"));
        assert!(fresh != AgeId::NONE, "fewer than 65,535 distinct ages");
        *self.ids.entry(age).or_insert_with(|| {
            self.durations.push(age);
            fresh
        })
    }

    fn row(&mut self, a: &AgeRule) -> PlanAge {
        PlanAge {
            abs_min: self.id(a.abs_min),
            min: self.id(a.min),
            earliest_rec: self.id(a.earliest_rec),
            latest_rec: self.id(a.latest_rec),
            max: self.id(a.max),
            abs_min_not_after_min: not_after(a.abs_min, a.min),
            effective: a.effective,
            cessation: a.cessation,
        }
    }

    fn interval(&mut self, r: &IntervalRule, cvx_lists: &mut Vec<Cvx>) -> PlanInterval {
        PlanInterval {
            from: match &r.from {
                IntervalFrom::Previous => PlanFrom::Previous,
                IntervalFrom::TargetDose(n) => PlanFrom::TargetDose(*n),
                IntervalFrom::MostRecent(types) => {
                    let start = cvx_lists.len();
                    cvx_lists.extend(types.iter().copied());
                    PlanFrom::MostRecent(Span::of(cvx_lists, start))
                }
                IntervalFrom::Observation(code) => PlanFrom::Observation(*code),
            },
            abs_min: self.id(r.abs_min),
            min: self.id(r.min),
            earliest_rec: self.id(r.earliest_rec),
            latest_rec: self.id(r.latest_rec),
            priority_override: r.priority_override,
            abs_min_not_after_min: not_after(r.abs_min, r.min),
            effective: r.effective,
            cessation: r.cessation,
        }
    }

    fn range(&mut self, r: &AgeRange) -> (AgeId, AgeId) {
        (self.id(r.begin), self.id(r.end))
    }
}

/// Does the absolute minimum (age or interval) end no later than the
/// minimum from any date? True without one; with both, when they have the
/// same months and the absolute minimum no more days (adding months, then
/// days, keeps the order of the days).
fn not_after(abs_min: Option<CdsiDuration>, min: Option<CdsiDuration>) -> bool {
    match (abs_min, min) {
        (None, _) => true,
        (Some(a), Some(m)) => a.months == m.months && a.days <= m.days,
        (Some(_), None) => false,
    }
}

/// Who a series is for, as far as the data says without the patient's
/// observations (CDSi 5, gender and series type).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admission {
    /// One bit per [`Sex`] the series admits.
    sexes: u8,
    /// A risk series: relevant only with one of its indications.
    pub risk: bool,
}

impl Admission {
    fn bit(sex: Sex) -> u8 {
        1 << (sex as u8)
    }

    /// Does the series admit a patient of this sex?
    #[inline]
    pub(crate) fn admits(self, sex: Sex) -> bool {
        self.sexes & Admission::bit(sex) != 0
    }
}

/// One CVX code of the supporting data.
#[derive(Debug)]
pub(crate) struct CvxSlot {
    /// Is the code in the CVX map (`SupportingData::cvx`)? A code only
    /// named by a live virus conflict is not a known vaccine.
    pub known: bool,
    /// The code's antigen associations (the CVX map's).
    pub antigens: Box<[CvxAssociation]>,
    /// Live virus conflict rows with this vaccine as the earlier one
    /// (`SupportingData::conflicts_by_previous`) with their later vaccine,
    /// sorted by the later vaccine; empty when none.
    pub conflicts_as_previous: Box<[(Cvx, usize)]>,
    /// Is this vaccine the later one of some live virus conflict
    /// (`SupportingData::live_virus_current`)?
    pub live_current: bool,
}

impl Plan {
    pub(crate) fn new(data: &SupportingData) -> Plan {
        let mut codes: Vec<Cvx> = data.cvx.keys().copied().collect();
        codes.extend(data.conflicts_by_previous.keys().copied());
        codes.extend(data.live_virus_current.iter().copied());
        codes.sort_unstable();
        codes.dedup();
        let len = codes.last().map_or(0, |c| usize::from(c.0) + 1);
        let mut slot_of = vec![0u16; len].into_boxed_slice();
        let mut slots = Vec::with_capacity(codes.len());
        for cvx in codes {
            slots.push(CvxSlot {
                known: data.cvx.contains_key(&cvx),
                antigens: data
                    .cvx
                    .get(&cvx)
                    .map(|e| e.antigens.clone().into_boxed_slice())
                    .unwrap_or_default(),
                conflicts_as_previous: {
                    let mut rows: Vec<(Cvx, usize)> = data
                        .conflicts_by_previous
                        .get(&cvx)
                        .into_iter()
                        .flatten()
                        .filter_map(|&r| data.live_virus_conflicts.get(r).map(|c| (c.current, r)))
                        .collect();
                    rows.sort_unstable();
                    rows.into_boxed_slice()
                },
                live_current: data.live_virus_current.binary_search(&cvx).is_ok(),
            });
            // More than 65,535 distinct codes cannot happen (CVX codes are
            // at most 4 digits); such a code would simply be unknown.
            if let Ok(n) = u16::try_from(slots.len()) {
                slot_of[usize::from(cvx.0)] = n;
            }
        }
        let mut plan = Plan {
            slot_of,
            slots,
            ..Plan::default()
        };
        let has_skips = |skips: &[ConditionalSkip], phase: SkipContext| {
            skips.iter().any(|s| {
                (s.context == SkipContext::Both || s.context == phase) && !s.sets.is_empty()
            })
        };
        let mut age_ids = AgeIds::default();
        let mut all_series = Vec::with_capacity(data.antigens.len());
        for a in &data.antigens {
            let mut antigen_series = Vec::with_capacity(a.series.len());
            for s in &a.series {
                let admission = Admission {
                    sexes: if s.required_gender.is_empty() {
                        u8::MAX
                    } else {
                        s.required_gender
                            .iter()
                            .fold(0, |m, &sex| m | Admission::bit(sex))
                    },
                    risk: s.series_type == SeriesType::Risk,
                };
                let first = plan.doses.len();
                for d in &s.doses {
                    let ages = plan.ages.len();
                    plan.ages.extend(d.ages.iter().map(|a| age_ids.row(a)));
                    let ages = Span::of(&plan.ages, ages);
                    let too_young_before = match ages.slice(&plan.ages) {
                        [age] if age.effective.is_none() && age.cessation.is_none() => {
                            if age.abs_min == AgeId::NONE {
                                age.min
                            } else {
                                age.abs_min
                            }
                        }
                        _ => AgeId::NONE,
                    };
                    let intervals = plan.intervals.len();
                    for r in &d.intervals {
                        let row = age_ids.interval(r, &mut plan.inadvertent);
                        plan.intervals.push(row);
                    }
                    let intervals = Span::of(&plan.intervals, intervals);
                    let any_override = intervals
                        .slice(&plan.intervals)
                        .iter()
                        .any(|r| r.priority_override);
                    let allowable_intervals = plan.intervals.len();
                    for r in &d.allowable_intervals {
                        let row = age_ids.interval(r, &mut plan.inadvertent);
                        plan.intervals.push(row);
                    }
                    let allowable_intervals = Span::of(&plan.intervals, allowable_intervals);
                    let preferable = plan.vaccines.len();
                    plan.vaccines.extend(d.preferable_vaccines.iter().map(|v| {
                        let (begin, end) = age_ids.range(&v.ages);
                        PlanVaccine {
                            cvx: v.cvx,
                            mvx: v.mvx.is_some(),
                            begin,
                            end,
                        }
                    }));
                    let preferable = Span::of(&plan.vaccines, preferable);
                    let allowable = plan.vaccines.len();
                    plan.vaccines.extend(d.allowable_vaccines.iter().map(|v| {
                        let (begin, end) = age_ids.range(&v.ages);
                        PlanVaccine {
                            cvx: v.cvx,
                            mvx: false,
                            begin,
                            end,
                        }
                    }));
                    let allowable = Span::of(&plan.vaccines, allowable);
                    let inadvertent = plan.inadvertent.len();
                    plan.inadvertent
                        .extend(d.inadvertent_vaccines.iter().copied());
                    let inadvertent = Span::of(&plan.inadvertent, inadvertent);
                    let evaluation_skips =
                        plan.add_skips(&d.conditional_skips, SkipContext::Evaluation, &mut age_ids);
                    let evaluation_skip_ages = plan.add_skip_ages(evaluation_skips);
                    let forecast_skips =
                        plan.add_skips(&d.conditional_skips, SkipContext::Forecast, &mut age_ids);
                    let forecast_skip_ages = plan.add_skip_ages(forecast_skips);
                    let live_ends = plan.live_ends.len();
                    if d.live_vaccine {
                        let mut ends: Vec<(Cvx, CdsiDuration)> = Vec::new();
                        for (&previous, rows) in &data.conflicts_by_previous {
                            for c in rows
                                .iter()
                                .filter_map(|&r| data.live_virus_conflicts.get(r))
                            {
                                if d.preferable_vaccines.iter().any(|v| v.cvx == c.current) {
                                    ends.push((previous, c.end));
                                }
                            }
                        }
                        ends.sort_unstable_by_key(|&(p, e)| (p, e.months, e.days));
                        ends.dedup();
                        plan.live_ends.extend(ends);
                    }
                    let live_ends = Span::of(&plan.live_ends, live_ends);
                    plan.doses.push(PlanDose {
                        number: d.number,
                        recurring: d.recurring,
                        skips_evaluation: has_skips(&d.conditional_skips, SkipContext::Evaluation),
                        skips_forecast: has_skips(&d.conditional_skips, SkipContext::Forecast),
                        live_vaccine: d.live_vaccine,
                        season_start: d.season_start,
                        ages,
                        intervals,
                        allowable_intervals,
                        preferable,
                        allowable,
                        inadvertent,
                        evaluation_skips,
                        forecast_skips,
                        evaluation_skip_ages,
                        forecast_skip_ages,
                        too_young_before,
                        any_override,
                        live_ends,
                    });
                }
                antigen_series.push(PlanSeries {
                    admission,
                    doses: Span::of(&plan.doses, first),
                });
            }
            all_series.push(antigen_series.into_boxed_slice());
        }
        plan.series = all_series.into_boxed_slice();
        plan.age_durations = age_ids.durations;
        plan.twins = twins(data, &plan);
        plan.standard = plan
            .series
            .iter()
            .map(|series| {
                [Sex::Female, Sex::Male, Sex::Unknown].map(|sex| {
                    series
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.admission.admits(sex) && !s.admission.risk)
                        .filter_map(|(k, _)| u16::try_from(k).ok())
                        .collect()
                })
            })
            .collect();
        plan
    }

    /// Lays out a target dose's conditional skips (each skip's sets, then
    /// each set's conditions, side by side).
    /// Only the skips that apply in `phase` and have a set are laid out (the
    /// others can never skip a dose then).
    fn add_skips(
        &mut self,
        skips: &[ConditionalSkip],
        phase: SkipContext,
        age_ids: &mut AgeIds,
    ) -> Span {
        let first = self.skips.len();
        for skip in skips.iter().filter(|s| {
            (s.context == SkipContext::Both || s.context == phase) && !s.sets.is_empty()
        }) {
            let sets = self.skip_sets.len();
            for set in &skip.sets {
                let conditions = self.conditions.len();
                for c in &set.conditions {
                    let vaccine_types = self.inadvertent.len();
                    self.inadvertent.extend(c.vaccine_types.iter().copied());
                    let vaccine_types = Span::of(&self.inadvertent, vaccine_types);
                    let series_groups = self.series_groups.len();
                    self.series_groups.extend(c.series_groups.iter().cloned());
                    let series_groups = Span::of(&self.series_groups, series_groups);
                    let (begin, end) = age_ids.range(&c.ages);
                    self.conditions.push(PlanCondition {
                        kind: c.kind,
                        valid_only: c.valid_only,
                        count_logic: c.count_logic,
                        begin,
                        end,
                        start_date: c.start_date,
                        end_date: c.end_date,
                        interval: c.interval,
                        dose_count: c.dose_count,
                        vaccine_types,
                        series_groups,
                    });
                }
                self.skip_sets.push(PlanSkipSet {
                    effective: set.effective,
                    cessation: set.cessation,
                    any: set.any,
                    conditions: Span::of(&self.conditions, conditions),
                });
            }
            self.skips.push(PlanSkip {
                any: skip.any,
                sets: Span::of(&self.skip_sets, sets),
            });
        }
        Span::of(&self.skips, first)
    }

    /// The ages below which none of the laid-out `skips` can be met
    /// ([`Plan::skip_ages`]), or `None` when some way of meeting one has
    /// no such age. A skip is met when one of its sets is (OR) or all are
    /// (AND: any one set's age will do); a set never with no condition,
    /// else when one of its conditions is (OR: each needs an age) or all
    /// are (AND: its first age condition with a start age will do); an
    /// age condition only from its start age on (the effective and
    /// cessation dates of a set only rule more out).
    fn add_skip_ages(&mut self, skips: Span) -> Option<Span> {
        let condition_age = |c: &PlanCondition| {
            (c.kind == ConditionKind::Age && c.begin != AgeId::NONE).then_some(c.begin)
        };
        // The ways of meeting a set: `None` when one has no age.
        let set_ages = |set: &PlanSkipSet, out: &mut Vec<AgeId>| -> Option<()> {
            let conditions = set.conditions.slice(&self.conditions);
            if conditions.is_empty() {
                return Some(());
            }
            if set.any {
                for c in conditions {
                    out.push(condition_age(c)?);
                }
            } else {
                out.push(conditions.iter().find_map(condition_age)?);
            }
            Some(())
        };
        let mut ages = Vec::new();
        for skip in skips.slice(&self.skips) {
            let sets = skip.sets.slice(&self.skip_sets);
            if skip.any {
                for set in sets {
                    set_ages(set, &mut ages)?;
                }
            } else {
                // Every set must be met: the first set that has ages will do.
                let mut found = false;
                for set in sets {
                    let mut one = Vec::new();
                    if set_ages(set, &mut one).is_some() {
                        ages.extend(one);
                        found = true;
                        break;
                    }
                }
                if !found {
                    return None;
                }
            }
        }
        let start = self.skip_age_rows.len();
        self.skip_age_rows.extend(ages);
        Some(Span::of(&self.skip_age_rows, start))
    }

    /// The ages of which the patient must have reached one on the
    /// reference date for one of a target dose's skips of `phase` to be
    /// met, or `None` when the skips must be read to know.
    #[inline]
    pub(crate) fn skip_ages(&self, dose: &PlanDose, phase: SkipContext) -> Option<&[AgeId]> {
        match phase {
            SkipContext::Forecast => dose.forecast_skip_ages,
            _ => dose.evaluation_skip_ages,
        }
        .map(|span| span.slice(&self.skip_age_rows))
    }

    /// The vaccine types of a `MostRecent` interval.
    #[inline]
    pub(crate) fn cvx_list(&self, list: Span) -> &[Cvx] {
        list.slice(&self.inadvertent)
    }

    /// A duration of the release's rows by id (`None` for [`AgeId::NONE`]).
    #[inline]
    pub(crate) fn duration(&self, id: AgeId) -> Option<CdsiDuration> {
        self.age_durations.get(usize::from(id.0)).copied()
    }

    /// A target dose's live virus conflict ends (see `Plan::live_ends`).
    #[inline]
    pub(crate) fn live_ends(&self, dose: &PlanDose) -> &[(Cvx, CdsiDuration)] {
        dose.live_ends.slice(&self.live_ends)
    }

    /// A target dose's conditional skips that apply in `phase`
    /// ([`SkipContext::Evaluation`] or [`SkipContext::Forecast`]), each
    /// with a set.
    #[inline]
    pub(crate) fn skips(&self, dose: &PlanDose, phase: SkipContext) -> &[PlanSkip] {
        match phase {
            SkipContext::Forecast => dose.forecast_skips.slice(&self.skips),
            _ => dose.evaluation_skips.slice(&self.skips),
        }
    }

    /// A conditional skip's sets.
    #[inline]
    pub(crate) fn skip_sets(&self, skip: &PlanSkip) -> &[PlanSkipSet] {
        skip.sets.slice(&self.skip_sets)
    }

    /// A skip set's conditions.
    #[inline]
    pub(crate) fn conditions(&self, set: &PlanSkipSet) -> &[PlanCondition] {
        set.conditions.slice(&self.conditions)
    }

    /// A condition's vaccine types (empty = any).
    #[inline]
    pub(crate) fn vaccine_types(&self, c: &PlanCondition) -> &[Cvx] {
        c.vaccine_types.slice(&self.inadvertent)
    }

    /// A `CompletedSeries` condition's series groups.
    #[inline]
    pub(crate) fn series_groups(&self, c: &PlanCondition) -> &[String] {
        c.series_groups.slice(&self.series_groups)
    }

    /// How many distinct durations (ages and intervals) the release's rows
    /// name.
    #[inline]
    pub(crate) fn age_count(&self) -> usize {
        self.age_durations.len()
    }

    /// The series of the antigen, parallel to the data's.
    #[inline]
    pub(crate) fn series(&self, antigen: usize) -> &[PlanSeries] {
        self.series.get(antigen).map_or(&[], |a| &a[..])
    }

    /// The positions of the antigen's series relevant to a patient of this
    /// sex without observations (CDSi 5: standard series admitting the sex).
    #[inline]
    pub(crate) fn standard_series(&self, antigen: usize, sex: Sex) -> &[u16] {
        self.standard
            .get(antigen)
            .and_then(|s| s.get(sex as usize))
            .map_or(&[], |s| &s[..])
    }

    /// The target doses of a series, parallel to the data's.
    #[inline]
    pub(crate) fn doses(&self, series: &PlanSeries) -> &[PlanDose] {
        series.doses.slice(&self.doses)
    }

    /// A target dose's age rows.
    #[inline]
    pub(crate) fn ages(&self, dose: &PlanDose) -> &[PlanAge] {
        dose.ages.slice(&self.ages)
    }

    /// A target dose's preferable interval rows.
    #[inline]
    pub(crate) fn intervals(&self, dose: &PlanDose) -> &[PlanInterval] {
        dose.intervals.slice(&self.intervals)
    }

    /// A target dose's allowable interval rows.
    #[inline]
    pub(crate) fn allowable_intervals(&self, dose: &PlanDose) -> &[PlanInterval] {
        dose.allowable_intervals.slice(&self.intervals)
    }

    /// A target dose's preferable vaccines, parallel to the data's.
    #[inline]
    pub(crate) fn preferable(&self, dose: &PlanDose) -> &[PlanVaccine] {
        dose.preferable.slice(&self.vaccines)
    }

    /// A target dose's allowable vaccines, parallel to the data's.
    #[inline]
    pub(crate) fn allowable(&self, dose: &PlanDose) -> &[PlanVaccine] {
        dose.allowable.slice(&self.vaccines)
    }

    /// A target dose's inadvertent vaccines.
    #[inline]
    pub(crate) fn inadvertent(&self, dose: &PlanDose) -> &[Cvx] {
        dose.inadvertent.slice(&self.inadvertent)
    }

    /// The live virus conflict rows (indices into
    /// `SupportingData::live_virus_conflicts`) with `previous` as the
    /// earlier vaccine and `current` as the later one.
    #[inline]
    pub(crate) fn conflicts(
        &self,
        previous: Cvx,
        current: Cvx,
    ) -> impl Iterator<Item = usize> + '_ {
        let rows = self
            .slot(previous)
            .map_or(&[][..], |s| &s.conflicts_as_previous[..]);
        let from = rows.partition_point(|&(c, _)| c < current);
        rows[from..]
            .iter()
            .take_while(move |&&(c, _)| c == current)
            .map(|&(_, r)| r)
    }

    /// The plan without twins: every antigen evaluated on its own (tests
    /// compare the two).
    #[cfg(test)]
    pub(crate) fn without_twins(mut self) -> Plan {
        self.twins = vec![None; self.twins.len()].into_boxed_slice();
        self
    }

    /// The earlier antigen whose results this antigen may reuse ([`Twin`]).
    #[inline]
    pub(crate) fn twin(&self, antigen: usize) -> Option<&Twin> {
        self.twins.get(antigen)?.as_ref()
    }

    /// The code's entry, if the supporting data knows it at all.
    #[inline]
    pub(crate) fn slot(&self, cvx: Cvx) -> Option<&CvxSlot> {
        let n = *self.slot_of.get(usize::from(cvx.0))?;
        self.slots.get(usize::from(n).checked_sub(1)?)
    }
}

/// Every vaccine a series' rows name (vaccine lists, skip conditions,
/// intervals from the most recent of some vaccines).
fn series_codes(series: &Series, out: &mut Vec<Cvx>) {
    for d in &series.doses {
        out.extend(d.preferable_vaccines.iter().map(|v| v.cvx));
        out.extend(d.allowable_vaccines.iter().map(|v| v.cvx));
        out.extend(d.inadvertent_vaccines.iter().copied());
        out.extend(d.forecast_vaccines.as_slice().iter().map(|v| v.cvx));
        for r in d.intervals.iter().chain(&d.allowable_intervals) {
            if let IntervalFrom::MostRecent(types) = &r.from {
                out.extend(types.iter().copied());
            }
        }
        for c in d
            .conditional_skips
            .iter()
            .flat_map(|s| &s.sets)
            .flat_map(|s| &s.conditions)
        {
            out.extend(c.vaccine_types.iter().copied());
        }
    }
}

/// What of a series decides its evaluation, selection and forecast dates,
/// as text, with the `excluded` vaccines left out of every list (`None`
/// when leaving them out would empty a list where empty means "any"). The
/// names (series, antigen, series group name, vaccine types) and the skip
/// sets' descriptions are left out: results take them from the series
/// itself, and the recommended vaccines are worked out per series anyway.
fn twin_form(series: &Series, excluded: &[Cvx]) -> Option<String> {
    let keep = |c: &Cvx| excluded.binary_search(c).is_err();
    let mut doses = Vec::with_capacity(series.doses.len());
    for d in &series.doses {
        let mut d = d.clone();
        d.preferable_vaccines.retain(|v| keep(&v.cvx));
        d.allowable_vaccines.retain(|v| keep(&v.cvx));
        d.inadvertent_vaccines.retain(keep);
        d.forecast_vaccines = Shared::default();
        for r in d.intervals.iter_mut().chain(&mut d.allowable_intervals) {
            if let IntervalFrom::MostRecent(types) = &mut r.from {
                types.retain(keep);
            }
        }
        for set in d.conditional_skips.iter_mut().flat_map(|s| &mut s.sets) {
            set.description.clear();
            for c in &mut set.conditions {
                let was_empty = c.vaccine_types.is_empty();
                c.vaccine_types.retain(keep);
                if !was_empty && c.vaccine_types.is_empty() {
                    return None;
                }
            }
        }
        let vaccines = |v: &mut Vec<crate::supporting_data::PreferableVaccine>| {
            for v in v {
                v.vaccine_type = Name::interned("");
                v.trade_name = None;
            }
        };
        vaccines(&mut d.preferable_vaccines);
        for v in &mut d.allowable_vaccines {
            v.vaccine_type = Name::interned("");
        }
        doses.push(d);
    }
    // Everything else of the series counts, whatever fields it gains.
    let mut series = series.clone();
    series.name = Name::interned("");
    series.target_disease.clear();
    series.series_group_name.clear();
    series.doses = doses;
    Some(format!("{series:?}"))
}

/// Each antigen's twin ([`Twin`]): the first earlier antigen whose series
/// are, one for one, the same as its own once the vaccines only one of the
/// two names are left out, with the same live virus conflict ends; or
/// failing that, whose standard series are (a risk series is relevant only
/// with an observation, so for a patient without any only those count).
fn twins(data: &SupportingData, plan: &Plan) -> Box<[Option<Twin>]> {
    let codes: Vec<Vec<Cvx>> = data
        .antigens
        .iter()
        .map(|a| {
            let mut codes = Vec::new();
            for s in &a.series {
                series_codes(s, &mut codes);
            }
            codes.sort_unstable();
            codes.dedup();
            codes
        })
        .collect();
    let live_ends = |antigen: usize, series: usize| -> Vec<Vec<(Cvx, CdsiDuration)>> {
        plan.series(antigen)
            .get(series)
            .map(|s| {
                plan.doses(s)
                    .iter()
                    .map(|d| plan.live_ends(d).to_vec())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Are the series `pick` keeps of antigens a and b the same, one for one?
    let same = |a: usize, b: usize, excluded: &[Cvx], pick: &dyn Fn(&Series) -> bool| {
        let xs: Vec<(usize, &Series)> = data.antigens[a]
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| pick(s))
            .collect();
        let ys: Vec<(usize, &Series)> = data.antigens[b]
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| pick(s))
            .collect();
        !xs.is_empty()
            && xs.len() == ys.len()
            && xs.iter().zip(&ys).all(|(&(i, x), &(j, y))| {
                match (twin_form(x, excluded), twin_form(y, excluded)) {
                    (Some(fx), Some(fy)) => fx == fy && live_ends(a, i) == live_ends(b, j),
                    _ => false,
                }
            })
    };
    let mut twins = Vec::with_capacity(data.antigens.len());
    for b in 0..data.antigens.len() {
        let twin = (0..b).find_map(|a| {
            // The vaccines one of the two names and the other does not.
            let mut excluded: Vec<Cvx> = codes[a]
                .iter()
                .filter(|c| codes[b].binary_search(c).is_err())
                .chain(
                    codes[b]
                        .iter()
                        .filter(|c| codes[a].binary_search(c).is_err()),
                )
                .copied()
                .collect();
            excluded.sort_unstable();
            let all = same(a, b, &excluded, &|_| true);
            let standard = all || same(a, b, &excluded, &|s| s.series_type != SeriesType::Risk);
            standard.then(|| Twin {
                source: a as u16,
                excluded: excluded.into_boxed_slice(),
                without_observations: !all,
            })
        });
        twins.push(twin);
    }
    twins.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_of_the_bundled_release() {
        let data = SupportingData::bundled().expect("bundled data parses");
        let plan = Plan::new(&data);
        let found: Vec<(String, String, Vec<Cvx>, bool)> = (0..data.antigens.len())
            .filter_map(|b| {
                let t = plan.twin(b)?;
                Some((
                    data.antigens[usize::from(t.source)].name.to_string(),
                    data.antigens[b].name.to_string(),
                    t.excluded.to_vec(),
                    t.without_observations,
                ))
            })
            .collect();
        let twin = |source: &str, antigen: &str, excluded: &[u16], without: bool| {
            (
                source.to_string(),
                antigen.to_string(),
                excluded.iter().map(|&c| Cvx(c)).collect::<Vec<_>>(),
                without,
            )
        };
        assert_eq!(
            found,
            vec![
                // MMR's risk series differ in their indications.
                twin("Measles", "Mumps", &[4, 5, 7, 38], true),
                twin("Measles", "Rubella", &[5, 6, 38], true),
                // TT (35) is a tetanus vaccine only.
                twin("Diphtheria", "Tetanus", &[35], false),
            ]
        );
    }
}
