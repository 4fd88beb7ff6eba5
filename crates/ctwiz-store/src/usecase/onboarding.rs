//! Onboarding a clinic, the same for every door: the clinic (or DPH for it) files the
//! Application for Electronic Reporting; DPH moves it through the stages of its path
//! (`ctwiz_core::onboarding`), signing off the DQA review or sending it back to QA with
//! notes. An EHR clinic's messages stay in QA mode (validated, answered, logged, not
//! stored) until DPH moves it to production, in the same transaction.

use super::{audited, not_found, UseCaseError};
use crate::clinic_info::{NotificationKind, NotificationStore};
use crate::interface::{AckResult, InterfaceStatus, InterfaceStore};
use crate::onboarding::{Onboarding, OnboardingStore, StageEvent};
use crate::traits::{AuditAction, AuditStore, OrgStore, UserStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::onboarding::{self, Application, Method, Stage};
use std::collections::BTreeMap;

/// How a clinic's QA messages fared: what DPH reviews before signing off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaSummary {
    pub messages: u64,
    pub accepted: u64,
    pub with_errors: u64,
    pub rejected: u64,
    /// The most frequent error codes (HL7 code: count), most frequent first.
    pub top_errors: Vec<(String, u64)>,
}

impl QaSummary {
    /// Share of QA messages not accepted as sent, in percent.
    pub fn error_rate(&self) -> f64 {
        ctwiz_core::assessment::percent(self.with_errors + self.rejected, self.messages)
    }
}

