//! The MLLP listener over real TCP sockets: only bound source addresses are served, each
//! as its facility's account (the permission matrix decides what it may do), MSH-4 must
//! be the bound facility, disclosures are audited, idle connections are closed, and a
//! stopping listener closes its connections between messages.

use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::ids::{ClinicPin, Email, Username};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_store::test_support::run;
use ctwiz_store::test_support::TestDb;
use ctwiz_store::{
    accounts, AuditAction, AuditFilter, AuditStore, Interface, OrgStore, PatientStore, UserStore,
};
use ctwiz_web::mllp::{self, MllpBinding, MllpConfig};
use ctwiz_web::soap::InterfaceService;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const VXU: &str = "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||VXU^V04^VXU_V04|M1|P|2.5.1|||ER|AL|||||Z22^CDCPHINVS\r\
PID|1||MRN1^^^C1^MR||Doe^Ann^^^^^L||20250101|F\r\
ORC|RE||D1^C1\r\
RXA|0|1|20250301||08^HepB^CVX|0.5|mL||00^^NIP001||||||L1||MSD^^MVX|||CP|A\r";

const Z34: &str = "MSH|^~\\&|EHR|C1|CTWIZ|CTDPH|20250301090000||QBP^Q11^QBP_Q11|Q1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
QPD|Z34^Request Immunization History^CDCPHINVS|T1|MRN1^^^C1^MR|Doe^Ann^^^^^L||20250101|F\r\
RCP|I|5^RD&records&HL70126\r";

/// The same words as the SOAP door's refusal (tests/soap.rs).
const QUERY_REFUSED: &str =
    "not authorized for facility C1: your access type may not query records over the HL7 interface";

struct Listener {
    db: TestDb,
    addr: SocketAddr,
}

/// C1's clinic user bound at 127.0.0.1, C1's DQA-interface user at 127.0.0.3; nothing
/// bound at 127.0.0.2. Connections idle for one second are closed.
async fn start() -> Listener {
    start_until(std::future::pending()).await.0
}

/// [`start`], serving until `stop` completes; the listener's task.
async fn start_until(
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (Listener, tokio::task::JoinHandle<std::io::Result<()>>) {
    let db = TestDb::new("mllp.db");
    let store = db.open();
    for p in ["C1", "C2"] {
        store
            .add_clinic(
                &Clinic::new(
                    ClinicPin::new(p).expect("pin"),
                    p,
                    County::Hartford,
                    ProgramType::Cvp,
                )
                .expect("clinic"),
            )
            .expect("add clinic");
    }
    for (name, role) in [
        ("ehr-c1", Role::ClinicAccess),
        ("dqa-c1", Role::ClinicAccessDqaInterface),
    ] {
        let mut u = User::new(
            Username::new(name).expect("name"),
            "Interface of C1",
            Email::new("ehr@c1.example").expect("email"),
        )
        .expect("user");
        u.grants.push(
            Grant::new(role, Scope::Clinic(ClinicPin::new("C1").expect("pin"))).expect("grant"),
        );
        store
            .create_user(
                &u,
                &accounts::hash_password("Interface-Pass-2026!").expect("hash"),
                false,
            )
            .expect("create user");
    }
    let bindings: Vec<MllpBinding> = ["C1=ehr-c1@127.0.0.1", "C1=dqa-c1@127.0.0.3/32"]
        .iter()
        .map(|b| b.parse().expect("binding"))
        .collect();
    let config = MllpConfig {
        bindings,
        idle_timeout: Duration::from_secs(1),
    };
    mllp::check_bindings(&store, &config).expect("bindings name accounts and clinics");
    let service = InterfaceService::new(db.location().to_path_buf()).expect("service");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(mllp::serve_until(listener, service, config, stop));
    (Listener { db, addr }, task)
}

/// A connection from the loopback address `from` (the whole of 127/8 is local).
async fn connect(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(from.parse().expect("ip"), 0))
        .expect("bind");
    socket.connect(to).await.expect("connect")
}

/// Sends one framed message; the framed answer, or `None` if the server closed first.
async fn exchange(stream: &mut TcpStream, message: &str) -> Option<String> {
    let _ = stream.write_all(&mllp::frame(message.as_bytes())).await;
    let mut frames = mllp::Deframer::default();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(payload) = frames.next_frame() {
            return Some(String::from_utf8_lossy(&payload).into_owned());
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("the server neither answered nor closed")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        frames.push(&buf[..n]);
    }
}

#[test]
fn a_connection_from_an_unbound_address_is_closed_unread() {
    run(async {
        let l = start().await;
        let mut s = connect("127.0.0.2", l.addr).await;
        assert_eq!(exchange(&mut s, VXU).await, None);
        let store = l.db.open();
        assert_eq!(store.patient_count().expect("count"), 0);
    })
}

