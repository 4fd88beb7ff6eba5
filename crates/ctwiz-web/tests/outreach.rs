//! IAP outreach through HTTP: a practice refers a child who is behind; the IAP
//! coordinator of the child's area is notified, records an attempt and closes the
//! referral; closed referrals take no more work; others see nothing.

mod common;

use axum::http::StatusCode;
use common::*;
use ctwiz_core::access::Role;
use ctwiz_store::test_support::run;

#[test]
fn a_referral_is_handled_by_the_iap_coordinator_of_the_childs_area() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "nurse", true);
        let (nurse_cookie, nurse_csrf) = session(&f, nurse);
        let (iap, _) = user(&f, Role::IapCoordinator, "iapcoord", true);
        let (iap_cookie, iap_csrf) = session(&f, iap);

        // The practice's lists of children behind offer the referral, prefilled (the child
        // is the practice's patient: its MRN).
        {
            use ctwiz_store::PatientStore;
            let s = store(&f);
            let mut p = s.patient(f.in_county).unwrap().unwrap();
            p.mrns.insert(
                0,
                ctwiz_core::patient::Mrn::new(f.home.clone(), "HP-1").unwrap(),
            );
            s.update_patient(&p).unwrap();
        }
        let cleanup = get(&f, "/reports/cleanup?run=1", &nurse_cookie).await;
        assert!(
            cleanup
                .body
                .contains(&format!("/outreach?patient={}&amp;reason=", f.in_county)),
            "{}",
            cleanup.body
        );
        // The practice sees the referral form; the child lives in Hartford (ZIP 06101).
        let page = get(&f, "/outreach", &nurse_cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("name=\"reason\""), "{}", page.body);
        let child = f.in_county.to_string();
        let r = post(
            &f,
            "/outreach",
            &nurse_cookie,
            &[
                ("csrf", &nurse_csrf),
                ("patient", &child),
                ("reason", "4+ DTaP; 1+ MMR"),
            ],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        // A second referral while one is open is refused, naming it.
        let r = post(
            &f,
            "/outreach",
            &nurse_cookie,
            &[
                ("csrf", &nurse_csrf),
                ("patient", &child),
                ("reason", "again"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("already has open referral"), "{}", r.body);
        // A child whose address places them in no IAP area cannot be referred.
        let elsewhere = f.out_county.to_string();
        let r = post(
            &f,
            "/outreach",
            &nurse_cookie,
            &[
                ("csrf", &nurse_csrf),
                ("patient", &elsewhere),
                ("reason", "1+ MMR"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("no IAP area"), "{}", r.body);

        // The coordinator is told, sees the referral and works it.
        let home = get(&f, "/", &iap_cookie).await;
        assert!(home.body.contains("New referral"), "{}", home.body);
        let tasks = get(&f, "/tasks", &iap_cookie).await;
        assert!(
            tasks.body.contains("open IAP referral(s) to work"),
            "{}",
            tasks.body
        );
        let list = get(&f, "/outreach", &iap_cookie).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("Hartford IAP") && list.body.contains("4+ DTaP; 1+ MMR"));
        assert!(
            !list.body.contains("name=\"reason\""),
            "coordinators work, practices refer"
        );
        let id = list
            .body
            .split("id=\"referral-")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a referral card")
            .to_string();
        let r = post(
            &f,
            &format!("/outreach/{id}/attempt"),
            &iap_cookie,
            &[
                ("csrf", &iap_csrf),
                ("method", "home-visit"),
                ("note", "left a note"),
            ],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        // The practice cannot work the referral itself.
        let r = post(
            &f,
            &format!("/outreach/{id}/close"),
            &nurse_cookie,
            &[("csrf", &nurse_csrf), ("outcome", "up-to-date")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post(
            &f,
            &format!("/outreach/{id}/close"),
            &iap_cookie,
            &[
                ("csrf", &iap_csrf),
                ("outcome", "new-provider"),
                ("note", "Dr. Reyes, Hartford"),
            ],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        let r = post(
            &f,
            &format!("/outreach/{id}/attempt"),
            &iap_cookie,
            &[("csrf", &iap_csrf), ("method", "phone")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("was closed"), "{}", r.body);

        // The practice sees the outcome; the attempt and the outcome are on the record's trail.
        let mine = get(&f, "/outreach?show=all", &nurse_cookie).await;
        assert!(mine.body.contains("New primary care provider identified"));
        assert!(mine.body.contains("Home visit") && mine.body.contains("Dr. Reyes, Hartford"));
        let s = store(&f);
        let trail = ctwiz_store::AuditStore::audit_for_patient(&s, f.in_county, 50).unwrap();
        for what in [
            "referred to Hartford IAP",
            "Home visit",
            "closed: New primary care provider",
        ] {
            assert!(
                trail.iter().any(|e| e.detail.contains(what)),
                "{what}: {trail:?}"
            );
        }

        // A health department user has no outreach screen.
        let (hd, _) = user(&f, Role::HealthDepartmentReadOnly, "hd1", true);
        let (hd_cookie, _) = session(&f, hd);
        assert_eq!(
            get(&f, "/outreach", &hd_cookie).await.status,
            StatusCode::FORBIDDEN
        );
    })
}
