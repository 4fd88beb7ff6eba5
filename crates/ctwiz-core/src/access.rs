//! Users, the ten CT WiZ-style access types (the state's "DPH, dependent on role" split into
//! three sub-roles), and the permission matrix that decides what each may do where. The web app and CLI ask [`can`] and never re-implement it.

use crate::error::{CoreError, Result};
use crate::ids::{name_text, ClinicPin, Email, UserId, Username};
pub use crate::place::{Jurisdiction, Location};
use serde::{Deserialize, Serialize};

/// The access types a user can hold (per clinic, jurisdiction or statewide): CT WiZ's ten,
/// with its "DPH, dependent on role" type held as one of three state sub-roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    PrimaryVaccineCoordinator,
    BackupVaccineCoordinator,
    /// Main contact for a private-only (non-CVP) clinic's inventory.
    PrivateInventoryMainContact,
    ClinicAccess,
    /// Sees only the DQA – Interface Activity report and tasks (EHR interface staff).
    ClinicAccessDqaInterface,
    /// Chief Medical Officer / physician who signs the clinic's program agreement.
    PhysicianSigning,
    /// MD/DO/PA/APRN who may look patients up, nothing more.
    PatientLookUpOnly,
    /// Read-only patient access plus student rosters.
    SchoolNurseReadOnly,
    /// Health department/director: read-only, limited to their jurisdiction.
    HealthDepartmentReadOnly,
    /// DPH state staff who run vaccine supply: approve public orders, allocations and
    /// oversee every clinic's inventory; no patient records.
    DphVaccineManagement,
    /// DPH state staff who search records and run reports statewide, and change nothing.
    DphReadOnly,
    /// DPH Administrator: accounts, approvals, merges and everything else the state does.
    StateAdmin,
    /// Immunization Action Plan coordinator: works the outreach referrals of one IAP area
    /// and runs reminder/recall across its practices; reads records of the area's
    /// residents only.
    IapCoordinator,
}

impl Role {
    /// Every role; the DPH Administrator last (tests walk them in this order).
    pub const ALL: [Role; 13] = [
        Role::PrimaryVaccineCoordinator,
        Role::BackupVaccineCoordinator,
        Role::PrivateInventoryMainContact,
        Role::ClinicAccess,
        Role::ClinicAccessDqaInterface,
        Role::PhysicianSigning,
        Role::PatientLookUpOnly,
        Role::SchoolNurseReadOnly,
        Role::HealthDepartmentReadOnly,
        Role::DphVaccineManagement,
        Role::DphReadOnly,
        Role::IapCoordinator,
        Role::StateAdmin,
    ];

