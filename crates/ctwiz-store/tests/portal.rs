//! The public portal's use case over a real SQLite store: codes go only to contacts on
//! file, a non-matching search is indistinguishable in what it returns, five wrong codes
//! lock, the visit ends after 15 minutes, every step is audited on channel portal, and
//! releases of information are recorded and listed.

mod common;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::certificate::CertificateKind;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Email, PatientId, Phone, Username};
use ctwiz_core::patient::{Guardian, OptOut, Patient, PersonName, Relationship, Sex};
use ctwiz_core::portal::{ContactKind, PortalSearch};
use ctwiz_store::certificate::shc::IssuerUrl;
use ctwiz_store::portal::{NewRelease, PortalStore};
use ctwiz_store::usecase::certificates::IssueRequest;
use ctwiz_store::usecase::portal::{self, Verification};
use ctwiz_store::usecase::{releases, UseCaseError};
use ctwiz_store::web::WebStore;
use ctwiz_store::{AuditAction, AuditFilter, AuditStore, Interface, PatientStore, SqliteStore};

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const NOW: &str = "2026-12-01 10:00:00";

fn child(given: &str, family: &str) -> Patient {
    let mut p = Patient::new(
        PersonName::new(family, given).unwrap(),
        d("2023-05-04"),
        Sex::Female,
    )
    .unwrap();
    p.guardians.push(Guardian {
        name: PersonName::new(family, "Maria").unwrap(),
        relationship: Relationship::Mother,
        phone: Some(Phone::new("860-555-0142").unwrap()),
        email: Some(Email::new("maria@example.org").unwrap()),
        address: None,
    });
    p
}

fn search(given: &str, family: &str, via: ContactKind) -> PortalSearch {
    PortalSearch::new(given, family, d("2023-05-04"), None, via, d("2026-12-01")).unwrap()
}

/// The code in the newest text to `phone` (what the phone's owner reads).
fn texted_code(s: &SqliteStore, phone: &str) -> String {
    let text = s
        .texts(50)
        .unwrap()
        .into_iter()
        .find(|m| m.to == phone)
        .expect("a text was queued");
    text.body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

fn portal_audit(s: &SqliteStore) -> Vec<(Option<PatientId>, AuditAction, String)> {
    s.audit_query(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.interface == Interface::Portal)
        .map(|e| (e.patient, e.action, e.detail))
        .collect()
}

#[test]
fn a_code_by_text_opens_the_record_for_fifteen_minutes() {
    let s = common::store();
    let id = s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    let token = portal::request_code(&s, &search("ana", "LOPEZ", ContactKind::Text), now).unwrap();
    assert!(s.outbox(10).unwrap().is_empty(), "a text, not an e-mail");
    let code = texted_code(&s, "8605550142");
    let opened = portal::verify(&s, &token, &code, now + Duration::minutes(3)).unwrap();
    let Verification::Opened {
        token: visit_token,
        visit,
    } = opened
    else {
        panic!("{opened:?}");
    };
    assert_eq!(visit.patient, id);
    // The code works once.
    assert_eq!(
        portal::verify(&s, &token, &code, now + Duration::minutes(4)).unwrap(),
        Verification::Expired
    );
    let open = portal::visit(&s, &visit_token, now + Duration::minutes(18)).unwrap();
    let rec = portal::record(
        &s,
        &open,
        &CodeSets::embedded(),
        now + Duration::minutes(18),
    )
    .unwrap();
    assert_eq!(rec.patient.name.given, "Ana");
    assert!(matches!(
        portal::visit(&s, &visit_token, now + Duration::minutes(19)),
        Err(UseCaseError::PortalClosed)
    ));
    let trail = portal_audit(&s);
    assert!(trail.iter().any(|(p, a, d)| *p == Some(id)
        && *a == AuditAction::Read
        && d.contains("(•••) •••-0142")));
    assert!(trail
        .iter()
        .any(|(p, a, _)| *p == Some(id) && *a == AuditAction::SignIn));
    assert!(trail
        .iter()
        .any(|(p, _, d)| *p == Some(id) && d == "portal record viewed"));
}

#[test]
fn a_search_that_matches_nothing_gets_a_challenge_that_never_opens() {
    let s = common::store();
    s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    let real = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Email), now).unwrap();
    let decoy =
        portal::request_code(&s, &search("Anna", "Lopez", ContactKind::Email), now).unwrap();
    assert_eq!((real.len(), decoy.len()), (64, 64));
    assert_eq!(s.outbox(10).unwrap().len(), 1, "only the match sends");
    assert_eq!(s.outbox(10).unwrap()[0].to, "maria@example.org");
    // The decoy behaves like a wrong code every time, then locks.
    for left in (1..5).rev() {
        assert_eq!(
            portal::verify(&s, &decoy, "000000", now).unwrap(),
            Verification::Wrong { left }
        );
    }
    assert_eq!(
        portal::verify(&s, &decoy, "000000", now).unwrap(),
        Verification::Locked
    );
}

