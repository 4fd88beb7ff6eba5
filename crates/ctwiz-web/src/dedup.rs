//! Possible duplicates: the review queue (filled by the HL7 interface when a submission
//! matches an existing record only uncertainly, and by the duplicate scan) shown as
//! clusters with each pair's score and evidence, a side-by-side comparison of a pair with their
//! doses, and the two decisions (merge, or not a duplicate). Only users the core matrix
//! allows `Action::PatientMerge` (DPH state users) get here.

use crate::error::AppError;
use crate::page::{self, csrf_field};
use crate::patients::vaccine_name;
use crate::session::{CsrfOnly, Ctx};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::dose::Dose;
use ctwiz_core::ids::PatientId;
use ctwiz_core::merge::same_dose_event;
use ctwiz_core::patient::Patient;
use ctwiz_store::dedup::{DedupPair, DedupSide};
use ctwiz_store::usecase;
use ctwiz_store::usecase::dedup::ReviewCluster;
use maud::{html, Markup};
use serde::Deserialize;

const PAGE_SIZE: u32 = 25;

#[derive(Deserialize, Default)]
pub struct QueueParams {
    #[serde(default)]
    page: u32,
}

fn identifiers(p: &Patient) -> Markup {
    html! {
        @for m in &p.mrns { span.tag { "MRN " (m.value) " @ " (m.clinic) } " " }
        @for i in &p.identifiers { span.tag { (i.kind) " " (i.value) } " " }
    }
}

fn side_cells(side: &DedupSide) -> Markup {
    let p = &side.patient;
    html! {
        td { a href={ "/patients/" (side.id()) } { (p.name.display()) } span.muted { " #" (side.id()) } }
        td { (p.dob) }
        td { (p.sex.code()) }
        td { (identifiers(p)) }
        td { (side.live_doses) }
    }
}

/// One field's part in a pair's score: "family name: exact (+5.2)", coloured by sign.
fn evidence_list(evidence: &[ctwiz_core::matching::Evidence]) -> Markup {
    html! {
        ul.evidence {
            @for e in evidence.iter().filter(|e| e.weight != 0.0) {
                li class=(if e.weight > 0.0 { "for" } else { "against" }) { (e.to_string()) }
            }
        }
    }
}

/// The warning on "Add a patient" when the new record may duplicate existing ones: each
/// match with its score and evidence, and the confirmation that saving creates a new record.
pub fn possible_duplicates_notice(
    found: &[ctwiz_store::usecase::possible_matches::PossibleMatch],
) -> Markup {
    html! {
        section.card.warn {
            h2 { "This child may already be in the registry" }
            p { "Open the existing record if it is the same child. Save again only if this is someone else: a new record is created." }
            table {
                thead { tr { th { "Name" } th { "Date of birth" } th { "Sex" } th { "Identifiers" } th { "Doses" } th { "Match" } th { "Evidence" } } }
                tbody {
                    @for m in found {
                        tr {
                            (side_cells(&m.existing))
                            td { (format!("{:.3}", m.probability)) }
                            td { (evidence_list(&m.evidence)) }
                        }
                    }
                }
            }
            input type="hidden" name="confirm_new" value="1";
        }
    }
}

