//! Patient matching through the binary: `ctwiz match pairs` on a CSV extract, and an HL7
//! import of a feed with known duplicates (the records and the review queue it leaves).

mod common;

use chrono::{Datelike, NaiveDate};
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::{Mrn, Patient};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_hl7::interface::synth::vxu_for;
use ctwiz_store::dedup::DedupStore;
use ctwiz_store::{PatientStore, SqliteStore};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

fn ctwiz(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctwiz"));
    c.arg("--db").arg(common::db_arg(db)).env_remove("CTWIZ_DB");
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

const EXTRACT: &str = "\
person,first,last,born,gender,addr,town,postal,tel
{A},Olivia,Tymczak,2020-03-04,F,12 Main St,Hartford,06106,860-555-0101
{B},Olivia,Tymczack,2020-04-03,F,12 Main Street,Hartford,06106,860-555-0101
{C},Sophia,Tymczak,2020-03-04,F,12 Main St,Hartford,06106,860-555-0101
{D},Robert,Okafor,2019-11-23,M,4 Elm Rd,New Haven,06511,203-555-0144
{E},Bob,Okafor,2019-11-23,M,4 Elm Road,New Haven,06511,
{F},Maya,Lindqvist,2018-06-30,F,77 Oak Ave,Stamford,06901,203-555-0199
";

fn pairs(dir: &Path, ids: [&str; 6]) -> BTreeSet<(String, String)> {
    let mut text = EXTRACT.to_string();
    for (slot, id) in ["{A}", "{B}", "{C}", "{D}", "{E}", "{F}"].iter().zip(ids) {
        text = text.replace(slot, id);
    }
    let file = dir.join("extract.csv");
    std::fs::write(&file, text).expect("write extract");
    let out = dir.join("pairs.csv");
    ok(ctwiz(&dir.join("unused.db"))
        .args(["match", "pairs", "--id-column", "person", "--map"])
        .arg(
            "given=first,family=last,dob=born,sex=gender,street=addr,city=town,zip=postal,phone=tel",
        )
        .args(["--dob-format", "%Y-%m-%d", "--out"])
        .arg(&out)
        .arg(&file));
    let text = std::fs::read_to_string(&out).expect("pairs");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("a,b,score"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), 3, "{l}");
            let score: f64 = cells[2].parse().expect("score");
            assert!((0.0..=1.0).contains(&score));
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect()
}

#[test]
fn match_pairs_finds_the_same_people_and_never_reads_the_id() {
    let dir = tempfile::tempdir().expect("tmp");
    // Typo + swapped day/month; nickname with a missing phone. Twins (C) and a stranger
    // (F) pair with no one.
    let found = pairs(dir.path(), ["1", "2", "3", "4", "5", "6"]);
    let want: BTreeSet<(String, String)> = [("1", "2"), ("4", "5")]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .into();
    assert_eq!(found, want);
    // Ids that look alike (or are a name) change nothing: only the fields are compared.
    let renamed = pairs(dir.path(), ["x9", "Olivia", "x9b", "zz", "Okafor", "x"]);
    let want: BTreeSet<(String, String)> = [("x9", "Olivia"), ("zz", "Okafor")]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .into();
    assert_eq!(renamed, want);
}

#[test]
fn match_pairs_refuses_a_bad_layout_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("x.csv");
    std::fs::write(&file, "person,first\n1,Ann\n").expect("write");
    for (map, says) in [
        (
            "given=missing",
            "\"missing\" (mapped to given) is not in the header",
        ),
        ("nickname=first", "unknown match field \"nickname\""),
        ("given=person", "never used for matching"),
    ] {
        let out = ctwiz(&dir.path().join("unused.db"))
            .args(["match", "pairs", "--id-column", "person", "--map", map])
            .arg(&file)
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{map}: {err}");
    }
}

