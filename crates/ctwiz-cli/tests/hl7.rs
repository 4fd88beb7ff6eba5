//! `ctwiz hl7` through the binary: processing, idempotent re-import, and crash safety
//! (an import killed mid-batch and re-run loses no acknowledged message and stores none
//! twice).

mod common;

use ctwiz_store::interface::InterfaceStore;
use ctwiz_store::{PatientStore, SqliteStore};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// Writes `children` synthetic VXUs (registering their clinics in `db`).
fn synth(db: &Path, file: &Path, children: u32) {
    let out = ctwiz(db)
        .args([
            "hl7",
            "synth",
            "--children",
            &children.to_string(),
            "--clinics",
            "5",
        ])
        .args(["--register-clinics", "--as-of", "2026-11-01"])
        .output()
        .expect("synth");
    assert!(out.status.success());
    std::fs::write(file, out.stdout).expect("write messages");
}

fn totals(db: &Path) -> (u64, usize, usize) {
    let location = PathBuf::from(common::db_arg(db));
    let (patients, doses) = records_and_doses(&location);
    let s = SqliteStore::open(&location).expect("open");
    let logged = s.message_log(None, u32::MAX).expect("log").len();
    (patients, doses, logged)
}

/// MSA-2 of every complete ACK in the file.
fn acked(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.split(['\r', '\n'])
        .filter(|l| l.starts_with("MSA|"))
        .filter_map(|l| l.split('|').nth(2).map(str::to_string))
        .collect()
}

/// Starts `hl7 import --acks` in batches of `batch_size` and kills it (SIGKILL) once
/// `min_acks` messages were acknowledged, well before the end.
fn kill_import_after(db: &Path, file: &Path, acks: &Path, batch_size: usize, min_acks: usize) {
    let mut child = ctwiz(db)
        .args([
            "hl7",
            "import",
            "--batch-size",
            &batch_size.to_string(),
            "--acks",
        ])
        .arg(acks)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn import");
    let start = Instant::now();
    while acked(acks).len() < min_acks && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the import finished before it could be killed"
    );
    assert!(!acked(acks).is_empty());
}

#[test]
fn process_prints_the_ack_and_unknown_facilities_are_rejected() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("p.db");
    ok(ctwiz(&db).args(["clinic", "add", "--pin", "C1", "--name", "One"]));
    let msg = dir.path().join("m.hl7");
    std::fs::write(
        &msg,
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|M1|P|2.5.1\r\
         PID|1||MRN1^^^C1^MR||Doe^Ann||20250101|F\r\
         ORC|RE||D1^C1\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\r\
         MSH|^~\\&|EHR|NOPE|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|M2|P|2.5.1\r\
         PID|1||MRN1^^^NOPE^MR||Doe^Ann||20250101|F\r",
    )
    .expect("write");
    let out = ok(ctwiz(&db).args(["hl7", "process"]).arg(&msg));
    assert!(out.contains("\nMSA|AA|M1\n"), "{out}");
    assert!(out.contains("\nMSA|AR|M2\n"), "{out}");
    assert!(out.contains("204^Unknown key identifier^HL70357"), "{out}");
}

#[test]
fn reimporting_a_file_adds_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("i.db");
    let file = dir.path().join("vxu.hl7");
    synth(&db, &file, 200);
    let first = ok(ctwiz(&db).args(["hl7", "import"]).arg(&file));
    assert!(first.contains("accepted"), "{first}");
    let before = totals(&db);
    let again = ok(ctwiz(&db).args(["hl7", "import"]).arg(&file));
    assert!(
        again.contains("(1 already imported): 0 messages"),
        "{again}"
    );
    assert_eq!(totals(&db), before);
}