#[test]
fn five_wrong_codes_lock_even_the_right_one() {
    let s = common::store();
    s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    let token = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Text), now).unwrap();
    let code = texted_code(&s, "8605550142");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for _ in 0..4 {
        assert!(matches!(
            portal::verify(&s, &token, wrong, now).unwrap(),
            Verification::Wrong { .. }
        ));
    }
    assert_eq!(
        portal::verify(&s, &token, wrong, now).unwrap(),
        Verification::Locked
    );
    assert_eq!(
        portal::verify(&s, &token, &code, now).unwrap(),
        Verification::Locked
    );
    assert!(portal_audit(&s)
        .iter()
        .any(|(_, a, _)| *a == AuditAction::Lockout));
    // A code from another challenge (another browser) does not open this one.
    let other = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Text), now).unwrap();
    let other_code = texted_code(&s, "8605550142");
    assert_ne!(other, token);
    let stolen = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Text), now).unwrap();
    if texted_code(&s, "8605550142") != other_code {
        assert!(matches!(
            portal::verify(&s, &stolen, &other_code, now).unwrap(),
            Verification::Wrong { .. }
        ));
    }
}

#[test]
fn codes_expire_after_ten_minutes() {
    let s = common::store();
    s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    let token = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Text), now).unwrap();
    let code = texted_code(&s, "8605550142");
    assert_eq!(
        portal::verify(&s, &token, &code, now + Duration::seconds(601)).unwrap(),
        Verification::Expired
    );
}

#[test]
fn opted_out_confidential_duplicate_and_contactless_records_get_no_code() {
    let s = common::store();
    let now = t(NOW);
    let mut out = child("Olga", "Nowak");
    out.opt_out = Some(OptOut {
        date: d("2025-01-01"),
        reason: "parent's request".into(),
    });
    s.create_patient(&out).unwrap();
    let mut secret = child("Cora", "Nowak");
    secret.confidential = true;
    s.create_patient(&secret).unwrap();
    s.create_patient(&child("Dana", "Twin")).unwrap();
    s.create_patient(&child("Dana", "Twin")).unwrap();
    let mut bare = child("Eve", "Nowak");
    bare.guardians.clear();
    s.create_patient(&bare).unwrap();
    for (g, f) in [
        ("Olga", "Nowak"),
        ("Cora", "Nowak"),
        ("Dana", "Twin"),
        ("Eve", "Nowak"),
    ] {
        portal::request_code(&s, &search(g, f, ContactKind::Text), now).unwrap();
        portal::request_code(&s, &search(g, f, ContactKind::Email), now).unwrap();
    }
    assert!(s.texts(10).unwrap().is_empty());
    assert!(s.outbox(10).unwrap().is_empty());
}

#[test]
fn a_record_gets_at_most_three_codes_an_hour() {
    let s = common::store();
    let id = s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    for i in 0..5 {
        portal::request_code(
            &s,
            &search("Ana", "Lopez", ContactKind::Text),
            now + Duration::minutes(i),
        )
        .unwrap();
    }
    assert_eq!(s.texts(10).unwrap().len(), 3);
    assert!(portal_audit(&s)
        .iter()
        .any(|(p, a, _)| *p == Some(id) && *a == AuditAction::Denied));
    portal::request_code(
        &s,
        &search("Ana", "Lopez", ContactKind::Text),
        now + Duration::minutes(61),
    )
    .unwrap();
    assert_eq!(s.texts(10).unwrap().len(), 4, "the window moves on");
}

