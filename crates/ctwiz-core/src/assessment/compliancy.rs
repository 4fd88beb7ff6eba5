//! Compliancy at age milestones (8 and 20 months): the share of children who were up to
//! date on the day they reached the milestone.
//!
//! "Up to date" follows the engine: on that day, no routine vaccine group was past due
//! (its next dose's past-due date not yet reached, or the series complete/immune). A
//! group the child was immune to, contraindicated for or exempt from by that day is not
//! asked; the reason is kept in the child's result (`not_due`).

use super::coverage::Context;
use super::{excused, may_be_excused, percent, ChildRef};
use crate::dose::{Dose, Observation};
use crate::patient::Patient;
use chrono::{Months, NaiveDate};
use ctwiz_forecast::SeriesStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// Routine vaccine groups checked at each milestone.
pub fn groups_at(months: u32) -> &'static [&'static str] {
    if months < 12 {
        &[
            "DTaP/Tdap/Td",
            "Polio",
            "HepB",
            "Hib",
            "Pneumococcal",
            "Rotavirus",
        ]
    } else {
        &[
            "DTaP/Tdap/Td",
            "Polio",
            "HepB",
            "Hib",
            "Pneumococcal",
            "MMR",
            "Varicella",
        ]
    }
}

/// One child at one milestone.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneResult {
    pub child: ChildRef,
    pub milestone_months: u32,
    pub reached_on: NaiveDate,
    pub up_to_date: bool,
    /// Vaccine groups past due on that day.
    pub past_due: Vec<String>,
    /// Routine groups not asked, with the reason ("MMR: contraindicated").
    pub not_due: Vec<String>,
}

/// Whether the child was up to date on the day they turned `months` old; `None` if they
/// haven't reached it by `as_of`.
pub fn at_milestone(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    months: u32,
    as_of: NaiveDate,
) -> Option<MilestoneResult> {
    let day = p.dob.checked_add_months(Months::new(months))?;
    if day > as_of {
        return None;
    }
    let known = crate::forecast_input::patient_before(p, doses, observations, day);
    let r = ctx.engine.forecast(&known, day);
    let check = may_be_excused(doses, observations);
    let why = |g: &str| {
        check
            .then(|| excused(ctx.codes, &r, doses, g, day))
            .flatten()
    };
    let not_due: Vec<String> = groups_at(months)
        .iter()
        .filter_map(|g| why(g).map(|w| format!("{g}: {w}")))
        .collect();
    let past_due: Vec<String> = groups_at(months)
        .iter()
        .filter(|g| why(g).is_none())
        .filter(|g| {
            r.vaccine_group(g).is_some_and(|vg| {
                vg.status == SeriesStatus::NotComplete
                    && vg
                        .forecast
                        .as_ref()
                        .and_then(|f| f.past_due)
                        .is_some_and(|pd| pd <= day)
            })
        })
        .map(|g| g.to_string())
        .collect();
    Some(MilestoneResult {
        child: ChildRef::of(p),
        milestone_months: months,
        reached_on: day,
        up_to_date: past_due.is_empty(),
        past_due,
        not_due,
    })
}

/// Per-clinic compliancy counts at one milestone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MilestoneCounts {
    pub children: u64,
    pub up_to_date: u64,
}

impl MilestoneCounts {
    pub fn rate(&self) -> f64 {
        percent(self.up_to_date, self.children)
    }
}

/// Compliancy by clinic at several milestones.
#[derive(Debug, Clone, Serialize)]
pub struct CompliancyReport {
    pub as_of: NaiveDate,
    pub milestones: Vec<u32>,
    /// clinic → milestone → counts.
    pub by_clinic: BTreeMap<String, BTreeMap<u32, MilestoneCounts>>,
    pub total: BTreeMap<u32, MilestoneCounts>,
}

impl CompliancyReport {
    pub fn new(as_of: NaiveDate, milestones: Vec<u32>) -> Self {
        CompliancyReport {
            as_of,
            milestones,
            by_clinic: BTreeMap::new(),
            total: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, r: &MilestoneResult) {
        let clinic = r
            .child
            .clinic
            .as_ref()
            .map_or("(none)".to_string(), |c| c.to_string());
        for target in [self.by_clinic.entry(clinic).or_default(), &mut self.total] {
            let c = target.entry(r.milestone_months).or_default();
            c.children += 1;
            c.up_to_date += r.up_to_date as u64;
        }
    }

    pub fn merge(&mut self, o: CompliancyReport) {
        for (clinic, ms) in o.by_clinic {
            let mine = self.by_clinic.entry(clinic).or_default();
            for (m, c) in ms {
                let x = mine.entry(m).or_default();
                x.children += c.children;
                x.up_to_date += c.up_to_date;
            }
        }
        for (m, c) in o.total {
            let x = self.total.entry(m).or_default();
            x.children += c.children;
            x.up_to_date += c.up_to_date;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn on_time_child_is_compliant_at_8_and_20_months() {
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        for m in [8, 20] {
            let r = at_milestone(&ctx, &p, &on_time(&p), &[], m, date("2025-06-01")).unwrap();
            assert!(r.up_to_date, "{m} months: {:?}", r.past_due);
        }
    }

    #[test]
    fn unvaccinated_child_is_past_due_and_unreached_milestones_are_skipped() {
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let r = at_milestone(&ctx, &p, &[], &[], 8, date("2025-06-01")).unwrap();
        assert!(!r.up_to_date);
        assert!(
            r.past_due.contains(&"DTaP/Tdap/Td".to_string()),
            "{:?}",
            r.past_due
        );
        assert!(at_milestone(&ctx, &p, &[], &[], 20, date("2024-06-01")).is_none());
        let mut rep = CompliancyReport::new(date("2025-06-01"), vec![8]);
        rep.add(&r);
        assert_eq!(rep.total[&8].rate(), 0.0);
    }

    /// A contraindication recorded before the milestone takes MMR off the past-due list
    /// (this one, family history of altered immunocompetence, is to every live vaccine).
    #[test]
    fn contraindicated_group_is_not_past_due() {
        use crate::dose::{Observation, ObservationKind};
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let doses: Vec<_> = on_time(&p)
            .into_iter()
            .filter(|d| d.cvx.as_str() != "03")
            .collect();
        let r = at_milestone(&ctx, &p, &doses, &[], 20, date("2025-06-01")).unwrap();
        assert_eq!(r.past_due, vec!["MMR"]);
        let contra = Observation::new(
            ObservationKind::Contraindication,
            "012",
            "Family history of altered immunocompetence",
            date("2023-06-01"),
        )
        .unwrap();
        let r = at_milestone(&ctx, &p, &doses, &[contra], 20, date("2025-06-01")).unwrap();
        assert!(r.up_to_date, "{r:?}");
        assert_eq!(
            r.not_due,
            vec!["MMR: contraindicated", "Varicella: contraindicated"]
        );
    }
}
