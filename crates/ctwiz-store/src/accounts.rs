//! Account use cases shared by every door (web, SOAP, CLI): password hashing (argon2), the
//! password policy, one-time temporary passwords, sign-in with a lock that ends by itself,
//! the forgot-password reset, and the state team's unlock and grant changes. Each one
//! writes its own audit row (sign-ins, failures, locks, unlocks, grant changes, password
//! resets), so no door can forget it.

use crate::error::{Result, StoreError};
use crate::traits::{Account, AuditAction, AuditEntry, Interface, UserStore};
use crate::web::{SecurityAnswer, WebStore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::NaiveDateTime;
use ctwiz_core::access::{AccountStatus, Action, Grant, Role, Scope, User};
use ctwiz_core::actor::{authorize, Actor, Channel, Denied};
use ctwiz_core::ids::{ClinicPin, Email, UserId, Username};
use rand::Rng;
use std::sync::OnceLock;

mod credential_cache;
pub mod requests;
pub use credential_cache::CredentialCache;

/// Failed sign-ins in a row after which the account is locked for [`LOCKOUT_MINUTES`].
pub const MAX_FAILED_SIGN_INS: u32 = 5;

/// How long a lock after [`MAX_FAILED_SIGN_INS`] failures lasts. It ends by itself, so an
/// attacker who guesses a username cannot keep its owner out for longer; existing sessions
/// are never ended by it (see [`session_may_continue`]).
pub const LOCKOUT_MINUTES: i64 = 15;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Hashes a password into an argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&bytes).map_err(|e| StoreError::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// Checks `password` against a stored PHC string; a malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A well-formed argon2id hash with the default parameters that no password matches:
/// checked against when there is no account, so an unknown name costs the same argon2
/// work as a known one.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0000000000000000000000000000000000000000000";

/// A random one-time password: 14 characters from an alphabet without look-alikes.
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..14)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Why a chosen password is refused (NIST SP 800-63B 5.1.1.2: length, and no commonly
/// used or expected values; no composition rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must not contain your username")]
    ContainsUsername,
    #[error("the password is one of the most commonly used passwords (or one with digits or symbols added); choose something less predictable, such as several unrelated words")]
    Common,
}

/// The 10,000 most common passwords (provenance in the file's header), lower-cased.
fn common_passwords() -> &'static std::collections::HashSet<&'static str> {
    static LIST: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// The password policy, the one place it is written: at least [`MIN_PASSWORD_CHARS`]
/// characters, not containing the username, and not a common password — also not one with
/// only digits or symbols around it (`password1234`, `!!qwerty123456`).
pub fn check_password_policy(
    password: &str,
    username: &str,
) -> std::result::Result<(), WeakPassword> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    let lower = password.to_lowercase();
    let name = username.trim().to_lowercase();
    if !name.is_empty() && lower.contains(&name) {
        return Err(WeakPassword::ContainsUsername);
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let list = common_passwords();
    if list.contains(lower.as_str()) || (core.chars().count() >= 4 && list.contains(core)) {
        return Err(WeakPassword::Common);
    }
    Ok(())
}

/// Creates a user with a fresh temporary password that must be changed at first sign-in.
/// Returns the id and the temporary password (shown or mailed once, never stored).
pub fn create_with_temporary_password(
    store: &dyn UserStore,
    user: &User,
) -> Result<(UserId, String)> {
    let temp = temporary_password();
    let id = store.create_user(user, &hash_password(&temp)?, true)?;
    Ok((id, temp))
}

/// Why a sign-in failed. Frontends show one message for all of them (no enumeration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    UnknownUser,
    WrongPassword,
    Locked,
    Disabled,
}

/// The message users see for any failure, so an attacker learns nothing.
pub const SIGN_IN_FAILED: &str = "Invalid username/password and/or your account is locked.";

/// A locked or disabled account is refused whatever the password.
fn refused_by_status(status: AccountStatus) -> Option<SignInFailure> {
    match status {
        AccountStatus::Locked => Some(SignInFailure::Locked),
        AccountStatus::Disabled => Some(SignInFailure::Disabled),
        AccountStatus::Active => None,
    }
}

/// Whether a failed-sign-in lock is in force at `now`.
pub fn locked_at(account: &Account, now: NaiveDateTime) -> bool {
    account.locked_until.is_some_and(|until| until > now)
}

/// Whether the account's signed-in sessions may go on. Only disabling the account ends
/// them; a lock after failed sign-ins (anyone can cause one by guessing) never does.
pub fn session_may_continue(account: &Account) -> bool {
    account.user.status != AccountStatus::Disabled
}

