//! VXU^V04, unsolicited vaccination record update (CDC IG R1.5 §8.4,
//! profile Z22): the patient (PID, PD1, NK1, PV1) and one order group per
//! immunization event (ORC, RXA, RXR, OBX*).

use chrono::NaiveDate;
use ctwiz_core::dose::Dose;
use ctwiz_core::dose::{
    CompletionStatus, DoseAmount, FundingSource, InformationSource, Observation, ObservationKind,
    RefusalReason, Route, Site, VfcEligibility, VisGiven,
};
use ctwiz_core::ids::{ClinicPin, Cvx, Email, LotNumber, Mvx, Ndc, Phone, Zip};
use ctwiz_core::org::County;
use ctwiz_core::patient::{
    Address, Ethnicity, Guardian, Mrn, Patient, PatientStatus, PersonName, Publicity, Race,
    Relationship, Sex,
};

use super::{check_header, AppError, Hl7Error, Issue, Rejection};
use crate::datatype::{parse_date, yes_no, Xpn, Xtn};
use crate::er7::Message;
use crate::segment::err::ErrorLocation;
use crate::segment::{Msh, Nk1, Obx, Orc, Pd1, Pid, Pv1, Rxa, Rxr};

/// LOINC codes of the OBX observations the IG defines for VXU (IG R1.5 §6.19,
/// and the 2018 addendum for VIS reporting).
pub mod loinc {
    pub const VFC_ELIGIBILITY: &str = "64994-7";
    pub const FUNDING_SOURCE: &str = "30963-3";
    pub const VIS_DOCUMENT: &str = "69764-9";
    pub const VACCINE_TYPE: &str = "30956-7";
    pub const VIS_PUBLISHED: &str = "29768-9";
    pub const VIS_PRESENTED: &str = "29769-7";
    pub const DISEASE_IMMUNITY: &str = "59784-9";
    pub const CONTRAINDICATION: &str = "30945-0";
    pub const REACTION: &str = "31044-1";
    pub const EXEMPTION: &str = "59785-6";
    pub const INDICATION: &str = "75505-8";
    pub const SEROLOGY: &str = "75502-5";
}

/// One order group: ORC, RXA, RXR and the OBX that follow the RXA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub orc: Option<Orc>,
    pub rxa: Rxa,
    pub rxr: Option<Rxr>,
    pub observations: Vec<Obx>,
    /// Occurrence numbers of the RXA and of each OBX in the message, for ERR-2.
    pub rxa_sequence: usize,
    pub obx_sequences: Vec<usize>,
}

/// A VXU read into segments and order groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vxu {
    pub msh: Msh,
    pub pid: Pid,
    pub pd1: Option<Pd1>,
    pub next_of_kin: Vec<Nk1>,
    pub pv1: Option<Pv1>,
    pub orders: Vec<Order>,
    /// OBX before the first order group: patient-level observations
    /// (immunity, contraindications), with their occurrence numbers.
    pub patient_observations: Vec<(Obx, usize)>,
    /// Structural and header problems that did not stop the reading.
    pub issues: Vec<Issue>,
}

/// What the registry should do with a reported dose (RXA-21, table 0323).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseAction {
    Add,
    Update,
    Delete,
}

/// One dose mapped to core, with the sender's identity for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedDose {
    pub dose: Dose,
    pub action: DoseAction,
    /// ORC-3 filler order number: the sender's id of the immunization event.
    pub sender_dose_id: Option<String>,
    /// Index into [`Vxu::orders`].
    pub order: usize,
}

/// A VXU mapped to ctwiz-core values. `patient` is `None` when the patient
/// part has errors (then the message must be answered AE/AR).
#[derive(Debug, Clone, PartialEq)]
pub struct VxuRecord {
    pub patient: Option<Patient>,
    pub doses: Vec<ReportedDose>,
    pub observations: Vec<Observation>,
    pub issues: Vec<Issue>,
}

impl VxuRecord {
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }
}

