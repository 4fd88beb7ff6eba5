//! Deduplication through the store: the review queue, merges and "not a duplicate".

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose::{Dose, InformationSource, Observation, ObservationKind};
use ctwiz_core::ids::*;
use ctwiz_core::patient::{Mrn, Patient, PersonName, Sex};
use ctwiz_store::dedup::DedupStore;
use ctwiz_store::interface::InterfaceStore;
use ctwiz_store::web::WebStore;
use ctwiz_store::*;
use proptest::prelude::*;

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("valid time")
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).expect("valid date")
}

fn pin(s: &str) -> ClinicPin {
    ClinicPin::new(s).expect("pin")
}

fn dose(cvx: &str, date: NaiveDate, lot: Option<&str>) -> Dose {
    let mut d = Dose::new(
        Cvx::new(cvx).expect("cvx"),
        date,
        InformationSource::NewRecord,
    );
    d.lot = lot.map(|l| LotNumber::new(l).expect("lot"));
    d
}

fn person(given: &str, mrn: Option<(&str, &str)>) -> Patient {
    let mut p = Patient::new(
        PersonName::new("Rivera", given).expect("name"),
        day(1, 1),
        Sex::Female,
    )
    .expect("patient");
    if let Some((c, v)) = mrn {
        p.mrns.push(Mrn::new(pin(c), v).expect("mrn"));
    }
    p
}

/// Survivor: Luz, MRN A at C1, DTaP on 3-1 and Hep B on 1-2.
/// Duplicate: Lucia, MRN B at C2, DTaP on 3-1 (the same event, from another provider),
/// IPV on 3-1 and MMR on 5-5; one contraindication; one repeated immunity observation.
fn pair(s: &SqliteStore) -> (PatientId, PatientId) {
    let a = s
        .create_patient_with_doses(
            &person("Luz", Some(("C1", "A"))),
            &[
                dose("20", day(3, 1), Some("L1")),
                dose("08", day(1, 2), None),
            ],
        )
        .expect("survivor");
    let mut dup = person("Lucia", Some(("C2", "B")));
    dup.name.middle = Some("Maria".into());
    dup.mothers_maiden_name = Some("Ortiz".into());
    let b = s
        .create_patient_with_doses(
            &dup,
            &[
                dose("20", day(3, 1), None),
                dose("10", day(3, 1), None),
                dose("03", day(5, 5), None),
            ],
        )
        .expect("duplicate");
    let immunity = Observation {
        kind: ObservationKind::Immunity,
        code: "38907003".into(),
        text: "History of varicella".into(),
        date: day(2, 2),
    };
    s.add_observation(a, &immunity).expect("obs");
    s.add_observation(b, &immunity).expect("obs");
    s.add_observation(
        b,
        &Observation {
            kind: ObservationKind::Contraindication,
            code: "03".into(),
            text: "Allergy to egg ingestion".into(),
            date: day(2, 3),
        },
    )
    .expect("obs");
    s.flag_for_dedup_review(b, a, "hl7:C2", at()).expect("flag");
    (a, b)
}

