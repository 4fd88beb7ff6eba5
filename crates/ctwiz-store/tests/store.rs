//! Behaviour of the SQLite store: round trips, migrations, search, inventory, concurrency.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{AccountStatus, Grant, Role, Scope, User};
use ctwiz_core::dose::{Dose, InformationSource, Observation, ObservationKind, VisGiven};
use ctwiz_core::ids::*;
use ctwiz_core::inventory::{Lot, Movement, StockFunding, WastageReason};
use ctwiz_core::org::County;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::*;
use proptest::prelude::*;

fn cfg() -> SynthConfig {
    SynthConfig {
        children: 200,
        clinics: 5,
        seed: 11,
        as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    }
}

fn at(h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 2)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

fn seeded() -> SqliteStore {
    let s = common::store();
    for c in synth::clinics(&cfg()) {
        s.add_clinic(&c).unwrap();
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Every field of a patient and its doses survives storage unchanged.
    #[test]
    fn patients_and_doses_round_trip(index in 0u64..100_000) {
        let s = seeded();
        let child = synth::child(&cfg(), index);
        let id = s.create_patient_with_doses(&child.patient, &child.doses).unwrap();
        let mut expected = child.patient.clone();
        expected.id = Some(id);
        prop_assert_eq!(s.patient(id).unwrap().unwrap(), expected);
        let got = s.doses(id).unwrap();
        prop_assert_eq!(got.len(), child.doses.len());
        for (g, e) in got.iter().zip(&child.doses) {
            let mut e = e.clone();
            e.id = g.id;
            e.patient = Some(id);
            prop_assert_eq!(g, &e);
        }
    }
}

#[test]
fn dose_extras_and_observations_round_trip() {
    let s = seeded();
    let child = synth::child(&cfg(), 3);
    let id = s.create_patient(&child.patient).unwrap();
    let mut d = Dose::new(
        Cvx::new("21").unwrap(),
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        InformationSource::NewRecord,
    );
    d.lot = Some(LotNumber::new("V123").unwrap());
    d.amount = Some(ctwiz_core::dose::DoseAmount::new(0.5, "mL").unwrap());
    d.ndc = Some(Ndc::new("00006-4827-00").unwrap());
    d.vis.push(VisGiven {
        document: "253088698300022111180702".into(),
        published: NaiveDate::from_ymd_opt(2021, 8, 6),
        presented: d.date,
    });
    d.clinic = Some(synth::clinic_pin(0));
    d.sender_id = Some("EHR-991".into());
    let did = s.add_dose(id, &d).unwrap();
    let got = s.doses(id).unwrap().pop().unwrap();
    assert_eq!(got.id, Some(did));
    assert_eq!(got.sender_id.as_deref(), Some("EHR-991"));
    assert_eq!(got.vis, d.vis);
    assert_eq!(got.amount, d.amount);
    let o = Observation::new(
        ObservationKind::Immunity,
        "038",
        "History of varicella",
        d.date,
    )
    .unwrap();
    s.add_observation(id, &o).unwrap();
    assert_eq!(s.observations(id).unwrap(), vec![o]);
    s.delete_dose(did, "entered on wrong patient").unwrap();
    assert!(s.doses(id).unwrap().is_empty());
    assert!(s.delete_dose(did, "again").is_err());
    assert!(s.delete_dose(DoseId(999_999), "x").is_err());
}

/// A history is written in multi-row inserts of several sizes; each returned id must be
/// the row of the dose at the same position, whatever the count.
#[test]
fn add_doses_gives_each_dose_its_own_id() {
    let s = seeded();
    let child = synth::child(&cfg(), 4);
    let id = s.create_patient(&child.patient).unwrap();
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for count in [2usize, 3, 31, 32, 33, 63, 64, 65, 71] {
        let doses: Vec<Dose> = (0..count)
            .map(|k| {
                let mut d = Dose::new(
                    Cvx::new("21").unwrap(),
                    first + chrono::Days::new(k as u64),
                    InformationSource::HistoricalUnspecified,
                );
                d.lot = Some(LotNumber::new(&format!("N{count}-{k}")).unwrap());
                d
            })
            .collect();
        let ids = s.add_doses(id, &doses).unwrap();
        assert_eq!(ids.len(), count);
        let stored = s.doses(id).unwrap();
        for (k, did) in ids.iter().enumerate() {
            let got = stored.iter().find(|d| d.id == Some(*did)).unwrap();
            assert_eq!(got.lot, doses[k].lot, "{count} doses, #{k}");
        }
    }
}

#[test]
fn a_failed_multi_row_write_stores_nothing() {
    let s = seeded();
    let a = synth::child(&cfg(), 1);
    s.create_patient(&a.patient).unwrap();
    // Same MRN at the same clinic: the second patient and its doses must not land.
    let mut b = synth::child(&cfg(), 2);
    b.patient.mrns = a.patient.mrns.clone();
    let before = s.patient_count().unwrap();
    let err = s
        .create_patient_with_doses(&b.patient, &b.doses)
        .unwrap_err();
    assert!(err.to_string().contains("already belongs"), "{err}");
    assert_eq!(s.patient_count().unwrap(), before);
}

#[test]
fn search_by_name_prefix_phonetic_dob_and_mrn() {
    let s = seeded();
    let mut ids = Vec::new();
    for i in 0..200 {
        let c = synth::child(&cfg(), i);
        ids.push((s.create_patient(&c.patient).unwrap(), c.patient));
    }
    let (id, p) = &ids[17];
    // Exact family + given prefix.
    let page = s
        .search_patients(&PatientQuery {
            family: Some(p.name.family.to_lowercase()),
            given: Some(p.name.given[..2].into()),
            ..Default::default()
        })
        .unwrap();
    assert!(page.rows.iter().any(|r| r.id == *id));
    assert!(page.rows.iter().all(|r| r.name.family == p.name.family));
    // By birth date.
    let page = s
        .search_patients(&PatientQuery {
            dob: Some(p.dob),
            ..Default::default()
        })
        .unwrap();
    assert!(page.rows.iter().all(|r| r.dob == p.dob) && page.rows.iter().any(|r| r.id == *id));
    // By MRN.
    let mrn = &p.mrns[0];
    assert_eq!(s.find_by_mrn(&mrn.clinic, &mrn.value).unwrap(), Some(*id));
    let page = s
        .search_patients(&PatientQuery {
            mrn: Some(mrn.value.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.rows.len(), 1);
    // Phonetic: a misspelling still finds the record, after exact matches.
    let misspelt: String = p
        .name
        .family
        .chars()
        .rev()
        .skip(1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        + "e";
    let page = s
        .search_patients(&PatientQuery {
            family: Some(misspelt.clone()),
            dob: Some(p.dob),
            phonetic: true,
            ..Default::default()
        })
        .unwrap();
    if ctwiz_core::matching::soundex(&misspelt) == ctwiz_core::matching::soundex(&p.name.family) {
        assert!(
            page.rows.iter().any(|r| r.id == *id),
            "{misspelt} should find {}",
            p.name.family
        );
    }
    // County scoping.
    let page = s
        .search_patients(&PatientQuery {
            dob: Some(p.dob),
            counties: Some(vec![]),
            ..Default::default()
        })
        .unwrap();
    assert!(page.rows.is_empty());
    // Pagination.
    let all = s
        .search_patients(&PatientQuery {
            family: Some("S".into()),
            limit: 500,
            ..Default::default()
        })
        .unwrap();
    let first = s
        .search_patients(&PatientQuery {
            family: Some("S".into()),
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    let second = s
        .search_patients(&PatientQuery {
            family: Some("S".into()),
            limit: 3,
            offset: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.total, all.total);
    assert_eq!(&all.rows[..3], &first.rows[..]);
    assert_eq!(&all.rows[3..6.min(all.rows.len())], &second.rows[..]);
    // No criteria is an error, not a full-table dump.
    assert!(s.search_patients(&PatientQuery::default()).is_err());
}

#[test]
fn users_clinics_and_grants_round_trip() {
    let s = seeded();
    let pin = synth::clinic_pin(0);
    let c = s.clinic(&pin).unwrap().unwrap();
    assert_eq!(s.clinics().unwrap().len(), 5);
    assert!(s
        .add_clinic(&c)
        .unwrap_err()
        .to_string()
        .contains("already exists"));
    let mut u = User::new(
        Username::new("coord").unwrap(),
        "Coordinator",
        Email::new("c@example.org").unwrap(),
    )
    .unwrap();
    u.grant(Grant::new(Role::PrimaryVaccineCoordinator, Scope::Clinic(pin.clone())).unwrap());
    u.grant(
        Grant::new(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(ctwiz_core::place::Jurisdiction::County(County::Tolland)),
        )
        .unwrap(),
    );
    let id = s.create_user(&u, "hash", true).unwrap();
    let acc = s.account(&u.username).unwrap().unwrap();
    u.id = Some(id);
    assert_eq!(acc.user, u);
    assert!(acc.must_change_password);
    assert!(s
        .create_user(&u, "hash", true)
        .unwrap_err()
        .to_string()
        .contains("taken"));
    s.set_grants(id, &[Grant::new(Role::StateAdmin, Scope::State).unwrap()])
        .unwrap();
    assert!(s.account_by_id(id).unwrap().unwrap().user.is_state());
    s.set_status(id, AccountStatus::Disabled).unwrap();
    assert_eq!(s.users().unwrap()[0].status, AccountStatus::Disabled);
}

/// A sign-in lock is kept with the failures that set it, and lifting it starts the count
/// again, on either backend (PostgreSQL once refused the statement: 42P08).
#[test]
fn a_sign_in_lock_keeps_the_failures_until_it_is_lifted() {
    let s = common::store();
    let u = User::new(
        Username::new("locked").unwrap(),
        "Locked Out",
        Email::new("l@example.org").unwrap(),
    )
    .unwrap();
    let id = s.create_user(&u, "hash", false).unwrap();
    assert_eq!(s.record_failed_sign_in(id).unwrap(), 1);
    assert_eq!(s.record_failed_sign_in(id).unwrap(), 2);
    s.set_locked_until(id, Some(at(10))).unwrap();
    let acc = s.account(&u.username).unwrap().unwrap();
    assert_eq!((acc.locked_until, acc.failed_sign_ins), (Some(at(10)), 2));
    s.set_locked_until(id, None).unwrap();
    let acc = s.account(&u.username).unwrap().unwrap();
    assert_eq!((acc.locked_until, acc.failed_sign_ins), (None, 0));
}

#[test]
fn inventory_movements_keep_stock_consistent() {
    let s = seeded();
    let lot = Lot {
        id: None,
        clinic: synth::clinic_pin(0),
        cvx: Cvx::new("20").unwrap(),
        ndc: None,
        mvx: Some(Mvx::new("SKB").unwrap()),
        lot_number: LotNumber::new("DT01").unwrap(),
        expiration: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
    };
    let id = s.add_lot(&lot).unwrap();
    assert_eq!(
        s.record_movement(id, &Movement::Receive { doses: 10 }, "coord", at(9))
            .unwrap(),
        10
    );
    assert_eq!(
        s.record_movement(id, &Movement::Administer { doses: 1 }, "nurse", at(10))
            .unwrap(),
        9
    );
    let e = s
        .record_movement(
            id,
            &Movement::Waste {
                doses: 20,
                reason: WastageReason::Spoiled,
            },
            "coord",
            at(11),
        )
        .unwrap_err();
    assert!(e.to_string().contains("only 9 on hand"), "{e}");
    assert_eq!(s.lot(id).unwrap().unwrap().on_hand, 9);
    assert_eq!(s.movements(id).unwrap().len(), 2);
    assert!(s.add_lot(&lot).is_err());
    assert!(s
        .record_movement(999, &Movement::Receive { doses: 1 }, "x", at(9))
        .is_err());
}

#[test]
fn audit_log_records_reads_and_changes() {
    let s = seeded();
    let c = synth::child(&cfg(), 5);
    let id = s.create_patient(&c.patient).unwrap();
    for (h, action) in [(9, AuditAction::Read), (10, AuditAction::Update)] {
        s.audit(&AuditEntry {
            at: at(h),
            actor: "nurse".into(),
            patient: Some(id),
            action,
            interface: Interface::Web,
            clinic: None,
            detail: "".into(),
        })
        .unwrap();
    }
    let log = s.audit_for_patient(id, 10).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, AuditAction::Update);
}

#[test]
fn migrates_from_empty_and_reopens_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        s.add_clinic(&synth::clinics(&cfg())[0]).unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.clinics().unwrap().len(), 1);
}

#[test]
fn refuses_a_database_from_a_newer_ctwiz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
             INSERT INTO schema_versions VALUES ('foundation', 99);",
        )
        .unwrap();
    }
    let e = SqliteStore::open(&path).err().expect("must refuse");
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn readers_see_consistent_data_while_one_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let s = SqliteStore::open(&path).unwrap();
    for c in synth::clinics(&cfg()) {
        s.add_clinic(&c).unwrap();
    }
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let w = SqliteStore::open(&writer_path).unwrap();
        for i in 0..150 {
            let c = synth::child(&cfg(), i);
            w.create_patient_with_doses(&c.patient, &c.doses).unwrap();
        }
    });
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || {
                let r = SqliteStore::open(&p).unwrap();
                let mut last = 0;
                for _ in 0..200 {
                    let n = r.patient_count().unwrap();
                    assert!(n >= last, "count went backwards");
                    last = n;
                    // A patient visible to a reader always has all of its doses.
                    if n > 0 {
                        let id = PatientId(n as i64);
                        if let Some(p) = r.patient(id).unwrap() {
                            let idx = (p.mrns[0].value[2..].parse::<u64>().unwrap()) - 1;
                            assert_eq!(
                                r.doses(id).unwrap().len(),
                                synth::child(&cfg(), idx).doses.len()
                            );
                        }
                    }
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(s.patient_count().unwrap(), 150);
}

#[test]
fn streams_every_patient_with_its_doses() {
    let s = seeded();
    let mut expected = 0;
    for i in 0..120 {
        let c = synth::child(&cfg(), i);
        expected += c.doses.len();
        s.create_patient_with_doses(&c.patient, &c.doses).unwrap();
    }
    let (mut n, mut d) = (0, 0);
    s.for_each_patient(&mut |_, doses| {
        n += 1;
        d += doses.len();
        Ok(())
    })
    .unwrap();
    assert_eq!((n, d), (120, expected));
    // A birth-date window streams exactly the patients born in it, in chunks.
    let (from, to) = (
        NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
    );
    let want: Vec<i64> = (0..120u64)
        .filter(|i| (from..=to).contains(&synth::child(&cfg(), *i).patient.dob))
        .map(|i| i as i64 + 1)
        .collect();
    let mut got = Vec::new();
    s.for_each_chunk(Some((from, to)), 7, &mut |chunk| {
        assert!(chunk.len() <= 7);
        for (p, doses, observations) in chunk {
            assert_eq!(doses.len(), s.doses(p.id.unwrap()).unwrap().len());
            assert_eq!(observations, s.observations(p.id.unwrap()).unwrap());
            got.push(p.id.unwrap().0);
        }
        Ok(())
    })
    .unwrap();
    got.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn recall_notices_are_recorded() {
    let s = seeded();
    let c = synth::child(&cfg(), 9);
    let id = s.create_patient(&c.patient).unwrap();
    assert_eq!(s.last_recall_notice(id).unwrap(), None);
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let notice = |d| RecallNotice {
        patient: id,
        sent_on: day(d),
        method: "letter".into(),
        vaccine_groups: vec!["MMR".into()],
        sent_by: "coord".into(),
        scope: "CT00001".into(),
    };
    s.record_recall_notices(&[notice(1), notice(9)]).unwrap();
    assert_eq!(s.last_recall_notice(id).unwrap(), Some(day(9)));
    // Unknown patients are refused and nothing of the batch is kept.
    let mut bad = notice(20);
    bad.patient = PatientId(999_999);
    assert!(s.record_recall_notices(&[notice(15), bad]).is_err());
    assert_eq!(s.last_recall_notice(id).unwrap(), Some(day(9)));
}

/// A database from before `providers` migration 1 kept RXA-10 as text only; opening it
/// converts every stored text into the provider's parts (nothing is lost: the display is
/// the text that was stored), and a dose written after keeps every part it was given.
#[test]
fn administering_provider_texts_from_before_become_parts() {
    use ctwiz_core::dose::Provider;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let c = synth::child(&cfg(), 7);
    let id = {
        let s = SqliteStore::open(&path).unwrap();
        s.create_patient_with_doses(&c.patient, &c.doses).unwrap()
    };
    let texts = [
        "Nancy Nurse (4567)",
        "Mary Ann Van Dyke",
        "RN Synthetic",
        "4567",
    ];
    {
        // Back to the schema before the migration, with the texts ctwiz kept then.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE doses DROP COLUMN administering_provider;
             DELETE FROM schema_versions WHERE component = 'providers';",
        )
        .unwrap();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM doses WHERE patient_id = ?1 ORDER BY date, id")
            .unwrap()
            .query_map([id.0], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(ids.len() >= texts.len(), "the synthetic child has doses");
        for (dose, text) in ids.iter().zip(texts) {
            conn.execute(
                "UPDATE doses SET administered_by = ?1 WHERE id = ?2",
                rusqlite::params![text, dose],
            )
            .unwrap();
        }
    }
    let s = SqliteStore::open(&path).unwrap();
    let doses = s.doses(id).unwrap();
    let shown: Vec<String> = doses
        .iter()
        .take(texts.len())
        .map(|d| {
            d.administered_by
                .as_ref()
                .map(Provider::display)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(shown, texts);
    let first = doses[0].administered_by.clone().unwrap();
    assert_eq!(
        (
            first.id.as_str(),
            first.given.as_str(),
            first.family.as_str()
        ),
        ("4567", "Nancy", "Nurse")
    );

    // Written now: every part comes back.
    let sent = Provider {
        id: "1234567890".into(),
        family: "Nurse".into(),
        given: "Nancy".into(),
        middle: "J".into(),
        degree: "RN".into(),
        authority: "NPPES".into(),
        authority_universal_id: "2.16.840.1.113883.4.6".into(),
        authority_universal_id_type: "ISO".into(),
        name_type: "L".into(),
        id_type: "NPI".into(),
        ..Provider::default()
    };
    let mut d = doses[0].clone();
    d.administered_by = Some(sent.clone());
    s.update_dose(&d).unwrap();
    let back = s.doses(id).unwrap().remove(0);
    assert_eq!(back.administered_by, Some(sent));
}

/// A new record whose MRN another record holds at the same clinic is refused whole (no
/// patient, MRN or dose of it stored), with the same words on both backends; so is a record
/// naming one MRN twice. The transaction it ran in goes on.
#[test]
fn a_new_record_with_a_taken_mrn_is_refused_whole() {
    let s = seeded();
    let first = synth::child(&cfg(), 1);
    let kept = s
        .create_patient_with_doses(&first.patient, &first.doses)
        .unwrap();
    let mut second = synth::child(&cfg(), 2);
    second.patient.mrns = first.patient.mrns.clone();
    let mut twice = synth::child(&cfg(), 3);
    let m = twice.patient.mrns[0].clone();
    twice.patient.mrns.push(m);
    let after = synth::child(&cfg(), 4);
    let ids = s
        .in_transaction(|s| {
            for refused in [&second, &twice] {
                let e = s
                    .create_patient_with_doses(&refused.patient, &refused.doses)
                    .unwrap_err();
                assert!(
                    matches!(&e, StoreError::Conflict(m) if m.contains("already belongs to another patient")),
                    "{e}"
                );
            }
            s.create_patient_with_doses(&after.patient, &after.doses)
        })
        .unwrap();
    assert_eq!(
        s.patient_count().unwrap(),
        2,
        "nothing of the refused records stored"
    );
    assert_eq!(s.doses(kept).unwrap().len(), first.doses.len());
    assert_eq!(s.doses(ids).unwrap().len(), after.doses.len());
    assert_eq!(
        s.find_by_mrn(&first.patient.mrns[0].clinic, &first.patient.mrns[0].value)
            .unwrap(),
        Some(kept)
    );
}

/// A write transaction's new doses are recorded at one time, the database clock's (UTC)
/// as the transaction first read it, however long the transaction runs; the real-time
/// reporting report reads it back.
#[test]
fn doses_written_in_one_transaction_share_its_recorded_time() {
    use ctwiz_store::reporting::ReportingStore;
    let s = seeded();
    let clinic = synth::clinics(&cfg())[0].pin.clone();
    let child = synth::child(&cfg(), 5);
    let id = s.create_patient(&child.patient).unwrap();
    let given = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let dose = |cvx: &str| {
        let mut d = Dose::new(Cvx::new(cvx).unwrap(), given, InformationSource::NewRecord);
        d.clinic = Some(clinic.clone());
        d
    };
    let before = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    s.atomically(|t| {
        t.add_dose(id, &dose("20"))?;
        // Long enough for a clock read per row to differ.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        t.add_doses(id, &[dose("10"), dose("08")])
    })
    .unwrap();
    let after = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(1);
    let reports = s.administered_doses(given, given).unwrap();
    assert_eq!(reports.len(), 3, "{reports:?}");
    let at = reports[0].recorded_at;
    assert!(reports.iter().all(|r| r.recorded_at == at), "{reports:?}");
    assert!(
        before <= at && at <= after,
        "{at} not between {before} and {after}"
    );
}

/// A clinic held for the rest of a write transaction is forgotten when it changes.
#[test]
fn a_clinic_changed_inside_a_transaction_is_read_back_changed() {
    let s = seeded();
    let mut c = synth::clinics(&cfg())[0].clone();
    s.atomically(|t| {
        assert_eq!(t.clinic(&c.pin)?.unwrap().name, c.name);
        c.name = format!("{} (renamed)", c.name);
        t.update_clinic(&c)?;
        assert_eq!(t.clinic(&c.pin)?.unwrap().name, c.name);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.clinic(&c.pin).unwrap().unwrap().name, c.name);
}

/// The matching lookup finds the same candidates, in the same order, whether few records
/// share the probe's name sounds (SQLite compares their birth dates in Rust) or many (one
/// index seek per birth-date variant): the same birth date with a name sounding alike,
/// then both names sounding alike with the birth date one keying slip away; never a merged
/// record or a date further off.
#[test]
fn match_candidates_are_the_same_for_a_small_and_a_large_name_group() {
    use ctwiz_core::patient::{Patient, PersonName, Sex};
    use ctwiz_store::dedup::DedupStore;
    let s = common::store();
    let person = |family: &str, given: &str, dob: (i32, u32, u32)| {
        let dob = NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap();
        Patient::new(PersonName::new(family, given).unwrap(), dob, Sex::Female).unwrap()
    };
    let add = |family: &str, given: &str, dob: (i32, u32, u32)| {
        s.create_patient(&person(family, given, dob)).unwrap()
    };
    let same_day = add("Rivers", "Ann", (2021, 5, 3)); // family sounds alike, same date
    let other_name = add("Baker", "Anna", (2021, 5, 3)); // given sounds alike, same date
    let swapped = add("Rivera", "Anna", (2021, 3, 5)); // day and month swapped
    let typo = add("Riviera", "Ana", (2021, 5, 8)); // one digit
    let transposed = add("Rivera", "Ann", (2012, 5, 3)); // two digits swapped
    let merged = add("Rivera", "Anna", (2021, 5, 4));
    let _far = add("Rivera", "Anna", (2019, 7, 22)); // two slips away
    let _unrelated = add("Smith", "Joan", (2021, 5, 3));
    let survivor = add("Nobody", "Else", (2000, 1, 1));
    s.merge_patients(survivor, merged, "test", Interface::Cli, at(9))
        .unwrap();
    let probe = person("Rivera", "Anna", (2021, 5, 3));
    let expect = [same_day, other_name, swapped, typo, transposed];
    let ids = |s: &SqliteStore| -> Vec<PatientId> {
        s.match_candidates(&probe)
            .unwrap()
            .iter()
            .map(|p| p.id.unwrap())
            .collect()
    };
    let small = ids(&s);
    assert_eq!(
        small.iter().collect::<std::collections::BTreeSet<_>>(),
        expect.iter().collect()
    );
    // Many more records sounding like the probe, none near its birth date.
    for i in 0..40 {
        add("Rivera", "Anna", (1990 + i % 5, 1 + (i as u32 % 12), 20));
    }
    assert_eq!(ids(&s), small);
}
