//! Accounts and web security through HTTP: throttling (429 + Retry-After), a lock that ends
//! by itself and never ends the real user's session, forgot-password that tells nothing,
//! the password policy, temporary passwords that never reach the database, audited
//! security events, response headers, logged 500s with a request id, and a header-read
//! timeout on a real socket.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{
    approve_request, enc, fixture, form_csrf, get, post_from, pre_token, request_account_from,
    session, session_cookie, sign_in_from, store, user, Fixture,
};
use ctwiz_core::access::Role;
use ctwiz_store::test_support::run;
use ctwiz_store::web::WebStore;
use ctwiz_store::{accounts, AuditAction, AuditFilter, AuditStore, UserStore};
use std::net::SocketAddr;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 40000))
}

fn audit_rows(f: &Fixture, action: AuditAction) -> Vec<ctwiz_store::AuditEntry> {
    store(f)
        .audit_query(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

/// The temporary password in the message with `subject`, as the state team reads the
/// outbox page (it is held in memory until sent; the database never has it).
async fn temporary_password_on_outbox_page(
    f: &Fixture,
    admin_cookie: &str,
    subject: &str,
) -> String {
    let page = get(f, "/admin/outbox", admin_cookie).await.body;
    common::temporary_password_in(page.split(subject).nth(1).expect("the message"))
}

#[test]
fn five_wrong_passwords_lock_for_a_while_and_never_end_the_real_users_session() {
    run(async {
        let f = fixture();
        let (target, _) = user(&f, Role::ClinicAccess, "target", true);
        let real = sign_in_from(&f, addr(1), "target", common::PASSWORD).await;
        assert_eq!(real.status, StatusCode::SEE_OTHER);
        let cookie = session_cookie(&real);

        // Someone else guesses from another address.
        for _ in 0..accounts::MAX_FAILED_SIGN_INS {
            let r = sign_in_from(&f, addr(66), "target", "guess guess guess").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains(accounts::SIGN_IN_FAILED));
        }
        let locked = sign_in_from(&f, addr(2), "target", common::PASSWORD).await;
        assert_eq!(
            locked.status,
            StatusCode::UNAUTHORIZED,
            "locked: the right password waits"
        );

        // The real user goes on working.
        let home = get(&f, "/", &cookie).await;
        assert_eq!(
            home.status,
            StatusCode::OK,
            "the lock ended the real user's session"
        );
        assert_eq!(get(&f, "/patients", &cookie).await.status, StatusCode::OK);

        // The lock ends by itself.
        f.state
            .shift_clock(chrono::Duration::minutes(accounts::LOCKOUT_MINUTES - 1));
        assert_eq!(
            sign_in_from(&f, addr(2), "target", common::PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        f.state.shift_clock(chrono::Duration::minutes(2));
        assert_eq!(
            sign_in_from(&f, addr(2), "target", common::PASSWORD)
                .await
                .status,
            StatusCode::SEE_OTHER,
            "the lock has passed"
        );

        // Every step is in the audit log, with its door.
        let lockouts = audit_rows(&f, AuditAction::Lockout);
        assert_eq!(lockouts.len(), 1);
        assert_eq!(lockouts[0].actor, "web:target");
        assert!(audit_rows(&f, AuditAction::SignInFailed).len() >= 4 + 2);
        assert_eq!(audit_rows(&f, AuditAction::SignIn).len(), 2);

        // Disabling the account (unlike a lock) ends its sessions at once.
        store(&f)
            .set_status(target, ctwiz_core::access::AccountStatus::Disabled)
            .unwrap();
        assert_eq!(
            get(&f, "/", &cookie).await.location.as_deref(),
            Some("/sign-in")
        );
    })
}

/// Sign-in attempts sent all at once, each (address, username): their status and
/// Retry-After. Sent together, so the limits and not the time argon2 takes decide.
async fn sign_in_burst(
    f: &Fixture,
    attempts: Vec<(SocketAddr, String)>,
) -> Vec<(StatusCode, Option<u64>)> {
    use tower::ServiceExt;
    let (pre, token) = pre_token(f, "/sign-in").await;
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(from, name)| {
            let (state, pre, token) = (f.state.clone(), pre.clone(), token.clone());
            tokio::spawn(async move {
                let body = format!("csrf={token}&username={}&password=a+guess", enc(&name));
                let mut req = Request::post("/sign-in")
                    .header(header::COOKIE, pre)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap();
                req.extensions_mut().insert(ConnectInfo(from));
                let res = ctwiz_web::router(state).oneshot(req).await.unwrap();
                let wait = res
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap().parse().unwrap());
                (res.status(), wait)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[test]
fn sign_in_is_throttled_per_address_with_retry_after() {
    run(async {
        let f = fixture();
        let attempts = (0..24).map(|i| (addr(7), format!("guess{i}"))).collect();
        let replies = sign_in_burst(&f, attempts).await;
        let refused: Vec<_> = replies
            .iter()
            .filter(|r| r.0 == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        assert!(!refused.is_empty(), "24 sign-ins at once from one address");
        assert!(refused.len() <= 4, "the first 20 pass: {replies:?}");
        for (_, wait) in &refused {
            assert!(matches!(wait, Some(1..=60)), "Retry-After {wait:?}");
        }
        // Another address is not held up.
        let other = sign_in_from(&f, addr(8), "guess0", "whatever it is").await;
        assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    })
}

#[test]
fn sign_in_is_throttled_per_account_across_addresses() {
    run(async {
        let f = fixture();
        let attempts = (0..12)
            .map(|i| (addr(100 + i), "admin".to_string()))
            .collect();
        let replies = sign_in_burst(&f, attempts).await;
        let refused = replies
            .iter()
            .filter(|r| r.0 == StatusCode::TOO_MANY_REQUESTS && r.1.is_some())
            .count();
        assert!((1..=2).contains(&refused), "{replies:?}");
        assert_eq!(
            replies
                .iter()
                .filter(|r| r.0 == StatusCode::UNAUTHORIZED)
                .count(),
            12 - refused
        );
    })
}

#[test]
fn public_forms_are_throttled() {
    run(async {
        let f = fixture();
        let (pre, token) = pre_token(&f, "/forgot-username").await;
        let mut statuses = Vec::new();
        for i in 0..6 {
            let email = format!("someone{i}@example.org");
            let r = post_from(
                &f,
                addr(9),
                "/forgot-username",
                &pre,
                &[("csrf", &token), ("email", &email)],
            )
            .await;
            statuses.push((r.status, r.headers.contains_key(header::RETRY_AFTER)));
        }
        assert!(statuses[..5].iter().all(|s| s.0 == StatusCode::OK));
        assert_eq!(statuses[5], (StatusCode::TOO_MANY_REQUESTS, true));
        // Account requests for one e-mail address from ever new addresses.
        let mut last = StatusCode::OK;
        for i in 0..4 {
            last = request_account_from(&f, addr(20 + i)).await.status;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    })
}

/// The page with the two questions' texts, the typed username and e-mail, and the form
/// token blanked: what is left must be the same for every account, known or not.
fn page_shape(body: &str, token: &str, typed: &[&str]) -> String {
    let mut out = body.replace(token, "TOKEN");
    for q in accounts::SECURITY_QUESTIONS {
        out = out.replace(q, "QUESTION");
    }
    for t in typed {
        out = out.replace(t, "TYPED");
    }
    out
}

#[test]
fn forgot_password_answers_alike_for_known_and_unknown_accounts() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "forgetful", true);
        let (pre, token) = pre_token(&f, "/forgot-password").await;
        let questions = |n: u8, name: &'static str, email: &'static str| {
            let (f, pre, token) = (&f, pre.clone(), token.clone());
            async move {
                post_from(
                    f,
                    addr(n),
                    "/forgot-password",
                    &pre,
                    &[("csrf", &token), ("username", name), ("email", email)],
                )
                .await
            }
        };
        let answer =
            |n: u8, name: &'static str, email: &'static str, a: &'static str, new: &'static str| {
                let (f, pre, token) = (&f, pre.clone(), token.clone());
                async move {
                    post_from(
                        f,
                        addr(n),
                        "/forgot-password/reset",
                        &pre,
                        &[
                            ("csrf", &token),
                            ("username", name),
                            ("email", email),
                            ("a1", a),
                            ("a2", a),
                            ("new_password", new),
                            ("new_password_again", new),
                        ],
                    )
                    .await
                }
            };
        // Step 1 shows two questions for any username and e-mail: the account's own, or
        // stand-ins that are the same every time; the pages differ only in those texts.
        let known = questions(1, "forgetful", "forgetful@example.org").await;
        let unknown = questions(2, "nobody-here", "nobody@example.org").await;
        let again = questions(3, "nobody-here", "nobody@example.org").await;
        assert_eq!(known.status, StatusCode::OK);
        assert_eq!(known.status, unknown.status);
        assert!(known.body.contains(accounts::SECURITY_QUESTIONS[0]));
        assert!(known.body.contains(accounts::SECURITY_QUESTIONS[1]));
        assert_eq!(unknown.body, again.body, "stand-in questions are stable");
        let shown = accounts::SECURITY_QUESTIONS
            .iter()
            .filter(|q| unknown.body.contains(*q))
            .count();
        assert_eq!(shown, 2, "two different stand-in questions");
        assert_eq!(
            page_shape(&known.body, &token, &["forgetful@example.org", "forgetful"]),
            page_shape(
                &unknown.body,
                &token,
                &["nobody@example.org", "nobody-here"]
            ),
            "the page differs for a known account"
        );
        // Step 2: wrong answers and an unknown account are refused in the same words.
        const NEW: &str = "a brand new passphrase";
        let wrong = answer(5, "forgetful", "forgetful@example.org", "red", NEW).await;
        let stranger = answer(6, "nobody-here", "nobody@example.org", "blue", NEW).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(wrong.status, stranger.status);
        assert!(wrong.body.contains("do not match our records"));
        assert_eq!(
            page_shape(&wrong.body, &token, &["forgetful@example.org", "forgetful"]),
            page_shape(
                &stranger.body,
                &token,
                &["nobody@example.org", "nobody-here"]
            ),
        );
        assert!(!s_password_is(&f, id, NEW));
        // The right answers set the new password; no password was e-mailed, only a notice.
        let right = answer(7, "forgetful", "forgetful@example.org", " Blue ", NEW).await;
        assert_eq!(right.status, StatusCode::OK, "{}", right.body);
        assert!(right.body.contains("Your password was changed"));
        assert!(s_password_is(&f, id, NEW));
        let s = store(&f);
        assert!(!s.account_by_id(id).unwrap().unwrap().must_change_password);
        let mail = s.outbox(10).unwrap();
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].subject, "Your CT WiZ password was changed");
        assert!(!mail[0].body.contains(NEW));
        let r = sign_in_from(&f, addr(8), "forgetful", NEW).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(audit_rows(&f, AuditAction::PasswordReset).len(), 1);
        assert_eq!(
            audit_rows(&f, AuditAction::SignInFailed).len(),
            1,
            "wrong answers count"
        );
    })
}

fn s_password_is(f: &Fixture, id: ctwiz_core::ids::UserId, password: &str) -> bool {
    let account = store(f).account_by_id(id).unwrap().unwrap();
    accounts::verify_password(password, &account.password_hash)
}

#[test]
fn forgot_password_refuses_a_weak_or_mistyped_new_password_clearly() {
    run(async {
        let f = fixture();
        user(&f, Role::ClinicAccess, "forgetful", true);
        let (pre, token) = pre_token(&f, "/forgot-password").await;
        let send = |n: u8, new: &'static str, again: &'static str| {
            let (f, pre, token) = (&f, pre.clone(), token.clone());
            async move {
                post_from(
                    f,
                    addr(n),
                    "/forgot-password/reset",
                    &pre,
                    &[
                        ("csrf", &token),
                        ("username", "forgetful"),
                        ("email", "forgetful@example.org"),
                        ("a1", "blue"),
                        ("a2", "blue"),
                        ("new_password", new),
                        ("new_password_again", again),
                    ],
                )
                .await
            }
        };
        let typo = send(1, "a brand new passphrase", "a brand new passphrasE").await;
        assert_eq!(typo.status, StatusCode::BAD_REQUEST);
        assert!(typo
            .body
            .contains("The two new passwords are not the same."));
        let short = send(2, "short", "short").await;
        assert_eq!(short.status, StatusCode::BAD_REQUEST);
        assert!(short.body.contains("Please choose another password"));
        let named = send(
            3,
            "forgetful forever and ever",
            "forgetful forever and ever",
        )
        .await;
        assert!(named.body.contains("Please choose another password"));
        // The questions are asked again with the error.
        assert!(named.body.contains(accounts::SECURITY_QUESTIONS[0]));
        assert!(store(&f).outbox(10).unwrap().is_empty());
        let help = common::get(&f, "/trouble-signing-in", "").await;
        assert_eq!(help.status, StatusCode::OK);
        assert!(help.body.contains("Forgot your password?"));
        let sign_in = common::get(&f, "/sign-in", "").await;
        assert!(sign_in.body.contains("href=\"/trouble-signing-in\""));
    })
}

#[test]
fn weak_passwords_are_refused_with_a_clear_message() {
    run(async {
        let f = fixture();
        let (_, temp) = user(&f, Role::ClinicAccess, "newnurse", false);
        let r = sign_in_from(&f, addr(1), "newnurse", &temp).await;
        let cookie = session_cookie(&r);
        let csrf = form_csrf(&get(&f, "/account/password", &cookie).await.body);
        let change = |new: &'static str| {
            let (f, cookie, csrf, temp) = (&f, cookie.clone(), csrf.clone(), temp.clone());
            async move {
                common::post(
                    f,
                    "/account/password",
                    &cookie,
                    &[
                        ("csrf", &csrf),
                        ("current", &temp),
                        ("new", new),
                        ("confirm", new),
                        ("q1", "0"),
                        ("a1", "Rex"),
                        ("q2", "1"),
                        ("a2", "Hartford"),
                    ],
                )
                .await
            }
        };
        let common_one = change("password1234").await;
        assert_eq!(common_one.status, StatusCode::BAD_REQUEST);
        assert!(
            common_one.body.contains("most commonly used passwords"),
            "{}",
            common_one.body
        );
        let named = change("I am newnurse at work").await;
        assert_eq!(named.status, StatusCode::BAD_REQUEST);
        assert!(named.body.contains("must not contain your username"));
        let ok = change("tulips under the bridge").await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let changed = audit_rows(&f, AuditAction::PasswordReset);
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].actor, "web:newnurse");
    })
}

