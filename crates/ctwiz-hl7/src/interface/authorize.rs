//! Who may submit messages for a facility. Every door (batch import, SOAP,
//! MLLP) asks [`authorize_facility`] before the interface files a message
//! under the clinic its MSH-4 names; the permission matrix decides
//! ([`Action::InterfaceSubmit`]), the same for all of them.

use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::{authorize_at, Acting, Actor, Denied};
use ctwiz_core::ids::ClinicPin;
use ctwiz_store::{OrgStore, StoreError};

use super::{internal_error, Kind, Prepared};
use crate::message::{Hl7Error, Issue};
use crate::segment::err::ErrorLocation;
use crate::segment::Msh;

/// Why a message may not be submitted for its facility.
#[derive(Debug, thiserror::Error)]
pub enum FacilityRefused {
    /// Not a registered, active clinic. The interface answers that itself
    /// (AR, ERR 204) whoever sends it, so doors may pass such messages on.
    #[error("{0} is not a clinic registered with this IIS")]
    Unknown(ClinicPin),
    #[error("{who} may not submit messages for facility {pin}: {denied}")]
    Denied {
        who: String,
        pin: ClinicPin,
        denied: Denied,
    },
    #[error("the registry could not check the facility: {0}")]
    Store(#[from] StoreError),
}

/// Whether `actor` may submit messages for the clinic `pin` (MSH-4): the
/// matrix's [`Action::InterfaceSubmit`] at that clinic. An actor that does not
/// act anywhere yet ([`Acting::Nowhere`]: a named user at the batch door) acts
/// for the message's clinic, as a SOAP facilityID binds a request to one; an
/// actor bound to a clinic may submit for that clinic only. Returns the actor
/// the message is submitted as.
pub fn authorize_facility<S: OrgStore + ?Sized>(
    actor: &Actor,
    store: &S,
    pin: &ClinicPin,
) -> Result<Actor, FacilityRefused> {
    let clinic = match store.clinic(pin)? {
        Some(c) if c.active => c,
        _ => return Err(FacilityRefused::Unknown(pin.clone())),
    };
    let mut bound = actor.clone();
    if bound.acting == Acting::Nowhere {
        bound.acting = Acting::Clinic {
            pin: clinic.pin.clone(),
            county: clinic.county,
        };
    }
    let target = Target::Clinic {
        pin,
        county: clinic.county,
    };
    match authorize_at(&bound, target, Action::InterfaceSubmit) {
        Ok(_) => Ok(bound),
        Err(denied) => Err(FacilityRefused::Denied {
            who: actor.label(),
            pin: pin.clone(),
            denied,
        }),
    }
}

impl Prepared {
    /// The message's MSH as read (empty for text that is not HL7).
    pub fn msh(&self) -> Option<&Msh> {
        match &self.0 {
            Kind::NotHl7(_) => None,
            Kind::Rejected(r) => Some(&r.msh),
            Kind::Refused(msh, _) => Some(msh),
            Kind::Vxu(v) => Some(v.msh()),
            Kind::Qbp(q) => Some(&q.msh),
        }
    }

    /// The clinic MSH-4 names, when it is a valid PIN.
    pub fn facility(&self) -> Option<ClinicPin> {
        self.msh()
            .and_then(|m| ClinicPin::new(m.sending_facility.namespace.trim()).ok())
    }

    /// This message, to be answered AR for `why` instead of processed (nothing
    /// is stored; the refusal is logged). An unknown facility is left to the
    /// interface, which rejects it the same way for every door.
    pub fn refuse(self, why: &FacilityRefused) -> Prepared {
        let issue = match why {
            FacilityRefused::Unknown(_) => return self,
            // Table 0357 has no "not authorized" code: the sending facility is
            // not one this submitter holds a key for.
            FacilityRefused::Denied { .. } => Issue::error(
                ErrorLocation::new("MSH", 1, 4),
                Hl7Error::UnknownKeyIdentifier,
                why.to_string(),
            ),
            FacilityRefused::Store(e) => internal_error(e),
        };
        let msh = self.msh().cloned().unwrap_or_default();
        Prepared(Kind::Refused(Box::new(msh), issue))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{now, store as clinic_store};
    use super::*;
    use crate::interface::{process_prepared, Context};
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::actor::Channel;
    use ctwiz_core::codes::CodeSets;
    use ctwiz_core::ids::{Email, Username};
    use ctwiz_store::interface::AckResult;

    fn user(role: Role, scope: Scope) -> User {
        let mut u = User::new(
            Username::new("ehr-one").expect("name"),
            "EHR One",
            Email::new("ehr@example.org").expect("email"),
        )
        .expect("user");
        u.grant(Grant::new(role, scope).expect("grant"));
        u
    }

    #[test]
    fn a_clinic_grant_submits_for_its_clinic_only() {
        let s = clinic_store(&["C1", "C2"]);
        let c1 = ClinicPin::new("C1").expect("pin");
        let c2 = ClinicPin::new("C2").expect("pin");
        let a = Actor::new(
            user(Role::ClinicAccessDqaInterface, Scope::Clinic(c1.clone())),
            Acting::Nowhere,
            Channel::Batch,
        );
        let bound = authorize_facility(&a, &s, &c1).expect("allowed at C1");
        assert_eq!(bound.label(), "batch:ehr-one@C1");
        assert!(matches!(
            authorize_facility(&a, &s, &c2),
            Err(FacilityRefused::Denied { .. })
        ));
        assert!(matches!(
            authorize_facility(&a, &s, &ClinicPin::new("NOPE").expect("pin")),
            Err(FacilityRefused::Unknown(_))
        ));
        // Bound to C1 (a SOAP facilityID, an MLLP connection), C2 is out of scope
        // even for a grant that covers it.
        let mut both = a.clone();
        both.user
            .grant(Grant::new(Role::ClinicAccess, Scope::Clinic(c2.clone())).expect("grant"));
        both.acting = Acting::Clinic {
            pin: c1,
            county: ctwiz_core::org::County::Hartford,
        };
        assert!(authorize_facility(&both, &s, &c2).is_err());
    }

    #[test]
    fn a_refused_message_is_answered_ar_and_logged() {
        let s = clinic_store(&["C1", "C2"]);
        let codes = CodeSets::embedded();
        let a = Actor::new(
            user(
                Role::ClinicAccess,
                Scope::Clinic(ClinicPin::new("C1").expect("pin")),
            ),
            Acting::Nowhere,
            Channel::Batch,
        );
        let text = "MSH|^~\\&|EHR|C2|CTWIZ|CTDPH|20261125090000||VXU^V04^VXU_V04|M9|P|2.5.1\r\
                    PID|1||MRN1^^^C2^MR||Doe^Ann||20250101|F\r";
        let p = super::super::prepare(&codes, now(), text);
        let pin = p.facility().expect("MSH-4 is a PIN");
        let why = authorize_facility(&a, &s, &pin).expect_err("no grant at C2");
        let o = process_prepared(&s, &Context::new(&codes, now(), "R1"), p.refuse(&why));
        assert_eq!(o.result, AckResult::Rejected);
        assert!(!o.stored);
        let ack = o.response.to_er7();
        assert!(ack.contains("MSA|AR|M9"), "{ack}");
        assert!(ack.contains("batch:ehr-one may not submit"), "{ack}");
        assert_eq!(o.log.facility, "C2");
    }
}
