//! Scheduled distributions: the state's monthly compliancy list and yearly two-year-old
//! clean-up, one copy per practice and period, each delivered as a Task Module item, a
//! notification and an e-mail notice to the practice's users who run reports. A second
//! run, or a second server process running at the same moment, sends nothing
//! (`DistributionStore::claim_distribution`).

use super::actors::permit;
use super::inventory::{clinic, permit_at};
use super::{audit_entry, not_found, UseCaseError};
use crate::clinic_info::{NotificationKind, NotificationStore};
use crate::distributions::{Distribution, DistributionStore};
use crate::traits::{Atomic, AuditAction, AuditStore, OrgStore, PatientStore, UserStore};
use crate::web::WebStore;
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_core::assessment::distribution::{self, DistributionKind, Period};

/// Children per streamed chunk.
const CHUNK: usize = 2_000;

/// What a run reads and writes: the children, practices and their users, the copies,
/// notifications, e-mails and the audit log.
pub trait Distributing:
    PatientStore
    + OrgStore
    + UserStore
    + NotificationStore
    + WebStore
    + DistributionStore
    + AuditStore
    + Atomic
{
}

impl<T> Distributing for T where
    T: PatientStore
        + OrgStore
        + UserStore
        + NotificationStore
        + WebStore
        + DistributionStore
        + AuditStore
        + Atomic
{
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub kind: DistributionKind,
    pub period: String,
    /// Practices with at least one child on the list.
    pub practices: usize,
    /// Of those, how many received it in this run (the others already had it).
    pub sent: usize,
    pub children: usize,
}

/// Distributes `kind` for the period named `period` (`None`: the current one on
/// `now`) to every practice with children on it. Needs the state's clinic management.
pub fn run<S>(
    store: &S,
    actor: &Actor,
    ctx: &Context<'_>,
    kind: DistributionKind,
    period: Option<&str>,
    now: NaiveDateTime,
) -> Result<RunSummary, UseCaseError>
where
    S: Distributing,
{
    permit(
        store,
        actor,
        Action::ClinicManage,
        now,
        "distribute reports",
    )?;
    let period = match period {
        Some(p) => Period::parse(kind, p, now.date())?,
        None => Period::current(kind, now.date()),
    };
    let lists = distribution::lists(ctx, &period, |f| {
        store.for_each_chunk(Some(period.born()), CHUNK, &mut |c| {
            f(c);
            Ok(())
        })
    })?;
    let users = store.users()?;
    let mut summary = RunSummary {
        kind,
        period: period.key.clone(),
        practices: 0,
        sent: 0,
        children: 0,
    };
    for (pin, rows) in &lists {
        let Some(practice) = store.clinic(pin)? else {
            continue;
        };
        summary.practices += 1;
        summary.children += rows.len();
        let sent = store.atomically(|s| {
            let Some(id) = s.claim_distribution(kind, &period.key, pin, rows, now)? else {
                return Ok(false);
            };
            let what = format!(
                "{} {} for {} ({}): {} child(ren)",
                kind.label(),
                period.key,
                practice.name,
                pin,
                rows.len()
            );
            let link = format!("/reports/distributed/{id}");
            for (uid, u) in
                super::notifications::at_clinic_who_may(&users, pin, Action::ReportCoverage)
            {
                s.notify(uid, NotificationKind::Report, &what, &link, now)?;
                s.queue_email(
                    &u.email,
                    &format!("CT WiZ: {} {}", kind.label(), period.key),
                    &format!(
                        "{what} is ready in CT WiZ under Tasks and Reports ({link}).\n\nSign in to see the children and what each is missing.\n\nConnecticut Department of Public Health, Immunization Program"
                    ),
                    now,
                )?;
            }
            s.audit(&audit_entry(
                actor,
                None,
                AuditAction::Read,
                now,
                format!("distributed {what} (distribution {id})"),
            ))?;
            Ok::<_, crate::StoreError>(true)
        })?;
        summary.sent += usize::from(sent);
    }
    store.finish_distribution_run(kind, &period.key, now)?;
    Ok(summary)
}

/// Runs `kind` for its current period unless that run already finished (the server's
/// scheduler calls this on every tick; the work is done once).
pub fn run_if_due<S>(
    store: &S,
    actor: &Actor,
    ctx: &Context<'_>,
    kind: DistributionKind,
    now: NaiveDateTime,
) -> Result<Option<RunSummary>, UseCaseError>
where
    S: Distributing,
{
    let period = Period::current(kind, now.date());
    if store.distribution_run_finished(kind, &period.key)? {
        return Ok(None);
    }
    run(store, actor, ctx, kind, Some(&period.key), now).map(Some)
}

/// The acting practice's distributed reports, newest first.
pub fn list<S: DistributionStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Distribution>, UseCaseError> {
    permit(
        store,
        actor,
        Action::ReportCoverage,
        now,
        "distributed reports",
    )?;
    match actor.clinic() {
        Some(pin) => Ok(store.distributions(pin)?),
        None => Ok(Vec::new()),
    }
}

/// How many of the acting practice's distributed reports nobody opened yet.
pub fn unopened<S: DistributionStore + ?Sized>(
    store: &S,
    actor: &Actor,
) -> Result<usize, UseCaseError> {
    match actor.clinic() {
        Some(pin) if actor.may(Action::ReportCoverage) => Ok(store.unopened_distributions(pin)?),
        _ => Ok(0),
    }
}

/// Opens distribution `id` (reports at its practice), marking it opened; audited.
pub fn open<S: DistributionStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<Distribution, UseCaseError> {
    let d = store
        .distribution(id)?
        .ok_or_else(|| not_found("distributed report", id))?;
    permit_at(
        store,
        actor,
        &clinic(store, &d.clinic)?,
        Action::ReportCoverage,
        now,
    )?;
    store.mark_distribution_opened(id, now)?;
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!(
            "opened distributed {} {} for {} ({} children)",
            d.kind.key(),
            d.period,
            d.clinic,
            d.children.len()
        ),
    ))?;
    Ok(d)
}