/// A synthetic feed (its own duplicates included) plus hand-made cases with known
/// answers, imported through `ctwiz hl7 import`.
#[test]
fn an_import_with_known_duplicates_links_them_and_queues_only_the_doubtful() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("feed.db");
    let cfg = SynthConfig {
        children: 150,
        clinics: 4,
        seed: 3,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
    };
    ok(ctwiz(&db).arg("init"));
    {
        let store = SqliteStore::open(common::db_arg(&db)).expect("open");
        for c in synth::clinics(&cfg) {
            ctwiz_store::OrgStore::add_clinic(&store, &c).expect("clinic");
        }
    }
    let pins: Vec<ClinicPin> = synth::clinics(&cfg).into_iter().map(|c| c.pin).collect();
    let sent = cfg.as_of.and_hms_opt(12, 0, 0).expect("time");
    let mut feed = String::new();
    let mut push = |p: &Patient, id: &str| {
        feed.push_str(&vxu_for(p, &[], &pins[0], id, sent).to_er7());
        feed.push('\n');
    };
    let children: Vec<_> = (0..cfg.children).map(|i| synth::child(&cfg, i)).collect();
    let mut synth_duplicates = 0;
    for (i, c) in children.iter().enumerate() {
        push(&c.patient, &format!("C{i}"));
        if let Some((dup, _)) = &c.duplicate {
            push(dup, &format!("D{i}"));
            synth_duplicates += 1;
        }
    }
    let at = |p: &Patient, pin: &ClinicPin, mrn: &str| {
        let mut q = p.clone();
        q.mrns = vec![Mrn::new(pin.clone(), mrn).expect("mrn")];
        q
    };
    let other = |p: &Patient| {
        pins.iter()
            .find(|x| p.mrn_at(x).is_none())
            .expect("pin")
            .clone()
    };
    // 0: another clinic, day and month transposed, family name mistyped: the same child.
    let base = &children
        .iter()
        .find(|c| c.patient.dob.day() <= 12 && c.patient.dob.day() != c.patient.dob.month())
        .expect("a child whose birth day can be a month")
        .patient;
    let mut slip = at(base, &other(base), "SLIP1");
    slip.dob =
        NaiveDate::from_ymd_opt(base.dob.year(), base.dob.day(), base.dob.month()).expect("date");
    slip.name.family.push('e');
    push(&slip, "SLIP");
    // 1: a twin: same birth date, family and address, another given name: a new child.
    let sibling = &children
        .iter()
        .find(|c| c.patient.name != base.name)
        .expect("another child")
        .patient;
    let mut twin = at(sibling, &other(sibling), "TWIN1");
    twin.name.given = "Zebulon".into();
    twin.name.middle = None;
    push(&twin, "TWIN");
    // 2: the same clinic sends the same demographics under a new MRN: kept apart, queued.
    let look = &children
        .iter()
        .find(|c| c.patient.name != base.name && c.patient.name != sibling.name)
        .expect("a third child")
        .patient;
    let home = look.mrns[0].clinic.clone();
    push(&at(look, &home, "NEWMRN"), "LOOK");
    let file = dir.path().join("feed.hl7");
    std::fs::write(&file, feed).expect("feed");
    ok(ctwiz(&db).args(["hl7", "import"]).arg(&file));

    let store = SqliteStore::open(common::db_arg(&db)).expect("open");
    assert!(synth_duplicates > 0, "the synthetic feed has duplicates");
    // Every synthetic duplicate and the slipped record joined their child; the twin and
    // the look-alike are records of their own.
    assert_eq!(store.patient_count().expect("count"), cfg.children + 2);
    let twin_id = store
        .find_by_mrn(&twin.mrns[0].clinic, "TWIN1")
        .expect("find")
        .expect("the twin has a record");
    let look_id = store
        .find_by_mrn(&home, "NEWMRN")
        .expect("find")
        .expect("the look-alike has a record");
    let original = store
        .find_by_mrn(&home, &look.mrns[0].value)
        .expect("find")
        .expect("original");
    assert_eq!(
        store
            .find_by_mrn(&slip.mrns[0].clinic, "SLIP1")
            .expect("find"),
        store
            .find_by_mrn(&base.mrns[0].clinic, &base.mrns[0].value)
            .expect("find"),
    );
    // The queue: only the look-alike pair waits; twins are never queued.
    let queue = store.dedup_queue(100, 0).expect("queue");
    let pairs: Vec<(i64, i64)> = queue
        .rows
        .iter()
        .map(|r| (r.patient.id().0, r.candidate.id().0))
        .collect();
    assert_eq!(pairs, [(look_id.0, original.0)]);
    assert!(!pairs.iter().any(|&(a, b)| a == twin_id.0 || b == twin_id.0));
}

