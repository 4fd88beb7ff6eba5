//! Patient Management: search, add/edit demographics, the Immunization Home (history by
//! vaccine group with the Recommender), dose entry, observations and the official record.
//! Every read and change of a record is written to the audit log.

use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::recommender;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use ctwiz_core::access::{Action, PatientScope};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{
    Dose, FundingSource, InformationSource, Observation, ObservationKind, RefusalReason, Route,
    Site, VfcEligibility, VisGiven,
};
use ctwiz_core::ids::{Cvx, DoseId, Email, LotNumber, PatientId, Phone, Zip};
use ctwiz_core::inventory::StockFunding;
use ctwiz_core::org::County;
use ctwiz_core::patient::{
    Address, Guardian, Mrn, Patient, PatientStatus, PersonName, Relationship, Sex,
};
use ctwiz_store::{
    usecase, AuditAction, DoseStore, InventoryStore, LotStock, PatientQuery, PatientStore,
    SqliteStore,
};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

const PAGE_SIZE: u32 = 25;

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "{field}: {s:?} is not a date (expected YYYY-MM-DD)"
        ))
    })
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------- search

#[derive(Deserialize, Default, Clone)]
pub struct SearchParams {
    #[serde(default)]
    family: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    dob: String,
    #[serde(default)]
    mrn: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    page: u32,
}

impl SearchParams {
    fn is_empty(&self) -> bool {
        [&self.family, &self.given, &self.dob, &self.mrn, &self.id]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    fn query_string(&self, page: u32) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "?family={}&given={}&dob={}&mrn={}&id={}&page={page}",
            enc(&self.family),
            enc(&self.given),
            enc(&self.dob),
            enc(&self.mrn),
            enc(&self.id)
        )
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchParams>,
) -> Result<Markup, AppError> {
    ctx.require(Action::PatientSearch)?;
    let mut error = None;
    let mut results = None;
    if !q.is_empty() {
        match build_query(&ctx, &q) {
            Ok(query) => {
                let ctx2 = ctx.clone();
                let summary = format!(
                    "search family={:?} given={:?} dob={:?} mrn={:?} id={:?}",
                    q.family, q.given, q.dob, q.mrn, q.id
                );
                results = Some(
                    state
                        .db(move |s| {
                            let page = s.search_patients(&query)?;
                            // Confidential records the user may not open are left out of the list.
                            let mut rows = Vec::with_capacity(page.rows.len());
                            for r in page.rows {
                                if r.confidential {
                                    let clinics = s.patient_clinics(r.id)?;
                                    let scope = PatientScope {
                                        county: r.county,
                                        clinics: &clinics,
                                        confidential: true,
                                    };
                                    if !ctx2.can_on(scope, Action::PatientView) {
                                        continue;
                                    }
                                }
                                rows.push(r);
                            }
                            ctx2.audit(s, None, AuditAction::Read, &summary)?;
                            Ok((rows, page.total))
                        })
                        .await?,
                );
            }
            Err(AppError::BadRequest(m)) => error = Some(m),
            Err(e) => return Err(e),
        }
    }
    Ok(page::layout(
        &ctx,
        "Patient search",
        html! {
            form.card method="get" action="/patients" {
                div.grid {
                    (text_field("family", "Last name (starts with, sounds like)", &q.family, false))
                    (text_field("given", "First name", &q.given, false))
                    (date_field("dob", "Date of birth", &q.dob, false))
                    (text_field("mrn", "Medical record number", &q.mrn, false))
                    (text_field("id", "ctwiz ID", &q.id, false))
                }
                div.actions {
                    button type="submit" { "Search" }
                    @if ctx.can(Action::PatientEdit) { a.button.secondary href="/patients/new" { "Add a patient" } }
                }
            }
            (form_error(error.as_deref()))
            @if let Some((rows, total)) = &results {
                p.muted { (total) " matching record(s)" }
                @if rows.is_empty() {
                    p { "No patient matches. Check the spelling or search by date of birth." }
                } @else {
                    table {
                        thead { tr { th { "Name" } th { "Date of birth" } th { "Sex" } th { "County" } th { "ID" } th { "Status" } } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td { a href={ "/patients/" (r.id) } { (r.name.display()) } }
                                    td { (r.dob) }
                                    td { (r.sex.code()) }
                                    td { (r.county.map(|c| c.name()).unwrap_or("")) }
                                    td { (r.id) }
                                    td {
                                        (status_label(r.status))
                                        @if r.opted_out { " · opted out" }
                                        @if r.confidential { " · confidential" }
                                    }
                                }
                            }
                        }
                    }
                    div.pager {
                        @if q.page > 0 { a href={ "/patients" (q.query_string(q.page - 1)) } { "← Previous" } }
                        span.muted { "Page " (q.page + 1) " of " (total.div_ceil(u64::from(PAGE_SIZE)).max(1)) }
                        @if u64::from((q.page + 1) * PAGE_SIZE) < *total { a href={ "/patients" (q.query_string(q.page + 1)) } { "Next →" } }
                    }
                }
            }
        },
    ))
}