/// Writes one security event (no patient is involved).
fn write_audit(
    store: &(impl UserStore + ?Sized),
    actor: String,
    channel: Channel,
    clinic: Option<ClinicPin>,
    action: AuditAction,
    detail: String,
    now: NaiveDateTime,
) -> Result<()> {
    store.audit(&AuditEntry {
        at: now,
        actor,
        patient: None,
        action,
        interface: Interface::of(channel),
        clinic,
        detail,
    })
}

/// A security event about the account `who` (the username, as typed for failures), before
/// anyone is signed in: labelled like an actor with no acting scope, `door:who`.
fn audit_event(
    store: &(impl UserStore + ?Sized),
    channel: Channel,
    who: &str,
    action: AuditAction,
    detail: String,
    now: NaiveDateTime,
) -> Result<()> {
    let label = format!("{}:{who}", channel.key());
    write_audit(store, label, channel, None, action, detail, now)
}

/// A security event caused by a signed-in actor (a state user's change to an account).
fn audit_by(
    store: &(impl UserStore + ?Sized),
    actor: &Actor,
    action: AuditAction,
    detail: String,
    now: NaiveDateTime,
) -> Result<()> {
    let clinic = actor.clinic().cloned();
    write_audit(
        store,
        actor.label(),
        actor.channel,
        clinic,
        action,
        detail,
        now,
    )
}

fn account_id(account: &Account) -> Result<UserId> {
    account
        .user
        .id
        .ok_or_else(|| StoreError::Corrupt("account without id".into()))
}

/// Counts one failure (wrong password or wrong security answers) and locks the account for
/// [`LOCKOUT_MINUTES`] at [`MAX_FAILED_SIGN_INS`]; audits either. A lock that has passed
/// starts a fresh count.
fn count_failure(
    store: &(impl UserStore + ?Sized),
    account: &Account,
    channel: Channel,
    what: &str,
    now: NaiveDateTime,
) -> Result<SignInFailure> {
    let id = account_id(account)?;
    let name = account.user.username.as_str();
    if account.locked_until.is_some() {
        store.set_locked_until(id, None)?;
    }
    let n = store.record_failed_sign_in(id)?;
    if n >= MAX_FAILED_SIGN_INS {
        let until = now + chrono::Duration::minutes(LOCKOUT_MINUTES);
        store.set_locked_until(id, Some(until))?;
        audit_event(
            store,
            channel,
            name,
            AuditAction::Lockout,
            format!("{what}: {n} failures in a row; sign-in locked until {until}"),
            now,
        )?;
        return Ok(SignInFailure::Locked);
    }
    audit_event(
        store,
        channel,
        name,
        AuditAction::SignInFailed,
        format!("{what} ({n} in a row)"),
        now,
    )?;
    Ok(SignInFailure::WrongPassword)
}

