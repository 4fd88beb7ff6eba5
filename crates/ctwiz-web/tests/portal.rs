//! The public portal through HTTP: the whole flow (search, code from the text outbox,
//! wrong codes, the record, the certificate and the card, done), the same answer for a
//! search that matches nothing, and a measurement that both answers take the same time.

mod common;

use common::{fixture, get, post, pre_token, store, Fixture, Reply};
use ctwiz_core::ids::{Email, Phone};
use ctwiz_core::patient::{Patient, PersonName, Sex};
use ctwiz_store::portal::PortalStore;
use ctwiz_store::test_support::run;
use ctwiz_store::web::WebStore;
use ctwiz_store::{PatientStore, SqliteStore};
use std::time::{Duration, Instant};

/// Gives the fixture's in-county child (Ada Testchild, born 2024-01-15) a phone and an
/// e-mail on file.
fn with_contacts(f: &Fixture) {
    let s = store(f);
    let mut p = s.patient(f.in_county).unwrap().unwrap();
    p.phones.push(Phone::new("860-555-0142").unwrap());
    p.emails.push(Email::new("ada.parent@example.org").unwrap());
    s.update_patient(&p).unwrap();
}

fn code_in_texts(s: &SqliteStore) -> String {
    let text = &s.texts(1).unwrap()[0];
    text.body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the text")
        .to_string()
}

/// `name=value` of the cookie `name` set by `r`.
fn cookie_set(r: &Reply, name: &str) -> Option<String> {
    r.set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// Posts the portal search; returns the reply and the browser's cookies after it.
async fn search(f: &Fixture, given: &str, family: &str, dob: &str, via: &str) -> (Reply, String) {
    let (pre, token) = pre_token(f, "/portal").await;
    let r = post(
        f,
        "/portal",
        &pre,
        &[
            ("csrf", &token),
            ("given", given),
            ("family", family),
            ("dob", dob),
            ("sex", ""),
            ("via", via),
        ],
    )
    .await;
    let challenge = cookie_set(&r, "ctwiz_portal_challenge").unwrap_or_default();
    (r, format!("{pre}; {challenge}"))
}

async fn enter_code(f: &Fixture, cookies: &str, code: &str) -> Reply {
    let page = get(f, "/portal/verify", cookies).await;
    let csrf = common::form_csrf(&page.body);
    post(
        f,
        "/portal/verify",
        cookies,
        &[("csrf", &csrf), ("code", code)],
    )
    .await
}

#[test]
fn a_parent_gets_the_record_with_a_texted_code() {
    run(async {
        let f = fixture();
        with_contacts(&f);
        let (r, cookies) = search(&f, "ada", "TESTCHILD", "2024-01-15", "text").await;
        assert_eq!(r.status, 303);
        assert_eq!(r.location.as_deref(), Some("/portal/verify"));
        let page = get(&f, "/portal/verify", &cookies).await;
        assert!(page
            .body
            .contains("If these details match a record with that contact on file, we sent a code"));
        let s = store(&f);
        assert_eq!(s.texts(5).unwrap()[0].to, "8605550142");
        let code = code_in_texts(&s);

        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = enter_code(&f, &cookies, wrong).await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("4 tries left"), "{}", r.body);

        let r = enter_code(&f, &cookies, &code).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.location.as_deref(), Some("/portal/record"));
        let visit = cookie_set(&r, "ctwiz_portal").expect("a visit cookie");
        let visit_cookie = format!("{cookies}; {visit}");

        let rec = get(&f, "/portal/record", &visit_cookie).await;
        assert_eq!(rec.status, 200);
        assert!(rec.body.contains("Testchild"), "{}", rec.body);
        assert!(rec.body.contains("What is due"));
        assert!(rec.body.contains("recommender"));
        let pdf = get(&f, "/portal/certificate.pdf?kind=school", &visit_cookie).await;
        assert_eq!(pdf.content_type, "application/pdf");
        assert!(pdf.body.starts_with("%PDF"));
        let card = get(&f, "/portal/record.smart-health-card", &visit_cookie).await;
        let json: serde_json::Value = serde_json::from_str(&card.body).unwrap();
        assert_eq!(json["verifiableCredential"].as_array().unwrap().len(), 1);

        // The downloads name no record in their URL: a visit reaches only its own record.
        let done = post(&f, "/portal/done", &visit_cookie, &[]).await;
        assert_eq!(done.status, 303);
        let after = get(&f, "/portal/record", &visit_cookie).await;
        assert_eq!(after.status, 401);
        assert!(after.body.contains("Start again"), "{}", after.body);
    })
}