#[test]
fn temporary_passwords_are_never_stored_readable() {
    run(async {
        let f = fixture();
        let r = request_account_from(&f, addr(1)).await;
        assert_eq!(r.status, StatusCode::OK);
        let s = store(&f);
        let request = s.account_requests(None).unwrap()[0].id;
        let (st, _) = user(&f, Role::StateAdmin, "approver", true);
        let (admin, csrf) = session(&f, st);
        let r = approve_request(&f, (&admin, &csrf), request, "pnurse").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let temp = temporary_password_on_outbox_page(
            &f,
            &admin,
            "Your CT WiZ account: temporary password",
        )
        .await;
        assert_eq!(temp.len(), 14);
        // Not in the outbox table, and nowhere in the database.
        assert!(s
            .outbox(10)
            .unwrap()
            .iter()
            .all(|m| !m.body.contains(&temp)));
        drop(s);
        assert!(
            !f.db.holds(&temp),
            "the database holds the temporary password"
        );
        // It works, once, for the new user.
        let r = sign_in_from(&f, addr(2), "pnurse", &temp).await;
        assert_eq!(r.location.as_deref(), Some("/account/password"));
    })
}

#[test]
fn unlock_and_grant_changes_are_audited_with_the_admin() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "lockme", true);
        for _ in 0..accounts::MAX_FAILED_SIGN_INS {
            sign_in_from(&f, addr(3), "lockme", "not my password").await;
        }
        let (st, _) = user(&f, Role::StateAdmin, "dphadmin", true);
        let (admin, csrf) = session(&f, st);
        let users = get(&f, "/admin/users", &admin).await.body;
        assert!(users.contains("sign-in locked until"), "{users}");
        let r = common::post(
            &f,
            &format!("/admin/users/{}/unlock", nurse.0),
            &admin,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in_from(&f, addr(4), "lockme", common::PASSWORD)
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let r = common::post(
            &f,
            &format!("/admin/users/{}/grants", nurse.0),
            &admin,
            &[("csrf", &csrf), ("index", "0"), ("role", "patient-lookup")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let unlock = audit_rows(&f, AuditAction::Unlock);
        assert_eq!(unlock.len(), 1);
        assert_eq!(unlock[0].actor, "web:dphadmin");
        assert!(unlock[0].detail.contains("lockme"));
        let grant = audit_rows(&f, AuditAction::GrantChange);
        assert_eq!(grant.len(), 1);
        assert!(grant[0].detail.contains("lockme") && grant[0].detail.contains("patient-lookup"));
        // Someone without user management is refused, and nothing is audited.
        let (other, _) = user(&f, Role::ClinicAccess, "plain", true);
        let (cookie, csrf) = session(&f, other);
        let r = common::post(
            &f,
            &format!("/admin/users/{}/unlock", nurse.0),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(audit_rows(&f, AuditAction::Unlock).len(), 1);
    })
}

#[test]
fn patient_pages_are_not_cached_and_carry_the_security_headers() {
    run(async {
        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "viewer", true);
        let (cookie, _) = session(&f, id);
        let r = get(&f, &format!("/patients/{}", f.in_county), &cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        let h = |k: &str| {
            r.headers
                .get(k)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(h("cache-control"), "no-store");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "no-referrer");
        assert_eq!(h("cross-origin-opener-policy"), "same-origin");
        assert_eq!(h("cross-origin-resource-policy"), "same-origin");
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(h("x-request-id").len(), 16);
        assert_eq!(h("strict-transport-security"), "", "plain HTTP here");

        // Served over HTTPS, browsers are told to stay on it.
        let mut f = f;
        f.state = f.state_with(true, ctwiz_web::Limits::default());
        let r = get(&f, "/sign-in", "").await;
        assert_eq!(
            r.headers[header::STRICT_TRANSPORT_SECURITY]
                .to_str()
                .unwrap(),
            "max-age=31536000"
        );
    })
}

/// A writer the test reads back: what the server logged.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_500_is_logged_with_the_request_id_the_page_shows() {
    run(async {
        let log = Captured::default();
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let f = fixture();
        let (id, _) = user(&f, Role::ClinicAccess, "damaged", true);
        let (cookie, _) = session(&f, id);
        // Damage the account row so loading it fails.
        f.db.damage_account_status("damaged");
        let r = get(&f, "/", &cookie).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        let request_id = r.headers["x-request-id"].to_str().unwrap().to_string();
        assert!(r.body.contains(&request_id), "{}", r.body);
        let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let line = logged
            .lines()
            .find(|l| l.contains(&request_id))
            .unwrap_or_else(|| panic!("no log line with {request_id}: {logged}"));
        assert!(
            line.contains("ERROR") && line.contains("no such status"),
            "{line}"
        );
    })
}

