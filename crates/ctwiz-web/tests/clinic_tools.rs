//! Clinic Tools through the real router: contact details apply at once (audited); name,
//! address and staff changes become change requests the state approves or rejects with a
//! reason; the history shows each; the requester's bell counts the decisions, which open
//! their screen and are then read; a CVP clinic's staff list gates account requests.

mod common;

use axum::http::StatusCode;
use common::*;
use ctwiz_core::access::Role;
use ctwiz_store::clinic_info::{ChangeRequestStore, NotificationKind, NotificationStore};
use ctwiz_store::test_support::run;
use ctwiz_store::web::WebStore;
use ctwiz_store::{AuditAction, AuditFilter, AuditStore, OrgStore};

fn rows(f: &Fixture, action: AuditAction, actor: &str) -> Vec<ctwiz_store::AuditEntry> {
    store(f)
        .audit_query(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action && r.actor.starts_with(actor))
        .collect()
}

/// The unread notifications the bell of a page counts (its title spells the parts out).
fn bell_count(body: &str) -> Option<usize> {
    let at = body.find("class=\"bell\"")?;
    let rest = &body[at..];
    let rest = &rest[..rest.find('>')?];
    let before = rest.split(" unread notification(s)").next()?;
    before.rsplit(['"', ' ']).next()?.parse().ok()
}

