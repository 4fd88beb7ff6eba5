//! Reports and Inventory pages against the real router and a real SQLite database seeded
//! with synthetic children (`ctwiz_core::synth`): who may open each page, the numbers
//! it shows (compared with the report engine run directly), county scoping for health
//! departments, CSV downloads, reconciliation, and the public vaccine order cycle.

mod common;

use axum::http::StatusCode;
use chrono::{NaiveDate, Timelike};
use common::{fixture, get, post, session, store, user, Fixture};
use ctwiz_core::access::{Action, Role};
use ctwiz_core::assessment::coverage::{Context, Series};
use ctwiz_core::assessment::{run, Cohort};
use ctwiz_core::ids::{ClinicPin, LotNumber};
use ctwiz_core::ordering::OrderStatus;
use ctwiz_core::org::County;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::interface::{
    AckResult, InterfaceStatus, InterfaceStore, LoggedError, MessageLogEntry,
};
use ctwiz_store::test_support::run;
use ctwiz_store::{Interface, InventoryStore, PatientStore, RecallStore, SqliteStore};

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The fixture plus 600 synthetic children of its two clinics (CT00001 in Hartford
/// County, CT00002 in New London), histories up to today.
fn seeded() -> Fixture {
    let f = fixture();
    let cfg = SynthConfig {
        children: 600,
        clinics: 2,
        seed: 42,
        as_of: today(),
    };
    let batch: Vec<_> = (0..cfg.children)
        .map(|i| {
            let c = synth::child(&cfg, i);
            (c.patient, c.doses)
        })
        .collect();
    store(&f).create_patients_with_doses(&batch).unwrap();
    f
}

/// The childhood coverage cohort size, straight from the engine (what the page must say).
fn cohort_size(f: &Fixture, clinics: Option<Vec<ClinicPin>>, counties: Option<Vec<County>>) -> u64 {
    let s = store(f);
    let cohort = Cohort {
        as_of: today(),
        min_age_months: 24,
        max_age_months: 35,
        clinics,
        within: counties.map(|cs| {
            cs.into_iter()
                .map(ctwiz_core::place::Jurisdiction::County)
                .collect()
        }),
        places: Some(ctwiz_store::PlaceStore::places(&s).unwrap()),
    };
    let ctx = Context {
        engine: f.state.engine(),
        codes: f.state.codes(),
    };
    let r = run::coverage(&ctx, Series::Childhood, &cohort, |cb| {
        s.for_each_chunk(Some(cohort.dob_range()), 4096, &mut |chunk| {
            cb(chunk);
            Ok(())
        })
    })
    .unwrap();
    r.total.children
}

fn csv_rows(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn signed_in(f: &Fixture, role: Role, name: &str) -> (String, String) {
    let (id, _) = user(f, role, name, true);
    session(f, id)
}

#[test]
fn every_role_against_every_report_and_inventory_page() {
    run(async {
        let f = seeded();
        let pages: [(&str, &[Action]); 13] = [
            ("/reports/trend", &[Action::ReportCoverage]),
            ("/outreach", &[Action::ReferralCreate, Action::ReferralWork]),
            (
                "/reports",
                &[
                    Action::ReportCoverage,
                    Action::ReportReminderRecall,
                    Action::ReportDqa,
                    Action::ReportRosterStatus,
                ],
            ),
            ("/reports/students", &[Action::ReportRosterStatus]),
            ("/reports/coverage", &[Action::ReportCoverage]),
            (
                "/reports/coverage?series=adolescent",
                &[Action::ReportCoverage],
            ),
            ("/reports/compliancy", &[Action::ReportCoverage]),
            ("/reports/cleanup", &[Action::ReportCoverage]),
            ("/reports/recall", &[Action::ReportReminderRecall]),
            ("/reports/dqa", &[Action::ReportDqa]),
            ("/inventory", &[Action::InventoryView]),
            ("/inventory/orders", &[Action::InventoryView]),
            ("/inventory/report", &[Action::InventoryView]),
        ];
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let (cookie, csrf) = signed_in(&f, role, &format!("user{i}"));
            for (path, actions) in pages {
                let allowed = actions.iter().any(|a| role.allows(*a));
                let r = get(&f, path, &cookie).await;
                let want = if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(r.status, want, "{role:?} GET {path}: {}", r.body);
                if !allowed {
                    assert!(
                        !r.body.contains("/patients/"),
                        "{role:?} {path} leaked patient links"
                    );
                }
            }
            // The reconciliation screen and the forms change stock: InventoryEdit only.
            let r = get(&f, "/inventory/reconcile", &cookie).await;
            let want = if role.allows(Action::InventoryEdit) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role:?} GET /inventory/reconcile");
            // Recording recall notices is a write: a health department may run the recall
            // report but not record notices; neither the form nor the POST is offered.
            let may_record = role.allows(Action::RecallNoticeRecord);
            let r = get(&f, "/reports/recall?run=1", &cookie).await;
            if r.status == StatusCode::OK {
                assert_eq!(
                    r.body
                        .contains("method=\"post\" action=\"/reports/recall\""),
                    may_record,
                    "{role:?} recall form"
                );
            }
            let r = post(
                &f,
                "/reports/recall",
                &cookie,
                &[("csrf", &csrf), ("method", "letter"), ("run", "1")],
            )
            .await;
            let want = if may_record {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role:?} POST /reports/recall: {}", r.body);
        }
    })
}

