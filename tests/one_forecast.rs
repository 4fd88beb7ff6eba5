//! One forecast input: for the same child, the Immunization Home (the web page), the
//! Z42 answer to a QBP Z44 (`ctwiz_hl7::interface::process_message`) and the reports'
//! assessment (`assessment::run::recall` over the store's stream) give the same next
//! dose dates per vaccine group. The children cover a refusal on record, MenB doses and
//! evidence of immunity.

use chrono::{Days, Months, NaiveDate, Timelike};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::assessment::recall::RecallQuery;
use ctwiz_core::assessment::{run, Cohort};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{
    CompletionStatus, Dose, InformationSource, Observation, ObservationKind, RefusalReason,
};
use ctwiz_core::ids::{ClinicPin, Cvx, Email, PatientId, Username};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Mrn, Patient, PersonName, Sex};
use ctwiz_forecast::Engine;
use ctwiz_hl7::interface::{process_message, vaccine_group_cvx, CdsiForecaster, Context};
use ctwiz_store::web::{SecurityAnswer, WebStore};
use ctwiz_store::{accounts, DoseStore, OrgStore, PatientStore, SqliteStore, UserStore};
use std::collections::BTreeMap;

/// Next dose per vaccine group (keyed by its Z42 vaccine-type code, or the engine's name
/// where there is none): (recommended, past due).
type NextDoses = BTreeMap<String, (NaiveDate, Option<NaiveDate>)>;

fn key(group: &str) -> String {
    vaccine_group_cvx(group).map_or_else(|| group.to_string(), |(code, _)| code.to_string())
}

