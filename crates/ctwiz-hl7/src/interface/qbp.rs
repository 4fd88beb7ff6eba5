//! QBP^Q11 → RSP^K11 (CDC IG R1.5 Chapter 7): Z34 → Z32 (history), Z44 →
//! Z42 (evaluated history and forecast), Z31 (several candidates), Z33 (none,
//! too many, or a query in error).

use chrono::NaiveDate;
use ctwiz_core::access::Action;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::matching::{match_patients, Decision};
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::interface::InterfaceStatus;
use ctwiz_store::{AuditAction, Result as StoreResult};

use super::{
    authorize_sender, finish, internal_error, refused_clinic, resolve_facility, Context, IisStore,
    Outcome, Stats,
};
use crate::er7::MessageBuf;
use crate::message::ack::AckCode;
use crate::message::qbp::{Qbp, QueryProfile};
use crate::message::rsp::{
    build_query_error, build_z31, build_z32, build_z33, build_z42, DoseEvaluation, EvaluatedDose,
    Forecast, PatientRecord, QueryStatus,
};
use crate::message::{Hl7Error, Issue};
use crate::segment::err::ErrorLocation;
use crate::segment::{Msh, Qpd};

/// The Z31 size when neither RCP-2 nor the context says otherwise.
pub const DEFAULT_QUERY_LIMIT: u32 = 10;

/// Evaluates a history and forecasts it, for Z42 answers. Implemented over
/// the CDSi engine by the frontends' wiring; tests can hand in their own.
pub trait Forecaster: Send + Sync {
    /// One evaluation list per dose (same order as `doses`) and the
    /// forecast per vaccine group, as of `today`.
    fn evaluate(
        &self,
        patient: &Patient,
        doses: &[Dose],
        observations: &[Observation],
        today: NaiveDate,
    ) -> (Vec<Vec<DoseEvaluation>>, Vec<Forecast>);
}

/// Logs an answered query under the clinic's interface mode.
#[allow(clippy::too_many_arguments)]
fn answered<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    msh: &Msh,
    response: MessageBuf,
    code: AckCode,
    issues: &[Issue],
    pin: Option<ClinicPin>,
    patient: Option<PatientId>,
) -> Outcome {
    let stats = Stats {
        patient,
        ..Stats::default()
    };
    let mode = match &pin {
        Some(p) => store
            .interface_status(p)
            .unwrap_or(InterfaceStatus::Production),
        None => InterfaceStatus::Production,
    };
    finish(
        store,
        ctx,
        msh,
        pin,
        response,
        super::ack_result(code),
        issues,
        stats,
        mode,
    )
}

/// A query whose QPD names no query this IIS answers (or none): after the same
/// facility and permission checks as any query, Z33 with QAK AE and one ERR.
pub(super) fn invalid<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    msh: &Msh,
    qpd: &Qpd,
    issues: Vec<Issue>,
) -> Outcome {
    let responder = ctx.responder();
    let answer = |status: QueryStatus, code: AckCode, issues: &[Issue], pin| {
        let response = build_query_error(msh, qpd, &responder, status, issues);
        answered(store, ctx, msh, response, code, issues, pin, None)
    };
    let pin = match resolve_facility(store, msh) {
        Ok((pin, _)) => pin,
        Err(issue) => return answer(QueryStatus::Rejected, AckCode::Reject, &[issue], None),
    };
    if let Err(issue) = authorize_sender(store, ctx, msh, &pin, Action::InterfaceQuery) {
        let clinic = refused_clinic(ctx, &pin);
        return answer(QueryStatus::Rejected, AckCode::Reject, &[issue], clinic);
    }
    answer(QueryStatus::Error, AckCode::Error, &issues, Some(pin))
}

