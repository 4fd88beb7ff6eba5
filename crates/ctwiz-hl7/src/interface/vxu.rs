//! VXU^V04 → validate, match, store, ACK^V04 (CDC IG R1.5 §8.4, ack profile Z23).

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{already_recorded, reported_by, Dose, Observation};
use ctwiz_core::dose_stock::DeletedVaccine;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::matching::batch::MIN_RECORDS_TO_FIT;
use ctwiz_core::matching::{
    default_model, Decision, GivenNameCounts, MatchModel, MatchRecord, NotCounted,
};
use ctwiz_core::patient::Patient;
use ctwiz_store::interface::{AckResult, InterfaceStatus};
use ctwiz_store::usecase::dose_stock::{self, Change};
use ctwiz_store::{AuditAction, Interface, Result as StoreResult};

use super::{
    authorize_sender, finish, information, internal_error, refused_clinic, resolve_facility,
    Context, IisStore, Outcome, Stats,
};
use crate::er7::Message;
use crate::message::ack::{build_ack, AckCode};
use crate::message::vxu::{DoseAction, ReportedDose, Vxu, VxuRecord};
use crate::message::{AppError, Hl7Error, Issue, Rejection};
use crate::segment::err::ErrorLocation;

/// A VXU read, mapped to core values for the clinic MSH-4 names and
/// validated; `record` is `None` when MSH-4 is not a valid PIN (the
/// facility check then rejects it).
#[derive(Debug, Clone)]
pub(super) struct PreparedVxu {
    vxu: Vxu,
    record: Option<VxuRecord>,
}

impl PreparedVxu {
    pub(super) fn msh(&self) -> &crate::segment::Msh {
        &self.vxu.msh
    }
}

pub(super) fn prepare(
    codes: &CodeSets,
    received_at: NaiveDateTime,
    msg: &Message<'_>,
) -> Result<PreparedVxu, Rejection> {
    let vxu = Vxu::from_message(msg)?;
    let record = ClinicPin::new(vxu.msh.sending_facility.namespace.trim())
        .ok()
        .map(|pin| {
            let mut record = vxu.to_core_with(&pin, |ndc| codes.ndc(ndc).map(|p| p.cvx.clone()));
            validate(codes, received_at.date(), &vxu, &mut record);
            record
        });
    Ok(PreparedVxu { vxu, record })
}