/// Verifies a sign-in through `channel` and audits the outcome (success, failure, lock).
/// [`MAX_FAILED_SIGN_INS`] wrong passwords lock the account for [`LOCKOUT_MINUTES`]; the
/// right password is refused until then. The argon2 work is the same whether or not the
/// account exists or is locked.
pub fn sign_in(
    store: &dyn UserStore,
    channel: Channel,
    username: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<std::result::Result<Account, SignInFailure>> {
    let account = match Username::new(username) {
        Ok(name) => store.account(&name)?,
        Err(_) => None,
    };
    let Some(account) = account else {
        let _ = verify_password(password, DUMMY_HASH);
        let typed: String = username.trim().chars().take(64).collect();
        audit_event(
            store,
            channel,
            &typed,
            AuditAction::SignInFailed,
            "unknown username".into(),
            now,
        )?;
        return Ok(Err(SignInFailure::UnknownUser));
    };
    let id = account_id(&account)?;
    let name = account.user.username.as_str();
    let right = verify_password(password, &account.password_hash);
    if let Some(failure) = refused_by_status(account.user.status) {
        let detail = format!("the account is {:?}", account.user.status).to_lowercase();
        audit_event(store, channel, name, AuditAction::SignInFailed, detail, now)?;
        return Ok(Err(failure));
    }
    if locked_at(&account, now) {
        let detail = format!("locked until {}", account.locked_until.unwrap_or(now));
        audit_event(store, channel, name, AuditAction::SignInFailed, detail, now)?;
        return Ok(Err(SignInFailure::Locked));
    }
    if !right {
        return Ok(Err(count_failure(
            store,
            &account,
            channel,
            "wrong password",
            now,
        )?));
    }
    store.record_sign_in(id, now)?;
    audit_event(
        store,
        channel,
        name,
        AuditAction::SignIn,
        String::new(),
        now,
    )?;
    Ok(Ok(account))
}

/// Re-checks, without hashing, a sign-in that [`sign_in`] verified earlier and a caller
/// cached (the SOAP service: argon2 would dominate every interface message). One indexed
/// read: the account must still exist, be active and unlocked, and still have the password
/// hash that was verified (`verified_hash`; a change or reset stores a new salted hash).
/// Returns the current account, so grant changes apply at once too. Any lock (even one
/// that has passed) sends the caller back to [`sign_in`], which decides and clears it.
pub fn recheck_cached_sign_in(
    store: &dyn UserStore,
    username: &str,
    verified_hash: &str,
) -> Result<std::result::Result<Account, SignInFailure>> {
    let Ok(name) = Username::new(username) else {
        return Ok(Err(SignInFailure::UnknownUser));
    };
    let Some(account) = store.account(&name)? else {
        return Ok(Err(SignInFailure::UnknownUser));
    };
    if let Some(failure) = refused_by_status(account.user.status) {
        return Ok(Err(failure));
    }
    if account.locked_until.is_some() {
        return Ok(Err(SignInFailure::Locked));
    }
    if account.password_hash != verified_hash {
        return Ok(Err(SignInFailure::WrongPassword));
    }
    Ok(Ok(account))
}

/// Security answers compare case- and spacing-insensitively.
pub fn normalize_answer(a: &str) -> String {
    a.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Why a password change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefused {
    #[error("The current password is not correct.")]
    WrongCurrent,
    #[error("The new password must differ from the current one.")]
    SameAsCurrent,
    #[error("Please choose another password: {0}.")]
    Weak(#[from] WeakPassword),
}

/// A user changes their own password (the first-sign-in step too) and sets two security
/// questions (question text, answer). Checks the current password and the policy, stores
/// only hashes, signs out the user's other sessions (all but `keep_session`), and audits.
#[allow(clippy::too_many_arguments)]
pub fn change_password<S: UserStore + WebStore + ?Sized>(
    store: &S,
    id: UserId,
    channel: Channel,
    current: &str,
    new: &str,
    questions: &[(String, String)],
    keep_session: &str,
    now: NaiveDateTime,
) -> Result<std::result::Result<(), PasswordRefused>> {
    let account = store
        .account_by_id(id)?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            id: id.to_string(),
        })?;
    if new == current {
        return Ok(Err(PasswordRefused::SameAsCurrent));
    }
    if let Err(weak) = check_password_policy(new, account.user.username.as_str()) {
        return Ok(Err(weak.into()));
    }
    if !verify_password(current, &account.password_hash) {
        return Ok(Err(PasswordRefused::WrongCurrent));
    }
    let answers = questions
        .iter()
        .map(|(question, answer)| {
            Ok(SecurityAnswer {
                question: question.clone(),
                answer_hash: hash_password(&normalize_answer(answer))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let hash = hash_password(new)?;
    store.set_password(id, &hash, false)?;
    store.set_security_answers(id, &answers)?;
    store.delete_other_sessions(id, keep_session)?;
    audit_event(
        store,
        channel,
        account.user.username.as_str(),
        AuditAction::PasswordReset,
        "password changed by the user; other sessions signed out".into(),
        now,
    )?;
    Ok(Ok(()))
}

/// The questions users choose two of when they first sign in.
pub const SECURITY_QUESTIONS: [&str; 6] = [
    "What was the name of your first pet?",
    "In what city were you born?",
    "What was the name of your elementary school?",
    "What is your oldest sibling's middle name?",
    "What was the make of your first car?",
    "What street did you grow up on?",
];

/// The account the forgot-password pages are about: the username and e-mail typed must
/// both match it.
fn forgotten_account<S: UserStore + ?Sized>(
    store: &S,
    username: &str,
    email: &str,
) -> Result<Option<Account>> {
    Ok(match (Username::new(username), Email::new(email)) {
        (Ok(name), Ok(email)) => store
            .account(&name)?
            .filter(|a| a.user.email.as_str().eq_ignore_ascii_case(email.as_str())),
        _ => None,
    })
}

/// The two questions the forgot-password page asks for what was typed: the account's own
/// when the username and e-mail match an account that has chosen them; otherwise two
/// stand-ins picked by a keyed hash of the typed username and e-mail. The stand-ins are the
/// same every time (and across restarts: the key is kept in the database) and cannot be
/// computed without the key, so the page tells nothing about which accounts exist.
pub fn forgot_password_questions<S: UserStore + WebStore + ?Sized>(
    store: &S,
    username: &str,
    email: &str,
) -> Result<[String; 2]> {
    if let Some(a) = forgotten_account(store, username, email)? {
        let stored = store.security_answers(account_id(&a)?)?;
        if let [q1, q2] = stored.as_slice() {
            return Ok([q1.question.clone(), q2.question.clone()]);
        }
    }
    use blake2::{Blake2b512, Digest};
    let key = store.server_secret("forgot-password-questions")?;
    let typed = format!(
        "{key}\0{}\0{}",
        username.trim().to_lowercase(),
        email.trim().to_lowercase()
    );
    let h = Blake2b512::digest(typed.as_bytes());
    let n = SECURITY_QUESTIONS.len();
    let first = h[0] as usize % n;
    let second = (first + 1 + h[1] as usize % (n - 1)) % n;
    Ok([
        SECURITY_QUESTIONS[first].to_string(),
        SECURITY_QUESTIONS[second].to_string(),
    ])
}

/// Why a forgotten password was not replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForgotRefused {
    #[error("The two new passwords are not the same.")]
    NotTheSame,
    #[error("Please choose another password: {0}.")]
    Weak(#[from] WeakPassword),
    /// The same words whether the account does not exist, is locked or disabled, or the
    /// answers were wrong.
    #[error("The username, e-mail address and answers do not match our records.")]
    NoMatch,
}

/// A forgotten password replaced by the user after answering their two security questions
/// (in the order chosen), entering the new one twice; no password travels by e-mail. The
/// same argon2 work whether or not the account exists; wrong answers count toward the
/// sign-in lock; a success ends the user's sessions, is audited, and e-mails a notice
/// (not the password) to the address on file.
#[allow(clippy::too_many_arguments)]
pub fn reset_forgotten_password<S: UserStore + WebStore + ?Sized>(
    store: &S,
    channel: Channel,
    username: &str,
    email: &str,
    answers: [&str; 2],
    new: &str,
    again: &str,
    now: NaiveDateTime,
) -> Result<std::result::Result<Username, ForgotRefused>> {
    if new != again {
        return Ok(Err(ForgotRefused::NotTheSame));
    }
    if let Err(weak) = check_password_policy(new, username) {
        return Ok(Err(weak.into()));
    }
    let account = forgotten_account(store, username, email)?;
    let stored = match &account {
        Some(a) => store.security_answers(account_id(a)?)?,
        None => Vec::new(),
    };
    let right = answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let hash = stored.get(i).map_or(DUMMY_HASH, |s| s.answer_hash.as_str());
            verify_password(&normalize_answer(a), hash)
        })
        .fold(stored.len() == 2, |all, ok| all && ok);
    let hash = hash_password(new)?;
    let Some(account) = account else {
        return Ok(Err(ForgotRefused::NoMatch));
    };
    let id = account_id(&account)?;
    if account.user.status != AccountStatus::Active || locked_at(&account, now) {
        return Ok(Err(ForgotRefused::NoMatch));
    }
    if !right {
        count_failure(store, &account, channel, "wrong security answers", now)?;
        return Ok(Err(ForgotRefused::NoMatch));
    }
    store.set_password(id, &hash, false)?;
    store.delete_user_sessions(id)?;
    audit_event(
        store,
        channel,
        account.user.username.as_str(),
        AuditAction::PasswordReset,
        "forgot-password: security questions answered, new password set by the user; sessions ended"
            .into(),
        now,
    )?;
    store.queue_email(
        &account.user.email,
        "Your CT WiZ password was changed",
        &format!(
            "The password of CT WiZ user {} was changed on {} after the security questions were answered.\n\nIf you did not do this, call the DPH help desk at once.",
            account.user.username,
            now.format("%Y-%m-%d %H:%M")
        ),
        now,
    )?;
    Ok(Ok(account.user.username))
}

/// Why a state user's change to another account was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("user {0} was not found")]
    NoSuchUser(UserId),
    #[error("account request {0} was not found")]
    NoSuchRequest(i64),
    #[error("account request {0} was already decided")]
    AlreadyDecided(i64),
    #[error("the username {0} is taken; choose another")]
    UsernameTaken(Username),
    #[error(transparent)]
    Invalid(ctwiz_core::CoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `action` for the actor, or the refusal, audited with the same words as every other
/// page gate (`usecase::actors::permit`).
fn permitted(
    store: &(impl UserStore + ?Sized),
    actor: &Actor,
    action: Action,
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    crate::usecase::audit_refusal::<_, AdminError, _>(
        store,
        actor,
        None,
        now,
        |d| format!("{}: {d}", action.label()),
        authorize(actor, action).map(|_| ()),
    )
}

/// The state team's user list (`UserManage`): every user, with the end of their sign-in
/// lock while one holds.
pub fn users_with_locks<S: UserStore + ?Sized>(
    store: &S,
    actor: &Actor,
    now: NaiveDateTime,
) -> std::result::Result<Vec<(User, Option<NaiveDateTime>)>, AdminError> {
    permitted(store, actor, Action::UserManage, now)?;
    let mut out = Vec::new();
    for u in store.users()? {
        let locked = match u.id {
            Some(id) => store
                .account_by_id(id)?
                .filter(|a| locked_at(a, now))
                .and_then(|a| a.locked_until),
            None => None,
        };
        out.push((u, locked));
    }
    Ok(out)
}

/// The state team's outbox (`UserManage`): the newest `limit` e-mails and text messages,
/// sent or waiting.
pub fn outbox<S: UserStore + WebStore + crate::portal::PortalStore + ?Sized>(
    store: &S,
    actor: &Actor,
    limit: u32,
    now: NaiveDateTime,
) -> std::result::Result<
    (
        Vec<crate::web::OutboxEmail>,
        Vec<crate::portal::TextMessage>,
    ),
    AdminError,
> {
    permitted(store, actor, Action::UserManage, now)?;
    Ok((store.outbox(limit)?, store.texts(limit)?))
}

fn managed_account(
    store: &(impl UserStore + ?Sized),
    actor: &Actor,
    id: UserId,
    now: NaiveDateTime,
) -> std::result::Result<Account, AdminError> {
    crate::usecase::audit_refusal::<_, AdminError, _>(
        store,
        actor,
        None,
        now,
        |d| format!("manage user {id}: {d}"),
        authorize(actor, Action::UserManage),
    )?;
    store.account_by_id(id)?.ok_or(AdminError::NoSuchUser(id))
}

/// A state user lifts a lock (and re-activates a locked or disabled account); audited.
pub fn unlock<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    let account = managed_account(store, actor, id, now)?;
    store.set_status(id, AccountStatus::Active)?;
    store.set_locked_until(id, None)?;
    tell_user(
        store,
        id,
        &account.user.email,
        &account.user.username,
        "your account was unlocked; you can sign in again",
        now,
    )?;
    let detail = format!(
        "unlocked {} (was {:?}{})",
        account.user.username,
        account.user.status,
        account
            .locked_until
            .map(|t| format!(", locked until {t}"))
            .unwrap_or_default()
    );
    audit_by(store, actor, AuditAction::Unlock, detail, now)?;
    Ok(())
}

/// Where a grant applies, in words: `clinic CT00001`, `Hartford County`, `statewide`.
pub fn scope_text(s: &Scope) -> String {
    match s {
        Scope::Clinic(p) => format!("clinic {p}"),
        Scope::Jurisdiction(c) => c.label(),
        Scope::State => "statewide".into(),
    }
}

/// A state user replaces a user's grants (access types per clinic, county or state); audited
/// with the grants before and after.
pub fn change_grants<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    grants: &[Grant],
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    let account = managed_account(store, actor, id, now)?;
    replace_grants(store, actor, id, &account, grants, now)
}

/// One change the help desk makes to a user's grants (the user list's form).
pub enum GrantEdit {
    /// A grant at a clinic, in place of the user's grant there if they hold one.
    AtClinic(ClinicPin, Role),
    /// The user's grant `index` (in the order held) gets another access type.
    Change(usize, Role),
    /// The user's grant `index` is removed.
    Remove(usize),
}

/// A state user makes one change to a user's grants; audited and told as
/// [`change_grants`].
pub fn edit_grant<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    edit: GrantEdit,
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    let account = managed_account(store, actor, id, now)?;
    let mut grants = account.user.grants.clone();
    let unknown = |i: usize| {
        AdminError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "Unknown access entry {i}."
        )))
    };
    match edit {
        GrantEdit::AtClinic(pin, role) => {
            grants.retain(|g| g.scope != Scope::Clinic(pin.clone()));
            grants.push(Grant::new(role, Scope::Clinic(pin)).map_err(AdminError::Invalid)?);
        }
        GrantEdit::Change(i, role) => {
            let g = grants.get_mut(i).ok_or_else(|| unknown(i))?;
            *g = Grant::new(role, g.scope.clone()).map_err(AdminError::Invalid)?;
        }
        GrantEdit::Remove(i) => {
            if i >= grants.len() {
                return Err(unknown(i));
            }
            grants.remove(i);
        }
    }
    replace_grants(store, actor, id, &account, &grants, now)
}

