//! Clinic Tools (Clinic Information), the state's review of clinic change requests, and
//! the notifications page behind the bell. Each handler parses the form, calls one use case
//! (`usecase::clinic_info`, `usecase::notifications`) and renders.

use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use ctwiz_core::access::{Action, Role, ScopeKind};
use ctwiz_core::clinic_info::{ChangeStatus, ClinicChange, ContactDetails, StaffMember};
use ctwiz_core::ids::{Email, Phone, Zip};
use ctwiz_core::patient::Address;
use ctwiz_store::usecase::{clinic_info, notifications};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "contact" => Some("Contact details saved."),
        "unchanged" => Some("Nothing changed."),
        "requested" => Some("Change request sent to the DPH state team. It is listed under Change Request History until they decide."),
        "signed" => Some("Agreement signed. The DPH state team sees it with your clinic's record."),
        _ => None,
    }
}

/// Clinic access types, for the staff form.
fn clinic_roles() -> impl Iterator<Item = (&'static str, String)> {
    Role::ALL
        .into_iter()
        .filter(|r| r.scope_kind() == ScopeKind::Clinic)
        .map(|r| (r.key(), r.label().to_string()))
}

fn status_class(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Pending => "warn",
        ChangeStatus::Approved => "ok",
        ChangeStatus::Rejected => "bad",
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Done>,
) -> Result<Markup, AppError> {
    if ctx.clinic().is_none() {
        ctx.require(&state, Action::ClinicToolsView).await?;
        return Ok(page::layout(
            &ctx,
            "Clinic Tools",
            html! {
                p { "Clinic Tools are per clinic; choose a clinic to see its profile." }
                @if ctx.can(Action::ChangeRequestReview) {
                    p { a href="/admin/change-requests" { "Review clinics' change requests" } }
                }
            },
        ));
    }
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let (info, agreement) = state
        .db(move |s| {
            let info = clinic_info::view(s, &actor, now)?;
            let agreement = info
                .clinic
                .program
                .is_public()
                .then(|| ctwiz_store::usecase::agreements::status(s, &actor, &info.clinic.pin, now))
                .transpose()?;
            Ok((info, agreement))
        })
        .await?;
    let c = &info.clinic;
    let edit = ctx.can(Action::ClinicToolsEdit);
    let today = ctx.now.date().to_string();
    Ok(page::layout(
        &ctx,
        "Clinic Tools – Clinic Information",
        html! {
            @if let Some(m) = done_message(&q.done) { p.notice role="status" { (m) } }
            section.card {
                h2 { "Clinic profile" }
                dl.facts {
                    dt { "Name" } dd { (c.name) }
                    dt { "PIN" } dd { (c.pin) }
                    dt { "County" } dd { (c.county) }
                    dt { "Programs" } dd { (c.program.label()) }
                    dt { "Address" } dd { @if let Some(a) = &c.address { (a.street) ", " (a.city) ", " (a.state) " " (a.zip) } @else { span.muted { "none on record" } } }
                    dt { "Phone" } dd { (c.phone.as_ref().map(Phone::formatted).unwrap_or_default()) }
                    dt { "Fax" } dd { (c.fax.as_ref().map(Phone::formatted).unwrap_or_default()) }
                    dt { "Vaccine delivery days/hours" } dd { (c.delivery_hours.clone().unwrap_or_default()) }
                }
            }
            @if let Some(st) = &agreement { (crate::agreements::section(&ctx, st)) }
            @if edit {
                section.card {
                    h2 { "Phone, fax and delivery hours" }
                    p.muted { "These apply at once." }
                    form.stack method="post" action="/clinic-tools/contact" {
                        (csrf_field(&ctx))
                        (text_field("phone", "Phone", &c.phone.as_ref().map(Phone::formatted).unwrap_or_default(), false))
                        (text_field("fax", "Fax", &c.fax.as_ref().map(Phone::formatted).unwrap_or_default(), false))
                        (text_field("delivery_hours", "Vaccine delivery days/hours", c.delivery_hours.as_deref().unwrap_or(""), false))
                        div.actions { button type="submit" { "Save" } }
                    }
                }
                section.card {
                    h2 { "Name and address" }
                    p.muted { "Changes go to the DPH state team for approval." }
                    form.stack method="post" action="/clinic-tools/changes" {
                        (csrf_field(&ctx))
                        input type="hidden" name="kind" value="name";
                        (text_field("name", "New clinic name", &c.name, true))
                        div.actions { button type="submit" { "Request name change" } }
                    }
                    form.stack method="post" action="/clinic-tools/changes" {
                        (csrf_field(&ctx))
                        input type="hidden" name="kind" value="address";
                        (text_field("street", "Street", c.address.as_ref().map(|a| a.street.as_str()).unwrap_or(""), true))
                        (text_field("city", "City", c.address.as_ref().map(|a| a.city.as_str()).unwrap_or(""), true))
                        (text_field("state", "State", c.address.as_ref().map(|a| a.state.as_str()).unwrap_or("CT"), true))
                        (text_field("zip", "ZIP", &c.address.as_ref().map(|a| a.zip.to_string()).unwrap_or_default(), true))
                        div.actions { button type="submit" { "Request address change" } }
                    }
                }
            }
            section.card #staff {
                h2 { "Clinic staff" }
                @if c.program.is_public() { p.muted { "Staff must be listed here before they can request a CT WiZ account for this clinic." } }
                @if c.staff.is_empty() { p.muted { "No staff listed." } } @else {
                    table {
                        thead { tr { th { "Name" } th { "E-mail" } th { "Role" } th { "Title" } th { "Training completed" } @if edit { th { "" } } } }
                        tbody { @for m in &c.staff { tr {
                            td { (m.name) } td { (m.email) } td { (m.role.label()) }
                            td { (m.title.clone().unwrap_or_default()) }
                            td { @if let Some(t) = &m.training { (t.course) " on " (t.completed) } }
                            @if edit { td {
                                form.inline method="post" action="/clinic-tools/changes" {
                                    (csrf_field(&ctx))
                                    input type="hidden" name="kind" value="remove-staff";
                                    input type="hidden" name="staff_email" value=(m.email);
                                    button.small.secondary type="submit" { "Request removal" }
                                }
                            } }
                        } } }
                    }
                }
                @if edit {
                    h3 { "Add or update a staff member" }
                    form.stack method="post" action="/clinic-tools/changes" {
                        (csrf_field(&ctx))
                        input type="hidden" name="kind" value="staff";
                        (text_field("staff_name", "Name", "", true))
                        (text_field("staff_email", "E-mail", "", true))
                        (select_field("staff_role", "Role (access type)", clinic_roles(), Role::ClinicAccess.key()))
                        (text_field("staff_title", "Title", "", false))
                        (text_field("training_course", "Training completed", "", false))
                        (date_field("training_date", "Training date", "", false))
                        p.muted { "Training date must be on or before " (today) "." }
                        div.actions { button type="submit" { "Request staff change" } }
                    }
                }
            }
            section.card #history {
                h2 { "Change Request History" }
                @if info.history.is_empty() { p.muted { "No change requests yet." } } @else {
                    table {
                        thead { tr { th { "Requested" } th { "Change" } th { "Requested by" } th { "Status" } th { "Reviewer" } th { "Reason" } } }
                        tbody { @for r in &info.history { tr {
                            td { (r.requested_at) } td { (r.change.summary()) } td { (r.requested_by) }
                            td { span class=(status_class(r.status)) { (r.status.label()) } @if let Some(at) = r.reviewed_at { br; span.muted { (at) } } }
                            td { (r.reviewer.clone().unwrap_or_default()) }
                            td { (r.reason.clone().unwrap_or_default()) }
                        } } }
                    }
                }
            }
            section.card {
                h2 { "Accounts with access" }
                table { thead { tr { th { "Name" } th { "Username" } th { "Access type" } } }
                    tbody { @for (n, u, r) in &info.accounts { tr { td { (n) } td { (u) } td { (r.label()) } } } } }
            }
        },
    ))
}

