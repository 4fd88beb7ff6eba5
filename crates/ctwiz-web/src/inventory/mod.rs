//! Inventory Management: a clinic's lots and stock alerts, receiving, wastage and
//! returns, transfers, the reconciliation screen, public (CVP) vaccine orders and their
//! state approval, and the movement report.
//!
//! Every change goes through `ctwiz_store::usecase::inventory` (the same for the CLI),
//! which asks the permission matrix at the lot's or order's clinic and applies the stock
//! rules of `ctwiz_core::inventory` and `ctwiz_core::ordering`; this module parses forms,
//! calls it, and sends a refused form back with the reason (nothing stored).

use crate::error::AppError;
use crate::page::{select_field, Bell};
use crate::session::Ctx;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ctwiz_core::access::Action;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::inventory::Lot;
use ctwiz_core::ordering::{
    needs_clinic_attention, stock_alerts, OrderStatus, StockAlert, VaccineOrder,
};
use ctwiz_core::org::Clinic;
use ctwiz_store::usecase::inventory as usecase;
use ctwiz_store::{InventoryStore, LotStock, OrgStore, SqliteStore, StoreError};
use maud::{html, Markup};
use serde::Deserialize;
use std::future::Future;

pub mod allocations;
mod lot_usage;
mod lots;
mod movements;
mod orders;
mod report;

pub use lot_usage::{exceptions, lot_usage_report, settle};
pub use lots::lots;
pub use movements::{receive, reconcile, reconcile_page, transfer, waste};
pub use orders::{approve_order, create_order, orders, receive_shipment, reject_order};
pub use report::report;

// ---------------------------------------------------------------- shared

/// The message of an error the user can fix, or the error itself (403, 500...).
pub(crate) fn user_message(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::BadRequest(m) | AppError::Store(StoreError::Conflict(m)) => Ok(m),
        AppError::Store(StoreError::Core(c)) => Ok(c.to_string()),
        other => Err(other),
    }
}

/// Sends a refused form back to its page, with the reason, as a 400.
async fn refused<Fut>(e: AppError, render: impl FnOnce(String) -> Fut) -> Result<Response, AppError>
where
    Fut: Future<Output = Result<Markup, AppError>>,
{
    let msg = user_message(e)?;
    Ok((StatusCode::BAD_REQUEST, render(msg).await?).into_response())
}

/// The clinic an inventory screen is about (`usecase::screen_clinic`): the acting clinic,
/// or for health-department and state users the `pin` they picked (none: show the picker).
fn resolve_clinic(
    s: &SqliteStore,
    ctx: &Ctx,
    pin: Option<&str>,
    action: Action,
) -> Result<Option<Clinic>, AppError> {
    let pin = pin
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(ClinicPin::new)
        .transpose()?;
    Ok(usecase::screen_clinic(
        s,
        &ctx.as_actor(),
        pin.as_ref(),
        action,
        ctx.now,
    )?)
}

/// Whether the use cases would let the user `action` at clinic `c` (pickers, buttons,
/// lists): the same question they ask.
fn may(ctx: &Ctx, c: &Clinic, action: Action) -> bool {
    usecase::authorize_at_clinic(&ctx.as_actor(), c, action).is_ok()
}

fn whole_number(what: &str, v: &str) -> Result<i64, AppError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest(format!("{what} must be a whole number, not {v:?}.")))
}

fn pin_field(c: &Clinic) -> Markup {
    html! { input type="hidden" name="pin" value=(c.pin); }
}

fn alert_list(alerts: &[StockAlert]) -> Markup {
    html! {
        @if !alerts.is_empty() {
            section.card role="status" {
                h2 { "Alerts " span.badge { (alerts.len()) } }
                ul { @for a in alerts { li { (a.message()) } } }
            }
        }
    }
}

/// Stock alerts of a clinic's lots today (for the page and the notification bell).
pub fn alerts_for(lots: &[LotStock], today: NaiveDate) -> Vec<StockAlert> {
    let pairs: Vec<(Lot, i64)> = lots.iter().map(|l| (l.lot.clone(), l.on_hand)).collect();
    stock_alerts(&pairs, today)
}

/// The notification bell for where the user acts (`None` without inventory access):
/// the acting clinic's stock alerts and its order decisions to act on (approved
/// shipments to receive, recent rejections), and for approvers the pending orders.
pub fn bell(s: &SqliteStore, ctx: &Ctx) -> Result<Option<Bell>, AppError> {
    if !ctx.can(Action::InventoryView) {
        return Ok(None);
    }
    let mut b = Bell::default();
    if let Some(c) = ctx.clinic() {
        let today = ctx.now.date();
        b.stock_alerts = alerts_for(&s.lots(&c.pin)?, today).len();
        b.order_decisions = s
            .orders(Some(&c.pin), None)?
            .iter()
            .filter(|o| needs_clinic_attention(o, today))
            .count();
    }
    if ctx.can(Action::OrderApprove) {
        b.orders_to_decide = orders_for(s, ctx, &s.clinics()?, OrderStatus::Pending)?.len();
    }
    Ok(Some(b))
}