/// Sends `bytes` and reads until the server closes: the reply, or `None` when the
/// connection was still open after 10 s.
fn exchange(at: SocketAddr, bytes: &'static [u8]) -> Option<String> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(at).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    conn.write_all(bytes).unwrap();
    let mut reply = Vec::new();
    match conn.read_to_end(&mut reply) {
        Ok(_) => Some(String::from_utf8_lossy(&reply).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(String::new()),
        Err(_) => None,
    }
}

#[test]
fn a_connection_that_never_finishes_its_request_head_is_closed() {
    run(async {
        let f = fixture();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let app = ctwiz_web::router(f.state.clone());
        tokio::spawn(ctwiz_web::serve_app(
            listener,
            app,
            std::time::Duration::from_secs(1),
            std::future::pending(),
        ));
        let run = |bytes: &'static [u8]| tokio::task::spawn_blocking(move || exchange(at, bytes));
        // A complete request is served.
        let ok = run(b"GET /sign-in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap()
            .expect("closed after the reply");
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        // A head that never ends is cut off, and so is a connection that sends nothing.
        let slow = run(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        assert!(
            slow.is_some(),
            "a half-sent request head held the connection for 10 s"
        );
        let idle = run(b"").await.unwrap();
        assert!(idle.is_some(), "an idle connection was held for 10 s");
    })
}

/// The help desk's account actions: deactivate (with a reason; sessions end, sign-in
/// refused), reactivate, correct the name and e-mail, change access; each audited and
/// e-mailed to the user (both addresses when the e-mail changes).
#[test]
fn help_desk_actions_are_audited_and_emailed_to_the_user() {
    run(async {
        let f = fixture();
        let (nurse, _) = user(&f, Role::ClinicAccess, "leaving", true);
        let real = sign_in_from(&f, addr(1), "leaving", common::PASSWORD).await;
        let nurse_cookie = session_cookie(&real);
        let (admin, _) = user(&f, Role::StateAdmin, "helpdesk", true);
        let (cookie, csrf) = session(&f, admin);
        let act = |path: String, fields: Vec<(&'static str, String)>| {
            let (f, cookie, csrf) = (&f, cookie.clone(), csrf.clone());
            async move {
                let mut all = vec![("csrf", csrf)];
                all.extend(fields);
                let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
                common::post(f, &path, &cookie, &refs).await
            }
        };
        let s = store(&f);
        let mail_to = |to: &str| {
            s.outbox(50)
                .unwrap()
                .into_iter()
                .filter(|m| m.to == to)
                .collect::<Vec<_>>()
        };
        let status = format!("/admin/users/{}/status", nurse.0);
        let r = act(status.clone(), vec![("active", "0".into())]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("give the reason"));
        let r = act(
            status.clone(),
            vec![("active", "0".into()), ("reason", "left the clinic".into())],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(
            common::get(&f, "/", &nurse_cookie).await.status,
            StatusCode::SEE_OTHER,
            "the session ended"
        );
        let refused = sign_in_from(&f, addr(2), "leaving", common::PASSWORD).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let notes = mail_to("leaving@example.org");
        assert!(
            notes
                .iter()
                .any(|m| m.body.contains("deactivated: left the clinic")),
            "{notes:?}"
        );
        let r = act(status, vec![("active", "1".into())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in_from(&f, addr(3), "leaving", common::PASSWORD)
                .await
                .status,
            StatusCode::SEE_OTHER
        );

        // A new last name and address: both addresses are told.
        let r = act(
            format!("/admin/users/{}/identity", nurse.0),
            vec![
                ("full_name", "Lee Newname".into()),
                ("email", "lee.newname@example.org".into()),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let account = s.account_by_id(nurse).unwrap().unwrap();
        assert_eq!(account.user.full_name, "Lee Newname");
        assert_eq!(account.user.email.as_str(), "lee.newname@example.org");
        assert!(mail_to("leaving@example.org")
            .iter()
            .any(|m| m.body.contains("Lee Newname")));
        assert!(mail_to("lee.newname@example.org")
            .iter()
            .any(|m| m.body.contains("Lee Newname")));
        let bad = act(
            format!("/admin/users/{}/identity", nurse.0),
            vec![
                ("full_name", "Lee".into()),
                ("email", "not-an-address".into()),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        // Another clinic added: the user is told what they now hold.
        let r = act(
            format!("/admin/users/{}/grants", nurse.0),
            vec![
                ("index", "new".into()),
                ("pin", f.other.to_string()),
                ("role", "patient-lookup".into()),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(mail_to("lee.newname@example.org")
            .iter()
            .any(|m| m.body.contains("Patient Look-Up Only") && m.body.contains(f.other.as_str())));
        let rows: Vec<_> = audit_rows(&f, AuditAction::GrantChange)
            .into_iter()
            .filter(|r| r.actor.contains("helpdesk"))
            .collect();
        assert_eq!(rows.len(), 4, "{rows:?}");
    })
}
