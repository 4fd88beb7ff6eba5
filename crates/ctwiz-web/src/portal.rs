//! The public portal (`/portal`): a parent or patient, with no account, gets the official
//! record after a one-time code sent to a contact already on the record. The rules and
//! the audit are `ctwiz_store::usecase::portal`'s; this door parses the forms, keeps the
//! challenge and the visit in their own cookies, throttles by address, and makes the
//! search answer take the same time whether or not it matched.

use crate::auth::{check_pre_token, pre_field, with_pre_token};
use crate::error::AppError;
use crate::limits::ClientAddr;
use crate::page;
use crate::patients::record::download;
use crate::session::{cookie, cookie_header};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use ctwiz_core::patient::Sex;
use ctwiz_core::portal::{
    ContactKind, PortalSearch, ANSWER_FLOOR_MS, CODE_TTL, MAX_TRIES, VIEW_TTL,
};
use ctwiz_store::portal::PortalVisit;
use ctwiz_store::usecase::certificates::IssueRequest;
use ctwiz_store::usecase::portal::{self, Verification};
use maud::{html, Markup};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// The browser's challenge (between the search and the code) and its open visit.
const CHALLENGE_COOKIE: &str = "ctwiz_portal_challenge";
const VISIT_COOKIE: &str = "ctwiz_portal";

fn portal_cookie(state: &AppState, name: &str, value: &str, max_age: chrono::Duration) -> String {
    cookie_header(state, name, value, "/portal", Some(max_age.num_seconds()))
}

fn bearer(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie(headers, name).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn help_link() -> Markup {
    html! { p.muted { a href="/portal/help" { "Help: the phone or e-mail on file is wrong or missing" } } }
}

fn search_form(token: &str, error: Option<&str>) -> Markup {
    page::public(
        "Get your immunization record",
        html! {
            p { "Parents and guardians of a child, and adults for themselves, can get the official immunization record from the Connecticut immunization registry. Enter the details as your doctor recorded them. We send a 6-digit code by text or e-mail to the phone number or e-mail address already on the record, never to one typed here." }
            (page::form_error(error))
            form.stack.card method="post" action="/portal" {
                (pre_field(token))
                (page::text_field("given", "Patient's first name", "", true))
                (page::text_field("family", "Patient's last name", "", true))
                label { span { "Date of birth *" } input type="date" name="dob" required; }
                label { span { "Sex (optional)" }
                    select name="sex" {
                        option value="" { "—" }
                        option value="F" { "Female" }
                        option value="M" { "Male" }
                    }
                }
                fieldset {
                    legend { "Send the code by" }
                    label.inline { input type="radio" name="via" value="text" checked; " Text message" }
                    label.inline { input type="radio" name="via" value="email"; " E-mail" }
                }
                div.actions { button type="submit" { "Send me a code" } }
            }
            (help_link())
        },
    )
}

pub async fn search_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    with_pre_token(&state, &headers, StatusCode::OK, |t| search_form(t, None))
}

#[derive(Deserialize)]
pub struct SearchForm {
    csrf: String,
    given: String,
    family: String,
    dob: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    via: String,
}

fn parse_search(f: &SearchForm, today: NaiveDate) -> Result<PortalSearch, AppError> {
    let dob = NaiveDate::parse_from_str(f.dob.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::BadRequest(format!(
            "Date of birth {:?} is not a date (use the date picker, or YYYY-MM-DD).",
            f.dob
        ))
    })?;
    let sex = match f.sex.trim() {
        "" => None,
        s => Some(Sex::from_code(s)?),
    };
    Ok(PortalSearch::new(
        &f.given,
        &f.family,
        dob,
        sex,
        ContactKind::parse(&f.via)?,
        today,
    )?)
}

/// `POST /portal`: a challenge for the browser, a code to the contact on file when the
/// details name one reachable record. The answer is a redirect to the code page in every
/// case, sent no sooner than `ANSWER_FLOOR_MS` after the request arrived.
pub async fn search(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<SearchForm>,
) -> Result<Response, AppError> {
    let started = Instant::now();
    check_pre_token(&headers, &f.csrf)?;
    let now = state.now();
    let search = match parse_search(&f, now.date()) {
        Ok(s) => s,
        Err(AppError::BadRequest(m)) => {
            return Ok(with_pre_token(
                &state,
                &headers,
                StatusCode::BAD_REQUEST,
                |t| search_form(t, Some(&m)),
            ));
        }
        Err(e) => return Err(e),
    };
    // Per address, and per person searched for (the same details from many addresses).
    let person = format!("{}|{}|{}", search.family, search.given, search.dob);
    state.limits().portal_search.check(addr, &person)?;
    let token = state
        .db(move |s| Ok(portal::request_code(s, &search, now)?))
        .await?;
    let floor = Duration::from_millis(ANSWER_FLOOR_MS);
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (
                header::SET_COOKIE,
                portal_cookie(&state, CHALLENGE_COOKIE, &token, CODE_TTL),
            ),
            (header::LOCATION, "/portal/verify".to_string()),
        ]),
    )
        .into_response())
}

