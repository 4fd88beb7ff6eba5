//! The public portal: a parent or patient, without an account, proves by a one-time code
//! sent to a contact already on the record that they may see it, then for
//! [`VIEW_TTL`](ctwiz_core::portal::VIEW_TTL) sees the history, the Recommender summary
//! and the official certificates. The rules are `ctwiz_core::portal`'s; this module
//! keeps the challenges, sends the codes and audits every step on channel `portal`.
//!
//! A search answers the same whether or not it matched: it always returns a challenge
//! token, and a non-matching search's challenge simply never opens.

use super::certificates::{self, IssueRequest, Issued};
use super::UseCaseError;
use crate::certificate::ShcKeyStore;
use crate::portal::{PortalStore, PortalVisit};
use crate::secret::{random_token, same_secret, token_hash};
use crate::traits::{
    Atomic, AuditAction, AuditEntry, AuditStore, DoseStore, Interface, PatientStore,
};
use crate::web::WebStore;
use chrono::NaiveDateTime;
use ctwiz_core::certificate::{Certificate, CertificateKind};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::ids::{Email, PatientId, Phone};
use ctwiz_core::patient::Patient;
use ctwiz_core::portal::{
    self as rules, judge, ContactKind, PortalSearch, Verdict, CODES_PER_RECORD, RECORD_WINDOW,
    VIEW_TTL,
};
use rand::Rng;

/// The audit row of a portal step. The actor is the person at the portal, known only by
/// the challenge they hold.
fn entry(
    who: &str,
    patient: Option<PatientId>,
    action: AuditAction,
    now: NaiveDateTime,
    detail: String,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: format!("portal:{who}"),
        patient,
        action,
        interface: Interface::Portal,
        clinic: None,
        detail,
    }
}

/// What the code's hash binds: the code and the challenge's own token, so a code read
/// from an outbox is useless without the browser that asked for it.
fn code_hash(token: &str, code: &str) -> String {
    token_hash(&format!("{token}:{code}"))
}

/// The one record the search names, if exactly one reachable record matches and it has
/// a contact of the kind asked for.
fn find<S: PatientStore + ?Sized>(
    store: &S,
    search: &PortalSearch,
) -> crate::Result<Option<(Patient, Vec<String>)>> {
    let mut found: Vec<Patient> =
        super::patients::named_exactly(store, &search.given, &search.family, search.dob)?
            .into_iter()
            .filter(|p| search.matches(p) && rules::reachable(p))
            .collect();
    // Two records with the same names and birth date (unmerged duplicates, or twins with
    // one name): the portal cannot tell which the searcher means, so it opens neither.
    if found.len() != 1 {
        return Ok(None);
    }
    let p = found.remove(0);
    let to = rules::contacts(&p, search.via);
    Ok((!to.is_empty()).then_some((p, to)))
}

/// Answers a portal search: always a fresh challenge token for the searcher's browser.
/// When exactly one reachable record matches, has a contact of the kind asked for and
/// has had fewer than [`CODES_PER_RECORD`] codes in the last hour, a 6-digit code goes
/// to its contacts of that kind (text outbox or e-mail outbox); otherwise nothing is
/// sent and the challenge never opens. Both outcomes are audited.
pub fn request_code<S>(
    store: &S,
    search: &PortalSearch,
    now: NaiveDateTime,
) -> Result<String, UseCaseError>
where
    S: PatientStore + PortalStore + WebStore + AuditStore + Atomic,
{
    let token = random_token();
    let who = format!("search via {}", search.via.key());
    let criteria = format!(
        "portal search given={:?} family={:?} dob={}",
        search.given, search.family, search.dob
    );
    store.atomically(|s| {
        // Sweep what no limit or visit needs any more; a search is a natural moment.
        s.expire_portal(now - RECORD_WINDOW)?;
        let Some((p, to)) = find(s, search)? else {
            s.add_challenge(&token_hash(&token), None, search.via, "", now)?;
            s.audit(&entry(
                &who,
                None,
                AuditAction::Read,
                now,
                format!("{criteria}: no single reachable record with that contact; no code sent"),
            ))?;
            return Ok(());
        };
        let id = p.id.expect("a stored record has an id");
        if s.codes_sent_since(id, now - RECORD_WINDOW)? >= CODES_PER_RECORD {
            s.add_challenge(&token_hash(&token), None, search.via, "", now)?;
            s.audit(&entry(
                &who,
                Some(id),
                AuditAction::Denied,
                now,
                format!(
                    "portal code not sent: {CODES_PER_RECORD} codes were sent for this record in the last hour"
                ),
            ))?;
            return Ok(());
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        s.add_challenge(
            &token_hash(&token),
            Some(id),
            search.via,
            &code_hash(&token, &code),
            now,
        )?;
        let (subject, body) = rules::code_message(&code);
        for contact in &to {
            match search.via {
                ContactKind::Text => {
                    s.queue_text(&Phone::new(contact)?, &body, now)?;
                }
                ContactKind::Email => {
                    s.queue_email(&Email::new(contact)?, &subject, &body, now)?;
                }
            }
        }
        let masked: Vec<String> = to.iter().map(|c| rules::masked(c, search.via)).collect();
        s.audit(&entry(
            &who,
            Some(id),
            AuditAction::Read,
            now,
            format!(
                "portal verification code sent by {} to {}",
                search.via.key(),
                masked.join(", ")
            ),
        ))?;
        Ok(())
    })?;
    Ok(token)
}

/// What entering a code came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// The record is open: `token` is the visit's bearer token (a cookie), valid until
    /// `visit.expires_at`.
    Opened {
        token: String,
        visit: PortalVisit,
    },
    Wrong {
        left: u32,
    },
    Locked,
    /// Expired, used already, or never issued: start again.
    Expired,
}

