//! Inventory Management: a clinic's lots and stock alerts, receiving, wastage and
//! returns, transfers, the reconciliation screen, public (CVP) vaccine orders and their
//! state approval, and the movement report.
//!
//! Every change goes through `ctwiz_store::usecase::inventory` (the same for the CLI),
//! which asks the permission matrix at the lot's or order's clinic and applies the stock
//! rules of `ctwiz_core::inventory` and `ctwiz_core::ordering`; this module parses forms,
//! calls it, and sends a refused form back with the reason (nothing stored).

use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field, Bell};
use crate::patients::vaccine_name;
use crate::reports::{csv_download, parse_date};
use crate::session::{Acting, Ctx};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Days, NaiveDate};
use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::authorize_at;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use ctwiz_core::inventory::{Lot, StockFunding, WastageReason};
use ctwiz_core::ordering::{
    needs_clinic_attention, order_suggestions, stock_alerts, OrderStatus, StockAlert, SupplyPolicy,
    VaccineOrder,
};
use ctwiz_core::org::Clinic;
use ctwiz_store::usecase::inventory::{self as usecase, Count, Decision, Disposal};
use ctwiz_store::usecase::UseCaseError;
use ctwiz_store::{InventoryStore, LotStock, OrgStore, SqliteStore, StoreError};
use maud::{html, Markup};
use serde::Deserialize;
use std::future::Future;

// ---------------------------------------------------------------- shared

/// The message of an error the user can fix, or the error itself (403, 500...).
fn user_message(e: AppError) -> Result<String, AppError> {
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

/// The clinic an inventory request is about: a clinic user's acting clinic; for
/// health-department and state users the `pin` they picked (none: show the picker),
/// if the matrix lets them `action` there.
fn resolve_clinic(
    ctx: &Ctx,
    clinics: &[Clinic],
    pin: Option<&str>,
    action: Action,
) -> Result<Option<Clinic>, AppError> {
    let pin = pin
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(ClinicPin::new)
        .transpose()?;
    match &ctx.acting {
        Acting::Clinic(c) => {
            ctx.require(action)?;
            if pin.is_some_and(|p| p != c.pin) {
                return Err(AppError::Forbidden);
            }
            Ok(Some(c.as_ref().clone()))
        }
        Acting::Nowhere => Err(AppError::Forbidden),
        Acting::Jurisdiction(_) | Acting::State => {
            ctx.require(action)?;
            let Some(pin) = pin else {
                return Ok(None);
            };
            let c = clinics
                .iter()
                .find(|c| c.pin == pin)
                .ok_or_else(|| AppError::NotFound(format!("Clinic {pin}")))?;
            if !may(ctx, c, action) {
                return Err(AppError::Forbidden);
            }
            Ok(Some(c.clone()))
        }
    }
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
            a href="/inventory/report" { "Movement report" }
        }
    }
}

// ---------------------------------------------------------------- lots page

#[derive(Deserialize)]
pub struct PinQuery {
    pin: Option<String>,
    done: Option<String>,
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
        _ => None,
    }
}

pub async fn lots(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PinQuery>,
) -> Result<Markup, AppError> {
    let done = done_message(q.done.as_deref()).map(str::to_string);
    lots_page(&state, &ctx, q.pin, None, done).await
}

async fn lots_page(
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
            let clinic = resolve_clinic(&ctx2, &clinics, pin.as_deref(), Action::InventoryView)?;
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
                            td { (l.lot.funding.key()) }
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
                            (select_field("funding", "Funding",
                                c.orders_public_vaccine().then_some(("public", "Public (CVP)".to_string())).into_iter()
                                    .chain(std::iter::once(("private", "Private".to_string()))),
                                if c.orders_public_vaccine() { "public" } else { "private" }))
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
    let actor = ctx.as_actor();
    state
        .db(move |s| Ok(usecase::clinic_for(s, &actor, &pin, action)?.pin))
        .await
}

fn back_to(path: &str, pin: &ClinicPin, done: &str) -> Response {
    Redirect::to(&format!("{path}?pin={pin}&done={done}")).into_response()
}

