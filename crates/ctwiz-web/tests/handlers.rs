//! Handler tests against the real router and a real SQLite database in a temp dir.

mod common;

use axum::http::{header, StatusCode};
use common::{
    fixture, get, post, pre_token, session, session_cookie, sign_in, store, user, Fixture,
};
use ctwiz_core::access::{Action, Role};
use ctwiz_store::test_support::run;
use ctwiz_store::web::WebStore;
use ctwiz_store::{accounts, AuditStore, DoseStore, InventoryStore, UserStore};

/// Every GET route with the action that guards it. The expected outcome comes from the
/// core permission matrix (`Role::allows`), so the web layer is checked against it.
fn routes(f: &Fixture) -> Vec<(String, Option<Action>)> {
    let p = f.in_county;
    vec![
        ("/".into(), None),
        ("/patients".into(), Some(Action::PatientSearch)),
        (
            "/patients?family=Testchild".into(),
            Some(Action::PatientSearch),
        ),
        ("/patients/new".into(), Some(Action::PatientEdit)),
        (format!("/patients/{p}"), Some(Action::PatientView)),
        (format!("/patients/{p}/edit"), Some(Action::PatientEdit)),
        (format!("/patients/{p}/doses/new"), Some(Action::DoseRecord)),
        (
            format!("/patients/{p}/record"),
            Some(Action::CertificatePrint),
        ),
        (
            format!("/patients/{p}/record.pdf?kind=camp"),
            Some(Action::CertificatePrint),
        ),
        (
            format!("/patients/{p}/record.smart-health-card"),
            Some(Action::CertificatePrint),
        ),
        ("/.well-known/jwks.json".into(), None),
        (
            format!("/patients/{p}/disclosures"),
            Some(Action::AuditView),
        ),
        ("/inventory".into(), Some(Action::InventoryView)),
        ("/clinic-tools".into(), Some(Action::ClinicToolsView)),
        (
            "/admin/change-requests".into(),
            Some(Action::ChangeRequestReview),
        ),
        ("/notifications".into(), None),
        ("/help".into(), None),
        ("/help/orders".into(), None),
        (
            "/inventory/orders?lines=9".into(),
            Some(Action::InventoryView),
        ),
        ("/reports/dqa".into(), Some(Action::ReportDqa)),
        ("/reports/students".into(), Some(Action::ReportRosterStatus)),
        ("/reports/distributed".into(), Some(Action::ReportCoverage)),
        ("/reports/realtime".into(), Some(Action::ReportCoverage)),
        ("/tasks".into(), Some(Action::TaskView)),
        ("/rosters".into(), Some(Action::RosterView)),
        ("/admin/users".into(), Some(Action::UserManage)),
        ("/admin/requests".into(), Some(Action::AccountApprove)),
        ("/admin/outbox".into(), Some(Action::UserManage)),
        ("/admin/agreements".into(), Some(Action::ClinicManage)),
        ("/admin/clinics".into(), Some(Action::ClinicManage)),
        ("/patients/duplicates".into(), Some(Action::PatientMerge)),
        (
            format!("/patients/duplicates/{}", f.review),
            Some(Action::PatientMerge),
        ),
    ]
}