    /// Stable identifier used in the CLI, database and forms.
    pub fn key(self) -> &'static str {
        match self {
            Role::PrimaryVaccineCoordinator => "primary-coordinator",
            Role::BackupVaccineCoordinator => "backup-coordinator",
            Role::PrivateInventoryMainContact => "private-inventory-contact",
            Role::ClinicAccess => "clinic-access",
            Role::ClinicAccessDqaInterface => "clinic-dqa-interface",
            Role::PhysicianSigning => "physician-signing",
            Role::PatientLookUpOnly => "patient-lookup",
            Role::SchoolNurseReadOnly => "school-nurse",
            Role::HealthDepartmentReadOnly => "health-department",
            Role::DphVaccineManagement => "dph-vaccine-management",
            Role::DphReadOnly => "dph-read-only",
            // "state" is the stored key of the administrator since before the split.
            Role::StateAdmin => "state",
            Role::IapCoordinator => "iap-coordinator",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::PrimaryVaccineCoordinator => "Primary Vaccine Coordinator",
            Role::BackupVaccineCoordinator => "Backup Vaccine Coordinator",
            Role::PrivateInventoryMainContact => "Private Inventory Main Contact (non-CVP)",
            Role::ClinicAccess => "Clinic Access",
            Role::ClinicAccessDqaInterface => "Clinic Access – DQA Interface",
            Role::PhysicianSigning => "Chief Medical Officer / Physician Signing",
            Role::PatientLookUpOnly => "Patient Look-Up Only (MD/DO/PA/APRN)",
            Role::SchoolNurseReadOnly => "School Nurse Read-Only",
            Role::HealthDepartmentReadOnly => "Health Department/Director Read-Only",
            Role::DphVaccineManagement => "DPH Vaccine Management",
            Role::DphReadOnly => "DPH Read-Only",
            Role::StateAdmin => "DPH Administrator",
            Role::IapCoordinator => "IAP Coordinator",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        let t = s.trim().to_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.key() == t || r.label().to_lowercase() == t)
            .ok_or_else(|| CoreError::Unknown {
                field: "role",
                value: s.into(),
                valid: Role::ALL.map(|r| r.key()).join(", "),
            })
    }

    /// Where a grant of this role applies.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::HealthDepartmentReadOnly | Role::IapCoordinator => ScopeKind::Jurisdiction,
            Role::DphVaccineManagement | Role::DphReadOnly | Role::StateAdmin => ScopeKind::State,
            _ => ScopeKind::Clinic,
        }
    }

    /// The actions this role allows within its scope: the permission matrix, as data.
    pub fn allowed(self) -> &'static [Action] {
        use Action::*;
        const COORDINATOR: &[Action] = &[
            PatientSearch,
            PatientView,
            PatientEdit,
            DoseRecord,
            CertificatePrint,
            InventoryView,
            InventoryEdit,
            OrderCreate,
            ClinicToolsView,
            ClinicToolsEdit,
            ReportCoverage,
            ReportReminderRecall,
            RecallNoticeRecord,
            ReportDqa,
            TaskView,
            InterfaceSubmit,
            InterfaceQuery,
            ReferralCreate,
        ];
        const PRIVATE_CONTACT: &[Action] = &[
            PatientSearch,
            PatientView,
            PatientEdit,
            DoseRecord,
            CertificatePrint,
            InventoryView,
            InventoryEdit,
            ClinicToolsView,
            ClinicToolsEdit,
            ReportCoverage,
            ReportReminderRecall,
            RecallNoticeRecord,
            ReportDqa,
            TaskView,
            InterfaceSubmit,
            InterfaceQuery,
            ReferralCreate,
        ];
        const CLINIC_ACCESS: &[Action] = &[
            PatientSearch,
            PatientView,
            PatientEdit,
            DoseRecord,
            CertificatePrint,
            InventoryView,
            ReportCoverage,
            ReportReminderRecall,
            RecallNoticeRecord,
            ReportDqa,
            TaskView,
            InterfaceSubmit,
            InterfaceQuery,
            ReferralCreate,
        ];
        // EHR interface staff send their clinic's VXUs and read the DQA report; they
        // may not read records back (no QBP), as they may not open a patient page.
        const DQA_INTERFACE: &[Action] = &[ReportDqa, TaskView, InterfaceSubmit];
        const PHYSICIAN: &[Action] = &[ClinicToolsView, ClinicToolsEdit, ClinicAgreementSign];
        // Look-up users read their clinic's patient-level list (reminder/recall) but
        // record no notices.
        const LOOK_UP: &[Action] = &[
            PatientSearch,
            PatientView,
            CertificatePrint,
            ReportReminderRecall,
        ];
        // No search: a nurse names a student exactly to add her to the roster, and sees
        // only rostered students' records (`sees_only_rostered`).
        const SCHOOL_NURSE: &[Action] = &[
            PatientView,
            CertificatePrint,
            ReportRosterStatus,
            RosterView,
            RosterEdit,
        ];
        const HEALTH_DEPT: &[Action] = &[
            PatientSearch,
            PatientView,
            CertificatePrint,
            InventoryView,
            ReportCoverage,
            ReportReminderRecall,
            ReportDqa,
        ];
        // Supply, not records: the state's vaccine team sees no patient.
        const DPH_VACCINE: &[Action] = &[
            InventoryView,
            InventoryEdit,
            OrderApprove,
            ClinicToolsView,
            ReportCoverage,
            ReportDqa,
            TaskView,
        ];
        const DPH_READ_ONLY: &[Action] = &[
            PatientSearch,
            PatientView,
            CertificatePrint,
            InventoryView,
            ClinicToolsView,
            ReportCoverage,
            ReportReminderRecall,
            ReportDqa,
        ];
        // Outreach in one IAP area: the area's residents' records, its coverage and
        // reminder/recall across its practices, and the referrals sent to it.
        const IAP: &[Action] = &[
            PatientSearch,
            PatientView,
            CertificatePrint,
            ReportCoverage,
            ReportReminderRecall,
            RecallNoticeRecord,
            TaskView,
            ReferralWork,
        ];
        match self {
            Role::PrimaryVaccineCoordinator | Role::BackupVaccineCoordinator => COORDINATOR,
            Role::IapCoordinator => IAP,
            Role::PrivateInventoryMainContact => PRIVATE_CONTACT,
            Role::ClinicAccess => CLINIC_ACCESS,
            Role::ClinicAccessDqaInterface => DQA_INTERFACE,
            Role::PhysicianSigning => PHYSICIAN,
            Role::PatientLookUpOnly => LOOK_UP,
            Role::SchoolNurseReadOnly => SCHOOL_NURSE,
            Role::HealthDepartmentReadOnly => HEALTH_DEPT,
            Role::DphVaccineManagement => DPH_VACCINE,
            Role::DphReadOnly => DPH_READ_ONLY,
            Role::StateAdmin => Action::ALL,
        }
    }

    /// Whether the role's patient access covers only the students on the roster of the
    /// school it is held at (school nurses), instead of the consolidated record.
    pub fn sees_only_rostered(self) -> bool {
        self == Role::SchoolNurseReadOnly
    }

    pub fn allows(self, action: Action) -> bool {
        self.allowed().contains(&action)
    }

    /// Navigation modules the role sees (any module with at least one allowed action).
    pub fn modules(self) -> Vec<Module> {
        Module::ALL
            .into_iter()
            .filter(|m| self.allowed().iter().any(|a| a.module() == Some(*m)))
            .collect()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The application's modules, as they appear in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Module {
    PatientManagement,
    InventoryManagement,
    ClinicTools,
    Reports,
    Tasks,
    Administration,
}

