//! Inventory and ordering through the SQLite store: transfers, administration from a lot,
//! the order approval cycle, and the movement report.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose::{Dose, InformationSource};
use ctwiz_core::ids::*;
use ctwiz_core::inventory::{Lot, Movement, StockFunding, WastageReason};
use ctwiz_core::ordering::{OrderStatus, VaccineOrder};
use ctwiz_core::org::ProgramType;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::*;

fn cfg() -> SynthConfig {
    SynthConfig {
        children: 10,
        clinics: 6,
        seed: 3,
        as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    }
}

fn at(day: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 2, day)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn store() -> SqliteStore {
    let s = common::store();
    for c in synth::clinics(&cfg()) {
        s.add_clinic(&c).unwrap();
    }
    s
}

fn lot(clinic: &ClinicPin, number: &str, cvx: &str) -> Lot {
    Lot {
        id: None,
        clinic: clinic.clone(),
        cvx: Cvx::new(cvx).unwrap(),
        ndc: None,
        mvx: Some(Mvx::new("MSD").unwrap()),
        lot_number: LotNumber::new(number).unwrap(),
        expiration: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
    }
}

#[test]
fn transfer_moves_stock_between_clinics_atomically() {
    let s = store();
    let (a, b) = (synth::clinic_pin(0), synth::clinic_pin(1));
    let id = s.add_lot(&lot(&a, "MM1", "03")).unwrap();
    s.record_movement(id, &Movement::Receive { doses: 10 }, "coord", at(1))
        .unwrap();
    let dest = s.transfer(id, &b, 4, "coord", at(2)).unwrap();
    assert_eq!(s.lot(id).unwrap().unwrap().on_hand, 6);
    assert_eq!(s.lot(dest).unwrap().unwrap().on_hand, 4);
    // A second transfer reuses the destination lot.
    assert_eq!(s.transfer(id, &b, 1, "coord", at(3)).unwrap(), dest);
    // Too many: nothing moves on either side.
    assert!(s.transfer(id, &b, 50, "coord", at(3)).is_err());
    assert_eq!(s.lot(id).unwrap().unwrap().on_hand, 5);
    assert_eq!(s.lot(dest).unwrap().unwrap().on_hand, 5);
    assert!(s.transfer(id, &a, 1, "coord", at(3)).is_err());
    assert!(s
        .record_movement(
            id,
            &Movement::TransferOut {
                doses: 1,
                to: b.clone()
            },
            "x",
            at(3)
        )
        .is_err());
}

#[test]
fn administering_from_a_lot_records_the_dose_and_decrements() {
    let s = store();
    let a = synth::clinic_pin(0);
    let child = synth::child(&cfg(), 1);
    let pid = s.create_patient(&child.patient).unwrap();
    let id = s.add_lot(&lot(&a, "VAR9", "21")).unwrap();
    s.record_movement(id, &Movement::Receive { doses: 1 }, "coord", at(1))
        .unwrap();
    let mut d = Dose::new(
        Cvx::new("21").unwrap(),
        at(2).date(),
        InformationSource::NewRecord,
    );
    d.lot = Some(LotNumber::new("VAR9").unwrap());
    s.administer_from_lot(pid, &d, id, "nurse", at(2)).unwrap();
    assert_eq!(s.lot(id).unwrap().unwrap().on_hand, 0);
    // Out of stock: the dose is not stored either.
    let e = s
        .administer_from_lot(pid, &d, id, "nurse", at(3))
        .unwrap_err();
    assert!(e.to_string().contains("on hand"), "{e}");
    assert_eq!(s.doses(pid).unwrap().len(), 1);
    // The wrong vaccine for the lot is refused.
    let mmr = Dose::new(
        Cvx::new("03").unwrap(),
        at(2).date(),
        InformationSource::NewRecord,
    );
    assert!(s
        .administer_from_lot(pid, &mmr, id, "nurse", at(3))
        .is_err());
    let cvp = StockFunding::Public(ctwiz_core::program::Program::Cvp);
    let cvfa = StockFunding::Public(ctwiz_core::program::Program::Cvfa);
    assert_eq!(
        s.doses_used(&a, &Cvx::new("21").unwrap(), cvp, at(1).date())
            .unwrap(),
        1
    );
    assert_eq!(
        s.doses_used(&a, &Cvx::new("21").unwrap(), cvfa, at(1).date())
            .unwrap(),
        0,
        "CVP doses are not CVFA usage"
    );
    assert!(s
        .find_lot(&a, &LotNumber::new("var9").unwrap())
        .unwrap()
        .is_some());
}

