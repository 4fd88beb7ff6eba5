//! Issue 22 through the web door (HTTP): a dose's draw follows its record through entry,
//! correction and deletion; a dose from a lot not in stock is an exception the
//! coordinator sees in the Task Module and settles with one click; the lot usage report
//! reconciles. The lot count is checked after each step.

mod common;

use axum::http::StatusCode;
use common::{fixture, get, post, session, store, user};
use ctwiz_core::access::Role;
use ctwiz_core::ids::{Cvx, DoseId, LotNumber};
use ctwiz_core::inventory::{Lot, Movement, StockFunding};
use ctwiz_store::test_support::run;
use ctwiz_store::{DoseStore, InventoryStore};

#[test]
fn the_lot_count_follows_each_dose_through_the_web() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let other = s
            .add_lot(&Lot {
                id: None,
                clinic: f.home.clone(),
                cvx: Cvx::new("20").unwrap(),
                ndc: None,
                mvx: None,
                lot_number: LotNumber::new("DT999B").unwrap(),
                expiration: chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap(),
                funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
            })
            .unwrap();
        let t = chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        s.record_movement(other, &Movement::Receive { doses: 5 }, "test", t)
            .unwrap();
        let counts = || {
            (
                s.lot(f.lot).unwrap().unwrap().on_hand,
                s.lot(other).unwrap().unwrap().on_hand,
            )
        };
        assert_eq!(counts(), (10, 5));
        let (id, _) = user(&f, Role::PrimaryVaccineCoordinator, "coordlife", true);
        let (cookie, csrf) = session(&f, id);
        let p = f.in_county;
        let lot = f.lot.to_string();

        // Entered from the lot picked in the form.
        let r = post(
            &f,
            &format!("/patients/{p}/doses"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "administered"),
                ("lot_id", &lot),
                ("date", "2025-06-02"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(counts(), (9, 5));
        let did = s
            .doses(p)
            .unwrap()
            .into_iter()
            .find(|d| d.date.to_string() == "2025-06-02")
            .and_then(|d| d.id)
            .unwrap();

        // Corrected to the other lot.
        let r = post(
            &f,
            &format!("/patients/{p}/doses/{}/edit", did.0),
            &cookie,
            &[
                ("csrf", &csrf),
                ("date", "2025-06-02"),
                ("lot_number", "DT999B"),
                ("reason", "picked the wrong lot"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(counts(), (10, 4));

        // The delete form asks what became of the vaccine; deleted: back to stock.
        let page = get(&f, &format!("/patients/{p}/doses/{}/edit", did.0), &cookie).await;
        assert!(page.body.contains("drawn-up-and-lost"), "{}", page.body);
        let r = post(
            &f,
            &format!("/patients/{p}/doses/{}/delete", did.0),
            &cookie,
            &[
                ("csrf", &csrf),
                ("reason", "entered on the wrong child"),
                ("vaccine", "back-to-stock"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(counts(), (10, 5));

        // A lot number the clinic does not hold: the dose is stored, the exception shows in
        // the Task Module and on the exceptions page.
        let r = post(
            &f,
            &format!("/patients/{p}/doses"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "administered"),
                ("cvx", "20"),
                ("lot_number", "NOTOURS"),
                ("date", "2025-06-03"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(counts(), (10, 5));
        let tasks = get(&f, "/tasks", &cookie).await;
        assert!(
            tasks.body.contains("inventory exceptions"),
            "{}",
            tasks.body
        );
        let page = get(&f, "/inventory/exceptions", &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("lot not in the clinic"), "{}", page.body);
        let open = s.exceptions(Some(&f.home), true).unwrap();
        assert_eq!(open.len(), 1);
        // One click: it came from DT123A after all.
        let r = post(
            &f,
            &format!("/inventory/exceptions/{}", open[0].id),
            &cookie,
            &[("csrf", &csrf), ("how", "link"), ("lot_id", &lot)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(counts(), (9, 5));
        assert_eq!(s.dose_draws(open[0].dose).unwrap(), vec![(f.lot, 1)]);
        assert!(s.exceptions(Some(&f.home), true).unwrap().is_empty());
        let _: DoseId = open[0].dose;

        // The lot usage report: page and CSV, no difference.
        let r = get(
            &f,
            "/inventory/lot-usage?from=2025-01-01&to=2025-12-31",
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("DT999B"), "{}", r.body);
        let csv = get(
            &f,
            "/inventory/lot-usage?format=csv&from=2025-01-01&to=2025-12-31",
            &cookie,
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        let lines: Vec<&str> = csv.body.lines().collect();
        assert!(lines[0].starts_with("clinic,lot,cvx"), "{}", csv.body);
        let a_row = lines.iter().find(|l| l.contains(",DT123A,")).unwrap();
        let cells: Vec<&str> = a_row.split(',').collect();
        // received 10, drawn 1 (the linked dose), 1 dose record, difference 0, 9 on hand.
        assert_eq!(
            (cells[5], cells[11], cells[13], cells[14], cells[16]),
            ("10", "1", "1", "0", "9"),
            "{a_row}"
        );
    })
}
