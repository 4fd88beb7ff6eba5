//! Patients: demographics, contacts, identifiers and the flags that govern who sees them.

use crate::error::{CoreError, Result};
use crate::ids::{name_text, ClinicPin, Email, PatientId, Phone, Zip};
use crate::org::County;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The earliest birth date ctwiz accepts; older dates are data-entry errors.
pub const EARLIEST_DOB: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => unreachable!(),
};

/// Administrative sex as exchanged in HL7 PID-8 (table 0001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
            Sex::Unknown => "U",
        }
    }
    pub fn from_code(s: &str) -> Result<Sex> {
        match s.trim().to_ascii_uppercase().as_str() {
            "F" | "FEMALE" => Ok(Sex::Female),
            "M" | "MALE" => Ok(Sex::Male),
            "U" | "UNKNOWN" | "O" | "X" => Ok(Sex::Unknown),
            _ => Err(CoreError::Unknown {
                field: "sex",
                value: s.into(),
                valid: "F, M, U".into(),
            }),
        }
    }
}

/// A person's legal name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    pub family: String,
    pub given: String,
    pub middle: Option<String>,
    pub suffix: Option<String>,
}

impl PersonName {
    pub fn new(family: &str, given: &str) -> Result<Self> {
        Ok(PersonName {
            family: name_text("family name", family, 60)?,
            given: name_text("given name", given, 60)?,
            middle: None,
            suffix: None,
        })
    }

    pub fn with_middle(mut self, middle: &str) -> Result<Self> {
        self.middle = Some(name_text("middle name", middle, 60)?);
        Ok(self)
    }

    /// "FAMILY, Given M" as shown in lists.
    pub fn display(&self) -> String {
        match &self.middle {
            Some(m) => format!("{}, {} {}", self.family.to_uppercase(), self.given, m),
            None => format!("{}, {}", self.family.to_uppercase(), self.given),
        }
    }
}

/// A mailing or residential address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    pub zip: Zip,
    /// Connecticut county, which decides health-department jurisdiction.
    pub county: Option<County>,
    /// HL7 address type as the sender gave it (XAD-7, table 0190: L legal, M mailing,
    /// H home, P permanent, BR birth residence ...); `None` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Address {
    pub fn new(street: &str, city: &str, state: &str, zip: Zip) -> Result<Self> {
        let state = state.trim().to_ascii_uppercase();
        if state.len() != 2 || !state.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(CoreError::invalid(
                "state",
                state,
                "expected a two-letter code",
            ));
        }
        Ok(Address {
            street: name_text("street", street, 120)?,
            city: name_text("city", city, 60)?,
            state,
            zip,
            county: None,
            kind: None,
        })
    }
}

/// Relationship of a responsible party to the patient (HL7 table 0063 subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Relationship {
    Mother,
    Father,
    Guardian,
    Grandparent,
    Parent,
    FosterParent,
    Self_,
    Other,
}

impl Relationship {
    /// HL7 0063 code.
    pub fn code(self) -> &'static str {
        match self {
            Relationship::Mother => "MTH",
            Relationship::Father => "FTH",
            Relationship::Guardian => "GRD",
            Relationship::Grandparent => "GRP",
            Relationship::Parent => "PAR",
            Relationship::FosterParent => "FCH",
            Relationship::Self_ => "SEL",
            Relationship::Other => "OTH",
        }
    }
    pub fn from_code(s: &str) -> Relationship {
        match s.trim().to_ascii_uppercase().as_str() {
            "MTH" => Relationship::Mother,
            "FTH" => Relationship::Father,
            "GRD" => Relationship::Guardian,
            "GRP" => Relationship::Grandparent,
            "PAR" => Relationship::Parent,
            "FCH" => Relationship::FosterParent,
            "SEL" => Relationship::Self_,
            _ => Relationship::Other,
        }
    }
}

/// A guardian or other responsible party (HL7 NK1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardian {
    pub name: PersonName,
    pub relationship: Relationship,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    /// Where the responsible party lives (HL7 NK1-4), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A clinic's own medical record number for the patient (HL7 PID-3 with type MR).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mrn {
    pub clinic: ClinicPin,
    pub value: String,
    /// The assigning authority the clinic's system sends with it (HL7 CX-4, e.g. its EHR's
    /// namespace); answers echo it so the sender recognizes its own identifier. `None`
    /// when it was not given (answers then name the clinic's PIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

impl Mrn {
    pub fn new(clinic: ClinicPin, value: &str) -> Result<Self> {
        Ok(Mrn {
            clinic,
            value: name_text("medical record number", value, 40)?,
            authority: None,
        })
    }
}

/// CDC race categories (CDCREC, HL7 PID-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Race {
    AmericanIndianOrAlaskaNative,
    Asian,
    BlackOrAfricanAmerican,
    NativeHawaiianOrPacificIslander,
    White,
    Other,
    Unknown,
}

