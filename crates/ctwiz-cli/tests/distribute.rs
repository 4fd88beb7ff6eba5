//! `ctwiz distribute` as a process: every practice receives its list once, even when two
//! processes distribute at the same moment, and a later run sends nothing.

mod common;

use ctwiz_store::distributions::DistributionStore;
use ctwiz_store::{OrgStore, SqliteStore};
use std::path::Path;
use std::process::{Command, Stdio};

fn ctwiz(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctwiz"));
    c.arg("--db")
        .arg(common::db_arg(db))
        .env_remove("CTWIZ_DB")
        .env("USER", "cli-test");
    c
}

/// (practices, sent now) from the command's summary line.
fn counts(out: &str) -> (usize, usize) {
    let num_before = |marker: &str| -> usize {
        let head = &out[..out
            .find(marker)
            .unwrap_or_else(|| panic!("{marker}: {out}"))];
        head.split_whitespace().last().unwrap().parse().unwrap()
    };
    (
        num_before(" practice(s) with"),
        num_before(" practice(s) now"),
    )
}

#[test]
fn two_processes_at_once_send_each_practice_its_list_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let seeded = ctwiz(&db)
        .args([
            "seed",
            "--children",
            "1500",
            "--clinics",
            "5",
            "--seed",
            "11",
        ])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");

    for (kind, flag) in [("cleanup", "--year"), ("compliancy", "--month")] {
        let period = match kind {
            "cleanup" => chrono::Local::now().format("%Y").to_string(),
            _ => chrono::Local::now().format("%Y-%m").to_string(),
        };
        let spawn = || {
            ctwiz(&db)
                .args(["distribute", kind, flag, &period])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs: Vec<String> = [a, b]
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                assert!(o.status.success(), "{o:?}");
                String::from_utf8(o.stdout).unwrap()
            })
            .collect();
        let (pa, sa) = counts(&outs[0]);
        let (pb, sb) = counts(&outs[1]);
        assert_eq!(pa, pb, "{outs:?}");
        assert!(
            pa > 0,
            "the seeded practices have children on the {kind} list: {outs:?}"
        );
        assert_eq!(sa + sb, pa, "each practice exactly once: {outs:?}");

        // The store holds one copy per practice; a third run sends nothing.
        let s = SqliteStore::open(common::db_arg(&db)).unwrap();
        let copies: usize = s
            .clinics()
            .unwrap()
            .iter()
            .map(|c| {
                s.distributions(&c.pin)
                    .unwrap()
                    .iter()
                    .filter(|d| d.kind.key() == kind && d.period == period)
                    .count()
            })
            .sum();
        assert_eq!(copies, pa);
        drop(s);
        let again = ctwiz(&db)
            .args(["distribute", kind, flag, &period])
            .output()
            .unwrap();
        let again = String::from_utf8(again.stdout).unwrap();
        assert_eq!(counts(&again), (pa, 0), "{again}");
    }

    // A period that has not begun is refused with the reason.
    let next_year = (chrono::Local::now().naive_local().date() + chrono::Days::new(400))
        .format("%Y")
        .to_string();
    let o = ctwiz(&db)
        .args(["distribute", "cleanup", "--year", &next_year])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("has not begun"),
        "{o:?}"
    );
}

/// Two `ctwiz serve` processes started at once on one database: their schedules both run
/// this month's compliancy and this year's clean-up, and each practice gets each once.
#[test]
fn two_servers_started_at_once_send_each_list_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let seeded = ctwiz(&db)
        .args([
            "seed",
            "--children",
            "1200",
            "--clinics",
            "4",
            "--seed",
            "3",
        ])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    // A coordinator at the first clinic, to be notified and e-mailed.
    let s = SqliteStore::open(common::db_arg(&db)).unwrap();
    let pin = s.clinics().unwrap()[0].pin.to_string();
    drop(s);
    let added = ctwiz(&db)
        .args([
            "user",
            "add",
            "--username",
            "coord",
            "--email",
            "coord@example.org",
            "--role",
            "primary-coordinator",
            "--clinic",
            &pin,
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let port = |_| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string()
    };
    let mut servers: Vec<_> = (0..2)
        .map(port)
        .map(|addr| {
            ctwiz(&db)
                .args([
                    "serve",
                    "--addr",
                    &addr,
                    "--cleanup-day",
                    "01-01",
                    "--schedule-every-secs",
                    "1",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let today = chrono::Local::now().naive_local().date();
    let periods = [
        (
            ctwiz_core::assessment::distribution::DistributionKind::Compliancy,
            today.format("%Y-%m").to_string(),
        ),
        (
            ctwiz_core::assessment::distribution::DistributionKind::Cleanup,
            today.format("%Y").to_string(),
        ),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let s = SqliteStore::open(common::db_arg(&db)).unwrap();
        let done = periods
            .iter()
            .all(|(k, p)| s.distribution_run_finished(*k, p).unwrap());
        if done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the schedule never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // Let the slower server finish its own pass too, then stop both.
    std::thread::sleep(std::time::Duration::from_secs(3));
    for s in &mut servers {
        s.kill().unwrap();
        s.wait().unwrap();
    }
    let s = SqliteStore::open(common::db_arg(&db)).unwrap();
    let mine = s
        .distributions(&ctwiz_core::ids::ClinicPin::new(&pin).unwrap())
        .unwrap();
    for (k, p) in &periods {
        assert!(
            mine.iter()
                .filter(|d| d.kind == *k && &d.period == p)
                .count()
                <= 1,
            "{k:?} {p} twice"
        );
    }
    assert!(!mine.is_empty(), "the first clinic has children on a list");
    // One e-mail per list the coordinator's practice received, not two.
    use ctwiz_store::web::WebStore;
    let mails = s
        .outbox(1000)
        .unwrap()
        .into_iter()
        .filter(|m| m.to == "coord@example.org" && m.subject.starts_with("CT WiZ: "))
        .count();
    assert_eq!(mails, mine.len());
}
