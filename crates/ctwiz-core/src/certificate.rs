//! The official immunization certificate as a document model: what a school, child-care
//! program, camp, college or travel clinic is shown for one person. Pure: the store's
//! `usecase::certificates` loads and authorizes, `ctwiz_store::certificate` renders the PDF
//! and signs the SMART Health Card, the doors only show the result.
//!
//! What each kind shows:
//! - every kind: each dose actually given, by vaccine group, in date order; evidence of
//!   immunity (history of disease, serology) and medical exemptions (contraindications
//!   recorded on the record), because both stand in for doses on every requirement;
//! - school, child care, camp and college: also refusals with their reason (religious
//!   exemption, parental or patient decision), which entry rules (e.g. Conn. Gen. Stat.
//!   §10-204a) ask a school nurse to see; a travel certificate lists only what was given.

use crate::codes::CodeSets;
use crate::dose::{Dose, Observation, ObservationKind, RefusalReason};
use crate::error::{CoreError, Result};
use crate::ids::{Cvx, PatientId};
use crate::patient::{Patient, PersonName};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Who the certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CertificateKind {
    School,
    ChildCare,
    Camp,
    College,
    Travel,
}

impl CertificateKind {
    pub const ALL: [CertificateKind; 5] = [
        CertificateKind::School,
        CertificateKind::ChildCare,
        CertificateKind::Camp,
        CertificateKind::College,
        CertificateKind::Travel,
    ];

    /// The word used on the command line and in URLs.
    pub fn code(self) -> &'static str {
        match self {
            CertificateKind::School => "school",
            CertificateKind::ChildCare => "childcare",
            CertificateKind::Camp => "camp",
            CertificateKind::College => "college",
            CertificateKind::Travel => "travel",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.code() == t || (t == "child-care" && *k == CertificateKind::ChildCare))
            .ok_or_else(|| CoreError::Unknown {
                field: "certificate kind",
                value: s.to_string(),
                valid: Self::ALL.map(|k| k.code()).join(", "),
            })
    }

    /// The document's title.
    pub fn title(self) -> &'static str {
        match self {
            CertificateKind::School => "Certificate of Immunization for School",
            CertificateKind::ChildCare => "Certificate of Immunization for Child Care",
            CertificateKind::Camp => "Certificate of Immunization for Camp",
            CertificateKind::College => "Certificate of Immunization for College",
            CertificateKind::Travel => "Certificate of Vaccination for Travel",
        }
    }

    /// Whether refusals (non-medical exemptions) appear on this kind.
    pub fn shows_refusals(self) -> bool {
        self != CertificateKind::Travel
    }
}

/// One dose on the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateDose {
    pub cvx: Cvx,
    /// The CVX short name (can be long: "influenza, injectable, quadrivalent, ...").
    pub vaccine: String,
    pub date: NaiveDate,
}

/// The doses of one vaccine group (a combination vaccine appears in each of its groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateGroup {
    pub group: String,
    pub doses: Vec<CertificateDose>,
}

/// Why a vaccine was not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExemptionKind {
    /// A contraindication recorded on the record.
    Medical,
    /// A refusal with reason "religious exemption" (NIP002 01).
    Religious,
    /// Any other refusal (parental or patient decision, other).
    Refusal,
}

impl ExemptionKind {
    pub fn label(self) -> &'static str {
        match self {
            ExemptionKind::Medical => "Medical exemption",
            ExemptionKind::Religious => "Religious exemption",
            ExemptionKind::Refusal => "Refused",
        }
    }
}

/// A medical exemption or a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exemption {
    pub kind: ExemptionKind,
    /// The vaccine (refusal) or the recorded contraindication.
    pub subject: String,
    pub detail: String,
    pub date: NaiveDate,
}

/// Evidence of immunity (e.g. "History of varicella disease").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Immunity {
    pub evidence: String,
    pub date: NaiveDate,
}

/// The whole certificate, ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub kind: CertificateKind,
    pub patient: PatientId,
    /// The name as written on the record, in its own script ("Family, Given Middle").
    pub name: String,
    pub dob: NaiveDate,
    pub sex: &'static str,
    pub groups: Vec<CertificateGroup>,
    pub exemptions: Vec<Exemption>,
    pub immunity: Vec<Immunity>,
    /// The registry that holds the record.
    pub registry: String,
    /// The clinic, office or channel that issued this copy.
    pub issuer: String,
    pub issued: NaiveDate,
    /// What the verification QR code carries (a `shc:/` SMART Health Card), if signed.
    pub verification: Option<String>,
}

/// The name as written: no case change, no transliteration.
pub fn written_name(n: &PersonName) -> String {
    let mut s = format!("{}, {}", n.family, n.given);
    if let Some(m) = n.middle.as_deref().filter(|m| !m.is_empty()) {
        s.push(' ');
        s.push_str(m);
    }
    if let Some(x) = n.suffix.as_deref().filter(|x| !x.is_empty()) {
        s.push(' ');
        s.push_str(x);
    }
    s
}

/// The registry named on every certificate.
pub const REGISTRY: &str = "Connecticut Immunization Registry and Tracking System (ctwiz)";

