//! Patient-search latency through the whole web stack (session lookup, permission check,
//! index-backed store query, audit row, HTML rendering) on a seeded database.
//!
//! ```text
//! ctwiz --db big.db seed --children 1000000
//! cargo bench -p ctwiz-web --bench search_latency -- big.db 400
//! ```
//! Without a database argument it prints how to run and exits (so `cargo bench` stays quick).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::ids::{Email, PatientId, Username};
use ctwiz_store::web::{SecurityAnswer, WebStore};
use ctwiz_store::{accounts, PatientStore, SqliteStore, UserStore};
use rand::Rng;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A misspelling that keeps the Soundex code (double the last consonant), for phonetic search.
fn misspell(family: &str) -> String {
    let mut s = family.to_string();
    if let Some(c) = s.chars().last() {
        s.push(c);
    }
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(db) = args.first() else {
        println!("search_latency: pass a seeded database: cargo bench -p ctwiz-web --bench search_latency -- DB [QUERIES]");
        return Ok(());
    };
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(400);
    let store = SqliteStore::open(db)?;
    let count = store.patient_count()?;
    if count == 0 {
        return Err("the database has no patients; seed it first".into());
    }

    // A statewide user with a live session, so searches are not scoped to one county.
    let name = Username::new("bench-state")?;
    let id = match store.account(&name)? {
        Some(a) => a.user.id.ok_or("account without id")?,
        None => {
            let mut u = User::new(name, "Bench State", Email::new("bench@example.org")?)?;
            u.grant(Grant::new(Role::StateAdmin, Scope::State)?);
            let id = store.create_user(
                &u,
                &accounts::hash_password(&accounts::temporary_password())?,
                false,
            )?;
            let h = accounts::hash_password("x1")?;
            store.set_security_answers(
                id,
                &[
                    SecurityAnswer {
                        question: "a".into(),
                        answer_hash: h.clone(),
                    },
                    SecurityAnswer {
                        question: "b".into(),
                        answer_hash: h,
                    },
                ],
            )?;
            id
        }
    };
    let token = format!("bench{:059x}", rand::rng().random::<u64>());
    let now = chrono::Utc::now().naive_utc();
    let now =
        now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()));
    store.create_session(
        &ctwiz_web::session_token_hash(&token),
        id,
        "bench",
        None,
        now,
    )?;
    let cookie = format!("ctwiz_session={token}");

    let kinds = [
        "family prefix + given",
        "phonetic family + DOB",
        "DOB only",
        "family + given prefix",
    ];
    let mut rng = rand::rng();
    let mut queries = Vec::with_capacity(n);
    while queries.len() < n {
        let Some(p) = store.patient(PatientId(rng.random_range(1..=count as i64)))? else {
            continue;
        };
        let k = queries.len() % kinds.len();
        let fam: String = p
            .name
            .family
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        let given: String = p
            .name
            .given
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        let q = match k {
            0 => format!("family={}&given={given}", &fam[..fam.len().min(3)]),
            1 => format!("family={}&dob={}", misspell(&fam), p.dob),
            2 => format!("dob={}", p.dob),
            _ => format!("family={fam}&given={}", &given[..given.len().min(2)]),
        };
        queries.push((k, format!("/patients?{q}")));
    }
    drop(store);

    let state = ctwiz_web::AppState::new(db.into(), false)?;
    let app = ctwiz_web::router(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    rt.block_on(async {
        for (k, uri) in &queries {
            let req = Request::get(uri.as_str())
                .header(header::COOKIE, &cookie)
                .body(Body::empty())?;
            let t = Instant::now();
            let res = app.clone().oneshot(req).await?;
            let status = res.status();
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            times[*k].push(t.elapsed());
            if status != StatusCode::OK {
                return Err(format!("{uri} answered {status}").into());
            }
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    println!("patient search through the web app on {count} patient records ({n} queries):");
    let mut all: Vec<Duration> = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        let t = &mut times[k];
        t.sort();
        all.extend_from_slice(t);
        println!(
            "  {kind:<24} p50 {:>9}  p99 {:>9}  max {:>9}",
            ms(percentile(t, 0.5)),
            ms(percentile(t, 0.99)),
            ms(percentile(t, 1.0))
        );
    }
    all.sort();
    println!(
        "  {:<24} p50 {:>9}  p99 {:>9}  max {:>9}",
        "all",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(percentile(&all, 1.0))
    );
    Ok(())
}
