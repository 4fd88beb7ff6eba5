//! Program agreements below the doors: the signing physician signs for the clinic they
//! act for (`ClinicAgreementSign`), Clinic Tools shows the clinic's status
//! (`ClinicToolsView`), the state lists the clinics without a current agreement
//! (`ClinicManage`). Ordering public vaccine asks [`may_order`] (see
//! `usecase::inventory::create_order`).

use super::actors::permit;
use super::inventory::clinic_for;
use super::{audited, UseCaseError};
use crate::agreements::AgreementStore;
use crate::traits::{Atomic, AuditAction, AuditStore, OrgStore};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::agreement::{self, Program, Signature};
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::org::Clinic;
use ctwiz_core::CoreError;

/// The physician signs `program`'s (`cvp` or `cvfa`) current agreement for clinic `pin`
/// (a clinic user: the clinic they act for): `typed_name` is the signature, `agreed` the
/// "I agree" box. The input is read only after the permission check. Stored with its
/// audit row.
pub fn sign<S: AgreementStore + OrgStore + AuditStore + Atomic>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    program: &str,
    typed_name: &str,
    agreed: bool,
    now: NaiveDateTime,
) -> Result<Signature, UseCaseError> {
    let clinic = clinic_for(store, actor, pin, Action::ClinicAgreementSign, now)?;
    let program = Program::parse(program)?;
    let s = Signature::new(&clinic, program, typed_name, agreed, &actor.label(), now)?;
    let detail = format!(
        "{} agreement {} signed for {} by typed name {:?}",
        program.key(),
        s.version,
        pin,
        s.typed_name
    );
    audited(store, actor, None, AuditAction::Create, now, detail, |st| {
        st.add_signature(&s)
    })?;
    Ok(s)
}

/// A clinic's agreement status: per program, the newest signature and whether it is
/// current on `today`; `may_order` when every program the clinic is enrolled in has a
/// current agreement.
#[derive(Debug, Clone)]
pub struct Status {
    pub clinic: Clinic,
    pub programs: Vec<(Program, Option<Signature>, bool)>,
    pub may_order: bool,
}

impl Status {
    /// The enrolled programs without a current agreement.
    pub fn missing(&self) -> Vec<Program> {
        self.programs
            .iter()
            .filter(|(p, _, current)| self.clinic.program.enrolled(*p) && !current)
            .map(|(p, ..)| *p)
            .collect()
    }
}

fn status_of(clinic: Clinic, signatures: &[Signature], today: NaiveDate) -> Status {
    let programs = Program::ALL
        .into_iter()
        .map(|p| {
            let latest = agreement::latest(signatures, p).cloned();
            let current = latest.as_ref().is_some_and(|s| s.is_current(today));
            (p, latest, current)
        })
        .collect();
    let may_order = clinic
        .program
        .programs()
        .into_iter()
        .all(|p| agreement::may_order(signatures, p, today));
    Status {
        may_order: clinic.program.is_public() && may_order,
        clinic,
        programs,
    }
}

/// The agreement status of clinic `pin` (`ClinicToolsView` there).
pub fn status<S: AgreementStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    now: NaiveDateTime,
) -> Result<Status, UseCaseError> {
    let clinic = clinic_for(store, actor, pin, Action::ClinicToolsView, now)?;
    let signatures = store.signatures(Some(pin))?;
    Ok(status_of(clinic, &signatures, now.date()))
}

/// For the state (`ClinicManage`): every active public-program clinic missing a current
/// agreement of a program it is enrolled in, by name — the clinics that may not order
/// that program's vaccine until their physician signs.
pub fn flagged<S: AgreementStore + OrgStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Status>, UseCaseError> {
    permit(
        store,
        actor,
        Action::ClinicManage,
        now,
        "list program agreements",
    )?;
    let all = store.signatures(None)?;
    let mut out: Vec<Status> = store
        .clinics()?
        .into_iter()
        .filter(|c| c.active && c.program.is_public())
        .map(|c| {
            let mine: Vec<Signature> = all.iter().filter(|s| s.clinic == c.pin).cloned().collect();
            status_of(c, &mine, now.date())
        })
        .filter(|s| !s.may_order)
        .collect();
    out.sort_by(|a, b| a.clinic.name.cmp(&b.clinic.name));
    Ok(out)
}

/// Refuses an order of `program`'s vaccine by a clinic without that program's current
/// agreement.
pub fn may_order<S: AgreementStore + ?Sized>(
    store: &S,
    clinic: &Clinic,
    program: Program,
    today: NaiveDate,
) -> Result<(), UseCaseError> {
    if agreement::may_order(&store.signatures(Some(&clinic.pin))?, program, today) {
        return Ok(());
    }
    Err(UseCaseError::Invalid(CoreError::Rule(format!(
        "{} ({}) has no current {} agreement: the clinic's signing physician signs the {} agreement in Clinic Tools before {} vaccine can be ordered",
        clinic.name,
        clinic.pin,
        program.short(),
        program.short(),
        program.short()
    ))))
}