#[test]
fn the_bound_account_submits_and_queries_for_its_facility_only() {
    run(async {
        let l = start().await;
        let mut s = connect("127.0.0.1", l.addr).await;
        // Bound to C1: a VXU claiming C2 is refused and nothing is stored.
        let other = VXU.replace("|EHR|C1|", "|EHR|C2|");
        let ack = exchange(&mut s, &other).await.expect("answer");
        assert!(ack.contains("\rMSA|AR|M1"), "{ack}");
        assert!(ack.contains("not authorized for facility C2"), "{ack}");
        let store = l.db.open();
        assert_eq!(store.patient_count().expect("count"), 0);

        let ack = exchange(&mut s, VXU).await.expect("answer");
        assert!(ack.contains("\rMSA|AA|M1"), "{ack}");
        let rsp = exchange(&mut s, Z34).await.expect("answer");
        assert!(rsp.contains("\rQAK|T1|OK|"), "{rsp}");
        assert!(rsp.contains("RXA|0|1|20250301||08^"), "{rsp}");

        let rows = store.audit_query(&AuditFilter::default()).expect("audit");
        let read = rows
            .iter()
            .find(|e| e.action == AuditAction::Read && e.detail.starts_with("QBP"))
            .expect("the query is audited");
        assert_eq!(read.actor, "mllp:ehr-c1@C1");
        assert_eq!(read.interface, Interface::Mllp);
        assert_eq!(read.clinic, Some(ClinicPin::new("C1").expect("pin")));
        assert!(rows
            .iter()
            .any(|e| e.action == AuditAction::Denied && e.detail.starts_with("VXU^V04 M1")));
    })
}

#[test]
fn a_submit_only_binding_may_not_query() {
    run(async {
        let l = start().await;
        let mut s = connect("127.0.0.3", l.addr).await;
        let ack = exchange(&mut s, VXU).await.expect("answer");
        assert!(ack.contains("\rMSA|AA|M1"), "{ack}");
        let rsp = exchange(&mut s, Z34).await.expect("answer");
        assert!(rsp.contains("\rMSA|AR|Q1"), "{rsp}");
        assert!(rsp.contains(QUERY_REFUSED), "{rsp}");
        assert!(!rsp.contains("\rPID|"), "the record was disclosed: {rsp}");
    })
}

#[test]
fn a_connection_that_completes_no_message_is_closed_after_the_timeout() {
    run(async {
        let l = start().await;
        let mut s = connect("127.0.0.1", l.addr).await;
        let started = Instant::now();
        // Half a frame, then silence (a stalled or half-open peer).
        s.write_all(b"\x0bMSH|^~\\&|EHR|C1|").await.expect("write");
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("the server kept the idle connection open")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(900),
            "closed too early: {waited:?}"
        );
    })
}

/// A stopping listener (SIGTERM in `ctwiz serve`) accepts nothing more and closes a
/// connection waiting between messages at once, not after the idle timeout.
#[test]
fn a_stopping_listener_closes_connections_between_messages_and_returns() {
    run(async {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (l, task) = start_until(async {
            let _ = stopped.await;
        })
        .await;
        let mut s = connect("127.0.0.1", l.addr).await;
        let ack = exchange(&mut s, VXU).await.expect("answered");
        assert!(ack.contains("MSA|AA|M1"), "{ack}");
        let asked = Instant::now();
        stop.send(()).expect("listener running");
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the listener returned")
            .expect("task")
            .expect("drained");
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 0, "the connection was closed");
        // The idle timeout is one second: this was the stop, not the timeout.
        let took = asked.elapsed();
        assert!(took < Duration::from_millis(800), "took {took:?}");
        assert!(
            TcpStream::connect(l.addr).await.is_err(),
            "a stopped listener accepted a connection"
        );
        let store = l.db.open();
        assert_eq!(store.patient_count().expect("count"), 1);
    })
}

/// A query answered with a list of candidates (Z31) discloses each of them: one Read
/// audit row per listed record, under the bound account.
#[test]
fn every_candidate_of_a_z31_list_is_audited() {
    run(async {
        let l = start().await;
        let mut s = connect("127.0.0.1", l.addr).await;
        let ack = exchange(&mut s, VXU).await.expect("answer");
        assert!(ack.contains("\rMSA|AA|M1"), "{ack}");
        // A phonetic variant from the same clinic under another MRN: a second record.
        let anne = VXU
            .replace("|M1|", "|M2|")
            .replace("MRN1^^^C1^MR||Doe^Ann^", "MRN2^^^C1^MR||Doe^Anne^")
            .replace("D1^C1", "D2^C1");
        let ack = exchange(&mut s, &anne).await.expect("answer");
        assert!(ack.contains("\rMSA|AA|M2"), "{ack}");
        let by_name = Z34
            .replace("MRN1^^^C1^MR|Doe^Ann^", "|Doe^An^")
            .replace("|Q1|", "|Q2|");
        let rsp = exchange(&mut s, &by_name).await.expect("answer");
        assert!(rsp.contains("Z31^CDCPHINVS"), "{rsp}");
        assert_eq!(rsp.matches("\rPID|").count(), 2, "{rsp}");
        let store = l.db.open();
        let listed: Vec<_> = store
            .audit_query(&AuditFilter::default())
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == AuditAction::Read && e.detail.contains("Z31"))
            .collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed.iter().all(|e| e.actor == "mllp:ehr-c1@C1"
            && e.interface == Interface::Mllp
            && e.patient.is_some()));
    })
}
