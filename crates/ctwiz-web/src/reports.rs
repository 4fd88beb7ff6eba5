//! The Reports module: coverage (AFIX-style), compliancy at 8 and 20 months, the
//! two-year-old clean-up list, reminder/recall and DQA – Interface Activity.
//!
//! Every report runs the engine the CLI runs (`ctwiz_forecast::assessment::run` over
//! `PatientStore::for_each_chunk`, on a blocking thread) on a cohort scoped by where the
//! user acts: a clinic user gets their acting clinic, a health department its
//! jurisdiction (never another county), the state anything it picks with the filters.
//! Which scopes a user may pick is asked of `ctwiz_core::access::can`, never decided here.

use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, select_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Days, NaiveDate};
use ctwiz_core::access::Action;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::{Clinic, County};
use ctwiz_forecast::assessment::compliancy::CompliancyReport;
use ctwiz_forecast::assessment::coverage::{Context, CoverageReport, Series};
use ctwiz_forecast::assessment::recall::{RecallEntry, RecallQuery};
use ctwiz_forecast::assessment::{chart, defaults, run, ChildRef, Cohort};
use ctwiz_store::interface::{ActivityRow, ErrorCodeRow, InterfaceStore};
use ctwiz_store::{AuditAction, OrgStore, PatientStore, RecallNotice, RecallStore, SqliteStore};
use maud::{html, Markup, PreEscaped};

/// Children per chunk streamed from the store (as the CLI).
const CHUNK: usize = 4096;
/// Rows of a patient list shown on a page; the CSV download has them all.
const LIST_LIMIT: usize = 500;
/// The compliancy milestones, in months of age.
const MILESTONES: [u32; 2] = defaults::COMPLIANCY_MILESTONES;
/// How a reminder/recall notice may have been sent.
const NOTICE_METHODS: [&str; 4] = ["letter", "phone", "text", "email"];

// ---------------------------------------------------------------- request parameters

/// Query or form fields as sent; repeated keys are kept (several vaccine groups).
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Fields of one request (download, notice, token) that links and forms do not repeat.
    const TRANSIENT: [&'static str; 5] = ["format", "table", "recorded", "csrf", "method"];

    /// The trimmed value of `key`, absent when missing or blank.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    fn date(&self, key: &str) -> Result<Option<NaiveDate>, AppError> {
        self.get(key).map(|v| parse_date(key, v)).transpose()
    }

    fn months(&self, key: &str, default: u32) -> Result<u32, AppError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().ok().filter(|m| *m <= 1200).ok_or_else(|| {
                AppError::BadRequest(format!("{key} {v:?} is not a number of months."))
            }),
        }
    }

    fn csv(&self) -> bool {
        self.get("format") == Some("csv")
    }

    /// This query again (without its transient fields), plus `extra`, as a URL.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let kept = self
            .0
            .iter()
            .filter(|(k, _)| !Params::TRANSIENT.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let q: Vec<String> = kept
            .chain(extra.iter().copied())
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", q.join("&"))
        }
    }

    /// The query as hidden form fields (a POST that repeats the GET's filters).
    fn hidden(&self) -> Markup {
        html! {
            @for (k, v) in &self.0 {
                @if !Params::TRANSIENT.contains(&k.as_str()) {
                    input type="hidden" name=(k) value=(v);
                }
            }
        }
    }
}

/// A date as forms send it (YYYY-MM-DD); the error names the field and the value.
pub(crate) fn parse_date(what: &str, v: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest(format!("{what} {v:?} is not a date (YYYY-MM-DD).")))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- scope

use ctwiz_store::usecase::reports::ReportScope;

/// The report filter form's cohort, within a scope.
trait ScopeCohort {
    fn cohort(&self, p: &Params, today: NaiveDate, ages: (u32, u32)) -> Result<Cohort, AppError>;
}

impl ScopeCohort for ReportScope {
    fn cohort(&self, p: &Params, today: NaiveDate, ages: (u32, u32)) -> Result<Cohort, AppError> {
        let min = p.months("min_age", ages.0)?;
        let max = p.months("max_age", ages.1)?;
        if min > max {
            return Err(AppError::BadRequest(format!(
                "The youngest age ({min} months) is above the oldest ({max} months)."
            )));
        }
        Ok(Cohort {
            as_of: p.date("as_of")?.unwrap_or(today),
            min_age_months: min,
            max_age_months: max,
            clinics: self.clinics.clone(),
            counties: self.counties.clone(),
        })
    }
}

