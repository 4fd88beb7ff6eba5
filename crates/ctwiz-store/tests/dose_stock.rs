//! A dose's effect on stock through its whole life (issue 22), through the use cases
//! every door calls, against a real SQLite store: record draws, correction moves the
//! draw, deletion gives it back (or wastes it), a merge keeps one draw per dose event,
//! doses whose lot the clinic cannot draw from become inventory exceptions, and the lot
//! usage report reconciles to the dose records.

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{Dose, InformationSource};
use ctwiz_core::dose_stock::{DeletedVaccine, ExceptionKind};
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, Email, LotNumber, PatientId, Username};
use ctwiz_core::inventory::{Lot, Movement, StockFunding, WastageReason};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::usecase::inventory_exceptions::{self, Settle};
use ctwiz_store::usecase::{dedup, doses, inventory, lot_usage};
use ctwiz_store::*;

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 2, 1)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}
fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
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
            county: County::Hartford,
        },
        Channel::Web,
    )
}

fn store() -> SqliteStore {
    let s = SqliteStore::open_in_memory().unwrap();
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
        funding: StockFunding::Public,
    }
}

fn patient(s: &SqliteStore, given: &str) -> PatientId {
    let dob = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    s.create_patient(
        &Patient::new(PersonName::new("Stock", given).unwrap(), dob, Sex::Female).unwrap(),
    )
    .unwrap()
}

/// An administered DTaP given at `clinic` on `date`, naming lot `number`.
fn given(clinic: &str, number: &str, date: NaiveDate) -> Dose {
    let mut d = Dose::new(Cvx::new("20").unwrap(), date, InformationSource::NewRecord);
    d.lot = Some(LotNumber::new(number).unwrap());
    d.clinic = Some(pin(clinic));
    d
}

fn on_hand(s: &SqliteStore, id: i64) -> i64 {
    s.lot(id).unwrap().unwrap().on_hand
}

fn usage(s: &SqliteStore, a: &Actor, p: &str) -> lot_usage::LotUsageReport {
    lot_usage::report(s, a, &pin(p), Some(day(1, 1)), Some(day(12, 31)), at()).unwrap()
}