pub(super) fn process<S: IisStore>(
    store: &S,
    ctx: &Context<'_>,
    prepared: &PreparedVxu,
) -> Outcome {
    let PreparedVxu { vxu, record } = prepared;
    let (pin, mode, record) = match (resolve_facility(store, &vxu.msh), record) {
        (Ok((pin, mode)), Some(record)) => (pin, mode, record),
        (Err(issue), _) => return super::reject(store, ctx, &vxu.msh, None, vec![issue]),
        (Ok(_), None) => {
            let issue = Issue::error(
                ErrorLocation::new("MSH", 1, 4),
                Hl7Error::UnknownKeyIdentifier,
                "MSH-4 sending facility is not a valid clinic PIN",
            );
            return super::reject(store, ctx, &vxu.msh, None, vec![issue]);
        }
    };
    if let Err(issue) = authorize_sender(store, ctx, &vxu.msh, &pin, Action::InterfaceSubmit) {
        let clinic = refused_clinic(ctx, &pin);
        return super::reject(store, ctx, &vxu.msh, clinic, vec![issue]);
    }
    let late = record
        .doses
        .iter()
        .filter(|d| is_late(&d.dose, ctx.received_at))
        .count() as u32;
    let stats = Stats {
        doses: record.doses.len() as u32,
        late_doses: late,
        ..Stats::default()
    };
    let mut issues = record.issues.clone();
    let Some(patient) = record
        .patient
        .clone()
        .filter(|_| mode == InterfaceStatus::Production)
    else {
        // QA (validated, not stored) or a patient in error (nothing to store).
        let code = AckCode::for_issues(&issues);
        let response = build_ack(&vxu.msh, &ctx.responder(), &issues, None);
        return finish(
            store,
            ctx,
            &vxu.msh,
            Some(pin),
            response,
            super::ack_result(code),
            &issues,
            stats,
            mode,
        );
    };
    // Store and log in one unit: the ACK below is built only once it committed.
    let result = store.atomically(|s| {
        let mut extra = Vec::new();
        let id = apply(s, ctx, &pin, vxu, patient, record, &mut extra)?;
        let mut all = issues.clone();
        all.extend(extra.iter().cloned());
        let code = AckCode::for_issues(&all);
        let st = Stats {
            patient: Some(id),
            stored: true,
            ..stats
        };
        let log = super::log_entry(
            ctx,
            &vxu.msh,
            Some(pin.clone()),
            super::ack_result(code),
            &all,
            st,
            mode,
        );
        s.log_message(&log)?;
        Ok((id, extra, code, log))
    });
    match result {
        Ok((_, extra, code, log)) => {
            issues.extend(extra);
            let response = build_ack(&vxu.msh, &ctx.responder(), &issues, Some(code));
            Outcome {
                response,
                result: super::ack_result(code),
                log,
                stored: true,
            }
        }
        Err(e) => {
            // Nothing of the message was kept; say so and ask for a resend.
            issues.push(internal_error(&e));
            let response = build_ack(&vxu.msh, &ctx.responder(), &issues, Some(AckCode::Reject));
            finish(
                store,
                ctx,
                &vxu.msh,
                Some(pin),
                response,
                AckResult::Rejected,
                &issues,
                stats,
                mode,
            )
        }
    }
}

/// Checks beyond the mapping: dates not in the future, known CVX/MVX
/// (CDC code sets), core's dose rules. An erroneous dose is dropped.
fn validate(codes: &CodeSets, today: NaiveDate, vxu: &Vxu, record: &mut VxuRecord) {
    if let Some(p) = &record.patient {
        if let Err(e) = p.validate(today) {
            // A birth date in the future makes every dose illogical: refuse the patient.
            record.issues.push(
                Issue::error(
                    ErrorLocation::new("PID", 1, 7),
                    Hl7Error::DataType,
                    e.to_string(),
                )
                .with_app(AppError::IllogicalDate),
            );
            record.patient = None;
        }
    }
    let dob = record.patient.as_ref().map(|p| p.dob);
    let mut kept = Vec::with_capacity(record.doses.len());
    for d in std::mem::take(&mut record.doses) {
        let seq = vxu.orders.get(d.order).map_or(0, |o| o.rxa_sequence);
        let loc = |f| ErrorLocation::new("RXA", seq, f);
        let dose = &d.dose;
        if dose.date > today {
            record.issues.push(
                Issue::error(
                    loc(3),
                    Hl7Error::DataType,
                    format!("administration date {} is in the future", dose.date),
                )
                .with_app(AppError::IllogicalDate),
            );
            continue;
        }
        // CDC CVX table: an unknown code cannot be evaluated or forecast from.
        if codes.vaccine(&dose.cvx).is_none() {
            record.issues.push(
                Issue::error(
                    loc(5),
                    Hl7Error::TableValueNotFound,
                    format!("CVX {} is not a known vaccine code", dose.cvx),
                )
                .with_app(AppError::TableValueNotFound),
            );
            continue;
        }
        if let Some(m) = &dose.mvx {
            if codes.manufacturer(m).is_none() {
                record.issues.push(
                    Issue::warning(
                        loc(17),
                        Hl7Error::TableValueNotFound,
                        format!("MVX {m} is not a known manufacturer code"),
                    )
                    .with_app(AppError::TableValueNotFound),
                );
            }
        }
        if let Some(dob) = dob {
            // Lot, refusal-reason and expiry rules (IG R1.5 RXA usage: RE) are warnings.
            if let Err(e) = dose.validate(dob, today) {
                let (field, code, app) = dose_rule_field(dose);
                let mut issue = Issue::warning(loc(field), code, e.to_string());
                issue.application = app;
                record.issues.push(issue);
            }
        }
        kept.push(d);
    }
    record.doses = kept;
    // Observations (immunity, contraindication, indication/risk) follow the same rule as
    // the web's: dated between birth and today (`Observation::validate`); one that is
    // not is left out with a warning on its OBX-14.
    if let Some(dob) = dob {
        record
            .observations
            .retain(|o| match o.validate(dob, today) {
                Ok(()) => true,
                Err(e) => {
                    record.issues.push(
                        Issue::warning(
                            ErrorLocation::new("OBX", 0, 14),
                            Hl7Error::DataType,
                            format!("observation {} ({}): {e}; not stored", o.code, o.text),
                        )
                        .with_app(AppError::IllogicalDate),
                    );
                    false
                }
            });
    }
}

