//! What a nurse reads: a vaccine group's status at a glance ([`DueStatus`])
//! and, for each dose that does not count or is extra, the reason in words
//! ([`dose_notes`]), and which groups are worth listing for the patient at all
//! ([`relevance`]: not the Not Recommended ones, not those left to shared clinical
//! decision-making without a dose, not the adult schedule for a child). The one wording
//! and listing every front end uses (ctwiz's Immunization Home, its CLI, its HL7 answers
//! and its recall lists), so they never disagree.
//!
//! ```
//! use chrono::NaiveDate;
//! use ctwiz_forecast::{explain, AdministeredDose, DueStatus, Engine, Patient, Sex};
//!
//! let engine = Engine::bundled().unwrap();
//! let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! // HepB at birth, 1 and 4 months: the third dose comes before 24 weeks of age.
//! let patient = Patient::new(date("2025-01-01"), Sex::Female)
//!     .with_dose(AdministeredDose::new(date("2025-01-01"), "08"))
//!     .with_dose(AdministeredDose::new(date("2025-02-01"), "08"))
//!     .with_dose(AdministeredDose::new(date("2025-05-01"), "08"));
//! let as_of = date("2025-05-01");
//! let result = engine.forecast(&patient, as_of);
//!
//! let hepb = result.vaccine_group("HepB").unwrap();
//! assert_eq!(hepb.due_status(as_of), DueStatus::NotYetDue);
//! let notes = explain::dose_notes(engine.supporting_data(), &result, "HepB");
//! assert_eq!(notes[0].text, "dose 3 given before 24 weeks of age: a 4th dose is needed");
//!
//! // The dose counts in the 4-dose series, which is why a 4th dose is due.
//! assert_eq!(result.group_dose_status("HepB", 2), Some(ctwiz_forecast::EvaluationStatus::Valid));
//!
//! // HPV at age 1 is not yet due (from 9 years), not "up to date".
//! let hpv = result.vaccine_group("HPV").unwrap();
//! assert_eq!(hpv.due_status(as_of).label(), "Not yet due");
//! ```

use crate::dates::CdsiDuration;
use crate::result::{
    DoseEvaluation, EvaluationReason, EvaluationStatus, ForecastDates, ForecastResult,
    PatientSeries, SeriesStatus, VaccineGroupForecast,
};
use crate::supporting_data::{IntervalFrom, SeriesDose, SeriesType, SupportingData};
use chrono::NaiveDate;

/// A vaccine group's status as a clinic reads it on a given day: the CDSi
/// status, and for a series not complete whether the next dose is due now,
/// overdue or not yet due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DueStatus {
    /// The next dose may be given today and is not past due.
    DueNow,
    /// The next dose is past due (on or after its past-due date).
    Overdue,
    /// The next dose may not be given yet (before its earliest date).
    NotYetDue,
    /// Every dose of the series was given.
    Complete,
    /// The patient is past the maximum age for the next dose.
    AgedOut,
    /// A contraindication stops the vaccine group.
    Contraindicated,
    /// Evidence of immunity: no dose needed.
    Immune,
    /// No series applies to the patient.
    NotRecommended,
}

impl DueStatus {
    /// The status of a series, antigen or vaccine group with its forecast,
    /// on `as_of`.
    pub fn of(status: SeriesStatus, forecast: Option<&ForecastDates>, as_of: NaiveDate) -> Self {
        match status {
            SeriesStatus::NotComplete => match forecast {
                Some(f) if f.past_due.is_some_and(|p| as_of >= p) => DueStatus::Overdue,
                Some(f) if as_of >= f.earliest => DueStatus::DueNow,
                Some(_) => DueStatus::NotYetDue,
                // Not complete without a date (no forecast could be made).
                None => DueStatus::DueNow,
            },
            SeriesStatus::Complete => DueStatus::Complete,
            SeriesStatus::Immune => DueStatus::Immune,
            SeriesStatus::AgedOut => DueStatus::AgedOut,
            SeriesStatus::Contraindicated => DueStatus::Contraindicated,
            SeriesStatus::NotRecommended => DueStatus::NotRecommended,
        }
    }