#[derive(Deserialize)]
pub struct ReceiveForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    cvx: String,
    lot: String,
    expiration: String,
    doses: String,
    funding: String,
    #[serde(default)]
    mvx: String,
    #[serde(default)]
    ndc: String,
}

pub async fn receive(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ReceiveForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let clinic = form_clinic(&state, &ctx, &f.pin, Action::InventoryEdit).await?;
    let pin = clinic.to_string();
    match receive_lot(&state, &ctx, &clinic, f).await {
        Ok(()) => Ok(back_to("/inventory", &clinic, "received")),
        Err(e) => refused(e, |m| lots_page(&state, &ctx, Some(pin), Some(m), None)).await,
    }
}

async fn receive_lot(
    state: &AppState,
    ctx: &Ctx,
    clinic: &ClinicPin,
    f: ReceiveForm,
) -> Result<(), AppError> {
    let doses = whole_number("Doses", &f.doses)?;
    let funding = match f.funding.as_str() {
        "public" => StockFunding::Public,
        "private" => StockFunding::Private,
        other => {
            return Err(AppError::BadRequest(format!(
                "Unknown funding {other:?}; choose public or private."
            )))
        }
    };
    let expiration = parse_date("Expiration", &f.expiration)?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let lot = Lot {
        id: None,
        clinic: clinic.clone(),
        cvx: Cvx::new(&f.cvx)?,
        ndc: opt(&f.ndc).as_deref().map(Ndc::new).transpose()?,
        mvx: opt(&f.mvx).as_deref().map(Mvx::new).transpose()?,
        lot_number: LotNumber::new(&f.lot)?,
        expiration,
        funding,
    };
    let (actor, now, codes) = (ctx.as_actor(), ctx.now, state.codes().clone());
    state
        .db(move |s| {
            usecase::receive(s, &actor, &codes, &lot, doses, now)?;
            Ok(())
        })
        .await
}

#[derive(Deserialize)]
pub struct WasteForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    lot_id: String,
    doses: String,
    kind: String,
    reason: String,
}