/// Files the application. An EHR clinic goes to QA mode at once, so its test messages
/// are answered but not stored.
pub fn apply<S>(
    store: &S,
    actor: &Actor,
    clinic: Option<&ClinicPin>,
    app: &Application,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: OnboardingStore + InterfaceStore + OrgStore + AuditStore + crate::traits::Atomic,
{
    let pin = super::actors::clinic_for(actor, clinic, "an onboarding application")?;
    let c = store
        .clinic(&pin)?
        .ok_or_else(|| not_found("clinic", &pin))?;
    super::inventory::permit_at(store, actor, &c, Action::ClinicToolsEdit, now)?;
    audited(
        store,
        actor,
        None,
        AuditAction::Create,
        now,
        format!("onboarding application for {pin} ({})", app.method.label()),
        |s| {
            s.create_onboarding(&pin, app, &actor.label(), now)?;
            if app.method == Method::EhrHl7 {
                InterfaceStore::set_interface_status(s, &pin, InterfaceStatus::Qa, now)?;
            }
            Ok(())
        },
    )
}

/// A clinic's onboarding with its QA summary, for the clinic itself or DPH.
pub fn show<S>(
    store: &S,
    actor: &Actor,
    clinic: &ClinicPin,
    now: NaiveDateTime,
) -> Result<(Onboarding, QaSummary), UseCaseError>
where
    S: OnboardingStore + InterfaceStore + OrgStore + AuditStore + ?Sized,
{
    status(store, actor, clinic, now)?.ok_or_else(|| not_found("onboarding of clinic", clinic))
}

/// [`show`], or `None` when the clinic has not applied (the page then offers the form).
pub fn status<S>(
    store: &S,
    actor: &Actor,
    clinic: &ClinicPin,
    now: NaiveDateTime,
) -> Result<Option<(Onboarding, QaSummary)>, UseCaseError>
where
    S: OnboardingStore + InterfaceStore + OrgStore + AuditStore + ?Sized,
{
    let c = store
        .clinic(clinic)?
        .ok_or_else(|| not_found("clinic", clinic))?;
    super::inventory::permit_at(store, actor, &c, Action::ClinicToolsView, now)?;
    match store.onboarding(clinic)? {
        Some(o) => Ok(Some((o, qa_summary(store, clinic)?))),
        None => Ok(None),
    }
}

/// Most QA messages a summary reads (the newest).
const QA_WINDOW: u32 = 5000;

fn qa_summary<S: InterfaceStore + ?Sized>(
    store: &S,
    clinic: &ClinicPin,
) -> Result<QaSummary, UseCaseError> {
    let mut q = QaSummary::default();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for m in store.message_log(Some(clinic.as_str()), QA_WINDOW)? {
        if m.mode != InterfaceStatus::Qa {
            continue;
        }
        q.messages += 1;
        match m.result {
            AckResult::Accepted if m.errors.is_empty() => q.accepted += 1,
            AckResult::Accepted | AckResult::Error => q.with_errors += 1,
            AckResult::Rejected => q.rejected += 1,
        }
        for e in &m.errors {
            *errors.entry(e.hl7_code.clone()).or_default() += 1;
        }
    }
    let mut top: Vec<(String, u64)> = errors.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(5);
    q.top_errors = top;
    Ok(q)
}

/// Every clinic's onboarding, for DPH.
pub fn list<S>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Onboarding>, UseCaseError>
where
    S: OnboardingStore + AuditStore + ?Sized,
{
    super::actors::permit(
        store,
        actor,
        Action::ChangeRequestReview,
        now,
        "onboarding list",
    )?;
    Ok(store.onboardings()?)
}

/// DPH moves a clinic to stage `to` (one forward, or back from the DQA review to QA with
/// notes). Production switches the clinic's interface to production in the same
/// transaction; the clinic's coordinators are notified.
pub fn advance<S>(
    store: &S,
    actor: &Actor,
    clinic: &ClinicPin,
    to: Stage,
    notes: &str,
    now: NaiveDateTime,
) -> Result<Onboarding, UseCaseError>
where
    S: OnboardingStore
        + InterfaceStore
        + NotificationStore
        + UserStore
        + AuditStore
        + crate::traits::Atomic,
{
    super::actors::permit(
        store,
        actor,
        Action::ChangeRequestReview,
        now,
        "onboarding move",
    )?;
    let o = store
        .onboarding(clinic)?
        .ok_or_else(|| not_found("onboarding of clinic", clinic))?;
    onboarding::check_move(o.application.method, o.stage, to)?;
    onboarding::check_notes(o.stage, to, notes)?;
    let notes = ctwiz_core::outreach::note("notes", notes)?;
    let event = StageEvent {
        at: now,
        by: actor.label(),
        from: Some(o.stage),
        to,
        notes: notes.clone(),
    };
    audited(
        store,
        actor,
        None,
        AuditAction::Update,
        now,
        format!(
            "onboarding of {clinic}: {} → {}",
            o.stage.label(),
            to.label()
        ),
        |s| record_move(s, clinic, o.application.method, &event),
    )?;
    Ok(store.onboarding(clinic)?.expect("just moved"))
}

/// Writes one move (`event`, from its `from` stage), switches the interface to the mode
/// the new stage takes and tells the clinic's coordinators. Inside the caller's
/// transaction.
fn record_move<S>(
    s: &S,
    clinic: &ClinicPin,
    method: Method,
    event: &StageEvent,
) -> crate::error::Result<()>
where
    S: OnboardingStore + InterfaceStore + NotificationStore + UserStore + ?Sized,
{
    let (to, now) = (event.to, event.at);
    let from = event
        .from
        .ok_or_else(|| crate::StoreError::Conflict("a move names its stage".into()))?;
    s.move_onboarding(clinic, from, event)?;
    if to.stores_messages() {
        InterfaceStore::set_interface_status(s, clinic, InterfaceStatus::Production, now)?;
    } else if method == Method::EhrHl7 {
        InterfaceStore::set_interface_status(s, clinic, InterfaceStatus::Qa, now)?;
    }
    let message = if event.notes.is_empty() {
        format!("Onboarding: {}. Next: {}", to.label(), to.next_step())
    } else {
        format!("Onboarding: {} — {}", to.label(), event.notes)
    };
    super::notifications::notify_clinic(
        s,
        clinic,
        Action::ClinicToolsEdit,
        NotificationKind::Onboarding,
        &message,
        "/onboarding",
        now,
    )
    .map_err(|e| match e {
        UseCaseError::Store(e) => e,
        other => crate::StoreError::Conflict(other.to_string()),
    })?;
    Ok(())
}

/// What an interface saw of clinic `clinic` (a connection with its credentials, a QA
/// message, a finished legacy import) moves its onboarding on by itself
/// (`ctwiz_core::onboarding::moved_by`); each move is recorded as by the interface on
/// behalf of `actor`, notified and audited. Called by the interface use cases after the
/// exchange that proves it; a clinic with no onboarding, or waiting for something else,
/// is left as it is. Returns the stages moved to.
pub fn seen<S>(
    store: &S,
    actor: &Actor,
    clinic: &ClinicPin,
    seen: onboarding::Seen,
    now: NaiveDateTime,
) -> Result<Vec<Stage>, crate::StoreError>
where
    S: OnboardingStore + InterfaceStore + NotificationStore + UserStore + AuditStore,
{
    let Some(o) = store.onboarding(clinic)? else {
        return Ok(Vec::new());
    };
    let moves = onboarding::moved_by(o.application.method, o.stage, seen);
    if moves.is_empty() {
        return Ok(moves);
    }
    let by = format!("{} ({})", actor.label(), seen.label());
    InterfaceStore::atomically(store, |s| {
        // Read again inside the transaction: another message may have moved it.
        let Some(o) = s.onboarding(clinic)? else {
            return Ok(Vec::new());
        };
        let moves = onboarding::moved_by(o.application.method, o.stage, seen);
        let mut from = o.stage;
        for to in &moves {
            let event = StageEvent {
                at: now,
                by: by.clone(),
                from: Some(from),
                to: *to,
                notes: String::new(),
            };
            record_move(s, clinic, o.application.method, &event)?;
            s.audit(&super::audit_entry(
                actor,
                None,
                AuditAction::Update,
                now,
                format!(
                    "onboarding of {clinic}: {} → {} ({})",
                    from.label(),
                    to.label(),
                    seen.label()
                ),
            ))?;
            from = *to;
        }
        Ok(moves)
    })
}

/// The Notice to Patients about reporting, once the clinic reports.
pub fn patient_notice<S>(
    store: &S,
    actor: &Actor,
    clinic: &ClinicPin,
    now: NaiveDateTime,
) -> Result<String, UseCaseError>
where
    S: OnboardingStore + InterfaceStore + OrgStore + AuditStore + ?Sized,
{
    let (o, _) = show(store, actor, clinic, now)?;
    if !o.stage.is_live() {
        return Err(UseCaseError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "the notice is handed out once the clinic is live; it is at \"{}\"",
            o.stage.label()
        ))));
    }
    let name = store
        .clinic(clinic)?
        .map(|c| c.name)
        .unwrap_or_else(|| clinic.to_string());
    Ok(onboarding::patient_notice(&name))
}