impl Vxu {
    /// Reads a parsed message as a VXU^V04. A message of another type, an
    /// unsupported version, or one without PID is rejected.
    pub fn from_message(msg: &Message<'_>) -> Result<Vxu, Rejection> {
        let msh = Msh::from_segment(msg.msh());
        let mut issues = check_header(&msh, "VXU", "V04");
        let Some(pid) = msg.segment("PID") else {
            issues.push(Issue::error(
                ErrorLocation::new("PID", 0, 0),
                Hl7Error::SegmentSequence,
                "PID segment is missing",
            ));
            return Err(Rejection {
                msh: Box::new(msh),
                issues,
            });
        };
        if issues.iter().any(|i| i.code.rejects_message()) {
            return Err(Rejection {
                msh: Box::new(msh),
                issues,
            });
        }
        let mut vxu = Vxu {
            pid: Pid::from_segment(pid),
            msh,
            pd1: msg.segment("PD1").map(Pd1::from_segment),
            next_of_kin: msg.segments_named("NK1").map(Nk1::from_segment).collect(),
            pv1: msg.segment("PV1").map(Pv1::from_segment),
            orders: Vec::new(),
            patient_observations: Vec::new(),
            issues,
        };
        vxu.read_orders(msg);
        Ok(vxu)
    }

    /// Groups ORC/RXA/RXR/OBX (IG R1.5 §8.4 message structure). An ORC with
    /// no RXA, or an RXR/OBX with no RXA before it, is an error on that
    /// segment; the rest of the message is still read.
    fn read_orders(&mut self, msg: &Message<'_>) {
        let mut counts = std::collections::HashMap::<&str, usize>::new();
        let mut pending_orc: Option<(Orc, usize)> = None;
        // An order per RXA, sized once: an order is large, and growing the list by
        // doubling copied a child's whole history several times.
        self.orders.reserve_exact(msg.segments_named("RXA").count());
        for seg in msg.segments() {
            let id = seg.id();
            let n = {
                let c = counts.entry(id).or_insert(0);
                *c += 1;
                *c
            };
            match id {
                "ORC" => {
                    if let Some((_, seq)) = pending_orc.take() {
                        self.issues.push(orc_without_rxa(seq));
                    }
                    pending_orc = Some((Orc::from_segment(seg), n));
                }
                "RXA" => {
                    let orc = pending_orc.take().map(|(o, _)| o);
                    if orc.is_none() {
                        // IG R1.5: ORC is required before each RXA; tolerate.
                        self.issues.push(Issue::warning(
                            ErrorLocation::new("RXA", n, 0),
                            Hl7Error::SegmentSequence,
                            "RXA without a preceding ORC",
                        ));
                    }
                    self.orders.push(Order {
                        orc,
                        rxa: Rxa::from_segment(seg),
                        rxr: None,
                        observations: Vec::new(),
                        rxa_sequence: n,
                        obx_sequences: Vec::new(),
                    });
                }
                "OBX" if pending_orc.is_none() && self.orders.is_empty() => {
                    self.patient_observations.push((Obx::from_segment(seg), n));
                }
                "RXR" | "OBX" if pending_orc.is_some() || self.orders.is_empty() => {
                    self.issues.push(Issue::error(
                        ErrorLocation::new(id, n, 0),
                        Hl7Error::SegmentSequence,
                        format!("{id} is not preceded by an RXA"),
                    ));
                }
                "RXR" => {
                    if let Some(o) = self.orders.last_mut() {
                        o.rxr = Some(Rxr::from_segment(seg));
                    }
                }
                "OBX" => {
                    if let Some(o) = self.orders.last_mut() {
                        o.observations.push(Obx::from_segment(seg));
                        o.obx_sequences.push(n);
                    }
                }
                _ => {}
            }
        }
        if let Some((_, seq)) = pending_orc {
            self.issues.push(orc_without_rxa(seq));
        }
    }

