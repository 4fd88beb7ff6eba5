//! The store on PostgreSQL: the schema migrates from the one list of migrations, and
//! what is written reads back as it does on SQLite.

mod common;

use chrono::NaiveDate;
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::*;

#[test]
fn the_schema_migrates_and_reports_the_same_version() {
    // An empty database, not the suite's migrated template: every migration runs here.
    let Some(server) = common::postgres::server() else {
        return;
    };
    let url = common::postgres::empty_database(&server);
    let store = SqliteStore::open(&url).unwrap();
    assert_eq!(store.dialect(), Dialect::Postgres);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    // A second process opening it finds every migration applied.
    let again = SqliteStore::open(&url).unwrap();
    assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn a_seeded_population_reads_back_as_written() {
    let Some(pg) = common::postgres::store() else {
        return;
    };
    let lite = SqliteStore::open_in_memory().unwrap();
    let cfg = SynthConfig {
        children: 40,
        clinics: 3,
        seed: 5,
        as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    };
    for s in [&pg, &lite] {
        for c in synth::clinics(&cfg) {
            s.add_clinic(&c).unwrap();
        }
        for i in 0..cfg.children {
            let child = synth::child(&cfg, i);
            s.create_patient_with_doses(&child.patient, &child.doses)
                .unwrap();
        }
        let p = Patient::new(
            PersonName::new("Rivera", "Luz").unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
            Sex::Female,
        )
        .unwrap();
        s.create_patient(&p).unwrap();
    }
    for id in 1..=cfg.children as i64 + 1 {
        let id = ctwiz_core::ids::PatientId(id);
        assert_eq!(
            pg.patient(id).unwrap(),
            lite.patient(id).unwrap(),
            "patient {id}"
        );
        let strip = |ds: Vec<ctwiz_core::dose::Dose>| ds;
        assert_eq!(
            strip(pg.doses(id).unwrap()),
            strip(lite.doses(id).unwrap()),
            "doses of {id}"
        );
    }
}

/// A bulk write into a new database leaves the planner's statistics current. The server
/// keeps each plan for the connection's life, also those of its own foreign-key checks:
/// planned while `patients` was nearly empty they scanned it whole for every dose, and
/// an import into a new registry slowed with every record (issue 19).
#[test]
fn a_bulk_write_into_a_new_database_leaves_the_planners_statistics_current() {
    let Some(server) = common::postgres::server() else {
        return;
    };
    // Fresh tables, never analyzed (the suite's template was).
    let store = SqliteStore::open(common::postgres::empty_database(&server)).unwrap();
    let before = ctwiz_store::test_support::planner_row_estimate(&store, "patients").unwrap();
    assert!(before <= 0.0, "a new table's estimate: {before}");
    let cfg = SynthConfig {
        children: 1_200,
        clinics: 2,
        seed: 9,
        as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    };
    for c in synth::clinics(&cfg) {
        store.add_clinic(&c).unwrap();
    }
    // One transaction of more statements than a re-planning and a check take.
    let children: Vec<_> = (0..cfg.children).map(|i| synth::child(&cfg, i)).collect();
    store
        .atomically(|s| {
            for c in &children {
                s.create_patient_with_doses(&c.patient, &c.doses)?;
            }
            Ok(())
        })
        .unwrap();
    let after = ctwiz_store::test_support::planner_row_estimate(&store, "patients").unwrap();
    assert_eq!(after, cfg.children as f64, "analyzed after the commit");
    let doses: usize = children.iter().map(|c| c.doses.len()).sum();
    let dose_estimate = ctwiz_store::test_support::planner_row_estimate(&store, "doses").unwrap();
    // (A sample of 30,000 rows: an estimate once the table holds more.)
    assert!(
        (dose_estimate - doses as f64).abs() <= doses as f64 * 0.05,
        "{dose_estimate} doses estimated, {doses} written"
    );
}

/// TLS to the server (`sslmode=require`): the temp server's database `ctwiz_tls` takes TLS
/// connections only (scripts/postgres-temp.sh). The store reaches it trusting the test CA
/// (`sslrootcert`), and is refused without TLS, and with TLS but a CA it does not trust
/// (the Mozilla roots): the server's certificate is verified.
#[test]
fn tls_connections_verify_the_server() {
    let Some(server) = common::postgres::server() else {
        return;
    };
    let ca = match std::env::var("CTWIZ_TEST_POSTGRES_CA") {
        Ok(p) if !p.is_empty() => p,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CTWIZ_TEST_POSTGRES_CA is not set under CI (see scripts/postgres-temp.sh)")
        }
        _ => {
            eprintln!("skipped: set CTWIZ_TEST_POSTGRES_CA to the temp server's tls/ca.crt");
            return;
        }
    };
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("admin");
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = 'ctwiz_tls'", &[])
        .expect("look for ctwiz_tls")
        .is_some();
    if !exists {
        admin
            .batch_execute(
                "CREATE DATABASE ctwiz_tls TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
            )
            .expect("create ctwiz_tls");
    }
    let base = format!("{}/ctwiz_tls", server.rsplit_once('/').expect("a URL").0);

    let store = SqliteStore::open(format!("{base}?sslmode=require&sslrootcert={ca}"))
        .expect("TLS with the test CA");
    assert_eq!(store.dialect(), Dialect::Postgres);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    let plain = SqliteStore::open(&base).err().expect("refused without TLS");
    assert!(plain.to_string().contains("ctwiz_tls"), "{plain}");
    let untrusted = SqliteStore::open(format!("{base}?sslmode=verify-full"))
        .err()
        .expect("a certificate no trusted CA signed");
    assert!(
        untrusted.to_string().to_lowercase().contains("certificate"),
        "{untrusted}"
    );
}