#[test]
fn every_role_against_every_route() {
    run(async {
        let f = fixture();
        let mut checked = 0;
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let (id, _) = user(&f, role, &format!("user{i}"), true);
            let (cookie, csrf) = session(&f, id);
            if role.sees_only_rostered() {
                // A school nurse sees the child once the child is on her school's roster
                // (`school_nurse_adds_by_exact_match_and_sees_only_rostered_students`).
                store(&f)
                    .add_to_roster(&f.home, f.in_county, "test", chrono::Utc::now().naive_utc())
                    .unwrap();
            }
            for (path, action) in routes(&f) {
                let r = get(&f, &path, &cookie).await;
                let allowed = action.is_none_or(|a| role.allows(a));
                let want = if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(r.status, want, "{role:?} GET {path}: {}", r.body);
                if !allowed {
                    assert!(
                        !r.body.to_lowercase().contains("testchild"),
                        "{role:?} {path} leaked patient data"
                    );
                } else if path.ends_with(".smart-health-card") {
                    assert!(
                        r.body.contains("verifiableCredential"),
                        "{role:?} {path} should be a SMART Health Card file"
                    );
                } else if path.contains(".pdf") {
                    assert!(
                        r.body.starts_with("%PDF"),
                        "{role:?} {path} should be a PDF"
                    );
                } else if path.contains("family=")
                    || (path.starts_with(&format!("/patients/{}", f.in_county))
                        && !path.ends_with("/disclosures"))
                {
                    assert!(
                        r.body.to_lowercase().contains("testchild"),
                        "{role:?} {path} should show the patient"
                    );
                }
                checked += 1;
            }
            // A write: record a historical dose (on a day of its own: the same dose twice is
            // refused).
            let path = format!("/patients/{}/doses", f.in_county);
            let date = format!("2024-02-{:02}", i + 1);
            let r = post(
                &f,
                &path,
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("kind", "historical"),
                    ("cvx", "08"),
                    ("date", &date),
                    ("source", "01"),
                ],
            )
            .await;
            let want = if role.allows(Action::DoseRecord) {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role:?} POST {path}: {}", r.body);
            assert!(
                r.status != StatusCode::FORBIDDEN || !r.body.to_lowercase().contains("testchild")
            );
            checked += 1;
            // The merge and "not a duplicate" decisions follow the matrix too. A refused merge
            // is refused before the pair is even looked up; the state user (last in
            // Role::ALL) dismisses the pair, so the queue stays intact for everyone before.
            let merge = format!("/patients/duplicates/{}/merge", f.review);
            let r = post(
                &f,
                &merge,
                &cookie,
                &[("csrf", &csrf), ("survivor", "999999")],
            )
            .await;
            let want = if role.allows(Action::PatientMerge) {
                StatusCode::BAD_REQUEST // 999999 is not one of the pair
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role:?} POST {merge}: {}", r.body);
            let dismiss = format!("/patients/duplicates/{}/dismiss", f.review);
            let r = post(&f, &dismiss, &cookie, &[("csrf", &csrf)]).await;
            let want = if role.allows(Action::PatientMerge) {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "{role:?} POST {dismiss}: {}", r.body);
            checked += 2;
        }
        assert_eq!(checked, Role::ALL.len() * (routes(&f).len() + 3));
    })
}

/// Every write route (POST) with the action that guards it.
fn write_routes(f: &Fixture, order: i64) -> Vec<(String, Action)> {
    let p = f.in_county;
    vec![
        ("/patients/new".into(), Action::PatientEdit),
        (format!("/patients/{p}/edit"), Action::PatientEdit),
        (format!("/patients/{p}/doses"), Action::DoseRecord),
        (format!("/patients/{p}/doses/1/edit"), Action::DoseRecord),
        (format!("/patients/{p}/doses/1/delete"), Action::DoseRecord),
        (format!("/patients/{p}/observations"), Action::DoseRecord),
        (format!("/patients/{p}/releases"), Action::CertificatePrint),
        ("/inventory/receive".into(), Action::InventoryEdit),
        ("/inventory/waste".into(), Action::InventoryEdit),
        ("/inventory/transfer".into(), Action::InventoryEdit),
        ("/inventory/reconcile".into(), Action::InventoryEdit),
        ("/inventory/orders".into(), Action::OrderCreate),
        (
            format!("/inventory/orders/{order}/approve"),
            Action::OrderApprove,
        ),
        (
            format!("/inventory/orders/{order}/reject"),
            Action::OrderApprove,
        ),
        (
            format!("/inventory/orders/{order}/receive"),
            Action::InventoryEdit,
        ),
        ("/reports/recall".into(), Action::RecallNoticeRecord),
        ("/rosters/add".into(), Action::RosterEdit),
        (format!("/rosters/{p}/remove"), Action::RosterEdit),
        ("/admin/requests/1/approve".into(), Action::AccountApprove),
        ("/admin/requests/1/reject".into(), Action::AccountApprove),
        ("/admin/users/1/unlock".into(), Action::UserManage),
        ("/admin/users/1/grants".into(), Action::UserManage),
        ("/admin/users/1/status".into(), Action::UserManage),
        ("/admin/users/1/identity".into(), Action::UserManage),
        ("/clinic-tools/contact".into(), Action::ClinicToolsEdit),
        ("/clinic-tools/changes".into(), Action::ClinicToolsEdit),
        (
            "/clinic-tools/agreement".into(),
            Action::ClinicAgreementSign,
        ),
        (
            "/admin/change-requests/1/approve".into(),
            Action::ChangeRequestReview,
        ),
        (
            "/admin/change-requests/1/reject".into(),
            Action::ChangeRequestReview,
        ),
    ]
}

