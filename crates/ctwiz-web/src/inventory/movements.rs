//! Stock movements: receiving, wastage and returns, transfers and the reconciliation screen.

use super::lots::lots_page;
use super::{
    back_to, clinic_picker, form_clinic, form_field, load_bell, may, pin_field, refused,
    resolve_clinic, sub_nav, whole_number, PinQuery,
};
use crate::error::AppError;
use crate::page::{self, csrf_field};
use crate::patients::vaccine_name;
use crate::reports::parse_date;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use ctwiz_core::inventory::{Lot, StockFunding, WastageReason};
use ctwiz_core::org::Clinic;
use ctwiz_store::usecase::inventory::{self as usecase, Count, Disposal};
use ctwiz_store::usecase::UseCaseError;
use ctwiz_store::{InventoryStore, OrgStore};
use maud::{html, Markup};
use serde::Deserialize;

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
    let funding = StockFunding::parse(&f.funding)?;
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
            let clinic = resolve_clinic(s, &ctx2, pin.as_deref(), Action::InventoryEdit)?;
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
                                    td { (l.lot.funding.label()) }
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