/// The RXA field a failed core dose rule is about, and how table 0357/0533 name it:
/// a missing lot number (RXA-15) or refusal reason (RXA-18) is a required field
/// missing (101) at that field; a refusal reason without completion status RE is an
/// illogical value of RXA-20; an expired lot an illogical date of RXA-16.
fn dose_rule_field(dose: &Dose) -> (usize, Hl7Error, Option<AppError>) {
    use ctwiz_core::dose::CompletionStatus;
    let refused = dose.completion == CompletionStatus::Refused;
    if refused && dose.refusal.is_none() {
        (18, Hl7Error::RequiredFieldMissing, None)
    } else if dose.refusal.is_some() && !refused {
        (20, Hl7Error::DataType, Some(AppError::IllogicalValue))
    } else if dose.source.is_administered() && dose.was_given() && dose.lot.is_none() {
        (15, Hl7Error::RequiredFieldMissing, None)
    } else if dose
        .lot_expiration
        .is_some_and(|exp| exp < dose.date && dose.source.is_administered())
    {
        (16, Hl7Error::DataType, Some(AppError::IllogicalDate))
    } else {
        (3, Hl7Error::DataType, Some(AppError::IllogicalDate))
    }
}

/// AIRA DQA "timeliness": an administered dose reported more than 48 hours
/// after its date (the date has no time, so: more than two days).
fn is_late(d: &Dose, received: NaiveDateTime) -> bool {
    d.source.is_administered() && d.was_given() && (received.date() - d.date).num_days() > 2
}

