//! Soak test (issue 19): SOAP and MLLP clients submit VXUs to a `ctwiz serve` process
//! for a while; in the middle the server is stopped with SIGTERM (it must drain and exit
//! cleanly) and started again on the same database and ports, and later killed outright
//! (SIGKILL) and started again. Every client resends a message it got no answer to until
//! it is answered, as an EHR does; each also drops its connection right after sending
//! now and then, so an answer is lost after the registry may have committed. Afterwards
//! the store is read: every message acknowledged AA is stored (its patient and its dose),
//! and nothing is stored twice.
//!
//! Bounded and loopback only: 15 s of sending by default, `CTWIZ_SOAK_SECS` for longer.
//! SQLite by default; `CTWIZ_TEST_BACKEND=postgres` runs it on PostgreSQL (`common`).
//! The counts are printed (`--nocapture` shows them).

#![cfg(unix)]

mod common;

use chrono::{Duration as Days, Local, NaiveDate};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::ids::{ClinicPin, Email, Username};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_hl7::interface::soap;
use ctwiz_store::interface::InterfaceStore;
use ctwiz_store::{accounts, OrgStore, PatientStore, SqliteStore, UserStore};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PIN: &str = "CT0SOAK";
const PASSWORD: &str = "Soak-Test-Interface-2026";
const SOAP_CLIENTS: usize = 3;
const MLLP_CLIENTS: usize = 3;
/// One message is resent for at most this long before the test gives up on it.
const MESSAGE_DEADLINE: Duration = Duration::from_secs(120);
/// How long a client waits for an answer before it resends.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

fn soak_secs() -> u64 {
    match std::env::var("CTWIZ_SOAK_SECS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("CTWIZ_SOAK_SECS={s:?}: expected whole seconds")),
        Err(_) => 15,
    }
}

/// Two free loopback ports (both held while choosing, so they differ).
fn free_ports() -> (SocketAddr, SocketAddr) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let (a, b) = (bind(), bind());
    (
        a.local_addr().expect("local address"),
        b.local_addr().expect("local address"),
    )
}

/// The `ctwiz serve` process with MLLP on, bound to the soak facility.
struct Server {
    db: OsString,
    http: SocketAddr,
    mllp: SocketAddr,
    log: std::path::PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) -> Duration {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let child = common::command(&self.db)
            .args([
                "serve",
                "--addr",
                &self.http.to_string(),
                "--mllp",
                &self.mllp.to_string(),
                "--mllp-bind",
                &format!("{PIN}=soak-mllp@127.0.0.1"),
                "--no-schedule",
            ])
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("ctwiz serve starts");
        self.child = Some(child);
        while http_get(self.http, "/readyz").is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("ctwiz serve exited with {status}:\n{}", self.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "ctwiz serve not ready after 60 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        started.elapsed()
    }

    /// Sends `signal` and waits for the process to end; how long that took, and
    /// whether it exited successfully.
    fn stop(&mut self, signal: &str) -> (Duration, bool) {
        let mut child = self.child.take().expect("a running server");
        let asked = Instant::now();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} failed");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return (asked.elapsed(), status.success());
            }
            assert!(
                asked.elapsed() < Duration::from_secs(30),
                "ctwiz serve still running 30 s after SIG{signal}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `GET path` over a fresh connection: the whole response, or `None` when the server
/// does not answer.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// One message of the soak: client `client`'s `n`th. Patient `n / 2` of the client gets
/// two messages, one dose each (so the second finds the record the first created);
/// every other patient's doses carry the sender's id (ORC-3), the others are known by
/// vaccine and date only.
#[derive(Debug, Clone)]
struct Msg {
    control_id: String,
    mrn: String,
    cvx: &'static str,
    date: NaiveDate,
    text: String,
}

const FAMILIES: [&str; 12] = [
    "Okafor",
    "Lindqvist",
    "Marchetti",
    "Haddad",
    "Nakamura",
    "Kowalczyk",
    "Oyelaran",
    "Delacroix",
    "Brennan",
    "Szabo",
    "Quintero",
    "Abernathy",
];
const GIVEN: [&str; 10] = [
    "Amara", "Bastian", "Clio", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonah",
];

fn message(client: usize, n: usize, today: NaiveDate) -> Msg {
    let p = n / 2;
    let key = client * 100_003 + p;
    let dob = today - Days::days(400 + (key % 1_500) as i64);
    let (cvx, mvx, date) = if n.is_multiple_of(2) {
        ("08", "MSD", dob + Days::days(1))
    } else {
        ("10", "PMC", dob + Days::days(61))
    };
    let control_id = format!("SOAK-{client}-{n}");
    let mrn = format!("S{client}P{p}");
    let orc = if p.is_multiple_of(2) {
        format!("ORC|RE||{mrn}D{}^{PIN}\r", n % 2)
    } else {
        "ORC|RE\r".to_string()
    };
    let sex = if key.is_multiple_of(2) { "F" } else { "M" };
    let text = format!(
        "MSH|^~\\&|SOAK-EHR|{PIN}|CTWIZ|CTDPH|{now}||VXU^V04^VXU_V04|{control_id}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
         PID|1||{mrn}^^^{PIN}^MR||{family}^{given}^{middle}^^^^L||{dob}|{sex}|||{street} Elm St^^Hartford^CT^06101^USA^L\r\
         {orc}\
         RXA|0|1|{date}||{cvx}^vaccine^CVX|0.5|mL^mL^UCUM||00^New immunization record^NIP001||||||L{key}|{expiry}|{mvx}^^MVX|||CP|A\r",
        now = Local::now().format("%Y%m%d%H%M%S"),
        family = FAMILIES[key % FAMILIES.len()],
        given = GIVEN[(key / FAMILIES.len()) % GIVEN.len()],
        middle = letters(key),
        dob = dob.format("%Y%m%d"),
        street = 1 + key % 997,
        date = date.format("%Y%m%d"),
        expiry = (date + Days::days(365)).format("%Y%m%d"),
    );
    Msg {
        control_id,
        mrn,
        cvx,
        date,
        text,
    }
}

/// A number as letters (names hold letters only).
fn letters(mut k: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'A' + (k % 26) as u8) as char);
        k /= 26;
        if k == 0 {
            return s;
        }
    }
}

