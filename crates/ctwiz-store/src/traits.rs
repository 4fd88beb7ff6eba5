//! The storage interfaces. Frontends and use cases depend on these, not on SQLite.

use crate::error::Result;
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::access::{AccountStatus, Grant, User};
use ctwiz_core::dose::{Dose, Observation};
use ctwiz_core::dose_stock::ExceptionKind;
use ctwiz_core::ids::{ClinicPin, Cvx, DoseId, LotNumber, PatientId, UserId, Username};
use ctwiz_core::inventory::{Lot, Movement};
use ctwiz_core::ordering::{OrderStatus, VaccineOrder};
use ctwiz_core::org::{Clinic, County};
use ctwiz_core::patient::{Patient, PatientStatus, PersonName, Sex};
use serde::{Deserialize, Serialize};

/// Search criteria for the patient look-up screen; empty fields are ignored.
#[derive(Debug, Clone, Default)]
pub struct PatientQuery {
    pub family: Option<String>,
    pub given: Option<String>,
    pub dob: Option<NaiveDate>,
    pub mrn: Option<String>,
    pub id: Option<PatientId>,
    /// Restrict to residents of these counties (health-department scoping).
    pub counties: Option<Vec<County>>,
    /// Restrict to residents of these towns (a health district's scoping).
    pub towns: Option<Vec<String>>,
    /// Also match names that sound alike (Soundex), ranked after exact prefixes.
    pub phonetic: bool,
    pub limit: u32,
    pub offset: u32,
}

/// One row of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub id: PatientId,
    pub name: PersonName,
    pub dob: NaiveDate,
    pub sex: Sex,
    pub county: Option<County>,
    pub status: PatientStatus,
    pub confidential: bool,
    pub opted_out: bool,
}

/// A page of search results with the total count for pagination.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub rows: Vec<PatientSummary>,
    pub total: u64,
}

/// A dose as stored, with its id and whether it was deleted (kept for audit).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDose {
    pub dose: Dose,
    pub recorded_at: NaiveDateTime,
}

/// A patient with their live doses and observations: everything the forecast engine reads.
pub type PatientRecord = (Patient, Vec<Dose>, Vec<Observation>);

/// The cap on records one blocking pass of [`PatientStore::match_candidates`] returns.
pub const MATCH_CANDIDATES_PER_PASS: u32 = 50;

/// Patients live in towns: every patient store knows the towns table.
pub trait PatientStore: PlaceStore {
    fn create_patient(&self, p: &Patient) -> Result<PatientId>;
    /// Replaces the stored demographics of `p.id`.
    fn update_patient(&self, p: &Patient) -> Result<()>;
    /// The record as stored. A merged record is still returned (a tombstone, see
    /// [`PatientStore::merged_into`]) so history stays readable.
    fn patient(&self, id: PatientId) -> Result<Option<Patient>>;
    /// The live record a merged record was merged into; `None` for live or unknown ids.
    fn merged_into(&self, id: PatientId) -> Result<Option<PatientId>>;
    fn find_by_mrn(&self, clinic: &ClinicPin, mrn: &str) -> Result<Option<PatientId>>;
    /// The live records worth scoring against `probe` (identity matching), in two passes
    /// of at most [`MATCH_CANDIDATES_PER_PASS`] records each, so the cost per lookup is
    /// bounded whatever the registry holds: the same birth date with the family or
    /// given name sounding alike; both names sounding alike with the birth date one
    /// keying slip away (`ctwiz_core::matching::dob_variants`).
    fn match_candidates(&self, probe: &Patient) -> Result<Vec<Patient>>;
    /// Live records only; an id query for a merged record finds its survivor.
    fn search_patients(&self, q: &PatientQuery) -> Result<SearchPage>;
    /// Live (not merged) records.
    fn patient_count(&self) -> Result<u64>;
    /// Clinics that have reported doses for, or hold an MRN of, the patient.
    fn patient_clinics(&self, id: PatientId) -> Result<Vec<ClinicPin>>;
    /// Schools whose student roster lists the patient.
    fn patient_rosters(&self, id: PatientId) -> Result<Vec<ClinicPin>>;
    /// Creates a patient with its doses in one transaction; nothing is stored on error.
    fn create_patient_with_doses(&self, p: &Patient, doses: &[Dose]) -> Result<PatientId> {
        self.create_patient_with_dose_ids(p, doses)
            .map(|(id, _)| id)
    }
    /// [`create_patient_with_doses`](Self::create_patient_with_doses), also returning the
    /// doses' ids in `doses` order.
    fn create_patient_with_dose_ids(
        &self,
        p: &Patient,
        doses: &[Dose],
    ) -> Result<(PatientId, Vec<DoseId>)>;
    /// Creates many patients with their doses in one transaction (bulk loads); all or nothing.
    fn create_patients_with_doses(&self, batch: &[(Patient, Vec<Dose>)]) -> Result<Vec<PatientId>>;
    /// Streams every patient with their live doses to `f`, for exports and checks.
    fn for_each_patient(&self, f: &mut dyn FnMut(Patient, Vec<Dose>) -> Result<()>) -> Result<()>;
    /// Streams patients born in `born` (inclusive; all when `None`) with their live doses
    /// and observations (immunity, contraindications: the engine's whole input),
    /// `chunk` at a time, so reports can process a cohort of any size in flat memory and
    /// work on each chunk in parallel.
    fn for_each_chunk(
        &self,
        born: Option<(NaiveDate, NaiveDate)>,
        chunk: usize,
        f: &mut dyn FnMut(Vec<PatientRecord>) -> Result<()>,
    ) -> Result<()>;
}

