//! Who is asking, through which door, and the proof that the permission matrix agreed.
//!
//! Every use case below the doors (web, SOAP, MLLP, CLI, batch import, portal) takes an
//! [`Actor`] and starts with one of the `authorize*` functions. They return an
//! [`Authorized`] value that nothing else can construct, so a use case (or a store write)
//! that asks for one cannot be reached without the matrix in [`crate::access`] having
//! said yes. A refusal is a typed [`Denied`], the same whichever door it came through.

use crate::access::{can, can_on_patient, AccountStatus, Action, PatientScope, Target, User};
use crate::ids::ClinicPin;
use crate::place::{Jurisdiction, Locality};
use serde::{Deserialize, Serialize};

/// The door a request came through; recorded in every audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    Web,
    Soap,
    Mllp,
    Cli,
    Batch,
    Portal,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Web,
        Channel::Soap,
        Channel::Mllp,
        Channel::Cli,
        Channel::Batch,
        Channel::Portal,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Soap => "soap",
            Channel::Mllp => "mllp",
            Channel::Cli => "cli",
            Channel::Batch => "batch",
            Channel::Portal => "portal",
        }
    }
}

/// Where the actor acts: the clinic, jurisdiction or statewide scope of this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acting {
    Clinic {
        pin: ClinicPin,
        /// Where the clinic is (its town, health department, county).
        at: Locality,
    },
    Jurisdiction(Jurisdiction),
    State,
    /// Signed in but no scope chosen (a multi-clinic user before picking one): nothing
    /// is allowed.
    Nowhere,
}

/// An authenticated user acting in one scope through one door.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub acting: Acting,
    pub channel: Channel,
}

impl Actor {
    pub fn new(user: User, acting: Acting, channel: Channel) -> Actor {
        Actor {
            user,
            acting,
            channel,
        }
    }

    /// The permission target for actions on the acting scope's own data.
    pub fn target(&self) -> Target<'_> {
        match &self.acting {
            Acting::Clinic { pin, at } => Target::Clinic {
                pin,
                at: at.location(),
            },
            Acting::Jurisdiction(j) => Target::Jurisdiction(j),
            Acting::State | Acting::Nowhere => Target::State,
        }
    }

    pub fn clinic(&self) -> Option<&ClinicPin> {
        match &self.acting {
            Acting::Clinic { pin, .. } => Some(pin),
            _ => None,
        }
    }

    /// The name written in audit rows and inventory transactions: `door:user[@clinic]`.
    pub fn label(&self) -> String {
        match &self.acting {
            Acting::Clinic { pin, .. } => {
                format!("{}:{}@{}", self.channel.key(), self.user.username, pin)
            }
            _ => format!("{}:{}", self.channel.key(), self.user.username),
        }
    }

    /// Whether `action` is allowed on the acting scope's own data; for deciding what to
    /// show (menus, buttons). Use cases call [`authorize`] instead.
    pub fn may(&self, action: Action) -> bool {
        authorize(self, action).is_ok()
    }
}

/// Proof that the permission matrix allowed `action` to `actor`. Only the `authorize*`
/// functions of this module construct it (its fields are private).
#[derive(Debug, Clone, Copy)]
pub struct Authorized<'a> {
    actor: &'a Actor,
    action: Action,
}

impl<'a> Authorized<'a> {
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    pub fn action(&self) -> Action {
        self.action
    }
}

/// Why the matrix said no. The same refusal for every door.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("the account is {0:?}")]
    Inactive(AccountStatus),
    #[error("choose a clinic first")]
    NoActingScope,
    #[error("your access type may not {}", .0.label())]
    NotAllowed(Action),
    #[error("you may not {} for this record, clinic or jurisdiction", .0.label())]
    OutOfScope(Action),
    /// Acting for a clinic where the user holds no access (only the state may act anywhere).
    #[error("you hold no access at clinic {0}")]
    NoGrantAt(crate::ids::ClinicPin),
}

/// Whether `user` may act for clinic `pin`: a grant there, or the state's authority.
pub fn may_act_for(user: &User, pin: &crate::ids::ClinicPin) -> Result<(), Denied> {
    if user.role_at(pin).is_some() || user.is_state() {
        Ok(())
    } else {
        Err(Denied::NoGrantAt(pin.clone()))
    }
}

fn precheck(actor: &Actor, action: Action) -> Result<(), Denied> {
    if actor.user.status != AccountStatus::Active {
        return Err(Denied::Inactive(actor.user.status));
    }
    if actor.acting == Acting::Nowhere {
        return Err(Denied::NoActingScope);
    }
    if !actor.user.grants.iter().any(|g| g.role.allows(action)) {
        return Err(Denied::NotAllowed(action));
    }
    Ok(())
}