struct Child {
    family: &'static str,
    mrn: &'static str,
    dob: NaiveDate,
    /// (CVX, days after birth, refused)
    doses: Vec<(&'static str, u64, bool)>,
    /// (CDSi observation code, days after birth)
    observations: Vec<(&'static str, u64)>,
}

fn children(today: NaiveDate) -> Vec<Child> {
    vec![
        // An infant at 5 months: the 2-month visit given, rotavirus refused at 4 months.
        Child {
            family: "Infant",
            mrn: "M-INF",
            dob: today - Months::new(5),
            doses: vec![
                ("08", 0, false),
                ("110", 61, false),
                ("49", 61, false),
                ("133", 61, false),
                ("116", 61, false),
                ("116", 122, true),
            ],
            observations: vec![],
        },
        // A 17-year-old with MenACWY, Tdap, HPV and one dose of MenB (Bexsero).
        Child {
            family: "Teen",
            mrn: "M-TEEN",
            dob: today - Months::new(17 * 12 + 2),
            doses: vec![
                ("115", 11 * 365, false),
                ("114", 11 * 365, false),
                ("165", 11 * 365, false),
                ("114", 16 * 365 + 10, false),
                ("163", 17 * 365, false),
            ],
            observations: vec![],
        },
        // A 4-year-old with no varicella dose but a provider-verified history of varicella.
        Child {
            family: "Immune",
            mrn: "M-IMM",
            dob: today - Months::new(4 * 12 + 1),
            doses: vec![
                ("20", 61, false),
                ("20", 122, false),
                ("20", 183, false),
                ("03", 366, false),
            ],
            observations: vec![("024", 400)],
        },
    ]
}

fn store_children(
    s: &SqliteStore,
    pin: &ClinicPin,
    today: NaiveDate,
) -> Vec<(PatientId, String, NaiveDate)> {
    children(today)
        .into_iter()
        .map(|c| {
            let mut p = Patient::new(
                PersonName::new(c.family, "Kid").unwrap(),
                c.dob,
                Sex::Female,
            )
            .unwrap();
            p.mrns.push(Mrn::new(pin.clone(), c.mrn).unwrap());
            let doses: Vec<Dose> = c
                .doses
                .iter()
                .map(|&(cvx, days, refused)| {
                    let mut d = Dose::new(
                        Cvx::new(cvx).unwrap(),
                        c.dob + Days::new(days),
                        InformationSource::HistoricalOtherProvider,
                    );
                    if refused {
                        d.completion = CompletionStatus::Refused;
                        d.refusal = Some(RefusalReason::ParentalDecision);
                    }
                    d
                })
                .collect();
            let id = s.create_patient_with_doses(&p, &doses).unwrap();
            for &(code, days) in &c.observations {
                let o = Observation::new(
                    ObservationKind::Immunity,
                    code,
                    "history of disease",
                    c.dob + Days::new(days),
                )
                .unwrap();
                s.add_observation(id, &o).unwrap();
            }
            (id, c.mrn.to_string(), c.dob)
        })
        .collect()
}

/// A signed-in DPH state user: the session cookie.
fn state_session(s: &SqliteStore) -> String {
    let mut u = User::new(
        Username::new("forecaster").unwrap(),
        "State User",
        Email::new("f@example.org").unwrap(),
    )
    .unwrap();
    u.grant(Grant::new(Role::StateAdmin, Scope::State).unwrap());
    let (id, _) = accounts::create_with_temporary_password(s, &u).unwrap();
    s.set_password(
        id,
        &accounts::hash_password("correct horse 42").unwrap(),
        false,
    )
    .unwrap();
    let answer = accounts::hash_password("blue").unwrap();
    let answers = ["Q1", "Q2"].map(|q| SecurityAnswer {
        question: q.into(),
        answer_hash: answer.clone(),
    });
    s.set_security_answers(id, &answers).unwrap();
    let token = "f".repeat(64);
    let now = chrono::Utc::now().naive_utc().with_nanosecond(0).unwrap();
    s.create_session(
        &ctwiz_web::session_token_hash(&token),
        id,
        "csrf",
        None,
        now,
    )
    .unwrap();
    format!("ctwiz_session={token}")
}

/// The Recommender table of the Immunization Home: groups not complete, with dates.
async fn web_page(state: &ctwiz_web::AppState, cookie: &str, id: PatientId) -> NextDoses {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(format!("/patients/{id}"))
        .header(axum::http::header::COOKIE, cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = ctwiz_web::router(state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), axum::http::StatusCode::OK);
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let table = body
        .split("<table class=\"recommender\">")
        .nth(1)
        .expect("recommender table");
    let tbody = table
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    let mut out = NextDoses::new();
    for row in tbody.split("<tr>").skip(1) {
        let cells: Vec<&str> = row
            .split("<td>")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap())
            .collect();
        let status = cells[1];
        let not_complete = ["Overdue<", "Due now<", "Not yet due<"]
            .iter()
            .any(|s| status.contains(s));
        if not_complete {
            let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            out.insert(
                key(cells[0]),
                (date(cells[4]).expect("recommended"), date(cells[5])),
            );
        }
    }
    out
}

/// The forecast OBX groups of a Z42 (after the RXA 998 "no vaccine administered").
fn z42(
    s: &SqliteStore,
    engine: &CdsiForecaster,
    pin: &str,
    mrn: &str,
    family: &str,
    dob: NaiveDate,
    today: NaiveDate,
) -> NextDoses {
    let codes = CodeSets::embedded();
    // The state's interface account asks (the matrix lets it query for any clinic).
    let state =
        ctwiz_store::usecase::actors::local_operator("z42-test", ctwiz_core::actor::Channel::Soap);
    let mut ctx = Context::new(&codes, &state, today.and_hms_opt(12, 0, 0).unwrap(), "R1");
    ctx.forecaster = Some(engine);
    let query = format!(
        "MSH|^~\\&|EHR|{pin}|CTWIZ|CTDPH|20261125090000||QBP^Q11^QBP_Q11|Q-{mrn}|P|2.5.1|||ER|AL|||||Z44^CDCPHINVS\r\
         QPD|Z44^Request^CDCPHINVS|T1|{mrn}^^^{pin}^MR|{family}^Kid^^^^^L||{}|F\r\
         RCP|I|1^RD&records&HL70126\r",
        dob.format("%Y%m%d")
    );
    let text = process_message(s, &ctx, &query).response.to_lines();
    assert!(text.contains("QAK|T1|OK|"), "{text}");
    let forecast = text
        .split("998^No vaccine administered^CVX")
        .nth(1)
        .expect("forecast part");
    // sub-id → (vaccine type, status, due, overdue)
    let mut groups: BTreeMap<String, (String, String, Option<NaiveDate>, Option<NaiveDate>)> =
        BTreeMap::new();
    for seg in forecast.lines().filter(|l| l.starts_with("OBX|")) {
        let f: Vec<&str> = seg.split('|').collect();
        let g = groups.entry(f[4].to_string()).or_default();
        let date = || NaiveDate::parse_from_str(f[5], "%Y%m%d").ok();
        match f[3].split('^').next().unwrap() {
            "30956-7" => {
                let mut c = f[5].split('^');
                let (code, text) = (c.next().unwrap(), c.next().unwrap_or(""));
                g.0 = if code.is_empty() {
                    text.to_string()
                } else {
                    code.to_string()
                };
            }
            "59783-1" => g.1 = f[5].split('^').next().unwrap().to_string(),
            "30980-7" => g.2 = date(),
            "59778-1" => g.3 = date(),
            _ => {}
        }
    }
    groups
        .into_values()
        // LA13423-1 overdue, LA13422-3 on schedule: the series is not complete.
        .filter(|g| g.1 == "LA13423-1" || g.1 == "LA13422-3")
        .map(|(group, _, due, overdue)| (group, (due.expect("due date"), overdue)))
        .collect()
}

/// The reports' view: reminder/recall over the store's stream, every group, any date.
fn reports(s: &SqliteStore, engine: &Engine, today: NaiveDate) -> BTreeMap<PatientId, NextDoses> {
    let cohort = Cohort {
        as_of: today,
        min_age_months: 0,
        max_age_months: 18 * 12,
        clinics: None,
        within: None,
        places: None,
    };
    let q = RecallQuery {
        as_of: today,
        from: today - Months::new(18 * 12),
        to: today + Months::new(100 * 12),
        vaccine_groups: vec![],
        include_overdue: true,
    };
    let codes = CodeSets::embedded();
    let ctx = ctwiz_core::assessment::coverage::Context {
        engine,
        codes: &codes,
    };
    let entries = run::recall(&ctx, &q, &cohort, |f| {
        s.for_each_chunk(Some(cohort.dob_range()), 100, &mut |chunk| {
            f(chunk);
            Ok(())
        })
    })
    .unwrap();
    entries
        .into_iter()
        .map(|e| {
            let next = e
                .due
                .iter()
                .map(|d| (key(&d.vaccine_group), (d.recommended, d.past_due)))
                .collect();
            (e.child.id.unwrap(), next)
        })
        .collect()
}

#[tokio::test]
async fn page_z42_and_reports_agree_on_next_doses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let s = SqliteStore::open(&db).unwrap();
    let pin = ClinicPin::new("C1").unwrap();
    s.add_clinic(
        &Clinic::new(
            pin.clone(),
            "Clinic One",
            County::Hartford,
            ProgramType::Cvp,
        )
        .unwrap(),
    )
    .unwrap();
    // The page forecasts as of its request's (UTC) day.
    let today = chrono::Utc::now().date_naive();
    let kids = store_children(&s, &pin, today);
    let cookie = state_session(&s);
    let state = ctwiz_web::AppState::new(db.clone(), false).unwrap();
    let engine = Engine::bundled().unwrap();
    let forecaster = CdsiForecaster::new(engine.clone());
    let from_reports = reports(&s, &engine, today);

    let families = ["Infant", "Teen", "Immune"];
    for ((id, mrn, dob), family) in kids.into_iter().zip(families) {
        let page = web_page(&state, &cookie, id).await;
        let answer = z42(&s, &forecaster, "C1", &mrn, family, dob, today);
        let report = from_reports.get(&id).cloned().unwrap_or_default();
        assert!(!page.is_empty(), "{family}: something is due");
        assert_eq!(page, answer, "{family}: Immunization Home vs Z42");
        assert_eq!(page, report, "{family}: Immunization Home vs reports");
        match family {
            "Teen" => assert!(page.contains_key("164"), "MenB second dose: {page:?}"),
            "Immune" => assert!(!page.contains_key("21"), "varicella immune: {page:?}"),
            _ => {}
        }
    }
}