#[test]
fn killed_import_resumes_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, reference) = (dir.path().join("k.db"), dir.path().join("ref.db"));
    let (file, acks) = (dir.path().join("vxu.hl7"), dir.path().join("acks.txt"));
    synth(&db, &file, 3000);
    synth(&reference, &dir.path().join("same.hl7"), 1);
    // The reference: the same file imported in one go.
    ok(ctwiz(&reference).args(["hl7", "import"]).arg(&file));
    let expected = totals(&reference);

    kill_import_after(&db, &file, &acks, 100, 300);
    let acknowledged: BTreeSet<String> = acked(&acks).into_iter().collect();

    ok(ctwiz(&db)
        .args(["hl7", "import", "--acks"])
        .arg(&acks)
        .arg(&file));
    let after = totals(&db);
    assert_eq!(
        after, expected,
        "(patients, doses, logged messages) after resume"
    );
    let s = SqliteStore::open(common::db_arg(&db)).expect("open");
    let logged: BTreeSet<String> = s
        .message_log(None, u32::MAX)
        .expect("log")
        .into_iter()
        .map(|e| e.control_id)
        .collect();
    assert!(
        acknowledged.is_subset(&logged),
        "an acknowledged message was lost"
    );
    assert_eq!(logged.len(), expected.2, "a message was stored twice");
    // Exactly one ACK per message across both runs: a batch that committed in the
    // instant before the kill, its ACKs not yet written, gets them on resume.
    let all = acked(&acks);
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a message was acknowledged twice");
    assert_eq!(all.len(), expected.2, "a message got no ACK");
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<String>>(),
        logged,
        "the ACKs are for the logged messages"
    );
}

/// The window the test above can only hit by chance, made certain: batches committed
/// but their ACKs never (or only partly) written, as when the import is killed right
/// after a commit. The store then still holds those ACKs as pending; a resumed import
/// writes the missing ones, once, and cuts off a half-written line.
#[test]
fn resumed_import_rebuilds_acks_lost_after_commit() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("a.db");
    let (file, acks) = (dir.path().join("vxu.hl7"), dir.path().join("acks.txt"));
    synth(&db, &file, 50);
    ok(ctwiz(&db)
        .args(["hl7", "import", "--batch-size", "7", "--acks"])
        .arg(&acks)
        .arg(&file));
    let full = std::fs::read_to_string(&acks).expect("acks");
    let lines: Vec<&str> = full.split_terminator('\n').collect();
    let n = lines.len();
    assert!(n > 10, "{n}");
    // Lose the last 10 ACKs and half of the one before (a cut-off write), and mark them
    // pending again, as the store has them when the ACK write never happened.
    let kept = lines[..n - 11].join("\n") + "\n" + &lines[n - 11][..20];
    std::fs::write(&acks, kept).expect("truncate");
    let s = SqliteStore::open(common::db_arg(&db)).expect("open");
    let hash = file_hash(&file);
    let pending: Vec<(u64, String)> = lines[n - 11..]
        .iter()
        .enumerate()
        .map(|(k, l)| ((n - 11 + k + 1) as u64, l.to_string()))
        .collect();
    s.record_pending_acks(&hash, &pending).expect("pending");
    drop(s);
    // Resuming (the file is complete, nothing is imported again) writes them.
    let out = ok(ctwiz(&db)
        .args(["hl7", "import", "--acks"])
        .arg(&acks)
        .arg(&file));
    assert!(out.contains("(1 already imported): 0 messages"), "{out}");
    let after = std::fs::read_to_string(&acks).expect("acks");
    assert_eq!(
        after, full,
        "the ACK file is complete and has each ACK once"
    );
    // A second resume has nothing left to write.
    ok(ctwiz(&db)
        .args(["hl7", "import", "--acks"])
        .arg(&acks)
        .arg(&file));
    assert_eq!(std::fs::read_to_string(&acks).expect("acks"), full);
}

/// The file identity `ctwiz hl7 import` resumes by (FNV-1a 64 and the length).
fn file_hash(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}:{}", bytes.len())
}

/// Writes `dir/bad.hl7`: the first `n` messages `ctwiz hl7 synth` writes (one per
/// line), with byte 0xFF put into the patient name of message `bad` (1-based).
/// Returns the file and the bad message's MSH-10.
fn file_with_bad_byte(db: &Path, dir: &Path, n: usize, bad: usize) -> (PathBuf, String) {
    let all = dir.join("all.hl7");
    synth(db, &all, n as u32 + 10);
    let text = std::fs::read_to_string(&all).expect("messages");
    let messages: Vec<&str> = text.split_terminator('\n').take(n).collect();
    assert_eq!(messages.len(), n);
    let mut out = Vec::new();
    let mut control = String::new();
    for (i, m) in messages.iter().enumerate() {
        if i + 1 == bad {
            control = m.split('|').nth(9).expect("MSH-10").to_string();
            let pid = m.find("\rPID|").expect("PID");
            let name = pid + m[pid..].match_indices('|').nth(4).expect("PID-5").0 + 1;
            out.extend_from_slice(&m.as_bytes()[..name]);
            out.push(0xFF);
            out.extend_from_slice(&m.as_bytes()[name..]);
        } else {
            out.extend_from_slice(m.as_bytes());
        }
        out.push(b'\n');
    }
    let file = dir.join("bad.hl7");
    std::fs::write(&file, out).expect("write");
    (file, control)
}

