//! Onboarding through HTTP: the clinic's coordinator files the Application for Electronic
//! Reporting, DPH moves the clinic through QA and the DQA review (sending it back once,
//! with notes) to production, the clinic follows every step and then downloads the
//! notice to patients.

mod common;

use axum::http::StatusCode;
use common::*;
use ctwiz_core::access::Role;
use ctwiz_store::interface::{InterfaceStatus, InterfaceStore};
use ctwiz_store::test_support::run;

#[test]
fn a_clinic_goes_from_application_to_production_through_the_web() {
    run(async {
        let f = fixture();
        let pin = f.home.to_string();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coord", true);
        let (clinic_cookie, clinic_csrf) = session(&f, coord);
        let (dph, _) = user(&f, Role::StateAdmin, "dphadmin", true);
        let (dph_cookie, dph_csrf) = session(&f, dph);

        let r = get(&f, "/onboarding", &clinic_cookie).await;
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/onboarding/{pin}").as_str())
        );
        let form = get(&f, &format!("/onboarding/{pin}"), &clinic_cookie).await;
        assert!(
            form.body.contains("Application for Electronic Reporting"),
            "{}",
            form.body
        );
        let apply = format!("/onboarding/{pin}/apply");
        let r = post(
            &f,
            &apply,
            &clinic_cookie,
            &[
                ("csrf", &clinic_csrf),
                ("method", "ehr-hl7"),
                ("contact_name", "Pat Lee"),
                ("contact_email", "pat@clinic.example"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("vendor and product"), "{}", r.body);
        let r = post(
            &f,
            &apply,
            &clinic_cookie,
            &[
                ("csrf", &clinic_csrf),
                ("method", "ehr-hl7"),
                ("vendor", "Acme EHR"),
                ("product", "Peds 9"),
                ("contact_name", "Pat Lee"),
                ("contact_email", "pat@clinic.example"),
            ],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        let s = store(&f);
        assert_eq!(s.interface_status(&f.home).unwrap(), InterfaceStatus::Qa);

        // DPH sees it and moves it on; the clinic cannot.
        let list = get(&f, "/onboarding", &dph_cookie).await;
        assert!(
            list.body.contains(&pin) && list.body.contains("Application received"),
            "{}",
            list.body
        );
        let advance = format!("/onboarding/{pin}/advance");
        let r = post(
            &f,
            &advance,
            &clinic_cookie,
            &[("csrf", &clinic_csrf), ("to", "connectivity")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        for to in ["connectivity", "qa", "dqa-review"] {
            let r = post(
                &f,
                &advance,
                &dph_cookie,
                &[("csrf", &dph_csrf), ("to", to)],
            )
            .await;
            assert!(r.status.is_redirection(), "{to}: {}: {}", r.status, r.body);
        }
        let tasks = get(&f, "/tasks", &dph_cookie).await;
        assert!(
            tasks.body.contains("wait for their DQA review"),
            "{}",
            tasks.body
        );
        let review = get(&f, &format!("/onboarding/{pin}"), &dph_cookie).await;
        assert!(review.body.contains("Send back to QA") && review.body.contains("QA messages"));
        let r = post(
            &f,
            &advance,
            &dph_cookie,
            &[("csrf", &dph_csrf), ("to", "qa")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("what the clinic must fix"), "{}", r.body);
        let r = post(
            &f,
            &advance,
            &dph_cookie,
            &[
                ("csrf", &dph_csrf),
                ("to", "qa"),
                ("notes", "send RXA-9 on every dose"),
            ],
        )
        .await;
        assert!(r.status.is_redirection());
        let r = post(
            &f,
            &advance,
            &dph_cookie,
            &[("csrf", &dph_csrf), ("to", "production")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "no jump past the review");
        for to in ["dqa-review", "production"] {
            let r = post(
                &f,
                &advance,
                &dph_cookie,
                &[("csrf", &dph_csrf), ("to", to)],
            )
            .await;
            assert!(r.status.is_redirection(), "{to}: {}", r.body);
        }
        assert_eq!(
            s.interface_status(&f.home).unwrap(),
            InterfaceStatus::Production
        );

        // The clinic follows every step and hands out the notice.
        let mine = get(&f, &format!("/onboarding/{pin}"), &clinic_cookie).await;
        for what in [
            "Live in production",
            "send RXA-9 on every dose",
            "DQA review by DPH",
            "Notice to Patients",
        ] {
            assert!(mine.body.contains(what), "{what}: {}", mine.body);
        }
        assert!(!mine.body.contains("Move the clinic on"));
        let home = get(&f, "/", &clinic_cookie).await;
        assert!(
            home.body.contains("Onboarding: Live in production"),
            "{}",
            home.body
        );
        let notice = get(&f, &format!("/onboarding/{pin}/notice"), &clinic_cookie).await;
        assert_eq!(notice.status, StatusCode::OK);
        assert!(
            notice.body.contains("NOTICE TO PATIENTS")
                && notice.body.contains("AVISO A LOS PACIENTES")
        );

        // Another clinic's onboarding is not this clinic's to see.
        let other = get(&f, &format!("/onboarding/{}", f.other), &clinic_cookie).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN);
    })
}

/// The direct-entry path: after DPH registers the clinic's training, the first staff
/// member the coordinator adds (a change request DPH approves) moves the onboarding on by
/// itself; going live stays DPH's step.
#[test]
fn a_direct_entry_clinic_moves_on_when_its_staff_is_added() {
    run(async {
        use ctwiz_core::onboarding::Stage;
        use ctwiz_store::clinic_info::ChangeRequestStore;
        use ctwiz_store::onboarding::OnboardingStore;
        let f = fixture();
        let pin = f.home.to_string();
        let (coord, _) = user(&f, Role::PrimaryVaccineCoordinator, "coordui", true);
        let (cookie, csrf) = session(&f, coord);
        let (dph, _) = user(&f, Role::StateAdmin, "dphui", true);
        let (dph_cookie, dph_csrf) = session(&f, dph);
        let r = post(
            &f,
            &format!("/onboarding/{pin}/apply"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("method", "ui"),
                ("contact_name", "Pat Lee"),
                ("contact_email", "pat@clinic.example"),
            ],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        let stage = || {
            store(&f)
                .onboarding(&f.home)
                .unwrap()
                .expect("onboarding")
                .stage
        };
        let r = post(
            &f,
            &format!("/onboarding/{pin}/advance"),
            &dph_cookie,
            &[("csrf", &dph_csrf), ("to", "training")],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        assert_eq!(stage(), Stage::TrainingRegistered);
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
                ("training_course", "CT WiZ data entry"),
                ("training_date", "2025-02-03"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            stage(),
            Stage::TrainingRegistered,
            "not before DPH approves"
        );
        let id = store(&f).change_requests(Some(&f.home), None).unwrap()[0].id;
        let r = post(
            &f,
            &format!("/admin/change-requests/{id}/approve"),
            &dph_cookie,
            &[("csrf", &dph_csrf)],
        )
        .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
        assert_eq!(stage(), Stage::StaffAdded);
        let shown = get(&f, &format!("/onboarding/{pin}"), &cookie).await;
        assert!(
            shown
                .body
                .contains("staff added by the clinic&#39;s coordinator")
                || shown
                    .body
                    .contains("staff added by the clinic's coordinator"),
            "{}",
            &shown.body[shown.body.find("<main>").unwrap_or(0)..]
        );
    })
}