pub trait DoseStore {
    fn add_dose(&self, patient: PatientId, d: &Dose) -> Result<DoseId>;
    /// Adds `doses` of `patient` in order; their ids, in the same order.
    fn add_doses(&self, patient: PatientId, doses: &[Dose]) -> Result<Vec<DoseId>> {
        doses.iter().map(|d| self.add_dose(patient, d)).collect()
    }
    fn update_dose(&self, d: &Dose) -> Result<()>;
    /// Live (not deleted) doses in date order.
    fn doses(&self, patient: PatientId) -> Result<Vec<Dose>>;
    /// Marks a dose deleted with the reason; the row stays for audit.
    fn delete_dose(&self, id: DoseId, reason: &str) -> Result<()>;
    fn add_observation(&self, patient: PatientId, o: &Observation) -> Result<()>;
    fn observations(&self, patient: PatientId) -> Result<Vec<Observation>>;
}

pub trait OrgStore {
    fn add_clinic(&self, c: &Clinic) -> Result<()>;
    fn update_clinic(&self, c: &Clinic) -> Result<()>;
    fn clinic(&self, pin: &ClinicPin) -> Result<Option<Clinic>>;
    fn clinics(&self) -> Result<Vec<Clinic>>;
}

/// A user with the sign-in state kept beside the domain user.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: User,
    /// argon2 PHC string.
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_sign_ins: u32,
    pub last_sign_in: Option<NaiveDateTime>,
    /// Set when too many failed sign-ins locked the account: refused until then (see
    /// `accounts::sign_in`). A lock that has passed is cleared at the next attempt.
    pub locked_until: Option<NaiveDateTime>,
}

