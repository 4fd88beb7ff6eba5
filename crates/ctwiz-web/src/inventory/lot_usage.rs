//! Dose accountability pages: the clinic's inventory exceptions (settled with one click:
//! link to a lot, or say why the dose was not from stock) and the lot usage report (page
//! and CSV). The rules and the permission checks are `ctwiz_store::usecase::
//! {inventory_exceptions, lot_usage}`'s.

use super::report::optional_date;
use super::{back_to, clinic_picker, done_message, may, resolve_clinic, sub_nav};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::patients::vaccine_name;
use crate::reports::csv_download;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::lot_usage::LotUsage;
use ctwiz_core::org::Clinic;
use ctwiz_store::usecase::inventory_exceptions::{self, Settle};
use ctwiz_store::usecase::lot_usage;
use ctwiz_store::{InventoryException, InventoryStore, LotStock, OrgStore};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ExceptionsQuery {
    pin: Option<String>,
    done: Option<String>,
    all: Option<String>,
}

/// The clinic's open (or all) inventory exceptions with a settle form for each open one.
pub async fn exceptions(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExceptionsQuery>,
) -> Result<Markup, AppError> {
    let done = done_message(q.done.as_deref()).map(str::to_string);
    exceptions_page(&state, &ctx, q.pin, q.all.is_some(), None, done).await
}

async fn exceptions_page(
    state: &AppState,
    ctx: &Ctx,
    pin: Option<String>,
    all: bool,
    error: Option<String>,
    done: Option<String>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let (clinics, clinic, rows, lots) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(s, &ctx2, pin.as_deref(), Action::InventoryView)?;
            let (rows, lots) = match &clinic {
                Some(c) => (
                    inventory_exceptions::list(s, &ctx2.as_actor(), &c.pin, !all, ctx2.now)?,
                    s.lots(&c.pin)?,
                ),
                None => (Vec::new(), Vec::new()),
            };
            Ok((clinics, clinic, rows, lots))
        })
        .await?;
    let codes = state.codes();
    let choices: Vec<Clinic> = clinics
        .iter()
        .filter(|c| may(ctx, c, Action::InventoryView))
        .cloned()
        .collect();
    let edit = clinic
        .as_ref()
        .is_some_and(|c| may(ctx, c, Action::InventoryEdit));
    Ok(page::layout(
        ctx,
        "Inventory exceptions",
        html! {
            @if ctx.clinic().is_none() { (clinic_picker("/inventory/exceptions", &choices, clinic.as_ref())) }
            @if let Some(m) = &done { p.ok role="status" { (m) } }
            (form_error(error.as_deref()))
            @if let Some(c) = &clinic {
                (sub_nav(c))
                h2 { "Doses given from a lot not in stock at " (c.name) " (" (c.pin) ")" }
                p.muted { "An administered dose whose lot the clinic could not draw from (unknown lot, another clinic's lot, no stock left, expired lot) is recorded as given and listed here until it is linked to the lot it came from or marked as not from the clinic's stock." }
                p { @if all { a href={ "/inventory/exceptions?pin=" (c.pin) } { "Open exceptions only" } }
                    @else { a href={ "/inventory/exceptions?all=1&pin=" (c.pin) } { "Show settled exceptions too" } } }
                @if rows.is_empty() { p.muted { "No open inventory exceptions." } } @else {
                    table {
                        thead { tr { th { "Dose" } th { "Given" } th { "Vaccine" } th { "Lot named" } th { "Exception" } th { "Reported via" } th { "Settle" } } }
                        tbody { @for e in &rows { tr {
                            td { a href={ "/patients/" (e.patient.0) } { "dose " (e.dose.0) " (patient " (e.patient.0) ")" } }
                            td { (e.dose_date) }
                            td { (vaccine_name(codes, &e.cvx)) }
                            td { (e.lot_number) }
                            td { (e.kind.label()) }
                            td { (e.interface) " · " (e.raised_by) }
                            td { (settle_cell(ctx, e, &lots, edit)) }
                        } } }
                    }
                }
            }
        },
    ))
}

fn settle_cell(ctx: &Ctx, e: &InventoryException, lots: &[LotStock], edit: bool) -> Markup {
    if let Some(r) = &e.resolution {
        return html! { (r) " · " (e.resolution_note.clone().unwrap_or_default()) };
    }
    if !edit {
        return html! { "open" };
    }
    let same: Vec<(String, String)> = lots
        .iter()
        .filter(|l| l.lot.cvx == e.cvx)
        .map(|l| {
            let label = format!(
                "{} (exp. {}, {} on hand)",
                l.lot.lot_number, l.lot.expiration, l.on_hand
            );
            (l.lot.id.unwrap_or(0).to_string(), label)
        })
        .collect();
    let action = format!("/inventory/exceptions/{}", e.id);
    html! {
        @if !same.is_empty() {
            form method="post" action=(action) {
                (csrf_field(ctx))
                input type="hidden" name="pin" value=(e.clinic);
                (select_field("lot_id", "From lot", same.iter().map(|(v, l)| (v.as_str(), l.clone())), ""))
                button type="submit" name="how" value="link" { "Link to lot" }
            }
        }
        form method="post" action=(action) {
            (csrf_field(ctx))
            input type="hidden" name="pin" value=(e.clinic);
            (text_field("why", "Not from our stock because", "", true))
            button type="submit" name="how" value="not-from-stock" { "Not from stock" }
        }
    }
}

