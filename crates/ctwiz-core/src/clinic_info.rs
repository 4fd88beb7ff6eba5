//! Clinic Information (the Clinic Tools module): what a clinic's coordinators may change on
//! their own (phone, fax, vaccine delivery hours, applied at once) and what the state must
//! approve first (name, address, staff list: a *change request*), plus the staff-list rule
//! for account requests: a CVP clinic's staff must be listed before they may ask for access.

use crate::access::Role;
use crate::error::{CoreError, Result};
use crate::ids::{name_text, ClinicPin, Email, Phone};
use crate::org::Clinic;
use crate::patient::Address;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// A training course a staff member completed (e.g. "CVP annual training, You Call the Shots").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Training {
    pub course: String,
    pub completed: NaiveDate,
}

/// A person who works at the clinic, as the clinic lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub name: String,
    pub email: Email,
    /// The access type they hold or will request.
    pub role: Role,
    /// Job title ("RN", "Office manager").
    pub title: Option<String>,
    pub training: Option<Training>,
}

impl StaffMember {
    /// Validates a staff entry: a name, a clinic access type, a title of at most 80
    /// characters, and a training course with a completion date not after `today`.
    pub fn new(
        name: &str,
        email: Email,
        role: Role,
        title: Option<&str>,
        training: Option<(&str, NaiveDate)>,
        today: NaiveDate,
    ) -> Result<StaffMember> {
        let name = name_text("staff name", name, 120)?;
        if role.scope_kind() != crate::access::ScopeKind::Clinic {
            return Err(CoreError::Rule(format!(
                "{} is not a clinic access type",
                role.label()
            )));
        }
        let title = title
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| name_text("title", t, 80))
            .transpose()?;
        let training = match training {
            None => None,
            Some((course, completed)) => {
                let course = name_text("training course", course, 120)?;
                if completed > today {
                    return Err(CoreError::Rule(format!(
                        "training completion date {completed} is in the future"
                    )));
                }
                Some(Training { course, completed })
            }
        };
        Ok(StaffMember {
            name,
            email,
            role,
            title,
            training,
        })
    }

    fn same_person(&self, email: &Email) -> bool {
        same_email(&self.email, email)
    }
}

fn same_email(a: &Email, b: &Email) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}

/// A change to a clinic that the state approves before it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClinicChange {
    Name(String),
    Address(Address),
    /// Adds a staff member, or replaces the entry with the same e-mail.
    Staff(StaffMember),
    /// Removes the staff member with this e-mail.
    RemoveStaff(Email),
}

impl ClinicChange {
    /// What is asked, in a line for the history and the state's review list.
    pub fn summary(&self) -> String {
        match self {
            ClinicChange::Name(n) => format!("Clinic name → {n}"),
            ClinicChange::Address(a) => {
                format!("Address → {}, {}, {} {}", a.street, a.city, a.state, a.zip)
            }
            ClinicChange::Staff(s) => format!(
                "Staff: {} <{}>, {}{}{}",
                s.name,
                s.email,
                s.role.label(),
                s.title
                    .as_deref()
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default(),
                s.training
                    .as_ref()
                    .map(|t| format!(", training {} on {}", t.course, t.completed))
                    .unwrap_or_default()
            ),
            ClinicChange::RemoveStaff(e) => format!("Remove staff member <{e}>"),
        }
    }

    /// Refuses a change that would change nothing or names no one on the staff list.
    pub fn check(&self, clinic: &Clinic) -> Result<()> {
        let mut after = clinic.clone();
        self.apply(&mut after)?;
        if after == *clinic {
            return Err(CoreError::Rule(format!(
                "nothing to change: {} is already on record",
                self.summary()
            )));
        }
        Ok(())
    }

