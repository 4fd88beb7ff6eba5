//! `ctwiz bench ...`: throughput figures printed by the product itself (not unit tests).

use super::{db, CliResult};
use ctwiz_core::ids::PatientId;
use ctwiz_store::{PatientQuery, PatientStore};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Patient forecasts per second over a synthetic population (full histories, ages 0–18).
    Forecast(super::forecast::BenchForecastArgs),
    /// HL7 parse throughput over the messages in FILEs: messages/s and MB/s.
    Hl7(super::hl7::BenchHl7Args),
    /// Single-message latency over the SOAP service under concurrent load.
    Soap(super::hl7::BenchSoapArgs),
    /// VXU batch-import messages/s on a realistic feed of distinct children and on a
    /// look-alike feed (scratch databases; the real import path).
    Ingest(super::ingest_bench::BenchIngestArgs),
    /// Patient search latency (p50/p99) on the database, for the kinds of look-up the
    /// Patient Management screen runs: name prefixes, phonetic name + birth date, birth
    /// date alone, MRN; with `--web`, name-only searches through the web door (HTTP to
    /// the web app started in this process, signed in).
    Search {
        /// Queries per kind.
        #[arg(long, default_value_t = 500)]
        queries: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Time name-only searches through the web app (`GET /patients` over loopback
        /// HTTP, signed in as a clinic user the bench adds to the database) instead of
        /// the store's look-ups.
        #[arg(long)]
        web: bool,
    },
}

pub fn run(db_path: &Path, c: BenchCommand) -> CliResult {
    match c {
        BenchCommand::Forecast(a) => super::forecast::run_bench_forecast(a),
        BenchCommand::Hl7(a) => super::hl7::run_bench_hl7(a),
        BenchCommand::Soap(a) => super::hl7::run_bench_soap(a),
        BenchCommand::Ingest(a) => super::ingest_bench::run(a),
        BenchCommand::Search {
            queries,
            seed,
            web: false,
        } => search(db_path, queries, seed),
        BenchCommand::Search {
            queries,
            seed,
            web: true,
        } => search_web(db_path, queries, seed),
    }
}

/// Builds the search for one known patient.
type QueryFor = Box<dyn Fn(&ctwiz_core::patient::Patient) -> PatientQuery>;

