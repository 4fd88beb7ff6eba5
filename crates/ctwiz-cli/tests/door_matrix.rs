//! The door matrix: for each use case × access type × door (web, SOAP, MLLP, CLI where
//! the door exists), the permission matrix decides, and the decision and the audit trail
//! are the same whichever door the request came through.
//!
//! Every user holds their role at clinic CT00001 (or its county, or statewide); the
//! patient lives in that county and was reported by CT00001, so scope never decides here:
//! only the role's allowed actions do. Each door maps a use case to one action of the
//! matrix (a page view is `PatientView`, an HL7 query `InterfaceQuery`), and the test
//! expects exactly `role.allows(action)`.
//!
//! Doors: web pages (the real router), SOAP (the CDC service, username/password), MLLP (a
//! real socket; each user's account is bound to CT00001 from its own loopback address), and
//! the CLI as a process (`--as USER`: `patient show`, `patient search`, `hl7 process`,
//! `inventory receive`, `audit`).

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{NaiveDate, Timelike};
use ctwiz_core::access::{Action, Grant, Role, Scope, ScopeKind, User};
use ctwiz_core::dose::{Dose, InformationSource};
use ctwiz_core::ids::{ClinicPin, Cvx, Email, PatientId, UserId, Username, Zip};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Address, Patient, PersonName, Sex};
use ctwiz_hl7::interface::soap;
use ctwiz_store::web::{SecurityAnswer, WebStore};
use ctwiz_store::{
    accounts, AuditAction, AuditEntry, AuditFilter, AuditStore, DoseStore, Interface,
    InventoryStore, OrgStore, PatientStore, SqliteStore, UserStore,
};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use tower::ServiceExt;

const PASSWORD: &str = "Door-Matrix-Pass-2026";
const FAMILY: &str = "Matrixchild";
const HOME: &str = "CT00001";

