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

/// The dates of a coverage trend: `count` points `step` months apart, ending on
/// `cohort.as_of`, oldest first.
pub fn trend_dates(cohort: &Cohort, count: u32, step: u32) -> Option<Vec<chrono::NaiveDate>> {
    (0..count)
        .rev()
        .map(|k| {
            cohort
                .as_of
                .checked_sub_months(chrono::Months::new(k * step))
        })
        .collect()
}

/// The birth dates a trend over `dates` covers (stream these once for [`coverage_trend`]).
pub fn trend_dob_range(
    cohort: &Cohort,
    dates: &[chrono::NaiveDate],
) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let at = |d: chrono::NaiveDate| {
        Cohort {
            as_of: d,
            ..cohort.clone()
        }
        .dob_range()
    };
    let first = dates
        .first()
        .map(|d| at(*d))
        .unwrap_or_else(|| cohort.dob_range());
    let last = dates
        .last()
        .map(|d| at(*d))
        .unwrap_or_else(|| cohort.dob_range());
    (first.0.min(last.0), first.1.max(last.1))
}

/// Coverage for `series` on each of `dates` (the cohort's age band on each date), in one
/// pass over the children: each child is assessed on the dates they are in the band,
/// with the doses recorded by then — "were rates falling?" from one read of the store.
pub fn coverage_trend<E>(
    ctx: &Context<'_>,
    series: Series,
    cohort: &Cohort,
    dates: &[chrono::NaiveDate],
    stream: impl FnOnce(&mut dyn FnMut(Chunk)) -> Result<(), E>,
) -> Result<Vec<(chrono::NaiveDate, CoverageReport)>, E> {
    let cohorts: Vec<Cohort> = dates
        .iter()
        .map(|d| Cohort {
            as_of: *d,
            ..cohort.clone()
        })
        .collect();
    let new = || -> Vec<CoverageReport> {
        dates
            .iter()
            .map(|d| CoverageReport::new(series, *d))
            .collect()
    };
    let mut reports = new();
    let merge = |mut a: Vec<CoverageReport>, b: Vec<CoverageReport>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
        a
    };
    stream(&mut |chunk| {
        let part = chunk
            .par_iter()
            .fold(new, |mut rs, (p, d, o)| {
                for (c, r) in cohorts.iter().zip(rs.iter_mut()) {
                    if c.includes(p) {
                        let at = c.places.as_ref().map(|_| c.locate(p));
                        r.add_at(coverage::assess(ctx, series, p, d, o, c.as_of), at);
                    }
                }
                rs
            })
            .reduce(new, merge);
        reports = merge(std::mem::take(&mut reports), part);
    })?;
    Ok(dates
        .iter()
        .copied()
        .zip(reports.into_iter().map(CoverageReport::finish))
        .collect())
}

/// A trend as a table: `as_of, cohort` and each measure's rate (one decimal) per date, as
/// every door prints and downloads it.
pub fn trend_table(
    points: &[(chrono::NaiveDate, CoverageReport)],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let measures = points
        .first()
        .map(|(_, r)| r.series.measures())
        .unwrap_or(&[]);
    let mut header = vec!["as_of", "cohort"];
    header.extend(measures.iter().map(|m| m.label()));
    let rows = points
        .iter()
        .map(|(d, r)| {
            let mut row = vec![d.to_string(), r.total.children.to_string()];
            row.extend(measures.iter().map(|m| format!("{:.1}", r.total.rate(*m))));
            row
        })
        .collect();
    (header, rows)
}

/// A trend as a line chart: one line per measure, each date labelled by `date_format`.
pub fn trend_chart(
    title: &str,
    points: &[(chrono::NaiveDate, CoverageReport)],
    date_format: &str,
) -> String {
    let measures = points
        .first()
        .map(|(_, r)| r.series.measures())
        .unwrap_or(&[]);
    let labels: Vec<String> = points
        .iter()
        .map(|(d, _)| d.format(date_format).to_string())
        .collect();
    let lines: Vec<(String, Vec<f64>)> = measures
        .iter()
        .map(|m| {
            (
                m.label().to_string(),
                points.iter().map(|(_, r)| r.total.rate(*m)).collect(),
            )
        })
        .collect();
    super::chart::percent_lines(title, &labels, &lines)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::testkit::{date, parts};
    use crate::synth::{child, SynthConfig};

    /// One pass over the children gives, on every date, exactly what a coverage run on
    /// that date alone gives (totals, groupings and the children behind).
    #[test]
    fn a_trend_in_one_pass_equals_a_run_per_date() {
        let cfg = SynthConfig {
            children: 1500,
            clinics: 6,
            seed: 11,
            as_of: date("2026-06-30"),
        };
        let chunk: Chunk = (0..cfg.children)
            .map(|i| {
                let c = child(&cfg, i);
                (c.patient, c.doses, Vec::new())
            })
            .collect();
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let cohort = Cohort {
            as_of: cfg.as_of,
            min_age_months: 24,
            max_age_months: 35,
            clinics: None,
            within: None,
            places: Some(std::sync::Arc::new(crate::place::Places::bundled())),
        };
        let dates = trend_dates(&cohort, 6, 2).unwrap();
        assert_eq!(dates.first(), Some(&date("2025-08-30")));
        let trend = coverage_trend(&ctx, Series::Childhood, &cohort, &dates, |f| {
            f(chunk.clone());
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(trend.len(), 6);
        for (d, r) in &trend {
            let c = Cohort {
                as_of: *d,
                ..cohort.clone()
            };
            let alone = coverage(&ctx, Series::Childhood, &c, |f| {
                f(chunk.clone());
                Ok::<_, ()>(())
            })
            .unwrap();
            assert!(alone.total.children > 50, "{d}");
            let json = |r: &CoverageReport| serde_json::to_string(r).unwrap();
            assert_eq!(json(r), json(&alone), "{d}");
        }
    }
}
