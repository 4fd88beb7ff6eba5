//! The state's real-time reporting dashboard (`usecase::reports::realtime` decides the
//! scope; this renders).

use crate::error::AppError;
use crate::page::{self, date_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use ctwiz_core::assessment::realtime::{REAL_TIME_HOURS, REAL_TIME_SHARE};
use ctwiz_store::usecase;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Period {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn realtime(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Period>,
) -> Result<Markup, AppError> {
    let today = ctx.now.date();
    let to = match q.to.trim() {
        "" => today,
        v => super::parse_date("To", v)?,
    };
    let from = match q.from.trim() {
        "" => to - chrono::Days::new(29),
        v => super::parse_date("From", v)?,
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let r = state
        .db(move |s| Ok(usecase::reports::realtime(s, &actor, from, to, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Real-time reporting",
        html! {
            form.card method="get" action="/reports/realtime" {
                div.grid {
                    (date_field("from", "Doses given from", &from.to_string(), false))
                    (date_field("to", "to", &to.to_string(), false))
                }
                div.actions { button type="submit" { "Show" } }
            }
            p {
                strong { (r.real_time_practices) " of " (r.practices) } " practice(s) report in real time ("
                (format!("{:.1}", r.share_of_practices())) "%: at least " (REAL_TIME_SHARE) "% of their doses recorded within "
                (REAL_TIME_HOURS) " hours of administration). Of " (r.doses) " doses given, "
                (format!("{:.1}", r.share_of_doses())) "% arrived within " (REAL_TIME_HOURS) " hours."
            }
            @if r.rows.is_empty() { p.muted { "No administered doses in this period." } } @else {
                table {
                    thead { tr { th { "Practice" } th { "Doses" } th { "Within 48 h" } th { "Share" } th { "Median lag" } th { "Method" } th { "Real time" } } }
                    tbody { @for row in &r.rows { tr {
                        td { (row.clinic) } td { (row.doses) } td { (row.within_48h) }
                        td { (format!("{:.1}%", row.share)) } td { (format!("{:.1} h", row.median_lag_hours)) }
                        td { (row.method) }
                        td { @if row.real_time { span.ok { "yes" } } @else { span.bad { "no" } } }
                    } } }
                }
            }
        },
    ))
}