struct World {
    _dir: tempfile::TempDir,
    /// The MLLP listener; user `i` connects from 127.0.0.(10 + i).
    mllp: std::net::SocketAddr,
    db: PathBuf,
    app: axum::Router,
    patient: PatientId,
    /// (role, username, user id)
    users: Vec<(Role, String, UserId)>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("doors.db");
    let s = SqliteStore::open(common::db_arg(&db)).expect("store");
    let home = ClinicPin::new(HOME).expect("pin");
    s.add_clinic(
        &Clinic::new(
            home.clone(),
            "Home Pediatrics",
            County::Hartford,
            ProgramType::Cvp,
        )
        .expect("clinic"),
    )
    .expect("add clinic");
    let mut p = Patient::new(
        PersonName::new(FAMILY, "Ada").expect("name"),
        date(2024, 1, 15),
        Sex::Female,
    )
    .expect("patient");
    let mut a = Address::new(
        "1 Main St",
        "Hartford",
        "CT",
        Zip::new("06101").expect("zip"),
    )
    .expect("address");
    a.county = Some(County::Hartford);
    p.addresses.push(a);
    p.mrns.push(ctwiz_core::patient::Mrn {
        clinic: home.clone(),
        value: "MRN-D1".into(),
        authority: None,
    });
    let mut d = Dose::new(
        Cvx::new("20").expect("cvx"),
        date(2024, 3, 15),
        InformationSource::HistoricalOtherProvider,
    );
    d.clinic = Some(home.clone());
    let patient = s.create_patient_with_doses(&p, &[d]).expect("patient");
    // The child is on the home school's roster, so the school nurse's matrix answer
    // (her rostered students only) is the plain `Role::allows` the test compares with.
    ctwiz_store::web::WebStore::add_to_roster(
        &s,
        &home,
        patient,
        "test",
        chrono::Utc::now().naive_utc(),
    )
    .expect("roster");
    let mut users = Vec::new();
    for role in Role::ALL {
        let name = format!("door-{}", role.key());
        let scope = match role.scope_kind() {
            ScopeKind::Clinic => Scope::Clinic(home.clone()),
            ScopeKind::Jurisdiction if role == Role::IapCoordinator => Scope::Jurisdiction(
                ctwiz_core::place::Jurisdiction::IapArea("Hartford IAP".into()),
            ),
            ScopeKind::Jurisdiction => {
                Scope::Jurisdiction(ctwiz_core::place::Jurisdiction::County(County::Hartford))
            }
            ScopeKind::State => Scope::State,
        };
        let mut u = User::new(
            Username::new(&name).expect("username"),
            &name,
            Email::new(&format!("{name}@example.org")).expect("email"),
        )
        .expect("user");
        u.grant(Grant::new(role, scope).expect("grant"));
        let id = s
            .create_user(&u, &accounts::hash_password(PASSWORD).expect("hash"), false)
            .expect("create user");
        let answer = accounts::hash_password("blue").expect("hash");
        s.set_security_answers(
            id,
            &[
                SecurityAnswer {
                    question: "Q1".into(),
                    answer_hash: answer.clone(),
                },
                SecurityAnswer {
                    question: "Q2".into(),
                    answer_hash: answer,
                },
            ],
        )
        .expect("answers");
        users.push((role, name, id));
    }
    drop(s);
    let state = ctwiz_web::AppState::new(common::db_arg(&db).into(), false).expect("web state");
    let service =
        ctwiz_web::soap::InterfaceService::new(common::db_arg(&db).into()).expect("interface");
    let bindings = users
        .iter()
        .enumerate()
        .map(|(i, (_, name, _))| {
            format!("{HOME}={name}@{}", mllp_source(i))
                .parse()
                .expect("binding")
        })
        .collect();
    let config = ctwiz_web::mllp::MllpConfig {
        bindings,
        idle_timeout: std::time::Duration::from_secs(30),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("non-blocking");
    let mllp = listener.local_addr().expect("addr");
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    tokio::spawn(ctwiz_web::mllp::serve(listener, service.clone(), config));
    let app = ctwiz_web::router(state).merge(ctwiz_web::soap::router(service));
    World {
        _dir: dir,
        mllp,
        db,
        app,
        patient,
        users,
    }
}

/// The loopback address user `i` connects to MLLP from (all of 127/8 is local).
fn mllp_source(i: usize) -> String {
    format!("127.0.0.{}", 10 + i)
}

/// One framed message over a fresh MLLP connection from `from`; the framed answer, or
/// `None` when the listener closed without answering.
async fn mllp_exchange(to: std::net::SocketAddr, from: &str, message: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::new(from.parse().expect("ip"), 0))
        .expect("bind");
    let mut stream = socket.connect(to).await.expect("connect");
    let _ = stream
        .write_all(&ctwiz_web::mllp::frame(message.as_bytes()))
        .await;
    let mut frames = ctwiz_web::mllp::Deframer::default();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(payload) = frames.next_frame() {
            return Some(String::from_utf8_lossy(&payload).into_owned());
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("the listener neither answered nor closed")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        frames.push(&buf[..n]);
    }
}

/// Whether an RSP discloses the patient: a PID segment naming them (the echoed query
/// carries the name asked for, so the whole text does not tell).
fn rsp_discloses(answer: &str) -> bool {
    answer
        .split('\r')
        .any(|seg| seg.starts_with("PID|") && discloses(seg))
}

fn store(w: &World) -> SqliteStore {
    SqliteStore::open(common::db_arg(&w.db)).expect("store")
}

/// Runs `f` on a store of the world's database, outside the test's async runtime (the
/// PostgreSQL client blocks on a runtime of its own, which may not run inside another).
fn on_store<T>(w: &World, f: impl FnOnce(&SqliteStore) -> T) -> T {
    tokio::task::block_in_place(|| f(&store(w)))
}

/// The patient's doses as stored now.
fn dose_count(w: &World, p: PatientId) -> usize {
    on_store(w, |s| s.doses(p).expect("doses").len())
}