impl Module {
    pub const ALL: [Module; 6] = [
        Module::PatientManagement,
        Module::InventoryManagement,
        Module::ClinicTools,
        Module::Reports,
        Module::Tasks,
        Module::Administration,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Module::PatientManagement => "Patient Management",
            Module::InventoryManagement => "Inventory Management",
            Module::ClinicTools => "Clinic Tools",
            Module::Reports => "Reports",
            Module::Tasks => "Tasks",
            Module::Administration => "Administration",
        }
    }
}

/// Everything a user can try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Action {
    PatientSearch,
    PatientView,
    /// Add or edit demographics, opt-out, status.
    PatientEdit,
    /// Add, edit or delete doses, refusals, immunity, contraindications.
    DoseRecord,
    /// Review the possible-duplicates queue: merge two records of one person, or mark a
    /// pair as different people.
    ///
    /// Only DPH state users hold it. A merge rewrites the consolidated statewide record
    /// that every clinic sees (doses and MRNs from other providers move, one record is
    /// retired), and the queue pairs records reported by different clinics, so no clinic
    /// role, not even a coordinator with edit rights, is allowed to decide it; clinics
    /// report suspected duplicates to the state instead, as in other state IISs.
    PatientMerge,
    CertificatePrint,
    InventoryView,
    /// Receive, transfer, return, waste, adjust, reconcile.
    InventoryEdit,
    OrderCreate,
    OrderApprove,
    ClinicToolsView,
    ClinicToolsEdit,
    ClinicAgreementSign,
    /// Approve or reject clinics' change requests (name, address, staff). DPH state only.
    ChangeRequestReview,
    ReportCoverage,
    ReportReminderRecall,
    /// Record that reminder/recall notices were sent (a write: only roles that send them).
    RecallNoticeRecord,
    ReportDqa,
    /// The school nurse's report: which rostered students are not up to date, and what
    /// each is missing.
    ReportRosterStatus,
    TaskView,
    RosterView,
    RosterEdit,
    AccountApprove,
    UserManage,
    ClinicManage,
    /// Send VXU (immunization updates) for a clinic over an HL7 interface.
    InterfaceSubmit,
    /// Query records (QBP Z34/Z44) for a clinic over an HL7 interface: a PHI read.
    InterfaceQuery,
    /// Read the audit log: who saw or changed which record (HIPAA accounting of
    /// disclosures). Only DPH state users hold it; the log names users and records of
    /// every clinic.
    AuditView,
    /// Refer a child who is behind to the IAP area of their town (practices).
    ReferralCreate,
    /// Work IAP referrals: record attempts to reach the family and the outcome.
    ReferralWork,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::PatientSearch,
        Action::PatientView,
        Action::PatientEdit,
        Action::DoseRecord,
        Action::PatientMerge,
        Action::CertificatePrint,
        Action::InventoryView,
        Action::InventoryEdit,
        Action::OrderCreate,
        Action::OrderApprove,
        Action::ClinicToolsView,
        Action::ClinicToolsEdit,
        Action::ClinicAgreementSign,
        Action::ChangeRequestReview,
        Action::ReportCoverage,
        Action::ReportReminderRecall,
        Action::RecallNoticeRecord,
        Action::ReportDqa,
        Action::ReportRosterStatus,
        Action::TaskView,
        Action::RosterView,
        Action::RosterEdit,
        Action::AccountApprove,
        Action::UserManage,
        Action::ClinicManage,
        Action::InterfaceSubmit,
        Action::InterfaceQuery,
        Action::AuditView,
        Action::ReferralCreate,
        Action::ReferralWork,
    ];

    /// The navigation module the action belongs to; interface actions have none (they
    /// are used by EHR systems, not through pages).
    pub fn module(self) -> Option<Module> {
        use Action::*;
        Some(match self {
            PatientSearch | PatientView | PatientEdit | DoseRecord | PatientMerge
            | CertificatePrint | RosterView | RosterEdit | ReferralCreate | ReferralWork => {
                Module::PatientManagement
            }
            InventoryView | InventoryEdit | OrderCreate | OrderApprove => {
                Module::InventoryManagement
            }
            ClinicToolsView | ClinicToolsEdit | ClinicAgreementSign => Module::ClinicTools,
            ReportCoverage | ReportReminderRecall | RecallNoticeRecord | ReportDqa
            | ReportRosterStatus => Module::Reports,
            TaskView => Module::Tasks,
            AccountApprove | UserManage | ClinicManage | AuditView | ChangeRequestReview => {
                Module::Administration
            }
            InterfaceSubmit | InterfaceQuery => return None,
        })
    }

    /// A short phrase for refusals ("may not {label}").
    pub fn label(self) -> &'static str {
        use Action::*;
        match self {
            PatientSearch => "search patients",
            PatientView => "view patient records",
            PatientEdit => "edit patient records",
            DoseRecord => "record or change doses",
            PatientMerge => "merge patient records",
            CertificatePrint => "print certificates",
            InventoryView => "view inventory",
            InventoryEdit => "change inventory",
            OrderCreate => "order public vaccine",
            OrderApprove => "approve vaccine orders",
            ClinicToolsView => "view clinic tools",
            ClinicToolsEdit => "edit clinic information",
            ClinicAgreementSign => "sign the clinic agreement",
            ChangeRequestReview => "review clinic change requests",
            ReportCoverage => "run coverage reports",
            ReportReminderRecall => "run reminder/recall reports",
            RecallNoticeRecord => "record recall notices",
            ReportDqa => "run the DQA report",
            ReportRosterStatus => "run the student roster report",
            TaskView => "view tasks",
            RosterView => "view student rosters",
            RosterEdit => "edit student rosters",
            AccountApprove => "approve account requests",
            UserManage => "manage users",
            ClinicManage => "manage clinics",
            InterfaceSubmit => "submit immunization messages",
            InterfaceQuery => "query records over the HL7 interface",
            AuditView => "read the audit log",
            ReferralCreate => "refer children to IAP outreach",
            ReferralWork => "work IAP referrals",
        }
    }

    /// Whether the action changes data (read-only roles never get these).
    pub fn writes(self) -> bool {
        use Action::*;
        matches!(
            self,
            PatientEdit
                | ReferralCreate
                | ReferralWork
                | DoseRecord
                | PatientMerge
                | InventoryEdit
                | OrderCreate
                | OrderApprove
                | ClinicToolsEdit
                | ClinicAgreementSign
                | ChangeRequestReview
                | RecallNoticeRecord
                | RosterEdit
                | AccountApprove
                | UserManage
                | ClinicManage
                | InterfaceSubmit
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScopeKind {
    Clinic,
    Jurisdiction,
    State,
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Clinic(ClinicPin),
    Jurisdiction(Jurisdiction),
    State,
}

impl Scope {
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Clinic(_) => ScopeKind::Clinic,
            Scope::Jurisdiction(_) => ScopeKind::Jurisdiction,
            Scope::State => ScopeKind::State,
        }
    }
}