fn build_query(ctx: &Ctx, q: &SearchParams) -> Result<PatientQuery, AppError> {
    let id = match opt(&q.id) {
        Some(s) => Some(PatientId(s.parse::<i64>().map_err(|_| {
            AppError::BadRequest(format!("ctwiz ID: {s:?} is not a number"))
        })?)),
        None => None,
    };
    let dob = opt(&q.dob)
        .map(|d| parse_date("Date of birth", d))
        .transpose()?;
    // Health-department users search only residents of their jurisdiction.
    let counties = match &ctx.acting {
        crate::session::Acting::Jurisdiction(c) => Some(vec![*c]),
        _ => None,
    };
    Ok(PatientQuery {
        family: opt(&q.family).map(str::to_string),
        given: opt(&q.given).map(str::to_string),
        dob,
        mrn: opt(&q.mrn).map(str::to_string),
        id,
        counties,
        phonetic: true,
        limit: PAGE_SIZE,
        offset: q.page.saturating_mul(PAGE_SIZE),
    })
}

fn status_label(s: PatientStatus) -> &'static str {
    match s {
        PatientStatus::Active => "Active",
        PatientStatus::Inactive => "Inactive",
        PatientStatus::MovedOrGoneElsewhere => "Moved or gone elsewhere",
        PatientStatus::LostToFollowUp => "Lost to follow-up",
        PatientStatus::OtherProvider => "Other provider",
        PatientStatus::Deceased => "Deceased",
    }
}

// ---------------------------------------------------------------- add / edit demographics

#[derive(Deserialize, Default, Clone)]
pub struct PatientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    given: String,
    #[serde(default)]
    middle: String,
    #[serde(default)]
    dob: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    mothers_maiden_name: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    zip: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    guardian_family: String,
    #[serde(default)]
    guardian_given: String,
    #[serde(default)]
    guardian_relationship: String,
    #[serde(default)]
    guardian_phone: String,
    #[serde(default)]
    mrn: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    confidential: Option<String>,
    #[serde(default)]
    confidential_reason: String,
    #[serde(default)]
    opt_out: Option<String>,
    #[serde(default)]
    opt_out_date: String,
    #[serde(default)]
    opt_out_reason: String,
}

impl PatientForm {
    fn from_patient(p: &Patient, ctx: &Ctx) -> PatientForm {
        let addr = p.addresses.first();
        let g = p.guardians.first();
        PatientForm {
            csrf: String::new(),
            family: p.name.family.clone(),
            given: p.name.given.clone(),
            middle: p.name.middle.clone().unwrap_or_default(),
            dob: p.dob.to_string(),
            sex: p.sex.code().into(),
            mothers_maiden_name: p.mothers_maiden_name.clone().unwrap_or_default(),
            street: addr.map(|a| a.street.clone()).unwrap_or_default(),
            city: addr.map(|a| a.city.clone()).unwrap_or_default(),
            state: addr.map(|a| a.state.clone()).unwrap_or_else(|| "CT".into()),
            zip: addr.map(|a| a.zip.to_string()).unwrap_or_default(),
            county: p.county().map(|c| c.name().to_string()).unwrap_or_default(),
            phone: p.phones.first().map(|x| x.to_string()).unwrap_or_default(),
            email: p.emails.first().map(|x| x.to_string()).unwrap_or_default(),
            guardian_family: g.map(|g| g.name.family.clone()).unwrap_or_default(),
            guardian_given: g.map(|g| g.name.given.clone()).unwrap_or_default(),
            guardian_relationship: g
                .map(|g| g.relationship.code().to_string())
                .unwrap_or_default(),
            guardian_phone: g
                .and_then(|g| g.phone.as_ref())
                .map(|x| x.to_string())
                .unwrap_or_default(),
            mrn: ctx
                .clinic()
                .and_then(|c| p.mrn_at(&c.pin))
                .unwrap_or_default()
                .to_string(),
            status: p.status.code().into(),
            confidential: p.confidential.then(|| "on".into()),
            confidential_reason: String::new(),
            opt_out: p.opt_out.as_ref().map(|_| "on".into()),
            opt_out_date: p
                .opt_out
                .as_ref()
                .map(|o| o.date.to_string())
                .unwrap_or_default(),
            opt_out_reason: p
                .opt_out
                .as_ref()
                .map(|o| o.reason.clone())
                .unwrap_or_default(),
        }
    }

