//! May the sender of a message act for the facility in its MSH-4? The same question for
//! every door (SOAP, MLLP, batch import, `ctwiz hl7 process`): the door authenticates
//! and builds the [`Actor`]; the permission matrix decides here.

use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::{authorize_at, Actor, Denied};
use ctwiz_core::ids::ClinicPin;
use ctwiz_store::OrgStore;

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
        county: clinic.county,
    };
    authorize_at(actor, target, action).map(|_| ())
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
            county: County::Hartford,
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
}