/// One role held at one scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// Checks that the role fits the scope (e.g. a health department role needs a jurisdiction).
    pub fn new(role: Role, scope: Scope) -> Result<Grant> {
        if role.scope_kind() != scope.kind() {
            return Err(CoreError::Rule(format!(
                "role {} applies to a {:?}, not a {:?}",
                role.key(),
                role.scope_kind(),
                scope.kind()
            )));
        }
        // An IAP coordinator works an IAP area; a health department a county or district.
        if let Scope::Jurisdiction(j) = &scope {
            let iap = matches!(j, Jurisdiction::IapArea(_));
            if iap != (role == Role::IapCoordinator) {
                return Err(CoreError::Rule(format!(
                    "role {} cannot be granted for {j}: {}",
                    role.key(),
                    if iap {
                        "an IAP area is for IAP coordinators"
                    } else {
                        "an IAP coordinator is granted an IAP area"
                    }
                )));
            }
        }
        Ok(Grant { role, scope })
    }
}

/// Account lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountStatus {
    Active,
    /// Too many failed sign-ins; a state user must unlock.
    Locked,
    Disabled,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Option<UserId>,
    pub username: Username,
    pub full_name: String,
    pub email: Email,
    pub grants: Vec<Grant>,
    pub status: AccountStatus,
}

impl User {
    pub fn new(username: Username, full_name: &str, email: Email) -> Result<User> {
        Ok(User {
            id: None,
            username,
            full_name: name_text("full name", full_name, 120)?,
            email,
            grants: Vec::new(),
            status: AccountStatus::Active,
        })
    }

    /// Adds a grant, replacing any earlier role at the same scope (one role per clinic).
    pub fn grant(&mut self, g: Grant) {
        self.grants.retain(|x| x.scope != g.scope);
        self.grants.push(g);
    }

