//! Signing in and out, the first-sign-in steps (new password, security questions), the
//! clinic chooser, forgot username/password, and the public request-an-account form.

use crate::error::AppError;
use crate::limits::ClientAddr;
use crate::page::{self, csrf_field, form_error, select_field, text_field};
use crate::session::{
    clear_cookie, cookie, random_token, same_secret, set_cookie, token_hash, CsrfOnly, Ctx,
    PRE_COOKIE, SESSION_COOKIE,
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Form;
use ctwiz_core::access::{Grant, Role, Scope, ScopeKind};
use ctwiz_core::actor::Channel;
use ctwiz_core::ids::{ClinicPin, Email};
use ctwiz_store::accounts::{self, normalize_answer, SIGN_IN_FAILED};
use ctwiz_store::web::{NewAccountRequest, RequestedClinic, WebStore};
use maud::{html, Markup};
use serde::Deserialize;

/// The questions users choose two of at first sign-in (the list is the store's).
pub use ctwiz_store::accounts::SECURITY_QUESTIONS as QUESTIONS;

/// Reuses the browser's pre-sign-in token or makes one; the form echoes it back.
pub(crate) fn with_pre_token(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    render: impl FnOnce(&str) -> Markup,
) -> Response {
    let existing = cookie(headers, PRE_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let (token, set) = match existing {
        Some(t) => (t, None),
        None => {
            let t = random_token();
            let c = set_cookie(state, PRE_COOKIE, &t);
            (t, Some(c))
        }
    };
    let body = render(&token);
    (
        status,
        AppendHeaders(set.map(|c| (header::SET_COOKIE, c))),
        body,
    )
        .into_response()
}

pub(crate) fn check_pre_token(headers: &HeaderMap, sent: &str) -> Result<(), AppError> {
    match cookie(headers, PRE_COOKIE) {
        Some(c) if same_secret(&c, sent) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

pub(crate) fn pre_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

// ---------------------------------------------------------------- sign in / out

fn sign_in_form(token: &str, error: Option<&str>, username: &str) -> Markup {
    page::public(
        "Sign in",
        html! {
            (form_error(error))
            form.stack.card method="post" action="/sign-in" {
                (pre_field(token))
                label { span { "Username" } input type="text" name="username" value=(username) autocomplete="username" required autofocus; }
                label { span { "Password" } input type="password" name="password" autocomplete="current-password" required; }
                div.actions { button type="submit" { "Sign in" } }
            }
            p { a href="/forgot-username" { "Forgot your username?" } " · "
                a href="/forgot-password" { "Forgot your password?" } " · "
                a href="/request-account" { "Request an account" } " · "
                a href="/trouble-signing-in" { "Trouble Logging In?" } }
            p.muted { "For authorized users only. Activity is logged." }
        },
    )
}

pub async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    with_pre_token(&state, &headers, StatusCode::OK, |t| {
        sign_in_form(t, None, "")
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    username: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Result<Response, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    state.limits().sign_in.check(addr, &f.username)?;
    let username = f.username.trim().to_string();
    let password = f.password;
    let token = random_token();
    let hash = token_hash(&token);
    let idle = state.idle_minutes();
    let now = state.now();
    let outcome = state
        .db(move |s| {
            // Sweep idle sessions now and then; sign-in is a natural moment.
            s.expire_sessions(now - chrono::Duration::minutes(idle))?;
            match accounts::sign_in(s, Channel::Web, &username, &password, now)? {
                Ok(account) => {
                    let id = account
                        .user
                        .id
                        .ok_or_else(|| AppError::Internal("account without id".into()))?;
                    s.create_session(&hash, id, &random_token(), None, now)?;
                    let needs_setup =
                        account.must_change_password || s.security_answers(id)?.is_empty();
                    let clinics = account.user.clinics().len();
                    Ok(Some((needs_setup, clinics > 1 && !account.user.is_state())))
                }
                Err(_) => Ok(None),
            }
        })
        .await?;
    match outcome {
        Some((needs_setup, choose)) => {
            let to = if needs_setup {
                "/account/password"
            } else if choose {
                "/choose-clinic"
            } else {
                "/"
            };
            Ok((
                AppendHeaders([(
                    header::SET_COOKIE,
                    set_cookie(&state, SESSION_COOKIE, &token),
                )]),
                Redirect::to(to),
            )
                .into_response())
        }
        // One message for every failure: no hint whether the user exists or is locked.
        None => {
            state.metrics().sign_in_failed("web");
            let name = f.username.clone();
            Ok(with_pre_token(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                |t| sign_in_form(t, Some(SIGN_IN_FAILED), &name),
            ))
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let hash = ctx.token_hash.clone();
    state.db(move |s| Ok(s.delete_session(&hash)?)).await?;
    Ok((
        AppendHeaders([(header::SET_COOKIE, clear_cookie(&state, SESSION_COOKIE))]),
        Redirect::to("/sign-in"),
    )
        .into_response())
}

// ---------------------------------------------------------------- password and questions

fn password_form(ctx: &Ctx, error: Option<&str>) -> Markup {
    let options = || {
        QUESTIONS
            .iter()
            .enumerate()
            .map(|(i, q)| (INDEX[i], q.to_string()))
    };
    page::layout(
        ctx,
        "Set your password and security questions",
        html! {
            p.notice { "Choose a new password and two security questions. The password needs at least " (accounts::MIN_PASSWORD_CHARS) " characters, must not contain your username and must not be a common password; several unrelated words work well. You will need the answers if you forget your password." }
            (form_error(error))
            form.stack.card method="post" action="/account/password" {
                (csrf_field(ctx))
                label { span { "Current or temporary password" } input type="password" name="current" autocomplete="current-password" required; }
                label { span { "New password" } input type="password" name="new" autocomplete="new-password" required; }
                label { span { "Repeat the new password" } input type="password" name="confirm" autocomplete="new-password" required; }
                div.grid {
                    (select_field("q1", "Security question 1", options(), "0"))
                    (text_field("a1", "Answer 1", "", true))
                    (select_field("q2", "Security question 2", options(), "1"))
                    (text_field("a2", "Answer 2", "", true))
                }
                div.actions { button type="submit" { "Save" } }
            }
        },
    )
}

const INDEX: [&str; 6] = ["0", "1", "2", "3", "4", "5"];

pub async fn password_page(ctx: Ctx) -> Markup {
    password_form(&ctx, None)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
    q1: usize,
    a1: String,
    q2: usize,
    a2: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let problem = if f.new != f.confirm {
        Some("The two new passwords differ.".to_string())
    } else if f.q1 == f.q2 || f.q1 >= QUESTIONS.len() || f.q2 >= QUESTIONS.len() {
        Some("Choose two different security questions.".to_string())
    } else if normalize_answer(&f.a1).len() < 2 || normalize_answer(&f.a2).len() < 2 {
        Some("Answer both security questions.".to_string())
    } else {
        None
    };
    if let Some(p) = problem {
        return Ok((StatusCode::BAD_REQUEST, password_form(&ctx, Some(&p))).into_response());
    }
    let id = ctx
        .user
        .id
        .ok_or_else(|| AppError::Internal("user without id".into()))?;
    let hash = ctx.token_hash.clone();
    let now = ctx.now;
    let outcome = state
        .db(move |s| {
            let questions = [
                (QUESTIONS[f.q1].to_string(), f.a1),
                (QUESTIONS[f.q2].to_string(), f.a2),
            ];
            Ok(s.in_transaction(|s| {
                accounts::change_password(
                    s,
                    id,
                    Channel::Web,
                    &f.current,
                    &f.new,
                    &questions,
                    &hash,
                    now,
                )
            })?)
        })
        .await?;
    if let Err(refused) = outcome {
        return Ok((
            StatusCode::BAD_REQUEST,
            password_form(&ctx, Some(&refused.to_string())),
        )
            .into_response());
    }
    let to = if ctx.clinic_choices.len() > 1 && ctx.clinic().is_none() && !ctx.user.is_state() {
        "/choose-clinic"
    } else {
        "/"
    };
    Ok(Redirect::to(to).into_response())
}

// ---------------------------------------------------------------- clinic chooser

pub async fn choose_clinic_page(ctx: Ctx) -> Markup {
    page::layout(
        &ctx,
        "Choose a clinic",
        html! {
            p { "You have access at several clinics. Choose the one you are working for now; you can switch at any time from the top bar." }
            form.stack.card method="post" action="/choose-clinic" {
                (csrf_field(&ctx))
                label { span { "Clinic" }
                    select name="pin" {
                        @for (pin, name) in &ctx.clinic_choices {
                            option value=(pin) { (name) " (" (pin) ") – "
                                (ctx.user.role_at(pin).map(|r| r.label()).unwrap_or("")) }
                        }
                    }
                }
                div.actions { button type="submit" { "Continue" } }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct ChooseForm {
    csrf: String,
    pin: String,
}

pub async fn choose_clinic(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ChooseForm>,
) -> Result<Response, AppError> {
    ctx.check_csrf(&f.csrf)?;
    let pin = ClinicPin::new(&f.pin)?;
    let (actor, now, wanted) = (ctx.as_actor(), ctx.now, pin.clone());
    state
        .db(move |s| {
            ctwiz_store::usecase::actors::choose_clinic(s, &actor, &wanted, now)?;
            Ok(())
        })
        .await?;
    let hash = ctx.token_hash.clone();
    state
        .db(move |s| Ok(s.set_session_clinic(&hash, Some(&pin))?))
        .await?;
    Ok(Redirect::to("/").into_response())
}

// ---------------------------------------------------------------- forgot username

pub async fn forgot_username_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    with_pre_token(&state, &headers, StatusCode::OK, |t| {
        page::public(
            "Forgot your username?",
            html! {
                form.stack.card method="post" action="/forgot-username" {
                    (pre_field(t))
                    label { span { "The e-mail address on your account" } input type="email" name="email" required; }
                    div.actions { button type="submit" { "E-mail my username" } a href="/sign-in" { "Back to sign in" } }
                }
            },
        )
    })
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf: String,
    email: String,
}

pub async fn forgot_username(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<EmailForm>,
) -> Result<Markup, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    state.limits().public_forms.check(addr, &f.email)?;
    if let Ok(email) = Email::new(&f.email) {
        state
            .db(move |s| {
                let names = s.usernames_for_email(&email)?;
                if !names.is_empty() {
                    let list: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                    let body = format!(
                        "You asked for the username of your CT WiZ account.\n\nUsername: {}\n\nIf you did not ask, you can ignore this message.",
                        list.join(", ")
                    );
                    s.queue_email(&email, "Your CT WiZ username", &body, crate::session::now())?;
                }
                Ok(())
            })
            .await?;
    }
    // The same answer whether or not the address is known (no enumeration).
    Ok(page::bare(
        "Check your e-mail",
        "If an account uses that address, its username has been e-mailed there.",
    ))
}

// ---------------------------------------------------------------- forgot password

/// Step 1, the same for everyone: username and the e-mail address on the account.
pub async fn forgot_password_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    with_pre_token(&state, &headers, StatusCode::OK, |t| {
        page::public(
            "Forgot your password?",
            html! {
                p { "Enter your username and the e-mail address on your account. Next you answer the two security questions you chose and pick a new password. Nothing is sent by e-mail except a notice that the password was changed." }
                form.stack.card method="post" action="/forgot-password" {
                    (pre_field(t))
                    (text_field("username", "Username", "", true))
                    label { span { "E-mail address" } input type="email" name="email" required; }
                    div.actions { button type="submit" { "Next" } a href="/sign-in" { "Back to sign in" } }
                }
                p { a href="/trouble-signing-in" { "Trouble Logging In?" } }
            },
        )
    })
}

#[derive(Deserialize)]
pub struct ForgotPasswordForm {
    csrf: String,
    username: String,
    email: String,
}

/// Step 2's form: the two questions, the answers and the new password twice.
fn forgot_password_questions_page(
    token: &str,
    username: &str,
    email: &str,
    questions: &[String; 2],
    error: Option<&str>,
) -> Markup {
    page::public(
        "Answer your security questions",
        html! {
            (form_error(error))
            form.stack.card method="post" action="/forgot-password/reset" {
                (pre_field(token))
                input type="hidden" name="username" value=(username);
                input type="hidden" name="email" value=(email);
                p { "Username: " strong { (username) } }
                (text_field("a1", &questions[0], "", true))
                (text_field("a2", &questions[1], "", true))
                label { span { "New password" } input type="password" name="new_password" autocomplete="new-password" required; }
                label { span { "New password again" } input type="password" name="new_password_again" autocomplete="new-password" required; }
                p.muted { (format!("At least {} characters, not your username and not a common password.", ctwiz_store::accounts::MIN_PASSWORD_CHARS)) }
                div.actions { button type="submit" { "Change my password" } a href="/sign-in" { "Cancel" } }
            }
        },
    )
}

/// Shows the questions for what was typed: the account's own, or stand-ins that are just
/// as stable (`accounts::forgot_password_questions`), so the page reveals no account.
pub async fn forgot_password(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<ForgotPasswordForm>,
) -> Result<Markup, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    state.limits().public_forms.check(addr, &f.username)?;
    let (username, email) = (f.username.trim().to_string(), f.email.trim().to_string());
    let (u, e) = (username.clone(), email.clone());
    let questions = state
        .db(move |s| Ok(accounts::forgot_password_questions(s, &u, &e)?))
        .await?;
    Ok(forgot_password_questions_page(
        &f.csrf, &username, &email, &questions, None,
    ))
}

#[derive(Deserialize)]
pub struct ForgotResetForm {
    csrf: String,
    username: String,
    email: String,
    #[serde(default)]
    a1: String,
    #[serde(default)]
    a2: String,
    new_password: String,
    new_password_again: String,
}

/// Step 2: the answers and the new password (`accounts::reset_forgotten_password` decides,
/// audits and queues the notice). A refusal shows the questions again with the reason;
/// the reason is the same whether the account is unknown or the answers were wrong.
pub async fn forgot_password_reset(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<ForgotResetForm>,
) -> Result<Response, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    state.limits().public_forms.check(addr, &f.username)?;
    let now = state.now();
    let (username, email) = (f.username.trim().to_string(), f.email.trim().to_string());
    let (u, e) = (username.clone(), email.clone());
    let outcome = state
        .db(move |s| {
            Ok(s.in_transaction(|s| {
                let done = accounts::reset_forgotten_password(
                    s,
                    Channel::Web,
                    &u,
                    &e,
                    [&f.a1, &f.a2],
                    &f.new_password,
                    &f.new_password_again,
                    now,
                )?;
                let questions = match done {
                    Ok(_) => None,
                    Err(_) => Some(accounts::forgot_password_questions(s, &u, &e)?),
                };
                Ok((done, questions))
            })?)
        })
        .await?;
    Ok(match outcome {
        (Ok(_), _) => page::bare(
            "Your password was changed",
            "Sign in with your new password. A notice of the change was e-mailed to the address on your account.",
        )
        .into_response(),
        (Err(refused), questions) => {
            let questions = questions.unwrap_or_default();
            (
                StatusCode::BAD_REQUEST,
                forgot_password_questions_page(
                    &f.csrf,
                    &username,
                    &email,
                    &questions,
                    Some(&refused.to_string()),
                ),
            )
                .into_response()
        }
    })
}

/// Help for the sign-in page's "Trouble Logging In?" link: each way signing in goes wrong,
/// and what to do about it.
pub async fn trouble_signing_in() -> Markup {
    page::public(
        "Trouble Logging In?",
        html! {
            dl.help {
                dt { "I forgot my username." }
                dd { "Use " a href="/forgot-username" { "Forgot your username?" } ". Enter the e-mail address on your account and your username is e-mailed to it." }
                dt { "I forgot my password." }
                dd { "Use " a href="/forgot-password" { "Forgot your password?" } ". Enter your username and e-mail address, answer the two security questions you chose when you first signed in, and choose a new password. No password is sent by e-mail." }
                dt { "It says my sign-in is locked." }
                dd { (format!("After {} wrong passwords or wrong answers in a row, signing in is locked for {} minutes. Wait and try again, or ask the DPH help desk to unlock your account.", ctwiz_store::accounts::MAX_FAILED_SIGN_INS, ctwiz_store::accounts::LOCKOUT_MINUTES)) }
                dt { "My temporary password does not work." }
                dd { "A temporary password works once, for the first sign-in, where you choose your own password and two security questions. If you have lost the e-mail, use Forgot your password? — or, if you never finished the first sign-in, ask the DPH help desk to send a new one." }
                dt { "It says my account is disabled." }
                dd { "Accounts are deactivated when a clinic reports that the user has left or after a long time without use. Call the DPH help desk to have it reactivated." }
                dt { "I signed in but see no patients or the wrong clinic." }
                dd { "What you see depends on your access type at the clinic you chose. Users of several clinics choose one after signing in and can switch at the top of the page. Ask your clinic's vaccine coordinator to request a change of access." }
                dt { "I do not have an account." }
                dd { a href="/request-account" { "Request an account" } ". Your clinic's coordinator must first list you as clinic staff in Clinic Tools; the DPH team then reviews the request." }
                dt { "The page says my session has expired." }
                dd { "Sessions end after a period without activity and when you sign in elsewhere after changing your password. Sign in again. Your browser must accept cookies from this site." }
            }
            p { a href="/sign-in" { "Back to sign in" } }
        },
    )
}

// ---------------------------------------------------------------- request an account

const REQUEST_ROWS: usize = 3;

fn clinic_roles() -> impl Iterator<Item = Role> {
    Role::ALL
        .into_iter()
        .filter(|r| r.scope_kind() == ScopeKind::Clinic)
}

/// The access types requested beyond clinics (health department, DPH).
fn other_roles() -> impl Iterator<Item = Role> {
    Role::ALL
        .into_iter()
        .filter(|r| r.scope_kind() != ScopeKind::Clinic)
}

fn request_form(
    token: &str,
    error: Option<&str>,
    f: Option<&RequestForm>,
    jurisdictions: &[ctwiz_core::place::Jurisdiction],
) -> Markup {
    let keys: Vec<(String, String)> = jurisdictions.iter().map(|j| (j.key(), j.label())).collect();
    let value = |get: fn(&RequestForm) -> &str| f.map(get).unwrap_or("").to_string();
    page::public(
        "Request an account",
        html! {
            p { "Name each clinic you work for by its PIN and the access type you need there. The DPH state team reviews every request; when it is approved you receive two e-mails: one with your username and one with a temporary password." }
            (form_error(error))
            form.stack.card method="post" action="/request-account" {
                (pre_field(token))
                (text_field("full_name", "Full name", &value(|f| &f.full_name), true))
                label { span { "E-mail *" } input type="email" name="email" value=(value(|f| &f.email)) required; }
                (text_field("phone", "Phone", &value(|f| &f.phone), false))
                @for i in 0..REQUEST_ROWS {
                    div.grid {
                        (text_field(&format!("pin{i}"), &format!("Clinic PIN(s) {} – several separated by commas", i + 1),
                            f.map(|f| f.pin(i)).unwrap_or(""), false))
                        (select_field(&format!("role{i}"), "Access type",
                            clinic_roles().map(|r| (r.key(), r.label().to_string())),
                            f.map(|f| f.role(i)).unwrap_or("clinic-access")))
                    }
                }
                fieldset {
                    legend { "Health department or DPH access (instead of, or besides, clinics)" }
                    div.grid {
                        (select_field("other_role", "Access type",
                            std::iter::once(("", "— none —".to_string()))
                                .chain(other_roles().map(|r| (r.key(), r.label().to_string()))),
                            f.map(|f| f.other_role.as_str()).unwrap_or("")))
                        (select_field("jurisdiction", "Health department's jurisdiction",
                            std::iter::once(("", "— statewide (DPH) —".to_string()))
                                .chain(keys.iter().map(|(k, l)| (k.as_str(), l.clone()))),
                            f.map(|f| f.jurisdiction.as_str()).unwrap_or("")))
                    }
                }
                label.check {
                    input type="checkbox" name="nurse_attested" value="yes" checked[f.is_some_and(|f| f.attested())];
                    span { "School nurses: " (ctwiz_core::clinic_info::NURSE_ATTESTATION) }
                }
                div.actions { button type="submit" { "Send request" } a href="/sign-in" { "Back to sign in" } }
            }
        },
    )
}

pub async fn request_account_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let jurisdictions = state
        .db(|s| Ok(ctwiz_store::usecase::places::jurisdictions(s)?))
        .await?;
    Ok(with_pre_token(&state, &headers, StatusCode::OK, |t| {
        request_form(t, None, None, &jurisdictions)
    }))
}

#[derive(Deserialize)]
pub struct RequestForm {
    csrf: String,
    full_name: String,
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    pin0: String,
    #[serde(default)]
    role0: String,
    #[serde(default)]
    pin1: String,
    #[serde(default)]
    role1: String,
    #[serde(default)]
    pin2: String,
    #[serde(default)]
    role2: String,
    #[serde(default)]
    other_role: String,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    nurse_attested: String,
}

impl RequestForm {
    fn pin(&self, i: usize) -> &str {
        [&self.pin0, &self.pin1, &self.pin2][i.min(2)]
    }
    fn role(&self, i: usize) -> &str {
        [&self.role0, &self.role1, &self.role2][i.min(2)]
    }
    fn attested(&self) -> bool {
        self.nurse_attested == "yes"
    }
    /// The access beyond clinics, when one is chosen.
    fn other(&self) -> Result<Option<Grant>, AppError> {
        if self.other_role.trim().is_empty() {
            return Ok(None);
        }
        let role = Role::parse(&self.other_role)?;
        let scope = match role.scope_kind() {
            ScopeKind::Jurisdiction if self.jurisdiction.trim().is_empty() => {
                return Err(AppError::BadRequest(format!(
                    "Choose the jurisdiction of the {} access.",
                    role.label()
                )))
            }
            ScopeKind::Jurisdiction => Scope::Jurisdiction(
                ctwiz_core::place::Jurisdiction::from_key(&self.jurisdiction)?,
            ),
            _ => Scope::State,
        };
        Ok(Some(Grant::new(role, scope)?))
    }
}

/// Validates the request form; the error names the field and value at fault.
fn parse_request(f: &RequestForm) -> Result<NewAccountRequest, AppError> {
    let full_name = ctwiz_core::ids::name_text("full name", &f.full_name, 120)?;
    let email = Email::new(&f.email)?;
    let mut clinics = Vec::new();
    for i in 0..REQUEST_ROWS {
        // A row may name several clinics, separated by commas, for one access type.
        for pin in f.pin(i).split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let pin = ClinicPin::new(pin)?;
            let role = Role::parse(f.role(i))?;
            if role.scope_kind() != ScopeKind::Clinic {
                return Err(AppError::BadRequest(format!(
                    "{} is not a clinic access type.",
                    role.label()
                )));
            }
            if clinics.iter().any(|c: &RequestedClinic| c.pin == pin) {
                return Err(AppError::BadRequest(format!(
                    "Clinic PIN {pin} is listed twice."
                )));
            }
            clinics.push(RequestedClinic { pin, role });
        }
    }
    let phone = Some(f.phone.trim().to_string()).filter(|p| !p.is_empty());
    Ok(NewAccountRequest {
        full_name,
        email,
        phone,
        clinics,
        other: f.other()?,
        nurse_attested: f.attested(),
    })
}

pub async fn request_account(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<RequestForm>,
) -> Result<Response, AppError> {
    check_pre_token(&headers, &f.csrf)?;
    state.limits().public_forms.check(addr, &f.email)?;
    let (f, result, jurisdictions) = state
        .db(move |s| {
            let jurisdictions = ctwiz_store::usecase::places::jurisdictions(s)?;
            let r = match parse_request(&f) {
                Ok(req) => {
                    match ctwiz_store::usecase::clinic_info::submit_account_request(
                        s,
                        &req,
                        crate::session::now(),
                    ) {
                        Ok(_) => Ok(()),
                        Err(ctwiz_store::usecase::UseCaseError::Store(e)) => return Err(e.into()),
                        Err(refused) => Err(refused.to_string()),
                    }
                }
                Err(AppError::BadRequest(m)) => Err(m),
                Err(e) => return Err(e),
            };
            Ok((f, r, jurisdictions))
        })
        .await?;
    match result {
        Ok(()) => Ok(page::bare(
            "Request sent",
            "Thank you. The DPH state team will review your request; you will receive two e-mails once it is approved.",
        )
        .into_response()),
        Err(msg) => Ok(with_pre_token(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            |t| request_form(t, Some(&msg), Some(&f), &jurisdictions),
        )),
    }
}