fn code_form(token: &str, error: Option<&str>) -> Markup {
    page::public(
        "Enter your code",
        html! {
            p.notice { "If these details match a record with that contact on file, we sent a code. It expires in " (CODE_TTL.num_minutes()) " minutes." }
            (page::form_error(error))
            form.stack.card method="post" action="/portal/verify" {
                (pre_field(token))
                label { span { "6-digit code" }
                    input type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                        pattern="[0-9]{6}" maxlength="6" required autofocus; }
                div.actions { button type="submit" { "Open the record" } a href="/portal" { "Start again" } }
            }
            p.muted { "No code? Check the details and try again, or see the help page. Codes go only to the phone or e-mail your provider recorded." }
            (help_link())
        },
    )
}

pub async fn verify_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if bearer(&headers, CHALLENGE_COOKIE).is_none() {
        return Redirect::to("/portal").into_response();
    }
    with_pre_token(&state, &headers, StatusCode::OK, |t| code_form(t, None))
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

fn start_again(title: &str, message: &str) -> Markup {
    page::public(
        title,
        html! {
            p.notice { (message) }
            p { a href="/portal" { "Start again" } }
            (help_link())
        },
    )
}

/// `POST /portal/verify`: the code against the browser's challenge.
pub async fn verify(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    let Some(challenge) = bearer(&headers, CHALLENGE_COOKIE) else {
        return Ok(Redirect::to("/portal").into_response());
    };
    state.limits().portal_verify.check(addr, "")?;
    let now = state.now();
    let outcome = state
        .db(move |s| Ok(portal::verify(s, &challenge, &f.code, now)?))
        .await?;
    Ok(match outcome {
        Verification::Opened { token, .. } => (
            StatusCode::SEE_OTHER,
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    portal_cookie(&state, VISIT_COOKIE, &token, VIEW_TTL),
                ),
                (
                    header::SET_COOKIE,
                    portal_cookie(&state, CHALLENGE_COOKIE, "", chrono::Duration::zero()),
                ),
                (header::LOCATION, "/portal/record".to_string()),
            ]),
        )
            .into_response(),
        Verification::Wrong { left } => {
            let msg = format!(
                "That code is not right. {left} {} left.",
                if left == 1 { "try" } else { "tries" }
            );
            with_pre_token(&state, &headers, StatusCode::BAD_REQUEST, |t| {
                code_form(t, Some(&msg))
            })
        }
        Verification::Locked => (
            StatusCode::FORBIDDEN,
            start_again(
                "Code locked",
                &format!("The code was entered wrong {MAX_TRIES} times, so it can no longer be used. Start again to get a new code."),
            ),
        )
            .into_response(),
        Verification::Expired => (
            StatusCode::BAD_REQUEST,
            start_again(
                "Code expired",
                "This code has expired or was already used. Start again to get a new code.",
            ),
        )
            .into_response(),
    })
}

/// The open visit of this browser (a missing, ended or unknown one is
/// [`AppError::PortalClosed`]: "start again").
async fn open_visit(state: &AppState, headers: &HeaderMap) -> Result<PortalVisit, AppError> {
    let token = bearer(headers, VISIT_COOKIE).ok_or(AppError::PortalClosed)?;
    let now = state.now();
    state.db(move |s| Ok(portal::visit(s, &token, now)?)).await
}

pub async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let visit = open_visit(&state, &headers).await?;
    let now = state.now();
    let st = state.clone();
    let v = visit.clone();
    let rec = state
        .db(move |s| Ok(portal::record(s, &v, st.codes(), now)?))
        .await?;
    let recommendation = crate::recommender::evaluate(
        state.engine(),
        &rec.patient,
        &rec.doses,
        &rec.observations,
        now.date(),
    );
    let minutes_left = (visit.expires_at - now).num_minutes().max(0);
    let body = html! {
        p.notice { "This record stays open until " (visit.expires_at.format("%H:%M")) " UTC (" (minutes_left) " minutes). Everything you view here is logged." }
        section.card {
            h2 { "Download" }
            p { "The official certificate as a PDF (with a verification QR code), and the same record as a SMART Health Card for a phone's health wallet." }
            ul {
                @for k in ctwiz_core::certificate::CertificateKind::ALL {
                    li { a href={ "/portal/certificate.pdf?kind=" (k.code()) } { (k.title()) " (PDF)" } }
                }
                li { a href="/portal/record.smart-health-card" { "SMART Health Card" } }
            }
        }
        section.card {
            h2 { "Immunization history" }
            dl.facts {
                dt { "Name" } dd { (rec.history.name) }
                dt { "Date of birth" } dd { (rec.history.dob.format("%m/%d/%Y")) }
            }
            (crate::certificate::history(&rec.history))
        }
        h2 { "What is due" }
        (crate::recommender::panel(recommendation.as_ref(), now.date()))
        // No anti-forgery token: ending a visit is harmless and the cookie is SameSite=Strict.
        form method="post" action="/portal/done" {
            button type="submit" { "Done: close the record" }
        }
        (help_link())
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        page::public("Immunization record", body),
    )
        .into_response())
}

