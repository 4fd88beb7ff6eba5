//! Adding and editing a patient's demographics (the new and edit patient forms and their handlers).

use super::{opt, parse_date, status_label};
use crate::error::AppError;
use crate::page::{self, csrf_field, date_field, form_error, select_field, text_field};
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::Action;
use ctwiz_core::ids::{Email, PatientId, Phone, Zip};
use ctwiz_core::org::County;
use ctwiz_core::patient::{
    Address, Guardian, Mrn, Patient, PatientStatus, PersonName, Relationship, Sex,
};
use ctwiz_store::usecase;
use ctwiz_store::usecase::possible_matches::Added;
use maud::{html, Markup};
use serde::Deserialize;

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
    /// Set by the possible-duplicates warning: the person confirmed a new record.
    #[serde(default)]
    confirm_new: Option<String>,
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
            confirm_new: None,
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
        // The form edits the first guardian; an address an interface reported (NK1-4) stays.
        let kept_address = p.guardians.first().and_then(|g| g.address.clone());
        p.guardians.clear();
        if let Some(gf) = opt(&self.guardian_family) {
            p.guardians.push(Guardian {
                name: PersonName::new(gf, &self.guardian_given)?,
                relationship: Relationship::from_code(&self.guardian_relationship),
                phone: opt(&self.guardian_phone).map(Phone::new).transpose()?,
                email: None,
                address: kept_address,
            });
        }
        if let Some(c) = ctx.clinic() {
            // The same MRN keeps the assigning authority its EHR sends (PID-3.4).
            let before = p.mrns.iter().find(|m| m.clinic == c.pin).cloned();
            p.mrns.retain(|m| m.clinic != c.pin);
            if let Some(mrn) = opt(&self.mrn) {
                let mut m = Mrn::new(c.pin.clone(), mrn)?;
                m.authority = before
                    .filter(|b| b.value == m.value)
                    .and_then(|b| b.authority);
                p.mrns.push(m);
            }
        }
        p.confidential = self.confidential.is_some();
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
    patient_form_with(ctx, action, title, f, error, html! {})
}

/// The form with `notice` at the top inside it (e.g. the possible-duplicates warning).
fn patient_form_with(
    ctx: &Ctx,
    action: &str,
    title: &str,
    f: &PatientForm,
    error: Option<&str>,
    notice: Markup,
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
                (notice)
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

pub async fn new_patient_page(State(state): State<AppState>, ctx: Ctx) -> Result<Markup, AppError> {
    ctx.require(&state, Action::PatientEdit).await?;
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
    let (actor, now) = (ctx.as_actor(), ctx.now);
    let confirmed = f.confirm_new.is_some();
    let id = match state
        .db(move |s| {
            Ok(usecase::possible_matches::create_checked(
                s, &actor, &p, confirmed, now,
            ))
        })
        .await?
    {
        Ok(Added::Created(id)) => id,
        Ok(Added::PossibleDuplicates(found)) => {
            let notice = crate::dedup::possible_duplicates_notice(&found);
            return Ok((
                StatusCode::CONFLICT,
                patient_form_with(&ctx, "/patients/new", "Add a patient", &f, None, notice),
            )
                .into_response());
        }
        Err(usecase::UseCaseError::Invalid(e)) => {
            let m = e.to_string();
            return Ok((
                StatusCode::BAD_REQUEST,
                patient_form(&ctx, "/patients/new", "Add a patient", &f, Some(&m)),
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/patients/{id}")).into_response())
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
            let actor = ctx2.as_actor();
            let before = ctx2.patient_for_purpose(
                s,
                PatientId(id),
                Action::PatientEdit,
                "demographics edit submitted",
            )?;
            let after = match f2.apply(Some(before), &ctx2) {
                Ok(p) => p,
                Err(AppError::BadRequest(m)) => return Ok(Some(m)),
                Err(e) => return Err(e),
            };
            let reason = Some(f2.confidential_reason.as_str());
            match usecase::patients::update(s, &actor, &after, reason, ctx2.now) {
                Ok(()) => Ok(None),
                Err(usecase::UseCaseError::Invalid(e)) => Ok(Some(e.to_string())),
                Err(e) => Err(e.into()),
            }
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
