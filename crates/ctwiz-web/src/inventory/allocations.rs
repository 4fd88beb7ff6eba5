//! Vaccine allocations: the state sets the doses of a scarce vaccine each clinic may
//! order in a period (`usecase::allocations`; orders beyond them are refused there).

use super::{refused, vaccine_options, whole_number};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::{ClinicPin, Cvx};
use ctwiz_store::usecase::allocations;
use maud::{html, Markup};
use serde::Deserialize;

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    render(&state, &ctx, None).await
}

async fn render(state: &AppState, ctx: &Ctx, error: Option<String>) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let list = state
        .db(move |s| Ok(allocations::list(s, &actor, now)?))
        .await?;
    let vaccines = vaccine_options(state.codes());
    Ok(page::layout(
        ctx,
        "Vaccine allocations",
        html! {
            p { "When a vaccine is scarce, DPH allocates how many doses each clinic may order in a period. An order beyond what remains is refused, naming the remaining quantity." }
            (form_error(error.as_deref()))
            @if list.is_empty() { p.muted { "No allocations." } } @else {
                table {
                    thead { tr { th { "Clinic" } th { "Vaccine" } th { "From" } th { "To" } th { "Doses" } } }
                    tbody { @for a in &list { tr {
                        td { (a.clinic) } td { (crate::patients::vaccine_name(state.codes(), &a.cvx)) }
                        td { (a.first) } td { (a.last) } td { (a.doses) }
                    } } }
                }
            }
            @if ctx.clinic().is_none() && ctx.can(Action::OrderApprove) {
                form.card.stack method="post" action="/inventory/allocations" {
                    h2 { "Set an allocation" }
                    (csrf_field(ctx))
                    div.grid {
                        (text_field("pin", "Clinic PIN", "", true))
                        (select_field("cvx", "Vaccine", vaccines.iter().map(|(k, l)| (k.as_str(), l.clone())), ""))
                        label { span { "Doses *" } input type="number" min="0" name="doses" required; }
                        (date_field("from", "From", "", true))
                        (date_field("to", "To", "", true))
                    }
                    div.actions { button type="submit" { "Save allocation" } }
                }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct AllocationForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    cvx: String,
    #[serde(default)]
    doses: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn set(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<AllocationForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let result = async {
        let pin = ClinicPin::new(f.pin.trim())?;
        let cvx = Cvx::new(f.cvx.trim())?;
        let doses = whole_number("Doses", &f.doses)?;
        let from = crate::reports::parse_date("From", &f.from)?;
        let to = crate::reports::parse_date("To", &f.to)?;
        let (actor, now, codes) = (ctx.as_actor(), ctx.now, state.codes().clone());
        state
            .db(move |s| {
                Ok(allocations::set(
                    s,
                    &actor,
                    &codes,
                    &pin,
                    cvx,
                    (from, to),
                    doses,
                    now,
                )?)
            })
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/inventory/allocations").into_response()),
        Err(e) => refused(e, |m| render(&state, &ctx, Some(m))).await,
    }
}
