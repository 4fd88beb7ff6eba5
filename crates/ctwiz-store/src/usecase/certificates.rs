//! Issuing an official immunization certificate: the one generator every door calls (clinic
//! web app, portal, CLI). Opens the record for `CertificatePrint` (audited as a print),
//! builds the document (`ctwiz_core::certificate`), signs its SMART Health Card with the
//! registry's key and renders the PDF (`crate::certificate`). Also the issuer keys: created
//! on first use, rotated on request, every key ever used published.

use super::{audit_entry, patients, UseCaseError};
use crate::certificate::{pdf, shc, ShcKey, ShcKeyStore};
use crate::traits::{AuditAction, AuditStore, DoseStore, PatientStore};
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::certificate::{self as model, Certificate, CertificateKind};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::PatientId;
use rand::RngCore;

/// A certificate as issued: the document, its signed card and its PDF.
#[derive(Debug)]
pub struct Issued {
    pub certificate: Certificate,
    /// The SMART Health Card (compact JWS); `certificate.verification` is its `shc:/` QR.
    pub card: String,
    pub pdf: Vec<u8>,
}

impl Issued {
    /// The `.smart-health-card` file.
    pub fn card_file(&self) -> String {
        shc::file(&self.card)
    }
}

/// Who issues a copy and under which card issuer URL.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    pub patient: PatientId,
    pub kind: CertificateKind,
    /// The clinic, office or channel named as issuer on the document.
    pub issuer: String,
    pub iss: &'a shc::IssuerUrl,
    pub codes: &'a CodeSets,
}

fn card_error(e: impl std::fmt::Display) -> UseCaseError {
    UseCaseError::Invalid(ctwiz_core::CoreError::Rule(e.to_string()))
}

/// Issues certificate `req` for `actor` at `now`: `CertificatePrint` on the record (a
/// refusal audited; a success audited as a `Print` naming the kind), the document, its
/// card and its PDF.
pub fn issue<S>(
    store: &S,
    actor: &Actor,
    req: &IssueRequest<'_>,
    now: NaiveDateTime,
) -> Result<Issued, UseCaseError>
where
    S: PatientStore + DoseStore + AuditStore + ShcKeyStore + ?Sized,
{
    let purpose = format!("{} certificate issued", req.kind.code());
    let (_, p) = patients::open(
        store,
        actor,
        req.patient,
        Action::CertificatePrint,
        now,
        &purpose,
    )?;
    render(store, &p, req, now)
}

/// The certificate of record `p` (already opened and audited by the caller): the
/// document, its signed card and its PDF.
pub(crate) fn render<S>(
    store: &S,
    p: &ctwiz_core::patient::Patient,
    req: &IssueRequest<'_>,
    now: NaiveDateTime,
) -> Result<Issued, UseCaseError>
where
    S: DoseStore + ShcKeyStore + ?Sized,
{
    let doses = store.doses(req.patient)?;
    let observations = store.observations(req.patient)?;
    let mut certificate = model::build(
        req.kind,
        p,
        &doses,
        &observations,
        req.codes,
        req.issuer.clone(),
        now.date(),
    )?;
    let key = signing_key(store, now)?;
    let card = shc::sign(shc::fhir_bundle(p, &doses), req.iss, &key, now).map_err(card_error)?;
    certificate.verification = Some(shc::qr_numeric(&card));
    let pdf = pdf::render(&certificate).map_err(card_error)?;
    Ok(Issued {
        certificate,
        card,
        pdf,
    })
}

fn fresh_key(now: NaiveDateTime) -> ShcKey {
    loop {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        if let Some(k) = shc::new_key(secret, now) {
            return k;
        }
    }
}

/// The key that signs now, created on first use (the first run of a registry). Two
/// processes starting together agree on one key: the second insert is refused by the
/// store and the first key is read back.
pub fn signing_key<S: ShcKeyStore + ?Sized>(
    store: &S,
    now: NaiveDateTime,
) -> Result<ShcKey, UseCaseError> {
    let current = |s: &S| -> Result<Option<ShcKey>, UseCaseError> {
        Ok(s.shc_keys()?.into_iter().find(|k| k.retired_at.is_none()))
    };
    if let Some(k) = current(store)? {
        return Ok(k);
    }
    let k = fresh_key(now);
    if store.add_shc_key(&k, false)? {
        return Ok(k);
    }
    current(store)?.ok_or_else(|| card_error("no SMART Health Card signing key could be created"))
}

/// Replaces the signing key with a new one (`UserManage` for the state: registry
/// security administration). The old key is retired, not deleted: it stays in the JWK Set
/// so every card it signed still verifies. Audited. Returns (new kid, retired kid).
pub fn rotate_keys<S: ShcKeyStore + AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(String, Option<String>), UseCaseError> {
    super::actors::permit(
        store,
        actor,
        Action::UserManage,
        now,
        "rotate the SMART Health Card signing key",
    )?;
    let old = store
        .shc_keys()?
        .into_iter()
        .find(|k| k.retired_at.is_none())
        .map(|k| k.kid);
    let k = fresh_key(now);
    if !store.add_shc_key(&k, true)? {
        return Err(card_error("the signing key changed meanwhile; try again"));
    }
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Update,
        now,
        format!(
            "SMART Health Card signing key rotated: new {}, retired {}",
            k.kid,
            old.as_deref().unwrap_or("(none)")
        ),
    ))?;
    Ok((k.kid, old))
}

/// The published JWK Set (public keys only; no authorization: anyone may verify).
pub fn published_keys<S: ShcKeyStore + ?Sized>(
    store: &S,
) -> Result<serde_json::Value, UseCaseError> {
    shc::jwks(&store.shc_keys()?).map_err(card_error)
}