    /// Maps the message to ctwiz-core values. `clinic` is the reporting
    /// clinic (from MSH-4 via the interface registration): MRNs in PID-3 are
    /// scoped to it and doses are recorded at it.
    pub fn to_core(&self, clinic: &ClinicPin) -> VxuRecord {
        self.to_core_with(clinic, |_| None)
    }

    /// Like [`to_core`](Self::to_core), with a lookup from NDC to CVX for
    /// RXA-5 values that carry only an NDC (IG R1.5 allows NDC as the
    /// primary code with CVX optional in the alternate triplet).
    pub fn to_core_with(
        &self,
        clinic: &ClinicPin,
        ndc_to_cvx: impl Fn(&str) -> Option<Cvx>,
    ) -> VxuRecord {
        let mut issues = self.issues.clone();
        let patient = self.patient(clinic, &mut issues);
        let dob = patient.as_ref().map(|p| p.dob);
        // At most a dose per order: sized once, not regrown (a history is dozens).
        let mut doses = Vec::with_capacity(self.orders.len());
        let mut observations = Vec::new();
        for (i, order) in self.orders.iter().enumerate() {
            if let Some(d) = map_dose(
                order,
                i,
                clinic,
                &ndc_to_cvx,
                &mut observations,
                &mut issues,
            ) {
                if let Some(dob) = dob {
                    // IG R1.5 / AIRA DQA: a dose before birth is an illogical date.
                    if d.dose.date < dob {
                        issues.push(
                            Issue::error(
                                ErrorLocation::new("RXA", order.rxa_sequence, 3),
                                Hl7Error::DataType,
                                format!(
                                    "administration date {} is before the birth date {dob}",
                                    d.dose.date
                                ),
                            )
                            .with_app(AppError::IllogicalDate),
                        );
                        continue;
                    }
                }
                doses.push(d);
            }
        }
        if !self.patient_observations.is_empty() {
            let order = Order {
                orc: None,
                rxa: Rxa::default(),
                rxr: None,
                observations: self
                    .patient_observations
                    .iter()
                    .map(|(o, _)| o.clone())
                    .collect(),
                rxa_sequence: 0,
                obx_sequences: self.patient_observations.iter().map(|(_, n)| *n).collect(),
            };
            let fallback = patient.as_ref().map(|p| p.dob).unwrap_or_default();
            let mut scratch = Dose::new(Cvx::no_vaccine(), fallback, InformationSource::NewRecord);
            read_observations(&order, &mut scratch, &mut observations, &mut issues);
        }
        VxuRecord {
            patient,
            doses,
            observations,
            issues,
        }
    }

