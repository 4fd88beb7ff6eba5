//! The two-year-old clean-up list.

use super::coverage::{behind_csv, behind_table};
use super::{
    downloads, filters, filters_only, load_scope, run_coverage, waits_for_filters, Params,
    ScopeCohort,
};
use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::access::Action;
use ctwiz_core::assessment::coverage::Series;
use ctwiz_core::assessment::defaults;
use maud::html;

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
            (behind_table(&r, "To clean up", super::coverage::refers(&ctx)))
        },
    )
    .into_response())
}