pub async fn waste(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<WasteForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let clinic = form_clinic(&state, &ctx, &f.pin, Action::InventoryEdit).await?;
    let pin = clinic.to_string();
    let done = if f.kind == "return" {
        "returned"
    } else {
        "wasted"
    };
    let result = async {
        let lot_id = whole_number("Lot", &f.lot_id)?;
        let doses = whole_number("Doses", &f.doses)?;
        let reason = WastageReason::parse(&f.reason)?;
        let how = match f.kind.as_str() {
            "waste" => Disposal::Waste,
            "return" => Disposal::Return,
            other => {
                return Err(AppError::BadRequest(format!(
                    "Unknown kind {other:?}; choose waste or return."
                )))
            }
        };
        let (actor, now) = (ctx.as_actor(), ctx.now);
        state
            .db(move |s| {
                Ok(usecase::dispose(
                    s, &actor, lot_id, how, doses, reason, now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to("/inventory", &clinic, done)),
        Err(e) => refused(e, |m| lots_page(&state, &ctx, Some(pin), Some(m), None)).await,
    }
}

#[derive(Deserialize)]
pub struct TransferForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    lot_id: String,
    to: String,
    doses: String,
}

pub async fn transfer(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<TransferForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let clinic = form_clinic(&state, &ctx, &f.pin, Action::InventoryEdit).await?;
    let pin = clinic.to_string();
    let result = async {
        let lot_id = whole_number("Lot", &f.lot_id)?;
        let doses = whole_number("Doses", &f.doses)?;
        let to = ClinicPin::new(&f.to)?;
        let (actor, now, codes) = (ctx.as_actor(), ctx.now, state.codes().clone());
        state
            .db(move |s| {
                Ok(usecase::transfer(
                    s, &actor, &codes, lot_id, &to, doses, now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to("/inventory", &clinic, "transferred")),
        Err(e) => refused(e, |m| lots_page(&state, &ctx, Some(pin), Some(m), None)).await,
    }
}

// ---------------------------------------------------------------- reconciliation

pub async fn reconcile_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PinQuery>,
) -> Result<Markup, AppError> {
    reconcile_screen(&state, &ctx, q.pin, &[], &[]).await
}

/// All lots of the clinic with their computed quantity and a count field each; `sent`
/// holds what a refused form had entered, `problems` why it was refused.
async fn reconcile_screen(
    state: &AppState,
    ctx: &Ctx,
    pin: Option<String>,
    sent: &[(String, String)],
    problems: &[String],
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let (clinics, clinic, lots) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(&ctx2, &clinics, pin.as_deref(), Action::InventoryEdit)?;
            let lots = match &clinic {
                Some(c) => s.lots(&c.pin)?,
                None => Vec::new(),
            };
            Ok((clinics, clinic, lots))
        })
        .await?;
    let codes = state.codes();
    let choices: Vec<Clinic> = clinics
        .into_iter()
        .filter(|c| may(ctx, c, Action::InventoryEdit))
        .collect();
    let entered = |key: String| sent.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
    let bell = load_bell(state, ctx).await?;
    Ok(page::layout_with_bell(
        ctx,
        "Inventory reconciliation",
        html! {
            @if ctx.clinic().is_none() { (clinic_picker("/inventory/reconcile", &choices, clinic.as_ref())) }
            @if !problems.is_empty() {
                div.error role="alert" { p { "Nothing was recorded:" } ul { @for p in problems { li { (p) } } } }
            }
            @if let Some(c) = &clinic {
                (sub_nav(c))
                p { "Count every lot on the shelf and enter the physical count. A count that differs from the computed quantity needs a reason (e.g. dose not recorded, broken vial)." }
                @if lots.is_empty() { p.muted { "No lots to reconcile." } } @else {
                    form.stack method="post" action="/inventory/reconcile" {
                        (csrf_field(ctx)) (pin_field(c))
                        table {
                            thead { tr { th { "Vaccine" } th { "Lot" } th { "Expires" } th { "Funding" } th { "Computed" } th { "Counted" } th { "Reason for a difference" } } }
                            tbody { @for l in &lots {
                                @let id = l.lot.id.unwrap_or(0);
                                tr {
                                    td { (vaccine_name(codes, &l.lot.cvx)) }
                                    td { (l.lot.lot_number) }
                                    td { (l.lot.expiration) }
                                    td { (l.lot.funding.key()) }
                                    td { (l.on_hand) input type="hidden" name={ "computed_" (id) } value=(l.on_hand); }
                                    td { input type="number" min="0" name={ "count_" (id) } aria-label={ "Count of lot " (l.lot.lot_number) }
                                        value=(entered(format!("count_{id}")).unwrap_or_else(|| l.on_hand.to_string())); }
                                    td { input type="text" name={ "reason_" (id) } aria-label={ "Reason for lot " (l.lot.lot_number) }
                                        value=(entered(format!("reason_{id}")).unwrap_or_default()); }
                                }
                            } }
                        }
                        div.actions { button type="submit" { "Record reconciliation" } }
                    }
                }
            }
        },
        bell,
    ))
}

/// Records the whole count in one transaction, or nothing
/// (`ctwiz_store::usecase::inventory::reconcile`); a refused screen lists every problem.
pub async fn reconcile(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    ctx.check_csrf(form_field(&form, "csrf").unwrap_or(""))?;
    let clinic = form_clinic(
        &state,
        &ctx,
        form_field(&form, "pin").unwrap_or(""),
        Action::InventoryEdit,
    )
    .await?;
    // Each lot on the screen sent `count_<id>`; lots received since are not on it.
    let mut counts = Vec::new();
    let mut problems = Vec::new();
    for (key, value) in &form {
        let Some(id) = key
            .strip_prefix("count_")
            .and_then(|i| i.parse::<i64>().ok())
        else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let Ok(counted) = value.parse::<i64>() else {
            problems.push(format!("Lot {id}: count {value:?} is not a whole number."));
            continue;
        };
        counts.push(Count {
            lot_id: id,
            counted,
            seen: form_field(&form, &format!("computed_{id}")).and_then(|v| v.parse().ok()),
            reason: form_field(&form, &format!("reason_{id}")).map(str::to_string),
        });
    }
    if problems.is_empty() {
        let (actor, now, pin) = (ctx.as_actor(), ctx.now, clinic.clone());
        let outcome = state
            .db(move |s| Ok(usecase::reconcile(s, &actor, &pin, &counts, now)))
            .await?;
        match outcome {
            Ok(_) => return Ok(back_to("/inventory", &clinic, "reconciled")),
            Err(UseCaseError::Reconcile(refused)) => problems.extend(
                refused
                    .into_iter()
                    .map(|(lot, e)| format!("Lot {lot}: {e}.")),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((
        StatusCode::BAD_REQUEST,
        reconcile_screen(&state, &ctx, Some(clinic.to_string()), &form, &problems).await?,
    )
        .into_response())
}

// ---------------------------------------------------------------- orders

pub async fn orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PinQuery>,
) -> Result<Markup, AppError> {
    let done = done_message(q.done.as_deref()).map(str::to_string);
    orders_page(&state, &ctx, q.pin, None, done).await
}

async fn orders_page(
    state: &AppState,
    ctx: &Ctx,
    pin: Option<String>,
    error: Option<String>,
    done: Option<String>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let today = ctx.now.date();
    let (clinics, clinic, suggestions, own, pending, shipping) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(&ctx2, &clinics, pin.as_deref(), Action::InventoryView)?;
            let mut suggestions = Vec::new();
            let mut own = Vec::new();
            if let Some(c) = &clinic {
                own = s.orders(Some(&c.pin), None)?;
                if c.orders_public_vaccine() && may(&ctx2, c, Action::OrderCreate) {
                    let lots = s.lots(&c.pin)?;
                    let pairs: Vec<_> = lots.iter().map(|l| (&l.lot, l.on_hand)).collect();
                    suggestions =
                        order_suggestions(&pairs, today, SupplyPolicy::default(), |cvx, since| {
                            s.doses_used(&c.pin, cvx, since)
                        })?;
                }
            }
            let (pending, shipping) = if ctx2.can(Action::OrderApprove) {
                (
                    orders_for(s, &ctx2, &clinics, OrderStatus::Pending)?,
                    orders_for(s, &ctx2, &clinics, OrderStatus::Approved)?,
                )
            } else {
                (Vec::new(), Vec::new())
            };
            Ok((clinics, clinic, suggestions, own, pending, shipping))
        })
        .await?;
    let codes = state.codes();
    let choices: Vec<Clinic> = clinics
        .iter()
        .filter(|c| may(ctx, c, Action::InventoryView))
        .cloned()
        .collect();
    let name_of = |pin: &ClinicPin| {
        clinics
            .iter()
            .find(|c| &c.pin == pin)
            .map_or_else(|| pin.to_string(), |c| format!("{} ({})", c.name, c.pin))
    };
    let vaccines = vaccine_options(codes);
    let supply = SupplyPolicy::default();
    let bell = load_bell(state, ctx).await?;
    Ok(page::layout_with_bell(
        ctx,
        "Vaccine orders",
        html! {
            @if let Some(m) = &done { p.ok role="status" { (m) } }
            (form_error(error.as_deref()))
            @if !pending.is_empty() {
                h2 { "Orders waiting for approval (" (pending.len()) ")" }
                @for o in &pending {
                    @let id = o.id.unwrap_or(0);
                    form.card.stack method="post" action={ "/inventory/orders/" (id) "/approve" } {
                        h3 { "Order " (id) " · " (name_of(&o.clinic)) " · " (o.created_on) " by " (o.created_by) }
                        (csrf_field(ctx))
                        table {
                            thead { tr { th { "Vaccine" } th { "Requested" } th { "Approve" } } }
                            tbody { @for l in &o.lines { tr {
                                td { (vaccine_name(codes, &l.cvx)) }
                                td { (l.requested) }
                                td { input type="number" min="0" name={ "qty_" (l.cvx) } value=(l.requested) aria-label={ "Approved doses of CVX " (l.cvx) }; }
                            } } }
                        }
                        label { span { "Note for the clinic (needed when changing quantities or rejecting)" } textarea name="note" {} }
                        div.actions {
                            button type="submit" { "Approve" }
                            button.danger type="submit" formaction={ "/inventory/orders/" (id) "/reject" } { "Reject" }
                        }
                    }
                }
            }
            @if !shipping.is_empty() {
                h2 { "Approved, awaiting shipment (" (shipping.len()) ")" }
                table {
                    thead { tr { th { "Order" } th { "Clinic" } th { "Created" } th { "Approved doses" } th { "Note" } } }
                    tbody { @for o in &shipping { tr {
                        td { (o.id.unwrap_or(0)) }
                        td { (name_of(&o.clinic)) }
                        td { (o.created_on) }
                        td { (o.lines.iter().map(|l| format!("{} × {}", l.approved.unwrap_or(0), vaccine_name(codes, &l.cvx))).collect::<Vec<_>>().join(", ")) }
                        td { (o.decision_note.clone().unwrap_or_default()) }
                    } } }
                }
            }
            @if ctx.clinic().is_none() { (clinic_picker("/inventory/orders", &choices, clinic.as_ref())) }
            @if let Some(c) = &clinic {
                (sub_nav(c))
                @if !c.orders_public_vaccine() {
                    p.notice { (c.name) " is a private-only clinic (not enrolled in CVP) and does not order public vaccine." }
                } @else if may(ctx, c, Action::OrderCreate) {
                    form.card.stack method="post" action="/inventory/orders" {
                        h2 { "New public vaccine order" }
                        p.muted { "Suggested: " (supply.months_of_supply) " months of supply at the last " (supply.months_observed) " months' usage, less public stock on hand, in boxes of " (supply.box_size) "." }
                        (csrf_field(ctx)) (pin_field(c))
                        @if !suggestions.is_empty() {
                            table {
                                thead { tr { th { "Vaccine" } th { "Used (" (supply.months_observed) " months)" } th { "Public on hand" } th { "Suggested" } th { "Order doses" } } }
                                tbody { @for sg in &suggestions { tr {
                                    td { (vaccine_name(codes, &sg.cvx)) }
                                    td { (sg.used) } td { (sg.on_hand) } td { (sg.suggested) }
                                    td { input type="number" min="0" name={ "qty_" (sg.cvx) } value=(sg.suggested) aria-label={ "Doses of CVX " (sg.cvx) }; }
                                } } }
                            }
                        }
                        div.grid {
                            (select_field("extra_cvx", "Another vaccine",
                                std::iter::once(("", "—".to_string())).chain(vaccines.iter().map(|(k, l)| (k.as_str(), l.clone()))), ""))
                            label { span { "Doses" } input type="number" min="0" name="extra_qty"; }
                        }
                        div.actions { button type="submit" { "Send for state approval" } }
                    }
                }
                h2 { "Orders of " (c.name) }
                @if own.is_empty() { p.muted { "No orders yet." } } @else {
                    @for o in &own {
                        @let id = o.id.unwrap_or(0);
                        section.card {
                            h3 { "Order " (id) " · " (o.created_on) " · " span.badge { (o.status.key()) } }
                            table {
                                thead { tr { th { "Vaccine" } th { "Requested" } th { "Approved" } } }
                                tbody { @for l in &o.lines { tr {
                                    td { (vaccine_name(codes, &l.cvx)) } td { (l.requested) }
                                    td { (l.approved.map(|a| a.to_string()).unwrap_or_else(|| "–".into())) }
                                } } }
                            }
                            @if let Some(n) = &o.decision_note { p { "Note from " (o.decided_by.clone().unwrap_or_default()) ": " (n) } }
                            @if o.status == OrderStatus::Approved && may(ctx, c, Action::InventoryEdit) {
                                (shipment_form(ctx, o, today))
                            }
                        }
                    }
                }
            }
        },
        bell,
    ))
}

/// Receiving an approved order: one lot per approved vaccine.
fn shipment_form(ctx: &Ctx, o: &VaccineOrder, today: NaiveDate) -> Markup {
    let id = o.id.unwrap_or(0);
    let next_year = (today + Days::new(365)).to_string();
    html! {
        form.stack method="post" action={ "/inventory/orders/" (id) "/receive" } {
            h3 { "Receive the shipment" }
            (csrf_field(ctx))
            @for l in o.lines.iter().filter(|l| l.approved.is_some_and(|a| a > 0)) {
                div.grid {
                    label { span { "CVX " (l.cvx) " lot number" } input type="text" name={ "lot_" (l.cvx) } required; }
                    label { span { "Expires" } input type="date" name={ "exp_" (l.cvx) } value=(next_year) required; }
                    label { span { "Doses" } input type="number" min="1" name={ "doses_" (l.cvx) } value=(l.approved.unwrap_or(0)) required; }
                }
            }
            div.actions { button type="submit" { "Receive into inventory" } }
        }
    }
}

fn form_field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// (CVX, doses) for every `qty_<cvx>` field; blank fields are skipped.
fn quantities(form: &[(String, String)]) -> Result<Vec<(Cvx, i64)>, AppError> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("qty_")?, v.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(cvx, v)| {
            Ok((
                Cvx::new(cvx)?,
                whole_number(&format!("Doses of CVX {cvx}"), v)?,
            ))
        })
        .collect()
}