    /// Applies the form onto `base` (existing record or a new one); nothing is stored here.
    fn apply(&self, base: Option<Patient>, ctx: &Ctx) -> Result<Patient, AppError> {
        let mut name = PersonName::new(&self.family, &self.given)?;
        if let Some(m) = opt(&self.middle) {
            name = name.with_middle(m)?;
        }
        let dob = parse_date("Date of birth", &self.dob)?;
        let sex = Sex::from_code(&self.sex)?;
        let mut p = match base {
            Some(mut p) => {
                p.name = name;
                p.dob = dob;
                p.sex = sex;
                p
            }
            None => Patient::new(name, dob, sex)?,
        };
        p.mothers_maiden_name = opt(&self.mothers_maiden_name).map(str::to_string);
        p.status = PatientStatus::from_code(opt(&self.status).unwrap_or("A"))?;
        if p.status != PatientStatus::Deceased {
            p.deceased_date = None;
        }
        p.addresses.clear();
        if let Some(street) = opt(&self.street) {
            let mut a = Address::new(
                street,
                &self.city,
                opt(&self.state).unwrap_or("CT"),
                Zip::new(&self.zip)?,
            )?;
            a.county = opt(&self.county).map(County::parse).transpose()?;
            p.addresses.push(a);
        } else if opt(&self.county).is_some() {
            return Err(AppError::BadRequest(
                "A county needs a street address.".into(),
            ));
        }
        p.phones = opt(&self.phone)
            .map(Phone::new)
            .transpose()?
            .into_iter()
            .collect();
        p.emails = opt(&self.email)
            .map(Email::new)
            .transpose()?
            .into_iter()
            .collect();
        p.guardians.clear();
        if let Some(gf) = opt(&self.guardian_family) {
            p.guardians.push(Guardian {
                name: PersonName::new(gf, &self.guardian_given)?,
                relationship: Relationship::from_code(&self.guardian_relationship),
                phone: opt(&self.guardian_phone).map(Phone::new).transpose()?,
                email: None,
            });
        }
        if let Some(c) = ctx.clinic() {
            p.mrns.retain(|m| m.clinic != c.pin);
            if let Some(mrn) = opt(&self.mrn) {
                p.mrns.push(Mrn::new(c.pin.clone(), mrn)?);
            }
        }
        let was_confidential = p.confidential;
        p.confidential = self.confidential.is_some();
        if p.confidential != was_confidential && opt(&self.confidential_reason).is_none() {
            return Err(AppError::BadRequest(
                "Give a reason for changing the confidentiality of the record.".into(),
            ));
        }
        if self.opt_out.is_some() {
            let date = parse_date("Opt-out date", &self.opt_out_date)?;
            if opt(&self.opt_out_reason).is_none() {
                return Err(AppError::BadRequest(
                    "Give the reason for the opt-out.".into(),
                ));
            }
            // Opting out removes contact details (core rule in Patient::opt_out).
            p.opt_out(date, &self.opt_out_reason)?;
        } else {
            p.opt_out = None;
        }
        p.validate(ctx.now.date())?;
        Ok(p)
    }
}