/// Every role against every write route, with a valid CSRF token and plausible fields:
/// a role the matrix does not allow the action gets 403 and nothing changes. In
/// particular the read-only roles (health department, school nurse outside her roster,
/// patient look-up) write nothing.
#[test]
fn every_role_against_every_write_route() {
    run(async {
        use ctwiz_core::ids::Cvx;
        use ctwiz_core::ordering::VaccineOrder;
        use ctwiz_store::{OrgStore, RecallStore};
        let f = fixture();
        let s = store(&f);
        let clinic = s.clinic(&f.home).unwrap().unwrap();
        let order = s
            .create_order(
                &VaccineOrder::new(
                    &clinic,
                    ctwiz_core::program::Program::Cvp,
                    "test",
                    chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                    vec![(Cvx::new("20").unwrap(), 10)],
                )
                .unwrap(),
            )
            .unwrap();
        let lot = f.lot.to_string();
        let patient = f.in_county.to_string();
        let home = f.home.to_string();
        let other = f.other.to_string();
        let mut checked = 0;
        let mut wrong = Vec::new();
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let (id, _) = user(&f, role, &format!("writer{i}"), true);
            let (cookie, csrf) = session(&f, id);
            let fields: Vec<(&str, &str)> = vec![
                ("csrf", &csrf),
                ("pin", &home),
                ("family", "Newchild"),
                ("given", "Eve"),
                ("dob", "2024-05-01"),
                ("sex", "F"),
                ("kind", "immunity"),
                ("code", "023"),
                ("cvx", "20"),
                ("date", "2024-06-01"),
                ("source", "01"),
                ("lot", "NEW1"),
                ("lot_id", &lot),
                ("expiration", "2099-12-31"),
                ("doses", "1"),
                ("funding", "public"),
                ("reason", "test"),
                ("to", &other),
                ("method", "letter"),
                ("patient_id", &patient),
                ("index", "0"),
                ("role", "state"),
                ("note", "test"),
                ("username", "newuser"),
                ("signed_by", "Maria Lopez"),
                ("relationship", "mother"),
                ("released_to", "Hartford Public Schools"),
                ("information", "school certificate"),
                ("signed_on", "2024-06-01"),
            ];
            for (path, action) in write_routes(&f, order) {
                let r = post(&f, &path, &cookie, &fields).await;
                if !role.allows(action) {
                    if r.status != StatusCode::FORBIDDEN {
                        wrong.push(format!(
                            "{role:?} POST {path} ({action:?}): {} {}",
                            r.status,
                            r.body.chars().take(160).collect::<String>()
                        ));
                    }
                    checked += 1;
                }
            }
            if !role.allows(Action::RecallNoticeRecord) {
                assert_eq!(s.last_recall_notice(f.in_county).unwrap(), None, "{role:?}");
            }
        }
        assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
        assert!(checked > 3 * 15, "{checked}");
    })
}

#[test]
fn navigation_shows_only_allowed_modules() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccessDqaInterface, "dqa1", true);
        let (cookie, _) = session(&f, id);
        let home = get(&f, "/", &cookie).await.body;
        assert!(home.contains("href=\"/reports\"") && home.contains("href=\"/tasks\""));
        for hidden in [
            "href=\"/patients\"",
            "href=\"/inventory\"",
            "href=\"/clinic-tools\"",
            "href=\"/admin\"",
        ] {
            assert!(!home.contains(hidden), "DQA interface user sees {hidden}");
        }
        let (id, _) = user(&f, Role::PhysicianSigning, "doc1", true);
        let (cookie, _) = session(&f, id);
        let home = get(&f, "/", &cookie).await.body;
        assert!(home.contains("href=\"/clinic-tools\""));
        assert!(!home.contains("href=\"/patients\"") && !home.contains("href=\"/reports\""));
    })
}

#[test]
fn health_department_sees_only_its_county_and_clinics_not_others_confidential_records() {
    run(async {
        let f = fixture();
        let (hd, _) = user(&f, Role::HealthDepartmentReadOnly, "hd1", true);
        let (cookie, _) = session(&f, hd);
        assert_eq!(
            get(&f, &format!("/patients/{}", f.in_county), &cookie)
                .await
                .status,
            StatusCode::OK
        );
        let r = get(&f, &format!("/patients/{}", f.out_county), &cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!r.body.contains("OUTCOUNTY"));
        let r = get(&f, "/patients?family=Outcounty", &cookie).await;
        assert!(
            !r.body.contains("OUTCOUNTY"),
            "search must be limited to the county"
        );
        let r = get(&f, &format!("/patients/{}/edit", f.in_county), &cookie).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "health department is read-only"
        );

        let (nurse, _) = user(&f, Role::ClinicAccess, "nurse1", true);
        let (cookie, _) = session(&f, nurse);
        let r = get(&f, &format!("/patients/{}", f.confidential), &cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!r.body.contains("SECRETCASE"));
        assert!(!get(&f, "/patients?family=Secretcase", &cookie)
            .await
            .body
            .contains("SECRETCASE"));
        let (st, _) = user(&f, Role::StateAdmin, "state1", true);
        let (cookie, _) = session(&f, st);
        assert_eq!(
            get(&f, &format!("/patients/{}", f.confidential), &cookie)
                .await
                .status,
            StatusCode::OK
        );
    })
}

