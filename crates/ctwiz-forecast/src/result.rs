//! Output: evaluations, patient series and forecasts (serde-serializable).

use crate::supporting_data::{Cvx, Name, Names, SeriesType, Shared};
use chrono::NaiveDate;

/// Evaluation status of a dose for one antigen (CDSi "dose status").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EvaluationStatus {
    /// Counts toward the series.
    Valid,
    /// Does not count and needs to be repeated.
    NotValid,
    /// Does not count and does not need to be repeated.
    Extraneous,
    /// Expired lot, sub-potent or recalled: does not count.
    SubStandard,
}

impl EvaluationStatus {
    /// The CDC's spelling (`"Not Valid"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EvaluationStatus::Valid => "Valid",
            EvaluationStatus::NotValid => "Not Valid",
            EvaluationStatus::Extraneous => "Extraneous",
            EvaluationStatus::SubStandard => "Sub-standard",
        }
    }
}

/// Why a dose got its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EvaluationReason {
    /// Given before the absolute minimum age.
    TooYoung,
    /// Given at or after the maximum age.
    TooOld,
    /// Given within the grace period before the minimum age.
    AgeGracePeriod,
    /// Given before the (absolute) minimum interval.
    IntervalTooSoon,
    /// Given within the grace period of the minimum interval.
    IntervalGracePeriod,
    /// Only the allowable interval was met.
    AllowableInterval,
    /// Given too soon after a conflicting live virus vaccine.
    LiveVirusConflict,
    /// The vaccine is neither preferable nor allowable for the target dose.
    NotPreferableOrAllowable,
    /// The vaccine is allowable but not preferable.
    AllowableVaccine,
    /// The vaccine was given inadvertently (wrong vaccine for this antigen).
    Inadvertent,
    /// The series was already complete.
    SeriesComplete,
    /// Given after the lot's expiration date.
    ExpiredLot,
    /// Recorded as sub-potent or recalled.
    SubPotent,
}

impl EvaluationReason {
    /// A short human-readable text.
    pub fn text(self) -> &'static str {
        match self {
            EvaluationReason::TooYoung => "Age: too young",
            EvaluationReason::TooOld => "Age: too old",
            EvaluationReason::AgeGracePeriod => "Age: grace period",
            EvaluationReason::IntervalTooSoon => "Interval: too soon",
            EvaluationReason::IntervalGracePeriod => "Interval: grace period",
            EvaluationReason::AllowableInterval => "Interval: allowable interval",
            EvaluationReason::LiveVirusConflict => "Live virus conflict",
            EvaluationReason::NotPreferableOrAllowable => "Not a preferable or allowable vaccine",
            EvaluationReason::AllowableVaccine => "Allowable vaccine",
            EvaluationReason::Inadvertent => "Inadvertent vaccine",
            EvaluationReason::SeriesComplete => "Series already complete",
            EvaluationReason::ExpiredLot => "Expired lot",
            EvaluationReason::SubPotent => "Sub-potent or recalled",
        }
    }
}

/// The reasons given for one dose's evaluation: a short inline list (no heap
/// allocation) that derefs to a slice and serializes as a JSON array.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reasons {
    len: u8,
    items: [EvaluationReason; Reasons::CAPACITY],
}

impl Reasons {
    const CAPACITY: usize = 6;

    /// No reasons.
    pub const EMPTY: Reasons = Reasons {
        len: 0,
        items: [EvaluationReason::TooYoung; Reasons::CAPACITY],
    };

    /// A single reason.
    pub fn one(reason: EvaluationReason) -> Self {
        let mut r = Reasons::EMPTY;
        r.push(reason);
        r
    }

    /// Adds a reason once; further reasons beyond the capacity (more than any
    /// evaluation produces) are dropped.
    pub fn push(&mut self, reason: EvaluationReason) {
        let len = usize::from(self.len);
        if len < Reasons::CAPACITY && !self.contains(&reason) {
            self.items[len] = reason;
            self.len += 1;
        }
    }
}

impl Default for Reasons {
    fn default() -> Self {
        Reasons::EMPTY
    }
}

