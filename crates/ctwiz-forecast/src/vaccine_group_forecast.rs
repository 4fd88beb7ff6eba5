//! CDSi 9 "Identify and evaluate vaccine group": combine the antigens of a
//! vaccine group (e.g. Diphtheria, Tetanus and Pertussis for DTaP/Tdap/Td)
//! into one status and one forecast.
//!
//! A vaccine group forecast *contains* patient series forecasts
//! (FORECASTVG-1): the best series of one series group of each antigen of the
//! group. Every series group in play gets its own forecast
//! ([`SeriesGroupForecast`]); the group's headline status and forecast
//! combine each antigen's selected series (CDSi 8.8, the series that drives
//! the antigen) by the same rules.

use crate::result::{
    AntigenResult, EvaluationStatus, ForecastDates, PatientSeries, RecommendedVaccine,
    SeriesGroupForecast, SeriesStatus, VaccineGroupForecast,
};
use crate::supporting_data::{Name, Shared, VaccineGroup};
use chrono::NaiveDate;

/// A patient series forecast contained in a vaccine group forecast.
#[derive(Clone, Copy)]
pub(crate) struct Contained<'a> {
    pub series: &'a PatientSeries,
    /// The status and forecast it contributes: the series' own, or for the
    /// antigen's selected series the antigen's (whose dose number also counts
    /// doses valid in another series group's best series).
    pub status: SeriesStatus,
    pub forecast: Option<&'a ForecastDates>,
    /// FORECASTPRIORITY-1: the forecast target dose has preferable intervals,
    /// all of them with interval priority "override".
    pub priority: bool,
}

/// The engine's per-forecast facts the vaccine group rules need: whether
/// each patient series' forecast is a priority forecast, by the series'
/// position in the forecast-wide series buffer.
pub(crate) struct GroupInputs<'a> {
    pub priority: &'a [bool],
}

impl GroupInputs<'_> {
    fn contained<'a>(&self, a: &'a AntigenResult, i: usize) -> Option<Contained<'a>> {
        let series = a.series.get(i)?;
        let global = a.series.range().start + i;
        Some(Contained {
            series,
            status: series.status,
            forecast: series.forecast.as_ref(),
            priority: self.priority.get(global).copied().unwrap_or(false),
        })
    }
}

/// Buffers reused across the vaccine groups of one forecast.
pub(crate) struct GroupScratch<'a> {
    contained: Vec<Contained<'a>>,
    groups: Vec<&'a Name>,
}

impl<'a> GroupScratch<'a> {
    /// Scratch in the given (empty) buffers.
    pub fn new(mut contained: Vec<Contained<'a>>, mut groups: Vec<&'a Name>) -> Self {
        contained.reserve(8);
        groups.reserve(4);
        GroupScratch { contained, groups }
    }

    /// The buffers back, for reuse.
    pub fn into_parts(self) -> (Vec<Contained<'a>>, Vec<&'a Name>) {
        (self.contained, self.groups)
    }
}

