//! Runs the population assessments of `ctwiz_core::assessment` over the store:
//! streams the cohort by birth date in chunks, assesses each chunk in parallel, renders.

use super::report::{emit, ByArg, CohortArgs, OutputArgs, SeriesArg};
use super::CliResult;
use crate::output;
use chrono::{Days, Local, NaiveDate};
use ctwiz_core::assessment::coverage::{Context, CoverageReport, Measure, Series};
use ctwiz_core::assessment::recall::{RecallEntry, RecallQuery};
use ctwiz_core::assessment::{chart, defaults, run, Cohort};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::County;
use ctwiz_core::place::Jurisdiction;
use ctwiz_forecast::Engine;
use ctwiz_store::usecase::places;
use ctwiz_store::usecase::reports::NoticeSent;
use ctwiz_store::{OrgStore, PatientStore, PlaceStore, RecallStore, SqliteStore};
use std::path::PathBuf;
use std::time::Instant;

const CHUNK: usize = 4096;

fn engine() -> CliResult<Engine> {
    Engine::bundled()
        .map_err(|e| format!("the bundled CDSi supporting data did not load: {e}").into())
}

fn cohort(store: &SqliteStore, a: &CohortArgs, default_months: (u32, u32)) -> CliResult<Cohort> {
    let min = a.min_age_months.unwrap_or(default_months.0);
    let max = a.max_age_months.unwrap_or(default_months.1);
    if min > max {
        return Err(format!("--min-age-months {min} is more than --max-age-months {max}").into());
    }
    Ok(Cohort {
        as_of: a.as_of.unwrap_or_else(|| Local::now().date_naive()),
        min_age_months: min,
        max_age_months: max,
        clinics: if a.clinics.is_empty() {
            None
        } else {
            Some(
                a.clinics
                    .iter()
                    .map(|c| ClinicPin::new(c))
                    .collect::<Result<_, _>>()?,
            )
        },
        within: if a.counties.is_empty() && a.health_districts.is_empty() {
            None
        } else {
            Some(
                a.counties
                    .iter()
                    .map(|c| {
                        County::parse(c)
                            .map(Jurisdiction::County)
                            .map_err(Into::into)
                    })
                    .chain(
                        a.health_districts
                            .iter()
                            .map(|h| places::jurisdiction(store, h).map_err(Into::into)),
                    )
                    .collect::<CliResult<_>>()?,
            )
        },
        places: Some(store.places()?),
    })
}

/// Hands the cohort's birth-date range to `f` chunk by chunk, with a progress bar.
fn stream(
    store: &SqliteStore,
    c: &Cohort,
    f: &mut dyn FnMut(run::Chunk),
) -> Result<(), ctwiz_store::StoreError> {
    let pb = output::progress(0, "children");
    let mut seen = 0u64;
    let r = store.for_each_chunk(Some(c.dob_range()), CHUNK, &mut |chunk| {
        seen += chunk.len() as u64;
        f(chunk);
        pb.set_length(seen);
        pb.set_position(seen);
        Ok(())
    });
    pb.finish_and_clear();
    r
}

fn series_of(s: SeriesArg) -> (Series, (u32, u32)) {
    let series = match s {
        SeriesArg::Childhood => Series::Childhood,
        SeriesArg::Adolescent => Series::Adolescent,
        SeriesArg::Flu => Series::Flu,
    };
    (series, series.default_ages())
}

/// Assesses the cohort for one series; also used by the clean-up list.
pub fn coverage_report(
    store: &SqliteStore,
    series: Series,
    c: &Cohort,
) -> CliResult<CoverageReport> {
    let engine = engine()?;
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    Ok(run::coverage(&ctx, series, c, |f| stream(store, c, f))?)
}

/// Coverage on each of `dates`, in one pass over the children born in their bands.
fn trend_report(
    store: &SqliteStore,
    series: Series,
    c: &Cohort,
    dates: &[NaiveDate],
) -> CliResult<Vec<(NaiveDate, CoverageReport)>> {
    let engine = engine()?;
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let range = run::trend_dob_range(c, dates);
    let pb = output::progress(0, "children");
    let mut seen = 0u64;
    let r = run::coverage_trend(&ctx, series, c, dates, |f| {
        store.for_each_chunk(Some(range), CHUNK, &mut |chunk| {
            seen += chunk.len() as u64;
            f(chunk);
            pb.set_length(seen);
            pb.set_position(seen);
            Ok(())
        })
    });
    pb.finish_and_clear();
    Ok(r?)
}