/// What became of one attempt to deliver a message.
enum Attempt {
    /// The answer (an ACK in ER7).
    Answered(String),
    /// Nothing was sent: the server is not listening.
    Refused,
    /// Sent (perhaps partly), and no answer came: connection lost or timed out.
    Lost(String),
}

/// A SOAP `submitSingleMessage` over a fresh HTTP/1.1 connection. With `drop_answer`
/// the client closes right after sending (its answer is lost on purpose).
fn soap_attempt(addr: SocketAddr, user: &str, hl7: &str, drop_answer: bool) -> Attempt {
    let mut s = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(s) => s,
        Err(_) => return Attempt::Refused,
    };
    let body = soap::submit_request(user, PASSWORD, PIN, hl7);
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        ctwiz_web::soap::PATH,
        soap::CONTENT_TYPE,
        body.len()
    );
    if let Err(e) = s.write_all(request.as_bytes()) {
        return Attempt::Lost(format!("SOAP write: {:?}", e.kind()));
    }
    if drop_answer {
        return Attempt::Lost("answer dropped on purpose".into());
    }
    let _ = s.set_read_timeout(Some(ANSWER_TIMEOUT));
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        return Attempt::Lost(format!("SOAP read: {:?}", e.kind()));
    }
    let raw = String::from_utf8_lossy(&raw);
    let Some((head, body)) = raw.split_once("\r\n\r\n") else {
        return Attempt::Lost("SOAP: closed without a response".into());
    };
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "SOAP answered {}:\n{body}",
        head.lines().next().unwrap_or_default()
    );
    match soap::parse_response(body) {
        Ok(hl7) => Attempt::Answered(hl7),
        Err(f) => panic!("SOAP fault for a valid submission: {f:?}"),
    }
}