#[test]
fn contact_details_apply_at_once_and_are_audited() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord1", true);
        let (cookie, csrf) = session(&f, coord);
        let r = post(
            &f,
            "/clinic-tools/contact",
            &cookie,
            &[
                ("csrf", &csrf),
                ("phone", "860-555-0100"),
                ("fax", "(860) 555-0101"),
                ("delivery_hours", "Mon–Thu 9:00–15:00"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let c = store(&f).clinic(&f.home).unwrap().unwrap();
        assert_eq!(c.phone.unwrap().formatted(), "(860) 555-0100");
        assert_eq!(c.fax.unwrap().formatted(), "(860) 555-0101");
        assert_eq!(c.delivery_hours.as_deref(), Some("Mon–Thu 9:00–15:00"));
        let audit = rows(&f, AuditAction::Update, "web:coord1");
        assert_eq!(audit.len(), 1);
        assert!(
            audit[0].detail.contains("phone none → (860) 555-0100"),
            "{}",
            audit[0].detail
        );
        let page = get(&f, "/clinic-tools?done=contact", &cookie).await;
        assert!(page.body.contains("Contact details saved"));
        assert!(page.body.contains("Mon–Thu 9:00–15:00"));
        // A bad phone number is refused with the value named, and nothing changes.
        let bad = post(
            &f,
            "/clinic-tools/contact",
            &cookie,
            &[
                ("csrf", &csrf),
                ("phone", "555-01"),
                ("fax", ""),
                ("delivery_hours", ""),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("555-01"), "{}", bad.body);
        assert!(store(&f).clinic(&f.home).unwrap().unwrap().phone.is_some());
    })
}

#[test]
fn name_and_staff_changes_wait_for_the_state_and_notify_the_requester() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::BackupVaccineCoordinator, "coord2", true);
        let (cookie, csrf) = session(&f, coord);
        let (st, _) = user(&f, Role::StateAdmin, "state1", true);
        let (state_cookie, state_csrf) = session(&f, st);

        let r = post(
            &f,
            "/clinic-tools/changes",
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "name"),
                ("name", "Hartford Kids Care"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = post(
            &f,
            "/clinic-tools/changes",
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "staff"),
                ("staff_name", "Sam Assistant"),
                ("staff_email", "sam@example.org"),
                ("staff_role", "clinic-access"),
                ("staff_title", "Medical assistant"),
                ("training_course", "CVP annual training"),
                ("training_date", "2025-02-03"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Nothing applied yet; both pending in the history.
        let c = store(&f).clinic(&f.home).unwrap().unwrap();
        assert_eq!(c.name, "Hartford Pediatrics");
        assert!(!c
            .staff
            .iter()
            .any(|s| s.email.as_str() == "sam@example.org"));
        let page = get(&f, "/clinic-tools", &cookie).await;
        assert!(page.body.contains("Change Request History"));
        assert!(page.body.contains("Clinic name → Hartford Kids Care"));
        assert!(page.body.contains("Sam Assistant"));
        assert_eq!(page.body.matches(">Pending<").count(), 2, "{}", page.body);
        assert_eq!(rows(&f, AuditAction::Create, "web:coord2").len(), 2);

        // A coordinator may not decide; the refusal is audited.
        let ids: Vec<i64> = store(&f)
            .change_requests(Some(&f.home), None)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        let (staff_id, name_id) = (ids[0], ids[1]);
        let r = post(
            &f,
            &format!("/admin/change-requests/{name_id}/approve"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(rows(&f, AuditAction::Denied, "web:coord2").len(), 1);

        // The state sees both, approves the name, rejects the staff change with a reason.
        let list = get(&f, "/admin/change-requests", &state_cookie).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("Hartford Kids Care") && list.body.contains("Sam Assistant"));
        let r = post(
            &f,
            &format!("/admin/change-requests/{name_id}/approve"),
            &state_cookie,
            &[("csrf", &state_csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let no_reason = post(
            &f,
            &format!("/admin/change-requests/{staff_id}/reject"),
            &state_cookie,
            &[("csrf", &state_csrf), ("reason", "  ")],
        )
        .await;
        assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
        assert!(no_reason.body.contains("reason"), "{}", no_reason.body);
        let r = post(
            &f,
            &format!("/admin/change-requests/{staff_id}/reject"),
            &state_cookie,
            &[
                ("csrf", &state_csrf),
                ("reason", "Training certificate missing"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Deciding again is refused.
        let again = post(
            &f,
            &format!("/admin/change-requests/{name_id}/approve"),
            &state_cookie,
            &[("csrf", &state_csrf)],
        )
        .await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert!(again.body.contains("already approved"), "{}", again.body);

        let c = store(&f).clinic(&f.home).unwrap().unwrap();
        assert_eq!(c.name, "Hartford Kids Care");
        assert!(!c
            .staff
            .iter()
            .any(|s| s.email.as_str() == "sam@example.org"));
        assert_eq!(rows(&f, AuditAction::Update, "web:state1").len(), 2);

        // The coordinator's bell counts both decisions on every page.
        let home = get(&f, "/", &cookie).await;
        assert_eq!(bell_count(&home.body), Some(2), "{}", home.body);
        let patients = get(&f, "/patients", &cookie).await;
        assert_eq!(bell_count(&patients.body), Some(2));
        let notes = get(&f, "/notifications", &cookie).await;
        assert!(notes
            .body
            .contains("approved: Clinic name → Hartford Kids Care"));
        assert!(notes.body.contains("Training certificate missing"));
        // Opening one marks it read and goes to Clinic Tools' history.
        let mine = store(&f)
            .notifications(
                coord,
                chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(mine.len(), 2);
        assert!(mine
            .iter()
            .all(|n| n.kind == NotificationKind::ChangeRequestDecision));
        let open = get(&f, &format!("/notifications/{}", mine[0].id), &cookie).await;
        assert_eq!(open.status, StatusCode::SEE_OTHER);
        assert_eq!(open.location.as_deref(), Some("/clinic-tools#history"));
        let home = get(&f, "/", &cookie).await;
        assert_eq!(bell_count(&home.body), Some(1));
        // Someone else cannot open it.
        let other = get(&f, &format!("/notifications/{}", mine[1].id), &state_cookie).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);

        // The history shows who decided, and the reason.
        let page = get(&f, "/clinic-tools", &cookie).await;
        assert!(page.body.contains("Hartford Kids Care"));
        assert!(page.body.contains(">Approved<") && page.body.contains(">Rejected<"));
        assert!(page.body.contains("state1"));
        assert!(page.body.contains("Training certificate missing"));
    })
}

#[test]
fn notifications_older_than_90_days_are_dropped() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord3", true);
        let (cookie, _) = session(&f, coord);
        let now = chrono::Utc::now().naive_utc();
        let s = store(&f);
        s.notify(
            coord,
            NotificationKind::ChangeRequestDecision,
            "old news",
            "/clinic-tools",
            now - chrono::Duration::days(91),
        )
        .unwrap();
        s.notify(
            coord,
            NotificationKind::ChangeRequestDecision,
            "fresh news",
            "/clinic-tools",
            now - chrono::Duration::days(89),
        )
        .unwrap();
        let page = get(&f, "/notifications", &cookie).await;
        assert!(page.body.contains("fresh news"));
        assert!(!page.body.contains("old news"));
        assert_eq!(bell_count(&page.body), Some(1));
        assert_eq!(
            s.notifications(coord, now - chrono::Duration::days(400))
                .unwrap()
                .len(),
            1,
            "the old one is deleted"
        );
    })
}

#[test]
fn bad_change_requests_are_refused_with_a_reason() {
    run(async {
        let f = fixture();
        let (coord, _) = user(&f, Role::PrivateInventoryMainContact, "pim1", true);
        let (cookie, csrf) = session(&f, coord);
        for (fields, expect) in [
            (
                vec![("kind", "name"), ("name", "Hartford Pediatrics")],
                "nothing to change",
            ),
            (
                vec![
                    ("kind", "address"),
                    ("street", "1 Main"),
                    ("city", "Hartford"),
                    ("state", "CT"),
                    ("zip", "6101"),
                ],
                "6101",
            ),
            (
                vec![
                    ("kind", "staff"),
                    ("staff_name", "Sam"),
                    ("staff_email", "sam@example.org"),
                    ("staff_role", "clinic-access"),
                    ("training_course", "CVP"),
                    ("training_date", "2999-01-01"),
                ],
                "future",
            ),
            (
                vec![
                    ("kind", "staff"),
                    ("staff_name", "Sam"),
                    ("staff_email", "sam@example.org"),
                    ("staff_role", "state"),
                ],
                "not a clinic access type",
            ),
            (
                vec![
                    ("kind", "remove-staff"),
                    ("staff_email", "nobody@example.org"),
                ],
                "not on the staff list",
            ),
            (vec![("kind", "colour")], "not a clinic change"),
        ] {
            let mut all = vec![("csrf", csrf.as_str())];
            all.extend(fields);
            let r = post(&f, "/clinic-tools/changes", &cookie, &all).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{expect}: {}", r.body);
            assert!(r.body.contains(expect), "{expect}: {}", r.body);
        }
        assert!(store(&f).change_requests(None, None).unwrap().is_empty());
        // A valid address change and a staff removal are filed.
        for fields in [
            vec![
                ("kind", "address"),
                ("street", "12 Elm St"),
                ("city", "Hartford"),
                ("state", "ct"),
                ("zip", "06105"),
            ],
            vec![
                ("kind", "remove-staff"),
                ("staff_email", "ROBIN@example.org"),
            ],
        ] {
            let mut all = vec![("csrf", csrf.as_str())];
            all.extend(fields);
            let r = post(&f, "/clinic-tools/changes", &cookie, &all).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
        assert_eq!(store(&f).change_requests(None, None).unwrap().len(), 2);
    })
}

#[test]
fn who_may_edit_clinic_information() {
    run(async {
        let f = fixture();
        for (role, name, may_edit) in [
            (Role::PrimaryVaccineCoordinator, "role1", true),
            (Role::BackupVaccineCoordinator, "role2", true),
            (Role::PrivateInventoryMainContact, "role3", true),
            (Role::PhysicianSigning, "role4", true),
            (Role::ClinicAccess, "role5", false),
            (Role::PatientLookUpOnly, "role6", false),
            (Role::SchoolNurseReadOnly, "role7", false),
        ] {
            let (id, _) = user(&f, role, name, true);
            let (cookie, csrf) = session(&f, id);
            let r = post(
                &f,
                "/clinic-tools/contact",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("phone", ""),
                    ("fax", ""),
                    ("delivery_hours", name),
                ],
            )
            .await;
            let expect = if may_edit {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, expect, "{role:?}");
            let list = get(&f, "/admin/change-requests", &cookie).await;
            assert_eq!(list.status, StatusCode::FORBIDDEN, "{role:?} reviews");
        }
        assert_eq!(
            store(&f)
                .clinic(&f.home)
                .unwrap()
                .unwrap()
                .delivery_hours
                .as_deref(),
            Some("role4")
        );
    })
}

/// The form offers every access type: a health department with its jurisdiction (no
/// clinic), and school nurse access only with the nurse's attestation.
#[test]
fn account_requests_for_a_health_department_and_a_school_nurse() {
    run(async {
        use ctwiz_store::UserStore;
        let f = fixture();
        let (pre, token) = pre_token(&f, "/request-account").await;
        let form = pre_token(&f, "/request-account").await;
        let page = get(&f, "/request-account", &form.0).await;
        assert!(page.body.contains("Health Department") && page.body.contains("registered nurse"));
        // A health department access without its jurisdiction is sent back with the reason.
        let r = post(
            &f,
            "/request-account",
            &pre,
            &[
                ("csrf", &token),
                ("full_name", "Hanna Health"),
                ("email", "hanna@example.org"),
                ("other_role", "health-department"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("Choose the jurisdiction"), "{}", r.body);
        let (pre, token) = pre_token(&f, "/request-account").await;
        let r = post(
            &f,
            "/request-account",
            &pre,
            &[
                ("csrf", &token),
                ("full_name", "Hanna Health"),
                ("email", "hanna@example.org"),
                ("other_role", "health-department"),
                ("jurisdiction", "09003"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let req = store(&f).account_requests(None).unwrap().remove(0);
        assert!(req.request.clinics.is_empty());
        // The state approves it; the account holds the health department access, and the
        // new user finds the decision among their notifications.
        let (st, _) = user(&f, Role::StateAdmin, "state9", true);
        let (sc, scsrf) = session(&f, st);
        let list = get(&f, "/admin/requests", &sc).await;
        assert!(
            list.body.contains("Hartford County: Health Department"),
            "{}",
            list.body
        );
        let r = post(
            &f,
            &format!("/admin/requests/{}/approve", req.id),
            &sc,
            &[("csrf", &scsrf), ("username", "hhealth")],
        )
        .await;
        assert!(
            r.status.is_redirection() || r.status.is_success(),
            "{}",
            r.body
        );
        let s = store(&f);
        let account = s
            .account(&ctwiz_core::ids::Username::new("hhealth").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            account.user.grants,
            vec![ctwiz_core::access::Grant::new(
                Role::HealthDepartmentReadOnly,
                ctwiz_core::access::Scope::Jurisdiction(ctwiz_core::place::Jurisdiction::County(
                    ctwiz_core::org::County::Hartford
                ))
            )
            .unwrap()]
        );
        let told = s
            .notifications(account.user.id.unwrap(), chrono::NaiveDateTime::MIN)
            .unwrap();
        assert!(told[0].message.contains("approved"), "{told:?}");

        // School nurse access needs the attestation, checked before anything else.
        let (pre, token) = pre_token(&f, "/request-account").await;
        let home = f.home.to_string();
        let nurse = |attest: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("full_name", "Nora Nurse".to_string()),
                ("email", "nora@example.org".to_string()),
                ("pin0", home.clone()),
                ("role0", "school-nurse".to_string()),
                ("nurse_attested", attest.to_string()),
            ]
        };
        let fields = nurse("");
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post(&f, "/request-account", &pre, &refs).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("registered nurse of the school"),
            "{}",
            r.body
        );
        let (pre, token2) = pre_token(&f, "/request-account").await;
        let mut fields = nurse("yes");
        fields[0].1 = token2;
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = post(&f, "/request-account", &pre, &refs).await;
        // Past the attestation, the clinic's staff list decides.
        assert!(r.body.contains("is not on the staff list"), "{}", r.body);
    })
}

#[test]
fn cvp_account_requests_need_the_staff_list() {
    run(async {
        let f = fixture();
        let (pre, token) = pre_token(&f, "/request-account").await;
        let home = f.home.to_string();
        let r = post(
            &f,
            "/request-account",
            &pre,
            &[
                ("csrf", &token),
                ("full_name", "Stranger Person"),
                ("email", "stranger@example.org"),
                ("pin0", &home),
                ("role0", "clinic-access"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("stranger@example.org is not on the staff list of Hartford Pediatrics"),
            "{}",
            r.body
        );
        assert!(r.body.contains("Clinic Tools"));
        assert!(store(&f).account_requests(None).unwrap().is_empty());

        // Once the coordinator's staff change is approved, the same request is accepted.
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord4", true);
        let (cookie, csrf) = session(&f, coord);
        let r = post(
            &f,
            "/clinic-tools/changes",
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "staff"),
                ("staff_name", "Stranger Person"),
                ("staff_email", "Stranger@Example.org"),
                ("staff_role", "clinic-access"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let id = store(&f).change_requests(None, None).unwrap()[0].id;
        let (st, _) = user(&f, Role::StateAdmin, "state2", true);
        let (sc, scsrf) = session(&f, st);
        let r = post(
            &f,
            &format!("/admin/change-requests/{id}/approve"),
            &sc,
            &[("csrf", &scsrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let (pre, token) = pre_token(&f, "/request-account").await;
        let r = post(
            &f,
            "/request-account",
            &pre,
            &[
                ("csrf", &token),
                ("full_name", "Stranger Person"),
                ("email", "stranger@example.org"),
                ("pin0", &home),
                ("role0", "clinic-access"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(store(&f).account_requests(None).unwrap().len(), 1);
    })
}

#[test]
fn tasks_list_pending_work_by_role_and_disappear_when_done() {
    run(async {
        use ctwiz_core::ids::Cvx;
        use ctwiz_core::ordering::VaccineOrder;
        use ctwiz_store::InventoryStore;
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord5", true);
        let (cookie, csrf) = session(&f, coord);
        let (st, _) = user(&f, Role::StateAdmin, "state5", true);
        let (sc, scsrf) = session(&f, st);
        let (clerk, _) = user(&f, Role::ClinicAccess, "clerk5", true);
        let (clerk_cookie, _) = session(&f, clerk);

        // At first the state's only task is the fixture's second CVP clinic, which has not
        // signed its program agreement.
        let tasks = get(&f, "/tasks", &sc).await;
        let listed = &tasks.body[tasks.body.find("<main>").unwrap()..];
        assert_eq!(listed.matches("<li>").count(), 1, "{}", tasks.body);
        assert!(tasks.body.contains(
            "1</strong> clinic(s) without a current agreement of a program they are enrolled in"
        ));

        // A change request, an account request and a public order wait for the state.
        post(
            &f,
            "/clinic-tools/changes",
            &cookie,
            &[("csrf", &csrf), ("kind", "name"), ("name", "Hartford Kids")],
        )
        .await;
        let r = common::request_account_from(&f, ([127, 0, 0, 1], 50001).into()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let s = store(&f);
        let clinic = s.clinic(&f.home).unwrap().unwrap();
        let order = s
            .create_order(
                &VaccineOrder::new(
                    &clinic,
                    ctwiz_core::program::Program::Cvp,
                    "coord5",
                    chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                    vec![(Cvx::new("20").unwrap(), 10)],
                )
                .unwrap(),
            )
            .unwrap();
        let tasks = get(&f, "/tasks", &sc).await;
        for (line, link) in [
            (
                "1</strong> clinic change request(s) wait for review",
                "/admin/change-requests",
            ),
            (
                "1</strong> account request(s) wait for approval",
                "/admin/requests",
            ),
            (
                "1</strong> public vaccine order(s) wait for approval",
                "/inventory/orders",
            ),
        ] {
            assert!(tasks.body.contains(line), "{line}: {}", tasks.body);
            assert!(tasks.body.contains(&format!("href=\"{link}\"")));
        }
        // The home page shows the same.
        let home = get(&f, "/", &sc).await;
        assert!(home
            .body
            .contains("1</strong> clinic change request(s) wait for review"));
        // The coordinator has no order to receive yet, only the clinic's routine work: no
        // reminder/recall notices were ever recorded. The clerk may not see the Task
        // Module's state work either.
        let mine = get(&f, "/tasks", &cookie).await;
        assert!(!mine.body.contains("order(s) to receive"), "{}", mine.body);
        assert!(mine
            .body
            .contains("monthly inventory reconciliation of public vaccine is due"));
        assert!(
            mine.body.contains(
                "1</strong> reminder/recall list due (no notices recorded in the last 30 days)"
            ),
            "{}",
            mine.body
        );
        // Recording notices for the clinic takes the recall task away.
        use ctwiz_store::RecallStore;
        s.record_recall_notices(&[ctwiz_store::RecallNotice {
            patient: f.in_county,
            sent_on: chrono::Local::now().date_naive(),
            method: "letter".into(),
            vaccine_groups: vec!["MMR".into()],
            sent_by: "web:coord5@CT00001".into(),
            scope: f.home.to_string(),
        }])
        .unwrap();
        let mine = get(&f, "/tasks", &cookie).await;
        assert!(!mine.body.contains("reminder/recall"), "{}", mine.body);
        let clerk_tasks = get(&f, "/tasks", &clerk_cookie).await;
        assert!(clerk_tasks.body.contains("No open tasks"));

        // Done: the change request decided, the order approved → the state's tasks shrink
        // and the coordinator now has an order to receive.
        let id = s.change_requests(None, None).unwrap()[0].id;
        post(
            &f,
            &format!("/admin/change-requests/{id}/approve"),
            &sc,
            &[("csrf", &scsrf)],
        )
        .await;
        let r = post(
            &f,
            &format!("/inventory/orders/{order}/approve"),
            &sc,
            &[("csrf", &scsrf), ("qty_20", "10")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let tasks = get(&f, "/tasks", &sc).await;
        assert!(!tasks.body.contains("clinic change request(s)"));
        assert!(!tasks.body.contains("public vaccine order(s)"));
        assert!(tasks.body.contains("account request(s) wait for approval"));
        let mine = get(&f, "/tasks", &cookie).await;
        assert!(
            mine.body
                .contains("1</strong> approved order(s) to receive"),
            "{}",
            mine.body
        );
        // The coordinator is notified of the state's decision (bell and notifications).
        let bell = get(&f, "/notifications", &cookie).await;
        assert!(
            bell.body.contains(&format!(
                "Vaccine order: Hartford Kids (CT00001): order {order} approved (10 doses)"
            )),
            "{}",
            bell.body
        );
    })
}

/// The signing physician signs the clinic's program agreement in Clinic Tools; until then
/// the clinic is on the state's list and its public orders are refused with the reason.
#[test]
fn physician_signs_the_agreement_and_only_then_the_clinic_orders() {
    run(async {
        use ctwiz_store::UserStore;
        let f = fixture();
        let s = store(&f);
        let at_other = |role, name: &str| {
            let (id, _) = user(&f, role, name, true);
            let mut grants = s.account_by_id(id).unwrap().unwrap().user.grants;
            grants[0].scope = ctwiz_core::access::Scope::Clinic(f.other.clone());
            s.set_grants(id, &grants).unwrap();
            session(&f, id)
        };
        let (doc, doc_csrf) = at_other(Role::PhysicianSigning, "drsign");
        let (coord, coord_csrf) = at_other(Role::PrimaryVaccineCoordinator, "coordother");
        let (state_id, _) = user(&f, Role::StateAdmin, "dphadmin", true);
        let (state, _) = session(&f, state_id);

        // Before: flagged to the state (list and task), the order refused with the reason.
        let list = get(&f, "/admin/agreements", &state).await;
        assert!(list.body.contains("Shoreline Family Care"), "{}", list.body);
        assert!(
            !list.body.contains("Hartford Pediatrics"),
            "the home clinic has signed"
        );
        let tasks = get(&f, "/tasks", &state).await;
        assert!(tasks
            .body
            .contains("without a current agreement of a program"));
        let order = [("csrf", coord_csrf.as_str()), ("qty_20", "10")];
        let r = post(&f, "/inventory/orders", &coord, &order).await;
        assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
        assert!(r.body.contains("no current CVP agreement"), "{}", r.body);
        let page = get(&f, "/clinic-tools", &coord).await;
        assert!(page.body.contains("may not order that program's vaccine"));
        assert!(
            !page.body.contains("action=\"/clinic-tools/agreement\""),
            "only the physician signs"
        );

        // The physician sees the text and signs; a missing tick or a one-word name is refused.
        let page = get(&f, "/clinic-tools", &doc).await;
        assert!(
            page.body.contains("CVP-2026.1") && page.body.contains("Vaccine Information Statement")
        );
        let sign = |name: &'static str, agree: bool| {
            let (f, doc, csrf) = (&f, doc.clone(), doc_csrf.clone());
            async move {
                let mut fields = vec![
                    ("csrf", csrf.as_str()),
                    ("program", "cvp"),
                    ("typed_name", name),
                ];
                if agree {
                    fields.push(("agree", "1"));
                }
                post(f, "/clinic-tools/agreement", &doc, &fields).await
            }
        };
        let r = sign("Maria Lopez", false).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("I agree"));
        let r = sign("Maria", true).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("first and last name"));
        let r = sign("Maria  Lopez", true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = get(&f, "/clinic-tools", &coord).await;
        assert!(
            page.body.contains("Maria Lopez") && page.body.contains("Current"),
            "{}",
            page.body
        );
        assert_eq!(rows(&f, AuditAction::Create, "web:drsign").len(), 1);

        // After: off the list, and the order goes through.
        let list = get(&f, "/admin/agreements", &state).await;
        assert!(!list.body.contains("Shoreline Family Care"));
        let r = post(&f, "/inventory/orders", &coord, &order).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // Nobody but the state reads the list.
        assert_eq!(
            get(&f, "/admin/agreements", &coord).await.status,
            StatusCode::FORBIDDEN
        );
    })
}

/// The yearly clean-up reaches the practice as a task, a notification and an e-mail; the
/// practice opens it (page and CSV), which ends the task; another practice may not.
#[test]
fn a_distributed_cleanup_list_reaches_the_practice_once() {
    run(async {
        use ctwiz_core::assessment::coverage::Context;
        use ctwiz_core::assessment::distribution::DistributionKind;
        use ctwiz_store::distributions::DistributionStore;
        use ctwiz_store::usecase::distributions;
        use ctwiz_store::UserStore;
        let f = fixture();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord7", true);
        let (cookie, _) = session(&f, coord);
        let s = store(&f);
        let ctx = Context {
            engine: f.state.engine(),
            codes: f.state.codes(),
        };
        let now = chrono::Local::now().naive_local();
        // Ada (two doses, born January 2024) is the home clinic's patient (its MRN).
        {
            use ctwiz_store::PatientStore;
            let mut ada = s.patient(f.in_county).unwrap().unwrap();
            ada.id = Some(f.in_county);
            ada.mrns
                .push(ctwiz_core::patient::Mrn::new(f.home.clone(), "A-1").unwrap());
            s.update_patient(&ada).unwrap();
        }
        let op =
            ctwiz_store::usecase::actors::local_operator("tester", ctwiz_core::actor::Channel::Cli);
        let first =
            distributions::run(&s, &op, &ctx, DistributionKind::Cleanup, None, now).unwrap();
        assert!(
            first.sent >= 1 && first.sent == first.practices,
            "{first:?}"
        );
        let second =
            distributions::run(&s, &op, &ctx, DistributionKind::Cleanup, None, now).unwrap();
        assert_eq!((second.practices, second.sent), (first.practices, 0));
        // A clinic user without reports may not run it.
        let clerk = ctwiz_store::usecase::actors::stored_user(
            &s,
            "coord7",
            None,
            ctwiz_core::actor::Channel::Cli,
        )
        .unwrap();
        assert!(
            distributions::run(&s, &clerk, &ctx, DistributionKind::Cleanup, None, now).is_err()
        );

        let tasks = get(&f, "/tasks", &cookie).await;
        assert!(
            tasks
                .body
                .contains("1</strong> report(s) distributed to this practice to review"),
            "{}",
            tasks.body
        );
        let notes = get(&f, "/notifications", &cookie).await;
        assert!(
            notes.body.contains("Yearly two-year-old clean-up"),
            "{}",
            notes.body
        );
        assert_eq!(
            s.outbox(100)
                .unwrap()
                .iter()
                .filter(|m| m
                    .subject
                    .starts_with("CT WiZ: Yearly two-year-old clean-up"))
                .count(),
            1
        );
        let list = get(&f, "/reports/distributed", &cookie).await;
        let id = s.distributions(&f.home).unwrap()[0].id;
        assert!(list.body.contains(&format!("/reports/distributed/{id}")));
        let page = get(&f, &format!("/reports/distributed/{id}"), &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("not up to date"), "{}", page.body);
        let csv = get(&f, &format!("/reports/distributed/{id}?csv=1"), &cookie).await;
        assert!(csv.body.starts_with("patient_id,name,dob"), "{}", csv.body);
        let pdf = get(&f, &format!("/reports/distributed/{id}?pdf=1"), &cookie).await;
        assert!(pdf.body.starts_with("%PDF"), "a PDF copy");
        let tasks = get(&f, "/tasks", &cookie).await;
        assert!(!tasks.body.contains("distributed to this practice"));

        // Another practice's coordinator may not open it.
        let (other, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord8", true);
        let mut grants = s.account_by_id(other).unwrap().unwrap().user.grants;
        grants[0].scope = ctwiz_core::access::Scope::Clinic(f.other.clone());
        s.set_grants(other, &grants).unwrap();
        let (oc, _) = session(&f, other);
        let r = get(&f, &format!("/reports/distributed/{id}"), &oc).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    })
}