#[test]
fn security_headers_csrf_and_anonymous_redirect() {
    run(async {
        let f = fixture();
        let r = get(&f, "/patients", "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/sign-in"));
        let r = get(&f, "/sign-in", "").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(r
            .set_cookie
            .iter()
            .any(|c| c.contains("HttpOnly") && c.contains("SameSite=Strict")));

        let (id, _) = user(&f, Role::ClinicAccess, "nurse2", true);
        let (cookie, _) = session(&f, id);
        let path = format!("/patients/{}/doses", f.in_county);
        let r = post(
            &f,
            &path,
            &cookie,
            &[
                ("csrf", "forged"),
                ("kind", "historical"),
                ("cvx", "08"),
                ("date", "2024-02-01"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            store(&f).doses(f.in_county).unwrap().len(),
            2,
            "nothing stored"
        );
    })
}

#[test]
fn first_sign_in_forces_password_change_and_questions() {
    run(async {
        let f = fixture();
        let (_, temp) = user(&f, Role::ClinicAccess, "newbie", false);
        let r = sign_in(&f, "newbie", &temp).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/account/password"));
        let cookie = session_cookie(&r);
        let r = get(&f, "/patients", &cookie).await;
        assert_eq!(
            r.location.as_deref(),
            Some("/account/password"),
            "other pages wait for the password change"
        );
        let page = get(&f, "/account/password", &cookie).await.body;
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let weak = post(
            &f,
            "/account/password",
            &cookie,
            &[
                ("csrf", &csrf),
                ("current", &temp),
                ("new", "short1"),
                ("confirm", "short1"),
                ("q1", "0"),
                ("a1", "rex"),
                ("q2", "1"),
                ("a2", "hartford"),
            ],
        )
        .await;
        assert_eq!(weak.status, StatusCode::BAD_REQUEST);
        assert!(weak.body.contains("at least 12 characters"));
        let ok = post(
            &f,
            "/account/password",
            &cookie,
            &[
                ("csrf", &csrf),
                ("current", &temp),
                ("new", "a much better one 7"),
                ("confirm", "a much better one 7"),
                ("q1", "0"),
                ("a1", "Rex"),
                ("q2", "1"),
                ("a2", "Hartford"),
            ],
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(get(&f, "/patients", &cookie).await.status, StatusCode::OK);
        let r = sign_in(&f, "newbie", "a much better one 7").await;
        assert_eq!(r.location.as_deref(), Some("/"));
    })
}

#[test]
fn lockout_after_five_failures_with_one_message() {
    run(async {
        let f = fixture();
        user(&f, Role::ClinicAccess, "locky", true);
        for _ in 0..accounts::MAX_FAILED_SIGN_INS {
            let r = sign_in(&f, "locky", "wrong password 1").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains(accounts::SIGN_IN_FAILED));
        }
        let r = sign_in(&f, "locky", common::PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "locked even with the right password"
        );
        assert!(r.body.contains(accounts::SIGN_IN_FAILED));
        let unknown = sign_in(&f, "nobody-here", "whatever").await;
        assert!(unknown.body.contains(accounts::SIGN_IN_FAILED));

        // A state user unlocks the account.
        let (st, _) = user(&f, Role::StateAdmin, "state2", true);
        let (cookie, csrf) = session(&f, st);
        let locky = store(&f)
            .account(&ctwiz_core::ids::Username::new("locky").unwrap())
            .unwrap()
            .unwrap();
        let r = post(
            &f,
            &format!("/admin/users/{}/unlock", locky.user.id.unwrap()),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in(&f, "locky", common::PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
    })
}

#[test]
fn administering_from_a_lot_decrements_stock_and_is_audited() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord1", true);
        let (cookie, csrf) = session(&f, id);
        let path = format!("/patients/{}/doses", f.in_county);
        let lot = f.lot.to_string();
        let today = chrono::Utc::now().date_naive().to_string();
        let r = post(
            &f,
            &path,
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "administered"),
                ("lot_id", &lot),
                ("date", &today),
                ("route", "C28161"),
                ("vis_given", "on"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let s = store(&f);
        assert_eq!(s.lot(f.lot).unwrap().unwrap().on_hand, 9);
        let doses = s.doses(f.in_county).unwrap();
        assert_eq!(doses.len(), 3);
        assert!(doses
            .iter()
            .any(|d| d.lot.as_ref().is_some_and(|l| l.as_str() == "DT123A")));
        let audit = s.audit_for_patient(f.in_county, 50).unwrap();
        assert!(
            audit.iter().any(|a| a.detail.contains("administered dose")),
            "{audit:?}"
        );

        // Bad input: a date in the future is refused with a message and nothing changes.
        let r = post(
            &f,
            &path,
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "administered"),
                ("lot_id", &lot),
                ("date", "2999-01-01"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("in the future"), "{}", r.body);
        assert_eq!(s.lot(f.lot).unwrap().unwrap().on_hand, 9);
        assert_eq!(s.doses(f.in_county).unwrap().len(), 3);

        // Viewing the patient page writes a read to the audit log and shows the Recommender.
        let before = s.audit_for_patient(f.in_county, 100).unwrap().len();
        let page = get(&f, &format!("/patients/{}", f.in_county), &cookie).await;
        assert!(page.body.contains("Recommender") && page.body.contains("DTaP/Tdap/Td"));
        assert_eq!(
            s.audit_for_patient(f.in_county, 100).unwrap().len(),
            before + 1
        );
    })
}

#[test]
fn approved_account_request_sends_two_emails() {
    run(async {
        let f = fixture();
        let page = get(&f, "/request-account", "").await;
        let pre = page
            .set_cookie
            .iter()
            .find(|c| c.starts_with("ctwiz_pre="))
            .unwrap();
        let pre = pre.split(';').next().unwrap().to_string();
        let token = pre.trim_start_matches("ctwiz_pre=").to_string();
        let bad = post(
            &f,
            "/request-account",
            &pre,
            &[
                ("csrf", &token),
                ("full_name", "Pat Nurse"),
                ("email", "pat@example.org"),
                ("pin0", "CT09999"),
                ("role0", "clinic-access"),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("CT09999"));
        let r = common::request_account_from(&f, ([127, 0, 0, 1], 50000).into()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let s = store(&f);
        let req = s.account_requests(None).unwrap();
        assert_eq!(req.len(), 1);

        let (st, _) = user(&f, Role::StateAdmin, "state3", true);
        let (cookie, csrf) = session(&f, st);
        let r = post(
            &f,
            &format!("/admin/requests/{}/approve", req[0].id),
            &cookie,
            &[("csrf", &csrf), ("username", "pnurse")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let mails = s.outbox(10).unwrap();
        assert_eq!(mails.len(), 2);
        assert!(mails.iter().any(|m| m.body.contains("Username: pnurse")));
        let temp_mail = mails
            .iter()
            .find(|m| m.body.contains("Temporary password: "))
            .unwrap();
        assert!(
            !temp_mail.body.contains("pnurse"),
            "the password travels without the username"
        );
        // The temporary password is held in memory until sent; the state team sees it in the
        // outbox page meanwhile.
        let outbox = get(&f, "/admin/outbox", &cookie).await;
        assert!(outbox.body.contains("Your CT WiZ account: username"));
        let temp = common::temporary_password_in(&outbox.body);
        let r = sign_in(&f, "pnurse", &temp).await;
        assert_eq!(r.location.as_deref(), Some("/account/password"));
    })
}

#[test]
fn forgot_username_and_password_go_through_email_and_questions() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "forgetful", true);
        let (pre, token) = pre_token(&f, "/forgot-username").await;
        let r = post(
            &f,
            "/forgot-username",
            &pre,
            &[("csrf", &token), ("email", "forgetful@example.org")],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let unknown = post(
            &f,
            "/forgot-username",
            &pre,
            &[("csrf", &token), ("email", "nobody@example.org")],
        )
        .await;
        assert_eq!(
            unknown.body, r.body,
            "the same answer for unknown addresses"
        );
        let s = store(&f);
        assert!(s
            .outbox(10)
            .unwrap()
            .iter()
            .any(|m| m.body.contains("Username: forgetful")));

        // Forgot password: the questions, then the answers and a new password twice. Wrong
        // answers change nothing; right ones set the password the user chose (see
        // tests/security.rs for the same answer whatever the account).
        let (pre, token) = pre_token(&f, "/forgot-password").await;
        let asked = post(
            &f,
            "/forgot-password",
            &pre,
            &[
                ("csrf", &token),
                ("username", "forgetful"),
                ("email", "forgetful@example.org"),
            ],
        )
        .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains(accounts::SECURITY_QUESTIONS[0]));
        assert!(asked.body.contains("action=\"/forgot-password/reset\""));
        let reset = |a: &'static str| {
            let (f, pre, token) = (&f, pre.clone(), token.clone());
            async move {
                post(
                    f,
                    "/forgot-password/reset",
                    &pre,
                    &[
                        ("csrf", &token),
                        ("username", "forgetful"),
                        ("email", "forgetful@example.org"),
                        ("a1", a),
                        ("a2", a),
                        ("new_password", "correct horse battery"),
                        ("new_password_again", "correct horse battery"),
                    ],
                )
                .await
            }
        };
        let wrong = reset("red").await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(s.outbox(10).unwrap().len(), 1);
        assert_eq!(
            sign_in(&f, "forgetful", "correct horse battery")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let right = reset("BLUE").await;
        assert_eq!(right.status, StatusCode::OK);
        assert_eq!(s.outbox(10).unwrap().len(), 2, "a notice, not a password");
        assert!(!s.account_by_id(id).unwrap().unwrap().must_change_password);
        let r = sign_in(&f, "forgetful", "correct horse battery").await;
        assert_eq!(r.location.as_deref(), Some("/"));
    })
}

#[test]
fn multi_clinic_user_chooses_and_switches_clinic() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "twoplaces", true);
        let s = store(&f);
        let mut grants = s.account_by_id(id).unwrap().unwrap().user.grants;
        grants.push(
            ctwiz_core::access::Grant::new(
                Role::PatientLookUpOnly,
                ctwiz_core::access::Scope::Clinic(f.other.clone()),
            )
            .unwrap(),
        );
        s.set_grants(id, &grants).unwrap();
        let r = sign_in(&f, "twoplaces", common::PASSWORD).await;
        assert_eq!(r.location.as_deref(), Some("/choose-clinic"));
        let cookie = session_cookie(&r);
        assert_eq!(
            get(&f, "/patients", &cookie).await.location.as_deref(),
            Some("/choose-clinic")
        );
        let page = get(&f, "/choose-clinic", &cookie).await.body;
        assert!(page.contains("Shoreline Family Care") && page.contains("Hartford Pediatrics"));
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let other = f.other.to_string();
        assert_eq!(
            post(
                &f,
                "/choose-clinic",
                &cookie,
                &[("csrf", &csrf), ("pin", &other)]
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );
        // At the other clinic the user may only look up: no dose entry.
        assert_eq!(
            get(&f, &format!("/patients/{}/doses/new", f.in_county), &cookie)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let home = f.home.to_string();
        post(
            &f,
            "/choose-clinic",
            &cookie,
            &[("csrf", &csrf), ("pin", &home)],
        )
        .await;
        assert_eq!(
            get(&f, &format!("/patients/{}/doses/new", f.in_county), &cookie)
                .await
                .status,
            StatusCode::OK
        );
        // A clinic the user does not hold is refused.
        assert_eq!(
            post(
                &f,
                "/choose-clinic",
                &cookie,
                &[("csrf", &csrf), ("pin", "CT09999")]
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    })
}

#[test]
fn state_user_changes_a_role_and_it_takes_effect() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "promoted", true);
        let (nurse_cookie, _) = session(&f, nurse);
        assert_eq!(
            get(&f, "/clinic-tools", &nurse_cookie).await.status,
            StatusCode::FORBIDDEN
        );
        let (st, _) = user(&f, Role::StateAdmin, "state4", true);
        let (cookie, csrf) = session(&f, st);
        let r = post(
            &f,
            &format!("/admin/users/{nurse}/grants"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("index", "0"),
                ("role", "primary-coordinator"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            get(&f, "/clinic-tools", &nurse_cookie).await.status,
            StatusCode::OK
        );
        let bad = post(
            &f,
            &format!("/admin/users/{nurse}/grants"),
            &cookie,
            &[("csrf", &csrf), ("index", "0"), ("role", "state")],
        )
        .await;
        assert_eq!(
            bad.status,
            StatusCode::BAD_REQUEST,
            "a statewide role cannot sit on a clinic"
        );
    })
}

