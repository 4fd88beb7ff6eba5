//! Reports the state sends to every practice on a schedule: the monthly compliancy list
//! (children who turn 8 or 20 months that month, each with whether they will be up to
//! date on that day and what is missing) and the yearly two-year-old clean-up (each
//! practice's children 24–35 months old not up to date). Pure: the store streams the
//! children, this groups the rows by the child's home clinic.

use super::compliancy::at_milestone;
use super::coverage::{self, Context, Series};
use super::run::Chunk;
use super::{defaults, home_clinic, Cohort};
use crate::error::{CoreError, Result};
use crate::ids::{ClinicPin, PatientId};
use chrono::{Datelike, Months, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which scheduled report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DistributionKind {
    /// Monthly: children turning 8 or 20 months in the month.
    Compliancy,
    /// Yearly ("Goldenrod"): two-year-olds not up to date.
    Cleanup,
}

impl DistributionKind {
    pub fn key(self) -> &'static str {
        match self {
            DistributionKind::Compliancy => "compliancy",
            DistributionKind::Cleanup => "cleanup",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DistributionKind::Compliancy => "Monthly compliancy (8 and 20 months)",
            DistributionKind::Cleanup => "Yearly two-year-old clean-up",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "compliancy" => Ok(DistributionKind::Compliancy),
            "cleanup" => Ok(DistributionKind::Cleanup),
            _ => Err(CoreError::invalid(
                "distribution kind",
                s,
                "compliancy or cleanup",
            )),
        }
    }
}

/// One distribution period: a month (compliancy) or a year (clean-up), with the day the
/// children are assessed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: DistributionKind,
    /// "2026-12" or "2026".
    pub key: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Clean-up: the day the two-year-olds are assessed (the run day within the year,
    /// else its last day). Compliancy: each child on their own milestone day.
    pub as_of: NaiveDate,
}

impl Period {
    /// The period named `key` ("YYYY-MM" for compliancy, "YYYY" for clean-up), as run on
    /// `today`. A period that has not begun is refused: its children are not known yet.
    pub fn parse(kind: DistributionKind, key: &str, today: NaiveDate) -> Result<Period> {
        let key = key.trim();
        let (first, last) = match kind {
            DistributionKind::Compliancy => {
                let first = NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
                    .ok()
                    .filter(|_| key.len() == 7)
                    .ok_or_else(|| CoreError::invalid("month", key, "YYYY-MM, e.g. 2026-12"))?;
                let last = first + Months::new(1) - chrono::Days::new(1);
                (first, last)
            }
            DistributionKind::Cleanup => {
                let year: i32 = key
                    .parse()
                    .ok()
                    .filter(|y| (1900..=9999).contains(y) && key.len() == 4)
                    .ok_or_else(|| CoreError::invalid("year", key, "YYYY, e.g. 2026"))?;
                let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year");
                (
                    first,
                    NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year"),
                )
            }
        };
        if first > today {
            return Err(CoreError::Rule(format!(
                "the {} of {key} has not begun on {today}",
                kind.label()
            )));
        }
        Ok(Period {
            kind,
            key: key.to_string(),
            first,
            last,
            as_of: today.min(last),
        })
    }

    /// The period a scheduled run on `today` distributes: this month's compliancy, this
    /// year's clean-up.
    pub fn current(kind: DistributionKind, today: NaiveDate) -> Period {
        let key = match kind {
            DistributionKind::Compliancy => format!("{:04}-{:02}", today.year(), today.month()),
            DistributionKind::Cleanup => format!("{:04}", today.year()),
        };
        Period::parse(kind, &key, today).expect("the current period has begun")
    }

    /// Birth dates of the children the period can list (for the store's index).
    pub fn born(&self) -> (NaiveDate, NaiveDate) {
        self.cohort().dob_range()
    }

    fn cohort(&self) -> Cohort {
        let (lo, hi) = match self.kind {
            DistributionKind::Compliancy => {
                let ms = defaults::COMPLIANCY_MILESTONES;
                (
                    *ms.iter().min().expect("milestones"),
                    *ms.iter().max().expect("milestones"),
                )
            }
            DistributionKind::Cleanup => defaults::CLEANUP_AGES,
        };
        let as_of = match self.kind {
            DistributionKind::Compliancy => self.last,
            DistributionKind::Cleanup => self.as_of,
        };
        Cohort {
            as_of,
            min_age_months: lo,
            max_age_months: hi,
            clinics: None,
            within: None,
            places: None,
        }
    }
}

/// One child on a distributed list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributedChild {
    pub patient: Option<PatientId>,
    pub name: String,
    pub dob: NaiveDate,
    /// Compliancy: the milestone (8 or 20 months) and the day it is reached.
    pub milestone_months: Option<u32>,
    pub milestone_day: Option<NaiveDate>,
    pub up_to_date: bool,
    /// What is missing or invalid (vaccine groups past due, or clean-up measures not met).
    pub missing: Vec<String>,
    /// What is not asked, with the reason (immunity, contraindication, exemption).
    pub not_due: Vec<String>,
}

