//! The web's remaining screens go through the use cases: a refused page leaves the same
//! `Denied` audit row as every other door, and each change is written (and audited) by the
//! use case, with the core's rules and messages.

mod common;

use common::*;
use ctwiz_core::access::Role;
use ctwiz_store::test_support::run;
use ctwiz_store::web::{RequestStatus, WebStore};
use ctwiz_store::{AuditAction, AuditFilter, AuditStore, DoseStore, PatientStore, UserStore};

fn rows(f: &Fixture, action: AuditAction, actor: &str) -> Vec<ctwiz_store::AuditEntry> {
    store(f)
        .audit_query(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action && r.actor.starts_with(actor))
        .collect()
}

#[test]
fn refused_pages_are_audited_like_every_other_door() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::SchoolNurseReadOnly, "nurse1", true);
        let (cookie, _) = session(&f, nurse);
        let (clerk, _) = user(&f, Role::ClinicAccess, "clerk1", true);
        let (clerk_cookie, _) = session(&f, clerk);
        // A page gate (DQA report), an inventory screen of another clinic, the reports index
        // for a role with no report, and the duplicates queue.
        for (cookie, path) in [
            (&cookie, "/reports/dqa"),
            (&cookie, "/patients/duplicates"),
            (&clerk_cookie, "/inventory?pin=CT00002"),
            (&clerk_cookie, "/admin"),
        ] {
            let r = get(&f, path, cookie).await;
            assert_eq!(r.status, 403, "{path}");
            assert!(!r.body.contains("Testchild"), "{path}");
        }
        let nurse_rows = rows(&f, AuditAction::Denied, "web:nurse1");
        assert_eq!(nurse_rows.len(), 2, "{nurse_rows:?}");
        assert!(nurse_rows[0].detail.contains("DQA") || nurse_rows[1].detail.contains("DQA"));
        assert!(nurse_rows
            .iter()
            .all(|r| r.clinic.as_ref() == Some(&f.home)));
        let clerk_rows = rows(&f, AuditAction::Denied, "web:clerk1");
        assert_eq!(clerk_rows.len(), 2, "{clerk_rows:?}");
        assert!(
            clerk_rows.iter().any(|r| r.detail.contains("CT00002")),
            "{clerk_rows:?}"
        );
    })
}

#[test]
fn a_confidentiality_change_needs_a_reason_and_the_audit_row_says_why() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord1", true);
        let (cookie, csrf) = session(&f, coord);
        let id = f.in_county.0;
        let base = [
            ("csrf", csrf.as_str()),
            ("family", "Testchild"),
            ("given", "Ada"),
            ("dob", "2024-01-15"),
            ("sex", "F"),
            ("status", "A"),
            ("street", "1 Main St"),
            ("city", "Town"),
            ("state", "CT"),
            ("zip", "06101"),
            ("county", "Hartford"),
            ("confidential", "on"),
        ];
        let r = post(&f, &format!("/patients/{id}/edit"), &cookie, &base).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body
                .contains("give a reason for changing the confidentiality"),
            "{}",
            r.body
        );
        assert!(
            !store(&f)
                .patient(f.in_county)
                .unwrap()
                .unwrap()
                .confidential
        );

        let mut with_reason = base.to_vec();
        with_reason.push(("confidential_reason", "guardian request"));
        let r = post(&f, &format!("/patients/{id}/edit"), &cookie, &with_reason).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(
            store(&f)
                .patient(f.in_county)
                .unwrap()
                .unwrap()
                .confidential
        );
        let updates = rows(&f, AuditAction::Update, "web:coord1");
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].patient, Some(f.in_county));
        assert!(
            updates[0].detail.contains("because guardian request"),
            "{}",
            updates[0].detail
        );
    })
}

#[test]
fn a_new_patient_is_written_and_audited_by_the_use_case() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord2", true);
        let (cookie, csrf) = session(&f, coord);
        let fields = [
            ("csrf", csrf.as_str()),
            ("family", "Newborn"),
            ("given", "Eve"),
            ("dob", "2099-01-01"),
            ("sex", "F"),
            ("status", "A"),
        ];
        // A birth date in the future: the core's rule and words, the form kept.
        let r = post(&f, "/patients/new", &cookie, &fields).await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("is in the future"), "{}", r.body);
        assert!(r.body.contains("Newborn"), "the form keeps what was typed");
        let mut ok = fields.to_vec();
        ok[3] = ("dob", "2025-06-01");
        let r = post(&f, "/patients/new", &cookie, &ok).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let created = rows(&f, AuditAction::Create, "web:coord2");
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].detail, "patient added");
        let id = created[0].patient.expect("names the new record");
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/patients/{id}").as_str())
        );
    })
}

