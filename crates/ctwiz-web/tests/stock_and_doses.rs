//! Issue 13 through the web door: the stock rules and the dose rules live in the use cases
//! below (`ctwiz_store::usecase::{inventory, doses}`), the same as for the CLI; refusals
//! store nothing; the pages that show a record for editing are audited.

mod common;

use axum::http::StatusCode;
use common::{fixture, get, post, session, store, user, Fixture};
use ctwiz_core::access::Role;
use ctwiz_core::ids::{ClinicPin, LotNumber};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_store::test_support::run;
use ctwiz_store::{AuditAction, AuditStore, DoseStore, InventoryStore, OrgStore};

fn signed_in(f: &Fixture, role: Role, name: &str) -> (String, String) {
    let (id, _) = user(f, role, name, true);
    session(f, id)
}

#[test]
fn stock_rules_hold_at_the_web_door() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let private = ClinicPin::new("CT00009").unwrap();
        s.add_clinic(
            &Clinic::new(
                private.clone(),
                "Private Care",
                County::Hartford,
                ProgramType::PrivateOnly,
            )
            .unwrap(),
        )
        .unwrap();
        let (cookie, csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "coordrules");
        let lot = f.lot.to_string();
        // Public stock to a private-only clinic: refused (it was accepted; only receipts were
        // checked, in the handlers).
        let r = post(
            &f,
            "/inventory/transfer",
            &cookie,
            &[
                ("csrf", &csrf),
                ("lot_id", &lot),
                ("to", "CT00009"),
                ("doses", "2"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("CT00009 is private-only"), "{}", r.body);
        assert_eq!(s.lot(f.lot).unwrap().unwrap().on_hand, 10);
        assert!(s.lots(&private).unwrap().is_empty());
        // Receipts: unknown vaccine, expired lot, a quantity beyond any shipment.
        for (cvx, exp, doses, says) in [
            (
                "555",
                "2099-01-01",
                "5",
                "CVX 555 is not a known vaccine code",
            ),
            (
                "20",
                "2020-01-01",
                "5",
                "expired on 2020-01-01; it cannot be received",
            ),
            (
                "20",
                "2099-01-01",
                "9223372036854775807",
                "at most 100000 doses may move at once",
            ),
        ] {
            let r = post(
                &f,
                "/inventory/receive",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("cvx", cvx),
                    ("lot", "NEWLOT1"),
                    ("expiration", exp),
                    ("doses", doses),
                    ("funding", "public"),
                ],
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{cvx} {exp}: {}", r.body);
            assert!(r.body.contains(says), "{says}: {}", r.body);
            assert!(s
                .find_lot(&f.home, &LotNumber::new("NEWLOT1").unwrap())
                .unwrap()
                .is_none());
        }
        // The movement report still runs for everyone.
        let r = get(&f, "/inventory/report", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
    })
}

/// The fixture's `out_county` child lives in New London and has one dose, reported by
/// CT00002; nothing links the child to CT00001.
#[test]
fn only_the_reporting_clinic_or_the_state_changes_a_dose() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let p = f.out_county;
        let theirs = s.doses(p).unwrap()[0].clone();
        assert_eq!(theirs.clinic.as_ref(), Some(&f.other));
        let did = theirs.id.unwrap().0;
        let edit = format!("/patients/{p}/doses/{did}/edit");
        let delete = format!("/patients/{p}/doses/{did}/delete");
        let (cookie, csrf) = signed_in(&f, Role::ClinicAccess, "clinica");
        let r = get(&f, &edit, &cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let fix = [
            ("csrf", csrf.as_str()),
            ("date", "2024-03-21"),
            ("lot_number", ""),
            ("reason", "typo"),
        ];
        let r = post(&f, &edit, &cookie, &fix).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post(
            &f,
            &delete,
            &cookie,
            &[("csrf", &csrf), ("reason", "wrong child")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(s.doses(p).unwrap(), vec![theirs.clone()]);
        // Their own clinic's doses they may open (and the view is audited).
        let own = s.doses(f.in_county).unwrap()[0].id.unwrap().0;
        let r = get(
            &f,
            &format!("/patients/{}/doses/{own}/edit", f.in_county),
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let audit = s.audit_for_patient(f.in_county, 50).unwrap();
        assert!(
            audit.iter().any(|a| a.action == AuditAction::Read
                && a.detail == format!("dose {own} edit page viewed")
                && a.actor == "web:clinica@CT00001"),
            "{audit:?}"
        );
        // The state may correct and delete any dose.
        let (state, state_csrf) = signed_in(&f, Role::StateAdmin, "stateuser");
        let r = get(&f, &edit, &state).await;
        assert_eq!(r.status, StatusCode::OK);
        let fix = [
            ("csrf", state_csrf.as_str()),
            ("date", "2024-03-21"),
            ("lot_number", ""),
            ("reason", "typo"),
        ];
        let r = post(&f, &edit, &state, &fix).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(s.doses(p).unwrap()[0].date.to_string(), "2024-03-21");
        let r = post(
            &f,
            &delete,
            &state,
            &[("csrf", &state_csrf), ("reason", "entered twice")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(s.doses(p).unwrap().is_empty());
    })
}

#[test]
fn the_same_dose_twice_is_refused_with_a_message() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (cookie, csrf) = signed_in(&f, Role::ClinicAccess, "entry");
        let path = format!("/patients/{}/doses", f.in_county);
        let historical = |date: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("kind", "historical".into()),
                ("cvx", "20".into()),
                ("date", date.into()),
                ("source", "01".into()),
            ]
        };
        let send = |fields: [(&'static str, String); 5]| {
            let f = &f;
            let path = path.clone();
            let cookie = cookie.clone();
            async move {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post(f, &path, &cookie, &fields).await
            }
        };
        // The fixture already holds CVX 20 on 2024-03-15.
        let r = send(historical("2024-03-15")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body
                .contains("this dose is already recorded: CVX 20 on 2024-03-15"),
            "{}",
            r.body
        );
        assert_eq!(s.doses(f.in_county).unwrap().len(), 2);
        let r = send(historical("2024-05-15")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = send(historical("2024-05-15")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("CVX 20 on 2024-05-15"), "{}", r.body);
        assert_eq!(s.doses(f.in_county).unwrap().len(), 3);
    })
}

