//! Public vaccine orders, per program (CVP, CVFA): placing them, the state's approval or
//! rejection, receiving shipments.

use super::{
    back_to, clinic_picker, done_message, form_clinic, form_field, load_bell, may, orders_for,
    pin_field, refused, resolve_clinic, sub_nav, vaccine_options, whole_number, PinQuery,
};
use crate::error::AppError;
use crate::page::{self, csrf_field, form_error, select_field};
use crate::patients::vaccine_name;
use crate::reports::parse_date;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Days, NaiveDate};
use ctwiz_core::access::Action;
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber};
use ctwiz_core::inventory::StockFunding;
use ctwiz_core::ordering::{order_suggestions, OrderStatus, SupplyPolicy, VaccineOrder};
use ctwiz_core::org::Clinic;
use ctwiz_core::program::Program;
use ctwiz_store::usecase::inventory::{self as usecase, Decision};
use ctwiz_store::{InventoryStore, OrgStore};
use maud::{html, Markup};

// ---------------------------------------------------------------- orders

pub async fn orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PinQuery>,
) -> Result<Markup, AppError> {
    let done = done_message(q.done.as_deref()).map(str::to_string);
    let lines = q.lines.unwrap_or(BLANK_LINES).clamp(1, MAX_BLANK_LINES);
    let program = q.program.as_deref().map(Program::parse).transpose()?;
    orders_page(&state, &ctx, q.pin, None, done, lines, program).await
}

/// Blank "another vaccine" lines on a new order form, and the most a form asks for
/// (an order may hold any number of lines; the form grows on request).
const BLANK_LINES: usize = 3;
const MAX_BLANK_LINES: usize = 60;

