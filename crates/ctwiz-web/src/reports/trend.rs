//! Coverage by month over the last 24 months: "have rates declined?" (the chart the CLI's
//! `report trend` draws), computed in one pass (`run::coverage_trend`).

use super::{
    chart_markup, csv_download, downloads, filters, filters_only, load_scope, waits_for_filters,
    Params, ScopeCohort,
};
use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::access::Action;
use ctwiz_core::assessment::coverage::{Context, CoverageReport, Series};
use ctwiz_core::assessment::run;
use maud::html;

/// Months shown: two years, as the state's "have rates declined?" asks.
pub const MONTHS: u32 = 24;

pub async fn trend(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let p = Params(q);
    let scope = load_scope(&state, &ctx, Action::ReportCoverage, &p).await?;
    let series = Series::Childhood;
    let cohort = scope.cohort(&p, ctx.now.date(), series.default_ages())?;
    if waits_for_filters(&ctx, &p) {
        let form = filters("/reports/trend", &scope, Some(&cohort), &p, html! {});
        return Ok(filters_only(&ctx, "Coverage trend", form));
    }
    let dates = run::trend_dates(&cohort, MONTHS, 1)
        .ok_or_else(|| AppError::BadRequest("The as-of date is too early.".into()))?;
    let (st, actor, now) = (state.clone(), ctx.as_actor(), ctx.now);
    let what = format!("coverage trend for {}", scope.label);
    let (c2, d2) = (cohort.clone(), dates.clone());
    let points: Vec<(chrono::NaiveDate, CoverageReport)> = state
        .db(move |s| {
            let c = Context {
                engine: st.engine(),
                codes: st.codes(),
            };
            let range = run::trend_dob_range(&c2, &d2);
            let r = run::coverage_trend(&c, series, &c2, &d2, |f| {
                ctwiz_store::PatientStore::for_each_chunk(s, Some(range), 4096, &mut |chunk| {
                    f(chunk);
                    Ok(())
                })
            })?;
            // Aggregates only, but computed from every child's record.
            ctwiz_store::usecase::reports::disclosed(s, &actor, &what, now)?;
            Ok(r)
        })
        .await?;
    let (head, rows) = run::trend_table(&points);
    if p.csv() {
        return csv_download("coverage-trend.csv", &head, rows);
    }
    let headline = series.headline();
    let first = points
        .first()
        .map(|(_, r)| r.total.rate(headline))
        .unwrap_or(0.0);
    let last = points
        .last()
        .map(|(_, r)| r.total.rate(headline))
        .unwrap_or(0.0);
    Ok(page::layout(
        &ctx,
        "Coverage trend",
        html! {
            (filters("/reports/trend", &scope, Some(&cohort), &p, html! {}))
            p { (headline.label()) " among children aged " (cohort.min_age_months) "–" (cohort.max_age_months)
                " months went from " strong { (format!("{first:.1}%")) } " on " (dates[0]) " to "
                strong { (format!("{last:.1}%")) } " on " (cohort.as_of) " · " (scope.label) "." }
            p.muted { "Each month counts the children in the age band on that day, with the doses recorded by then." }
            (chart_markup(run::trend_chart("Coverage by month", &points, "%Y-%m")))
            (downloads(&p, "/reports/trend", &[("trend", "coverage by month")]))
            table {
                thead { tr { @for h in &head { th { (h) } } } }
                tbody { @for r in &rows { tr { @for c in r { td { (c) } } } } }
            }
        },
    )
    .into_response())
}
