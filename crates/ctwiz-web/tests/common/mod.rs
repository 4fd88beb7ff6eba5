//! A real database with two clinics in different counties, three patients, a vaccine
//! lot, and users for every access type; on the backend under test
//! (`CTWIZ_TEST_BACKEND=postgres`: a fresh PostgreSQL database, see
//! `ctwiz_store::test_support`; else an SQLite file in a temp dir).
#![allow(dead_code)]

use chrono::{NaiveDate, Timelike};
use ctwiz_core::access::{Grant, Role, Scope, ScopeKind, User};
use ctwiz_core::dose::{Dose, InformationSource};
use ctwiz_core::ids::{ClinicPin, Cvx, Email, LotNumber, PatientId, UserId, Username, Zip};
use ctwiz_core::inventory::{Lot, Movement, StockFunding};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Address, Patient, PersonName, Sex};
use ctwiz_store::dedup::DedupStore;
use ctwiz_store::interface::InterfaceStore;
use ctwiz_store::test_support::TestDb;
use ctwiz_store::web::{SecurityAnswer, WebStore};
use ctwiz_store::{accounts, InventoryStore, OrgStore, PatientStore, SqliteStore, UserStore};
use ctwiz_web::AppState;

pub const PASSWORD: &str = "correct horse 42";