impl Race {
    pub const ALL: [Race; 7] = [
        Race::AmericanIndianOrAlaskaNative,
        Race::Asian,
        Race::BlackOrAfricanAmerican,
        Race::NativeHawaiianOrPacificIslander,
        Race::White,
        Race::Other,
        Race::Unknown,
    ];
    /// CDCREC code.
    pub fn code(self) -> &'static str {
        match self {
            Race::AmericanIndianOrAlaskaNative => "1002-5",
            Race::Asian => "2028-9",
            Race::BlackOrAfricanAmerican => "2054-5",
            Race::NativeHawaiianOrPacificIslander => "2076-8",
            Race::White => "2106-3",
            Race::Other => "2131-1",
            Race::Unknown => "UNK",
        }
    }
    pub fn from_code(s: &str) -> Result<Race> {
        Race::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| CoreError::Unknown {
                field: "race",
                value: s.into(),
                valid: Race::ALL.map(|r| r.code()).join(", "),
            })
    }
}

/// CDC ethnicity (CDCREC, HL7 PID-22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ethnicity {
    HispanicOrLatino,
    NotHispanicOrLatino,
    Unknown,
}

impl Ethnicity {
    pub fn code(self) -> &'static str {
        match self {
            Ethnicity::HispanicOrLatino => "2135-2",
            Ethnicity::NotHispanicOrLatino => "2186-5",
            Ethnicity::Unknown => "UNK",
        }
    }
    pub fn from_code(s: &str) -> Result<Ethnicity> {
        match s.trim().to_ascii_uppercase().as_str() {
            "2135-2" | "H" => Ok(Ethnicity::HispanicOrLatino),
            "2186-5" | "N" => Ok(Ethnicity::NotHispanicOrLatino),
            "UNK" | "U" => Ok(Ethnicity::Unknown),
            _ => Err(CoreError::Unknown {
                field: "ethnicity",
                value: s.into(),
                valid: "2135-2, 2186-5, UNK".into(),
            }),
        }
    }
}

/// Registry status of the patient (HL7 PD1-16, table 0441).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PatientStatus {
    /// A = active.
    Active,
    /// I = inactive, unspecified.
    Inactive,
    /// M = moved or gone elsewhere (no longer seen by this provider).
    MovedOrGoneElsewhere,
    /// L = inactive, lost to follow-up.
    LostToFollowUp,
    /// O = no longer a patient of the provider (e.g. transferred).
    OtherProvider,
    /// P = permanently inactive (deceased).
    Deceased,
}

impl PatientStatus {
    pub const ALL: [PatientStatus; 6] = [
        PatientStatus::Active,
        PatientStatus::Inactive,
        PatientStatus::MovedOrGoneElsewhere,
        PatientStatus::LostToFollowUp,
        PatientStatus::OtherProvider,
        PatientStatus::Deceased,
    ];
    /// HL7 table 0441 code.
    pub fn code(self) -> &'static str {
        match self {
            PatientStatus::Active => "A",
            PatientStatus::Inactive => "I",
            PatientStatus::MovedOrGoneElsewhere => "M",
            PatientStatus::LostToFollowUp => "L",
            PatientStatus::OtherProvider => "O",
            PatientStatus::Deceased => "P",
        }
    }
    pub fn from_code(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| CoreError::Unknown {
                field: "patient status",
                value: s.into(),
                valid: "A, I, M, L, O, P".into(),
            })
    }
    /// Whether reminder/recall and coverage cohorts should include the patient.
    pub fn is_active(self) -> bool {
        self == PatientStatus::Active
    }
}

/// Why and since when a patient (or parent) opted out of the registry.
///
/// An opted-out patient keeps only the minimum demographics needed to recognize
/// later submissions and refuse them; dose data is not kept (see [`Patient::opt_out`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub date: NaiveDate,
    pub reason: String,
}

/// Whether the family wants reminder/recall notices (HL7 PD1-11, table 0215), and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publicity {
    /// Table 0215 code, e.g. "01" no reminder/recall, "02" reminder/recall any method.
    pub code: String,
    pub since: Option<NaiveDate>,
}

impl Publicity {
    /// Whether reminder/recall letters or calls may be sent.
    pub fn allows_reminders(&self) -> bool {
        self.code != "01"
    }
}

/// Another identifier of the patient (HL7 PID-3 other than a clinic MRN), e.g. a
/// state registry id (SR), Medicaid number (MA) or birth certificate number (BC).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PatientIdentifier {
    /// HL7 table 0203 identifier type code.
    pub kind: String,
    pub value: String,
    /// Assigning authority (CX-4), when given.
    pub authority: Option<String>,
}