/// Builds the certificate of `kind` for stored patient `p` from its doses and
/// observations. `issuer` names who issues this copy; `issued` is today.
pub fn build(
    kind: CertificateKind,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    codes: &CodeSets,
    issuer: String,
    issued: NaiveDate,
) -> Result<Certificate> {
    let patient = p.id.ok_or_else(|| {
        CoreError::Rule("a certificate is issued only for a stored record".into())
    })?;
    let mut groups: BTreeMap<String, Vec<CertificateDose>> = BTreeMap::new();
    let mut exemptions = Vec::new();
    for d in doses {
        if d.was_given() {
            for g in codes.groups_listed(&d.cvx) {
                groups.entry(g).or_default().push(CertificateDose {
                    cvx: d.cvx.clone(),
                    vaccine: codes.vaccine_label(&d.cvx),
                    date: d.date,
                });
            }
        } else if let (Some(reason), true) = (d.refusal, kind.shows_refusals()) {
            exemptions.push(Exemption {
                kind: if reason == RefusalReason::ReligiousExemption {
                    ExemptionKind::Religious
                } else {
                    ExemptionKind::Refusal
                },
                subject: codes.vaccine_label(&d.cvx),
                detail: reason.label().to_string(),
                date: d.date,
            });
        }
    }
    let mut immunity = Vec::new();
    for o in observations {
        match o.kind {
            ObservationKind::Immunity => immunity.push(Immunity {
                evidence: o.text.clone(),
                date: o.date,
            }),
            ObservationKind::Contraindication => exemptions.push(Exemption {
                kind: ExemptionKind::Medical,
                subject: o.text.clone(),
                detail: "contraindication recorded by a provider".into(),
                date: o.date,
            }),
            ObservationKind::Precaution | ObservationKind::Condition => {}
        }
    }
    exemptions.sort_by(|a, b| (a.date, &a.subject).cmp(&(b.date, &b.subject)));
    immunity.sort_by(|a, b| (a.date, &a.evidence).cmp(&(b.date, &b.evidence)));
    Ok(Certificate {
        kind,
        patient,
        name: written_name(&p.name),
        dob: p.dob,
        sex: p.sex.code(),
        groups: groups
            .into_iter()
            .map(|(group, mut doses)| {
                doses.sort_by(|a, b| (a.date, &a.cvx).cmp(&(b.date, &b.cvx)));
                CertificateGroup { group, doses }
            })
            .collect(),
        exemptions,
        immunity,
        registry: REGISTRY.to_string(),
        issuer,
        issued,
        verification: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dose::InformationSource;
    use crate::patient::Sex;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn child() -> Patient {
        let mut p = Patient::new(
            PersonName::new("Иванова", "Мария").expect("name"),
            day(2019, 3, 4),
            Sex::Female,
        )
        .expect("patient");
        p.id = Some(PatientId(42));
        p
    }

    fn records() -> (Vec<Dose>, Vec<Observation>) {
        let cvx = |c: &str| Cvx::new(c).expect("cvx");
        let doses = vec![
            Dose::new(cvx("94"), day(2020, 3, 10), InformationSource::NewRecord),
            Dose::new(cvx("03"), day(2020, 3, 4), InformationSource::NewRecord),
            Dose::refusal(
                cvx("62"),
                day(2021, 1, 5),
                RefusalReason::ReligiousExemption,
            ),
            Dose::refusal(cvx("88"), day(2021, 10, 5), RefusalReason::ParentalDecision),
        ];
        let obs = vec![
            Observation::new(
                ObservationKind::Immunity,
                "038",
                "History of varicella disease",
                day(2022, 5, 1),
            )
            .expect("observation"),
            Observation::new(
                ObservationKind::Contraindication,
                "080",
                "Severe allergic reaction to gelatin",
                day(2020, 4, 1),
            )
            .expect("observation"),
            Observation::new(ObservationKind::Condition, "x", "asthma", day(2020, 4, 1))
                .expect("observation"),
        ];
        (doses, obs)
    }

    #[test]
    fn school_shows_doses_by_group_exemptions_refusals_and_immunity() {
        let (doses, obs) = records();
        let codes = CodeSets::embedded();
        let c = build(
            CertificateKind::School,
            &child(),
            &doses,
            &obs,
            &codes,
            "Clinic".into(),
            day(2026, 1, 2),
        )
        .expect("certificate");
        assert_eq!(c.name, "Иванова, Мария");
        let mmr = c
            .groups
            .iter()
            .find(|g| g.group == "MMR")
            .expect("MMR group");
        // MMRV (94) counts for MMR and varicella; the two MMR doses are in date order.
        assert_eq!(
            mmr.doses.iter().map(|d| d.date).collect::<Vec<_>>(),
            vec![day(2020, 3, 4), day(2020, 3, 10)]
        );
        assert!(c.groups.iter().any(|g| g.group == "Varicella"));
        let kinds: Vec<_> = c.exemptions.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ExemptionKind::Medical,
                ExemptionKind::Religious,
                ExemptionKind::Refusal
            ]
        );
        assert_eq!(c.immunity.len(), 1);
        assert_eq!(c.immunity[0].evidence, "History of varicella disease");
        assert_eq!(c.registry, REGISTRY);
    }

    #[test]
    fn travel_lists_medical_exemptions_but_not_refusals() {
        let (doses, obs) = records();
        let c = build(
            CertificateKind::Travel,
            &child(),
            &doses,
            &obs,
            &CodeSets::embedded(),
            "Clinic".into(),
            day(2026, 1, 2),
        )
        .expect("certificate");
        assert!(c
            .exemptions
            .iter()
            .all(|e| e.kind == ExemptionKind::Medical));
        assert_eq!(c.exemptions.len(), 1);
    }

    #[test]
    fn kinds_parse_and_unknown_kinds_name_the_valid_ones() {
        for k in CertificateKind::ALL {
            assert_eq!(CertificateKind::parse(k.code()).expect("parses"), k);
        }
        let e = CertificateKind::parse("kindergarten").expect_err("unknown");
        assert!(e
            .to_string()
            .contains("school, childcare, camp, college, travel"));
    }
}
