//! The interface use cases over the real SQLite store and the shared samples.

use super::*;
use chrono::NaiveDate;
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Channel};
use ctwiz_core::dose::{Dose, InformationSource};
use ctwiz_core::ids::{Cvx, Email, LotNumber, PatientId, Username};
use ctwiz_core::inventory::{Lot, StockFunding};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Mrn, Patient, PersonName, Sex};
use ctwiz_store::{
    AuditFilter, AuditStore, DoseStore, InventoryStore, OrgStore, PatientStore, SqliteStore,
};
use std::path::{Path, PathBuf};

pub(super) fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid date")
}

pub(super) fn store(pins: &[&str]) -> SqliteStore {
    let s = SqliteStore::open_in_memory().expect("store");
    for p in pins {
        let pin = ClinicPin::new(p).expect("pin");
        s.add_clinic(
            &Clinic::new(pin, "Test Clinic", County::Hartford, ProgramType::Cvp).expect("clinic"),
        )
        .expect("add clinic");
    }
    s
}

/// The statewide interface operator: the matrix allows it everything, so these tests are
/// about the interface rules (the refusals have their own tests below).
fn state() -> Actor {
    actor("state-ehr", Role::StateAdmin, Scope::State, Acting::State)
}

fn actor(name: &str, role: Role, scope: Scope, acting: Acting) -> Actor {
    let mut u = User::new(
        Username::new(name).expect("name"),
        "Interface",
        Email::new("ehr@example.org").expect("email"),
    )
    .expect("user");
    u.grant(Grant::new(role, scope).expect("grant"));
    Actor::new(u, acting, Channel::Mllp)
}

pub(super) fn run(s: &SqliteStore, text: &str) -> Outcome {
    run_as(s, &state(), text)
}

fn run_as(s: &SqliteStore, who: &Actor, text: &str) -> Outcome {
    let codes = CodeSets::embedded();
    process_message(s, &context(&codes, who), text)
}

/// The context of these tests: fixed time and Connecticut's winter offset, so the
/// snapshots do not depend on the machine's time zone.
pub(super) fn context<'a>(codes: &'a CodeSets, who: &'a Actor) -> Context<'a> {
    let mut ctx = Context::new(codes, who, now(), "R1");
    ctx.utc_offset = FixedOffset::west_opt(5 * 3600).expect("offset");
    ctx
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/hl7/samples")
}

fn sample(rel: &str) -> Option<String> {
    std::fs::read_to_string(samples().join(rel)).ok()
}

/// A VXU from `pin` for child `mrn`, one dose per (cvx, date, source) with a sender id.
fn vxu(
    pin: &str,
    ctl: &str,
    mrn: &str,
    name: (&str, &str),
    dob: &str,
    pd1: &str,
    doses: &[(&str, &str, &str, &str)],
) -> String {
    let mut m = format!(
        "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|20261125090000||VXU^V04^VXU_V04|{ctl}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
         PID|1||{mrn}^^^{pin}^MR||{}^{}^^^^^L||{dob}|F\r",
        name.0, name.1
    );
    if !pd1.is_empty() {
        m.push_str(pd1);
        m.push('\r');
    }
    for (i, (cvx, date, source, action)) in doses.iter().enumerate() {
        m.push_str(&format!(
            "ORC|RE||{ctl}-{i}^{pin}\rRXA|0|1|{date}||{cvx}^^CVX|0.5|mL||{source}^^NIP001||||||LOT{i}||MSD^^MVX|||CP|{action}\r"
        ));
    }
    m
}

#[test]
fn every_sample_vxu_is_answered_and_reprocessing_adds_nothing() {
    let Some(_) = sample("vxu_v04/aidbox_fixtures/vxu-v04_base.hl7") else {
        eprintln!("samples not found; skipping");
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![samples().join("vxu_v04")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else if p.extension().is_some_and(|x| x == "hl7") {
                files.push(p)
            }
        }
    }
    files.sort();
    let s = store(&[
        "DE-000001",
        "DE-000002",
        "X68",
        "IZGW",
        "NISTEHRFAC",
        "1255-60-20",
        "9250",
        "10144",
    ]);
    let mut results = std::collections::BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let o = run(&s, &text);
        *results.entry(o.result.code()).or_insert(0) += 1;
    }
    let doses_after = |s: &SqliteStore| {
        let mut n = 0;
        s.for_each_patient(&mut |_, d| {
            n += d.len();
            Ok(())
        })
        .expect("scan");
        n
    };
    let (patients, doses) = (s.patient_count().expect("count"), doses_after(&s));
    assert!(
        patients > 5,
        "{patients} patients stored; results {results:?}"
    );
    for f in &files {
        run(&s, &std::fs::read_to_string(f).expect("read"));
    }
    assert_eq!(
        s.patient_count().expect("count"),
        patients,
        "re-processing created patients"
    );
    assert_eq!(doses_after(&s), doses, "re-processing added doses");
    insta::assert_debug_snapshot!("sample_vxu_results", results);
    assert_eq!(
        s.message_log(None, 1000).expect("log").len(),
        files.len() * 2
    );
}