#[test]
fn adding_a_patient_validates_and_audits() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "registrar", true);
        let (cookie, csrf) = session(&f, id);
        let base = [
            ("csrf", csrf.as_str()),
            ("family", "Newborn"),
            ("given", "Eli"),
            ("dob", "2026-01-02"),
            ("sex", "M"),
            ("street", "5 Elm St"),
            ("city", "Hartford"),
            ("state", "CT"),
            ("county", "Hartford"),
            ("mrn", "MRN-77"),
        ];
        let mut bad = base.to_vec();
        bad.push(("zip", "ABCDE"));
        let r = post(&f, "/patients/new", &cookie, &bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("ABCDE"),
            "the error names the value: {}",
            r.body
        );
        assert!(r.body.contains("Newborn"), "the form keeps what was typed");
        let s = store(&f);
        use ctwiz_store::PatientStore;
        assert_eq!(s.patient_count().unwrap(), 3, "nothing stored");
        let mut good = base.to_vec();
        good.push(("zip", "06105"));
        let r = post(&f, "/patients/new", &cookie, &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let new_id: i64 = r
            .location
            .unwrap()
            .trim_start_matches("/patients/")
            .parse()
            .unwrap();
        let p = s
            .patient(ctwiz_core::ids::PatientId(new_id))
            .unwrap()
            .unwrap();
        assert_eq!(p.mrn_at(&f.home), Some("MRN-77"));
        assert!(s
            .audit_for_patient(p.id.unwrap(), 10)
            .unwrap()
            .iter()
            .any(|a| a.action == ctwiz_store::AuditAction::Create));
    })
}