/// The ACK lines of an ACK file, as (MSA-1, MSA-2, whole ACK).
fn acks_of(file: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(file).expect("acks");
    text.split_terminator('\n')
        .map(|ack| {
            let msa = ack
                .split('\r')
                .find(|s| s.starts_with("MSA|"))
                .expect("MSA");
            let f: Vec<&str> = msa.split('|').collect();
            (f[1].to_string(), f[2].to_string(), ack.to_string())
        })
        .collect()
}

/// One non-UTF-8 byte in message 101 of 300 used to stop the import there (no AR,
/// nothing logged, and a resume failed at the same line). Now it costs that message
/// only: AR with an ERR, a row in the message log and the DQA errors view, and the
/// other 299 are processed.
#[test]
fn a_bad_byte_costs_its_message_only() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("b.db");
    let (file, bad) = file_with_bad_byte(&db, dir.path(), 300, 101);
    let acks = dir.path().join("acks.txt");
    let out = ok(ctwiz(&db)
        .args(["hl7", "import", "--batch-size", "40", "--acks"])
        .arg(&acks)
        .arg(&file));
    assert!(out.contains(": 300 messages"), "{out}");
    assert!(out.contains("rejected 1 (AR)"), "{out}");
    let answers = acks_of(&acks);
    assert_eq!(answers.len(), 300, "one ACK per message");
    assert_eq!(answers[100].1, bad, "ACKs are in message order");
    assert_eq!(answers[100].0, "AR");
    assert!(
        answers[100].2.contains("\rERR|") && answers[100].2.contains("102^Data type error"),
        "{}",
        answers[100].2
    );
    assert!(answers[100].2.contains("not UTF-8"), "{}", answers[100].2);
    for (i, (code, _, ack)) in answers.iter().enumerate() {
        if i != 100 {
            assert!(code == "AA" || code == "AE", "message {}: {ack}", i + 1);
        }
    }
    let s = SqliteStore::open(common::db_arg(&db)).expect("open");
    let log = s.message_log(None, u32::MAX).expect("log");
    assert_eq!(log.len(), 300);
    let row = log.iter().find(|e| e.control_id == bad).expect("logged");
    assert!(row.errors.iter().any(|e| e.hl7_code == "102"));
    let facility = row.facility.clone();
    assert!(!facility.is_empty(), "the facility is read from MSH-4");
    drop(s);
    let dqa = ok(ctwiz(&db).args(["report", "dqa", "--view", "errors", "--format", "csv"]));
    assert!(
        dqa.lines()
            .any(|l| l.starts_with(&format!("{facility},")) && l.contains(",E,102,")),
        "{dqa}"
    );
    // Nothing is left: importing again adds nothing.
    let again = ok(ctwiz(&db).args(["hl7", "import"]).arg(&file));
    assert!(
        again.contains("(1 already imported): 0 messages"),
        "{again}"
    );
}

/// A run killed before or after the bad message resumes past it: every message gets
/// exactly one ACK over both runs, the bad one AR.
#[test]
fn an_import_with_a_bad_byte_resumes_after_a_kill() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("r.db");
    let (file, bad) = file_with_bad_byte(&db, dir.path(), 3000, 101);
    let acks = dir.path().join("acks.txt");
    kill_import_after(&db, &file, &acks, 20, 60);
    let out = ok(ctwiz(&db)
        .args(["hl7", "import", "--acks"])
        .arg(&acks)
        .arg(&file));
    assert!(out.contains("(0 already imported)"), "{out}");
    let answers = acks_of(&acks);
    let ids: BTreeSet<&String> = answers.iter().map(|a| &a.1).collect();
    assert_eq!(ids.len(), answers.len(), "a message was acknowledged twice");
    assert_eq!(answers.len(), 3000, "a message got no ACK");
    let rejected: Vec<&String> = answers
        .iter()
        .filter(|a| a.0 == "AR")
        .map(|a| &a.1)
        .collect();
    assert_eq!(rejected, [&bad]);
    let s = SqliteStore::open(common::db_arg(&db)).expect("open");
    assert_eq!(s.message_log(None, u32::MAX).expect("log").len(), 3000);
}