#[test]
fn base_sample_ack_and_z32_history() {
    let Some(text) = sample("vxu_v04/aidbox_fixtures/vxu-v04_base.hl7") else {
        return;
    };
    let s = store(&["DE-000001"]);
    let o = run(&s, &text);
    assert!(o.stored);
    insta::assert_snapshot!("base_sample_ack", o.response.to_lines());
    let q = "MSH|^~\\&|EHR|DE-000001|CTWIZ|CTDPH|20261125090000||QBP^Q11^QBP_Q11|Q1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
             QPD|Z34^Request Immunization History^CDCPHINVS|T1|PA123456^^^MYEMR^MR|JONES^GEORGE^M^^^^L||20140227|M\r\
             RCP|I|5^RD&records&HL70126\r";
    let r = run(&s, q);
    insta::assert_snapshot!("base_sample_z32", r.response.to_lines());
}

#[test]
fn unknown_or_missing_facility_is_rejected_and_logged() {
    let s = store(&[]);
    let o = run(
        &s,
        &vxu(
            "NOPE",
            "C1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    assert_eq!(o.result, AckResult::Rejected);
    insta::assert_snapshot!("unknown_facility_ack", o.response.to_lines());
    assert_eq!(s.patient_count().expect("count"), 0);
    let log = s.message_log(None, 10).expect("log");
    assert_eq!(
        (
            log[0].facility.as_str(),
            log[0].result,
            log[0].errors[0].hl7_code.as_str()
        ),
        ("NOPE", AckResult::Rejected, "204")
    );
}

#[test]
fn not_hl7_and_unsupported_types_are_rejected() {
    let s = store(&["C1"]);
    assert_eq!(run(&s, "hello").result, AckResult::Rejected);
    let adt = "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20261125090000||ADT^A04|9|P|2.5.1\rPID|1||M^^^C1^MR||Doe^Ann||20250101|F\r";
    let o = run(&s, adt);
    assert_eq!(o.result, AckResult::Rejected);
    assert!(
        o.response.to_lines().contains("ERR||MSH^1^9^1^1|200^"),
        "{}",
        o.response.to_lines()
    );
}

#[test]
fn errors_future_dates_and_unknown_cvx_give_ae_and_keep_the_rest() {
    let s = store(&["C1"]);
    let o = run(
        &s,
        &vxu(
            "C1",
            "C1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[
                ("08", "20250101", "00", "A"),
                ("08", "20270101", "00", "A"),
                ("9876", "20250301", "01", "A"),
                ("20", "20241201", "01", "A"),
            ],
        ),
    );
    assert_eq!(o.result, AckResult::Error, "{}", o.response.to_lines());
    insta::assert_snapshot!("dose_errors_ack", o.response.to_lines());
    let id = s
        .find_by_mrn(&ClinicPin::new("C1").expect("pin"), "M1")
        .expect("find")
        .expect("stored");
    assert_eq!(
        s.doses(id).expect("doses").len(),
        1,
        "only the valid dose is kept"
    );
}

#[test]
fn qa_clinics_are_validated_and_acknowledged_but_not_stored() {
    let s = store(&["C1"]);
    let pin = ClinicPin::new("C1").expect("pin");
    s.set_interface_status(&pin, InterfaceStatus::Qa, now())
        .expect("qa");
    let o = run(
        &s,
        &vxu(
            "C1",
            "C1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    assert_eq!(o.result, AckResult::Accepted);
    assert!(!o.stored);
    assert_eq!(s.patient_count().expect("count"), 0);
    assert_eq!(
        s.message_log(None, 1).expect("log")[0].mode,
        InterfaceStatus::Qa
    );
    let bad = run(
        &s,
        &vxu(
            "C1",
            "C2",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20290101", "00", "A")],
        ),
    );
    assert_eq!(bad.result, AckResult::Error);
}

#[test]
fn opted_out_patient_keeps_no_immunization_data() {
    let s = store(&["C1"]);
    let pin = ClinicPin::new("C1").expect("pin");
    let mut p = Patient::new(
        PersonName::new("Doe", "Ann").expect("name"),
        NaiveDate::from_ymd_opt(2025, 1, 1).expect("d"),
        Sex::Female,
    )
    .expect("p");
    p.mrns.push(Mrn::new(pin.clone(), "M1").expect("mrn"));
    p.opt_out(
        NaiveDate::from_ymd_opt(2025, 2, 1).expect("d"),
        "parent request",
    )
    .expect("opt out");
    let id = s.create_patient(&p).expect("create");
    let o = run(
        &s,
        &vxu(
            "C1",
            "C1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    assert_eq!(o.result, AckResult::Accepted);
    insta::assert_snapshot!("opted_out_ack", o.response.to_lines());
    assert!(s.doses(id).expect("doses").is_empty());
    // Queries do not return the record either.
    let q = query("C1", "Z34", "M1", "Doe", "Ann", "20250101");
    assert!(run(&s, &q).response.to_lines().contains("QAK|T1|NF|"));
}

/// Patient-level OBX (before the first order) for an indication to immunize (59785-6, e.g.
/// VXC7 rabies exposure) and the risk/indication code 75505-8 are stored as condition
/// observations with the VXU, like immunity and contraindications; one dated before the
/// birth is left out with a warning (the rule the web applies, `Observation::validate`).
#[test]
fn indication_and_risk_observations_are_stored_with_the_vxu() {
    use ctwiz_core::dose::ObservationKind;
    let s = store(&["C1"]);
    let mut m = vxu("C1", "O1", "M1", ("Doe", "Ann"), "20250101", "", &[]);
    m.push_str(
        "OBX|1|CE|59785-6^Indication for immunization^LN|1|VXC7^Rabies exposure within previous 10 days^CDCPHINVS||||||F|||20261120\r\
         OBX|2|CE|75505-8^Indication or risk^LN|2|VXC8^Member of special group^CDCPHINVS||||||F|||20260105\r\
         OBX|3|CE|59785-6^Indication for immunization^LN|3|VXC7^Rabies exposure within previous 10 days^CDCPHINVS||||||F|||20240101\r",
    );
    let o = run(&s, &m);
    let text = o.response.to_lines();
    assert_eq!(o.result, AckResult::Accepted, "{text}");
    assert!(
        text.contains("2024-01-01"),
        "the observation before birth is reported: {text}"
    );
    let id = s
        .find_by_mrn(&ClinicPin::new("C1").expect("pin"), "M1")
        .expect("find")
        .expect("stored");
    let mut stored: Vec<_> = s
        .observations(id)
        .expect("observations")
        .into_iter()
        .map(|o| (o.kind, o.code, o.date.to_string()))
        .collect();
    stored.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(
        stored,
        vec![
            (
                ObservationKind::Condition,
                "VXC8".to_string(),
                "2026-01-05".to_string()
            ),
            (
                ObservationKind::Condition,
                "VXC7".to_string(),
                "2026-11-20".to_string()
            ),
        ]
    );
}

fn query(pin: &str, profile: &str, mrn: &str, family: &str, given: &str, dob: &str) -> String {
    format!(
        "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|20261125090000||QBP^Q11^QBP_Q11|Q-{pin}|P|2.5.1|||ER|AL|||||{profile}^CDCPHINVS\r\
         QPD|{profile}^Request^CDCPHINVS|T1|{mrn}^^^{pin}^MR|{family}^{given}^^^^^L||{dob}|F\r\
         RCP|I|2^RD&records&HL70126\r"
    )
}

#[test]
fn confidential_patients_are_visible_only_to_reporting_clinics() {
    let s = store(&["C1", "C2"]);
    let o = run(
        &s,
        &vxu(
            "C1",
            "C1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "PD1|||||||||||02^REMINDER^HL70215|Y",
            &[("08", "20250101", "00", "A")],
        ),
    );
    assert_eq!(o.result, AckResult::Accepted, "{}", o.response.to_lines());
    let own = run(&s, &query("C1", "Z34", "M1", "Doe", "Ann", "20250101"));
    assert!(
        own.response.to_lines().contains("QAK|T1|OK|"),
        "{}",
        own.response.to_lines()
    );
    let other = run(&s, &query("C2", "Z34", "X", "Doe", "Ann", "20250101"));
    assert!(
        other.response.to_lines().contains("QAK|T1|NF|"),
        "{}",
        other.response.to_lines()
    );
}

#[test]
fn matching_by_mrn_then_demographics_and_possible_goes_to_review() {
    let s = store(&["C1", "C2"]);
    run(
        &s,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    // Same child from another clinic: certain demographic match → same record.
    run(
        &s,
        &vxu(
            "C2",
            "B1",
            "Z9",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("20", "20250301", "00", "A")],
        ),
    );
    assert_eq!(s.patient_count().expect("count"), 1);
    let id = s
        .find_by_mrn(&ClinicPin::new("C2").expect("pin"), "Z9")
        .expect("find")
        .expect("mrn added");
    assert_eq!(s.doses(id).expect("doses").len(), 2);
    // Phonetic name variant: possible → a new record flagged for review.
    run(
        &s,
        &vxu("C2", "B2", "Z10", ("Doe", "Anne"), "20250101", "", &[]),
    );
    assert_eq!(s.patient_count().expect("count"), 2);
    assert_eq!(s.dedup_reviews(10).expect("reviews").len(), 1);
    // Two candidates → Z31 list; RCP-2 limit 1 would be TM.
    let list = run(&s, &query("C1", "Z34", "", "Doe", "An", "20250101"));
    insta::assert_snapshot!("z31_list", list.response.to_lines());
    // Each candidate listed is a disclosure: one Read row per record, under the sender.
    let rows = s
        .audit_query(&AuditFilter::default())
        .expect("audit")
        .into_iter()
        .filter(|e| e.detail.contains("Z31"))
        .collect::<Vec<_>>();
    let mut listed: Vec<_> = rows.iter().filter_map(|e| e.patient).collect();
    listed.sort();
    assert_eq!(listed, vec![PatientId(1), PatientId(2)], "{rows:?}");
    assert!(rows.iter().all(|e| e.action == AuditAction::Read
        && e.actor == "mllp:state-ehr"
        && e.clinic == Some(ClinicPin::new("C1").expect("pin"))
        && e.interface == Interface::Mllp));
    let none = run(&s, &query("C1", "Z34", "", "Smith", "Bo", "20250101"));
    insta::assert_snapshot!("z33_not_found", none.response.to_lines());
}

#[test]
fn update_delete_by_sender_id_and_late_reporting() {
    let s = store(&["C1"]);
    let o = run(
        &s,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20261124", "00", "A"), ("20", "20261001", "00", "A")],
        ),
    );
    assert_eq!(o.log.late_doses, 1, "the October dose came weeks late");
    let id = s
        .find_by_mrn(&ClinicPin::new("C1").expect("pin"), "M1")
        .expect("find")
        .expect("stored");
    // A1-1 was sent under ORC-3 "A1-1"; resend it as D under the same id.
    let del = vxu(
        "C1",
        "A1",
        "M1",
        ("Doe", "Ann"),
        "20250101",
        "",
        &[("08", "20261124", "00", "A"), ("20", "20261001", "00", "D")],
    );
    assert_eq!(run(&s, &del).result, AckResult::Accepted);
    let left: Vec<Cvx> = s
        .doses(id)
        .expect("doses")
        .into_iter()
        .map(|d| d.cvx)
        .collect();
    assert_eq!(left, vec![Cvx::new("08").expect("cvx")]);
}

/// A message for a known patient may add a dose and delete it again (same event, RXA-21
/// D): the new doses are stored before the deletion looks for its target.
#[test]
fn a_dose_added_and_deleted_in_one_message_is_gone() {
    let s = store(&["C1"]);
    let first = vxu(
        "C1",
        "B0",
        "M1",
        ("Doe", "Ann"),
        "20250101",
        "",
        &[("08", "20250102", "00", "A")],
    );
    assert_eq!(run(&s, &first).result, AckResult::Accepted);
    let next = vxu(
        "C1",
        "B1",
        "M1",
        ("Doe", "Ann"),
        "20250101",
        "",
        &[
            ("03", "20261120", "00", "A"),
            ("03", "20261120", "00", "D"),
            ("10", "20261121", "00", "A"),
        ],
    );
    let o = run(&s, &next);
    assert_eq!(o.result, AckResult::Accepted, "{:?}", o.log.errors);
    assert!(
        o.log.errors.is_empty(),
        "the deletion found its dose: {:?}",
        o.log.errors
    );
    let id = s
        .find_by_mrn(&ClinicPin::new("C1").expect("pin"), "M1")
        .expect("find")
        .expect("stored");
    let left: Vec<String> = s
        .doses(id)
        .expect("doses")
        .into_iter()
        .map(|d| d.cvx.to_string())
        .collect();
    assert_eq!(left, vec!["08", "10"]);
}

#[test]
fn administered_dose_from_inventory_decrements_the_lot() {
    let s = store(&["C1"]);
    let pin = ClinicPin::new("C1").expect("pin");
    let lot = Lot {
        id: None,
        clinic: pin.clone(),
        cvx: Cvx::new("08").expect("cvx"),
        ndc: None,
        mvx: None,
        lot_number: LotNumber::new("LOT0").expect("lot"),
        expiration: NaiveDate::from_ymd_opt(2030, 1, 1).expect("d"),
        funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
    };
    let lot_id = s.add_lot(&lot).expect("lot");
    s.record_movement(
        lot_id,
        &ctwiz_core::inventory::Movement::Receive { doses: 10 },
        "t",
        now(),
    )
    .expect("receive");
    let o = run(
        &s,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20261124", "00", "A")],
        ),
    );
    assert_eq!(o.result, AckResult::Accepted, "{}", o.response.to_lines());
    assert_eq!(s.lot(lot_id).expect("lot").expect("exists").on_hand, 9);
}

/// A VXU from C1 for child M1 with one dose of CVX 08 given on 2026-11-24, sent under
/// ORC-3 `order`, from lot `lot`, with RXA-21 `action`.
fn vxu_from_lot(ctl: &str, order: &str, lot: &str, action: &str) -> String {
    format!(
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20261125090000||VXU^V04^VXU_V04|{ctl}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
         PID|1||M1^^^C1^MR||Doe^Ann^^^^^L||20250101|F\r\
         ORC|RE||{order}^C1\r\
         RXA|0|1|20261124||08^^CVX|0.5|mL||00^^NIP001||||||{lot}||MSD^^MVX|||CP|{action}\r"
    )
}

#[test]
fn a_dose_follows_its_lot_through_rxa21_add_update_and_delete() {
    let s = store(&["C1"]);
    let pin = ClinicPin::new("C1").expect("pin");
    let receive = |number: &str| {
        let lot = Lot {
            id: None,
            clinic: pin.clone(),
            cvx: Cvx::new("08").expect("cvx"),
            ndc: None,
            mvx: None,
            lot_number: LotNumber::new(number).expect("lot"),
            expiration: NaiveDate::from_ymd_opt(2030, 1, 1).expect("d"),
            funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
        };
        s.receive_into_lot(&lot, 5, "t", now()).expect("receive").0
    };
    let (a, b) = (receive("LOTA"), receive("LOTB"));
    let counts = || {
        (
            s.lot(a).expect("lot").expect("a").on_hand,
            s.lot(b).expect("lot").expect("b").on_hand,
        )
    };
    let send = |ctl: &str, lot: &str, action: &str| {
        let o = run(&s, &vxu_from_lot(ctl, "E1", lot, action));
        assert_eq!(o.result, AckResult::Accepted, "{}", o.response.to_lines());
    };
    send("M1", "LOTA", "A");
    assert_eq!(counts(), (4, 5), "A draws from the lot it names");
    send("M2", "LOTA", "A");
    assert_eq!(
        counts(),
        (4, 5),
        "a resent A is the same dose: no second draw"
    );
    send("M3", "LOTB", "U");
    assert_eq!(counts(), (5, 4), "U with another lot moves the draw");
    send("M4", "LOTB", "D");
    assert_eq!(counts(), (5, 5), "D gives the dose back");
    let (_, by, last) = s.movements(b).expect("movements").pop().expect("one");
    assert_eq!(by, state().label());
    assert!(
        matches!(&last, ctwiz_core::inventory::Movement::GiveBack { doses: 1, reason } if reason.contains("RXA-21 D")),
        "{last:?}"
    );
    // A lot the clinic does not hold: stored, and an inventory exception the DQA counts.
    send("M5", "NOPE", "A");
    assert_eq!(counts(), (5, 5));
    let open = s.exceptions(Some(&pin), true).expect("exceptions");
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].kind,
        ctwiz_core::dose_stock::ExceptionKind::UnknownLot
    );
    assert_eq!(open[0].interface, "mllp");
    let day = now().date();
    let counted = s
        .exception_counts(day, day, &[ctwiz_store::Interface::Mllp])
        .expect("counts");
    assert_eq!(
        counted,
        vec![(
            pin.clone(),
            ctwiz_core::dose_stock::ExceptionKind::UnknownLot,
            1
        )]
    );
}

#[test]
fn a_clinic_that_keeps_no_stock_here_reconciles_nothing() {
    // C1 has never held a lot in ctwiz: its administered doses are stored as sent, with
    // no draw and no inventory exception (nothing to reconcile them against).
    let s = store(&["C1"]);
    let pin = ClinicPin::new("C1").expect("pin");
    let o = run(&s, &vxu_from_lot("M1", "E1", "NOPE", "A"));
    assert_eq!(o.result, AckResult::Accepted, "{}", o.response.to_lines());
    let id = o.log.patient.expect("stored");
    assert_eq!(s.doses(id).expect("doses").len(), 1);
    assert!(s
        .exceptions(Some(&pin), false)
        .expect("exceptions")
        .is_empty());
    // A clinic that keeps a lot here: a dose from a lot it does not hold is an exception,
    // one per dose, as before.
    let s = store(&["C1"]);
    let lot = Lot {
        id: None,
        clinic: pin.clone(),
        cvx: Cvx::new("08").expect("cvx"),
        ndc: None,
        mvx: None,
        lot_number: LotNumber::new("LOTA").expect("lot"),
        expiration: NaiveDate::from_ymd_opt(2030, 1, 1).expect("d"),
        funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
    };
    s.add_lot(&lot).expect("lot");
    let o = run(&s, &vxu_from_lot("M1", "E1", "OTHER", "A"));
    assert_eq!(o.result, AckResult::Accepted, "{}", o.response.to_lines());
    let open = s.exceptions(Some(&pin), true).expect("exceptions");
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].kind,
        ctwiz_core::dose_stock::ExceptionKind::UnknownLot
    );
}