    /// The words a nurse reads (`"Due now"`, `"Not yet due"`, ...).
    pub fn label(self) -> &'static str {
        match self {
            DueStatus::DueNow => "Due now",
            DueStatus::Overdue => "Overdue",
            DueStatus::NotYetDue => "Not yet due",
            DueStatus::Complete => "Complete",
            DueStatus::AgedOut => "Aged out",
            DueStatus::Contraindicated => "Contraindicated",
            DueStatus::Immune => "Immune",
            DueStatus::NotRecommended => "Not recommended",
        }
    }

    /// Does the patient need a dose of the group (now or later)?
    pub fn needs_dose(self) -> bool {
        matches!(
            self,
            DueStatus::DueNow | DueStatus::Overdue | DueStatus::NotYetDue
        )
    }
}

impl std::fmt::Display for DueStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl VaccineGroupForecast {
    /// The group's status at a glance on `as_of` (see [`DueStatus`]).
    pub fn due_status(&self, as_of: NaiveDate) -> DueStatus {
        DueStatus::of(self.status, self.forecast.as_ref(), as_of)
    }
}

/// Whether a vaccine group belongs among those a front end lists for a patient, and
/// if not, why ([`relevance`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Relevance {
    /// Listed: the patient has a dose of the group, or a series applies now or within
    /// the patient's schedule.
    Listed,
    /// No series applies (travel and risk vaccines without an indication on record).
    NotRecommended,
    /// Only series that ACIP recommends by shared clinical decision-making apply (a
    /// standard series group with no default series, e.g. MenB at 16-23 years), and the
    /// patient has no dose of it: not routine, so not listed until one is given.
    SharedDecision,
    /// Not yet due, and the next dose's earliest date falls on or after the patient's
    /// 19th birthday while the patient is younger: the vaccine is on the adult schedule
    /// (Zoster at 50 years for an infant), not the child and adolescent one.
    AdultSchedule,
}

impl Relevance {
    /// Why a group is not listed, in words (`"on the adult schedule"`); `"listed"` for
    /// a listed group.
    pub fn label(self) -> &'static str {
        match self {
            Relevance::Listed => "listed",
            Relevance::NotRecommended => "not recommended",
            Relevance::SharedDecision => "by shared clinical decision-making only",
            Relevance::AdultSchedule => "on the adult schedule",
        }
    }
}

/// The age at which the CDC's adult immunization schedule takes over from the child
/// and adolescent schedule (birth through 18 years).
const ADULT_SCHEDULE_AGE_MONTHS: i32 = 19 * 12;

/// Whether `group` is listed for a patient born on `birth_date` (see [`Relevance`]),
/// decided from the engine's result and the supporting data's series (no vaccine is
/// named here): web, CLI and HL7 answers list the same groups.
pub fn relevance(
    data: &SupportingData,
    result: &ForecastResult,
    group: &VaccineGroupForecast,
    birth_date: NaiveDate,
) -> Relevance {
    if group.status == SeriesStatus::NotRecommended {
        return Relevance::NotRecommended;
    }
    let has_dose = result
        .antigens
        .iter()
        .filter(|a| group.antigens.contains(&a.antigen))
        .any(|a| a.series.iter().any(|s| !s.doses.is_empty()));
    if has_dose {
        return Relevance::Listed;
    }
    // A standard series group none of whose series is a default series (CDSi 8.x: the
    // default series is the one a patient without history starts) is recommended
    // only by shared decision.
    let shared_decision = |series_group: &str| {
        group.antigens.iter().all(|antigen| {
            data.antigen_id(antigen).is_none_or(|id| {
                let series = data.antigen(id).series.iter();
                let mut in_group = series.filter(|s| *s.series_group == *series_group);
                in_group.all(|s| s.series_type == SeriesType::Standard && !s.default_series)
            })
        })
    };
    let in_play: Vec<&str> = group
        .series_groups
        .iter()
        .filter(|g| g.status != SeriesStatus::NotRecommended)
        .map(|g| &*g.series_group)
        .collect();
    if !in_play.is_empty() && in_play.iter().all(|g| shared_decision(g)) {
        return Relevance::SharedDecision;
    }
    let adult = crate::dates::add_months(birth_date, ADULT_SCHEDULE_AGE_MONTHS);
    match &group.forecast {
        Some(f)
            if group.status == SeriesStatus::NotComplete
                && result.assessment_date < adult
                && f.earliest >= adult =>
        {
            Relevance::AdultSchedule
        }
        _ => Relevance::Listed,
    }
}

