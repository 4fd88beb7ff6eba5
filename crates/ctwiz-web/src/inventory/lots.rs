//! The lots page: a clinic's lots, stock alerts and the receive, waste and transfer forms.

use super::{
    alert_list, alerts_for, clinic_picker, done_message, load_bell, may, pin_field, resolve_clinic,
    sub_nav, vaccine_options, PinQuery,
};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::patients::vaccine_name;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use ctwiz_core::access::Action;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::inventory::{StockFunding, WastageReason};
use ctwiz_core::org::Clinic;
use ctwiz_store::{InventoryStore, LotStock, OrgStore};
use maud::{html, Markup};

// ---------------------------------------------------------------- lots page

pub async fn lots(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PinQuery>,
) -> Result<Markup, AppError> {
    let done = done_message(q.done.as_deref()).map(str::to_string);
    lots_page(&state, &ctx, q.pin, None, done).await
}

pub(super) async fn lots_page(
    state: &AppState,
    ctx: &Ctx,
    pin: Option<String>,
    error: Option<String>,
    done: Option<String>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let (clinics, clinic, lots) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(s, &ctx2, pin.as_deref(), Action::InventoryView)?;
            let lots = match &clinic {
                Some(c) => s.lots(&c.pin)?,
                None => Vec::new(),
            };
            Ok((clinics, clinic, lots))
        })
        .await?;
    let codes = state.codes();
    let today = ctx.now.date();
    let choices: Vec<Clinic> = clinics
        .iter()
        .filter(|c| may(ctx, c, Action::InventoryView))
        .cloned()
        .collect();
    let edit = clinic
        .as_ref()
        .is_some_and(|c| may(ctx, c, Action::InventoryEdit));
    let in_stock: Vec<&LotStock> = lots.iter().filter(|l| l.on_hand > 0).collect();
    let vaccines = vaccine_options(codes);
    let bell = load_bell(state, ctx).await?;
    Ok(page::layout_with_bell(
        ctx,
        "Inventory",
        html! {
            @if ctx.clinic().is_none() { (clinic_picker("/inventory", &choices, clinic.as_ref())) }
            @if let Some(m) = &done { p.ok role="status" { (m) } }
            (form_error(error.as_deref()))
            @if let Some(c) = &clinic {
                (sub_nav(c))
                (alert_list(&alerts_for(&lots, today)))
                h2 { "Lots at " (c.name) " (" (c.pin) ")" }
                @if lots.is_empty() { p.muted { "No lots recorded." } } @else {
                    table {
                        thead { tr { th { "Lot id" } th { "Vaccine" } th { "Lot" } th { "Expires" } th { "Funding" } th { "On hand" } } }
                        tbody { @for l in &lots { tr {
                            td { (l.lot.id.unwrap_or(0)) }
                            td { (vaccine_name(codes, &l.lot.cvx)) }
                            td { (l.lot.lot_number) }
                            td { (l.lot.expiration) @if l.lot.is_expired(today) { span.error { " expired" } } }
                            td { (l.lot.funding.label()) }
                            td { (l.on_hand) }
                        } } }
                    }
                }
                @if edit {
                    div.cols {
                        form.card.stack method="post" action="/inventory/receive" {
                            h2 { "Receive doses" }
                            (csrf_field(ctx)) (pin_field(c))
                            label { span { "Vaccine *" }
                                select name="cvx" required {
                                    option value="" { "Choose a vaccine" }
                                    @for (k, l) in &vaccines { option value=(k) { (l) } }
                                }
                            }
                            (text_field("lot", "Lot number", "", true))
                            (date_field("expiration", "Expiration date", "", true))
                            label { span { "Doses *" } input type="number" name="doses" min="1" required; }
                            @let held: Vec<StockFunding> = StockFunding::ALL.into_iter()
                                .filter(|f| f.program().is_none_or(|p| c.program.enrolled(p))).collect();
                            (select_field("funding", "Funding",
                                held.iter().map(|f| (f.key(), f.label().to_string())),
                                held.first().map_or("private", |f| f.key())))
                            (text_field("mvx", "Manufacturer (MVX)", "", false))
                            (text_field("ndc", "NDC", "", false))
                            div.actions { button type="submit" { "Receive" } }
                        }
                        form.card.stack method="post" action="/inventory/waste" {
                            h2 { "Waste or return doses" }
                            (csrf_field(ctx)) (pin_field(c))
                            (lot_select(&in_stock, codes))
                            label { span { "Doses *" } input type="number" name="doses" min="1" required; }
                            (select_field("kind", "What happened", [("waste", "Wasted".to_string()), ("return", "Returned to the distributor".to_string())], "waste"))
                            (select_field("reason", "Reason", WastageReason::ALL.iter().map(|r| (r.key(), r.key().replace('-', " "))), "expired"))
                            div.actions { button type="submit" { "Record" } }
                        }
                        form.card.stack method="post" action="/inventory/transfer" {
                            h2 { "Transfer to another clinic" }
                            (csrf_field(ctx)) (pin_field(c))
                            (lot_select(&in_stock, codes))
                            (select_field("to", "To clinic",
                                clinics.iter().filter(|o| o.pin != c.pin).map(|o| (o.pin.as_str(), format!("{} ({})", o.name, o.pin))), ""))
                            label { span { "Doses *" } input type="number" name="doses" min="1" required; }
                            div.actions { button type="submit" { "Transfer" } }
                        }
                    }
                }
            }
        },
        bell,
    ))
}

fn lot_select(lots: &[&LotStock], codes: &CodeSets) -> Markup {
    html! {
        label { span { "Lot *" }
            select name="lot_id" required {
                @for l in lots {
                    option value=(l.lot.id.unwrap_or(0)) {
                        (vaccine_name(codes, &l.lot.cvx)) " " (l.lot.lot_number) " – " (l.on_hand) " on hand"
                    }
                }
            }
        }
    }
}