#[test]
fn observations_use_cdsi_codes() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "observer", true);
        let (cookie, csrf) = session(&f, id);
        let page = get(&f, &format!("/patients/{}", f.in_county), &cookie)
            .await
            .body;
        let select = page
            .split("name=\"code\"")
            .nth(1)
            .expect("observation select");
        let code = select
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let path = format!("/patients/{}/observations", f.in_county);
        let bad = post(
            &f,
            &path,
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "immunity"),
                ("code", "99999"),
                ("date", "2025-01-01"),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let ok = post(
            &f,
            &path,
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "immunity"),
                ("code", &code),
                ("text", "lab titer"),
                ("date", "2025-01-01"),
            ],
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let obs = store(&f).observations(f.in_county).unwrap();
        assert_eq!(obs.len(), 1);
        assert!(obs[0].text.contains("lab titer") && obs[0].code == code);
    })
}

#[test]
fn state_users_see_the_disclosures_and_a_password_change_ends_other_sessions() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "auditnurse", true);
        let (ncookie, _) = session(&f, nurse);
        let record = format!("/patients/{}", f.in_county);
        let disclosures = format!("{record}/disclosures");
        get(&f, &record, &ncookie).await;
        let (st, _) = user(&f, Role::StateAdmin, "auditor", true);
        let (scookie, _) = session(&f, st);
        let page = get(&f, &record, &scookie).await.body;
        assert!(page.contains(&format!("href=\"{disclosures}\"")), "{page}");
        // The nurse's earlier page view is listed: time, actor, door, clinic, action, detail.
        let r = get(&f, &disclosures, &scookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
        r.body.contains("<td>web:auditnurse@CT00001</td><td>web</td><td>CT00001</td><td>read</td><td>immunization home viewed</td>"),
        "{}",
        r.body
    );
        // A clinic user neither sees the link nor the page, and the attempt is logged.
        let nurse_page = get(&f, &record, &ncookie).await.body;
        assert!(!nurse_page.contains("/disclosures"));
        let r = get(&f, &disclosures, &ncookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!r.body.contains("auditnurse"));
        let log = store(&f).audit_for_patient(f.in_county, 10).unwrap();
        assert_eq!(
            (log[0].action, log[0].actor.as_str()),
            (ctwiz_store::AuditAction::Denied, "web:auditnurse@CT00001")
        );
        // Reading the disclosures was itself recorded.
        assert!(log
            .iter()
            .any(|e| e.actor == "web:auditor" && e.detail.starts_with("audit log read: patient")));

        // The nurse signs in a second time and changes the password there: the first session ends.
        let second = sign_in(&f, "auditnurse", common::PASSWORD).await;
        let cookie2 = session_cookie(&second);
        let page = get(&f, "/account/password", &cookie2).await.body;
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = post(
            &f,
            "/account/password",
            &cookie2,
            &[
                ("csrf", &csrf),
                ("current", common::PASSWORD),
                ("new", "another good one 9"),
                ("confirm", "another good one 9"),
                ("q1", "2"),
                ("a1", "Elm"),
                ("q2", "3"),
                ("a2", "Lee"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            get(&f, "/", &ncookie).await.location.as_deref(),
            Some("/sign-in")
        );
        assert_eq!(get(&f, "/", &cookie2).await.status, StatusCode::OK);
    })
}

