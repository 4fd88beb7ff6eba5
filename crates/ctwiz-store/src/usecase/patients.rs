//! Opening a patient's record: the one PHI read every door goes through, and the check
//! every change to a record starts with.

use super::{not_found, UseCaseError};
use crate::traits::{Atomic, AuditAction, AuditStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, PatientScope};
use ctwiz_core::actor::{authorize_on_patient, Actor, Authorized};
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;

pub use super::audit_entry;
use super::audit_refusal;

/// Loads patient `id` and asks the matrix for `action` on it (the record's county,
/// reporting clinics and confidentiality). A refusal is audited ([`AuditAction::Denied`],
/// naming `purpose`); only then is a merged record refused, naming the survivor (that a
/// record was merged is itself a fact about the person). Writes no row on success: a
/// change's own row says what changed.
pub fn authorize<'a, S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    id: PatientId,
    action: Action,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<(Authorized<'a>, Patient), UseCaseError> {
    let p = store
        .patient(id)?
        .ok_or_else(|| super::not_found("patient", id))?;
    let proof = permit_on(store, actor, &p, id, action, now, purpose)?;
    if let Some(into) = store.merged_into(id)? {
        return Err(UseCaseError::Merged { id, into });
    }
    Ok((proof, p))
}

/// The matrix's answer for `action` on stored record `p` (its county, reporting clinics
/// and confidentiality), a refusal audited on the record naming `purpose`.
pub(crate) fn permit_on<'a, S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    p: &Patient,
    id: PatientId,
    action: Action,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<Authorized<'a>, UseCaseError> {
    let rel = Relations::of(store, id)?;
    let places = store.places()?;
    audit_refusal(
        store,
        actor,
        Some(id),
        now,
        |d| format!("{purpose}: {d}"),
        authorize_on_patient(actor, rel.scope(places.locate(p), p.confidential), action),
    )
}

/// What the matrix needs to know about record `id` beyond its own fields: the clinics
/// that reported it, and the schools whose roster lists it.
struct Relations {
    clinics: Vec<ctwiz_core::ids::ClinicPin>,
    rostered: Vec<ctwiz_core::ids::ClinicPin>,
}

impl Relations {
    fn of<S: PatientStore + ?Sized>(store: &S, id: PatientId) -> Result<Self, UseCaseError> {
        Ok(Relations {
            clinics: store.patient_clinics(id)?,
            rostered: store.patient_rosters(id)?,
        })
    }

    fn scope<'a>(
        &'a self,
        at: ctwiz_core::place::Location<'a>,
        confidential: bool,
    ) -> PatientScope<'a> {
        PatientScope {
            at,
            clinics: &self.clinics,
            confidential,
            rostered: &self.rostered,
        }
    }
}

/// The records someone names exactly (`Patient::is_exactly`: names and birth date) that
/// a registry may show without search rights: not merged away, not opted out, not
/// confidential. Used where there is no search (a school nurse's roster, the portal);
/// two results mean the name is ambiguous and the callers open neither.
pub(crate) fn named_exactly<S: PatientStore + ?Sized>(
    store: &S,
    given: &str,
    family: &str,
    dob: chrono::NaiveDate,
) -> crate::Result<Vec<Patient>> {
    /// Most records a name and birth date are checked against (the same names and birth
    /// date are rare; more than one is refused anyway).
    const CANDIDATES: u32 = 20;
    let page = store.search_patients(&crate::traits::PatientQuery {
        family: Some(family.trim().to_string()),
        given: Some(given.trim().to_string()),
        dob: Some(dob),
        limit: CANDIDATES,
        ..Default::default()
    })?;
    let mut found = Vec::new();
    for row in page.rows {
        if row.opted_out || row.confidential || store.merged_into(row.id)?.is_some() {
            continue;
        }
        if let Some(mut p) = store.patient(row.id)? {
            if p.is_exactly(given, family, dob) {
                p.id = Some(row.id);
                found.push(p);
            }
        }
    }
    Ok(found)
}

/// Which of `actions` the actor may do on record `p` (id `id`), for a page to offer only
/// those; asks the same matrix as [`authorize`], audits nothing (nothing is disclosed).
pub fn allowed_on<S: PatientStore + ?Sized, const N: usize>(
    store: &S,
    actor: &Actor,
    id: PatientId,
    p: &Patient,
    actions: [Action; N],
) -> Result<[bool; N], UseCaseError> {
    let rel = Relations::of(store, id)?;
    let places = store.places()?;
    let scope = rel.scope(places.locate(p), p.confidential);
    Ok(actions.map(|a| authorize_on_patient(actor, scope, a).is_ok()))
}

/// Loads patient `id` for `action` (view, edit, record a dose, print) and writes one
/// audit row naming `purpose` (the page or command that read it): opening a record,
/// even to change it, is a disclosure (a print is audited as a print).
pub fn open<'a, S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    id: PatientId,
    action: Action,
    now: NaiveDateTime,
    purpose: &str,
) -> Result<(Authorized<'a>, Patient), UseCaseError> {
    let opened = authorize(store, actor, id, action, now, purpose)?;
    let kind = if action == Action::CertificatePrint {
        AuditAction::Print
    } else {
        AuditAction::Read
    };
    store.audit(&audit_entry(
        actor,
        Some(id),
        kind,
        now,
        purpose.to_string(),
    ))?;
    Ok(opened)
}