pub async fn create_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    ctx.check_csrf(form_field(&form, "csrf").unwrap_or(""))?;
    let clinic = form_clinic(
        &state,
        &ctx,
        form_field(&form, "pin").unwrap_or(""),
        Action::OrderCreate,
    )
    .await?;
    let pin = clinic.to_string();
    let result = async {
        let mut lines: Vec<(Cvx, i64)> = quantities(&form)?
            .into_iter()
            .filter(|(_, q)| *q != 0)
            .collect();
        if let (Some(cvx), Some(q)) = (
            form_field(&form, "extra_cvx"),
            form_field(&form, "extra_qty"),
        ) {
            lines.push((Cvx::new(cvx)?, whole_number("Doses", q)?));
        }
        let (actor, now, codes, c) = (
            ctx.as_actor(),
            ctx.now,
            state.codes().clone(),
            clinic.clone(),
        );
        state
            .db(move |s| Ok(usecase::create_order(s, &actor, &codes, &c, lines, now)?))
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to("/inventory/orders", &clinic, "ordered")),
        Err(e) => refused(e, |m| orders_page(&state, &ctx, Some(pin), Some(m), None)).await,
    }
}

/// The state decides an order: `approve` with possibly changed quantities, or reject.
async fn decide(
    state: AppState,
    ctx: Ctx,
    id: i64,
    form: Vec<(String, String)>,
    approve: bool,
) -> Result<Response, AppError> {
    ctx.check_csrf(form_field(&form, "csrf").unwrap_or(""))?;
    let result = async {
        let note = form_field(&form, "note").map(str::to_string);
        let decision = if approve {
            Decision::Approve {
                changes: quantities(&form)?,
                note,
            }
        } else {
            Decision::Reject {
                reason: note.unwrap_or_default(),
            }
        };
        let actor = ctx.as_actor();
        state
            .db(move |s| Ok(usecase::decide_order(s, &actor, id, &decision)?))
            .await
    }
    .await;
    let done = if approve { "approved" } else { "rejected" };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/inventory/orders?done={done}")).into_response()),
        Err(e) => refused(e, |m| orders_page(&state, &ctx, None, Some(m), None)).await,
    }
}