#[test]
fn a_search_that_matches_nothing_looks_the_same() {
    run(async {
        let f = fixture();
        with_contacts(&f);
        let (hit, hit_cookies) = search(&f, "Ada", "Testchild", "2024-01-15", "email").await;
        let (miss, miss_cookies) = search(&f, "Ada", "Nobody", "2024-01-15", "email").await;
        assert_eq!(hit.status, miss.status);
        assert_eq!(hit.location, miss.location);
        assert_eq!(hit.body, miss.body);
        let names = |r: &Reply| -> Vec<String> {
            r.set_cookie
                .iter()
                .map(|c| {
                    let (name, rest) = c.split_once('=').unwrap();
                    let attrs = rest.split_once(';').map(|x| x.1).unwrap_or("");
                    format!("{name};{attrs}")
                })
                .collect()
        };
        assert_eq!(names(&hit), names(&miss));
        let hit_page = get(&f, "/portal/verify", &hit_cookies).await;
        let miss_page = get(&f, "/portal/verify", &miss_cookies).await;
        let strip = |b: &str| {
            // The anti-forgery token is per browser; the rest must be identical.
            let t = common::form_csrf(b);
            b.replace(&t, "")
        };
        assert_eq!(strip(&hit_page.body), strip(&miss_page.body));
        assert_eq!(
            store(&f).outbox(10).unwrap().len(),
            1,
            "only the match sent a code"
        );
        // A wrong code reads the same on both.
        let a = enter_code(&f, &hit_cookies, "000001").await;
        let b = enter_code(&f, &miss_cookies, "000001").await;
        assert_eq!((a.status, strip(&a.body)), (b.status, strip(&b.body)));
    })
}

#[test]
fn bad_input_is_named_and_confidential_records_get_no_code() {
    run(async {
        let f = fixture();
        with_contacts(&f);
        let (r, _) = search(&f, "Ada", "Testchild", "15/01/2024", "text").await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("Date of birth"), "{}", r.body);
        let (r, _) = search(&f, "Ada", "Testchild", "2024-01-15", "fax").await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("contact method"), "{}", r.body);
        // The fixture's confidential record (Cara Secretcase), given a phone.
        let s = store(&f);
        let mut p = s.patient(f.confidential).unwrap().unwrap();
        p.phones.push(Phone::new("860-555-0199").unwrap());
        s.update_patient(&p).unwrap();
        let (r, _) = search(&f, "Cara", "Secretcase", "2024-01-15", "text").await;
        assert_eq!(r.status, 303);
        assert!(s.texts(10).unwrap().is_empty());
    })
}

