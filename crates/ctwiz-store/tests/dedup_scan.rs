//! The duplicate scan and the queue's cluster view, through the use cases.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::ids::*;
use ctwiz_core::org::County;
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::dedup::DedupStore;
use ctwiz_store::interface::{InterfaceStore, MAX_OPEN_REVIEWS_PER_RECORD};
use ctwiz_store::usecase::dedup::{clusters_page, scan, ScanModel, ScanOptions};
use ctwiz_store::usecase::UseCaseError;
use ctwiz_store::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("valid time")
}

fn operator() -> Actor {
    ctwiz_store::usecase::actors::local_operator("tester", Channel::Cli)
}

/// A synthetic registry with its own duplicates stored as separate records; returns the
/// (original, duplicate) id pairs.
fn registry(children: u64) -> (SqliteStore, Vec<(PatientId, PatientId)>) {
    let s = common::store();
    let cfg = SynthConfig {
        children,
        clinics: 4,
        seed: 11,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
    };
    for c in synth::clinics(&cfg) {
        s.add_clinic(&c).expect("clinic");
    }
    let mut dups = Vec::new();
    for i in 0..children {
        let c = synth::child(&cfg, i);
        let a = s
            .create_patient_with_doses(&c.patient, &c.doses)
            .expect("child");
        if let Some((p, d)) = &c.duplicate {
            dups.push((a, s.create_patient_with_doses(p, d).expect("duplicate")));
        }
    }
    (s, dups)
}

fn open_pairs(s: &SqliteStore) -> BTreeSet<(PatientId, PatientId)> {
    s.open_reviews()
        .expect("open")
        .iter()
        .map(|r| (r.patient.min(r.candidate), r.patient.max(r.candidate)))
        .collect()
}

#[test]
fn a_scan_queues_the_registrys_duplicates_and_links_nothing() {
    let (s, dups) = registry(400);
    assert!(dups.len() >= 3, "the synthetic registry has duplicates");
    let before = s.patient_count().expect("count");
    let r = scan(&s, &operator(), ScanOptions::default(), at(), &mut |_| {}).expect("scan");
    assert_eq!(r.records, before);
    assert!(
        !r.model_fitted,
        "400 records are too few to fit: the default model"
    );
    assert_eq!(r.merged, 0);
    assert_eq!(s.patient_count().expect("count"), before, "nothing merged");
    let queued = open_pairs(&s);
    for (a, b) in &dups {
        assert!(queued.contains(&(*a.min(b), *a.max(b))), "{a}/{b} queued");
    }
    assert_eq!(r.queue.queued as usize, queued.len());
    // The queue shows them as clusters with the scan's score and evidence.
    let page = clusters_page(&s, &operator(), 200, 0, at()).expect("page");
    assert_eq!(page.total_pairs as usize, queued.len());
    let best: Vec<f64> = page.clusters.iter().map(|c| c.best()).collect();
    assert!(best.windows(2).all(|w| w[0] >= w[1]), "sorted by score");
    let first = &page.clusters[0].pairs[0];
    assert_eq!(
        first.scored_by,
        ctwiz_store::usecase::dedup_clusters::ScoredBy::Scan
    );
    assert!(first.evidence.iter().any(|e| e.weight > 0.0));
    // A second scan queues nothing new: the pairs are known.
    let again = scan(&s, &operator(), ScanOptions::default(), at(), &mut |_| {}).expect("scan");
    assert_eq!(again.queue.queued, 0);
    assert_eq!(again.queue.known, r.queue.queued);
    // The scan is audited.
    let audit = s
        .audit_query(&AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.detail.starts_with("duplicate scan of")));
}

#[test]
fn a_scan_with_link_merges_the_sure_pairs_and_they_can_be_undone() {
    let (s, dups) = registry(300);
    let before = s.patient_count().expect("count");
    let opts = ScanOptions {
        link: true,
        ..ScanOptions::default()
    };
    let r = scan(&s, &operator(), opts, at(), &mut |_| {}).expect("scan");
    assert!(r.merged >= 1, "{r:?}");
    assert_eq!(s.patient_count().expect("count"), before - r.merged);
    let merged: Vec<_> = dups
        .iter()
        .filter(|(_, d)| s.merged_into(*d).expect("lookup").is_some())
        .collect();
    assert_eq!(
        merged.len() as u64,
        r.merged,
        "only the known duplicates merged"
    );
    let (a, d) = merged[0];
    assert_eq!(
        s.merged_into(*d).expect("lookup"),
        Some(*a),
        "into the older record"
    );
    ctwiz_store::usecase::dedup::unmerge(&s, &operator(), *d, at()).expect("unmerge");
    assert_eq!(s.merged_into(*d).expect("lookup"), None);
}