async fn load_scope(
    state: &AppState,
    ctx: &Ctx,
    action: Action,
    p: &Params,
) -> Result<ReportScope, AppError> {
    let wanted_clinic = p.get("clinic").map(ClinicPin::new).transpose()?;
    let wanted_county = p.get("county").map(County::parse).transpose()?;
    let actor = ctx.as_actor();
    state
        .db(move |s| {
            Ok(ctwiz_store::usecase::reports::scope(
                s,
                &actor,
                action,
                wanted_clinic,
                wanted_county,
            )?)
        })
        .await
}

// ---------------------------------------------------------------- shared rendering

/// The filter form every report starts with: date, ages, and the clinic/county a user
/// beyond one clinic may narrow to; `extra` adds report-specific fields.
fn filters(
    path: &str,
    scope: &ReportScope,
    cohort: Option<&Cohort>,
    p: &Params,
    extra: Markup,
) -> Markup {
    let as_of = p
        .get("as_of")
        .map(str::to_string)
        .unwrap_or_else(|| cohort.map(|c| c.as_of.to_string()).unwrap_or_default());
    html! {
        form.card method="get" action=(path) {
            div.grid {
                (date_field("as_of", "As of", &as_of, false))
                @if let Some(c) = cohort {
                    label { span { "Youngest age (months)" }
                        input type="number" name="min_age" min="0" max="1200" value=(c.min_age_months); }
                    label { span { "Oldest age (months)" }
                        input type="number" name="max_age" min="0" max="1200" value=(c.max_age_months); }
                }
                @if !scope.clinic_choices.is_empty() {
                    (select_field("clinic", "Clinic",
                        std::iter::once(("", "All clinics in scope".to_string())).chain(
                            scope.clinic_choices.iter().map(|(pin, name, _)| (pin.as_str(), format!("{name} ({pin})")))),
                        scope.chosen_clinic.as_ref().map_or("", |c| c.as_str())))
                }
                @if scope.county_choices.len() > 1 {
                    (select_field("county", "County",
                        std::iter::once(("", "All counties".to_string())).chain(
                            scope.county_choices.iter().map(|c| (c.name(), c.name().to_string()))),
                        scope.chosen_county.map_or("", |c| c.name())))
                }
                (extra)
            }
            input type="hidden" name="run" value="1";
            div.actions { button type="submit" { "Run report" } }
        }
    }
}

/// Reports beyond one clinic may cover the whole state (a million children): they run
/// when the filter form is sent, not when the page is opened.
fn waits_for_filters(ctx: &Ctx, p: &Params) -> bool {
    ctx.clinic().is_none() && p.get("run").is_none() && !p.csv()
}

fn filters_only(ctx: &Ctx, title: &str, filters: Markup) -> Response {
    page::layout(
        ctx,
        title,
        html! {
            (filters)
            p.muted { "Choose the filters and run the report." }
        },
    )
    .into_response()
}

fn downloads(p: &Params, path: &str, tables: &[(&str, &str)]) -> Markup {
    html! {
        p.no-print { "Download CSV: "
            @for (i, (table, label)) in tables.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(p.link(path, &[("format", "csv"), ("table", table)])) { (label) }
            }
        }
    }
}

fn chart_markup(svg: String) -> Markup {
    // The SVG comes from `assessment::chart`, which escapes every label it prints.
    html! { figure.chart { (PreEscaped(svg)) } }
}

fn child_cells(c: &ChildRef) -> Markup {
    html! {
        td { @if let Some(id) = c.id { a href={ "/patients/" (id) } { (c.name) } } @else { (c.name) } }
        td { (c.dob) }
        td { (c.clinic.as_ref().map(|c| c.to_string()).unwrap_or_default()) }
    }
}

fn child_fields(c: &ChildRef) -> Vec<String> {
    vec![
        c.id.map(|i| i.to_string()).unwrap_or_default(),
        c.name.clone(),
        c.dob.to_string(),
        c.clinic.as_ref().map(|c| c.to_string()).unwrap_or_default(),
        c.county.map(|c| c.to_string()).unwrap_or_default(),
    ]
}