    /// Clinics the user can act for, in grant order (the post-sign-in dropdown).
    pub fn clinics(&self) -> Vec<&ClinicPin> {
        self.grants
            .iter()
            .filter_map(|g| match &g.scope {
                Scope::Clinic(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    pub fn is_state(&self) -> bool {
        self.grants.iter().any(|g| g.scope == Scope::State)
    }

    /// The role the user holds at a clinic, if any.
    pub fn role_at(&self, pin: &ClinicPin) -> Option<Role> {
        self.grants
            .iter()
            .find(|g| matches!(&g.scope, Scope::Clinic(p) if p == pin))
            .map(|g| g.role)
    }
}

/// What an action is about: a clinic's data, a jurisdiction's, or the state's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Acting for a clinic (its inventory, its reports, its patients' records).
    Clinic {
        pin: &'a ClinicPin,
        at: Location<'a>,
    },
    /// Data aggregated over a jurisdiction (jurisdiction reports).
    Jurisdiction(&'a Jurisdiction),
    /// Statewide data or administration.
    State,
}

/// The permission check: may `user` do `action` on `target`?
///
/// A grant covers a target when its scope contains it: a clinic grant covers only that
/// clinic; a jurisdiction grant covers itself and every clinic in its towns; a state grant
/// covers everything. Locked or disabled users may do nothing.
pub fn can(user: &User, target: Target<'_>, action: Action) -> bool {
    if user.status != AccountStatus::Active {
        return false;
    }
    user.grants
        .iter()
        .any(|g| g.role.allows(action) && covers(&g.scope, target))
}

fn covers(scope: &Scope, target: Target<'_>) -> bool {
    match (scope, target) {
        (Scope::State, _) => true,
        (Scope::Jurisdiction(j), Target::Clinic { at, .. }) => j.contains(at),
        (Scope::Jurisdiction(j), Target::Jurisdiction(t)) => j == t,
        (Scope::Clinic(p), Target::Clinic { pin, .. }) => p == pin,
        _ => false,
    }
}

/// What the permission check needs to know about a patient record.
#[derive(Debug, Clone, Copy)]
pub struct PatientScope<'a> {
    /// Where the patient lives (health-department jurisdiction).
    pub at: Location<'a>,
    /// Clinics that have reported for or hold an MRN for the patient.
    pub clinics: &'a [ClinicPin],
    pub confidential: bool,
    /// Schools whose student roster lists the patient.
    pub rostered: &'a [ClinicPin],
}

/// May `user`, acting for `acting` (a clinic, or none for jurisdiction/state users),
/// do `action` on this patient's record?
///
/// Clinic users see the consolidated statewide record (the point of an IIS), except
/// records marked confidential, which only the clinics that reported them see.
/// Health-department users see only patients residing in their jurisdiction; school
/// nurses only the students on their school's roster.
pub fn can_on_patient(
    user: &User,
    acting: Option<Target<'_>>,
    patient: PatientScope<'_>,
    action: Action,
) -> bool {
    if user.status != AccountStatus::Active {
        return false;
    }
    user.grants.iter().any(|g| {
        if !g.role.allows(action) {
            return false;
        }
        match &g.scope {
            Scope::State => true,
            Scope::Jurisdiction(j) => j.contains(patient.at),
            Scope::Clinic(p) => {
                let acting_here = matches!(acting, Some(Target::Clinic { pin, .. }) if pin == p);
                acting_here
                    && (!patient.confidential || patient.clinics.contains(p))
                    && (!g.role.sees_only_rostered() || patient.rostered.contains(p))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::County;

    fn pin(s: &str) -> ClinicPin {
        ClinicPin::new(s).unwrap()
    }

    fn user_with(role: Role, scope: Scope) -> User {
        let mut u = User::new(
            Username::new("tester").unwrap(),
            "Test User",
            Email::new("t@example.org").unwrap(),
        )
        .unwrap();
        u.grant(Grant::new(role, scope).unwrap());
        u
    }

    fn clinic_user(role: Role) -> User {
        user_with(role, Scope::Clinic(pin("C1")))
    }

    const HERE: County = County::Hartford;

    fn at_c1(p: &ClinicPin) -> Target<'_> {
        Target::Clinic {
            pin: p,
            at: crate::place::Location::in_county(HERE),
        }
    }

    /// The expected matrix, written out per role so a change to the data is a visible diff.
    #[test]
    fn each_role_allows_exactly_its_actions() {
        use Action::*;
        let c1 = pin("C1");
        let cases: Vec<(Role, Vec<Action>)> = vec![
            (
                Role::PrimaryVaccineCoordinator,
                vec![
                    PatientSearch,
                    PatientView,
                    PatientEdit,
                    DoseRecord,
                    CertificatePrint,
                    InventoryView,
                    InventoryEdit,
                    OrderCreate,
                    ClinicToolsView,
                    ClinicToolsEdit,
                    ReportCoverage,
                    ReportReminderRecall,
                    RecallNoticeRecord,
                    ReportDqa,
                    TaskView,
                    InterfaceSubmit,
                    InterfaceQuery,
                    ReferralCreate,
                ],
            ),
            (
                Role::BackupVaccineCoordinator,
                vec![
                    PatientSearch,
                    PatientView,
                    PatientEdit,
                    DoseRecord,
                    CertificatePrint,
                    InventoryView,
                    InventoryEdit,
                    OrderCreate,
                    ClinicToolsView,
                    ClinicToolsEdit,
                    ReportCoverage,
                    ReportReminderRecall,
                    RecallNoticeRecord,
                    ReportDqa,
                    TaskView,
                    InterfaceSubmit,
                    InterfaceQuery,
                    ReferralCreate,
                ],
            ),
            (
                Role::PrivateInventoryMainContact,
                vec![
                    PatientSearch,
                    PatientView,
                    PatientEdit,
                    DoseRecord,
                    CertificatePrint,
                    InventoryView,
                    InventoryEdit,
                    ClinicToolsView,
                    ClinicToolsEdit,
                    ReportCoverage,
                    ReportReminderRecall,
                    RecallNoticeRecord,
                    ReportDqa,
                    TaskView,
                    InterfaceSubmit,
                    InterfaceQuery,
                    ReferralCreate,
                ],
            ),
            (
                Role::ClinicAccess,
                vec![
                    PatientSearch,
                    PatientView,
                    PatientEdit,
                    DoseRecord,
                    CertificatePrint,
                    InventoryView,
                    ReportCoverage,
                    ReportReminderRecall,
                    RecallNoticeRecord,
                    ReportDqa,
                    TaskView,
                    InterfaceSubmit,
                    InterfaceQuery,
                    ReferralCreate,
                ],
            ),
            (
                Role::ClinicAccessDqaInterface,
                vec![ReportDqa, TaskView, InterfaceSubmit],
            ),
            (
                Role::PhysicianSigning,
                vec![ClinicToolsView, ClinicToolsEdit, ClinicAgreementSign],
            ),
            (
                Role::PatientLookUpOnly,
                vec![
                    PatientSearch,
                    PatientView,
                    CertificatePrint,
                    ReportReminderRecall,
                ],
            ),
            (
                Role::SchoolNurseReadOnly,
                vec![
                    PatientView,
                    CertificatePrint,
                    ReportRosterStatus,
                    RosterView,
                    RosterEdit,
                ],
            ),
        ];
        for (role, allowed) in cases {
            let u = clinic_user(role);
            for &a in Action::ALL {
                assert_eq!(
                    can(&u, at_c1(&c1), a),
                    allowed.contains(&a),
                    "{role:?} {a:?}"
                );
            }
        }
        let hd = user_with(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(crate::place::Jurisdiction::County(HERE)),
        );
        for &a in Action::ALL {
            let expect = [
                PatientSearch,
                PatientView,
                CertificatePrint,
                InventoryView,
                ReportCoverage,
                ReportReminderRecall,
                ReportDqa,
            ]
            .contains(&a);
            assert_eq!(can(&hd, at_c1(&c1), a), expect, "HD {a:?}");
            assert!(
                !(can(&hd, at_c1(&c1), a) && a.writes()),
                "HD must be read-only"
            );
        }
        let st = user_with(Role::StateAdmin, Scope::State);
        assert!(Action::ALL.iter().all(|&a| can(&st, Target::State, a)));
        let vm = user_with(Role::DphVaccineManagement, Scope::State);
        let ro = user_with(Role::DphReadOnly, Scope::State);
        for &a in Action::ALL {
            let vaccine = [
                InventoryView,
                InventoryEdit,
                OrderApprove,
                ClinicToolsView,
                ReportCoverage,
                ReportDqa,
                TaskView,
            ];
            let read = [
                PatientSearch,
                PatientView,
                CertificatePrint,
                InventoryView,
                ClinicToolsView,
                ReportCoverage,
                ReportReminderRecall,
                ReportDqa,
            ];
            assert_eq!(can(&vm, Target::State, a), vaccine.contains(&a), "VM {a:?}");
            assert_eq!(can(&ro, Target::State, a), read.contains(&a), "RO {a:?}");
            assert!(
                !(can(&ro, at_c1(&c1), a) && a.writes()),
                "DPH read-only writes"
            );
        }
    }

    /// The DPH sub-roles split the administrator's work: only the administrator decides
    /// accounts, clinic changes and merges; only supply staff approve orders besides it;
    /// the vaccine team never opens a patient record.
    #[test]
    fn dph_sub_roles_split_the_state_work() {
        for a in [
            Action::AccountApprove,
            Action::UserManage,
            Action::PatientMerge,
            Action::ChangeRequestReview,
            Action::AuditView,
        ] {
            assert!(Role::StateAdmin.allows(a));
            assert!(!Role::DphVaccineManagement.allows(a), "{a:?}");
            assert!(!Role::DphReadOnly.allows(a), "{a:?}");
        }
        assert!(Role::DphVaccineManagement.allows(Action::OrderApprove));
        assert!(!Role::DphReadOnly.allows(Action::OrderApprove));
        assert!(!Role::DphVaccineManagement.allows(Action::PatientView));
        for r in [
            Role::DphVaccineManagement,
            Role::DphReadOnly,
            Role::StateAdmin,
        ] {
            assert_eq!(r.scope_kind(), ScopeKind::State);
            assert_eq!(Role::parse(r.key()).unwrap(), r);
        }
    }

    #[test]
    fn only_state_users_merge_patients() {
        let c1 = pin("C1");
        for role in Role::ALL {
            let expect = role == Role::StateAdmin;
            assert_eq!(role.allows(Action::PatientMerge), expect, "{role:?}");
        }
        let coordinator = clinic_user(Role::PrimaryVaccineCoordinator);
        assert!(!can(&coordinator, at_c1(&c1), Action::PatientMerge));
        assert!(Action::PatientMerge.writes());
    }

    #[test]
    fn only_state_users_read_the_audit_log() {
        let c1 = pin("C1");
        for role in Role::ALL {
            assert_eq!(
                role.allows(Action::AuditView),
                role == Role::StateAdmin,
                "{role:?}"
            );
        }
        let hd = user_with(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(crate::place::Jurisdiction::County(HERE)),
        );
        assert!(!can(&hd, at_c1(&c1), Action::AuditView));
        assert!(!Action::AuditView.writes());
        let st = user_with(Role::StateAdmin, Scope::State);
        assert!(can(&st, Target::State, Action::AuditView));
    }

    #[test]
    fn read_only_roles_never_write() {
        for role in [
            Role::PatientLookUpOnly,
            Role::HealthDepartmentReadOnly,
            Role::DphReadOnly,
        ] {
            assert!(role.allowed().iter().all(|a| !a.writes()), "{role:?}");
        }
        // The school nurse's only writes are to her own student roster.
        assert!(Role::SchoolNurseReadOnly
            .allowed()
            .iter()
            .all(|a| !a.writes() || *a == Action::RosterEdit));
    }

    /// The recall report is readable by health departments, but recording that notices
    /// were sent is a write for the roles that send them.
    #[test]
    fn only_roles_that_send_notices_record_them() {
        let senders = [
            Role::PrimaryVaccineCoordinator,
            Role::BackupVaccineCoordinator,
            Role::PrivateInventoryMainContact,
            Role::ClinicAccess,
            Role::IapCoordinator,
            Role::StateAdmin,
        ];
        for role in Role::ALL {
            assert_eq!(
                role.allows(Action::RecallNoticeRecord),
                senders.contains(&role),
                "{role:?}"
            );
        }
        assert!(Action::RecallNoticeRecord.writes());
        assert!(Role::HealthDepartmentReadOnly.allows(Action::ReportReminderRecall));
        let hd = user_with(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(crate::place::Jurisdiction::County(HERE)),
        );
        assert!(!can(
            &hd,
            Target::Jurisdiction(&crate::place::Jurisdiction::County(HERE)),
            Action::RecallNoticeRecord
        ));
    }

    #[test]
    fn clinic_grants_do_not_leak_to_other_clinics() {
        let u = clinic_user(Role::PrimaryVaccineCoordinator);
        let c2 = pin("C2");
        assert!(!can(
            &u,
            Target::Clinic {
                pin: &c2,
                at: crate::place::Location::in_county(HERE)
            },
            Action::InventoryView
        ));
        assert!(!can(
            &u,
            Target::Jurisdiction(&crate::place::Jurisdiction::County(HERE)),
            Action::ReportCoverage
        ));
        assert!(!can(&u, Target::State, Action::OrderApprove));
    }

    #[test]
    fn health_department_is_scoped_to_its_county() {
        let hd = user_with(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(crate::place::Jurisdiction::County(County::Tolland)),
        );
        let c = pin("C9");
        assert!(can(
            &hd,
            Target::Jurisdiction(&crate::place::Jurisdiction::County(County::Tolland)),
            Action::ReportCoverage
        ));
        assert!(!can(
            &hd,
            Target::Jurisdiction(&crate::place::Jurisdiction::County(County::Windham)),
            Action::ReportCoverage
        ));
        assert!(!can(
            &hd,
            Target::Clinic {
                pin: &c,
                at: crate::place::Location::in_county(County::Windham)
            },
            Action::PatientView
        ));
        let in_county = PatientScope {
            at: crate::place::Location::in_county(County::Tolland),
            clinics: &[],
            confidential: false,
            rostered: &[],
        };
        let elsewhere = PatientScope {
            at: crate::place::Location::in_county(County::Windham),
            clinics: &[],
            confidential: false,
            rostered: &[],
        };
        assert!(can_on_patient(&hd, None, in_county, Action::PatientView));
        assert!(!can_on_patient(&hd, None, elsewhere, Action::PatientView));
        assert!(!can_on_patient(&hd, None, in_county, Action::PatientEdit));
    }

    /// A health district's user sees the residents of its member towns and the clinics
    /// there, not its county's other towns.
    #[test]
    fn health_district_is_scoped_to_its_towns() {
        let places = crate::place::Places::bundled();
        let ehhd = places
            .jurisdiction("Eastern Highlands Health District")
            .unwrap();
        let hd = user_with(
            Role::HealthDepartmentReadOnly,
            Scope::Jurisdiction(ehhd.clone()),
        );
        let mansfield = places.location(places.town("Storrs").unwrap());
        let vernon = places.location(places.town("Vernon").unwrap());
        assert_eq!(mansfield.county, vernon.county, "both in Tolland County");
        let resident = |at| PatientScope {
            at,
            clinics: &[],
            confidential: false,
            rostered: &[],
        };
        assert!(can_on_patient(
            &hd,
            None,
            resident(mansfield),
            Action::PatientView
        ));
        assert!(!can_on_patient(
            &hd,
            None,
            resident(vernon),
            Action::PatientView
        ));
        let c = pin("C9");
        assert!(can(
            &hd,
            Target::Clinic {
                pin: &c,
                at: mansfield
            },
            Action::ReportCoverage
        ));
        assert!(!can(
            &hd,
            Target::Clinic {
                pin: &c,
                at: vernon
            },
            Action::ReportCoverage
        ));
        assert!(can(
            &hd,
            Target::Jurisdiction(&ehhd),
            Action::ReportCoverage
        ));
        let tolland = crate::place::Jurisdiction::County(County::Tolland);
        assert!(!can(
            &hd,
            Target::Jurisdiction(&tolland),
            Action::ReportCoverage
        ));
    }

    /// An IAP coordinator works its area's referrals and residents' records, reads and
    /// changes nothing else; the grant must name an IAP area.
    #[test]
    fn iap_coordinators_work_their_area_only() {
        use Action::*;
        let places = crate::place::Places::bundled();
        let area = places.jurisdiction("Ledge Light IAP").unwrap();
        assert_eq!(area, Jurisdiction::IapArea("Ledge Light IAP".into()));
        let u = user_with(Role::IapCoordinator, Scope::Jurisdiction(area.clone()));
        let expected = [
            PatientSearch,
            PatientView,
            CertificatePrint,
            ReportCoverage,
            ReportReminderRecall,
            RecallNoticeRecord,
            TaskView,
            ReferralWork,
        ];
        for &a in Action::ALL {
            assert_eq!(
                can(&u, Target::Jurisdiction(&area), a),
                expected.contains(&a),
                "{a:?}"
            );
        }
        let norwich = places.location(places.town("Norwich").unwrap());
        let hartford = places.location(places.town("Hartford").unwrap());
        let resident = |at| PatientScope {
            at,
            clinics: &[],
            confidential: false,
            rostered: &[],
        };
        assert!(can_on_patient(&u, None, resident(norwich), ReferralWork));
        assert!(!can_on_patient(&u, None, resident(hartford), ReferralWork));
        assert!(!can_on_patient(&u, None, resident(norwich), PatientEdit));
        let county = Scope::Jurisdiction(Jurisdiction::County(County::NewLondon));
        assert!(Grant::new(Role::IapCoordinator, county).is_err());
        assert!(Grant::new(Role::HealthDepartmentReadOnly, Scope::Jurisdiction(area)).is_err());
    }

    /// A school nurse opens only her own school's rostered students; a clinic user at the
    /// same clinic is not limited by the roster.
    #[test]
    fn school_nurses_see_only_their_rostered_students() {
        let school = pin("C1");
        let nurse = clinic_user(Role::SchoolNurseReadOnly);
        let here = Some(at_c1(&school));
        let on_roster = [school.clone()];
        let elsewhere = [pin("C2")];
        let scope = |rostered| PatientScope {
            at: crate::place::Location::in_county(HERE),
            clinics: &[],
            confidential: false,
            rostered,
        };
        assert!(can_on_patient(
            &nurse,
            here,
            scope(&on_roster),
            Action::PatientView
        ));
        assert!(can_on_patient(
            &nurse,
            here,
            scope(&on_roster),
            Action::CertificatePrint
        ));
        assert!(!can_on_patient(
            &nurse,
            here,
            scope(&[]),
            Action::PatientView
        ));
        assert!(!can_on_patient(
            &nurse,
            here,
            scope(&elsewhere),
            Action::PatientView
        ));
        assert!(!Role::SchoolNurseReadOnly.allows(Action::PatientSearch));
        let clerk = clinic_user(Role::ClinicAccess);
        assert!(can_on_patient(
            &clerk,
            here,
            scope(&[]),
            Action::PatientView
        ));
        assert_eq!(
            Role::ALL.iter().filter(|r| r.sees_only_rostered()).count(),
            1
        );
    }

    #[test]
    fn confidential_records_only_for_reporting_clinics_and_state() {
        let c1 = pin("C1");
        let u = clinic_user(Role::ClinicAccess);
        let others = [pin("C7")];
        let mine = [c1.clone()];
        let conf_other = PatientScope {
            at: crate::place::Location::in_county(HERE),
            clinics: &others,
            confidential: true,
            rostered: &[],
        };
        let conf_mine = PatientScope {
            at: crate::place::Location::in_county(HERE),
            clinics: &mine,
            confidential: true,
            rostered: &[],
        };
        assert!(!can_on_patient(
            &u,
            Some(at_c1(&c1)),
            conf_other,
            Action::PatientView
        ));
        assert!(can_on_patient(
            &u,
            Some(at_c1(&c1)),
            conf_mine,
            Action::PatientView
        ));
        let st = user_with(Role::StateAdmin, Scope::State);
        assert!(can_on_patient(&st, None, conf_other, Action::PatientView));
        // Acting for no clinic, a clinic user sees nothing.
        assert!(!can_on_patient(&u, None, conf_mine, Action::PatientView));
    }

    #[test]
    fn multi_clinic_users_have_a_role_per_clinic() {
        let mut u = clinic_user(Role::ClinicAccess);
        u.grant(Grant::new(Role::PrimaryVaccineCoordinator, Scope::Clinic(pin("C2"))).unwrap());
        let (c1, c2) = (pin("C1"), pin("C2"));
        assert!(!can(&u, at_c1(&c1), Action::OrderCreate));
        assert!(can(
            &u,
            Target::Clinic {
                pin: &c2,
                at: crate::place::Location::in_county(HERE)
            },
            Action::OrderCreate
        ));
        assert_eq!(u.clinics().len(), 2);
        u.grant(Grant::new(Role::PatientLookUpOnly, Scope::Clinic(pin("C2"))).unwrap());
        assert_eq!(u.role_at(&c2), Some(Role::PatientLookUpOnly));
    }

    #[test]
    fn locked_users_can_do_nothing_and_scopes_must_fit() {
        let mut u = user_with(Role::StateAdmin, Scope::State);
        u.status = AccountStatus::Locked;
        assert!(!can(&u, Target::State, Action::PatientView));
        assert!(Grant::new(Role::HealthDepartmentReadOnly, Scope::Clinic(pin("C1"))).is_err());
        assert!(Grant::new(Role::ClinicAccess, Scope::State).is_err());
        let e = Role::parse("janitor").unwrap_err().to_string();
        assert!(e.contains("clinic-access"), "{e}");
        for r in Role::ALL {
            assert_eq!(Role::parse(r.key()).unwrap(), r);
        }
    }

    #[test]
    fn modules_follow_actions() {
        assert_eq!(
            Role::ClinicAccessDqaInterface.modules(),
            vec![Module::Reports, Module::Tasks]
        );
        assert_eq!(Role::PhysicianSigning.modules(), vec![Module::ClinicTools]);
        assert!(Role::StateAdmin.modules().contains(&Module::Administration));
    }
}