/// A file saved with a UTF-8 byte order mark is read like one without.
#[test]
fn a_leading_bom_is_accepted() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("bom.db");
    let plain = dir.path().join("plain.hl7");
    synth(&db, &plain, 5);
    let bom = dir.path().join("bom.hl7");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(&plain).expect("read"));
    std::fs::write(&bom, bytes).expect("write");
    let out = ok(ctwiz(&db).args(["hl7", "import"]).arg(&bom));
    assert!(out.contains("rejected 0 (AR)"), "{out}");
    let (patients, _, logged) = totals(&db);
    assert!(patients >= 5 && logged >= 5, "{patients} {logged}");
    let processed = ok(ctwiz(&db).args(["hl7", "process"]).arg(&bom));
    assert!(!processed.contains("MSA|AR"), "{processed}");
}

/// `--user`: the import acts for that account, per message's facility; a message for
/// a clinic where the user may not submit is answered AR and nothing of it is stored.
/// Without `--user` the operator acts with state authority.
#[test]
fn import_as_a_user_submits_only_where_the_user_may() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("u.db");
    for pin in ["C1", "C2"] {
        ok(ctwiz(&db).args(["clinic", "add", "--pin", pin, "--name", pin]));
    }
    ok(ctwiz(&db).args([
        "user",
        "add",
        "--username",
        "ehr-c1",
        "--email",
        "ehr@example.org",
        "--role",
        "clinic-dqa-interface",
        "--clinic",
        "C1",
    ]));
    let vxu = |pin: &str, ctl: &str| {
        format!(
            "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|{ctl}|P|2.5.1\r\
             PID|1||MRN-{ctl}^^^{pin}^MR||Doe^{ctl}||20250101|F\r\
             ORC|RE||D-{ctl}^{pin}\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\n"
        )
    };
    let file = dir.path().join("two.hl7");
    std::fs::write(&file, vxu("C1", "M1") + &vxu("C2", "M2")).expect("write");
    let acks = dir.path().join("acks.txt");
    ok(ctwiz(&db)
        .args(["hl7", "import", "--as", "ehr-c1", "--acks"])
        .arg(&acks)
        .arg(&file));
    let answers = acks_of(&acks);
    assert_eq!(answers[0].0, "AA", "{}", answers[0].2);
    assert_eq!(answers[1].0, "AR", "{}", answers[1].2);
    assert!(
        answers[1]
            .2
            .contains("not authorized for facility C2: you may not submit immunization messages"),
        "{}",
        answers[1].2
    );
    assert_eq!(totals(&db).0, 1, "only C1's patient is stored");

    // The operator (no --user) may submit for any clinic.
    let other = dir.path().join("c2.hl7");
    std::fs::write(&other, vxu("C2", "M3")).expect("write");
    let out = ok(ctwiz(&db).args(["hl7", "import"]).arg(&other));
    assert!(out.contains("accepted 1 (AA)"), "{out}");
    // An unknown user is refused before anything is read.
    let unknown = ctwiz(&db)
        .args(["hl7", "import", "--as", "nobody"])
        .arg(&other)
        .output()
        .expect("run");
    assert!(!unknown.status.success());
}