async fn orders_page(
    state: &AppState,
    ctx: &Ctx,
    pin: Option<String>,
    error: Option<String>,
    done: Option<String>,
    blank_lines: usize,
    program: Option<Program>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let today = ctx.now.date();
    let (clinics, clinic, suggestions, own, pending, shipping, program) = state
        .db(move |s| {
            let clinics = s.clinics()?;
            let clinic = resolve_clinic(s, &ctx2, pin.as_deref(), Action::InventoryView)?;
            let mut suggestions = Vec::new();
            let mut own = Vec::new();
            // The program the form orders: the one asked for if the clinic is in it,
            // else the clinic's first.
            let mut chosen = None;
            if let Some(c) = &clinic {
                own = s.orders(Some(&c.pin), None)?;
                chosen = program
                    .filter(|p| c.program.enrolled(*p))
                    .or_else(|| c.program.programs().first().copied());
                if let (Some(p), true) = (chosen, may(&ctx2, c, Action::OrderCreate)) {
                    let lots = s.lots(&c.pin)?;
                    let pairs: Vec<_> = lots.iter().map(|l| (&l.lot, l.on_hand)).collect();
                    let stock = StockFunding::Public(p);
                    suggestions = order_suggestions(
                        &pairs,
                        p,
                        today,
                        SupplyPolicy::default(),
                        |cvx, since| s.doses_used(&c.pin, cvx, stock, since),
                    )?;
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
            Ok((clinics, clinic, suggestions, own, pending, shipping, chosen))
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
                        h3 { (o.program.short()) " order " (id) " · " (name_of(&o.clinic)) " · " (o.created_on) " by " (o.created_by) }
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
                    thead { tr { th { "Order" } th { "Program" } th { "Clinic" } th { "Created" } th { "Approved doses" } th { "Note" } } }
                    tbody { @for o in &shipping { tr {
                        td { (o.id.unwrap_or(0)) }
                        td { (o.program.short()) }
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
                    p.notice { (c.name) " is a private-only clinic (enrolled in neither CVP nor CVFA) and does not order public vaccine." }
                } @else if let (Some(program), true) = (program, may(ctx, c, Action::OrderCreate)) {
                    form.card.stack method="post" action="/inventory/orders" {
                        h2 { "New " (program.short()) " vaccine order" }
                        p.muted { (program.label()) "." @for other in c.program.programs().into_iter().filter(|p| *p != program) {
                            " " a href={ "/inventory/orders?pin=" (c.pin) "&program=" (other.key()) } { "Order " (other.short()) " vaccine instead" }
                        } }
                        p.muted { "Suggested: " (supply.months_of_supply) " months of supply at the last " (supply.months_observed) " months' usage, less " (program.short()) " stock on hand, in boxes of " (supply.box_size) "." }
                        (csrf_field(ctx)) (pin_field(c))
                        input type="hidden" name="program" value=(program.key());
                        @if !suggestions.is_empty() {
                            table {
                                thead { tr { th { "Vaccine" } th { "Used (" (supply.months_observed) " months)" } th { (program.short()) " on hand" } th { "Suggested" } th { "Order doses" } } }
                                tbody { @for sg in &suggestions { tr {
                                    td { (vaccine_name(codes, &sg.cvx)) }
                                    td { (sg.used) } td { (sg.on_hand) } td { (sg.suggested) }
                                    td { input type="number" min="0" name={ "qty_" (sg.cvx) } value=(sg.suggested) aria-label={ "Doses of CVX " (sg.cvx) }; }
                                } } }
                            }
                        }
                        @for i in 0..blank_lines {
                            div.grid {
                                (select_field("extra_cvx", &format!("Another vaccine ({})", i + 1),
                                    std::iter::once(("", "—".to_string())).chain(vaccines.iter().map(|(k, l)| (k.as_str(), l.clone()))), ""))
                                label { span { "Doses" } input type="number" min="0" name="extra_qty"; }
                            }
                        }
                        @if blank_lines < MAX_BLANK_LINES {
                            p { a href={ "/inventory/orders?pin=" (c.pin) "&program=" (program.key()) "&lines=" ((blank_lines + 5).min(MAX_BLANK_LINES)) } { "More vaccine lines" } " " span.muted { "(before filling in the form)" } }
                        }
                        div.actions { button type="submit" { "Send for state approval" } }
                    }
                }
                h2 { "Orders of " (c.name) }
                @if own.is_empty() { p.muted { "No orders yet." } } @else {
                    @for o in &own {
                        @let id = o.id.unwrap_or(0);
                        section.card {
                            h3 { (o.program.short()) " order " (id) " · " (o.created_on) " · " span.badge { (o.status.key()) } }
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

/// (CVX, doses) of the "another vaccine" lines, paired in form order; a line without a
/// vaccine is skipped, a vaccine without doses refused.
fn extra_lines(form: &[(String, String)]) -> Result<Vec<(Cvx, i64)>, AppError> {
    let values = |name: &str| {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect::<Vec<_>>()
    };
    let (cvxs, qtys) = (values("extra_cvx"), values("extra_qty"));
    let mut out = Vec::new();
    for (i, cvx) in cvxs.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
        let q = qtys.get(i).copied().unwrap_or("");
        if q.is_empty() {
            return Err(AppError::BadRequest(format!(
                "Give the doses to order of CVX {cvx} (line {}).",
                i + 1
            )));
        }
        out.push((
            Cvx::new(cvx)?,
            whole_number(&format!("Doses of CVX {cvx}"), q)?,
        ));
    }
    Ok(out)
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
    let program = Program::parse(form_field(&form, "program").unwrap_or("cvp"))?;
    let result = async {
        let mut lines: Vec<(Cvx, i64)> = quantities(&form)?
            .into_iter()
            .filter(|(_, q)| *q != 0)
            .collect();
        lines.extend(extra_lines(&form)?);
        let (actor, now, codes, c) = (
            ctx.as_actor(),
            ctx.now,
            state.codes().clone(),
            clinic.clone(),
        );
        state
            .db(move |s| {
                Ok(usecase::create_order(
                    s, &actor, &codes, &c, program, lines, now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to("/inventory/orders", &clinic, "ordered")),
        Err(e) => {
            refused(e, |m| {
                orders_page(
                    &state,
                    &ctx,
                    Some(pin),
                    Some(m),
                    None,
                    BLANK_LINES,
                    Some(program),
                )
            })
            .await
        }
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
        let (actor, now) = (ctx.as_actor(), ctx.now);
        state
            .db(move |s| Ok(usecase::decide_order(s, &actor, id, &decision, now)?))
            .await
    }
    .await;
    let done = if approve { "approved" } else { "rejected" };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/inventory/orders?done={done}")).into_response()),
        Err(e) => {
            refused(e, |m| {
                orders_page(&state, &ctx, None, Some(m), None, BLANK_LINES, None)
            })
            .await
        }
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
    let (actor, now) = (ctx.as_actor(), ctx.now);
    // Refused before the form is read, like the other stock forms.
    let order = state
        .db(move |s| {
            let o = s
                .order(id)?
                .ok_or_else(|| AppError::NotFound(format!("Order {id}")))?;
            usecase::clinic_for(s, &actor, &o.clinic, Action::InventoryEdit, now)?;
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
        Err(e) => {
            refused(e, |m| {
                orders_page(&state, &ctx, Some(pin), Some(m), None, BLANK_LINES, None)
            })
            .await
        }
    }
}