/// Combines the group's antigen results; appends the group's series-group
/// forecasts to `out` and returns the vaccine group forecast whose
/// `series_groups` is pending on that range.
pub(crate) fn vaccine_group_forecast<'a>(
    group: &VaccineGroup,
    antigens: &'a [AntigenResult],
    inputs: &GroupInputs<'_>,
    scratch: &mut GroupScratch<'a>,
    out: &mut Vec<SeriesGroupForecast>,
) -> VaccineGroupForecast {
    let members = || {
        group
            .antigens
            .iter()
            .filter_map(|id| antigens.get(usize::from(id.0)))
    };
    // No antigen of the group has a series for the patient (Cholera for a
    // child): nothing is contained, the group is Not Recommended.
    if members().all(|a| a.best_series.is_none() && a.group_best_series.is_empty()) {
        return VaccineGroupForecast {
            vaccine_group: group.name.clone(),
            status: SeriesStatus::NotRecommended,
            forecast: None,
            antigens: group.antigen_names.clone(),
            series_groups: Shared::pending(out.len()..out.len()),
        };
    }
    // MULTIANTVG-1: the latest date administered of any dose of the group
    // (a series lists its doses in date order: its last one that counts).
    let last_dose = members()
        .filter_map(|a| a.best())
        .filter_map(|s| {
            s.doses
                .iter()
                .rev()
                .find(|d| d.status != EvaluationStatus::SubStandard)
                .map(|d| d.date)
        })
        .max();
    let GroupScratch { contained, groups } = scratch;

    // The headline: each antigen's selected series.
    contained.clear();
    contained.extend(members().filter_map(|a| {
        let c = inputs.contained(a, a.best_series?)?;
        Some(Contained {
            status: a.status,
            forecast: a.forecast.as_ref(),
            ..c
        })
    }));
    let (status, forecast) = combine(group, contained, last_dose);
    let headline_type = contained.first().map(|c| c.series.series_type);

    // FORECASTVG-1: one forecast per series group, from the best series of
    // that group of each antigen (Table 8-14).
    let start = out.len();
    groups.clear();
    groups.extend(
        members()
            .flat_map(|a| a.group_best_series.iter().filter_map(|&i| a.series.get(i)))
            .map(|s| &s.series_group),
    );
    groups.sort_by(|a, b| cmp_series_group(a, b));
    groups.dedup();
    // The usual case: one series group in play, whose best series are the
    // antigens' selected series. It contains what the headline contains
    // (the antigen's status and forecast are its selected series' own when
    // no other series group's doses count), so its forecast is the
    // headline's.
    let as_headline = groups.len() == 1
        && members().all(|a| match (&a.group_best_series[..], a.best_series) {
            ([], None) => true,
            ([g], Some(b)) => *g == b,
            _ => false,
        });
    if let (true, Some(g), Some(series_type)) = (as_headline, groups.first(), headline_type) {
        out.push(SeriesGroupForecast {
            series_group: (*g).clone(),
            series_type,
            status,
            forecast: forecast.clone(),
        });
        groups.clear();
    }
    for g in groups.iter() {
        contained.clear();
        contained.extend(members().flat_map(|a| {
            a.group_best_series
                .iter()
                .filter(|&&i| a.series.get(i).is_some_and(|s| s.series_group == **g))
                .filter_map(|&i| inputs.contained(a, i))
        }));
        let Some(first) = contained.first() else {
            continue;
        };
        let series_type = first.series.series_type;
        let (status, forecast) = combine(group, contained, last_dose);
        out.push(SeriesGroupForecast {
            series_group: (*g).clone(),
            series_type,
            status,
            forecast,
        });
    }
    VaccineGroupForecast {
        vaccine_group: group.name.clone(),
        status,
        forecast,
        antigens: group.antigen_names.clone(),
        series_groups: Shared::pending(start..out.len()),
    }
}

/// Series groups in their numeric order ("1" standard, "2", "3", ...).
fn cmp_series_group(a: &Name, b: &Name) -> std::cmp::Ordering {
    match (a.parse::<u32>(), b.parse::<u32>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.as_str().cmp(b.as_str()),
    }
}