impl std::ops::Deref for Reasons {
    type Target = [EvaluationReason];
    fn deref(&self) -> &[EvaluationReason] {
        &self.items[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Reasons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Reasons {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Reasons {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = <Vec<EvaluationReason> as serde::Deserialize>::deserialize(deserializer)?;
        if list.len() > Reasons::CAPACITY {
            return Err(serde::de::Error::invalid_length(
                list.len(),
                &"at most 6 evaluation reasons",
            ));
        }
        let mut r = Reasons::EMPTY;
        for reason in list {
            r.push(reason);
        }
        Ok(r)
    }
}

/// One administered dose evaluated against one patient series.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DoseEvaluation {
    /// Index into [`crate::Patient::doses`].
    pub dose_index: usize,
    /// Date administered.
    pub date: NaiveDate,
    /// CVX.
    pub cvx: Cvx,
    /// Status.
    pub status: EvaluationStatus,
    /// Reasons (empty for a plain valid dose).
    pub reasons: Reasons,
    /// Target dose (1-based) this dose satisfied, if valid.
    pub target_dose: Option<u8>,
    /// Target dose (1-based) the dose was evaluated against, valid or not
    /// (`None` when the series was already complete or the dose was
    /// sub-standard): the dose whose age and interval rules a not-valid
    /// dose failed, for explaining it ([`crate::explain`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub evaluated_against: Option<u8>,
}

/// Status of a patient series, antigen or vaccine group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SeriesStatus {
    /// More doses are due.
    NotComplete,
    /// All target doses satisfied.
    Complete,
    /// Evidence of immunity.
    Immune,
    /// Past the maximum age for the next dose.
    AgedOut,
    /// Contraindicated.
    Contraindicated,
    /// Not recommended (no relevant series).
    NotRecommended,
}

impl SeriesStatus {
    /// The CDC's spelling (`"Not Complete"`).
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesStatus::NotComplete => "Not Complete",
            SeriesStatus::Complete => "Complete",
            SeriesStatus::Immune => "Immune",
            SeriesStatus::AgedOut => "Aged Out",
            SeriesStatus::Contraindicated => "Contraindicated",
            SeriesStatus::NotRecommended => "Not Recommended",
        }
    }
}

/// A vaccine the forecast recommends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecommendedVaccine {
    /// CVX.
    pub cvx: Cvx,
    /// Vaccine type name.
    pub vaccine_type: Name,
}

/// Forecast of the next dose.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ForecastDates {
    /// Target dose number (1-based).
    pub dose_number: u8,
    /// Earliest date the dose may be given.
    pub earliest: NaiveDate,
    /// Recommended date.
    pub recommended: NaiveDate,
    /// After this date the dose is overdue.
    pub past_due: Option<NaiveDate>,
    /// Latest date the dose may be given.
    pub latest: Option<NaiveDate>,
    /// Vaccines to give.
    pub vaccines: Shared<RecommendedVaccine>,
}

/// One series considered for an antigen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatientSeries {
    /// Series name.
    pub name: Name,
    /// Series type.
    pub series_type: SeriesType,
    /// Series group.
    pub series_group: Name,
    /// Status.
    pub status: SeriesStatus,
    /// Each dose of the antigen evaluated against this series, in date order.
    pub doses: Shared<DoseEvaluation>,
    /// Number of valid doses.
    pub valid_doses: usize,
    /// Forecast when status is Not Complete.
    pub forecast: Option<ForecastDates>,
    /// Selection score (CDSi 8 series scoring).
    pub score: i32,
}

/// Result for one antigen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AntigenResult {
    /// Antigen name.
    pub antigen: Name,
    /// Relevant series evaluated.
    pub series: Shared<PatientSeries>,
    /// Index of the best patient series in `series`.
    pub best_series: Option<usize>,
    /// Status of the best series.
    pub status: SeriesStatus,
    /// Forecast of the best series.
    pub forecast: Option<ForecastDates>,
    /// The best series of each series group (indices into `series`); a
    /// dose valid in any of them counts for the antigen.
    pub group_best_series: Shared<usize>,
}

impl AntigenResult {
    /// The antigen-level status of a dose (by index into the patient's
    /// doses): valid if any series group's best series counted it, else its
    /// status in the selected series.
    pub fn dose_status(&self, dose_index: usize) -> Option<EvaluationStatus> {
        dose_status_in(
            &self.series,
            &|s| &s.doses,
            &self.group_best_series,
            self.best_series,
            dose_index,
        )
    }

    /// How many doses count for the antigen (see [`AntigenResult::dose_status`]).
    pub fn valid_dose_count(&self) -> usize {
        valid_dose_count_in(
            &self.series,
            &|s| &s.doses,
            &self.group_best_series,
            self.best_series,
        )
    }

    /// The selected series.
    pub fn best(&self) -> Option<&PatientSeries> {
        self.best_series.and_then(|i| self.series.get(i))
    }
}

/// [`AntigenResult::dose_status`] over explicit parts, so the engine can ask
/// before the result is assembled (`evals_of` gives a series' evaluations).
pub(crate) fn dose_status_in<'s>(
    series: &'s [PatientSeries],
    evals_of: &dyn Fn(&'s PatientSeries) -> &'s [DoseEvaluation],
    group_best: &[usize],
    best: Option<usize>,
    dose_index: usize,
) -> Option<EvaluationStatus> {
    let in_series = |i: usize| {
        series
            .get(i)
            .and_then(|s| evals_of(s).iter().find(|d| d.dose_index == dose_index))
            .map(|d| d.status)
    };
    if group_best
        .iter()
        .any(|&i| in_series(i) == Some(EvaluationStatus::Valid))
    {
        return Some(EvaluationStatus::Valid);
    }
    best.and_then(in_series)
}