/// An MLLP connection that reconnects when lost.
struct MllpClient {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

impl MllpClient {
    fn attempt(&mut self, hl7: &str, drop_answer: bool) -> Attempt {
        if self.stream.is_none() {
            match TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)) {
                Ok(s) => {
                    let _ = s.set_read_timeout(Some(ANSWER_TIMEOUT));
                    self.stream = Some(s);
                }
                Err(_) => return Attempt::Refused,
            }
        }
        let s = self.stream.as_mut().expect("connected above");
        if let Err(e) = s.write_all(&ctwiz_web::mllp::frame(hl7.as_bytes())) {
            self.stream = None;
            return Attempt::Lost(format!("MLLP write: {:?}", e.kind()));
        }
        if drop_answer {
            self.stream = None;
            return Attempt::Lost("answer dropped on purpose".into());
        }
        let mut frames = ctwiz_web::mllp::Deframer::default();
        let mut buf = [0u8; 8192];
        loop {
            if let Some(payload) = frames.next_frame() {
                return Attempt::Answered(String::from_utf8_lossy(&payload).into_owned());
            }
            match s.read(&mut buf) {
                Ok(0) => {
                    self.stream = None;
                    return Attempt::Lost("MLLP: closed by the server".into());
                }
                Ok(n) => frames.push(&buf[..n]),
                Err(e) => {
                    self.stream = None;
                    return Attempt::Lost(format!("MLLP read: {:?}", e.kind()));
                }
            }
        }
    }
}

/// What one client did.
#[derive(Debug, Default)]
struct Tally {
    /// Messages answered, by MSA-1.
    aa: u64,
    ae: u64,
    ar: u64,
    /// Messages sent again after a send that got no answer.
    resent: u64,
    /// ... of which after an answer dropped on purpose.
    dropped: u64,
    /// Attempts that found no server listening (nothing was sent).
    refused: u64,
    /// Sends that got no answer, by why.
    lost: BTreeMap<String, u64>,
    /// Each answered message: (MSA-1, the message).
    answered: Vec<(String, Msg)>,
}

/// MSA-1 and MSA-2 of an ACK.
fn msa(ack: &str) -> (String, String) {
    let seg = ack
        .split('\r')
        .find(|s| s.starts_with("MSA|"))
        .unwrap_or_else(|| panic!("no MSA in the answer: {ack:?}"));
    let mut f = seg.split('|').skip(1);
    (
        f.next().unwrap_or_default().to_string(),
        f.next().unwrap_or_default().to_string(),
    )
}