/// A state server with throttles wide enough for many searches from one test address.
fn fast_fixture() -> Fixture {
    let mut f = fixture();
    let wide = || {
        ctwiz_web::Throttle::new(
            1000,
            Duration::from_millis(1),
            1000,
            Duration::from_millis(1),
        )
    };
    f.state = f.state_with(
        false,
        ctwiz_web::Limits {
            sign_in: wide(),
            public_forms: wide(),
            portal_search: wide(),
            portal_verify: wide(),
        },
    );
    f
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Match and no-match answers take the same time: each search for a different child (so
/// the per-record limit never stops a send), alternating with searches for nobody, over a
/// real TCP connection.
#[test]
fn match_and_no_match_answers_take_the_same_time() {
    run(async {
        const ROUNDS: usize = 6;
        let f = fast_fixture();
        let s = store(&f);
        for i in 0..ROUNDS {
            let given = format!("Timing{}", (b'A' + i as u8) as char);
            let mut p = Patient::new(
                PersonName::new("Samechild", &given).unwrap(),
                chrono::NaiveDate::from_ymd_opt(2022, 2, 2).unwrap(),
                Sex::Male,
            )
            .unwrap();
            p.phones.push(Phone::new("860-555-0177").unwrap());
            s.create_patient(&p).unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = ctwiz_web::router(f.state.clone());
        tokio::spawn(async move {
            ctwiz_web::serve_app(
                listener,
                app,
                Duration::from_secs(10),
                std::future::pending(),
            )
            .await
        });
        let client: hyper_util::client::legacy::Client<_, String> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let (pre, token) = pre_token(&f, "/portal").await;
        let time = |given: String| {
            let client = client.clone();
            let (pre, token) = (pre.clone(), token.clone());
            async move {
                let body = format!(
                    "csrf={token}&given={given}&family=Samechild&dob=2022-02-02&sex=&via=text"
                );
                let req = hyper::Request::post(format!("http://{addr}/portal"))
                    .header("cookie", pre)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .unwrap();
                let started = Instant::now();
                let res = client.request(req).await.unwrap();
                let took = started.elapsed();
                assert_eq!(res.status(), 303);
                took
            }
        };
        let (mut hits, mut misses) = (Vec::new(), Vec::new());
        for i in 0..ROUNDS {
            hits.push(time(format!("Timing{}", (b'A' + i as u8) as char)).await);
            misses.push(time(format!("Nobody{}", (b'A' + i as u8) as char)).await);
        }
        assert_eq!(
            s.texts(100).unwrap().len(),
            ROUNDS,
            "every match sent a code"
        );
        let (hit, miss) = (median(hits.clone()), median(misses.clone()));
        let gap = hit.abs_diff(miss);
        eprintln!("portal answer medians over {ROUNDS} each: match {hit:?}, no match {miss:?}, gap {gap:?}; all: {hits:?} / {misses:?}");
        let floor = Duration::from_millis(ctwiz_core::portal::ANSWER_FLOOR_MS);
        assert!(hit >= floor && miss >= floor, "{hit:?} / {miss:?}");
        assert!(
            gap < Duration::from_millis(60),
            "match {hit:?} vs no match {miss:?}"
        );
    })
}

/// A clinic records a signed release of information on the record page and sees it
/// listed; a bad entry is refused with its reason and records nothing.
#[test]
fn releases_of_information_on_the_record_page() {
    run(async {
        use ctwiz_core::access::Role;
        let f = fixture();
        let (id, _) = common::user(&f, Role::ClinicAccess, "nurse", true);
        let (cookie, csrf) = common::session(&f, id);
        let p = f.in_county;
        let path = format!("/patients/{p}/releases");
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("signed_by", "Maria Testchild"),
            ("relationship", "mother"),
            ("released_to", "Hartford Public Schools"),
            ("information", "school immunization certificate"),
            ("signed_on", "2026-11-30"),
        ];
        let r = post(&f, &path, &cookie, &fields).await;
        assert_eq!(r.status, 303, "{}", r.body);
        fields[3] = ("released_to", " ");
        let bad = post(&f, &path, &cookie, &fields).await;
        assert_eq!(bad.status, 400);
        assert!(
            bad.body.contains("who receives the information"),
            "{}",
            bad.body
        );
        let page = get(&f, &format!("/patients/{p}/record"), &cookie).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Releases of information"));
        assert!(page.body.contains("Hartford Public Schools"));
        assert!(page.body.contains("Maria Testchild (mother)"));
        assert_eq!(page.body.matches("Hartford Public Schools").count(), 1);
    })
}

/// The SMS gateway adapter posts each queued text as JSON (with the bearer token) and
/// marks it sent; a gateway that refuses leaves the text queued for the next round.
#[test]
fn texts_go_out_through_an_http_gateway() {
    run(async {
        use axum::http::{HeaderMap, StatusCode};
        use std::sync::{Arc, Mutex};
        let f = fixture();
        let s = store(&f);
        let now = f.state.now();
        s.queue_text(
            &Phone::new("860-555-0142").unwrap(),
            "Your code is 123456",
            now,
        )
        .unwrap();
        /// (Authorization header, JSON body) of each request the gateway received.
        type Received = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;
        let got: Received = Arc::default();
        let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (g, r) = (got.clone(), refuse.clone());
        let gateway = axum::Router::new().route(
            "/send",
            axum::routing::post(move |h: HeaderMap, body: String| {
                let (g, r) = (g.clone(), r.clone());
                async move {
                    if r.load(std::sync::atomic::Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let auth = h
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_string());
                    g.lock()
                        .unwrap()
                        .push((auth, serde_json::from_str(&body).unwrap()));
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, gateway).await });
        let gw = ctwiz_web::SmsGateway::new(&url, Some("sekrit".into())).unwrap();

        assert_eq!(ctwiz_web::deliver_texts(&f.state, &gw).await.unwrap(), 0);
        assert_eq!(
            s.unsent_texts(10).unwrap().len(),
            1,
            "kept for the next round"
        );
        refuse.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(ctwiz_web::deliver_texts(&f.state, &gw).await.unwrap(), 1);
        assert!(s.unsent_texts(10).unwrap().is_empty());
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.as_deref(), Some("Bearer sekrit"));
        assert_eq!(got[0].1["to"], "+18605550142");
        assert_eq!(got[0].1["body"], "Your code is 123456");
    })
}
