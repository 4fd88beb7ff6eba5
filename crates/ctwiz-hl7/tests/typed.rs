//! The typed layer over the shared samples: every VXU and QBP reads, maps
//! to ctwiz-core, and the malformed samples are reported.

use std::fs;
use std::path::{Path, PathBuf};

use ctwiz_core::ids::ClinicPin;
use ctwiz_hl7::er7;
use ctwiz_hl7::message::qbp::{Qbp, QueryProfile};
use ctwiz_hl7::message::vxu::Vxu;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/hl7/samples")
        .join(sub)
}

fn files(sub: &str) -> Vec<(String, String)> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(p).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)
            } else if p.extension().is_some_and(|x| x == "hl7") {
                out.push(p)
            }
        }
    }
    let mut v = Vec::new();
    walk(&dir(sub), &mut v);
    v.sort();
    v.into_iter()
        .map(|p| {
            let name = p.strip_prefix(dir("")).unwrap_or(&p).display().to_string();
            let text = fs::read_to_string(&p).unwrap_or_default();
            (name, text)
        })
        .collect()
}

fn clinic() -> ClinicPin {
    ClinicPin::new("CT00001").expect("valid pin")
}

#[test]
fn every_vxu_sample_maps_to_core() {
    let samples = files("vxu_v04");
    let mut with_patient = 0;
    let mut doses = 0;
    for (name, text) in &samples {
        let msg = er7::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let vxu = Vxu::from_message(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let record = vxu.to_core(&clinic());
        for i in record.issues.iter().filter(|i| i.is_error()) {
            eprintln!("{name}: {:?} {:?} {}", i.location, i.code, i.message);
        }
        with_patient += usize::from(record.patient.is_some());
        doses += record.doses.len();
    }
    eprintln!(
        "{} VXU samples, {with_patient} with a patient, {doses} doses",
        samples.len()
    );
    assert_eq!(samples.len(), 28);
    assert!(with_patient >= 26, "{with_patient}");
    assert!(doses >= 35, "{doses}");
}

#[test]
fn every_qbp_sample_reads() {
    let samples = files("qbp_q11");
    for (name, text) in &samples {
        let msg = er7::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let q = Qbp::from_message(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expect_errors = name.contains("template_empty_fields");
        assert_eq!(q.has_errors(), expect_errors, "{name}: {:?}", q.issues);
        if name.contains("Z44") {
            assert_eq!(
                q.profile,
                QueryProfile::EvaluatedHistoryAndForecast,
                "{name}"
            );
        }
    }
    assert_eq!(samples.len(), 18);
}

/// What the typed layer says about each malformed sample. All of them are
/// well-formed ER7 (see tests/samples.rs); the problems are semantic.
#[test]
fn malformed_samples_are_reported() {
    let check = |sub: &str| -> (bool, Vec<String>) {
        let (_, text) = files("malformed")
            .into_iter()
            .find(|(n, _)| n.contains(sub))
            .expect("sample exists");
        let msg = er7::parse(&text).expect("well-formed ER7");
        let code = msg.msh().field(9).component(1).text().into_owned();
        let (rejected, issues) = match code.as_str() {
            "VXU" => match Vxu::from_message(&msg) {
                Ok(v) => (false, v.to_core(&clinic()).issues),
                Err(r) => (true, r.issues),
            },
            "QBP" => match Qbp::from_message(&msg) {
                Ok(q) => (false, q.issues),
                Err(r) => (true, r.issues),
            },
            _ => {
                let msh = ctwiz_hl7::segment::Msh::from_segment(msg.msh());
                (
                    false,
                    ctwiz_hl7::datatype::parse_timestamp(&msh.timestamp)
                        .err()
                        .map(|e| vec![e.to_string()])
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            ctwiz_hl7::message::Issue::error(
                                Default::default(),
                                ctwiz_hl7::message::Hl7Error::DataType,
                                m,
                            )
                        })
                        .collect(),
                )
            }
        };
        (
            rejected,
            issues
                .iter()
                .map(|i| {
                    format!(
                        "{} {}{}",
                        i.severity.code(),
                        i.code.code(),
                        if i.message.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", i.message)
                        }
                    )
                })
                .collect(),
        )
    };
    // ORC with no RXA: an error on the ORC (the order cannot be recorded).
    let (rej, issues) = check("missing-rxa");
    assert!(
        !rej && issues
            .iter()
            .any(|i| i.starts_with("E 100") && i.contains("ORC")),
        "{issues:?}"
    );
    // Unknown OBX LOINC under an RXA: tolerated with a warning.
    let (rej, issues) = check("unknown-order-obx");
    assert!(
        !rej && issues
            .iter()
            .any(|i| i.starts_with("W 103") && i.contains("99999-9")),
        "{issues:?}"
    );
    // MSH-7 with a space in the time zone: data type error.
    for ack in ["TC_ACK05", "TC_ACK06"] {
        let (_, issues) = check(ack);
        assert!(
            issues.iter().any(|i| i.starts_with("E 102")),
            "{ack}: {issues:?}"
        );
    }
    // QBP missing sex (warning), name, birth date (errors), query name, QPD.
    let (rej, issues) = check("TC_MOCK_07a");
    assert!(
        !rej && issues
            .iter()
            .any(|i| i.starts_with("W 101") && i.contains("QPD-7")),
        "{issues:?}"
    );
    let (_, issues) = check("TC_MOCK_07b");
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("E 101") && i.contains("QPD-4")),
        "{issues:?}"
    );
    let (_, issues) = check("TC_MOCK_07c");
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("E 101") && i.contains("QPD-6")),
        "{issues:?}"
    );
    let (rej, issues) = check("TC_MOCK_07d");
    assert!(
        rej && issues
            .iter()
            .any(|i| i.starts_with("E 101") && i.contains("QPD-1")),
        "{issues:?}"
    );
    let (rej, issues) = check("TC_MOCK_08");
    assert!(
        rej && issues
            .iter()
            .any(|i| i.starts_with("E 100") && i.contains("QPD")),
        "{issues:?}"
    );
    // A "QBP" segment instead of QPD.
    let (rej, issues) = check("MDTL");
    assert!(
        rej && issues.iter().any(|i| i.contains("QPD segment is missing")),
        "{issues:?}"
    );
}