/// Orders in `status` of every clinic where the user may decide orders.
fn orders_for(
    s: &SqliteStore,
    ctx: &Ctx,
    clinics: &[Clinic],
    status: OrderStatus,
) -> Result<Vec<VaccineOrder>, AppError> {
    Ok(s.orders(None, Some(status))?
        .into_iter()
        .filter(|o| {
            clinics
                .iter()
                .find(|c| c.pin == o.clinic)
                .is_some_and(|c| may(ctx, c, Action::OrderApprove))
        })
        .collect())
}

/// Loads the bell on a blocking thread.
pub async fn load_bell(state: &AppState, ctx: &Ctx) -> Result<Option<Bell>, AppError> {
    if !ctx.can(Action::InventoryView) {
        return Ok(None);
    }
    let ctx = ctx.clone();
    state.db(move |s| bell(s, &ctx)).await
}

/// Active vaccines (CVX value, "name (CVX n)" label) for the forms, by name.
fn vaccine_options(codes: &CodeSets) -> Vec<(String, String)> {
    let mut v: Vec<_> = codes
        .vaccines()
        .filter(|v| v.active && !v.antigens.is_empty())
        .map(|v| {
            (
                v.cvx.as_str().to_string(),
                format!("{} (CVX {})", v.short_name, v.cvx),
            )
        })
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

fn clinic_picker(action: &str, choices: &[Clinic], chosen: Option<&Clinic>) -> Markup {
    html! {
        form.card method="get" action=(action) {
            (select_field("pin", "Clinic",
                choices.iter().map(|c| (c.pin.as_str(), format!("{} ({})", c.name, c.pin))),
                chosen.map_or("", |c| c.pin.as_str())))
            div.actions { button type="submit" { "Show" } }
        }
    }
}

fn sub_nav(c: &Clinic) -> Markup {
    let q = format!("?pin={}", c.pin);
    html! {
        p.no-print {
            a href={ "/inventory" (q) } { "Lots" } " · "
            a href={ "/inventory/reconcile" (q) } { "Reconciliation" } " · "
            a href={ "/inventory/orders" (q) } { "Orders" } " · "
            a href={ "/inventory/exceptions" (q) } { "Exceptions" } " · "
            a href={ "/inventory/lot-usage" (q) } { "Lot usage" } " · "
            a href="/inventory/report" { "Movement report" }
        }
    }
}

#[derive(Deserialize)]
pub struct PinQuery {
    pin: Option<String>,
    done: Option<String>,
    /// Blank vaccine lines on the order form (more on request).
    lines: Option<usize>,
    /// The program the order form is for (`cvp`, `cvfa`); default the clinic's first.
    program: Option<String>,
}

/// What a finished form says when it redirects back (fixed texts, nothing reflected).
fn done_message(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "received" => Some("Doses received."),
        "wasted" => Some("Wasted doses recorded."),
        "returned" => Some("Returned doses recorded."),
        "transferred" => Some("Transfer recorded."),
        "reconciled" => Some("Reconciliation recorded."),
        "ordered" => Some("Order sent for state approval."),
        "approved" => Some("Order approved."),
        "rejected" => Some("Order rejected."),
        "shipment" => Some("Shipment received into inventory."),
        "settled" => Some("Inventory exception settled."),
        _ => None,
    }
}

/// The clinic a form is about: the one it names, else the acting clinic. Whether the
/// user may act there is the use case's question.
fn form_pin(ctx: &Ctx, pin: &str) -> Result<ClinicPin, AppError> {
    match (pin.trim(), ctx.clinic()) {
        ("", Some(c)) => Ok(c.pin.clone()),
        ("", None) => Err(AppError::BadRequest("Choose a clinic first.".into())),
        (p, _) => Ok(ClinicPin::new(p)?),
    }
}

/// The form's clinic once the use case layer allowed `action` there (asked before the
/// form is read, so a refused user gets 403 whatever they sent).
async fn form_clinic(
    state: &AppState,
    ctx: &Ctx,
    pin: &str,
    action: Action,
) -> Result<ClinicPin, AppError> {
    let pin = form_pin(ctx, pin)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(usecase::clinic_for(s, &actor, &pin, action, now)?.pin))
        .await
}

fn back_to(path: &str, pin: &ClinicPin, done: &str) -> Response {
    Redirect::to(&format!("{path}?pin={pin}&done={done}")).into_response()
}

fn form_field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
