//! IAP outreach, the same for every door: a practice refers a child who is behind to the
//! IAP area of the child's town; the area's coordinators are told, work the referral
//! (attempts) and close it with an outcome. Every step is authorized on the child's
//! record and audited with its change in one transaction.

use super::{audit_entry, audited, UseCaseError};
use crate::clinic_info::{NotificationKind, NotificationStore};
use crate::outreach::{NewReferral, OutreachStore, ReferralFilter};
use crate::traits::{Atomic, AuditAction, AuditStore, PatientStore, UserStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, Scope};
use ctwiz_core::actor::{Acting, Actor, Denied};
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::outreach::{self, Attempt, AttemptMethod, Outcome, Referral};
use ctwiz_core::patient::PatientStatus;
use ctwiz_core::place::Jurisdiction;

/// Refers child `patient` to the IAP area of their town, for the practice the actor acts
/// for (the state names the practice with `for_clinic`). `reason` says what is missing.
/// Refused when the child already has an open referral or lives in no IAP area. The
/// area's coordinators are notified. Returns the referral's id.
pub fn refer<S>(
    store: &S,
    actor: &Actor,
    patient: PatientId,
    for_clinic: Option<&ClinicPin>,
    reason: &str,
    now: NaiveDateTime,
) -> Result<i64, UseCaseError>
where
    S: PatientStore + AuditStore + OutreachStore + NotificationStore + UserStore + Atomic,
{
    let (_, p) = super::patients::authorize(
        store,
        actor,
        patient,
        Action::ReferralCreate,
        now,
        "refer to IAP",
    )?;
    let clinic = super::actors::clinic_for(actor, for_clinic, "a referral")?;
    let reason = outreach::note("reason", reason)?;
    if reason.is_empty() {
        return Err(ctwiz_core::CoreError::Empty { field: "reason" }.into());
    }
    let places = store.places()?;
    let area = outreach::area_for(places.locate(&p).iap_area, patient)?;
    outreach::check_no_open(store.open_referral_for(patient)?.as_ref())?;
    let jurisdiction = Jurisdiction::IapArea(area.clone());
    audited(
        store,
        actor,
        Some(patient),
        AuditAction::Create,
        now,
        format!("referred to {area} by {clinic}: {reason}"),
        |s| {
            let id = s.create_referral(&NewReferral {
                patient,
                clinic: clinic.clone(),
                iap_area: area.clone(),
                reason: reason.clone(),
                referred_by: actor.label(),
                referred_at: now,
            })?;
            for u in s.users()? {
                let works_here = u.grants.iter().any(|g| {
                    g.scope == Scope::Jurisdiction(jurisdiction.clone())
                        && g.role.allows(Action::ReferralWork)
                });
                if let (true, Some(uid)) = (works_here, u.id) {
                    s.notify(
                        uid,
                        NotificationKind::Referral,
                        &format!("New referral {id} from {clinic}: a child behind on {reason}"),
                        "/outreach",
                        now,
                    )?;
                }
            }
            Ok(id)
        },
    )
}

/// The referrals the actor works or made: an IAP coordinator its area's, a practice its
/// own, the state every one. Listing names children, so it is audited as a read.
pub fn list<S>(
    store: &S,
    actor: &Actor,
    open_only: bool,
    now: NaiveDateTime,
) -> Result<Vec<Referral>, UseCaseError>
where
    S: OutreachStore + AuditStore + ?Sized,
{
    let filter = match &actor.acting {
        Acting::State if actor.may(Action::ReferralWork) => ReferralFilter::default(),
        Acting::Jurisdiction(Jurisdiction::IapArea(a)) if actor.may(Action::ReferralWork) => {
            ReferralFilter {
                iap_area: Some(a.clone()),
                ..Default::default()
            }
        }
        Acting::Clinic { pin, .. } if actor.may(Action::ReferralCreate) => ReferralFilter {
            clinic: Some(pin.clone()),
            ..Default::default()
        },
        _ => {
            super::actors::permit(store, actor, Action::ReferralWork, now, "IAP referrals")?;
            return Err(Denied::OutOfScope(Action::ReferralWork).into());
        }
    };
    let filter = ReferralFilter {
        open_only,
        ..filter
    };
    let rows = store.referrals(&filter)?;
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("IAP referrals listed ({} shown)", rows.len()),
    ))?;
    Ok(rows)
}

/// The referral `id` for working it: it exists, the actor may work the child's record
/// (an IAP coordinator: children living in its area), and it is still open.
fn open_for_work<S>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<Referral, UseCaseError>
where
    S: PatientStore + AuditStore + OutreachStore + ?Sized,
{
    let r = store
        .referral(id)?
        .ok_or_else(|| super::not_found("referral", id))?;
    super::patients::authorize(store, actor, r.patient, Action::ReferralWork, now, purpose)?;
    outreach::check_open(&r)?;
    Ok(r)
}

/// Records an attempt to reach the family of referral `id`.
pub fn record_attempt<S>(
    store: &S,
    actor: &Actor,
    id: i64,
    method: AttemptMethod,
    note: &str,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: PatientStore + AuditStore + OutreachStore + Atomic,
{
    let r = open_for_work(store, actor, id, now, "IAP referral attempt")?;
    let attempt = Attempt {
        at: now,
        by: actor.label(),
        method,
        note: outreach::note("note", note)?,
    };
    audited(
        store,
        actor,
        Some(r.patient),
        AuditAction::Update,
        now,
        format!("referral {id}: {}", method.label()),
        |s| s.add_referral_attempt(id, &attempt),
    )
}

/// Closes referral `id` with its outcome. A child who moved out of state is marked
/// "moved or gone elsewhere" in the same transaction, so reports and recall stop
/// counting them.
pub fn close<S>(
    store: &S,
    actor: &Actor,
    id: i64,
    outcome: Outcome,
    note: &str,
    now: NaiveDateTime,
) -> Result<(), UseCaseError>
where
    S: PatientStore + AuditStore + OutreachStore + Atomic,
{
    let r = open_for_work(store, actor, id, now, "IAP referral outcome")?;
    let note = outreach::note("note", note)?;
    audited(
        store,
        actor,
        Some(r.patient),
        AuditAction::Update,
        now,
        format!("referral {id} closed: {}", outcome.label()),
        |s| {
            s.close_referral(id, outcome, &note, &actor.label(), now)?;
            if outcome == Outcome::MovedOutOfState {
                if let Some(mut p) = s.patient(r.patient)? {
                    p.status = PatientStatus::MovedOrGoneElsewhere;
                    s.update_patient(&p)?;
                }
            }
            Ok(())
        },
    )
}