struct FixedForecast;
impl Forecaster for FixedForecast {
    fn evaluate(
        &self,
        _: &Patient,
        doses: &[Dose],
        _: &[ctwiz_core::dose::Observation],
        today: NaiveDate,
    ) -> (
        Vec<Vec<crate::message::rsp::DoseEvaluation>>,
        Vec<crate::message::rsp::Forecast>,
    ) {
        let g = crate::datatype::Cwe::new("45", "Hep B, unspecified formulation", "CVX");
        let evals = doses
            .iter()
            .map(|_| {
                vec![crate::message::rsp::DoseEvaluation {
                    vaccine_group: g.clone(),
                    valid: true,
                    reason: None,
                    dose_number: Some(1),
                }]
            })
            .collect();
        let f = crate::message::rsp::Forecast {
            vaccine_group: g,
            status: None,
            reason: None,
            dose_number: Some(2),
            earliest: Some(today),
            recommended: Some(today),
            overdue: None,
            latest: None,
        };
        (evals, vec![f])
    }
}

#[test]
fn z44_uses_the_forecaster_or_says_it_cannot() {
    let s = store(&["C1"]);
    run(
        &s,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    let q = query("C1", "Z44", "M1", "Doe", "Ann", "20250101");
    let without = run(&s, &q);
    assert_eq!(without.result, AckResult::Rejected);
    let codes = CodeSets::embedded();
    let who = state();
    let mut ctx = context(&codes, &who);
    ctx.forecaster = Some(&FixedForecast);
    let with = process_message(&s, &ctx, &q);
    insta::assert_snapshot!("z42_fixed_forecast", with.response.to_lines());
}

#[test]
fn synth_vxu_round_trips_through_the_interface() {
    let cfg = ctwiz_core::synth::SynthConfig {
        children: 3,
        clinics: 2,
        seed: 7,
        as_of: now().date(),
    };
    let clinics = ctwiz_core::synth::clinics(&cfg);
    let s = SqliteStore::open_in_memory().expect("store");
    for c in &clinics {
        s.add_clinic(c).expect("clinic");
    }
    for i in 0..3 {
        let child = ctwiz_core::synth::child(&cfg, i);
        let m = synth::vxu_for(
            &child.patient,
            &child.doses,
            &clinics[0].pin,
            &format!("S{i}"),
            now(),
        );
        let o = run(&s, &m.to_er7());
        assert_ne!(o.result, AckResult::Rejected, "{}", o.response.to_lines());
        let id = PatientId(i as i64 + 1);
        assert!(s.patient(id).expect("read").is_some());
    }
    let _ = InformationSource::NewRecord;
}

#[test]
fn z44_with_the_cdsi_engine_evaluates_and_forecasts() {
    let s = store(&["C1"]);
    run(
        &s,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20260101",
            "",
            &[("08", "20260101", "00", "A"), ("08", "20260205", "00", "A")],
        ),
    );
    let engine = CdsiForecaster::bundled().expect("bundled supporting data");
    let codes = CodeSets::embedded();
    let who = state();
    let mut ctx = context(&codes, &who);
    ctx.forecaster = Some(&engine);
    let r = process_message(
        &s,
        &ctx,
        &query("C1", "Z44", "M1", "Doe", "Ann", "20260101"),
    );
    let text = r.response.to_lines();
    assert!(text.contains("QAK|T1|OK|"), "{text}");
    assert!(
        text.contains("|45^Hep B, unspecified formulation^CVX|"),
        "{text}"
    );
    assert!(text.contains("59781-5^Dose validity^LN|1|Y"), "{text}");
    assert!(text.contains("998^No vaccine administered^CVX"), "{text}");
}

