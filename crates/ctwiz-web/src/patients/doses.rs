//! Dose and observation entry: recording, correcting and deleting doses, and recording observations.

use super::{opt, parse_date, vaccine_name};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use ctwiz_core::access::Action;
use ctwiz_core::codes::{CodeSets, DoseChoices, VaccineCode};
use ctwiz_core::dose::{
    Dose, InformationSource, Observation, ObservationKind, RefusalReason, Route, Site,
    VfcEligibility, VisGiven,
};
use ctwiz_core::ids::{Cvx, DoseId, LotNumber, PatientId};
use ctwiz_core::patient::Patient;
use ctwiz_forecast::explain::DueStatus;
use ctwiz_store::{usecase, DoseStore, InventoryStore, LotStock, SqliteStore};
use maud::{html, Markup};
use serde::Deserialize;

/// The CDSi observation codes (conditions, immunity, contraindications) with their titles,
/// so a recorded observation is one the Recommender understands.
fn observation_codes(engine: &ctwiz_forecast::Engine) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = engine
        .supporting_data()
        .observations
        .iter()
        .map(|(code, title)| (code.to_string(), format!("{code} – {title}")))
        .collect();
    codes.sort();
    codes
}

pub(super) fn observation_form(
    ctx: &Ctx,
    engine: &ctwiz_forecast::Engine,
    id: PatientId,
) -> Markup {
    let codes = observation_codes(engine);
    let kinds = [
        (
            "immunity",
            "Evidence of immunity / disease history".to_string(),
        ),
        ("contraindication", "Contraindication".into()),
        ("precaution", "Precaution".into()),
        ("condition", "Condition / indication".into()),
    ];
    html! {
        details.no-print {
            summary { "Record an observation" }
            form.stack method="post" action={ "/patients/" (id) "/observations" } {
                (csrf_field(ctx))
                div.grid {
                    (select_field("kind", "Kind", kinds, "immunity"))
                    (select_field("code", "CDSi observation", codes.iter().map(|(c, t)| (c.as_str(), t.clone())), ""))
                    (text_field("text", "Note (optional)", "", false))
                    (date_field("date", "Date", &ctx.now.date().to_string(), true))
                }
                div.actions { button type="submit" { "Save observation" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ObservationForm {
    csrf: String,
    kind: String,
    code: String,
    #[serde(default)]
    text: String,
    date: String,
}

pub async fn add_observation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ObservationForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let kind = match f.kind.as_str() {
        "immunity" => ObservationKind::Immunity,
        "contraindication" => ObservationKind::Contraindication,
        "precaution" => ObservationKind::Precaution,
        "condition" => ObservationKind::Condition,
        other => {
            return Err(AppError::BadRequest(format!(
                "Unknown observation kind {other:?}."
            )))
        }
    };
    let date = parse_date("Observation date", &f.date)?;
    // Only codes the CDSi data knows; the stored text is its title plus any note.
    let title = observation_codes(state.engine())
        .into_iter()
        .find(|(c, _)| *c == f.code.trim())
        .map(|(_, t)| t)
        .ok_or_else(|| {
            AppError::BadRequest(format!("{:?} is not a CDSi observation code.", f.code))
        })?;
    // Observation text holds at most 200 characters.
    let title: String = title.chars().take(150).collect();
    let text = match opt(&f.text) {
        Some(note) => format!("{title} ({note})"),
        None => title,
    };
    let o = Observation::new(kind, &f.code, &text, date)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            Ok(usecase::doses::add_observation(
                s,
                &actor,
                PatientId(id),
                &o,
                now,
            )?)
        })
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
}

// ---------------------------------------------------------------- dose entry

#[derive(Deserialize, Default, Clone)]
pub struct DoseForm {
    #[serde(default)]
    csrf: String,
    /// administered | historical | refusal
    #[serde(default)]
    kind: String,
    #[serde(default)]
    lot_id: String,
    #[serde(default)]
    cvx: String,
    #[serde(default)]
    lot_number: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    eligibility: String,
    #[serde(default)]
    administered_by: String,
    #[serde(default)]
    vis_given: Option<String>,
    #[serde(default)]
    refusal: String,
    /// A vaccine found by search (foreign, unspecified or retired codes are not listed).
    #[serde(default)]
    cvx_other: String,
}

/// The vaccine picker: what the Recommender says is due, the clinic's stock, other
/// US-licensed products (`CodeSets::dose_choices`), and a search over every other code.
fn vaccine_picker(label: &str, choices: &DoseChoices<'_>, selected: &str, list_id: &str) -> Markup {
    let option = |v: &VaccineCode| {
        html! { option value=(v.cvx) selected[selected == v.cvx.as_str()] { (v.short_name) " (CVX " (v.cvx) ")" } }
    };
    html! {
        label { span { (label) }
            select name="cvx" {
                option value="" { "— choose a vaccine —" }
                @if !choices.due.is_empty() { optgroup label="Due now for this patient (Recommender)" { @for v in &choices.due { (option(v)) } } }
                @if !choices.in_stock.is_empty() { optgroup label="In this clinic's stock" { @for v in &choices.in_stock { (option(v)) } } }
                optgroup label="Other US-licensed vaccines" { @for v in &choices.licensed { (option(v)) } }
            }
        }
        label { span { "Or search other codes (unspecified, retired, non-US)" }
            input type="search" name="cvx_other" list=(list_id) placeholder="CVX code or name";
            datalist id=(list_id) { @for v in &choices.search { option value=(format!("{} – {}", v.cvx, v.short_name)) {} } }
        }
    }
}

fn usable_lots(lots: &[LotStock], on: NaiveDate) -> Vec<&LotStock> {
    lots.iter()
        .filter(|l| l.on_hand > 0 && !l.lot.is_expired(on))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn dose_form(
    ctx: &Ctx,
    codes: &CodeSets,
    id: PatientId,
    lots: &[LotStock],
    due: &[String],
    f: &DoseForm,
    error: Option<&str>,
) -> Markup {
    let today = ctx.now.date();
    let lots = usable_lots(lots, today);
    let stock: Vec<Cvx> = lots.iter().map(|l| l.lot.cvx.clone()).collect();
    let choices = codes.dose_choices(due, &stock, today);
    let date = if f.date.is_empty() {
        today.to_string()
    } else {
        f.date.clone()
    };
    let sources = InformationSource::ALL
        .iter()
        .filter(|s| !s.is_administered())
        .map(|s| (s.code(), s.label().to_string()));
    let routes = std::iter::once(("", "—".to_string()))
        .chain(Route::ALL.iter().map(|r| (r.code(), r.label().to_string())));
    let sites = std::iter::once(("", "—".to_string()))
        .chain(Site::ALL.iter().map(|r| (r.code(), r.label().to_string())));
    let elig = std::iter::once(("", "—".to_string())).chain(
        VfcEligibility::ALL
            .iter()
            .map(|r| (r.code(), format!("{} {}", r.code(), r.label()))),
    );
    let refusals = RefusalReason::ALL
        .iter()
        .map(|r| (r.code(), r.label().to_string()));
    html! {
        (form_error(error))
        section.card {
            h2 { "Administered today at this clinic" }
            form.stack method="post" action={ "/patients/" (id) "/doses" } {
                (csrf_field(ctx))
                input type="hidden" name="kind" value="administered";
                @if lots.is_empty() {
                    p.muted { "This clinic has no usable inventory lots; enter the vaccine and lot by hand." }
                    div.grid {
                        (vaccine_picker("Vaccine", &choices, &f.cvx, "cvx-administered"))
                        (text_field("lot_number", "Lot number", &f.lot_number, false))
                    }
                } @else {
                    label { span { "Lot from this clinic's inventory *" }
                        select name="lot_id" required {
                            @for l in &lots {
                                option value=(l.lot.id.unwrap_or_default()) selected[f.lot_id == l.lot.id.unwrap_or_default().to_string()] {
                                    (vaccine_name(codes, &l.lot.cvx)) " – lot " (l.lot.lot_number) " – exp " (l.lot.expiration)
                                    " – " (l.on_hand) " on hand (" (l.lot.funding.key()) ")"
                                }
                            }
                        }
                    }
                }
                div.grid {
                    (date_field("date", "Date given", &date, true))
                    (select_field("route", "Route", routes, &f.route))
                    (select_field("site", "Site", sites, &f.site))
                    (select_field("eligibility", "VFC eligibility", elig, &f.eligibility))
                    (text_field("administered_by", "Administered by", &f.administered_by, false))
                    label.check { input type="checkbox" name="vis_given" checked[f.vis_given.is_some()]; "Vaccine Information Statement given" }
                }
                div.actions { button type="submit" { "Save administered dose" } }
            }
        }
        section.card {
            h2 { "Historical dose" }
            form.stack method="post" action={ "/patients/" (id) "/doses" } {
                (csrf_field(ctx))
                input type="hidden" name="kind" value="historical";
                div.grid {
                    (vaccine_picker("Vaccine", &choices, "", "cvx-historical"))
                    (date_field("date", "Date given", "", true))
                    (select_field("source", "Source of the information", sources, "01"))
                    (text_field("lot_number", "Lot number (if known)", "", false))
                }
                div.actions { button type="submit" { "Save historical dose" } }
            }
        }
        section.card {
            h2 { "Refusal" }
            form.stack method="post" action={ "/patients/" (id) "/doses" } {
                (csrf_field(ctx))
                input type="hidden" name="kind" value="refusal";
                div.grid {
                    (vaccine_picker("Vaccine refused", &choices, "", "cvx-refusal"))
                    (date_field("date", "Date", &today.to_string(), true))
                    (select_field("refusal", "Reason", refusals, "00"))
                }
                div.actions { button type="submit" { "Save refusal" } }
            }
        }
    }
}

async fn clinic_lots(state: &AppState, ctx: &Ctx) -> Result<Vec<LotStock>, AppError> {
    let Some(pin) = ctx.clinic().map(|c| c.pin.clone()) else {
        return Ok(Vec::new());
    };
    state.db(move |s| Ok(s.lots(&pin)?)).await
}

/// The vaccine groups the Recommender lists as due now or overdue for the patient of a
/// dose form the user was already allowed to open, for the picker's first group.
async fn due_groups(
    state: &AppState,
    p: Patient,
    id: PatientId,
    today: NaiveDate,
) -> Result<Vec<String>, AppError> {
    let st = state.clone();
    state
        .db(move |s| {
            let (doses, observations) = (s.doses(id)?, s.observations(id)?);
            let Some(rec) =
                crate::recommender::evaluate(st.engine(), &p, &doses, &observations, today)
            else {
                return Ok(Vec::new());
            };
            Ok(rec
                .result
                .vaccine_groups
                .iter()
                .filter(|g| {
                    matches!(g.due_status(today), DueStatus::DueNow | DueStatus::Overdue)
                        && ctwiz_forecast::explain::relevance(
                            st.engine().supporting_data(),
                            &rec.result,
                            g,
                            p.dob,
                        ) == ctwiz_forecast::Relevance::Listed
                })
                .map(|g| g.vaccine_group.to_string())
                .collect())
        })
        .await
}

pub async fn new_dose_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let p = state
        .db(move |s| ctx2.patient_for(s, PatientId(id), Action::DoseRecord))
        .await?;
    let lots = clinic_lots(&state, &ctx).await?;
    dose_page(
        &state,
        &ctx,
        p,
        PatientId(id),
        &lots,
        &DoseForm::default(),
        None,
    )
    .await
}

/// The dose entry page for patient `p` (already opened for `DoseRecord`), its vaccine
/// picker ordered by what the Recommender says is due.
async fn dose_page(
    state: &AppState,
    ctx: &Ctx,
    p: Patient,
    id: PatientId,
    lots: &[LotStock],
    f: &DoseForm,
    error: Option<&str>,
) -> Result<Markup, AppError> {
    let title = format!("Add immunization – {}", p.name.display());
    let due = due_groups(state, p, id, ctx.now.date()).await?;
    Ok(page::layout(
        ctx,
        &title,
        dose_form(ctx, state.codes(), id, lots, &due, f, error),
    ))
}

/// The dose described by the form, and the lot to draw it from (administered doses).
fn build_dose(
    f: &DoseForm,
    ctx: &Ctx,
    codes: &CodeSets,
    lots: &[LotStock],
) -> Result<(Dose, Option<i64>), AppError> {
    let date = parse_date("Date", &f.date)?;
    // The list's choice, else the search field's ("107 – DTaP, unspecified formulation").
    let cvx_of = |s: &str| -> Result<Cvx, AppError> {
        let searched: String = f
            .cvx_other
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let code = match (opt(s), f.cvx_other.trim()) {
            (Some(c), _) => c.to_string(),
            (None, "") => return Err(AppError::BadRequest("Choose a vaccine.".into())),
            (None, typed) if searched.is_empty() => {
                return Err(AppError::BadRequest(format!(
                    "{typed:?} is not a vaccine from the list: pick one of the search's suggestions or type its CVX code."
                )))
            }
            (None, _) => searched,
        };
        let c = Cvx::new(&code)?;
        codes.require_vaccine(&c)?;
        Ok(c)
    };
    let lot_number = opt(&f.lot_number).map(LotNumber::new).transpose()?;
    match f.kind.as_str() {
        "administered" => {
            let clinic = ctx.clinic().ok_or_else(|| {
                AppError::BadRequest(
                    "Choose the clinic you are working for before recording an administered dose."
                        .into(),
                )
            })?;
            let (mut d, lot_id) = match opt(&f.lot_id) {
                Some(lid) => {
                    let lid: i64 = lid
                        .parse()
                        .map_err(|_| AppError::BadRequest(format!("Unknown lot {lid:?}.")))?;
                    // Only this clinic's lots may be drawn from.
                    let stock = lots.iter().find(|l| l.lot.id == Some(lid)).ok_or_else(|| {
                        AppError::BadRequest(format!(
                            "Lot {lid} is not in this clinic's inventory."
                        ))
                    })?;
                    (
                        ctwiz_core::dose_stock::dose_from_lot(&stock.lot, date),
                        Some(lid),
                    )
                }
                None => {
                    let mut d = Dose::new(cvx_of(&f.cvx)?, date, InformationSource::NewRecord);
                    d.lot = lot_number;
                    (d, None)
                }
            };
            d.clinic = Some(clinic.pin.clone());
            d.route = opt(&f.route).map(Route::from_code).transpose()?;
            d.site = opt(&f.site).map(Site::from_code).transpose()?;
            d.eligibility = opt(&f.eligibility)
                .map(VfcEligibility::from_code)
                .transpose()?;
            d.administered_by = opt(&f.administered_by).map(ctwiz_core::dose::Provider::from_text);
            if f.vis_given.is_some() {
                d.vis.push(VisGiven {
                    document: vaccine_name(codes, &d.cvx),
                    published: None,
                    presented: date,
                });
            }
            Ok((d, lot_id))
        }
        "historical" => {
            let source = InformationSource::from_code(opt(&f.source).unwrap_or("01"))?;
            if source.is_administered() {
                return Err(AppError::BadRequest(
                    "A historical dose needs a historical source.".into(),
                ));
            }
            let mut d = Dose::new(cvx_of(&f.cvx)?, date, source);
            d.lot = lot_number;
            d.clinic = ctx.clinic().map(|c| c.pin.clone());
            Ok((d, None))
        }
        "refusal" => {
            let reason = RefusalReason::from_code(opt(&f.refusal).unwrap_or("00"))?;
            let mut d = Dose::refusal(cvx_of(&f.cvx)?, date, reason);
            d.clinic = ctx.clinic().map(|c| c.pin.clone());
            Ok((d, None))
        }
        other => Err(AppError::BadRequest(format!(
            "Unknown kind of entry {other:?}."
        ))),
    }
}

/// A refusal the user can fix (shown beside the form), or the error itself (403, 404...).
fn form_refusal(e: usecase::UseCaseError) -> Result<String, AppError> {
    match AppError::from(e) {
        AppError::BadRequest(m) | AppError::Store(ctwiz_store::StoreError::Conflict(m)) => Ok(m),
        other => Err(other),
    }
}

pub async fn add_dose(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<DoseForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let lots = clinic_lots(&state, &ctx).await?;
    let codes = state.codes().clone();
    let ctx2 = ctx.clone();
    let f2 = f.clone();
    let lots2 = lots.clone();
    let outcome = state
        .db(move |s| {
            let actor = ctx2.as_actor();
            // Refused before the form is read: a refused user gets 403 whatever they sent.
            usecase::patients::authorize(
                s,
                &actor,
                PatientId(id),
                Action::DoseRecord,
                ctx2.now,
                "dose entry",
            )?;
            let (dose, lot_id) = match build_dose(&f2, &ctx2, &codes, &lots2) {
                Ok(x) => x,
                Err(AppError::BadRequest(m)) => return Ok(Err(m)),
                Err(e) => return Err(e),
            };
            // Permission, validation, the repeat check, the stock movement and the audit
            // row: one use case, one transaction.
            match usecase::doses::record(
                s,
                &actor,
                PatientId(id),
                &dose,
                lot_id,
                &f2.kind,
                ctx2.now,
            ) {
                Ok(_) => Ok(Ok(())),
                Err(e) => Ok(Err(form_refusal(e)?)),
            }
        })
        .await?;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}")).into_response()),
        Err(msg) => {
            // Already authorized for this record above; re-reading it is no new disclosure.
            let p = state
                .db(move |s| {
                    ctwiz_store::PatientStore::patient(s, PatientId(id))?
                        .ok_or_else(|| AppError::NotFound(format!("patient {id}")))
                })
                .await?;
            let page = dose_page(&state, &ctx, p, PatientId(id), &lots, &f, Some(&msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

fn find_dose(s: &SqliteStore, pid: PatientId, did: i64) -> Result<Dose, AppError> {
    s.doses(pid)?
        .into_iter()
        .find(|d| d.id == Some(DoseId(did)))
        .ok_or_else(|| AppError::NotFound(format!("Dose {did}")))
}

fn edit_dose_form(ctx: &Ctx, codes: &CodeSets, pid: i64, d: &Dose, error: Option<&str>) -> Markup {
    html! {
        (form_error(error))
        section.card {
            h2 { (vaccine_name(codes, &d.cvx)) " on " (d.date) }
            form.stack method="post" action={ "/patients/" (pid) "/doses/" (d.id.map(|x| x.0).unwrap_or_default()) "/edit" } {
                (csrf_field(ctx))
                div.grid {
                    (date_field("date", "Date given", &d.date.to_string(), true))
                    (text_field("lot_number", "Lot number", &d.lot.as_ref().map(|l| l.to_string()).unwrap_or_default(), false))
                    (text_field("reason", "Reason for the correction", "", true))
                }
                div.actions { button type="submit" { "Save correction" } }
            }
        }
        section.card {
            h2 { "Delete this dose" }
            form.stack method="post" action={ "/patients/" (pid) "/doses/" (d.id.map(|x| x.0).unwrap_or_default()) "/delete" } {
                (csrf_field(ctx))
                (text_field("reason", "Reason for deleting", "", true))
                @if ctwiz_core::dose_stock::draws_from_stock(d) {
                    (select_field("vaccine", "What became of the vaccine", [
                        ("back-to-stock", "Not drawn up: back to the lot's stock".to_string()),
                        ("drawn-up-and-lost", "Drawn up and lost: record it as wastage".to_string()),
                    ], "back-to-stock"))
                }
                div.actions { button.danger type="submit" { "Delete dose" } a href={ "/patients/" (pid) } { "Cancel" } }
            }
        }
    }
}

pub async fn edit_dose_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(i64, i64)>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    // Only whoever may change the dose opens the page; the view is audited.
    let d = state
        .db(move |s| {
            let (_, d) =
                usecase::doses::open_for_change(s, &actor, PatientId(id), DoseId(did), now)?;
            Ok(d)
        })
        .await?;
    Ok(page::layout(
        &ctx,
        "Correct or delete a dose",
        edit_dose_form(&ctx, state.codes(), id, &d, None),
    ))
}

#[derive(Deserialize)]
pub struct EditDoseForm {
    csrf: String,
    date: String,
    #[serde(default)]
    lot_number: String,
    reason: String,
}

pub async fn update_dose(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(i64, i64)>,
    Form(f): Form<EditDoseForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let outcome = state
        .db(move |s| {
            let pid = PatientId(id);
            let corrected = parse_date("Date given", &f.date).and_then(|date| {
                let lot = opt(&f.lot_number).map(LotNumber::new).transpose()?;
                let c = usecase::doses::Correction {
                    date,
                    lot,
                    cvx: None,
                    reason: f.reason.clone(),
                };
                Ok(
                    usecase::doses::correct(s, &actor, pid, DoseId(did), &c, now)
                        .map_err(form_refusal),
                )
            });
            let refusal = match corrected {
                Ok(Ok(_)) => return Ok(Ok(())),
                Ok(Err(e)) => e?,
                Err(AppError::BadRequest(m)) => m,
                Err(e) => return Err(e),
            };
            Ok(Err((find_dose(s, pid, did)?, refusal)))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{id}")).into_response()),
        Err((d, m)) => Ok((
            StatusCode::BAD_REQUEST,
            page::layout(
                &ctx,
                "Correct or delete a dose",
                edit_dose_form(&ctx, state.codes(), id, &d, Some(&m)),
            ),
        )
            .into_response()),
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: String,
    reason: String,
    /// `DeletedVaccine` key; back to stock when absent.
    #[serde(default)]
    vaccine: String,
}

pub async fn delete_dose(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(i64, i64)>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let reason = opt(&f.reason)
        .ok_or_else(|| AppError::BadRequest("Give the reason for deleting the dose.".into()))?
        .to_string();
    let vaccine = match opt(&f.vaccine) {
        Some(v) => ctwiz_core::dose_stock::DeletedVaccine::parse(v)?,
        None => Default::default(),
    };
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            usecase::doses::delete_as(
                s,
                &actor,
                PatientId(id),
                DoseId(did),
                &reason,
                vaccine,
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
}