/// [`AntigenResult::valid_dose_count`] over explicit parts.
pub(crate) fn valid_dose_count_in<'s>(
    series: &'s [PatientSeries],
    evals_of: &dyn Fn(&'s PatientSeries) -> &'s [DoseEvaluation],
    group_best: &[usize],
    best: Option<usize>,
) -> usize {
    let Some(b) = best.and_then(|i| series.get(i)) else {
        return 0;
    };
    evals_of(b)
        .iter()
        .filter(|d| {
            dose_status_in(series, evals_of, group_best, best, d.dose_index)
                == Some(EvaluationStatus::Valid)
        })
        .count()
}

/// Forecast for a vaccine group (CDSi 9).
///
/// `status` and `forecast` combine each antigen's selected series (the one
/// answer a clinic reads per vaccine group); `series_groups` holds the
/// vaccine group forecast of every series group in play (CDSi
/// FORECASTVG-1: each best patient series of Table 8-14, one per series
/// group, standard and risk, yields its own forecast).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VaccineGroupForecast {
    /// Vaccine group name.
    pub vaccine_group: Name,
    /// Status.
    pub status: SeriesStatus,
    /// Forecast when not complete.
    pub forecast: Option<ForecastDates>,
    /// Antigens of the group.
    pub antigens: Names,
    /// One forecast per series group (standard, increased risk, ...), in
    /// series-group order; empty when no antigen of the group has a series.
    #[cfg_attr(feature = "serde", serde(default))]
    pub series_groups: Shared<SeriesGroupForecast>,
}

/// The vaccine group forecast of one series group (CDSi 9, FORECASTVG-1):
/// the best series of that group of each antigen of the vaccine group,
/// combined by Table 9-4 (status) and FORECASTVG-2..4, MULTIANTVG-1 and
/// FORECASTDN-2 (dates and dose number).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SeriesGroupForecast {
    /// Series group identifier of the supporting data (`"1"` standard, `"2"`, ...).
    pub series_group: Name,
    /// Series type of the group's best series (standard or risk).
    pub series_type: SeriesType,
    /// Status (Table 9-4).
    pub status: SeriesStatus,
    /// Forecast when not complete.
    pub forecast: Option<ForecastDates>,
}

/// Everything the engine computed for one patient.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ForecastResult {
    /// Assessment date.
    pub assessment_date: NaiveDate,
    /// Per antigen.
    pub antigens: Vec<AntigenResult>,
    /// Per vaccine group.
    pub vaccine_groups: Vec<VaccineGroupForecast>,
    /// Indices of doses whose CVX is unknown to the supporting data.
    pub unknown_vaccines: Vec<usize>,
}

impl ForecastResult {
    /// The result for one antigen, by name.
    pub fn antigen(&self, name: &str) -> Option<&AntigenResult> {
        self.antigens
            .iter()
            .find(|a| a.antigen.eq_ignore_ascii_case(name))
    }

    /// The forecast for one vaccine group, by CDSi name.
    pub fn vaccine_group(&self, name: &str) -> Option<&VaccineGroupForecast> {
        self.vaccine_groups
            .iter()
            .find(|g| g.vaccine_group.eq_ignore_ascii_case(name))
    }

    /// The status of one dose (by index into the patient's doses) for a
    /// vaccine group, combining its antigens' statuses
    /// ([`AntigenResult::dose_status`]): not valid if it is not valid for
    /// any antigen it carries (sub-standard first); valid if it counts for at
    /// least one (a decennial Tdap after a complete pertussis series);
    /// extraneous only when it is extra for all of them. A dose none of the
    /// group's antigens evaluated (a varicella dose listed with MMR) is
    /// judged by its own antigens; `None` when no antigen evaluated it.
    pub fn group_dose_status(&self, group: &str, dose_index: usize) -> Option<EvaluationStatus> {
        let statuses = |only_group: bool| {
            let g = self.vaccine_group(group);
            self.antigens
                .iter()
                .filter(move |a| !only_group || g.is_some_and(|g| g.antigens.contains(&a.antigen)))
                .filter_map(move |a| a.dose_status(dose_index))
        };
        let has = |s: EvaluationStatus| {
            statuses(true).any(|x| x == s)
                || (statuses(true).next().is_none() && statuses(false).any(|x| x == s))
        };
        if statuses(true).next().is_none() && statuses(false).next().is_none() {
            return None;
        }
        [
            EvaluationStatus::SubStandard,
            EvaluationStatus::NotValid,
            EvaluationStatus::Valid,
        ]
        .into_iter()
        .find(|&s| has(s))
        .or(Some(EvaluationStatus::Extraneous))
    }
}