#[test]
fn order_cycle_from_request_to_received_stock() {
    let s = store();
    let clinics = s.clinics().unwrap();
    let cvp = clinics
        .iter()
        .find(|c| c.program == ProgramType::Cvp)
        .unwrap();
    let mut o = VaccineOrder::new(
        cvp,
        ctwiz_core::program::Program::Cvp,
        "coord",
        at(1).date(),
        vec![(Cvx::new("20").unwrap(), 50), (Cvx::new("10").unwrap(), 20)],
    )
    .unwrap();
    let id = s.create_order(&o).unwrap();
    o.id = Some(id);
    assert_eq!(s.orders(None, Some(OrderStatus::Pending)).unwrap().len(), 1);
    o.approve(
        "state",
        &[(Cvx::new("10").unwrap(), 0)],
        Some("IPV allocation exhausted"),
    )
    .unwrap();
    s.save_order(&o).unwrap();
    let got = s.order(id).unwrap().unwrap();
    assert_eq!(got.status, OrderStatus::Approved);
    assert_eq!(got.lines[1].approved, Some(0));
    // IPV was not approved: receiving it is refused and nothing is stored.
    let ipv = lot(&cvp.pin, "IPV1", "10");
    assert!(s.receive_order(id, &[(ipv, 20)], "coord", at(5)).is_err());
    assert!(s.lots(&cvp.pin).unwrap().is_empty());
    let ids = s
        .receive_order(id, &[(lot(&cvp.pin, "DT5", "20"), 50)], "coord", at(5))
        .unwrap();
    assert_eq!(s.lot(ids[0]).unwrap().unwrap().on_hand, 50);
    assert_eq!(s.order(id).unwrap().unwrap().status, OrderStatus::Received);
    assert!(s
        .receive_order(id, &[(lot(&cvp.pin, "DT6", "20"), 5)], "coord", at(6))
        .is_err());
}

#[test]
fn report_sums_movements_by_kind_and_reason() {
    let s = store();
    let a = synth::clinic_pin(0);
    let id = s.add_lot(&lot(&a, "H1", "83")).unwrap();
    s.record_movement(id, &Movement::Receive { doses: 30 }, "c", at(1))
        .unwrap();
    s.record_movement(
        id,
        &Movement::Waste {
            doses: 2,
            reason: WastageReason::BrokenVial,
        },
        "c",
        at(2),
    )
    .unwrap();
    s.record_movement(
        id,
        &Movement::Waste {
            doses: 3,
            reason: WastageReason::Spoiled,
        },
        "c",
        at(3),
    )
    .unwrap();
    s.record_movement(id, &Movement::Administer { doses: 1 }, "c", at(3))
        .unwrap();
    let rows = s.inventory_report(at(1).date(), at(3).date()).unwrap();
    let get = |kind: &str, reason: Option<&str>| {
        rows.iter()
            .find(|r| r.kind == kind && r.reason.as_deref() == reason)
            .and_then(|r| r.doses)
    };
    assert_eq!(get("receive", None), Some(30));
    assert_eq!(get("waste", Some("broken-vial")), Some(-2));
    assert_eq!(get("waste", Some("spoiled")), Some(-3));
    assert_eq!(get("administer", None), Some(-1));
    assert!(s
        .inventory_report(at(4).date(), at(5).date())
        .unwrap()
        .is_empty());
}

