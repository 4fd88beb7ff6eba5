//! RSP^K11 responses to Z34/Z44 queries (CDC IG R1.5 Chapter 7):
//! Z32 complete history, Z42 evaluated history and forecast, Z31 list of
//! candidates, Z33 no match / too many / query error.

use chrono::NaiveDate;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::Dose;
use ctwiz_core::patient::{Address, Patient};

use super::ack::{response_header, AckCode};
use super::qbp::Qbp;
use super::{Issue, Responder, Severity};
use crate::datatype::{format_date, yes_no_code, Cwe, Cx, Ei, Xad, Xpn, Xtn};
use crate::er7::MessageBuf;
use crate::escape::Delimiters;
use crate::segment::msh::MessageType;
use crate::segment::{Msa, Msh, Nk1, Obx, Orc, Pd1, Pid, Qak, Qpd, Rxa, Rxr};

/// QAK-2, HL7 table 0208.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    Ok,
    NotFound,
    TooMany,
    Protected,
    Error,
    Rejected,
}

impl QueryStatus {
    pub fn code(self) -> &'static str {
        match self {
            QueryStatus::Ok => "OK",
            QueryStatus::NotFound => "NF",
            QueryStatus::TooMany => "TM",
            QueryStatus::Protected => "PD",
            QueryStatus::Error => "AE",
            QueryStatus::Rejected => "AR",
        }
    }
}

/// A patient as the registry returns it.
#[derive(Debug, Clone, Copy)]
pub struct PatientRecord<'a> {
    pub patient: &'a Patient,
    /// The registry's own id, sent as PID-3 type SR.
    pub registry_id: Option<&'a str>,
}

/// The evaluation of one dose for one vaccine group (Z42 OBX 30956-7,
/// 59779-9, 59781-5, 30982-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseEvaluation {
    /// Vaccine group as a CVX code and name (e.g. `107` "DTaP, NOS").
    pub vaccine_group: Cwe,
    pub valid: bool,
    /// Why the dose does not count, is extra, or made the series longer (OBX 30982-3):
    /// a local code and the words a nurse reads (`ctwiz_forecast::explain`).
    pub reason: Option<Cwe>,
    pub dose_number: Option<u32>,
}

/// A dose with its evaluations.
#[derive(Debug, Clone)]
pub struct EvaluatedDose<'a> {
    pub dose: &'a Dose,
    pub evaluations: Vec<DoseEvaluation>,
}

/// The forecast for one vaccine group (Z42 OBX 30956-7, 59783-1, 30973-2,
/// 30981-5, 30980-7, 59778-1, 59777-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub vaccine_group: Cwe,
    /// Series status (e.g. `LA13421-5^Complete^LN`, `LA13423-1^Overdue^LN`), with the
    /// status a nurse reads as its alternate code (`...^DUE^Due now^99CTW`).
    pub status: Option<Cwe>,
    /// Why the next dose is forecast, when a dose of the history explains it (OBX
    /// 30982-3, e.g. a HepB dose 3 given before 24 weeks of age).
    pub reason: Option<Cwe>,
    pub dose_number: Option<u32>,
    pub earliest: Option<NaiveDate>,
    pub recommended: Option<NaiveDate>,
    pub overdue: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

fn header(
    query: &Qbp,
    responder: &Responder,
    profile: &str,
    code: AckCode,
    status: QueryStatus,
) -> MessageBuf {
    header_for(
        &query.msh, &query.qpd, responder, profile, code, status, None,
    )
}

/// MSH, MSA, the one ERR RSP_K11 allows (IG R1.5 §7.3: `MSA [ERR] QAK QPD`), QAK and
/// the QPD echoed as received.
fn header_for(
    msh: &Msh,
    qpd: &Qpd,
    responder: &Responder,
    profile: &str,
    code: AckCode,
    status: QueryStatus,
    err: Option<&Issue>,
) -> MessageBuf {
    let d = Delimiters::default();
    let mut m = MessageBuf::from_segments(d, Vec::new());
    let header = response_header(
        msh,
        responder,
        MessageType::new("RSP", "K11", "RSP_K11"),
        profile,
    );
    m.push(header.to_segment(d));
    m.push(
        Msa {
            code: code.code().into(),
            control_id: msh.control_id.clone(),
        }
        .to_segment(),
    );
    if let Some(issue) = err {
        m.push(issue.to_err().to_segment());
    }
    m.push(
        Qak {
            query_tag: qpd.query_tag.clone(),
            status: status.code().into(),
            query_name: qpd.query_name.clone(),
        }
        .to_segment(),
    );
    m.push(qpd.to_segment());
    m
}