pub async fn approve_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    decide(state, ctx, id, form, true).await
}

pub async fn reject_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    decide(state, ctx, id, form, false).await
}

pub async fn receive_shipment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    ctx.check_csrf(form_field(&form, "csrf").unwrap_or(""))?;
    let actor = ctx.as_actor();
    // Refused before the form is read, like the other stock forms.
    let order = state
        .db(move |s| {
            let o = s
                .order(id)?
                .ok_or_else(|| AppError::NotFound(format!("Order {id}")))?;
            usecase::clinic_for(s, &actor, &o.clinic, Action::InventoryEdit)?;
            Ok(o)
        })
        .await?;
    let clinic = order.clinic.clone();
    let pin = clinic.to_string();
    let result = async {
        let mut shipment = Vec::new();
        for l in order
            .lines
            .iter()
            .filter(|l| l.approved.is_some_and(|a| a > 0))
        {
            let cvx = &l.cvx;
            let lot = form_field(&form, &format!("lot_{cvx}")).ok_or_else(|| {
                AppError::BadRequest(format!("Enter the lot number of CVX {cvx}."))
            })?;
            let exp = form_field(&form, &format!("exp_{cvx}")).unwrap_or("");
            let expiration = parse_date(&format!("Expiration of CVX {cvx}"), exp)?;
            let doses = whole_number(
                &format!("Doses of CVX {cvx}"),
                form_field(&form, &format!("doses_{cvx}")).unwrap_or(""),
            )?;
            shipment.push((cvx.clone(), LotNumber::new(lot)?, expiration, doses));
        }
        let (actor, now, codes) = (ctx.as_actor(), ctx.now, state.codes().clone());
        state
            .db(move |s| {
                Ok(usecase::receive_order(
                    s, &actor, &codes, id, &shipment, now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to("/inventory", &clinic, "shipment")),
        Err(e) => refused(e, |m| orders_page(&state, &ctx, Some(pin), Some(m), None)).await,
    }
}

// ---------------------------------------------------------------- movement report

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// Stock movements per clinic, vaccine, funding, kind and reason, for the clinics the
/// user may see (a clinic user: their acting clinic).
pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    ctx.require(Action::InventoryView)?;
    let date = |v: &Option<String>, what: &str| {
        v.as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| parse_date(what, v))
            .transpose()
    };
    let to = date(&q.to, "to")?.unwrap_or(ctx.now.date());
    let from = date(&q.from, "from")?.unwrap_or(to - Days::new(90));
    if from > to {
        return Err(AppError::BadRequest(format!(
            "The period starts ({from}) after it ends ({to})."
        )));
    }
    let actor = ctx.as_actor();
    let rows = state
        .db(move |s| {
            let rows = s.inventory_report(from, to)?;
            Ok(rows
                .into_iter()
                .filter(|r| {
                    let at = Target::Clinic {
                        pin: &r.clinic,
                        county: r.county,
                    };
                    authorize_at(&actor, at, Action::InventoryView).is_ok()
                })
                .collect::<Vec<_>>())
        })
        .await?;
    if q.format.as_deref() == Some("csv") {
        return csv_download(
            "inventory-movements.csv",
            &[
                "clinic",
                "county",
                "cvx",
                "funding",
                "kind",
                "reason",
                "doses",
                "transactions",
            ],
            rows.iter().map(|r| {
                vec![
                    r.clinic.to_string(),
                    r.county.to_string(),
                    r.cvx.to_string(),
                    r.funding.clone(),
                    r.kind.clone(),
                    r.reason.clone().unwrap_or_default(),
                    r.doses_text(),
                    r.transactions.to_string(),
                ]
            }),
        );
    }
    let codes = state.codes();
    Ok(page::layout(
        &ctx,
        "Inventory movement report",
        html! {
            form.card method="get" action="/inventory/report" {
                div.grid {
                    (date_field("from", "From", &from.to_string(), false))
                    (date_field("to", "To", &to.to_string(), false))
                }
                div.actions { button type="submit" { "Run report" } }
            }
            p { "Doses administered, received, moved and wasted from " (from) " to " (to) " · " (page::acting_label(&ctx)) "." }
            @if rows.is_empty() { p.muted { "No stock movements in this period." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "County" } th { "Vaccine" } th { "Funding" } th { "Movement" } th { "Reason" } th { "Doses" } th { "Transactions" } } }
                    tbody { @for r in &rows { tr {
                        td { (r.clinic) } td { (r.county) } td { (vaccine_name(codes, &r.cvx)) } td { (r.funding) }
                        td { (r.kind) } td { (r.reason.clone().unwrap_or_default()) } td { (r.doses_text()) } td { (r.transactions) }
                    } } }
                }
            }
            p { a href={ "/inventory/report?format=csv&from=" (from) "&to=" (to) } { "Download CSV" } }
        },
    )
    .into_response())
}