pub struct Fixture {
    pub state: AppState,
    pub home: ClinicPin,
    pub other: ClinicPin,
    /// Lives in the home clinic's county, has doses from the home clinic.
    pub in_county: PatientId,
    /// Lives in another county.
    pub out_county: PatientId,
    /// Confidential, reported only by the other clinic (but lives in the home county).
    pub confidential: PatientId,
    pub lot: i64,
    /// A queued possible-duplicate pair: `out_county` flagged against `in_county`.
    pub review: i64,
    /// The database (last: dropped after the state's connections to it).
    pub db: TestDb,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn patient(family: &str, given: &str, county: County, dob: NaiveDate) -> Patient {
    let mut p = Patient::new(PersonName::new(family, given).unwrap(), dob, Sex::Female).unwrap();
    let mut a = Address::new("1 Main St", "Town", "CT", Zip::new("06101").unwrap()).unwrap();
    a.county = Some(county);
    p.addresses.push(a);
    p
}

fn dose(cvx: &str, on: NaiveDate, clinic: &ClinicPin) -> Dose {
    let mut d = Dose::new(
        Cvx::new(cvx).unwrap(),
        on,
        InformationSource::HistoricalOtherProvider,
    );
    d.clinic = Some(clinic.clone());
    d
}

pub fn store(f: &Fixture) -> SqliteStore {
    f.db.open()
}

impl Fixture {
    /// Another server state on the fixture's database, with other throttles.
    pub fn state_with(&self, secure_cookies: bool, limits: ctwiz_web::Limits) -> AppState {
        AppState::with_limits(self.db.location().to_path_buf(), secure_cookies, limits).unwrap()
    }
}

pub fn fixture() -> Fixture {
    let db = TestDb::new("web.db");
    let s = db.open();
    let home = ClinicPin::new("CT00001").unwrap();
    let other = ClinicPin::new("CT00002").unwrap();
    let mut home_clinic = Clinic::new(
        home.clone(),
        "Hartford Pediatrics",
        County::Hartford,
        ProgramType::Cvp,
    )
    .unwrap();
    // The staff list of a CVP clinic gates account requests: the nurses who request
    // access in the tests are listed.
    for (name, email) in [
        ("Pat Nurse", "pat@example.org"),
        ("Robin Nurse", "robin@example.org"),
    ] {
        home_clinic
            .staff
            .push(ctwiz_core::clinic_info::StaffMember {
                name: name.into(),
                email: Email::new(email).unwrap(),
                role: Role::ClinicAccess,
                title: Some("RN".into()),
                training: None,
            });
    }
    s.add_clinic(&home_clinic).unwrap();
    // The home clinic's physician has signed this year's CVP agreement (public orders
    // need it; tests/clinic_tools.rs signs one through the page).
    ctwiz_store::agreements::AgreementStore::add_signature(
        &s,
        &ctwiz_core::agreement::Signature::new(
            &home_clinic,
            ctwiz_core::agreement::Program::Cvp,
            "Maria Lopez",
            true,
            "fixture",
            chrono::Utc::now().naive_utc(),
        )
        .unwrap(),
    )
    .unwrap();
    s.add_clinic(
        &Clinic::new(
            other.clone(),
            "Shoreline Family Care",
            County::NewLondon,
            ProgramType::Cvp,
        )
        .unwrap(),
    )
    .unwrap();
    let dob = date(2024, 1, 15);
    let in_county = s
        .create_patient_with_doses(
            &patient("Testchild", "Ada", County::Hartford, dob),
            &[
                dose("20", date(2024, 3, 15), &home),
                dose("10", date(2024, 3, 15), &home),
            ],
        )
        .unwrap();
    let out_county = s
        .create_patient_with_doses(
            &patient("Outcounty", "Ben", County::NewLondon, dob),
            &[dose("20", date(2024, 3, 20), &other)],
        )
        .unwrap();
    let mut secret = patient("Secretcase", "Cara", County::Hartford, dob);
    secret.confidential = true;
    let confidential = s
        .create_patient_with_doses(&secret, &[dose("20", date(2024, 3, 20), &other)])
        .unwrap();
    let lot = s
        .add_lot(&Lot {
            id: None,
            clinic: home.clone(),
            cvx: Cvx::new("20").unwrap(),
            ndc: None,
            mvx: None,
            lot_number: LotNumber::new("DT123A").unwrap(),
            expiration: date(2099, 12, 31),
            funding: StockFunding::Public(ctwiz_core::program::Program::Cvp),
        })
        .unwrap();
    s.record_movement(
        lot,
        &Movement::Receive { doses: 10 },
        "test",
        date(2025, 1, 1).and_hms_opt(9, 0, 0).unwrap(),
    )
    .unwrap();
    s.flag_for_dedup_review(
        out_county,
        in_county,
        "hl7:test",
        date(2025, 1, 2).and_hms_opt(9, 0, 0).unwrap(),
    )
    .unwrap();
    let review = s.dedup_queue(1, 0).unwrap().rows[0].review;
    drop(s);
    let state = AppState::new(db.location().to_path_buf(), false).unwrap();
    Fixture {
        db,
        state,
        home,
        other,
        in_county,
        out_county,
        confidential,
        lot,
        review,
    }
}

/// Creates a user holding `role` at the home clinic / its county / the state.
/// With `ready`, the first-sign-in steps are done (password chosen, questions set).
pub fn user(f: &Fixture, role: Role, name: &str, ready: bool) -> (UserId, String) {
    let s = store(f);
    let scope = match role.scope_kind() {
        ScopeKind::Clinic => Scope::Clinic(f.home.clone()),
        // The home clinic's county, or its town's IAP area for an IAP coordinator.
        ScopeKind::Jurisdiction if role == Role::IapCoordinator => Scope::Jurisdiction(
            ctwiz_core::place::Jurisdiction::IapArea("Hartford IAP".into()),
        ),
        ScopeKind::Jurisdiction => {
            Scope::Jurisdiction(ctwiz_core::place::Jurisdiction::County(County::Hartford))
        }
        ScopeKind::State => Scope::State,
    };
    let mut u = User::new(
        Username::new(name).unwrap(),
        name,
        Email::new(&format!("{name}@example.org")).unwrap(),
    )
    .unwrap();
    u.grant(Grant::new(role, scope).unwrap());
    let (id, temp) = accounts::create_with_temporary_password(&s, &u).unwrap();
    if ready {
        s.set_password(id, &accounts::hash_password(PASSWORD).unwrap(), false)
            .unwrap();
        let answer = accounts::hash_password("blue").unwrap();
        s.set_security_answers(
            id,
            &[
                SecurityAnswer {
                    question: accounts::SECURITY_QUESTIONS[0].into(),
                    answer_hash: answer.clone(),
                },
                SecurityAnswer {
                    question: accounts::SECURITY_QUESTIONS[1].into(),
                    answer_hash: answer,
                },
            ],
        )
        .unwrap();
        (id, PASSWORD.to_string())
    } else {
        (id, temp)
    }
}

/// A live session for `id`: (Cookie header value, CSRF token).
pub fn session(f: &Fixture, id: UserId) -> (String, String) {
    let s = store(f);
    let token = format!("{:064x}", id.0 as u128 * 7919 + 12345);
    let csrf = format!("csrf-{}", id.0);
    let now = chrono::Utc::now().naive_utc().with_nanosecond(0).unwrap();
    s.create_session(&ctwiz_web::session_token_hash(&token), id, &csrf, None, now)
        .unwrap();
    (format!("ctwiz_session={token}"), csrf)
}

/// A response, read whole, with what the tests look at.
pub struct Reply {
    pub status: axum::http::StatusCode,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// Sends one request through the real router.
pub async fn send(f: &Fixture, req: axum::http::Request<axum::body::Body>) -> Reply {
    use axum::http::header;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = ctwiz_web::router(f.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = |k: header::HeaderName| headers.get(k).map(|v| v.to_str().unwrap().to_string());
    let location = text(header::LOCATION);
    let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
    let set_cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    Reply {
        status,
        location,
        set_cookie,
        content_type,
        headers,
        body,
    }
}

pub async fn get(f: &Fixture, path: &str, cookie: &str) -> Reply {
    use axum::http::{header, Request};
    send(
        f,
        Request::get(path)
            .header(header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts a urlencoded form.
pub async fn post(f: &Fixture, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    use axum::http::{header, Request};
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    send(
        f,
        Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
}

/// Posts a urlencoded form as if from the client at `from` (the server hands handlers the
/// peer address as `ConnectInfo`; the throttles key on it).
pub async fn post_from(
    f: &Fixture,
    from: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Reply {
    use axum::http::{header, Request};
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(from));
    send(f, req).await
}

/// The anonymous-form token of a public page: (Cookie header, token).
pub async fn pre_token(f: &Fixture, path: &str) -> (String, String) {
    let page = get(f, path, "").await;
    let pre = page
        .set_cookie
        .iter()
        .find(|c| c.starts_with("ctwiz_pre="))
        .expect("a pre-sign-in cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = pre.trim_start_matches("ctwiz_pre=").to_string();
    (pre, token)
}

/// Signs in through the form from the client at `from` (pre-session CSRF cookie and all).
pub async fn sign_in_from(
    f: &Fixture,
    from: std::net::SocketAddr,
    username: &str,
    password: &str,
) -> Reply {
    let (pre, token) = pre_token(f, "/sign-in").await;
    post_from(
        f,
        from,
        "/sign-in",
        &pre,
        &[
            ("csrf", &token),
            ("username", username),
            ("password", password),
        ],
    )
    .await
}

/// Signs in through the form from a local client.
pub async fn sign_in(f: &Fixture, username: &str, password: &str) -> Reply {
    sign_in_from(f, ([127, 0, 0, 1], 50000).into(), username, password).await
}

/// The session cookie a successful sign-in set (as a Cookie header value).
pub fn session_cookie(r: &Reply) -> String {
    r.set_cookie
        .iter()
        .find(|c| c.starts_with("ctwiz_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a session cookie")
}

/// Pat Nurse asks for Clinic Access at the home clinic through the public form.
pub async fn request_account_from(f: &Fixture, from: std::net::SocketAddr) -> Reply {
    let (pre, token) = pre_token(f, "/request-account").await;
    let home = f.home.to_string();
    post_from(
        f,
        from,
        "/request-account",
        &pre,
        &[
            ("csrf", &token),
            ("full_name", "Pat Nurse"),
            ("email", "pat@example.org"),
            ("pin0", &home),
            ("role0", "clinic-access"),
        ],
    )
    .await
}

/// The anti-forgery token of a signed-in page's forms.
pub fn form_csrf(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a form with a CSRF token")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// A state user approves account request `request` under `username`.
pub async fn approve_request(
    f: &Fixture,
    (cookie, csrf): (&str, &str),
    request: i64,
    username: &str,
) -> Reply {
    post(
        f,
        &format!("/admin/requests/{request}/approve"),
        cookie,
        &[("csrf", csrf), ("username", username)],
    )
    .await
}

/// The temporary password written after "Temporary password: " in a message or page.
pub fn temporary_password_in(text: &str) -> String {
    text.split("Temporary password: ")
        .nth(1)
        .expect("a temporary password")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