/// A batch file (FHS/BHS … BTS/FTS) is acknowledged as one (HL7 v2.5.1 §2.10.3): the
/// ACK file has our FHS/BHS answering the sender's (FHS-12/BHS-12 = its control ids),
/// the ACKs, and BTS (the count) / FTS. Importing the file again adds no second envelope.
#[test]
fn the_ack_file_of_a_batch_file_has_the_batch_envelope() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("db.sqlite");
    let plain = dir.path().join("plain.hl7");
    synth(&db, &plain, 3);
    let messages = std::fs::read_to_string(&plain).expect("read");
    let count = messages.matches("MSH|").count();
    let file = dir.path().join("batch.hl7");
    std::fs::write(
        &file,
        format!(
            "FHS|^~\\&|EHR|C1|CTWIZ|CTDPH|20261101120000-0500||batch.hl7||FILE-7\r\n\
             BHS|^~\\&|EHR|C1|CTWIZ|CTDPH|20261101120000-0500||||BATCH-7\r\n\
             {}\r\nBTS|{count}\r\nFTS|1\r\n",
            messages.trim_end()
        ),
    )
    .expect("write batch");
    let acks = dir.path().join("acks.hl7");
    for _ in 0..2 {
        ok(ctwiz(&db)
            .args(["hl7", "import", "--batch-size", "2", "--acks"])
            .arg(&acks)
            .arg(&file));
    }
    let text = std::fs::read_to_string(&acks).expect("acks");
    let lines: Vec<&str> = text.lines().collect();
    let field = |line: &str, n: usize| line.split('|').nth(n - 1).unwrap_or("").to_string();
    assert!(
        lines[0].starts_with("FHS|^~\\&|CTWIZ|CTDPH|EHR|C1|"),
        "{text}"
    );
    assert_eq!(field(lines[0], 12), "FILE-7", "{text}");
    assert!(
        lines[1].starts_with("BHS|^~\\&|CTWIZ|CTDPH|EHR|C1|"),
        "{text}"
    );
    assert_eq!(field(lines[1], 12), "BATCH-7", "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("MSH|")).count(),
        count,
        "{text}"
    );
    assert_eq!(lines[lines.len() - 2], format!("BTS|{count}"), "{text}");
    assert_eq!(lines[lines.len() - 1], "FTS|1", "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("FHS|")).count(),
        1,
        "{text}"
    );
    // Our own batch reader reads it back as one batch of `count` ACKs.
    let as_cr = text.replace('\n', "\r");
    let parsed = ctwiz_hl7::batch::parse(&as_cr).expect("a batch file");
    assert_eq!(parsed.batches.len(), 1);
    assert_eq!(parsed.batches[0].messages.len(), count);
    assert!(parsed.batches[0].count_matches());
}

/// A name in another script travels through HL7 as written: stored, matched (a second
/// clinic's VXU for the same child joins the same record), found by a Z34 query, and
/// returned unchanged in the RSP.
#[test]
fn names_in_any_script_are_stored_matched_and_sent_back_as_written() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("u.db");
    ok(ctwiz(&db).args(["clinic", "add", "--pin", "C1", "--name", "One"]));
    ok(ctwiz(&db).args(["clinic", "add", "--pin", "C2", "--name", "Two"]));
    let vxu = |pin: &str, id: &str, cvx: &str, day: &str| {
        format!(
            "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|{day}090000||VXU^V04^VXU_V04|{id}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
             PID|1||MRN-{id}^^^{pin}^MR||Иванова^Анна^Сергеевна^^^^L|Петрова^Мария|20250101|F|||ул. Ленина 1^^Hartford^CT^06101^USA^P\r\
             ORC|RE||{id}^{pin}\rRXA|0|1|{day}||{cvx}^vaccine^CVX|999|||01^^NIP001\r"
        )
    };
    let file = dir.path().join("in.hl7");
    std::fs::write(
        &file,
        format!(
            "{}{}",
            vxu("C1", "U1", "08", "20250101"),
            vxu("C2", "U2", "20", "20250301")
        ),
    )
    .expect("write");
    let out = ok(ctwiz(&db).args(["hl7", "process"]).arg(&file));
    assert!(
        out.contains("MSA|AA|U1") && out.contains("MSA|AA|U2"),
        "{out}"
    );
    let s = SqliteStore::open(common::db_arg(&db)).expect("db");
    let found = s
        .search_patients(&ctwiz_store::PatientQuery {
            family: Some("иванова".into()),
            limit: 10,
            ..Default::default()
        })
        .expect("search");
    assert_eq!(found.rows.len(), 1, "one record for both clinics' messages");
    assert_eq!(found.rows[0].name.family, "Иванова");
    assert_eq!(found.rows[0].name.given, "Анна");
    let doses = ctwiz_store::DoseStore::doses(&s, found.rows[0].id).expect("doses");
    assert_eq!(doses.len(), 2);

    let query = dir.path().join("q.hl7");
    std::fs::write(
        &query,
        "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250401090000||QBP^Q11^QBP_Q11|Q1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
         QPD|Z34^Request Immunization History^CDCPHINVS|QT1|^^^^MR|Иванова^Анна^^^^^L||20250101|F\r\
         RCP|I|5^RD&records&HL70126\r",
    )
    .expect("write");
    let rsp = ok(ctwiz(&db).args(["hl7", "process"]).arg(&query));
    assert!(rsp.contains("RSP^K11"), "{rsp}");
    assert!(rsp.contains("Иванова^Анна^Сергеевна"), "{rsp}");
    // PID-6 keeps the mother's maiden surname (the name type M says what it is).
    assert!(rsp.contains("|Петрова^^^^^^M|"), "{rsp}");
}