#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    fax: String,
    #[serde(default)]
    delivery_hours: String,
}

fn opt_phone(s: &str) -> Result<Option<Phone>, AppError> {
    let t = s.trim();
    Ok(if t.is_empty() {
        None
    } else {
        Some(Phone::new(t)?)
    })
}

pub async fn contact(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ContactForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    ctx.require(&state, Action::ClinicToolsEdit).await?;
    let details = ContactDetails {
        phone: opt_phone(&f.phone)?,
        fax: opt_phone(&f.fax)?,
        delivery_hours: Some(f.delivery_hours),
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let changed = state
        .db(move |s| Ok(clinic_info::update_contact(s, &actor, &details, now)?))
        .await?;
    let done = if changed.is_empty() {
        "unchanged"
    } else {
        "contact"
    };
    Ok(Redirect::to(&format!("/clinic-tools?done={done}")).into_response())
}

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    zip: String,
    #[serde(default)]
    staff_name: String,
    #[serde(default)]
    staff_email: String,
    #[serde(default)]
    staff_role: String,
    #[serde(default)]
    staff_title: String,
    #[serde(default)]
    training_course: String,
    #[serde(default)]
    training_date: String,
}

/// The change the form asks for; the error names the field at fault.
fn parse_change(f: &ChangeForm, today: NaiveDate) -> Result<ClinicChange, AppError> {
    Ok(match f.kind.as_str() {
        "name" => ClinicChange::Name(ctwiz_core::ids::name_text("clinic name", &f.name, 120)?),
        "address" => ClinicChange::Address(Address::new(
            &f.street,
            &f.city,
            &f.state,
            Zip::new(&f.zip)?,
        )?),
        "staff" => {
            let course = f.training_course.trim();
            let date = f.training_date.trim();
            let training = match (course.is_empty(), date.is_empty()) {
                (true, true) => None,
                (false, false) => Some((
                    course,
                    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                        AppError::BadRequest(format!(
                            "Training date {date:?} is not a date (YYYY-MM-DD)."
                        ))
                    })?,
                )),
                _ => {
                    return Err(AppError::BadRequest(
                        "Give both the training completed and its date, or neither.".into(),
                    ))
                }
            };
            ClinicChange::Staff(StaffMember::new(
                &f.staff_name,
                Email::new(&f.staff_email)?,
                Role::parse(&f.staff_role)?,
                Some(&f.staff_title),
                training,
                today,
            )?)
        }
        "remove-staff" => ClinicChange::RemoveStaff(Email::new(&f.staff_email)?),
        other => {
            return Err(AppError::BadRequest(format!(
                "{other:?} is not a clinic change (name, address, staff, remove-staff)."
            )))
        }
    })
}