/// The vaccine groups listed for a patient born on `birth_date`, in the result's order
/// (those whose [`relevance`] is [`Relevance::Listed`]).
pub fn listed_groups<'r>(
    data: &'r SupportingData,
    result: &'r ForecastResult,
    birth_date: NaiveDate,
) -> impl Iterator<Item = &'r VaccineGroupForecast> + 'r {
    result
        .vaccine_groups
        .iter()
        .filter(move |g| relevance(data, result, g, birth_date) == Relevance::Listed)
}

/// Why one dose of a vaccine group does not count, or is extra, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DoseNote {
    /// Index into the patient's doses.
    pub dose_index: usize,
    /// Position (1-based) of the dose among the group's doses, by date.
    pub ordinal: usize,
    /// The dose's status for the group.
    pub status: EvaluationStatus,
    /// E.g. `"dose 3 given before 24 weeks of age: a 4th dose is needed"`.
    pub text: String,
    /// The CDSi evaluation reason the words quote (`None` when the evaluation gave
    /// none, e.g. a plain extra dose).
    pub reason: Option<EvaluationReason>,
    /// Whether the note says why the group's next dose is needed (it ends "a 4th dose
    /// is needed"): the reason behind the forecast, not only behind this dose.
    pub next_dose: bool,
}

/// A note for every dose of `group` (CDSi vaccine group name) that is not
/// valid, sub-standard or extraneous for the group, and for every valid dose
/// that made the antigen leave its default series for one needing more doses
/// (HepB dose 3 before 24 weeks), in date order. `data` is the supporting data the result was computed
/// with (it holds the ages and intervals the words quote).
pub fn dose_notes(data: &SupportingData, result: &ForecastResult, group: &str) -> Vec<DoseNote> {
    let Some(g) = result.vaccine_group(group) else {
        return Vec::new();
    };
    let members = || {
        result
            .antigens
            .iter()
            .filter(|a| g.antigens.contains(&a.antigen))
    };
    // The group's doses, by date: every dose its antigens' selected series
    // evaluated.
    let mut doses: Vec<(NaiveDate, usize)> = members()
        .filter_map(|a| a.best())
        .flat_map(|s| s.doses.iter().map(|d| (d.date, d.dose_index)))
        .collect();
    doses.sort_unstable();
    doses.dedup();
    let needs_dose = g.status == SeriesStatus::NotComplete;
    let data_series = |antigen: &str, name: &str| {
        let id = data.antigen_id(antigen)?;
        data.antigen(id).series.iter().find(|s| s.name == name)
    };
    let mut notes = Vec::new();
    for (pos, &(_, index)) in doses.iter().enumerate() {
        let Some(status) = result.group_dose_status(group, index) else {
            continue;
        };
        let source = if status == EvaluationStatus::Valid {
            // A dose the selected series counts although its series group's
            // default series does not, which is why that series was chosen
            // and why it needs more doses (HepB dose 3 before 24 weeks counts
            // in the 4-dose series, which then needs a 4th dose).
            members().find_map(|a| {
                let best = a.best().filter(|b| b.status == SeriesStatus::NotComplete)?;
                let default = a.series.iter().find(|s| {
                    s.series_group == best.series_group
                        && s.name != best.name
                        && data_series(&a.antigen, &s.name).is_some_and(|d| d.default_series)
                })?;
                let e = evaluation_in(default, index)
                    .filter(|e| e.status == EvaluationStatus::NotValid)?;
                Some((a, default, e))
            })
        } else {
            // The antigen whose evaluation gives the group its status, its
            // selected series and the dose's evaluation there.
            members().find_map(|a| {
                if a.dose_status(index) != Some(status) {
                    return None;
                }
                let s = a.best()?;
                Some((a, s, evaluation_in(s, index)?))
            })
        };
        let Some((antigen, series, eval)) = source else {
            continue;
        };
        let target = eval.evaluated_against.and_then(|n| {
            data_series(&antigen.antigen, &series.name)?
                .doses
                .iter()
                .find(|d| d.number == n)
        });
        let ordinal = pos + 1;
        let (what, reason) = reason_words(ordinal, eval, target);
        let last = pos + 1 == doses.len();
        let next_dose = last
            && needs_dose
            && matches!(
                status,
                EvaluationStatus::Valid
                    | EvaluationStatus::NotValid
                    | EvaluationStatus::SubStandard
            );
        let consequence = match status {
            _ if next_dose => format!("a {} dose is needed", nth(doses.len() + 1)),
            EvaluationStatus::Valid => "the series needs an extra dose".to_string(),
            EvaluationStatus::NotValid | EvaluationStatus::SubStandard => {
                "it does not count and must be repeated".to_string()
            }
            EvaluationStatus::Extraneous => {
                "it does not count and need not be repeated".to_string()
            }
        };
        notes.push(DoseNote {
            dose_index: index,
            ordinal,
            status,
            text: format!("{what}: {consequence}"),
            reason,
            next_dose,
        });
    }
    notes
}

