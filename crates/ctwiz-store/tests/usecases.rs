//! The inventory and dose use cases against a real SQLite store: each refusal is a typed
//! variant, decided before anything is written.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{Action, Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel, Denied};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{Dose, DoseError, InformationSource};
use ctwiz_core::ids::{ClinicPin, Cvx, Email, LotNumber, Username};
use ctwiz_core::inventory::{InventoryError, Lot, StockFunding};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::usecase::inventory::{self, Count};
use ctwiz_store::usecase::{doses, UseCaseError};
use ctwiz_store::*;

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 2, 1)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn pin(s: &str) -> ClinicPin {
    ClinicPin::new(s).unwrap()
}

fn coordinator_at(p: &str) -> Actor {
    let mut u = User::new(
        Username::new("coord").unwrap(),
        "Coordinator",
        Email::new("c@example.org").unwrap(),
    )
    .unwrap();
    u.grant(Grant::new(Role::PrimaryVaccineCoordinator, Scope::Clinic(pin(p))).unwrap());
    Actor::new(
        u,
        Acting::Clinic {
            pin: pin(p),
            at: ctwiz_core::place::Locality::county(County::Hartford),
        },
        Channel::Soap,
    )
}

fn store() -> SqliteStore {
    let s = common::store();
    for p in ["CT1", "CT2"] {
        s.add_clinic(&Clinic::new(pin(p), p, County::Hartford, ProgramType::Cvp).unwrap())
            .unwrap();
    }
    s
}

fn lot(p: &str, number: &str) -> Lot {
    Lot {
        id: None,
        clinic: pin(p),
        cvx: Cvx::new("20").unwrap(),
        ndc: None,
        mvx: None,
        lot_number: LotNumber::new(number).unwrap(),
        expiration: NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
        funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
    }
}

#[test]
fn stock_use_cases_refuse_with_typed_errors_and_write_nothing() {
    let s = store();
    let codes = CodeSets::embedded();
    let (a, b) = (coordinator_at("CT1"), coordinator_at("CT2"));
    let (theirs, _) = inventory::receive(&s, &b, &codes, &lot("CT2", "B1"), 10, at()).unwrap();
    // Another clinic's lot: the matrix says no, whatever the door.
    let e = inventory::transfer(&s, &a, &codes, theirs, &pin("CT1"), 2, at()).unwrap_err();
    assert!(
        matches!(
            e,
            UseCaseError::Denied(Denied::OutOfScope(Action::InventoryEdit))
        ),
        "{e:?}"
    );
    // A count against a quantity that changed since it was shown: nothing recorded.
    let e = inventory::reconcile(
        &s,
        &b,
        &pin("CT2"),
        &[Count {
            lot_id: theirs,
            counted: 9,
            seen: Some(12),
            reason: Some("broken".into()),
        }],
        at(),
    )
    .unwrap_err();
    match e {
        UseCaseError::Reconcile(problems) => assert!(matches!(
            problems[..],
            [(_, InventoryError::CountedStale { on_hand: 10, .. })]
        )),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.lot(theirs).unwrap().unwrap().on_hand, 10);
    // Orders name known vaccines only.
    let e = inventory::create_order(
        &s,
        &b,
        &codes,
        &pin("CT2"),
        ctwiz_core::program::Program::Cvp,
        vec![(Cvx::new("555").unwrap(), 10)],
        at(),
    )
    .unwrap_err();
    assert!(
        matches!(e, UseCaseError::Inventory(InventoryError::UnknownCvx(_))),
        "{e:?}"
    );
    assert!(s.orders(None, None).unwrap().is_empty());
}

#[test]
fn dose_use_cases_refuse_repeats_foreign_stock_and_foreign_doses() {
    let s = store();
    let codes = CodeSets::embedded();
    let (a, b) = (coordinator_at("CT1"), coordinator_at("CT2"));
    let dob = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let pid = s
        .create_patient(
            &Patient::new(PersonName::new("Usecase", "Uma").unwrap(), dob, Sex::Female).unwrap(),
        )
        .unwrap();
    let mut d = Dose::new(
        Cvx::new("20").unwrap(),
        NaiveDate::from_ymd_opt(2025, 3, 15).unwrap(),
        InformationSource::HistoricalUnspecified,
    );
    d.clinic = Some(pin("CT2"));
    let did = doses::record(&s, &b, pid, &d, None, "historical", at()).unwrap();
    let e = doses::record(&s, &a, pid, &d, None, "historical", at()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this dose is already recorded: CVX 20 on 2025-03-15"
    );
    // CT1 may not draw from CT2's stock, nor change or delete CT2's dose.
    let (theirs, _) = inventory::receive(&s, &b, &codes, &lot("CT2", "B1"), 10, at()).unwrap();
    let mut given = d.clone();
    given.date = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
    let e = doses::record(&s, &a, pid, &given, Some(theirs), "administered", at()).unwrap_err();
    assert!(
        matches!(e, UseCaseError::NotFound { what: "lot", .. }),
        "{e:?}"
    );
    let e = doses::delete(&s, &a, pid, did, "mine now", at()).unwrap_err();
    assert!(
        matches!(e, UseCaseError::Dose(DoseError::NotReportingClinic { .. })),
        "{e:?}"
    );
    assert_eq!(s.doses(pid).unwrap().len(), 1);
    doses::delete(&s, &b, pid, did, "entered in error", at()).unwrap();
    assert!(s.doses(pid).unwrap().is_empty());
    let trail = s.audit_for_patient(pid, 10).unwrap();
    assert!(trail
        .iter()
        .any(|t| t.action == AuditAction::Delete && t.actor == "soap:coord@CT2"));
}