fn patient_form(
    ctx: &Ctx,
    action: &str,
    title: &str,
    f: &PatientForm,
    error: Option<&str>,
) -> Markup {
    let sexes = [
        ("F", "Female".to_string()),
        ("M", "Male".into()),
        ("U", "Unknown".into()),
    ];
    let counties = std::iter::once(("", "—".to_string()))
        .chain(County::ALL.iter().map(|c| (c.name(), c.name().to_string())));
    let rels = [
        ("MTH", "Mother"),
        ("FTH", "Father"),
        ("GRD", "Guardian"),
        ("GRP", "Grandparent"),
        ("PAR", "Parent"),
        ("FCH", "Foster parent"),
        ("OTH", "Other"),
    ]
    .map(|(c, l)| (c, l.to_string()));
    let statuses = PatientStatus::ALL.map(|s| (s.code(), status_label(s).to_string()));
    page::layout(
        ctx,
        title,
        html! {
            (form_error(error))
            form.stack method="post" action=(action) {
                (csrf_field(ctx))
                section.card {
                    h2 { "Patient" }
                    div.grid {
                        (text_field("family", "Last name", &f.family, true))
                        (text_field("given", "First name", &f.given, true))
                        (text_field("middle", "Middle name", &f.middle, false))
                        (date_field("dob", "Date of birth", &f.dob, true))
                        (select_field("sex", "Sex", sexes, &f.sex))
                        (text_field("mothers_maiden_name", "Mother's maiden name", &f.mothers_maiden_name, false))
                        (select_field("status", "Status at this clinic", statuses, opt(&f.status).unwrap_or("A")))
                        @if ctx.clinic().is_some() { (text_field("mrn", "MRN at this clinic", &f.mrn, false)) }
                    }
                }
                section.card {
                    h2 { "Address and contact" }
                    div.grid {
                        (text_field("street", "Street", &f.street, false))
                        (text_field("city", "City", &f.city, false))
                        (text_field("state", "State", if f.state.is_empty() { "CT" } else { &f.state }, false))
                        (text_field("zip", "ZIP", &f.zip, false))
                        (select_field("county", "County", counties, &f.county))
                        (text_field("phone", "Phone", &f.phone, false))
                        (text_field("email", "E-mail", &f.email, false))
                    }
                }
                section.card {
                    h2 { "Parent or guardian" }
                    div.grid {
                        (text_field("guardian_family", "Last name", &f.guardian_family, false))
                        (text_field("guardian_given", "First name", &f.guardian_given, false))
                        (select_field("guardian_relationship", "Relationship", rels, &f.guardian_relationship))
                        (text_field("guardian_phone", "Phone", &f.guardian_phone, false))
                    }
                }
                section.card {
                    h2 { "Privacy" }
                    div.grid {
                        label.check { input type="checkbox" name="confidential" checked[f.confidential.is_some()]; "Confidential record (only reporting clinics see it)" }
                        (text_field("confidential_reason", "Reason for a confidentiality change", &f.confidential_reason, false))
                        label.check { input type="checkbox" name="opt_out" checked[f.opt_out.is_some()]; "Opted out of the registry" }
                        (date_field("opt_out_date", "Opt-out date", &f.opt_out_date, false))
                        (text_field("opt_out_reason", "Opt-out reason", &f.opt_out_reason, false))
                    }
                }
                div.actions { button type="submit" { "Save patient" } a href="/patients" { "Cancel" } }
            }
        },
    )
}

pub async fn new_patient_page(ctx: Ctx) -> Result<Markup, AppError> {
    ctx.require(Action::PatientEdit)?;
    let f = PatientForm {
        state: "CT".into(),
        sex: "U".into(),
        status: "A".into(),
        ..Default::default()
    };
    Ok(patient_form(
        &ctx,
        "/patients/new",
        "Add a patient",
        &f,
        None,
    ))
}

