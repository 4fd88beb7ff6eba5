//! Server-side sessions and the signed-in request context.
//!
//! The browser holds a random token in an HttpOnly, SameSite=Strict cookie; the database
//! holds only its hash, the user, the chosen clinic and a per-session CSRF token. Every
//! handler that needs a user takes a [`Ctx`], which also answers permission questions
//! through `ctwiz_core::access` (never a matrix of its own).

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, Utc};
use ctwiz_core::access::{Action, User};
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::org::Clinic;
use ctwiz_core::patient::Patient;
use ctwiz_store::web::WebStore;
use ctwiz_store::{OrgStore, SqliteStore, UserStore};

pub const SESSION_COOKIE: &str = "ctwiz_session";
/// Double-submit cookie protecting the forms used before sign-in.
pub const PRE_COOKIE: &str = "ctwiz_pre";

/// The current time, truncated to seconds as the store keeps it.
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos()))
}

pub use ctwiz_store::secret::{random_token, same_secret, token_hash};

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when the site is served over
/// HTTPS, valid under `path`, for `max_age` seconds (a session cookie without one).
pub fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
) -> String {
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{max_age}{secure}")
}

pub fn set_cookie(state: &AppState, name: &str, value: &str) -> String {
    cookie_header(state, name, value, "/", None)
}

pub fn clear_cookie(state: &AppState, name: &str) -> String {
    cookie_header(state, name, "", "/", Some(0))
}

/// Where the user is acting: the clinic chosen after sign-in, their jurisdiction, or the state.
#[derive(Debug, Clone)]
pub enum Acting {
    Clinic(Box<Clinic>),
    Jurisdiction(ctwiz_core::place::Jurisdiction),
    State,
    /// The account holds no grant at all: everything is refused.
    Nowhere,
}

/// A signed-in user on one request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user: User,
    pub token_hash: String,
    pub csrf: String,
    pub acting: Acting,
    /// Clinics the user may switch between (with names), for the dropdown.
    pub clinic_choices: Vec<(ClinicPin, String)>,
    pub now: NaiveDateTime,
    /// First-sign-in steps (new password, security questions) are still due.
    pub setup_pending: bool,
    /// The user's unread notifications (the bell's stored part).
    pub unread_notifications: usize,
    /// The requested path (which screen's menu entry and help to show).
    pub path: String,
}

/// Why a request could not get a context: not signed in, or must finish a step first.
pub enum NoCtx {
    SignIn,
    ChangePassword,
    ChooseClinic,
    Error(AppError),
}

impl IntoResponse for NoCtx {
    fn into_response(self) -> Response {
        match self {
            NoCtx::SignIn => Redirect::to("/sign-in").into_response(),
            NoCtx::ChangePassword => Redirect::to("/account/password").into_response(),
            NoCtx::ChooseClinic => Redirect::to("/choose-clinic").into_response(),
            NoCtx::Error(e) => e.into_response(),
        }
    }
}

impl From<AppError> for NoCtx {
    fn from(e: AppError) -> Self {
        NoCtx::Error(e)
    }
}

/// Paths a user may open before finishing the first-sign-in steps.
fn allowed_before_setup(path: &str) -> bool {
    matches!(path, "/account/password" | "/sign-out")
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = NoCtx;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, NoCtx> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(NoCtx::SignIn)?;
        let hash = token_hash(&token);
        let path = parts.uri.path().to_string();
        let idle = state.idle_minutes();
        let now = state.now();
        let loaded = state.db(move |s| load_ctx(s, hash, idle, now)).await?;
        let (mut ctx, needs_setup) = loaded.ok_or(NoCtx::SignIn)?;
        if needs_setup && !allowed_before_setup(&path) {
            return Err(NoCtx::ChangePassword);
        }
        if !needs_setup
            && matches!(ctx.acting, Acting::Nowhere)
            && ctx.clinic_choices.len() > 1
            && !matches!(path.as_str(), "/choose-clinic" | "/sign-out")
        {
            return Err(NoCtx::ChooseClinic);
        }
        ctx.path = path;
        Ok(ctx)
    }
}

