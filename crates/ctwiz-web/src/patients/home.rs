//! The Immunization Home: demographics, history by vaccine group and the Recommender's forecast.

use super::doses::observation_form;
use super::{group_doses, status_label, vaccine_name};
use crate::error::AppError;
use crate::page;
use crate::recommender;
use crate::session::Ctx;
use crate::state::AppState;
use axum::extract::{Path, State};
use ctwiz_core::access::Action;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;
use ctwiz_store::{DoseStore, SqliteStore};
use maud::{html, Markup};

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
    let [can_edit, can_record, can_print] = ctwiz_store::usecase::patients::allowed_on(
        s,
        &ctx.as_actor(),
        id,
        &patient,
        [
            Action::PatientEdit,
            Action::DoseRecord,
            Action::CertificatePrint,
        ],
    )?;
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
                html! {
                    p.notice { "Patient " (id) " was merged into " a href={ "/patients/" (into) } { "patient " (into) } "." }
                    @if ctx.can(Action::PatientMerge) {
                        form.card method="post" action={ "/patients/" (id) "/unmerge" } {
                            (page::csrf_field(&ctx))
                            p { "If the two records are different people, undo the merge: the doses, observations and MRNs that came from this record go back to it, and the pair is not flagged again." }
                            div.actions { button.secondary type="submit" { "Undo merge" } }
                        }
                    }
                },
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
                                                td { (recommender::dose_cell(eval.as_ref())) }
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