/// The issue an RSP_K11 reports in its one ERR: the first error, else the first
/// warning, else the first note (the message log keeps them all).
pub fn most_serious(issues: &[Issue]) -> Option<&Issue> {
    [Severity::Error, Severity::Warning, Severity::Information]
        .into_iter()
        .find_map(|sev| issues.iter().find(|i| i.severity == sev))
}

/// Z33: no patient found (NF), too many candidates (TM), protected (PD),
/// or a query in error (AE/AR, with the most serious issue as its one ERR).
pub fn build_z33(
    query: &Qbp,
    responder: &Responder,
    status: QueryStatus,
    issues: &[Issue],
) -> MessageBuf {
    build_query_error(&query.msh, &query.qpd, responder, status, issues)
}

/// Z33 for a query whose QPD was read but which cannot be answered as asked
/// (unknown or missing query name, a required field missing): QAK `status`
/// (AE/AR, or NF/TM/PD with no error), MSA to match, one ERR.
pub fn build_query_error(
    msh: &Msh,
    qpd: &Qpd,
    responder: &Responder,
    status: QueryStatus,
    issues: &[Issue],
) -> MessageBuf {
    let code = match status {
        QueryStatus::Error => AckCode::Error,
        QueryStatus::Rejected => AckCode::Reject,
        _ => AckCode::Accept,
    };
    header_for(
        msh,
        qpd,
        responder,
        "Z33",
        code,
        status,
        most_serious(issues),
    )
}