/// A DQA-interface user at C1 submits for C1 but may not query, and may not submit for C2:
/// AR with ERR 204 on MSH-4, a log row and a Denied audit row; nothing stored or disclosed.
#[test]
fn the_matrix_decides_who_may_submit_and_query_for_msh4() {
    let s = store(&["C1", "C2"]);
    let c1 = ClinicPin::new("C1").expect("pin");
    let dqa = actor(
        "ehr-c1",
        Role::ClinicAccessDqaInterface,
        Scope::Clinic(c1.clone()),
        Acting::Clinic {
            pin: c1.clone(),
            at: ctwiz_core::place::Locality::county(County::Hartford),
        },
    );
    let ok = run_as(
        &s,
        &dqa,
        &vxu(
            "C1",
            "A1",
            "M1",
            ("Doe", "Ann"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    assert_eq!(ok.result, AckResult::Accepted, "{}", ok.response.to_lines());
    assert_eq!(s.patient_count().expect("count"), 1);

    let q = run_as(
        &s,
        &dqa,
        &query("C1", "Z34", "M1", "Doe", "Ann", "20250101"),
    );
    let text = q.response.to_lines();
    assert_eq!(q.result, AckResult::Rejected, "{text}");
    assert!(text.contains("MSA|AR|Q-C1"), "{text}");
    assert!(text.contains("QAK|T1|AR|"), "{text}");
    assert!(
        !text.contains("\nPID|"),
        "a refused query names no patient: {text}"
    );
    assert!(
        text.contains("|204^Unknown key identifier^HL70357|E||||not authorized for facility C1: your access type may not query records over the HL7 interface"),
        "{text}"
    );
    assert_eq!(q.log.clinic, Some(c1.clone()));

    let other = run_as(
        &s,
        &dqa,
        &vxu(
            "C2",
            "B1",
            "Z1",
            ("Roe", "Bo"),
            "20250101",
            "",
            &[("08", "20250101", "00", "A")],
        ),
    );
    let text = other.response.to_lines();
    assert_eq!(other.result, AckResult::Rejected, "{text}");
    assert!(text.contains("for facility C2"), "{text}");
    assert!(!other.stored);
    assert_eq!(other.log.clinic, None, "not logged as C2's message");
    assert_eq!(s.patient_count().expect("count"), 1);

    let denied: Vec<_> = s
        .audit_query(&AuditFilter::default())
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == AuditAction::Denied)
        .collect();
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied.iter().all(|e| e.actor == "mllp:ehr-c1@C1"
        && e.clinic == Some(c1.clone())
        && e.patient.is_none()));
    assert!(denied.iter().any(|e| e.detail.starts_with("QBP^Q11 Q-C1:")));
    assert!(denied.iter().any(|e| e.detail.starts_with("VXU^V04 B1:")));
}
