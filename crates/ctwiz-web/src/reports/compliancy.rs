//! The compliancy report at 8 and 20 months of age.

use super::{
    chart_markup, csv_download, downloads, filters, filters_only, load_scope, stream,
    waits_for_filters, Params, ScopeCohort,
};
use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use ctwiz_core::access::Action;
use ctwiz_core::assessment::compliancy::CompliancyReport;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_core::assessment::{chart, defaults, run};
use maud::html;

/// The compliancy milestones, in months of age.
const MILESTONES: [u32; 2] = defaults::COMPLIANCY_MILESTONES;

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
            let c = Context {
                engine: st.engine(),
                codes: st.codes(),
            };
            Ok(run::compliancy(&c, &MILESTONES, &c2, |f| {
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