#[test]
fn coverage_shows_the_engines_numbers_per_scope() {
    run(async {
        let f = seeded();
        // State: the whole cohort, with a clinic table and an inline chart.
        let (cookie, _) = signed_in(&f, Role::StateAdmin, "statey");
        let all = cohort_size(&f, None, None);
        assert!(all > 10, "the synthetic population has 2-year-olds ({all})");
        // Beyond one clinic a report runs when the filters are sent, not on opening it.
        let r = get(&f, "/reports/coverage", &cookie).await;
        // No link to any patient record in the page (the menu's screens are not records).
        let links = &r.body[r.body.find("<main>").unwrap()..];
        assert!(r.body.contains("Choose the filters") && !links.contains("/patients/"));
        let r = get(&f, "/reports/coverage?run=1", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body
                .contains(&format!("<strong>{all}</strong> children aged 24–35")),
            "{}",
            r.body
        );
        assert!(r.body.contains("<svg"), "inline chart");
        assert!(r.body.contains("4:3:1:3:3:1:4"));
        assert!(r.body.contains("CT00001") && r.body.contains("CT00002"));
        assert!(
            r.body[r.body.find("<main>").unwrap()..].contains("/patients/"),
            "children behind are listed"
        );

        // A clinic user: their clinic's children only.
        let (cookie, _) = signed_in(&f, Role::PrimaryVaccineCoordinator, "coord");
        let mine = cohort_size(&f, Some(vec![f.home.clone()]), None);
        let r = get(&f, "/reports/coverage", &cookie).await;
        assert!(r
            .body
            .contains(&format!("<strong>{mine}</strong> children aged")));
        assert!(!r.body.contains("CT00002"), "another clinic's row");
        let r = get(&f, "/reports/coverage?clinic=CT00002", &cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // CSV: one row per measure, numbers that parse.
        let (cookie, _) = signed_in(&f, Role::StateAdmin, "statecsv");
        let r = get(&f, "/reports/coverage?format=csv", &cookie).await;
        assert!(r.content_type.starts_with("text/csv"));
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head, ["measure", "children_met", "cohort", "percent"]);
        assert_eq!(rows.len(), Series::Childhood.measures().len());
        for row in &rows {
            assert_eq!(row[2], all.to_string());
            let pct: f64 = row[3].parse().unwrap();
            assert!((0.0..=100.0).contains(&pct));
        }
        let r = get(&f, "/reports/coverage?format=csv&table=clinics", &cookie).await;
        let (_, rows) = csv_rows(&r.body);
        let sum: u64 = rows.iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
        assert_eq!(sum, all);
        let r = get(&f, "/reports/cleanup?format=csv", &cookie).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head[0], "patient_id");
        assert!(
            !rows.is_empty() && rows.iter().all(|r| !r[5].is_empty() || !r[6].is_empty()),
            "each child says what is missing or why nothing is asked"
        );
        let r = get(&f, "/reports/compliancy?format=csv", &cookie).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(
            head,
            [
                "clinic",
                "children_8m",
                "utd_8m_percent",
                "children_20m",
                "utd_20m_percent"
            ]
        );
        assert_eq!(rows.last().unwrap()[0], "All");
        let r = get(&f, "/reports/recall?format=csv", &cookie).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head[head.len() - 2..], ["due", "not_asked"]);
        assert!(!rows.is_empty(), "someone is due or overdue");
    })
}