fn run_client(
    client: usize,
    door: Door,
    http: SocketAddr,
    mllp: SocketAddr,
    until: Instant,
    today: NaiveDate,
) -> Tally {
    let mut t = Tally::default();
    let user = format!("soak-soap-{client}");
    let mut link = MllpClient {
        addr: mllp,
        stream: None,
    };
    let mut n = 0;
    while Instant::now() < until {
        let m = message(client, n, today);
        // Now and then the first send's answer is lost (the EHR crashed, the network
        // dropped): the resend must not store the message twice.
        let mut drop_answer = n % 17 == 5;
        let first = Instant::now();
        let mut sent_before = false;
        let ack = loop {
            assert!(
                first.elapsed() < MESSAGE_DEADLINE,
                "client {client}: {} unanswered for {MESSAGE_DEADLINE:?}",
                m.control_id
            );
            let attempt = match door {
                Door::Soap => soap_attempt(http, &user, &m.text, drop_answer),
                Door::Mllp => link.attempt(&m.text, drop_answer),
            };
            if sent_before && !matches!(attempt, Attempt::Refused) {
                t.resent += 1;
            }
            match attempt {
                Attempt::Answered(ack) => break ack,
                Attempt::Refused => {
                    t.refused += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Attempt::Lost(why) => {
                    if drop_answer {
                        t.dropped += 1;
                    } else {
                        *t.lost.entry(why).or_default() += 1;
                    }
                    sent_before = true;
                    drop_answer = false;
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let (code, control) = msa(&ack);
        assert_eq!(control, m.control_id, "the ACK answers another message");
        match code.as_str() {
            "AA" => t.aa += 1,
            "AE" => t.ae += 1,
            _ => t.ar += 1,
        }
        t.answered.push((code, m));
        n += 1;
    }
    t
}

#[derive(Debug, Clone, Copy)]
enum Door {
    Soap,
    Mllp,
}

fn setup(db: &Path) {
    let s = SqliteStore::open(common::db_arg(db)).expect("store");
    let pin = ClinicPin::new(PIN).expect("pin");
    s.add_clinic(
        &Clinic::new(
            pin.clone(),
            "Soak Pediatrics",
            County::Hartford,
            ProgramType::Cvp,
        )
        .expect("clinic"),
    )
    .expect("add clinic");
    let hash = accounts::hash_password(PASSWORD).expect("hash");
    let names = (0..SOAP_CLIENTS)
        .map(|i| format!("soak-soap-{i}"))
        .chain(["soak-mllp".to_string()]);
    for name in names {
        let mut u = User::new(
            Username::new(&name).expect("username"),
            &name,
            Email::new(&format!("{name}@example.org")).expect("email"),
        )
        .expect("user");
        u.grant(
            Grant::new(Role::ClinicAccessDqaInterface, Scope::Clinic(pin.clone())).expect("grant"),
        );
        s.create_user(&u, &hash, false).expect("create user");
    }
}

/// What the store holds for the soak clinic: per MRN, how many live patient records
/// carry it and the doses (CVX, date) across them.
type Stored = BTreeMap<String, (usize, Vec<(String, NaiveDate)>)>;

fn stored(db: &Path) -> Stored {
    let s = SqliteStore::open(common::db_arg(db)).expect("store");
    let pin = ClinicPin::new(PIN).expect("pin");
    let mut out = Stored::new();
    s.for_each_patient(&mut |p, doses| {
        for m in p.mrns.iter().filter(|m| m.clinic == pin) {
            let e = out.entry(m.value.clone()).or_default();
            e.0 += 1;
            e.1.extend(doses.iter().map(|d| (d.cvx.as_str().to_string(), d.date)));
        }
        Ok(())
    })
    .expect("read patients");
    out
}

/// How many messages the server processed more than once (by MSH-10 in its message
/// log): resends whose first send had been processed, its answer lost.
fn processed_twice(db: &Path) -> usize {
    let s = SqliteStore::open(common::db_arg(db)).expect("store");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for e in s.message_log(Some(PIN), u32::MAX).expect("message log") {
        *seen.entry(e.control_id).or_default() += 1;
    }
    seen.values().filter(|n| **n > 1).count()
}

#[test]
fn acknowledged_messages_are_stored_once_across_restarts() {
    let secs = soak_secs();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("soak.db");
    setup(&db);
    let backend = if common::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let (http, mllp) = free_ports();
    let mut server = Server {
        db: common::db_arg(&db),
        http,
        mllp,
        log: dir.path().join("serve.log"),
        child: None,
    };
    server.start();
    let today = Local::now().date_naive();
    let began = Instant::now();
    let until = began + Duration::from_secs(secs);
    let clients: Vec<_> = (0..SOAP_CLIENTS + MLLP_CLIENTS)
        .map(|c| {
            let door = if c < SOAP_CLIENTS {
                Door::Soap
            } else {
                Door::Mllp
            };
            let (http, mllp) = (server.http, server.mllp);
            std::thread::spawn(move || run_client(c, door, http, mllp, until, today))
        })
        .collect();
    // The restarts, a third and two thirds of the way through.
    std::thread::sleep(Duration::from_secs(secs) / 3);
    let (term_took, term_clean) = server.stop("TERM");
    let term_start = server.start();
    std::thread::sleep(
        (began + Duration::from_secs(secs) * 2 / 3).saturating_duration_since(Instant::now()),
    );
    let (_, _) = server.stop("KILL");
    let kill_start = server.start();
    let tallies: Vec<Tally> = clients
        .into_iter()
        .map(|c| c.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect();
    let sending = began.elapsed();
    let (final_took, final_clean) = server.stop("TERM");
    assert!(
        term_clean && final_clean,
        "ctwiz serve did not exit cleanly on SIGTERM:\n{}",
        server.log_text()
    );
    // Each SIGTERM went through the drain (two of them: mid-run and at the end).
    let log = std::fs::read_to_string(&server.log).expect("server log");
    assert_eq!(log.matches("SIGTERM: stopping").count(), 2, "{log}");
    assert_eq!(log.matches("MLLP stopped:").count(), 2, "{log}");

    let sum = |f: fn(&Tally) -> u64| tallies.iter().map(f).sum::<u64>();
    let by_door =
        |d: std::ops::Range<usize>| tallies[d].iter().map(|t| t.answered.len()).sum::<usize>();
    let answered: Vec<&(String, Msg)> = tallies.iter().flat_map(|t| &t.answered).collect();
    let store = stored(&db);
    // Every AA is stored: its patient (one record) holds its dose.
    let mut missing = Vec::new();
    for (code, m) in &answered {
        if code != "AA" {
            continue;
        }
        let found = store
            .get(&m.mrn)
            .is_some_and(|(_, doses)| doses.contains(&(m.cvx.to_string(), m.date)));
        if !found {
            missing.push(m.control_id.clone());
        }
    }
    // Nothing twice: one record per MRN, each dose once.
    let duplicate_patients: Vec<&String> = store
        .iter()
        .filter(|(_, e)| e.0 > 1)
        .map(|(k, _)| k)
        .collect();
    let mut duplicate_doses = Vec::new();
    for (mrn, (_, doses)) in &store {
        let mut d = doses.clone();
        d.sort();
        let before = d.len();
        d.dedup();
        if d.len() != before {
            duplicate_doses.push(mrn.clone());
        }
    }
    let processed_twice = processed_twice(&db);
    let mut lost: BTreeMap<String, u64> = BTreeMap::new();
    for (why, k) in tallies.iter().flat_map(|t| &t.lost) {
        *lost.entry(why.clone()).or_default() += k;
    }
    let stored_doses: usize = store.values().map(|e| e.1.len()).sum();
    let expected_mrns: std::collections::BTreeSet<&String> = answered
        .iter()
        .filter(|(c, _)| c == "AA")
        .map(|(_, m)| &m.mrn)
        .collect();
    let unexpected: Vec<&String> = store
        .keys()
        .filter(|k| !expected_mrns.contains(k))
        .collect();

    println!(
        "soak on {backend}: {secs} s of sending ({:.1} s with restarts), {SOAP_CLIENTS} SOAP + {MLLP_CLIENTS} MLLP clients\n\
         restarts: SIGTERM at {:.1} s (exited cleanly in {:.2} s, ready again in {:.2} s), SIGKILL at {:.1} s (ready again in {:.2} s); final SIGTERM exit in {:.2} s\n\
         sent {} messages ({} SOAP, {} MLLP): acked AA {}, AE {}, AR {}\n\
         resent {} (after {} answers dropped on purpose, the rest after a lost connection or timeout: {lost:?}); {} attempts refused while the server was down\n\
         stored: {} patients, {} doses; AA missing from the store {}, duplicate patients {}, duplicate doses {}, stored without an AA {}; {processed_twice} messages processed twice by the server (its answer lost), stored once\n\
         throughput: {:.1} messages/s acknowledged",
        sending.as_secs_f64(),
        secs as f64 / 3.0,
        term_took.as_secs_f64(),
        term_start.as_secs_f64(),
        secs as f64 * 2.0 / 3.0,
        kill_start.as_secs_f64(),
        final_took.as_secs_f64(),
        answered.len(),
        by_door(0..SOAP_CLIENTS),
        by_door(SOAP_CLIENTS..SOAP_CLIENTS + MLLP_CLIENTS),
        sum(|t| t.aa),
        sum(|t| t.ae),
        sum(|t| t.ar),
        sum(|t| t.resent),
        sum(|t| t.dropped),
        sum(|t| t.refused),
        store.len(),
        stored_doses,
        missing.len(),
        duplicate_patients.len(),
        duplicate_doses.len(),
        unexpected.len(),
        answered.len() as f64 / sending.as_secs_f64(),
    );
    assert_eq!(
        sum(|t| t.ae) + sum(|t| t.ar),
        0,
        "every soak message is valid"
    );
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    assert!(
        duplicate_patients.is_empty(),
        "patients stored twice: {duplicate_patients:?}"
    );
    assert!(
        duplicate_doses.is_empty(),
        "doses stored twice (by MRN): {duplicate_doses:?}"
    );
    assert!(
        unexpected.is_empty(),
        "stored but never acknowledged: {unexpected:?}"
    );
    assert!(
        sum(|t| t.dropped) > 0,
        "the soak lost no answer on purpose: too short a run"
    );
    assert!(
        processed_twice > 0,
        "no resend reached the server after its message was processed"
    );
    assert!(
        sum(|t| t.refused) > 0,
        "no client met the server down: the restarts did not happen during sending"
    );
}