/// The rows of one child for `period` (none when the child is not on the list).
pub fn rows_of(
    ctx: &Context<'_>,
    period: &Period,
    (p, doses, obs): &(
        crate::patient::Patient,
        Vec<crate::dose::Dose>,
        Vec<crate::dose::Observation>,
    ),
) -> Vec<DistributedChild> {
    if !period.cohort().includes(p) {
        return Vec::new();
    }
    match period.kind {
        DistributionKind::Compliancy => defaults::COMPLIANCY_MILESTONES
            .iter()
            .filter_map(|&m| {
                let day = p.dob.checked_add_months(Months::new(m))?;
                if day < period.first || day > period.last {
                    return None;
                }
                // Doses known now, judged on the milestone day: what the practice must
                // still give (or record) for the child to be up to date on that day.
                let r = at_milestone(ctx, p, doses, obs, m, day)?;
                Some(DistributedChild {
                    patient: p.id,
                    name: r.child.name,
                    dob: p.dob,
                    milestone_months: Some(m),
                    milestone_day: Some(day),
                    up_to_date: r.up_to_date,
                    missing: r.past_due,
                    not_due: r.not_due,
                })
            })
            .collect(),
        DistributionKind::Cleanup => {
            let a = coverage::assess(ctx, Series::Childhood, p, doses, obs, period.as_of);
            if a.up_to_date {
                return Vec::new();
            }
            vec![DistributedChild {
                patient: p.id,
                name: a.child.name,
                dob: p.dob,
                milestone_months: None,
                milestone_day: None,
                up_to_date: false,
                missing: a.missing.iter().map(|m| m.to_string()).collect(),
                not_due: a.not_due,
            }]
        }
    }
}

/// Every practice's list for `period`: home clinic → its children, by name and birth
/// date. Children without a home clinic go to no practice.
pub fn lists<E>(
    ctx: &Context<'_>,
    period: &Period,
    stream: impl FnOnce(&mut dyn FnMut(Chunk)) -> std::result::Result<(), E>,
) -> std::result::Result<BTreeMap<ClinicPin, Vec<DistributedChild>>, E> {
    let mut out: BTreeMap<ClinicPin, Vec<DistributedChild>> = BTreeMap::new();
    stream(&mut |chunk| {
        let rows: Vec<(ClinicPin, DistributedChild)> = chunk
            .par_iter()
            .flat_map_iter(|rec| {
                let clinic = home_clinic(&rec.0).cloned();
                rows_of(ctx, period, rec)
                    .into_iter()
                    .filter_map(move |r| Some((clinic.clone()?, r)))
            })
            .collect();
        for (c, r) in rows {
            out.entry(c).or_default().push(r);
        }
    })?;
    for rows in out.values_mut() {
        rows.sort_by(|a, b| {
            (&a.name, a.dob, a.milestone_months).cmp(&(&b.name, b.dob, b.milestone_months))
        });
    }
    Ok(out)
}

/// The list as CSV (for the practice's download), through the one CSV writer (which
/// neutralises cells a spreadsheet would run as a formula).
pub fn csv(rows: &[DistributedChild]) -> String {
    crate::export::csv::to_csv(
        &[
            "patient_id",
            "name",
            "dob",
            "milestone_months",
            "milestone_day",
            "up_to_date",
            "missing",
            "not_asked",
        ],
        rows.iter().map(|r| {
            vec![
                r.patient.map(|p| p.to_string()).unwrap_or_default(),
                r.name.clone(),
                r.dob.to_string(),
                r.milestone_months
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                r.milestone_day.map(|d| d.to_string()).unwrap_or_default(),
                if r.up_to_date { "yes" } else { "no" }.to_string(),
                r.missing.join("; "),
                r.not_due.join("; "),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods() {
        let today = d("2026-12-02");
        let p = Period::parse(DistributionKind::Compliancy, "2026-12", today).unwrap();
        assert_eq!((p.first, p.last), (d("2026-12-01"), d("2026-12-31")));
        assert!(Period::parse(DistributionKind::Compliancy, "2027-01", today).is_err());
        assert!(Period::parse(DistributionKind::Compliancy, "2026-13", today).is_err());
        assert!(Period::parse(DistributionKind::Compliancy, "2026-1", today).is_err());
        let y = Period::parse(DistributionKind::Cleanup, "2025", today).unwrap();
        assert_eq!(y.as_of, d("2025-12-31"));
        let y = Period::parse(DistributionKind::Cleanup, "2026", today).unwrap();
        assert_eq!(y.as_of, today);
        assert_eq!(
            Period::current(DistributionKind::Compliancy, today).key,
            "2026-12"
        );
        // The stream covers everyone who turns 8 or 20 months in the month.
        let (oldest, youngest) = p.born();
        assert!(oldest <= d("2025-04-01") && youngest >= d("2026-04-30"));
    }

    #[test]
    fn csv_quotes_names_lists_and_formulas() {
        let rows = [DistributedChild {
            patient: Some(PatientId(7)),
            name: "=DOE, \"Jo\"".into(),
            dob: d("2025-04-10"),
            milestone_months: Some(20),
            milestone_day: Some(d("2026-12-10")),
            up_to_date: false,
            missing: vec!["MMR".into(), "Varicella".into()],
            not_due: vec![],
        }];
        assert_eq!(
            csv(&rows).lines().nth(1).unwrap(),
            "7,\"'=DOE, \"\"Jo\"\"\",2025-04-10,20,2026-12-10,no,MMR; Varicella,"
        );
    }
}