#[test]
fn the_default_model_scores_unless_a_fit_is_asked_for_on_a_large_registry() {
    let (s, _) = registry(1_100);
    let opts = ScanOptions {
        model: ScanModel::Fitted,
        ..ScanOptions::default()
    };
    let fitted = scan(&s, &operator(), opts, at(), &mut |_| {}).expect("scan");
    assert!(fitted.model_fitted);
    let (s, _) = registry(1_100);
    let default = scan(&s, &operator(), ScanOptions::default(), at(), &mut |_| {}).expect("scan");
    assert!(!default.model_fitted);
    assert!(fitted.queue.queued > 0 && default.queue.queued > 0);
}

#[test]
fn only_statewide_merge_permission_may_scan() {
    let (s, _) = registry(20);
    let mut u = User::new(
        Username::new("coord").expect("name"),
        "Coordinator",
        Email::new("c@example.org").expect("email"),
    )
    .expect("user");
    let pin = synth::clinics(&SynthConfig {
        children: 1,
        clinics: 4,
        seed: 11,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
    })[0]
        .pin
        .clone();
    u.grant(
        Grant::new(Role::PrimaryVaccineCoordinator, Scope::Clinic(pin.clone())).expect("grant"),
    );
    let clinic_user = Actor::new(
        u,
        Acting::Clinic {
            pin,
            at: ctwiz_core::place::Locality::county(County::Hartford),
        },
        Channel::Cli,
    );
    let e = scan(&s, &clinic_user, ScanOptions::default(), at(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, UseCaseError::Denied(_)), "{e}");
    assert!(open_pairs(&s).is_empty());
}

/// Look-alike records: a few family names, shared birth dates and addresses, so blocks
/// are crowded and many pairs score in the review band.
fn look_alikes() -> impl Strategy<Value = Vec<(usize, usize, u32, bool)>> {
    prop::collection::vec((0usize..4, 0usize..5, 1u32..4, any::<bool>()), 2..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the registry, after a scan (and an ingest flag on top) no record waits in
    /// more than `MAX_OPEN_REVIEWS_PER_RECORD` open reviews, and the queue's clusters
    /// partition exactly the records of the open reviews.
    #[test]
    fn scan_clusters_partition_the_queued_records(people in look_alikes()) {
        const FAMILY: [&str; 4] = ["Tymczak", "Tymczack", "Rivera", "Riviera"];
        const GIVEN: [&str; 5] = ["Olivia", "Olivya", "Liv", "Sophia", "Ana"];
        let s = common::store();
        let mut ids = Vec::new();
        for (f, g, day, female) in &people {
            let mut p = Patient::new(
                PersonName::new(FAMILY[*f], GIVEN[*g]).expect("name"),
                NaiveDate::from_ymd_opt(2024, 1, *day).expect("dob"),
                if *female { Sex::Female } else { Sex::Male },
            ).expect("patient");
            p.addresses.push(ctwiz_core::patient::Address {
                street: "12 Main St".into(),
                city: "Hartford".into(),
                state: "CT".into(),
                zip: Zip::new("06106").expect("zip"),
                county: None,
                kind: None,
            });
            ids.push(s.create_patient(&p).expect("stored"));
        }
        s.flag_for_dedup_review(ids[1], ids[0], "hl7:C1", at()).expect("flag");
        scan(&s, &operator(), ScanOptions::default(), at(), &mut |_| {}).expect("scan");
        let open = s.open_reviews().expect("open");
        let mut per_record: BTreeMap<PatientId, u32> = BTreeMap::new();
        for r in &open {
            *per_record.entry(r.patient).or_default() += 1;
            *per_record.entry(r.candidate).or_default() += 1;
        }
        for (id, n) in &per_record {
            prop_assert!(*n <= MAX_OPEN_REVIEWS_PER_RECORD, "record {} in {} open reviews", id, n);
        }
        let page = clusters_page(&s, &operator(), 200, 0, at()).expect("page");
        let mut seen = BTreeSet::new();
        for c in &page.clusters {
            for r in &c.records {
                prop_assert!(seen.insert(r.id()), "record {} in two clusters", r.id());
            }
            for p in &c.pairs {
                prop_assert!(c.records.iter().any(|r| r.id() == p.a));
                prop_assert!(c.records.iter().any(|r| r.id() == p.b));
            }
        }
        prop_assert_eq!(seen, per_record.keys().copied().collect::<BTreeSet<_>>());
        prop_assert_eq!(page.total_pairs as usize, open.len());
    }
}