    /// Applies the approved change to the clinic.
    pub fn apply(&self, clinic: &mut Clinic) -> Result<()> {
        match self {
            ClinicChange::Name(n) => clinic.name = name_text("clinic name", n, 120)?,
            ClinicChange::Address(a) => clinic.address = Some(a.clone()),
            ClinicChange::Staff(s) => {
                match clinic.staff.iter_mut().find(|x| x.same_person(&s.email)) {
                    Some(x) => *x = s.clone(),
                    None => clinic.staff.push(s.clone()),
                }
            }
            ClinicChange::RemoveStaff(e) => {
                let before = clinic.staff.len();
                clinic.staff.retain(|x| !x.same_person(e));
                if clinic.staff.len() == before {
                    return Err(CoreError::Rule(format!(
                        "{e} is not on the staff list of clinic {}",
                        clinic.pin
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Contact details a coordinator changes without approval.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactDetails {
    pub phone: Option<Phone>,
    pub fax: Option<Phone>,
    /// Vaccine delivery days and hours, e.g. "Mon–Thu 9:00–15:00".
    pub delivery_hours: Option<String>,
}

impl ContactDetails {
    /// Sets the clinic's contact details; returns what changed ("phone (860) 555-0100 →
    /// (860) 555-0199"), empty when nothing did. Delivery hours are at most 200 characters.
    pub fn apply(&self, clinic: &mut Clinic) -> Result<Vec<String>> {
        let hours = self
            .delivery_hours
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| name_text("delivery hours", h, 200))
            .transpose()?;
        let show = |p: &Option<Phone>| {
            p.as_ref()
                .map(Phone::formatted)
                .unwrap_or_else(|| "none".into())
        };
        let mut changed = Vec::new();
        if clinic.phone != self.phone {
            changed.push(format!(
                "phone {} → {}",
                show(&clinic.phone),
                show(&self.phone)
            ));
            clinic.phone = self.phone.clone();
        }
        if clinic.fax != self.fax {
            changed.push(format!("fax {} → {}", show(&clinic.fax), show(&self.fax)));
            clinic.fax = self.fax.clone();
        }
        if clinic.delivery_hours != hours {
            changed.push(format!(
                "delivery hours {} → {}",
                clinic.delivery_hours.as_deref().unwrap_or("none"),
                hours.as_deref().unwrap_or("none")
            ));
            clinic.delivery_hours = hours;
        }
        Ok(changed)
    }
}

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeStatus {
    Pending,
    Approved,
    Rejected,
}

impl ChangeStatus {
    pub fn key(self) -> &'static str {
        match self {
            ChangeStatus::Pending => "pending",
            ChangeStatus::Approved => "approved",
            ChangeStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Result<ChangeStatus> {
        [
            ChangeStatus::Pending,
            ChangeStatus::Approved,
            ChangeStatus::Rejected,
        ]
        .into_iter()
        .find(|c| c.key() == s)
        .ok_or_else(|| CoreError::Unknown {
            field: "change request status",
            value: s.into(),
            valid: "pending, approved, rejected".into(),
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            ChangeStatus::Pending => "Pending",
            ChangeStatus::Approved => "Approved",
            ChangeStatus::Rejected => "Rejected",
        }
    }
}

/// A stored change request and its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub id: i64,
    pub clinic: ClinicPin,
    pub change: ClinicChange,
    /// The requester's actor label (username) and account id, for the history and the
    /// decision's notification.
    pub requested_by: String,
    pub requester: Option<crate::ids::UserId>,
    pub requested_at: NaiveDateTime,
    pub status: ChangeStatus,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
}

/// A rejection needs a reason the coordinator can act on (at most 500 characters).
pub fn rejection_reason(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(CoreError::Rule(
            "give the reason for the rejection; the coordinator reads it".into(),
        ));
    }
    name_text("rejection reason", r, 500)
}

/// An account request for a CVP clinic is accepted only when the requester's e-mail is on
/// that clinic's staff list (the coordinators add staff in Clinic Tools first); private
/// clinics keep no such list.
pub fn may_request_access(clinic: &Clinic, email: &Email) -> Result<()> {
    if clinic.program.is_public() && !clinic.staff.iter().any(|s| s.same_person(email)) {
        return Err(CoreError::Rule(format!(
            "{email} is not on the staff list of {} ({}). Ask your clinic's vaccine coordinator to add you under Clinic Tools, then request access again.",
            clinic.name, clinic.pin
        )));
    }
    Ok(())
}

/// What a school nurse confirms when requesting access (shown on the form, checked here).
pub const NURSE_ATTESTATION: &str =
    "I attest that I am the registered nurse of the school(s) named above.";

/// The access a request names beyond clinics must be a health department (with its
/// jurisdiction) or a DPH access type; school nurse access needs the attestation; a
/// request names at least one access.
pub fn check_requested_access(
    clinic_roles: &[crate::access::Role],
    other: Option<&crate::access::Grant>,
    nurse_attested: bool,
) -> Result<()> {
    use crate::access::{Role, ScopeKind};
    if clinic_roles.is_empty() && other.is_none() {
        return Err(CoreError::Rule(
            "name at least one clinic PIN, or a health department or DPH access type".into(),
        ));
    }
    if let Some(g) = other {
        if g.role.scope_kind() == ScopeKind::Clinic {
            return Err(CoreError::Rule(format!(
                "{} is requested per clinic: give the clinic PIN",
                g.role.label()
            )));
        }
    }
    if clinic_roles.contains(&Role::SchoolNurseReadOnly) && !nurse_attested {
        return Err(CoreError::Rule(format!(
            "school nurse access needs your confirmation: \"{NURSE_ATTESTATION}\""
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Zip;
    use crate::org::{County, ProgramType};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn requested_access_beyond_clinics() {
        use crate::access::{Grant, Role, Scope};
        let hd = Grant::new(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(crate::place::Jurisdiction::County(County::Hartford)),
        )
        .unwrap();
        assert!(check_requested_access(&[], Some(&hd), false).is_ok());
        assert!(check_requested_access(&[], None, false).is_err());
        let nurse = [Role::SchoolNurseReadOnly];
        assert!(check_requested_access(&nurse, None, false)
            .unwrap_err()
            .to_string()
            .contains("registered nurse"));
        assert!(check_requested_access(&nurse, None, true).is_ok());
        assert!(check_requested_access(&[Role::ClinicAccess], None, false).is_ok());
    }

    fn clinic() -> Clinic {
        Clinic::new(
            ClinicPin::new("C1").unwrap(),
            "Old Name",
            County::Hartford,
            ProgramType::Cvp,
        )
        .unwrap()
    }

    fn nurse(email: &str) -> StaffMember {
        StaffMember::new(
            "Pat Nurse",
            Email::new(email).unwrap(),
            Role::ClinicAccess,
            Some("RN"),
            Some(("CVP annual training", day(2025, 3, 1))),
            day(2025, 6, 1),
        )
        .unwrap()
    }

    #[test]
    fn staff_changes_add_replace_and_remove_by_email() {
        let mut c = clinic();
        ClinicChange::Staff(nurse("pat@example.org"))
            .apply(&mut c)
            .unwrap();
        let mut renamed = nurse("PAT@example.org");
        renamed.title = Some("Charge nurse".into());
        ClinicChange::Staff(renamed).apply(&mut c).unwrap();
        assert_eq!(c.staff.len(), 1);
        assert_eq!(c.staff[0].title.as_deref(), Some("Charge nurse"));
        let gone = ClinicChange::RemoveStaff(Email::new("nobody@example.org").unwrap());
        assert!(gone.apply(&mut c.clone()).is_err());
        ClinicChange::RemoveStaff(Email::new("pat@example.org").unwrap())
            .apply(&mut c)
            .unwrap();
        assert!(c.staff.is_empty());
    }

    #[test]
    fn a_change_that_changes_nothing_is_refused() {
        let c = clinic();
        let e = ClinicChange::Name("Old Name".into()).check(&c).unwrap_err();
        assert!(e.to_string().contains("nothing to change"), "{e}");
        ClinicChange::Name("New Name".into()).check(&c).unwrap();
        let a = Address::new("1 Main St", "Hartford", "CT", Zip::new("06101").unwrap()).unwrap();
        ClinicChange::Address(a).check(&c).unwrap();
    }

    #[test]
    fn staff_entries_are_validated() {
        let future = StaffMember::new(
            "Pat",
            Email::new("p@example.org").unwrap(),
            Role::ClinicAccess,
            None,
            Some(("Course", day(2030, 1, 1))),
            day(2025, 1, 1),
        );
        assert!(future.unwrap_err().to_string().contains("future"));
        let state = StaffMember::new(
            "Pat",
            Email::new("p@example.org").unwrap(),
            Role::StateAdmin,
            None,
            None,
            day(2025, 1, 1),
        );
        assert!(state.is_err());
    }

    #[test]
    fn contact_details_report_what_changed() {
        let mut c = clinic();
        let d = ContactDetails {
            phone: Some(Phone::new("8605550100").unwrap()),
            fax: None,
            delivery_hours: Some(" Mon–Thu 9–15 ".into()),
        };
        let changed = d.apply(&mut c).unwrap();
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert_eq!(c.delivery_hours.as_deref(), Some("Mon–Thu 9–15"));
        assert!(d.apply(&mut c).unwrap().is_empty());
    }

    #[test]
    fn cvp_access_needs_the_staff_list() {
        let mut c = clinic();
        let pat = Email::new("pat@example.org").unwrap();
        let e = may_request_access(&c, &pat).unwrap_err().to_string();
        assert!(
            e.contains("not on the staff list") && e.contains("C1"),
            "{e}"
        );
        ClinicChange::Staff(nurse("Pat@Example.org"))
            .apply(&mut c)
            .unwrap();
        may_request_access(&c, &pat).unwrap();
        let mut private = clinic();
        private.program = ProgramType::PrivateOnly;
        may_request_access(&private, &pat).unwrap();
    }

    #[test]
    fn rejections_need_a_reason() {
        assert!(rejection_reason("  ").is_err());
        assert_eq!(rejection_reason(" wrong PIN ").unwrap(), "wrong PIN");
    }
}