#[test]
fn opening_the_demographics_edit_page_is_audited() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (cookie, _) = signed_in(&f, Role::ClinicAccess, "editor");
        let before = s.audit_for_patient(f.in_county, 100).unwrap().len();
        let r = get(&f, &format!("/patients/{}/edit", f.in_county), &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        let audit = s.audit_for_patient(f.in_county, 100).unwrap();
        assert_eq!(audit.len(), before + 1);
        assert!(
            audit.iter().any(|a| a.action == AuditAction::Read
                && a.detail == "demographics edit page viewed"
                && a.clinic.as_ref() == Some(&f.home)),
            "{audit:?}"
        );
    })
}

/// Dose entry offers what the Recommender says is due first, then the clinic's stock,
/// then other US vaccines; an unspecified, retired or foreign code only by search, which
/// records it.
#[test]
fn dose_entry_offers_due_vaccines_first_and_others_by_search() {
    run(async {
        use ctwiz_store::DoseStore;
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "picker", true);
        let (cookie, csrf) = session(&f, nurse);
        let page = get(&f, &format!("/patients/{}/doses/new", f.in_county), &cookie).await;
        assert_eq!(page.status, 200);
        let due_at = page
            .body
            .find("Due now for this patient")
            .expect("a due group");
        let licensed_at = page.body.find("Other US-licensed vaccines").unwrap();
        assert!(due_at < licensed_at);
        // The fixture child (born 2024-01-15, two doses) is overdue for MMR: MMR is offered
        // in the first group, not among the others.
        let due_part = &page.body[due_at..licensed_at];
        assert!(due_part.contains("MMR (CVX 03)"), "{due_part}");
        let picker_end = licensed_at + page.body[licensed_at..].find("</select>").unwrap();
        assert!(!page.body[licensed_at..picker_end].contains("MMR (CVX 03)"));
        // An unspecified formulation is not a choice, only a search suggestion.
        assert!(!page.body.contains("<option value=\"107\""));
        assert!(page.body.contains("107 – DTaP, unspecified formulation"));
        let r = post(
            &f,
            &format!("/patients/{}/doses", f.in_county),
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "historical"),
                ("cvx", ""),
                ("cvx_other", "107 – DTaP, unspecified formulation"),
                ("date", "2024-05-20"),
                ("source", "01"),
            ],
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let doses = store(&f).doses(f.in_county).unwrap();
        assert!(doses.iter().any(|d| d.cvx.as_str() == "107"));
        let r = post(
            &f,
            &format!("/patients/{}/doses", f.in_county),
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "historical"),
                ("cvx_other", "measles shot"),
                ("date", "2024-06-20"),
                ("source", "01"),
            ],
        )
        .await;
        assert_eq!(r.status, 400);
        assert!(
            r.body.contains("is not a vaccine from the list"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("Due now for this patient"),
            "the form comes back whole"
        );
    })
}
