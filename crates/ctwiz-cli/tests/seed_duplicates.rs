//! `ctwiz seed --duplicates RATE --truth FILE` through the binary: the ground truth names
//! every stored record and the person it describes, twins are there as different people,
//! and `ctwiz match pairs` run on the file (without the truth column) keeps twins apart.

use ctwiz_core::ids::PatientId;
use ctwiz_store::{PatientStore, SqliteStore};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

fn ctwiz(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctwiz"));
    c.arg("--db").arg(db).env_remove("CTWIZ_DB");
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run ctwiz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The truth file's rows as column → value maps (no cell of it is quoted).
fn read_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("truth file");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{l}");
            header
                .iter()
                .cloned()
                .zip(cells.into_iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn seeded_duplicates_have_ground_truth_and_twins_stay_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("seed.db");
    let truth = dir.path().join("truth.csv");
    let out = ok(ctwiz(&db)
        .args(["seed", "--children", "400", "--clinics", "6", "--seed", "9"])
        .args([
            "--as-of",
            "2026-06-01",
            "--duplicates",
            "0.3",
            "--twins",
            "0.1",
        ])
        .arg("--truth")
        .arg(&truth));
    assert!(out.contains("twins"), "{out}");
    let rows = read_rows(&truth);

    // Every stored record is in the file once, under its store id, as stored.
    let store = SqliteStore::open(&db).expect("open");
    assert_eq!(store.patient_count().expect("count"), rows.len() as u64);
    let ids: BTreeSet<i64> = rows
        .iter()
        .map(|r| r["record_id"].parse().expect("numeric id"))
        .collect();
    assert_eq!(ids.len(), rows.len());
    for r in rows.iter().step_by(17) {
        let p = store
            .patient(PatientId(r["record_id"].parse().unwrap()))
            .expect("read")
            .expect("stored");
        assert_eq!(p.name.given, r["given"]);
        assert_eq!(p.name.family, r["family"]);
        assert_eq!(p.dob.format("%Y-%m-%d").to_string(), r["dob"]);
    }

    // Ground truth: one first record per person, duplicates point at a seeded person,
    // twins are other people with the sibling's birth date and family name.
    let mut by_person: HashMap<&str, Vec<&HashMap<String, String>>> = HashMap::new();
    for r in &rows {
        by_person.entry(&r["true_person"]).or_default().push(r);
    }
    let count = |prefix: &str| {
        rows.iter()
            .filter(|r| r["kind"].starts_with(prefix))
            .count()
    };
    assert_eq!(count("original"), 400);
    let (twins, dups) = (count("twin"), count("duplicate:"));
    assert!((15..70).contains(&twins), "{twins} twins");
    assert!((80..180).contains(&dups), "{dups} duplicates");
    assert_eq!(by_person.len(), 400 + twins);
    let mut twin_pairs = BTreeSet::new();
    for r in rows.iter().filter(|r| r["kind"] == "twin") {
        let person: u64 = r["true_person"].parse().unwrap();
        let sibling = rows
            .iter()
            .find(|s| s["kind"] == "original" && s["true_person"] == (person - 1).to_string())
            .expect("a twin's sibling is seeded");
        assert_eq!(
            (&sibling["dob"], &sibling["family"]),
            (&r["dob"], &r["family"])
        );
        assert_ne!(sibling["given"], r["given"]);
        let (a, b) = (&sibling["record_id"], &r["record_id"]);
        twin_pairs.insert((a.min(b).clone(), a.max(b).clone()));
    }

    // The analyst command, given every field but the truth, links no twins and finds
    // most duplicates.
    let input = dir.path().join("records.csv");
    let mut text = String::new();
    for line in std::fs::read_to_string(&truth).unwrap().lines() {
        let cells: Vec<&str> = line.split(',').collect();
        let keep: Vec<&str> = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
            .iter()
            .map(|&i| cells[i])
            .collect();
        text.push_str(&keep.join(","));
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
    assert!(!std::fs::read_to_string(&input)
        .unwrap()
        .contains("true_person"));
    let pairs_file = dir.path().join("pairs.csv");
    ok(ctwiz(&db)
        .args(["match", "pairs", "--id-column", "record_id", "--map"])
        .arg(
            "given=given,middle=middle,family=family,dob=dob,sex=sex,number=number,\
             street=street,city=city,zip=zip,phone=phone,mother_maiden=mother_maiden",
        )
        .args(["--dob-format", "%Y-%m-%d", "--out"])
        .arg(&pairs_file)
        .arg(&input));
    let person: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["record_id"].as_str(), r["true_person"].as_str()))
        .collect();
    let found: Vec<(String, String)> = std::fs::read_to_string(&pairs_file)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].min(c[1]).to_string(), c[0].max(c[1]).to_string())
        })
        .collect();
    let linked_twins: Vec<_> = found.iter().filter(|p| twin_pairs.contains(*p)).collect();
    assert!(linked_twins.is_empty(), "twins linked: {linked_twins:?}");
    let right = found
        .iter()
        .filter(|(a, b)| person[a.as_str()] == person[b.as_str()])
        .count();
    assert!(right * 10 >= dups * 8, "found {right} of {dups} duplicates");
    assert!(
        right * 100 >= found.len() * 95,
        "{right} right of {}",
        found.len()
    );
}

#[test]
fn duplicate_rates_outside_zero_to_one_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ctwiz(&dir.path().join("x.db"))
        .args(["seed", "--children", "10", "--duplicates", "1.5"])
        .output()
        .expect("run ctwiz");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("duplicate rate"), "{err}");
}