/// A signed-in web session for `id`: the Cookie header and the CSRF token.
fn web_session(w: &World, id: UserId, n: usize) -> (String, String) {
    let token = format!("{:064x}", id.0 as u128 * 104_729 + n as u128 * 7_919 + 7);
    let csrf = format!("csrf-door-{}", id.0);
    let now = chrono::Utc::now()
        .naive_utc()
        .with_nanosecond(0)
        .expect("time");
    on_store(w, |s| {
        s.create_session(&ctwiz_web::session_token_hash(&token), id, &csrf, None, now)
            .expect("session")
    });
    (format!("ctwiz_session={token}"), csrf)
}

async fn http(w: &World, req: Request<Body>) -> (StatusCode, String) {
    let res = w.app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Whether a response discloses the patient (pages print family names in capitals).
fn discloses(text: &str) -> bool {
    text.to_lowercase().contains(&FAMILY.to_lowercase())
}

/// The start of a response, for failure messages.
fn head(text: &str) -> String {
    text.chars().take(400).collect()
}

fn ctwiz(db: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("--db")
        .arg(common::db_arg(db))
        .args(args)
        .env_remove("CTWIZ_DB")
        .env_remove("CTWIZ_USER")
        .env_remove("CTWIZ_CLINIC")
        .output()
        .expect("the ctwiz binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Web,
    Soap,
    Mllp,
    Cli,
}

impl Door {
    fn interface(self) -> Interface {
        match self {
            Door::Web => Interface::Web,
            Door::Soap => Interface::Soap,
            Door::Mllp => Interface::Mllp,
            Door::Cli => Interface::Cli,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum UseCase {
    /// Disclose the patient's record.
    ReadRecord,
    /// Add an immunization to the record.
    RecordDose,
    /// Search patients by name (the list is a disclosure).
    SearchPatients,
    /// Receive vaccine into the clinic's stock.
    ReceiveStock,
    /// Read who saw or changed the record (accounting of disclosures).
    ReadAuditLog,
}

impl UseCase {
    /// The matrix action a door asks for this use case; `None` where the door has none.
    fn action(self, door: Door) -> Option<Action> {
        match (self, door) {
            (UseCase::ReadRecord, Door::Web | Door::Cli) => Some(Action::PatientView),
            (UseCase::ReadRecord, Door::Soap | Door::Mllp) => Some(Action::InterfaceQuery),
            (UseCase::RecordDose, Door::Web) => Some(Action::DoseRecord),
            // `ctwiz hl7 process` is the CLI's way to record doses: an HL7 submission.
            (UseCase::RecordDose, Door::Soap | Door::Mllp | Door::Cli) => {
                Some(Action::InterfaceSubmit)
            }
            (UseCase::SearchPatients, Door::Web | Door::Cli) => Some(Action::PatientSearch),
            (UseCase::ReceiveStock, Door::Web | Door::Cli) => Some(Action::InventoryEdit),
            (UseCase::ReadAuditLog, Door::Web | Door::Cli) => Some(Action::AuditView),
            (
                UseCase::SearchPatients | UseCase::ReceiveStock | UseCase::ReadAuditLog,
                Door::Soap | Door::Mllp,
            ) => None,
        }
    }

    /// Whether an allowed attempt's audit row names the patient (a search or a stock
    /// movement is about no one record).
    fn on_patient(self) -> bool {
        matches!(
            self,
            UseCase::ReadRecord | UseCase::RecordDose | UseCase::ReadAuditLog
        )
    }

    /// The audit actions an allowed attempt may leave on the patient (a dose added to an
    /// existing record: a create of the dose or an update of the record).
    fn audited_as(self) -> &'static [AuditAction] {
        match self {
            UseCase::ReadRecord => &[AuditAction::Read],
            UseCase::RecordDose => &[AuditAction::Create, AuditAction::Update],
            UseCase::SearchPatients | UseCase::ReadAuditLog => &[AuditAction::Read],
            // Stock is not patient data: its trail is the movement's `by`, checked apart.
            UseCase::ReceiveStock => &[],
        }
    }
}

fn hl7_query() -> String {
    format!(
        "MSH|^~\\&|EHR|{HOME}|CTWIZ|CTDPH|20260301090000||QBP^Q11^QBP_Q11|DQ1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
QPD|Z34^Request Immunization History^CDCPHINVS|DT1|MRN-D1^^^{HOME}^MR|{FAMILY}^Ada^^^^^L||20240115|F\r\
RCP|I|5^RD&records&HL70126\r"
    )
}

/// The day attempt `n` records its dose: a distinct day per attempt, so no attempt
/// repeats an earlier dose (a repeat is refused whoever sends it).
fn dose_day(n: usize) -> NaiveDate {
    date(2025, 1, 1) + chrono::Days::new(n as u64)
}

fn hl7_vxu(n: usize) -> String {
    let day = dose_day(n).format("%Y%m%d");
    format!(
        "MSH|^~\\&|EHR|{HOME}|CTWIZ|CTDPH|20260301090000||VXU^V04^VXU_V04|DV{n}|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
PID|1||MRN-D1^^^{HOME}^MR||{FAMILY}^Ada^^^^^L||20240115|F\r\
ORC|RE||DOOR{n}^{HOME}\r\
RXA|0|1|{day}||08^HepB^CVX|999|||01^^NIP001\r"
    )
}

/// One attempt through one door; true when the door let it through.
async fn attempt(
    w: &World,
    uc: UseCase,
    door: Door,
    user: &(Role, String, UserId),
    n: usize,
) -> bool {
    let (_, name, id) = user;
    let p = w.patient;
    let i = w
        .users
        .iter()
        .position(|u| u.1 == *name)
        .expect("a user of the world");
    match (uc, door) {
        (UseCase::ReadRecord, Door::Web) => {
            let (cookie, _) = web_session(w, *id, n);
            let (status, body) = http(
                w,
                Request::get(format!("/patients/{p}"))
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
            let shown = discloses(&body);
            assert_eq!(
                status == StatusCode::OK,
                shown,
                "{name}: {status} {}",
                head(&body)
            );
            if !shown {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {}", head(&body));
            }
            shown
        }
        (UseCase::RecordDose, Door::Web) => {
            let (cookie, csrf) = web_session(w, *id, n);
            let day = dose_day(n).to_string();
            let body = format!("csrf={csrf}&kind=historical&cvx=08&date={day}&source=01");
            let before = dose_count(w, p);
            let (status, text) = http(
                w,
                Request::post(format!("/patients/{p}/doses"))
                    .header(header::COOKIE, cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
            let stored = dose_count(w, p) > before;
            if !stored {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {}", head(&text));
            }
            stored
        }
        (UseCase::ReadRecord, Door::Soap) => {
            let xml = soap::submit_request(name, PASSWORD, HOME, &hl7_query());
            let (_, text) = http(
                w,
                Request::post(ctwiz_web::soap::PATH)
                    .header(header::CONTENT_TYPE, soap::CONTENT_TYPE)
                    .body(Body::from(xml))
                    .expect("request"),
            )
            .await;
            rsp_discloses(&soap::parse_response(&text).unwrap_or_default())
        }
        (UseCase::RecordDose, Door::Soap) => {
            let before = dose_count(w, p);
            let xml = soap::submit_request(name, PASSWORD, HOME, &hl7_vxu(n));
            let (_, text) = http(
                w,
                Request::post(ctwiz_web::soap::PATH)
                    .header(header::CONTENT_TYPE, soap::CONTENT_TYPE)
                    .body(Body::from(xml))
                    .expect("request"),
            )
            .await;
            let stored = dose_count(w, p) > before;
            assert_eq!(
                stored,
                text.contains("MSA|AA|") || text.contains("MSA|AE|"),
                "{name}: {}",
                head(&text)
            );
            stored
        }
        (UseCase::ReadRecord, Door::Cli) => {
            let (ok, text) = ctwiz(&w.db, &["--as", name, "patient", "show", &p.to_string()]);
            assert_eq!(ok, discloses(&text), "{name}: {}", head(&text));
            ok
        }
        (UseCase::ReadRecord, Door::Mllp) => {
            let answer = mllp_exchange(w.mllp, &mllp_source(i), &hl7_query()).await;
            rsp_discloses(&answer.expect("a bound connection is answered"))
        }
        (UseCase::RecordDose, Door::Mllp) => {
            let before = dose_count(w, p);
            let answer = mllp_exchange(w.mllp, &mllp_source(i), &hl7_vxu(n))
                .await
                .expect("a bound connection is answered");
            let stored = dose_count(w, p) > before;
            assert_eq!(
                stored,
                !answer.contains("MSA|AR|"),
                "{name}: {}",
                head(&answer)
            );
            stored
        }
        (UseCase::SearchPatients, Door::Web) => {
            let (cookie, _) = web_session(w, *id, n);
            let (status, body) = http(
                w,
                Request::get(format!("/patients?family={FAMILY}"))
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
            let shown = discloses(&body);
            if !shown {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {}", head(&body));
            }
            shown
        }
        (UseCase::SearchPatients, Door::Cli) => {
            let (ok, text) = ctwiz(
                &w.db,
                &["--as", name, "patient", "search", "--name", FAMILY],
            );
            assert_eq!(ok, discloses(&text), "{name}: {}", head(&text));
            ok
        }
        (UseCase::ReceiveStock, Door::Web) => {
            let (cookie, csrf) = web_session(w, *id, n);
            let before = stock(w);
            let body = format!(
                "csrf={csrf}&pin={HOME}&cvx=20&lot=WEB{n}&expiration=2099-12-31&doses=10&funding=public"
            );
            let (status, text) = http(
                w,
                Request::post("/inventory/receive")
                    .header(header::COOKIE, cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await;
            let stored = stock(w) > before;
            if !stored {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {}", head(&text));
            }
            stored
        }
        (UseCase::ReceiveStock, Door::Cli) => {
            let before = stock(w);
            let lot = format!("CLI{n}");
            let (ok, text) = ctwiz(
                &w.db,
                &[
                    "--as",
                    name,
                    "inventory",
                    "receive",
                    "--clinic",
                    HOME,
                    "--cvx",
                    "20",
                    "--lot",
                    &lot,
                    "--exp",
                    "2099-12-31",
                    "--doses",
                    "10",
                ],
            );
            let stored = stock(w) > before;
            assert_eq!(ok, stored, "{name}: {}", head(&text));
            stored
        }
        (UseCase::ReadAuditLog, Door::Web) => {
            let (cookie, _) = web_session(w, *id, n);
            let (status, body) = http(
                w,
                Request::get(format!("/patients/{p}/disclosures"))
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
            if status != StatusCode::OK {
                assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {}", head(&body));
            }
            status == StatusCode::OK
        }
        (UseCase::ReadAuditLog, Door::Cli) => {
            let (ok, text) = ctwiz(&w.db, &["--as", name, "audit", "--patient", &p.to_string()]);
            if !ok {
                assert!(text.contains("may not"), "{name}: {}", head(&text));
            }
            ok
        }
        (
            UseCase::SearchPatients | UseCase::ReceiveStock | UseCase::ReadAuditLog,
            Door::Soap | Door::Mllp,
        ) => unreachable!("{uc:?} has no {door:?} door (UseCase::action says None)"),
        (UseCase::RecordDose, Door::Cli) => {
            let before = dose_count(w, p);
            let file = w.db.with_file_name(format!("vxu-{n}.hl7"));
            std::fs::write(&file, hl7_vxu(n)).expect("write message");
            let path = file.to_str().expect("utf-8 path");
            let (_, text) = ctwiz(&w.db, &["--as", name, "hl7", "process", path]);
            let stored = dose_count(w, p) > before;
            assert_eq!(stored, !text.contains("MSA|AR|"), "{name}: {}", head(&text));
            stored
        }
    }
}

/// Doses on hand at the home clinic, all lots.
fn stock(w: &World) -> i64 {
    on_store(w, |s| {
        s.lots(&ClinicPin::new(HOME).expect("pin"))
            .expect("lots")
            .iter()
            .map(|l| l.on_hand)
            .sum()
    })
}

/// Who recorded the home clinic's movements (`door:user@clinic`).
fn movement_authors(w: &World) -> Vec<String> {
    on_store(w, |s| {
        let mut by = Vec::new();
        for l in s.lots(&ClinicPin::new(HOME).expect("pin")).expect("lots") {
            let id = l.lot.id.expect("stored lot");
            by.extend(s.movements(id).expect("movements").into_iter().map(|m| m.1));
        }
        by
    })
}

fn rows_since(w: &World, seen: usize) -> Vec<AuditEntry> {
    let mut all = on_store(w, |s| {
        s.audit_query(&AuditFilter {
            limit: 100_000,
            ..AuditFilter::default()
        })
        .expect("audit")
    });
    all.reverse();
    all.split_off(seen.min(all.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_door_asks_the_same_matrix_and_leaves_the_same_trail() {
    let w = tokio::task::block_in_place(world);
    let mut n = 0;
    let mut failures = Vec::new();
    for uc in [
        UseCase::ReadRecord,
        UseCase::RecordDose,
        UseCase::SearchPatients,
        UseCase::ReceiveStock,
        UseCase::ReadAuditLog,
    ] {
        for door in [Door::Web, Door::Soap, Door::Mllp, Door::Cli] {
            let Some(action) = uc.action(door) else {
                continue;
            };
            for user in &w.users {
                n += 1;
                let seen = on_store(&w, |s| {
                    s.audit_query(&AuditFilter {
                        limit: 100_000,
                        ..AuditFilter::default()
                    })
                    .expect("audit")
                    .len()
                });
                let (role, name, _) = user;
                let allowed = attempt(&w, uc, door, user, n).await;
                let want = role.allows(action);
                if allowed != want {
                    failures.push(format!(
                        "{uc:?} via {door:?} as {}: allowed={allowed}, matrix says {want}",
                        role.key()
                    ));
                    continue;
                }
                // The trail: an allowed attempt leaves its row on the patient, naming the
                // user and the door; a refused one discloses nothing and is itself audited.
                let rows = rows_since(&w, seen);
                let on_patient: Vec<_> = rows
                    .iter()
                    .filter(|r| {
                        (!uc.on_patient() || r.patient == Some(w.patient))
                            && uc.audited_as().contains(&r.action)
                    })
                    .collect();
                let mine = |r: &&AuditEntry| {
                    r.actor.contains(name.as_str()) && r.interface == door.interface()
                };
                if allowed && uc.audited_as().is_empty() {
                    // Stock: the movement names the user and the door.
                    let label = format!("{}:{name}", door.interface().key());
                    if !movement_authors(&w).iter().any(|by| by.starts_with(&label)) {
                        failures.push(format!(
                            "{uc:?} via {door:?} as {}: no movement by {label}",
                            role.key()
                        ));
                    }
                } else if allowed {
                    if !on_patient.iter().any(mine) {
                        failures.push(format!(
                            "{uc:?} via {door:?} as {}: no {:?} audit row naming {name} and {:?}: {rows:?}",
                            role.key(),
                            uc.audited_as(),
                            door.interface()
                        ));
                    }
                } else {
                    if !on_patient.is_empty() {
                        failures.push(format!(
                            "{uc:?} via {door:?} as {}: refused but audited as {:?}: {rows:?}",
                            role.key(),
                            uc.audited_as()
                        ));
                    }
                    if !rows
                        .iter()
                        .any(|r| r.action == AuditAction::Denied && mine(&r))
                    {
                        failures.push(format!(
                            "{uc:?} via {door:?} as {}: refusal not audited: {rows:?}",
                            role.key()
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every access type (ten, the state's split in three): two use cases through four
    // doors, three through two.
    assert_eq!(n, Role::ALL.len() * (2 * 4 + 3 * 2), "attempts made");
}