/// `action` on the data of the scope the actor acts in (its clinic, its jurisdiction).
pub fn authorize(actor: &Actor, action: Action) -> Result<Authorized<'_>, Denied> {
    authorize_at(actor, actor.target(), action)
}

/// `action` on the data of another clinic, a jurisdiction or the state. A clinic user's
/// grant at another clinic does not count unless that is the clinic they act for.
pub fn authorize_at<'a>(
    actor: &'a Actor,
    target: Target<'_>,
    action: Action,
) -> Result<Authorized<'a>, Denied> {
    precheck(actor, action)?;
    let acting_there = match (&actor.acting, target) {
        (Acting::Clinic { pin, .. }, Target::Clinic { pin: there, .. }) => pin == there,
        (Acting::Clinic { .. }, _) => false,
        _ => true,
    };
    if acting_there && can(&actor.user, target, action) {
        Ok(Authorized { actor, action })
    } else {
        Err(Denied::OutOfScope(action))
    }
}

/// `action` on one patient's record: the acting clinic, the patient's county for a
/// health department, confidentiality (only the clinics that reported) for clinic users.
pub fn authorize_on_patient<'a>(
    actor: &'a Actor,
    patient: PatientScope<'_>,
    action: Action,
) -> Result<Authorized<'a>, Denied> {
    precheck(actor, action)?;
    let acting = match &actor.acting {
        Acting::Clinic { .. } => Some(actor.target()),
        _ => None,
    };
    if can_on_patient(&actor.user, acting, patient, action) {
        Ok(Authorized { actor, action })
    } else {
        Err(Denied::OutOfScope(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, Role, Scope};
    use crate::ids::{Email, Username};
    use crate::org::County;

    fn pin(s: &str) -> ClinicPin {
        ClinicPin::new(s).unwrap()
    }

    fn actor(role: Role, scope: Scope, acting: Acting) -> Actor {
        let mut u = User::new(
            Username::new("tester").unwrap(),
            "Test User",
            Email::new("t@example.org").unwrap(),
        )
        .unwrap();
        u.grant(Grant::new(role, scope).unwrap());
        Actor::new(u, acting, Channel::Soap)
    }

    fn at(p: &str) -> Acting {
        Acting::Clinic {
            pin: pin(p),
            at: crate::place::Locality::county(County::Hartford),
        }
    }

    #[test]
    fn interface_staff_submit_but_do_not_query() {
        let a = actor(
            Role::ClinicAccessDqaInterface,
            Scope::Clinic(pin("C1")),
            at("C1"),
        );
        assert!(authorize(&a, Action::InterfaceSubmit).is_ok());
        assert_eq!(
            authorize(&a, Action::InterfaceQuery).unwrap_err(),
            Denied::NotAllowed(Action::InterfaceQuery)
        );
    }

    #[test]
    fn a_grant_elsewhere_does_not_reach_the_acting_clinic() {
        let mut a = actor(Role::ClinicAccess, Scope::Clinic(pin("C1")), at("C2"));
        assert_eq!(
            authorize(&a, Action::InterfaceSubmit).unwrap_err(),
            Denied::OutOfScope(Action::InterfaceSubmit)
        );
        a.acting = at("C1");
        let c2 = pin("C2");
        let there = Target::Clinic {
            pin: &c2,
            at: crate::place::Location::in_county(County::Hartford),
        };
        assert!(authorize_at(&a, there, Action::InventoryView).is_err());
        assert!(authorize(&a, Action::InventoryView).is_ok());
    }

    #[test]
    fn locked_and_unscoped_actors_are_refused_first() {
        let mut a = actor(Role::StateAdmin, Scope::State, Acting::Nowhere);
        assert_eq!(
            authorize(&a, Action::PatientView).unwrap_err(),
            Denied::NoActingScope
        );
        a.acting = Acting::State;
        assert!(authorize(&a, Action::PatientMerge).is_ok());
        a.user.status = AccountStatus::Locked;
        assert_eq!(
            authorize(&a, Action::PatientView).unwrap_err(),
            Denied::Inactive(AccountStatus::Locked)
        );
    }

    #[test]
    fn proof_names_its_actor_and_action() {
        let a = actor(Role::ClinicAccess, Scope::Clinic(pin("C1")), at("C1"));
        let ok = authorize(&a, Action::DoseRecord).unwrap();
        assert_eq!(ok.action(), Action::DoseRecord);
        assert_eq!(ok.actor().label(), "soap:tester@C1");
    }
}