pub async fn create_patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PatientForm>,
) -> Result<Response, AppError> {
    ctx.require(Action::PatientEdit)?;
    ctx.check_csrf(&f.csrf)?;
    let p = match f.apply(None, &ctx) {
        Ok(p) => p,
        Err(AppError::BadRequest(m)) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                patient_form(&ctx, "/patients/new", "Add a patient", &f, Some(&m)),
            )
                .into_response())
        }
        Err(e) => return Err(e),
    };
    let ctx2 = ctx.clone();
    let id = state
        .db(move |s| {
            s.in_transaction(|s| {
                let id = s.create_patient(&p)?;
                ctx2.audit(s, Some(id), AuditAction::Create, "patient added")
                    .map_err(into_store)?;
                Ok(id)
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
}

/// Audit writes inside a store transaction must fail the transaction.
fn into_store(e: AppError) -> ctwiz_store::StoreError {
    match e {
        AppError::Store(s) => s,
        other => ctwiz_store::StoreError::Conflict(other.to_string()),
    }
}

pub async fn edit_patient_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let (actor, now) = (ctx.as_actor(), ctx.now);
    // Opening the form shows the demographics: audited as a read.
    let p = state
        .db(move |s| {
            let purpose = "demographics edit page viewed";
            let (_, p) = usecase::patients::open(
                s,
                &actor,
                PatientId(id),
                Action::PatientEdit,
                now,
                purpose,
            )?;
            Ok(p)
        })
        .await?;
    let f = PatientForm::from_patient(&p, &ctx);
    Ok(patient_form(
        &ctx,
        &format!("/patients/{id}/edit"),
        "Edit patient",
        &f,
        None,
    ))
}

pub async fn update_patient(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<PatientForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let ctx2 = ctx.clone();
    let f2 = f.clone();
    let outcome = state
        .db(move |s| {
            let before = ctx2.patient_for(s, PatientId(id), Action::PatientEdit)?;
            let after = match f2.apply(Some(before.clone()), &ctx2) {
                Ok(p) => p,
                Err(AppError::BadRequest(m)) => return Ok(Some(m)),
                Err(e) => return Err(e),
            };
            let mut detail = String::from("demographics updated");
            if before.confidential != after.confidential {
                detail.push_str(&format!(
                    "; confidential={} on {} because {}",
                    after.confidential,
                    ctx2.now.date(),
                    f2.confidential_reason.trim()
                ));
            }
            if before.opt_out != after.opt_out {
                detail.push_str(&match &after.opt_out {
                    Some(o) => format!("; opted out on {} because {}", o.date, o.reason),
                    None => "; opt-out withdrawn".into(),
                });
            }
            s.in_transaction(|s| {
                s.update_patient(&after)?;
                ctx2.audit(s, Some(PatientId(id)), AuditAction::Update, &detail)
                    .map_err(into_store)
            })?;
            Ok(None)
        })
        .await?;
    match outcome {
        None => Ok(Redirect::to(&format!("/patients/{id}")).into_response()),
        Some(m) => Ok((
            StatusCode::BAD_REQUEST,
            patient_form(
                &ctx,
                &format!("/patients/{id}/edit"),
                "Edit patient",
                &f,
                Some(&m),
            ),
        )
            .into_response()),
    }
}

// ---------------------------------------------------------------- Immunization Home

/// Everything the patient page shows, loaded in one blocking call.
struct Home {
    patient: Patient,
    doses: Vec<Dose>,
    observations: Vec<Observation>,
    can_edit: bool,
    can_record: bool,
    can_print: bool,
    /// State users see a link to the record's disclosures (the audit log).
    can_audit: bool,
}

/// The home page's data, or the record a merged id now lives in.
fn load_home(
    s: &SqliteStore,
    ctx: &Ctx,
    id: PatientId,
) -> Result<Result<Home, PatientId>, AppError> {
    let patient = match ctx.open_record(s, id, Action::PatientView, "immunization home viewed") {
        Ok(p) => p,
        Err(ctwiz_store::usecase::UseCaseError::Merged { into, .. }) => return Ok(Err(into)),
        Err(e) => return Err(e.into()),
    };
    let clinics = s.patient_clinics(id)?;
    let scope = PatientScope {
        county: patient.county(),
        clinics: &clinics,
        confidential: patient.confidential,
    };
    let can_edit = ctx.can_on(scope, Action::PatientEdit);
    let can_record = ctx.can_on(scope, Action::DoseRecord);
    let can_print = ctx.can_on(scope, Action::CertificatePrint);
    let doses = s.doses(id)?;
    let observations = s.observations(id)?;
    Ok(Ok(Home {
        can_audit: ctx.can(Action::AuditView),
        patient,
        doses,
        observations,
        can_edit,
        can_record,
        can_print,
    }))
}

/// Doses given (not refusals) grouped by CDSi vaccine group; a combination vaccine appears
/// in each of its groups.
pub fn group_doses<'a>(
    codes: &CodeSets,
    doses: &'a [Dose],
) -> BTreeMap<String, Vec<(usize, &'a Dose)>> {
    let mut groups: BTreeMap<String, Vec<(usize, &Dose)>> = BTreeMap::new();
    for (i, d) in doses.iter().enumerate().filter(|(_, d)| d.was_given()) {
        let names = codes
            .vaccine(&d.cvx)
            .map(|v| v.vaccine_groups.clone())
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| vec!["Other".to_string()]);
        for g in names {
            groups.entry(g).or_default().push((i, d));
        }
    }
    groups
}

