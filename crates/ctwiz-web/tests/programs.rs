//! CVFA beside CVP through HTTP: a clinic orders each program's vaccine only when
//! enrolled in it and holding its agreement, keeps each program's stock apart, and
//! cannot give CVFA vaccine to a child. The refusals read as at the CLI door
//! (ctwiz-cli tests/programs.rs).

mod common;

use axum::http::StatusCode;
use common::*;
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::ids::{Email, Username};
use ctwiz_core::inventory::StockFunding;
use ctwiz_core::org::ProgramType;
use ctwiz_core::program::Program;
use ctwiz_store::test_support::run;
use ctwiz_store::{InventoryStore, OrgStore};

fn signed_in(f: &Fixture, role: Role, name: &str) -> (String, String) {
    let (id, _) = user(f, role, name, true);
    session(f, id)
}

fn state_actor() -> Actor {
    let mut u = User::new(
        Username::new("dph").unwrap(),
        "DPH",
        Email::new("dph@ct.example").unwrap(),
    )
    .unwrap();
    u.grants
        .push(Grant::new(Role::StateAdmin, Scope::State).unwrap());
    Actor::new(u, Acting::State, Channel::Cli)
}

#[test]
fn cvfa_orders_stock_and_doses_through_the_web() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (cookie, csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "coordcvfa");
        let order = |program: &'static str| {
            let (f, cookie, csrf) = (&f, cookie.clone(), csrf.clone());
            async move {
                post(
                    f,
                    "/inventory/orders",
                    &cookie,
                    &[
                        ("csrf", &csrf),
                        ("program", program),
                        ("extra_cvx", "187"),
                        ("extra_qty", "10"),
                    ],
                )
                .await
            }
        };

        // A CVP-only clinic: the form orders CVP, and a CVFA order is refused.
        let page = get(&f, "/inventory/orders", &cookie).await;
        assert!(page.body.contains("New CVP vaccine order"), "{}", page.body);
        assert!(!page.body.contains("Order CVFA vaccine instead"));
        let r = order("cvfa").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("not enrolled in CVFA"), "{}", r.body);
        let r = post(
            &f,
            "/inventory/receive",
            &cookie,
            &[
                ("csrf", &csrf),
                ("cvx", "187"),
                ("lot", "SHX1"),
                ("expiration", "2099-01-01"),
                ("doses", "20"),
                ("funding", "cvfa"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("not enrolled in CVFA"), "{}", r.body);

        // The clinic may not enroll itself; the state enrolls it in both programs on its
        // clinics page.
        let now = chrono::Local::now().naive_local();
        let enroll_at = format!("/admin/clinics/{}/enrollment", f.home);
        assert_eq!(
            get(&f, "/admin/clinics", &cookie).await.status,
            StatusCode::FORBIDDEN
        );
        let r = post(
            &f,
            &enroll_at,
            &cookie,
            &[("csrf", &csrf), ("program", "cvp,cvfa")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let (state_cookie, state_csrf) = signed_in(&f, Role::StateAdmin, "dphenroll");
        let list = get(&f, "/admin/clinics", &state_cookie).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(&enroll_at), "{}", list.body);
        let r = post(
            &f,
            &enroll_at,
            &state_cookie,
            &[("csrf", &state_csrf), ("program", "cvp,cvfa")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let done = get(
            &f,
            &format!("/admin/clinics?done={}", f.home),
            &state_cookie,
        )
        .await;
        assert!(done.body.contains("is now enrolled in"), "{}", done.body);
        assert_eq!(
            s.clinic(&f.home).unwrap().unwrap().program,
            ProgramType::CvpAndCvfa
        );
        let r = post(
            &f,
            &enroll_at,
            &state_cookie,
            &[("csrf", &state_csrf), ("program", "measles")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        let page = get(&f, "/inventory/orders?program=cvfa", &cookie).await;
        assert!(
            page.body.contains("New CVFA vaccine order"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Order CVP vaccine instead"));
        let lots_page = get(&f, "/inventory", &cookie).await;
        assert!(lots_page.body.contains("Public (CVFA)"), "funding choices");

        // CVFA stock is received apart from CVP stock.
        let r = post(
            &f,
            "/inventory/receive",
            &cookie,
            &[
                ("csrf", &csrf),
                ("cvx", "187"),
                ("lot", "SHX1"),
                ("expiration", "2099-01-01"),
                ("doses", "20"),
                ("funding", "cvfa"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let adult_lot = s
            .lots(&f.home)
            .unwrap()
            .into_iter()
            .find(|l| l.lot.lot_number.as_str() == "SHX1")
            .unwrap();
        assert_eq!(adult_lot.lot.funding, StockFunding::Public(Program::Cvfa));

        // CVFA vaccine is not for a child (the fixture's patient was born in 2024).
        let r = post(
            &f,
            &format!("/patients/{}/doses", f.in_county),
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "administered"),
                ("lot_id", &adult_lot.lot.id.unwrap().to_string()),
                ("date", "2025-06-02"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("CVFA vaccine is for adults"), "{}", r.body);
        assert_eq!(
            s.lot(adult_lot.lot.id.unwrap()).unwrap().unwrap().on_hand,
            20
        );

        // A CVFA order needs the CVFA agreement, then lands as a CVFA order.
        let r = order("cvfa").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("no current CVFA agreement"), "{}", r.body);
        let clinic = s.clinic(&f.home).unwrap().unwrap();
        ctwiz_store::agreements::AgreementStore::add_signature(
            &s,
            &ctwiz_core::agreement::Signature::new(
                &clinic,
                Program::Cvfa,
                "Maria Lopez",
                true,
                "test",
                now,
            )
            .unwrap(),
        )
        .unwrap();
        let r = order("cvfa").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let orders = s.orders(Some(&f.home), None).unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].program, Program::Cvfa);
        let page = get(&f, "/inventory/orders", &cookie).await;
        assert!(page.body.contains("CVFA order "), "{}", page.body);

        // Leaving CVFA with its stock and order open is refused, through the web as through
        // the use case, and the enrollment stays.
        let r = post(
            &f,
            &enroll_at,
            &state_cookie,
            &[("csrf", &state_csrf), ("program", "cvp")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("20 dose(s) of CVFA stock"), "{}", r.body);
        let e = ctwiz_store::usecase::clinic_info::enroll(
            &s,
            &state_actor(),
            &f.home,
            ProgramType::Cvp,
            now,
        )
        .unwrap_err();
        assert!(e.to_string().contains("20 dose(s) of CVFA stock"), "{e}");
        assert_eq!(
            s.clinic(&f.home).unwrap().unwrap().program,
            ProgramType::CvpAndCvfa
        );
    })
}
