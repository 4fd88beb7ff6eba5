//! Snapshots of built ACK^V04 and RSP^K11 messages (segments one per line).

use chrono::NaiveDate;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{Dose, FundingSource, InformationSource, VfcEligibility, VisGiven};
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, LotNumber, Mvx};
use ctwiz_core::patient::{Mrn, Patient, PersonName, Sex};
use ctwiz_hl7::datatype::{parse_timestamp, Cwe, Hd};
use ctwiz_hl7::er7;
use ctwiz_hl7::message::ack::{build_ack, build_parse_error_ack};
use ctwiz_hl7::message::qbp::Qbp;
use ctwiz_hl7::message::rsp::{
    build_z31, build_z32, build_z33, build_z42, DoseEvaluation, EvaluatedDose, Forecast,
    PatientRecord, QueryStatus,
};
use ctwiz_hl7::message::vxu::Vxu;
use ctwiz_hl7::message::Responder;

fn responder() -> Responder {
    Responder {
        application: Hd::new("CTWIZ"),
        facility: Hd::new("CTDPH"),
        control_id: "CTWIZ-0001".into(),
        timestamp: parse_timestamp("20240301120000-0500").expect("valid"),
        organization: (
            "Connecticut Department of Public Health".into(),
            "CTDPH".into(),
        ),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

const VXU_BAD_CVX: &str = "MSH|^~\\&|EHR|CT00001|CTWIZ|CTDPH|20240301101500-0500||VXU^V04^VXU_V04|MSG-42|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
PID|1||MRN-7^^^CT00001^MR||Doe^Jane^Q^^^^L||20230115|F\r\
ORC|RE||DOSE-1^CT00001\r\
RXA|0|1|20240215||999999^Bogus^CVX|0.5|mL^mL^UCUM||00^New Record^NIP001|||||||||||CP|A\r\
ORC|RE||DOSE-2^CT00001\r\
RXA|0|1|20230116||08^HepB ped^CVX|999|||01^Historical^NIP001|||||||||||CP|A\r";

const QBP_Z44: &str = "MSH|^~\\&|EHR|CT00001|CTWIZ|CTDPH|20240301101500-0500||QBP^Q11^QBP_Q11|Q-9|P|2.5.1|||ER|AL|||||Z44^CDCPHINVS\r\
QPD|Z44^Request Evaluated History and Forecast^CDCPHINVS|TAG-1|MRN-7^^^CT00001^MR|Doe^Jane^^^^^L||20230115|F\r\
RCP|I|5^RD&records&HL70126\r";

fn query() -> Qbp {
    let msg = er7::parse(QBP_Z44).expect("parses");
    Qbp::from_message(&msg).expect("valid query")
}

fn patient() -> Patient {
    let mut p = Patient::new(
        PersonName::new("Doe", "Jane").expect("name"),
        date(2023, 1, 15),
        Sex::Female,
    )
    .expect("patient");
    p.mrns
        .push(Mrn::new(ClinicPin::new("CT00001").expect("pin"), "MRN-7").expect("mrn"));
    p
}

fn doses() -> Vec<Dose> {
    let mut given = Dose::new(
        Cvx::new("20").expect("cvx"),
        date(2023, 3, 15),
        InformationSource::NewRecord,
    );
    given.id = Some(DoseId(11));
    given.lot = Some(LotNumber::new("AB123").expect("lot"));
    given.mvx = Some(Mvx::new("PMC").expect("mvx"));
    given.eligibility = Some(VfcEligibility::Medicaid);
    given.funding = Some(FundingSource::PublicVfc);
    given.vis.push(VisGiven {
        document: "253088698300003511070517".into(),
        published: Some(date(2021, 8, 6)),
        presented: date(2023, 3, 15),
    });
    let mut hist = Dose::new(
        Cvx::new("08").expect("cvx"),
        date(2023, 1, 16),
        InformationSource::HistoricalOtherProvider,
    );
    hist.id = Some(DoseId(12));
    vec![hist, given]
}

#[test]
fn ack_for_vxu_with_a_bad_cvx() {
    let msg = er7::parse(VXU_BAD_CVX).expect("parses");
    let vxu = Vxu::from_message(&msg).expect("VXU");
    let record = vxu.to_core(&ClinicPin::new("CT00001").expect("pin"));
    assert_eq!(record.doses.len(), 1);
    let ack = build_ack(&vxu.msh, &responder(), &record.issues, None);
    insta::assert_snapshot!(ack.to_lines());
}

#[test]
fn ack_accepting_a_clean_vxu() {
    let msg = er7::parse(VXU_BAD_CVX).expect("parses");
    let vxu = Vxu::from_message(&msg).expect("VXU");
    insta::assert_snapshot!(build_ack(&vxu.msh, &responder(), &[], None).to_lines());
}

#[test]
fn ack_rejecting_unparseable_input() {
    let err = er7::parse("HELLO").expect_err("not HL7");
    insta::assert_snapshot!(
        build_parse_error_ack(&err, &Default::default(), &responder()).to_lines()
    );
}

#[test]
fn rsp_z33_not_found() {
    insta::assert_snapshot!(
        build_z33(&query(), &responder(), QueryStatus::NotFound, &[]).to_lines()
    );
}

#[test]
fn rsp_z31_candidates() {
    let p = patient();
    let candidates = [
        PatientRecord {
            patient: &p,
            registry_id: Some("1001"),
        },
        PatientRecord {
            patient: &p,
            registry_id: Some("1002"),
        },
    ];
    insta::assert_snapshot!(build_z31(&query(), &responder(), &candidates, "CTWIZ").to_lines());
}

#[test]
fn rsp_z32_history() {
    let p = patient();
    let rsp = build_z32(
        &query(),
        &responder(),
        PatientRecord {
            patient: &p,
            registry_id: Some("1001"),
        },
        &doses(),
        &CodeSets::embedded(),
        "CTWIZ",
    );
    // What we build, we can read back.
    let text = rsp.to_er7();
    let parsed = er7::parse(&text).expect("response parses");
    assert_eq!(parsed.segments_named("RXA").count(), 2);
    insta::assert_snapshot!(rsp.to_lines());
}

#[test]
fn rsp_z42_evaluated_history_and_forecast() {
    let p = patient();
    let ds = doses();
    let evaluated: Vec<EvaluatedDose<'_>> = ds
        .iter()
        .map(|d| EvaluatedDose {
            dose: d,
            evaluations: vec![DoseEvaluation {
                vaccine_group: Cwe::new(
                    if d.cvx.as_str() == "08" { "45" } else { "107" },
                    "",
                    "CVX",
                ),
                valid: d.cvx.as_str() == "08",
                reason: (d.cvx.as_str() != "08").then(|| {
                    Cwe::new(
                        "TOO_YOUNG",
                        "dose 1 given before 6 weeks of age: it does not count and must be repeated",
                        "99CTW",
                    )
                }),
                dose_number: Some(1),
            }],
        })
        .collect();
    let forecast = [Forecast {
        vaccine_group: Cwe::new("107", "DTaP, unspecified formulation", "CVX"),
        status: Some(Cwe {
            alt_code: "OVERDUE".into(),
            alt_text: "Overdue".into(),
            alt_system: "99CTW".into(),
            ..Cwe::new("LA13423-1", "Overdue", "LN")
        }),
        reason: None,
        dose_number: Some(1),
        earliest: Some(date(2023, 2, 26)),
        recommended: Some(date(2023, 3, 15)),
        overdue: Some(date(2023, 4, 15)),
        latest: None,
    }];
    let rsp = build_z42(
        &query(),
        &responder(),
        PatientRecord {
            patient: &p,
            registry_id: None,
        },
        &evaluated,
        &forecast,
        &CodeSets::embedded(),
        "CTWIZ",
    );
    insta::assert_snapshot!(rsp.to_lines());
}