    fn patient(&self, clinic: &ClinicPin, issues: &mut Vec<Issue>) -> Option<Patient> {
        let pid = &self.pid;
        let loc = |f| ErrorLocation::new("PID", 1, f);
        let before = issues.iter().filter(|i| i.is_error()).count();
        // PID-3 is required: at least one identifier (IG R1.5 §6.25).
        if pid.identifiers.iter().all(|c| c.id.is_empty()) {
            issues.push(Issue::error(
                loc(3),
                Hl7Error::RequiredFieldMissing,
                "PID-3 patient identifier is missing",
            ));
        }
        let name = match pid.legal_name() {
            Some(n) if !n.family.is_empty() && !n.given.is_empty() => person_name(n)
                .map_err(|e| {
                    issues.push(
                        Issue::error(loc(5), Hl7Error::DataType, e.to_string())
                            .with_app(AppError::InvalidValue),
                    )
                })
                .ok(),
            _ => {
                issues.push(Issue::error(
                    loc(5),
                    Hl7Error::RequiredFieldMissing,
                    "PID-5 patient family and given name are required",
                ));
                None
            }
        };
        let dob = if pid.birth_date.is_empty() {
            issues.push(Issue::error(
                loc(7),
                Hl7Error::RequiredFieldMissing,
                "PID-7 birth date is missing",
            ));
            None
        } else {
            parse_date(&pid.birth_date)
                .map_err(|e| {
                    issues.push(
                        Issue::error(loc(7), Hl7Error::DataType, e.to_string())
                            .with_app(AppError::InvalidDate),
                    )
                })
                .ok()
        };
        let sex = match pid.sex.as_str() {
            "" => Sex::Unknown,
            code => Sex::from_code(code).unwrap_or_else(|e| {
                issues.push(
                    Issue::warning(loc(8), Hl7Error::TableValueNotFound, e.to_string())
                        .with_app(AppError::TableValueNotFound),
                );
                Sex::Unknown
            }),
        };
        let (Some(name), Some(dob)) = (name, dob) else {
            return None;
        };
        if issues.iter().filter(|i| i.is_error()).count() > before {
            return None;
        }
        let mut p = match Patient::new(name, dob, sex) {
            Ok(p) => p,
            Err(e) => {
                issues.push(
                    Issue::error(loc(7), Hl7Error::DataType, e.to_string())
                        .with_app(AppError::IllogicalDate),
                );
                return None;
            }
        };
        let mut warn = |f: usize, e: String| {
            issues.push(
                Issue::warning(loc(f), Hl7Error::DataType, e).with_app(AppError::InvalidValue),
            );
        };
        p.mothers_maiden_name =
            Some(pid.mothers_maiden_name.family.clone()).filter(|s| !s.is_empty());
        for cx in &pid.identifiers {
            // Only medical record numbers are clinic-scoped patient ids;
            // other types (SR, MA, SS, PI ...) are not kept by core yet.
            if cx.id_type.eq_ignore_ascii_case("MR") && !cx.id.is_empty() {
                match Mrn::new(clinic.clone(), &cx.id) {
                    // The same number repeated in PID-3 is one MRN (an MRN belongs to
                    // one record per clinic; storing it twice would be refused).
                    Ok(m) if p.mrns.iter().any(|x| x.value == m.value) => {}
                    Ok(mut m) => {
                        // CX-4 as sent, so answers name the sender's own authority.
                        m.authority =
                            Some(cx.authority.trim().to_string()).filter(|a| !a.is_empty());
                        p.mrns.push(m)
                    }
                    Err(e) => warn(3, e.to_string()),
                }
            }
        }
        for a in &pid.addresses {
            if a.is_empty() {
                continue;
            }
            match address(a) {
                Ok(addr) => p.addresses.push(addr),
                Err(e) => warn(11, e.to_string()),
            }
        }
        for t in &pid.phones {
            match contact(t) {
                Some(Ok(Contact::Phone(ph))) => p.phones.push(ph),
                Some(Ok(Contact::Email(em))) => p.emails.push(em),
                Some(Err(e)) => warn(13, e.to_string()),
                None => {}
            }
        }
        for r in &pid.races {
            match Race::from_code(&r.code) {
                Ok(race) => p.races.push(race),
                Err(e) if !r.code.is_empty() => warn(10, e.to_string()),
                Err(_) => {}
            }
        }
        if let Some(e) = pid.ethnicity.first().filter(|e| !e.code.is_empty()) {
            match Ethnicity::from_code(&e.code) {
                Ok(x) => p.ethnicity = Some(x),
                Err(err) => warn(22, err.to_string()),
            }
        }
        // PID-24 (HL7 table 0136, Y/N) is kept as sent; PID-25 counts only with PID-24 Y,
        // as the CDC IG R1.5 conditions it: an order sent beside N or nothing is often an
        // EHR's default 1 for every child, and would make two singletons "two children".
        p.multiple_birth = yes_no(&pid.multiple_birth);
        if p.multiple_birth == Some(true) {
            p.birth_order = pid.birth_order.trim().parse().ok();
        }
        if !pid.death_date.is_empty() {
            match parse_date(&pid.death_date) {
                Ok(d) => p.mark_deceased(d),
                Err(e) => warn(29, e.to_string()),
            }
        } else if pid.death_indicator.eq_ignore_ascii_case("Y") {
            p.status = PatientStatus::Deceased;
        }
        if let Some(pd1) = &self.pd1 {
            // PD1-12 protection indicator Y: share only per confidentiality rules.
            p.confidential = pd1.protection_indicator.eq_ignore_ascii_case("Y");
            // PD1-11 reminder/recall preference (table 0215), since PD1-18.
            if !pd1.publicity_code.code.is_empty() {
                p.publicity = Some(Publicity {
                    code: pd1.publicity_code.code.clone(),
                    since: parse_date(&pd1.publicity_date).ok(),
                });
            }
            if !pd1.registry_status.is_empty() {
                match PatientStatus::from_code(&pd1.registry_status) {
                    Ok(s) => p.status = s,
                    Err(e) => issues.push(
                        Issue::warning(
                            ErrorLocation::new("PD1", 1, 16),
                            Hl7Error::TableValueNotFound,
                            e.to_string(),
                        )
                        .with_app(AppError::TableValueNotFound),
                    ),
                }
            }
        }
        for (i, nk1) in self.next_of_kin.iter().enumerate() {
            if let Some(g) = guardian(nk1) {
                p.guardians.push(g);
            } else if !nk1.name.is_empty() {
                issues.push(
                    Issue::warning(
                        ErrorLocation::new("NK1", i + 1, 2),
                        Hl7Error::DataType,
                        "NK1-2 needs a family and given name",
                    )
                    .with_app(AppError::InvalidValue),
                );
            }
        }
        Some(p)
    }
}