pub async fn request_change(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ChangeForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    // The gate first, so a refused user learns nothing from the form's checks.
    ctx.require(&state, Action::ClinicToolsEdit).await?;
    let change = parse_change(&f, ctx.now.date())?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(clinic_info::request_change(s, &actor, change, now)?))
        .await?;
    Ok(Redirect::to("/clinic-tools?done=requested#history").into_response())
}

// ---------------------------------------------------------------- the state's review

pub async fn reviews(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let pending = state
        .db(move |s| Ok(clinic_info::pending(s, &actor, now)?))
        .await?;
    Ok(page::layout(
        &ctx,
        "Clinic change requests",
        html! {
            @if pending.is_empty() { p.muted { "No change requests wait for a decision." } }
            @for r in &pending {
                section.card {
                    h2 { (r.clinic.name) " " span.muted { "(" (r.clinic.pin) ")" } }
                    p { strong { (r.request.change.summary()) } }
                    p.muted { "Requested by " (r.request.requested_by) " on " (r.request.requested_at) }
                    div.actions {
                        form.inline method="post" action={ "/admin/change-requests/" (r.request.id) "/approve" } {
                            (csrf_field(&ctx))
                            button type="submit" { "Approve" }
                        }
                        form.inline method="post" action={ "/admin/change-requests/" (r.request.id) "/reject" } {
                            (csrf_field(&ctx))
                            label { span { "Reason" } input type="text" name="reason" required; }
                            button.secondary type="submit" { "Reject" }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<crate::session::CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(clinic_info::approve(s, &actor, id, now)?))
        .await?;
    Ok(Redirect::to("/admin/change-requests").into_response())
}

#[derive(Deserialize)]
pub struct RejectForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<RejectForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| Ok(clinic_info::reject(s, &actor, id, &f.reason, now)?))
        .await?;
    Ok(Redirect::to("/admin/change-requests").into_response())
}

// ---------------------------------------------------------------- notifications

pub async fn notifications_page(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let list = state
        .db(move |s| Ok(notifications::list(s, &actor, now)?))
        .await?;
    let bell = crate::inventory::load_bell(&state, &ctx).await?;
    Ok(page::layout_with_bell(
        &ctx,
        "Notifications",
        html! {
            @if let Some(b) = bell {
                @if b.stock_alerts + b.order_decisions > 0 {
                    p.notice { a href="/inventory" { (b.stock_alerts) " stock alert(s) and " (b.order_decisions) " order decision(s) at this clinic" } }
                }
                @if b.orders_to_decide > 0 {
                    p.notice { a href="/inventory/orders" { (b.orders_to_decide) " vaccine order(s) wait for your decision" } }
                }
            }
            @if list.is_empty() { p.muted { "No notifications in the last " (notifications::KEEP_DAYS) " days." } } @else {
                ul.notifications {
                    @for n in &list {
                        li class=(if n.read_at.is_none() { "unread" } else { "read" }) {
                            a href={ "/notifications/" (n.id) } {
                                @if n.read_at.is_none() { strong { "New · " } }
                                (n.kind.label()) ": " (n.message)
                            }
                            " " span.muted { (n.created_at) }
                        }
                    }
                }
                p.muted { "Notifications are kept " (notifications::KEEP_DAYS) " days." }
            }
        },
        bell,
    ))
}

/// Opens a notification: marks it read and goes to its screen.
pub async fn open_notification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let n = state
        .db(move |s| Ok(notifications::open(s, &actor, id, now)?))
        .await?;
    Ok(Redirect::to(&n.link).into_response())
}
