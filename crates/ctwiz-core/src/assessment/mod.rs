//! Population assessments built on the engine (`ctwiz-forecast`): coverage (AFIX-style),
//! compliancy at milestones, the two-year-old clean-up list and reminder/recall.
//!
//! Each is a pure function of one child's record plus an accumulator that adds children
//! up, so the store can stream a cohort of any size, callers can run children in parallel
//! (accumulators merge), and tests can assess hand-built children.

pub mod chart;
pub mod compliancy;
pub mod coverage;
pub mod distribution;
pub mod realtime;
pub mod recall;
pub mod run;

use crate::codes::CodeSets;
use crate::dose::{CompletionStatus, Dose, RefusalReason};
use crate::ids::{ClinicPin, PatientId};
use crate::org::County;
use crate::patient::{Patient, PatientStatus};
use crate::place::{Jurisdiction, Location, Places};
use chrono::{Datelike, Days, Months, NaiveDate};
use ctwiz_forecast::{ForecastResult, SeriesStatus};
use serde::Serialize;
use std::sync::Arc;

/// Default cohorts of the reports that are not per series, the same for every door.
pub mod defaults {
    /// The two-year-old clean-up list: the AFIX 2-year-olds, 24–35 months.
    pub const CLEANUP_AGES: (u32, u32) = (24, 35);
    /// Monthly compliancy milestones (months of age): up to date at 8 and 20 months.
    pub const COMPLIANCY_MILESTONES: [u32; 2] = [8, 20];
    /// Reminder/recall: children and adolescents up to 17 years 11 months.
    pub const RECALL_AGES: (u32, u32) = (0, 215);

    /// The compliancy cohort for `milestones`: children who reached the youngest milestone
    /// up to those within a year past the oldest.
    pub fn compliancy_ages(milestones: &[u32]) -> Option<(u32, u32)> {
        let lo = *milestones.iter().min()?;
        let hi = *milestones.iter().max()?;
        Some((lo, hi + 11))
    }
}

/// Who is counted: an age band on a date, optionally narrowed to clinics or jurisdictions
/// (counties, health departments).
#[derive(Debug, Clone, Serialize)]
pub struct Cohort {
    pub as_of: NaiveDate,
    /// Inclusive age band in whole months on `as_of` (e.g. 24–35 for the AFIX 2-year-olds).
    pub min_age_months: u32,
    pub max_age_months: u32,
    /// Only children whose home clinic (first MRN) is one of these.
    pub clinics: Option<Vec<ClinicPin>>,
    /// Only children living in these jurisdictions.
    pub within: Option<Vec<Jurisdiction>>,
    /// The towns table that says where a child lives (town, health department, IAP area);
    /// without it a child is placed by the county on their address only.
    #[serde(skip)]
    pub places: Option<Arc<Places>>,
}

impl Cohort {
    /// How the cohort is named on recall notices sent for it ("CT00001,CT00002",
    /// "Hartford", or "state"), the same whichever door recorded them.
    pub fn recorded_scope(&self) -> String {
        let join = |xs: Vec<String>| xs.join(",");
        match (&self.clinics, &self.within) {
            (Some(cs), _) => join(cs.iter().map(|c| c.to_string()).collect()),
            (None, Some(js)) => join(js.iter().map(|j| j.name().to_string()).collect()),
            (None, None) => "state".into(),
        }
    }

    /// Where a child lives, as far as this cohort can tell.
    pub fn locate<'a>(&'a self, p: &Patient) -> Location<'a> {
        match &self.places {
            Some(places) => places.locate(p),
            None => Location {
                county: p.county(),
                ..Location::default()
            },
        }
    }

    /// The range of birth dates the age band covers, for index-backed store queries.
    pub fn dob_range(&self) -> (NaiveDate, NaiveDate) {
        let youngest = self
            .as_of
            .checked_sub_months(Months::new(self.min_age_months))
            .unwrap_or(NaiveDate::MIN);
        let oldest = self
            .as_of
            .checked_sub_months(Months::new(self.max_age_months + 1))
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .unwrap_or(NaiveDate::MIN);
        (oldest, youngest)
    }

    /// Whether a child belongs: in the age band, active, not opted out or deceased, and
    /// in the requested clinics/counties.
    pub fn includes(&self, p: &Patient) -> bool {
        let age = crate::age::whole_months(p.dob, self.as_of);
        if p.dob > self.as_of || age < self.min_age_months || age > self.max_age_months {
            return false;
        }
        if p.status != PatientStatus::Active || p.is_opted_out() || p.deceased_date.is_some() {
            return false;
        }
        if let Some(cs) = &self.clinics {
            if !home_clinic(p).is_some_and(|h| cs.contains(h)) {
                return false;
            }
        }
        if let Some(js) = &self.within {
            let at = self.locate(p);
            if !js.iter().any(|j| j.contains(at)) {
                return false;
            }
        }
        true
    }
}

