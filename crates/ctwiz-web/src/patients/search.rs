//! Patient search: the search form, its query and the paged result list.

use super::{opt, parse_date, status_label};
use crate::error::AppError;
use crate::page::{self, date_field, form_error, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use ctwiz_core::access::Action;
use ctwiz_core::ids::PatientId;
use ctwiz_store::PatientQuery;
use maud::{html, Markup};
use serde::Deserialize;

const PAGE_SIZE: u32 = 25;

// ---------------------------------------------------------------- search

#[derive(Deserialize, Default, Clone)]
pub struct SearchParams {
    #[serde(default)]
    family: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    dob: String,
    #[serde(default)]
    mrn: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    page: u32,
}

impl SearchParams {
    fn is_empty(&self) -> bool {
        [&self.family, &self.given, &self.dob, &self.mrn, &self.id]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    fn query_string(&self, page: u32) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "?family={}&given={}&dob={}&mrn={}&id={}&page={page}",
            enc(&self.family),
            enc(&self.given),
            enc(&self.dob),
            enc(&self.mrn),
            enc(&self.id)
        )
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchParams>,
) -> Result<Markup, AppError> {
    ctx.require(&state, Action::PatientSearch).await?;
    let mut error = None;
    let mut results = None;
    if !q.is_empty() {
        match build_query(&q) {
            Ok(query) => {
                let actor = ctx.as_actor();
                let now = ctx.now;
                results = Some(
                    state
                        .db(move |s| {
                            Ok(ctwiz_store::usecase::patients::search(
                                s, &actor, query, now,
                            )?)
                        })
                        .await?,
                );
            }
            Err(AppError::BadRequest(m)) => error = Some(m),
            Err(e) => return Err(e),
        }
    }
    Ok(page::layout(
        &ctx,
        "Patient search",
        html! {
            form.card method="get" action="/patients" {
                div.grid {
                    (text_field("family", "Last name (starts with, sounds like)", &q.family, false))
                    (text_field("given", "First name", &q.given, false))
                    (date_field("dob", "Date of birth", &q.dob, false))
                    (text_field("mrn", "Medical record number", &q.mrn, false))
                    (text_field("id", "ctwiz ID", &q.id, false))
                }
                div.actions {
                    button type="submit" { "Search" }
                    @if ctx.can(Action::PatientEdit) { a.button.secondary href="/patients/new" { "Add a patient" } }
                }
            }
            (form_error(error.as_deref()))
            @if let Some((rows, total)) = &results {
                p.muted { (total) " matching record(s)" }
                @if rows.is_empty() {
                    p { "No patient matches. Check the spelling or search by date of birth." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Date of birth" } th { "Sex" } th { "County" } th { "ID" } th { "Status" } } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td { a href={ "/patients/" (r.id) } { (r.name.display()) } }
                                    td { (r.dob) }
                                    td { (r.sex.code()) }
                                    td { (r.county.map(|c| c.name()).unwrap_or("")) }
                                    td { (r.id) }
                                    td {
                                        (status_label(r.status))
                                        @if r.opted_out { " · opted out" }
                                        @if r.confidential { " · confidential" }
                                    }
                                }
                            }
                        }
                    }
                    div.pager {
                        @if q.page > 0 { a href={ "/patients" (q.query_string(q.page - 1)) } { "← Previous" } }
                        span.muted { "Page " (q.page + 1) " of " (total.div_ceil(u64::from(PAGE_SIZE)).max(1)) }
                        @if u64::from((q.page + 1) * PAGE_SIZE) < *total { a href={ "/patients" (q.query_string(q.page + 1)) } { "Next →" } }
                    }
                }
            }
        },
    ))
}

fn build_query(q: &SearchParams) -> Result<PatientQuery, AppError> {
    let id = match opt(&q.id) {
        Some(s) => Some(PatientId(s.parse::<i64>().map_err(|_| {
            AppError::BadRequest(format!("ctwiz ID: {s:?} is not a number"))
        })?)),
        None => None,
    };
    let dob = opt(&q.dob)
        .map(|d| parse_date("Date of birth", d))
        .transpose()?;
    Ok(PatientQuery {
        family: opt(&q.family).map(str::to_string),
        given: opt(&q.given).map(str::to_string),
        dob,
        mrn: opt(&q.mrn).map(str::to_string),
        id,
        // The use case narrows a health department to its jurisdiction.
        counties: None,
        towns: None,
        phonetic: true,
        limit: PAGE_SIZE,
        offset: q.page.saturating_mul(PAGE_SIZE),
    })
}