const CHILD_HEADER: [&str; 5] = ["patient_id", "name", "dob", "clinic", "county"];

/// A CSV file download, written by the one CSV writer (`ctwiz_core::export::csv`), which
/// neutralises cells a spreadsheet would run as a formula.
pub(crate) fn csv_download(
    filename: &str,
    header_row: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Response, AppError> {
    let bytes = ctwiz_core::export::csv::to_csv(header_row, rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn stream(
    s: &SqliteStore,
    c: &Cohort,
    f: &mut dyn FnMut(run::Chunk),
) -> Result<(), ctwiz_store::StoreError> {
    s.for_each_chunk(Some(c.dob_range()), CHUNK, &mut |chunk| {
        f(chunk);
        Ok(())
    })
}

/// Runs a coverage assessment on a blocking thread and audits that patient data was read.
async fn run_coverage(
    state: &AppState,
    ctx: &Ctx,
    series: Series,
    cohort: Cohort,
    what: String,
) -> Result<CoverageReport, AppError> {
    let st = state.clone();
    let ctx = ctx.clone();
    state
        .db(move |s| {
            let c = Context {
                engine: st.engine(),
                codes: st.codes(),
            };
            let r = run::coverage(&c, series, &cohort, |f| stream(s, &cohort, f))?;
            ctx.audit(s, None, AuditAction::Read, &what)?;
            Ok(r)
        })
        .await
}

// ---------------------------------------------------------------- index

pub async fn index(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let reports: [(Action, &str, &str, &str); 5] = [
        (
            Action::ReportCoverage,
            "/reports/coverage",
            "Coverage (AFIX)",
            "4:3:1:3:3:1:4 by the 2nd birthday, each antigen, adolescent and flu coverage, missed opportunities, children behind.",
        ),
        (
            Action::ReportCoverage,
            "/reports/compliancy",
            "Compliancy at 8 and 20 months",
            "Share of children up to date at each milestone, per clinic.",
        ),
        (
            Action::ReportCoverage,
            "/reports/cleanup",
            "Two-year-old clean-up list",
            "Children 24–35 months not up to date, with what is missing, to clean up before an assessment.",
        ),
        (
            Action::ReportReminderRecall,
            "/reports/recall",
            "Reminder/recall",
            "Patients due or overdue in a window, with contacts; record the notices sent.",
        ),
        (
            Action::ReportDqa,
            "/reports/dqa",
            "DQA – Interface Activity",
            "HL7 messages received, accepted, rejected and warnings by error code, per facility and day.",
        ),
    ];
    if !reports.iter().any(|(a, ..)| ctx.can(*a)) {
        return Err(AppError::Forbidden);
    }
    let bell = crate::inventory::load_bell(&state, &ctx).await?;
    Ok(page::layout_with_bell(
        &ctx,
        "Reports",
        html! {
            p { "Reports for " strong { (page::acting_label(&ctx)) } "." }
            div.tiles {
                @for (action, href, title, about) in reports {
                    @if ctx.can(action) {
                        a.card href=(href) { h2 { (title) } p.muted { (about) } }
                    }
                }
            }
            @if ctx.can(Action::InventoryView) {
                p { a href="/inventory/report" { "Inventory movement report" } }
            }
        },
        bell,
    ))
}

// ---------------------------------------------------------------- coverage

fn series_param(p: &Params) -> Result<(Series, &'static str, (u32, u32)), AppError> {
    let key = p.get("series").unwrap_or(Series::Childhood.key());
    match Series::parse(key) {
        Some(s) => Ok((s, s.key(), s.default_ages())),
        None => Err(AppError::BadRequest(format!(
            "Unknown series {key:?}; choose childhood, adolescent or flu."
        ))),
    }
}

pub async fn coverage(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let scope = load_scope(&state, &ctx, Action::ReportCoverage, &p).await?;
    let (series, key, ages) = series_param(&p)?;
    let cohort = scope.cohort(&p, ctx.now.date(), ages)?;
    let series_field = select_field(
        "series",
        "Series",
        [
            ("childhood", "Childhood 4:3:1:3:3:1:4".to_string()),
            ("adolescent", "Adolescent (Tdap, MenACWY, HPV)".to_string()),
            ("flu", "Influenza this season".to_string()),
        ],
        key,
    );
    if waits_for_filters(&ctx, &p) {
        let form = filters("/reports/coverage", &scope, Some(&cohort), &p, series_field);
        return Ok(filters_only(&ctx, "Coverage (AFIX)", form));
    }
    let r = run_coverage(
        &state,
        &ctx,
        series,
        cohort.clone(),
        format!("coverage report ({key}) for {}", scope.label),
    )
    .await?;
    let measures = series.measures();
    if p.csv() {
        return match p.get("table") {
            Some("clinics") => {
                let mut head = vec!["clinic", "cohort"];
                head.extend(measures.iter().map(|m| m.label()));
                csv_download(
                    "coverage-by-clinic.csv",
                    &head,
                    r.by_clinic.iter().map(|(k, c)| {
                        let mut row = vec![k.clone(), c.children.to_string()];
                        row.extend(measures.iter().map(|m| format!("{:.1}", c.rate(*m))));
                        row
                    }),
                )
            }
            Some("behind") => behind_csv("coverage-behind.csv", &r),
            _ => csv_download(
                "coverage.csv",
                &["measure", "children_met", "cohort", "percent"],
                measures.iter().map(|m| {
                    vec![
                        m.label().to_string(),
                        r.total.met.get(m).copied().unwrap_or(0).to_string(),
                        r.total.children.to_string(),
                        format!("{:.1}", r.total.rate(*m)),
                    ]
                }),
            ),
        };
    }
    let bars: Vec<(String, f64)> = measures
        .iter()
        .map(|m| (m.label().to_string(), r.total.rate(*m)))
        .collect();
    let overall = chart::percent_bars(
        &format!(
            "Coverage as of {} ({} children)",
            cohort.as_of, r.total.children
        ),
        &bars,
    );
    let headline = series.headline();
    let by_clinic = (r.by_clinic.len() > 1).then(|| {
        let bars: Vec<(String, f64)> = r
            .by_clinic
            .iter()
            .map(|(k, v)| (k.clone(), v.rate(headline)))
            .collect();
        chart::percent_bars(&format!("{} by clinic", headline.label()), &bars)
    });
    Ok(page::layout(
        &ctx,
        "Coverage (AFIX)",
        html! {
            (filters("/reports/coverage", &scope, Some(&cohort), &p, series_field))
            p { strong { (r.total.children) } " children aged " (cohort.min_age_months) "–" (cohort.max_age_months)
                " months as of " (cohort.as_of) " · " (scope.label) "." }
            @if series == Series::Childhood {
                p { (r.total.with_missed_opportunities) " of " (r.total.children) " had at least one missed opportunity (a visit with a dose given while another due dose was not)." }
            }
            table {
                thead { tr { th { "Measure" } th { "Children met" } th { "Cohort" } th { "Percent" } } }
                tbody { @for m in measures { tr {
                    td { (m.label()) }
                    td { (r.total.met.get(m).copied().unwrap_or(0)) }
                    td { (r.total.children) }
                    td { (format!("{:.1}%", r.total.rate(*m))) }
                } } }
            }
            (chart_markup(overall))
            h2 { "By clinic" }
            table {
                thead { tr { th { "Clinic" } th { "Cohort" } @for m in measures { th { (m.label()) } } } }
                tbody { @for (k, c) in &r.by_clinic { tr {
                    td { (k) } td { (c.children) }
                    @for m in measures { td { (format!("{:.1}%", c.rate(*m))) } }
                } } }
            }
            @if let Some(svg) = by_clinic { (chart_markup(svg)) }
            (downloads(&p, "/reports/coverage", &[("measures", "measures"), ("clinics", "by clinic"), ("behind", "children behind")]))
            (behind_table(&r, "Children not up to date"))
        },
    )
    .into_response())
}

fn more_rows(n: usize) -> Markup {
    html! {
        @if n > LIST_LIMIT {
            p.notice { "The first " (LIST_LIMIT) " of " (n) " are shown; the CSV download has them all." }
        }
    }
}

fn behind_table(r: &CoverageReport, title: &str) -> Markup {
    html! {
        h2 { (title) " (" (r.behind.len()) ")" }
        @if r.behind.is_empty() { p.muted { "Every child in the cohort is up to date." } } @else {
            table {
                thead { tr { th { "Child" } th { "Born" } th { "Clinic" } th { "Missing" } th { "Missed opportunities" } } }
                tbody { @for a in r.behind.iter().take(LIST_LIMIT) { tr {
                    (child_cells(&a.child))
                    td { (a.missing.join(", ")) }
                    td { (a.missed_opportunities) }
                } } }
            }
            (more_rows(r.behind.len()))
        }
    }
}

fn behind_csv(filename: &str, r: &CoverageReport) -> Result<Response, AppError> {
    let mut head = CHILD_HEADER.to_vec();
    head.extend(["missing", "missed_opportunities"]);
    csv_download(
        filename,
        &head,
        r.behind.iter().map(|a| {
            let mut row = child_fields(&a.child);
            row.push(a.missing.join("; "));
            row.push(a.missed_opportunities.to_string());
            row
        }),
    )
}

// ---------------------------------------------------------------- clean-up list

pub async fn cleanup(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let scope = load_scope(&state, &ctx, Action::ReportCoverage, &p).await?;
    let cohort = scope.cohort(&p, ctx.now.date(), defaults::CLEANUP_AGES)?;
    if waits_for_filters(&ctx, &p) {
        let form = filters("/reports/cleanup", &scope, Some(&cohort), &p, html! {});
        return Ok(filters_only(&ctx, "Two-year-old clean-up list", form));
    }
    let r = run_coverage(
        &state,
        &ctx,
        Series::Childhood,
        cohort.clone(),
        format!("two-year-old clean-up list for {}", scope.label),
    )
    .await?;
    if p.csv() {
        return behind_csv("cleanup.csv", &r);
    }
    Ok(page::layout(
        &ctx,
        "Two-year-old clean-up list",
        html! {
            (filters("/reports/cleanup", &scope, Some(&cohort), &p, html! {}))
            p { (r.behind.len()) " of " (r.total.children) " children aged " (cohort.min_age_months) "–" (cohort.max_age_months)
                " months as of " (cohort.as_of) " are not up to date with 4:3:1:3:3:1:4 · " (scope.label) "." }
            p.muted { "Open each record to add historical doses, or to mark a child moved or gone elsewhere, before the assessment." }
            (downloads(&p, "/reports/cleanup", &[("behind", "clean-up list")]))
            (behind_table(&r, "To clean up"))
        },
    )
    .into_response())
}

// ---------------------------------------------------------------- compliancy

pub async fn compliancy(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let scope = load_scope(&state, &ctx, Action::ReportCoverage, &p).await?;
    // Children who reached a milestone within the last year.
    let ages = defaults::compliancy_ages(&MILESTONES).expect("two milestones");
    let cohort = scope.cohort(&p, ctx.now.date(), ages)?;
    if waits_for_filters(&ctx, &p) {
        let form = filters("/reports/compliancy", &scope, None, &p, html! {});
        return Ok(filters_only(&ctx, "Compliancy at 8 and 20 months", form));
    }
    let st = state.clone();
    let c2 = cohort.clone();
    let rep: CompliancyReport = state
        .db(move |s| {
            Ok(run::compliancy(st.engine(), &MILESTONES, &c2, |f| {
                stream(s, &c2, f)
            })?)
        })
        .await?;
    let rows: Vec<(String, Vec<(u64, f64)>)> = rep
        .by_clinic
        .iter()
        .chain(std::iter::once((&"All".to_string(), &rep.total)))
        .map(|(clinic, per)| {
            let cells = MILESTONES
                .iter()
                .map(|m| {
                    let c = per.get(m).cloned().unwrap_or_default();
                    (c.children, c.rate())
                })
                .collect();
            (clinic.clone(), cells)
        })
        .collect();
    if p.csv() {
        let mut head: Vec<String> = vec!["clinic".into()];
        for m in MILESTONES {
            head.push(format!("children_{m}m"));
            head.push(format!("utd_{m}m_percent"));
        }
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        return csv_download(
            "compliancy.csv",
            &head,
            rows.iter().map(|(clinic, cells)| {
                let mut row = vec![clinic.clone()];
                for (n, pct) in cells {
                    row.push(n.to_string());
                    row.push(format!("{pct:.1}"));
                }
                row
            }),
        );
    }
    let bars: Vec<(String, f64)> = rows
        .iter()
        .flat_map(|(clinic, cells)| {
            MILESTONES
                .iter()
                .zip(cells)
                .map(move |(m, (_, pct))| (format!("{clinic} · {m} mo"), *pct))
        })
        .collect();
    let svg = chart::percent_bars(
        &format!("Up to date at 8 and 20 months, as of {}", cohort.as_of),
        &bars,
    );
    Ok(page::layout(
        &ctx,
        "Compliancy at 8 and 20 months",
        html! {
            (filters("/reports/compliancy", &scope, None, &p, html! {}))
            p { "Children who reached 8 or 20 months of age in the year before " (cohort.as_of) ", and the share up to date on that day · " (scope.label) "." }
            table {
                thead { tr { th { "Clinic" } @for m in MILESTONES { th { "Children at " (m) " months" } th { "Up to date at " (m) " months" } } } }
                tbody { @for (clinic, cells) in &rows { tr {
                    td { (clinic) }
                    @for (n, pct) in cells { td { (n) } td { (format!("{pct:.1}%")) } }
                } } }
            }
            (chart_markup(svg))
            (downloads(&p, "/reports/compliancy", &[("compliancy", "compliancy per clinic")]))
        },
    )
    .into_response())
}

// ---------------------------------------------------------------- reminder/recall

struct RecallRun {
    scope: ReportScope,
    cohort: Cohort,
    query: RecallQuery,
    groups: Vec<String>,
}

fn recall_run(ctx: &Ctx, scope: ReportScope, p: &Params) -> Result<RecallRun, AppError> {
    let cohort = scope.cohort(p, ctx.now.date(), defaults::RECALL_AGES)?;
    let from = p.date("from")?.unwrap_or(cohort.as_of);
    let to = p.date("to")?.unwrap_or(from + Days::new(30));
    if from > to {
        return Err(AppError::BadRequest(format!(
            "The window starts ({from}) after it ends ({to})."
        )));
    }
    // Overdue doses are included unless a submitted form left the box unticked.
    let include_overdue = p.get("run").is_none() || p.get("overdue").is_some();
    let groups = p.all("group");
    Ok(RecallRun {
        query: RecallQuery {
            as_of: cohort.as_of,
            from,
            to,
            vaccine_groups: groups.clone(),
            include_overdue,
        },
        scope,
        cohort,
        groups,
    })
}

async fn recall_entries(state: &AppState, r: &RecallRun) -> Result<Vec<RecallEntry>, AppError> {
    let st = state.clone();
    let cohort = r.cohort.clone();
    let q = r.query.clone();
    state
        .db(move |s| {
            Ok(run::recall(st.engine(), &q, &cohort, |f| {
                stream(s, &cohort, f)
            })?)
        })
        .await
}

fn due_text(e: &RecallEntry) -> String {
    e.due
        .iter()
        .map(|g| {
            let when = match g.urgency {
                ctwiz_forecast::assessment::recall::Urgency::Due => "due",
                ctwiz_forecast::assessment::recall::Urgency::Overdue => "overdue",
            };
            format!(
                "{} #{} {when} (recommended {})",
                g.vaccine_group, g.dose_number, g.recommended
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn recall(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let scope = load_scope(&state, &ctx, Action::ReportReminderRecall, &p).await?;
    let run = recall_run(&ctx, scope, &p)?;
    let all_groups: Vec<String> = state
        .engine()
        .supporting_data()
        .vaccine_groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    let extra = html! {
        (date_field("from", "Due from", &run.query.from.to_string(), false))
        (date_field("to", "Due until", &run.query.to.to_string(), false))
        label.check { input type="checkbox" name="overdue" value="1" checked[run.query.include_overdue]; " Include overdue" }
        label {
            span { "Vaccine groups (none chosen: all)" }
            select name="group" multiple size="6" {
                @for g in &all_groups {
                    option value=(g) selected[run.groups.iter().any(|w| w.eq_ignore_ascii_case(g))] { (g) }
                }
            }
        }
    };
    if waits_for_filters(&ctx, &p) {
        let form = filters("/reports/recall", &run.scope, Some(&run.cohort), &p, extra);
        return Ok(filters_only(&ctx, "Reminder/recall", form));
    }
    let entries = recall_entries(&state, &run).await?;
    let what = format!("reminder/recall list for {}", run.scope.label);
    let actx = ctx.clone();
    state
        .db(move |s| actx.audit(s, None, AuditAction::Read, &what))
        .await?;
    if p.csv() {
        let mut head = CHILD_HEADER.to_vec();
        head.extend(["guardian", "address", "phone", "email", "due"]);
        return csv_download(
            "recall.csv",
            &head,
            entries.iter().map(|e| {
                let mut row = child_fields(&e.child);
                row.extend([
                    e.guardian.clone().unwrap_or_default(),
                    e.address.clone().unwrap_or_default(),
                    e.phone.clone().unwrap_or_default(),
                    e.email.clone().unwrap_or_default(),
                    due_text(e),
                ]);
                row
            }),
        );
    }
    let recorded = p.get("recorded").and_then(|n| n.parse::<usize>().ok());
    Ok(page::layout(
        &ctx,
        "Reminder/recall",
        html! {
            @if let Some(n) = recorded { p.ok role="status" { "Recorded " (n) " notice(s) as sent." } }
            (filters("/reports/recall", &run.scope, Some(&run.cohort), &p, extra))
            p { strong { (entries.len()) } " patient(s) due between " (run.query.from) " and " (run.query.to)
                @if run.query.include_overdue { " or overdue" } " as of " (run.cohort.as_of) " · " (run.scope.label) "." }
            (downloads(&p, "/reports/recall", &[("recall", "mailing and phone list")]))
            @if !entries.is_empty() {
                // Recording is offered only to roles that send notices.
                @if ctx.can(Action::RecallNoticeRecord) {
                    form.card.inline method="post" action="/reports/recall" {
                        (csrf_field(&ctx))
                        (p.hidden())
                        (select_field("method", "Record these notices as sent by",
                            NOTICE_METHODS.iter().map(|m| (*m, m.to_string())), "letter"))
                        button type="submit" { "Record " (entries.len()) " notice(s)" }
                    }
                }
                table {
                    thead { tr { th { "Patient" } th { "Born" } th { "Clinic" } th { "Guardian" } th { "Phone" } th { "Address" } th { "Due" } } }
                    tbody { @for e in entries.iter().take(LIST_LIMIT) { tr {
                        (child_cells(&e.child))
                        td { (e.guardian.clone().unwrap_or_default()) }
                        td { (e.phone.clone().unwrap_or_default()) }
                        td { (e.address.clone().unwrap_or_default()) }
                        td { (due_text(e)) }
                    } } }
                }
                (more_rows(entries.len()))
            }
        },
    )
    .into_response())
}

/// Records that the listed patients were sent a notice: re-runs the same query (so the
/// recorded list is what the page showed) and stores the notices in one transaction.
pub async fn record_recall(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(form);
    // Recording is a write: the matrix allows it only to roles that send notices (not
    // the read-only health departments, who may still run the report).
    ctx.require(Action::RecallNoticeRecord)?;
    ctx.check_csrf(p.get("csrf").unwrap_or(""))?;
    let method = p.get("method").unwrap_or("").to_lowercase();
    if !NOTICE_METHODS.contains(&method.as_str()) {
        return Err(AppError::BadRequest(format!(
            "Unknown notice method {method:?}; choose letter, phone, text or email."
        )));
    }
    let scope = load_scope(&state, &ctx, Action::RecallNoticeRecord, &p).await?;
    let run = recall_run(&ctx, scope, &p)?;
    let entries = recall_entries(&state, &run).await?;
    let sent_by = ctx.actor();
    let where_ = run.cohort.recorded_scope();
    let notices: Vec<RecallNotice> = entries
        .iter()
        .filter_map(|e| {
            Some(RecallNotice {
                patient: e.child.id?,
                sent_on: ctx.now.date(),
                method: method.clone(),
                vaccine_groups: e.due.iter().map(|g| g.vaccine_group.clone()).collect(),
                sent_by: sent_by.clone(),
                scope: where_.clone(),
            })
        })
        .collect();
    let n = notices.len();
    state
        .db(move |s| Ok(s.record_recall_notices(&notices)?))
        .await?;
    let n = n.to_string();
    Ok(Redirect::to(&p.link("/reports/recall", &[("recorded", &n)])).into_response())
}

// ---------------------------------------------------------------- DQA

fn facility_visible(ctx: &Ctx, clinics: &[Clinic], facility: &str) -> bool {
    ctwiz_store::usecase::reports::dqa_facility_visible(&ctx.as_actor(), clinics, facility)
}

pub async fn dqa(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    ctx.require(Action::ReportDqa)?;
    let p = Params(q);
    let to = p.date("to")?.unwrap_or(ctx.now.date());
    let from = p.date("from")?.unwrap_or(to - Days::new(30));
    if from > to {
        return Err(AppError::BadRequest(format!(
            "The period starts ({from}) after it ends ({to})."
        )));
    }
    let wanted = p.get("clinic").map(ClinicPin::new).transpose()?;
    let ctx2 = ctx.clone();
    let (clinics, activity, errors) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let keep = |f: &str| {
                facility_visible(&ctx2, &clinics, f)
                    && wanted
                        .as_ref()
                        .is_none_or(|w| w.as_str().eq_ignore_ascii_case(f))
            };
            let activity: Vec<ActivityRow> = s
                .interface_activity(from, to)?
                .into_iter()
                .filter(|r| keep(&r.facility))
                .collect();
            let errors: Vec<ErrorCodeRow> = s
                .interface_error_counts(from, to)?
                .into_iter()
                .filter(|r| keep(&r.facility))
                .collect();
            Ok((clinics, activity, errors))
        })
        .await?;
    if p.csv() {
        return match p.get("table") {
            Some("errors") => csv_download(
                "dqa-errors.csv",
                &ErrorCodeRow::COLUMNS,
                errors.iter().map(ErrorCodeRow::cells),
            ),
            _ => csv_download(
                "dqa-activity.csv",
                &ActivityRow::COLUMNS,
                activity.iter().map(ActivityRow::cells),
            ),
        };
    }
    let choices: Vec<&Clinic> = if ctx.clinic().is_some() {
        Vec::new()
    } else {
        clinics
            .iter()
            .filter(|c| facility_visible(&ctx, &clinics, c.pin.as_str()))
            .collect()
    };
    let received: u64 = activity.iter().map(|r| r.received).sum();
    Ok(page::layout(
        &ctx,
        "DQA – Interface Activity",
        html! {
            form.card method="get" action="/reports/dqa" {
                div.grid {
                    (date_field("from", "From", &from.to_string(), false))
                    (date_field("to", "To", &to.to_string(), false))
                    @if !choices.is_empty() {
                        (select_field("clinic", "Facility",
                            std::iter::once(("", "All facilities in scope".to_string())).chain(
                                choices.iter().map(|c| (c.pin.as_str(), format!("{} ({})", c.name, c.pin)))),
                            p.get("clinic").unwrap_or("")))
                    }
                }
                div.actions { button type="submit" { "Run report" } }
            }
            p { "Interface activity from " (from) " to " (to) " for " (page::acting_label(&ctx)) ": "
                strong { (received) } " message(s) received. Late reports are doses reported more than 48 hours after they were given." }
            @if activity.is_empty() {
                p.notice { "No HL7 interface messages were received in this period." }
            } @else {
                table {
                    thead { tr { th { "Facility" } th { "Day" } th { "Received" } th { "Accepted (AA)" } th { "Errors (AE)" }
                        th { "Rejected (AR)" } th { "With warnings" } th { "Late reports" } th { "Late doses" } th { "In QA" } } }
                    tbody { @for r in &activity { tr {
                        td { (r.facility) } td { (r.day) } td { (r.received) } td { (r.accepted) } td { (r.errors) }
                        td { (r.rejected) } td { (r.with_warnings) } td { (r.late_reports) } td { (r.late_doses) } td { (r.qa) }
                    } } }
                }
            }
            h2 { "Errors and warnings by code" }
            @if errors.is_empty() { p.muted { "None." } } @else {
                table {
                    thead { tr { th { "Facility" } th { "Day" } th { "Severity" } th { "HL7 0357" } th { "Application code" } th { "Count" } } }
                    tbody { @for r in &errors { tr {
                        td { (r.facility) } td { (r.day) } td { (r.severity) } td { (r.hl7_code) }
                        td { (r.app_code.clone().unwrap_or_default()) } td { (r.count) }
                    } } }
                }
            }
            (downloads(&p, "/reports/dqa", &[("activity", "activity"), ("errors", "error codes")]))
        },
    )
    .into_response())
}