/// The consolidated IIS record of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// `None` until the store assigns an id.
    pub id: Option<PatientId>,
    pub name: PersonName,
    /// Mother's maiden name helps matching (HL7 PID-6).
    pub mothers_maiden_name: Option<String>,
    pub dob: NaiveDate,
    pub sex: Sex,
    pub addresses: Vec<Address>,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    pub guardians: Vec<Guardian>,
    pub mrns: Vec<Mrn>,
    pub races: Vec<Race>,
    pub ethnicity: Option<Ethnicity>,
    /// Multiple-birth order (1 for the first twin), helps deduplication (HL7 PID-25).
    pub birth_order: Option<u8>,
    /// Whether the child was one of a multiple birth, as reported (HL7 PID-24 Y/N);
    /// `None` when not said. Matching takes Y as evidence that a look-alike record of the
    /// same birth date and household may be a co-twin ([`Patient::reported_multiple_birth`]).
    #[serde(default)]
    pub multiple_birth: Option<bool>,
    pub status: PatientStatus,
    pub deceased_date: Option<NaiveDate>,
    /// Record visible only to the clinics that reported it and the state (HL7 PD1-12 = Y).
    pub confidential: bool,
    pub opt_out: Option<OptOut>,
    /// Reminder/recall preference.
    #[serde(default)]
    pub publicity: Option<Publicity>,
    /// Identifiers other than clinic MRNs.
    #[serde(default)]
    pub identifiers: Vec<PatientIdentifier>,
}

impl Patient {
    /// Whether this record carries exactly these names and birth date, the names compared
    /// as search keys (case, accents and punctuation aside; letters of every script kept):
    /// how someone without search rights (a school nurse, the public portal) names a
    /// person they already know, never a browse.
    pub fn is_exactly(&self, given: &str, family: &str, dob: NaiveDate) -> bool {
        use crate::matching::normalize_name;
        let family = normalize_name(family);
        let given = normalize_name(given);
        self.dob == dob
            && !family.is_empty()
            && !given.is_empty()
            && normalize_name(&self.name.family) == family
            && normalize_name(&self.name.given) == given
    }

    /// Whether the record says the child is one of a multiple birth: PID-24 Y, or a
    /// birth order (PID-25, which the CDC IG asks for only with PID-24 Y). `Some(false)`
    /// only for an explicit N without a birth order.
    pub fn reported_multiple_birth(&self) -> Option<bool> {
        if self.birth_order.is_some() {
            return Some(true);
        }
        self.multiple_birth
    }

    /// A new active patient with the minimum a registry needs: a name, birth date and sex.
    pub fn new(name: PersonName, dob: NaiveDate, sex: Sex) -> Result<Self> {
        if dob < EARLIEST_DOB {
            return Err(CoreError::invalid(
                "date of birth",
                dob.to_string(),
                "before 1900-01-01",
            ));
        }
        Ok(Patient {
            id: None,
            name,
            mothers_maiden_name: None,
            dob,
            sex,
            addresses: Vec::new(),
            phones: Vec::new(),
            emails: Vec::new(),
            guardians: Vec::new(),
            mrns: Vec::new(),
            races: Vec::new(),
            ethnicity: None,
            birth_order: None,
            multiple_birth: None,
            status: PatientStatus::Active,
            deceased_date: None,
            confidential: false,
            opt_out: None,
            publicity: None,
            identifiers: Vec::new(),
        })
    }

    /// Cross-field checks that need to know today's date.
    pub fn validate(&self, today: NaiveDate) -> Result<()> {
        if self.dob > today {
            return Err(CoreError::invalid(
                "date of birth",
                self.dob.to_string(),
                "is in the future",
            ));
        }
        if self.dob < EARLIEST_DOB {
            return Err(CoreError::invalid(
                "date of birth",
                self.dob.to_string(),
                "before 1900-01-01",
            ));
        }
        if let Some(d) = self.deceased_date {
            if d < self.dob || d > today {
                return Err(CoreError::invalid(
                    "deceased date",
                    d.to_string(),
                    "must be between birth and today",
                ));
            }
        }
        if self.deceased_date.is_some() != (self.status == PatientStatus::Deceased) {
            return Err(CoreError::Rule(
                "a deceased date and status P (deceased) go together".into(),
            ));
        }
        if let Some(o) = self.birth_order {
            if o == 0 || o > 9 {
                return Err(CoreError::invalid(
                    "birth order",
                    o.to_string(),
                    "expected 1 to 9",
                ));
            }
        }
        Ok(())
    }