#[test]
fn receiving_reuses_a_held_lot_and_refuses_a_mismatch() {
    let s = store();
    let a = synth::clinic_pin(0);
    let l = lot(&a, "RX1", "20");
    let (id, q) = s.receive_into_lot(&l, 10, "coord", at(1)).unwrap();
    assert_eq!(q, 10);
    assert_eq!(s.receive_into_lot(&l, 5, "coord", at(2)).unwrap(), (id, 15));
    // Same number as private stock is a separate lot.
    let private = Lot {
        funding: StockFunding::Private,
        ..l.clone()
    };
    let (pid, pq) = s.receive_into_lot(&private, 3, "coord", at(2)).unwrap();
    assert!(pid != id && pq == 3);
    // Same number, different vaccine: refused, nothing recorded.
    let wrong = lot(&a, "RX1", "10");
    assert!(s
        .receive_into_lot(&wrong, 5, "coord", at(3))
        .unwrap_err()
        .to_string()
        .contains("already held"));
    assert_eq!(s.lot(id).unwrap().unwrap().on_hand, 15);
    assert!(s.receive_into_lot(&l, 0, "coord", at(3)).is_err());
}

/// A database written before movements were bounded may hold a huge quantity (issue 13:
/// `inventory receive --doses 9223372036854775807` was accepted, then the report failed
/// with "integer overflow" for everyone). The report still runs: the damaged rows name
/// the lot, every other row is summed; the lot itself reports a clear error.
#[test]
fn a_legacy_out_of_range_movement_costs_its_lot_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    let s = SqliteStore::open(&path).unwrap();
    for c in synth::clinics(&cfg()) {
        s.add_clinic(&c).unwrap();
    }
    let a = synth::clinic_pin(0);
    let good = s.add_lot(&lot(&a, "OK1", "20")).unwrap();
    s.record_movement(good, &Movement::Receive { doses: 7 }, "c", at(1))
        .unwrap();
    let bad = s.add_lot(&lot(&a, "HUGE1", "20")).unwrap();
    let legacy = rusqlite::Connection::open(&path).unwrap();
    for _ in 0..2 {
        legacy
            .execute(
                "INSERT INTO inventory_transactions (lot_id, kind, delta, movement, at, by_user)
                 VALUES (?1, 'receive', 9223372036854775807, '{\"Receive\":{\"doses\":9223372036854775807}}', '2026-02-01 10:00:00', 'legacy')",
                [bad],
            )
            .unwrap();
    }
    // The new bounds refuse such a movement outright.
    assert!(s
        .record_movement(good, &Movement::Receive { doses: i64::MAX }, "c", at(1))
        .unwrap_err()
        .to_string()
        .contains("at most 100000 doses"));
    let rows = s.inventory_report(at(1).date(), at(2).date()).unwrap();
    let receive = rows
        .iter()
        .find(|r| r.kind == "receive" && r.cvx.as_str() == "20")
        .unwrap();
    assert_eq!(receive.doses, None);
    assert_eq!(receive.damaged_lots, vec!["HUGE1".to_string()]);
    assert!(
        receive.doses_text().contains("lot HUGE1"),
        "{}",
        receive.doses_text()
    );
    let e = s.lot(bad).unwrap_err().to_string();
    assert!(
        e.contains("lot HUGE1") && e.contains("out of the range"),
        "{e}"
    );
    assert_eq!(s.lot(good).unwrap().unwrap().on_hand, 7);
}

