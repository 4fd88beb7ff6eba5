//! Runs an assessment over a streamed cohort: the caller's `stream` hands over chunks of
//! children (typically from `ctwiz_store::PatientStore::for_each_chunk` over the cohort's
//! birth dates); each chunk is filtered to the cohort and assessed in parallel, and the
//! partial reports are merged. CLI, web and tests share these functions.

use super::compliancy::{at_milestone, CompliancyReport};
use super::coverage::{self, Context, CoverageReport, Series};
use super::recall::{recall_entry, RecallEntry, RecallQuery};
use super::Cohort;
use crate::dose::{Dose, Observation};
use crate::patient::Patient;
use rayon::prelude::*;

/// A chunk of children with their doses and observations.
pub type Chunk = Vec<(Patient, Vec<Dose>, Vec<Observation>)>;

fn in_cohort(c: &Cohort, chunk: Chunk) -> Chunk {
    chunk
        .into_iter()
        .filter(|(p, _, _)| c.includes(p))
        .collect()
}

/// Coverage for `series` over the cohort.
pub fn coverage<E>(
    ctx: &Context<'_>,
    series: Series,
    cohort: &Cohort,
    stream: impl FnOnce(&mut dyn FnMut(Chunk)) -> Result<(), E>,
) -> Result<CoverageReport, E> {
    let mut report = CoverageReport::new(series, cohort.as_of);
    stream(&mut |chunk| {
        let part = in_cohort(cohort, chunk)
            .par_iter()
            .fold(
                || CoverageReport::new(series, cohort.as_of),
                |mut r, (p, d, o)| {
                    let at = cohort.places.as_ref().map(|_| cohort.locate(p));
                    r.add_at(coverage::assess(ctx, series, p, d, o, cohort.as_of), at);
                    r
                },
            )
            .reduce(
                || CoverageReport::new(series, cohort.as_of),
                |mut a, b| {
                    a.merge(b);
                    a
                },
            );
        report.merge(part);
    })?;
    Ok(report.finish())
}

/// Compliancy at each milestone (months) for children who reached it within the last
/// year before `cohort.as_of`.
pub fn compliancy<E>(
    ctx: &Context<'_>,
    milestones: &[u32],
    cohort: &Cohort,
    stream: impl FnOnce(&mut dyn FnMut(Chunk)) -> Result<(), E>,
) -> Result<CompliancyReport, E> {
    let new = || CompliancyReport::new(cohort.as_of, milestones.to_vec());
    let mut report = new();
    stream(&mut |chunk| {
        let part = in_cohort(cohort, chunk)
            .par_iter()
            .fold(new, |mut rep, (p, d, o)| {
                let age = crate::age::whole_months(p.dob, cohort.as_of);
                for &m in milestones {
                    if age >= m && age <= m + 11 {
                        if let Some(r) = at_milestone(ctx, p, d, o, m, cohort.as_of) {
                            rep.add(&r);
                        }
                    }
                }
                rep
            })
            .reduce(new, |mut a, b| {
                a.merge(b);
                a
            });
        report.merge(part);
    })?;
    Ok(report)
}

/// Everyone in the cohort due or overdue per `q`, sorted by clinic, name and birth date.
pub fn recall<E>(
    ctx: &Context<'_>,
    q: &RecallQuery,
    cohort: &Cohort,
    stream: impl FnOnce(&mut dyn FnMut(Chunk)) -> Result<(), E>,
) -> Result<Vec<RecallEntry>, E> {
    let mut out = Vec::new();
    stream(&mut |chunk| {
        let part: Vec<RecallEntry> = in_cohort(cohort, chunk)
            .par_iter()
            .filter_map(|(p, d, o)| recall_entry(ctx, p, d, o, q))
            .collect();
        out.extend(part);
    })?;
    out.sort_by(|x, y| {
        (&x.child.clinic, &x.child.name, x.child.dob).cmp(&(
            &y.child.clinic,
            &y.child.name,
            y.child.dob,
        ))
    });
    Ok(out)
}