    /// What changing this record into `after` must say in the audit log, refusing what
    /// the rules do not allow: a change of confidentiality needs a reason (it decides who
    /// may see the record), and the result must be a valid record on `today`.
    pub fn change_note(
        &self,
        after: &Patient,
        confidentiality_reason: Option<&str>,
        today: NaiveDate,
    ) -> Result<String> {
        after.validate(today)?;
        let mut note = String::from("demographics updated");
        if self.confidential != after.confidential {
            let reason = confidentiality_reason.map(str::trim).unwrap_or("");
            if reason.is_empty() {
                return Err(CoreError::Rule(
                    "give a reason for changing the confidentiality of the record".into(),
                ));
            }
            let reason = name_text("confidentiality reason", reason, 200)?;
            note.push_str(&format!(
                "; confidential={} on {today} because {reason}",
                after.confidential
            ));
        }
        if self.opt_out != after.opt_out {
            note.push_str(&match &after.opt_out {
                Some(o) => format!("; opted out on {} because {}", o.date, o.reason),
                None => "; opt-out withdrawn".into(),
            });
        }
        Ok(note)
    }

    /// Age in whole years on `on`.
    pub fn age_years(&self, on: NaiveDate) -> u32 {
        crate::age::whole_years(self.dob, on)
    }

    /// Records a death: status becomes deceased.
    pub fn mark_deceased(&mut self, date: NaiveDate) {
        self.deceased_date = Some(date);
        self.status = PatientStatus::Deceased;
    }

    /// Opts the patient out of the registry. Contact details and guardians are
    /// dropped: the registry keeps only what it needs to recognize the person.
    pub fn opt_out(&mut self, date: NaiveDate, reason: &str) -> Result<()> {
        self.opt_out = Some(OptOut {
            date,
            reason: name_text("opt-out reason", reason, 200)?,
        });
        self.addresses.clear();
        self.phones.clear();
        self.emails.clear();
        self.guardians.clear();
        Ok(())
    }

    pub fn is_opted_out(&self) -> bool {
        self.opt_out.is_some()
    }

    /// The MRN a given clinic uses for this patient, if any.
    pub fn mrn_at(&self, clinic: &ClinicPin) -> Option<&str> {
        self.mrns
            .iter()
            .find(|m| &m.clinic == clinic)
            .map(|m| m.value.as_str())
    }

    /// Health-department jurisdiction, from the first address with a county.
    pub fn county(&self) -> Option<County> {
        self.addresses.iter().find_map(|a| a.county)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ann() -> Patient {
        Patient::new(
            PersonName::new("Smith", "Ann").unwrap(),
            d(2020, 2, 29),
            Sex::Female,
        )
        .unwrap()
    }

    #[test]
    fn multiple_birth_reads_back_and_older_records_say_nothing() {
        let mut p = ann();
        assert_eq!(p.reported_multiple_birth(), None);
        p.multiple_birth = Some(false);
        assert_eq!(p.reported_multiple_birth(), Some(false));
        p.birth_order = Some(2);
        assert_eq!(p.reported_multiple_birth(), Some(true));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Patient>(&json).unwrap(), p);
        // A record stored before PID-24 was kept has no such field.
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_object_mut().unwrap().remove("multiple_birth");
        let old: Patient = serde_json::from_value(v).unwrap();
        assert_eq!(old.multiple_birth, None);
    }

    #[test]
    fn rejects_future_and_ancient_birth_dates() {
        let p = ann();
        assert!(p.validate(d(2020, 2, 28)).is_err());
        assert!(p.validate(d(2024, 1, 1)).is_ok());
        assert!(Patient::new(
            PersonName::new("A", "B").unwrap(),
            d(1899, 12, 31),
            Sex::Male
        )
        .is_err());
    }

    #[test]
    fn deceased_needs_status_and_sane_date() {
        let mut p = ann();
        p.mark_deceased(d(2021, 1, 1));
        assert!(p.validate(d(2024, 1, 1)).is_ok());
        p.status = PatientStatus::Active;
        assert!(p.validate(d(2024, 1, 1)).is_err());
        p.mark_deceased(d(2019, 1, 1));
        assert!(p.validate(d(2024, 1, 1)).is_err());
    }

    #[test]
    fn opt_out_drops_contacts() {
        let mut p = ann();
        p.phones.push(Phone::new("8605550100").unwrap());
        p.opt_out(d(2024, 5, 1), "parent request").unwrap();
        assert!(p.phones.is_empty());
        assert!(p.is_opted_out());
    }

    #[test]
    fn empty_names_are_refused() {
        assert!(PersonName::new("  ", "Ann").is_err());
        assert_eq!(
            PersonName::new("smith", "Ann").unwrap().display(),
            "SMITH, Ann"
        );
    }

    #[test]
    fn codes_round_trip() {
        for r in Race::ALL {
            assert_eq!(Race::from_code(r.code()).unwrap(), r);
        }
        for s in PatientStatus::ALL {
            assert_eq!(PatientStatus::from_code(s.code()).unwrap(), s);
        }
        assert!(Sex::from_code("Q").is_err());
    }
}