/// (patients, doses) stored in the database at `location` (a file or a PostgreSQL URL).
fn records_and_doses(location: &Path) -> (u64, usize) {
    let s = SqliteStore::open(location).expect("open");
    let mut doses = 0;
    s.for_each_patient(&mut |_, d| {
        doses += d.len();
        Ok(())
    })
    .expect("scan");
    (s.patient_count().expect("count"), doses)
}

/// A message the database refuses in the middle of its writes (its patient row is
/// written, then one of its doses is refused) is answered AR "nothing was kept", and
/// nothing of it is; the messages before and after it in the same batch are stored.
/// (The import runs a batch without a savepoint per message, and runs it again with
/// them when one fails: this is that second run.)
#[test]
fn a_message_failing_mid_write_leaves_nothing_and_its_batch_goes_on() {
    let failing = common::pg::TestDb::new("failing.db");
    let control = common::pg::TestDb::new("control.db");
    let run = |db: &common::pg::TestDb, args: &[&str]| -> String {
        ok(common::command(db.location().as_os_str()).args(args))
    };
    let synth = [
        "hl7",
        "synth",
        "--children",
        "12",
        "--clinics",
        "5",
        "--register-clinics",
        "--as-of",
        "2026-11-01",
    ];
    let text = run(&failing, &synth);
    assert_eq!(run(&control, &synth), text, "the same feed for both");
    let messages: Vec<String> = text.split_terminator('\n').map(str::to_string).collect();
    assert!(messages.len() >= 10);
    // Message 6 (the middle of the second batch of four): its first dose's lot (RXA-15)
    // is one the failing database refuses.
    let bad = 5;
    let m = &messages[bad];
    let rxa = m.find("\rRXA|").expect("an RXA");
    let lot_at = rxa + m[rxa..].match_indices('|').nth(14).expect("RXA-15").0 + 1;
    let lot_end = lot_at + m[lot_at..].find('|').expect("RXA-16");
    let changed = format!("{}REFUSEDLOT{}", &m[..lot_at], &m[lot_end..]);
    let control_id = m.split('|').nth(9).expect("MSH-10").to_string();
    let mut with_bad = messages.clone();
    with_bad[bad] = changed;
    let without_bad: Vec<String> = messages
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != bad)
        .map(|(_, m)| m.clone())
        .collect();
    let feed = failing.dir().join("feed.hl7");
    std::fs::write(&feed, with_bad.join("\n") + "\n").expect("write");
    let control_feed = control.dir().join("feed.hl7");
    std::fs::write(&control_feed, without_bad.join("\n") + "\n").expect("write");

    failing.refuse_doses_with_lot("REFUSEDLOT");
    let acks = failing.dir().join("acks.txt");
    let out = run(
        &failing,
        &[
            "hl7",
            "import",
            "--batch-size",
            "4",
            "--acks",
            acks.to_str().expect("path"),
            feed.to_str().expect("path"),
        ],
    );
    assert!(out.contains("rejected 1 (AR)"), "{out}");
    let answers = acks_of(&acks);
    assert_eq!(answers.len(), messages.len(), "one ACK per message");
    assert_eq!(answers[bad].1, control_id);
    assert_eq!(answers[bad].0, "AR");
    assert!(
        answers[bad].2.contains("207^Application internal error")
            && answers[bad].2.contains("nothing was kept"),
        "{}",
        answers[bad].2
    );
    for (i, (code, _, ack)) in answers.iter().enumerate() {
        if i != bad {
            assert!(code == "AA" || code == "AE", "message {}: {ack}", i + 1);
        }
    }
    run(
        &control,
        &["hl7", "import", control_feed.to_str().expect("path")],
    );
    // The failing database holds exactly what the feed without that message stores.
    assert_eq!(
        records_and_doses(failing.location()),
        records_and_doses(control.location())
    );
    let s = SqliteStore::open(failing.location()).expect("open");
    let log = s.message_log(None, u32::MAX).expect("log");
    assert_eq!(log.len(), messages.len(), "each message logged once");
    assert!(log.iter().any(|e| e.control_id == control_id));
}