#[test]
fn school_nurse_adds_by_exact_match_and_sees_only_rostered_students() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let (nurse, _) = user(&f, Role::SchoolNurseReadOnly, "nurse2", true);
        let (cookie, csrf) = session(&f, nurse);
        let child = s.patient(f.in_county).unwrap().unwrap();
        let id = f.in_county.0.to_string();
        let dob = child.dob.to_string();
        // No statewide browsing: no search, and no record before the student is rostered.
        let r = get(&f, "/patients?family=Testchild", &cookie).await;
        assert_eq!(r.status, 403);
        let r = get(&f, &format!("/patients/{id}"), &cookie).await;
        assert_eq!(r.status, 403);
        assert!(!r.body.to_lowercase().contains("testchild"));
        // A near miss (one letter, another birth date) adds nobody and says the same thing.
        let add = |given: String, family: String, dob: String| {
            let (f, cookie, csrf) = (&f, cookie.clone(), csrf.clone());
            async move {
                post(
                    f,
                    "/rosters/add",
                    &cookie,
                    &[
                        ("csrf", &csrf),
                        ("given", &given),
                        ("family", &family),
                        ("dob", &dob),
                    ],
                )
                .await
            }
        };
        let typo = add(
            child.name.given.clone(),
            format!("{}x", child.name.family),
            dob.clone(),
        )
        .await;
        let other_day = add(
            child.name.given.clone(),
            child.name.family.clone(),
            "2001-01-01".into(),
        )
        .await;
        assert_eq!(typo.status, 400);
        assert!(
            typo.body.contains("No single record has exactly this"),
            "{}",
            typo.body
        );
        assert_eq!(other_day.status, 400);
        assert!(other_day.body.contains("No single record has exactly this"));
        let bad = add("A".into(), "B".into(), "not a date".into()).await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("is not a date of birth"));
        // The exact names (any case, stray spaces) and birth date add the student.
        let r = add(
            format!(" {} ", child.name.given.to_lowercase()),
            child.name.family.to_uppercase(),
            dob.clone(),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = get(&f, "/rosters", &cookie).await;
        assert!(r.body.contains(&format!("/patients/{id}\"")), "{}", r.body);
        assert_eq!(
            get(&f, &format!("/patients/{id}"), &cookie).await.status,
            200
        );
        // The nurse's report lists the student with what is past due, as the engine says.
        let report = get(&f, "/reports/students", &cookie).await;
        assert_eq!(report.status, 200, "{}", report.body);
        let (engine, codes) = (
            ctwiz_forecast::Engine::bundled().unwrap(),
            ctwiz_core::codes::CodeSets::embedded(),
        );
        let (missing, _) = ctwiz_core::assessment::recall::not_up_to_date(
            &ctwiz_core::assessment::coverage::Context {
                engine: &engine,
                codes: &codes,
            },
            &child,
            &s.doses(f.in_county).unwrap(),
            &s.observations(f.in_county).unwrap(),
            chrono::Utc::now().date_naive(),
        );
        assert!(!missing.is_empty(), "the fixture child is behind");
        for g in &missing {
            let line = format!("{} dose {}", g.vaccine_group, g.dose_number);
            assert!(report.body.contains(&line), "{line} in {}", report.body);
        }
        // Another school's nurse still cannot open the record.
        let (other_nurse, _) = user(&f, Role::SchoolNurseReadOnly, "nurse3", true);
        let mut grants = s.account_by_id(other_nurse).unwrap().unwrap().user.grants;
        grants[0].scope = ctwiz_core::access::Scope::Clinic(f.other.clone());
        s.set_grants(other_nurse, &grants).unwrap();
        let (cookie3, _) = session(&f, other_nurse);
        assert_eq!(
            get(&f, &format!("/patients/{id}"), &cookie3).await.status,
            403
        );

        let r = post(
            &f,
            &format!("/rosters/{id}/remove"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            get(&f, &format!("/patients/{id}"), &cookie).await.status,
            403
        );
        // Removing a student who is not on the roster is a clear 404, not a silent no-op.
        let r = post(
            &f,
            &format!("/rosters/{id}/remove"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, 404);
        let added = rows(&f, AuditAction::Create, "web:nurse2");
        let removed = rows(&f, AuditAction::Delete, "web:nurse2");
        assert_eq!((added.len(), removed.len()), (1, 1));
        assert_eq!(added[0].patient, Some(f.in_county));
        assert_eq!(removed[0].patient, Some(f.in_county));
        assert!(
            rows(&f, AuditAction::Denied, "web:nurse2").len() >= 2,
            "near misses audited"
        );

        // A clinic user has no roster: refused and audited.
        let (clerk, _) = user(&f, Role::ClinicAccess, "clerk2", true);
        let (cookie, csrf) = session(&f, clerk);
        let r = post(
            &f,
            "/rosters/add",
            &cookie,
            &[
                ("csrf", &csrf),
                ("given", &child.name.given),
                ("family", &child.name.family),
                ("dob", &dob),
            ],
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(rows(&f, AuditAction::Denied, "web:clerk2").len(), 1);
    })
}

#[test]
fn a_health_department_may_run_recall_but_not_record_notices() {
    run(async {
        let f = fixture();
        let (hd, _) = user(&f, Role::HealthDepartmentReadOnly, "hd1", true);
        let (cookie, csrf) = session(&f, hd);
        let r = post(
            &f,
            "/reports/recall",
            &cookie,
            &[("csrf", &csrf), ("method", "letter"), ("run", "1")],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let denied = rows(&f, AuditAction::Denied, "web:hd1");
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert!(denied[0].detail.contains("record"), "{}", denied[0].detail);
    })
}

#[test]
fn account_requests_are_decided_once_by_the_use_case() {
    run(async {
        let f = fixture();
        let r = request_account_from(&f, std::net::SocketAddr::from(([10, 1, 0, 1], 4000))).await;
        assert!(
            r.status.is_success() || r.status.is_redirection(),
            "{}",
            r.body
        );
        let request = store(&f).account_requests(None).unwrap()[0].id;
        let (admin, _) = user(&f, Role::StateAdmin, "dph1", true);
        let (cookie, csrf) = session(&f, admin);
        let reject = |note: &'static str| {
            let (cookie, csrf) = (cookie.clone(), csrf.clone());
            let f = &f;
            async move {
                post(
                    f,
                    &format!("/admin/requests/{request}/reject"),
                    &cookie,
                    &[("csrf", &csrf), ("note", note)],
                )
                .await
            }
        };
        let no_reason = reject("  ").await;
        assert_eq!(no_reason.status, 400);
        assert!(
            no_reason.body.contains("give the reason for the denial"),
            "{}",
            no_reason.body
        );
        assert_eq!(reject("not staff of this clinic").await.status, 303);
        // Two e-mails to the requester: access denied, and the reason.
        let requester = store(&f)
            .account_request(request)
            .unwrap()
            .unwrap()
            .request
            .email;
        let mail: Vec<_> = store(&f)
            .outbox(10)
            .unwrap()
            .into_iter()
            .filter(|m| m.to == requester.as_str())
            .collect();
        assert_eq!(mail.len(), 2, "{mail:?}");
        assert!(mail.iter().any(|m| m.subject == "CT WiZ access denied"));
        assert!(mail
            .iter()
            .any(|m| m.subject == "CT WiZ access denied: the reason"
                && m.body.contains("not staff of this clinic")));
        let again = reject("twice").await;
        assert_eq!(again.status, 400);
        assert!(again.body.contains("already decided"), "{}", again.body);
        let decided = store(&f).account_request(request).unwrap().unwrap();
        assert_eq!(decided.status, RequestStatus::Rejected);
        assert_eq!(decided.note.as_deref(), Some("not staff of this clinic"));
        let audited = rows(&f, AuditAction::GrantChange, "web:dph1");
        assert_eq!(audited.len(), 1);
        assert!(audited[0].detail.contains("rejected"));

        // Someone without AccountApprove: refused, audited, nothing decided.
        let r2 = request_account_from(&f, std::net::SocketAddr::from(([10, 1, 0, 2], 4000))).await;
        assert!(r2.status.is_success() || r2.status.is_redirection());
        let pending = store(&f)
            .account_requests(Some(RequestStatus::Pending))
            .unwrap()[0]
            .id;
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord3", true);
        let (cookie, csrf) = session(&f, coord);
        let r = approve_request(&f, (&cookie, &csrf), pending, "someone").await;
        assert_eq!(r.status, 403);
        assert_eq!(rows(&f, AuditAction::Denied, "web:coord3").len(), 1);
        assert_eq!(
            store(&f).account_request(pending).unwrap().unwrap().status,
            RequestStatus::Pending
        );
    })
}

/// One row of the request form may name several clinics separated by commas; each must be
/// a clinic whose staff list names the requester, and none may repeat.
#[test]
fn an_account_request_names_several_clinics_in_one_field() {
    run(async {
        let f = fixture();
        let (pre, token) = pre_token(&f, "/request-account").await;
        let send = |pins: String| {
            let (f, pre, token) = (&f, pre.clone(), token.clone());
            async move {
                post(
                    f,
                    "/request-account",
                    &pre,
                    &[
                        ("csrf", &token),
                        ("full_name", "Pat Nurse"),
                        ("email", "pat@example.org"),
                        ("pin0", &pins),
                        ("role0", "clinic-access"),
                    ],
                )
                .await
            }
        };
        let twice = send(format!("{0}, {0}", f.home)).await;
        assert_eq!(twice.status, 400);
        assert!(twice.body.contains("is listed twice"), "{}", twice.body);
        // Shoreline's staff list does not name Pat: the whole request is refused.
        let other = send(format!("{}, {}", f.home, f.other)).await;
        assert_eq!(other.status, 400, "{}", other.body);
        assert!(store(&f).account_requests(None).unwrap().is_empty());
        let ok = send(format!(" {} ,", f.home)).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let stored = store(&f).account_requests(None).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].request.clinics.len(), 1);
        assert_eq!(stored[0].request.clinics[0].pin, f.home);
    })
}
