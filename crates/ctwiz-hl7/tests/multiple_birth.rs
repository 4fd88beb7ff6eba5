//! PID-24 (multiple birth, Y/N) and PID-25 (birth order) read from a VXU, kept on the
//! patient, and written back in the RSP's PID: what is reported survives the round trip.

use chrono::NaiveDate;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_hl7::datatype::{parse_timestamp, Hd};
use ctwiz_hl7::er7;
use ctwiz_hl7::message::qbp::Qbp;
use ctwiz_hl7::message::rsp::{build_z32, PatientRecord};
use ctwiz_hl7::message::vxu::Vxu;
use ctwiz_hl7::message::Responder;
use proptest::prelude::*;

const MSH: &str = "MSH|^~\\&|EHR|CT00001|CTWIZ|CTDPH|20240301101500-0500||VXU^V04^VXU_V04|MSG-1|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS";

/// The patient a VXU with this PID describes.
fn read(pid: &str) -> Patient {
    let text = format!("{MSH}\r{pid}\r");
    let msg = er7::parse(&text).expect("parses");
    let vxu = Vxu::from_message(&msg).expect("valid VXU");
    vxu.to_core(&ClinicPin::new("CT00001").expect("pin"))
        .patient
        .expect("a patient")
}

fn pid(multiple: &str, order: &str) -> String {
    format!(
        "PID|1||M1^^^CT00001^MR||Doe^Jayden^^^^^L||20250101|M||||||||||||||||{multiple}|{order}"
    )
}

#[test]
fn pid_24_is_kept_and_pid_25_only_with_y() {
    let p = read(&pid("Y", "2"));
    assert_eq!((p.multiple_birth, p.birth_order), (Some(true), Some(2)));
    let p = read(&pid("Y", ""));
    assert_eq!((p.multiple_birth, p.birth_order), (Some(true), None));
    let p = read(&pid("N", ""));
    assert_eq!((p.multiple_birth, p.birth_order), (Some(false), None));
    // An order beside N or nothing is not taken (CDC IG R1.5: PID-25 with PID-24 Y).
    let p = read(&pid("N", "1"));
    assert_eq!((p.multiple_birth, p.birth_order), (Some(false), None));
    let p = read(&pid("", "1"));
    assert_eq!((p.multiple_birth, p.birth_order), (None, None));
}

/// The PID of a Z32 response for `p`.
fn written(p: &Patient) -> String {
    let qbp = "MSH|^~\\&|EHR|CT00001|CTWIZ|CTDPH|20240301101500-0500||QBP^Q11^QBP_Q11|Q-9|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
QPD|Z34^Request Immunization History^CDCPHINVS|TAG-1|M1^^^CT00001^MR|Doe^Jayden^^^^^L||20250101|M\r\
RCP|I|5^RD&records&HL70126\r";
    let query = Qbp::from_message(&er7::parse(qbp).expect("parses")).expect("query");
    let responder = Responder {
        application: Hd::new("CTWIZ"),
        facility: Hd::new("CTDPH"),
        control_id: "R-1".into(),
        timestamp: parse_timestamp("20240301120000-0500").expect("valid"),
        organization: ("CT DPH".into(), "CTDPH".into()),
    };
    let rsp = build_z32(
        &query,
        &responder,
        PatientRecord {
            patient: p,
            registry_id: Some("7"),
        },
        &[],
        &CodeSets::embedded(),
        "CTWIZ",
    );
    rsp.to_er7()
        .split('\r')
        .find(|s| s.starts_with("PID|"))
        .expect("a PID")
        .to_string()
}

proptest! {
    /// What a patient says of a multiple birth is what its RSP's PID says, read back.
    #[test]
    fn multiple_birth_round_trips(
        multiple in any::<Option<bool>>(),
        order in prop::option::of(1u8..=9),
    ) {
        let mut p = Patient::new(
            PersonName::new("Doe", "Jayden").expect("name"),
            NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            Sex::Male,
        )
        .expect("patient");
        p.multiple_birth = multiple;
        p.birth_order = order;
        let pid = written(&p);
        let back = read(&pid);
        prop_assert_eq!(back.reported_multiple_birth(), p.reported_multiple_birth());
        prop_assert_eq!(back.birth_order, p.birth_order);
        // And once read, it is written the same again.
        prop_assert_eq!(written(&back), pid);
    }
}