/// Accounts and their sign-in state. Every implementation also keeps the audit log, so the
/// account use cases (`accounts`) can record security events through a `&dyn UserStore`.
pub trait UserStore: AuditStore {
    fn create_user(
        &self,
        u: &User,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<UserId>;
    fn account(&self, username: &Username) -> Result<Option<Account>>;
    fn account_by_id(&self, id: UserId) -> Result<Option<Account>>;
    fn users(&self) -> Result<Vec<User>>;
    fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()>;
    fn set_grants(&self, id: UserId, grants: &[Grant]) -> Result<()>;
    fn set_status(&self, id: UserId, status: AccountStatus) -> Result<()>;
    /// Changes the user's name and e-mail address (the help desk's correction).
    fn set_identity(
        &self,
        id: UserId,
        full_name: &str,
        email: &ctwiz_core::ids::Email,
    ) -> Result<()>;
    /// Counts a failed sign-in and returns the new count.
    fn record_failed_sign_in(&self, id: UserId) -> Result<u32>;
    /// Locks sign-in until `until`; `None` lifts the lock and clears the failure count.
    fn set_locked_until(&self, id: UserId, until: Option<NaiveDateTime>) -> Result<()>;
    /// A successful sign-in: clears the failure count and any lock.
    fn record_sign_in(&self, id: UserId, at: NaiveDateTime) -> Result<()>;
}

/// A lot with its current quantity (the sum of its transactions).
#[derive(Debug, Clone, PartialEq)]
pub struct LotStock {
    pub lot: Lot,
    pub on_hand: i64,
}

pub trait InventoryStore {
    fn add_lot(&self, lot: &Lot) -> Result<i64>;
    fn lot(&self, id: i64) -> Result<Option<LotStock>>;
    fn lots(&self, clinic: &ClinicPin) -> Result<Vec<LotStock>>;
    /// Checks the movement against the lot's current stock (core's rules) and records it,
    /// atomically. Returns the new quantity.
    fn record_movement(
        &self,
        lot_id: i64,
        m: &Movement,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64>;
    fn movements(&self, lot_id: i64) -> Result<Vec<(NaiveDateTime, String, Movement)>>;
    /// The clinic's lot with this number (the one with stock, if public and private share it).
    fn find_lot(&self, clinic: &ClinicPin, lot_number: &LotNumber) -> Result<Option<LotStock>>;
    /// Receives doses: into the clinic's lot with this number and funding if it is already
    /// held (its vaccine and expiration must agree), else into a new lot, atomically.
    /// Returns the lot id and the new quantity.
    fn receive_into_lot(
        &self,
        lot: &Lot,
        doses: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<(i64, i64)>;
    /// Records an administered dose and takes one dose from the lot, atomically.
    fn administer_from_lot(
        &self,
        patient: PatientId,
        dose: &Dose,
        lot_id: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<DoseId>;
    /// Moves doses to another clinic: out of this lot, into the same lot number there
    /// (created if needed), atomically. Returns the destination lot id.
    fn transfer(
        &self,
        lot_id: i64,
        to: &ClinicPin,
        doses: i64,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64>;
    /// Doses of `cvx` administered from the clinic's `funding` stock since `since`.
    fn doses_used(
        &self,
        clinic: &ClinicPin,
        cvx: &Cvx,
        funding: ctwiz_core::inventory::StockFunding,
        since: NaiveDate,
    ) -> Result<i64>;
    fn create_order(&self, o: &VaccineOrder) -> Result<i64>;
    fn order(&self, id: i64) -> Result<Option<VaccineOrder>>;
    /// Orders, newest first, optionally for one clinic and/or in one status.
    fn orders(
        &self,
        clinic: Option<&ClinicPin>,
        status: Option<OrderStatus>,
    ) -> Result<Vec<VaccineOrder>>;
    /// Saves a decision (status, approved quantities, note).
    fn save_order(&self, o: &VaccineOrder) -> Result<()>;
    /// Receives an approved order's shipment: adds the lots' doses and marks it received.
    fn receive_order(
        &self,
        order_id: i64,
        lots: &[(Lot, i64)],
        by: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<i64>>;
    /// Stock movement totals per clinic, vaccine, funding, kind and wastage reason.
    fn inventory_report(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<InventoryReportRow>>;
    /// Every clinic's lots numbered `lot_number` (one index seek: the import asks this
    /// for each dose it records).
    fn lots_numbered(&self, lot_number: &LotNumber) -> Result<Vec<LotStock>>;
    /// Whether the clinic holds, or has ever held, a lot in ctwiz (lots are never
    /// deleted; one index seek: the import asks this for each dose from stock).
    fn holds_any_lot(&self, clinic: &ClinicPin) -> Result<bool>;
    /// Checks a movement for dose record `dose` against the lot (core's `apply`, expiry
    /// judged on `on`, the dose's date) and records it linked to the record, atomically.
    /// Returns the new quantity.
    fn record_dose_movement(
        &self,
        lot_id: i64,
        dose: DoseId,
        m: &Movement,
        on: NaiveDate,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<i64>;
    /// Net doses drawn for dose record `dose`, per lot (draws less give-backs), lots
    /// with nothing left out.
    fn dose_draws(&self, dose: DoseId) -> Result<Vec<(i64, i64)>>;
    /// The draws of dose record `from` now belong to `to` (a merge keeps one record of a
    /// dose event).
    fn move_dose_draws(&self, from: DoseId, to: DoseId) -> Result<()>;
    /// Records an inventory exception. Returns its id.
    fn raise_exception(&self, e: &NewException) -> Result<i64>;
    /// Exceptions, newest first, of one clinic or all, open ones only or all.
    fn exceptions(
        &self,
        clinic: Option<&ClinicPin>,
        open_only: bool,
    ) -> Result<Vec<InventoryException>>;
    fn exception(&self, id: i64) -> Result<Option<InventoryException>>;
    /// Closes open exception `id`; refused when it is already closed.
    fn resolve_exception(
        &self,
        id: i64,
        how: &ExceptionResolution,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()>;
    /// Open exceptions of dose record `dose`.
    fn open_exceptions_of_dose(&self, dose: DoseId) -> Result<Vec<i64>>;
    /// Exceptions raised from `from` to `to` through `interfaces`, counted per reporting
    /// clinic and kind.
    fn exception_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        interfaces: &[Interface],
    ) -> Result<Vec<(ClinicPin, ExceptionKind, i64)>>;
    /// What the lot usage report needs for the lots of `clinic` (all clinics if `None`):
    /// the lots with their quantity, their movements and the dose records that drew from
    /// them or name them.
    fn lot_usage_data(&self, clinic: Option<&ClinicPin>) -> Result<LotUsageData>;
}

/// An administered dose from the clinic that did not draw from its stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewException {
    pub dose: DoseId,
    pub clinic: ClinicPin,
    pub kind: ExceptionKind,
    pub cvx: Cvx,
    pub lot_number: LotNumber,
    pub by: String,
    pub interface: Interface,
    pub at: NaiveDateTime,
}

/// How an exception was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionResolution {
    /// The dose was drawn from this lot of the clinic.
    Linked { lot_id: i64 },
    /// The dose was not from the clinic's stock, and why.
    NotFromStock { why: String },
    /// The dose record was deleted or corrected; the change settled its stock.
    DoseChanged { note: String },
}

impl ExceptionResolution {
    pub fn key(&self) -> &'static str {
        match self {
            ExceptionResolution::Linked { .. } => "linked",
            ExceptionResolution::NotFromStock { .. } => "not-from-stock",
            ExceptionResolution::DoseChanged { .. } => "dose-changed",
        }
    }
}

/// A stored inventory exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryException {
    pub id: i64,
    pub dose: DoseId,
    pub patient: PatientId,
    pub dose_date: NaiveDate,
    pub clinic: ClinicPin,
    pub kind: ExceptionKind,
    pub cvx: Cvx,
    pub lot_number: LotNumber,
    pub raised_at: NaiveDateTime,
    pub raised_by: String,
    /// The door the dose came through (`Interface::key`).
    pub interface: String,
    /// `None` while open; else `ExceptionResolution::key`.
    pub resolution: Option<String>,
    pub resolved_lot: Option<i64>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
}

/// [`InventoryStore::lot_usage_data`]'s answer.
#[derive(Debug, Clone, Default)]
pub struct LotUsageData {
    /// (lot id, lot, quantity on hand).
    pub lots: Vec<(i64, Lot, i64)>,
    pub movements: Vec<ctwiz_core::lot_usage::LotMovement>,
    pub records: Vec<ctwiz_core::lot_usage::DoseRecord>,
}

/// One aggregate row of the inventory report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryReportRow {
    pub clinic: ClinicPin,
    pub county: County,
    pub cvx: Cvx,
    pub funding: String,
    pub kind: String,
    /// Wastage/return reason, for those kinds.
    pub reason: Option<String>,
    /// Signed sum of the movements; `None` when a movement of the group is out of the
    /// range ctwiz accepts (stored before movements were bounded): see `damaged_lots`.
    pub doses: Option<i64>,
    pub transactions: i64,
    /// Lot numbers whose out-of-range movements left `doses` unknown.
    pub damaged_lots: Vec<String>,
}

impl InventoryReportRow {
    /// The doses cell of a table or CSV: the sum, or which lots make it unknown.
    pub fn doses_text(&self) -> String {
        match self.doses {
            Some(d) => d.to_string(),
            None => format!(
                "error: lot {} holds a movement out of range",
                self.damaged_lots.join(", ")
            ),
        }
    }
}

/// Groups several store writes into one all-or-nothing unit: a change and its audit row,
/// or every lot of a reconciliation. Nested calls join the outer unit.
pub trait Atomic {
    fn atomically<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T>
    where
        Self: Sized;
}

/// Which door a read or change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interface {
    Web,
    Cli,
    Hl7,
    Soap,
    Batch,
    Portal,
    Mllp,
}

impl Interface {
    pub const ALL: [Interface; 7] = [
        Interface::Web,
        Interface::Cli,
        Interface::Hl7,
        Interface::Soap,
        Interface::Batch,
        Interface::Portal,
        Interface::Mllp,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Interface::Web => "web",
            Interface::Cli => "cli",
            Interface::Hl7 => "hl7",
            Interface::Soap => "soap",
            Interface::Batch => "batch",
            Interface::Portal => "portal",
            Interface::Mllp => "mllp",
        }
    }