/// The first `k` characters of a name, as typed into the search box.
fn prefix(s: &str, k: usize) -> String {
    s.chars().take(k).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn search(db_path: &Path, queries: u32, seed: u64) -> CliResult {
    let store = db::open(db_path)?;
    let n = store.patient_count()?;
    if n == 0 {
        return Err("the database has no patients; run `ctwiz seed` first".into());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Real records to look for, so every query has at least one hit.
    let mut targets = Vec::with_capacity(queries as usize);
    while targets.len() < queries as usize {
        if let Some(p) = store.patient(PatientId(rng.random_range(1..=n as i64)))? {
            targets.push(p);
        }
    }
    let kinds: Vec<(&str, QueryFor)> = vec![
        (
            "family+given prefix",
            Box::new(|p| PatientQuery {
                family: Some(prefix(&p.name.family, 4)),
                given: Some(prefix(&p.name.given, 2)),
                ..Default::default()
            }),
        ),
        (
            "phonetic family + dob",
            Box::new(|p| PatientQuery {
                family: Some(p.name.family.clone()),
                dob: Some(p.dob),
                phonetic: true,
                ..Default::default()
            }),
        ),
        (
            "dob",
            Box::new(|p| PatientQuery {
                dob: Some(p.dob),
                ..Default::default()
            }),
        ),
        (
            "mrn",
            Box::new(|p| PatientQuery {
                mrn: p.mrns.first().map(|m| m.value.clone()),
                ..Default::default()
            }),
        ),
    ];
    println!("{n} patients; {queries} queries per kind, first page of 25 with total count");
    for (name, make) in kinds {
        let mut times = Vec::with_capacity(targets.len());
        let mut hits = 0usize;
        for p in &targets {
            let q = PatientQuery {
                limit: 25,
                ..make(p)
            };
            let t = Instant::now();
            let page = store.search_patients(&q)?;
            times.push(t.elapsed());
            hits += page.rows.iter().any(|r| Some(r.id) == p.id) as usize;
        }
        times.sort_unstable();
        println!(
            "{name:>24}: p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (target on page 1: {hits}/{})",
            percentile(&times, 0.50).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            targets.len()
        );
    }
    Ok(())
}

/// `ctwiz bench search --web`: name-only searches through the real web door, timed at the
/// client. The application (`ctwiz_web::router`, the same routes `ctwiz serve` mounts)
/// runs in this process on a loopback port; the bench signs in through the sign-in form
/// (anti-forgery cookie and all) as a clinic user and asks `GET /patients?family=..` with
/// the session cookie, reading each whole page, as a browser would.
fn search_web(db_path: &Path, queries: u32, seed: u64) -> CliResult {
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::ids::{Email, Username};
    use ctwiz_store::web::{SecurityAnswer, WebStore};
    use ctwiz_store::{accounts, OrgStore, UserStore};
    const USER: &str = "bench-search";
    const PASSWORD: &str = "Bench-Search-Pass-1";
    let store = db::open(db_path)?;
    let n = store.patient_count()?;
    if n == 0 {
        return Err(
            "the database has no patients; run `ctwiz seed --children 1000000` first".into(),
        );
    }
    let clinic = store
        .clinics()?
        .into_iter()
        .next()
        .ok_or("the database has no clinics")?;
    // A clinic user whose first sign-in is done (password chosen, questions set).
    let username = Username::new(USER)?;
    let id = match store.account(&username)? {
        Some(a) => a.user.id.ok_or("account without id")?,
        None => {
            let mut u = User::new(
                username,
                "Search Bench",
                Email::new("bench-search@example.org")?,
            )?;
            u.grant(Grant::new(
                Role::ClinicAccess,
                Scope::Clinic(clinic.pin.clone()),
            )?);
            store.create_user(&u, &accounts::hash_password(PASSWORD)?, false)?
        }
    };
    store.set_password(id, &accounts::hash_password(PASSWORD)?, false)?;
    store.set_locked_until(id, None)?;
    let answer = accounts::hash_password("blue")?;
    store.set_security_answers(
        id,
        &accounts::SECURITY_QUESTIONS[..2]
            .iter()
            .map(|q| SecurityAnswer {
                question: (*q).to_string(),
                answer_hash: answer.clone(),
            })
            .collect::<Vec<_>>(),
    )?;
    // What a nurse types: the first 2 to 5 letters of a family name of a record in the
    // registry (so common names come up as often as they occur), now and then with the
    // first letters of a given name.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut asks = Vec::with_capacity(queries as usize);
    while asks.len() < queries as usize {
        let Some(p) = store.patient(PatientId(rng.random_range(1..=n as i64)))? else {
            continue;
        };
        let family = prefix(&p.name.family, rng.random_range(2..=5));
        let given = if rng.random_bool(0.3) {
            prefix(&p.name.given, rng.random_range(1..=3))
        } else {
            String::new()
        };
        asks.push((family, given));
    }
    drop(store);

    let rt = tokio::runtime::Runtime::new()?;
    let state = ctwiz_web::AppState::new(db_path.to_path_buf(), false)
        .map_err(|e| format!("cannot open the web app: {e}"))?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(ctwiz_web::serve_app(
        listener,
        ctwiz_web::router(state),
        ctwiz_web::HEADER_READ_TIMEOUT,
        async {
            let _ = stopped.await;
        },
    ));
    let result = (|| -> CliResult<Vec<(Duration, usize)>> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let cookie = |r: &ureq::http::Response<ureq::Body>, name: &str| -> Option<String> {
            r.headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|c| c.starts_with(&format!("{name}=")))
                .and_then(|c| c.split(';').next())
                .map(str::to_string)
        };
        // The sign-in form's anti-forgery cookie, then the form itself.
        let form = agent.get(format!("{base}/sign-in")).call()?;
        let pre = cookie(&form, "ctwiz_pre").ok_or("the sign-in page set no ctwiz_pre cookie")?;
        let token = pre.trim_start_matches("ctwiz_pre=").to_string();
        let signed = agent
            .post(format!("{base}/sign-in"))
            .header("Cookie", &pre)
            .send_form([
                ("csrf", token.as_str()),
                ("username", USER),
                ("password", PASSWORD),
            ])?;
        let session = cookie(&signed, "ctwiz_session")
            .ok_or_else(|| format!("signing in failed (HTTP {})", signed.status().as_u16()))?;
        let mut out = Vec::with_capacity(asks.len());
        for (family, given) in &asks {
            let t = Instant::now();
            let mut r = agent
                .get(format!("{base}/patients"))
                .query("family", family)
                .query("given", given)
                .header("Cookie", &session)
                .call()?;
            let page = r.body_mut().read_to_string()?;
            let took = t.elapsed();
            if !r.status().is_success() {
                return Err(format!(
                    "GET /patients?family={family}: HTTP {}",
                    r.status().as_u16()
                )
                .into());
            }
            out.push((took, page.matches("<tr><td><a href=\"/patients/").count()));
        }
        Ok(out)
    })();
    let _ = stop.send(());
    let _ = rt.block_on(server);
    let timed = result?;
    let mut times: Vec<Duration> = timed.iter().map(|(t, _)| *t).collect();
    times.sort_unstable();
    let empty = timed.iter().filter(|(_, rows)| *rows == 0).count();
    println!(
        "{n} patients; {} name-only searches through the web door (GET /patients, signed in as a clinic user, whole page read)",
        times.len()
    );
    println!(
        "{:>24}: p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (pages with no row: {empty})",
        "family[+given] prefix",
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    Ok(())
}
