//! Stored distributions of scheduled reports (rules in
//! `ctwiz_core::assessment::distribution`, use cases in `usecase::distributions`).

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::assessment::distribution::{DistributedChild, DistributionKind};
use ctwiz_core::ids::ClinicPin;

/// One practice's copy of a distributed report.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub id: i64,
    pub kind: DistributionKind,
    pub period: String,
    pub clinic: ClinicPin,
    pub created_at: NaiveDateTime,
    pub children: Vec<DistributedChild>,
    /// When someone at the practice first opened it (its task is then done).
    pub opened_at: Option<NaiveDateTime>,
}

pub trait DistributionStore {
    /// Stores the practice's copy unless one exists for that kind and period; `Some(id)`
    /// only for the call that stored it (exactly once, whatever runs at the same time).
    fn claim_distribution(
        &self,
        kind: DistributionKind,
        period: &str,
        clinic: &ClinicPin,
        children: &[DistributedChild],
        now: NaiveDateTime,
    ) -> Result<Option<i64>>;
    fn distribution(&self, id: i64) -> Result<Option<Distribution>>;
    /// The practice's distributions, newest first.
    fn distributions(&self, clinic: &ClinicPin) -> Result<Vec<Distribution>>;
    /// How many of the practice's distributions nobody opened yet (a count: the task
    /// list asks on every page that shows it).
    fn unopened_distributions(&self, clinic: &ClinicPin) -> Result<usize>;
    /// Marks it opened (the first time is kept).
    fn mark_distribution_opened(&self, id: i64, now: NaiveDateTime) -> Result<()>;
    /// Whether a run of this kind and period finished; and recording that it did.
    fn distribution_run_finished(&self, kind: DistributionKind, period: &str) -> Result<bool>;
    fn finish_distribution_run(
        &self,
        kind: DistributionKind,
        period: &str,
        now: NaiveDateTime,
    ) -> Result<()>;
}

/// The practice's printable copy of `d`.
pub fn pdf(d: &Distribution) -> std::result::Result<Vec<u8>, crate::certificate::pdf::PdfError> {
    let compliancy = d.kind == DistributionKind::Compliancy;
    let behind = d.children.iter().filter(|c| !c.up_to_date).count();
    let header = vec![
        format!(
            "{} child(ren) for practice {}, sent {}; {behind} not up to date.",
            d.children.len(),
            d.clinic,
            d.created_at.date()
        ),
        "Connecticut Department of Public Health, Immunization Program. Confidential: patient information.".into(),
    ];
    let rows: Vec<Vec<String>> = d
        .children
        .iter()
        .map(|c| {
            let mut r = vec![
                c.patient.map(|p| p.to_string()).unwrap_or_default(),
                c.name.clone(),
                c.dob.to_string(),
            ];
            if compliancy {
                r.push(match (c.milestone_months, c.milestone_day) {
                    (Some(m), Some(day)) => format!("{m} months on {day}"),
                    _ => String::new(),
                });
            }
            r.push(if c.up_to_date { "yes" } else { "no" }.into());
            r.push(c.missing.join(", "));
            r
        })
        .collect();
    let (heads, widths): (Vec<&'static str>, Vec<f32>) = if compliancy {
        (
            vec!["ID", "Child", "Born", "Milestone", "Up to date", "Missing"],
            vec![0.7, 2.2, 1.2, 1.8, 0.9, 3.2],
        )
    } else {
        (
            vec!["ID", "Child", "Born", "Up to date", "Missing"],
            vec![0.7, 2.4, 1.2, 0.9, 4.8],
        )
    };
    crate::certificate::pdf::render_list(
        &format!("{} – {}", d.kind.label(), d.period),
        &header,
        &heads,
        &widths,
        &rows,
    )
}