#[test]
fn health_department_reports_stay_in_its_county() {
    run(async {
        let f = seeded();
        let (cookie, _) = signed_in(&f, Role::HealthDepartmentReadOnly, "hdept");
        let hartford = cohort_size(&f, None, Some(vec![County::Hartford]));
        let all = cohort_size(&f, None, None);
        assert!(hartford > 0 && hartford < all);
        let r = get(&f, "/reports/coverage?run=1", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body
                .contains(&format!("<strong>{hartford}</strong> children aged")),
            "{}",
            r.body
        );
        assert!(r.body.contains("Hartford County"));
        // Every child on the clean-up list lives in Hartford County.
        let r = get(&f, "/reports/cleanup?format=csv", &cookie).await;
        let (head, rows) = csv_rows(&r.body);
        let county = head.iter().position(|h| h == "county").unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r[county] == "Hartford"), "{rows:?}");
        let r = get(&f, "/reports/recall?format=csv", &cookie).await;
        let (_, rows) = csv_rows(&r.body);
        assert!(rows.iter().all(|r| r[county] == "Hartford"));
        // Another county, or a clinic outside the county, is refused.
        for path in [
            "/reports/coverage?county=New%20London",
            "/reports/coverage?clinic=CT00002",
            "/reports/cleanup?county=Fairfield",
            "/reports/recall?clinic=CT00002",
        ] {
            let r = get(&f, path, &cookie).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert!(!r.body.contains("/patients/"));
        }
        // Its own county's clinic is fine.
        let r = get(&f, "/reports/coverage?clinic=CT00001&run=1", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        let mine = cohort_size(&f, Some(vec![f.home.clone()]), Some(vec![County::Hartford]));
        assert!(r
            .body
            .contains(&format!("<strong>{mine}</strong> children aged")));
        // Inventory of a clinic in another county is refused too.
        let r = get(&f, "/inventory?pin=CT00002", &cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = get(&f, "/inventory?pin=CT00001", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("DT123A"));
    })
}

fn log_entry(facility: &str, result: AckResult, errors: Vec<LoggedError>) -> MessageLogEntry {
    let at = chrono::Utc::now().naive_utc().with_nanosecond(0).unwrap();
    MessageLogEntry {
        facility: facility.into(),
        clinic: ClinicPin::new(facility).ok(),
        message_type: "VXU^V04".into(),
        control_id: format!("{facility}-{}", at.and_utc().timestamp_subsec_micros()),
        result,
        mode: InterfaceStatus::Production,
        interface: Interface::Soap,
        received_at: at,
        processed_at: at,
        patient: None,
        doses: 1,
        late_doses: 0,
        errors,
    }
}

#[test]
fn dqa_lists_interface_activity_per_facility_in_scope() {
    run(async {
        let f = fixture();
        {
            let s = store(&f);
            s.log_message(&log_entry("CT00001", AckResult::Accepted, vec![]))
                .unwrap();
            let err = LoggedError {
                severity: "E".into(),
                hl7_code: "101".into(),
                app_code: Some("2".into()),
                location: "RXA-5".into(),
                text: "missing vaccine code".into(),
            };
            s.log_message(&log_entry("CT00002", AckResult::Error, vec![err]))
                .unwrap();
        }
        let (state, _) = signed_in(&f, Role::StateAdmin, "stated");
        let r = get(&f, "/reports/dqa", &state).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("CT00001") && r.body.contains("CT00002"));
        let r = get(&f, "/reports/dqa?format=csv&table=errors", &state).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head[3], "hl7_0357");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0][0].as_str(), rows[0][3].as_str()),
            ("CT00002", "101")
        );
        let r = get(&f, "/reports/dqa?format=csv", &state).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head[2], "received");
        assert_eq!(rows.len(), 2);

        // The clinic's interface staff and the Hartford health department: CT00001 only.
        for (role, name) in [
            (Role::ClinicAccessDqaInterface, "dqa"),
            (Role::HealthDepartmentReadOnly, "hdd"),
        ] {
            let (cookie, _) = signed_in(&f, role, name);
            let r = get(&f, "/reports/dqa?format=csv", &cookie).await;
            let (_, rows) = csv_rows(&r.body);
            assert_eq!(rows.len(), 1, "{role:?}");
            assert_eq!(rows[0][0], "CT00001");
            let r = get(&f, "/reports/dqa", &cookie).await;
            assert!(!r.body.contains("CT00002"), "{role:?}");
        }
    })
}

