//! The coverage report (AFIX-style): rates by series, chart, and the children behind.

use super::{
    chart_markup, child_cells, child_fields, csv_download, downloads, filters, filters_only,
    load_scope, more_rows, run_coverage, waits_for_filters, Params, ScopeCohort, CHILD_HEADER,
    LIST_LIMIT,
};
use crate::error::AppError;
use crate::page::{self, select_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::access::Action;
use ctwiz_core::assessment::chart;
use ctwiz_core::assessment::coverage::{CoverageReport, Series};
use maud::{html, Markup};

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
            (behind_table(&r, "Children not up to date", refers(&ctx)))
        },
    )
    .into_response())
}

/// Whether the lists offer "Refer to IAP": to practices that may refer.
pub(super) fn refers(ctx: &Ctx) -> bool {
    ctx.clinic().is_some() && ctx.can(Action::ReferralCreate)
}

/// The children behind; `refer` adds a "Refer to IAP" link per child (for practices).
pub(super) fn behind_table(r: &CoverageReport, title: &str, refer: bool) -> Markup {
    let refer_link = |a: &ctwiz_core::assessment::coverage::ChildAssessment| {
        a.child.id.map(|id| {
            format!(
                "/outreach?patient={id}&reason={}",
                super::url_encode(&a.missing.join("; "))
            )
        })
    };
    html! {
        h2 { (title) " (" (r.behind.len()) ")" }
        @if r.behind.is_empty() { p.muted { "Every child in the cohort is up to date." } } @else {
            table {
                thead { tr { th { "Child" } th { "Born" } th { "Clinic" } th { "Missing" } th { "Not asked (reason)" } th { "Missed opportunities" } @if refer { th { "Outreach" } } } }
                tbody { @for a in r.behind.iter().take(LIST_LIMIT) { tr {
                    (child_cells(&a.child))
                    td { (a.missing.join(", ")) }
                    td { (a.not_due.join(", ")) }
                    td { (a.missed_opportunities) }
                    @if refer { td { @if let Some(href) = refer_link(a) { a href=(href) { "Refer to IAP" } } } }
                } } }
            }
            (more_rows(r.behind.len()))
        }
    }
}

pub(super) fn behind_csv(filename: &str, r: &CoverageReport) -> Result<Response, AppError> {
    let mut head = CHILD_HEADER.to_vec();
    head.extend(["missing", "not_asked", "missed_opportunities"]);
    csv_download(
        filename,
        &head,
        r.behind.iter().map(|a| {
            let mut row = child_fields(&a.child);
            row.push(a.missing.join("; "));
            row.push(a.not_due.join("; "));
            row.push(a.missed_opportunities.to_string());
            row
        }),
    )
}