#[derive(Deserialize)]
pub struct SettleForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    how: String,
    #[serde(default)]
    lot_id: String,
    #[serde(default)]
    why: String,
}

/// POST `/inventory/exceptions/{id}`: link or mark not from stock.
pub async fn settle(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SettleForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let how =
        match f.how.as_str() {
            "link" => Settle::Link {
                lot_id: f.lot_id.trim().parse().map_err(|_| {
                    AppError::BadRequest("Choose the lot the dose came from.".into())
                })?,
            },
            "not-from-stock" => Settle::NotFromStock { why: f.why.clone() },
            other => {
                return Err(AppError::BadRequest(format!(
                    "Unknown settlement {other:?}."
                )))
            }
        };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let outcome = state
        .db(move |s| {
            Ok(inventory_exceptions::settle(s, &actor, id, &how, now).map_err(AppError::from))
        })
        .await?;
    match outcome {
        Ok(()) => {
            let pin = super::form_pin(&ctx, &f.pin)?;
            Ok(back_to("/inventory/exceptions", &pin, "settled"))
        }
        Err(e) => {
            let pin = Some(f.pin.clone());
            super::refused(e, |m| {
                exceptions_page(&state, &ctx, pin, false, Some(m), None)
            })
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct UsageQuery {
    pin: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The lot usage report of a clinic (page, or CSV with `format=csv`).
pub async fn lot_usage_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<UsageQuery>,
) -> Result<Response, AppError> {
    let (from, to) = (optional_date(&q.from, "from")?, optional_date(&q.to, "to")?);
    let ctx2 = ctx.clone();
    let pin = q.pin.clone();
    let (clinics, clinic, report) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(s, &ctx2, pin.as_deref(), Action::InventoryView)?;
            let report = match &clinic {
                Some(c) => Some(lot_usage::report(
                    s,
                    &ctx2.as_actor(),
                    &c.pin,
                    from,
                    to,
                    ctx2.now,
                )?),
                None => None,
            };
            Ok((clinics, clinic, report))
        })
        .await?;
    if let (Some("csv"), Some(r)) = (q.format.as_deref(), &report) {
        return csv_download(
            "lot-usage.csv",
            &LotUsage::COLUMNS,
            r.lots.iter().map(LotUsage::cells),
        );
    }
    let choices: Vec<Clinic> = clinics
        .iter()
        .filter(|c| may(&ctx, c, Action::InventoryView))
        .cloned()
        .collect();
    let codes = state.codes();
    Ok(page::layout(
        &ctx,
        "Lot usage",
        html! {
            @if ctx.clinic().is_none() { (clinic_picker("/inventory/lot-usage", &choices, clinic.as_ref())) }
            @if let (Some(c), Some(r)) = (&clinic, &report) {
                (sub_nav(c))
                form.card method="get" action="/inventory/lot-usage" {
                    input type="hidden" name="pin" value=(c.pin);
                    div.grid {
                        (date_field("from", "From", &r.from.to_string(), false))
                        (date_field("to", "To", &r.to.to_string(), false))
                    }
                    div.actions { button type="submit" { "Run report" } }
                }
                p { "Lot usage at " (c.name) " (" (c.pin) ") from " (r.from) " to " (r.to)
                    ". Doses drawn for dose records count on the dose's date; other movements on the day they were recorded. "
                    "Difference = doses drawn (less those given back) − dose records given from the lot." }
                @if r.lots.is_empty() { p.muted { "No lots recorded." } } @else {
                    table {
                        thead { tr { th { "Lot" } th { "Vaccine" } th { "Received" } th { "In" } th { "Out" } th { "Returned" }
                            th { "Wasted" } th { "Adjusted" } th { "Drawn" } th { "Given back" } th { "Dose records" } th { "Difference" } th { "On hand" } } }
                        tbody { @for l in &r.lots { tr {
                            td { (l.lot.lot_number) } td { (vaccine_name(codes, &l.lot.cvx)) }
                            td { (l.received) } td { (l.transferred_in) } td { (l.transferred_out) } td { (l.returned) }
                            td { (l.wasted) } td { (l.adjusted) } td { (l.decrements) } td { (l.given_back) }
                            td { (l.administered) } td { @if l.difference != 0 { strong { (l.difference) } } @else { (l.difference) } } td { (l.on_hand) }
                        } } }
                    }
                }
                @for l in r.differing() {
                    h3 { "Lot " (l.lot.lot_number) ": difference " (l.difference) }
                    @if l.unlinked_decrements > 0 { p { (l.unlinked_decrements) " dose(s) drawn before doses were linked to stock." } }
                    ul { @for i in &l.involved { li { a href={ "/patients/" (i.patient.0) } { (i.describe()) } } } }
                }
                @if !r.open_exceptions.is_empty() {
                    p.notice { (r.open_exceptions.len()) " open inventory exception(s): "
                        a href={ "/inventory/exceptions?pin=" (c.pin) } { "settle them" } "." }
                }
                p { a href={ "/inventory/lot-usage?format=csv&pin=" (c.pin) "&from=" (r.from) "&to=" (r.to) } { "Download CSV" } }
            }
        },
    )
    .into_response())
}