/// The evaluation of dose `index` in a series.
fn evaluation_in(series: &PatientSeries, index: usize) -> Option<&DoseEvaluation> {
    series.doses.iter().find(|d| d.dose_index == index)
}

/// What happened to dose number `ordinal`, in words, and the evaluation reason they say.
fn reason_words(
    ordinal: usize,
    eval: &DoseEvaluation,
    target: Option<&SeriesDose>,
) -> (String, Option<EvaluationReason>) {
    let dose = format!("dose {ordinal}");
    let age = target.and_then(|t| crate::evaluate::age_rule(t, eval.date));
    for reason in eval.reasons.iter() {
        let text = match reason {
            EvaluationReason::TooYoung => match age.and_then(|a| a.min.or(a.abs_min)) {
                Some(min) => format!("{dose} given before {} of age", human(min)),
                None => format!("{dose} given too young"),
            },
            EvaluationReason::TooOld => match age.and_then(|a| a.max) {
                Some(max) => format!("{dose} given at or after {} of age", human(max)),
                None => format!("{dose} given too old"),
            },
            EvaluationReason::IntervalTooSoon => {
                let rule = target.and_then(|t| {
                    t.intervals.iter().find(|r| {
                        r.min.or(r.abs_min).is_some()
                            && crate::evaluate::interval_in_force(r, eval.date)
                    })
                });
                match rule.and_then(|r| r.min.or(r.abs_min).map(|m| (m, &r.from))) {
                    Some((min, from)) => {
                        format!(
                            "{dose} given less than {} after {}",
                            human(min),
                            from_words(from)
                        )
                    }
                    None => format!("{dose} given too soon after the previous dose"),
                }
            }
            EvaluationReason::LiveVirusConflict => {
                format!("{dose} given too soon after another live vaccine")
            }
            EvaluationReason::Inadvertent => {
                format!("{dose} (CVX {}) is not a vaccine for this series", eval.cvx)
            }
            EvaluationReason::NotPreferableOrAllowable => {
                format!(
                    "{dose} (CVX {}) is not a vaccine this dose accepts at that age",
                    eval.cvx
                )
            }
            EvaluationReason::SeriesComplete => {
                format!("{dose} given after the series was complete")
            }
            EvaluationReason::ExpiredLot => format!("{dose} given from an expired lot"),
            EvaluationReason::SubPotent => format!("{dose} recorded as sub-potent or recalled"),
            // Reasons that do not make a dose fail.
            EvaluationReason::AgeGracePeriod
            | EvaluationReason::IntervalGracePeriod
            | EvaluationReason::AllowableInterval
            | EvaluationReason::AllowableVaccine => continue,
        };
        return (text, Some(*reason));
    }
    let text = match eval.status {
        EvaluationStatus::Extraneous => format!("{dose} is an extra dose"),
        EvaluationStatus::SubStandard => format!("{dose} is sub-standard"),
        _ => format!("{dose} does not count"),
    };
    (text, None)
}

/// What an interval is measured from, in words.
fn from_words(from: &IntervalFrom) -> String {
    match from {
        IntervalFrom::Previous => "the previous dose".to_string(),
        IntervalFrom::TargetDose(n) => format!("dose {n}"),
        IntervalFrom::MostRecent(_) => "the most recent dose of that vaccine".to_string(),
        IntervalFrom::Observation(_) => "the recorded condition's date".to_string(),
    }
}