pub fn vaccine_name(codes: &CodeSets, cvx: &Cvx) -> String {
    codes
        .vaccine(cvx)
        .map(|v| v.short_name.clone())
        .unwrap_or_else(|| format!("CVX {cvx}"))
}

fn demographics(p: &Patient, id: PatientId) -> Markup {
    html! {
        dl.facts {
            dt { "ctwiz ID" } dd { (id) }
            dt { "Date of birth" } dd { (p.dob) }
            dt { "Sex" } dd { (p.sex.code()) }
            dt { "Status" } dd { (status_label(p.status)) }
            @if let Some(a) = p.addresses.first() {
                dt { "Address" } dd { (a.street) ", " (a.city) ", " (a.state) " " (a.zip)
                    @if let Some(c) = a.county { " (" (c) " County)" } }
            }
            @for g in &p.guardians {
                dt { "Guardian" } dd { (g.name.given) " " (g.name.family) " (" (g.relationship.code()) ")"
                    @if let Some(ph) = &g.phone { " · " (ph.formatted()) } }
            }
            @for m in &p.mrns { dt { "MRN " (m.clinic) } dd { (m.value) } }
            @if p.confidential { dt { "Privacy" } dd.warn { "Confidential record" } }
            @if let Some(o) = &p.opt_out { dt { "Opted out" } dd.warn { (o.date) " – " (o.reason) } }
        }
    }
}

pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let ctx2 = ctx.clone();
    let h = match state
        .db(move |s| load_home(s, &ctx2, PatientId(id)))
        .await?
    {
        Ok(h) => h,
        Err(into) => {
            return Ok(page::layout(
                &ctx,
                "Merged record",
                html! { p.notice { "Patient " (id) " was merged into " a href={ "/patients/" (into) } { "patient " (into) } "." } },
            ))
        }
    };
    let today = ctx.now.date();
    let rec = recommender::evaluate(state.engine(), &h.patient, &h.doses, &h.observations, today);
    let codes = state.codes();
    let groups = group_doses(codes, &h.doses);
    let refusals: Vec<&Dose> = h.doses.iter().filter(|d| !d.was_given()).collect();
    let pid = PatientId(id);
    Ok(page::layout(
        &ctx,
        &h.patient.name.display(),
        html! {
            div.actions.no-print {
                @if h.can_edit { a.button.secondary href={ "/patients/" (id) "/edit" } { "Edit demographics" } }
                @if h.can_record { a.button href={ "/patients/" (id) "/doses/new" } { "Add immunization" } }
                @if h.can_print { a.button.secondary href={ "/patients/" (id) "/record" } { "Official record" } }
                @if h.can_audit { a.button.secondary href={ "/patients/" (id) "/disclosures" } { "Disclosures" } }
            }
            section.card {
                h2 { "Recommender" }
                (recommender::panel(rec.as_ref(), today))
            }
            div.cols {
                div {
                    section.card {
                        h2 { "Immunization history" }
                        @if groups.is_empty() { p.muted { "No immunizations recorded." } }
                        @else {
                            table {
                                thead { tr { th { "Date" } th { "Vaccine" } th { "Source" } th { "Lot" } th { "Evaluation" } @if h.can_record { th.no-print { "" } } } }
                                tbody {
                                    @for (group, rows) in &groups {
                                        tr.group { th colspan="6" { (group) } }
                                        @for (i, d) in rows {
                                            @let eval = rec.as_ref().and_then(|r| r.dose_status(group, *i));
                                            tr {
                                                td { (d.date) }
                                                td { (vaccine_name(codes, &d.cvx)) span.muted { " CVX " (d.cvx) } }
                                                td { @if d.is_historical() { "Historical" } @else { "Administered" }
                                                     @if let Some(c) = &d.clinic { span.muted { " · " (c) } } }
                                                td { (d.lot.as_ref().map(|l| l.to_string()).unwrap_or_default()) }
                                                td {
                                                    @match &eval {
                                                        Some((true, _)) => span.ok { "Valid" },
                                                        Some((false, why)) => { span.bad { "Not valid" } span.muted { " – " (why) } },
                                                        None => span.muted { "—" },
                                                    }
                                                }
                                                @if h.can_record { td.no-print { @if let Some(did) = d.id { a href={ "/patients/" (id) "/doses/" (did) "/edit" } { "Edit" } } } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !refusals.is_empty() {
                        section.card {
                            h2 { "Refusals and not administered" }
                            ul { @for d in &refusals { li { (d.date) " – " (vaccine_name(codes, &d.cvx)) ": "
                                (d.refusal.map(|r| r.label()).unwrap_or(d.completion.label())) } } }
                        }
                    }
                    section.card {
                        h2 { "Immunity, contraindications and conditions" }
                        @if h.observations.is_empty() { p.muted { "None recorded." } }
                        ul { @for o in &h.observations { li { (o.date) " – " (format!("{:?}", o.kind)) ": " (o.text) span.muted { " (code " (o.code) ")" } } } }
                        @if h.can_record { (observation_form(&ctx, state.engine(), pid)) }
                    }
                }
                div {
                    section.card {
                        h2 { "Patient" }
                        (demographics(&h.patient, pid))
                    }
                }
            }
        },
    ))
}

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

fn observation_form(ctx: &Ctx, engine: &ctwiz_forecast::Engine, id: PatientId) -> Markup {
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
    state
        .db(move |s| {
            let p = ctx.patient_for(s, PatientId(id), Action::DoseRecord)?;
            if date < p.dob || date > ctx.now.date() {
                return Err(AppError::BadRequest(format!(
                    "Observation date {date} must fall between the birth date and today."
                )));
            }
            s.in_transaction(|s| {
                s.add_observation(PatientId(id), &o)?;
                ctx.audit(
                    s,
                    Some(PatientId(id)),
                    AuditAction::Create,
                    &format!("observation {:?} {}", o.kind, o.code),
                )
                .map_err(into_store)
            })?;
            Ok(())
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
}

fn usable_lots(lots: &[LotStock], on: NaiveDate) -> Vec<&LotStock> {
    lots.iter()
        .filter(|l| l.on_hand > 0 && !l.lot.is_expired(on))
        .collect()
}

fn dose_form(
    ctx: &Ctx,
    codes: &CodeSets,
    id: PatientId,
    lots: &[LotStock],
    f: &DoseForm,
    error: Option<&str>,
) -> Markup {
    let today = ctx.now.date();
    let lots = usable_lots(lots, today);
    let mut vaccines: Vec<(String, String)> = codes
        .vaccines()
        .filter(|v| !v.vaccine_groups.is_empty())
        .map(|v| {
            (
                v.cvx.to_string(),
                format!("{} (CVX {})", v.short_name, v.cvx),
            )
        })
        .collect();
    vaccines.sort_by_key(|v| v.1.to_lowercase());
    let cvx_options = || {
        std::iter::once(("", "— choose a vaccine —".to_string()))
            .chain(vaccines.iter().map(|(c, l)| (c.as_str(), l.clone())))
    };
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
                        (select_field("cvx", "Vaccine", cvx_options(), &f.cvx))
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
                    (select_field("cvx", "Vaccine", cvx_options(), ""))
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
                    (select_field("cvx", "Vaccine refused", cvx_options(), ""))
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
    Ok(page::layout(
        &ctx,
        &format!("Add immunization – {}", p.name.display()),
        dose_form(
            &ctx,
            state.codes(),
            PatientId(id),
            &lots,
            &DoseForm::default(),
            None,
        ),
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
    let cvx_of = |s: &str| -> Result<Cvx, AppError> {
        let c = Cvx::new(opt(s).ok_or_else(|| AppError::BadRequest("Choose a vaccine.".into()))?)?;
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
                    let mut d =
                        Dose::new(stock.lot.cvx.clone(), date, InformationSource::NewRecord);
                    d.mvx = stock.lot.mvx.clone();
                    d.ndc = stock.lot.ndc.clone();
                    d.lot = Some(stock.lot.lot_number.clone());
                    d.lot_expiration = Some(stock.lot.expiration);
                    d.funding = Some(match stock.lot.funding {
                        StockFunding::Public => FundingSource::Public,
                        StockFunding::Private => FundingSource::Private,
                    });
                    (d, Some(lid))
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
            d.administered_by = opt(&f.administered_by).map(str::to_string);
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
        Err(msg) => Ok((
            StatusCode::BAD_REQUEST,
            page::layout(
                &ctx,
                "Add immunization",
                dose_form(&ctx, state.codes(), PatientId(id), &lots, &f, Some(&msg)),
            ),
        )
            .into_response()),
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
    let (actor, now) = (ctx.as_actor(), ctx.now);
    state
        .db(move |s| {
            usecase::doses::delete(s, &actor, PatientId(id), DoseId(did), &reason, now)?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
}

// ---------------------------------------------------------------- official record

/// Loads what the official record shows and audits the print.
async fn record_data(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    what: &'static str,
) -> Result<crate::certificate::RecordData, AppError> {
    let ctx2 = ctx.clone();
    let (p, doses) = state
        .db(move |s| {
            let pid = PatientId(id);
            let p = ctx2.patient_for_purpose(s, pid, Action::CertificatePrint, what)?;
            let doses = s.doses(pid)?;
            Ok((p, doses))
        })
        .await?;
    let codes = state.codes();
    let rows = group_doses(codes, &doses)
        .into_iter()
        .flat_map(|(group, rows)| {
            rows.into_iter()
                .map(|(_, d)| (group.clone(), vaccine_name(codes, &d.cvx), d.date))
                .collect::<Vec<_>>()
        })
        .collect();
    let issuer = match ctx.clinic() {
        Some(c) => format!("{} (PIN {})", c.name, c.pin),
        None => crate::page::acting_label(ctx),
    };
    Ok(crate::certificate::RecordData {
        name: p.name.display(),
        dob: p.dob,
        sex: p.sex.code(),
        id: PatientId(id),
        rows,
        issuer,
        issued: ctx.now.date(),
    })
}

pub async fn official_record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Markup, AppError> {
    let r = record_data(&state, &ctx, id, "official immunization record printed").await?;
    Ok(page::layout(
        &ctx,
        "Official immunization record",
        html! {
            div.no-print.notice {
                "Use your browser's Print command (Ctrl+P / ⌘P) to print this record, or "
                a href={ "/patients/" (id) "/record.pdf" } { "download it as PDF" } "."
            }
            (crate::certificate::html(&r))
        },
    ))
}

pub async fn official_record_pdf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = record_data(&state, &ctx, id, "official immunization record PDF").await?;
    let pdf = crate::certificate::pdf(&r)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"immunization-record-{id}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combination_doses_appear_in_each_group_and_refusals_in_none() {
        let codes = CodeSets::embedded();
        let d = |cvx: &str| {
            Dose::new(
                Cvx::new(cvx).unwrap(),
                NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                InformationSource::HistoricalUnspecified,
            )
        };
        let doses = vec![
            d("94"),
            Dose::refusal(
                Cvx::new("03").unwrap(),
                NaiveDate::from_ymd_opt(2024, 2, 1).unwrap(),
                RefusalReason::ParentalDecision,
            ),
        ];
        let g = group_doses(&codes, &doses);
        assert!(
            g.contains_key("MMR") && g.contains_key("Varicella"),
            "{:?}",
            g.keys()
        );
        assert_eq!(g.values().map(Vec::len).sum::<usize>(), 2);
    }
}