/// The status and forecast of a vaccine group forecast containing
/// `contained` (SINGLEANTVG-1/2 for one antigen, Table 9-4 and MULTIANTVG-1
/// for several, FORECASTVG-2..4 and FORECASTDN-2 for both).
fn combine(
    group: &VaccineGroup,
    contained: &[Contained<'_>],
    last_dose: Option<NaiveDate>,
) -> (SeriesStatus, Option<ForecastDates>) {
    let status = group_status(contained.iter().map(|c| c.status));
    if status != SeriesStatus::NotComplete {
        return (status, None);
    }
    let due = || {
        contained
            .iter()
            .filter(|c| c.status == SeriesStatus::NotComplete)
            .filter_map(|c| c.forecast.map(|f| (f, c.priority)))
    };
    let Some((first, _)) = due().next() else {
        return (status, None);
    };
    // One pass over the due forecasts for every bound the rules below take.
    let min = |a: Option<NaiveDate>, b: Option<NaiveDate>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut any_priority = false;
    let (mut min_earliest, mut max_earliest) = (first.earliest, first.earliest);
    let mut min_recommended = first.recommended;
    let (mut min_past_due, mut min_latest) = (None, None);
    let (mut min_number, mut max_number) = (first.dose_number, first.dose_number);
    for (f, priority) in due() {
        any_priority |= priority;
        min_earliest = min_earliest.min(f.earliest);
        max_earliest = max_earliest.max(f.earliest);
        min_recommended = min_recommended.min(f.recommended);
        min_past_due = min(min_past_due, f.past_due);
        min_latest = min(min_latest, f.latest);
        min_number = min_number.min(f.dose_number);
        max_number = max_number.max(f.dose_number);
    }
    // MULTIANTVG-1: with a priority forecast among them (DTaP/Tdap/Td), the
    // antigen due soonest sets the earliest date; otherwise every antigen's
    // earliest date must be reached (MMR). A single antigen's earliest date
    // is its own (SINGLEANTVG-2).
    let earliest = if any_priority {
        min_earliest
    } else {
        max_earliest
    };
    // MULTIANTVG-1 also keeps a priority forecast from coming before the
    // group's latest dose; the test cases apply that to every group not given
    // as a whole, single-antigen ones too (DT given as a 5th DTaP dose,
    // 2024-0058; a Heplisav-B dose given too young, 2018-0022).
    let earliest = match last_dose {
        Some(l) if !group.administer_full_group => earliest.max(l),
        _ => earliest,
    };
    // FORECASTVG-2/3: the earliest of the recommended (past-due) dates, never
    // before the group's earliest date; FORECASTVG-4: the earliest latest date.
    let recommended = min_recommended.max(earliest);
    let past_due = min_past_due.map(|p| p.max(earliest));
    let latest = min_latest;
    // FORECASTDN-2: the lowest dose number when the whole group is given at
    // once (MMR: single-antigen measles and mumps doses still leave MMR dose
    // 1 due for rubella, 2013-0534), else the highest.
    let dose_number = if group.administer_full_group {
        min_number
    } else {
        max_number
    };
    // FORECASTVG-9: every contained forecast's vaccines, in order, once.
    let listed_by_first = |v: &RecommendedVaccine| first.vaccines.iter().any(|x| x.cvx == v.cvx);
    let vaccines = if due().all(|(f, _)| f.vaccines.iter().all(listed_by_first)) {
        first.vaccines.clone()
    } else {
        let mut all: Vec<RecommendedVaccine> = Vec::new();
        for v in due().flat_map(|(f, _)| f.vaccines.iter()) {
            if !all.iter().any(|x| x.cvx == v.cvx) {
                all.push(v.clone());
            }
        }
        Shared::from(all)
    };
    (
        status,
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

/// CDSi Table 9-4: the vaccine group status from the contained forecasts'
/// statuses, first match wins — any Contraindicated, any Aged Out, any Not
/// Recommended, any Not Complete, all Immune, all Complete or Immune. With
/// nothing contained, the group is Not Recommended.
fn group_status(statuses: impl Iterator<Item = SeriesStatus> + Clone) -> SeriesStatus {
    // One pass: which statuses occur, and whether all are Immune.
    let (mut seen, mut any, mut all_immune) = (0u8, false, true);
    for s in statuses {
        any = true;
        all_immune &= s == SeriesStatus::Immune;
        seen |= match s {
            SeriesStatus::Contraindicated => 1,
            SeriesStatus::AgedOut => 2,
            SeriesStatus::NotRecommended => 4,
            SeriesStatus::NotComplete => 8,
            _ => 0,
        };
    }
    if !any {
        return SeriesStatus::NotRecommended;
    }
    if seen & 1 != 0 {
        SeriesStatus::Contraindicated
    } else if seen & 2 != 0 {
        SeriesStatus::AgedOut
    } else if seen & 4 != 0 {
        SeriesStatus::NotRecommended
    } else if seen & 8 != 0 {
        SeriesStatus::NotComplete
    } else if all_immune {
        SeriesStatus::Immune
    } else {
        SeriesStatus::Complete
    }
}