fn fails(c: &mut Command) -> String {
    let out = c.output().expect("run ctwiz");
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The number after `label` in `text` ("Queued 12 pair(s)" → 12).
fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {text}"));
    text[at + label.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {label:?} in {text}"))
}

/// A seeded registry (its synthetic duplicates stored as separate records) scanned through
/// the binary: the duplicates are queued, nothing is merged, the queue lists clusters with
/// scores and evidence, a rescan adds nothing, a clinic user may not scan, and `--link`
/// merges the sure pairs (each one undoable).
#[test]
fn dedup_scan_queues_a_seeded_registrys_duplicates_and_links_only_when_asked() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("reg.db");
    let seed = |db: &Path| {
        let out = ok(ctwiz(db).args([
            "seed",
            "--children",
            "500",
            "--clinics",
            "4",
            "--seed",
            "5",
            "--as-of",
            "2026-11-01",
        ]));
        number_after(&out, "seeded ")
    };
    let records = seed(&db);
    assert!(records > 500, "the seed has duplicates");
    let scanned = ok(ctwiz(&db).args(["patient", "dedup-scan"]));
    assert_eq!(number_after(&scanned, "Scanned "), records, "{scanned}");
    assert!(
        scanned.contains("(default model)"),
        "500 records: too few to fit: {scanned}"
    );
    let sure = number_after(&scanned, "candidate pairs, ");
    let queued = number_after(&scanned, "Queued ");
    assert!(sure >= 1 && queued >= sure, "{scanned}");
    assert!(scanned.contains("Nothing was merged"), "{scanned}");
    let store = SqliteStore::open(common::db_arg(&db)).expect("open");
    assert_eq!(
        store.patient_count().expect("count"),
        records,
        "nothing merged"
    );
    drop(store);

    let listed = ok(ctwiz(&db).args(["patient", "duplicates", "--limit", "200"]));
    assert_eq!(
        number_after(&listed, "clusters shown, "),
        queued,
        "every queued pair is listed: {listed}"
    );
    assert!(listed.contains("Cluster 1 of "), "{listed}");
    assert!(listed.contains("birth date: exact (+"), "{listed}");
    assert!(listed.contains("dedup scan by cli:"), "{listed}");
    // Strongest first.
    let best: Vec<f64> = listed
        .lines()
        .filter_map(|l| l.split("best match ").nth(1))
        .filter_map(|s| s.split(',').next()?.parse().ok())
        .collect();
    assert!(best.windows(2).all(|w| w[0] >= w[1]), "{best:?}");

    let again = ok(ctwiz(&db).args(["patient", "dedup-scan"]));
    assert_eq!(number_after(&again, "Queued "), 0, "{again}");

    ok(ctwiz(&db).args([
        "user",
        "add",
        "--username",
        "nurse-c1",
        "--email",
        "n@c1.example",
        "--role",
        "clinic-access",
        "--clinic",
        "CT00001",
    ]));
    let e = fails(ctwiz(&db).args(["--as", "nurse-c1", "patient", "dedup-scan"]));
    assert!(e.contains("may not merge patient records"), "{e}");

    // --link on a fresh copy of the registry merges the sure pairs.
    let db2 = dir.path().join("reg2.db");
    assert_eq!(seed(&db2), records);
    let linked = ok(ctwiz(&db2).args(["patient", "dedup-scan", "--link"]));
    let merged = number_after(&linked, "Merged ");
    assert!(merged >= 1, "{linked}");
    let store = SqliteStore::open(common::db_arg(&db2)).expect("open");
    assert_eq!(store.patient_count().expect("count"), records - merged);
}

// `ctwiz seed --duplicates RATE --truth FILE`: the ground truth names every stored record
// and the person it describes, twins are there as different people, and `ctwiz match
// pairs` run on the file (without the truth column) finds the duplicates.

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
fn seeded_duplicates_have_ground_truth_and_twins_are_distinct_people() {
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
    let store = SqliteStore::open(common::db_arg(&db)).expect("open");
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
    for r in rows.iter().filter(|r| r["kind"].starts_with("twin")) {
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
    assert_eq!(twin_pairs.len(), twins, "every twin has its own sibling");

    // The analyst command, given every field but the truth, finds most duplicates and keeps
    // twins apart, look-alike names (Olivia and Oliver) included: docs/matching.md,
    // "Synthetic registry".
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
    let right = found
        .iter()
        .filter(|(a, b)| person[a.as_str()] == person[b.as_str()])
        .count();
    assert!(right * 10 >= dups * 8, "found {right} of {dups} duplicates");
    // No pair joins a child's record with its twin's (child 2i, twin 2i + 1), though some
    // twins here have look-alike names.
    assert!(count("twin:look_alike") > 0, "some twins look alike");
    let family = |id: &str| person[id].parse::<u64>().expect("numeric person") / 2;
    let twins_joined: Vec<_> = found
        .iter()
        .filter(|(a, b)| person[a.as_str()] != person[b.as_str()] && family(a) == family(b))
        .collect();
    assert!(twins_joined.is_empty(), "twins linked: {twins_joined:?}");
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