/// Inside a write transaction the store keeps some answers (whether a clinic holds a lot,
/// a clinic's row) instead of asking again; its own writes, and a savepoint rolled back,
/// must never leave a stale one.
#[test]
fn answers_kept_in_a_transaction_follow_its_writes_and_rollbacks() {
    let s = store();
    let a = synth::clinic_pin(0);
    s.in_transaction(|s| {
        assert!(!s.holds_any_lot(&a)?);
        // A nested step adds a lot, sees it, and is rolled back.
        let undone: Result<()> = s.in_transaction(|s| {
            s.add_lot(&lot(&a, "GONE1", "03"))?;
            assert!(s.holds_any_lot(&a)?);
            let mut c = s.clinic(&a)?.expect("clinic");
            c.name = "Renamed and undone".into();
            s.update_clinic(&c)?;
            assert_eq!(s.clinic(&a)?.expect("clinic").name, "Renamed and undone");
            Err(StoreError::Conflict("undo".into()))
        });
        assert!(undone.is_err());
        assert!(!s.holds_any_lot(&a)?, "the undone lot is not held");
        assert_ne!(s.clinic(&a)?.expect("clinic").name, "Renamed and undone");
        // A kept write is seen at once.
        s.add_lot(&lot(&a, "KEPT1", "03"))?;
        assert!(s.holds_any_lot(&a)?);
        let mut c = s.clinic(&a)?.expect("clinic");
        c.name = "Renamed".into();
        s.update_clinic(&c)?;
        assert_eq!(s.clinic(&a)?.expect("clinic").name, "Renamed");
        Ok(())
    })
    .unwrap();
    assert!(s.holds_any_lot(&a).unwrap());
    assert_eq!(s.clinic(&a).unwrap().unwrap().name, "Renamed");
}

/// Nested steps undo only their own writes, at any depth, whether they failed in the
/// store's own checks or on a statement the database refused (on PostgreSQL a refused
/// statement aborts everything since the last savepoint, so each step must have its own).
#[test]
fn nested_steps_undo_only_their_own_writes() {
    let s = store();
    let a = synth::clinic_pin(0);
    let clinic = s.clinic(&a).unwrap().expect("clinic");
    s.in_transaction(|s| {
        s.add_lot(&lot(&a, "OUTER1", "03"))?;
        s.in_transaction(|s| {
            s.add_lot(&lot(&a, "MIDDLE1", "03"))?;
            // The database refuses this one (the clinic exists).
            let refused = s.in_transaction(|s| {
                s.add_lot(&lot(&a, "INNER1", "03"))?;
                s.add_clinic(&clinic)
            });
            assert!(refused.is_err(), "a second clinic with the same PIN");
            // A step that fails before it writes anything.
            let empty: Result<()> =
                s.in_transaction(|_| Err(StoreError::Conflict("nothing done".into())));
            assert!(empty.is_err());
            s.add_lot(&lot(&a, "MIDDLE2", "03"))
        })?;
        Ok(())
    })
    .unwrap();
    let lot_numbers = || -> Vec<String> {
        s.lots(&a)
            .unwrap()
            .into_iter()
            .map(|l| l.lot.lot_number.to_string())
            .collect()
    };
    let numbers = lot_numbers();
    for kept in ["OUTER1", "MIDDLE1", "MIDDLE2"] {
        assert!(numbers.iter().any(|n| n == kept), "{kept} in {numbers:?}");
    }
    assert!(!numbers.iter().any(|n| n == "INNER1"), "{numbers:?}");

    // Many steps in one transaction (a batch import's messages), then a step whose own
    // inner step succeeded before it failed: all of that step is undone, the rest kept.
    s.in_transaction(|s| {
        for i in 0..300 {
            s.in_transaction(|s| s.add_lot(&lot(&a, &format!("MANY{i}"), "03")))?;
        }
        let undone: Result<()> = s.in_transaction(|s| {
            s.in_transaction(|s| s.add_lot(&lot(&a, "GONE1", "03")))?;
            s.add_lot(&lot(&a, "GONE2", "03"))?;
            Err(StoreError::Conflict("changed its mind".into()))
        });
        assert!(undone.is_err());
        s.add_lot(&lot(&a, "AFTER", "03"))
    })
    .unwrap();
    let numbers = lot_numbers();
    assert_eq!(
        numbers.iter().filter(|n| n.starts_with("MANY")).count(),
        300
    );
    assert!(numbers.iter().any(|n| n == "AFTER"), "{numbers:?}");
    assert!(
        !numbers.iter().any(|n| n.starts_with("GONE")),
        "{numbers:?}"
    );
}