async fn issued(
    state: &AppState,
    headers: &HeaderMap,
    kind: ctwiz_core::certificate::CertificateKind,
) -> Result<(PortalVisit, ctwiz_store::usecase::certificates::Issued), AppError> {
    let visit = open_visit(state, headers).await?;
    let now = state.now();
    let st = state.clone();
    let v = visit.clone();
    state
        .db(move |s| {
            let req = IssueRequest {
                patient: v.patient,
                kind,
                issuer: "CT WiZ public portal".into(),
                iss: st.public_url(),
                codes: st.codes(),
            };
            Ok(portal::certificate(s, &v, &req, now)?)
        })
        .await
        .map(|i| (visit, i))
}

pub async fn certificate_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<crate::certificate::KindQuery>,
) -> Result<Response, AppError> {
    let kind = q.kind()?;
    let (v, i) = issued(&state, &headers, kind).await?;
    Ok(download(
        "application/pdf",
        format!("immunization-certificate-{}-{}.pdf", kind.code(), v.patient),
        i.pdf,
    ))
}

pub async fn smart_health_card(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (v, i) = issued(
        &state,
        &headers,
        ctwiz_core::certificate::CertificateKind::School,
    )
    .await?;
    Ok(download(
        "application/smart-health-card",
        format!("immunization-record-{}.smart-health-card", v.patient),
        i.card_file().into_bytes(),
    ))
}

/// `POST /portal/done`: ends the visit and forgets its cookie.
pub async fn done(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = bearer(&headers, VISIT_COOKIE) {
        state.db(move |s| Ok(portal::end(s, &token)?)).await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (
                header::SET_COOKIE,
                portal_cookie(&state, VISIT_COOKIE, "", chrono::Duration::zero()),
            ),
            (header::LOCATION, "/portal".to_string()),
        ]),
    )
        .into_response())
}

pub async fn help() -> Markup {
    page::public(
        "Portal help",
        html! {
            h2 { "The code did not arrive" }
            p { "The code goes only to a mobile phone number or e-mail address that a doctor's office or clinic already reported to the registry for the patient (or, for a child, for a parent or guardian). We never send it anywhere typed on this site, so that nobody else can get your family's record." }
            p { "If the details you entered do not exactly match the record (spelling of the names, date of birth), or the record has no phone or e-mail of the kind you chose, no code is sent. For privacy the site looks the same either way. Try the other contact method, or check the spelling with your provider." }
            h2 { "The phone or e-mail on file is wrong or missing" }
            ul {
                li { "Ask your child's doctor, or the clinic that gave the vaccines, to update the contact information in their records; they report it to the registry." }
                li { "Or contact the Connecticut Department of Public Health Immunization Program (CT WiZ help desk), which can correct the registry record after checking who you are." }
            }
            h2 { "Records we cannot show here" }
            p { "Records whose holders opted out of the registry or asked that they be kept confidential are never shown on the portal. Ask your provider or the Immunization Program for a copy." }
            h2 { "Time limits" }
            p { "A code works for " (CODE_TTL.num_minutes()) " minutes and allows " (MAX_TRIES) " tries. After you enter it, the record stays open for " (VIEW_TTL.num_minutes()) " minutes." }
            p { a href="/portal" { "Back to the portal" } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_dates_and_methods_are_named() {
        let f = SearchForm {
            csrf: String::new(),
            given: "Ana".into(),
            family: "Lopez".into(),
            dob: "05/04/2023".into(),
            sex: String::new(),
            via: "text".into(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let e = parse_search(&f, today).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("Date of birth"), "{e}");
        let f = SearchForm {
            dob: "2023-05-04".into(),
            via: "fax".into(),
            ..f
        };
        let e = parse_search(&f, today).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("contact method"), "{e}");
    }
}