fn orc_without_rxa(seq: usize) -> Issue {
    Issue::error(
        ErrorLocation::new("ORC", seq, 0),
        Hl7Error::SegmentSequence,
        "ORC is not followed by an RXA",
    )
}

fn person_name(n: &Xpn) -> ctwiz_core::Result<PersonName> {
    let mut name = PersonName::new(&n.family, &n.given)?;
    if !n.middle.is_empty() {
        name = name.with_middle(&n.middle)?;
    }
    name.suffix = Some(n.suffix.clone()).filter(|s| !s.is_empty());
    Ok(name)
}

fn address(a: &crate::datatype::Xad) -> ctwiz_core::Result<Address> {
    let mut addr = Address::new(&a.street, &a.city, &a.state, Zip::new(&a.zip)?)?;
    addr.county = County::parse(&a.county).ok();
    addr.kind = Some(a.address_type.trim().to_ascii_uppercase()).filter(|k| !k.is_empty());
    Ok(addr)
}

enum Contact {
    Phone(Phone),
    Email(Email),
}

/// XTN: an e-mail when XTN-4 is set (use NET, equipment Internet),
/// otherwise a phone from area code and local number.
fn contact(t: &Xtn) -> Option<ctwiz_core::Result<Contact>> {
    if !t.email.is_empty() {
        return Some(Email::new(&t.email).map(Contact::Email));
    }
    if t.local_number.is_empty() {
        return None;
    }
    Some(Phone::new(&format!("{}{}", t.area_code, t.local_number)).map(Contact::Phone))
}

fn guardian(nk1: &Nk1) -> Option<Guardian> {
    let name = person_name(&nk1.name).ok()?;
    let phone = nk1.phones.iter().find_map(|t| match contact(t) {
        Some(Ok(Contact::Phone(p))) => Some(p),
        _ => None,
    });
    let email = nk1.phones.iter().find_map(|t| match contact(t) {
        Some(Ok(Contact::Email(e))) => Some(e),
        _ => None,
    });
    Some(Guardian {
        name,
        relationship: Relationship::from_code(&nk1.relationship.code),
        phone,
        email,
        // NK1-4 is RE: an address that cannot be read is left out, the guardian is kept.
        address: (!nk1.address.is_empty())
            .then(|| address(&nk1.address).ok())
            .flatten(),
    })
}

