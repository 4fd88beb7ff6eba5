//! The Reports module: coverage (AFIX-style), compliancy at 8 and 20 months, the
//! two-year-old clean-up list, reminder/recall and DQA – Interface Activity.
//!
//! Every report runs the engine the CLI runs (`ctwiz_core::assessment::run` over
//! `PatientStore::for_each_chunk`, on a blocking thread) on a cohort scoped by where the
//! user acts: a clinic user gets their acting clinic, a health department its
//! jurisdiction (never another county), the state anything it picks with the filters.
//! Which scopes a user may pick is asked of `ctwiz_core::access::can`, never decided here.

use crate::error::AppError;
use crate::page::{self, date_field, select_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use ctwiz_core::access::Action;
use ctwiz_core::assessment::coverage::{Context, CoverageReport, Series};
use ctwiz_core::assessment::{run, ChildRef, Cohort};
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::place::Jurisdiction;
use ctwiz_store::{PatientStore, SqliteStore};
use maud::{html, Markup, PreEscaped};

mod cleanup;
mod compliancy;
mod coverage;
mod dqa;
mod recall;
mod students;

pub use cleanup::cleanup;
pub use compliancy::compliancy;
pub use coverage::coverage;
pub use dqa::dqa;
pub use recall::{recall, record_recall};
pub mod distributed;
pub mod realtime;
pub mod trend;
pub use students::students;

/// Children per chunk streamed from the store (as the CLI).
const CHUNK: usize = 4096;
/// Rows of a patient list shown on a page; the CSV download has them all.
const LIST_LIMIT: usize = 500;

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

pub(super) fn url_encode(s: &str) -> String {
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
        Ok(self.cohort_of(p.date("as_of")?.unwrap_or(today), (min, max)))
    }
}

async fn load_scope(
    state: &AppState,
    ctx: &Ctx,
    action: Action,
    p: &Params,
) -> Result<ReportScope, AppError> {
    let wanted_clinic = p.get("clinic").map(ClinicPin::new).transpose()?;
    // `county` is the filter's name from before towns (bookmarked links keep working).
    let wanted_area = p
        .get("area")
        .or_else(|| p.get("county"))
        .map(str::to_string);
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(ctwiz_store::usecase::reports::scope(
                s,
                &actor,
                action,
                wanted_clinic,
                wanted_area.as_deref(),
                now,
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
    let area_value = |j: &Jurisdiction| j.name().to_string();
    let areas: Vec<(String, String)> = scope
        .area_choices
        .iter()
        .map(|j| (area_value(j), j.label()))
        .collect();
    let chosen_area = scope
        .chosen_area
        .as_ref()
        .map(area_value)
        .unwrap_or_default();
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
                @if scope.area_choices.len() > 1 {
                    (select_field("area", "County or health department",
                        std::iter::once(("", "All in scope".to_string())).chain(
                            areas.iter().map(|(v, l)| (v.as_str(), l.clone()))),
                        &chosen_area))
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

pub(super) fn downloads(p: &Params, path: &str, tables: &[(&str, &str)]) -> Markup {
    html! {
        p.no-print { "Download CSV: "
            @for (i, (table, label)) in tables.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(p.link(path, &[("format", "csv"), ("table", table)])) { (label) }
            }
        }
    }
}

pub(super) fn chart_markup(svg: String) -> Markup {
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
            ctwiz_store::usecase::reports::disclosed(s, &ctx.as_actor(), &what, ctx.now)?;
            Ok(r)
        })
        .await
}

// ---------------------------------------------------------------- index

pub async fn index(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let reports: [(Action, &str, &str, &str); 9] = [
        (
            Action::ReportCoverage,
            "/reports/realtime",
            "Real-time reporting",
            "Per practice: doses given, the share recorded within 48 hours, median lag and method.",
        ),
        (
            Action::ReportCoverage,
            "/reports/distributed",
            "Distributed reports",
            "Monthly compliancy and the yearly two-year-old clean-up, sent to this practice by DPH.",
        ),
        (
            Action::ReportCoverage,
            "/reports/coverage",
            "Coverage (AFIX)",
            "4:3:1:3:3:1:4 by the 2nd birthday, each antigen, adolescent and flu coverage, missed opportunities, children behind.",
        ),
        (
            Action::ReportCoverage,
            "/reports/trend",
            "Coverage trend",
            "4:3:1:3:3:1:4 coverage month by month over the last two years: have rates declined?",
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
        (
            Action::ReportRosterStatus,
            "/reports/students",
            "Students not up to date",
            "Rostered students with a vaccine past due today, and what each is missing.",
        ),
    ];
    if !reports.iter().any(|(a, ..)| ctx.can(*a)) {
        // Refused (and audited) as the first report would be.
        ctx.require(&state, Action::ReportCoverage).await?;
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

fn more_rows(n: usize) -> Markup {
    html! {
        @if n > LIST_LIMIT {
            p.notice { "The first " (LIST_LIMIT) " of " (n) " are shown; the CSV download has them all." }
        }
    }
}