#[test]
fn a_dose_draws_moves_and_goes_back_with_its_record() {
    let s = store();
    let codes = CodeSets::embedded();
    let a = coordinator_at("CT1");
    let (la, _) = inventory::receive(&s, &a, &codes, &lot("CT1", "A1"), 10, at()).unwrap();
    let (lb, _) = inventory::receive(&s, &a, &codes, &lot("CT1", "B1"), 5, at()).unwrap();
    let pid = patient(&s, "Ada");

    // Recorded from the lot picked in the form: one dose drawn.
    let did = doses::record(
        &s,
        &a,
        pid,
        &given("CT1", "A1", day(1, 20)),
        Some(la),
        "administered",
        at(),
    )
    .unwrap();
    assert_eq!((on_hand(&s, la), on_hand(&s, lb)), (9, 5));
    assert_eq!(s.dose_draws(did).unwrap(), vec![(la, 1)]);

    // Corrected to the other lot: the draw moves.
    let c = doses::Correction {
        date: day(1, 20),
        lot: Some(LotNumber::new("B1").unwrap()),
        cvx: None,
        reason: "wrong lot picked".into(),
    };
    doses::correct(&s, &a, pid, did, &c, at()).unwrap();
    assert_eq!((on_hand(&s, la), on_hand(&s, lb)), (10, 4));
    // A date fix leaves stock alone.
    let c = doses::Correction {
        date: day(1, 21),
        ..c
    };
    doses::correct(&s, &a, pid, did, &c, at()).unwrap();
    assert_eq!((on_hand(&s, la), on_hand(&s, lb)), (10, 4));

    // Deleted as entered in error: given back, as its own movement with reason and actor.
    doses::delete(&s, &a, pid, did, "entered on the wrong chart", at()).unwrap();
    assert_eq!((on_hand(&s, la), on_hand(&s, lb)), (10, 5));
    let (_, by, last) = s.movements(lb).unwrap().pop().unwrap();
    assert_eq!(by, a.label());
    match last {
        Movement::GiveBack { doses: 1, reason } => {
            assert!(reason.contains("entered on the wrong chart"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // A typed lot number draws from the clinic's lot; drawn up and lost becomes wastage.
    let did = doses::record(
        &s,
        &a,
        pid,
        &given("CT1", "A1", day(1, 22)),
        None,
        "administered",
        at(),
    )
    .unwrap();
    assert_eq!(on_hand(&s, la), 9);
    doses::delete_as(
        &s,
        &a,
        pid,
        did,
        "syringe dropped",
        DeletedVaccine::DrawnUpAndLost,
        at(),
    )
    .unwrap();
    assert_eq!(
        on_hand(&s, la),
        9,
        "the dose is gone from the lot, as wastage"
    );
    assert!(matches!(
        s.movements(la).unwrap().pop().unwrap().2,
        Movement::Waste {
            doses: 1,
            reason: WastageReason::DrawnNotAdministered
        }
    ));

    let r = usage(&s, &a, "CT1");
    let row = r.lots.iter().find(|l| l.lot_id == la).unwrap();
    assert_eq!(
        (
            row.received,
            row.decrements,
            row.given_back,
            row.wasted,
            row.administered,
            row.difference
        ),
        (10, 0, 2, 1, 0, 0)
    );
    assert_eq!(r.differing().count(), 0);
}

#[test]
fn doses_the_clinic_cannot_draw_are_exceptions_until_settled() {
    let s = store();
    let codes = CodeSets::embedded();
    let (a, b) = (coordinator_at("CT1"), coordinator_at("CT2"));
    let (la, _) = inventory::receive(&s, &a, &codes, &lot("CT1", "A1"), 1, at()).unwrap();
    inventory::receive(&s, &b, &codes, &lot("CT2", "THEIRS"), 3, at()).unwrap();
    let pid = patient(&s, "Bea");
    let rec = |number: &str, d: u32| {
        doses::record(
            &s,
            &a,
            pid,
            &given("CT1", number, day(1, d)),
            None,
            "administered",
            at(),
        )
        .unwrap()
    };
    rec("A1", 10); // draws the last dose
    let no_stock = rec("A1", 11);
    let unknown = rec("NOPE", 12);
    let theirs = rec("THEIRS", 13);
    assert_eq!(on_hand(&s, la), 0);
    let open = inventory_exceptions::list(&s, &a, &pin("CT1"), true, at()).unwrap();
    let kinds: Vec<(DoseId, ExceptionKind)> = open.iter().map(|e| (e.dose, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (theirs, ExceptionKind::OtherClinicLot),
            (unknown, ExceptionKind::UnknownLot),
            (no_stock, ExceptionKind::NoStock),
        ]
    );
    assert_eq!(inventory_exceptions::open_count(&s, &a).unwrap(), 3);

    // The report shows the dose given from A1 but not drawn.
    let r = usage(&s, &a, "CT1");
    let row = r.lots.iter().find(|l| l.lot_id == la).unwrap();
    assert_eq!(
        (row.decrements, row.administered, row.difference),
        (1, 2, -1)
    );
    assert_eq!(row.involved.len(), 1);
    assert_eq!(row.involved[0].dose, no_stock);
    assert_eq!(r.open_exceptions.len(), 3);

    // Another clinic cannot settle them; a reason is required.
    let id = |d: DoseId| open.iter().find(|e| e.dose == d).unwrap().id;
    assert!(inventory_exceptions::settle(
        &s,
        &b,
        id(unknown),
        &Settle::NotFromStock { why: "x".into() },
        at()
    )
    .is_err());
    assert!(inventory_exceptions::settle(
        &s,
        &a,
        id(unknown),
        &Settle::NotFromStock { why: " ".into() },
        at()
    )
    .is_err());
    // The no-stock dose: a count finds one more vial, then it is linked to the lot.
    inventory::reconcile(
        &s,
        &a,
        &pin("CT1"),
        &[inventory::Count {
            lot_id: la,
            counted: 1,
            seen: Some(0),
            reason: Some("one vial found in the back of the fridge".into()),
        }],
        at(),
    )
    .unwrap();
    inventory_exceptions::settle(&s, &a, id(no_stock), &Settle::Link { lot_id: la }, at()).unwrap();
    assert_eq!(on_hand(&s, la), 0);
    inventory_exceptions::settle(
        &s,
        &a,
        id(unknown),
        &Settle::NotFromStock {
            why: "brought by the family".into(),
        },
        at(),
    )
    .unwrap();
    // Settled once only.
    assert!(
        inventory_exceptions::settle(&s, &a, id(unknown), &Settle::Link { lot_id: la }, at())
            .is_err()
    );
    // Correcting the other-clinic dose to the right lot closes its exception.
    let c = doses::Correction {
        date: day(1, 13),
        lot: Some(LotNumber::new("NOPE").unwrap()),
        cvx: None,
        reason: "typo".into(),
    };
    doses::correct(&s, &a, pid, theirs, &c, at()).unwrap();
    let open = inventory_exceptions::list(&s, &a, &pin("CT1"), true, at()).unwrap();
    assert_eq!(
        open.len(),
        1,
        "the corrected dose is an unknown-lot exception now"
    );
    assert_eq!(open[0].kind, ExceptionKind::UnknownLot);
    doses::delete(&s, &a, pid, theirs, "not given after all", at()).unwrap();
    assert!(inventory_exceptions::list(&s, &a, &pin("CT1"), true, at())
        .unwrap()
        .is_empty());
    assert_eq!(usage(&s, &a, "CT1").differing().count(), 0);
}

#[test]
fn a_merge_keeps_one_draw_per_dose_event() {
    let s = store();
    let codes = CodeSets::embedded();
    let a = coordinator_at("CT1");
    let state = usecase::actors::local_operator("op", Channel::Cli);
    let (la, _) = inventory::receive(&s, &a, &codes, &lot("CT1", "A1"), 10, at()).unwrap();
    let (p1, p2) = (patient(&s, "Cy"), patient(&s, "Cyrus"));
    // The same dose event entered on both records, each drawing.
    doses::record(
        &s,
        &a,
        p1,
        &given("CT1", "A1", day(1, 5)),
        Some(la),
        "administered",
        at(),
    )
    .unwrap();
    doses::record(
        &s,
        &a,
        p2,
        &given("CT1", "A1", day(1, 5)),
        Some(la),
        "administered",
        at(),
    )
    .unwrap();
    // Another event: only on the duplicate with a draw, on the survivor as history.
    let mut hist = given("CT1", "A1", day(1, 6));
    hist.source = InformationSource::HistoricalUnspecified;
    let kept = doses::record(&s, &a, p1, &hist, None, "historical", at()).unwrap();
    let moved = doses::record(
        &s,
        &a,
        p2,
        &given("CT1", "A1", day(1, 6)),
        Some(la),
        "administered",
        at(),
    )
    .unwrap();
    assert_eq!(on_hand(&s, la), 7);
    let out = dedup::merge(&s, &state, p1, p2, at()).unwrap();
    assert_eq!(out.doses_repeated, 2);
    assert_eq!(on_hand(&s, la), 8, "the twice-drawn event gave one back");
    assert_eq!(
        s.dose_draws(kept).unwrap(),
        vec![(la, 1)],
        "the draw follows the kept record"
    );
    assert!(s.dose_draws(moved).unwrap().is_empty());
    let r = usage(&s, &a, "CT1");
    let row = r.lots.iter().find(|l| l.lot_id == la).unwrap();
    // Two events, two draws, two live records accounted for.
    assert_eq!(
        (row.decrements, row.administered, row.difference),
        (2, 2, 0)
    );
    assert!(row.involved.is_empty(), "{:?}", row.involved);
}