    /// The audit interface of a door.
    pub fn of(channel: ctwiz_core::actor::Channel) -> Interface {
        use ctwiz_core::actor::Channel;
        match channel {
            Channel::Web => Interface::Web,
            Channel::Soap => Interface::Soap,
            Channel::Mllp => Interface::Mllp,
            Channel::Cli => Interface::Cli,
            Channel::Batch => Interface::Batch,
            Channel::Portal => Interface::Portal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    Read,
    Create,
    Update,
    Delete,
    Merge,
    /// A merge undone: both records live again.
    Unmerge,
    Print,
    /// Security events (no patient): sign-ins, failures, lockouts, unlocks, grant
    /// changes, password resets, refusals by the permission matrix.
    SignIn,
    SignInFailed,
    Lockout,
    Unlock,
    GrantChange,
    PasswordReset,
    Denied,
}

impl AuditAction {
    pub const ALL: [AuditAction; 14] = [
        AuditAction::Read,
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Merge,
        AuditAction::Unmerge,
        AuditAction::Print,
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::Lockout,
        AuditAction::Unlock,
        AuditAction::GrantChange,
        AuditAction::PasswordReset,
        AuditAction::Denied,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AuditAction::Read => "read",
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Merge => "merge",
            AuditAction::Unmerge => "unmerge",
            AuditAction::Print => "print",
            AuditAction::SignIn => "sign-in",
            AuditAction::SignInFailed => "sign-in-failed",
            AuditAction::Lockout => "lockout",
            AuditAction::Unlock => "unlock",
            AuditAction::GrantChange => "grant-change",
            AuditAction::PasswordReset => "password-reset",
            AuditAction::Denied => "denied",
        }
    }

    /// Whether the action disclosed or changed PHI (accounting of disclosures).
    pub fn touches_phi(self) -> bool {
        matches!(
            self,
            AuditAction::Read
                | AuditAction::Create
                | AuditAction::Update
                | AuditAction::Delete
                | AuditAction::Merge
                | AuditAction::Unmerge
                | AuditAction::Print
        )
    }
}

/// Which audit rows to read back; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub patient: Option<PatientId>,
    /// The username in the actor label (`door:user[@clinic]`), exactly.
    pub user: Option<String>,
    /// The whole actor label (`door:user[@clinic]`), exactly (indexed).
    pub actor: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// At most this many rows, newest first (0: a default of 1,000).
    pub limit: u32,
}

/// Who did what to which patient record, when, and through which interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: NaiveDateTime,
    pub actor: String,
    pub patient: Option<PatientId>,
    pub action: AuditAction,
    pub interface: Interface,
    /// The clinic the actor acted for, when they acted for one.
    pub clinic: Option<ClinicPin>,
    pub detail: String,
}