/// Stores `grants` as user `id`'s (`account`), audits before and after, and tells the user.
fn replace_grants<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    account: &Account,
    grants: &[Grant],
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    store.set_grants(id, grants)?;
    let show = |gs: &[Grant]| {
        gs.iter()
            .map(|g| format!("{} {}", g.role.key(), scope_text(&g.scope)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let detail = format!(
        "grants of {}: [{}] -> [{}]",
        account.user.username,
        show(&account.user.grants),
        show(grants)
    );
    audit_by(store, actor, AuditAction::GrantChange, detail, now)?;
    let now_held = grants
        .iter()
        .map(|g| format!("{} at {}", g.role.label(), scope_text(&g.scope)))
        .collect::<Vec<_>>()
        .join("; ");
    tell_user(
        store,
        id,
        &account.user.email,
        &account.user.username,
        &format!(
            "your access was changed by the DPH help desk. You now hold: {}",
            if now_held.is_empty() {
                "no access".into()
            } else {
                now_held
            }
        ),
        now,
    )?;
    Ok(())
}

/// Tells user `id` what the help desk did to their account, by e-mail and in their
/// notifications (every help-desk action does, so a change the user did not ask for is
/// noticed).
fn tell_user<S: WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    id: UserId,
    to: &Email,
    username: &Username,
    what: &str,
    now: NaiveDateTime,
) -> Result<()> {
    store.notify(
        id,
        crate::clinic_info::NotificationKind::AccountDecision,
        &format!("the DPH help desk changed your account: {what}"),
        "/account/password",
        now,
    )?;
    email_user(store, to, username, what, now)
}

/// The help-desk e-mail of [`tell_user`] alone (a second address).
fn email_user<S: WebStore + ?Sized>(
    store: &S,
    to: &Email,
    username: &Username,
    what: &str,
    now: NaiveDateTime,
) -> Result<()> {
    store.queue_email(
        to,
        "Your CT WiZ account was changed",
        &format!(
            "CT WiZ user {username}: {what}.\n\nIf you did not expect this, contact the DPH Immunization Program help desk."
        ),
        now,
    )?;
    Ok(())
}

/// The help desk deactivates (`active = false`, with the reason) or reactivates an
/// account: a deactivated user cannot sign in and their sessions end at once. Audited
/// and e-mailed to the user.
pub fn set_active<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    active: bool,
    reason: &str,
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    let account = managed_account(store, actor, id, now)?;
    let reason = reason.trim();
    if !active && reason.is_empty() {
        return Err(AdminError::Invalid(ctwiz_core::CoreError::Rule(
            "give the reason for deactivating the account (e.g. left the clinic)".into(),
        )));
    }
    let (status, what) = if active {
        (AccountStatus::Active, "reactivated")
    } else {
        (AccountStatus::Disabled, "deactivated")
    };
    store.set_status(id, status)?;
    if !active {
        store.delete_user_sessions(id)?;
    }
    let why = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    audit_by(
        store,
        actor,
        AuditAction::GrantChange,
        format!("{} {what}{why}", account.user.username),
        now,
    )?;
    tell_user(
        store,
        id,
        &account.user.email,
        &account.user.username,
        &format!("your account was {what}{why}"),
        now,
    )?;
    Ok(())
}