/// Maps one order group to a dose, pushing issues; `None` when the dose
/// cannot be recorded (no valid CVX or date).
fn map_dose(
    order: &Order,
    index: usize,
    clinic: &ClinicPin,
    ndc_to_cvx: &dyn Fn(&str) -> Option<Cvx>,
    observations: &mut Vec<Observation>,
    issues: &mut Vec<Issue>,
) -> Option<ReportedDose> {
    let rxa = &order.rxa;
    let seq = order.rxa_sequence;
    let loc = |f| ErrorLocation::new("RXA", seq, f);
    let mut warn = |f: usize, code: Hl7Error, app: AppError, msg: String| {
        issues.push(Issue::warning(loc(f), code, msg).with_app(app));
    };
    let mut fail = Vec::new();
    // RXA-5: CVX is required; an NDC alone cannot be mapped yet (IG R1.5 §6.29).
    let cvx_code = rxa.vaccine.code_in("CVX").or_else(|| {
        (rxa.vaccine.system.is_empty() && !rxa.vaccine.code.is_empty())
            .then_some(rxa.vaccine.code.as_str())
    });
    let ndc_cvx = rxa.vaccine.code_in("NDC").and_then(ndc_to_cvx);
    let cvx = match cvx_code {
        None if ndc_cvx.is_some() => ndc_cvx,
        Some(c) => Cvx::new(c)
            .map_err(|e| {
                fail.push(
                    Issue::error(loc(5), Hl7Error::TableValueNotFound, e.to_string())
                        .with_app(AppError::TableValueNotFound),
                )
            })
            .ok(),
        None => {
            fail.push(
                Issue::error(
                    loc(5),
                    Hl7Error::RequiredFieldMissing,
                    "RXA-5 needs a CVX code (or an NDC the registry can map to CVX)",
                )
                .with_app(AppError::TableValueNotFound),
            );
            None
        }
    };
    let date = match parse_date(&rxa.start) {
        Ok(d) => Some(d),
        Err(e) if rxa.start.is_empty() => {
            fail.push(Issue::error(
                loc(3),
                Hl7Error::RequiredFieldMissing,
                format!("RXA-3 administration date is missing ({e})"),
            ));
            None
        }
        Err(e) => {
            fail.push(
                Issue::error(loc(3), Hl7Error::DataType, e.to_string())
                    .with_app(AppError::InvalidDate),
            );
            None
        }
    };
    let completion = if rxa.completion_status.is_empty() {
        CompletionStatus::Complete
    } else {
        match CompletionStatus::from_code(&rxa.completion_status) {
            Ok(c) => c,
            Err(e) => {
                fail.push(
                    Issue::error(loc(20), Hl7Error::TableValueNotFound, e.to_string())
                        .with_app(AppError::TableValueNotFound),
                );
                CompletionStatus::Complete
            }
        }
    };
    let action = match rxa.action_code.to_ascii_uppercase().as_str() {
        "D" => DoseAction::Delete,
        "U" => DoseAction::Update,
        _ => DoseAction::Add,
    };
    let (Some(cvx), Some(date)) = (cvx, date) else {
        issues.extend(fail);
        return None;
    };
    if !fail.is_empty() {
        issues.extend(fail);
        return None;
    }
    // RXA-9 (NIP001): 00 = administered here, 01–08 = historical. When it is
    // missing, a lot number suggests the dose was given by the sender.
    let source_code = rxa
        .information_source
        .code_in("NIP001")
        .unwrap_or(&rxa.information_source.code);
    let source = if source_code.is_empty() {
        let guess = if rxa.lot_numbers.iter().any(|l| !l.is_empty()) {
            InformationSource::NewRecord
        } else {
            InformationSource::HistoricalUnspecified
        };
        if completion != CompletionStatus::Refused
            && completion != CompletionStatus::NotAdministered
        {
            warn(
                9,
                Hl7Error::RequiredFieldMissing,
                AppError::RequiredObservationMissing,
                format!(
                    "RXA-9 information source is missing; assumed {}",
                    guess.code()
                ),
            );
        }
        guess
    } else {
        InformationSource::from_code(source_code).unwrap_or_else(|e| {
            warn(
                9,
                Hl7Error::TableValueNotFound,
                AppError::TableValueNotFound,
                e.to_string(),
            );
            InformationSource::HistoricalUnspecified
        })
    };
    let mut dose = Dose::new(cvx, date, source);
    dose.completion = completion;
    dose.clinic = Some(clinic.clone());
    if let Some(ndc) = rxa.vaccine.code_in("NDC") {
        dose.ndc = Ndc::new(ndc).ok();
    }
    if !rxa.amount.is_empty() && rxa.amount != "999" {
        match rxa
            .amount
            .trim()
            .parse::<f64>()
            .map_err(|e| e.to_string())
            .and_then(|v| {
                DoseAmount::new(
                    v,
                    if rxa.units.code.is_empty() {
                        "mL"
                    } else {
                        &rxa.units.code
                    },
                )
                .map_err(|e| e.to_string())
            }) {
            Ok(a) => dose.amount = Some(a),
            Err(e) => warn(
                6,
                Hl7Error::DataType,
                AppError::InvalidValue,
                format!("RXA-6 amount {:?}: {e}", rxa.amount),
            ),
        }
    }
    if !rxa.administering_provider.is_empty() {
        dose.administered_by = Some(rxa.administering_provider.to_provider());
    }
    if let Some(lot) = rxa.lot_numbers.iter().find(|l| !l.is_empty()) {
        match LotNumber::new(lot) {
            Ok(l) => dose.lot = Some(l),
            Err(e) => warn(
                15,
                Hl7Error::DataType,
                AppError::InvalidValue,
                e.to_string(),
            ),
        }
    }
    if !rxa.expiration.is_empty() {
        match parse_date(&rxa.expiration) {
            Ok(d) => dose.lot_expiration = Some(d),
            Err(e) => warn(16, Hl7Error::DataType, AppError::InvalidDate, e.to_string()),
        }
    }
    let mvx = rxa
        .manufacturer
        .code_in("MVX")
        .unwrap_or(&rxa.manufacturer.code);
    if !mvx.is_empty() {
        match Mvx::new(mvx) {
            Ok(m) => dose.mvx = Some(m),
            Err(e) => warn(
                17,
                Hl7Error::TableValueNotFound,
                AppError::TableValueNotFound,
                e.to_string(),
            ),
        }
    }
    if !rxa.refusal_reason.code.is_empty() {
        match RefusalReason::from_code(&rxa.refusal_reason.code) {
            Ok(r) => dose.refusal = Some(r),
            Err(e) => warn(
                18,
                Hl7Error::TableValueNotFound,
                AppError::TableValueNotFound,
                e.to_string(),
            ),
        }
    }
    if let Some(rxr) = &order.rxr {
        let rloc = |f| ErrorLocation::new("RXR", seq, f);
        if !rxr.route.code.is_empty() {
            match Route::parse(&rxr.route.code) {
                Ok(r) => dose.route = Some(r),
                Err(e) => issues.push(
                    Issue::warning(rloc(1), Hl7Error::TableValueNotFound, e.to_string())
                        .with_app(AppError::TableValueNotFound),
                ),
            }
        }
        if !rxr.site.code.is_empty() {
            match Site::from_code(&rxr.site.code) {
                Ok(s) => dose.site = Some(s),
                Err(e) => issues.push(
                    Issue::warning(rloc(2), Hl7Error::TableValueNotFound, e.to_string())
                        .with_app(AppError::TableValueNotFound),
                ),
            }
        }
    }
    read_observations(order, &mut dose, observations, issues);
    Some(ReportedDose {
        dose,
        action,
        sender_dose_id: order
            .orc
            .as_ref()
            .map(|o| o.filler_order.id.clone())
            .filter(|s| !s.is_empty()),
        order: index,
    })
}

