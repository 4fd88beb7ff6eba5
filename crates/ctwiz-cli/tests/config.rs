//! `ctwiz.toml` through the real door: `ctwiz config check` on good and bad files, the
//! precedence of flags over variables over the file, and `ctwiz serve --config FILE`
//! listening where the file says, logging JSON lines that carry each request's id and
//! each HL7 message's control id and acknowledgment.

mod common;

use common::{db_arg, ok};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `ctwiz` with no `--db`: the database comes from the configuration. No inherited
/// CTWIZ_* variable may leak in.
fn ctwiz_bare() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctwiz"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CTWIZ_") {
            c.env_remove(k);
        }
    }
    c.env("USER", "cli-test");
    c
}

fn run(c: &mut Command) -> (bool, String, String) {
    let out: Output = c.output().expect("ctwiz runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A configuration file holding `body` after `database = DB`.
fn write_config(dir: &Path, db: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("ctwiz.toml");
    let db = db_arg(db).into_string().expect("a UTF-8 database");
    std::fs::write(&path, format!("database = {db:?}\n{body}")).expect("write config");
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The line of `config check` output for `key`.
fn row<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in:\n{out}"))
}

/// A prepared database: clinic C1 and its EHR's interface account `ehr-c1`, whose
/// temporary password is returned.
fn registry(db: &Path) -> String {
    ok(db, &["clinic", "add", "--pin", "C1", "--name", "C1"]);
    let out = ok(
        db,
        &[
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
        ],
    );
    out.lines()
        .find_map(|l| l.split_once("temporary password").map(|(_, p)| p))
        .and_then(|p| p.rsplit(": ").next())
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no temporary password in {out}"))
}

#[test]
fn config_check_accepts_a_good_file_and_checks_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    registry(&db);
    let cfg = write_config(
        dir.path(),
        &db,
        "[web]\naddr = \"127.0.0.1:8181\"\n\
         [mllp]\naddr = \"127.0.0.1:2575\"\n\
         [[mllp.facility]]\npin = \"C1\"\nusername = \"ehr-c1\"\nsources = [\"127.0.0.1\"]\n\
         [sms]\ngateway = \"http://127.0.0.1:9090/send\"\n\
         [limits.sign_in]\nper_address = { burst = 7, every_secs = 2 }\n",
    );
    let (success, out, err) = run(ctwiz_bare()
        .args(["--config"])
        .arg(&cfg)
        .args(["config", "check"])
        .env("CTWIZ_SMS_TOKEN", "tok-s3cret"));
    assert!(success, "{out}{err}");
    assert!(out.contains("configuration OK"), "{out}");
    assert!(out.contains("database: opens; schema"), "{out}");
    assert!(
        out.contains("mllp facility C1: account \"ehr-c1\" and clinic exist"),
        "{out}"
    );
    assert!(row(&out, "web.addr").contains("127.0.0.1:8181"), "{out}");
    assert!(row(&out, "web.addr").ends_with("(file)"), "{out}");
    assert!(row(&out, "database").ends_with("(file)"), "{out}");
    assert!(
        row(&out, "limits.sign_in.per_address").contains("7 at once"),
        "{out}"
    );
    assert!(row(&out, "limits.sign_in.per_address").ends_with("(file)"));
    assert!(row(&out, "limits.sign_in.per_account").ends_with("(default)"));
    // The token is used, never printed.
    assert!(
        row(&out, "sms.token").ends_with("(env CTWIZ_SMS_TOKEN)"),
        "{out}"
    );
    assert!(!out.contains("tok-s3cret") && !err.contains("tok-s3cret"));

    // The example parses and passes too (without a database to check against).
    let (success, example, _) = run(ctwiz_bare().args(["config", "example"]));
    assert!(success);
    let example_file = dir.path().join("example.toml");
    std::fs::write(&example_file, example).unwrap();
    let (success, out, err) = run(ctwiz_bare().arg("--config").arg(&example_file).args([
        "config",
        "check",
        "--skip-database",
    ]));
    assert!(success, "{out}{err}");
    assert!(out.contains("database: not checked"), "{out}");

    // A facility bound to an account that does not exist is a problem.
    let cfg = write_config(
        dir.path(),
        &db,
        "[mllp]\naddr = \"127.0.0.1:2575\"\n\
         [[mllp.facility]]\npin = \"C1\"\nusername = \"nobody\"\nsources = [\"127.0.0.1\"]\n",
    );
    let (success, out, err) = run(ctwiz_bare()
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"]));
    assert!(!success, "{out}");
    assert!(
        out.contains("problem: MLLP binding for C1: there is no account \"nobody\""),
        "{out}"
    );
    assert!(err.contains("1 problem"), "{err}");
}

#[test]
fn config_check_refuses_unknown_keys_bad_addresses_and_bad_facilities() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.db");
    let check = |body: &str| -> String {
        let cfg = write_config(dir.path(), &db, body);
        let (success, out, err) = run(ctwiz_bare()
            .arg("--config")
            .arg(&cfg)
            .args(["config", "check"]));
        assert!(!success, "{body} was accepted:\n{out}");
        err
    };
    // Line 1 is `database = ...`.
    let e = check("[web]\naddr = \"127.0.0.1:8080\"\nadress = \"127.0.0.1:8081\"\n");
    assert!(e.contains("line 4, web.adress"), "{e}");
    assert!(e.contains("unknown field `adress`"), "{e}");
    let e = check("colour = \"blue\"\n");
    assert!(
        e.contains("line 2, colour") && e.contains("unknown field"),
        "{e}"
    );
    let e = check("[web]\naddr = \"localhost\"\n");
    assert!(e.contains("line 3, web.addr"), "{e}");
    assert!(e.contains("invalid socket address"), "{e}");
    let e = check("[smtp]\nrelay = \"mail.example.org\"\n");
    assert!(
        e.contains("line 3, smtp.relay") && e.contains("HOST:PORT"),
        "{e}"
    );
    let e = check("[schedule]\ncleanup_day = \"13-01\"\n");
    assert!(e.contains("line 3, schedule.cleanup_day"), "{e}");
    let e = check(
        "[[mllp.facility]]\npin = \"C1\"\nusername = \"ehr-c1\"\nsources = [\"10.0.0.1\"]\n\n\
         [[mllp.facility]]\npin = \"C2\"\nusername = \"ehr-c2\"\nsources = [\"10.0.0.0/33\"]\n",
    );
    assert!(e.contains("mllp.facility[2]"), "{e}");
    assert!(e.contains("/33 is not a prefix length"), "{e}");
    let e = check("[[mllp.facility]]\npin = \"C1\"\nuser = \"ehr-c1\"\nsources = []\n");
    assert!(
        e.contains("mllp.facility[1].user") && e.contains("unknown field `user`"),
        "{e}"
    );
    // MLLP with no facility trusts nobody: refused, naming how to bind one.
    let e = check("[mllp]\naddr = \"127.0.0.1:2575\"\n");
    assert!(
        e.contains("--mllp-bind") && e.contains("[[mllp.facility]]"),
        "{e}"
    );
    // A bad variable is named.
    let cfg = write_config(dir.path(), &db, "");
    let (success, _, e) = run(ctwiz_bare()
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check", "--skip-database"])
        .env("CTWIZ_LOG_FORMAT", "xml"));
    assert!(!success);
    assert!(e.contains("environment variable CTWIZ_LOG_FORMAT"), "{e}");
    // A named file must exist.
    let (success, _, e) =
        run(ctwiz_bare().args(["--config", "/nonexistent/ctwiz.toml", "config", "check"]));
    assert!(!success);
    assert!(e.contains("/nonexistent/ctwiz.toml"), "{e}");
}

#[test]
fn a_flag_beats_a_variable_which_beats_the_file_which_beats_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let cfg = write_config(
        dir.path(),
        &db,
        "[web]\naddr = \"127.0.0.1:1001\"\n[log]\nformat = \"json\"\nlevel = \"warn\"\n",
    );
    let check = |flags: &[&str], env: &[(&str, &str)]| -> String {
        let mut c = ctwiz_bare();
        c.env("CTWIZ_CONFIG", &cfg)
            .args(["config", "check", "--skip-database"])
            .args(flags);
        for (k, v) in env {
            c.env(k, v);
        }
        let (success, out, err) = run(&mut c);
        assert!(success, "{out}{err}");
        out
    };
    let out = check(&[], &[]);
    assert!(
        row(&out, "web.addr").contains("127.0.0.1:1001  (file)"),
        "{out}"
    );
    assert!(row(&out, "log.format").contains("json  (file)"), "{out}");
    assert!(
        row(&out, "mllp.idle_secs").contains("60 s  (default)"),
        "{out}"
    );
    let out = check(&[], &[("CTWIZ_ADDR", "127.0.0.1:1002")]);
    assert!(
        row(&out, "web.addr").contains("127.0.0.1:1002  (env CTWIZ_ADDR)"),
        "{out}"
    );
    assert!(row(&out, "log.level").contains("warn  (file)"), "{out}");
    let out = check(
        &["--addr", "127.0.0.1:1003", "--log-format", "human"],
        &[
            ("CTWIZ_ADDR", "127.0.0.1:1002"),
            ("CTWIZ_LOG_FORMAT", "json"),
        ],
    );
    assert!(
        row(&out, "web.addr").contains("127.0.0.1:1003  (flag --addr)"),
        "{out}"
    );
    assert!(
        row(&out, "log.format").contains("human  (flag --log-format)"),
        "{out}"
    );
    // The database: --db over CTWIZ_DB over the file.
    let out = check(&[], &[("CTWIZ_DB", "/srv/other.db")]);
    assert!(
        row(&out, "database").contains("/srv/other.db  (env CTWIZ_DB)"),
        "{out}"
    );
    let out = check(&["--db", "/srv/third.db"], &[("CTWIZ_DB", "/srv/other.db")]);
    assert!(
        row(&out, "database").contains("/srv/third.db  (flag --db)"),
        "{out}"
    );
    // A password in a PostgreSQL URL is masked.
    let out = check(
        &[],
        &[("CTWIZ_DB", "postgres://ctwiz:pw-s3cret@db:5432/ctwiz")],
    );
    assert!(row(&out, "database").contains("postgres://ctwiz:********@db:5432/ctwiz"));
    assert!(!out.contains("pw-s3cret"), "{out}");
}