/// Z31: the candidates that matched, one PID (and NK1s) each.
pub fn build_z31(
    query: &Qbp,
    responder: &Responder,
    candidates: &[PatientRecord<'_>],
    registry: &str,
) -> MessageBuf {
    let mut m = header(query, responder, "Z31", AckCode::Accept, QueryStatus::Ok);
    for (i, c) in candidates.iter().enumerate() {
        m.push(pid_for(c, i + 1, registry).to_segment());
        for (k, nk1) in nk1s_for(c.patient).iter().enumerate() {
            let mut nk1 = nk1.clone();
            nk1.set_id = (k + 1).to_string();
            m.push(nk1.to_segment());
        }
    }
    m
}

/// Z32: the complete immunization history of one patient.
pub fn build_z32(
    query: &Qbp,
    responder: &Responder,
    record: PatientRecord<'_>,
    doses: &[Dose],
    codes: &CodeSets,
    registry: &str,
) -> MessageBuf {
    let mut m = header(query, responder, "Z32", AckCode::Accept, QueryStatus::Ok);
    push_patient(&mut m, record, registry);
    for dose in doses {
        push_dose(&mut m, dose, codes, registry);
        let mut obx = dose_observations(dose, 0);
        renumber(&mut obx);
        for o in obx {
            m.push(o.to_segment());
        }
    }
    m
}

/// Z42: evaluated history and forecast. The forecast follows the doses
/// under an RXA with CVX 998 "no vaccine administered" (IG R1.5 §7.4.2).
pub fn build_z42(
    query: &Qbp,
    responder: &Responder,
    record: PatientRecord<'_>,
    doses: &[EvaluatedDose<'_>],
    forecast: &[Forecast],
    codes: &CodeSets,
    registry: &str,
) -> MessageBuf {
    let mut m = header(query, responder, "Z42", AckCode::Accept, QueryStatus::Ok);
    push_patient(&mut m, record, registry);
    let today = format_date(responder.timestamp.date());
    let schedule = || Cwe::new("VXC16", "ACIP", "CDCPHINVS");
    let loinc = |code: &str, text: &str| Cwe::new(code, text, "LN");
    // IG R1.5 Z42: the reason applied by the evaluation and forecast logic.
    let reason = || {
        loinc(
            "30982-3",
            "Reason applied by forecast logic to project this vaccine",
        )
    };
    for ed in doses {
        push_dose(&mut m, ed.dose, codes, registry);
        let mut obx = Vec::new();
        for (i, ev) in ed.evaluations.iter().enumerate() {
            let sub = (i + 1).to_string();
            obx.push(Obx::coded(
                0,
                loinc("30956-7", "Vaccine type"),
                &sub,
                ev.vaccine_group.clone(),
            ));
            obx.push(Obx::coded(
                0,
                loinc("59779-9", "Immunization schedule used"),
                &sub,
                schedule(),
            ));
            if let Some(n) = ev.dose_number {
                obx.push(Obx::simple(
                    0,
                    "NM",
                    loinc("30973-2", "Dose number in series"),
                    &sub,
                    &n.to_string(),
                ));
            }
            obx.push(Obx::simple(
                0,
                "ID",
                loinc("59781-5", "Dose validity"),
                &sub,
                if ev.valid { "Y" } else { "N" },
            ));
            if let Some(r) = &ev.reason {
                obx.push(Obx::coded(0, reason(), &sub, r.clone()));
            }
        }
        // OBX-4 groups continue after the evaluation groups.
        obx.extend(dose_observations(ed.dose, ed.evaluations.len()));
        renumber(&mut obx);
        for mut o in obx {
            o.observation_date = today.clone();
            m.push(o.to_segment());
        }
    }
    if !forecast.is_empty() {
        m.push(
            Orc {
                order_control: "RE".into(),
                filler_order: Ei::new("9999", registry),
                ..Orc::default()
            }
            .to_segment(),
        );
        m.push(
            Rxa {
                start: today.clone(),
                vaccine: Cwe::new("998", "No vaccine administered", "CVX"),
                amount: "999".into(),
                completion_status: "NA".into(),
                ..Rxa::default()
            }
            .to_segment(),
        );
        let mut obx = Vec::new();
        for (i, f) in forecast.iter().enumerate() {
            let sub = (i + 1).to_string();
            obx.push(Obx::coded(
                0,
                loinc("30956-7", "Vaccine type"),
                &sub,
                f.vaccine_group.clone(),
            ));
            obx.push(Obx::coded(
                0,
                loinc("59779-9", "Immunization schedule used"),
                &sub,
                schedule(),
            ));
            if let Some(s) = &f.status {
                obx.push(Obx::coded(
                    0,
                    loinc("59783-1", "Status in immunization series"),
                    &sub,
                    s.clone(),
                ));
            }
            if let Some(n) = f.dose_number {
                obx.push(Obx::simple(
                    0,
                    "NM",
                    loinc("30973-2", "Dose number in series"),
                    &sub,
                    &n.to_string(),
                ));
            }
            for (date, code, text) in [
                (f.earliest, "30981-5", "Earliest date to give"),
                (f.recommended, "30980-7", "Date vaccine due"),
                (f.overdue, "59778-1", "Date dose is overdue"),
                (f.latest, "59777-3", "Latest date to give"),
            ] {
                if let Some(d) = date {
                    obx.push(Obx::simple(
                        0,
                        "DT",
                        loinc(code, text),
                        &sub,
                        &format_date(d),
                    ));
                }
            }
            if let Some(r) = &f.reason {
                obx.push(Obx::coded(0, reason(), &sub, r.clone()));
            }
        }
        renumber(&mut obx);
        for mut o in obx {
            o.observation_date = today.clone();
            m.push(o.to_segment());
        }
    }
    m
}

fn renumber(obx: &mut [Obx]) {
    for (i, o) in obx.iter_mut().enumerate() {
        o.set_id = (i + 1).to_string();
    }
}

fn push_patient(m: &mut MessageBuf, record: PatientRecord<'_>, registry: &str) {
    m.push(pid_for(&record, 1, registry).to_segment());
    let p = record.patient;
    let publicity = p.publicity.as_ref();
    m.push(
        Pd1 {
            publicity_code: publicity
                .map(|x| Cwe::new(&x.code, publicity_label(&x.code), "HL70215"))
                .unwrap_or_default(),
            publicity_date: publicity
                .and_then(|x| x.since)
                .map(format_date)
                .unwrap_or_default(),
            protection_indicator: if p.confidential { "Y" } else { "N" }.into(),
            registry_status: p.status.code().into(),
            ..Pd1::default()
        }
        .to_segment(),
    );
    for nk1 in nk1s_for(p) {
        m.push(nk1.to_segment());
    }
}

/// HL7 table 0215 (publicity code) as the CDC IG lists it.
fn publicity_label(code: &str) -> &'static str {
    match code {
        "01" => "No reminder/recall",
        "02" => "Reminder/recall - any method",
        "03" => "Reminder/recall - no calls",
        "04" => "Reminder only - any method",
        "05" => "Reminder only - no calls",
        "06" => "Recall only - any method",
        "07" => "Recall only - no calls",
        "08" => "Reminder/recall - to provider",
        "09" => "Reminder to provider",
        "10" => "Only reminder to provider, no recall",
        "11" => "Recall to provider",
        "12" => "Only recall to provider, no reminder",
        _ => "",
    }
}

fn pid_for(record: &PatientRecord<'_>, set_id: usize, registry: &str) -> Pid {
    let p = record.patient;
    let mut ids: Vec<Cx> = p
        .mrns
        .iter()
        // The sender's own assigning authority (CX-4) when it gave one.
        .map(|m| {
            Cx::new(
                &m.value,
                m.authority.as_deref().unwrap_or(m.clinic.as_str()),
                "MR",
            )
        })
        .collect();
    if let Some(id) = record.registry_id {
        ids.push(Cx::new(id, registry, "SR"));
    }
    Pid {
        set_id: set_id.to_string(),
        identifiers: ids,
        names: vec![Xpn {
            family: p.name.family.clone(),
            given: p.name.given.clone(),
            middle: p.name.middle.clone().unwrap_or_default(),
            suffix: p.name.suffix.clone().unwrap_or_default(),
            name_type: "L".into(),
        }],
        mothers_maiden_name: Xpn {
            family: p.mothers_maiden_name.clone().unwrap_or_default(),
            name_type: if p.mothers_maiden_name.is_some() {
                "M".into()
            } else {
                String::new()
            },
            ..Xpn::default()
        },
        birth_date: format_date(p.dob),
        sex: p.sex.code().into(),
        races: p
            .races
            .iter()
            .map(|r| Cwe::new(r.code(), "", "CDCREC"))
            .collect(),
        addresses: p.addresses.iter().map(xad).collect(),
        phones: p
            .phones
            .iter()
            .map(|ph| {
                Xtn::phone(
                    &ph.as_str()[..3.min(ph.as_str().len())],
                    ph.as_str().get(3..).unwrap_or(""),
                )
            })
            .collect(),
        ethnicity: p
            .ethnicity
            .iter()
            .map(|e| Cwe::new(e.code(), "", "CDCREC"))
            .collect(),
        multiple_birth: yes_no_code(p.reported_multiple_birth()).into(),
        birth_order: p.birth_order.map(|b| b.to_string()).unwrap_or_default(),
        death_date: p.deceased_date.map(format_date).unwrap_or_default(),
        death_indicator: if p.deceased_date.is_some() {
            "Y".into()
        } else {
            String::new()
        },
    }
}

/// XAD of an address, with the type the sender gave (XAD-7), else L (legal).
fn xad(a: &Address) -> Xad {
    Xad {
        street: a.street.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        zip: a.zip.to_string(),
        country: "USA".into(),
        address_type: a.kind.clone().unwrap_or_else(|| "L".into()),
        county: a.county.map(|c| c.fips().to_string()).unwrap_or_default(),
        ..Xad::default()
    }
}

fn nk1s_for(p: &Patient) -> Vec<Nk1> {
    p.guardians
        .iter()
        .enumerate()
        .map(|(i, g)| Nk1 {
            set_id: (i + 1).to_string(),
            name: Xpn {
                family: g.name.family.clone(),
                given: g.name.given.clone(),
                name_type: "L".into(),
                ..Xpn::default()
            },
            relationship: Cwe::new(g.relationship.code(), "", "HL70063"),
            address: g.address.as_ref().map(xad).unwrap_or_default(),
            phones: g
                .phone
                .iter()
                .map(|ph| {
                    Xtn::phone(
                        ph.as_str().get(..3).unwrap_or(""),
                        ph.as_str().get(3..).unwrap_or(""),
                    )
                })
                .collect(),
        })
        .collect()
}

fn push_dose(m: &mut MessageBuf, dose: &Dose, codes: &CodeSets, registry: &str) {
    let dose_id = dose.id.map(|id| id.to_string()).unwrap_or_default();
    m.push(
        Orc {
            order_control: "RE".into(),
            filler_order: Ei::new(if dose_id.is_empty() { "9999" } else { &dose_id }, registry),
            ..Orc::default()
        }
        .to_segment(),
    );
    let vaccine_name = codes
        .vaccine(&dose.cvx)
        .map(|v| v.short_name.clone())
        .unwrap_or_default();
    let mvx = dose.mvx.as_ref().map(|m| {
        let name = codes
            .manufacturer(m)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        Cwe::new(m.as_str(), &name, "MVX")
    });
    let rxa = Rxa {
        start: format_date(dose.date),
        vaccine: Cwe::new(dose.cvx.as_str(), &vaccine_name, "CVX"),
        amount: dose
            .amount
            .as_ref()
            .map(|a| a.value.to_string())
            .unwrap_or_else(|| "999".into()),
        units: dose
            .amount
            .as_ref()
            .map(|a| Cwe::new(&a.unit, &a.unit, "UCUM"))
            .unwrap_or_default(),
        information_source: Cwe::new(dose.source.code(), dose.source.label(), "NIP001"),
        location_facility: dose
            .clinic
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        lot_numbers: dose.lot.iter().map(|l| l.to_string()).collect(),
        expiration: dose.lot_expiration.map(format_date).unwrap_or_default(),
        manufacturer: mvx.unwrap_or_default(),
        refusal_reason: dose
            .refusal
            .map(|r| Cwe::new(r.code(), r.label(), "NIP002"))
            .unwrap_or_default(),
        completion_status: dose.completion.code().into(),
        administering_provider: dose
            .administered_by
            .as_ref()
            .map(crate::datatype::Xcn::from_provider)
            .unwrap_or_default(),
        action_code: "A".into(),
        ..Rxa::default()
    };
    m.push(rxa.to_segment());
    if dose.route.is_some() || dose.site.is_some() {
        m.push(
            Rxr {
                route: dose
                    .route
                    .map(|r| Cwe::new(r.code(), r.label(), "NCIT"))
                    .unwrap_or_default(),
                site: dose
                    .site
                    .map(|s| Cwe::new(s.code(), s.label(), "HL70163"))
                    .unwrap_or_default(),
            }
            .to_segment(),
        );
    }
}

/// Eligibility, funding and VIS observations of a dose (IG R1.5 §6.19).
fn dose_observations(dose: &Dose, first_sub: usize) -> Vec<Obx> {
    let mut obx = Vec::new();
    let loinc = |code: &str, text: &str| Cwe::new(code, text, "LN");
    let mut sub = first_sub;
    if let Some(e) = dose.eligibility {
        sub += 1;
        let mut o = Obx::coded(
            0,
            loinc("64994-7", "Vaccine funding program eligibility category"),
            &sub.to_string(),
            Cwe::new(e.code(), e.label(), "HL70064"),
        );
        o.method = Cwe::new(
            "VXC40",
            "Eligibility captured at the immunization level",
            "CDCPHINVS",
        );
        obx.push(o);
    }
    if let Some(f) = dose.funding {
        sub += 1;
        obx.push(Obx::coded(
            0,
            loinc("30963-3", "Vaccine funding source"),
            &sub.to_string(),
            Cwe::new(f.code(), f.label(), "CDCPHINVS"),
        ));
    }
    for v in &dose.vis {
        sub += 1;
        let s = sub.to_string();
        obx.push(Obx::coded(
            0,
            loinc("69764-9", "Document type"),
            &s,
            Cwe::new(&v.document, "", "cdcgs1vis"),
        ));
        if let Some(p) = v.published {
            obx.push(Obx::simple(
                0,
                "DT",
                loinc("29768-9", "Date vaccine information statement published"),
                &s,
                &format_date(p),
            ));
        }
        obx.push(Obx::simple(
            0,
            "DT",
            loinc("29769-7", "Date vaccine information statement presented"),
            &s,
            &format_date(v.presented),
        ));
    }
    obx
}