/// OBX under an RXA: eligibility, funding, VIS, immunity, contraindication.
fn read_observations(
    order: &Order,
    dose: &mut Dose,
    observations: &mut Vec<Observation>,
    issues: &mut Vec<Issue>,
) {
    // VIS observations of one document share OBX-4 (IG R1.5 §6.19, VIS notes).
    let mut vis: Vec<(String, VisParts)> = Vec::new();
    for (obx, &seq) in order.observations.iter().zip(&order.obx_sequences) {
        let loc = ErrorLocation::new("OBX", seq, 5);
        let value = obx.value_text();
        let mut warn = |code: Hl7Error, app: AppError, msg: String| {
            issues.push(Issue::warning(loc.clone(), code, msg).with_app(app))
        };
        let date_of = |v: &str| parse_date(v);
        let mut vis_entry = |sub: &str| -> usize {
            match vis.iter().position(|(s, _)| s == sub) {
                Some(i) => i,
                None => {
                    vis.push((sub.to_string(), VisParts::default()));
                    vis.len() - 1
                }
            }
        };
        match obx.code() {
            loinc::VFC_ELIGIBILITY => match VfcEligibility::from_code(value) {
                Ok(v) => dose.eligibility = Some(v),
                Err(e) => warn(
                    Hl7Error::TableValueNotFound,
                    AppError::TableValueNotFound,
                    e.to_string(),
                ),
            },
            loinc::FUNDING_SOURCE => match FundingSource::from_code(value) {
                Ok(v) => dose.funding = Some(v),
                Err(e) => warn(
                    Hl7Error::TableValueNotFound,
                    AppError::TableValueNotFound,
                    e.to_string(),
                ),
            },
            loinc::VIS_DOCUMENT | loinc::VACCINE_TYPE => {
                let i = vis_entry(&obx.sub_id);
                vis[i].1.document = Some(value.to_string());
            }
            loinc::VIS_PUBLISHED | loinc::VIS_PRESENTED => match date_of(value) {
                Ok(d) => {
                    let i = vis_entry(&obx.sub_id);
                    if obx.code() == loinc::VIS_PUBLISHED {
                        vis[i].1.published = Some(d);
                    } else {
                        vis[i].1.presented = Some(d);
                    }
                }
                Err(e) => warn(Hl7Error::DataType, AppError::InvalidDate, e.to_string()),
            },
            code @ (loinc::DISEASE_IMMUNITY
            | loinc::CONTRAINDICATION
            | loinc::EXEMPTION
            | loinc::INDICATION) => {
                let kind = match code {
                    loinc::DISEASE_IMMUNITY => ObservationKind::Immunity,
                    loinc::CONTRAINDICATION => ObservationKind::Contraindication,
                    // Indications to immunize and risk conditions (e.g. VXC7 rabies
                    // exposure) change which series apply: a condition.
                    _ => ObservationKind::Condition,
                };
                let text = obx
                    .value
                    .get(1)
                    .filter(|t| !t.is_empty())
                    .map(String::as_str)
                    .unwrap_or(value);
                let date = date_of(&obx.observation_date).unwrap_or(dose.date);
                match Observation::new(kind, value, text, date) {
                    Ok(o) => observations.push(o),
                    Err(e) => warn(
                        Hl7Error::RequiredFieldMissing,
                        AppError::InvalidValue,
                        e.to_string(),
                    ),
                }
            }
            loinc::REACTION | loinc::SEROLOGY => {}
            other => {
                // A robust receiver ignores observations it does not know and says so.
                issues.push(
                    Issue::warning(
                        ErrorLocation::new("OBX", seq, 3),
                        Hl7Error::TableValueNotFound,
                        format!("observation {other:?} is not recognized; ignored"),
                    )
                    .with_app(AppError::TableValueNotFound),
                );
            }
        }
    }
    for (_, parts) in vis {
        if let (Some(document), Some(presented)) = (parts.document, parts.presented) {
            dose.vis.push(VisGiven {
                document,
                published: parts.published,
                presented,
            });
        }
    }
}

#[derive(Default)]
struct VisParts {
    document: Option<String>,
    published: Option<NaiveDate>,
    presented: Option<NaiveDate>,
}