pub(super) fn process<S: IisStore>(store: &S, ctx: &Context<'_>, q: Qbp) -> Outcome {
    let done = |response: MessageBuf,
                code: AckCode,
                issues: &[Issue],
                pin: Option<ClinicPin>,
                patient: Option<PatientId>| {
        answered(store, ctx, &q.msh, response, code, issues, pin, patient)
    };
    let responder = ctx.responder();
    // QAK AR with one ERR: nothing about any patient is sent.
    let reject = |issue: Issue, pin: Option<ClinicPin>| {
        let issues = [issue];
        done(
            build_z33(&q, &responder, QueryStatus::Rejected, &issues),
            AckCode::Reject,
            &issues,
            pin,
            None,
        )
    };
    let pin = match resolve_facility(store, &q.msh) {
        Ok((pin, _)) => pin,
        Err(issue) => return reject(issue, None),
    };
    if let Err(issue) = authorize_sender(store, ctx, &q.msh, &pin, Action::InterfaceQuery) {
        return reject(issue, refused_clinic(ctx, &pin));
    }
    if q.has_errors() {
        return done(
            build_z33(&q, &responder, QueryStatus::Error, &q.issues),
            AckCode::Error,
            &q.issues,
            Some(pin),
            None,
        );
    }
    let found = match find(store, &pin, &q) {
        Ok(f) => f,
        Err(e) => return reject(internal_error(&e), Some(pin)),
    };
    let limit = q.quantity_limit().unwrap_or(ctx.query_limit).max(1) as usize;
    let registry = ctx.application.namespace.as_str();
    match found {
        Found::None => done(
            build_z33(&q, &responder, QueryStatus::NotFound, &[]),
            AckCode::Accept,
            &q.issues,
            Some(pin),
            None,
        ),
        Found::One(p) => {
            let Some(id) = p.id else {
                return done(
                    build_z33(&q, &responder, QueryStatus::NotFound, &[]),
                    AckCode::Accept,
                    &q.issues,
                    Some(pin),
                    None,
                );
            };
            match answer_one(store, ctx, &q, &pin, &p, id, registry) {
                Ok((response, code)) => done(response, code, &q.issues, Some(pin), Some(id)),
                Err(e) => reject(internal_error(&e), Some(pin)),
            }
        }
        // IG R1.5 §7.3.1: more candidates than RCP-2 allows → Z33 with QAK TM.
        Found::Several(list) if list.len() > limit => done(
            build_z33(&q, &responder, QueryStatus::TooMany, &[]),
            AckCode::Accept,
            &q.issues,
            Some(pin),
            None,
        ),
        Found::Several(list) => {
            // Each candidate listed is a disclosure of that record.
            let listed = list.len();
            let note = format!(" (Z31, one of {listed} candidates)");
            let audited = list
                .iter()
                .filter_map(|p| p.id)
                .try_for_each(|id| audit_disclosure(store, ctx, &q, &pin, id, &note));
            if let Err(e) = audited {
                return reject(internal_error(&e), Some(pin));
            }
            let ids: Vec<String> = list
                .iter()
                .map(|p| p.id.map(|i| i.to_string()).unwrap_or_default())
                .collect();
            let records: Vec<PatientRecord<'_>> = list
                .iter()
                .zip(&ids)
                .map(|(p, id)| PatientRecord {
                    patient: p,
                    registry_id: Some(id.as_str()),
                })
                .collect();
            done(
                build_z31(&q, &responder, &records, registry),
                AckCode::Accept,
                &q.issues,
                Some(pin),
                None,
            )
        }
    }
}

