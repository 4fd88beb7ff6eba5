//! Twins through the HL7 door: two children of one birth, reported by VXU, stay two
//! records (issue 18). The worst matching error a registry can make is merging them.

use super::tests::{run, store};
use super::*;
use ctwiz_core::ids::Zip;
use ctwiz_core::patient::{Address, Patient, PersonName, Sex};
use ctwiz_store::{PatientStore, SqliteStore};

/// A VXU from `pin` for a child of the Tymczak household (same birth date, family,
/// address, phone, mother), with one dose.
fn vxu(pin: &str, mrn: &str, given: &str, sex: &str, multiple: &str, order: &str) -> String {
    format!(
        "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|20261125090000||VXU^V04^VXU_V04|{pin}-{mrn}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
         PID|1||{mrn}^^^{pin}^MR||Tymczak^{given}^^^^^L|Nowak^Anna^^^^^M|20250101|{sex}|||12 Main St^^Hartford^CT^06106^USA^L||^PRN^PH^^^860^5550123|||||||||||{multiple}|{order}\r\
         ORC|RE||{mrn}-1^{pin}\r\
         RXA|0|1|20250101||08^HepB^CVX|0.5|mL||00^^NIP001||||||LOT1||MSD^^MVX|||CP|A\r"
    )
}

/// Two records (or one), and how many pairs wait for review.
fn records_and_reviews(s: &SqliteStore) -> (u64, usize) {
    (
        s.patient_count().expect("count"),
        s.dedup_reviews(10).expect("reviews").len(),
    )
}

#[test]
fn twins_reported_with_pid_24_and_25_are_two_records() {
    // Each twin by another clinic, so no clinic's MRN tells them apart.
    let s = store(&["C1", "C2"]);
    let first = run(&s, &vxu("C1", "M1", "Emma", "F", "Y", "1"));
    let second = run(&s, &vxu("C2", "M2", "Olivia", "F", "Y", "2"));
    for o in [&first, &second] {
        assert!(
            o.response.to_lines().contains("MSA|AA"),
            "{}",
            o.response.to_lines()
        );
    }
    assert_eq!(records_and_reviews(&s), (2, 0));
    // The second report of the first twin joins her record.
    run(&s, &vxu("C2", "M3", "Emma", "F", "Y", "1"));
    assert_eq!(records_and_reviews(&s), (2, 0));
    let p = s.patient(PatientId(1)).expect("read").expect("stored");
    assert_eq!((p.multiple_birth, p.birth_order), (Some(true), Some(1)));
}

#[test]
fn look_alike_twins_flagged_by_pid_24_alone_are_two_records() {
    // Same sex, names a letter apart, nothing else of their own: without PID-24 the
    // default model cannot tell them from one child with a slip (a review at least).
    let s = store(&["C1", "C2"]);
    run(&s, &vxu("C1", "M1", "Jayden", "M", "", ""));
    run(&s, &vxu("C2", "M2", "Jaden", "M", "", ""));
    assert_ne!(records_and_reviews(&s), (2, 0));
    let s = store(&["C1", "C2"]);
    run(&s, &vxu("C1", "M1", "Jayden", "M", "Y", ""));
    run(&s, &vxu("C2", "M2", "Jaden", "M", "Y", ""));
    assert_eq!(records_and_reviews(&s), (2, 0));
    // One twin's report alone is enough.
    let s = store(&["C1", "C2"]);
    run(&s, &vxu("C1", "M1", "Jayden", "M", "", ""));
    run(&s, &vxu("C2", "M2", "Jaden", "M", "Y", ""));
    assert_eq!(records_and_reviews(&s), (2, 0));
}

/// A registry of `n` other children, given names drawn in turn from `names`.
fn registry(s: &SqliteStore, n: usize, names: &[&str]) {
    for i in 0..n {
        let dob = NaiveDate::from_ymd_opt(
            2015 + (i % 10) as i32,
            1 + (i % 12) as u32,
            1 + (i % 28) as u32,
        )
        .expect("date");
        let mut p = Patient::new(
            PersonName::new(&format!("Family{i}"), names[i % names.len()]).expect("name"),
            dob,
            Sex::Male,
        )
        .expect("patient");
        p.addresses.push(
            Address::new(
                &format!("{i} Elm St"),
                "Avon",
                "CT",
                Zip::new("06001").expect("zip"),
            )
            .expect("address"),
        );
        s.create_patient(&p).expect("create");
    }
}

#[test]
fn the_registrys_name_counts_tell_look_alike_twins_from_a_slip() {
    let names = ["Jayden", "Jaden", "Noah", "Liam", "Mason"];
    // A registry where Jayden and Jaden are both names in use: two children.
    let s = store(&["C1", "C2", "C3"]);
    registry(&s, 1_200, &names);
    run(&s, &vxu("C1", "M1", "Jayden", "M", "", ""));
    run(&s, &vxu("C2", "M2", "Jaden", "M", "", ""));
    assert_eq!(records_and_reviews(&s), (1_202, 0));
    // A spelling nobody carries is a slip: one child, linked.
    run(&s, &vxu("C3", "M3", "Jaydne", "M", "", ""));
    assert_eq!(records_and_reviews(&s), (1_202, 0));
    assert_eq!(
        s.find_by_mrn(&ClinicPin::new("C3").expect("pin"), "M3")
            .expect("find"),
        s.find_by_mrn(&ClinicPin::new("C1").expect("pin"), "M1")
            .expect("find"),
    );
}