#[test]
fn nist_vxu_maps_dose_details() {
    let (_, text) = files("vxu_v04")
        .into_iter()
        .find(|(n, _)| n.contains("TEST_REPLACE_ESCAPES"))
        .expect("sample");
    let msg = er7::parse(&text).expect("parses");
    let vxu = Vxu::from_message(&msg).expect("VXU");
    let record = vxu.to_core(&clinic());
    let p = record.patient.expect("patient");
    assert_eq!(p.name.family, "Wong");
    assert_eq!(p.mrns[0].value, "90012");
    assert_eq!(p.phones.len(), 1);
    assert_eq!(p.emails.len(), 1);
    let d = &record.doses[0].dose;
    assert_eq!(d.cvx.as_str(), "135");
    assert!(!d.is_historical());
    assert_eq!(d.lot.as_ref().map(|l| l.as_str()), Some("315841"));
    assert_eq!(d.mvx.as_ref().map(|m| m.as_str()), Some("PMC"));
    assert_eq!(d.funding.map(|f| f.code()), Some("PHC70"));
    assert_eq!(d.eligibility.map(|e| e.code()), Some("V01"));
    assert_eq!(d.vis.len(), 1);
    assert_eq!(d.route.map(|r| r.code()), Some("C28161"));
    // The 99TPG priority-group OBX are not CDC IG observations: warnings.
    assert!(
        record.issues.iter().all(|i| !i.is_error()),
        "{:?}",
        record.issues
    );
}

/// A PID-3 that repeats the same MR number (some EHRs send each identifier list twice)
/// gives one MRN: it used to reach the store twice and fail as an internal error.
#[test]
fn a_repeated_mrn_is_one_mrn() {
    let text = "MSH|^~\\&|EHR|CT00001|CTWIZ|CTDPH|20261101120000||VXU^V04^VXU_V04|M1|P|2.5.1|||ER|AL\r\
                PID|1||A77^^^CT00001^MR~A77^^^CT00001^MR~B12^^^CT00001^MR||Doe^Jane^^^^^L||20200101|F\r\
                ORC|RE||O1^CT00001\r\
                RXA|0|1|20200301||08^^CVX|999|||01^^NIP001";
    let msg = er7::parse(text).expect("parses");
    let vxu = Vxu::from_message(&msg).expect("VXU");
    let record = vxu.to_core(&clinic());
    let p = record.patient.expect("patient");
    let mrns: Vec<&str> = p.mrns.iter().map(|m| m.value.as_str()).collect();
    assert_eq!(mrns, ["A77", "B12"]);
}
