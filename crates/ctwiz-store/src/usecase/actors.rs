//! Who acts: a stored user in the scope they chose, or the local operator of the CLI.

use super::UseCaseError;
use crate::traits::{OrgStore, UserStore};
use ctwiz_core::access::{AccountStatus, Grant, Scope, User};
use ctwiz_core::actor::{Acting, Actor, Channel};
use ctwiz_core::ids::{ClinicPin, Email, Username};

/// The scope `user` acts in: the chosen clinic when they hold a grant there (the state
/// anywhere); otherwise their only clinic; otherwise statewide or their jurisdiction;
/// otherwise nowhere (a multi-clinic user must choose).
pub fn acting_for<S: OrgStore + ?Sized>(
    store: &S,
    user: &User,
    chosen: Option<&ClinicPin>,
) -> Result<Acting, UseCaseError> {
    let clinics = user.clinics();
    let pin = match chosen {
        Some(p) if ctwiz_core::actor::may_act_for(user, p).is_ok() => Some(p.clone()),
        _ if clinics.len() == 1 && !user.is_state() => Some(clinics[0].clone()),
        _ => None,
    };
    if let Some(pin) = pin {
        if let Some(c) = store.clinic(&pin)? {
            return Ok(Acting::Clinic {
                pin: c.pin,
                at: c.at,
            });
        }
    }
    Ok(if user.is_state() {
        Acting::State
    } else if let Some(j) = user.grants.iter().find_map(|g| match &g.scope {
        Scope::Jurisdiction(j) => Some(j.clone()),
        _ => None,
    }) {
        Acting::Jurisdiction(j)
    } else {
        Acting::Nowhere
    })
}

/// The practice an act is done for: the clinic the actor acts for, or — for the state
/// only — the clinic it names. `what` says what is refused otherwise ("a referral").
pub fn clinic_for(
    actor: &Actor,
    named: Option<&ClinicPin>,
    what: &str,
) -> Result<ClinicPin, UseCaseError> {
    match (&actor.acting, named) {
        (Acting::Clinic { pin, .. }, None) => Ok(pin.clone()),
        (Acting::Clinic { pin, .. }, Some(n)) if n == pin => Ok(pin.clone()),
        (Acting::State, Some(n)) => Ok(n.clone()),
        _ => Err(UseCaseError::Invalid(ctwiz_core::CoreError::Rule(format!(
            "{what} is made for one clinic: act for that clinic (DPH names it)"
        )))),
    }
}

/// A stored user acting through `channel` (CLI `--user`, MLLP bindings, batch import).
/// Refused when unknown or not active.
pub fn stored_user<S: UserStore + OrgStore + ?Sized>(
    store: &S,
    username: &str,
    clinic: Option<&ClinicPin>,
    channel: Channel,
) -> Result<Actor, UseCaseError> {
    let name = Username::new(username).map_err(crate::StoreError::from)?;
    let account = store
        .account(&name)?
        .ok_or_else(|| UseCaseError::UnknownUser(username.to_string()))?;
    let acting = acting_for(store, &account.user, clinic)?;
    Ok(Actor::new(account.user, acting, channel))
}

/// Whoever runs the CLI on the database file: they can read and write the file anyway, so
/// they act with the state's authority, and every row they touch names their login
/// (`cli:NAME`, `batch:NAME`; `operator` when the login is not a valid username).
pub fn local_operator(os_user: &str, channel: Channel) -> Actor {
    let clean: String = os_user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(48)
        .collect();
    let username = Username::new(&clean)
        .or_else(|_| Username::new("operator"))
        .expect("\"operator\" is a valid username");
    let user = User {
        id: None,
        username,
        full_name: "Local operator".into(),
        email: Email::new("operator@localhost.invalid").expect("a fixed, valid address"),
        grants: vec![
            Grant::new(ctwiz_core::access::Role::StateAdmin, Scope::State)
                .expect("the state role is statewide"),
        ],
        status: AccountStatus::Active,
    };
    Actor::new(user, Acting::State, channel)
}

/// `action` in the actor's own acting scope (a page or list of the acting clinic,
/// jurisdiction or the state), with a refusal audited as `Denied` naming `what`: the gate
/// of every screen whose data the use case then reads for that scope.
pub fn permit<'a, S: crate::AuditStore + ?Sized>(
    store: &S,
    actor: &'a Actor,
    action: ctwiz_core::access::Action,
    now: chrono::NaiveDateTime,
    what: &str,
) -> Result<ctwiz_core::actor::Authorized<'a>, UseCaseError> {
    super::audit_refusal::<_, UseCaseError, _>(
        store,
        actor,
        None,
        now,
        |d| format!("{what}: {d}"),
        ctwiz_core::actor::authorize(actor, action),
    )
}

/// Switches the clinic `actor`'s user acts for to `pin` (a session's clinic choice): only a
/// clinic of their own grants (the state: any registered clinic). A refusal is audited.
pub fn choose_clinic<S: OrgStore + crate::AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    pin: &ClinicPin,
    now: chrono::NaiveDateTime,
) -> Result<ctwiz_core::org::Clinic, UseCaseError> {
    super::audit_refusal::<_, UseCaseError, _>(
        store,
        actor,
        None,
        now,
        |d| format!("act for clinic {pin}: {d}"),
        ctwiz_core::actor::may_act_for(&actor.user, pin),
    )?;
    store
        .clinic(pin)?
        .ok_or_else(|| super::not_found("clinic", pin))
}