#[test]
fn a_record_opted_out_after_verification_closes_the_visit() {
    let s = common::store();
    let id = s.create_patient(&child("Ana", "Lopez")).unwrap();
    let now = t(NOW);
    let token = portal::request_code(&s, &search("Ana", "Lopez", ContactKind::Text), now).unwrap();
    let code = texted_code(&s, "8605550142");
    let Verification::Opened { token: v, .. } = portal::verify(&s, &token, &code, now).unwrap()
    else {
        panic!("not opened");
    };
    let visit = portal::visit(&s, &v, now).unwrap();
    let iss = IssuerUrl::new("https://iis.example.org").unwrap();
    let codes = CodeSets::embedded();
    let req = IssueRequest {
        patient: id,
        kind: CertificateKind::School,
        issuer: "CT WiZ public portal".into(),
        iss: &iss,
        codes: &codes,
    };
    let issued = portal::certificate(&s, &visit, &req, now).unwrap();
    assert!(issued.pdf.starts_with(b"%PDF"));
    assert!(portal_audit(&s)
        .iter()
        .any(|(p, a, _)| *p == Some(id) && *a == AuditAction::Print));
    // Another record's certificate is never issued on this visit.
    let other = s.create_patient(&child("Bea", "Lopez")).unwrap();
    let req_other = IssueRequest {
        patient: other,
        ..req.clone()
    };
    assert!(matches!(
        portal::certificate(&s, &visit, &req_other, now),
        Err(UseCaseError::PortalClosed)
    ));
    let mut p = s.patient(id).unwrap().unwrap();
    p.opt_out = Some(OptOut {
        date: d("2026-12-01"),
        reason: "parent's request".into(),
    });
    s.update_patient(&p).unwrap();
    assert!(matches!(
        portal::record(&s, &visit, &codes, now),
        Err(UseCaseError::PortalClosed)
    ));
}

fn clinic_actor(role: Role) -> Actor {
    let pin = ClinicPin::new("C100").unwrap();
    let mut u = User::new(
        Username::new("nurse").unwrap(),
        "Nina Nurse",
        Email::new("nina@example.org").unwrap(),
    )
    .unwrap();
    u.grant(Grant::new(role, Scope::Clinic(pin.clone())).unwrap());
    Actor::new(
        u,
        Acting::Clinic {
            pin,
            at: ctwiz_core::place::Locality::county(ctwiz_core::org::County::Hartford),
        },
        Channel::Web,
    )
}

#[test]
fn releases_of_information_are_recorded_checked_and_listed() {
    let s = common::store();
    let id = s.create_patient(&child("Ana", "Lopez")).unwrap();
    let state = Actor::new(
        {
            let mut u = User::new(
                Username::new("dph").unwrap(),
                "State Admin",
                Email::new("dph@example.org").unwrap(),
            )
            .unwrap();
            u.grant(Grant::new(Role::StateAdmin, Scope::State).unwrap());
            u
        },
        Acting::State,
        Channel::Web,
    );
    let now = t(NOW);
    let r = NewRelease {
        signed_by: "Maria Lopez".into(),
        relationship: "mother".into(),
        released_to: "Hartford Public Schools".into(),
        information: "school immunization certificate".into(),
        signed_on: d("2026-11-30"),
    };
    releases::record(&s, &state, id, &r, now).unwrap();
    let bad = NewRelease {
        released_to: "  ".into(),
        ..r.clone()
    };
    let e = releases::record(&s, &state, id, &bad, now).unwrap_err();
    assert!(e.to_string().contains("who receives"), "{e}");
    let future = NewRelease {
        signed_on: d("2027-01-01"),
        ..r.clone()
    };
    assert!(releases::record(&s, &state, id, &future, now).is_err());
    let listed = releases::list(&s, &state, id, now).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].released_to, "Hartford Public Schools");
    assert_eq!(listed[0].recorded_by, "web:dph");
    // An access type that may not print the record may not release it either; the
    // refusal is the matrix's, as through every door.
    let interface_staff = clinic_actor(Role::ClinicAccessDqaInterface);
    assert!(matches!(
        releases::record(&s, &interface_staff, id, &r, now),
        Err(UseCaseError::Denied(_))
    ));
    assert_eq!(releases::list(&s, &state, id, now).unwrap().len(), 1);
    assert!(s
        .audit_query(&AuditFilter::default())
        .unwrap()
        .iter()
        .any(|e| e.action == AuditAction::Create && e.detail.contains("Hartford Public Schools")));
}