fn mrn_pairs(p: &Patient) -> Vec<(String, String)> {
    let mut v: Vec<_> = p
        .mrns
        .iter()
        .map(|m| (m.clinic.to_string(), m.value.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn the_queue_shows_both_records_with_their_dose_counts() {
    let s = common::store();
    let (a, b) = pair(&s);
    let page = s.dedup_queue(10, 0).expect("queue");
    assert_eq!(page.total, 1);
    let row = &page.rows[0];
    assert_eq!((row.patient.id(), row.candidate.id()), (b, a));
    assert_eq!(row.patient.live_doses, 3);
    assert_eq!(row.candidate.live_doses, 2);
    assert_eq!(row.patient.patient.mrns[0].value, "B");
    assert_eq!(row.source, "hl7:C2");
    assert_eq!(s.dedup_pair(row.review).expect("pair").as_ref(), Some(row));
    // Flagging the same pair again (either way round) does not queue it twice.
    s.flag_for_dedup_review(a, b, "hl7:C1", at()).expect("flag");
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 1);
    assert!(s.dedup_queue(10, 1).expect("page 2").rows.is_empty());
}

#[test]
fn merge_moves_everything_and_drops_repeated_doses() {
    let s = common::store();
    let (a, b) = pair(&s);
    let out = s
        .merge_patients(a, b, "dph.admin", Interface::Cli, at())
        .expect("merge");
    assert_eq!(
        (out.doses_moved, out.doses_repeated, out.mrns_moved),
        (2, 1, 1)
    );
    assert_eq!((out.observations_moved, out.observations_repeated), (1, 1));
    assert_eq!(out.reviews_resolved, 1);

    // Doses: DTaP once, plus Hep B, IPV, MMR.
    let doses = s.doses(a).expect("doses");
    let mut cvx: Vec<_> = doses.iter().map(|d| d.cvx.to_string()).collect();
    cvx.sort();
    assert_eq!(cvx, ["03", "08", "10", "20"]);
    assert!(s.doses(b).expect("none left").is_empty());
    assert_eq!(s.observations(a).expect("obs").len(), 2);
    assert!(s.observations(b).expect("obs").is_empty());

    // Demographics: survivor's name wins, empty fields filled, both MRNs, lookups resolve.
    let p = s.patient(a).expect("load").expect("survivor");
    assert_eq!(p.name.given, "Luz");
    assert_eq!(p.name.middle.as_deref(), Some("Maria"));
    assert_eq!(p.mothers_maiden_name.as_deref(), Some("Ortiz"));
    assert_eq!(
        mrn_pairs(&p),
        [("C1".into(), "A".into()), ("C2".into(), "B".into())]
    );
    assert_eq!(s.find_by_mrn(&pin("C2"), "B").expect("mrn"), Some(a));
    assert_eq!(s.merged_into(b).expect("tombstone"), Some(a));
    assert_eq!(s.merged_into(a).expect("live"), None);

    // The tombstone stays readable, but is never a search or cohort result.
    assert!(s.patient(b).expect("load").is_some());
    let by_id = s
        .search_patients(&PatientQuery {
            id: Some(b),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(by_id.rows.iter().map(|r| r.id).collect::<Vec<_>>(), [a]);
    let by_name = s
        .search_patients(&PatientQuery {
            family: Some("Rivera".into()),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(by_name.total, 1);
    assert_eq!(s.patient_count().expect("count"), 1);
    let mut streamed = Vec::new();
    s.for_each_chunk(None, 10, &mut |chunk| {
        streamed.extend(chunk.into_iter().map(|(p, d, _)| (p.id, d.len())));
        Ok(())
    })
    .expect("stream");
    assert_eq!(streamed, [(Some(a), 4)]);
    assert!(s
        .match_candidates(&person("Ana", None))
        .expect("candidates")
        .iter()
        .all(|p| p.id == Some(a)));

    // The queue is empty, the pair is never flagged again, and the audit says who merged.
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    s.flag_for_dedup_review(a, b, "hl7:C1", at()).expect("flag");
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    for id in [a, b] {
        let audit = s.audit_for_patient(id, 10).expect("audit");
        assert!(
            audit
                .iter()
                .any(|e| e.action == AuditAction::Merge && e.actor == "dph.admin"),
            "{audit:?}"
        );
    }
    // A tombstone cannot be edited or merged again.
    let mut stale = s.patient(b).expect("load").expect("tombstone");
    stale.name.given = "Changed".into();
    assert!(s.update_patient(&stale).is_err());
}

#[test]
fn refused_merges_change_nothing() {
    let s = common::store();
    let (a, b) = pair(&s);
    let snapshot = |s: &SqliteStore| {
        (
            s.patient(a).expect("a"),
            s.patient(b).expect("b"),
            s.doses(a).expect("a doses"),
            s.doses(b).expect("b doses"),
            s.dedup_queue(10, 0).expect("queue").total,
        )
    };
    let before = snapshot(&s);
    let itself = s
        .merge_patients(a, a, "x", Interface::Cli, at())
        .unwrap_err();
    assert!(itself.to_string().contains("itself"), "{itself}");
    let unknown = s
        .merge_patients(a, PatientId(999), "x", Interface::Cli, at())
        .unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound { .. }), "{unknown}");
    // An opted-out record is refused by the core rule, after nothing was written.
    let mut opted = s.patient(b).expect("load").expect("b");
    opted
        .opt_out(day(6, 1), "parent's request")
        .expect("opt out");
    s.update_patient(&opted).expect("store opt-out");
    let before_opt = snapshot(&s);
    let e = s
        .merge_patients(a, b, "x", Interface::Cli, at())
        .unwrap_err();
    assert!(e.to_string().contains("opted out"), "{e}");
    assert_eq!(snapshot(&s), before_opt);
    assert_eq!(before.2, snapshot(&s).2);

    // Already merged: neither side may take part in another merge.
    let c = s
        .create_patient(&person("Luna", None))
        .expect("third record");
    s.merge_patients(a, c, "x", Interface::Cli, at())
        .expect("merge c");
    for (sv, dp) in [(a, c), (c, a)] {
        let e = s
            .merge_patients(sv, dp, "x", Interface::Cli, at())
            .unwrap_err();
        assert!(e.to_string().contains("already merged"), "{e}");
    }
}

#[test]
fn not_a_duplicate_closes_the_pair_for_good() {
    let s = common::store();
    let (a, b) = pair(&s);
    s.dismiss_pair(a, b, "dph.admin", Interface::Web, at())
        .expect("dismiss");
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    s.flag_for_dedup_review(b, a, "hl7:C2", at()).expect("flag");
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    // Both records are untouched.
    assert_eq!(s.doses(b).expect("doses").len(), 3);
    assert_eq!(s.patient_count().expect("count"), 2);
    // A pair never queued can be dismissed ahead of time.
    let c = s.create_patient(&person("Luna", None)).expect("c");
    s.dismiss_pair(a, c, "dph.admin", Interface::Web, at())
        .expect("pre-emptive");
    s.flag_for_dedup_review(c, a, "hl7:C2", at()).expect("flag");
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    assert!(s
        .dismiss_pair(a, PatientId(999), "x", Interface::Web, at())
        .is_err());
    assert!(s.dismiss_pair(a, a, "x", Interface::Web, at()).is_err());
}

#[test]
fn merging_re_points_the_duplicates_other_pairs_and_earlier_merges() {
    let s = common::store();
    let (a, b) = pair(&s);
    let c = s.create_patient(&person("Luna", None)).expect("c");
    let d = s.create_patient(&person("Lu", None)).expect("d");
    s.flag_for_dedup_review(c, b, "hl7:C3", at()).expect("flag");
    s.merge_patients(b, d, "x", Interface::Cli, at())
        .expect("d into b");
    s.merge_patients(a, b, "x", Interface::Cli, at())
        .expect("b into a");
    // d was merged into b, which is now merged into a: d resolves to a in one hop.
    assert_eq!(s.merged_into(d).expect("d"), Some(a));
    let page = s.dedup_queue(10, 0).expect("queue");
    assert_eq!(page.total, 1);
    let ids = (page.rows[0].patient.id(), page.rows[0].candidate.id());
    assert_eq!(ids, (c, a));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// However the two histories overlap, after a merge the survivor holds every distinct
    /// (date, vaccine) event of both records, and no event twice unless both records
    /// already had it twice.
    #[test]
    fn merge_never_loses_a_distinct_dose(
        xs in prop::collection::vec((0usize..3, 1u32..5), 0..6),
        ys in prop::collection::vec((0usize..3, 1u32..5), 0..6),
    ) {
        const CVX: [&str; 3] = ["08", "10", "20"];
        let s = common::store();
        let mk = |v: &[(usize, u32)]| -> Vec<Dose> {
            v.iter().map(|(c, d)| dose(CVX[*c], day(2, *d), None)).collect()
        };
        let a = s.create_patient_with_doses(&person("Luz", None), &mk(&xs)).expect("a");
        let b = s.create_patient_with_doses(&person("Lucia", None), &mk(&ys)).expect("b");
        s.merge_patients(a, b, "x", Interface::Cli, at()).expect("merge");
        let key = |d: &Dose| (d.cvx.to_string(), d.date);
        let got: Vec<_> = s.doses(a).expect("doses").iter().map(key).collect();
        let mut expect: std::collections::BTreeSet<_> = mk(&xs).iter().map(key).collect();
        expect.extend(mk(&ys).iter().map(key));
        let got_set: std::collections::BTreeSet<_> = got.iter().cloned().collect();
        prop_assert_eq!(&got_set, &expect);
        // Repeats from the duplicate are dropped; the survivor's own list is unchanged.
        let survivors_only: Vec<_> = mk(&xs).iter().map(key).collect();
        let extra = got.len() - survivors_only.len();
        let new_events = ys.iter().map(|(c, d)| (CVX[*c].to_string(), day(2, *d)))
            .filter(|k| !survivors_only.contains(k)).count();
        prop_assert_eq!(extra, new_events);
    }
}

/// Both records as the store shows them: demographics and MRNs, live doses (with their
/// ids) and observations (as a sorted list: re-inserted ones get new row ids).
fn snapshot(s: &SqliteStore, id: PatientId) -> (Patient, Vec<Dose>, Vec<String>) {
    let mut obs: Vec<String> = s
        .observations(id)
        .expect("observations")
        .iter()
        .map(|o| format!("{:?}|{}|{}|{}", o.kind, o.code, o.text, o.date))
        .collect();
    obs.sort();
    (
        s.patient(id).expect("read").expect("patient"),
        s.doses(id).expect("doses"),
        obs,
    )
}

#[test]
fn unmerge_restores_both_records_and_keeps_what_came_after() {
    let s = common::store();
    let (a, b) = pair(&s);
    let (before_a, before_b) = (snapshot(&s, a), snapshot(&s, b));
    s.merge_patients(a, b, "dph.admin", Interface::Web, at())
        .expect("merge");
    // Recorded on the survivor after the merge: stays there.
    let later = s.add_dose(a, &dose("21", day(6, 6), None)).expect("dose");
    let out = s
        .unmerge_patient(b, "dph.admin", Interface::Cli, at())
        .expect("unmerge");
    assert_eq!((out.survivor, out.duplicate), (a, b));
    assert_eq!(out.doses_returned, 3);
    assert_eq!(out.observations_returned, 2);
    assert!(out.demographics_restored);
    let (pa, da, oa) = snapshot(&s, a);
    assert_eq!(pa, before_a.0);
    assert_eq!(oa, before_a.2);
    assert_eq!(
        da.iter().map(|d| d.id).collect::<Vec<_>>(),
        before_a
            .1
            .iter()
            .map(|d| d.id)
            .chain([Some(later)])
            .collect::<Vec<_>>()
    );
    assert_eq!(snapshot(&s, b), before_b);
    assert_eq!(s.merged_into(b).expect("read"), None);
    assert_eq!(s.find_by_mrn(&pin("C2"), "B").expect("mrn"), Some(b));
    // Settled as different people, audited on both, and not undone twice.
    assert_eq!(s.dedup_queue(10, 0).expect("queue").total, 0);
    for id in [a, b] {
        assert!(s
            .audit_for_patient(id, 50)
            .expect("audit")
            .iter()
            .any(|e| e.action == AuditAction::Unmerge && e.interface == Interface::Cli));
    }
    let again = s.unmerge_patient(b, "dph.admin", Interface::Cli, at());
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

#[test]
fn unmerge_keeps_the_survivors_later_edits_and_undoes_newest_first() {
    let s = common::store();
    let (a, b) = pair(&s);
    let c = s
        .create_patient(&person("Lucy", Some(("C3", "C"))))
        .expect("third");
    s.merge_patients(a, b, "x", Interface::Web, at())
        .expect("merge b");
    let mut edited = s.patient(a).expect("read").expect("a");
    edited.name.middle = Some("Esperanza".into());
    s.update_patient(&edited).expect("edit");
    s.merge_patients(a, c, "x", Interface::Web, at())
        .expect("merge c");
    // b's merge came first: c's must be undone before it.
    let refused = s.unmerge_patient(b, "x", Interface::Web, at());
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("undo that merge first")),
        "{refused:?}"
    );
    let out = s.unmerge_patient(c, "x", Interface::Web, at()).expect("c");
    assert!(out.demographics_restored);
    let out = s.unmerge_patient(b, "x", Interface::Web, at()).expect("b");
    assert!(!out.demographics_restored, "a was edited after b's merge");
    let pa = s.patient(a).expect("read").expect("a");
    assert_eq!(pa.name.middle.as_deref(), Some("Esperanza"));
    assert_eq!(mrn_pairs(&pa), vec![("C1".into(), "A".into())]);
    assert_eq!(s.find_by_mrn(&pin("C2"), "B").expect("mrn"), Some(b));
    assert_eq!(s.find_by_mrn(&pin("C3"), "C").expect("mrn"), Some(c));
    // A record never merged cannot be unmerged.
    assert!(matches!(
        s.unmerge_patient(a, "x", Interface::Web, at()),
        Err(StoreError::Conflict(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Merge then unmerge gives back both records exactly (demographics, MRNs, every live
    /// dose with its id, observations), whatever the two histories share.
    #[test]
    fn merge_then_unmerge_restores_both_records(
        xs in prop::collection::vec((0usize..3, 1u32..5), 0..6),
        ys in prop::collection::vec((0usize..3, 1u32..5), 0..6),
        obs in prop::collection::vec((0usize..2, 0usize..2), 0..4),
        roster in any::<bool>(),
    ) {
        const CVX: [&str; 3] = ["08", "10", "20"];
        let s = common::store();
        let mk = |v: &[(usize, u32)]| -> Vec<Dose> {
            v.iter().map(|(c, d)| dose(CVX[*c], day(2, *d), None)).collect()
        };
        let a = s.create_patient_with_doses(&person("Luz", Some(("C1", "A"))), &mk(&xs)).expect("a");
        let mut dup = person("Lucia", Some(("C2", "B")));
        dup.name.middle = Some("Maria".into());
        let b = s.create_patient_with_doses(&dup, &mk(&ys)).expect("b");
        for (who, code) in &obs {
            let o = Observation {
                kind: ObservationKind::Immunity,
                code: ["38907003", "14189004"][*code].into(),
                text: "History".into(),
                date: day(2, 2),
            };
            s.add_observation([a, b][*who], &o).expect("obs");
        }
        if roster {
            s.add_clinic(&ctwiz_core::org::Clinic::new(
                pin("S1"), "School", ctwiz_core::org::County::Hartford,
                ctwiz_core::org::ProgramType::Cvp).expect("clinic")).expect("add clinic");
            s.add_to_roster(&pin("S1"), b, "nurse", at()).expect("roster");
        }
        let (before_a, before_b) = (snapshot(&s, a), snapshot(&s, b));
        s.merge_patients(a, b, "x", Interface::Cli, at()).expect("merge");
        s.unmerge_patient(b, "x", Interface::Cli, at()).expect("unmerge");
        prop_assert_eq!(snapshot(&s, a), before_a);
        prop_assert_eq!(snapshot(&s, b), before_b);
        if roster {
            prop_assert_eq!(s.roster(&pin("S1")).expect("roster"), vec![b]);
        }
    }
}

/// Ingest's name counts: live records per given name (as the matcher normalizes it), a
/// merged record no longer counted, and how many records the registry has stored.
#[test]
fn given_name_counts_count_live_records_by_their_name() {
    let s = common::store();
    let empty = s.given_name_counts(&["JAYDEN"]).expect("counts");
    assert_eq!((empty.records, empty.counts["JAYDEN"]), (0, 0));
    let mut ids = Vec::new();
    for given in ["Jayden", "jayden", "Jáyden", "Jaden", "Test1"] {
        ids.push(s.create_patient(&person(given, None)).expect("create"));
    }
    let c = s
        .given_name_counts(&["JAYDEN", "JADEN", "OLIVIA", "TEST1", "JAYDEN"])
        .expect("counts");
    assert_eq!(c.records, 5);
    assert_eq!(c.counts.len(), 4);
    assert_eq!(
        (c.counts["JAYDEN"], c.counts["JADEN"], c.counts["OLIVIA"]),
        (3, 1, 0)
    );
    // The store keys names by their letters: "Test1" is counted as "TEST".
    assert_eq!(c.counts["TEST1"], 1);
    s.merge_patients(ids[0], ids[1], "dph.admin", Interface::Cli, at())
        .expect("merge");
    let c = s.given_name_counts(&["JAYDEN"]).expect("counts");
    assert_eq!((c.records, c.counts["JAYDEN"]), (5, 2));
}

/// PID-24 is kept with the record (in its stored detail, as the birth order is).
#[test]
fn a_reported_multiple_birth_is_stored_and_read_back() {
    let s = common::store();
    for (multiple, order) in [
        (Some(true), Some(2)),
        (Some(true), None),
        (Some(false), None),
        (None, None),
    ] {
        let mut p = person("Jayden", None);
        p.multiple_birth = multiple;
        p.birth_order = order;
        let id = s.create_patient(&p).expect("create");
        let back = s.patient(id).expect("read").expect("stored");
        assert_eq!((back.multiple_birth, back.birth_order), (multiple, order));
        let mut changed = back.clone();
        changed.multiple_birth = Some(true);
        s.update_patient(&changed).expect("update");
        let back = s.patient(id).expect("read").expect("stored");
        assert_eq!(back.multiple_birth, Some(true));
    }
}
