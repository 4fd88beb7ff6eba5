//! The possible-duplicates page over HTTP: the queue as clusters, strongest match first,
//! each pair with its score and each field's evidence.

mod common;

use chrono::NaiveDate;
use common::*;
use ctwiz_core::access::Role;
use ctwiz_core::actor::Channel;
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::usecase::dedup::{scan, ScanOptions};
use ctwiz_store::PatientStore;

#[tokio::test]
async fn the_queue_shows_clusters_with_scores_and_evidence() {
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
    assert!(body.contains("in 2 cluster(s) waiting for review"), "{body}");
    // The scanned cluster (three records of one child) scores higher than the fixture's
    // uncertain pair, so it comes first; both show evidence.
    let quin = body.find("QUINTANILLA").or_else(|| body.find("Quintanilla")).expect("cluster");
    let test = body.find("TESTCHILD").or_else(|| body.find("Testchild")).expect("fixture pair");
    assert!(quin < test, "strongest first");
    assert!(body.contains("Cluster 1") && body.contains("Cluster 2"), "{body}");
    assert!(body.contains("3 records"), "{body}");
    assert!(body.contains("birth date: exact (+"), "{body}");
    assert!(body.contains("birth date: day and month transposed"), "{body}");
    assert!(body.contains("dedup scan by cli:tester"), "{body}");
    assert!(body.contains("hl7:test"), "{body}");
}