/// A state user reviews the queue, compares the pair side by side, and merges it: the
/// survivor gets the other record's doses, the retired id points to it, the queue empties.
#[test]
fn state_user_merges_a_possible_duplicate() {
    run(async {
        use ctwiz_store::dedup::DedupStore;
        use ctwiz_store::PatientStore;
        let f = fixture();
        let (id, _) = user(&f, Role::StateAdmin, "dph1", true);
        let (cookie, csrf) = session(&f, id);
        let home = get(&f, "/", &cookie).await.body;
        assert!(home.contains("href=\"/patients/duplicates\""), "{home}");
        let queue = get(&f, "/patients/duplicates", &cookie).await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(queue.body.contains("TESTCHILD") && queue.body.contains("OUTCOUNTY"));
        let compare = get(&f, &format!("/patients/duplicates/{}", f.review), &cookie).await;
        assert_eq!(compare.status, StatusCode::OK);
        assert!(compare.body.contains("Not a duplicate") && compare.body.contains("name=\"csrf\""));

        let path = format!("/patients/duplicates/{}/merge", f.review);
        let survivor = f.in_county.to_string();
        // Without the session's CSRF token nothing happens.
        let r = post(
            &f,
            &path,
            &cookie,
            &[("csrf", "forged"), ("survivor", &survivor)],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(store(&f).merged_into(f.out_county).unwrap(), None);

        let r = post(
            &f,
            &path,
            &cookie,
            &[("csrf", &csrf), ("survivor", &survivor)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/patients/{}", f.in_county).as_str())
        );
        let s = store(&f);
        assert_eq!(s.merged_into(f.out_county).unwrap(), Some(f.in_county));
        // Testchild had DTaP + IPV on 2024-03-15; Outcounty's DTaP of 2024-03-20 is a new event.
        assert_eq!(s.doses(f.in_county).unwrap().len(), 3);
        assert_eq!(s.dedup_queue(10, 0).unwrap().total, 0);
        let old = get(&f, &format!("/patients/{}", f.out_county), &cookie).await;
        assert_eq!(old.status, StatusCode::OK);
        assert!(old.body.contains("was merged into"), "{}", old.body);
        // Merging again is refused with a reason.
        let r = post(
            &f,
            &path,
            &cookie,
            &[("csrf", &csrf), ("survivor", &survivor)],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("already merged into patient"), "{}", r.body);

        // The retired record's page offers to undo the merge; undoing gives its dose back.
        assert!(old.body.contains("Undo merge"), "{}", old.body);
        let undo = format!("/patients/{}/unmerge", f.out_county);
        let r = post(&f, &undo, &cookie, &[("csrf", "forged")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            store(&f).merged_into(f.out_county).unwrap(),
            Some(f.in_county)
        );
        let r = post(&f, &undo, &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let s = store(&f);
        assert_eq!(s.merged_into(f.out_county).unwrap(), None);
        assert_eq!(s.doses(f.in_county).unwrap().len(), 2);
        assert_eq!(s.doses(f.out_county).unwrap().len(), 1);
        let back = get(&f, &format!("/patients/{}", f.out_county), &cookie).await;
        assert!(back.body.contains("OUTCOUNTY") && !back.body.contains("was merged into"));
        let r = post(&f, &undo, &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("not a merged record"), "{}", r.body);
    })
}

#[test]
fn health_and_readiness_probes_answer_without_a_session() {
    run(async {
        let f = fixture();
        let h = get(&f, "/healthz", "").await;
        assert_eq!((h.status.as_u16(), h.body.as_str()), (200, "ok\n"));
        let r = get(&f, "/readyz", "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.starts_with("ready (schema "), "{}", r.body);
    })
}

#[test]
fn metrics_count_requests_by_route_and_failed_sign_ins() {
    run(async {
        let f = fixture();
        let _ = get(&f, "/healthz", "").await;
        let _ = get(&f, &format!("/patients/{}", f.in_county), "").await;
        let failed = common::sign_in(&f, "nobody-here", "wrong password").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
        let m = get(&f, "/metrics", "").await;
        assert_eq!(m.status, 200);
        assert!(
            m.content_type.starts_with("application/openmetrics-text"),
            "{}",
            m.content_type
        );
        let line = |prefix: &str| {
            m.body
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} in\n{}", m.body))
                .to_string()
        };
        assert!(m.body.lines().any(
            |l| l.starts_with("ctwiz_http_requests_total{") && l.contains("route=\"/healthz\"")
        ));
        // Ids in paths stay in the pattern, not in new series.
        assert!(m.body.contains("route=\"/patients/{id}\""), "{}", m.body);
        assert!(!m.body.contains(&format!("/patients/{}\"", f.in_county)));
        assert!(line("ctwiz_sign_in_failures_total{door=\"web\"}").ends_with(" 1"));
        assert!(m
            .body
            .contains("ctwiz_http_request_duration_seconds_bucket"));
    })
}