/// Matches or creates the patient and applies the doses and observations.
fn apply<S: IisStore>(
    s: &S,
    ctx: &Context<'_>,
    pin: &ClinicPin,
    vxu: &Vxu,
    incoming: Patient,
    record: &VxuRecord,
    issues: &mut Vec<Issue>,
) -> StoreResult<PatientId> {
    let actor = ctx.actor.label();
    let at = ctx.received_at;
    let change = Change {
        by: &actor,
        interface: Interface::of(ctx.actor.channel),
        at,
    };
    let existing = find_patient(s, pin, &incoming)?;
    let (id, possible) = match existing {
        Found::Same(id) => (id, Vec::new()),
        Found::New(possible) => {
            // New record: stored with its doses in one go (one statement on PostgreSQL),
            // then each dose's effect on stock (a draw, or an inventory exception).
            let doses: Vec<Dose> = record
                .doses
                .iter()
                .filter(|r| r.action != DoseAction::Delete)
                .map(with_sender)
                .collect();
            let (id, dose_ids) = s.create_patient_with_dose_ids(&incoming, &doses)?;
            record_stock(s, id, doses, dose_ids, change)?;
            for o in &record.observations {
                s.add_observation(id, o)?;
            }
            for r in record
                .doses
                .iter()
                .filter(|r| r.action == DoseAction::Delete)
            {
                issues.push(unknown_dose(vxu, r));
            }
            audit(
                s,
                ctx,
                pin,
                id,
                AuditAction::Create,
                vxu,
                record.doses.len(),
            )?;
            return finish_new(s, id, possible, &actor, at);
        }
    };
    let Some(mut stored) = s.patient(id)? else {
        return Err(ctwiz_store::StoreError::Conflict(format!(
            "patient {id} vanished during matching"
        )));
    };
    if stored.is_opted_out() {
        // Opt-out: the registry keeps no immunization data for this person.
        issues.push(information(
            ErrorLocation::new("PID", 1, 0),
            "the patient has opted out of the registry; the immunization data was not stored",
        ));
        audit(s, ctx, pin, id, AuditAction::Read, vxu, 0)?;
        return Ok(id);
    }
    // Demographics of an existing record are kept; the VXU adds this clinic's
    // MRN and may raise (never lower) the protection indicator (PD1-12).
    let mut changed = false;
    for m in &incoming.mrns {
        match stored.mrns.iter_mut().find(|s| s.clinic == m.clinic) {
            None => {
                stored.mrns.push(m.clone());
                changed = true;
            }
            // The clinic's EHR names its assigning authority (PID-3.4) for an MRN
            // recorded without one: answers echo it from now on.
            Some(s) if s.value == m.value && s.authority.is_none() && m.authority.is_some() => {
                s.authority = m.authority.clone();
                changed = true;
            }
            Some(_) => {}
        }
    }
    if incoming.confidential && !stored.confidential {
        stored.confidential = true;
        changed = true;
    }
    if changed {
        s.update_patient(&stored)?;
    }
    let mut doses = PatientDoses {
        current: s.doses(id)?,
        unsaved: Vec::new(),
    };
    for r in &record.doses {
        apply_dose(s, pin, id, r, &mut doses, change, vxu, issues)?;
    }
    doses.save(s, id, change)?;
    let have: Vec<Observation> = s.observations(id)?;
    for o in &record.observations {
        if !have.contains(o) {
            s.add_observation(id, o)?;
        }
    }
    audit(
        s,
        ctx,
        pin,
        id,
        AuditAction::Update,
        vxu,
        record.doses.len(),
    )?;
    finish_new(s, id, possible, &actor, at)
}

fn finish_new<S: IisStore>(
    s: &S,
    id: PatientId,
    possible: Vec<PatientId>,
    actor: &str,
    at: NaiveDateTime,
) -> StoreResult<PatientId> {
    for other in possible {
        s.flag_for_dedup_review(id, other, actor, at)?;
    }
    Ok(id)
}

enum Found {
    Same(PatientId),
    /// No certain match: create; the possible matches go to dedup review.
    New(Vec<PatientId>),
}