fn cluster_card(n: u64, c: &ReviewCluster) -> Markup {
    html! {
        section.card.cluster {
            h2 { "Cluster " (n) span.muted { " — best match " (format!("{:.3}", c.best())) ", " (c.records.len()) " records" } }
            table {
                thead { tr { th { "Name" } th { "Date of birth" } th { "Sex" } th { "Identifiers" } th { "Doses" } } }
                tbody { @for side in &c.records { tr { (side_cells(side)) } } }
            }
            table {
                thead { tr { th { "Pair" } th { "Score" } th { "Evidence" } th { "Flagged" } th { "" } } }
                tbody {
                    @for p in &c.pairs {
                        tr {
                            td { "#" (p.a) " / #" (p.b) }
                            td { (format!("{:.3}", p.probability)) }
                            td { (evidence_list(&p.evidence)) }
                            td { (p.flagged_at.date()) br; span.muted { (p.source) } }
                            td { a.button.small href={ "/patients/duplicates/" (p.review) } { "Compare" } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<QueueParams>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let page_no = q.page;
    let res = state
        .db(move |s| {
            Ok(usecase::dedup::clusters_page(
                s,
                &actor,
                PAGE_SIZE,
                page_no * PAGE_SIZE,
                now,
            )?)
        })
        .await?;
    let first = u64::from(page_no * PAGE_SIZE);
    Ok(page::layout(
        &ctx,
        "Possible duplicates",
        html! {
            p.muted { (res.total_pairs) " pair(s) in " (res.total_clusters) " cluster(s) waiting for review, strongest match first. Pairs are flagged when a submission matches an existing record only uncertainly, or by the duplicate scan (" code { "ctwiz patient dedup-scan" } "). Records joined by pairs form one cluster." }
            @if res.clusters.is_empty() { p { "Nothing to review." } } @else {
                @for (i, c) in res.clusters.iter().enumerate() { (cluster_card(first + i as u64 + 1, c)) }
                div.pager {
                    @if q.page > 0 { a href={ "/patients/duplicates?page=" (q.page - 1) } { "← Previous" } }
                    span.muted { "Page " (q.page + 1) " of " (res.total_clusters.div_ceil(u64::from(PAGE_SIZE)).max(1)) }
                    @if u64::from((q.page + 1) * PAGE_SIZE) < res.total_clusters { a href={ "/patients/duplicates?page=" (q.page + 1) } { "Next →" } }
                }
            }
        },
    ))
}

fn record_column(
    state: &AppState,
    side: &DedupSide,
    doses: &[Dose],
    other: &[Dose],
    flag: &str,
) -> Markup {
    let p = &side.patient;
    let codes = state.codes();
    html! {
        section.card {
            h2 { (flag) ": " (p.name.display()) span.muted { " #" (side.id()) } }
            dl.facts {
                dt { "Date of birth" } dd { (p.dob) }
                dt { "Sex" } dd { (p.sex.code()) }
                @if let Some(m) = &p.mothers_maiden_name { dt { "Mother's maiden name" } dd { (m) } }
                @if let Some(o) = p.birth_order { dt { "Birth order" } dd { (o) } }
                @if let Some(a) = p.addresses.first() { dt { "Address" } dd { (a.street) ", " (a.city) " " (a.zip) } }
                @for g in &p.guardians { dt { "Guardian" } dd { (g.name.display()) } }
                dt { "Identifiers" } dd { (identifiers(p)) }
                @if p.confidential { dt { "Privacy" } dd.warn { "Confidential record" } }
                @if let Some(o) = &p.opt_out { dt { "Opted out" } dd.warn { (o.date) " – " (o.reason) } }
            }
            h3 { (doses.len()) " dose(s)" }
            table {
                thead { tr { th { "Date" } th { "Vaccine" } th { "Lot" } th { "Clinic" } th { "" } } }
                tbody {
                    @for d in doses {
                        tr {
                            td { (d.date) }
                            td { (vaccine_name(codes, &d.cvx)) span.muted { " CVX " (d.cvx) } }
                            td { (d.lot.as_ref().map(|l| l.to_string()).unwrap_or_default()) }
                            td { (d.clinic.as_ref().map(|c| c.to_string()).unwrap_or_default()) }
                            td { @if other.iter().any(|o| same_dose_event(d, o)) { span.muted { "on both" } } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn compare(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(review): Path<i64>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let (pair, mine, theirs): (DedupPair, Vec<Dose>, Vec<Dose>) = state
        .db(move |s| Ok(usecase::dedup::compare(s, &actor, review, now)?))
        .await?;
    let (a, b) = (pair.patient.id(), pair.candidate.id());
    // The older record (lower id) is offered as the survivor by default.
    let (older, newer) = if a < b { (a, b) } else { (b, a) };
    Ok(page::layout(
        &ctx,
        "Compare possible duplicates",
        html! {
            p.muted { "Flagged " (pair.flagged_at) " by " (pair.source) ". Doses marked “on both” are one event: a merge keeps it once." }
            div.cols {
                div { (record_column(&state, &pair.patient, &mine, &theirs, "Record A")) }
                div { (record_column(&state, &pair.candidate, &theirs, &mine, "Record B")) }
            }
            form.card.stack method="post" action={ "/patients/duplicates/" (review) "/merge" } {
                (csrf_field(&ctx))
                h2 { "Merge" }
                p { "The surviving record keeps its demographics; its empty fields are filled from the other. Every dose, observation and MRN of the other record moves to it; the other record is retired and its id leads to the survivor." }
                fieldset {
                    legend { "Keep" }
                    @for (id, label) in [(older, "older record"), (newer, "newer record")] {
                        label { input type="radio" name="survivor" value=(id) checked[id == older] required; " #" (id) " (" (label) ")" }
                    }
                }
                div.actions { button type="submit" { "Merge" } }
            }
            form.card method="post" action={ "/patients/duplicates/" (review) "/dismiss" } {
                (csrf_field(&ctx))
                p { "If these are different people (e.g. twins), say so: the pair leaves the queue and is not flagged again." }
                div.actions { button.secondary type="submit" { "Not a duplicate" } }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct MergeForm {
    csrf: String,
    survivor: i64,
}

pub async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(review): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let survivor = PatientId(f.survivor);
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            usecase::dedup::merge_review(s, &actor, review, survivor, now)?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to(&format!("/patients/{survivor}")).into_response())
}

pub async fn dismiss(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(review): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::dedup::dismiss_review(s, &actor, review, now)?))
        .await?;
    Ok(Redirect::to("/patients/duplicates").into_response())
}

/// Undoes the merge of record `id` into another (`usecase::dedup::unmerge`).
pub async fn unmerge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::dedup::unmerge(s, &actor, PatientId(id), now)?))
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
}