/// The clinic a child is assigned to for assessment: the first clinic that registered them.
pub fn home_clinic(p: &Patient) -> Option<&ClinicPin> {
    p.mrns.first().map(|m| &m.clinic)
}

/// A child as the reports list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildRef {
    pub id: Option<PatientId>,
    pub name: String,
    pub dob: NaiveDate,
    pub clinic: Option<ClinicPin>,
    pub county: Option<County>,
}

impl ChildRef {
    pub fn of(p: &Patient) -> ChildRef {
        ChildRef {
            id: p.id,
            name: p.name.display(),
            dob: p.dob,
            clinic: home_clinic(p).cloned(),
            county: p.county(),
        }
    }
}

/// The child's `n`th birthday (a Feb 29 birthday falls on Feb 28 in common years).
pub fn birthday(dob: NaiveDate, years: u32) -> NaiveDate {
    dob.with_year(dob.year() + years as i32)
        .or_else(|| NaiveDate::from_ymd_opt(dob.year() + years as i32, 2, 28))
        .unwrap_or(NaiveDate::MAX)
}

/// Why a vaccine group is not asked of a child: the engine found evidence of immunity
/// or a contraindication in the observations recorded by the assessment date (`r` is the
/// forecast of the child as known then), or an exemption was recorded by `day` (a refusal
/// with NIP002 reason 01, religious exemption, for a vaccine of the group). `None` when the
/// group may be asked for. Reports show the reason in the child's row instead of the group.
/// Only observations and refusals can excuse a group, so [`may_be_excused`] lets callers
/// skip the extra forecast for the (usual) child with neither.
pub fn excused(
    codes: &CodeSets,
    r: &ForecastResult,
    doses: &[Dose],
    group: &str,
    day: NaiveDate,
) -> Option<String> {
    match r.vaccine_group(group).map(|g| g.status) {
        Some(SeriesStatus::Immune) => return Some("evidence of immunity".into()),
        Some(SeriesStatus::Contraindicated) => return Some("contraindicated".into()),
        _ => {}
    }
    doses
        .iter()
        .filter(|d| {
            d.completion == CompletionStatus::Refused
                && d.refusal == Some(RefusalReason::ReligiousExemption)
                && d.date <= day
        })
        .find(|d| {
            codes
                .vaccine(&d.cvx)
                .is_some_and(|v| v.vaccine_groups.iter().any(|g| g == group))
        })
        .map(|d| format!("exempt (religious exemption, {})", d.date))
}

/// Whether anything on record could excuse a vaccine group (see [`excused`]).
pub fn may_be_excused(doses: &[Dose], observations: &[crate::dose::Observation]) -> bool {
    !observations.is_empty()
        || doses.iter().any(|d| {
            d.completion == CompletionStatus::Refused
                && d.refusal == Some(RefusalReason::ReligiousExemption)
        })
}

/// A rate as a percentage with one decimal, 0 for an empty cohort.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Hand-built children for the assessment tests.
    use crate::dose::{Dose, InformationSource};
    use crate::ids::{ClinicPin, Cvx};
    use crate::patient::{Mrn, Patient, PersonName, Sex};
    use chrono::{Days, NaiveDate};

    /// The bundled engine and the embedded code sets, for a `coverage::Context`.
    pub fn parts() -> (ctwiz_forecast::Engine, crate::codes::CodeSets) {
        (
            ctwiz_forecast::Engine::bundled().expect("bundled data"),
            crate::codes::CodeSets::embedded(),
        )
    }

    pub fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test dates are valid")
    }

    pub fn child(dob: &str) -> Patient {
        let mut p = Patient::new(
            PersonName::new("Test", "Child").unwrap(),
            date(dob),
            Sex::Female,
        )
        .unwrap();
        p.mrns
            .push(Mrn::new(ClinicPin::new("C1").unwrap(), "M1").unwrap());
        p
    }

    /// A dose of `cvx` at `days` of age.
    pub fn at(p: &Patient, days: u64, cvx: &str) -> Dose {
        Dose::new(
            Cvx::new(cvx).unwrap(),
            p.dob + Days::new(days),
            InformationSource::HistoricalUnspecified,
        )
    }

    /// The routine schedule through 18 months, on time.
    pub fn on_time(p: &Patient) -> Vec<Dose> {
        let mut v = Vec::new();
        for (days, cvxs) in [
            (0, &["08"][..]),
            (61, &["20", "10", "49", "133", "08", "116"][..]),
            (122, &["20", "10", "49", "133", "116"][..]),
            (183, &["20", "10", "133", "08", "116"][..]),
            (366, &["49", "133", "03", "21", "83"][..]),
            (458, &["20"][..]),
            (548, &["83"][..]),
        ] {
            for c in cvxs {
                v.push(at(p, days, c));
            }
        }
        v
    }
}