fn find_patient<S: IisStore>(s: &S, pin: &ClinicPin, p: &Patient) -> StoreResult<Found> {
    for m in p.mrns.iter().filter(|m| &m.clinic == pin) {
        if let Some(id) = s.find_by_mrn(pin, &m.value)? {
            return Ok(Found::Same(id));
        }
    }
    // The matching engine on the bounded candidate set: the best automatic link wins;
    // otherwise the few best possible matches go to review. A record this clinic knows
    // under another MRN is never linked automatically (the engine's own rule).
    let probe = MatchRecord::from_patient(p);
    let model = default_model();
    let candidates: Vec<(PatientId, MatchRecord)> = s
        .match_candidates(p)?
        .iter()
        .filter_map(|c| Some((c.id?, MatchRecord::from_patient(c))))
        .collect();
    let names = given_name_counts(s, model, &probe, &candidates)?;
    let mut scored: Vec<(f64, Decision, PatientId)> = Vec::new();
    for (cid, c) in &candidates {
        let score = model.score_with_names(&probe, c, names.as_ref());
        if score.decision != Decision::Distinct {
            scored.push((score.weight, score.decision, *cid));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    if let Some(&(_, Decision::Link, id)) = scored.iter().find(|s| s.1 == Decision::Link) {
        return Ok(Found::Same(id));
    }
    Ok(Found::New(
        scored
            .iter()
            .take(REVIEWS_PER_SUBMISSION)
            .map(|s| s.2)
            .collect(),
    ))
}

/// The registry's counts of the given names whose counts can change a verdict on
/// `probe` and its candidates (a look-alike name of the same birth date: co-twins' two
/// names in use, or one child's slip), looked up only when some pair raises that
/// question; none counted otherwise, and none in a registry too small for a count to
/// tell a name in use from a slip (fewer than `MIN_RECORDS_TO_FIT`: no name is common
/// in a registry just begun, as `ctwiz match pairs` fits only files that large).
fn given_name_counts<S: IisStore>(
    s: &S,
    model: &MatchModel,
    probe: &MatchRecord,
    candidates: &[(PatientId, MatchRecord)],
) -> StoreResult<Box<dyn GivenNameCounts>> {
    let mut asked: Vec<&str> = Vec::new();
    for (_, c) in candidates {
        if let Some(pair) = model.given_names_in_question(probe, c) {
            for name in pair {
                if !asked.contains(&name) {
                    asked.push(name);
                }
            }
        }
    }
    if asked.is_empty() {
        return Ok(Box::new(NotCounted));
    }
    let counts = s.given_name_counts(&asked)?;
    Ok(if counts.records < MIN_RECORDS_TO_FIT as u64 {
        Box::new(NotCounted)
    } else {
        Box::new(counts.counts)
    })
}

/// A new record is queued for review with at most this many existing records (the
/// best-scoring), so a look-alike feed cannot flood the queue.
const REVIEWS_PER_SUBMISSION: usize = 3;

fn with_sender(r: &ReportedDose) -> Dose {
    let mut d = r.dose.clone();
    d.sender_id = r.sender_dose_id.clone();
    d
}

/// Stores reported doses of `patient` together (one statement on PostgreSQL), then each
/// one's effect on stock in order (a draw from the lot it names, or an inventory
/// exception): the rule every door shares. Returns them with their ids.
fn add_doses<S: IisStore>(
    s: &S,
    patient: PatientId,
    doses: Vec<Dose>,
    change: Change<'_>,
) -> StoreResult<Vec<Dose>> {
    let ids = s.add_doses(patient, &doses)?;
    record_stock(s, patient, doses, ids, change)
}

/// Doses of `patient` just stored with `ids`: each one's effect on stock, in order.
fn record_stock<S: IisStore>(
    s: &S,
    patient: PatientId,
    mut doses: Vec<Dose>,
    ids: Vec<ctwiz_core::ids::DoseId>,
    change: Change<'_>,
) -> StoreResult<Vec<Dose>> {
    for (d, id) in doses.iter_mut().zip(ids) {
        d.patient = Some(patient);
        d.id = Some(id);
    }
    for d in &doses {
        dose_stock::record(s, d, None, change)?;
    }
    Ok(doses)
}

/// An existing record's live doses while a message is applied: the stored ones and the
/// message's new ones, which are stored together (`save`) before anything that needs
/// their ids (a deletion or correction in the same message) and at the end.
struct PatientDoses {
    current: Vec<Dose>,
    /// Indexes in `current` of new doses not stored yet, in the message's order.
    unsaved: Vec<usize>,
}

impl PatientDoses {
    fn save<S: IisStore>(
        &mut self,
        s: &S,
        patient: PatientId,
        change: Change<'_>,
    ) -> StoreResult<()> {
        if self.unsaved.is_empty() {
            return Ok(());
        }
        let new = self
            .unsaved
            .iter()
            .map(|&i| self.current[i].clone())
            .collect();
        let stored = add_doses(s, patient, new, change)?;
        for (i, d) in std::mem::take(&mut self.unsaved).into_iter().zip(stored) {
            self.current[i] = d;
        }
        Ok(())
    }

    /// The clinic's live dose of this patient with this sender id (ORC-3, see
    /// [`with_sender`]), the latest if several.
    fn by_sender(&self, pin: &ClinicPin, sender_id: &str) -> Option<&Dose> {
        self.current
            .iter()
            .filter(|d| d.clinic.as_ref() == Some(pin) && d.sender_id.as_deref() == Some(sender_id))
            .max_by_key(|d| d.id.map(|i| i.0))
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_dose<S: IisStore>(
    s: &S,
    pin: &ClinicPin,
    patient: PatientId,
    r: &ReportedDose,
    doses: &mut PatientDoses,
    change: Change<'_>,
    vxu: &Vxu,
    issues: &mut Vec<Issue>,
) -> StoreResult<()> {
    // The patient's dose at this clinic that the sender's own id names.
    let named = |doses: &PatientDoses| {
        r.sender_dose_id
            .as_ref()
            .and_then(|sid| doses.by_sender(pin, sid))
            .cloned()
    };
    let mut by_sender = named(doses);
    if r.action == DoseAction::Delete || by_sender.is_some() {
        // The target may be one of this message's new doses: store them first, in order.
        doses.save(s, patient, change)?;
        by_sender = named(doses);
    }
    match (r.action, by_sender) {
        (DoseAction::Delete, found) => {
            // RXA-21 D: by sender id, else the same event as reported by this clinic
            // (core rule: only the reporting clinic changes a dose).
            let target = found.or_else(|| reported_by(&doses.current, &r.dose, pin).cloned());
            match target.filter(|d| d.id.is_some()) {
                Some(d) => {
                    // The EHR deletes a record entered in error: its draw goes back.
                    let reason = "deleted by the reporting clinic (RXA-21 D)";
                    s.delete_dose(d.id.expect("filtered on a stored id"), reason)?;
                    dose_stock::delete(s, &d, reason, DeletedVaccine::BackToStock, change)?;
                    doses.current.retain(|c| c.id != d.id);
                }
                None => issues.push(unknown_dose(vxu, r)),
            }
        }
        (_, Some(old)) => {
            // Update, or a resent Add: replace the stored event.
            let mut d = with_sender(r);
            d.id = old.id;
            d.patient = Some(patient);
            s.update_dose(&d)?;
            // A new lot or vaccine moves the draw.
            dose_stock::correct(
                s,
                &old,
                &d,
                "updated by the reporting clinic (RXA-21 U)",
                change,
            )?;
            if let Some(c) = doses.current.iter_mut().find(|c| c.id == d.id) {
                *c = d;
            }
        }
        (DoseAction::Update | DoseAction::Add, None) => {
            if already_recorded(&doses.current, &r.dose).is_some() {
                // Already known (e.g. history reported by several clinics): an interface
                // resend is idempotent where the web refuses the repeat.
                return Ok(());
            }
            let mut d = with_sender(r);
            d.patient = Some(patient);
            doses.unsaved.push(doses.current.len());
            doses.current.push(d);
        }
    }
    Ok(())
}

fn unknown_dose(vxu: &Vxu, r: &ReportedDose) -> Issue {
    let seq = vxu.orders.get(r.order).map_or(0, |o| o.rxa_sequence);
    Issue::warning(
        ErrorLocation::new("RXA", seq, 21),
        Hl7Error::UnknownKeyIdentifier,
        format!(
            "no stored dose of CVX {} on {} to delete",
            r.dose.cvx, r.dose.date
        ),
    )
}

fn audit<S: IisStore>(
    s: &S,
    ctx: &Context<'_>,
    pin: &ClinicPin,
    id: PatientId,
    action: AuditAction,
    vxu: &Vxu,
    doses: usize,
) -> StoreResult<()> {
    super::audit(
        s,
        ctx,
        Some(pin.clone()),
        Some(id),
        action,
        format!("VXU {} with {doses} dose(s)", vxu.msh.control_id),
    )
}