#[test]
fn recall_notices_are_recorded_as_sent() {
    run(async {
        let f = seeded();
        let (cookie, csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "coordr");
        let r = get(&f, "/reports/recall?format=csv", &cookie).await;
        let (_, rows) = csv_rows(&r.body);
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r[3] == "CT00001"), "own clinic only");
        let first: i64 = rows[0][0].parse().unwrap();
        // Narrowed to vaccine groups: only those are listed as due.
        let r = get(
            &f,
            "/reports/recall?format=csv&group=MMR&group=Polio",
            &cookie,
        )
        .await;
        let (_, only) = csv_rows(&r.body);
        assert!(!only.is_empty() && only.len() <= rows.len());
        for row in &only {
            for due in row[row.len() - 2].split("; ") {
                assert!(due.starts_with("MMR") || due.starts_with("Polio"), "{due}");
            }
        }
        // Without the CSRF token nothing is recorded.
        let r = post(&f, "/reports/recall", &cookie, &[("method", "letter")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let s = store(&f);
        assert_eq!(
            s.last_recall_notice(ctwiz_core::ids::PatientId(first))
                .unwrap(),
            None
        );
        let r = post(
            &f,
            "/reports/recall",
            &cookie,
            &[("csrf", &csrf), ("method", "letter")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location.unwrap();
        assert!(to.contains(&format!("recorded={}", rows.len())), "{to}");
        assert!(!to.contains("csrf") && !to.contains("method"), "{to}");
        assert_eq!(
            s.last_recall_notice(ctwiz_core::ids::PatientId(first))
                .unwrap(),
            Some(today())
        );
        let r = get(&f, &to, &cookie).await;
        assert!(r
            .body
            .contains(&format!("Recorded {} notice(s)", rows.len())));
        // An unknown method is refused.
        let r = post(
            &f,
            "/reports/recall",
            &cookie,
            &[("csrf", &csrf), ("method", "pigeon")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    })
}

fn on_hand(s: &SqliteStore, lot: i64) -> i64 {
    s.lot(lot).unwrap().unwrap().on_hand
}

#[test]
fn stock_forms_refuse_clearly_and_store_nothing() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (cookie, csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "coordw");
        let lot = f.lot.to_string();
        let r = get(&f, "/inventory", &cookie).await;
        assert!(r.body.contains("DT123A") && r.body.contains("name=\"csrf\""));
        // More than on hand: refused with the quantities, nothing stored.
        let r = post(
            &f,
            "/inventory/waste",
            &cookie,
            &[
                ("csrf", &csrf),
                ("lot_id", &lot),
                ("doses", "12"),
                ("kind", "waste"),
                ("reason", "broken-vial"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("only 10 on hand"), "{}", r.body);
        assert_eq!(on_hand(&s, f.lot), 10);
        let r = post(
            &f,
            "/inventory/waste",
            &cookie,
            &[
                ("csrf", &csrf),
                ("lot_id", &lot),
                ("doses", "2"),
                ("kind", "return"),
                ("reason", "spoiled"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(on_hand(&s, f.lot), 8);
        // Receiving a new lot, then a transfer of part of it.
        let r = post(
            &f,
            "/inventory/receive",
            &cookie,
            &[
                ("csrf", &csrf),
                ("cvx", "03"),
                ("lot", "MMR77"),
                ("expiration", "2099-06-30"),
                ("doses", "20"),
                ("funding", "public"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let mmr = s
            .find_lot(&f.home, &LotNumber::new("MMR77").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(mmr.on_hand, 20);
        let mmr_id = mmr.lot.id.unwrap().to_string();
        let r = get(&f, "/", &cookie).await;
        // 8 doses of DTaP left: low stock.
        assert!(r.body.contains("1 stock alert(s)"), "{}", r.body);
        let soon = (today() + chrono::Days::new(20)).to_string();
        let r = post(
            &f,
            "/inventory/receive",
            &cookie,
            &[
                ("csrf", &csrf),
                ("cvx", "03"),
                ("lot", "SOON1"),
                ("expiration", &soon),
                ("doses", "20"),
                ("funding", "private"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = get(&f, "/", &cookie).await;
        assert!(r.body.contains("2 stock alert(s)"), "{}", r.body);
        let r = get(&f, "/inventory", &cookie).await;
        assert!(r.body.contains("SOON1") && r.body.contains("expires on"));
        let r = post(
            &f,
            "/inventory/transfer",
            &cookie,
            &[
                ("csrf", &csrf),
                ("lot_id", &mmr_id),
                ("to", "CT00002"),
                ("doses", "5"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(on_hand(&s, mmr.lot.id.unwrap()), 15);
        assert_eq!(s.lots(&f.other).unwrap()[0].on_hand, 5);
        // A bad date is refused before anything is written.
        let r = post(
            &f,
            "/inventory/receive",
            &cookie,
            &[
                ("csrf", &csrf),
                ("cvx", "03"),
                ("lot", "BAD1"),
                ("expiration", "next year"),
                ("doses", "20"),
                ("funding", "public"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("not a date"));
        assert!(s
            .find_lot(&f.home, &LotNumber::new("BAD1").unwrap())
            .unwrap()
            .is_none());
        // Read-only clinic access may not change stock; a missing token is refused.
        let (ro, ro_csrf) = signed_in(&f, Role::ClinicAccess, "reader");
        let fields = [
            ("csrf", ro_csrf.as_str()),
            ("lot_id", lot.as_str()),
            ("doses", "1"),
            ("kind", "waste"),
            ("reason", "lost"),
        ];
        let r = post(&f, "/inventory/waste", &ro, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post(&f, "/inventory/waste", &cookie, &fields[1..]).await;
        assert!(r.status.is_client_error());
        assert_eq!(on_hand(&s, f.lot), 8);
        // The movement report shows it all and its CSV parses.
        let r = get(&f, "/inventory/report?format=csv", &cookie).await;
        let (head, rows) = csv_rows(&r.body);
        assert_eq!(head[4], "kind");
        let kinds: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
        for k in ["receive", "return", "transfer-out"] {
            assert!(kinds.contains(&k), "{kinds:?}");
        }
        assert!(rows.iter().all(|r| r[0] == "CT00001"), "own clinic only");
    })
}

#[test]
fn reconciliation_needs_a_reason_for_a_difference() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (cookie, csrf) = signed_in(&f, Role::BackupVaccineCoordinator, "backup");
        let r = get(&f, "/inventory/reconcile", &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        let count = format!("count_{}", f.lot);
        let computed = format!("computed_{}", f.lot);
        let reason = format!("reason_{}", f.lot);
        assert!(r.body.contains(&count));
        let r = post(
            &f,
            "/inventory/reconcile",
            &cookie,
            &[
                ("csrf", &csrf),
                (&count, "7"),
                (&computed, "10"),
                (&reason, ""),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("needs a reason"), "{}", r.body);
        assert!(r.body.contains("value=\"7\""), "the count is kept");
        assert_eq!(on_hand(&s, f.lot), 10);
        let r = post(
            &f,
            "/inventory/reconcile",
            &cookie,
            &[
                ("csrf", &csrf),
                (&count, "7"),
                (&computed, "10"),
                (&reason, "3 doses given, not recorded"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(on_hand(&s, f.lot), 7);
        // A count equal to the books needs no reason.
        let r = post(
            &f,
            "/inventory/reconcile",
            &cookie,
            &[("csrf", &csrf), (&count, "7"), (&computed, "7")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(on_hand(&s, f.lot), 7);
        let kinds: Vec<&str> = s
            .movements(f.lot)
            .unwrap()
            .iter()
            .map(|(_, _, m)| m.kind())
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "reconcile").count(), 2);
    })
}

/// A public order holds any number of vaccines: the form grows on request and every
/// "another vaccine" line is read; a vaccine without doses is refused with its line.
#[test]
fn an_order_holds_any_number_of_lines() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (clinic, csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "manylines");
        let r = get(&f, "/inventory/orders?lines=8", &clinic).await;
        assert_eq!(r.body.matches("name=\"extra_cvx\"").count(), 8);
        assert!(r.body.contains("lines=13"), "the form offers more lines");
        let extra = ["03", "21", "83", "08", "133", "10"];
        let mut fields = vec![("csrf", csrf.as_str()), ("qty_20", "")];
        for cvx in &extra {
            fields.push(("extra_cvx", cvx));
            fields.push(("extra_qty", "10"));
        }
        fields.push(("extra_cvx", ""));
        fields.push(("extra_qty", ""));
        let r = post(&f, "/inventory/orders", &clinic, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let order = &s.orders(Some(&f.home), Some(OrderStatus::Pending)).unwrap()[0];
        assert_eq!(order.lines.len(), extra.len());
        let r = post(
            &f,
            "/inventory/orders",
            &clinic,
            &[
                ("csrf", &csrf),
                ("extra_cvx", "03"),
                ("extra_qty", "5"),
                ("extra_cvx", "21"),
                ("extra_qty", ""),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("Give the doses to order of CVX 21 (line 2)"),
            "{}",
            r.body
        );
    })
}

#[test]
fn order_cycle_create_approve_with_change_receive() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (clinic, clinic_csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "orderer");
        let (state, state_csrf) = signed_in(&f, Role::StateAdmin, "approver");
        let r = get(&f, "/inventory/orders", &clinic).await;
        assert!(r.body.contains("New CVP vaccine order"), "{}", r.body);
        assert!(
            r.body.contains("qty_20"),
            "a suggestion line per stocked vaccine"
        );
        // Create: 100 DTaP and 30 MMR.
        let r = post(
            &f,
            "/inventory/orders",
            &clinic,
            &[
                ("csrf", &clinic_csrf),
                ("qty_20", "100"),
                ("extra_cvx", "03"),
                ("extra_qty", "30"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let pending = s.orders(Some(&f.home), Some(OrderStatus::Pending)).unwrap();
        assert_eq!(pending.len(), 1);
        let id = pending[0].id.unwrap();
        // The state's bell counts the order to decide; the clinic has no decision yet.
        let r = get(&f, "/", &state).await;
        assert!(r.body.contains("1 order(s) to decide"), "{}", r.body);
        let r = get(&f, "/", &clinic).await;
        assert!(!r.body.contains("1 order decision(s)"));
        // The clinic cannot approve its own order.
        let r = post(
            &f,
            &format!("/inventory/orders/{id}/approve"),
            &clinic,
            &[("csrf", &clinic_csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The state sees it; changing a quantity without a note is refused.
        let r = get(&f, "/inventory/orders", &state).await;
        assert!(r.body.contains(&format!("CVP order {id}")), "{}", r.body);
        let approve = format!("/inventory/orders/{id}/approve");
        let r = post(
            &f,
            &approve,
            &state,
            &[("csrf", &state_csrf), ("qty_20", "50"), ("qty_03", "30")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("needs a note"), "{}", r.body);
        assert_eq!(s.order(id).unwrap().unwrap().status, OrderStatus::Pending);
        let r = post(
            &f,
            &approve,
            &state,
            &[
                ("csrf", &state_csrf),
                ("qty_20", "50"),
                ("qty_03", "30"),
                ("note", "DTaP allocation limited this month"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let o = s.order(id).unwrap().unwrap();
        assert_eq!(o.status, OrderStatus::Approved);
        assert_eq!(o.lines[0].approved, Some(50));
        let r = get(&f, "/inventory/orders", &state).await;
        assert!(
            r.body.contains("Approved, awaiting shipment (1)"),
            "{}",
            r.body
        );
        // The clinic sees the decision and receives the shipment.
        let r = get(&f, "/inventory/orders", &clinic).await;
        assert!(r.body.contains("DTaP allocation limited this month"));
        assert!(r.body.contains("Receive the shipment"));
        let r = get(&f, "/", &clinic).await;
        assert!(r.body.contains("1 order decision(s)"), "{}", r.body);
        let r = post(
            &f,
            &format!("/inventory/orders/{id}/receive"),
            &clinic,
            &[
                ("csrf", &clinic_csrf),
                ("lot_20", "SHIP20"),
                ("exp_20", "2099-01-31"),
                ("doses_20", "50"),
                ("lot_03", "SHIP03"),
                ("exp_03", "2099-02-28"),
                ("doses_03", "30"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(s.order(id).unwrap().unwrap().status, OrderStatus::Received);
        let lots = s.lots(&f.home).unwrap();
        let held = |n: &str| {
            lots.iter()
                .find(|l| l.lot.lot_number.as_str() == n)
                .map(|l| l.on_hand)
        };
        assert_eq!(held("SHIP20"), Some(50));
        assert_eq!(held("SHIP03"), Some(30));
        // Rejecting needs a reason.
        let r = post(
            &f,
            "/inventory/orders",
            &clinic,
            &[("csrf", &clinic_csrf), ("qty_20", "10")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let second = s.orders(Some(&f.home), Some(OrderStatus::Pending)).unwrap()[0]
            .id
            .unwrap();
        let reject = format!("/inventory/orders/{second}/reject");
        let r = post(&f, &reject, &state, &[("csrf", &state_csrf)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = post(
            &f,
            &reject,
            &state,
            &[("csrf", &state_csrf), ("note", "Enough stock on hand")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            s.order(second).unwrap().unwrap().status,
            OrderStatus::Rejected
        );
        // An empty order is refused with the core's reason.
        let r = post(&f, "/inventory/orders", &clinic, &[("csrf", &clinic_csrf)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("at least one vaccine"));
    })
}

/// Names a spreadsheet would run as formulas come out of the CSV download neutralised
/// (a leading `'`), minus signs included; plain numbers stay numbers.
#[test]
fn csv_downloads_neutralise_formula_cells() {
    run(async {
        use ctwiz_core::patient::{Patient, PersonName, Sex};
        let f = fixture();
        let dob = today() - chrono::Months::new(30);
        for family in ["=cmd|' /C calc'!A0", "-2+3"] {
            let p = Patient::new(PersonName::new(family, "Kid").unwrap(), dob, Sex::Male).unwrap();
            store(&f).create_patient(&p).unwrap();
        }
        let (cookie, _) = signed_in(&f, Role::StateAdmin, "statecsv");
        let r = get(&f, "/reports/cleanup?format=csv", &cookie).await;
        assert!(r.content_type.starts_with("text/csv"));
        let (head, rows) = csv_rows(&r.body);
        let name = head.iter().position(|h| h == "name").unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r[name].as_str()).collect();
        assert!(names.contains(&"'=CMD|' /C CALC'!A0, Kid"), "{names:?}");
        assert!(names.contains(&"'-2+3, Kid"), "{names:?}");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} in {row:?}"
                );
            }
            assert!(row[0].parse::<i64>().is_ok(), "ids stay numbers: {row:?}");
        }
    })
}

/// The state allocates a scarce vaccine on the allocations page; the clinic's order
/// beyond what remains is refused with the same sentence as the CLI's, and a clinic may
/// not set allocations.
#[test]
fn allocations_cap_orders_through_the_web() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (clinic, clinic_csrf) = signed_in(&f, Role::PrimaryVaccineCoordinator, "alloc_c");
        let (state, state_csrf) = signed_in(&f, Role::DphVaccineManagement, "alloc_s");
        let today = chrono::Local::now().date_naive();
        let (from, to) = (
            (today - chrono::Days::new(1)).to_string(),
            (today + chrono::Days::new(30)).to_string(),
        );
        let home = f.home.to_string();
        let fields = |csrf: &str| {
            vec![
                ("csrf".to_string(), csrf.to_string()),
                ("pin".into(), home.clone()),
                ("cvx".into(), "213".into()),
                ("doses".into(), "30".into()),
                ("from".into(), from.clone()),
                ("to".into(), to.clone()),
            ]
        };
        let as_refs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
        let post_fields = |cookie: &str, v: Vec<(String, String)>| {
            let f = &f;
            let cookie = cookie.to_string();
            async move {
                let refs: Vec<(&str, &str)> =
                    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                post(f, "/inventory/allocations", &cookie, &refs).await
            }
        };
        let r = post_fields(&clinic, as_refs(&fields(&clinic_csrf))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post_fields(&state, as_refs(&fields(&state_csrf))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = get(&f, "/inventory/allocations", &clinic).await;
        assert!(
            page.body.contains(&to),
            "the clinic sees its allocation: {}",
            page.body
        );

        let order = |q: &'static str| {
            let (f, clinic, csrf) = (&f, clinic.clone(), clinic_csrf.clone());
            async move {
                post(
                    f,
                    "/inventory/orders",
                    &clinic,
                    &[("csrf", &csrf), ("extra_cvx", "213"), ("extra_qty", q)],
                )
                .await
            }
        };
        assert_eq!(order("20").await.status, StatusCode::SEE_OTHER);
        let r = order("20").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("20 already ordered, 10 remain, and this order asks 20"),
            "{}",
            r.body
        );
        assert_eq!(s.orders(Some(&f.home), None).unwrap().len(), 1);
    })
}

/// Real-time reporting: the state sees every practice, a clinic only its own; the
/// fixture's doses were recorded years after they were given, so nobody is real time.
#[test]
fn realtime_reporting_by_scope() {
    run(async {
        use ctwiz_core::dose::{Dose, InformationSource};
        use ctwiz_store::DoseStore;
        let f = fixture();
        // Doses administered in March 2024 at each clinic, recorded now.
        let s = store(&f);
        for (patient, pin) in [(f.in_county, &f.home), (f.out_county, &f.other)] {
            let mut d = Dose::new(
                ctwiz_core::ids::Cvx::new("20").unwrap(),
                chrono::NaiveDate::from_ymd_opt(2024, 3, 28).unwrap(),
                InformationSource::NewRecord,
            );
            d.clinic = Some(pin.clone());
            s.add_dose(patient, &d).unwrap();
        }
        let (state, _) = signed_in(&f, Role::StateAdmin, "rt_state");
        let (clinic, _) = signed_in(&f, Role::PrimaryVaccineCoordinator, "rt_clinic");
        let period = "/reports/realtime?from=2024-03-01&to=2024-03-31";
        let r = get(&f, period, &state).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body
                .contains("0 of 2</strong> practice(s) report in real time"),
            "{}",
            r.body
        );
        assert!(r.body.contains(f.home.as_str()) && r.body.contains(f.other.as_str()));
        let r = get(&f, period, &clinic).await;
        assert!(r.body.contains("0 of 1</strong>"), "{}", r.body);
        assert!(
            !r.body.contains(&format!("<td>{}</td>", f.other)),
            "{}",
            r.body
        );
        let r = get(
            &f,
            "/reports/realtime?from=2024-03-31&to=2024-03-01",
            &state,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    })
}

/// The coverage trend: 24 monthly points ending today, the last equal to today's coverage
/// report, charted (one line per measure) and downloadable; a health department sees its
/// own county's trend.
#[test]
fn coverage_trend_by_month_over_two_years() {
    run(async {
        let f = seeded();
        let (cookie, _) = signed_in(&f, Role::StateAdmin, "trendstate");
        let r = get(&f, "/reports/trend?run=1", &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body.matches("<polyline").count(),
            9,
            "one line per measure"
        );
        let csv = get(&f, "/reports/trend?run=1&format=csv&table=trend", &cookie).await;
        let (head, rows) = csv_rows(&csv.body);
        assert_eq!(head[..2], ["as_of".to_string(), "cohort".to_string()]);
        assert_eq!(rows.len(), 24);
        assert_eq!(rows[23][0], today().to_string());
        assert_eq!(rows[23][1], cohort_size(&f, None, None).to_string());
        assert!(rows.iter().all(|r| r[1].parse::<u64>().unwrap() > 0));

        let (hd, _) = signed_in(&f, Role::HealthDepartmentReadOnly, "trendhd");
        let r = get(&f, "/reports/trend?run=1&format=csv&table=trend", &hd).await;
        let (_, rows) = csv_rows(&r.body);
        assert_eq!(
            rows[23][1],
            cohort_size(&f, None, Some(vec![County::Hartford])).to_string()
        );
    })
}