/// A reminder/recall notice that was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallNotice {
    pub patient: PatientId,
    pub sent_on: NaiveDate,
    /// letter, phone, text or email.
    pub method: String,
    pub vaccine_groups: Vec<String>,
    pub sent_by: String,
    /// Who ran it: a clinic PIN, a county, or "state" for centralized runs.
    pub scope: String,
}

pub trait RecallStore {
    /// Records notices in one transaction.
    fn record_recall_notices(&self, notices: &[RecallNotice]) -> Result<()>;
    /// The most recent notice date per patient among `patients`.
    fn last_recall_notice(&self, patient: PatientId) -> Result<Option<NaiveDate>>;
    /// When notices were last recorded by `scope` (a clinic PIN, a county, or "state").
    fn last_recall_run(&self, scope: &str) -> Result<Option<NaiveDate>>;
}

pub trait AuditStore {
    fn audit(&self, e: &AuditEntry) -> Result<()>;
    fn audit_for_patient(&self, id: PatientId, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Audit rows matching `f`, newest first.
    fn audit_query(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// The towns table (`ctwiz_core::place`) and the town each patient is placed in.
pub trait PlaceStore {
    /// The current table (cached; a table another process imported is picked up).
    fn places(&self) -> Result<std::sync::Arc<ctwiz_core::place::Places>>;
    /// Replaces the table and places every patient again, in one transaction; returns
    /// how many patients changed town.
    fn replace_places(
        &self,
        p: &ctwiz_core::place::Places,
        source: &str,
        at: chrono::NaiveDateTime,
    ) -> Result<u64>;
    /// Where the current table came from, and when it was loaded.
    fn places_source(&self) -> Result<(String, String)>;
    /// Patients (not merged away) per town; `None` for addresses that did not resolve.
    fn patients_by_town(&self) -> Result<Vec<(Option<String>, u64)>>;
}

/// Everything a frontend needs.
pub trait Store:
    PatientStore
    + DoseStore
    + OrgStore
    + UserStore
    + InventoryStore
    + AuditStore
    + RecallStore
    + PlaceStore
    + crate::dedup::DedupStore
{
}
impl<T> Store for T where
    T: PatientStore
        + DoseStore
        + OrgStore
        + UserStore
        + InventoryStore
        + AuditStore
        + RecallStore
        + PlaceStore
        + crate::dedup::DedupStore
{
}