/// The help desk corrects a user's name (e.g. a new last name) and e-mail address.
/// Audited (old and new); the notice goes to the old address and, when it changed, the
/// new one too.
pub fn change_identity<S: UserStore + WebStore + crate::clinic_info::NotificationStore + ?Sized>(
    store: &S,
    actor: &Actor,
    id: UserId,
    full_name: &str,
    email: &str,
    now: NaiveDateTime,
) -> std::result::Result<(), AdminError> {
    let account = managed_account(store, actor, id, now)?;
    let name =
        ctwiz_core::ids::name_text("full name", full_name, 120).map_err(AdminError::Invalid)?;
    let email = Email::new(email).map_err(AdminError::Invalid)?;
    if name == account.user.full_name && email == account.user.email {
        return Ok(());
    }
    store.set_identity(id, &name, &email)?;
    audit_by(
        store,
        actor,
        AuditAction::GrantChange,
        format!(
            "{}: name {:?} -> {:?}, e-mail {} -> {}",
            account.user.username, account.user.full_name, name, account.user.email, email
        ),
        now,
    )?;
    let what = format!("your name on file is now {name:?} and your e-mail address {email}");
    tell_user(
        store,
        id,
        &account.user.email,
        &account.user.username,
        &what,
        now,
    )?;
    if email != account.user.email {
        email_user(store, &email, &account.user.username, &what, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditFilter, AuditStore, SqliteStore};
    use ctwiz_core::ids::Email;

    /// A new user `nurse{n}` with a temporary password.
    fn nurse(s: &SqliteStore, n: u8) -> (UserId, String) {
        let u = User::new(
            Username::new(&format!("nurse{n}")).unwrap(),
            &format!("Nurse {n}"),
            Email::new(&format!("n{n}@example.org")).unwrap(),
        )
        .unwrap();
        create_with_temporary_password(s, &u).unwrap()
    }

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    fn web_sign_in(
        s: &SqliteStore,
        name: &str,
        password: &str,
        at: NaiveDateTime,
    ) -> std::result::Result<Account, SignInFailure> {
        sign_in(s, Channel::Web, name, password, at).unwrap()
    }

    #[test]
    fn temporary_password_signs_in_and_must_be_changed() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (_, temp) = nurse(&s, 1);
        let acc = web_sign_in(&s, "NURSE1", &temp, now()).unwrap();
        assert!(acc.must_change_password);
        assert_eq!(
            web_sign_in(&s, "nurse1", "wrong", now()).unwrap_err(),
            SignInFailure::WrongPassword
        );
        assert_eq!(
            web_sign_in(&s, "nobody", "x", now()).unwrap_err(),
            SignInFailure::UnknownUser
        );
    }

    #[test]
    fn repeated_failures_lock_for_a_while_and_the_lock_ends_by_itself() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (_, temp) = nurse(&s, 2);
        for _ in 0..MAX_FAILED_SIGN_INS - 1 {
            assert_eq!(
                web_sign_in(&s, "nurse2", "bad", now()).unwrap_err(),
                SignInFailure::WrongPassword
            );
        }
        assert_eq!(
            web_sign_in(&s, "nurse2", "bad", now()).unwrap_err(),
            SignInFailure::Locked
        );
        // Even the right password is refused while locked...
        let almost = now() + chrono::Duration::minutes(LOCKOUT_MINUTES - 1);
        assert_eq!(
            web_sign_in(&s, "nurse2", &temp, almost).unwrap_err(),
            SignInFailure::Locked
        );
        // ...and accepted once the lock has passed; the status never changed.
        let later = now() + chrono::Duration::minutes(LOCKOUT_MINUTES);
        let acc = web_sign_in(&s, "nurse2", &temp, later).unwrap();
        assert_eq!(acc.user.status, AccountStatus::Active);
        let acc = s.account_by_id(acc.user.id.unwrap()).unwrap().unwrap();
        assert_eq!((acc.failed_sign_ins, acc.locked_until), (0, None));
    }

    #[test]
    fn a_passed_lock_starts_a_fresh_count() {
        let s = SqliteStore::open_in_memory().unwrap();
        nurse(&s, 4);
        for _ in 0..MAX_FAILED_SIGN_INS {
            let _ = web_sign_in(&s, "nurse4", "bad", now());
        }
        let later = now() + chrono::Duration::minutes(LOCKOUT_MINUTES + 1);
        assert_eq!(
            web_sign_in(&s, "nurse4", "bad", later).unwrap_err(),
            SignInFailure::WrongPassword,
            "one failure after the lock does not lock again"
        );
    }

    #[test]
    fn sign_ins_failures_and_locks_are_audited_with_the_door() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (_, temp) = nurse(&s, 5);
        sign_in(&s, Channel::Soap, "nurse5", &temp, now())
            .unwrap()
            .unwrap();
        for _ in 0..MAX_FAILED_SIGN_INS {
            let _ = web_sign_in(&s, "nurse5", "bad", now());
        }
        let _ = web_sign_in(&s, "ghost", "bad", now());
        let rows = s.audit_query(&AuditFilter::default()).unwrap();
        let count = |a: AuditAction| rows.iter().filter(|r| r.action == a).count();
        assert_eq!(count(AuditAction::SignIn), 1);
        assert_eq!(
            count(AuditAction::SignInFailed),
            5,
            "4 wrong + the unknown name"
        );
        assert_eq!(count(AuditAction::Lockout), 1);
        let ok = rows
            .iter()
            .find(|r| r.action == AuditAction::SignIn)
            .unwrap();
        assert_eq!(
            (ok.actor.as_str(), ok.interface),
            ("soap:nurse5", Interface::Soap)
        );
        assert!(rows.iter().any(|r| r.actor == "web:ghost"));
    }

    /// A stored user with `role` statewide (`None`: no grant), acting for the state.
    fn acting(s: &SqliteStore, n: u8, role: Option<Role>) -> Actor {
        let (id, _) = nurse(s, n);
        if let Some(role) = role {
            s.set_grants(id, &[Grant::new(role, Scope::State).unwrap()])
                .unwrap();
        }
        let user = s.account_by_id(id).unwrap().unwrap().user;
        Actor::new(user, ctwiz_core::actor::Acting::State, Channel::Web)
    }

    #[test]
    fn the_help_desk_edits_one_grant_and_its_lists_refuse_others_with_an_audit_row() {
        let s = SqliteStore::open_in_memory().unwrap();
        let admin = acting(&s, 20, Some(Role::StateAdmin));
        let reader = acting(&s, 21, Some(Role::DphReadOnly));
        let (target, _) = nurse(&s, 22);
        let pin = ClinicPin::new("CT01234").unwrap();
        let grants = |s: &SqliteStore| s.account_by_id(target).unwrap().unwrap().user.grants;

        let at_clinic = |role| GrantEdit::AtClinic(pin.clone(), role);
        edit_grant(&s, &admin, target, at_clinic(Role::ClinicAccess), now()).unwrap();
        // The same clinic again replaces the grant there, not adds a second.
        edit_grant(
            &s,
            &admin,
            target,
            at_clinic(Role::PatientLookUpOnly),
            now(),
        )
        .unwrap();
        assert_eq!(
            grants(&s),
            [Grant::new(Role::PatientLookUpOnly, Scope::Clinic(pin.clone())).unwrap()]
        );
        edit_grant(
            &s,
            &admin,
            target,
            GrantEdit::Change(0, Role::ClinicAccess),
            now(),
        )
        .unwrap();
        assert_eq!(grants(&s)[0].role, Role::ClinicAccess);
        // An entry the user does not hold, a role of another scope: refused, nothing changed.
        for edit in [
            GrantEdit::Change(1, Role::ClinicAccess),
            GrantEdit::Remove(1),
            GrantEdit::Change(0, Role::StateAdmin),
        ] {
            assert!(matches!(
                edit_grant(&s, &admin, target, edit, now()),
                Err(AdminError::Invalid(_))
            ));
        }
        assert_eq!(grants(&s)[0].role, Role::ClinicAccess);
        assert!(matches!(
            edit_grant(&s, &reader, target, GrantEdit::Remove(0), now()),
            Err(AdminError::Denied(_))
        ));
        edit_grant(&s, &admin, target, GrantEdit::Remove(0), now()).unwrap();
        assert!(grants(&s).is_empty());

        // The lists: the state administrator reads them; DPH read-only is refused, audited.
        let users = users_with_locks(&s, &admin, now()).unwrap();
        assert_eq!(users.len(), 3);
        assert!(users.iter().all(|(_, locked)| locked.is_none()));
        assert!(outbox(&s, &admin, 10, now()).is_ok());
        assert!(requests::list(&s, &admin, now()).unwrap().is_empty());
        let denied = |s: &SqliteStore| {
            s.audit_query(&AuditFilter::default())
                .unwrap()
                .into_iter()
                .filter(|r| r.action == AuditAction::Denied && r.actor == "web:nurse21")
                .count()
        };
        let before = denied(&s);
        assert!(matches!(
            users_with_locks(&s, &reader, now()),
            Err(AdminError::Denied(_))
        ));
        assert!(matches!(
            outbox(&s, &reader, 10, now()),
            Err(AdminError::Denied(_))
        ));
        assert!(matches!(
            requests::list(&s, &reader, now()),
            Err(AdminError::Denied(_))
        ));
        assert_eq!(denied(&s), before + 3);
    }

    #[test]
    fn cached_sign_in_follows_lock_disable_and_password_change() {
        let s = SqliteStore::open_in_memory().unwrap();
        let (id, temp) = nurse(&s, 3);
        let acc = web_sign_in(&s, "nurse3", &temp, now()).unwrap();
        let hash = acc.password_hash.clone();
        assert!(recheck_cached_sign_in(&s, "nurse3", &hash).unwrap().is_ok());
        s.set_locked_until(id, Some(now())).unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::Locked
        );
        s.set_locked_until(id, None).unwrap();
        s.set_status(id, AccountStatus::Disabled).unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::Disabled
        );
        s.set_status(id, AccountStatus::Active).unwrap();
        assert!(recheck_cached_sign_in(&s, "nurse3", &hash).unwrap().is_ok());
        // A reset stores a new salted hash, even for the same password.
        s.set_password(id, &hash_password(&temp).unwrap(), false)
            .unwrap();
        assert_eq!(
            recheck_cached_sign_in(&s, "nurse3", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::WrongPassword
        );
        assert_eq!(
            recheck_cached_sign_in(&s, "nobody", &hash)
                .unwrap()
                .unwrap_err(),
            SignInFailure::UnknownUser
        );
    }

    #[test]
    fn the_dummy_hash_costs_a_full_check_with_the_default_parameters() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = hash_password("anything at all").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn policy() {
        use WeakPassword::*;
        let check = |p| check_password_policy(p, "jdoe");
        assert_eq!(check("short1"), Err(TooShort));
        assert_eq!(check("password1234"), Err(Common));
        assert_eq!(check("Password1234!"), Err(Common));
        assert_eq!(check("qwerty123456"), Err(Common));
        assert_eq!(check("1qaz2wsx3edc"), Err(Common));
        assert_eq!(check("my name is JDoe really"), Err(ContainsUsername));
        assert_eq!(check("long enough 123"), Ok(()));
        assert_eq!(check("correct horse battery"), Ok(()));
    }
}
