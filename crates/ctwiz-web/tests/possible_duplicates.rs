//! Possible duplicates over HTTP: the review queue as clusters, strongest match first,
//! each pair with its score and each field's evidence; and the warning on "Add a patient"
//! when the new record may already be in the registry.

mod common;

use chrono::NaiveDate;
use common::*;
use ctwiz_core::access::Role;
use ctwiz_core::actor::Channel;
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::test_support::run;
use ctwiz_store::usecase::dedup::{scan, ScanOptions};
use ctwiz_store::{AuditStore, PatientStore};

#[test]
fn the_queue_shows_clusters_with_scores_and_evidence() {
    run(async {
        let f = fixture();
        // Three records of one child (a typo, a swapped day and month) besides the fixture's
        // pair flagged by ingest; the duplicate scan queues them.
        let s = store(&f);
        for (given, family, m, d) in [
            ("Marisol", "Quintanilla", 3, 4),
            ("Marisol", "Quintanila", 3, 4),
            ("Marisol", "Quintanilla", 4, 3),
        ] {
            let p = Patient::new(
                PersonName::new(family, given).unwrap(),
                NaiveDate::from_ymd_opt(2023, m, d).unwrap(),
                Sex::Female,
            )
            .unwrap();
            s.create_patient(&p).unwrap();
        }
        let operator = ctwiz_store::usecase::actors::local_operator("tester", Channel::Cli);
        let now = NaiveDate::from_ymd_opt(2025, 2, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let r = scan(&s, &operator, ScanOptions::default(), now, &mut |_| {}).unwrap();
        assert!(r.queue.queued >= 2, "{r:?}");
        drop(s);

        let (id, _) = user(&f, Role::StateAdmin, "dph1", true);
        let (cookie, _) = session(&f, id);
        let page = get(&f, "/patients/duplicates", &cookie).await;
        assert_eq!(page.status, 200);
        let body = &page.body;
        assert!(
            body.contains("in 2 cluster(s) waiting for review"),
            "{body}"
        );
        // The scanned cluster (three records of one child) scores higher than the fixture's
        // uncertain pair, so it comes first; both show evidence.
        let quin = body
            .find("QUINTANILLA")
            .or_else(|| body.find("Quintanilla"))
            .expect("cluster");
        let test = body
            .find("TESTCHILD")
            .or_else(|| body.find("Testchild"))
            .expect("fixture pair");
        assert!(quin < test, "strongest first");
        assert!(
            body.contains("Cluster 1") && body.contains("Cluster 2"),
            "{body}"
        );
        assert!(body.contains("3 records"), "{body}");
        assert!(body.contains("birth date: exact (+"), "{body}");
        assert!(
            body.contains("birth date: day and month transposed"),
            "{body}"
        );
        assert!(body.contains("dedup scan by cli:tester"), "{body}");
        assert!(body.contains("hl7:test"), "{body}");
    })
}

#[test]
fn adding_a_child_already_in_the_registry_asks_first() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "registrar", true);
        let (cookie, csrf) = session(&f, id);
        // The fixture's Ada Testchild, born 2024-01-15, typed again with a slip in the name.
        let form = [
            ("csrf", csrf.as_str()),
            ("family", "Testchilde"),
            ("given", "Ada"),
            ("dob", "2024-01-15"),
            ("sex", "F"),
            ("state", "CT"),
        ];
        let before = store(&f).patient_count().unwrap();
        let r = post(&f, "/patients/new", &cookie, &form).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(
            r.body.contains("may already be in the registry"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains(&format!("href=\"/patients/{}\"", f.in_county)),
            "the existing record is linked: {}",
            r.body
        );
        assert!(r.body.contains("birth date: exact (+"), "{}", r.body);
        assert!(r.body.contains("name=\"confirm_new\""), "{}", r.body);
        assert!(
            r.body.contains("Testchilde"),
            "the form keeps what was typed"
        );
        assert_eq!(store(&f).patient_count().unwrap(), before, "nothing stored");
        // The disclosure of the existing record is audited on it.
        assert!(store(&f)
            .audit_for_patient(f.in_county, 20)
            .unwrap()
            .iter()
            .any(|a| a.detail.starts_with("shown as a possible duplicate")));
        // Confirmed: a new record.
        let mut confirmed = form.to_vec();
        confirmed.push(("confirm_new", "1"));
        let r = post(&f, "/patients/new", &cookie, &confirmed).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(store(&f).patient_count().unwrap(), before + 1);
    })
}