fn write_file(path: &PathBuf, text: &str) -> CliResult {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn coverage(
    store: &SqliteStore,
    s: SeriesArg,
    a: &CohortArgs,
    chart_out: Option<PathBuf>,
    clinic_chart: Option<PathBuf>,
    behind_out: Option<PathBuf>,
    by: Option<ByArg>,
    out: &OutputArgs,
) -> CliResult {
    let (series, ages) = series_of(s);
    let c = cohort(store, a, ages)?;
    let start = Instant::now();
    let r = coverage_report(store, series, &c)?;
    eprintln!(
        "assessed {} children aged {}–{} months as of {} in {:.1} s",
        r.total.children,
        c.min_age_months,
        c.max_age_months,
        c.as_of,
        start.elapsed().as_secs_f64()
    );
    let measures = series.measures();
    match by {
        None => {
            let rows: Vec<Vec<String>> = measures
                .iter()
                .map(|m| {
                    vec![
                        m.label().to_string(),
                        r.total.met.get(m).copied().unwrap_or(0).to_string(),
                        r.total.children.to_string(),
                        format!("{:.1}", r.total.rate(*m)),
                    ]
                })
                .collect();
            emit(
                out,
                &["measure", "children_met", "cohort", "percent"],
                &rows,
            )?;
            if series == Series::Childhood {
                eprintln!(
                    "{} of {} children had at least one missed opportunity",
                    r.total.with_missed_opportunities, r.total.children
                );
            }
        }
        Some(b) => {
            let (column, groups) = match b {
                ByArg::Clinic => ("clinic", &r.by_clinic),
                ByArg::Town => ("town", &r.by_town),
                ByArg::HealthDistrict => ("health_department", &r.by_health_department),
                ByArg::Iap => ("iap_area", &r.by_iap),
                ByArg::County => ("county", &r.by_county),
            };
            let mut header = vec![column, "cohort"];
            header.extend(measures.iter().map(|m| m.label()));
            let rows: Vec<Vec<String>> = groups
                .iter()
                .map(|(k, counts)| {
                    let mut row = vec![k.clone(), counts.children.to_string()];
                    row.extend(measures.iter().map(|m| format!("{:.1}", counts.rate(*m))));
                    row
                })
                .collect();
            emit(out, &header, &rows)?;
        }
    }
    if let Some(p) = chart_out {
        let bars: Vec<(String, f64)> = measures
            .iter()
            .map(|m| (m.label().to_string(), r.total.rate(*m)))
            .collect();
        write_file(
            &p,
            &chart::percent_bars(
                &format!("Coverage as of {} ({} children)", c.as_of, r.total.children),
                &bars,
            ),
        )?;
    }
    if let Some(p) = clinic_chart {
        let h: Measure = series.headline();
        let bars: Vec<(String, f64)> = r
            .by_clinic
            .iter()
            .map(|(k, v)| (k.clone(), v.rate(h)))
            .collect();
        write_file(
            &p,
            &chart::percent_bars(
                &format!("{} by clinic, as of {}", h.label(), c.as_of),
                &bars,
            ),
        )?;
    }
    if let Some(p) = behind_out {
        let o = OutputArgs {
            format: super::report::Format::Csv,
            out: Some(p),
        };
        emit(&o, BEHIND_HEADER, &behind_rows(&r))?;
    }
    Ok(())
}

pub fn trend(
    store: &SqliteStore,
    s: SeriesArg,
    quarters: u32,
    a: &CohortArgs,
    chart_out: Option<PathBuf>,
    out: &OutputArgs,
) -> CliResult {
    if !(1..=20).contains(&quarters) {
        return Err("--quarters must be between 1 and 20".into());
    }
    let (series, ages) = series_of(s);
    let last = cohort(store, a, ages)?;
    let dates = run::trend_dates(&last, quarters, 3)
        .ok_or("the as-of date is too early for that many quarters")?;
    let points = trend_report(store, series, &last, &dates)?;
    let (header, rows) = run::trend_table(&points);
    emit(out, &header, &rows)?;
    if let Some(p) = chart_out {
        write_file(&p, &run::trend_chart("Coverage trend", &points, "%Y-%m-%d"))?;
    }
    Ok(())
}

const BEHIND_HEADER: &[&str] = &[
    "patient_id",
    "name",
    "dob",
    "clinic",
    "county",
    "missing",
    "not_asked",
    "missed_opportunities",
];

fn behind_rows(r: &CoverageReport) -> Vec<Vec<String>> {
    r.behind
        .iter()
        .map(|a| {
            vec![
                a.child.id.map(|i| i.to_string()).unwrap_or_default(),
                a.child.name.clone(),
                a.child.dob.to_string(),
                a.child
                    .clinic
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                a.child.county.map(|c| c.to_string()).unwrap_or_default(),
                a.missing.join("; "),
                a.not_due.join("; "),
                a.missed_opportunities.to_string(),
            ]
        })
        .collect()
}

pub fn cleanup(store: &SqliteStore, a: &CohortArgs, out: &OutputArgs) -> CliResult {
    let c = cohort(store, a, defaults::CLEANUP_AGES)?;
    let r = coverage_report(store, Series::Childhood, &c)?;
    eprintln!(
        "{} of {} children aged {}–{} months are not up to date",
        r.behind.len(),
        r.total.children,
        c.min_age_months,
        c.max_age_months
    );
    emit(out, BEHIND_HEADER, &behind_rows(&r))
}

pub fn compliancy(
    store: &SqliteStore,
    milestones: &[u32],
    a: &CohortArgs,
    out: &OutputArgs,
) -> CliResult {
    let ages =
        defaults::compliancy_ages(milestones).ok_or("give at least one --milestones value")?;
    // Children who reached each milestone within the last year.
    let c = cohort(store, a, ages)?;
    let engine = engine()?;
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let ms = milestones.to_vec();
    let rep = run::compliancy(&ctx, &ms, &c, |f| stream(store, &c, f))?;
    let mut header: Vec<String> = vec!["clinic".into()];
    for m in &ms {
        header.push(format!("children_{m}m"));
        header.push(format!("utd_{m}m_percent"));
    }
    let mut rows = Vec::new();
    for (clinic, per) in rep
        .by_clinic
        .iter()
        .chain(std::iter::once((&"ALL".to_string(), &rep.total)))
    {
        let mut row = vec![clinic.clone()];
        for m in &ms {
            let c = per.get(m).cloned().unwrap_or_default();
            row.push(c.children.to_string());
            row.push(format!("{:.1}", c.rate()));
        }
        rows.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    emit(out, &header, &rows)
}

/// Options of a reminder/recall run.
pub struct RecallOptions {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub groups: Vec<String>,
    pub include_overdue: bool,
    pub skip_recent_days: u32,
    pub record: Option<String>,
    pub letters: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub phone_list: Option<PathBuf>,
}

pub fn recall(
    store: &SqliteStore,
    o: &RecallOptions,
    a: &CohortArgs,
    out: &OutputArgs,
) -> CliResult {
    let c = cohort(store, a, defaults::RECALL_AGES)?;
    let from = o.from.unwrap_or(c.as_of);
    let to = o.to.unwrap_or(from + Days::new(30));
    if from > to {
        return Err(format!("--from {from} is after --to {to}").into());
    }
    if let Some(m) = &o.record {
        // Refused before the list is computed and any letter written.
        ctwiz_store::usecase::reports::notice_method(m)?;
    }
    let engine = engine()?;
    let q = RecallQuery {
        as_of: c.as_of,
        from,
        to,
        vaccine_groups: o.groups.clone(),
        include_overdue: o.include_overdue,
    };
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let mut entries: Vec<RecallEntry> = run::recall(&ctx, &q, &c, |f| stream(store, &c, f))?;
    if o.skip_recent_days > 0 {
        let cutoff = c.as_of - Days::new(o.skip_recent_days as u64);
        let mut kept = Vec::with_capacity(entries.len());
        for e in entries {
            let recent = match e.child.id {
                Some(id) => store.last_recall_notice(id)?.is_some_and(|d| d >= cutoff),
                None => false,
            };
            if !recent {
                kept.push(e);
            }
        }
        entries = kept;
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let due = e
                .due
                .iter()
                .map(|g| {
                    format!(
                        "{} #{} {:?} (rec. {})",
                        g.vaccine_group, g.dose_number, g.urgency, g.recommended
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                e.child.id.map(|i| i.to_string()).unwrap_or_default(),
                e.child.name.clone(),
                e.child.dob.to_string(),
                e.child
                    .clinic
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                e.guardian.clone().unwrap_or_default(),
                e.address.clone().unwrap_or_default(),
                e.phone.clone().unwrap_or_default(),
                e.email.clone().unwrap_or_default(),
                due,
                e.not_asked.join("; "),
            ]
        })
        .collect();
    emit(
        out,
        &[
            "patient_id",
            "name",
            "dob",
            "clinic",
            "guardian",
            "address",
            "phone",
            "email",
            "due",
            "not_asked",
        ],
        &rows,
    )?;
    if let Some(p) = &o.letters {
        let clinics = store
            .clinics()?
            .into_iter()
            .map(|c| (c.pin.to_string(), c))
            .collect();
        let pdf = super::letters::letters_pdf(&entries, &clinics, c.as_of)?;
        std::fs::write(p, pdf).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        eprintln!("wrote {} letters to {}", entries.len(), p.display());
    }
    if let Some(p) = &o.labels {
        let csv = OutputArgs {
            format: super::report::Format::Csv,
            out: Some(p.clone()),
        };
        emit(
            &csv,
            &["line1", "line2", "address"],
            &super::letters::label_rows(&entries),
        )?;
    }
    if let Some(p) = &o.phone_list {
        let csv = OutputArgs {
            format: super::report::Format::Csv,
            out: Some(p.clone()),
        };
        emit(
            &csv,
            &["child", "guardian", "phone", "due"],
            &super::letters::phone_rows(&entries),
        )?;
    }
    if let Some(method) = &o.record {
        let sent: Vec<NoticeSent> = entries
            .iter()
            .filter_map(|e| {
                Some(NoticeSent {
                    patient: e.child.id?,
                    vaccine_groups: e.due.iter().map(|g| g.vaccine_group.clone()).collect(),
                })
            })
            .collect();
        let actor = super::operator(ctwiz_core::actor::Channel::Cli);
        let now = chrono::Local::now().naive_local();
        let n = ctwiz_store::usecase::reports::record_notices(
            store,
            &actor,
            method,
            c.as_of,
            &c.recorded_scope(),
            &sent,
            now,
        )?;
        eprintln!("recorded {n} {method} notices");
    }
    eprintln!(
        "{} patients due or overdue between {from} and {to}",
        entries.len()
    );
    Ok(())
}
