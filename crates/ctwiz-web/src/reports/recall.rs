//! Reminder/recall: the list of children due or overdue, and recording the notices sent.

use super::{
    child_cells, child_fields, csv_download, downloads, filters, filters_only, load_scope,
    more_rows, stream, waits_for_filters, Params, ScopeCohort, CHILD_HEADER, LIST_LIMIT,
};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, select_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Days;
use ctwiz_core::access::Action;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_core::assessment::recall::{RecallEntry, RecallQuery};
use ctwiz_core::assessment::{defaults, run, Cohort};
use ctwiz_store::usecase::reports::{self as usecase, ReportScope};
use maud::html;

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
            let c = Context {
                engine: st.engine(),
                codes: st.codes(),
            };
            Ok(run::recall(&c, &q, &cohort, |f| stream(s, &cohort, f))?)
        })
        .await
}

fn due_text(e: &RecallEntry) -> String {
    e.due
        .iter()
        .map(|g| {
            let when = match g.urgency {
                ctwiz_core::assessment::recall::Urgency::Due => "due",
                ctwiz_core::assessment::recall::Urgency::Overdue => "overdue",
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
        .map(|g| g.name.to_string())
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
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::disclosed(s, &actor, &what, now)?))
        .await?;
    if p.csv() {
        let mut head = CHILD_HEADER.to_vec();
        head.extend(["guardian", "address", "phone", "email", "due", "not_asked"]);
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
                    e.not_asked.join("; "),
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
                            usecase::NOTICE_METHODS.iter().map(|m| (*m, m.to_string())), "letter"))
                        button type="submit" { "Record " (entries.len()) " notice(s)" }
                    }
                }
                table {
                    thead { tr { th { "Patient" } th { "Born" } th { "Clinic" } th { "Guardian" } th { "Phone" } th { "Address" } th { "Due" } th { "Not asked (reason)" } } }
                    tbody { @for e in entries.iter().take(LIST_LIMIT) { tr {
                        (child_cells(&e.child))
                        td { (e.guardian.clone().unwrap_or_default()) }
                        td { (e.phone.clone().unwrap_or_default()) }
                        td { (e.address.clone().unwrap_or_default()) }
                        td { (due_text(e)) }
                        td { (e.not_asked.join("; ")) }
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
    ctx.check_csrf(p.get("csrf").unwrap_or(""))?;
    let method = p.get("method").unwrap_or("").to_string();
    let scope = load_scope(&state, &ctx, Action::RecallNoticeRecord, &p).await?;
    let run = recall_run(&ctx, scope, &p)?;
    let entries = recall_entries(&state, &run).await?;
    let sent: Vec<usecase::NoticeSent> = entries
        .iter()
        .filter_map(|e| {
            Some(usecase::NoticeSent {
                patient: e.child.id?,
                vaccine_groups: e.due.iter().map(|g| g.vaccine_group.clone()).collect(),
            })
        })
        .collect();
    let where_ = run.cohort.recorded_scope();
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let n = state
        .db(move |s| {
            Ok(usecase::record_notices(
                s,
                &actor,
                &method,
                now.date(),
                &where_,
                &sent,
                now,
            )?)
        })
        .await?;
    let n = n.to_string();
    Ok(Redirect::to(&p.link("/reports/recall", &[("recorded", &n)])).into_response())
}