/// One HTTP/1.0 GET: the status line, the headers and the body.
fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A SOAP submitSingleMessage of `hl7` (ER7 with CR segment ends): the whole HTTP answer.
fn soap_submit(addr: &str, username: &str, password: &str, hl7: &str) -> String {
    let body = format!(
        "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" \
         xmlns:urn=\"urn:cdc:iisb:2011\"><soap:Body><urn:submitSingleMessage>\
         <urn:username>{username}</urn:username><urn:password>{password}</urn:password>\
         <urn:facilityID>C1</urn:facilityID><urn:hl7Message>{}</urn:hl7Message>\
         </urn:submitSingleMessage></soap:Body></soap:Envelope>",
        hl7.replace('&', "&amp;").replace('\r', "&#13;")
    );
    let mut s = std::net::TcpStream::connect(addr).expect("HTTP connects");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /iis/soap HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/soap+xml\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("SOAP answer");
    out
}

/// The value of header `name` in an HTTP answer.
fn header(answer: &str, name: &str) -> String {
    answer
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in {answer}"))
}

/// One message over MLLP; the answer.
fn mllp_exchange(addr: &str, message: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("MLLP connects");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&[&[0x0b][..], message.as_bytes(), &[0x1c, 0x0d]].concat())
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.ends_with(&[0x1c, 0x0d]) {
        let n = s.read(&mut buf).expect("MLLP answer");
        assert!(n > 0, "MLLP connection closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn serve_takes_its_settings_from_the_file_and_logs_json_lines_with_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let password = registry(&db);
    let (port, mllp_port) = (free_port(), free_port());
    let addr = format!("127.0.0.1:{port}");
    let mllp = format!("127.0.0.1:{mllp_port}");
    let cfg = write_config(
        dir.path(),
        &db,
        &format!(
            "[web]\naddr = \"{addr}\"\n\
             [mllp]\naddr = \"{mllp}\"\n\
             [[mllp.facility]]\npin = \"C1\"\nusername = \"ehr-c1\"\nsources = [\"127.0.0.1\"]\n\
             [schedule]\nenabled = false\n\
             [log]\nformat = \"json\"\n"
        ),
    );
    let mut child = ctwiz_bare()
        .arg("--config")
        .arg(&cfg)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut health = None;
    for _ in 0..300 {
        health = get(&addr, "/healthz");
        if health.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let vxu = "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|CTL-4711|P|2.5.1\r\
               PID|1||MRN-1^^^C1^MR||Doe^Ann||20250101|F\r\
               ORC|RE||D-1^C1\rRXA|0|1|20250301||08^HepB^CVX|999|||01^^NIP001\r";
    let ack = health.as_ref().map(|_| mllp_exchange(&mllp, vxu));
    let soap = health.as_ref().map(|_| {
        soap_submit(
            &addr,
            "ehr-c1",
            &password,
            &vxu.replace("CTL-4711", "CTL-SOAP"),
        )
    });
    // Let the last lines reach stderr, then stop the server.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let health = health.unwrap_or_else(|| panic!("serve never answered on {addr}:\n{stderr}"));
    assert!(health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200"));
    let request_id = header(&health, "x-request-id");
    let ack = ack.expect("an MLLP answer");
    assert!(ack.contains("MSA|AA|CTL-4711"), "{ack}");
    let soap = soap.expect("a SOAP answer");
    assert!(soap.contains("MSA|AA|CTL-SOAP"), "{soap}");
    let soap_request_id = header(&soap, "x-request-id");

    // Every line on stderr is one JSON object.
    let lines: Vec<serde_json::Value> = out
        .stderr
        .as_slice()
        .lines()
        .map(|l| l.expect("UTF-8"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{stderr}"))
        })
        .collect();
    // The request's access line carries its id, method, route, status and duration.
    let access = lines
        .iter()
        .find(|l| l["target"] == "ctwiz::access" && l["fields"]["route"] == "/healthz")
        .unwrap_or_else(|| panic!("no access line for /healthz:\n{stderr}"));
    assert_eq!(
        access["span"]["request_id"],
        request_id.as_str(),
        "{access}"
    );
    assert_eq!(access["fields"]["method"], "GET");
    assert_eq!(access["fields"]["status"], 200);
    assert!(access["fields"]["ms"].is_u64(), "{access}");
    assert_eq!(access["level"], "INFO");
    // The MLLP message's line names the facility, MSH-10 and the acknowledgment code.
    let hl7 = lines
        .iter()
        .find(|l| l["target"] == "ctwiz::hl7" && l["span"]["door"] == "mllp")
        .unwrap_or_else(|| panic!("no MLLP line:\n{stderr}"));
    assert_eq!(hl7["fields"]["ack"], "AA", "{hl7}");
    assert_eq!(hl7["fields"]["control_id"], "CTL-4711", "{hl7}");
    assert_eq!(hl7["span"]["control_id"], "CTL-4711", "{hl7}");
    assert_eq!(hl7["span"]["facility"], "C1", "{hl7}");
    // The SOAP message's line is written on the store's worker thread, inside both the
    // request's span (its id is the response's X-Request-Id) and the message's.
    let soap_line = lines
        .iter()
        .find(|l| l["target"] == "ctwiz::hl7" && l["span"]["door"] == "soap")
        .unwrap_or_else(|| panic!("no SOAP line:\n{stderr}"));
    assert_eq!(soap_line["fields"]["ack"], "AA", "{soap_line}");
    assert_eq!(soap_line["span"]["control_id"], "CTL-SOAP", "{soap_line}");
    assert_eq!(soap_line["span"]["facility"], "C1", "{soap_line}");
    assert_eq!(
        soap_line["spans"][0]["request_id"],
        soap_request_id.as_str(),
        "{soap_line}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("listening on http://{addr}")))),
        "{stderr}"
    );
}