fn answer_one<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    q: &Qbp,
    pin: &ClinicPin,
    p: &Patient,
    id: PatientId,
    registry: &str,
) -> StoreResult<(MessageBuf, AckCode)> {
    let responder = ctx.responder();
    let doses = store.doses(id)?;
    let rid = id.to_string();
    let record = PatientRecord {
        patient: p,
        registry_id: Some(rid.as_str()),
    };
    let response = match q.profile {
        QueryProfile::History => build_z32(q, &responder, record, &doses, ctx.codes, registry),
        QueryProfile::EvaluatedHistoryAndForecast => {
            let Some(f) = ctx.forecaster else {
                let issues = [Issue::error(
                    ErrorLocation::new("QPD", 1, 1),
                    Hl7Error::ApplicationInternalError,
                    "evaluated history and forecast (Z44) is not available at this endpoint; query Z34",
                )];
                return Ok((
                    build_z33(q, &responder, QueryStatus::Rejected, &issues),
                    AckCode::Reject,
                ));
            };
            let observations = store.observations(id)?;
            let (evals, forecast) = f.evaluate(p, &doses, &observations, ctx.today());
            let mut evals = evals.into_iter();
            let evaluated: Vec<EvaluatedDose<'_>> = doses
                .iter()
                .map(|d| EvaluatedDose {
                    dose: d,
                    evaluations: evals.next().unwrap_or_default(),
                })
                .collect();
            build_z42(
                q, &responder, record, &evaluated, &forecast, ctx.codes, registry,
            )
        }
    };
    audit_disclosure(store, ctx, q, pin, id, "")?;
    Ok((response, AckCode::Accept))
}

/// The Read audit row for one record an answer names, written before it is sent.
fn audit_disclosure<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    q: &Qbp,
    pin: &ClinicPin,
    id: PatientId,
    note: &str,
) -> StoreResult<()> {
    super::audit(
        store,
        ctx,
        Some(pin.clone()),
        Some(id),
        AuditAction::Read,
        format!("QBP {} {}{note}", q.profile.code(), q.msh.control_id),
    )
}

enum Found {
    None,
    One(Box<Patient>),
    Several(Vec<Patient>),
}

/// Finds the patients a query asks for, keeping only those the querying
/// clinic may see: a confidential record (PD1-12 = Y) only by the clinics
/// that reported it, and never a record that opted out (nothing is shared).
/// A hidden record is answered like no record (Z33 NF), so a query cannot
/// reveal that a protected person exists.
fn find<S: IisStore>(store: &S, pin: &ClinicPin, q: &Qbp) -> StoreResult<Found> {
    let visible = |p: &Patient| -> StoreResult<bool> {
        if p.is_opted_out() {
            return Ok(false);
        }
        if !p.confidential {
            return Ok(true);
        }
        let Some(id) = p.id else { return Ok(false) };
        Ok(store.patient_clinics(id)?.contains(pin))
    };
    let c = &q.criteria;
    // QPD-3: this clinic's MRN, or our own registry id (type SR).
    for (value, _authority, kind) in &c.identifiers {
        let id = match kind.to_ascii_uppercase().as_str() {
            "MR" => store.find_by_mrn(pin, value)?,
            "SR" => value.trim().parse::<i64>().ok().map(PatientId),
            _ => None,
        };
        if let Some(id) = id {
            // A registry id of a merged record answers with the record it was merged into.
            let id = store.merged_into(id)?.unwrap_or(id);
            if let Some(p) = store.patient(id)? {
                // An identifier hit still has to agree with the birth date sent.
                if c.birth_date.is_none_or(|d| d == p.dob) && visible(&p)? {
                    return Ok(Found::One(Box::new(p)));
                }
            }
        }
    }
    let Some(dob) = c.birth_date else {
        return Ok(Found::None);
    };
    let Ok(name) = PersonName::new(&c.family, &c.given) else {
        return Ok(Found::None);
    };
    let Ok(mut probe) = Patient::new(name, dob, c.sex.unwrap_or(Sex::Unknown)) else {
        return Ok(Found::None);
    };
    probe.birth_order = c.birth_order;
    probe.multiple_birth = c.multiple_birth;
    let mut certain = Vec::new();
    let mut possible = Vec::new();
    for cand in store.match_candidates(&probe)? {
        match match_patients(&probe, &cand) {
            Decision::Link if visible(&cand)? => certain.push(cand),
            Decision::Review if visible(&cand)? => possible.push(cand),
            _ => {}
        }
    }
    // One certain match answers the query; otherwise every candidate is listed.
    Ok(match (certain.len(), possible.len()) {
        (1, _) => Found::One(Box::new(certain.remove(0))),
        (0, 0) => Found::None,
        _ => {
            certain.extend(possible);
            Found::Several(certain)
        }
    })
}
