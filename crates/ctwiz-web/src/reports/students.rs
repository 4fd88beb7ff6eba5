//! The school nurse's report: rostered students not up to date, and what each is missing
//! (`usecase::rosters::not_up_to_date` decides and audits; this page renders).

use crate::error::AppError;
use crate::page;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::State;
use ctwiz_core::access::Action;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_store::usecase;
use maud::{html, Markup};

pub async fn students(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    if ctx.clinic().is_none() {
        ctx.require(&state, Action::ReportRosterStatus).await?;
        return Ok(page::layout(
            &ctx,
            "Students not up to date",
            html! { p { "Rosters are kept per school. Sign in with a school account to see its students." } },
        ));
    }
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let st = state.clone();
    let (behind, up_to_date) = state
        .db(move |s| {
            let c = Context {
                engine: st.engine(),
                codes: st.codes(),
            };
            Ok(usecase::rosters::not_up_to_date(
                s,
                &c,
                &actor,
                now.date(),
                now,
            )?)
        })
        .await?;
    Ok(page::layout(
        &ctx,
        "Students not up to date",
        html! {
            p {
                "On " (now.date()) ": " strong { (behind.len()) } " rostered student(s) have a vaccine past due; "
                (up_to_date) " are up to date. Past due means the Recommender's past-due date (CDC schedule) has passed; evidence of immunity, contraindications and exemptions on the record excuse a vaccine."
            }
            @if behind.is_empty() {
                p.muted { "Every student on the roster is up to date." }
            } @else {
                table {
                    thead { tr { th { "Student" } th { "Date of birth" } th { "Missing (dose, past due since)" } th { "Excused" } } }
                    tbody { @for st in &behind { tr {
                        td { a href={ "/patients/" (st.student.id) } { (st.student.name) } }
                        td { (st.student.dob) }
                        td { ul.plain { @for g in &st.missing { li {
                            (g.vaccine_group) " dose " (g.dose_number)
                            @if let Some(pd) = g.past_due { " (since " (pd) ")" }
                        } } } }
                        td { @for e in &st.excused { div.muted { (e) } } }
                    } } }
                }
            }
            p { a href="/rosters" { "Manage the roster" } }
        },
    ))
}