/// Checks `code` against the challenge `challenge_token` names, counting wrong tries
/// (5 lock it) in one transaction, so tries sent at once are counted one by one.
pub fn verify<S>(
    store: &S,
    challenge_token: &str,
    code: &str,
    now: NaiveDateTime,
) -> Result<Verification, UseCaseError>
where
    S: PortalStore + AuditStore + Atomic,
{
    let code = code.trim();
    Ok(store.atomically(|s| {
        let Some(c) = s.challenge(&token_hash(challenge_token))? else {
            return Ok(Verification::Expired);
        };
        let right = c.patient.is_some()
            && !c.code_hash.is_empty()
            && same_secret(&c.code_hash, &code_hash(challenge_token, code));
        let who = format!("challenge {}", c.id);
        match judge(&c.state, right, now) {
            Verdict::Expired => Ok(Verification::Expired),
            Verdict::Open => {
                let patient = c.patient.expect("only a challenge with a record opens");
                s.use_challenge(c.id, now)?;
                let token = random_token();
                let visit = PortalVisit {
                    patient,
                    challenge: c.id,
                    expires_at: now + VIEW_TTL,
                };
                s.add_visit(&token_hash(&token), &visit, now)?;
                s.audit(&entry(
                    &who,
                    Some(patient),
                    AuditAction::SignIn,
                    now,
                    format!(
                        "portal code verified by {}; record open for 15 minutes",
                        c.via.key()
                    ),
                ))?;
                Ok(Verification::Opened { token, visit })
            }
            Verdict::Wrong { left } => {
                s.set_challenge_tries(c.id, c.state.tries + 1)?;
                Ok(Verification::Wrong { left })
            }
            Verdict::Locked => {
                if c.state.tries < rules::MAX_TRIES {
                    s.set_challenge_tries(c.id, c.state.tries + 1)?;
                    s.audit(&entry(
                        &who,
                        c.patient,
                        AuditAction::Lockout,
                        now,
                        format!(
                            "portal verification locked after {} wrong codes",
                            rules::MAX_TRIES
                        ),
                    ))?;
                }
                Ok(Verification::Locked)
            }
        }
    })?)
}

/// The open visit `visit_token` names at `now`, or a refusal that says to start again.
pub fn visit<S: PortalStore + ?Sized>(
    store: &S,
    visit_token: &str,
    now: NaiveDateTime,
) -> Result<PortalVisit, UseCaseError> {
    match store.visit(&token_hash(visit_token))? {
        Some(v) if now <= v.expires_at => Ok(v),
        _ => Err(UseCaseError::PortalClosed),
    }
}

/// Ends the visit (the "Done" button).
pub fn end<S: PortalStore + ?Sized>(store: &S, visit_token: &str) -> Result<(), UseCaseError> {
    Ok(store.end_visit(&token_hash(visit_token))?)
}

/// The record of an open visit, re-checked at every view: a record opted out, made
/// confidential or merged since the code was sent is no longer shown.
fn open_record<S: PatientStore + ?Sized>(
    store: &S,
    v: &PortalVisit,
) -> Result<Patient, UseCaseError> {
    let p = store
        .patient(v.patient)?
        .ok_or(UseCaseError::PortalClosed)?;
    if !rules::reachable(&p) || store.merged_into(v.patient)?.is_some() {
        return Err(UseCaseError::PortalClosed);
    }
    Ok(p)
}

/// What the portal shows of a record: the history as the official record lists it (by
/// vaccine group, with immunity and exemptions), and the data the Recommender reads.
#[derive(Debug)]
pub struct PortalRecord {
    pub patient: Patient,
    pub doses: Vec<Dose>,
    pub observations: Vec<Observation>,
    pub history: Certificate,
}

/// Reads the visit's record for the portal page; audited (channel portal) as a read.
pub fn record<S>(
    store: &S,
    v: &PortalVisit,
    codes: &CodeSets,
    now: NaiveDateTime,
) -> Result<PortalRecord, UseCaseError>
where
    S: PatientStore + DoseStore + AuditStore + ?Sized,
{
    let patient = open_record(store, v)?;
    let doses = store.doses(v.patient)?;
    let observations = store.observations(v.patient)?;
    let history = ctwiz_core::certificate::build(
        CertificateKind::School,
        &patient,
        &doses,
        &observations,
        codes,
        "CT WiZ public portal".into(),
        now.date(),
    )?;
    store.audit(&entry(
        &format!("challenge {}", v.challenge),
        Some(v.patient),
        AuditAction::Read,
        now,
        "portal record viewed".into(),
    ))?;
    Ok(PortalRecord {
        patient,
        doses,
        observations,
        history,
    })
}

/// Issues a certificate of the visit's record (the same generator as every other door);
/// audited as a print on channel portal. `req.patient` must be the visit's record.
pub fn certificate<S>(
    store: &S,
    v: &PortalVisit,
    req: &IssueRequest<'_>,
    now: NaiveDateTime,
) -> Result<Issued, UseCaseError>
where
    S: PatientStore + DoseStore + AuditStore + ShcKeyStore + ?Sized,
{
    if req.patient != v.patient {
        return Err(UseCaseError::PortalClosed);
    }
    let p = open_record(store, v)?;
    store.audit(&entry(
        &format!("challenge {}", v.challenge),
        Some(v.patient),
        AuditAction::Print,
        now,
        format!("{} certificate issued (portal)", req.kind.code()),
    ))?;
    certificates::render(store, &p, req, now)
}