/// A CDSi duration as people say it: `24 weeks`, `4 years`, `12 months`,
/// `1 year - 4 days`.
pub fn human(d: CdsiDuration) -> String {
    fn unit(n: i32, one: &str) -> String {
        if n.abs() == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {one}s")
        }
    }
    let months = match d.months {
        0 => None,
        m if m % 12 == 0 => Some(unit(m / 12, "year")),
        m => Some(unit(m, "month")),
    };
    let days = match d.days {
        0 => None,
        n if n % 7 == 0 => Some(unit(n.abs() / 7, "week")),
        n => Some(unit(n.abs(), "day")),
    };
    match (months, days) {
        (Some(m), None) => m,
        (None, Some(w)) if d.days > 0 => w,
        (None, Some(w)) => format!("-{w}"),
        (Some(m), Some(w)) => format!("{m} {} {w}", if d.days < 0 { "-" } else { "+" }),
        (None, None) => "birth".to_string(),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, `21st`.
fn nth(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let p = |t: &str| human(CdsiDuration::parse(t).expect("a CDSi duration"));
        assert_eq!(p("24 weeks"), "24 weeks");
        assert_eq!(p("4 weeks"), "4 weeks");
        assert_eq!(p("1 week"), "1 week");
        assert_eq!(p("12 months"), "1 year");
        assert_eq!(p("15 months"), "15 months");
        assert_eq!(p("4 years"), "4 years");
        assert_eq!(p("1 year - 4 days"), "1 year - 4 days");
        assert_eq!(p("6 months + 1 day"), "6 months + 1 day");
        assert_eq!(p("0 days"), "birth");
    }

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22].map(nth).to_vec();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
        );
    }

    /// The groups listed for a patient with no doses on `as_of`.
    fn listed(dob: &str, as_of: &str) -> Vec<String> {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let engine = crate::Engine::bundled().expect("bundled supporting data");
        let patient = crate::Patient::new(d(dob), crate::Sex::Female);
        let result = engine.forecast(&patient, d(as_of));
        listed_groups(engine.supporting_data(), &result, d(dob))
            .map(|g| g.vaccine_group.to_string())
            .collect()
    }

    #[test]
    fn a_healthy_infant_is_listed_the_childhood_groups_only() {
        let groups = listed("2026-09-01", "2026-11-25");
        for routine in [
            "HepB",
            "DTaP/Tdap/Td",
            "Hib",
            "Pneumococcal",
            "Polio",
            "Rotavirus",
            "MMR",
            "Varicella",
            "HepA",
            "Influenza",
            "COVID-19",
            "HPV",
            "Meningococcal",
        ] {
            assert!(groups.iter().any(|g| g == routine), "{routine}: {groups:?}");
        }
        for not_listed in [
            "Zoster",
            "Meningococcal B",
            "Yellow Fever",
            "Typhoid",
            "Rabies",
            "Japanese Encephalitis",
            "Cholera",
            "Dengue",
        ] {
            assert!(
                !groups.iter().any(|g| g == not_listed),
                "{not_listed}: {groups:?}"
            );
        }
    }

    #[test]
    fn an_adult_of_fifty_five_is_listed_zoster_but_not_menb() {
        let groups = listed("1971-03-01", "2026-11-25");
        assert!(groups.iter().any(|g| g == "Zoster"), "{groups:?}");
        assert!(!groups.iter().any(|g| g == "Meningococcal B"), "{groups:?}");
        // Seventeen: Zoster is still on the adult schedule.
        let teen = listed("2009-06-01", "2026-11-25");
        assert!(!teen.iter().any(|g| g == "Zoster"), "{teen:?}");
    }

    #[test]
    fn due_status_follows_the_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let f = ForecastDates {
            dose_number: 2,
            earliest: d("2025-03-01"),
            recommended: d("2025-04-01"),
            past_due: Some(d("2025-05-01")),
            latest: None,
            vaccines: Default::default(),
        };
        let at = |day: &str| DueStatus::of(SeriesStatus::NotComplete, Some(&f), d(day));
        assert_eq!(at("2025-02-28"), DueStatus::NotYetDue);
        assert_eq!(at("2025-03-01"), DueStatus::DueNow);
        assert_eq!(at("2025-04-30"), DueStatus::DueNow);
        assert_eq!(at("2025-05-01"), DueStatus::Overdue);
        assert_eq!(
            DueStatus::of(SeriesStatus::AgedOut, None, d("2025-01-01")).label(),
            "Aged out"
        );
        assert!(!DueStatus::Complete.needs_dose());
        assert!(DueStatus::NotYetDue.needs_dose());
    }
}