/// Searches patients for `actor`: `PatientSearch` in the acting scope; a health department
/// searches only residents of its jurisdiction; a confidential record is listed only to
/// those who may view it. The search (its criteria, not its results) is audited. Returns
/// the rows shown and the store's total for paging.
pub fn search<S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    mut query: crate::traits::PatientQuery,
    now: NaiveDateTime,
) -> Result<(Vec<crate::traits::PatientSummary>, u64), UseCaseError> {
    let criteria = format!(
        "search family={:?} given={:?} dob={:?} mrn={:?} id={:?}",
        query.family.as_deref().unwrap_or(""),
        query.given.as_deref().unwrap_or(""),
        query.dob.map(|d| d.to_string()).unwrap_or_default(),
        query.mrn.as_deref().unwrap_or(""),
        query.id.map(|i| i.to_string()).unwrap_or_default(),
    );
    super::actors::permit(store, actor, Action::PatientSearch, now, &criteria)?;
    let places = store.places()?;
    match &actor.acting {
        ctwiz_core::actor::Acting::Jurisdiction(ctwiz_core::place::Jurisdiction::County(c)) => {
            query.counties = Some(vec![*c]);
        }
        ctwiz_core::actor::Acting::Jurisdiction(j) => {
            query.towns = Some(places.towns_of(j).into_iter().map(str::to_string).collect());
        }
        _ => {}
    }
    let page = store.search_patients(&query)?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for r in page.rows {
        if r.confidential {
            let rel = Relations::of(store, r.id)?;
            let Some(p) = store.patient(r.id)? else {
                continue;
            };
            let scope = rel.scope(places.locate(&p), true);
            if authorize_on_patient(actor, scope, Action::PatientView).is_err() {
                continue;
            }
        }
        rows.push(r);
    }
    store.audit(&audit_entry(actor, None, AuditAction::Read, now, criteria))?;
    Ok((rows, page.total))
}

/// How many patients "recently viewed" lists, and how far back it looks.
pub const RECENT_PATIENTS: usize = 8;
const RECENT_DAYS: i64 = 30;

/// The patients whose record the actor opened lately through this door and for this
/// clinic (their own audit rows, newest first), for the home page. A record the actor
/// may no longer view (made confidential, taken off the roster, merged away) is left
/// out. Listing them again is audited as one read naming the ids.
pub fn recently_viewed<S: PatientStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Patient>, UseCaseError> {
    let rows = store.audit_query(&crate::traits::AuditFilter {
        actor: Some(actor.label()),
        since: Some(now - chrono::Duration::days(RECENT_DAYS)),
        limit: 500,
        ..Default::default()
    })?;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for id in rows
        .iter()
        .filter(|e| matches!(e.action, AuditAction::Read | AuditAction::Print))
        .filter_map(|e| e.patient)
    {
        if out.len() == RECENT_PATIENTS || seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(mut p) = store.patient(id)? else {
            continue;
        };
        if store.merged_into(id)?.is_some()
            || !allowed_on(store, actor, id, &p, [Action::PatientView])?[0]
        {
            continue;
        }
        p.id = Some(id);
        out.push(p);
    }
    if !out.is_empty() {
        let ids: Vec<String> = out
            .iter()
            .filter_map(|p| p.id)
            .map(|i| i.to_string())
            .collect();
        store.audit(&audit_entry(
            actor,
            None,
            AuditAction::Read,
            now,
            format!("recently viewed list: patients {}", ids.join(", ")),
        ))?;
    }
    Ok(out)
}

/// Adds patient `p` (the web's add-patient form): `PatientEdit` in the acting scope, a
/// record valid on `now`, the record and its audit row in one transaction.
pub fn create<S: PatientStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    p: &Patient,
    now: NaiveDateTime,
) -> Result<PatientId, UseCaseError> {
    super::actors::permit(store, actor, Action::PatientEdit, now, "add a patient")?;
    p.validate(now.date())?;
    Ok(store.atomically(|s| {
        let id = s.create_patient(p)?;
        s.audit(&audit_entry(
            actor,
            Some(id),
            AuditAction::Create,
            now,
            "patient added".into(),
        ))?;
        Ok(id)
    })?)
}

/// Replaces patient `after.id`'s demographics with `after`: `PatientEdit` on the stored
/// record, the core rules for the change (`Patient::change_note`: a confidentiality change
/// needs `confidentiality_reason`), the update and its audit row (saying what changed in
/// confidentiality and opt-out) in one transaction.
pub fn update<S: PatientStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    after: &Patient,
    confidentiality_reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    let id = after
        .id
        .ok_or_else(|| not_found("patient", "(a record without an id)"))?;
    let (_, before) = authorize(
        store,
        actor,
        id,
        Action::PatientEdit,
        now,
        "edit demographics",
    )?;
    let note = before.change_note(after, confidentiality_reason, now.date())?;
    Ok(store.atomically(|s| {
        s.update_patient(after)?;
        s.audit(&audit_entry(
            actor,
            Some(id),
            AuditAction::Update,
            now,
            note,
        ))
    })?)
}
