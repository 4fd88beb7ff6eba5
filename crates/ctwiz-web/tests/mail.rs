//! Outbox delivery over real SMTP to a minimal relay run by the test.

mod common;

use common::{fixture, store};
use ctwiz_core::ids::Email;
use ctwiz_store::test_support::run;
use ctwiz_store::web::WebStore;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// Speaks just enough SMTP to accept messages; returns its port and what it received.
fn relay() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut out) = conn else { return };
            let Ok(input) = out.try_clone() else { return };
            let mut lines = BufReader::new(input);
            let _ = out.write_all(b"220 test relay\r\n");
            let mut line = String::new();
            let mut data: Option<String> = None;
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let cmd = line.trim_end().to_string();
                line.clear();
                if let Some(d) = data.as_mut() {
                    if cmd == "." {
                        sink.lock().expect("lock").push(std::mem::take(d));
                        data = None;
                        let _ = out.write_all(b"250 queued\r\n");
                    } else {
                        d.push_str(&cmd);
                        d.push('\n');
                    }
                    continue;
                }
                let verb = cmd
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 test\r\n",
                    "DATA" => {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                let _ = out.write_all(reply);
            }
        }
    });
    (port, got)
}

/// How ctwiz reaches the test relay on `port`.
fn relay_config(port: u16) -> ctwiz_web::SmtpConfig {
    ctwiz_web::SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "ctwiz@dph.example.org".into(),
    }
}

#[test]
fn queued_mail_goes_out_through_the_relay_once() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let to = Email::new("pat@example.org").unwrap();
        let now = chrono::Utc::now().naive_utc();
        let now =
            now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()));
        s.queue_email(&to, "Your CT WiZ account: username", "Username: pat", now)
            .unwrap();
        s.queue_email(
            &to,
            "Your CT WiZ account: temporary password",
            "Temporary password: x",
            now,
        )
        .unwrap();
        let (port, got) = relay();
        let cfg = relay_config(port);
        assert_eq!(ctwiz_web::deliver_outbox(&f.state, &cfg).await.unwrap(), 2);
        let messages = got.lock().unwrap().clone();
        assert_eq!(messages.len(), 2);
        assert!(
            messages[0].contains("Subject: Your CT WiZ account: username")
                && messages[0].contains("Username: pat")
        );
        assert!(s.unsent_emails(10).unwrap().is_empty());
        assert!(s.outbox(10).unwrap().iter().all(|m| m.sent_at.is_some()));
        // Nothing is sent twice.
        assert_eq!(ctwiz_web::deliver_outbox(&f.state, &cfg).await.unwrap(), 0);
    })
}

#[test]
fn an_unreachable_relay_leaves_mail_queued() {
    run(async {
        let f = fixture();
        let s = store(&f);
        let now = chrono::Utc::now().naive_utc();
        let now =
            now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()));
        s.queue_email(
            &Email::new("pat@example.org").unwrap(),
            "Hello",
            "Body",
            now,
        )
        .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = relay_config(port);
        assert_eq!(ctwiz_web::deliver_outbox(&f.state, &cfg).await.unwrap(), 0);
        assert_eq!(s.unsent_emails(10).unwrap().len(), 1);
    })
}

/// A temporary password never sits in the outbox table: the relay gets it from memory,
/// and once it is sent the server forgets it.
#[test]
fn a_temporary_password_reaches_the_relay_but_never_the_outbox_table() {
    run(async {
        use axum::http::StatusCode;
        use common::{approve_request, get, request_account_from, session, user};
        use ctwiz_core::access::Role;
        let f = fixture();
        let s = store(&f);
        let r = request_account_from(&f, ([127, 0, 0, 1], 50000).into()).await;
        assert_eq!(r.status, StatusCode::OK);
        let request = s.account_requests(None).unwrap()[0].id;
        let (st, _) = user(&f, Role::StateAdmin, "mailadmin", true);
        let (cookie, csrf) = session(&f, st);
        let r = approve_request(&f, (&cookie, &csrf), request, "pnurse").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let stored = s
            .outbox(10)
            .unwrap()
            .into_iter()
            .find(|m| m.subject.contains("temporary password"))
            .unwrap();
        assert!(
            stored.body.contains("[withheld from the outbox"),
            "{}",
            stored.body
        );

        let (port, got) = relay();
        let cfg = relay_config(port);
        assert_eq!(ctwiz_web::deliver_outbox(&f.state, &cfg).await.unwrap(), 2);
        let sent = got.lock().unwrap().clone();
        let mail = sent
            .iter()
            .find(|m| m.contains("Temporary password: "))
            .expect("the password mail");
        let temp = common::temporary_password_in(mail);
        assert_eq!(temp.len(), 14, "{mail}");
        assert!(s
            .outbox(10)
            .unwrap()
            .iter()
            .all(|m| !m.body.contains(&temp)));
        // Sent: the outbox page shows the stored text only.
        let page = get(&f, "/admin/outbox", &cookie).await.body;
        assert!(!page.contains(&temp));
    })
}