/// Loads the session and user; `None` when there is no live session.
/// The flag says whether the first-sign-in steps (password, questions) are still due.
fn load_ctx(
    s: &SqliteStore,
    hash: String,
    idle_minutes: i64,
    now: NaiveDateTime,
) -> Result<Option<(Ctx, bool)>, AppError> {
    let Some(sess) = s.session(&hash)? else {
        return Ok(None);
    };
    if now - sess.last_seen > chrono::Duration::minutes(idle_minutes) {
        s.delete_session(&hash)?;
        return Ok(None);
    }
    let Some(account) = s.account_by_id(sess.user_id)? else {
        s.delete_session(&hash)?;
        return Ok(None);
    };
    // A disabled account loses its sessions at once; a lock after failed sign-ins (which
    // anyone can cause) does not end the real user's sessions.
    if !ctwiz_store::accounts::session_may_continue(&account) {
        s.delete_user_sessions(sess.user_id)?;
        return Ok(None);
    }
    // Writing last_seen on every request would serialize readers; once a minute is enough.
    if now - sess.last_seen > chrono::Duration::seconds(60) {
        s.touch_session(&hash, now)?;
    }
    let needs_setup = account.must_change_password || s.security_answers(sess.user_id)?.is_empty();
    let unread_notifications = ctwiz_store::usecase::notifications::unread(s, sess.user_id, now)?;
    let user = account.user;
    let mut clinic_choices = Vec::new();
    for pin in user.clinics() {
        let name = s
            .clinic(pin)?
            .map(|c| c.name)
            .unwrap_or_else(|| "(unregistered clinic)".into());
        clinic_choices.push((pin.clone(), name));
    }
    // The one rule for which scope a user acts in (shared with the CLI's `--as`).
    let acting = match ctwiz_store::usecase::actors::acting_for(s, &user, sess.clinic.as_ref())? {
        ctwiz_core::actor::Acting::Clinic { pin, .. } => match s.clinic(&pin)? {
            Some(c) => Acting::Clinic(Box::new(c)),
            None => Acting::Nowhere,
        },
        ctwiz_core::actor::Acting::Jurisdiction(j) => Acting::Jurisdiction(j),
        ctwiz_core::actor::Acting::State => Acting::State,
        ctwiz_core::actor::Acting::Nowhere => Acting::Nowhere,
    };
    Ok(Some((
        Ctx {
            user,
            token_hash: hash,
            csrf: sess.csrf,
            acting,
            clinic_choices,
            now,
            setup_pending: needs_setup,
            unread_notifications,
            path: String::new(),
        },
        needs_setup,
    )))
}

impl Ctx {
    /// Whether `action` is allowed on the acting scope's own data (what to show); the same
    /// rule as the use cases' `authorize`.
    pub fn can(&self, action: Action) -> bool {
        self.as_actor().may(action)
    }

    /// The gate of a page that lists the acting scope's data: `action` there, a refusal
    /// audited by the use case layer (`usecase::actors::permit`) like every other door's.
    pub async fn require(&self, state: &AppState, action: Action) -> Result<(), AppError> {
        let (actor, now) = (self.as_actor(), self.now);
        state
            .db(move |s| {
                ctwiz_store::usecase::actors::permit(s, &actor, action, now, action.label())?;
                Ok(())
            })
            .await
    }

    /// This request's actor for the use cases below the web (channel Web).
    pub fn as_actor(&self) -> ctwiz_core::actor::Actor {
        use ctwiz_core::actor::Acting as A;
        let acting = match &self.acting {
            Acting::Clinic(c) => A::Clinic {
                pin: c.pin.clone(),
                at: c.at.clone(),
            },
            Acting::Jurisdiction(j) => A::Jurisdiction(j.clone()),
            Acting::State => A::State,
            Acting::Nowhere => A::Nowhere,
        };
        ctwiz_core::actor::Actor::new(self.user.clone(), acting, ctwiz_core::actor::Channel::Web)
    }

    /// Loads a patient the user may `action` on; 404 if absent, 403 if not allowed. The
    /// read (or the refusal) is audited by the use case, like every other door's.
    pub fn patient_for(
        &self,
        s: &SqliteStore,
        id: PatientId,
        action: Action,
    ) -> Result<Patient, AppError> {
        self.patient_for_purpose(s, id, action, &format!("opened to {}", action.label()))
    }

    /// [`Ctx::patient_for`] naming the page in the audit row.
    pub fn patient_for_purpose(
        &self,
        s: &SqliteStore,
        id: PatientId,
        action: Action,
        purpose: &str,
    ) -> Result<Patient, AppError> {
        Ok(self.open_record(s, id, action, purpose)?)
    }

    /// [`Ctx::patient_for_purpose`] with the use case's own error (a page that shows a
    /// merged record's survivor matches on it).
    pub fn open_record(
        &self,
        s: &SqliteStore,
        id: PatientId,
        action: Action,
        purpose: &str,
    ) -> Result<Patient, ctwiz_store::usecase::UseCaseError> {
        let actor = self.as_actor();
        let (_, p) =
            ctwiz_store::usecase::patients::open(s, &actor, id, action, self.now, purpose)?;
        Ok(p)
    }

    pub fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if same_secret(&self.csrf, sent) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    pub fn clinic(&self) -> Option<&Clinic> {
        match &self.acting {
            Acting::Clinic(c) => Some(c),
            _ => None,
        }
    }
}

/// The form of a button that only posts: its CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}
