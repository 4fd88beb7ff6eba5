//! May the sender of a message act for the facility in its MSH-4? The same question for
//! every door (SOAP, MLLP, batch import, `ctwiz hl7 process`): the door authenticates
//! and builds the [`Actor`]; the permission matrix decides here.

use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::{authorize_at, Acting, Actor, Denied};
use ctwiz_core::ids::ClinicPin;
use ctwiz_store::OrgStore;

use super::{Kind, Prepared};
use crate::segment::Msh;

/// `action` (`InterfaceSubmit` for a VXU, `InterfaceQuery` for a QBP) for the clinic
/// `pin`: the actor must act for that clinic (a clinic user's grant elsewhere does not
/// count) or hold a jurisdiction/state grant covering it. A clinic that is not
/// registered, or cannot be read, is refused (nothing to act for).
pub fn authorize_facility<S: OrgStore + ?Sized>(
    actor: &Actor,
    store: &S,
    pin: &ClinicPin,
    action: Action,
) -> Result<(), Denied> {
    let Ok(Some(clinic)) = store.clinic(pin) else {
        return Err(Denied::OutOfScope(action));
    };
    let target = Target::Clinic {
        pin,
        at: ctwiz_core::place::Location::in_county(clinic.county),
    };
    authorize_at(actor, target, action).map(|_| ())
}

/// The actor a message is processed as. One that acts nowhere yet (a named user at the
/// batch door, who may hold grants at several clinics) acts for the message's clinic, as a
/// SOAP facilityID or an MLLP binding binds a request to one; any other actor is returned
/// as it is, and [`authorize_facility`] then refuses a clinic it does not act for.
pub fn acting_for_message<S: OrgStore + ?Sized>(
    actor: &Actor,
    store: &S,
    pin: &ClinicPin,
) -> Actor {
    let mut bound = actor.clone();
    if bound.acting == Acting::Nowhere {
        if let Ok(Some(c)) = store.clinic(pin) {
            bound.acting = Acting::Clinic {
                pin: c.pin,
                at: ctwiz_core::place::Locality::county(c.county),
            };
        }
    }
    bound
}

impl Prepared {
    /// The message's MSH as read (empty for text that is not HL7).
    pub fn msh(&self) -> Option<&Msh> {
        match &self.0 {
            Kind::NotHl7(..) => None,
            Kind::Rejected(r) => Some(&r.msh),
            Kind::Refused(msh, _) | Kind::InvalidQuery(msh, _, _) => Some(msh),
            Kind::Vxu(v) => Some(v.msh()),
            Kind::Qbp(q) => Some(&q.msh),
        }
    }

    /// The clinic MSH-4 names, when it is a valid PIN.
    pub fn facility(&self) -> Option<ClinicPin> {
        self.msh()
            .and_then(|m| ClinicPin::new(m.sending_facility.namespace.trim()).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::actor::{Acting, Channel};
    use ctwiz_core::ids::{Email, Username};
    use ctwiz_core::org::{Clinic, County, ProgramType};
    use ctwiz_store::SqliteStore;

    fn pin(p: &str) -> ClinicPin {
        ClinicPin::new(p).expect("pin")
    }

    fn actor(role: Role, scope: Scope, acting: Acting) -> Actor {
        let mut u = User::new(
            Username::new("ehr").expect("name"),
            "EHR",
            Email::new("ehr@example.org").expect("email"),
        )
        .expect("user");
        u.grant(Grant::new(role, scope).expect("grant"));
        Actor::new(u, acting, Channel::Mllp)
    }

    #[test]
    fn only_the_acting_clinic_or_the_state_and_only_what_the_role_allows() {
        let s = SqliteStore::open_in_memory().expect("store");
        for p in ["C1", "C2"] {
            s.add_clinic(&Clinic::new(pin(p), p, County::Hartford, ProgramType::Cvp).expect("c"))
                .expect("add");
        }
        let at_c1 = Acting::Clinic {
            pin: pin("C1"),
            at: ctwiz_core::place::Locality::county(County::Hartford),
        };
        let dqa = actor(
            Role::ClinicAccessDqaInterface,
            Scope::Clinic(pin("C1")),
            at_c1.clone(),
        );
        assert_eq!(
            authorize_facility(&dqa, &s, &pin("C1"), Action::InterfaceSubmit),
            Ok(())
        );
        assert_eq!(
            authorize_facility(&dqa, &s, &pin("C1"), Action::InterfaceQuery),
            Err(Denied::NotAllowed(Action::InterfaceQuery))
        );
        assert_eq!(
            authorize_facility(&dqa, &s, &pin("C2"), Action::InterfaceSubmit),
            Err(Denied::OutOfScope(Action::InterfaceSubmit))
        );
        let state = actor(Role::StateAdmin, Scope::State, Acting::State);
        assert_eq!(
            authorize_facility(&state, &s, &pin("C2"), Action::InterfaceQuery),
            Ok(())
        );
        assert_eq!(
            authorize_facility(&state, &s, &pin("C9"), Action::InterfaceQuery),
            Err(Denied::OutOfScope(Action::InterfaceQuery))
        );
    }

    #[test]
    fn a_batch_user_acting_nowhere_acts_for_each_message_clinic() {
        let s = SqliteStore::open_in_memory().expect("store");
        for p in ["C1", "C2"] {
            s.add_clinic(&Clinic::new(pin(p), p, County::Hartford, ProgramType::Cvp).expect("c"))
                .expect("add");
        }
        let mut a = actor(
            Role::ClinicAccessDqaInterface,
            Scope::Clinic(pin("C1")),
            Acting::Nowhere,
        );
        a.channel = Channel::Batch;
        let at_c1 = acting_for_message(&a, &s, &pin("C1"));
        assert_eq!(at_c1.label(), "batch:ehr@C1");
        assert_eq!(
            authorize_facility(&at_c1, &s, &pin("C1"), Action::InterfaceSubmit),
            Ok(())
        );
        let at_c2 = acting_for_message(&a, &s, &pin("C2"));
        assert_eq!(
            authorize_facility(&at_c2, &s, &pin("C2"), Action::InterfaceSubmit),
            Err(Denied::OutOfScope(Action::InterfaceSubmit))
        );
        // An actor bound to a clinic stays bound.
        assert_eq!(
            acting_for_message(&at_c1, &s, &pin("C2")).label(),
            "batch:ehr@C1"
        );
    }
}
